#!/bin/sh
# test_dash_live.sh: the live pages in Debian's chromium (playwright-core), served by the real
# raas-marketd (http_pages_dir = build/dashboards/www) closing 300 ms rounds of a uniform-price
# auction where alice and bob bid for host h1's cores, enforced by h1's agent (fake backend).
# dashboards/tests/test_live_pages.js does the browser side: the market page's last price
# equals the API's, three rounds later the chart has advanced by exactly three points carrying
# bob's raised bid's new price (over SSE), the tenants page shows the holdings `raas
# allocations` reports and the profit and W alice's nom instance reported (nom-ctl report), a
# screenshot of each page under build/, and the load-to-first-chart time of the market page.
set -eu
. "$RAAS_SOURCE_DIR/tests/dashboards/lib.sh"
need nom-priced nom-ctl /curl /node /chromium
WWW=${RAAS_BIN%/bin}/dashboards/www
[ -f "$WWW/market.html" ] || fail "no pages at $WWW (the dashboards target builds them)"

keys bob h1
"$B/raas" tenant add bob --key "$T/keys/bob.pub" >/dev/null
"$B/raas" host add h1 --key "$T/keys/h1.pub" >/dev/null
# A uniform-price auction instead of the fixed price: the clearing price moves with bids.
dash_market 300 "http_pages_dir = $WWW" 'model = uniform
params = reserve=$0.10'
agent_config h1 "" alice bob
start_agent h1

as alice bid --resource cores --host h1 --max 6 --price '$5' --id web >/dev/null
as bob bid --resource cores --host h1 --max 6 --price '$4' --id batch >/dev/null
held() { curl -sf "$H/api/tenants" | jq -e '[.tenants[].holdings[].quantity] | add == 8' >/dev/null; }
wait_for 10 "8 cores held in the API" held
# alice's nom instance reports an app's profit and W (the tenants page shows it).
dash_priced alice
"$B/nom-ctl" "$INST" report web 1.25 20 >/dev/null || fail "nom-ctl report"
reported() { curl -sf "$H/api/tenants" | jq -e '.tenants[] | select(.name == "alice") | .reported_profit_per_hour_nd == 1250000000' >/dev/null; }
wait_for 10 "alice's reported profit in the API" reported
log "pages at $H/market.html"

# The CLI's view of the holdings, for the browser test: tenant pool quantity, one a line.
cat >"$T/cli-holdings.sh" <<EOC
#!/bin/sh
set -e
for t in alice bob; do
	RAAS_MARKET=$MARKET RAAS_PRICES=$PRICES RAAS_SERVER_KEY=$T/keys/market.pub RAAS_KEY=$T/keys/\$t.key \
		$B/raas -o json allocations | jq -r --arg t \$t '.[] | "\(\$t) \(.host)/\(.resource) \(.quantity)"'
done
EOC
cat >"$T/raise-bid.sh" <<EOC
#!/bin/sh
RAAS_MARKET=$MARKET RAAS_PRICES=$PRICES RAAS_SERVER_KEY=$T/keys/market.pub RAAS_KEY=$T/keys/bob.key \
	$B/raas bid --resource cores --host h1 --max 6 --price '\$4.50' --id batch >/dev/null
EOC
chmod +x "$T/cli-holdings.sh" "$T/raise-bid.sh"
"$T/cli-holdings.sh" >"$T/cli.txt"
log "the CLI's holdings: $(tr '\n' ';' <"$T/cli.txt")"
[ "$(wc -l <"$T/cli.txt")" = 2 ] || fail "the CLI reports $(wc -l <"$T/cli.txt") holdings, want 2"

NODE_PATH="$RAAS_SOURCE_DIR/dashboards/node_modules" node "$RAAS_SOURCE_DIR/dashboards/tests/test_live_pages.js" \
	"$H" "${RAAS_BIN%/bin}" "$T/cli-holdings.sh" "$T/raise-bid.sh" 300 || fail "the browser test failed"
kill -0 "$MPID" || fail "raas-marketd died"
log "PASS"
