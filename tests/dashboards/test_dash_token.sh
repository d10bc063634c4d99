#!/bin/sh
# test_dash_token.sh: the market's HTTP token (docs/dashboards.md, Serving) against the real
# raas-marketd with http_token_file and a pages folder: every way of presenting it (bearer
# header, ?token=, the raas_token cookie a page fetched with ?token= is answered with), each
# right and wrong, on the API, a page and the event stream; the cookie's attributes; and no
# cookie for a page fetched without ?token=. Counts the checks, so that none is skipped.
set -eu
. "$RAAS_SOURCE_DIR/tests/dashboards/lib.sh"
need /curl
tok=0123456789abcdef0123456789abcdef
printf '%s\n' "$tok" >"$T/token"
chmod 600 "$T/token"
mkdir -p "$T/www"
echo '<html>pages</html>' >"$T/www/index.html"
dash_market 200 "http_token_file = $T/token
http_pages_dir = $T/www"
n=0
# code URL [CURL ARGS...]: the status of GET URL.
code() {
	u=$1
	shift
	curl -s -o /dev/null -w '%{http_code}' --max-time 3 "$@" "$u" || true
}
want() { # WANT GOT WHAT
	[ "$1" = "$2" ] || fail "$3: HTTP $2, want $1"
	n=$((n + 1))
}
wait_for 10 "the first snapshot" sh -c "[ \"\$(curl -s -o /dev/null -w '%{http_code}' -H 'Authorization: Bearer $tok' $H/api/summary)\" = 200 ]"
want 401 "$(code "$H/api/summary")" "no token"
curl -s -D "$T/h401" -o /dev/null "$H/api/summary" || true
grep -qi '^WWW-Authenticate: Bearer' "$T/h401" || fail "401 without WWW-Authenticate: Bearer: $(cat "$T/h401")"
n=$((n + 1))
want 401 "$(code "$H/api/summary" -H "Authorization: Bearer ${tok}x")" "a wrong bearer token"
want 401 "$(code "$H/api/summary" -H "Authorization: Basic $tok")" "the token as Basic"
want 200 "$(code "$H/api/summary" -H "Authorization: Bearer $tok")" "the bearer token"
want 401 "$(code "$H/api/summary?token=${tok%?}")" "a wrong ?token="
want 200 "$(code "$H/api/tenants?token=$tok")" "?token= on the API"
want 401 "$(code "$H/?token=nope")" "a page with a wrong ?token="
curl -s -D "$T/hpage" -o "$T/page" "$H/?token=$tok" || fail "the page with ?token="
grep -q pages "$T/page" || fail "the page's body: $(cat "$T/page")"
cookie=$(tr -d '\r' <"$T/hpage" | sed -n 's/^[Ss]et-[Cc]ookie: //p')
[ "$cookie" = "raas_token=$tok; Path=/; HttpOnly; SameSite=Strict" ] ||
	fail "the page with ?token= set the cookie '$cookie'"
n=$((n + 1))
want 200 "$(code "$H/api/tenants" -b "raas_token=$tok")" "the cookie on the API"
want 401 "$(code "$H/api/tenants" -b "raas_token=${tok}0")" "a wrong cookie"
want 401 "$(code "$H/api/tenants" -b "other=$tok")" "the token in another cookie"
want 200 "$(code "$H/index.html" -b "raas_token=$tok")" "the cookie on a page"
curl -s -D "$T/hpage2" -o /dev/null -b "raas_token=$tok" "$H/index.html"
! grep -qi '^set-cookie' "$T/hpage2" || fail "a page fetched without ?token= set a cookie"
n=$((n + 1))
# The event stream with the cookie: 200 and a round event within the timeout.
curl -s -N --max-time 2 -b "raas_token=$tok" -D "$T/hsse" "$H/api/events" >"$T/sse" || true
head -1 "$T/hsse" | grep -q ' 200' || fail "the event stream with the cookie: $(head -1 "$T/hsse")"
grep -q '^event: round' "$T/sse" || fail "no round event over the stream: $(head -c 300 "$T/sse")"
n=$((n + 1))
want 401 "$(code "$H/api/events")" "the event stream without the token"
[ "$n" = 16 ] || fail "$n checks, want 16"
kill -0 "$MPID" || fail "raas-marketd died"
log "PASS ($n checks)"
