/* model_uniform.c: the (K+1)-th price uniform multi-unit auction with a reserve price.
 *
 * The auction EC2's spot market was found to run (markets.md section 2): rank every marginal
 * unit bid at or above the reserve, sell the top K, and charge every winner the value of the
 * best losing unit (or the reserve). Its clearing core, pm__uniform_clear(), is shared with
 * `spot-ar1`, whose hidden reserve moves as an AR(1) process. See models.h for the rule,
 * including how min_quantity is honoured by exclusion. */
#include <errno.h>
#include <stdlib.h>

#include "common/error.h"
#include "pm_internal.h"
#include "pricing/models.h"

#define NO_POS UINT32_MAX

struct uniform {
	money_t reserve;
	int64_t cap; /* < 0: none */
	struct pm_uniform_ws ws;
};

int pm__uniform_clear(struct pm_uniform_ws *ws, const struct pm_bid *bids, size_t n,
		      int64_t supply, int64_t cap, money_t reserve, struct pm_result *res,
		      struct pm_error *err)
{
	int rc = pm__rank_segments(&ws->rank, bids, n, reserve, err);
	if (rc)
		return rc;
	if (pm__buf_array(&ws->q, n, sizeof(int64_t)) ||
	    pm__buf_array(&ws->state, n, sizeof(uint32_t)) ||
	    pm__buf_array(&ws->partial, n, sizeof(uint32_t)))
		return pm__errorf(err, -ENOMEM, "uniform: out of memory for %zu bids", n);
	const size_t S = ws->rank.n;
	const struct pm_key *keys = ws->rank.keys.p;
	const uint32_t *seg_bid = ws->rank.seg_bid.p;
	const int64_t *seg_qty = ws->rank.seg_qty.p;
	int64_t *q = ws->q.p;
	uint32_t *pos = ws->state.p; /* index in partial[], NO_POS, or EXCLUDED */
	uint32_t *partial = ws->partial.p;
	const uint32_t EXCLUDED = NO_POS - 1;
	size_t npartial = 0;

	for (size_t i = 0; i < n; i++) {
		q[i] = 0;
		pos[i] = NO_POS;
	}

	int64_t K = supply, left;
	if (cap >= 0 && cap < K)
		K = cap;
	left = K;
	size_t j = 0;     /* current unit: key j, after `used` of its units */
	int64_t used = 0;
	for (;;) {
		while (j < S && left > 0) {
			size_t s = keys[j].val;
			uint32_t i = seg_bid[s];
			if (pos[i] == EXCLUDED) {
				j++;
				used = 0;
				continue;
			}
			int64_t take = seg_qty[s] - used;
			if (take > left)
				take = left;
			q[i] += take;
			left -= take;
			used += take;
			if (q[i] < bids[i].min_quantity) {
				if (pos[i] == NO_POS) {
					pos[i] = (uint32_t)npartial;
					partial[npartial++] = i;
				}
			} else if (pos[i] != NO_POS) {
				/* Reached its minimum: leaves the partial set (swap-remove). */
				uint32_t last = partial[--npartial];
				partial[pos[i]] = last;
				pos[last] = pos[i];
				pos[i] = NO_POS;
			}
			if (used == seg_qty[s]) {
				j++;
				used = 0;
			}
		}
		if (npartial == 0)
			break;
		/* The supply ran out (or the units did) with these bidders short of their
		 * minimum: they leave the round and their units go back to the supply. */
		for (size_t k = 0; k < npartial; k++) {
			uint32_t i = partial[k];
			left += q[i];
			q[i] = 0;
			pos[i] = EXCLUDED;
		}
		npartial = 0;
	}

	/* The price: the best unit left unsold (excluded bidders' units count: they are unmet
	 * demand), but never above the lowest unit sold, so that every winner still values
	 * each of its units at least at the price. Without exclusions the first bound is
	 * below the second and this is the plain (K+1)-th price. */
	money_t best_unsold = -1, lowest_sold = -1;
	for (size_t t = j; t < S; t++) {
		size_t s = keys[t].val;
		if (pos[seg_bid[s]] != EXCLUDED && seg_qty[s] > (t == j ? used : 0)) {
			best_unsold = pm__key_value(&keys[t]);
			break;
		}
	}
	for (size_t t = 0; t < S; t++) {
		if (pos[seg_bid[keys[t].val]] == EXCLUDED) {
			if (pm__key_value(&keys[t]) > best_unsold)
				best_unsold = pm__key_value(&keys[t]);
			break;
		}
	}
	for (size_t t = j + (used > 0); t > 0; t--) {
		if (pos[seg_bid[keys[t - 1].val]] != EXCLUDED) {
			lowest_sold = pm__key_value(&keys[t - 1]);
			break;
		}
	}
	money_t price = best_unsold;
	if (lowest_sold >= 0 && price > lowest_sold)
		price = lowest_sold;
	if (price < reserve)
		price = reserve;
	res->price = price;
	for (size_t i = 0; i < n; i++) {
		res->outcomes[i].quantity = q[i];
		if ((rc = pm__pay(price, q[i], &res->outcomes[i].payment, err, i)))
			return rc;
	}
	return pm__finish(bids, n, res, err);
}

void pm__uniform_ws_free(struct pm_uniform_ws *ws)
{
	pm__ranked_free(&ws->rank);
	pm__buf_free(&ws->q);
	pm__buf_free(&ws->state);
	pm__buf_free(&ws->partial);
}

static int uniform_create(const struct pm_param *params, size_t nparams,
			  struct pm_instance **out, struct pm_error *err)
{
	money_t reserve;
	int64_t cap;
	int rc;

	if ((rc = pm__param_money_nonneg(params, nparams, "uniform", "reserve", &reserve, err)) ||
	    (rc = pm__param_int(params, nparams, "supply_cap", &cap, err)))
		return rc;
	if (cap < 0)
		return pm__errorf(err, -EINVAL, "uniform: supply_cap must not be negative (0: none)");
	struct uniform *u = calloc(1, sizeof(*u));
	if (!u)
		return pm__errorf(err, -ENOMEM, "uniform: out of memory");
	u->reserve = reserve;
	u->cap = cap ? cap : -1;
	*out = (struct pm_instance *)u;
	return 0;
}

static void uniform_destroy(struct pm_instance *inst)
{
	struct uniform *u = (struct uniform *)inst;
	pm__uniform_ws_free(&u->ws);
	free(u);
}

static int uniform_clear(struct pm_instance *inst, const struct pm_pool *pool,
			 const struct pm_bid *bids, size_t nbids, struct pm_result *res,
			 struct pm_error *err)
{
	struct uniform *u = (struct uniform *)inst;
	return pm__uniform_clear(&u->ws, bids, nbids, pool->supply, u->cap, u->reserve, res, err);
}

static const struct pm_param_spec uniform_params[] = {
	{"reserve", PM_PARAM_MONEY, "$0", "reserve price per unit-hour; no unit sells below it"},
	{"supply_cap", PM_PARAM_INT, "0",
	 "sell at most this many units whatever the supply (EC2's retroactive supply "
	 "limitation); 0: no cap"},
};

const struct pm_model pm_model_uniform = {
	.api_version = PM_API_VERSION,
	.size = sizeof(struct pm_model),
	.name = "uniform",
	.summary = "(K+1)-th price uniform multi-unit auction with reserve",
	.params = uniform_params,
	.nparams = sizeof(uniform_params) / sizeof(uniform_params[0]),
	.create = uniform_create,
	.destroy = uniform_destroy,
	.clear = uniform_clear,
	.posted_price = NULL,
};
