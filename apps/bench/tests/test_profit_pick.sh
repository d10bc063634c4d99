#!/bin/bash
# test_profit_pick: `nom-profit pick`, the priced working point peers.sh and profile.sh report
# (issue 19), against numbers worked by hand under the thesis's bonus utility
# (a = 20 + 0.01 / L[ms] $/Gbit, P = $1/Gbit).
#
# Two rows at W = 0: no spin (20,000 req/s, 60 us, 25 us of CPU per request) and a 50 us
# budget (30,000 req/s, 40 us, 30 us). A 1,000-byte request is 8e-6 Gbit, so
#   U(no spin) = 0.16 Gbit/s x (20.1667 - 1) - 0.5 cores x c = 3.06667 - 0.5 c  $/s
#   U(spin)    = 0.24 Gbit/s x (20.25 - 1)   - 0.9 cores x c = 4.62    - 0.9 c  $/s
# so the spin is bought while c < 1.55333 / 0.4 = 3.88333 $/s, that is 13,980 $/core-hour.
set -u
: "${RAAS_BIN:?}"
T=$(mktemp -d)
trap 'rm -rf "$T"' EXIT
. "${RAAS_SOURCE_DIR:?}/tests/lib/check.sh"
cat >"$T/p.csv" <<'CSV'
app,load,delay_us,spin_us,throughput_rps,latency_us,jitter_us,bytes_per_request,cpu_us_per_request
memcached,single,0,0,20000,60,5,1000,25
memcached,single,0,50,30000,40,5,1000,30
memcached,many,20,0,150000,90,10,1000,6
CSV
pick() { "$RAAS_BIN/nom-profit" pick --profile "$T/p.csv" --app memcached --utility bonus "$@" 2>"$T/err"; }

check_eq "cores free: the spin is bought, break-even 13,980 \$/core-hour" \
	"0 50 30000 40 30 1.4e+04" "$(pick --load single)"
check_eq "cores at 13,900 \$/h: still bought" "50" "$(pick --load single --core-price 13900 | cut -d' ' -f2)"
check_eq "cores at 14,100 \$/h: not bought" "0 0 20000 60 25 0" "$(pick --load single --core-price 14100)"
check_eq "a level without spin rows" "20 0 150000 90 6 0" "$(pick --load many --core-price 5)"

# Bad input: a clear error and a usage or data exit code, never a pick.
out=$(pick --load nosuch); rc=$?
check_eq "unknown level: exit" 65 "$rc"
check_eq "unknown level: no output" "" "$out"
check_eq "unknown level: message" "nom-profit: the profile has no level memcached/nosuch" "$(cat "$T/err")"
pick --load single --core-price -3 >/dev/null; rc=$?
check_eq "negative core price: exit" 64 "$rc"
check_eq "negative core price: message" 'nom-profit: --core-price: "-3" is not a price >= 0' "$(cat "$T/err")"
pick --load single --price abc >/dev/null; rc=$?
check_eq "price not a number: exit" 64 "$rc"
"$RAAS_BIN/nom-profit" pick --profile "$T/p.csv" --app memcached 2>/dev/null; rc=$?
check_eq "no --load: usage" 64 "$rc"

check_done test_profit_pick
