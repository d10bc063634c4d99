#!/bin/bash
# profile.sh: measures the nom apps' working points per batching delay, and nom against Linux.
#
#   sudo apps/bench/profile.sh [--quick] [--out DIR] [--mode interrupt|poll]
#                              [--driver xdp|packet|tap]
#
# In network namespaces (a client namespace, one for the nom apps on nomnet, one for the
# kernel-socket servers), for each batching delay W (0, 2, ..., 40 us; --quick: 0, 10, 20, 40):
#   nom-memcached  memcaslap with 16 clients and with one; nom-loadgen with 16 connections and
#                  one (per-request latency: mean, jitter, p99; memcaslap gives none without
#                  slowing itself down several-fold)
#   nhttpd         wrk with 32 connections and with one; nom-loadgen likewise (wrk's latency
#                  figures contradict its own request rate on this VM)
#   nompipe        an NPtcp sweep (to 1 MiB; --quick: 64 KiB) and nom-loadgen's 1-byte
#                  NetPIPE ping-pong (NPtcp's first size) for jitter and p99
# It writes profile CSVs in the econ format (docs/profiles.md) into DIR (default
# /tmp/nom-profile-<date>): memcached.csv, nhttpd.csv, netpipe.csv and profile.csv (all, with
# the Linux baselines as apps "memcached-linux", "nhttpd-linux", "netpipe-linux"), prints
# every measurement and the Pareto frontier of each app and load (nom-profit frontier).
# Then, with the same clients: Debian's memcached (-t 1: one worker, as nom-memcached has one
# loop) and nom-memcached over kernel sockets; nhttpd over kernel sockets; NPtcp's own
# receiver and nompipe over kernel sockets. It prints the nom/Linux ratios: throughput under
# many clients (nom at its best delay / Linux), mean and p99 latency with one client (Linux /
# nom at its lowest-latency delay), so that above 1 means nom is better. Linux is Debian's
# memcached, nhttpd on kernel sockets, and NPtcp's receiver. The last line is one JSON
# object: <app>_tput_ratio, <app>_mean_lat_ratio, <app>_p99_lat_ratio and <app>_frontier
# (the frontier delays per load level) for memcached, nhttpd and netpipe.
set -u
HERE=$(cd "$(dirname "$0")" && pwd)
export RAAS_SOURCE_DIR="${RAAS_SOURCE_DIR:-$(cd "$HERE/../.." && pwd)}"
export RAAS_BIN="${RAAS_BIN:-$RAAS_SOURCE_DIR/build/bin}"
. "$RAAS_SOURCE_DIR/apps/tests/lib.sh"

QUICK=0
MODE=interrupt
DRIVER=xdp
OUT="/tmp/nom-profile-$(date +%Y%m%d-%H%M%S)"
while [ $# -gt 0 ]; do
	case $1 in
	--quick) QUICK=1 ;;
	--out) OUT=$2; shift ;;
	--mode) MODE=$2; shift ;;
	--driver) DRIVER=$2; shift ;;
	*) echo "usage: profile.sh [--quick] [--out DIR] [--mode interrupt|poll] [--driver xdp|packet|tap]" >&2; exit 64 ;;
	esac
	shift
done
if [ "$(id -u)" != 0 ]; then
	echo "profile.sh: needs root (network namespaces)" >&2
	exit 77
fi
for tool in memcached memcaslap wrk NPtcp; do
	command -v $tool >/dev/null || { echo "profile.sh: $tool is not installed (scripts/install-deps)" >&2; exit 69; }
done
for b in nom-memcached nhttpd nompipe nom-loadgen nom-profit nomnet-ctl; do
	[ -x "$RAAS_BIN/$b" ] || { echo "profile.sh: $RAAS_BIN/$b is missing (make build)" >&2; exit 69; }
done

if [ $QUICK = 1 ]; then
	DELAYS="0 10 20 40"
	T=2
	NP_MAX=1048576
	NP_ARGS="-n 50" # 50 ping-pongs per size and trial instead of ~0.25 s
else
	DELAYS=$(seq 0 2 40)
	T=5
	NP_MAX=1048576
	NP_ARGS=""
fi
mkdir -p "$OUT/raw"
RES="$OUT/results.tsv" # app level delay source tput_rps mean_us jitter_us p99_us bytes
: >"$RES"
P="pf$$"
trap 'netns_cleanup' EXIT INT TERM
app_star "$P" 10.80 2 || exit 1
NSC=$APP_NSC
NSN=${APP_NSS_I[1]} NIF=${APP_SIF_I[1]} NIP=${APP_SIP_I[1]}
NSK=${APP_NSS_I[2]} KIF=${APP_SIF_I[2]} KIP=${APP_SIP_I[2]}
ip netns exec "$NSK" ip addr add "$KIP/24" dev "$KIF"
WWW="$OUT/www"
mkdir -p "$WWW"
head -c 1024 /dev/urandom | base64 -w 0 | head -c 1024 >"$WWW/index.html"

echo "profile.sh: $(nproc) CPUs, load $(cut -d' ' -f1-3 /proc/loadavg); nomnet $DRIVER driver, $MODE mode; results in $OUT"

record() { # app level delay source tput mean jitter p99 bytes
	printf '%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\n' "$@" >>"$RES"
	printf '  %-16s %-7s W=%-3s %-10s %10.0f/s mean %8.1f us  jitter %8.1f us  p99 %8.1f us\n' \
		"$1" "$2" "$3" "$4" "$5" "$6" "$7" "$8"
}

jf() { sed -n "s/.*\"$1\":\([-0-9.e+]*\).*/\1/p" | tail -1; }

# Unit-aware wrk numbers: "30.12us", "1.20ms", "2.00s" -> microseconds.
to_us() {
	awk -v v="$1" 'BEGIN { n = v + 0; if (v ~ /us$/) print n; else if (v ~ /ms$/) print n * 1000;
		else if (v ~ /s$/) print n * 1e6; else print n }'
}

# spawn NS ARGS...: starts a server; sets SRV.
spawn() {
	local ns=$1
	shift
	netns_spawn "$ns" "$@" >>"$OUT/servers.log" 2>&1
	SRV=$NETNS_LAST_PID
}

wait_port() { netns_wait_tcp "$NSC" "$1" "$2" 20 || { tail "$OUT/servers.log"; exit 1; }; }

nom_args() { echo "--driver $DRIVER --if $NIF --addr $NIP/24 --mode $MODE --delay $1"; }

memcached_runs() { # APP DELAY IP PORT
	local out
	out=$(ip netns exec "$NSC" memcaslap -s "$3:$4" -T 2 -c 16 -t "${T}s" 2>&1)
	echo "$out" >"$OUT/raw/memcaslap-$1-many-$2.txt"
	record "$1" many "$2" memcaslap "$(echo "$out" | sed -n 's/.*TPS: \([0-9]*\).*/\1/p')" 0 0 0 0
	out=$(ip netns exec "$NSC" memcaslap -s "$3:$4" -T 1 -c 1 -t "${T}s" 2>&1)
	echo "$out" >"$OUT/raw/memcaslap-$1-single-$2.txt"
	record "$1" single "$2" memcaslap "$(echo "$out" | sed -n 's/.*TPS: \([0-9]*\).*/\1/p')" 0 0 0 0
	for lv in many single; do
		local c=16
		[ $lv = single ] && c=1
		out=$(ip netns exec "$NSC" "$RAAS_BIN/nom-loadgen" --proto memcached --connect "$3:$4" \
			--conns $c --duration-s "$T" --warmup-s 0.5)
		record "$1" $lv "$2" loadgen "$(echo "$out" | jf tput_rps)" "$(echo "$out" | jf mean_us)" \
			"$(echo "$out" | jf jitter_us)" "$(echo "$out" | jf p99_us)" \
			"$(echo "$out" | jf bytes_per_request)"
	done
}

wrk_runs() { # APP DELAY IP PORT
	for lv in many single; do
		local c=32 t=2 out rps tr bytes
		[ $lv = single ] && c=1 t=1
		out=$(ip netns exec "$NSC" wrk -t $t -c $c -d "${T}s" "http://$3:$4/index.html" 2>&1)
		echo "$out" >"$OUT/raw/wrk-$1-$lv-$2.txt"
		rps=$(echo "$out" | sed -n 's/^Requests\/sec: *\([0-9.]*\).*/\1/p')
		tr=$(echo "$out" | awk '/^Transfer\/sec:/ { v = $2 + 0; if ($2 ~ /GB$/) v *= 2^30;
			else if ($2 ~ /MB$/) v *= 2^20; else if ($2 ~ /KB$/) v *= 2^10; print v }')
		bytes=$(awk -v t="${tr:-0}" -v r="${rps:-0}" 'BEGIN { if (r > 0) printf "%.0f", t / r; else print 0 }')
		record "$1" $lv "$2" wrk "${rps:-0}" 0 0 0 "$bytes"
		# wrk's own latency figures are not consistent with its request rate on this VM
		# (with one connection at 20,000 requests/s it reports a 500 us mean): latency
		# comes from nom-loadgen, which times every request.
		out=$(ip netns exec "$NSC" "$RAAS_BIN/nom-loadgen" --proto http --path /index.html \
			--connect "$3:$4" --conns $c --duration-s "$T" --warmup-s 0.5)
		record "$1" $lv "$2" loadgen "$(echo "$out" | jf tput_rps)" "$(echo "$out" | jf mean_us)" \
			"$(echo "$out" | jf jitter_us)" "$(echo "$out" | jf p99_us)" \
			"$(echo "$out" | jf bytes_per_request)"
	done
}

netpipe_sweep() { # APP DELAY IP PORT: NPtcp's sweep; the bulk row and the 1-byte row
	local f="$OUT/np-$1-$2.out" one best
	(cd "$OUT" && ip netns exec "$NSC" timeout 300 NPtcp -h "$3" -P "$4" -u "$NP_MAX" $NP_ARGS \
		-o "$f" >"$OUT/raw/nptcp-$1-$2.txt" 2>&1) || echo "  (NPtcp against $1 exited with an error)"
	# Columns: bytes, Mbps, half round trip (s). Bulk: the size with the best bandwidth.
	one=$(awk 'NR==1 {print $3 * 2e6}' "$f")
	best=$(awk '$2 > m {m = $2; s = $1; t = $3} END {print s, m, t * 2e6}' "$f")
	record "$1" bulk "$2" NPtcp "$(echo "$best" | awk '{print $2 * 1e6 / 8 / $1}')" \
		"$(echo "$best" | awk '{print $3}')" 0 0 "$(echo "$best" | awk '{print $1}')"
	record "$1" single "$2" NPtcp-1B "$(awk -v u="$one" 'BEGIN {print 1e6 / u}')" "$one" 0 0 1
}

netpipe_pingpong() { # APP DELAY IP PORT: nom-loadgen's 1-byte ping-pong
	local out
	out=$(ip netns exec "$NSC" "$RAAS_BIN/nom-loadgen" --proto netpipe --connect "$3:$4" \
		--duration-s "$T" --warmup-s 0.5)
	record "$1" single "$2" loadgen "$(echo "$out" | jf tput_rps)" "$(echo "$out" | jf mean_us)" \
		"$(echo "$out" | jf jitter_us)" "$(echo "$out" | jf p99_us)" 1
}

echo "== nom apps on nomnet, W in $(echo $DELAYS)"
for w in $DELAYS; do
	spawn "$NSN" "$RAAS_BIN/nom-memcached" $(nom_args "$w")
	wait_port "$NIP" 11211
	memcached_runs memcached "$w" "$NIP" 11211
	netns_stop "$SRV"
	spawn "$NSN" "$RAAS_BIN/nhttpd" --root "$WWW" $(nom_args "$w")
	wait_port "$NIP" 8080
	wrk_runs nhttpd "$w" "$NIP" 8080
	netns_stop "$SRV"
	spawn "$NSN" "$RAAS_BIN/nompipe" $(nom_args "$w")
	wait_port "$NIP" 5002
	netpipe_sweep netpipe "$w" "$NIP" 5002
	netpipe_pingpong netpipe "$w" "$NIP" 5002
	netns_stop "$SRV"
done

echo "== Linux: the same clients against kernel TCP"
spawn "$NSK" memcached -u root -l "$KIP" -p 11211 -U 0 -t 1 -m 64
wait_port "$KIP" 11211
memcached_runs memcached-linux 0 "$KIP" 11211
netns_stop "$SRV"
spawn "$NSK" "$RAAS_BIN/nom-memcached" --stack kernel --bind "$KIP"
wait_port "$KIP" 11211
memcached_runs memcached-kernel 0 "$KIP" 11211
netns_stop "$SRV"
spawn "$NSK" "$RAAS_BIN/nhttpd" --root "$WWW" --stack kernel --bind "$KIP"
wait_port "$KIP" 8080
wrk_runs nhttpd-linux 0 "$KIP" 8080
netns_stop "$SRV"
# NPtcp's receiver serves one session and exits: one instance per client run. (No probe
# connection first: it would be that session.)
for part in sweep pingpong; do
	cd "$OUT" || exit 1
	netns_spawn "$NSK" NPtcp -P 5002 >/dev/null 2>&1
	cd - >/dev/null || exit 1
	sleep 1
	netpipe_$part netpipe-linux 0 "$KIP" 5002
	netns_stop "$NETNS_LAST_PID"
done
spawn "$NSK" "$RAAS_BIN/nompipe" --stack kernel --bind "$KIP" --port 5003
wait_port "$KIP" 5003
netpipe_sweep netpipe-kernel 0 "$KIP" 5003
netpipe_pingpong netpipe-kernel 0 "$KIP" 5003
netns_stop "$SRV"

# Profile CSVs: the nom-loadgen rows (memcached, netpipe 1-byte), wrk rows (nhttpd) and
# NPtcp's bulk rows, per app, in the econ format.
hdr="app,load,delay_us,throughput_rps,latency_us,jitter_us,bytes_per_request,source"
{
	echo "# nom profile measured by apps/bench/profile.sh on $(date -u +%FT%TZ)"
	echo "# $(nproc) CPUs (no KVM, shared), nomnet $DRIVER driver, $MODE mode. Rows from nom-loadgen"
	echo "# (memcached: 16 connections = many, 1 = single; nhttpd: 32 / 1; netpipe: the 1-byte"
	echo "# NetPIPE ping-pong = single) and NPtcp's best size (netpipe bulk)."
	echo "$hdr"
	awk -F'\t' '($4 == "loadgen" || ($4 == "NPtcp" && $2 == "bulk")) &&
		$5 > 0 && $6 > 0 {
		printf "%s,%s,%s,%s,%s,%s,%s,%s\n", $1, $2, $3, $5, $6, $7, ($9 > 0 ? $9 : 1), $4 }' "$RES"
} >"$OUT/profile.csv"
for app in memcached nhttpd netpipe; do
	{ grep '^#' "$OUT/profile.csv"; echo "$hdr"; grep "^$app," "$OUT/profile.csv"; } >"$OUT/$app.csv"
done
echo "== profiles: $OUT/profile.csv"
echo "== Pareto frontier (delays, us; throughput up, latency down)"
"$RAAS_BIN/nom-profit" frontier --profile "$OUT/profile.csv" | grep -v -e '-linux' -e '-kernel' | tee "$OUT/frontier.txt"

# Ratios. nom: the best delay for each figure; Linux: its one configuration.
val() { # APP LEVEL SOURCE COLUMN(5 tput,6 mean,8 p99) best(max|min) -> value (and its delay)
	awk -F'\t' -v a="$1" -v l="$2" -v s="$3" -v c="$4" -v b="$5" '
		$1 == a && $2 == l && $4 == s && $c > 0 {
			if (n == 0 || (b == "max" && $c > v) || (b == "min" && $c < v)) { v = $c; d = $3 }
			n++ }
		END { if (n) print v, d; else print "nan nan" }' "$RES"
}
# p99 at the delay with the lowest mean latency.
p99_at_best_mean() { # APP LEVEL SOURCE
	local d
	d=$(val "$1" "$2" "$3" 6 min | cut -d' ' -f2)
	awk -F'\t' -v a="$1" -v l="$2" -v s="$3" -v d="$d" '$1 == a && $2 == l && $4 == s && $3 == d {print $8; exit}' "$RES"
}
ratio() { awk -v x="$1" -v y="$2" 'BEGIN { if (x + 0 > 0 && y + 0 > 0) printf "%.3f", x / y; else print "null" }'; }
frontier_json() { # APP -> {"many":[..],"single":[..]}
	awk -v a="$1" '$1 == a { printf "%s\"%s\":[%s]", (n++ ? "," : ""), $2, $3 } END { if (!n) printf "" }' \
		"$OUT/frontier.txt" | sed 's/^/{/; s/$/}/'
}

MC_T=$(ratio "$(val memcached many memcaslap 5 max | cut -d' ' -f1)" "$(val memcached-linux many memcaslap 5 max | cut -d' ' -f1)")
MC_M=$(ratio "$(val memcached-linux single loadgen 6 min | cut -d' ' -f1)" "$(val memcached single loadgen 6 min | cut -d' ' -f1)")
MC_P=$(ratio "$(p99_at_best_mean memcached-linux single loadgen)" "$(p99_at_best_mean memcached single loadgen)")
HT_T=$(ratio "$(val nhttpd many wrk 5 max | cut -d' ' -f1)" "$(val nhttpd-linux many wrk 5 max | cut -d' ' -f1)")
HT_M=$(ratio "$(val nhttpd-linux single loadgen 6 min | cut -d' ' -f1)" "$(val nhttpd single loadgen 6 min | cut -d' ' -f1)")
HT_P=$(ratio "$(p99_at_best_mean nhttpd-linux single loadgen)" "$(p99_at_best_mean nhttpd single loadgen)")
NP_T=$(ratio "$(val netpipe bulk NPtcp 5 max | cut -d' ' -f1)" "$(val netpipe-linux bulk NPtcp 5 max | cut -d' ' -f1)")
NP_M=$(ratio "$(val netpipe-linux single NPtcp-1B 6 min | cut -d' ' -f1)" "$(val netpipe single NPtcp-1B 6 min | cut -d' ' -f1)")
NP_P=$(ratio "$(p99_at_best_mean netpipe-linux single loadgen)" "$(p99_at_best_mean netpipe single loadgen)")
# The same app code over kernel sockets, for reference.
MK_T=$(ratio "$(val memcached many memcaslap 5 max | cut -d' ' -f1)" "$(val memcached-kernel many memcaslap 5 max | cut -d' ' -f1)")
MK_M=$(ratio "$(val memcached-kernel single loadgen 6 min | cut -d' ' -f1)" "$(val memcached single loadgen 6 min | cut -d' ' -f1)")
NK_T=$(ratio "$(val netpipe bulk NPtcp 5 max | cut -d' ' -f1)" "$(val netpipe-kernel bulk NPtcp 5 max | cut -d' ' -f1)")
NK_M=$(ratio "$(val netpipe-kernel single NPtcp-1B 6 min | cut -d' ' -f1)" "$(val netpipe single NPtcp-1B 6 min | cut -d' ' -f1)")

echo "== nom / Linux (above 1: nom is better)"
printf '  memcached  throughput %s (memcaslap, 16 clients)  mean latency %s  p99 %s (one connection)\n' "$MC_T" "$MC_M" "$MC_P"
printf '  nhttpd     throughput %s (wrk, 32 connections)    mean latency %s  p99 %s (one connection)\n' "$HT_T" "$HT_M" "$HT_P"
printf '  netpipe    bandwidth  %s (NPtcp, best size)        1-byte latency %s  p99 %s (1-byte ping-pong)\n' "$NP_T" "$NP_M" "$NP_P"
printf '  vs the same app code on kernel sockets: memcached throughput %s, mean latency %s; netpipe bandwidth %s, latency %s\n' "$MK_T" "$MK_M" "$NK_T" "$NK_M"
printf '{"memcached_tput_ratio":%s,"memcached_mean_lat_ratio":%s,"memcached_p99_lat_ratio":%s,"memcached_frontier":%s,"nhttpd_tput_ratio":%s,"nhttpd_mean_lat_ratio":%s,"nhttpd_p99_lat_ratio":%s,"nhttpd_frontier":%s,"netpipe_tput_ratio":%s,"netpipe_mean_lat_ratio":%s,"netpipe_p99_lat_ratio":%s,"netpipe_frontier":%s}\n' \
	"$MC_T" "$MC_M" "$MC_P" "$(frontier_json memcached)" "$HT_T" "$HT_M" "$HT_P" "$(frontier_json nhttpd)" \
	"$NP_T" "$NP_M" "$NP_P" "$(frontier_json netpipe)"
