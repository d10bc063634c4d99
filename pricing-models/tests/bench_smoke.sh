#!/bin/sh
# bench_smoke.sh: runs raas-bench-clear at a small size and checks its JSON lines: exactly the
# fields model, n, seconds, bids_per_s, ratio_vs_sort, with the right types, one line per
# model including the qsort baseline.
set -eu
bench=$1
. "${RAAS_SOURCE_DIR:?}/tests/lib/need.sh"
need_tool jq
out=$(mktemp /tmp/pricing-models-bench-$$.XXXXXX)
trap 'rm -f "$out"' EXIT
"$bench" --sizes 200,1000 --reps 1 >"$out"
lines=$(wc -l <"$out")
echo "raas-bench-clear printed $lines lines"
cat "$out"
# Every line: exactly the five fields, numbers where numbers belong.
jq -e -s 'all(.[]; (keys == ["bids_per_s","model","n","ratio_vs_sort","seconds"])
  and (.model|type) == "string" and (.n|type) == "number" and (.seconds|type) == "number"
  and (.bids_per_s|type) == "number" and (.ratio_vs_sort|type) == "number"
  and .seconds >= 0)' "$out" >/dev/null || { echo "FAIL: malformed JSON line" >&2; exit 1; }
for m in qsort fixed uniform vcg psp mpsp proportional spot-ar1 utilization; do
	for n in 200 1000; do
		c=$(jq -s --arg m "$m" --argjson n "$n" '[.[] | select(.model == $m and .n == $n)] | length' "$out")
		[ "$c" = 1 ] || { echo "FAIL: $c lines for model $m n $n (want 1)" >&2; exit 1; }
	done
done
# Usage errors exit 64.
if "$bench" --sizes x >/dev/null 2>&1; then echo "FAIL: --sizes x accepted" >&2; exit 1; fi
set +e; "$bench" --models nope >/dev/null 2>&1; rc=$?; set -e
[ "$rc" = 64 ] || { echo "FAIL: unknown model exit $rc (want 64)" >&2; exit 1; }
echo "bench smoke: ok"
