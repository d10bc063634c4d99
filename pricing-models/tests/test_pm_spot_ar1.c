/* test_pm_spot_ar1.c: the EC2 hidden AR(1) reserve price.
 *
 * Statistics over a long generated series. The generator is the paper's: D_i = -a D_{i-1} +
 * eps, eps ~ N(0, sigma), P rounded to the tick, eps redrawn while P leaves [F, C] or does not
 * change. The redrawing truncates eps: an ordinary least-squares fit of D_i on D_{i-1} over
 * the output is biased by it (it finds a ~ -0.59 and a residual deviation of ~0.72 sigma at
 * the paper's parameters, printed below for reference). The fit that matches the process is
 * maximum likelihood under that same truncation: each observed P_i has probability
 * [grid cell of P_i under N(m_i, sigma)] / [cells of every allowed price], with
 * m_i = P_{i-1} - a (P_{i-1} - P_{i-2}). Maximizing it over (a, sigma) must recover
 * a = 0.7 within 0.05 and sigma = 0.39 (C - F) within 10%. */
#include <gsl/gsl_cdf.h>
#include <gsl/gsl_multimin.h>
#include <gsl/gsl_rng.h>
#include <math.h>

#include "pm_testutil.h"
#include "test.h"

#define HOUR INT64_C(3600000000000)
#define MINUTE INT64_C(60000000000)

struct series {
	double *p; /* dollars... in nanodollars as doubles */
	size_t n;
	double F, C, tick;
};

/* Probability that N(m, s) rounds to grid point x. */
static double cell(double x, double m, double s, double tick)
{
	double a = (x - tick / 2 - m) / s, b = (x + tick / 2 - m) / s;
	if (a > 0)
		return gsl_cdf_ugaussian_Q(a) - gsl_cdf_ugaussian_Q(b);
	return gsl_cdf_ugaussian_P(b) - gsl_cdf_ugaussian_P(a);
}

static double neg_loglik(const gsl_vector *v, void *arg)
{
	const struct series *s = arg;
	double a = gsl_vector_get(v, 0), sigma = exp(gsl_vector_get(v, 1));
	double ll = 0;
	for (size_t i = 2; i < s->n; i++) {
		double m = s->p[i - 1] - a * (s->p[i - 1] - s->p[i - 2]);
		double all = cell((s->F + s->C) / 2, m, sigma, s->C - s->F + s->tick) -
			     cell(s->p[i - 1], m, sigma, s->tick);
		double here = cell(s->p[i], m, sigma, s->tick);
		if (!(here > 0) || !(all > 0))
			return 1e300;
		ll += log(here / all);
	}
	return -ll;
}

static void fit_mle(struct series *s, double *a_hat, double *sigma_hat)
{
	const gsl_multimin_fminimizer_type *T = gsl_multimin_fminimizer_nmsimplex2;
	gsl_multimin_fminimizer *m = gsl_multimin_fminimizer_alloc(T, 2);
	gsl_multimin_function f = {.n = 2, .f = neg_loglik, .params = s};
	gsl_vector *x = gsl_vector_alloc(2), *step = gsl_vector_alloc(2);
	gsl_vector_set(x, 0, 0.5);
	gsl_vector_set(x, 1, log(0.3 * (s->C - s->F)));
	gsl_vector_set(step, 0, 0.1);
	gsl_vector_set(step, 1, 0.2);
	gsl_multimin_fminimizer_set(m, &f, x, step);
	for (int it = 0; it < 400; it++) {
		if (gsl_multimin_fminimizer_iterate(m))
			break;
		if (gsl_multimin_test_size(gsl_multimin_fminimizer_size(m), 1e-5) == GSL_SUCCESS)
			break;
	}
	*a_hat = gsl_vector_get(m->x, 0);
	*sigma_hat = exp(gsl_vector_get(m->x, 1));
	gsl_vector_free(x);
	gsl_vector_free(step);
	gsl_multimin_fminimizer_free(m);
}

static void fit_ols(const struct series *s, double *b, double *resid_sd)
{
	double sx = 0, sy = 0, sxx = 0, sxy = 0;
	size_t n = 0;
	for (size_t i = 2; i < s->n; i++, n++) {
		double x = s->p[i - 1] - s->p[i - 2], y = s->p[i] - s->p[i - 1];
		sx += x, sy += y, sxx += x * x, sxy += x * y;
	}
	*b = (sxy - sx * sy / n) / (sxx - sx * sx / n);
	double ss = 0, mx = sx / n, my = sy / n;
	for (size_t i = 2; i < s->n; i++) {
		double x = s->p[i - 1] - s->p[i - 2], y = s->p[i] - s->p[i - 1];
		double r = y - my - *b * (x - mx);
		ss += r * r;
	}
	*resid_sd = sqrt(ss / n);
}

/* Posts n prices an hour apart (one change each) and checks the band and the tick. */
static void generate(const char *params, unsigned long seed, struct series *s, size_t n)
{
	struct pm_instance *inst = pmt_create("spot-ar1", params);
	gsl_rng *rng = gsl_rng_alloc(gsl_rng_mt19937);
	gsl_rng_set(rng, seed);
	struct pm_pool pool = {.supply = 10, .rng = rng, .round_ns = HOUR};
	s->p = malloc(n * sizeof(double));
	s->n = n;
	for (size_t i = 0; i < n; i++) {
		money_t p;
		pool.now_ns = (int64_t)i * HOUR;
		ASSERT_OK(pm_posted_price(inst, &pool, &p));
		s->p[i] = (double)p;
		if (p < s->F || p > s->C || (int64_t)p % (int64_t)s->tick)
			TEST_FAIL("step %zu: reserve %lld outside [%g, %g] or off the tick", i,
				  (long long)p, s->F, s->C);
		if (i && p == (money_t)s->p[i - 1])
			TEST_FAIL("step %zu: the reserve did not change after an hour", i);
		struct pm_error err;
		if (pm_check(inst, &err))
			TEST_FAIL("pm_check: %s", err.message);
	}
	gsl_rng_free(rng);
	pm_destroy(inst);
}

static void statistics(void)
{
	/* The paper's simulation band [0.4, 0.45] of an on-demand price of $1, 0.1 cent tick. */
	struct series s = {.F = 0.40e9, .C = 0.45e9, .tick = 1e6};
	generate("floor=$0.40, ceiling=$0.45", 42, &s, 100000);
	double a_hat, sigma_hat, b_ols, sd_ols, sigma = 0.39 * (s.C - s.F);
	fit_ols(&s, &b_ols, &sd_ols);
	fit_mle(&s, &a_hat, &sigma_hat);
	printf("spot-ar1: %zu changes; OLS fit (biased by truncation): a = %.3f, sd = %.3f sigma\n",
	       s.n, -b_ols, sd_ols / sigma);
	printf("spot-ar1: truncated-AR(1) MLE: a = %.4f (want 0.7 +- 0.05), sigma = %.4f x "
	       "0.39 (C - F) (want 1 +- 0.1)\n",
	       a_hat, sigma_hat / sigma);
	ASSERT_NEAR(a_hat, 0.7, 0.05);
	ASSERT_NEAR(sigma_hat / sigma, 1.0, 0.1);
	free(s.p);

	/* m1.small's parameters (a = 0.5, sigma = 0.5 (C - F)) are recovered the same way. */
	struct series t = {.F = 0.40e9, .C = 0.45e9, .tick = 1e6};
	generate("floor=$0.40, ceiling=$0.45, a=0.5, sigma_factor=0.5", 7, &t, 50000);
	fit_mle(&t, &a_hat, &sigma_hat);
	ASSERT_NEAR(a_hat, 0.5, 0.05);
	ASSERT_NEAR(sigma_hat / (0.5 * (t.C - t.F)), 1.0, 0.1);
	free(t.p);
}

static void timing(void)
{
	/* Rounds every 7 minutes, min_interval 1h: changes only at least an hour apart. With
	 * gap_mean 30m the gaps are longer on average, never shorter. */
	static const char *params[] = {"", "gap_mean=30m", "min_interval=5m, gap_mean=90m"};
	static const int64_t min_gap[] = {HOUR, HOUR, 5 * MINUTE};
	for (int k = 0; k < 3; k++) {
		struct pm_instance *inst = pmt_create("spot-ar1", params[k]);
		gsl_rng *rng = gsl_rng_alloc(gsl_rng_mt19937);
		gsl_rng_set(rng, 5);
		struct pm_pool pool = {.supply = 1, .rng = rng, .round_ns = 7 * MINUTE};
		money_t last = -1;
		int64_t last_change = -1, changes = 0, sum_gap = 0;
		for (int i = 0; i < 20000; i++) {
			money_t p;
			pool.now_ns = i * 7 * MINUTE;
			ASSERT_OK(pm_posted_price(inst, &pool, &p));
			if (last >= 0 && p != last) {
				if (last_change >= 0) {
					ASSERT_GE(pool.now_ns - last_change, min_gap[k]);
					sum_gap += pool.now_ns - last_change;
					changes++;
				}
				last_change = pool.now_ns;
			}
			last = p;
		}
		ASSERT_GT(changes, 100);
		printf("spot-ar1 [%s]: %lld changes, mean gap %.1f min\n", params[k],
		       (long long)changes, (double)sum_gap / changes / MINUTE);
		gsl_rng_free(rng);
		pm_destroy(inst);
	}
}

static void same_seed(void)
{
	struct series a = {.F = 34e6, .C = 38e6, .tick = 1e6}, b = a, c = a;
	generate("", 11, &a, 2000);
	generate("", 11, &b, 2000);
	generate("", 12, &c, 2000);
	size_t differ = 0;
	for (size_t i = 0; i < 2000; i++) {
		ASSERT_EQ((money_t)a.p[i], (money_t)b.p[i]);
		differ += a.p[i] != c.p[i];
	}
	ASSERT_GT(differ, 100);
	free(a.p), free(b.p), free(c.p);
}

static void narrow_band_and_auction(void)
{
	/* Band of two ticks [4.0c, 4.1c]: every change must move, so the reserve alternates
	 * 4.0, 4.1, 4.0, ... (P_0 = F). */
	struct pm_instance *inst = pmt_create("spot-ar1", "floor=$0.040, ceiling=$0.041");
	gsl_rng *rng = gsl_rng_alloc(gsl_rng_mt19937);
	struct pm_pool pool = {.supply = 10, .rng = rng, .round_ns = HOUR};
	for (int i = 0; i < 10; i++) {
		money_t p;
		pool.now_ns = i * HOUR;
		ASSERT_OK(pm_posted_price(inst, &pool, &p));
		ASSERT_EQ(p, i % 2 ? 41000000 : 40000000);
	}
	/* At t = 10h the reserve is 4.0c. Clearing is the (N+1)-th price auction with it:
	 * supply 10; A 4 @ 5c, B 3 @ 4.5c: demand 7 < 10, p = reserve 4.0c; A pays 16c.
	 * Supply 5: B gets 1 and the best losing unit is B's at 4.5c: p = 4.5c. */
	struct pm_outcome out[2];
	struct pm_result res;
	struct pm_bid b[] = {pmt_flat(1, 4, 5 * CENT), pmt_flat(2, 3, 45 * CENT / 10)};
	pool.now_ns = 10 * HOUR;
	pmt_clear_pool(inst, &pool, b, 2, &res, out);
	ASSERT_EQ(res.price, 4 * CENT);
	ASSERT_EQ(out[0].payment, 16 * CENT);
	pool.supply = 5;
	pmt_clear_pool(inst, &pool, b, 2, &res, out);
	ASSERT_EQ(out[0].quantity, 4);
	ASSERT_EQ(out[1].quantity, 1);
	ASSERT_EQ(res.price, 45 * CENT / 10);
	gsl_rng_free(rng);
	pm_destroy(inst);
}

int main(void)
{
	narrow_band_and_auction();
	same_seed();
	timing();
	statistics();
	return 0;
}
