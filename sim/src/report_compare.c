/* report_compare.c: `raas-sim report --compare A B`: two run files side by side.
 *
 * A and B may be two simulated runs, two live testbed runs (raas testbed run --out) or one
 * of each: both have the same tables. Printed: every metric either has (revenue, rounds,
 * tenants, ...), each class's profit and payment, and the bandwidth price (mean over the
 * rounds, first and last round), each with B - A and B / A - 1. */
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <string.h>

#include <sqlite3.h>

#include "report.h"

static int open_run(const char *path, sqlite3 **db, char *why, size_t why_len)
{
	sqlite3_stmt *st = NULL;
	int ok = 0;

	if (sqlite3_open_v2(path, db, SQLITE_OPEN_READONLY, NULL) != SQLITE_OK) {
		snprintf(why, why_len, "%s: %s", path, *db ? sqlite3_errmsg(*db) : "cannot open");
		return -ENOENT;
	}
	if (sqlite3_prepare_v2(*db, "SELECT value FROM meta WHERE key = 'schema_version'", -1,
			       &st, NULL) == SQLITE_OK)
		ok = sqlite3_step(st) == SQLITE_ROW;
	sqlite3_finalize(st);
	if (!ok) {
		snprintf(why, why_len, "%s: not a raas-sim run file (no schema_version in meta)",
			 path);
		return -EINVAL;
	}
	return 0;
}

/* number: one value of sql (with ?1 bound to key if given), NAN when there is none. */
static double number(sqlite3 *db, const char *sql, const char *key)
{
	sqlite3_stmt *st = NULL;
	double v = NAN;
	if (sqlite3_prepare_v2(db, sql, -1, &st, NULL) != SQLITE_OK)
		return NAN;
	if (key)
		sqlite3_bind_text(st, 1, key, -1, SQLITE_STATIC);
	if (sqlite3_step(st) == SQLITE_ROW && sqlite3_column_type(st, 0) != SQLITE_NULL)
		v = sqlite3_column_double(st, 0);
	sqlite3_finalize(st);
	return v;
}

static void row(FILE *out, const char *name, double a, double b)
{
	char ga[32] = "-", gb[32] = "-", gd[32] = "-", gp[32] = "-";
	if (!isnan(a))
		snprintf(ga, sizeof(ga), "%.4f", a);
	if (!isnan(b))
		snprintf(gb, sizeof(gb), "%.4f", b);
	if (!isnan(a) && !isnan(b)) {
		snprintf(gd, sizeof(gd), "%+.4f", b - a);
		if (a != 0)
			snprintf(gp, sizeof(gp), "%+.1f%%", (b / a - 1) * 100);
	}
	fprintf(out, "%-32s %14s %14s %14s %9s\n", name, ga, gb, gd, gp);
}

/* names: the distinct values of sql in both runs, in A's order then B's new ones. */
static int names(sqlite3 *a, sqlite3 *b, const char *sql, char list[][96], int max)
{
	int n = 0;
	sqlite3 *dbs[2] = {a, b};
	for (int d = 0; d < 2; d++) {
		sqlite3_stmt *st = NULL;
		if (sqlite3_prepare_v2(dbs[d], sql, -1, &st, NULL) != SQLITE_OK)
			continue;
		while (n < max && sqlite3_step(st) == SQLITE_ROW) {
			const char *s = (const char *)sqlite3_column_text(st, 0);
			bool seen = false;
			for (int i = 0; s && i < n; i++)
				seen |= strcmp(list[i], s) == 0;
			if (s && !seen)
				snprintf(list[n++], sizeof(list[0]), "%s", s);
		}
		sqlite3_finalize(st);
	}
	return n;
}

int sim_report_compare(const char *path_a, const char *path_b, FILE *out, char *why,
		       size_t why_len)
{
	sqlite3 *a = NULL, *b = NULL;
	static char list[256][96];
	char label[128];
	int rc;

	if ((rc = open_run(path_a, &a, why, why_len)) != 0 ||
	    (rc = open_run(path_b, &b, why, why_len)) != 0)
		goto out;
	fprintf(out, "A: %s\nB: %s\n\n%-32s %14s %14s %14s %9s\n", path_a, path_b, "", "A", "B",
		"B - A", "B/A - 1");
	int n = names(a, b, "SELECT name FROM metrics WHERE variant = '' ORDER BY rowid", list,
		      256);
	for (int i = 0; i < n; i++)
		row(out, list[i],
		    number(a, "SELECT value FROM metrics WHERE variant = '' AND name = ?1", list[i]),
		    number(b, "SELECT value FROM metrics WHERE variant = '' AND name = ?1", list[i]));
	n = names(a, b, "SELECT class FROM classes WHERE variant = '' ORDER BY rowid", list, 256);
	for (int i = 0; i < n; i++) {
		snprintf(label, sizeof(label), "profit %.60s ($)", list[i]);
		row(out, label,
		    number(a, "SELECT profit / 1e9 FROM classes WHERE variant = '' AND class = ?1",
			   list[i]),
		    number(b, "SELECT profit / 1e9 FROM classes WHERE variant = '' AND class = ?1",
			   list[i]));
		snprintf(label, sizeof(label), "payment %.60s ($)", list[i]);
		row(out, label,
		    number(a, "SELECT payment / 1e9 FROM classes WHERE variant = '' AND class = ?1",
			   list[i]),
		    number(b, "SELECT payment / 1e9 FROM classes WHERE variant = '' AND class = ?1",
			   list[i]));
	}
	n = names(a, b, "SELECT DISTINCT resource FROM rounds WHERE variant = ''", list, 256);
	for (int i = 0; i < n; i++) {
		static const struct {
			const char *what, *sql;
		} q[] = {
			{"mean", "SELECT avg(price_mean) / 1e9 FROM rounds WHERE variant = '' AND "
				 "resource = ?1"},
			{"first round", "SELECT price_mean / 1e9 FROM rounds WHERE variant = '' AND "
					"resource = ?1 ORDER BY round LIMIT 1"},
			{"last round", "SELECT price_mean / 1e9 FROM rounds WHERE variant = '' AND "
				       "resource = ?1 ORDER BY round DESC LIMIT 1"},
		};
		for (size_t k = 0; k < sizeof(q) / sizeof(q[0]); k++) {
			snprintf(label, sizeof(label), "price %.40s, %.20s ($)", list[i], q[k].what);
			row(out, label, number(a, q[k].sql, list[i]), number(b, q[k].sql, list[i]));
		}
	}
	rc = 0;
out:
	sqlite3_close(a);
	sqlite3_close(b);
	return rc;
}
