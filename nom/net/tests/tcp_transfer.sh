#!/bin/bash
# tcp_transfer.sh: TCP over nomnet in network namespaces, for every driver.
#
# For each driver (tap, packet, xdp) a nomnet-testsrv runs in its own namespace while a
# thread in it changes the batching delay among 0, 2, 5, 10, 20 and 40 us and flips between
# poll and interrupt mode every few milliseconds; nomnet-xfer then sends transfers of many
# sizes through the kernel's TCP in both directions (echo, client-to-server, server-to-client)
# and checks every byte. The server's counters must show that the delay and the mode really
# changed during the transfers and that both modes ran (sleeps in interrupt mode).
set -u
. "$(dirname "$0")/netns.sh"
netns_require_root
: "${RAAS_BIN:?RAAS_BIN must point at build/bin}"

P="nnt$$"
trap netns_cleanup EXIT INT TERM
SIZES="0,1,100,1459,1460,1461,2920,8192,65535,65536,65537,262144,1048576,4194304"
fail=0

check_stats() { # DRIVER JSON
	local d=$1 js=$2
	for key in delay_changes mode_changes sleeps tx_flush_delay; do
		v=$(echo "$js" | sed -n "s/.*\"$key\":\([0-9]*\).*/\1/p")
		if [ -z "$v" ] || [ "$v" -lt 1 ]; then
			echo "FAIL $d: server counter $key = ${v:-missing} (want >= 1): $js" >&2
			fail=1
		fi
	done
}

run_driver() { # DRIVER
	local d=$1 ns="${P}$1" out
	case $d in
	tap)
		netns_tap "$ns" "${P}t" 10.77.1.1/24 || return 1
		args="--driver tap --if ${P}t"
		;;
	*)
		netns_veth "$ns" "${P}k" "${P}n" 10.77.1.1/24 || return 1
		args="--driver $d --if ${P}n"
		;;
	esac
	out=$(mktemp "/tmp/net-xfer-$d-$$.XXXXXX")
	netns_spawn "$ns" "$RAAS_BIN/nomnet-testsrv" $args --addr 10.77.1.2/24 --port 7000 \
		--churn 3 --seed 7 >"$out"
	srv=$NETNS_LAST_PID
	if ! netns_wait_tcp "$ns" 10.77.1.2 7000 20; then
		echo "FAIL $d: server did not come up" >&2
		fail=1
		netns_stop "$srv"
		rm -f "$out"
		netns_cleanup
		return
	fi
	echo "== $d"
	if ! ip netns exec "$ns" "$RAAS_BIN/nomnet-xfer" --connect 10.77.1.2:7000 \
		--sizes "$SIZES" --parallel 3 --seed 11; then
		echo "FAIL $d: transfers failed" >&2
		fail=1
	fi
	netns_stop "$srv"
	js=$(tail -n 1 "$out")
	echo "$d server: $js"
	check_stats "$d" "$js"
	rm -f "$out"
	netns_cleanup
}

for d in tap packet xdp; do
	run_driver "$d"
done
exit $fail
