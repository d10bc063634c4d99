#!/bin/sh
# demo_smoke.sh: runs raas-demo and checks that every resource and mechanism is printed,
# that the same seed prints the same market (clearing times aside), and that bad usage
# exits 64.
set -eu
demo=$1
a=$(mktemp /tmp/pricing-models-demo-$$.XXXXXX)
b=$(mktemp /tmp/pricing-models-demo-$$.XXXXXX)
trap 'rm -f "$a" "$b"' EXIT
"$demo" --seed 7 >"$a"
"$demo" --seed 7 >"$b"
for r in cores memory bandwidth llc; do
	grep -q "^== $r: " "$a" || { echo "FAIL: no table for $r" >&2; exit 1; }
done
for m in uniform vcg psp mpsp proportional fixed spot-ar1 utilization trace; do
	grep -q "^  $m " "$a" || { echo "FAIL: $m missing from the summary" >&2; exit 1; }
done
grep -q "Most efficient:" "$a" || { echo "FAIL: no summary text" >&2; exit 1; }
# The summary's clear-time column is wall time; everything else is a function of the seed,
# so compare without the summary rows.
strip() { sed '/^== summary/,/^$/d' "$1"; }
strip "$a" >"$a.s"; strip "$b" >"$b.s"
cmp -s "$a.s" "$b.s" || { echo "FAIL: same seed, different market" >&2; diff "$a.s" "$b.s" >&2; rm -f "$a.s" "$b.s"; exit 1; }
rm -f "$a.s" "$b.s"
set +e; "$demo" --bogus >/dev/null 2>&1; rc=$?; set -e
[ "$rc" = 64 ] || { echo "FAIL: bad usage exit $rc (want 64)" >&2; exit 1; }
echo "demo smoke: ok ($(wc -l <"$a") lines)"
