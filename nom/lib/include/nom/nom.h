/* nom.h: libnom, what an app of a nom instance links to trade resources on the market.
 *
 * An app sees the market through its instance's bulletin board (prices, holdings, bids, the
 * market connection's state), read from shared memory without a system call, and sleeps on it
 * until something changes (nom_wait_change). It bids, acquires, releases and cancels through
 * nom-priced, the instance's agent towards the market, over the local API (ZeroMQ, ipc://):
 * requests are synchronous, bounded by a timeout, and answered with the market's own answer.
 *
 * What acquiring a resource does for the app:
 * - cores: the instance's cpuset (enforced by the host agent) decides which CPUs; nom-priced
 *   writes the CPUs of each cores holding on the board; libnom pins every thread of the
 *   calling process to them when nom_acquire() returns and again whenever they change
 *   (nom_wait_change), and restores the original affinity when the holding goes to zero.
 * - memory: raises the instance's memory budget (nom_status().memory_budget_mib); the host
 *   agent enforces the instance's total, the app sizes its caches to the budget.
 * - bandwidth: becomes the tenant's enforced transmit rate; the host agent enforces it,
 *   libnom only acquires.
 *
 * Units (docs/units.md): prices in nanodollars per unit-hour (egress: per Gbit), money in
 * nanodollars, time in nanoseconds, cores whole, memory MiB, bandwidth Mbit/s, LLC ways.
 *
 * Errors: every call returns 0 or a negative errno / project error (common/error.h);
 * nom_strerror() names the code and nom_last_error() says what exactly went wrong on this
 * handle (the market's own message where it gave one). libnom never aborts and never prints.
 *
 * Threads: a struct nom is not thread-safe; use it from one thread at a time, or open one per
 * thread (an open is one mapping and one socket). */
#ifndef NOM_NOM_H
#define NOM_NOM_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "nom/econ.h"          /* the utility functions (nom/econ, shared with raas-sim) */
#include "nom/econ_optimize.h" /* the frontier and the optimizer */
#include "nom/econ_profile.h"  /* profiles: batching delay -> throughput, latency, jitter */

#define NOM_CPU_MAX 1024

enum nom_resource {
	NOM_CORES = 1,
	NOM_MEMORY = 2,
	NOM_BANDWIDTH = 3,
	NOM_LLC = 4,
	NOM_EGRESS = 5, /* priced (per Gbit), never held */
};

enum nom_market_state {
	NOM_MARKET_CONNECTING = 0, /* nom-priced has not reached the market yet */
	NOM_MARKET_FRESH = 1,
	NOM_MARKET_STALE = 2,      /* connection lost or silent: prices may be old */
	NOM_MARKET_STOPPED = 3,    /* nom-priced shut down */
};

struct nom;

struct nom_options {
	size_t size;          /* sizeof(struct nom_options): lets the struct grow compatibly */
	int64_t timeout_ns;   /* per request; 0: 5 s */
	const char *endpoint; /* the local API; NULL: the one nom-priced wrote on the board */
	bool no_pin;          /* do not touch thread affinity on cores holdings */
	/* nom_acquire of cores returns once the market granted them, without waiting for their
	 * CPUs to reach the board; nom_wait_change(_or) pins when they do (a controller thread
	 * that must not block for a round). */
	bool pin_later;
};

/* Opens instance's board and connects to its nom-priced. opts may be NULL (defaults). Returns
 * 0, -ENOENT when the instance has no board (nom-priced not running), -EINVAL for a bad name
 * or options, -RAAS_EVERSION / -RAAS_EPROTO for a board of another layout or a damaged one.
 * The caller owns *out (nom_close). */
int nom_open(const char *instance, const struct nom_options *opts, struct nom **out);
/* Closes the handle; restores the threads' affinity if libnom pinned them. NULL: no-op. */
void nom_close(struct nom *nom);

struct nom_price_info {
	int64_t unit_price;        /* nanodollars per unit-hour (egress: per Gbit) */
	uint64_t round;            /* the round that set it */
	int64_t supply;
	int64_t allocated;
	int64_t published_wall_ns; /* when the market published it */
	int64_t next_round_wall_ns;
	bool stale;                /* the market connection is not fresh: it may be old */
};

/* The current price of resource on host. Returns 0, or -ENOENT when the board has no such
 * price (not subscribed, or nothing published yet). */
int nom_price(struct nom *nom, enum nom_resource resource, const char *host,
	      struct nom_price_info *out);

struct nom_holding_info {
	int64_t quantity;          /* 0 when nothing is held */
	int64_t unit_price;
	int64_t payment_per_hour;  /* nanodollars per hour */
	uint64_t round;
	int ncpus;                 /* cores: how many CPUs the holding maps to */
	uint64_t cpus[NOM_CPU_MAX / 64]; /* cores: the CPUs, one bit each */
};

/* What the instance holds of resource on host ("" = the sum over hosts). Returns 0 (quantity
 * 0 when nothing is held). */
int nom_holding(struct nom *nom, enum nom_resource resource, const char *host,
		struct nom_holding_info *out);

struct nom_segment {
	int64_t quantity;   /* this many more units ... */
	int64_t unit_value; /* ... each worth this much (nanodollars per unit-hour) */
};

struct nom_bid {
	const char *bid_id;        /* the app's name for the bid; reusing it replaces the bid */
	enum nom_resource resource;
	const char *host;          /* NULL or "" = any host */
	int64_t min_quantity;
	int64_t max_quantity;
	int64_t unit_price;        /* limit, nanodollars per unit-hour */
	const struct nom_segment *curve; /* optional decreasing marginal values (vcg, psp) */
	size_t ncurve;
};

/* Places (or replaces) a standing bid. Returns 0 once the market acknowledged it, storing the
 * first round it takes part in in *effective_round (may be NULL). Errors: -EINVAL (bad bid,
 * see nom_last_error), -RAAS_EBUDGET, -RAAS_EDENIED, -EAGAIN (market unreachable: retry),
 * -ETIMEDOUT, -ENOTCONN (nom-priced not running). Borrows bid. */
int nom_bid(struct nom *nom, const struct nom_bid *bid, uint64_t *effective_round);
/* Takes quantity units at the posted price if it is at most max_unit_price (0: any). Returns
 * 0 once the market granted it; for cores, also pins the process's threads to the holding's
 * CPUs, waiting (within the timeout) for them to reach the board. Errors as nom_bid, and
 * -ERANGE when the posted price is above max_unit_price, -RAAS_ENOSUPPLY. */
int nom_acquire(struct nom *nom, enum nom_resource resource, const char *host, int64_t quantity,
		int64_t max_unit_price);
/* Gives back quantity units (0: all) of resource on host. Returns 0 once the market took it. */
int nom_release(struct nom *nom, enum nom_resource resource, const char *host, int64_t quantity);
/* Cancels a standing bid. Returns 0, -ENOENT (no such bid), or errors as nom_bid. */
int nom_cancel(struct nom *nom, const char *bid_id);

enum nom_bid_state {
	NOM_BID_SENDING = 1, /* on its way to the market */
	NOM_BID_ACTIVE = 2,  /* a standing order at the market */
	NOM_BID_REFUSED = 3, /* refused: error says why */
	NOM_BID_RESYNC = 4,  /* being sent again after a market restart */
};

struct nom_bid_info {
	enum nom_resource resource;
	char host[48];             /* "" = any host */
	int64_t min_quantity;
	int64_t max_quantity;
	int64_t unit_price;        /* limit, nanodollars per unit-hour */
	uint64_t effective_round;
	enum nom_bid_state state;
	int error;                 /* refused: the negative error */
};

/* A bid of the instance as the board shows it. An acquire is a standing bid at the market
 * too, named "acquire/<resource>/<host>" (nom_acquire_bid_id): it stays while the posted price
 * is at most its limit and holds again when the price comes back under it, until released.
 * Returns 0 or -ENOENT. */
int nom_bid_info(struct nom *nom, const char *bid_id, struct nom_bid_info *out);
/* The id under which the market keeps the instance's acquires of resource on host. */
void nom_acquire_bid_id(enum nom_resource resource, const char *host, char *buf, size_t len);

/* Sleeps until the board changes or timeout_ns passes (< 0: forever). Returns 0 on a change,
 * -ETIMEDOUT. Re-pins the threads when the CPUs of a cores holding changed. Re-opens the board
 * if nom-priced replaced it. */
int nom_wait_change(struct nom *nom, int64_t timeout_ns);

/* As nom_wait_change, and also returns 1 (without waiting further) as soon as *word differs
 * from word_seen: one sleep on the board and on a word of this process (bb_kick() moves it
 * and wakes the sleeper). Returns 0 on a board change, 1 on the word, -ETIMEDOUT. */
int nom_wait_change_or(struct nom *nom, int64_t timeout_ns, const uint32_t *word,
		       uint32_t word_seen);

struct nom_status {
	enum nom_market_state market;
	char message[128];          /* why the market state is what it is */
	char tenant[64];
	uint64_t round;
	int64_t round_ns;
	int64_t next_round_wall_ns;
	int64_t charged_total;      /* nanodollars charged, as nom-priced saw the notices */
	int64_t last_charged;
	int64_t balance;            /* -1: no budget limit */
	int64_t memory_budget_mib;  /* memory the instance holds on its host */
	uint64_t reconnects;
	bool priced_alive;          /* the board's writer process is running */
	pid_t priced_pid;
	/* Where the instance runs, from nom-priced's [priced] config ("" = not set): */
	char host[48];              /* host */
	char cpuset[256];           /* cpuset: its cpuset cgroup directory */
	char memory_cgroup[256];    /* memory_cgroup: its memory cgroup directory */
	char netns[256];            /* netns: its network namespace, a name or a path */
	char endpoint[128];         /* nom-priced's local API */
};

/* The market connection and the account, from the board. Returns 0. */
int nom_status(struct nom *nom, struct nom_status *out);

/* Why nom_open(instance) failed with err, in one line for the user, into buf: no board (is
 * nom-priced running?), a board of another layout version (which one), a damaged board, a bad
 * name. Returns buf. */
char *nom_explain_open(const char *instance, int err, char *buf, size_t len);

/* The instance's account at the market (a query): charged so far and budget (-1: none). */
int nom_account(struct nom *nom, int64_t *charged_total, int64_t *budget);

/* Reports the profit app makes now (nanodollars per hour: value earned less payment, may be
 * negative) and its working point W (delay, ns; -1 for none) to nom-priced, which sends the
 * market the instance's latest report of every app (the market shows it on its dashboards;
 * nothing is billed on it). app: 1-63 bytes. Returns 0 or a negative error (-EINVAL for a
 * value outside raas.proto's bounds). */
int nom_report_profit(struct nom *nom, const char *app, int64_t profit_per_hour, int64_t w_ns);

/* Pins every thread of the calling process to the CPUs of the cores held on host (the
 * instance's host when host is NULL); with no cores held, restores the affinity the process
 * had at nom_open. Returns 0, -ENOENT when no CPU list is on the board, or -errno of
 * sched_setaffinity. */
int nom_pin_threads(struct nom *nom, const char *host);

/* ---- Economics at the market's current price ------------------------------------------
 * The economics itself is nom/econ (econ.h, econ_optimize.h, econ_profile.h, included above):
 * the penalty, refund and bonus utility functions, profiles, the Pareto frontier and the
 * optimizer. These calls feed it the price on the board. */

/* Megabits in one hour of one Mbit/s: a bandwidth price per Mbit/s-hour over this many Gbit
 * is the price of a Gbit sent at the full rate held. */
#define NOM_GBIT_PER_MBPS_HOUR 3.6

/* The price of the app's traffic in $/Gbit (the economics' P), from the board: the egress
 * price on host when the market publishes one (nanodollars per Gbit), else the bandwidth
 * price (nanodollars per Mbit/s-hour) / NOM_GBIT_PER_MBPS_HOUR, what a Gbit costs when the
 * rate held is fully used. *stale (may be NULL) as in nom_price. Returns 0, or -ENOENT when
 * the board has neither price for host. */
int nom_traffic_price(struct nom *nom, const char *host, double *dollars_per_gbit, bool *stale);

/* The working point of level that maximizes u at the traffic price on host now (never a
 * dominated point; econ_optimize()). *out points into level; *price_used (may be NULL) is the
 * price it used. Returns 0, -ENOENT (no price), or -EINVAL / -E2BIG from the optimizer. */
int nom_pick_delay(struct nom *nom, const char *host, const struct econ_level *level,
		   const struct econ_utility *u, const struct econ_point **out,
		   double *price_used);

/* U = T * (a(L, sigma) - P) in $/s of working point pt at the traffic price on host now. */
int nom_utility_now(struct nom *nom, const char *host, const struct econ_utility *u,
		    const struct econ_point *pt, double *dollars_per_s);

/* The name of an error code (never NULL, static). */
const char *nom_strerror(int err);
/* What went wrong in this handle's last failed call (borrowed; "" after a success). */
const char *nom_last_error(const struct nom *nom);

/* Resource names "cores", "memory", "bandwidth", "llc", "egress"; parse returns 0 or
 * -EINVAL. */
const char *nom_resource_name(enum nom_resource r);
int nom_resource_parse(const char *name, enum nom_resource *out);

#endif
