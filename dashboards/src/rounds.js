/* rounds.js: the rounds page: one row per closed round with its close-to-publish time. */
"use strict";
(async () => {
	const $ = (id) => document.getElementById(id);
	async function draw() {
		const r = await raas.api("/api/rounds");
		raas.table($("rounds"), ["round", "bids", "allocations", "revenue", "close (us)", "close to publish (us)"],
			   r.rounds.slice().reverse().map((x) => [x.round, x.bids, x.allocations, raas.dollars(x.revenue_nd),
								  (x.close_ns / 1e3).toFixed(0), (x.close_to_publish_ns / 1e3).toFixed(0)]));
		raas.status("round " + r.round);
	}
	try {
		await draw();
		raas.live(() => draw().catch((e) => raas.status(e.message)));
	} catch (e) {
		raas.status("cannot read the market: " + e.message);
	}
})();
