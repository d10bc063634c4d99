#!/bin/sh
# test_sim_sweep.sh: raas-sim sweep --local (GNU parallel), merge and report STUDY.
#
# A 12-run study (2 mechanisms x 2 supplies x 3 seeds) swept through GNU parallel: every run
# file equals the same run made by hand with `raas-sim run` (the task adds nothing of its
# own); the merge holds every run's metrics and recorded bids; the report's means and 95%
# intervals equal an independent computation from the run files (awk, Student's t for 2
# degrees of freedom); bad study files, a missing run file and a bad task are named. Scratch
# in /tmp/sim-sweep-PID, removed on exit.
set -u
SIM="${RAAS_BIN:?}/raas-sim"
SRC="${RAAS_SOURCE_DIR:?}"
T=/tmp/sim-sweep-$$
mkdir -p "$T"
trap 'rm -rf "$T"' EXIT INT TERM
fails=0
. "$SRC/sim/tests/study_lib.sh"
fail() { echo "FAIL: $*"; fails=$((fails + 1)); }
command -v parallel >/dev/null || { fail "GNU parallel is not installed (scripts/install-deps)"; exit 1; }

write_study "$T" 1-3
"$SIM" sweep "$T/study.ini" --local --jobs 2 --out "$T/s" >"$T/out" 2>"$T/err" || { fail "sweep: $(cat "$T/err")"; exit 1; }
grep -q "tiny: 12 runs (3 seeds x 2 mechanism x 2 supply)" "$T/out" || fail "sweep summary: $(cat "$T/out")"
[ "$(ls "$T/s/runs" | grep -c '^run-0000[01][0-9].sqlite$')" = 12 ] || fail "12 run files expected: $(ls "$T/s/runs")"

# A task's run file is the plain run with the same seed and assignments (all but timing).
tables="meta rounds pool_prices class_rounds classes metrics bids clearings"
same_run() {
	for t in $tables; do
		a=$(sqlite3 "$1" "SELECT * FROM $t ORDER BY rowid" | md5sum)
		b=$(sqlite3 "$2" "SELECT * FROM $t ORDER BY rowid" | md5sum)
		[ "$a" = "$b" ] || { echo "$t differs"; return 1; }
	done
}
# run 7 = mechanism vcg (index 1), supply scarce (0), seed 2 (index 1): (1*2+0)*3+1.
"$SIM" run "$T/base.ini" --out "$T/hand.sqlite" --seed 2 --quiet --progress=never \
	--set sim.round=5m --set 'resource.cores.model=vcg' --set 'resource.cores.params=reserve=$0.01' \
	--set hosts.cores=4 || fail "hand run"
why=$(same_run "$T/s/runs/run-000007.sqlite" "$T/hand.sqlite") || fail "run 7 is not the hand run: $why"
# ... and another seed changes it.
why=$(same_run "$T/s/runs/run-000006.sqlite" "$T/hand.sqlite") && fail "run 6 (seed 1) equals the seed-2 run"

"$SIM" report "$T/s" >"$T/out" 2>"$T/err"; rc=$?
[ $rc = 69 ] && grep -q "not merged yet (raas-sim merge" "$T/err" || fail "report before merge: rc $rc: $(cat "$T/err")"
"$SIM" merge "$T/s" >"$T/out" 2>"$T/err" || fail "merge: $(cat "$T/err")"
grep -q "12 runs into" "$T/out" || fail "merge message: $(cat "$T/out")"
ST="$T/s/study.sqlite"
[ "$(sqlite3 "$ST" 'SELECT count(*) FROM study_runs')" = 12 ] || fail "study_runs"
[ "$(sqlite3 "$ST" "SELECT count(DISTINCT exact) FROM study_metrics WHERE name = 'revenue'")" -ge 10 ] ||
	fail "the runs' revenues are not distinct"
bids=0
for f in "$T"/s/runs/*.sqlite; do bids=$((bids + $(sqlite3 "$f" 'SELECT count(*) FROM bids'))); done
[ "$bids" -gt 100 ] || fail "too few recorded bids ($bids)"
[ "$(sqlite3 "$ST" 'SELECT count(*) FROM study_bids')" = "$bids" ] || fail "study_bids holds $(sqlite3 "$ST" 'SELECT count(*) FROM study_bids'), the runs $bids"
[ "$(sqlite3 "$ST" "SELECT level FROM study_levels WHERE run = 7 AND axis = 'mechanism'")" = vcg ] || fail "levels of run 7"

# The report's figures against awk on the run files themselves.
"$SIM" report "$ST" --out "$T/rep" >"$T/out" 2>"$T/err" || fail "report: $(cat "$T/err")"
grep -q "compared: mechanism" "$T/out" || fail "report header"
for png in revenue social_welfare tenant_utility utilization.cores; do
	[ -s "$T/rep/$png.png" ] || fail "chart $png.png"
done
for combo in "uniform scarce 0" "vcg ample 3"; do
	set -- $combo
	first=$(( $3 * 3 ))
	vals=""
	for i in 0 1 2; do
		f=$(printf '%s/s/runs/run-%06d.sqlite' "$T" $((first + i)))
		vals="$vals $(sqlite3 "$f" "SELECT exact FROM metrics WHERE name = 'revenue'")"
	done
	want=$(echo "$vals" | awk '{ for (i = 1; i <= NF; i++) { x = $i / 1e9; s += x; q += x * x }
		m = s / NF; sd = sqrt((q - s * s / NF) / (NF - 1)); printf "%.2f +- %7.2f", m, 4.302652729911275 * sd / sqrt(NF) }')
	line=$(awk -v ctx="supply=$2" -v lvl="$1" '$0 == ctx { on = 1; next } /^[a-z]/ { on = 0 } on && $1 == lvl' "$T/out")
	echo "$line" | grep -qF -- "$want" || fail "report $1/$2: want revenue '$want' in: $line"
done
grep -q -- "-> most revenue:" "$T/out" || fail "no answer line"
# The known results on the recorded rounds: every vcg and uniform clearing passes.
awk '/VCG welfare = the optimum:/ { v = ($6 == $8 && $6 > 100) }
	/uniform revenue >= reserve x units sold:/ { u = ($8 == $10 && $8 > 100) }
	END { exit !(v && u) }' "$T/out" || fail "known results: $(grep -A3 'Known results' "$T/out")"
# A run file is still reported as a run file.
"$SIM" report "$T/hand.sqlite" --out "$T/rep1" --no-charts >"$T/out" 2>&1 || fail "report RUN: $(cat "$T/out")"

# Bad input: named, nothing swept.
printf '[study]\nscenario = base.ini\nseeds = 1-x\n' >"$T/bad1.ini"
"$SIM" sweep "$T/bad1.ini" --out "$T/b1" >"$T/out" 2>"$T/err"; rc=$?
[ $rc = 78 ] && grep -q "bad1.ini:3: study.seeds: '1-x' is not a seed" "$T/err" || fail "bad seeds: rc $rc: $(cat "$T/err")"
printf '[study]\nscenario = base.ini\nseeds = 1\n[axis.m]\nx = hosts.cores=lots\n' >"$T/bad2.ini"
"$SIM" sweep "$T/bad2.ini" --out "$T/b2" >"$T/out" 2>"$T/err"; rc=$?
[ $rc = 78 ] && grep -q "the runs with m=x: --set: hosts.cores: 'lots'" "$T/err" || fail "bad level: rc $rc: $(cat "$T/err")"
[ -e "$T/b2" ] && fail "a bad study left a folder"
printf '[study]\nscenario = base.ini\nseeds = 1\n[axes.m]\nx = hosts.cores=4\n' >"$T/bad3.ini"
"$SIM" sweep "$T/bad3.ini" >"$T/out" 2>"$T/err"; rc=$?
[ $rc = 78 ] && grep -q "bad3.ini:4: unknown section \[axes.m\]" "$T/err" || fail "bad section: rc $rc: $(cat "$T/err")"
"$SIM" sweep-task "$T/s" 12 >"$T/out" 2>"$T/err"; rc=$?
[ $rc != 0 ] && grep -q "no run 12 in the manifest" "$T/err" || fail "task 12: rc $rc: $(cat "$T/err")"
rm "$T/s/runs/run-000005.sqlite"
"$SIM" merge "$T/s" --out "$T/partial.sqlite" >"$T/out" 2>"$T/err"; rc=$?
[ $rc = 69 ] && grep -q "run 5: .*run-000005.sqlite" "$T/err" || fail "missing run: rc $rc: $(cat "$T/err")"
[ -e "$T/partial.sqlite" ] && fail "a failed merge left a study file"
ls "$T"/partial.sqlite.tmp-* >/dev/null 2>&1 && fail "a failed merge left its temporary file"

[ $fails = 0 ] && echo "test_sim_sweep: ok (12 runs, $bids bids merged)"
exit $((fails > 0))
