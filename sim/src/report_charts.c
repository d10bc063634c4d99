/* report_charts.c: the report's PNG charts, drawn by gnuplot from data files it writes.
 *
 * For each chart the report writes a data file (one block per variant) and a gnuplot script
 * beside the PNG, so a researcher can restyle a chart by editing the script and running
 * `gnuplot chart.gp` again. gnuplot runs as a child process (found on PATH); when it is
 * missing the report says so and keeps the CSVs. */
#include <errno.h>
#include <math.h>
#include <spawn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "report_internal.h"

extern char **environ;

bool report__have_gnuplot(void)
{
	const char *path = getenv("PATH");
	char buf[4096], cand[4200];

	snprintf(buf, sizeof(buf), "%s", path ? path : "/usr/bin:/bin");
	for (char *save = NULL, *dir = strtok_r(buf, ":", &save); dir;
	     dir = strtok_r(NULL, ":", &save)) {
		snprintf(cand, sizeof(cand), "%s/gnuplot", dir);
		if (access(cand, X_OK) == 0)
			return true;
	}
	return false;
}

/* Runs `gnuplot script` in dir. Returns 0 or -EIO. */
int report__run_gnuplot(const char *dir, const char *script, char *why, size_t why_len)
{
	char path[1200];
	pid_t pid;
	int status;

	snprintf(path, sizeof(path), "%s/%s", dir, script);
	char *argv[] = {"gnuplot", path, NULL};
	if (posix_spawnp(&pid, "gnuplot", NULL, NULL, argv, environ) != 0) {
		snprintf(why, why_len, "cannot run gnuplot");
		return -EIO;
	}
	if (waitpid(pid, &status, 0) < 0 || !WIFEXITED(status) || WEXITSTATUS(status) != 0) {
		snprintf(why, why_len, "gnuplot failed on %s", path);
		return -EIO;
	}
	return 0;
}

FILE *report__open_in(const char *dir, const char *name, char *why, size_t why_len)
{
	char path[1200];
	FILE *f;

	snprintf(path, sizeof(path), "%s/%s", dir, name);
	f = fopen(path, "w");
	if (!f)
		snprintf(why, why_len, "%s: %s", path, strerror(errno));
	return f;
}

/* Time axis: seconds for runs up to two hours, else hours. */
static void time_axis(struct report *r, double *div, const char **label)
{
	if (r->duration_s > 7200) {
		*div = 3600e9;
		*label = "time (h)";
	} else {
		*div = 1e9;
		*label = "time (s)";
	}
}

static const char *variant_name(struct report *r, size_t i)
{
	return r->variants[i][0] ? r->variants[i] : "run";
}

/* Writes one block per variant of (time, value) rows from sql (binds variant as ?1). */
static int write_series(struct report *r, FILE *f, const char *sql, const char *resource,
			double tdiv, bool cumulative)
{
	for (size_t i = 0; i < r->nvariants; i++) {
		sqlite3_stmt *st;
		double acc = 0;
		if (sqlite3_prepare_v2(r->db, sql, -1, &st, NULL) != SQLITE_OK)
			return -EIO;
		sqlite3_bind_text(st, 1, r->variants[i], -1, SQLITE_STATIC);
		if (resource)
			sqlite3_bind_text(st, 2, resource, -1, SQLITE_STATIC);
		fprintf(f, "# %s\n", variant_name(r, i));
		while (sqlite3_step(st) == SQLITE_ROW) {
			double v = sqlite3_column_double(st, 1);
			acc = cumulative ? acc + v : v;
			fprintf(f, "%.9g %.9g\n", sqlite3_column_double(st, 0) / tdiv, acc);
		}
		sqlite3_finalize(st);
		fputs("\n\n", f);
	}
	return 0;
}

static void plot_lines(struct report *r, FILE *gp, const char *png, const char *title,
		       const char *ylabel, const char *xlabel, const char *dat, bool steps)
{
	fprintf(gp,
		"set terminal pngcairo size 1000,560 noenhanced font ',10'\n"
		"set output '%s'\nset title '%s'\nset xlabel '%s'\nset ylabel '%s'\n"
		"set grid\nset key outside right top\nplot ",
		png, title, xlabel, ylabel);
	for (size_t i = 0; i < r->nvariants; i++)
		fprintf(gp, "%s'%s' index %zu using 1:2 with %s lw 2 title '%s'",
			i ? ", \\\n     " : "", dat, i, steps ? "steps" : "lines", variant_name(r, i));
	fputs("\n", gp);
}

/* Resources that appear in the rounds table. */
static size_t resources(struct report *r, char names[][16], size_t max)
{
	sqlite3_stmt *st;
	size_t n = 0;

	if (sqlite3_prepare_v2(r->db, "SELECT DISTINCT resource FROM rounds ORDER BY resource", -1,
			       &st, NULL) != SQLITE_OK)
		return 0;
	while (n < max && sqlite3_step(st) == SQLITE_ROW)
		snprintf(names[n++], 16, "%s", (const char *)sqlite3_column_text(st, 0));
	sqlite3_finalize(st);
	return n;
}

static const char *price_unit(const char *res)
{
	if (!strcmp(res, "egress"))
		return "$/Gbit";
	if (!strcmp(res, "bandwidth"))
		return "$/(Mbit/s)-hour";
	if (!strcmp(res, "memory"))
		return "$/MiB-hour";
	if (!strcmp(res, "llc"))
		return "$/way-hour";
	return "$/core-hour";
}

static int chart_series(struct report *r, const char *dir, const char *base, const char *title,
			const char *ylabel, const char *sql, const char *res, bool cumulative,
			bool steps, char *why, size_t why_len)
{
	char dat[128], gpn[128], png[128];
	double tdiv;
	const char *xlabel;

	time_axis(r, &tdiv, &xlabel);
	snprintf(dat, sizeof(dat), "%s.dat", base);
	snprintf(gpn, sizeof(gpn), "%s.gp", base);
	snprintf(png, sizeof(png), "%s.png", base);
	FILE *f = report__open_in(dir, dat, why, why_len);
	if (!f)
		return -EIO;
	int rc = write_series(r, f, sql, res, tdiv, cumulative);
	fclose(f);
	FILE *gp = report__open_in(dir, gpn, why, why_len);
	if (!gp || rc) {
		if (gp)
			fclose(gp);
		return -EIO;
	}
	/* The script names its files relative to the report folder and starts there. */
	fprintf(gp, "cd '%s'\n", dir);
	plot_lines(r, gp, png, title, ylabel, xlabel, dat, steps);
	fclose(gp);
	return report__run_gnuplot(dir, gpn, why, why_len);
}

static int chart_profit(struct report *r, const char *dir, char *why, size_t why_len)
{
	sqlite3_stmt *st;
	FILE *f = report__open_in(dir, "profit.dat", why, why_len);
	int nrows = 0;

	if (!f)
		return -EIO;
	fputs("class", f);
	for (size_t i = 0; i < r->nvariants; i++)
		fprintf(f, "\t%s", variant_name(r, i));
	fputc('\n', f);
	if (sqlite3_prepare_v2(r->db,
			       "SELECT class FROM classes GROUP BY class ORDER BY min(rowid)", -1,
			       &st, NULL) != SQLITE_OK) {
		fclose(f);
		return -EIO;
	}
	while (sqlite3_step(st) == SQLITE_ROW && nrows < 80) {
		const char *cls = (const char *)sqlite3_column_text(st, 0);
		fprintf(f, "%s", cls);
		for (size_t i = 0; i < r->nvariants; i++) {
			char sql[] = "SELECT profit / 1e9 FROM classes WHERE variant = ? AND class = ?";
			sqlite3_stmt *q;
			double p = 0;
			if (sqlite3_prepare_v2(r->db, sql, -1, &q, NULL) == SQLITE_OK) {
				sqlite3_bind_text(q, 1, r->variants[i], -1, SQLITE_STATIC);
				sqlite3_bind_text(q, 2, cls, -1, SQLITE_TRANSIENT);
				if (sqlite3_step(q) == SQLITE_ROW)
					p = sqlite3_column_double(q, 0);
				sqlite3_finalize(q);
			}
			fprintf(f, "\t%.9g", p);
		}
		fputc('\n', f);
		nrows++;
	}
	sqlite3_finalize(st);
	fclose(f);
	FILE *gp = report__open_in(dir, "profit.gp", why, why_len);
	if (!gp)
		return -EIO;
	fprintf(gp,
		"cd '%s'\nset terminal pngcairo size %d,620 noenhanced font ',9'\n"
		"set output 'profit.png'\nset title 'Profit per tenant class and strategy'\n"
		"set ylabel 'profit over the run ($)'\nset grid ytics\n"
		"set style data histograms\nset style histogram clustered gap 1\n"
		"set style fill solid 0.8 border -1\nset boxwidth 0.9\n"
		"set xtics rotate by 45 right scale 0\nset datafile separator '\\t'\n"
		"set lmargin at screen 0.12\nset bmargin 12\n"
		"set key outside right top\n"
		"plot for [i=2:%zu] 'profit.dat' using i:xtic(1) title columnheader(i)\n",
		dir, nrows > 20 ? 1400 : 1000, r->nvariants + 1);
	fclose(gp);
	return report__run_gnuplot(dir, "profit.gp", why, why_len);
}

int report_charts(struct report *r, const char *dir, FILE *note, char *why, size_t why_len)
{
	char res[8][16], base[64], title[128];
	size_t nres = resources(r, res, 8);
	int rc = 0;

	if (!report__have_gnuplot()) {
		fprintf(note, "raas-sim report: gnuplot not found on PATH (Debian: gnuplot-nox); "
			      "no charts, the CSVs are written\n");
		return -ENOENT;
	}
	for (size_t i = 0; i < nres && !rc; i++) {
		snprintf(base, sizeof(base), "price-%s", res[i]);
		snprintf(title, sizeof(title), "Price of %s (mean over pools)", res[i]);
		rc = chart_series(r, dir, base, title, price_unit(res[i]),
				  "SELECT t_ns, price_mean / 1e9 FROM rounds WHERE variant = ?1 AND"
				  " resource = ?2 ORDER BY round",
				  res[i], false, true, why, why_len);
	}
	if (!rc)
		rc = chart_series(r, dir, "revenue", "Provider revenue (cumulative)", "$",
				  "SELECT t_ns, sum(revenue) / 1e9 FROM rounds WHERE variant = ?1"
				  " GROUP BY round ORDER BY round",
				  NULL, true, false, why, why_len);
	if (!rc)
		rc = chart_series(r, dir, "utilization", "Utilization (allocated / supply)",
				  "fraction",
				  "SELECT t_ns, avg(utilization) FROM rounds WHERE variant = ?1"
				  " AND utilization IS NOT NULL GROUP BY round ORDER BY round",
				  NULL, false, false, why, why_len);
	if (!rc && strcmp(r->reference, "nom-thesis") == 0)
		rc = report__thesis_charts(r, dir, why, why_len);
	else if (!rc)
		rc = chart_profit(r, dir, why, why_len);
	return rc;
}
