/* adapt_priv.h: the controller's state, shared by adapt.c (decisions, thread, events) and
 * adapt_hold.c (what the instance holds on the market).
 *
 * Design notes
 * ------------
 * States: the market is either usable (fresh, or no market at all) or stale; while stale the
 * controller changes nothing (no knob, no request) and has said so once (stale_said). The
 * level moves from cur to a candidate only after the candidate held for ADAPT_PERSIST closed
 * windows. standing[r] is the quantity of the instance's standing acquire of resource r on
 * the host as the controller last set it (read from the board at start and after the market
 * comes back); held[r] is what the board shows allocated.
 * Invariants (nom_adapt_step keeps them; test_nom_adapt checks them from outside):
 *  1. standing[r] >= 0, and changes only on a request the market granted.
 *  2. The cache applied (wp.memory_mib) is never above the memory held minus the reserve
 *     while the market prices memory, nor above memory_max, nor below memory_min.
 *  3. No request is sent while stale; a refused target is not asked again before the round
 *     moves on or the target changes. */
#ifndef NOM_ADAPT_PRIV_H
#define NOM_ADAPT_PRIV_H

#include <pthread.h>
#include <stdatomic.h>

#include "common/sbuf.h"
#include "nom/adapt.h"
#include "nom_priv.h"

#define ADAPT_CORES_OPTS 16   /* core counts considered per level */
#define ADAPT_RECENT 5        /* windows the rate and clients are medians of */
#define ADAPT_PERSIST 2       /* windows a new level must hold before it is taken */
#define ADAPT_HYSTERESIS 1.5
#define ADAPT_NRES 6          /* indexed by enum nom_resource */
#define ADAPT_RETRY_NS INT64_C(100000000) /* a source that cannot wait: look again then */

struct adapt_opts {           /* the working points of one level, per core count */
	size_t n;
	int cores[ADAPT_CORES_OPTS];
	const struct econ_level *level[ADAPT_CORES_OPTS];
	struct econ_menu *menu[ADAPT_CORES_OPTS]; /* adaptive only */
};

struct nom_adapt {
	struct nom_adapt_config cfg;
	const struct econ_app *app;
	struct adapt_opts *opts;  /* one per level of app */
	double fixed_delay_us;    /* static strategies */
	bool has_spin;            /* some row of the app has a spin budget: the controller sets it */
	bool has_cpu;             /* some row has a CPU measurement: the core price re-picks */
	int initial_level;
	double max_value_per_gbit; /* the app's best a over its rows: its most for a Gbit */

	/* decisions */
	bool started;
	struct nom_wp wp;
	int candidate;
	uint64_t candidate_windows, last_windows;
	double rate, clients;
	int64_t open;
	bool idle;
	int64_t memory_target;    /* cache MiB it wants */
	uint64_t picks, changes;

	/* the market */
	char host[BB_NAME_MAX];
	bool stale, stale_said;
	bool no_price_said;       /* "no traffic price on the board" said once */
	int64_t standing[ADAPT_NRES];
	int64_t held[ADAPT_NRES];
	bool held_known[ADAPT_NRES];
	int64_t failed_target[ADAPT_NRES];
	uint64_t failed_round[ADAPT_NRES];
	uint64_t holds, hold_errors, stale_events;

	/* events and the thread */
	int64_t t_now, wall_now, last_report;
	uint32_t kick;
	pthread_t thread;
	bool running;
	atomic_bool stop;
};

/* adapt.c */
void adapt__emit(struct nom_adapt *a, const char *event, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

/* s (NULL: "") as a JSON string literal, quotes included, escaped by common's one escaper
 * (sbuf_json_str) into b, which the caller initialised and frees. Returns b's text, or
 * "null" when there was no memory for it. */
const char *adapt__json_str(struct sbuf *b, const char *s);

/* adapt_hold.c */
/* Reads the host (config or board) and what the instance already holds. Returns 0 or an
 * error with err filled. */
int adapt__market_init(struct nom_adapt *a, char *err, size_t errlen);
/* The standing acquires from the board (after a stale market came back). */
void adapt__resync(struct nom_adapt *a);
/* Refreshes held[] from the board and says "holding" for each change. */
void adapt__read_held(struct nom_adapt *a);
/* Whether the board has a price of resource r on the host (only priced resources are held). */
bool adapt__priced(struct nom_adapt *a, enum nom_resource r);
/* Makes the standing acquire of r exactly target (0: release all) with limit (nanodollars
 * per unit-hour) for acquires. round is the price's round (for retries). Returns 0 or the
 * request's error. */
int adapt__hold(struct nom_adapt *a, enum nom_resource r, int64_t target, int64_t limit,
		uint64_t round);

#endif
