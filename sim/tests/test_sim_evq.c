/* test_sim_evq.c: the event queue against a brute-force reference on random event sets.
 *
 * The reference keeps every queued event in a plain array and finds the next one by a linear
 * scan for the smallest (time, insertion order): obviously right, and slow. Random sequences
 * of pushes (with many equal times, so that ties matter), pops and cancellations (of queued,
 * already popped and already cancelled handles) run on both; every pop must return the same
 * event, every cancel the same result, and the heap's invariants must hold throughout. */
#include <errno.h>
#include <stdlib.h>

#include "evq.h"
#include "test.h"

struct ref_event {
	int64_t time;
	uint64_t order; /* push number */
	uint32_t kind;
	evq_handle h;
	int state;      /* 0 queued, 1 popped, 2 cancelled */
};

static struct ref_event ref[200000];
static size_t nref;

/* The reference's next event: smallest time, then earliest push. */
static long ref_first(void)
{
	long best = -1;

	for (size_t i = 0; i < nref; i++) {
		if (ref[i].state != 0)
			continue;
		if (best < 0 || ref[i].time < ref[best].time ||
		    (ref[i].time == ref[best].time && ref[i].order < ref[best].order))
			best = (long)i;
	}
	return best;
}

static size_t ref_queued(void)
{
	size_t n = 0;

	for (size_t i = 0; i < nref; i++)
		n += ref[i].state == 0;
	return n;
}

static void run_sequence(unsigned seed, int steps, int time_span)
{
	struct evq *q;
	struct evq_event ev;

	srand(seed);
	nref = 0;
	ASSERT_OK(evq_create(&q));
	for (int step = 0; step < steps; step++) {
		int op = rand() % 10;
		if (op < 5 && nref < sizeof(ref) / sizeof(ref[0])) {
			struct ref_event *e = &ref[nref];
			e->time = rand() % time_span; /* few distinct times: many ties */
			e->order = nref;
			e->kind = (uint32_t)(rand() % 7);
			e->state = 0;
			ASSERT_OK(evq_push(q, e->time, e->kind, (uint32_t)nref, nref, &e->h));
			nref++;
		} else if (op < 8) {
			long want = ref_first();
			bool got = evq_pop(q, &ev);
			ASSERT_EQ(got, want >= 0);
			if (want >= 0) {
				ASSERT_EQ(ev.time, ref[want].time);
				ASSERT_EQ(ev.b, ref[want].order);
				ASSERT_EQ(ev.a, (uint32_t)ref[want].order);
				ASSERT_EQ(ev.kind, ref[want].kind);
				ASSERT_EQ(ev.handle, ref[want].h);
				ref[want].state = 1;
			}
		} else if (nref > 0) {
			/* Cancel any event ever pushed: queued ones go, others are refused. */
			size_t i = (size_t)rand() % nref;
			int rc = evq_cancel(q, ref[i].h);
			if (ref[i].state == 0) {
				ASSERT_OK(rc);
				ref[i].state = 2;
			} else {
				ASSERT_EQ(rc, -ENOENT);
			}
		}
		ASSERT_EQ(evq_size(q), ref_queued());
		if (step % 97 == 0)
			evq_check(q);
		if (step % 13 == 0) {
			long want = ref_first();
			ASSERT_EQ(evq_peek(q, &ev), want >= 0);
			if (want >= 0)
				ASSERT_EQ(ev.b, ref[want].order);
		}
	}
	evq_check(q);
	/* Drain: the remaining events come out in reference order. */
	for (long want; (want = ref_first()) >= 0;) {
		ASSERT_TRUE(evq_pop(q, &ev));
		ASSERT_EQ(ev.b, ref[want].order);
		ref[want].state = 1;
	}
	ASSERT_TRUE(!evq_pop(q, &ev));
	ASSERT_EQ(evq_size(q), 0);
	evq_check(q);
	evq_destroy(q);
}

static void test_ties_keep_push_order(void)
{
	struct evq *q;
	struct evq_event ev;

	ASSERT_OK(evq_create(&q));
	for (uint64_t i = 0; i < 1000; i++)
		ASSERT_OK(evq_push(q, 42, 0, 0, i, NULL));
	ASSERT_OK(evq_push(q, 41, 0, 0, 5000, NULL));
	ASSERT_TRUE(evq_pop(q, &ev));
	ASSERT_EQ(ev.b, 5000);
	for (uint64_t i = 0; i < 1000; i++) {
		ASSERT_TRUE(evq_pop(q, &ev));
		ASSERT_EQ(ev.time, 42);
		ASSERT_EQ(ev.b, i);
	}
	evq_destroy(q);
}

static void test_stale_handles(void)
{
	struct evq *q;
	struct evq_event ev;
	evq_handle a, b;

	ASSERT_OK(evq_create(&q));
	ASSERT_OK(evq_push(q, 10, 1, 0, 1, &a));
	ASSERT_TRUE(evq_pop(q, &ev));
	/* The slot is reused by the next push; the old handle must not cancel it. */
	ASSERT_OK(evq_push(q, 20, 1, 0, 2, &b));
	ASSERT_EQ((uint32_t)a, (uint32_t)b);
	ASSERT_NE(a, b);
	ASSERT_EQ(evq_cancel(q, a), -ENOENT);
	ASSERT_EQ(evq_size(q), 1);
	ASSERT_OK(evq_cancel(q, b));
	ASSERT_EQ(evq_cancel(q, b), -ENOENT);
	ASSERT_EQ(evq_cancel(q, (evq_handle)12345 << 32 | 999), -ENOENT);
	ASSERT_EQ(evq_size(q), 0);
	evq_destroy(q);
}

int main(void)
{
	test_ties_keep_push_order();
	test_stale_handles();
	for (unsigned seed = 1; seed <= 40; seed++)
		run_sequence(seed, 3000, seed % 2 ? 8 : 1000000);
	run_sequence(4242, 60000, 50);
	printf("test_sim_evq: ok\n");
	return 0;
}
