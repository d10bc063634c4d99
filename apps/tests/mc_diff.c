/* mc-diff: sends the same byte sequences to two memcached servers and compares the replies
 * byte for byte (the differential test of nom-memcached against Debian's memcached).
 *
 *   mc-diff --a HOST:PORT --b HOST:PORT --cases FILE [--verbose]
 *
 * The case file: `== name` starts a case (a new connection to each server); each `> bytes`
 * line is one step, sent whole, whose replies are read and compared before the next step.
 * Bytes take C escapes (\r \n \t \\ \0 \xHH \{) and `{N*text}` for N copies of text.
 * A `~ bytes` step compares only the shape of a `stats` reply (STAT lines, then END). A step
 * ends when the server has answered a `version` sentinel sent after it and then stayed quiet
 * for 30 ms (the two servers' own version lines are learned first; the last is stripped), or
 * closes, or stays quiet for 400 ms (the sentinel was taken as data). VERSION lines compare as "VERSION *".
 *
 * Exit 0 when every step matched; 1 with both replies printed (escaped) for each mismatch. */
#include <arpa/inet.h>
#include <errno.h>
#include <getopt.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#define QUIET_MS 400
#define GRACE_MS 30
#define STEP_MAX_MS 10000

struct peer {
	const char *name;
	struct sockaddr_in addr;
	char version[128];     /* the server's reply to "version\r\n", with CRLF */
	int fd;
};

struct bytes {
	char *d;
	size_t n, cap;
};

static void put(struct bytes *b, const void *d, size_t n)
{
	if (b->n + n + 1 > b->cap) {
		while (b->n + n + 1 > b->cap)
			b->cap = b->cap ? b->cap * 2 : 4096;
		b->d = realloc(b->d, b->cap);
		if (!b->d)
			exit(70);
	}
	memcpy(b->d + b->n, d, n);
	b->n += n;
	b->d[b->n] = '\0';
}

static int64_t now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static int parse_addr(const char *text, struct sockaddr_in *sa)
{
	char host[64];
	const char *colon = strrchr(text, ':');

	if (!colon || (size_t)(colon - text) >= sizeof(host))
		return -1;
	memcpy(host, text, (size_t)(colon - text));
	host[colon - text] = '\0';
	memset(sa, 0, sizeof(*sa));
	sa->sin_family = AF_INET;
	sa->sin_port = htons((uint16_t)atoi(colon + 1));
	return inet_pton(AF_INET, host, &sa->sin_addr) == 1 ? 0 : -1;
}

static int dial(struct peer *p)
{
	int one = 1;

	p->fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (p->fd < 0 || connect(p->fd, (struct sockaddr *)&p->addr, sizeof(p->addr)) < 0) {
		fprintf(stderr, "mc-diff: connect to %s: %s\n", p->name, strerror(errno));
		return -1;
	}
	setsockopt(p->fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
	return 0;
}

static void hang_up(struct peer *p)
{
	if (p->fd >= 0)
		close(p->fd);
	p->fd = -1;
}

static int send_all(int fd, const char *d, size_t n)
{
	while (n) {
		ssize_t w = send(fd, d, n, MSG_NOSIGNAL);

		if (w < 0) {
			if (errno == EINTR)
				continue;
			return -1;
		}
		d += w;
		n -= (size_t)w;
	}
	return 0;
}

static bool ends_with(const struct bytes *b, const char *s)
{
	size_t n = strlen(s);

	return b->n >= n && memcmp(b->d + b->n - n, s, n) == 0;
}

/* Sends data (+ the sentinel) and reads the reply into out. Returns 1 when the server closed
 * the connection. */
static int step(struct peer *p, const struct bytes *data, struct bytes *out)
{
	int64_t start = now_ms(), last = start;
	int closed = 0;

	out->n = 0;
	put(out, "", 0);
	if (p->fd < 0)
		return 1;
	if (send_all(p->fd, data->d, data->n) < 0 || send_all(p->fd, "version\r\n", 9) < 0) {
		/* the peer may already have closed: read what it said */
	}
	for (;;) {
		struct pollfd pf = {p->fd, POLLIN, 0};
		char buf[65536];
		bool sentinel = ends_with(out, p->version);
		int r = poll(&pf, 1, sentinel ? GRACE_MS : 50);
		ssize_t got;

		if (r > 0) {
			got = recv(p->fd, buf, sizeof(buf), 0);
			if (got <= 0) {
				closed = 1;
				break;
			}
			put(out, buf, (size_t)got);
			last = now_ms();
			continue;
		}
		if (sentinel) {
			/* The sentinel's answer, and nothing after it for a while: the step's own
			 * replies (which may hold VERSION lines too) are all in. */
			out->n -= strlen(p->version);
			out->d[out->n] = '\0';
			break;
		}
		if (now_ms() - last > QUIET_MS || now_ms() - start > STEP_MAX_MS)
			break;
	}
	if (closed)
		hang_up(p);
	return closed;
}

/* Normalizes what may differ: VERSION lines. */
static void normalize(struct bytes *b)
{
	struct bytes o = {0};
	size_t i = 0;

	put(&o, "", 0);
	while (i < b->n) {
		char *nl = memchr(b->d + i, '\n', b->n - i);
		size_t len = nl ? (size_t)(nl - (b->d + i)) + 1 : b->n - i;

		if (len >= 8 && memcmp(b->d + i, "VERSION ", 8) == 0 && nl)
			put(&o, "VERSION *\r\n", 11);
		else
			put(&o, b->d + i, len);
		i += len;
	}
	free(b->d);
	*b = o;
}

/* The shape of a stats reply: every line "STAT <name> <value>", then "END". */
static bool stats_shape(const struct bytes *b)
{
	size_t i = 0;

	if (!ends_with(b, "END\r\n"))
		return false;
	while (i < b->n - 5) {
		char *nl = memchr(b->d + i, '\n', b->n - i);
		size_t len;

		if (!nl)
			return false;
		len = (size_t)(nl - (b->d + i)) + 1;
		if (len < 10 || memcmp(b->d + i, "STAT ", 5) != 0 || b->d[i + len - 2] != '\r')
			return false;
		i += len;
	}
	return true;
}

static void print_escaped(const char *label, const struct bytes *b)
{
	fprintf(stderr, "  %s (%zu bytes): \"", label, b->n);
	for (size_t i = 0; i < b->n && i < 600; i++) {
		unsigned char ch = (unsigned char)b->d[i];

		if (ch == '\r')
			fputs("\\r", stderr);
		else if (ch == '\n')
			fputs("\\n", stderr);
		else if (ch < 32 || ch > 126)
			fprintf(stderr, "\\x%02x", ch);
		else
			fputc(ch, stderr);
	}
	fprintf(stderr, "%s\"\n", b->n > 600 ? "..." : "");
}

static int hexval(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

/* Decodes a step's text (escapes and {N*text}). */
static int decode(const char *s, struct bytes *out, int line)
{
	out->n = 0;
	put(out, "", 0);
	while (*s) {
		char c = *s++;

		if (c == '\\') {
			char e = *s++;
			char v;

			switch (e) {
			case 'r': v = '\r'; break;
			case 'n': v = '\n'; break;
			case 't': v = '\t'; break;
			case '0': v = '\0'; break;
			case '\\': v = '\\'; break;
			case '{': v = '{'; break;
			case 'x':
				if (hexval(s[0]) < 0 || hexval(s[1]) < 0) {
					fprintf(stderr, "mc-diff: line %d: bad \\x escape\n", line);
					return -1;
				}
				v = (char)(hexval(s[0]) * 16 + hexval(s[1]));
				s += 2;
				break;
			default:
				fprintf(stderr, "mc-diff: line %d: unknown escape \\%c\n", line, e);
				return -1;
			}
			put(out, &v, 1);
		} else if (c == '{') {
			char *end;
			unsigned long n = strtoul(s, &end, 10);

			const char *close = end[0] == '*' ? strchr(end + 1, '}') : NULL;

			if (!close || close == end + 1 || n > (64u << 20)) {
				fprintf(stderr, "mc-diff: line %d: want {N*text}\n", line);
				return -1;
			}
			for (unsigned long k = 0; k < n; k++)
				put(out, end + 1, (size_t)(close - end - 1));
			s = close + 1;
		} else {
			put(out, &c, 1);
		}
	}
	return 0;
}

static int learn_version(struct peer *p)
{
	struct bytes out = {0};
	int64_t deadline = now_ms() + 5000;

	if (dial(p) < 0)
		return -1;
	send_all(p->fd, "version\r\n", 9);
	put(&out, "", 0);
	while (!ends_with(&out, "\r\n") && now_ms() < deadline) {
		struct pollfd pf = {p->fd, POLLIN, 0};
		char buf[256];
		ssize_t got;

		if (poll(&pf, 1, 100) > 0 && (got = recv(p->fd, buf, sizeof(buf), 0)) > 0)
			put(&out, buf, (size_t)got);
	}
	hang_up(p);
	if (out.n < 10 || memcmp(out.d, "VERSION ", 8) != 0 || out.n >= sizeof(p->version)) {
		fprintf(stderr, "mc-diff: %s did not answer `version`\n", p->name);
		free(out.d);
		return -1;
	}
	memcpy(p->version, out.d, out.n + 1);
	free(out.d);
	return 0;
}

int main(int argc, char **argv)
{
	static const struct option opts[] = {{"a", required_argument, 0, 'a'},
					     {"b", required_argument, 0, 'b'},
					     {"cases", required_argument, 0, 'c'},
					     {"verbose", no_argument, 0, 'v'},
					     {0, 0, 0, 0}};
	struct peer pa = {.name = "A", .fd = -1}, pb = {.name = "B", .fd = -1};
	const char *cases = NULL;
	char *line = NULL, name[256] = "";
	size_t cap = 0;
	int opt, verbose = 0, lineno = 0, steps = 0, ncases = 0, bad = 0;
	FILE *f;

	while ((opt = getopt_long(argc, argv, "", opts, NULL)) != -1) {
		if (opt == 'a' && parse_addr(optarg, &pa.addr) == 0)
			pa.name = optarg;
		else if (opt == 'b' && parse_addr(optarg, &pb.addr) == 0)
			pb.name = optarg;
		else if (opt == 'c')
			cases = optarg;
		else if (opt == 'v')
			verbose = 1;
		else
			return 64;
	}
	if (!cases || pa.addr.sin_port == 0 || pb.addr.sin_port == 0) {
		fprintf(stderr, "usage: mc-diff --a HOST:PORT --b HOST:PORT --cases FILE\n");
		return 64;
	}
	f = fopen(cases, "r");
	if (!f) {
		fprintf(stderr, "mc-diff: %s: %s\n", cases, strerror(errno));
		return 66;
	}
	if (learn_version(&pa) < 0 || learn_version(&pb) < 0)
		return 69;
	while (getline(&line, &cap, f) > 0) {
		size_t len = strlen(line);

		lineno++;
		while (len && (line[len - 1] == '\n' || line[len - 1] == '\r'))
			line[--len] = '\0';
		if (len == 0 || line[0] == '#')
			continue;
		if (strncmp(line, "== ", 3) == 0) {
			hang_up(&pa);
			hang_up(&pb);
			snprintf(name, sizeof(name), "%s", line + 3);
			if (dial(&pa) < 0 || dial(&pb) < 0)
				return 69;
			ncases++;
			continue;
		}
		if ((line[0] == '>' || line[0] == '~') && line[1] == ' ' && pa.fd >= -1) {
			struct bytes data = {0}, ra = {0}, rb = {0};
			bool same;

			if (decode(line + 2, &data, lineno) < 0)
				return 65;
			step(&pa, &data, &ra);
			step(&pb, &data, &rb);
			normalize(&ra);
			normalize(&rb);
			steps++;
			if (line[0] == '~')
				same = stats_shape(&ra) && stats_shape(&rb);
			else
				same = ra.n == rb.n && memcmp(ra.d, rb.d, ra.n) == 0;
			if (!same) {
				bad++;
				fprintf(stderr, "MISMATCH in case \"%s\", line %d: %.80s\n", name, lineno,
					line);
				print_escaped(pa.name, &ra);
				print_escaped(pb.name, &rb);
			} else if (verbose) {
				printf("ok   %s:%d\n", name, lineno);
			}
			free(data.d);
			free(ra.d);
			free(rb.d);
			continue;
		}
		fprintf(stderr, "mc-diff: %s:%d: want `== name`, `> bytes` or `~ bytes`\n", cases,
			lineno);
		return 65;
	}
	free(line);
	fclose(f);
	hang_up(&pa);
	hang_up(&pb);
	printf("mc-diff: %d cases, %d steps, %d mismatches\n", ncases, steps, bad);
	return bad ? 1 : 0;
}
