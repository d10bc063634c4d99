#!/bin/sh
# bench-sweep.sh: a 1,000-run study through `raas-sim sweep --local` (GNU parallel, one job per
# CPU) against the same 1,000 runs one by one (`raas-sim sweep-task DIR I` in a loop), in the
# same script on the same study folder. Prints the figures and the machine's load.
#
#   sim/tools/bench-sweep.sh [RAAS_SIM] [RUNS]     (RUNS a multiple of 4; default 1000)
#
# The study is sim/tests/study_lib.sh's (2 mechanisms x 2 supplies x RUNS/4 seeds, flat
# tenants on 3 hosts for 2 simulated hours): a short run, so the figure shows what the engine
# costs per run as well as what the parallelism gains.
set -eu
SRC=$(cd "$(dirname "$0")/../.." && pwd)
SIM=${1:-$SRC/build/bin/raas-sim}
RUNS=${2:-1000}
T=$(mktemp -d /tmp/bench-sweep-XXXXXX)
trap 'rm -rf "$T"' EXIT INT TERM
. "$SRC/sim/tests/study_lib.sh"
write_study "$T" "1-$((RUNS / 4))"
now() { date +%s.%N; }

t0=$(now)
"$SIM" sweep "$T/study.ini" --local --out "$T/par" >/dev/null
t1=$(now)
"$SIM" sweep "$T/study.ini" --out "$T/ser" >/dev/null
t2=$(now)
i=0
while [ $i -lt "$RUNS" ]; do
	"$SIM" sweep-task "$T/ser" $i
	i=$((i + 1))
done
t3=$(now)
"$SIM" merge "$T/par" >/dev/null
"$SIM" merge "$T/ser" >/dev/null
dump_study "$T/par/study.sqlite" | md5sum >"$T/a"
dump_study "$T/ser/study.sqlite" | md5sum >"$T/b"
cmp -s "$T/a" "$T/b" || { echo "bench-sweep: the parallel and serial studies differ" >&2; exit 1; }
# Where the serial time goes: the runs' own wall time (sim_run, timing_metrics wall_s) against
# the whole (process start, scenario load, run file written and renamed).
inrun=$(for f in "$T"/ser/runs/*.sqlite; do
	sqlite3 "$f" "SELECT value FROM timing_metrics WHERE name = 'wall_s'"
done | awk '{ s += $1 } END { printf "%.3f", s }')
awk -v runs="$RUNS" -v inrun="$inrun" -v p="$(awk -v a="$t0" -v b="$t1" 'BEGIN { print b - a }')" \
	-v s="$(awk -v a="$t2" -v b="$t3" 'BEGIN { print b - a }')" \
	-v cpus="$(nproc)" -v load="$(cut -d' ' -f1-3 /proc/loadavg)" 'BEGIN {
	printf "runs %d on %d CPUs (load before: %s)\n", runs, cpus, load
	printf "sweep --local (GNU parallel): %.2f s, %.1f runs/s\n", p, runs / p
	printf "one by one (sweep-task loop): %.2f s, %.1f runs/s\n", s, runs / s
	printf "speedup %.2fx; merged studies equal\n", s / p
	printf "of the one-by-one time: %.2f s (%.0f%%) simulating inside the runs, the rest process start, scenario load and the run file\n", inrun, 100 * inrun / s
	printf "{\"runs\":%d,\"cpus\":%d,\"local_s\":%.3f,\"local_runs_per_s\":%.2f,\"serial_s\":%.3f,\"serial_runs_per_s\":%.2f,\"speedup\":%.3f,\"simulating_s\":%.3f}\n", runs, cpus, p, runs / p, s, runs / s, s / p, inrun }'
