/* ledger.h: the market's SQLite ledger: registry, standing bids, rounds, charges.
 *
 * The ledger is the market's memory and its books. Everything the market acknowledges or
 * announces is in it first (DESIGN.md section 6: persist before reply, persist before
 * publish), so that after a crash the market resumes from exactly what it told the world.
 * It is one SQLite file in WAL mode (readers such as the CLI never block the market), with a
 * schema version migrated at open.
 *
 * What is stored (docs/market.md has the full schema):
 *   tenants, hosts   the registry: name, CURVE public key, budget, running charged total;
 *   pools            one per (host, resource): supply, pricing model and parameters;
 *   bids             versions of standing orders: a version is in force for the rounds
 *                    [first_round, last_round] (last_round NULL while it stands); a change
 *                    ends one version and starts the next, so every round's bids can be
 *                    reconstructed without rewriting them each round;
 *   requests         the answer to every acknowledged tenant request, by (tenant, request id),
 *                    so that a retried request gets its first answer, across restarts;
 *   rounds, prices, allocations (each with its hold charge), egress   one transaction per
 *                    round; the view "charges" lists every charge (holds and egress);
 *   meters, host_acks                      what host agents reported.
 *
 * Design notes: invariants (each has a check function the tests call)
 *   1. Revenue: the sum of all charges equals the sum of the rounds' revenue, round by round,
 *      and each tenant's running total equals the sum of its charges (ledger_check_revenue).
 *   2. Rounds: every round is recorded once, numbers contiguous, wall times in order
 *      (ledger_check_rounds).
 *   3. Requests: every acknowledged request is in the ledger with the answer that was sent
 *      (ledger_check_request).
 *   4. Supply: no pool is allocated beyond its supply in any round, each price row's
 *      allocated total matches its allocations, and every allocation belongs to a bid version
 *      that was in force in that round (ledger_check_supply).
 *   5. Bids: at most one standing version per (tenant, bid id), and at most one version of
 *      a bid id per request: a retried request is never applied twice (ledger_check_bids).
 *   6. Charges: every allocation is charged once, exactly its payment rate x the round
 *      length (money_charge), and egress once per (round, tenant, host)
 *      (ledger_check_charges): nothing is charged twice.
 *   7. Enforcement: nobody pays for what was not in force. An allocation on a host agent's
 *      pool (not a config-declared one) is settled once its host acknowledged the round (or
 *      told, when registering again, that it kept enforcing it: fail-static carry-over), or
 *      once the market's ack_timeout passed without either. An allocation that the host
 *      reports it could not apply, or that was not acknowledged in time, is credited its
 *      whole charge with the host's reason; a charged allocation of a settled round has a
 *      successful acknowledgement or carry-over; every round up to settled_through is
 *      settled; a credit is exactly its allocation's charge (ledger_check_enforcement).
 *   ledger_check() runs them all plus SQLite's own quick_check.
 *
 * The registry has a life cycle: a tenant or host is active, then being removed (the CLI
 * asked; the market finishes it at a round close: bids ended, pools drained, settlements
 * done), then removed (its key no longer admitted; its rows stay for the books).
 *
 * One market per ledger: raas-marketd holds an exclusive lock on LEDGER.lock for as long as
 * it runs (ledger_lock) and records who it is in the ledger's meta table; the CLI's offline
 * commands read and write the registry beside it.
 *
 * States: a ledger is idle or inside a batch (ledger_begin .. ledger_commit/rollback);
 * ledger_round_write() runs its own transaction and is called only when idle. A batch in
 * which any write failed refuses to commit (-EIO): the caller rolls it back whole, so nothing
 * is ever half-written, not even one request of many.
 *
 * Fault injection: ledger_fault_set(l, n) makes the n-th write statement from now fail with
 * -EIO, which is how the tests check that a failed write leaves every invariant intact. */
#ifndef MARKET_LEDGER_H
#define MARKET_LEDGER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "common/money.h"

#define LEDGER_SCHEMA_VERSION 2
#define LEDGER_NAME_MAX 64      /* tenant and host names, with the NUL */
#define LEDGER_BID_ID_MAX 96    /* bid ids, with the NUL ("acquire/RESOURCE/HOST" fits) */
#define LEDGER_KEY_MAX 41       /* z85 public key, with the NUL */
#define LEDGER_CURVE_MAX 32     /* segments of a declared value curve */
#define LEDGER_RANGES_MAX 16    /* allowed quantity ranges of a range bid */
#define LEDGER_MODEL_MAX 32
#define LEDGER_PARAMS_MAX 512
#define LEDGER_WHY_MAX 512      /* room for the text of a failed check */
#define LEDGER_REASON_MAX 256   /* a credit's reason, an ack failure's message */

struct ledger;

enum ledger_bid_kind { LEDGER_BID = 0, LEDGER_ACQUIRE = 1 };
enum ledger_charge_kind { LEDGER_CHARGE_HOLD = 1, LEDGER_CHARGE_EGRESS = 2, LEDGER_CHARGE_CREDIT = 3 };
/* A tenant's or host's place in the registry. */
enum ledger_status { LEDGER_ACTIVE = 0, LEDGER_REMOVING = 1, LEDGER_REMOVED = 2 };
/* How a (round, host) was settled (invariant 7). */
enum ledger_settlement {
	LEDGER_SETTLED_ACKED = 1,   /* the host acknowledged the round (failures credited) */
	LEDGER_SETTLED_CARRIED = 2, /* fail-static: it kept enforcing, told at registration */
	LEDGER_SETTLED_TIMEOUT = 3, /* no acknowledgement within ack_timeout: all credited */
};
/* What a host_acks row is. */
enum ledger_ack_kind { LEDGER_ACK = 0, LEDGER_ACK_CARRY = 1 };

struct ledger_tenant {
	int64_t id;
	char name[LEDGER_NAME_MAX];
	char public_key[LEDGER_KEY_MAX];
	money_t budget;         /* nanodollars the tenant may be charged in total; -1 unlimited */
	money_t charged;        /* running total of its charges (credits subtracted) */
	int64_t created_wall_ns;
	int status;             /* enum ledger_status */
	int64_t removed_round;  /* the last round it took part in (removed only; else -1) */
};

struct ledger_host {
	int64_t id;
	char name[LEDGER_NAME_MAX];
	char public_key[LEDGER_KEY_MAX];
	int64_t created_wall_ns;
	int status;             /* enum ledger_status */
	int64_t removed_round;  /* removed only; else -1 */
};

struct ledger_pool {
	int64_t id;
	char host[LEDGER_NAME_MAX];
	int resource;           /* Raas__Resource */
	int64_t supply;
	char model[LEDGER_MODEL_MAX];
	char params[LEDGER_PARAMS_MAX];
	bool from_config;       /* declared in the config (hostless run), else registered */
};

struct ledger_segment {
	int64_t quantity;
	money_t unit_value;
};

struct ledger_range {
	int64_t min;
	int64_t max;
};

/* One version of a standing order. Numbers first: a round reads them for every bid. */
struct ledger_bid {
	int64_t id;             /* version id; the bidder key given to the pricing model */
	int64_t tenant;
	int kind;               /* enum ledger_bid_kind */
	int resource;
	int64_t min_quantity;
	int64_t max_quantity;
	money_t unit_price;     /* nanodollars per unit-hour */
	uint64_t first_round;   /* first round the version is in force */
	int64_t last_round;     /* last round in force; -1 while it stands */
	uint64_t request_id;    /* the request that created it */
	size_t ncurve;
	size_t nranges;
	char bid_id[LEDGER_BID_ID_MAX];
	char host[LEDGER_NAME_MAX]; /* "" for any host */
	struct ledger_segment curve[LEDGER_CURVE_MAX];
	struct ledger_range ranges[LEDGER_RANGES_MAX];
};

struct ledger_price_row {
	int64_t pool;
	money_t unit_price;
	int64_t supply;
	int64_t allocated;
	money_t revenue_per_hour;
	money_t welfare_per_hour;
	int64_t bids;
	int64_t clear_ns;
};

/* An allocation of a round, and what it is charged for the round: the hold charge,
 * money_charge(payment_per_hour, 1, round_ns). */
struct ledger_alloc_row {
	int64_t pool;
	int64_t tenant;
	int64_t bid;            /* bid version id */
	int64_t quantity;
	money_t unit_price;
	money_t payment_per_hour;
	money_t charge;         /* nanodollars for the round */
	char bid_id[LEDGER_BID_ID_MAX]; /* the version's bid id (filled when read back) */
};

/* A metered egress charge of a round. */
struct ledger_egress_row {
	int64_t tenant;
	int64_t pool;           /* the host's egress pool */
	int64_t bytes;
	money_t amount;         /* nanodollars */
};

struct ledger_meter_row {
	char host[LEDGER_NAME_MAX];
	int64_t tenant;
	uint64_t tx_bytes;      /* the cumulative reading billed up to */
};

/* A credit: the whole charge of allocation (round, pool, bid) given back (invariant 7). */
struct ledger_credit_row {
	uint64_t round;         /* the allocation's round */
	int64_t pool;
	int64_t bid;
	int64_t tenant;
	int64_t quantity;
	money_t amount;         /* = the allocation's charge, > 0 */
	char reason[LEDGER_REASON_MAX];
};

/* Everything one round writes, in one transaction. Borrowed by ledger_round_write. */
struct ledger_round {
	uint64_t round;
	int64_t start_wall_ns;
	int64_t end_wall_ns;
	int64_t round_ns;
	money_t revenue;        /* must equal the charges minus the credits (checked first) */
	int64_t bids;           /* bids cleared */
	const struct ledger_price_row *prices;
	size_t nprices;
	const struct ledger_alloc_row *allocs;
	size_t nallocs;
	const struct ledger_egress_row *egress;
	size_t negress;
	const struct ledger_meter_row *meters;
	size_t nmeters;
	const struct ledger_credit_row *credits; /* written with settled_round = round */
	size_t ncredits;
	int64_t prune_requests_before_wall_ns; /* drop request records older than this; 0 keeps */
	/* Optional: more writes of the market inside the round's transaction (settlements,
	 * removals), through the ledger's own functions; non-zero fails the round. */
	int (*extra)(void *arg, struct ledger *l);
	void *extra_arg;
};

struct ledger_options {
	bool readonly;          /* the CLI's queries: no migration, no writes */
	bool sync_full;         /* synchronous=FULL (survives power loss) instead of NORMAL
				   (survives a process crash, which is what kill -9 tests) */
	int busy_timeout_ms;    /* 0: 5000 */
	bool manual_checkpoint; /* no automatic WAL checkpoints inside commits: the owner calls
				   ledger_checkpoint() when it has time (the market: after
				   announcing a round) */
};

/* Opens (creating and migrating when writable) the ledger at path (":memory:" for tests).
 * On failure returns -errno, -RAAS_EVERSION (schema newer than this build) or -EIO with why
 * naming the file and the problem. *out is owned by the caller (ledger_close). */
int ledger_open(const char *path, const struct ledger_options *opt, struct ledger **out,
		char *why, size_t why_len);
void ledger_close(struct ledger *l);
/* The schema version of the SQLite file at path, without opening it as a ledger (no
 * migration, no lock): 0 for a new file. -EIO with why when it is not a database. */
int ledger_file_version(const char *path, int *version, char *why, size_t why_len);
/* The last SQLite error message of l, for logs. Borrowed. */
const char *ledger_errmsg(struct ledger *l);
int ledger_schema_version(struct ledger *l);

/* With manual_checkpoint: once the WAL holds LEDGER_CHECKPOINT_FRAMES pages, copies them
 * into the database file without waiting for readers (SQLite's PASSIVE checkpoint); else
 * does nothing. Returns 0 or -EIO. */
#define LEDGER_CHECKPOINT_FRAMES 4000
int ledger_checkpoint(struct ledger *l);

/* Bytes SQLite holds in this process (page caches, statements, schema), all ledgers. */
int64_t ledger_memory_used(void);

/* Fault injection: the n-th write statement from now fails with -EIO (0: off). */
void ledger_fault_set(struct ledger *l, int64_t nth_write);

/* ---- Batches ---- */
int ledger_begin(struct ledger *l);
int ledger_commit(struct ledger *l);
void ledger_rollback(struct ledger *l);
bool ledger_in_batch(const struct ledger *l);
/* A read transaction: every query until ledger_read_end sees the same snapshot (a report
 * made of several queries while the market writes). 0 or -EIO. */
int ledger_read_begin(struct ledger *l);
void ledger_read_end(struct ledger *l);

/* ---- Registry (the CLI writes these; the market reads them) ---- */

/* Adds a tenant (own transaction unless in a batch). -EEXIST when the name or the key is
 * taken (why says which). */
int ledger_tenant_add(struct ledger *l, const char *name, const char *public_key,
		      money_t budget, int64_t now_wall_ns, int64_t *id, char *why, size_t why_len);
/* -ENOENT when absent. */
int ledger_tenant_by_key(struct ledger *l, const char *public_key, struct ledger_tenant *out);
int ledger_tenant_by_name(struct ledger *l, const char *name, struct ledger_tenant *out);
int ledger_host_add(struct ledger *l, const char *name, const char *public_key,
		    int64_t now_wall_ns, int64_t *id, char *why, size_t why_len);
int ledger_host_by_key(struct ledger *l, const char *public_key, struct ledger_host *out);
int ledger_host_by_name(struct ledger *l, const char *name, struct ledger_host *out);

/* Callbacks of the *_each iterators: return 0 to go on, non-zero to stop (returned). The
 * row is borrowed for the call. */
typedef int (*ledger_tenant_fn)(void *arg, const struct ledger_tenant *t);
typedef int (*ledger_host_fn)(void *arg, const struct ledger_host *h);
typedef int (*ledger_pool_fn)(void *arg, const struct ledger_pool *p);
typedef int (*ledger_bid_fn)(void *arg, const struct ledger_bid *b);
typedef int (*ledger_price_fn)(void *arg, uint64_t round, const struct ledger_price_row *p);
typedef int (*ledger_alloc_fn)(void *arg, uint64_t round, const struct ledger_alloc_row *a);
typedef int (*ledger_meter_fn)(void *arg, const struct ledger_meter_row *m);

int ledger_tenants_each(struct ledger *l, ledger_tenant_fn fn, void *arg);
int ledger_hosts_each(struct ledger *l, ledger_host_fn fn, void *arg);

/* ---- Pools ---- */

/* Inserts or updates the pool of (host, resource); sets p->id. */
int ledger_pool_put(struct ledger *l, struct ledger_pool *p);
int ledger_pools_each(struct ledger *l, ledger_pool_fn fn, void *arg);
/* The pools of host (at most max into out, *n of them). */
int ledger_host_pools(struct ledger *l, const char *host, struct ledger_pool *out, int max,
		      int *n);

/* ---- Requests ---- */

/* The recorded answer to (tenant, request_id): *reply is malloc'd (caller frees). -ENOENT. */
int ledger_request_get(struct ledger *l, int64_t tenant, uint64_t request_id, uint8_t **reply,
		       size_t *len);
int ledger_request_put(struct ledger *l, int64_t tenant, uint64_t request_id, uint64_t round,
		       int kind, const void *reply, size_t len, int64_t now_wall_ns);
/* The highest request id up to INT64_MAX recorded for tenant (0 when none). A client whose
 * ids only grow (nom-priced) is then known new without a lookup. */
int ledger_request_max(struct ledger *l, int64_t tenant, uint64_t *out);

/* ---- Bids ---- */

/* Records a new version (b->id is set). */
int ledger_bid_insert(struct ledger *l, struct ledger_bid *b);
/* Ends version id: last_round = last_round (may be first_round - 1: never in force). */
int ledger_bid_end(struct ledger *l, int64_t id, int64_t last_round);
/* Every standing version, in version order. */
int ledger_bids_standing_each(struct ledger *l, ledger_bid_fn fn, void *arg);
/* The standing version of (tenant, bid_id). -ENOENT. */
int ledger_bid_standing(struct ledger *l, int64_t tenant, const char *bid_id,
			struct ledger_bid *out);

/* ---- Rounds ---- */

/* Writes a round in one transaction (refuses when in a batch: -EBUSY). Checks first that
 * revenue equals the sum of the allocations' charges and the egress charges, and that the
 * round is the next one (-EINVAL otherwise). Adds each tenant's charges to its running
 * total. On any failure nothing of the round is written. */
int ledger_round_write(struct ledger *l, const struct ledger_round *r);
/* The last recorded round (0 when none) and its end time. */
int ledger_last_round(struct ledger *l, uint64_t *round, int64_t *end_wall_ns);
int ledger_round_prices_each(struct ledger *l, uint64_t round, ledger_price_fn fn, void *arg);
int ledger_round_allocs_each(struct ledger *l, uint64_t round, ledger_alloc_fn fn, void *arg);
int ledger_meters_each(struct ledger *l, ledger_meter_fn fn, void *arg);

/* What of an allocation set a host could not apply ("" tenant: the whole set). */
struct ledger_ack_failure {
	char tenant[LEDGER_NAME_MAX];
	int resource;
	int errno_value;
	char message[LEDGER_REASON_MAX];
};

/* Records a host's acknowledgement of an allocation set (kind: enum ledger_ack_kind), with
 * its failures (text for people, rows for the checks). The first acknowledgement of a
 * (round, host) is kept; a later one is ignored (*recorded false), so that what a settlement
 * was based on never changes under it. */
int ledger_host_ack_put(struct ledger *l, uint64_t round, const char *host, bool complete,
			const char *failures, int kind, const struct ledger_ack_failure *f,
			size_t nf, int64_t now_wall_ns, bool *recorded);
/* Records how (round, host) was settled in round settled_round. */
int ledger_settlement_put(struct ledger *l, uint64_t round, const char *host, int outcome,
			  uint64_t settled_round);

/* An allocation still to settle: on a registered pool, in a round after settled_through
 * (and from enforcement_from on), without a settlement. */
struct ledger_unsettled_row {
	uint64_t round;
	int64_t end_wall_ns;    /* when its round closed */
	char host[LEDGER_NAME_MAX];
	char tenant[LEDGER_NAME_MAX];
	int resource;
	struct ledger_alloc_row alloc;
};
/* An acknowledgement of a round after settled_through, and its failures. */
struct ledger_ack_row {
	uint64_t round;
	char host[LEDGER_NAME_MAX];
	bool complete;
	int kind;
	const struct ledger_ack_failure *failures; /* borrowed for the call */
	size_t nfailures;
};
typedef int (*ledger_unsettled_fn)(void *arg, const struct ledger_unsettled_row *u);
typedef int (*ledger_ack_fn)(void *arg, const struct ledger_ack_row *a);
/* In round, host order. */
int ledger_unsettled_each(struct ledger *l, ledger_unsettled_fn fn, void *arg);
int ledger_acks_unsettled_each(struct ledger *l, ledger_ack_fn fn, void *arg);

/* ---- Meta: the ledger's own settings (text values) ---- */
/* -ENOENT when absent. */
int ledger_meta_get(struct ledger *l, const char *key, char *buf, size_t len);
int ledger_meta_get_int(struct ledger *l, const char *key, int64_t *out);
/* Own transaction unless in a batch. */
int ledger_meta_set(struct ledger *l, const char *key, const char *value);
int ledger_meta_set_int(struct ledger *l, const char *key, int64_t value);
/* SQLite's data_version: changes when another connection (the CLI) commits a write. */
int ledger_data_version(struct ledger *l, int64_t *out);

/* ---- Registry life cycle (own transaction unless in a batch) ---- */
int ledger_tenant_set_status(struct ledger *l, int64_t id, int status, int64_t removed_round,
			     int64_t now_wall_ns);
int ledger_host_set_status(struct ledger *l, int64_t id, int status, int64_t removed_round,
			   int64_t now_wall_ns);
/* budget -1: unlimited. -ENOENT when there is no such tenant. */
int ledger_tenant_set_budget(struct ledger *l, int64_t id, money_t budget);
/* Ends every standing bid version of tenant at last_round. Returns how many (>= 0) or an
 * error. */
int ledger_bids_end_tenant(struct ledger *l, int64_t tenant, int64_t last_round);

/* ---- One market per ledger ---- */

/* Who runs on a ledger, as it recorded itself in the meta table. */
struct ledger_owner {
	long pid;
	char hostname[LEDGER_NAME_MAX];
	char tenant_endpoint[256];
	char price_endpoint[256];
	char host_endpoint[256];
	int64_t started_wall_ns;
};

/* Takes the exclusive lock of the ledger at path (a POSIX write lock on PATH.lock, held while
 * *fd stays open: a crashed holder frees it). Waits up to wait_ms for a holder that lets go
 * (an offline CLI command). Returns 0, -EBUSY with *holder the pid that holds it, or -errno
 * (why says what). ":memory:" is never locked (*fd = -1). */
int ledger_lock(const char *path, int wait_ms, int *fd, long *holder, char *why,
		size_t why_len);
/* 0 when nobody holds the lock (the file may not exist), -EBUSY with *holder otherwise. */
int ledger_lock_probe(const char *path, long *holder);
void ledger_unlock(int fd);
/* Writes / reads the owner's identity (meta keys market_*). */
int ledger_owner_record(struct ledger *l, const struct ledger_owner *o);
int ledger_owner_read(struct ledger *l, struct ledger_owner *o);

/* ---- Backup ---- */

/* Copies the ledger into a new file dest with SQLite's online backup (a consistent snapshot
 * while the market keeps writing: the copy restarts if a write lands in between), through
 * dest.tmp and a rename; then checks the copy (quick_check, schema version). Refuses an
 * existing dest (-EEXIST). *pages: the pages copied. */
int ledger_backup(struct ledger *l, const char *dest, int *pages, char *why, size_t why_len);

/* ---- Reports (the CLI and the Query API read these) ---- */

struct ledger_round_row {
	uint64_t round;
	int64_t start_wall_ns;
	int64_t end_wall_ns;
	int64_t round_ns;
	money_t revenue;
	int64_t bids;
};

/* A credit with names (raas invoice, raas credits). */
struct ledger_credit_line {
	uint64_t round;         /* the allocation's round */
	uint64_t settled_round; /* when it was credited */
	char tenant[LEDGER_NAME_MAX];
	char host[LEDGER_NAME_MAX];
	int resource;
	int64_t quantity;
	money_t amount;
	char reason[LEDGER_REASON_MAX];
};
typedef int (*ledger_credit_line_fn)(void *arg, const struct ledger_credit_line *c);
/* Credits written in rounds [from, to] (0: unbounded), of tenant (NULL: all), oldest first. */
int ledger_credits_each(struct ledger *l, const char *tenant, uint64_t from, uint64_t to,
			ledger_credit_line_fn fn, void *arg);

/* One line of an invoice or a revenue report: what was charged for one pool and kind. */
struct ledger_charge_line {
	uint64_t round;         /* 0 in summaries over rounds */
	char tenant[LEDGER_NAME_MAX];
	char host[LEDGER_NAME_MAX];
	int resource;
	int kind;               /* enum ledger_charge_kind */
	int64_t quantity;       /* unit-rounds held, or bytes metered */
	money_t amount;
};

/* One allocation of a round, with names. */
struct ledger_alloc_line {
	uint64_t round;
	char tenant[LEDGER_NAME_MAX];
	char host[LEDGER_NAME_MAX];
	int resource;
	char bid_id[LEDGER_BID_ID_MAX];
	int64_t quantity;
	money_t unit_price;
	money_t payment_per_hour;
};

typedef int (*ledger_round_fn)(void *arg, const struct ledger_round_row *r);
typedef int (*ledger_charge_line_fn)(void *arg, const struct ledger_charge_line *c);
typedef int (*ledger_alloc_line_fn)(void *arg, const struct ledger_alloc_line *a);

/* The latest limit rounds up to round upto (0: the last), newest first. */
int ledger_rounds_each(struct ledger *l, uint64_t upto, size_t limit, ledger_round_fn fn,
		       void *arg);
/* A tenant's charges in rounds [from, to] (0: unbounded), one line per round, pool and kind,
 * oldest first. -ENOENT when there is no such tenant. */
int ledger_invoice_each(struct ledger *l, const char *tenant, uint64_t from, uint64_t to,
			ledger_charge_line_fn fn, void *arg);
/* Revenue in rounds [from, to] (0: unbounded) summed per tenant, host, resource and kind. */
int ledger_revenue_each(struct ledger *l, uint64_t from, uint64_t to, ledger_charge_line_fn fn,
			void *arg);
/* Totals over rounds [from, to]: how many rounds and the revenue. */
int ledger_revenue_total(struct ledger *l, uint64_t from, uint64_t to, uint64_t *rounds,
			 money_t *revenue);
/* The allocations of a round (0: the last), by host, resource, tenant. */
int ledger_allocations_each(struct ledger *l, uint64_t round, ledger_alloc_line_fn fn,
			    void *arg);

/* What a tenant still has in the market: standing bids, units held in the last round, and
 * allocations of host agents' pools not settled yet. */
struct ledger_activity {
	uint64_t last_round;
	int64_t standing_bids;
	int64_t held_units;
	int64_t unsettled;
};
int ledger_tenant_activity(struct ledger *l, int64_t tenant, struct ledger_activity *out);

/* Counts for raas ledger check. */
struct ledger_summary {
	int schema_version;
	uint64_t last_round;
	int64_t rounds, tenants, hosts, allocations, settlements, credits, settled_through;
	money_t credited, revenue;
};
int ledger_summary(struct ledger *l, struct ledger_summary *out);

/* ---- Invariants (design notes above) ---- */
int ledger_check_revenue(struct ledger *l, char *why, size_t why_len);
int ledger_check_rounds(struct ledger *l, char *why, size_t why_len);
int ledger_check_supply(struct ledger *l, char *why, size_t why_len);
int ledger_check_bids(struct ledger *l, char *why, size_t why_len);
int ledger_check_charges(struct ledger *l, char *why, size_t why_len);
int ledger_check_enforcement(struct ledger *l, char *why, size_t why_len);
/* The request is recorded with exactly this answer. */
int ledger_check_request(struct ledger *l, int64_t tenant, uint64_t request_id,
			 const void *reply, size_t len, char *why, size_t why_len);
/* All of the above but the per-request check, plus SQLite's quick_check. 0 or -EPROTO. */
int ledger_check(struct ledger *l, char *why, size_t why_len);

#endif
