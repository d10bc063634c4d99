#!/bin/bash
# vm-throughput.sh: nhttpd's throughput in a TCG guest against the same app as a process
# instance on the host, both on nomnet's packet driver, unshaped, driven by wrk from a
# namespace (16 KiB file, 8 connections, SECONDS each). Prints the two figures and their
# ratio. Root; libvirt started when not running. Usage: vm-throughput.sh [SECONDS]
# Environment: RAAS_BIN (build/bin), RAAS_SOURCE_DIR (the repository).
set -eu
SECS=${1:-10}
. "$RAAS_SOURCE_DIR/tests/vm/lib.sh"
vm_need
need nhttpd /wrk
vm_libvirt_up
vm_bridge
vm_sink
keys market alice
MARKET=tcp://$NET.1:7101 PRICES=tcp://$NET.1:7102 # no market: the app runs with --price
mkdir -p "$T/www"
head -c 16384 /dev/urandom >"$T/www/f16k"
vm_image "$T/img" --app nhttpd --file "$T/www/f16k=/srv/www/f16k" >/dev/null
vm_drive a alice 11 "[app.web]
run = nhttpd --driver packet --if eth0 --addr $NET.21/24 --gateway $NET.1 --root /srv/www
run2 = --mode interrupt --price 1
"
vm_start "$T/img" a 1 256
wait_for 180 "nhttpd in the VM" vm_console_has a "serving port 8080"
ip netns exec "$VMS_NS" wrk -t 1 -c 8 -d 3s "http://$NET.21:8080/f16k" >/dev/null 2>&1 || true
ip netns exec "$VMS_NS" wrk -t 1 -c 8 -d "${SECS}s" "http://$NET.21:8080/f16k" >"$T/wrk-vm.log" 2>&1
vm=$(sed -n 's/^Requests\/sec: *//p' "$T/wrk-vm.log")

# The process instance: nhttpd in a namespace of its own on a veth into the same bridge.
PN=${VMP}pn
ip netns add "$PN"
NETNS="$NETNS $PN"
ip link add "${VMP}p" type veth peer name p0 netns "$PN"
ip link set "${VMP}p" master "$BR" up
ip -n "$PN" link set p0 up
ip netns exec "$PN" sh -c 'echo 1 > /proc/sys/net/ipv6/conf/p0/disable_ipv6'
ip netns exec "$PN" "$B/nomnet-ctl" ifprep p0 >/dev/null
"$B/nomnet-ctl" ifprep "${VMP}p" >/dev/null
ip netns exec "$PN" "$B/nhttpd" --driver packet --if p0 --addr "$NET.31/24" --gateway "$NET.1" \
	--root "$T/www" --mode interrupt --price 1 >"$T/proc.log" 2>&1 &
started $!
listening() { ip netns exec "$VMS_NS" bash -c "exec 3<>/dev/tcp/$NET.31/8080" 2>/dev/null; }
wait_for 20 "nhttpd as a process" listening
ip netns exec "$VMS_NS" wrk -t 1 -c 8 -d "${SECS}s" "http://$NET.31:8080/f16k" >"$T/wrk-proc.log" 2>&1
proc=$(sed -n 's/^Requests\/sec: *//p' "$T/wrk-proc.log")
echo "nhttpd 16 KiB, wrk 8 connections, ${SECS} s: TCG guest $vm req/s, process instance $proc req/s" \
	"(guest/process $(awk -v a="$vm" -v b="$proc" 'BEGIN { printf "%.3f", a / b }'))"
