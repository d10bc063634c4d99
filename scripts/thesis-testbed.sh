#!/bin/sh
# thesis-testbed.sh: testbeds/nom-thesis.ini for one live run of `make demo` (and of
# test_testbed_sim2real): its phases scaled to PHASE seconds each (the file's are the thesis's
# 60 s), the three apps' strategy and utility function set, and the profile given.
#
#   scripts/thesis-testbed.sh PHASE_S STRATEGY UTILITY PROFILE > FILE.ini
#
# STRATEGY: adaptive, static-tpt, static-lat or price-unaware (the apps on kernel sockets,
# reading the profile's memcached-kernel, nhttpd-linux and netpipe-kernel rows, as
# sim/scenarios/nom-thesis-live.ini's unaware variant does). The neighbour is left as it is.
set -eu
[ $# -eq 4 ] || { echo "usage: thesis-testbed.sh PHASE_S STRATEGY UTILITY PROFILE" >&2; exit 64; }
PHASE=$1 STRATEGY=$2 UTILITY=$3 PROFILE=$4
case $PHASE in *[!0-9]* | '' | 0) echo "thesis-testbed.sh: PHASE_S '$PHASE' is not a whole number of seconds" >&2; exit 64 ;; esac
case $STRATEGY in adaptive | static-tpt | static-lat | price-unaware) ;; *)
	echo "thesis-testbed.sh: strategy '$STRATEGY' is not adaptive, static-tpt, static-lat or price-unaware" >&2; exit 64 ;; esac
case $UTILITY in penalty | refund | bonus) ;; *)
	echo "thesis-testbed.sh: utility '$UTILITY' is not penalty, refund or bonus" >&2; exit 64 ;; esac
SRC=$(cd "$(dirname "$0")/.." && pwd)
awk -v p="$PHASE" -v s="$STRATEGY" -v u="$UTILITY" -v prof="$PROFILE" '
	/^\[/ { sec = $0; app = (sec ~ /^\[tenant\.(mc|web|pipe)\]/) }
	sec == "[testbed]" && /^duration *=/ { print "duration = " 2 * p "s"; next }
	sec == "[testbed]" && /^profile *=/ { print "profile = " prof; next }
	/^phases *=/ { gsub(/60s/, p "s") }
	/^join *=/ { print "join = " p "s"; next }
	app && /^utility *=/ { print "utility = " u; next }
	app && /^strategy *=/ {
		print "strategy = " s
		if (s == "price-unaware") {
			print "stack = kernel"
			print "profile_app = " (sec ~ /mc/ ? "memcached-kernel" : sec ~ /web/ ? "nhttpd-linux" : "netpipe-kernel")
		}
		next }
	{ print }' "$SRC/testbeds/nom-thesis.ini"
