#!/bin/bash
# test_nom_e2e.sh: the whole loop with real daemons. A host in network namespaces (two tenant
# veths, an uplink to a sink where iperf3 servers listen); raas-marketd prices the host's
# bandwidth from a price trace (low, then between the two apps' values, then above both);
# raas-hostagentd enforces allocations with the tc backend on the uplink; two nom instances,
# alice and bob, each with nom-priced and nom-example-bw valuing bandwidth differently.
#
#   low price     both apps acquire; the agent enforces both rates; iperf3 from each tenant
#                 measures its allocation (within 10%)
#   middle price  the price change reaches both apps; bob's value is below it: bob releases
#                 and his traffic falls to the agent's floor, alice keeps hers
#   high price    alice releases too
#   ledger        both tenants were charged; what each board shows as charged is what the
#                 ledger's invoice says; the provider's revenue is the sum of the charges
#
# Root (namespaces, tc); skipped (77) otherwise; a daemon that is not built is a failure.
set -eu
. "$(dirname "$0")/lib.sh"
need_root "network namespaces and tc"
need raas-marketd raas-hostagentd raas nom-priced nom-example-bw nom-board /jq /iperf3 /ip /tc

H=$P-host S=$P-sink
need_ok "ip netns add $H" ip netns add "$H"
NETNS="$H"
ip netns add "$S"
NETNS="$NETNS $S"
ip -n "$H" link set lo up
ip -n "$S" link set lo up
ip netns exec "$H" sysctl -qw net.ipv4.ip_forward=1
# Jumbo frames and no GSO from the tenants: the qdisc and the interfaces count the same
# packets, and a 2-core VM forwards a few hundred Mbit/s without trouble.
ip -n "$H" link add up0 mtu 9000 type veth peer name s0 mtu 9000 netns "$S"
ip -n "$H" addr add 10.204.100.1/24 dev up0
ip -n "$H" link set up0 up
ip -n "$S" addr add 10.204.100.2/24 dev s0
ip -n "$S" link set s0 up
ip -n "$S" route add 10.204.0.0/16 via 10.204.100.1
for i in 1 2; do
	ns=$P-t$i
	ip netns add "$ns"
	NETNS="$NETNS $ns"
	ip -n "$ns" link set lo up
	ip -n "$H" link add h$i mtu 9000 type veth peer name t$i mtu 9000 netns "$ns"
	ip -n "$H" addr add 10.204.$i.1/24 dev h$i
	ip -n "$H" link set h$i up
	ip -n "$ns" addr add 10.204.$i.2/24 dev t$i
	ip -n "$ns" link set t$i gso_max_segs 1
	ip -n "$ns" link set t$i up
	ip -n "$ns" route add default via 10.204.$i.1
	ip netns exec "$S" iperf3 -s -p $((5200 + i)) >"$T/iperf3-server-$i.log" 2>&1 &
	started $!
done

log "keys, tenants, host"
keys market alice bob h1
export RAAS_LEDGER=$T/ledger.sqlite
"$B/raas" tenant add alice --key "$T/keys/alice.pub" >/dev/null
"$B/raas" tenant add bob --key "$T/keys/bob.pub" >/dev/null
"$B/raas" host add h1 --key "$T/keys/h1.pub" >/dev/null

# The price of a Mbit/s for an hour, from the first round on: $0.0001 (below both values),
# $0.0003 from 30 s (between bob's $0.0002 and alice's $0.0005), $0.001 from 60 s (above both).
cat >"$T/bandwidth.trace" <<EOF
2026-01-01 00:00:00,0.0001
2026-01-01 00:00:30,0.0003
2026-01-01 00:01:00,0.001
EOF
cat >"$T/market.ini" <<EOF
[market]
tenant_endpoint = tcp://127.0.0.1:*
price_endpoint = tcp://127.0.0.1:*
host_endpoint = tcp://127.0.0.1:*
round_ms = 500
ledger = $T/ledger.sqlite
key_dir = $T/keys

[resource.bandwidth]
model = trace
params = file=$T/bandwidth.trace, scale=1
EOF
log "market"
start_market "$T/market.ini" "$H"
t0=$(date +%s)

cat >"$T/agent.ini" <<EOF
[agent]
host = h1
market = $HOSTAPI
market_public_key = $T/keys/market.pub
key = $T/keys/h1.key
heartbeat = 500ms

[capacity]
bandwidth_mbit = 300

[backends]
bandwidth = tc

[tc]
handle = 1
floor_kbit = 100

[tenant.alice]
interface = up0
class = 0x10
src = 10.204.1.2/32

[tenant.bob]
interface = up0
class = 0x20
src = 10.204.2.2/32
EOF
log "host agent"
ip netns exec "$H" "$B/raas-hostagentd" -c "$T/agent.ini" 2>>"$T/agent.log" &
started $!

A=$P-alice
Bb=$P-bob
start_priced alice "$A" "$H"
start_priced bob "$Bb" "$H"
wait_for 20 "alice's board fresh (the host registered, prices flow)" board "$A" '.market == "fresh"'
wait_for 20 "bob's board fresh" board "$Bb" '.market == "fresh"'

log "apps"
"$B/nom-example-bw" --instance "$A" --host h1 --value 0.0005 --quantity 100 >"$T/app-alice.log" &
started $!
"$B/nom-example-bw" --instance "$Bb" --host h1 --value 0.0002 --quantity 50 >"$T/app-bob.log" &
started $!

# rate_is MINOR RATE: the HTB class 1:MINOR on up0 has this rate, as tc prints it ("100Mbit").
rate_is() {
	[ "$(tc -n "$H" class show dev up0 classid "1:$1" |
		awk '{ for (i = 1; i < NF; i++) if ($i == "rate") { print $(i + 1); exit } }')" = "$2" ]
}
# iperf_pair SECONDS [UDP2]: iperf3 from both tenants at once (tenant 2 as UDP at 20 Mbit/s
# when UDP2 is "udp": a TCP sender held at the floor would take long to drain its buffers);
# sets RATE1 and RATE2, the receivers' Mbit/s.
iperf_pair() {
	extra2=""
	[ "${2:-}" = udp ] && extra2="-u -b 20M"
	ip netns exec "$P-t1" iperf3 -J -c 10.204.100.2 -p 5201 -t "$1" -O 1 >"$T/iperf-1.json" 2>&1 &
	ip1=$!
	# shellcheck disable=SC2086
	ip netns exec "$P-t2" iperf3 -J -c 10.204.100.2 -p 5202 -t "$1" -O 1 $extra2 \
		>"$T/iperf-2.json" 2>&1 &
	ip2=$!
	wait "$ip1" "$ip2" || fail "iperf3: $(cat "$T/iperf-1.json" "$T/iperf-2.json")"
	RATE1=$(jq '.end.sum_received.bits_per_second / 1e6' "$T/iperf-1.json")
	RATE2=$(jq '.end.sum_received.bits_per_second / 1e6' "$T/iperf-2.json")
}
# within VALUE TARGET PERCENT
within() {
	awk -v v="$1" -v t="$2" -v p="$3" 'BEGIN { d = v - t; if (d < 0) d = -d; exit !(d <= t * p / 100) }'
}

log "low price: both acquire, the agent enforces, traffic follows"
wait_for 20 "alice's app acquired" grep -q 'event=acquire.*result=ok' "$T/app-alice.log"
wait_for 20 "bob's app acquired" grep -q 'event=acquire.*result=ok' "$T/app-bob.log"
wait_for 10 "alice holds 100 on her board" \
	board "$A" '.holdings[] | select(.resource == "bandwidth") | .quantity == 100'
wait_for 10 "bob holds 50 on his board" \
	board "$Bb" '.holdings[] | select(.resource == "bandwidth") | .quantity == 50'
wait_for 10 "alice's class at 100 Mbit/s" rate_is 10 100Mbit
wait_for 10 "bob's class at 50 Mbit/s" rate_is 20 50Mbit
[ $(($(date +%s) - t0)) -lt 23 ] || fail "set-up took too long for the low-price phase ($(($(date +%s) - t0)) s)"
iperf_pair 4
log "measured: alice $RATE1 Mbit/s (holds 100), bob $RATE2 Mbit/s (holds 50)"
within "$RATE1" 100 10 || fail "alice's traffic $RATE1 Mbit/s is not within 10% of 100"
within "$RATE2" 50 10 || fail "bob's traffic $RATE2 Mbit/s is not within 10% of 50"

log "middle price: the change reaches both apps; bob releases"
wait_for 40 "bob's app saw \$0.0003" grep -q 'event=price.*price=\$0.0003' "$T/app-bob.log"
wait_for 10 "alice's app saw \$0.0003" grep -q 'event=price.*price=\$0.0003' "$T/app-alice.log"
[ $(($(date +%s) - t0)) -lt 50 ] || fail "the middle-price phase started too late"
wait_for 10 "bob released, saying why" \
	grep -q 'event=release price=\$0.0003 value=\$0.0002 quantity=50 result=ok reason="price above value"' \
	"$T/app-bob.log"
wait_for 10 "bob holds nothing" board "$Bb" '[.holdings[] | select(.resource == "bandwidth") | .quantity] | add // 0 | . == 0'
wait_for 10 "bob's class at the floor" rate_is 20 100Kbit
grep -q 'event=release' "$T/app-alice.log" && fail "alice released below her value"
board "$A" '.holdings[] | select(.resource == "bandwidth") | .quantity == 100' || fail "alice lost her 100"
iperf_pair 3 udp
log "measured: alice $RATE1 Mbit/s (holds 100), bob $RATE2 Mbit/s (holds 0: floor 0.1; sends 20)"
within "$RATE1" 100 10 || fail "alice's traffic $RATE1 Mbit/s is not within 10% of 100"
awk -v v="$RATE2" 'BEGIN { exit !(v < 2) }' || fail "bob still sends $RATE2 Mbit/s holding nothing"

log "high price: alice releases"
wait_for 40 "alice released, saying why" \
	grep -q 'event=release price=\$0.001 value=\$0.0005 quantity=100 result=ok reason="price above value"' \
	"$T/app-alice.log"
wait_for 10 "alice holds nothing" board "$A" '[.holdings[] | select(.resource == "bandwidth") | .quantity] | add // 0 | . == 0'
wait_for 10 "alice's class at the floor" rate_is 10 100Kbit

log "ledger"
# Nothing is held any more: once a round closes after the releases, the charges stop.
r=$(board_get "$A" .round)
wait_for 10 "two more rounds" board "$A" ".round >= $((r + 2))"
export RAAS_MARKET=$MARKET RAAS_PRICES=$PRICES RAAS_SERVER_KEY=$T/keys/market.pub
for t in alice bob; do
	"$B/raas" invoice "$t" -o json >"$T/invoice-$t.json"
done
"$B/raas" revenue -o json >"$T/revenue.json"
inv_total() { # TENANT: the invoice's total in nanodollars
	jq '[.[] | select(.kind == "total")][0].amount | tostring | tonumber * 1e9 | round' \
		"$T/invoice-$1.json"
}
ta=$(inv_total alice)
tb=$(inv_total bob)
log "invoices: alice $ta, bob $tb nanodollars"
[ "$ta" -gt 0 ] && [ "$tb" -gt 0 ] || fail "a tenant was not charged: $(cat "$T"/invoice-*.json)"
# alice held 100 Mbit/s for longer than bob held 50, and paid the middle price for it.
[ "$ta" -gt "$tb" ] || fail "alice ($ta) was not charged more than bob ($tb)"
# What nom-priced shows as charged (the market's account, then each notice) is the ledger's.
wait_for 10 "alice's board shows the ledger's charges" board "$A" ".charged_total == $ta"
wait_for 10 "bob's board shows the ledger's charges" board "$Bb" ".charged_total == $tb"
rev=$(jq '[.[] | select(.kind | startswith("total"))][0].amount | tostring | tonumber * 1e9 | round' \
	"$T/revenue.json")
[ "$rev" = $((ta + tb)) ] || fail "revenue $rev is not alice $ta + bob $tb"
"$B/nom-board" check "$A" >/dev/null && "$B/nom-board" check "$Bb" >/dev/null || fail "board invariants"
log "ok"
