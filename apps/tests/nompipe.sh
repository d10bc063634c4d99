#!/bin/bash
# nompipe.sh: NetPIPE's transmitter (Debian's NPtcp) runs a full default sweep against
# nompipe on nomnet in network namespaces: every message size from 1 byte to 8 MiB + 3 (NPtcp's
# default schedule and upper bound), each echoed intact (NPtcp stops on a short or wrong
# reply), and the output file lists every size once.
set -u
: "${RAAS_BIN:?}" "${RAAS_SOURCE_DIR:?}"
. "$RAAS_SOURCE_DIR/apps/tests/lib.sh"
netns_require_root
need_tool NPtcp

P="anp$$"
TMP=$(mktemp -d "/tmp/apps-np-$$.XXXXXX")
trap 'netns_cleanup; rm -rf "$TMP"' EXIT INT TERM
app_topology "$P" 10.78.3 || exit 1
PORT=$(random_port)
netns_spawn "$APP_NSS" "$RAAS_BIN/nompipe" --driver xdp --if "$APP_SIF" --addr "$APP_SIP/24" \
	--port "$PORT" --delay 2 >"$TMP/srv.out" 2>&1
SRV=$NETNS_LAST_PID
netns_wait_tcp "$APP_NSC" "$APP_SIP" "$PORT" 20 || { cat "$TMP/srv.out"; exit 1; }
# The probe connection above made nompipe start a session; it ended when the probe closed.

start=$(date +%s)
(cd "$TMP" && ip netns exec "$APP_NSC" timeout 150 NPtcp -h "$APP_SIP" -P "$PORT" -o np.out \
	>"$TMP/np.log" 2>&1)
rc=$?
echo "NPtcp exit $rc after $(($(date +%s) - start)) s"
tail -3 "$TMP/np.log"
fail=0
[ "$rc" = 0 ] || { echo "FAIL: NPtcp exited $rc" >&2; cat "$TMP/np.log" >&2; fail=1; }
n=$(wc -l <"$TMP/np.out" 2>/dev/null || echo 0)
last=$(awk 'END {print $1}' "$TMP/np.out" 2>/dev/null)
echo "$n sizes, the last $last bytes"
[ "$n" = 124 ] && [ "$last" = 8388611 ] || { echo "FAIL: want 124 sizes up to 8388611" >&2; fail=1; }
netns_stop "$SRV"
grep '"event":"exit"' "$TMP/srv.out"
exit $fail
