#!/bin/bash
# test_vm_app.sh: from nothing to a nom app in a VM, as a user would, in a fresh folder
# outside the repository: cmake --install the runtime into a prefix, `raas app init myapp`,
# `raas app build --prefix` (cmake against the installed nom.pc, then an image with the app
# and its utility config), `raas image inspect` lists it; the image boots with a config drive
# that runs the app, whose nom-priced connects to the market, and the app acquires the 5
# Mbit/s its utility wants ($10 per Mbit/s-hour against a $3.6 price): the ledger allocates
# them to the tenant. Root, libvirt (started when not running), the Debian cloud kernel.
set -eu
. "$RAAS_SOURCE_DIR/tests/vm/lib.sh"
vm_need
need /cmake /cc /sqlite3
BUILD=$(dirname "$B")
cmake --install "$BUILD" --prefix "$T/prefix" >"$T/install.log" 2>&1 || fail "cmake --install"
mkdir "$T/work"
cd "$T/work"
"$B/raas" app init myapp >"$T/init.log" || fail "raas app init: $(cat "$T/init.log")"
log "  $(cat "$T/init.log")"
for f in main.c CMakeLists.txt myapp.ini README.md; do [ -s "myapp/$f" ] || fail "init made no $f"; done
cd myapp
"$B/raas" app build --prefix "$T/prefix" >"$T/build.log" 2>&1 || fail "raas app build: $(tail -20 "$T/build.log")"
log "  $(tail -1 "$T/build.log")"
"$B/raas" image inspect build/image >"$T/inspect.txt" || fail "inspect"
grep -q "^apps     myapp" "$T/inspect.txt" || fail "the image has no myapp: $(cat "$T/inspect.txt")"
grep -q "/etc/nom/myapp.ini" build/image/manifest || fail "the app's config is not in the image"

vm_libvirt_up
vm_bridge
keys market alice h1
export RAAS_LEDGER=$T/ledger.sqlite
"$B/raas" tenant add alice --key "$T/keys/alice.pub" >/dev/null
"$B/raas" host add h1 --key "$T/keys/h1.pub" >/dev/null
vm_market_ini <<EOF2
[pool.bw]
host = h1
resource = bandwidth
supply = 100
model = fixed
params = price=\$3.6
EOF2
start_market "$T/market.ini"
chmod 0755 "$T/work" "$T/work/myapp" "$T/work/myapp/build"
vm_drive a alice 11 "[app.main]
run = myapp a
"
vm_start "$T/work/myapp/build/image" a 1 192
wait_for 120 "nom-priced connected" vm_console_has a "market session up"
wait_for 30 "myapp holds 5 Mbit/s" vm_console_has a '"app":"myapp","price":3600000000,"held_mbit":5'
held() {
	[ "$(sqlite3 "$T/ledger.sqlite" "SELECT max(a.quantity) FROM allocations a JOIN tenants t
		ON t.id = a.tenant WHERE t.name = 'alice'")" = 5 ]
}
wait_for 10 "the ledger allocates 5 to alice" held
log "  $(vm_last_line a '"app":"myapp"')"
log "ok"
