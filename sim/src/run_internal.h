/* run_internal.h: what the run loop (run.c) and the round's parallel work (round.c) share. */
#ifndef SIM_RUN_INTERNAL_H
#define SIM_RUN_INTERNAL_H

#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>

#include "sim/output.h"
#include "tpool.h"
#include "world.h"

enum sim_event_kind {
	EV_ARRIVAL,   /* a = class */
	EV_DEPARTURE, /* a = class, b = tenant */
	EV_LOAD,      /* a = class: its load process steps */
	EV_PRICE,     /* a = resource: its schedule steps */
};

/* A seed for one generator of a run, from the run's seed, the variant and the generator's
 * identity (a, b). */
uint64_t sim__stream_seed(uint64_t seed, const char *variant, uint64_t a, uint64_t b);

/* Per-resource figures of a round. Integers only, so that merging the workers' copies in
 * any order gives the same totals. */
struct res_stats {
	int64_t pools, bids, supply, allocated;
	money_t price_min, price_max;
	__int128 price_sum;
	money_t revenue, value;
	int64_t used_mbps;  /* egress: traffic at the round's end */
	int64_t clear_ns;   /* wall time in pm_clear (timing only) */
};

struct cls_stats {
	int64_t tenants, nom_tenants;
	money_t value, pay;
	int64_t delay_ns;   /* sum over nom tenants of their working point's delay */
	int64_t alloc;
};

struct sim_stats {
	struct res_stats res[RAAS_RES_COUNT];
	struct cls_stats *cls;
	int64_t bid_evals;
	int64_t tenants;
};

int stats_init(struct sim_stats *s, size_t ncls);
void stats_fini(struct sim_stats *s);
void stats_reset(struct sim_stats *s, size_t ncls);
/* into += from (sums, minima, maxima). */
void stats_merge(struct sim_stats *into, const struct sim_stats *from, size_t ncls);
/* Adds a tenant's accumulators to s and zeroes them. */
void stats_flush_tenant(struct sim_stats *s, const struct sim_world *w, struct sim_tenant *t);

/* A worker's own scratch and figures. */
struct worker {
	struct sim_stats st;
	struct pm_bid *bids;
	struct pm_outcome *outs;
	struct pm_segment *segs; /* ECON_MENU_MAX per bid */
	uint32_t *who;           /* tenant index per bid */
	size_t cap;
};

struct run {
	const struct sim_scenario *sc;
	struct sim_world *w;
	struct tpool *tp;
	struct sim_out *out;
	const char *variant;
	struct worker *workers;
	int nworkers;
	struct sim_stats round;    /* the current round, merged from the workers */
	uint64_t k;                /* current round */
	int64_t t, len;            /* its start and length */
	bool record;               /* record this round's bids */
	pthread_mutex_t err_lock;
	int error;                 /* first error of a parallel phase */
	char error_msg[512];
};

/* Reports an error from any thread (the first one wins). */
void run_fail(struct run *r, int code, const char *fmt, ...) __attribute__((format(printf, 3, 4)));

/* The round's parallel phases (round.c). close_round: accrue every tenant to r->t and flush
 * into r->round. global_clear: the global pools (main thread). open_round: clear the host
 * pools for round r->k and move every tenant to its new working point. */
void round_close(struct run *r);
void round_global_clear(struct run *r);
void round_open(struct run *r);

#endif
