/* test_market_crash.c: kill -9 the market at random moments while clients keep retrying and
 * a real host agent keeps enforcing, metering and acknowledging.
 *
 * Four tenants (two unlimited, one with a budget that never binds, one with a budget that
 * does) send a seeded random stream of requests (bids on two bid ids, cancels, acquires and
 * releases of cores at a posted price), one outstanding request each, resending the same
 * bytes (same request id) until answered. The pools are a real raas-hostagentd's (host h1,
 * fake backend: 8 cores, 100 Mbit/s), which applies each round's allocation set,
 * acknowledges it and sends meters, so that egress is billed ([resource.egress], fixed
 * price) and rounds are settled by the host's word. The agent lives through every kill of
 * the market and registers again. A killer SIGKILLs raas-marketd at seeded random moments,
 * alternating the ledger's sync setting between `full` (the default) and `normal` from one
 * market process to the next, restarts it on the same ports and, once it serves again,
 * checks:
 *   - every ledger invariant (ledger_check: revenue = charges, rounds once and in order,
 *     supply, one standing version per bid, every holding charged once, enforcement);
 *   - every acknowledged request is in the ledger with the very bytes the client got;
 *   - no acknowledged bid is lost: each bid id's standing version is the one the client's
 *     last acknowledged request made it (or, for a request still in flight, that one);
 *   - holdings: each tenant's standing acquire holds what its last acknowledged acquire or
 *     release says (or the request in flight's outcome);
 *   - money: a budgeted tenant's holdings charged, less credits, never exceed its budget;
 *     egress is billed at the posted price, each (host, tenant)'s billed bytes never exceed
 *     the last reading the market recorded (no reading billed twice across a kill);
 *   - retries after a restart were answered from the ledger, not applied again.
 * Kills: MARKET_CRASH_KILLS at each sync setting (default 12, 24 in all; .ci/run's longer
 * mode sets 50, 100 in all), and at least 50 rounds (round_ms = 20). Acknowledged answers
 * are checked in full every 10 kills and at the end, else those since the last check. The seed is MARKET_CRASH_SEED or
 * fixed, and printed. */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <sqlite3.h>
#include <sys/prctl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>
#include <zmq.h>

#include "common/clock.h"
#include "common/money.h"
#include "harness.h"
#include "test.h"

#define TENANTS 4
#define ROUND_MS 20
#define MIN_ROUNDS 50
#define DEFAULT_KILLS 12 /* at each sync setting */
#define RETRY_MS 150
#define EGRESS_PRICE 50000000 /* $0.05 per Gbit */
#define BYTES_PER_GBIT INT64_C(125000000)
#define CORES_ID "acquire/cores/h1"

static struct harness h;
static pid_t agent = -1;
static char agent_conf[400], agent_log[400];
static const money_t budgets[4] = {-1, -1, 100 * MONEY_PER_DOLLAR, MONEY_PER_DOLLAR / 2};

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
	struct belief cores; /* its standing acquire of cores on h1 */
	int64_t cores_held;  /* what that acquire holds (0: none) */
	uint64_t answered, unavailable, answered_resent, acquired, released;
};

static struct client clients[TENANTS];
static struct acked *acked;
static size_t nacked, capacked;
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
	if (nacked == capacked) {
		capacked = capacked ? 2 * capacked : 4096;
		acked = realloc(acked, capacked * sizeof(*acked));
		ASSERT_TRUE(acked != NULL);
	}
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
	if (c->kind == RAAS__ENVELOPE__BODY_ACQUIRE && !err) {
		const Raas__Allocation *got = env->reply->acquired;
		ASSERT_TRUE(got != NULL);
		/* An acquire adds to what the tenant's acquire holds. */
		ASSERT_GT(got->quantity, c->cores_held);
		c->cores.standing = true;
		c->cores.rid = c->rid;
		c->cores_held = got->quantity;
		c->acquired++;
	}
	if (c->kind == RAAS__ENVELOPE__BODY_RELEASE) {
		if (err) {
			ASSERT_EQ(err->code, RAAS__ERROR_CODE__ERROR_NOT_FOUND);
			ASSERT_TRUE(!c->cores.standing);
		} else {
			c->cores.standing = false;
			c->cores_held = 0;
			c->released++;
		}
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

/* ---- The host agent ---- */

static void start_agent(void)
{
	char bin[512], keys[300];
	const char *dir = getenv("RAAS_BIN");
	FILE *f;

	snprintf(bin, sizeof(bin), "%s/raas-hostagentd", dir ? dir : RAAS_BIN_DIR);
	if (access(bin, X_OK) != 0)
		TEST_FAIL("%s is not built", bin);
	snprintf(keys, sizeof(keys), "%s/keys", h.dir);
	ASSERT_OK(tp_key_save(keys, "h1", &h.hosts[0].key, true));
	snprintf(agent_conf, sizeof(agent_conf), "%s/h1.ini", h.dir);
	snprintf(agent_log, sizeof(agent_log), "%s/h1.log", h.dir);
	ASSERT_TRUE((f = fopen(agent_conf, "w")) != NULL);
	fprintf(f,
		"[agent]\nhost = h1\nmarket = %s\nmarket_public_key = %s/market.pub\n"
		"key = %s/h1.key\nheartbeat = 100ms\nmarket_timeout = 500ms\n"
		"reconnect_min = 20ms\nreconnect_max = 100ms\nmeter_interval = 100ms\n"
		"round_log = 10s\n"
		"[capacity]\ncores = 8\nbandwidth_mbit = 100\n"
		"[backends]\ncores = fake\nbandwidth = fake\n"
		"[fake]\nresources = cores,bandwidth\nstate_file = %s/h1.state\n",
		h.host_ep, keys, keys, h.dir);
	for (int t = 0; t < TENANTS; t++)
		fprintf(f, "[tenant.%s]\n", h.tenants[t].name);
	fclose(f);
	agent = fork();
	ASSERT_TRUE(agent >= 0);
	if (agent == 0) {
		int fd = open(agent_log, O_WRONLY | O_CREAT | O_APPEND, 0644);
		if (fd >= 0)
			dup2(fd, 2);
		prctl(PR_SET_PDEATHSIG, SIGKILL); /* a failed or timed-out test leaves no agent */
		execl(bin, bin, "-c", agent_conf, (char *)NULL);
		_exit(127);
	}
}

static void stop_agent(void)
{
	if (agent > 0) {
		kill(agent, SIGKILL);
		waitpid(agent, NULL, 0);
		agent = -1;
	}
}

static void expect_agent_alive(const char *when)
{
	int st;
	if (waitpid(agent, &st, WNOHANG) != 0) {
		agent = -1;
		char cmd[500];
		snprintf(cmd, sizeof(cmd), "tail -20 '%s' >&2", agent_log);
		if (system(cmd) != 0)
			fprintf(stderr, "(no agent log)\n");
		TEST_FAIL("%s: raas-hostagentd exited (status %d)", when, st);
	}
}

/* ---- Money, from the ledger's rows ---- */

static int64_t sql_int(sqlite3 *db, const char *sql, int64_t p1)
{
	sqlite3_stmt *s;
	int64_t v = 0;

	if (sqlite3_prepare_v2(db, sql, -1, &s, NULL) != SQLITE_OK)
		TEST_FAIL("%s: %s", sql, sqlite3_errmsg(db));
	if (sqlite3_bind_parameter_count(s) > 0)
		sqlite3_bind_int64(s, 1, p1);
	if (sqlite3_step(s) == SQLITE_ROW)
		v = sqlite3_column_int64(s, 0);
	sqlite3_finalize(s);
	return v;
}

struct money_seen {
	int64_t egress_rows, egress_bytes, egress_amount, acks, credits;
	money_t held_charged[TENANTS];
};

/* Budgets bound holdings; egress is billed at the posted price, no byte of a reading twice. */
static void check_money(int kill_no, struct money_seen *seen)
{
	sqlite3 *db;
	sqlite3_stmt *s;

	if (sqlite3_open_v2(h.ledger, &db, SQLITE_OPEN_READONLY, NULL) != SQLITE_OK)
		TEST_FAIL("after kill %d: cannot open %s", kill_no, h.ledger);
	sqlite3_busy_timeout(db, 5000);
	ASSERT_EQ(sqlite3_exec(db, "BEGIN", NULL, NULL, NULL), SQLITE_OK);
	for (int t = 0; t < TENANTS; t++) {
		int64_t id = clients[t].tenant_id;
		money_t held = sql_int(db, "SELECT COALESCE(SUM(charge), 0) FROM allocations "
					   "WHERE tenant = ?1", id);
		money_t credited = sql_int(db, "SELECT COALESCE(SUM(amount), 0) FROM credits "
					       "WHERE tenant = ?1", id);
		seen->held_charged[t] = held - credited;
		if (budgets[t] >= 0 && held - credited > budgets[t])
			TEST_FAIL("after kill %d: %s holds %lld nd charged less credits, over its "
				  "budget %lld", kill_no, h.tenants[t].name,
				  (long long)(held - credited), (long long)budgets[t]);
		int64_t billed = sql_int(db, "SELECT COALESCE(SUM(bytes), 0) FROM egress "
					     "WHERE tenant = ?1", id);
		int64_t reading = sql_int(db, "SELECT COALESCE(MAX(tx_bytes), 0) FROM meters "
					      "WHERE tenant = ?1", id);
		if (billed > reading)
			TEST_FAIL("after kill %d: %s billed for %lld egress bytes, its meter reads "
				  "%lld: a reading was billed twice", kill_no, h.tenants[t].name,
				  (long long)billed, (long long)reading);
	}
	ASSERT_EQ(sqlite3_prepare_v2(db, "SELECT round, tenant, bytes, amount FROM egress", -1,
				     &s, NULL),
		  SQLITE_OK);
	seen->egress_rows = seen->egress_bytes = seen->egress_amount = 0;
	while (sqlite3_step(s) == SQLITE_ROW) {
		int64_t bytes = sqlite3_column_int64(s, 2);
		money_t amount = sqlite3_column_int64(s, 3), want;
		ASSERT_OK(money_muldiv(EGRESS_PRICE, bytes, BYTES_PER_GBIT, MONEY_ROUND_NEAREST,
				       &want));
		if (bytes <= 0 || amount != want)
			TEST_FAIL("after kill %d: round %lld tenant %lld: %lld egress bytes billed "
				  "%lld nd, at the posted price %lld nd", kill_no,
				  (long long)sqlite3_column_int64(s, 0),
				  (long long)sqlite3_column_int64(s, 1), (long long)bytes,
				  (long long)amount, (long long)want);
		seen->egress_rows++;
		seen->egress_bytes += bytes;
		seen->egress_amount += amount;
	}
	sqlite3_finalize(s);
	seen->acks = sql_int(db, "SELECT COUNT(*) FROM host_acks WHERE kind = ?1", 0);
	seen->credits = sql_int(db, "SELECT COUNT(*) FROM credits", 0);
	sqlite3_exec(db, "COMMIT", NULL, NULL, NULL);
	sqlite3_close(db);
}

/* Acknowledged answers are all checked every FULL_EVERY kills and at the end; in between,
 * those since the last check and the OVERLAP before them (a long run stays linear). */
#define FULL_EVERY 10
#define OVERLAP 2000
static size_t checked_upto;

static void check_after_restart(int kill_no, bool full, struct money_seen *seen)
{
	struct ledger *l = h_ledger(&h);
	char why[LEDGER_WHY_MAX] = "";
	uint64_t rounds;
	int64_t end;
	size_t from = full || checked_upto < OVERLAP ? 0 : checked_upto - OVERLAP;

	if (ledger_check(l, why, sizeof(why)) != 0)
		TEST_FAIL("after kill %d: %s", kill_no, why);
	checked_upto = nacked;
	for (size_t i = from; i < nacked; i++)
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
		/* Holdings: the standing acquire is what the last answer said. */
		struct ledger_bid acq;
		int err = ledger_bid_standing(l, c->tenant_id, CORES_ID, &acq);
		if (err != 0 && err != -ENOENT)
			TEST_FAIL("after kill %d: %s: %s", kill_no, CORES_ID, strerror(-err));
		if (c->cores.standing && err == 0 && acq.request_id == c->cores.rid &&
		    acq.max_quantity == c->cores_held && acq.kind == LEDGER_ACQUIRE)
			continue;
		if (!c->cores.standing && err == -ENOENT)
			continue;
		bool in_flight = c->busy && (c->kind == RAAS__ENVELOPE__BODY_ACQUIRE ||
					     c->kind == RAAS__ENVELOPE__BODY_RELEASE);
		if (in_flight && c->kind == RAAS__ENVELOPE__BODY_ACQUIRE && err == 0 &&
		    acq.request_id == c->rid && acq.max_quantity > c->cores_held)
			continue;
		if (in_flight && c->kind == RAAS__ENVELOPE__BODY_RELEASE && err == -ENOENT)
			continue;
		TEST_FAIL("after kill %d: tenant %s: the client holds %lld cores (request %llu), "
			  "the ledger's acquire %lld (request %llu)",
			  kill_no, h.tenants[t].name, (long long)c->cores_held,
			  (unsigned long long)c->cores.rid,
			  (long long)(err == 0 ? acq.max_quantity : 0),
			  (unsigned long long)(err == 0 ? acq.request_id : 0));
	}
	ASSERT_OK(ledger_last_round(l, &rounds, &end));
	ledger_close(l);
	check_money(kill_no, seen);
}

/* The host agent's first acknowledgement: its pools exist and it applies. */
static void wait_agent_acks(void)
{
	int64_t deadline = h_now_ms() + 20000;
	struct money_seen seen;

	for (;;) {
		memset(&seen, 0, sizeof(seen));
		check_money(0, &seen);
		if (seen.acks > 0)
			return;
		expect_agent_alive("starting");
		if (h_now_ms() > deadline)
			TEST_FAIL("the host agent did not acknowledge a round within 20 s");
		pump(20);
	}
}

int main(void)
{
	const char *seed_text = getenv("MARKET_CRASH_SEED");
	const char *kills_text = getenv("MARKET_CRASH_KILLS");
	uint64_t seed = seed_text ? strtoull(seed_text, NULL, 10) : 20261123;
	int want = kills_text ? atoi(kills_text) : DEFAULT_KILLS;
	int kills = 0, kills_at[2] = {0, 0}; /* [0] full, [1] normal */
	static const char *const sync_name[2] = {"full", "normal"};
	uint64_t rounds = 0;
	struct money_seen seen;

	if (want < 1 || want > 10000)
		TEST_FAIL("MARKET_CRASH_KILLS: %s is not within 1..10000", kills_text);
	rng_state = seed ? seed : 1;
	printf("test_market_crash: seed %llu (MARKET_CRASH_SEED to repeat), %d kills at each "
	       "sync setting (MARKET_CRASH_KILLS)\n", (unsigned long long)seed, want);
	h_init(&h, "crash", ROUND_MS,
	       "ack_timeout = 500ms\n"
	       "[resource.bandwidth]\nmodel = uniform\nparams = reserve=$0.005\n"
	       "[resource.cores]\nmodel = fixed\nparams = price=$0.02\n"
	       "[resource.egress]\nmodel = fixed\nparams = price=$0.05\n");
	static const char *const names[TENANTS] = {"alice", "bob", "carol", "dave"};
	for (int t = 0; t < TENANTS; t++)
		h_add_tenant(&h, names[t], budgets[t]);
	h_add_host(&h, "h1");
	atexit(stop_agent); /* before the harness's own cleanup (atexit runs in reverse) */
	snprintf(h.sync, sizeof(h.sync), "%s", sync_name[0]);
	h_start(&h);
	start_agent();
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
	wait_agent_acks();

	int64_t started = h_now_ms();
	int64_t limit_ms = 30000 + (int64_t)want * 2 * 2000;
	int instance = 0; /* market processes started after the first: sync alternates */
	while (kills_at[0] < want || kills_at[1] < want || rounds < MIN_ROUNDS) {
		if (h_now_ms() - started > limit_ms)
			TEST_FAIL("only %d + %d kills and %llu rounds in %lld s", kills_at[0],
				  kills_at[1], (unsigned long long)rounds,
				  (long long)(limit_ms / 1000));
		/* Run for a random while, then kill -9 at a random moment. */
		int64_t until = h_now_ms() + rnd_in(20, 400);
		while (h_now_ms() < until)
			pump(5);
		h_stop(&h, true);
		kills++;
		kills_at[instance % 2]++;
		/* The clients keep retrying, the agent keeps enforcing, while the market is down. */
		until = h_now_ms() + rnd_in(0, 100);
		while (h_now_ms() < until)
			pump(5);
		instance++;
		snprintf(h.sync, sizeof(h.sync), "%s", sync_name[instance % 2]);
		h_start(&h);
		check_after_restart(kills, kills % FULL_EVERY == 0, &seen);
		expect_agent_alive("after a kill of the market");
		struct ledger *l = h_ledger(&h);
		ASSERT_OK(ledger_last_round(l, &rounds, NULL));
		ledger_close(l);
	}
	int64_t killing_ms = h_now_ms() - started;
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
	expect_agent_alive("at the end");
	stop_agent();
	check_after_restart(kills + 1, true, &seen);

	uint64_t answered = 0, unavailable = 0, resent = 0, acquired = 0, released = 0;
	for (int t = 0; t < TENANTS; t++) {
		answered += clients[t].answered;
		unavailable += clients[t].unavailable;
		resent += clients[t].answered_resent;
		acquired += clients[t].acquired;
		released += clients[t].released;
		tp_close(clients[t].sock);
	}
	printf("test_market_crash: %d kills (%d at sync = full, %d at sync = normal) in %.1f s, "
	       "%llu rounds, %zu acknowledged requests checked (all every 10 kills), %llu answers "
	       "(%llu after resending), %llu 'unavailable' retried, %llu acquires and %llu "
	       "releases\n",
	       kills, kills_at[0], kills_at[1], (double)killing_ms / 1000.0,
	       (unsigned long long)rounds, nacked, (unsigned long long)answered,
	       (unsigned long long)resent, (unsigned long long)unavailable,
	       (unsigned long long)acquired, (unsigned long long)released);
	printf("test_market_crash: money: %lld host acks, %lld credits, %lld egress rows billed "
	       "(%lld bytes, %lld nd); holdings charged less credits: alice %lld, bob %lld, "
	       "carol %lld (budget %lld), dave %lld (budget %lld) nd\n",
	       (long long)seen.acks, (long long)seen.credits, (long long)seen.egress_rows,
	       (long long)seen.egress_bytes, (long long)seen.egress_amount,
	       (long long)seen.held_charged[0], (long long)seen.held_charged[1],
	       (long long)seen.held_charged[2], (long long)budgets[2],
	       (long long)seen.held_charged[3], (long long)budgets[3]);
	/* dave's budget bound: metered egress took him to it, and his bids sat out since. */
	struct ledger_tenant dave;
	{
		struct ledger *l = h_ledger(&h);
		ASSERT_OK(ledger_tenant_by_name(l, "dave", &dave));
		ledger_close(l);
	}
	printf("test_market_crash: dave charged %lld nd in all (budget %lld)\n",
	       (long long)dave.charged, (long long)budgets[3]);
	ASSERT_GE(dave.charged, budgets[3]);
	/* Requests really crossed kills: some were answered only after being resent. */
	ASSERT_GT(resent, 0);
	ASSERT_GE(kills_at[0], want);
	ASSERT_GE(kills_at[1], want);
	ASSERT_GE(rounds, MIN_ROUNDS);
	ASSERT_GE(nacked, 50);
	ASSERT_GT(acquired, 0);
	ASSERT_GT(released, 0);
	ASSERT_GT(seen.acks, 0);
	ASSERT_GT(seen.egress_rows, 0);
	for (size_t i = 0; i < nacked; i++)
		free(acked[i].reply);
	free(acked);
	printf("test_market_crash: ok\n");
	return 0;
}
