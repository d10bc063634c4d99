#!/bin/sh
# test_ops_reload.sh: tenants reach hosts without restarts, and a broken config never
# replaces a working one. A tenant added live (raas tenant add) is refused on a host whose
# agent cannot map it, with the reason; after the operator adds [tenant.bob] to the agent's
# config and sends SIGHUP, the agent registers again and the next round enforces bob there
# (the fake backend's journal shows the apply), with nobody else's enforcement touched. A
# broken config on SIGHUP is refused (file:line named) and the old one stays in force, in the
# agent, the market and nom-priced alike; and what cannot change live is named.
set -eu
. "$RAAS_SOURCE_DIR/tests/ops/lib.sh"
need nom-priced

keys market alice bob h1
"$B/raas" tenant add alice --key "$T/keys/alice.pub" >/dev/null
"$B/raas" host add h1 --key "$T/keys/h1.pub" >/dev/null
market_config 200 5s
start_market "$T/market.ini"
agent_config h1 "" alice
start_agent h1
as alice acquire --resource cores --host h1 --quantity 2 >/dev/null
wait_for 10 "alice enforced on h1" grep -q "^apply cores alice 2 .* ret=0" "$T/h1.journal"

log "bob, added while everything runs, is refused on h1 with the reason"
"$B/raas" tenant add bob --key "$T/keys/bob.pub" >/dev/null
set +e
as bob acquire --resource cores --host h1 --quantity 3 >"$T/out" 2>"$T/err"
rc=$?
set -e
[ $rc = 77 ] || fail "bob's acquire exited $rc: $(cat "$T/err")"
grep -q "host h1 cannot enforce tenant bob: its agent has no \[tenant.bob\] section" "$T/err" ||
	fail "reason: $(cat "$T/err")"

log "SIGHUP with [tenant.bob]: the next round enforces bob"
alice_applies=$(grep -c "^apply cores alice" "$T/h1.journal")
agent_config h1 "" alice bob
kill -HUP "$(cat "$T/h1.pid")"
wait_for 10 "h1 reloaded" grep -q "reloaded: 2 tenants (1 added, 0 dropped)" "$T/h1.log"
mapped() { as bob acquire --resource cores --host h1 --quantity 3 >/dev/null 2>&1; }
wait_for 10 "bob accepted on h1" mapped
r_bid=$(q "SELECT MAX(round) FROM rounds")
wait_for 10 "bob enforced on h1" grep -q "^apply cores bob 3 .* ret=0" "$T/h1.journal"
r_done=$(q "SELECT MAX(round) FROM rounds")
[ $((r_done - r_bid)) -le 2 ] || fail "bob took $((r_done - r_bid)) rounds to be enforced"
grep -q "^bob cores 3 " "$T/h1.state" && grep -q "^alice cores 2 " "$T/h1.state" ||
	fail "state: $(cat "$T/h1.state")"
[ "$(grep -c "^apply cores alice" "$T/h1.journal")" = "$alice_applies" ] ||
	fail "the reload re-applied alice: $(cat "$T/h1.journal")"
grep -q "host h1 can enforce 2 tenants" "$T/market.log" || fail "no registration after the reload"
pid=$(cat "$T/h1.pid")

log "a broken agent config is refused; the old one stays in force"
printf '[agent]\nhost = h1\nheartbaet = 1s\n' >>"$T/h1.ini"
regs=$(grep -c "host h1 can enforce" "$T/market.log")
kill -HUP "$pid"
wait_for 10 "refusal logged" grep -q "reload refused, the running config stays in force: .*h1.ini:[0-9]*: .*heartbaet" "$T/h1.log"
kill -0 "$pid" || fail "the agent died on a broken config"
as alice acquire --resource cores --host h1 --quantity 1 >/dev/null
wait_for 10 "the old config still applies" grep -q "^apply cores alice 3 .* ret=0" "$T/h1.journal"
[ "$(grep -c "host h1 can enforce" "$T/market.log")" = "$regs" ] || fail "registered on a refused reload"
agent_config h1 "" alice bob
sed -i 's/^host = h1$/host = h9/' "$T/h1.ini"
kill -HUP "$pid"
wait_for 10 "host change refused" grep -q "reload refused.*\[agent\] host cannot change (h1 -> h9)" "$T/h1.log"

log "the market: a new ack_timeout is taken; a broken file or an endpoint change is not"
sed -i 's/^ack_timeout = 5s/ack_timeout = 7s/' "$T/market.ini"
kill -HUP $MPID
wait_for 10 "market reloaded" grep -q "reloaded .*ack_timeout 7 s" "$T/market.log"
sed -i 's/^round_ms = 200$/round_ms = 5/' "$T/market.ini"
kill -HUP $MPID
wait_for 10 "broken market config refused" grep -q "reload refused, the running config stays in force: .*market.ini:[0-9]*: market.round_ms" "$T/market.log"
sed -i 's/^round_ms = 5$/round_ms = 200/' "$T/market.ini"
sed -i 's|^tenant_endpoint = .*|tenant_endpoint = tcp://127.0.0.1:1|' "$T/market.ini"
kill -HUP $MPID
wait_for 10 "endpoint change refused" grep -q "tenant_endpoint cannot change while the market runs" "$T/market.log"
as alice prices >/dev/null || fail "the market stopped serving after refused reloads"

log "nom-priced: timeouts reload, the market endpoint does not"
cat >"$T/priced.ini" <<EOC
[priced]
instance = $P-i1
market = $MARKET
prices = $PRICES
tenant_key = $T/keys/alice.key
market_key = $T/keys/market.pub
api = ipc://$T/i1.sock
request_timeout = 4s
EOC
INSTANCES="$INSTANCES $P-i1"
"$B/nom-priced" -c "$T/priced.ini" --ready-file "$T/priced.ready" 2>>"$T/priced.log" &
PPID_=$!
started $PPID_
wait_for 10 "nom-priced ready" test -s "$T/priced.ready"
sed -i 's/^request_timeout = 4s/request_timeout = 6s/' "$T/priced.ini"
kill -HUP $PPID_
wait_for 10 "nom-priced reloaded" grep -q "reloaded: timeouts" "$T/priced.log"
sed -i 's|^market = .*|market = tcp://127.0.0.1:1|' "$T/priced.ini"
kill -HUP $PPID_
wait_for 10 "nom-priced refused" grep -q "priced.market cannot change while nom-priced runs" "$T/priced.log"
kill -TERM $PPID_
wait $PPID_ || fail "nom-priced did not stop cleanly"
log "test_ops_reload: ok"
