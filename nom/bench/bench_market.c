/* bench_market.c: nom-bench's publisher and a real nom-priced.
 *
 * The publisher is the real raas-marketd when it is built next to nom-bench (a declared
 * bandwidth pool, rounds of 10 ms: a price published every 10 ms), else the market double of
 * nom/bench/market_double.c, which speaks the same contract (CURVE, ZAP, tenant ROUTER, price PUB) and
 * publishes when told. */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdarg.h>
#include <stdbool.h>
#include <sys/stat.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "bb/bb.h"
#include "common/daemon.h"
#include "bench_market.h"
#include "market_double.h"

struct bench_market {
	struct mdouble *md; /* NULL with the real market */
	pid_t market, priced;
	char dir[64], keydir[96], instance[80], api[128];
	char tenant_ep[320], price_ep[320];
};

static char bindir[PATH_MAX];

static bool real_market(void)
{
	char path[PATH_MAX + 32];

	snprintf(path, sizeof(path), "%s/raas-marketd", bindir);
	if (access(path, X_OK) != 0)
		return false;
	snprintf(path, sizeof(path), "%s/raas", bindir);
	return access(path, X_OK) == 0;
}

static int run(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

static int run(const char *fmt, ...)
{
	char cmd[2048];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(cmd, sizeof(cmd), fmt, ap);
	va_end(ap);
	int rc = system(cmd);
	return rc == 0 ? 0 : -EIO;
}

/* raas-marketd with a declared pool, rounds of 10 ms; the tenant "bench" registered. */
static int start_real(struct bench_market *m)
{
	char path[256], ready[160];
	FILE *f;

	if (run("%s/raas keygen --dir %s market >/dev/null && %s/raas keygen --dir %s bench "
		">/dev/null && %s/raas tenant add bench --key %s/bench.pub --ledger %s/ledger.sqlite "
		">/dev/null",
		bindir, m->keydir, bindir, m->keydir, bindir, m->keydir, m->dir))
		return -EIO;
	snprintf(path, sizeof(path), "%s/market.ini", m->dir);
	if (!(f = fopen(path, "w")))
		return -errno;
	fprintf(f, "[market]\ntenant_endpoint = tcp://127.0.0.1:*\nprice_endpoint = "
		   "tcp://127.0.0.1:*\nhost_endpoint = tcp://127.0.0.1:*\nround_ms = 10\n"
		   "ledger = %s/ledger.sqlite\nkey_dir = %s\nsync = normal\n\n"
		   "[pool.bw]\nhost = h1\nresource = bandwidth\nsupply = 1000\nmodel = fixed\n"
		   "params = price=$0.0001\n",
		m->dir, m->keydir);
	fclose(f);
	snprintf(ready, sizeof(ready), "%s/ready", m->dir);
	m->market = fork();
	if (m->market == 0) {
		char exe[PATH_MAX + 32], log[200];
		snprintf(exe, sizeof(exe), "%s/raas-marketd", bindir);
		snprintf(log, sizeof(log), "%s/market.log", m->dir);
		int fd = open(log, O_WRONLY | O_CREAT | O_APPEND, 0644);
		dup2(fd, 2);
		execl(exe, exe, "-c", path, "--ready-file", ready, "--log-level", "warn", (char *)NULL);
		_exit(127);
	}
	for (int i = 0; i < 2000; i++) {
		if (dmn_ready_value(ready, "tenant_endpoint", m->tenant_ep, sizeof(m->tenant_ep)) ==
			    0 &&
		    dmn_ready_value(ready, "price_endpoint", m->price_ep, sizeof(m->price_ep)) == 0 &&
		    m->tenant_ep[0] && m->price_ep[0])
			return 0;
		if (waitpid(m->market, NULL, WNOHANG) == m->market) {
			m->market = 0;
			return -ECHILD;
		}
		usleep(10000);
	}
	return -ETIMEDOUT;
}

static int spawn(struct bench_market *m)
{
	char a[12][PATH_MAX + 64];
	int n = 0;

	snprintf(a[n++], sizeof(a[0]), "%s/nom-priced", bindir);
	snprintf(a[n++], sizeof(a[0]), "--set=priced.instance=%s", m->instance);
	snprintf(a[n++], sizeof(a[0]), "--set=priced.market=%s",
		 m->md ? md_tenant_endpoint(m->md) : m->tenant_ep);
	snprintf(a[n++], sizeof(a[0]), "--set=priced.prices=%s",
		 m->md ? md_price_endpoint(m->md) : m->price_ep);
	snprintf(a[n++], sizeof(a[0]), "--set=priced.tenant_key=%s/bench.key", m->keydir);
	snprintf(a[n++], sizeof(a[0]), "--set=priced.market_key=%s/market.pub", m->keydir);
	snprintf(a[n++], sizeof(a[0]), "--set=priced.api=%s", m->api);
	snprintf(a[n++], sizeof(a[0]), "--set=priced.subscribe=bandwidth/h1");
	snprintf(a[n++], sizeof(a[0]), "--log-level=warn");
	char *argv[13];
	for (int i = 0; i < n; i++)
		argv[i] = a[i];
	argv[n] = NULL;
	m->priced = fork();
	if (m->priced == 0) {
		execv(argv[0], argv);
		_exit(127);
	}
	return m->priced > 0 ? 0 : -errno;
}

int bench_market_start(const char *instance, struct bench_market **out)
{
	struct bench_market *m = calloc(1, sizeof(*m));
	int err;

	if (!m)
		return -ENOMEM;
	ssize_t len = readlink("/proc/self/exe", bindir, sizeof(bindir) - 1);
	if (len <= 0) {
		free(m);
		return -errno;
	}
	bindir[len] = 0;
	*strrchr(bindir, '/') = 0;
	snprintf(m->dir, sizeof(m->dir), "/tmp/nomrt-bench-%d", (int)getpid());
	snprintf(m->keydir, sizeof(m->keydir), "%s/keys", m->dir);
	snprintf(m->instance, sizeof(m->instance), "%s", instance);
	snprintf(m->api, sizeof(m->api), "ipc:///tmp/nomrt-bench-%d.sock", (int)getpid());
	if (mkdir(m->dir, 0700) != 0) {
		free(m);
		return -errno;
	}
	err = real_market() ? start_real(m) : md_start(m->keydir, "bench", &m->md);
	if (!err)
		err = spawn(m);
	if (err) {
		bench_market_stop(m);
		return err;
	}
	/* Wait for the board and the session (the tenant's name on it). */
	struct bb_reader *r = NULL;
	struct bb_state st = {0};
	for (int i = 0; i < 1000 && !st.tenant[0]; i++) {
		if (!r && bb_reader_open(instance, &r) != 0)
			r = NULL;
		if (r)
			bb_read_state(r, &st);
		usleep(10000);
	}
	bb_reader_close(r);
	if (!st.tenant[0]) {
		bench_market_stop(m);
		return -ETIMEDOUT;
	}
	*out = m;
	return 0;
}

void bench_market_publish(struct bench_market *m, int i)
{
	if (m->md) /* the real market publishes every round by itself */
		md_publish(m->md, RAAS__RESOURCE__RESOURCE_BANDWIDTH, "h1", 1000 + i,
			   (uint64_t)i + 1);
}

void bench_market_pace(struct bench_market *m)
{
	if (!m->md)
		return;
	struct timespec d = {0, 2000000}; /* 2 ms: 500 prices a second at most */
	nanosleep(&d, NULL);
}

const char *bench_market_kind(void)
{
	return real_market() ? "raas-marketd, rounds of 10 ms" : "market double";
}

void bench_market_stop(struct bench_market *m)
{
	char path[160];

	if (m->priced > 0) {
		kill(m->priced, SIGTERM);
		waitpid(m->priced, NULL, 0);
	}
	if (m->market > 0) {
		kill(m->market, SIGTERM);
		waitpid(m->market, NULL, 0);
	}
	if (m->md)
		md_stop(m->md);
	bb_path(m->instance, path, sizeof(path));
	unlink(path);
	unlink(m->api + 6);
	run("rm -rf %s", m->dir);
	free(m);
}
