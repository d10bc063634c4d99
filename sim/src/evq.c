/* evq.c: the event queue: a binary min-heap over a slab of event slots (see evq.h). */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "check.h"
#include "evq.h"

#define NO_POS UINT32_MAX

struct slot {
	struct evq_event ev;
	uint32_t gen;
	uint32_t pos;       /* heap position, NO_POS when free */
	uint32_t next_free; /* free list link */
};

struct evq {
	struct slot *slots;
	uint32_t nslots, cap;
	uint32_t free_head; /* NO_POS when empty */
	uint32_t *heap;
	uint32_t n;
	uint64_t next_seq;
};

int evq_create(struct evq **out)
{
	struct evq *q = calloc(1, sizeof(*q));

	if (!q)
		return -ENOMEM;
	q->free_head = NO_POS;
	*out = q;
	return 0;
}

void evq_destroy(struct evq *q)
{
	if (!q)
		return;
	free(q->slots);
	free(q->heap);
	free(q);
}

static bool before(const struct evq *q, uint32_t a, uint32_t b)
{
	const struct evq_event *x = &q->slots[a].ev, *y = &q->slots[b].ev;

	return x->time < y->time || (x->time == y->time && x->seq < y->seq);
}

static void place(struct evq *q, uint32_t pos, uint32_t s)
{
	q->heap[pos] = s;
	q->slots[s].pos = pos;
}

static void sift_up(struct evq *q, uint32_t pos)
{
	uint32_t s = q->heap[pos];

	while (pos > 0) {
		uint32_t parent = (pos - 1) / 2;
		if (!before(q, s, q->heap[parent]))
			break;
		place(q, pos, q->heap[parent]);
		pos = parent;
	}
	place(q, pos, s);
}

static void sift_down(struct evq *q, uint32_t pos)
{
	uint32_t s = q->heap[pos];

	for (;;) {
		uint32_t l = 2 * pos + 1, r = l + 1, m = pos;
		uint32_t best = s;
		if (l < q->n && before(q, q->heap[l], best)) {
			m = l;
			best = q->heap[l];
		}
		if (r < q->n && before(q, q->heap[r], best))
			m = r;
		if (m == pos)
			break;
		place(q, pos, q->heap[m]);
		pos = m;
	}
	place(q, pos, s);
}

static int grow(struct evq *q)
{
	uint32_t cap = q->cap ? 2 * q->cap : 64;
	struct slot *slots;
	uint32_t *heap;

	if (cap <= q->cap || cap >= NO_POS)
		return -ENOMEM;
	slots = realloc(q->slots, (size_t)cap * sizeof(*slots));
	if (!slots)
		return -ENOMEM;
	q->slots = slots;
	heap = realloc(q->heap, (size_t)cap * sizeof(*heap));
	if (!heap)
		return -ENOMEM;
	q->heap = heap;
	q->cap = cap;
	return 0;
}

int evq_push(struct evq *q, int64_t time, uint32_t kind, uint32_t a, uint64_t b,
	     evq_handle *handle)
{
	uint32_t s;

	if (q->free_head != NO_POS) {
		s = q->free_head;
		q->free_head = q->slots[s].next_free;
	} else {
		if (q->nslots == q->cap && grow(q))
			return -ENOMEM;
		s = q->nslots++;
		q->slots[s].gen = 1;
	}
	struct slot *sl = &q->slots[s];
	sl->ev = (struct evq_event){.time = time, .seq = q->next_seq++, .kind = kind, .a = a,
				    .b = b, .handle = ((uint64_t)sl->gen << 32) | s};
	sl->next_free = NO_POS;
	q->heap[q->n] = s;
	sl->pos = q->n++;
	sift_up(q, sl->pos);
	if (handle)
		*handle = sl->ev.handle;
	return 0;
}

/* Takes the event at heap position pos out of the heap and frees its slot. */
static void remove_at(struct evq *q, uint32_t pos)
{
	uint32_t s = q->heap[pos];
	uint32_t last = q->heap[--q->n];

	if (pos < q->n) {
		place(q, pos, last);
		if (pos > 0 && before(q, last, q->heap[(pos - 1) / 2]))
			sift_up(q, pos);
		else
			sift_down(q, pos);
	}
	struct slot *sl = &q->slots[s];
	sl->pos = NO_POS;
	sl->gen++;
	if (sl->gen == 0)
		sl->gen = 1;
	sl->next_free = q->free_head;
	q->free_head = s;
}

int evq_cancel(struct evq *q, evq_handle handle)
{
	uint32_t s = (uint32_t)handle, gen = (uint32_t)(handle >> 32);

	if (s >= q->nslots || q->slots[s].gen != gen || q->slots[s].pos == NO_POS)
		return -ENOENT;
	remove_at(q, q->slots[s].pos);
	return 0;
}

bool evq_pop(struct evq *q, struct evq_event *out)
{
	if (q->n == 0)
		return false;
	*out = q->slots[q->heap[0]].ev;
	remove_at(q, 0);
	return true;
}

bool evq_peek(const struct evq *q, struct evq_event *out)
{
	if (q->n == 0)
		return false;
	*out = q->slots[q->heap[0]].ev;
	return true;
}

size_t evq_size(const struct evq *q)
{
	return q->n;
}

#define CHECK(cond) SIM_CHECK("evq_check", cond)

void evq_check(const struct evq *q)
{
	uint32_t nfree = 0;

	for (uint32_t i = 0; i < q->n; i++) {
		uint32_t s = q->heap[i];
		CHECK(s < q->nslots);
		CHECK(q->slots[s].pos == i);
		CHECK(q->slots[s].ev.seq < q->next_seq);
		if (i > 0)
			CHECK(!before(q, s, q->heap[(i - 1) / 2]));
	}
	for (uint32_t s = q->free_head; s != NO_POS; s = q->slots[s].next_free) {
		CHECK(s < q->nslots);
		CHECK(q->slots[s].pos == NO_POS);
		CHECK(++nfree <= q->nslots);
	}
	CHECK(nfree + q->n == q->nslots);
}
