/* output.h: the run file: one SQLite database per run (schema in docs/simulator.md).
 *
 * sim's one public header: raas testbed writes its live runs through this writer, so that a
 * testbed run and a simulated run have one schema and raas-sim report reads both. The rest
 * of the simulator (scenario, event queue, runner, studies) is raas-sim's own, in src/.
 *
 * Written to a temporary file beside the target in one transaction and renamed over the
 * target only when the run finished, so a run file is never half-written: it is the previous
 * one or the complete new one. Every table but timing and timing_metrics is a function of the
 * scenario and the seed alone; those two hold wall-clock measurements. */
#ifndef SIM_OUTPUT_H
#define SIM_OUTPUT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "common/money.h"
#include "nom/econ_profile.h"
#include "pricing/pm.h"

#define SIM_SCHEMA_VERSION 1

struct sim_out;

/* Opens path's temporary file and creates the schema. Returns 0 or a negative error with why
 * filled. */
int sim_out_open(const char *path, struct sim_out **out, char *why, size_t why_len);
/* Commits, closes and renames over the target (commit) or deletes the temporary file
 * (abandon). Returns 0 or a negative error with why filled. */
int sim_out_close(struct sim_out *o, bool commit, char *why, size_t why_len);

/* Column values of the tables; money is nanodollars. Each returns 0 or -EIO. */
int sim_out_meta(struct sim_out *o, const char *variant, const char *key, const char *value);
int sim_out_profile(struct sim_out *o, const char *file, const char *app, const char *load,
		    const struct econ_point *p);

struct sim_out_round {
	uint64_t round;
	int64_t t_ns;
	const char *resource;
	int64_t pools, bids, supply, allocated;
	double utilization;       /* < 0: not applicable (NULL) */
	money_t price_min, price_mean, price_max;
	money_t revenue, welfare, tenant_utility;
	int64_t tenants;
};
int sim_out_round(struct sim_out *o, const char *variant, const struct sim_out_round *r);
int sim_out_pool_price(struct sim_out *o, const char *variant, uint64_t round, int64_t host,
		       const char *resource, money_t price);

struct sim_out_class {
	const char *name, *kind, *app, *utility, *strategy, *resource;
	int64_t tenants;
	money_t value, payment;
	double mean_delay_us;     /* < 0: NULL */
	int64_t allocated;
};
int sim_out_class_round(struct sim_out *o, const char *variant, uint64_t round,
			const struct sim_out_class *c);
int sim_out_class(struct sim_out *o, const char *variant, const struct sim_out_class *c);
/* A metric; exact is nanodollars for money metrics (has_exact). */
int sim_out_metric(struct sim_out *o, const char *variant, const char *name, double value,
		   const char *unit, bool has_exact, int64_t exact);

/* Recorded bids and outcomes ([output] record_bids). curve is "q@v q@v ..." */
int sim_out_bid(struct sim_out *o, const char *variant, uint64_t round, int64_t host,
		const char *resource, const struct pm_bid *b, int64_t quantity, money_t payment);
int sim_out_clearing(struct sim_out *o, const char *variant, uint64_t round, int64_t host,
		     const char *resource, int64_t supply, const struct pm_result *r);

int sim_out_timing(struct sim_out *o, const char *variant, uint64_t round, int64_t clear_ns,
		   int64_t wall_ns);
int sim_out_timing_metric(struct sim_out *o, const char *variant, const char *name, double value);

#endif
