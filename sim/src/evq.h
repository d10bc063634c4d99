/* evq.h: the simulator's event queue: a binary heap of events in int64 nanoseconds.
 *
 * Every simulated happening (a round, an arrival, a departure, a load or price change, the end
 * of the run) is an event with a time; the simulator pops them in order. Order is total and
 * reproducible: by time, then by insertion sequence (the order the events were pushed), so
 * two events at the same nanosecond run in the order they were scheduled whatever the heap's
 * layout. Events can be cancelled by the handle their push returned (a tenant that departs
 * early cancels nothing it does not own; a changed schedule cancels its next step).
 *
 * Design notes
 *   Events live in a slab of slots; the heap is an array of slot indices. A slot records its
 *   heap position, so cancellation removes from the middle of the heap in O(log n). A handle
 *   is (generation << 32 | slot): a slot's generation grows when it is freed, so a stale handle
 *   (of an event already popped or cancelled) is refused with -ENOENT instead of cancelling a
 *   stranger that reused the slot.
 *   Invariants (evq_check() asserts them):
 *     1. heap order: no event is before its parent in (time, seq) order;
 *     2. for every heap position i, slot[heap[i]].pos == i, and the slot is in use;
 *     3. every slot not in the heap is free and on the free list, exactly once;
 *     4. seq values are unique and increase with each push.
 *   States of a slot: free -> queued (evq_push) -> free (evq_pop or evq_cancel). */
#ifndef SIM_EVQ_H
#define SIM_EVQ_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

typedef uint64_t evq_handle;

struct evq_event {
	int64_t time;   /* ns */
	uint64_t seq;   /* insertion order: the tie-break */
	uint32_t kind;  /* the caller's event type */
	uint32_t a;     /* caller's payload (class, resource index, ...) */
	uint64_t b;     /* caller's payload (tenant id, step, ...) */
	evq_handle handle;
};

struct evq;

/* Returns 0 or -ENOMEM. */
int evq_create(struct evq **out);
void evq_destroy(struct evq *q);

/* Queues an event; *handle (may be NULL) receives its handle. Returns 0 or -ENOMEM. */
int evq_push(struct evq *q, int64_t time, uint32_t kind, uint32_t a, uint64_t b,
	     evq_handle *handle);
/* Removes a queued event. Returns 0, or -ENOENT when the handle is not (or no longer) queued. */
int evq_cancel(struct evq *q, evq_handle handle);
/* Removes the first event into *out. Returns false when the queue is empty. */
bool evq_pop(struct evq *q, struct evq_event *out);
/* Copies the first event without removing it. Returns false when empty. */
bool evq_peek(const struct evq *q, struct evq_event *out);
size_t evq_size(const struct evq *q);

/* Asserts the invariants above (aborts with a message on violation). O(n). */
void evq_check(const struct evq *q);

#endif
