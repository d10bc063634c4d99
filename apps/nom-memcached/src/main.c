/* nom-memcached: a memcached server (text protocol) on nomnet, or on kernel sockets.
 *
 *   nom-memcached [common nom app options] [-m MB] [-I SIZE] [-M]
 *                 [--instance NAME [--memory-min MB] [--memory-reserve MB]]
 *
 * -m / --memory MB       memory for items (default 64), least recently used evicted first;
 *                        with --instance the most it holds: its cache follows the memory it
 *                        holds, between --memory-min (1) and --memory, plus --memory-reserve
 *                        (32) for the process itself (docs/apps.md, docs/economics.md)
 * -I / --max-item-size   largest item, bytes or with k/m (default 1m)
 * -M / --no-evictions    answer "SERVER_ERROR out of memory" instead of evicting
 * Common options (stack, driver, delay, adaptive, utility, profile, prices): app/opts.h.
 * The default port is 11211. `stats` adds nomnet's counters (nomnet_*) on the nomnet stack. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "app/opts.h"
#include "app/run.h"
#include "mc_proto.h"

#define OPT_MEMORY 1000
#define OPT_ITEM 1001
#define OPT_NOEVICT 1002
#define OPT_MEMMIN 1003
#define OPT_RESERVE 1004

struct mc_app {
	struct mc_server server;
	struct mc_store_config store_cfg;
	struct srv *srv;
	struct app_opts *opts;
};

struct mc_session {
	struct mc_conn mc;
	struct srv_conn *conn;
	struct mc_app *app;
	uint64_t counted;
};

static int64_t clock_mono(void *arg)
{
	struct timespec ts;

	(void)arg;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

static int64_t clock_wall(void *arg)
{
	(void)arg;
	return (int64_t)time(NULL);
}

static void *mc_open(void *arg, struct srv_conn *c)
{
	struct mc_app *app = arg;
	struct mc_session *s = calloc(1, sizeof(*s));

	if (!s)
		return NULL;
	mc_conn_init(&s->mc, &app->server);
	s->conn = c;
	s->app = app;
	app->server.curr_conns++;
	app->server.total_conns++;
	return s;
}

static size_t mc_input(void *state, const uint8_t *data, size_t len)
{
	struct mc_session *s = state;
	size_t used = mc_process(&s->mc, data, len);

	srv_deliver(s->conn, &s->mc.out, s->mc.requests, &s->counted, s->mc.close);
	return used;
}

static void mc_close(void *state)
{
	struct mc_session *s = state;

	s->app->server.curr_conns--;
	mc_conn_fini(&s->mc);
	free(s);
}

static const struct srv_app_ops mc_ops = {
	.open = mc_open,
	.input = mc_input,
	.close = mc_close,
};

/* `stats` lines from nomnet's counters. */
static void nomnet_stats(void *arg, struct buf *out)
{
	struct mc_app *app = arg;
	struct nomnet *n = app->srv ? srv_nomnet(app->srv) : NULL;
	struct nomnet_stats s;
	char line[4096];
	int len;

	if (!n)
		return;
	nomnet_stats_read(n, &s);
	len = snprintf(line, sizeof(line),
		       "STAT nomnet_delay_ns %lld\r\nSTAT nomnet_mode %s\r\n"
		       "STAT nomnet_rx_packets %llu\r\nSTAT nomnet_rx_batches %llu\r\n"
		       "STAT nomnet_tx_packets %llu\r\nSTAT nomnet_tx_batches %llu\r\n"
		       "STAT nomnet_rx_dropped %llu\r\nSTAT nomnet_tx_dropped %llu\r\n"
		       "STAT nomnet_ns_rx %llu\r\nSTAT nomnet_ns_stack %llu\r\n"
		       "STAT nomnet_ns_tx %llu\r\nSTAT nomnet_ns_idle %llu\r\n",
		       (long long)s.delay_ns, s.mode ? "interrupt" : "poll",
		       (unsigned long long)s.rx_packets, (unsigned long long)s.rx_batches,
		       (unsigned long long)s.tx_packets, (unsigned long long)s.tx_batches,
		       (unsigned long long)s.rx_dropped, (unsigned long long)s.tx_dropped,
		       (unsigned long long)s.ns_rx, (unsigned long long)s.ns_stack,
		       (unsigned long long)s.ns_tx, (unsigned long long)s.ns_idle);
	(void)buf_append(out, line, (size_t)len);
}

struct curve_call {
	struct mc_app *app;
	struct nom_memory_curve *out;
	int64_t mib;
};

static void curve_in_thread(void *arg)
{
	struct curve_call *c = arg;

	/* The first ask starts the measurement (the controller asks only while memory is
	 * priced, so that an app on a market that does not price it pays nothing per get). */
	mc_store_curve_start(c->app->server.store);
	mc_store_curve(c->app->server.store, c->out);
}

/* The controller asks for the measured hit-rate curve: read in the server's thread. */
static int memory_curve(void *arg, struct nom_memory_curve *out)
{
	struct mc_app *app = arg;
	struct curve_call c = {app, out, 0};

	if (!app->srv)
		return -EAGAIN;
	return srv_call(app->srv, curve_in_thread, &c);
}

/* Called in the server's thread: the cache follows the memory held (evicting the least
 * recently used items down to the new size at once). */
static void set_memory(void *arg, int64_t mib)
{
	struct mc_app *app = arg;

	mc_store_set_limit(app->server.store, (size_t)mib << 20);
}

static void on_ready(struct srv *s, void *arg)
{
	struct mc_app *app = arg;

	app->srv = s;
}

/* "1048576", "512k", "1m" -> bytes. */
static int parse_size(const char *s, size_t *out)
{
	char *end;
	unsigned long long v;

	errno = 0;
	v = strtoull(s, &end, 10);
	if (errno || end == s)
		return -1;
	if (*end == 'k' || *end == 'K')
		v <<= 10, end++;
	else if (*end == 'm' || *end == 'M')
		v <<= 20, end++;
	if (*end)
		return -1;
	*out = (size_t)v;
	return 0;
}

static int handle(void *ctx, int opt, const char *arg)
{
	struct mc_app *app = ctx;
	size_t v;

	switch (opt) {
	case OPT_MEMORY:
		if (parse_size(arg, &v) < 0 || v < 1 || v > 1048576) {
			fprintf(stderr, "nom-memcached: --memory %s: want megabytes 1-1048576\n", arg);
			return -1;
		}
		app->store_cfg.mem_limit = v << 20;
		return 0;
	case OPT_ITEM:
		if (parse_size(arg, &v) < 0 || v < 1024 || v > (128u << 20)) {
			fprintf(stderr, "nom-memcached: --max-item-size %s: want 1k-128m\n", arg);
			return -1;
		}
		app->store_cfg.item_max = v;
		return 0;
	case OPT_NOEVICT:
		app->store_cfg.evict = false;
		return 0;
	case OPT_MEMMIN:
	case OPT_RESERVE:
		if (parse_size(arg, &v) < 0 || v > 1048576 || (opt == OPT_MEMMIN && v < 1)) {
			fprintf(stderr, "nom-memcached: --%s %s: want megabytes %s-1048576\n",
				opt == OPT_MEMMIN ? "memory-min" : "memory-reserve", arg,
				opt == OPT_MEMMIN ? "1" : "0");
			return -1;
		}
		if (opt == OPT_MEMMIN)
			app->opts->memory_min_mib = (int64_t)v;
		else
			app->opts->memory_reserve_mib = (int64_t)v;
		return 0;
	}
	return -1;
}

int main(int argc, char **argv)
{
	static const int short_vals[] = {OPT_MEMORY, OPT_ITEM, OPT_NOEVICT};
	static const struct option extra_opts[] = {
		{"memory", required_argument, 0, OPT_MEMORY},
		{"max-item-size", required_argument, 0, OPT_ITEM},
		{"no-evictions", no_argument, 0, OPT_NOEVICT},
		{"memory-min", required_argument, 0, OPT_MEMMIN},
		{"memory-reserve", required_argument, 0, OPT_RESERVE},
		{0, 0, 0, 0}};
	struct mc_app app;
	struct app_extra extra = {
		extra_opts,
		"  --memory MB               memory for items (default 64)\n"
		"  --max-item-size SIZE      largest item, bytes, 512k, 1m (default 1m)\n"
		"  --no-evictions            refuse stores when full instead of evicting\n"
		"  --memory-min MB           --instance: the least cache it keeps (default 1)\n"
		"  --memory-reserve MB       --instance: memory held beyond the cache (default 32)\n",
		handle, &app, "m:I:M", short_vals};
	struct app_opts o;
	struct mc_clock clk = {clock_mono, clock_wall, NULL};
	int rc;

	memset(&app, 0, sizeof(app));
	app.store_cfg.mem_limit = 64u << 20;
	app.store_cfg.item_max = 1u << 20;
	app.store_cfg.evict = true;
	app_opts_init(&o, "nom-memcached", 11211);
	o.profile_app = "memcached";
	o.memory_min_mib = 1;
	o.memory_reserve_mib = 32;
	app.opts = &o;
	rc = app_opts_parse(&o, argc, argv, &extra);
	if (rc)
		return rc == 1 ? 0 : rc;
	if (app.store_cfg.item_max > app.store_cfg.mem_limit) {
		fprintf(stderr, "nom-memcached: --max-item-size is larger than --memory\n");
		return 64;
	}
	if (o.instance) {
		o.memory_max_mib = (int64_t)(app.store_cfg.mem_limit >> 20);
		if (o.memory_min_mib > o.memory_max_mib) {
			fprintf(stderr, "nom-memcached: --memory-min is larger than --memory\n");
			return 64;
		}
		/* The cache follows the holding: what each size would hit may be measured. */
		app.store_cfg.curve_max = app.store_cfg.mem_limit;
	}
	/* A whole store command (line and value) must fit the connection's input buffer. */
	o.srv.in_max = app.store_cfg.item_max + (64u << 10);
	if (mc_store_create(&app.store_cfg, &clk, &app.server.store) < 0) {
		fprintf(stderr, "nom-memcached: cannot create the store\n");
		return 70;
	}
	app.server.version = "1.6.18-nom";
	app.server.started_wall_s = (int64_t)time(NULL);
	app.server.pid = (uint32_t)getpid();
	app.server.extra_stats = nomnet_stats;
	app.server.extra_arg = &app;
	struct app_spec spec = {.ops = &mc_ops, .app = &app, .on_ready = on_ready,
				.memory_curve = memory_curve, .set_memory = set_memory};
	rc = app_run(&o, &spec);
	app.srv = NULL;
	mc_store_destroy(app.server.store);
	return rc;
}
