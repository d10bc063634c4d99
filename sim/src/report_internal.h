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

/* report.html (report_html.c): the run drawn by the dashboards' charts, assets inlined.
 * Returns 0, -ENOENT when the built dashboards are not found, or -EIO; why says which. */
int report__html(struct report *r, const char *dir, char *why, size_t why_len);

/* The nom thesis comparison (report_thesis.c), printed to out. */
void report_thesis(struct report *r, FILE *out);

/* The thesis experiment's apps, utility functions and strategies (report_thesis.c). */
enum { THESIS_NAPPS = 3, THESIS_NUTIL = 3 };
enum { THESIS_ADAPTIVE, THESIS_STATIC_TPT, THESIS_STATIC_LAT, THESIS_LINUX, THESIS_OSV,
       THESIS_NSTRAT };
extern const char *const report__thesis_apps[THESIS_NAPPS];
extern const char *const report__thesis_utilities[THESIS_NUTIL];
extern const char *const report__thesis_strategies[THESIS_NSTRAT];
/* A published profit figure as a ratio of two bars: strategy's profit = ratio x of's, for app
 * and utility (indexes); the list ends with app -1. */
struct report__published {
	int app, utility, strategy, of;
	double ratio;
	const char *label;
};
extern const struct report__published report__thesis_published[];
/* The run's profit ($, NAN where absent) per app, utility and strategy. */
void report__thesis_profits(struct report *r,
			    double profit[THESIS_NAPPS][THESIS_NUTIL][THESIS_NSTRAT]);

/* The thesis's figures as charts (report_figures.c): profit.png, one panel per app with bars
 * grouped by utility function, a colour per strategy and the published values beside; and
 * frontier-APP.png, throughput against latency with W labels. Returns 0 or -EIO with why. */
int report__thesis_charts(struct report *r, const char *dir, char *why, size_t why_len);

#endif
