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

# app_star PREFIX BASE N: one client namespace ${PREFIX}c and N server namespaces
# ${PREFIX}s1..N, server i reachable as BASE.i.2 through a veth whose client end is BASE.i.1
# (BASE like "10.79"). Sets APP_NSC and the arrays APP_NSS_I, APP_SIF_I, APP_SIP_I (1..N).
app_star() {
	APP_NSC="${1}c"
	netns_add "$APP_NSC" || return 1
	for i in $(seq "$3"); do
		APP_NSS_I[$i]="${1}s$i"
		APP_SIF_I[$i]="${1}s${i}e"
		APP_SIP_I[$i]="$2.$i.2"
		netns_add "${APP_NSS_I[$i]}" || return 1
		ip link add "${1}c${i}e" netns "$APP_NSC" type veth peer name "${APP_SIF_I[$i]}" \
			netns "${APP_NSS_I[$i]}" || return 1
		ip netns exec "$APP_NSC" ip addr add "$2.$i.1/24" dev "${1}c${i}e" || return 1
		ip netns exec "$APP_NSC" ip link set "${1}c${i}e" up || return 1
		ip netns exec "${APP_NSS_I[$i]}" ip link set "${APP_SIF_I[$i]}" up || return 1
		netns_quiet_if "${APP_NSS_I[$i]}" "${APP_SIF_I[$i]}"
		ip netns exec "$APP_NSC" "$RAAS_BIN/nomnet-ctl" ifprep "${1}c${i}e" || return 1
	done
}

# ticks PID: the CPU time (user + system, in clock ticks of HZ) a process and its children
# (nginx's workers) have used; the benchmarks' CPU per request is the difference over a run.
ticks() {
	local t=0 p
	for p in $1 $(pgrep -P "$1" 2>/dev/null); do
		[ -r /proc/$p/stat ] || continue
		t=$((t + $(awk '{ sub(/.*\) /, ""); print $12 + $13 }' /proc/$p/stat)))
	done
	echo $t
}
HZ=$(getconf CLK_TCK)

# cpu_us_per_request TICKS0 TICKS1 REQUESTS DURATION WARMUP: microseconds of CPU per request
# over a run of DURATION seconds after WARMUP (the warm-up's CPU is in the ticks and its
# requests are not counted: scaled by the measured share); 0 without requests.
cpu_us_per_request() {
	awk -v dt=$(($2 - $1)) -v hz="$HZ" -v n="${3:-0}" -v d="$4" -v w="$5" \
		'BEGIN { printf "%.2f", (n > 0) ? dt / hz * 1e6 * (d / (d + w)) / n : 0 }'
}
