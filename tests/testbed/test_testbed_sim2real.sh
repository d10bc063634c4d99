#!/bin/bash
# test_testbed_sim2real.sh: sim-to-real. The 3-tenant demo scenario (testbeds/nom-thesis.ini:
# memcached, nhttpd and NetPIPE on one host, adaptive, the neighbour joining at the step) runs
# live with 15 s phases, and the simulator runs the same scenario
# (sim/scenarios/nom-thesis-live.ini, same mechanism, supply, phases, profile and utility);
# each tenant's live profit must be within 25% of the simulated one.
#
# Why 25%, and why the bonus function: the simulator serves exactly min(T, holding) from the
# phase's first instant, while live each tenant starts serving up to 2 s into its first
# phase (up's time; 13% of a 15 s phase), its tc class sends within 10% of its holding
# (test_testbed_small; 23% together), its app sees the load change 150-250 ms late, the
# board shows a price a round after the ledger, and on this shared VM the apps get less CPU
# while others' tests run. The bonus function (alpha 20, gamma 0.01 $/Gbit x ms) is
# worth 20-20.1 $/Gbit at any latency this VM gives, so the comparison is of what the
# simulator models (the traffic held and sent, the price path the mechanism makes, the
# charges), not of this shared VM's latency: under penalty (X 100, L0 750 us) or refund (beta
# 10 $/Gbit per ms) a backlogged class's queueing delay (ms, with 16 connections) takes all
# of the value live, while the profile's latencies keep it in the simulator (make demo shows
# those gaps). Measured 2026-12-03 (busy VM, 4 runs): 9-16% under the simulator.
#
# Asserted besides: the market's own price path, live and simulated: $1/Gbit (3.6e9 per
# Mbit/s-hour) before the step, $10/Gbit after it, the neighbour holding 6,000 Mbit/s; 3
# tenants compared; nothing left after the run. Root; skipped (77) otherwise.
set -eu
# net 251: outside lib.sh's 100-249 and the other tests' blocks
NAME=simreal NET=251
. "$RAAS_SOURCE_DIR/tests/testbed/lib.sh"
tb_need /sqlite3
baseline
PHASE=15
cd "$RAAS_SOURCE_DIR"
scripts/thesis-testbed.sh $PHASE adaptive bonus "$RAAS_SOURCE_DIR/testbeds/nom-thesis-profile.csv" |
	sed -e "s/^name = .*/name = $NAME/" -e "s/^net = .*/net = $NET/" >"$T/tb.ini"
log "raas testbed run ($((2 * PHASE)) s)"
env --default-signal=INT "$B/raas" testbed run "$T/tb.ini" --out "$T/live.sqlite" 2>"$T/run.log" &
TB_PID=$!
set +e
wait "$TB_PID"
rc=$?
set -e
TB_PID=""
tr '\r' '\n' <"$T/run.log" | grep -v '^\[' | sed 's/^/  /'
[ "$rc" = 0 ] || fail "run exited $rc: $(tail -c 600 "$T/run.log")"
left=$(leftovers)
[ -z "$left" ] || fail "after run: $left"

log "raas-sim run nom-thesis-live.ini (the same, simulated)"
"$B/raas-sim" run sim/scenarios/nom-thesis-live.ini --out "$T/sim.sqlite" --quiet \
	--set sim.duration=$((2 * PHASE))s --set template.app.utility=bonus \
	--set "template.app.phases=many:${PHASE}s, single:${PHASE}s" \
	--set "class.noisy.phases=many:${PHASE}s:0.000001, many:${PHASE}s" \
	--set "template.app.profile=$RAAS_SOURCE_DIR/testbeds/nom-thesis-profile.csv" \
	|| fail "raas-sim run failed"

L() { sqlite3 "$T/live.sqlite" "$1"; }
S() { sqlite3 "$T/sim.sqlite" "$1"; }
# The price path. Live: the board's price each second (before the step, and from 3 s after
# it: the neighbour's start, its acquire and the utilization model's one-period lag).
before=$(L "SELECT group_concat(DISTINCT price) FROM tenant_seconds WHERE up AND tenant <> 'noisy' AND t_s BETWEEN 2 AND $((PHASE - 1))")
after=$(L "SELECT group_concat(DISTINCT price) FROM tenant_seconds WHERE up AND tenant <> 'noisy' AND t_s BETWEEN $((PHASE + 4)) AND $((2 * PHASE))")
noisy=$(L "SELECT max(holding) FROM tenant_seconds WHERE tenant = 'noisy'")
log "live price per Mbit/s-hour: $before before the step, $after after; the neighbour holds $noisy Mbit/s"
[ "$before" = 3600000000 ] || fail "live price before the step is $before, not 3600000000 (\$1/Gbit)"
[ "$after" = 36000000000 ] || fail "live price after the step is $after, not 36000000000 (\$10/Gbit)"
[ "$noisy" = 6000 ] || fail "the neighbour held $noisy Mbit/s, not 6000"
sp=$(S "SELECT group_concat(DISTINCT price) FROM pool_prices WHERE variant = 'adaptive' AND round < $PHASE")
sa=$(S "SELECT group_concat(DISTINCT price) FROM pool_prices WHERE variant = 'adaptive' AND round >= $((PHASE + 2))")
log "simulated price: $sp before, $sa after"
[ "$sp" = 3600000000 ] && [ "$sa" = 36000000000 ] || fail "simulated prices $sp / $sa"

# Profit per tenant, live against simulated.
n=0
for t in mc web pipe; do
	lv=$(L "SELECT profit FROM classes WHERE class = '$t'")
	lp=$(L "SELECT payment FROM classes WHERE class = '$t'")
	sv=$(S "SELECT profit FROM classes WHERE variant = 'adaptive' AND class = '$t'")
	spay=$(S "SELECT payment FROM classes WHERE variant = 'adaptive' AND class = '$t'")
	[ -n "$lv" ] && [ -n "$sv" ] || fail "$t: no class row (live '$lv', simulated '$sv')"
	# The live class's value is its seconds' values (tenant_seconds.value), exactly.
	[ "$(L "SELECT (SELECT sum(value) FROM tenant_seconds WHERE tenant = '$t') = value FROM classes WHERE class = '$t'")" = 1 ] ||
		fail "$t: classes.value is not the sum of tenant_seconds.value"
	gap=$(awk -v l="$lv" -v s="$sv" 'BEGIN { printf "%+.1f", (l - s) / s * 100 }')
	log "  $t: live profit \$$(awk -v v="$lv" 'BEGIN{printf "%.3f", v/1e9}') (paid \$$(awk -v v="$lp" 'BEGIN{printf "%.3f", v/1e9}')), simulated \$$(awk -v v="$sv" 'BEGIN{printf "%.3f", v/1e9}') (paid \$$(awk -v v="$spay" 'BEGIN{printf "%.3f", v/1e9}')): ${gap}%"
	awk -v s="$sv" 'BEGIN { exit !(s > 0) }' || fail "$t: simulated profit $sv is not positive"
	awk -v l="$lv" -v s="$sv" 'BEGIN { d = l - s; if (d < 0) d = -d; exit !(d <= 0.25 * s) }' ||
		fail "$t: live profit $lv is not within 25% of the simulated $sv (${gap}%)"
	n=$((n + 1))
done
[ "$n" = 3 ] || fail "compared $n tenants, not 3"
echo "PASS: $n tenants' live profit within 25% of the simulator's; price \$1 -> \$10/Gbit by the neighbour, live and simulated"
