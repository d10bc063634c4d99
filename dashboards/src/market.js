/* market.js: the market page: prices, allocation and revenue per round, live over SSE. */
"use strict";
(async () => {
	const $ = (id) => document.getElementById(id);
	try {
		const [pools, rounds] = await Promise.all([raas.api("/api/pools"), raas.api("/api/rounds")]);
		raas.poolCharts(pools.pools, $("price"), $("allocated"));
		raas.revenueChart(rounds.rounds, $("revenue"));
		raas.table($("pools"), ["pool", "mechanism", "supply", "allocated", "price"],
			   pools.pools.map((p) => [p.key, p.mechanism, p.supply + " " + p.unit, p.allocated,
						   raas.dollars(p.price_nd)]));
		const keys = pools.pools.map((p) => p.key);
		let acc = rounds.rounds.reduce((s, r) => s + r.revenue_nd, 0);
		raas.live((ev) => {
			const price = keys.map((k) => { const p = ev.prices.find((x) => x.pool === k); return p ? p.price_nd / 1e9 : null; });
			const alloc = keys.map((k) => { const p = ev.prices.find((x) => x.pool === k); return p ? p.allocated : null; });
			const c = raas.charts.revenue, n = c.data[0].length;
			if (!n || c.data[0][n - 1] < ev.round)
				acc += ev.revenue_nd;
			raas.append("price", [ev.round].concat(price));
			raas.append("allocated", [ev.round].concat(alloc));
			raas.append("revenue", [ev.round, ev.revenue_nd / 1e9, acc / 1e9]);
		});
	} catch (e) {
		raas.status("cannot read the market: " + e.message);
	}
})();
