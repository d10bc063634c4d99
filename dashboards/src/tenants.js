/* tenants.js: the tenants page: holdings, spend, budget and reported profit per tenant. */
"use strict";
(async () => {
	const $ = (id) => document.getElementById(id);
	async function draw() {
		const t = await raas.api("/api/tenants");
		raas.table($("tenants"), ["tenant", "status", "charged", "budget left", "last charge", "profit reported"],
			   t.tenants.map((x) => [x.name, x.status, raas.dollars(x.charged_nd), raas.dollars(x.budget_left_nd),
						 raas.dollars(x.last_charge_nd), raas.dollars(x.reported_profit_nd)]));
		const rows = [];
		t.tenants.forEach((x) => x.holdings.forEach((h) =>
			rows.push([x.name, h.pool, h.bid_id, h.quantity, raas.dollars(h.unit_price_nd),
				   raas.dollars(h.payment_per_hour_nd) + "/h"])));
		raas.table($("holdings"), ["tenant", "pool", "bid", "quantity", "unit price", "payment"], rows);
		raas.status("round " + t.round);
	}
	try {
		await draw();
		raas.live(() => draw().catch((e) => raas.status(e.message)));
	} catch (e) {
		raas.status("cannot read the market: " + e.message);
	}
})();
