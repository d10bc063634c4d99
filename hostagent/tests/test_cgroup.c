/* test_cgroup.c: the cgroup backend. v1 for real (as root): a tenant process's allowed CPUs
 * and memory limit follow the allocations the agent applies, read back from the kernel. v2
 * against a temporary tree (this machine's v2 hierarchy has no controllers): the files
 * written and read back. Test groups live under this process's own cgroups. */
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "common/log.h"
#include "hostagent/agent.h"
#include "agent_util.h"
#include "backend_util.h"

#define CORES RAAS__RESOURCE__RESOURCE_CORES
#define MEM RAAS__RESOURCE__RESOURCE_MEMORY

static char mem_parent[512];
static char name[64];
static pid_t child = -1;

static void cleanup(void)
{
	char cmd[1400];
	if (child > 0) {
		kill(child, SIGKILL);
		waitpid(child, NULL, 0);
		child = -1;
	}
	/* Leaves first, then the parent group, in each hierarchy. */
	snprintf(cmd, sizeof(cmd),
		 "for d in /sys/fs/cgroup/cpuset/%s /sys/fs/cgroup/memory/%s/%s "
		 "/sys/fs/cgroup/cpuacct/%s; do [ -d $d ] || continue; "
		 "for t in $d/*/; do [ -d \"$t\" ] && rmdir \"$t\"; done; rmdir $d; done "
		 "2>/dev/null; true",
		 name, mem_parent, name, name);
	if (system(cmd) != 0)
		fprintf(stderr, "cleanup failed\n");
}

/* This process's memory cgroup, relative to the memory hierarchy ("" for the root). */
static void own_memory_cgroup(char *out, size_t len)
{
	char line[512];
	FILE *f = fopen("/proc/self/cgroup", "r");
	out[0] = '\0';
	while (f && fgets(line, sizeof(line), f)) {
		char *p = strstr(line, ":memory:");
		if (!p)
			continue;
		p += strlen(":memory:");
		p[strcspn(p, "\n")] = '\0';
		snprintf(out, len, "%s", p[0] == '/' ? p + 1 : p);
	}
	if (f)
		fclose(f);
}

static void join(const char *dir)
{
	char path[700], pid[32];
	snprintf(path, sizeof(path), "%s/cgroup.procs", dir);
	snprintf(pid, sizeof(pid), "%d\n", (int)child);
	write_file(path, pid);
}

static void cpus_allowed(char *out, size_t len)
{
	char path[64], buf[4096];
	snprintf(path, sizeof(path), "/proc/%d/status", (int)child);
	ASSERT_TRUE(read_file(path, buf, sizeof(buf)) > 0);
	char *p = strstr(buf, "Cpus_allowed_list:");
	ASSERT_TRUE(p != NULL);
	p += strlen("Cpus_allowed_list:");
	while (*p == ' ' || *p == '\t')
		p++;
	snprintf(out, len, "%.*s", (int)strcspn(p, "\n"), p);
}

static void apply(struct ha_agent *a, uint64_t round, const struct alloc *al, size_t n)
{
	uint8_t *buf, *reply;
	size_t len, reply_len;
	enum ha_msg_kind kind;
	set_bytes(round, "h", al, n, &buf, &len);
	ASSERT_OK(ha_agent_receive(a, buf, len, 1, &kind, NULL, &reply, &reply_len));
	free(buf);
	Raas__Envelope *e = decode(reply, reply_len);
	free(reply);
	if (!e->allocation_ack->complete)
		TEST_FAIL("round %llu not applied: %s", (unsigned long long)round,
			  e->allocation_ack->n_failures ? e->allocation_ack->failures[0]->message : "");
	wire_free(e);
}

static void test_v1(void)
{
	char text[2048], path[900], buf[256];
	struct stat st;

	if (geteuid() != 0)
		TEST_SKIP("cgroup v1 test needs root");
	if (stat("/sys/fs/cgroup/cpuset/cpuset.cpus", &st) ||
	    stat("/sys/fs/cgroup/memory/memory.limit_in_bytes", &st))
		TEST_SKIP("no cgroup v1 cpuset and memory hierarchies mounted");
	if (sysconf(_SC_NPROCESSORS_ONLN) < 2)
		TEST_SKIP("needs 2 CPUs");
	own_memory_cgroup(mem_parent, sizeof(mem_parent));
	snprintf(name, sizeof(name), "hostagent-%d", (int)getpid());
	atexit(cleanup);
	snprintf(text, sizeof(text),
		 "[agent]\nhost = h\n[capacity]\ncores = 2\ncpus = 0-1\nidle_cpus = 0\n"
		 "memory_mib = 1024\n[backends]\ncores = cgroup\nmemory = cgroup\n"
		 "[cgroup]\nversion = v1\ncpuset_parent = %s\nmemory_parent = %s%s%s\n"
		 "cpuacct_parent = %s\nmemory_floor_mib = 32\n"
		 "[tenant.t1]\ncgroup = t1\n[tenant.t2]\ncgroup = t2\n",
		 name, mem_parent, mem_parent[0] ? "/" : "", name, name);
	struct ha_config *c = load_config(text);
	struct ha_agent *a;
	char why[256];
	ASSERT_OK(ha_agent_create(c, &clk_real, &a, why, sizeof(why)));
	ASSERT_TRUE(ha_agent_available(a, ENF_CORES, NULL));
	ASSERT_TRUE(ha_agent_available(a, ENF_MEMORY, NULL));

	struct alloc r1[] = {{"t1", CORES, 1}, {"t2", CORES, 1}, {"t1", MEM, 64}, {"t2", MEM, 100}};
	apply(a, 1, r1, 4);
	/* The tenant's process joins its groups (its launcher's job; done here by hand). */
	child = fork();
	if (child == 0) {
		for (;;)
			pause();
	}
	snprintf(path, sizeof(path), "/sys/fs/cgroup/cpuset/%s/t1", name);
	join(path);
	snprintf(path, sizeof(path), "/sys/fs/cgroup/memory/%s%s%s/t1", mem_parent,
		 mem_parent[0] ? "/" : "", name);
	join(path);
	cpus_allowed(buf, sizeof(buf));
	ASSERT_STR_EQ(buf, "0"); /* t1 keeps the lowest free CPU, t2 the next */
	char mem_file[1000];
	snprintf(mem_file, sizeof(mem_file), "%s/memory.limit_in_bytes", path);
	ASSERT_TRUE(read_file(mem_file, buf, sizeof(buf)) > 0);
	ASSERT_EQ(strtoll(buf, NULL, 10), 64LL << 20);

	/* Round 2: t1 grows to both CPUs, t2 drops to 0 (idle CPU); memory 128 MiB. */
	struct alloc r2[] = {{"t1", CORES, 2}, {"t1", MEM, 128}, {"t2", MEM, 100}};
	apply(a, 2, r2, 3);
	cpus_allowed(buf, sizeof(buf));
	ASSERT_STR_EQ(buf, "0-1");
	ASSERT_TRUE(read_file(mem_file, buf, sizeof(buf)) > 0);
	ASSERT_EQ(strtoll(buf, NULL, 10), 128LL << 20);
	snprintf(path, sizeof(path), "/sys/fs/cgroup/cpuset/%s/t2/cpuset.cpus", name);
	ASSERT_TRUE(read_file(path, buf, sizeof(buf)) > 0);
	ASSERT_STR_EQ(buf, "0\n");

	/* Round 3: t1 back to 1 CPU, memory 0 -> the floor (32 MiB). */
	struct alloc r3[] = {{"t1", CORES, 1}, {"t2", CORES, 1}, {"t2", MEM, 100}};
	apply(a, 3, r3, 3);
	cpus_allowed(buf, sizeof(buf));
	ASSERT_STR_EQ(buf, "0");
	ASSERT_TRUE(read_file(mem_file, buf, sizeof(buf)) > 0);
	ASSERT_EQ(strtoll(buf, NULL, 10), 32LL << 20);

	/* A restarted agent reads the same back from the kernel. */
	ha_agent_destroy(a);
	ASSERT_OK(ha_agent_create(c, &clk_real, &a, why, sizeof(why)));
	struct enf_setting s;
	/* t1 runs on CPU 0, which is also the idle set: that reads back as 0 cores (the
	 * first set re-applies the same CPU list, a no-op for the kernel). */
	ASSERT_OK(ha_agent_enforced(a, 0, ENF_CORES, &s));
	ASSERT_EQ(s.quantity, 0);
	ASSERT_STR_EQ(enf_cpuset_format(&s.cpus, buf, sizeof(buf)), "0");
	ASSERT_OK(ha_agent_enforced(a, 1, ENF_CORES, &s));
	ASSERT_EQ(s.quantity, 1);
	ASSERT_STR_EQ(enf_cpuset_format(&s.cpus, buf, sizeof(buf)), "1");
	ASSERT_OK(ha_agent_enforced(a, 0, ENF_MEMORY, &s));
	ASSERT_EQ(s.quantity, 0);
	ASSERT_OK(ha_agent_enforced(a, 1, ENF_MEMORY, &s));
	ASSERT_EQ(s.quantity, 100);

	/* CPU meters from cpuacct exist for the tenants. */
	uint8_t *mb;
	size_t ml;
	ASSERT_OK(ha_agent_meter_msg(a, 7, &mb, &ml));
	Raas__Envelope *e = decode(mb, ml);
	free(mb);
	ASSERT_EQ(e->meters->n_meters, 2);
	wire_free(e);
	apply(a, 4, r3, 3);
	cpus_allowed(buf, sizeof(buf));
	ASSERT_STR_EQ(buf, "0");
	ha_agent_destroy(a);
	ha_config_destroy(c);
	cleanup();
}

static void test_v2_tree(void)
{
	char root[128], text[2048], path[512], buf[256];
	struct enf_error err;
	struct enf_setting s, r;

	snprintf(root, sizeof(root), "/tmp/hostagent-%d-cg2", (int)getpid());
	snprintf(path, sizeof(path), "rm -rf %s && mkdir -p %s", root, root);
	ASSERT_OK(system(path));
	snprintf(path, sizeof(path), "%s/cgroup.controllers", root);
	write_file(path, "cpuset cpu io memory pids\n");
	snprintf(text, sizeof(text),
		 "[agent]\nhost = h\n[capacity]\ncores = 2\nmemory_mib = 1024\n[backends]\n"
		 "cores = cgroup\nmemory = cgroup\n[cgroup]\nroot = %s\nparent = raas\n"
		 "[tenant.t1]\ncgroup = t1\n",
		 root);
	struct ha_config *c = load_config(text);
	struct enf_handle *h = open_backend("cgroup", c);
	ASSERT_OK(enf_probe(h, ENF_CORES, &err));
	ASSERT_OK(enf_probe(h, ENF_MEMORY, &err));
	memset(&s, 0, sizeof(s));
	s.quantity = 1;
	enf_cpuset_set(&s.cpus, 1);
	ASSERT_OK(enf_apply(h, ENF_CORES, &c->targets[0], &s, &err));
	snprintf(path, sizeof(path), "%s/raas/t1/cpuset.cpus", root);
	ASSERT_TRUE(read_file(path, buf, sizeof(buf)) > 0);
	ASSERT_STR_EQ(buf, "1");
	snprintf(path, sizeof(path), "%s/raas/cgroup.subtree_control", root);
	struct stat st;
	ASSERT_OK(stat(path, &st)); /* controllers enabled down the path */
	s.quantity = 256;
	ASSERT_OK(enf_apply(h, ENF_MEMORY, &c->targets[0], &s, &err));
	snprintf(path, sizeof(path), "%s/raas/t1/memory.max", root);
	ASSERT_TRUE(read_file(path, buf, sizeof(buf)) > 0);
	ASSERT_STR_EQ(buf, "268435456");
	ASSERT_OK(enf_read(h, ENF_MEMORY, &c->targets[0], &r, &err));
	ASSERT_EQ(r.quantity, 256);
	ASSERT_OK(enf_read(h, ENF_CORES, &c->targets[0], &r, &err));
	ASSERT_EQ(r.quantity, 1);
	ASSERT_TRUE(enf_cpuset_has(&r.cpus, 1));
	ASSERT_OK(enf_revert(h, ENF_MEMORY, &c->targets[0], &err));
	ASSERT_TRUE(read_file(path, buf, sizeof(buf)) > 0);
	ASSERT_STR_EQ(buf, "max");
	ASSERT_EQ(enf_read(h, ENF_MEMORY, &c->targets[0], &r, &err), -ENOENT);
	/* A v2 tree without the memory controller: probe says why. */
	snprintf(path, sizeof(path), "%s/cgroup.controllers", root);
	write_file(path, "cpu io\n");
	ASSERT_EQ(enf_probe(h, ENF_MEMORY, &err), -ENOTSUP);
	ASSERT_STR_CONTAINS(err.message, "no memory controller");
	enf_close(h);
	ha_config_destroy(c);
	snprintf(path, sizeof(path), "rm -rf %s", root);
	ASSERT_OK(system(path));
}

int main(void)
{
	log_init("test_cgroup", LOG_WARN, false);
	test_v2_tree();
	test_v1();
	return 0;
}
