/* tb_down.c: tearing a testbed down from its manifest, and showing its health.
 *
 * Teardown reads STATE/manifest (tb_internal.h, notes 1-3) and undoes it newest first:
 * processes get SIGTERM (daemons stop cleanly: the agent leaves its qdiscs, which go with
 * their namespace) and SIGKILL after 3 s; cgroups have what is left in them killed and are
 * removed; namespaces are deleted (their veths, the bridge and the qdiscs with them), a VM
 * tenant's domain (should its agent not have stopped it) and links; boards
 * and API sockets are removed; then the state folder. Each step is tried even when an earlier
 * one failed, and what could not be undone is named. */

#include <dirent.h>
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "tb_internal.h"

#define MAX_LINES 512

struct entry {
	char kind[16];
	char arg[600];
	pid_t pid;
	unsigned long long start;
};

static int read_manifest(const char *dir, struct entry *e, int max)
{
	char path[700], line[1024];
	FILE *f;
	int n = 0;

	snprintf(path, sizeof(path), "%s/manifest", dir);
	if (!(f = fopen(path, "r")))
		return -errno;
	while (n < max && fgets(line, sizeof(line), f)) {
		line[strcspn(line, "\n")] = 0;
		struct entry *x = &e[n];
		memset(x, 0, sizeof(*x));
		char *sp = strchr(line, ' ');
		if (!sp)
			continue;
		*sp = 0;
		if (strlen(line) >= sizeof(x->kind))
			continue;
		memcpy(x->kind, line, strlen(line) + 1);
		snprintf(x->arg, sizeof(x->arg), "%s", sp + 1);
		if (strcmp(x->kind, "proc") == 0) {
			int pid;
			int off = 0;
			if (sscanf(x->arg, "%d %llu %n", &pid, &x->start, &off) < 2)
				continue;
			x->pid = pid;
			memmove(x->arg, x->arg + off, strlen(x->arg + off) + 1);
		}
		n++;
	}
	fclose(f);
	return n;
}

/* ours: the process in the manifest is still the one we started (note 3). */
static bool ours(const struct entry *e)
{
	unsigned long long now = tb_proc_start(e->pid);
	return now != 0 && (e->start == 0 || now == e->start);
}

static void reap(void)
{
	while (waitpid(-1, NULL, WNOHANG) > 0)
		;
}

static void nap_ms(int ms)
{
	struct timespec ts = {ms / 1000, (long)(ms % 1000) * 1000000L};
	nanosleep(&ts, NULL);
}

/* procs_left: how many of our processes still run (after reaping those that ended). */
static int procs_left(struct entry *e, int n)
{
	int left = 0;
	reap();
	for (int i = 0; i < n; i++)
		if (strcmp(e[i].kind, "proc") == 0 && ours(&e[i]))
			left++;
	return left;
}

/* stop_procs: SIGTERM to every process of ours, newest first, then SIGKILL to those left
 * after 3 s; returns how many are still there 2 s later. */
static int stop_procs(struct entry *e, int n)
{
	static const struct {
		int sig, wait_ms;
	} steps[] = {{SIGTERM, 3000}, {SIGKILL, 2000}};
	int left = 0;

	for (size_t s = 0; s < sizeof(steps) / sizeof(steps[0]); s++) {
		for (int i = n - 1; i >= 0; i--)
			if (strcmp(e[i].kind, "proc") == 0 && ours(&e[i]))
				kill(e[i].pid, steps[s].sig);
		for (int waited = 0; waited < steps[s].wait_ms; waited += 50) {
			if (!(left = procs_left(e, n)))
				return 0;
			nap_ms(50);
		}
	}
	return left;
}

/* remove_cgroup: kills what is in dir and its children, removes them leaves first. */
static int remove_cgroup(const char *dir)
{
	char path[1200], line[64];
	struct stat sb;
	DIR *d;
	struct dirent *de;
	FILE *f;

	if (stat(dir, &sb) != 0)
		return 0;
	if ((d = opendir(dir))) {
		while ((de = readdir(d)))
			if (de->d_type == DT_DIR && de->d_name[0] != '.') {
				snprintf(path, sizeof(path), "%s/%s", dir, de->d_name);
				remove_cgroup(path);
			}
		closedir(d);
	}
	for (int tries = 0; tries < 40; tries++) {
		snprintf(path, sizeof(path), "%s/cgroup.procs", dir);
		if ((f = fopen(path, "r"))) {
			while (fgets(line, sizeof(line), f))
				kill(atoi(line), SIGKILL);
			fclose(f);
		}
		reap();
		if (rmdir(dir) == 0 || errno == ENOENT)
			return 0;
		nap_ms(50);
	}
	fprintf(stderr, "raas testbed: cannot remove cgroup %s: %s\n", dir, strerror(errno));
	return 1;
}

static bool netns_exists(const char *name)
{
	char path[128];
	struct stat sb;
	snprintf(path, sizeof(path), "/run/netns/%s", name);
	return stat(path, &sb) == 0;
}

static int run_quiet(const char *fmt, const char *arg)
{
	char cmd[1024];
	snprintf(cmd, sizeof(cmd), fmt, arg);
	pid_t pid = fork();
	int status;
	if (pid == 0) {
		freopen("/dev/null", "w", stdout);
		freopen("/dev/null", "w", stderr);
		execl("/bin/sh", "sh", "-c", cmd, (char *)NULL);
		_exit(127);
	}
	if (pid < 0)
		return -errno;
	while (waitpid(pid, &status, 0) < 0)
		if (errno != EINTR)
			return -errno;
	return WIFEXITED(status) ? WEXITSTATUS(status) : 128;
}

static int rm_tree(const char *dir)
{
	return run_quiet("rm -rf -- '%s'", dir);
}

int tb_down(const char *dir, bool quiet)
{
	static struct entry e[MAX_LINES];
	int n = read_manifest(dir, e, MAX_LINES), bad = 0;
	char path[700];

	if (n < 0) {
		if (!quiet)
			fprintf(stderr, "raas testbed: %s has no manifest: nothing to tear down\n",
				dir);
		return 0;
	}
	/* Ignore Ctrl-C while tearing down: a half-done teardown is what it prevents. */
	signal(SIGINT, SIG_IGN);
	signal(SIGTERM, SIG_IGN);
	if ((bad = stop_procs(e, n)) != 0)
		fprintf(stderr, "raas testbed: %d processes would not stop\n", bad);
	for (int i = n - 1; i >= 0; i--) {
		if (strcmp(e[i].kind, "cgroup") == 0) {
			bad += remove_cgroup(e[i].arg);
			/* Its parent tb-NAME folder too, once empty. */
			char parent[600];
			snprintf(parent, sizeof(parent), "%s", e[i].arg);
			char *slash = strrchr(parent, '/');
			if (slash) {
				*slash = 0;
				if (strstr(strrchr(parent, '/') ? strrchr(parent, '/') : parent, "tb-"))
					rmdir(parent);
			}
		} else if (strcmp(e[i].kind, "netns") == 0) {
			if (netns_exists(e[i].arg)) {
				run_quiet("ip netns delete %s", e[i].arg);
				if (netns_exists(e[i].arg)) {
					fprintf(stderr, "raas testbed: cannot delete netns %s\n",
						e[i].arg);
					bad++;
				}
			}
		} else if (strcmp(e[i].kind, "domain") == 0) {
			/* The host's agent stops its VMs on SIGTERM; this is for one it could not. */
			run_quiet("virsh -c qemu:///system destroy '%s'", e[i].arg);
			run_quiet("virsh -c qemu:///system undefine '%s'", e[i].arg);
			if (run_quiet("virsh -c qemu:///system domstate '%s'", e[i].arg) == 0) {
				fprintf(stderr, "raas testbed: cannot remove VM %s\n", e[i].arg);
				bad++;
			}
		} else if (strcmp(e[i].kind, "link") == 0) {
			/* A VM's bridge or veth in this namespace (its peer goes with it). */
			run_quiet("ip link delete '%s'", e[i].arg);
			if (run_quiet("ip link show '%s'", e[i].arg) == 0) {
				fprintf(stderr, "raas testbed: cannot delete link %s\n", e[i].arg);
				bad++;
			}
		} else if (strcmp(e[i].kind, "board") == 0) {
			snprintf(path, sizeof(path), "/dev/shm/nom.%s", e[i].arg);
			unlink(path);
			snprintf(path, sizeof(path), "/tmp/%s.sock", e[i].arg);
			unlink(path);
		}
	}
	if (!bad) {
		/* Keep the logs of a failed run for a look: move them out of the way. */
		rm_tree(dir);
	}
	if (!quiet)
		fprintf(stderr, "raas testbed: down%s\n", bad ? " (with the leftovers named above)" : "");
	return bad;
}

int tb_status(const char *dir)
{
	static struct entry e[MAX_LINES];
	int n = read_manifest(dir, e, MAX_LINES), unhealthy = 0;

	if (n < 0) {
		fprintf(stderr, "raas testbed: nothing is up in %s\n", dir);
		return -ENOENT;
	}
	printf("%-10s %-28s %-8s %s\n", "KIND", "NAME", "PID", "HEALTH");
	for (int i = 0; i < n; i++) {
		if (strcmp(e[i].kind, "proc") == 0) {
			bool ok = ours(&e[i]);
			printf("%-10s %-28s %-8d %s\n", "process", e[i].arg, (int)e[i].pid,
			       ok ? "running" : "exited");
			/* Load generators end with their phases: that is not a fault. */
			if (!ok && strncmp(e[i].arg, "load ", 5) != 0)
				unhealthy++;
		} else if (strcmp(e[i].kind, "netns") == 0) {
			bool ok = netns_exists(e[i].arg);
			printf("%-10s %-28s %-8s %s\n", "netns", e[i].arg, "-", ok ? "present" : "missing");
			unhealthy += !ok;
		} else if (strcmp(e[i].kind, "cgroup") == 0) {
			struct stat sb;
			bool ok = stat(e[i].arg, &sb) == 0;
			const char *name = strrchr(e[i].arg, '/');
			/* CONTROLLER NAME: a host has its memory, cpuset and cpuacct groups. */
			char label[64];
			const char *ctrl = strncmp(e[i].arg, "/sys/fs/cgroup/", 15) == 0 ?
						   e[i].arg + 15 : "";
			snprintf(label, sizeof(label), "%.*s %s", (int)strcspn(ctrl, "/"), ctrl,
				 name ? name + 1 : e[i].arg);
			printf("%-10s %-28s %-8s %s\n", "cgroup", label, "-",
			       ok ? "present" : "missing");
			unhealthy += !ok;
		} else if (strcmp(e[i].kind, "domain") == 0) {
			bool ok = run_quiet("virsh -c qemu:///system domstate '%s' | grep -q running",
					    e[i].arg) == 0;
			printf("%-10s %-28s %-8s %s\n", "vm", e[i].arg, "-", ok ? "running" : "stopped");
			unhealthy += !ok;
		} else if (strcmp(e[i].kind, "board") == 0) {
			char path[700];
			struct stat sb;
			snprintf(path, sizeof(path), "/dev/shm/nom.%s", e[i].arg);
			bool ok = stat(path, &sb) == 0;
			printf("%-10s %-28s %-8s %s\n", "board", e[i].arg, "-", ok ? "present" : "missing");
			unhealthy += !ok;
		} else if (strcmp(e[i].kind, "link") == 0) {
			bool ok = run_quiet("ip link show '%s'", e[i].arg) == 0;
			printf("%-10s %-28s %-8s %s\n", "link", e[i].arg, "-", ok ? "present" : "missing");
			unhealthy += !ok;
		}
	}
	/* The market's dashboards, as `up` printed them (tb_up.c writes the file). */
	char path[700], url[300] = "";
	snprintf(path, sizeof(path), "%s/dashboards.url", dir);
	FILE *f = fopen(path, "r");
	if (f && fgets(url, sizeof(url), f))
		printf("dashboards %s", url);
	if (f)
		fclose(f);
	return unhealthy;
}
