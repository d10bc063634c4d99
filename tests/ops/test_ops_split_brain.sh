#!/bin/sh
# test_ops_split_brain.sh: one market per ledger. A second raas-marketd on the ledger of a
# running one (other ports) exits 69 naming the running one's pid and endpoints, and writes
# nothing: with the first frozen (SIGSTOP: it holds the lock and writes nothing itself) the
# ledger's files are byte for byte the same before and after. The first then keeps serving,
# and the CLI's offline registry commands keep working beside it.
set -eu
. "$RAAS_SOURCE_DIR/tests/ops/lib.sh"

keys market alice bob
"$B/raas" tenant add alice --key "$T/keys/alice.pub" >/dev/null
market_config 100 2s "[pool.c]
host = h1
resource = cores
supply = 8"
start_market "$T/market.ini"
FIRST=$MPID
as alice acquire --resource cores --host h1 --quantity 1 >/dev/null

log "a second market on the same ledger, first frozen"
kill -STOP $FIRST
sleep 0.2 # a round the first may have been writing is committed or not; nothing moves now
sum() { cat "$T/ledger.sqlite" "$T/ledger.sqlite-wal" 2>/dev/null | md5sum; }
before=$(sum)
set +e
"$B/raas-marketd" -c "$T/market.ini" --ready-file "$T/ready2" 2>"$T/second.log"
rc=$?
set -e
after=$(sum)
kill -CONT $FIRST
[ $rc = 69 ] || fail "the second market exited $rc: $(cat "$T/second.log")"
grep -q "is in use by raas-marketd pid $FIRST" "$T/second.log" || fail "pid not named: $(cat "$T/second.log")"
grep -q "tenants $MARKET, prices $PRICES, hosts $HOSTAPI" "$T/second.log" ||
	fail "endpoints not named: $(cat "$T/second.log")"
[ ! -e "$T/ready2" ] || fail "the second market wrote a ready file"
[ "$before" = "$after" ] || fail "the ledger changed while only the second market ran"
[ "$(q "SELECT value FROM meta WHERE key = 'market_pid'")" = "$FIRST" ] || fail "identity"

log "the first keeps serving"
r0=$(q "SELECT MAX(round) FROM rounds")
more_rounds() { [ "$(q "SELECT MAX(round) FROM rounds")" -gt $((r0 + 5)) ]; }
wait_for 10 "rounds after the thaw" more_rounds
as alice allocations -o json | jq -e '.[0].quantity == 1' >/dev/null || fail "alice's holding"

log "offline registry commands beside it"
"$B/raas" tenant add bob --key "$T/keys/bob.pub" >/dev/null || fail "tenant add beside a market"
as bob acquire --resource cores --host h1 --quantity 2 >/dev/null || fail "bob, added live, bids"
"$B/raas" tenant budget bob '$1' >/dev/null || fail "tenant budget beside a market"
"$B/raas" ledger check >/dev/null || fail "ledger check beside a market"
"$B/raas" ledger backup "$T/copy.sqlite" >/dev/null || fail "backup beside a market"
"$B/raas" ledger check --ledger "$T/copy.sqlite" >/dev/null || fail "the copy's invariants"

log "--check beside it says so, and passes"
"$B/raas-marketd" -c "$T/market.ini" --check >"$T/out" || fail "--check: $(cat "$T/out")"
grep -q "in use now by process $FIRST" "$T/out" || fail "--check output: $(cat "$T/out")"
kill -TERM $FIRST
wait $FIRST || fail "the first market did not stop cleanly"
[ ! -e "$T/ready" ] || fail "the ready file outlived the market"
log "test_ops_split_brain: ok"
