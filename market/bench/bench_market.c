/* bench_market.c: raas-bench-market, the market's benchmark against the real raas-marketd.
 *
 * Prints JSON lines (DESIGN: benchmarks print exactly the fields their issue names):
 *   {"bench":"rounds","tenants":N,"bids_per_s":..,"close_to_publish_p50_ms":..,
 *    "close_to_publish_p99_ms":..}
 *     N tenants (1,000 and 10,000 by default), each with its own CURVE key and connection,
 *     bid every round at round_ms = 100: each tenant answers every price update of its pool
 *     with a new bid (same bid id, a new price), as nom-priced does. bids_per_s counts bids
 *     acknowledged (persisted) per second over the measured rounds; close-to-publish is the
 *     market's own stamp in each price update, published_wall_ns - closed_wall_ns: clearing,
 *     billing and the round's ledger transaction.
 *   {"bench":"fanout","subscribers":N,"fanout_p50_ms":..,"fanout_p99_ms":..}
 *     N CURVE subscribers of the price feed on loopback; latency from the market's
 *     published_wall_ns to receipt, over every (subscriber, update).
 * Human-readable progress goes to stderr. Clients run in worker processes (a process's fd
 * limit holds about 10,000 connections), all on this machine: the figures include the
 * clients' share of the CPU. */
#include <errno.h>
#include <getopt.h>
#include <math.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/resource.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>
#include <zmq.h>

#include "common/clock.h"
#include "floor.h"
#include "harness.h"
#include "mcpu.h"
#include "test.h"

#define MAX_WORKERS 16
#define CONNECT_WINDOW 200 /* handshakes in flight per worker */
#define RESEND_MS 2000
#define MAX_SAMPLES 200000 /* per worker and kind; reservoir-sampled beyond */

struct opts {
	int tenants[4];
	int ntenants;
	int subscribers;
	int rounds;
	int round_ms;
	int workers;
	const char *sync;
	int soak_s;             /* --soak: seconds of rounds at the first --tenants figure */
	bool tenants_set;
	bool same_price;        /* --same-price: tenants re-send their standing bid unchanged */
};

static bool soak_failed; /* the soak found a bid lost, a round late or memory growing */

struct keyset {
	struct tp_keypair *keys;
	int n;
};

/* Results a worker sends back through its pipe, then its samples: nsamples of
 * close-to-publish (the sampler only), nrtt send-to-answer, nrtt close-to-answer. */
struct worker_result {
	uint64_t sent;          /* bids sent in the measured rounds */
	uint64_t answered;      /* of which answered (acknowledged or refused) */
	uint64_t acked;
	uint64_t errors;
	int64_t first_send_ns;
	int64_t last_ack_ns;
	int64_t cpu_ns;         /* the worker's own CPU over the measured rounds */
	uint64_t bid_bytes;     /* payload bytes of the bids sent */
	uint64_t replies, reply_bytes;   /* answers received (measured rounds) */
	uint64_t notices, notice_bytes;  /* allocation notices received */
	uint64_t prices, price_bytes;    /* price updates received */
	uint64_t round_gaps;    /* price updates whose round was not the last one's + 1 */
	uint32_t nsamples;
	uint32_t nrtt;
};

/* A worker gives up: says why on stderr and exits without the parent's atexit cleanup. */
static void __attribute__((noreturn)) worker_fail(const char *why)
{
	fprintf(stderr, "raas-bench-market: worker %ld: %s\n", (long)getpid(), why);
	_exit(2);
}

static void write_all(int fd, const void *buf, size_t len)
{
	const char *p = buf;
	while (len) {
		ssize_t n = write(fd, p, len);
		if (n <= 0) {
			if (n < 0 && errno == EINTR)
				continue;
			worker_fail("cannot write to the parent");
		}
		p += n;
		len -= (size_t)n;
	}
}

static bool read_all(int fd, void *buf, size_t len)
{
	char *p = buf;
	while (len) {
		ssize_t n = read(fd, p, len);
		if (n <= 0) {
			if (n < 0 && errno == EINTR)
				continue;
			return false;
		}
		p += n;
		len -= (size_t)n;
	}
	return true;
}

static int cmp_i64(const void *a, const void *b)
{
	int64_t x = *(const int64_t *)a, y = *(const int64_t *)b;
	return x < y ? -1 : x > y;
}

static double percentile_ms(int64_t *v, size_t n, double q)
{
	if (!n)
		return NAN;
	qsort(v, n, sizeof(*v), cmp_i64);
	size_t i = (size_t)ceil(q * (double)n);
	if (i == 0)
		i = 1;
	return (double)v[i - 1] / 1e6;
}

/* Registers n tenants named PREFIX-i with fresh keys, in one transaction. */
static void register_tenants(struct harness *h, const char *prefix, struct keyset *ks, int n)
{
	struct ledger *l;
	char why[512], name[64];

	ks->keys = calloc((size_t)n, sizeof(*ks->keys));
	ks->n = n;
	ASSERT_OK(ledger_open(h->ledger, NULL, &l, why, sizeof(why)));
	ASSERT_OK(ledger_begin(l));
	for (int i = 0; i < n; i++) {
		ASSERT_OK(tp_keypair_generate(&ks->keys[i]));
		snprintf(name, sizeof(name), "%s-%d", prefix, i);
		ASSERT_OK(ledger_tenant_add(l, name, ks->keys[i].public_key, -1, 1, NULL, why,
					    sizeof(why)));
	}
	ASSERT_OK(ledger_commit(l));
	ledger_close(l);
}

static void *worker_ctx(int sockets)
{
	void *ctx = tp_context_create(sockets + 64, 1);
	if (!ctx)
		worker_fail("cannot create a ZeroMQ context");
	return ctx;
}

/* ---- Many sockets in one thread ----
 * zmq_poll over thousands of sockets costs a system call per socket per call, so workers
 * watch each socket's ZMQ_FD with epoll instead and look only at the sockets that fired. A
 * ZMQ_FD only says "something changed": after it fires (and after every send, which may
 * consume the change) the socket is drained until EAGAIN. */
struct sockset {
	int ep;
	int n;
	void **socks;
};

/* Watches socket i of ss->socks. */
static void sockset_add(struct sockset *ss, int i)
{
	int fd;
	size_t len = sizeof(fd);

	if (zmq_getsockopt(ss->socks[i], ZMQ_FD, &fd, &len) != 0)
		worker_fail("no ZMQ_FD");
	struct epoll_event ev = {.events = EPOLLIN, .data.u32 = (uint32_t)i};
	if (epoll_ctl(ss->ep, EPOLL_CTL_ADD, fd, &ev) != 0)
		worker_fail("epoll_ctl failed");
}

/* Watches the first n sockets of socks (more can be added with sockset_add). */
static void sockset_init(struct sockset *ss, void **socks, int n)
{
	ss->ep = epoll_create1(EPOLL_CLOEXEC);
	ss->n = n;
	ss->socks = socks;
	if (ss->ep < 0)
		worker_fail("epoll_create1 failed");
	for (int i = 0; i < n; i++)
		sockset_add(ss, i);
}

/* Waits up to timeout_ms; calls on_ready(arg, index) for each socket that fired. */
static int sockset_wait(struct sockset *ss, int timeout_ms, void (*on_ready)(void *, int),
			void *arg)
{
	struct epoll_event ev[1024];
	int n = epoll_wait(ss->ep, ev, 1024, timeout_ms);

	for (int i = 0; i < n; i++)
		on_ready(arg, (int)ev[i].data.u32);
	return n < 0 ? 0 : n;
}

/* ---- rounds ---- */

struct bidder {
	void *sock;
	bool outstanding;
	uint64_t rid;
	int64_t sent_ms;
	uint8_t *buf;   /* the request in flight, resent unanswered after RESEND_MS */
	size_t len;
	bool answered;  /* an answer came (the hello, while connecting) */
	bool measured;  /* the request in flight was sent in a measured round */
	int64_t sent_ns;       /* when it was first sent (wall) */
	int64_t closed_ns;     /* the close of the round whose price it answers (wall) */
};

struct rounds_state {
	struct bidder *b;
	int n;          /* bidders; socket n is the price subscriber */
	int active;     /* bidders connected so far (connections are made in steps) */
	void **socks;
	int pending;
	bool measured;
	int64_t price_round;   /* the latest price update's round, -1 when none new */
	int64_t sample;        /* its close-to-publish */
	int64_t closed_ns;     /* its close (wall) */
	int64_t last_round;    /* the last price update's round (gaps), 0 before any */
	struct worker_result res;
	int64_t *rtt, *c2a;    /* send-to-answer and close-to-answer samples */
	uint64_t nanswers;     /* answers seen, for the reservoir */
	bool same_price;       /* --same-price: each tenant re-sends one bid (nom-priced's way) */
	int from;              /* the first tenant's index */
	uint64_t rng;
};

/* Keeps v in a reservoir of MAX_SAMPLES (Vitter's algorithm R, seeded). */
static void keep_sample(struct rounds_state *st, int64_t rtt, int64_t c2a)
{
	uint64_t k = st->nanswers++;
	if (k < MAX_SAMPLES) {
		st->rtt[k] = rtt;
		st->c2a[k] = c2a;
		st->res.nrtt = (uint32_t)k + 1;
		return;
	}
	st->rng = st->rng * 6364136223846793005ULL + 1442695040888963407ULL;
	uint64_t j = (st->rng >> 11) % (k + 1);
	if (j < MAX_SAMPLES) {
		st->rtt[j] = rtt;
		st->c2a[j] = c2a;
	}
}

/* Drains socket i: replies settle their request; notices are dropped; prices noted. */
static void rounds_ready(void *arg, int i)
{
	struct rounds_state *st = arg;
	struct tp_msg m;
	char why[64];

	while (tp_recv(st->socks[i], ZMQ_DONTWAIT, WIRE_MAX_BYTES, &m, why, sizeof(why)) == 0) {
		if (i == st->n) {
			if (m.env->body_case == RAAS__ENVELOPE__BODY_PRICE) {
				int64_t r = (int64_t)m.env->price->round;
				st->price_round = r;
				st->sample = m.env->price->published_wall_ns -
					     m.env->price->closed_wall_ns;
				st->closed_ns = m.env->price->closed_wall_ns;
				if (st->measured) {
					st->res.prices++;
					st->res.price_bytes += m.payload_len;
					if (st->last_round && r != st->last_round + 1)
						st->res.round_gaps++;
				}
				st->last_round = r;
			}
		} else if (m.env->body_case == RAAS__ENVELOPE__BODY_REPLY) {
			struct bidder *b = &st->b[i];
			if (b->outstanding && m.env->request_id == b->rid) {
				int64_t now = clk_wall(&clk_real);
				b->outstanding = false;
				b->answered = true;
				free(b->buf);
				b->buf = NULL;
				st->pending--;
				if (b->measured) {
					st->res.answered++;
					st->res.replies++;
					st->res.reply_bytes += m.payload_len;
					keep_sample(st, now - b->sent_ns, now - b->closed_ns);
				}
				if (m.env->reply->error)
					st->res.errors++;
				else if (b->measured) {
					st->res.acked++;
					st->res.last_ack_ns = now;
				}
			}
		} else if (m.env->body_case == RAAS__ENVELOPE__BODY_NOTICE && st->measured) {
			st->res.notices++;
			st->res.notice_bytes += m.payload_len;
		}
		tp_msg_clear(&m);
	}
}

/* Sends e (request id set per bidder) from every bidder without a request outstanding,
 * and resends (same bytes, same id) what went unanswered for RESEND_MS while connecting: a
 * message queued on a connection that broke during its handshake is lost, and the market
 * answers a resent request from its ledger. */
static int send_all(struct rounds_state *st, struct sockset *ss, Raas__Envelope *e,
		    uint64_t *rid, uint64_t *seed, bool unanswered_only)
{
	int sent = 0;
	int64_t now = h_now_ms();

	for (int i = 0; i < st->active; i++) {
		struct bidder *b = &st->b[i];
		if (unanswered_only && b->answered)
			continue;
		if (b->outstanding) {
			/* Only while connecting: once the connection answered, ZeroMQ loses
			 * nothing, and a resend would be load the market must answer again. */
			if (!b->answered && now - b->sent_ms >= RESEND_MS &&
			    zmq_send(b->sock, b->buf, b->len, ZMQ_DONTWAIT) >= 0)
				b->sent_ms = now;
			continue;
		}
		e->request_id = ++*rid;
		if (e->body_case == RAAS__ENVELOPE__BODY_BID && st->same_price) {
			uint64_t k = (uint64_t)(st->from + i) * 2654435761u;
			e->bid->unit_price = (int64_t)(1000000 + k % 100000000);
		} else if (e->body_case == RAAS__ENVELOPE__BODY_BID) {
			*seed = *seed * 6364136223846793005ULL + 1442695040888963407ULL;
			e->bid->unit_price = (int64_t)(1000000 + (*seed >> 40) % 100000000);
		}
		if (wire_encode(e, &b->buf, &b->len) != 0)
			worker_fail("cannot encode a request");
		if (zmq_send(b->sock, b->buf, b->len, ZMQ_DONTWAIT) >= 0) {
			b->outstanding = true;
			b->rid = *rid;
			b->sent_ms = now;
			b->sent_ns = clk_wall(&clk_real);
			b->closed_ns = st->closed_ns;
			b->measured = st->measured && e->body_case == RAAS__ENVELOPE__BODY_BID;
			if (b->measured) {
				st->res.sent++;
				st->res.bid_bytes += b->len;
			}
			st->pending++;
			sent++;
		} else {
			free(b->buf);
			b->buf = NULL;
		}
		rounds_ready(st, i); /* a send may have taken the socket's wake-up */
	}
	(void)ss;
	return sent;
}

/* Handles messages until a price update arrives (30 s at most). */
static void wait_price(struct rounds_state *st, struct sockset *ss)
{
	int64_t deadline = h_now_ms() + 30000;

	while (st->price_round < 0) {
		if (h_now_ms() > deadline)
			worker_fail("no price update for 30 s");
		sockset_wait(ss, 1000, rounds_ready, st);
	}
}

static void rounds_worker(struct harness *h, struct keyset *ks, int from, int to, int rounds,
			  int warmup, int ready_fd, int go_fd, int out_fd, bool sampler,
			  bool same_price)
{
	int n = to - from;
	void *ctx = worker_ctx(n + 1);
	struct rounds_state st = {.n = n, .price_round = -1, .same_price = same_price,
				  .from = from};
	struct sockset ss;
	size_t nkeep = (size_t)rounds + 1 < MAX_SAMPLES ? (size_t)rounds + 1 : MAX_SAMPLES;
	int64_t *samples = calloc(nkeep, sizeof(*samples));
	uint64_t seed = (uint64_t)from * 7919 + 1, rid = 100;

	st.rtt = calloc(MAX_SAMPLES, sizeof(*st.rtt));
	st.c2a = calloc(MAX_SAMPLES, sizeof(*st.c2a));
	st.rng = seed;
	if (!samples || !st.rtt || !st.c2a)
		worker_fail("out of memory");

	st.b = calloc((size_t)n, sizeof(*st.b));
	st.socks = calloc((size_t)n + 1, sizeof(*st.socks));
	if (tp_connect(ctx, ZMQ_SUB, h->price_ep, &ks->keys[from], h->market_key.public_key,
		       &st.socks[n]) != 0 ||
	    tp_subscribe(st.socks[n], "price/bandwidth/h1") != 0)
		worker_fail("cannot subscribe");
	sockset_init(&ss, st.socks, 0);
	sockset_add(&ss, n);

	/* Connect with at most CONNECT_WINDOW handshakes in flight, each tenant saying hello
	 * (its CURVE handshake happens then), so that the market is never asked for thousands
	 * of handshakes at once (each must finish within libzmq's handshake interval). Sends
	 * fail (EAGAIN) until a connection is up: send_all retries them. */
	Raas__Envelope e;
	Raas__Hello hello = RAAS__HELLO__INIT;
	wire_envelope_init(&e, 0);
	hello.client = "raas-bench-market";
	e.body_case = RAAS__ENVELOPE__BODY_HELLO;
	e.hello = &hello;
	int64_t deadline = h_now_ms() + 600000;
	int answered = 0;
	while (answered < n) {
		if (h_now_ms() > deadline)
			worker_fail("not every tenant was answered within 600 s");
		/* Keep CONNECT_WINDOW handshakes in flight. */
		while (st.active < n && st.active - answered < CONNECT_WINDOW) {
			int i = st.active;
			if (tp_connect(ctx, ZMQ_DEALER, h->tenant_ep, &ks->keys[from + i],
				       h->market_key.public_key, &st.b[i].sock) != 0)
				worker_fail("cannot connect");
			st.socks[i] = st.b[i].sock;
			sockset_add(&ss, i);
			st.active++;
		}
		send_all(&st, &ss, &e, &rid, &seed, true);
		sockset_wait(&ss, 20, rounds_ready, &st);
		answered = 0;
		for (int i = 0; i < st.active; i++)
			answered += st.b[i].answered;
	}
	while (st.price_round < 0) {
		if (h_now_ms() > deadline)
			worker_fail("no price update");
		sockset_wait(&ss, 100, rounds_ready, &st);
	}
	write_all(ready_fd, "r", 1);
	char go;
	if (!read_all(go_fd, &go, 1))
		worker_fail("no go from the parent");

	Raas__Bid bid = RAAS__BID__INIT;
	bid.bid_id = "bench";
	bid.resource = RAAS__RESOURCE__RESOURCE_BANDWIDTH;
	bid.host = "h1";
	bid.max_quantity = 1;
	wire_envelope_init(&e, 0);
	e.body_case = RAAS__ENVELOPE__BODY_BID;
	e.bid = &bid;
	st.price_round = -1;
	int64_t cpu0 = 0;
	for (int r = 0; r < warmup + rounds; r++) {
		/* Every tenant answers each price update with a new bid. */
		wait_price(&st, &ss);
		if (r == warmup)
			cpu0 = mcpu_self_ns();
		st.measured = r >= warmup;
		if (sampler && st.measured && st.res.nsamples < nkeep)
			samples[st.res.nsamples++] = st.sample;
		st.price_round = -1;
		if (st.measured && !st.res.first_send_ns)
			st.res.first_send_ns = clk_wall(&clk_real);
		int64_t t0 = clk_mono(&clk_real);
		int sent = send_all(&st, &ss, &e, &rid, &seed, false);
		if (getenv("BENCH_DEBUG"))
			fprintf(stderr, "worker %d round %d: sent %d in %.1f ms, %d pending\n", from,
				r, sent, (double)(clk_mono(&clk_real) - t0) / 1e6, st.pending);
		/* Answers (and notices) until the next update. */
		wait_price(&st, &ss);
	}
	/* The last round's answers (a saturated market answers seconds late). */
	deadline = h_now_ms() + 60000;
	while (st.pending > 0 && h_now_ms() < deadline)
		sockset_wait(&ss, 50, rounds_ready, &st);
	st.res.cpu_ns = mcpu_self_ns() - cpu0;
	write_all(out_fd, &st.res, sizeof(st.res));
	write_all(out_fd, samples, sizeof(*samples) * st.res.nsamples);
	write_all(out_fd, st.rtt, sizeof(*st.rtt) * st.res.nrtt);
	write_all(out_fd, st.c2a, sizeof(*st.c2a) * st.res.nrtt);
	/* _exit: the parent owns the harness and its atexit cleanup. */
	_exit(0);
}

/* Waits until the market has closed `target` rounds (its stats file says), sampling it then.
 * While waiting, calls tick (when set) about once a second. */
static void wait_rounds(struct harness *h, const char *stats, uint64_t target, struct mcpu *out,
			void (*tick)(void *, const struct mcpu *), void *arg)
{
	int64_t next_tick = h_now_ms() + 1000;
	int64_t deadline = h_now_ms() + 60000;

	for (;;) {
		if (mcpu_sample(h->pid, stats, out) != 0)
			TEST_FAIL("cannot read the market's /proc entries or %s", stats);
		if (out->rounds >= target)
			return;
		if (out->rounds > 0 && deadline < h_now_ms() + 50000)
			deadline = h_now_ms() + 60000; /* rounds go on: wait on */
		if (h_now_ms() > deadline)
			TEST_FAIL("the market closed no round for 60 s");
		if (tick && h_now_ms() >= next_tick) {
			tick(arg, out);
			next_tick += 1000;
		}
		usleep(5000);
	}
}

/* What the parent gathers from the workers of a rounds run. */
struct rounds_totals {
	struct worker_result sum;
	int64_t *c2p, *rtt, *c2a;
	size_t nc2p, nrtt;
};

static void gather_workers(int workers, int (*outp)[2], pid_t *pids, struct rounds_totals *t)
{
	memset(t, 0, sizeof(*t));
	for (int w = 0; w < workers; w++) {
		struct worker_result r;
		if (!read_all(outp[w][0], &r, sizeof(r)))
			TEST_FAIL("worker %d died", w);
		t->sum.sent += r.sent;
		t->sum.answered += r.answered;
		t->sum.acked += r.acked;
		t->sum.errors += r.errors;
		t->sum.cpu_ns += r.cpu_ns;
		t->sum.bid_bytes += r.bid_bytes;
		t->sum.replies += r.replies;
		t->sum.reply_bytes += r.reply_bytes;
		t->sum.notices += r.notices;
		t->sum.notice_bytes += r.notice_bytes;
		t->sum.prices += r.prices;
		t->sum.price_bytes += r.price_bytes;
		t->sum.round_gaps += r.round_gaps;
		if (r.first_send_ns && (!t->sum.first_send_ns || r.first_send_ns < t->sum.first_send_ns))
			t->sum.first_send_ns = r.first_send_ns;
		if (r.last_ack_ns > t->sum.last_ack_ns)
			t->sum.last_ack_ns = r.last_ack_ns;
		t->c2p = realloc(t->c2p, (t->nc2p + r.nsamples + 1) * sizeof(*t->c2p));
		t->rtt = realloc(t->rtt, (t->nrtt + r.nrtt + 1) * sizeof(*t->rtt));
		t->c2a = realloc(t->c2a, (t->nrtt + r.nrtt + 1) * sizeof(*t->c2a));
		ASSERT_TRUE(t->c2p && t->rtt && t->c2a);
		ASSERT_TRUE(read_all(outp[w][0], t->c2p + t->nc2p, r.nsamples * sizeof(int64_t)));
		ASSERT_TRUE(read_all(outp[w][0], t->rtt + t->nrtt, r.nrtt * sizeof(int64_t)));
		ASSERT_TRUE(read_all(outp[w][0], t->c2a + t->nrtt, r.nrtt * sizeof(int64_t)));
		t->nc2p += r.nsamples;
		t->nrtt += r.nrtt;
		close(outp[w][0]);
		waitpid(pids[w], NULL, 0);
	}
}

/* Prints the market's CPU over a window of d.rounds rounds: per thread group and per stage
 * (ms per round, us per unit), as JSON members (no braces). Returns the CPU per round, ms. */
static double print_cpu(const struct mcpu *d, double per_unit, const char *unit)
{
	double rounds = d->rounds ? (double)d->rounds : 1, all = 0, staged = 0;

	printf("\"threads_ms_per_round\":{");
	for (int g = 0; g < MCPU_GROUPS; g++) {
		printf("%s\"%s\":%.3f", g ? "," : "", mcpu_group_name(g),
		       (double)d->ns[g] / 1e6 / rounds);
		all += (double)d->ns[g];
	}
	printf("},\"stages_ms_per_round\":{");
	for (int i = 0; i < MARKET_STAGES; i++) {
		printf("%s\"%s\":%.3f", i ? "," : "", market_stage_name(i),
		       (double)d->prof.ns[i] / 1e6 / rounds);
		if (i != MARKET_ST_WAIT) /* waiting for the disk is not CPU */
			staged += (double)d->prof.ns[i];
	}
	/* Main-thread time outside every stage: polling, ZAP, the loop itself. */
	printf(",\"main_unstaged\":%.3f}", ((double)d->ns[MCPU_MAIN] - staged) / 1e6 / rounds);
	printf(",\"stages_us_per_%s\":{", unit);
	for (int i = 0; i < MARKET_STAGES; i++)
		printf("%s\"%s\":%.3f", i ? "," : "", market_stage_name(i),
		       per_unit > 0 ? (double)d->prof.ns[i] / 1e3 / per_unit : NAN);
	printf("},\"zmq_io_us_per_%s\":%.3f", unit,
	       per_unit > 0 ? (double)d->ns[MCPU_IO] / 1e3 / per_unit : NAN);
	return all / 1e6 / rounds;
}

static void print_floor(const struct floor_ms *f, double market_ms)
{
	printf(",\"floor_ms_per_round\":{\"clear\":%.3f,\"sqlite\":%.3f,\"curve\":%.3f,"
	       "\"total\":%.3f,\"sqlite_wait\":%.3f,\"tcp\":%.3f},\"ratio_vs_floor\":%.2f,"
	       "\"ratio_vs_floor_and_tcp\":%.2f",
	       f->clear, f->sqlite, f->curve, f->total, f->sqlite_wait, f->tcp,
	       f->total > 0 ? market_ms / f->total : NAN,
	       f->total + f->tcp > 0 ? market_ms / (f->total + f->tcp) : NAN);
}

/* The soak's memory watch: the market's RSS each second. */
struct soak_watch {
	struct harness *h;
	int64_t start_ms;
	long rss_minute1;        /* at 60 s into the measured rounds (or the first sample) */
	long rss_last, rss_max;
	long sqlite_minute1, sqlite_last; /* KiB SQLite holds in the market, -1 unknown */
};

static void soak_tick(void *arg, const struct mcpu *now)
{
	struct soak_watch *w = arg;
	long rss = mcpu_rss_kib(w->h->pid);
	int64_t t = h_now_ms() - w->start_ms;

	(void)now;
	if (rss < 0)
		return;
	long sq = now->sqlite_bytes >= 0 ? (long)(now->sqlite_bytes / 1024) : -1;
	if (!w->rss_minute1 || t <= 60000) {
		w->rss_minute1 = rss;
		w->sqlite_minute1 = sq;
	}
	w->rss_last = rss;
	w->sqlite_last = sq;
	if (rss > w->rss_max)
		w->rss_max = rss;
	if (t / 1000 % 60 == 0)
		fprintf(stderr, "soak: %lld s, market RSS %ld KiB (SQLite %ld), %llu rounds closed\n",
			(long long)t / 1000, rss, sq, (unsigned long long)now->rounds);
}

/* Lines of the market's log containing needle. */
static int log_count(const struct harness *h, const char *needle)
{
	FILE *f = fopen(h->log, "r");
	char line[2048];
	int n = 0;

	if (!f)
		return -1;
	while (fgets(line, sizeof(line), f))
		n += strstr(line, needle) != NULL;
	fclose(f);
	return n;
}

/* A rounds run: `tenants` bidding every round for `rounds` measured rounds (soak: the
 * soak's checks and memory watch as well). */
static void bench_rounds(const struct opts *o, int tenants, int rounds, bool soak)
{
	struct harness h;
	struct keyset ks;
	char stats[320];
	int workers = o->workers;
	int ready[2], go[2], outp[MAX_WORKERS][2];
	pid_t pids[MAX_WORKERS];
	const int warmup = 3;

	if (workers > MAX_WORKERS)
		workers = MAX_WORKERS;
	h_init(&h, soak ? "soak" : "bench", o->round_ms, NULL);
	snprintf(stats, sizeof(stats), "%s/stats", h.dir);
	snprintf(h.extra, sizeof(h.extra),
		 "batch_max = 16384\nstats_file = %s\n"
		 "[pool.bw]\nhost = h1\nresource = bandwidth\nsupply = %d\nmodel = uniform\n"
		 "params = reserve=$0.001\n",
		 stats, tenants / 2);
	snprintf(h.sync, sizeof(h.sync), "%s", o->sync);
	fprintf(stderr, "rounds: registering %d tenants\n", tenants);
	register_tenants(&h, "t", &ks, tenants);
	h_start(&h);
	ASSERT_OK(pipe(ready));
	ASSERT_OK(pipe(go));
	fprintf(stderr, "rounds: %d tenants connecting from %d workers\n", tenants, workers);
	int64_t t0 = h_now_ms();
	for (int w = 0; w < workers; w++) {
		ASSERT_OK(pipe(outp[w]));
		pids[w] = fork();
		ASSERT_TRUE(pids[w] >= 0);
		if (pids[w] == 0) {
			prctl(PR_SET_PDEATHSIG, SIGKILL); /* a killed benchmark leaves no workers */
			rounds_worker(&h, &ks, tenants * w / workers, tenants * (w + 1) / workers,
				      rounds, warmup, ready[1], go[0], outp[w][1], w == 0,
				      o->same_price);
		}
		close(outp[w][1]);
	}
	close(ready[1]);
	close(go[0]);
	for (int w = 0; w < workers; w++) {
		char c;
		if (!read_all(ready[0], &c, 1))
			TEST_FAIL("a worker failed to connect (see its message above)");
	}
	fprintf(stderr, "rounds: connected in %.1f s; measuring %d rounds\n",
		(double)(h_now_ms() - t0) / 1000, rounds);
	struct mcpu a, b, d;
	ASSERT_OK(mcpu_sample(h.pid, stats, &a));
	for (int w = 0; w < workers; w++)
		write_all(go[1], "g", 1);
	/* The market's window: the rounds after the warm-up, as many as the clients measure
	 * (the clients' answers of a round arrive in the next one). */
	struct soak_watch sw = {.h = &h};
	wait_rounds(&h, stats, a.rounds + (uint64_t)warmup + 1, &a, NULL, NULL);
	sw.start_ms = h_now_ms();
	wait_rounds(&h, stats, a.rounds + (uint64_t)rounds, &b, soak ? soak_tick : NULL, &sw);
	mcpu_diff(&a, &b, &d);
	if (soak)
		soak_tick(&sw, &b);

	struct rounds_totals t;
	gather_workers(workers, outp, pids, &t);
	double secs = t.sum.last_ack_ns > t.sum.first_send_ns
			      ? (double)(t.sum.last_ack_ns - t.sum.first_send_ns) / 1e9
			      : NAN;
	double bids = (double)d.prof.n[MARKET_ST_CHECK];
	double per_round = bids / (double)(d.rounds ? d.rounds : 1);
	fprintf(stderr,
		"rounds: %llu bids sent, %llu answered (%llu refused) in %.2f s; the market handled "
		"%.0f requests a round over %llu rounds\n",
		(unsigned long long)t.sum.sent, (unsigned long long)t.sum.answered,
		(unsigned long long)t.sum.errors, secs, per_round, (unsigned long long)d.rounds);

	/* The floor of one such round, measured now on the same machine. */
	double mr = (double)rounds;
	double clear_bids = (double)d.prof.n[MARKET_ST_CLEAR] / (double)(d.rounds ? d.rounds : 1);
	struct floor_work fw = {
		.bids = (size_t)(per_round + 0.5),
		.clear_bids = (size_t)(clear_bids + 0.5),
		.supply = tenants / 2,
		.allocs = (size_t)(clear_bids + 0.5) < (size_t)(tenants / 2) ? (size_t)(clear_bids + 0.5)
									     : (size_t)(tenants / 2),
		.msgs_in = (size_t)(per_round + 0.5),
		.bytes_in = (size_t)((double)t.sum.bid_bytes / mr + 0.5),
		.msgs_out = (size_t)((double)(t.sum.replies + t.sum.notices + t.sum.prices) / mr + 0.5),
		.bytes_out = (size_t)((double)(t.sum.reply_bytes + t.sum.notice_bytes +
					       t.sum.price_bytes) / mr + 0.5),
		.reply_bytes = t.sum.replies ? (size_t)(t.sum.reply_bytes / t.sum.replies) : 16,
		.sync_full = strcmp(o->sync, "full") == 0,
		.dir = h.dir,
		.seed = 1,
	};
	fw.bytes_in = fw.msgs_in && t.sum.sent ? fw.msgs_in * (size_t)(t.sum.bid_bytes / t.sum.sent)
					      : 0;
	struct floor_ms f;
	ASSERT_OK(floor_measure(&fw, 5, &f));

	printf("{\"bench\":\"%s\",\"tenants\":%d,\"rounds\":%llu,\"sync\":\"%s\","
	       "\"same_price\":%s,",
	       soak ? "soak" : "rounds", tenants, (unsigned long long)d.rounds, o->sync,
	       o->same_price ? "true" : "false");
	printf("\"bids_per_s\":%.0f,\"bids_per_round\":%.0f,", (double)t.sum.acked / secs,
	       per_round);
	double market_ms = print_cpu(&d, bids, "bid");
	printf(",\"market_cpu_per_round_ms\":%.3f,\"us_per_bid\":%.3f", market_ms,
	       bids > 0 ? market_ms * 1e3 * (double)d.rounds / bids : NAN);
	print_floor(&f, market_ms);
	printf(",\"close_to_publish_p50_ms\":%.3f,\"close_to_publish_p99_ms\":%.3f",
	       percentile_ms(t.c2p, t.nc2p, 0.50), percentile_ms(t.c2p, t.nc2p, 0.99));
	printf(",\"bid_rtt_p50_ms\":%.3f,\"bid_rtt_p99_ms\":%.3f",
	       percentile_ms(t.rtt, t.nrtt, 0.50), percentile_ms(t.rtt, t.nrtt, 0.99));
	printf(",\"close_to_ack_p50_ms\":%.3f,\"close_to_ack_p99_ms\":%.3f",
	       percentile_ms(t.c2a, t.nrtt, 0.50), percentile_ms(t.c2a, t.nrtt, 0.99));
	printf(",\"clients_cpu_per_round_ms\":%.3f", (double)t.sum.cpu_ns / 1e6 / mr);
	if (soak) {
		int late = log_count(&h, "skipping ahead");
		int64_t expected = d.at_ns / ((int64_t)o->round_ms * 1000000);
		printf(",\"seconds\":%.1f,\"rounds_expected\":%lld,\"rounds_late_skipped\":%d,"
		       "\"price_round_gaps\":%llu,\"bids_sent\":%llu,\"bids_answered\":%llu,"
		       "\"bids_refused\":%llu,\"bids_lost\":%llu,\"rss_minute1_kib\":%ld,"
		       "\"rss_end_kib\":%ld,\"rss_max_kib\":%ld,\"rss_growth_pct\":%.2f,"
		       "\"sqlite_minute1_kib\":%ld,\"sqlite_end_kib\":%ld,"
		       "\"rss_growth_besides_sqlite_pct\":%.2f",
		       (double)d.at_ns / 1e9, (long long)expected, late,
		       (unsigned long long)t.sum.round_gaps, (unsigned long long)t.sum.sent,
		       (unsigned long long)t.sum.answered, (unsigned long long)t.sum.errors,
		       (unsigned long long)(t.sum.sent - t.sum.answered), sw.rss_minute1,
		       sw.rss_last, sw.rss_max,
		       sw.rss_minute1 > 0
			       ? 100.0 * (double)(sw.rss_last - sw.rss_minute1) / (double)sw.rss_minute1
			       : NAN,
		       sw.sqlite_minute1, sw.sqlite_last,
		       sw.rss_minute1 > 0 && sw.sqlite_last >= 0 && sw.sqlite_minute1 >= 0
			       ? 100.0 *
					 (double)((sw.rss_last - sw.sqlite_last) -
						  (sw.rss_minute1 - sw.sqlite_minute1)) /
					 (double)sw.rss_minute1
			       : NAN);
		bool ok = t.sum.sent == t.sum.answered && t.sum.errors == 0 && late == 0 &&
			  t.sum.round_gaps == 0 &&
			  (double)sw.rss_last <= 1.10 * (double)sw.rss_minute1;
		printf(",\"ok\":%s", ok ? "true" : "false");
		soak_failed = !ok;
	}
	printf("}\n");
	fflush(stdout);
	free(t.c2p);
	free(t.rtt);
	free(t.c2a);
	free(ks.keys);
	h_stop(&h, false);
	tp_context_destroy(h.ctx);
	h_cleanup(&h);
}

/* ---- fan-out ---- */

struct fanout_state {
	void **subs;
	int n;
	bool *joined;
	int njoined;
	bool measuring;
	int rounds;
	int *got;
	int done;
	int64_t *samples;
	size_t cap;
	struct worker_result res;
};

static void fanout_ready(void *arg, int i)
{
	struct fanout_state *st = arg;
	struct tp_msg m;
	char why[64];

	while (tp_recv(st->subs[i], ZMQ_DONTWAIT, WIRE_MAX_BYTES, &m, why, sizeof(why)) == 0) {
		int64_t now = clk_wall(&clk_real);
		if (!st->joined[i]) {
			st->joined[i] = true;
			st->njoined++;
		}
		if (st->measuring && st->got[i] < st->rounds && st->res.nsamples < st->cap &&
		    m.env->body_case == RAAS__ENVELOPE__BODY_PRICE) {
			st->samples[st->res.nsamples++] = now - m.env->price->published_wall_ns;
			st->res.prices++;
			st->res.price_bytes += m.payload_len;
			if (++st->got[i] == st->rounds)
				st->done++;
		}
		tp_msg_clear(&m);
	}
}

static void fanout_worker(struct harness *h, struct keyset *ks, int from, int to, int rounds,
			  int ready_fd, int go_fd, int out_fd)
{
	int n = to - from;
	void *ctx = worker_ctx(n);
	struct fanout_state st = {.n = n, .rounds = rounds};
	struct sockset ss;

	st.subs = calloc((size_t)n, sizeof(*st.subs));
	st.joined = calloc((size_t)n, sizeof(*st.joined));
	st.got = calloc((size_t)n, sizeof(*st.got));
	st.cap = (size_t)n * (size_t)rounds;
	st.samples = calloc(st.cap, sizeof(*st.samples));
	for (int i = 0; i < n; i++)
		if (tp_connect(ctx, ZMQ_SUB, h->price_ep, &ks->keys[from + i],
			       h->market_key.public_key, &st.subs[i]) != 0 ||
		    tp_subscribe(st.subs[i], "price/") != 0)
			worker_fail("cannot connect");
	sockset_init(&ss, st.subs, n);
	/* Joined: every subscriber received an update. */
	int64_t deadline = h_now_ms() + 300000;
	while (st.njoined < n) {
		if (h_now_ms() > deadline)
			worker_fail("not every subscriber joined within 300 s");
		sockset_wait(&ss, 100, fanout_ready, &st);
		for (int i = 0; i < n; i++) /* the edge may be gone: look now and then */
			if (!st.joined[i])
				fanout_ready(&st, i);
	}
	write_all(ready_fd, "r", 1);
	char go;
	if (!read_all(go_fd, &go, 1))
		worker_fail("no go from the parent");
	/* Drop what arrived before "go", then measure `rounds` updates per subscriber. */
	for (int i = 0; i < n; i++)
		fanout_ready(&st, i);
	st.measuring = true;
	deadline = h_now_ms() + 60000 + (int64_t)rounds * 1000;
	while (st.done < n && h_now_ms() < deadline)
		sockset_wait(&ss, 100, fanout_ready, &st);
	write_all(out_fd, &st.res, sizeof(st.res));
	write_all(out_fd, st.samples, sizeof(*st.samples) * st.res.nsamples);
	_exit(0);
}

static void bench_fanout(const struct opts *o)
{
	struct harness h;
	struct keyset ks;
	int n = o->subscribers, workers = o->workers;
	int ready[2], go[2], outp[MAX_WORKERS][2];
	pid_t pids[MAX_WORKERS];

	if (workers > MAX_WORKERS)
		workers = MAX_WORKERS;
	char stats[320];

	h_init(&h, "bench-fanout", o->round_ms, NULL);
	snprintf(stats, sizeof(stats), "%s/stats", h.dir);
	snprintf(h.extra, sizeof(h.extra),
		 "stats_file = %s\n"
		 "[pool.bw]\nhost = h1\nresource = bandwidth\nsupply = 100\nmodel = uniform\n",
		 stats);
	snprintf(h.sync, sizeof(h.sync), "%s", o->sync);
	fprintf(stderr, "fanout: registering %d subscribers\n", n);
	register_tenants(&h, "s", &ks, n);
	h_start(&h);
	ASSERT_OK(pipe(ready));
	ASSERT_OK(pipe(go));
	for (int w = 0; w < workers; w++) {
		ASSERT_OK(pipe(outp[w]));
		pids[w] = fork();
		ASSERT_TRUE(pids[w] >= 0);
		if (pids[w] == 0) {
			prctl(PR_SET_PDEATHSIG, SIGKILL);
			fanout_worker(&h, &ks, n * w / workers, n * (w + 1) / workers, o->rounds,
				      ready[1], go[0], outp[w][1]);
		}
		close(outp[w][1]);
	}
	close(ready[1]);
	close(go[0]);
	for (int w = 0; w < workers; w++) {
		char c;
		if (!read_all(ready[0], &c, 1))
			TEST_FAIL("a fan-out worker failed to join (see its message above)");
	}
	fprintf(stderr, "fanout: %d subscribers joined; measuring %d updates each\n", n,
		o->rounds);
	struct mcpu a, b, d;
	ASSERT_OK(mcpu_sample(h.pid, stats, &a));
	for (int w = 0; w < workers; w++)
		write_all(go[1], "g", 1);
	wait_rounds(&h, stats, a.rounds + 1, &a, NULL, NULL);
	wait_rounds(&h, stats, a.rounds + (uint64_t)o->rounds, &b, NULL, NULL);
	mcpu_diff(&a, &b, &d);
	int64_t *samples = NULL;
	size_t nsamples = 0, price_bytes = 0;
	uint64_t nprices = 0, sum_bytes = 0;
	for (int w = 0; w < workers; w++) {
		struct worker_result r;
		if (!read_all(outp[w][0], &r, sizeof(r)))
			TEST_FAIL("fan-out worker %d died", w);
		nprices += r.prices;
		sum_bytes += r.price_bytes;
		samples = realloc(samples, (nsamples + r.nsamples + 1) * sizeof(*samples));
		ASSERT_TRUE(read_all(outp[w][0], samples + nsamples, r.nsamples * sizeof(*samples)));
		nsamples += r.nsamples;
		close(outp[w][0]);
		waitpid(pids[w], NULL, 0);
	}
	price_bytes = nprices ? (size_t)(sum_bytes / nprices) : 0;
	fprintf(stderr, "fanout: %zu receipts\n", nsamples);
	/* One pool: one update per round per subscriber. */
	double updates = (double)d.rounds * n;
	struct floor_work fw = {.supply = 100, .msgs_out = (size_t)n,
				.bytes_out = (size_t)n * (price_bytes ? price_bytes : 64),
				.reply_bytes = 16, .sync_full = strcmp(o->sync, "full") == 0,
				.dir = h.dir, .seed = 1};
	struct floor_ms f;
	ASSERT_OK(floor_measure(&fw, 5, &f));
	printf("{\"bench\":\"fanout\",\"subscribers\":%d,\"rounds\":%llu,\"fanout_p50_ms\":%.3f,"
	       "\"fanout_p99_ms\":%.3f,",
	       n, (unsigned long long)d.rounds, percentile_ms(samples, nsamples, 0.50),
	       percentile_ms(samples, nsamples, 0.99));
	double market_ms = print_cpu(&d, updates, "subscriber_update");
	printf(",\"market_cpu_per_round_ms\":%.3f,\"us_per_subscriber_update\":%.3f",
	       market_ms, updates > 0 ? market_ms * 1e3 * (double)d.rounds / updates : NAN);
	print_floor(&f, market_ms);
	printf("}\n");
	fflush(stdout);
	free(samples);
	free(ks.keys);
	h_stop(&h, false);
	tp_context_destroy(h.ctx);
	h_cleanup(&h);
}

static void usage(FILE *f)
{
	fprintf(f, "usage: raas-bench-market [--tenants N[,N...]] [--subscribers N] [--rounds N]\n"
		   "                         [--round-ms MS] [--workers N] [--sync full|normal]\n"
		   "                         [--soak SECONDS] [--same-price]\n"
		   "defaults: --tenants 1000,10000 --subscribers 1000 --rounds 30 --round-ms 100\n"
		   "          --workers 4 --sync full (the market's default durability)\n");
}

int main(int argc, char **argv)
{
	static const struct option longopts[] = {
		{"tenants", required_argument, NULL, 't'}, {"subscribers", required_argument, NULL, 's'},
		{"rounds", required_argument, NULL, 'r'},  {"round-ms", required_argument, NULL, 'm'},
		{"workers", required_argument, NULL, 'w'}, {"sync", required_argument, NULL, 'y'},
		{"soak", required_argument, NULL, 'k'},    {"same-price", no_argument, NULL, 'p'},
		{"help", no_argument, NULL, 'h'},
		{NULL, 0, NULL, 0},
	};
	struct opts o = {.tenants = {1000, 10000}, .ntenants = 2, .subscribers = 1000,
			 .rounds = 30, .round_ms = 100, .workers = 4, .sync = "full"};
	int c;

	while ((c = getopt_long(argc, argv, "h", longopts, NULL)) != -1) {
		switch (c) {
		case 't': {
			char *s = optarg, *tok, *save;
			o.ntenants = 0;
			o.tenants_set = true;
			for (tok = strtok_r(s, ",", &save); tok && o.ntenants < 4;
			     tok = strtok_r(NULL, ",", &save))
				o.tenants[o.ntenants++] = atoi(tok);
			break;
		}
		case 's': o.subscribers = atoi(optarg); break;
		case 'r': o.rounds = atoi(optarg); break;
		case 'm': o.round_ms = atoi(optarg); break;
		case 'w': o.workers = atoi(optarg); break;
		case 'y': o.sync = optarg; break;
		case 'k': o.soak_s = atoi(optarg); break;
		case 'p': o.same_price = true; break;
		case 'h': usage(stdout); return 0;
		default: usage(stderr); return 64;
		}
	}
	if (o.rounds < 1 || o.round_ms < 10 || o.workers < 1 ||
	    (strcmp(o.sync, "full") && strcmp(o.sync, "normal"))) {
		usage(stderr);
		return 64;
	}
	struct rlimit rl;
	if (getrlimit(RLIMIT_NOFILE, &rl) == 0 && rl.rlim_cur < rl.rlim_max) {
		rl.rlim_cur = rl.rlim_max;
		setrlimit(RLIMIT_NOFILE, &rl);
	}
	if (o.soak_s > 0) {
		/* The soak alone: the first --tenants figure (10,000 by default) for soak_s. */
		int tenants = o.tenants_set ? o.tenants[0] : 10000;
		bench_rounds(&o, tenants, (int)((int64_t)o.soak_s * 1000 / o.round_ms), true);
		return soak_failed ? 1 : 0;
	}
	for (int i = 0; i < o.ntenants; i++)
		if (o.tenants[i] > 0)
			bench_rounds(&o, o.tenants[i], o.rounds, false);
	if (o.subscribers > 0)
		bench_fanout(&o);
	return 0;
}
