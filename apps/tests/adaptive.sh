#!/bin/bash
# adaptive.sh: an adaptive nom-memcached under a price schedule that jumps.
#
# Three nom-memcached instances run side by side, each on nomnet in its own namespace
# (interrupt mode: three busy-polling loops would starve the client on 2 cores), and one
# nom-loadgen loads them in turns of 250 ms, so that all three share the machine's good and
# bad moments (back-to-back runs of the same server differ by up to 2x on this shared VM).
# 1. Profile: fixed delays 0, 10 and 40 us, 3 s with 16 connections (`many`), 3 s with one
#    (`single`): throughput, mean latency and jitter per delay, in the econ CSV format.
# 2. nom-profit plans the run with the refund utility: $1/Gbit under `many`, then the price
#    jumps to the dearest price at which one client still earns money and the load drops to
#    one connection at the same moment (the thesis's price and load steps, shortened).
# 3. The run: --adaptive with that profile, the fixed best-throughput delay and the fixed
#    best-latency delay, all under the same schedule and load. The adaptive app must pick
#    its phase-2 delay within one second of the jump (its JSON events say when), and its
#    measured profit (each phase's throughput, mean latency and jitter, priced by the
#    schedule) must be at least each fixed instance's, within 5% for the noise that remains.
set -u
: "${RAAS_BIN:?}" "${RAAS_SOURCE_DIR:?}"
. "$RAAS_SOURCE_DIR/apps/tests/lib.sh"
netns_require_root

P="aad$$"
TMP=$(mktemp -d "/tmp/apps-adapt-$$.XXXXXX")
trap 'netns_cleanup; rm -rf "$TMP"' EXIT INT TERM
app_star "$P" 10.79 3 || exit 1
UTIL="--utility refund"
JUMP_S=14     # the price jumps this long after the apps start
PHASE2_S=6

now() { date +%s.%N; }
calc() { awk "BEGIN { print $* }"; }   # arithmetic on decimals
is() { awk "BEGIN { exit !($*) }"; }   # a comparison as an exit status
since() { calc "$(now) - $1"; }
field() { sed -n "s/.*\"$1\":\([-0-9.e+]*\).*/\1/p"; }

# start_apps "ARGS1" "ARGS2" "ARGS3": three fresh instances; sets SRV_I and T_START.
start_apps() {
	T_START=$(now)
	for i in 1 2 3; do
		# shellcheck disable=SC2086
		netns_spawn "${APP_NSS_I[$i]}" "$RAAS_BIN/nom-memcached" --driver xdp \
			--if "${APP_SIF_I[$i]}" --addr "${APP_SIP_I[$i]}/24" --mode interrupt \
			--memory 64 ${!i} >"$TMP/app$i.out" 2>"$TMP/app$i.err"
		SRV_I[$i]=$NETNS_LAST_PID
	done
	for i in 1 2 3; do
		netns_wait_tcp "$APP_NSC" "${APP_SIP_I[$i]}" 11211 20 || { cat "$TMP/app$i.err"; exit 1; }
	done
}
stop_apps() {
	for i in 1 2 3; do netns_stop "${SRV_I[$i]}"; done
}
load() { # OUTFILE PHASE... (SECONDS:CONNS)
	local out=$1 args=()
	shift
	for ph in "$@"; do args+=(--phase "$ph"); done
	ip netns exec "$APP_NSC" "$RAAS_BIN/nom-loadgen" --proto memcached --keys 1000 \
		--value-size 1024 --warmup-s 0.3 --slice-ms 250 \
		--connect "${APP_SIP_I[1]}:11211" --connect "${APP_SIP_I[2]}:11211" \
		--connect "${APP_SIP_I[3]}:11211" "${args[@]}" >"$out" ||
		{ echo "FAIL: nom-loadgen: $(cat "$out")" >&2; exit 1; }
}

echo "== profile"
CSV="$TMP/profile.csv"
echo "app,load,delay_us,throughput_rps,latency_us,jitter_us,bytes_per_request,source" >"$CSV"
set -- "--delay 0" "--delay 10" "--delay 40"
start_apps "$@"
load "$TMP/profile.json" 3:16 3:1
stop_apps
for i in 1 2 3; do
	w=$(echo "${!i}" | cut -d' ' -f2)
	for ph in 0 1; do
		l=$(grep "^{\"target\":$((i - 1)),\"phase\":$ph," "$TMP/profile.json")
		lv=many
		[ "$ph" = 1 ] && lv=single
		echo "memcached,$lv,$w,$(echo "$l" | field tput_rps),$(echo "$l" | field mean_us),$(echo "$l" | field jitter_us),$(echo "$l" | field bytes_per_request),adaptive.sh" >>"$CSV"
	done
done
cat "$CSV"
read -r BT BL P1 P2 PICK1 PICK2 < <("$RAAS_BIN/nom-profit" plan --profile "$CSV" --app memcached $UTIL) ||
	{ echo "FAIL: no plan" >&2; exit 1; }
echo "plan: best-throughput delay $BT us, best-latency delay $BL us; prices \$$P1 then \$$P2/Gbit; the optimizer picks $PICK1 then $PICK2 us"
printf '0 %s\n%ss %s\n' "$P1" "$JUMP_S" "$P2" >"$TMP/prices"

echo "== run"
set -- "--adaptive --profile $CSV --report-ms 1000 --prices $TMP/prices $UTIL" \
	"--delay $BT --prices $TMP/prices" "--delay $BL --prices $TMP/prices"
start_apps "$@"
phase1=$(calc "$JUMP_S - $(since "$T_START") - 0.3")
if is "$phase1 < 3"; then
	echo "FAIL: the apps took too long to start ($phase1 s left before the jump)" >&2
	exit 1
fi
load "$TMP/run.json" "$phase1:16" "$PHASE2_S:1"
stop_apps
grep '^{"target"' "$TMP/run.json"
score() { # TARGET
	"$RAAS_BIN/nom-profit" score $UTIL --phase "$P1:$TMP/run.json:$1:0" \
		--phase "$P2:$TMP/run.json:$1:1" | cut -d' ' -f1
}
A=$(score 0)
FT=$(score 1)
FL=$(score 2)

fail=0
jump_ms=$((JUMP_S * 1000))
ev="$TMP/app1.out"
grep '"event":"pick"' "$ev" | tail -4
# The first pick at the new price, and the first pick of the phase-2 delay after it.
first=$(grep '"event":"pick"' "$ev" |
	awk -F'"t_ms":' -v j="$jump_ms" -v p2="$P2" '{split($2,a,","); t=a[1]+0;
		if (t >= j - 100 && index($0, "\"price\":" p2) && !done) {print t; done=1}}')
if [ "$PICK1" != "$PICK2" ]; then
	change=$(grep '"event":"pick"' "$ev" |
		awk -F'"t_ms":' -v j="$jump_ms" -v d="$PICK2" '{split($2,a,","); t=a[1]+0;
			if (t >= j - 100 && index($0, "\"delay_us\":" d ",") && !done) {print t; done=1}}')
	echo "price seen at ${first:-never} ms, delay $PICK2 us from ${change:-never} ms (jump at $jump_ms ms)"
	if [ -z "$change" ] || is "$change - $jump_ms > 1000"; then
		echo "FAIL: the adaptive app did not move to $PICK2 us within one second of the jump" >&2
		fail=1
	fi
else
	echo "price seen at ${first:-never} ms (jump at $jump_ms ms); the profile gives $PICK1 us before and after"
	if [ -z "$first" ] || is "$first - $jump_ms > 1000"; then
		echo "FAIL: the adaptive app did not see the new price within one second" >&2
		fail=1
	fi
fi
for pair in "fixed-throughput:$FT" "fixed-latency:$FL"; do
	other=${pair#*:}
	if is "$A < $other - 0.05 * ($other < 0 ? -$other : $other)"; then
		echo "FAIL: adaptive profit \$$A is below ${pair%%:*} \$$other" >&2
		fail=1
	fi
done
echo "profit: adaptive \$$A, fixed best-throughput ($BT us) \$$FT, fixed best-latency ($BL us) \$$FL"
exit $fail
