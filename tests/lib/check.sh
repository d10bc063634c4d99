# check.sh: counted assertions for test scripts that check many things and report them all
# (sourced, bash). Every check is counted, a failed one says what, and check_done prints the
# count and fails the script when any check failed, so a run shows it did its work.

CHECKS=0
CHECK_FAILS=0

# check WHAT COMMAND...: COMMAND must succeed.
check() {
	local what=$1
	shift
	CHECKS=$((CHECKS + 1))
	"$@" || { echo "FAIL: $what"; CHECK_FAILS=$((CHECK_FAILS + 1)); }
}

# check_eq WHAT WANT GOT: the two must be equal.
check_eq() {
	CHECKS=$((CHECKS + 1))
	if [ "$2" != "$3" ]; then
		echo "FAIL: $1: want \"$2\", got \"$3\""
		CHECK_FAILS=$((CHECK_FAILS + 1))
	fi
}

# check_done NAME: prints "NAME: N checks, M failed"; returns 1 when any failed.
check_done() {
	echo "$1: $CHECKS checks, $CHECK_FAILS failed"
	[ "$CHECK_FAILS" = 0 ]
}
