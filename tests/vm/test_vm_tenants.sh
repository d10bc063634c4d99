#!/bin/bash
# test_vm_tenants.sh: two tenants' nom VMs on one host, end to end under QEMU/TCG.
#
# One image (raas image build: nhttpd, its profile and a 16 KiB file); each tenant's VM
# boots it with its own config drive (its key pair, the market's key and endpoints on the
# host's bridge). Inside, nom-vm-init starts nom-priced, which connects to raas-marketd over
# CURVE, and nhttpd on nomnet's packet driver (AF_PACKET on the guest's virtio NIC, an address
# of its own), which acquires bandwidth for its working point. Load comes from wrk in a
# namespace on the host's bridge; the host agent boots the VMs itself, shapes the VMs'
# traffic to it with tc on that bridge port (HTB class per tenant by source address) and sets
# vCPUs and the balloon through libvirt. Profile (worked out by hand): one point each, W=0, 16,600 bytes a request:
#   web-a 45 rps -> 5.976 Mbit/s -> holds 6;  web-b 30 rps -> 3.984 Mbit/s -> holds 4
# (price $1/Gbit = $3.6 per Mbit/s-hour; refund alpha 20 - beta 10 x 0.3 ms = 17 > 1).
#
# Asserted:
#   - each VM's nom-priced connects (boot to "market session up" is printed, a figure);
#   - each app holds its need, the tc classes are at 6 and 4 Mbit/s and the rate measured by
#     the class byte counters over 5 s under wrk is within 10% of each holding;
#   - alice acquires 2 cores and 256 MiB: the guest's own console reports 2 CPUs online
#     and MemTotal grown by the balloon (it started at the 192 MiB floor of holding 0);
#   - the ledger: each tenant's invoice equals the sum over its allocations of quantity x
#     unit price x round length (computed here from the rounds table), nothing was credited,
#     and the bandwidth rounds charged were at the rate tc enforced;
#   - the host agent defines and boots both VMs itself ([tenant.NAME] vm_*): persistent
#     domains, their taps on the host's bridge;
#   - bob's VM destroyed: the agent notices, undefines it, removes bob's tc class and
#     registers again without bob: no domain, tap or class of bob is left, the market
#     allocates him nothing from the next round on while alice still holds, and what the
#     rounds after the destroy charged him is credited back (net 0);
#   - the agent stopped: alice's VM is stopped and undefined, no domain or tap is left.
# Root, libvirt (started when not running), the Debian cloud kernel.
set -eu
. "$RAAS_SOURCE_DIR/tests/vm/lib.sh"
vm_need
need /wrk /sqlite3
vm_libvirt_up
vm_bridge
vm_sink

keys market alice bob h1
export RAAS_LEDGER=$T/ledger.sqlite
for t in alice bob; do "$B/raas" tenant add $t --key "$T/keys/$t.pub" >/dev/null; done
"$B/raas" host add h1 --key "$T/keys/h1.pub" >/dev/null
# The pools are the agent's (from its registration), so they follow what it can enforce.
vm_market_ini <<EOF2
[resource.bandwidth]
model = fixed
params = price=\$3.6

[resource.cores]
model = fixed
params = price=\$0.01

[resource.memory]
model = fixed
params = price=\$0.0001
EOF2
start_market "$T/market.ini"

cat >"$T/profile.csv" <<EOF2
# test_vm_tenants.sh's profile: worked out by hand in the script's header
app,load,delay_us,throughput_rps,latency_us,jitter_us,bytes_per_request,source
web-a,many,0,45,300,30,16600,test
web-b,many,0,30,300,30,16600,test
EOF2
mkdir -p "$T/www"
head -c 16384 /dev/urandom >"$T/www/f16k"
log "image"
vm_image "$T/img" --app nhttpd --file "$T/profile.csv=/etc/nom/profile.csv" \
	--file "$T/www/f16k=/srv/www/f16k"
log "  $(cat "$T/image-build.log")"

app_ini() { # INSTANCE OCTET PROFILE_APP
	printf '[app.web]\nrun = nhttpd --instance %s --driver packet --if eth0 --addr %s/24 --gateway %s.1\n' \
		"$1" "$NET.$2" "$NET"
	printf 'run2 = --root /srv/www --mode interrupt --utility refund --profile /etc/nom/profile.csv\n'
	printf 'run3 = --profile-app %s --strategy adaptive --report-ms 2000\n' "$3"
}
vm_drive a alice 11 "$(app_ini a 21 web-a)"
vm_drive b bob 12 "$(app_ini b 22 web-b)"
vm_agent_ini capacity.cores=4 capacity.memory_mib=512 backends.cores=libvirt backends.memory=libvirt \
	tc.floor_kbit=100 libvirt.uri=qemu:///system libvirt.memory_floor_mib=192 \
	"alice:0x10:21:$(vm_agent_keys "$T/img" a 2 256)" "bob:0x20:22:$(vm_agent_keys "$T/img" b 2 256)"
log "the host agent boots both VMs"
t0=$(date +%s%N)
"$B/raas-hostagentd" -c "$T/agent.ini" 2>>"$T/agent.log" &
AGENT=$!
started $AGENT
for i in a b; do
	wait_for 180 "nom-priced connected in VM $i" vm_console_has $i "market session up"
	log "  VM $i: boot to 'nom-priced connected' $((($(date +%s%N) - t0) / 1000000)) ms after the agent started both"
done
for i in a b; do
	virsh -c qemu:///system dominfo "$VMP-$i" | grep -q "^Persistent: *yes" ||
		fail "the agent's domain $VMP-$i is not defined"
	[ "$(ip -o link show "$(vm_tap $i)" | grep -o "master [^ ]*")" = "master $BR" ] ||
		fail "the tap $(vm_tap $i) is not on $BR"
done

rate_is() { # MINOR RATE
	[ "$(tc class show dev "${VMP}s" classid "1:$1" |
		awk '{ for (i = 1; i < NF; i++) if ($i == "rate") { print $(i + 1); exit } }')" = "$2" ]
}
log "each app acquires its bandwidth"
wait_for 60 "alice's class at 6 Mbit/s" rate_is 10 6Mbit
wait_for 60 "bob's class at 4 Mbit/s" rate_is 20 4Mbit
for i in a b; do
	wait_for 30 "nhttpd of $i serving" vm_console_has $i '"event":"holding","resource":"bandwidth","host":"h1","quantity":[46]'
done

log "wrk from the host's bridge against both"
ip netns exec "$VMS_NS" wrk -t 1 -c 8 -d 25s "http://$NET.21:8080/f16k" >"$T/wrk-a.log" 2>&1 &
W1=$!
started $W1
ip netns exec "$VMS_NS" wrk -t 1 -c 8 -d 25s "http://$NET.22:8080/f16k" >"$T/wrk-b.log" 2>&1 &
W2=$!
started $W2
snapshot() { # BYTES_10 BYTES_20 SNAP_NS
	a=$(date +%s%N)
	out=$(tc -s class show dev "${VMP}s")
	b=$(date +%s%N)
	SNAP_NS=$(((a + b) / 2))
	read -r BYTES_10 BYTES_20 < <(echo "$out" | awk '
		$1 == "class" { cur = $3 } $1 == "Sent" { b[cur] = $2 }
		END { printf "%d %d\n", b["1:10"], b["1:20"] }')
}
sleep 6 # wrk's connections open and the classes fill (TCG guests start slowly)
snapshot
a0=$BYTES_10 b0=$BYTES_20 s0=$SNAP_NS
sleep 5
snapshot
RA=$(awk -v a="$a0" -v b="$BYTES_10" -v s="$s0" -v e="$SNAP_NS" 'BEGIN { printf "%.2f", (b - a) * 8e3 / (e - s) }')
RB=$(awk -v a="$b0" -v b="$BYTES_20" -v s="$s0" -v e="$SNAP_NS" 'BEGIN { printf "%.2f", (b - a) * 8e3 / (e - s) }')
log "  measured: alice $RA Mbit/s (holds 6), bob $RB Mbit/s (holds 4)"
within() { awk -v v="$1" -v t="$2" -v p="$3" 'BEGIN { d = v - t; if (d < 0) d = -d; exit !(d <= t * p / 100) }'; }
within "$RA" 6 10 || fail "alice's VM sends $RA Mbit/s holding 6"
within "$RB" 4 10 || fail "bob's VM sends $RB Mbit/s holding 4"

log "alice acquires 2 cores and 256 MiB: the guest sees them"
first_mem=$(vm_last_line a "nom-vm: cpus" | awk '{ print $5 }')
export RAAS_MARKET=$MARKET RAAS_PRICES=$PRICES RAAS_SERVER_KEY=$T/keys/market.pub
"$B/raas" --key "$T/keys/alice.key" acquire --resource cores --host h1 --quantity 2 >/dev/null ||
	fail "raas acquire cores"
"$B/raas" --key "$T/keys/alice.key" acquire --resource memory --host h1 --quantity 256 >/dev/null ||
	fail "raas acquire memory"
guest_sees() { # CPUS: the last report says CPUS online and more memory than at first
	l=$(vm_last_line a "nom-vm: cpus")
	[ "$(echo "$l" | awk '{ print $3 }')" = "$1" ] &&
		[ "$(echo "$l" | awk '{ print $5 }')" -gt "$first_mem" ]
}
if ! (wait_for 60 "VM a reports 2 CPUs and more memory" guest_sees 2); then
	grep "nom-vm:" "$T/a.console" >&2
	virsh -c qemu:///system vcpucount "$VMP-a" >&2
	virsh -c qemu:///system dominfo "$VMP-a" | grep -i mem >&2
	"$B/raas" --key "$T/keys/alice.key" allocations >&2
	fail "VM a does not report 2 CPUs and more memory"
fi
log "  inside VM a: $(vm_last_line a 'nom-vm: cpus') (was memory_kib $first_mem at the floor)"
wait $W1 $W2 2>/dev/null || true
log "  wrk: alice $(sed -n 's/^Requests\/sec: *//p' "$T/wrk-a.log") rps, bob $(sed -n 's/^Requests\/sec: *//p' "$T/wrk-b.log") rps (16 KiB)"

log "ledger: each invoice is what its allocations cost, nothing credited"
sleep 2
for t in alice bob; do
	"$B/raas" invoice "$t" -o json >"$T/invoice-$t.json"
	amount=$(jq '[.[] | select(.kind == "total")][0].amount | tostring | tonumber * 1e9 | round' \
		"$T/invoice-$t.json")
	last=$(jq '[.[] | select(.kind != "total") | .round] | max' "$T/invoice-$t.json")
	# Hold charges: quantity x unit price (nanodollars per unit-hour) x round length.
	want=$(sqlite3 "$T/ledger.sqlite" "SELECT sum(a.quantity * a.unit_price * r.round_ns / 3600000000000.0)
		FROM allocations a JOIN tenants t ON t.id = a.tenant JOIN rounds r ON r.round = a.round
		WHERE t.name = '$t' AND a.round <= $last")
	credited=$(sqlite3 "$T/ledger.sqlite" "SELECT count(*) FROM credits c JOIN tenants t ON t.id = c.tenant WHERE t.name = '$t'")
	bw_rounds=$(sqlite3 "$T/ledger.sqlite" "SELECT count(*), min(a.quantity), max(a.quantity) FROM allocations a
		JOIN tenants t ON t.id = a.tenant JOIN pools p ON p.id = a.pool
		WHERE t.name = '$t' AND p.resource = 3 AND a.round <= $last")
	log "  $t: invoice $amount nanodollars, allocations $want, $credited credits; bandwidth rounds (count|min|max) $bw_rounds"
	[ "$amount" -gt 0 ] || fail "$t was not charged"
	awk -v a="$amount" -v w="$want" -v n="$(echo "$bw_rounds" | cut -d'|' -f1)" \
		'BEGIN { d = a - w; if (d < 0) d = -d; exit !(d <= 3 * n + 3) }' ||
		fail "$t's invoice $amount is not its allocations' $want"
	[ "$credited" = 0 ] || fail "$t was credited $credited times: an allocation was not in force"
done
[ "$(sqlite3 "$T/ledger.sqlite" "SELECT max(a.quantity) FROM allocations a JOIN tenants t ON t.id = a.tenant
	JOIN pools p ON p.id = a.pool WHERE t.name = 'alice' AND p.resource = 3")" = 6 ] ||
	fail "alice was charged for more bandwidth than tc enforced (6)"
[ "$(sqlite3 "$T/ledger.sqlite" "SELECT max(a.quantity) FROM allocations a JOIN tenants t ON t.id = a.tenant
	JOIN pools p ON p.id = a.pool WHERE t.name = 'bob' AND p.resource = 3")" = 4 ] ||
	fail "bob was charged for more bandwidth than tc enforced (4)"

log "bob's VM is destroyed: the agent notices, the market releases bob, nothing more is charged"
virsh -c qemu:///system destroy "$VMP-b" >/dev/null || fail "virsh destroy $VMP-b"
wait_for 10 "the agent tells the market" grep -q "vm: tenant bob no longer served here" "$T/agent.log"
rel=$(sqlite3 "$T/ledger.sqlite" "SELECT max(round) FROM rounds")
grep "vm: tenant bob" "$T/agent.log" | tail -n 2 | sed 's/^/  agent: /' >&2
wait_for 10 "domain $VMP-b undefined and its tap gone" vm_gone b
class_gone() { [ -z "$(tc class show dev "${VMP}s" classid 1:20)" ]; }
wait_for 10 "bob's tc class removed" class_gone
rounds_past() { [ "$(sqlite3 "$T/ledger.sqlite" "SELECT max(round) FROM rounds")" -ge "$1" ]; }
wait_for 10 "three more rounds" rounds_past $((rel + 3))
late=$(sqlite3 "$T/ledger.sqlite" "SELECT count(*) FROM allocations a JOIN tenants t ON t.id = a.tenant
	WHERE t.name = 'bob' AND a.round > $((rel + 1))")
alive=$(sqlite3 "$T/ledger.sqlite" "SELECT count(*) FROM allocations a JOIN tenants t ON t.id = a.tenant
	WHERE t.name = 'alice' AND a.round > $((rel + 1))")
# What the rounds around the destroy charged bob, less what was credited back: a round whose
# allocation the agent reported failed is credited in full.
net=$(sqlite3 "$T/ledger.sqlite" "SELECT coalesce(sum(a.quantity * a.unit_price * r.round_ns / 3600000000000.0), 0)
	- (SELECT coalesce(sum(c.amount), 0) FROM credits c JOIN tenants t ON t.id = c.tenant
	   WHERE t.name = 'bob' AND c.round > $rel)
	FROM allocations a JOIN tenants t ON t.id = a.tenant JOIN rounds r ON r.round = a.round
	WHERE t.name = 'bob' AND a.round > $rel")
credits=$(sqlite3 "$T/ledger.sqlite" "SELECT count(*) FROM credits c JOIN tenants t ON t.id = c.tenant WHERE t.name = 'bob'")
log "  after round $((rel + 1)): bob $late allocations, alice $alive; bob charged net $net nanodollars after round $rel ($credits credits)"
[ "$late" = 0 ] || fail "bob is still allocated (and charged) after his VM was destroyed"
[ "$alive" -gt 0 ] || fail "alice's allocations stopped too"
awk -v n="$net" 'BEGIN { exit !(n < 1 && n > -1) }' || fail "bob was charged $net net after his VM was destroyed"

log "the agent stops: alice's VM is stopped and undefined with it"
kill -TERM $AGENT
wait $AGENT || fail "the host agent exited $?"
vm_gone a || fail "alice's domain or tap is left after the agent stopped"
log "ok"
