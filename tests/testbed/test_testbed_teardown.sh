#!/bin/bash
# test_testbed_teardown.sh: Ctrl-C (SIGINT to raas testbed run) at a random moment, 5 times:
# during key making, the market's start, a host's, a tenant's, or the run itself. Each time
# raas testbed exits 130 and nothing of the testbed is left: no process, network namespace,
# veth, qdisc, cgroup, board, API socket or state folder (lib.sh's leftovers, which looks
# for each kind by the testbed's own names, not through its manifest). Then a component
# that fails during up (an app exits): exit 69, and again nothing left.
#
# The moments are drawn from SEED (printed; set it to replay a run): one at 0, then one in
# each quarter of 1.5 times the time `up` took to all tenants serving in a first,
# uninterrupted run (so that the last lands in the run after up).
# Root (namespaces, tc, cgroups); skipped (77) otherwise.
set -eu
. "$RAAS_SOURCE_DIR/tests/testbed/lib.sh"
tb_need
SEED=${SEED:-$(( $(date +%s) % 100000 ))}
log "seed $SEED, testbed $NAME (10.$NET.0.0/16)"
baseline
cd "$RAAS_SOURCE_DIR"
tb_file "$T/tb.ini" 30s

log "a first run, to time up"
t0=$(date +%s%N)
"$B/raas" testbed up "$T/tb.ini" 2>"$T/up.log" || { cat "$T/up.log" >&2; fail "up failed"; }
up_ms=$((($(date +%s%N) - t0) / 1000000))
log "  up in $up_ms ms: $(grep -o 'up in .*serving' "$T/up.log")"
"$B/raas" testbed status "$NAME" >"$T/status" || fail "status is unhealthy: $(cat "$T/status")"
procs=$(grep -c '^process' "$T/status")
[ "$procs" = 12 ] || fail "status shows $procs processes, not 12 (market, 2 agents, 3 x 3)"
[ -n "$(leftovers)" ] || fail "leftovers() finds nothing of a running testbed"
log "  status: $procs processes, $(grep -c '^netns' "$T/status") namespaces; leftovers() sees $(leftovers | wc -l) things"
"$B/raas" testbed down "$NAME" 2>/dev/null || fail "down failed"
left=$(leftovers)
[ -z "$left" ] || fail "after down: $left"

span=$((up_ms * 3 / 2))
# One moment at 0, then one drawn in each quarter of the span (stratified: every stage of up
# and the run after it get their share whatever the seed).
moments="0 $(awk -v s="$SEED" -v n=4 -v span="$span" 'BEGIN { srand(s); rand(); for (i = 0; i < n; i++) printf "%d ", (i + rand()) * span / n }')"
i=0
for ms in $moments; do
	i=$((i + 1))
	# A script's background job starts with SIGINT ignored: give it back its default, as a
	# terminal's foreground job has.
	env --default-signal=INT "$B/raas" testbed run "$T/tb.ini" >"$T/run.out" 2>"$T/run.log" &
	TB_PID=$!
	sleep "$(awk -v m="$ms" 'BEGIN { printf "%.3f", m / 1000 }')"
	stage=$(grep -o '^raas testbed: [a-z0-9]*: [a-z]*' "$T/run.log" | tail -1 | awk '{ print $4 }')
	kill -INT "$TB_PID"
	set +e
	wait "$TB_PID"
	rc=$?
	set -e
	TB_PID=""
	[ "$rc" = 130 ] || fail "interrupt $i at $ms ms: exit $rc, not 130: $(tail -3 "$T/run.log")"
	left=$(leftovers)
	[ -z "$left" ] || fail "interrupt $i at $ms ms (${stage:-start}): left: $left"
	log "  interrupt $i at $ms ms (during: ${stage:-start}): exit 130, nothing left"
done
log "a component that fails: the apps get a profile that does not exist (they exit 65)"
PROFILE=$T/no-such-profile.csv tb_file "$T/bad.ini" 30s
set +e
"$B/raas" testbed up "$T/bad.ini" >/dev/null 2>"$T/bad.log"
rc=$?
set -e
[ "$rc" = 69 ] || fail "up with a failing app exited $rc, not 69: $(tail -3 "$T/bad.log")"
grep -q "exited" "$T/bad.log" || fail "up does not say what exited: $(cat "$T/bad.log")"
left=$(leftovers)
[ -z "$left" ] || fail "after a failed up: $left"
grep -q '"error"\|profile' "$RAAS_TESTBED_DIR/$NAME.logs/app-alice.log" ||
	fail "the kept log of the app does not say why: $(tail -2 "$RAAS_TESTBED_DIR/$NAME.logs/app-alice.log")"
log "  the app's kept log: $(tail -1 "$RAAS_TESTBED_DIR/$NAME.logs/app-alice.log" | cut -c1-150)"
log "  exit 69 ($(grep exited "$T/bad.log" | head -1)), nothing left"
log "ok: 5 interrupts and a failed component, nothing left"
