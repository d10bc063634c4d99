/* harness.c: starting, stopping and talking to a real raas-marketd (harness.h). */
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>
#include <zmq.h>

#include "common/clock.h"
#include "common/daemon.h"
#include "common/log.h"
#include "harness.h"
#include "test.h"

static struct harness *active;

int64_t h_now_ms(void)
{
	return clk_mono(&clk_real) / NS_PER_MS;
}

void h_cleanup(struct harness *h)
{
	char cmd[300];

	if (h->pid > 0) {
		kill(h->pid, SIGKILL);
		waitpid(h->pid, NULL, 0);
		h->pid = 0;
	}
	if (h->dir[0] && !getenv("MARKET_TEST_KEEP")) {
		snprintf(cmd, sizeof(cmd), "rm -rf '%s'", h->dir);
		if (system(cmd) != 0)
			fprintf(stderr, "cannot remove %s\n", h->dir);
	}
	h->dir[0] = '\0';
}

static void at_exit(void)
{
	if (active) {
		if (active->pid > 0 && active->log[0] && getenv("MARKET_TEST_VERBOSE")) {
			char cmd[400];
			snprintf(cmd, sizeof(cmd), "tail -20 '%s' >&2", active->log);
			if (system(cmd) != 0)
				fprintf(stderr, "no log\n");
		}
		h_cleanup(active);
	}
}

static void on_fatal(int sig)
{
	at_exit();
	signal(sig, SIG_DFL);
	raise(sig);
}

static void write_config(struct harness *h)
{
	FILE *f = fopen(h->config, "w");

	ASSERT_TRUE(f != NULL);
	fprintf(f,
		"[market]\ntenant_endpoint = %s\nprice_endpoint = %s\nhost_endpoint = %s\n"
		"round_ms = %d\nledger = %s\nkey_dir = %s/keys\nsync = %s\n%s\n",
		h->tenant_ep[0] ? h->tenant_ep : "tcp://127.0.0.1:*",
		h->price_ep[0] ? h->price_ep : "tcp://127.0.0.1:*",
		h->host_ep[0] ? h->host_ep : "tcp://127.0.0.1:*", h->round_ms, h->ledger, h->dir,
		h->sync, h->extra);
	fclose(f);
}

void h_init(struct harness *h, const char *name, int round_ms, const char *extra_config)
{
	char keys[300], why[512];
	struct ledger *l;

	memset(h, 0, sizeof(*h));
	log_init(name, LOG_ERROR, false);
	snprintf(h->dir, sizeof(h->dir), "/tmp/market-%s-%ld", name, (long)getpid());
	ASSERT_OK(mkdir(h->dir, 0700));
	active = h;
	atexit(at_exit);
	signal(SIGABRT, on_fatal);
	signal(SIGSEGV, on_fatal);
	signal(SIGTERM, on_fatal);
	signal(SIGINT, on_fatal);
	signal(SIGPIPE, SIG_IGN);
	snprintf(h->config, sizeof(h->config), "%s/market.ini", h->dir);
	snprintf(h->ledger, sizeof(h->ledger), "%s/ledger.sqlite", h->dir);
	snprintf(h->ready, sizeof(h->ready), "%s/ready", h->dir);
	snprintf(h->log, sizeof(h->log), "%s/marketd.log", h->dir);
	snprintf(h->extra, sizeof(h->extra), "%s", extra_config ? extra_config : "");
	h->round_ms = round_ms;
	snprintf(h->sync, sizeof(h->sync), "normal");
	snprintf(keys, sizeof(keys), "%s/keys", h->dir);
	ASSERT_OK(tp_keypair_generate(&h->market_key));
	ASSERT_OK(tp_key_save(keys, "market", &h->market_key, false));
	ASSERT_OK(ledger_open(h->ledger, NULL, &l, why, sizeof(why)));
	ledger_close(l);
	h->ctx = tp_context_create(4096, 1);
	ASSERT_TRUE(h->ctx != NULL);
}

static int add_peer(struct harness *h, struct h_peer *peers, int *n, const char *name,
		    bool tenant, money_t budget)
{
	char why[512];
	struct ledger *l;
	int i = (*n)++;

	ASSERT_LT(i, H_MAX_PEERS);
	snprintf(peers[i].name, sizeof(peers[i].name), "%s", name);
	ASSERT_OK(tp_keypair_generate(&peers[i].key));
	ASSERT_OK(ledger_open(h->ledger, NULL, &l, why, sizeof(why)));
	if (tenant)
		ASSERT_OK(ledger_tenant_add(l, name, peers[i].key.public_key, budget, 1, NULL, why,
					    sizeof(why)));
	else
		ASSERT_OK(ledger_host_add(l, name, peers[i].key.public_key, 1, NULL, why,
					  sizeof(why)));
	ledger_close(l);
	return i;
}

int h_add_tenant(struct harness *h, const char *name, money_t budget)
{
	return add_peer(h, h->tenants, &h->ntenants, name, true, budget);
}

int h_add_host(struct harness *h, const char *name)
{
	return add_peer(h, h->hosts, &h->nhosts, name, false, 0);
}

static bool read_ready(struct harness *h)
{
	return dmn_ready_value(h->ready, "tenant_endpoint", h->tenant_ep, sizeof(h->tenant_ep)) ==
		       0 &&
	       dmn_ready_value(h->ready, "price_endpoint", h->price_ep, sizeof(h->price_ep)) == 0 &&
	       dmn_ready_value(h->ready, "host_endpoint", h->host_ep, sizeof(h->host_ep)) == 0;
}

void h_start(struct harness *h)
{
	char bin[512];
	const char *dir = getenv("RAAS_BIN");

	snprintf(bin, sizeof(bin), "%s/raas-marketd", dir ? dir : RAAS_BIN_DIR);
	if (access(bin, X_OK) != 0)
		TEST_FAIL("%s is not built", bin);
	write_config(h);
	unlink(h->ready);
	pid_t pid = fork();
	ASSERT_TRUE(pid >= 0);
	if (pid == 0) {
		FILE *logf = freopen(h->log, "a", stderr);
		(void)logf;
		execl(bin, bin, "-c", h->config, "--ready-file", h->ready, "--log-level",
		      getenv("MARKET_TEST_DEBUG") ? "debug" : "info", (char *)NULL);
		_exit(127);
	}
	h->pid = pid;
	int64_t deadline = h_now_ms() + 20000;
	while (!read_ready(h)) {
		int status;
		if (waitpid(pid, &status, WNOHANG) == pid) {
			h->pid = 0;
			char cmd[400];
			snprintf(cmd, sizeof(cmd), "tail -5 '%s' >&2", h->log);
			if (system(cmd) != 0)
				fprintf(stderr, "(no log)\n");
			TEST_FAIL("raas-marketd exited with status %d before serving", status);
		}
		if (h_now_ms() > deadline)
			TEST_FAIL("raas-marketd did not serve within 20 s");
		struct timespec ts = {0, 2 * 1000 * 1000};
		nanosleep(&ts, NULL);
	}
}

void h_stop(struct harness *h, bool crash)
{
	int status;

	if (h->pid <= 0)
		return;
	kill(h->pid, crash ? SIGKILL : SIGTERM);
	ASSERT_EQ(waitpid(h->pid, &status, 0), h->pid);
	if (!crash && !(WIFEXITED(status) && WEXITSTATUS(status) == 0))
		TEST_FAIL("raas-marketd did not stop cleanly (status %d)", status);
	h->pid = 0;
}

bool h_alive(struct harness *h)
{
	return h->pid > 0 && waitpid(h->pid, NULL, WNOHANG) == 0 && kill(h->pid, 0) == 0;
}

void *h_dealer(struct harness *h, int tenant)
{
	void *s;

	ASSERT_OK(tp_connect(h->ctx, ZMQ_DEALER, h->tenant_ep, &h->tenants[tenant].key,
			     h->market_key.public_key, &s));
	return s;
}

void *h_host_dealer(struct harness *h, int host)
{
	void *s;

	ASSERT_OK(tp_connect(h->ctx, ZMQ_DEALER, h->host_ep, &h->hosts[host].key,
			     h->market_key.public_key, &s));
	return s;
}

void *h_sub(struct harness *h, int tenant, const char *prefix)
{
	void *s;

	ASSERT_OK(tp_connect(h->ctx, ZMQ_SUB, h->price_ep, &h->tenants[tenant].key,
			     h->market_key.public_key, &s));
	ASSERT_OK(tp_subscribe(s, prefix));
	return s;
}

Raas__Envelope *h_call(struct harness *h, void *dealer, Raas__Envelope *e, int timeout_ms,
		       tp_other_fn other, void *arg)
{
	static uint64_t next_id = 1000;
	Raas__Envelope *reply = NULL;

	(void)h;
	if (!e->request_id)
		e->request_id = next_id++;
	int err = tp_call(NULL, dealer, e, 500 * NS_PER_MS, (int64_t)timeout_ms * NS_PER_MS,
			  WIRE_MAX_BYTES, other, arg, &reply);
	if (err)
		TEST_FAIL("no reply to %s (request %llu): %s", wire_body_name(e),
			  (unsigned long long)e->request_id, strerror(-err));
	return reply;
}

Raas__Envelope *h_hello(struct harness *h, void *dealer)
{
	Raas__Envelope e;
	Raas__Hello hello = RAAS__HELLO__INIT;

	wire_envelope_init(&e, 0);
	hello.client = "market-test";
	e.body_case = RAAS__ENVELOPE__BODY_HELLO;
	e.hello = &hello;
	return h_call(h, dealer, &e, 10000, NULL, NULL);
}

struct ledger *h_ledger(struct harness *h)
{
	struct ledger_options o = {.readonly = true};
	struct ledger *l;
	char why[512];

	if (ledger_open(h->ledger, &o, &l, why, sizeof(why)) != 0)
		TEST_FAIL("%s", why);
	return l;
}

void h_check_ledger(struct harness *h)
{
	struct ledger *l = h_ledger(h);
	char why[LEDGER_WHY_MAX] = "";
	int err = ledger_check(l, why, sizeof(why));

	ledger_close(l);
	if (err)
		TEST_FAIL("ledger invariant broken: %s", why);
}
