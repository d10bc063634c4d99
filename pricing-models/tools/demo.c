/* demo.c: raas-demo, what `make demo` runs: one host's four resource pools cleared by every
 * pricing model for six tenants, printed side by side.
 *
 * For each resource (cores, memory, bandwidth, LLC ways) the tenants bid their true value
 * curves (demo_market.c) and every mechanism clears the same pool: the auctions once, the
 * price models over a simulated stretch of time (spot-ar1 over a day of hourly rounds,
 * utilization over six rounds, trace at June 2010 of EC2's m1.small history). PSP is played
 * as intended, by rounds of best replies to the others' bids. The tables show the pool price,
 * each tenant's allocation and payment, revenue, welfare and efficiency (welfare over the
 * optimum, which VCG attains); a summary compares the mechanisms across all resources.
 *
 * Usage: raas-demo [--seed N]. Exit codes: 0; 64 usage; 69 a model failed (message on
 * stderr). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sysexits.h>

#include "common/money.h"
#include "demo_market.h"

enum { M_UNIFORM, M_VCG, M_PSP, M_MPSP, M_PROP, M_FIXED, M_SPOT, M_UTIL, M_TRACE, NMECH };

static const char *const mech_name[NMECH] = {"uniform", "vcg",      "psp",         "mpsp",
					     "proportional", "fixed", "spot-ar1", "utilization",
					     "trace"};

#define HOUR INT64_C(3600000000000)
#define TRACE_FILE RAAS_SHARED_DATA "/ec2-spot-2009-2011/us-east-1.linux.m1.small.csv"

struct outcome {
	bool ran;
	struct pm_result res;
	struct pm_outcome out[DEMO_TENANTS];
	char note[96];
	money_t series[24]; /* price models: the price per round */
	int nseries;
};

struct totals {
	double revenue, welfare, optimum, util, clear_us;
	int pools;
};

/* Money rounded to 1/10000 dollar, then money_format: "$0.1248". */
static const char *dollars(money_t m, char buf[MONEY_TEXT_MAX])
{
	money_t r;
	money_div(m, 100000, MONEY_ROUND_NEAREST, &r);
	return money_format(r * 100000, buf);
}

static int create(const char *model, const char *params, struct pm_instance **out)
{
	struct pm_param p[8];
	struct pm_error err;
	char *storage;
	int n = pm_params_parse(params, p, 8, &storage, &err);
	if (n < 0 || pm_create(model, p, (size_t)n, out, &err)) {
		fprintf(stderr, "raas-demo: %s (%s): %s\n", model, params, err.message);
		if (n >= 0)
			free(storage);
		return -1;
	}
	free(storage);
	return 0;
}

static int clear(struct pm_instance *inst, const struct pm_pool *pool,
		 const struct pm_bid *bids, struct outcome *o)
{
	struct pm_error err;
	o->res.outcomes = o->out;
	if (pm_clear(inst, pool, bids, DEMO_TENANTS, &o->res, &err)) {
		fprintf(stderr, "raas-demo: %s: %s\n", pm_instance_model(inst)->name, err.message);
		return -1;
	}
	o->ran = true;
	return 0;
}

/* Clears one resource with every mechanism. */
static int run_resource(const struct demo_market *m, size_t k, gsl_rng *rng,
			struct outcome o[NMECH], money_t *optimum, bool have_trace)
{
	const struct demo_resource *res = &m->res[k];
	const struct pm_bid *bids = m->bids[k];
	const money_t L = res->list;
	char a[MONEY_TEXT_MAX], b[MONEY_TEXT_MAX], params[1400];
	struct pm_pool pool = {.supply = res->supply, .round = 1, .round_ns = HOUR, .rng = rng};
	struct pm_instance *inst;

	memset(o, 0, NMECH * sizeof(*o));
	/* The optimum: VCG without a reserve maximizes welfare over the true (= declared)
	 * concave values. */
	struct outcome best;
	if (create("vcg", "", &inst) || clear(inst, &pool, bids, &best))
		return -1;
	*optimum = best.res.welfare;
	pm_destroy(inst);

	/* Auctions, reserve at half the list price. */
	snprintf(params, sizeof(params), "reserve=%s", money_format(L / 2, a));
	if (create("uniform", params, &inst) || clear(inst, &pool, bids, &o[M_UNIFORM]))
		return -1;
	pm_destroy(inst);
	if (create("vcg", params, &inst) || clear(inst, &pool, bids, &o[M_VCG]))
		return -1;
	pm_destroy(inst);
	struct pm_bid psp_bids[DEMO_TENANTS];
	int rounds = demo_psp_best_replies(bids, DEMO_TENANTS, res->supply, L / 2, 40, psp_bids);
	if (create("psp", params, &inst) || clear(inst, &pool, psp_bids, &o[M_PSP]))
		return -1;
	snprintf(o[M_PSP].note, sizeof(o[M_PSP].note), "%d rounds of best replies", rounds);
	pm_destroy(inst);

	/* Status quo: what each tenant holds after a round at the list price; MPSP charges an
	 * exchange penalty of a tenth of the list price per unit moved away from it. */
	if (create("fixed", (snprintf(params, sizeof(params), "price=%s", money_format(L, a)),
			     params),
		   &inst) ||
	    clear(inst, &pool, bids, &o[M_FIXED]))
		return -1;
	pm_destroy(inst);
	struct pm_bid held[DEMO_TENANTS];
	for (size_t t = 0; t < DEMO_TENANTS; t++) {
		held[t] = bids[t];
		held[t].held = o[M_FIXED].out[t].quantity;
	}
	snprintf(params, sizeof(params), "reserve=%s, lambda=%s, chunk=%lld", money_format(L / 2, a),
		 money_format(L / 10, b), (long long)res->grain);
	if (create("mpsp", params, &inst) || clear(inst, &pool, held, &o[M_MPSP]))
		return -1;
	snprintf(o[M_MPSP].note, sizeof(o[M_MPSP].note), "held = list-price allocation");
	pm_destroy(inst);

	/* Kelly: the provider's own bid delta is worth 5% of the pool at list price. */
	snprintf(params, sizeof(params), "delta=%s", money_format(L * res->supply / 20, a));
	if (create("proportional", params, &inst) || clear(inst, &pool, bids, &o[M_PROP]))
		return -1;
	pm_destroy(inst);

	/* EC2's hidden reserve in a band of [0.40, 0.45] of an on-demand price of twice the
	 * list price, over a day of hourly rounds. */
	money_t F = L * 8 / 10, C = L * 9 / 10, tick = (C - F) / 40 > 0 ? (C - F) / 40 : 1;
	char t_text[MONEY_TEXT_MAX];
	snprintf(params, sizeof(params), "floor=%s, ceiling=%s, tick=%s", money_format(F, a),
		 money_format(C, b), money_format(tick, t_text));
	if (create("spot-ar1", params, &inst))
		return -1;
	for (int h = 0; h < 24; h++) {
		pool.now_ns = h * HOUR;
		pool.round = (uint64_t)h + 1;
		if (clear(inst, &pool, bids, &o[M_SPOT]))
			return -1;
		o[M_SPOT].series[o[M_SPOT].nseries++] = o[M_SPOT].res.price;
	}
	snprintf(o[M_SPOT].note, sizeof(o[M_SPOT].note), "round 24 of a day");
	pm_destroy(inst);

	/* CloudSigma-style: base at 3/4 of the list price, stepped by last hour's use. */
	snprintf(params, sizeof(params), "base=%s", money_format(L * 3 / 4, a));
	if (create("utilization", params, &inst))
		return -1;
	for (int h = 0; h < 6; h++) {
		pool.now_ns = h * HOUR;
		if (clear(inst, &pool, bids, &o[M_UTIL]))
			return -1;
		o[M_UTIL].series[o[M_UTIL].nseries++] = o[M_UTIL].res.price;
	}
	snprintf(o[M_UTIL].note, sizeof(o[M_UTIL].note), "round 6");
	pm_destroy(inst);

	/* EC2 m1.small (us-east-1, Linux) spot history from 1 June 2010, its on-demand
	 * price ($0.085) mapped to twice the list price. */
	if (have_trace) {
		snprintf(params, sizeof(params), "file=\"%s\", scale=%.9g, offset=167d", TRACE_FILE,
			 2.0 * (double)L / 85000000.0);
		if (create("trace", params, &inst))
			return -1;
		pool.now_ns = 0;
		if (clear(inst, &pool, bids, &o[M_TRACE]))
			return -1;
		snprintf(o[M_TRACE].note, sizeof(o[M_TRACE].note), "EC2 m1.small, 2010-06-01");
		pm_destroy(inst);
	}
	return 0;
}

static void print_table(const struct demo_market *m, size_t k, const struct outcome *o,
			const int *mech, size_t nm, const char *title, money_t optimum)
{
	const struct demo_resource *res = &m->res[k];
	char a[MONEY_TEXT_MAX], b[MONEY_TEXT_MAX];

	printf("  %-22s", title);
	for (size_t j = 0; j < nm; j++)
		printf("%16s", mech_name[mech[j]]);
	printf("\n");
	char label[64];
	snprintf(label, sizeof(label), "price $/%s", res->price_unit);
	printf("  %-22s", label);
	for (size_t j = 0; j < nm; j++)
		printf("%16s", o[mech[j]].ran ? dollars(o[mech[j]].res.price * res->price_scale, a)
					      : "-");
	printf("\n");
	for (size_t t = 0; t < DEMO_TENANTS; t++) {
		printf("  %-22s", m->ten[t].name);
		for (size_t j = 0; j < nm; j++) {
			const struct outcome *x = &o[mech[j]];
			if (!x->ran) {
				printf("%16s", "-");
				continue;
			}
			char cell[40];
			snprintf(cell, sizeof(cell), "%lld %s", (long long)x->out[t].quantity,
				 dollars(x->out[t].payment, b));
			printf("%16s", cell);
		}
		printf("\n");
	}
	static const char *const rows[] = {"revenue $/h", "welfare $/h", "efficiency", "sold"};
	for (size_t r = 0; r < 4; r++) {
		printf("  %-22s", rows[r]);
		for (size_t j = 0; j < nm; j++) {
			const struct outcome *x = &o[mech[j]];
			char cell[40];
			if (!x->ran)
				snprintf(cell, sizeof(cell), "-");
			else if (r == 0)
				snprintf(cell, sizeof(cell), "%s", dollars(x->res.revenue, a));
			else if (r == 1)
				snprintf(cell, sizeof(cell), "%s", dollars(x->res.welfare, a));
			else if (r == 2)
				snprintf(cell, sizeof(cell), "%.1f%%",
					 100.0 * (double)x->res.welfare / (double)optimum);
			else
				snprintf(cell, sizeof(cell), "%.0f%%",
					 100.0 * (double)x->res.allocated / (double)res->supply);
			printf("%16s", cell);
		}
		printf("\n");
	}
	for (size_t j = 0; j < nm; j++)
		if (o[mech[j]].note[0])
			printf("  %-22s%s: %s\n", j == 0 || !o[mech[j - 1]].note[0] ? "notes" : "",
			       mech_name[mech[j]], o[mech[j]].note);
}

/* An 8-level sparkline of a price series. */
static void sparkline(const char *label, const money_t *s, int n, int64_t scale,
		      const char *unit)
{
	static const char *const bars[] = {"▁", "▂", "▃", "▄", "▅", "▆", "▇", "█"};
	money_t lo = s[0], hi = s[0];
	char a[MONEY_TEXT_MAX], b[MONEY_TEXT_MAX];
	for (int i = 1; i < n; i++) {
		lo = s[i] < lo ? s[i] : lo;
		hi = s[i] > hi ? s[i] : hi;
	}
	printf("  %-22s", label);
	for (int i = 0; i < n; i++)
		printf("%s", bars[hi > lo ? (int)((s[i] - lo) * 7 / (hi - lo)) : 0]);
	printf("  %s .. %s per %s\n", dollars(lo * scale, a), dollars(hi * scale, b), unit);
}

static void print_resource(const struct demo_market *m, size_t k, const struct outcome *o,
			   money_t optimum)
{
	const struct demo_resource *res = &m->res[k];
	char a[MONEY_TEXT_MAX];
	printf("\n== %s: %lld %s on the host, list price %s/%s ==\n", res->name,
	       (long long)res->supply, res->units, dollars(res->list * res->price_scale, a),
	       res->price_unit);
	printf("  %-22s%10s%10s   %s\n", "bids (true values)", "max", "min",
	       "marginal value, first unit -> last unit");
	for (size_t t = 0; t < DEMO_TENANTS; t++) {
		const struct pm_bid *b = &m->bids[k][t];
		char first[MONEY_TEXT_MAX], last[MONEY_TEXT_MAX];
		printf("  %-22s%10lld%10lld   %s -> %s per %s\n", m->ten[t].name,
		       (long long)b->max_quantity, (long long)b->min_quantity,
		       dollars(b->curve[0].unit_value * res->price_scale, first),
		       dollars(b->curve[b->ncurve - 1].unit_value * res->price_scale, last),
		       res->price_unit);
	}
	printf("  optimum welfare %s/h (VCG without a reserve). Cells: allocation in %s, "
	       "payment in $/h.\n\n",
	       dollars(optimum, a), res->units);
	static const int auctions[] = {M_UNIFORM, M_VCG, M_PSP, M_MPSP, M_PROP};
	static const int posted[] = {M_FIXED, M_SPOT, M_UTIL, M_TRACE};
	print_table(m, k, o, auctions, 5, "auctions", optimum);
	printf("\n");
	print_table(m, k, o, posted, 4, "posted prices", optimum);
	printf("\n");
	char label[64];
	snprintf(label, sizeof(label), "spot-ar1 over 24 h");
	sparkline(label, o[M_SPOT].series, o[M_SPOT].nseries, res->price_scale, res->price_unit);
	snprintf(label, sizeof(label), "utilization, 6 rounds");
	sparkline(label, o[M_UTIL].series, o[M_UTIL].nseries, res->price_scale, res->price_unit);
}

static void summary(const struct totals *tot)
{
	printf("\n== summary over the four pools (per hour, true values) ==\n");
	printf("  %-14s%12s%12s%14s%12s%10s%12s\n", "mechanism", "revenue", "welfare",
	       "tenants keep", "efficiency", "sold", "clear (us)");
	int best_w = -1, best_r = -1, worst_w = -1;
	for (int j = 0; j < NMECH; j++) {
		const struct totals *t = &tot[j];
		if (!t->pools) {
			printf("  %-14s%12s\n", mech_name[j], "(no data)");
			continue;
		}
		double eff = t->welfare / t->optimum;
		printf("  %-14s%12.4f%12.4f%14.4f%11.1f%%%9.0f%%%12.1f\n", mech_name[j], t->revenue,
		       t->welfare, t->welfare - t->revenue, 100 * eff, 100 * t->util / t->pools,
		       t->clear_us / t->pools);
		if (best_w < 0 || t->welfare > tot[best_w].welfare)
			best_w = j;
		if (worst_w < 0 || t->welfare < tot[worst_w].welfare)
			worst_w = j;
		if (best_r < 0 || t->revenue > tot[best_r].revenue)
			best_r = j;
	}
	printf("\n");
	/* Mechanisms within 0.05%% of the best welfare count as tied. */
	char best_list[128] = "";
	for (int j = 0; j < NMECH; j++)
		if (tot[j].pools && tot[j].welfare >= tot[best_w].welfare * 0.9995) {
			size_t used = strlen(best_list);
			snprintf(best_list + used, sizeof(best_list) - used, "%s%s",
				 used ? ", " : "", mech_name[j]);
		}
	printf("  - Most efficient: %s (%.1f%% of the optimum welfare); least: %s (%.1f%%).\n",
	       best_list, 100 * tot[best_w].welfare / tot[best_w].optimum, mech_name[worst_w],
	       100 * tot[worst_w].welfare / tot[worst_w].optimum);
	printf("  - The reserve (half the list price) costs VCG, uniform and PSP the units worth "
	       "less than it; without it VCG is the optimum by construction.\n");
	printf("  - Most provider revenue: %s ($%.4f/h, tenants keep $%.4f/h); VCG earns $%.4f/h "
	       "and leaves tenants $%.4f/h.\n",
	       mech_name[best_r], tot[best_r].revenue, tot[best_r].welfare - tot[best_r].revenue,
	       tot[M_VCG].revenue, tot[M_VCG].welfare - tot[M_VCG].revenue);
	printf("  - PSP, played as rounds of best replies, ends at %.1f%% (Lazar-Semret: efficient "
	       "at equilibrium); MPSP gives up some welfare (%.1f%%) to move fewer units away from "
	       "what tenants held.\n",
	       100 * tot[M_PSP].welfare / tot[M_PSP].optimum,
	       100 * tot[M_MPSP].welfare / tot[M_MPSP].optimum);
	double lo = 1, hi = 0;
	for (int j = M_FIXED; j <= M_TRACE; j++) {
		if (!tot[j].pools)
			continue;
		double u = tot[j].util / tot[j].pools;
		lo = u < lo ? u : lo;
		hi = u > hi ? u : hi;
	}
	printf("  - Posted prices sell %.0f%% to %.0f%% of capacity against %.0f%% for the "
	       "auctions: a posted price does not see the bids.\n",
	       100 * lo, 100 * hi, 100 * tot[M_VCG].util / tot[M_VCG].pools);
}

int main(int argc, char **argv)
{
	unsigned long seed = 42;
	for (int i = 1; i < argc; i++) {
		if (!strcmp(argv[i], "--seed") && i + 1 < argc) {
			char *end;
			seed = strtoul(argv[++i], &end, 10);
			if (*end)
				goto usage;
		} else {
			goto usage;
		}
	}
	gsl_rng *rng = gsl_rng_alloc(gsl_rng_mt19937);
	gsl_rng_set(rng, seed);
	static struct demo_market m;
	demo_market_init(&m, rng);
	FILE *tf = fopen(TRACE_FILE, "r");
	bool have_trace = tf != NULL;
	if (tf)
		fclose(tf);

	printf("RaaS pricing models: one host, %d tenants, %d resource pools, %d mechanisms "
	       "(seed %lu)\n\n",
	       DEMO_TENANTS, DEMO_RESOURCES, NMECH, seed);
	printf("Tenants bid their true value curves (decreasing marginal values per unit-hour):\n");
	for (size_t t = 0; t < DEMO_TENANTS; t++)
		printf("  %-12s %s\n", m.ten[t].name, m.ten[t].what);
	if (!have_trace)
		printf("  (trace: %s is absent; that column is skipped)\n", TRACE_FILE);

	struct totals tot[NMECH] = {0};
	for (size_t k = 0; k < DEMO_RESOURCES; k++) {
		struct outcome o[NMECH];
		money_t optimum;
		gsl_rng_set(rng, seed + k);
		if (run_resource(&m, k, rng, o, &optimum, have_trace)) {
			gsl_rng_free(rng);
			return EX_UNAVAILABLE;
		}
		print_resource(&m, k, o, optimum);
		for (int j = 0; j < NMECH; j++) {
			if (!o[j].ran)
				continue;
			tot[j].revenue += money_to_dollars(o[j].res.revenue);
			tot[j].welfare += money_to_dollars(o[j].res.welfare);
			tot[j].optimum += money_to_dollars(optimum);
			tot[j].util += (double)o[j].res.allocated / (double)m.res[k].supply;
			tot[j].clear_us += (double)o[j].res.clear_ns / 1e3;
			tot[j].pools++;
		}
	}
	summary(tot);
	gsl_rng_free(rng);
	return 0;
usage:
	fprintf(stderr, "usage: raas-demo [--seed N]\n");
	return EX_USAGE;
}
