/* bench_market.c: nom-bench's publisher (the market double of tests/nom, which speaks the
 * market's contract: CURVE, ZAP, the tenant ROUTER and the price PUB) and a real nom-priced. */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "bb/bb.h"
#include "bench_market.h"
#include "market_double.h"

struct bench_market {
	struct mdouble *md;
	pid_t priced;
	char keydir[64], instance[80], api[128];
};

static int spawn(struct bench_market *m)
{
	char self[PATH_MAX], a[12][PATH_MAX + 64];
	ssize_t len = readlink("/proc/self/exe", self, sizeof(self) - 1);
	int n = 0;

	if (len <= 0)
		return -errno;
	self[len] = 0;
	*strrchr(self, '/') = 0;
	snprintf(a[n++], sizeof(a[0]), "%s/nom-priced", self);
	snprintf(a[n++], sizeof(a[0]), "--set=priced.instance=%s", m->instance);
	snprintf(a[n++], sizeof(a[0]), "--set=priced.market=%s", md_tenant_endpoint(m->md));
	snprintf(a[n++], sizeof(a[0]), "--set=priced.prices=%s", md_price_endpoint(m->md));
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
	char path[96];
	int err;

	if (!m)
		return -ENOMEM;
	snprintf(m->keydir, sizeof(m->keydir), "/tmp/nomrt-bench-keys-%d", (int)getpid());
	snprintf(m->instance, sizeof(m->instance), "%s", instance);
	snprintf(m->api, sizeof(m->api), "ipc:///tmp/nomrt-bench-%d.sock", (int)getpid());
	if ((err = md_start(m->keydir, "bench", &m->md)) || (err = spawn(m))) {
		free(m);
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
	(void)path;
	*out = m;
	return 0;
}

void bench_market_publish(struct bench_market *m, int i)
{
	md_publish(m->md, RAAS__RESOURCE__RESOURCE_BANDWIDTH, "h1", 1000 + i, (uint64_t)i + 1);
}

void bench_market_pace(struct bench_market *m)
{
	(void)m;
	struct timespec d = {0, 2000000}; /* 2 ms: 500 rounds a second at most */
	nanosleep(&d, NULL);
}

const char *bench_market_kind(void)
{
	return "market double";
}

void bench_market_stop(struct bench_market *m)
{
	char path[160];

	if (m->priced > 0) {
		kill(m->priced, SIGTERM);
		waitpid(m->priced, NULL, 0);
	}
	md_stop(m->md);
	bb_path(m->instance, path, sizeof(path));
	unlink(path);
	unlink(m->api + 6);
	const char *names[] = {"market.key", "market.pub", "bench.key", "bench.pub",
			       "stranger.key", "stranger.pub"};
	for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++) {
		snprintf(path, sizeof(path), "%s/%s", m->keydir, names[i]);
		unlink(path);
	}
	rmdir(m->keydir);
	free(m);
}
