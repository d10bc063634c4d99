/* tb_sample.h: one sample per tenant per second during `raas testbed run`, the progress line,
 * and the run file they go into. */
#ifndef TESTBED_TB_SAMPLE_H
#define TESTBED_TB_SAMPLE_H

#include <stdint.h>

#include "tb_internal.h"

struct tb_sample {
	int sec;
	int tenant;
	bool up;
	int64_t price;          /* nanodollars per Mbit/s-hour on its host, from its board */
	int64_t holding_mbit;   /* bandwidth held, from its board */
	int64_t charged;        /* nanodollars charged so far (the market's notices) */
	uint64_t round;
	int64_t bytes_sent;     /* its tc class's counter on the host's uplink */
	double sent_mbit;       /* over the last second (NAN: unknown: first reading, class
				 * re-created, samples too close, or beyond the link) */
	int64_t overlimits;     /* HTB overlimits over that interval: > 0 the class was
				 * backlogged, shaped (-1 unknown) */
	int64_t delay_us;       /* W: its app's last pick (-1 none) */
	double rps, mean_us, jitter_us, p99_us; /* the load generator's last interval (NAN) */
	/* Hosts selling cores or memory: what the board says it holds, and what the kernel
	 * enforces on its groups (the agent's cgroup backend): cpuset.cpus ("" none),
	 * memory.limit_in_bytes (-1 none), and whether its app's process is in them (-1: no
	 * group to be in). */
	int64_t cores, memory_mib;
	char cpus[32];
	int64_t mem_limit;
	int in_cgroup;
};

struct tb_samples;

/* Borrows st for its lifetime. 0 or -ENOMEM. */
int tb_samples_create(struct tb_state *st, struct tb_samples **out);
void tb_samples_destroy(struct tb_samples *sm);
/* Takes second sec's sample of every tenant. */
void tb_samples_take(struct tb_samples *sm, int sec);
/* Rewrites the progress line on stderr. */
void tb_samples_progress(struct tb_samples *sm, int sec, int64_t total_s);
/* Writes the run file (raas-sim's schema plus the per-tenant-per-second table), its
 * rounds, prices and charges from ledger (a copy of the run's ledger). */
int tb_samples_write(struct tb_samples *sm, const char *path, const char *ledger);
/* tb_runfile.c: raas-sim's tables of a live run, from its ledger, into a new file path. */
int tb_runfile_sim_tables(struct tb_state *st, const struct tb_samples *sm, const char *path,
			  const char *ledger);
/* tb_runfile.c: what second x was worth to tenant tn (nanodollars): the Gbit its tc class
 * sent times its utility's value per Gbit at the measured mean latency and jitter; 0 without
 * a latency measurement. The run file's values and the progress line's profit both. */
money_t tb_second_value(const struct tb_tenant *tn, const struct tb_sample *x);
/* The samples, [sec * ntenants + tenant], and how many seconds there are. */
const struct tb_sample *tb_samples_rows(const struct tb_samples *sm, int *nsec);

#endif
