/* model_proportional.c: Kelly's proportional share (Tycoon's "auction share").
 *
 * Each bidder spends at a rate b_i and gets the share C b_i / (sum b + delta) of the pool.
 * Bids here also carry a maximum, so the share is water-filled: x_i = min(max_i, b_i / p) with
 * sum x_i + delta / p = C, found exactly by scanning the bidders in order of b_i / max_i
 * (the bidders that want fewer units than their share are capped first). Shares are made
 * integer by largest remainder. The payment rule and min_quantity handling are stated in
 * models.h. All comparisons of ratios are exact cross-multiplications in 128 bits; the
 * floating-point key only pre-orders bidders, and equal keys are re-ordered exactly. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "common/error.h"
#include "pm_internal.h"
#include "pricing/models.h"

typedef unsigned __int128 u128;

struct proportional {
	money_t delta;
	struct pm_buf keys, tmp, in;
};

static uint64_t sat64(u128 v)
{
	return v > UINT64_MAX ? UINT64_MAX : (uint64_t)v;
}

static uint64_t double_desc(double d) /* d >= 0: larger d, smaller key */
{
	uint64_t bits;
	memcpy(&bits, &d, sizeof(bits));
	return ~bits;
}

/* Exact order of b_a / m_a descending, then bidder ascending. */
static bool before(const struct pm_bid *bids, const money_t *b, size_t x, size_t y)
{
	u128 l = (u128)b[x] * (uint64_t)bids[y].max_quantity;
	u128 r = (u128)b[y] * (uint64_t)bids[x].max_quantity;
	if (l != r)
		return l > r;
	return bids[x].bidder < bids[y].bidder;
}

static int prop_clear(struct pm_instance *inst, const struct pm_pool *pool,
		      const struct pm_bid *bids, size_t n, struct pm_result *res,
		      struct pm_error *err)
{
	struct proportional *pr = (struct proportional *)inst;
	const int64_t C = pool->supply;
	const money_t delta = pr->delta;

	res->price = 0;
	if (C == 0 || n == 0)
		return pm__finish(bids, n, res, err);
	if (pm__buf_array(&pr->keys, n, sizeof(struct pm_key)) ||
	    pm__buf_array(&pr->tmp, n, sizeof(struct pm_key)) ||
	    pm__buf_array(&pr->in, n, sizeof(money_t)))
		return pm__errorf(err, -ENOMEM, "proportional: out of memory for %zu bids", n);
	struct pm_key *k = pr->keys.p;
	money_t *b = pr->in.p; /* b_i, or 0 for a bidder out of the round */
	u128 S = 0;

	for (size_t i = 0; i < n; i++) {
		b[i] = bids[i].max_quantity > 0 ? pm_bid_value(&bids[i], bids[i].max_quantity) : 0;
		S += (u128)b[i];
	}

	/* min_quantity: i keeps its share C b_i / (S + delta) >= min_i iff
	 * S + delta <= floor(C b_i / min_i) (S + delta is an integer). Drop the lowest
	 * thresholds until the smallest remaining one holds; then all hold. */
	size_t m = 0;
	for (size_t i = 0; i < n; i++)
		if (b[i] > 0 && bids[i].min_quantity > 0)
			k[m++] = (struct pm_key){
				.hi = sat64((u128)C * (uint64_t)b[i] /
					    (uint64_t)bids[i].min_quantity),
				.lo = bids[i].bidder,
				.val = i};
	pm__sort_keys(k, pr->tmp.p, m);
	for (size_t t = 0; t < m && S + (u128)delta > k[t].hi; t++) {
		S -= (u128)b[k[t].val];
		b[k[t].val] = 0;
	}

	/* Water filling: order by b_i / max_i descending (exactly), cap while the next
	 * bidder's b_i / p reaches its max. */
	m = 0;
	for (size_t i = 0; i < n; i++)
		if (b[i] > 0)
			k[m++] = (struct pm_key){
				.hi = double_desc((double)b[i] / (double)bids[i].max_quantity),
				.lo = bids[i].bidder,
				.val = i};
	pm__sort_keys(k, pr->tmp.p, m);
	for (size_t a = 0; a < m;) { /* exact order inside runs of equal float keys */
		size_t e = a + 1;
		while (e < m && k[e].hi == k[a].hi)
			e++;
		for (size_t x = a + 1; x < e; x++) {
			struct pm_key key = k[x];
			size_t y = x;
			while (y > a && before(bids, b, key.val, k[y - 1].val)) {
				k[y] = k[y - 1];
				y--;
			}
			k[y] = key;
		}
		a = e;
	}
	u128 M = 0, Bunc = S;
	size_t capped = 0;
	while (capped < m) {
		size_t i = k[capped].val;
		if ((u128)b[i] * ((u128)C - M) < (u128)(uint64_t)bids[i].max_quantity * (Bunc + (u128)delta))
			break;
		res->outcomes[i].quantity = bids[i].max_quantity;
		M += (u128)bids[i].max_quantity;
		Bunc -= (u128)b[i];
		capped++;
	}

	/* Share price p = pnum / pden (pden == 0: unbounded). */
	u128 pnum, pden;
	if (capped < m) {
		pnum = Bunc + (u128)delta;
		pden = (u128)C - M;
		u128 total = Bunc * pden / pnum, given = 0;
		for (size_t t = capped; t < m; t++) {
			size_t i = k[t].val;
			u128 num = (u128)b[i] * pden;
			res->outcomes[i].quantity = (int64_t)(num / pnum);
			given += num / pnum;
			/* Reuse the key for the remainder order: largest first, ties by id. */
			k[t].hi = ~(uint64_t)(num % pnum);
			k[t].lo = bids[i].bidder;
		}
		size_t extra = (size_t)(total - given);
		if (extra) {
			pm__sort_keys(k + capped, pr->tmp.p, m - capped);
			for (size_t t = capped; t < capped + extra; t++)
				res->outcomes[k[t].val].quantity++;
		}
	} else {
		pnum = (u128)delta;
		pden = (u128)C - M;
	}
	if (pden == 0 || (pnum == 0 && m == 0)) {
		money_t top = 0; /* no finite share price: report the best bid per unit */
		for (size_t t = 0; t < m; t++) {
			size_t i = k[t].val;
			money_t u = (money_t)(((u128)b[i] + (uint64_t)bids[i].max_quantity - 1) /
					      (uint64_t)bids[i].max_quantity);
			if (u > top)
				top = u;
		}
		res->price = top;
	} else {
		u128 p = (pnum + pden - 1) / pden;
		res->price = p > INT64_MAX ? INT64_MAX : (money_t)p;
	}

	/* Payment: the share price for what it got, at most its bid pro rata. */
	for (size_t t = 0; t < m; t++) {
		size_t i = k[t].val;
		int64_t x = res->outcomes[i].quantity;
		u128 pro_rata = (u128)b[i] * (uint64_t)x / (uint64_t)bids[i].max_quantity;
		u128 pay = pro_rata;
		if (pden != 0) {
			u128 at_price = pnum * (uint64_t)x / pden;
			if (at_price < pay)
				pay = at_price;
		}
		res->outcomes[i].payment = (money_t)pay;
	}
	return pm__finish(bids, n, res, err);
}

static int prop_create(const struct pm_param *params, size_t nparams, struct pm_instance **out,
		       struct pm_error *err)
{
	money_t delta;
	int rc = pm__param_money_nonneg(params, nparams, "proportional", "delta", &delta, err);
	if (rc)
		return rc;
	struct proportional *pr = calloc(1, sizeof(*pr));
	if (!pr)
		return pm__errorf(err, -ENOMEM, "proportional: out of memory");
	pr->delta = delta;
	*out = (struct pm_instance *)pr;
	return 0;
}

static void prop_destroy(struct pm_instance *inst)
{
	struct proportional *pr = (struct proportional *)inst;
	pm__buf_free(&pr->keys);
	pm__buf_free(&pr->tmp);
	pm__buf_free(&pr->in);
	free(pr);
}

static const struct pm_param_spec prop_params[] = {
	{"delta", PM_PARAM_MONEY, "$0",
	 "the provider's own bid per hour: its share of the pool stays unallocated"},
};

const struct pm_model pm_model_proportional = {
	.api_version = PM_API_VERSION,
	.size = sizeof(struct pm_model),
	.name = "proportional",
	.summary = "Kelly / Tycoon proportional share",
	.params = prop_params,
	.nparams = 1,
	.create = prop_create,
	.destroy = prop_destroy,
	.clear = prop_clear,
	.posted_price = NULL,
};
