/* test_bb_hammer.c: one writer and several reader processes hammer a board for seconds; no
 * reader ever sees a torn update. Then a reader asleep on the futex is woken by a publish and
 * sees the new value.
 *
 * Every update i fills 32 prices and 16 holdings with values derived from i, and stores in the
 * state block a checksum over all of them (last_charged) and i itself (round). A reader checks
 * every copy it makes: the board's own checksum (bb_snapshot), the update's checksum, that all
 * entries belong to the same update, and that single-price reads are internally consistent
 * and never go backwards. As a control, readers also copy the body without the seqlock and
 * count how often that copy is torn: evidence that the checks can fail (reported, not
 * asserted: a torn unprotected copy is likely, not certain).
 *
 * Usage: test_bb_hammer [seconds] (default 3). */
#include <errno.h>
#include <fcntl.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "bb/bb.h"
#include "common/error.h"
#include "test.h"

#define READERS 3
#define NPRICES 32
#define NHOLDINGS 16
#define WAKES 100

struct tally {
	uint64_t snapshots, price_reads, torn, unprotected, unprotected_torn, backwards;
	char first_error[200];
};

struct shared {
	volatile int done;
	struct tally t[READERS];
};

static char instance[64];

static int64_t now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

static uint64_t splitmix(uint64_t x)
{
	x += UINT64_C(0x9e3779b97f4a7c15);
	x = (x ^ (x >> 30)) * UINT64_C(0xbf58476d1ce4e5b9);
	x = (x ^ (x >> 27)) * UINT64_C(0x94d049bb133111eb);
	return x ^ (x >> 31);
}

static int64_t price_of(uint64_t i, int k)
{
	return (int64_t)(splitmix(i * 64 + (uint64_t)k) >> 24);
}

static int64_t supply_of(uint64_t i, int k)
{
	return (int64_t)(splitmix(~(i * 64 + (uint64_t)k)) >> 24);
}

/* The update's checksum over every field the writer derived from i. */
static int64_t update_sum(const struct bb_body *b)
{
	uint64_t h = 0;

	for (uint32_t k = 0; k < b->state.nprices && k < BB_MAX_PRICES; k++)
		h = splitmix(h ^ (uint64_t)b->prices[k].unit_price ^
			     ((uint64_t)b->prices[k].supply << 1) ^ b->prices[k].round);
	for (uint32_t k = 0; k < b->state.nholdings && k < BB_MAX_HOLDINGS; k++)
		h = splitmix(h ^ (uint64_t)b->holdings[k].quantity ^ b->holdings[k].cpus[1]);
	return (int64_t)(h >> 1);
}

static void fill(struct bb_body *b, uint64_t i)
{
	for (int k = 0; k < NPRICES; k++) {
		char host[16];
		snprintf(host, sizeof(host), "h%d", k);
		struct bb_price *p = bb_body_price_upsert(b, BB_RES_BANDWIDTH, host);
		p->unit_price = price_of(i, k);
		p->supply = supply_of(i, k);
		p->round = i;
	}
	for (int k = 0; k < NHOLDINGS; k++) {
		char host[16];
		snprintf(host, sizeof(host), "h%d", k);
		struct bb_holding *h = bb_body_holding_upsert(b, BB_RES_MEMORY, host);
		h->quantity = price_of(i, k + 100);
		h->round = i;
		h->cpus[1] = (uint64_t)1 << (i % 64);
		h->ncpus = 1;
	}
	b->state.round = i;
	b->state.last_charged = update_sum(b);
}

static bool copy_consistent(const struct bb_body *b, char *why, size_t len)
{
	uint64_t i = b->state.round;

	if (b->state.nprices != NPRICES || b->state.nholdings != NHOLDINGS) {
		snprintf(why, len, "counts %u/%u", b->state.nprices, b->state.nholdings);
		return false;
	}
	if (update_sum(b) != b->state.last_charged) {
		snprintf(why, len, "update %llu: checksum %lld, contents give %lld",
			 (unsigned long long)i, (long long)b->state.last_charged,
			 (long long)update_sum(b));
		return false;
	}
	for (int k = 0; k < NPRICES; k++)
		if (b->prices[k].round != i || b->prices[k].unit_price != price_of(i, k)) {
			snprintf(why, len, "update %llu: price %d is of update %llu",
				 (unsigned long long)i, k, (unsigned long long)b->prices[k].round);
			return false;
		}
	for (int k = 0; k < NHOLDINGS; k++)
		if (b->holdings[k].round != i) {
			snprintf(why, len, "update %llu: holding %d is of update %llu",
				 (unsigned long long)i, k, (unsigned long long)b->holdings[k].round);
			return false;
		}
	return true;
}

static void record(struct tally *t, const char *why)
{
	if (t->torn++ == 0)
		snprintf(t->first_error, sizeof(t->first_error), "%s", why);
}

static void reader(struct shared *sh, int id)
{
	struct tally *t = &sh->t[id];
	struct bb_reader *r;
	struct bb_body *copy = malloc(sizeof(*copy)), *raw = malloc(sizeof(*raw));
	uint64_t last_round[NPRICES] = {0};
	char why[200], path[80];

	if (bb_reader_open(instance, &r))
		_exit(2);
	/* The control: a second, unprotected view of the same pages. */
	bb_path(instance, path, sizeof(path));
	int fd = open(path, O_RDONLY);
	const char *map = mmap(NULL, BB_FILE_SIZE, PROT_READ, MAP_SHARED, fd, 0);
	const struct bb_body *body = (const void *)(map + BB_BODY_OFFSET);
	uint64_t rng = (uint64_t)id + 1;

	while (!sh->done) {
		int err = bb_snapshot(r, copy, NULL);
		t->snapshots++;
		if (err)
			record(t, err == -RAAS_EPROTO ? "board checksum mismatch in a snapshot"
						      : raas_strerror(err));
		else if (copy->state.nprices && !copy_consistent(copy, why, sizeof(why)))
			record(t, why);

		for (int n = 0; n < 64; n++) {
			struct bb_price p;
			char host[16];
			rng = splitmix(rng);
			int k = (int)(rng % NPRICES);
			snprintf(host, sizeof(host), "h%d", k);
			err = bb_read_price(r, BB_RES_BANDWIDTH, host, &p, NULL);
			t->price_reads++;
			if (err == -ENOENT)
				continue;
			if (err) {
				record(t, raas_strerror(err));
				continue;
			}
			if (p.unit_price != price_of(p.round, k) || p.supply != supply_of(p.round, k)) {
				snprintf(why, sizeof(why), "price h%d: fields of different updates", k);
				record(t, why);
			}
			if (p.round < last_round[k])
				t->backwards++;
			last_round[k] = p.round;
		}

		/* Control: the same copy without the seqlock. */
		memcpy(raw, body, sizeof(*raw));
		t->unprotected++;
		if (raw->state.nprices == NPRICES && !copy_consistent(raw, why, sizeof(why)))
			t->unprotected_torn++;
	}
	_exit(0);
}

static void hammer(double seconds)
{
	struct shared *sh = mmap(NULL, sizeof(*sh), PROT_READ | PROT_WRITE,
				 MAP_SHARED | MAP_ANONYMOUS, -1, 0);
	struct bb_writer *w;
	pid_t pids[READERS];
	char why[200];

	ASSERT_TRUE(sh != MAP_FAILED);
	ASSERT_OK(bb_writer_open(instance, 0600, &w));
	for (int i = 0; i < READERS; i++) {
		pids[i] = fork();
		ASSERT_GE(pids[i], 0);
		if (pids[i] == 0)
			reader(sh, i);
	}
	int64_t end = now_ns() + (int64_t)(seconds * 1e9);
	uint64_t updates = 0;
	while (now_ns() < end) {
		fill(bb_writer_body(w), ++updates);
		int err = bb_writer_publish(w, 0, now_ns(), why, sizeof(why));
		if (err)
			TEST_FAIL("publish: %s", why);
		if (updates % 64 == 0)
			sched_yield(); /* let readers catch the writer mid-update too */
	}
	ASSERT_OK(bb_writer_check(w, why, sizeof(why)));
	sh->done = 1;
	struct tally sum = {0};
	for (int i = 0; i < READERS; i++) {
		int status;
		ASSERT_EQ(waitpid(pids[i], &status, 0), pids[i]);
		ASSERT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 0);
		struct tally *t = &sh->t[i];
		printf("reader %d: %llu snapshots, %llu price reads, %llu torn; unprotected copies: "
		       "%llu of %llu torn\n",
		       i, (unsigned long long)t->snapshots, (unsigned long long)t->price_reads,
		       (unsigned long long)t->torn, (unsigned long long)t->unprotected_torn,
		       (unsigned long long)t->unprotected);
		if (t->torn)
			fprintf(stderr, "reader %d first torn read: %s\n", i, t->first_error);
		sum.snapshots += t->snapshots;
		sum.price_reads += t->price_reads;
		sum.torn += t->torn;
		sum.backwards += t->backwards;
	}
	printf("writer: %llu updates in %.1f s\n", (unsigned long long)updates, seconds);
	ASSERT_GT(updates, 1000);
	ASSERT_GT(sum.snapshots, 100);
	ASSERT_GT(sum.price_reads, 1000);
	ASSERT_EQ(sum.torn, 0);
	ASSERT_EQ(sum.backwards, 0);
	bb_writer_close(w, true);
	munmap(sh, sizeof(*sh));
}

/* Whether pid sleeps in a futex wait (state S, and wchan says futex where it is readable). */
static bool sleeping_in_futex(pid_t pid)
{
	char path[64], buf[512];
	FILE *f;

	snprintf(path, sizeof(path), "/proc/%d/stat", (int)pid);
	if (!(f = fopen(path, "r")))
		return false;
	size_t n = fread(buf, 1, sizeof(buf) - 1, f);
	fclose(f);
	buf[n] = 0;
	const char *p = strrchr(buf, ')');
	if (!p || p[1] != ' ' || p[2] != 'S')
		return false;
	snprintf(path, sizeof(path), "/proc/%d/wchan", (int)pid);
	if (!(f = fopen(path, "r")))
		return true;
	n = fread(buf, 1, sizeof(buf) - 1, f);
	fclose(f);
	buf[n] = 0;
	return n == 0 || strcmp(buf, "0") == 0 || strstr(buf, "futex") != NULL;
}

static void wake(void)
{
	struct bb_writer *w;
	int to_parent[2];
	char why[200];

	ASSERT_OK(bb_writer_open(instance, 0600, &w));
	struct bb_price *p = bb_body_price_upsert(bb_writer_body(w), BB_RES_BANDWIDTH, "wake");
	p->unit_price = -1;
	ASSERT_OK(bb_writer_publish(w, 0, now_ns(), why, sizeof(why)));
	ASSERT_OK(pipe(to_parent));
	pid_t child = fork();
	ASSERT_GE(child, 0);
	if (child == 0) {
		struct bb_reader *r;
		if (bb_reader_open(instance, &r))
			_exit(2);
		uint32_t seen = bb_reader_seq(r);
		for (int j = 0; j < WAKES; j++) {
			struct bb_price q;
			int64_t msg[2];
			if (bb_wait_change(r, &seen, 10 * INT64_C(1000000000)) != 0)
				_exit(3);
			int64_t woke = now_ns();
			if (bb_read_price(r, BB_RES_BANDWIDTH, "wake", &q, NULL) != 0)
				_exit(4);
			msg[0] = q.unit_price;
			msg[1] = woke - q.received_mono_ns;
			if (write(to_parent[1], msg, sizeof(msg)) != sizeof(msg))
				_exit(5);
		}
		_exit(0);
	}
	int64_t lat_sum = 0, lat_max = 0;
	for (int j = 0; j < WAKES; j++) {
		int64_t deadline = now_ns() + 30 * INT64_C(1000000000);
		while (!sleeping_in_futex(child)) {
			if (now_ns() > deadline)
				TEST_FAIL("reader %d not asleep in a futex wait after 30 s", (int)child);
			usleep(200);
		}
		int64_t value = (int64_t)(splitmix((uint64_t)j) >> 20);
		p->unit_price = value;
		p->received_mono_ns = now_ns();
		ASSERT_OK(bb_writer_publish(w, 0, p->received_mono_ns, why, sizeof(why)));
		int64_t msg[2];
		ASSERT_EQ(read(to_parent[0], msg, sizeof(msg)), sizeof(msg));
		ASSERT_EQ(msg[0], value);
		lat_sum += msg[1];
		if (msg[1] > lat_max)
			lat_max = msg[1];
	}
	int status;
	ASSERT_EQ(waitpid(child, &status, 0), child);
	ASSERT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 0);
	printf("futex wake: %d of %d sleeping readers saw the new value; mean %.1f us, max %.1f us\n",
	       WAKES, WAKES, lat_sum / 1e3 / WAKES, lat_max / 1e3);
	bb_writer_close(w, true);
	close(to_parent[0]);
	close(to_parent[1]);
}

int main(int argc, char **argv)
{
	double seconds = argc > 1 ? atof(argv[1]) : 3.0;

	if (seconds <= 0)
		seconds = 3.0;
	snprintf(instance, sizeof(instance), "nomrt-hammer-%d", (int)getpid());
	hammer(seconds);
	wake();
	printf("test_bb_hammer: ok\n");
	return 0;
}
