/* utility.c: the penalty, refund and bonus utility functions of the nom thesis (VEE'16 Eq. 2-4).
 *
 * Each function is written as U = T * (a(L, sigma) - P), where a is the value of a Gbit served
 * at mean latency L and jitter sigma. Computing a once per working point (it does not depend on
 * the price) is what makes the optimizer cheap; the formulas below are the thesis's, term by
 * term, with the units of econ.h. */
#include <errno.h>
#include <math.h>
#include <string.h>

#include "nom/econ.h"

void econ_utility_thesis(enum econ_kind kind, struct econ_utility *u)
{
	memset(u, 0, sizeof(*u));
	u->kind = kind;
	u->alpha = ECON_THESIS_ALPHA;
	u->x = ECON_THESIS_X;
	u->l0_us = ECON_THESIS_L0_US;
	u->beta_per_ms = ECON_THESIS_BETA_PER_MS;
	u->gamma_ms = ECON_THESIS_GAMMA_MS;
	u->delta = ECON_THESIS_DELTA;
}

int econ_utility_check(const struct econ_utility *u, const char **why)
{
	const char *w = NULL;

	if (u->kind != ECON_PENALTY && u->kind != ECON_REFUND && u->kind != ECON_BONUS)
		w = "unknown utility kind";
	else if (!isfinite(u->alpha) || u->alpha < 0)
		w = "alpha must be a finite number >= 0 ($/Gbit)";
	else if (u->kind == ECON_PENALTY && (!isfinite(u->x) || u->x < 0))
		w = "x must be a finite number >= 0";
	else if (u->kind == ECON_PENALTY && (!isfinite(u->l0_us) || u->l0_us <= 0))
		w = "l0 must be a finite latency > 0";
	else if (u->kind == ECON_REFUND && (!isfinite(u->beta_per_ms) || u->beta_per_ms < 0))
		w = "beta must be a finite number >= 0 ($/Gbit per ms)";
	else if (u->kind == ECON_BONUS && (!isfinite(u->gamma_ms) || u->gamma_ms < 0))
		w = "gamma must be a finite number >= 0 ($/Gbit x ms)";
	else if (u->kind == ECON_BONUS && (isnan(u->delta) || u->delta < 0))
		w = "delta must be >= 0 ($/Gbit) or inf";
	if (why)
		*why = w;
	return w ? -EINVAL : 0;
}

const char *econ_kind_name(enum econ_kind kind)
{
	switch (kind) {
	case ECON_PENALTY:
		return "penalty";
	case ECON_REFUND:
		return "refund";
	case ECON_BONUS:
		return "bonus";
	}
	return "?";
}

int econ_kind_parse(const char *name, enum econ_kind *out)
{
	static const enum econ_kind kinds[] = {ECON_PENALTY, ECON_REFUND, ECON_BONUS};

	for (size_t i = 0; i < sizeof(kinds) / sizeof(kinds[0]); i++) {
		if (strcmp(name, econ_kind_name(kinds[i])) == 0) {
			*out = kinds[i];
			return 0;
		}
	}
	return -EINVAL;
}

double econ_tail_prob(double l0_us, double latency_us, double jitter_us)
{
	if (!(jitter_us > 0))
		return latency_us > l0_us ? 1.0 : 0.0;
	/* P[X > L0] = Q((L0 - L) / sigma) = erfc((L0 - L) / (sigma sqrt 2)) / 2. */
	return 0.5 * erfc((l0_us - latency_us) / (jitter_us * M_SQRT2));
}

double econ_value_per_gbit(const struct econ_utility *u, double latency_us, double jitter_us)
{
	switch (u->kind) {
	case ECON_PENALTY: {
		double share = u->x * econ_tail_prob(u->l0_us, latency_us, jitter_us);
		return u->alpha * (1.0 - fmin(1.0, share));
	}
	case ECON_REFUND:
		return fmax(0.0, u->alpha - u->beta_per_ms * (latency_us / 1000.0));
	case ECON_BONUS: {
		if (!(latency_us > 0))
			return u->alpha + u->delta;
		double bonus = u->gamma_ms / (latency_us / 1000.0);
		return u->alpha + fmin(bonus, u->delta);
	}
	}
	return 0.0;
}

double econ_utility_rate(const struct econ_utility *u, double tput_gbps, double latency_us,
			 double jitter_us, double price_per_gbit)
{
	return tput_gbps * (econ_value_per_gbit(u, latency_us, jitter_us) - price_per_gbit);
}

double econ_gbps(double requests_per_s, double bytes_per_request)
{
	return requests_per_s * bytes_per_request * 8.0 / 1e9;
}

bool econ_uses_jitter(const struct econ_utility *u)
{
	return u->kind == ECON_PENALTY;
}
