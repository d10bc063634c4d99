#!/bin/bash
# test_nhttpd_cores.sh: nhttpd under a load step acquires a second core, and releases it when
# the load is gone; its threads' CPU affinity (read from /proc) follows what it holds.
#
# The real raas-marketd (cores of h1 at a posted $1 per core-hour), raas-hostagentd with the
# cgroup backend (this run's own v1 cpuset), nom-priced with the cpuset in its config, nhttpd
# --stack kernel --workers 2 started by nom-run inside the instance's cpuset, driven by wrk.
# The profile is the test's own; with the refund utility (a = 20 - 10 x L[ms]) and 1,000-byte
# replies, P = 0 (bandwidth is not priced here) and c = $1/3600 per core-second:
#   single (one client): 1 core 2,000 rps at 500 us, 2 cores the same: U = 0.016 x 15 - c x
#                        cores -> 1 core (a second core adds nothing)
#   many (16 clients):   1 core 10,000 rps at 1.6 ms: U = 0.080 x 4 - c = 0.3197
#                        2 cores 18,000 rps at 0.9 ms: U = 0.144 x 11 - 2c = 1.5834 -> 2 cores
# Asserted: with wrk -c 1 it holds 1 core (ledger, board) and every thread of nhttpd may run
# only on that core's CPU; with wrk -c 16 it acquires the second core and every thread may
# run on both CPUs; once wrk stops (no connection open) it releases the second core and the
# threads are back on one CPU.
# Root (cgroups); skipped (77) otherwise or without cgroup v1 cpuset, or on one CPU.
set -eu
. "$RAAS_SOURCE_DIR/tests/apps-market/lib.sh"
[ "$(id -u)" = 0 ] || skip "needs root for cgroups"
[ -f /sys/fs/cgroup/cpuset/cpuset.cpus ] || skip "no cgroup v1 cpuset hierarchy mounted"
[ "$(nproc)" -ge 2 ] || skip "needs 2 CPUs for a second core"
need raas-marketd raas-hostagentd raas nom-priced nom-board nom-run nhttpd /jq /sqlite3 /wrk

keys market alice h1
export RAAS_LEDGER=$T/ledger.sqlite
"$B/raas" tenant add alice --key "$T/keys/alice.pub" >/dev/null
"$B/raas" host add h1 --key "$T/keys/h1.pub" >/dev/null
market_ini 200 <<EOF
[resource.cores]
model = fixed
params = price=\$1
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

[backends]
cores = cgroup

$(cg_agent_section)

[tenant.alice]
cgroup = alice
EOF
"$B/raas-hostagentd" -c "$T/agent.ini" 2>>"$T/agent.log" &
started $!
A=$P-alice
priced_start alice "$A" subscribe=cores/h1 cpuset="$CG_CPUSET"
wait_for 20 "the board fresh" board "$A" '.market == "fresh"'

cat >"$T/profile.csv" <<EOF
# test_nhttpd_cores.sh's profile: worked out in the script's header
app,load,delay_us,throughput_rps,latency_us,jitter_us,bytes_per_request,cores,source
nhttpd,single,0,2000,500,50,1000,1,test
nhttpd,single,0,2000,500,50,1000,2,test
nhttpd,many,0,10000,1600,100,1000,1,test
nhttpd,many,0,18000,900,100,1000,2,test
EOF
mkdir -p "$T/www"
echo "hello from nhttpd" >"$T/www/index.html"
PORT=$((20000 + RANDOM % 20000))
"$B/nom-run" --instance "$A" --wait 20s -- "$B/nhttpd" --instance "$A" --stack kernel \
	--bind 127.0.0.1 --port $PORT --workers 2 --cores-max 2 --root "$T/www" \
	--profile "$T/profile.csv" --utility refund --strategy adaptive --report-ms 1000 \
	>"$T/app.log" 2>"$T/app-err.log" &
APP=$!
started $APP
wait_for 20 "nhttpd listening" bash -c "exec 3<>/dev/tcp/127.0.0.1/$PORT"

cores_held() { # N: the board shows N cores held
	board "$A" "([.holdings[] | select(.resource == \"cores\") | .quantity] | add // 0) == $1"
}
ledger_cores() { # the cores allocated to alice in the ledger's latest round
	sqlite3 "$T/ledger.sqlite" "SELECT coalesce(sum(a.quantity), 0) FROM allocations a
		JOIN pools p ON p.id = a.pool JOIN tenants t ON t.id = a.tenant
		WHERE p.resource = 1 AND t.name = 'alice'
		AND a.round = (SELECT max(round) FROM prices)"
}
ledger_is() { [ "$(ledger_cores)" = "$1" ]; }
threads() { ls /proc/"$APP"/task | wc -l; }

log "one client: one core"
wrk -t 1 -c 1 -d 5s "http://127.0.0.1:$PORT/" >"$T/wrk1.log" 2>&1 &
W1=$!
started $W1
wait_for 10 "one core held" cores_held 1
wait_for 10 "the cpuset at one CPU" file_is "$CG_CPUSET/cpuset.cpus" 0
wait_for 10 "every thread on CPU 0" all_tasks_allowed "$APP" 0
sleep 2 # the level is measured: it stays at one core
cores_held 1 || fail "it took more than one core for one client"
wait_for 5 "the ledger allocates 1" ledger_is 1
log "  1 core, $(threads) threads on CPU $(status_field "$APP" Cpus_allowed_list)"
wait "$W1" || fail "wrk -c 1 failed: $(cat "$T/wrk1.log")"

log "sixteen clients: the second core"
wrk -t 2 -c 16 -d 8s "http://127.0.0.1:$PORT/" >"$T/wrk16.log" 2>&1 &
W16=$!
started $W16
wait_for 10 "two cores held" cores_held 2
wait_for 10 "the cpuset at both CPUs" file_is "$CG_CPUSET/cpuset.cpus" 0-1
wait_for 10 "every thread on CPUs 0-1" all_tasks_allowed "$APP" 0-1
wait_for 5 "the ledger allocates 2" ledger_is 2
jq -e -s '[.[] | select(.event == "hold" and .resource == "cores" and .from == 1 and .to == 2
	and .result == "ok")] | length >= 1' "$T/app.log" >/dev/null ||
	fail "no acquire of the second core in the app's events"
log "  2 cores, $(threads) threads on CPUs $(status_field "$APP" Cpus_allowed_list); level $(jq -r -s \
	'[.[] | select(.event == "pick")] | last | .level' "$T/app.log")"

log "no client: back to one core"
wait "$W16" || fail "wrk -c 16 failed: $(cat "$T/wrk16.log")"
wait_for 10 "one core held" cores_held 1
wait_for 10 "the cpuset back at one CPU" file_is "$CG_CPUSET/cpuset.cpus" 0
wait_for 10 "every thread back on CPU 0" all_tasks_allowed "$APP" 0
wait_for 5 "the ledger allocates 1" ledger_is 1
jq -e -s '[.[] | select(.event == "hold" and .resource == "cores" and .from == 2 and .to == 1
	and .result == "ok")] | length >= 1' "$T/app.log" >/dev/null ||
	fail "no release of the second core in the app's events"
grep -q "Non-2xx\|Socket errors" "$T/wrk16.log" "$T/wrk1.log" &&
	fail "wrk saw errors: $(cat "$T/wrk1.log" "$T/wrk16.log")"
grep -q "Requests/sec" "$T/wrk16.log" || fail "wrk -c 16 did not finish: $(cat "$T/wrk16.log")"
log "  1 core, threads on CPU $(status_field "$APP" Cpus_allowed_list); wrk: $(grep Requests/sec "$T/wrk16.log")"
log "ok"
