#!/bin/sh
# bench_dash_sse.sh: round close-to-publish of raas-marketd with 0 and with CLIENTS (default
# 50) event-stream clients connected (issue 15's figure; aim: p99 within 5%). Prints figures,
# asserts nothing. The two conditions alternate in BLOCKS (default 6) blocks of ROUNDS
# (default 100) rounds of ROUND_MS (default 50) each, in the order A B B A A B ..., so that
# the load of a shared machine weighs on both alike; each condition's percentiles are of all
# its rounds. The breakdown says where the time goes: close (clearing + the ledger's
# transaction: clear, write) and send (handing prices, sets and notices to the sockets), and
# how often the round loop lost its CPU while running (the HTTP thread yields to it since
# that was found to be the cost of the clients: common/src/httpd.c yield_to_loop).
set -eu
. "$RAAS_SOURCE_DIR/tests/dashboards/lib.sh"
need /curl
ROUNDS=${ROUNDS:-100}
ROUND_MS=${ROUND_MS:-50}
CLIENTS=${CLIENTS:-50}
BLOCKS=${BLOCKS:-6}
dash_market "$ROUND_MS" "http_history_rounds = 100000"
as alice acquire --resource cores --host h1 --quantity 2 >/dev/null
round() { curl -sf "$H/api/summary" | jq .round; }
sse() { curl -sf "$H/api/summary" | jq .sse_clients; }
# Times the round loop (the market's main thread) was preempted: another thread or process
# took its CPU while it was running.
preempted() { awk '/^nonvoluntary_ctxt_switches/ { print $2 }' "/proc/$MPID/task/$MPID/status"; }
block() { # CONDITION: ROUNDS rounds, their range appended to $T/CONDITION
	p0=$(preempted)
	r0=$(round)
	# Asked once a second, not every 50 ms as wait_for would: the asking (curl, jq) would
	# be a load of its own on the market's CPUs, in both conditions.
	k=0
	while [ "$(round)" -lt $((r0 + ROUNDS)) ]; do
		k=$((k + 1))
		[ $k -lt 300 ] || fail "$ROUNDS rounds ($1) did not close in 300 s"
		sleep 1
	done
	echo "$r0 $(round) $(($(preempted) - p0))" >>"$T/$1"
}
: >"$T/idle"
: >"$T/sse"
b=0
while [ $b -lt "$BLOCKS" ]; do
	case $((b % 4)) in 0 | 3) order="idle sse" ;; *) order="sse idle" ;; esac
	for c in $order; do
		if [ "$c" = sse ]; then
			cp=""
			i=0
			while [ $i -lt "$CLIENTS" ]; do
				curl -sN "$H/api/events" >/dev/null 2>&1 &
				started $!
				cp="$cp $!"
				i=$((i + 1))
			done
			wait_for 20 "$CLIENTS clients" sh -c "[ \$(curl -sf '$H/api/summary' | jq .sse_clients) -ge $CLIENTS ]"
			block sse
			# shellcheck disable=SC2086
			kill $cp 2>/dev/null || true
			wait_for 20 "no clients" sh -c "[ \$(curl -sf '$H/api/summary' | jq .sse_clients) = 0 ]"
		else
			block idle
		fi
	done
	b=$((b + 1))
done
curl -sf "$H/api/rounds" >"$T/rounds.json"
stats() { # CONDITION: percentiles of its rounds
	ranges=$(awk '{ printf "%s[%s,%s]", (NR > 1 ? "," : ""), $1, $2 }' "$T/$1")
	jq -r --argjson rs "[$ranges]" '
		def pct(p): sort | .[((length - 1) * p | floor)];
		[.rounds[] | select(.round as $r | any($rs[]; $r > .[0] and $r <= .[1]))] as $x
		| [($x | length),
		   ($x | map(.close_to_publish_ns) | pct(0.5)), ($x | map(.close_to_publish_ns) | pct(0.99)),
		   ($x | map(.close_ns) | pct(0.5)), ($x | map(.close_ns) | pct(0.99)),
		   ($x | map(.clear_ns) | pct(0.5)), ($x | map(.write_ns) | pct(0.5)),
		   ($x | map(.close_to_publish_ns - .close_ns) | pct(0.5)),
		   ($x | map(.close_to_publish_ns - .close_ns) | pct(0.99))] | @tsv' "$T/rounds.json"
}
idle=$(stats idle)
sse=$(stats sse)
echo "close-to-publish, $BLOCKS blocks of $ROUNDS rounds of $ROUND_MS ms per condition, alternated (load: $(cut -d' ' -f1-3 /proc/loadavg)):"
printf '%-12s %7s %10s %10s %10s %10s %10s %10s %10s %10s\n' condition rounds ctp_p50 ctp_p99 close_p50 close_p99 clear_p50 write_p50 send_p50 send_p99
printf '%-12s %7s %10s %10s %10s %10s %10s %10s %10s %10s\n' "0 clients" $idle
printf '%-12s %7s %10s %10s %10s %10s %10s %10s %10s %10s\n' "$CLIENTS clients" $sse
for c in idle sse; do
	awk -v c="$c" '{ n += $2 - $1; p += $3 } END { printf "%s: the round loop was preempted %d times in %d rounds\n", c == "idle" ? "0 clients" : "with clients", p, n }' "$T/$c"
done
# Both conditions measured every round they ran (a smoke run in CI checks that much).
for c in idle sse; do
	n=$(awk '{ n += $2 - $1 } END { print n + 0 }' "$T/$c")
	[ "$n" -ge $((BLOCKS * ROUNDS)) ] || fail "$c: only $n rounds measured"
done
echo "$idle" | awk -v s="$sse" -v n="$CLIENTS" '{ split(s, b, "\t"); printf "p99 ratio %.3f, median ratio %.3f (%d clients over 0; aim p99 <= 1.05); all in ns\n", b[3] / $3, b[2] / $2, n }'
