/* test_econ_utility.c: the three utility functions against values computed by hand.
 *
 * Each expected value below is worked out in the comment beside it from the thesis's formula
 * (VEE'16 Eq. 2-4) and the thesis's parameters, with Q(z) = P[Z > z] for a standard normal
 * taken from a table (Q(2.5) = 0.0062096653, Q(0.5) = 0.3085375387). */
#include <errno.h>
#include <math.h>

#include "nom/econ.h"
#include "test.h"

static void test_thesis_parameters(void)
{
	struct econ_utility u;

	econ_utility_thesis(ECON_PENALTY, &u);
	ASSERT_EQ(u.kind, ECON_PENALTY);
	ASSERT_NEAR(u.alpha, 20.0, 0);
	ASSERT_NEAR(u.x, 100.0, 0);
	ASSERT_NEAR(u.l0_us, 750.0, 0);
	ASSERT_NEAR(u.beta_per_ms, 10.0, 0);
	ASSERT_NEAR(u.gamma_ms, 0.01, 0);
	ASSERT_TRUE(isinf(u.delta));
	ASSERT_OK(econ_utility_check(&u, NULL));
	ASSERT_NEAR(ECON_THESIS_PRICE_LOW, 1.0, 0);
	ASSERT_NEAR(ECON_THESIS_PRICE_HIGH, 10.0, 0);
	ASSERT_EQ(ECON_THESIS_PRICE_STEP_S, 60);
}

static void test_tail_probability(void)
{
	/* (750 - 500) / 100 = 2.5 deviations: Q(2.5). */
	ASSERT_NEAR(econ_tail_prob(750, 500, 100), 0.0062096653257761, 1e-15);
	/* Mean at the bound: half the requests are late. */
	ASSERT_NEAR(econ_tail_prob(750, 750, 50), 0.5, 1e-15);
	/* (750 - 700) / 100 = 0.5 deviations. */
	ASSERT_NEAR(econ_tail_prob(750, 700, 100), 0.3085375387259869, 1e-15);
	/* No jitter: a step at L0 (at L0 exactly, nothing exceeds it). */
	ASSERT_NEAR(econ_tail_prob(750, 100, 0), 0.0, 0);
	ASSERT_NEAR(econ_tail_prob(750, 750, 0), 0.0, 0);
	ASSERT_NEAR(econ_tail_prob(750, 800, 0), 1.0, 0);
	/* Far below the bound: underflows to 0, never negative. */
	ASSERT_TRUE(econ_tail_prob(750, 77, 7.7) >= 0.0);
	ASSERT_TRUE(econ_tail_prob(750, 77, 7.7) < 1e-300);
}

static void test_penalty(void)
{
	struct econ_utility u;

	econ_utility_thesis(ECON_PENALTY, &u);
	/* L = 500, sigma = 100: X * N = 100 * 0.0062096653 = 0.62096653,
	 * a = 20 * (1 - 0.62096653) = 7.5806693; at T = 0.5 Gbit/s and P = $1/Gbit,
	 * U = 0.5 * (7.5806693 - 1) = 3.2903347 $/s. */
	ASSERT_NEAR(econ_value_per_gbit(&u, 500, 100), 7.580669348447722, 1e-12);
	ASSERT_NEAR(econ_utility_rate(&u, 0.5, 500, 100, 1.0), 3.290334674223861, 1e-12);
	/* L = 700, sigma = 100: X * N = 30.85 > 1: the whole value is lost; at $10/Gbit and
	 * 2 Gbit/s the app pays 20 $/s for nothing. */
	ASSERT_NEAR(econ_value_per_gbit(&u, 700, 100), 0.0, 0);
	ASSERT_NEAR(econ_utility_rate(&u, 2.0, 700, 100, 10.0), -20.0, 1e-12);
	/* memcached at delay 14 (thesis: 40K ops/s at 77 us), 1100 bytes per request:
	 * T = 40000 * 1100 * 8 / 1e9 = 0.352 Gbit/s; jitter 7.7 us puts L0 87 deviations
	 * away: no penalty; U = 0.352 * (20 - 1) = 6.688 $/s at $1, 0.352 * 10 = 3.52 at $10. */
	ASSERT_NEAR(econ_gbps(40000, 1100), 0.352, 1e-15);
	ASSERT_NEAR(econ_utility_rate(&u, 0.352, 77, 7.7, 1.0), 6.688, 1e-12);
	ASSERT_NEAR(econ_utility_rate(&u, 0.352, 77, 7.7, 10.0), 3.52, 1e-12);
	ASSERT_TRUE(econ_uses_jitter(&u));
	/* A smaller factor: X = 10 at the same point: a = 20 * (1 - 0.062096653) = 18.758067. */
	u.x = 10;
	ASSERT_NEAR(econ_value_per_gbit(&u, 500, 100), 18.75806693484478, 1e-12);
}

static void test_refund(void)
{
	struct econ_utility u;

	econ_utility_thesis(ECON_REFUND, &u);
	/* L = 74 us = 0.074 ms: a = 20 - 10 * 0.074 = 19.26; U(T = 1, P = 1) = 18.26. */
	ASSERT_NEAR(econ_value_per_gbit(&u, 74, 0), 19.26, 1e-12);
	ASSERT_NEAR(econ_utility_rate(&u, 1.0, 74, 0, 1.0), 18.26, 1e-12);
	/* Jitter does not matter to the refund. */
	ASSERT_NEAR(econ_value_per_gbit(&u, 74, 500), 19.26, 1e-12);
	ASSERT_TRUE(!econ_uses_jitter(&u));
	/* The value reaches zero at alpha / beta = 2 ms and stays there. */
	ASSERT_NEAR(econ_value_per_gbit(&u, 2000, 0), 0.0, 1e-12);
	ASSERT_NEAR(econ_value_per_gbit(&u, 2500, 0), 0.0, 0);
	ASSERT_NEAR(econ_utility_rate(&u, 1.0, 2500, 0, 10.0), -10.0, 1e-12);
	/* 1 ms: a = 20 - 10 = 10; at $10/Gbit the app breaks even. */
	ASSERT_NEAR(econ_utility_rate(&u, 0.3, 1000, 0, 10.0), 0.0, 1e-12);
}

static void test_bonus(void)
{
	struct econ_utility u;

	econ_utility_thesis(ECON_BONUS, &u);
	/* L = 74 us = 0.074 ms: bonus = 0.01 / 0.074 = 0.135135..., a = 20.135135. */
	ASSERT_NEAR(econ_value_per_gbit(&u, 74, 0), 20.135135135135137, 1e-12);
	/* L = 5 us: bonus = 0.01 / 0.005 = 2; U(T = 0.1, P = 10) = 0.1 * 12 = 1.2. */
	ASSERT_NEAR(econ_utility_rate(&u, 0.1, 5, 0, 10.0), 1.2, 1e-12);
	/* The cap delta. */
	u.delta = 0.1;
	ASSERT_NEAR(econ_value_per_gbit(&u, 74, 0), 20.1, 1e-12);
	ASSERT_NEAR(econ_value_per_gbit(&u, 200, 0), 20.05, 1e-12);
	/* L <= 0 (never in a valid profile): the capped bonus. */
	ASSERT_NEAR(econ_value_per_gbit(&u, 0, 0), 20.1, 1e-12);
}

static void test_check_and_names(void)
{
	struct econ_utility u;
	const char *why;
	enum econ_kind k;

	econ_utility_thesis(ECON_PENALTY, &u);
	u.alpha = -1;
	ASSERT_EQ(econ_utility_check(&u, &why), -EINVAL);
	ASSERT_STR_CONTAINS(why, "alpha");
	econ_utility_thesis(ECON_PENALTY, &u);
	u.l0_us = 0;
	ASSERT_EQ(econ_utility_check(&u, &why), -EINVAL);
	ASSERT_STR_CONTAINS(why, "l0");
	econ_utility_thesis(ECON_REFUND, &u);
	u.beta_per_ms = NAN;
	ASSERT_EQ(econ_utility_check(&u, &why), -EINVAL);
	ASSERT_STR_CONTAINS(why, "beta");
	econ_utility_thesis(ECON_BONUS, &u);
	u.delta = -0.5;
	ASSERT_EQ(econ_utility_check(&u, &why), -EINVAL);
	ASSERT_STR_CONTAINS(why, "delta");
	/* A refund does not read the penalty's fields. */
	econ_utility_thesis(ECON_REFUND, &u);
	u.l0_us = -1;
	ASSERT_OK(econ_utility_check(&u, &why));

	ASSERT_OK(econ_kind_parse("refund", &k));
	ASSERT_EQ(k, ECON_REFUND);
	ASSERT_EQ(econ_kind_parse("Refund", &k), -EINVAL);
	ASSERT_STR_EQ(econ_kind_name(ECON_BONUS), "bonus");
	ASSERT_STR_EQ(econ_kind_name(ECON_PENALTY), "penalty");
}

int main(void)
{
	test_thesis_parameters();
	test_tail_probability();
	test_penalty();
	test_refund();
	test_bonus();
	test_check_and_names();
	printf("test_econ_utility: ok\n");
	return 0;
}
