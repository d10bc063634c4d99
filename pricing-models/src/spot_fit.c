/* spot_fit.c: calibrating spot-ar1 so that its output measures like a trace (spot.h).
 *
 * Indirect inference: the model's (a, sigma_factor, jump_prob) are the unknowns, the
 * statistics of its output (a1, sd, big_share, measured by pm_spot_stats_compute exactly as
 * on a trace) the equations.
 * Every evaluation runs the model from the same seed (common random numbers), which makes
 * the output a deterministic (if stepwise) function of the parameters, searched by Nelder-Mead. The gap and excursion parameters need no search: the reconsideration model
 * and the excursion rates are estimated from the trace directly and are what the model
 * reproduces by construction. */
#include <errno.h>
#include <gsl/gsl_multimin.h>
#include <gsl/gsl_rng.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/error.h"
#include "pm_internal.h"
#include "pricing/spot.h"

int pm_spot_model_stats(const char *model, const char *params, uint64_t seed, size_t nchanges,
			money_t tick, struct pm_spot_stats *out, struct pm_error *err)
{
	struct pm_param pv[32];
	char *storage = NULL;
	int np = pm_params_parse(params, pv, 32, &storage, err), rc;

	memset(out, 0, sizeof(*out));
	if (np < 0)
		return np;
	int64_t *t = malloc(nchanges * sizeof(*t));
	money_t *p = malloc(nchanges * sizeof(*p));
	gsl_rng *rng = gsl_rng_alloc(gsl_rng_mt19937);
	if (!t || !p || !rng) {
		rc = pm__errorf(err, -ENOMEM, "out of memory");
		goto out;
	}
	gsl_rng_set(rng, (unsigned long)seed);
	rc = pm_spot_ar1_series(model, pv, (size_t)np, rng, nchanges, t, p, err);
	if (!rc)
		rc = pm_spot_stats_compute(t, p, nchanges, INT64_MIN, INT64_MAX, tick, out, err);
out:
	free(storage);
	free(t);
	free(p);
	if (rng)
		gsl_rng_free(rng);
	return rc;
}

static void money_text(money_t v, char *buf, size_t len)
{
	snprintf(buf, len, "$%lld.%09lld", (long long)(v / 1000000000), (long long)(v % 1000000000));
}

int pm_spot_fit_params(const struct pm_spot_fit *f, money_t floor, money_t ceiling,
		       money_t tick, char *buf, size_t len)
{
	char F[32], C[32], T[32];

	money_text(floor, F, sizeof(F));
	money_text(ceiling, C, sizeof(C));
	money_text(tick, T, sizeof(T));
	int n = snprintf(buf, len,
			 "floor=%s, ceiling=%s, tick=%s, a=%.4f, sigma_factor=%.4f, jump_prob=%.4f, "
			 "min_interval=%.0fs, interval_spread=%.0fs, change_prob=%.4f, "
			 "change_prob_later=%.4f, "
			 "excursion_prob=%.4f, excursion_stay=%.4f, excursion_height=%.4f, "
			 "excursion_change_prob=%.4f",
			 F, C, T, f->a, f->sigma_factor, f->jump_prob, f->min_interval_s, f->spread_s,
			 f->change_prob, f->change_later, f->exc_prob, f->exc_stay, f->exc_height,
			 f->exc_change);
	return n < 0 || (size_t)n >= len ? -ENOSPC : 0;
}

/* The model's pooled output statistics y = (a1, sd, big_share) over every band at the fit's
 * parameters. */
static int evaluate(const struct pm_spot_stats *bands, size_t nbands, struct pm_spot_fit *f,
		    uint64_t seed, size_t changes, double y[3], struct pm_error *err)
{
	struct pm_spot_stats *each = calloc(nbands, sizeof(*each)), pooled;
	char params[512];
	int rc = 0;

	if (!each)
		return pm__errorf(err, -ENOMEM, "out of memory");
	for (size_t b = 0; b < nbands && !rc; b++) {
		rc = pm_spot_fit_params(f, bands[b].floor, bands[b].ceiling, bands[b].tick, params,
					sizeof(params));
		if (!rc)
			rc = pm_spot_model_stats("spot-ar1", params, seed + b, changes,
						 bands[b].tick, &each[b], err);
	}
	if (!rc && (rc = pm_spot_stats_pool(each, nbands, &pooled)) == 0) {
		y[0] = pooled.a1;
		y[1] = pooled.sd;
		y[2] = pooled.big_share;
		pm_spot_stats_fini(&pooled);
	}
	for (size_t b = 0; b < nbands; b++)
		pm_spot_stats_fini(&each[b]);
	free(each);
	f->evaluations++;
	return rc;
}

static double clamp(double x, double lo, double hi)
{
	return x < lo ? lo : x > hi ? hi : x;
}

/* The search works on unbounded coordinates: a = A_MAX logistic(u0), sigma_factor =
 * exp(u1), jump_prob = Q_MAX logistic(u2). */
#define A_MAX 0.995
#define Q_MAX 0.95

static double logistic(double u)
{
	return 1 / (1 + exp(-u));
}

static double logit(double p)
{
	return log(p / (1 - p));
}

struct search {
	const struct pm_spot_stats *bands;
	size_t nbands;
	const double *want;
	int m;               /* 3, or 2 with jump_prob held */
	uint64_t seed;
	size_t changes;
	struct pm_spot_fit *fit;
	int rc;
	struct pm_error *err;
};

static void place(struct pm_spot_fit *f, const gsl_vector *u, int m)
{
	f->a = A_MAX * logistic(gsl_vector_get(u, 0));
	f->sigma_factor = exp(gsl_vector_get(u, 1));
	if (m == 3)
		f->jump_prob = Q_MAX * logistic(gsl_vector_get(u, 2));
}

/* Residuals in units of the tolerances, squared and summed. */
static double cost(const double y[3], const double *want, int m)
{
	double c = 0, r;

	r = (y[0] - want[0]) / 0.005;
	c += r * r;
	r = (y[1] - want[1]) / want[1] / 0.01;
	c += r * r;
	if (m == 3) {
		r = (y[2] - want[2]) / 0.01;
		c += r * r;
	}
	return c;
}

static double objective(const gsl_vector *u, void *arg)
{
	struct search *s = arg;
	struct pm_spot_fit f = *s->fit;
	double y[3];

	if (s->rc)
		return 1e300;
	place(&f, u, s->m);
	int rc = evaluate(s->bands, s->nbands, &f, s->seed, s->changes, y, s->err);
	s->fit->evaluations++;
	/* Output that cannot be measured (no band found) is far from any trace. */
	if (rc == -RAAS_EPARSE)
		return 1e12;
	s->rc = rc;
	return rc ? 1e300 : cost(y, s->want, s->m);
}

int pm_spot_fit(const struct pm_spot_stats *bands, size_t nbands,
		const struct pm_spot_stats *target, uint64_t seed, size_t changes,
		struct pm_spot_fit *out, struct pm_error *err)
{
	const double want[3] = {target->a1, target->sd, target->big_share};
	double y[3];
	int rc;

	memset(out, 0, sizeof(*out));
	if (!nbands || !(want[1] > 0))
		return pm__errorf(err, -EINVAL, "spot fit: no band or no deviation to fit");
	/* Where every move is at least half the band, the jump share says nothing. */
	int m = 2;
	for (size_t b = 0; b < nbands; b++)
		if ((bands[b].ceiling - bands[b].floor) / bands[b].tick > 3)
			m = 3;
	out->min_interval_s = target->min_interval_s > 0 ? target->min_interval_s : 3600;
	out->spread_s = target->spread_s > 0 ? target->spread_s : 0;
	out->change_prob = clamp(target->change_prob, 0.01, 1);
	out->change_later = clamp(target->change_later, 0.01, 1);
	out->exc_prob = clamp(target->exc_prob, 0, 0.99);
	out->exc_stay = clamp(target->exc_stay, 0, 0.99);
	out->exc_height = clamp(target->exc_height, 0, 1000);
	out->exc_change = clamp(target->exc_change, 0.01, 1);

	/* Nelder-Mead (the output is a step function of the parameters at a fixed seed, so
	 * no derivatives), restarted once from its own best point. */
	struct search s = {bands, nbands, want, m, seed, changes, out, 0, err};
	gsl_multimin_function fn = {.n = (size_t)m, .f = objective, .params = &s};
	gsl_vector *u = gsl_vector_alloc((size_t)m), *step = gsl_vector_alloc((size_t)m);
	gsl_multimin_fminimizer *mz =
		gsl_multimin_fminimizer_alloc(gsl_multimin_fminimizer_nmsimplex2, (size_t)m);
	if (!u || !step || !mz) {
		rc = pm__errorf(err, -ENOMEM, "out of memory");
		goto done;
	}
	gsl_vector_set(u, 0, logit(0.6 / A_MAX));
	gsl_vector_set(u, 1, log(clamp(want[1] * 1.2, 0.05, 5)));
	if (m == 3)
		gsl_vector_set(u, 2, logit(0.3 / Q_MAX));
	for (int round = 0; round < 2 && !s.rc; round++) {
		gsl_vector_set_all(step, round ? 0.3 : 0.8);
		gsl_multimin_fminimizer_set(mz, &fn, u, step);
		for (int it = 0; it < 150 && !s.rc; it++) {
			if (gsl_multimin_fminimizer_iterate(mz))
				break;
			if (mz->fval < 1 ||
			    gsl_multimin_test_size(gsl_multimin_fminimizer_size(mz), 1e-3) ==
				    GSL_SUCCESS)
				break;
		}
		gsl_vector_memcpy(u, mz->x);
		if (mz->fval < 1)
			break;
	}
	if ((rc = s.rc))
		goto done;
	place(out, u, m);
	if (!(rc = evaluate(bands, nbands, out, seed, changes, y, err))) {
		out->a1 = y[0];
		out->sd = y[1];
		out->big_share = y[2];
		out->converged = fabs(y[0] - want[0]) < 0.005 &&
				 fabs(y[1] - want[1]) / want[1] < 0.01 &&
				 (m == 2 || fabs(y[2] - want[2]) < 0.01);
	}
done:
	gsl_multimin_fminimizer_free(mz);
	gsl_vector_free(u);
	gsl_vector_free(step);
	return rc;
}
