#!/bin/bash
# spin.sh: the busy-poll budget travels from a profile row to the running loop (issue 19).
#
# nom-memcached on nomnet (xdp, interrupt mode) with --adaptive and a profile whose one-client
# level has a row without spin and one with a 50 us budget that is faster: at $1/Gbit under the
# bonus utility (cores unpriced: no board) the controller buys the budget (hand-checked in
# nom/lib/tests/test_nom_adapt.c), sets it through nomnet_set_spin, and nomnet spins: its stats
# show the 50 us budget and sleeps avoided. Under 16 connections the controller moves to a
# `many` row, which has no budget. A second adaptive instance whose profile has no spin_us
# column keeps its own --spin-us 20 throughout: the budget is the controller's only when the
# profile measured it.
set -u
: "${RAAS_BIN:?}" "${RAAS_SOURCE_DIR:?}"
. "$RAAS_SOURCE_DIR/apps/tests/lib.sh"
. "$RAAS_SOURCE_DIR/tests/lib/check.sh"
netns_require_root

P="asp$$"
TMP=$(mktemp -d "/tmp/apps-spin-$$.XXXXXX")
trap 'netns_cleanup; rm -rf "$TMP" /dev/shm/nomnet.$P-a /dev/shm/nomnet.$P-s' EXIT INT TERM
app_star "$P" 10.83 2 || exit 1
cat >"$TMP/profile.csv" <<'CSV'
app,load,delay_us,spin_us,throughput_rps,latency_us,jitter_us,bytes_per_request,cpu_us_per_request
memcached,single,0,0,20000,60,5,1000,25
memcached,single,0,50,30000,40,5,1000,30
memcached,many,0,0,100000,150,20,1000,6
memcached,many,20,0,150000,100,10,1000,5
CSV
grep -v '^app' "$TMP/profile.csv" | awk -F, 'BEGIN { print "app,load,delay_us,throughput_rps,latency_us,jitter_us,bytes_per_request" }
	$4 == 0 { print $1 "," $2 "," $3 "," $5 "," $6 "," $7 "," $8 }' >"$TMP/nospin.csv"
start() { # I NAME ARGS...
	local i=$1 name=$2
	shift 2
	netns_spawn "${APP_NSS_I[$i]}" "$RAAS_BIN/nom-memcached" --driver xdp --if "${APP_SIF_I[$i]}" \
		--addr "${APP_SIP_I[$i]}/24" --mode interrupt --stats "$name" --adaptive \
		--price 1 --utility bonus --report-ms 200 "$@" >"$TMP/$name.out" 2>"$TMP/$name.err"
	netns_wait_tcp "$APP_NSC" "${APP_SIP_I[$i]}" 11211 20 || { cat "$TMP/$name.err"; exit 1; }
}
load() { # I CONNS SECONDS
	ip netns exec "$APP_NSC" "$RAAS_BIN/nom-loadgen" --proto memcached \
		--connect "${APP_SIP_I[$1]}:11211" --conns "$2" --duration-s "$3" --warmup-s 0.2 | tail -1
}
stat_line() { "$RAAS_BIN/nomnet-ctl" stats "$1" | grep '^spin budget'; }
budget() { stat_line "$1" | sed -n 's/^spin budget \([0-9.]*\) us.*/\1/p'; }
avoided() { stat_line "$1" | sed -n 's/.* \([0-9]*\) sleeps avoided.*/\1/p'; }

start 1 "$P-a" --profile "$TMP/profile.csv"
start 2 "$P-s" --profile "$TMP/nospin.csv" --spin-us 20

# One client: the first instance buys the budget and spins.
out=$(load 1 1 2)
check "one client served by the adaptive instance ($out)" grep -q '"requests":[1-9]' <<<"$out"
check "adaptive, one client: budget 50 us (stats: $(stat_line "$P-a"))" [ "$(budget "$P-a")" = 50.0 ]
n=$(avoided "$P-a")
check "adaptive, one client: sleeps avoided by spinning (got ${n:-none})" [ "${n:-0}" -gt 100 ]
w=$(grep -o '"spin_us":[-0-9.e+]*' "$TMP/$P-a.out" | tail -1)
check "adaptive: its status line says the budget (got $w)" [ "$w" = '"spin_us":50' ]

# Sixteen clients: the adaptive instance takes a `many` row, which has no budget.
out=$(load 1 16 2)
check "sixteen clients served" grep -q '"requests":[1-9]' <<<"$out"
check "adaptive, sixteen clients: budget 0 (stats: $(stat_line "$P-a"))" [ "$(budget "$P-a")" = 0.0 ]
ch=$(stat_line "$P-a" | sed -n 's/.*(\([0-9]*\) changes).*/\1/p')
check "adaptive: the budget changed at least twice, on and off (got ${ch:-none})" [ "${ch:-0}" -ge 2 ]

# The profile without a spin_us column: the app's own budget stays, under both loads.
out=$(load 2 1 1)
check "one client served by the second instance" grep -q '"requests":[1-9]' <<<"$out"
check "no spin column, one client: budget stays 20 us (stats: $(stat_line "$P-s"))" [ "$(budget "$P-s")" = 20.0 ]
out=$(load 2 16 1)
check "no spin column, sixteen clients: budget stays 20 us" [ "$(budget "$P-s")" = 20.0 ]
check "no spin column: the budget never changed" grep -q '(0 changes)' <(stat_line "$P-s")

check_done test_apps_spin
