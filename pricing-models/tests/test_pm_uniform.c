/* test_pm_uniform.c: hand-computed cases of the (K+1)-th price uniform auction.
 *
 * Prices in cents per unit-hour, payments in cents per hour; the arithmetic is in each
 * comment, and the expected values are those numbers, not the model's output. */
#include "pm_testutil.h"
#include "test.h"

static struct pm_result res;
static struct pm_outcome out[8];

static void basic(void)
{
	/* Supply 5. Units: A(1) 10,10,10; B(2) 8,8; C(3) 6,6. The top 5 are A's 3 and B's 2;
	 * the best losing unit is C's 6c, so p = 6c. A pays 3 x 6 = 18c, B 2 x 6 = 12c;
	 * revenue 30c; declared welfare 3 x 10 + 2 x 8 = 46c. */
	struct pm_instance *u = pmt_create("uniform", "");
	struct pm_bid b[] = {pmt_flat(1, 3, 10 * CENT), pmt_flat(2, 2, 8 * CENT),
			     pmt_flat(3, 2, 6 * CENT)};
	pmt_clear(u, 5, b, 3, &res, out);
	ASSERT_EQ(res.price, 6 * CENT);
	ASSERT_EQ(out[0].quantity, 3);
	ASSERT_EQ(out[1].quantity, 2);
	ASSERT_EQ(out[2].quantity, 0);
	ASSERT_EQ(out[0].payment, 18 * CENT);
	ASSERT_EQ(out[1].payment, 12 * CENT);
	ASSERT_EQ(out[2].payment, 0);
	ASSERT_EQ(res.revenue, 30 * CENT);
	ASSERT_EQ(res.allocated, 5);
	ASSERT_EQ(res.welfare, 46 * CENT);
	ASSERT_TRUE(!res.welfare_true);
	pm_destroy(u);
}

static void ties(void)
{
	/* Supply 3, A(id 7) 2 @ 5c and B(id 3) 2 @ 5c: four equal units, ranked by bidder id,
	 * so B (3) takes 2 and A (7) 1. The best losing unit is A's second at 5c: p = 5c.
	 * A pays 5c, B 10c. Listing A first must not change that. */
	struct pm_instance *u = pmt_create("uniform", "");
	struct pm_bid b[] = {pmt_flat(7, 2, 5 * CENT), pmt_flat(3, 2, 5 * CENT)};
	pmt_clear(u, 3, b, 2, &res, out);
	ASSERT_EQ(res.price, 5 * CENT);
	ASSERT_EQ(out[0].quantity, 1);
	ASSERT_EQ(out[1].quantity, 2);
	ASSERT_EQ(out[0].payment, 5 * CENT);
	ASSERT_EQ(out[1].payment, 10 * CENT);
	pm_destroy(u);
}

static void binding_reserve(void)
{
	/* Reserve 7c, supply 10. A 3 @ 10c, B 4 @ 6c (below the reserve: never sold),
	 * C 2 @ 7c (at the reserve: sold). Units >= 7c: 5 < 10, no losing unit above the
	 * reserve, so p = 7c. A pays 21c, C 14c, B nothing; revenue 35c. */
	struct pm_instance *u = pmt_create("uniform", "reserve=$0.07");
	struct pm_bid b[] = {pmt_flat(1, 3, 10 * CENT), pmt_flat(2, 4, 6 * CENT),
			     pmt_flat(3, 2, 7 * CENT)};
	pmt_clear(u, 10, b, 3, &res, out);
	ASSERT_EQ(res.price, 7 * CENT);
	ASSERT_EQ(out[0].quantity, 3);
	ASSERT_EQ(out[1].quantity, 0);
	ASSERT_EQ(out[2].quantity, 2);
	ASSERT_EQ(out[0].payment, 21 * CENT);
	ASSERT_EQ(out[2].payment, 14 * CENT);
	ASSERT_EQ(res.revenue, 35 * CENT);
	pm_destroy(u);
}

static void supply_exceeds_demand(void)
{
	/* Supply 100, demand 3 + 2 = 5 units, reserve 0: everyone is served, no unit loses,
	 * p = max(0, none) = 0: nobody pays. Welfare 3 x 10 + 2 x 8 = 46c. */
	struct pm_instance *u = pmt_create("uniform", "");
	struct pm_bid b[] = {pmt_flat(1, 3, 10 * CENT), pmt_flat(2, 2, 8 * CENT)};
	pmt_clear(u, 100, b, 2, &res, out);
	ASSERT_EQ(res.price, 0);
	ASSERT_EQ(out[0].quantity, 3);
	ASSERT_EQ(out[1].quantity, 2);
	ASSERT_EQ(res.revenue, 0);
	ASSERT_EQ(res.welfare, 46 * CENT);
	pm_destroy(u);
}

static void zero_bids(void)
{
	/* No bids: nothing sold at the reserve 2c. A bid at price 0 is worth nothing and
	 * gets nothing even with free supply. */
	struct pm_instance *u = pmt_create("uniform", "reserve=0.02");
	pmt_clear(u, 10, NULL, 0, &res, out);
	ASSERT_EQ(res.price, 2 * CENT);
	ASSERT_EQ(res.allocated, 0);
	ASSERT_EQ(res.revenue, 0);
	pm_destroy(u);
	u = pmt_create("uniform", "");
	struct pm_bid b[] = {pmt_flat(1, 5, 0)};
	pmt_clear(u, 10, b, 1, &res, out);
	ASSERT_EQ(out[0].quantity, 0);
	ASSERT_EQ(res.price, 0);
	pm_destroy(u);
}

static void supply_cap(void)
{
	/* Supply 10 but supply_cap 2 (EC2 cuts N after seeing the bids): A 3 @ 10c, B 2 @ 8c.
	 * K = min(10, 2) = 2: A gets 2; the best losing unit is A's third at 10c: p = 10c,
	 * A pays 20c. */
	struct pm_instance *u = pmt_create("uniform", "supply_cap=2");
	struct pm_bid b[] = {pmt_flat(1, 3, 10 * CENT), pmt_flat(2, 2, 8 * CENT)};
	pmt_clear(u, 10, b, 2, &res, out);
	ASSERT_EQ(out[0].quantity, 2);
	ASSERT_EQ(out[1].quantity, 0);
	ASSERT_EQ(res.price, 10 * CENT);
	ASSERT_EQ(out[0].payment, 20 * CENT);
	pm_destroy(u);
}

static void min_quantity(void)
{
	/* Supply 5. A(1) 3 @ 10c; B(2) 4 @ 8c with min 3; C(3) 2 @ 6c. A takes 3, B would get
	 * the 2 left < its minimum 3, so B is excluded and C takes the 2. Best unsold unit:
	 * B's 8c; lowest sold: C's 6c; p = min(8, 6) = 6c. A pays 18c, C 12c. */
	struct pm_instance *u = pmt_create("uniform", "");
	struct pm_bid b[] = {pmt_flat(1, 3, 10 * CENT), pmt_flat(2, 4, 8 * CENT),
			     pmt_flat(3, 2, 6 * CENT)};
	b[1].min_quantity = 3;
	pmt_clear(u, 5, b, 3, &res, out);
	ASSERT_EQ(out[0].quantity, 3);
	ASSERT_EQ(out[1].quantity, 0);
	ASSERT_EQ(out[2].quantity, 2);
	ASSERT_EQ(res.price, 6 * CENT);
	ASSERT_EQ(out[0].payment, 18 * CENT);
	ASSERT_EQ(out[2].payment, 12 * CENT);
	pm_destroy(u);
}

static void curves(void)
{
	/* Supply 4. A(1) curve 2 @ 9c then 2 @ 4c; B(2) 3 @ 6c. Units: A 9,9; B 6,6,6; A 4,4.
	 * Top 4: A's 9,9 and B's 6,6; best losing: B's third 6c, p = 6c. A 2 units pays 12c,
	 * B 2 units 12c. Declared welfare 18 + 12 = 30c. */
	struct pm_instance *u = pmt_create("uniform", "");
	struct pm_segment ca[] = {{2, 9 * CENT}, {2, 4 * CENT}};
	struct pm_bid b[] = {pmt_flat(1, 4, 9 * CENT), pmt_flat(2, 3, 6 * CENT)};
	b[0].curve = ca;
	b[0].ncurve = 2;
	pmt_clear(u, 4, b, 2, &res, out);
	ASSERT_EQ(out[0].quantity, 2);
	ASSERT_EQ(out[1].quantity, 2);
	ASSERT_EQ(res.price, 6 * CENT);
	ASSERT_EQ(res.revenue, 24 * CENT);
	ASSERT_EQ(res.welfare, 30 * CENT);
	pm_destroy(u);
}

int main(void)
{
	basic();
	ties();
	binding_reserve();
	supply_exceeds_demand();
	zero_bids();
	supply_cap();
	min_quantity();
	curves();
	printf("uniform: 8 hand-computed cases pass\n");
	return 0;
}
