/* nom_run.c: nom-run, starts a command inside a nom instance: in the cgroups the host agent
 * enforces the instance's cores and memory on, in the instance's network namespace, with the
 * board and the local API in its environment.
 *
 *   nom-run --instance NAME [--wait DUR] [--print] [--no-cgroup] [--no-netns] -- COMMAND [ARG]...
 *
 * Where the instance runs is nom-priced's configuration ([priced] cpuset, memory_cgroup, netns,
 * host), which nom-priced puts on the board: nom-run reads it there, so that nothing is guessed
 * and a tenant's processes go exactly where the enforcement is (docs/apps.md). It joins a
 * cgroup by writing its pid into the directory's cgroup.procs (cgroup v1 and v2 alike; a v2
 * directory named twice is joined once), enters the namespace with setns() and, as `ip netns
 * exec` does, remounts /sys in a private mount namespace so that /sys/class/net shows the
 * namespace's interfaces, then executes COMMAND, which with all its children stays inside.
 *
 * Exit codes: 64 usage, 69 no board, nom-priced not running, a board of another layout, or a
 * cgroup that did not appear within --wait; 71 a cgroup or the namespace cannot be joined;
 * 126 COMMAND cannot be executed, 127 not found; otherwise COMMAND's own. */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <sched.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "common/config.h"
#include "nom/nom.h"

static void usage(FILE *f)
{
	fprintf(f, "usage: nom-run --instance NAME [--wait DURATION] [--print] [--no-cgroup] "
		   "[--no-netns] -- COMMAND [ARG]...\n");
}

static int64_t mono_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

/* The namespace file of a [priced] netns value: a name in /run/netns, or a path. */
static void netns_path(const char *netns, char *buf, size_t len)
{
	if (netns[0] == '/')
		snprintf(buf, len, "%s", netns);
	else
		snprintf(buf, len, "/run/netns/%s", netns);
}

/* Waits until dir exists (the host agent creates a tenant's groups at its first apply). */
static int wait_dir(const char *key, const char *dir, int64_t wait_ns)
{
	int64_t end = mono_ns() + wait_ns;
	struct stat st;

	for (;;) {
		if (stat(dir, &st) == 0 && S_ISDIR(st.st_mode))
			return 0;
		if (mono_ns() >= end) {
			fprintf(stderr, "nom-run: %s %s ([priced] %s) does not exist%s: has the host "
				"agent enforced the instance's allocation yet? (--wait gives it time)\n",
				key, dir, key, wait_ns ? " after --wait" : "");
			return 69;
		}
		struct timespec ts = {0, 20 * 1000000};
		nanosleep(&ts, NULL);
	}
}

static int join_cgroup(const char *key, const char *dir)
{
	char path[256 + 32], pid[32];
	int n = snprintf(pid, sizeof(pid), "%d\n", (int)getpid());

	snprintf(path, sizeof(path), "%s/cgroup.procs", dir);
	int fd = open(path, O_WRONLY | O_CLOEXEC);
	if (fd < 0 || write(fd, pid, (size_t)n) != n) {
		int e = errno;
		if (fd >= 0)
			close(fd);
		fprintf(stderr, "nom-run: cannot join the %s cgroup: writing our pid into %s: %s\n",
			key, path, strerror(e));
		return 71;
	}
	close(fd);
	return 0;
}

static int enter_netns(const char *netns)
{
	char path[256 + 16];
	int fd;

	netns_path(netns, path, sizeof(path));
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0) {
		fprintf(stderr, "nom-run: network namespace %s ([priced] netns %s): %s\n", path,
			netns, strerror(errno));
		return 71;
	}
	if (setns(fd, CLONE_NEWNET) != 0) {
		fprintf(stderr, "nom-run: cannot enter network namespace %s: %s\n", path,
			strerror(errno));
		close(fd);
		return 71;
	}
	close(fd);
	/* As `ip netns exec`: a private mount namespace whose /sys is the new namespace's. A
	 * failure here leaves sockets in the right namespace, so it is only a warning. */
	if (unshare(CLONE_NEWNS) != 0 || mount("", "/", "none", MS_SLAVE | MS_REC, NULL) != 0 ||
	    umount2("/sys", MNT_DETACH) != 0 || mount(netns, "/sys", "sysfs", 0, NULL) != 0)
		fprintf(stderr, "nom-run: warning: /sys not remounted for namespace %s: %s\n", path,
			strerror(errno));
	return 0;
}

int main(int argc, char **argv)
{
	static const struct option opts[] = {
		{"instance", required_argument, NULL, 'i'},
		{"wait", required_argument, NULL, 'w'},
		{"print", no_argument, NULL, 'p'},
		{"no-cgroup", no_argument, NULL, 'C'},
		{"no-netns", no_argument, NULL, 'N'},
		{"help", no_argument, NULL, 'h'},
		{NULL, 0, NULL, 0},
	};
	const char *instance = NULL;
	bool print = false, cgroups = true, netns = true;
	int64_t wait_ns = 0;
	int c;

	while ((c = getopt_long(argc, argv, "+h", opts, NULL)) != -1) {
		switch (c) {
		case 'i':
			instance = optarg;
			break;
		case 'w':
			if (cfg_parse_duration(optarg, &wait_ns) != 0 || wait_ns < 0) {
				fprintf(stderr, "nom-run: --wait %s: a duration, e.g. 10s\n", optarg);
				return 64;
			}
			break;
		case 'p':
			print = true;
			break;
		case 'C':
			cgroups = false;
			break;
		case 'N':
			netns = false;
			break;
		case 'h':
			usage(stdout);
			return 0;
		default:
			usage(stderr);
			return 64;
		}
	}
	if (!instance || (!print && optind >= argc)) {
		usage(stderr);
		return 64;
	}

	struct nom_options no = {.size = sizeof(no), .no_pin = true};
	struct nom *nom;
	struct nom_status st;
	char msg[512], board[96];
	int err = nom_open(instance, &no, &nom);
	if (err) {
		fprintf(stderr, "nom-run: %s\n", nom_explain_open(instance, err, msg, sizeof(msg)));
		return 69;
	}
	err = nom_status(nom, &st);
	nom_close(nom);
	if (err) {
		fprintf(stderr, "nom-run: the board of instance %s cannot be read\n", instance);
		return 69;
	}
	if (!st.priced_alive) {
		fprintf(stderr, "nom-run: the nom-priced of instance %s (pid %d) is not running\n",
			instance, (int)st.priced_pid);
		return 69;
	}
	snprintf(board, sizeof(board), "/dev/shm/nom.%s", instance);
	if (print) {
		printf("instance=%s\nboard=%s\napi=%s\nhost=%s\ncpuset=%s\nmemory_cgroup=%s\n"
		       "netns=%s\n",
		       instance, board, st.endpoint, st.host, st.cpuset, st.memory_cgroup, st.netns);
		return 0;
	}

	if (cgroups) {
		const char *keys[2] = {"cpuset", "memory_cgroup"};
		const char *dirs[2] = {st.cpuset, st.memory_cgroup};
		for (int i = 0; i < 2; i++) {
			if (!dirs[i][0] || (i == 1 && strcmp(dirs[0], dirs[1]) == 0))
				continue;
			if ((err = wait_dir(keys[i], dirs[i], wait_ns)) ||
			    (err = join_cgroup(keys[i], dirs[i])))
				return err;
		}
	}
	if (netns && st.netns[0] && (err = enter_netns(st.netns)))
		return err;

	if (setenv("NOM_INSTANCE", instance, 1) || setenv("NOM_BOARD", board, 1) ||
	    setenv("NOM_API", st.endpoint, 1) || setenv("NOM_HOST", st.host, 1) ||
	    setenv("NOM_CPUSET", st.cpuset, 1) || setenv("NOM_MEMORY_CGROUP", st.memory_cgroup, 1) ||
	    setenv("NOM_NETNS", st.netns, 1)) {
		fprintf(stderr, "nom-run: setenv: %s\n", strerror(errno));
		return 71;
	}
	execvp(argv[optind], argv + optind);
	err = errno;
	fprintf(stderr, "nom-run: %s: %s\n", argv[optind], strerror(err));
	return err == ENOENT ? 127 : 126;
}
