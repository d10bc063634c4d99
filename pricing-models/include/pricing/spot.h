/* spot.h: statistics of spot price series, and spot-ar1 calibrated to them.
 *
 * The TEAC paper's AR(1) figures (a1 = -0.7, sigma = 0.39 (C - F)) are least-squares
 * estimates from real, truncated, rounded prices. A model is calibrated here by the same
 * measurement applied to both sides: the statistics below are computed the same way on a
 * trace and on the model's output, and the model's parameters are searched until its output
 * measures like the trace (indirect inference). raas-sim fit-spot prints them; the test
 * pricing-models/tests/test_pm_spot_ar1.c compares the model with every trace in
 * ../shared/data; docs/pricing-models.md reports both.
 *
 * Statistics of a series (pm_spot_stats_compute), over the changes in a time window:
 *  - the band: F = the lowest price; C = the last level of the walk up from F over the
 *    occupied tick levels (one unvisited level may be skipped) before the first level held
 *    less than an eighth of the mean time of those below it (a level visited once, an
 *    excursion's price, is not the band);
 *  - AR(1) of the deltas inside the band: least squares with intercept of D_i / (C - F) on
 *    D_{i-1} / (C - F) over every three consecutive changes all within [F, C]: the slope a1,
 *    its standard error, and the residual deviation `sd` (in units of C - F); and the share
 *    of moves inside the band of at least (C - F) / 2 (`big_share`);
 *  - the time between changes: every gap (sorted), those from a price inside the band (the
 *    reserve's timing; what a KS test compares: above the band, the demand of real bidders
 *    holds a price as long as it lasts), and the reconsideration model of the latter:
 *    min_interval and spread from the first mode's 1% and 99% quantiles (U[m, m + s]),
 *    change_prob = the share of gaps in that first mode, change_prob_later = the share of the
 *    longer gaps in the second mode (two intervals);
 *  - the time at the floor and above the band (fractions of the window's time);
 *  - excursions: how often a change from inside the band goes above it (exc_prob), how often
 *    a change above it stays above (exc_stay), the mean height above C + 0.12 (C - F)
 *    (exc_height, in units of C - F; the traces' excursions are never closer to C).
 * Money is nanodollars, time nanoseconds (gaps in seconds, as doubles). */
#ifndef PRICING_SPOT_H
#define PRICING_SPOT_H

#include <gsl/gsl_rng.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "common/money.h"
#include "pricing/pm.h"

/* spot-ar1's shipped defaults: the pooled fit over the 32 traces of ../shared/data in the
 * epoch below, seed 1 (raas-sim fit-spot ../shared/data/ec2-spot-2009-2011/ *.csv). Their
 * output measures a1 -0.750, sd 0.361, big moves 60.4%, against the pooled traces' -0.758,
 * 0.364 and 59.5%. */
#define PM_SPOT_FIT_A "0.848"
#define PM_SPOT_FIT_SIGMA "0.519"
#define PM_SPOT_FIT_JUMP "0.373"
#define PM_SPOT_FIT_MIN_INTERVAL "3636s"
#define PM_SPOT_FIT_SPREAD "1815s"
#define PM_SPOT_FIT_CHANGE_PROB "0.466"
#define PM_SPOT_FIT_CHANGE_LATER "0.432"
#define PM_SPOT_FIT_EXC_PROB "0.0098"
#define PM_SPOT_FIT_EXC_STAY "0.468"
#define PM_SPOT_FIT_EXC_HEIGHT "5.07"
#define PM_SPOT_FIT_EXC_CHANGE "0.541"

/* The lowest excursion above the band, in units of C - F (the traces' lowest is 0.12). */
#define PM_SPOT_EXCURSION_MIN 0.12

/* The AR(1) epoch with a quiet hour (TEAC 2013: 20 January to July 2010). */
#define PM_SPOT_EPOCH_FROM "2010-01-20 00:00:00"
#define PM_SPOT_EPOCH_TO "2010-07-20 00:00:00"

struct pm_spot_stats {
	money_t floor, ceiling, tick; /* the band (0 in a pooled figure) */
	size_t changes;               /* price points in the window */
	/* AR(1) of the deltas inside the band, in units of C - F */
	size_t pairs;
	double a1, a1_se, sd;
	double sx, sy, sxx, sxy, syy; /* sums over the pairs (pooling adds them) */
	size_t moves, big_moves;      /* consecutive changes inside the band; of >= (C - F) / 2 */
	double big_share;
	/* time in the window */
	int64_t span_ns, floor_ns, above_ns;
	double floor_time, above_time;
	/* gaps between changes in seconds, ascending; owned (pm_spot_stats_fini): all of them,
	 * and those from a price inside the band (the reserve's own timing) */
	double *gaps, *band_gaps;
	size_t ngaps, nband_gaps;
	double gap_median_s, gap_mean_s;
	/* the reconsideration model of the gaps */
	double min_interval_s, spread_s, change_prob, change_later;
	/* excursions: changes (with a successor) inside / above the band, entries, stays */
	size_t in_next, entries, above_next, stays, above_points;
	size_t above_gaps, above_first;  /* gaps from a price above the band; of one interval */
	double excess_sum;            /* sum over points above C of (P - C) / (C - F) - 0.12 */
	double exc_prob, exc_stay, exc_height, exc_change;
};

/* Statistics of the n changes (t_ns ascending, prices in nanodollars) that fall in
 * [from_ns, to_ns), prices on a grid of tick. Returns 0, or -RAAS_EPARSE with err saying why
 * the series cannot be measured (fewer than 10 changes in the window, a band of one level,
 * no three consecutive changes inside it), or -ENOMEM. */
int pm_spot_stats_compute(const int64_t *t_ns, const money_t *price, size_t n, int64_t from_ns,
			  int64_t to_ns, money_t tick, struct pm_spot_stats *out,
			  struct pm_error *err);
/* Pools n series' statistics: the regressions' sums (deltas already in units of each band's
 * C - F), the times, the gaps and the excursion counts; the gap model and the rates are
 * re-estimated from the pooled figures. Returns 0 or -ENOMEM. */
int pm_spot_stats_pool(const struct pm_spot_stats *v, size_t n, struct pm_spot_stats *out);
void pm_spot_stats_fini(struct pm_spot_stats *s);

/* Two-sample Kolmogorov-Smirnov test of two ascending samples: returns the statistic D and
 * sets *p_value (asymptotic Kolmogorov distribution with Stephens' small-sample factor). */
double pm_ks2(const double *a, size_t na, const double *b, size_t nb, double *p_value);

/* ---- the model's own output ---- */

/* Runs a spot-ar1 model (spot-ar1 or spot-ar1-paper) from params at its own change times,
 * drawing from rng, and writes the first nchanges prices and their times. Returns 0 or a
 * negative error with err filled. */
int pm_spot_ar1_series(const char *model, const struct pm_param *params, size_t nparams,
		       gsl_rng *rng, size_t nchanges, int64_t *t_ns, money_t *price,
		       struct pm_error *err);
/* The statistics of nchanges of the model's output (params as "name=value, ..." text,
 * generator mt19937 seeded with seed), measured as a trace is. */
int pm_spot_model_stats(const char *model, const char *params, uint64_t seed, size_t nchanges,
			money_t tick, struct pm_spot_stats *out, struct pm_error *err);

/* ---- calibration ---- */

struct pm_spot_fit {
	double a, sigma_factor, jump_prob;       /* searched */
	double min_interval_s, spread_s, change_prob, change_later; /* from the gaps */
	double exc_prob, exc_stay, exc_height, exc_change; /* from the excursions */
	double a1, sd, big_share;                /* the fitted model's output */
	int evaluations;
	bool converged;      /* a1 within 0.005, sd within 1%, big_share within 0.01 */
};

/* Fits spot-ar1 to target: its (a, sigma_factor, jump_prob) are searched (Nelder-Mead on
 * the squared residuals in units of the tolerances, common random numbers) until the model,
 * run on every band of bands[0..nbands) (the traces the target pools; the target itself for
 * one trace) for `changes` changes each from seed, has target's a1, sd and big_share (when
 * every band is 3 ticks or narrower every move is big: jump_prob stays 0); the gap and
 * excursion parameters are target's estimates. Returns 0 (out->converged says whether the
 * tolerances were met) or a negative error with err. */
int pm_spot_fit(const struct pm_spot_stats *bands, size_t nbands,
		const struct pm_spot_stats *target, uint64_t seed, size_t changes,
		struct pm_spot_fit *out, struct pm_error *err);
/* spot-ar1's parameter text for a fit and a band ("floor=$..., ceiling=$..., a=..."). */
int pm_spot_fit_params(const struct pm_spot_fit *f, money_t floor, money_t ceiling,
		       money_t tick, char *buf, size_t len);

#endif
