#!/bin/bash
# peers.sh: nom's apps head to head with the servers a user would pick (issue 19), one client
# at a time and under load, with the CPU each burns per request.
#
#   apps/bench/peers.sh [--out DIR] [--runs N] [--secs S] [--prefix P]
#                       [--budgets "0 20 50 100 200"] [--delays "0 10 20 40"] [--spin US]
#                       [--core-price C] [--utility KIND] [--after "--loop-nice -20"]
#
# In network namespaces (a client, two for nom, one for the kernel-socket peers; P names them,
# default pe<pid>). First the sweeps: each nom app (nom-memcached, nhttpd, nompipe on nomnet,
# xdp driver, interrupt mode) with one connection at each busy-poll budget (W = 0, AFTER), and
# memcached and HTTP under load at each delay W, N runs each; the medians become profile rows
# (spin_us, cpu_us_per_request) and `nom-profit pick` chooses each app's working point per
# level as libnom's controller would: the point that
# maximizes T (a - P) - cores burnt x C under the utility KIND (default bonus, the thesis's
# parameters, P = $1/Gbit) with a core at C dollars an hour (default 1: about 30 times what a
# core cost on EC2's spot market in 2010, ../shared/data), and the dearest core price at which
# it would still buy that budget. --spin US skips the choice of a budget and uses US.
#
# Then nom "before" (the loop on the normal scheduler at nice 0, no spin, W = 0 with one
# connection and the issue's W = 20 / 28 us under load: what was measured until issue 19) and
# "after" (the picks: one connection with AFTER, default --loop-nice -20, at the picked budget,
# --after "--rt-prio 1" measures the SCHED_FIFO loop instead; under load at the picked W,
# without a budget: the loop spins while a batch waits for W anyway), against Debian's
# memcached -t 1 and -t 2, nginx with 1 and 2 workers (Debian's nginx-light) and NPtcp's
# receiver, all behind identical veths. Every contender is loaded by the same client,
# nom-loadgen (memcached 9:1 get/set, a 1 KiB file over HTTP, NetPIPE's 1-byte ping-pong), with
# 1 connection and (memcached 16, HTTP 32) under load; the contenders alternate run by run, N
# runs each (default 3). CPU per request is the server's user + system time (all its threads
# and worker processes, from /proc) over the requests it served.
#
# Output in DIR (default /tmp/nom-peers-<date>): results.tsv (every run), summary.txt (medians
# and spread per contender), profile-spin.csv (econ format, docs/profiles.md), and as its last
# line one JSON object: per app and level the medians of nom "after" and of each contender,
# and per peer the ratios tput (nom / peer), mean and p99 (peer / nom): above 1 means nom is
# better; under "spin", per app the budget picked, the core price, the break-even price and
# the delay picked under load.
set -u
HERE=$(cd "$(dirname "$0")" && pwd)
export RAAS_SOURCE_DIR="${RAAS_SOURCE_DIR:-$(cd "$HERE/../.." && pwd)}"
export RAAS_BIN="${RAAS_BIN:-$RAAS_SOURCE_DIR/build/bin}"
. "$RAAS_SOURCE_DIR/apps/tests/lib.sh"

OUT="/tmp/nom-peers-$(date +%Y%m%d-%H%M%S)"
RUNS=3
T=2
SPIN=""
P="pe$$"
BUDGETS="0 20 50 100 200"
DELAYS="0 10 20 40"
CORE_PRICE=1
UTILITY=bonus
AFTER="--loop-nice -20"
while [ $# -gt 0 ]; do
	case $1 in
	--out) OUT=$2; shift ;;
	--runs) RUNS=$2; shift ;;
	--secs) T=$2; shift ;;
	--spin) SPIN=$2; shift ;;
	--prefix) P=$2; shift ;;
	--budgets) BUDGETS=$2; shift ;;
	--delays) DELAYS=$2; shift ;;
	--core-price) CORE_PRICE=$2; shift ;;
	--utility) UTILITY=$2; shift ;;
	--after) AFTER=$2; shift ;;
	*) echo "usage: peers.sh [--out DIR] [--runs N] [--secs S] [--prefix P] [--budgets LIST] [--delays LIST] [--spin US] [--core-price C] [--utility KIND] [--after OPTS]" >&2; exit 64 ;;
	esac
	shift
done
if [ "$(id -u)" != 0 ]; then
	echo "peers.sh: needs root (network namespaces)" >&2
	exit 77
fi
for tool in memcached nginx NPtcp; do
	command -v $tool >/dev/null || { echo "peers.sh: $tool is not installed (scripts/install-deps)" >&2; exit 69; }
done
for b in nom-memcached nhttpd nompipe nom-loadgen nom-profit; do
	[ -x "$RAAS_BIN/$b" ] || { echo "peers.sh: $RAAS_BIN/$b is missing (make build)" >&2; exit 69; }
done
mkdir -p "$OUT/raw"
RES="$OUT/results.tsv" # app level contender run tput_rps mean_us p99_us cpu_us_per_request requests bytes_per_request jitter_us
: >"$RES"
trap 'netns_cleanup' EXIT INT TERM
app_star "$P" 10.219 3 || exit 1
NSC=$APP_NSC
NSB=${APP_NSS_I[1]} BIF=${APP_SIF_I[1]} BIP=${APP_SIP_I[1]}
NSA=${APP_NSS_I[2]} AIF=${APP_SIF_I[2]} AIP=${APP_SIP_I[2]}
NSK=${APP_NSS_I[3]} KIF=${APP_SIF_I[3]} KIP=${APP_SIP_I[3]}
ip netns exec "$NSK" ip addr add "$KIP/24" dev "$KIF"
WWW="$OUT/www"
mkdir -p "$WWW"
head -c 1024 /dev/urandom | base64 -w 0 | head -c 1024 >"$WWW/index.html"
chmod -R a+rX "$OUT"
echo "peers.sh: $(nproc) CPUs, load $(cut -d' ' -f1-3 /proc/loadavg); $RUNS runs of $T s; nom after: $AFTER, spin ${SPIN:-picked from budgets $BUDGETS at \$$CORE_PRICE/core-hour ($UTILITY)}; results in $OUT"

jf() { sed -n "s/.*\"$1\":\([-0-9.e+]*\).*/\1/p" | tail -1; }

spawn() { # NS ARGS...: sets SRV
	local ns=$1
	shift
	netns_spawn "$ns" "$@" >>"$OUT/servers.log" 2>&1
	SRV=$NETNS_LAST_PID
}
wait_port() { netns_wait_tcp "$NSC" "$1" "$2" 20 || { tail "$OUT/servers.log"; exit 1; }; }

# measure APP LEVEL CONTENDER RUN PID PROTO IP:PORT CONNS [EXTRA...]
measure() {
	local app=$1 lv=$2 who=$3 run=$4 pid=$5 proto=$6 target=$7 conns=$8 out t0 t1 req
	shift 8
	t0=$(ticks "$pid")
	out=$(ip netns exec "$NSC" "$RAAS_BIN/nom-loadgen" --proto "$proto" --connect "$target" \
		--conns "$conns" --duration-s "$T" --warmup-s 0.3 "$@" 2>&1 | tail -1)
	t1=$(ticks "$pid")
	echo "$out" >"$OUT/raw/$app-$lv-$who-$run.json"
	req=$(echo "$out" | jf requests)
	printf '%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\n' "$app" "$lv" "$who" "$run" \
		"$(echo "$out" | jf tput_rps)" "$(echo "$out" | jf mean_us)" "$(echo "$out" | jf p99_us)" \
		"$(cpu_us_per_request "$t0" "$t1" "$req" "$T" 0.3)" "${req:-0}" \
		"$(echo "$out" | jf bytes_per_request)" "$(echo "$out" | jf jitter_us)" >>"$RES"
	tail -1 "$RES" | awk -F'\t' '{ printf "  %-10s %-6s %-14s run %s  %9.0f/s  mean %7.1f us  p99 %8.1f us  cpu %6.2f us/req\n", $1, $2, $3, $4, $5, $6, $7, $8 }'
}

# nom_args IF IP DELAY before|after [APP LEVEL]: nomnet's options. Before: DELAY, no spin.
# After: the optimizer's pick for APP at LEVEL (one connection: AFTER and the budget; under
# load: the delay).
nom_args() {
	local d=$3 app=${5:-} lv=${6:-} extra=""
	[ "$4" = after ] && [ "$lv" = many ] && d=${PICKW[$app]}
	[ "$4" = after ] && [ "$lv" = single ] && extra=" $AFTER --spin-us ${PICK[$app]}"
	echo "--driver xdp --if $1 --addr $2/24 --mode interrupt --delay $d$extra"
}

nginx_conf() { # WORKERS PORT -> conf path
	local f="$OUT/nginx-$1.conf"
	mkdir -p "$OUT/nginx-$1"
	cat >"$f" <<EOF
user root;
worker_processes $1;
daemon off;
pid $OUT/nginx-$1/nginx.pid;
error_log $OUT/nginx-$1/error.log;
events { worker_connections 1024; }
http {
	access_log off;
	sendfile on;
	tcp_nodelay on;
	keepalive_requests 1000000;
	client_body_temp_path $OUT/nginx-$1/body;
	proxy_temp_path $OUT/nginx-$1/proxy;
	fastcgi_temp_path $OUT/nginx-$1/fastcgi;
	uwsgi_temp_path $OUT/nginx-$1/uwsgi;
	scgi_temp_path $OUT/nginx-$1/scgi;
	server { listen $KIP:$2; root $WWW; }
}
EOF
	echo "$f"
}

med() { # APP LEVEL WHO COLUMN -> "median min max"
	awk -F'\t' -v a="$1" -v l="$2" -v w="$3" -v c="$4" '$1 == a && $2 == l && $3 == w && $c > 0 { x[n++] = $c }
		END { if (!n) { print "nan nan nan"; exit }
			for (i = 0; i < n; i++) for (j = i + 1; j < n; j++) if (x[j] < x[i]) { t = x[i]; x[i] = x[j]; x[j] = t }
			printf "%s %s %s\n", (n % 2 ? x[int(n / 2)] : (x[n / 2 - 1] + x[n / 2]) / 2), x[0], x[n - 1] }' "$RES"
}

# ---- the sweeps, and the optimizer's pick per app and level ---------------------------------
# One connection: each budget at W = 0. Under load: each delay (the loop spins while a batch
# waits for W anyway, so no budget). Profile rows in the econ format under the apps' profile
# names (memcached, nhttpd, netpipe); the pick is the controller's (nom-profit pick).
declare -A PICK PICKW BREAKEVEN PROFILE_APP
PROFILE_APP=([memcached]=memcached [http]=nhttpd [netpipe]=netpipe)
PROF=$OUT/profile-spin.csv
{
	echo "# the working-point sweeps of apps/bench/peers.sh on $(date -u +%FT%TZ): nom-loadgen, one"
	echo "# connection at each busy-poll budget (W = 0), 16 or 32 connections at each delay; xdp,"
	echo "# interrupt mode, $AFTER at one connection; medians of $RUNS runs of $T s"
	echo "app,load,delay_us,spin_us,throughput_rps,latency_us,jitter_us,bytes_per_request,cpu_us_per_request,source"
} >"$PROF"
sweep() { # APP LEVEL CONNS PORT PROTO NOM-COMMAND...: a row per budget (single) or delay (many)
	local app=$1 lv=$2 conns=$3 port=$4 proto=$5 x d sp who t m u b j
	shift 5
	for x in $([ "$lv" = single ] && echo "$BUDGETS" || echo "$DELAYS"); do
		if [ "$lv" = single ]; then
			d=0 sp=$x who=spin-$x
			spawn "$NSA" "$@" $(nom_args "$AIF" "$AIP" 0 before) $AFTER --spin-us "$sp"
		else
			d=$x sp=0 who=w-$x
			spawn "$NSA" "$@" $(nom_args "$AIF" "$AIP" "$d" before)
		fi
		wait_port "$AIP" "$port"
		for r in $(seq "$RUNS"); do
			measure "$app" "$lv" "$who" "$r" $SRV "$proto" "$AIP:$port" "$conns" \
				$([ "$proto" = http ] && echo --path /index.html)
		done
		netns_stop $SRV
		read -r t _ _ < <(med "$app" "$lv" "$who" 5)
		read -r m _ _ < <(med "$app" "$lv" "$who" 6)
		read -r u _ _ < <(med "$app" "$lv" "$who" 8)
		read -r b _ _ < <(med "$app" "$lv" "$who" 10)
		read -r j _ _ < <(med "$app" "$lv" "$who" 11)
		echo "${PROFILE_APP[$app]},$lv,$d,$sp,$t,$m,${j/nan/0},$b,$u,peers.sh" >>"$PROF"
	done
	if [ "$lv" = single ] && [ -n "$SPIN" ]; then
		PICK[$app]=$SPIN BREAKEVEN[$app]=null
		return
	fi
	read -r d sp _ _ _ b < <("$RAAS_BIN/nom-profit" pick --profile "$PROF" --app "${PROFILE_APP[$app]}" \
		--load "$lv" --utility "$UTILITY" --core-price "$CORE_PRICE") ||
		{ echo "peers.sh: nom-profit pick failed on $PROF" >&2; exit 1; }
	if [ "$lv" = single ]; then
		PICK[$app]=$sp
		BREAKEVEN[$app]=$(echo "$b" | sed 's/^inf$/"inf"/')
		echo "  $app single: the optimizer buys a $sp us budget at \$$CORE_PRICE/core-hour (bought up to \$$b/core-hour)"
	else
		PICKW[$app]=$d
		echo "  $app $lv: the optimizer picks W = $d us"
	fi
}
echo "== sweeps: budgets $BUDGETS us with one connection; delays $DELAYS us under load"
sweep memcached single 1 11211 memcached "$RAAS_BIN/nom-memcached"
sweep memcached many 16 11211 memcached "$RAAS_BIN/nom-memcached"
sweep http single 1 8080 http "$RAAS_BIN/nhttpd" --root "$WWW"
sweep http many 32 8080 http "$RAAS_BIN/nhttpd" --root "$WWW"
sweep netpipe single 1 5002 netpipe "$RAAS_BIN/nompipe"

# ---- memcached ---------------------------------------------------------------------------
spawn "$NSK" memcached -u root -l "$KIP" -p 11211 -U 0 -t 1 -m 64
MC1=$SRV
spawn "$NSK" memcached -u root -l "$KIP" -p 11212 -U 0 -t 2 -m 64
MC2=$SRV
wait_port "$KIP" 11211
wait_port "$KIP" 11212
for lv in single many; do
	c=1 w=0
	[ $lv = many ] && c=16 w=20
	spawn "$NSB" "$RAAS_BIN/nom-memcached" $(nom_args "$BIF" "$BIP" $w before)
	NB=$SRV
	spawn "$NSA" "$RAAS_BIN/nom-memcached" $(nom_args "$AIF" "$AIP" $w after memcached $lv)
	NA=$SRV
	echo "  memcached $lv nom-after: $(nom_args "$AIF" "$AIP" $w after memcached $lv)"
	wait_port "$BIP" 11211
	wait_port "$AIP" 11211
	for r in $(seq "$RUNS"); do
		measure memcached $lv nom-before "$r" $NB memcached "$BIP:11211" $c
		measure memcached $lv nom-after "$r" $NA memcached "$AIP:11211" $c
		measure memcached $lv memcached-t1 "$r" $MC1 memcached "$KIP:11211" $c
		measure memcached $lv memcached-t2 "$r" $MC2 memcached "$KIP:11212" $c
	done
	netns_stop $NB
	netns_stop $NA
done
netns_stop $MC1
netns_stop $MC2

# ---- HTTP --------------------------------------------------------------------------------
spawn "$NSK" nginx -p "$OUT" -c "$(nginx_conf 1 8081)"
NG1=$SRV
spawn "$NSK" nginx -p "$OUT" -c "$(nginx_conf 2 8082)"
NG2=$SRV
wait_port "$KIP" 8081
wait_port "$KIP" 8082
for lv in single many; do
	c=1 w=0
	[ $lv = many ] && c=32 w=28
	spawn "$NSB" "$RAAS_BIN/nhttpd" --root "$WWW" $(nom_args "$BIF" "$BIP" $w before)
	NB=$SRV
	spawn "$NSA" "$RAAS_BIN/nhttpd" --root "$WWW" $(nom_args "$AIF" "$AIP" $w after http $lv)
	NA=$SRV
	echo "  http $lv nom-after: $(nom_args "$AIF" "$AIP" $w after http $lv)"
	wait_port "$BIP" 8080
	wait_port "$AIP" 8080
	for r in $(seq "$RUNS"); do
		measure http $lv nom-before "$r" $NB http "$BIP:8080" $c --path /index.html
		measure http $lv nom-after "$r" $NA http "$AIP:8080" $c --path /index.html
		measure http $lv nginx-1w "$r" $NG1 http "$KIP:8081" $c --path /index.html
		measure http $lv nginx-2w "$r" $NG2 http "$KIP:8082" $c --path /index.html
	done
	netns_stop $NB
	netns_stop $NA
done
netns_stop $NG1
netns_stop $NG2

# ---- NetPIPE: NPtcp's receiver serves one session, so one per run -------------------------
spawn "$NSB" "$RAAS_BIN/nompipe" $(nom_args "$BIF" "$BIP" 0 before)
NB=$SRV
spawn "$NSA" "$RAAS_BIN/nompipe" $(nom_args "$AIF" "$AIP" 0 after netpipe single)
NA=$SRV
echo "  netpipe single nom-after: $(nom_args "$AIF" "$AIP" 0 after netpipe single)"
wait_port "$BIP" 5002
wait_port "$AIP" 5002
for r in $(seq "$RUNS"); do
	measure netpipe single nom-before "$r" $NB netpipe "$BIP:5002" 1
	measure netpipe single nom-after "$r" $NA netpipe "$AIP:5002" 1
	(cd "$OUT" && netns_spawn "$NSK" NPtcp -P 5002 >/dev/null 2>&1; echo $NETNS_LAST_PID >"$OUT/np.pid")
	sleep 1
	measure netpipe single nptcp "$r" "$(cat "$OUT/np.pid")" netpipe "$KIP:5002" 1
	netns_stop "$(cat "$OUT/np.pid")"
done
netns_stop $NB
netns_stop $NA

# ---- summary ---------------------------------------------------------------------------
ratio() { awk -v x="$1" -v y="$2" 'BEGIN { if (x + 0 > 0 && y + 0 > 0) printf "%.3f", x / y; else print "null" }'; }
{
	echo "# peers.sh $(date -u +%FT%TZ), load $(cut -d' ' -f1-3 /proc/loadavg); medians over $RUNS runs [min-max]"
	for key in "memcached single" "memcached many" "http single" "http many" "netpipe single"; do
		set -- $key
		for who in $(awk -F'\t' -v a="$1" -v l="$2" '$1 == a && $2 == l { print $3 }' "$RES" | awk '!s[$0]++'); do
			read -r t tl th < <(med "$1" "$2" "$who" 5)
			read -r m ml mh < <(med "$1" "$2" "$who" 6)
			read -r p pl ph < <(med "$1" "$2" "$who" 7)
			read -r u ul uh < <(med "$1" "$2" "$who" 8)
			printf '%-10s %-6s %-14s %9.0f/s [%.0f-%.0f]  mean %6.1f us [%.1f-%.1f]  p99 %7.1f us [%.1f-%.1f]  cpu %5.2f us/req [%.2f-%.2f]\n' \
				"$1" "$2" "$who" "$t" "$tl" "$th" "$m" "$ml" "$mh" "$p" "$pl" "$ph" "$u" "$ul" "$uh"
		done
	done
} | tee "$OUT/summary.txt"


json="{"
sep=""
for key in "memcached single memcached-t1 memcached-t2" "memcached many memcached-t1 memcached-t2" \
	"http single nginx-1w nginx-2w" "http many nginx-1w nginx-2w" "netpipe single nptcp"; do
	set -- $key
	app=$1 lv=$2
	shift 2
	read -r nt _ _ < <(med $app $lv nom-after 5)
	read -r nm _ _ < <(med $app $lv nom-after 6)
	read -r np _ _ < <(med $app $lv nom-after 7)
	read -r nu _ _ < <(med $app $lv nom-after 8)
	json="$json$sep\"${app}_$lv\":{\"nom\":{\"tput\":$nt,\"mean_us\":$nm,\"p99_us\":$np,\"cpu_us\":$nu}"
	for who in nom-before "$@"; do
		read -r pt _ _ < <(med $app $lv "$who" 5)
		read -r pm _ _ < <(med $app $lv "$who" 6)
		read -r pp _ _ < <(med $app $lv "$who" 7)
		read -r pu _ _ < <(med $app $lv "$who" 8)
		json="$json,\"$who\":{\"tput\":$pt,\"mean_us\":$pm,\"p99_us\":$pp,\"cpu_us\":$pu,\"tput_ratio\":$(ratio "$nt" "$pt"),\"mean_lat_ratio\":$(ratio "$pm" "$nm"),\"p99_lat_ratio\":$(ratio "$pp" "$np")}"
	done
	json="$json}"
	sep=","
done
json="$json,\"spin\":{\"core_price\":$CORE_PRICE,\"utility\":\"$UTILITY\""
for app in memcached http netpipe; do
	json="$json,\"$app\":{\"spin_us\":${PICK[$app]},\"breakeven_core_price\":${BREAKEVEN[$app]}"
	[ -n "${PICKW[$app]:-}" ] && json="$json,\"many_delay_us\":${PICKW[$app]}" # no load level for NetPIPE
	json="$json}"
done
echo "$json}}" | sed 's/:nan/:null/g' | tee "$OUT/summary.json"
