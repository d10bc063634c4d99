/* test_bb.c: the bulletin board in one process and its children: create, publish, read,
 * invariants refused, one writer, take-over after a writer's death (also mid-update), boards
 * of another layout, retirement and waiting with a timeout. */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "bb/bb.h"
#include "common/error.h"
#include "test.h"

static char instance[64];

static int64_t now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

static void publish(struct bb_writer *w)
{
	char why[200] = "";
	int err = bb_writer_publish(w, 1700000000 * INT64_C(1000000000), now_ns(), why,
				    sizeof(why));
	if (err)
		TEST_FAIL("publish: %s: %s", raas_strerror(err), why);
}

static void test_names(void)
{
	char path[80];

	ASSERT_OK(bb_instance_valid("tenant-a_1.x"));
	ASSERT_EQ(bb_instance_valid(""), -EINVAL);
	ASSERT_EQ(bb_instance_valid(".hidden"), -EINVAL);
	ASSERT_EQ(bb_instance_valid("a/b"), -EINVAL);
	ASSERT_EQ(bb_instance_valid("a b"), -EINVAL);
	ASSERT_EQ(bb_instance_valid(NULL), -EINVAL);
	char longname[80];
	memset(longname, 'a', 64);
	longname[64] = 0;
	ASSERT_EQ(bb_instance_valid(longname), -EINVAL);
	longname[63] = 0;
	ASSERT_OK(bb_instance_valid(longname));
	ASSERT_OK(bb_path("t1", path, sizeof(path)));
	ASSERT_STR_EQ(path, "/dev/shm/nom.t1");
	ASSERT_EQ(bb_path("t1", path, 8), -ENAMETOOLONG);
	ASSERT_STR_EQ(bb_resource_name(BB_RES_BANDWIDTH), "bandwidth");
	ASSERT_STR_EQ(bb_resource_name(99), "?");
	ASSERT_STR_EQ(bb_market_state_name(BB_MARKET_STALE), "stale");
	ASSERT_STR_EQ(bb_bid_state_name(BB_BID_ACTIVE), "active");
}

static void test_publish_read(void)
{
	struct bb_writer *w;
	struct bb_reader *r;
	struct bb_price p;
	struct bb_state st;
	char why[200];

	ASSERT_EQ(bb_reader_open(instance, &r), -ENOENT);
	ASSERT_OK(bb_writer_open(instance, 0640, &w));
	struct stat sb;
	char path[80];
	ASSERT_OK(bb_path(instance, path, sizeof(path)));
	ASSERT_OK(stat(path, &sb));
	ASSERT_EQ(sb.st_mode & 0777, 0640);
	ASSERT_EQ(sb.st_size, BB_FILE_SIZE);

	ASSERT_OK(bb_reader_open(instance, &r));
	const struct bb_header *h = bb_reader_header(r);
	ASSERT_EQ(h->magic, BB_MAGIC);
	ASSERT_EQ(h->version, BB_VERSION);
	ASSERT_STR_EQ(h->instance, instance);
	ASSERT_EQ(h->writer_pid, getpid());
	ASSERT_EQ(h->writer_epoch, 1);
	pid_t pid;
	ASSERT_TRUE(bb_writer_alive(r, &pid));
	ASSERT_EQ(pid, getpid());
	ASSERT_OK(bb_read_state(r, &st));
	ASSERT_EQ(st.market_state, BB_MARKET_CONNECTING);
	ASSERT_EQ(st.nprices, 0);
	ASSERT_EQ(st.update_count, 1);
	ASSERT_EQ(bb_read_price(r, BB_RES_BANDWIDTH, "h1", &p, NULL), -ENOENT);
	ASSERT_EQ(bb_read_price(r, 0, "", &p, NULL), -ENOENT);

	struct bb_body *b = bb_writer_body(w);
	struct bb_price *wp = bb_body_price_upsert(b, BB_RES_BANDWIDTH, "h1");
	ASSERT_TRUE(wp != NULL);
	wp->unit_price = 1234;
	wp->round = 7;
	b->state.market_state = BB_MARKET_FRESH;
	bb_set_string(b->state.tenant, sizeof(b->state.tenant), "alice");
	uint32_t seq0 = bb_reader_seq(r);
	/* Nothing is visible before the publish. */
	ASSERT_EQ(bb_read_price(r, BB_RES_BANDWIDTH, "h1", &p, NULL), -ENOENT);
	publish(w);
	ASSERT_EQ(bb_reader_seq(r), seq0 + 2);
	uint32_t ms = 99;
	ASSERT_OK(bb_read_price(r, BB_RES_BANDWIDTH, "h1", &p, &ms));
	ASSERT_EQ(ms, BB_MARKET_FRESH);
	ASSERT_EQ(p.unit_price, 1234);
	ASSERT_EQ(p.round, 7);
	ASSERT_STR_EQ(p.host, "h1");
	ASSERT_EQ(bb_read_price(r, BB_RES_CORES, "h1", &p, NULL), -ENOENT);
	ASSERT_EQ(bb_read_price(r, BB_RES_BANDWIDTH, "h2", &p, NULL), -ENOENT);

	/* Slots are stable: more prices do not move the first; the cache follows. */
	for (int i = 0; i < 10; i++) {
		char host[16];
		snprintf(host, sizeof(host), "x%d", i);
		wp = bb_body_price_upsert(b, BB_RES_CORES, host);
		ASSERT_TRUE(wp != NULL);
		wp->unit_price = 100 + i;
	}
	ASSERT_TRUE(bb_body_price_upsert(b, BB_RES_BANDWIDTH, "h1") == &b->prices[0]);
	b->prices[0].unit_price = 999;
	publish(w);
	ASSERT_OK(bb_read_price(r, BB_RES_BANDWIDTH, "h1", &p, NULL));
	ASSERT_EQ(p.unit_price, 999);
	ASSERT_OK(bb_read_price(r, BB_RES_CORES, "x9", &p, NULL));
	ASSERT_EQ(p.unit_price, 109);
	for (int i = 0; i < 10; i++) { /* more keys than cache slots */
		char host[16];
		snprintf(host, sizeof(host), "x%d", i);
		ASSERT_OK(bb_read_price(r, BB_RES_CORES, host, &p, NULL));
		ASSERT_EQ(p.unit_price, 100 + i);
	}
	ASSERT_OK(bb_read_state(r, &st));
	ASSERT_STR_EQ(st.tenant, "alice");
	ASSERT_EQ(st.market_state, BB_MARKET_FRESH);
	ASSERT_EQ(st.nprices, 11);

	/* Holdings and bids. */
	struct bb_holding *ho = bb_body_holding_upsert(b, BB_RES_CORES, "h1");
	ASSERT_TRUE(ho != NULL);
	ho->quantity = 2;
	ho->cpus[0] = 0x6;
	ho->ncpus = 2;
	ASSERT_TRUE(bb_body_holding_find(b, BB_RES_CORES, "h1") == ho);
	ASSERT_TRUE(bb_body_holding_find(b, BB_RES_CORES, "h2") == NULL);
	struct bb_bid *bid = bb_body_bid_upsert(b, "bid-a");
	bid->resource = BB_RES_BANDWIDTH;
	bid->state = BB_BID_ACTIVE;
	bid = bb_body_bid_upsert(b, "bid-b");
	bid->resource = BB_RES_CORES;
	bid->state = BB_BID_SENDING;
	ASSERT_EQ(b->state.nbids, 2);
	publish(w);
	struct bb_body *snap = malloc(sizeof(*snap));
	uint32_t sseq;
	ASSERT_OK(bb_snapshot(r, snap, &sseq));
	ASSERT_EQ(sseq, bb_reader_seq(r));
	ASSERT_OK(bb_check_body(snap, true, why, sizeof(why)));
	ASSERT_EQ(snap->state.nholdings, 1);
	ASSERT_EQ(snap->holdings[0].cpus[0], 0x6);
	ASSERT_STR_EQ(snap->bids[1].bid_id, "bid-b");
	ASSERT_OK(bb_body_bid_remove(b, "bid-a"));
	ASSERT_EQ(bb_body_bid_remove(b, "bid-a"), -ENOENT);
	ASSERT_STR_EQ(b->bids[0].bid_id, "bid-b");
	publish(w);
	ASSERT_OK(bb_snapshot(r, snap, NULL));
	ASSERT_EQ(snap->state.nbids, 1);
	ASSERT_STR_EQ(snap->bids[0].bid_id, "bid-b");
	ASSERT_OK(bb_writer_check(w, why, sizeof(why)));
	ASSERT_OK(bb_check(r, why, sizeof(why)));

	/* Broken working copies are refused and the board stays as it was. */
	uint32_t seq1 = bb_reader_seq(r);
	ho->ncpus = 3;
	ASSERT_EQ(bb_writer_publish(w, 0, now_ns(), why, sizeof(why)), -EINVAL);
	ASSERT_STR_CONTAINS(why, "ncpus 3 but 2 CPUs");
	ho->ncpus = 2;
	b->bids[0].state = 77;
	ASSERT_EQ(bb_writer_publish(w, 0, now_ns(), why, sizeof(why)), -EINVAL);
	ASSERT_STR_CONTAINS(why, "bid-b");
	b->bids[0].state = BB_BID_ACTIVE;
	b->prices[1] = b->prices[0]; /* a duplicate key */
	ASSERT_EQ(bb_writer_publish(w, 0, now_ns(), why, sizeof(why)), -EINVAL);
	ASSERT_STR_CONTAINS(why, "same key bandwidth/h1");
	bb_set_string(b->prices[1].host, sizeof(b->prices[1].host), "x0");
	b->prices[1].resource = BB_RES_CORES;
	b->state.market_message[BB_MESSAGE_MAX - 1] = 'x';
	ASSERT_EQ(bb_writer_publish(w, 0, now_ns(), why, sizeof(why)), -EINVAL);
	b->state.market_message[BB_MESSAGE_MAX - 1] = 0;
	ASSERT_EQ(bb_reader_seq(r), seq1);
	ASSERT_OK(bb_snapshot(r, snap, NULL));
	ASSERT_EQ(snap->state.nbids, 1);
	publish(w);
	ASSERT_OK(bb_writer_check(w, why, sizeof(why)));

	/* Full tables and long names. */
	char longhost[80];
	memset(longhost, 'h', sizeof(longhost) - 1);
	longhost[sizeof(longhost) - 1] = 0;
	errno = 0;
	ASSERT_TRUE(bb_body_price_upsert(b, BB_RES_CORES, longhost) == NULL);
	ASSERT_EQ(errno, ENAMETOOLONG);
	ASSERT_EQ(bb_read_price(r, BB_RES_CORES, longhost, &p, NULL), -ENOENT);
	for (int i = (int)b->state.nprices; i < BB_MAX_PRICES; i++) {
		char host[16];
		snprintf(host, sizeof(host), "y%d", i);
		ASSERT_TRUE(bb_body_price_upsert(b, BB_RES_MEMORY, host) != NULL);
	}
	errno = 0;
	ASSERT_TRUE(bb_body_price_upsert(b, BB_RES_MEMORY, "one-more") == NULL);
	ASSERT_EQ(errno, ENOSPC);
	publish(w);
	ASSERT_OK(bb_read_price(r, BB_RES_MEMORY, "y63", &p, NULL));

	/* One writer at a time. */
	struct bb_writer *w2;
	ASSERT_EQ(bb_writer_open(instance, 0640, &w2), -EBUSY);

	/* A clean take-over: same file, sequence goes on, epoch grows, body starts empty. */
	uint32_t before = bb_reader_seq(r);
	bb_writer_close(w, false);
	ASSERT_OK(bb_writer_open(instance, 0640, &w));
	ASSERT_EQ(bb_reader_header(r)->writer_epoch, 2);
	ASSERT_GT(bb_reader_seq(r), before);
	ASSERT_OK(bb_read_state(r, &st));
	ASSERT_EQ(st.nprices, 0);
	ASSERT_EQ(st.writer_epoch, 2);
	ASSERT_EQ(bb_read_price(r, BB_RES_BANDWIDTH, "h1", &p, NULL), -ENOENT);
	wp = bb_body_price_upsert(bb_writer_body(w), BB_RES_BANDWIDTH, "h1");
	wp->unit_price = 5;
	publish(w);
	ASSERT_OK(bb_read_price(r, BB_RES_BANDWIDTH, "h1", &p, NULL));
	ASSERT_EQ(p.unit_price, 5);
	bb_writer_close(w, false);
	bb_reader_close(r);
	free(snap);
}

/* A writer killed in the middle of an update: readers do not spin forever, and the next
 * writer repairs the sequence. */
static void test_writer_dies_mid_update(void)
{
	struct bb_reader *r;
	struct bb_price p;
	int ready[2];

	ASSERT_OK(pipe(ready));
	pid_t child = fork();
	ASSERT_GE(child, 0);
	if (child == 0) {
		struct bb_writer *w;
		if (bb_writer_open(instance, 0640, &w))
			_exit(2);
		bb_body_price_upsert(bb_writer_body(w), BB_RES_CORES, "h")->unit_price = 1;
		publish(w);
		/* Simulate being killed between the odd and the even store. */
		char path[80];
		bb_path(instance, path, sizeof(path));
		int fd = open(path, O_RDWR);
		struct bb_header *h = mmap(NULL, 4096, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
		__atomic_add_fetch(&h->seq, 1, __ATOMIC_SEQ_CST);
		if (write(ready[1], "x", 1) != 1)
			_exit(3);
		pause();
		_exit(0);
	}
	char c;
	ASSERT_EQ(read(ready[0], &c, 1), 1);
	ASSERT_OK(bb_reader_open(instance, &r));
	ASSERT_EQ(bb_reader_seq(r) & 1u, 1);
	kill(child, SIGKILL);
	int status;
	ASSERT_EQ(waitpid(child, &status, 0), child);
	int64_t t0 = now_ns();
	ASSERT_EQ(bb_read_price(r, BB_RES_CORES, "h", &p, NULL), -RAAS_ESTALE);
	ASSERT_LT(now_ns() - t0, INT64_C(10000000000)); /* returns, does not spin forever */
	ASSERT_TRUE(!bb_writer_alive(r, NULL));
	char why[200];
	ASSERT_EQ(bb_check(r, why, sizeof(why)), -RAAS_ESTALE);

	struct bb_writer *w;
	ASSERT_OK(bb_writer_open(instance, 0640, &w));
	ASSERT_EQ(bb_reader_seq(r) & 1u, 0);
	bb_body_price_upsert(bb_writer_body(w), BB_RES_CORES, "h")->unit_price = 2;
	publish(w);
	ASSERT_OK(bb_read_price(r, BB_RES_CORES, "h", &p, NULL));
	ASSERT_EQ(p.unit_price, 2);
	ASSERT_OK(bb_writer_check(w, why, sizeof(why)));
	ASSERT_OK(bb_check(r, why, sizeof(why)));
	bb_writer_close(w, false);
	bb_reader_close(r);
	close(ready[0]);
	close(ready[1]);
}

/* A file of another layout: readers refuse it with a clear error; a writer retires and
 * replaces it, and readers of the old mapping learn that it is retired. */
static void test_foreign_layout(void)
{
	char path[80];
	struct bb_reader *r, *old;
	struct bb_writer *w;

	ASSERT_OK(bb_path(instance, path, sizeof(path)));
	unlink(path);
	int fd = open(path, O_RDWR | O_CREAT | O_EXCL, 0640);
	ASSERT_GE(fd, 0);
	ASSERT_OK(ftruncate(fd, 4096));
	ASSERT_EQ(write(fd, "garbage", 7), 7);
	ASSERT_EQ(bb_reader_open(instance, &r), -RAAS_EPROTO);

	/* A header of a future version, of the same size as ours. */
	ASSERT_OK(ftruncate(fd, BB_FILE_SIZE));
	struct bb_header *h = mmap(NULL, 4096, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
	ASSERT_TRUE(h != MAP_FAILED);
	memset(h, 0, sizeof(*h));
	h->magic = BB_MAGIC;
	h->version = BB_VERSION + 1;
	ASSERT_EQ(bb_reader_open(instance, &r), -RAAS_EVERSION);
	/* A valid one, so that a reader maps it; then it grows (another layout). */
	h->version = BB_VERSION;
	h->header_size = sizeof(*h);
	h->size = BB_FILE_SIZE;
	h->max_prices = BB_MAX_PRICES;
	h->max_holdings = BB_MAX_HOLDINGS;
	h->max_bids = BB_MAX_BIDS;
	strcpy(h->instance, instance);
	ASSERT_OK(bb_reader_open(instance, &old));
	ASSERT_OK(ftruncate(fd, BB_FILE_SIZE * 2));
	ASSERT_TRUE(!bb_reader_retired(old));
	ASSERT_OK(bb_writer_open(instance, 0640, &w));
	ASSERT_TRUE(bb_reader_retired(old));
	uint32_t seen = bb_reader_seq(old);
	ASSERT_EQ(bb_wait_change(old, &seen, 1000000), -RAAS_ESTALE);
	ASSERT_OK(bb_reader_open(instance, &r));
	ASSERT_TRUE(!bb_reader_retired(r));
	bb_reader_close(r);
	bb_reader_close(old);
	munmap(h, 4096);
	close(fd);

	/* Removing the board retires it for readers still mapping it. */
	ASSERT_OK(bb_reader_open(instance, &r));
	bb_writer_close(w, true);
	ASSERT_TRUE(bb_reader_retired(r));
	ASSERT_EQ(access(path, F_OK), -1);
	bb_reader_close(r);
}

static void test_wait_timeout(void)
{
	struct bb_writer *w;
	struct bb_reader *r;

	ASSERT_OK(bb_writer_open(instance, 0640, &w));
	ASSERT_OK(bb_reader_open(instance, &r));
	uint32_t seen = bb_reader_seq(r);
	int64_t t0 = now_ns();
	ASSERT_EQ(bb_wait_change(r, &seen, 20000000), -ETIMEDOUT);
	ASSERT_GE(now_ns() - t0, 20000000);
	ASSERT_EQ(bb_wait_change(r, &seen, 0), -ETIMEDOUT);
	publish(w);
	/* Already changed: returns at once with the new sequence. */
	ASSERT_OK(bb_wait_change(r, &seen, -1));
	ASSERT_EQ(seen, bb_reader_seq(r));
	ASSERT_EQ(bb_wait_change(r, &seen, 0), -ETIMEDOUT);
	bb_writer_close(w, true);
	bb_reader_close(r);
}

int main(void)
{
	snprintf(instance, sizeof(instance), "nomrt-test-bb-%d", (int)getpid());
	test_names();
	test_publish_read();
	test_writer_dies_mid_update();
	test_foreign_layout();
	test_wait_timeout();
	char path[80];
	bb_path(instance, path, sizeof(path));
	unlink(path);
	printf("test_bb: ok\n");
	return 0;
}
