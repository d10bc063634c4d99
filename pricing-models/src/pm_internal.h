/* pm_internal.h: what the built-in models share and nothing outside pricing-models/ sees.
 *
 * Helpers for errors, validated parameters, growable scratch buffers, a bid's effective
 * segments, sorting, result totals, and the two clearing cores that more than one model uses
 * (the uniform-price auction: `uniform`, `spot-ar1`; the posted-price allocation: `fixed`,
 * `utilization`, `trace`). Names carry the `pm__` prefix of library internals. */
#ifndef PRICING_PM_INTERNAL_H
#define PRICING_PM_INTERNAL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "common/names.h"
#include "pricing/pm.h"

/* ---- Errors ---- */

/* Formats err (when not NULL) and returns code (a negative errno or project error). */
int pm__errorf(struct pm_error *err, int code, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

/* The model's own instance behind a handle from pm_create() (NULL for anything else), for
 * library code that drives a model it knows (spot-ar1's series generator). */
struct pm_instance *pm__impl(struct pm_instance *inst);

/* ---- Parameters (already validated by pm_create: every spec'd name present once) ---- */

const char *pm__param(const struct pm_param *params, size_t n, const char *name);
/* The typed value of a parameter the wrapper has type-checked. Return 0, or -EINVAL with err
 * filled when the name is missing (a model bug) or the text does not parse. */
int pm__param_money(const struct pm_param *params, size_t n, const char *name, money_t *out,
		    struct pm_error *err);
int pm__param_double(const struct pm_param *params, size_t n, const char *name, double *out,
		     struct pm_error *err);
int pm__param_int(const struct pm_param *params, size_t n, const char *name, int64_t *out,
		  struct pm_error *err);
int pm__param_duration(const struct pm_param *params, size_t n, const char *name, int64_t *out,
		       struct pm_error *err);
/* A money parameter that must not be negative; the error names model and parameter. */
int pm__param_money_nonneg(const struct pm_param *params, size_t n, const char *model,
			   const char *name, money_t *out, struct pm_error *err);
/* Checks one value against its type; *why is a static reason on failure. */
int pm__param_check(enum pm_param_type type, const char *value, const char **why);

/* ---- Scratch buffers kept by an instance between clearings ---- */

struct pm_buf {
	void *p;
	size_t cap; /* bytes */
};

/* Makes b hold at least bytes (contents not kept). Returns 0 or -ENOMEM. */
int pm__buf_reserve(struct pm_buf *b, size_t bytes);
/* As pm__buf_reserve for count elements of size; -ENOMEM on size overflow too. */
int pm__buf_array(struct pm_buf *b, size_t count, size_t size);
/* As pm__buf_array, keeping the contents (for arrays built by appending). */
int pm__buf_grow(struct pm_buf *b, size_t count, size_t size);
void pm__buf_free(struct pm_buf *b);

/* ---- A bid's effective marginal values ----
 *
 * The curve (or one flat segment of max_quantity at unit_price), truncated at max_quantity,
 * zero-quantity segments skipped. Every mechanism that reads marginal values reads them
 * through this iterator, so that "units past max_quantity are worth nothing" holds
 * everywhere. */
struct pm_segs {
	const struct pm_segment *curve;
	size_t ncurve, k;
	int64_t left; /* units still allowed by max_quantity */
	money_t flat_value;
};

static inline void pm__segs_init(struct pm_segs *it, const struct pm_bid *b)
{
	it->curve = b->curve;
	it->ncurve = b->curve ? b->ncurve : 0;
	it->k = 0;
	it->left = b->max_quantity > 0 ? b->max_quantity : 0;
	it->flat_value = b->unit_price;
}

static inline bool pm__segs_next(struct pm_segs *it, struct pm_segment *out)
{
	if (it->left <= 0)
		return false;
	if (!it->curve) {
		out->quantity = it->left;
		out->unit_value = it->flat_value;
		it->left = 0;
		return true;
	}
	while (it->k < it->ncurve && it->curve[it->k].quantity <= 0)
		it->k++;
	if (it->k >= it->ncurve)
		return false;
	const struct pm_segment *s = &it->curve[it->k++];
	out->quantity = s->quantity < it->left ? s->quantity : it->left;
	out->unit_value = s->unit_value;
	it->left -= out->quantity;
	return true;
}

/* ---- Sorting ----
 *
 * Every order a model needs is "by a 128-bit key (hi, lo) ascending", with the payload val
 * carried along. Keys are built so that ties are broken by bidder id, never by input order:
 * hi = pm__desc(price) sorts prices high to low, lo = bidder sorts ids low to high. The sort
 * is an LSD radix sort that skips the byte positions in which all keys agree (a few passes for
 * realistic prices and ids), with insertion sort for short arrays. */
struct pm_key {
	uint64_t hi, lo;
	uint64_t val;
};

static inline uint64_t pm__desc(money_t v) /* v >= 0: larger v, smaller key */
{
	return UINT64_MAX - (uint64_t)v;
}

static inline uint64_t pm__asc_signed(int64_t v)
{
	return (uint64_t)v ^ (UINT64_C(1) << 63);
}

/* Sorts a[0..n) using tmp[0..n) as scratch; the result is in a. */
void pm__sort_keys(struct pm_key *a, struct pm_key *tmp, size_t n);

/* The value a pm__desc() key stands for. */
static inline money_t pm__key_value(const struct pm_key *k)
{
	return (money_t)(UINT64_MAX - k->hi);
}

/* Marginal units ranked (rank.c): every segment worth at least floor and more than 0, by
 * value high to low, ties by bidder id. keys.p[j].val is a segment index s: its bid is
 * seg_bid.p[s], its quantity seg_qty.p[s], its value pm__key_value(&keys.p[j]). */
struct pm_ranked {
	struct pm_buf keys, tmp, seg_bid, seg_qty;
	size_t n; /* segments ranked */
};

int pm__rank_segments(struct pm_ranked *r, const struct pm_bid *bids, size_t n, money_t floor,
		      struct pm_error *err);
void pm__ranked_free(struct pm_ranked *r);

/* ---- Results ---- */

/* Fills revenue, allocated, welfare and welfare_true from the outcomes (checked sums).
 * Returns 0 or -RAAS_EOVERFLOW with err filled. */
int pm__finish(const struct pm_bid *bids, size_t n, struct pm_result *res, struct pm_error *err);

/* payment = price x quantity, checked. */
int pm__pay(money_t price, int64_t q, money_t *out, struct pm_error *err, size_t bid);

/* ---- Shared clearing cores ---- */

/* Scratch for the uniform-price auction. */
struct pm_uniform_ws {
	struct pm_ranked rank;
	struct pm_buf q, state, partial;
};

/* (K+1)-th price uniform auction over marginal units: K = min(supply, cap) (cap < 0: none);
 * units with value >= reserve (and > 0) ranked by value, ties by bidder id; min_quantity
 * honoured by exclusion (see models.h). Fills the whole result (pm__finish). */
int pm__uniform_clear(struct pm_uniform_ws *ws, const struct pm_bid *bids, size_t n,
		      int64_t supply, int64_t cap, money_t reserve, struct pm_result *res,
		      struct pm_error *err);
void pm__uniform_ws_free(struct pm_uniform_ws *ws);

/* Scratch for the posted-price allocation. */
struct pm_posted_ws {
	struct pm_buf keys, tmp, demand;
};

/* Every bid takes its demand at price (pm_bid_demand); when demand exceeds supply, bids are
 * served by priority (marginal value of their last demanded unit, high to low, ties by
 * bidder id), each getting all it demands or what is left if that is at least its
 * min_quantity. Payment price x quantity. Fills the whole result (pm__finish). */
int pm__posted_clear(struct pm_posted_ws *ws, const struct pm_bid *bids, size_t n,
		     int64_t supply, money_t price, struct pm_result *res, struct pm_error *err);
void pm__posted_ws_free(struct pm_posted_ws *ws);

/* Closest candidate to word (common/names.h), or NULL when none is a likely typo. */
#define pm__closest name_closest

#endif
