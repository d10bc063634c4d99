/* priced.h: nom-priced's internals: its configuration, its state, and the modules' calls.
 *
 * nom-priced is one process per nom instance and one thread: a zmq_poll loop over the market's
 * tenant API (DEALER), its price feed (SUB), the instance's local API (ROUTER, ipc://), two
 * socket monitors and a signalfd. Every module works on the one struct priced passed to it.
 *
 * Design notes
 * ------------
 * The session with the market moves SESSION_DOWN -> SESSION_HELLO (connected, Hello sent:
 * priced_market_connected) -> SESSION_UP (HelloReply: priced_market_on_reply) and back to
 * SESSION_DOWN when the connection drops or the market stops answering
 * (priced_market_lost). The board's market state follows: FRESH only while SESSION_UP and a
 * subscribed price arrived within stale_after; STALE otherwise once it was ever up.
 *
 * Invariants (priced_check() asserts them):
 *  1. Every request sent to the market is in the pending list under a request id never used
 *     before by this tenant key (start wall time + a counter), until its reply or deadline.
 *  2. App requests go out only while SESSION_UP; a request that was sent and not answered is
 *     sent again, with the same id, after a reconnect (the market answers a retry, never
 *     applies it twice).
 *  3. The standing-bid table holds every bid the market acknowledged and nobody cancelled;
 *     after each reconnect all of it is sent again (re-sync), except the market's own
 *     records of acquires ("acquire/..."), and the board lists the table's bids plus those
 *     refused.
 *  4. Holdings on the board are those of the latest allocation notice (or holdings query);
 *     the cores holdings of this host carry their CPUs, memory_budget_mib is the memory held
 *     on this host.
 *  5. Every app request gets exactly one answer: the market's, or an error from nom-priced
 *     saying why the market's is missing.
 *  6. The board is published after every loop iteration that changed it, before waiting.
 *  7. The board's charged_total is the market's account as of an account answer that no
 *     notice overtook, plus the charge of every notice received after it: the market sends
 *     a round's notices before it answers anything that follows the round's close, on the
 *     same connection, so such an answer includes exactly the rounds noticed so far.
 */
#ifndef PRICED_H
#define PRICED_H

#include <stdbool.h>
#include <stdint.h>

#include "bb/bb.h"
#include "common/clock.h"
#include "common/httpd.h"
#include "common/transport.h"

#define PRICED_MAX_SUBS BB_MAX_PRICES
#define PRICED_VERSION "nom-priced/0.1"

struct priced_config {
	char instance[BB_TENANT_MAX];
	char market[256];       /* tenant API endpoint */
	char prices[256];       /* price PUB endpoint */
	char tenant_key[512];   /* path of the tenant's .key */
	char market_key[512];   /* path of the market's .pub */
	char api[BB_ENDPOINT_MAX]; /* local API endpoint (ipc://) */
	char host[BB_NAME_MAX]; /* the host this instance runs on ("" = not known) */
	char cpuset[BB_PATH_MAX]; /* the instance's cpuset directory ("" = own affinity) */
	char memory_cgroup[BB_PATH_MAX]; /* its memory cgroup directory ("" = not known) */
	char netns[BB_PATH_MAX]; /* its network namespace: name or absolute path ("" = none) */
	char subscribe[1024];   /* e.g. "bandwidth/h1 memory/h1"; host "*" = all hosts */
	int board_mode;
	int api_mode;
	int64_t stale_after_ns; /* 0: 3 rounds, at least 1 s */
	int64_t ping_interval_ns;
	int64_t ping_timeout_ns;
	int64_t request_timeout_ns;
	int64_t retry_ns;
	struct httpd_config http; /* /metrics (docs/dashboards.md); read at start only */
};

struct priced_sub {
	uint32_t resource;
	char host[BB_NAME_MAX]; /* "*" = every host */
};

enum priced_session { SESSION_DOWN, SESSION_HELLO, SESSION_UP };

enum pending_kind {
	PEND_APP,        /* an app's request, answered to the app */
	PEND_HELLO,
	PEND_RESYNC,     /* a standing bid sent again after a reconnect */
	PEND_QUERY_BIDS,
	PEND_QUERY_HOLDINGS,
	PEND_QUERY_ACCOUNT, /* also the liveness ping */
};

struct priced_pending {
	struct priced_pending *next;
	uint64_t rid;
	enum pending_kind kind;
	int body_case;          /* what was asked (RAAS__ENVELOPE__BODY_*) */
	struct tp_route route;  /* PEND_APP: the app */
	uint64_t app_rid;
	char bid_id[BB_NAME_MAX]; /* bid / cancel */
	uint8_t *buf;           /* the encoded request, for resends */
	size_t len;
	bool sent;              /* went out on the current connection */
	int64_t deadline_mono;
	uint64_t notices_at_send; /* PEND_QUERY_ACCOUNT: notices received when it went out */
};

/* A standing bid as the market knows it: the packed Raas__Bid, for re-syncs. */
struct priced_bid {
	char bid_id[BB_NAME_MAX];
	uint8_t *packed;
	size_t len;
};

/* The latest profit an app of the instance reported (priced_profit.c). */
struct priced_profit {
	char app[WIRE_PROFIT_NAME_MAX + 1];
	int64_t profit_per_hour; /* nanodollars per hour */
	int64_t w_ns;            /* -1: none */
	int64_t measured_wall_ns;
};

struct priced {
	struct priced_config cfg;
	const struct clk *clk;

	void *zctx;
	void *dealer, *sub, *api;
	void *mon_dealer, *mon_sub;
	struct tp_keypair key;
	char market_public[TP_KEY_Z85_LEN + 1];
	char api_bound[BB_ENDPOINT_MAX];

	struct bb_writer *board;
	bool dirty;

	enum priced_session session;
	bool ever_up;
	int64_t session_up_mono;
	int64_t last_price_mono;  /* last subscribed price received */
	int64_t last_rx_mono;     /* last anything from the market's tenant API */
	uint64_t ping_rid;        /* outstanding liveness query, 0 when none */
	int64_t ping_sent_mono;
	int64_t hello_sent_mono;
	int64_t round_ns;
	int64_t cpus_checked_mono;
	uint64_t rid_base, rid_count;
	bool resubscribe;         /* recreate the SUB socket at the next session */
	bool account_stale;       /* the last account answer was overtaken by a notice */

	struct priced_pending *pending;
	struct priced_sub subs[PRICED_MAX_SUBS];
	int nsubs;
	struct priced_bid bids[BB_MAX_BIDS];
	int nbids;

	uint64_t app_requests, market_replies, prices_received, notices;

	struct httpd *http;       /* /metrics, or NULL (http_enabled = false) */
	int64_t started_mono;
	int64_t next_metrics_mono;
	uint32_t metrics_seq;     /* the board's sequence the last page was rendered at */

	struct priced_profit profits[WIRE_PROFIT_APPS_MAX];
	int nprofits;
};

/* priced_config.c */
/* Loads and checks the config (file, then overrides "section.key=value"). On error prints
 * FILE:LINE: KEY: message to stderr and returns -RAAS_ECONFIG. */
int priced_config_load(struct priced_config *out, const char *path, char **overrides,
		       int noverrides);
void priced_config_help(void);
/* Parses "resource/host" words separated by spaces or commas into subs. Returns the count,
 * or -RAAS_EPARSE with why naming the bad word. */
int priced_subs_parse(const char *text, struct priced_sub *subs, int max, char *why,
		      size_t why_len);

/* priced_cpus.c */
/* Parses a kernel CPU list ("0-3,8,10-11\n") into a mask of BB_CPU_WORDS words. Returns 0 or
 * -RAAS_EPARSE. */
int priced_cpulist_parse(const char *text, size_t len, uint64_t mask[BB_CPU_WORDS]);
/* The CPUs the instance may run on: the cpuset's effective CPUs when dir is not empty (v1
 * cpuset.effective_cpus, v2 cpuset.cpus.effective, else cpuset.cpus), else this process's
 * affinity. Returns 0 or -errno / -RAAS_EPARSE. */
int priced_cpus_available(const char *dir, uint64_t mask[BB_CPU_WORDS]);
/* The first n CPUs of avail into out; returns how many (fewer when avail has fewer). */
int priced_cpus_pick(const uint64_t avail[BB_CPU_WORDS], int64_t n, uint64_t out[BB_CPU_WORDS]);

/* priced_board.c */
void priced_board_on_price(struct priced *p, const Raas__PriceUpdate *u);
void priced_board_on_notice(struct priced *p, const Raas__AllocationNotice *n);
void priced_board_set_holdings(struct priced *p, Raas__Allocation **a, size_t n, uint64_t round);
/* Recomputes the CPUs of this host's cores holdings from the cpuset (timer and notices). */
void priced_board_update_cpus(struct priced *p);
void priced_board_set_market(struct priced *p, uint32_t state, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
void priced_board_set_bid(struct priced *p, const Raas__Bid *b, uint32_t state, int error,
			  uint64_t effective_round);
void priced_board_publish(struct priced *p);
bool priced_subscribed(const struct priced *p, uint32_t resource, const char *host);

/* priced_profit.c */
/* Checks an app's ProfitReport (one entry, within the bounds, room for a new app). */
bool priced_profit_check(const struct priced *p, const Raas__ProfitReport *r, char *why,
			 size_t len, int *code);
/* Keeps the app's entry and forwards the instance's whole report in its place. */
void priced_profit_forward(struct priced *p, const struct tp_route *route, Raas__Envelope *e);

/* priced_metrics.c */
/* Starts the HTTP side when configured: 0 or -errno / -RAAS_E* (logged). */
int priced_metrics_open(struct priced *p);
void priced_metrics_close(struct priced *p);
/* Renders /metrics into b. */
void priced_metrics_render(const struct priced *p, int64_t now_mono, struct sbuf *b);
/* Publishes a new page when the board changed or a staleness period passed. */
void priced_metrics_tick(struct priced *p);

/* priced_market.c */
int priced_market_open(struct priced *p);
void priced_market_close(struct priced *p);
/* Handles whatever the tenant DEALER, the SUB and the monitors have; non-blocking. */
void priced_market_on_dealer(struct priced *p);
void priced_market_on_sub(struct priced *p);
void priced_market_on_monitor(struct priced *p, void *mon);
/* Timers: stale detection, pings, resends, deadlines. */
void priced_market_tick(struct priced *p);
/* Queues (and sends when possible) an app's request, checked by the caller; borrows e (its
 * request id is restored before returning). */
void priced_market_forward(struct priced *p, const struct tp_route *route, Raas__Envelope *e);
/* Adds a subscription (from an app's bid or acquire) if new. */
void priced_market_subscribe(struct priced *p, uint32_t resource, const char *host);

/* priced_api.c */
int priced_api_open(struct priced *p);
void priced_api_close(struct priced *p);
void priced_api_on_readable(struct priced *p);
/* Answers an app with an error (code from raas.proto) and message. */
void priced_api_reply_error(struct priced *p, const struct tp_route *route, uint64_t rid,
			    int code, const char *fmt, ...) __attribute__((format(printf, 5, 6)));
void priced_api_reply(struct priced *p, const struct tp_route *route, uint64_t rid,
		      Raas__Envelope *reply);

/* priced_bids.c */
struct priced_bid *priced_bid_find(struct priced *p, const char *bid_id);
/* Bids named "acquire/..." are the market's records of acquires: listed, never re-sent. */
bool priced_bid_market_owned(const char *bid_id);
/* Stores (replaces) a standing bid. Returns 0, -ENOSPC or -ENOMEM. */
int priced_bid_store(struct priced *p, const Raas__Bid *b);
void priced_bid_forget(struct priced *p, const char *bid_id);
/* Makes the table and the board's bids match a WHAT_BIDS answer (the market's truth). */
void priced_bids_reconcile(struct priced *p, Raas__Bid **bids, size_t n);
void priced_bids_clear(struct priced *p);

/* priced.c */
int priced_check(const struct priced *p, char *why, size_t why_len);
uint64_t priced_next_rid(struct priced *p);

#endif
