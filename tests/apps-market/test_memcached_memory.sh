#!/bin/bash
# test_memcached_memory.sh: nom-memcached's cache follows the memory it holds under a memory
# price step, and the host agent's memory limit binds it all along.
#
# The real raas-marketd prices h1's memory by a trace ($0.00001 per MiB-hour, then $100,000
# from STEP_S), raas-hostagentd enforces it with the cgroup backend (this run's own v1 memory
# cgroup), nom-priced has the memory cgroup in its config and nom-run puts nom-memcached
# (--instance, kernel sockets, -m 64 --memory-min 8, the default --memory-reserve of 32 MiB)
# into it. The client: nom-loadgen --cache-aside, an application in front of a database:
# uniform gets over 20,000 keys of 1,000 bytes, a set after every miss (working set W of
# about 21 MiB of items).
#
#   cheap memory: the cache grows to the working set (nothing past it adds a hit: at any
#                 price > 0 the model stops there); the hit rate climbs to >= 0.9
#   dear memory:  every MiB costs more than its hits earn: the app evicts down to
#                 --memory-min (8 MiB) and releases the rest, holding 8 + 32 MiB
# Asserted after the step: the app's pick says 8 MiB with a predicted hit rate h; the board
# holds 40 MiB and the cgroup's limit is 40 MiB; memcstat (libmemcached) shows
# limit_maxbytes = 8 MiB and no more bytes than that kept; the hit rate nom-loadgen measures
# is within 0.05 of h and of 8 MiB / W (uniform gets: an LRU of C bytes of a W-byte working
# set hits C / W), the W measured as the store's bytes while everything fitted; no request
# failed; the process lives and the group's usage is within its limit.
# The reserve is the app's default: its memory past the cache measured 9-12 MiB here at an
# 8 MiB cache (5 MiB of process, the arena's compaction slack of an eighth of the cache plus
# 4 MiB, the curve's ghosts; 20 MiB at most in all), and a 16 MiB reserve was OOM-killed once
# in CI. The group's peak after the step is logged.
# Root (cgroups); skipped (77) otherwise or without cgroup v1 memory.
set -eu
. "$RAAS_SOURCE_DIR/tests/apps-market/lib.sh"
[ "$(id -u)" = 0 ] || skip "needs root for cgroups"
[ -f /sys/fs/cgroup/memory/memory.limit_in_bytes ] || skip "no cgroup v1 memory hierarchy mounted"
need raas-marketd raas-hostagentd raas nom-priced nom-board nom-run nom-memcached nom-loadgen \
	/jq /memcstat

STEP_S=30
keys market alice h1
export RAAS_LEDGER=$T/ledger.sqlite
"$B/raas" tenant add alice --key "$T/keys/alice.pub" >/dev/null
"$B/raas" host add h1 --key "$T/keys/h1.pub" >/dev/null
printf '2026-01-01 00:00:00,0.00001\n2026-01-01 00:00:%02d,100000\n' "$STEP_S" >"$T/memory.trace"
market_ini 200 <<EOF
[resource.memory]
model = trace
params = file=$T/memory.trace, scale=1
EOF
start_market "$T/market.ini"
t0=$(date +%s)
cg_dirs alice
cat >"$T/agent.ini" <<EOF
[agent]
host = h1
market = $HOSTAPI
market_public_key = $T/keys/market.pub
key = $T/keys/h1.key
heartbeat = 500ms

[capacity]
memory_mib = 512

[backends]
memory = cgroup

$(cg_agent_section)

[tenant.alice]
cgroup = alice
EOF
"$B/raas-hostagentd" -c "$T/agent.ini" 2>>"$T/agent.log" &
started $!
A=$P-alice
priced_start alice "$A" subscribe=memory/h1 memory_cgroup="$CG_MEMORY"
wait_for 20 "the board fresh" board "$A" '.market == "fresh"'

cat >"$T/profile.csv" <<EOF
app,load,delay_us,throughput_rps,latency_us,jitter_us,bytes_per_request,source
memcached,many,0,4000,100,10,1100,test
EOF
PORT=$((20000 + RANDOM % 20000))
"$B/nom-run" --instance "$A" --wait 20s -- "$B/nom-memcached" --instance "$A" --stack kernel \
	--bind 127.0.0.1 --port "$PORT" -m 64 --memory-min 8 --max-price '$1000000' \
	--profile "$T/profile.csv" --utility refund --report-ms 500 >"$T/app.log" 2>"$T/app-err.log" &
APP=$!
started $APP
wait_for 20 "nom-memcached listening" bash -c "exec 3<>/dev/tcp/127.0.0.1/$PORT"
"$B/nom-loadgen" --proto memcached --connect 127.0.0.1:"$PORT" --cache-aside --keys 20000 \
	--value-size 1000 --conns 4 --warmup-s 0 --duration-s $((STEP_S + 25)) --interval-ms 500 \
	>"$T/loadgen.log" 2>&1 &
LG=$!
started $LG

stat_of() { # NAME: a memcstat field
	memcstat --servers=127.0.0.1:"$PORT" | sed -n "s/^[[:space:]]*$1: //p"
}
memory_held() { # MIB: the board shows MIB of memory held
	board "$A" "([.holdings[] | select(.resource == \"memory\") | .quantity] | add // 0) == $1"
}
hit_rate_now() { # the mean hit rate of nom-loadgen's last N intervals
	grep '"t_s"' "$T/loadgen.log" | tail -n "$1" | jq -s 'map(.hit_rate) | add / length'
}
warm() { [ "$(grep -c '"t_s"' "$T/loadgen.log")" -ge 4 ] && awk -v h="$(hit_rate_now 2)" 'BEGIN { exit !(h >= 0.9) }'; }

log "cheap memory: the cache grows to the working set"
wait_for $((STEP_S - 4)) "a hit rate of 0.9" warm
W=$(stat_of bytes)
limit1=$(stat_of limit_maxbytes)
held1=$(board_get "$A" '[.holdings[] | select(.resource == "memory") | .quantity] | add // 0')
log "  hit rate $(hit_rate_now 2), working set W = $W bytes, cache limit $limit1, held $held1 MiB"
[ "$limit1" -ge "$W" ] || fail "the cache ($limit1 bytes) does not hold the working set ($W)"
[ "$held1" -ge $(((W >> 20) + 32)) ] || fail "holds $held1 MiB for a $((W >> 20)) MiB working set"
wait_for 10 "the cgroup limit at the holding" file_is "$CG_MEMORY/memory.limit_in_bytes" $((held1 << 20))
left=$((t0 + STEP_S - $(date +%s)))
[ "$left" -ge 2 ] || fail "too slow before the step ($left s left)"

log "dear memory: down to --memory-min"
small() {
	jq -e -s '[.[] | select(.event == "pick" and .memory_price > 99999)] | last
		| .memory_mib == 8 and .memory_target_mib == 8' "$T/app.log" >/dev/null
}
wait_for $((left + 10)) "the app picks 8 MiB at the dear price" small
wait_for 10 "the board holds 40 MiB" memory_held 40
wait_for 10 "the cgroup limit at 40 MiB" file_is "$CG_MEMORY/memory.limit_in_bytes" $((40 << 20))
echo 0 >"$CG_MEMORY/memory.max_usage_in_bytes" # the peak from here on
H=$(jq -s '[.[] | select(.event == "pick" and .memory_price > 99999)] | last | .hit_rate' "$T/app.log")
limit2=$(stat_of limit_maxbytes)
[ "$limit2" = $((8 << 20)) ] || fail "memcstat shows limit_maxbytes $limit2, not 8 MiB"
# Let the client see 4 s of the smaller cache.
n0=$(grep -c '"t_s"' "$T/loadgen.log")
settled() { [ "$(grep -c '"t_s"' "$T/loadgen.log")" -ge $((n0 + 8)) ]; }
wait_for 10 "4 s of load on the smaller cache" settled
bytes2=$(stat_of bytes)
[ "$bytes2" -le "$limit2" ] || fail "the store keeps $bytes2 bytes over its limit $limit2"
measured=$(hit_rate_now 8)
model=$(awk -v c=$((8 << 20)) -v w="$W" 'BEGIN { printf "%.4f", c / w }')
log "  hit rate: measured $measured, predicted $H by the app's curve, $model as C / W; store $bytes2 bytes of $limit2"
awk -v m="$measured" -v h="$H" 'BEGIN { d = m - h; exit !(d <= 0.05 && d >= -0.05) }' ||
	fail "the measured hit rate $measured is not the app's prediction $H (within 0.05)"
awk -v m="$measured" -v h="$model" 'BEGIN { d = m - h; exit !(d <= 0.05 && d >= -0.05) }' ||
	fail "the measured hit rate $measured is not C / W = $model (within 0.05)"
kill -0 "$APP" || fail "nom-memcached died (its memory cgroup's OOM killer?)"
usage=$(cat "$CG_MEMORY/memory.usage_in_bytes")
[ "$usage" -le $((40 << 20)) ] || fail "the group uses $usage bytes over its 40 MiB limit"
wait "$LG" || fail "nom-loadgen failed: $(tail -3 "$T/loadgen.log")"
errors=$(grep '"target"' "$T/loadgen.log" | jq -s 'map(.errors) | add')
[ "$errors" = 0 ] || fail "$errors requests failed"
oom=$(awk '$1 == "oom_kill" { print $2 }' "$CG_MEMORY/memory.oom_control")
[ "${oom:-0}" = 0 ] || fail "the group's OOM killer killed $oom processes"
peak=$(cat "$CG_MEMORY/memory.max_usage_in_bytes")
log "  no request failed; the group uses $((usage >> 10)) KiB of 40 MiB, $((peak >> 10)) KiB at most; no OOM kill"
log "ok"
