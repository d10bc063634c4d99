/* pm_testutil.h: helpers for the pricing-model tests: bids, one-call clearing, random
 * instances, permutations and outcome comparison by bidder.
 *
 * Every helper that can fail fails the test (exit 1) with the model's error text, so that the
 * tests themselves read as the arithmetic they check. */
#ifndef PM_TESTUTIL_H
#define PM_TESTUTIL_H

#include <gsl/gsl_rng.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "pricing/pm.h"

#define PMT_MAX_BIDS 16
#define PMT_MAX_SEGS 6
#define PMT_MAX_RANGES 3

/* Nanodollars per dollar, cent: hand cases are written in cents to keep the arithmetic short. */
#define CENT INT64_C(10000000)

/* A flat bid: max units at price per unit-hour, min 0. */
struct pm_bid pmt_flat(uint64_t bidder, int64_t max, money_t price);

/* Creates a model from "name=value, ..." text or fails the test. */
struct pm_instance *pmt_create(const char *model, const char *params);

/* Clears with supply (now 0, round 1 s, no rng) or fails the test; out holds n outcomes. */
void pmt_clear(struct pm_instance *inst, int64_t supply, const struct pm_bid *bids, size_t n,
	       struct pm_result *res, struct pm_outcome *out);
/* As pmt_clear with a full pool. */
void pmt_clear_pool(struct pm_instance *inst, const struct pm_pool *pool,
		    const struct pm_bid *bids, size_t n, struct pm_result *res,
		    struct pm_outcome *out);

/* A random instance with storage for its curves and ranges. */
struct pmt_inst {
	size_t n;
	int64_t supply;
	struct pm_bid bids[PMT_MAX_BIDS];
	struct pm_segment curves[PMT_MAX_BIDS][PMT_MAX_SEGS];
	struct pm_segment truth[PMT_MAX_BIDS][PMT_MAX_SEGS];
	struct pm_range ranges[PMT_MAX_BIDS][PMT_MAX_RANGES];
};

enum {
	PMT_CURVES = 1,  /* multi-segment curves on some bids */
	PMT_MINS = 2,    /* min_quantity on some bids */
	PMT_RANGES = 4,  /* MPSP ranges on some bids */
	PMT_HELD = 8,    /* held quantities */
	PMT_TRUTH = 16,  /* every bid carries a true curve (= its declared values) */
	PMT_SMALL = 32,  /* quantities and supply small enough for brute force */
};

/* Draws an instance: 0..max_n bids, prices from a small set (ties are common), distinct
 * random bidder ids, supply from 0 to above total demand. Pointers point into *t. */
void pmt_random(gsl_rng *r, struct pmt_inst *t, size_t max_n, unsigned flags);
/* Copies src into dst with the bids in a random order (curve and range storage copied and
 * pointers fixed up). */
void pmt_permute(gsl_rng *r, const struct pmt_inst *src, struct pmt_inst *dst);

/* Outcomes and totals equal, matching bids by bidder id; fails the test naming the case. */
void pmt_same_result(const char *what, const struct pm_bid *a_bids, const struct pm_result *a,
		     const struct pm_bid *b_bids, const struct pm_result *b, size_t n);

/* Prints an instance on stderr (for failing random cases). */
void pmt_dump(const char *what, const struct pm_bid *bids, size_t n, int64_t supply);

#endif
