#!/bin/bash
# test_testbed_cgroup.sh: cores and memory priced on an emulated host and enforced by its
# agent's cgroup backend (cgroup v1) on the tenant's processes.
#
# One host h1 selling 300 Mbit/s, 2 cores and 512 MiB (fixed prices: $0.05 per core-hour,
# $0.0001 per MiB-hour); one tenant alice (nhttpd, static W=0) bidding through its
# nom-priced for 1-2 cores at up to $0.10 and 128-384 MiB at up to $0.001 per unit-hour. At
# 5 s h1 sells 1 core and 256 MiB instead (supply events: its agent reloaded).
#
# Asserted from the run file, second by second (board and kernel read independently): the
# app's process is in its cpuset and memory groups; while alice holds 2 cores and 384 MiB
# (seconds 2-4) her cpuset.cpus is 0-1 and memory.limit_in_bytes 384 MiB; from 7 s she holds
# 1 core and 256 MiB and the groups say 0 and 256 MiB; the market's cores and memory rows
# (rounds) have supply 2 and 512 before, 1 and 256 after, and the ledger charged her for
# both; raas-sim report's rounds.csv has the three resources; nothing is left after the
# run. Root; skipped (77) otherwise.
set -eu
. "$RAAS_SOURCE_DIR/tests/testbed/lib.sh"
tb_need /sqlite3
[ -e /sys/fs/cgroup/cpuset/cpuset.cpus ] && [ -e /sys/fs/cgroup/memory/memory.limit_in_bytes ] ||
	skip "no cgroup v1 cpuset and memory hierarchies"
[ "$(nproc)" -ge 2 ] || skip "needs 2 CPUs"
baseline
small_profile "$T/profile.csv"
cat >"$T/tb.ini" <<EOF
[testbed]
name = $NAME
net = $NET
duration = 12s
profile = $T/profile.csv

[market]
round = 500ms

[resource.bandwidth]
model = fixed
params = price=3.6

[resource.cores]
model = fixed
params = price=0.05

[resource.memory]
model = fixed
params = price=0.0001

[host.h1]
bandwidth_mbit = 300
cores = 2
memory_mib = 512

[tenant.alice]
host = h1
app = nhttpd
utility = refund
strategy = static
delay_us = 0
phases = 12s:4
cores = 2
cores_min = 1
cores_price = \$0.10
memory_mib = 384
memory_min = 128
memory_price = \$0.001

[event.fewer]
at = 5s
action = supply
host = h1
resource = cores
supply = 1

[event.less]
at = 5s
action = supply
host = h1
resource = memory
supply = 256
EOF
cd "$RAAS_SOURCE_DIR"
log "raas testbed run (12 s): h1 sells 2 cores and 512 MiB, then 1 and 256 from 5 s"
env --default-signal=INT "$B/raas" testbed run "$T/tb.ini" --out "$T/run.sqlite" 2>"$T/run.log" &
TB_PID=$!
set +e
wait "$TB_PID"
rc=$?
set -e
TB_PID=""
tr '\r' '\n' <"$T/run.log" | grep -E 'sells|tenant' | sed 's/^/  /'
[ "$rc" = 0 ] || fail "run exited $rc: $(tail -c 600 "$T/run.log")"
left=$(leftovers)
[ -z "$left" ] || fail "after run: $left"
q() { sqlite3 "$T/run.sqlite" "$1"; }
log "  alice (t: cores/MiB held, cpuset, limit MiB, in group): $(q "SELECT group_concat(t_s || ':' || cores || '/' || memory_mib || ' ' || cpus || ' ' || (mem_limit >> 20) || ' ' || in_cgroup, ', ') FROM tenant_seconds")"
n=$(q "SELECT count(*) FROM tenant_seconds WHERE up")
[ "$n" -ge 10 ] || fail "only $n seconds with alice up"
[ "$(q "SELECT count(*) FROM tenant_seconds WHERE up AND in_cgroup = 1")" = "$n" ] ||
	fail "alice's app is not in its cpuset and memory groups every second"
want() { # want FROM TO CORES MIB CPUS: every second in [FROM, TO] holds and enforces that
	got=$(q "SELECT group_concat(DISTINCT cores || '/' || memory_mib || '/' || cpus || '/' || mem_limit) FROM tenant_seconds WHERE t_s BETWEEN $1 AND $2")
	[ "$got" = "$3/$4/$5/$(($4 << 20))" ] || fail "seconds $1-$2: $got, not $3/$4/$5/$(($4 << 20))"
	log "  seconds $1-$2: holds $3 cores and $4 MiB, cpuset $5, limit $(($4 << 20)) bytes"
}
want 2 4 2 384 0-1
want 7 12 1 256 0
for r in cores:2:1 memory:512:256; do
	res=${r%%:*} x=${r#*:}
	b=$(q "SELECT group_concat(DISTINCT supply) FROM rounds WHERE resource = '$res' AND t_ns BETWEEN 1e9 AND 4e9")
	a=$(q "SELECT group_concat(DISTINCT supply) FROM rounds WHERE resource = '$res' AND t_ns >= 7e9")
	log "  the market's $res: supply $b before, $a after; $(q "SELECT count(*) FROM rounds WHERE resource = '$res'") rounds"
	[ "$b/$a" = "${x%:*}/${x#*:}" ] || fail "$res supply $b then $a, not ${x%:*} then ${x#*:}"
done
paid=$(sqlite3 "$T/run.sqlite.ledger" "SELECT group_concat(p.resource || ':' || (sum > 0)) FROM (SELECT pool, sum(charge) sum FROM allocations GROUP BY pool) a JOIN pools p ON p.id = a.pool ORDER BY p.resource")
log "  charged per resource (1 cores, 2 memory, 3 bandwidth): $paid"
[ "$paid" = "1:1,2:1,3:1" ] || fail "alice was not charged for each resource: $paid"
"$B/raas" ledger check --ledger "$T/run.sqlite.ledger" >/dev/null || fail "the ledger copy's invariants"
"$B/raas-sim" report "$T/run.sqlite" --out "$T/report" --no-charts >"$T/report.out" 2>&1 ||
	fail "raas-sim report: $(tail -5 "$T/report.out")"
res=$(awk -F, 'NR == 1 { for (i = 1; i <= NF; i++) if ($i == "resource") c = i; next } { print $c }' "$T/report/rounds.csv" | sort -u | tr '\n' ' ')
log "  raas-sim report: rounds.csv has the resources $res"
[ "$res" = "bandwidth cores memory " ] || fail "the report's rounds have the resources $res"
log "ok"
