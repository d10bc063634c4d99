/* demo_market.h: the sample multi-tenant market raas-demo clears: one host, four resource
 * pools, six tenants whose value curves are drawn (seeded) around an application archetype.
 *
 * Kept apart from the printing so that the scenario reads as data: what each resource's
 * supply and list price are, what each tenant wants and how much it values it. */
#ifndef DEMO_MARKET_H
#define DEMO_MARKET_H

#include <gsl/gsl_rng.h>

#include "pricing/pm.h"

#define DEMO_TENANTS 6
#define DEMO_RESOURCES 4
#define DEMO_SEGS 4

struct demo_resource {
	const char *name;      /* "cores" */
	const char *units;     /* plural, for allocations: "cores", "MiB" */
	const char *price_unit;/* display unit for prices: "core-h", "GiB-h" */
	int64_t price_scale;   /* units per displayed price unit (1024 MiB per GiB) */
	int64_t supply;
	int64_t grain;         /* allocation granularity (MPSP chunk) */
	money_t list;          /* list price per unit-hour */
};

struct demo_tenant {
	const char *name;
	const char *what; /* one line: what the app is */
};

struct demo_market {
	struct demo_resource res[DEMO_RESOURCES];
	struct demo_tenant ten[DEMO_TENANTS];
	/* Truthful bids per resource and tenant; curves are both declared and true values. */
	struct pm_bid bids[DEMO_RESOURCES][DEMO_TENANTS];
	struct pm_segment curve[DEMO_RESOURCES][DEMO_TENANTS][DEMO_SEGS];
};

/* Fills the market from the seeded generator. */
void demo_market_init(struct demo_market *m, gsl_rng *r);

/* PSP is played by bid updates: starting from each tenant's (max, top value) bid, tenants in
 * turn replace their bid (q, p) by the truthful best reply to the others' (Lazar-Semret:
 * the largest q whose marginal value exceeds the price P(q) the others' bids and the reserve
 * set for it, at p = that marginal value), until no bid changes or rounds run out. psp_bids
 * receives the final bids (flat, with the tenants' true curves attached). Returns the number
 * of rounds played. */
int demo_psp_best_replies(const struct pm_bid *truthful, size_t n, int64_t supply,
			  money_t reserve, int max_rounds, struct pm_bid *psp_bids);

#endif
