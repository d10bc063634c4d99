/* priced_cpus.c: which CPUs the instance's cores holding maps to.
 *
 * The host agent enforces the instance's cores as a cpuset; nom-priced reads that cpuset's
 * effective CPUs (or, without a cpuset, its own CPU affinity: the CPUs the instance may run
 * on) and gives each cores holding the lowest-numbered CPUs of it, as many as held. The
 * choice is deterministic so that every app of the instance pins to the same CPUs and a
 * re-read that finds the same cpuset changes nothing. */
#include <errno.h>
#include <fcntl.h>
#include <sched.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "common/error.h"
#include "priced.h"

static int parse_num(const char **p, const char *end, int *out)
{
	long v = 0;
	const char *s = *p;

	if (s >= end || *s < '0' || *s > '9')
		return -RAAS_EPARSE;
	while (s < end && *s >= '0' && *s <= '9') {
		v = v * 10 + (*s - '0');
		if (v >= BB_CPU_WORDS * 64)
			return -RAAS_EPARSE;
		s++;
	}
	*p = s;
	*out = (int)v;
	return 0;
}

int priced_cpulist_parse(const char *text, size_t len, uint64_t mask[BB_CPU_WORDS])
{
	const char *p = text, *end = text + len;

	memset(mask, 0, BB_CPU_WORDS * sizeof(mask[0]));
	while (end > p && (end[-1] == '\n' || end[-1] == ' '))
		end--;
	if (p == end) /* an empty cpuset */
		return 0;
	for (;;) {
		int lo, hi;
		if (parse_num(&p, end, &lo))
			return -RAAS_EPARSE;
		hi = lo;
		if (p < end && *p == '-') {
			p++;
			if (parse_num(&p, end, &hi) || hi < lo)
				return -RAAS_EPARSE;
		}
		for (int cpu = lo; cpu <= hi; cpu++)
			mask[cpu / 64] |= UINT64_C(1) << (cpu % 64);
		if (p == end)
			return 0;
		if (*p++ != ',')
			return -RAAS_EPARSE;
	}
}

static int read_file(const char *dir, const char *name, char *buf, size_t size, size_t *len)
{
	char path[600];
	snprintf(path, sizeof(path), "%s/%s", dir, name);
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	ssize_t n = read(fd, buf, size - 1);
	int err = n < 0 ? -errno : 0;
	close(fd);
	if (err)
		return err;
	buf[n] = 0;
	*len = (size_t)n;
	return 0;
}

int priced_cpus_available(const char *dir, uint64_t mask[BB_CPU_WORDS])
{
	static const char *const files[] = {"cpuset.effective_cpus", "cpuset.cpus.effective",
					    "cpuset.cpus"};
	char buf[4096];
	size_t len = 0;

	if (dir && dir[0]) {
		int err = -ENOENT;
		for (size_t i = 0; i < sizeof(files) / sizeof(files[0]); i++) {
			err = read_file(dir, files[i], buf, sizeof(buf), &len);
			if (err == 0)
				return priced_cpulist_parse(buf, len, mask);
		}
		return err;
	}
	cpu_set_t *set = CPU_ALLOC(BB_CPU_WORDS * 64);
	size_t size = CPU_ALLOC_SIZE(BB_CPU_WORDS * 64);
	if (!set)
		return -ENOMEM;
	CPU_ZERO_S(size, set);
	if (sched_getaffinity(0, size, set) != 0) {
		int err = -errno;
		CPU_FREE(set);
		return err;
	}
	memset(mask, 0, BB_CPU_WORDS * sizeof(mask[0]));
	for (int cpu = 0; cpu < BB_CPU_WORDS * 64; cpu++)
		if (CPU_ISSET_S(cpu, size, set))
			mask[cpu / 64] |= UINT64_C(1) << (cpu % 64);
	CPU_FREE(set);
	return 0;
}

int priced_cpus_pick(const uint64_t avail[BB_CPU_WORDS], int64_t n, uint64_t out[BB_CPU_WORDS])
{
	int picked = 0;

	memset(out, 0, BB_CPU_WORDS * sizeof(out[0]));
	for (int cpu = 0; cpu < BB_CPU_WORDS * 64 && picked < n; cpu++)
		if (avail[cpu / 64] >> (cpu % 64) & 1) {
			out[cpu / 64] |= UINT64_C(1) << (cpu % 64);
			picked++;
		}
	return picked;
}
