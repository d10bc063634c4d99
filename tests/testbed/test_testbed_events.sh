#!/bin/bash
# test_testbed_events.sh: supply and price events on the run's timeline, the per-round class
# columns of the live run file, and every tenant's value.
#
# lib.sh's testbed (fixed $1/Gbit = $3.6 per Mbit/s-hour, lib.sh's small profile: alice holds
# 53 Mbit/s, bob 40 on h1; carol 10 on h2) for 18 s, with
#   at 6 s  h1 sells 60 Mbit/s instead of 300 (a supply event: its agent reloaded)
#   at 12 s bandwidth costs $43.2 per Mbit/s-hour ($12/Gbit; a price event: the market
#           reloaded), over carol's alpha of 8: she holds nothing from then on
# and utilities that value every tenant's traffic: alice refund beta 1, bob refund beta 0.1,
# carol bonus (alpha 8, gamma 1, delta 2) driven by nom-loadgen (NPtcp reports no latency).
#
# Asserted: the events table holds both, carried out within a second of their time; the
# market's pool for h1 (the ledger) has supply 300 before 6 s and 60 from 7 s, allocates at
# most 60 from then and something; alice + bob hold 93 before and at most 60 after (their
# boards), and their tc classes send at most 10% over 60; every pool's price is $3.6 before
# 12 s and $43.2 from 13 s, carol holds 10 before and 0 from 14 s; class_rounds has a row
# per tenant per recorded round, summing to classes' value and payment exactly, allocations
# equal to the ledger's, and rounds' welfare is the class values of the round; each tenant's
# class value is the samples' (recomputed by SQL) and above zero; raas-sim report writes
# class_rounds.csv. Root; skipped (77) otherwise.
set -eu
. "$RAAS_SOURCE_DIR/tests/testbed/lib.sh"
tb_need /sqlite3
baseline
small_profile "$T/profile.csv"
PROFILE=$T/profile.csv tb_file "$T/tb.ini" 18s
sed -i '/^\[tenant.alice\]/a beta = 1' "$T/tb.ini"
sed -i '/^\[tenant.bob\]/a beta = 0.1' "$T/tb.ini"
sed -i '/^load = NPtcp/d; /^\[tenant.carol\]/a gamma = 1\ndelta = 2' "$T/tb.ini"
cat >>"$T/tb.ini" <<EOF

[event.less]
at = 6s
action = supply
host = h1
resource = bandwidth
supply = 60

[event.dear]
at = 12s
action = price
resource = bandwidth
params = price=43.2
EOF
cd "$RAAS_SOURCE_DIR"
log "raas testbed run (18 s): h1 sells 60 Mbit/s from 6 s, \$43.2 per Mbit/s-hour from 12 s"
env --default-signal=INT "$B/raas" testbed run "$T/tb.ini" --out "$T/run.sqlite" 2>"$T/run.log" &
TB_PID=$!
set +e
wait "$TB_PID"
rc=$?
set -e
TB_PID=""
tr '\r' '\n' <"$T/run.log" | grep -E 'sells|priced by' | sed 's/^/  /'
[ "$rc" = 0 ] || fail "run exited $rc: $(tail -c 600 "$T/run.log")"
left=$(leftovers)
[ -z "$left" ] || fail "after run: $left"
q() { sqlite3 "$T/run.sqlite" "$1"; }
L() { sqlite3 "$T/run.sqlite.ledger" "$1"; }

log "events: $(q "SELECT group_concat(event || '@' || at_s || '->' || round(done_s, 2) || ' rc ' || rc, ', ') FROM events")"
[ "$(q "SELECT count(*) FROM events WHERE rc = 0 AND done_s >= at_s AND done_s < at_s + 1.5")" = 2 ] ||
	fail "the two events were not carried out on time"

# The run file's rounds are on the run's clock (t_ns: the round's start).
rounds_in() { # rounds_in FROM_S TO_S: the rounds starting in [FROM, TO) seconds
	q "SELECT group_concat(DISTINCT round) FROM rounds WHERE t_ns >= $1 * 1e9 AND t_ns < $2 * 1e9" 
}
h1pool="(SELECT id FROM pools WHERE host = 'h1' AND resource = 3)"
rb=$(rounds_in 1 5) ra=$(rounds_in 8 18)
before=$(L "SELECT group_concat(DISTINCT supply) FROM prices WHERE pool = $h1pool AND round IN ($rb)")
after=$(L "SELECT group_concat(DISTINCT supply) FROM prices WHERE pool = $h1pool AND round IN ($ra)")
alloc=$(L "SELECT max(allocated) || ',' || min(allocated) FROM prices WHERE pool = $h1pool AND round IN ($ra)")
log "  h1's bandwidth pool (ledger): supply $before before, $after after; allocated max,min $alloc after"
[ "$before" = 300 ] || fail "h1's supply before the event is $before, not 300"
[ "$after" = 60 ] || fail "h1's supply after the event is $after, not 60"
[ "${alloc%,*}" -le 60 ] && [ "${alloc#*,}" -gt 0 ] || fail "h1 allocated $alloc after the event"
# The run file's rounds carry the market's supply too (both hosts' pools summed).
[ "$(q "SELECT group_concat(DISTINCT supply) FROM rounds WHERE resource = 'bandwidth' AND round IN ($ra)")" = 360 ] ||
	fail "the run file's rounds do not show the supply of 60 + 300"

held_b=$(q "SELECT group_concat(DISTINCT h) FROM (SELECT t_s, sum(holding) h FROM tenant_seconds WHERE tenant IN ('alice', 'bob') AND t_s BETWEEN 3 AND 5 GROUP BY t_s)")
held_a=$(q "SELECT max(h) FROM (SELECT t_s, sum(holding) h FROM tenant_seconds WHERE tenant IN ('alice', 'bob') AND t_s BETWEEN 8 AND 18 GROUP BY t_s)")
sent_a=$(q "SELECT round(max(m), 1) FROM (SELECT t_s, sum(sent_mbit) m FROM tenant_seconds WHERE tenant IN ('alice', 'bob') AND t_s BETWEEN 9 AND 18 GROUP BY t_s)")
log "  alice + bob hold $held_b before, at most $held_a after; sent at most $sent_a Mbit/s after (tc)"
[ "$held_b" = 93 ] || fail "alice and bob hold $held_b before the supply event, not 93"
[ "$held_a" -le 60 ] || fail "alice and bob hold $held_a after h1 sells 60"
awk -v v="$sent_a" 'BEGIN { exit !(v <= 66) }' || fail "h1's tenants sent $sent_a Mbit/s of 60"

prices_b=$(q "SELECT group_concat(DISTINCT price) FROM pool_prices WHERE resource = 'bandwidth' AND round IN ($(rounds_in 1 11))")
prices_a=$(q "SELECT group_concat(DISTINCT price) FROM pool_prices WHERE resource = 'bandwidth' AND round IN ($(rounds_in 13 18))")
log "  prices: $prices_b before 12 s, $prices_a from 13 s"
[ "$prices_b" = 3600000000 ] || fail "the price before the price event is $prices_b"
[ "$prices_a" = 43200000000 ] || fail "the price after the price event is $prices_a"
carol=$(q "SELECT group_concat(DISTINCT holding) FROM tenant_seconds WHERE tenant = 'carol' AND t_s BETWEEN 3 AND 11")/$(q "SELECT group_concat(DISTINCT holding) FROM tenant_seconds WHERE tenant = 'carol' AND t_s >= 14")
log "  carol holds $carol (before / from 14 s)"
[ "$carol" = 10/0 ] || fail "carol holds $carol, not 10 then 0"

log "class_rounds: every tenant's rounds, summing to its class"
nr=$(L "SELECT count(*) FROM rounds")
[ "$(q "SELECT count(*) FROM class_rounds")" = $((nr * 3)) ] ||
	fail "class_rounds has $(q "SELECT count(*) FROM class_rounds") rows, not 3 x $nr rounds"
for t in alice bob carol; do
	read -r v p < <(q "SELECT sum(value), sum(payment) FROM class_rounds WHERE class = '$t'" | tr '|' ' ')
	read -r cv cp < <(q "SELECT value, payment FROM classes WHERE class = '$t'" | tr '|' ' ')
	log "  $t: rounds sum to value $v payment $p; class $cv $cp"
	[ "$v" = "$cv" ] && [ "$p" = "$cp" ] || fail "$t's class_rounds do not sum to its class"
	[ "$(q "SELECT count(*) FROM class_rounds WHERE class = '$t' AND profit != value - payment")" = 0 ] ||
		fail "$t's round profit is not value - payment"
	la=$(L "SELECT coalesce(sum(a.quantity), 0) FROM allocations a JOIN tenants t ON t.id = a.tenant JOIN pools p ON p.id = a.pool WHERE t.name = '$t' AND p.resource = 3")
	ra_=$(q "SELECT sum(allocated) FROM class_rounds WHERE class = '$t'")
	[ "$la" = "$ra_" ] || fail "$t's class_rounds allocated $ra_, the ledger $la"
done
bad=$(q "SELECT count(*) FROM rounds r WHERE resource = 'bandwidth' AND (welfare != (SELECT sum(value) FROM class_rounds c WHERE c.round = r.round) OR tenant_utility != welfare - revenue)")
[ "$bad" = 0 ] || fail "$bad rounds' welfare is not their class values"
log "  rounds with value: $(q "SELECT count(*) FROM rounds WHERE welfare > 0") of $nr; alice's W per round: $(q "SELECT group_concat(DISTINCT mean_delay_us) FROM class_rounds WHERE class = 'alice'")"

log "every tenant's value from the samples (refund: max(0, 20 - beta x L ms); bonus: 8 + min(1 / L ms, 2) per Gbit)"
for x in "alice:max(0, 20 - 1 * mean_us / 1000.0)" "bob:max(0, 20 - 0.1 * mean_us / 1000.0)" "carol:8 + min(1 / (mean_us / 1000.0), 2)"; do
	t=${x%%:*} a=${x#*:}
	value=$(q "SELECT value FROM classes WHERE class = '$t'")
	want=$(q "SELECT coalesce(round(sum(sent_mbit / 1000.0 * ($a)) * 1e9), 0) FROM tenant_seconds WHERE tenant = '$t' AND up AND mean_us > 0 AND sent_mbit > 0")
	n=$(q "SELECT count(*) FROM tenant_seconds WHERE tenant = '$t' AND up AND mean_us > 0 AND sent_mbit > 0")
	log "  $t: value $value (by SQL ${want%.*}) over $n seconds"
	[ "$n" -ge 5 ] || fail "$t has only $n seconds with latency and traffic"
	[ "$value" -gt 0 ] || fail "$t's value is $value"
	# Each second is rounded to whole nanodollars: at most n apart.
	awk -v a="$value" -v b="${want%.*}" -v n="$n" 'BEGIN { d = a - b; if (d < 0) d = -d; exit !(d <= n + b * 1e-6) }' ||
		fail "$t's value $value is not the samples' ${want%.*}"
done

"$B/raas-sim" report "$T/run.sqlite" --out "$T/report" --no-charts >"$T/report.out" 2>&1 ||
	fail "raas-sim report: $(tail -5 "$T/report.out")"
lines=$(wc -l <"$T/report/class_rounds.csv")
[ "$lines" = $((nr * 3 + 1)) ] || fail "the report's class_rounds.csv has $lines lines, not $((nr * 3 + 1))"
log "ok"
