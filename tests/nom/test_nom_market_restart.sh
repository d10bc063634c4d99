#!/bin/bash
# test_nom_market_restart.sh: the market killed (kill -9) and restarted under two running nom
# instances. Each instance's board goes stale while the market is gone and fresh again when it
# is back; the standing bids (placed through libnom) and the holdings (the example app's
# acquire) survive: on the boards, at the market (raas bids), and in the ledger; nothing is
# re-sent as a second acquire, and requests made while the market is down fail with
# "unavailable" instead of hanging.
#
# Real daemons on loopback: raas-marketd (a pool declared in its config, no host agent),
# nom-priced and nom-example-bw per instance, nom-ctl and the raas CLI as clients.
set -eu
. "$(dirname "$0")/lib.sh"
need raas-marketd raas nom-priced nom-example-bw nom-board nom-ctl /jq

keys market alice bob
export RAAS_LEDGER=$T/ledger.sqlite
"$B/raas" tenant add alice --key "$T/keys/alice.pub" >/dev/null
"$B/raas" tenant add bob --key "$T/keys/bob.pub" >/dev/null
cat >"$T/market.ini" <<EOF
[market]
tenant_endpoint = tcp://127.0.0.1:*
price_endpoint = tcp://127.0.0.1:*
host_endpoint = tcp://127.0.0.1:*
round_ms = 200
ledger = $T/ledger.sqlite
key_dir = $T/keys

[pool.bw]
host = h1
resource = bandwidth
supply = 1000
model = fixed
params = price=\$0.0001
EOF
log "market"
start_market "$T/market.ini"
A=$P-alice
Bb=$P-bob
start_priced alice "$A"
start_priced bob "$Bb"
wait_for 20 "both boards fresh" board "$A" '.market == "fresh"'
wait_for 20 "bob's board fresh" board "$Bb" '.market == "fresh"'

log "standing bids and holdings"
"$B/nom-ctl" "$A" bid standing-a bandwidth h1 1 10 0.00005 >/dev/null || fail "alice's bid"
"$B/nom-ctl" "$Bb" bid standing-b bandwidth h1 5 20 0.00002 >/dev/null || fail "bob's bid"
"$B/nom-example-bw" --instance "$A" --host h1 --value 0.0005 --quantity 40 >"$T/app-alice.log" &
started $!
wait_for 20 "alice's app holds 40 Mbit/s" \
	board "$A" '.holdings[] | select(.resource == "bandwidth" and .host == "h1") | .quantity == 40'
wait_for 10 "standing bids active" board "$A" '.bids[] | select(.bid_id == "standing-a") | .state == "active"'
wait_for 10 "bob's bid active" board "$Bb" '.bids[] | select(.bid_id == "standing-b") | .state == "active"'
reconnects_before=$(board_get "$A" .reconnects)
acquires_before=$(grep -c 'event=acquire' "$T/app-alice.log")

log "kill -9 the market"
kill -9 "$MPID"
wait "$MPID" 2>/dev/null || true
wait_for 15 "alice's board stale" board "$A" '.market == "stale"'
wait_for 15 "bob's board stale" board "$Bb" '.market == "stale"'
"$B/nom-ctl" "$A" status | grep -q 'market=stale' || fail "nom-ctl status does not say stale"
# What was on the board stays there, marked stale.
board "$A" '.prices[] | select(.host == "h1") | .unit_price == 100000' || fail "price gone"
board "$A" '.bids[] | select(.bid_id == "standing-a")' || fail "bid gone from the board"
set +e
"$B/nom-ctl" "$A" bid during-outage bandwidth h1 1 2 0.00001 >/dev/null 2>"$T/outage.err"
rc=$?
set -e
[ "$rc" = 69 ] || fail "a bid while the market is down exited $rc, not 69 (unavailable)"
grep -q "not sent" "$T/outage.err" || fail "the outage error does not say it was not sent"

log "restart the market on the same endpoints"
sed -i -e "s|^tenant_endpoint = .*|tenant_endpoint = $MARKET|" \
	-e "s|^price_endpoint = .*|price_endpoint = $PRICES|" \
	-e "s|^host_endpoint = .*|host_endpoint = $HOSTAPI|" "$T/market.ini"
start_market "$T/market.ini"
wait_for 20 "alice's board fresh again" board "$A" '.market == "fresh"'
wait_for 20 "bob's board fresh again" board "$Bb" '.market == "fresh"'
[ "$(board_get "$A" .reconnects)" -gt "$reconnects_before" ] || fail "no reconnect counted"
grep -q "standing bids to re-sync" "$T/priced-alice.log" || fail "nom-priced did not re-sync"

log "standing bids and holdings survived"
wait_for 10 "alice's standing bid active after the restart" \
	board "$A" '.bids[] | select(.bid_id == "standing-a") | .state == "active" and .unit_price == 50000'
wait_for 10 "bob's standing bid active after the restart" \
	board "$Bb" '.bids[] | select(.bid_id == "standing-b") | .state == "active" and .max == 20'
board "$A" '[.bids[] | select(.state == "refused")] | length == 0' || fail "a bid was refused"
export RAAS_MARKET=$MARKET RAAS_PRICES=$PRICES RAAS_SERVER_KEY=$T/keys/market.pub
RAAS_KEY=$T/keys/alice.key "$B/raas" bids -o json >"$T/bids-alice.json"
jq -e '[.[] | .bid_id] | index("standing-a") != null' "$T/bids-alice.json" >/dev/null ||
	fail "the market lost alice's bid: $(cat "$T/bids-alice.json")"
RAAS_KEY=$T/keys/bob.key "$B/raas" bids -o json >"$T/bids-bob.json"
jq -e '[.[] | .bid_id] | index("standing-b") != null' "$T/bids-bob.json" >/dev/null ||
	fail "the market lost bob's bid: $(cat "$T/bids-bob.json")"
wait_for 10 "alice still holds 40 Mbit/s" \
	board "$A" '.holdings[] | select(.resource == "bandwidth" and .host == "h1") | .quantity == 40'
RAAS_KEY=$T/keys/alice.key "$B/raas" allocations -o json >"$T/alloc.json"
jq -e '[.[] | select(.resource == "bandwidth")] | .[0].quantity == 40' "$T/alloc.json" >/dev/null ||
	fail "the market's allocation of alice is not 40: $(cat "$T/alloc.json")"
# The app saw no reason to acquire again: the holding never went away.
[ "$(grep -c 'event=acquire' "$T/app-alice.log")" = "$acquires_before" ] ||
	fail "the app acquired again: $(cat "$T/app-alice.log")"

log "requests work again; the boards hold their invariants"
"$B/nom-ctl" "$A" bid after-restart bandwidth h1 1 2 0.00001 >/dev/null || fail "bid after the restart"
"$B/nom-board" check "$A" >/dev/null || fail "alice's board fails its invariants"
"$B/nom-board" check "$Bb" >/dev/null || fail "bob's board fails its invariants"
wait_for 10 "alice charged" board "$A" '.charged_total > 0'
log "ok"
