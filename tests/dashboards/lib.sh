# lib.sh: the dashboards tests' market (sourced, not run), on tests/ops/lib.sh's helpers.

. "${RAAS_SOURCE_DIR:?set RAAS_SOURCE_DIR}/tests/ops/lib.sh"

# dash_market ROUND_MS [MARKET_KEYS] [CORES_PRICING]: tenant alice (keys market and alice) and
# a market closing ROUND_MS rounds, pool c1 selling 8 cores on host h1 at a fixed $3.60 per
# core-hour (or as CORES_PRICING's model and params lines say), with MARKET_KEYS (key = value
# lines) in its [market] section. Starts it (MPID, MARKET, PRICES, HOSTAPI as start_market
# sets them) and sets H to its HTTP endpoint.
dash_market() {
	keys market alice
	"$B/raas" tenant add alice --key "$T/keys/alice.pub" >/dev/null
	market_config "$1" 2s "[pool.c1]
host = h1
resource = cores
supply = 8"
	{
		sed '/^\[resource.cores\]/,$d' "$T/market.ini"
		[ -z "${2:-}" ] || printf '%s\n' "$2"
		if [ -n "${3:-}" ]; then
			echo "[resource.cores]"
			printf '%s\n' "$3"
			sed -n '/^\[resource.cores\]/,$p' "$T/market.ini" | sed '1d; /^model = /d; /^params = /d'
		else
			sed -n '/^\[resource.cores\]/,$p' "$T/market.ini"
		fi
	} >"$T/market.ini.new"
	mv "$T/market.ini.new" "$T/market.ini"
	start_market "$T/market.ini"
	H=$(sed -n 's/^http_endpoint=//p' "$T/ready")
	[ -n "$H" ] || fail "no http_endpoint in the ready file: $(cat "$T/ready")"
}

# dash_priced TENANT: nom-priced for instance $P-TENANT as TENANT, following cores/h1, with a
# ready file; waits for it and sets INST to the instance and PH to its HTTP endpoint (which
# must be on loopback).
dash_priced() {
	INST=$P-$1
	INSTANCES="$INSTANCES $INST"
	"$B/nom-priced" --check-invariants --set=priced.instance="$INST" --set=priced.market="$MARKET" \
		--set=priced.prices="$PRICES" --set=priced.tenant_key="$T/keys/$1.key" \
		--set=priced.market_key="$T/keys/market.pub" --set=priced.api="ipc:///tmp/$INST.sock" \
		--set=priced.subscribe=cores/h1 --set=priced.host=h1 --ready-file "$T/priced-$1.ready" \
		2>>"$T/priced-$1.log" &
	started $!
	wait_for 20 "nom-priced's ready file" test -s "$T/priced-$1.ready"
	PH=$(sed -n 's/^http_endpoint=//p' "$T/priced-$1.ready")
	case $PH in
	http://127.0.0.1:[0-9]*) ;;
	*) fail "nom-priced's ready file: no loopback http_endpoint: $(cat "$T/priced-$1.ready")" ;;
	esac
}
