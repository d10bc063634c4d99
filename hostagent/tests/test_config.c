/* test_config.c: raas-hostagentd's configuration: a good file's values, and each kind of
 * mistake refused with the file, line and key named. */
#include <arpa/inet.h>
#include <stdio.h>
#include <string.h>

#include "common/error.h"
#include "hostagent/agent_config.h"
#include "test.h"

static const char *good =
	"[agent]\nhost = h1\nmarket = tcp://10.0.0.1:7103\nheartbeat = 250ms\n"
	"market_public_key = /k/market.pub\nkey = /k/h1.key\n"
	"[capacity]\ncores = 2\ncpus = 2-3\nidle_cpus = 0\nmemory_mib = 2048\n"
	"bandwidth_mbit = 1000\nllc_ways = 11\nidle_cbm = 0x400\n"
	"[backends]\ncores = cgroup\nmemory = cgroup\nbandwidth = tc\nllc = resctrl\n"
	"[tc]\nhandle = 7\n"
	"[tenant.alice]\ninterface = eth0\nclass = 0x10\nsrc = 10.1.0.0/16\n"
	"[tenant.bob]\ninterface = eth0\nclass = 32\nsrc = 10.2.0.7\ncgroup = vms/bob\n";

static void expect_error(const char *text, const char *where)
{
	struct ha_config *c;
	struct cfg_error err;
	char buf[1024];
	int ret = ha_config_load_string("agent.ini", text, &c, &err);
	if (ret == 0)
		TEST_FAIL("accepted a config that should fail at %s", where);
	cfg_error_format(&err, buf, sizeof(buf));
	ASSERT_STR_CONTAINS(buf, where);
}

int main(void)
{
	struct ha_config *c;
	struct cfg_error err;
	char buf[1024];

	if (ha_config_load_string("agent.ini", good, &c, &err))
		TEST_FAIL("%s", cfg_error_format(&err, buf, sizeof(buf)));
	ASSERT_STR_EQ(c->host, "h1");
	ASSERT_STR_EQ(c->market, "tcp://10.0.0.1:7103");
	ASSERT_EQ(c->heartbeat_ns, 250000000);
	ASSERT_EQ(c->market_timeout_ns, 5000000000);
	ASSERT_STR_EQ(c->key, "/k/h1.key");
	ASSERT_EQ(c->capacity[ENF_CORES], 2);
	ASSERT_EQ(c->capacity[ENF_LLC], 11);
	ASSERT_STR_EQ(enf_cpuset_format(&c->cpus, buf, sizeof(buf)), "2-3");
	ASSERT_STR_EQ(enf_cpuset_format(&c->idle_cpus, buf, sizeof(buf)), "0");
	ASSERT_EQ(c->idle_cbm, 0x400);
	ASSERT_STR_EQ(c->backend[ENF_BANDWIDTH], "tc");
	ASSERT_EQ(c->ntargets, 2);
	ASSERT_STR_EQ(c->targets[0].tenant, "alice");
	ASSERT_EQ(c->targets[0].tc_class, 0x10);
	ASSERT_EQ(c->targets[0].src_prefix, 16);
	ASSERT_EQ(c->targets[0].src_addr, inet_addr("10.1.0.0"));
	ASSERT_STR_EQ(c->targets[0].cgroup, "alice");
	ASSERT_STR_EQ(c->targets[0].resctrl_group, "raas-alice");
	ASSERT_EQ(c->targets[1].tc_class, 32);
	ASSERT_EQ(c->targets[1].src_prefix, 32);
	ASSERT_STR_EQ(c->targets[1].cgroup, "vms/bob");
	ASSERT_EQ(c->targets[1].vf, -1);
	ha_config_destroy(c);

	/* Defaults: CPUs 0..cores-1, the idle CPU the first sold. */
	if (ha_config_load_string("agent.ini", "[agent]\nhost = h\n[capacity]\ncores = 3\n", &c,
				  &err))
		TEST_FAIL("%s", cfg_error_format(&err, buf, sizeof(buf)));
	ASSERT_STR_EQ(enf_cpuset_format(&c->cpus, buf, sizeof(buf)), "0-2");
	ASSERT_STR_EQ(enf_cpuset_format(&c->idle_cpus, buf, sizeof(buf)), "0");
	ASSERT_EQ(c->backend[ENF_CORES], NULL);
	ha_config_destroy(c);

	expect_error("[agent]\nhost = h\nheartbeet = 1s\n", "agent.ini:3: agent.heartbeet");
	expect_error("[agent]\nhost = h\n[tc]\nhandel = 2\n", "did you mean");
	expect_error("[agent]\nhost = h\n[backends]\nbandwidth = tcc\n",
		     "backends.bandwidth: no enforcement backend named \"tcc\"");
	expect_error("[agent]\nhost = h\n[backends]\nllc = tc\n", "backend tc cannot enforce llc");
	expect_error("[agent]\nhost = h\n[backends]\nbandwidth = tc\n[tenant.a]\ninterface = e\n",
		     "the tc backend needs interface and class");
	expect_error("[agent]\nhost = h\n[backends]\nbandwidth = tc\n[tenant.a]\ninterface = e\n"
		     "class = 0x1000\n", "agent.ini:7: tenant.a.class");
	expect_error("[agent]\nhost = h\n[backends]\nbandwidth = tc\n[tenant.a]\ninterface = e\n"
		     "class = 1\nsrc = 10.0.0.300\n", "tenant.a.src");
	expect_error("[agent]\nhost = h\n[backends]\nbandwidth = tc\n[tenant.a]\ninterface = e\n"
		     "class = 1\nsrc = 10.0.0.1\n[tenant.b]\ninterface = e\nclass = 1\n"
		     "src = 10.0.0.2\n", "class 0x1 on e is also tenant a's");
	expect_error("[agent]\nhost = h\n[backends]\nbandwidth = tc\n[tenant.a]\ninterface = e\n"
		     "class = 1\n[tenant.b]\ninterface = e\nclass = 2\n", "neither has src");
	expect_error("[agent]\nhost = h\n[backends]\nbandwidth = sriov\n[tenant.a]\npf = e\n",
		     "sriov backend needs pf and vf");
	expect_error("[agent]\nhost = h\n[capacity]\ncores = 2\ncpus = 0-2\n",
		     "3 CPUs listed but cores = 2");
	expect_error("[agent]\nhost = h\n[capacity]\nidle_cbm = 0x5\n", "capacity.idle_cbm");
	expect_error("[agent]\nhost = h\nheartbeat = 5s\nmarket_timeout = 2s\n",
		     "market_timeout must be longer than heartbeat");
	expect_error("[agent]\nhost = h\n[capacity]\nmemory_mib = -5\n", "capacity.memory_mib");
	expect_error("[agent]\nmarket = tcp://x:1\n", "agent.host");
	/* Ranges and lengths from the binding table (common/config.h), at file:line. */
	expect_error("[agent]\nhost = h\nheartbeat = 0s\n",
		     "agent.ini:3: agent.heartbeat: 0ns is outside 1ns..1d");
	expect_error("[agent]\nhost = h\n[capacity]\nllc_ways = 65\n",
		     "agent.ini:4: capacity.llc_ways: 65 is outside 0..64");
	expect_error("[agent]\nhost = h\n[capacity]\ncores = 1025\n",
		     "capacity.cores: 1025 is outside 0..1024");
	expect_error("[agent]\nhost = "
		     "h123456789012345678901234567890123456789012345678901234567890123\n",
		     "agent.host: longer than 63 characters");
	expect_error("[agent]\nhost = h\nreconnect_min = 2s\nreconnect_max = 1s\n",
		     "reconnect_max is shorter than reconnect_min");
	return 0;
}
