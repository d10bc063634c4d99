#!/bin/sh
# test_ops_billing.sh: money follows enforcement, with the real market and three real host
# agents (fake backend) on loopback. alice holds 2 cores on each host:
#   h1's backend fails one apply (fail_nth): that round is credited, the others charged;
#   h2 stops answering (SIGSTOP): the rounds it never acknowledged are credited after
#      ack_timeout;
#   h3 is reloaded without alice's mapping: the market then refuses her bid there before any
#      round charges it (raas bids says why), and whatever was in flight is credited.
# Then: raas ledger check passes, and alice is charged exactly the charges of the rounds
# each host's agent itself logged as applied completely (its own word, not the market's).
set -eu
. "$RAAS_SOURCE_DIR/tests/ops/lib.sh"

keys market alice h1 h2 h3
"$B/raas" tenant add alice --key "$T/keys/alice.pub" >/dev/null
for h in h1 h2 h3; do "$B/raas" host add $h --key "$T/keys/$h.pub" >/dev/null; done
market_config 200 2s
start_market "$T/market.ini"
agent_config h1 "fail_op = apply
fail_nth = 2" alice
agent_config h2 "" alice
agent_config h3 "" alice bob
for h in h1 h2 h3; do start_agent $h; done
pools3() { [ "$(as alice prices -o json --resource cores | jq length)" = 3 ]; }
wait_for 10 "three cores pools" pools3

log "alice acquires 2 cores on each host"
for h in h1 h2 h3; do as alice acquire --resource cores --host $h --quantity 2 >/dev/null; done
wait_for 10 "h1 applied alice's 2 cores" grep -q "round .*: 1 allocations applied .*complete" "$T/h1.log"
# h1: one more core; the fake fails that apply (its 2nd), the agent rolls back to 2 and the
# next round applies 3.
as alice acquire --resource cores --host h1 --quantity 1 >/dev/null
wait_for 10 "h1's failed round" grep -q "with failures" "$T/h1.log"
h1_recovered() { tail -n 4 "$T/h1.log" | grep -q "1 allocations applied .*complete"; }
wait_for 10 "h1 applies 3 cores after the failure" h1_recovered

log "h2 stops answering"
wait_for 10 "h2 applied rounds" grep -q "complete" "$T/h2.log"
kill -STOP "$(cat "$T/h2.pid")"
stopped_at=$(q "SELECT MAX(round) FROM rounds")

log "h3 drops alice's mapping (SIGHUP)"
agent_config h3 "" bob
kill -HUP "$(cat "$T/h3.pid")"
wait_for 10 "h3 reloaded" grep -q "reloaded: 1 tenants (0 added, 1 dropped)" "$T/h3.log"
h3_refused() {
	as alice bids -o json |
		jq -e '.[] | select(.host == "h3") | .refused | contains("host h3 cannot enforce tenant alice")'
}
wait_for 10 "alice's bid on h3 refused before charging" h3_refused
refused_from=$(q "SELECT MAX(round) FROM rounds")
# A new bid there is refused at once, with the reason.
set +e
as alice acquire --resource cores --host h3 --quantity 1 >"$T/out" 2>"$T/err"
rc=$?
set -e
[ $rc = 77 ] || fail "acquire on h3 exited $rc: $(cat "$T/err")"
grep -q "ERROR_DENIED: host h3 cannot enforce tenant alice" "$T/err" || fail "reason: $(cat "$T/err")"

log "wait until h2's rounds time out, then release everything"
h2_pool=$(q "SELECT id FROM pools WHERE host = 'h2' AND resource = 1")
h2_credited() {
	[ "$(q "SELECT COUNT(*) FROM credits WHERE pool = $h2_pool AND reason LIKE '%did not acknowledge%'")" -gt 0 ]
}
wait_for 20 "a credit for a round h2 did not acknowledge" h2_credited
for h in h1 h2 h3; do as alice release --resource cores --host $h >/dev/null 2>&1 || true; done
kill -9 "$(cat "$T/h2.pid")"
last_alloc=$(q "SELECT MAX(round) FROM allocations")
settled() { [ "$(q "SELECT value FROM meta WHERE key = 'settled_through'")" -ge "$last_alloc" ]; }
wait_for 30 "every round settled" settled

log "the ledger's invariants"
"$B/raas" ledger check >"$T/out" || fail "raas ledger check: $(cat "$T/out")"

log "alice is charged for exactly the rounds in force"
expected=0
n_in_force=0
n_allocs=0
for h in h1 h2 h3; do
	complete_rounds $h >"$T/$h.complete"
	q "SELECT a.round, a.charge FROM allocations a JOIN pools p ON p.id = a.pool
	   WHERE p.host = '$h' ORDER BY a.round" | tr '|' ' ' >"$T/$h.allocs"
	while read -r round charge; do
		n_allocs=$((n_allocs + 1))
		if grep -qx "$round" "$T/$h.complete"; then
			expected=$((expected + charge))
			n_in_force=$((n_in_force + 1))
		fi
	done <"$T/$h.allocs"
done
charged=$(q "SELECT charged FROM tenants WHERE name = 'alice'")
log "  $n_allocs allocations, $n_in_force in force; charged $charged nanodollars, expected $expected"
[ "$charged" = "$expected" ] || fail "alice is charged $charged, the rounds in force come to $expected"
[ $n_in_force -gt 10 ] && [ $n_in_force -lt $n_allocs ] || fail "the test did not exercise both cases"

log "each host's credits say why"
for h in h1 h2 h3; do
	q "SELECT reason FROM credits c JOIN pools p ON p.id = c.pool WHERE p.host = '$h'" >"$T/$h.reasons"
done
[ "$(wc -l <"$T/h1.reasons")" = 1 ] || fail "h1: $(cat "$T/h1.reasons")"
grep -q "host h1, round" "$T/h1.reasons" || fail "h1's reason: $(cat "$T/h1.reasons")"
grep -q "host h2 did not acknowledge round .* within 2 s" "$T/h2.reasons" || fail "h2: $(cat "$T/h2.reasons")"
h2_credits=$(wc -l <"$T/h2.reasons")
h2_after_stop=$(q "SELECT COUNT(*) FROM allocations a JOIN pools p ON p.id = a.pool WHERE p.host = 'h2' AND a.round > $stopped_at")
[ "$h2_credits" -ge "$h2_after_stop" ] || fail "h2: $h2_credits credits for $h2_after_stop rounds after the stop"
# After h3 re-registered without alice, no round allocated her there.
after=$(q "SELECT COUNT(*) FROM allocations a JOIN pools p ON p.id = a.pool WHERE p.host = 'h3' AND a.round > $refused_from")
[ "$after" = 0 ] || fail "$after allocations on h3 after the refusal"
"$B/raas" credits alice -o json >"$T/out"
jq -e 'length > 0 and all(.[]; .tenant == "alice" and .amount > 0 and (.reason | length) > 0)' "$T/out" >/dev/null ||
	fail "raas credits: $(cat "$T/out")"
"$B/raas" invoice alice -o json >"$T/out"
jq -e '[.[] | select(.kind == "credit")] | length > 0 and all(.[]; .amount < 0 and (.note | length) > 0)' "$T/out" >/dev/null ||
	fail "invoice credits: $(cat "$T/out")"
jq -e --argjson c "$charged" '.[-1].kind == "total" and (.[-1].amount * 1e9 | round) == $c' "$T/out" >/dev/null ||
	fail "invoice total: $(cat "$T/out")"
log "test_ops_billing: ok"
