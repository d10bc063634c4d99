/* fit_spot.h: `raas-sim fit-spot TRACE...`: EC2 spot traces measured, spot-ar1 fitted to them.
 *
 * For every trace (EC2 spot CSV, pricing/trace.h) and for all of them pooled: the statistics
 * of pricing/spot.h over a window (default: the 2010 AR(1) epoch), the parameters that make
 * spot-ar1's output measure the same (per trace, and pooled: the shipped defaults), and the
 * statistics of the model's own output beside the trace's: with the trace's own fit, with the
 * pooled defaults and with the paper's literal model (spot-ar1-paper), each with the
 * two-sample KS test of its gaps against the trace's. Optionally the same as CSV. */
#ifndef SIM_FIT_SPOT_H
#define SIM_FIT_SPOT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

struct sim_fit_spot_opts {
	const char *const *traces;
	size_t ntraces;
	int64_t from_ns, to_ns;   /* window; 0, 0: the 2010 epoch (spot.h) */
	int64_t tick;             /* nanodollars; 0: $0.001 */
	uint64_t seed;
	size_t changes;           /* model changes per comparison (default 20,000) */
	size_t fit_changes;       /* per band and fit evaluation (default 4,000; pooled 3,000) */
	bool pooled_only;         /* fit only the pooled parameters (the defaults) */
	const char *csv;          /* NULL, or a CSV file to write (one row per trace and model) */
};

/* Prints the tables to out. Returns 0, -ENOENT / -RAAS_EPARSE for a trace that cannot be read
 * or measured (why names the file and the reason), or another negative error with why. */
int sim_fit_spot(const struct sim_fit_spot_opts *o, FILE *out, char *why, size_t why_len);

#endif
