/* model_utilization.c: a posted price stepped by the pool's utilization, CloudSigma-style.
 *
 * CloudSigma's "burst" prices come from a table of levels; the cloud measures usage every
 * five minutes and applies the resulting level five minutes later. Here the utilization of a
 * period (allocated / supply, averaged over its rounds weighted by round length) selects a
 * multiplier of the base price, which is posted during the next period. The map from
 * utilization to level is not public, so it is a parameter.
 *
 * State and invariants (utilization_check(), reached through pm_check()):
 *   1. The posted price is base x the multiplier of some level (the current one).
 *   2. With period > 0: period_start <= the last call's now_ns < period_start + period, and
 *      acc_ns is the weight of the rounds seen since period_start.
 *   3. Levels are sorted by threshold, the first is 0, multipliers are positive. */
#include <ctype.h>
#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "pm_internal.h"
#include "pricing/models.h"

#define MAX_LEVELS 32

struct utilization {
	money_t base;
	double thr[MAX_LEVELS], mult[MAX_LEVELS];
	size_t nlevels;
	int64_t period;
	bool started;
	size_t level;           /* the level posted now */
	int64_t period_start;
	double acc_util, acc_ns; /* the open period's weighted utilization */
	int64_t last_now;
	struct pm_posted_ws ws;
};

static size_t level_of(const struct utilization *u, double util)
{
	size_t l = 0;
	while (l + 1 < u->nlevels && u->thr[l + 1] <= util)
		l++;
	return l;
}

static money_t price_of(const struct utilization *u, size_t level)
{
	double p = (double)u->base * u->mult[level];
	return p >= 9.2e18 ? INT64_MAX : (money_t)llround(p);
}

/* Closes the period when now has left it; the level it measured applies from now on. */
static void advance(struct utilization *u, int64_t now)
{
	if (!u->started) {
		u->started = true;
		u->level = 0;
		u->period_start = now;
		u->last_now = now;
		return;
	}
	if (now > u->last_now)
		u->last_now = now;
	if (u->period > 0 && now - u->period_start >= u->period) {
		u->level = level_of(u, u->acc_ns > 0 ? u->acc_util / u->acc_ns : 0);
		u->period_start += (now - u->period_start) / u->period * u->period;
		u->acc_util = u->acc_ns = 0;
	}
}

static int util_clear(struct pm_instance *inst, const struct pm_pool *pool,
		      const struct pm_bid *bids, size_t nbids, struct pm_result *res,
		      struct pm_error *err)
{
	struct utilization *u = (struct utilization *)inst;
	advance(u, pool->now_ns);
	int rc = pm__posted_clear(&u->ws, bids, nbids, pool->supply, price_of(u, u->level), res,
				  err);
	if (rc)
		return rc;
	double util = pool->supply > 0 ? (double)res->allocated / (double)pool->supply : 0;
	if (u->period == 0) {
		u->level = level_of(u, util);
	} else {
		double w = pool->round_ns > 0 ? (double)pool->round_ns : 1;
		u->acc_util += util * w;
		u->acc_ns += w;
	}
	return 0;
}

static int util_posted_price(struct pm_instance *inst, const struct pm_pool *pool, money_t *out)
{
	struct utilization *u = (struct utilization *)inst;
	advance(u, pool->now_ns);
	*out = price_of(u, u->level);
	return 0;
}

static int util_check(struct pm_instance *inst, struct pm_error *err)
{
	struct utilization *u = (struct utilization *)inst;
	if (u->level >= u->nlevels || u->thr[0] != 0)
		return pm__errorf(err, -EPROTO, "utilization: level %zu of %zu", u->level,
				  u->nlevels);
	for (size_t l = 1; l < u->nlevels; l++)
		if (!(u->thr[l] > u->thr[l - 1]) || !(u->mult[l] > 0))
			return pm__errorf(err, -EPROTO, "utilization: levels out of order at %zu", l);
	if (u->period > 0 && u->started &&
	    (u->last_now < u->period_start || u->last_now - u->period_start >= u->period))
		return pm__errorf(err, -EPROTO, "utilization: now outside the open period");
	return 0;
}

/* Parses "threshold:multiplier ..." (separated by spaces, commas or semicolons). */
static int parse_levels(struct utilization *u, const char *text, struct pm_error *err)
{
	const char *p = text;
	u->nlevels = 0;
	for (;;) {
		while (*p && (isspace((unsigned char)*p) || *p == ',' || *p == ';'))
			p++;
		if (!*p)
			break;
		if (u->nlevels == MAX_LEVELS)
			return pm__errorf(err, -EINVAL, "utilization: levels: more than %d levels",
					  MAX_LEVELS);
		char *end;
		double t = strtod(p, &end);
		if (end == p || *end != ':')
			return pm__errorf(err, -EINVAL,
					  "utilization: levels: item %zu '%.20s': expected "
					  "threshold:multiplier",
					  u->nlevels + 1, p);
		const char *m_text = end + 1;
		double m = strtod(m_text, &end);
		if (end == m_text || (*end && !isspace((unsigned char)*end) && *end != ',' &&
				      *end != ';'))
			return pm__errorf(err, -EINVAL,
					  "utilization: levels: item %zu '%.20s': bad multiplier",
					  u->nlevels + 1, p);
		if (!isfinite(t) || t < 0 || t > 1)
			return pm__errorf(err, -EINVAL,
					  "utilization: levels: item %zu: threshold %g outside [0, 1]",
					  u->nlevels + 1, t);
		if (!isfinite(m) || m <= 0 || m > 1e6)
			return pm__errorf(err, -EINVAL,
					  "utilization: levels: item %zu: multiplier %g not in (0, 1e6]",
					  u->nlevels + 1, m);
		if (u->nlevels == 0 && t != 0)
			return pm__errorf(err, -EINVAL,
					  "utilization: levels: the first threshold must be 0 (got %g)",
					  t);
		if (u->nlevels && t <= u->thr[u->nlevels - 1])
			return pm__errorf(err, -EINVAL,
					  "utilization: levels: item %zu: threshold %g does not "
					  "increase",
					  u->nlevels + 1, t);
		u->thr[u->nlevels] = t;
		u->mult[u->nlevels] = m;
		u->nlevels++;
		p = end;
	}
	if (!u->nlevels)
		return pm__errorf(err, -EINVAL, "utilization: levels: no levels");
	return 0;
}

static int util_create(const struct pm_param *params, size_t nparams, struct pm_instance **out,
		       struct pm_error *err)
{
	money_t base;
	int64_t period;
	int rc;

	if ((rc = pm__param_money_nonneg(params, nparams, "utilization", "base", &base, err)) ||
	    (rc = pm__param_duration(params, nparams, "period", &period, err)))
		return rc;
	struct utilization *u = calloc(1, sizeof(*u));
	if (!u)
		return pm__errorf(err, -ENOMEM, "utilization: out of memory");
	u->base = base;
	u->period = period;
	if ((rc = parse_levels(u, pm__param(params, nparams, "levels"), err))) {
		free(u);
		return rc;
	}
	for (size_t l = 0; l < u->nlevels; l++)
		if ((double)base * u->mult[l] >= 9.2e18) {
			rc = pm__errorf(err, -EINVAL, "utilization: base x multiplier %g overflows",
					u->mult[l]);
			free(u);
			return rc;
		}
	*out = (struct pm_instance *)u;
	return 0;
}

static void util_destroy(struct pm_instance *inst)
{
	struct utilization *u = (struct utilization *)inst;
	pm__posted_ws_free(&u->ws);
	free(u);
}

static const struct pm_param_spec util_params[] = {
	{"base", PM_PARAM_MONEY, "$0.05", "price per unit-hour at multiplier 1"},
	{"levels", PM_PARAM_STRING, "0:1 0.5:1.25 0.7:1.5 0.8:2 0.9:3",
	 "threshold:multiplier pairs, thresholds ascending from 0 (utilization 0..1)"},
	{"period", PM_PARAM_DURATION, "0s",
	 "measurement period; its level applies during the next one (0: every round)"},
};

const struct pm_model pm_model_utilization = {
	.api_version = PM_API_VERSION,
	.size = sizeof(struct pm_model),
	.name = "utilization",
	.summary = "posted price stepped by last period's utilization (CloudSigma burst)",
	.params = util_params,
	.nparams = sizeof(util_params) / sizeof(util_params[0]),
	.create = util_create,
	.destroy = util_destroy,
	.clear = util_clear,
	.posted_price = util_posted_price,
	.check = util_check,
};
