/* srv_kernel.c: the server backend over kernel TCP sockets, one epoll loop in one thread.
 *
 * The Linux baseline of the benchmarks: the very same app code as over nomnet, with the
 * kernel's TCP stack under it. Level-triggered epoll; a connection is armed for input only
 * while the core wants input (srv__conn_want_input: not paused, buffer not full), which is how
 * kernel flow control stops a peer, and for output only while replies wait. */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <sys/socket.h>
#include <unistd.h>

#include "common/log.h"
#include "srv_priv.h"

#define KRN_READ_BUF (64u << 10)

/* epoll data: listeners and the wake fd are tagged with the low bit set. */
static void *tag_fd(int fd)
{
	return (void *)(((uintptr_t)fd << 1) | 1u);
}

static int krn_listen(struct srv *s, uint16_t port)
{
	struct sockaddr_in sa;
	struct epoll_event ev = {.events = EPOLLIN};
	int fd, one = 1;

	if (s->nlfds >= 4)
		return -ENOSPC;
	memset(&sa, 0, sizeof(sa));
	sa.sin_family = AF_INET;
	sa.sin_port = htons(port);
	if (s->cfg.bind_addr && inet_pton(AF_INET, s->cfg.bind_addr, &sa.sin_addr) != 1)
		return -EINVAL;
	fd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return -errno;
	setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
	if (s->cfg.reuse_port)
		setsockopt(fd, SOL_SOCKET, SO_REUSEPORT, &one, sizeof(one));
	if (bind(fd, (struct sockaddr *)&sa, sizeof(sa)) < 0 || listen(fd, 1024) < 0) {
		int rc = -errno;

		close(fd);
		return rc;
	}
	ev.data.ptr = tag_fd(fd);
	if (epoll_ctl(s->epfd, EPOLL_CTL_ADD, fd, &ev) < 0) {
		int rc = -errno;

		close(fd);
		return rc;
	}
	s->lfds[s->nlfds++] = fd;
	return 0;
}

static void krn_update(struct srv_conn *c)
{
	struct epoll_event ev;
	uint32_t want = 0;

	if (c->fd < 0)
		return;
	if (srv__conn_want_input(c))
		want |= EPOLLIN | EPOLLRDHUP;
	if (c->out.len > 0)
		want |= EPOLLOUT;
	if (want == c->events)
		return;
	ev.events = want;
	ev.data.ptr = c;
	if (epoll_ctl(c->s->epfd, EPOLL_CTL_MOD, c->fd, &ev) == 0)
		c->events = want;
}

static void accept_all(struct srv *s, int lfd)
{
	for (;;) {
		struct epoll_event ev = {.events = EPOLLIN | EPOLLRDHUP};
		struct srv_conn *c;
		int one = 1, fd = accept4(lfd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC);

		if (fd < 0) {
			if (errno != EAGAIN && errno != EINTR && errno != ECONNABORTED)
				log_warn("srv: accept: %s", strerror(errno));
			if (errno == EINTR || errno == ECONNABORTED)
				continue;
			return;
		}
		setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
		c = srv__conn_new(s, NULL, fd);
		if (!c) {
			close(fd);
			continue;
		}
		ev.data.ptr = c;
		if (epoll_ctl(s->epfd, EPOLL_CTL_ADD, fd, &ev) < 0) {
			srv_abort(c);
			continue;
		}
		c->events = ev.events;
		krn_update(c);
	}
}

static void on_readable(struct srv_conn *c, uint8_t *rbuf)
{
	/* Read while the core wants input; one pass of up to a few buffers keeps the loop fair
	 * among connections. */
	for (int i = 0; i < 4 && srv__conn_want_input(c); i++) {
		ssize_t r = recv(c->fd, rbuf, KRN_READ_BUF, 0);

		if (r > 0) {
			srv__conn_data(c, rbuf, (size_t)r);
			return; /* c may be gone; the next epoll pass reads more */
		}
		if (r == 0) {
			srv__conn_eof(c);
			return;
		}
		if (errno == EINTR)
			continue;
		if (errno != EAGAIN)
			srv_abort(c);
		return;
	}
}

static int krn_run(struct srv *s)
{
	uint8_t *rbuf = malloc(KRN_READ_BUF);
	struct epoll_event ev[64];

	if (!rbuf)
		return -ENOMEM;
	srv__loop_running(s, true);
	while (!atomic_load(&s->stop)) {
		int n = epoll_wait(s->epfd, ev, 64, 1000);

		if (n < 0 && errno != EINTR) {
			int err = -errno;
			srv__loop_running(s, false);
			free(rbuf);
			return err;
		}
		for (int i = 0; i < n; i++) {
			uintptr_t d = (uintptr_t)ev[i].data.ptr;

			if (d & 1u) {
				int fd = (int)(d >> 1);

				if (fd == s->wake_fd) {
					uint64_t v;

					if (read(fd, &v, sizeof(v)) < 0 && errno != EAGAIN)
						break;
					srv__run_call(s);
				} else {
					accept_all(s, fd);
				}
				continue;
			}
			{
				struct srv_conn *c = ev[i].data.ptr;
				uint32_t e = ev[i].events;

				/* Each connection appears at most once per batch, and a
				 * handler frees only its own connection. */
				if (e & (EPOLLERR | EPOLLHUP))
					srv_abort(c); /* reset, or both directions shut */
				else if (e & EPOLLOUT)
					srv__conn_writable(c);
				else if (e & (EPOLLIN | EPOLLRDHUP | EPOLLHUP | EPOLLERR))
					on_readable(c, rbuf);
			}
		}
	}
	srv__loop_running(s, false);
	free(rbuf);
	return 0;
}

static void krn_stop(struct srv *s)
{
	uint64_t one = 1;

	atomic_store(&s->stop, true);
	if (write(s->wake_fd, &one, sizeof(one)) < 0) {
		/* the flag stops the loop within a second anyway */
	}
}

static long krn_write(struct srv_conn *c, const uint8_t *data, size_t len)
{
	for (;;) {
		ssize_t w = send(c->fd, data, len, MSG_NOSIGNAL | MSG_DONTWAIT);

		if (w >= 0)
			return (long)w;
		if (errno == EINTR)
			continue;
		if (errno == EAGAIN)
			return 0;
		return -errno;
	}
}

static void krn_close(struct srv_conn *c)
{
	if (c->fd >= 0) {
		epoll_ctl(c->s->epfd, EPOLL_CTL_DEL, c->fd, NULL);
		shutdown(c->fd, SHUT_WR);
		close(c->fd);
	}
	c->fd = -1;
}

static void krn_abort(struct srv_conn *c)
{
	if (c->fd >= 0) {
		struct linger lg = {1, 0};

		epoll_ctl(c->s->epfd, EPOLL_CTL_DEL, c->fd, NULL);
		setsockopt(c->fd, SOL_SOCKET, SO_LINGER, &lg, sizeof(lg));
		close(c->fd);
	}
	c->fd = -1;
}

static void krn_destroy(struct srv *s)
{
	while (s->conns) {
		struct srv_conn *c = s->conns;

		c->in_app = 0;
		srv_abort(c);
	}
	for (unsigned i = 0; i < s->nlfds; i++)
		close(s->lfds[i]);
	s->nlfds = 0;
	if (s->wake_fd >= 0)
		close(s->wake_fd);
	if (s->epfd >= 0)
		close(s->epfd);
}

const struct srv_backend srv__kernel = {
	.api_version = SRV_BACKEND_VERSION,
	.size = sizeof(struct srv_backend),
	.name = "kernel",
	.listen = krn_listen,
	.run = krn_run,
	.stop = krn_stop,
	.destroy = krn_destroy,
	.write = krn_write,
	.window = NULL,
	.update = krn_update,
	.close = krn_close,
	.abort = krn_abort,
};

int srv__kernel_create(struct srv *s)
{
	struct epoll_event ev = {.events = EPOLLIN};

	s->be = &srv__kernel;
	s->epfd = epoll_create1(EPOLL_CLOEXEC);
	s->wake_fd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
	if (s->epfd < 0 || s->wake_fd < 0)
		goto fail;
	ev.data.ptr = tag_fd(s->wake_fd);
	if (epoll_ctl(s->epfd, EPOLL_CTL_ADD, s->wake_fd, &ev) < 0)
		goto fail;
	memset(&s->cfg.net, 0, sizeof(s->cfg.net));
	return 0;
fail:
	if (s->epfd >= 0)
		close(s->epfd);
	if (s->wake_fd >= 0)
		close(s->wake_fd);
	return -errno;
}
