/* test_priced_protocol.c: the real nom-priced between libnom and a scriptable market double.
 *
 * What the end-to-end test with the real market cannot force on cue: prices reaching the
 * app's wake-up, bids acknowledged and refused, cores acquired and the app's threads pinned
 * and unpinned (by acquire and release, and by hand with nom_pin_threads), memory raising the budget, charges from notices, a market that crashes and
 * comes back having lost its bids (nom-priced re-syncs them; the board goes stale, then fresh),
 * a market that stops answering, nom-priced killed and restarted under a running app, bad
 * requests on the local API, and an unknown tenant key. */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>
#include <zmq.h>

#include "bb/bb.h"
#include "common/error.h"
#include "common/transport.h"
#include "market_double.h"
#include "nom/nom.h"
#include "test.h"

static char keydir[64], instance[64], api[128], logpath[128];
static pid_t priced_pid = -1, stranger_pid = -1;
static struct mdouble *md;

static int64_t now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

static void cleanup(void)
{
	char path[128];

	if (access(logpath, F_OK) == 0)
		fprintf(stderr, "nom-priced's log: %s\n", logpath);
	if (priced_pid > 0) {
		kill(priced_pid, SIGKILL);
		waitpid(priced_pid, NULL, 0);
	}
	if (stranger_pid > 0) {
		kill(stranger_pid, SIGKILL);
		waitpid(stranger_pid, NULL, 0);
	}
	bb_path(instance, path, sizeof(path));
	unlink(path);
	snprintf(path, sizeof(path), "/dev/shm/nom.%s-stranger", instance);
	unlink(path);
	unlink(api + 6);
	const char *names[] = {"market.key", "market.pub", "alice.key", "alice.pub",
			       "stranger.key", "stranger.pub"};
	for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++) {
		snprintf(path, sizeof(path), "%s/%s", keydir, names[i]);
		unlink(path);
	}
	rmdir(keydir);
}

/* The wall clock just before the latest nom-priced was started: its request ids (its start
 * time + a counter) are above it. */
static int64_t spawned_wall_ns;

static pid_t spawn_priced(const char *inst, const char *key, const char *api_ep)
{
	char a[16][300];
	struct timespec wall;
	int n = 0;

	snprintf(a[n++], sizeof(a[0]), "%s/nom-priced", RAAS_BIN_DIR);
	snprintf(a[n++], sizeof(a[0]), "--set=priced.instance=%s", inst);
	snprintf(a[n++], sizeof(a[0]), "--set=priced.market=%s", md_tenant_endpoint(md));
	snprintf(a[n++], sizeof(a[0]), "--set=priced.prices=%s", md_price_endpoint(md));
	snprintf(a[n++], sizeof(a[0]), "--set=priced.tenant_key=%s/%s.key", keydir, key);
	snprintf(a[n++], sizeof(a[0]), "--set=priced.market_key=%s/market.pub", keydir);
	snprintf(a[n++], sizeof(a[0]), "--set=priced.api=%s", api_ep);
	snprintf(a[n++], sizeof(a[0]), "--set=priced.subscribe=bandwidth/h1");
	snprintf(a[n++], sizeof(a[0]), "--set=priced.host=h1");
	snprintf(a[n++], sizeof(a[0]), "--set=priced.ping_interval=200ms");
	snprintf(a[n++], sizeof(a[0]), "--set=priced.ping_timeout=1s");
	snprintf(a[n++], sizeof(a[0]), "--set=priced.request_timeout=1500ms");
	snprintf(a[n++], sizeof(a[0]), "--set=priced.stale_after=1s");
	snprintf(a[n++], sizeof(a[0]), "--check-invariants");
	snprintf(a[n++], sizeof(a[0]), "--log-level=debug");
	char *argv[17];
	for (int i = 0; i < n; i++)
		argv[i] = a[i];
	argv[n] = NULL;
	clock_gettime(CLOCK_REALTIME, &wall);
	spawned_wall_ns = (int64_t)wall.tv_sec * 1000000000 + wall.tv_nsec;
	pid_t pid = fork();
	if (pid == 0) {
		int fd = open(logpath, O_WRONLY | O_CREAT | O_APPEND, 0644);
		dup2(fd, 2);
		execv(argv[0], argv);
		_exit(127);
	}
	return pid;
}

/* Opens the instance's board once nom-priced created it. */
static struct nom *open_nom(const char *inst)
{
	struct nom_options o = {.size = sizeof(o), .timeout_ns = 10 * INT64_C(1000000000)};
	struct nom *n = NULL;
	int64_t deadline = now_ns() + 30 * INT64_C(1000000000);
	int err;

	while ((err = nom_open(inst, &o, &n)) == -ENOENT && now_ns() < deadline)
		usleep(10000);
	if (err)
		TEST_FAIL("nom_open(%s): %s", inst, nom_strerror(err));
	return n;
}

/* Waits (sleeping on the board) until the market state is `state`. */
static void wait_market(struct nom *n, enum nom_market_state state, double seconds)
{
	struct nom_status st;
	int64_t deadline = now_ns() + (int64_t)(seconds * 1e9);

	for (;;) {
		ASSERT_OK(nom_status(n, &st));
		if (st.market == state)
			return;
		if (now_ns() > deadline)
			TEST_FAIL("market state %d (%s), waited %.1f s for %d", st.market, st.message,
				  seconds, state);
		nom_wait_change(n, 100 * INT64_C(1000000));
	}
}

/* Waits until the board shows the bid in the given state. */
static void wait_bid(const char *inst, const char *bid_id, uint32_t state, double seconds)
{
	struct bb_reader *r;
	struct bb_body *b = malloc(sizeof(*b));
	int64_t deadline = now_ns() + (int64_t)(seconds * 1e9);
	uint32_t seen;

	ASSERT_OK(bb_reader_open(inst, &r));
	seen = bb_reader_seq(r);
	for (;;) {
		ASSERT_OK(bb_snapshot(r, b, NULL));
		for (uint32_t i = 0; i < b->state.nbids; i++)
			if (strcmp(b->bids[i].bid_id, bid_id) == 0 && b->bids[i].state == state) {
				bb_reader_close(r);
				free(b);
				return;
			}
		if (now_ns() > deadline)
			TEST_FAIL("bid %s not %s on the board after %.1f s", bid_id,
				  bb_bid_state_name(state), seconds);
		bb_wait_change(r, &seen, 100 * INT64_C(1000000));
	}
}

/* Publishes a price every 100 ms until the app sees it on a fresh board: a new subscriber
 * misses what a PUB sends before its subscription arrives (ZeroMQ's slow joiner), which the
 * real market's per-round prices make up for. */
static void publish_until_seen(struct nom *n, int64_t price, uint64_t round)
{
	struct nom_price_info p;
	struct nom_status st;
	int64_t deadline = now_ns() + 30 * INT64_C(1000000000);

	for (;;) {
		md_publish(md, RAAS__RESOURCE__RESOURCE_BANDWIDTH, "h1", price, round);
		nom_wait_change(n, 100000000);
		if (nom_price(n, NOM_BANDWIDTH, "h1", &p) == 0 && p.unit_price == price &&
		    nom_status(n, &st) == 0 && st.market == NOM_MARKET_FRESH)
			return;
		if (now_ns() > deadline)
			TEST_FAIL("price %lld not seen on a fresh board within 30 s", (long long)price);
	}
}

static int affinity_count(void)
{
	cpu_set_t set;
	sched_getaffinity(0, sizeof(set), &set);
	return CPU_COUNT(&set);
}

/* Whether every thread of this process has exactly `count` allowed CPUs. */
static bool all_threads_have(int count)
{
	DIR *d = opendir("/proc/self/task");
	struct dirent *de;
	bool ok = true;

	while ((de = readdir(d))) {
		cpu_set_t set;
		if (de->d_name[0] == '.')
			continue;
		if (sched_getaffinity(atoi(de->d_name), sizeof(set), &set) == 0 &&
		    CPU_COUNT(&set) != count)
			ok = false;
	}
	closedir(d);
	return ok;
}

static void test_prices_and_bids(struct nom *n)
{
	struct nom_price_info p;
	struct nom_status st;

	/* Hello answered, no price yet: connecting, with the tenant's name. */
	int64_t deadline = now_ns() + 30 * INT64_C(1000000000);
	while (nom_status(n, &st) == 0 && !st.tenant[0] && now_ns() < deadline)
		nom_wait_change(n, 100000000);
	ASSERT_STR_EQ(st.tenant, "alice");
	ASSERT_EQ(st.market, NOM_MARKET_CONNECTING);
	ASSERT_STR_CONTAINS(st.message, "waiting for prices");
	ASSERT_TRUE(st.priced_alive);
	ASSERT_EQ(nom_price(n, NOM_BANDWIDTH, "h1", &p), -ENOENT);
	ASSERT_STR_CONTAINS(nom_last_error(n), "no bandwidth price");

	/* A price change reaches the app's wake-up. */
	publish_until_seen(n, 5000, 1);
	ASSERT_OK(nom_price(n, NOM_BANDWIDTH, "h1", &p));
	ASSERT_EQ(p.unit_price, 5000);
	ASSERT_EQ(p.round, 1);
	ASSERT_TRUE(!p.stale);
	md_publish(md, RAAS__RESOURCE__RESOURCE_BANDWIDTH, "h1", 7000, 2);
	ASSERT_OK(nom_wait_change(n, 30 * INT64_C(1000000000)));
	deadline = now_ns() + 30 * INT64_C(1000000000);
	while (nom_price(n, NOM_BANDWIDTH, "h1", &p) == 0 && p.unit_price != 7000 &&
	       now_ns() < deadline)
		nom_wait_change(n, 100000000);
	ASSERT_EQ(p.unit_price, 7000);
	/* A host whose name extends a subscribed one is not on the board. */
	md_publish(md, RAAS__RESOURCE__RESOURCE_BANDWIDTH, "h10", 1, 2);
	md_publish(md, RAAS__RESOURCE__RESOURCE_BANDWIDTH, "h1", 7001, 2);
	deadline = now_ns() + 30 * INT64_C(1000000000);
	while (nom_price(n, NOM_BANDWIDTH, "h1", &p) == 0 && p.unit_price != 7001 &&
	       now_ns() < deadline)
		nom_wait_change(n, 100000000);
	ASSERT_EQ(nom_price(n, NOM_BANDWIDTH, "h10", &p), -ENOENT);

	/* A standing bid: acknowledged, on the board, at the market. */
	/* Not time(NULL) now: nom-priced may have started in the previous second. */
	uint64_t before = (uint64_t)spawned_wall_ns;
	struct nom_bid b = {.bid_id = "bw-1", .resource = NOM_BANDWIDTH, .host = "h1",
			    .min_quantity = 10, .max_quantity = 100, .unit_price = 9000};
	uint64_t eff = 0;
	ASSERT_OK(nom_bid(n, &b, &eff));
	ASSERT_EQ(eff, 3);
	int64_t price;
	ASSERT_TRUE(md_has_bid(md, "bw-1", &price));
	ASSERT_EQ(price, 9000);
	ASSERT_GT(md_last_rid(md, RAAS__ENVELOPE__BODY_BID), before); /* nom-priced's own ids */
	wait_bid(instance, "bw-1", BB_BID_ACTIVE, 30);

	/* Bad bids never leave the app; refused ones come back with the market's words. */
	b.max_quantity = 1;
	ASSERT_EQ(nom_bid(n, &b, NULL), -EINVAL);
	ASSERT_STR_CONTAINS(nom_last_error(n), "quantity range");
	b.max_quantity = 100;
	b.bid_id = "bw-2";
	md_set_mode(md, MD_REFUSE, RAAS__ERROR_CODE__ERROR_BUDGET);
	ASSERT_EQ(nom_bid(n, &b, NULL), -RAAS_EBUDGET);
	ASSERT_STR_CONTAINS(nom_last_error(n), "refused by the double");
	ASSERT_EQ(nom_acquire(n, NOM_BANDWIDTH, "h1", 10, 0), -RAAS_EBUDGET);
	md_set_mode(md, MD_NORMAL, 0);
	wait_bid(instance, "bw-2", BB_BID_REFUSED, 30);

	/* Cancel. */
	struct nom_bid c = b;
	c.bid_id = "bw-3";
	ASSERT_OK(nom_bid(n, &c, NULL));
	ASSERT_OK(nom_cancel(n, "bw-3"));
	ASSERT_TRUE(!md_has_bid(md, "bw-3", NULL));
	ASSERT_EQ(nom_cancel(n, "bw-3"), -ENOENT);
	ASSERT_EQ(nom_cancel(n, ""), -EINVAL);
}

static void test_holdings(struct nom *n)
{
	struct nom_holding_info h;
	struct nom_status st;
	int ncpu = affinity_count();

	/* Bandwidth: acquired, held once the notice (or the holdings query) says so. */
	ASSERT_OK(nom_acquire(n, NOM_BANDWIDTH, "h1", 50, 10000));
	ASSERT_EQ(md_holding(md, RAAS__RESOURCE__RESOURCE_BANDWIDTH, "h1"), 50);
	md_notice(md, 3, 1234);
	int64_t deadline = now_ns() + 30 * INT64_C(1000000000);
	for (;;) {
		ASSERT_OK(nom_holding(n, NOM_BANDWIDTH, "h1", &h));
		ASSERT_OK(nom_status(n, &st));
		if (h.quantity == 50 && st.charged_total == 1234)
			break;
		if (now_ns() > deadline)
			TEST_FAIL("holding %lld, charged %lld", (long long)h.quantity,
				  (long long)st.charged_total);
		nom_wait_change(n, 100000000);
	}
	ASSERT_EQ(st.last_charged, 1234);
	md_notice(md, 4, 766);
	deadline = now_ns() + 30 * INT64_C(1000000000);
	while (nom_status(n, &st) == 0 && st.charged_total != 2000 && now_ns() < deadline)
		nom_wait_change(n, 100000000);
	ASSERT_EQ(st.charged_total, 2000);

	/* Memory raises the budget. */
	ASSERT_OK(nom_acquire(n, NOM_MEMORY, "h1", 256, 0));
	deadline = now_ns() + 30 * INT64_C(1000000000);
	while (nom_status(n, &st) == 0 && st.memory_budget_mib != 256 && now_ns() < deadline)
		nom_wait_change(n, 100000000);
	ASSERT_EQ(st.memory_budget_mib, 256);

	/* nom_pin_threads with no cores held: nothing to pin to, the affinity stays. */
	ASSERT_EQ(nom_pin_threads(n, "h1"), -ENOENT);
	ASSERT_STR_CONTAINS(nom_last_error(n), "no cores with CPUs on the board for host h1");
	ASSERT_EQ(affinity_count(), ncpu);

	/* Cores: the threads (all of them: the double's too) are pinned to the held CPU. */
	ASSERT_OK(nom_acquire(n, NOM_CORES, "h1", 1, 0));
	ASSERT_OK(nom_holding(n, NOM_CORES, "h1", &h));
	ASSERT_EQ(h.quantity, 1);
	ASSERT_EQ(h.ncpus, 1);
	ASSERT_EQ(affinity_count(), 1);
	ASSERT_TRUE(all_threads_have(1));
	cpu_set_t set;
	sched_getaffinity(0, sizeof(set), &set);
	ASSERT_TRUE(CPU_ISSET(__builtin_ctzll(h.cpus[0]), &set));
	/* nom_pin_threads by hand: a host without cores held restores the process's own
	 * affinity in every thread, the host with the cores pins them all again. */
	ASSERT_OK(nom_pin_threads(n, "h2"));
	ASSERT_EQ(affinity_count(), ncpu);
	ASSERT_TRUE(all_threads_have(ncpu));
	ASSERT_OK(nom_pin_threads(n, "h1"));
	ASSERT_EQ(affinity_count(), 1);
	ASSERT_TRUE(all_threads_have(1));
	sched_getaffinity(0, sizeof(set), &set);
	ASSERT_TRUE(CPU_ISSET(__builtin_ctzll(h.cpus[0]), &set));
	/* Released: the affinity the process had comes back. */
	ASSERT_OK(nom_release(n, NOM_CORES, "h1", 0));
	deadline = now_ns() + 30 * INT64_C(1000000000);
	while (affinity_count() != ncpu && now_ns() < deadline)
		nom_wait_change(n, 100000000);
	ASSERT_EQ(affinity_count(), ncpu);
	ASSERT_TRUE(all_threads_have(ncpu));
	ASSERT_OK(nom_holding(n, NOM_CORES, "h1", &h));
	ASSERT_EQ(h.quantity, 0);
	ASSERT_OK(nom_release(n, NOM_MEMORY, "h1", 0));
}

static void test_market_restart(struct nom *n)
{
	struct nom_status st;

	publish_until_seen(n, 7100, 5);
	/* The market's record of the bandwidth acquire is listed on the board. */
	wait_bid(instance, "acquire/bandwidth/h1", BB_BID_ACTIVE, 30);
	int bids_before = md_count(md, RAAS__ENVELOPE__BODY_BID);

	/* Killed: the board goes stale. A market that lost its bids gets them back. */
	md_crash(md);
	md_forget_bids(md);
	wait_market(n, NOM_MARKET_STALE, 30);
	ASSERT_OK(nom_status(n, &st));
	ASSERT_GE(st.reconnects, 1);
	struct nom_price_info p;
	ASSERT_OK(nom_price(n, NOM_BANDWIDTH, "h1", &p));
	ASSERT_TRUE(p.stale);
	/* Requests meanwhile wait, then fail with "unavailable", saying they were not sent. */
	struct nom_bid b = {.bid_id = "bw-out", .resource = NOM_BANDWIDTH, .host = "h1",
			    .min_quantity = 1, .max_quantity = 2, .unit_price = 1};
	ASSERT_EQ(nom_bid(n, &b, NULL), -EAGAIN);
	ASSERT_STR_CONTAINS(nom_last_error(n), "not sent");

	md_restart(md);
	int64_t deadline = now_ns() + 30 * INT64_C(1000000000);
	while (!md_has_bid(md, "bw-1", NULL) && now_ns() < deadline)
		usleep(20000);
	ASSERT_TRUE(md_has_bid(md, "bw-1", NULL)); /* re-synced */
	ASSERT_GT(md_count(md, RAAS__ENVELOPE__BODY_BID), bids_before);
	ASSERT_TRUE(!md_has_bid(md, "bw-2", NULL)); /* refused bids are not re-sent */
	ASSERT_EQ(md_own_id_refusals(md), 0);         /* nor the market's acquire records */
	/* Fresh again once prices flow (the price feed was subscribed again). */
	deadline = now_ns() + 30 * INT64_C(1000000000);
	for (uint64_t round = 6;; round++) {
		md_publish(md, RAAS__RESOURCE__RESOURCE_BANDWIDTH, "h1", 7200, round);
		ASSERT_OK(nom_status(n, &st));
		if (st.market == NOM_MARKET_FRESH)
			break;
		if (now_ns() > deadline)
			TEST_FAIL("not fresh after the restart: %s", st.message);
		nom_wait_change(n, 100000000);
	}
	wait_bid(instance, "bw-1", BB_BID_ACTIVE, 30);

	/* A market that stops answering: the app's request times out, the board goes stale. */
	md_set_mode(md, MD_IGNORE, 0);
	ASSERT_EQ(nom_acquire(n, NOM_BANDWIDTH, "h1", 1, 0), -EAGAIN);
	ASSERT_STR_CONTAINS(nom_last_error(n), "may have been applied");
	wait_market(n, NOM_MARKET_STALE, 30);
	md_set_mode(md, MD_NORMAL, 0);
	deadline = now_ns() + 30 * INT64_C(1000000000);
	for (uint64_t round = 50;; round++) {
		md_publish(md, RAAS__RESOURCE__RESOURCE_BANDWIDTH, "h1", 7300, round);
		ASSERT_OK(nom_status(n, &st));
		if (st.market == NOM_MARKET_FRESH)
			break;
		if (now_ns() > deadline)
			TEST_FAIL("not fresh after the market answered again: %s", st.message);
		nom_wait_change(n, 100000000);
	}
}

static void test_priced_restart(struct nom *n)
{
	struct nom_status st;

	kill(priced_pid, SIGKILL);
	waitpid(priced_pid, NULL, 0);
	priced_pid = -1;
	ASSERT_OK(nom_status(n, &st));
	ASSERT_TRUE(!st.priced_alive);
	ASSERT_EQ(st.market, NOM_MARKET_STALE);
	ASSERT_STR_CONTAINS(st.message, "not running");
	struct nom_bid b = {.bid_id = "bw-x", .resource = NOM_BANDWIDTH, .host = "h1",
			    .min_quantity = 1, .max_quantity = 2, .unit_price = 1};
	ASSERT_EQ(nom_bid(n, &b, NULL), -ENOTCONN);

	/* A new nom-priced takes the board over in place: the app's handle goes on working and
	 * sees the standing bids the market has. */
	priced_pid = spawn_priced(instance, "alice", api);
	wait_bid(instance, "bw-1", BB_BID_ACTIVE, 30);
	ASSERT_OK(nom_status(n, &st));
	ASSERT_TRUE(st.priced_alive);
	ASSERT_EQ(st.priced_pid, priced_pid);
	b.bid_id = "bw-4";
	ASSERT_OK(nom_bid(n, &b, NULL));
	ASSERT_TRUE(md_has_bid(md, "bw-4", NULL));
	publish_until_seen(n, 7400, 99);

	/* The same from the shell, with nom-ctl. */
	char cmd[512];
	snprintf(cmd, sizeof(cmd), "%s/nom-ctl %s bid ctl-1 bandwidth h1 1 2 0.000001 >/dev/null",
		 RAAS_BIN_DIR, instance);
	ASSERT_EQ(system(cmd), 0);
	int64_t price;
	ASSERT_TRUE(md_has_bid(md, "ctl-1", &price));
	ASSERT_EQ(price, 1000);
	snprintf(cmd, sizeof(cmd), "%s/nom-ctl %s cancel nope 2>/dev/null", RAAS_BIN_DIR, instance);
	ASSERT_EQ(WEXITSTATUS(system(cmd)), 65);
	snprintf(cmd, sizeof(cmd), "%s/nom-ctl %s bid x cpu h1 1 2 1 2>/dev/null", RAAS_BIN_DIR,
		 instance);
	ASSERT_EQ(WEXITSTATUS(system(cmd)), 64);
	snprintf(cmd, sizeof(cmd), "%s/nom-ctl %s status | grep -q 'tenant=alice .*priced_alive=yes'",
		 RAAS_BIN_DIR, instance);
	ASSERT_EQ(system(cmd), 0);
}

/* Raw messages on the local API: garbage and wrong bodies get an error, nom-priced lives. */
static void test_bad_requests(struct nom *n)
{
	void *ctx = tp_context_create(0, 1), *s;
	struct tp_msg m;
	char why[200];

	ASSERT_OK(tp_connect(ctx, ZMQ_DEALER, api, NULL, NULL, &s));
	int timeout = 5000;
	zmq_setsockopt(s, ZMQ_RCVTIMEO, &timeout, sizeof(timeout));
	zmq_pollitem_t item = {.socket = s, .events = ZMQ_POLLOUT};
	zmq_poll(&item, 1, 5000);
	ASSERT_EQ(zmq_send(s, "garbage", 7, 0), 7);
	ASSERT_OK(tp_recv(s, 0, WIRE_MAX_BYTES, &m, why, sizeof(why)));
	ASSERT_EQ(m.env->reply->error->code, RAAS__ERROR_CODE__ERROR_MALFORMED);
	ASSERT_STR_CONTAINS(m.env->reply->error->message, "do not decode");
	tp_msg_clear(&m);

	Raas__Envelope e;
	Raas__Heartbeat hb;
	wire_envelope_init(&e, 77);
	raas__heartbeat__init(&hb);
	e.body_case = RAAS__ENVELOPE__BODY_HEARTBEAT;
	e.heartbeat = &hb;
	ASSERT_OK(tp_send(s, NULL, &e, 0));
	ASSERT_OK(tp_recv(s, 0, WIRE_MAX_BYTES, &m, why, sizeof(why)));
	ASSERT_EQ(m.env->request_id, 77);
	ASSERT_EQ(m.env->reply->error->code, RAAS__ERROR_CODE__ERROR_MALFORMED);
	ASSERT_STR_CONTAINS(m.env->reply->error->message, "not heartbeat");
	tp_msg_clear(&m);

	Raas__Bid bid;
	raas__bid__init(&bid);
	bid.bid_id = "x";
	bid.resource = RAAS__RESOURCE__RESOURCE_EGRESS;
	bid.max_quantity = 1;
	wire_envelope_init(&e, 78);
	e.body_case = RAAS__ENVELOPE__BODY_BID;
	e.bid = &bid;
	ASSERT_OK(tp_send(s, NULL, &e, 0));
	ASSERT_OK(tp_recv(s, 0, WIRE_MAX_BYTES, &m, why, sizeof(why)));
	ASSERT_EQ(m.env->reply->error->code, RAAS__ERROR_CODE__ERROR_MALFORMED);
	ASSERT_STR_CONTAINS(m.env->reply->error->message, "not one that can be held");
	tp_msg_clear(&m);

	e.version = 9;
	ASSERT_OK(tp_send(s, NULL, &e, 0));
	ASSERT_OK(tp_recv(s, 0, WIRE_MAX_BYTES, &m, why, sizeof(why)));
	ASSERT_EQ(m.env->reply->error->code, RAAS__ERROR_CODE__ERROR_VERSION);
	tp_msg_clear(&m);
	tp_close(s);
	tp_context_destroy(ctx);

	struct nom_status st;
	ASSERT_OK(nom_status(n, &st));
	ASSERT_TRUE(st.priced_alive);
	ASSERT_EQ(kill(priced_pid, 0), 0);
}

/* A key the market does not know gets no service, and the board says why. */
static void test_unknown_key(void)
{
	char inst[80], ep[160];

	snprintf(inst, sizeof(inst), "%s-stranger", instance);
	snprintf(ep, sizeof(ep), "ipc:///tmp/nomrt-%d-stranger.sock", (int)getpid());
	stranger_pid = spawn_priced(inst, "stranger", ep);
	struct nom *n = open_nom(inst);
	struct nom_status st;
	int64_t deadline = now_ns() + 30 * INT64_C(1000000000);
	for (;;) {
		ASSERT_OK(nom_status(n, &st));
		if (strstr(st.message, "refused"))
			break;
		if (now_ns() > deadline)
			TEST_FAIL("no refusal on the stranger's board: %d %s", st.market, st.message);
		nom_wait_change(n, 100000000);
	}
	ASSERT_EQ(st.market, NOM_MARKET_CONNECTING);
	nom_close(n);
	kill(stranger_pid, SIGTERM);
	int status;
	waitpid(stranger_pid, &status, 0);
	stranger_pid = -1;
	ASSERT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 0);
	unlink(ep + 6);
}

int main(void)
{
	snprintf(keydir, sizeof(keydir), "/tmp/nomrt-keys-%d", (int)getpid());
	snprintf(instance, sizeof(instance), "nomrt-proto-%d", (int)getpid());
	snprintf(api, sizeof(api), "ipc:///tmp/nomrt-%d.sock", (int)getpid());
	snprintf(logpath, sizeof(logpath), "/tmp/nomrt-%d-priced.log", (int)getpid());
	atexit(cleanup);
	ASSERT_OK(md_start(keydir, "alice", &md));
	priced_pid = spawn_priced(instance, "alice", api);
	struct nom *n = open_nom(instance);

	test_prices_and_bids(n);
	test_holdings(n);
	test_market_restart(n);
	test_priced_restart(n);
	test_bad_requests(n);
	test_unknown_key();

	/* A clean stop: the board says so, and stays for the apps. */
	kill(priced_pid, SIGTERM);
	int status;
	waitpid(priced_pid, &status, 0);
	priced_pid = -1;
	ASSERT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 0);
	struct nom_status st;
	ASSERT_OK(nom_status(n, &st));
	ASSERT_EQ(st.market, NOM_MARKET_STOPPED);
	nom_close(n);
	md_stop(md);
	if (!getenv("NOMRT_KEEP_LOG"))
		unlink(logpath);
	printf("test_priced_protocol: ok\n");
	return 0;
}
