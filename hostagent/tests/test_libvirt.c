/* test_libvirt.c: the libvirt backend against libvirt's test:///default driver: interface
 * bandwidth parameters (KB/s), balloon memory (KiB) and live vCPUs round-trip through the
 * real libvirt API, and through the agent core. (The built-in domain "test" has 2 vCPUs,
 * 8 GiB maximum memory and the interface testnet0.) */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/log.h"
#include "hostagent/agent.h"
#include "agent_util.h"
#include "backend_util.h"

static const char *conf_text =
	"[agent]\nhost = h\n[capacity]\ncores = 2\nmemory_mib = 8192\nbandwidth_mbit = 1000\n"
	"[backends]\ncores = libvirt\nmemory = libvirt\nbandwidth = libvirt\n"
	"[libvirt]\nuri = test:///default\nburst_kb = 32\nmemory_floor_mib = 256\n"
	"[tenant.t1]\ndomain = test\nvif = testnet0\n";

static void test_backend(void)
{
	struct ha_config *c = load_config(conf_text);
	struct enf_handle *h = open_backend("libvirt", c);
	struct enf_error err;
	struct enf_setting s, r;
	const struct enf_target *t = &c->targets[0];

	ASSERT_OK(enf_probe(h, ENF_BANDWIDTH, &err));
	memset(&s, 0, sizeof(s));
	/* Bandwidth: 80 Mbit/s = 10,000 KB/s outbound. */
	s.quantity = 80;
	ASSERT_OK(enf_apply(h, ENF_BANDWIDTH, t, &s, &err));
	ASSERT_OK(enf_read(h, ENF_BANDWIDTH, t, &r, &err));
	ASSERT_EQ(r.quantity, 80);
	/* 0 Mbit/s is the floor (1 KB/s), never "unlimited". */
	s.quantity = 0;
	ASSERT_OK(enf_apply(h, ENF_BANDWIDTH, t, &s, &err));
	ASSERT_OK(enf_read(h, ENF_BANDWIDTH, t, &r, &err));
	ASSERT_EQ(r.quantity, 0);
	ASSERT_OK(enf_revert(h, ENF_BANDWIDTH, t, &err));
	ASSERT_EQ(enf_read(h, ENF_BANDWIDTH, t, &r, &err), -ENOENT);

	/* Memory: balloon to 1 GiB (1048576 KiB). */
	s.quantity = 1024;
	ASSERT_OK(enf_apply(h, ENF_MEMORY, t, &s, &err));
	ASSERT_OK(enf_read(h, ENF_MEMORY, t, &r, &err));
	ASSERT_EQ(r.quantity, 1024);
	s.quantity = 0;
	ASSERT_OK(enf_apply(h, ENF_MEMORY, t, &s, &err));
	ASSERT_OK(enf_read(h, ENF_MEMORY, t, &r, &err));
	ASSERT_EQ(r.quantity, 0); /* the floor, 256 MiB */
	ASSERT_OK(enf_revert(h, ENF_MEMORY, t, &err));
	ASSERT_OK(enf_read(h, ENF_MEMORY, t, &r, &err));
	ASSERT_EQ(r.quantity, 8192);

	/* vCPUs: 1 then back to 2. */
	s.quantity = 1;
	enf_cpuset_set(&s.cpus, 0);
	ASSERT_OK(enf_apply(h, ENF_CORES, t, &s, &err));
	ASSERT_OK(enf_read(h, ENF_CORES, t, &r, &err));
	ASSERT_EQ(r.quantity, 1);
	s.quantity = 2;
	enf_cpuset_set(&s.cpus, 1);
	ASSERT_OK(enf_apply(h, ENF_CORES, t, &s, &err));
	ASSERT_OK(enf_read(h, ENF_CORES, t, &r, &err));
	ASSERT_EQ(r.quantity, 2);
	/* More than the domain's maximum: libvirt refuses, the error says so. */
	s.quantity = 3;
	enf_cpuset_set(&s.cpus, 2);
	ASSERT_NE(enf_apply(h, ENF_CORES, t, &s, &err), 0);
	ASSERT_STR_CONTAINS(err.message, "libvirt: setting cores of test to 3");

	/* Meters: interface stats and CPU time exist. */
	struct enf_meter m;
	ASSERT_OK(enf_meter(h, ENF_BANDWIDTH, t, 1, &m, &err));
	ASSERT_TRUE(m.has_tx);
	ASSERT_OK(enf_meter(h, ENF_CORES, t, 1, &m, &err));
	ASSERT_TRUE(m.has_cpu);

	/* An unknown domain: -ENOENT for reads, a clear error for applies. */
	struct enf_target ghost = *t;
	ghost.domain = "no-such-domain";
	ASSERT_EQ(enf_read(h, ENF_MEMORY, &ghost, &r, &err), -ENOENT);
	s.quantity = 10;
	ASSERT_EQ(enf_apply(h, ENF_MEMORY, &ghost, &s, &err), -ENOENT);
	ASSERT_STR_CONTAINS(err.message, "no-such-domain");
	enf_close(h);
	ha_config_destroy(c);
}

static void test_agent(void)
{
	struct ha_config *c = load_config(conf_text);
	struct ha_agent *a;
	char why[256];
	ASSERT_OK(ha_agent_create(c, &clk_real, &a, why, sizeof(why)));
	struct alloc al[] = {{"t1", RAAS__RESOURCE__RESOURCE_BANDWIDTH, 200},
			     {"t1", RAAS__RESOURCE__RESOURCE_MEMORY, 2048},
			     {"t1", RAAS__RESOURCE__RESOURCE_CORES, 1}};
	uint8_t *buf, *reply;
	size_t len, reply_len;
	enum ha_msg_kind kind;
	set_bytes(1, "h", al, 3, &buf, &len);
	ASSERT_OK(ha_agent_receive(a, buf, len, 1, &kind, NULL, &reply, &reply_len));
	free(buf);
	Raas__Envelope *e = decode(reply, reply_len);
	free(reply);
	if (!e->allocation_ack->complete)
		TEST_FAIL("not applied: %s", e->allocation_ack->failures[0]->message);
	wire_free(e);
	struct enf_setting s;
	struct enf_error err;
	ASSERT_OK(enf_read(ha_agent_backend(a, ENF_BANDWIDTH), ENF_BANDWIDTH, &c->targets[0], &s,
			   &err));
	ASSERT_EQ(s.quantity, 200);
	ASSERT_OK(enf_read(ha_agent_backend(a, ENF_MEMORY), ENF_MEMORY, &c->targets[0], &s, &err));
	ASSERT_EQ(s.quantity, 2048);
	ASSERT_OK(enf_read(ha_agent_backend(a, ENF_CORES), ENF_CORES, &c->targets[0], &s, &err));
	ASSERT_EQ(s.quantity, 1);
	ha_agent_destroy(a);
	ha_config_destroy(c);
}

int main(void)
{
	log_init("test_libvirt", LOG_ERROR, false);
	test_backend();
	test_agent();
	return 0;
}
