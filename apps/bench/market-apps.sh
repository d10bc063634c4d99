#!/bin/bash
# market-apps.sh: what running on the market costs the nom apps, in two figures.
#
#   sudo RAAS_BIN=build/bin RAAS_SOURCE_DIR=. apps/bench/market-apps.sh
#        [--changes N] [--round-ms MS] [--seconds S] [--only reaction|overhead]
#
# 1. Reaction: from the market's publish of a new bandwidth price to the app's new working
#    point (the controller applied it: its "pick" event) and to its new holding on the board
#    (its "holding" event), over --changes price changes (default 100). The real raas-marketd
#    prices a hostless bandwidth pool of h1 by a trace that alternates $1 and $12 per Gbit
#    every second; rounds of --round-ms (default 200); nom-priced; nom-memcached --instance on
#    nomnet (xdp, interrupt mode) with a two-point profile whose point changes with the price
#    (W 20 us and 53 Mbit/s at $1, W 0 and 36 Mbit/s at $12). Times are wall-clock
#    differences on this machine (the market's published_wall_ns is its own clock reading).
#    Aim: p99 below one round + 10 ms.
# 2. Overhead: each app (nom-memcached, nhttpd, nompipe) twice side by side on nomnet, the
#    same W (0), one in --instance mode (--strategy static, holding its bandwidth on a
#    hostless pool priced every round, so its controller wakes every round and every load
#    window) and one alone at a constant price (--price 1 --delay 0); nom-loadgen loads both
#    in turns of 250 ms for --seconds (default 10) with 16 connections (netpipe: one), so
#    both share the machine's moments, twice, with the targets in both orders (the first of a
#    slice pair has an edge); each ratio is the geometric mean of the two passes' ratios.
#    Ratios instance / constant: throughput (aim >= 0.98), mean and p99 latency (aim <= 1.02).
#    --calibrate runs the "instance" slot alone at a constant price too (still inside its
#    instance's namespace through nom-run): the A/A ratios it prints are this machine's noise
#    and any bias of the set-up, against which the real ratios are read.
#
# One JSON line per figure on stdout, progress on stderr (REACTION_TSV=FILE keeps the 100
# reaction times: pick ms, holding ms). Root (namespaces, XDP).
set -eu
: "${RAAS_BIN:?set RAAS_BIN to build/bin}" "${RAAS_SOURCE_DIR:?set RAAS_SOURCE_DIR to the source tree}"
CHANGES=100 ROUND_MS=200 SECONDS_LOAD=10 ONLY="" CALIBRATE=0
while [ $# -gt 0 ]; do
	case $1 in
	--changes) CHANGES=$2; shift 2 ;;
	--round-ms) ROUND_MS=$2; shift 2 ;;
	--seconds) SECONDS_LOAD=$2; shift 2 ;;
	--only) ONLY=$2; shift 2 ;;
	--calibrate) CALIBRATE=1; shift ;;
	*) echo "usage: $0 [--changes N] [--round-ms MS] [--seconds S] [--only reaction|overhead] [--calibrate]" >&2; exit 64 ;;
	esac
done
. "$RAAS_SOURCE_DIR/tests/apps-market/lib.sh"
[ "$(id -u)" = 0 ] || skip "needs root for network namespaces and XDP"
need raas-marketd raas nom-priced nom-board nom-memcached nhttpd nompipe nom-loadgen nomnet-ctl /jq /ip
log() { echo "[$(date +%T)] $*" >&2; }

# A client namespace and one server namespace per app instance, joined by veths:
# server i is 10.206.i.2 on its veth s$i (nomnet's, no kernel address), the client 10.206.i.1.
C=$P-c
ip netns add "$C" || fail "ip netns add"
NETNS="$C"
ip -n "$C" link set lo up
server_ns() { # I: makes namespace $P-s$I
	ns=$P-s$1
	ip netns add "$ns"
	NETNS="$NETNS $ns"
	ip -n "$ns" link set lo up
	ip -n "$C" link add c$1 type veth peer name s$1 netns "$ns"
	ip -n "$C" addr add 10.206.$1.1/24 dev c$1
	ip -n "$C" link set c$1 up
	ip netns exec "$ns" sh -c "echo 1 > /proc/sys/net/ipv6/conf/s$1/disable_ipv6"
	ip -n "$ns" link set s$1 up
	ip netns exec "$C" "$B/nomnet-ctl" ifprep c$1 >/dev/null
}
listening() { ip netns exec "$C" bash -c "exec 3<>/dev/tcp/$1/$2" 2>/dev/null; }
percentiles() { # FILE of numbers -> "p50 p99"
	sort -n "$1" | awk '{ v[NR] = $1 } END {
		i50 = int(NR * 0.50 + 0.999999); i99 = int(NR * 0.99 + 0.999999)
		if (i50 < 1) i50 = 1; if (i99 < 1) i99 = 1; printf "%.3f %.3f\n", v[i50], v[i99] }'
}

keys market alice bob
export RAAS_LEDGER=$T/ledger.sqlite
"$B/raas" tenant add alice --key "$T/keys/alice.pub" >/dev/null
"$B/raas" tenant add bob --key "$T/keys/bob.pub" >/dev/null
# h1's bandwidth alternates $3.6 and $43.2 per Mbit/s-hour ($1 and $12 per Gbit) every second
# (reaction); h2's stays at $3.6 (overhead).
: >"$T/bandwidth.trace"
for i in $(seq 0 $((CHANGES + 60))); do
	printf '2026-01-01 %s,%s\n' "$(date -u -d "@$i" +%H:%M:%S)" "$([ $((i % 2)) = 0 ] && echo 3.6 || echo 43.2)" \
		>>"$T/bandwidth.trace"
done
market_ini "$ROUND_MS" <<EOF
[pool.h1-bandwidth]
host = h1
resource = bandwidth
supply = 10000
model = trace
params = file=$T/bandwidth.trace, scale=1

[pool.h2-bandwidth]
host = h2
resource = bandwidth
supply = 10000
model = fixed
params = price=\$3.6
EOF
start_market "$T/market.ini"
cat >"$T/profile.csv" <<EOF
# market-apps.sh: a point per price for the reaction; W = 0 rows for the overhead
app,load,delay_us,throughput_rps,latency_us,jitter_us,bytes_per_request,source
memcached,many,0,4000,100,10,1100,bench
memcached,many,20,6000,400,40,1100,bench
nhttpd,many,0,4000,100,10,1100,bench
netpipe,single,0,4000,100,10,1100,bench
EOF
echo "hello" >"$T/index.html"
NOMNET="--driver xdp --mode interrupt"

reaction() {
	log "reaction: $CHANGES price changes, rounds of $ROUND_MS ms"
	server_ns 9
	A=$P-react
	priced_start alice "$A" subscribe=bandwidth/h1 host=h1 netns="$P-s9"
	wait_for 20 "the board fresh" board "$A" '.market == "fresh"'
	# shellcheck disable=SC2086
	"$B/nom-run" --instance "$A" -- "$B/nom-memcached" --instance "$A" \
		$NOMNET --if s9 --addr 10.206.9.2/24 --profile "$T/profile.csv" --utility refund \
		--strategy adaptive >"$T/react.log" 2>"$T/react-err.log" &
	started $!
	enough_picks() { [ "$(jq -s '[.[] | select(.event == "pick")] | length' "$T/react.log")" -gt $((CHANGES + 2)) ]; }
	wait_for $((CHANGES * 2 + 60)) "$CHANGES price changes seen" enough_picks
	# Each pick at a new price: the time from the publish to it, and to the next "holding"
	# event showing the quantity that pick asked for.
	jq -r -s '
		. as $ev | [range(0; length)] | map(select($ev[.].event == "pick")) as $ix
		| [range(1; $ix | length)] | map($ev[$ix[.]] as $p | $ev[$ix[. - 1]] as $q
			| select($p.price != $q.price)
			| ([$ev[$ix[.] + 1:][] | select(.event == "holding" and .resource == "bandwidth"
				and .quantity == $p.bandwidth_mbit)] | first) as $h
			| "\(($p.wall_ns - $p.published_wall_ns) / 1e6) \(if $h then ($h.wall_ns - $p.published_wall_ns) / 1e6 else "none" end)")
		| .[1:][]' "$T/react.log" >"$T/react.tsv"
	n=$(wc -l <"$T/react.tsv")
	[ "$n" -ge "$CHANGES" ] || fail "only $n price changes measured"
	head -n "$CHANGES" "$T/react.tsv" >"$T/react100.tsv"
	cut -d' ' -f1 "$T/react100.tsv" >"$T/pick.ms"
	grep -v none "$T/react100.tsv" | cut -d' ' -f2 >"$T/hold.ms" || true
	nh=$(wc -l <"$T/hold.ms")
	read -r p50 p99 < <(percentiles "$T/pick.ms")
	read -r h50 h99 < <(percentiles "$T/hold.ms")
	aim=$((ROUND_MS + 10))
	within=$(awk -v a=$aim '$1 <= a { n++ } END { print n + 0 }' "$T/hold.ms")
	pslow=$(awk '$1 > 10 { n++ } END { print n + 0 }' "$T/pick.ms")
	cp "$T/react100.tsv" "${REACTION_TSV:-/dev/null}" 2>/dev/null || true
	printf '{"bench":"reaction","changes":%d,"round_ms":%d,"pick_p50_ms":%s,"pick_p99_ms":%s,"picks_over_10ms":%d,"holding_p50_ms":%s,"holding_p99_ms":%s,"holdings_within_aim":%d,"holdings_seen":%d,"aim_ms":%d,"load":"%s"}\n' \
		"$CHANGES" "$ROUND_MS" "$p50" "$p99" "$pslow" "$h50" "$h99" "$within" "$nh" "$aim" \
		"$(cut -d' ' -f1-3 /proc/loadavg)"
}

# overhead N APP PROTO PORT EXTRA_APP_ARGS LOADGEN_ARGS: one line for APP, its two servers in
# namespaces s<N>1 and s<N>2.
overhead() {
	ia=${1}1 ib=${1}2 app=$2 proto=$3 port=$4 extra=$5 lg=$6
	log "overhead: $app"
	server_ns $ia
	server_ns $ib
	inst=$P-ov-$app
	priced_start bob "$inst" subscribe=bandwidth/h2 host=h2 netns="$P-s$ia"
	wait_for 20 "the board fresh" board "$inst" '.market == "fresh"'
	market="--instance $inst --profile $T/profile.csv --utility refund --strategy static"
	[ "$CALIBRATE" = 1 ] && market="--price 1" # the A/A run: both alone at a constant price
	# shellcheck disable=SC2086
	"$B/nom-run" --instance "$inst" -- "$B/$app" $market \
		$NOMNET --if s$ia --addr 10.206.$ia.2/24 --delay 0 $extra \
		>"$T/ov-$app-i.log" 2>"$T/ov-$app-i-err.log" &
	pi=$!
	started $pi
	# shellcheck disable=SC2086
	ip netns exec "$P-s$ib" "$B/$app" $NOMNET --if s$ib --addr 10.206.$ib.2/24 --price 1 \
		--delay 0 $extra >"$T/ov-$app-c.log" 2>"$T/ov-$app-c-err.log" &
	pc=$!
	started $pc
	wait_for 20 "$app (instance) listening" listening 10.206.$ia.2 "$port"
	wait_for 20 "$app (constant) listening" listening 10.206.$ib.2 "$port"
	[ "$CALIBRATE" = 1 ] || wait_for 10 "$app holds its bandwidth" \
		board "$inst" '([.holdings[] | select(.resource == "bandwidth") | .quantity] | add // 0) > 0'
	# Two passes with the targets in both orders (the first target of a slice pair has an
	# edge on a loaded machine); each figure is the geometric mean of the two passes.
	for pass in 1 2; do
		if [ $pass = 1 ]; then order="10.206.$ia.2:$port --connect 10.206.$ib.2:$port"
		else order="10.206.$ib.2:$port --connect 10.206.$ia.2:$port"; fi
		# shellcheck disable=SC2086
		ip netns exec "$C" "$B/nom-loadgen" --proto "$proto" --connect $order \
			--duration-s "$SECONDS_LOAD" --warmup-s 1 --slice-ms 250 $lg >"$T/ov-$app-$pass.json" ||
			fail "nom-loadgen against $app: $(cat "$T/ov-$app-$pass.json")"
	done
	kill "$pi" "$pc" 2>/dev/null || true
	wait "$pi" "$pc" 2>/dev/null || true
	jq -c -s --arg app "$app" --arg cal "$CALIBRATE" --arg load "$(cut -d' ' -f1-3 /proc/loadavg)" '
		def gm(a; b): ((a | log) + (b | log)) / 2 | exp;
		def r3: . * 1000 | round / 1000;
		(.[0:2] | map(select(.target == 0))[0]) as $i1 | (.[0:2] | map(select(.target == 1))[0]) as $c1
		| (.[2:4] | map(select(.target == 1))[0]) as $i2 | (.[2:4] | map(select(.target == 0))[0]) as $c2
		| {bench: (if $cal == "1" then "overhead-calibration" else "overhead" end), app: $app, w_us: 0, conns: $i1.conns, seconds_per_pass: $i1.duration_s,
		   instance_tput_rps: gm($i1.tput_rps; $i2.tput_rps) | round,
		   constant_tput_rps: gm($c1.tput_rps; $c2.tput_rps) | round,
		   tput_ratio: (gm($i1.tput_rps / $c1.tput_rps; $i2.tput_rps / $c2.tput_rps) | r3),
		   tput_ratio_passes: [($i1.tput_rps / $c1.tput_rps | r3), ($i2.tput_rps / $c2.tput_rps | r3)],
		   instance_mean_us: gm($i1.mean_us; $i2.mean_us) | r3, constant_mean_us: gm($c1.mean_us; $c2.mean_us) | r3,
		   mean_lat_ratio: (gm($i1.mean_us / $c1.mean_us; $i2.mean_us / $c2.mean_us) | r3),
		   instance_p99_us: gm($i1.p99_us; $i2.p99_us) | r3, constant_p99_us: gm($c1.p99_us; $c2.p99_us) | r3,
		   p99_lat_ratio: (gm($i1.p99_us / $c1.p99_us; $i2.p99_us / $c2.p99_us) | r3),
		   errors: ($i1.errors + $c1.errors + $i2.errors + $c2.errors), load: $load}' \
		"$T/ov-$app-1.json" "$T/ov-$app-2.json"
}

[ "$ONLY" = overhead ] || reaction
if [ "$ONLY" != reaction ]; then
	overhead 1 nom-memcached memcached 11211 "" "--conns 16 --keys 1000 --value-size 1024"
	overhead 2 nhttpd http 8080 "--root $T" "--conns 16 --path /index.html"
	overhead 3 nompipe netpipe 5002 "" "--conns 1"
fi
