/* pool.h: one pool's setup, the same for raas-marketd and raas-sim.
 *
 * "Same seed, same prices" needs more than the same pm_clear(): the model instance, the
 * generator it draws from and how that generator is seeded, and the time line a model sees
 * all have to agree. This is the one place that decides them, and both the market
 * (market/src/market.c) and the simulator (sim/src/world.c, round.c) set up every pool here:
 *   - the model: pm_create() from its name and "name=value, ..." parameter text;
 *   - the generator: GSL's taus2 (cheap to reseed: a round costs nanoseconds);
 *   - the seed of round r: pm_pool_seed(seed, host, resource, r), a function of the seed, the
 *     pool's identity (host name, resource name) and the round only, so that a round clears
 *     the same after a restart, on any thread, in any order of pools;
 *   - the time line: rounds are numbered from 1 and round r starts at (r - 1) x round_ns.
 * sim/tests/test_sim_agree.c holds the market core and the simulator to it. */
#ifndef PRICING_POOL_H
#define PRICING_POOL_H

#include <stdint.h>

#include "pricing/pm.h"

struct pm_pool_spec {
	const char *model;    /* model name ("uniform") */
	const char *params;   /* "name=value, ..." (NULL or "": defaults) */
	const char *host;     /* the pool's host ("h0"; "*" for a cloud-wide pool) */
	const char *resource; /* "bandwidth", "cores", ... */
	uint64_t seed;        /* the market's or the run's seed */
	int64_t round_ns;     /* round length */
};

struct pm_pool_setup;

/* Creates the pool's model instance and generator. Borrows spec (copies what it keeps). On
 * failure returns a negative errno or project error with err naming the model or the
 * parameter, and nothing is allocated. */
int pm_pool_setup_create(const struct pm_pool_spec *spec, struct pm_pool_setup **out,
			 struct pm_error *err);
void pm_pool_setup_destroy(struct pm_pool_setup *ps);

/* The pool's model instance (owned by the setup). */
struct pm_instance *pm_pool_setup_instance(struct pm_pool_setup *ps);

/* Fills out for round r (>= 1) with supply: reseeds the pool's generator with
 * pm_pool_seed(seed, host, resource, r) and sets round r, now_ns = (r - 1) x round_ns,
 * round_ns and rng (owned by the setup, valid until the next call). Call it before every
 * pm_clear() or pm_posted_price() of the round: each call restarts the round's stream. */
void pm_pool_setup_round(struct pm_pool_setup *ps, uint64_t round, int64_t supply,
			 struct pm_pool *out);

/* The seed of a pool's generator in round r (never 0). */
uint64_t pm_pool_seed(uint64_t seed, const char *host, const char *resource, uint64_t round);

#endif
