/* adapt.h: libnom's controller: the one path from (prices, load level, profile, utility) to
 * an app's working point and to what it holds on the market.
 *
 * Every nom app (nom-memcached, nhttpd, nompipe) runs one controller. It sleeps in its price
 * source's wait (source.h: the board's futex in a nom instance, the schedule's next step when
 * run alone), woken also by the app's load meter (load.h) at every closed window. Each wake it
 * decides (nom_adapt_step):
 *
 *   1. the load level: the profile level the measured load points to (clients served per
 *      window, or the request rate when the levels are not named by clients), with
 *      hysteresis (docs/economics.md);
 *   2. the working point: by strategy, the profile row of that level (and, for an app that
 *      holds cores, of that many cores) that maximizes U = T (a - P) - cores x core price
 *      (adaptive), or the row at a fixed delay (static-tpt, static-lat, static, unaware).
 *      Rows with a CPU measurement (cpu_us_per_request) are charged the CPU they burn, T x
 *      CPU per request, at the core price (for an app that holds cores, the larger of that
 *      and its held cores): so a busy-poll budget (the spin_us column) is bought only while
 *      the latency it gains is worth the core it burns;
 *   3. what the point needs: bandwidth ceil(T x bytes x 8 / 1e6) Mbit/s (0 when the point
 *      loses money and the strategy is price-aware), its cores, and for an app with a memory
 *      curve (nom-memcached's measured hit rates) the cache size whose extra hits are worth
 *      their memory's price;
 *   4. in a nom instance (nom != NULL): holds exactly that, acquiring or releasing the
 *      difference through libnom, unless the market is stale (then it keeps everything and
 *      says so once);
 *   5. applies the knobs to the app (apply callback): the batching delay now; a smaller
 *      cache before the memory is released, a larger one once the board shows it held.
 *
 * The knobs are a struct (struct nom_knobs) so that a second knob (issue 19's busy-poll
 * budget) joins the delay without changing the callback or the events.
 *
 * The decision step is a function of (time, the source's prices, the meter's windows, the
 * board), so tests drive it with a manual clock; nom_adapt_start() runs it on a thread. Events
 * are JSON lines on cfg.out (docs/apps.md lists them):
 *   {"t_ms":..,"wall_ns":..,"event":"pick"|"hold"|"holding"|"market"|"status",...}
 *
 * Threads: the controller is used by one thread (its own once started); the nom handle it is
 * given is used by that thread only. The apply and memory_curve callbacks run on it. */
#ifndef NOM_ADAPT_H
#define NOM_ADAPT_H

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

#include "nom/econ.h"
#include "nom/econ_optimize.h"
#include "nom/econ_profile.h"
#include "nom/load.h"
#include "nom/source.h"

struct nom;

enum nom_strategy {
	NOM_ADAPTIVE = 0,   /* re-pick the point at every price or load change */
	NOM_STATIC_TPT = 1, /* W fixed at the best-throughput row of the static level */
	NOM_STATIC_LAT = 2, /* W fixed at the best-latency row of the static level */
	NOM_STATIC = 3,     /* W fixed at the configured delay */
	NOM_UNAWARE = 4,    /* W fixed, price-unaware: holds what its point needs at any price */
};

/* "adaptive", "static-tpt", "static-lat", "static", "unaware"; parse returns 0 or -EINVAL. */
const char *nom_strategy_name(enum nom_strategy s);
int nom_strategy_parse(const char *name, enum nom_strategy *out);

/* What the app sets. */
struct nom_knobs {
	double delay_us; /* nomnet's batching delay W */
	double spin_us;  /* nomnet's busy-poll budget; < 0: not the controller's to set (the
			  * profile has no spin_us column, or the strategy is not adaptive) */
};

/* A working point and what it holds. */
struct nom_wp {
	struct nom_knobs knobs;
	const struct econ_point *point; /* the profile row (borrowed); NULL before the first pick */
	int level;                      /* index into the app's levels */
	const char *level_name;
	int64_t cores;          /* cores it runs on (0: cores not held by this app) */
	int64_t bandwidth_mbit; /* bandwidth it holds for the point (0: none) */
	int64_t memory_mib;     /* cache memory it uses now (0: memory not managed) */
	int64_t memory_target_mib; /* cache memory it holds or is acquiring */
	double price;           /* the traffic price it was picked at, $/Gbit (< 0: unknown) */
	double core_hour, memory_hour; /* the cores' and memory's prices then, $ per unit-hour
					* (< 0: not priced) */
	double utility;         /* predicted U at that price, $/s, net of core and memory costs */
	double predicted_hit_rate; /* memory: the curve's hit rate at memory_target_mib (< 0: n/a) */
	uint64_t round;         /* the round and publish time of the price it used */
	int64_t published_wall_ns;
};

/* The hit rate an app would have at every cache size, from what it measured (nom-memcached:
 * stack distances of hits and of misses on recently evicted keys; docs/economics.md). */
#define NOM_MEMORY_CURVE_MAX 1024
struct nom_memory_curve {
	double step_mib;      /* hits_per_s[i]: with a cache of i * step_mib MiB */
	size_t n;             /* entries used, <= NOM_MEMORY_CURVE_MAX + 1 */
	double hits_per_s[NOM_MEMORY_CURVE_MAX + 1];
	double gets_per_s;    /* lookups per second (hit rate = hits / gets) */
	double bytes_per_hit; /* what a hit transmits */
	uint64_t lookups;     /* lookups the curve is built from */
};
#define NOM_MEMORY_MIN_LOOKUPS 2000 /* fewer: the memory holding is not changed */

struct nom_adapt_config {
	size_t size; /* sizeof(struct nom_adapt_config) */
	const struct econ_profile *profile; /* borrowed; required */
	const char *app;                    /* the app's name in the profile */
	struct econ_utility utility;
	enum nom_strategy strategy;
	double delay_us;                    /* static, unaware */
	const char *static_level;           /* static-tpt/-lat; NULL: the app's first level */
	struct nom_source *prices;          /* borrowed; NULL: no price known (0 assumed) */
	struct nom_load *load;              /* borrowed; NULL: the level stays the first */
	/* A nom instance: holdings are acquired and released through nom (borrowed, used by the
	 * controller's thread only). NULL: the app runs alone and holds nothing. */
	struct nom *nom;
	const char *host;                   /* NULL or "": the board's host */
	int64_t bandwidth_max_mbit;         /* 0: no cap */
	int64_t cores_max;                  /* 0: cores are not held; else 1..cores_max */
	int64_t memory_min_mib, memory_max_mib; /* memory_max 0: memory not managed */
	int64_t memory_reserve_mib;         /* held beyond the cache */
	int (*memory_curve)(void *arg, struct nom_memory_curve *out); /* required with memory */
	int64_t max_price;                  /* acquire limit per unit-hour, nanodollars (unaware,
					     * cores, memory); 0: $1000 */
	/* Applies a working point to the app (NULL: nowhere). Returns 0 or a negative errno. */
	int (*apply)(void *arg, const struct nom_wp *wp);
	void *arg;
	FILE *out;                          /* JSON lines; NULL: none */
	int64_t report_ns;                  /* status line period; 0: events only */
};

struct nom_adapt;

/* Builds the controller: finds the app and its levels in the profile, builds the frontier
 * menus, and in a nom instance reads what the instance already holds. The config's pointers
 * are borrowed and must outlive the controller. Returns 0, or -EINVAL / -ENOENT / -E2BIG with
 * the reason in err. */
int nom_adapt_create(const struct nom_adapt_config *cfg, struct nom_adapt **out, char *err,
		     size_t errlen);
void nom_adapt_destroy(struct nom_adapt *a);

/* One decision at t_ns (monotonic, since start); wall_ns stamps the events. Returns true when
 * the working point (or what it holds) changed. */
bool nom_adapt_step(struct nom_adapt *a, int64_t t_ns, int64_t wall_ns);

struct nom_adapt_status {
	struct nom_wp wp;
	double rate;          /* measured requests/s (median of recent windows) */
	double clients;       /* measured clients per window (median) */
	int64_t open;         /* connections open */
	bool idle;            /* no connection open */
	bool stale;           /* the market is stale: nothing is changed */
	uint64_t picks;       /* decisions that re-picked (price or level changed) */
	uint64_t changes;     /* times the delay changed */
	uint64_t holds;       /* acquire/release requests sent */
	uint64_t hold_errors; /* of which refused or failed */
	uint64_t stale_events;/* times the market went stale */
	int64_t held_bandwidth, held_cores, held_memory; /* what the board shows held */
};
void nom_adapt_status(const struct nom_adapt *a, struct nom_adapt_status *out);

/* The level for a measured load (pure; exposed for tests). By clients when every level of
 * the app is named by a client count ("single" = 1, "many" = 16, a number), else by rate: the
 * level whose throughput at delay_us is closest in ratio. cur (or -1) is kept unless another
 * level is closer by more than the hysteresis factor (1.5). No load keeps cur (or 0). */
int nom_adapt_pick_level(const struct econ_app *app, double rate, double clients,
			 double delay_us, int cur);

/* The word the controller sleeps on besides its source (give it to nom_load_notify). */
uint32_t *nom_adapt_kick_word(struct nom_adapt *a);
/* Asks for a decision now (any thread). */
void nom_adapt_kick(struct nom_adapt *a);

/* Runs nom_adapt_step on a thread whenever the source or the kick word wakes it (and every
 * report_ns for the status line). */
int nom_adapt_start(struct nom_adapt *a);
void nom_adapt_stop(struct nom_adapt *a);

#endif
