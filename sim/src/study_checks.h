/* study_checks.h: two known results of auction theory, checked on a study's own rounds.
 *
 * `raas-sim report STUDY` prints these under "Known results" when the study's runs recorded
 * their bids ([output] record_bids; the study_bids and study_clearings tables of a merged
 * study, sim/include/sim/study.h):
 *   - VCG's allocation maximizes welfare. For every recorded vcg clearing, the declared value
 *     of its allocation plus the reserve's value of the units it kept (VCG's reserve is a
 *     player holding every unit at r) equals the optimum over every allocation of the supply
 *     to the bidders (an exact dynamic program over each bidder's every quantity, a method
 *     independent of VCG's greedy ranking); and on small instances cut from those clearings
 *     (their first 6 bidders, at most 10 units, cleared afresh by pm_clear) it equals the
 *     brute-force maximum over every allocation vector.
 *   - A uniform-price auction with reserve r earns at least r per unit sold: for every
 *     recorded uniform clearing, price >= r and revenue >= r x units allocated.
 * The models and reserves come from each run's effective configuration (study_run_meta). */
#ifndef SIM_STUDY_CHECKS_H
#define SIM_STUDY_CHECKS_H

#include <sqlite3.h>
#include <stddef.h>
#include <stdio.h>

struct study_check_counts {
	size_t vcg_clearings, vcg_optimal, vcg_too_large;
	size_t vcg_small, vcg_small_optimal;
	size_t uniform_clearings, uniform_ok;
};

/* Checks every recorded vcg and uniform clearing of the study db and prints the results
 * (with the first counterexample of each, if any) to out. Fills counts when not NULL.
 * Returns 0 (also when the study recorded no bids: it says so), or a negative error with why
 * when the study cannot be read. */
int study_checks(sqlite3 *db, FILE *out, char *why, size_t len);
int study_checks_count(sqlite3 *db, FILE *out, struct study_check_counts *counts, char *why,
		       size_t len);

#endif
