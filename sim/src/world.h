/* world.h: the state of one simulated run: hosts, pools, tenant classes and tenants.
 *
 * Design notes
 *   A world is built from a loaded scenario (world_create), advanced by run.c through events
 *   and rounds, and destroyed at the end. Tenants live in one array (a free list recycles the
 *   slots of departed ones); each is on exactly one host and in one class, and both keep a
 *   member list with swap-removal, so a departure is O(1) and a round touches only live
 *   tenants. Money is int64 nanodollars throughout; rates that come from the economics are
 *   doubles (nanodollars per second) and are turned into money once per accrual piece.
 *   Invariants (world_check() asserts them):
 *     1. host[h].members[i] is a live tenant whose host is h and whose host_slot is i; every
 *        live tenant appears on its host exactly once; the same holds for classes;
 *     2. a tenant's last_ns is <= the world's clock, and its accumulators hold only the
 *        current round's money;
 *     3. a tenant's allocation is 0 unless its resource is held (not egress), and it holds
 *        no more than its pool's supply (per pool: sum of allocations <= supply);
 *     4. nlive equals the number of live tenants.
 *   States of a tenant: free -> live (world_add_tenant) -> free (world_remove_tenant). */
#ifndef SIM_WORLD_H
#define SIM_WORLD_H

#include <gsl/gsl_rng.h>
#include <stdbool.h>
#include <stdint.h>

#include "nom/econ_optimize.h"
#include "pricing/pm.h"
#include "pricing/pool.h"
#include "evq.h"
#include "scenario.h"

#define WORLD_NO_TENANT UINT32_MAX

struct sim_tenant {
	uint32_t cls, host;
	uint32_t host_slot, cls_slot;
	uint32_t next_free;     /* free list (free slots only) */
	bool live;
	uint8_t resource;       /* enum raas_resource of its class (hot in every round) */
	uint8_t choice;         /* adaptive: the menu index of the working point */
	evq_handle departure;   /* 0: none scheduled */
	uint64_t id;            /* unique for the run, in arrival order: the bidder id */
	money_t flat_value;     /* flat: its value, nanodollars per unit-hour */
	int64_t alloc;          /* held units this round */
	money_t pay_rate;       /* held: payment, nanodollars per hour */
	double value_rate;      /* nanodollars per second */
	double egress_gbps;     /* traffic billed at the egress price */
	double delay_us;        /* current working point's delay (stats) */
	int64_t last_ns;        /* accrued up to */
	money_t acc_value, acc_pay; /* this round so far */
};

/* One pool: one resource on one host (or the whole cloud, scope global). */
struct sim_pool {
	struct pm_pool_setup *setup; /* SIM_PRICING_MODEL: model, generator, seeds, time line
				        (pricing/pool.h, the market's too) */
	struct pm_instance *inst;    /* the setup's model instance */
	money_t price;            /* this round's price */
	int64_t supply;
};

struct sim_host {
	uint32_t *members;
	uint32_t nmembers, cap;
	struct sim_pool pools[RAAS_RES_COUNT]; /* scope host only */
};

struct sim_class_rt {
	const struct sim_class_cfg *cfg;
	struct econ_menu *menus;                /* per app level (nom) */
	const struct econ_point **fixed;        /* per level: static/unaware point, or NULL */
	double *fixed_value;                    /* per level: its value per Gbit */
	int level;                              /* current load level */
	double scale;                           /* current load scale */
	uint32_t *members;
	uint32_t nmembers, cap;
	uint64_t arrivals, departures;
	/* This round's bid of every nom member (they share level and scale): set by
	 * tenant_class_bid() on the main thread, read by every worker. */
	struct pm_segment bid[ECON_MENU_MAX];
	size_t nbid;
};

struct sim_world {
	const struct sim_scenario *sc;
	uint64_t seed;
	gsl_rng *rng;               /* arrivals, departures, placement, flat values */
	int64_t now;
	struct sim_host *hosts;
	size_t nhosts;
	struct sim_pool global[RAAS_RES_COUNT]; /* scope global, and egress schedules */
	struct sim_class_rt *classes;
	size_t nclasses;
	struct sim_tenant *tenants;
	uint32_t ntenants, cap, free_head, nlive;
	uint64_t next_id;
	uint32_t rr_next;           /* round-robin placement cursor */
	struct evq *q;
};

/* Builds the world of a scenario (seed: the run's seed). Creates a pricing-model instance
 * per pool. Returns 0 or a negative error with why filled (why_len bytes). */
int world_create(const struct sim_scenario *sc, uint64_t seed, struct sim_world **out, char *why,
		 size_t why_len);
void world_destroy(struct sim_world *w);

/* Adds a live tenant of class cls at time now, placed by the scenario's policy; draws its
 * flat value and schedules its departure. Returns its index or WORLD_NO_TENANT on OOM. */
uint32_t world_add_tenant(struct sim_world *w, uint32_t cls);
/* Removes a live tenant (its accumulators must have been flushed). */
void world_remove_tenant(struct sim_world *w, uint32_t t);

/* The name a host has in pool seeds and run files: "h<index>"; "*" for cloud-wide pools. */
void world_host_name(int64_t host, char *buf, size_t len);

/* The pool of resource r that tenant-side host h uses. */
struct sim_pool *world_pool(struct sim_world *w, size_t h, enum raas_resource r);

/* Asserts the invariants above. O(tenants + hosts). */
void world_check(const struct sim_world *w);

/* ---- tenant economics (tenant.c) ---- */

/* Accrues value and payment from t->last_ns to now into the tenant's accumulators. */
void tenant_accrue(struct sim_world *w, struct sim_tenant *t, int64_t now);
/* Re-picks the working point for the class's current load and the tenant's allocation or
 * egress price (price_nd: nanodollars per Gbit) and recomputes its rates. */
void tenant_update(struct sim_world *w, struct sim_tenant *t, money_t egress_price_nd);
/* Computes the bid every nom member of class k makes this round (its demand curve for the
 * class's current level and scale, in the pool's units). */
void tenant_class_bid(struct sim_world *w, struct sim_class_rt *k);
/* Writes the tenant's bid for its held resource into bid (with curve storage segs of
 * ECON_MENU_MAX entries, used for both curve and true_curve). Returns false when it bids
 * nothing. */
bool tenant_bid(const struct sim_world *w, const struct sim_tenant *t, struct pm_bid *bid,
		struct pm_segment *segs);

#endif
