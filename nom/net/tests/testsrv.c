/* nomnet-testsrv: a TCP test server on nomnet for the transfer tests (tcp_transfer.sh).
 *
 * Each connection starts with one line that says what to do:
 *   ECHO\n               send back every byte received, until the peer closes
 *   SINK <n> <seed>\n    take n bytes, check them against the pattern, answer
 *                        "OK <n>\n" or "BAD <offset>\n"
 *   SOURCE <n> <seed>\n  send n pattern bytes, then close
 * With --churn MS a thread changes the batching delay (0, 2, 5, 10, 20, 40 us) and the mode
 * (poll, interrupt) every MS milliseconds, at random from --seed, while traffic flows.
 *
 *   nomnet-testsrv --driver tap|packet|xdp --if IF --addr A/P [--port 7000] [--delay US]
 *                  [--mode poll|interrupt] [--churn MS] [--seed S] [--stats NAME]
 *
 * On SIGTERM or SIGINT it prints one JSON line of the stack's counters and exits 0. */
#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "common/log.h"
#include "nom/net.h"
#include "pattern.h"

enum state { HDR, ECHO, SINK, SOURCE };

struct conn {
	struct nomnet_tcp *t;
	enum state state;
	char hdr[80];
	size_t hlen;
	uint64_t total, done;
	uint32_t seed;
	uint8_t *out;
	size_t out_len, out_cap;
	size_t echo_unacked;     /* echo bytes taken but not yet given back to the window */
	int64_t bad_at;          /* -1: all good so far */
	bool eof;
	bool replied;
};

static volatile sig_atomic_t quit;
static int churn_ms;
static unsigned churn_seed = 1;
static struct nomnet *stack;

static void on_signal(int sig)
{
	(void)sig;
	quit = 1;
}

static int out_append(struct conn *c, const void *data, size_t len)
{
	if (c->out_len + len > c->out_cap) {
		size_t cap = c->out_cap ? c->out_cap : 4096;
		uint8_t *p;

		while (cap < c->out_len + len)
			cap *= 2;
		p = realloc(c->out, cap);
		if (!p)
			return -ENOMEM;
		c->out = p;
		c->out_cap = cap;
	}
	memcpy(c->out + c->out_len, data, len);
	c->out_len += len;
	return 0;
}

static void conn_free(struct conn *c)
{
	free(c->out);
	free(c);
}

static void conn_close(struct conn *c)
{
	nomnet_tcp_close(c->t);
	conn_free(c);
}

/* Writes what is queued and, for sources, more of the stream. Returns false when the
 * connection was closed. */
static bool pump(struct conn *c)
{
	size_t acc;

	if (c->out_len) {
		if (nomnet_tcp_write(c->t, c->out, c->out_len, &acc) < 0) {
			nomnet_tcp_abort(c->t);
			conn_free(c);
			return false;
		}
		memmove(c->out, c->out + acc, c->out_len - acc);
		c->out_len -= acc;
		if (c->state == ECHO && acc) {
			size_t give = acc < c->echo_unacked ? acc : c->echo_unacked;

			nomnet_tcp_recved(c->t, give);
			c->echo_unacked -= give;
		}
	}
	if (c->state == SOURCE) {
		uint8_t buf[16384];

		while (c->done < c->total) {
			size_t room = nomnet_tcp_sndbuf(c->t), chunk = c->total - c->done;

			if (chunk > sizeof(buf))
				chunk = sizeof(buf);
			if (chunk > room)
				chunk = room;
			if (chunk == 0)
				break;
			pattern_fill(c->seed, c->done, buf, chunk);
			if (nomnet_tcp_write(c->t, buf, chunk, &acc) < 0 || acc == 0)
				break;
			c->done += acc;
		}
		if (c->done == c->total) {
			conn_close(c);
			return false;
		}
	}
	if (c->eof && c->out_len == 0 && c->state != SOURCE) {
		conn_close(c);
		return false;
	}
	return true;
}

static void start(struct conn *c)
{
	unsigned long long n = 0;
	unsigned seed = 0;

	c->hdr[c->hlen] = '\0';
	if (strcmp(c->hdr, "ECHO") == 0) {
		c->state = ECHO;
	} else if (sscanf(c->hdr, "SINK %llu %u", &n, &seed) == 2) {
		c->state = SINK;
		c->total = n;
		c->seed = seed;
		if (n == 0) {
			out_append(c, "OK 0\n", 5);
			c->replied = true;
		}
	} else if (sscanf(c->hdr, "SOURCE %llu %u", &n, &seed) == 2) {
		c->state = SOURCE;
		c->total = n;
		c->seed = seed;
	} else {
		out_append(c, "ERR\n", 4);
		c->state = ECHO; /* then echo whatever follows */
	}
}

static void take(struct conn *c, const uint8_t *d, size_t len)
{
	if (c->state == ECHO) {
		if (out_append(c, d, len) == 0)
			c->echo_unacked += len;
		return;
	}
	if (c->state == SINK) {
		size_t want = c->total - c->done, k = len < want ? len : want;
		size_t bad = pattern_check(c->seed, c->done, d, k);

		if (bad < k && c->bad_at < 0)
			c->bad_at = (int64_t)(c->done + bad);
		c->done += k;
		nomnet_tcp_recved(c->t, len);
		if (c->done == c->total && !c->replied) {
			char line[64];

			if (c->bad_at >= 0)
				snprintf(line, sizeof(line), "BAD %" PRId64 "\n", c->bad_at);
			else
				snprintf(line, sizeof(line), "OK %" PRIu64 "\n", c->total);
			out_append(c, line, strlen(line));
			c->replied = true;
		}
		return;
	}
	nomnet_tcp_recved(c->t, len); /* SOURCE ignores input */
}

static void on_recv(void *arg, struct nomnet_tcp *t, const void *data, size_t len)
{
	struct conn *c = arg;
	const uint8_t *d = data;

	(void)t;
	while (len && c->state == HDR) {
		size_t used = 0;

		while (used < len && d[used] != '\n' && c->hlen < sizeof(c->hdr) - 1)
			c->hdr[c->hlen++] = (char)d[used++];
		if (used < len) {
			used++; /* the newline, or the byte past a too-long header */
			start(c);
		}
		nomnet_tcp_recved(c->t, used);
		d += used;
		len -= used;
	}
	if (len)
		take(c, d, len);
	pump(c);
}

static void on_eof(void *arg, struct nomnet_tcp *t)
{
	struct conn *c = arg;

	(void)t;
	c->eof = true;
	pump(c);
}

static void on_sent(void *arg, struct nomnet_tcp *t, size_t len)
{
	(void)t;
	(void)len;
	pump(arg);
}

static void on_closed(void *arg, struct nomnet_tcp *t, int err)
{
	(void)t;
	(void)err;
	conn_free(arg);
}

static const struct nomnet_tcp_handler handler;

static int on_accept(void *larg, struct nomnet_tcp *t, void **carg)
{
	struct conn *c = calloc(1, sizeof(*c));

	(void)larg;
	if (!c)
		return -ENOMEM;
	c->t = t;
	c->bad_at = -1;
	*carg = c;
	return 0;
}

static const struct nomnet_tcp_handler handler = {
	.accept = on_accept,
	.recv = on_recv,
	.eof = on_eof,
	.sent = on_sent,
	.closed = on_closed,
};

static void churn(void)
{
	static const int64_t delays[] = {0, 2000, 5000, 10000, 20000, 40000};

	nomnet_set_delay(stack, delays[rand_r(&churn_seed) % 6]);
	nomnet_set_mode(stack, rand_r(&churn_seed) % 2 ? NOMNET_INTERRUPT : NOMNET_POLL);
}

static void print_stats(void)
{
	struct nomnet_stats s;

	nomnet_stats_read(stack, &s);
	printf("{\"rx_packets\":%" PRIu64 ",\"tx_packets\":%" PRIu64 ",\"rx_batches\":%" PRIu64
	       ",\"tx_batches\":%" PRIu64 ",\"rx_dropped\":%" PRIu64 ",\"tx_dropped\":%" PRIu64
	       ",\"delay_changes\":%" PRIu64 ",\"mode_changes\":%" PRIu64 ",\"sleeps\":%" PRIu64
	       ",\"tx_flush_delay\":%" PRIu64 ",\"tx_flush_full\":%" PRIu64
	       ",\"rx_handoff_delay\":%" PRIu64 "}\n",
	       s.rx_packets, s.tx_packets, s.rx_batches, s.tx_batches, s.rx_dropped, s.tx_dropped,
	       s.delay_changes, s.mode_changes, s.sleeps, s.tx_flush_delay, s.tx_flush_full,
	       s.rx_handoff_delay);
	fflush(stdout);
}

int main(int argc, char **argv)
{
	static const struct option opts[] = {
		{"driver", required_argument, 0, 'd'}, {"if", required_argument, 0, 'i'},
		{"addr", required_argument, 0, 'a'},   {"port", required_argument, 0, 'p'},
		{"delay", required_argument, 0, 'w'},  {"mode", required_argument, 0, 'm'},
		{"churn", required_argument, 0, 'c'},  {"seed", required_argument, 0, 's'},
		{"stats", required_argument, 0, 'S'},  {"xdp-mode", required_argument, 0, 'x'},
		{0, 0, 0, 0}};
	struct nomnet_config cfg;
	struct nomnet_tcp *listener;
	int port = 7000, opt, rc;

	log_init("nomnet-testsrv", LOG_INFO, false);
	nomnet_config_init(&cfg);
	while ((opt = getopt_long(argc, argv, "", opts, NULL)) != -1) {
		switch (opt) {
		case 'd': cfg.driver = optarg; break;
		case 'i': cfg.ifname = optarg; break;
		case 'a': cfg.addr = optarg; break;
		case 'p': port = atoi(optarg); break;
		case 'w': cfg.delay_ns = (int64_t)(atof(optarg) * 1000); break;
		case 'm':
			if (nomnet_mode_parse(optarg, &cfg.mode) < 0) {
				fprintf(stderr, "nomnet-testsrv: mode poll or interrupt\n");
				return 64;
			}
			break;
		case 'c': churn_ms = atoi(optarg); break;
		case 's': churn_seed = (unsigned)atoi(optarg); break;
		case 'S': cfg.stats_name = optarg; break;
		case 'x': cfg.xdp_mode = optarg; break;
		default:
			fprintf(stderr, "nomnet-testsrv: see the comment at the top of testsrv.c\n");
			return 64;
		}
	}
	signal(SIGTERM, on_signal);
	signal(SIGINT, on_signal);
	rc = nomnet_create(&cfg, &stack);
	if (rc < 0) {
		fprintf(stderr, "nomnet-testsrv: %s\n", strerror(-rc));
		return rc == -EPERM || rc == -EACCES ? 77 : 69;
	}
	nomnet_lock(stack);
	rc = nomnet_tcp_listen(stack, (uint16_t)port, &handler, NULL, &listener);
	nomnet_unlock(stack);
	if (rc < 0 || nomnet_start(stack) < 0) {
		fprintf(stderr, "nomnet-testsrv: listen %d: %s\n", port, strerror(-rc));
		nomnet_destroy(stack);
		return 69;
	}
	fprintf(stderr, "nomnet-testsrv: listening on port %d\n", port);
	while (!quit) {
		struct timespec ts = {0, (churn_ms > 0 ? churn_ms : 100) * 1000000L};

		nanosleep(&ts, NULL);
		if (churn_ms > 0)
			churn();
	}
	nomnet_stop(stack);
	print_stats();
	nomnet_destroy(stack);
	return 0;
}
