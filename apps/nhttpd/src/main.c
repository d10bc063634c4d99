/* nhttpd: an HTTP/1.1 static file server on nomnet, or on kernel sockets.
 *
 *   nhttpd --root DIR [common nom app options] [--cache-mb N] [--max-file-mb N]
 *          [--workers N] [--instance NAME [--cores-max N]]
 *
 * --workers N (kernel stack) runs N serving threads, each an epoll loop with its own
 * listener on the port (SO_REUSEPORT) and its own file cache. With --instance it holds cores:
 * its threads run on the CPUs of the cores held (libnom pins them), and under load it holds
 * a second core when the profile's rows for two cores say the extra throughput is worth the
 * core's price (--cores-max, default --workers; docs/apps.md).
 * Serves GET and HEAD from DIR (index.html for directories) with keep-alive and pipelining;
 * answers 400, 404, 405, 413, 414, 431, 501 and 505 as http_parse.h describes; never serves a
 * file outside DIR. Files are cached in memory (--cache-mb, default 256) and checked against
 * the disk once a second; files over --max-file-mb (default 64) get 500. Default port 8080. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "app/opts.h"
#include "app/run.h"
#include "httpd.h"

#define OPT_ROOT 1000
#define OPT_CACHE 1001
#define OPT_MAXFILE 1002
#define OPT_WORKERS 1003
#define OPT_CORES 1004

struct app {
	struct httpd httpd;
	const char *root;
	size_t cache_mb, max_file_mb;
	struct app_opts *opts;
	struct app *workers[64]; /* the other workers' states (worker 1..) */
};

struct session {
	struct httpd_conn h;
	struct srv_conn *conn;
	uint64_t counted;
};

static int64_t mono(void *arg)
{
	struct timespec ts;

	(void)arg;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

static void *h_open(void *arg, struct srv_conn *c)
{
	struct app *app = arg;
	struct session *s = calloc(1, sizeof(*s));

	if (!s)
		return NULL;
	httpd_conn_init(&s->h, &app->httpd);
	s->conn = c;
	return s;
}

static size_t h_input(void *state, const uint8_t *data, size_t len)
{
	struct session *s = state;
	size_t used = httpd_process(&s->h, data, len);

	srv_deliver(s->conn, &s->h.out, s->h.requests, &s->counted, s->h.close);
	return used;
}

static void h_close(void *state)
{
	struct session *s = state;

	httpd_conn_fini(&s->h);
	free(s);
}

static const struct srv_app_ops ops = {h_open, h_input, h_close};

static int handle(void *ctx, int opt, const char *arg)
{
	struct app *app = ctx;
	char *end;
	unsigned long v;

	if (opt == OPT_ROOT) {
		app->root = arg;
		return 0;
	}
	v = strtoul(arg, &end, 10);
	if (opt == OPT_WORKERS || opt == OPT_CORES) {
		if (*end || end == arg || v < 1 || v > 64) {
			fprintf(stderr, "nhttpd: --%s %s: want 1-64\n",
				opt == OPT_WORKERS ? "workers" : "cores-max", arg);
			return -1;
		}
		if (opt == OPT_WORKERS)
			app->opts->workers = (unsigned)v;
		else
			app->opts->cores_max = (int64_t)v;
		return 0;
	}
	if (*end || end == arg || v < 1 || v > 65536) {
		fprintf(stderr, "nhttpd: want megabytes 1-65536, not \"%s\"\n", arg);
		return -1;
	}
	if (opt == OPT_CACHE)
		app->cache_mb = v;
	else
		app->max_file_mb = v;
	return 0;
}

static int app_init(struct app *app)
{
	int rc = files_create(app->root, app->cache_mb << 20, app->max_file_mb << 20,
			      &app->httpd.files);

	if (rc < 0)
		return rc;
	http_limits_default(&app->httpd.limits);
	app->httpd.now_ns = mono;
	return 0;
}

/* Worker i's own state: its own file cache, so that workers share nothing. */
static void *worker(void *arg, unsigned i)
{
	struct app *app = arg, *w;

	if (i >= 64 || !(w = calloc(1, sizeof(*w))))
		return NULL;
	w->root = app->root;
	w->cache_mb = app->cache_mb;
	w->max_file_mb = app->max_file_mb;
	if (app_init(w) < 0) {
		free(w);
		return NULL;
	}
	app->workers[i] = w;
	return w;
}

int main(int argc, char **argv)
{
	static const struct option extra_opts[] = {
		{"root", required_argument, 0, OPT_ROOT},
		{"cache-mb", required_argument, 0, OPT_CACHE},
		{"max-file-mb", required_argument, 0, OPT_MAXFILE},
		{"workers", required_argument, 0, OPT_WORKERS},
		{"cores-max", required_argument, 0, OPT_CORES},
		{0, 0, 0, 0}};
	struct app app = {.cache_mb = 256, .max_file_mb = 64};
	struct app_extra extra = {extra_opts,
				  "  --root DIR                the document root (required)\n"
				  "  --cache-mb N              memory for cached files (default 256)\n"
				  "  --max-file-mb N           largest file served (default 64)\n"
				  "  --workers N               serving threads, kernel stack (default 1)\n"
				  "  --cores-max N             --instance: the most cores it holds (default: --workers)\n",
				  handle, &app, NULL, NULL};
	struct app_opts o;
	int rc;

	app_opts_init(&o, "nhttpd", 8080);
	o.profile_app = "nhttpd";
	app.opts = &o;
	rc = app_opts_parse(&o, argc, argv, &extra);
	if (rc)
		return rc == 1 ? 0 : rc;
	if (!app.root) {
		fprintf(stderr, "nhttpd: --root DIR is required (see --help)\n");
		return 64;
	}
	if (o.instance && o.cores_max == 0)
		o.cores_max = o.workers;
	rc = app_init(&app);
	if (rc < 0) {
		fprintf(stderr, "nhttpd: --root %s: %s\n", app.root, strerror(-rc));
		return 66;
	}
	/* A request head must fit the input buffer (bodies are skipped as they stream). */
	o.srv.in_max = app.httpd.limits.head_max + 65536;
	struct app_spec spec = {.ops = &ops, .app = &app, .worker = worker};
	rc = app_run(&o, &spec);
	files_destroy(app.httpd.files);
	for (unsigned i = 1; i < 64; i++)
		if (app.workers[i]) {
			files_destroy(app.workers[i]->httpd.files);
			free(app.workers[i]);
		}
	return rc;
}
