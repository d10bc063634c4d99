/* posted.c: allocation at a posted price, shared by `fixed`, `utilization` and `trace`.
 *
 * A posted price is take-it-or-leave-it: each bidder takes the quantity that is best for it
 * at that price (pm_bid_demand, which honours min_quantity). Only when the pool cannot serve
 * every taker does an order matter; it is by how much a bidder values its last demanded unit
 * (so that the units go where they are worth most), then by bidder id. */
#include <errno.h>

#include "pm_internal.h"

/* Marginal value of unit number q (1-based) of a bid; 0 past its last unit. */
static money_t marginal_at(const struct pm_bid *b, int64_t q)
{
	struct pm_segs it;
	struct pm_segment s;
	int64_t seen = 0;

	pm__segs_init(&it, b);
	while (pm__segs_next(&it, &s)) {
		seen += s.quantity;
		if (seen >= q)
			return s.unit_value;
	}
	return 0;
}

int pm__posted_clear(struct pm_posted_ws *ws, const struct pm_bid *bids, size_t n,
		     int64_t supply, money_t price, struct pm_result *res, struct pm_error *err)
{
	struct pm_outcome *out = res->outcomes;
	__int128 total = 0;
	int rc;

	res->price = price;
	if (pm__buf_array(&ws->demand, n, sizeof(int64_t)))
		return pm__errorf(err, -ENOMEM, "posted price: out of memory for %zu bids", n);
	int64_t *d = ws->demand.p;
	for (size_t i = 0; i < n; i++) {
		d[i] = pm_bid_demand(&bids[i], price);
		total += d[i];
	}
	if (total <= supply) {
		for (size_t i = 0; i < n; i++)
			out[i].quantity = d[i];
	} else {
		if (pm__buf_array(&ws->keys, n, sizeof(struct pm_key)) ||
		    pm__buf_array(&ws->tmp, n, sizeof(struct pm_key)))
			return pm__errorf(err, -ENOMEM, "posted price: out of memory for %zu bids",
					  n);
		struct pm_key *k = ws->keys.p;
		size_t m = 0;
		for (size_t i = 0; i < n; i++)
			if (d[i] > 0)
				k[m++] = (struct pm_key){.hi = pm__desc(marginal_at(&bids[i], d[i])),
							 .lo = bids[i].bidder,
							 .val = i};
		pm__sort_keys(k, ws->tmp.p, m);
		int64_t left = supply;
		for (size_t j = 0; j < m; j++) {
			size_t i = k[j].val;
			int64_t q = d[i] <= left ? d[i] : left;
			/* Rationed below its demand: still worth taking if at least the minimum
			 * (every unit up to the demand is worth the price, or the demand is the
			 * minimum itself). */
			if (q < d[i] && (q < bids[i].min_quantity || q == 0))
				q = 0;
			out[i].quantity = q;
			left -= q;
		}
	}
	for (size_t i = 0; i < n; i++)
		if ((rc = pm__pay(price, out[i].quantity, &out[i].payment, err, i)))
			return rc;
	return pm__finish(bids, n, res, err);
}

void pm__posted_ws_free(struct pm_posted_ws *ws)
{
	pm__buf_free(&ws->keys);
	pm__buf_free(&ws->tmp);
	pm__buf_free(&ws->demand);
}
