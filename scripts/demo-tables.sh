#!/bin/bash
# demo-tables.sh: make demo's tables: the live profit per app, utility function and strategy
# (the shape of raas-sim's nom-thesis table), the simulator's prediction of the same runs, the
# gap of each cell, and the thesis's published figures beside the live and simulated ones.
#
#   scripts/demo-tables.sh DIR "UTILITIES" PHASE_S
#
# DIR holds live-UTILITY-STRATEGY.sqlite (raas testbed run) and sim-UTILITY.sqlite (raas-sim
# run of sim/scenarios/nom-thesis-live.ini, one variant per strategy); the money is the run
# files' classes (value - payment, nanodollars). Published figures:
# ../shared/reference/thesis-figures.md (section 6.5: the thesis gives ratios, no dollars).
set -eu
DIR=$1 UTILITIES=$2 PHASE=$3
rows=$DIR/profits.tsv
: >"$rows"
for u in $UTILITIES; do
	for s in adaptive static-tpt static-lat price-unaware; do
		f=$DIR/live-$u-$s.sqlite
		[ -f "$f" ] || continue
		sqlite3 -separator '	' "$f" "SELECT 'live', '$u', '$s', class, profit FROM classes WHERE class IN ('mc','web','pipe')" >>"$rows"
	done
	f=$DIR/sim-$u.sqlite
	[ -f "$f" ] && sqlite3 -separator '	' "$f" "SELECT 'sim', '$u', CASE variant WHEN 'unaware' THEN 'price-unaware' ELSE variant END, class, profit FROM classes WHERE class IN ('mc','web','pipe')" >>"$rows"
done
awk -F'\t' -v phase="$PHASE" -v utils="$UTILITIES" '
	{ p[$1, $2, $3, $4] = $5 / 1e9; have[$1, $2, $3, $4] = 1; n[$1]++ }
	function ratio(src, u, c, s, d) {
		if (!have[src, u, s, c] || !have[src, u, d, c] || p[src, u, d, c] <= 0 || p[src, u, s, c] < 0) return "-"
		return sprintf("%.0f%%", 100 * p[src, u, s, c] / p[src, u, d, c])
	}
	function times(src, u, c) {
		if (!have[src, u, "adaptive", c] || !have[src, u, "price-unaware", c] || p[src, u, "price-unaware", c] <= 0 || p[src, u, "adaptive", c] <= 0) return "-"
		return sprintf("%.2fx", p[src, u, "adaptive", c] / p[src, u, "price-unaware", c])
	}
	function cell(src, u, c, s) { return have[src, u, s, c] ? sprintf("%10.2f", p[src, u, s, c]) : sprintf("%10s", "-") }
	function table(src, title,    i, j, u, c) {
		print ""
		print title
		printf "%-10s %-8s %10s %10s %10s %10s %8s %8s %9s\n", "app", "utility", "adaptive", "static-tpt", "static-lat", "unaware", "tpt/adp", "lat/adp", "nom/unaw."
		for (i = 1; i <= 3; i++) for (j = 1; j <= nu; j++) {
			u = U[j]; c = C[i]
			printf "%-10s %-8s %s %s %s %s %8s %8s %9s\n", A[i], u, cell(src, u, c, "adaptive"), cell(src, u, c, "static-tpt"),
				cell(src, u, c, "static-lat"), cell(src, u, c, "price-unaware"), ratio(src, u, c, "static-tpt", "adaptive"),
				ratio(src, u, c, "static-lat", "adaptive"), times(src, u, c)
		}
	}
	function gap(u, c, s,    l, m) {
		if (!have["live", u, s, c] || !have["sim", u, s, c]) return sprintf("%10s", "-")
		l = p["live", u, s, c]; m = p["sim", u, s, c]
		if (m == 0) return sprintf("%10s", l == 0 ? "0" : sprintf("%+.2f$", l))
		return sprintf("%+9.0f%%", 100 * (l - m) / (m < 0 ? -m : m))
	}
	END {
		nu = split(utils, U, " ")
		split("memcached nhttpd netpipe", A, " "); split("mc web pipe", C, " ")
		table("live", sprintf("Live profit ($ over %d s: %d s many + %d s single), measured: sequential runs, one per strategy, each with the three tenants and the neighbour", 2 * phase, phase, phase))
		table("sim", "Simulated profit ($, raas-sim: the same scenario, mechanism, supply, phases and the profile measured on this machine)")
		print ""
		print "Gap, live against simulated ((live - sim) / |sim|; \"+N$\" where the simulation has 0)"
		printf "%-10s %-8s %10s %10s %10s %10s\n", "app", "utility", "adaptive", "static-tpt", "static-lat", "unaware"
		for (i = 1; i <= 3; i++) for (j = 1; j <= nu; j++)
			printf "%-10s %-8s %s %s %s %s\n", A[i], U[j], gap(U[j], C[i], "adaptive"), gap(U[j], C[i], "static-tpt"), gap(U[j], C[i], "static-lat"), gap(U[j], C[i], "price-unaware")
		print ""
		print "The thesis (../shared/reference/thesis-figures.md, section 6.5; 120 s runs; it publishes ratios, not dollars): live / simulated / published"
		printf "%-52s %9s %9s %9s\n", "figure", "live", "simul.", "publ."
		fig("memcached static-tpt / adaptive, penalty", ratio("live", "penalty", "mc", "static-tpt", "adaptive"), ratio("sim", "penalty", "mc", "static-tpt", "adaptive"), "82%")
		fig("memcached static-lat / adaptive, penalty", ratio("live", "penalty", "mc", "static-lat", "adaptive"), ratio("sim", "penalty", "mc", "static-lat", "adaptive"), "14%")
		fig("nhttpd static-tpt / adaptive, penalty", ratio("live", "penalty", "web", "static-tpt", "adaptive"), ratio("sim", "penalty", "web", "static-tpt", "adaptive"), "73%")
		fig("nhttpd static-lat / adaptive, penalty", ratio("live", "penalty", "web", "static-lat", "adaptive"), ratio("sim", "penalty", "web", "static-lat", "adaptive"), "94%")
		fig("NetPIPE static-tpt / adaptive, penalty (tie)", ratio("live", "penalty", "pipe", "static-tpt", "adaptive"), ratio("sim", "penalty", "pipe", "static-tpt", "adaptive"), "100%")
		fig("memcached nom (adaptive) / Linux (unaware), penalty", times("live", "penalty", "mc"), times("sim", "penalty", "mc"), "11.14x")
		print "  (unaware here: nom'"'"'s own apps on kernel sockets, price-unaware; the thesis'"'"'s Linux ran Linux'"'"'s memcached in a VM)"
		printf "cells: %d live, %d simulated\n", n["live"], n["sim"]
	}
	function fig(name, l, s, pub) { printf "%-52s %9s %9s %9s\n", name, l, s, pub }
' "$rows"
