/* nomnet-ctl: reads a running nomnet stack's statistics, and prepares interfaces for it.
 *
 *   nomnet-ctl stats NAME [--json]   counters of /dev/shm/nomnet.NAME (an app started with
 *                                    a stats name), as text or one JSON object: with each
 *                                    request stage's latency histogram, its mean, and the
 *                                    slowest requests' stages
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

/* The lower bound of latency bucket b, us ("<1" for the first, "16384+" for the last). */
static const char *bucket_label(int b)
{
	static char buf[NOMNET_LAT_BUCKETS][16];

	if (b == 0)
		return "<1";
	snprintf(buf[b], sizeof(buf[b]), b == NOMNET_LAT_BUCKETS - 1 ? "%llu+" : "%llu",
		 1ULL << (b - 1));
	return buf[b];
}

static void print_pass_text(const struct nomnet_pass *p)
{
	for (unsigned st = 0; st < NOMNET_STAGES; st++)
		printf(" %s %.1f", nomnet_stage_name(st), (double)p->ns[st] / 1000.0);
	printf(" us; %llu frames in, %llu out; ended %.6f s (wall)\n",
	       (unsigned long long)p->rx_frames, (unsigned long long)p->tx_frames,
	       (double)p->end_wall_ns / 1e9);
}

static void print_pass_json(const struct nomnet_pass *p)
{
	printf("{\"end_wall_ns\":%lld", (long long)p->end_wall_ns);
	for (unsigned st = 0; st < NOMNET_STAGES; st++)
		printf(",\"%s_ns\":%llu", nomnet_stage_name(st), (unsigned long long)p->ns[st]);
	printf(",\"rx_frames\":%llu,\"tx_frames\":%llu}", (unsigned long long)p->rx_frames,
	       (unsigned long long)p->tx_frames);
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
	printf("spin budget %.1f us (%llu changes): spun %.3f s, %llu sleeps avoided, %llu budgets "
	       "used up\n",
	       (double)s->spin_ns / 1000.0, (unsigned long long)s->spin_changes,
	       (double)s->ns_spin / 1e9, (unsigned long long)s->spin_hits,
	       (unsigned long long)s->spin_misses);
	printf("requests timed: %llu; per stage: mean us, then counts per latency bucket (us)\n",
	       (unsigned long long)s->timed_passes);
	printf("stage    mean");
	for (int b = 0; b < NOMNET_LAT_BUCKETS; b++)
		printf(" %6s", bucket_label(b));
	printf("\n");
	for (unsigned st = 0; st < NOMNET_STAGES; st++) {
		printf("%-6s %6.1f", nomnet_stage_name(st),
		       per(s->stage_ns[st], s->timed_passes) / 1000.0);
		for (int b = 0; b < NOMNET_LAT_BUCKETS; b++)
			printf(" %6llu", (unsigned long long)s->stage_hist[st][b]);
		printf("\n");
	}
	if (s->timed_passes) {
		printf("slowest request:");
		print_pass_text(&s->slowest);
	}
	printf("slow requests (>= %.0f us with the wake-up): %llu", NOMNET_SLOW_NS / 1000.0,
	       (unsigned long long)s->slow_count);
	printf(s->slow_count ? "; the last:\n" : "\n");
	for (uint64_t k = 0; k < s->slow_count && k < NOMNET_SLOW_RING; k++) {
		printf("  ");
		print_pass_text(&s->slow[(s->slow_count - 1 - k) % NOMNET_SLOW_RING]);
	}
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
	print_hist("rx_hist", s->rx_hist);
	printf(",");
	print_hist("tx_hist", s->tx_hist);
	printf(",\"spin_ns\":%lld", (long long)s->spin_ns);
	printf(",");
	F(spin_changes); F(ns_spin); F(spin_hits); F(spin_misses); F(timed_passes); F(slow_count);
	printf("\"stages\":{");
	for (unsigned st = 0; st < NOMNET_STAGES; st++) {
		printf("%s\"%s\":{\"ns\":%llu,\"hist\":[", st ? "," : "", nomnet_stage_name(st),
		       (unsigned long long)s->stage_ns[st]);
		for (int b = 0; b < NOMNET_LAT_BUCKETS; b++)
			printf("%s%llu", b ? "," : "", (unsigned long long)s->stage_hist[st][b]);
		printf("]}");
	}
	printf("},\"slowest\":");
	print_pass_json(&s->slowest);
	printf(",\"slow\":[");
	for (uint64_t k = 0; k < s->slow_count && k < NOMNET_SLOW_RING; k++) {
		printf("%s", k ? "," : "");
		print_pass_json(&s->slow[(s->slow_count - 1 - k) % NOMNET_SLOW_RING]);
	}
	printf("]}\n");
#undef F
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
