/* pm_testutil.c: shared helpers of the pricing-model tests (see pm_testutil.h). */
#include "pm_testutil.h"

#include <gsl/gsl_randist.h>
#include <string.h>

#include "test.h"

struct pm_bid pmt_flat(uint64_t bidder, int64_t max, money_t price)
{
	return (struct pm_bid){.bidder = bidder, .max_quantity = max, .unit_price = price};
}

struct pm_instance *pmt_create(const char *model, const char *params)
{
	struct pm_param p[16];
	struct pm_error err;
	char *storage = NULL;
	struct pm_instance *inst;

	int n = pm_params_parse(params ? params : "", p, 16, &storage, &err);
	if (n < 0)
		TEST_FAIL("%s: params '%s': %s", model, params, err.message);
	if (pm_create(model, p, (size_t)n, &inst, &err))
		TEST_FAIL("pm_create(%s, '%s'): %s", model, params ? params : "", err.message);
	free(storage);
	return inst;
}

void pmt_clear_pool(struct pm_instance *inst, const struct pm_pool *pool,
		    const struct pm_bid *bids, size_t n, struct pm_result *res,
		    struct pm_outcome *out)
{
	struct pm_error err;
	memset(res, 0, sizeof(*res));
	res->outcomes = out;
	int rc = pm_clear(inst, pool, bids, n, res, &err);
	if (rc) {
		pmt_dump("failing clear", bids, n, pool->supply);
		TEST_FAIL("pm_clear(%s): %d %s", pm_instance_model(inst)->name, rc, err.message);
	}
	if (pm_check(inst, &err))
		TEST_FAIL("pm_check(%s): %s", pm_instance_model(inst)->name, err.message);
}

void pmt_clear(struct pm_instance *inst, int64_t supply, const struct pm_bid *bids, size_t n,
	       struct pm_result *res, struct pm_outcome *out)
{
	struct pm_pool pool = {.supply = supply, .round = 1, .now_ns = 0,
			       .round_ns = INT64_C(1000000000), .rng = NULL};
	pmt_clear_pool(inst, &pool, bids, n, res, out);
}

static void fix_pointers(struct pmt_inst *t)
{
	for (size_t i = 0; i < t->n; i++) {
		struct pm_bid *b = &t->bids[i];
		if (b->curve)
			b->curve = t->curves[i];
		if (b->true_curve)
			b->true_curve = t->truth[i];
		if (b->ranges)
			b->ranges = t->ranges[i];
	}
}

void pmt_random(gsl_rng *r, struct pmt_inst *t, size_t max_n, unsigned flags)
{
	static const money_t prices[] = {0, 1, 2, 3, 3, 5, 8, 13, 21, 40};
	const int64_t qmax = flags & PMT_SMALL ? 4 : 12;
	int64_t demand = 0;

	memset(t, 0, sizeof(*t));
	if (max_n > PMT_MAX_BIDS)
		max_n = PMT_MAX_BIDS;
	t->n = gsl_rng_uniform_int(r, max_n + 1);
	for (size_t i = 0; i < t->n; i++) {
		struct pm_bid *b = &t->bids[i];
		uint64_t id;
		bool dup;
		do { /* distinct ids, in no particular relation to the index */
			id = 1 + gsl_rng_uniform_int(r, 1000);
			dup = false;
			for (size_t j = 0; j < i; j++)
				dup |= t->bids[j].bidder == id;
		} while (dup);
		b->bidder = id;
		b->max_quantity = (int64_t)gsl_rng_uniform_int(r, (unsigned long)qmax + 1);
		b->unit_price = prices[gsl_rng_uniform_int(r, 10)] * CENT;
		if ((flags & PMT_CURVES) && gsl_rng_uniform(r) < 0.6) {
			size_t ns = 1 + gsl_rng_uniform_int(r, flags & PMT_SMALL ? 3 : PMT_MAX_SEGS);
			money_t v = (money_t)(20 + gsl_rng_uniform_int(r, 40)) * CENT;
			int64_t total = 0;
			for (size_t k = 0; k < ns; k++) {
				t->curves[i][k].quantity = 1 + (int64_t)gsl_rng_uniform_int(r, 3);
				t->curves[i][k].unit_value = v;
				total += t->curves[i][k].quantity;
				v -= (money_t)(1 + gsl_rng_uniform_int(r, 6)) * CENT;
				if (v <= 0) {
					ns = k + 1;
					break;
				}
			}
			b->curve = t->curves[i];
			b->ncurve = ns;
			/* max_quantity sometimes cuts the curve, sometimes exceeds it. */
			b->max_quantity = total - 1 + (int64_t)gsl_rng_uniform_int(r, 3);
			if (b->max_quantity < 0)
				b->max_quantity = 0;
			b->unit_price = t->curves[i][0].unit_value;
		}
		if ((flags & PMT_MINS) && b->max_quantity > 0 && gsl_rng_uniform(r) < 0.4)
			b->min_quantity = 1 + (int64_t)gsl_rng_uniform_int(r, (unsigned long)b->max_quantity);
		if ((flags & PMT_RANGES) && b->max_quantity > 0 && gsl_rng_uniform(r) < 0.5) {
			int64_t lo = (int64_t)gsl_rng_uniform_int(r, 2);
			size_t nr = 0;
			while (nr < PMT_MAX_RANGES && lo <= b->max_quantity) {
				int64_t hi = lo + (int64_t)gsl_rng_uniform_int(r, 3);
				if (hi > b->max_quantity)
					hi = b->max_quantity;
				t->ranges[i][nr++] = (struct pm_range){lo, hi};
				lo = hi + 2 + (int64_t)gsl_rng_uniform_int(r, 2);
			}
			b->ranges = t->ranges[i];
			b->nranges = nr;
		}
		if (flags & PMT_HELD)
			b->held = (int64_t)gsl_rng_uniform_int(r, (unsigned long)qmax + 1);
		if (flags & PMT_TRUTH) {
			/* The truth is the declared value function (truthful bidders): the
			 * curve up to max_quantity. */
			struct pm_segment *tc = t->truth[i];
			size_t nt = 0;
			if (b->curve) {
				int64_t left = b->max_quantity;
				for (size_t k = 0; k < b->ncurve && left > 0; k++) {
					tc[nt] = b->curve[k];
					if (tc[nt].quantity > left)
						tc[nt].quantity = left;
					left -= tc[nt++].quantity;
				}
			} else if (b->max_quantity > 0 && b->unit_price > 0) {
				tc[nt++] = (struct pm_segment){b->max_quantity, b->unit_price};
			}
			b->true_curve = tc;
			b->ntrue = nt;
		}
		demand += b->max_quantity;
	}
	t->supply = (int64_t)gsl_rng_uniform_int(r, (unsigned long)(demand + 3));
	fix_pointers(t);
}

void pmt_permute(gsl_rng *r, const struct pmt_inst *src, struct pmt_inst *dst)
{
	size_t perm[PMT_MAX_BIDS];
	for (size_t i = 0; i < src->n; i++)
		perm[i] = i;
	if (src->n > 1)
		gsl_ran_shuffle(r, perm, src->n, sizeof(perm[0]));
	memset(dst, 0, sizeof(*dst));
	dst->n = src->n;
	dst->supply = src->supply;
	for (size_t i = 0; i < src->n; i++) {
		size_t s = perm[i];
		dst->bids[i] = src->bids[s];
		memcpy(dst->curves[i], src->curves[s], sizeof(dst->curves[i]));
		memcpy(dst->truth[i], src->truth[s], sizeof(dst->truth[i]));
		memcpy(dst->ranges[i], src->ranges[s], sizeof(dst->ranges[i]));
	}
	fix_pointers(dst);
}

void pmt_same_result(const char *what, const struct pm_bid *a_bids, const struct pm_result *a,
		     const struct pm_bid *b_bids, const struct pm_result *b, size_t n)
{
	if (a->price != b->price || a->revenue != b->revenue || a->allocated != b->allocated ||
	    a->welfare != b->welfare || a->welfare_true != b->welfare_true) {
		pmt_dump(what, a_bids, n, -1);
		TEST_FAIL("%s: totals differ: price %lld/%lld revenue %lld/%lld allocated %lld/%lld "
			  "welfare %lld/%lld",
			  what, (long long)a->price, (long long)b->price, (long long)a->revenue,
			  (long long)b->revenue, (long long)a->allocated, (long long)b->allocated,
			  (long long)a->welfare, (long long)b->welfare);
	}
	for (size_t i = 0; i < n; i++) {
		size_t j = 0;
		while (j < n && b_bids[j].bidder != a_bids[i].bidder)
			j++;
		if (j == n)
			TEST_FAIL("%s: bidder %llu missing", what, (unsigned long long)a_bids[i].bidder);
		if (a->outcomes[i].quantity != b->outcomes[j].quantity ||
		    a->outcomes[i].payment != b->outcomes[j].payment) {
			pmt_dump(what, a_bids, n, -1);
			TEST_FAIL("%s: bidder %llu: quantity %lld/%lld payment %lld/%lld", what,
				  (unsigned long long)a_bids[i].bidder,
				  (long long)a->outcomes[i].quantity, (long long)b->outcomes[j].quantity,
				  (long long)a->outcomes[i].payment, (long long)b->outcomes[j].payment);
		}
	}
}

void pmt_dump(const char *what, const struct pm_bid *bids, size_t n, int64_t supply)
{
	fprintf(stderr, "%s: %zu bids, supply %lld\n", what, n, (long long)supply);
	for (size_t i = 0; i < n; i++) {
		const struct pm_bid *b = &bids[i];
		fprintf(stderr, "  bid %zu: bidder %llu min %lld max %lld price %lld held %lld", i,
			(unsigned long long)b->bidder, (long long)b->min_quantity,
			(long long)b->max_quantity, (long long)b->unit_price, (long long)b->held);
		if (b->curve) {
			fprintf(stderr, " curve");
			for (size_t k = 0; k < b->ncurve; k++)
				fprintf(stderr, " %lldx%lld", (long long)b->curve[k].quantity,
					(long long)b->curve[k].unit_value);
		}
		if (b->ranges) {
			fprintf(stderr, " ranges");
			for (size_t k = 0; k < b->nranges; k++)
				fprintf(stderr, " [%lld,%lld]", (long long)b->ranges[k].min,
					(long long)b->ranges[k].max);
		}
		fputc('\n', stderr);
	}
}
