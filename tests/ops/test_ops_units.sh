#!/bin/sh
# test_ops_units.sh: the systemd units under packaging/ are ones systemd accepts: every key
# known, every command executable (systemd-analyze verify, with ExecStart pointed at this
# build), each Type=notify with a reload and the daemon's own --check before it starts. A
# copy with a misspelt key is caught, which shows the check can fail.
set -eu
. "$RAAS_SOURCE_DIR/tests/ops/lib.sh"
need /systemd-analyze

src="$RAAS_SOURCE_DIR/packaging/systemd"
n=0
for u in "$src"/*.service; do
	name=$(basename "$u")
	sed "s|/usr/local/bin/|$B/|g" "$u" >"$T/$name"
	grep -q '^Type=notify$' "$u" || fail "$name is not Type=notify"
	grep -q '^ExecReload=/bin/kill -HUP \$MAINPID$' "$u" || fail "$name does not reload with SIGHUP"
	grep -q '^ExecStartPre=.* --check$' "$u" || fail "$name does not --check first"
	grep -q '^ExecStart=.* --ready-file ' "$u" || fail "$name writes no ready file"
	grep -q '^NoNewPrivileges=yes$' "$u" && grep -q '^ProtectSystem=strict$' "$u" ||
		fail "$name lacks NoNewPrivileges/ProtectSystem"
	n=$((n + 1))
done
[ $n = 3 ] || fail "$n units, expected 3"
cp "$T/nom-priced@.service" "$T/nom-priced@web1.service"
cd "$T"
verify() { systemd-analyze verify --man=no "$@" >"$T/verify" 2>&1 && [ ! -s "$T/verify" ]; }
verify raas-marketd.service raas-hostagentd.service nom-priced@web1.service ||
	fail "systemd-analyze verify: $(cat "$T/verify")"
sed 's/^NoNewPrivileges=/NoNewPrivilegez=/' raas-marketd.service >broken.service
verify broken.service && fail "a misspelt key went through"
grep -q "Unknown key 'NoNewPrivilegez'" "$T/verify" || fail "verify said: $(cat "$T/verify")"
log "test_ops_units: ok ($n units)"
