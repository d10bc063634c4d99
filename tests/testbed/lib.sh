# lib.sh: what the testbed tests share (sourced, bash): a temp folder, a testbed name and
# address block of their own, and leftovers() that lists everything of that testbed that
# still exists, by kind (process, netns, veth, qdisc, cgroup, board, socket, state folder).
B=${RAAS_BIN:?set RAAS_BIN to the build/bin directory}
T=$(mktemp -d /tmp/tbtest-XXXXXX)
# Names of this run only: tb-$NAME-* namespaces, boards, sockets and cgroups; 10.$NET.0.0/16.
NAME=${NAME:-k$(printf '%05d' $(($$ % 100000)))}
NET=${NET:-$((100 + $$ % 150))}
export RAAS_TESTBED_DIR=$T/state
TB_PID=""

fail() {
	echo "FAIL: $*" >&2
	exit 1
}
# skip, missing, need_root, need_tool, need_built: when a test skips and when it fails.
. "${RAAS_SOURCE_DIR:?set RAAS_SOURCE_DIR to the source tree}/tests/lib/need.sh"
log() {
	echo "[$(date +%T)] $*"
}

# tb_need [/TOOL...]: what every testbed test needs: root, the testbed's programs in $B (one
# missing is a packaging bug, so a failure), NPtcp, and each /TOOL on the PATH (as root, a
# tool that is not installed is a failure too).
tb_need() {
	need_root "network namespaces, tc and cgroups"
	need_built raas raas-testbed raas-marketd raas-hostagentd nom-priced nom-run nom-memcached \
		nhttpd nompipe nom-loadgen nomnet-ctl
	for tool in /NPtcp "$@"; do
		need_tool "${tool#/}"
	done
}

tb_cleanup() {
	rc=$?
	if [ -n "$TB_PID" ] && kill -0 "$TB_PID" 2>/dev/null; then
		kill -INT "$TB_PID" 2>/dev/null
		wait "$TB_PID" 2>/dev/null
	fi
	"$B/raas" testbed down "$NAME" >/dev/null 2>&1 || true
	if [ "$rc" != 0 ] && [ "$rc" != 77 ] && [ -d "$T/keep" ]; then
		for f in "$T"/keep/*.log; do
			[ -f "$f" ] || continue
			echo "--- $f (tail)" >&2
			tail -n 30 "$f" >&2
		done
	fi
	# TB_KEEP=DIR keeps a copy of the temp folder (state, kept logs, run file) for a look.
	[ -z "${TB_KEEP:-}" ] || cp -r "$T" "$TB_KEEP" 2>/dev/null || true
	rm -rf "$T"
	exit "$rc"
}
trap tb_cleanup EXIT

# The root namespace's interfaces that carry names the testbed uses inside its own
# namespaces (none of them may ever appear here).
root_links() {
	ip -o link show | awk -F': ' '{ sub(/@.*/, "", $2); print $2 }' |
		grep -E '^(br0|up0|t[0-9]+|h[0-9]+)$' || true
}

# leftovers: prints one line per thing of this testbed that exists; nothing when clean.
leftovers() {
	pgrep -af "tb-$NAME|$RAAS_TESTBED_DIR|10\\.$NET\\." | grep -v -E "pgrep|leftovers" |
		sed 's/^/process /' || true
	ip netns list 2>/dev/null | grep -E "^tb-$NAME( |-|\$)" | sed 's/^/netns /' || true
	comm -13 "$T/links.before" <(root_links | sort) | sed 's/^/veth /'
	for l in $(root_links); do
		grep -qx "$l" "$T/links.before" || tc qdisc show dev "$l" | sed "s/^/qdisc $l /"
	done
	find /sys/fs/cgroup -maxdepth 6 -type d -name "tb-$NAME" 2>/dev/null | sed 's/^/cgroup /'
	ls /dev/shm 2>/dev/null | grep "^nom\\.tb-$NAME-" | sed 's/^/board /' || true
	ls /tmp 2>/dev/null | grep "^tb-$NAME-.*\\.sock\$" | sed 's/^/socket /' || true
	[ ! -e "$RAAS_TESTBED_DIR/$NAME" ] || echo "state $RAAS_TESTBED_DIR/$NAME"
}

# baseline: what the root namespace had before (so that another run's links are not ours).
baseline() {
	root_links | sort >"$T/links.before"
}

# tb_file FILE DURATION: a testbed of 2 hosts and 3 tenants (memcached and nhttpd on h1,
# netpipe on h2) with the profile PROFILE, the bandwidth price TRACE.
tb_file() {
	cat >"$1" <<EOF
[testbed]
name = $NAME
net = $NET
duration = $2
seed = ${SEED:-1}
profile = ${PROFILE:-sim/scenarios/profiles/nom-thesis.csv}
startup_timeout = 60s

[market]
round = 500ms

[resource.bandwidth]
model = ${MODEL:-fixed}
params = ${PARAMS:-price=3.6}

[host.h1]
bandwidth_mbit = 300

[host.h2]
bandwidth_mbit = 300

[tenant.alice]
host = h1
app = memcached
utility = refund
strategy = adaptive
phases = $2:16

[tenant.bob]
host = h1
app = nhttpd
utility = refund
strategy = static
delay_us = 0
phases = $2:16

[tenant.carol]
host = h2
app = netpipe
utility = bonus
alpha = 8
strategy = adaptive
load = NPtcp
phases = $2:1
EOF
}

# small_profile FILE: test_apps_market.sh's hand-worked profile (its header has the arithmetic):
# at $1/Gbit memcached holds 53 Mbit/s (W=20), nhttpd 54 (W=12; static W=0: 40), netpipe 10;
# at $12/Gbit 36 (W=0), 40 (W=0) and nothing.
small_profile() {
	cp "$RAAS_SOURCE_DIR/tests/apps-market/profile-small.csv" "$1"
}
