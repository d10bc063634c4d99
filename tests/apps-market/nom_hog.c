/* nom_hog.c: nom-hog, a test process that uses more than it should: memory past a cgroup's
 * limit, or a CPU its cpuset may take away. The tests start it with nom-run inside a nom
 * instance and watch what the host agent's enforcement does to it.
 *
 *   nom-hog --mib N [--step-mib S] [--hold]   touch N MiB, S (default 1) at a time, printing
 *                                            "touched K" after each step; --hold: then sleep
 *   nom-hog --cpu N                           pin this thread to CPU N, print "pinned N",
 *                                            then sleep; on SIGUSR1 print "on CPU C" (the
 *                                            CPU it woke up on) and sleep again
 *
 * Lines go to stdout, flushed, so a test can wait for them. Exit 0 when done (without
 * --hold), 64 usage, 71 when the pinning is refused. */
#include <errno.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

static volatile sig_atomic_t asked;

static void on_usr1(int sig)
{
	(void)sig;
	asked = 1;
}

static void usage(void)
{
	fprintf(stderr, "usage: nom-hog --mib N [--step-mib S] [--hold] | --cpu N\n");
}

static long number(const char *s)
{
	char *end;
	long v = strtol(s, &end, 10);

	return *s && !*end && v >= 0 ? v : -1;
}

int main(int argc, char **argv)
{
	long mib = -1, step = 1, cpu = -1;
	int hold = 0;

	for (int i = 1; i < argc; i++) {
		if (strcmp(argv[i], "--mib") == 0 && i + 1 < argc)
			mib = number(argv[++i]);
		else if (strcmp(argv[i], "--step-mib") == 0 && i + 1 < argc)
			step = number(argv[++i]);
		else if (strcmp(argv[i], "--cpu") == 0 && i + 1 < argc)
			cpu = number(argv[++i]);
		else if (strcmp(argv[i], "--hold") == 0)
			hold = 1;
		else {
			usage();
			return 64;
		}
	}
	if ((mib < 0) == (cpu < 0) || step < 1) {
		usage();
		return 64;
	}
	setvbuf(stdout, NULL, _IOLBF, 0);
	if (cpu >= 0) {
		cpu_set_t set;
		CPU_ZERO(&set);
		CPU_SET((int)cpu, &set);
		if (sched_setaffinity(0, sizeof(set), &set) != 0) {
			fprintf(stderr, "nom-hog: cannot pin to CPU %ld: %s\n", cpu, strerror(errno));
			return 71;
		}
		struct sigaction sa = {.sa_handler = on_usr1};
		sigaction(SIGUSR1, &sa, NULL);
		printf("pinned %ld\n", cpu);
		for (;;) {
			pause();
			if (asked) {
				asked = 0;
				printf("on CPU %d\n", sched_getcpu());
			}
		}
	}
	for (long done = 0; done < mib; done += step) {
		size_t len = (size_t)(done + step > mib ? mib - done : step) << 20;
		char *p = mmap(NULL, len, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
		if (p == MAP_FAILED) {
			fprintf(stderr, "nom-hog: mmap: %s\n", strerror(errno));
			return 71;
		}
		for (size_t o = 0; o < len; o += 4096)
			p[o] = 1; /* every page, so that it is charged */
		printf("touched %ld\n", done + (long)(len >> 20));
	}
	while (hold)
		pause();
	return 0;
}
