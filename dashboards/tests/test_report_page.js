// test_report_page.js: raas-sim report's report.html in Debian's chromium (playwright-core).
//
// Runs the thesis scenario, reports it, opens report.html offline (file://, nothing served)
// and checks the charts against the run file read by the sqlite3 CLI (an independent path):
// the price chart has a point per round and its last equals the run's last price; the
// cumulative revenue ends at the run's total. Prints the page-load-to-first-chart time and
// saves a screenshot under build/ for review.
// Usage: node test_report_page.js RAAS_SIM SOURCE_DIR BUILD_DIR
"use strict";
const {execFileSync} = require("child_process");
const fs = require("fs");
const os = require("os");
const path = require("path");

const [sim, src, build] = process.argv.slice(2);
const {chromiumPath, check, finish} = require("./lib.js");
const chromium = chromiumPath();
function sql(db, q) {
	return execFileSync("sqlite3", [db, q]).toString().trim();
}

(async () => {
	const {chromium: pw} = require("playwright-core");
	const tmp = fs.mkdtempSync(path.join(os.tmpdir(), "dash-report-"));
	const db = path.join(tmp, "run.sqlite"), rep = path.join(tmp, "rep");
	execFileSync(sim, ["run", path.join(src, "sim/scenarios/nom-thesis.ini"), "--out", db, "--quiet"]);
	execFileSync(sim, ["report", db, "--out", rep], {stdio: ["ignore", "ignore", "inherit"]});
	const html = path.join(rep, "report.html");
	check(fs.existsSync(html), "report.html written", fs.existsSync(html), true);

	const browser = await pw.launch({executablePath: chromium, args: ["--no-sandbox"]});
	try {
		const page = await browser.newPage({viewport: {width: 1200, height: 900}});
		const errors = [];
		page.on("pageerror", (e) => errors.push(e.message));
		await page.goto("file://" + html);
		await page.waitForFunction(() => typeof raas !== "undefined" && raas.charts.price && raas.charts.revenue,
					   null, {timeout: 20000});
		const got = await page.evaluate(() => {
			const p = raas.charts.price.data, r = raas.charts.revenue.data;
			return {points: p[0].length, lastRound: p[0][p[0].length - 1],
				lastPrice: p[1][p[1].length - 1], cumRevenue: r[2][r[2].length - 1],
				firstChartMs: window.raasFirstChartMs,
				canvases: document.querySelectorAll("canvas").length};
		});
		const rounds = Number(sql(db, "SELECT count(DISTINCT round) FROM rounds WHERE variant = ''"));
		const last = sql(db, "SELECT round, price_mean FROM rounds WHERE variant = '' AND resource = 'egress' ORDER BY round DESC LIMIT 1").split("|").map(Number);
		const total = Number(sql(db, "SELECT sum(revenue) FROM rounds WHERE variant = ''")) / 1e9;
		check(rounds > 100 && got.points === rounds, "price chart: a point per round", got.points, rounds);
		check(got.lastRound === last[0], "price chart: last round", got.lastRound, last[0]);
		check(Math.abs(got.lastPrice - last[1] / 1e9) < 1e-9, "price chart: last price ($/Gbit)", got.lastPrice, last[1] / 1e9);
		check(Math.abs(got.cumRevenue - total) < 1e-6 * Math.max(1, total), "revenue chart: cumulative total ($)", got.cumRevenue, total);
		check(got.canvases >= 3, "three charts drawn", got.canvases, ">= 3");
		check(errors.length === 0, "no page errors", errors, []);
		const shot = path.join(build, "dashboards-report.png");
		await page.screenshot({path: shot, fullPage: false});
		console.log(`figure: report.html load to first chart drawn: ${got.firstChartMs.toFixed(1)} ms ` +
			    `(headless chromium, file://, ${got.points} rounds); screenshot ${shot}`);
	} finally {
		await browser.close();
		fs.rmSync(tmp, {recursive: true, force: true});
	}
	finish(6);
})().catch((e) => {
	console.log("FAIL: " + (e.stack || e));
	process.exit(1);
});
