/* nom_bench.c: nom-bench, what the nom runtime's shared-memory path costs.
 *
 *   nom-bench [--seconds S] [--wakes N] [--publishes N]
 *
 * Prints one JSON line:
 *   bb_read_ns             ns per consistent price read (libnom's nom_price) while another
 *                          process publishes board updates at 10 kHz: the reader's CPU time
 *                          per read (stderr also gives wall time, which on a shared machine
 *                          counts the time the reader waits for a CPU)
 *   wake_p50_us, wake_p99_us
 *                          from a board publish to a reader asleep in nom_wait_change running
 *                          again (another process, wherever the scheduler puts it: on a VM
 *                          this includes waking the reader's idle vCPU through the host)
 *   wake_same_cpu_p50_us, wake_same_cpu_p99_us
 *                          the same with writer and reader pinned to one CPU, as when
 *                          nom-priced shares a core with the app: no cross-CPU wake-up
 *   publish_to_app_p50_ms, publish_to_app_p99_ms
 *                          from the market's publish of a price (its published_wall_ns) to an
 *                          app asleep in nom_wait_change seeing it, through a real nom-priced,
 *                          on loopback with CURVE
 * Details (achieved update rate, read cost with no writer, sample counts) go to stderr.
 * Timings on a shared machine are noisy: compare runs on one machine, not across machines. */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/wait.h>
#include <sched.h>
#include <time.h>
#include <unistd.h>

#include "bb/bb.h"
#include "bench_market.h"
#include "nom/nom.h"

static char instance[64];

static int64_t mono_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

static int64_t wall_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

static int cmp64(const void *a, const void *b)
{
	int64_t x = *(const int64_t *)a, y = *(const int64_t *)b;
	return x < y ? -1 : x > y;
}

static double percentile(int64_t *v, size_t n, double q)
{
	if (n == 0)
		return 0;
	qsort(v, n, sizeof(v[0]), cmp64);
	size_t i = (size_t)(q * (double)(n - 1) + 0.5);
	return (double)v[i];
}

static void die(const char *what, int err)
{
	fprintf(stderr, "nom-bench: %s: %s\n", what, nom_strerror(err));
	exit(70);
}

/* A child process that publishes a 4-price board every period_ns until killed; counts its
 * publishes in *count (shared memory). */
static pid_t start_writer(int64_t period_ns, volatile uint64_t *count)
{
	int ready[2];

	if (pipe(ready) != 0)
		die("pipe", -errno);
	pid_t pid = fork();
	if (pid != 0) {
		char c;
		close(ready[1]);
		if (read(ready[0], &c, 1) != 1)
			die("writer start", -EIO);
		close(ready[0]);
		return pid;
	}
	struct bb_writer *w;
	char why[200];
	if (bb_writer_open(instance, 0600, &w) != 0)
		_exit(2);
	struct bb_body *b = bb_writer_body(w);
	const char *hosts[] = {"h1", "h2", "h3", "h4"};
	for (int i = 0; i < 4; i++)
		bb_body_price_upsert(b, BB_RES_BANDWIDTH, hosts[i])->unit_price = 1;
	b->state.market_state = BB_MARKET_FRESH;
	bb_writer_publish(w, wall_ns(), mono_ns(), why, sizeof(why));
	if (write(ready[1], "x", 1) != 1)
		_exit(3);
	struct timespec next;
	clock_gettime(CLOCK_MONOTONIC, &next);
	for (uint64_t i = 1;; i++) {
		if (period_ns > 0) {
			next.tv_nsec += period_ns;
			while (next.tv_nsec >= 1000000000) {
				next.tv_nsec -= 1000000000;
				next.tv_sec++;
			}
			clock_nanosleep(CLOCK_MONOTONIC, TIMER_ABSTIME, &next, NULL);
		}
		for (int k = 0; k < 4; k++) {
			b->prices[k].unit_price = (int64_t)(i * 4 + (uint64_t)k);
			b->prices[k].round = i;
		}
		bb_writer_publish(w, wall_ns(), mono_ns(), why, sizeof(why));
		*count = i;
	}
}

static int64_t thread_cpu_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
	return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

/* Reads one price for about `seconds`; returns the CPU time per read (what a read costs the
 * reader: on a shared machine, wall time also counts the time it waits for a CPU) and stores
 * the wall time per read in *wall. */
static double read_cost(struct nom *n, double seconds, double *wall)
{
	struct nom_price_info p;
	uint64_t reads = 0;
	int64_t start = mono_ns(), cpu0 = thread_cpu_ns(), end = start + (int64_t)(seconds * 1e9), now;

	do {
		for (int i = 0; i < 65536; i++) {
			int err = nom_price(n, NOM_BANDWIDTH, "h2", &p);
			if (err)
				die("nom_price", err);
		}
		reads += 65536;
	} while ((now = mono_ns()) < end);
	*wall = (double)(now - start) / (double)reads;
	return (double)(thread_cpu_ns() - cpu0) / (double)reads;
}

static void bench_read(double seconds, double *ns_out)
{
	volatile uint64_t *count = mmap(NULL, 4096, PROT_READ | PROT_WRITE,
					MAP_SHARED | MAP_ANONYMOUS, -1, 0);
	struct nom *n;

	/* Baseline: the same reads with a quiet board. */
	pid_t w = start_writer(INT64_C(1000000000) * 3600, count);
	int err = nom_open(instance, NULL, &n);
	if (err)
		die("nom_open", err);
	double quiet_wall, wall;
	double quiet = read_cost(n, seconds / 4, &quiet_wall);
	kill(w, SIGKILL);
	waitpid(w, NULL, 0);

	*count = 0;
	w = start_writer(100000, count); /* 10 kHz */
	uint64_t c0 = *count;
	int64_t t0 = mono_ns();
	*ns_out = read_cost(n, seconds, &wall);
	double rate = (double)(*count - c0) / ((double)(mono_ns() - t0) / 1e9);
	kill(w, SIGKILL);
	waitpid(w, NULL, 0);
	nom_close(n);
	fprintf(stderr, "bb_read: %.1f ns of CPU (%.1f ns wall) per read with a writer at %.0f "
			"updates/s; %.1f ns (%.1f wall) on a quiet board (%.2fx)\n",
		*ns_out, wall, rate, quiet, quiet_wall, *ns_out / quiet);
	munmap((void *)count, 4096);
}

/* cpu < 0: writer and reader where the scheduler puts them; else both pinned to cpu. */
static void bench_wake(int samples, int cpu, double *p50, double *p99)
{
	struct bb_writer *w;
	int to_parent[2], to_child[2];
	char why[200];
	cpu_set_t before, one;

	if (sched_getaffinity(0, sizeof(before), &before) != 0)
		die("sched_getaffinity", -errno);
	if (cpu >= 0) {
		CPU_ZERO(&one);
		CPU_SET(cpu, &one);
		if (sched_setaffinity(0, sizeof(one), &one) != 0)
			die("sched_setaffinity", -errno);
	}

	if (bb_writer_open(instance, 0600, &w) != 0)
		die("board", -EIO);
	struct bb_price *p = bb_body_price_upsert(bb_writer_body(w), BB_RES_BANDWIDTH, "wake");
	bb_writer_publish(w, wall_ns(), mono_ns(), why, sizeof(why));
	if (pipe(to_parent) || pipe(to_child))
		die("pipe", -errno);
	pid_t child = fork();
	if (child == 0) {
		struct nom *n;
		struct nom_price_info q;
		if (nom_open(instance, NULL, &n) != 0)
			_exit(2);
		char c = 'r';
		if (write(to_parent[1], &c, 1) != 1)
			_exit(3);
		for (int i = 0; i < samples; i++) {
			if (nom_wait_change(n, 5 * INT64_C(1000000000)) != 0)
				_exit(4);
			int64_t woke = mono_ns();
			if (nom_price(n, NOM_BANDWIDTH, "wake", &q) != 0)
				_exit(5);
			int64_t lat = woke - q.supply; /* the publish time travels in supply */
			if (write(to_parent[1], &lat, sizeof(lat)) != sizeof(lat))
				_exit(6);
		}
		_exit(0);
	}
	char c;
	if (read(to_parent[0], &c, 1) != 1)
		die("reader start", -EIO);
	int64_t *v = calloc((size_t)samples, sizeof(*v));
	for (int i = 0; i < samples; i++) {
		/* Give the reader time to fall asleep again. */
		struct timespec d = {0, 300000 + (i % 7) * 50000};
		nanosleep(&d, NULL);
		p->unit_price = i;
		p->supply = mono_ns();
		bb_writer_publish(w, wall_ns(), p->supply, why, sizeof(why));
		if (read(to_parent[0], &v[i], sizeof(v[i])) != sizeof(v[i]))
			die("reader died", -EIO);
	}
	waitpid(child, NULL, 0);
	*p50 = percentile(v, (size_t)samples, 0.50) / 1e3;
	*p99 = percentile(v, (size_t)samples, 0.99) / 1e3;
	fprintf(stderr, "wake (%s): %d samples, p50 %.1f us, p99 %.1f us, max %.1f us\n",
		cpu < 0 ? "any CPU" : "one CPU", samples, *p50, *p99, (double)v[samples - 1] / 1e3);
	sched_setaffinity(0, sizeof(before), &before);
	free(v);
	bb_writer_close(w, true);
	close(to_parent[0]);
	close(to_parent[1]);
	close(to_child[0]);
	close(to_child[1]);
}

static void bench_publish(int samples, double *p50, double *p99)
{
	struct bench_market *m;
	char inst[80];
	int err;

	snprintf(inst, sizeof(inst), "%s-e2e", instance);
	if ((err = bench_market_start(inst, &m)) != 0)
		die("market and nom-priced", err);
	struct nom *n;
	if ((err = nom_open(inst, NULL, &n)) != 0)
		die("nom_open", err);
	int64_t *v = calloc((size_t)samples, sizeof(*v));
	int got = 0;
	uint64_t last_round = 0;
	int64_t deadline = mono_ns() + (int64_t)samples * 100 * INT64_C(1000000) +
			   60 * INT64_C(1000000000);
	while (got < samples && mono_ns() < deadline) {
		bench_market_publish(m, got);
		if (nom_wait_change(n, 2 * INT64_C(1000000000)) != 0)
			continue;
		int64_t woke = wall_ns();
		struct nom_price_info p;
		if (nom_price(n, NOM_BANDWIDTH, "h1", &p) != 0 || p.round == last_round)
			continue;
		last_round = p.round;
		v[got++] = woke - p.published_wall_ns;
		bench_market_pace(m);
	}
	nom_close(n);
	bench_market_stop(m);
	*p50 = percentile(v, (size_t)got, 0.50) / 1e6;
	*p99 = percentile(v, (size_t)got, 0.99) / 1e6;
	fprintf(stderr, "publish_to_app (%s): %d samples, p50 %.3f ms, p99 %.3f ms\n",
		bench_market_kind(), got, *p50, *p99);
	free(v);
	if (got < samples / 2)
		die("too few price updates reached the app", -ETIMEDOUT);
}

int main(int argc, char **argv)
{
	static const struct option opts[] = {
		{"seconds", required_argument, NULL, 's'},
		{"wakes", required_argument, NULL, 'w'},
		{"publishes", required_argument, NULL, 'p'},
		{"help", no_argument, NULL, 'h'},
		{NULL, 0, NULL, 0},
	};
	double seconds = 2;
	int wakes = 2000, publishes = 500, c;

	while ((c = getopt_long(argc, argv, "h", opts, NULL)) != -1) {
		switch (c) {
		case 's':
			seconds = atof(optarg);
			break;
		case 'w':
			wakes = atoi(optarg);
			break;
		case 'p':
			publishes = atoi(optarg);
			break;
		case 'h':
			printf("usage: nom-bench [--seconds S] [--wakes N] [--publishes N]\n");
			return 0;
		default:
			fprintf(stderr, "usage: nom-bench [--seconds S] [--wakes N] [--publishes N]\n");
			return 64;
		}
	}
	if (seconds <= 0 || wakes < 10 || publishes < 10) {
		fprintf(stderr, "nom-bench: --seconds > 0, --wakes and --publishes >= 10\n");
		return 64;
	}
	snprintf(instance, sizeof(instance), "nomrt-bench-%d", (int)getpid());
	char path[80];
	bb_path(instance, path, sizeof(path));

	double read_ns, w50, w99, s50, s99, p50, p99;
	bench_read(seconds, &read_ns);
	unlink(path);
	bench_wake(wakes, -1, &w50, &w99);
	unlink(path);
	bench_wake(wakes, sched_getcpu() < 0 ? 0 : sched_getcpu(), &s50, &s99);
	bench_publish(publishes, &p50, &p99);
	printf("{\"bb_read_ns\":%.1f,\"wake_p50_us\":%.1f,\"wake_p99_us\":%.1f,"
	       "\"wake_same_cpu_p50_us\":%.1f,\"wake_same_cpu_p99_us\":%.1f,"
	       "\"publish_to_app_p50_ms\":%.3f,\"publish_to_app_p99_ms\":%.3f}\n",
	       read_ns, w50, w99, s50, s99, p50, p99);
	return 0;
}
