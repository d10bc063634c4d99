/* load.h: a tenant class's load process: which profile load level it is under, and how much.
 *
 * A nom app's working points depend on its load level (the profile's `load` column: "many"
 * clients or a "single" one); within a level, `scale` (0, 1] is the share of the level's
 * throughput actually demanded, which multiplies the app's traffic and profit but does not
 * change which delay is best. Processes:
 *   constant  one level, scale 1
 *   phases    a list of (level, duration), once or repeated: `phases = many:60s, single:60s`
 *   diurnal   one level; scale = min + (1 - min) (1 + cos(2 pi (t - peak) / period)) / 2,
 *             1 at the peak time of day, min 12 hours away; sampled at each round start
 *   trace     a CSV file of (time_s, level, scale) steps (sim_load_trace_parse)
 * Level names are resolved to indices into the app's profile by the scenario loader. */
#ifndef SIM_LOAD_H
#define SIM_LOAD_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define SIM_LOAD_TRACE_MAX_BYTES (16u << 20)
#define SIM_LOAD_TRACE_MAX_STEPS 1000000
#define SIM_LEVEL_NAME_MAX 32

enum sim_load_kind { SIM_LOAD_CONSTANT, SIM_LOAD_PHASES, SIM_LOAD_DIURNAL, SIM_LOAD_TRACE };

struct sim_load_step {
	int64_t t_ns;   /* phases: duration; trace: start time */
	int level;      /* index into the app's levels */
	double scale;   /* (0, 1] */
};

struct sim_load {
	enum sim_load_kind kind;
	int level;                 /* constant, diurnal */
	bool repeat;               /* phases */
	struct sim_load_step *steps; /* phases, trace; owned */
	size_t nsteps;
	int64_t cycle_ns;          /* phases: sum of durations */
	double diurnal_min;
	int64_t diurnal_peak_ns, diurnal_period_ns;
};

/* One parsed line of a load trace before level names are resolved. */
struct sim_load_trace_row {
	int64_t t_ns;
	char level[SIM_LEVEL_NAME_MAX];
	double scale;
	int line;
};

/* Parses a load trace: '#' comments, then lines "time_s,level[,scale]" with time in seconds
 * (decimal, starting at 0, strictly increasing) and scale in (0, 1] (default 1). On success
 * *rows (owned by the caller, free()) holds *nrows rows. On failure returns -RAAS_EPARSE or
 * -RAAS_ETOOBIG with "LINE: reason" in why (why_len bytes), or -ENOMEM. */
int sim_load_trace_parse(const char *text, size_t len, struct sim_load_trace_row **rows,
			 size_t *nrows, char *why, size_t why_len);

/* The level and scale at time t >= 0. */
void sim_load_at(const struct sim_load *l, int64_t t, int *level, double *scale);
/* The first time > t at which a step starts (phases, trace), or INT64_MAX (constant; diurnal
 * changes continuously and is sampled at round starts). */
int64_t sim_load_next(const struct sim_load *l, int64_t t);
void sim_load_fini(struct sim_load *l);

#endif
