# lib.sh: helpers of the operations tests (sourced, not run): a market and host agents with
# the fake backend, started as an operator would (raas keygen, raas tenant/host add, INI
# files), on top of tests/nom/lib.sh (deadlines, cleanup of every process started).
. "${RAAS_SOURCE_DIR:?set RAAS_SOURCE_DIR}/tests/nom/lib.sh"

need raas raas-marketd raas-hostagentd /sqlite3 /jq
export RAAS_LEDGER="$T/ledger.sqlite"

# market_config ROUND_MS ACK_TIMEOUT [MORE]: $T/market.ini, cores at a fixed $3.60/core-hour.
market_config() {
	cat >"$T/market.ini" <<EOC
[market]
tenant_endpoint = tcp://127.0.0.1:*
price_endpoint = tcp://127.0.0.1:*
host_endpoint = tcp://127.0.0.1:*
round_ms = $1
ack_timeout = $2
ledger = $T/ledger.sqlite
key_dir = $T/keys
sync = normal
round_log = 5s
[resource.cores]
model = fixed
params = price=\$3.60
${3:-}
EOC
}

# agent_config HOST FAKE_EXTRA TENANT...: $T/HOST.ini, 8 cores through the fake backend
# (state in $T/HOST.state, every call in $T/HOST.journal), a [tenant.X] per TENANT.
agent_config() {
	host=$1
	extra=$2
	shift 2
	{
		cat <<EOC
[agent]
host = $host
market = $HOSTAPI
market_public_key = $T/keys/market.pub
key = $T/keys/$host.key
heartbeat = 200ms
market_timeout = 1s
reconnect_min = 100ms
reconnect_max = 1s
round_log = 5s
[capacity]
cores = 8
[backends]
cores = fake
[fake]
resources = cores
state_file = $T/$host.state
journal = $T/$host.journal
$extra
EOC
		for t in "$@"; do printf '[tenant.%s]\n' "$t"; done
	} >"$T/$host.ini"
}

# start_agent HOST [NETNS]: raas-hostagentd -c $T/HOST.ini at debug level (a line per round
# applied), pid in $T/HOST.pid; waits for its ready file and its registration.
start_agent() {
	rm -f "$T/$1.ready"
	if [ -n "${2:-}" ]; then
		ip netns exec "$2" "$B/raas-hostagentd" -c "$T/$1.ini" --log-level debug \
			--ready-file "$T/$1.ready" --pid-file "$T/$1.pid" 2>>"$T/$1.log" &
	else
		"$B/raas-hostagentd" -c "$T/$1.ini" --log-level debug --ready-file "$T/$1.ready" \
			--pid-file "$T/$1.pid" 2>>"$T/$1.log" &
	fi
	started $!
	wait_for 20 "$1's ready file" test -s "$T/$1.ready"
	wait_for 20 "$1 registered" grep -q "registered with the market" "$T/$1.log"
}

# as TENANT ARGS...: the raas CLI with TENANT's key.
as() {
	t=$1
	shift
	RAAS_MARKET=$MARKET RAAS_PRICES=$PRICES RAAS_SERVER_KEY="$T/keys/market.pub" \
		RAAS_KEY="$T/keys/$t.key" "$B/raas" "$@"
}

# q SQL: one value from the ledger (read while the market writes, WAL).
q() {
	sqlite3 "$T/ledger.sqlite" "$1"
}

# complete_rounds HOST: the rounds HOST's agent logged as applied completely, one a line.
complete_rounds() {
	sed -n 's/.* round \([0-9][0-9]*\): .* applied in .*, complete$/\1/p' "$T/$1.log" | sort -un
}
