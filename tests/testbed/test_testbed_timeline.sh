#!/bin/bash
# test_testbed_timeline.sh: the run's timeline: a tenant that joins late and leaves early,
# and a host that fails. lib.sh's testbed (fixed $1/Gbit, lib.sh's small profile) plus dave (memcached on h1,
# joining at 5 s, leaving at 10 s) and host h2 failing at 8 s, a 14 s run.
#
# Asserted from the run file: dave is down before 5 s, up and holding bandwidth (its tc class
# sending) by 8 s, down from 11 s with its tc class quiet; carol (on h2) sends until the fail
# and nothing from 9 s on (the uplink is cut, its agent gone) and is charged nothing from
# 10 s on; nothing is left after the run.
# Root; skipped (77) otherwise.
set -eu
. "$RAAS_SOURCE_DIR/tests/testbed/lib.sh"
tb_need /sqlite3
baseline
small_profile "$T/profile.csv"
PROFILE=$T/profile.csv tb_file "$T/tb.ini" 14s
cat >>"$T/tb.ini" <<EOF

[tenant.dave]
host = h1
app = memcached
utility = refund
strategy = adaptive
phases = 14s:16
join = 5s
leave = 10s

[event.cut]
at = 8s
action = host-fail
host = h2
EOF
cd "$RAAS_SOURCE_DIR"
log "raas testbed run (14 s): dave joins at 5 s and leaves at 10 s, h2 fails at 8 s"
env --default-signal=INT "$B/raas" testbed run "$T/tb.ini" --out "$T/run.sqlite" 2>"$T/run.log" &
TB_PID=$!
set +e
wait "$TB_PID"
rc=$?
set -e
TB_PID=""
tr '\r' '\n' <"$T/run.log" | grep -E 'joins|leaves|fails' | sed 's/^/  /'
[ "$rc" = 0 ] || fail "run exited $rc: $(tail -c 600 "$T/run.log")"
left=$(leftovers)
[ -z "$left" ] || fail "after run: $left"
q() { sqlite3 "$T/run.sqlite" "$1"; }
log "  dave: $(q "SELECT group_concat(t_s || ':' || up || '/' || holding || '/' || round(sent_mbit), ' ') FROM tenant_seconds WHERE tenant = 'dave'")"
log "  carol: $(q "SELECT group_concat(t_s || ':' || up || '/' || holding || '/' || round(sent_mbit), ' ') FROM tenant_seconds WHERE tenant = 'carol'")"
[ "$(q "SELECT count(*) FROM tenant_seconds WHERE tenant = 'dave' AND t_s < 5 AND up")" = 0 ] ||
	fail "dave is up before 5 s"
[ "$(q "SELECT count(*) FROM tenant_seconds WHERE tenant = 'dave' AND t_s BETWEEN 7 AND 9 AND up AND holding > 0 AND sent_mbit > 1")" -ge 2 ] ||
	fail "dave does not hold and send between 7 and 9 s"
[ "$(q "SELECT count(*) FROM tenant_seconds WHERE tenant = 'dave' AND t_s >= 11 AND (up OR sent_mbit > 0.5)")" = 0 ] ||
	fail "dave is up or sending after it left"
[ "$(q "SELECT count(*) FROM tenant_seconds WHERE tenant = 'carol' AND t_s BETWEEN 4 AND 7 AND sent_mbit > 1")" -ge 3 ] ||
	fail "carol does not send before h2 fails"
[ "$(q "SELECT count(*) FROM tenant_seconds WHERE tenant = 'carol' AND t_s >= 9 AND sent_mbit > 0.5")" = 0 ] ||
	fail "carol sends after h2 failed"
log "  carol charged: $(q "SELECT group_concat(t_s || ':' || charged, ' ') FROM tenant_seconds WHERE tenant = 'carol' AND t_s >= 6")"
# Money follows enforcement: once h2's agent is gone, carol is charged nothing more (from
# two rounds after the fail on, its charge stays what it was).
[ "$(q "SELECT count(DISTINCT charged) FROM tenant_seconds WHERE tenant = 'carol' AND t_s >= 10")" = 1 ] ||
	fail "carol is still charged after h2 failed"
log "ok"
