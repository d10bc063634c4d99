#!/bin/bash
# memcached.sh: nom-memcached on nomnet in network namespaces, against the real clients and
# Debian's memcached.
#
# 1. mc-diff sends the cases of mc_cases.txt (every command, noreply, malformed lines, edge
#    values, the largest item and one byte more) to Debian's memcached (our own instance, on a
#    random port) and to nom-memcached over nomnet (xdp driver, batching delay 10 us), and
#    compares the replies byte for byte; then the same against nom-memcached over kernel
#    sockets, the build the benchmarks compare with.
# 2. memccapable (libmemcached's conformance test, ASCII protocol) passes against it.
# 3. memcaslap runs a get/set mix with verification: no verify failures, no misses.
# 4. libmemcached tools copy a file in and out (memccp/memccat), touch, test and remove keys.
set -u
: "${RAAS_BIN:?}" "${RAAS_SOURCE_DIR:?}"
. "$RAAS_SOURCE_DIR/apps/tests/lib.sh"
netns_require_root
need_tool memcached memccapable memcaslap memccp memccat

P="amc$$"
TMP=$(mktemp -d "/tmp/apps-mc-$$.XXXXXX")
trap 'netns_cleanup; rm -rf "$TMP"' EXIT INT TERM
fail=0
app_topology "$P" 10.78.1 || exit 1

# start_ref: a fresh Debian memcached (CAS versions count from the start, so each comparison
# needs its own) on a random port of the client namespace.
start_ref() {
	REF_PORT=$(random_port)
	netns_spawn "$APP_NSC" memcached -u root -l 127.0.0.1 -p "$REF_PORT" -U 0 -t 1 -m 64 -I 1m
	REF_PID=$NETNS_LAST_PID
	netns_wait_tcp "$APP_NSC" 127.0.0.1 "$REF_PORT" 20
}

start_ref || exit 1
KRN_PORT=$((REF_PORT + 1))
netns_spawn "$APP_NSS" "$RAAS_BIN/nom-memcached" --driver xdp --if "$APP_SIF" \
	--addr "$APP_SIP/24" --delay 10 --stats "$P" --memory 64 >"$TMP/nom.out" 2>&1
netns_spawn "$APP_NSC" "$RAAS_BIN/nom-memcached" --stack kernel --bind 127.0.0.1 \
	--port "$KRN_PORT" --memory 64 >"$TMP/krn.out" 2>&1
netns_wait_tcp "$APP_NSC" "$APP_SIP" 11211 20 || { cat "$TMP/nom.out"; exit 1; }
netns_wait_tcp "$APP_NSC" 127.0.0.1 "$KRN_PORT" 20 || exit 1

echo "== differential test: Debian memcached vs nom-memcached on nomnet"
ip netns exec "$APP_NSC" "$RAAS_BIN/mc-diff" --a "127.0.0.1:$REF_PORT" \
	--b "$APP_SIP:11211" --cases "$RAAS_SOURCE_DIR/apps/tests/mc_cases.txt" || fail=1
echo "== differential test: Debian memcached vs nom-memcached on kernel sockets"
netns_stop "$REF_PID"
start_ref || exit 1
ip netns exec "$APP_NSC" "$RAAS_BIN/mc-diff" --a "127.0.0.1:$REF_PORT" \
	--b "127.0.0.1:$KRN_PORT" --cases "$RAAS_SOURCE_DIR/apps/tests/mc_cases.txt" || fail=1

echo "== memccapable (ASCII)"
out=$(ip netns exec "$APP_NSC" timeout 60 memccapable -h "$APP_SIP" -p 11211 -a 2>&1)
echo "$out" | tail -3
echo "$out" | grep -q "All tests passed" || { echo "FAIL: memccapable: $out" >&2; fail=1; }

echo "== memcaslap with verification"
out=$(ip netns exec "$APP_NSC" timeout 60 memcaslap -s "$APP_SIP:11211" -T 2 -c 16 -t 3s \
	-v 0.2 2>&1)
echo "$out" | tail -2
ops=$(echo "$out" | sed -n 's/.*Ops: \([0-9]*\).*/\1/p' | tail -1)
vfail=$(echo "$out" | sed -n 's/^verify_failed: \([0-9]*\)/\1/p' | tail -1)
misses=$(echo "$out" | sed -n 's/^get_misses: \([0-9]*\)/\1/p' | tail -1)
if [ -z "$ops" ] || [ "$ops" -lt 1000 ] || [ "${vfail:-1}" != 0 ] || [ "${misses:-1}" != 0 ]; then
	echo "FAIL: memcaslap: ops=${ops:-none} verify_failed=${vfail:-none} get_misses=${misses:-none}" >&2
	fail=1
fi

echo "== libmemcached tools"
head -c 300000 /dev/urandom >"$TMP/blob"
S="--servers=$APP_SIP:11211"
ip netns exec "$APP_NSC" memccp "$S" "$TMP/blob" || fail=1
ip netns exec "$APP_NSC" memccat "$S" blob >"$TMP/blob.back" || fail=1
printf '\n' >>"$TMP/blob" # memccat ends what it prints with a newline
cmp "$TMP/blob" "$TMP/blob.back" || { echo "FAIL: memccat returned other bytes" >&2; fail=1; }
ip netns exec "$APP_NSC" memcexist "$S" blob || { echo "FAIL: memcexist" >&2; fail=1; }
ip netns exec "$APP_NSC" memctouch "$S" --expire=100 blob || { echo "FAIL: memctouch" >&2; fail=1; }
ip netns exec "$APP_NSC" memcrm "$S" blob || fail=1
if ip netns exec "$APP_NSC" memcexist "$S" blob 2>/dev/null; then
	echo "FAIL: blob still exists after memcrm" >&2
	fail=1
fi
ip netns exec "$APP_NSC" memcstat "$S" | grep -q "version: 1.6.18-nom" ||
	{ echo "FAIL: memcstat does not show our version" >&2; fail=1; }

echo "== nomnet counters while serving"
ip netns exec "$APP_NSS" "$RAAS_BIN/nomnet-ctl" stats "$P" || fail=1
exit $fail
