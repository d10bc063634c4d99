#!/bin/bash
# test_vm_agent.sh: the host agent boots tenants' nom VMs itself and notices when they stop.
#
# One image (nom-priced only); the agent's config gives alice and bob a VM each
# ([tenant.NAME] vm_*). Bob's config drive has a misspelt key.
# Asserted:
#   - the agent defines and starts both domains (persistent, their taps on the bridge);
#   - bob's guest refuses its drive ("config-drive:LINE: vm.tenant_secrt: unknown key" on the
#     console, the instance's log), powers off; the agent says why, undefines the domain
#     (no domain, no tap) and leaves bob out of its registration: bob's acquire on h1 is
#     refused by the market and he is never allocated or charged;
#   - alice's nom-priced connects; she acquires 5 Mbit/s: her tc class is at 5 Mbit/s and
#     the ledger allocates (charges) them;
#   - alice's QEMU is killed (a crash): the agent reports "it crashed", undefines the domain,
#     removes her class; from the second round on she is allocated nothing, and what the
#     rounds after the crash charged her is credited back (net 0);
#   - the agent stops: nothing of either VM is left (domain, tap); no qdisc class of theirs.
# Root, libvirt (the ctest fixture, or started when not running), the Debian cloud kernel.
set -eu
. "$RAAS_SOURCE_DIR/tests/vm/lib.sh"
vm_need
need raas-hostagentd /sqlite3
vm_libvirt_up
vm_bridge
vm_sink

keys market alice bob h1
export RAAS_LEDGER=$T/ledger.sqlite
for t in alice bob; do "$B/raas" tenant add $t --key "$T/keys/$t.pub" >/dev/null; done
"$B/raas" host add h1 --key "$T/keys/h1.pub" >/dev/null
# The pool is the agent's (its registration), not the market config's: only an agent's pool
# follows what the agent says it can enforce.
vm_market_ini <<EOF2
[resource.bandwidth]
model = fixed
params = price=\$3.6
EOF2
start_market "$T/market.ini"
vm_image "$T/img"
vm_drive a alice 11
vm_drive b bob 12
sed -i 's/^tenant_secret =/tenant_secrt =/' "$T/b.ini"
line=$(grep -n '^tenant_secrt' "$T/b.ini" | cut -d: -f1)
"$B/raas" image drive "$T/b.ini" --out "$T/b.drive" || fail "raas image drive b"

vm_agent_ini "alice:0x10:11:$(vm_agent_keys "$T/img" a 1 192)" \
	"bob:0x20:12:$(vm_agent_keys "$T/img" b 1 192)"
log "the agent boots both VMs"
t0=$(date +%s%N)
"$B/raas-hostagentd" -c "$T/agent.ini" 2>>"$T/agent.log" &
AGENT=$!
started $AGENT
wait_for 20 "both domains running" sh -c "virsh -c qemu:///system domstate $VMP-a | grep -q running &&
	virsh -c qemu:///system domstate $VMP-b | grep -q running"
for i in a b; do
	virsh -c qemu:///system dominfo "$VMP-$i" | grep -q "^Persistent: *yes" ||
		fail "$VMP-$i is not a defined domain"
	[ "$(ip -o link show "$(vm_tap $i)" | grep -o "master [^ ]*")" = "master $BR" ] ||
		fail "the tap $(vm_tap $i) is not on $BR"
done

log "bob's bad drive: the guest powers off, the agent undefines it and stops listing bob"
wait_for 150 "the agent sees bob's VM stop" grep -q "vm: tenant bob no longer served here" "$T/agent.log"
log "  agent: $(grep 'vm: tenant bob: domain' "$T/agent.log" | tail -n 1 | sed 's/.*vm: //')"
grep -q "domain $VMP-b is not running: it powered off from inside" "$T/agent.log" ||
	fail "the agent does not say bob's VM powered off: $(grep 'vm:' "$T/agent.log")"
err=$(vm_last_line b "nom-vm: config drive")
log "  console: $err"
echo "$err" | grep -q "config-drive:$line: vm.tenant_secrt: unknown key" ||
	fail "bob's console does not name line $line and the key: $err"
vm_console_has b "nom-priced" && fail "nom-priced ran on a bad config drive"
wait_for 10 "bob's domain and tap gone" vm_gone b

log "alice's VM connects and holds 5 Mbit/s"
wait_for 150 "alice's nom-priced connected" vm_console_has a "market session up"
log "  boot to 'nom-priced connected' $((($(date +%s%N) - t0) / 1000000)) ms after the agent started"
export RAAS_MARKET=$MARKET RAAS_PRICES=$PRICES RAAS_SERVER_KEY=$T/keys/market.pub
"$B/raas" --key "$T/keys/alice.key" acquire --resource bandwidth --host h1 --quantity 5 >/dev/null ||
	fail "raas acquire for alice"
set +e
"$B/raas" --key "$T/keys/bob.key" acquire --resource bandwidth --host h1 --quantity 5 >"$T/bob.out" 2>&1
rc=$?
set -e
log "  bob's acquire: exit $rc: $(head -c 200 "$T/bob.out")"
[ "$rc" != 0 ] && grep -q "host h1 cannot enforce tenant bob" "$T/bob.out" ||
	fail "bob's acquire on h1 was not refused: exit $rc $(cat "$T/bob.out")"
rate_is() { # MINOR RATE
	[ "$(tc class show dev "${VMP}s" classid "1:$1" |
		awk '{ for (i = 1; i < NF; i++) if ($i == "rate") { print $(i + 1); exit } }')" = "$2" ]
}
wait_for 20 "alice's class at 5 Mbit/s" rate_is 10 5Mbit
charged() { # TENANT: allocations of TENANT in the ledger
	sqlite3 "$T/ledger.sqlite" "SELECT count(*) FROM allocations a JOIN tenants t ON t.id = a.tenant
		WHERE t.name = '$1' AND a.quantity > 0"
}
wait_for 10 "the ledger allocates to alice" sh -c "[ \$(sqlite3 '$T/ledger.sqlite' \"SELECT count(*)
	FROM allocations a JOIN tenants t ON t.id = a.tenant WHERE t.name = 'alice'\") -gt 2 ]"
[ "$(charged bob)" = 0 ] || fail "bob, whose VM never ran, was allocated $(charged bob) times"

log "alice's QEMU is killed: the agent notices, the market releases her"
qpid=$(cat "/run/libvirt/qemu/$VMP-a.pid")
[ -n "$qpid" ] || fail "no pid file for $VMP-a's QEMU"
CRASH_MS=$(($(date +%s%N) / 1000000 % 100000))
CRASH_S=$(date +%s.%N)
CRASH_NS=$(date +%s%N)
kill -9 "$qpid"
wait_for 10 "the agent tells the market" grep -q "vm: tenant alice no longer served here" "$T/agent.log"
rel=$(sqlite3 "$T/ledger.sqlite" "SELECT max(round) FROM rounds")
log "  agent: $(grep 'vm: tenant alice: domain' "$T/agent.log" | tail -n 1 | sed 's/.*vm: //')"
grep -q "domain $VMP-a is not running: it crashed" "$T/agent.log" ||
	fail "the agent does not say alice's VM crashed: $(grep 'vm:' "$T/agent.log")"
wait_for 10 "alice's domain and tap gone" vm_gone a
class_gone() { [ -z "$(tc class show dev "${VMP}s" classid 1:10)" ]; }
wait_for 10 "alice's tc class removed" class_gone
rounds_past() { [ "$(sqlite3 "$T/ledger.sqlite" "SELECT max(round) FROM rounds")" -ge "$1" ]; }
wait_for 10 "three more rounds" rounds_past $((rel + 3))
late=$(sqlite3 "$T/ledger.sqlite" "SELECT count(*) FROM allocations a JOIN tenants t ON t.id = a.tenant
	WHERE t.name = 'alice' AND a.round > $((rel + 1))")
net=$(sqlite3 "$T/ledger.sqlite" "SELECT coalesce(sum(a.quantity * a.unit_price * r.round_ns / 3600000000000.0), 0)
	- (SELECT coalesce(sum(c.amount), 0) FROM credits c JOIN tenants t ON t.id = c.tenant
	   WHERE t.name = 'alice' AND c.round > $rel)
	FROM allocations a JOIN tenants t ON t.id = a.tenant JOIN rounds r ON r.round = a.round
	WHERE t.name = 'alice' AND a.round > $rel")
before=$(sqlite3 "$T/ledger.sqlite" "SELECT count(*) FROM allocations a JOIN tenants t ON t.id = a.tenant
	WHERE t.name = 'alice' AND a.round <= $rel")
log "  alice: $before allocations up to round $rel, $late after round $((rel + 1)); net charge after round $rel: $net nanodollars"
dump() { # what the ledger says of alice around the crash, when an assertion fails
	sqlite3 "$T/ledger.sqlite" "SELECT 'round', r.round, r.end_wall_ns / 1000000 % 100000,
		(SELECT group_concat(a.quantity) FROM allocations a JOIN tenants t ON t.id = a.tenant
		 WHERE t.name = 'alice' AND a.round = r.round),
		(SELECT group_concat(c.amount || '@' || c.settled_round) FROM credits c JOIN tenants t
		 ON t.id = c.tenant WHERE t.name = 'alice' AND c.round = r.round)
		FROM rounds r WHERE r.round > $rel - 4" >&2
	echo "crash at $(date -d @"${CRASH_S}" +%T.%N 2>/dev/null) (wall ms $CRASH_MS)" >&2
}
# Rounds that closed after the crash but before the agent saw it: charged unless credited (a
# figure: libvirt takes a moment to see QEMU gone).
gap=$(sqlite3 "$T/ledger.sqlite" "SELECT count(*), coalesce(sum(a.quantity * a.unit_price * r.round_ns / 3600000000000.0), 0)
	- (SELECT coalesce(sum(c.amount), 0) FROM credits c JOIN tenants t ON t.id = c.tenant
	   JOIN rounds r2 ON r2.round = c.round WHERE t.name = 'alice' AND c.round <= $rel
	   AND r2.end_wall_ns > $CRASH_NS)
	FROM allocations a JOIN tenants t ON t.id = a.tenant JOIN rounds r ON r.round = a.round
	WHERE t.name = 'alice' AND a.round <= $rel AND r.end_wall_ns > $CRASH_NS")
log "  rounds closed between the crash and the agent's notice (count|net charge, nanodollars): $gap"
[ "$before" -gt 2 ] || fail "alice was allocated only $before times before the crash"
[ "$late" = 0 ] || { dump; fail "alice is still allocated (and charged) after her VM crashed"; }
awk -v n="$net" 'BEGIN { exit !(n < 1 && n > -1) }' || { dump; fail "alice was charged $net net after the crash"; }
[ "$(charged bob)" = 0 ] || fail "bob was allocated"

log "the agent stops: nothing of the VMs is left"
kill -TERM $AGENT
wait $AGENT || fail "the host agent exited $?"
vm_gone a && vm_gone b || fail "a domain or tap is left"
[ -z "$(tc class show dev "${VMP}s" | grep -E '1:(10|20) ')" ] || fail "a tenant's class is left"
log "ok"
