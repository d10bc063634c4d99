/* run.h: running a scenario: every variant, every round, into one SQLite run file.
 *
 * sim_run() loads the scenario (and each [variant.*] of it), simulates it round by round and
 * writes the run file atomically (output.h). The same scenario, overrides and seed give the
 * same tables row for row, whatever the number of threads. */
#ifndef SIM_RUN_H
#define SIM_RUN_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "common/config.h"

enum sim_progress_mode { SIM_PROGRESS_AUTO, SIM_PROGRESS_NEVER, SIM_PROGRESS_JSON };

struct sim_run_opts {
	const char *scenario;               /* path of the INI file */
	const char *out;                    /* the run file to write */
	const char *const *overrides;       /* "section.key=value", applied after variants */
	size_t noverrides;
	bool have_seed;                     /* --seed given: overrides sim.seed */
	uint64_t seed;
	int threads;                        /* > 0: overrides sim.threads */
	enum sim_progress_mode progress;
};

struct sim_run_stats {
	double wall_s;
	uint64_t rounds;       /* over all variants */
	uint64_t bid_evals;
	int threads;
	uint64_t tenants;      /* tenants that ever lived, over all variants */
};

/* Runs the scenario. Returns 0, or a negative error with why filled:
 *   -RAAS_ECONFIG  the scenario is wrong (cerr names file:line:key; why holds it formatted)
 *   -ENOENT        a file or the shared data folder is missing (why says where)
 *   -EIO           the run file cannot be written
 *   other          a model or the simulator failed (why says which round and pool) */
int sim_run(const struct sim_run_opts *o, struct sim_run_stats *stats, char *why,
	    size_t why_len);

#endif
