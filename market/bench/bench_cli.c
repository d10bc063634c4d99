/* bench_cli.c: raas-bench-cli, the round trip of the raas command line against a real
 * raas-marketd on loopback.
 *
 * An operator or a script runs `raas` once per command, so what matters is the wall time of
 * a whole invocation: process start, key files, the CURVE handshake, the request and its
 * reply (or, for ledger commands, opening the SQLite file). For each of prices (a query over
 * the network), bid (a request the market records in its ledger) and invoice (read from the
 * ledger file) it runs the real binary N times (200 by default), one after the other, and
 * prints a JSON line with p50 and p99 in milliseconds; `raas --help` (process start, no work)
 * is the floor in the same run. RAAS_CLI_TIMING makes each network call report where its
 * time went (connect+handshake, request-reply), and the medians of those are printed too.
 * Aim (issue 12): p50 < 30 ms, p99 < 100 ms. Progress goes to stderr. */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "common/clock.h"
#include "harness.h"
#include "test.h"

#define MAX_CALLS 10000

static int cmp_i64(const void *a, const void *b)
{
	int64_t x = *(const int64_t *)a, y = *(const int64_t *)b;
	return x < y ? -1 : x > y;
}

static double pct(int64_t *v, int n, double p)
{
	qsort(v, (size_t)n, sizeof(*v), cmp_i64);
	int i = (int)(p * (n - 1) + 0.5);
	return (double)v[i] / 1e6;
}

/* Runs raas with args (argv[0] filled in) once; returns the wall time in ns, and the
 * handshake and request-reply times it reported on stderr (-1 when it did not). */
static int64_t run_once(const char *bin, char **args, const char *errfile, int64_t *hs,
			int64_t *rr)
{
	int64_t t0 = clk_mono(&clk_real);
	pid_t pid = fork();
	int status;

	ASSERT_TRUE(pid >= 0);
	if (pid == 0) {
		if (!freopen("/dev/null", "w", stdout) || !freopen(errfile, "w", stderr))
			_exit(127);
		execv(bin, args);
		_exit(127);
	}
	ASSERT_EQ(waitpid(pid, &status, 0), pid);
	int64_t t = clk_mono(&clk_real) - t0;
	if (!WIFEXITED(status) || WEXITSTATUS(status) != 0) {
		char cmd[600];
		snprintf(cmd, sizeof(cmd), "cat '%s' >&2", errfile);
		if (system(cmd) != 0)
			fprintf(stderr, "(no stderr)\n");
		TEST_FAIL("%s %s exited with status %d", bin, args[1], status);
	}
	*hs = *rr = -1;
	FILE *f = fopen(errfile, "r");
	char line[512];
	while (f && fgets(line, sizeof(line), f)) {
		double a, b;
		char *p = strstr(line, "connect+handshake ");
		if (p && sscanf(p, "connect+handshake %lf ms, request-reply %lf ms", &a, &b) == 2) {
			*hs = (int64_t)(a * 1e6);
			*rr = (int64_t)(b * 1e6);
		}
	}
	if (f)
		fclose(f);
	return t;
}

int main(int argc, char **argv)
{
	static int64_t wall[MAX_CALLS], hs[MAX_CALLS], rr[MAX_CALLS];
	int calls = 200, c;
	struct harness h;
	char bin[512], errfile[400], env[3][600], bidid[64];

	while ((c = getopt(argc, argv, "n:")) != -1) {
		if (c != 'n' || (calls = atoi(optarg)) < 2 || calls > MAX_CALLS) {
			fprintf(stderr, "usage: raas-bench-cli [-n CALLS (2..%d, default 200)]\n",
				MAX_CALLS);
			return 64;
		}
	}
	h_init(&h, "bench-cli", 1000,
	       "[pool.cores]\nhost = h1\nresource = cores\nsupply = 1000000\nmodel = fixed\n"
	       "params = price=$0.01\n");
	int alice = h_add_tenant(&h, "alice", -1);
	char keys[300];
	snprintf(keys, sizeof(keys), "%s/keys", h.dir);
	ASSERT_OK(tp_key_save(keys, "alice", &h.tenants[alice].key, false));
	h_start(&h);
	const char *dir = getenv("RAAS_BIN");
	snprintf(bin, sizeof(bin), "%s/raas", dir ? dir : RAAS_BIN_DIR);
	snprintf(errfile, sizeof(errfile), "%s/cli.err", h.dir);
	snprintf(env[0], sizeof(env[0]), "%s/keys/alice.key", h.dir);
	snprintf(env[1], sizeof(env[1]), "%s/keys/market.pub", h.dir);
	setenv("RAAS_KEY", env[0], 1);
	setenv("RAAS_SERVER_KEY", env[1], 1);
	setenv("RAAS_MARKET", h.tenant_ep, 1);
	setenv("RAAS_LEDGER", h.ledger, 1);
	setenv("RAAS_CLI_TIMING", "1", 1);

	char *help[] = {bin, "--help", NULL};
	char *prices[] = {bin, "prices", NULL};
	char *bid[] = {bin, "bid", "--resource", "cores", "--host", "h1", "--max", "1",
		       "--price", "$0.02", "--id", bidid, NULL};
	char *invoice[] = {bin, "invoice", "alice", NULL};
	struct {
		const char *name;
		char **args;
		bool network;
	} cmds[] = {
		{"help", help, false},
		{"prices", prices, true},
		{"bid", bid, true},
		{"invoice", invoice, false},
	};
	double floor_p50 = 0;
	for (size_t k = 0; k < sizeof(cmds) / sizeof(cmds[0]); k++) {
		int nh = 0;
		fprintf(stderr, "raas %s x %d\n", cmds[k].name, calls);
		for (int i = 0; i < calls; i++) {
			int64_t a, b;
			snprintf(bidid, sizeof(bidid), "bench-%d", i % 50); /* 50 standing bids */
			wall[i] = run_once(bin, cmds[k].args, errfile, &a, &b);
			if (a >= 0) {
				hs[nh] = a;
				rr[nh++] = b;
			}
		}
		double p50 = pct(wall, calls, 0.5), p99 = pct(wall, calls, 0.99);
		if (k == 0)
			floor_p50 = p50;
		printf("{\"bench\":\"cli\",\"command\":\"%s\",\"calls\":%d,\"p50_ms\":%.2f,"
		       "\"p99_ms\":%.2f,\"max_ms\":%.2f,\"p50_over_process_start_ms\":%.2f",
		       cmds[k].name, calls, p50, p99, pct(wall, calls, 1.0), p50 - floor_p50);
		if (cmds[k].network && nh > 1)
			printf(",\"handshake_p50_ms\":%.2f,\"request_reply_p50_ms\":%.2f",
			       pct(hs, nh, 0.5), pct(rr, nh, 0.5));
		printf("}\n");
		fflush(stdout);
		if (cmds[k].network && nh != calls)
			TEST_FAIL("%d of %d %s calls reported no timing", calls - nh, calls,
				  cmds[k].name);
	}
	h_check_ledger(&h);
	h_stop(&h, false);
	h_cleanup(&h);
	return 0;
}
