/* econ_profile.h: an app's performance profile: batching delay -> throughput, latency, jitter.
 *
 * A nom app tunes the batching delay of its private network stack (0-40 us in the thesis) and,
 * optionally, its busy-poll budget (hybrid polling, issue 19); each setting gives a working
 * point (throughput, mean latency, jitter, and the CPU it burns) that depends on the load the
 * app is under. A profile is that table, per app and per load level, measured
 * offline (apps/bench/profile.sh) or built from published numbers (sim/scenarios/profiles/).
 * The optimizer (econ_optimize.h) picks a row from it; raas-sim's tenants and libnom's apps
 * read the same files.
 *
 * The file format is a CSV with a header line, documented in docs/profiles.md:
 *
 *     # comments start with '#'
 *     app,load,delay_us,throughput_rps,latency_us,jitter_us,bytes_per_request,source
 *     memcached,many,10,38000,74,7.4,1100,"thesis: 38K ops/s at 74 us for delay 10"
 *
 * A parsed profile is an immutable value: built by econ_profile_parse() or econ_profile_load(),
 * read by anyone (any thread), freed by econ_profile_destroy(). Invariants after a successful
 * parse (econ_profile_check() asserts them):
 *   1. every app has >= 1 level, every level >= 1 point; names are unique within their parent
 *      (core_levels: (name, cores) unique, and each name is also a one-core level);
 *   2. a level's points are sorted by strictly increasing (delay, spin);
 *   3. every number is finite; delay in [0, ECON_DELAY_MAX_US]; spin in [0,
 *      ECON_SPIN_MAX_US]; throughput, latency and bytes per request > 0; jitter and CPU per
 *      request >= 0.
 * Apps and levels keep the order of their first appearance in the file. */
#ifndef NOM_ECON_PROFILE_H
#define NOM_ECON_PROFILE_H

#include <stddef.h>

#define ECON_NAME_MAX 32            /* app and level names, with the NUL */
#define ECON_DELAY_MAX_US 1000.0    /* largest delay accepted (the thesis sweeps 0-40 us) */
#define ECON_SPIN_MAX_US 1e6        /* largest busy-poll budget accepted */
#define ECON_PROFILE_MAX_BYTES (16u << 20)
#define ECON_PROFILE_MAX_ROWS 100000
#define ECON_PROFILE_MAX_LINE 4096
#define ECON_PROFILE_MAX_APPS 256
#define ECON_PROFILE_MAX_LEVELS 64 /* per app, one-core and multi-core levels together */
#define ECON_CORES_MAX 1024        /* the optional cores column: 1..1024 */

/* One working point: the knobs (delay and busy-poll budget) and what they gave. */
struct econ_point {
	double delay_us;          /* batching delay */
	double tput_rps;          /* requests (or messages) served per second */
	double latency_us;        /* mean latency */
	double jitter_us;         /* standard deviation of latency */
	double bytes_per_request; /* bytes transmitted per request (converts to Gbit/s) */
	int line;                 /* line in the profile file; 0 when built in code */
	double spin_us;           /* busy-poll budget before sleeping (hybrid polling; the
				   * optional spin_us column, 0 when absent) */
	double cpu_us;            /* CPU time per request, us (the optional cpu_us_per_request
				   * column; 0: not measured, and then not priced) */
};

struct econ_level {
	char name[ECON_NAME_MAX]; /* "many", "single", or a client count */
	struct econ_point *points;
	size_t npoints;
	int cores;                /* the cores the rows were measured on (0 or 1: one) */
};

struct econ_app {
	char name[ECON_NAME_MAX]; /* "memcached" */
	struct econ_level *levels; /* measured on one core (no cores column, or cores 1) */
	size_t nlevels;
	/* Levels measured on more than one core (the cores column, > 1), each with a one-core
	 * level of the same name in levels; what an app that holds cores compares. NULL / 0 in
	 * a profile without such rows (raas-sim reads levels only). */
	struct econ_level *core_levels;
	size_t ncore_levels;
};

struct econ_profile {
	char name[256]; /* the file it came from (for messages) */
	struct econ_app *apps;
	size_t napps;
};

/* Where a profile is wrong: "FILE:LINE: COLUMN: MESSAGE" (econ_error_format). */
struct econ_error {
	char file[256];
	int line;         /* 0 when the error has no line */
	char column[32];  /* "" when the error is not about one column */
	char message[256];
};

/* Parses CSV text (len bytes, need not be NUL-terminated); name stands for the file in
 * errors. On success *out is a new profile owned by the caller. On failure returns
 * -RAAS_EPARSE (bad content), -RAAS_ETOOBIG (over the size, row or line bounds) or -ENOMEM,
 * with err filled; nothing is allocated. */
int econ_profile_parse(const char *name, const char *text, size_t len,
		       struct econ_profile **out, struct econ_error *err);
/* Reads and parses a file (profile_load.c: the library's only I/O). Errors as
 * econ_profile_parse(), or a negative errno when the file cannot be read. */
int econ_profile_load(const char *path, struct econ_profile **out, struct econ_error *err);
void econ_profile_destroy(struct econ_profile *p);

/* Lookups; NULL when absent. The results are borrowed from the profile. */
const struct econ_app *econ_profile_app(const struct econ_profile *p, const char *app);
const struct econ_level *econ_app_level(const struct econ_app *a, const char *level);
/* The level of that name measured on cores cores (cores <= 1: econ_app_level()). */
const struct econ_level *econ_app_level_cores(const struct econ_app *a, const char *level,
					     int cores);

/* The point's throughput in Gbit/s. */
double econ_point_gbps(const struct econ_point *pt);
/* The cores the point keeps busy: throughput x CPU per request (0 when not measured). What
 * a spin budget costs is the difference in this between points, at the core price. */
double econ_point_cores(const struct econ_point *pt);

/* The row of a level with exactly this delay (the lowest spin budget among them), or NULL. */
const struct econ_point *econ_level_at(const struct econ_level *l, double delay_us);
/* The best-throughput point (highest throughput in Gbit/s; ties: lower latency, then lower
 * delay) and the best-latency point (lowest mean latency; ties: higher throughput, then lower
 * delay): the working points of the static-tpt and static-lat strategies. */
const struct econ_point *econ_level_best_tput(const struct econ_level *l);
const struct econ_point *econ_level_best_latency(const struct econ_level *l);

/* Asserts the invariants above (aborts on violation; for tests and debug builds). */
void econ_profile_check(const struct econ_profile *p);

/* "FILE:LINE: COLUMN: MESSAGE" into buf; returns buf. */
char *econ_error_format(const struct econ_error *err, char *buf, size_t len);

#endif
