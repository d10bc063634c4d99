/* adapt.h: the adaptive controller of a nom app: re-picks nomnet's batching delay with
 * libnom's optimizer (nom/econ) whenever the price or the app's load changes.
 *
 * Every period (10 ms) it reads the price source and the app's own request counter. The
 * measured rate is the median request rate of the last 20 periods in which the app served
 * requests (robust to stalls and to idle time). The load level is the profile level whose
 * throughput at the current delay is closest (in ratio) to that rate; to move to another level, that level must be closer by a factor
 * of 1.5 for 100 ms, so that a noisy rate between two levels does not flap it; the delay is
 * the point of that level's Pareto frontier that maximizes the utility at the current price
 * (econ_menu_pick). A new price or level re-picks at once, so a price jump moves the delay
 * within one period. Without --adaptive the same controller only reports (fixed delay).
 *
 * The decision step is a pure function of (time, request count, price), so tests drive it
 * with a manual clock; the thread only feeds it the real clock. Events and periodic status
 * are JSON lines:
 *   {"t_ms":..,"event":"pick"|"status","price":..,"level":"many","rate":..,"delay_us":..,
 *    "tput_rps":..,"latency_us":..,"utility":..}
 * (tput_rps, latency_us and utility are the profile's prediction at the chosen point.) */
#ifndef APP_ADAPT_H
#define APP_ADAPT_H

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

#include "app/price.h"
#include "app/srv.h"
#include "nom/econ.h"
#include "nom/econ_optimize.h"
#include "nom/econ_profile.h"

#define ADAPT_RATE_STEPS 20 /* the request rate: median of the last 20 steps with traffic */
#define ADAPT_HYSTERESIS 1.5          /* another level must be this much closer... */
#define ADAPT_PERSIST_NS INT64_C(100000000) /* ...for this long, counting time with traffic */

struct adapt_config {
	const struct econ_profile *profile; /* NULL: not adaptive (report only) */
	const char *app;                    /* the app's name in the profile */
	struct econ_utility utility;
	const struct price_source *prices;  /* NULL: no price known */
	bool adaptive;
	int64_t period_ns;                  /* decision period (0: 10 ms) */
	int64_t report_ns;                  /* status line period (0: events only) */
	FILE *out;                          /* JSON lines (NULL: none) */
	/* How to apply a delay (the thread calls it; NULL: nowhere) and where the load comes
	 * from. */
	int (*set_delay)(void *arg, int64_t delay_ns);
	uint64_t (*requests)(void *arg);
	void *arg;
	double initial_delay_us;
};

struct adapt;

struct adapt_status {
	double price;      /* $/Gbit; < 0 when unknown */
	double rate;       /* measured requests/s */
	double delay_us;   /* in force */
	int level;         /* index into the app's levels; -1 none */
	const char *level_name;
	uint64_t picks;    /* re-picks done */
	uint64_t changes;  /* times the delay actually changed */
};

/* Builds the controller: checks that the profile holds the app and builds the frontier menu
 * of each of its levels. The config's pointers are borrowed and must outlive the controller.
 * Returns 0, or -EINVAL/-E2BIG/-ENOENT with a reason in err. */
int adapt_create(const struct adapt_config *cfg, struct adapt **out, char *err, size_t errlen);
void adapt_destroy(struct adapt *a);

/* One decision at time t_ns (since start) with the app's request count so far. Applies a new
 * delay through set_delay and writes the event. Returns true when it re-picked. */
bool adapt_step(struct adapt *a, int64_t t_ns, uint64_t requests);
void adapt_status(const struct adapt *a, struct adapt_status *out);

/* The level for a measured rate (pure; exposed for tests): the level whose throughput at
 * delay_us is closest in ratio to rate; cur (or -1) is kept unless another level is closer
 * by more than the hysteresis factor. rate <= 0 keeps cur (or 0). */
int adapt_pick_level(const struct econ_app *app, double rate, double delay_us, int cur);

/* Runs adapt_step every period on a thread, from now. */
int adapt_start(struct adapt *a);
void adapt_stop(struct adapt *a);

#endif
