/* nom-profit: the economics side of the measurements, on libnom's economics (nom/econ).
 *
 *   nom-profit frontier --profile FILE [--utility KIND ...]
 *       prints, per app and load level, the delays on the Pareto frontier (throughput up,
 *       latency down; with --utility penalty, jitter down too; CPU per request down where
 *       the profile has it), one line each: "<app> <level> <d1>,<d2>,...", a point with a
 *       busy-poll budget as "<delay>/<spin>"
 *   nom-profit plan --profile FILE --app A --utility KIND [params]
 *       the two-phase price plan of the adaptive test: prints
 *       "<best_tput_delay> <best_latency_delay> <p1> <p2> <pick1> <pick2>": the fixed delays
 *       (best throughput under load `many`, best latency under load `single`), the phase
 *       prices ($/Gbit; p1 = 1 as in the thesis, p2 the dearest price up to alpha at which
 *       the optimizer still picks a point that earns money under `single`), and the delays
 *       the optimizer picks in each phase
 *   nom-profit pick --profile FILE --app A --load L [--price P] [--core-price C] [params]
 *       the working point libnom's controller picks at that level when a Gbit costs P
 *       dollars (default 1) and a core C dollars an hour (default 0): econ_menu_pick_priced,
 *       the CPU each point burns (throughput x cpu_us_per_request) charged at C. Prints
 *       "<delay_us> <spin_us> <throughput_rps> <latency_us> <cpu_us_per_request>
 *       <breakeven>": breakeven is the dearest core price ($/core-hour, to 3 significant
 *       digits) at which the optimizer still buys this point's spin budget over a point
 *       that spins less ("inf": at any price; 0 when the point does not spin)
 *   nom-profit score --utility KIND [params] --phase PRICE:FILE[:TARGET:PHASE] ...
 *       the profit a run made: for each phase, nom-loadgen's summary line in FILE (the last
 *       one, or the one of that target and phase) gives T, L, sigma and the time served;
 *       profit = sum of T * (a(L, sigma) - P) * time, in dollars. Prints "<profit> <phase
 *       profits...>".
 * Utility parameters: --alpha --beta (per ms) --gamma (ms) --delta --x --l0 (us); defaults
 * are the thesis's (docs/economics.md). Exit 0, 64 usage, 65 bad profile or input. */
#include <errno.h>
#include <getopt.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "nom/econ.h"
#include "nom/econ_optimize.h"
#include "nom/econ_profile.h"

#define MAX_PHASES 8

static int usage(void)
{
	fprintf(stderr, "usage: nom-profit frontier --profile FILE [--utility KIND]\n"
			"       nom-profit plan --profile FILE --app A --utility KIND [params]\n"
			"       nom-profit pick --profile FILE --app A --load L [--price P] "
			"[--core-price C] [params]\n"
			"       nom-profit score --utility KIND [params] --phase PRICE:FILE...\n");
	return 64;
}

static int load(const char *path, struct econ_profile **p)
{
	struct econ_error err;
	char msg[512];

	if (!path)
		return usage();
	if (econ_profile_load(path, p, &err) != 0) {
		fprintf(stderr, "nom-profit: %s\n", econ_error_format(&err, msg, sizeof(msg)));
		return 65;
	}
	return 0;
}

static int frontier(const struct econ_profile *p, const struct econ_utility *u)
{
	enum econ_criteria c = econ_utility_criteria(u);

	for (size_t a = 0; a < p->napps; a++)
		for (size_t l = 0; l < p->apps[a].nlevels; l++) {
			const struct econ_level *lv = &p->apps[a].levels[l];
			size_t idx[ECON_MENU_MAX], n = econ_frontier(lv->points, lv->npoints, c, idx,
								     ECON_MENU_MAX);

			printf("%s %s ", p->apps[a].name, lv->name);
			for (size_t i = 0; i < n && i < ECON_MENU_MAX; i++) {
				const struct econ_point *q = &lv->points[idx[i]];

				printf("%s%g", i ? "," : "", q->delay_us);
				if (q->spin_us > 0)
					printf("/%g", q->spin_us);
			}
			printf("\n");
		}
	return 0;
}

static int plan(const struct econ_profile *p, const char *app, const struct econ_utility *u)
{
	const struct econ_app *a = econ_profile_app(p, app);
	const struct econ_level *many, *single;
	const struct econ_point *bt, *bl, *pick1, *pick2 = NULL;
	double p1 = 1.0, p2 = 10.0;
	int err;

	if (!a || !(many = econ_app_level(a, "many")) || !(single = econ_app_level(a, "single"))) {
		fprintf(stderr, "nom-profit: the profile needs %s/many and %s/single\n", app, app);
		return 65;
	}
	bt = econ_level_best_tput(many);
	bl = econ_level_best_latency(single);
	pick1 = econ_optimize(many, u, p1, &err);
	/* The dearest price (in cents, below alpha) at which `single` still earns money. */
	for (double c = floor(u->alpha * 100) - 1; c >= 100; c--) {
		const struct econ_point *q = econ_optimize(single, u, c / 100, &err);

		if (q && econ_utility_rate(u, econ_point_gbps(q), q->latency_us, q->jitter_us,
					   c / 100) > 0) {
			p2 = c / 100;
			pick2 = q;
			break;
		}
	}
	if (!pick1 || !pick2) {
		fprintf(stderr, "nom-profit: no profitable plan for %s under this utility\n", app);
		return 65;
	}
	printf("%g %g %g %g %g %g\n", bt->delay_us, bl->delay_us, p1, p2, pick1->delay_us,
	       pick2->delay_us);
	return 0;
}

/* The priced pick (see the head of the file). The break-even price is found by doubling then
 * bisecting the core price: the spin the optimizer buys only falls as cores get dearer. */
static int pick(const struct econ_profile *p, const char *app, const char *load,
		const struct econ_utility *u, double price, double core_hour)
{
	const struct econ_app *a = econ_profile_app(p, app);
	const struct econ_level *lv = a ? econ_app_level(a, load) : NULL;
	const struct econ_point *q;
	struct econ_menu *m;
	double lo, hi, breakeven;

	if (!lv) {
		fprintf(stderr, "nom-profit: the profile has no level %s/%s\n", app ? app : "?",
			load ? load : "?");
		return 65;
	}
	m = malloc(sizeof(*m));
	if (!m)
		return 70;
	if (econ_menu_build(lv, u, m) != 0) {
		fprintf(stderr, "nom-profit: %s/%s: no menu under this utility\n", app, load);
		free(m);
		return 65;
	}
	q = m->choices[econ_menu_pick_priced(m, price, core_hour / 3600)].point;
	breakeven = 0;
	if (q->spin_us > 0) {
		lo = core_hour;
		hi = core_hour > 0 ? 2 * core_hour : 1e-3;
		while (hi < 1e12 && m->choices[econ_menu_pick_priced(m, price, hi / 3600)].point
					    ->spin_us >= q->spin_us)
			lo = hi, hi *= 2;
		if (hi >= 1e12) {
			breakeven = INFINITY;
		} else {
			while (hi - lo > 1e-3 * hi) {
				double mid = (lo + hi) / 2;

				if (m->choices[econ_menu_pick_priced(m, price, mid / 3600)]
					    .point->spin_us >= q->spin_us)
					lo = mid;
				else
					hi = mid;
			}
			breakeven = lo;
		}
	}
	printf("%g %g %.9g %.9g %.9g %.3g\n", q->delay_us, q->spin_us, q->tput_rps, q->latency_us,
	       q->cpu_us, breakeven);
	free(m);
	return 0;
}

static double json_num(const char *line, const char *key)
{
	char pat[64];
	const char *s;

	snprintf(pat, sizeof(pat), "\"%s\":", key);
	s = strstr(line, pat);
	return s ? strtod(s + strlen(pat), NULL) : NAN;
}

static int score(const struct econ_utility *u, char **phases, int n)
{
	double total = 0, part[MAX_PHASES];

	for (int i = 0; i < n; i++) {
		char *colon = strchr(phases[i], ':'), *sel, line[4096], last[4096] = "", want[64] = "";
		double price, t, l, s, d, b;
		FILE *f;

		if (!colon)
			return usage();
		*colon = '\0';
		price = strtod(phases[i], NULL);
		sel = strchr(colon + 1, ':');
		if (sel) {
			int tg, ph;

			*sel = '\0';
			if (sscanf(sel + 1, "%d:%d", &tg, &ph) != 2)
				return usage();
			snprintf(want, sizeof(want), "{\"target\":%d,\"phase\":%d,", tg, ph);
		}
		f = fopen(colon + 1, "r");
		if (!f) {
			fprintf(stderr, "nom-profit: %s: %s\n", colon + 1, strerror(errno));
			return 66;
		}
		while (fgets(line, sizeof(line), f))
			if (strstr(line, "\"tput_rps\"") && (!want[0] || strncmp(line, want, strlen(want)) == 0))
				strcpy(last, line);
		fclose(f);
		t = json_num(last, "tput_rps");
		l = json_num(last, "mean_us");
		s = json_num(last, "jitter_us");
		d = json_num(last, "duration_s");
		b = json_num(last, "bytes_per_request");
		if (!isfinite(t) || !isfinite(l) || !isfinite(s) || !isfinite(d) || !isfinite(b) ||
		    l <= 0) {
			fprintf(stderr, "nom-profit: %s: no nom-loadgen summary line\n", colon + 1);
			return 65;
		}
		part[i] = econ_utility_rate(u, econ_gbps(t, b), l, s, price) * d;
		total += part[i];
	}
	printf("%.9g", total);
	for (int i = 0; i < n; i++)
		printf(" %.9g", part[i]);
	printf("\n");
	return 0;
}

int main(int argc, char **argv)
{
	static const struct option opts[] = {
		{"profile", required_argument, 0, 'f'}, {"app", required_argument, 0, 'a'},
		{"utility", required_argument, 0, 'u'}, {"alpha", required_argument, 0, 'A'},
		{"beta", required_argument, 0, 'B'},    {"gamma", required_argument, 0, 'G'},
		{"delta", required_argument, 0, 'D'},   {"x", required_argument, 0, 'X'},
		{"l0", required_argument, 0, 'L'},      {"phase", required_argument, 0, 'p'},
		{"load", required_argument, 0, 'l'},    {"price", required_argument, 0, 'P'},
		{"core-price", required_argument, 0, 'C'}, {0, 0, 0, 0}};
	struct econ_utility u;
	struct econ_profile *prof = NULL;
	const char *profile = NULL, *app = NULL, *level = NULL, *why;
	char *phases[MAX_PHASES];
	int nphases = 0, opt, rc;
	double alpha = NAN, beta = NAN, gamma_ = NAN, delta = NAN, x = NAN, l0 = NAN;
	double price = 1, core_hour = 0;
	enum econ_kind kind = ECON_REFUND;

	if (argc < 2)
		return usage();
	optind = 2;
	while ((opt = getopt_long(argc, argv, "", opts, NULL)) != -1) {
		switch (opt) {
		case 'f': profile = optarg; break;
		case 'a': app = optarg; break;
		case 'u':
			if (econ_kind_parse(optarg, &kind) < 0)
				return usage();
			break;
		case 'A': alpha = atof(optarg); break;
		case 'B': beta = atof(optarg); break;
		case 'G': gamma_ = atof(optarg); break;
		case 'D': delta = strcmp(optarg, "inf") == 0 ? INFINITY : atof(optarg); break;
		case 'X': x = atof(optarg); break;
		case 'L': l0 = atof(optarg); break;
		case 'l': level = optarg; break;
		case 'P':
		case 'C': {
			char *end;
			double v = strtod(optarg, &end);

			if (end == optarg || *end || !isfinite(v) || v < 0) {
				fprintf(stderr, "nom-profit: --%s: \"%s\" is not a price >= 0\n",
					opt == 'P' ? "price" : "core-price", optarg);
				return 64;
			}
			*(opt == 'P' ? &price : &core_hour) = v;
			break;
		}
		case 'p':
			if (nphases == MAX_PHASES)
				return usage();
			phases[nphases++] = optarg;
			break;
		default: return usage();
		}
	}
	econ_utility_thesis(kind, &u);
	if (!isnan(alpha)) u.alpha = alpha;
	if (!isnan(beta)) u.beta_per_ms = beta;
	if (!isnan(gamma_)) u.gamma_ms = gamma_;
	if (!isnan(delta)) u.delta = delta;
	if (!isnan(x)) u.x = x;
	if (!isnan(l0)) u.l0_us = l0;
	if (econ_utility_check(&u, &why) < 0) {
		fprintf(stderr, "nom-profit: utility: %s\n", why);
		return 64;
	}
	if (strcmp(argv[1], "score") == 0)
		return nphases ? score(&u, phases, nphases) : usage();
	rc = load(profile, &prof);
	if (rc)
		return rc;
	if (strcmp(argv[1], "frontier") == 0)
		rc = frontier(prof, &u);
	else if (strcmp(argv[1], "plan") == 0 && app)
		rc = plan(prof, app, &u);
	else if (strcmp(argv[1], "pick") == 0 && app && level)
		rc = pick(prof, app, level, &u, price, core_hour);
	else
		rc = usage();
	econ_profile_destroy(prof);
	return rc;
}
