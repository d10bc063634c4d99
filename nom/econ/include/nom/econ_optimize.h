/* econ_optimize.h: the Pareto frontier of a profile and the working-point optimizer.
 *
 * A nom app re-picks its batching delay whenever the price or its load changes: among the
 * working points of its profile at the current load level it takes the one that maximizes its
 * utility U = T * (a - P) at the current price, and never a dominated point (one that another
 * point beats on every quantity the utility depends on).
 *
 * Dominance: point q is dominated by p when p's throughput (Gbit/s) is >= q's, p's mean
 * latency <= q's, p's CPU (econ_point_cores: cores it keeps busy, 0 for rows without a CPU
 * measurement) <= q's, and, when the criteria include jitter, p's jitter <= q's, with at
 * least one strict. The CPU criterion keeps a cheaper non-spinning point beside a spinning
 * one that beats it on latency: which wins depends on the core price. The thesis's frontier is two-dimensional (throughput up, latency down), which is
 * what refund and bonus depend on; the penalty also depends on jitter, so its frontier adds
 * jitter down. For every utility here, a dominated point never earns more than the point that
 * dominates it as long as its own profit is >= 0 (a(L, sigma) is non-increasing in L, and in
 * sigma while L <= L0), so the best frontier point is the best point overall whenever any
 * point makes money. When every point loses money the optimizer still returns the best
 * frontier point; whether to serve at all is the bidding layer's decision.
 *
 * A menu is the frontier of one profile level under one utility, with each point's value per
 * Gbit computed once; picking a point for a price is then a few multiplications, which is
 * what lets raas-sim re-plan 100,000 tenants every round. A menu is an immutable value after
 * econ_menu_build(). */
#ifndef NOM_ECON_OPTIMIZE_H
#define NOM_ECON_OPTIMIZE_H

#include <stdbool.h>
#include <stddef.h>

#include "nom/econ.h"
#include "nom/econ_profile.h"

#define ECON_MENU_MAX 64 /* frontier points kept per menu */

/* Frontier criteria. */
enum econ_criteria {
	ECON_TPUT_LATENCY,        /* throughput up, latency down (the thesis's frontier) */
	ECON_TPUT_LATENCY_JITTER, /* and jitter down (what the penalty depends on) */
};

/* The criteria a utility depends on. */
enum econ_criteria econ_utility_criteria(const struct econ_utility *u);

/* Is pts[i] dominated by another point of pts[0..n)? */
bool econ_dominated(const struct econ_point *pts, size_t n, size_t i, enum econ_criteria c);

/* The indices of the undominated points of pts[0..n), sorted by increasing throughput (ties:
 * increasing latency, then delay). Exact duplicates keep the lowest delay. Writes at most max
 * indices into idx and returns how many there are (which may exceed max). */
size_t econ_frontier(const struct econ_point *pts, size_t n, enum econ_criteria c, size_t *idx,
		     size_t max);

/* One frontier point of a menu. */
struct econ_choice {
	const struct econ_point *point; /* borrowed from the level */
	double tput_gbps;
	double value_per_gbit;          /* a(L, sigma), $/Gbit */
	double cores;                   /* econ_point_cores(): the CPU it burns, cores */
};

struct econ_menu {
	struct econ_utility utility;
	size_t n;                                 /* 1..ECON_MENU_MAX */
	struct econ_choice choices[ECON_MENU_MAX]; /* sorted by increasing throughput */
};

/* Builds the menu of a level under u (borrows the level's points: the level must outlive
 * the menu). Returns 0, -EINVAL for a bad utility or an empty level, or -E2BIG when the
 * frontier has more than ECON_MENU_MAX points. */
int econ_menu_build(const struct econ_level *level, const struct econ_utility *u,
		    struct econ_menu *out);

/* The index (into menu->choices) of the point that maximizes T * (a - P) at this price.
 * Ties: lower latency, then lower delay. */
size_t econ_menu_pick(const struct econ_menu *m, double price_per_gbit);

/* The same, with the CPU each point burns priced: maximizes T * (a - P) - cores x
 * core_per_s, where cores = econ_point_cores() (throughput x CPU per request) and core_per_s
 * the price of a core in $/s. This is how a busy-poll budget is bought: a point that spins
 * burns more CPU for its lower latency, and wins only while that CPU is cheap enough. Ties:
 * lower latency, then lower delay, then lower spin. */
size_t econ_menu_pick_priced(const struct econ_menu *m, double price_per_gbit,
			     double core_per_s);

/* The index of the point whose value rate min(T * scale, cap) * a is highest when the app
 * may send at most cap_gbps and its load is scale (0..1] of the level's: what an app does
 * with a bandwidth allocation it has already paid for. Ties as econ_menu_pick(). */
size_t econ_menu_pick_capped(const struct econ_menu *m, double scale, double cap_gbps);

/* The optimizer in one call: the point of level that maximizes u at price_per_gbit (a
 * pointer into level->points), or NULL with *err set (-EINVAL, -E2BIG). */
const struct econ_point *econ_optimize(const struct econ_level *level,
				       const struct econ_utility *u, double price_per_gbit,
				       int *err);

/* A declared demand curve: `gbps` more Gbit/s, each worth `value_per_gbit`. */
struct econ_segment {
	double gbps;
	double value_per_gbit;
};

/* The app's truthful demand curve for traffic: the upper concave envelope of the points
 * (T_i, T_i * a_i) and the origin, as segments of strictly decreasing marginal value, scaled
 * by the load fraction scale. At any price P, the demand it declares (the segments worth more
 * than P) ends at the throughput of econ_menu_pick(m, P) (up to ties). Segments with a
 * marginal value <= 0 are dropped. Writes at most max segments; returns the count. */
size_t econ_menu_curve(const struct econ_menu *m, double scale, struct econ_segment *segs,
		       size_t max);

#endif
