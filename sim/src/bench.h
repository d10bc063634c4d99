/* bench.h: `raas-sim bench`: the simulator at cloud scale, as JSON lines.
 *
 * Each configuration (hosts, tenants, rounds) runs a built-in scenario in a child process (so
 * that each peak RSS is its own) and prints one JSON object per line with exactly the fields
 * hosts, tenants, rounds, wall_s, rounds_per_s, bid_evals_per_s, peak_rss_mib. The scenario:
 * a day of 60 s rounds, tenants split between adaptive nom apps (memcached-like profiles,
 * three utility functions, diurnal load), static nom apps and flat bidders for cores, with
 * churn (exponential lifetimes, Poisson arrivals that keep the population steady), every
 * host's bandwidth cleared by a uniform-price auction and its cores by VCG. */
#ifndef SIM_BENCH_H
#define SIM_BENCH_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

struct sim_bench_opts {
	int64_t hosts;          /* default 10,000 */
	int64_t tenants[8];     /* default 10,000, 30,000, 100,000 */
	size_t ntenants;
	int64_t rounds;         /* default 1,440 */
	int threads;            /* 0: one per CPU */
};

/* Runs each configuration and prints its JSON line to out. Returns 0 or a negative error
 * with why filled. */
int sim_bench(const struct sim_bench_opts *o, FILE *out, char *why, size_t why_len);

#endif
