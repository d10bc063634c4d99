/* bench_enforce.c: raas-bench-enforce: how long the host agent takes to enforce a round.
 *
 * For 10, 100 and 1,000 tenants on one host with the tc backend (an HTB class and a u32
 * filter per tenant on a veth in a private network namespace), it feeds the agent core
 * encoded AllocationSets in which every tenant's rate changes, and times each from receipt
 * (the bytes in hand) to every change applied in the kernel and the ack encoded. Prints one
 * JSON line per size: {"tenants":N,"apply_p50_ms":X,"apply_p99_ms":Y}. The first round of
 * each size (creating classes and filters) is not counted. Needs root; exits 77 otherwise.
 * Usage: raas-bench-enforce [--rounds N] */
#include <errno.h>
#include <fcntl.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "common/clock.h"
#include "common/log.h"
#include "common/wire.h"
#include "hostagent/agent.h"

static char netns[64];

static void cleanup(void)
{
	char cmd[128];
	if (!netns[0])
		return;
	snprintf(cmd, sizeof(cmd), "ip netns delete %s 2>/dev/null", netns);
	if (system(cmd) != 0)
		fprintf(stderr, "could not delete %s\n", netns);
}

static int enter_netns(void)
{
	char cmd[160], path[128];
	snprintf(netns, sizeof(netns), "hostagent-%d-bench", (int)getpid());
	snprintf(cmd, sizeof(cmd), "ip netns add %s", netns);
	if (system(cmd) != 0) {
		netns[0] = '\0';
		return -1;
	}
	atexit(cleanup);
	snprintf(path, sizeof(path), "/var/run/netns/%s", netns);
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0 || setns(fd, CLONE_NEWNET) != 0)
		return -1;
	close(fd);
	return system("ip link set lo up") == 0 ? 0 : -1;
}

static int cmp_i64(const void *a, const void *b)
{
	int64_t x = *(const int64_t *)a, y = *(const int64_t *)b;
	return x < y ? -1 : x > y;
}

static void set_bytes(uint64_t round, int n, const int64_t *rate, char (*names)[16],
		      uint8_t **buf, size_t *len)
{
	Raas__Envelope e;
	Raas__AllocationSet set = RAAS__ALLOCATION_SET__INIT;
	Raas__Allocation *a = calloc((size_t)n, sizeof(*a));
	Raas__Allocation **ap = calloc((size_t)n, sizeof(*ap));
	for (int i = 0; i < n; i++) {
		raas__allocation__init(&a[i]);
		a[i].tenant = names[i];
		a[i].resource = RAAS__RESOURCE__RESOURCE_BANDWIDTH;
		a[i].host = (char *)"bench";
		a[i].quantity = rate[i];
		ap[i] = &a[i];
	}
	set.round = round;
	set.host = (char *)"bench";
	set.n_allocations = (size_t)n;
	set.allocations = ap;
	wire_envelope_init(&e, 0);
	e.body_case = RAAS__ENVELOPE__BODY_ALLOCATION_SET;
	e.allocation_set = &set;
	if (wire_encode(&e, buf, len))
		abort();
	free(a);
	free(ap);
}

static int run(int n, int rounds, unsigned *seed)
{
	char ifname[16], cmd[128];
	size_t cap = 4096 + (size_t)n * 96;
	char *text = malloc(cap);
	size_t used = 0;
	char (*names)[16] = calloc((size_t)n, sizeof(*names));
	int64_t *rate = calloc((size_t)n, sizeof(int64_t));
	int64_t *ns = calloc((size_t)rounds, sizeof(int64_t));

	snprintf(ifname, sizeof(ifname), "up%d", n);
	snprintf(cmd, sizeof(cmd), "ip link add %s type veth peer name %sp && ip link set %s up",
		 ifname, ifname, ifname);
	if (!text || !names || !rate || !ns || system(cmd) != 0)
		return -1;
	used += (size_t)snprintf(text + used, cap - used,
				 "[agent]\nhost = bench\n[capacity]\nbandwidth_mbit = %d\n"
				 "[backends]\nbandwidth = tc\n", 100 * n);
	for (int i = 0; i < n; i++) {
		snprintf(names[i], sizeof(names[i]), "t%d", i);
		used += (size_t)snprintf(text + used, cap - used,
					 "[tenant.t%d]\ninterface = %s\nclass = %d\n"
					 "src = 10.%d.%d.%d\n",
					 i, ifname, i + 1, 1 + i / 65536, (i / 256) % 256, i % 256);
	}
	struct ha_config *conf;
	struct cfg_error err;
	struct ha_agent *agent;
	char why[256];
	if (ha_config_load_string("bench.ini", text, &conf, &err) ||
	    ha_agent_create(conf, &clk_real, &agent, why, sizeof(why)))
		return -1;
	for (int r = 0; r <= rounds; r++) {
		for (int i = 0; i < n; i++) {
			int64_t q;
			do
				q = 1 + rand_r(seed) % 100;
			while (q == rate[i]); /* every tenant changes every round */
			rate[i] = q;
		}
		uint8_t *buf, *ack;
		size_t len, ack_len;
		enum ha_msg_kind kind;
		set_bytes((uint64_t)r + 1, n, rate, names, &buf, &len);
		int64_t t0 = clk_mono(&clk_real);
		int ret = ha_agent_receive(agent, buf, len, 1, &kind, NULL, &ack, &ack_len);
		int64_t t1 = clk_mono(&clk_real);
		Raas__Envelope *e;
		if (ret || !ack || wire_decode(ack, ack_len, WIRE_MAX_BYTES, &e, why, sizeof(why)))
			return -1;
		if (!e->allocation_ack->complete) {
			fprintf(stderr, "round %d incomplete: %s\n", r,
				e->allocation_ack->failures[0]->message);
			return -1;
		}
		wire_free(e);
		free(buf);
		free(ack);
		if (r > 0)
			ns[r - 1] = t1 - t0;
	}
	qsort(ns, (size_t)rounds, sizeof(int64_t), cmp_i64);
	double p50 = (double)ns[(rounds - 1) / 2] / 1e6;
	double p99 = (double)ns[(rounds * 99 + 99) / 100 - 1] / 1e6;
	printf("{\"tenants\":%d,\"apply_p50_ms\":%.3f,\"apply_p99_ms\":%.3f}\n", n, p50, p99);
	fflush(stdout);
	ha_agent_destroy(agent);
	ha_config_destroy(conf);
	snprintf(cmd, sizeof(cmd), "ip link del %s", ifname);
	if (system(cmd) != 0)
		fprintf(stderr, "could not delete %s\n", ifname);
	free(text);
	free(names);
	free(rate);
	free(ns);
	return 0;
}

int main(int argc, char **argv)
{
	int rounds = 200;
	unsigned seed = 1;

	for (int i = 1; i < argc; i++) {
		if (strcmp(argv[i], "--rounds") == 0 && i + 1 < argc) {
			rounds = atoi(argv[++i]);
		} else {
			fprintf(stderr, "usage: raas-bench-enforce [--rounds N]\n");
			return 64;
		}
	}
	if (rounds < 1) {
		fprintf(stderr, "raas-bench-enforce: --rounds must be positive\n");
		return 64;
	}
	log_init("bench-enforce", LOG_ERROR, false);
	if (geteuid() != 0) {
		fprintf(stderr, "raas-bench-enforce: needs root (network namespace, tc)\n");
		return 77;
	}
	if (enter_netns()) {
		fprintf(stderr, "raas-bench-enforce: cannot create a network namespace\n");
		return 69;
	}
	static const int sizes[] = {10, 100, 1000};
	for (size_t k = 0; k < sizeof(sizes) / sizeof(sizes[0]); k++) {
		/* Fewer rounds at 1,000 tenants keep the run short; p99 still has 50+ samples. */
		int r = sizes[k] >= 1000 && rounds > 100 ? 100 : rounds;
		if (run(sizes[k], r, &seed)) {
			fprintf(stderr, "raas-bench-enforce: %d tenants failed\n", sizes[k]);
			return 70;
		}
	}
	return 0;
}
