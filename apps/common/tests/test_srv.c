/* test_srv.c: the server layer's guarantees over the kernel backend on loopback (no root):
 * input handed again until consumed, pipelined requests answered in order, a client that does
 * not read stops being served until it reads, replies complete before a close, a half-closed
 * peer answered then closed, an over-long request dropped. The nomnet backend gives the same
 * guarantees; the app integration tests run it in namespaces. */
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "app/srv.h"
#include "test.h"

/* The test app: answers each complete line "X" with "X\n"; "BIG n" with n bytes of 'b';
 * "CLOSE" with "BYE\n" and a close. Partial lines stay unconsumed. */
struct conn_state {
	struct srv_conn *c;
};

static uint64_t lines_seen;

static void *t_open(void *app, struct srv_conn *c)
{
	struct conn_state *s = calloc(1, sizeof(*s));

	(void)app;
	s->c = c;
	return s;
}

static size_t t_input(void *state, const uint8_t *data, size_t len)
{
	struct conn_state *s = state;
	const uint8_t *nl = memchr(data, '\n', len);
	size_t n;

	if (!nl)
		return 0;
	n = (size_t)(nl - data) + 1;
	__atomic_fetch_add(&lines_seen, 1, __ATOMIC_RELAXED);
	if (n > 4 && memcmp(data, "BIG ", 4) == 0) {
		size_t big = strtoul((const char *)data + 4, NULL, 10);
		char *b = malloc(big);

		memset(b, 'b', big);
		ASSERT_OK(srv_send(s->c, b, big));
		free(b);
	} else if (n == 6 && memcmp(data, "CLOSE\n", 6) == 0) {
		ASSERT_OK(srv_send(s->c, "BYE\n", 4));
		srv_close(s->c);
	} else {
		ASSERT_OK(srv_send(s->c, data, n));
	}
	srv_add_requests(srv_of(s->c), 1);
	return n; /* one line per call: the core calls again for the next */
}

static void t_close(void *state)
{
	free(state);
}

static const struct srv_app_ops ops = {t_open, t_input, t_close};

static void *run(void *arg)
{
	ASSERT_OK(srv_run(arg));
	return NULL;
}

static int dial(int port)
{
	struct sockaddr_in sa = {.sin_family = AF_INET, .sin_port = htons((uint16_t)port)};
	int fd = socket(AF_INET, SOCK_STREAM, 0), one = 1;

	sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	ASSERT_OK(connect(fd, (struct sockaddr *)&sa, sizeof(sa)));
	setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
	return fd;
}

static void send_str(int fd, const char *s)
{
	ASSERT_EQ(send(fd, s, strlen(s), 0), (ssize_t)strlen(s));
}

/* Reads exactly n bytes (5 s deadline). */
static void read_n(int fd, char *buf, size_t n)
{
	size_t got = 0;

	while (got < n) {
		struct pollfd p = {fd, POLLIN, 0};
		ssize_t r;

		ASSERT_GT(poll(&p, 1, 5000), 0);
		r = recv(fd, buf + got, n - got, 0);
		ASSERT_GT(r, 0);
		got += (size_t)r;
	}
}

static void expect(int fd, const char *want)
{
	char buf[256];
	size_t n = strlen(want);

	read_n(fd, buf, n);
	buf[n] = '\0';
	ASSERT_STR_EQ(buf, want);
}

static void expect_eof(int fd)
{
	struct pollfd p = {fd, POLLIN, 0};
	char c;

	ASSERT_GT(poll(&p, 1, 5000), 0);
	ASSERT_TRUE(recv(fd, &c, 1, 0) <= 0);
}

int main(void)
{
	struct srv_config cfg;
	struct srv *s;
	struct srv_stats st;
	pthread_t th;
	int port, fd;

	srv_config_init(&cfg);
	cfg.stack = SRV_KERNEL;
	cfg.bind_addr = "127.0.0.1";
	cfg.in_max = 4096;
	cfg.out_high = 1u << 20;
	cfg.out_low = 256u << 10;
	ASSERT_OK(srv_create(&cfg, &ops, NULL, &s));
	ASSERT_EQ(srv_nomnet(s), NULL);
	ASSERT_OK(srv_listen(s, 0));
	port = srv_local_port(s, 0);
	ASSERT_GT(port, 0);
	ASSERT_OK(pthread_create(&th, NULL, run, s));

	/* Pipelined lines, split at odd places, come back whole and in order. */
	fd = dial(port);
	send_str(fd, "one\ntw");
	usleep(20000);
	send_str(fd, "o\nthree\nfo");
	usleep(20000);
	send_str(fd, "ur\n");
	expect(fd, "one\ntwo\nthree\nfour\n");

	/* A client that does not read: after out_high bytes wait, its later lines are not
	 * served until it reads; then everything arrives in order. */
	{
		uint64_t before;
		size_t big = 8u << 20;
		char *b = malloc(big);

		send_str(fd, "BIG 8388608\n");
		usleep(200000);
		before = __atomic_load_n(&lines_seen, __ATOMIC_RELAXED);
		send_str(fd, "after\n");
		usleep(200000);
		ASSERT_EQ(__atomic_load_n(&lines_seen, __ATOMIC_RELAXED), before);
		read_n(fd, b, big);
		for (size_t i = 0; i < big; i++)
			if (b[i] != 'b')
				TEST_FAIL("byte %zu of the big reply is %d", i, b[i]);
		free(b);
		expect(fd, "after\n");
	}

	/* Close after the reply. */
	send_str(fd, "x\nCLOSE\nignored\n");
	expect(fd, "x\nBYE\n");
	expect_eof(fd);
	close(fd);

	/* A half-closed client gets its answers, then the close. */
	fd = dial(port);
	send_str(fd, "a\nb\n");
	shutdown(fd, SHUT_WR);
	expect(fd, "a\nb\n");
	expect_eof(fd);
	close(fd);

	/* A request over in_max without an end: dropped. */
	fd = dial(port);
	{
		char junk[8192];

		memset(junk, 'j', sizeof(junk));
		send(fd, junk, sizeof(junk), MSG_NOSIGNAL);
	}
	expect_eof(fd);
	close(fd);

	usleep(50000);
	srv_stats_read(s, &st);
	ASSERT_EQ(st.accepted, 3);
	ASSERT_EQ(st.active, 0);
	ASSERT_GE(st.requests, 9);
	srv_stop(s);
	pthread_join(th, NULL);
	srv_destroy(s);
	printf("test_app_srv: ok\n");
	return 0;
}
