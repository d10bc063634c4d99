/* srv.c: the server core shared by both backends: connection buffers, flow control and the
 * order of close, so that nom-memcached, nhttpd and nompipe behave the same over nomnet and
 * over kernel sockets. The design notes are in srv_priv.h. */
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "common/log.h"
#include "srv_priv.h"

void srv_config_init(struct srv_config *cfg)
{
	memset(cfg, 0, sizeof(*cfg));
	cfg->stack = SRV_NOMNET;
	nomnet_config_init(&cfg->net);
	cfg->in_max = 2u << 20;
	cfg->out_high = 4u << 20;
	cfg->out_low = 1u << 20;
}

const char *srv_stack_name(enum srv_stack st)
{
	return st == SRV_KERNEL ? "kernel" : "nomnet";
}

int srv_stack_parse(const char *name, enum srv_stack *out)
{
	if (name && strcmp(name, "nomnet") == 0)
		*out = SRV_NOMNET;
	else if (name && strcmp(name, "kernel") == 0)
		*out = SRV_KERNEL;
	else
		return -EINVAL;
	return 0;
}

static int backend_check(const struct plugin_hdr *h)
{
	const struct srv_backend *b = PLUGIN_OF(struct srv_backend, h);

	return b->listen && b->run && b->stop && b->destroy && b->write && b->close && b->abort
		       ? 0
		       : -EINVAL;
}

static const struct plugin_hdr *const backends[] = {&srv__nomnet.plugin, &srv__kernel.plugin};
static const struct plugin_registry registry = {
	.kind = "server backend",
	.api_version = SRV_BACKEND_VERSION,
	.min_size = sizeof(struct srv_backend),
	.builtin = backends,
	.nbuiltin = sizeof(backends) / sizeof(backends[0]),
	.check = backend_check,
};

int srv_create(const struct srv_config *cfg, const struct srv_app_ops *ops, void *app,
	       struct srv **out)
{
	struct srv *s;
	int rc;

	if (!cfg || !ops || !ops->open || !ops->input || !ops->close || !out)
		return -EINVAL;
	if (cfg->out_low > cfg->out_high || cfg->in_max == 0)
		return -EINVAL;
	s = calloc(1, sizeof(*s));
	if (!s)
		return -ENOMEM;
	s->cfg = *cfg;
	s->ops = ops;
	s->app = app;
	s->epfd = s->wake_fd = -1;
	pthread_mutex_init(&s->call_mu, NULL);
	pthread_cond_init(&s->call_cv, NULL);
	for (unsigned i = 0; i < 4; i++)
		s->lfds[i] = -1;
	rc = cfg->stack == SRV_KERNEL ? srv__kernel_create(s) : srv__nomnet_create(s);
	if (rc < 0) {
		free(s);
		return rc;
	}
	/* The backend it installed is one of the registry's, and meets the template. */
	if (!s->be || plugin_find(&registry, s->be->name) != &s->be->plugin ||
	    plugin_check(&registry, &s->be->plugin) != 0) {
		if (s->be && s->be->destroy)
			s->be->destroy(s);
		free(s);
		return -EINVAL;
	}
	*out = s;
	return 0;
}

int srv_listen(struct srv *s, uint16_t port)
{
	return s->be->listen(s, port);
}

int srv_local_port(const struct srv *s, unsigned i)
{
	if (s->cfg.stack == SRV_NOMNET)
		return i < s->nlisteners ? s->ports[i] : -ENOENT;
	if (i >= s->nlfds)
		return -ENOENT;
	{
		struct sockaddr_in sa;
		socklen_t len = sizeof(sa);

		if (getsockname(s->lfds[i], (struct sockaddr *)&sa, &len) < 0)
			return -errno;
		return ntohs(sa.sin_port);
	}
}

int srv_run(struct srv *s)
{
	return s->be->run(s);
}

void srv_stop(struct srv *s)
{
	s->be->stop(s);
}

void srv_destroy(struct srv *s)
{
	if (!s)
		return;
	s->be->destroy(s);
	pthread_mutex_destroy(&s->call_mu);
	pthread_cond_destroy(&s->call_cv);
	free(s);
}

enum srv_stack srv_stack_of(const struct srv *s)
{
	return s->cfg.stack;
}

struct nomnet *srv_nomnet(struct srv *s)
{
	return s->net;
}

struct srv *srv_of(const struct srv_conn *c)
{
	return c->s;
}

void srv__loop_running(struct srv *s, bool running)
{
	pthread_mutex_lock(&s->call_mu);
	s->loop_running = running;
	if (!running && s->call_fn) { /* asked as the loop stopped: run it here */
		s->call_fn(s->call_arg);
		s->call_fn = NULL;
		s->calls_done++;
	}
	pthread_cond_broadcast(&s->call_cv);
	pthread_mutex_unlock(&s->call_mu);
}

void srv__run_call(struct srv *s)
{
	pthread_mutex_lock(&s->call_mu);
	if (s->call_fn) {
		s->call_fn(s->call_arg);
		s->call_fn = NULL;
		s->calls_done++;
		pthread_cond_broadcast(&s->call_cv);
	}
	pthread_mutex_unlock(&s->call_mu);
}

int srv_call(struct srv *s, void (*fn)(void *arg), void *arg)
{
	if (s->cfg.stack == SRV_NOMNET) {
		nomnet_lock(s->net);
		fn(arg);
		nomnet_unlock(s->net);
		return 0;
	}
	pthread_mutex_lock(&s->call_mu);
	while (s->call_fn) /* one call at a time */
		pthread_cond_wait(&s->call_cv, &s->call_mu);
	if (!s->loop_running) {
		fn(arg);
		pthread_mutex_unlock(&s->call_mu);
		return 0;
	}
	s->call_fn = fn;
	s->call_arg = arg;
	uint64_t ticket = ++s->calls_asked, one = 1;
	if (write(s->wake_fd, &one, sizeof(one)) < 0) {
		/* the eventfd only fails when full: the loop wakes anyway */
	}
	while (s->calls_done < ticket)
		pthread_cond_wait(&s->call_cv, &s->call_mu);
	pthread_mutex_unlock(&s->call_mu);
	return 0;
}

void srv_add_requests(struct srv *s, uint64_t n)
{
	atomic_fetch_add_explicit(&s->requests, n, memory_order_relaxed);
}

uint64_t srv_requests(const struct srv *s)
{
	return atomic_load_explicit(&((struct srv *)s)->requests, memory_order_relaxed);
}

void srv_stats_read(const struct srv *s, struct srv_stats *out)
{
	struct srv *m = (struct srv *)s;

	out->accepted = atomic_load(&m->accepted);
	out->active = atomic_load(&m->active);
	out->bytes_in = atomic_load(&m->bytes_in);
	out->bytes_out = atomic_load(&m->bytes_out);
	out->requests = atomic_load(&m->requests);
}

size_t srv_pending(const struct srv_conn *c)
{
	return c->out.len;
}

/* ---- connections ---- */

struct srv_conn *srv__conn_new(struct srv *s, void *tcp, int fd)
{
	struct srv_conn *c = calloc(1, sizeof(*c));

	if (!c)
		return NULL;
	c->s = s;
	c->tcp = tcp;
	c->fd = fd;
	c->next = s->conns;
	if (s->conns)
		s->conns->prev = c;
	s->conns = c;
	atomic_fetch_add(&s->accepted, 1);
	atomic_fetch_add(&s->active, 1);
	if (s->cfg.load)
		nom_load_conn(s->cfg.load, +1);
	c->in_app++;
	c->state = s->ops->open(s->app, c);
	c->in_app--;
	if (!c->state) {
		c->finished = true;
		srv__conn_gone(c);
		return NULL;
	}
	return c;
}

static void conn_free(struct srv_conn *c)
{
	struct srv *s = c->s;

	if (c->prev)
		c->prev->next = c->next;
	else
		s->conns = c->next;
	if (c->next)
		c->next->prev = c->prev;
	buf_free(&c->in);
	buf_free(&c->out);
	atomic_fetch_sub(&s->active, 1);
	if (s->cfg.load)
		nom_load_conn(s->cfg.load, -1);
	free(c);
}

/* Ends the connection: transport closed (or reset), app told, memory freed. */
static void finish(struct srv_conn *c, bool reset)
{
	struct srv *s = c->s;

	c->finished = true;
	if (reset) {
		s->be->abort(c);
	} else {
		/* Everything received counts as read: a TCP stack closing with unread bytes
		 * resets the connection and drops the replies still queued (lwIP does). */
		if (c->owed && PLUGIN_HAS(s->be, window))
			s->be->window(c, c->owed);
		c->owed = 0;
		s->be->close(c);
	}
	s->ops->close(c->state);
	conn_free(c);
}

bool srv__conn_want_input(const struct srv_conn *c)
{
	return !c->paused && !c->closing && !c->abort_asked && !c->finished &&
	       c->in.len < c->s->cfg.in_max;
}

/* After every event: carry out a close asked meanwhile, settle flow control, re-arm. */
static void settle(struct srv_conn *c)
{
	size_t target;

	if (c->in_app || c->finished)
		return;
	if (c->abort_asked) {
		finish(c, true);
		return;
	}
	if (c->out.len == 0 && (c->closing || (c->peer_eof && !c->paused))) {
		finish(c, false);
		return;
	}
	target = c->in.len > c->s->cfg.in_max ? c->in.len - c->s->cfg.in_max : 0;
	if (c->owed > target) {
		if (PLUGIN_HAS(c->s->be, window))
			c->s->be->window(c, c->owed - target);
		c->owed = target;
	}
	if (PLUGIN_HAS(c->s->be, update))
		c->s->be->update(c);
	srv__conn_check(c);
}

/* Hands buffered input to the app while it consumes some and may take more. */
static void feed(struct srv_conn *c)
{
	while (c->in.len > 0 && !c->paused && !c->closing && !c->abort_asked) {
		size_t n;

		c->in_app++;
		n = c->s->ops->input(c->state, buf_head(&c->in), c->in.len);
		c->in_app--;
		if (n == 0) {
			if (c->in.len >= c->s->cfg.in_max && !c->paused && !c->closing) {
				log_warn("srv: a request over %zu bytes: dropping the connection",
					 c->s->cfg.in_max);
				c->abort_asked = true;
			}
			return;
		}
		buf_consume(&c->in, n < c->in.len ? n : c->in.len);
	}
}

void srv__conn_data(struct srv_conn *c, const uint8_t *data, size_t len)
{
	atomic_fetch_add_explicit(&c->s->bytes_in, len, memory_order_relaxed);
	c->owed += len;
	if (c->closing || c->abort_asked || c->finished) {
		settle(c); /* late input of a closing connection is dropped */
		return;
	}
	if (c->in.len == 0 && !c->paused) {
		/* The common case: parse straight from the transport's buffer. */
		size_t n;

		c->in_app++;
		n = c->s->ops->input(c->state, data, len);
		c->in_app--;
		if (n > len)
			n = len;
		data += n;
		len -= n;
		if (len == 0 || c->closing || c->abort_asked) {
			settle(c);
			return;
		}
		if (n == 0 && buf_append(&c->in, data, len) == 0) {
			if (c->in.len >= c->s->cfg.in_max && !c->paused) {
				log_warn("srv: a request over %zu bytes: dropping the connection",
					 c->s->cfg.in_max);
				c->abort_asked = true;
			}
			settle(c);
			return;
		}
	}
	if (buf_append(&c->in, data, len) < 0) {
		log_warn("srv: out of memory for input: dropping the connection");
		c->abort_asked = true;
	} else {
		feed(c);
	}
	settle(c);
}

void srv__conn_eof(struct srv_conn *c)
{
	c->peer_eof = true;
	settle(c);
}

static void flush(struct srv_conn *c)
{
	while (c->out.len > 0) {
		long w = c->s->be->write(c, buf_head(&c->out), c->out.len);

		if (w < 0) {
			c->abort_asked = true;
			return;
		}
		if (w == 0)
			return;
		buf_consume(&c->out, (size_t)w);
	}
}

void srv__conn_writable(struct srv_conn *c)
{
	if (c->finished)
		return;
	flush(c);
	if (c->paused && c->out.len < c->s->cfg.out_low) {
		c->paused = false;
		feed(c);
	}
	settle(c);
}

void srv__conn_gone(struct srv_conn *c)
{
	struct srv *s = c->s;

	/* The transport is already gone: no close or abort on it. */
	if (c->state)
		s->ops->close(c->state);
	conn_free(c);
}

int srv_send(struct srv_conn *c, const void *data, size_t len)
{
	const uint8_t *p = data;

	if (c->finished || c->closing || c->abort_asked)
		return -EPIPE;
	atomic_fetch_add_explicit(&c->s->bytes_out, len, memory_order_relaxed);
	if (c->out.len == 0 && len > 0) {
		long w = c->s->be->write(c, p, len);

		if (w < 0) {
			c->abort_asked = true;
			settle(c);
			return -EPIPE;
		}
		p += w;
		len -= (size_t)w;
	}
	if (len && buf_append(&c->out, p, len) < 0) {
		c->abort_asked = true;
		settle(c);
		return -ENOMEM;
	}
	if (c->out.len > c->s->cfg.out_high)
		c->paused = true;
	settle(c);
	return 0;
}

int srv_deliver(struct srv_conn *c, struct buf *out, uint64_t requests, uint64_t *counted,
		bool close)
{
	int rc = 0;

	if (out->len) {
		rc = srv_send(c, buf_head(out), out->len);
		buf_reset(out);
	}
	if (requests != *counted) {
		srv_add_requests(c->s, requests - *counted);
		if (c->s->cfg.load) {
			struct timespec ts;
			clock_gettime(CLOCK_MONOTONIC, &ts);
			nom_load_add(c->s->cfg.load, (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec,
				     requests - *counted, &c->load_token);
		}
		*counted = requests;
	}
	if (close)
		srv_close(c);
	return rc;
}

void srv_close(struct srv_conn *c)
{
	c->closing = true;
	settle(c);
}

void srv_abort(struct srv_conn *c)
{
	c->abort_asked = true;
	settle(c);
}

void srv__conn_check(const struct srv_conn *c)
{
	size_t target = c->in.len > c->s->cfg.in_max ? c->in.len - c->s->cfg.in_max : 0;

	if (c->finished || (c->in_app == 0 && c->owed != target) ||
	    (c->paused && c->out.len == 0 && c->in_app == 0 && c->s->cfg.out_low > 0)) {
		fprintf(stderr, "srv__conn_check: finished %d owed %zu target %zu paused %d out %zu\n",
			c->finished, c->owed, target, c->paused, c->out.len);
		abort();
	}
}
