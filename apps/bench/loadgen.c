/* nom-loadgen: a closed-loop load generator with per-request latency, for the nom apps.
 *
 * memcaslap reports only a mean and a log2 histogram, NPtcp only a mean per size, and wrk is
 * closed-loop too; the profile and the adaptive test need the same quantities from every app:
 * throughput, mean latency, its standard deviation (the jitter of the penalty utility) and the
 * 99th percentile, over the whole run and per interval. So: N connections, each with one
 * request outstanding, over kernel TCP, every reply checked.
 *
 *   nom-loadgen --proto memcached|http|netpipe --connect IP:PORT [--connect IP:PORT ...]
 *               [--conns N] [--duration-s S] | [--phase SECONDS:CONNS ...]
 *               [--warmup-s S] [--interval-ms MS] [--slice-ms MS]
 *               memcached: [--keys K] [--value-size V] [--set-ratio R]  (gets of preloaded keys)
 *                          [--cache-aside]  (no preload: gets of uniform keys, a set of the
 *                          key after every miss, as an application in front of a database;
 *                          hits and misses counted: the hit rate a cache size gives) 
 *               http:      [--path /a.txt]
 *               netpipe:   the NetPIPE handshake, then 1-byte ping-pongs (NPtcp's first size)
 *
 * Several targets are loaded in turn, one --slice-ms slice each (default 250 ms), so that
 * servers compared with each other share the machine's good and bad moments (this 2-core VM
 * is shared with other work: back-to-back runs of the same server differ by up to 2x).
 * Phases change the number of connections used (e.g. 16 then 1: "many" then "single").
 *
 * Output: with --interval-ms and one target, one JSON line per interval {"t_s","rps",
 * "mean_us","jitter_us","p99_us","n"}; then one line per target and phase {"target","phase",
 * "proto","conns","duration_s" (the time the target was loaded), "requests","errors",
 * "tput_rps","mean_us","jitter_us","p50_us","p99_us","p999_us","bytes_per_request"}.
 * Exit 0, 1 when replies were wrong or connections failed, 64 usage. */
#include <arpa/inet.h>
#include <errno.h>
#include <getopt.h>
#include <math.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

enum proto { P_MEMCACHED, P_HTTP, P_NETPIPE };

struct conn {
	int fd;
	int target;
	char *req;              /* 512 bytes, or a whole set with --cache-aside */
	size_t req_len, req_sent;
	char *in;
	size_t in_len, in_cap;
	int64_t sent_ns;
	bool busy;
	unsigned seq;
	bool need_set;          /* --cache-aside: the last get missed: set its key next */
	char key[32];
};

#define MAX_TARGETS 8
#define MAX_PHASES 8

struct cfg {
	enum proto proto;
	struct sockaddr_in addr[MAX_TARGETS];
	int ntargets;
	double phase_s[MAX_PHASES];
	int phase_conns[MAX_PHASES];
	int nphases;
	int slice_ms;
	int conns;
	double duration_s, warmup_s;
	int interval_ms;
	unsigned keys, value_size;
	double set_ratio;
	bool cache_aside;
	const char *path;
};

static struct cfg cfg = {.conns = 1, .duration_s = 5, .warmup_s = 0.5, .keys = 1000,
			 .value_size = 1024, .path = "/", .slice_ms = 250};

/* The latencies of one target in one phase, in 10 ns units, and what it served. */
struct bin {
	uint32_t *lat;
	size_t n, cap;
	uint64_t bytes;
	int64_t active_ns;
	uint64_t hits, misses; /* memcached gets */
};

static struct bin bins[MAX_TARGETS][MAX_PHASES];
static uint64_t errors;
static unsigned rng = 12345;

static int64_t now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

static int dial(int target)
{
	int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0), one = 1;

	if (fd < 0)
		return -1;
	setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
	if (connect(fd, (struct sockaddr *)&cfg.addr[target], sizeof(cfg.addr[target])) < 0) {
		close(fd);
		return -1;
	}
	return fd;
}

/* Blocking exchange for setup: send s, read exactly n bytes (or until a line, n == 0). */
static int setup_send(int fd, const void *s, size_t n)
{
	const char *p = s;

	while (n) {
		ssize_t w = send(fd, p, n, MSG_NOSIGNAL);

		if (w <= 0)
			return -1;
		p += w;
		n -= (size_t)w;
	}
	return 0;
}

static int setup_read(int fd, void *buf, size_t n)
{
	size_t got = 0;

	while (got < n) {
		struct pollfd p = {fd, POLLIN, 0};
		ssize_t r;

		if (poll(&p, 1, 10000) <= 0)
			return -1;
		r = recv(fd, (char *)buf + got, n - got, 0);
		if (r <= 0)
			return -1;
		got += (size_t)r;
	}
	return 0;
}

static void make_key(char *k, unsigned i)
{
	snprintf(k, 32, "nomkey:%08u", i);
}

/* memcached: store every key once. */
static int preload(int target)
{
	int fd = dial(target);
	char *val = malloc(cfg.value_size + 2), line[96], ok[8];

	if (fd < 0 || !val)
		return -1;
	for (unsigned i = 0; i < cfg.value_size; i++)
		val[i] = (char)('a' + i % 26);
	memcpy(val + cfg.value_size, "\r\n", 2);
	for (unsigned i = 0; i < cfg.keys; i++) {
		char k[32];
		int n;

		make_key(k, i);
		n = snprintf(line, sizeof(line), "set %s 0 0 %u\r\n", k, cfg.value_size);
		if (setup_send(fd, line, (size_t)n) < 0 || setup_send(fd, val, cfg.value_size + 2) < 0 ||
		    setup_read(fd, ok, 8) < 0 || memcmp(ok, "STORED\r\n", 8) != 0) {
			close(fd);
			free(val);
			return -1;
		}
	}
	close(fd);
	free(val);
	return 0;
}

/* netpipe: the receiver's opening (Sync, 100 one-byte ping-pongs, Sync, Sync), then a repeat
 * count so large that the session never ends, then the first trial's Sync. */
static int netpipe_open(int fd)
{
	char buf[8];
	uint8_t be[4] = {0x3b, 0x9a, 0xca, 0x00}; /* 1e9 */

	if (setup_send(fd, "SyncMe", 6) < 0 || setup_read(fd, buf, 6) < 0)
		return -1;
	for (int i = 0; i < 100; i++)
		if (setup_send(fd, "b", 1) < 0 || setup_read(fd, buf, 1) < 0)
			return -1;
	for (int i = 0; i < 2; i++)
		if (setup_send(fd, "SyncMe", 6) < 0 || setup_read(fd, buf, 6) < 0)
			return -1;
	if (setup_send(fd, be, 4) < 0)
		return -1;
	if (setup_send(fd, "SyncMe", 6) < 0 || setup_read(fd, buf, 6) < 0)
		return -1;
	return 0;
}

static void next_request(struct conn *c)
{
	switch (cfg.proto) {
	case P_MEMCACHED: {
		char k[32];

		if (cfg.cache_aside && c->need_set) {
			int n = snprintf(c->req, 96, "set %s 0 0 %u\r\n", c->key, cfg.value_size);
			for (unsigned i = 0; i < cfg.value_size; i++)
				c->req[n + i] = (char)('a' + (i + c->seq) % 26);
			memcpy(c->req + n + cfg.value_size, "\r\n", 2);
			c->req_len = (size_t)n + cfg.value_size + 2;
			c->need_set = false;
			break;
		}
		make_key(k, (unsigned)(rand_r(&rng) % cfg.keys));
		memcpy(c->key, k, sizeof(c->key));
		if (cfg.set_ratio > 0 && rand_r(&rng) < cfg.set_ratio * RAND_MAX) {
			/* A set of a short value keeps the request small; the next get of the key
			 * then returns it. Values stay the preloaded size on average. */
			c->req_len = (size_t)snprintf(c->req, 512, "set %s 0 0 1\r\nx\r\n", k);
		} else {
			c->req_len = (size_t)snprintf(c->req, 512, "get %s\r\n", k);
		}
		break;
	}
	case P_HTTP:
		c->req_len = (size_t)snprintf(c->req, 512,
					      "GET %s HTTP/1.1\r\nHost: bench\r\n\r\n", cfg.path);
		break;
	case P_NETPIPE:
		c->req[0] = 'b';
		c->req_len = 1;
		break;
	}
	c->req_sent = 0;
}

/* Is the reply at the front of c->in complete? Returns its length, 0 (more), -1 (wrong). */
static long reply_len(const struct conn *c)
{
	const char *d = c->in;
	size_t n = c->in_len;

	switch (cfg.proto) {
	case P_NETPIPE:
		return n >= 1 ? (d[0] == 'b' ? 1 : -1) : 0;
	case P_MEMCACHED: {
		const char *nl = memchr(d, '\n', n);
		unsigned flags, bytes;
		char key[64];

		if (!nl)
			return n > 512 ? -1 : 0;
		if (n >= 8 && memcmp(d, "STORED\r\n", 8) == 0)
			return 8;
		if (n >= 5 && memcmp(d, "END\r\n", 5) == 0)
			return 5;
		if (sscanf(d, "VALUE %63s %u %u", key, &flags, &bytes) != 3)
			return -1;
		{
			size_t total = (size_t)(nl + 1 - d) + bytes + 2 + 5;

			if (n < total)
				return 0;
			if (memcmp(d + total - 5, "END\r\n", 5) != 0)
				return -1;
			return (long)total;
		}
	}
	case P_HTTP: {
		const char *end = memmem(d, n, "\r\n\r\n", 4), *cl;
		size_t head, body = 0;

		if (!end)
			return n > 16384 ? -1 : 0;
		if (n < 12 || memcmp(d, "HTTP/1.1 200", 12) != 0)
			return -1;
		head = (size_t)(end + 4 - d);
		cl = memmem(d, head, "Content-Length:", 15);
		if (cl)
			body = strtoul(cl + 15, NULL, 10);
		return n >= head + body ? (long)(head + body) : 0;
	}
	}
	return -1;
}

static void record(struct bin *b, int64_t ns, long bytes)
{
	if (b->n == b->cap) {
		b->cap = b->cap ? b->cap * 2 : 1 << 16;
		b->lat = realloc(b->lat, b->cap * sizeof(*b->lat));
		if (!b->lat)
			exit(70);
	}
	b->lat[b->n++] = ns / 10 > UINT32_MAX ? UINT32_MAX : (uint32_t)(ns / 10);
	b->bytes += (uint64_t)bytes;
}

static int cmp_u32(const void *a, const void *b)
{
	uint32_t x = *(const uint32_t *)a, y = *(const uint32_t *)b;

	return x < y ? -1 : x > y;
}

struct summary {
	size_t n;
	double mean_us, jitter_us, p50_us, p99_us, p999_us;
};

/* Mean, standard deviation and percentiles of lat[from..to) (sorts that range). */
static struct summary summarize(uint32_t *lat, size_t from, size_t to)
{
	struct summary s = {0};
	double sum = 0, sq = 0;
	size_t n = to - from;

	if (n == 0)
		return s;
	for (size_t i = from; i < to; i++) {
		double us = lat[i] / 100.0;

		sum += us;
		sq += us * us;
	}
	s.n = n;
	s.mean_us = sum / (double)n;
	s.jitter_us = sqrt(fmax(0, sq / (double)n - s.mean_us * s.mean_us));
	qsort(lat + from, n, sizeof(*lat), cmp_u32);
	s.p50_us = lat[from + n / 2] / 100.0;
	s.p99_us = lat[from + (size_t)((double)n * 0.99)] / 100.0;
	s.p999_us = lat[from + (size_t)fmin((double)n - 1, (double)n * 0.999)] / 100.0;
	return s;
}

static int usage(void)
{
	fprintf(stderr, "usage: nom-loadgen --proto memcached|http|netpipe --connect IP:PORT... "
			"[--conns N] [--duration-s S] [--phase S:CONNS...] [--warmup-s S]\n"
			"       [--interval-ms MS] [--slice-ms MS] [--keys K] [--value-size V] "
			"[--set-ratio R] [--cache-aside] [--path P]\n");
	return 64;
}

static int parse_target(const char *text, struct sockaddr_in *sa)
{
	char host[64];
	const char *colon = strrchr(text, ':');

	if (!colon || (size_t)(colon - text) >= sizeof(host))
		return -1;
	memcpy(host, text, (size_t)(colon - text));
	host[colon - text] = '\0';
	sa->sin_family = AF_INET;
	sa->sin_port = htons((uint16_t)atoi(colon + 1));
	return inet_pton(AF_INET, host, &sa->sin_addr) == 1 ? 0 : -1;
}

static void send_request(struct conn *c, int64_t now)
{
	next_request(c);
	c->sent_ns = now;
	c->busy = true;
	if (setup_send(c->fd, c->req, c->req_len) < 0)
		errors++;
}

int main(int argc, char **argv)
{
	static const struct option opts[] = {
		{"proto", required_argument, 0, 'P'}, {"connect", required_argument, 0, 'c'},
		{"conns", required_argument, 0, 'n'}, {"duration-s", required_argument, 0, 'd'},
		{"warmup-s", required_argument, 0, 'w'}, {"interval-ms", required_argument, 0, 'i'},
		{"keys", required_argument, 0, 'k'}, {"value-size", required_argument, 0, 'v'},
		{"set-ratio", required_argument, 0, 's'}, {"path", required_argument, 0, 'p'},
		{"phase", required_argument, 0, 'F'}, {"slice-ms", required_argument, 0, 'S'},
		{"cache-aside", no_argument, 0, 'A'},
		{0, 0, 0, 0}};
	const char *proto = NULL;
	struct conn *conns;
	int ep, opt, maxc = 0, nconns, active = -1, phase = 0;
	int64_t t_measure, t_end, next_interval, phase_end[MAX_PHASES], last_tick = 0;
	size_t interval_from = 0;
	uint64_t interval_hits = 0, interval_gets = 0;
	int interval_phase = 0;

	while ((opt = getopt_long(argc, argv, "", opts, NULL)) != -1) {
		switch (opt) {
		case 'P': proto = optarg; break;
		case 'c':
			if (cfg.ntargets == MAX_TARGETS || parse_target(optarg, &cfg.addr[cfg.ntargets]) < 0)
				return usage();
			cfg.ntargets++;
			break;
		case 'n': cfg.conns = atoi(optarg); break;
		case 'd': cfg.duration_s = atof(optarg); break;
		case 'w': cfg.warmup_s = atof(optarg); break;
		case 'i': cfg.interval_ms = atoi(optarg); break;
		case 'k': cfg.keys = (unsigned)atoi(optarg); break;
		case 'v': cfg.value_size = (unsigned)atoi(optarg); break;
		case 's': cfg.set_ratio = atof(optarg); break;
		case 'p': cfg.path = optarg; break;
		case 'S': cfg.slice_ms = atoi(optarg); break;
		case 'A': cfg.cache_aside = true; break;
		case 'F':
			if (cfg.nphases == MAX_PHASES ||
			    sscanf(optarg, "%lf:%d", &cfg.phase_s[cfg.nphases],
				   &cfg.phase_conns[cfg.nphases]) != 2)
				return usage();
			cfg.nphases++;
			break;
		default: return usage();
		}
	}
	if (cfg.nphases == 0) {
		cfg.phase_s[0] = cfg.duration_s;
		cfg.phase_conns[0] = cfg.conns;
		cfg.nphases = 1;
	}
	for (int p = 0; p < cfg.nphases; p++) {
		if (cfg.phase_s[p] <= 0 || cfg.phase_conns[p] < 1 || cfg.phase_conns[p] > 1024)
			return usage();
		if (cfg.phase_conns[p] > maxc)
			maxc = cfg.phase_conns[p];
	}
	if (!proto || cfg.ntargets == 0 || cfg.keys < 1 || cfg.value_size < 1 || cfg.slice_ms < 10)
		return usage();
	if (strcmp(proto, "memcached") == 0)
		cfg.proto = P_MEMCACHED;
	else if (strcmp(proto, "http") == 0)
		cfg.proto = P_HTTP;
	else if (strcmp(proto, "netpipe") == 0)
		cfg.proto = P_NETPIPE;
	else
		return usage();
	for (int t = 0; t < cfg.ntargets; t++)
		if (cfg.proto == P_MEMCACHED && !cfg.cache_aside && preload(t) < 0) {
			fprintf(stderr, "nom-loadgen: cannot preload %u keys into target %d\n", cfg.keys, t);
			return 1;
		}

	nconns = maxc * cfg.ntargets;
	ep = epoll_create1(EPOLL_CLOEXEC);
	conns = calloc((size_t)nconns, sizeof(*conns));
	for (int i = 0; i < nconns; i++) {
		struct conn *c = &conns[i];
		struct epoll_event ev = {.events = EPOLLIN, .data.ptr = c};

		c->target = i / maxc;
		c->seq = (unsigned)(i % maxc);
		c->fd = dial(c->target);
		if (c->fd < 0 || (cfg.proto == P_NETPIPE && netpipe_open(c->fd) < 0)) {
			fprintf(stderr, "nom-loadgen: connection %d to target %d failed\n", i, c->target);
			return 1;
		}
		c->req = malloc(512 + (cfg.cache_aside ? cfg.value_size + 96 : 0));
		if (!c->req)
			return 70;
		c->in_cap = 1u << 16;
		c->in = malloc(c->in_cap);
		epoll_ctl(ep, EPOLL_CTL_ADD, c->fd, &ev);
	}

	t_measure = now_ns() + (int64_t)(cfg.warmup_s * 1e9);
	for (int p = 0; p < cfg.nphases; p++)
		phase_end[p] = (p ? phase_end[p - 1] : t_measure) + (int64_t)(cfg.phase_s[p] * 1e9);
	t_end = phase_end[cfg.nphases - 1];
	next_interval = t_measure + (int64_t)cfg.interval_ms * 1000000;
	for (;;) {
		struct epoll_event ev[256];
		int64_t now = now_ns();
		int n, want;

		if (now >= t_end)
			break;
		while (phase < cfg.nphases - 1 && now >= phase_end[phase])
			phase++;
		/* The active target: one slice each in turn (the warmup loads the first). The
		 * time since the last pass counts for the target that was active in it. */
		if (now >= t_measure) {
			int slice = (int)((now - t_measure) / ((int64_t)cfg.slice_ms * 1000000));

			if (last_tick)
				bins[active][phase].active_ns += now - last_tick;
			last_tick = now;
			active = cfg.ntargets > 1 ? slice % cfg.ntargets : 0;
		} else {
			active = 0;
		}
		want = cfg.phase_conns[phase];
		for (int i = 0; i < nconns; i++)
			if (conns[i].target == active && (int)conns[i].seq < want && !conns[i].busy)
				send_request(&conns[i], now_ns());
		if (cfg.interval_ms > 0 && cfg.ntargets == 1 && now >= next_interval) {
			struct bin *b = &bins[0][phase];
			if (phase != interval_phase) {
				interval_phase = phase;
				interval_hits = interval_gets = 0;
			}
			struct summary s = summarize(b->lat, interval_from < b->n ? interval_from : b->n, b->n);
			double secs = cfg.interval_ms / 1000.0;

			uint64_t gets = b->hits + b->misses - interval_gets;
			printf("{\"t_s\":%.3f,\"rps\":%.1f,\"mean_us\":%.2f,\"jitter_us\":%.2f,"
			       "\"p99_us\":%.2f,\"n\":%zu,\"errors\":%llu,\"hit_rate\":%.4f}\n",
			       (double)(next_interval - t_measure) / 1e9, (double)s.n / secs,
			       s.mean_us, s.jitter_us, s.p99_us, s.n, (unsigned long long)errors,
			       gets ? (double)(b->hits - interval_hits) / (double)gets : 0.0);
			fflush(stdout);
			interval_from = b->n;
			interval_hits = b->hits;
			interval_gets = b->hits + b->misses;
			next_interval += (int64_t)cfg.interval_ms * 1000000;
		}
		n = epoll_wait(ep, ev, 256, 2);
		for (int i = 0; i < n; i++) {
			struct conn *c = ev[i].data.ptr;
			ssize_t r;
			long len;

			if (c->in_len == c->in_cap) {
				c->in_cap *= 2;
				c->in = realloc(c->in, c->in_cap);
			}
			r = recv(c->fd, c->in + c->in_len, c->in_cap - c->in_len, MSG_DONTWAIT);
			if (r <= 0) {
				if (r < 0 && errno == EAGAIN)
					continue;
				fprintf(stderr, "nom-loadgen: target %d closed a connection\n", c->target);
				errors++;
				epoll_ctl(ep, EPOLL_CTL_DEL, c->fd, NULL);
				continue;
			}
			c->in_len += (size_t)r;
			while ((len = reply_len(c)) != 0) {
				int64_t t = now_ns();

				if (len < 0) {
					fprintf(stderr, "nom-loadgen: a wrong reply: %.40s\n", c->in);
					errors++;
					c->in_len = 0;
					break;
				}
				if (cfg.proto == P_MEMCACHED && c->in[0] != 'S') {
					bool miss = len == 5; /* "END\r\n" alone */
					if (c->sent_ns >= t_measure) {
						if (miss)
							bins[c->target][phase].misses++;
						else
							bins[c->target][phase].hits++;
					}
					c->need_set = cfg.cache_aside && miss;
				}
				if (c->sent_ns >= t_measure)
					record(&bins[c->target][phase], t - c->sent_ns, len);
				memmove(c->in, c->in + len, c->in_len - (size_t)len);
				c->in_len -= (size_t)len;
				c->busy = false;
				if (c->target == active && (int)c->seq < cfg.phase_conns[phase] && t < t_end)
					send_request(c, t);
			}
		}
	}
	if (last_tick)
		bins[active][phase].active_ns += now_ns() - last_tick;
	for (int t = 0; t < cfg.ntargets; t++)
		for (int p = 0; p < cfg.nphases; p++) {
			struct bin *b = &bins[t][p];
			struct summary s = summarize(b->lat, 0, b->n);
			double secs = cfg.ntargets > 1 ? (double)b->active_ns / 1e9 : cfg.phase_s[p];

			printf("{\"target\":%d,\"phase\":%d,\"proto\":\"%s\",\"conns\":%d,"
			       "\"duration_s\":%.3f,\"requests\":%zu,\"errors\":%llu,\"tput_rps\":%.1f,"
			       "\"mean_us\":%.2f,\"jitter_us\":%.2f,\"p50_us\":%.2f,\"p99_us\":%.2f,"
			       "\"p999_us\":%.2f,\"bytes_per_request\":%.1f,\"hits\":%llu,"
			       "\"misses\":%llu}\n",
			       t, p, proto, cfg.phase_conns[p], secs, s.n, (unsigned long long)errors,
			       secs > 0 ? (double)s.n / secs : 0.0, s.mean_us, s.jitter_us, s.p50_us,
			       s.p99_us, s.p999_us, s.n ? (double)b->bytes / (double)s.n : 0.0,
			       (unsigned long long)b->hits, (unsigned long long)b->misses);
		}
	for (int i = 0; i < nconns; i++)
		close(conns[i].fd);
	return errors ? 1 : 0;
}
