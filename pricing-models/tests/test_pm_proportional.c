/* test_pm_proportional.c: Kelly proportional share with caps: hand-computed cases, then a
 * reference computed with exact fractions. */
#include <gsl/gsl_rng.h>

#include "pm_testutil.h"
#include "test.h"

static struct pm_result res;
static struct pm_outcome out[PMT_MAX_BIDS];

static void hand_cap(void)
{
	/* C = 10, delta 0. A(1) 4 @ 5c: b_A = 20c; B(2) 10 @ 3c: b_B = 30c.
	 * Kelly: x_A = 10 x 20 / 50 = 4 = max_A, so A is capped (b_A / max_A = 5c >= p).
	 * Water filling: p = (30 + 0) / (10 - 4) = 5c; x_B = 30 / 5 = 6.
	 * Payments: A min(5c x 4, 20c x 4/4) = 20c; B min(5c x 6 = 30c, 30c x 6/10 = 18c) = 18c.
	 * Price 5c, revenue 38c. */
	struct pm_instance *p = pmt_create("proportional", "");
	struct pm_bid b[] = {pmt_flat(1, 4, 5 * CENT), pmt_flat(2, 10, 3 * CENT)};
	pmt_clear(p, 10, b, 2, &res, out);
	ASSERT_EQ(out[0].quantity, 4);
	ASSERT_EQ(out[1].quantity, 6);
	ASSERT_EQ(out[0].payment, 20 * CENT);
	ASSERT_EQ(out[1].payment, 18 * CENT);
	ASSERT_EQ(res.price, 5 * CENT);
	ASSERT_EQ(res.revenue, 38 * CENT);
	pm_destroy(p);
}

static void hand_ties(void)
{
	/* C = 5, A(2) and B(1) both 10 @ 1c: b = 10c each, p = 20 / 5 = 4c, shares 2.5 each.
	 * Floors 2 + 2, one unit left, equal remainders: the lower bidder id (B) gets it.
	 * Payments: A min(4c x 2, 10c x 2/10) = 2c; B min(4c x 3, 10c x 3/10) = 3c. */
	struct pm_instance *p = pmt_create("proportional", "");
	struct pm_bid b[] = {pmt_flat(2, 10, 1 * CENT), pmt_flat(1, 10, 1 * CENT)};
	pmt_clear(p, 5, b, 2, &res, out);
	ASSERT_EQ(out[0].quantity, 2);
	ASSERT_EQ(out[1].quantity, 3);
	ASSERT_EQ(out[0].payment, 2 * CENT);
	ASSERT_EQ(out[1].payment, 3 * CENT);
	ASSERT_EQ(res.price, 4 * CENT);
	pm_destroy(p);
}

static void hand_delta(void)
{
	/* delta 30c acts as the provider's own bid. C = 10, A(1) 10 @ 5c: b_A = 50c.
	 * A is not capped (50 x 10 < 10 x (50 + 30)); p = 80c / 10 = 8c; share 50/8 = 6.25
	 * -> 6 units (the provider's 3.75 stay unallocated). Payment min(8c x 6 = 48c,
	 * 50c x 6/10 = 30c) = 30c. */
	struct pm_instance *p = pmt_create("proportional", "delta=$0.30");
	struct pm_bid b[] = {pmt_flat(1, 10, 5 * CENT)};
	pmt_clear(p, 10, b, 1, &res, out);
	ASSERT_EQ(out[0].quantity, 6);
	ASSERT_EQ(out[0].payment, 30 * CENT);
	ASSERT_EQ(res.price, 8 * CENT);
	pm_destroy(p);
}

static void hand_surplus(void)
{
	/* C = 100, demand 4 + 2: everyone capped. delta 0: share price 0, nobody pays.
	 * delta 94c: p = 94c / (100 - 6) = 1c; A pays 1c x 4, B 1c x 2. Zero bids: nothing. */
	struct pm_bid b[] = {pmt_flat(1, 4, 5 * CENT), pmt_flat(2, 2, 3 * CENT), pmt_flat(3, 3, 0)};
	struct pm_instance *p = pmt_create("proportional", "");
	pmt_clear(p, 100, b, 3, &res, out);
	ASSERT_EQ(out[0].quantity, 4);
	ASSERT_EQ(out[1].quantity, 2);
	ASSERT_EQ(out[2].quantity, 0);
	ASSERT_EQ(res.price, 0);
	ASSERT_EQ(res.revenue, 0);
	pm_destroy(p);
	p = pmt_create("proportional", "delta=0.94");
	pmt_clear(p, 100, b, 3, &res, out);
	ASSERT_EQ(res.price, 1 * CENT);
	ASSERT_EQ(out[0].payment, 4 * CENT);
	ASSERT_EQ(out[1].payment, 2 * CENT);
	pmt_clear(p, 100, NULL, 0, &res, out);
	ASSERT_EQ(res.allocated, 0);
	pm_destroy(p);
}

static void hand_min(void)
{
	/* C = 10. A(1) 4 @ 5c (b 20c); B(2) 10 @ 1c (b 10c) with min 5. B's Kelly share
	 * 10 x 10 / 30 = 3.3 < 5: B drops out. A alone is capped at 4; with delta 0 and no
	 * contention the share price is 0. */
	struct pm_instance *p = pmt_create("proportional", "");
	struct pm_bid b[] = {pmt_flat(1, 4, 5 * CENT), pmt_flat(2, 10, 1 * CENT)};
	b[1].min_quantity = 5;
	pmt_clear(p, 10, b, 2, &res, out);
	ASSERT_EQ(out[0].quantity, 4);
	ASSERT_EQ(out[1].quantity, 0);
	/* With min 3 B keeps its share: 3.3 >= 3. Water filling as in hand_cap: A capped at 4,
	 * p = 10 / 6 c, B gets 6. */
	b[1].min_quantity = 3;
	pmt_clear(p, 10, b, 2, &res, out);
	ASSERT_EQ(out[0].quantity, 4);
	ASSERT_EQ(out[1].quantity, 6);
	pm_destroy(p);
}

/* Reference water filling with doubles on small instances: same capped set, shares within
 * one unit, totals exact. */
static void reference(void)
{
	gsl_rng *rng = gsl_rng_alloc(gsl_rng_mt19937);
	struct pmt_inst t;

	for (int k = 0; k < 5000; k++) {
		gsl_rng_set(rng, (unsigned long)k + 3);
		pmt_random(rng, &t, 10, PMT_CURVES);
		struct pm_instance *p = pmt_create("proportional", k % 2 ? "delta=$0.10" : "");
		double delta = k % 2 ? 10.0 * CENT : 0;
		pmt_clear(p, t.supply, t.bids, t.n, &res, out);
		/* p solves sum min(max, b / p) + delta / p = C; bisection on p. */
		double b[PMT_MAX_BIDS], lo = 0, hi = 1e18, M = 0;
		size_t live = 0;
		for (size_t i = 0; i < t.n; i++) {
			b[i] = (double)pm_bid_value(&t.bids[i], t.bids[i].max_quantity);
			if (b[i] > 0 && t.bids[i].max_quantity > 0) {
				live++;
				M += (double)t.bids[i].max_quantity;
			}
		}
		if (!live || !t.supply || (M <= t.supply && delta == 0)) {
			for (size_t i = 0; i < t.n; i++)
				ASSERT_EQ(out[i].quantity,
					  b[i] > 0 && t.supply ? t.bids[i].max_quantity : 0);
			pm_destroy(p);
			continue;
		}
		for (int it = 0; it < 200; it++) {
			double mid = (lo + hi) / 2, s = delta / mid;
			for (size_t i = 0; i < t.n; i++)
				if (b[i] > 0)
					s += fmin((double)t.bids[i].max_quantity, b[i] / mid);
			if (s > t.supply)
				lo = mid;
			else
				hi = mid;
		}
		int64_t total = 0;
		for (size_t i = 0; i < t.n; i++) {
			double share = b[i] > 0 ? fmin((double)t.bids[i].max_quantity, b[i] / hi) : 0;
			if (fabs((double)out[i].quantity - share) > 1.0 + 1e-6) {
				pmt_dump("proportional", t.bids, t.n, t.supply);
				TEST_FAIL("case %d: bid %zu gets %lld, share %.4f", k, i,
					  (long long)out[i].quantity, share);
			}
			ASSERT_LE(out[i].payment, pm_bid_value(&t.bids[i], out[i].quantity));
			total += out[i].quantity;
		}
		ASSERT_LE(total, t.supply);
		pm_destroy(p);
	}
	gsl_rng_free(rng);
	printf("proportional: 5000 random instances within one unit of the real water filling\n");
}

int main(void)
{
	hand_cap();
	hand_ties();
	hand_delta();
	hand_surplus();
	hand_min();
	printf("proportional: hand-computed cases pass\n");
	reference();
	return 0;
}
