/* mcpu.h: the market's CPU as raas-bench-market sees it from outside the daemon.
 *
 * Per thread: the kernel's run time of every thread of the raas-marketd process
 * (/proc/PID/task/TID/schedstat, nanoseconds, first field), grouped as the main thread (the
 * round loop, pid == tid), ZeroMQ's I/O thread ("ZMQbg/IO/..": TCP and CURVE) and the rest
 * (ZeroMQ's reaper). Per stage: the market's own stats_file (market.h struct market_prof).
 * Two samples make a difference over the measured rounds. */
#ifndef MARKET_BENCH_MCPU_H
#define MARKET_BENCH_MCPU_H

#include <stdint.h>
#include <sys/types.h>

#include "market/market.h"

enum mcpu_group { MCPU_MAIN, MCPU_IO, MCPU_OTHER, MCPU_GROUPS };

struct mcpu {
	int64_t ns[MCPU_GROUPS];  /* run time per group of threads */
	uint64_t rounds;          /* rounds the market closed (from the stats file) */
	struct market_prof prof;  /* stage times from the stats file */
	int64_t sqlite_bytes;     /* what SQLite holds in the market (stats file), -1 unknown */
	int64_t at_ns;            /* monotonic time of the sample */
};

/* Samples the market process pid and its stats file. 0 or a negative errno. */
int mcpu_sample(pid_t pid, const char *stats_file, struct mcpu *out);
/* b - a, field by field. */
void mcpu_diff(const struct mcpu *a, const struct mcpu *b, struct mcpu *out);
const char *mcpu_group_name(int g);
/* The resident set of process pid in KiB (VmRSS), or -1. */
long mcpu_rss_kib(pid_t pid);
/* This process's CPU (user + system) in nanoseconds, children waited for included. */
int64_t mcpu_self_ns(void);

#endif
