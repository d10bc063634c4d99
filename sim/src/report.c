/* report.c: `raas-sim report`: CSV export and the summary table of a run file.
 *
 * Reads only the run file (it holds the scenario, the profiles and every result), so a report
 * can be made anywhere, later, from a file someone sent. */
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "report_internal.h"
#include "report.h"

static const char *const csv_tables[] = {"rounds",  "class_rounds", "classes",  "metrics",
					 "pool_prices", "profiles",  "bids",     "clearings",
					 "timing",  "timing_metrics", "meta"};

const char *report_meta(struct report *r, const char *key, const char *def, char *buf,
			size_t len)
{
	sqlite3_stmt *st;
	const char *out = def;

	if (sqlite3_prepare_v2(r->db, "SELECT value FROM meta WHERE variant = '' AND key = ?", -1,
			       &st, NULL) != SQLITE_OK)
		return def;
	sqlite3_bind_text(st, 1, key, -1, SQLITE_STATIC);
	if (sqlite3_step(st) == SQLITE_ROW && sqlite3_column_text(st, 0)) {
		snprintf(buf, len, "%s", (const char *)sqlite3_column_text(st, 0));
		out = buf;
	}
	sqlite3_finalize(st);
	return out;
}

double report_number(struct report *r, const char *sql, const char *variant)
{
	sqlite3_stmt *st;
	double v = NAN;

	if (sqlite3_prepare_v2(r->db, sql, -1, &st, NULL) != SQLITE_OK)
		return NAN;
	if (variant)
		sqlite3_bind_text(st, 1, variant, -1, SQLITE_STATIC);
	if (sqlite3_step(st) == SQLITE_ROW && sqlite3_column_type(st, 0) != SQLITE_NULL)
		v = sqlite3_column_double(st, 0);
	sqlite3_finalize(st);
	return v;
}

static int report_open(struct report *r, const char *path, char *why, size_t why_len)
{
	struct stat stt;
	char buf[256];

	memset(r, 0, sizeof(*r));
	r->path = path;
	if (stat(path, &stt) != 0) {
		snprintf(why, why_len, "%s: %s", path, strerror(errno));
		return -ENOENT;
	}
	if (sqlite3_open_v2(path, &r->db, SQLITE_OPEN_READONLY, NULL) != SQLITE_OK) {
		snprintf(why, why_len, "%s: %s", path, r->db ? sqlite3_errmsg(r->db) : "cannot open");
		sqlite3_close(r->db);
		r->db = NULL;
		return -EINVAL;
	}
	if (!report_meta(r, "schema_version", NULL, buf, sizeof(buf))) {
		snprintf(why, why_len, "%s: not a raas-sim run file (no schema_version in meta)",
			 path);
		sqlite3_close(r->db);
		r->db = NULL;
		return -EINVAL;
	}
	report_meta(r, "reference", "none", r->reference, sizeof(r->reference));
	r->duration_s = atof(report_meta(r, "duration_ns", "0", buf, sizeof(buf))) / 1e9;
	char list[4096];
	report_meta(r, "variants", "", list, sizeof(list));
	if (!list[0]) {
		r->nvariants = 1;
		r->variants[0][0] = '\0';
		return 0;
	}
	for (char *save = NULL, *tok = strtok_r(list, ",", &save);
	     tok && r->nvariants < REPORT_MAX_VARIANTS; tok = strtok_r(NULL, ",", &save))
		snprintf(r->variants[r->nvariants++], sizeof(r->variants[0]), "%s", tok);
	return 0;
}

static void report_close(struct report *r)
{
	sqlite3_close(r->db);
	r->db = NULL;
}

/* ---- CSV ---- */

static void csv_field(FILE *f, const char *s)
{
	if (!strpbrk(s, ",\"\n\r")) {
		fputs(s, f);
		return;
	}
	fputc('"', f);
	for (; *s; s++) {
		if (*s == '"')
			fputc('"', f);
		fputc(*s, f);
	}
	fputc('"', f);
}

static int export_table(struct report *r, const char *dir, const char *table, char *why,
			size_t why_len)
{
	char path[1200], sql[128];
	sqlite3_stmt *st;

	snprintf(sql, sizeof(sql), "SELECT * FROM %s ORDER BY rowid", table);
	if (sqlite3_prepare_v2(r->db, sql, -1, &st, NULL) != SQLITE_OK)
		return 0; /* an older run file without this table */
	snprintf(path, sizeof(path), "%s/%s.csv", dir, table);
	FILE *f = fopen(path, "w");
	if (!f) {
		snprintf(why, why_len, "%s: %s", path, strerror(errno));
		sqlite3_finalize(st);
		return -EIO;
	}
	int ncol = sqlite3_column_count(st);
	for (int c = 0; c < ncol; c++) {
		if (c)
			fputc(',', f);
		csv_field(f, sqlite3_column_name(st, c));
	}
	fputc('\n', f);
	while (sqlite3_step(st) == SQLITE_ROW) {
		for (int c = 0; c < ncol; c++) {
			if (c)
				fputc(',', f);
			if (sqlite3_column_type(st, c) != SQLITE_NULL)
				csv_field(f, (const char *)sqlite3_column_text(st, c));
		}
		fputc('\n', f);
	}
	sqlite3_finalize(st);
	if (fclose(f) != 0) {
		snprintf(why, why_len, "%s: write failed", path);
		return -EIO;
	}
	return 0;
}

/* ---- summary ---- */

/* A value of metrics or timing_metrics (table) for a variant. */
static double named_value(struct report *r, const char *table, const char *variant,
			  const char *name)
{
	sqlite3_stmt *st;
	char sql[128];
	double v = NAN;

	snprintf(sql, sizeof(sql), "SELECT value FROM %s WHERE variant = ? AND name = ?", table);
	if (sqlite3_prepare_v2(r->db, sql, -1, &st, NULL) != SQLITE_OK)
		return NAN;
	sqlite3_bind_text(st, 1, variant, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 2, name, -1, SQLITE_STATIC);
	if (sqlite3_step(st) == SQLITE_ROW)
		v = sqlite3_column_double(st, 0);
	sqlite3_finalize(st);
	return v;
}

static double metric(struct report *r, const char *variant, const char *name)
{
	return named_value(r, "metrics", variant, name);
}

static double timing(struct report *r, const char *variant, const char *name)
{
	return named_value(r, "timing_metrics", variant, name);
}

/* The pricing of each resource in a variant, from its effective config ("bandwidth: vcg"). */
static void pricing_of(struct report *r, const char *variant, char *out, size_t len)
{
	sqlite3_stmt *st;
	size_t o = 0;

	out[0] = '\0';
	if (sqlite3_prepare_v2(r->db, "SELECT value FROM meta WHERE variant = ? AND key = 'config'",
			       -1, &st, NULL) != SQLITE_OK)
		return;
	sqlite3_bind_text(st, 1, variant, -1, SQLITE_STATIC);
	if (sqlite3_step(st) == SQLITE_ROW && sqlite3_column_text(st, 0)) {
		char *cfg = strdup((const char *)sqlite3_column_text(st, 0)), *save = NULL;
		const char *section = "";
		for (char *line = strtok_r(cfg, "\n", &save); line && cfg;
		     line = strtok_r(NULL, "\n", &save)) {
			if (line[0] == '[') {
				section = line;
				continue;
			}
			if (strncmp(section, "[resource.", 10) == 0 &&
			    strncmp(line, "model = ", 8) == 0 && o < len)
				o += (size_t)snprintf(out + o, len - o, "%s%.*s:%s", o ? " " : "",
						      (int)(strlen(section) - 11), section + 10,
						      line + 8);
		}
		free(cfg);
	}
	sqlite3_finalize(st);
}

static void print_header(struct report *r, FILE *out)
{
	char name[64], title[256], version[64], seed[32], hosts[32], round[32];

	report_meta(r, "name", "", name, sizeof(name));
	report_meta(r, "title", "", title, sizeof(title));
	report_meta(r, "version", "?", version, sizeof(version));
	report_meta(r, "hosts", "?", hosts, sizeof(hosts));
	report_meta(r, "round_ns", "0", round, sizeof(round));
	sqlite3_stmt *st;
	seed[0] = '\0';
	if (sqlite3_prepare_v2(r->db, "SELECT value FROM meta WHERE key = 'seed' LIMIT 1", -1, &st,
			       NULL) == SQLITE_OK) {
		if (sqlite3_step(st) == SQLITE_ROW)
			snprintf(seed, sizeof(seed), "%s", (const char *)sqlite3_column_text(st, 0));
		sqlite3_finalize(st);
	}
	fprintf(out, "== %s%s%s (%s, seed %s)\n", name[0] ? name : r->path, title[0] ? ": " : "",
		title, version, seed);
	fprintf(out, "   %.0f s simulated in rounds of %g s on %s host(s)", r->duration_s,
		atof(round) / 1e9, hosts);
	if (r->variants[0][0])
		fprintf(out, "; %zu variants", r->nvariants);
	fputs("\n\n", out);
}

static void print_metrics(struct report *r, FILE *out)
{
	bool many = r->nvariants > 1;

	fprintf(out, "%-16s %14s %14s %14s %9s %12s  %s\n", many ? "variant" : "", "revenue $",
		"welfare $", "tenant util $", "util", "clear us/rnd", many ? "pricing" : "");
	for (size_t i = 0; i < r->nvariants; i++) {
		const char *v = r->variants[i];
		char pricing[256], util[32];
		double u = report_number(r,
					 "SELECT avg(value) FROM metrics WHERE variant = ? AND "
					 "name LIKE 'utilization.%'",
					 v);
		pricing_of(r, v, pricing, sizeof(pricing));
		if (isnan(u))
			snprintf(util, sizeof(util), "-");
		else
			snprintf(util, sizeof(util), "%.1f%%", 100 * u);
		fprintf(out, "%-16.16s %14.2f %14.2f %14.2f %9s %12.1f  %s\n", many ? v : "run",
			metric(r, v, "revenue"), metric(r, v, "social_welfare"),
			metric(r, v, "tenant_utility"), util, timing(r, v, "clear_ns_mean") / 1e3,
			pricing);
	}
	fputs("   revenue: what tenants paid the provider; welfare: the tenants' true value of what "
	      "they got;\n   tenant utility: welfare - revenue; util: mean allocated/supply; clear: "
	      "wall time in pm_clear per round.\n\n",
	      out);
}

static void print_classes(struct report *r, FILE *out)
{
	sqlite3_stmt *st;
	bool many = r->nvariants > 1;
	int shown = 0, total = 0;

	fputs("Profit per tenant class ($ over the run", out);
	fputs(many ? ", one column per variant)\n" : ")\n", out);
	fprintf(out, "%-32s %-10s %-10s", "class", "strategy", "resource");
	if (many) {
		for (size_t i = 0; i < r->nvariants; i++)
			fprintf(out, " %15.15s", r->variants[i]);
	} else {
		fprintf(out, " %8s %12s %12s %12s", "tenants", "value", "payment", "profit");
	}
	fputc('\n', out);
	if (sqlite3_prepare_v2(r->db,
			       "SELECT class, coalesce(strategy, kind), resource, sum(tenants),"
			       " sum(value), sum(payment), sum(profit) FROM classes GROUP BY class"
			       " ORDER BY min(rowid)",
			       -1, &st, NULL) != SQLITE_OK)
		return;
	while (sqlite3_step(st) == SQLITE_ROW) {
		total++;
		if (shown >= 60)
			continue;
		shown++;
		const char *cls = (const char *)sqlite3_column_text(st, 0);
		fprintf(out, "%-32.32s %-10.10s %-10.10s", cls, sqlite3_column_text(st, 1),
			sqlite3_column_text(st, 2));
		if (!many) {
			fprintf(out, " %8lld %12.2f %12.2f %12.2f\n",
				(long long)sqlite3_column_int64(st, 3),
				(double)sqlite3_column_int64(st, 4) / 1e9,
				(double)sqlite3_column_int64(st, 5) / 1e9,
				(double)sqlite3_column_int64(st, 6) / 1e9);
			continue;
		}
		for (size_t i = 0; i < r->nvariants; i++) {
			sqlite3_stmt *q;
			double p = NAN;
			if (sqlite3_prepare_v2(r->db,
					       "SELECT profit FROM classes WHERE variant = ? AND "
					       "class = ?",
					       -1, &q, NULL) == SQLITE_OK) {
				sqlite3_bind_text(q, 1, r->variants[i], -1, SQLITE_STATIC);
				sqlite3_bind_text(q, 2, cls, -1, SQLITE_TRANSIENT);
				if (sqlite3_step(q) == SQLITE_ROW)
					p = (double)sqlite3_column_int64(q, 0) / 1e9;
				sqlite3_finalize(q);
			}
			fprintf(out, " %15.2f", p);
		}
		fputc('\n', out);
	}
	sqlite3_finalize(st);
	if (total > shown)
		fprintf(out, "... and %d more classes (classes.csv)\n", total - shown);
	fputc('\n', out);
}

static void print_summary(struct report *r, FILE *out)
{
	print_header(r, out);
	print_metrics(r, out);
	if (strcmp(r->reference, "nom-thesis") == 0)
		report_thesis(r, out);
	else
		print_classes(r, out);
}

int sim_report_summary(const char *run_path, FILE *out, char *why, size_t why_len)
{
	struct report r;
	int rc = report_open(&r, run_path, why, why_len);

	if (rc)
		return rc;
	print_summary(&r, out);
	report_close(&r);
	return 0;
}

static int make_dir(const char *dir, char *why, size_t why_len)
{
	char path[1024];

	snprintf(path, sizeof(path), "%s", dir);
	for (char *p = path + 1; *p; p++) {
		if (*p != '/')
			continue;
		*p = '\0';
		mkdir(path, 0755);
		*p = '/';
	}
	if (mkdir(path, 0755) != 0 && errno != EEXIST) {
		snprintf(why, why_len, "%s: %s", dir, strerror(errno));
		return -EIO;
	}
	return 0;
}

int sim_report(const char *run_path, const char *out_dir, bool charts, FILE *summary, char *why,
	       size_t why_len)
{
	struct report r;
	int rc = report_open(&r, run_path, why, why_len);

	if (rc)
		return rc;
	if ((rc = make_dir(out_dir, why, why_len)))
		goto out;
	for (size_t i = 0; i < sizeof(csv_tables) / sizeof(csv_tables[0]) && !rc; i++)
		rc = export_table(&r, out_dir, csv_tables[i], why, why_len);
	if (rc)
		goto out;
	if (charts) {
		int c = report_charts(&r, out_dir, stderr, why, why_len);
		if (c == -ENOENT)
			c = 0; /* noted: gnuplot is missing */
		if (c)
			fprintf(stderr, "raas-sim report: charts: %s\n", why);
		if (report__html(&r, out_dir, why, why_len))
			fprintf(stderr, "raas-sim report: no report.html: %s\n", why);
	}
	if (summary)
		print_summary(&r, summary);
	fprintf(stderr, "raas-sim report: CSVs%s in %s\n", charts ? " and charts" : "", out_dir);
out:
	report_close(&r);
	return rc;
}
