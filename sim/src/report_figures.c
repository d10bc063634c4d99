/* report_figures.c: the nom thesis's figures as charts: profit per app and the W frontiers.
 *
 * A run of sim/scenarios/nom-thesis.ini has 39 classes; one row of 36 bars (what profit.png
 * was) cannot be read. These charts are drawn the way the thesis draws its own (Figures
 * 6.7-6.9 and 6.13-6.15), so that a reader can put the two side by side:
 *   - profit.png: one panel per app, bars grouped by utility function, one colour per
 *     strategy with a legend, and beside a bar the published value where the thesis gives
 *     one (a ratio of two bars, drawn at that ratio of the simulated reference bar, with the
 *     thesis's wording as its label);
 *   - frontier-APP.png: throughput (measured under "many") against latency (under "single")
 *     for every batching delay W of the profile, each point labelled with its W, the Pareto
 *     frontier joined, the price-unaware baselines and the points the thesis states marked.
 * Data files and gnuplot scripts stay beside the PNGs (as report_charts.c does). */
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "report_internal.h"

/* One colour per strategy, the same in every panel (ColorBrewer Dark2). */
static const char *const strategy_colour[THESIS_NSTRAT] = {"#1b9e77", "#d95f02", "#7570b3",
							     "#e7298a", "#66a61e"};
static const char *const strategy_title[THESIS_NSTRAT] = {
	"nom adaptive", "nom static best-throughput W", "nom static best-latency W", "Linux",
	"OSv"};
static const char *const app_title[THESIS_NAPPS] = {"memcached", "nhttpd", "NetPIPE"};

/* Bar x positions: a group per utility function, a slot per strategy, a gap between groups. */
#define GROUP_WIDTH (THESIS_NSTRAT + 1)

static double bar_x(int u, int s)
{
	return u * GROUP_WIDTH + s;
}

static int write_profit_data(struct report *r, FILE *f,
			     double p[THESIS_NAPPS][THESIS_NUTIL][THESIS_NSTRAT], int *npub)
{
	int bars = 0;

	*npub = 0;
	/* Blocks 0..NAPPS-1: the bars (x, $, strategy); then NAPPS more: the published marks
	 * (x, $, "label", the label's foot: above the bar and the mark). */
	for (int a = 0; a < THESIS_NAPPS; a++) {
		fprintf(f, "# %s: x profit strategy\n", report__thesis_apps[a]);
		for (int u = 0; u < THESIS_NUTIL; u++)
			for (int s = 0; s < THESIS_NSTRAT; s++)
				if (!isnan(p[a][u][s])) {
					fprintf(f, "%g %.6f %d\n", bar_x(u, s), p[a][u][s], s);
					bars++;
				}
		fputs("\n\n", f);
	}
	for (int a = 0; a < THESIS_NAPPS; a++) {
		fprintf(f, "# %s: published, x profit label\n", report__thesis_apps[a]);
		int n = 0;
		for (const struct report__published *q = report__thesis_published; q->app >= 0; q++) {
			double ref = p[q->app][q->utility][q->of];
			if (q->app != a || isnan(ref))
				continue;
			double bar = p[q->app][q->utility][q->strategy], y = q->ratio * ref;
			double top = isnan(bar) || bar < y ? y : bar;
			fprintf(f, "%g %.6f \"thesis %s\" %.6f\n", bar_x(q->utility, q->strategy) + 0.3,
				y, q->label, top);
			n++;
			(*npub)++;
		}
		if (!n) /* gnuplot refuses an empty block: one point outside the range */
			fputs("-100 0 \"\" 0\n", f);
		fputs("\n\n", f);
	}
	return bars;
}

static int chart_profit_panels(struct report *r, const char *dir, char *why, size_t why_len)
{
	double p[THESIS_NAPPS][THESIS_NUTIL][THESIS_NSTRAT];
	int npub;

	report__thesis_profits(r, p);
	FILE *f = report__open_in(dir, "profit.dat", why, why_len);
	if (!f)
		return -EIO;
	int bars = write_profit_data(r, f, p, &npub);
	fclose(f);
	if (!bars) {
		snprintf(why, why_len, "profit chart: the run has no nom-thesis classes");
		return -EIO;
	}
	FILE *gp = report__open_in(dir, "profit.gp", why, why_len);
	if (!gp)
		return -EIO;
	fprintf(gp,
		"cd '%s'\n"
		"set terminal pngcairo size 1500,620 noenhanced font ',10'\n"
		"set output 'profit.png'\n"
		"set multiplot layout 1,%d title 'Profit over the run per app, utility function and "
		"strategy (bandwidth $1/Gbit, then $10/Gbit from 60 s)' font ',12' "
		"margins 0.06,0.98,0.16,0.80 spacing 0.05,0\n"
		"set style fill solid 0.85 border lc 'black'\nset boxwidth 0.8\n"
		"set grid ytics\nset xzeroaxis lt -1\nset ylabel 'profit ($)'\n"
		"set yrange [*<0:*]\nset offsets 0, 0, graph 0.22, 0\n"
		"set label 1 'published (thesis): a ratio of two bars, drawn at that ratio of "
		"the simulated nom adaptive bar of its group' at screen 0.5, screen 0.03 center "
		"font ',9'\n"
		"set xtics (",
		dir, THESIS_NAPPS);
	for (int u = 0; u < THESIS_NUTIL; u++)
		fprintf(gp, "%s'%s' %g", u ? ", " : "", report__thesis_utilities[u],
			bar_x(u, THESIS_NSTRAT / 2));
	fprintf(gp, ") scale 0 font ',11'\nset xrange [-0.8:%g]\n",
		bar_x(THESIS_NUTIL - 1, THESIS_NSTRAT - 1) + 0.8);
	/* One legend for the three panels, in a row under the title (gnuplot's own key wraps to
	 * the width of one panel). */
	fputs("unset key\n", gp);
	double x = 0.1;
	for (int s = 0; s <= THESIS_NSTRAT; s++) {
		const char *text = s < THESIS_NSTRAT ? strategy_title[s] : "published (thesis)";
		if (s < THESIS_NSTRAT)
			fprintf(gp,
				"set object %d rect from screen %.3f, screen 0.875 to screen %.3f, "
				"screen 0.905 fc rgb '%s' fs solid 0.85 border lc 'black'\n",
				10 + s, x, x + 0.02, strategy_colour[s]);
		else
			fprintf(gp,
				"set label %d '' at screen %.3f, screen 0.89 point pt 13 ps 1.6 "
				"lc rgb 'black'\n",
				10 + s, x + 0.01);
		fprintf(gp, "set label %d '%s' at screen %.3f, screen 0.89 left font ',10'\n",
			20 + s, text, x + 0.025);
		x += 0.05 + 0.0055 * (double)strlen(text); /* ~8 px a character of 1500 */
	}
	for (int a = 0; a < THESIS_NAPPS; a++) {
		fprintf(gp, "set title '%s' font ',12'\n", app_title[a]);
		if (a > 0)
			fputs("unset ylabel\n", gp);
		fputs("plot ", gp);
		for (int s = 0; s < THESIS_NSTRAT; s++)
			fprintf(gp,
				"%s'profit.dat' index %d using 1:($3 == %d ? $2 : 1/0) with boxes "
				"lc rgb '%s' title '%s'",
				s ? ", \\\n     " : "", a, s, strategy_colour[s], strategy_title[s]);
		fprintf(gp,
			", \\\n     'profit.dat' index %d using 1:2 with points pt 13 ps 1.6 lc rgb "
			"'black' title 'published (thesis)'"
			", \\\n     '' index %d using 1:4:3 with labels left offset 0,0.6 rotate by "
			"90 font ',8' notitle\n",
			THESIS_NAPPS + a, THESIS_NAPPS + a);
	}
	fputs("unset multiplot\n", gp);
	fclose(gp);
	return report__run_gnuplot(dir, "profit.gp", why, why_len);
}

/* ---- the frontiers ---- */

struct wpoint {
	double w, tput, lat;
	bool frontier;
};

/* The profile's points of app: throughput under "many", latency under "single", per W. */
static size_t load_wpoints(struct report *r, const char *app, struct wpoint *pt, size_t max)
{
	sqlite3_stmt *st;
	size_t n = 0;

	if (sqlite3_prepare_v2(r->db,
			       "SELECT m.delay_us, m.throughput_rps, s.latency_us FROM profiles m"
			       " JOIN profiles s ON s.app = m.app AND s.delay_us = m.delay_us AND"
			       " s.load = 'single' WHERE m.app = ? AND m.load = 'many'"
			       " ORDER BY m.delay_us",
			       -1, &st, NULL) != SQLITE_OK)
		return 0;
	sqlite3_bind_text(st, 1, app, -1, SQLITE_TRANSIENT);
	while (n < max && sqlite3_step(st) == SQLITE_ROW) {
		pt[n].w = sqlite3_column_double(st, 0);
		pt[n].tput = sqlite3_column_double(st, 1);
		pt[n].lat = sqlite3_column_double(st, 2);
		n++;
	}
	sqlite3_finalize(st);
	/* On the frontier: no other point is at least as good on both and better on one. */
	for (size_t i = 0; i < n; i++) {
		pt[i].frontier = true;
		for (size_t j = 0; j < n && pt[i].frontier; j++)
			if (j != i && pt[j].tput >= pt[i].tput && pt[j].lat <= pt[i].lat &&
			    (pt[j].tput > pt[i].tput || pt[j].lat < pt[i].lat))
				pt[i].frontier = false;
	}
	return n;
}

static int cmp_lat(const void *a, const void *b)
{
	const struct wpoint *x = a, *y = b;
	return (x->lat > y->lat) - (x->lat < y->lat);
}

/* What the thesis says of each app's frontier (thesis-figures.md, sections 6.6 and 6.7). */
static const char *const frontier_published[THESIS_NAPPS] = {
	"thesis: W = 10 (~38K/s at 74 us) and 14 (~40K/s at 77 us) on the frontier, 32 dominated",
	"thesis: frontier W = 0 and 6-12", "thesis: frontier is the single point W = 0"};

static int chart_frontier(struct report *r, const char *dir, int a, char *why, size_t why_len)
{
	struct wpoint pt[128];
	char dat[64], gpn[64];
	const char *app = report__thesis_apps[a];
	size_t n = load_wpoints(r, app, pt, 128);

	if (n == 0)
		return 0; /* no profile rows for this app: no chart */
	snprintf(dat, sizeof(dat), "frontier-%s.dat", app);
	snprintf(gpn, sizeof(gpn), "frontier-%s.gp", app);
	FILE *f = report__open_in(dir, dat, why, why_len);
	if (!f)
		return -EIO;
	/* Block 0: every W (latency us, throughput K/s, "W=..", frontier); block 1: the
	 * frontier by latency; block 2: the baselines; block 3: the points the thesis states. */
	fputs("# latency_us throughput_k label frontier\n", f);
	for (size_t i = 0; i < n; i++)
		fprintf(f, "%g %g \"%g\" %d\n", pt[i].lat, pt[i].tput / 1e3, pt[i].w,
			pt[i].frontier);
	fputs("\n\n# frontier\n", f);
	qsort(pt, n, sizeof(pt[0]), cmp_lat);
	for (size_t i = 0; i < n; i++)
		if (pt[i].frontier)
			fprintf(f, "%g %g\n", pt[i].lat, pt[i].tput / 1e3);
	fputs("\n\n# baselines\n", f);
	int nbase = 0;
	for (int s = THESIS_LINUX; s < THESIS_NSTRAT; s++) {
		char base[64];
		struct wpoint b;
		snprintf(base, sizeof(base), "%s-%s", app, report__thesis_strategies[s]);
		if (load_wpoints(r, base, &b, 1) == 1) {
			fprintf(f, "%g %g \"%s\"\n", b.lat, b.tput / 1e3, strategy_title[s]);
			nbase++;
		}
	}
	fputs("\n\n# published\n", f);
	bool pub = a == 0;
	if (pub)
		fputs("74 38 \"thesis W=10\"\n77 40 \"thesis W=14\"\n", f);
	fclose(f);

	FILE *gp = report__open_in(dir, gpn, why, why_len);
	if (!gp)
		return -EIO;
	fprintf(gp,
		"cd '%s'\nset terminal pngcairo size 900,620 noenhanced font ',10'\n"
		"set output 'frontier-%s.png'\n"
		"set title \"%s: throughput against latency per batching delay W (us)\\n%s\"\n"
		"set xlabel 'mean latency, one client (us)'\n"
		"set ylabel 'throughput, many clients (K requests/s)'\n"
		"set grid\nset key outside bottom center horizontal\nset offsets graph 0.06, "
		"graph 0.1, graph 0.08, graph 0.08\n"
		"plot '%s' index 0 using 1:2 with points pt 7 ps 1.1 lc rgb '#999999' title "
		"'every W of the profile', \\\n"
		"     '' index 1 using 1:2 with linespoints lw 2 pt 7 ps 1.3 lc rgb '%s' title "
		"'Pareto frontier', \\\n"
		"     '' index 0 using 1:2:(\"W=\".strcol(3)) with labels offset 0,0.9 font ',8' "
		"notitle",
		dir, app, app_title[a], frontier_published[a], dat,
		strategy_colour[THESIS_ADAPTIVE]);
	if (nbase)
		fprintf(gp,
			", \\\n     '' index 2 using 1:2 with points pt 5 ps 1.4 lc rgb '%s' title "
			"'price-unaware baselines', \\\n"
			"     '' index 2 using 1:2:3 with labels center offset 0,-1.1 font ',9' notitle",
			strategy_colour[THESIS_LINUX]);
	if (pub)
		fputs(", \\\n     '' index 3 using 1:2 with points pt 12 ps 2 lw 2 lc rgb 'black' "
		      "title 'published (thesis)', \\\n"
		      "     '' index 3 using 1:2:3 with labels right offset -1.2,0 font ',9' notitle",
		      gp);
	fputc('\n', gp);
	fclose(gp);
	return report__run_gnuplot(dir, gpn, why, why_len);
}

int report__thesis_charts(struct report *r, const char *dir, char *why, size_t why_len)
{
	int rc = chart_profit_panels(r, dir, why, why_len);

	for (int a = 0; a < THESIS_NAPPS && !rc; a++)
		rc = chart_frontier(r, dir, a, why, why_len);
	return rc;
}
