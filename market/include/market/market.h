/* market.h: the market's core: tenants, hosts, pools, standing bids and rounds, without
 * sockets.
 *
 * raas-marketd (market/src/marketd.c) owns the sockets and the clock of rounds; this core
 * owns what they carry: it answers each request, clears each round through the pricing
 * models (pm_clear, the same wrappers raas-sim calls), writes the ledger and says what must be
 * sent. Everything it wants sent goes into an outbox (struct market_outbox) that the daemon
 * sends only after the ledger committed: that ordering is the whole of "persist before reply,
 * persist before publish". The fuzz target and the unit tests drive the same core directly.
 *
 * Design notes
 *   States of a round: OPEN (requests accepted take effect in this round's clearing; their
 *   ledger rows carry first_round = the open round) -> CLOSING (market_round_close: gather the
 *   standing bids in force, clear every pool, compute charges, write the round in one
 *   transaction) -> CLOSED (in-memory state advanced, outbox filled with prices, allocation
 *   sets and notices; the next round is OPEN). A failed ledger write leaves the round OPEN and
 *   nothing announced; the daemon retries at the next tick.
 *   Requests are handled in batches (market_batch_begin .. market_batch_end): one ledger
 *   transaction per batch. If the commit fails, the in-memory state is reloaded from the
 *   ledger and every reply of the batch becomes ERROR_UNAVAILABLE (retry): nothing that was
 *   not persisted is ever acknowledged.
 *
 *   Invariants (market_check):
 *   1. Every standing bid in memory is the ledger's standing version, and vice versa.
 *   2. Holdings are the last round's allocations: per pool they sum to its allocated total
 *      (which the ledger keeps within supply), and none is empty.
 *   3. Each tenant's charged total in memory equals the ledger's.
 *   4. The open round is the ledger's last round + 1.
 *
 * Identity: requests arrive with the ZAP identity of their sender ("tenant:NAME" on the
 * tenant API, "host:NAME" on the host API); nothing in a message can change who is acting. */
#ifndef MARKET_MARKET_H
#define MARKET_MARKET_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "common/clock.h"
#include "common/transport.h"
#include "common/wire.h"
#include "market/ledger.h"
#include "market/market_config.h"

#define MARKET_SERVER_NAME "raas-marketd/0.1"
/* Standing bids one tenant may have. */
#define MARKET_TENANT_BIDS_MAX 256
/* Connections of one tenant that receive allocation notices (latest Hellos win). */
#define MARKET_TENANT_ROUTES_MAX 8
/* Largest quantity and unit price a bid may name (keeps every product within int64). */
#define MARKET_QUANTITY_MAX INT64_C(1000000000000)
#define MARKET_PRICE_MAX INT64_C(1000000000000000)

enum market_dest {
	MARKET_TO_TENANT, /* route on the tenant socket */
	MARKET_TO_HOST,   /* route on the host socket */
	MARKET_PUBLISH,   /* topic on the price socket */
};

/* One message to send: encoded envelope bytes (owned by the outbox). */
struct market_msg {
	enum market_dest dest;
	struct tp_route route;
	char topic[TP_TOPIC_MAX];
	uint8_t *buf;
	size_t len;
	uint64_t request_id;     /* replies: the request's id, else 0 */
	bool is_reply;           /* a reply to a request of the current batch */
	int64_t tenant;          /* notices: the tenant (a failed send prunes its route) */
};

struct market_outbox {
	struct market_msg *v;
	size_t n, cap;
};

void market_outbox_init(struct market_outbox *o);
/* Frees every message and empties the outbox (keeps its memory). */
void market_outbox_clear(struct market_outbox *o);
void market_outbox_fini(struct market_outbox *o);

/* Counters for logs and the benchmark. */
struct market_stats {
	uint64_t requests;       /* requests answered */
	uint64_t retries;        /* requests answered from the ledger (already applied) */
	uint64_t unchanged_bids; /* bids re-sent with their standing terms: no new version */
	uint64_t errors;         /* requests answered with an error */
	uint64_t batches_failed;
	uint64_t rounds;
	uint64_t rounds_failed;
	int64_t last_close_ns;   /* how long the last round close took (clear + write) */
	int64_t last_clear_ns;   /* of which clearing */
	int64_t last_write_ns;   /* of which the ledger transaction */
	uint64_t last_bids;      /* bids that took part in the last round */
	uint64_t last_allocs;    /* allocations it made */
	money_t last_revenue;    /* its revenue (charges less credits) */
	uint64_t last_credits;   /* credits it wrote (allocations not in force) */
	money_t last_credited;   /* their sum */
	uint64_t pending;        /* (round, host) pairs waiting to be settled */
};

/* Where the main thread's CPU goes, per stage, summed since start (raas-bench-market and the
 * stats_file). Reading a thread's CPU clock is a system call, too dear per message, so stages
 * are timed with the monotonic clock (vDSO) and the daemon brackets each of its passes (a
 * batch of requests, a round close) with market_prof_begin/end, which read the thread's CPU
 * clock once each and scale the pass's stage times by CPU / monotonic time: what the thread
 * waited for a CPU on a busy machine is taken out. Ledger commits are timed on the CPU clock
 * itself, and what they spent off the CPU (fsync) goes to MARKET_ST_WAIT, which is not CPU.
 * n counts what the stage handled: messages for recv, decode, check and send; bids for
 * clear; rounds for bill; statements and commits for ledger; messages encoded for encode. */
enum market_stage {
	MARKET_ST_RECV,   /* zmq_msg_recv (decryption itself is in ZeroMQ's I/O thread) */
	MARKET_ST_DECODE, /* wire_decode of requests */
	MARKET_ST_CHECK,  /* handling a request, less its ledger statements and encoding */
	MARKET_ST_LEDGER, /* SQLite: request statements, batch commits, round writes, checkpoints */
	MARKET_ST_CLEAR,  /* gathering the bids in force and pm_clear */
	MARKET_ST_BILL,   /* charges, egress, settlements, then memory following the ledger */
	MARKET_ST_ENCODE, /* encoding replies, price updates, allocation sets and notices */
	MARKET_ST_SEND,   /* zmq_send of the outbox (encryption is in the I/O thread) */
	MARKET_ST_WAIT,   /* not CPU: ledger commits waiting for the disk (fsync) */
	MARKET_STAGES
};

struct market_prof {
	int64_t ns[MARKET_STAGES];
	uint64_t n[MARKET_STAGES];
	/* The pass under way (market_prof_begin): monotonic stage times not yet scaled, and
	 * the times measured on the CPU clock already (commits), to leave out of the scale. */
	int64_t pass_ns[MARKET_STAGES];
	int64_t pass_cpu0, pass_mono0, pass_direct_cpu, pass_direct_mono;
	bool in_pass;
};

/* Starts and ends a pass of the main thread (see above). Outside a pass, stage times are
 * added unscaled. */
void market_prof_begin(struct market_prof *p);
void market_prof_end(struct market_prof *p);
/* Adds the monotonic time since *t0 to stage st (n things) and moves *t0 to now. */
void market_prof_add(struct market_prof *p, enum market_stage st, int64_t *t0, uint64_t n);
/* Adds ns (monotonic) to stage st, as market_prof_add does. */
void market_prof_add_ns(struct market_prof *p, enum market_stage st, int64_t ns, uint64_t n);
/* Stage st's time so far, the pass under way included (unscaled). */
int64_t market_prof_stage_ns(const struct market_prof *p, enum market_stage st);
/* A span timed on the thread's CPU clock (a commit): start fills t[2], stop adds its CPU to
 * stage st and its time off the CPU to MARKET_ST_WAIT. */
void market_prof_cpu_start(int64_t t[2]);
void market_prof_cpu_stop(struct market_prof *p, enum market_stage st, const int64_t t[2]);

/* The stage's name in the stats file and the benchmark ("recv", "decode", ...). */
const char *market_stage_name(int stage);

struct market;

/* Creates the core over an open ledger (borrowed; the caller closes it after destroying the
 * market) and cfg (borrowed, must outlive the market), with clock (borrowed) for wall times.
 * Declares the config's pools in the ledger and loads the registry, standing bids, the last
 * round and the meters. On failure returns a negative errno or project error with why. */
int market_create(const struct market_config *cfg, struct ledger *ledger,
		  const struct clk *clock, struct market **out, char *why, size_t why_len);
void market_destroy(struct market *m);
/* Moves the market to cfg (borrowed, must outlive the market; the old one may go once this
 * returned 0): declares its pools, moves registered pools to its models, and reloads the
 * state from the ledger (the registry re-read with it). Keys that cannot change while the
 * market runs (endpoints, ledger, key_dir, round_ms, sync, seed) must be equal: -EINVAL with
 * why naming the first that is not. Outside a batch. */
int market_reconfigure(struct market *m, const struct market_config *cfg, char *why,
		       size_t why_len);

/* ZAP lookup (tp_zap_lookup_fn): domain "tenant" admits tenants' keys, "host" hosts' keys,
 * "prices" both; the identity is "tenant:NAME" or "host:NAME". Keys added to the ledger by
 * the CLI while the market runs are found on first use. */
int market_identify(void *market, const char *domain, const char *public_key, char *identity,
		    size_t id_len);

/* Starts a batch of requests (one ledger transaction). */
int market_batch_begin(struct market *m);
/* Commits the batch. On failure reloads the state from the ledger and rewrites every reply
 * this batch put into out as ERROR_UNAVAILABLE; returns the error. */
int market_batch_end(struct market *m, struct market_outbox *out);

/* Handles one decoded request from the tenant API (inside a batch). identity is the ZAP
 * identity of the sender; route where to answer. Borrows env. The reply goes into out. */
void market_tenant_request(struct market *m, const char *identity, const struct tp_route *route,
			   const Raas__Envelope *env, struct market_outbox *out);
/* The same for the host API. */
void market_host_request(struct market *m, const char *identity, const struct tp_route *route,
			 const Raas__Envelope *env, struct market_outbox *out);
/* Answers a message that did not decode (err from tp_recv, why its text) with an error;
 * -EBUSY (the ledger could not start a batch) is answered ERROR_UNAVAILABLE (retry). */
void market_bad_request(struct market *m, enum market_dest dest, const char *identity,
			const struct tp_route *route, int err, const char *why,
			struct market_outbox *out);

/* Closes the open round at wall time now (clk wall): clears every pool, writes the round,
 * then fills out with price updates (first), allocation sets and notices. Must not be inside
 * a batch. On failure nothing is announced and the round stays open. */
int market_round_close(struct market *m, struct market_outbox *out);

/* Tells the core that sending a notice to a tenant's route failed (gone peer): the route is
 * forgotten. */
void market_route_gone(struct market *m, int64_t tenant, const struct tp_route *route);

/* The open round, the wall time the next round is announced to close, the round length. */
uint64_t market_open_round(const struct market *m);
void market_set_next_close(struct market *m, int64_t wall_ns);
void market_get_stats(const struct market *m, struct market_stats *out);
/* The core's stage times; the daemon adds its own stages (recv, decode, send, checkpoints) to
 * the same record. Borrowed: valid until market_destroy. */
struct market_prof *market_prof(struct market *m);
/* Writes prof as text ("stage ns n" lines after "rounds R", then "sqlite_memory BYTES 0": what
 * SQLite holds, ledger_memory_used) to path, through a temporary file renamed over it, so
 * that a reader never sees half of it. 0 or a negative errno. */
int market_prof_write(const struct market_prof *prof, uint64_t rounds, const char *path);

/* A pool's model, generator, seed per round and time line come from pricing-models'
 * pm_pool_setup (pricing/pool.h), the one setup raas-sim uses too: round r's generator is
 * seeded with pm_pool_seed(seed, host, resource name, r) and now_ns = (r - 1) x round_ns. */

/* Checks the invariants above against the ledger; 0 or -EPROTO with why. */
int market_check(struct market *m, char *why, size_t why_len);

#endif
