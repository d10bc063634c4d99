/* report_internal.h: what the report's parts (summary, charts, thesis comparison) share. */
#ifndef SIM_REPORT_INTERNAL_H
#define SIM_REPORT_INTERNAL_H

#include <sqlite3.h>
#include <stdbool.h>
#include <stdio.h>

#define REPORT_MAX_VARIANTS 256

struct report {
	sqlite3 *db;
	const char *path;
	char variants[REPORT_MAX_VARIANTS][64]; /* "" when the run has none */
	size_t nvariants;
	char reference[32];
	double duration_s;
};

/* A text value of meta (base variant), or def. Copies into buf. */
const char *report_meta(struct report *r, const char *key, const char *def, char *buf,
			size_t len);
/* The single number a query returns (NAN when no row or NULL). */
double report_number(struct report *r, const char *sql, const char *variant);

/* Charts with gnuplot (report_charts.c). Returns 0, or -ENOENT when gnuplot is missing (a
 * note goes to note), or -EIO with why. */
int report_charts(struct report *r, const char *dir, FILE *note, char *why, size_t why_len);

/* gnuplot helpers (report_charts.c), shared with the study report: whether gnuplot is on
 * PATH; `gnuplot DIR/SCRIPT` (0 or -EIO with why); a file DIR/NAME opened for writing (NULL
 * with why). */
bool report__have_gnuplot(void);
int report__run_gnuplot(const char *dir, const char *script, char *why, size_t why_len);
FILE *report__open_in(const char *dir, const char *name, char *why, size_t why_len);

/* The nom thesis comparison (report_thesis.c), printed to out. */
void report_thesis(struct report *r, FILE *out);

#endif
