/* scenario.c: the scenario schema, and loading and checking a scenario file (see scenario.h).
 *
 * The schema below is the one list of keys raas-sim knows (docs/simulator.md documents the
 * same list). Loading reads the INI through common/config.h, applies the variant's and the
 * command line's assignments, then checks each section and turns it into struct sim_scenario;
 * tenant classes are read by scenario_class.c. Every error is reported at the origin of the
 * value that is wrong (file:line:key, or --set). */
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include <gsl/gsl_rng.h>

#include "common/error.h"
#include "common/resource.h"
#include "pricing/pm.h"
#include "scenario_internal.h"

#ifndef RAAS_SHARED_DATA_DEFAULT
#define RAAS_SHARED_DATA_DEFAULT ""
#endif

/* Keys of a tenant class, shared by [class.*] and [template.*]. */
#define CLASS_KEYS(SEC) \
	{SEC, "template", CFG_STRING, "", "a [template.NAME] whose keys this class inherits"}, \
	{SEC, "kind", CFG_STRING, "nom", "nom (an app with a profile) or flat (a fixed bid)"}, \
	{SEC, "count", CFG_INT, "1", "tenants at time 0"}, \
	{SEC, "arrival_mean", CFG_DURATION, "0s", "mean gap between Poisson arrivals; 0s: none"}, \
	{SEC, "lifetime", CFG_STRING, "none", "none, exp (mean lifetime_mean) or fixed"}, \
	{SEC, "lifetime_mean", CFG_DURATION, "1h", "a tenant's (mean) lifetime"}, \
	{SEC, "resource", CFG_STRING, "", "what it buys: egress or bandwidth (nom); cores, " \
					  "memory, bandwidth or llc (flat)"}, \
	{SEC, "app", CFG_STRING, NULL, "nom: the app's name in the profile"}, \
	{SEC, "profile", CFG_STRING, NULL, "nom: profile CSV (docs/profiles.md)"}, \
	{SEC, "utility", CFG_STRING, "penalty", "nom: penalty, refund or bonus"}, \
	{SEC, "alpha", CFG_DOUBLE, "20", "nom: $/Gbit served within the SLA"}, \
	{SEC, "x", CFG_DOUBLE, "100", "penalty: factor on the late-request probability"}, \
	{SEC, "l0", CFG_DURATION, "750us", "penalty: the SLA's latency bound"}, \
	{SEC, "beta", CFG_DOUBLE, "10", "refund: $/Gbit per ms of mean latency"}, \
	{SEC, "gamma", CFG_DOUBLE, "0.01", "bonus: $/Gbit x ms (bonus = gamma / L[ms])"}, \
	{SEC, "delta", CFG_STRING, "inf", "bonus: cap in $/Gbit, or inf"}, \
	{SEC, "strategy", CFG_STRING, "adaptive", "adaptive, static-tpt, static-lat or unaware"}, \
	{SEC, "delay", CFG_DURATION, "0us", "unaware: its row; static-*: overrides the delay"}, \
	{SEC, "static_level", CFG_STRING, "", "level defining the static delays (default: the " \
					      "load's first)"}, \
	{SEC, "load", CFG_STRING, "constant", "constant, phases, diurnal or trace"}, \
	{SEC, "level", CFG_STRING, "", "constant, diurnal: the level (default: the profile's " \
				       "first)"}, \
	{SEC, "phases", CFG_STRING, "", "phases: 'LEVEL:DURATION[:SCALE], ...'"}, \
	{SEC, "phases_repeat", CFG_BOOL, "false", "phases: start over after the last"}, \
	{SEC, "diurnal_min", CFG_DOUBLE, "0.3", "diurnal: scale at the trough (peak: 1)"}, \
	{SEC, "diurnal_peak", CFG_DURATION, "14h", "diurnal: time of the peak"}, \
	{SEC, "diurnal_period", CFG_DURATION, "24h", "diurnal: period"}, \
	{SEC, "load_trace", CFG_STRING, "", "trace: CSV of time_s,level[,scale]"}, \
	{SEC, "quantity", CFG_INT, "1", "flat: units wanted"}, \
	{SEC, "min_quantity", CFG_INT, "-1", "flat: fewest units taken (-1: all or nothing)"}, \
	{SEC, "value", CFG_STRING, "$0.05", "flat: $ per unit-hour: $V, uniform:$A:$B, " \
					    "normal:$MEAN:$SD or pareto:$MIN:SHAPE"}

static const struct cfg_key schema[] = {
	{"sim", "name", CFG_STRING, "", "a label for the run"},
	{"sim", "duration", CFG_DURATION, "1h", "simulated time"},
	{"sim", "round", CFG_DURATION, "60s", "length of a market round"},
	{"sim", "seed", CFG_INT, "1", "seed of every random draw (--seed overrides)"},
	{"sim", "threads", CFG_INT, "0", "worker threads; 0: one per CPU"},
	{"sim", "data_dir", CFG_STRING, "auto", "the shared data folder that ${data} names"},
	{"hosts", "count", CFG_INT, "1", "hosts"},
	{"hosts", "placement", CFG_STRING, "round-robin", "round-robin or random"},
	{"hosts", "cores", CFG_INT, "0", "cores per host"},
	{"hosts", "memory", CFG_INT, "0", "MiB per host"},
	{"hosts", "bandwidth", CFG_INT, "0", "Mbit/s per host (allocated)"},
	{"hosts", "llc", CFG_INT, "0", "LLC ways per host"},
	{"hosts", "egress", CFG_INT, "0", "Mbit/s link per host (metered; for utilization)"},
	{"resource.*", "model", CFG_STRING, NULL, "a pricing model, or 'schedule'"},
	{"resource.*", "params", CFG_STRING, "", "the model's 'name=value, ...'"},
	{"resource.*", "schedule", CFG_STRING, "", "model = schedule: 'TIME $PRICE, ...'"},
	{"resource.*", "scope", CFG_STRING, "host", "host (a pool per host) or global"},
	CLASS_KEYS("class.*"),
	CLASS_KEYS("template.*"),
	{"variant.*", "set", CFG_STRING, "", "'section.key=value; ...' applied for this variant"},
	{"variant.*", "cores", CFG_STRING, "", "'MODEL[: PARAMS]': resource.cores's pricing"},
	{"variant.*", "memory", CFG_STRING, "", "'MODEL[: PARAMS]': resource.memory's pricing"},
	{"variant.*", "bandwidth", CFG_STRING, "", "'MODEL[: PARAMS]': resource.bandwidth's "
						  "pricing"},
	{"variant.*", "llc", CFG_STRING, "", "'MODEL[: PARAMS]': resource.llc's pricing"},
	{"variant.*", "egress", CFG_STRING, "", "'MODEL[: PARAMS]': resource.egress's pricing"},
	{"output", "pool_prices", CFG_STRING, "auto", "per-pool price rows: auto, all or none"},
	{"output", "class_rounds", CFG_BOOL, "true", "per-class rows every round"},
	{"output", "record_bids", CFG_INT, "0", "record every bid and outcome of the first N "
						 "rounds (0: none, -1: all)"},
	{"report", "reference", CFG_STRING, "none", "none, or nom-thesis: compare with the thesis"},
	{"report", "title", CFG_STRING, "", "report title"},
};

const struct cfg_key *sim_scenario_schema(size_t *n)
{
	*n = sizeof(schema) / sizeof(schema[0]);
	return schema;
}


#define RNAME(r) raas_resource_name(r)

const char *sim_resource_unit(enum raas_resource r)
{
	static const char *const units[RAAS_RES_COUNT] = {"cores", "MiB", "Mbit/s", "ways",
							  "Mbit/s"};
	return r >= RAAS_RES_MIN && r <= RAAS_RES_MAX ? units[raas_resource_index(r)] : "?";
}

const char *sim_resource_price_unit(enum raas_resource r)
{
	static const char *const units[RAAS_RES_COUNT] = {"$/core-hour", "$/MiB-hour",
							  "$/(Mbit/s)-hour", "$/way-hour", "$/Gbit"};
	return r >= RAAS_RES_MIN && r <= RAAS_RES_MAX ? units[raas_resource_index(r)] : "?";
}

const char *sim_strategy_name(enum sim_strategy s)
{
	switch (s) {
	case SIM_ADAPTIVE:
		return "adaptive";
	case SIM_STATIC_TPT:
		return "static-tpt";
	case SIM_STATIC_LAT:
		return "static-lat";
	case SIM_UNAWARE:
		return "unaware";
	}
	return "?";
}

size_t sim__split_list(char *text, char sep, char **items, size_t max)
{
	size_t n = 0;

	for (char *p = text; n < max;) {
		char *c = strchr(p, sep);
		if (c)
			*c = '\0';
		while (*p == ' ' || *p == '\t')
			p++;
		char *e = p + strlen(p);
		while (e > p && (e[-1] == ' ' || e[-1] == '\t'))
			*--e = '\0';
		items[n++] = p;
		if (!c)
			break;
		p = c + 1;
	}
	return n;
}

const char *sim__class_section(struct loader *ld, const char *cls, const char *tmpl,
			       const char *key)
{
	if (cfg_has(ld->cfg, cls, key) || !tmpl || !cfg_has(ld->cfg, tmpl, key))
		return cls;
	return tmpl;
}

static bool is_dir(const char *path)
{
	struct stat st;

	return path[0] && stat(path, &st) == 0 && S_ISDIR(st.st_mode);
}

/* Finds the shared data folder: sim.data_dir, else $RAAS_SHARED_DATA, the folder
 * ../../../shared/data from the scenario (sim/scenarios/ in the source tree), the build's
 * default. Absence is not an error until ${data} is used. */
static int find_data_dir(struct loader *ld)
{
	struct sim_scenario *s = ld->s;
	const char *v;
	char cand[4][1100];
	int n = 0;

	if (cfg_get_string(ld->cfg, "sim", "data_dir", &v, ld->err))
		return -RAAS_ECONFIG;
	if (strcmp(v, "auto") != 0) {
		int len = v[0] == '/' ? snprintf(s->data_dir, sizeof(s->data_dir), "%s", v)
				      : snprintf(s->data_dir, sizeof(s->data_dir), "%s/%s", s->dir, v);
		if (len < 0 || (size_t)len >= sizeof(s->data_dir))
			return cfg_error_at(ld->cfg, "sim", "data_dir", ld->err, "path too long");
		sim__copy(ld->data_tried, sizeof(ld->data_tried), s->data_dir);
		if (!is_dir(s->data_dir))
			s->data_dir[0] = '\0';
		return 0;
	}
	const char *env = getenv("RAAS_SHARED_DATA");
	if (env && *env)
		sim__copy(cand[n++], sizeof(cand[0]), env);
	if (snprintf(cand[n], sizeof(cand[0]), "%s/../../../shared/data", s->dir) <
	    (int)sizeof(cand[0]))
		n++;
	if (RAAS_SHARED_DATA_DEFAULT[0])
		sim__copy(cand[n++], sizeof(cand[0]), RAAS_SHARED_DATA_DEFAULT);
	ld->data_tried[0] = '\0';
	for (int i = 0; i < n; i++) {
		size_t used = strlen(ld->data_tried);
		if (i && used + 2 < sizeof(ld->data_tried))
			sim__copy(ld->data_tried + used, sizeof(ld->data_tried) - used, ", ");
		used = strlen(ld->data_tried);
		sim__copy(ld->data_tried + used, sizeof(ld->data_tried) - used, cand[i]);
		if (!s->data_dir[0] && is_dir(cand[i])) {
			char *real = realpath(cand[i], NULL);
			sim__copy(s->data_dir, sizeof(s->data_dir), real ? real : cand[i]);
			free(real);
		}
	}
	return 0;
}

/* Expands ${data} (the shared data folder) and ${scenario} (the scenario's folder). */
static int expand(struct loader *ld, const char *section, const char *key, const char *value,
		  char *out, size_t len)
{
	size_t o = 0;

	for (const char *p = value; *p;) {
		const char *sub = NULL;
		size_t skip = 0;
		if (strncmp(p, "${data}", 7) == 0) {
			if (!ld->s->data_dir[0]) {
				cfg_error_at(ld->cfg, section, key, ld->err,
					     "the shared data folder was not found (looked in: "
					     "%s); set sim.data_dir",
					     ld->data_tried);
				return -ENOENT;
			}
			sub = ld->s->data_dir;
			skip = 7;
		} else if (strncmp(p, "${scenario}", 11) == 0) {
			sub = ld->s->dir;
			skip = 11;
		}
		size_t n = sub ? strlen(sub) : 1;
		if (o + n + 1 > len)
			return cfg_error_at(ld->cfg, section, key, ld->err, "too long");
		memcpy(out + o, sub ? sub : p, n);
		o += n;
		p += sub ? skip : 1;
	}
	out[o] = '\0';
	return 0;
}

int sim__resolve_path(struct loader *ld, const char *section, const char *key, const char *value,
		      char *out, size_t len)
{
	char expanded[2048];
	int rc = expand(ld, section, key, value, expanded, sizeof(expanded));

	if (rc)
		return rc;
	int n = expanded[0] == '/' ? snprintf(out, len, "%s", expanded)
				   : snprintf(out, len, "%s/%s", ld->s->dir, expanded);
	if (n < 0 || (size_t)n >= len)
		return cfg_error_at(ld->cfg, section, key, ld->err, "path too long");
	return 0;
}

static int load_sim_section(struct loader *ld)
{
	struct sim_scenario *s = ld->s;
	const char *name;
	int64_t seed, threads;

	if (cfg_get_string(ld->cfg, "sim", "name", &name, ld->err) ||
	    cfg_get_duration(ld->cfg, "sim", "duration", &s->duration_ns, ld->err) ||
	    cfg_get_duration(ld->cfg, "sim", "round", &s->round_ns, ld->err) ||
	    cfg_get_int(ld->cfg, "sim", "seed", &seed, ld->err) ||
	    cfg_get_int(ld->cfg, "sim", "threads", &threads, ld->err))
		return -RAAS_ECONFIG;
	if (strlen(name) >= sizeof(s->name))
		return cfg_error_at(ld->cfg, "sim", "name", ld->err, "longer than 63 characters");
	snprintf(s->name, sizeof(s->name), "%s", name);
	if (s->round_ns < 1000)
		return cfg_error_at(ld->cfg, "sim", "round", ld->err, "must be at least 1us");
	if (s->duration_ns < s->round_ns)
		return cfg_error_at(ld->cfg, "sim", "duration", ld->err,
				    "must be at least one round (%s)", cfg_get(ld->cfg, "sim", "round"));
	if (s->duration_ns / s->round_ns > 100000000)
		return cfg_error_at(ld->cfg, "sim", "duration", ld->err,
				    "more than 100,000,000 rounds");
	if (seed < 0)
		return cfg_error_at(ld->cfg, "sim", "seed", ld->err, "must be >= 0");
	s->seed = (uint64_t)seed;
	if (threads < 0 || threads > 256)
		return cfg_error_at(ld->cfg, "sim", "threads", ld->err, "must be 0 to 256");
	s->threads = (int)threads;
	return find_data_dir(ld);
}

static int load_hosts(struct loader *ld)
{
	struct sim_scenario *s = ld->s;
	const char *placement;

	if (cfg_get_int(ld->cfg, "hosts", "count", &s->hosts, ld->err) ||
	    cfg_get_string(ld->cfg, "hosts", "placement", &placement, ld->err))
		return -RAAS_ECONFIG;
	if (s->hosts < 1 || s->hosts > 10000000)
		return cfg_error_at(ld->cfg, "hosts", "count", ld->err, "must be 1 to 10,000,000");
	if (strcmp(placement, "round-robin") == 0)
		s->placement = SIM_PLACE_ROUND_ROBIN;
	else if (strcmp(placement, "random") == 0)
		s->placement = SIM_PLACE_RANDOM;
	else
		return cfg_error_at(ld->cfg, "hosts", "placement", ld->err,
				    "'%s' is not round-robin or random", placement);
	for (int r = RAAS_RES_MIN; r <= RAAS_RES_MAX; r++) {
		int i = raas_resource_index(r);
		if (cfg_get_int(ld->cfg, "hosts", raas_resource_name(r), &s->res[i].capacity, ld->err))
			return -RAAS_ECONFIG;
		if (s->res[i].capacity < 0 || s->res[i].capacity > INT64_C(1) << 40)
			return cfg_error_at(ld->cfg, "hosts", raas_resource_name(r), ld->err,
					    "must be 0 to 2^40");
	}
	return 0;
}

/* Creates one instance of a resource's model to check its name and parameters now (with
 * pricing-models' own messages), and that metered egress gets a posted price. */
static int check_model(struct loader *ld, const char *sec, enum raas_resource r)
{
	const struct sim_resource_cfg *rc = &ld->s->res[raas_resource_index(r)];
	struct pm_param params[64];
	struct pm_instance *inst;
	struct pm_error perr;
	char *storage = NULL;

	if (!pm_find(rc->model)) {
		pm_create(rc->model, NULL, 0, &inst, &perr);
		return cfg_error_at(ld->cfg, sec, "model", ld->err, "%s", perr.message);
	}
	int np = pm_params_parse(rc->params, params, 64, &storage, &perr);
	if (np < 0)
		return cfg_error_at(ld->cfg, sec, "params", ld->err, "%s", perr.message);
	int e = pm_create(rc->model, params, (size_t)np, &inst, &perr);
	free(storage);
	if (e == -ENOMEM)
		return e;
	if (e)
		return cfg_error_at(ld->cfg, sec, "params", ld->err, "%s", perr.message);
	if (r == RAAS_RES_EGRESS) {
		gsl_rng *rng = gsl_rng_alloc(gsl_rng_taus2);
		struct pm_pool pool = {.round_ns = 1, .rng = rng};
		money_t p;
		e = rng ? pm_posted_price(inst, &pool, &p) : -ENOMEM;
		if (rng)
			gsl_rng_free(rng);
		if (e == -ENOTSUP)
			e = cfg_error_at(ld->cfg, sec, "model", ld->err,
					 "model '%s' has no posted price; metered egress needs one "
					 "(fixed, trace, spot-ar1, utilization) or model = schedule",
					 rc->model);
		else
			e = 0;
	}
	pm_destroy(inst);
	return e;
}

static int load_resources(struct loader *ld)
{
	struct sim_scenario *s = ld->s;
	const char *sections[64];
	size_t n = cfg_sections(ld->cfg, "resource.*", sections, 64);

	for (size_t i = 0; i < n && i < 64; i++) {
		const char *sec = sections[i];
		const char *model, *params, *sched, *scope;
		enum raas_resource r;
		int e;
		if (raas_resource_parse(sec + strlen("resource."), &r))
			return cfg_error_at(ld->cfg, sec, "model", ld->err,
					    "unknown resource '%s' (resources: cores, memory, "
					    "bandwidth, llc, egress)",
					    sec + strlen("resource."));
		struct sim_resource_cfg *rc = &s->res[raas_resource_index(r)];
		if (cfg_get_string(ld->cfg, sec, "model", &model, ld->err) ||
		    cfg_get_string(ld->cfg, sec, "params", &params, ld->err) ||
		    cfg_get_string(ld->cfg, sec, "schedule", &sched, ld->err) ||
		    cfg_get_string(ld->cfg, sec, "scope", &scope, ld->err))
			return -RAAS_ECONFIG;
		if (strcmp(scope, "host") == 0)
			rc->scope = SIM_SCOPE_HOST;
		else if (strcmp(scope, "global") == 0)
			rc->scope = SIM_SCOPE_GLOBAL;
		else
			return cfg_error_at(ld->cfg, sec, "scope", ld->err,
					    "'%s' is not host or global", scope);
		if (strcmp(model, "schedule") == 0) {
			const char *why;
			size_t entry;
			if (!sched[0])
				return cfg_error_at(ld->cfg, sec, "model", ld->err,
						    "model = schedule needs a 'schedule' key");
			if (r != RAAS_RES_EGRESS)
				return cfg_error_at(ld->cfg, sec, "model", ld->err,
						    "a schedule prices metered egress only; held "
						    "resources need a pricing model");
			e = sim_schedule_parse(sched, &rc->schedule, &why, &entry);
			if (e == -ENOMEM)
				return e;
			if (e)
				return cfg_error_at(ld->cfg, sec, "schedule", ld->err,
						    "entry %zu: %s", entry, why);
			rc->pricing = SIM_PRICING_SCHEDULE;
			continue;
		}
		if (sched[0])
			return cfg_error_at(ld->cfg, sec, "schedule", ld->err,
					    "only read with model = schedule");
		if (strlen(model) >= sizeof(rc->model))
			return cfg_error_at(ld->cfg, sec, "model", ld->err, "name too long");
		snprintf(rc->model, sizeof(rc->model), "%s", model);
		/* ${data} and ${scenario} in parameters (a trace file's path). */
		char expanded[4096];
		e = expand(ld, sec, "params", params, expanded, sizeof(expanded));
		if (e)
			return e;
		params = expanded;
		rc->params = strdup(params);
		if (!rc->params)
			return -ENOMEM;
		rc->pricing = SIM_PRICING_MODEL;
		if ((e = check_model(ld, sec, r)))
			return e;
		if (r != RAAS_RES_EGRESS && rc->capacity == 0)
			return cfg_error_at(ld->cfg, sec, "model", ld->err,
					    "hosts.%s is 0: there is nothing to sell",
					    raas_resource_name(r));
	}
	return 0;
}

static int load_output_report(struct loader *ld)
{
	struct sim_scenario *s = ld->s;
	const char *pp, *ref, *title;

	if (cfg_get_string(ld->cfg, "output", "pool_prices", &pp, ld->err) ||
	    cfg_get_bool(ld->cfg, "output", "class_rounds", &s->class_rounds, ld->err) ||
	    cfg_get_int(ld->cfg, "output", "record_bids", &s->record_rounds, ld->err) ||
	    cfg_get_string(ld->cfg, "report", "reference", &ref, ld->err) ||
	    cfg_get_string(ld->cfg, "report", "title", &title, ld->err))
		return -RAAS_ECONFIG;
	if (s->record_rounds < -1)
		return cfg_error_at(ld->cfg, "output", "record_bids", ld->err, "must be -1, 0 or more");
	if (strcmp(pp, "auto") == 0)
		s->pool_prices = SIM_POOL_PRICES_AUTO;
	else if (strcmp(pp, "all") == 0)
		s->pool_prices = SIM_POOL_PRICES_ALL;
	else if (strcmp(pp, "none") == 0)
		s->pool_prices = SIM_POOL_PRICES_NONE;
	else
		return cfg_error_at(ld->cfg, "output", "pool_prices", ld->err,
				    "'%s' is not auto, all or none", pp);
	if (strcmp(ref, "none") == 0)
		s->reference = SIM_REF_NONE;
	else if (strcmp(ref, "nom-thesis") == 0)
		s->reference = SIM_REF_NOM_THESIS;
	else
		return cfg_error_at(ld->cfg, "report", "reference", ld->err,
				    "'%s' is not none or nom-thesis", ref);
	snprintf(s->title, sizeof(s->title), "%s", title);
	return 0;
}

/* Applies one assignment of a variant; an error points at the variant's key. */
static int variant_assign(struct loader *ld, const char *sec, const char *key,
			  const char *assignment)
{
	struct cfg_error inner;
	char msg[768];

	if (cfg_set_override(ld->cfg, assignment, &inner) == 0)
		return 0;
	cfg_error_format(&inner, msg, sizeof(msg));
	return cfg_error_at(ld->cfg, sec, key, ld->err, "'%s': %s", assignment, msg);
}

/* Applies [variant.NAME]: each resource key ("MODEL[: PARAMS]" sets resource.R.model and
 * resource.R.params), then the `set` assignments. Errors point at the variant's key. */
static int apply_variant(struct loader *ld, const char *variant)
{
	char sec[128], *items[256], *text, buf[4200];
	const char *set;
	int rc = 0;

	if (strlen(variant) >= 64 || strchr(variant, '.'))
		return cfg_error_at(ld->cfg, "sim", "name", ld->err, "bad variant name '%s'",
				    variant);
	snprintf(sec, sizeof(sec), "variant.%s", variant);
	const char *names[256];
	size_t nv = cfg_sections(ld->cfg, "variant.*", names, 256);
	bool found = false;
	for (size_t i = 0; i < nv && i < 256; i++)
		found |= strcmp(names[i], sec) == 0;
	if (!found) {
		sim__copy(ld->err->file, sizeof(ld->err->file), ld->s->path);
		ld->err->line = 0;
		sim__copy(ld->err->key, sizeof(ld->err->key), sec);
		snprintf(ld->err->message, sizeof(ld->err->message), "no such variant");
		return -RAAS_ECONFIG;
	}
	for (int r = RAAS_RES_MIN; r <= RAAS_RES_MAX && !rc; r++) {
		const char *v = cfg_get(ld->cfg, sec, RNAME(r));
		if (!v || !v[0])
			continue;
		const char *colon = strchr(v, ':');
		size_t mlen = colon ? (size_t)(colon - v) : strlen(v);
		while (mlen > 0 && v[mlen - 1] == ' ')
			mlen--;
		const char *params = colon ? colon + 1 : "";
		while (*params == ' ')
			params++;
		snprintf(buf, sizeof(buf), "resource.%s.model=%.*s", RNAME(r), (int)mlen,
			 v);
		rc = variant_assign(ld, sec, RNAME(r), buf);
		if (!rc && snprintf(buf, sizeof(buf), "resource.%s.params=%s", RNAME(r),
				    params) >= (int)sizeof(buf))
			rc = cfg_error_at(ld->cfg, sec, RNAME(r), ld->err, "too long");
		if (!rc)
			rc = variant_assign(ld, sec, RNAME(r), buf);
	}
	if (rc || cfg_get_string(ld->cfg, sec, "set", &set, ld->err))
		return rc ? rc : -RAAS_ECONFIG;
	text = strdup(set);
	if (!text)
		return -ENOMEM;
	size_t n = sim__split_list(text, ';', items, 256);
	for (size_t i = 0; i < n && !rc; i++)
		if (items[i][0])
			rc = variant_assign(ld, sec, "set", items[i]);
	free(text);
	if (!rc)
		sim__copy(ld->s->variant, sizeof(ld->s->variant), variant);
	return rc;
}

int sim__read_file(const char *path, char **out, size_t *outlen)
{
	FILE *f = fopen(path, "rb");
	char *buf = NULL;
	size_t len = 0, cap = 0;

	if (!f)
		return -errno;
	for (;;) {
		if (len + 4096 + 1 > cap) {
			cap = cap ? 2 * cap : 16384;
			if (cap > (16u << 20)) {
				free(buf);
				fclose(f);
				return -RAAS_ETOOBIG;
			}
			char *nb = realloc(buf, cap);
			if (!nb) {
				free(buf);
				fclose(f);
				return -ENOMEM;
			}
			buf = nb;
		}
		size_t got = fread(buf + len, 1, 4096, f);
		len += got;
		if (got < 4096)
			break;
	}
	fclose(f);
	buf[len] = '\0';
	*out = buf;
	if (outlen)
		*outlen = len;
	return 0;
}

void sim_scenario_destroy(struct sim_scenario *s)
{
	if (!s)
		return;
	for (size_t i = 0; i < s->nclasses; i++)
		sim_load_fini(&s->classes[i].load);
	free(s->classes);
	for (int r = RAAS_RES_MIN; r <= RAAS_RES_MAX; r++) {
		free(s->res[raas_resource_index(r)].params);
		sim_schedule_fini(&s->res[raas_resource_index(r)].schedule);
	}
	for (size_t i = 0; i < s->nprofiles; i++)
		econ_profile_destroy(s->profiles[i]);
	free(s->profiles);
	for (size_t i = 0; i < s->nvariants; i++)
		free(s->variants[i]);
	free(s->variants);
	free(s->text);
	free(s->config);
	free(s);
}

static int load_variant_names(struct loader *ld)
{
	const char *names[256];
	size_t n = cfg_sections(ld->cfg, "variant.*", names, 256);

	if (n > 256)
		return cfg_error_at(ld->cfg, "sim", "name", ld->err, "more than 256 variants");
	ld->s->variants = calloc(n ? n : 1, sizeof(char *));
	if (!ld->s->variants)
		return -ENOMEM;
	for (size_t i = 0; i < n; i++) {
		const char *v = names[i] + strlen("variant.");
		if (strlen(v) >= 64 || strchr(v, '.'))
			return cfg_error_at(ld->cfg, names[i], "set", ld->err,
					    "variant names are 1-63 characters without '.'");
		ld->s->variants[i] = strdup(v);
		if (!ld->s->variants[i])
			return -ENOMEM;
		ld->s->nvariants++;
	}
	return 0;
}

/* A value a variant assigned is reported by the config as coming from "--set"; unless the
 * command line set that key, point the error at the variant's line instead. */
static void blame_variant(struct loader *ld, const char *variant, const char *const *overrides,
			  size_t noverrides)
{
	struct cfg_error *err = ld->err;
	char sec[128], key[128], msg[sizeof(err->key) + 2 + sizeof(err->message)];

	if (strcmp(err->file, "--set") != 0 || !err->key[0])
		return;
	for (size_t i = 0; i < noverrides; i++)
		if (strncmp(overrides[i], err->key, strlen(err->key)) == 0 &&
		    overrides[i][strlen(err->key)] == '=')
			return;
	snprintf(sec, sizeof(sec), "variant.%s", variant);
	sim__copy(key, sizeof(key), "set");
	for (int r = RAAS_RES_MIN; r <= RAAS_RES_MAX; r++) {
		char prefix[64];
		const char *v = cfg_get(ld->cfg, sec, RNAME(r));
		snprintf(prefix, sizeof(prefix), "resource.%s.", RNAME(r));
		if (v && v[0] && strncmp(err->key, prefix, strlen(prefix)) == 0)
			sim__copy(key, sizeof(key), RNAME(r));
	}
	snprintf(msg, sizeof(msg), "%s: %s", err->key, err->message);
	cfg_error_at(ld->cfg, sec, key, err, "%s", msg);
}

/* Loads a scenario from its text; name stands for the file in errors, dir is where relative
 * paths start. Takes ownership of text (freed on failure). */
static int load_text(const char *name, char *text, const char *dir, const char *variant,
		     const char *const *overrides, size_t noverrides, struct sim_scenario **out,
		     struct cfg_error *err)
{
	struct sim_scenario *s = calloc(1, sizeof(*s));
	struct loader ld = {.s = s, .err = err};
	int rc;

	if (!s) {
		free(text);
		return -ENOMEM;
	}
	s->text = text;
	sim__copy(s->path, sizeof(s->path), name);
	sim__copy(s->dir, sizeof(s->dir), dir);
	rc = cfg_create(schema, sizeof(schema) / sizeof(schema[0]), &ld.cfg);
	if (rc)
		goto fail;
	rc = cfg_load_string(ld.cfg, name, text, err);
	if (rc)
		goto fail;
	if (variant && variant[0] && (rc = apply_variant(&ld, variant)))
		goto fail;
	for (size_t i = 0; i < noverrides; i++)
		if ((rc = cfg_set_override(ld.cfg, overrides[i], err)))
			goto fail;
	if ((rc = load_sim_section(&ld)) || (rc = load_hosts(&ld)) ||
	    (rc = load_resources(&ld)) || (rc = load_output_report(&ld)) ||
	    (rc = sim__load_classes(&ld)) || (rc = load_variant_names(&ld)))
		goto fail;
	s->config = cfg_dump(ld.cfg);
	if (!s->config) {
		rc = -ENOMEM;
		goto fail;
	}
	cfg_destroy(ld.cfg);
	*out = s;
	return 0;
fail:
	if (rc == -ENOMEM && !err->message[0])
		snprintf(err->message, sizeof(err->message), "out of memory");
	if (variant && variant[0] && ld.cfg)
		blame_variant(&ld, variant, overrides, noverrides);
	cfg_destroy(ld.cfg);
	sim_scenario_destroy(s);
	return rc;
}

int sim_scenario_parse(const char *name, const char *text, size_t len, const char *dir,
		       const char *variant, const char *const *overrides, size_t noverrides,
		       struct sim_scenario **out, struct cfg_error *err)
{
	char *copy = malloc(len + 1);

	memset(err, 0, sizeof(*err));
	if (!copy)
		return -ENOMEM;
	memcpy(copy, text, len);
	copy[len] = '\0';
	if (strlen(copy) != len) {
		sim__copy(err->file, sizeof(err->file), name);
		snprintf(err->message, sizeof(err->message), "NUL byte in the scenario");
		free(copy);
		return -RAAS_ECONFIG;
	}
	return load_text(name, copy, dir, variant, overrides, noverrides, out, err);
}

int sim_scenario_load(const char *path, const char *variant, const char *const *overrides,
		      size_t noverrides, struct sim_scenario **out, struct cfg_error *err)
{
	char dir[1024], *text;
	size_t len;

	memset(err, 0, sizeof(*err));
	int rc = sim__read_file(path, &text, &len);
	if (rc) {
		sim__copy(err->file, sizeof(err->file), path);
		snprintf(err->message, sizeof(err->message), "cannot read: %s", raas_strerror(rc));
		return rc == -ENOENT ? -RAAS_ECONFIG : rc;
	}
	if (strlen(text) != len) {
		sim__copy(err->file, sizeof(err->file), path);
		snprintf(err->message, sizeof(err->message), "NUL byte in the scenario");
		free(text);
		return -RAAS_ECONFIG;
	}
	sim__copy(dir, sizeof(dir), path);
	char *slash = strrchr(dir, '/');
	if (slash)
		*slash = '\0';
	else
		sim__copy(dir, sizeof(dir), ".");
	return load_text(path, text, dir, variant, overrides, noverrides, out, err);
}
