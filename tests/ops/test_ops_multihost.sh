#!/bin/sh
# test_ops_multihost.sh: the deployment of docs/operations.md, machines played by network
# namespaces: the market in one, two host agents in two others, each agent reaching the
# market over real TCP on its own veth link (10.203.N.0/24; never loopback), with the CURVE
# keys the docs hand out. Both enforce bandwidth with the tc backend (HTB classes on a veth of
# their own). Then host 1's link is cut (ip link set down) for 30 s: its rates stay exactly
# as they were (fail-static), host 2 keeps being served, host 1 registers again when the link
# is back, and since it kept enforcing, the rounds it missed are settled as carried over and
# charged, not credited (invariant 7), and the ledger's invariants hold.
set -eu
. "$RAAS_SOURCE_DIR/tests/ops/lib.sh"
need /ip /tc /ss
[ "$(id -u)" = 0 ] || skip "needs root (network namespaces, tc)"

M=$P-m
A1=$P-a1
A2=$P-a2
ip netns add "$M" || fail "ip netns add"
NETNS="$M"
for i in 1 2; do
	ns=$P-a$i
	ip netns add "$ns" || fail "ip netns add $ns"
	NETNS="$NETNS $ns"
	ip -n "$ns" link set lo up
	# The host's uplink to the market machine.
	ip -n "$M" link add m$i type veth peer name u$i netns "$ns" || fail "veth m$i"
	ip -n "$M" addr add 10.203.$i.1/24 dev m$i
	ip -n "$M" link set m$i up
	ip -n "$ns" addr add 10.203.$i.2/24 dev u$i
	ip -n "$ns" link set u$i up
	# The tenants' interface the agent shapes.
	ip -n "$ns" link add tn0 type veth peer name tn1 || fail "veth tn0"
	ip -n "$ns" link set tn0 up
	ip -n "$ns" link set tn1 up
done
ip -n "$M" link set lo up

keys market alice bob h1 h2
"$B/raas" tenant add alice --key "$T/keys/alice.pub" >/dev/null
"$B/raas" tenant add bob --key "$T/keys/bob.pub" >/dev/null
"$B/raas" host add h1 --key "$T/keys/h1.pub" >/dev/null
"$B/raas" host add h2 --key "$T/keys/h2.pub" >/dev/null
cat >"$T/market.ini" <<EOC
[market]
tenant_endpoint = tcp://127.0.0.1:*
price_endpoint = tcp://0.0.0.0:*
host_endpoint = tcp://0.0.0.0:*
round_ms = 500
ack_timeout = 60s
ledger = $T/ledger.sqlite
key_dir = $T/keys
sync = normal
[resource.bandwidth]
model = fixed
params = price=\$0.01
EOC
start_market "$T/market.ini" "$M"
port=${HOSTAPI##*:}

for i in 1 2; do
	cat >"$T/h$i.ini" <<EOC
[agent]
host = h$i
market = tcp://10.203.$i.1:$port
market_public_key = $T/keys/market.pub
key = $T/keys/h$i.key
heartbeat = 200ms
market_timeout = 1500ms
reconnect_min = 100ms
reconnect_max = 1s
[capacity]
bandwidth_mbit = 1000
[backends]
bandwidth = tc
[tenant.alice]
interface = tn0
class = 0x10
src = 10.210.$i.2
[tenant.bob]
interface = tn0
class = 0x20
src = 10.210.$i.3
EOC
	"$B/raas-hostagentd" -c "$T/h$i.ini" --check >"$T/check$i" 2>&1 || fail "--check h$i: $(cat "$T/check$i")"
	start_agent h$i "$P-a$i"
done

log "the agents reach the market over their veth links"
for i in 1 2; do
	ip netns exec "$P-a$i" ss -tnH state established >"$T/ss$i"
	grep -q "10.203.$i.2:[0-9]* *10.203.$i.1:$port" "$T/ss$i" || fail "h$i's connection: $(cat "$T/ss$i")"
done

asm() {
	t=$1
	shift
	ip netns exec "$M" env RAAS_MARKET="$MARKET" RAAS_SERVER_KEY="$T/keys/market.pub" \
		RAAS_KEY="$T/keys/$t.key" "$B/raas" "$@"
}
rate() { ip netns exec "$1" tc class show dev tn0 classid "1:$2" | sed -n 's/.* rate \([^ ]*\) .*/\1/p'; }

asm alice acquire --resource bandwidth --host h1 --quantity 100 >/dev/null || fail "acquire"
asm bob acquire --resource bandwidth --host h1 --quantity 50 >/dev/null || fail "acquire"
asm alice acquire --resource bandwidth --host h2 --quantity 200 >/dev/null || fail "acquire"
rates_in() { [ "$(rate "$A1" 10)" = 100Mbit ] && [ "$(rate "$A1" 20)" = 50Mbit ] && [ "$(rate "$A2" 10)" = 200Mbit ]; }
wait_for 10 "the rates in the kernels" rates_in

log "h1's link is cut for 30 s"
before="$(rate "$A1" 10) $(rate "$A1" 20)"
acks_h2=$(q "SELECT COUNT(*) FROM host_acks WHERE host = 'h2'")
cut_round=$(q "SELECT MAX(round) FROM rounds")
ip -n "$M" link set m1 down
end=$(($(date +%s) + 30))
while [ "$(date +%s)" -lt $end ]; do
	now="$(rate "$A1" 10) $(rate "$A1" 20)"
	[ "$now" = "$before" ] || fail "h1's rates changed while cut off: $before -> $now"
	kill -0 "$(cat "$T/h1.pid")" || fail "the agent of h1 exited"
	sleep 1
done
grep -q "market unreachable" "$T/h1.log" || fail "h1 did not notice the cut"
served=$(($(q "SELECT COUNT(*) FROM host_acks WHERE host = 'h2'") - acks_h2))
[ $served -ge 40 ] || fail "h2 acknowledged only $served rounds during the cut"
back_round=$(q "SELECT MAX(round) FROM rounds")
ip -n "$M" link set m1 up
reregistered() { [ "$(grep -c "registered with the market as host h1" "$T/h1.log")" -ge 2 ]; }
wait_for 20 "h1 registers again" reregistered
log "  h2 acknowledged $served rounds meanwhile; h1 missed rounds $cut_round..$back_round"
[ "$(rate "$A1" 10) $(rate "$A1" 20)" = "$before" ] || fail "the reconciliation changed h1's rates"

log "the rounds h1 missed are carried over: charged, not credited"
settled() { [ "$(q "SELECT value FROM meta WHERE key = 'settled_through'")" -ge "$back_round" ]; }
wait_for 20 "the missed rounds settled" settled
carried=$(q "SELECT COUNT(*) FROM settlements WHERE host = 'h1' AND outcome = 2")
credits=$(q "SELECT COUNT(*) FROM credits c JOIN pools p ON p.id = c.pool WHERE p.host = 'h1'")
missed=$((back_round - cut_round))
log "  $carried (round, h1) carried over of $missed missed, $credits credits"
[ "$carried" -ge $((missed - 5)) ] || fail "only $carried rounds carried over of $missed"
[ "$credits" = 0 ] || fail "$credits credits on h1: $(q "SELECT reason FROM credits LIMIT 3")"
"$B/raas" ledger check >"$T/out" || fail "raas ledger check: $(cat "$T/out")"
log "test_ops_multihost: ok"
