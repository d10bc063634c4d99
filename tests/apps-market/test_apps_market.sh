#!/bin/bash
# test_apps_market.sh: the three nom apps bid, acquire and release bandwidth on the market,
# end to end: the real raas-marketd (bandwidth of host h1 priced by a trace: $1/Gbit, then
# $12/Gbit), raas-hostagentd with the tc backend on the host's uplink in network namespaces,
# one nom instance per app (nom-priced; the app started by nom-run in the instance's network
# namespace, on nomnet's xdp driver) and each app driven by its real client from a sink
# namespace behind the uplink: memcaslap -> nom-memcached, wrk -> nhttpd, NPtcp -> nompipe.
#
# The profile is this test's own (written below), so that what each app must do is worked
# out by hand. Traffic price P = bandwidth price per Mbit/s-hour / 3.6; need = ceil(T Mbit/s):
#   memcached (refund, alpha 20, beta 10/ms; 1,100 bytes a request)
#     W=0:  4,000 rps at 100 us: T 35.2 Mbit/s, a = 20 - 10 x 0.1 = 19
#     W=20: 6,000 rps at 400 us: T 52.8 Mbit/s, a = 16
#     P=1:  U = 0.0352 x 18 = 0.634 < 0.0528 x 15 = 0.792 -> W=20, holds 53
#     P=12: U = 0.0352 x 7 = 0.246 > 0.0528 x 4 = 0.211  -> W=0, holds 36
#   nhttpd (refund; a 16 KiB file, 16,600 bytes a request)
#     W=0:  300 rps at 300 us: T 39.84 Mbit/s, a = 17
#     W=12: 400 rps at 600 us: T 53.12 Mbit/s, a = 14
#     P=1:  U = 0.637 < 0.691 -> W=12, holds 54;  P=12: U = 0.199 > 0.106 -> W=0, holds 40
#   netpipe (bonus, alpha 8; 1 MB messages, one point W=0)
#     1.19 messages/s: T 9.52 Mbit/s, a = 8 + 0.01 / 840 ms = 8.00001
#     P=1: holds 10;  P=12 > a: releases everything (its traffic falls to the tc floor)
#
# Asserted:
#   - at $1 each app holds its need (board and tc class), and its send rate measured by the
#     tc class's byte counter over 5 s is within 10% of what it holds (its client asks more);
#   - the price step: R = the first round of $12 in the ledger; each app's pick at the new
#     price used a price of round <= R + 1, with the W above; the ledger's allocation of round
#     R + 2 is the new need; the send rate again within 10% (nompipe: under 1 Mbit/s);
#   - each tenant's charges in the ledger (invoice) equal the charged total on its board, and
#     the provider's revenue is their sum.
# Root (namespaces, tc, XDP); skipped (77) otherwise.
set -eu
. "$RAAS_SOURCE_DIR/tests/apps-market/lib.sh"
[ "$(id -u)" = 0 ] || skip "needs root for network namespaces, tc and XDP"
need raas-marketd raas-hostagentd raas nom-priced nom-board nom-run nom-memcached nhttpd \
	nompipe nomnet-ctl /jq /ip /tc /sqlite3 /memcaslap /wrk /NPtcp

STEP_S=40 # the price steps up this long after the market starts
H=$P-host S=$P-sink
ip netns add "$H" 2>/dev/null || fail "ip netns add $H"
NETNS="$H"
ip netns add "$S" || fail "ip netns add $S"
NETNS="$NETNS $S"
ip -n "$H" link set lo up
ip -n "$S" link set lo up
ip netns exec "$H" sysctl -qw net.ipv4.ip_forward=1
ip -n "$H" link add up0 type veth peer name s0 netns "$S"
ip -n "$H" addr add 10.205.100.1/24 dev up0
ip -n "$H" link set up0 up
ip -n "$S" addr add 10.205.100.2/24 dev s0
ip -n "$S" link set s0 up
ip -n "$S" route add 10.205.0.0/16 via 10.205.100.1
ip netns exec "$H" "$B/nomnet-ctl" ifprep up0 >/dev/null
ip netns exec "$S" "$B/nomnet-ctl" ifprep s0 >/dev/null
for i in 1 2 3; do
	ns=$P-t$i
	ip netns add "$ns"
	NETNS="$NETNS $ns"
	ip -n "$ns" link set lo up
	ip -n "$H" link add h$i type veth peer name t$i netns "$ns"
	ip -n "$H" addr add 10.205.$i.1/24 dev h$i
	ip -n "$H" link set h$i up
	ip netns exec "$ns" sh -c "echo 1 > /proc/sys/net/ipv6/conf/t$i/disable_ipv6"
	ip -n "$ns" link set t$i up
	ip netns exec "$H" "$B/nomnet-ctl" ifprep h$i >/dev/null
done

log "keys, tenants, host"
keys market alice bob carol h1
export RAAS_LEDGER=$T/ledger.sqlite
for t in alice bob carol; do
	"$B/raas" tenant add $t --key "$T/keys/$t.pub" >/dev/null
done
"$B/raas" host add h1 --key "$T/keys/h1.pub" >/dev/null
# $1/Gbit = $3.6 per Mbit/s-hour from the start, $12/Gbit = $43.2 from STEP_S.
printf '2026-01-01 00:00:00,3.6\n2026-01-01 00:00:%02d,43.2\n' "$STEP_S" >"$T/bandwidth.trace"
market_ini 500 <<EOF
[resource.bandwidth]
model = trace
params = file=$T/bandwidth.trace, scale=1
EOF
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
src = 10.205.1.2/32

[tenant.bob]
interface = up0
class = 0x20
src = 10.205.2.2/32

[tenant.carol]
interface = up0
class = 0x30
src = 10.205.3.2/32
EOF
ip netns exec "$H" "$B/raas-hostagentd" -c "$T/agent.ini" 2>>"$T/agent.log" &
started $!

# The instances: nom-priced in the host's namespace (the market is on its loopback), the
# apps' namespace in each one's config, where nom-run puts the app.
A=$P-mc Bn=$P-http C=$P-np
start_instance() { # TENANT INSTANCE NETNS
	INSTANCES="$INSTANCES $2"
	ip netns exec "$H" "$B/nom-priced" --check-invariants --set=priced.instance="$2" \
		--set=priced.market="$MARKET" --set=priced.prices="$PRICES" \
		--set=priced.tenant_key="$T/keys/$1.key" --set=priced.market_key="$T/keys/market.pub" \
		--set=priced.api="ipc:///tmp/$2.sock" --set=priced.subscribe=bandwidth/h1 \
		--set=priced.host=h1 --set=priced.netns="$3" 2>>"$T/priced-$1.log" &
	started $!
	wait_for 20 "the board of $2" test -e "/dev/shm/nom.$2"
}
start_instance alice "$A" "$P-t1"
start_instance bob "$Bn" "$P-t2"
start_instance carol "$C" "$P-t3"
for i in "$A" "$Bn" "$C"; do
	wait_for 20 "$i's board fresh" board "$i" '.market == "fresh"'
done

cp "$RAAS_SOURCE_DIR/tests/apps-market/profile-small.csv" "$T/profile.csv" # worked out above
mkdir -p "$T/www"
head -c 16384 /dev/urandom >"$T/www/f16k"

log "apps, inside their instances"
common="--driver xdp --mode interrupt --profile $T/profile.csv --strategy adaptive --report-ms 1000"
# shellcheck disable=SC2086
"$B/nom-run" --instance "$A" -- "$B/nom-memcached" --instance "$A" --if t1 -m 160 \
	--addr 10.205.1.2/24 --gateway 10.205.1.1 --utility refund $common \
	>"$T/app-mc.log" 2>"$T/app-mc-err.log" &
APPS=$!
started $!
# shellcheck disable=SC2086
"$B/nom-run" --instance "$Bn" -- "$B/nhttpd" --instance "$Bn" --if t2 --root "$T/www" \
	--addr 10.205.2.2/24 --gateway 10.205.2.1 --utility refund $common \
	>"$T/app-http.log" 2>"$T/app-http-err.log" &
APPS="$APPS $!"
started $!
# shellcheck disable=SC2086
"$B/nom-run" --instance "$C" -- "$B/nompipe" --instance "$C" --if t3 \
	--addr 10.205.3.2/24 --gateway 10.205.3.1 --utility bonus --alpha 8 $common \
	--start 1000000 --perturbation 0 >"$T/app-np.log" 2>"$T/app-np-err.log" &
APPS="$APPS $!" # nom-run becomes the app (exec): these are the apps' pids
started $!
listening() { # IP PORT
	ip netns exec "$S" bash -c "exec 3<>/dev/tcp/$1/$2" 2>/dev/null
}
wait_for 20 "nom-memcached listening" listening 10.205.1.2 11211
wait_for 20 "nhttpd listening" listening 10.205.2.2 8080
wait_for 20 "nompipe listening" listening 10.205.3.2 5002

log "clients"
LOAD_S=$((STEP_S + 40))
clients_t0=$(date +%s)
# A closed-loop client keeps a class backlogged only with enough bytes in flight for the
# round trip on a loaded machine: memcaslap 128 requests of 1 KiB (about 29 ms of queue at
# 36 Mbit/s; 128K keys, all in nom-memcached's 160 MiB), wrk 16 x 16.6 KB (53 ms at 40 Mbit/s),
# NPtcp 1 MB messages.
ip netns exec "$S" memcaslap -s 10.205.1.2:11211 -t ${LOAD_S}s -T 2 -c 128 -X 1024 -w 1k \
	>"$T/memcaslap.log" 2>&1 &
CLIENTS=$!
started $!
ip netns exec "$S" wrk -t 2 -c 16 -d ${LOAD_S}s http://10.205.2.2:8080/f16k >"$T/wrk.log" 2>&1 &
CLIENTS="$CLIENTS $!"
started $!
ip netns exec "$S" NPtcp -h 10.205.3.2 -l 1000000 -u 4000000 -p 0 -n 1000 \
	-o "$T/np.out" >"$T/nptcp.log" 2>&1 &
CLIENTS="$CLIENTS $!"
started $!

rate_is() { # MINOR RATE: the class's rate as tc prints it ("53Mbit")
	[ "$(tc -n "$H" class show dev up0 classid "1:$1" |
		awk '{ for (i = 1; i < NF; i++) if ($i == "rate") { print $(i + 1); exit } }')" = "$2" ]
}
rates_are() { # MBIT1 MBIT2 MBIT3: the three classes' rates (0: the 100 kbit/s floor)
	for x in 10:$1 20:$2 30:$3; do
		want=${x#*:}Mbit
		[ "$want" = 0Mbit ] && want=100Kbit
		rate_is "${x%:*}" "$want" || return 1
	done
}
holds() { # INSTANCE MBIT: the board shows this bandwidth held on h1
	board "$1" "([.holdings[] | select(.resource == \"bandwidth\") | .quantity] | add // 0) == $2"
}
# snapshot: BYTES_10, BYTES_20, BYTES_30 sent by the three classes, from one tc call, and
# SNAP_NS the time of that call (the midpoint of before and after it: on a loaded machine tc
# itself takes a while).
snapshot() {
	snap_a=$(date +%s%N)
	snap_out=$(tc -n "$H" -s class show dev up0)
	snap_b=$(date +%s%N)
	SNAP_NS=$(((snap_a + snap_b) / 2))
	read -r BYTES_10 BYTES_20 BYTES_30 < <(echo "$snap_out" | awk '
		$1 == "class" { cur = $3 } $1 == "Sent" { b[cur] = $2 }
		END { printf "%d %d %d\n", b["1:10"], b["1:20"], b["1:30"] }')
}
# measure SECONDS: RATE_10, RATE_20, RATE_30, the classes' send rates in Mbit/s.
measure() {
	snapshot
	b1=$BYTES_10 b2=$BYTES_20 b3=$BYTES_30 s=$SNAP_NS
	sleep "$1"
	snapshot
	RATE_10=$(awk -v a="$b1" -v b="$BYTES_10" -v s="$s" -v e="$SNAP_NS" 'BEGIN { printf "%.2f", (b - a) * 8e3 / (e - s) }')
	RATE_20=$(awk -v a="$b2" -v b="$BYTES_20" -v s="$s" -v e="$SNAP_NS" 'BEGIN { printf "%.2f", (b - a) * 8e3 / (e - s) }')
	RATE_30=$(awk -v a="$b3" -v b="$BYTES_30" -v s="$s" -v e="$SNAP_NS" 'BEGIN { printf "%.2f", (b - a) * 8e3 / (e - s) }')
}
within() { # VALUE TARGET PERCENT
	awk -v v="$1" -v t="$2" -v p="$3" 'BEGIN { d = v - t; if (d < 0) d = -d; exit !(d <= t * p / 100) }'
}

log "at \$1/Gbit: each holds what its point needs"
wait_for 20 "nom-memcached holds 53" holds "$A" 53
wait_for 20 "nhttpd holds 54" holds "$Bn" 54
wait_for 20 "nompipe holds 10" holds "$C" 10
wait_for 10 "the classes at 53, 54, 10 Mbit/s" rates_are 53 54 10
jq -e -s '[.[] | select(.event == "pick")] | last | .delay_us == 20' "$T/app-mc.log" >/dev/null ||
	fail "nom-memcached's W at \$1 is not 20: $(grep '"pick"' "$T/app-mc.log" | tail -1)"
jq -e -s '[.[] | select(.event == "pick")] | last | .delay_us == 12' "$T/app-http.log" >/dev/null ||
	fail "nhttpd's W at \$1 is not 12: $(grep '"pick"' "$T/app-http.log" | tail -1)"
# memcaslap first stores its keys (small replies): give the clients 8 s before measuring.
while [ $(($(date +%s) - clients_t0)) -lt 8 ]; do sleep 0.2; done
left=$((t0 + STEP_S - $(date +%s)))
[ "$left" -ge 6 ] || fail "the set-up took too long: $left s left before the step"
measure 5
log "  measured: memcached $RATE_10 (holds 53), nhttpd $RATE_20 (54), nompipe $RATE_30 (10) Mbit/s"
within "$RATE_10" 53 10 || fail "nom-memcached sends $RATE_10 Mbit/s holding 53"
within "$RATE_20" 54 10 || fail "nhttpd sends $RATE_20 Mbit/s holding 54"
within "$RATE_30" 10 10 || fail "nompipe sends $RATE_30 Mbit/s holding 10"

log "the price steps to \$12/Gbit"
POOL=$(sqlite3 "$T/ledger.sqlite" "SELECT id FROM pools WHERE host = 'h1' AND resource = 3")
step_round() {
	r=$(sqlite3 "$T/ledger.sqlite" "SELECT min(round) FROM prices WHERE pool = $POOL AND unit_price = 43200000000")
	[ -n "$r" ] && echo "$r"
}
wait_for $((STEP_S + 20)) "a round at the new price in the ledger" step_round
R=$(step_round)
log "  round $R is the first at \$43.2 per Mbit/s-hour"
# allocated TENANT ROUND: what the ledger allocated to TENANT on h1's bandwidth in ROUND.
allocated() {
	sqlite3 "$T/ledger.sqlite" "SELECT coalesce(sum(a.quantity), 0) FROM allocations a
		JOIN tenants t ON t.id = a.tenant WHERE a.round = $2 AND a.pool = $POOL AND t.name = '$1'"
}
round_done() { # ROUND: the ledger has it
	[ "$(sqlite3 "$T/ledger.sqlite" "SELECT count(*) FROM prices WHERE round = $1")" -gt 0 ]
}
wait_for 10 "round $((R + 2))" round_done $((R + 2))
for t in alice:36 bob:40 carol:0; do
	got=$(allocated "${t%:*}" $((R + 2)))
	log "  ${t%:*}: round $((R + 2)) allocates $got (wants ${t#*:}), round $((R - 1)) $(allocated "${t%:*}" $((R - 1)))"
	[ "$got" = "${t#*:}" ] || fail "${t%:*}'s allocation in round $((R + 2)) is $got, not ${t#*:}"
done
# The picks at the new price: their round, and the point.
pick_at() { # LOG: the first pick at $12
	jq -c -s '[.[] | select(.event == "pick" and .price > 11.9)] | first' "$1"
}
for x in mc:0:36 http:0:40 np:0:0; do
	IFS=: read -r app w mbit <<<"$x"
	p=$(pick_at "$T/app-$app.log")
	[ "$p" != null ] || fail "$app never picked at \$12: $(tail -3 "$T/app-$app.log")"
	log "  $app: $p"
	echo "$p" | jq -e ".round <= $R + 1 and .delay_us == $w and .bandwidth_mbit == $mbit" >/dev/null ||
		fail "$app's pick at the new price is not W=$w, $mbit Mbit/s from a round <= $((R + 1))"
done
# Each app's controller reports its pick (profit rate and W) through nom-priced; the market's
# /api/tenants shows the latest (docs/dashboards.md).
HTTP=$(sed -n 's/^http_endpoint=//p' "$T/ready")
reported_is_last_pick() { # TENANT LOG
	last=$(jq -c -s '[.[] | select(.event == "pick")] | last | [.delay_us * 1000, .utility * 3600e9]' "$2")
	ip netns exec "$H" curl -sf "$HTTP/api/tenants" | jq -e --arg t "$1" --argjson p "$last" \
		'.tenants[] | select(.name == $t) | .apps | length == 1 and .[0].w_ns == ($p[0] | round) and
		 ((.[0].profit_per_hour_nd - $p[1]) | if . < 0 then -. else . end) <= 1e-5 * ($p[1] | if . < 0 then -. else . end) + 1'
}
for x in alice:mc bob:http carol:np; do
	wait_for 10 "${x%:*}'s last pick as the market's reported profit and W" reported_is_last_pick "${x%:*}" "$T/app-${x#*:}.log"
	log "  ${x%:*}: reported $(ip netns exec "$H" curl -sf "$HTTP/api/tenants" | jq -c --arg t "${x%:*}" '.tenants[] | select(.name == $t) | .apps')"
done
wait_for 10 "the classes at 36, 40 Mbit/s and the floor" rates_are 36 40 0
sleep 1
measure 5
log "  measured: memcached $RATE_10 (holds 36), nhttpd $RATE_20 (40), nompipe $RATE_30 (0: floor 0.1) Mbit/s"
within "$RATE_10" 36 10 || fail "nom-memcached sends $RATE_10 Mbit/s holding 36"
within "$RATE_20" 40 10 || fail "nhttpd sends $RATE_20 Mbit/s holding 40"
awk -v v="$RATE_30" 'BEGIN { exit !(v < 1) }' || fail "nompipe sends $RATE_30 Mbit/s holding nothing"

log "ledger: what the boards show charged is what the ledger charged"
# The clients stop; the apps, stopped, release everything (the charges stop a round after).
for pid in $CLIENTS; do kill "$pid" 2>/dev/null || true; done
for pid in $APPS; do kill -TERM "$pid" 2>/dev/null || true; done
for i in "$A" "$Bn" "$C"; do
	wait_for 10 "$i holds nothing" holds "$i" 0
done
r=$(board_get "$A" .round)
wait_for 10 "two more rounds" board "$A" ".round >= $((r + 2))"
export RAAS_MARKET=$MARKET RAAS_PRICES=$PRICES RAAS_SERVER_KEY=$T/keys/market.pub
total=0
for x in alice:$A bob:$Bn carol:$C; do
	t=${x%%:*} inst=${x#*:}
	ip netns exec "$H" "$B/raas" invoice "$t" -o json >"$T/invoice-$t.json"
	amount=$(jq '[.[] | select(.kind == "total")][0].amount | tostring | tonumber * 1e9 | round' \
		"$T/invoice-$t.json")
	[ "$amount" -gt 0 ] || fail "$t was not charged: $(cat "$T/invoice-$t.json")"
	wait_for 10 "$t's board shows the ledger's $amount" board "$inst" ".charged_total == $amount"
	log "  $t: invoice $amount nanodollars = board"
	total=$((total + amount))
done
ip netns exec "$H" "$B/raas" revenue -o json >"$T/revenue.json"
rev=$(jq '[.[] | select(.kind | startswith("total"))][0].amount | tostring | tonumber * 1e9 | round' \
	"$T/revenue.json")
[ "$rev" = "$total" ] || fail "revenue $rev is not the tenants' $total"
for i in "$A" "$Bn" "$C"; do "$B/nom-board" check "$i" >/dev/null || fail "board invariants of $i"; done
log "ok"
