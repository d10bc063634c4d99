/* spot_stats.c: the statistics of a spot price series (spot.h), the same for a trace and
 * for the model's output, so that a calibration compares like with like. */
#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "common/error.h"
#include "pm_internal.h"
#include "pricing/spot.h"

struct level {
	int64_t level;
	int64_t held_ns;
};

static int cmp_level(const void *a, const void *b)
{
	int64_t x = ((const struct level *)a)->level, y = ((const struct level *)b)->level;
	return x < y ? -1 : x > y;
}

static int cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;
	return x < y ? -1 : x > y;
}

/* The q-quantile of an ascending sample (nearest rank below). */
static double quantile(const double *v, size_t n, double q)
{
	if (!n)
		return 0;
	size_t k = (size_t)(q * (double)(n - 1));
	return v[k];
}

/* The band's ceiling level: walking up from the floor over the occupied levels (one unvisited
 * level may be skipped, which a short series leaves in a wide band), the band ends before the
 * first level held less than an eighth of the mean time of the levels below it. lv is sorted
 * by level and merged. */
static int64_t band_top(const struct level *lv, size_t n)
{
	int64_t sum = lv[0].held_ns;
	size_t k = 1, top = 0;

	for (size_t i = 1; i < n; i++) {
		if (lv[i].level > lv[top].level + 2 || lv[i].held_ns * 8 * (int64_t)k < sum)
			break;
		top = i;
		sum += lv[i].held_ns;
		k++;
	}
	return lv[top].level;
}

/* The regression's figures from its sums. */
static void regress(struct pm_spot_stats *s)
{
	double n = (double)s->pairs;
	s->a1 = s->a1_se = s->sd = 0;
	if (s->pairs < 3)
		return;
	double vxx = s->sxx - s->sx * s->sx / n, vxy = s->sxy - s->sx * s->sy / n;
	double vyy = s->syy - s->sy * s->sy / n;
	if (!(vxx > 0))
		return;
	s->a1 = vxy / vxx;
	double ss = vyy - s->a1 * vxy;
	double var = ss > 0 ? ss / (n - 2) : 0;
	s->sd = sqrt(var);
	s->a1_se = sqrt(var / vxx);
}

/* The reconsideration model of the sorted gaps and the excursion rates from the counts. */
static void estimate(struct pm_spot_stats *s)
{
	s->gap_median_s = quantile(s->gaps, s->ngaps, 0.5);
	double sum = 0;
	for (size_t i = 0; i < s->ngaps; i++)
		sum += s->gaps[i];
	s->gap_mean_s = s->ngaps ? sum / (double)s->ngaps : 0;
	const double *g = s->band_gaps;
	size_t n = s->nband_gaps;
	double m0 = quantile(g, n, 0.01);
	size_t lo = 0, hi = 0;
	while (lo < n && g[lo] < 0.9 * m0)
		lo++;
	hi = lo;
	while (hi < n && g[hi] < 1.9 * m0)
		hi++;
	if (hi > lo) {
		double q01 = quantile(g + lo, hi - lo, 0.01);
		double q99 = quantile(g + lo, hi - lo, 0.99);
		s->spread_s = (q99 - q01) / 0.98;
		s->min_interval_s = q01 - 0.01 * s->spread_s;
		s->change_prob = (double)(hi - lo) / (double)(n - lo);
		size_t k2 = hi;
		while (k2 < n && g[k2] < 2.95 * m0)
			k2++;
		s->change_later = n > hi ? (double)(k2 - hi) / (double)(n - hi) : s->change_prob;
	}
	s->big_share = s->moves ? (double)s->big_moves / (double)s->moves : 0;
	s->floor_time = s->span_ns ? (double)s->floor_ns / (double)s->span_ns : 0;
	s->above_time = s->span_ns ? (double)s->above_ns / (double)s->span_ns : 0;
	s->exc_prob = s->in_next ? (double)s->entries / (double)s->in_next : 0;
	s->exc_stay = s->above_next ? (double)s->stays / (double)s->above_next : 0;
	s->exc_height = s->above_points ? s->excess_sum / (double)s->above_points : 0;
	s->exc_change = s->above_gaps ? (double)s->above_first / (double)s->above_gaps : 1;
	if (s->exc_height < 0)
		s->exc_height = 0;
}

int pm_spot_stats_compute(const int64_t *t_ns, const money_t *price, size_t n, int64_t from_ns,
			  int64_t to_ns, money_t tick, struct pm_spot_stats *out,
			  struct pm_error *err)
{
	memset(out, 0, sizeof(*out));
	if (tick <= 0)
		return pm__errorf(err, -EINVAL, "spot statistics: tick must be positive");
	size_t i0 = 0, i1;
	while (i0 < n && t_ns[i0] < from_ns)
		i0++;
	i1 = i0;
	while (i1 < n && t_ns[i1] < to_ns)
		i1++;
	size_t m = i1 - i0;
	if (m < 10)
		return pm__errorf(err, -RAAS_EPARSE,
				  "%zu price changes in the window (at least 10 needed)", m);
	const int64_t *t = t_ns + i0;
	const money_t *p = price + i0;

	/* Time held per price level. */
	struct level *lv = malloc(m * sizeof(*lv));
	if (!lv)
		return pm__errorf(err, -ENOMEM, "out of memory");
	for (size_t i = 0; i < m; i++) {
		lv[i].level = (p[i] + tick / 2) / tick;
		lv[i].held_ns = i + 1 < m ? t[i + 1] - t[i] : 0;
	}
	qsort(lv, m, sizeof(*lv), cmp_level);
	size_t nl = 0;
	for (size_t i = 0; i < m; i++) {
		if (nl && lv[nl - 1].level == lv[i].level)
			lv[nl - 1].held_ns += lv[i].held_ns;
		else
			lv[nl++] = lv[i];
	}
	int64_t top = band_top(lv, nl);
	out->tick = tick;
	out->floor = lv[0].level * tick;
	out->ceiling = top * tick;
	free(lv);
	if (out->ceiling <= out->floor)
		return pm__errorf(err, -RAAS_EPARSE, "the band is a single price level (%lld)",
				  (long long)out->floor);
	money_t F = out->floor, C = out->ceiling;
	double width = (double)(C - F);

	out->changes = m;
	out->span_ns = t[m - 1] - t[0];
	for (size_t i = 0; i < m; i++) {
		int64_t held = i + 1 < m ? t[i + 1] - t[i] : 0;
		bool above = p[i] > C;
		if (p[i] <= F)
			out->floor_ns += held;
		if (above) {
			out->above_ns += held;
			out->above_points++;
			out->excess_sum += (double)(p[i] - C) / width - PM_SPOT_EXCURSION_MIN;
		}
		if (i + 1 < m) {
			if (above) {
				out->above_next++;
				out->stays += p[i + 1] > C;
			} else {
				out->in_next++;
				out->entries += p[i + 1] > C;
			}
		}
		if (i >= 1 && p[i] <= C && p[i - 1] <= C) {
			out->moves++;
			out->big_moves += 2 * llabs(p[i] - p[i - 1]) >= C - F;
		}
		if (i >= 2 && p[i] <= C && p[i - 1] <= C && p[i - 2] <= C) {
			double x = (double)(p[i - 1] - p[i - 2]) / width;
			double y = (double)(p[i] - p[i - 1]) / width;
			out->pairs++;
			out->sx += x;
			out->sy += y;
			out->sxx += x * x;
			out->sxy += x * y;
			out->syy += y * y;
		}
	}
	if (out->pairs < 3)
		return pm__errorf(err, -RAAS_EPARSE,
				  "no three consecutive changes inside the band [%lld, %lld]",
				  (long long)F, (long long)C);
	regress(out);
	out->ngaps = m - 1;
	out->gaps = malloc(out->ngaps * sizeof(double));
	out->band_gaps = malloc(out->ngaps * sizeof(double));
	if (!out->gaps || !out->band_gaps) {
		pm_spot_stats_fini(out);
		return pm__errorf(err, -ENOMEM, "out of memory");
	}
	for (size_t i = 0; i + 1 < m; i++) {
		out->gaps[i] = (double)(t[i + 1] - t[i]) / 1e9;
		if (p[i] <= C)
			out->band_gaps[out->nband_gaps++] = out->gaps[i];
	}
	qsort(out->gaps, out->ngaps, sizeof(double), cmp_double);
	qsort(out->band_gaps, out->nband_gaps, sizeof(double), cmp_double);
	/* Gaps from a price above the band: how many are one interval (the first mode). */
	double m0 = quantile(out->gaps, out->ngaps, 0.01);
	for (size_t i = 0; i + 1 < m; i++) {
		double g = (double)(t[i + 1] - t[i]) / 1e9;
		if (p[i] <= C || g < 0.9 * m0)
			continue;
		out->above_gaps++;
		out->above_first += g < 1.9 * m0;
	}
	estimate(out);
	return 0;
}

int pm_spot_stats_pool(const struct pm_spot_stats *v, size_t n, struct pm_spot_stats *out)
{
	size_t ngaps = 0;

	memset(out, 0, sizeof(*out));
	for (size_t i = 0; i < n; i++)
		ngaps += v[i].ngaps;
	out->gaps = malloc((ngaps ? ngaps : 1) * sizeof(double));
	out->band_gaps = malloc((ngaps ? ngaps : 1) * sizeof(double));
	if (!out->gaps || !out->band_gaps) {
		pm_spot_stats_fini(out);
		return -ENOMEM;
	}
	for (size_t i = 0; i < n; i++) {
		const struct pm_spot_stats *s = &v[i];
		out->changes += s->changes;
		out->pairs += s->pairs;
		out->moves += s->moves;
		out->big_moves += s->big_moves;
		out->sx += s->sx;
		out->sy += s->sy;
		out->sxx += s->sxx;
		out->sxy += s->sxy;
		out->syy += s->syy;
		out->span_ns += s->span_ns;
		out->floor_ns += s->floor_ns;
		out->above_ns += s->above_ns;
		out->in_next += s->in_next;
		out->entries += s->entries;
		out->above_next += s->above_next;
		out->stays += s->stays;
		out->above_points += s->above_points;
		out->above_gaps += s->above_gaps;
		out->above_first += s->above_first;
		out->excess_sum += s->excess_sum;
		memcpy(out->gaps + out->ngaps, s->gaps, s->ngaps * sizeof(double));
		out->ngaps += s->ngaps;
		memcpy(out->band_gaps + out->nband_gaps, s->band_gaps,
		       s->nband_gaps * sizeof(double));
		out->nband_gaps += s->nband_gaps;
	}
	qsort(out->gaps, out->ngaps, sizeof(double), cmp_double);
	qsort(out->band_gaps, out->nband_gaps, sizeof(double), cmp_double);
	regress(out);
	estimate(out);
	return 0;
}

void pm_spot_stats_fini(struct pm_spot_stats *s)
{
	free(s->gaps);
	free(s->band_gaps);
	s->gaps = s->band_gaps = NULL;
	s->ngaps = s->nband_gaps = 0;
}

/* Q_KS(lambda) = 2 sum_{j >= 1} (-1)^(j-1) exp(-2 j^2 lambda^2). */
static double kolmogorov_q(double lambda)
{
	if (lambda < 0.2)
		return 1;
	double sum = 0, sign = 1;
	for (int j = 1; j <= 100; j++) {
		double term = sign * exp(-2.0 * j * j * lambda * lambda);
		sum += term;
		if (fabs(term) < 1e-12)
			break;
		sign = -sign;
	}
	sum *= 2;
	return sum < 0 ? 0 : sum > 1 ? 1 : sum;
}

double pm_ks2(const double *a, size_t na, const double *b, size_t nb, double *p_value)
{
	size_t i = 0, j = 0;
	double d = 0;

	while (i < na && j < nb) {
		double x = a[i] <= b[j] ? a[i] : b[j];
		while (i < na && a[i] <= x)
			i++;
		while (j < nb && b[j] <= x)
			j++;
		double diff = fabs((double)i / (double)na - (double)j / (double)nb);
		if (diff > d)
			d = diff;
	}
	if (p_value) {
		double ne = (double)na * (double)nb / (double)(na + nb);
		double sq = sqrt(ne);
		*p_value = na && nb ? kolmogorov_q((sq + 0.12 + 0.11 / sq) * d) : 1;
	}
	return d;
}
