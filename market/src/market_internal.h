/* market_internal.h: the core's state, shared by market.c, requests.c and round.c. */
#ifndef MARKET_MARKET_INTERNAL_H
#define MARKET_MARKET_INTERNAL_H

#include <gsl/gsl_rng.h>

#include "common/log.h"
#include "hmap.h"
#include "market/market.h"
#include "pricing/pm.h"
#include "pricing/pool.h"

struct mkt_pool;
struct mkt_tenant;

/* A standing bid: the ledger's standing version plus where it clears. The fields a round
 * reads for every bid come first, ahead of the (large) row. */
struct mkt_bid {
	struct mkt_pool *pool;   /* round scratch: the pool it clears in this round, or NULL */
	struct mkt_tenant *tenant;
	int64_t held;            /* allocated to this bid id in the last round */
	struct mkt_pool *held_pool; /* where that was (any-host bids stay there) */
	money_t worst_round;     /* the most one round can cost: declared value x round */
	struct mkt_pool *host_pool; /* host-specific bids: their pool, valid while pools_gen is */
	uint64_t pools_gen;
	char refused[160];       /* why the last round left it out ("" when it took part) */
	struct ledger_bid row;
};

/* What a tenant holds after the last round, per bid. */
struct mkt_holding {
	struct mkt_pool *pool;
	int64_t bid;             /* bid version id */
	char bid_id[LEDGER_BID_ID_MAX];
	int64_t quantity;
	money_t unit_price;
	money_t payment_per_hour;
};

/* One app's entry of a tenant's ProfitReport (raas.proto). */
struct mkt_app_profit {
	char app[WIRE_PROFIT_NAME_MAX + 1];
	int64_t profit_per_hour; /* nanodollars per hour */
	int64_t w_ns;            /* -1: none */
	int64_t measured_wall_ns;
};

struct mkt_tenant {
	struct ledger_tenant row;
	struct mkt_bid **bids;   /* standing bids, in version order */
	size_t nbids, capbids;
	struct mkt_holding *holdings;
	size_t nholdings, capholdings;
	struct tp_route routes[MARKET_TENANT_ROUTES_MAX];
	size_t nroutes;
	money_t last_charge;     /* charged in the last round */
	uint64_t max_rid;        /* highest request id (<= INT64_MAX) in the ledger */
	bool max_rid_known;
	bool notify;             /* had something to say last round (send one more notice) */
	/* Credits written by the last round close, for its notice. */
	struct ledger_credit_row *credits;
	size_t ncredits, capcredits;
	money_t last_credit;
	/* The profit its nom-priced last reported: shown on the dashboards, never billed, kept
	 * in memory only (a restarted market shows none until the next report). */
	bool profit_reported;
	int64_t profit_per_hour;
	int64_t profit_wall_ns;  /* when the market received it */
	size_t nprofit_apps;
	struct mkt_app_profit profit_apps[WIRE_PROFIT_APPS_MAX];
};

struct mkt_host {
	struct ledger_host row;
	struct tp_route route;   /* the connection it last spoke from */
	bool connected;
	uint64_t acked_round;
	int64_t last_seen_wall_ns;
	/* The tenants its agent can enforce (HostRegister.tenants), when it said. */
	bool tenants_listed;
	struct hmap tenants;     /* name -> (void *)1 */
	/* Readings refused for tenants without an allocation here, and when that was last
	 * logged (mono ns): one line a minute per host, whatever the tenants' names. */
	uint64_t meters_refused, meters_refused_logged;
	struct log_limit meters_refused_log; /* one line a minute (interval set at creation) */
};

/* One allocation of a round on a host agent's pool, until its round is settled. */
struct mkt_pending_alloc {
	int64_t pool;
	int64_t bid;
	int64_t tenant;
	int resource;
	int64_t quantity;
	money_t charge;
	char tenant_name[LEDGER_NAME_MAX];
};

/* A (round, host) whose allocations are not settled yet (ledger.h invariant 7): waiting for
 * the host's acknowledgement (or carry-over) until deadline, then settled at a round
 * close. */
struct mkt_pending {
	uint64_t round;
	char host[LEDGER_NAME_MAX];
	int64_t deadline_wall_ns;  /* the round's close + ack_timeout */
	bool acked;                /* an acknowledgement or a carry-over is recorded */
	int ack_kind;              /* enum ledger_ack_kind */
	struct ledger_ack_failure *failures;
	size_t nfailures;
	struct mkt_pending_alloc *allocs;
	size_t nallocs, capallocs;
};

/* One meter reading per (host, tenant): billed = what was charged up to; pending = newest. */
struct mkt_meter {
	char host[LEDGER_NAME_MAX];
	int64_t tenant;
	uint64_t billed;
	uint64_t pending;
	bool has_pending;
	bool pending_free;       /* pending is a refused reading: the new baseline, not billed */
	uint64_t hosted_round;   /* the open round when the tenant last held on this host */
};

/* Rounds after its last holding on a host in which a tenant's readings there are still
 * billed: the agent reports a round's last bytes after the close that ended the holding. */
#define MARKET_METER_GRACE_ROUNDS 2

/* A pool's view of a holding: which tenant, which of its holdings. */
struct mkt_pool_holding {
	struct mkt_tenant *tenant;
	size_t index;
};

struct mkt_pool {
	struct ledger_pool row;
	struct pm_pool_setup *setup; /* the model, its generator, seeds and time line (pool.h) */
	struct pm_instance *pm;      /* the setup's model instance */
	money_t price;           /* last clearing's price (or posted price) */
	bool priced;             /* a round has priced it */
	int64_t allocated;       /* in the last round */
	struct mkt_pool_holding *held; /* the last round's holdings in this pool */
	size_t nheld, capheld;
	/* Per round scratch: the bids clearing here. */
	struct mkt_bid **round_bids;
	size_t nround_bids, capround_bids;
};

/* An apply failure a host agent reported, kept for the dashboards (market/src/dash.c): the
 * pending entry that carries it goes at settlement, one round later. */
#define MARKET_FAILURE_LOG 256
struct mkt_failure {
	uint64_t round;
	char host[LEDGER_NAME_MAX];
	struct ledger_ack_failure f;
};

struct market {
	const struct market_config *cfg;
	struct ledger *ledger;
	const struct clk *clock;
	uint64_t open_round;
	int64_t round_start_wall_ns; /* when the open round opened */
	int64_t next_close_wall_ns;
	struct hmap tenants_by_name, tenants_by_id, tenants_by_key;
	struct hmap hosts_by_name, hosts_by_key;
	struct hmap pools_by_key;    /* "host/resource" */
	struct mkt_pool **pools;     /* in id order */
	size_t npools, cappools;
	uint64_t pools_gen;          /* bumped whenever a pool is added (bid_pool caches) */
	struct mkt_meter *meters;
	size_t nmeters, capmeters;
	bool in_batch;
	size_t batch_first;          /* outbox index where this batch's replies start */
	struct market_stats stats;
	struct market_prof prof;     /* stage times (market.h) */
	/* Settlement (hosts.c, settle.c). */
	struct mkt_pending *pending; /* in round order */
	size_t npending, cappending;
	int64_t up_since_wall_ns;    /* timeouts wait until hosts had ack_timeout to come back */
	int64_t ack_timeout_ns;
	/* The registry as the CLI left it: re-read when another connection wrote. */
	int64_t data_version;
	/* The last MARKET_FAILURE_LOG apply failures, by count (entry n % the size). */
	struct mkt_failure failure_log[MARKET_FAILURE_LOG];
	uint64_t nfailures_logged;
};

/* Adds the monotonic time since *t0 to stage st of m's profile and moves *t0 to now. */
static inline void market__prof_add(struct market *m, enum market_stage st, int64_t *t0,
				    uint64_t n)
{
	market_prof_add(&m->prof, st, t0, n);
}

/* ---- market.c ---- */
int market__tenant_add(struct market *m, const struct ledger_tenant *row,
		       struct mkt_tenant **out);
void market__tenant_free(struct mkt_tenant *t);
int market__host_add(struct market *m, const struct ledger_host *row, struct mkt_host **out);
void market__pool_free(struct mkt_pool *p);
struct mkt_tenant *market__tenant(struct market *m, const char *name);
struct mkt_host *market__host(struct market *m, const char *name);
struct mkt_pool *market__pool(struct market *m, const char *host, int resource);
/* Creates the pool's in-memory state for a ledger row (the pricing model instance too). */
int market__pool_add(struct market *m, const struct ledger_pool *row, struct mkt_pool **out);
int market__bid_attach(struct market *m, struct mkt_tenant *t, const struct ledger_bid *row,
		       struct mkt_bid **out);
void market__bid_detach(struct mkt_tenant *t, struct mkt_bid *b);
/* The most one round of b can cost (declared value of max_quantity x round length). */
money_t market__worst_round(const struct market *m, const struct ledger_bid *b);
/* A pm_bid view of a standing bid (curve and ranges point into scratch arrays). */
void market__pm_bid(const struct mkt_bid *b, struct pm_bid *out, struct pm_segment *curve,
		    struct pm_range *ranges);
struct mkt_meter *market__meter(struct market *m, const char *host, int64_t tenant,
				bool create);
/* Appends an encoded envelope to out. Takes ownership of buf on success. */
int market__push(struct market_outbox *out, enum market_dest dest, const struct tp_route *route,
		 const char *topic, uint8_t *buf, size_t len, uint64_t request_id,
		 bool is_reply, int64_t tenant);
/* Encodes and appends e. */
int market__push_env(struct market_outbox *out, enum market_dest dest,
		     const struct tp_route *route, const char *topic, const Raas__Envelope *e,
		     bool is_reply, int64_t tenant);
/* Appends a Reply envelope carrying error code and message. */
void market__push_error(struct market_outbox *out, enum market_dest dest,
			const struct tp_route *route, uint64_t request_id, Raas__ErrorCode code,
			const char *message);
/* The posted price of a pool now: the model's, or else the last clearing price. */
money_t market__posted_price(struct market *m, struct mkt_pool *p);
/* Fills pm_pool for round (reseeding the pool's generator from seed, pool and round). */
void market__pm_pool(struct market *m, struct mkt_pool *p, uint64_t round,
		     struct pm_pool *out);
/* ---- market_load.c ---- */
/* Loads everything from the ledger (used at creation and after a failed batch). */
int market__load(struct market *m, char *why, size_t why_len);
/* Frees every tenant, host, pool and meter. */
void market__clear_state(struct market *m);
/* Declares the config's pools in the ledger. */
int market__declare_pools(struct market *m, char *why, size_t why_len);
/* ledger_pools_each callback: moves a registered pool to its resource's configured model. */
int market__retarget_pool(void *arg, const struct ledger_pool *row);
/* Rebuilds every pool's list of holdings from the tenants' holdings. */
int market__index_holdings(struct market *m);
/* Fills an Allocation message from a holding (strings borrowed from t and the pool). */
void market__allocation(const struct mkt_tenant *t, const struct mkt_holding *h,
			Raas__Allocation *out);

/* ---- query.c ---- */
/* Answers a Query from tenant t. */
void market__query(struct market *m, struct mkt_tenant *t, const struct tp_route *route,
		   const Raas__Envelope *env, struct market_outbox *out);

/* ---- hosts.c ---- */
/* Whether host h's agent can enforce tenant name (true when it did not say). */
bool market__host_maps(const struct mkt_host *h, const char *tenant);
void market__host_free(struct mkt_host *h);
/* The refusal text of a tenant on a host that cannot map it. */
void market__unmapped_reason(const struct mkt_host *h, const char *tenant, char *buf,
			     size_t len);

/* ---- settle.c ---- */
/* Adds the round's allocations on host agents' pools to the pending settlements. */
/* pools[i] is the pool of allocs[i]. */
int market__pending_add_round(struct market *m, uint64_t round,
			      const struct ledger_alloc_row *allocs,
			      struct mkt_pool *const *pools, size_t n, int64_t closed_wall_ns);
/* Records an acknowledgement (or carry-over) of (round, host) in memory. */
void market__pending_ack(struct market *m, uint64_t round, const char *host, int kind,
			 const struct ledger_ack_failure *f, size_t nf);
struct mkt_pending *market__pending_find(struct market *m, uint64_t round, const char *host);
/* The settlements due at this close: credit rows (appended to *credits) and the indexes of
 * the pending entries they settle (marks them). Returns 0 or -ENOMEM. */
struct mkt_settle {
	struct ledger_credit_row *credits;
	size_t ncredits, capcredits;
	size_t *settled;             /* indexes into m->pending */
	int *outcome;
	size_t nsettled;
	uint64_t settled_through;    /* after this close */
};
int market__settle_collect(struct market *m, int64_t now_wall_ns, uint64_t round,
			   bool round_has_pending, struct mkt_settle *out);
/* Writes the settlements and settled_through (inside the round's transaction). */
int market__settle_write(struct market *m, const struct mkt_settle *st, uint64_t round);
/* After the round committed: drops the settled entries. */
void market__settle_apply(struct market *m, const struct mkt_settle *st);
void market__settle_free(struct mkt_settle *st);
/* Rebuilds the pending settlements from the ledger (start, reload). */
int market__pending_load(struct market *m);
void market__pending_clear(struct market *m);

/* ---- registry.c ---- */
/* Re-reads tenants and hosts when another connection (the CLI) wrote: new members, budget
 * changes, removals asked for. Outside a batch. */
int market__registry_refresh(struct market *m);

/* ---- round.c ---- */
/* Builds the AllocationSet of host h for the last round and appends it to out. */
void market__push_allocation_set(struct market *m, struct mkt_host *h,
				 struct market_outbox *out);

#endif
