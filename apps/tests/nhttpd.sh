#!/bin/bash
# nhttpd.sh: nhttpd on nomnet in network namespaces, checked with curl, raw requests and wrk.
#
# curl: GET and HEAD of files and of a directory's index.html, a 2 MiB binary byte for byte,
# 404 (missing, and a symbolic link out of the root), 405 with Allow, 400 for paths that climb
# out of the root (plain, percent-encoded), 431 for a huge header, keep-alive (curl reuses the
# connection). Raw requests over /dev/tcp: three pipelined requests answered in order, 413,
# 505, 400 for a malformed request line, 501 for chunked bodies. wrk runs 2 s without errors.
set -u
: "${RAAS_BIN:?}" "${RAAS_SOURCE_DIR:?}"
. "$RAAS_SOURCE_DIR/apps/tests/lib.sh"
netns_require_root
need_tool curl wrk

P="aht$$"
TMP=$(mktemp -d "/tmp/apps-httpd-$$.XXXXXX")
trap 'netns_cleanup; rm -rf "$TMP"' EXIT INT TERM
fail=0
check() { # WHAT GOT WANT
	if [ "$2" != "$3" ]; then
		echo "FAIL: $1: got '$2', want '$3'" >&2
		fail=1
	else
		echo "ok   $1"
	fi
}

ROOT="$TMP/www"
mkdir -p "$ROOT/sub"
echo '<h1>nhttpd</h1>' >"$ROOT/index.html"
echo 'in sub' >"$ROOT/sub/index.html"
echo 'hello' >"$ROOT/a.txt"
head -c 2097152 /dev/urandom >"$ROOT/big.bin"
echo 'secret' >"$TMP/secret.txt"
ln -s "$TMP/secret.txt" "$ROOT/leak"

app_topology "$P" 10.78.2 || exit 1
netns_spawn "$APP_NSS" "$RAAS_BIN/nhttpd" --root "$ROOT" --driver xdp --if "$APP_SIF" \
	--addr "$APP_SIP/24" --delay 5 >"$TMP/srv.out" 2>&1
netns_wait_tcp "$APP_NSC" "$APP_SIP" 8080 20 || { cat "$TMP/srv.out"; exit 1; }
U="http://$APP_SIP:8080"
c() { ip netns exec "$APP_NSC" curl -s --max-time 10 "$@"; }

check "GET /" "$(c "$U/")" "<h1>nhttpd</h1>"
check "GET /sub/" "$(c "$U/sub/")" "in sub"
check "GET /sub" "$(c "$U/sub")" "in sub"
check "GET /a.txt status" "$(c -o /dev/null -w '%{http_code}' "$U/a.txt")" 200
check "content type" "$(c -o /dev/null -w '%{content_type}' "$U/a.txt")" "text/plain; charset=utf-8"
c -o "$TMP/big.back" "$U/big.bin"
cmp -s "$ROOT/big.bin" "$TMP/big.back" && echo "ok   2 MiB file intact" ||
	{ echo "FAIL: big.bin differs" >&2; fail=1; }
head=$(c -I "$U/big.bin" | tr -d '\r')
check "HEAD status" "$(echo "$head" | head -1)" "HTTP/1.1 200 OK"
check "HEAD length" "$(echo "$head" | sed -n 's/^Content-Length: //p')" 2097152
check "HEAD no body" "$(c -X HEAD -o /dev/null -w '%{size_download}' "$U/big.bin")" 0
check "404 missing" "$(c -o /dev/null -w '%{http_code}' "$U/nope.html")" 404
check "404 link out of the root" "$(c -o /dev/null -w '%{http_code}' "$U/leak")" 404
check "no secret" "$(c "$U/leak" | grep -c secret)" 0
check "405 POST" "$(c -o /dev/null -w '%{http_code}' -X POST -d x=1 "$U/a.txt")" 405
check "405 Allow" "$(c -D - -o /dev/null -X DELETE "$U/a.txt" | tr -d '\r' | sed -n 's/^Allow: //p')" "GET, HEAD"
check "400 dot-dot" "$(c --path-as-is -o /dev/null -w '%{http_code}' "$U/../../etc/passwd")" 400
check "400 encoded dot-dot" "$(c --path-as-is -o /dev/null -w '%{http_code}' "$U/%2e%2e/%2e%2e/etc/passwd")" 400
check "431 huge header" "$(c -o /dev/null -w '%{http_code}' -H "X-Big: $(head -c 20000 /dev/zero | tr '\0' x)" "$U/")" 431
reuse=$(c -v "$U/a.txt" "$U/index.html" 2>&1 | grep -ci 're-using existing connection')
check "keep-alive reuse" "$reuse" 1

raw() { # REQUEST (printf %b escapes) -> the response bytes
	ip netns exec "$APP_NSC" timeout 5 bash -c \
		'exec 3<>/dev/tcp/'"$APP_SIP"'/8080; printf "%b" "$1" >&3; cat <&3' _ "$1"
}
H="Host: t\\r\\n"
resp=$(raw "GET /a.txt HTTP/1.1\\r\\n${H}\\r\\nHEAD /sub/ HTTP/1.1\\r\\n${H}\\r\\nGET /index.html HTTP/1.1\\r\\n${H}Connection: close\\r\\n\\r\\n" | tr -d '\r')
check "pipelined: 3 answers" "$(echo "$resp" | grep -c '^HTTP/1.1 200 OK')" 3
check "pipelined: order" "$(echo "$resp" | grep -E '^(hello|<h1>)' | tr '\n' ' ')" "hello <h1>nhttpd</h1> "
check "413" "$(raw "GET / HTTP/1.1\\r\\n${H}Content-Length: 5000000\\r\\n\\r\\n" | head -1 | tr -d '\r')" "HTTP/1.1 413 Content Too Large"
check "505" "$(raw "GET / HTTP/2.0\\r\\n${H}\\r\\n" | head -1 | tr -d '\r')" "HTTP/1.1 505 HTTP Version Not Supported"
check "400 request line" "$(raw "GET  / HTTP/1.1\\r\\n${H}\\r\\n" | head -1 | tr -d '\r')" "HTTP/1.1 400 Bad Request"
check "400 no Host" "$(raw "GET / HTTP/1.1\\r\\n\\r\\n" | head -1 | tr -d '\r')" "HTTP/1.1 400 Bad Request"
check "501 chunked" "$(raw "POST / HTTP/1.1\\r\\n${H}Transfer-Encoding: chunked\\r\\n\\r\\n0\\r\\n\\r\\n" | head -1 | tr -d '\r')" "HTTP/1.1 501 Not Implemented"
check "HTTP/1.0 closes" "$(raw "GET /a.txt HTTP/1.0\\r\\n\\r\\n" | tail -1)" "hello"

echo "== wrk"
out=$(ip netns exec "$APP_NSC" wrk -t 1 -c 8 -d 2s "$U/a.txt" 2>&1)
echo "$out" | grep -E 'Requests/sec|Non-2xx|Socket errors'
rps=$(echo "$out" | sed -n 's/^Requests\/sec: *\([0-9.]*\).*/\1/p')
if [ -z "$rps" ] || echo "$out" | grep -q -E 'Non-2xx|Socket errors'; then
	echo "FAIL: wrk: $out" >&2
	fail=1
fi
exit $fail
