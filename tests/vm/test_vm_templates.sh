#!/bin/bash
# test_vm_templates.sh: every `raas app init --template` builds, as a user would, from a fresh
# folder outside the repository against the installed runtime: minimal, http, memcached,
# pingpong each give a main.c that bids through libnom, its utility config and a README;
# `raas app build` compiles it (cmake, pkg-config nom) and makes an image with the app and
# /etc/nom/NAME.ini. The memcached and pingpong apps then run on the host beside a nom-priced
# and a market: they answer set/get and ping lines and hold their 1 Mbit/s floor. An unknown
# template is refused (exit 64), nothing made. The http one is booted and served from the
# host by test_vm_deploy. Root (the image builder reads /boot).
set -eu
. "$RAAS_SOURCE_DIR/tests/vm/lib.sh"
vm_need
need /cmake /cc
BUILD=$(dirname "$B")
cmake --install "$BUILD" --prefix "$T/prefix" >"$T/install.log" 2>&1 || fail "cmake --install"
mkdir "$T/work"
cd "$T/work"
n=0
for t in minimal http memcached pingpong; do
	"$B/raas" app init "my$t" --template $t >"$T/init-$t.log" || fail "init $t: $(cat "$T/init-$t.log")"
	for f in main.c CMakeLists.txt my$t.ini README.md; do [ -s "my$t/$f" ] || fail "$t: no $f"; done
	grep -q "nom_acquire" "my$t/main.c" || fail "$t's main.c does not bid"
	grep -q "@APP@\|@TEMPLATE@\|@SUMMARY@" my$t/* && fail "$t: a placeholder is left"
	(cd "my$t" && "$B/raas" app build --prefix "$T/prefix" >"$T/build-$t.log" 2>&1) ||
		fail "raas app build ($t): $(tail -20 "$T/build-$t.log")"
	"$B/raas" image inspect "my$t/build/image" >"$T/inspect-$t.txt" || fail "inspect $t"
	grep -q "^apps     my$t" "$T/inspect-$t.txt" || fail "$t's image has no my$t"
	grep -q "/etc/nom/my$t.ini" "my$t/build/image/manifest" || fail "$t's config is not in the image"
	log "  $t: $(tail -1 "$T/build-$t.log")"
	n=$((n + 1))
done
log "the memcached and pingpong apps serve and bid on the host, beside a nom-priced"
keys market alice
export RAAS_LEDGER=$T/ledger.sqlite
"$B/raas" tenant add alice --key "$T/keys/alice.pub" >/dev/null
cat >"$T/market.ini" <<EOF2
[market]
tenant_endpoint = tcp://127.0.0.1:*
price_endpoint = tcp://127.0.0.1:*
host_endpoint = tcp://127.0.0.1:*
round_ms = 500
ledger = $T/ledger.sqlite
key_dir = $T/keys

[pool.bw]
host = h1
resource = bandwidth
supply = 100
model = fixed
params = price=\$3.6
EOF2
start_market "$T/market.ini"
inst=tpl$$
start_priced alice "$inst"
port=$((20000 + $$ % 20000))
for t in memcached pingpong; do
	sed -i "s/^port = .*/port = $port/" "my$t/my$t.ini"
	NOM_HOST=h1 "my$t/build/my$t" "$inst" "my$t/my$t.ini" >"$T/$t.out" 2>"$T/$t.err" &
	APP=$!
	started $APP
	wait_for 10 "my$t serving on $port" grep -q "\"serving\":$port" "$T/$t.out"
	if [ $t = memcached ]; then
		exec 3<>"/dev/tcp/127.0.0.1/$port"
		printf 'set k 0 0 5\r\nhello\r\nget k\r\nget nope\r\n' >&3
		reply=$(timeout 5 head -c 38 <&3 | tr -d '\r' | tr '\n' '|')
		exec 3>&-
		[ "$reply" = "STORED|VALUE k 0 5|hello|END|END|" ] || fail "memcached answered: $reply"
	else
		exec 3<>"/dev/tcp/127.0.0.1/$port"
		printf 'ping 1\nping 2\n' >&3
		reply=$(timeout 5 head -c 14 <&3 | tr '\n' '|')
		exec 3>&-
		[ "$reply" = "ping 1|ping 2|" ] || fail "pingpong answered: $reply"
	fi
	log "  $t answered: $reply"
	wait_for 10 "my$t holds its 1 Mbit/s floor" grep -q '"held_mbit":1,' "$T/$t.out"
	kill "$APP"
	wait "$APP" 2>/dev/null || true
done

set +e
"$B/raas" app init other --template redis >"$T/bad.out" 2>"$T/bad.err"
rc=$?
set -e
[ "$rc" = 64 ] && grep -q "template redis: not minimal, http, memcached or pingpong" "$T/bad.err" ||
	fail "an unknown template: exit $rc, $(cat "$T/bad.err")"
[ ! -e other ] || fail "an unknown template left a folder"
log "ok: $n templates built into images"
