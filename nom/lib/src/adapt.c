/* adapt.c: libnom's controller (adapt.h): prices and load in, working point and holdings out.
 *
 * The decisions are here (level, point, what the point needs, the cache size), the requests
 * that make the instance hold it in adapt_hold.c. The design notes are in adapt_priv.h. */
#include <ctype.h>
#include <errno.h>
#include <inttypes.h>
#include <math.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "adapt_priv.h"
#include "common/money.h"
#include "common/sbuf.h"
#include "common/wire.h"

static const char *const strategy_names[] = {
	[NOM_ADAPTIVE] = "adaptive", [NOM_STATIC_TPT] = "static-tpt",
	[NOM_STATIC_LAT] = "static-lat", [NOM_STATIC] = "static", [NOM_UNAWARE] = "unaware",
};

const char *nom_strategy_name(enum nom_strategy s)
{
	return (unsigned)s <= NOM_UNAWARE ? strategy_names[s] : "?";
}

int nom_strategy_parse(const char *name, enum nom_strategy *out)
{
	for (unsigned s = 0; s <= NOM_UNAWARE; s++)
		if (name && strcmp(name, strategy_names[s]) == 0) {
			*out = (enum nom_strategy)s;
			return 0;
		}
	return -EINVAL;
}

/* ---- events ---- */

const char *adapt__json_str(struct sbuf *b, const char *s)
{
	sbuf_json_str(b, s ? s : "");
	return sbuf_failed(b) ? "null" : b->s;
}

void adapt__emit(struct nom_adapt *a, const char *event, const char *fmt, ...)
{
	va_list ap;

	if (!a->cfg.out)
		return;
	fprintf(a->cfg.out, "{\"t_ms\":%.1f,\"wall_ns\":%" PRId64 ",\"event\":\"%s\"",
		(double)a->t_now / 1e6, a->wall_now, event);
	va_start(ap, fmt);
	vfprintf(a->cfg.out, fmt, ap);
	va_end(ap);
	fprintf(a->cfg.out, "}\n");
	fflush(a->cfg.out);
}

static void emit_wp(struct nom_adapt *a, const char *event)
{
	const struct nom_wp *w = &a->wp;
	const struct econ_point *pt = w->point;

	adapt__emit(a, event,
		    ",\"strategy\":\"%s\",\"price\":%.6g,\"core_price\":%.6g,\"memory_price\":%.6g,"
		    "\"round\":%" PRIu64
		    ",\"published_wall_ns\":%" PRId64 ",\"level\":\"%s\",\"rate\":%.1f,"
		    "\"conns\":%.0f,\"open\":%" PRId64 ",\"delay_us\":%.3g,\"spin_us\":%.3g,"
		    "\"cores\":%" PRId64
		    ",\"bandwidth_mbit\":%" PRId64 ",\"memory_mib\":%" PRId64
		    ",\"memory_target_mib\":%" PRId64 ",\"hit_rate\":%.4f,\"tput_rps\":%.1f,"
		    "\"latency_us\":%.2f,\"jitter_us\":%.2f,\"utility\":%.6g,\"stale\":%s,"
		    "\"held_bandwidth\":%" PRId64 ",\"held_cores\":%" PRId64
		    ",\"held_memory\":%" PRId64,
		    nom_strategy_name(a->cfg.strategy), w->price, w->core_hour, w->memory_hour,
		    w->round, w->published_wall_ns,
		    w->level_name ? w->level_name : "", a->rate, a->clients, a->open,
		    w->knobs.delay_us, w->knobs.spin_us, w->cores, w->bandwidth_mbit, w->memory_mib,
		    w->memory_target_mib, w->predicted_hit_rate, pt ? pt->tput_rps : 0,
		    pt ? pt->latency_us : 0, pt ? pt->jitter_us : 0, w->utility,
		    a->stale ? "true" : "false", a->held[NOM_BANDWIDTH], a->held[NOM_CORES],
		    a->held[NOM_MEMORY]);
}

/* ---- levels ---- */

/* The clients a level's name stands for: "single" 1, "many" 16 (apps/bench/profile.sh's 16
 * or 32 connections), a number itself; 0 when the name says nothing. */
static double level_clients(const char *name)
{
	if (strcmp(name, "single") == 0)
		return 1;
	if (strcmp(name, "many") == 0)
		return 16;
	for (const char *p = name; *p; p++)
		if (!isdigit((unsigned char)*p))
			return 0;
	return atof(name);
}

/* The level's throughput at the row nearest to delay_us. */
static const struct econ_point *at_delay(const struct econ_level *l, double delay_us)
{
	const struct econ_point *best = &l->points[0];

	for (size_t i = 1; i < l->npoints; i++)
		if (fabs(l->points[i].delay_us - delay_us) < fabs(best->delay_us - delay_us))
			best = &l->points[i];
	return best;
}

int nom_adapt_pick_level(const struct econ_app *app, double rate, double clients,
			 double delay_us, int cur)
{
	bool by_clients = clients > 0;
	int best = -1;
	double best_d = INFINITY, cur_d = INFINITY;

	if (!app || app->nlevels == 0)
		return -1;
	for (size_t i = 0; i < app->nlevels; i++)
		by_clients &= level_clients(app->levels[i].name) > 0;
	if (!by_clients && !(rate > 0))
		return cur >= 0 ? cur : 0;
	for (size_t i = 0; i < app->nlevels; i++) {
		const struct econ_level *l = &app->levels[i];
		double d = by_clients ? fabs(log(clients / level_clients(l->name)))
				      : fabs(log(rate / at_delay(l, delay_us)->tput_rps));
		if (d < best_d) {
			best_d = d;
			best = (int)i;
		}
		if ((int)i == cur)
			cur_d = d;
	}
	if (cur >= 0 && best != cur && best_d + log(ADAPT_HYSTERESIS) > cur_d)
		return cur;
	return best;
}

/* ---- create ---- */

static int fail(char *err, size_t len, int code, const char *fmt, ...)
	__attribute__((format(printf, 4, 5)));

static int fail(char *err, size_t len, int code, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(err, len, fmt, ap);
	va_end(ap);
	return code;
}

static void free_opts(struct nom_adapt *a)
{
	if (!a->opts)
		return;
	for (size_t i = 0; i < a->app->nlevels; i++)
		for (size_t k = 0; k < a->opts[i].n; k++)
			free(a->opts[i].menu[k]);
	free(a->opts);
	a->opts = NULL;
}

static int build_opts(struct nom_adapt *a, char *err, size_t errlen)
{
	const struct econ_app *app = a->app;
	int64_t cmax = a->cfg.cores_max > 0 ? a->cfg.cores_max : 1;

	if (cmax > ADAPT_CORES_OPTS)
		cmax = ADAPT_CORES_OPTS;
	a->opts = calloc(app->nlevels, sizeof(*a->opts));
	if (!a->opts)
		return -ENOMEM;
	for (size_t i = 0; i < app->nlevels; i++) {
		struct adapt_opts *o = &a->opts[i];
		for (int c = 1; c <= cmax; c++) {
			const struct econ_level *l = econ_app_level_cores(app, app->levels[i].name, c);
			if (!l)
				continue;
			o->cores[o->n] = c;
			o->level[o->n] = l;
			if (a->cfg.strategy == NOM_ADAPTIVE) {
				o->menu[o->n] = malloc(sizeof(struct econ_menu));
				if (!o->menu[o->n])
					return -ENOMEM;
				int rc = econ_menu_build(l, &a->cfg.utility, o->menu[o->n]);
				if (rc < 0) {
					free(o->menu[o->n]);
					o->menu[o->n] = NULL;
					return fail(err, errlen, rc,
						    "%s: %s/%s (%d cores): cannot build the frontier: %s",
						    a->cfg.profile->name, app->name, l->name, c,
						    rc == -E2BIG ? "too many points"
								 : "bad utility or level");
				}
			}
			o->n++;
		}
		for (size_t k = 0; k < o->level[0]->npoints; k++) {
			const struct econ_point *p = &o->level[0]->points[k];
			double v = econ_value_per_gbit(&a->cfg.utility, p->latency_us, p->jitter_us);
			if (v > a->max_value_per_gbit)
				a->max_value_per_gbit = v;
			if (p->spin_us > 0)
				a->has_spin = true;
			if (p->cpu_us > 0)
				a->has_cpu = true;
		}
	}
	return 0;
}

/* The fixed delay of the static strategies. */
static int static_delay(struct nom_adapt *a, char *err, size_t errlen)
{
	const struct nom_adapt_config *c = &a->cfg;

	a->fixed_delay_us = c->delay_us;
	if (c->strategy != NOM_STATIC_TPT && c->strategy != NOM_STATIC_LAT)
		return 0;
	const struct econ_level *l = &a->app->levels[a->initial_level];
	const struct econ_point *p = c->strategy == NOM_STATIC_TPT ? econ_level_best_tput(l)
								    : econ_level_best_latency(l);
	if (!p)
		return fail(err, errlen, -EINVAL, "%s/%s has no rows", a->app->name, l->name);
	a->fixed_delay_us = p->delay_us;
	return 0;
}

int nom_adapt_create(const struct nom_adapt_config *cfg, struct nom_adapt **out, char *err,
		     size_t errlen)
{
	const char *why;
	int rc;

	if (!cfg || !out || cfg->size < sizeof(*cfg) || !cfg->profile || !cfg->app)
		return fail(err, errlen, -EINVAL, "the controller needs a profile and an app");
	if ((unsigned)cfg->strategy > NOM_UNAWARE)
		return fail(err, errlen, -EINVAL, "strategy %d is not a strategy", cfg->strategy);
	if (econ_utility_check(&cfg->utility, &why) < 0)
		return fail(err, errlen, -EINVAL, "utility: %s", why);
	if (cfg->memory_max_mib > 0 &&
	    (!cfg->memory_curve || cfg->memory_min_mib < 0 ||
	     cfg->memory_min_mib > cfg->memory_max_mib || cfg->memory_reserve_mib < 0))
		return fail(err, errlen, -EINVAL,
			    "memory: needs a curve and 0 <= min <= max, reserve >= 0");
	if (cfg->cores_max < 0 || cfg->bandwidth_max_mbit < 0 || cfg->max_price < 0)
		return fail(err, errlen, -EINVAL, "negative cores, bandwidth or price limit");
	struct nom_adapt *a = calloc(1, sizeof(*a));
	if (!a)
		return -ENOMEM;
	a->cfg = *cfg;
	if (!a->cfg.max_price)
		a->cfg.max_price = 1000 * MONEY_PER_DOLLAR;
	a->app = econ_profile_app(cfg->profile, cfg->app);
	if (!a->app) {
		rc = fail(err, errlen, -ENOENT, "%s: no rows for app \"%s\"", cfg->profile->name,
			  cfg->app);
		goto fail_free;
	}
	a->initial_level = 0;
	if (cfg->static_level && cfg->static_level[0]) {
		const struct econ_level *l = econ_app_level(a->app, cfg->static_level);
		if (!l) {
			rc = fail(err, errlen, -ENOENT, "%s: app %s has no level \"%s\"",
				  cfg->profile->name, cfg->app, cfg->static_level);
			goto fail_free;
		}
		a->initial_level = (int)(l - a->app->levels);
	}
	if ((rc = build_opts(a, err, errlen)) || (rc = static_delay(a, err, errlen)))
		goto fail_free;
	a->wp.level = -1;
	a->wp.price = -1;
	a->wp.predicted_hit_rate = -1;
	a->candidate = -1;
	a->memory_target = cfg->memory_max_mib > 0
				   ? (cfg->strategy == NOM_UNAWARE ? cfg->memory_max_mib
								   : cfg->memory_min_mib)
				   : 0;
	if (cfg->load)
		nom_load_notify(cfg->load, &a->kick);
	if (cfg->nom && (rc = adapt__market_init(a, err, errlen)))
		goto fail_free;
	*out = a;
	return 0;

fail_free:
	if (cfg->load)
		nom_load_notify(cfg->load, NULL);
	free_opts(a);
	free(a);
	return rc;
}

void nom_adapt_destroy(struct nom_adapt *a)
{
	if (!a)
		return;
	nom_adapt_stop(a);
	if (a->cfg.load)
		nom_load_notify(a->cfg.load, NULL);
	free_opts(a);
	free(a);
}

/* ---- one decision ---- */

/* The measured load: rate, clients, open connections, and the level they point to. */
static int measure(struct nom_adapt *a)
{
	int level = a->wp.level >= 0 ? a->wp.level : a->initial_level;
	struct nom_load_view v;

	if (!a->cfg.load)
		return level;
	nom_load_read(a->cfg.load, &v);
	a->open = v.open;
	a->idle = v.open <= 0;
	if (v.windows == a->last_windows)
		return level;
	uint64_t fresh = v.windows - a->last_windows;
	a->last_windows = v.windows;
	a->rate = nom_load_rate(&v, ADAPT_RECENT);
	a->clients = nom_load_clients(&v, ADAPT_RECENT);
	int lv = nom_adapt_pick_level(a->app, a->rate, a->clients,
				      a->wp.point ? a->wp.knobs.delay_us : a->fixed_delay_us,
				      a->wp.level);
	if (a->wp.level < 0 || lv == level) {
		a->candidate = -1;
		return lv;
	}
	/* Another level: take it once it held for ADAPT_PERSIST windows. */
	if (lv != a->candidate) {
		a->candidate = lv;
		a->candidate_windows = 0;
	}
	a->candidate_windows += fresh;
	return a->candidate_windows >= ADAPT_PERSIST ? lv : level;
}

struct choice {
	const struct econ_point *pt;
	int cores;
	double value;   /* a: $/Gbit */
	double utility; /* $/s, net of the cores' price */
};

static struct choice choose(struct nom_adapt *a, int level, double P, double core_s)
{
	const struct adapt_opts *o = &a->opts[level];
	struct choice best = {0};
	bool have = false;

	for (size_t k = 0; k < o->n; k++) {
		int c = o->cores[k];
		if (k > 0 && (a->idle || a->cfg.strategy != NOM_ADAPTIVE))
			break; /* more cores only for an adaptive app under load */
		const struct econ_point *pt =
			a->cfg.strategy == NOM_ADAPTIVE
				? o->menu[k]->choices[econ_menu_pick_priced(o->menu[k], P, core_s)]
					  .point
				: at_delay(o->level[k], a->fixed_delay_us);
		double v = econ_value_per_gbit(&a->cfg.utility, pt->latency_us, pt->jitter_us);
		double burnt = econ_point_cores(pt);
		double cpu = a->cfg.cores_max > 0 ? fmax(c, burnt) : burnt;
		double u = econ_point_gbps(pt) * (v - P) - cpu * core_s;
		if (!have || u > best.utility) {
			best = (struct choice){pt, c, v, u};
			have = true;
		}
	}
	return best;
}

static double curve_at(const struct nom_memory_curve *c, double mib)
{
	if (c->n == 0 || !(c->step_mib > 0))
		return 0;
	double x = mib / c->step_mib;
	if (x <= 0)
		return c->hits_per_s[0];
	if (x >= (double)(c->n - 1))
		return c->hits_per_s[c->n - 1];
	size_t i = (size_t)x;
	double f = x - (double)i;
	return c->hits_per_s[i] * (1 - f) + c->hits_per_s[i + 1] * f;
}

/* The cache size whose hits are worth their memory (docs/economics.md): maximizes
 * hits(m) x bytes x 8e-9 x (a - P) - (m + reserve) x memory price, over whole MiB. Memory
 * the market does not price (mem_hour < 0) costs nothing to keep: the most. */
static void choose_memory(struct nom_adapt *a, const struct choice *ch, double P, double mem_hour)
{
	const struct nom_adapt_config *c = &a->cfg;
	struct nom_memory_curve curve;

	if (c->memory_max_mib <= 0)
		return;
	if (c->strategy == NOM_UNAWARE || mem_hour < 0) {
		/* Unpriced (or price-unaware): the most, and no curve asked for, so that the app
		 * need not measure one (nom-memcached measures from its first ask on). */
		a->memory_target = c->memory_max_mib;
		a->wp.predicted_hit_rate = -1;
		return;
	}
	if (c->memory_curve(c->arg, &curve) != 0)
		return;
	if (curve.lookups >= NOM_MEMORY_MIN_LOOKUPS) {
		double margin = ch->value > P ? ch->value - P : 0;
		double per_hit = curve.bytes_per_hit * 8e-9 * margin;
		double cost = mem_hour / 3600;
		int64_t best = c->memory_min_mib;
		double vbest = -INFINITY;
		for (int64_t m = c->memory_min_mib; m <= c->memory_max_mib; m++) {
			double v = curve_at(&curve, (double)m) * per_hit -
				   (double)(m + c->memory_reserve_mib) * cost;
			if (v > vbest + 1e-12) {
				vbest = v;
				best = m;
			}
		}
		/* Move only for a worthwhile step: 1 MiB and 5% of the cache. */
		int64_t cur = a->memory_target, d = best > cur ? best - cur : cur - best;
		if (d >= 1 && (double)d >= 0.05 * (double)cur)
			a->memory_target = best;
	}
	a->wp.predicted_hit_rate =
		curve.gets_per_s > 0 ? curve_at(&curve, (double)a->memory_target) / curve.gets_per_s
				     : -1;
}

static void report(struct nom_adapt *a, int64_t t_ns)
{
	if (a->cfg.report_ns > 0 && t_ns - a->last_report >= a->cfg.report_ns) {
		a->last_report = t_ns;
		emit_wp(a, "status");
	}
}

static bool market(const struct nom_adapt *a)
{
	return a->cfg.nom != NULL;
}

/* Tells the market, through nom-priced, the profit rate the working point was picked for and
 * its W (the dashboards' tenants page shows them; docs/dashboards.md). Once per pick; a
 * refusal is an event, never a reason to change what the app does. */
static void report_profit(struct nom_adapt *a)
{
	double nd_h = a->wp.utility * 3600.0 * (double)MONEY_PER_DOLLAR;
	double lim = (double)WIRE_PROFIT_MAX_ND_PER_HOUR;
	int64_t profit = (int64_t)llround(nd_h > lim ? lim : nd_h < -lim ? -lim : nd_h);
	int64_t w = (int64_t)llround(a->wp.knobs.delay_us * 1000.0);
	int err = nom_report_profit(a->cfg.nom, a->cfg.app, profit, w);
	if (err) {
		struct sbuf why;
		sbuf_init(&why);
		adapt__emit(a, "profit_report", ",\"result\":\"error\",\"error\":\"%s\",\"why\":%s",
			    nom_strerror(err), adapt__json_str(&why, nom_last_error(a->cfg.nom)));
		sbuf_fini(&why);
	}
}

bool nom_adapt_step(struct nom_adapt *a, int64_t t_ns, int64_t wall_ns)
{
	struct nom_prices pr = {.traffic = -1, .core_hour = -1, .memory_hour = -1};
	const struct nom_adapt_config *c = &a->cfg;

	a->t_now = t_ns;
	a->wall_now = wall_ns;
	if (c->prices && nom_source_get(c->prices, t_ns, &pr, NULL) != 0)
		pr = (struct nom_prices){.traffic = a->wp.price, .core_hour = -1,
					 .memory_hour = -1, .round = a->wp.round,
					 .published_wall_ns = a->wp.published_wall_ns};
	if (market(a)) {
		adapt__read_held(a);
		if (pr.stale) {
			if (!a->stale) {
				struct sbuf why;
				a->stale = true;
				a->stale_events++;
				sbuf_init(&why);
				adapt__emit(a, "market",
					    ",\"state\":\"stale\",\"message\":%s,\"keeping\":"
					    "\"delay_us %.3g and the holdings the board shows\"",
					    adapt__json_str(&why, pr.why), a->wp.knobs.delay_us);
				sbuf_fini(&why);
			}
			report(a, t_ns); /* the status goes on, saying stale */
			return false;
		}
		if (a->stale) {
			a->stale = false;
			adapt__emit(a, "market", ",\"state\":\"fresh\"");
			adapt__resync(a);
		}
		if (pr.traffic < 0 && !a->no_price_said) {
			/* nom-priced follows only the prices it is told to: say how, once. */
			a->no_price_said = true;
			adapt__emit(a, "market",
				    ",\"state\":\"no-price\",\"message\":\"no bandwidth or egress "
				    "price for host %s on the board: nothing is held until one comes "
				    "(add bandwidth/%s to nom-priced's [priced] subscribe)\"",
				    a->host, a->host);
		}
	}

	double P = pr.traffic < 0 ? 0 : pr.traffic;
	double core_s = pr.core_hour < 0 ? 0 : pr.core_hour / 3600;
	double mem_s = pr.memory_hour < 0 ? 0 : pr.memory_hour / 3600;
	int level = measure(a);
	struct choice ch = choose(a, level, P, core_s);
	struct nom_wp w = a->wp;

	w.knobs.delay_us = ch.pt->delay_us;
	w.knobs.spin_us = c->strategy == NOM_ADAPTIVE && a->has_spin ? ch.pt->spin_us : -1;
	w.point = ch.pt;
	w.level = level;
	w.level_name = a->app->levels[level].name;
	w.price = pr.traffic;
	w.core_hour = pr.core_hour;
	w.memory_hour = pr.memory_hour;
	w.round = pr.round;
	w.published_wall_ns = pr.published_wall_ns;
	w.cores = c->cores_max > 0 ? ch.cores : 0;
	int64_t need = (int64_t)ceil(econ_point_gbps(ch.pt) * 1000 - 1e-9);
	if (c->bandwidth_max_mbit > 0 && need > c->bandwidth_max_mbit)
		need = c->bandwidth_max_mbit;
	if (c->strategy != NOM_UNAWARE && ch.value <= P)
		need = 0; /* the point loses money on every Gbit: hold none */
	w.bandwidth_mbit = need;
	a->wp.predicted_hit_rate = -1;
	choose_memory(a, &ch, P, pr.memory_hour);
	w.predicted_hit_rate = a->wp.predicted_hit_rate;
	w.memory_target_mib = a->memory_target;
	w.utility = ch.utility;

	/* The cache: at most what is held (minus the reserve) where memory is priced. */
	bool hold_memory = market(a) && c->memory_max_mib > 0 && pr.memory_hour >= 0 &&
			   adapt__priced(a, NOM_MEMORY);
	if (c->memory_max_mib > 0) {
		int64_t cache = a->memory_target;
		if (hold_memory && cache > a->held[NOM_MEMORY] - c->memory_reserve_mib)
			cache = a->held[NOM_MEMORY] - c->memory_reserve_mib;
		if (cache < c->memory_min_mib)
			cache = c->memory_min_mib;
		w.memory_mib = cache;
		if (hold_memory)
			w.utility -= (double)(w.memory_target_mib + c->memory_reserve_mib) * mem_s;
	}

	bool repick = !a->started || pr.traffic != a->wp.price || level != a->wp.level ||
		      ((c->cores_max > 0 || a->has_cpu) && pr.core_hour != a->wp.core_hour) ||
		      (c->memory_max_mib > 0 && pr.memory_hour != a->wp.memory_hour);
	bool changed = !a->started || w.knobs.delay_us != a->wp.knobs.delay_us ||
		       w.knobs.spin_us != a->wp.knobs.spin_us ||
		       w.cores != a->wp.cores || w.bandwidth_mbit != a->wp.bandwidth_mbit ||
		       w.memory_mib != a->wp.memory_mib ||
		       w.memory_target_mib != a->wp.memory_target_mib || w.point != a->wp.point;
	if (a->started && w.knobs.delay_us != a->wp.knobs.delay_us)
		a->changes++;
	a->wp = w;
	a->started = true;
	if (repick)
		a->picks++;
	/* Knobs first: a smaller cache is in force before its memory is released. */
	if (changed && c->apply && c->apply(c->arg, &a->wp) < 0)
		adapt__emit(a, "apply_error", ",\"delay_us\":%.3g,\"memory_mib\":%" PRId64,
			    w.knobs.delay_us, w.memory_mib);
	if (repick || changed)
		emit_wp(a, "pick");
	if (market(a) && (repick || changed))
		report_profit(a);
	if (market(a)) {
		int64_t bw_limit = c->strategy == NOM_UNAWARE
					   ? c->max_price
					   : (int64_t)llround(ch.value * NOM_GBIT_PER_MBPS_HOUR *
							      (double)MONEY_PER_DOLLAR);
		if (adapt__priced(a, NOM_BANDWIDTH))
			adapt__hold(a, NOM_BANDWIDTH, w.bandwidth_mbit, bw_limit, pr.round);
		if (c->cores_max > 0 && pr.core_hour >= 0)
			adapt__hold(a, NOM_CORES, w.cores, c->max_price, pr.round);
		if (hold_memory)
			adapt__hold(a, NOM_MEMORY, w.memory_target_mib + c->memory_reserve_mib,
				    c->max_price, pr.round);
	}
	report(a, t_ns);
	return changed;
}

void nom_adapt_status(const struct nom_adapt *a, struct nom_adapt_status *out)
{
	memset(out, 0, sizeof(*out));
	out->wp = a->wp;
	out->rate = a->rate;
	out->clients = a->clients;
	out->open = a->open;
	out->idle = a->idle;
	out->stale = a->stale;
	out->picks = a->picks;
	out->changes = a->changes;
	out->holds = a->holds;
	out->hold_errors = a->hold_errors;
	out->stale_events = a->stale_events;
	out->held_bandwidth = a->held[NOM_BANDWIDTH];
	out->held_cores = a->held[NOM_CORES];
	out->held_memory = a->held[NOM_MEMORY];
}

/* ---- the thread ---- */

uint32_t *nom_adapt_kick_word(struct nom_adapt *a)
{
	return &a->kick;
}

void nom_adapt_kick(struct nom_adapt *a)
{
	bb_kick(&a->kick);
}

static int64_t clock_ns(clockid_t id)
{
	struct timespec ts;

	clock_gettime(id, &ts);
	return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

static void *adapt_main(void *arg)
{
	struct nom_adapt *a = arg;
	int64_t t0 = clock_ns(CLOCK_MONOTONIC);

	while (!atomic_load(&a->stop)) {
		uint32_t seen = __atomic_load_n(&a->kick, __ATOMIC_ACQUIRE);
		int64_t t = clock_ns(CLOCK_MONOTONIC) - t0;
		nom_adapt_step(a, t, clock_ns(CLOCK_REALTIME));
		if (atomic_load(&a->stop))
			break;
		int64_t timeout = -1;
		if (a->cfg.report_ns > 0) {
			t = clock_ns(CLOCK_MONOTONIC) - t0;
			timeout = a->last_report + a->cfg.report_ns - t;
			if (timeout < 0)
				timeout = 0;
		}
		int err = a->cfg.prices ? nom_source_wait(a->cfg.prices, t, timeout, &a->kick, seen)
					: bb_wait_word(&a->kick, seen, timeout);
		if (err && err != -ETIMEDOUT)
			/* The source cannot wait (its board is gone, say): do not spin; look again
			 * in 100 ms or at a kick. */
			bb_wait_word(&a->kick, seen, ADAPT_RETRY_NS);
	}
	return NULL;
}

int nom_adapt_start(struct nom_adapt *a)
{
	if (a->running)
		return -EALREADY;
	atomic_store(&a->stop, false);
	int rc = pthread_create(&a->thread, NULL, adapt_main, a);
	if (rc)
		return -rc;
	a->running = true;
	return 0;
}

void nom_adapt_stop(struct nom_adapt *a)
{
	if (!a->running)
		return;
	atomic_store(&a->stop, true);
	bb_kick(&a->kick);
	pthread_join(a->thread, NULL);
	a->running = false;
}
