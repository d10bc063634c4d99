/* model_spot_ar1.c: Amazon EC2's hidden reserve price (2010) as an AR(1) process.
 *
 * Agmon Ben-Yehuda et al. ("Deconstructing Amazon EC2 Spot Instance Pricing", TEAC 2013)
 * found that most 2010 spot prices were not set by bids but by a hidden reserve price that
 * moved as an AR(1) process in a band [F, C]: D_i = -a D_{i-1} + eps, sigma = 0.39 (C - F),
 * truncated by redrawing eps, rounded to 0.1 cent, never changing within an hour of the last
 * change. This model generates that reserve and clears each round as the (N+1)-th price
 * auction it was the reserve of. See models.h for the parameters.
 *
 * State and invariants (spot_check(), reached through pm_check()):
 *   1. F <= P <= C and P is a multiple of the tick (after the first call).
 *   2. The reserve changes only in a call whose now_ns >= next_change_ns, then
 *      next_change_ns >= now_ns + min_interval: no two changes closer than min_interval.
 *   3. D is the last realized (rounded) change P_i - P_{i-1} (D_0 = -0.1 (C - F)). */
#include <errno.h>
#include <gsl/gsl_randist.h>
#include <math.h>
#include <stdlib.h>

#include "pm_internal.h"
#include "pricing/models.h"

#define MAX_REDRAWS 10000

struct spot {
	money_t F, C, tick;
	double a, sigma;
	int64_t min_interval, gap_mean, cap;
	bool started;
	money_t P;
	double D;
	int64_t last_change_ns, next_change_ns;
	struct pm_uniform_ws ws;
};

static money_t to_tick(double x, money_t tick)
{
	return (money_t)llround(x / (double)tick) * tick;
}

static int schedule(struct spot *s, const struct pm_pool *pool, struct pm_error *err)
{
	int64_t gap = s->min_interval;
	s->last_change_ns = pool->now_ns;
	if (s->gap_mean > 0) {
		if (!pool->rng)
			return pm__errorf(err, -EINVAL, "spot-ar1: pool has no rng (gap_mean > 0)");
		gap += (int64_t)llround(gsl_ran_exponential(pool->rng, (double)s->gap_mean));
	}
	if (__builtin_add_overflow(pool->now_ns, gap, &s->next_change_ns))
		s->next_change_ns = INT64_MAX;
	return 0;
}

/* One AR(1) step with truncation by redrawing (invariants 1 and 3). */
static void step(struct spot *s, gsl_rng *rng)
{
	const double mean = (double)s->P - s->a * s->D;
	money_t next = s->P;

	for (int k = 0; k < MAX_REDRAWS; k++) {
		money_t x = to_tick(mean + gsl_ran_gaussian(rng, s->sigma), s->tick);
		if (x >= s->F && x <= s->C && x != s->P) {
			next = x;
			break;
		}
	}
	if (next == s->P) {
		/* Pathological parameters (sigma far below the tick): move one tick toward
		 * the mean, or inward at the band's edge, so the rules still hold. */
		next = mean > (double)s->P ? s->P + s->tick : s->P - s->tick;
		if (next > s->C)
			next = s->P - s->tick;
		if (next < s->F)
			next = s->P + s->tick;
	}
	s->D = (double)(next - s->P);
	s->P = next;
}

static int advance(struct spot *s, const struct pm_pool *pool, struct pm_error *err)
{
	if (!s->started) {
		s->started = true;
		s->P = s->F;
		s->D = -0.1 * (double)(s->C - s->F);
		return schedule(s, pool, err);
	}
	if (pool->now_ns < s->next_change_ns)
		return 0;
	if (!pool->rng)
		return pm__errorf(err, -EINVAL, "spot-ar1: pool has no rng");
	step(s, pool->rng);
	return schedule(s, pool, err);
}

static int spot_clear(struct pm_instance *inst, const struct pm_pool *pool,
		      const struct pm_bid *bids, size_t nbids, struct pm_result *res,
		      struct pm_error *err)
{
	struct spot *s = (struct spot *)inst;
	int rc = advance(s, pool, err);
	if (rc)
		return rc;
	return pm__uniform_clear(&s->ws, bids, nbids, pool->supply, s->cap, s->P, res, err);
}

static int spot_posted_price(struct pm_instance *inst, const struct pm_pool *pool, money_t *out)
{
	struct spot *s = (struct spot *)inst;
	int rc = advance(s, pool, NULL);
	if (rc)
		return rc;
	*out = s->P;
	return 0;
}

static int spot_check(struct pm_instance *inst, struct pm_error *err)
{
	struct spot *s = (struct spot *)inst;
	if (!s->started)
		return 0;
	if (s->P < s->F || s->P > s->C || s->P % s->tick)
		return pm__errorf(err, -EPROTO, "spot-ar1: reserve %lld outside [%lld, %lld] or off "
				  "the tick", (long long)s->P, (long long)s->F, (long long)s->C);
	if (s->next_change_ns != INT64_MAX &&
	    s->next_change_ns - s->last_change_ns < s->min_interval)
		return pm__errorf(err, -EPROTO, "spot-ar1: next change %lld ns after the last, "
				  "below min_interval", (long long)(s->next_change_ns - s->last_change_ns));
	return 0;
}

static int spot_create(const struct pm_param *params, size_t nparams, struct pm_instance **out,
		       struct pm_error *err)
{
	money_t F, C, tick;
	double a, sf;
	int64_t min_interval, gap_mean, cap;
	int rc;

	if ((rc = pm__param_money_nonneg(params, nparams, "spot-ar1", "floor", &F, err)) ||
	    (rc = pm__param_money(params, nparams, "ceiling", &C, err)) ||
	    (rc = pm__param_money(params, nparams, "tick", &tick, err)) ||
	    (rc = pm__param_double(params, nparams, "a", &a, err)) ||
	    (rc = pm__param_double(params, nparams, "sigma_factor", &sf, err)) ||
	    (rc = pm__param_duration(params, nparams, "min_interval", &min_interval, err)) ||
	    (rc = pm__param_duration(params, nparams, "gap_mean", &gap_mean, err)) ||
	    (rc = pm__param_int(params, nparams, "supply_cap", &cap, err)))
		return rc;
	if (tick <= 0)
		return pm__errorf(err, -EINVAL, "spot-ar1: tick must be positive");
	money_t Fr = (F + tick - 1) / tick * tick, Cr = C / tick * tick;
	if (C <= F || Cr - Fr < tick)
		return pm__errorf(err, -EINVAL,
				  "spot-ar1: the band [floor, ceiling] must hold at least two "
				  "tick values (floor %lld, ceiling %lld, tick %lld nanodollars)",
				  (long long)F, (long long)C, (long long)tick);
	if (!(a >= 0 && a < 1))
		return pm__errorf(err, -EINVAL, "spot-ar1: a must be in [0, 1) (got %g)", a);
	if (!(sf > 0 && sf <= 100))
		return pm__errorf(err, -EINVAL, "spot-ar1: sigma_factor must be in (0, 100] (got %g)",
				  sf);
	if (cap < 0)
		return pm__errorf(err, -EINVAL, "spot-ar1: supply_cap must not be negative");
	struct spot *s = calloc(1, sizeof(*s));
	if (!s)
		return pm__errorf(err, -ENOMEM, "spot-ar1: out of memory");
	s->F = Fr;
	s->C = Cr;
	s->tick = tick;
	s->a = a;
	s->sigma = sf * (double)(Cr - Fr);
	s->min_interval = min_interval;
	s->gap_mean = gap_mean;
	s->cap = cap ? cap : -1;
	*out = (struct pm_instance *)s;
	return 0;
}

static void spot_destroy(struct pm_instance *inst)
{
	struct spot *s = (struct spot *)inst;
	pm__uniform_ws_free(&s->ws);
	free(s);
}

static const struct pm_param_spec spot_params[] = {
	{"floor", PM_PARAM_MONEY, "$0.034", "F: lowest reserve per unit-hour (band floor)"},
	{"ceiling", PM_PARAM_MONEY, "$0.038", "C: highest reserve per unit-hour (band ceiling)"},
	{"a", PM_PARAM_DOUBLE, "0.7", "AR(1) coefficient: D_i = -a D_{i-1} + eps"},
	{"sigma_factor", PM_PARAM_DOUBLE, "0.39", "innovation deviation as a fraction of C - F"},
	{"tick", PM_PARAM_MONEY, "$0.001", "price resolution (EC2: 0.1 cent)"},
	{"min_interval", PM_PARAM_DURATION, "1h", "no change within this time of the last one"},
	{"gap_mean", PM_PARAM_DURATION, "0s",
	 "mean of an exponential extra gap between changes (0: change as soon as allowed)"},
	{"supply_cap", PM_PARAM_INT, "0", "sell at most this many units (0: no cap)"},
};

const struct pm_model pm_model_spot_ar1 = {
	.api_version = PM_API_VERSION,
	.size = sizeof(struct pm_model),
	.name = "spot-ar1",
	.summary = "EC2 2010 hidden AR(1) reserve price with an (N+1)-th price auction",
	.params = spot_params,
	.nparams = sizeof(spot_params) / sizeof(spot_params[0]),
	.create = spot_create,
	.destroy = spot_destroy,
	.clear = spot_clear,
	.posted_price = spot_posted_price,
	.check = spot_check,
};
