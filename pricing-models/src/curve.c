/* curve.c: values of bids (declared and true), demand at a price, and result totals.
 *
 * A bid's value function is piecewise linear and concave: segments of decreasing marginal
 * value (or one flat segment). Every model computes values through these functions so that
 * "value", "demand" and "welfare" mean the same thing in every mechanism. */
#include <errno.h>

#include "common/error.h"
#include "pm_internal.h"

static money_t saturate(__int128 v)
{
	if (v > INT64_MAX)
		return INT64_MAX;
	if (v < INT64_MIN)
		return INT64_MIN;
	return (money_t)v;
}

money_t pm_curve_value(const struct pm_segment *curve, size_t ncurve, int64_t flat_quantity,
		       money_t flat_unit_value, int64_t q)
{
	if (q <= 0)
		return 0;
	if (!curve) {
		int64_t units = q < flat_quantity ? q : flat_quantity;
		return units > 0 ? saturate((__int128)units * flat_unit_value) : 0;
	}
	__int128 v = 0;
	for (size_t k = 0; k < ncurve && q > 0; k++) {
		if (curve[k].quantity <= 0)
			continue;
		int64_t units = curve[k].quantity < q ? curve[k].quantity : q;
		v += (__int128)units * curve[k].unit_value;
		q -= units;
		if (v > INT64_MAX || v < INT64_MIN)
			break;
	}
	return saturate(v);
}

money_t pm_bid_value(const struct pm_bid *bid, int64_t q)
{
	if (q > bid->max_quantity)
		q = bid->max_quantity;
	return pm_curve_value(bid->curve, bid->curve ? bid->ncurve : 0, bid->max_quantity,
			      bid->unit_price, q);
}

money_t pm_bid_true_value(const struct pm_bid *bid, int64_t q)
{
	if (!bid->true_curve)
		return pm_bid_value(bid, q);
	return pm_curve_value(bid->true_curve, bid->ntrue, 0, 0, q);
}

int64_t pm_bid_demand(const struct pm_bid *bid, money_t price)
{
	struct pm_segs it;
	struct pm_segment s;
	int64_t want = 0;

	/* Marginal values decrease, so the units worth at least the price are a prefix. */
	pm__segs_init(&it, bid);
	while (pm__segs_next(&it, &s) && s.unit_value >= price && s.unit_value > 0)
		want += s.quantity;
	if (want >= bid->min_quantity)
		return want;
	/* Fewer units are worth the price than the bidder's minimum: it takes the minimum when
	 * that still leaves it no worse off than taking nothing. */
	if (bid->min_quantity > bid->max_quantity)
		return 0;
	money_t v = pm_bid_value(bid, bid->min_quantity);
	if (v > 0 && (__int128)v >= (__int128)price * bid->min_quantity)
		return bid->min_quantity;
	return 0;
}

int pm__pay(money_t price, int64_t q, money_t *out, struct pm_error *err, size_t bid)
{
	if (money_mul(price, q, out))
		return pm__errorf(err, -RAAS_EOVERFLOW, "bid %zu: payment %lld x %lld overflows",
				  bid, (long long)price, (long long)q);
	return 0;
}

int pm__finish(const struct pm_bid *bids, size_t n, struct pm_result *res, struct pm_error *err)
{
	money_t revenue = 0, welfare = 0;
	int64_t allocated = 0;
	bool all_true = true;

	for (size_t i = 0; i < n; i++)
		if (!bids[i].true_curve)
			all_true = false;
	for (size_t i = 0; i < n; i++) {
		const struct pm_outcome *o = &res->outcomes[i];
		money_t v = all_true ? pm_bid_true_value(&bids[i], o->quantity)
				     : pm_bid_value(&bids[i], o->quantity);
		if (money_add(revenue, o->payment, &revenue) ||
		    __builtin_add_overflow(allocated, o->quantity, &allocated) ||
		    money_add(welfare, v, &welfare))
			return pm__errorf(err, -RAAS_EOVERFLOW,
					  "totals overflow at bid %zu (revenue, allocation or "
					  "welfare past int64)",
					  i);
	}
	res->revenue = revenue;
	res->allocated = allocated;
	res->welfare = welfare;
	res->welfare_true = all_true;
	return 0;
}
