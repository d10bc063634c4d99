/* study_report.c: `raas-sim report STUDY`: a merged study, per mechanism, with intervals.
 *
 * The question a provider-revenue study asks is comparative: which level of one axis (the
 * study's `compare`, e.g. the mechanism) earns the provider most, and what it costs in social
 * welfare, under each setting of the other axes (e.g. supply). Every figure is a mean over
 * the seeds with a 95% confidence interval from Student's t (the seeds are independent
 * replications); differences between two levels are paired by seed, since a seed is the same
 * tenant population under every mechanism, which removes the population's variance from the
 * comparison. Reads only the study file. */
#include <errno.h>
#include <gsl/gsl_cdf.h>
#include <math.h>
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "report_internal.h"
#include "study.h"
#include "study_checks.h"
#include "study_internal.h"

#define MAX_CELLS 4096
#define MAX_METRICS 16

struct cell {
	char ctx[512];   /* the other axes' levels (and the variant), "" when none */
	char level[64];  /* the compared axis's level */
	int order;       /* first run of the level: the study file's order */
	double n[MAX_METRICS], sum[MAX_METRICS], sum2[MAX_METRICS];
};

struct study {
	sqlite3 *db;
	char compare[64], name[64];
	bool by_variant;                   /* compare the scenario's variants */
	char metrics[MAX_METRICS][64];
	size_t nmetrics;
	struct cell *cells;
	size_t ncells;
	size_t nruns, nseeds;
};

static const char *const wanted[] = {"revenue", "social_welfare", "tenant_utility"};

bool sim_study_is(const char *path)
{
	char p[1200];
	struct stat st;
	sqlite3 *db;
	bool yes = false;

	if (stat(path, &st) != 0)
		return false;
	if (S_ISDIR(st.st_mode)) {
		/* A study folder, merged or not (the report then says to merge it). */
		snprintf(p, sizeof(p), "%s/manifest.tsv", path);
		return stat(p, &st) == 0;
	}
	else
		snprintf(p, sizeof(p), "%s", path);
	if (sqlite3_open_v2(p, &db, SQLITE_OPEN_READONLY, NULL) == SQLITE_OK) {
		sqlite3_stmt *s;
		if (sqlite3_prepare_v2(db, "SELECT 1 FROM meta WHERE key = 'study_schema_version'", -1,
				       &s, NULL) == SQLITE_OK) {
			yes = sqlite3_step(s) == SQLITE_ROW;
			sqlite3_finalize(s);
		}
	}
	sqlite3_close(db);
	return yes;
}

static void meta(sqlite3 *db, const char *key, char *buf, size_t len)
{
	sqlite3_stmt *s;
	buf[0] = '\0';
	if (sqlite3_prepare_v2(db, "SELECT value FROM meta WHERE variant = '' AND key = ?", -1, &s,
			       NULL) != SQLITE_OK)
		return;
	sqlite3_bind_text(s, 1, key, -1, SQLITE_STATIC);
	if (sqlite3_step(s) == SQLITE_ROW && sqlite3_column_text(s, 0))
		snprintf(buf, len, "%s", (const char *)sqlite3_column_text(s, 0));
	sqlite3_finalize(s);
}

static double number(sqlite3 *db, const char *sql)
{
	sqlite3_stmt *s;
	double v = NAN;
	if (sqlite3_prepare_v2(db, sql, -1, &s, NULL) == SQLITE_OK) {
		if (sqlite3_step(s) == SQLITE_ROW && sqlite3_column_type(s, 0) != SQLITE_NULL)
			v = sqlite3_column_double(s, 0);
		sqlite3_finalize(s);
	}
	return v;
}

/* A temporary table rl(run, seed, variant, lvl, ctx) over every (run, variant): lvl is the
 * compared axis's level (or the variant), ctx the other axes' levels (and the variant). */
static int build_levels(struct study *st, char *why, size_t len)
{
	char *sql;
	if (st->by_variant)
		sql = sqlite3_mprintf(
			"CREATE TEMP TABLE rl AS SELECT r.run AS run, r.seed AS seed, v.variant AS"
			" variant, v.variant AS lvl, (SELECT coalesce(group_concat(axis || '=' ||"
			" level, ', '), '') FROM (SELECT axis, level FROM study_levels WHERE run ="
			" r.run ORDER BY rowid)) AS ctx FROM study_runs r JOIN (SELECT DISTINCT run,"
			" variant FROM study_metrics) v ON v.run = r.run");
	else
		sql = sqlite3_mprintf(
			"CREATE TEMP TABLE rl AS SELECT r.run AS run, r.seed AS seed, v.variant AS"
			" variant, (SELECT level FROM study_levels WHERE run = r.run AND axis = %Q) AS"
			" lvl, ltrim((SELECT coalesce(group_concat(axis || '=' || level, ', '), '')"
			" FROM (SELECT axis, level FROM study_levels WHERE run = r.run AND axis != %Q"
			" ORDER BY rowid)) || CASE WHEN v.variant = '' THEN '' ELSE ', variant=' ||"
			" v.variant END, ', ') AS ctx FROM study_runs r JOIN (SELECT DISTINCT run,"
			" variant FROM study_metrics) v ON v.run = r.run",
			st->compare, st->compare);
	char *msg = NULL;
	int rc = 0;
	if (!sql)
		return -ENOMEM;
	if (sqlite3_exec(st->db, sql, NULL, NULL, &msg) != SQLITE_OK) {
		snprintf(why, len, "study file: %s", msg ? msg : sqlite3_errmsg(st->db));
		rc = -EINVAL;
	}
	sqlite3_free(msg);
	sqlite3_free(sql);
	return rc;
}

static int metric_index(struct study *st, const char *name)
{
	for (size_t i = 0; i < st->nmetrics; i++)
		if (!strcmp(st->metrics[i], name))
			return (int)i;
	return -1;
}

static int load(struct study *st, char *why, size_t len)
{
	sqlite3_stmt *s;

	for (size_t i = 0; i < sizeof(wanted) / sizeof(wanted[0]); i++)
		snprintf(st->metrics[st->nmetrics++], 64, "%s", wanted[i]);
	if (sqlite3_prepare_v2(st->db, "SELECT DISTINCT name FROM study_metrics WHERE name LIKE"
				       " 'utilization.%' ORDER BY name", -1, &s, NULL) == SQLITE_OK) {
		while (sqlite3_step(s) == SQLITE_ROW && st->nmetrics < MAX_METRICS)
			snprintf(st->metrics[st->nmetrics++], 64, "%s",
				 (const char *)sqlite3_column_text(s, 0));
		sqlite3_finalize(s);
	}
	if (sqlite3_prepare_v2(st->db,
			       "SELECT rl.ctx, rl.lvl, m.name, count(*), sum(m.value),"
			       " sum(m.value * m.value), min(rl.run) FROM rl JOIN study_metrics m ON"
			       " m.run = rl.run AND m.variant = rl.variant GROUP BY rl.ctx, rl.lvl,"
			       " m.name ORDER BY min(rl.run)",
			       -1, &s, NULL) != SQLITE_OK) {
		snprintf(why, len, "study file: %s", sqlite3_errmsg(st->db));
		return -EINVAL;
	}
	st->cells = calloc(MAX_CELLS, sizeof(*st->cells));
	if (!st->cells) {
		sqlite3_finalize(s);
		return -ENOMEM;
	}
	while (sqlite3_step(s) == SQLITE_ROW) {
		const char *ctx = (const char *)sqlite3_column_text(s, 0);
		const char *lvl = (const char *)sqlite3_column_text(s, 1);
		int m = metric_index(st, (const char *)sqlite3_column_text(s, 2));
		if (m < 0 || !lvl)
			continue;
		struct cell *c = NULL;
		for (size_t i = 0; i < st->ncells && !c; i++)
			if (!strcmp(st->cells[i].ctx, ctx ? ctx : "") &&
			    !strcmp(st->cells[i].level, lvl))
				c = &st->cells[i];
		if (!c) {
			if (st->ncells == MAX_CELLS)
				break;
			c = &st->cells[st->ncells++];
			snprintf(c->ctx, sizeof(c->ctx), "%s", ctx ? ctx : "");
			snprintf(c->level, sizeof(c->level), "%s", lvl);
			c->order = sqlite3_column_int(s, 6);
		}
		c->n[m] = sqlite3_column_double(s, 3);
		c->sum[m] = sqlite3_column_double(s, 4);
		c->sum2[m] = sqlite3_column_double(s, 5);
	}
	sqlite3_finalize(s);
	return 0;
}

/* Mean and the 95% interval's half width of n values from their sums. */
static void mean_ci(double n, double sum, double sum2, double *mean, double *ci)
{
	*mean = n > 0 ? sum / n : NAN;
	*ci = NAN;
	if (n >= 2) {
		double var = (sum2 - sum * sum / n) / (n - 1);
		*ci = gsl_cdf_tdist_Pinv(0.975, n - 1) * sqrt(var > 0 ? var : 0) / sqrt(n);
	}
}

static void print_mean(FILE *out, double n, double sum, double sum2, bool pct)
{
	double m, ci;
	mean_ci(n, sum, sum2, &m, &ci);
	if (isnan(m))
		fprintf(out, " %21s", "-");
	else if (pct)
		fprintf(out, " %11.1f%% +- %5.1f", 100 * m, isnan(ci) ? 0 : 100 * ci);
	else
		fprintf(out, " %11.2f +- %7.2f", m, isnan(ci) ? 0 : ci);
}

/* The paired difference of metric between two levels over the seeds of one context:
 * mean and 95% half width (a.metric - b.metric). */
static int paired(struct study *st, const char *ctx, const char *a, const char *b,
		  const char *metric, double *mean, double *ci, double *n)
{
	sqlite3_stmt *s;
	if (sqlite3_prepare_v2(st->db,
			       "SELECT count(*), sum(x.value - y.value), sum((x.value - y.value) *"
			       " (x.value - y.value)) FROM rl ra JOIN study_metrics x ON x.run ="
			       " ra.run AND x.variant = ra.variant JOIN rl rb ON rb.ctx = ra.ctx AND"
			       " rb.seed = ra.seed JOIN study_metrics y ON y.run = rb.run AND"
			       " y.variant = rb.variant AND y.name = x.name WHERE ra.ctx = ?1 AND"
			       " ra.lvl = ?2 AND rb.lvl = ?3 AND x.name = ?4",
			       -1, &s, NULL) != SQLITE_OK)
		return -EINVAL;
	sqlite3_bind_text(s, 1, ctx, -1, SQLITE_STATIC);
	sqlite3_bind_text(s, 2, a, -1, SQLITE_STATIC);
	sqlite3_bind_text(s, 3, b, -1, SQLITE_STATIC);
	sqlite3_bind_text(s, 4, metric, -1, SQLITE_STATIC);
	int rc = -ENOENT;
	if (sqlite3_step(s) == SQLITE_ROW && sqlite3_column_int(s, 0) > 0) {
		*n = sqlite3_column_double(s, 0);
		mean_ci(*n, sqlite3_column_double(s, 1), sqlite3_column_double(s, 2), mean, ci);
		rc = 0;
	}
	sqlite3_finalize(s);
	return rc;
}

static void print_answer(struct study *st, const char *ctx, FILE *out)
{
	int rev = metric_index(st, "revenue"), wel = metric_index(st, "social_welfare");
	const struct cell *best_r = NULL, *best_w = NULL;
	for (size_t i = 0; i < st->ncells; i++) {
		const struct cell *c = &st->cells[i];
		if (strcmp(c->ctx, ctx) || !c->n[rev] || !c->n[wel])
			continue;
		if (!best_r || c->sum[rev] / c->n[rev] > best_r->sum[rev] / best_r->n[rev])
			best_r = c;
		if (!best_w || c->sum[wel] / c->n[wel] > best_w->sum[wel] / best_w->n[wel])
			best_w = c;
	}
	if (!best_r || !best_w)
		return;
	double m, ci, wm, wci, n;
	mean_ci(best_r->n[rev], best_r->sum[rev], best_r->sum2[rev], &m, &ci);
	fprintf(out, "  -> most revenue: %s, $%.2f +- %.2f", best_r->level, m, isnan(ci) ? 0 : ci);
	if (best_r == best_w) {
		fprintf(out, "; it is also the most efficient (highest welfare): no welfare cost\n");
		return;
	}
	mean_ci(best_w->n[wel], best_w->sum[wel], best_w->sum2[wel], &wm, &wci);
	if (paired(st, ctx, best_w->level, best_r->level, "social_welfare", &m, &ci, &n) == 0)
		fprintf(out,
			";\n     its welfare cost against the most efficient (%s): $%.2f +- %.2f (%.1f%% "
			"of %s's welfare),\n     paired over %.0f seeds%s\n",
			best_w->level, m, isnan(ci) ? 0 : ci, 100 * m / wm, best_w->level, n,
			!isnan(ci) && m - ci > 0 ? "" : " (not significant at 95%)");
	if (paired(st, ctx, best_r->level, best_w->level, "revenue", &m, &ci, &n) == 0)
		fprintf(out, "     and it earns $%.2f +- %.2f more than %s%s\n", m, isnan(ci) ? 0 : ci,
			best_w->level, !isnan(ci) && m - ci > 0 ? "" : " (not significant at 95%)");
}

static int cmp_cell(const void *a, const void *b)
{
	const struct cell *x = a, *y = b;
	return x->order - y->order;
}

/* The distinct contexts in first-run order. */
static size_t contexts(struct study *st, const char **ctx, size_t max)
{
	size_t n = 0;
	for (size_t i = 0; i < st->ncells; i++) {
		bool seen = false;
		for (size_t k = 0; k < n && !seen; k++)
			seen = !strcmp(ctx[k], st->cells[i].ctx);
		if (!seen && n < max)
			ctx[n++] = st->cells[i].ctx;
	}
	return n;
}

static void print_tables(struct study *st, FILE *out)
{
	const char *ctx[256];
	size_t nctx = contexts(st, ctx, 256);

	for (size_t k = 0; k < nctx; k++) {
		fprintf(out, "%s\n", ctx[k][0] ? ctx[k] : "all runs");
		fprintf(out, "  %-16s", st->compare);
		for (size_t m = 0; m < st->nmetrics; m++) {
			char h[64];
			snprintf(h, sizeof(h), "%s%s", st->metrics[m],
				 strncmp(st->metrics[m], "utilization", 11) ? " $" : "");
			fprintf(out, " %21s", h);
		}
		fputc('\n', out);
		for (size_t i = 0; i < st->ncells; i++) {
			const struct cell *c = &st->cells[i];
			if (strcmp(c->ctx, ctx[k]))
				continue;
			fprintf(out, "  %-16s", c->level);
			for (size_t m = 0; m < st->nmetrics; m++)
				print_mean(out, c->n[m], c->sum[m], c->sum2[m],
					   !strncmp(st->metrics[m], "utilization", 11));
			fputc('\n', out);
		}
		print_answer(st, ctx[k], out);
		fputc('\n', out);
	}
}

static int write_csv(struct study *st, const char *dir, char *why, size_t len)
{
	FILE *f = report__open_in(dir, "study.csv", why, len);
	if (!f)
		return -EIO;
	fprintf(f, "context,%s,metric,n,mean,ci95\n", st->compare);
	for (size_t i = 0; i < st->ncells; i++)
		for (size_t m = 0; m < st->nmetrics; m++) {
			const struct cell *c = &st->cells[i];
			double mean, ci;
			mean_ci(c->n[m], c->sum[m], c->sum2[m], &mean, &ci);
			fprintf(f, "\"%s\",%s,%s,%.0f,%.9g,%.9g\n", c->ctx, c->level, st->metrics[m],
				c->n[m], mean, ci);
		}
	return fclose(f) ? -EIO : 0;
}

/* One bar chart per metric: the compared levels on x, one bar per context, 95% error bars. */
static int charts(struct study *st, const char *dir, FILE *note, char *why, size_t len)
{
	const char *ctx[256];
	size_t nctx = contexts(st, ctx, 256);
	char levels[256][64];
	size_t nlev = 0;

	if (!report__have_gnuplot()) {
		fprintf(note, "raas-sim report: gnuplot not found (Debian package gnuplot-nox): no "
			      "charts, CSV only\n");
		return 0;
	}
	for (size_t i = 0; i < st->ncells; i++) {
		bool seen = false;
		for (size_t k = 0; k < nlev && !seen; k++)
			seen = !strcmp(levels[k], st->cells[i].level);
		if (!seen && nlev < 256)
			snprintf(levels[nlev++], 64, "%s", st->cells[i].level);
	}
	for (size_t m = 0; m < st->nmetrics; m++) {
		char dat[96], gp[96];
		bool pct = !strncmp(st->metrics[m], "utilization", 11);
		snprintf(dat, sizeof(dat), "%s.dat", st->metrics[m]);
		snprintf(gp, sizeof(gp), "%s.gp", st->metrics[m]);
		FILE *f = report__open_in(dir, dat, why, len);
		if (!f)
			return -EIO;
		for (size_t l = 0; l < nlev; l++) {
			fprintf(f, "\"%s\"", levels[l]);
			for (size_t k = 0; k < nctx; k++) {
				double mean = NAN, ci = NAN;
				for (size_t i = 0; i < st->ncells; i++)
					if (!strcmp(st->cells[i].ctx, ctx[k]) &&
					    !strcmp(st->cells[i].level, levels[l]))
						mean_ci(st->cells[i].n[m], st->cells[i].sum[m],
							st->cells[i].sum2[m], &mean, &ci);
				double s = pct ? 100 : 1;
				fprintf(f, " %.9g %.9g", isnan(mean) ? 0 : s * mean,
					isnan(ci) ? 0 : s * ci);
			}
			fputc('\n', f);
		}
		if (fclose(f))
			return -EIO;
		FILE *g = report__open_in(dir, gp, why, len);
		if (!g)
			return -EIO;
		fprintf(g,
			"set terminal pngcairo size 900,500 noenhanced\nset output '%s/%s.png'\n"
			"set title '%s: %s per %s (mean, 95%% CI over seeds)'\n"
			"set style data histograms\nset style histogram errorbars gap 2 lw 1\n"
			"set style fill solid 0.6 border -1\nset ylabel '%s'\nset yrange [0:*]\n"
			"set key outside right\nset xtics rotate by -20\n"
			"plot ",
			dir, st->metrics[m], st->name, st->metrics[m], st->compare,
			pct ? "percent" : "dollars");
		for (size_t k = 0; k < nctx; k++)
			fprintf(g, "%s'%s/%s' using %zu:%zu%s title '%s'", k ? ", " : "", dir, dat,
				2 + 2 * k,
				3 + 2 * k, k ? "" : ":xtic(1)", ctx[k][0] ? ctx[k] : "all runs");
		fputc('\n', g);
		if (fclose(g))
			return -EIO;
		int rc = report__run_gnuplot(dir, gp, why, len);
		if (rc)
			return rc;
	}
	return 0;
}

int sim_study_report(const char *path, const char *out_dir, bool plot, FILE *out, char *why,
		     size_t why_len)
{
	struct study st = {0};
	char p[1200], buf[256];
	struct stat sb;
	int rc;

	if (stat(path, &sb) == 0 && S_ISDIR(sb.st_mode)) {
		snprintf(p, sizeof(p), "%s/study.sqlite", path);
		if (stat(p, &sb) != 0) {
			snprintf(why, why_len, "%s: not merged yet (raas-sim merge %s)", path, path);
			return -ENOENT;
		}
	} else {
		snprintf(p, sizeof(p), "%s", path);
	}
	if (sqlite3_open_v2(p, &st.db, SQLITE_OPEN_READONLY, NULL) != SQLITE_OK) {
		snprintf(why, why_len, "%s: %s", p, st.db ? sqlite3_errmsg(st.db) : "cannot open");
		sqlite3_close(st.db);
		return -EINVAL;
	}
	meta(st.db, "compare", st.compare, sizeof(st.compare));
	meta(st.db, "name", st.name, sizeof(st.name));
	st.nruns = (size_t)number(st.db, "SELECT count(*) FROM study_runs");
	st.nseeds = (size_t)number(st.db, "SELECT count(DISTINCT seed) FROM study_runs");
	if (!st.compare[0]) {
		st.by_variant = true;
		snprintf(st.compare, sizeof(st.compare), "variant");
	}
	if ((rc = build_levels(&st, why, why_len)) || (rc = load(&st, why, why_len)))
		goto out;
	qsort(st.cells, st.ncells, sizeof(*st.cells), cmp_cell);
	meta(st.db, "axes", buf, sizeof(buf));
	fprintf(out,
		"== study %s: %zu runs (%zu seeds; axes %s), compared: %s\n"
		"   means over the seeds with 95%% confidence intervals (Student t); revenue: what "
		"tenants paid;\n   welfare: the tenants' true value of what they got; tenant "
		"utility: welfare - revenue;\n   utilization: mean allocated / supply. Differences "
		"are paired by seed (one seed = one tenant population).\n\n",
		st.name, st.nruns, st.nseeds, buf[0] ? buf : "none", st.compare);
	print_tables(&st, out);
	/* The known results of auction theory on the study's own recorded rounds. */
	if ((rc = study_checks(st.db, out, why, why_len)))
		goto out;
	if (out_dir) {
		if (mkdir(out_dir, 0755) != 0 && errno != EEXIST) {
			snprintf(why, why_len, "%s: %s", out_dir, strerror(errno));
			rc = -EIO;
			goto out;
		}
		if ((rc = write_csv(&st, out_dir, why, why_len)))
			goto out;
		if (plot && (rc = charts(&st, out_dir, stderr, why, why_len)))
			goto out;
		fprintf(stderr, "raas-sim report: study CSV%s in %s\n", plot ? " and charts" : "",
			out_dir);
	}
out:
	free(st.cells);
	sqlite3_close(st.db);
	return rc;
}
