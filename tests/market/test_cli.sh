#!/bin/sh
# test_cli.sh: the raas CLI against a real raas-marketd on loopback: every command's output in
# table, json and csv (checked with jq and by field), its errors and their exit codes, and
# --help on every command.
set -eu

B=${RAAS_BIN:?set RAAS_BIN to the build/bin directory}
. "${RAAS_SOURCE_DIR:?}/tests/lib/need.sh"
need_tool jq
need_built raas raas-marketd

T=$(mktemp -d /tmp/market-cli-$$-XXXXXX)
MPID=""
cleanup() {
	[ -n "$MPID" ] && kill -9 "$MPID" 2>/dev/null || true
	rm -rf "$T"
}
trap cleanup EXIT INT TERM
cd "$T"

fail() {
	echo "FAIL: $*" >&2
	[ -f out ] && { echo "--- stdout:" >&2; cat out >&2; }
	[ -f err ] && { echo "--- stderr:" >&2; cat err >&2; }
	exit 1
}
# run WANT_RC CMD...: runs CMD with stdout in ./out and stderr in ./err, checks the exit code.
run() {
	want=$1
	shift
	set +e
	"$@" >out 2>err
	rc=$?
	set -e
	[ "$rc" = "$want" ] || fail "$* exited $rc, expected $want"
}
# jqt FILTER: the filter must be true of ./out.
jqt() {
	jq -e "$1" out >/dev/null || fail "jq '$1' is false"
}
contains() {
	grep -q -- "$2" "$1" || fail "$1 does not contain \"$2\""
}

echo "keys and registry"
run 0 "$B/raas" keygen --dir keys market
contains out "keys/market.key"
run 0 "$B/raas" -o json keygen --dir keys alice
jqt '.[0].name == "alice" and (.[0].public_key | length) == 40'
run 0 "$B/raas" keygen --dir keys bob -o csv
[ "$(head -1 out)" = "name,public_key,key_file,public_file" ] || fail "csv header: $(head -1 out)"
run 0 "$B/raas" keygen --dir keys h1
run 0 "$B/raas" keygen --dir keys stranger
run 73 "$B/raas" keygen --dir keys alice
contains err "exists (--force replaces it)"
run 64 "$B/raas" keygen --dir keys "bad/name"
[ "$(stat -c %a keys/alice.key)" = 600 ] || fail "keys/alice.key is not 0600"

run 0 "$B/raas" tenant add alice --key keys/alice.pub --budget '$1' --ledger ledger.sqlite -o json
jqt '.[0].name == "alice" and .[0].budget == 1 and .[0].charged == 0'
export RAAS_LEDGER="$T/ledger.sqlite"
run 0 "$B/raas" tenant add bob --key keys/bob.pub
contains out "unlimited"
run 65 "$B/raas" tenant add alice --key keys/h1.pub
contains err 'a tenant named "alice" exists already'
run 65 "$B/raas" tenant add carol --key keys/bob.pub
contains err "public key belongs to another tenant"
run 64 "$B/raas" tenant add carol
contains err "--key FILE"
printf 'public = not-a-key\n' >bad.pub
run 78 "$B/raas" tenant add carol --key bad.pub
contains err "bad.pub:1: public key is not 40 z85 characters"
run 66 "$B/raas" tenant add carol --key missing.pub
run 64 "$B/raas" tenant add carol --key keys/h1.pub --budget '$-5'
run 0 "$B/raas" host add h1 --key keys/h1.pub -o csv
contains out "h1,"
run 0 "$B/raas" tenant list -o json
jqt 'length == 2 and .[1].name == "bob" and .[1].budget == null'
run 0 "$B/raas" tenant list -o csv
[ "$(head -1 out)" = "name,public_key,budget,charged,created,status" ] || fail "tenant csv header"
[ "$(wc -l <out)" = 3 ] || fail "tenant csv rows"
run 0 "$B/raas" tenant list
contains out "unlimited"
contains out '\$1.00'
run 0 "$B/raas" host list -o json
jqt 'length == 1 and .[0].name == "h1"'
run 64 "$B/raas" tenant frob alice
contains err 'unknown subcommand "frob" (add, list, remove, budget)'
run 64 "$B/raas" host add h2 --key keys/h1.pub --force
run 64 "$B/raas" host add h2 --key keys/h1.pub --budget '$1'

echo "market"
cat >market.ini <<EOF
[market]
tenant_endpoint = tcp://127.0.0.1:*
price_endpoint = tcp://127.0.0.1:*
host_endpoint = tcp://127.0.0.1:*
round_ms = 50
ledger = $T/ledger.sqlite
key_dir = $T/keys
sync = normal

[pool.bw]
host = h1
resource = bandwidth
supply = 100
model = uniform
params = reserve=\$0.001

[pool.cores]
host = h1
resource = cores
supply = 8
model = fixed
params = price=\$0.02
EOF
run 0 "$B/raas-marketd" --check-config -c market.ini
echo "[market]
round_ms = 5" >bad.ini
run 78 "$B/raas-marketd" --check-config -c bad.ini
contains err "bad.ini:2: market.round_ms: 5 is outside 10..3600000"
"$B/raas-marketd" -c market.ini --ready-file ready 2>marketd.log &
MPID=$!
i=0
while [ ! -s ready ]; do
	i=$((i + 1))
	[ $i -lt 2000 ] || fail "raas-marketd did not start: $(cat marketd.log)"
	kill -0 $MPID 2>/dev/null || fail "raas-marketd exited: $(cat marketd.log)"
	sleep 0.01
done
RAAS_MARKET=$(sed -n 's/^tenant_endpoint=//p' ready)
RAAS_PRICES=$(sed -n 's/^price_endpoint=//p' ready)
RAAS_SERVER_KEY=keys/market.pub
RAAS_KEY=keys/alice.key
export RAAS_MARKET RAAS_PRICES RAAS_SERVER_KEY RAAS_KEY

echo "tenant commands"
run 0 "$B/raas" bid --resource bandwidth --host h1 --max 60 --price '$0.05' -o json
jqt '.[0].request == "bid" and .[0].bid_id == "cli/bandwidth/h1" and .[0].effective_round > 0'
run 0 "$B/raas" --key keys/bob.key bid --resource bandwidth --max 70 --price '$0.03' --id b1 -o csv
[ "$(head -1 out)" = "request,bid_id,effective_round" ] || fail "bid csv header"
contains out "bid,b1,"
# The same request id twice: the first answer again, not a second bid.
run 0 "$B/raas" --key keys/bob.key bid --resource bandwidth --host h1 --max 5 --price '$0.01' \
	--id b2 --request-id 4242 -o json
first=$(cat out)
sleep 0.2
run 0 "$B/raas" --key keys/bob.key bid --resource bandwidth --host h1 --max 5 --price '$0.01' \
	--id b2 --request-id 4242 -o json
[ "$(cat out)" = "$first" ] || fail "a retried request got a different answer: $first vs $(cat out)"
run 0 "$B/raas" --key keys/bob.key cancel b2
contains out "cancel"
run 0 "$B/raas" --key keys/bob.key bids -o json
jqt 'length == 1 and .[0].bid_id == "b1" and .[0].host == "any" and .[0].unit_price == 0.03'
run 0 "$B/raas" bid --resource bandwidth --host h1 --max 10 --curve '5@$0.04,5@$0.02' --id curvy
run 0 "$B/raas" bids -o csv
contains out 'curvy,bandwidth,h1,0,10,0.04,"5@$0.04,5@$0.02",'
run 0 "$B/raas" cancel curvy

# Wait (with a deadline) until a round has allocated both bids.
i=0
while :; do
	run 0 "$B/raas" allocations -o json
	jq -e 'length == 1' out >/dev/null && break
	i=$((i + 1))
	[ $i -lt 100 ] || fail "alice holds nothing after 100 tries"
	sleep 0.05
done
jqt '.[0].tenant == "alice" and .[0].resource == "bandwidth" and .[0].host == "h1" and .[0].quantity == 60'
run 0 "$B/raas" allocations
contains out "alice   bandwidth  h1"
run 0 "$B/raas" allocations -o csv
[ "$(head -1 out)" = "tenant,resource,host,quantity,unit_price,payment_per_hour" ] || fail "allocations csv"

run 0 "$B/raas" prices -o json
jqt 'length == 2 and (.[] | select(.resource == "cores") | .unit_price) == 0.02'
jqt '(.[] | select(.resource == "bandwidth") | .supply) == 100'
run 0 "$B/raas" prices -o csv --resource cores
[ "$(head -1 out)" = "round,resource,host,unit_price,supply,allocated,next_round" ] || fail "prices csv"
contains out ",cores,h1,0.02,8,"
run 0 "$B/raas" prices
contains out '\$0.02'
run 0 "$B/raas" prices --watch --count 3 -o json --resource bandwidth --host h1
[ "$(wc -l <out)" = 3 ] || fail "--watch --count 3 printed $(wc -l <out) lines"
jq -e -s 'length == 3 and .[0].round < .[2].round and all(.[]; .host == "h1")' out >/dev/null ||
	fail "watch lines"
run 0 "$B/raas" prices --watch --count 2 -o csv
[ "$(wc -l <out)" = 3 ] || fail "watch csv: header and two rows"

run 0 "$B/raas" rounds --limit 3 -o json
jqt 'length == 3 and .[0].round > .[1].round and (.[0].start | test("Z$"))'
run 0 "$B/raas" rounds --ledger "$T/ledger.sqlite" --limit 2 -o csv
[ "$(head -1 out)" = "round,start,end,round_ms,bids,revenue" ] || fail "ledger rounds csv"
run 0 "$B/raas" allocations --ledger "$T/ledger.sqlite" -o json
jqt 'length == 2 and ([.[] | .tenant] | sort) == ["alice", "bob"]'

run 0 "$B/raas" acquire --resource cores --host h1 --quantity 2 -o json
jqt '.[0].quantity == 2 and .[0].unit_price == 0.02 and .[0].payment_per_hour == 0.04'
run 65 "$B/raas" acquire --resource cores --host h1 --quantity 1 --price '$0.01'
contains err "ERROR_PRICE"
run 0 "$B/raas" release --resource cores --host h1 -o json
jqt '.[0].request == "release"'
run 65 "$B/raas" release --resource llc --host h1
contains err "ERROR_NOT_FOUND"
run 65 "$B/raas" cancel never-placed
contains err 'ERROR_NOT_FOUND: cancel.bid_id: alice has no standing bid "never-placed"'
run 65 "$B/raas" bid --resource bandwidth --host h1 --max 100 --price '$1000' --id big
contains err "ERROR_BUDGET"
# The answer of a release names what it released.
run 0 "$B/raas" acquire --resource cores --host h1 --quantity 1
run 0 "$B/raas" release --resource cores --host h1 -o json
jqt '.[0].bid_id == "acquire/cores/h1"'

echo "round trips"
# Sent when the handshake completes: a 300 ms timeout is plenty for a healthy market.
run 0 "$B/raas" prices --timeout 300
# A wrong server key is told apart from an unreachable market.
run 0 "$B/raas" keygen --dir keys impostor
run 77 "$B/raas" --server-key keys/impostor.pub prices --timeout 3000
contains err "the market's key does not match RAAS_SERVER_KEY (keys/impostor.pub)"
RAAS_CLI_TIMING=1 "$B/raas" prices >out 2>err || fail "prices with timing"
contains err "connect+handshake"

echo "ledger reports"
run 0 "$B/raas" revenue -o json
# The total line is the provider's revenue, and equals the sum of the other lines.
jqt '(.[-1].kind | startswith("total of")) and (([.[0:-1][] | .amount] | add) - .[-1].amount | fabs) < 1e-9'
run 0 "$B/raas" revenue -o csv --from 1 --to 2
[ "$(head -1 out)" = "tenant,host,resource,kind,quantity,amount" ] || fail "revenue csv"
run 0 "$B/raas" invoice alice -o json
jqt 'length >= 2 and .[-1].kind == "total" and all(.[0:-1][]; .tenant == "alice")'
run 0 "$B/raas" invoice alice
contains out "total"
run 65 "$B/raas" invoice nobody
contains err 'no tenant "nobody"'
run 66 "$B/raas" invoice alice --ledger "$T/none.sqlite"
run 64 "$B/raas" revenue --from 5 --to 2

echo "operator verbs"
run 0 "$B/raas" ledger check -o json
jqt '.[0].result | startswith("ok")'
jqt '.[0].rounds > 0 and .[0].schema == 2'
run 0 "$B/raas" ledger backup "$T/backup.sqlite" -o json
jqt '.[0].pages > 0 and .[0].last_round > 0'
run 0 "$B/raas" ledger check --ledger "$T/backup.sqlite"
run 73 "$B/raas" ledger backup "$T/backup.sqlite"
contains err "exists"
run 0 "$B/raas" tenant budget alice '$2' -o json
jqt '.[0].budget == 2'
run 0 "$B/raas" tenant budget bob unlimited -o json
jqt '.[0].budget == null'
run 64 "$B/raas" tenant budget alice lots
run 65 "$B/raas" tenant budget nobody '$1'
# bob still bids: refused without --force.
run 65 "$B/raas" tenant remove bob
contains err "bob has 1 standing bids"
run 0 "$B/raas" --key keys/bob.key bids -o json
jqt 'length == 1'
run 0 "$B/raas" tenant remove bob --force -o json
jqt '.[-1].kind == "total" and .[-1].round == null'
run 0 "$B/raas" tenant list -o json
jqt '(.[] | select(.name == "bob") | .status) == "removed"'
run 77 "$B/raas" --key keys/bob.key prices --timeout 2000
contains err "refused key"
run 65 "$B/raas" tenant remove bob
contains err "was removed"
run 0 "$B/raas" credits -o json
jqt 'length == 0'
run 0 "$B/raas" ledger check

echo "errors"
run 64 "$B/raas"
run 64 "$B/raas" frobnicate
contains err 'unknown command "frobnicate"'
run 64 "$B/raas" bid --frob
contains err 'unknown option'
run 64 "$B/raas" bid --max 5 --price '$1'
contains err "--resource is required"
run 64 "$B/raas" bid --resource bandwidth --max 5 --price abc
contains err '"abc" is not an amount of dollars'
run 64 "$B/raas" bid --resource disk --max 5 --price '$1'
run 64 "$B/raas" bid --resource bandwidth --max 5 --price '$1' --watch
contains err "bid does not take --watch"
run 64 "$B/raas" -o xml prices
run 64 "$B/raas" cancel
run 77 "$B/raas" --key keys/stranger.key prices --timeout 3000
contains err "refused key"
run 69 "$B/raas" --market tcp://127.0.0.1:1 prices --timeout 300
contains err "no answer from the market"
run 66 "$B/raas" --key keys/nope.key prices
run 78 "$B/raas" --key bad.pub prices

echo "help"
run 0 "$B/raas" --help
contains out "usage: raas"
for cmd in keygen tenant host ledger credits bid acquire release cancel bids prices allocations rounds revenue invoice; do
	run 0 "$B/raas" $cmd --help
	contains out "usage: raas $cmd"
done
run 0 "$B/raas-marketd" --help
run 0 "$B/raas-marketd" --help-config
contains out "round_ms"

kill -TERM $MPID
wait $MPID || fail "raas-marketd did not exit 0 on SIGTERM"
MPID=""
echo "test_cli: ok"
