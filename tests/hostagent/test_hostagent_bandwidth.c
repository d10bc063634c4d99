/* test_hostagent_bandwidth.c: real bandwidth enforcement by raas-hostagentd with the tc
 * backend, on a host made of network namespaces with two tenant veths.
 *
 * The market (a scripted ROUTER over CURVE, market_peer.h, until raas-marketd runs these
 * tests) allocates 50 and 200 Mbit/s; iperf3 from both tenants at once must measure within
 * 10% of each allocation; a new allocation (swapped) must be in the kernel within two rounds
 * and measure within 10% again; the agent's meters must agree with the tenants' interface
 * counters within 2%. An agent with a key the market does not know gets no service. */
#include <math.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "common/transport.h"
#include "hostnet.h"
#include "market_peer.h"
#include "test.h"

#define BW RAAS__RESOURCE__RESOURCE_BANDWIDTH
#define ROUND_MS 500

static struct hostnet net;

static void fail_with_log(const char *what)
{
	hn_dump_log(&net);
	TEST_FAIL("%s", what);
}

/* Sends round r and waits for its ack and for the kernel to hold both rates; returns the
 * milliseconds it took. */
static int64_t allocate(struct mp *m, uint64_t r, int64_t q1, int64_t q2)
{
	struct alloc al[] = {{"t1", BW, q1}, {"t2", BW, q2}};
	int64_t t0 = hn_now_ms();
	mp_send_set(m, r, "nshost", al, 2);
	bool acked = false;
	while (hn_now_ms() - t0 < 2 * ROUND_MS) {
		if (mp_poll(m, 20) == MP_ACK && mp_last_ack(m)->round == r) {
			if (!mp_last_ack(m)->complete)
				fail_with_log(mp_last_ack(m)->n_failures ?
					      mp_last_ack(m)->failures[0]->message : "incomplete ack");
			acked = true;
		}
		if (acked && hn_class_rate(0, NULL) == (uint64_t)q1 * 1000000 &&
		    hn_class_rate(1, NULL) == (uint64_t)q2 * 1000000)
			return hn_now_ms() - t0;
	}
	fprintf(stderr, "acked %d, class rates %llu and %llu bit/s\n", acked,
		(unsigned long long)hn_class_rate(0, NULL),
		(unsigned long long)hn_class_rate(1, NULL));
	fail_with_log("allocation not in effect within two rounds");
	return -1;
}

static void measure(int64_t q1, int64_t q2)
{
	int tenants[] = {0, 1};
	double mbit[2];
	hn_iperf(&net, tenants, 2, 6, 1, mbit, NULL, NULL);
	printf("allocated %lld and %lld Mbit/s: measured %.1f and %.1f Mbit/s\n", (long long)q1,
	       (long long)q2, mbit[0], mbit[1]);
	if (fabs(mbit[0] - (double)q1) > 0.1 * (double)q1 ||
	    fabs(mbit[1] - (double)q2) > 0.1 * (double)q2)
		hn_sh("tc -s -d class show dev up0 >&2; tc -s qdisc show dev up0 >&2");
	ASSERT_NEAR(mbit[0], (double)q1, 0.10 * (double)q1);
	ASSERT_NEAR(mbit[1], (double)q2, 0.10 * (double)q2);
}

/* Waits for a meter report taken after now (the link is idle: counters are still). */
static void fresh_meters(struct mp *m, int64_t *t1, int64_t *t2)
{
	int64_t t0 = hn_now_ms();
	mp_wait(m, MP_METERS, 3000); /* possibly read before t0 */
	while (hn_now_ms() - t0 < 3000)
		if (mp_poll(m, 100) == MP_METERS && hn_now_ms() - t0 > 50)
			break;
	*t1 = mp_tx_bytes(m, "t1");
	*t2 = mp_tx_bytes(m, "t2");
	ASSERT_GE(*t1, 0);
	ASSERT_GE(*t2, 0);
}

int main(void)
{
	setvbuf(stdout, NULL, _IONBF, 0);
	hn_setup(&net, 2);
	struct mp *m = mp_create(0, net.dir);
	const char *conf = hn_write_config(&net, mp_port(m), NULL);

	/* An agent whose key the market does not know gets no service, and says why. */
	struct tp_keypair stranger;
	char set[256];
	ASSERT_OK(tp_keypair_generate(&stranger));
	ASSERT_OK(tp_key_save(net.dir, "stranger", &stranger, true));
	snprintf(set, sizeof(set), "agent.key=%s/stranger.key", net.dir);
	hn_start_agent(&net, conf, set);
	ASSERT_TRUE(!mp_wait(m, MP_REGISTER, 3000));
	hn_stop_agent(&net, SIGTERM);
	if (hn_sh("grep -q \"refused this host's CURVE key\" %s/agent.log", net.dir) != 0)
		fail_with_log("the refused agent did not say why");
	ASSERT_EQ(mp_registrations(m), 0);

	hn_start_agent(&net, conf, NULL);
	if (!mp_wait(m, MP_REGISTER, 10000))
		fail_with_log("the agent did not register");
	const Raas__HostRegister *reg = mp_last_register(m);
	ASSERT_EQ(reg->n_enforced, 0);
	bool bw = false;
	for (size_t i = 0; i < reg->n_capacity; i++)
		if (reg->capacity[i]->resource == BW) {
			bw = true;
			ASSERT_EQ(reg->capacity[i]->available, true);
			ASSERT_EQ(reg->capacity[i]->quantity, 1000);
		}
	ASSERT_TRUE(bw);
	hn_start_servers(&net);

	int64_t ms = allocate(m, 1, 50, 200);
	printf("round 1 (50, 200 Mbit/s) in force after %lld ms\n", (long long)ms);
	int64_t m1a, m2a, m1b, m2b;
	fresh_meters(m, &m1a, &m2a);
	uint64_t c1a = hn_tx_bytes(&net, 0), c2a = hn_tx_bytes(&net, 1);
	measure(50, 200);
	uint64_t c1b = hn_tx_bytes(&net, 0), c2b = hn_tx_bytes(&net, 1);
	fresh_meters(m, &m1b, &m2b);
	double d1 = (double)(m1b - m1a), d2 = (double)(m2b - m2a);
	double k1 = (double)(c1b - c1a), k2 = (double)(c2b - c2a);
	printf("meters %.0f and %.0f bytes; interface counters %.0f and %.0f bytes\n", d1, d2, k1,
	       k2);
	ASSERT_NEAR(d1, k1, 0.02 * k1);
	ASSERT_NEAR(d2, k2, 0.02 * k2);

	/* A new allocation: in the kernel within two rounds, without re-creating classes. */
	uint64_t before;
	hn_class_rate(0, &before);
	ms = allocate(m, 2, 200, 50);
	printf("round 2 (200, 50 Mbit/s) in force after %lld ms\n", (long long)ms);
	uint64_t after;
	hn_class_rate(0, &after);
	ASSERT_GE(after, before); /* the class was changed in place: counters carried on */
	measure(200, 50);

	hn_stop_agent(&net, SIGTERM);
	mp_destroy(m);
	return 0;
}
