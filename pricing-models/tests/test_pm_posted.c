/* test_pm_posted.c: the posted-price models `fixed` and `utilization`, and demand at a price.
 * Hand-computed cases; arithmetic in the comments, prices in cents per unit-hour. */
#include "pm_testutil.h"
#include "test.h"

static struct pm_result res;
static struct pm_outcome out[8];

static void demand(void)
{
	/* Curve 2 @ 8c then 3 @ 4c. At 5c: the 2 units worth >= 5c. At 4c: all 5 (ties
	 * taken). With min 4 at 5c: 4 units are worth 16 + 8 = 24c >= 4 x 5 = 20c: take 4.
	 * With min 5 at 6c: 28c < 30c: take nothing. A zero-value unit is never demanded. */
	struct pm_segment c[] = {{2, 8 * CENT}, {3, 4 * CENT}};
	struct pm_bid b = pmt_flat(1, 5, 0);
	b.curve = c;
	b.ncurve = 2;
	ASSERT_EQ(pm_bid_demand(&b, 5 * CENT), 2);
	ASSERT_EQ(pm_bid_demand(&b, 4 * CENT), 5);
	ASSERT_EQ(pm_bid_demand(&b, 9 * CENT), 0);
	b.min_quantity = 4;
	ASSERT_EQ(pm_bid_demand(&b, 5 * CENT), 4);
	b.min_quantity = 5;
	ASSERT_EQ(pm_bid_demand(&b, 6 * CENT), 0);
	struct pm_bid z = pmt_flat(2, 5, 0);
	ASSERT_EQ(pm_bid_demand(&z, 0), 0);
	/* Values: 2 x 8 + 1 x 4 = 20c for 3 units; past max_quantity nothing more. */
	ASSERT_EQ(pm_bid_value(&b, 3), 20 * CENT);
	ASSERT_EQ(pm_bid_value(&b, 99), 28 * CENT);
	ASSERT_EQ(pm_curve_value(NULL, 0, 4, 3 * CENT, 10), 12 * CENT);
}

static void fixed_basic(void)
{
	/* Price 5c, supply 10. A 4 @ 6c takes 4, B 3 @ 5c takes 3 (ties with the price
	 * count), C 2 @ 4c takes nothing. A pays 20c, B 15c; revenue 35c. */
	struct pm_instance *f = pmt_create("fixed", "price=$0.05");
	struct pm_bid b[] = {pmt_flat(1, 4, 6 * CENT), pmt_flat(2, 3, 5 * CENT),
			     pmt_flat(3, 2, 4 * CENT)};
	pmt_clear(f, 10, b, 3, &res, out);
	ASSERT_EQ(out[0].quantity, 4);
	ASSERT_EQ(out[1].quantity, 3);
	ASSERT_EQ(out[2].quantity, 0);
	ASSERT_EQ(out[0].payment, 20 * CENT);
	ASSERT_EQ(out[1].payment, 15 * CENT);
	ASSERT_EQ(res.revenue, 35 * CENT);
	ASSERT_EQ(res.price, 5 * CENT);
	money_t p;
	struct pm_pool pool = {.supply = 10};
	ASSERT_OK(pm_posted_price(f, &pool, &p));
	ASSERT_EQ(p, 5 * CENT);
	pm_destroy(f);
}

static void fixed_rationing(void)
{
	/* Price 5c, supply 5. A(9) and B(2) both 4 @ 6c: demand 8 > 5. Equal marginal values:
	 * the lower id first, B gets 4, A the 1 left (no minimum). Then with A's min 2, the 1
	 * left is below it: A gets nothing and C(3) 1 @ 5.5c (lower priority) takes it. */
	struct pm_instance *f = pmt_create("fixed", "price=$0.05");
	struct pm_bid b[] = {pmt_flat(9, 4, 6 * CENT), pmt_flat(2, 4, 6 * CENT),
			     pmt_flat(3, 1, 55 * CENT / 10)};
	pmt_clear(f, 5, b, 2, &res, out);
	ASSERT_EQ(out[0].quantity, 1);
	ASSERT_EQ(out[1].quantity, 4);
	ASSERT_EQ(out[0].payment, 5 * CENT);
	b[0].min_quantity = 2;
	pmt_clear(f, 5, b, 3, &res, out);
	ASSERT_EQ(out[0].quantity, 0);
	ASSERT_EQ(out[1].quantity, 4);
	ASSERT_EQ(out[2].quantity, 1);
	pm_destroy(f);
}

static void fixed_surplus_zero(void)
{
	/* Supply 100 > demand; no bids; a zero bid. */
	struct pm_instance *f = pmt_create("fixed", "price=0.01");
	struct pm_bid b[] = {pmt_flat(1, 3, 2 * CENT), pmt_flat(2, 3, 0)};
	pmt_clear(f, 100, b, 2, &res, out);
	ASSERT_EQ(out[0].quantity, 3);
	ASSERT_EQ(out[1].quantity, 0);
	ASSERT_EQ(res.revenue, 3 * CENT);
	pmt_clear(f, 100, NULL, 0, &res, out);
	ASSERT_EQ(res.price, 1 * CENT);
	ASSERT_EQ(res.allocated, 0);
	pm_destroy(f);
}

static void clear_at(struct pm_instance *u, int64_t now, int64_t round_ns, int64_t supply,
		     const struct pm_bid *b, size_t n)
{
	struct pm_pool pool = {.supply = supply, .now_ns = now, .round_ns = round_ns};
	pmt_clear_pool(u, &pool, b, n, &res, out);
}

static void utilization_rounds(void)
{
	/* base 10c, levels 0 -> x1, 0.5 -> x2; period 0 (each round is a period).
	 * Round 1: level 0, price 10c. A 6 @ 20c of supply 10 takes 6: utilization 0.6.
	 * Round 2: price 10c x 2 = 20c; A still takes 6 (20c >= 20c): 0.6 again.
	 * Round 3: 20c; A now bids 15c: takes nothing, utilization 0.
	 * Round 4: back to 10c. */
	const int64_t S = INT64_C(1000000000);
	struct pm_instance *u = pmt_create("utilization", "base=$0.10, levels=0:1 0.5:2");
	struct pm_bid b[] = {pmt_flat(1, 6, 20 * CENT)};
	clear_at(u, 0, S, 10, b, 1);
	ASSERT_EQ(res.price, 10 * CENT);
	ASSERT_EQ(out[0].quantity, 6);
	clear_at(u, S, S, 10, b, 1);
	ASSERT_EQ(res.price, 20 * CENT);
	ASSERT_EQ(out[0].quantity, 6);
	b[0].unit_price = 15 * CENT;
	clear_at(u, 2 * S, S, 10, b, 1);
	ASSERT_EQ(res.price, 20 * CENT);
	ASSERT_EQ(out[0].quantity, 0);
	clear_at(u, 3 * S, S, 10, b, 1);
	ASSERT_EQ(res.price, 10 * CENT);
	pm_destroy(u);
}

static void utilization_period(void)
{
	/* period 10 s, rounds of 1 s. Period [0, 10): rounds at 0..9; the first 5 use all
	 * the supply (util 1), the last 5 none: the period's mean is 0.5, so from t = 10 s
	 * the price is base x 2 (levels 0:1 0.5:2 0.9:3), fixed for the whole period, then
	 * period [10, 20) at util 1 posts x3 from t = 20 s. */
	const int64_t S = INT64_C(1000000000);
	struct pm_instance *u =
		pmt_create("utilization", "base=$0.10, levels=\"0:1, 0.5:2, 0.9:3\", period=10s");
	struct pm_bid hungry[] = {pmt_flat(1, 10, 99 * CENT)};
	for (int t = 0; t < 10; t++) {
		clear_at(u, t * S, S, 10, hungry, t < 5 ? 1 : 0);
		ASSERT_EQ(res.price, 10 * CENT);
	}
	for (int t = 10; t < 20; t++) {
		clear_at(u, t * S, S, 10, hungry, 1);
		ASSERT_EQ(res.price, 20 * CENT);
	}
	money_t p;
	struct pm_pool pool = {.supply = 10, .now_ns = 20 * S};
	ASSERT_OK(pm_posted_price(u, &pool, &p));
	ASSERT_EQ(p, 30 * CENT);
	pm_destroy(u);
}

int main(void)
{
	demand();
	fixed_basic();
	fixed_rationing();
	fixed_surplus_zero();
	utilization_rounds();
	utilization_period();
	printf("posted prices: hand-computed cases pass\n");
	return 0;
}
