/* rank.c: the marginal units of a round's bids, ranked: the order the unit auctions clear in.
 *
 * `uniform` (and `spot-ar1` through it) and `vcg` both sell marginal units best first. Their
 * ranking is the same and built here once: every segment of every bid worth at least a floor
 * (the reserve) and more than zero, sorted by value from high to low, equal values by bidder
 * id. O(S log S) for S segments (radix sort, sort.c). */
#include <errno.h>

#include "pm_internal.h"

int pm__rank_segments(struct pm_ranked *r, const struct pm_bid *bids, size_t n, money_t floor,
		      struct pm_error *err)
{
	struct pm_segs it;
	struct pm_segment seg;
	size_t S = 0;

	for (size_t i = 0; i < n; i++) {
		pm__segs_init(&it, &bids[i]);
		while (pm__segs_next(&it, &seg))
			if (seg.unit_value >= floor && seg.unit_value > 0)
				S++;
	}
	if (pm__buf_array(&r->keys, S, sizeof(struct pm_key)) ||
	    pm__buf_array(&r->tmp, S, sizeof(struct pm_key)) ||
	    pm__buf_array(&r->seg_bid, S, sizeof(uint32_t)) ||
	    pm__buf_array(&r->seg_qty, S, sizeof(int64_t)))
		return pm__errorf(err, -ENOMEM, "out of memory ranking %zu segments", S);
	struct pm_key *keys = r->keys.p;
	uint32_t *seg_bid = r->seg_bid.p;
	int64_t *seg_qty = r->seg_qty.p;

	S = 0;
	for (size_t i = 0; i < n; i++) {
		pm__segs_init(&it, &bids[i]);
		while (pm__segs_next(&it, &seg)) {
			if (seg.unit_value < floor || seg.unit_value <= 0)
				continue;
			keys[S] = (struct pm_key){.hi = pm__desc(seg.unit_value),
						  .lo = bids[i].bidder,
						  .val = S};
			seg_bid[S] = (uint32_t)i;
			seg_qty[S] = seg.quantity;
			S++;
		}
	}
	pm__sort_keys(keys, r->tmp.p, S);
	r->n = S;
	return 0;
}

void pm__ranked_free(struct pm_ranked *r)
{
	pm__buf_free(&r->keys);
	pm__buf_free(&r->tmp);
	pm__buf_free(&r->seg_bid);
	pm__buf_free(&r->seg_qty);
}
