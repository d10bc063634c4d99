# lib.sh: what the apps-on-the-market tests share (sourced, bash), on top of tests/nom/lib.sh
# (daemons from $RAAS_BIN, wait_for with deadlines, board queries, cleanup of every process,
# namespace and board the script made; every name starts with $P = nomrt-<pid>).
#
# Added here: nom-priced with an instance's place (host, cpuset and memory cgroups, network
# namespace), the host agent's cgroup groups for this run (under this process's own memory
# cgroup, as hostagent's own test does) and their removal, and small waits on files.
. "$RAAS_SOURCE_DIR/tests/nom/lib.sh"

# Cgroup v1 groups of this run: /sys/fs/cgroup/cpuset/$CG_NAME/<tenant> and
# /sys/fs/cgroup/memory/$CG_MEM_PARENT/$CG_NAME/<tenant>.
CG_NAME=$P
CG_MEM_PARENT=$(sed -n 's/^[0-9]*:memory:\/*//p' /proc/self/cgroup)
CG_USED=""

# cg_dirs TENANT: sets CG_CPUSET and CG_MEMORY to the tenant's groups.
cg_dirs() {
	CG_CPUSET=/sys/fs/cgroup/cpuset/$CG_NAME/$1
	CG_MEMORY=/sys/fs/cgroup/memory/${CG_MEM_PARENT:+$CG_MEM_PARENT/}$CG_NAME/$1
	CG_USED=1
}

# cg_agent_section: the [cgroup] section of a host agent that puts tenants under this run's
# groups.
cg_agent_section() {
	cat <<EOF
[cgroup]
version = v1
cpuset_parent = $CG_NAME
memory_parent = ${CG_MEM_PARENT:+$CG_MEM_PARENT/}$CG_NAME
cpuacct_parent = $CG_NAME
memory_floor_mib = 16
EOF
}

# Kills what is left in this run's groups and removes them, leaves first.
cg_cleanup() {
	[ -n "$CG_USED" ] || return 0
	for d in /sys/fs/cgroup/cpuset/$CG_NAME \
		/sys/fs/cgroup/memory/${CG_MEM_PARENT:+$CG_MEM_PARENT/}$CG_NAME \
		/sys/fs/cgroup/cpuacct/$CG_NAME; do
		[ -d "$d" ] || continue
		for t in "$d"/*/; do
			[ -d "$t" ] || continue
			for pid in $(cat "$t/cgroup.procs" 2>/dev/null); do kill -9 "$pid" 2>/dev/null; done
			for _ in 1 2 3 4 5 6 7 8 9 10; do rmdir "$t" 2>/dev/null && break; sleep 0.1; done
		done
		rmdir "$d" 2>/dev/null || true
	done
}

market_cleanup() {
	rc=$?
	set +e # a cleanup step that fails must not stop the others
	{
		for pid in $PIDS; do kill -9 "$pid"; done
		for pid in $PIDS; do wait "$pid"; done
	} 2>/dev/null
	cg_cleanup
	(exit "$rc")
	cleanup
}
trap market_cleanup EXIT

# priced_start TENANT INSTANCE [priced.KEY=VALUE]...: nom-priced for INSTANCE as TENANT (keys
# in $T/keys) on host h1 with the market of start_market, plus the given keys; waits for its
# board. Its log is $T/priced-INSTANCE.log; PRICED_PID its pid.
priced_start() {
	tenant=$1 inst=$2
	shift 2
	INSTANCES="$INSTANCES $inst"
	args=(--check-invariants --set=priced.instance="$inst" --set=priced.market="$MARKET"
		--set=priced.prices="$PRICES" --set=priced.tenant_key="$T/keys/$tenant.key"
		--set=priced.market_key="$T/keys/market.pub" --set=priced.api="ipc:///tmp/$inst.sock"
		--set=priced.host=h1)
	for kv in "$@"; do args+=(--set="priced.$kv"); done
	"$B/nom-priced" "${args[@]}" 2>>"$T/priced-$inst.log" &
	PRICED_PID=$!
	started $PRICED_PID
	wait_for 20 "the board of $inst" test -e "/dev/shm/nom.$inst"
}

# market_ini ROUND_MS: writes $T/market.ini for a market on free loopback ports with its
# ledger and keys in $T, then the resource sections read from stdin (heredoc).
market_ini() {
	{
		printf '[market]\ntenant_endpoint = tcp://127.0.0.1:*\nprice_endpoint = tcp://127.0.0.1:*\n'
		printf 'host_endpoint = tcp://127.0.0.1:*\nround_ms = %s\nledger = %s\nkey_dir = %s\n\n' \
			"$1" "$T/ledger.sqlite" "$T/keys"
		cat
	} >"$T/market.ini"
}

# file_is FILE TEXT: FILE's first line is TEXT.
file_is() {
	[ "$(head -n1 "$1" 2>/dev/null)" = "$2" ]
}

# status_field PID FIELD: a field of /proc/PID/status ("Cpus_allowed_list").
status_field() {
	sed -n "s/^$2:[[:space:]]*//p" "/proc/$1/status"
}

# all_tasks_allowed PID LIST: every thread of PID may run exactly on the CPUs LIST ("0-1").
all_tasks_allowed() {
	for t in /proc/"$1"/task/*; do
		[ "$(sed -n 's/^Cpus_allowed_list:[[:space:]]*//p' "$t/status")" = "$2" ] || return 1
	done
}

# expect_exit CODE PATTERN COMMAND...: COMMAND exits CODE and its stderr (one line) matches
# PATTERN; the line is printed.
expect_exit() {
	code=$1 pat=$2
	shift 2
	set +e
	"$@" >"$T/expect.out" 2>"$T/expect.err"
	got=$?
	set -e
	[ "$got" = "$code" ] || fail "$* exited $got, not $code: $(cat "$T/expect.err")"
	[ "$(wc -l <"$T/expect.err")" -le 2 ] || fail "$*: more than a line of error: $(cat "$T/expect.err")"
	grep -q -- "$pat" "$T/expect.err" || fail "$*: error does not say '$pat': $(cat "$T/expect.err")"
	log "  exit $got: $(head -n1 "$T/expect.err")"
}
