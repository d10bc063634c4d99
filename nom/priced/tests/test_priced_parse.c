/* test_priced_parse.c: nom-priced's parsers and checks: CPU lists, the CPUs a cores holding
 * maps to (from a cpuset directory or the process's affinity), subscriptions, and config
 * errors reported at file:line: key. */
#include <errno.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "common/error.h"
#include "priced.h"
#include "test.h"

static int popcount(const uint64_t *m)
{
	int n = 0;
	for (int i = 0; i < BB_CPU_WORDS; i++)
		n += __builtin_popcountll(m[i]);
	return n;
}

static void test_cpulist(void)
{
	uint64_t m[BB_CPU_WORDS], out[BB_CPU_WORDS];
	const char *t = "0-3,8,10-11\n";

	ASSERT_OK(priced_cpulist_parse(t, strlen(t), m));
	ASSERT_EQ(m[0], 0xd0f);
	ASSERT_EQ(popcount(m), 7);
	ASSERT_OK(priced_cpulist_parse("", 0, m));
	ASSERT_EQ(popcount(m), 0);
	ASSERT_OK(priced_cpulist_parse("\n", 1, m));
	ASSERT_OK(priced_cpulist_parse("1023", 4, m));
	ASSERT_EQ(m[15], UINT64_C(1) << 63);
	ASSERT_OK(priced_cpulist_parse("64-65", 5, m));
	ASSERT_EQ(m[1], 3);
	ASSERT_EQ(priced_cpulist_parse("1024", 4, m), -RAAS_EPARSE);
	ASSERT_EQ(priced_cpulist_parse("5-2", 3, m), -RAAS_EPARSE);
	ASSERT_EQ(priced_cpulist_parse("1,", 2, m), -RAAS_EPARSE);
	ASSERT_EQ(priced_cpulist_parse("a", 1, m), -RAAS_EPARSE);
	ASSERT_EQ(priced_cpulist_parse("1-", 2, m), -RAAS_EPARSE);
	ASSERT_EQ(priced_cpulist_parse("99999999999", 11, m), -RAAS_EPARSE);

	/* The lowest CPUs of the set, as many as held. */
	ASSERT_OK(priced_cpulist_parse(t, strlen(t), m));
	ASSERT_EQ(priced_cpus_pick(m, 2, out), 2);
	ASSERT_EQ(out[0], 0x3);
	ASSERT_EQ(priced_cpus_pick(m, 5, out), 5);
	ASSERT_EQ(out[0], 0x10f);
	ASSERT_EQ(priced_cpus_pick(m, 100, out), 7);
	ASSERT_EQ(out[0], 0xd0f);
	ASSERT_EQ(priced_cpus_pick(m, 0, out), 0);
	ASSERT_EQ(popcount(out), 0);
}

static void test_cpus_available(void)
{
	char dir[] = "/tmp/nomrt-cpuset-XXXXXX";
	char path[128];
	uint64_t m[BB_CPU_WORDS];

	ASSERT_TRUE(mkdtemp(dir) != NULL);
	ASSERT_EQ(priced_cpus_available(dir, m), -ENOENT);
	snprintf(path, sizeof(path), "%s/cpuset.cpus", dir);
	FILE *f = fopen(path, "w");
	fputs("0-1\n", f);
	fclose(f);
	ASSERT_OK(priced_cpus_available(dir, m));
	ASSERT_EQ(m[0], 3);
	/* v1's effective_cpus wins over cpus (what the kernel actually allows). */
	snprintf(path, sizeof(path), "%s/cpuset.effective_cpus", dir);
	f = fopen(path, "w");
	fputs("1\n", f);
	fclose(f);
	ASSERT_OK(priced_cpus_available(dir, m));
	ASSERT_EQ(m[0], 2);
	f = fopen(path, "w");
	fputs("garbage\n", f);
	fclose(f);
	ASSERT_EQ(priced_cpus_available(dir, m), -RAAS_EPARSE);
	unlink(path);
	snprintf(path, sizeof(path), "%s/cpuset.cpus", dir);
	unlink(path);
	rmdir(dir);

	/* Without a cpuset: this process's affinity. */
	cpu_set_t set;
	ASSERT_OK(sched_getaffinity(0, sizeof(set), &set));
	ASSERT_OK(priced_cpus_available("", m));
	ASSERT_EQ(popcount(m), CPU_COUNT(&set));
}

static void test_subs(void)
{
	struct priced_sub s[4];
	char why[200];

	ASSERT_EQ(priced_subs_parse("bandwidth/h1 cores/*,memory/h-2  bandwidth/h1", s, 4, why,
				    sizeof(why)),
		  3);
	ASSERT_EQ(s[0].resource, BB_RES_BANDWIDTH);
	ASSERT_STR_EQ(s[0].host, "h1");
	ASSERT_STR_EQ(s[1].host, "*");
	ASSERT_EQ(s[2].resource, BB_RES_MEMORY);
	ASSERT_EQ(priced_subs_parse("", s, 4, why, sizeof(why)), 0);
	ASSERT_EQ(priced_subs_parse("bandwidth", s, 4, why, sizeof(why)), -RAAS_EPARSE);
	ASSERT_STR_CONTAINS(why, "'bandwidth' is not resource/host");
	ASSERT_EQ(priced_subs_parse("cpu/h1", s, 4, why, sizeof(why)), -RAAS_EPARSE);
	ASSERT_STR_CONTAINS(why, "'cpu' is not a resource");
	ASSERT_EQ(priced_subs_parse("cores/h1/x", s, 4, why, sizeof(why)), -RAAS_EPARSE);
	ASSERT_EQ(priced_subs_parse("a/1 b/2", s, 4, why, sizeof(why)), -RAAS_EPARSE);
	ASSERT_EQ(priced_subs_parse("llc/a llc/b llc/c llc/d llc/e", s, 4, why, sizeof(why)),
		  -RAAS_EPARSE);
	ASSERT_STR_CONTAINS(why, "more than 4");
}

static void test_config(void)
{
	char path[] = "/tmp/nomrt-priced-XXXXXX";
	int fd = mkstemp(path);
	struct priced_config c;

	ASSERT_GE(fd, 0);
	const char *text = "[priced]\n"
			   "instance = alice-1\n"
			   "tenant_key = /k/alice.key\n"
			   "market_key = /k/market.pub\n"
			   "subscribe = bandwidth/h1\n";
	ASSERT_EQ(write(fd, text, strlen(text)), (ssize_t)strlen(text));
	close(fd);
	ASSERT_OK(priced_config_load(&c, path, NULL, 0));
	ASSERT_STR_EQ(c.instance, "alice-1");
	ASSERT_STR_EQ(c.api, "ipc:///tmp/nom.alice-1.sock");
	ASSERT_EQ(c.board_mode, 0640);
	ASSERT_EQ(c.api_mode, 0660);
	ASSERT_EQ(c.ping_interval_ns, NS_PER_S);
	ASSERT_EQ(c.request_timeout_ns, 4 * NS_PER_S);

	char *over[] = {"priced.api=ipc:///tmp/x.sock", "priced.board_mode=0600"};
	ASSERT_OK(priced_config_load(&c, path, over, 2));
	ASSERT_STR_EQ(c.api, "ipc:///tmp/x.sock");
	ASSERT_EQ(c.board_mode, 0600);

	/* Where the instance runs (for nom-run, on the board): absolute directories, a netns
	 * name or an absolute path. */
	char *place[] = {"priced.cpuset=/sys/fs/cgroup/cpuset/raas/alice",
			 "priced.memory_cgroup=/sys/fs/cgroup/memory/raas/alice",
			 "priced.netns=alice-ns"};
	ASSERT_OK(priced_config_load(&c, path, place, 3));
	ASSERT_STR_EQ(c.cpuset, "/sys/fs/cgroup/cpuset/raas/alice");
	ASSERT_STR_EQ(c.memory_cgroup, "/sys/fs/cgroup/memory/raas/alice");
	ASSERT_STR_EQ(c.netns, "alice-ns");
	char *path_ns[] = {"priced.netns=/proc/1/ns/net"};
	ASSERT_OK(priced_config_load(&c, path, path_ns, 1));
	ASSERT_STR_EQ(c.netns, "/proc/1/ns/net");

	/* Bad values are refused (the message, on stderr, names file:line: key). */
	char *bad[][1] = {{"priced.api=tcp://127.0.0.1:5"}, {"priced.instance=a/b"},
			  {"priced.memory_cgroup=raas/alice"}, {"priced.cpuset=cpuset/alice"},
			  {"priced.netns=a/b"}, {"priced.netns=.."},
			  {"priced.subscribe=cpu/h1"}, {"priced.board_mode=999"},
			  {"priced.stale_after=3"}, {"priced.nonsense=1"}, {"priced.ping_timeout=1ms"}};
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		ASSERT_EQ(priced_config_load(&c, path, bad[i], 1), -RAAS_ECONFIG);
	char *missing[] = {"priced.tenant_key="};
	ASSERT_OK(priced_config_load(&c, path, missing, 1)); /* empty is a value; checked at use */
	unlink(path);
	ASSERT_EQ(priced_config_load(&c, path, NULL, 0), -RAAS_ECONFIG);
}

int main(void)
{
	test_cpulist();
	test_cpus_available();
	test_subs();
	test_config();
	printf("test_priced_parse: ok\n");
	return 0;
}
