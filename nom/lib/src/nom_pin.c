/* nom_pin.c: cores held become the CPUs the app's threads run on.
 *
 * Which CPUs is the host's decision, not the app's: the host agent enforces the instance's
 * cores as a cpuset, nom-priced reads that cpuset and writes the CPUs of each cores holding
 * on the board (nom/priced/src/priced_cpus.c). libnom only follows the board: it pins every
 * thread of the calling process (each task under /proc/self/task) to the union of the CPUs
 * of the cores held, and when no cores are held any more, restores the affinity the process
 * had when the handle was opened. Threads created later inherit their creator's affinity, so
 * an app that starts its workers after acquiring gets them pinned too; nom_wait_change()
 * re-pins all of them whenever the CPUs change. */
#include <dirent.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "common/error.h"
#include "nom_priv.h"

int nom__pin_init(struct nom *n)
{
	n->orig_size = CPU_ALLOC_SIZE(NOM_CPU_MAX);
	n->orig = CPU_ALLOC(NOM_CPU_MAX);
	if (!n->orig)
		return -ENOMEM;
	CPU_ZERO_S(n->orig_size, n->orig);
	if (sched_getaffinity(0, n->orig_size, n->orig) != 0) {
		int err = -errno;
		CPU_FREE(n->orig);
		n->orig = NULL;
		return err;
	}
	return 0;
}

void nom__pin_fini(struct nom *n)
{
	if (n->orig)
		CPU_FREE(n->orig);
	n->orig = NULL;
}

int nom__pin_all(struct nom *n, const uint64_t *mask)
{
	cpu_set_t *set = CPU_ALLOC(NOM_CPU_MAX);
	size_t size = CPU_ALLOC_SIZE(NOM_CPU_MAX);
	int err = 0, pinned = 0;

	if (!set)
		return nom__fail(n, -ENOMEM, "out of memory for a CPU set");
	CPU_ZERO_S(size, set);
	if (mask) {
		for (int cpu = 0; cpu < NOM_CPU_MAX; cpu++)
			if (mask[cpu / 64] >> (cpu % 64) & 1)
				CPU_SET_S(cpu, size, set);
	} else {
		memcpy(set, n->orig, size);
	}
	DIR *d = opendir("/proc/self/task");
	if (!d) {
		err = -errno;
		CPU_FREE(set);
		return nom__fail(n, err, "cannot list the process's threads: %s", strerror(-err));
	}
	struct dirent *de;
	while ((de = readdir(d))) {
		if (de->d_name[0] < '0' || de->d_name[0] > '9')
			continue;
		pid_t tid = (pid_t)atoi(de->d_name);
		if (sched_setaffinity(tid, size, set) == 0) {
			pinned++;
		} else if (errno != ESRCH) { /* ESRCH: the thread exited meanwhile */
			err = -errno;
			nom__fail(n, err, "sched_setaffinity(thread %d): %s", (int)tid,
				  strerror(errno));
			break;
		}
	}
	closedir(d);
	CPU_FREE(set);
	if (err)
		return err;
	if (mask) {
		memcpy(n->pinned_mask, mask, sizeof(n->pinned_mask));
		n->pinned = true;
	} else {
		memset(n->pinned_mask, 0, sizeof(n->pinned_mask));
		n->pinned = false;
	}
	return pinned ? 0 : nom__fail(n, -ESRCH, "no thread to pin");
}

int nom__follow_cores(struct nom *n)
{
	uint64_t mask[NOM_CPU_WORDS];
	int err = bb_snapshot(n->r, n->snap, NULL);

	if (err)
		return nom__fail(n, err, "board of %s: %s", n->instance, raas_strerror(err));
	if (nom__held_cpus(n, NULL, mask) == 0)
		return n->pinned ? nom__pin_all(n, NULL) : 0;
	if (n->pinned && memcmp(mask, n->pinned_mask, sizeof(mask)) == 0)
		return 0;
	return nom__pin_all(n, mask);
}

int nom_pin_threads(struct nom *n, const char *host)
{
	uint64_t mask[NOM_CPU_WORDS];

	if (n->no_pin)
		return nom__fail(n, -EPERM, "this handle was opened with no_pin");
	int err = bb_snapshot(n->r, n->snap, NULL);
	if (err)
		return nom__fail(n, err, "board of %s: %s", n->instance, raas_strerror(err));
	n->pin_active = true;
	if (nom__held_cpus(n, host, mask) == 0) {
		if (n->pinned)
			return nom__pin_all(n, NULL);
		return nom__fail(n, -ENOENT, "no cores with CPUs on the board%s%s",
				 host ? " for host " : "", host ? host : "");
	}
	return nom__pin_all(n, mask);
}
