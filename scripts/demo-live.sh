#!/bin/bash
# demo-live.sh: `make demo`: the nom thesis's experiment live on this machine, beside the
# simulator's prediction of it and the thesis's published figures.
#
#   scripts/demo-live.sh BUILD_DIR      (environment: PHASE_S=10, UTILITIES="penalty bonus",
#                                        FULL=1 for the thesis's 60 s + 60 s and all three)
#
# 1. The profile: BUILD_DIR/profile-cache/profile.csv (apps/bench/profile.sh --quick, run
#    here when the cache is missing; its date is printed), with the neighbour's rows added
#    and NetPIPE's one-connection rows taken for both phases (nom-loadgen drives it with a
#    1-byte ping-pong; the "bulk" rows are NPtcp's streaming, which the demo does not run).
# 2. Live: for each utility function and strategy (adaptive, static-tpt, static-lat,
#    price-unaware on kernel sockets), one `raas testbed run` of testbeds/nom-thesis.ini
#    scaled by scripts/thesis-testbed.sh: the runs are sequential, each with the same three
#    tenants and the neighbour that raises the price at the step. Each run prints one line
#    with its dashboards' URL (the market's pages, live, for a browser on this machine).
# 3. Simulated: raas-sim on sim/scenarios/nom-thesis-live.ini with the same phases, profile
#    and utility (a variant per strategy).
# 4. The tables (scripts/demo-tables.sh): live, simulated, the gaps, the thesis's figures;
#    charts (prices, W, throughput, latency, spend per second) to BUILD_DIR/demo/*.png.
# Without root or the capabilities namespaces, tc and cgroups need, it says so in one line
# and runs the simulated experiment (make demo-sim) instead.
set -u
BUILD=${1:-build}
SRC=$(cd "$(dirname "$0")/.." && pwd)
cd "$SRC" || exit 1
BIN=$SRC/$BUILD/bin
OUT=$SRC/$BUILD/demo
T0=$(date +%s.%N)

cant() {
	echo "make demo: $1: running the simulated experiment instead (make demo-sim)"
	exec make --no-print-directory demo-sim-run BUILD_DIR="$BUILD"
}
[ "$(id -u)" = 0 ] || cant "not root (the live testbed needs network namespaces, tc and cgroups)"
probe=tbdemo-probe-$$
ip netns add $probe 2>/dev/null || cant "cannot create a network namespace (CAP_SYS_ADMIN)"
ok=1
ip -n $probe link add p0 type veth peer name p1 2>/dev/null &&
	ip netns exec $probe tc qdisc add dev p0 root handle 1: htb 2>/dev/null || ok=0
ip netns delete $probe
[ $ok = 1 ] || cant "cannot make a veth with an HTB qdisc (CAP_NET_ADMIN, sch_htb)"
[ -w /sys/fs/cgroup/memory ] || cant "no writable cgroup v1 memory controller (/sys/fs/cgroup/memory)"

if [ "${FULL:-0}" = 1 ]; then
	PHASE_S=${PHASE_S:-60}
	UTILITIES=${UTILITIES:-penalty refund bonus}
fi
PHASE_S=${PHASE_S:-10}
UTILITIES=${UTILITIES:-penalty bonus}
STRATEGIES="adaptive static-tpt static-lat price-unaware"
mkdir -p "$OUT"
rm -f "$OUT"/live-*.sqlite* "$OUT"/sim-*.sqlite "$OUT"/*.png

CACHE=$SRC/$BUILD/profile-cache
if [ ! -s "$CACHE/profile.csv" ]; then
	echo "== profile: none cached in $CACHE: measuring it (apps/bench/profile.sh --quick, a few minutes)"
	RAAS_BIN=$BIN apps/bench/profile.sh --quick --no-peers --out "$CACHE" >"$OUT/profile.log" 2>&1 ||
		{ echo "make demo: apps/bench/profile.sh failed ($OUT/profile.log)"; exit 1; }
	how="measured now"
else
	how="cached; rm -r $BUILD/profile-cache to measure again"
fi
when=$(sed -n 's/^# nom profile measured by apps\/bench\/profile.sh on \(.*\)/\1/p' "$CACHE/profile.csv")
echo "== profile: $BUILD/profile-cache/profile.csv, apps/bench/profile.sh --quick on ${when:-?} ($how)"
PROFILE=$OUT/profile.csv
{
	grep '^#' "$CACHE/profile.csv"
	echo "# make demo: netpipe's one-connection rows for both phases; no bulk rows; the neighbour's"
	echo "# 6,000 Mbit/s (testbeds/nom-thesis-profile.csv's rows)."
	grep -v '^#' "$CACHE/profile.csv" | grep -v '^netpipe[^,]*,bulk,'
	grep -E '^netpipe(-kernel)?,single,' "$CACHE/profile.csv" | sed 's/,single,/,many,/'
	# The neighbour's rows, column by column under the cached profile's header (a profile
	# with spin_us and cpu_us_per_request has more columns; absent ones are 0).
	awk -F, -v hdr="$(grep -v '^#' "$CACHE/profile.csv" | head -1)" '
		BEGIN { n = split(hdr, want, ",") }
		/^#/ { next }
		!cols { for (i = 1; i <= NF; i++) at[$i] = i; cols = 1; next }
		$1 == "neighbour" { line = ""
			for (i = 1; i <= n; i++) line = line (i > 1 ? "," : "") (want[i] in at ? $(at[want[i]]) : 0)
			print line }' testbeds/nom-thesis-profile.csv
} >"$PROFILE"

nruns=0
for u in $UTILITIES; do
	for s in $STRATEGIES; do nruns=$((nruns + 1)); done
done
echo "== live: $nruns runs one after the other (${PHASE_S} s many + ${PHASE_S} s single each; utility: $UTILITIES)"
echo "   each: memcached, nhttpd and NetPIPE on host h1 (10,000 Mbit/s), the neighbour joining at ${PHASE_S} s"
i=0
for u in $UTILITIES; do
	for s in $STRATEGIES; do
		i=$((i + 1))
		f=$OUT/thesis-$u-$s.ini
		scripts/thesis-testbed.sh "$PHASE_S" "$s" "$u" "$PROFILE" >"$f" || exit 1
		echo "-- run $i/$nruns: $u, $s"
		t=$(date +%s.%N)
		: >"$OUT/live-$u-$s.log" # before tail follows it (a last demo's log is not read)
		"$BIN/raas" testbed run "$f" --out "$OUT/live-$u-$s.sqlite" 2>"$OUT/live-$u-$s.log" &
		pid=$!
		# The progress line, as raas testbed draws it (on a terminal, rewritten in place), and
		# once the market is up the dashboards' URL (open it in a browser on this machine).
		tail -n +1 -f "$OUT/live-$u-$s.log" --pid=$pid 2>/dev/null | tr '\r' '\n' |
			grep --line-buffered -E '^\[|up in|joins|: dashboards http' | while IFS= read -r l; do
				case $l in
				*": dashboards http"*)
					[ -z "${url:-}" ] || continue
					url=${l##*: dashboards }
					printf '%s   dashboards: %s\n' "$([ -t 1 ] && printf '\r\033[K')" "$url"
					continue ;;
				esac
				if [ -t 1 ]; then printf '\r%s\033[K' "${l:0:200}"; else case $l in *"0s left"* | *up\ in*) echo "   $l" ;; esac; fi
			done
		wait $pid
		rc=$?
		[ -t 1 ] && echo
		[ $rc = 0 ] || { echo "make demo: raas testbed run $f exited $rc ($OUT/live-$u-$s.log)"; exit 1; }
		up=$(sed -n 's/.*up in \([0-9.]*\) s.*/\1/p' "$OUT/live-$u-$s.log")
		echo "   up in ${up:-?} s (every tenant serving), run and teardown $(awk -v a="$t" -v b="$(date +%s.%N)" 'BEGIN{printf "%.1f", b-a}') s"
	done
done

echo "== simulated: raas-sim run sim/scenarios/nom-thesis-live.ini, the same phases, profile and utility"
for u in $UTILITIES; do
	"$BIN/raas-sim" run sim/scenarios/nom-thesis-live.ini --out "$OUT/sim-$u.sqlite" --quiet \
		--set sim.duration=$((2 * PHASE_S))s --set template.app.utility="$u" \
		--set "template.app.phases=many:${PHASE_S}s, single:${PHASE_S}s" \
		--set "class.noisy.phases=many:${PHASE_S}s:0.000001, many:${PHASE_S}s" \
		--set "template.app.profile=$PROFILE" || { echo "make demo: raas-sim failed"; exit 1; }
done

scripts/demo-tables.sh "$OUT" "$UTILITIES" "$PHASE_S"
scripts/demo-charts.sh "$OUT" "$UTILITIES"
echo "make demo: $(awk -v a="$T0" -v b="$(date +%s.%N)" 'BEGIN{printf "%.0f", b-a}') s in all (live runs, simulation, tables, charts); files in $BUILD/demo/"
