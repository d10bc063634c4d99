/* scenario.h: a raas-sim scenario, read from an INI file and checked before anything runs.
 *
 * A scenario says what is simulated: for how long and in which rounds, the hosts and their
 * capacities, how each resource is priced (a pricing model of pricing-models/ per pool, or a
 * price schedule), and the tenant classes (counts, arrivals and departures, app profile, load
 * process, utility function, strategy, or a flat bid). docs/simulator.md lists every key.
 *
 * Loading is strict (common/config.h): unknown sections and keys are refused with the closest
 * known one suggested, every value is type- and range-checked, profiles, traces and schedules
 * are read and checked, and every error names file:line:key. A scenario that loads runs.
 *
 * Variants: [variant.NAME] sections each hold `set = section.key=value; ...`; a run executes
 * the base scenario once per variant, with that variant's assignments applied (and the
 * command line's --set after them), so that e.g. the same tenant population can be cleared by
 * six mechanisms in one run file. sim_scenario_load() loads one variant (or the base).
 *
 * A loaded scenario is immutable; it owns its profiles and traces. */
#ifndef SIM_SCENARIO_H
#define SIM_SCENARIO_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "common/config.h"
#include "common/money.h"
#include "common/resource.h"
#include "nom/econ.h"
#include "nom/econ_profile.h"
#include "load.h"
#include "schedule.h"

/* A simulated resource is common/resource.h's enum raas_resource (so it casts to the proto's);
 * the per-resource arrays below hold RAAS_RES_COUNT entries, indexed by raas_resource_index().
 * Names come from raas_resource_name(); the units here are the simulator's own (egress is
 * scheduled in Mbit/s, priced per Gbit). */
const char *sim_resource_unit(enum raas_resource r);
/* The unit of a price: "$/core-hour", ..., "$/Gbit" for egress. */
const char *sim_resource_price_unit(enum raas_resource r);
int raas_resource_parse(const char *name, enum raas_resource *out);

enum sim_pricing {
	SIM_PRICING_NONE,     /* no [resource.X] section: the resource is not traded */
	SIM_PRICING_MODEL,    /* a pricing model (pm_create) per pool */
	SIM_PRICING_SCHEDULE, /* the scenario's own step schedule (same price in every pool) */
};

enum sim_scope {
	SIM_SCOPE_HOST,   /* one pool per host, cleared independently */
	SIM_SCOPE_GLOBAL, /* one pool for the whole cloud (EC2's regional spot market) */
};

struct sim_resource_cfg {
	enum sim_pricing pricing;
	char model[32];           /* model name (SIM_PRICING_MODEL) */
	char *params;             /* "name=value, ..." with ${data} expanded; owned */
	struct sim_schedule schedule; /* SIM_PRICING_SCHEDULE */
	enum sim_scope scope;
	int64_t capacity;         /* per host, in the resource's unit ([hosts]); egress: the
				     link's Mbit/s, for utilization only */
};

enum sim_kind {
	SIM_KIND_NOM,  /* a nom app: profile, load, utility, strategy */
	SIM_KIND_FLAT, /* a fixed quantity at a value per unit-hour (batch jobs, spot users) */
};

enum sim_strategy {
	SIM_ADAPTIVE,   /* nom: re-picks the working point whenever price or load changes */
	SIM_STATIC_TPT, /* fixed best-throughput delay */
	SIM_STATIC_LAT, /* fixed best-latency delay */
	SIM_UNAWARE,    /* a price-unaware OS: its own profile's row at `delay` */
};

const char *sim_strategy_name(enum sim_strategy s);

enum sim_dist {
	SIM_DIST_FIXED,   /* a */
	SIM_DIST_UNIFORM, /* [a, b) */
	SIM_DIST_NORMAL,  /* mean a, deviation b, truncated at 0 */
	SIM_DIST_PARETO,  /* scale a, shape `shape` */
};

struct sim_value_dist {
	enum sim_dist kind;
	money_t a, b;   /* nanodollars per unit-hour */
	double shape;
};

enum sim_lifetime {
	SIM_LIFE_NONE,  /* stays until the end */
	SIM_LIFE_EXP,   /* exponential, mean lifetime_ns */
	SIM_LIFE_FIXED, /* exactly lifetime_ns */
};

struct sim_class_cfg {
	char name[64];
	enum sim_kind kind;
	int64_t count;           /* tenants at t = 0 */
	int64_t arrival_mean_ns; /* mean gap of a Poisson arrival process; 0: none */
	enum sim_lifetime lifetime;
	int64_t lifetime_ns;
	enum raas_resource resource;

	/* nom */
	const struct econ_app *app;      /* borrowed from the scenario's profiles */
	const char *profile_path;        /* as resolved */
	struct econ_utility utility;
	enum sim_strategy strategy;
	double delay_us;                 /* unaware's row; the static delay when static_delay */
	bool static_delay;               /* `delay` given for a static strategy */
	size_t static_level;             /* level that defines the static delays */
	struct sim_load load;            /* level indices into app->levels; owned */

	/* flat */
	int64_t quantity, min_quantity;
	struct sim_value_dist value;
};

enum sim_pool_prices { SIM_POOL_PRICES_AUTO, SIM_POOL_PRICES_ALL, SIM_POOL_PRICES_NONE };
enum sim_reference { SIM_REF_NONE, SIM_REF_NOM_THESIS };
enum sim_placement { SIM_PLACE_ROUND_ROBIN, SIM_PLACE_RANDOM };

struct sim_scenario {
	char path[1024];
	char dir[1024];          /* the scenario file's directory (relative paths start here) */
	char *text;              /* the file's text, owned */
	char *config;            /* the effective configuration (cfg_dump), owned */
	char name[64];
	char variant[64];        /* "" for the base scenario */
	char data_dir[1024];     /* "" when no data folder was found */
	int64_t duration_ns, round_ns;
	uint64_t seed;
	int threads;             /* 0: one per CPU */
	int64_t hosts;
	enum sim_placement placement;
	struct sim_resource_cfg res[RAAS_RES_COUNT];
	struct sim_class_cfg *classes;
	size_t nclasses;
	enum sim_pool_prices pool_prices;
	bool class_rounds;
	int64_t record_rounds;    /* record bids of the first N rounds; -1: all */
	enum sim_reference reference;
	char title[128];
	char **variants;         /* names of the [variant.*] sections, in file order */
	size_t nvariants;
	struct econ_profile **profiles; /* owned, one per distinct profile file */
	size_t nprofiles;
};

/* Loads path, applies the variant's `set` (variant NULL or "": none) then the overrides
 * ("section.key=value"), and checks everything. On failure returns -RAAS_ECONFIG (or -errno,
 * -ENOMEM) with err naming file:line:key; nothing is allocated. A missing data folder is not
 * an error here: keys that use ${data} fail with -ENOENT and say where it was looked for. */
int sim_scenario_load(const char *path, const char *variant, const char *const *overrides,
		      size_t noverrides, struct sim_scenario **out, struct cfg_error *err);
/* The same from text in memory (len bytes; no NUL inside): name stands for the file in
 * errors, dir is the folder relative paths start from. */
int sim_scenario_parse(const char *name, const char *text, size_t len, const char *dir,
		       const char *variant, const char *const *overrides, size_t noverrides,
		       struct sim_scenario **out, struct cfg_error *err);
void sim_scenario_destroy(struct sim_scenario *s);

/* The schema, for --help-config. */
const struct cfg_key *sim_scenario_schema(size_t *n);

#endif
