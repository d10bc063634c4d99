# lib.sh: what the app integration tests share (sourced, bash): the namespace helpers of
# nom/net/tests/netns.sh, a server-side namespace with nomnet on one end of a veth and a
# client namespace on the other, and waiting for things with a deadline.
. "$RAAS_SOURCE_DIR/nom/net/tests/netns.sh"

# app_topology PREFIX SUBNET: namespaces ${PREFIX}c (client, SUBNET.1 on ${PREFIX}c0) and
# ${PREFIX}s (server, ${PREFIX}s0 without a kernel address for nomnet). Sets APP_NSC, APP_NSS,
# APP_SIF, APP_CIP, APP_SIP.
app_topology() {
	APP_NSC="${1}c"
	APP_NSS="${1}s"
	APP_SIF="${1}s0"
	APP_CIP="$2.1"
	APP_SIP="$2.2"
	netns_pair "$APP_NSC" "$APP_NSS" "${1}c0" "$APP_SIF" "$APP_CIP/24" || return 1
}

# wait_file_line FILE PATTERN SECONDS: waits until a line of FILE matches PATTERN.
wait_file_line() {
	_deadline=$(($(date +%s) + $3))
	while [ "$(date +%s)" -le "$_deadline" ]; do
		grep -q -- "$2" "$1" 2>/dev/null && return 0
		sleep 0.1
	done
	echo "no line matching '$2' in $1 after $3 s" >&2
	return 1
}

random_port() {
	echo $((20000 + RANDOM % 20000))
}
