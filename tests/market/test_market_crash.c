/* test_market_crash.c: kill -9 the market at random moments while clients keep retrying.
 *
 * Four tenants send a seeded random stream of requests (bids on two bid ids, cancels,
 * acquires and releases of cores at a posted price), one outstanding request each, resending
 * the same bytes (same request id) until answered. A killer SIGKILLs raas-marketd at seeded
 * random moments, restarts it on the same ports and, once it serves again, checks:
 *   - every ledger invariant (ledger_check: revenue = charges, rounds once and in order,
 *     supply, one standing version per bid, every holding charged once);
 *   - every acknowledged request is in the ledger with the very bytes the client got;
 *   - no acknowledged bid is lost: each bid id's standing version is the one the client's
 *     last acknowledged request made it (or, for a request still in flight, that one);
 *   - retries after a restart were answered from the ledger, not applied again.
 * The run goes on until at least 50 rounds and 12 kills are behind it (round_ms = 20). The
 * seed is MARKET_CRASH_SEED or fixed, and printed. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <zmq.h>

#include "common/clock.h"
#include "harness.h"
#include "test.h"

#define TENANTS 4
#define ROUND_MS 20
#define MIN_ROUNDS 50
#define MIN_KILLS 12
#define MAX_ACKED 20000
#define RETRY_MS 150

static struct harness h;

/* xorshift64*: a seeded generator of our own, so the run is the same on every libc. */
static uint64_t rng_state;

static uint64_t rnd(void)
{
	rng_state ^= rng_state >> 12;
	rng_state ^= rng_state << 25;
	rng_state ^= rng_state >> 27;
	return rng_state * UINT64_C(2685821657736338717);
}

static int64_t rnd_in(int64_t lo, int64_t hi)
{
	return lo + (int64_t)(rnd() % (uint64_t)(hi - lo + 1));
}

struct acked {
	int tenant;
	uint64_t rid;
	uint8_t *reply;
	size_t len;
};

/* What a tenant believes about its two bid ids. */
struct belief {
	bool standing;
	uint64_t rid; /* the request that made the standing version */
};

struct client {
	void *sock;
	int64_t tenant_id;
	uint64_t next_rid;
	/* The request in flight. */
	bool busy;
	uint64_t rid;
	uint8_t *buf;
	size_t len;
	int kind; /* body case */
	int bid;  /* 0 or 1 for bids and cancels of "x"/"y", -1 else */
	int64_t sent_ms;
	int sends;    /* times the request in flight was sent */
	struct belief belief[2];
	uint64_t answered, unavailable, answered_resent;
};

static struct client clients[TENANTS];
static struct acked *acked;
static size_t nacked;
static const char *const bid_ids[2] = {"x", "y"};

static void make_request(struct client *c)
{
	Raas__Envelope e;
	Raas__Bid bid = RAAS__BID__INIT;
	Raas__Cancel cancel = RAAS__CANCEL__INIT;
	Raas__Acquire acq = RAAS__ACQUIRE__INIT;
	Raas__Release rel = RAAS__RELEASE__INIT;
	int what = (int)rnd_in(0, 9);

	wire_envelope_init(&e, c->next_rid++);
	c->bid = -1;
	if (what < 6) {
		c->bid = (int)rnd_in(0, 1);
		bid.bid_id = (char *)bid_ids[c->bid];
		bid.resource = RAAS__RESOURCE__RESOURCE_BANDWIDTH;
		bid.host = "h1";
		bid.max_quantity = rnd_in(1, 60);
		bid.min_quantity = rnd_in(0, bid.max_quantity / 2);
		bid.unit_price = rnd_in(1, 100) * 1000000; /* $0.001 .. $0.10 per unit-hour */
		e.body_case = RAAS__ENVELOPE__BODY_BID;
		e.bid = &bid;
	} else if (what < 8) {
		c->bid = (int)rnd_in(0, 1);
		cancel.bid_id = (char *)bid_ids[c->bid];
		e.body_case = RAAS__ENVELOPE__BODY_CANCEL;
		e.cancel = &cancel;
	} else if (what < 9) {
		acq.resource = RAAS__RESOURCE__RESOURCE_CORES;
		acq.host = "h1";
		acq.quantity = rnd_in(1, 2);
		e.body_case = RAAS__ENVELOPE__BODY_ACQUIRE;
		e.acquire = &acq;
	} else {
		rel.resource = RAAS__RESOURCE__RESOURCE_CORES;
		rel.host = "h1";
		e.body_case = RAAS__ENVELOPE__BODY_RELEASE;
		e.release = &rel;
	}
	c->kind = (int)e.body_case;
	c->rid = e.request_id;
	ASSERT_OK(wire_encode(&e, &c->buf, &c->len));
	c->busy = true;
	c->sent_ms = 0;
	c->sends = 0;
}

/* Sends or resends the request in flight. */
static void send_request(struct client *c)
{
	/* EAGAIN while the market is down: ZMQ_IMMEDIATE keeps nothing queued; retry later. */
	if (zmq_send(c->sock, c->buf, c->len, ZMQ_DONTWAIT) >= 0)
		c->sends++;
	c->sent_ms = h_now_ms();
}

static void on_reply(struct client *c, int t, const uint8_t *raw, size_t len,
		     const Raas__Envelope *env)
{
	const Raas__Error *err = env->reply->error;

	if (err && err->code == RAAS__ERROR_CODE__ERROR_UNAVAILABLE) {
		c->unavailable++; /* not an answer: resend the same request */
		c->sent_ms = 0;
		return;
	}
	ASSERT_LT(nacked, MAX_ACKED);
	acked[nacked].tenant = t;
	acked[nacked].rid = c->rid;
	acked[nacked].reply = malloc(len);
	memcpy(acked[nacked].reply, raw, len);
	acked[nacked].len = len;
	nacked++;
	if (c->bid >= 0 && !err) {
		if (c->kind == RAAS__ENVELOPE__BODY_BID) {
			c->belief[c->bid].standing = true;
			c->belief[c->bid].rid = c->rid;
		} else {
			c->belief[c->bid].standing = false;
		}
	}
	if (c->bid >= 0 && err && c->kind == RAAS__ENVELOPE__BODY_CANCEL) {
		/* NOT_FOUND: the client's belief was already "not standing". */
		ASSERT_EQ(err->code, RAAS__ERROR_CODE__ERROR_NOT_FOUND);
		ASSERT_TRUE(!c->belief[c->bid].standing);
	}
	c->answered++;
	if (c->sends > 1)
		c->answered_resent++;
	free(c->buf);
	c->buf = NULL;
	c->busy = false;
}

/* Moves every client one step: new requests, resends, replies. */
static void pump(int timeout_ms)
{
	zmq_pollitem_t items[TENANTS];

	for (int t = 0; t < TENANTS; t++) {
		struct client *c = &clients[t];
		if (!c->busy)
			make_request(c);
		if (!c->sent_ms || h_now_ms() - c->sent_ms >= RETRY_MS)
			send_request(c);
		items[t] = (zmq_pollitem_t){.socket = c->sock, .events = ZMQ_POLLIN};
	}
	if (zmq_poll(items, TENANTS, timeout_ms) <= 0)
		return;
	for (int t = 0; t < TENANTS; t++) {
		struct client *c = &clients[t];
		for (;;) {
			zmq_msg_t m;
			zmq_msg_init(&m);
			if (zmq_msg_recv(&m, c->sock, ZMQ_DONTWAIT) < 0) {
				zmq_msg_close(&m);
				break;
			}
			Raas__Envelope *env;
			char why[256];
			if (wire_decode(zmq_msg_data(&m), zmq_msg_size(&m), WIRE_MAX_BYTES, &env, why,
					sizeof(why)) != 0)
				TEST_FAIL("tenant %d: undecodable message from the market: %s", t, why);
			if (env->body_case == RAAS__ENVELOPE__BODY_REPLY && c->busy &&
			    env->request_id == c->rid)
				on_reply(c, t, zmq_msg_data(&m), zmq_msg_size(&m), env);
			wire_free(env);
			zmq_msg_close(&m);
		}
	}
}

static void check_after_restart(int kill_no)
{
	struct ledger *l = h_ledger(&h);
	char why[LEDGER_WHY_MAX] = "";
	uint64_t rounds;
	int64_t end;

	if (ledger_check(l, why, sizeof(why)) != 0)
		TEST_FAIL("after kill %d: %s", kill_no, why);
	for (size_t i = 0; i < nacked; i++)
		if (ledger_check_request(l, clients[acked[i].tenant].tenant_id, acked[i].rid,
					 acked[i].reply, acked[i].len, why, sizeof(why)) != 0)
			TEST_FAIL("after kill %d: %s", kill_no, why);
	for (int t = 0; t < TENANTS; t++) {
		struct client *c = &clients[t];
		for (int b = 0; b < 2; b++) {
			struct ledger_bid bid;
			int err = ledger_bid_standing(l, c->tenant_id, bid_ids[b], &bid);
			bool in_flight = c->busy && c->bid == b;
			if (c->belief[b].standing) {
				if (err == 0 && bid.request_id == c->belief[b].rid)
					continue;
			} else if (err == -ENOENT) {
				continue;
			}
			/* The request in flight may have been applied before the kill. */
			if (in_flight && c->kind == RAAS__ENVELOPE__BODY_BID && err == 0 &&
			    bid.request_id == c->rid)
				continue;
			if (in_flight && c->kind == RAAS__ENVELOPE__BODY_CANCEL && err == -ENOENT)
				continue;
			TEST_FAIL("after kill %d: tenant %s bid %s: the client holds %s (request "
				  "%llu), the ledger %s (request %llu)",
				  kill_no, h.tenants[t].name, bid_ids[b],
				  c->belief[b].standing ? "a standing bid" : "no bid",
				  (unsigned long long)c->belief[b].rid,
				  err == 0 ? "a standing bid" : "none",
				  (unsigned long long)(err == 0 ? bid.request_id : 0));
		}
	}
	ASSERT_OK(ledger_last_round(l, &rounds, &end));
	ledger_close(l);
}

int main(void)
{
	const char *seed_text = getenv("MARKET_CRASH_SEED");
	uint64_t seed = seed_text ? strtoull(seed_text, NULL, 10) : 20261123;
	int kills = 0;
	uint64_t rounds = 0;

	rng_state = seed ? seed : 1;
	printf("test_market_crash: seed %llu (MARKET_CRASH_SEED to repeat)\n",
	       (unsigned long long)seed);
	acked = calloc(MAX_ACKED, sizeof(*acked));
	h_init(&h, "crash", ROUND_MS,
	       "[pool.bw]\nhost = h1\nresource = bandwidth\nsupply = 100\nmodel = uniform\n"
	       "params = reserve=$0.005\n"
	       "[pool.cores]\nhost = h1\nresource = cores\nsupply = 8\nmodel = fixed\n"
	       "params = price=$0.02\n");
	static const char *const names[TENANTS] = {"alice", "bob", "carol", "dave"};
	for (int t = 0; t < TENANTS; t++)
		h_add_tenant(&h, names[t], -1);
	h_start(&h);
	{
		struct ledger *l = h_ledger(&h);
		for (int t = 0; t < TENANTS; t++) {
			struct ledger_tenant row;
			ASSERT_OK(ledger_tenant_by_name(l, names[t], &row));
			clients[t].tenant_id = row.id;
			clients[t].next_rid = 1 + (uint64_t)t * 1000000;
		}
		ledger_close(l);
	}
	for (int t = 0; t < TENANTS; t++)
		clients[t].sock = h_dealer(&h, t);

	int64_t started = h_now_ms();
	while (kills < MIN_KILLS || rounds < MIN_ROUNDS) {
		if (h_now_ms() - started > 100000)
			TEST_FAIL("only %d kills and %llu rounds in 100 s", kills,
				  (unsigned long long)rounds);
		/* Run for a random while, then kill -9 at a random moment. */
		int64_t until = h_now_ms() + rnd_in(20, 400);
		while (h_now_ms() < until)
			pump(5);
		h_stop(&h, true);
		kills++;
		/* The clients keep retrying while the market is down. */
		until = h_now_ms() + rnd_in(0, 100);
		while (h_now_ms() < until)
			pump(5);
		h_start(&h);
		check_after_restart(kills);
		struct ledger *l = h_ledger(&h);
		ASSERT_OK(ledger_last_round(l, &rounds, NULL));
		ledger_close(l);
	}
	/* Let every client get its last answer, then stop cleanly and check once more. */
	int64_t deadline = h_now_ms() + 10000;
	for (;;) {
		bool idle = true;
		pump(5);
		for (int t = 0; t < TENANTS; t++)
			idle = idle && clients[t].answered > 0;
		if (idle || h_now_ms() > deadline)
			break;
	}
	h_stop(&h, false);
	check_after_restart(kills + 1);

	uint64_t answered = 0, unavailable = 0, resent = 0;
	for (int t = 0; t < TENANTS; t++) {
		answered += clients[t].answered;
		unavailable += clients[t].unavailable;
		resent += clients[t].answered_resent;
		tp_close(clients[t].sock);
	}
	printf("test_market_crash: %d kills, %llu rounds, %zu acknowledged requests checked, "
	       "%llu answers (%llu after resending), %llu 'unavailable' retried\n",
	       kills, (unsigned long long)rounds, nacked, (unsigned long long)answered,
	       (unsigned long long)resent, (unsigned long long)unavailable);
	/* Requests really crossed kills: some were answered only after being resent. */
	ASSERT_GT(resent, 0);
	ASSERT_GE(rounds, MIN_ROUNDS);
	ASSERT_GE(nacked, 50);
	for (size_t i = 0; i < nacked; i++)
		free(acked[i].reply);
	free(acked);
	printf("test_market_crash: ok\n");
	return 0;
}
