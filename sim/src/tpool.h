/* tpool.h: a fixed pool of worker threads that run one parallel loop at a time.
 *
 * The simulator's round is a loop over hosts whose iterations are independent (each host's
 * pools clear on their own); tpool_run() splits [0, n) into chunks that the workers and the
 * calling thread take in turn, and returns when all are done. Results must not depend on which
 * thread ran which chunk: the caller gives each worker its own scratch (by worker index) and
 * combines what they produced with order-independent (integer) sums, which is what makes a run
 * with 1 thread and a run with 8 threads write identical tables. */
#ifndef SIM_TPOOL_H
#define SIM_TPOOL_H

#include <stddef.h>

/* Runs items [begin, end) on worker `worker` (0 .. nthreads-1). */
typedef void (*tpool_fn)(void *ctx, int worker, size_t begin, size_t end);

struct tpool;

/* nthreads >= 1 (the caller counts as one; nthreads - 1 threads are started). Returns 0,
 * -EINVAL or -errno from pthread_create (then nothing is left running). */
int tpool_create(int nthreads, struct tpool **out);
/* Stops and joins the workers. */
void tpool_destroy(struct tpool *p);
int tpool_threads(const struct tpool *p);
/* Runs fn over [0, n) in chunks of `chunk` items (>= 1) and waits for all of them. Not
 * reentrant: one loop at a time, from the thread that created the pool. */
void tpool_run(struct tpool *p, size_t n, size_t chunk, tpool_fn fn, void *ctx);

#endif
