/* tenants.js: the tenants page: holdings, spend, budget, and the profit (and each app's W)
 * a tenant's nom-priced reports. */
"use strict";
(async () => {
	const $ = (id) => document.getElementById(id);
	const perHour = (nd) => (nd === null || nd === undefined ? "-" : raas.dollars(nd) + "/h");
	async function draw() {
		const t = await raas.api("/api/tenants");
		raas.table($("tenants"), ["tenant", "status", "charged", "budget left", "last charge", "profit reported"],
			   t.tenants.map((x) => [x.name, x.status, raas.dollars(x.charged_nd), raas.dollars(x.budget_left_nd),
						 raas.dollars(x.last_charge_nd), perHour(x.reported_profit_per_hour_nd)]));
		const rows = [];
		t.tenants.forEach((x) => x.holdings.forEach((h) =>
			rows.push([x.name, h.pool, h.bid_id, h.quantity, raas.dollars(h.unit_price_nd),
				   raas.dollars(h.payment_per_hour_nd) + "/h"])));
		raas.table($("holdings"), ["tenant", "pool", "bid", "quantity", "unit price", "payment"], rows);
		const apps = [];
		t.tenants.forEach((x) => (x.apps || []).forEach((a) =>
			apps.push([x.name, a.app, perHour(a.profit_per_hour_nd),
				   a.w_ns === null ? "-" : (a.w_ns / 1000) + " us"])));
		raas.table($("apps"), ["tenant", "app", "profit reported", "W"], apps);
		raas.status("round " + t.round);
	}
	try {
		await draw();
		raas.live(() => draw().catch((e) => raas.status(e.message)));
	} catch (e) {
		raas.status("cannot read the market: " + e.message);
	}
})();
