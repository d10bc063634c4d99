#!/bin/sh
# test_dash_slow.sh: slow and stuck HTTP clients against raas-marketd (slowloris-style), with
# 50 ms rounds and http_timeout = 2s: 50 requests whose heads dribble in a byte at a time are
# answered 200 once complete; 50 that stop half-way are closed by the server after the
# timeout; ordinary requests meanwhile are all answered 200; five event streams that never
# read are dropped (counted under reason="timeout" on /metrics); the market does not crash
# and its rounds keep their timing (the closes during the attack are as many as the clock
# says, their median interval within 10% of 50 ms).
set -eu
. "$RAAS_SOURCE_DIR/tests/dashboards/lib.sh"
need /curl /python3

dash_market 50 "http_timeout = 2s
http_history_rounds = 5000"
as alice acquire --resource cores --host h1 --quantity 2 >/dev/null
hp=${H#http://}
summary() { curl -sf "$H/api/summary" | jq -r "$1"; }
r0=$(summary .round)
t0=$(date +%s%N)
python3 "$RAAS_SOURCE_DIR/tests/dashboards/slow_clients.py" "${hp%:*}" "${hp##*:}" 2 >"$T/slow.out" 2>&1 &
SPID=$!
started $SPID
done_or_failed() { grep -q '^ok$' "$T/slow.out" || ! kill -0 "$SPID" 2>/dev/null; }
wait_for 60 "the slow clients' verdict" done_or_failed
cat "$T/slow.out"
grep -q '^ok$' "$T/slow.out" || fail "slow clients: $(grep FAIL "$T/slow.out" | head -3)"
grep -q '^dribblers: 50 of 50 answered 200' "$T/slow.out" || fail "not every dribbler answered"
grep -q '^stallers: 50 of 50 closed' "$T/slow.out" || fail "not every staller closed"

dropped() { [ "$(curl -sf "$H/metrics" | awk '$1 == "raas_market_sse_dropped_total{reason=\"timeout\"}" { print $2 }')" -ge 5 ]; }
wait_for 40 "the five streams that never read dropped (reason timeout)" dropped
wait_for 10 "no event-stream client left" sh -c "[ \$(curl -sf '$H/api/summary' | jq .sse_clients) = 0 ]"
log "the five unread event streams were dropped: $(curl -sf "$H/metrics" | grep '^raas_market_sse_dropped_total' | tr '\n' ' ')"

t1=$(date +%s%N)
r1=$(summary .round)
kill -0 "$MPID" || fail "raas-marketd died"
curl -sf "$H/api/rounds" | jq -r ".rounds[] | select(.round > $r0 and .round <= $r1) | .closed_wall_ns" >"$T/closes"
n=$(wc -l <"$T/closes")
want=$(((t1 - t0) / 50000000))
awk 'NR > 1 { printf "%.3f\n", ($1 - p) / 1e6 } { p = $1 }' "$T/closes" | sort -n >"$T/intervals"
k=$(wc -l <"$T/intervals")
[ "$k" -ge 10 ] || fail "only $k round intervals"
med=$(sed -n "$(((k + 1) / 2))p" "$T/intervals")
max=$(tail -1 "$T/intervals")
log "rounds during the attack: $n closed in $(((t1 - t0) / 1000000)) ms (the clock says $want), interval median $med ms, max $max ms"
[ "$n" -ge $((want * 9 / 10)) ] || fail "only $n rounds closed in $(((t1 - t0) / 1000000)) ms of 50 ms rounds (want >= $((want * 9 / 10)))"
awk -v m="$med" 'BEGIN { exit !(m >= 45 && m <= 55) }' || fail "median round interval $med ms, want 50 +- 10%"
log "PASS"
