#!/bin/bash
# test_peers_smoke: apps/bench/peers.sh end to end in its shortest form (one run of 0.5 s per
# contender, budgets 0 and 50 us), so that the benchmark behind issue 19's figures keeps
# working: every contender measured, the spin sweep written as a profile the econ loader
# accepts, a budget picked from the swept ones, and a summary with a number for every ratio.
# It checks that the benchmark ran, not how fast anything was (timing is for the benchmark).
set -u
: "${RAAS_BIN:?}" "${RAAS_SOURCE_DIR:?}"
. "$RAAS_SOURCE_DIR/tests/lib/need.sh"
. "$RAAS_SOURCE_DIR/tests/lib/check.sh"
need_root "network namespaces"
need_tool memcached nginx NPtcp
OUT=$(mktemp -d /tmp/test_peers.XXXXXX)
trap 'rm -rf "$OUT"' EXIT

"$RAAS_SOURCE_DIR/apps/bench/peers.sh" --out "$OUT/p" --prefix tps --runs 1 --secs 0.5 \
	--budgets "0 50" --delays "0 20" >"$OUT/log" 2>&1
rc=$?
check "peers.sh exits 0 (got $rc; log: $(tail -3 "$OUT/log" | tr '\n' ' '))" [ $rc = 0 ]
RES=$OUT/p/results.tsv
# 3 apps x 2 budgets, memcached and HTTP x 2 delays under load, memcached and HTTP x 2 levels
# x 4 contenders, NetPIPE x 3 contenders.
n=$(awk -F'\t' '$5 > 0 && $6 > 0 && $7 > 0 && $8 > 0 && $9 > 0' "$RES" 2>/dev/null | wc -l)
check "29 runs with throughput, mean, p99, CPU and requests (got $n)" [ "$n" = 29 ]
for c in nom-before nom-after memcached-t1 memcached-t2 nginx-1w nginx-2w nptcp spin-0 spin-50 w-0 w-20; do
	check "contender $c measured" grep -q "	$c	" "$RES"
done

# The sweeps are a profile: it loads, has its ten rows, each with its CPU.
P=$OUT/p/profile-spin.csv
check "profile-spin.csv loads (econ format)" "$RAAS_BIN/nom-profit" frontier --profile "$P"
n=$(grep -c -E '^(memcached|nhttpd|netpipe),single,0,(0|50),' "$P")
check "six budget rows (got $n)" [ "$n" = 6 ]
n=$(grep -c -E '^(memcached|nhttpd),many,(0|20),0,' "$P")
check "four delay rows (got $n)" [ "$n" = 4 ]
n=$(awk -F, '!/^#/ && $9 > 0' "$P" | grep -c -v '^app,')
check "every sweep row has its CPU per request (got $n)" [ "$n" = 10 ]

J=$(tail -1 "$OUT/log")
for k in memcached_single memcached_many http_single http_many netpipe_single; do
	check "summary has $k" grep -q "\"$k\":{\"nom\":{\"tput\":[0-9]" <<<"$J"
done
n=$(grep -o '"mean_lat_ratio":[0-9.]*' <<<"$J" | wc -l)
check "14 mean-latency ratios (3 per app and level, 2 for NetPIPE), all numbers (got $n)" [ "$n" = 14 ]
n=$(grep -o '"p99_lat_ratio":[0-9.]*' <<<"$J" | wc -l)
check "14 p99 ratios, all numbers (got $n)" [ "$n" = 14 ]
check "no null in the summary" bash -c '! grep -q null <<<"$1"' _ "$J"
for a in memcached http netpipe; do
	s=$(sed -n "s/.*\"$a\":{\"spin_us\":\([0-9]*\),.*/\1/p" <<<"$J")
	check "$a's budget is one of the swept (got \"$s\")" bash -c '[ "$1" = 0 ] || [ "$1" = 50 ]' _ "$s"
	check "$a's nom after at one connection ran with --spin-us $s" \
		grep -q -E -- "^  $a single nom-after: .*--spin-us $s\$" "$OUT/log"
done
for a in memcached http; do
	w=$(sed -n "s/^  $a many: the optimizer picks W = \([0-9]*\) us\$/\1/p" "$OUT/log")
	check "$a under load: a delay picked from the swept (got \"$w\")" bash -c '[ "$1" = 0 ] || [ "$1" = 20 ]' _ "$w"
	check "$a's nom after under load ran at W = $w" grep -q -E -- "^  $a many nom-after: .*--delay $w\$" "$OUT/log"
done
check "no namespace left behind" bash -c '! ip netns list | grep -q "^tps"'

check_done test_peers_smoke
