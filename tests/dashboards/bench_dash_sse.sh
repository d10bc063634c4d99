#!/bin/sh
# bench_dash_sse.sh: round close-to-publish p99 of raas-marketd with 0 and with 50 event-stream
# clients connected (issue 15's figure; aim: within 5%). Prints figures, asserts nothing.
# ROUNDS (default 200) rounds of ROUND_MS (default 50) each, a tenant holding cores.
set -eu
. "$RAAS_SOURCE_DIR/tests/ops/lib.sh"
need /curl
ROUNDS=${ROUNDS:-200}
ROUND_MS=${ROUND_MS:-50}
CLIENTS=${CLIENTS:-50}
keys market alice
"$B/raas" tenant add alice --key "$T/keys/alice.pub" >/dev/null
market_config "$ROUND_MS" 2s "[pool.c1]
host = h1
resource = cores
supply = 8"
sed -i 's/^\[resource.cores\]/http_history_rounds = 100000\n[resource.cores]/' "$T/market.ini"
start_market "$T/market.ini"
H=$(sed -n 's/^http_endpoint=//p' "$T/ready")
as alice acquire --resource cores --host h1 --quantity 2 >/dev/null
round() { curl -sf "$H/api/summary" | jq .round; }
p99() { # rounds FROM..TO
	curl -sf "$H/api/rounds" | jq "[.rounds[] | select(.round > $1 and .round <= $2) | .close_to_publish_ns] | sort | .[((length * 99 / 100) | floor)]"
}
median() {
	curl -sf "$H/api/rounds" | jq "[.rounds[] | select(.round > $1 and .round <= $2) | .close_to_publish_ns] | sort | .[((length / 2) | floor)]"
}
r0=$(round)
wait_for 120 "$ROUNDS rounds without clients" sh -c "[ \$(curl -sf '$H/api/summary' | jq .round) -ge $((r0 + ROUNDS)) ]"
r1=$(round)
i=0
while [ $i -lt "$CLIENTS" ]; do curl -sN "$H/api/events" >/dev/null 2>&1 & started $!; i=$((i + 1)); done
wait_for 20 "$CLIENTS clients" sh -c "[ \$(curl -sf '$H/api/summary' | jq .sse_clients) -ge $CLIENTS ]"
r2=$(round)
wait_for 120 "$ROUNDS rounds with clients" sh -c "[ \$(curl -sf '$H/api/summary' | jq .round) -ge $((r2 + ROUNDS)) ]"
r3=$(round)
a=$(p99 "$r0" "$r1"); b=$(p99 "$r2" "$r3")
echo "close-to-publish over $ROUNDS rounds of $ROUND_MS ms: 0 clients p99 $a ns (median $(median "$r0" "$r1")), $CLIENTS clients p99 $b ns (median $(median "$r2" "$r3"))"
awk -v a="$a" -v b="$b" 'BEGIN { printf "p99 ratio %.3f (aim <= 1.05)\n", b / a }'
