#!/bin/bash
# test_nom_run.sh: nom-run puts a process where the host agent's enforcement is, and that
# enforcement really binds it. Real raas-marketd (cores and memory at posted prices),
# raas-hostagentd with the cgroup backend (v1 cpuset and memory, this run's own groups),
# nom-priced with the instance's place in its config ([priced] cpuset, memory_cgroup, netns).
#
#   place     nom-run --print shows the config nom-priced put on the board; a command started
#             with nom-run is in both cgroups (/proc/self/cgroup), in the instance's network
#             namespace (the namespace's inode, only lo in /sys/class/net), with NOM_* set
#   memory    holding 48 MiB: a process touching 32 MiB lives; then one touching 200 MiB is
#             killed by the kernel before 48, the group's usage never passed the limit
#   cores     holding 2: a process pinned to CPU 1; the instance releases a core and the
#             agent shrinks the cpuset to CPU 0: the process may run only on 0 and, woken,
#             runs on 0 (it moved off the released core)
#   bad input an unknown instance, no command, a board of layout version 1, a cgroup the
#             agent has not made, a nom-priced that died: each one line, exit 69 or 64
#
# Root (namespaces, cgroups); skipped (77) otherwise or without cgroup v1 cpuset and memory.
set -eu
. "$RAAS_SOURCE_DIR/tests/apps-market/lib.sh"
[ "$(id -u)" = 0 ] || skip "needs root for cgroups and network namespaces"
[ -f /sys/fs/cgroup/cpuset/cpuset.cpus ] && [ -f /sys/fs/cgroup/memory/memory.limit_in_bytes ] ||
	skip "no cgroup v1 cpuset and memory hierarchies mounted"
[ "$(nproc)" -ge 2 ] || skip "needs 2 CPUs to release one"
need raas-marketd raas-hostagentd raas nom-priced nom-ctl nom-board nom-run nom-hog /jq /ip

NS=$P-t1
ip netns add "$NS" || fail "ip netns add $NS"
NETNS="$NS"
ip -n "$NS" link set lo up

log "keys, tenant, host"
keys market alice h1
export RAAS_LEDGER=$T/ledger.sqlite
"$B/raas" tenant add alice --key "$T/keys/alice.pub" >/dev/null
"$B/raas" host add h1 --key "$T/keys/h1.pub" >/dev/null
market_ini 200 <<EOF
[resource.cores]
model = fixed
params = price=\$0.01

[resource.memory]
model = fixed
params = price=\$0.0001
EOF
start_market "$T/market.ini"

cg_dirs alice
cat >"$T/agent.ini" <<EOF
[agent]
host = h1
market = $HOSTAPI
market_public_key = $T/keys/market.pub
key = $T/keys/h1.key
heartbeat = 500ms

[capacity]
cores = 2
cpus = 0-1
idle_cpus = 0
memory_mib = 512

[backends]
cores = cgroup
memory = cgroup

$(cg_agent_section)

[tenant.alice]
cgroup = alice
EOF
"$B/raas-hostagentd" -c "$T/agent.ini" 2>>"$T/agent.log" &
started $!

A=$P-alice
priced_start alice "$A" subscribe="cores/h1 memory/h1" cpuset="$CG_CPUSET" \
	memory_cgroup="$CG_MEMORY" netns="$NS"
APRICED=$PRICED_PID
wait_for 20 "alice's board fresh" board "$A" '.market == "fresh"'

log "place: what nom-run reads, and where it puts a command"
"$B/nom-run" --instance "$A" --print >"$T/print.txt"
grep -qx "instance=$A" "$T/print.txt" && grep -qx "board=/dev/shm/nom.$A" "$T/print.txt" &&
	grep -qx "api=ipc:///tmp/$A.sock" "$T/print.txt" && grep -qx "host=h1" "$T/print.txt" &&
	grep -qx "cpuset=$CG_CPUSET" "$T/print.txt" && grep -qx "memory_cgroup=$CG_MEMORY" "$T/print.txt" &&
	grep -qx "netns=$NS" "$T/print.txt" || fail "nom-run --print: $(cat "$T/print.txt")"
board "$A" ".cpuset == \"$CG_CPUSET\" and .memory_cgroup == \"$CG_MEMORY\" and .netns == \"$NS\" and .host == \"h1\"" ||
	fail "the board does not carry the instance's place"
# The agent makes the groups at its first apply (a tenant at 0: idle CPUs, the memory floor).
"$B/nom-run" --instance "$A" --wait 20s -- sh -c \
	'cat /proc/self/cgroup; echo "ns $(readlink /proc/self/ns/net)"; ls /sys/class/net | sed "s/^/if /";
	 echo "env $NOM_INSTANCE $NOM_BOARD $NOM_API $NOM_HOST $NOM_NETNS"' >"$T/inside.txt" ||
	fail "nom-run of a shell failed: $(cat "$T/inside.txt")"
cpuset_rel=${CG_CPUSET#/sys/fs/cgroup/cpuset}
memory_rel=${CG_MEMORY#/sys/fs/cgroup/memory}
grep -qx "[0-9]*:cpuset:$cpuset_rel" "$T/inside.txt" || fail "not in the cpuset $cpuset_rel: $(cat "$T/inside.txt")"
grep -qx "[0-9]*:memory:$memory_rel" "$T/inside.txt" || fail "not in the memory cgroup $memory_rel: $(cat "$T/inside.txt")"
want_ns=$(ip netns exec "$NS" readlink /proc/self/ns/net)
grep -Fqx "ns $want_ns" "$T/inside.txt" || fail "not in network namespace $NS ($want_ns): $(cat "$T/inside.txt")"
[ "$(grep -c '^if ' "$T/inside.txt")" = 1 ] && grep -qx "if lo" "$T/inside.txt" ||
	fail "/sys/class/net is not the namespace's: $(cat "$T/inside.txt")"
grep -Fqx "env $A /dev/shm/nom.$A ipc:///tmp/$A.sock h1 $NS" "$T/inside.txt" ||
	fail "environment: $(grep '^env' "$T/inside.txt")"
log "  cpuset $cpuset_rel, memory $memory_rel, netns $NS ($want_ns), NOM_* set"

log "memory: holding 48 MiB binds the instance's processes"
"$B/nom-ctl" "$A" acquire memory h1 48 >/dev/null || fail "acquire memory"
wait_for 10 "the memory limit at 48 MiB" file_is "$CG_MEMORY/memory.limit_in_bytes" $((48 << 20))
"$B/nom-run" --instance "$A" -- "$B/nom-hog" --mib 32 --hold >"$T/hog32.out" 2>&1 &
HOG32=$!
started $HOG32
wait_for 10 "the 32 MiB process touched its memory" grep -qx "touched 32" "$T/hog32.out"
grep -qx "$HOG32" "$CG_MEMORY/cgroup.procs" || fail "the 32 MiB process is not in $CG_MEMORY"
usage=$(cat "$CG_MEMORY/memory.usage_in_bytes")
[ "$usage" -ge $((32 << 20)) ] || fail "the group's usage $usage is below what its process touched"
kill -0 "$HOG32" 2>/dev/null || fail "the process within the holding was killed"
kill "$HOG32"
wait "$HOG32" 2>/dev/null || true
# The holding is the instance's total, so the next process is alone in the group.
set +e
"$B/nom-run" --instance "$A" -- "$B/nom-hog" --mib 200 >"$T/hog200.out" 2>&1
rc=$?
set -e
touched=$(tail -n1 "$T/hog200.out" | sed -n 's/^touched //p')
log "  the 200 MiB process: exit $rc after touching ${touched:-0} MiB"
[ "$rc" = 137 ] || fail "the process over the holding was not killed by the kernel (exit $rc)"
[ "${touched:-0}" -lt 48 ] || fail "it touched $touched MiB with 48 held"
[ "$(cat "$CG_MEMORY/memory.failcnt")" -gt 0 ] || fail "the limit was never hit (failcnt 0)"
max=$(cat "$CG_MEMORY/memory.max_usage_in_bytes")
[ "$max" -le $((48 << 20)) ] || fail "the group used $max bytes with a 48 MiB limit"
log "  the 32 MiB process lived; group peak $((max >> 20)) MiB of 48, failcnt $(cat "$CG_MEMORY/memory.failcnt")"

log "cores: a process pinned to a released core moves off it"
"$B/nom-ctl" "$A" acquire cores h1 2 >/dev/null || fail "acquire cores"
wait_for 10 "the cpuset at 0-1" file_is "$CG_CPUSET/cpuset.cpus" 0-1
"$B/nom-run" --instance "$A" -- "$B/nom-hog" --cpu 1 >"$T/pin.out" 2>&1 &
PIN=$!
started $PIN
wait_for 10 "the process pinned to CPU 1" grep -qx "pinned 1" "$T/pin.out"
[ "$(status_field "$PIN" Cpus_allowed_list)" = 1 ] || fail "not pinned: $(status_field "$PIN" Cpus_allowed_list)"
grep -qx "$PIN" "$CG_CPUSET/cgroup.procs" || fail "the pinned process is not in $CG_CPUSET"
"$B/nom-ctl" "$A" release cores h1 1 >/dev/null || fail "release a core"
wait_for 10 "the cpuset down to CPU 0" file_is "$CG_CPUSET/cpuset.cpus" 0
allowed_is() { [ "$(status_field "$PIN" Cpus_allowed_list)" = "$1" ]; }
wait_for 5 "the process allowed CPU 0 only" allowed_is 0
kill -USR1 "$PIN"
wait_for 5 "the process woke up" grep -q "^on CPU" "$T/pin.out"
grep -qx "on CPU 0" "$T/pin.out" || fail "the process still runs on a released CPU: $(grep '^on CPU' "$T/pin.out")"
log "  holding 1 core: cpuset 0, the process allowed $(status_field "$PIN" Cpus_allowed_list), woke on CPU 0"
kill "$PIN"

log "bad input"
expect_exit 69 "has no bulletin board" "$B/nom-run" --instance "$P-nosuch" -- true
expect_exit 64 "usage" "$B/nom-run" --instance "$A"
expect_exit 64 "usage" "$B/nom-run" -- true
# A board of layout version 1 (an old nom-priced): the magic, version 1, zeros.
OLD=$P-old
INSTANCES="$INSTANCES $OLD"
{ printf 'NOMBBBB1\001\000\000\000'; } >"/dev/shm/nom.$OLD"
truncate -s 36864 "/dev/shm/nom.$OLD"
expect_exit 69 "layout version 1; this build reads version 2" "$B/nom-run" --instance "$OLD" -- true
# A cgroup the agent never made: a second instance whose config names one.
N2=$P-nogroup
priced_start alice "$N2" cpuset=/sys/fs/cgroup/cpuset/$CG_NAME/nosuch
expect_exit 69 "cpuset /sys/fs/cgroup/cpuset/$CG_NAME/nosuch (\[priced\] cpuset) does not exist" \
	"$B/nom-run" --instance "$N2" --wait 300ms -- true
# nom-priced died: the board stays, its writer is gone.
kill -9 "$APRICED"
wait "$APRICED" 2>/dev/null || true
expect_exit 69 "is not running" "$B/nom-run" --instance "$A" -- true
log "ok"
