#!/bin/sh
# test_ops_check.sh: --check means one thing in every daemon: load the config, open the key
# files and the files and folders it names, create every model or backend, print what would
# run, exit 0, or 78 with the file named. For raas-marketd, raas-hostagentd and nom-priced:
# a missing key, a malformed key, and a missing folder (the ledger's, the fake backend's
# state file's, the local API socket's); and a good config passes. Nothing is started: no
# ledger, board or socket is left behind.
set -eu
. "$RAAS_SOURCE_DIR/tests/ops/lib.sh"
need nom-priced

keys market h1 alice
printf 'public = not-a-key\n' >"$T/keys/bad.key"
HOSTAPI=tcp://127.0.0.1:9

# expect RC NEEDLE CMD...: CMD exits RC and its stderr (or stdout) names NEEDLE.
expect() {
	want=$1
	needle=$2
	shift 2
	set +e
	"$@" >"$T/out" 2>"$T/err"
	rc=$?
	set -e
	[ "$rc" = "$want" ] || fail "$* exited $rc, expected $want: $(cat "$T/err" "$T/out")"
	grep -qF -- "$needle" "$T/err" "$T/out" || fail "$* does not name $needle: $(cat "$T/err" "$T/out")"
}

log "raas-marketd"
market_config 1000 60s
expect 0 "check ok" "$B/raas-marketd" -c "$T/market.ini" --check
[ ! -e "$T/ledger.sqlite" ] || fail "--check created the ledger"
expect 78 "$T/nokeys/market.key" "$B/raas-marketd" -c "$T/market.ini" --check --set market.key_dir="$T/nokeys"
mkdir -p "$T/badkeys" && cp "$T/keys/bad.key" "$T/badkeys/market.key"
expect 78 "$T/badkeys/market.key" "$B/raas-marketd" -c "$T/market.ini" --check --set market.key_dir="$T/badkeys"
expect 78 "folder $T/missing" "$B/raas-marketd" -c "$T/market.ini" --check --set market.ledger="$T/missing/l.sqlite"
# The same three at start: 78 too, and nothing created.
expect 78 "$T/nokeys/market.key" "$B/raas-marketd" -c "$T/market.ini" --set market.key_dir="$T/nokeys"
expect 78 "folder $T/missing" "$B/raas-marketd" -c "$T/market.ini" --set market.ledger="$T/missing/l.sqlite"
[ ! -e "$T/missing" ] || fail "a folder was created"
expect 78 "market.round_ms: 5 is outside" "$B/raas-marketd" -c "$T/market.ini" --check --set market.round_ms=5
expect 64 "unexpected argument" "$B/raas-marketd" -c "$T/market.ini" stray

log "raas-hostagentd"
agent_config h1 "" alice
expect 0 "check ok" "$B/raas-hostagentd" -c "$T/h1.ini" --check
expect 78 "$T/keys/nope.key" "$B/raas-hostagentd" -c "$T/h1.ini" --check --set agent.key="$T/keys/nope.key"
expect 78 "$T/keys/bad.key" "$B/raas-hostagentd" -c "$T/h1.ini" --check --set agent.key="$T/keys/bad.key"
expect 78 "$T/keys/nope.pub" "$B/raas-hostagentd" -c "$T/h1.ini" --check --set agent.market_public_key="$T/keys/nope.pub"
expect 78 "$T/missing/h1.state" "$B/raas-hostagentd" -c "$T/h1.ini" --check --set fake.state_file="$T/missing/h1.state"
expect 78 "$T/keys/nope.key" "$B/raas-hostagentd" -c "$T/h1.ini" --set agent.key="$T/keys/nope.key"
expect 64 "-c FILE is required" "$B/raas-hostagentd" --check

log "nom-priced"
cat >"$T/priced.ini" <<EOC
[priced]
instance = $P-chk
tenant_key = $T/keys/alice.key
market_key = $T/keys/market.pub
api = ipc://$T/chk.sock
EOC
expect 0 "check ok" "$B/nom-priced" -c "$T/priced.ini" --check
[ ! -e "/dev/shm/nom.$P-chk" ] || fail "--check took the board"
expect 78 "$T/keys/nope.key" "$B/nom-priced" -c "$T/priced.ini" --check --set priced.tenant_key="$T/keys/nope.key"
expect 78 "$T/keys/bad.key" "$B/nom-priced" -c "$T/priced.ini" --check --set priced.tenant_key="$T/keys/bad.key"
expect 78 "$T/missing" "$B/nom-priced" -c "$T/priced.ini" --check --set priced.api="ipc://$T/missing/x.sock"
# A key error at start is 78 too, and leaves no board behind.
expect 78 "$T/keys/bad.key" "$B/nom-priced" -c "$T/priced.ini" --set priced.market_key="$T/keys/bad.key"
[ ! -e "/dev/shm/nom.$P-chk" ] || fail "a key error left the board behind"
log "test_ops_check: ok"
