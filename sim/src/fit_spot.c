/* fit_spot.c: `raas-sim fit-spot`: EC2 spot traces measured, spot-ar1 fitted to them.
 *
 * The numbers docs/pricing-models.md reports and the shipped defaults of spot-ar1 come from
 * here, so that anyone can rerun them on the traces (or on others of the same format). The
 * measuring and fitting are pricing-models' (pricing/spot.h); this file reads the traces,
 * runs the comparisons and prints. */
#include <errno.h>
#include <libgen.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "common/error.h"
#include "pricing/spot.h"
#include "pricing/trace.h"
#include "fit_spot.h"

/* One series and its comparisons. */
struct row {
	char name[96];
	struct pm_spot_stats st;           /* the trace's (or pooled) statistics */
	struct pm_spot_fit fit;            /* its own fit (not for pooled_only) */
	struct pm_spot_stats m_fit, m_pool, m_paper; /* the model's output */
	double ks_fit, ks_pool, ks_paper;  /* KS p-values of the gaps against the trace's */
	double d_fit, d_pool, d_paper;
};

static void row_fini(struct row *r)
{
	pm_spot_stats_fini(&r->st);
	pm_spot_stats_fini(&r->m_fit);
	pm_spot_stats_fini(&r->m_pool);
	pm_spot_stats_fini(&r->m_paper);
}

static int load(const char *path, int64_t from, int64_t to, money_t tick, struct row *r,
		char *why, size_t why_len)
{
	struct pm_trace t;
	struct pm_error err;
	int rc = pm_trace_load(path, &t, &err);

	if (rc) {
		snprintf(why, why_len, "%s", err.message);
		return rc;
	}
	char copy[1024];
	snprintf(copy, sizeof(copy), "%s", path);
	const char *base = basename(copy);
	size_t n = strlen(base);
	if (n > 4 && strcmp(base + n - 4, ".csv") == 0)
		n -= 4;
	snprintf(r->name, sizeof(r->name), "%.*s", (int)(n < 95 ? n : 95), base);
	int64_t *ts = malloc(t.n * sizeof(*ts));
	money_t *ps = malloc(t.n * sizeof(*ps));
	if (!ts || !ps) {
		rc = -ENOMEM;
		snprintf(why, why_len, "out of memory");
	} else {
		for (size_t i = 0; i < t.n; i++) {
			ts[i] = t.points[i].t_ns;
			ps[i] = t.points[i].price;
		}
		rc = pm_spot_stats_compute(ts, ps, t.n, from, to, tick, &r->st, &err);
		if (rc)
			snprintf(why, why_len, "%s: %s", path, err.message);
	}
	free(ts);
	free(ps);
	pm_trace_free(&t);
	return rc;
}

/* The model's output on a band, and its gaps' KS test against the trace's. */
static int compare(const char *model, const char *params, const struct row *r, uint64_t seed,
		   size_t changes, struct pm_spot_stats *out, double *d, double *p, char *why,
		   size_t why_len)
{
	struct pm_error err;
	int rc = pm_spot_model_stats(model, params, seed, changes, r->st.tick, out, &err);

	if (rc) {
		snprintf(why, why_len, "%s on %s: %s", model, r->name, err.message);
		return rc;
	}
	*d = pm_ks2(r->st.band_gaps, r->st.nband_gaps, out->band_gaps, out->nband_gaps, p);
	return 0;
}

static int fit_params(const struct pm_spot_fit *f, const struct pm_spot_stats *band, char *buf,
		      size_t len)
{
	return pm_spot_fit_params(f, band->floor, band->ceiling, band->tick, buf, len);
}

/* "paper" parameters on a band: only the band is given. */
static void paper_params(const struct pm_spot_stats *band, char *buf, size_t len)
{
	struct pm_spot_fit f = {.a = 0.7, .sigma_factor = 0.39, .jump_prob = 0, .min_interval_s = 3600,
				.change_prob = 1, .change_later = 1, .exc_change = 1};
	pm_spot_fit_params(&f, band->floor, band->ceiling, band->tick, buf, len);
}

static double money_d(money_t v)
{
	return (double)v / 1e9;
}

static void print_stats(FILE *out, const char *label, const struct pm_spot_stats *s,
			double ks_d, double ks_p)
{
	fprintf(out, "  %-7s %6zu  a1 %6.3f +- %.3f  sd %.3f  big %4.1f%%  gap median %4.0f min"
		     "  floor %4.1f%%  above %4.1f%%",
		label, s->changes, s->a1, s->a1_se, s->sd, 100 * s->big_share, s->gap_median_s / 60,
		100 * s->floor_time, 100 * s->above_time);
	if (ks_p >= 0)
		fprintf(out, "  KS D %.3f p %.3f", ks_d, ks_p);
	fputc('\n', out);
}

static void csv_row(FILE *f, const char *name, const char *source, const struct pm_spot_stats *s,
		    double ks_d, double ks_p, const struct pm_spot_fit *fit)
{
	fprintf(f, "%s,%s,%.3f,%.3f,%zu,%.4f,%.4f,%.4f,%.4f,%.1f,%.4f,%.4f", name, source,
		money_d(s->floor), money_d(s->ceiling), s->changes, s->a1, s->a1_se, s->sd,
		s->big_share,
		s->gap_median_s / 60, s->floor_time, s->above_time);
	if (ks_p >= 0)
		fprintf(f, ",%.4f,%.4f", ks_d, ks_p);
	else
		fputs(",,", f);
	if (fit)
		fprintf(f, ",%.4f,%.4f,%.4f,%.0f,%.0f,%.4f,%.4f,%.4f,%.4f,%.4f,%.4f\n", fit->a,
			fit->sigma_factor, fit->jump_prob,
			fit->min_interval_s, fit->spread_s, fit->change_prob, fit->change_later,
			fit->exc_prob,
			fit->exc_stay, fit->exc_height, fit->exc_change);
	else
		fputs(",,,,,,,,,,,\n", f);
}

static void print_fit(FILE *out, const char *label, const struct pm_spot_fit *f)
{
	fprintf(out, "  %-32s a %.3f  sigma_factor %.3f  jump_prob %.3f  min_interval %4.1f min"
		     "  spread %4.1f min  change_prob %.3f later %.3f  excursion %.3f stay %.3f height %.2f change %.3f%s\n",
		label, f->a, f->sigma_factor, f->jump_prob, f->min_interval_s / 60, f->spread_s / 60,
		f->change_prob, f->change_later, f->exc_prob, f->exc_stay, f->exc_height, f->exc_change,
		f->converged ? "" : "  (not converged)");
}

int sim_fit_spot(const struct sim_fit_spot_opts *o, FILE *out, char *why, size_t why_len)
{
	int64_t from = o->from_ns, to = o->to_ns;
	money_t tick = o->tick > 0 ? o->tick : 1000000;
	size_t changes = o->changes ? o->changes : 20000;
	size_t fit_changes = o->fit_changes ? o->fit_changes : 4000;
	struct pm_error err;
	char params[512];
	int rc = 0;

	if (!o->ntraces) {
		snprintf(why, why_len, "give at least one trace file");
		return -EINVAL;
	}
	if (!from && !to) {
		pm_trace_parse_time(PM_SPOT_EPOCH_FROM, 19, &from);
		pm_trace_parse_time(PM_SPOT_EPOCH_TO, 19, &to);
	}
	struct row *rows = calloc(o->ntraces + 1, sizeof(*rows));
	struct pm_spot_stats *each = calloc(o->ntraces, sizeof(*each));
	if (!rows || !each) {
		free(rows);
		free(each);
		snprintf(why, why_len, "out of memory");
		return -ENOMEM;
	}
	size_t n = o->ntraces;
	for (size_t i = 0; i < n && !rc; i++)
		rc = load(o->traces[i], from, to, tick, &rows[i], why, why_len);
	if (rc)
		goto out;
	for (size_t i = 0; i < n; i++)
		each[i] = rows[i].st;
	struct row *pool = &rows[n];
	snprintf(pool->name, sizeof(pool->name), "pooled");
	if ((rc = pm_spot_stats_pool(each, n, &pool->st))) {
		snprintf(why, why_len, "out of memory");
		goto out;
	}
	/* The pooled fit: one parameter set for every band. */
	size_t pool_changes = o->fit_changes ? o->fit_changes : 3000;
	if ((rc = pm_spot_fit(each, n, &pool->st, o->seed, pool_changes, &pool->fit, &err))) {
		snprintf(why, why_len, "pooled fit: %s", err.message);
		goto out;
	}
	for (size_t i = 0; i < n && !rc; i++) {
		struct row *r = &rows[i];
		uint64_t seed = o->seed + 1000 * (i + 1);
		if (!o->pooled_only) {
			rc = pm_spot_fit(&r->st, 1, &r->st, seed, fit_changes, &r->fit, &err);
			if (rc) {
				snprintf(why, why_len, "%s: fit: %s", r->name, err.message);
				break;
			}
			fit_params(&r->fit, &r->st, params, sizeof(params));
			rc = compare("spot-ar1", params, r, seed + 1, changes, &r->m_fit, &r->d_fit,
				     &r->ks_fit, why, why_len);
		}
		if (!rc) {
			fit_params(&pool->fit, &r->st, params, sizeof(params));
			rc = compare("spot-ar1", params, r, seed + 2, changes, &r->m_pool,
				     &r->d_pool, &r->ks_pool, why, why_len);
		}
		if (!rc) {
			paper_params(&r->st, params, sizeof(params));
			rc = compare("spot-ar1-paper", params, r, seed + 3, changes, &r->m_paper,
				     &r->d_paper, &r->ks_paper, why, why_len);
		}
	}
	if (rc)
		goto out;
	/* The model's pooled output: each band's comparison pooled. */
	struct pm_spot_stats *mp = calloc(n, sizeof(*mp)), *mq = calloc(n, sizeof(*mq));
	if (!mp || !mq) {
		free(mp);
		free(mq);
		rc = -ENOMEM;
		snprintf(why, why_len, "out of memory");
		goto out;
	}
	for (size_t i = 0; i < n; i++) {
		mp[i] = rows[i].m_pool;
		mq[i] = rows[i].m_paper;
	}
	rc = pm_spot_stats_pool(mp, n, &pool->m_pool) || pm_spot_stats_pool(mq, n, &pool->m_paper);
	free(mp);
	free(mq);
	if (rc) {
		rc = -ENOMEM;
		snprintf(why, why_len, "out of memory");
		goto out;
	}
	pool->d_pool = pm_ks2(pool->st.band_gaps, pool->st.nband_gaps, pool->m_pool.band_gaps,
			      pool->m_pool.nband_gaps, &pool->ks_pool);
	pool->d_paper = pm_ks2(pool->st.band_gaps, pool->st.nband_gaps, pool->m_paper.band_gaps,
			       pool->m_paper.nband_gaps, &pool->ks_paper);

	char f1[MONEY_TEXT_MAX], f2[MONEY_TEXT_MAX];
	char w0[32], w1[32];
	time_t s0 = (time_t)(from / 1000000000), s1 = (time_t)(to / 1000000000);
	struct tm tm0, tm1;
	strftime(w0, sizeof(w0), "%Y-%m-%d %H:%M:%S", gmtime_r(&s0, &tm0));
	strftime(w1, sizeof(w1), "%Y-%m-%d %H:%M:%S", gmtime_r(&s1, &tm1));
	fprintf(out, "raas-sim fit-spot: %zu traces, window %s to %s UTC, tick %s\n", n, w0, w1,
		money_format(tick, f1));
	fprintf(out, "model output: %zu changes per comparison; 'fit' = the trace's own fit, "
		     "'pooled' = the shipped defaults (the pooled fit) on the trace's band, "
		     "'paper' = spot-ar1-paper on the trace's band; KS: the gaps from prices "
		     "inside the band against the trace's\n\n", changes);
	for (size_t i = 0; i <= n; i++) {
		struct row *r = &rows[i];
		if (i < n)
			fprintf(out, "%s  band [%s, %s] (%lld ticks)\n", r->name,
				money_format(r->st.floor, f1), money_format(r->st.ceiling, f2),
				(long long)((r->st.ceiling - r->st.floor) / tick));
		else
			fprintf(out, "pooled over %zu traces\n", n);
		print_stats(out, "trace", &r->st, 0, -1);
		if (i < n && !o->pooled_only)
			print_stats(out, "fit", &r->m_fit, r->d_fit, r->ks_fit);
		print_stats(out, "pooled", &r->m_pool, r->d_pool, r->ks_pool);
		print_stats(out, "paper", &r->m_paper, r->d_paper, r->ks_paper);
	}
	fprintf(out, "\nfitted spot-ar1 parameters\n");
	for (size_t i = 0; i < n && !o->pooled_only; i++)
		print_fit(out, rows[i].name, &rows[i].fit);
	print_fit(out, "pooled (the shipped defaults)", &pool->fit);
	fit_params(&pool->fit, &pool->st, params, sizeof(params));
	fprintf(out, "pooled: model output a1 %.3f, sd %.3f, big %.1f%% after %d evaluations\n",
		pool->fit.a1, pool->fit.sd, 100 * pool->fit.big_share, pool->fit.evaluations);
	if (o->csv) {
		FILE *f = fopen(o->csv, "w");
		if (!f) {
			rc = -errno;
			snprintf(why, why_len, "%s: %s", o->csv, strerror(errno));
			goto out;
		}
		fputs("trace,source,floor,ceiling,changes,a1,a1_se,sd,big_share,gap_median_min,"
		      "floor_time,above_time,ks_d,ks_p,a,sigma_factor,jump_prob,min_interval_s,"
		      "spread_s,change_prob,change_prob_later,"
		      "excursion_prob,excursion_stay,excursion_height,excursion_change_prob\n",
		      f);
		for (size_t i = 0; i <= n; i++) {
			struct row *r = &rows[i];
			csv_row(f, r->name, "trace", &r->st, 0, -1,
				i == n || !o->pooled_only ? &r->fit : NULL);
			if (i < n && !o->pooled_only)
				csv_row(f, r->name, "fit", &r->m_fit, r->d_fit, r->ks_fit, &r->fit);
			csv_row(f, r->name, "pooled", &r->m_pool, r->d_pool, r->ks_pool, &pool->fit);
			csv_row(f, r->name, "paper", &r->m_paper, r->d_paper, r->ks_paper, NULL);
		}
		if (fclose(f)) {
			rc = -EIO;
			snprintf(why, why_len, "%s: write failed", o->csv);
		}
	}
out:
	for (size_t i = 0; i <= n; i++)
		row_fini(&rows[i]);
	free(rows);
	free(each);
	return rc;
}
