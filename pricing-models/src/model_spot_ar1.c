/* model_spot_ar1.c: Amazon EC2's spot price of 2010 as a hidden AR(1) reserve price.
 *
 * Agmon Ben-Yehuda et al. ("Deconstructing Amazon EC2 Spot Instance Pricing", TEAC 2013)
 * found that most 2010 spot prices were not set by bids but by a hidden reserve price that
 * moved as an AR(1) process in a band [F, C]: D_i = -a D_{i-1} + eps, truncated by redrawing
 * eps, rounded to 0.1 cent, never changing within an hour of the last change. This file
 * generates that reserve and clears each round as the (N+1)-th price auction it was the
 * reserve of. See models.h for the parameters.
 *
 * Two models share the code and differ only in their defaults:
 *   - `spot-ar1-paper`: the paper's process with its published estimates used as the
 *     process's parameters (a = 0.7, sigma = 0.39 (C - F), a change every hour).
 *   - `spot-ar1`: the same process with parameters calibrated so that its OUTPUT has the
 *     statistics of the 32 traces in ../shared/data (raas-sim fit-spot; docs/pricing-models.md):
 *     the paper's figures are least-squares estimates from truncated, rounded data, and fed
 *     back in as the parameters they come out smaller (a1 -0.62, 0.29 (C - F)); no (a, sigma)
 *     of the paper's process reaches the traces' (-0.74, 0.37): truncation caps the deviation
 *     near 0.28 at that a1. The traces move by half the band or more in 56% of their changes
 *     (a step in the distribution of |D| at exactly (C - F) / 2), which a mixture reproduces:
 *     with probability jump_prob a change jumps uniformly to a price at least (C - F) / 2
 *     away, else it is the paper's AR(1) step. The traces also
 *     change at reconsiderations U[min_interval, min_interval + interval_spread] apart, each
 *     of which changes the price with probability change_prob (the first after a change) or
 *     change_prob_later (their gaps have modes near 75, 150, 225 ... minutes), and spend some
 *     time above the band (demand of real bidders, here "excursions", whose prices hold
 *     longer: excursion_change_prob).
 *
 * State and invariants (spot_check(), reached through pm_check()):
 *   1. F <= P <= C and P is a multiple of the tick (after the first call); in an excursion
 *      the posted price X is above C and a multiple of the tick.
 *   2. The price is reconsidered only in a call whose now_ns >= next_change_ns, and then
 *      next_change_ns >= now_ns + min_interval (last_change_ns is the last
 *      reconsideration): no two changes closer than min_interval.
 *   3. D is the last realized (rounded) change of the hidden reserve P_i - P_{i-1}
 *      (D_0 = -0.1 (C - F)).
 * Random draws per reconsideration, in this order: the next interval's spread (uniform, when
 * interval_spread > 0) and exponential gap (when gap_mean > 0), the change (uniform, when
 * change_prob < 1), the jump (uniform, when jump_prob > 0: then a uniform integer, or else
 * the AR(1) innovations), then the excursion's (uniform and exponential, when
 * excursion_prob > 0). */
#include <errno.h>
#include <gsl/gsl_randist.h>
#include <math.h>
#include <stdlib.h>

#include "pm_internal.h"
#include "pricing/models.h"
#include "pricing/spot.h"

#define MAX_REDRAWS 10000

struct spot {
	money_t F, C, tick;
	double a, sigma;
	int64_t min_interval, spread, gap_mean, cap;
	double change_prob, change_later, exc_change, jump_prob, exc_prob, exc_stay, exc_height;
	bool started, in_exc;
	int64_t misses;  /* reconsiderations since the last change that did not change */
	money_t P, X;
	double D;
	int64_t last_change_ns, next_change_ns;
	struct pm_uniform_ws ws;
};

static money_t to_tick(double x, money_t tick)
{
	return (money_t)llround(x / (double)tick) * tick;
}

static money_t posted(const struct spot *s)
{
	return s->in_exc ? s->X : s->P;
}

static int schedule(struct spot *s, const struct pm_pool *pool, struct pm_error *err)
{
	int64_t gap = s->min_interval;
	s->last_change_ns = pool->now_ns;
	if (s->spread > 0 || s->gap_mean > 0) {
		if (!pool->rng)
			return pm__errorf(err, -EINVAL, "spot-ar1: pool has no rng");
		if (s->spread > 0)
			gap += (int64_t)llround(gsl_rng_uniform(pool->rng) * (double)s->spread);
		if (s->gap_mean > 0)
			gap += (int64_t)llround(gsl_ran_exponential(pool->rng, (double)s->gap_mean));
	}
	if (__builtin_add_overflow(pool->now_ns, gap, &s->next_change_ns))
		s->next_change_ns = INT64_MAX;
	return 0;
}

/* One AR(1) step of the hidden reserve with truncation by redrawing (invariants 1, 3). */
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

/* A jump across the band: the reserve moves to a price at least (C - F) / 2 away, uniformly
 * among those (there is always one: the farther edge). D is the realized change. */
static void jump(struct spot *s, gsl_rng *rng)
{
	int64_t n = (s->C - s->F) / s->tick, k = (s->P - s->F) / s->tick;
	int64_t lo_end = (int64_t)floor((double)k - (double)n / 2);  /* [0, lo_end] */
	int64_t hi_start = (int64_t)ceil((double)k + (double)n / 2); /* [hi_start, n] */
	int64_t nlo = lo_end >= 0 ? lo_end + 1 : 0, nhi = hi_start <= n ? n - hi_start + 1 : 0;
	int64_t j = (int64_t)gsl_rng_uniform_int(rng, (unsigned long)(nlo + nhi));
	money_t next = s->F + (j < nlo ? j : hi_start + (j - nlo)) * s->tick;
	s->D = (double)(next - s->P);
	s->P = next;
}

/* A price above the band: C + (0.12 + an exponential of mean exc_height) (C - F), at least a
 * tick above C and different from the excursion's current price. */
static money_t excursion_price(const struct spot *s, gsl_rng *rng)
{
	double w = (double)(s->C - s->F), mean = s->exc_height * w;
	money_t x = s->C + s->tick;

	for (int k = 0; k < 16; k++) {
		double excess = PM_SPOT_EXCURSION_MIN * w;
		if (mean > 0)
			excess += gsl_ran_exponential(rng, mean);
		x = to_tick((double)s->C + excess, s->tick);
		if (x <= s->C)
			x = s->C + s->tick;
		if (!s->in_exc || x != s->X)
			return x;
	}
	return s->X + s->tick;
}

/* A change: the hidden reserve jumps across the band or takes an AR(1) step; the posted price may enter, stay in or leave an
 * excursion above the band. */
static void change(struct spot *s, gsl_rng *rng)
{
	if (s->jump_prob > 0 && gsl_rng_uniform(rng) < s->jump_prob)
		jump(s, rng);
	else
		step(s, rng);
	if (s->exc_prob <= 0)
		return;
	double u = gsl_rng_uniform(rng);
	if (!s->in_exc && u < s->exc_prob) {
		s->X = excursion_price(s, rng);
		s->in_exc = true;
	} else if (s->in_exc && u < s->exc_stay) {
		s->X = excursion_price(s, rng);
	} else {
		s->in_exc = false;
	}
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
	int rc = schedule(s, pool, err);
	if (rc)
		return rc;
	/* Reconsidered but not changed: the next reconsideration is one more interval on, so
	 * the gaps between changes are sums of intervals. */
	double p = s->in_exc ? s->exc_change : s->misses ? s->change_later : s->change_prob;
	if (p < 1 && gsl_rng_uniform(pool->rng) >= p) {
		s->misses++;
		return 0;
	}
	s->misses = 0;
	change(s, pool->rng);
	return 0;
}

static int spot_clear(struct pm_instance *inst, const struct pm_pool *pool,
		      const struct pm_bid *bids, size_t nbids, struct pm_result *res,
		      struct pm_error *err)
{
	struct spot *s = (struct spot *)inst;
	int rc = advance(s, pool, err);
	if (rc)
		return rc;
	return pm__uniform_clear(&s->ws, bids, nbids, pool->supply, s->cap, posted(s), res, err);
}

static int spot_posted_price(struct pm_instance *inst, const struct pm_pool *pool, money_t *out)
{
	struct spot *s = (struct spot *)inst;
	int rc = advance(s, pool, NULL);
	if (rc)
		return rc;
	*out = posted(s);
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
	if (s->in_exc && (s->X <= s->C || s->X % s->tick))
		return pm__errorf(err, -EPROTO, "spot-ar1: excursion price %lld not above the "
				  "ceiling %lld or off the tick", (long long)s->X, (long long)s->C);
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
	double a, sf, cp, cl, ec, jp, ep, es, eh;
	int64_t min_interval, spread, gap_mean, cap;
	int rc;

	if ((rc = pm__param_money_nonneg(params, nparams, "spot-ar1", "floor", &F, err)) ||
	    (rc = pm__param_money(params, nparams, "ceiling", &C, err)) ||
	    (rc = pm__param_money(params, nparams, "tick", &tick, err)) ||
	    (rc = pm__param_double(params, nparams, "a", &a, err)) ||
	    (rc = pm__param_double(params, nparams, "sigma_factor", &sf, err)) ||
	    (rc = pm__param_duration(params, nparams, "min_interval", &min_interval, err)) ||
	    (rc = pm__param_duration(params, nparams, "interval_spread", &spread, err)) ||
	    (rc = pm__param_double(params, nparams, "change_prob", &cp, err)) ||
	    (rc = pm__param_double(params, nparams, "change_prob_later", &cl, err)) ||
	    (rc = pm__param_double(params, nparams, "jump_prob", &jp, err)) ||
	    (rc = pm__param_duration(params, nparams, "gap_mean", &gap_mean, err)) ||
	    (rc = pm__param_double(params, nparams, "excursion_prob", &ep, err)) ||
	    (rc = pm__param_double(params, nparams, "excursion_stay", &es, err)) ||
	    (rc = pm__param_double(params, nparams, "excursion_height", &eh, err)) ||
	    (rc = pm__param_double(params, nparams, "excursion_change_prob", &ec, err)) ||
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
	if (!(cp > 0 && cp <= 1) || !(cl > 0 && cl <= 1) || !(ec > 0 && ec <= 1))
		return pm__errorf(err, -EINVAL, "spot-ar1: change_prob, change_prob_later and "
				  "excursion_change_prob must be in (0, 1] (got %g, %g, %g)", cp, cl,
				  ec);
	if (!(jp >= 0 && jp <= 1))
		return pm__errorf(err, -EINVAL, "spot-ar1: jump_prob must be in [0, 1] (got %g)", jp);
	if (!(ep >= 0 && ep < 1) || !(es >= 0 && es < 1))
		return pm__errorf(err, -EINVAL, "spot-ar1: excursion_prob and excursion_stay must "
				  "be in [0, 1) (got %g, %g)", ep, es);
	if (!(eh >= 0 && eh <= 1000))
		return pm__errorf(err, -EINVAL, "spot-ar1: excursion_height must be in [0, 1000] "
				  "(got %g)", eh);
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
	s->spread = spread;
	s->gap_mean = gap_mean;
	s->change_prob = cp;
	s->change_later = cl;
	s->exc_change = ec;
	s->jump_prob = jp;
	s->exc_prob = ep;
	s->exc_stay = es;
	s->exc_height = eh;
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

/* Series generation at the process's own change times (spot.h). */
int pm_spot_ar1_series(const char *model, const struct pm_param *params, size_t nparams,
		       gsl_rng *rng, size_t nchanges, int64_t *t_ns, money_t *price,
		       struct pm_error *err)
{
	struct pm_instance *inst;
	int rc = pm_create(model, params, nparams, &inst, err);

	if (rc)
		return rc;
	if (pm_instance_model(inst)->create != spot_create) {
		pm_destroy(inst);
		return pm__errorf(err, -EINVAL, "%s is not a spot-ar1 model", model);
	}
	struct spot *s = (struct spot *)pm__impl(inst);
	struct pm_pool pool = {.supply = 0, .rng = rng, .round_ns = 1};
	size_t n = 0;
	money_t last = -1;
	while (n < nchanges && !rc) {
		pool.now_ns = s->started ? s->next_change_ns : 0;
		if (pool.now_ns == INT64_MAX)
			break;
		rc = advance(s, &pool, err);
		if (!rc && posted(s) != last) {
			last = posted(s);
			t_ns[n] = pool.now_ns;
			price[n++] = last;
		}
	}
	pm_destroy(inst);
	if (!rc && n < nchanges)
		rc = pm__errorf(err, -ERANGE, "%s: the price stopped changing", model);
	return rc;
}

/* Fitted on ../shared/data (2010-01-20 to 2010-07-20, 32 traces, pooled) with
 * `raas-sim fit-spot`; docs/pricing-models.md has the per-trace figures. */
static const struct pm_param_spec spot_params[] = {
	{"floor", PM_PARAM_MONEY, "$0.034", "F: lowest reserve per unit-hour (band floor)"},
	{"ceiling", PM_PARAM_MONEY, "$0.038", "C: highest reserve per unit-hour (band ceiling)"},
	{"a", PM_PARAM_DOUBLE, PM_SPOT_FIT_A, "AR(1) coefficient: D_i = -a D_{i-1} + eps"},
	{"sigma_factor", PM_PARAM_DOUBLE, PM_SPOT_FIT_SIGMA,
	 "innovation deviation as a fraction of C - F"},
	{"jump_prob", PM_PARAM_DOUBLE, PM_SPOT_FIT_JUMP,
	 "probability that a change jumps at least (C - F) / 2 instead of an AR(1) step"},
	{"tick", PM_PARAM_MONEY, "$0.001", "price resolution (EC2: 0.1 cent)"},
	{"min_interval", PM_PARAM_DURATION, PM_SPOT_FIT_MIN_INTERVAL,
	 "no change within this time of the last one"},
	{"interval_spread", PM_PARAM_DURATION, PM_SPOT_FIT_SPREAD,
	 "reconsiderations come U[min_interval, min_interval + spread] apart"},
	{"change_prob", PM_PARAM_DOUBLE, PM_SPOT_FIT_CHANGE_PROB,
	 "probability that the first reconsideration after a change changes the price"},
	{"change_prob_later", PM_PARAM_DOUBLE, PM_SPOT_FIT_CHANGE_LATER,
	 "probability that a later reconsideration changes the price"},
	{"gap_mean", PM_PARAM_DURATION, "0s",
	 "mean of an exponential extra time between reconsiderations (0: none)"},
	{"excursion_prob", PM_PARAM_DOUBLE, PM_SPOT_FIT_EXC_PROB,
	 "probability that a change from inside the band goes above it"},
	{"excursion_stay", PM_PARAM_DOUBLE, PM_SPOT_FIT_EXC_STAY,
	 "probability that a change above the band stays above it"},
	{"excursion_height", PM_PARAM_DOUBLE, PM_SPOT_FIT_EXC_HEIGHT,
	 "mean height of an excursion above C + 0.12 (C - F), in units of C - F"},
	{"excursion_change_prob", PM_PARAM_DOUBLE, PM_SPOT_FIT_EXC_CHANGE,
	 "probability that a reconsideration during an excursion changes the price"},
	{"supply_cap", PM_PARAM_INT, "0", "sell at most this many units (0: no cap)"},
};

/* The paper's process, its published estimates as the parameters. */
static const struct pm_param_spec paper_params[] = {
	{"floor", PM_PARAM_MONEY, "$0.034", "F: lowest reserve per unit-hour (band floor)"},
	{"ceiling", PM_PARAM_MONEY, "$0.038", "C: highest reserve per unit-hour (band ceiling)"},
	{"a", PM_PARAM_DOUBLE, "0.7", "AR(1) coefficient: D_i = -a D_{i-1} + eps"},
	{"sigma_factor", PM_PARAM_DOUBLE, "0.39", "innovation deviation as a fraction of C - F"},
	{"jump_prob", PM_PARAM_DOUBLE, "0",
	 "probability that a change jumps at least (C - F) / 2 instead of an AR(1) step"},
	{"tick", PM_PARAM_MONEY, "$0.001", "price resolution (EC2: 0.1 cent)"},
	{"min_interval", PM_PARAM_DURATION, "1h", "no change within this time of the last one"},
	{"interval_spread", PM_PARAM_DURATION, "0s",
	 "reconsiderations come U[min_interval, min_interval + spread] apart"},
	{"change_prob", PM_PARAM_DOUBLE, "1",
	 "probability that the first reconsideration after a change changes the price"},
	{"change_prob_later", PM_PARAM_DOUBLE, "1",
	 "probability that a later reconsideration changes the price"},
	{"gap_mean", PM_PARAM_DURATION, "0s",
	 "mean of an exponential extra time between reconsiderations (0: none)"},
	{"excursion_prob", PM_PARAM_DOUBLE, "0",
	 "probability that a change from inside the band goes above it"},
	{"excursion_stay", PM_PARAM_DOUBLE, "0",
	 "probability that a change above the band stays above it"},
	{"excursion_height", PM_PARAM_DOUBLE, "0",
	 "mean height of an excursion above C + 0.12 (C - F), in units of C - F"},
	{"excursion_change_prob", PM_PARAM_DOUBLE, "1",
	 "probability that a reconsideration during an excursion changes the price"},
	{"supply_cap", PM_PARAM_INT, "0", "sell at most this many units (0: no cap)"},
};

const struct pm_model pm_model_spot_ar1 = {
	.api_version = PM_API_VERSION,
	.size = sizeof(struct pm_model),
	.name = "spot-ar1",
	.summary = "EC2 2010 hidden AR(1) reserve price, calibrated to the traces' statistics, "
		   "with an (N+1)-th price auction",
	.params = spot_params,
	.nparams = sizeof(spot_params) / sizeof(spot_params[0]),
	.create = spot_create,
	.destroy = spot_destroy,
	.clear = spot_clear,
	.posted_price = spot_posted_price,
	.check = spot_check,
};

const struct pm_model pm_model_spot_ar1_paper = {
	.api_version = PM_API_VERSION,
	.size = sizeof(struct pm_model),
	.name = "spot-ar1-paper",
	.summary = "EC2 2010 hidden AR(1) reserve price with the TEAC paper's estimates as its "
		   "parameters (a change every hour)",
	.params = paper_params,
	.nparams = sizeof(paper_params) / sizeof(paper_params[0]),
	.create = spot_create,
	.destroy = spot_destroy,
	.clear = spot_clear,
	.posted_price = spot_posted_price,
	.check = spot_check,
};
