#!/bin/sh
# test_sim_spot_replay.sh: spot-replay.ini against the real EC2 traces of ../shared/data.
#
# Skips (77) where the shared data folder is absent. Checks that the replayed price of every
# round is the trace's price in force at that time (2010-04-01 plus the round's start), for
# one day of each variant, and that tenants were served only while their value was at least
# the price.
set -u
SIM="${RAAS_BIN:?}/raas-sim"
SRC="${RAAS_SOURCE_DIR:?}"
DATA="${RAAS_SHARED_DATA:-$SRC/../shared/data}"
if [ ! -d "$DATA/ec2-spot-2009-2011" ]; then
	echo "SKIP: no EC2 traces at $DATA/ec2-spot-2009-2011" >&2
	exit 77
fi
T=/tmp/sim-spot-$$
mkdir -p "$T"
trap 'rm -rf "$T"' EXIT INT TERM
"$SIM" run "$SRC/sim/scenarios/spot-replay.ini" --out "$T/run.sqlite" --set sim.duration=1d --set "sim.data_dir=$DATA" --progress=never --quiet || exit 1
fails=0
for v in us-east-linux:us-east-1.linux.m1.small us-east-windows:us-east-1.windows.m1.small eu-west-linux:eu-west-1.linux.m1.small; do
	variant=${v%%:*}; file=$DATA/ec2-spot-2009-2011/${v#*:}.csv
	# The trace's price in force at each 5-minute round start of 2010-04-01, in nanodollars.
	TZ=UTC awk -F, -v start="2010-04-01 00:00:00" '
		function secs(s) { gsub(/[-:]/, " ", s); return mktime(s) }
		BEGIN { t0 = secs(start) }
		{ t[NR] = secs($1); p[NR] = $2; n = NR }
		END {
			j = 1
			for (k = 0; k < 288; k++) {
				at = t0 + 300 * k
				while (j < n && t[j + 1] <= at) j++
				printf "%d %d\n", k, p[j] * 1e9 + 0.5
			}
		}' "$file" >"$T/want"
	sqlite3 "$T/run.sqlite" "select round, price_mean from rounds where variant = '$variant' order by round" | tr '|' ' ' >"$T/got"
	if ! cmp -s "$T/want" "$T/got"; then
		echo "FAIL: $variant: replayed prices differ from $file:"
		diff "$T/want" "$T/got" | head -10
		fails=$((fails + 1))
	fi
done
# Nobody held an instance it valued below the price.
bad=$(sqlite3 "$T/run.sqlite" "select count(*) from classes where profit < 0")
[ "$bad" = 0 ] || { echo "FAIL: $bad classes paid more than their value"; fails=$((fails + 1)); }
[ "$fails" -eq 0 ] || exit 1
echo "test_sim_spot_replay: ok (3 traces, 288 rounds each, prices as in the files)"
