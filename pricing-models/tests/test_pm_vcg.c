/* test_pm_vcg.c: multi-unit VCG: hand-computed cases, then a brute-force reference.
 *
 * The reference solves the welfare maximization by dynamic programming over bidders and units
 * (no greedy, no sorting) and computes each Clarke payment W*_{-i} - (W* - v_i(a_i)) by
 * re-solving without i: the definition, O(n K^2) per solve. The model must reach the optimal
 * welfare and charge exactly those payments. */
#include <gsl/gsl_rng.h>

#include "pm_testutil.h"
#include "test.h"

static struct pm_result res;
static struct pm_outcome out[PMT_MAX_BIDS];

static void hand_basic(void)
{
	/* Supply 3. A(1) curve 2 @ 10c, 1 @ 4c; B(2) 2 @ 6c. Units 10,10 (A), 6,6 (B), 4 (A).
	 * Allocation: A 2, B 1. W* = 20 + 6 = 26c.
	 * A: W_{-A} = B's 12c; p_A = 12 - (26 - 20) = 6c (the rejected B unit at 6c plus, A's
	 *    own 4c unit skipped, one reserve unit at 0).
	 * B: W_{-B} = A's 3 units 24c; p_B = 24 - (26 - 6) = 4c (A's rejected 4c unit).
	 * Price: best rejected unit, 6c. Revenue 10c. */
	struct pm_instance *v = pmt_create("vcg", "");
	struct pm_segment ca[] = {{2, 10 * CENT}, {1, 4 * CENT}};
	struct pm_bid b[] = {pmt_flat(1, 3, 0), pmt_flat(2, 2, 6 * CENT)};
	b[0].curve = ca;
	b[0].ncurve = 2;
	pmt_clear(v, 3, b, 2, &res, out);
	ASSERT_EQ(out[0].quantity, 2);
	ASSERT_EQ(out[1].quantity, 1);
	ASSERT_EQ(out[0].payment, 6 * CENT);
	ASSERT_EQ(out[1].payment, 4 * CENT);
	ASSERT_EQ(res.price, 6 * CENT);
	ASSERT_EQ(res.revenue, 10 * CENT);
	ASSERT_EQ(res.welfare, 26 * CENT);
	pm_destroy(v);
}

static void hand_ties(void)
{
	/* Supply 2, A(5) 2 @ 5c, B(2) 2 @ 5c: equal units go to the lower id, B gets 2.
	 * p_B = W_{-B} - (W* - v_B) = 10 - (10 - 10) = 10c: A's two displaced units. */
	struct pm_instance *v = pmt_create("vcg", "");
	struct pm_bid b[] = {pmt_flat(5, 2, 5 * CENT), pmt_flat(2, 2, 5 * CENT)};
	pmt_clear(v, 2, b, 2, &res, out);
	ASSERT_EQ(out[0].quantity, 0);
	ASSERT_EQ(out[1].quantity, 2);
	ASSERT_EQ(out[1].payment, 10 * CENT);
	ASSERT_EQ(res.price, 5 * CENT);
	pm_destroy(v);
}

static void hand_reserve(void)
{
	/* Reserve 5c (player zero values every unit at 5c), supply 4. A(1) 3 @ 8c; B(2) curve
	 * 2 @ 6c, 2 @ 3c (the 3c units never beat the reserve). Allocation A 3, B 1.
	 * W* = 24 + 6 = 30c (no unit left to player zero).
	 * A: without A, B takes 2 @ 6c and player zero 2 @ 5c: 22c; p_A = 22 - (30 - 24) = 16c.
	 * B: without B, A 24c + player zero 1 @ 5c = 29c; p_B = 29 - (30 - 6) = 5c.
	 * Price: best rejected unit at or above the reserve, B's second 6c unit. */
	struct pm_instance *v = pmt_create("vcg", "reserve=$0.05");
	struct pm_segment cb[] = {{2, 6 * CENT}, {2, 3 * CENT}};
	struct pm_bid b[] = {pmt_flat(1, 3, 8 * CENT), pmt_flat(2, 4, 0)};
	b[1].curve = cb;
	b[1].ncurve = 2;
	pmt_clear(v, 4, b, 2, &res, out);
	ASSERT_EQ(out[0].quantity, 3);
	ASSERT_EQ(out[1].quantity, 1);
	ASSERT_EQ(out[0].payment, 16 * CENT);
	ASSERT_EQ(out[1].payment, 5 * CENT);
	ASSERT_EQ(res.price, 6 * CENT);
	pm_destroy(v);
}

static void hand_own_rejected(void)
{
	/* Supply 2. A(1) 1 @ 10c then 1 @ 8.5c; B(2) 1 @ 9c; C(3) 1 @ 8c.
	 * Units 10 (A), 9 (B), 8.5 (A), 8 (C): A 1, B 1; rejected A 8.5, C 8. W* = 19c.
	 * A: its own 8.5c unit is skipped: p_A = C's 8c (W_{-A} = 9 + 8 = 17; 17 - (19 - 10)).
	 * B: p_B = A's 8.5c (W_{-B} = 10 + 8.5 = 18.5; 18.5 - (19 - 9)). */
	struct pm_instance *v = pmt_create("vcg", "");
	struct pm_segment ca[] = {{1, 10 * CENT}, {1, 85 * CENT / 10}};
	struct pm_bid b[] = {pmt_flat(1, 2, 0), pmt_flat(2, 1, 9 * CENT), pmt_flat(3, 1, 8 * CENT)};
	b[0].curve = ca;
	b[0].ncurve = 2;
	pmt_clear(v, 2, b, 3, &res, out);
	ASSERT_EQ(out[0].quantity, 1);
	ASSERT_EQ(out[1].quantity, 1);
	ASSERT_EQ(out[0].payment, 8 * CENT);
	ASSERT_EQ(out[1].payment, 85 * CENT / 10);
	pm_destroy(v);
}

static void hand_surplus_and_zero(void)
{
	/* Supply 10, demand 2 + 3: everyone served, nothing displaced, payments 0, price =
	 * reserve 0. Then no bids at all, and a zero-value bid: nothing allocated. */
	struct pm_instance *v = pmt_create("vcg", "");
	struct pm_bid b[] = {pmt_flat(1, 2, 10 * CENT), pmt_flat(2, 3, 7 * CENT), pmt_flat(3, 4, 0)};
	pmt_clear(v, 10, b, 3, &res, out);
	ASSERT_EQ(out[0].quantity, 2);
	ASSERT_EQ(out[1].quantity, 3);
	ASSERT_EQ(out[2].quantity, 0);
	ASSERT_EQ(res.revenue, 0);
	ASSERT_EQ(res.price, 0);
	ASSERT_EQ(res.welfare, 41 * CENT);
	pmt_clear(v, 10, NULL, 0, &res, out);
	ASSERT_EQ(res.allocated, 0);
	ASSERT_EQ(res.price, 0);
	pm_destroy(v);
}

/* ---- Brute-force reference ---- */

#define KMAX 64

/* Best sum of v_j(a_j) + r (K - sum a_j) over bidders in mask with sum a_j <= K. */
static money_t solve(const struct pm_bid *b, size_t n, size_t skip, int64_t K, money_t r)
{
	money_t best[KMAX + 1], next[KMAX + 1];
	for (int64_t c = 0; c <= K; c++)
		best[c] = r * c; /* what is left goes to player zero */
	for (size_t i = 0; i < n; i++) {
		if (i == skip)
			continue;
		for (int64_t c = 0; c <= K; c++) {
			next[c] = best[c];
			for (int64_t a = 1; a <= c && a <= b[i].max_quantity; a++) {
				money_t v = pm_bid_value(&b[i], a) + best[c - a];
				if (v > next[c])
					next[c] = v;
			}
		}
		for (int64_t c = 0; c <= K; c++)
			best[c] = next[c];
	}
	return best[K];
}

static void brute_force(void)
{
	gsl_rng *r = gsl_rng_alloc(gsl_rng_mt19937);
	struct pmt_inst t;
	static const char *reserves[] = {"reserve=0", "reserve=$0.03", "reserve=$0.2"};
	static const money_t rv[] = {0, 3 * CENT, 20 * CENT};

	for (int k = 0; k < 3000; k++) {
		gsl_rng_set(r, (unsigned long)k + 1);
		pmt_random(r, &t, 6, PMT_CURVES);
		if (t.supply > KMAX)
			t.supply = KMAX;
		struct pm_instance *v = pmt_create("vcg", reserves[k % 3]);
		money_t rr = rv[k % 3];
		pmt_clear(v, t.supply, t.bids, t.n, &res, out);
		money_t W = solve(t.bids, t.n, SIZE_MAX, t.supply, rr);
		money_t got = res.welfare + rr * (t.supply - res.allocated);
		if (got != W) {
			pmt_dump("vcg not optimal", t.bids, t.n, t.supply);
			TEST_FAIL("case %d: welfare %lld, optimum %lld", k, (long long)got, (long long)W);
		}
		for (size_t i = 0; i < t.n; i++) {
			money_t vi = pm_bid_value(&t.bids[i], out[i].quantity);
			money_t want = solve(t.bids, t.n, i, t.supply, rr) - (W - vi);
			if (out[i].payment != want) {
				pmt_dump("vcg payment", t.bids, t.n, t.supply);
				TEST_FAIL("case %d: bid %zu pays %lld, Clarke payment %lld", k, i,
					  (long long)out[i].payment, (long long)want);
			}
		}
		pm_destroy(v);
	}
	gsl_rng_free(r);
	printf("vcg: 3000 random instances match the brute-force optimum and Clarke payments\n");
}

int main(void)
{
	hand_basic();
	hand_ties();
	hand_reserve();
	hand_own_rejected();
	hand_surplus_and_zero();
	printf("vcg: 5 hand-computed cases pass\n");
	brute_force();
	return 0;
}
