#!/bin/sh
# test_dash_api.sh: raas-marketd's dashboards API (docs/dashboards.md) against the real market
# with a tenant holding cores: the API's price and holding equal the CLI's; the event stream
# advances one event per round and resumes after Last-Event-ID; bad requests get clear status
# codes; promtool accepts /metrics; the market keeps closing rounds throughout.
set -eu
. "$RAAS_SOURCE_DIR/tests/dashboards/lib.sh"
need /curl /promtool

dash_market 100
log "dashboards at $H"

as alice acquire --resource cores --host h1 --quantity 2 >/dev/null
held() { curl -sf "$H/api/tenants" | jq -e '.tenants[0].holdings[0].quantity == 2' >/dev/null; }
wait_for 10 "the API shows alice's 2 cores" held

log "API values equal the CLI's"
api_price=$(curl -sf "$H/api/pools" | jq '.pools[] | select(.key == "h1/cores") | .price_nd')
cli_price=$(as alice prices -o json --resource cores | jq '.[0].unit_price')
log "price: API $api_price, CLI $cli_price"
[ "$api_price" = 3600000000 ] || fail "API price $api_price, want 3600000000 (\$3.60)"
[ "$(echo "$cli_price" | awk '{printf "%.0f", $1 * 1e9}')" = "$api_price" ] || fail "CLI price $cli_price != API $api_price"
led=$(q "SELECT charged FROM tenants WHERE name = 'alice'")
api_ch=$(curl -sf "$H/api/tenants" | jq '.tenants[0].charged_nd')
log "charged: ledger $led, API $api_ch"
[ "$api_ch" -ge "$led" ] && [ "$api_ch" -le $((led + 3 * 10000000)) ] || fail "API charged $api_ch vs ledger $led (at most a few rounds apart)"
[ "$(curl -sf "$H/api/pools" | jq '.pools[0].history | length')" -gt 0 ] || fail "no price history"
n=$(curl -sf "$H/api/rounds" | jq '.rounds | length')
[ "$n" -gt 0 ] || fail "no rounds"
charged_api=$(curl -sf "$H/api/tenants" | jq '.tenants[0].charged_nd')
[ "$charged_api" -gt 0 ] || fail "alice charged $charged_api in the API"

log "the event stream advances and resumes"
curl -sN --max-time 1.5 "$H/api/events" >"$T/sse1" || true
ids=$(sed -n 's/^id: //p' "$T/sse1")
cnt=$(echo "$ids" | grep -c . || true)
log "events in 1.5 s of 100 ms rounds: $cnt"
[ "$cnt" -ge 5 ] || fail "only $cnt events in 1.5 s: $(head -c 400 "$T/sse1")"
first=$(echo "$ids" | head -1)
last=$(echo "$ids" | tail -1)
[ $((last - first + 1)) = "$cnt" ] || fail "ids $first..$last but $cnt events (a gap)"
grep -q '"allocations":\[{"tenant":"alice"' "$T/sse1" || fail "no allocation of alice in the events"
curl -sN --max-time 0.5 -H "Last-Event-ID: $last" "$H/api/events" >"$T/sse2" || true
next=$(sed -n 's/^id: //p' "$T/sse2" | head -1)
[ "$next" = $((last + 1)) ] || fail "resumed at $next after $last"

log "bad input: clear status codes"
code() { curl -s -o /dev/null -w '%{http_code}' "$@"; }
[ "$(code "$H/api/nope")" = 404 ] || fail "unknown path: $(code "$H/api/nope")"
[ "$(code -X POST -d x "$H/api/pools")" = 405 ] || fail "POST not 405"
big=$(head -c 40000 /dev/zero | tr '\0' a)
c=$(code -H "X-Big: $big" "$H/api/pools")
case $c in 413|431) ;; *) fail "huge header: $c" ;; esac
[ "$(code -H 'Last-Event-ID: abc' "$H/api/events")" = 400 ] || fail "bad Last-Event-ID not 400"
log "1000 connections at once"
r0=$(curl -sf "$H/api/summary" | jq .round)
i=0
while [ $i -lt 1000 ]; do curl -s -o /dev/null -w '%{http_code}\n' "$H/api/summary" >>"$T/codes" & i=$((i + 1)); done
wait_for 30 "1000 answers" sh -c "[ \$(wc -l <'$T/codes') -ge 1000 ]"
ok=$(grep -c '^200$' "$T/codes" || true)
[ "$ok" = 1000 ] || fail "$ok of 1000 answered 200: $(sort "$T/codes" | uniq -c)"
r1=$(curl -sf "$H/api/summary" | jq .round)
[ "$r1" -gt "$r0" ] || fail "rounds stopped: $r0 -> $r1"
kill -0 "$MPID" || fail "raas-marketd died"

log "promtool check metrics"
curl -sf "$H/metrics" >"$T/metrics"
promtool check metrics <"$T/metrics" || fail "promtool: $(promtool check metrics <"$T/metrics" 2>&1)"
grep -q '^raas_market_pool_price_nanodollars_per_unit_hour{pool="h1/cores",host="h1",resource="cores"} 3600000000$' "$T/metrics" || fail "no price metric"
grep -q '^raas_market_close_to_publish_seconds_count [1-9]' "$T/metrics" || fail "no close-to-publish histogram"
grep -q '^raas_market_http_requests_total{code="404"} [1-9]' "$T/metrics" || fail "404 not counted"
log "PASS"
