/* test_hostagent_faults.c: raas-hostagentd under faults, with the tc backend on a host in
 * network namespaces and a scripted CURVE market (market_peer.h).
 *
 * 1. The market dies for 30 s: the tenants' rates stay enforced (kernel classes unchanged,
 *    traffic measured within 10% during the outage), the agent re-registers when the market
 *    is back, reporting what it enforces.
 * 2. The agent is killed (SIGKILL) and restarted while tenants send: no one-second interval
 *    of either tenant's traffic leaves 10% of its allocation, and the classes are never
 *    re-created (their byte counters keep growing), and the meters the new agent reports
 *    carry on from the old agent's.
 * 3. A backend call fails mid-apply (a tenant's interface has vanished): the previous
 *    allocation stays in force for everyone and the ack tells the market which tenant,
 *    resource and errno. */
#include <errno.h>
#include <math.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "hostnet.h"
#include "market_peer.h"
#include "test.h"

#define BW RAAS__RESOURCE__RESOURCE_BANDWIDTH

static struct hostnet net;

static void fail_with_log(const char *what)
{
	hn_dump_log(&net);
	TEST_FAIL("%s", what);
}

static const Raas__AllocationAck *send_round(struct mp *m, uint64_t r, int64_t q1, int64_t q2,
					     int64_t q3)
{
	struct alloc al[] = {{"t1", BW, q1}, {"t2", BW, q2}, {"t3", BW, q3}};
	mp_send_set(m, r, "nshost", al, 3);
	int64_t end = hn_now_ms() + 5000;
	while (hn_now_ms() < end)
		if (mp_poll(m, 100) == MP_ACK && mp_last_ack(m)->round == r)
			return mp_last_ack(m);
	fail_with_log("no ack");
	return NULL;
}

static void expect_rates(int64_t q1, int64_t q2)
{
	uint64_t r1 = hn_class_rate(0, NULL), r2 = hn_class_rate(1, NULL);
	if (r1 != (uint64_t)q1 * 1000000 || r2 != (uint64_t)q2 * 1000000) {
		fprintf(stderr, "kernel: %llu and %llu bit/s, expected %lld and %lld Mbit/s\n",
			(unsigned long long)r1, (unsigned long long)r2, (long long)q1,
			(long long)q2);
		fail_with_log("enforced rates changed");
	}
}

static void measure(int64_t q1, int64_t q2, int secs)
{
	int tenants[] = {0, 1};
	double mbit[2];
	hn_iperf(&net, tenants, 2, secs, 1, mbit, NULL, NULL);
	printf("  measured %.1f and %.1f Mbit/s (allocated %lld and %lld)\n", mbit[0], mbit[1],
	       (long long)q1, (long long)q2);
	ASSERT_NEAR(mbit[0], (double)q1, 0.1 * (double)q1);
	ASSERT_NEAR(mbit[1], (double)q2, 0.1 * (double)q2);
}

static void market_outage(struct mp *m)
{
	printf("market killed for 30 s\n");
	mp_stop(m);
	int64_t t0 = hn_now_ms();
	expect_rates(50, 200);
	measure(50, 200, 8);
	while (hn_now_ms() - t0 < 30000) {
		expect_rates(50, 200);
		if (waitpid(net.agent, NULL, WNOHANG) != 0)
			fail_with_log("the agent exited while the market was away");
		usleep(500000);
	}
	int before = mp_registrations(m);
	mp_restart(m);
	if (!mp_wait(m, MP_REGISTER, 10000))
		fail_with_log("the agent did not re-register after the market came back");
	printf("  re-registered %lld ms after the market came back\n",
	       (long long)(hn_now_ms() - t0 - 30000));
	ASSERT_EQ(mp_registrations(m), before + 1);
	const Raas__HostRegister *reg = mp_last_register(m);
	int64_t seen[3] = {-1, -1, -1};
	for (size_t i = 0; i < reg->n_enforced; i++) {
		const Raas__Allocation *a = reg->enforced[i];
		int t = a->tenant[1] - '1';
		if (a->resource == BW && t >= 0 && t < 3)
			seen[t] = a->quantity;
	}
	ASSERT_EQ(seen[0], 50);
	ASSERT_EQ(seen[1], 200);
	ASSERT_EQ(seen[2], 10);
	const Raas__AllocationAck *ack = send_round(m, 2, 50, 200, 10);
	ASSERT_TRUE(ack->complete);
	expect_rates(50, 200);
}

static void agent_restart(struct mp *m, const char *conf)
{
	printf("agent killed and restarted under traffic\n");
	char path[256];
	snprintf(path, sizeof(path), "%s/iperf.out", net.dir);
	uint64_t bytes_before, bytes_after;
	hn_class_rate(1, &bytes_before);
	pid_t child = fork();
	if (child == 0) {
		hn_child();
		int tenants[] = {0, 1};
		double mbit[2], iv[2][64];
		int nint[2];
		hn_iperf(&net, tenants, 2, 10, 1, mbit, iv, nint);
		FILE *f = fopen(path, "w");
		for (int k = 0; f && k < 2; k++) {
			for (int i = 0; i < nint[k]; i++)
				fprintf(f, "%d %.3f\n", k, iv[k][i]);
		}
		if (f)
			fclose(f);
		_exit(0);
	}
	/* Let the old agent report meters for a while (the market answers its heartbeats). */
	for (int64_t t0 = hn_now_ms(); hn_now_ms() - t0 < 3000;)
		mp_poll(m, 50);
	int64_t meter_before = mp_tx_bytes(m, "t2");
	ASSERT_GT(meter_before, 0);
	hn_stop_agent(&net, SIGKILL);
	int64_t killed = hn_now_ms();
	usleep(500000);
	hn_start_agent(&net, conf, NULL);
	if (!mp_wait(m, MP_REGISTER, 10000))
		fail_with_log("the restarted agent did not register");
	printf("  restarted agent registered %lld ms after the kill\n",
	       (long long)(hn_now_ms() - killed));
	const Raas__AllocationAck *ack = send_round(m, 3, 50, 200, 10);
	ASSERT_TRUE(ack->complete);
	/* Meters carry on from the kernel's counters: no step back for the market to bill. */
	ASSERT_TRUE(mp_wait(m, MP_METERS, 3000));
	printf("  t2 meter %lld bytes before the kill, %lld after the restart\n",
	       (long long)meter_before, (long long)mp_tx_bytes(m, "t2"));
	ASSERT_GT(mp_tx_bytes(m, "t2"), meter_before);
	int st;
	waitpid(child, &st, 0);
	ASSERT_TRUE(WIFEXITED(st) && WEXITSTATUS(st) == 0);
	FILE *f = fopen(path, "r");
	ASSERT_TRUE(f != NULL);
	int k, n[2] = {0, 0};
	double v;
	const double want[2] = {50, 200};
	while (fscanf(f, "%d %lf", &k, &v) == 2) {
		n[k]++;
		if (fabs(v - want[k]) > 0.1 * want[k]) {
			fclose(f);
			fprintf(stderr, "tenant t%d: a 1-s interval at %.1f Mbit/s (allocated %.0f)\n",
				k + 1, v, want[k]);
			fail_with_log("a tenant lost its rate across the agent restart");
		}
	}
	fclose(f);
	printf("  %d and %d one-second intervals, all within 10%%\n", n[0], n[1]);
	ASSERT_GE(n[0], 8);
	ASSERT_GE(n[1], 8);
	hn_class_rate(1, &bytes_after);
	ASSERT_GT(bytes_after, bytes_before); /* the class was never re-created */
	expect_rates(50, 200);
}

static void backend_failure(struct mp *m)
{
	printf("backend failure mid-apply (t3's interface vanished)\n");
	ASSERT_OK(hn_sh("ip link del up1"));
	/* t1 shrinks (applied first), t2 grows, then t3 fails: all rolled back. */
	const Raas__AllocationAck *ack = send_round(m, 4, 20, 230, 20);
	ASSERT_EQ(ack->complete, false);
	ASSERT_EQ(ack->n_failures, 1);
	ASSERT_STR_EQ(ack->failures[0]->tenant, "t3");
	ASSERT_EQ(ack->failures[0]->resource, BW);
	ASSERT_EQ(ack->failures[0]->errno_value, ENODEV);
	ASSERT_STR_CONTAINS(ack->failures[0]->message, "up1");
	printf("  market told: %s\n", ack->failures[0]->message);
	expect_rates(50, 200);
	measure(50, 200, 4);
}

int main(void)
{
	setvbuf(stdout, NULL, _IONBF, 0);
	hn_setup(&net, 2);
	/* A third tenant on its own interface, to make one backend call fail later. */
	ASSERT_OK(hn_sh("ip link add up1 type veth peer name up1p && ip link set up1 up"));
	struct mp *m = mp_create(0, net.dir);
	const char *conf = hn_write_config(
		&net, mp_port(m), "[tenant.t3]\ninterface = up1\nclass = 0x30\nsrc = 10.201.9.2\n");
	hn_start_agent(&net, conf, NULL);
	if (!mp_wait(m, MP_REGISTER, 10000))
		fail_with_log("the agent did not register");
	hn_start_servers(&net);
	ASSERT_TRUE(send_round(m, 1, 50, 200, 10)->complete);
	expect_rates(50, 200);

	market_outage(m);
	agent_restart(m, conf);
	backend_failure(m);

	hn_stop_agent(&net, SIGTERM);
	/* Stopping the agent leaves enforcement in force (fail-static). */
	expect_rates(50, 200);
	mp_destroy(m);
	return 0;
}
