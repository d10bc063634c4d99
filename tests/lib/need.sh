# need.sh: when a test script skips (exit 77) and when it fails (sourced, POSIX sh).
#
# Why: a skip is a pass to anyone who does not read the log, so it is kept for what the machine
# truly lacks (not root, one CPU, no cgroup v1, the shared data folder). What the build or
# scripts/install-deps provides is never a reason to skip: a program that is not built fails
# everywhere, and a package that is not installed fails as root (CI runs as root with every
# package installed), where it is a packaging bug; only a user without root, who may not have
# run install-deps, gets a skip. The C tests' counterpart is common/tests/test.h's TEST_MISSING.
# Every message names the thing and the reason; .ci/skipped lists the skips after a run.

# skip REASON: the machine truly lacks something this test needs.
skip() {
	echo "SKIP: $*" >&2
	exit 77
}

need_fail_() {
	echo "FAIL: $*" >&2
	exit 1
}

# missing WHAT: something install-deps provides is absent: a failure as root, else a skip.
missing() {
	if [ "$(id -u)" = 0 ]; then
		need_fail_ "$* (as root, every package of scripts/install-deps must be installed)"
	fi
	skip "$*"
}

# need_root WHY: skips unless root.
need_root() {
	[ "$(id -u)" = 0 ] || skip "needs root ($*)"
}

# need_tool TOOL...: each on the PATH (or in /usr/sbin), else missing.
need_tool() {
	for t in "$@"; do
		command -v "$t" >/dev/null 2>&1 || [ -x "/usr/sbin/$t" ] ||
			missing "$t is not installed (scripts/install-deps)"
	done
}

# need_built PROGRAM...: each is in $RAAS_BIN; one that is not is a build or packaging bug.
need_built() {
	for b in "$@"; do
		[ -x "${RAAS_BIN:?set RAAS_BIN to the build/bin directory}/$b" ] ||
			need_fail_ "$b is not built (no $RAAS_BIN/$b)"
	done
}

# need_ok WHAT COMMAND...: a step every root machine can do (ip netns add, ip link add); as
# root its failure is a failure, without root a skip.
need_ok() {
	_what=$1
	shift
	"$@" || missing "$_what failed"
}
