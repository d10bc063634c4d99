/* hosts.js: the hosts page: capacity, enforcement state and failed applies per host. */
"use strict";
(async () => {
	const $ = (id) => document.getElementById(id);
	async function draw() {
		const h = await raas.api("/api/hosts");
		raas.table($("hosts"), ["host", "status", "connected", "acked round", "capacity"],
			   h.hosts.map((x) => [x.name, x.status, x.connected ? "yes" : "NO", x.acked_round,
						x.capacity.map((c) => c.pool + " " + c.allocated + "/" + c.supply).join(", ")]));
		const f = [];
		h.hosts.forEach((x) => x.failures.forEach((e) => f.push([x.name, e.round, e.tenant, e.resource, e.reason])));
		raas.table($("failures"), ["host", "round", "tenant", "resource", "reason"], f);
		raas.status("round " + h.round);
	}
	try {
		await draw();
		raas.live(() => draw().catch((e) => raas.status(e.message)));
	} catch (e) {
		raas.status("cannot read the market: " + e.message);
	}
})();
