# lib.sh: what the nom VM tests share (sourced, bash), on top of tests/nom/lib.sh (daemons
# from $RAAS_BIN, wait_for with deadlines, cleanup of what the script started).
#
# Added here: libvirtd and virtlogd started when they are not running (run by hand; under ctest
# the libvirt fixture, libvirt_fixture.sh, has started them) and stopped again at
# exit if this script started them), a host bridge with an address for the VMs' taps (the
# market listens on it), the nom image built once per run, config drives, transient domains
# (direct kernel boot, the config drive as virtio disk vda, a virtio NIC on a tap of the
# bridge, the console in a file) and their removal. Names start with nv<pid> (IFNAMSIZ).
. "$RAAS_SOURCE_DIR/tests/nom/lib.sh"

VMP=nv$$                  # prefix of bridges, taps and domains
BR=${VMP}br
NET=10.$((200 + $$ % 50)).$(($$ / 50 % 250))
VMS=""
STARTED_LIBVIRT=""

vm_need() {
	[ "$(id -u)" = 0 ] || skip "needs root (qemu:///system, bridges, tc)"
	need raas raas-image nom-vm-init nom-priced /virsh /libvirtd /virtlogd /ip /tc /jq
	ls /boot/vmlinuz-*-cloud-amd64 >/dev/null 2>&1 || fail "no Debian cloud kernel (scripts/install-deps)"
	[ -x /bin/busybox ] || fail "no /bin/busybox (busybox-static; scripts/install-deps)"
}

# The daemons qemu:///system needs; CI runs as root with them installed, so a daemon that
# cannot start is a failure, not a skip.
vm_libvirt_up() {
	if ! virsh -c qemu:///system version >/dev/null 2>&1; then
		[ -S /run/libvirt/virtlogd-sock ] || virtlogd -d || fail "virtlogd -d failed"
		libvirtd -d || fail "libvirtd -d failed"
		STARTED_LIBVIRT=1
		wait_for 20 "libvirtd answering" virsh -c qemu:///system version
	fi
	[ -S /run/libvirt/virtlogd-sock ] || { virtlogd -d || fail "virtlogd -d failed"; }
}

vm_cleanup() {
	rc=$?
	set +e
	# $T/defined: the host agent's persistent domains (vm_agent_keys), undefined too.
	defined=$(cat "$T/defined" 2>/dev/null || true)
	for d in $VMS $defined; do virsh -c qemu:///system destroy "$d" >/dev/null 2>&1; done
	for d in $defined; do virsh -c qemu:///system undefine "$d" >/dev/null 2>&1; done
	ip link delete "$BR" 2>/dev/null
	[ -n "$STARTED_LIBVIRT" ] && kill $(cat /run/libvirtd.pid 2>/dev/null) 2>/dev/null
	if [ "$rc" != 0 ] && [ "$rc" != 77 ]; then
		for f in "$T"/*.console; do
			[ -f "$f" ] || continue
			echo "--- $f (tail)" >&2
			tail -n 30 "$f" >&2
		done
	fi
	(exit "$rc")
	cleanup
}
trap vm_cleanup EXIT

# vm_bridge: the host's bridge $BR at $NET.1/24.
vm_bridge() {
	ip link add "$BR" type bridge || fail "ip link add $BR type bridge"
	ip addr add "$NET.1/24" dev "$BR"
	ip link set "$BR" up
}

# vm_image IMAGE OPTION...: raas image build --out IMAGE OPTION... (BUILD_S: its seconds).
vm_image() {
	out=$1
	shift
	t0=$(date +%s%N)
	"$B/raas" image build "$@" --out "$out" >"$T/image-build.log" 2>&1 ||
		fail "raas image build: $(cat "$T/image-build.log")"
	BUILD_S=$(awk -v a="$t0" -v b="$(date +%s%N)" 'BEGIN { printf "%.1f", (b - a) / 1e9 }')
	chmod 0755 "$out"
	chmod 0644 "$out/vmlinuz" "$out/initrd.img"
}

# key_of FILE FIELD: the z85 value of "public" or "secret" in a key file.
key_of() {
	sed -n "s/^$2 *= *//p" "$1"
}

# vm_drive INSTANCE TENANT ADDR_LAST_OCTET [EXTRA_INI]: $T/INSTANCE.ini and its drive
# $T/INSTANCE.drive for tenant TENANT (keys in $T/keys) at $NET.OCTET.
vm_drive() {
	inst=$1 tenant=$2 octet=$3
	{
		cat <<EOF2
[vm]
name = $inst
tenant = $tenant
address = $NET.$octet/24
gateway = $NET.1
host = h1
market = $MARKET
prices = $PRICES
subscribe = bandwidth/h1
market_key = $(key_of "$T/keys/market.pub" public)
tenant_public = $(key_of "$T/keys/$tenant.key" public)
tenant_secret = $(key_of "$T/keys/$tenant.key" secret)
EOF2
		printf '%s' "${4:-}"
	} >"$T/$inst.ini"
	"$B/raas" image drive "$T/$inst.ini" --out "$T/$inst.drive" || fail "raas image drive $inst"
}

# vm_start IMAGE INSTANCE [VCPUS_MAX MEM_MIB]: a transient domain $VMP-INSTANCE booting IMAGE
# with the drive of vm_drive, its tap ${VMP}INSTANCE on $BR, its console $T/INSTANCE.console.
vm_start() {
	img=$1 inst=$2 maxcpu=${3:-2} mem=${4:-256}
	dom=$VMP-$inst
	tap=$(vm_tap "$inst")
	cat >"$T/$inst.xml" <<EOF2
<domain type='qemu'>
  <name>$dom</name>
  <memory unit='MiB'>$mem</memory><currentMemory unit='MiB'>$mem</currentMemory>
  <vcpu placement='static' current='1'>$maxcpu</vcpu>
  <os><type arch='x86_64' machine='pc'>hvm</type>
    <kernel>$img/vmlinuz</kernel><initrd>$img/initrd.img</initrd>
    <cmdline>console=ttyS0 panic=-1 quiet</cmdline></os>
  <features><acpi/></features>
  <on_poweroff>destroy</on_poweroff><on_reboot>destroy</on_reboot><on_crash>destroy</on_crash>
  <devices>
    <disk type='file' device='disk'><driver name='qemu' type='raw'/>
      <source file='$T/$inst.drive'/><target dev='vda' bus='virtio'/><readonly/></disk>
    <interface type='bridge'><source bridge='$BR'/><target dev='$tap'/>
      <model type='virtio'/></interface>
    <serial type='file'><source path='$T/$inst.console'/><target port='0'/></serial>
    <memballoon model='virtio'/>
  </devices>
</domain>
EOF2
	chmod 0755 "$T"
	VMS="$VMS $dom"
	virsh -c qemu:///system create "$T/$inst.xml" >"$T/virsh-$inst.log" 2>&1 ||
		fail "virsh create $dom: $(cat "$T/virsh-$inst.log")"
}

# vm_agent_keys IMAGE INSTANCE [VCPUS_MAX MEM_MIB]: the [tenant.NAME] keys with which the
# host agent boots the VM of vm_start (domain $VMP-INSTANCE, tap, console, drive of
# vm_drive) itself; the domain is undefined at exit should the agent leave it ($T/defined:
# this runs in $(...)). vm_type = qemu: /dev/kvm may exist where KVM does not work (nested,
# "KVM internal error ... emulation failure"), and the default, auto, would take it.
vm_agent_keys() {
	img=$1 inst=$2
	chmod 0755 "$T"
	echo "$VMP-$inst" >>"$T/defined"
	printf 'domain = %s\nvm_image = %s\nvm_drive = %s\nvm_bridge = %s\nvm_tap = %s\n' \
		"$VMP-$inst" "$img" "$T/$inst.drive" "$BR" "$(vm_tap "$inst")"
	printf 'vm_console = %s\nvm_vcpus = %s\nvm_memory_mib = %s\nvm_type = qemu\n' \
		"$T/$inst.console" "${3:-2}" "${4:-256}"
}

# vm_gone INSTANCE: neither the domain nor its tap exists.
vm_gone() {
	! virsh -c qemu:///system domstate "$VMP-$1" >/dev/null 2>&1 &&
		! ip link show "$(vm_tap "$1")" >/dev/null 2>&1
}

# vm_tap INSTANCE: the host-side tap of the instance's NIC (instance names are short).
vm_tap() {
	echo "${VMP}$1"
}

# vm_console_has INSTANCE TEXT
vm_console_has() {
	grep -q -- "$2" "$T/$1.console" 2>/dev/null
}

# vm_sink: the clients' namespace $VMS_NS at $NET.2, a veth into $BR whose bridge port
# ${VMP}s is where the host agent's tc shapes what the VMs send them.
vm_sink() {
	VMS_NS=${VMP}ns
	ip netns add "$VMS_NS" || fail "ip netns add $VMS_NS"
	NETNS="$NETNS $VMS_NS"
	ip link add "${VMP}s" type veth peer name "${VMP}c" netns "$VMS_NS"
	ip link set "${VMP}s" master "$BR" up
	ip -n "$VMS_NS" addr add "$NET.2/24" dev "${VMP}c"
	ip -n "$VMS_NS" link set "${VMP}c" up
	ip -n "$VMS_NS" link set lo up
}

# vm_market_ini: $T/market.ini for a market whose tenant and price endpoints are on the
# bridge (the VMs reach them there) and whose host endpoint is on loopback, then the pool
# sections from stdin.
vm_market_ini() {
	{
		printf '[market]\ntenant_endpoint = tcp://%s.1:*\nprice_endpoint = tcp://%s.1:*\n' "$NET" "$NET"
		printf 'host_endpoint = tcp://127.0.0.1:*\nround_ms = 500\nledger = %s\nkey_dir = %s\n\n' \
			"$T/ledger.sqlite" "$T/keys"
		cat
	} >"$T/market.ini"
}

# vm_agent_ini [SECTION.KEY=VALUE]... TENANT...: $T/agent.ini, the config of host h1's agent:
# the market's host endpoint $HOSTAPI, the keys in $T/keys, heartbeat 500ms, 100 Mbit/s of
# bandwidth shaped by tc (handle 1). Each SECTION.KEY=VALUE adds "KEY = VALUE" at the end of
# [capacity], [backends] or [tc], or of a section of its own after [tc] (one for each run of
# the same SECTION). Then per TENANT, NAME:CLASS:OCTET[:KEYS], [tenant.NAME] with interface
# ${VMP}s (vm_sink's port), class CLASS, src $NET.OCTET/32 and the lines KEYS (vm_agent_keys').
vm_agent_ini() {
	local capacity="bandwidth_mbit = 100" backends="bandwidth = tc" tc="handle = 1"
	local more="" sect="" line spec name class octet keys
	while [ $# -gt 0 ] && [[ $1 =~ ^([a-z_]+)\.([a-z_]+)=(.*)$ ]]; do
		line="${BASH_REMATCH[2]} = ${BASH_REMATCH[3]}"
		case ${BASH_REMATCH[1]} in
		capacity) capacity+=$'\n'$line ;;
		backends) backends+=$'\n'$line ;;
		tc) tc+=$'\n'$line ;;
		*)
			[ "${BASH_REMATCH[1]}" = "$sect" ] || more+=$'\n\n'"[${BASH_REMATCH[1]}]"
			sect=${BASH_REMATCH[1]}
			more+=$'\n'$line
			;;
		esac
		shift
	done
	{
		printf '[agent]\nhost = h1\nmarket = %s\nmarket_public_key = %s\nkey = %s\nheartbeat = 500ms\n' \
			"$HOSTAPI" "$T/keys/market.pub" "$T/keys/h1.key"
		printf '\n[capacity]\n%s\n\n[backends]\n%s\n\n[tc]\n%s%s\n' "$capacity" "$backends" "$tc" "$more"
		for spec in "$@"; do
			name=${spec%%:*} spec=${spec#*:}
			class=${spec%%:*} spec=${spec#*:}
			octet=${spec%%:*} keys=""
			[[ $spec != *:* ]] || keys=${spec#*:}
			printf '\n[tenant.%s]\ninterface = %s\nclass = %s\nsrc = %s/32\n' \
				"$name" "${VMP}s" "$class" "$NET.$octet"
			[ -z "$keys" ] || printf '%s\n' "$keys"
		done
	} >"$T/agent.ini"
}

# vm_last_line INSTANCE PATTERN: the last console line matching PATTERN.
vm_last_line() {
	grep -- "$2" "$T/$1.console" 2>/dev/null | tail -n 1 | tr -d '\r'
}
