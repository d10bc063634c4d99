/* tpool.c: the worker pool of tpool.h (pthreads, a generation counter and an atomic cursor). */
#include <errno.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdlib.h>

#include "tpool.h"

struct tpool {
	int nthreads;
	pthread_t *threads;
	pthread_mutex_t lock;
	pthread_cond_t start, done;
	unsigned long generation; /* bumped for each loop; workers wait for a new one */
	int running;              /* workers still in the current loop */
	bool stop;
	/* The current loop. */
	tpool_fn fn;
	void *ctx;
	size_t n, chunk;
	atomic_size_t cursor;
};

struct worker_arg {
	struct tpool *p;
	int index;
};

static void drain(struct tpool *p, int worker)
{
	for (;;) {
		size_t begin = atomic_fetch_add(&p->cursor, p->chunk);
		if (begin >= p->n)
			return;
		size_t end = begin + p->chunk < p->n ? begin + p->chunk : p->n;
		p->fn(p->ctx, worker, begin, end);
	}
}

static void *worker_main(void *arg)
{
	struct worker_arg *wa = arg;
	struct tpool *p = wa->p;
	int index = wa->index;
	unsigned long seen = 0;

	free(wa);
	pthread_mutex_lock(&p->lock);
	for (;;) {
		while (!p->stop && p->generation == seen)
			pthread_cond_wait(&p->start, &p->lock);
		if (p->stop)
			break;
		seen = p->generation;
		pthread_mutex_unlock(&p->lock);
		drain(p, index);
		pthread_mutex_lock(&p->lock);
		if (--p->running == 0)
			pthread_cond_signal(&p->done);
	}
	pthread_mutex_unlock(&p->lock);
	return NULL;
}

int tpool_create(int nthreads, struct tpool **out)
{
	struct tpool *p;

	if (nthreads < 1)
		return -EINVAL;
	p = calloc(1, sizeof(*p));
	if (!p)
		return -ENOMEM;
	p->nthreads = nthreads;
	p->threads = calloc((size_t)nthreads, sizeof(*p->threads));
	if (!p->threads) {
		free(p);
		return -ENOMEM;
	}
	pthread_mutex_init(&p->lock, NULL);
	pthread_cond_init(&p->start, NULL);
	pthread_cond_init(&p->done, NULL);
	for (int i = 1; i < nthreads; i++) {
		struct worker_arg *wa = malloc(sizeof(*wa));
		int rc = ENOMEM;
		if (wa) {
			*wa = (struct worker_arg){.p = p, .index = i};
			rc = pthread_create(&p->threads[i], NULL, worker_main, wa);
		}
		if (rc) {
			free(wa);
			p->nthreads = i; /* join only those started */
			tpool_destroy(p);
			return -rc;
		}
	}
	*out = p;
	return 0;
}

void tpool_destroy(struct tpool *p)
{
	if (!p)
		return;
	pthread_mutex_lock(&p->lock);
	p->stop = true;
	pthread_cond_broadcast(&p->start);
	pthread_mutex_unlock(&p->lock);
	for (int i = 1; i < p->nthreads; i++)
		pthread_join(p->threads[i], NULL);
	pthread_mutex_destroy(&p->lock);
	pthread_cond_destroy(&p->start);
	pthread_cond_destroy(&p->done);
	free(p->threads);
	free(p);
}

int tpool_threads(const struct tpool *p)
{
	return p->nthreads;
}

void tpool_run(struct tpool *p, size_t n, size_t chunk, tpool_fn fn, void *ctx)
{
	if (n == 0)
		return;
	p->fn = fn;
	p->ctx = ctx;
	p->n = n;
	p->chunk = chunk ? chunk : 1;
	atomic_store(&p->cursor, 0);
	if (p->nthreads == 1) {
		drain(p, 0);
		return;
	}
	pthread_mutex_lock(&p->lock);
	p->running = p->nthreads - 1;
	p->generation++;
	pthread_cond_broadcast(&p->start);
	pthread_mutex_unlock(&p->lock);
	drain(p, 0);
	pthread_mutex_lock(&p->lock);
	while (p->running > 0)
		pthread_cond_wait(&p->done, &p->lock);
	pthread_mutex_unlock(&p->lock);
}
