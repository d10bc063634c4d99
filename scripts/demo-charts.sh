#!/bin/bash
# demo-charts.sh: make demo's charts, one PNG per live run: the bandwidth price, each tenant's
# W, throughput, mean latency, money spent and profit so far (value - charges) over the run's seconds, from the run
# file's tenant_seconds (docs/testbed.md), drawn by gnuplot.
#
#   scripts/demo-charts.sh DIR "UTILITIES"
set -eu
DIR=$1 UTILITIES=$2
command -v gnuplot >/dev/null || { echo "demo-charts: gnuplot is not installed: no charts (the CSVs are in $DIR)"; exit 0; }
n=0
for f in "$DIR"/live-*.sqlite; do
	[ -f "$f" ] || continue
	b=${f%.sqlite}
	for t in mc web pipe noisy; do
		sqlite3 -separator ' ' "$f" "SELECT t_s, price / 3.6e9, coalesce(delay_us, 'NaN'), coalesce(tput_rps, 'NaN'), coalesce(mean_us, 'NaN'), charged / 1e9, sent_mbit, (sum(value) OVER (ORDER BY t_s) - charged) / 1e9 FROM tenant_seconds WHERE tenant = '$t' AND up ORDER BY t_s" >"$b.$t.dat"
	done
	gnuplot 2>>"$DIR/gnuplot.log" <<GP
set terminal pngcairo size 1000,1300 font ",9"
set output "$b.png"
set multiplot layout 6,1 title "$(basename "$b") (raas testbed run, per second)"
set key outside right
set xlabel "s"
plots(col) = sprintf("'$b.mc.dat' u 1:%d w lp t 'memcached', '$b.web.dat' u 1:%d w lp t 'nhttpd', '$b.pipe.dat' u 1:%d w lp t 'netpipe'", col, col, col)
set ylabel "\$/Gbit"
plot '$b.mc.dat' u 1:2 w steps lw 2 t 'bandwidth price'
set ylabel "W (us)"
eval("plot " . plots(3))
set ylabel "requests/s"
eval("plot " . plots(4))
set ylabel "mean latency (us)"
set logscale y
eval("plot " . plots(5))
unset logscale y
set ylabel "spent so far (\$)"
eval("plot " . plots(6))
set ylabel "profit so far (\$)"
eval("plot " . plots(8))
unset multiplot
GP
	n=$((n + 1))
done
echo "== charts: $n PNGs in $DIR (live-UTILITY-STRATEGY.png: price, W, throughput, latency, spend, profit); raas-sim report DIR/live-*.sqlite --out D draws the rest"
