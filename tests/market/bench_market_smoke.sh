#!/bin/sh
# bench_market_smoke.sh: raas-bench-market briefly (100 tenants, 20 subscribers, a 5 s soak), so
# that the benchmark keeps working: every figure the issue names is printed, the market's CPU
# was measured (threads and stages), the floor too, and no bid went unanswered. Figures only,
# no timing asserted (docs/market.md has the real runs).
set -eu

B=${RAAS_BIN:?set RAAS_BIN to the build/bin directory}
. "${RAAS_SOURCE_DIR:?}/tests/lib/need.sh"
need_tool jq
need_built raas-bench-market
T=$(mktemp -d /tmp/bench-market-smoke-XXXXXX)
trap 'rm -rf "$T"' EXIT INT TERM

fail() { echo "FAIL: $*" >&2; exit 1; }
# check FILE JQ-EXPR WHAT: the expression must be true on the line.
check() {
	jq -e "$2" "$1" >/dev/null || { cat "$1" >&2; fail "$3"; }
}

"$B/raas-bench-market" --tenants 100 --subscribers 20 --rounds 5 --workers 2 --sync normal \
	>"$T/out.jsonl"
grep '"bench":"rounds"' "$T/out.jsonl" >"$T/rounds.json" || fail "no rounds line"
grep '"bench":"fanout"' "$T/out.jsonl" >"$T/fanout.json" || fail "no fanout line"
cat "$T/out.jsonl"

R="$T/rounds.json"
check "$R" '.tenants == 100 and .rounds >= 5' "the rounds run measured 5 rounds of 100 tenants"
check "$R" '.bids_per_round > 0 and .bids_per_s > 0' "bids were handled"
check "$R" '.market_cpu_per_round_ms > 0 and .us_per_bid > 0' "the market's CPU was measured"
check "$R" '.threads_ms_per_round.main > 0 and .threads_ms_per_round.zmq_io > 0' \
	"both the main thread and ZeroMQ's I/O thread ran"
check "$R" '[.stages_ms_per_round | .recv, .decode, .check, .ledger, .clear, .bill, .encode,
	.send] | all(. > 0)' "every stage took time"
check "$R" '.floor_ms_per_round.sqlite > 0 and .floor_ms_per_round.curve > 0 and
	.floor_ms_per_round.total > 0 and .floor_ms_per_round.tcp > 0' "the floor was measured"
check "$R" '.ratio_vs_floor > 0 and .close_to_ack_p99_ms > 0 and .clients_cpu_per_round_ms > 0' \
	"ratio, end-to-end latency and the clients' CPU are printed"
F="$T/fanout.json"
check "$F" '.subscribers == 20 and .us_per_subscriber_update > 0 and .fanout_p99_ms > 0' \
	"the fan-out's cost per subscriber update"

# The soak, briefly: every bid sent is answered; its figures are printed (whether rounds ran
# late depends on the machine's load: printed, not asserted).
"$B/raas-bench-market" --soak 5 --tenants 100 --workers 2 --sync normal >"$T/soak.json" || true
cat "$T/soak.json"
S="$T/soak.json"
check "$S" '.bench == "soak" and .bids_sent > 100 and .bids_lost == 0 and .bids_refused == 0' \
	"the soak answered every bid"
check "$S" '.rss_minute1_kib > 0 and .rss_end_kib > 0 and .rounds_expected > 0 and
	(.rounds_late_skipped | type) == "number"' "the soak printed its memory and rounds"
check "$S" '.sqlite_minute1_kib > 0 and .sqlite_end_kib > 0 and .sqlite_end_kib < .rss_end_kib
	and (.rss_growth_besides_sqlite_pct | type) == "number"' \
	"the soak printed SQLite's share of the market's memory"
echo "bench_market_smoke: ok"
