/* test_loop.c: nomnet's loop and TCP glue over the in-memory driver (no root needed).
 *
 * lwIP answers real frames (ARP, ICMP echo, a TCP handshake and data) that the test injects,
 * and the test checks what leaves and in which flush: W = 0 sends every reply in a flush of
 * its own (run to completion), W > 0 holds replies until the first has waited W, a full
 * transmit batch leaves at once, interrupt mode sleeps and still answers, W and the mode can
 * change under traffic, and a connection's owed ACK leaves with the batch instead of lwIP's
 * 250 ms timer; a connection the app opens (nomnet_tcp_connect) completes, carries data and
 * reports a refusal. Frames are queued while the loop is stopped where a rule must be checked
 * without depending on this machine's speed. */
#include <errno.h>
#include <pthread.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "drv_mem.h"
#include "frames.h"
#include "nom/net.h"
#include "stack.h"
#include "test.h"

static const struct fr_ep peer = {{0x02, 0, 0, 0, 0, 0xaa}, 0x0a090001};
static const struct fr_ep me = {{0x02, 0, 0, 0, 0, 0x01}, 0x0a090002};
static uint64_t injected;

static int64_t now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

static void inject(const uint8_t *f, size_t len)
{
	ASSERT_OK(nomnet__mem_inject(f, len));
	injected++;
}

static void ping(uint16_t seq)
{
	uint8_t f[256];

	inject(f, fr_icmp_echo(f, &peer, &me, seq, 32));
}

/* Waits up to ms for a transmitted frame of the given kind; other frames are skipped. */
static int expect(enum fr_kind kind, uint8_t *buf, struct fr_info *info,
		  struct nomnet_mem_sent *sent, int ms)
{
	int64_t deadline = now_ns() + (int64_t)ms * 1000000;

	while (now_ns() < deadline) {
		int len = nomnet__mem_take(buf, 2048, sent);

		if (len < 0)
			return len;
		if (len == 0) {
			usleep(200);
			continue;
		}
		if (fr_parse(buf, (size_t)len, info) == 0 && info->kind == kind)
			return len;
	}
	return -ETIMEDOUT;
}

static void expect_ping_replies(int count, uint16_t first_seq, uint64_t *batches,
				int64_t *flush_ns)
{
	uint8_t buf[2048];
	struct fr_info info;
	struct nomnet_mem_sent sent;

	for (int i = 0; i < count; i++) {
		ASSERT_GT(expect(FR_ICMP_REPLY, buf, &info, &sent, 5000), 0);
		ASSERT_TRUE(info.csum_ok);
		ASSERT_EQ(info.icmp_seq, first_seq + i);
		ASSERT_EQ(info.plen, 32);
		if (batches)
			batches[i] = sent.batch;
		if (flush_ns)
			flush_ns[i] = sent.flush_ns;
	}
}

static void drain(void)
{
	uint8_t buf[2048];

	while (nomnet__mem_take(buf, sizeof(buf), NULL) > 0)
		;
}

static void test_arp_and_ping(struct nomnet *n)
{
	uint8_t f[256], buf[2048];
	struct fr_info info;
	struct nomnet_mem_sent sent;

	inject(f, fr_arp_request(f, &peer, me.ip));
	ASSERT_GT(expect(FR_ARP_REPLY, buf, &info, &sent, 5000), 0);
	ASSERT_EQ(info.src_ip, me.ip);
	ASSERT_EQ(info.dst_ip, peer.ip);
	ping(1);
	expect_ping_replies(1, 1, NULL, NULL);
	nomnet__check(n);
}

/* W = 0: every frame is a batch of its own and its reply leaves in a flush of its own. */
static void test_run_to_completion(struct nomnet *n)
{
	uint64_t b[8];
	struct nomnet_stats s0, s1;

	nomnet_stop(n);
	ASSERT_OK(nomnet_set_delay(n, 0));
	nomnet_stats_read(n, &s0);
	for (int i = 0; i < 8; i++)
		ping((uint16_t)(10 + i));
	ASSERT_OK(nomnet_start(n));
	expect_ping_replies(8, 10, b, NULL);
	for (int i = 1; i < 8; i++)
		ASSERT_NE(b[i], b[i - 1]);
	nomnet_stats_read(n, &s1);
	ASSERT_EQ(s1.rx_batches - s0.rx_batches, 8);
	ASSERT_EQ(s1.rx_hist[0] - s0.rx_hist[0], 8);
	ASSERT_GE(s1.tx_batches - s0.tx_batches, 8);
	/* Each ping is one timed request; every stage's histogram counts it once, and the total
	 * covers the rx, stack and tx stages (the app stage is 0: ICMP has no app). */
	ASSERT_EQ(s1.timed_passes - s0.timed_passes, 8);
	for (unsigned st = 0; st < NOMNET_STAGES; st++) {
		uint64_t c = 0;

		for (unsigned k = 0; k < NOMNET_LAT_BUCKETS; k++)
			c += s1.stage_hist[st][k] - s0.stage_hist[st][k];
		ASSERT_EQ(c, 8);
	}
	ASSERT_GT(s1.stage_ns[NOMNET_ST_TOTAL] - s0.stage_ns[NOMNET_ST_TOTAL], 0);
	ASSERT_GE(s1.stage_ns[NOMNET_ST_TOTAL] - s0.stage_ns[NOMNET_ST_TOTAL],
		  (s1.stage_ns[NOMNET_ST_RX] - s0.stage_ns[NOMNET_ST_RX]) +
			  (s1.stage_ns[NOMNET_ST_STACK] - s0.stage_ns[NOMNET_ST_STACK]) +
			  (s1.stage_ns[NOMNET_ST_TX] - s0.stage_ns[NOMNET_ST_TX]));
	ASSERT_EQ(s1.stage_ns[NOMNET_ST_APP] - s0.stage_ns[NOMNET_ST_APP], 0);
	ASSERT_GT(s1.stage_ns[NOMNET_ST_STX] - s0.stage_ns[NOMNET_ST_STX], 0);
	ASSERT_TRUE(s1.slowest.ns[NOMNET_ST_TOTAL] > 0 && s1.slowest.rx_frames == 1 &&
		    s1.slowest.tx_frames == 1);
}

/* W = 1 ms: three queued pings go to the stack as one batch; their replies wait for the
 * first to have waited W, then leave in one flush. */
static void test_delay(struct nomnet *n)
{
	uint64_t b[3];
	int64_t flush[3], t_start;
	struct nomnet_stats s0, s1;

	nomnet_stop(n);
	ASSERT_OK(nomnet_set_delay(n, 1000000));
	nomnet_stats_read(n, &s0);
	for (int i = 0; i < 3; i++)
		ping((uint16_t)(30 + i));
	t_start = now_ns();
	ASSERT_OK(nomnet_start(n));
	expect_ping_replies(3, 30, b, flush);
	ASSERT_EQ(b[0], b[1]);
	ASSERT_EQ(b[1], b[2]);
	ASSERT_GE(flush[0] - t_start, 1000000);
	nomnet_stats_read(n, &s1);
	ASSERT_EQ(s1.rx_batches - s0.rx_batches, 1);
	ASSERT_EQ(s1.rx_hist[2] - s0.rx_hist[2], 1); /* a batch of 3 */
	ASSERT_EQ(s1.rx_handoff_empty - s0.rx_handoff_empty, 1);
	ASSERT_EQ(s1.tx_flush_delay - s0.tx_flush_delay, 1);
	ASSERT_EQ(s1.tx_hist[2] - s0.tx_hist[2], 1);
}

/* A full transmit batch (tx_batch = 4) leaves at once, whatever W. */
static void test_full_batch(struct nomnet *n)
{
	uint64_t b[8];
	struct nomnet_stats s0, s1;

	nomnet_stop(n);
	ASSERT_OK(nomnet_set_delay(n, 1000000));
	nomnet_stats_read(n, &s0);
	for (int i = 0; i < 8; i++)
		ping((uint16_t)(40 + i));
	ASSERT_OK(nomnet_start(n));
	expect_ping_replies(8, 40, b, NULL);
	for (int i = 0; i < 8; i++)
		ASSERT_EQ(b[i], b[i / 4 * 4]);
	ASSERT_NE(b[0], b[4]);
	nomnet_stats_read(n, &s1);
	ASSERT_EQ(s1.tx_flush_full - s0.tx_flush_full, 2);
	ASSERT_EQ(s1.rx_batches - s0.rx_batches, 1);
}

static void test_interrupt(struct nomnet *n)
{
	struct nomnet_stats s;
	int64_t deadline = now_ns() + 5000000000LL;

	ASSERT_OK(nomnet_set_delay(n, 0));
	ASSERT_OK(nomnet_set_mode(n, NOMNET_INTERRUPT));
	ASSERT_EQ(nomnet_get_mode(n), NOMNET_INTERRUPT);
	do {
		nomnet_stats_read(n, &s);
		usleep(1000);
	} while (s.sleeps == 0 && now_ns() < deadline);
	ASSERT_GT(s.sleeps, 0);
	ping(60);
	expect_ping_replies(1, 60, NULL, NULL);
	ASSERT_OK(nomnet_set_mode(n, NOMNET_POLL));
}

/* Hybrid polling: with a 200 ms budget the loop does not sleep between pings 20 ms apart
 * (each finds it spinning: a sleep avoided), and once the budget is used up it sleeps; with
 * the budget back at 0 it sleeps after every ping. */
static void test_spin(struct nomnet *n)
{
	struct nomnet_stats s0, s1;
	int64_t deadline;

	ASSERT_EQ(nomnet_set_spin(n, -1), -EINVAL);
	ASSERT_EQ(nomnet_set_spin(n, NOMNET_SPIN_MAX_NS + 1), -EINVAL);
	ASSERT_OK(nomnet_set_delay(n, 0));
	ASSERT_OK(nomnet_set_mode(n, NOMNET_INTERRUPT));
	ASSERT_OK(nomnet_set_spin(n, 200000000));
	ASSERT_EQ(nomnet_get_spin(n), 200000000);
	ping(70);
	expect_ping_replies(1, 70, NULL, NULL);
	nomnet_stats_read(n, &s0);
	for (int i = 0; i < 5; i++) {
		usleep(20000);
		ping((uint16_t)(71 + i));
		expect_ping_replies(1, (uint16_t)(71 + i), NULL, NULL);
	}
	nomnet_stats_read(n, &s1);
	ASSERT_EQ(s1.spin_ns, 200000000);
	ASSERT_GE(s1.spin_hits - s0.spin_hits, 5);
	ASSERT_EQ(s1.sleeps - s0.sleeps, 0);
	ASSERT_GT(s1.ns_spin - s0.ns_spin, 80000000); /* it spun through the gaps */
	deadline = now_ns() + 5000000000LL;
	do {
		usleep(10000);
		nomnet_stats_read(n, &s1);
	} while (s1.spin_misses == s0.spin_misses && now_ns() < deadline);
	ASSERT_EQ(s1.spin_misses - s0.spin_misses, 1);
	ASSERT_GT(s1.sleeps, s0.sleeps);
	ASSERT_OK(nomnet_set_spin(n, 0));
	nomnet_stats_read(n, &s0);
	for (int i = 0; i < 3; i++) {
		usleep(20000);
		ping((uint16_t)(80 + i));
		expect_ping_replies(1, (uint16_t)(80 + i), NULL, NULL);
	}
	usleep(20000);
	nomnet_stats_read(n, &s1);
	ASSERT_EQ(s1.spin_hits - s0.spin_hits, 0);
	ASSERT_GE(s1.sleeps - s0.sleeps, 3);
	ASSERT_OK(nomnet_set_mode(n, NOMNET_POLL));
}

struct churn {
	struct nomnet *n;
	volatile int stop;
};

static void *churn_main(void *arg)
{
	static const int64_t d[] = {0, 2000, 5000, 10000, 20000, 40000};
	struct churn *c = arg;
	unsigned seed = 5;

	while (!c->stop) {
		nomnet_set_delay(c->n, d[rand_r(&seed) % 6]);
		nomnet_set_mode(c->n, rand_r(&seed) % 2 ? NOMNET_INTERRUPT : NOMNET_POLL);
		usleep(300);
	}
	return NULL;
}

/* Pings one at a time while another thread keeps changing W and the mode. */
static void test_churn(struct nomnet *n)
{
	struct churn c = {n, 0};
	struct nomnet_stats s0, s1;
	pthread_t th;

	nomnet_stats_read(n, &s0);
	ASSERT_OK(pthread_create(&th, NULL, churn_main, &c));
	for (int i = 0; i < 300; i++) {
		ping((uint16_t)(1000 + i));
		expect_ping_replies(1, (uint16_t)(1000 + i), NULL, NULL);
	}
	c.stop = 1;
	pthread_join(th, NULL);
	nomnet_stats_read(n, &s1);
	ASSERT_GT(s1.delay_changes - s0.delay_changes, 10);
	ASSERT_GT(s1.mode_changes - s0.mode_changes, 10);
	ASSERT_OK(nomnet_set_delay(n, 0));
	ASSERT_OK(nomnet_set_mode(n, NOMNET_POLL));
}

/* ---- TCP over the in-memory wire ---- */

struct tcp_state {
	int accepted;
	int closed;
	size_t got;
	char data[64];
	int echo;
};

static int t_accept(void *larg, struct nomnet_tcp *c, void **carg)
{
	struct tcp_state *st = larg;

	(void)c;
	st->accepted++;
	*carg = st;
	return 0;
}

static void t_recv(void *arg, struct nomnet_tcp *c, const void *data, size_t len)
{
	struct tcp_state *st = arg;
	size_t acc;

	if (st->got + len < sizeof(st->data))
		memcpy(st->data + st->got, data, len);
	st->got += len;
	if (st->echo)
		ASSERT_OK(nomnet_tcp_write(c, data, len, &acc));
	nomnet_tcp_recved(c, len);
}

static void t_closed(void *arg, struct nomnet_tcp *c, int err)
{
	struct tcp_state *st = arg;

	(void)c;
	(void)err;
	st->closed++;
}

static const struct nomnet_tcp_handler t_handler = {
	.accept = t_accept,
	.recv = t_recv,
	.closed = t_closed,
};

/* Handshake, then data; returns the server's next sequence number. */
static uint32_t tcp_open(uint16_t sport, uint16_t dport, uint32_t iss)
{
	uint8_t f[256], buf[2048];
	struct fr_info info;
	struct nomnet_mem_sent sent;
	uint32_t srv;

	inject(f, fr_tcp(f, &peer, &me, sport, dport, iss, 0, FR_SYN, NULL, 0));
	ASSERT_GT(expect(FR_TCP, buf, &info, &sent, 5000), 0);
	ASSERT_TRUE(info.csum_ok);
	ASSERT_EQ(info.flags & (FR_SYN | FR_ACK), FR_SYN | FR_ACK);
	ASSERT_EQ(info.ack, iss + 1);
	ASSERT_EQ(info.sport, dport);
	srv = info.seq + 1;
	inject(f, fr_tcp(f, &peer, &me, sport, dport, iss + 1, srv, FR_ACK, NULL, 0));
	return srv;
}

static void test_tcp(struct nomnet *n)
{
	struct tcp_state echo = {.echo = 1}, sink = {.echo = 0};
	struct nomnet_tcp *l1, *l2;
	uint8_t f[256], buf[2048];
	struct fr_info info;
	struct nomnet_mem_sent sent;
	struct nomnet_stats s0, s1;
	uint32_t srv;

	nomnet_lock(n);
	ASSERT_OK(nomnet_tcp_listen(n, 80, &t_handler, &echo, &l1));
	ASSERT_OK(nomnet_tcp_listen(n, 81, &t_handler, &sink, &l2));
	ASSERT_EQ(nomnet_tcp_listen(n, 80, &t_handler, &echo, &l1), -EADDRINUSE);
	nomnet_unlock(n);

	/* Echo: the reply carries the ACK. */
	srv = tcp_open(40000, 80, 1000);
	inject(f, fr_tcp(f, &peer, &me, 40000, 80, 1001, srv, FR_ACK | FR_PSH, "hello", 5));
	ASSERT_GT(expect(FR_TCP, buf, &info, &sent, 5000), 0);
	ASSERT_TRUE(info.csum_ok);
	ASSERT_EQ(info.plen, 5);
	ASSERT_TRUE(memcmp(info.payload, "hello", 5) == 0);
	ASSERT_EQ(info.ack, 1006);
	ASSERT_EQ(info.seq, srv);
	ASSERT_EQ(echo.accepted, 1);
	ASSERT_EQ(echo.got, 5);

	/* Sink: nothing to send back, yet the ACK leaves with the batch (a loop flush), not
	 * with lwIP's fast timer (a flush from the timer thread). */
	srv = tcp_open(40001, 81, 5000);
	drain();
	nomnet_stats_read(n, &s0);
	inject(f, fr_tcp(f, &peer, &me, 40001, 81, 5001, srv, FR_ACK | FR_PSH, "abc", 3));
	ASSERT_GT(expect(FR_TCP, buf, &info, &sent, 5000), 0);
	ASSERT_EQ(info.plen, 0);
	ASSERT_EQ(info.ack, 5004);
	nomnet_stats_read(n, &s1);
	ASSERT_EQ(s1.tx_flush_direct - s0.tx_flush_direct, 0);
	ASSERT_GE(s1.tx_flush_delay - s0.tx_flush_delay, 1);
	ASSERT_EQ(sink.got, 3);
	ASSERT_TRUE(memcmp(sink.data, "abc", 3) == 0);

	/* A reset from the peer reaches the app as `closed`. */
	inject(f, fr_tcp(f, &peer, &me, 40001, 81, 5004, srv, FR_RST, NULL, 0));
	for (int i = 0; i < 5000 && sink.closed == 0; i++)
		usleep(1000);
	ASSERT_EQ(sink.closed, 1);

	nomnet_lock(n);
	nomnet_tcp_close(l1);
	nomnet_tcp_close(l2);
	nomnet_unlock(n);
}

/* ---- an outgoing connection (nomnet_tcp_connect) to the peer ---- */

struct conn_state {
	int connected;   /* connected callbacks */
	int err;         /* the last one's err */
	struct nomnet_tcp *conn;
	size_t got;
	char data[64];
	int closed, closed_err;
};

static void c_connected(void *arg, struct nomnet_tcp *c, int err)
{
	struct conn_state *st = arg;

	st->connected++;
	st->err = err;
	st->conn = err ? NULL : c;
}

static void c_recv(void *arg, struct nomnet_tcp *c, const void *data, size_t len)
{
	struct conn_state *st = arg;

	if (st->got + len < sizeof(st->data))
		memcpy(st->data + st->got, data, len);
	st->got += len;
	nomnet_tcp_recved(c, len);
}

static void c_closed(void *arg, struct nomnet_tcp *c, int err)
{
	struct conn_state *st = arg;

	(void)c;
	st->closed++;
	st->closed_err = err;
}

static const struct nomnet_tcp_handler c_handler = {
	.connected = c_connected,
	.recv = c_recv,
	.closed = c_closed,
};

/* Waits for a TCP frame the stack sends to the peer's port (older connections' retransmits
 * are skipped). */
static void expect_tcp_to(uint16_t dport, uint8_t *buf, struct fr_info *info)
{
	struct nomnet_mem_sent sent;
	int64_t deadline = now_ns() + 5 * INT64_C(1000000000);

	while (now_ns() < deadline) {
		ASSERT_GT(expect(FR_TCP, buf, info, &sent, 5000), 0);
		if (info->dport == dport)
			return;
	}
	TEST_FAIL("no TCP frame to port %u", (unsigned)dport);
}

static void wait_for(const int *counter, int value)
{
	for (int i = 0; i < 5000 && *counter < value; i++)
		usleep(1000);
	ASSERT_EQ(*counter, value);
}

static void test_tcp_connect(struct nomnet *n)
{
	struct conn_state ok = {0}, refused = {0};
	struct nomnet_tcp *c, *c2;
	uint8_t f[256], buf[2048];
	struct fr_info info;
	size_t acc;

	/* The handler must say where the outcome goes; the address must be IPv4. */
	struct nomnet_tcp_handler no_connected = c_handler;
	no_connected.connected = NULL;
	nomnet_lock(n);
	ASSERT_EQ(nomnet_tcp_connect(n, "10.9.0.1", 9000, &no_connected, &ok, &c), -EINVAL);
	ASSERT_EQ(nomnet_tcp_connect(n, "10.9.0.300", 9000, &c_handler, &ok, &c), -EINVAL);
	ASSERT_EQ(nomnet_tcp_connect(n, NULL, 9000, &c_handler, &ok, &c), -EINVAL);
	nomnet_unlock(n);

	/* The peer's MAC is in the stack's ARP cache (it asked for ours just now). */
	inject(f, fr_arp_request(f, &peer, me.ip));
	ASSERT_GT(expect(FR_ARP_REPLY, buf, &info, NULL, 5000), 0);

	/* SYN to the peer; its SYN|ACK makes `connected` report 0 and the stack ACKs. */
	nomnet_lock(n);
	ASSERT_OK(nomnet_tcp_connect(n, "10.9.0.1", 9000, &c_handler, &ok, &c));
	nomnet_unlock(n);
	expect_tcp_to(9000, buf, &info);
	ASSERT_TRUE(info.csum_ok);
	ASSERT_EQ(info.flags & (FR_SYN | FR_ACK), FR_SYN);
	ASSERT_EQ(info.src_ip, me.ip);
	ASSERT_EQ(info.dst_ip, peer.ip);
	uint16_t lport = info.sport;
	uint32_t iss = info.seq;
	ASSERT_EQ(ok.connected, 0);
	inject(f, fr_tcp(f, &peer, &me, 9000, lport, 70000, iss + 1, FR_SYN | FR_ACK, NULL, 0));
	wait_for(&ok.connected, 1);
	ASSERT_EQ(ok.err, 0);
	ASSERT_TRUE(ok.conn == c);
	expect_tcp_to(9000, buf, &info);
	ASSERT_EQ(info.flags & (FR_SYN | FR_ACK), FR_ACK);
	ASSERT_EQ(info.ack, 70001);
	char peer_name[32];
	nomnet_tcp_peer(c, peer_name, sizeof(peer_name));
	ASSERT_STR_EQ(peer_name, "10.9.0.1:9000");

	/* Data both ways on the connection the app opened. */
	nomnet_lock(n);
	ASSERT_OK(nomnet_tcp_write(c, "ping", 4, &acc));
	nomnet_unlock(n);
	ASSERT_EQ(acc, 4);
	expect_tcp_to(9000, buf, &info);
	ASSERT_EQ(info.plen, 4);
	ASSERT_TRUE(memcmp(info.payload, "ping", 4) == 0);
	ASSERT_EQ(info.seq, iss + 1);
	inject(f, fr_tcp(f, &peer, &me, 9000, lport, 70001, iss + 5, FR_ACK | FR_PSH, "pong!",
			 5));
	for (int i = 0; i < 5000 && ok.got < 5; i++)
		usleep(1000);
	ASSERT_EQ(ok.got, 5);
	ASSERT_TRUE(memcmp(ok.data, "pong!", 5) == 0);

	/* The peer resets it: `closed` with an error. */
	inject(f, fr_tcp(f, &peer, &me, 9000, lport, 70006, iss + 5, FR_RST, NULL, 0));
	wait_for(&ok.closed, 1);
	ASSERT_TRUE(ok.closed_err < 0);

	/* A refused connect (RST|ACK to the SYN): `connected` reports an error, once. */
	nomnet_lock(n);
	ASSERT_OK(nomnet_tcp_connect(n, "10.9.0.1", 9001, &c_handler, &refused, &c2));
	nomnet_unlock(n);
	expect_tcp_to(9001, buf, &info);
	ASSERT_EQ(info.flags & (FR_SYN | FR_ACK), FR_SYN);
	inject(f, fr_tcp(f, &peer, &me, 9001, info.sport, 0, info.seq + 1, FR_RST | FR_ACK, NULL,
			 0));
	wait_for(&refused.connected, 1);
	ASSERT_TRUE(refused.err < 0);
	ASSERT_TRUE(refused.conn == NULL);
	ASSERT_EQ(refused.closed, 0);
}

int main(void)
{
	struct nomnet_config cfg;
	struct nomnet *n, *other;
	struct nomnet_stats s;

	nomnet_config_init(&cfg);
	cfg.driver = "mem";
	cfg.addr = "10.9.0.2/24";
	cfg.tx_batch = 4;
	ASSERT_OK(nomnet_create(&cfg, &n));
	ASSERT_EQ(nomnet_create(&cfg, &other), -EBUSY);
	ASSERT_EQ(nomnet_set_delay(n, -1), -EINVAL);
	ASSERT_EQ(nomnet_set_delay(n, NOMNET_DELAY_MAX_NS + 1), -EINVAL);
	ASSERT_OK(nomnet_start(n));
	ASSERT_EQ(nomnet_start(n), -EALREADY);
	usleep(20000);
	drain(); /* gratuitous ARP */
	injected = 0;
	nomnet_stats_read(n, &s);
	uint64_t rx0 = s.rx_packets;

	test_arp_and_ping(n);
	test_run_to_completion(n);
	test_delay(n);
	test_full_batch(n);
	test_interrupt(n);
	test_spin(n);
	test_churn(n);
	test_tcp(n);
	test_tcp_connect(n);

	nomnet_stop(n);
	nomnet__check(n);
	nomnet_stats_read(n, &s);
	ASSERT_EQ(s.rx_packets - rx0, injected);
	ASSERT_EQ(s.rx_dropped, 0);
	ASSERT_EQ(s.tx_dropped, 0);
	nomnet_destroy(n);

	/* lwIP stays initialized; a new stack can be made after the first is gone. */
	cfg.addr = "10.9.1.2/24";
	ASSERT_OK(nomnet_create(&cfg, &n));
	nomnet_destroy(n);

	cfg.addr = "10.9.0.2/33";
	ASSERT_EQ(nomnet_create(&cfg, &n), -EINVAL);
	cfg.addr = "10.9.0.2/24";
	cfg.driver = "nosuch";
	ASSERT_EQ(nomnet_create(&cfg, &n), -ENODEV);
	printf("test_nomnet_loop: ok (%llu frames injected)\n", (unsigned long long)injected);
	return 0;
}
