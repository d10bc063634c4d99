/* report_thesis.c: the nom thesis's profit table, beside the thesis's own figures.
 *
 * For runs of sim/scenarios/nom-thesis.ini (`[report] reference = nom-thesis`): the profit of
 * every app under every utility function and strategy, the ratios the thesis reports, the
 * thesis's figures (as quoted in this project's issue 4: nom/Linux 11.14x for memcached under
 * the penalty function; static-tpt 82% and static-lat 14% of adaptive for memcached, 73% and
 * 94% for nhttpd; NetPIPE's strategies tie), and an explanation of each difference computed
 * from the profiles the run used (stored in the run file). Classes are grouped by app (an
 * unaware class's app is the nom app's name with "-linux") and utility function. */
#include <math.h>
#include <stdio.h>
#include <string.h>

#include "nom/econ.h"
#include "report_internal.h"

#define NSTRAT 4
static const char *const strategies[NSTRAT] = {"adaptive", "static-tpt", "static-lat",
					       "unaware"};
static const char *const apps[] = {"memcached", "nhttpd", "netpipe"};
static const char *const utilities[] = {"penalty", "refund", "bonus"};
#define NAPPS 3
#define NUTIL 3

struct table {
	double profit[NAPPS][NUTIL][NSTRAT]; /* dollars; NAN when absent */
};

static void load_table(struct report *r, struct table *t)
{
	sqlite3_stmt *st;

	for (int a = 0; a < NAPPS; a++)
		for (int u = 0; u < NUTIL; u++)
			for (int s = 0; s < NSTRAT; s++)
				t->profit[a][u][s] = NAN;
	if (sqlite3_prepare_v2(r->db,
			       "SELECT app, utility, strategy, profit FROM classes WHERE variant = ?"
			       " AND kind = 'nom'",
			       -1, &st, NULL) != SQLITE_OK)
		return;
	sqlite3_bind_text(st, 1, r->variants[0], -1, SQLITE_STATIC);
	while (sqlite3_step(st) == SQLITE_ROW) {
		char app[64];
		snprintf(app, sizeof(app), "%s", (const char *)sqlite3_column_text(st, 0));
		char *linux_suffix = strstr(app, "-linux");
		if (linux_suffix)
			*linux_suffix = '\0';
		const char *u = (const char *)sqlite3_column_text(st, 1);
		const char *s = (const char *)sqlite3_column_text(st, 2);
		for (int a = 0; a < NAPPS; a++)
			for (int k = 0; k < NUTIL; k++)
				for (int j = 0; j < NSTRAT; j++)
					if (!strcmp(app, apps[a]) && !strcmp(u, utilities[k]) &&
					    !strcmp(s, strategies[j]))
						t->profit[a][k][j] =
							(double)sqlite3_column_int64(st, 3) / 1e9;
	}
	sqlite3_finalize(st);
}

/* A profile row's throughput (Gbit/s), latency and jitter; false when absent. */
static bool profile_point(struct report *r, const char *app, const char *load, double delay,
			  double *gbps, double *lat, double *jit)
{
	sqlite3_stmt *st;
	bool found = false;

	if (sqlite3_prepare_v2(r->db,
			       "SELECT throughput_rps * bytes_per_request * 8 / 1e9, latency_us,"
			       " jitter_us FROM profiles WHERE app = ? AND load = ? AND delay_us = ?",
			       -1, &st, NULL) != SQLITE_OK)
		return false;
	sqlite3_bind_text(st, 1, app, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 2, load, -1, SQLITE_STATIC);
	sqlite3_bind_double(st, 3, delay);
	if (sqlite3_step(st) == SQLITE_ROW) {
		*gbps = sqlite3_column_double(st, 0);
		*lat = sqlite3_column_double(st, 1);
		*jit = sqlite3_column_double(st, 2);
		found = true;
	}
	sqlite3_finalize(st);
	return found;
}

/* The best-throughput and best-latency delays of an app at a level. */
static bool static_delays(struct report *r, const char *app, const char *load, double *dt,
			  double *dl)
{
	char sql[256];

	snprintf(sql, sizeof(sql),
		 "SELECT delay_us FROM profiles WHERE app = ? AND load = '%s' ORDER BY"
		 " throughput_rps * bytes_per_request DESC, latency_us, delay_us LIMIT 1",
		 load);
	*dt = report_number(r, sql, app);
	snprintf(sql, sizeof(sql),
		 "SELECT delay_us FROM profiles WHERE app = ? AND load = '%s' ORDER BY"
		 " latency_us, throughput_rps * bytes_per_request DESC, delay_us LIMIT 1",
		 load);
	*dl = report_number(r, sql, app);
	return !isnan(*dt) && !isnan(*dl);
}

static double ratio(double a, double b)
{
	return (isnan(a) || isnan(b) || b == 0) ? NAN : a / b;
}

static void print_pct(FILE *out, double v)
{
	if (isnan(v))
		fprintf(out, " %8s", "-");
	else
		fprintf(out, " %7.1f%%", 100 * v);
}

static void print_x(FILE *out, double v)
{
	if (isnan(v))
		fprintf(out, " %8s", "-");
	else
		fprintf(out, " %7.2fx", v);
}

/* Linux memcached's profit over the thesis's two minutes under the penalty function with
 * its jitter set to k times its mean latency (the thesis's parameters and price steps). */
static double linux_penalty_profit(double tm, double lm, double ts, double ls, double k)
{
	struct econ_utility u;

	econ_utility_thesis(ECON_PENALTY, &u);
	return 60.0 * econ_utility_rate(&u, tm, lm, k * lm, ECON_THESIS_PRICE_LOW) +
	       60.0 * econ_utility_rate(&u, ts, ls, k * ls, ECON_THESIS_PRICE_HIGH);
}

static void explain_linux(struct report *r, const struct table *t, FILE *out)
{
	double tm, lm, jm, ts, ls, js;
	double adaptive = t->profit[0][0][0];

	if (!profile_point(r, "memcached-linux", "many", 0, &tm, &lm, &jm) ||
	    !profile_point(r, "memcached-linux", "single", 0, &ts, &ls, &js) || isnan(adaptive))
		return;
	struct econ_utility u;
	econ_utility_thesis(ECON_PENALTY, &u);
	double pm = fmin(1, u.x * econ_tail_prob(u.l0_us, lm, jm));
	/* Profit falls as jitter grows: bisect for the jitter that gives the thesis's ratio. */
	double target = adaptive / 11.14, lo = 0.0, hi = 20.0;
	bool reachable = linux_penalty_profit(tm, lm, ts, ls, hi) < target;
	for (int i = 0; i < 100 && reachable; i++) {
		double mid = (lo + hi) / 2;
		if (linux_penalty_profit(tm, lm, ts, ls, mid) > target)
			lo = mid;
		else
			hi = mid;
	}
	double dt, dl, tn = NAN, l, j;
	if (static_delays(r, "memcached", "many", &dt, &dl))
		profile_point(r, "memcached", "many", dt, &tn, &l, &j);
	fprintf(out,
		" - nom/Linux (memcached, penalty): here the ratio comes from throughput alone "
		"(nom %.3f vs Linux\n   %.3f Gbit/s under many clients: the thesis's 1.28x): "
		"Linux's mean latency %.0f us with jitter\n   %.0f us (assumed 0.5 x mean) leaves "
		"%.2g of its requests past L0 = 750 us, so the penalty\n   takes %.1f%% of its "
		"value.\n",
		tn, tm, lm, jm, econ_tail_prob(u.l0_us, lm, jm), 100 * pm);
	if (reachable)
		fprintf(out,
			"   The thesis's 11.14x needs Linux's penalty to bite: with jitter %.2f x its "
			"mean (%.0f us under many\n   clients) the same run gives 11.14x. The "
			"thesis's Table 6.1 jitter was not available here.\n",
			lo, lo * lm);
}

static void explain_static(struct report *r, const struct table *t, int a, double thesis_tpt,
			   double thesis_lat, FILE *out)
{
	double dt, dl, tm_t, tm_l, ts_t, ts_l, l, j;

	if (!static_delays(r, apps[a], "many", &dt, &dl) ||
	    !profile_point(r, apps[a], "many", dt, &tm_t, &l, &j) ||
	    !profile_point(r, apps[a], "many", dl, &tm_l, &l, &j) ||
	    !profile_point(r, apps[a], "single", dt, &ts_t, &l, &j) ||
	    !profile_point(r, apps[a], "single", dl, &ts_l, &l, &j))
		return;
	double lat_here = ratio(t->profit[a][0][2], t->profit[a][0][0]);
	double tpt_here = ratio(t->profit[a][0][1], t->profit[a][0][0]);
	fprintf(out,
		" - %s: static-tpt (%g us) loses only under one client, where it serves %.0f%% of "
		"delay %g's\n   throughput; static-lat (%g us) loses only under many clients, where "
		"it serves %.0f%% of the\n   best (profile rows). Here they keep %.0f%% and %.0f%% "
		"(penalty); the thesis's %.0f%% and %.0f%%\n",
		apps[a], dt, 100 * ts_t / ts_l, dl, dl, 100 * tm_l / tm_t, 100 * tpt_here,
		100 * lat_here, 100 * thesis_tpt, 100 * thesis_lat);
	fprintf(out, "   %s\n",
		thesis_lat < 0.5
			? "need the best-latency delay to earn almost nothing under many clients "
			  "(e.g. a latency tail past\n   L0 there), which the quoted numbers do not "
			  "show: our delay-0 row is extrapolated (profile M1)."
			: "weigh the one-client minute more than ours: its latencies at 0 us are "
			  "assumptions here\n   (profile S2), and a shorter base latency makes the "
			  "fixed 12 us cost more.");
}

void report_thesis(struct report *r, FILE *out)
{
	struct table t;
	bool adaptive_best = true, netpipe_ties = true;

	load_table(r, &t);
	fputs("Profit over the run ($) per app and utility function (nom-thesis.ini)\n", out);
	fprintf(out, "%-10s %-8s %10s %10s %10s %10s %8s %8s %8s\n", "app", "utility", "adaptive",
		"static-tpt", "static-lat", "unaware", "tpt/adp", "lat/adp", "nom/OS");
	for (int a = 0; a < NAPPS; a++) {
		for (int u = 0; u < NUTIL; u++) {
			double *p = t.profit[a][u];
			fprintf(out, "%-10s %-8s", apps[a], utilities[u]);
			for (int s = 0; s < NSTRAT; s++)
				fprintf(out, " %10.2f", p[s]);
			print_pct(out, ratio(p[1], p[0]));
			print_pct(out, ratio(p[2], p[0]));
			print_x(out, ratio(p[0], p[3]));
			fputc('\n', out);
			/* Exact ties are expected; allow a nanodollar of rounding per round. */
			for (int s = 1; s <= 2; s++)
				if (!(p[0] >= p[s] - 1e-6))
					adaptive_best = false;
			if (a == 2 && !(fabs(p[0] - p[1]) < 1e-6 && fabs(p[0] - p[2]) < 1e-6))
				netpipe_ties = false;
		}
	}
	fputs("\nBeside the thesis's figures (nom M.Sc. thesis ch. 6 / VEE'16, as quoted in issue "
	      "4;\nthe utility function of the static ratios is not named there: all three "
	      "shown)\n",
	      out);
	fprintf(out, "%-40s %8s %8s %8s %8s\n", "figure", "thesis", "penalty", "refund", "bonus");
	static const struct {
		int app, num, den;
		double thesis;
		bool times;
		const char *what;
	} figs[] = {
		{0, 0, 3, 11.14, true, "memcached nom/Linux profit"},
		{0, 1, 0, 0.82, false, "memcached static-tpt / adaptive"},
		{0, 2, 0, 0.14, false, "memcached static-lat / adaptive"},
		{1, 1, 0, 0.73, false, "nhttpd static-tpt / adaptive"},
		{1, 2, 0, 0.94, false, "nhttpd static-lat / adaptive"},
	};
	for (size_t i = 0; i < sizeof(figs) / sizeof(figs[0]); i++) {
		fprintf(out, "%-40s", figs[i].what);
		if (figs[i].times)
			print_x(out, figs[i].thesis);
		else
			print_pct(out, figs[i].thesis);
		for (int u = 0; u < NUTIL; u++) {
			double v = ratio(t.profit[figs[i].app][u][figs[i].num],
					 t.profit[figs[i].app][u][figs[i].den]);
			if (figs[i].times)
				print_x(out, v);
			else
				print_pct(out, v);
		}
		fputc('\n', out);
	}
	fprintf(out, "%-40s %8s %8s\n", "NetPIPE: the nom strategies tie", "yes",
		netpipe_ties ? "yes (all three functions)" : "NO");
	fprintf(out, "%-40s %8s %8s\n", "adaptive >= static-tpt and static-lat", "yes",
		adaptive_best ? "yes (every app and function)" : "NO");
	fputs("\nWhy the figures differ\n", out);
	explain_linux(r, &t, out);
	explain_static(r, &t, 0, 0.82, 0.14, out);
	explain_static(r, &t, 1, 0.73, 0.94, out);
	fputs(" - NetPIPE: one message in flight, so any delay only adds latency: delay 0 is best "
	      "for throughput,\n   latency and profit at every price, and every nom strategy "
	      "stays there (as in the thesis).\n"
	      " - Profiles: sim/scenarios/profiles/nom-thesis.csv marks each number as the "
	      "thesis's or an\n   assumption; with the thesis's Table 6.1 or measured profiles "
	      "(apps/bench/profile.sh) in\n   their place, the same run reproduces whatever those "
	      "numbers imply.\n\n",
	      out);
}
