/* test_pm_mpsp.c: MPSP (range bids, reserve, exchange penalty): hand-computed cases, then
 * exhaustive enumeration as the reference.
 *
 * The reference enumerates every feasible allocation (each bidder 0 or a quantity in its
 * ranges, total within the supply) to find the best objective sum g_i(a_i) with
 * g_i(a) = v_i(a) - r a - lambda |a - held_i|, and each bidder's W_{-i} the same way without
 * it; the model's DP must reach the optimum and charge
 * clamp(W_{-i} - lambda held_i - (W* - v_i(a_i)), 0, v_i(a_i)). */
#include <gsl/gsl_rng.h>

#include "pm_testutil.h"
#include "test.h"

static struct pm_result res;
static struct pm_outcome out[PMT_MAX_BIDS];

static void hand_ranges(void)
{
	/* Q = 10. A(1) 5c in [6, 8]; B(2) 4c in [5, 5]; C(3) 3c in [3, 4].
	 * Options: A 0/6/7/8, B 0/5, C 0/3/4. Best: A 7 + C 3 = 35 + 9 = 44c (A 8 alone: 40;
	 * A 6 + C 4: 42; B 5 + C 4: 32; A with B exceeds 10). W* = 44.
	 * W_{-A} = B 5 + C 4 = 32: c_A = 32 - (44 - 35) = 23c.
	 * W_{-B} = 44: c_B = 44 - (44 - 0) = 0.
	 * W_{-C} = A 8 = 40: c_C = 40 - (44 - 9) = 5c.
	 * Revenue 28c over 10 units: price 2.8c. */
	struct pm_instance *m = pmt_create("mpsp", "");
	struct pm_range ra[] = {{6, 8}}, rb[] = {{5, 5}}, rc[] = {{3, 4}};
	struct pm_bid b[] = {pmt_flat(1, 8, 5 * CENT), pmt_flat(2, 5, 4 * CENT),
			     pmt_flat(3, 4, 3 * CENT)};
	b[0].ranges = ra, b[0].nranges = 1;
	b[1].ranges = rb, b[1].nranges = 1;
	b[2].ranges = rc, b[2].nranges = 1;
	pmt_clear(m, 10, b, 3, &res, out);
	ASSERT_EQ(out[0].quantity, 7);
	ASSERT_EQ(out[1].quantity, 0);
	ASSERT_EQ(out[2].quantity, 3);
	ASSERT_EQ(out[0].payment, 23 * CENT);
	ASSERT_EQ(out[1].payment, 0);
	ASSERT_EQ(out[2].payment, 5 * CENT);
	ASSERT_EQ(res.revenue, 28 * CENT);
	ASSERT_EQ(res.price, 28 * CENT / 10);
	pm_destroy(m);
}

static void hand_penalty(void)
{
	/* Q = 4, lambda = 1c per unit moved. B(2) holds 4 units and bids 5c; A(1) holds
	 * nothing and bids 6c, both over [0, 4].
	 * A gets k: g_A(k) + g_B(4 - k) = (6k - k) + (5(4 - k) - k) = 20 - k: best k = 0, B
	 * keeps its 4. W* = 20.
	 * c_B = W_{-B} - lambda held_B - (W* - v_B) = 20 - 4 - (20 - 20) = 16c
	 * (W_{-B} = g_A(4) = 24 - 4 = 20). c_A = 20 - 0 - (20 - 0) = 0.
	 * With lambda = 0, A wins all 4 (24 > 20) and pays B's displaced 20c. */
	struct pm_instance *m = pmt_create("mpsp", "lambda=$0.01");
	struct pm_bid b[] = {pmt_flat(1, 4, 6 * CENT), pmt_flat(2, 4, 5 * CENT)};
	b[1].held = 4;
	pmt_clear(m, 4, b, 2, &res, out);
	ASSERT_EQ(out[0].quantity, 0);
	ASSERT_EQ(out[1].quantity, 4);
	ASSERT_EQ(out[1].payment, 16 * CENT);
	ASSERT_EQ(out[0].payment, 0);
	pm_destroy(m);
	m = pmt_create("mpsp", "lambda=0");
	pmt_clear(m, 4, b, 2, &res, out);
	ASSERT_EQ(out[0].quantity, 4);
	ASSERT_EQ(out[1].quantity, 0);
	ASSERT_EQ(out[0].payment, 20 * CENT);
	pm_destroy(m);
}

static void hand_reserve(void)
{
	/* Reserve 4c, Q = 10: A(1) 5c over [0, 6]; B(2) 3c over [0, 5] (below the reserve).
	 * g_A(a) = (5 - 4) a, best a = 6; g_B(b) = (3 - 4) b < 0, b = 0. W* = 6c.
	 * c_A = W_{-A} - (W* - v_A) = 0 - (6 - 30) = 24c = 6 units at the 4c reserve. */
	struct pm_instance *m = pmt_create("mpsp", "reserve=$0.04");
	struct pm_bid b[] = {pmt_flat(1, 6, 5 * CENT), pmt_flat(2, 5, 3 * CENT)};
	pmt_clear(m, 10, b, 2, &res, out);
	ASSERT_EQ(out[0].quantity, 6);
	ASSERT_EQ(out[1].quantity, 0);
	ASSERT_EQ(out[0].payment, 24 * CENT);
	pm_destroy(m);
}

static void hand_surplus_min_chunk(void)
{
	/* Q = 100: A(1) 5c over [2, 3], B(2) 4c with min 1 max 1: both served in full, nobody
	 * displaced, payments 0, price = reserve 0 ... revenue 0 over 4 units: price 0. */
	struct pm_instance *m = pmt_create("mpsp", "");
	struct pm_range ra[] = {{2, 3}};
	struct pm_bid b[] = {pmt_flat(1, 3, 5 * CENT), pmt_flat(2, 1, 4 * CENT)};
	b[0].ranges = ra, b[0].nranges = 1;
	b[1].min_quantity = 1;
	pmt_clear(m, 100, b, 2, &res, out);
	ASSERT_EQ(out[0].quantity, 3);
	ASSERT_EQ(out[1].quantity, 1);
	ASSERT_EQ(res.revenue, 0);
	ASSERT_EQ(res.price, 0);
	/* min_quantity: A needs at least 3 of Q = 2: it gets nothing rather than 2. */
	struct pm_bid c[] = {pmt_flat(1, 5, 5 * CENT)};
	c[0].min_quantity = 3;
	pmt_clear(m, 2, c, 1, &res, out);
	ASSERT_EQ(out[0].quantity, 0);
	/* No bids. */
	pmt_clear(m, 2, NULL, 0, &res, out);
	ASSERT_EQ(res.allocated, 0);
	pm_destroy(m);
	/* chunk 2, Q = 4: A wants exactly 3 (no even quantity: nothing); B 1c over [2, 4]
	 * gets 4. */
	m = pmt_create("mpsp", "chunk=2");
	struct pm_range r3[] = {{3, 3}}, r24[] = {{2, 4}};
	struct pm_bid d[] = {pmt_flat(1, 3, 9 * CENT), pmt_flat(2, 4, 1 * CENT)};
	d[0].ranges = r3, d[0].nranges = 1;
	d[1].ranges = r24, d[1].nranges = 1;
	pmt_clear(m, 4, d, 2, &res, out);
	ASSERT_EQ(out[0].quantity, 0);
	ASSERT_EQ(out[1].quantity, 4);
	pm_destroy(m);
}

/* ---- Exhaustive reference ---- */

static bool allowed(const struct pm_bid *b, int64_t a)
{
	if (a == 0)
		return true;
	if (a < b->min_quantity || a > b->max_quantity)
		return false;
	if (!b->ranges)
		return true;
	for (size_t k = 0; k < b->nranges; k++)
		if (a >= b->ranges[k].min && a <= b->ranges[k].max)
			return true;
	return false;
}

static __int128 g(const struct pm_bid *b, int64_t a, money_t r, money_t lambda)
{
	int64_t moved = a > b->held ? a - b->held : b->held - a;
	return (__int128)pm_bid_value(b, a) - (__int128)r * a - (__int128)lambda * moved;
}

/* Best sum of g over bidders i..n-1 (skipping skip) with cap units left. */
static __int128 best(const struct pm_bid *b, size_t n, size_t i, size_t skip, int64_t cap,
		     money_t r, money_t lambda)
{
	if (i == n)
		return 0;
	if (i == skip)
		return best(b, n, i + 1, skip, cap, r, lambda);
	__int128 top = g(&b[i], 0, r, lambda) + best(b, n, i + 1, skip, cap, r, lambda);
	for (int64_t a = 1; a <= cap && a <= b[i].max_quantity; a++) {
		if (!allowed(&b[i], a))
			continue;
		__int128 v = g(&b[i], a, r, lambda) + best(b, n, i + 1, skip, cap - a, r, lambda);
		if (v > top)
			top = v;
	}
	return top;
}

static void exhaustive(void)
{
	gsl_rng *rng = gsl_rng_alloc(gsl_rng_mt19937);
	struct pmt_inst t;
	static const char *params[] = {"", "reserve=$0.03", "lambda=$0.02",
				       "reserve=$0.05, lambda=$0.01"};
	static const money_t rv[] = {0, 3 * CENT, 0, 5 * CENT}, lv[] = {0, 0, 2 * CENT, 1 * CENT};

	for (int k = 0; k < 4000; k++) {
		gsl_rng_set(rng, (unsigned long)k + 99);
		pmt_random(rng, &t, 5, PMT_CURVES | PMT_MINS | PMT_RANGES | PMT_HELD | PMT_SMALL);
		if (t.supply > 10)
			t.supply = 10;
		struct pm_instance *m = pmt_create("mpsp", params[k % 4]);
		money_t r = rv[k % 4], l = lv[k % 4];
		pmt_clear(m, t.supply, t.bids, t.n, &res, out);
		__int128 got = 0;
		for (size_t i = 0; i < t.n; i++) {
			if (!allowed(&t.bids[i], out[i].quantity)) {
				pmt_dump("mpsp", t.bids, t.n, t.supply);
				TEST_FAIL("case %d: bid %zu got %lld outside its ranges", k, i,
					  (long long)out[i].quantity);
			}
			got += g(&t.bids[i], out[i].quantity, r, l);
		}
		__int128 W = best(t.bids, t.n, 0, SIZE_MAX, t.supply, r, l);
		if (got != W) {
			pmt_dump("mpsp not optimal", t.bids, t.n, t.supply);
			TEST_FAIL("case %d: objective %lld, optimum %lld", k, (long long)got,
				  (long long)W);
		}
		for (size_t i = 0; i < t.n; i++) {
			money_t v = pm_bid_value(&t.bids[i], out[i].quantity);
			__int128 c = best(t.bids, t.n, 0, i, t.supply, r, l) - (__int128)l * t.bids[i].held -
				     (W - v);
			if (c < 0)
				c = 0;
			if (c > v)
				c = v;
			if (out[i].payment != (money_t)c) {
				pmt_dump("mpsp payment", t.bids, t.n, t.supply);
				TEST_FAIL("case %d: bid %zu pays %lld, expected %lld", k, i,
					  (long long)out[i].payment, (long long)c);
			}
		}
		pm_destroy(m);
	}
	gsl_rng_free(rng);
	printf("mpsp: 4000 random instances match exhaustive search (allocation and payments)\n");
}

static void chunk_growth(void)
{
	/* 100 bids over Q = 10000 with max_cells = 103 x 11: at most 10 chunks per row, so the
	 * chunk grows to 1000 and every allocation is a multiple of it. */
	enum { N = 100 };
	static struct pm_bid b[N];
	static struct pm_outcome o[N];
	struct pm_result rs;
	for (size_t i = 0; i < N; i++)
		b[i] = pmt_flat(i + 1, 3000, (money_t)(1 + i % 7) * CENT);
	struct pm_instance *m = pmt_create("mpsp", "max_cells=1133");
	pmt_clear(m, 10000, b, N, &rs, o);
	for (size_t i = 0; i < N; i++)
		ASSERT_EQ(o[i].quantity % 1000, 0);
	ASSERT_EQ(rs.allocated, 10000);
	pm_destroy(m);
}

int main(void)
{
	hand_ranges();
	hand_penalty();
	hand_reserve();
	hand_surplus_min_chunk();
	printf("mpsp: hand-computed cases pass\n");
	exhaustive();
	chunk_growth();
	return 0;
}
