/* raas.js: what every dashboard page shares: the API, the live event stream and the charts.
 *
 * The pages draw the same charts from two sources: raas-marketd's JSON API with its event
 * stream (docs/dashboards.md), or data a raas-sim report embeds (window.RAAS_DATA, in the
 * API's shapes), so a simulated run and a live one look alike. No framework: uPlot draws. */
"use strict";
const raas = (() => {
	const ND = 1e9; /* nanodollars per dollar */
	const colours = ["#1b9e77", "#d95f02", "#7570b3", "#e7298a", "#66a61e", "#e6ab02"];
	const charts = {}; /* name -> {plot, data}: read by the browser tests */

	function api(path) {
		return fetch(path, {cache: "no-store"}).then((r) => {
			if (!r.ok)
				throw new Error(path + ": HTTP " + r.status);
			return r.json();
		});
	}

	function dollars(nd) {
		return nd === null || nd === undefined ? "-" : "$" + (nd / ND).toFixed(4);
	}

	function status(text) {
		const el = document.getElementById("status");
		if (el)
			el.textContent = text;
	}

	/* A line chart of rounds (x) against one series per name; keeps its data to append. */
	function lineChart(name, el, title, ylabel, names, rows) {
		const data = [rows.map((r) => r[0])];
		names.forEach((_, i) => data.push(rows.map((r) => r[i + 1])));
		const opts = {
			title, width: Math.max(480, el.clientWidth || 900), height: 300,
			scales: {x: {time: false}},
			/* Rounds are whole numbers: ticks only at whole steps (never round 1.5). */
			axes: [{label: "round", incrs: [1, 2, 5, 10, 20, 50, 100, 200, 500, 1000, 2000, 5000, 1e4, 2e4, 5e4, 1e5]},
			       {label: ylabel, size: 70}],
			series: [{label: "round"}].concat(names.map((n, i) => ({
				label: n, stroke: colours[i % colours.length], width: 2,
			}))),
		};
		const plot = new uPlot(opts, data, el);
		charts[name] = {plot, data};
		if (!window.raasFirstChartMs) {
			window.raasFirstChartMs = performance.now();
			performance.mark("raas-first-chart");
		}
		return charts[name];
	}

	/* Adds a row (round, v1, v2...) to a chart, or replaces the last one of the same round. */
	function append(name, row) {
		const c = charts[name];
		if (!c)
			return;
		const n = c.data[0].length;
		if (n && c.data[0][n - 1] >= row[0]) {
			if (c.data[0][n - 1] !== row[0])
				return; /* older than what is drawn: a resumed stream repeats nothing */
			c.data.forEach((col, i) => { col[n - 1] = row[i]; });
		} else {
			c.data.forEach((col, i) => col.push(row[i]));
		}
		c.plot.setData(c.data);
	}

	/* Price per pool ($ per unit-hour) and allocated per pool, from /api/pools' shape. */
	function poolCharts(pools, priceEl, allocEl) {
		const rounds = new Map();
		pools.forEach((p, i) => p.history.forEach((h) => {
			if (!rounds.has(h.round))
				rounds.set(h.round, {price: [], alloc: []});
			rounds.get(h.round).price[i] = h.price_nd / ND;
			rounds.get(h.round).alloc[i] = h.allocated;
		}));
		const keys = [...rounds.keys()].sort((a, b) => a - b);
		const names = pools.map((p) => p.key + " (" + p.unit + ")");
		lineChart("price", priceEl, "Price per pool", "$ per unit-hour", names,
			  keys.map((k) => [k].concat(pools.map((_, i) => rounds.get(k).price[i] ?? null))));
		if (allocEl)
			lineChart("allocated", allocEl, "Allocated per pool (supply in the table)", "units",
				  names, keys.map((k) => [k].concat(pools.map((_, i) =>
					  rounds.get(k).alloc[i] ?? null))));
	}

	/* Revenue per round and cumulative ($), from /api/rounds' shape. */
	function revenueChart(rounds, el) {
		let acc = 0;
		lineChart("revenue", el, "Revenue", "$", ["per round", "cumulative"],
			  rounds.map((r) => { acc += r.revenue_nd; return [r.round, r.revenue_nd / ND, acc / ND]; }));
	}

	/* The live stream: one "round" event per close. The browser's EventSource resumes with
	 * Last-Event-ID after a reconnect, so the server sends the rounds missed, oldest first. */
	function live(onRound) {
		const es = new EventSource("/api/events");
		es.addEventListener("round", (e) => {
			onRound(JSON.parse(e.data));
			status("live: round " + e.lastEventId);
		});
		es.addEventListener("reset", (e) => status("resumed after a gap: " + e.data));
		es.addEventListener("dropped", (e) => status("dropped by the server: " + e.data));
		es.onerror = () => status("reconnecting...");
		return es;
	}

	function table(el, head, rows) {
		const t = document.createElement("table");
		const tr = t.createTHead().insertRow();
		head.forEach((h) => { const th = document.createElement("th"); th.textContent = h; tr.appendChild(th); });
		const body = t.createTBody();
		rows.forEach((r) => {
			const row = body.insertRow();
			r.forEach((v) => { row.insertCell().textContent = v; });
		});
		el.replaceChildren(t);
		return t;
	}

	return {api, dollars, status, lineChart, append, poolCharts, revenueChart, live, table, charts};
})();
