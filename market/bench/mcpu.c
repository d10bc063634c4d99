/* mcpu.c: per-thread run time of raas-marketd from /proc and its per-stage stats file
 * (mcpu.h). schedstat's run time is in nanoseconds, where /proc/PID/task/TID/stat counts
 * clock ticks (10 ms), too coarse for a round of a few milliseconds. */
#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>

#include "common/clock.h"
#include "mcpu.h"

const char *mcpu_group_name(int g)
{
	static const char *const names[MCPU_GROUPS] = {"main", "zmq_io", "other"};
	return g >= 0 && g < MCPU_GROUPS ? names[g] : "?";
}

static int read_line(const char *path, char *buf, size_t len)
{
	FILE *f = fopen(path, "r");
	if (!f)
		return -errno;
	char *ok = fgets(buf, (int)len, f);
	fclose(f);
	return ok ? 0 : -EIO;
}

static int read_prof(const char *path, struct mcpu *out)
{
	FILE *f = fopen(path, "r");
	char name[32];
	long long ns;
	unsigned long long n;

	if (!f)
		return -errno;
	if (fscanf(f, "rounds %llu\n", &n) == 1)
		out->rounds = n;
	while (fscanf(f, "%31s %lld %llu\n", name, &ns, &n) == 3) {
		if (strcmp(name, "sqlite_memory") == 0)
			out->sqlite_bytes = ns;
		for (int i = 0; i < MARKET_STAGES; i++)
			if (strcmp(name, market_stage_name(i)) == 0) {
				out->prof.ns[i] = ns;
				out->prof.n[i] = n;
			}
	}
	fclose(f);
	return 0;
}

int mcpu_sample(pid_t pid, const char *stats_file, struct mcpu *out)
{
	char path[128], line[256];
	DIR *d;
	struct dirent *de;

	memset(out, 0, sizeof(*out));
	out->sqlite_bytes = -1;
	out->at_ns = clk_mono(&clk_real);
	snprintf(path, sizeof(path), "/proc/%ld/task", (long)pid);
	if (!(d = opendir(path)))
		return -errno;
	while ((de = readdir(d)) != NULL) {
		long tid = strtol(de->d_name, NULL, 10);
		long long run;
		if (tid <= 0)
			continue;
		snprintf(path, sizeof(path), "/proc/%ld/task/%ld/schedstat", (long)pid, tid);
		if (read_line(path, line, sizeof(line)) != 0 || sscanf(line, "%lld", &run) != 1)
			continue;
		snprintf(path, sizeof(path), "/proc/%ld/task/%ld/comm", (long)pid, tid);
		if (read_line(path, line, sizeof(line)) != 0)
			line[0] = '\0';
		int g = tid == (long)pid			 ? MCPU_MAIN
			: strncmp(line, "ZMQbg/IO", 8) == 0 ? MCPU_IO
							     : MCPU_OTHER;
		out->ns[g] += run;
	}
	closedir(d);
	return stats_file ? read_prof(stats_file, out) : 0;
}

void mcpu_diff(const struct mcpu *a, const struct mcpu *b, struct mcpu *out)
{
	for (int g = 0; g < MCPU_GROUPS; g++)
		out->ns[g] = b->ns[g] - a->ns[g];
	out->rounds = b->rounds - a->rounds;
	for (int i = 0; i < MARKET_STAGES; i++) {
		out->prof.ns[i] = b->prof.ns[i] - a->prof.ns[i];
		out->prof.n[i] = b->prof.n[i] - a->prof.n[i];
	}
	out->at_ns = b->at_ns - a->at_ns;
	out->sqlite_bytes = b->sqlite_bytes;
}

long mcpu_rss_kib(pid_t pid)
{
	char path[64], line[256];
	long kib = -1;
	FILE *f;

	snprintf(path, sizeof(path), "/proc/%ld/status", (long)pid);
	if (!(f = fopen(path, "r")))
		return -1;
	while (fgets(line, sizeof(line), f))
		if (sscanf(line, "VmRSS: %ld", &kib) == 1)
			break;
	fclose(f);
	return kib;
}

int64_t mcpu_self_ns(void)
{
	struct rusage ru;

	if (getrusage(RUSAGE_SELF, &ru) != 0)
		return 0;
	return ((int64_t)ru.ru_utime.tv_sec + ru.ru_stime.tv_sec) * INT64_C(1000000000) +
	       ((int64_t)ru.ru_utime.tv_usec + ru.ru_stime.tv_usec) * 1000;
}
