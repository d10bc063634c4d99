#!/bin/sh
# test_dash_metrics.sh: /metrics of raas-hostagentd and nom-priced (docs/dashboards.md) against
# the real daemons: a market closing 100 ms rounds, host h1's agent (fake backend) enforcing
# alice's and bob's cores, where every apply of bob's fails (fault injection), and alice's
# nom-priced following cores/h1. promtool accepts each page; the values are the ones the
# market and the board show: sets applied (as many as latency observations), bob's failures
# counted under cores as the market's /api/hosts reports them, the posted price, the board's
# update count and a staleness below a round or two. Profit reports: two apps report through
# nom-ctl (libnom) to nom-priced, and the market's /api/tenants shows alice's whole report
# (sum, each app's profit and W) and none for bob; reports outside raas.proto's bounds are
# refused with the field named. A non-loopback bind without a token is a config error naming
# the key.
set -eu
. "$RAAS_SOURCE_DIR/tests/dashboards/lib.sh"
need nom-priced nom-board nom-ctl /curl /promtool

keys bob h1
"$B/raas" tenant add bob --key "$T/keys/bob.pub" >/dev/null
"$B/raas" host add h1 --key "$T/keys/h1.pub" >/dev/null
dash_market 100
agent_config h1 "fail_tenant = bob" alice bob
start_agent h1
AH=$(sed -n 's/^http_endpoint=//p' "$T/h1.ready")
case $AH in http://127.0.0.1:[0-9]*) ;; *) fail "agent's ready file: no loopback http_endpoint: $(cat "$T/h1.ready")" ;; esac

dash_priced alice
inst=$INST
log "market $H, agent $AH, nom-priced $PH"

as alice acquire --resource cores --host h1 --quantity 2 >/dev/null
as bob acquire --resource cores --host h1 --quantity 1 >/dev/null
metric() { # URL NAME{LABELS}: the sample's value
	curl -sf "$1/metrics" | awk -v n="$2" '$1 == n { print $2; found = 1 } END { exit !found }'
}
failed3() { [ "$(metric "$AH" 'raas_hostagent_apply_failures_total{resource="cores"}')" -ge 3 ]; }
wait_for 20 "three failed applies of bob's cores on the agent's /metrics" failed3
priced_price() { [ "$(metric "$PH" "raas_priced_price_nanodollars_per_unit_hour{instance=\"$inst\",resource=\"cores\",host=\"h1\"}")" = 3600000000 ]; }
wait_for 20 "the price on nom-priced's /metrics" priced_price

log "raas-hostagentd /metrics"
curl -sf "$AH/metrics" >"$T/agent.metrics"
promtool check metrics <"$T/agent.metrics" || fail "promtool on the agent's page: $(promtool check metrics <"$T/agent.metrics" 2>&1)"
val() { awk -v n="$2" '$1 == n { print $2 }' "$1"; }
sets=$(val "$T/agent.metrics" raas_hostagent_rounds_applied_total)
nobs=$(val "$T/agent.metrics" raas_hostagent_apply_seconds_count)
last=$(val "$T/agent.metrics" raas_hostagent_last_round)
fails=$(val "$T/agent.metrics" 'raas_hostagent_apply_failures_total{resource="cores"}')
failed_sets=$(val "$T/agent.metrics" raas_hostagent_rounds_failed_total)
log "agent: $sets sets applied ($failed_sets with failures, $fails cores failures), $nobs latency observations, last round $last"
[ "$sets" -ge 3 ] || fail "only $sets sets applied"
[ "$nobs" = "$sets" ] || fail "apply_seconds_count $nobs != rounds_applied_total $sets"
inf=$(val "$T/agent.metrics" 'raas_hostagent_apply_seconds_bucket{le="+Inf"}')
[ "$inf" = "$sets" ] || fail "+Inf bucket $inf != $sets"
[ "$failed_sets" -ge 3 ] && [ "$failed_sets" -le "$sets" ] || fail "rounds_failed_total $failed_sets (of $sets)"
[ "$(val "$T/agent.metrics" raas_hostagent_market_connected)" = 1 ] || fail "market_connected not 1"
[ "$(val "$T/agent.metrics" 'raas_hostagent_info{host="h1"}')" = 1 ] || fail "no raas_hostagent_info{host=\"h1\"}"
mlast=$(curl -sf "$H/api/hosts" | jq '.hosts[] | select(.name == "h1") | .acked_round')
[ "$last" -le $((mlast + 2)) ] && [ "$last" -ge $((mlast - 20)) ] || fail "agent's last round $last vs the market's acked $mlast"
# The market's page is of its last round close: it may be a round behind the agent's count.
mfail() { curl -sf "$H/api/hosts" | jq '[.hosts[] | select(.name == "h1") | .failures[] | select(.tenant == "bob" and .resource == "cores")] | length'; }
wait_for 5 "the market's /api/hosts listing the $fails failures the agent counted" sh -c "[ \$(curl -sf '$H/api/hosts' | jq '[.hosts[] | select(.name == \"h1\") | .failures[] | select(.tenant == \"bob\" and .resource == \"cores\")] | length') -ge $fails ]"
log "the market's /api/hosts lists $(mfail) of bob's failed cores applies (the agent counted $fails)"
grep -q '^raas_hostagent_tenant_tx_bytes_total{tenant="alice"} ' "$T/agent.metrics" || fail "no meter of alice"
# The page is rendered by the agent's loop: the 200s of the pages fetched so far show on a later one.
ok200() { curl -sf "$AH/metrics" | grep -q '^raas_hostagent_http_requests_total{code="200"} [1-9]'; }
wait_for 5 "the agent's /metrics counting its 200s" ok200

log "nom-priced /metrics"
curl -sf "$PH/metrics" >"$T/priced.metrics"
promtool check metrics <"$T/priced.metrics" || fail "promtool on nom-priced's page: $(promtool check metrics <"$T/priced.metrics" 2>&1)"
upd=$(val "$T/priced.metrics" "raas_priced_board_updates_total{instance=\"$inst\"}")
stale=$(val "$T/priced.metrics" "raas_priced_board_staleness_seconds{instance=\"$inst\"}")
bupd=$("$B/nom-board" show "$inst" -o json | jq '.updates')
log "nom-priced: $upd board updates (the board: $bupd), staleness $stale s"
[ "$upd" -ge 3 ] || fail "$upd board updates"
[ "$bupd" -ge "$upd" ] && [ "$bupd" -le $((upd + 40)) ] || fail "board update_count $bupd vs metrics $upd"
awk -v s="$stale" 'BEGIN { exit !(s >= 0 && s < 2.5) }' || fail "staleness $stale s with 100 ms rounds (a price arrived: the gauge is its age)"
[ "$(val "$T/priced.metrics" "raas_priced_market_up{instance=\"$inst\"}")" = 1 ] || fail "market_up not 1"
[ "$(val "$T/priced.metrics" "raas_priced_notices_total{instance=\"$inst\"}")" -ge 1 ] || fail "no notices counted"
code=$(curl -s -o /dev/null -w '%{http_code}' "$PH/api/nope")
[ "$code" = 404 ] || fail "unknown path on nom-priced: $code"

log "profit reports: two apps through nom-ctl (libnom), nom-priced, the market's API"
"$B/nom-ctl" "$inst" report web 1.25 20 >/dev/null || fail "nom-ctl report web"
"$B/nom-ctl" "$inst" report batch -0.5 >/dev/null || fail "nom-ctl report batch"
"$B/nom-ctl" "$inst" report web 2.5 40 >/dev/null || fail "nom-ctl report web again"
reported() { curl -sf "$H/api/tenants" | jq -e '.tenants[] | select(.name == "alice") | .reported_profit_per_hour_nd == 2000000000' >/dev/null; }
wait_for 10 "alice's reported profit in the API" reported
curl -sf "$H/api/tenants" >"$T/tenants.json"
jq -c '.tenants[] | select(.name == "alice") | [.reported_profit_per_hour_nd, (.apps | map([.app, .profit_per_hour_nd, .w_ns]))]' "$T/tenants.json" >"$T/alice.json"
log "the API's alice: $(cat "$T/alice.json")"
[ "$(cat "$T/alice.json")" = '[2000000000,[["web",2500000000,40000],["batch",-500000000,null]]]' ] ||
	fail "alice's reported profit in the API: $(cat "$T/alice.json")"
[ "$(jq '.tenants[] | select(.name == "bob") | .reported_profit_per_hour_nd' "$T/tenants.json")" = null ] ||
	fail "bob reported nothing but the API shows a profit"
rp() { [ "$(metric "$PH" "raas_priced_reported_profit_nanodollars_per_hour{instance=\"$inst\",app=\"$1\"}")" = "$2" ]; }
wait_for 5 "nom-priced's /metrics shows web's report" rp web 2500000000
rp batch -500000000 || fail "nom-priced's /metrics: batch's report"
long=$(printf '%070d' 0)
rc=0
"$B/nom-ctl" "$inst" report "$long" 1 >"$T/long.out" 2>&1 || rc=$?
[ "$rc" = 65 ] && grep -q "1..63" "$T/long.out" || fail "a 70-byte app name: exit $rc, $(cat "$T/long.out")"
rc=0
"$B/nom-ctl" "$inst" report web 1 7200000000 >"$T/w.out" 2>&1 || rc=$?
[ "$rc" = 65 ] && grep -q "w_ns" "$T/w.out" || fail "W of 2 h: exit $rc, $(cat "$T/w.out")"
[ "$(curl -sf "$H/api/tenants" | jq '.tenants[] | select(.name == "alice") | .reported_profit_per_hour_nd')" = 2000000000 ] ||
	fail "a refused report changed the API's figure"

"$B/raas-hostagentd" -c "$T/h1.ini" --set=agent.http_port=18431 --check >"$T/check.out" 2>&1 || fail "agent --check: $(cat "$T/check.out")"
grep -q '^metrics: http on 127.0.0.1 port 18431' "$T/check.out" || fail "agent --check does not say where /metrics is: $(cat "$T/check.out")"

log "a non-loopback bind without a token is refused"
rc=0
"$B/raas-hostagentd" -c "$T/h1.ini" --set=agent.http_bind=0.0.0.0 --check >"$T/bad.out" 2>&1 || rc=$?
[ "$rc" = 78 ] || fail "agent with http_bind=0.0.0.0 exited $rc: $(cat "$T/bad.out")"
grep -q "http_bind" "$T/bad.out" || fail "the error does not name http_bind: $(cat "$T/bad.out")"
rc=0
"$B/nom-priced" --set=priced.instance=x --set=priced.tenant_key=k --set=priced.market_key=k \
	--set=priced.http_bind=10.0.0.1 --check >"$T/bad2.out" 2>&1 || rc=$?
[ "$rc" = 78 ] || fail "nom-priced with http_bind=10.0.0.1 exited $rc: $(cat "$T/bad2.out")"
grep -q "http_bind" "$T/bad2.out" || fail "the error does not name http_bind: $(cat "$T/bad2.out")"
kill -0 "$MPID" || fail "raas-marketd died"
log "PASS"
