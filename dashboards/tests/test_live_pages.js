// test_live_pages.js: the live dashboard pages in Debian's chromium (playwright-core), against
// a running raas-marketd (tests/dashboards/test_dash_live.sh starts it with two tenants bidding).
//
// Market page: the price chart's last point equals the API's last price (same round); after
// RAISE (a script that raises bob's bid, so the clearing price changes) and three more rounds
// the chart has advanced by exactly three points, one per round, carrying the API's price of
// each round, the new price among them: the points came over the event stream. Tenants page:
// the holdings table equals what `raas allocations` reports for each tenant (CLI, a script);
// the profit and W a tenant reported are shown as the API has them.
// A screenshot of each page goes to BUILD_DIR/dashboards-live-PAGE.png. Prints the market
// page's load-to-first-chart time (median and max of 5 loads).
// Usage: node test_live_pages.js URL BUILD_DIR CLI_HOLDINGS RAISE ROUND_MS
"use strict";
const {execFileSync} = require("child_process");
const path = require("path");

const [url, build, cliHoldings, raise, roundMsArg] = process.argv.slice(2);
const roundMs = Number(roundMsArg);
const {chromiumPath, check, finish} = require("./lib.js");
const chromium = chromiumPath();
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));
async function api(p) {
	const r = await fetch(url + p, {cache: "no-store"});
	if (!r.ok)
		throw new Error(`${p}: HTTP ${r.status}`);
	return r.json();
}
// The chart's columns: rounds and the first pool's price ($ per unit-hour).
const chartOf = (page) => page.evaluate(() => {
	const d = raas.charts.price.data;
	return {rounds: d[0].slice(), prices: d[1].slice()};
});
// Polls f until it returns a value that is not undefined, or throws after ms.
async function until(ms, what, f) {
	const end = Date.now() + ms;
	for (;;) {
		const v = await f();
		if (v !== undefined)
			return v;
		if (Date.now() > end)
			throw new Error("timed out waiting for " + what);
		await sleep(50);
	}
}

(async () => {
	const {chromium: pw} = require("playwright-core");
	const browser = await pw.launch({executablePath: chromium, args: ["--no-sandbox"]});
	try {
		const page = await browser.newPage({viewport: {width: 1200, height: 1000}});
		const errors = [];
		page.on("pageerror", (e) => errors.push(e.message));
		await page.goto(url + "/market.html");
		await page.waitForFunction(() => typeof raas !== "undefined" && raas.charts.price, null,
					   {timeout: 20000});

		// 1. The last point equals the API's last price: read both until they are of the
		// same round (a round may close between the two reads).
		const same = await until(10 * roundMs + 5000, "the chart and the API at one round", async () => {
			const pools = await api("/api/pools");
			const c = await chartOf(page);
			const p = pools.pools.find((x) => x.key === "h1/cores");
			const n = c.rounds.length;
			if (n && c.rounds[n - 1] === pools.round)
				return {round: pools.round, api: p.price_nd / 1e9, chart: c.prices[n - 1], n};
			return undefined;
		});
		console.log(`round ${same.round}: chart's last price $${same.chart}, API's $${same.api} (${same.n} points)`);
		check(same.chart === same.api && same.api > 0, "market page: last price equals the API's",
		      same.chart, same.api);
		const before = same.api;

		// 2. Three rounds later, three more points, one per round, each the API's price.
		const c0 = await chartOf(page);
		const n0 = c0.rounds.length, r0 = c0.rounds[n0 - 1];
		execFileSync(raise);
		await until(20 * roundMs + 5000, `round ${r0 + 3} in the API`, async () =>
			((await api("/api/summary")).round >= r0 + 3 ? true : undefined));
		const c1 = await until(5 * roundMs + 3000, `round ${r0 + 3} on the chart`, async () => {
			const c = await chartOf(page);
			return c.rounds.includes(r0 + 3) ? c : undefined;
		});
		const k = c1.rounds.indexOf(r0 + 3);
		check(k === n0 - 1 + 3, "market page: three points added in three rounds", k - (n0 - 1), 3);
		check(JSON.stringify(c1.rounds.slice(n0 - 1, k + 1)) === JSON.stringify([r0, r0 + 1, r0 + 2, r0 + 3]),
		      "market page: one point per round", c1.rounds.slice(n0 - 1, k + 1), [r0, r0 + 1, r0 + 2, r0 + 3]);
		const hist = (await api("/api/pools")).pools.find((x) => x.key === "h1/cores").history;
		const apiPrice = (r) => { const h = hist.find((x) => x.round === r); return h ? h.price_nd / 1e9 : null; };
		for (let r = r0 + 1; r <= r0 + 3; r++)
			check(c1.prices[c1.rounds.indexOf(r)] === apiPrice(r), `market page: round ${r}'s price is the API's`,
			      c1.prices[c1.rounds.indexOf(r)], apiPrice(r));
		const after = await until(20 * roundMs + 5000, "the raised bid's price on the chart", async () => {
			const c = await chartOf(page);
			const last = c.prices[c.prices.length - 1];
			return last !== before ? last : undefined;
		});
		console.log(`after bob's raised bid: chart's last price $${after} (was $${before})`);
		check(after === 4.5, "market page: the new clearing price arrived live", after, 4.5);
		await page.screenshot({path: path.join(build, "dashboards-live-market.png")});

		// 3. The tenants page's holdings are the CLI's.
		const tp = await browser.newPage({viewport: {width: 1200, height: 700}});
		tp.on("pageerror", (e) => errors.push(e.message));
		await tp.goto(url + "/tenants.html");
		await tp.waitForFunction(() => document.querySelectorAll("#holdings tbody tr").length > 0, null,
					 {timeout: 20000});
		const rows = await tp.evaluate(() => [...document.querySelectorAll("#holdings tbody tr")].map(
			(tr) => [...tr.cells].map((c) => c.textContent)));
		const pageHoldings = rows.map((r) => `${r[0]} ${r[1]} ${r[3]}`).sort();
		const cli = execFileSync(cliHoldings).toString().trim().split("\n").sort();
		console.log(`tenants page holdings: ${pageHoldings.join("; ")}; CLI: ${cli.join("; ")}`);
		check(cli.length === 2 && JSON.stringify(pageHoldings) === JSON.stringify(cli),
		      "tenants page: the holdings the CLI reports", pageHoldings, cli);
		const tenants = (await api("/api/tenants")).tenants;
		const shown = await tp.evaluate(() => ({
			tenants: [...document.querySelectorAll("#tenants tbody tr")].map((tr) => [...tr.cells].map((c) => c.textContent)),
			apps: [...document.querySelectorAll("#apps tbody tr")].map((tr) => [...tr.cells].map((c) => c.textContent)),
		}));
		const perHour = (nd) => (nd === null ? "-" : "$" + (nd / 1e9).toFixed(4) + "/h");
		const wantProfit = tenants.map((x) => [x.name, perHour(x.reported_profit_per_hour_nd)]).sort();
		const gotProfit = shown.tenants.map((r) => [r[0], r[5]]).sort();
		console.log(`tenants page profit: ${JSON.stringify(gotProfit)}; apps: ${JSON.stringify(shown.apps)}`);
		check(JSON.stringify(gotProfit) === JSON.stringify(wantProfit) && wantProfit.some((r) => r[1] !== "-"),
		      "tenants page: the profit each tenant reported, as the API has it", gotProfit, wantProfit);
		const wantApps = [];
		tenants.forEach((x) => x.apps.forEach((a) => wantApps.push(
			[x.name, a.app, perHour(a.profit_per_hour_nd), a.w_ns === null ? "-" : (a.w_ns / 1000) + " us"])));
		check(wantApps.length === 1 && JSON.stringify(shown.apps) === JSON.stringify(wantApps),
		      "tenants page: each app's reported profit and W", shown.apps, wantApps);
		await tp.screenshot({path: path.join(build, "dashboards-live-tenants.png")});

		// 4. The hosts and rounds pages draw their tables.
		for (const [name, sel] of [["hosts", "#hosts tbody tr"], ["rounds", "#rounds tbody tr"]]) {
			const p = await browser.newPage({viewport: {width: 1200, height: 700}});
			p.on("pageerror", (e) => errors.push(e.message));
			await p.goto(`${url}/${name}.html`);
			await p.waitForFunction((s) => document.querySelectorAll(s).length > 0, sel, {timeout: 20000});
			const n = await p.evaluate((s) => document.querySelectorAll(s).length, sel);
			check(n > 0, `${name} page: table rows`, n, "> 0");
			await p.screenshot({path: path.join(build, `dashboards-live-${name}.png`)});
			await p.close();
		}
		check(errors.length === 0, "no page errors", errors, []);

		// 5. Figure: load to first chart drawn, five fresh loads of the market page.
		const ms = [];
		for (let i = 0; i < 5; i++) {
			const ctx = await browser.newContext();
			const p = await ctx.newPage();
			await p.goto(url + "/market.html");
			await p.waitForFunction(() => window.raasFirstChartMs > 0, null, {timeout: 20000});
			ms.push(await p.evaluate(() => window.raasFirstChartMs));
			await ctx.close();
		}
		ms.sort((a, b) => a - b);
		console.log(`figure: market.html load to first chart drawn (headless chromium, loopback, ` +
			    `live market): median ${ms[2].toFixed(1)} ms, max ${ms[4].toFixed(1)} ms of 5 ` +
			    `(aim < 500 ms); screenshots ${build}/dashboards-live-{market,tenants,hosts,rounds}.png`);
	} finally {
		await browser.close();
	}
	finish(12);
})().catch((e) => {
	console.log("FAIL: " + (e.stack || e));
	process.exit(1);
});
