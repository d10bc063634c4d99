# lib.sh: helpers shared by the nom runtime's end-to-end scripts (sourced, not run).
#
# They start the real daemons (raas-marketd, raas-hostagentd, nom-priced, nom-example-bw)
# from $RAAS_BIN, wait for conditions with deadlines (never a bare sleep), and record every
# process they start so that cleanup() stops exactly those. Every name a script creates
# (namespaces, boards, sockets, files) starts with $P = nomrt-<pid>.

B=${RAAS_BIN:?set RAAS_BIN to the build/bin directory}
P=nomrt-$$
T=$(mktemp -d "/tmp/$P-XXXXXX")
PIDS=""
NETNS=""
INSTANCES=""

# skip, missing, need_root, need_tool, need_built: when a test skips and when it fails.
. "${RAAS_SOURCE_DIR:?set RAAS_SOURCE_DIR to the source tree}/tests/lib/need.sh"

# need NAME...: each program is built in $B (else a failure) and each /TOOL is on the PATH
# (else a failure as root, a skip otherwise).
need() {
	for b in "$@"; do
		case $b in
		/*) need_tool "${b#/}" ;;
		*) need_built "$b" ;;
		esac
	done
}

cleanup() {
	rc=$?
	for pid in $PIDS; do kill -9 "$pid" 2>/dev/null || true; done
	for pid in $PIDS; do wait "$pid" 2>/dev/null || true; done
	for ns in $NETNS; do ip netns delete "$ns" 2>/dev/null || true; done
	for i in $INSTANCES; do rm -f "/dev/shm/nom.$i" "/tmp/$i.sock"; done
	if [ "$rc" != 0 ] && [ "$rc" != 77 ]; then
		for f in "$T"/*.log; do
			[ -f "$f" ] || continue
			echo "--- $f (tail)" >&2
			tail -n 40 "$f" >&2
		done
	fi
	rm -rf "$T"
	exit "$rc"
}
trap cleanup EXIT
trap 'exit 1' INT TERM

fail() {
	echo "FAIL: $*" >&2
	exit 1
}

log() {
	echo "[$(date +%T)] $*"
}

# started PID: remember a process to stop at exit.
started() {
	PIDS="$PIDS $1"
}

# wait_for SECONDS DESCRIPTION COMMAND...: runs COMMAND every 50 ms until it succeeds, or
# fails the test after SECONDS.
wait_for() {
	secs=$1
	what=$2
	shift 2
	end=$(($(date +%s%N) + secs * 1000000000))
	until "$@" >/dev/null 2>&1; do
		[ "$(date +%s%N)" -lt "$end" ] || fail "waited ${secs}s for: $what"
		sleep 0.05
	done
}

# board INSTANCE FILTER: jq FILTER is true of the instance's board (nom-board show -o json).
board() {
	"$B/nom-board" show "$1" -o json | jq -e "$2" >/dev/null
}

# board_get INSTANCE FILTER: prints jq FILTER of the board.
board_get() {
	"$B/nom-board" show "$1" -o json | jq -r "$2"
}

# keys NAME...: key pairs in $T/keys.
keys() {
	for k in "$@"; do
		"$B/raas" keygen --dir "$T/keys" "$k" >/dev/null || fail "raas keygen $k"
	done
}

# start_market CONFIG [NETNS]: starts raas-marketd, waits until it serves, and sets
# MARKET, PRICES and HOSTAPI to its endpoints. Its log is $T/market.log.
start_market() {
	rm -f "$T/ready"
	if [ -n "${2:-}" ]; then
		ip netns exec "$2" "$B/raas-marketd" -c "$1" --ready-file "$T/ready" 2>>"$T/market.log" &
	else
		"$B/raas-marketd" -c "$1" --ready-file "$T/ready" 2>>"$T/market.log" &
	fi
	MPID=$!
	started $MPID
	wait_for 20 "raas-marketd serving" test -s "$T/ready"
	MARKET=$(sed -n 's/^tenant_endpoint=//p' "$T/ready")
	PRICES=$(sed -n 's/^price_endpoint=//p' "$T/ready")
	HOSTAPI=$(sed -n 's/^host_endpoint=//p' "$T/ready")
	[ -n "$MARKET" ] && [ -n "$PRICES" ] || fail "ready file without endpoints: $(cat "$T/ready")"
}

# start_priced TENANT INSTANCE [NETNS]: nom-priced for INSTANCE as TENANT (keys $T/keys),
# following bandwidth/h1; waits for its board. Its log is $T/priced-TENANT.log.
start_priced() {
	INSTANCES="$INSTANCES $2"
	set -- "$1" "$2" "${3:-}"
	cmd="$B/nom-priced --check-invariants --set=priced.instance=$2 --set=priced.market=$MARKET
		--set=priced.prices=$PRICES --set=priced.tenant_key=$T/keys/$1.key
		--set=priced.market_key=$T/keys/market.pub --set=priced.api=ipc:///tmp/$2.sock
		--set=priced.subscribe=bandwidth/h1 --set=priced.host=h1"
	if [ -n "$3" ]; then
		# shellcheck disable=SC2086
		ip netns exec "$3" $cmd 2>>"$T/priced-$1.log" &
	else
		# shellcheck disable=SC2086
		$cmd 2>>"$T/priced-$1.log" &
	fi
	started $!
	wait_for 20 "the board of $2" test -e "/dev/shm/nom.$2"
}
