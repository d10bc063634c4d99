/* bench_clear.c: raas-bench-clear, the clearing-time benchmark of every pricing model.
 *
 * Prints one JSON line per (model, n): {"model", "n", "seconds", "bids_per_s",
 * "ratio_vs_sort"}, where seconds is the best of several pm_clear() calls on the same n bids
 * (input checks included: that is what the market pays), and ratio_vs_sort divides it by the
 * best time, measured in the same run, to qsort() a copy of the same struct pm_bid array by
 * unit price. The ratio is what to compare across machines and runs; the absolute times move
 * with whatever else the machine is doing. A line with model "qsort" reports the baseline.
 *
 * Bids: ids a random permutation of 1..n, 1-16 units each, unit prices uniform in
 * [$0.01, $1.00] per unit-hour to the nanodollar, curves of 1-3 decreasing segments (the
 * first at the unit price) on every bid, supply half the total demand. mpsp runs at the sizes
 * its DP tables allow within max_cells (the chunk grows with n; the effective chunk is
 * printed on stderr).
 *
 * Usage: raas-bench-clear [--sizes 1000,10000,...] [--models uniform,vcg,...] [--reps N]
 *                         [--seed S] [--trace FILE]
 * Exit codes: 0, 64 usage, 69 out of memory or a model refused to clear. */
#include <errno.h>
#include <gsl/gsl_randist.h>
#include <gsl/gsl_rng.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sysexits.h>

#include "common/clock.h"
#include "pricing/pm.h"

#define MAX_SIZES 16

struct workload {
	size_t n;
	struct pm_bid *bids;
	struct pm_segment *segs;
	int64_t supply;
};

static int make_workload(gsl_rng *r, size_t n, struct workload *w)
{
	w->n = n;
	w->bids = calloc(n ? n : 1, sizeof(*w->bids));
	w->segs = calloc(n ? 3 * n : 1, sizeof(*w->segs));
	uint64_t *ids = malloc((n ? n : 1) * sizeof(*ids));
	if (!w->bids || !w->segs || !ids) {
		free(ids);
		return -ENOMEM;
	}
	for (size_t i = 0; i < n; i++)
		ids[i] = i + 1;
	if (n > 1)
		gsl_ran_shuffle(r, ids, n, sizeof(*ids));
	int64_t demand = 0;
	for (size_t i = 0; i < n; i++) {
		struct pm_bid *b = &w->bids[i];
		struct pm_segment *s = &w->segs[3 * i];
		size_t ns = 1 + gsl_rng_uniform_int(r, 3);
		money_t v = 10000000 + (money_t)gsl_rng_uniform_int(r, 990000001);
		int64_t q = 0;
		for (size_t k = 0; k < ns; k++) {
			s[k].quantity = 1 + (int64_t)gsl_rng_uniform_int(r, 6);
			s[k].unit_value = v;
			q += s[k].quantity;
			v = v * 3 / 4;
		}
		b->bidder = ids[i];
		b->max_quantity = q < 16 ? q : 16;
		b->unit_price = s[0].unit_value;
		b->curve = s;
		b->ncurve = ns;
		demand += b->max_quantity;
	}
	w->supply = demand / 2;
	free(ids);
	return 0;
}

static void free_workload(struct workload *w)
{
	free(w->bids);
	free(w->segs);
}

static int by_price(const void *a, const void *b)
{
	money_t x = ((const struct pm_bid *)a)->unit_price, y = ((const struct pm_bid *)b)->unit_price;
	return (x < y) - (x > y);
}

/* Best of reps timings (at least reps, more while under 0.2 s in total, at most 50). */
static double time_sort(const struct workload *w, int reps)
{
	struct pm_bid *copy = malloc((w->n ? w->n : 1) * sizeof(*copy));
	double best = 1e300, total = 0;
	if (!copy)
		return -1;
	for (int k = 0; k < 50 && (k < reps || total < 0.2); k++) {
		memcpy(copy, w->bids, w->n * sizeof(*copy));
		int64_t t0 = clk_mono(&clk_real);
		qsort(copy, w->n, sizeof(*copy), by_price);
		double s = (double)(clk_mono(&clk_real) - t0) / 1e9;
		total += s;
		if (s < best)
			best = s;
	}
	free(copy);
	return best;
}

static double time_model(const char *model, const char *params, const struct workload *w,
			 int reps, gsl_rng *r)
{
	struct pm_param p[8];
	struct pm_error err;
	char *storage;
	struct pm_instance *inst;
	int np = pm_params_parse(params, p, 8, &storage, &err);
	if (np < 0 || pm_create(model, p, (size_t)np, &inst, &err)) {
		fprintf(stderr, "raas-bench-clear: %s: %s\n", model, err.message);
		free(np < 0 ? NULL : storage);
		return -1;
	}
	free(storage);
	struct pm_outcome *out = malloc((w->n ? w->n : 1) * sizeof(*out));
	struct pm_result res = {.outcomes = out};
	struct pm_pool pool = {.supply = w->supply, .round_ns = INT64_C(1000000000), .rng = r};
	double best = 1e300, total = 0;
	for (int k = 0; out && k < 50 && (k < reps || total < 0.2); k++) {
		pool.round = (uint64_t)k;
		pool.now_ns = (int64_t)k * INT64_C(3600000000000);
		if (pm_clear(inst, &pool, w->bids, w->n, &res, &err)) {
			fprintf(stderr, "raas-bench-clear: %s, %zu bids: %s\n", model, w->n, err.message);
			best = -1;
			break;
		}
		double s = (double)res.clear_ns / 1e9;
		total += s;
		if (s < best)
			best = s;
	}
	free(out);
	pm_destroy(inst);
	return out ? best : -1;
}

static void line(const char *model, size_t n, double s, double sort_s)
{
	printf("{\"model\":\"%s\",\"n\":%zu,\"seconds\":%.6f,\"bids_per_s\":%.0f,"
	       "\"ratio_vs_sort\":%.3f}\n",
	       model, n, s, s > 0 ? (double)n / s : 0.0, sort_s > 0 ? s / sort_s : 0.0);
	fflush(stdout);
}

static int usage(const char *why)
{
	fprintf(stderr,
		"raas-bench-clear: %s\n"
		"usage: raas-bench-clear [--sizes N,N,...] [--models M,M,...] [--reps N] [--seed S]\n"
		"                        [--trace FILE]\n",
		why);
	return EX_USAGE;
}

static bool wanted(const char *list, const char *model)
{
	if (!list)
		return true;
	size_t len = strlen(model);
	for (const char *p = list; (p = strstr(p, model)); p += len)
		if ((p == list || p[-1] == ',') && (p[len] == ',' || p[len] == '\0'))
			return true;
	return false;
}

int main(int argc, char **argv)
{
	size_t sizes[MAX_SIZES] = {1000, 10000, 100000, 1000000}, nsizes = 4;
	const char *models = NULL, *trace = RAAS_SHARED_DATA_DEFAULT;
	int reps = 3;
	unsigned long seed = 1;

	for (int i = 1; i < argc; i++) {
		const char *a = argv[i], *v = i + 1 < argc ? argv[i + 1] : NULL;
		if (!strcmp(a, "--help") || !strcmp(a, "-h"))
			return usage("clearing time per model and size, as JSON lines"), 0;
		if (!v)
			return usage("missing value after an option");
		i++;
		if (!strcmp(a, "--sizes")) {
			nsizes = 0;
			for (char *s = (char *)v, *end; *s; s = *end ? end + 1 : end) {
				unsigned long long x = strtoull(s, &end, 10);
				if (end == s || (*end && *end != ',') || !x || nsizes == MAX_SIZES ||
				    x > 100000000)
					return usage("--sizes wants up to 16 sizes 1..1e8, comma separated");
				sizes[nsizes++] = (size_t)x;
			}
		} else if (!strcmp(a, "--models")) {
			models = v;
		} else if (!strcmp(a, "--reps")) {
			reps = atoi(v);
			if (reps < 1 || reps > 50)
				return usage("--reps wants 1..50");
		} else if (!strcmp(a, "--seed")) {
			seed = strtoul(v, NULL, 10);
		} else if (!strcmp(a, "--trace")) {
			trace = v;
		} else {
			return usage("unknown option");
		}
	}
	if (models) {
		for (const char *p = models; *p;) {
			char name[32];
			size_t len = strcspn(p, ",");
			snprintf(name, sizeof(name), "%.*s", (int)(len < 31 ? len : 31), p);
			if (!pm_find(name)) {
				fprintf(stderr, "raas-bench-clear: unknown model '%s'\n", name);
				return EX_USAGE;
			}
			p += len + (p[len] == ',');
		}
	}

	static const struct {
		const char *name, *params;
	} runs[] = {
		{"fixed", "price=$0.50"},
		{"uniform", "reserve=$0.02"},
		{"vcg", "reserve=$0.02"},
		{"psp", "reserve=$0.02"},
		{"proportional", "delta=$1"},
		{"spot-ar1", "floor=$0.02, ceiling=$0.30"},
		{"utilization", "base=$0.40"},
		{"trace", NULL},
		{"mpsp", "reserve=$0.02"},
	};
	char trace_params[1200];
	snprintf(trace_params, sizeof(trace_params), "file=\"%s\", scale=10", trace);
	FILE *tf = fopen(trace, "r");
	bool have_trace = tf != NULL;
	if (tf)
		fclose(tf);
	else if (wanted(models, "trace"))
		fprintf(stderr, "raas-bench-clear: trace skipped: %s is absent\n", trace);

	gsl_rng *r = gsl_rng_alloc(gsl_rng_mt19937);
	int rc = 0;
	for (size_t s = 0; s < nsizes && rc == 0; s++) {
		struct workload w;
		gsl_rng_set(r, seed + s);
		if (make_workload(r, sizes[s], &w)) {
			fprintf(stderr, "raas-bench-clear: out of memory for %zu bids\n", sizes[s]);
			rc = EX_UNAVAILABLE;
			break;
		}
		double sort_s = time_sort(&w, reps);
		line("qsort", w.n, sort_s, sort_s);
		for (size_t m = 0; m < sizeof(runs) / sizeof(runs[0]); m++) {
			const char *params = runs[m].params ? runs[m].params : trace_params;
			if (!wanted(models, runs[m].name) || (!runs[m].params && !have_trace))
				continue;
			if (!strcmp(runs[m].name, "mpsp")) {
				const int64_t cells = 20000000;
				int64_t per_row = cells / (int64_t)(w.n + 3);
				if (per_row < 101) /* fewer than 100 chunks of supply: not a market */
					continue;
				int64_t chunk = (w.supply + per_row - 2) / (per_row - 1);
				fprintf(stderr, "raas-bench-clear: mpsp at n=%zu: supply %lld, chunk %lld "
						"units (%lld table columns)\n",
					w.n, (long long)w.supply, (long long)(chunk > 1 ? chunk : 1),
					(long long)(w.supply / (chunk > 1 ? chunk : 1) + 1));
			}
			gsl_rng_set(r, seed);
			double t = time_model(runs[m].name, params, &w, reps, r);
			if (t < 0) {
				rc = EX_UNAVAILABLE;
				break;
			}
			line(runs[m].name, w.n, t, sort_s);
		}
		free_workload(&w);
	}
	gsl_rng_free(r);
	return rc;
}
