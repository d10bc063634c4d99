#!/bin/bash
# test_testbed_dash.sh: the live testbed in the browser. `raas testbed up` (1 host, 2 tenants:
# memcached and nhttpd on h1, net 237, name tbdash) prints the dashboards' URL; from the root
# namespace, with nothing but that URL (its ?token=), Debian's chromium (playwright-core,
# dashboards/tests/test_testbed_pages.js) opens it: the market page's price chart has points,
# the tenants page shows both tenants with the profit and W their nom-priced reported, equal
# to /api/tenants; screenshots under build/. Also: `status` prints the same URL, the API
# without the token is 401 and with it 200, and `down` leaves nothing (the veth included).
# Root; skipped (77) otherwise.
set -eu
NAME=tbdash NET=237
. "$RAAS_SOURCE_DIR/tests/testbed/lib.sh"
tb_need /node /chromium /curl /jq
[ -f "${B%/bin}/dashboards/www/market.html" ] || fail "no pages in ${B%/bin}/dashboards/www (the dashboards target)"
baseline
small_profile "$T/profile.csv"
PROFILE=$T/profile.csv tb_file "$T/tb.ini" 60s
# One host, two tenants: carol (h2) and h2 go.
sed -i '/^\[host.h2\]/,/^$/d; /^\[tenant.carol\]/,$d' "$T/tb.ini"
cd "$RAAS_SOURCE_DIR"
log "raas testbed up (1 host, 2 tenants)"
"$B/raas" testbed up "$T/tb.ini" 2>"$T/up.log" || fail "up: $(tail -c 800 "$T/up.log")"
sed 's/^/  /' "$T/up.log"
url=$(sed -n "s/^raas testbed: $NAME: dashboards //p" "$T/up.log" | tail -1)
case $url in
http://10.$NET.254.2:[0-9]*/market.html\?token=[0-9a-f]*) ;;
*) fail "up printed no dashboards URL on 10.$NET.254.2: '$url'" ;;
esac
[ "$(sed -n "s/^raas testbed: $NAME: dashboards //p" "$T/up.log" | sort -u | wc -l)" = 1 ] ||
	fail "up printed two different URLs"
st=$("$B/raas" testbed status "$T/tb.ini") || fail "status: unhealthy: $st"
echo "$st" | grep -qxF "dashboards $url" || fail "status does not print $url: $st"
echo "$st" | grep -Eq "^link +tb${NAME}d +- +present" || fail "status has no dashboards link: $st"
base=${url%%/market.html*} tok=${url##*token=}
code=$(curl -s -o /dev/null -w '%{http_code}' "$base/api/tenants")
[ "$code" = 401 ] || fail "the API without the token answered $code, not 401"
curl -sf -H "Authorization: Bearer $tok" "$base/api/summary" >/dev/null || fail "the API with the token"
log "dashboards at $base (token required: 401 without it)"

NODE_PATH="$RAAS_SOURCE_DIR/dashboards/node_modules" node \
	"$RAAS_SOURCE_DIR/dashboards/tests/test_testbed_pages.js" "$url" "${B%/bin}" alice bob ||
	fail "the browser test failed"

"$B/raas" testbed down "$T/tb.ini" >/dev/null 2>&1 || fail "down failed"
left=$(leftovers)
[ -z "$left" ] || fail "after down: $left"
ip link show "tb${NAME}d" >/dev/null 2>&1 && fail "the dashboards veth tb${NAME}d is left"
log "PASS"
