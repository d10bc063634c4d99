/* pm.h: the pricing-model interface shared by the market and the simulator.
 *
 * A pricing model turns one round's bids for one pool (one resource on one host) into
 * allocations, payments and a pool price. Models are pure: no I/O, no clock reads, no globals;
 * the round's time and a seeded GSL generator come in through struct pm_pool, so a clearing
 * is a function of its inputs and the model's own state (an AR(1) reserve price, a trace
 * cursor). The market and raas-sim call the same wrappers below, which is what makes a
 * simulated round and a real round clear identically.
 *
 * Plugins follow one template (STYLE.md "Plugins"): a versioned struct pm_model of function
 * pointers, registered by name, optional methods NULL, called only through the pm_*()
 * wrappers, which check inputs and outputs and time each clearing.
 *
 * Units: quantities in the pool's unit (cores, MiB, Mbit/s, ways); prices and declared
 * values in nanodollars per unit-hour; payments and revenue in nanodollars per hour (the
 * rate at which the round's holder pays; the market multiplies by the round's length). */
#ifndef PRICING_PM_H
#define PRICING_PM_H

#include <gsl/gsl_rng.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "common/money.h"
#include "common/plugin.h"

#define PM_API_VERSION 1

/* `quantity` more units, each worth `unit_value` (nanodollars per unit-hour). A curve is a
 * list of segments with strictly decreasing unit_value: its value function is piecewise
 * linear and concave. */
struct pm_segment {
	int64_t quantity;
	money_t unit_value;
};

/* An allowed quantity range [min, max] (MPSP range bids); zero is always allowed. */
struct pm_range {
	int64_t min;
	int64_t max;
};

/* One bid in one pool, borrowed by the model for the duration of the call. */
struct pm_bid {
	uint64_t bidder;        /* unique in the clearing; the tie-break key (never input order) */
	int64_t min_quantity;   /* the bidder takes nothing rather than less than this */
	int64_t max_quantity;
	money_t unit_price;     /* limit price per unit-hour; the flat value when curve is NULL */
	const struct pm_segment *curve; /* declared marginal values, or NULL: one segment
					   (max_quantity at unit_price) */
	size_t ncurve;
	const struct pm_range *ranges;  /* MPSP allowed ranges, or NULL: [min, max] */
	size_t nranges;
	int64_t held;           /* held after the previous round (exchange penalty) */
	const struct pm_segment *true_curve; /* true values when known (simulator), else NULL */
	size_t ntrue;
};

/* One bidder's outcome, parallel to the bids array. */
struct pm_outcome {
	int64_t quantity;
	money_t payment;        /* nanodollars per hour */
};

struct pm_result {
	money_t price;          /* the pool's unit price this round, per unit-hour */
	money_t revenue;        /* sum of payments, per hour */
	int64_t allocated;      /* sum of quantities */
	money_t welfare;        /* sum of values of the allocations, per hour */
	bool welfare_true;      /* every bid carried a true curve: welfare is the true welfare */
	int64_t clear_ns;       /* wall time the clearing took (set by the wrapper; not part of
				   the outcome, so excluded from determinism comparisons) */
	struct pm_outcome *outcomes; /* caller-provided array of nbids entries */
};

/* What a clearing is given besides the bids. */
struct pm_pool {
	int64_t supply;         /* units available to allocate this round */
	uint64_t round;
	int64_t now_ns;         /* round start on the caller's clock (monotonic or simulated) */
	int64_t round_ns;       /* round length */
	gsl_rng *rng;           /* seeded by the caller; models draw only from it */
};

/* A model's parameter: name, default, help. Values are text ("$0.05", "0.7", "1h"). */
enum pm_param_type { PM_PARAM_MONEY, PM_PARAM_DOUBLE, PM_PARAM_INT, PM_PARAM_DURATION,
		     PM_PARAM_STRING };

struct pm_param_spec {
	const char *name;
	enum pm_param_type type;
	const char *default_value; /* NULL: required */
	const char *help;
};

/* Parameters given to a model: name=value pairs, borrowed during pm_create(). */
struct pm_param {
	const char *name;
	const char *value;
};

/* Error text from a model or a wrapper: what is wrong and where (bid index, field). */
struct pm_error {
	char message[256];
};

struct pm_instance;

struct pm_model {
	/* api_version PM_API_VERSION, size sizeof(struct pm_model) the model was built with,
	 * name "uniform" (common/plugin.h) */
	PLUGIN_HEADER;
	const char *summary;    /* one line */
	const struct pm_param_spec *params;
	size_t nparams;

	/* Builds an instance from validated parameters (every name is in params; defaults
	 * filled in). Takes nothing; on failure returns a negative errno or project error with
	 * err filled, and nothing is allocated. */
	int (*create)(const struct pm_param *params, size_t nparams, struct pm_instance **out,
		      struct pm_error *err);
	void (*destroy)(struct pm_instance *inst);
	/* Clears one round. bids are valid (checked by the wrapper); result->outcomes has
	 * nbids entries, zeroed. Fills every outcome, price, revenue, allocated and welfare. */
	int (*clear)(struct pm_instance *inst, const struct pm_pool *pool,
		     const struct pm_bid *bids, size_t nbids, struct pm_result *result,
		     struct pm_error *err);
	/* Optional: the posted price that holds now, before this round's bids are known (price
	 * models and posted-price mechanisms); NULL for pure auctions. */
	int (*posted_price)(struct pm_instance *inst, const struct pm_pool *pool, money_t *out);
	/* Optional, appended after API 1 shipped (read only when size covers it): checks the
	 * instance's invariants (stateful models: a reserve inside its band, a trace cursor);
	 * returns 0 or a negative errno with err naming the broken invariant. */
	int (*check)(struct pm_instance *inst, struct pm_error *err);
};

/* ---- Registry ---- */

/* The built-in models, and any registered with pm_register(). Returns NULL when none. */
const struct pm_model *pm_find(const char *name);
/* Registers a model (borrowed: must outlive the process). Returns 0, -EEXIST,
 * -RAAS_EVERSION for another api_version or a struct smaller than API 1's first release
 * (which ended at posted_price), -ENOSPC past 64 models, or -EINVAL. */
int pm_register(const struct pm_model *model);
/* All registered models in registration order; returns the count. */
size_t pm_models(const struct pm_model **out, size_t max);

/* ---- Wrappers: the only way the market and the simulator call a model ---- */

/* Creates an instance of the named model. Unknown names and parameters are refused with the
 * closest known one suggested; parameter values are type-checked. */
int pm_create(const char *model, const struct pm_param *params, size_t nparams,
	      struct pm_instance **out, struct pm_error *err);
/* Parses "name=value, name=value" (values may be quoted) into params; the strings point into
 * a copy kept in *storage (free it after pm_create). Returns the count or -RAAS_EPARSE. */
int pm_params_parse(const char *text, struct pm_param *params, size_t max, char **storage,
		    struct pm_error *err);
void pm_destroy(struct pm_instance *inst);
/* The model an instance was created from. */
const struct pm_model *pm_instance_model(const struct pm_instance *inst);

/* Checks the bids (each field, naming the bid index), clears, then checks the result:
 * allocations within [0, max_quantity] and within supply in total, revenue equal to the sum
 * of payments, no negative payment. result->outcomes must hold nbids entries. */
int pm_clear(struct pm_instance *inst, const struct pm_pool *pool, const struct pm_bid *bids,
	     size_t nbids, struct pm_result *result, struct pm_error *err);
/* The model's posted price, or -ENOTSUP for pure auctions. */
int pm_posted_price(struct pm_instance *inst, const struct pm_pool *pool, money_t *out);
/* Runs the model's invariant check (0 when it has none). Tests call it after each clearing. */
int pm_check(struct pm_instance *inst, struct pm_error *err);

/* ---- Helpers shared by models, the market and the simulator ---- */

/* The value of q units under a curve (or the flat bid when curve is NULL): sum of segment
 * values, nanodollars per hour. Saturates at INT64_MAX. */
money_t pm_curve_value(const struct pm_segment *curve, size_t ncurve, int64_t flat_quantity,
		       money_t flat_unit_value, int64_t q);
/* The declared value and the true value (when known) of q units for a bid. */
money_t pm_bid_value(const struct pm_bid *bid, int64_t q);
money_t pm_bid_true_value(const struct pm_bid *bid, int64_t q);
/* How many units a price-taking bidder takes at a posted price: the quantity q in
 * {0} u [min_quantity, max_quantity] that maximizes declared value - price x q (units whose
 * marginal value equals the price are taken; zero-value units never are). Used by the
 * posted-price models; the market uses it to answer an acquire at the posted price. */
int64_t pm_bid_demand(const struct pm_bid *bid, money_t price);

#endif
