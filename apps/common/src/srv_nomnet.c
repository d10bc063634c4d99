/* srv_nomnet.c: the server backend over nomnet, the app's private lwIP stack.
 *
 * Connections are nomnet TCP handles; their callbacks run in the stack's loop thread (or
 * lwIP's timer thread), with the stack lock held, so the core and the app need no locking of
 * their own. srv_run() starts the loop thread and sleeps until srv_stop(). */
#include <errno.h>
#include <poll.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <unistd.h>

#include "common/log.h"
#include "srv_priv.h"

static int on_accept(void *larg, struct nomnet_tcp *t, void **carg)
{
	struct srv_conn *c = srv__conn_new(larg, t, -1);

	if (!c)
		return -1;
	*carg = c;
	return 0;
}

static void on_recv(void *arg, struct nomnet_tcp *t, const void *data, size_t len)
{
	(void)t;
	srv__conn_data(arg, data, len);
}

static void on_eof(void *arg, struct nomnet_tcp *t)
{
	(void)t;
	srv__conn_eof(arg);
}

static void on_sent(void *arg, struct nomnet_tcp *t, size_t len)
{
	(void)t;
	(void)len;
	srv__conn_writable(arg);
}

static void on_closed(void *arg, struct nomnet_tcp *t, int err)
{
	struct srv_conn *c = arg;

	(void)t;
	(void)err;
	c->tcp = NULL;
	srv__conn_gone(c);
}

static const struct nomnet_tcp_handler handler = {
	.accept = on_accept,
	.recv = on_recv,
	.eof = on_eof,
	.sent = on_sent,
	.closed = on_closed,
};

static int nn_listen(struct srv *s, uint16_t port)
{
	int rc;

	if (s->nlisteners >= 4)
		return -ENOSPC;
	nomnet_lock(s->net);
	rc = nomnet_tcp_listen(s->net, port, &handler, s, &s->listeners[s->nlisteners]);
	nomnet_unlock(s->net);
	if (rc == 0)
		s->ports[s->nlisteners++] = port;
	return rc;
}

static int nn_run(struct srv *s)
{
	int rc = nomnet_start(s->net);

	if (rc < 0)
		return rc;
	while (!atomic_load(&s->stop)) {
		struct pollfd p = {.fd = s->wake_fd, .events = POLLIN};

		if (poll(&p, 1, 1000) > 0) {
			uint64_t v;

			if (read(s->wake_fd, &v, sizeof(v)) < 0 && errno != EAGAIN)
				break;
		}
	}
	nomnet_stop(s->net);
	return 0;
}

static void nn_stop(struct srv *s)
{
	uint64_t one = 1;

	atomic_store(&s->stop, true);
	if (write(s->wake_fd, &one, sizeof(one)) < 0) {
		/* the flag alone stops the loop within a second */
	}
}

static long nn_write(struct srv_conn *c, const uint8_t *data, size_t len)
{
	size_t acc;

	if (!c->tcp)
		return -EPIPE;
	if (nomnet_tcp_write(c->tcp, data, len, &acc) < 0)
		return -EPIPE;
	return (long)acc;
}

static void nn_window(struct srv_conn *c, size_t n)
{
	if (c->tcp)
		nomnet_tcp_recved(c->tcp, n);
}

static void nn_close(struct srv_conn *c)
{
	if (c->tcp)
		nomnet_tcp_close(c->tcp);
	c->tcp = NULL;
}

static void nn_abort(struct srv_conn *c)
{
	if (c->tcp)
		nomnet_tcp_abort(c->tcp);
	c->tcp = NULL;
}

static void nn_destroy(struct srv *s)
{
	if (s->net) {
		nomnet_stop(s->net);
		nomnet_lock(s->net);
		while (s->conns) {
			struct srv_conn *c = s->conns;

			c->in_app = 0;
			c->abort_asked = true;
			srv_abort(c);
		}
		for (unsigned i = 0; i < s->nlisteners; i++)
			nomnet_tcp_close(s->listeners[i]);
		s->nlisteners = 0;
		nomnet_unlock(s->net);
		nomnet_destroy(s->net);
		s->net = NULL;
	}
	if (s->wake_fd >= 0)
		close(s->wake_fd);
}

const struct srv_backend srv__nomnet = {
	.api_version = SRV_BACKEND_VERSION,
	.size = sizeof(struct srv_backend),
	.name = "nomnet",
	.listen = nn_listen,
	.run = nn_run,
	.stop = nn_stop,
	.destroy = nn_destroy,
	.write = nn_write,
	.window = nn_window,
	.update = NULL,
	.close = nn_close,
	.abort = nn_abort,
};

int srv__nomnet_create(struct srv *s)
{
	int rc;

	s->be = &srv__nomnet;
	s->wake_fd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
	if (s->wake_fd < 0)
		return -errno;
	rc = nomnet_create(&s->cfg.net, &s->net);
	if (rc < 0) {
		close(s->wake_fd);
		s->wake_fd = -1;
		return rc;
	}
	/* The config's strings were borrowed for creation only. */
	memset(&s->cfg.net, 0, sizeof(s->cfg.net));
	return 0;
}
