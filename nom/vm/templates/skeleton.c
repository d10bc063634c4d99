/* ---- What every template shares: the utility, the bidding, the connections. ----
 *
 * Its utility (/etc/nom/@APP@.ini): value_per_mbit_hour dollars for each Mbit/s it holds,
 * and it holds what its clients use: each second it measures what it sent, wants that with
 * headroom (within min_mbit..max_mbit), and acquires it through its instance's nom-priced
 * (libnom) while the posted price is below its value, releases it when the price is above.
 * It prints one JSON line a second (the VM's console: raas app logs). */
#define MAX_CONNS 64

static double value = 10.0;
static long min_mbit = 1, max_mbit = 50, port = DEFAULT_PORT;
static double headroom = 1.5;

static void load(const char *path)
{
	FILE *f = fopen(path, "r");
	char line[256];
	while (f && fgets(line, sizeof(line), f)) {
		sscanf(line, "value_per_mbit_hour = %lf", &value);
		sscanf(line, "min_mbit = %ld", &min_mbit);
		sscanf(line, "max_mbit = %ld", &max_mbit);
		sscanf(line, "headroom = %lf", &headroom);
		sscanf(line, "port = %ld", &port);
	}
	if (f)
		fclose(f);
}

static int64_t now_ns(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

/* Writes all of buf (the client reads as fast as the shaped link lets it). */
int send_all(struct conn *c, const void *buf, size_t len)
{
	const char *p = buf;
	while (len) {
		ssize_t n = write(c->fd, p, len);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			return -1;
		p += n;
		len -= (size_t)n;
		c->sent += (uint64_t)n;
	}
	return 0;
}

static int listen_on(long p)
{
	struct sockaddr_in a = {.sin_family = AF_INET, .sin_port = htons((uint16_t)p)};
	int one = 1, fd = socket(AF_INET, SOCK_STREAM, 0);
	if (fd < 0 || setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one)) ||
	    bind(fd, (struct sockaddr *)&a, sizeof(a)) || listen(fd, 64))
		return -1;
	return fd;
}

int main(int argc, char **argv)
{
	const char *instance = argc > 1 ? argv[1] : getenv("NOM_INSTANCE");
	const char *host = getenv("NOM_HOST"); /* nom-vm-init sets both */
	if (!instance || !host) {
		fprintf(stderr, "usage: NOM_HOST=HOST @APP@ INSTANCE [CONFIG]\n");
		return 64;
	}
	load(argc > 2 ? argv[2] : "/etc/nom/@APP@.ini");
	struct nom *nom;
	int r = nom_open(instance, NULL, &nom);
	if (r) {
		fprintf(stderr, "@APP@: %s: %s\n", instance, nom_strerror(r));
		return 69;
	}
	int lfd = listen_on(port);
	if (lfd < 0) {
		fprintf(stderr, "@APP@: port %ld: %s\n", port, strerror(errno));
		return 69;
	}
	printf("{\"app\":\"@APP@\",\"serving\":%ld}\n", port);
	fflush(stdout);
	static struct conn conns[MAX_CONNS];
	size_t nconns = 0;
	uint64_t sent_before = 0, closed_sent = 0, served = 0;
	long held = 0;
	int64_t next = now_ns() + 1000000000;
	for (;;) {
		struct pollfd pf[MAX_CONNS + 1];
		pf[0] = (struct pollfd){.fd = lfd, .events = POLLIN};
		for (size_t i = 0; i < nconns; i++)
			pf[i + 1] = (struct pollfd){.fd = conns[i].fd, .events = POLLIN};
		int64_t wait = (next - now_ns()) / 1000000;
		poll(pf, nconns + 1, wait > 0 ? (int)wait : 0);
		if ((pf[0].revents & POLLIN) && nconns < MAX_CONNS) {
			int fd = accept(lfd, NULL, NULL);
			if (fd >= 0) {
				memset(&conns[nconns], 0, sizeof(conns[nconns]));
				conns[nconns++].fd = fd;
			}
		}
		for (size_t i = nconns; i-- > 0;) {
			if (!(pf[i + 1].revents & (POLLIN | POLLHUP | POLLERR)))
				continue;
			struct conn *c = &conns[i];
			ssize_t n = read(c->fd, c->in + c->len, sizeof(c->in) - 1 - c->len);
			int done = n <= 0;
			if (!done) {
				c->len += (size_t)n;
				c->in[c->len] = '\0';
				int k = serve(c); /* requests answered, or -1: close */
				done = k < 0 || c->len == sizeof(c->in) - 1;
				served += k > 0 ? (uint64_t)k : 0;
			}
			if (done) {
				close(c->fd);
				closed_sent += c->sent;
				conns[i] = conns[--nconns];
			}
		}
		if (now_ns() < next)
			continue;
		next += 1000000000;
		/* The second's bytes -> the bandwidth it wants; the price decides. */
		uint64_t sent = closed_sent;
		for (size_t i = 0; i < nconns; i++)
			sent += conns[i].sent;
		double used = (double)(sent - sent_before) * 8 / 1e6;
		sent_before = sent;
		long want = (long)(used * headroom + 0.999);
		want = want < min_mbit ? min_mbit : want > max_mbit ? max_mbit : want;
		struct nom_price_info p;
		if (nom_price(nom, NOM_BANDWIDTH, host, &p) == 0 && !p.stale) {
			int64_t limit = (int64_t)(value * 1e9);
			/* acquire takes that much more; release gives back that much. */
			if (p.unit_price <= limit && want > held &&
			    nom_acquire(nom, NOM_BANDWIDTH, host, want - held, limit) == 0)
				held = want;
			else if (p.unit_price <= limit && want < held &&
				 nom_release(nom, NOM_BANDWIDTH, host, held - want) == 0)
				held = want;
			else if (p.unit_price > limit && held > 0 &&
				 nom_release(nom, NOM_BANDWIDTH, host, 0) == 0)
				held = 0;
			printf("{\"app\":\"@APP@\",\"price\":%lld,\"used_mbit\":%.2f,\"held_mbit\":%ld,"
			       "\"served\":%llu}\n",
			       (long long)p.unit_price, used, held, (unsigned long long)served);
			fflush(stdout);
		}
	}
}
