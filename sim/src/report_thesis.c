/* report_thesis.c: the nom thesis's experiment: published, derived and simulated side by side.
 *
 * For runs of sim/scenarios/nom-thesis.ini (`[report] reference = nom-thesis`): the profit of
 * every app under every utility function and strategy, then one table of the thesis's
 * figures (../shared/reference/thesis-figures.md) with three values each:
 *   - published: as the thesis prints it;
 *   - derived: what the profile rows stored in the run file give by the thesis's formulas
 *     alone, computed here without the simulator: row ratios for the inputs, and for the
 *     profits the closed form sum over the two phases of duration x U(row, price), with the
 *     adaptive strategy taking each phase's best row and the static ones their fixed row;
 *   - simulated: what the run's tenants earned and paid (class_rounds, classes), measured
 *     from money only: a payment ratio at one price is a throughput ratio, a refund tenant's
 *     value per Gbit gives its latency, a profit ratio is a profit ratio.
 * Derived and simulated agree when the simulator accounts as the formulas say; published and
 * derived differ where the thesis's published inputs do not imply its published outputs, and
 * the last part says, for each such gap, what the profile or the experiment would need.
 * The experiment is read as the scenario ships it: phase 1 "many" clients at the first price,
 * phase 2 one client ("single") after the price step. Classes are grouped by app (a
 * baseline's app is the nom app's name with "-linux" or "-osv") and utility function. */
#include <math.h>
#include <stdio.h>
#include <string.h>

#include "nom/econ.h"
#include "report_internal.h"

enum { ADAPTIVE = THESIS_ADAPTIVE, STATIC_TPT = THESIS_STATIC_TPT, STATIC_LAT = THESIS_STATIC_LAT,
       LINUX = THESIS_LINUX, OSV = THESIS_OSV, NSTRAT = THESIS_NSTRAT };
#define strategies report__thesis_strategies
#define apps report__thesis_apps
#define utilities report__thesis_utilities
const char *const report__thesis_strategies[THESIS_NSTRAT] = {"adaptive", "static-tpt",
							      "static-lat", "linux", "osv"};
const char *const report__thesis_apps[THESIS_NAPPS] = {"memcached", "nhttpd", "netpipe"};
const char *const report__thesis_utilities[THESIS_NUTIL] = {"penalty", "refund", "bonus"};

/* Published (thesis-figures.md, sections 6.2-6.5 and the abstract). */
#define PUB_NOM_LINUX 11.14  /* memcached, penalty: nom's profit per $1 of Linux's */
#define PUB_PROFIT_MAX 11.1  /* abstract: up to 11.1x the profit of Linux and OSv */

/* The published profit figures that compare two bars (thesis-figures.md, section 6.5). */
const struct report__published report__thesis_published[] = {
	{0, 0, THESIS_LINUX, THESIS_ADAPTIVE, 1 / PUB_NOM_LINUX, "1/11.14 of nom"},
	{0, 0, THESIS_OSV, THESIS_ADAPTIVE, 0, "no profit"},
	{0, 0, THESIS_STATIC_TPT, THESIS_ADAPTIVE, 0.82, "82%"},
	{0, 0, THESIS_STATIC_LAT, THESIS_ADAPTIVE, 0.14, "14%"},
	{1, 0, THESIS_STATIC_TPT, THESIS_ADAPTIVE, 0.73, "73%"},
	{1, 0, THESIS_STATIC_LAT, THESIS_ADAPTIVE, 0.94, "94%"},
	{2, 0, THESIS_STATIC_TPT, THESIS_ADAPTIVE, 1, "= adaptive"},
	{2, 0, THESIS_STATIC_LAT, THESIS_ADAPTIVE, 1, "= adaptive"},
	{-1, 0, 0, 0, 0, NULL},
};
static const char *const levels[2] = {"many", "single"};
static const enum econ_kind kinds[] = {ECON_PENALTY, ECON_REFUND, ECON_BONUS};
#define NAPPS THESIS_NAPPS
#define NUTIL THESIS_NUTIL


struct table {
	double profit[NAPPS][NUTIL][NSTRAT];	   /* dollars; NAN when absent */
	double phase[NAPPS][NUTIL][NSTRAT][2];	   /* dollars before / from the price step */
	double delay[NAPPS][NUTIL][NSTRAT][2];	   /* us: working point mid-phase */
	bool split;				   /* the run has a price step */
	double step_round, last_round, round_s;	   /* the step's round; the run's last */
	double price[2];			   /* $/Gbit before / from the step */
	int mid[2];				   /* a round in the middle of each phase */
};

static int index_of(const char *const *names, int n, const char *s)
{
	for (int i = 0; i < n; i++)
		if (!strcmp(names[i], s))
			return i;
	return -1;
}

/* Finds a class's slot from its app, utility and strategy; false when it is not one of ours. */
static bool slot(sqlite3_stmt *st, int *a, int *u, int *s)
{
	char app[64];
	snprintf(app, sizeof(app), "%s", (const char *)sqlite3_column_text(st, 0));
	const char *strategy = (const char *)sqlite3_column_text(st, 2);
	char *suffix = strrchr(app, '-');
	*s = index_of(strategies, NSTRAT, strategy);
	if (suffix && strcmp(strategy, "unaware") == 0) {
		*s = index_of(strategies, NSTRAT, suffix + 1);
		*suffix = '\0';
	}
	*a = index_of(apps, NAPPS, app);
	*u = index_of(utilities, NUTIL, (const char *)sqlite3_column_text(st, 1));
	return *a >= 0 && *u >= 0 && *s >= 0 && (*s < LINUX || strcmp(strategy, "unaware") == 0);
}

static void load_phases(struct report *r, struct table *t)
{
	const char *v = r->variants[0];
	sqlite3_stmt *st;
	int a, u, s;

	t->step_round = report_number(r,
				      "SELECT min(round) FROM rounds WHERE variant = ?1 AND price_mean"
				      " != (SELECT price_mean FROM rounds WHERE variant = ?1 AND"
				      " round = 0 LIMIT 1)",
				      v);
	t->last_round = report_number(r, "SELECT max(round) FROM rounds WHERE variant = ?1", v);
	t->split = !isnan(t->step_round) && !isnan(t->last_round) && t->last_round > t->step_round;
	if (!t->split)
		return;
	t->round_s = r->duration_s / (t->last_round + 1);
	t->price[0] = report_number(r, "SELECT price_mean / 1e9 FROM rounds WHERE variant = ?1 AND"
				       " round = 0", v);
	char sql[640];
	snprintf(sql, sizeof(sql),
		 "SELECT price_mean / 1e9 FROM rounds WHERE variant = ?1 AND round = %.0f",
		 t->step_round);
	t->price[1] = report_number(r, sql, v);
	t->mid[0] = (int)floor(t->step_round / 2);
	t->mid[1] = (int)(t->step_round + floor((t->last_round - t->step_round) / 2));
	snprintf(sql, sizeof(sql),
		 "SELECT c.app, c.utility, c.strategy, sum(cr.profit * (cr.round < %.0f)),"
		 " sum(cr.profit * (cr.round >= %.0f)), sum(cr.mean_delay_us * (cr.round = %d)),"
		 " sum(cr.mean_delay_us * (cr.round = %d)) FROM class_rounds cr JOIN classes c"
		 " ON c.variant = cr.variant AND c.class = cr.class WHERE cr.variant = ?1 AND"
		 " c.kind = 'nom' GROUP BY c.class",
		 t->step_round, t->step_round, t->mid[0], t->mid[1]);
	if (sqlite3_prepare_v2(r->db, sql, -1, &st, NULL) != SQLITE_OK)
		return;
	sqlite3_bind_text(st, 1, v, -1, SQLITE_STATIC);
	while (sqlite3_step(st) == SQLITE_ROW) {
		if (!slot(st, &a, &u, &s))
			continue;
		for (int k = 0; k < 2; k++) {
			t->phase[a][u][s][k] = (double)sqlite3_column_int64(st, 3 + k) / 1e9;
			t->delay[a][u][s][k] = sqlite3_column_double(st, 5 + k);
		}
	}
	sqlite3_finalize(st);
}

static void load_table(struct report *r, struct table *t)
{
	sqlite3_stmt *st;
	int a, u, s;

	memset(t, 0, sizeof(*t));
	for (a = 0; a < NAPPS; a++)
		for (u = 0; u < NUTIL; u++)
			for (s = 0; s < NSTRAT; s++) {
				t->profit[a][u][s] = NAN;
				for (int k = 0; k < 2; k++)
					t->phase[a][u][s][k] = t->delay[a][u][s][k] = NAN;
			}
	if (sqlite3_prepare_v2(r->db,
			       "SELECT app, utility, strategy, profit FROM classes WHERE variant = ?"
			       " AND kind = 'nom'",
			       -1, &st, NULL) != SQLITE_OK)
		return;
	sqlite3_bind_text(st, 1, r->variants[0], -1, SQLITE_STATIC);
	while (sqlite3_step(st) == SQLITE_ROW)
		if (slot(st, &a, &u, &s))
			t->profit[a][u][s] = (double)sqlite3_column_int64(st, 3) / 1e9;
	sqlite3_finalize(st);
	load_phases(r, t);
}

void report__thesis_profits(struct report *r,
			    double profit[THESIS_NAPPS][THESIS_NUTIL][THESIS_NSTRAT])
{
	struct table t;

	load_table(r, &t);
	memcpy(profit, t.profit, sizeof(t.profit));
}

/* ---- the profile rows (stored in the run file) ---- */

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

/* The best-throughput and best-latency delays of an app at a level (the static strategies'
 * rule: best throughput, then lowest latency, then lowest delay; and the converse). */
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

/* A level's row with the best throughput (max) or the lowest latency (min): the column's
 * value. */
static double level_extreme(struct report *r, const char *app, const char *load,
			    const char *expr)
{
	char sql[256];
	snprintf(sql, sizeof(sql), "SELECT %s FROM profiles WHERE app = ? AND load = '%s'", expr,
		 load);
	return report_number(r, sql, app);
}

/* The profit rate ($/s) of the row (app, load, delay) under utility u at price. */
static double row_rate(struct report *r, const struct econ_utility *u, const char *app,
		       const char *load, double delay, double price)
{
	double g, l, j;
	if (!profile_point(r, app, load, delay, &g, &l, &j))
		return NAN;
	return econ_utility_rate(u, g, l, j, price);
}

/* The closed form of a class's profit over the run: both phases' duration x the rate of the
 * row its strategy serves at (adaptive: the phase's best row). */
static double derived_profit(struct report *r, const struct table *t, int a, int ui, int s)
{
	struct econ_utility u;
	char app[64], sql[256];
	double d[2] = {t->step_round * t->round_s,
		       (t->last_round + 1) * t->round_s - t->step_round * t->round_s};
	double dt, dl, total = 0;

	if (!t->split)
		return NAN;
	econ_utility_thesis(kinds[ui], &u);
	snprintf(app, sizeof(app), "%s%s", apps[a],
		 s == LINUX ? "-linux" : s == OSV ? "-osv" : "");
	if (s == STATIC_TPT || s == STATIC_LAT)
		if (!static_delays(r, app, "many", &dt, &dl))
			return NAN;
	for (int k = 0; k < 2; k++) {
		double rate = NAN;
		if (s == ADAPTIVE) {
			sqlite3_stmt *st;
			snprintf(sql, sizeof(sql),
				 "SELECT delay_us FROM profiles WHERE app = ? AND load = '%s'",
				 levels[k]);
			if (sqlite3_prepare_v2(r->db, sql, -1, &st, NULL) != SQLITE_OK)
				return NAN;
			sqlite3_bind_text(st, 1, app, -1, SQLITE_STATIC);
			while (sqlite3_step(st) == SQLITE_ROW) {
				double x = row_rate(r, &u, app, levels[k],
						    sqlite3_column_double(st, 0), t->price[k]);
				if (isnan(rate) || x > rate)
					rate = x;
			}
			sqlite3_finalize(st);
		} else {
			double w = s == STATIC_TPT ? dt : s == STATIC_LAT ? dl : 0;
			rate = row_rate(r, &u, app, levels[k], w, t->price[k]);
		}
		total += d[k] * rate;
	}
	return total;
}

/* ---- measured from the run's money ---- */

/* A class's payment or value in one round, nanodollars (NAN when absent). */
static double round_money(struct report *r, const char *cls, const char *col, int round)
{
	char sql[256];
	snprintf(sql, sizeof(sql),
		 "SELECT %s FROM class_rounds WHERE variant = ?1 AND class = '%s' AND round = %d",
		 col, cls, round);
	return report_number(r, sql, r->variants[0]);
}

static void class_name(char *buf, size_t len, int a, int u, int s)
{
	snprintf(buf, len, "%s-%s-%s", apps[a], utilities[u],
		 s == LINUX ? "unaware" : strategies[s]);
}

/* Metered egress is paid per Gbit at one price, so two classes' payments in one round are
 * their throughputs' ratio. */
static double sim_tput_ratio(struct report *r, const struct table *t, int a, int s1, int s2,
			     int k)
{
	char x[96], y[96];
	class_name(x, sizeof(x), a, 0, s1);
	class_name(y, sizeof(y), a, 0, s2);
	return round_money(r, x, "payment", t->mid[k]) / round_money(r, y, "payment", t->mid[k]);
}

/* A refund tenant's mean latency (us) in a round: it values a Gbit at a = alpha - beta L[ms]
 * = price x value / payment. */
static double sim_refund_latency(struct report *r, const struct table *t, int a, int s, int k)
{
	struct econ_utility u;
	char c[96];
	class_name(c, sizeof(c), a, 1, s);
	econ_utility_thesis(ECON_REFUND, &u);
	double v = t->price[k] * round_money(r, c, "value", t->mid[k]) /
		   round_money(r, c, "payment", t->mid[k]);
	return 1000 * (u.alpha - v) / u.beta_per_ms;
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

/* ---- the table of figures ---- */

enum fig_kind { FIG_X, FIG_PCT, FIG_MONEY, FIG_YES };

struct figure {
	const char *what;
	enum fig_kind kind;
	double published;   /* FIG_YES: 1 */
	bool up_to;         /* a published maximum ("up to") */
	double derived, simulated;
	const char *note;   /* "input": the profile takes it as given (a row, or N3) */
};

static void print_value(FILE *out, enum fig_kind k, double v)
{
	switch (k) {
	case FIG_X:
		print_x(out, v);
		break;
	case FIG_PCT:
		print_pct(out, v);
		break;
	case FIG_MONEY:
		if (isnan(v))
			fprintf(out, " %8s", "-");
		else
			fprintf(out, " %8.2f", v);
		break;
	case FIG_YES:
		fprintf(out, " %8s", isnan(v) ? "-" : v > 0 ? "yes" : "NO");
		break;
	}
}

/* Where a simulated figure stands against the published one. */
static const char *verdict(const struct figure *f)
{
	double s = f->simulated;
	if (isnan(s))
		s = f->derived;
	if (isnan(s))
		return "";
	if (f->kind == FIG_YES)
		return s > 0 ? "as published" : "GAP";
	if (f->kind == FIG_MONEY) /* published: "no profit" */
		return s <= 0 ? "as published" : "GAP";
	/* "up to" figures are printed rounded (4x for Table 6.1's 4.12x): 5% above counts. */
	if (f->up_to && s <= f->published * 1.05)
		return s >= f->published * 0.98 ? "as published" : "within (up to)";
	double rel = fabs(s / f->published - 1);
	return rel <= 0.02 ? "as published" : "GAP";
}

static void print_figures(FILE *out, struct figure *f, size_t n)
{
	fprintf(out, "%-46s %8s %8s %8s\n", "figure", "publ.", "derived", "simul.");
	for (size_t i = 0; i < n; i++) {
		char pub[32];
		if (f[i].kind == FIG_MONEY)
			snprintf(pub, sizeof(pub), "none");
		else if (f[i].kind == FIG_YES)
			snprintf(pub, sizeof(pub), "yes");
		else if (f[i].kind == FIG_PCT)
			snprintf(pub, sizeof(pub), "%s%.0f%%", f[i].up_to ? "<=" : "",
				 100 * f[i].published);
		else
			snprintf(pub, sizeof(pub), "%s%.*fx", f[i].up_to ? "<=" : "",
				 f[i].published >= 100 ? 0 : 2, f[i].published);
		fprintf(out, "%-46s %8s", f[i].what, pub);
		print_value(out, f[i].kind, f[i].derived);
		print_value(out, f[i].kind, f[i].simulated);
		fprintf(out, "  %s%s%s\n", verdict(&f[i]), f[i].note ? "; " : "",
			f[i].note ? f[i].note : "");
	}
}

/* Fills the table; returns the count. */
static size_t figures(struct report *r, const struct table *t, struct figure *f, size_t max)
{
	size_t n = 0;
	double g1, l1, j1, g2, l2, j2, dt, dl;
#define ADD(...) if (n < max) f[n++] = (struct figure){__VA_ARGS__}

	/* memcached inputs: rows against rows (derived), payments and refunds (simulated). */
	double nom_t_many = level_extreme(r, "memcached", "many", "max(throughput_rps)");
	double nom_t_single = level_extreme(r, "memcached", "single", "max(throughput_rps)");
	double lin_t_many = level_extreme(r, "memcached-linux", "many", "max(throughput_rps)");
	double lin_t_single = level_extreme(r, "memcached-linux", "single", "max(throughput_rps)");
	double osv_t_many = level_extreme(r, "memcached-osv", "many", "max(throughput_rps)");
	ADD("memcached nom/Linux throughput, many", FIG_X, 1.01, false,
	    ratio(nom_t_many, lin_t_many), sim_tput_ratio(r, t, 0, ADAPTIVE, LINUX, 0),
	    "input (R1)");
	ADD("memcached nom/Linux throughput, one client", FIG_X, 1.28, false,
	    ratio(nom_t_single, lin_t_single), sim_tput_ratio(r, t, 0, ADAPTIVE, LINUX, 1),
	    "input (R1)");
	ADD("memcached OSv/Linux throughput", FIG_X, 0.93, false, ratio(osv_t_many, lin_t_many),
	    sim_tput_ratio(r, t, 0, OSV, LINUX, 0), "input (R2)");
	if (static_delays(r, "memcached", "many", &dt, &dl) &&
	    profile_point(r, "memcached", "many", dt, &g1, &l1, &j1) &&
	    profile_point(r, "memcached-linux", "many", 0, &g2, &l2, &j2)) {
		ADD("memcached Linux/nom latency, many", FIG_X, 1.01, false, ratio(l2, l1),
		    ratio(sim_refund_latency(r, t, 0, LINUX, 0),
			  sim_refund_latency(r, t, 0, ADAPTIVE, 0)),
		    "Table 6.1 (402 / 399 us)");
		ADD("memcached Linux/nom jitter, many", FIG_X, 4, true, ratio(j2, j1), NAN,
		    "Table 6.1 (499 / 121 us)");
	}
	double nom_l1 = level_extreme(r, "memcached", "single", "min(latency_us)");
	double lin_l1 = level_extreme(r, "memcached-linux", "single", "min(latency_us)");
	ADD("memcached Linux/nom latency, one client", FIG_X, 1.29, true, ratio(lin_l1, nom_l1),
	    ratio(sim_refund_latency(r, t, 0, LINUX, 1), sim_refund_latency(r, t, 0, ADAPTIVE, 1)),
	    "Table 6.1 (82 / 63 us)");
	ADD("memcached OSv/nom jitter, one client", FIG_X, 588, true,
	    ratio(level_extreme(r, "memcached-osv", "single", "min(jitter_us)"),
		  level_extreme(r, "memcached", "single", "min(jitter_us)")),
	    NAN, "Table 6.1 (7,638 / 13 us)");
	/* nhttpd and NetPIPE inputs */
	double nh_t = level_extreme(r, "nhttpd", "many", "max(throughput_rps)");
	double nhl_t = level_extreme(r, "nhttpd-linux", "many", "max(throughput_rps)");
	ADD("nhttpd nom/Linux throughput, many", FIG_X, 3.9, true, ratio(nh_t, nhl_t),
	    sim_tput_ratio(r, t, 1, ADAPTIVE, LINUX, 0), "input (R3)");
	if (static_delays(r, "nhttpd", "many", &dt, &dl) &&
	    profile_point(r, "nhttpd", "many", dt, &g1, &l1, &j1) &&
	    profile_point(r, "nhttpd-linux", "many", 0, &g2, &l2, &j2))
		ADD("nhttpd Linux/nom latency, many", FIG_X, 9.1, true, ratio(l2, l1),
		    ratio(sim_refund_latency(r, t, 1, LINUX, 0),
			  sim_refund_latency(r, t, 1, ADAPTIVE, 0)),
		    "input (R3)");
	ADD("nhttpd nom/Linux throughput, one client", FIG_X, 1.2, false,
	    ratio(level_extreme(r, "nhttpd", "single", "max(throughput_rps)"),
		  level_extreme(r, "nhttpd-linux", "single", "max(throughput_rps)")),
	    sim_tput_ratio(r, t, 1, ADAPTIVE, LINUX, 1), "input (R4)");
	ADD("NetPIPE nom/Linux throughput", FIG_X, 1.42, true,
	    ratio(level_extreme(r, "netpipe", "single", "max(throughput_rps)"),
		  level_extreme(r, "netpipe-linux", "single", "max(throughput_rps)")),
	    sim_tput_ratio(r, t, 2, ADAPTIVE, LINUX, 1), "input (R5)");

	/* Outputs: profits. */
	ADD("memcached nom/Linux profit, penalty", FIG_X, PUB_NOM_LINUX, false,
	    ratio(derived_profit(r, t, 0, 0, ADAPTIVE), derived_profit(r, t, 0, 0, LINUX)),
	    ratio(t->profit[0][0][ADAPTIVE], t->profit[0][0][LINUX]), NULL);
	ADD("memcached OSv profit ($), penalty", FIG_MONEY, 0, false,
	    derived_profit(r, t, 0, 0, OSV), t->profit[0][0][OSV], NULL);
	static const struct {
		int app, s;
		double pub;
		const char *what, *note;
	} st[] = {
		{0, STATIC_TPT, 0.82, "memcached static-tpt / adaptive, penalty", NULL},
		{0, STATIC_LAT, 0.14, "memcached static-lat / adaptive, penalty", NULL},
		{1, STATIC_TPT, 0.73, "nhttpd static-tpt / adaptive, penalty", NULL},
		{1, STATIC_LAT, 0.94, "nhttpd static-lat / adaptive, penalty", "input (N3)"},
	};
	for (size_t i = 0; i < sizeof(st) / sizeof(st[0]); i++)
		ADD(st[i].what, FIG_PCT, st[i].pub, false,
		    ratio(derived_profit(r, t, st[i].app, 0, st[i].s),
			  derived_profit(r, t, st[i].app, 0, ADAPTIVE)),
		    ratio(t->profit[st[i].app][0][st[i].s], t->profit[st[i].app][0][ADAPTIVE]),
		    st[i].note);
	/* NetPIPE ties; nom beats both OSes everywhere; the abstract's maximum. */
	double tie_d = 1, tie_s = 1, beat_d = 1, beat_s = 1, max_d = 0, max_s = 0;
	for (int u = 0; u < NUTIL; u++) {
		for (int s = STATIC_TPT; s <= STATIC_LAT; s++) {
			if (fabs(derived_profit(r, t, 2, u, s) - derived_profit(r, t, 2, u, ADAPTIVE)) >
			    1e-6)
				tie_d = 0;
			if (!(fabs(t->profit[2][u][s] - t->profit[2][u][ADAPTIVE]) < 1e-6))
				tie_s = 0;
		}
		for (int a = 0; a < NAPPS; a++)
			for (int s = LINUX; s <= OSV; s++) {
				double dn = derived_profit(r, t, a, u, ADAPTIVE);
				double db = derived_profit(r, t, a, u, s);
				double sn = t->profit[a][u][ADAPTIVE], sb = t->profit[a][u][s];
				if (isnan(sb))
					continue;
				beat_d = dn > db ? beat_d : 0;
				beat_s = sn > sb ? beat_s : 0;
				if (db > 0)
					max_d = fmax(max_d, dn / db);
				if (sb > 0)
					max_s = fmax(max_s, sn / sb);
			}
	}
	ADD("NetPIPE: the nom strategies tie", FIG_YES, 1, false, tie_d, tie_s, NULL);
	ADD("nom earns more than Linux and OSv, every case", FIG_YES, 1, false, beat_d, beat_s,
	    NULL);
	ADD("nom/OS profit, largest (OS earning > 0)", FIG_X, PUB_PROFIT_MAX, true, max_d, max_s,
	    "abstract");
#undef ADD
	return n;
}

/* ---- what the gaps need ---- */

/* Linux memcached's profit over the run's two phases under the penalty with its one-client
 * row's throughput scaled by f and its jitter set to sigma1 (the many-client row as is). */
static double linux_penalty_profit(const struct table *t, double tm, double lm, double jm,
				   double ts, double ls, double sigma1, double f)
{
	struct econ_utility u;
	double d0 = t->step_round * t->round_s, d1 = (t->last_round + 1) * t->round_s - d0;

	econ_utility_thesis(ECON_PENALTY, &u);
	return d0 * econ_utility_rate(&u, tm, lm, jm, t->price[0]) +
	       d1 * econ_utility_rate(&u, f * ts, ls, sigma1, t->price[1]);
}

static void explain_linux(struct report *r, const struct table *t, FILE *out)
{
	double tm, lm, jm, ts, ls, js;
	double adaptive = t->profit[0][0][ADAPTIVE], linux_p = t->profit[0][0][LINUX];

	if (!t->split || isnan(adaptive) || isnan(linux_p) ||
	    !profile_point(r, "memcached-linux", "many", 0, &tm, &lm, &jm) ||
	    !profile_point(r, "memcached-linux", "single", 0, &ts, &ls, &js))
		return;
	struct econ_utility u;
	econ_utility_thesis(ECON_PENALTY, &u);
	double tail = econ_tail_prob(u.l0_us, lm, jm);
	double target = adaptive / PUB_NOM_LINUX;
	fprintf(out,
		" - memcached nom/Linux, penalty: %.2fx here, %.2fx published. Under many clients "
		"Table 6.1's\n   Linux (%.0f us, jitter %.0f us) has P[latency > %.0f us] = %.2f: "
		"the penalty takes %.0f%% of its\n   value, so Linux earns $%.2f there and $%.2f "
		"with one client (nom adaptive $%.2f, $%.2f).\n",
		ratio(adaptive, linux_p), PUB_NOM_LINUX, lm, jm, u.l0_us, tail,
		100 * fmin(1, u.x * tail), t->phase[0][0][LINUX][0], t->phase[0][0][LINUX][1],
		t->phase[0][0][ADAPTIVE][0], t->phase[0][0][ADAPTIVE][1]);
	/* Linux's profit is linear in its one-client throughput: the share f that gives the
	 * published ratio, and the jitter (bisection) that gives it at Table 6.1's throughput. */
	double base = linux_penalty_profit(t, tm, lm, jm, ts, ls, js, 0);
	double full = linux_penalty_profit(t, tm, lm, jm, ts, ls, js, 1);
	double f = (target - base) / (full - base);
	double nom1 = level_extreme(r, "memcached", "single", "max(throughput_rps)");
	double lin1 = level_extreme(r, "memcached-linux", "single", "max(throughput_rps)");
	fprintf(out,
		"   %.2fx needs Linux's one-client profit $%.2f lower: its one-client throughput "
		"at %.1f%%, i.e.\n   nom/Linux %.2fx there (published: up to 1.28x), ",
		PUB_NOM_LINUX, linux_p - target, 100 * f, ratio(nom1, lin1) / f);
	double lo = js, hi = 10 * u.l0_us;
	if (linux_penalty_profit(t, tm, lm, jm, ts, ls, hi, 1) < target) {
		for (int i = 0; i < 100; i++) {
			double mid = (lo + hi) / 2;
			if (linux_penalty_profit(t, tm, lm, jm, ts, ls, mid, 1) > target)
				lo = mid;
			else
				hi = mid;
		}
		fprintf(out, "or its one-client jitter at\n   %.0f us (Table 6.1: %.0f us).\n",
			lo, js);
	} else {
		fputs("as no jitter can.\n", out);
	}
}

/* What a published static/adaptive ratio needs, given that static strategy s earns what
 * adaptive earns in the phase where their delays agree and loses in the other one. */
static void explain_static(struct report *r, const struct table *t, int a, int s,
			   double quoted, FILE *out)
{
	const double *A = t->phase[a][0][ADAPTIVE], *S = t->phase[a][0][s];
	double dt, dl, ts, ls, js, ta, la, ja;

	if (!t->split || isnan(A[0]) || isnan(S[0]) ||
	    !static_delays(r, apps[a], "many", &dt, &dl))
		return;
	double total_a = A[0] + A[1], here = (S[0] + S[1]) / total_a;
	if (fabs(here / quoted - 1) <= 0.02)
		return;
	int k = (A[0] - S[0] >= A[1] - S[1]) ? 0 : 1; /* the phase where it loses */
	double ds = s == STATIC_TPT ? dt : dl, da = t->delay[a][0][ADAPTIVE][k];
	if (!profile_point(r, apps[a], levels[k], ds, &ts, &ls, &js) ||
	    !profile_point(r, apps[a], levels[k], da, &ta, &la, &ja))
		return;
	double need = quoted * total_a - S[1 - k];
	double q_need = need / A[k], q_here = S[k] / A[k];
	fprintf(out,
		" - %s %s (%g us), penalty: %.0f%% of adaptive here, %.0f%% published. Both "
		"earn\n   $%.2f in the %s phase; in the %s phase it earns $%.2f (%.0f%% of "
		"adaptive's),\n   serving %.0f%% of the throughput of adaptive's %g us (rows "
		"%s/%s).\n",
		apps[a], strategies[s], ds, 100 * here, 100 * quoted, S[1 - k], levels[1 - k],
		levels[k], S[k], 100 * q_here, 100 * ratio(ts, ta), da, apps[a], levels[k]);
	if (q_need < 0) {
		struct econ_utility u;
		econ_utility_thesis(ECON_PENALTY, &u);
		double share = 1 - t->price[k] / u.alpha;
		fprintf(out,
			"   The published figure needs it to lose $%.2f there: value below the $%g/Gbit "
			"paid, the\n   penalty taking over %.0f%% of its value (P[latency > %.0f us] "
			"> %.2g), i.e. latencies near\n   %.0f us where the profile has %.0f us. Out "
			"of reach with these rows: the thesis shows its\n   %s-phase point at %g us "
			"only in a chart.\n",
			-need, t->price[k], 100 * share, u.l0_us, share / u.x, u.l0_us, ls,
			levels[k], ds);
	} else if (q_need > 1) {
		fprintf(out,
			"   The published figure needs it to earn %.0f%% of adaptive's profit there, "
			"more than adaptive's best\n   point: impossible under this reading of the "
			"experiment.\n",
			100 * q_need);
	} else if (k == 1) {
		/* One outstanding request: throughput is 1/latency, so the profit share is
		 * la / (la + (ls - la)); solve for the base latency that gives q_need. */
		double base = q_need * (ls - la) / (1 - q_need);
		fprintf(out,
			"   The published figure needs %.0f%% there; with one request in flight "
			"(throughput = 1/latency)\n   that is a one-client latency of %.1f us at %g us "
			"instead of the profile's %.0f us.\n",
			100 * q_need, base, da, la);
	} else {
		fprintf(out,
			"   The published figure needs %.0f%% there: delay %g us serving about %.0f%% "
			"of delay %g us's\n   many-client throughput, where the profile has %.0f%% "
			"(the thesis shows it only in a chart).\n",
			100 * q_need, ds, 100 * q_need, da, 100 * ratio(ts, ta));
	}
}

void report_thesis(struct report *r, FILE *out)
{
	struct table t;
	struct figure f[32];

	load_table(r, &t);
	fputs("Profit over the run ($) per app and utility function (nom-thesis.ini)\n", out);
	fprintf(out, "%-10s %-8s %10s %10s %10s %10s %10s %8s %8s %8s\n", "app", "utility",
		"adaptive", "static-tpt", "static-lat", "Linux", "OSv", "tpt/adp", "lat/adp",
		"nom/Linux");
	for (int a = 0; a < NAPPS; a++) {
		for (int u = 0; u < NUTIL; u++) {
			double *p = t.profit[a][u];
			fprintf(out, "%-10s %-8s", apps[a], utilities[u]);
			for (int s = 0; s < NSTRAT; s++) {
				if (isnan(p[s]))
					fprintf(out, " %10s", "-");
				else
					fprintf(out, " %10.2f", p[s]);
			}
			print_pct(out, ratio(p[STATIC_TPT], p[ADAPTIVE]));
			print_pct(out, ratio(p[STATIC_LAT], p[ADAPTIVE]));
			print_x(out, ratio(p[ADAPTIVE], p[LINUX]));
			fputc('\n', out);
		}
	}
	fputs("\nThe thesis's figures: published (../shared/reference/thesis-figures.md), derived "
	      "(the profile's\nrows by the formulas alone, no simulation), simulated (the run's "
	      "money). \"input\": the profile\ntakes the figure as given (the code in its source "
	      "column).\n",
	      out);
	print_figures(out, f, figures(r, &t, f, 32));
	fputs("\nWhat each remaining gap needs\n", out);
	explain_linux(r, &t, out);
	explain_static(r, &t, 0, STATIC_TPT, 0.82, out);
	explain_static(r, &t, 0, STATIC_LAT, 0.14, out);
	explain_static(r, &t, 1, STATIC_TPT, 0.73, out);
	explain_static(r, &t, 1, STATIC_LAT, 0.94, out);
	char file[256] = "the scenario's profile file";
	sqlite3_stmt *st;
	if (sqlite3_prepare_v2(r->db, "SELECT file FROM profiles WHERE app = 'memcached' LIMIT 1",
			       -1, &st, NULL) == SQLITE_OK) {
		if (sqlite3_step(st) == SQLITE_ROW && sqlite3_column_text(st, 0))
			snprintf(file, sizeof(file), "%s", (const char *)sqlite3_column_text(st, 0));
		sqlite3_finalize(st);
	}
	fprintf(out,
		" - Profiles: %s: its header and source column say\n   which numbers are "
		"published and how each other is derived (sim/tools/nom-thesis-profile.py\n   "
		"writes it). The per-delay rows the thesis shows only in charts (Figures 6.1-6.15) "
		"are what\n   the gaps above need; measured profiles (apps/bench/profile.sh) can "
		"take their place.\n\n",
		file);
}
