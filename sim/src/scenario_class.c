/* scenario_class.c: reads and checks the tenant classes of a scenario ([class.*], [template.*]).
 *
 * A class's keys come from its own section, else from its template, else the schema's default.
 * Checks here go beyond types: the profile file must load and hold the app and every load
 * level the load process names; the static strategies' delay must have a row at every level
 * the class will be under; resources must be priced. Each error is reported at the key whose
 * value is wrong, in the section (class or template) that set it. */
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/error.h"
#include "scenario_internal.h"

#define MAX_CLASSES 4096
#define MAX_PHASES 1024

struct class_ctx {
	struct loader *ld;
	const char *cls;  /* "class.NAME" */
	const char *tmpl; /* "template.NAME" or NULL */
	struct sim_class_cfg *c;
};

static const char *sec_of(struct class_ctx *x, const char *key)
{
	return sim__class_section(x->ld, x->cls, x->tmpl, key);
}

/* Fills err at key (in whichever section set it) and returns -RAAS_ECONFIG. */
#define FAIL(x, key, ...) cfg_error_at((x)->ld->cfg, sec_of(x, key), key, (x)->ld->err, __VA_ARGS__)

static int get_str(struct class_ctx *x, const char *key, const char **out)
{
	return cfg_get_string(x->ld->cfg, sec_of(x, key), key, out, x->ld->err);
}

static int get_int(struct class_ctx *x, const char *key, int64_t *out)
{
	return cfg_get_int(x->ld->cfg, sec_of(x, key), key, out, x->ld->err);
}

static int get_double(struct class_ctx *x, const char *key, double *out)
{
	return cfg_get_double(x->ld->cfg, sec_of(x, key), key, out, x->ld->err);
}

static int get_dur(struct class_ctx *x, const char *key, int64_t *out)
{
	return cfg_get_duration(x->ld->cfg, sec_of(x, key), key, out, x->ld->err);
}

static bool key_set(struct class_ctx *x, const char *key)
{
	return cfg_has(x->ld->cfg, x->cls, key) || (x->tmpl && cfg_has(x->ld->cfg, x->tmpl, key));
}

static bool valid_name(const char *s, size_t max)
{
	size_t n = strlen(s);

	if (n == 0 || n >= max)
		return false;
	for (size_t i = 0; i < n; i++)
		if (!((s[i] >= 'a' && s[i] <= 'z') || (s[i] >= 'A' && s[i] <= 'Z') ||
		      (s[i] >= '0' && s[i] <= '9') || s[i] == '_' || s[i] == '-'))
			return false;
	return true;
}

/* Loads a profile once per file. */
static int get_profile(struct class_ctx *x, const char *path, const struct econ_profile **out)
{
	struct sim_scenario *s = x->ld->s;
	struct econ_profile *p;
	struct econ_error e;
	char msg[700];

	for (size_t i = 0; i < s->nprofiles; i++) {
		if (strcmp(s->profiles[i]->name, path) == 0) {
			*out = s->profiles[i];
			return 0;
		}
	}
	int rc = econ_profile_load(path, &p, &e);
	if (rc == -ENOMEM)
		return rc;
	if (rc)
		return FAIL(x, "profile", "%s", econ_error_format(&e, msg, sizeof(msg)));
	struct econ_profile **v = realloc(s->profiles, (s->nprofiles + 1) * sizeof(*v));
	if (!v) {
		econ_profile_destroy(p);
		return -ENOMEM;
	}
	s->profiles = v;
	s->profiles[s->nprofiles++] = p;
	*out = p;
	return 0;
}

static void level_list(const struct econ_app *app, char *buf, size_t len)
{
	size_t o = 0;

	buf[0] = '\0';
	for (size_t i = 0; i < app->nlevels && o < len; i++)
		o += (size_t)snprintf(buf + o, len - o, "%s%s", i ? ", " : "", app->levels[i].name);
}

/* The index of a level name in the app, or a failure at key. */
static int find_level(struct class_ctx *x, const char *key, const char *name, int *out)
{
	char list[512];

	for (size_t i = 0; i < x->c->app->nlevels; i++) {
		if (strcmp(x->c->app->levels[i].name, name) == 0) {
			*out = (int)i;
			return 0;
		}
	}
	level_list(x->c->app, list, sizeof(list));
	return FAIL(x, key, "level '%s' is not in the profile of app %s (levels: %s)", name,
		    x->c->app->name, list);
}

static int load_phases(struct class_ctx *x, struct sim_load *l)
{
	const char *text;
	char *copy, *items[MAX_PHASES];

	if (get_str(x, "phases", &text))
		return -RAAS_ECONFIG;
	if (!text[0])
		return FAIL(x, "load", "load = phases needs a 'phases' key");
	copy = strdup(text);
	if (!copy)
		return -ENOMEM;
	size_t n = sim__split_list(copy, ',', items, MAX_PHASES);
	l->steps = calloc(n, sizeof(*l->steps));
	if (!l->steps) {
		free(copy);
		return -ENOMEM;
	}
	int rc = 0;
	for (size_t i = 0; i < n && rc == 0; i++) {
		char *parts[4];
		size_t np = sim__split_list(items[i], ':', parts, 4);
		struct sim_load_step *st = &l->steps[i];
		st->scale = 1.0;
		if (np < 2 || np > 3) {
			rc = FAIL(x, "phases", "phase %zu: expected LEVEL:DURATION[:SCALE]", i + 1);
			break;
		}
		if ((rc = find_level(x, "phases", parts[0], &st->level)))
			break;
		if (cfg_parse_duration(parts[1], &st->t_ns) || st->t_ns <= 0) {
			rc = FAIL(x, "phases", "phase %zu: '%s' is not a duration > 0", i + 1,
				  parts[1]);
			break;
		}
		char *end;
		if (np == 3) {
			st->scale = strtod(parts[2], &end);
			if (*end || !(st->scale > 0) || st->scale > 1)
				rc = FAIL(x, "phases", "phase %zu: scale '%s' is not in (0, 1]",
					  i + 1, parts[2]);
		}
		l->nsteps++;
		if (l->cycle_ns > INT64_MAX - st->t_ns)
			rc = FAIL(x, "phases", "phases too long");
		else
			l->cycle_ns += st->t_ns;
	}
	free(copy);
	return rc;
}

static int load_trace(struct class_ctx *x, struct sim_load *l)
{
	const char *value;
	char path[1100], *text, why[256];
	size_t len, n;
	struct sim_load_trace_row *rows;

	if (get_str(x, "load_trace", &value))
		return -RAAS_ECONFIG;
	if (!value[0])
		return FAIL(x, "load", "load = trace needs a 'load_trace' key");
	int rc = sim__resolve_path(x->ld, sec_of(x, "load_trace"), "load_trace", value, path,
				   sizeof(path));
	if (rc)
		return rc;
	rc = sim__read_file(path, &text, &len);
	if (rc)
		return FAIL(x, "load_trace", "%s: %s", path, raas_strerror(rc));
	rc = sim_load_trace_parse(text, len, &rows, &n, why, sizeof(why));
	free(text);
	if (rc == -ENOMEM)
		return rc;
	if (rc)
		return FAIL(x, "load_trace", "%s:%s", path, why);
	l->steps = calloc(n, sizeof(*l->steps));
	if (!l->steps) {
		free(rows);
		return -ENOMEM;
	}
	for (size_t i = 0; i < n && rc == 0; i++) {
		l->steps[i].t_ns = rows[i].t_ns;
		l->steps[i].scale = rows[i].scale;
		int lv = -1;
		for (size_t k = 0; k < x->c->app->nlevels; k++)
			if (strcmp(x->c->app->levels[k].name, rows[i].level) == 0)
				lv = (int)k;
		if (lv < 0)
			rc = FAIL(x, "load_trace", "%s:%d: level '%s' is not in the profile of app %s",
				  path, rows[i].line, rows[i].level, x->c->app->name);
		l->steps[i].level = lv;
		l->nsteps++;
	}
	free(rows);
	return rc;
}

static int load_load(struct class_ctx *x)
{
	struct sim_load *l = &x->c->load;
	const char *kind, *level;

	if (get_str(x, "load", &kind) || get_str(x, "level", &level))
		return -RAAS_ECONFIG;
	l->level = 0;
	if (level[0] && find_level(x, "level", level, &l->level))
		return -RAAS_ECONFIG;
	if (strcmp(kind, "constant") == 0) {
		l->kind = SIM_LOAD_CONSTANT;
		return 0;
	}
	if (strcmp(kind, "phases") == 0) {
		l->kind = SIM_LOAD_PHASES;
		if (cfg_get_bool(x->ld->cfg, sec_of(x, "phases_repeat"), "phases_repeat", &l->repeat,
				 x->ld->err))
			return -RAAS_ECONFIG;
		return load_phases(x, l);
	}
	if (strcmp(kind, "diurnal") == 0) {
		l->kind = SIM_LOAD_DIURNAL;
		if (get_double(x, "diurnal_min", &l->diurnal_min) ||
		    get_dur(x, "diurnal_peak", &l->diurnal_peak_ns) ||
		    get_dur(x, "diurnal_period", &l->diurnal_period_ns))
			return -RAAS_ECONFIG;
		if (!(l->diurnal_min > 0) || l->diurnal_min > 1)
			return FAIL(x, "diurnal_min", "must be in (0, 1]");
		if (l->diurnal_period_ns <= 0)
			return FAIL(x, "diurnal_period", "must be > 0");
		return 0;
	}
	if (strcmp(kind, "trace") == 0) {
		l->kind = SIM_LOAD_TRACE;
		return load_trace(x, l);
	}
	return FAIL(x, "load", "'%s' is not constant, phases, diurnal or trace", kind);
}

static int load_utility(struct class_ctx *x)
{
	struct econ_utility *u = &x->c->utility;
	const char *kind, *delta;
	int64_t l0;

	if (get_str(x, "utility", &kind) || get_str(x, "delta", &delta) ||
	    get_double(x, "alpha", &u->alpha) || get_double(x, "x", &u->x) ||
	    get_dur(x, "l0", &l0) || get_double(x, "beta", &u->beta_per_ms) ||
	    get_double(x, "gamma", &u->gamma_ms))
		return -RAAS_ECONFIG;
	if (econ_kind_parse(kind, &u->kind))
		return FAIL(x, "utility", "'%s' is not penalty, refund or bonus", kind);
	u->l0_us = (double)l0 / 1000.0;
	if (strcmp(delta, "inf") == 0) {
		u->delta = INFINITY;
	} else {
		char *end;
		u->delta = strtod(delta, &end);
		if (*end || !isfinite(u->delta) || u->delta < 0)
			return FAIL(x, "delta", "'%s' is not a number >= 0 or inf", delta);
	}
	if (u->alpha < 0)
		return FAIL(x, "alpha", "must be >= 0 ($/Gbit)");
	if (u->x < 0)
		return FAIL(x, "x", "must be >= 0");
	if (!(u->l0_us > 0))
		return FAIL(x, "l0", "must be > 0");
	if (u->beta_per_ms < 0)
		return FAIL(x, "beta", "must be >= 0 ($/Gbit per ms)");
	if (u->gamma_ms < 0)
		return FAIL(x, "gamma", "must be >= 0 ($/Gbit x ms)");
	return 0;
}

/* The levels the class's load process visits. */
static size_t used_levels(const struct sim_load *l, int *out, size_t max)
{
	size_t n = 0;

	if (l->kind == SIM_LOAD_CONSTANT || l->kind == SIM_LOAD_DIURNAL) {
		out[n++] = l->level;
		return n;
	}
	for (size_t i = 0; i < l->nsteps; i++) {
		bool seen = false;
		for (size_t k = 0; k < n; k++)
			seen |= out[k] == l->steps[i].level;
		if (!seen && n < max)
			out[n++] = l->steps[i].level;
	}
	return n;
}

/* Fixes the delay of static and unaware classes and checks it has a row at every level. */
static int load_strategy(struct class_ctx *x)
{
	struct sim_class_cfg *c = x->c;
	const char *strategy, *sl;
	int64_t delay_ns;
	int levels[64];

	if (get_str(x, "strategy", &strategy) || get_str(x, "static_level", &sl) ||
	    get_dur(x, "delay", &delay_ns))
		return -RAAS_ECONFIG;
	if (strcmp(strategy, "adaptive") == 0)
		c->strategy = SIM_ADAPTIVE;
	else if (strcmp(strategy, "static-tpt") == 0)
		c->strategy = SIM_STATIC_TPT;
	else if (strcmp(strategy, "static-lat") == 0)
		c->strategy = SIM_STATIC_LAT;
	else if (strcmp(strategy, "unaware") == 0)
		c->strategy = SIM_UNAWARE;
	else
		return FAIL(x, "strategy", "'%s' is not adaptive, static-tpt, static-lat or unaware",
			    strategy);
	c->delay_us = (double)delay_ns / 1000.0;
	c->static_delay = key_set(x, "delay");
	double scale;
	int l0;
	sim_load_at(&c->load, 0, &l0, &scale);
	c->static_level = (size_t)l0;
	if (sl[0]) {
		int lv;
		if (find_level(x, "static_level", sl, &lv))
			return -RAAS_ECONFIG;
		c->static_level = (size_t)lv;
	}
	if (c->strategy == SIM_ADAPTIVE)
		return 0;
	const char *why = "the given delay";
	if (!c->static_delay && c->strategy != SIM_UNAWARE) {
		const struct econ_level *ref = &c->app->levels[c->static_level];
		const struct econ_point *p = c->strategy == SIM_STATIC_TPT
						     ? econ_level_best_tput(ref)
						     : econ_level_best_latency(ref);
		c->delay_us = p->delay_us;
		why = c->strategy == SIM_STATIC_TPT ? "the best-throughput delay"
						    : "the best-latency delay";
	}
	size_t n = used_levels(&c->load, levels, 64);
	for (size_t i = 0; i < n; i++) {
		const struct econ_level *lv = &c->app->levels[levels[i]];
		if (!econ_level_at(lv, c->delay_us))
			return FAIL(x, "strategy",
				    "%s, %g us, has no row at level '%s' of app %s in %s", why,
				    c->delay_us, lv->name, c->app->name, c->profile_path);
	}
	return 0;
}

static int load_nom(struct class_ctx *x)
{
	struct sim_class_cfg *c = x->c;
	const char *app, *profile;
	char path[1100];
	const struct econ_profile *p = NULL;

	if (get_str(x, "app", &app) || get_str(x, "profile", &profile))
		return -RAAS_ECONFIG;
	int rc = sim__resolve_path(x->ld, sec_of(x, "profile"), "profile", profile, path,
				   sizeof(path));
	if (rc || (rc = get_profile(x, path, &p)))
		return rc;
	c->profile_path = p->name;
	c->app = econ_profile_app(p, app);
	if (!c->app) {
		char list[512];
		size_t o = 0;
		list[0] = '\0';
		for (size_t i = 0; i < p->napps && o < sizeof(list); i++)
			o += (size_t)snprintf(list + o, sizeof(list) - o, "%s%s", i ? ", " : "",
					      p->apps[i].name);
		return FAIL(x, "app", "no app '%s' in %s (apps: %s)", app, path, list);
	}
	if (c->resource != RAAS_RES_EGRESS && c->resource != RAAS_RES_BANDWIDTH)
		return FAIL(x, "resource", "a nom app buys egress or bandwidth, not %s",
			    raas_resource_name(c->resource));
	if ((rc = load_utility(x)) || (rc = load_load(x)) || (rc = load_strategy(x)))
		return rc;
	return 0;
}

static int parse_money(const char *s, money_t *out)
{
	return money_parse(s, out, NULL) == 0 && *out >= 0 ? 0 : -1;
}

static int load_flat(struct class_ctx *x)
{
	struct sim_class_cfg *c = x->c;
	struct sim_value_dist *d = &c->value;
	const char *value;
	char buf[128], *parts[4];

	if (get_int(x, "quantity", &c->quantity) || get_int(x, "min_quantity", &c->min_quantity) ||
	    get_str(x, "value", &value))
		return -RAAS_ECONFIG;
	if (c->resource == RAAS_RES_EGRESS)
		return FAIL(x, "resource", "flat tenants hold a resource; egress is metered (use a "
					   "nom class)");
	if (c->quantity < 1 || c->quantity > (INT64_C(1) << 40))
		return FAIL(x, "quantity", "must be 1 to 2^40");
	if (c->min_quantity == -1)
		c->min_quantity = c->quantity;
	if (c->min_quantity < 0 || c->min_quantity > c->quantity)
		return FAIL(x, "min_quantity", "must be -1 or 0 to quantity (%lld)",
			    (long long)c->quantity);
	snprintf(buf, sizeof(buf), "%s", value);
	size_t n = sim__split_list(buf, ':', parts, 4);
	const char *usage = "'%s' is not $V, uniform:$A:$B, normal:$MEAN:$SD or pareto:$MIN:SHAPE "
			    "(dollars per unit-hour)";
	if (n == 1) {
		d->kind = SIM_DIST_FIXED;
		if (parse_money(parts[0], &d->a))
			return FAIL(x, "value", usage, value);
		return 0;
	}
	if (n != 3)
		return FAIL(x, "value", usage, value);
	if (strcmp(parts[0], "uniform") == 0 || strcmp(parts[0], "normal") == 0) {
		d->kind = parts[0][0] == 'u' ? SIM_DIST_UNIFORM : SIM_DIST_NORMAL;
		if (parse_money(parts[1], &d->a) || parse_money(parts[2], &d->b))
			return FAIL(x, "value", usage, value);
		if (d->kind == SIM_DIST_UNIFORM && d->b <= d->a)
			return FAIL(x, "value", "uniform:$A:$B needs A < B");
		return 0;
	}
	if (strcmp(parts[0], "pareto") == 0) {
		char *end;
		d->kind = SIM_DIST_PARETO;
		d->shape = strtod(parts[2], &end);
		if (parse_money(parts[1], &d->a) || d->a <= 0 || *end || !(d->shape > 0) ||
		    !isfinite(d->shape))
			return FAIL(x, "value", usage, value);
		return 0;
	}
	return FAIL(x, "value", usage, value);
}

static int load_class(struct loader *ld, const char *sec, struct sim_class_cfg *c)
{
	struct class_ctx x = {.ld = ld, .cls = sec, .c = c};
	char tmpl[128];
	const char *t, *kind, *life, *res;

	if (!valid_name(sec + strlen("class."), sizeof(c->name)))
		return cfg_error_at(ld->cfg, sec, "kind", ld->err,
				    "class names are 1-63 letters, digits, '_' or '-'");
	snprintf(c->name, sizeof(c->name), "%s", sec + strlen("class."));
	if (cfg_get_string(ld->cfg, sec, "template", &t, ld->err))
		return -RAAS_ECONFIG;
	if (t[0]) {
		const char *names[1024];
		size_t n = cfg_sections(ld->cfg, "template.*", names, 1024);
		snprintf(tmpl, sizeof(tmpl), "template.%s", t);
		bool found = false;
		for (size_t i = 0; i < n && i < 1024; i++)
			found |= strcmp(names[i], tmpl) == 0;
		if (!found)
			return cfg_error_at(ld->cfg, sec, "template", ld->err,
					    "no [template.%s] section", t);
		if (cfg_has(ld->cfg, tmpl, "template"))
			return cfg_error_at(ld->cfg, tmpl, "template", ld->err,
					    "templates do not nest");
		x.tmpl = tmpl;
	}
	if (get_str(&x, "kind", &kind) || get_int(&x, "count", &c->count) ||
	    get_dur(&x, "arrival_mean", &c->arrival_mean_ns) || get_str(&x, "lifetime", &life) ||
	    get_dur(&x, "lifetime_mean", &c->lifetime_ns) || get_str(&x, "resource", &res))
		return -RAAS_ECONFIG;
	if (strcmp(kind, "nom") == 0)
		c->kind = SIM_KIND_NOM;
	else if (strcmp(kind, "flat") == 0)
		c->kind = SIM_KIND_FLAT;
	else
		return FAIL(&x, "kind", "'%s' is not nom or flat", kind);
	if (c->count < 0 || c->count > 100000000)
		return FAIL(&x, "count", "must be 0 to 100,000,000");
	if (c->count == 0 && c->arrival_mean_ns == 0)
		return FAIL(&x, "count", "no tenants: count is 0 and there are no arrivals");
	if (strcmp(life, "none") == 0)
		c->lifetime = SIM_LIFE_NONE;
	else if (strcmp(life, "exp") == 0)
		c->lifetime = SIM_LIFE_EXP;
	else if (strcmp(life, "fixed") == 0)
		c->lifetime = SIM_LIFE_FIXED;
	else
		return FAIL(&x, "lifetime", "'%s' is not none, exp or fixed", life);
	if (c->lifetime != SIM_LIFE_NONE && c->lifetime_ns <= 0)
		return FAIL(&x, "lifetime_mean", "must be > 0");
	if (!res[0] && c->kind == SIM_KIND_FLAT)
		return FAIL(&x, "resource", "flat tenants need a resource (cores, memory, bandwidth "
					    "or llc)");
	if (!res[0])
		c->resource = RAAS_RES_EGRESS;
	else if (raas_resource_parse(res, &c->resource))
		return FAIL(&x, "resource", "'%s' is not cores, memory, bandwidth, llc or egress",
			    res);
	if (ld->s->res[raas_resource_index(c->resource)].pricing == SIM_PRICING_NONE)
		return FAIL(&x, "resource", "%s is not priced: add a [resource.%s] section",
			    raas_resource_name(c->resource), raas_resource_name(c->resource));
	return c->kind == SIM_KIND_NOM ? load_nom(&x) : load_flat(&x);
}

int sim__load_classes(struct loader *ld)
{
	const char *names[MAX_CLASSES];
	size_t n = cfg_sections(ld->cfg, "class.*", names, MAX_CLASSES);

	if (n == 0) {
		sim__copy(ld->err->file, sizeof(ld->err->file), ld->s->path);
		snprintf(ld->err->message, sizeof(ld->err->message),
			 "no [class.NAME] section: a scenario needs tenants");
		return -RAAS_ECONFIG;
	}
	if (n > MAX_CLASSES)
		return cfg_error_at(ld->cfg, names[0], "kind", ld->err, "more than %d classes",
				    MAX_CLASSES);
	ld->s->classes = calloc(n, sizeof(*ld->s->classes));
	if (!ld->s->classes)
		return -ENOMEM;
	for (size_t i = 0; i < n; i++) {
		int rc = load_class(ld, names[i], &ld->s->classes[i]);
		ld->s->nclasses++;
		if (rc)
			return rc;
	}
	return 0;
}
