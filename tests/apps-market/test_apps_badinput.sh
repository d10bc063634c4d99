#!/bin/bash
# test_apps_badinput.sh: an app in --instance mode given what it cannot use says so in one
# line and exits 69; a running app whose market is lost keeps its working point and its
# holdings, says so once, and once more when the market is back. No crash.
#
#   unknown instance, a bad instance name, a damaged board, a board of layout version 1, an
#   instance whose nom-priced died: one line each (what is wrong and where), exit 69
#   stale board: raas-marketd killed (-9) under nom-memcached (kernel stack, holding its
#   bandwidth on a hostless pool): the board goes stale, the app logs one "market stale"
#   event in 6 s however often it wakes, sends no request, still serves, and the board still
#   shows its holding; the market restarted on the same endpoints: one "market fresh" event,
#   the same holding, still serving
# No root needed.
set -eu
. "$RAAS_SOURCE_DIR/tests/apps-market/lib.sh"
need raas-marketd raas nom-priced nom-board nom-memcached /jq

keys market alice
export RAAS_LEDGER=$T/ledger.sqlite
"$B/raas" tenant add alice --key "$T/keys/alice.pub" >/dev/null
# A hostless bandwidth pool on h1 at $3.6 per Mbit/s-hour ($1/Gbit).
market_ini 200 <<EOF
[pool.h1-bandwidth]
host = h1
resource = bandwidth
supply = 1000
model = fixed
params = price=\$3.6
EOF
start_market "$T/market.ini"

cat >"$T/profile.csv" <<EOF
app,load,delay_us,throughput_rps,latency_us,jitter_us,bytes_per_request,source
memcached,many,0,4000,100,10,1100,test: holds ceil(35.2) = 36 Mbit/s at \$1/Gbit
EOF
PORT=$((20000 + RANDOM % 20000))
app() { # INSTANCE [more options]: nom-memcached on the kernel stack in instance INSTANCE
	inst=$1
	shift
	"$B/nom-memcached" --instance "$inst" --stack kernel --bind 127.0.0.1 --port "$PORT" \
		--profile "$T/profile.csv" --utility refund "$@"
}

log "bad instances"
expect_exit 69 "instance $P-nosuch has no bulletin board (/dev/shm/nom.$P-nosuch): is its nom-priced running?" \
	app "$P-nosuch"
expect_exit 69 "is not an instance name" app "../etc"
DMG=$P-damaged OLD=$P-old DEAD=$P-dead
INSTANCES="$INSTANCES $DMG $OLD $DEAD"
head -c 8192 /dev/zero | tr '\0' 'x' >"/dev/shm/nom.$DMG"
expect_exit 69 "is damaged" app "$DMG"
{ printf 'NOMBBBB1\001\000\000\000'; } >"/dev/shm/nom.$OLD"
truncate -s 36864 "/dev/shm/nom.$OLD"
expect_exit 69 "layout version 1; this build reads version 2" app "$OLD"
priced_start alice "$DEAD" subscribe=bandwidth/h1
kill -9 "$PRICED_PID"
wait "$PRICED_PID" 2>/dev/null || true
expect_exit 69 "nom-priced (pid $PRICED_PID) is not running" app "$DEAD"

log "stale board: the market killed under a running app"
A=$P-alice
priced_start alice "$A" subscribe=bandwidth/h1 stale_after=1s
wait_for 20 "the board fresh" board "$A" '.market == "fresh"'
# Not through app(): $! must be nom-memcached itself, not a subshell running the function.
"$B/nom-memcached" --instance "$A" --stack kernel --bind 127.0.0.1 --port "$PORT" \
	--profile "$T/profile.csv" --utility refund --report-ms 200 >"$T/app.log" 2>"$T/app-err.log" &
APP=$!
started $APP
holds() { board "$A" "([.holdings[] | select(.resource == \"bandwidth\") | .quantity] | add // 0) == $1"; }
wait_for 20 "the app holds 36" holds 36
serves() { # memcached answers "version"
	exec 3<>"/dev/tcp/127.0.0.1/$PORT" || return 1
	printf 'version\r\n' >&3
	read -r -t 2 line <&3
	exec 3>&-
	case $line in VERSION*) return 0 ;; *) return 1 ;; esac
}
serves || fail "the app does not serve"
events() { # EVENT STATE: how many such events the app logged
	jq -s "[.[] | select(.event == \"$1\" and .state == \"$2\")] | length" "$T/app.log"
}
kill -9 "$MPID"
wait "$MPID" 2>/dev/null || true
wait_for 10 "the board stale" board "$A" '.market == "stale"'
lines_at_stale=$(wc -l <"$T/app.log")
sleep 6
[ "$(events market stale)" = 1 ] || fail "the app said 'stale' $(events market stale) times in 6 s"
since=$(tail -n +"$lines_at_stale" "$T/app.log" | jq -s '[.[] | select(.event == "hold")] | length')
[ "$since" = 0 ] || fail "the app sent $since requests with the market stale"
status_lines=$(tail -n +"$lines_at_stale" "$T/app.log" | jq -s '[.[] | select(.event == "status")] | length')
[ "$status_lines" -ge 10 ] || fail "the app's controller stopped waking ($status_lines status lines in 6 s)"
kill -0 "$APP" || fail "the app died with the market"
serves || fail "the app stopped serving with the market stale"
holds 36 || fail "the board no longer shows the holding"
log "  one stale event, no request, $status_lines status lines, still serving, still holding 36"

log "the market back on the same endpoints"
sed -i -e "s|^tenant_endpoint = .*|tenant_endpoint = $MARKET|" \
	-e "s|^price_endpoint = .*|price_endpoint = $PRICES|" \
	-e "s|^host_endpoint = .*|host_endpoint = $HOSTAPI|" "$T/market.ini"
picks_before=$(jq -s '[.[] | select(.event == "pick")] | length' "$T/app.log")
start_market "$T/market.ini"
wait_for 20 "the board fresh again" board "$A" '.market == "fresh"'
fresh_once() { [ "$(events market fresh)" = 1 ]; }
wait_for 10 "one fresh event" fresh_once
sleep 2
[ "$(events market stale)" = 1 ] && [ "$(events market fresh)" = 1 ] ||
	fail "stale/fresh events: $(events market stale)/$(events market fresh)"
holds 36 || fail "the holding changed across the restart"
kill -0 "$APP" || fail "the app died"
serves || fail "the app does not serve after the restart"
log "  one fresh event, holding 36, $(($(jq -s '[.[] | select(.event == "pick")] | length' "$T/app.log") - picks_before)) picks since"
log "ok"
