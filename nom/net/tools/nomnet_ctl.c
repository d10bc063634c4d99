/* nomnet-ctl: reads a running nomnet stack's statistics, and prepares interfaces for it.
 *
 *   nomnet-ctl stats NAME [--json]   counters of /dev/shm/nomnet.NAME (an app started with
 *                                    a stats name), as text or one JSON object
 *   nomnet-ctl ifprep IFNAME...      turn off checksum/segmentation offloads on interfaces
 *                                    that talk to a nomnet stack (e.g. a veth's kernel end)
 *
 * Exit codes (sysexits): 0, 64 usage, 65 a stats file that is not nomnet's, 69 unavailable. */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include "nom/net.h"
#include "nom/net_stats.h"

static int usage(void)
{
	fprintf(stderr, "usage: nomnet-ctl stats NAME [--json]\n"
			"       nomnet-ctl ifprep IFNAME...\n");
	return 64;
}

static double per(uint64_t a, uint64_t b)
{
	return b ? (double)a / (double)b : 0.0;
}

static void print_text(const struct nomnet_stats_shm *h, const struct nomnet_stats *s)
{
	printf("driver %s on %s, pid %u\n", h->driver, h->ifname, h->pid);
	printf("delay %.1f us, %s mode (%llu delay changes, %llu mode changes)\n",
	       (double)s->delay_ns / 1000.0, s->mode ? "interrupt" : "poll",
	       (unsigned long long)s->delay_changes, (unsigned long long)s->mode_changes);
	printf("rx %llu packets, %llu bytes, %llu batches (mean %.2f), dropped %llu\n",
	       (unsigned long long)s->rx_packets, (unsigned long long)s->rx_bytes,
	       (unsigned long long)s->rx_batches, per(s->rx_packets, s->rx_batches),
	       (unsigned long long)s->rx_dropped);
	printf("   handed over: %llu at W, %llu full, %llu nothing pending\n",
	       (unsigned long long)s->rx_handoff_delay, (unsigned long long)s->rx_handoff_full,
	       (unsigned long long)s->rx_handoff_empty);
	printf("tx %llu packets, %llu bytes, %llu batches (mean %.2f), dropped %llu\n",
	       (unsigned long long)s->tx_packets, (unsigned long long)s->tx_bytes,
	       (unsigned long long)s->tx_batches, per(s->tx_packets, s->tx_batches),
	       (unsigned long long)s->tx_dropped);
	printf("   flushed: %llu at W, %llu full, %llu direct\n",
	       (unsigned long long)s->tx_flush_delay, (unsigned long long)s->tx_flush_full,
	       (unsigned long long)s->tx_flush_direct);
	printf("time: rx %.3f s, stack %.3f s, tx %.3f s, idle %.3f s; %llu passes, %llu sleeps\n",
	       (double)s->ns_rx / 1e9, (double)s->ns_stack / 1e9, (double)s->ns_tx / 1e9,
	       (double)s->ns_idle / 1e9, (unsigned long long)s->loops,
	       (unsigned long long)s->sleeps);
	printf("batch sizes   1     2   3-4   5-8  9-16 17-32 33-64 65-128 129-256\n");
	printf("rx     ");
	for (int i = 0; i < NOMNET_HIST_BUCKETS; i++)
		printf(" %5llu", (unsigned long long)s->rx_hist[i]);
	printf("\ntx     ");
	for (int i = 0; i < NOMNET_HIST_BUCKETS; i++)
		printf(" %5llu", (unsigned long long)s->tx_hist[i]);
	printf("\n");
}

static void print_hist(const char *name, const uint64_t *h)
{
	printf("\"%s\":[", name);
	for (int i = 0; i < NOMNET_HIST_BUCKETS; i++)
		printf("%s%llu", i ? "," : "", (unsigned long long)h[i]);
	printf("]");
}

static void print_json(const struct nomnet_stats_shm *h, const struct nomnet_stats *s)
{
#define F(x) printf("\"" #x "\":%llu,", (unsigned long long)s->x)
	printf("{\"driver\":\"%s\",\"ifname\":\"%s\",\"pid\":%u,", h->driver, h->ifname, h->pid);
	printf("\"delay_ns\":%lld,\"mode\":\"%s\",", (long long)s->delay_ns,
	       s->mode ? "interrupt" : "poll");
	F(rx_packets); F(rx_bytes); F(rx_batches); F(rx_dropped);
	F(rx_handoff_delay); F(rx_handoff_full); F(rx_handoff_empty);
	F(tx_packets); F(tx_bytes); F(tx_batches); F(tx_dropped);
	F(tx_flush_delay); F(tx_flush_full); F(tx_flush_direct);
	F(ns_rx); F(ns_stack); F(ns_tx); F(ns_idle); F(loops); F(sleeps);
	F(delay_changes); F(mode_changes);
#undef F
	print_hist("rx_hist", s->rx_hist);
	printf(",");
	print_hist("tx_hist", s->tx_hist);
	printf("}\n");
}

static int cmd_stats(const char *name, int json)
{
	char path[256];
	struct nomnet_stats_shm *h;
	struct nomnet_stats s;
	struct stat st;
	int fd;

	if (strchr(name, '/'))
		return usage();
	snprintf(path, sizeof(path), "/dev/shm/nomnet.%s", name);
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0) {
		fprintf(stderr, "nomnet-ctl: %s: %s\n", path, strerror(errno));
		return 69;
	}
	if (fstat(fd, &st) < 0 || (size_t)st.st_size < sizeof(*h)) {
		fprintf(stderr, "nomnet-ctl: %s: too short for nomnet statistics\n", path);
		close(fd);
		return 65;
	}
	h = mmap(NULL, sizeof(*h), PROT_READ, MAP_SHARED, fd, 0);
	close(fd);
	if (h == MAP_FAILED) {
		fprintf(stderr, "nomnet-ctl: %s: %s\n", path, strerror(errno));
		return 69;
	}
	if (h->magic != NOMNET_STATS_MAGIC || h->version != NOMNET_STATS_VERSION ||
	    h->size < sizeof(*h)) {
		fprintf(stderr, "nomnet-ctl: %s: not nomnet statistics version %d\n", path,
			NOMNET_STATS_VERSION);
		munmap(h, sizeof(*h));
		return 65;
	}
	{
		const uint64_t *src = (const uint64_t *)&h->stats;
		uint64_t *dst = (uint64_t *)&s;

		for (size_t i = 0; i < sizeof(s) / sizeof(uint64_t); i++)
			dst[i] = __atomic_load_n(&src[i], __ATOMIC_RELAXED);
	}
	if (json)
		print_json(h, &s);
	else
		print_text(h, &s);
	munmap(h, sizeof(*h));
	return 0;
}

int main(int argc, char **argv)
{
	if (argc < 3)
		return usage();
	if (strcmp(argv[1], "stats") == 0) {
		int json = argc > 3 && strcmp(argv[3], "--json") == 0;

		if (argc > 4 || (argc == 4 && !json))
			return usage();
		return cmd_stats(argv[2], json);
	}
	if (strcmp(argv[1], "ifprep") == 0) {
		int status = 0;

		for (int i = 2; i < argc; i++) {
			int rc = nomnet_if_prepare(argv[i]);

			if (rc < 0) {
				fprintf(stderr, "nomnet-ctl: %s: %s\n", argv[i], strerror(-rc));
				status = 69;
			}
		}
		return status;
	}
	return usage();
}
