#!/bin/bash
# test_vm_badinput.sh: bad input to nom VMs gives a clear error and leaves nothing running.
#
#   - An app whose shared library is missing: raas image build exits 65 naming the app and
#     the library (as the loader reports it), and nothing is left at --out.
#   - A config drive with a misspelt key: the guest's init reports "config-drive:LINE:
#     vm.KEY: unknown key" on its console before anything starts, powers off, and the
#     transient domain and its tap are gone; nom-priced never ran.
# Root, libvirt (started when not running), the Debian cloud kernel, cc.
set -eu
. "$RAAS_SOURCE_DIR/tests/vm/lib.sh"
vm_need
need /cc

log "an app whose library is missing"
mkdir -p "$T/src"
printf 'int vmbad_value(void) { return 7; }\n' >"$T/src/lib.c"
printf 'int vmbad_value(void);\nint main(void) { return vmbad_value() == 7 ? 0 : 1; }\n' >"$T/src/app.c"
cc -shared -fPIC -o "$T/src/libvmbad.so.1" "$T/src/lib.c" -Wl,-soname,libvmbad.so.1
cc -o "$T/src/vmbad-app" "$T/src/app.c" "$T/src/libvmbad.so.1" -Wl,-rpath,"$T/src"
"$T/src/vmbad-app" || fail "the test app does not run with its library"
rm "$T/src/libvmbad.so.1"
set +e
"$B/raas" image build --app "$T/src/vmbad-app" --out "$T/bad-image" >"$T/bad.out" 2>"$T/bad.err"
rc=$?
set -e
log "  exit $rc: $(cat "$T/bad.err")"
[ "$rc" = 65 ] || fail "raas image build exited $rc, not 65"
grep -q "app vmbad-app: libvmbad.so.1 not found" "$T/bad.err" || fail "the error does not name the app and library"
[ ! -e "$T/bad-image" ] || fail "a half image was left at --out"
[ -z "$(ls -d "$T"/bad-image.tmp-* 2>/dev/null)" ] || fail "a temporary image was left"

log "a config drive with a misspelt key"
vm_libvirt_up
vm_bridge
keys market alice
MARKET=tcp://$NET.1:7101 PRICES=tcp://$NET.1:7102
vm_image "$T/img"
vm_drive a alice 11
sed -i 's/^tenant_secret =/tenant_secrt =/' "$T/a.ini"
line=$(grep -n '^tenant_secrt' "$T/a.ini" | cut -d: -f1)
"$B/raas" image drive "$T/a.ini" --out "$T/a.drive" || fail "raas image drive"
vm_start "$T/img" a 1 192
gone() { ! virsh -c qemu:///system domstate "$VMP-a" >/dev/null 2>&1; }
wait_for 120 "VM a powers off" gone
err=$(vm_last_line a "nom-vm: config drive")
log "  console: $err"
echo "$err" | grep -q "config-drive:$line: vm.tenant_secrt: unknown key" ||
	fail "the console does not name line $line and the key: $err"
vm_console_has a "nom-priced" && fail "nom-priced ran on a bad config drive"
vm_console_has a "stopping: bad config drive" || fail "no 'stopping' line"
! ip link show "$(vm_tap a)" >/dev/null 2>&1 || fail "the tap $(vm_tap a) is left"
# --check finds the same error on the host, before a VM is started.
set +e
"$B/raas" image drive --check "$T/a.ini" --out "$T/a2.drive" 2>"$T/check.err"
rc=$?
set -e
[ "$rc" = 65 ] && grep -q "a.ini:$line: vm.tenant_secrt: unknown key" "$T/check.err" ||
	fail "raas image drive --check: exit $rc, $(cat "$T/check.err")"
log "ok"
