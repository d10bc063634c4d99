// test_testbed_pages.js: a live testbed's dashboards in Debian's chromium (playwright-core),
// opened from nothing but the URL `raas testbed up` printed (its ?token=; the page's own API
// and event-stream requests then pass on the cookie the market sets). tests/testbed/
// test_testbed_dash.sh brings the testbed up.
//
// Market page: the price chart has points (and its last is the API's price of that round).
// Tenants page: every tenant named is shown with the profit and each app's W its nom-priced
// reported, as /api/tenants has them (not "-"). Screenshots: BUILD_DIR/testbed-dash-PAGE.png.
// Usage: node test_testbed_pages.js URL BUILD_DIR TENANT...
"use strict";
const path = require("path");

const [url, build, ...names] = process.argv.slice(2);
const {chromiumPath, check, finish} = require("./lib.js");
const chromium = chromiumPath();
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));
const base = url.replace(/\/[^/]*$/, "");
const token = new URL(url).searchParams.get("token");
async function api(p) {
	const r = await fetch(base + p, {cache: "no-store", headers: {Authorization: "Bearer " + token}});
	if (!r.ok)
		throw new Error(`${p}: HTTP ${r.status}`);
	return r.json();
}
async function until(ms, what, f) {
	const end = Date.now() + ms;
	for (;;) {
		const v = await f();
		if (v !== undefined)
			return v;
		if (Date.now() > end)
			throw new Error("timed out waiting for " + what);
		await sleep(200);
	}
}
const perHour = (nd) => (nd === null || nd === undefined ? "-" : "$" + (nd / 1e9).toFixed(4) + "/h");

(async () => {
	const {chromium: pw} = require("playwright-core");
	const browser = await pw.launch({executablePath: chromium, args: ["--no-sandbox"]});
	try {
		const page = await browser.newPage({viewport: {width: 1200, height: 1000}});
		const errors = [];
		page.on("pageerror", (e) => errors.push(e.message));
		await page.goto(url);
		await page.waitForFunction(() => typeof raas !== "undefined" && raas.charts.price &&
					   raas.charts.price.data[0].length >= 3, null, {timeout: 30000});
		// The chart's last point is the API's price of that round (read until one round).
		const same = await until(20000, "the chart and the API at one round", async () => {
			const pools = await api("/api/pools");
			const d = await page.evaluate(() => {
				const c = raas.charts.price.data;
				return {round: c[0][c[0].length - 1], price: c[1][c[1].length - 1], n: c[0].length};
			});
			const h = pools.pools[0].history.find((x) => x.round === d.round);
			return h && pools.round === d.round ? {d, api: h.price_nd / 1e9} : undefined;
		});
		console.log(`market page: ${same.d.n} price points, last round ${same.d.round} at $${same.d.price}; API $${same.api}`);
		check(same.d.n >= 3, "market page: price points", same.d.n, ">= 3");
		check(Math.abs(same.d.price - same.api) < 1e-9, "market page: last price is the API's", same.d.price, same.api);
		await page.screenshot({path: path.join(build, "testbed-dash-market.png")});

		// The tenants page (its link, as a user would: the cookie carries the token).
		await page.click("nav a[href='tenants.html']");
		const seen = await until(30000, "every tenant's reported profit and W on the page, as the API has them", async () => {
			const t = (await api("/api/tenants")).tenants;
			const shown = await page.evaluate(() => ({
				tenants: [...document.querySelectorAll("#tenants tbody tr")].map((tr) => [...tr.cells].map((c) => c.textContent)),
				apps: [...document.querySelectorAll("#apps tbody tr")].map((tr) => [...tr.cells].map((c) => c.textContent)),
			}));
			const want = t.filter((x) => names.includes(x.name)).map((x) => [x.name, perHour(x.reported_profit_per_hour_nd),
				x.apps.map((a) => (a.w_ns === null ? "-" : a.w_ns / 1000 + " us")).join(",")]).sort();
			const got = names.map((n) => [n, (shown.tenants.find((r) => r[0] === n) || [])[5],
				shown.apps.filter((r) => r[0] === n).map((r) => r[3]).join(",")]).sort();
			const reported = want.length === names.length && want.every((r) => r[1] !== "-" && r[2] !== "" && !r[2].includes("-"));
			return reported && JSON.stringify(got) === JSON.stringify(want) ? {got, want} : undefined;
		});
		console.log(`tenants page: ${JSON.stringify(seen.got)} (profit, W per app); API: ${JSON.stringify(seen.want)}`);
		check(seen.got.length === names.length, "tenants page: every tenant", seen.got.length, names.length);
		seen.got.forEach((r, i) => check(JSON.stringify(r) === JSON.stringify(seen.want[i]),
			`tenants page: ${r[0]}'s reported profit and W`, r, seen.want[i]));
		await page.screenshot({path: path.join(build, "testbed-dash-tenants.png")});
		check(errors.length === 0, "no page errors", errors, []);
	} catch (e) {
		check(false, "the pages", e.message, "no error");
	} finally {
		await browser.close();
	}
	finish(3 + names.length + 1);
})();
