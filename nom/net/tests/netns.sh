# netns.sh: network-namespace helpers for nomnet and app tests (sourced, POSIX sh).
#
# Each test makes its own namespaces, named with its own prefix and pid, and registers what
# it starts so that netns_cleanup (run from a trap) removes all of it, even on failure.
# Topologies:
#   netns_veth NS KIF NIF KADDR  one namespace, a veth pair: KIF is the kernel's end (address
#                                KADDR, offloads off), NIF the end a nomnet driver binds (no
#                                kernel address, IPv6 off so the kernel stays quiet on it)
#   netns_tap NS TAP KADDR       one namespace with a persistent tap device TAP (address
#                                KADDR) that a nomnet `tap` stack attaches to
#   netns_pair NSC NSS KIF SIF CADDR [SADDR]
#                                two namespaces joined by a veth: the client end KIF in NSC
#                                with CADDR, the server end SIF in NSS (with SADDR when given,
#                                for kernel-socket servers; without for nomnet)

NETNS_LIST=""
NETNS_PIDS=""

# skip, missing, need_root, need_tool, need_built: when a test skips and when it fails.
. "${RAAS_SOURCE_DIR:?set RAAS_SOURCE_DIR to the source tree}/tests/lib/need.sh"

# netns_require_root: root (else a skip) and a working `ip netns` (as root, else a failure).
netns_require_root() {
	need_root "network namespaces"
	need_ok "ip netns list" ip netns list >/dev/null
}

netns_add() {
	ip netns add "$1" || return 1
	NETNS_LIST="$NETNS_LIST $1"
	ip netns exec "$1" ip link set lo up
}

netns_quiet_if() { # NS IF: no IPv6 chatter on an interface the kernel does not own
	ip netns exec "$1" sh -c "echo 1 > /proc/sys/net/ipv6/conf/$2/disable_ipv6" 2>/dev/null || true
}

netns_veth() {
	netns_add "$1" || return 1
	ip netns exec "$1" ip link add "$2" type veth peer name "$3" || return 1
	netns_quiet_if "$1" "$3"
	ip netns exec "$1" ip addr add "$4" dev "$2" || return 1
	ip netns exec "$1" ip link set "$2" up || return 1
	ip netns exec "$1" ip link set "$3" up || return 1
	ip netns exec "$1" "$RAAS_BIN/nomnet-ctl" ifprep "$2" "$3"
}

netns_tap() {
	netns_add "$1" || return 1
	ip netns exec "$1" ip tuntap add dev "$2" mode tap || return 1
	ip netns exec "$1" ip addr add "$3" dev "$2" || return 1
	ip netns exec "$1" ip link set "$2" up || return 1
}

netns_pair() {
	netns_add "$1" || return 1
	netns_add "$2" || return 1
	ip link add "$3" netns "$1" type veth peer name "$4" netns "$2" || return 1
	ip netns exec "$1" ip addr add "$5" dev "$3" || return 1
	ip netns exec "$1" ip link set "$3" up || return 1
	ip netns exec "$2" ip link set "$4" up || return 1
	if [ -n "${6:-}" ]; then
		ip netns exec "$2" ip addr add "$6" dev "$4" || return 1
	else
		netns_quiet_if "$2" "$4"
	fi
	ip netns exec "$1" "$RAAS_BIN/nomnet-ctl" ifprep "$3"
}

# netns_spawn NS CMD...: starts CMD in NS in the background; sets NETNS_LAST_PID.
netns_spawn() {
	_ns=$1
	shift
	ip netns exec "$_ns" "$@" &
	NETNS_LAST_PID=$!
	disown "$NETNS_LAST_PID" 2>/dev/null # no "Killed" notices when it is stopped
	NETNS_PIDS="$NETNS_PIDS $NETNS_LAST_PID"
}

# netns_stop PID: SIGTERM, then wait up to 5 s, then SIGKILL.
netns_stop() {
	kill -TERM "$1" 2>/dev/null || return 0
	_i=0
	while kill -0 "$1" 2>/dev/null && [ $_i -lt 50 ]; do
		sleep 0.1
		_i=$((_i + 1))
	done
	kill -KILL "$1" 2>/dev/null || true
}

netns_cleanup() {
	for _p in $NETNS_PIDS; do
		kill -KILL "$_p" 2>/dev/null || true
	done
	for _ns in $NETNS_LIST; do
		ip netns del "$_ns" 2>/dev/null || true
	done
	NETNS_PIDS=""
	NETNS_LIST=""
}

# netns_wait_tcp NS IP PORT SECONDS: waits until a TCP connect from NS to IP:PORT succeeds.
netns_wait_tcp() {
	_deadline=$(($(date +%s) + $4))
	while [ "$(date +%s)" -le "$_deadline" ]; do
		if ip netns exec "$1" timeout 2 bash -c "exec 3<>/dev/tcp/$2/$3" 2>/dev/null; then
			return 0
		fi
		sleep 0.1
	done
	echo "no TCP listener at $2:$3 from $1 after $4 s" >&2
	return 1
}
