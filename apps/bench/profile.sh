#!/bin/bash
# profile.sh: measures the nom apps' working points per batching delay, and nom against Linux.
#
#   sudo apps/bench/profile.sh [--quick] [--no-peers] [--out DIR] [--mode interrupt|poll]
#                              [--driver xdp|packet|tap] [--core-price C]
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
# At W = 0 each app is also measured with one connection at each busy-poll budget (SPINS, 20,
# 50, 100, 200 us; --quick: 50, 100): the rows carry spin_us, and every nom-loadgen row carries
# the server's CPU per request (user + system time of all its threads over the requests), so
# that libnom's controller can weigh a budget against the core it burns (docs/profiles.md).
# It writes profile CSVs in the econ format (docs/profiles.md) into DIR (default
# /tmp/nom-profile-<date>): memcached.csv, nhttpd.csv, netpipe.csv and profile.csv (all, with
# the baselines as apps "*-linux" and "*-kernel"), prints every measurement and the Pareto
# frontier of each app and load level (nom-profit frontier).
# Then nom against Linux, head to head: each app at its best delays from the sweep (for
# latency, also at the point `nom-profit pick` buys with cores at CORE_PRICE $/core-hour,
# --core-price, default 1, under the bonus utility) against
# Debian's memcached (-t 1: one worker, as nom-memcached has one loop), nhttpd on kernel
# sockets and NPtcp's own receiver (and nom-memcached and nompipe on kernel sockets, the same
# code), in alternating rounds with the standard clients (memcaslap 16 clients, wrk 32
# connections, NPtcp sweeps) for throughput, and with nom-loadgen loading nom and Linux in
# turns of 250 ms for latency with one connection: a shared VM's speed drifts by 2x within
# minutes, and only interleaving keeps that out of the ratios. It prints the ratios (medians
# of the rounds) nom/Linux for throughput and Linux/nom for mean and p99 latency, so that
# above 1 means nom is better. The last line is one JSON object: <app>_tput_ratio,
# <app>_mean_lat_ratio, <app>_p99_lat_ratio and <app>_frontier (the frontier delays per load
# level) for memcached, nhttpd and netpipe, and (unless --no-peers) "peers": apps/bench/peers.sh's
# object, nom against each real peer with the CPU per request of every contender.
set -u
HERE=$(cd "$(dirname "$0")" && pwd)
export RAAS_SOURCE_DIR="${RAAS_SOURCE_DIR:-$(cd "$HERE/../.." && pwd)}"
export RAAS_BIN="${RAAS_BIN:-$RAAS_SOURCE_DIR/build/bin}"
. "$RAAS_SOURCE_DIR/apps/tests/lib.sh"

QUICK=0
PEERS=1
MODE=interrupt
DRIVER=xdp
CORE_PRICE=1
OUT="/tmp/nom-profile-$(date +%Y%m%d-%H%M%S)"
while [ $# -gt 0 ]; do
	case $1 in
	--quick) QUICK=1 ;;
	--no-peers) PEERS=0 ;;
	--out) OUT=$2; shift ;;
	--mode) MODE=$2; shift ;;
	--driver) DRIVER=$2; shift ;;
	--core-price) CORE_PRICE=$2; shift ;;
	*) echo "usage: profile.sh [--quick] [--no-peers] [--out DIR] [--mode interrupt|poll] [--driver xdp|packet|tap] [--core-price C]" >&2; exit 64 ;;
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
	SPINS="50 100"
	T=2
	NP_MAX=1048576
	NP_ARGS="-n 50" # 50 ping-pongs per size and trial instead of ~0.25 s
else
	DELAYS=$(seq 0 2 40)
	SPINS="20 50 100 200"
	T=5
	NP_MAX=1048576
	NP_ARGS=""
fi
mkdir -p "$OUT/raw"
RES="$OUT/results.tsv" # app level delay source tput_rps mean_us jitter_us p99_us bytes spin_us cpu_us_per_request
: >"$RES"
P="pf$$"
trap 'netns_cleanup' EXIT INT TERM
app_star "$P" 10.80 3 || exit 1
NSC=$APP_NSC
NSN=${APP_NSS_I[1]} NIF=${APP_SIF_I[1]} NIP=${APP_SIP_I[1]}
NSN2=${APP_NSS_I[2]} NIF2=${APP_SIF_I[2]} NIP2=${APP_SIP_I[2]}
NSK=${APP_NSS_I[3]} KIF=${APP_SIF_I[3]} KIP=${APP_SIP_I[3]}
ip netns exec "$NSK" ip addr add "$KIP/24" dev "$KIF"
WWW="$OUT/www"
mkdir -p "$WWW"
head -c 1024 /dev/urandom | base64 -w 0 | head -c 1024 >"$WWW/index.html"

echo "profile.sh: $(nproc) CPUs, load $(cut -d' ' -f1-3 /proc/loadavg); nomnet $DRIVER driver, $MODE mode; results in $OUT"

# SPIN (the server's busy-poll budget) and CPU (its CPU per request) go with the next record.
SPIN=0 CPU=0
record() { # app level delay source tput mean jitter p99 bytes
	printf '%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\n' "$@" "$SPIN" "$CPU" >>"$RES"
	printf '  %-16s %-7s W=%-3s %-10s %10.0f/s mean %8.1f us  jitter %8.1f us  p99 %8.1f us' \
		"$1" "$2" "$3" "$4" "$5" "$6" "$7" "$8"
	[ "$SPIN" != 0 ] && printf '  spin %s us' "$SPIN"
	[ "$CPU" != 0 ] && printf '  cpu %s us/req' "$CPU"
	printf '\n'
	CPU=0
}


# loadgen_row APP LEVEL DELAY ARGS...: nom-loadgen (ARGS) against the server SRV from the client
# namespace, recorded as a "loadgen" row with the server's CPU per request.
loadgen_row() {
	local app=$1 lv=$2 d=$3 t0 out
	shift 3
	t0=$(ticks "$SRV")
	out=$(ip netns exec "$NSC" "$RAAS_BIN/nom-loadgen" --duration-s "$T" --warmup-s 0.5 "$@")
	CPU=$(cpu_us_per_request "$t0" "$(ticks "$SRV")" "$(echo "$out" | jf requests)" "$T" 0.5)
	record "$app" "$lv" "$d" loadgen "$(echo "$out" | jf tput_rps)" "$(echo "$out" | jf mean_us)" \
		"$(echo "$out" | jf jitter_us)" "$(echo "$out" | jf p99_us)" "$(echo "$out" | jf bytes_per_request)"
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
nom_args2() { echo "--driver $DRIVER --if $NIF2 --addr $NIP2/24 --mode $MODE --delay $1"; }

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
		loadgen_row "$1" $lv "$2" --proto memcached --connect "$3:$4" --conns $c
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
		loadgen_row "$1" $lv "$2" --proto http --path /index.html --connect "$3:$4" --conns $c
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
	loadgen_row "$1" single "$2" --proto netpipe --connect "$3:$4"
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

# ---- the busy-poll budget at W = 0, one connection ------------------------------------------
echo "== busy-poll budgets $(echo $SPINS) us at W = 0, one connection"
for SPIN in $SPINS; do
	spawn "$NSN" "$RAAS_BIN/nom-memcached" $(nom_args 0) --spin-us "$SPIN"
	wait_port "$NIP" 11211
	loadgen_row memcached single 0 --proto memcached --connect "$NIP:11211" --conns 1
	netns_stop "$SRV"
	spawn "$NSN" "$RAAS_BIN/nhttpd" --root "$WWW" $(nom_args 0) --spin-us "$SPIN"
	wait_port "$NIP" 8080
	loadgen_row nhttpd single 0 --proto http --path /index.html --connect "$NIP:8080" --conns 1
	netns_stop "$SRV"
	spawn "$NSN" "$RAAS_BIN/nompipe" $(nom_args 0) --spin-us "$SPIN"
	wait_port "$NIP" 5002
	netpipe_pingpong netpipe 0 "$NIP" 5002
	netns_stop "$SRV"
done
SPIN=0

# ---- nom against Linux, head to head --------------------------------------------------
# A shared VM's speed drifts by 2x within minutes, so nom and Linux are compared in rounds
# that alternate between them, each nom app at its best delay from the sweep above, and
# latency with nom-loadgen loading nom and Linux in turns of 250 ms within one run.
val() { # APP LEVEL SOURCE COLUMN(5 tput, 6 mean, 8 p99) max|min -> "value delay"
	awk -F'\t' -v a="$1" -v l="$2" -v s="$3" -v c="$4" -v b="$5" '
		$1 == a && $2 == l && $4 == s && $c > 0 {
			if (n == 0 || (b == "max" && $c > v) || (b == "min" && $c < v)) { v = $c; d = $3 }
			n++ }
		END { if (n) print v, d; else print "nan 0" }' "$RES"
}
median() { # APP LEVEL SOURCE COLUMN [DELAY-REGEX] -> the median over the rounds
	awk -F'\t' -v a="$1" -v l="$2" -v s="$3" -v c="$4" -v d="${5:-.}" '$1 == a && $2 == l && $4 == s && $3 ~ d && $c > 0 { x[n++] = $c }
		END { if (!n) { print "nan"; exit }
			for (i = 0; i < n; i++) for (j = i + 1; j < n; j++) if (x[j] < x[i]) { t = x[i]; x[i] = x[j]; x[j] = t }
			print (n % 2 ? x[int(n / 2)] : (x[n / 2 - 1] + x[n / 2]) / 2) }' "$RES"
}
bestw() { val "$@" | cut -d' ' -f2; }

# Profile CSVs (econ format): the sweep's nom-loadgen rows and NPtcp's bulk rows for the nom
# apps; the head-to-head rows for the Linux and kernel-socket baselines (one per level). Written
# once before the head-to-head (to pick from) and again at the end, with the baselines.
hdr="app,load,delay_us,spin_us,throughput_rps,latency_us,jitter_us,bytes_per_request,cpu_us_per_request,source"
write_profiles() {
	{
		echo "# nom profile measured by apps/bench/profile.sh on $(date -u +%FT%TZ)"
		echo "# $(nproc) CPUs (no KVM, shared), nomnet $DRIVER driver, $MODE mode. Rows from nom-loadgen"
		echo "# (memcached: 16 connections = many, 1 = single; nhttpd: 32 / 1; netpipe: the 1-byte"
		echo "# NetPIPE ping-pong = single) and NPtcp's best size (netpipe bulk); spin_us the busy-poll"
		echo "# budget, cpu_us_per_request the server's CPU (0: not measured). Baselines:"
		echo "# memcached-linux = Debian's memcached -t 1, *-kernel and nhttpd-linux = our code on"
		echo "# kernel sockets, netpipe-linux = NPtcp's receiver."
		echo "$hdr"
		awk -F'\t' '$5 > 0 && $6 > 0 && $3 ~ /^[0-9]+$/ {
			base = ($1 ~ /-(linux|kernel)$/)
			if (!base && ($4 == "loadgen" || ($4 == "NPtcp" && $2 == "bulk")))
				printf "%s,%s,%s,%s,%s,%s,%s,%s,%s,%s\n", $1, $2, $3, $10 + 0, $5, $6, $7, ($9 > 0 ? $9 : 1), $11 + 0, $4
			if (base && $4 == "h2h-loadgen") row[$1 "," $2] = sprintf("%s,%s,0,0,%s,%s,%s,%s,0,%s", $1, $2, $5, $6, $7, ($9 > 0 ? $9 : 1), $4)
		}
		$1 ~ /-(linux|kernel)$/ && $4 == "NPtcp" && $2 == "bulk" && $5 > 0 {
			row[$1 ",bulk"] = sprintf("%s,bulk,0,0,%s,%s,0,%s,0,NPtcp", $1, $5, $6, $9) }
		END { for (k in row) print row[k] }' "$RES"
	} >"$OUT/profile.csv"
}

REPS=3
[ $QUICK = 1 ] && REPS=2
W_MC_T=$(bestw memcached many memcaslap 5 max)
# For latency (one connection), the point libnom's controller would buy: delay and spin.
write_profiles
pick_single() { # APP -> "delay spin"
	"$RAAS_BIN/nom-profit" pick --profile "$OUT/profile.csv" --app "$1" --load single \
		--utility bonus --core-price "$CORE_PRICE" | cut -d' ' -f1,2
}
read -r W_MC_L S_MC_L < <(pick_single memcached)
W_HT_T=$(bestw nhttpd many wrk 5 max)
read -r W_HT_L S_HT_L < <(pick_single nhttpd)
W_NP_T=$(bestw netpipe bulk NPtcp 5 max)
read -r W_NP_L S_NP_L < <(pick_single netpipe)
: "${W_MC_L:?no pick for memcached}" "${W_HT_L:?no pick for nhttpd}" "${W_NP_L:?no pick for netpipe}"
L_MC=$W_MC_L L_HT=$W_HT_L L_NP=$W_NP_L # labels: delay, or delay/spin
[ "$S_MC_L" != 0 ] && L_MC="$W_MC_L/$S_MC_L"
[ "$S_HT_L" != 0 ] && L_HT="$W_HT_L/$S_HT_L"
[ "$S_NP_L" != 0 ] && L_NP="$W_NP_L/$S_NP_L"
echo "== head to head, $REPS rounds: nom at its best delays (memcached $W_MC_T/$L_MC us, nhttpd $W_HT_T/$L_HT us, netpipe $W_NP_T/$L_NP us for throughput/latency: delay/spin as picked with cores at \$$CORE_PRICE/core-hour) against Linux"

# Kernel-side servers stay up throughout (idle servers cost nothing).
spawn "$NSK" memcached -u root -l "$KIP" -p 11211 -U 0 -t 1 -m 64
spawn "$NSK" "$RAAS_BIN/nom-memcached" --stack kernel --bind "$KIP" --port 11311
spawn "$NSK" "$RAAS_BIN/nhttpd" --root "$WWW" --stack kernel --bind "$KIP" --port 8080
spawn "$NSK" "$RAAS_BIN/nompipe" --stack kernel --bind "$KIP" --port 5003
wait_port "$KIP" 11211
wait_port "$KIP" 11311
wait_port "$KIP" 8080
wait_port "$KIP" 5003

sliced() { # PROTO CONNS LEVEL EXTRA-ARGS... : nom, Linux and the kernel build in turns
	local proto=$1 conns=$2 lv=$3 out
	shift 3
	out=$(ip netns exec "$NSC" "$RAAS_BIN/nom-loadgen" --proto "$proto" --conns "$conns" \
		--duration-s $((REPS * T)) --warmup-s 0.5 --slice-ms 250 "$@")
	echo "$out" >"$OUT/raw/sliced-$proto-$lv.json"
	for i in "${!NAMES[@]}"; do
		local l
		l=$(echo "$out" | grep "^{\"target\":$i,")
		record "${NAMES[$i]}" "$lv" "${WS[$i]}" h2h-loadgen "$(echo "$l" | jf tput_rps)" \
			"$(echo "$l" | jf mean_us)" "$(echo "$l" | jf jitter_us)" "$(echo "$l" | jf p99_us)" \
			"$(echo "$l" | jf bytes_per_request)"
	done
}

# memcached
spawn "$NSN" "$RAAS_BIN/nom-memcached" $(nom_args "$W_MC_T")
wait_port "$NIP" 11211
for r in $(seq $REPS); do
	for t in "memcached $W_MC_T $NIP 11211" "memcached-linux 0 $KIP 11211" "memcached-kernel 0 $KIP 11311"; do
		set -- $t
		out=$(ip netns exec "$NSC" memcaslap -s "$3:$4" -T 2 -c 16 -t "${T}s" 2>&1)
		record "$1" many "$2" h2h-memcaslap "$(echo "$out" | sed -n 's/.*TPS: \([0-9]*\).*/\1/p')" 0 0 0 0
	done
done
NAMES=(memcached memcached-linux memcached-kernel)
WS=("$W_MC_T" 0 0)
sliced memcached 16 many --connect "$NIP:11211" --connect "$KIP:11211" --connect "$KIP:11311"
netns_stop "$SRV"
# Latency: nom at W = 0 and at the sweep's lowest-latency delay (a noisy sweep may name a
# delay that only got lucky), side by side with Linux; the better of the two counts.
spawn "$NSN" "$RAAS_BIN/nom-memcached" $(nom_args 0)
S1=$SRV
spawn "$NSN2" "$RAAS_BIN/nom-memcached" $(nom_args2 "$W_MC_L") --spin-us "$S_MC_L"
wait_port "$NIP" 11211
wait_port "$NIP2" 11211
NAMES=(memcached memcached memcached-linux memcached-kernel)
WS=(0 "$L_MC" 0 0)
sliced memcached 1 single --connect "$NIP:11211" --connect "$NIP2:11211" --connect "$KIP:11211" \
	--connect "$KIP:11311"
netns_stop "$SRV"
netns_stop "$S1"

# nhttpd
spawn "$NSN" "$RAAS_BIN/nhttpd" --root "$WWW" $(nom_args "$W_HT_T")
wait_port "$NIP" 8080
for r in $(seq $REPS); do
	for t in "nhttpd $W_HT_T $NIP" "nhttpd-linux 0 $KIP"; do
		set -- $t
		out=$(ip netns exec "$NSC" wrk -t 2 -c 32 -d "${T}s" "http://$3:8080/index.html" 2>&1)
		record "$1" many "$2" h2h-wrk "$(echo "$out" | sed -n 's/^Requests\/sec: *\([0-9.]*\).*/\1/p')" 0 0 0 0
	done
done
NAMES=(nhttpd nhttpd-linux)
WS=("$W_HT_T" 0)
sliced http 32 many --path /index.html --connect "$NIP:8080" --connect "$KIP:8080"
netns_stop "$SRV"
spawn "$NSN" "$RAAS_BIN/nhttpd" --root "$WWW" $(nom_args 0)
S1=$SRV
spawn "$NSN2" "$RAAS_BIN/nhttpd" --root "$WWW" $(nom_args2 "$W_HT_L") --spin-us "$S_HT_L"
wait_port "$NIP" 8080
wait_port "$NIP2" 8080
NAMES=(nhttpd nhttpd nhttpd-linux)
WS=(0 "$L_HT" 0)
sliced http 1 single --path /index.html --connect "$NIP:8080" --connect "$NIP2:8080" \
	--connect "$KIP:8080"
netns_stop "$SRV"
netns_stop "$S1"

# netpipe: NPtcp's receiver serves one session and exits, so one instance per client run
# (and no probe connection first: it would be that session).
np_receiver() {
	cd "$OUT" || exit 1
	netns_spawn "$NSK" NPtcp -P 5002 >/dev/null 2>&1
	NPR=$NETNS_LAST_PID
	cd - >/dev/null || exit 1
	sleep 1
}
spawn "$NSN" "$RAAS_BIN/nompipe" $(nom_args "$W_NP_T")
wait_port "$NIP" 5002
for r in $(seq $REPS); do
	netpipe_sweep netpipe "h2h$r" "$NIP" 5002
	np_receiver
	netpipe_sweep netpipe-linux "h2h$r" "$KIP" 5002
	netns_stop "$NPR"
	netpipe_sweep netpipe-kernel "h2h$r" "$KIP" 5003
done
netns_stop "$SRV"
spawn "$NSN" "$RAAS_BIN/nompipe" $(nom_args 0)
S1=$SRV
spawn "$NSN2" "$RAAS_BIN/nompipe" $(nom_args2 "$W_NP_L") --spin-us "$S_NP_L"
wait_port "$NIP" 5002
wait_port "$NIP2" 5002
np_receiver
NAMES=(netpipe netpipe netpipe-linux netpipe-kernel)
WS=(0 "$L_NP" 0 0)
sliced netpipe 1 single --connect "$NIP:5002" --connect "$NIP2:5002" --connect "$KIP:5002" \
	--connect "$KIP:5003"
netns_stop "$NPR"
netns_stop "$SRV"
netns_stop "$S1"

write_profiles
for app in memcached nhttpd netpipe; do
	{ grep '^#' "$OUT/profile.csv"; echo "$hdr"; grep "^$app," "$OUT/profile.csv"; } >"$OUT/$app.csv"
done
echo "== profiles: $OUT/profile.csv"
echo "== Pareto frontier (delays, us; throughput up, latency down)"
"$RAAS_BIN/nom-profit" frontier --profile "$OUT/profile.csv" | grep -v -e '-linux' -e '-kernel' | tee "$OUT/frontier.txt"

# The nom configuration (delay) with the lowest median of COLUMN in the head-to-head latency
# run: prints that median, COLUMN2's median for the same configuration, and the delay.
best_cfg() { # APP LEVEL COLUMN COLUMN2 -> "median median2 delay"
	local d m best="" out="nan nan nan"
	for d in $(awk -F'\t' -v a="$1" -v l="$2" '$1 == a && $2 == l && $4 == "h2h-loadgen" {print $3}' "$RES" | sort -u); do
		m=$(median "$1" "$2" h2h-loadgen "$3" "^$d\$")
		if [ -z "$best" ] || awk -v x="$m" -v y="$best" 'BEGIN { exit !(x < y) }'; then
			best=$m
			out="$m $(median "$1" "$2" h2h-loadgen "$4" "^$d\$") $d"
		fi
	done
	echo "$out"
}
ratio() { awk -v x="$1" -v y="$2" 'BEGIN { if (x + 0 > 0 && y + 0 > 0) printf "%.3f", x / y; else print "null" }'; }
frontier_json() { # APP -> {"many":[..],"single":[..]}: delays, "delay/spin" where it spins
	awk -v a="$1" '$1 == a { m = split($3, d, ","); s = ""
		for (i = 1; i <= m; i++) s = s (i > 1 ? "," : "") (d[i] ~ /\// ? "\"" d[i] "\"" : d[i])
		printf "%s\"%s\":[%s]", (n++ ? "," : ""), $2, s }' \
		"$OUT/frontier.txt" | sed 's/^/{/; s/$/}/'
}

MC_T=$(ratio "$(median memcached many h2h-memcaslap 5)" "$(median memcached-linux many h2h-memcaslap 5)")
read -r MC_NM MC_NP MC_LW < <(best_cfg memcached single 6 8)
MC_M=$(ratio "$(median memcached-linux single h2h-loadgen 6)" "$MC_NM")
MC_P=$(ratio "$(median memcached-linux single h2h-loadgen 8)" "$MC_NP")
HT_T=$(ratio "$(median nhttpd many h2h-wrk 5)" "$(median nhttpd-linux many h2h-wrk 5)")
read -r HT_NM HT_NP HT_LW < <(best_cfg nhttpd single 6 8)
HT_M=$(ratio "$(median nhttpd-linux single h2h-loadgen 6)" "$HT_NM")
HT_P=$(ratio "$(median nhttpd-linux single h2h-loadgen 8)" "$HT_NP")
NP_T=$(ratio "$(median netpipe bulk NPtcp 5 ^h2h)" "$(median netpipe-linux bulk NPtcp 5 ^h2h)")
read -r NP_NM NP_NP NP_LW < <(best_cfg netpipe single 6 8)
NP_M=$(ratio "$(median netpipe-linux single h2h-loadgen 6)" "$NP_NM")
NP_P=$(ratio "$(median netpipe-linux single h2h-loadgen 8)" "$NP_NP")
MK_T=$(ratio "$(median memcached many h2h-memcaslap 5)" "$(median memcached-kernel many h2h-memcaslap 5)")
MK_M=$(ratio "$(median memcached-kernel single h2h-loadgen 6)" "$MC_NM")
NK_T=$(ratio "$(median netpipe bulk NPtcp 5 ^h2h)" "$(median netpipe-kernel bulk NPtcp 5 ^h2h)")
NK_M=$(ratio "$(median netpipe-kernel single h2h-loadgen 6)" "$NP_NM")

echo "== nom / Linux (above 1: nom is better; medians of the head-to-head rounds; latency at W = $MC_LW, $HT_LW, $NP_LW us)"
printf '  memcached  throughput %s (memcaslap, 16 clients)  mean latency %s  p99 %s (one connection)\n' "$MC_T" "$MC_M" "$MC_P"
printf '  nhttpd     throughput %s (wrk, 32 connections)    mean latency %s  p99 %s (one connection)\n' "$HT_T" "$HT_M" "$HT_P"
printf '  netpipe    bandwidth  %s (NPtcp, best size)        mean latency %s  p99 %s (1-byte ping-pong)\n' "$NP_T" "$NP_M" "$NP_P"
printf '  against the same app code on kernel sockets: memcached throughput %s, mean latency %s; netpipe bandwidth %s, latency %s\n' "$MK_T" "$MK_M" "$NK_T" "$NK_M"
SUMMARY=$(printf '{"memcached_tput_ratio":%s,"memcached_mean_lat_ratio":%s,"memcached_p99_lat_ratio":%s,"memcached_frontier":%s,"nhttpd_tput_ratio":%s,"nhttpd_mean_lat_ratio":%s,"nhttpd_p99_lat_ratio":%s,"nhttpd_frontier":%s,"netpipe_tput_ratio":%s,"netpipe_mean_lat_ratio":%s,"netpipe_p99_lat_ratio":%s,"netpipe_frontier":%s}' \
	"$MC_T" "$MC_M" "$MC_P" "$(frontier_json memcached)" "$HT_T" "$HT_M" "$HT_P" "$(frontier_json nhttpd)" \
	"$NP_T" "$NP_M" "$NP_P" "$(frontier_json netpipe)")
# The peers a user would pick (issue 19): apps/bench/peers.sh, nom before and after against
# Debian's memcached -t 1 / -t 2, nginx 1 / 2 workers and NPtcp, alternated run by run; its
# per-peer ratios join the summary as "peers".
if [ $PEERS = 1 ]; then
	echo "== peers (apps/bench/peers.sh)"
	PJ=$("$HERE/peers.sh" --out "$OUT/peers" --prefix "${P}p" --runs 3 --secs "$T" | tee "$OUT/peers.log" | tail -1)
	case $PJ in
	'{'*) SUMMARY="${SUMMARY%\}},\"peers\":$PJ}" ;;
	*) echo "  (peers.sh gave no summary: $OUT/peers)" ;;
	esac
fi
echo "$SUMMARY"
