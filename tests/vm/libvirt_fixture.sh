#!/bin/bash
# libvirt_fixture.sh up|down: the libvirt daemons that every VM test shares under ctest.
#
# Why a fixture: the VM tests run in parallel, and each one used to start libvirtd when none
# answered and kill it at exit, so the first to finish killed the daemon under the others
# ("Disconnected from qemu:///system due to end of file" in CI). ctest runs `up` before the
# first test that needs qemu:///system and `down` after the last; `up` notes in a state file
# which daemons it started, and `down` stops exactly those. Run by hand, the tests still start
# (and stop) the daemons themselves when none is running.
set -u
state=/run/raas-tests-libvirt.started

fail() {
	echo "FAIL: $*" >&2
	exit 1
}

case ${1:-} in
up)
	[ "$(id -u)" = 0 ] || { echo "SKIP: needs root (qemu:///system)" >&2; exit 77; }
	command -v libvirtd >/dev/null && command -v virtlogd >/dev/null ||
		fail "libvirtd or virtlogd is not installed (scripts/install-deps)"
	started=""
	if ! pgrep -x virtlogd >/dev/null; then
		# A killed virtlogd leaves its socket files, and libvirtd would talk to nothing.
		rm -f /run/libvirt/virtlogd-sock /run/libvirt/virtlogd-admin-sock
		virtlogd -d || fail "virtlogd -d failed"
		started="$started virtlogd"
	fi
	if ! virsh -c qemu:///system version >/dev/null 2>&1; then
		libvirtd -d || fail "libvirtd -d failed"
		started="$started libvirtd"
	fi
	for _ in $(seq 100); do
		virsh -c qemu:///system version >/dev/null 2>&1 && break
		sleep 0.2
	done
	virsh -c qemu:///system version >/dev/null 2>&1 || fail "libvirtd does not answer within 20 s"
	echo "$started" >"$state"
	echo "libvirt fixture: started:${started:- nothing (already running)}"
	;;
down)
	[ -f "$state" ] || exit 0
	for d in $(cat "$state"); do
		[ -f "/run/$d.pid" ] && kill "$(cat "/run/$d.pid")" 2>/dev/null
	done
	rm -f "$state"
	echo "libvirt fixture: stopped what up started"
	;;
*)
	echo "usage: libvirt_fixture.sh up|down" >&2
	exit 64
	;;
esac
