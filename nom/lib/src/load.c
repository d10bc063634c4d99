/* load.c: the load meter (load.h): windows of completed requests and distinct clients.
 *
 * Design notes
 * ------------
 * State: the open window [start, ...) with its request count, its client count and its last
 * report's time; a ring of the last NOM_LOAD_SAMPLES closed windows.
 * Invariants (test_nom_load checks them from outside):
 *  1. windows counts the closed windows; the ring holds min(windows, NOM_LOAD_SAMPLES) of
 *     them, in closing order, each with len_ns >= 0 and clients <= requests (a client is
 *     counted with its first request of the window).
 *  2. A connection's token is 0 or the number (1-based) of a window it was counted in; it is
 *     counted at most once per window.
 *  3. open >= 0 when every close follows its open. */
#include <errno.h>
#include <math.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include "bb/bb.h"
#include "nom/load.h"

struct nom_load {
	pthread_mutex_t mu;
	int64_t window_ns;
	uint32_t *notify;
	/* the open window */
	bool started;
	int64_t start_ns, last_ns;
	uint64_t requests, clients;
	/* closed windows */
	uint64_t windows, total;
	struct nom_load_sample ring[NOM_LOAD_SAMPLES];
	int64_t open;
};

int nom_load_create(int64_t window_ns, struct nom_load **out)
{
	if (window_ns < 0 || !out)
		return -EINVAL;
	struct nom_load *l = calloc(1, sizeof(*l));
	if (!l)
		return -ENOMEM;
	pthread_mutex_init(&l->mu, NULL);
	l->window_ns = window_ns ? window_ns : NOM_LOAD_WINDOW_NS;
	*out = l;
	return 0;
}

void nom_load_destroy(struct nom_load *l)
{
	if (!l)
		return;
	pthread_mutex_destroy(&l->mu);
	free(l);
}

void nom_load_notify(struct nom_load *l, uint32_t *word)
{
	pthread_mutex_lock(&l->mu);
	l->notify = word;
	pthread_mutex_unlock(&l->mu);
}

/* Closes the open window at end_ns; the next opens at next_ns. Under the mutex. */
static void close_window(struct nom_load *l, int64_t end_ns, int64_t next_ns)
{
	struct nom_load_sample *s = &l->ring[l->windows % NOM_LOAD_SAMPLES];

	s->end_ns = end_ns;
	s->len_ns = end_ns > l->start_ns ? end_ns - l->start_ns : 0;
	s->requests = l->requests;
	s->clients = (uint32_t)l->clients;
	l->windows++;
	l->start_ns = next_ns;
	l->last_ns = next_ns;
	l->requests = 0;
	l->clients = 0;
}

void nom_load_add(struct nom_load *l, int64_t now_ns, uint64_t n, uint64_t *token)
{
	uint32_t *kick = NULL;

	pthread_mutex_lock(&l->mu);
	if (!l->started) {
		l->started = true;
		l->start_ns = l->last_ns = now_ns;
	} else if (now_ns - l->last_ns > l->window_ns && l->requests) {
		/* A gap: the window ended with its last request; this one opens the next. */
		close_window(l, l->last_ns, now_ns);
		kick = l->notify;
	} else if (now_ns - l->start_ns >= l->window_ns) {
		close_window(l, now_ns, now_ns);
		kick = l->notify;
	}
	if (n) {
		l->requests += n;
		l->total += n;
		l->last_ns = now_ns;
		uint64_t id = l->windows + 1;
		if (token && *token != id) {
			*token = id;
			l->clients++;
		}
	}
	pthread_mutex_unlock(&l->mu);
	if (kick)
		bb_kick(kick);
}

void nom_load_conn(struct nom_load *l, int delta)
{
	uint32_t *kick = NULL;

	pthread_mutex_lock(&l->mu);
	l->open += delta;
	if (l->open == 0 && delta < 0)
		kick = l->notify;
	pthread_mutex_unlock(&l->mu);
	if (kick)
		bb_kick(kick);
}

void nom_load_read(struct nom_load *l, struct nom_load_view *out)
{
	pthread_mutex_lock(&l->mu);
	out->windows = l->windows;
	out->requests = l->total;
	out->open = l->open;
	out->n = l->windows < NOM_LOAD_SAMPLES ? (size_t)l->windows : NOM_LOAD_SAMPLES;
	for (size_t i = 0; i < out->n; i++)
		out->s[i] = l->ring[(l->windows - out->n + i) % NOM_LOAD_SAMPLES];
	pthread_mutex_unlock(&l->mu);
}

static int cmp_double(const void *x, const void *y)
{
	double a = *(const double *)x, b = *(const double *)y;

	return a < b ? -1 : a > b;
}

static double median(double *v, size_t n)
{
	if (!n)
		return 0;
	qsort(v, n, sizeof(*v), cmp_double);
	return n % 2 ? v[n / 2] : (v[n / 2 - 1] + v[n / 2]) / 2;
}

/* The last n windows that lasted at least 1 ms: rate (what) 0, clients 1. */
static double recent(const struct nom_load_view *v, size_t n, int what)
{
	double vals[NOM_LOAD_SAMPLES];
	size_t k = 0;

	for (size_t i = v->n; i-- > 0 && k < n;) {
		const struct nom_load_sample *s = &v->s[i];
		if (s->len_ns < 1000000)
			continue;
		vals[k++] = what == 0 ? (double)s->requests * 1e9 / (double)s->len_ns
				      : (double)s->clients;
	}
	return median(vals, k);
}

double nom_load_rate(const struct nom_load_view *v, size_t n)
{
	return recent(v, n, 0);
}

double nom_load_clients(const struct nom_load_view *v, size_t n)
{
	return recent(v, n, 1);
}
