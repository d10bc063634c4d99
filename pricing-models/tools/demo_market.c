/* demo_market.c: the sample market of raas-demo: resources, tenants, value curves, and PSP's
 * best-reply bidding.
 *
 * Prices are per unit-hour and meant to be plausible for a 2020s host: a core at $0.04/h
 * (about an EC2 m5 vCPU), memory at $0.005 per GiB-hour, a reserved Mbit/s at $0.001/h ($1/h
 * per Gbit/s), an LLC way at $0.01/h. Each tenant is an application archetype (how much of
 * each resource it wants, how much it values it relative to the list price); the seed only
 * jitters sizes and values around the archetype, so every seed tells the same story. */
#include "demo_market.h"

#include <string.h>

/* Per tenant and resource: units wanted at most, and the first unit's value as a multiple of
 * the list price. Later units are worth geometrically less. */
static const struct {
	const char *name, *what;
	double want[DEMO_RESOURCES]; /* cores, GiB, Gbit/s, ways */
	double value[DEMO_RESOURCES];
	double min_frac[DEMO_RESOURCES]; /* min_quantity as a fraction of want */
} archetypes[DEMO_TENANTS] = {
	{"memcached", "in-memory cache: lives on memory and bandwidth",
	 {4, 24, 3, 6}, {1.6, 2.4, 2.0, 1.8}, {0, 0.25, 0, 0}},
	{"nhttpd", "web server: bandwidth first, some cores",
	 {6, 4, 4, 2}, {1.8, 1.2, 2.6, 1.0}, {0, 0, 0, 0}},
	{"analytics", "batch analytics: elastic, cheap per unit",
	 {16, 16, 0.5, 6}, {0.9, 0.8, 0.7, 0.9}, {0, 0, 0, 0}},
	{"ml-train", "model training: cores and memory, high value",
	 {12, 32, 1, 8}, {2.8, 2.2, 1.5, 2.5}, {0.33, 0.25, 0, 0}},
	{"dev-test", "developers' VMs: small and price sensitive",
	 {3, 4, 0.3, 2}, {0.7, 0.6, 0.6, 0.5}, {0, 0, 0, 0}},
	{"transcoder", "video transcoding: cores and cache ways",
	 {12, 8, 2, 10}, {1.9, 1.1, 1.4, 2.2}, {0, 0, 0, 0.2}},
};

static const struct demo_resource resources[DEMO_RESOURCES] = {
	{"cores", "cores", "core-h", 1, 32, 1, 40000000},
	{"memory", "MiB", "GiB-h", 1024, 65536, 256, 4883},
	{"bandwidth", "Mbit/s", "Gbit/s-h", 1000, 10000, 50, 1000000},
	{"llc", "cache ways", "way-h", 1, 20, 1, 10000000},
};

/* Units of resource k in one "want" unit of the archetype table. */
static const int64_t want_scale[DEMO_RESOURCES] = {1, 1024, 1000, 1};

void demo_market_init(struct demo_market *m, gsl_rng *r)
{
	memset(m, 0, sizeof(*m));
	memcpy(m->res, resources, sizeof(resources));
	for (size_t t = 0; t < DEMO_TENANTS; t++) {
		m->ten[t].name = archetypes[t].name;
		m->ten[t].what = archetypes[t].what;
	}
	for (size_t k = 0; k < DEMO_RESOURCES; k++) {
		const struct demo_resource *res = &m->res[k];
		for (size_t t = 0; t < DEMO_TENANTS; t++) {
			struct pm_bid *b = &m->bids[k][t];
			struct pm_segment *c = m->curve[k][t];
			double jitter = 0.8 + 0.4 * gsl_rng_uniform(r);
			int64_t want = (int64_t)(archetypes[t].want[k] * want_scale[k] * jitter);
			want = want / res->grain * res->grain;
			if (want < res->grain)
				want = res->grain;
			double v = (double)res->list * archetypes[t].value[k] *
				   (0.85 + 0.3 * gsl_rng_uniform(r));
			size_t ns = 0;
			int64_t left = want;
			for (size_t s = 0; s < DEMO_SEGS && left > 0; s++) {
				int64_t q = s + 1 == DEMO_SEGS ? left : want / DEMO_SEGS;
				q = q / res->grain * res->grain;
				if (q < res->grain)
					q = res->grain;
				if (q > left)
					q = left;
				money_t mv = (money_t)v;
				if (ns && mv >= c[ns - 1].unit_value)
					mv = c[ns - 1].unit_value - 1;
				if (mv <= 0)
					break;
				c[ns++] = (struct pm_segment){q, mv};
				left -= q;
				v *= 0.55 + 0.2 * gsl_rng_uniform(r);
			}
			int64_t total = 0;
			for (size_t s = 0; s < ns; s++)
				total += c[s].quantity;
			b->bidder = 101 + t;
			b->max_quantity = total;
			b->min_quantity = (int64_t)(archetypes[t].min_frac[k] * (double)total) /
					  res->grain * res->grain;
			b->unit_price = c[0].unit_value;
			b->curve = c;
			b->ncurve = ns;
			b->true_curve = c;
			b->ntrue = ns;
		}
	}
}

/* Marginal value of unit z (1-based) under a curve. */
static money_t marginal(const struct pm_segment *c, size_t n, int64_t z)
{
	for (size_t s = 0; s < n; s++) {
		if (z <= c[s].quantity)
			return c[s].unit_value;
		z -= c[s].quantity;
	}
	return 0;
}

struct level {
	money_t p;
	int64_t q;
};

int demo_psp_best_replies(const struct pm_bid *truthful, size_t n, int64_t supply,
			  money_t reserve, int max_rounds, struct pm_bid *psp)
{
	struct level lv[DEMO_TENANTS + 1];
	int round;

	for (size_t i = 0; i < n; i++) {
		psp[i] = truthful[i];
		psp[i].curve = NULL;
		psp[i].ncurve = 0;
		psp[i].min_quantity = 0;
		psp[i].ranges = NULL;
		psp[i].nranges = 0;
	}
	for (round = 1; round <= max_rounds; round++) {
		bool changed = false;
		for (size_t i = 0; i < n; i++) {
			/* The others' bids and player zero, by price, high to low. */
			size_t nl = 0;
			for (size_t k = 0; k < n; k++)
				if (k != i && psp[k].max_quantity > 0)
					lv[nl++] = (struct level){psp[k].unit_price, psp[k].max_quantity};
			lv[nl++] = (struct level){reserve, supply};
			/* The price of a z-th unit to i, P(z), is the lowest level y (0 or a
			 * bid price) at which the supply left by bids priced strictly above y
			 * is at least z. So unit z is worth buying at marginal value m iff
			 * z <= A(m) = supply left at the highest level below m. Marginal values
			 * fall and P rises with z: the units worth buying are a prefix. */
			const struct pm_bid *b = &truthful[i];
			int64_t best = 0, start = 0;
			for (size_t s = 0; s < b->ntrue; s++) {
				money_t m = b->true_curve[s].unit_value;
				int64_t end = start + b->true_curve[s].quantity;
				money_t y = 0;
				for (size_t l = 0; l < nl; l++)
					if (lv[l].p < m && lv[l].p > y)
						y = lv[l].p;
				int64_t avail = supply;
				for (size_t l = 0; l < nl; l++)
					if (lv[l].p > y)
						avail -= lv[l].q;
				if (m <= y || avail <= start)
					break;
				best = avail < end ? avail : end;
				if (best < end)
					break;
				start = end;
			}
			if (best > b->max_quantity)
				best = b->max_quantity;
			money_t w = best ? marginal(b->true_curve, b->ntrue, best) : 0;
			if (psp[i].max_quantity != best || psp[i].unit_price != w) {
				psp[i].max_quantity = best;
				psp[i].unit_price = w;
				changed = true;
			}
		}
		if (!changed)
			break;
	}
	return round > max_rounds ? max_rounds : round;
}
