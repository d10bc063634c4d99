/* test_pm_psp.c: Lazar-Semret PSP: hand-computed cases and the naive O(n^2) definition.
 *
 * The naive reference computes a_j(s) and a_j(s_-i) straight from the definitions of markets.md
 * section 1.2 (player zero bidding (Q, r)) and c_i = sum_{j != i} p_j [a_j(s_-i) - a_j(s)],
 * capped at p_i a_i as models.h states. The model's O(n log n) sweep must agree exactly on
 * every allocation and payment over many random instances full of ties. */
#include <gsl/gsl_rng.h>

#include "pm_testutil.h"
#include "test.h"

static struct pm_result res;
static struct pm_outcome out[PMT_MAX_BIDS];

static void hand_basic(void)
{
	/* Q = 10. A(1) (6, 5c), B(2) (6, 3c), C(3) (4, 2c); player zero (10, 0).
	 * sigma_A = 10 -> a_A = 6; sigma_B = 10 - 6 = 4 -> a_B = 4; sigma_C = 10 - 12 < 0 -> 0.
	 * Without A: a_B = 6 (+2), a_C = min(4, 10 - 6) = 4 (+4): c_A = 3 x 2 + 2 x 4 = 14c.
	 * Without B: a_C = 4 (+4): c_B = 2 x 4 = 8c. c_C = 0.
	 * Price: supply runs out at the 3c level. Revenue 22c. */
	struct pm_instance *p = pmt_create("psp", "");
	struct pm_bid b[] = {pmt_flat(1, 6, 5 * CENT), pmt_flat(2, 6, 3 * CENT),
			     pmt_flat(3, 4, 2 * CENT)};
	pmt_clear(p, 10, b, 3, &res, out);
	ASSERT_EQ(out[0].quantity, 6);
	ASSERT_EQ(out[1].quantity, 4);
	ASSERT_EQ(out[2].quantity, 0);
	ASSERT_EQ(out[0].payment, 14 * CENT);
	ASSERT_EQ(out[1].payment, 8 * CENT);
	ASSERT_EQ(out[2].payment, 0);
	ASSERT_EQ(res.price, 3 * CENT);
	ASSERT_EQ(res.revenue, 22 * CENT);
	pm_destroy(p);
}

static void hand_ties(void)
{
	/* Q = 10, A(1) (6, 4c) and B(2) (6, 4c) tie: each counts the other's 6, so
	 * a = min(6, 10 - 6) = 4 each and 2 units stay unallocated (ties punished).
	 * Without A, B gets 6 (+2): c_A = 4 x 2 = 8c; likewise c_B = 8c.
	 * Q = 6 with the same bids: a = min(6, 0) = 0 each; the literal c_A = 4 x 6 = 24c is
	 * capped at p_A a_A = 0. */
	struct pm_instance *p = pmt_create("psp", "");
	struct pm_bid b[] = {pmt_flat(1, 6, 4 * CENT), pmt_flat(2, 6, 4 * CENT)};
	pmt_clear(p, 10, b, 2, &res, out);
	ASSERT_EQ(out[0].quantity, 4);
	ASSERT_EQ(out[1].quantity, 4);
	ASSERT_EQ(out[0].payment, 8 * CENT);
	ASSERT_EQ(out[1].payment, 8 * CENT);
	ASSERT_EQ(res.allocated, 8);
	ASSERT_EQ(res.price, 4 * CENT);
	pmt_clear(p, 6, b, 2, &res, out);
	ASSERT_EQ(out[0].quantity, 0);
	ASSERT_EQ(out[1].quantity, 0);
	ASSERT_EQ(res.revenue, 0);
	pm_destroy(p);
}

static void hand_reserve(void)
{
	/* Q = 10, reserve 3c: player zero bids (10, 3c). A(1) (4, 5c); B(2) (8, 2c).
	 * sigma_A = 10 (zero's 3c < 5c) -> a_A = 4. sigma_B = 10 - 4 - 10 < 0 -> 0.
	 * sigma_0 = 10 - 4 = 6 -> a_0 = 6. Without A: a_0 = 10 (+4), B still 0:
	 * c_A = 3c x 4 = 12c. Price: no level above the reserve exhausts the supply: 3c. */
	struct pm_instance *p = pmt_create("psp", "reserve=$0.03");
	struct pm_bid b[] = {pmt_flat(1, 4, 5 * CENT), pmt_flat(2, 8, 2 * CENT)};
	pmt_clear(p, 10, b, 2, &res, out);
	ASSERT_EQ(out[0].quantity, 4);
	ASSERT_EQ(out[1].quantity, 0);
	ASSERT_EQ(out[0].payment, 12 * CENT);
	ASSERT_EQ(res.price, 3 * CENT);
	pm_destroy(p);
}

static void hand_surplus_and_zero(void)
{
	/* Q = 20, demand 4 + 6: both served in full, nobody displaced, c = 0, price 0.
	 * A bid at price 0 ties with player zero (Q, 0): sigma = Q - Q = 0, nothing. */
	struct pm_instance *p = pmt_create("psp", "");
	struct pm_bid b[] = {pmt_flat(1, 4, 5 * CENT), pmt_flat(2, 6, 3 * CENT), pmt_flat(3, 5, 0)};
	pmt_clear(p, 20, b, 3, &res, out);
	ASSERT_EQ(out[0].quantity, 4);
	ASSERT_EQ(out[1].quantity, 6);
	ASSERT_EQ(out[2].quantity, 0);
	ASSERT_EQ(res.revenue, 0);
	ASSERT_EQ(res.price, 0);
	pmt_clear(p, 20, NULL, 0, &res, out);
	ASSERT_EQ(res.allocated, 0);
	pm_destroy(p);
}

/* ---- The naive definition ---- */

/* a_j for every j (player zero is index n) with bidder `skip` removed. */
static void naive_alloc(const struct pm_bid *b, size_t n, int64_t Q, money_t r, size_t skip,
			int64_t *a)
{
	for (size_t j = 0; j <= n; j++) {
		a[j] = 0;
		if (j == skip)
			continue;
		money_t pj = j == n ? r : b[j].unit_price;
		int64_t qj = j == n ? Q : b[j].max_quantity;
		__int128 s = Q;
		for (size_t k = 0; k <= n; k++) {
			if (k == j || k == skip)
				continue;
			money_t pk = k == n ? r : b[k].unit_price;
			if (pk >= pj)
				s -= k == n ? Q : b[k].max_quantity;
		}
		a[j] = s < 0 ? 0 : s > qj ? qj : (int64_t)s;
	}
}

static void naive(void)
{
	gsl_rng *rng = gsl_rng_alloc(gsl_rng_mt19937);
	struct pmt_inst t;
	static const char *reserves[] = {"reserve=0", "reserve=$0.03", "reserve=$0.08"};
	static const money_t rv[] = {0, 3 * CENT, 8 * CENT};
	int64_t a[PMT_MAX_BIDS + 1], ax[PMT_MAX_BIDS + 1];

	for (int k = 0; k < 20000; k++) {
		gsl_rng_set(rng, (unsigned long)k + 7);
		pmt_random(rng, &t, PMT_MAX_BIDS, 0);
		money_t r = rv[k % 3];
		struct pm_instance *p = pmt_create("psp", reserves[k % 3]);
		pmt_clear(p, t.supply, t.bids, t.n, &res, out);
		naive_alloc(t.bids, t.n, t.supply, r, SIZE_MAX, a);
		for (size_t i = 0; i < t.n; i++) {
			if (out[i].quantity != a[i]) {
				pmt_dump("psp allocation", t.bids, t.n, t.supply);
				TEST_FAIL("case %d: bid %zu gets %lld, definition %lld", k, i,
					  (long long)out[i].quantity, (long long)a[i]);
			}
			naive_alloc(t.bids, t.n, t.supply, r, i, ax);
			__int128 c = 0;
			for (size_t j = 0; j <= t.n; j++)
				if (j != i)
					c += (__int128)(j == t.n ? r : t.bids[j].unit_price) *
					     (ax[j] - a[j]);
			__int128 cap = (__int128)t.bids[i].unit_price * a[i];
			if (c > cap)
				c = cap;
			if (out[i].payment != (money_t)c) {
				pmt_dump("psp payment", t.bids, t.n, t.supply);
				TEST_FAIL("case %d: bid %zu pays %lld, exclusion compensation %lld", k,
					  i, (long long)out[i].payment, (long long)c);
			}
		}
		pm_destroy(p);
	}
	gsl_rng_free(rng);
	printf("psp: 20000 random instances: O(n log n) payments equal the O(n^2) definition\n");
}

/* Larger instances (up to 300 bids, quantities up to 50, few price levels) reach the
 * Fenwick tree with many pieces in it. */
static void naive_large(void)
{
	enum { N = 300 };
	static struct pm_bid b[N];
	static struct pm_outcome o[N];
	static int64_t a[N + 1], ax[N + 1];
	gsl_rng *rng = gsl_rng_alloc(gsl_rng_mt19937);

	for (int k = 0; k < 60; k++) {
		gsl_rng_set(rng, (unsigned long)k + 1000);
		size_t n = 1 + gsl_rng_uniform_int(rng, N);
		int64_t demand = 0;
		for (size_t i = 0; i < n; i++) {
			b[i] = pmt_flat(3 * i + 1 + gsl_rng_uniform_int(rng, 3),
					(int64_t)gsl_rng_uniform_int(rng, 51),
					(money_t)(1 + gsl_rng_uniform_int(rng, 1 + k % 40)) * CENT);
			demand += b[i].max_quantity;
		}
		int64_t Q = (int64_t)gsl_rng_uniform_int(rng, (unsigned long)demand + 1);
		money_t r = (money_t)(k % 4) * CENT;
		char params[32];
		snprintf(params, sizeof(params), "reserve=0.0%d", k % 4);
		struct pm_instance *p = pmt_create("psp", params);
		struct pm_result rs;
		pmt_clear(p, Q, b, n, &rs, o);
		naive_alloc(b, n, Q, r, SIZE_MAX, a);
		for (size_t i = 0; i < n; i++) {
			ASSERT_EQ(o[i].quantity, a[i]);
			naive_alloc(b, n, Q, r, i, ax);
			__int128 c = 0;
			for (size_t j = 0; j <= n; j++)
				if (j != i)
					c += (__int128)(j == n ? r : b[j].unit_price) * (ax[j] - a[j]);
			__int128 cap = (__int128)b[i].unit_price * a[i];
			ASSERT_EQ(o[i].payment, (money_t)(c > cap ? cap : c));
		}
		pm_destroy(p);
	}
	gsl_rng_free(rng);
	printf("psp: 60 instances of up to 300 bids agree with the definition\n");
}

int main(void)
{
	hand_basic();
	hand_ties();
	hand_reserve();
	hand_surplus_and_zero();
	printf("psp: 4 hand-computed cases pass\n");
	naive();
	naive_large();
	return 0;
}
