/* model_vcg.c: multi-unit VCG for bids with decreasing marginal values.
 *
 * With concave values (decreasing marginals) the welfare-maximizing allocation is greedy: the
 * K best marginal units win. Bidder i's Clarke payment is the welfare the others lose because
 * of i: the value of the a_i units they would get without i, which are the best a_i rejected
 * units not i's own, then the reserve's units (player zero values every unit at r).
 *
 * Naively that is one re-run per winner, O(n S). Here: one sort of the S segments, prefix
 * sums of quantity and value over the rejected segments R (in rank order), and for each
 * winner a walk over its own rejected segments (which lie in R in increasing positions,
 * since its marginals strictly decrease): between two of them the others' units are a
 * contiguous run of R, so the a_i units are found by subtracting whole runs and one binary
 * search in the last. Total O(S log S + n log S). */
#include <errno.h>
#include <stdlib.h>

#include "common/error.h"
#include "pm_internal.h"
#include "pricing/models.h"

struct vcg {
	money_t reserve;
	struct pm_ranked rank;
	struct pm_buf q, r_qpre, r_vpre, r_val, r_bid, own_start, own;
};

/* Value of the first `need` units of R from position start; the caller checked there are
 * that many units from start on. */
static __int128 take_units(const int64_t *qpre, const money_t *vpre, const money_t *val,
			   size_t start, size_t end, int64_t need)
{
	/* Smallest t in [start, end) with qpre[t + 1] - qpre[start] >= need. */
	size_t lo = start, hi = end - 1;
	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;
		if (qpre[mid + 1] - qpre[start] >= need)
			hi = mid;
		else
			lo = mid + 1;
	}
	int64_t before = qpre[lo] - qpre[start];
	return (__int128)(vpre[lo] - vpre[start]) + (__int128)(need - before) * val[lo];
}

static int vcg_clear(struct pm_instance *inst, const struct pm_pool *pool,
		     const struct pm_bid *bids, size_t n, struct pm_result *res,
		     struct pm_error *err)
{
	struct vcg *v = (struct vcg *)inst;
	const money_t r = v->reserve;
	int rc = pm__rank_segments(&v->rank, bids, n, r, err);
	if (rc)
		return rc;
	const size_t S = v->rank.n;
	if (pm__buf_array(&v->q, n, sizeof(int64_t)) ||
	    pm__buf_array(&v->r_qpre, S + 1, sizeof(int64_t)) ||
	    pm__buf_array(&v->r_vpre, S + 1, sizeof(money_t)) ||
	    pm__buf_array(&v->r_val, S, sizeof(money_t)) ||
	    pm__buf_array(&v->r_bid, S, sizeof(uint32_t)) ||
	    pm__buf_array(&v->own_start, n + 1, sizeof(size_t)) ||
	    pm__buf_array(&v->own, S, sizeof(uint32_t)))
		return pm__errorf(err, -ENOMEM, "vcg: out of memory for %zu segments", S);
	const struct pm_key *keys = v->rank.keys.p;
	const uint32_t *seg_bid = v->rank.seg_bid.p;
	const int64_t *seg_qty = v->rank.seg_qty.p;
	int64_t *q = v->q.p, *qpre = v->r_qpre.p;
	money_t *vpre = v->r_vpre.p, *val = v->r_val.p;
	uint32_t *r_bid = v->r_bid.p;
	size_t *own_start = v->own_start.p;
	uint32_t *own = v->own.p;

	for (size_t i = 0; i < n; i++)
		q[i] = 0;

	/* Greedy allocation; what is left of each segment joins R, in rank order. */
	int64_t left = pool->supply;
	size_t m = 0;
	qpre[0] = 0;
	vpre[0] = 0;
	for (size_t j = 0; j < S; j++) {
		size_t s = keys[j].val;
		uint32_t i = seg_bid[s];
		money_t value = pm__key_value(&keys[j]);
		int64_t take = seg_qty[s] < left ? seg_qty[s] : left;
		q[i] += take;
		left -= take;
		int64_t rest = seg_qty[s] - take;
		if (rest > 0) {
			val[m] = value;
			qpre[m + 1] = qpre[m] + rest;
			vpre[m + 1] = vpre[m] + rest * value; /* <= the bid's declared value */
			r_bid[m] = i;
			m++;
		}
	}

	/* Each bidder's rejected segments, as increasing positions in R. */
	for (size_t i = 0; i <= n; i++)
		own_start[i] = 0;
	for (size_t t = 0; t < m; t++)
		own_start[r_bid[t] + 1]++;
	for (size_t i = 0; i < n; i++)
		own_start[i + 1] += own_start[i];
	for (size_t t = 0; t < m; t++) /* own_start[i] advances to the end of i's run */
		own[own_start[r_bid[t]]++] = (uint32_t)t;
	for (size_t i = n; i > 0; i--) /* and back to its start */
		own_start[i] = own_start[i - 1];
	own_start[0] = 0;

	res->price = m ? val[0] : r;
	for (size_t i = 0; i < n; i++) {
		struct pm_outcome *o = &res->outcomes[i];
		o->quantity = q[i];
		if (!q[i])
			continue;
		int64_t need = q[i];
		__int128 pay = 0;
		size_t prev = 0;
		for (size_t k = own_start[i]; k < own_start[i + 1] && need > 0; k++) {
			size_t p = own[k];
			int64_t avail = qpre[p] - qpre[prev];
			if (need <= avail) {
				pay += take_units(qpre, vpre, val, prev, p, need);
				need = 0;
				break;
			}
			pay += vpre[p] - vpre[prev];
			need -= avail;
			prev = p + 1;
		}
		if (need > 0) {
			int64_t avail = qpre[m] - qpre[prev];
			if (need <= avail)
				pay += take_units(qpre, vpre, val, prev, m, need);
			else
				pay += (__int128)(vpre[m] - vpre[prev]) + (__int128)(need - avail) * r;
		}
		if (pay > INT64_MAX)
			return pm__errorf(err, -RAAS_EOVERFLOW, "vcg: bid %zu: payment overflows", i);
		o->payment = (money_t)pay;
	}
	return pm__finish(bids, n, res, err);
}

static int vcg_create(const struct pm_param *params, size_t nparams, struct pm_instance **out,
		      struct pm_error *err)
{
	money_t reserve;
	int rc = pm__param_money_nonneg(params, nparams, "vcg", "reserve", &reserve, err);
	if (rc)
		return rc;
	struct vcg *v = calloc(1, sizeof(*v));
	if (!v)
		return pm__errorf(err, -ENOMEM, "vcg: out of memory");
	v->reserve = reserve;
	*out = (struct pm_instance *)v;
	return 0;
}

static void vcg_destroy(struct pm_instance *inst)
{
	struct vcg *v = (struct vcg *)inst;
	struct pm_buf *bufs[] = {&v->q,     &v->r_qpre,     &v->r_vpre, &v->r_val,
				 &v->r_bid, &v->own_start, &v->own};
	pm__ranked_free(&v->rank);
	for (size_t i = 0; i < sizeof(bufs) / sizeof(bufs[0]); i++)
		pm__buf_free(bufs[i]);
	free(v);
}

static const struct pm_param_spec vcg_params[] = {
	{"reserve", PM_PARAM_MONEY, "$0",
	 "reserve price per unit-hour: a player zero that values every unit at it"},
};

const struct pm_model pm_model_vcg = {
	.api_version = PM_API_VERSION,
	.size = sizeof(struct pm_model),
	.name = "vcg",
	.summary = "multi-unit VCG with decreasing marginal values",
	.params = vcg_params,
	.nparams = 1,
	.create = vcg_create,
	.destroy = vcg_destroy,
	.clear = vcg_clear,
	.posted_price = NULL,
};
