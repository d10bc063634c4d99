#!/bin/sh
# test_need_skips.sh: need.sh's rules and scripts/test-skips, through a real ctest run.
#
# A throw-away CMake project holds five tests that source tests/lib/need.sh: one needs root,
# one a tool that no machine has, one a program that is not built, one a step (`false`) that
# fails, one passes. It runs as root and again as nobody (setpriv); without root only the
# second run. As root the tool and the step must fail (CI has every package), as nobody
# they and the root test skip; the unbuilt program fails for everyone. test-skips must list
# exactly the skipped ones with their reasons, and count them against the total.
set -eu
SRC=${RAAS_SOURCE_DIR:?}
T=$(mktemp -d /tmp/test-need-skips-XXXXXX)
trap 'rm -rf "$T"' EXIT INT TERM
fails=0
fail() { echo "FAIL: $*" >&2; fails=$((fails + 1)); }

mkdir -p "$T/p" "$T/bin"
N=". $SRC/tests/lib/need.sh"
cat >"$T/p/CMakeLists.txt" <<CM
cmake_minimum_required(VERSION 3.21)
project(needskips NONE)
enable_testing()
foreach(t root tool built step pass)
  add_test(NAME n_\${t} COMMAND sh $T/\${t}.sh)
  set_tests_properties(n_\${t} PROPERTIES SKIP_RETURN_CODE 77
    ENVIRONMENT "RAAS_BIN=$T/bin;RAAS_SOURCE_DIR=$SRC")
endforeach()
CM
echo "$N; need_root 'network & namespaces'; echo ran" >"$T/root.sh"
echo "$N; need_tool no-such-tool-\$\$x" >"$T/tool.sh"
echo "$N; need_built no-such-program" >"$T/built.sh"
echo "$N; need_ok 'ip link add' false; echo ran" >"$T/step.sh"
echo "$N; need_tool sh; need_built; echo ran" >"$T/pass.sh"
# run WHO: configures and runs the project as root or as nobody, into $T/b-WHO; sets $out (the
# skip list) and $failed (the tests ctest did not pass).
run() {
	b=$T/b-$1
	if [ "$1" = nobody ]; then
		as="setpriv --reuid=65534 --regid=65534 --clear-groups"
		mkdir -p "$b" && chown 65534:65534 "$b"
	else
		as=""
	fi
	$as cmake -S "$T/p" -B "$b" >/dev/null
	(cd "$b" && $as ctest --output-junit junit.xml >"$T/ctest-$1.out" 2>&1) || true
	out=$("$SRC/scripts/test-skips" "$b/junit.xml")
	printf '%s\n' "$out" | sed "s/^/[$1] /"
	failed=$(grep -oE 'n_[a-z]+ \((Failed|Skipped)\)' "$T/ctest-$1.out" | sed 's/ .*//' | sort |
		tr '\n' ' ')
	log=$b/Testing/Temporary/LastTest.log
	grep -q "no-such-program is not built (no $T/bin/no-such-program)" "$log" ||
		fail "[$1] the unbuilt program's failure does not name it"
	echo "$out" | grep -q n_pass && fail "[$1] n_pass listed as skipped"
	echo "$out" | grep -q n_built && fail "[$1] n_built (not built) listed as skipped: it must fail"
	return 0
}

checked=0
if [ "$(id -u)" = 0 ]; then
	chmod 755 "$T"
	run root
	echo "$out" | grep -q '^0 of 5 tests skipped$' || fail "[root] nothing skips: $out"
	grep -q "no-such-tool-.*is not installed (scripts/install-deps) (as root" "$log" ||
		fail "[root] the tool's failure does not give the reason"
	[ "$failed" = "n_built n_step n_tool " ] || fail "[root] not passed: '$failed'"
	checked=$((checked + 1))
	as_other=nobody
else
	as_other=self
fi
run $as_other
echo "$out" | grep -q '^3 of 5 tests skipped$' || fail "[$as_other] count: $out"
echo "$out" | grep -qF '  n_root: SKIP: needs root (network & namespaces)' || fail "[$as_other] n_root: $out"
echo "$out" | grep -qF '  n_step: SKIP: ip link add failed' || fail "[$as_other] n_step: $out"
echo "$out" | grep -q '  n_tool: SKIP: no-such-tool-.* is not installed (scripts/install-deps)' ||
	fail "[$as_other] n_tool: $out"
[ "$failed" = "n_built n_root n_step n_tool " ] || fail "[$as_other] not passed: '$failed'"
checked=$((checked + 1))
# A JUnit file that is not there is an error, not an empty list.
"$SRC/scripts/test-skips" "$T/nothing.xml" 2>/dev/null && fail "a missing file passed"
[ $fails = 0 ] || exit 1
echo "need.sh and test-skips: $checked runs of 5 tests, verdicts and reasons as expected"
