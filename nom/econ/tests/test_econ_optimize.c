/* test_econ_optimize.c: the Pareto frontier, the optimizer and the demand curve.
 *
 * Two kinds of checks: on a thesis-like memcached profile, the optimizer picks the points the
 * thesis reports (14 us for throughput at a low price under many clients, 0 us for latency);
 * on thousands of random profiles and prices, against brute force: the pick is never a
 * dominated point, it is the best point overall whenever some point makes money, the menu and
 * the one-call optimizer agree, and the demand curve ends where the pick is. */
#include <errno.h>
#include <math.h>
#include <stdlib.h>

#include "nom/econ_optimize.h"
#include "test.h"

/* memcached under many clients, shaped like the thesis's numbers: throughput peaks at 14 us
 * (38K ops/s at 74 us for delay 10, 40K at 77 us for delay 14), latency grows with delay. */
static struct econ_point many[21];
static struct econ_point single[21];

static void build_thesis_like(void)
{
	for (int i = 0; i <= 20; i++) {
		double d = 2.0 * i;
		double tput = d <= 14 ? 33000 + 500 * d : 40000 - 500 * (d - 14);
		double lat = d <= 14 ? 66.5 + 0.75 * d : 77 + (d - 14);
		many[i] = (struct econ_point){d, tput, lat, lat / 10, 1100, 0, 0, 0};
		double ls = 30 + d;
		single[i] = (struct econ_point){d, 1e6 / ls, ls, ls / 10, 1100, 0, 0, 0};
	}
}

static void test_thesis_like_picks(void)
{
	struct econ_level lmany = {.name = "many", .points = many, .npoints = 21};
	struct econ_level lsingle = {.name = "single", .points = single, .npoints = 21};
	struct econ_utility u;
	size_t idx[32];
	int err;

	build_thesis_like();
	/* Frontier under many: delays 0..14 (throughput rises with latency); 16..40 are
	 * dominated by 14 (less throughput, more latency). */
	size_t nf = econ_frontier(many, 21, ECON_TPUT_LATENCY, idx, 32);
	ASSERT_EQ(nf, 8);
	for (size_t k = 0; k < nf; k++)
		ASSERT_NEAR(many[idx[k]].delay_us, 2.0 * k, 0);
	/* Under a single client, delay 0 dominates everything. */
	ASSERT_EQ(econ_frontier(single, 21, ECON_TPUT_LATENCY_JITTER, idx, 32), 1);
	ASSERT_NEAR(single[idx[0]].delay_us, 0, 0);

	econ_utility_thesis(ECON_PENALTY, &u);
	/* $1/Gbit, many clients: throughput wins: 14 us. */
	const struct econ_point *p = econ_optimize(&lmany, &u, ECON_THESIS_PRICE_LOW, &err);
	ASSERT_OK(err);
	ASSERT_NEAR(p->delay_us, 14, 0);
	/* Still 14 at $10 under the penalty (no point is near the 750 us bound). */
	p = econ_optimize(&lmany, &u, ECON_THESIS_PRICE_HIGH, &err);
	ASSERT_NEAR(p->delay_us, 14, 0);
	/* A single client: 0 us, at any price. */
	p = econ_optimize(&lsingle, &u, ECON_THESIS_PRICE_HIGH, &err);
	ASSERT_NEAR(p->delay_us, 0, 0);
	/* An SLA bound at 75 us (X = 1) makes latency worth more than throughput: 0 us. */
	u.l0_us = 75;
	u.x = 1;
	p = econ_optimize(&lmany, &u, ECON_THESIS_PRICE_LOW, &err);
	ASSERT_NEAR(p->delay_us, 0, 0);
	/* The thesis's bonus is small next to alpha: throughput still wins, 14 us. */
	econ_utility_thesis(ECON_BONUS, &u);
	p = econ_optimize(&lmany, &u, ECON_THESIS_PRICE_LOW, &err);
	ASSERT_NEAR(p->delay_us, 14, 0);
	/* A refund that is gone by 80 us makes low-latency points the only valuable ones. */
	econ_utility_thesis(ECON_REFUND, &u);
	u.beta_per_ms = 250; /* a = 20 - 0.25 * L[us]: 0 at 80 us */
	p = econ_optimize(&lmany, &u, 1.0, &err);
	ASSERT_NEAR(p->delay_us, 0, 0);
	/* Static strategies' points. */
	ASSERT_NEAR(econ_level_best_tput(&lmany)->delay_us, 14, 0);
	ASSERT_NEAR(econ_level_best_latency(&lmany)->delay_us, 0, 0);
}

static double frand(double lo, double hi)
{
	return lo + (hi - lo) * ((double)rand() / RAND_MAX);
}

static double util(const struct econ_utility *u, const struct econ_point *p, double price)
{
	return econ_utility_rate(u, econ_point_gbps(p), p->latency_us, p->jitter_us, price);
}

static void test_random_against_brute_force(void)
{
	struct econ_point pts[24];
	struct econ_segment segs[ECON_MENU_MAX];
	srand(12345);

	for (int iter = 0; iter < 20000; iter++) {
		size_t n = 1 + (size_t)(rand() % 24);
		for (size_t i = 0; i < n; i++) {
			/* Coarse values so that ties and duplicates happen. */
			pts[i] = (struct econ_point){
				.delay_us = (double)i * 2,
				.tput_rps = 1000.0 * (1 + rand() % 12),
				.latency_us = 20.0 * (1 + rand() % 40),
				.jitter_us = 50.0 * (rand() % 8),
				.bytes_per_request = rand() % 3 ? 1000 : 1500,
			};
		}
		struct econ_level lvl = {.name = "x", .points = pts, .npoints = n};
		struct econ_utility u;
		econ_utility_thesis((enum econ_kind)(iter % 3), &u);
		if (iter % 7 == 0)
			u.gamma_ms = 5;
		double price = frand(0, 25);
		struct econ_menu m;
		ASSERT_OK(econ_menu_build(&lvl, &u, &m));
		enum econ_criteria c = econ_utility_criteria(&u);

		/* The menu is exactly the undominated points, without duplicates. */
		size_t undominated = 0;
		for (size_t i = 0; i < n; i++)
			undominated += !econ_dominated(pts, n, i, c);
		ASSERT_TRUE(m.n <= undominated);
		for (size_t k = 0; k < m.n; k++) {
			size_t i = (size_t)(m.choices[k].point - pts);
			ASSERT_TRUE(!econ_dominated(pts, n, i, c));
			ASSERT_TRUE(k == 0 || m.choices[k].tput_gbps >= m.choices[k - 1].tput_gbps);
		}

		size_t k = econ_menu_pick(&m, price);
		const struct econ_point *pick = m.choices[k].point;
		int err;
		ASSERT_TRUE(econ_optimize(&lvl, &u, price, &err) == pick);
		ASSERT_TRUE(!econ_dominated(pts, n, (size_t)(pick - pts), c));
		/* Brute force over every point (dominated ones included). */
		double best = -INFINITY;
		for (size_t i = 0; i < n; i++)
			best = fmax(best, util(&u, &pts[i], price));
		double got = util(&u, pick, price);
		if (best >= 0 && got != best)
			TEST_FAIL("iter %d: pick %g $/s, brute force %g $/s", iter, got, best);
		/* Among frontier points the pick is always the best. */
		for (size_t j = 0; j < m.n; j++)
			ASSERT_TRUE(util(&u, m.choices[j].point, price) <= got);

		/* The demand curve at this price ends at the pick's throughput (when the pick
		 * makes money and is not tied with another point). */
		size_t ns = econ_menu_curve(&m, 1.0, segs, ECON_MENU_MAX);
		double demand = 0, prev = INFINITY;
		for (size_t s = 0; s < ns; s++) {
			ASSERT_TRUE(segs[s].gbps > 0);
			if (!(segs[s].value_per_gbit < prev))
				TEST_FAIL("iter %d seg %zu of %zu: %.17g after %.17g", iter, s, ns, segs[s].value_per_gbit, prev);
			prev = segs[s].value_per_gbit;
			if (segs[s].value_per_gbit > price)
				demand += segs[s].gbps;
		}
		bool tied = false;
		for (size_t j = 0; j < m.n; j++)
			if (j != k && fabs(util(&u, m.choices[j].point, price) - got) < 1e-9)
				tied = true;
		if (got > 1e-9 && !tied)
			ASSERT_NEAR(demand, m.choices[k].tput_gbps, 1e-9);
		if (got < 0)
			ASSERT_NEAR(demand, 0, 0);
	}
}

static void test_capped_pick_and_curve(void)
{
	struct econ_level lmany = {.name = "many", .points = many, .npoints = 21};
	struct econ_utility u;
	struct econ_menu m;
	struct econ_segment segs[ECON_MENU_MAX];

	build_thesis_like();
	econ_utility_thesis(ECON_REFUND, &u);
	ASSERT_OK(econ_menu_build(&lmany, &u, &m));
	/* Unlimited bandwidth: the best-throughput point. */
	ASSERT_NEAR(m.choices[econ_menu_pick_capped(&m, 1.0, INFINITY)].point->delay_us, 14, 0);
	/* A cap below the slowest point: every point is capped to the same throughput, so
	 * the one with the best value per Gbit (lowest latency) wins. */
	ASSERT_NEAR(m.choices[econ_menu_pick_capped(&m, 1.0, 0.1)].point->delay_us, 0, 0);
	/* Half the load: same rule at half the throughput. */
	ASSERT_NEAR(m.choices[econ_menu_pick_capped(&m, 0.5, INFINITY)].point->delay_us, 14, 0);

	/* Curve: quantities sum to the best-throughput point's throughput times scale; the
	 * value of the whole curve equals that point's value rate. */
	size_t ns = econ_menu_curve(&m, 0.5, segs, ECON_MENU_MAX);
	ASSERT_TRUE(ns >= 1);
	double q = 0, v = 0;
	for (size_t s = 0; s < ns; s++) {
		q += segs[s].gbps;
		v += segs[s].gbps * segs[s].value_per_gbit;
	}
	const struct econ_choice *top = &m.choices[m.n - 1];
	ASSERT_NEAR(q, 0.5 * top->tput_gbps, 1e-12);
	ASSERT_NEAR(v, 0.5 * top->tput_gbps * top->value_per_gbit, 1e-9);
	ASSERT_EQ(econ_menu_curve(&m, 0, segs, ECON_MENU_MAX), 0);

	/* Bad inputs. */
	struct econ_level empty = {.name = "e", .points = many, .npoints = 0};
	ASSERT_EQ(econ_menu_build(&empty, &u, &m), -EINVAL);
	u.alpha = NAN;
	ASSERT_EQ(econ_menu_build(&lmany, &u, &m), -EINVAL);
}

/* Hybrid polling priced (issue 19), by hand. One client, W = 0, refund (alpha 20 $/Gbit,
 * beta 10 $/Gbit per ms), traffic at P = 1 $/Gbit:
 *   no spin:   20,000 req/s x 1000 B = 0.16 Gbit/s at 60 us, 25 us CPU/request = 0.5 cores
 *              a = 20 - 10 x 0.060 = 19.4;  U = 0.16 x 18.4 - 0.5 c = 2.944 - 0.5 c
 *   spin 50us: 30,000 req/s = 0.24 Gbit/s at 40 us, 30 us CPU/request = 0.9 cores
 *              a = 20 - 10 x 0.040 = 19.6;  U = 0.24 x 18.6 - 0.9 c = 4.464 - 0.9 c
 * with c the core price in $/s: spinning pays while 1.52 > 0.4 c, c < 3.8 $/s. */
static void test_spin_priced(void)
{
	struct econ_point pts[2] = {
		{.delay_us = 0, .tput_rps = 20000, .latency_us = 60, .jitter_us = 5,
		 .bytes_per_request = 1000, .spin_us = 0, .cpu_us = 25},
		{.delay_us = 0, .tput_rps = 30000, .latency_us = 40, .jitter_us = 5,
		 .bytes_per_request = 1000, .spin_us = 50, .cpu_us = 30},
	};
	struct econ_level lvl = {.name = "single", .points = pts, .npoints = 2};
	struct econ_utility u;
	struct econ_menu m;

	econ_utility_thesis(ECON_REFUND, &u);
	ASSERT_NEAR(econ_point_cores(&pts[0]), 0.5, 1e-12);
	ASSERT_NEAR(econ_point_cores(&pts[1]), 0.9, 1e-12);
	ASSERT_OK(econ_menu_build(&lvl, &u, &m));
	/* The spinning point beats the other on throughput and latency, not on CPU: both stay. */
	ASSERT_EQ(m.n, 2);
	/* Cores free (or unpriced: the old pick): spin. */
	ASSERT_NEAR(m.choices[econ_menu_pick(&m, 1.0)].point->spin_us, 50, 0);
	ASSERT_NEAR(m.choices[econ_menu_pick_priced(&m, 1.0, 0)].point->spin_us, 50, 0);
	/* Cheap cores, 1 $/s: U = 2.444 against 3.564: spin. */
	ASSERT_NEAR(m.choices[econ_menu_pick_priced(&m, 1.0, 1.0)].point->spin_us, 50, 0);
	/* Just under the break-even 3.8 $/s: 1.044 against 1.044 + 0.4 x 0.1 = spin; just over
	 * (3.9 $/s): 0.994 against 0.954: no spin. */
	ASSERT_NEAR(m.choices[econ_menu_pick_priced(&m, 1.0, 3.7)].point->spin_us, 50, 0);
	ASSERT_NEAR(m.choices[econ_menu_pick_priced(&m, 1.0, 3.9)].point->spin_us, 0, 0);
	/* Expensive cores, 10 $/s: -2.056 against -4.536: no spin. */
	ASSERT_NEAR(m.choices[econ_menu_pick_priced(&m, 1.0, 10.0)].point->spin_us, 0, 0);
	/* Without a CPU measurement the spin is free and the faster point dominates. */
	pts[0].cpu_us = pts[1].cpu_us = 0;
	ASSERT_OK(econ_menu_build(&lvl, &u, &m));
	ASSERT_EQ(m.n, 1);
	ASSERT_NEAR(m.choices[econ_menu_pick_priced(&m, 1.0, 10.0)].point->spin_us, 50, 0);
}

int main(void)
{
	test_spin_priced();
	test_thesis_like_picks();
	test_random_against_brute_force();
	test_capped_pick_and_curve();
	printf("test_econ_optimize: ok\n");
	return 0;
}
