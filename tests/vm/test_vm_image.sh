#!/bin/bash
# test_vm_image.sh: raas image build is reproducible and raas image list/inspect read back
# what it wrote.
#
# Asserted: two builds of the same inputs into different directories give the same id and
# byte-identical initramfs; another input (an extra app) changes the id; the manifest lists
# every shared library ldd resolves for nom-priced and the app (checked against ldd run here)
# and the virtio modules with their dependencies; inspect names the kernel and the apps and
# the Debian packages with versions (dpkg-query's, asked here); list shows both images; an
# edited initramfs is reported as damaged (exit 65). No VM is started: no root needed.
set -eu
. "$RAAS_SOURCE_DIR/tests/nom/lib.sh"
need raas raas-image nom-vm-init nom-priced nhttpd nom-memcached
ls /boot/vmlinuz-*-cloud-amd64 >/dev/null 2>&1 || fail "no Debian cloud kernel (scripts/install-deps)"
[ -x /bin/busybox ] || fail "no /bin/busybox (busybox-static; scripts/install-deps)"

mkdir -p "$T/images"
t0=$(date +%s%N)
"$B/raas" image build --app nhttpd --out "$T/images/one" >"$T/one.log" || fail "build one"
log "$(cat "$T/one.log") (wall $((($(date +%s%N) - t0) / 1000000)) ms)"
"$B/raas" image build --app nhttpd --out "$T/images/two" >"$T/two.log" || fail "build two"
"$B/raas" image build --app nhttpd --app nom-memcached --out "$T/images/three" >/dev/null ||
	fail "build three"
id1=$(cat "$T/images/one/id") id2=$(cat "$T/images/two/id") id3=$(cat "$T/images/three/id")
log "ids: $id1 / $id2 / $id3"
[ "$id1" = "$id2" ] || fail "the same inputs gave two ids"
cmp -s "$T/images/one/initrd.img" "$T/images/two/initrd.img" || fail "the initramfs differs"
[ "$id1" != "$id3" ] || fail "another app did not change the id"
[ "$(sha256sum <"$T/images/one/manifest" | cut -d' ' -f1)" = "$id1" ] || fail "id is not the manifest's hash"

# Every library the loader resolves is in the image (an independent ldd run).
n=0
for prog in nom-priced nhttpd; do
	for lib in $(ldd "$B/$prog" | awk '$2 == "=>" && $3 ~ /^\// { print $3 } $1 ~ /^\// { print $1 }'); do
		grep -q " $lib\$" "$T/images/one/manifest" || fail "$prog needs $lib, not in the manifest"
		n=$((n + 1))
	done
done
[ "$n" -gt 5 ] || fail "only $n libraries checked"
for m in virtio_net virtio_blk virtio_balloon virtio_pci virtio_ring net_failover; do
	grep -q " /lib/modules/$m.ko\$" "$T/images/one/manifest" || fail "module $m is missing"
done
# The image's files are the archive's (cpio lists what the kernel will unpack).
files=$(zcat "$T/images/one/initrd.img" | cpio -it --quiet 2>/dev/null | grep -c .)
log "  $n library references checked; the archive holds $files entries"
[ "$files" -eq "$(grep -cE '^(file|dir|link) ' "$T/images/one/manifest")" ] ||
	fail "the archive's $files entries are not the manifest's"

"$B/raas" image inspect "$T/images/three" >"$T/inspect.txt" || fail "inspect"
kver=$(ls /boot/vmlinuz-*-cloud-amd64 | tail -1 | sed 's|.*/vmlinuz-||')
grep -q "^kernel   $kver" "$T/inspect.txt" || fail "inspect: no kernel $kver: $(cat "$T/inspect.txt")"
grep -q "^apps     nhttpd nom-memcached" "$T/inspect.txt" || fail "inspect: apps"
zmq=$(dpkg-query -W -f '${Version}' libzmq5)
grep -q "^  libzmq5 $zmq\$" "$T/inspect.txt" || fail "inspect: libzmq5 $zmq not listed"
"$B/raas" image list --dir "$T/images" >"$T/list.txt" || fail "list"
[ "$(grep -c "${id1:0:16}" "$T/list.txt")" = 2 ] || fail "list: $(cat "$T/list.txt")"
grep -q "^three .*nhttpd nom-memcached" "$T/list.txt" || fail "list: three: $(cat "$T/list.txt")"

# A damaged image is named so.
printf 'x' | dd of="$T/images/two/initrd.img" bs=1 seek=100 conv=notrunc status=none
set +e
"$B/raas" image inspect "$T/images/two" >/dev/null 2>"$T/damaged.err"
rc=$?
set -e
[ "$rc" = 65 ] || fail "inspect of a damaged image exited $rc"
grep -q "damaged or replaced" "$T/damaged.err" || fail "damaged: $(cat "$T/damaged.err")"
log "  damaged: $(cat "$T/damaged.err")"
log "ok"
