#!/bin/sh
# test_sim_cli.sh: raas-sim's command line: exit codes, messages, run, report, progress.
#
# Runs the real binary the way a researcher does; every check prints what it expected and
# what it got. Scratch files go to /tmp/sim-cli-PID, removed on exit.
set -u
SIM="${RAAS_BIN:?}/raas-sim"
SRC="${RAAS_SOURCE_DIR:?}"
T=/tmp/sim-cli-$$
mkdir -p "$T"
trap 'rm -rf "$T"' EXIT INT TERM
fails=0

# expect CODE DESCRIPTION -- COMMAND...: runs it, checks the exit code.
expect() {
	want=$1; what=$2; shift 3
	"$@" >"$T/out" 2>"$T/err"
	got=$?
	if [ "$got" != "$want" ]; then
		echo "FAIL: $what: exit $got, expected $want"; sed 's/^/  stderr: /' "$T/err"
		fails=$((fails + 1))
	fi
}
# contains FILE TEXT DESCRIPTION
contains() {
	if ! grep -qF -- "$2" "$1"; then
		echo "FAIL: $3: '$2' not in $(basename "$1"):"; sed 's/^/  /' "$1" | head -20
		fails=$((fails + 1))
	fi
}

expect 0 "version" -- "$SIM" --version
contains "$T/out" "raas-sim " "version"
expect 64 "no command" -- "$SIM"
expect 64 "unknown command" -- "$SIM" fly
contains "$T/err" "unknown command 'fly'" "unknown command"
expect 64 "run without --out" -- "$SIM" run "$SRC/sim/scenarios/nom-thesis.ini"
contains "$T/err" "--out RUN.sqlite" "run without --out"
expect 64 "bad --threads" -- "$SIM" run x.ini --out y --threads 0
contains "$T/err" "--threads '0' is not 1 to 256" "bad --threads"
expect 64 "bad --progress" -- "$SIM" run x.ini --out y --progress=loud
contains "$T/err" "--progress 'loud' is not auto, never or json" "bad --progress"
expect 64 "bad --seed" -- "$SIM" run x.ini --out y --seed -1
expect 0 "help-config" -- "$SIM" help-config
contains "$T/out" "[class.*] utility = penalty" "help-config"

expect 0 "validate nom-thesis" -- "$SIM" validate "$SRC/sim/scenarios/nom-thesis.ini"
contains "$T/out" "ok: 39 classes" "validate nom-thesis"
expect 0 "validate mechanisms" -- "$SIM" validate "$SRC/sim/scenarios/mechanisms.ini"
contains "$T/out" "6 variants" "validate mechanisms"
printf '[sim]\nduration = 10s\nround = 1s\n[class.a]\nkind = flat\nresource = cores\nquantitty = 2\n' >"$T/bad.ini"
expect 78 "validate a typo" -- "$SIM" validate "$T/bad.ini"
contains "$T/err" "bad.ini:7: class.a.quantitty: unknown key (did you mean 'quantity'?)" "typo"
expect 78 "validate a bad --set" -- "$SIM" validate "$SRC/sim/scenarios/nom-thesis.ini" --set sim.round=soon
contains "$T/err" "--set: sim.round: 'soon' is not a duration" "bad --set"
expect 78 "validate a missing file" -- "$SIM" validate "$T/none.ini"
contains "$T/err" "none.ini: cannot read" "missing scenario"
expect 69 "spot-replay without data" -- "$SIM" validate "$SRC/sim/scenarios/spot-replay.ini" --set sim.data_dir=/nonexistent-sim-data
contains "$T/err" "shared data folder was not found (looked in: /nonexistent-sim-data)" "no data"

# A short run of the thesis scenario: JSON progress, the profit table, the run file.
expect 0 "run nom-thesis" -- "$SIM" run "$SRC/sim/scenarios/nom-thesis.ini" --out "$T/nt.sqlite" --progress=json --set sim.duration=90s --seed 3
contains "$T/err" '"round":90,"rounds":90' "progress json"
contains "$T/out" "Profit over the run" "profit table"
contains "$T/out" "What each remaining gap needs" "thesis comparison"
[ "$(sqlite3 "$T/nt.sqlite" "select value from meta where key='seed' and variant=''")" = 3 ] || { echo "FAIL: seed not recorded"; fails=$((fails + 1)); }
[ "$(sqlite3 "$T/nt.sqlite" "select count(*) from rounds")" = 90 ] || { echo "FAIL: 90 rounds expected"; fails=$((fails + 1)); }
sqlite3 "$T/nt.sqlite" "select value from meta where key='scenario'" | grep -q '^\[report\]' || { echo "FAIL: scenario text not recorded"; fails=$((fails + 1)); }
ls "$T"/nt.sqlite.tmp-* >/dev/null 2>&1 && { echo "FAIL: temporary run file left"; fails=$((fails + 1)); }

# A run that cannot write its file fails with 73 and leaves nothing.
expect 73 "unwritable output" -- "$SIM" run "$SRC/sim/scenarios/nom-thesis.ini" --out /nonexistent-dir/x.sqlite --quiet
# A bad scenario leaves an existing run file as it was.
cp "$T/nt.sqlite" "$T/keep.sqlite"
expect 78 "bad run keeps the old file" -- "$SIM" run "$T/bad.ini" --out "$T/nt.sqlite"
cmp -s "$T/nt.sqlite" "$T/keep.sqlite" || { echo "FAIL: a failed run changed the run file"; fails=$((fails + 1)); }

# Report: CSVs, charts, summary.
expect 0 "report" -- "$SIM" report "$T/nt.sqlite" --out "$T/rep"
for f in rounds.csv class_rounds.csv classes.csv metrics.csv profiles.csv meta.csv; do
	[ -s "$T/rep/$f" ] || { echo "FAIL: report: $f missing"; fails=$((fails + 1)); }
done
head -1 "$T/rep/classes.csv" | grep -q '^variant,class,kind,app,utility,strategy,resource,tenants,value,payment,profit$' || { echo "FAIL: classes.csv header"; fails=$((fails + 1)); }
if command -v gnuplot >/dev/null 2>&1; then
	for f in price-egress.png revenue.png profit.png utilization.png frontier-memcached.png \
		frontier-nhttpd.png frontier-netpipe.png; do
		[ -s "$T/rep/$f" ] || { echo "FAIL: report: chart $f missing"; fails=$((fails + 1)); }
	done
	# The profit panels: 39 bars (15 memcached, 12 nhttpd, 12 NetPIPE) and the 8 published
	# ratios beside them.
	bars=$(awk '/^# .*: x profit strategy/ {b = 1; next} /^# / {b = 0} b && NF == 3' "$T/rep/profit.dat" | wc -l)
	marks=$(grep -c '"thesis ' "$T/rep/profit.dat")
	[ "$bars" = 39 ] && [ "$marks" = 8 ] || { echo "FAIL: profit panels: $bars bars (want 39), $marks published marks (want 8)"; fails=$((fails + 1)); }
	# The frontiers against the thesis's words (section 6.7): nhttpd W = 0 and 6-12;
	# memcached has 10 and 14 on it and 32 off; NetPIPE only W = 0.
	front() { awk '/^# frontier/ {exit} NF == 4 && $4 == 1 {gsub(/"/, "", $3); printf "%s ", $3}' "$T/rep/frontier-$1.dat"; }
	[ "$(front nhttpd)" = "0 6 8 10 12 " ] || { echo "FAIL: nhttpd frontier: $(front nhttpd)"; fails=$((fails + 1)); }
	[ "$(front netpipe)" = "0 " ] || { echo "FAIL: NetPIPE frontier: $(front netpipe)"; fails=$((fails + 1)); }
	case " $(front memcached)" in *" 10 "*" 14 "*) ;; *) echo "FAIL: memcached frontier: $(front memcached)"; fails=$((fails + 1)) ;; esac
	case " $(front memcached)" in *" 32 "*) echo "FAIL: memcached W=32 on the frontier"; fails=$((fails + 1)) ;; esac
fi
contains "$T/out" "Profit over the run" "report summary"
expect 0 "report --no-charts" -- "$SIM" report "$T/nt.sqlite" --out "$T/rep2" --no-charts
[ -e "$T/rep2/profit.png" ] && { echo "FAIL: --no-charts drew charts"; fails=$((fails + 1)); }
echo "not a database" >"$T/junk.sqlite"
expect 65 "report on junk" -- "$SIM" report "$T/junk.sqlite" --out "$T/rep3"
expect 69 "report on a missing file" -- "$SIM" report "$T/missing.sqlite" --out "$T/rep3"

# Mechanisms (shortened): one row per variant in the comparison.
expect 0 "run mechanisms" -- "$SIM" run "$SRC/sim/scenarios/mechanisms.ini" --out "$T/m.sqlite" --set sim.duration=2h --progress=never
for v in fixed uniform vcg psp proportional utilization; do
	contains "$T/out" "$v " "mechanisms summary ($v)"
done

# fit-spot: bad traces and options are named; a short trace of its own is measured and fitted.
printf '2010-01-01 00:00:00,0.03\n2010-01-01 01:00:00,abc\n' >"$T/bad.csv"
expect 65 "fit-spot on a bad trace" -- "$SIM" fit-spot "$T/bad.csv"
contains "$T/err" "bad.csv:2: bad price 'abc'" "fit-spot on a bad trace"
expect 69 "fit-spot on a missing trace" -- "$SIM" fit-spot "$T/none.csv"
expect 64 "fit-spot without traces" -- "$SIM" fit-spot
expect 64 "fit-spot bad --from" -- "$SIM" fit-spot "$T/bad.csv" --from 2010-13-01 --to 2011-01-01
contains "$T/err" "--from '2010-13-01' is not YYYY-MM-DD" "fit-spot bad --from"
awk 'BEGIN { t = 1262304000; p = 30; for (i = 0; i < 400; i++) {
	t += 3600 * (1 + (i * 7) % 3); p = 30 + (i * 5) % 4
	print strftime("%Y-%m-%d %H:%M:%S", t, 1) "," p / 1000 } }' >"$T/own.csv"
expect 0 "fit-spot on a trace" -- "$SIM" fit-spot "$T/own.csv" --from 2010-01-01 --to 2011-01-01 --changes 2000 --fit-changes 500 --csv "$T/fit.csv"
contains "$T/out" "band [\$0.03, \$0.033] (3 ticks)" "fit-spot band"
contains "$T/out" "fitted spot-ar1 parameters" "fit-spot parameters"
contains "$T/fit.csv" "own,trace,0.030,0.033,400," "fit-spot csv"

if [ "$fails" -ne 0 ]; then
	echo "test_sim_cli: $fails failures"
	exit 1
fi
echo "test_sim_cli: ok"
