/* nomnet-xfer: the kernel-socket client of the TCP transfer tests.
 *
 * For every size it runs three transfers against nomnet-testsrv and checks every byte:
 * ECHO (the client sends the pattern and reads it back: both directions at once), SINK
 * (client to server; the server checks and answers OK) and SOURCE (server to client).
 *
 *   nomnet-xfer --connect IP:PORT --sizes 0,1,1460,... [--parallel N] [--wait-s S]
 *               [--seed S]
 *
 * Prints one line per transfer and a summary; exits 0 when all arrived intact, 1 on any
 * mismatch, error or timeout (the line says which transfer, where and why). */
#include <arpa/inet.h>
#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "pattern.h"

#define IO_TIMEOUT_MS 20000

static struct sockaddr_in peer;
static int wait_s = 10;

static int64_t now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static int dial(void)
{
	int64_t deadline = now_ms() + (int64_t)wait_s * 1000;

	for (;;) {
		int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0), one = 1;

		if (fd < 0)
			return -errno;
		setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
		if (connect(fd, (struct sockaddr *)&peer, sizeof(peer)) == 0)
			return fd;
		close(fd);
		if (now_ms() > deadline)
			return -ETIMEDOUT;
		usleep(50000);
	}
}

static int wait_fd(int fd, short ev)
{
	struct pollfd p = {.fd = fd, .events = ev};
	int r = poll(&p, 1, IO_TIMEOUT_MS);

	return r > 0 ? 0 : (r == 0 ? -ETIMEDOUT : -errno);
}

static int send_all(int fd, const void *buf, size_t len)
{
	const uint8_t *p = buf;

	while (len) {
		ssize_t w = send(fd, p, len, MSG_NOSIGNAL);

		if (w < 0) {
			if (errno == EINTR)
				continue;
			return -errno;
		}
		p += w;
		len -= (size_t)w;
	}
	return 0;
}

/* Reads a line (without the newline) into buf. */
static int read_line(int fd, char *buf, size_t cap)
{
	size_t n = 0;

	while (n + 1 < cap) {
		ssize_t r;
		int rc = wait_fd(fd, POLLIN);

		if (rc < 0)
			return rc;
		r = recv(fd, buf + n, 1, 0);
		if (r <= 0)
			return r == 0 ? -ECONNRESET : -errno;
		if (buf[n] == '\n')
			break;
		n++;
	}
	buf[n] = '\0';
	return 0;
}

struct job {
	uint64_t size;
	uint32_t seed;
	char what[8];
	char result[160];
	int failed;
};

static int do_echo(struct job *j, int fd)
{
	uint8_t out[32768], in[32768];
	uint64_t sent = 0, got = 0;

	if (send_all(fd, "ECHO\n", 5) < 0)
		return -EIO;
	while (got < j->size) {
		struct pollfd p = {.fd = fd, .events = POLLIN | (sent < j->size ? POLLOUT : 0)};
		int r = poll(&p, 1, IO_TIMEOUT_MS);

		if (r <= 0) {
			snprintf(j->result, sizeof(j->result), "timeout at sent %" PRIu64
				 " received %" PRIu64, sent, got);
			return -ETIMEDOUT;
		}
		if ((p.revents & POLLOUT) && sent < j->size) {
			size_t chunk = j->size - sent < sizeof(out) ? j->size - sent : sizeof(out);
			ssize_t w;

			pattern_fill(j->seed, sent, out, chunk);
			w = send(fd, out, chunk, MSG_NOSIGNAL | MSG_DONTWAIT);
			if (w < 0 && errno != EAGAIN) {
				snprintf(j->result, sizeof(j->result), "send: %s", strerror(errno));
				return -errno;
			}
			if (w > 0)
				sent += (uint64_t)w;
		}
		if (p.revents & (POLLIN | POLLHUP | POLLERR)) {
			ssize_t r2 = recv(fd, in, sizeof(in), MSG_DONTWAIT);
			size_t bad;

			if (r2 == 0 || (r2 < 0 && errno != EAGAIN)) {
				snprintf(j->result, sizeof(j->result), "connection lost at %" PRIu64,
					 got);
				return -ECONNRESET;
			}
			if (r2 < 0)
				continue;
			bad = pattern_check(j->seed, got, in, (size_t)r2);
			if (bad < (size_t)r2) {
				snprintf(j->result, sizeof(j->result), "echo differs at byte %" PRIu64,
					 got + bad);
				return -EBADMSG;
			}
			got += (uint64_t)r2;
		}
	}
	return 0;
}

static int do_sink(struct job *j, int fd)
{
	uint8_t out[32768];
	char line[80];
	uint64_t sent = 0;
	int rc;

	snprintf(line, sizeof(line), "SINK %" PRIu64 " %u\n", j->size, j->seed);
	if (send_all(fd, line, strlen(line)) < 0)
		return -EIO;
	while (sent < j->size) {
		size_t chunk = j->size - sent < sizeof(out) ? j->size - sent : sizeof(out);

		pattern_fill(j->seed, sent, out, chunk);
		if (wait_fd(fd, POLLOUT) < 0 || send_all(fd, out, chunk) < 0) {
			snprintf(j->result, sizeof(j->result), "send failed at %" PRIu64, sent);
			return -EIO;
		}
		sent += chunk;
	}
	rc = read_line(fd, line, sizeof(line));
	if (rc < 0) {
		snprintf(j->result, sizeof(j->result), "no answer: %s", strerror(-rc));
		return rc;
	}
	{
		char want[64];

		snprintf(want, sizeof(want), "OK %" PRIu64, j->size);
		if (strcmp(line, want) != 0) {
			snprintf(j->result, sizeof(j->result), "server says \"%s\"", line);
			return -EBADMSG;
		}
	}
	return 0;
}

static int do_source(struct job *j, int fd)
{
	uint8_t in[32768];
	char line[80];
	uint64_t got = 0;

	snprintf(line, sizeof(line), "SOURCE %" PRIu64 " %u\n", j->size, j->seed);
	if (send_all(fd, line, strlen(line)) < 0)
		return -EIO;
	for (;;) {
		ssize_t r;
		size_t bad;

		if (wait_fd(fd, POLLIN) < 0) {
			snprintf(j->result, sizeof(j->result), "timeout at %" PRIu64, got);
			return -ETIMEDOUT;
		}
		r = recv(fd, in, sizeof(in), 0);
		if (r < 0) {
			snprintf(j->result, sizeof(j->result), "recv: %s", strerror(errno));
			return -errno;
		}
		if (r == 0)
			break;
		bad = pattern_check(j->seed, got, in, (size_t)r);
		if (bad < (size_t)r || got + (uint64_t)r > j->size) {
			snprintf(j->result, sizeof(j->result), "stream differs at byte %" PRIu64,
				 got + bad);
			return -EBADMSG;
		}
		got += (uint64_t)r;
	}
	if (got != j->size) {
		snprintf(j->result, sizeof(j->result), "closed after %" PRIu64 " bytes", got);
		return -EBADMSG;
	}
	return 0;
}

static void *run_job(void *arg)
{
	struct job *j = arg;
	int64_t t0 = now_ms();
	int fd = dial(), rc;

	if (fd < 0) {
		snprintf(j->result, sizeof(j->result), "connect: %s", strerror(-fd));
		j->failed = 1;
		return NULL;
	}
	if (strcmp(j->what, "echo") == 0)
		rc = do_echo(j, fd);
	else if (strcmp(j->what, "sink") == 0)
		rc = do_sink(j, fd);
	else
		rc = do_source(j, fd);
	if (strcmp(j->what, "echo") == 0 && rc == 0) {
		char c;

		shutdown(fd, SHUT_WR);
		if (wait_fd(fd, POLLIN) < 0 || recv(fd, &c, 1, 0) != 0) {
			snprintf(j->result, sizeof(j->result), "server did not close after echo");
			rc = -EBADMSG;
		}
	}
	close(fd);
	if (rc < 0) {
		j->failed = 1;
		if (!j->result[0])
			snprintf(j->result, sizeof(j->result), "%s", strerror(-rc));
	} else {
		snprintf(j->result, sizeof(j->result), "ok in %" PRId64 " ms", now_ms() - t0);
	}
	return NULL;
}

int main(int argc, char **argv)
{
	static const struct option opts[] = {
		{"connect", required_argument, 0, 'c'}, {"sizes", required_argument, 0, 's'},
		{"parallel", required_argument, 0, 'p'}, {"wait-s", required_argument, 0, 'w'},
		{"seed", required_argument, 0, 'r'}, {0, 0, 0, 0}};
	static const char *whats[] = {"echo", "sink", "source"};
	uint64_t sizes[64];
	int nsizes = 0, parallel = 2, failures = 0, total = 0, opt;
	unsigned seed = 1;
	char *sizes_arg = NULL, *connect_arg = NULL;

	while ((opt = getopt_long(argc, argv, "", opts, NULL)) != -1) {
		switch (opt) {
		case 'c': connect_arg = optarg; break;
		case 's': sizes_arg = optarg; break;
		case 'p': parallel = atoi(optarg); break;
		case 'w': wait_s = atoi(optarg); break;
		case 'r': seed = (unsigned)atoi(optarg); break;
		default: return 64;
		}
	}
	if (!connect_arg || !sizes_arg || parallel < 1 || parallel > 16) {
		fprintf(stderr, "usage: nomnet-xfer --connect IP:PORT --sizes A,B,... "
				"[--parallel N] [--wait-s S] [--seed S]\n");
		return 64;
	}
	{
		char *colon = strrchr(connect_arg, ':');

		memset(&peer, 0, sizeof(peer));
		peer.sin_family = AF_INET;
		if (!colon)
			return 64;
		*colon = '\0';
		peer.sin_port = htons((uint16_t)atoi(colon + 1));
		if (inet_pton(AF_INET, connect_arg, &peer.sin_addr) != 1)
			return 64;
	}
	for (char *tok = strtok(sizes_arg, ","); tok && nsizes < 64; tok = strtok(NULL, ","))
		sizes[nsizes++] = strtoull(tok, NULL, 10);

	/* Every (size, kind) once; `parallel` connections at a time. */
	{
		int njobs = nsizes * 3;
		struct job *jobs = calloc((size_t)njobs, sizeof(*jobs));

		for (int i = 0; i < njobs; i++) {
			jobs[i].size = sizes[i / 3];
			jobs[i].seed = seed + (unsigned)i;
			snprintf(jobs[i].what, sizeof(jobs[i].what), "%s", whats[i % 3]);
		}
		for (int i = 0; i < njobs; i += parallel) {
			pthread_t th[16];
			int k, m = njobs - i < parallel ? njobs - i : parallel;

			for (k = 0; k < m; k++)
				pthread_create(&th[k], NULL, run_job, &jobs[i + k]);
			for (k = 0; k < m; k++) {
				pthread_join(th[k], NULL);
				printf("%-6s %9" PRIu64 " bytes: %s%s\n", jobs[i + k].what,
				       jobs[i + k].size, jobs[i + k].failed ? "FAILED: " : "",
				       jobs[i + k].result);
				failures += jobs[i + k].failed;
				total++;
			}
			fflush(stdout);
		}
		free(jobs);
	}
	printf("%d transfers, %d failed\n", total, failures);
	return failures ? 1 : 0;
}
