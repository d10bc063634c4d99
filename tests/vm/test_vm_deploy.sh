#!/bin/bash
# test_vm_deploy.sh: `raas app deploy`, `logs` and `stop` from a fresh folder outside the
# repository, as a user would, against a running market and host agent.
#
# The runtime installed into a prefix (cmake --install), `raas app init myapp`, `raas app
# build`; a market whose bandwidth pool is the agent's, and raas-hostagentd with a
# [tenant.alice] section (tc class and src) but no VM yet. Asserted:
#   - `raas app init myapp --template http`, `raas app build`;
#   - `raas app deploy --tenant alice`: the agent's config gains the vm_* keys, the agent
#     (SIGHUP) boots the image as alice's VM, deploy returns once its nom-priced connected;
#     the app holds its floor, 1 Mbit/s: the tc class and the ledger say so;
#   - a client from the host: curl gets the 16 KiB answer; under wrk the app holds more as it
#     sends more (the ledger allocates it 3 Mbit/s or more), and says it served requests;
#   - `raas app logs` prints the console: the app's lines are in it;
#   - bad input for bob (whose deploys name the agent by its ready file, pid=, where alice's
#     name its pid file): a misspelt key in the app's own config (--app-config) is refused on
#     the host, exit 65 with FILE:LINE: key, nothing deployed; a config drive of his own with a
#     misspelt key (--drive) is refused by the guest at boot: deploy exits 65 with the
#     console's "config-drive:LINE: vm.KEY: unknown key", `raas app logs` shows it, the agent
#     has undefined the VM and its vm_* keys are gone from its config;
#   - `raas app stop`: alice's bandwidth released, no domain, no tap, no vm_* keys left in
#     the agent's config; alice is allocated nothing from the second round on.
# Root, libvirt (the ctest fixture, or started when not running), the Debian cloud kernel.
set -eu
. "$RAAS_SOURCE_DIR/tests/vm/lib.sh"
vm_need
need raas-hostagentd /cmake /cc /sqlite3 /curl /wrk
BUILD=$(dirname "$B")
cmake --install "$BUILD" --prefix "$T/prefix" >"$T/install.log" 2>&1 || fail "cmake --install"
mkdir "$T/work"
cd "$T/work"
"$B/raas" app init myapp --template http >"$T/init.log" || fail "raas app init: $(cat "$T/init.log")"
cd myapp
"$B/raas" app build --prefix "$T/prefix" >"$T/build.log" 2>&1 || fail "raas app build: $(tail -20 "$T/build.log")"
log "  $(tail -1 "$T/build.log")"
chmod 0755 "$T" "$T/work" "$T/work/myapp" "$T/work/myapp/build" # libvirt's QEMU opens them

vm_libvirt_up
vm_bridge
vm_sink
keys market alice bob h1
export RAAS_LEDGER=$T/ledger.sqlite
for t in alice bob; do "$B/raas" tenant add $t --key "$T/keys/$t.pub" >/dev/null; done
"$B/raas" host add h1 --key "$T/keys/h1.pub" >/dev/null
vm_market_ini <<EOF2
[resource.bandwidth]
model = fixed
params = price=\$3.6
EOF2
start_market "$T/market.ini"
vm_agent_ini "alice:0x10:11:domain = $VMP-a" "bob:0x20:12:domain = $VMP-b"
echo "$VMP-a" >>"$T/defined"
echo "$VMP-b" >>"$T/defined"
"$B/raas-hostagentd" -c "$T/agent.ini" --pid-file "$T/agent.pid" --ready-file "$T/agent.ready" \
	2>>"$T/agent.log" &
AGENT=$!
started $AGENT
wait_for 10 "the agent's pid file" test -s "$T/agent.pid"
wait_for 10 "the agent's ready file" test -s "$T/agent.ready"
export RAAS_MARKET=$MARKET RAAS_PRICES=$PRICES RAAS_SERVER_KEY=$T/keys/market.pub

log "raas app deploy --tenant alice"
t0=$(date +%s%N)
"$B/raas" app deploy --tenant alice --agent-config "$T/agent.ini" --agent-pid "$T/agent.pid" \
	--key "$T/keys/alice.key" --address "$NET.11/24" --gateway "$NET.1" --bridge "$BR" \
	--vcpus 1 --memory-mib 192 --vm-type qemu >"$T/deploy.out" 2>"$T/deploy.err" ||
	fail "raas app deploy: $(cat "$T/deploy.err")"
log "  $(cat "$T/deploy.out") ($((($(date +%s%N) - t0) / 1000000)) ms)"
grep -q "^vm_image = $T/work/myapp/build/image$" "$T/agent.ini" || fail "no vm_image in the agent's config"
virsh -c qemu:///system dominfo "$VMP-a" | grep -q "^State: *running" || fail "no running $VMP-a"
rate_is() { # MINOR RATE
	[ "$(tc class show dev "${VMP}s" classid "1:$1" |
		awk '{ for (i = 1; i < NF; i++) if ($i == "rate") { print $(i + 1); exit } }')" = "$2" ]
}
logs_have() { "$B/raas" app logs --tenant alice | grep -q -- "$1"; }
wait_for 60 "myapp holds 1 Mbit/s, its floor (raas app logs)" logs_have '"app":"myapp","price":3600000000,"used_mbit":0.00,"held_mbit":1,'
wait_for 20 "alice's class at 1 Mbit/s" rate_is 10 1Mbit
held() { # AT_LEAST
	[ "$(sqlite3 "$T/ledger.sqlite" "SELECT coalesce(max(a.quantity), 0) FROM allocations a JOIN tenants t
		ON t.id = a.tenant WHERE t.name = 'alice'")" -ge "$1" ]
}
wait_for 10 "the ledger allocates 1 to alice" held 1

log "a client from the host: curl, then wrk; myapp holds more as it sends more"
ip netns exec "$VMS_NS" curl -s -m 20 -o "$T/body" "http://$NET.11:8080/f" || fail "curl from the host"
[ "$(stat -c %s "$T/body")" = 16384 ] || fail "curl got $(stat -c %s "$T/body") bytes, not 16384"
ip netns exec "$VMS_NS" wrk -t 1 -c 8 -d 12s "http://$NET.11:8080/f" >"$T/wrk.log" 2>&1 &
W=$!
started $W
wait_for 20 "alice allocated 3 Mbit/s or more" held 3
wait $W || true
most=$(sqlite3 "$T/ledger.sqlite" "SELECT max(a.quantity) FROM allocations a JOIN tenants t ON t.id = a.tenant WHERE t.name = 'alice'")
[ "$most" -le 50 ] || fail "alice held $most Mbit/s, over the app's max_mbit of 50"
log "  wrk: $(sed -n 's/^Requests\/sec: *//p' "$T/wrk.log") req/s; the ledger's largest holding of alice: $(sqlite3 "$T/ledger.sqlite" "SELECT max(a.quantity) FROM allocations a JOIN tenants t ON t.id = a.tenant WHERE t.name = 'alice'") Mbit/s"
served=$("$B/raas" app logs --tenant alice | grep '"app":"myapp"' | tail -n 1 | sed 's/.*"served":\([0-9]*\).*/\1/')
[ "$served" -gt 10 ] || fail "myapp served $served requests"
log "  raas app logs: $("$B/raas" app logs --tenant alice | grep '"app":"myapp"' | tail -n 1)"

deploy_bob() { # OPTION...: raas app deploy for bob; RC, $T/bad.err
	set +e
	# bob's deploys name the agent by its ready file (pid=), alice's by its pid file.
	"$B/raas" app deploy --tenant bob --agent-config "$T/agent.ini" --agent-pid "$T/agent.ready" \
		--key "$T/keys/bob.key" --bridge "$BR" --vcpus 1 --memory-mib 192 --vm-type qemu \
		--timeout 120 "$@" >"$T/bad.out" 2>"$T/bad.err"
	RC=$?
	set -e
}
no_vm_keys() { # TENANT: its section of the agent's config has no vm_* key
	! awk -v s="[tenant.$1]" '/^\[/ { in_s = ($0 == s) } in_s && /^vm_/ { found = 1 } END { exit !found }' "$T/agent.ini"
}

log "bad input 1: a misspelt key in the app's own config: refused before anything boots"
printf '[app.extra]\nrnu = myapp\n' >"$T/extra.ini"
deploy_bob --address "$NET.12/24" --gateway "$NET.1" --app-config "$T/extra.ini"
log "  exit $RC: $(tr '\n' ' ' <"$T/bad.err")"
[ "$RC" = 65 ] || fail "deploy exited $RC, not 65"
grep -q "bob.ini:18: app.extra.rnu: unknown key" "$T/bad.err" || fail "the error does not name the line and key"
grep -q "lines 17 on are --app-config $T/extra.ini's lines 1 on" "$T/bad.err" || fail "the error does not say which lines are the user's"
no_vm_keys bob || fail "bob's section got vm_* keys"
vm_gone b || fail "a domain or tap of bob's exists"
! "$B/raas" app logs --tenant bob >/dev/null 2>"$T/logs.err" || fail "raas app logs found a deployment of bob"
log "  raas app logs --tenant bob: $(cat "$T/logs.err")"

log "bad input 2: a config drive of one's own with a misspelt key: the guest refuses it at boot"
vm_drive b bob 12
sed -i 's/^tenant_secret =/tenant_secrt =/' "$T/b.ini"
line=$(grep -n '^tenant_secrt' "$T/b.ini" | cut -d: -f1)
"$B/raas" image drive "$T/b.ini" --out "$T/b.drive" || fail "raas image drive"
deploy_bob --drive "$T/b.drive"
log "  exit $RC: $(tr '\n' ' ' <"$T/bad.err" | head -c 400)"
[ "$RC" = 65 ] || fail "deploy exited $RC, not 65"
grep -q "config-drive:$line: vm.tenant_secrt: unknown key" "$T/bad.err" || fail "deploy does not show the guest's error"
"$B/raas" app logs --tenant bob >"$T/bob.logs" || fail "raas app logs --tenant bob"
grep -q "config-drive:$line: vm.tenant_secrt: unknown key" "$T/bob.logs" || fail "raas app logs does not show it"
grep -q "nom-priced" "$T/bob.logs" && fail "nom-priced ran on a bad drive"
wait_for 10 "bob's domain and tap gone" vm_gone b
no_vm_keys bob || fail "bob's vm_* keys stayed in the agent's config"
"$B/raas" app stop --tenant bob >"$T/stop-bob.out" || fail "raas app stop --tenant bob"

log "raas app stop: alice's VM is gone, her bandwidth released"
"$B/raas" app stop >"$T/stop.out" 2>"$T/stop.err" || fail "raas app stop: $(cat "$T/stop.err")"
rel=$(sqlite3 "$T/ledger.sqlite" "SELECT max(round) FROM rounds")
log "  $(cat "$T/stop.out")"
vm_gone a || fail "alice's domain or tap is left"
no_vm_keys alice || fail "alice's vm_* keys are left in the agent's config"
[ ! -e build/deploy/alice.state ] || fail "the deployment's state is left"
rounds_past() { [ "$(sqlite3 "$T/ledger.sqlite" "SELECT max(round) FROM rounds")" -ge "$1" ]; }
wait_for 10 "three more rounds" rounds_past $((rel + 3))
late=$(sqlite3 "$T/ledger.sqlite" "SELECT count(*) FROM allocations a JOIN tenants t ON t.id = a.tenant
	WHERE t.name = 'alice' AND a.quantity > 0 AND a.round > $((rel + 1))")
log "  alice's allocations after round $((rel + 1)): $late"
[ "$late" = 0 ] || fail "alice is still allocated after raas app stop"
class_gone() { [ -z "$(tc class show dev "${VMP}s" classid 1:10 | grep -v 100Kbit)" ]; }
wait_for 10 "alice's class at the floor or gone" class_gone
log "ok"
