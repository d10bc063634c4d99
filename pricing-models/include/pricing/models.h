/* models.h: the built-in pricing models: formula, inputs, outputs, parameters, source.
 *
 * Each model is a struct pm_model registered under its name; callers use pm_create(name) and
 * the pm_*() wrappers of pm.h, never these structs' methods directly. The structs are exported
 * so that a program can list the specs (pm_models()) or wrap a model (a decorator that
 * records calls). Conventions that hold for every model unless its section says otherwise:
 *
 *  - Units: quantities in the pool's unit; prices, values and the reserve in nanodollars per
 *    unit-hour; payments, revenue and welfare in nanodollars per hour.
 *  - A bid's declared marginal values are its curve, or one flat segment (max_quantity units
 *    at unit_price) when the curve is NULL, truncated at max_quantity. Units worth zero are
 *    never allocated.
 *  - Ties are broken by bidder id (lower id first), never by input order, unless the rule
 *    itself punishes ties (psp). Permuting the bids permutes the outcomes and changes nothing
 *    else.
 *  - Outputs: every outcome (quantity, payment), the pool price, revenue = sum of payments,
 *    allocated = sum of quantities, welfare = sum of values of the allocations (true values
 *    and welfare_true when every bid has a true curve, else declared values).
 *  - Randomness comes only from pool->rng and time only from pool->now_ns.
 *  - An instance is not thread-safe; separate instances are independent.
 *
 * Sources: ../shared/reference/markets.md (section numbers below) and the papers it cites. */
#ifndef PRICING_MODELS_H
#define PRICING_MODELS_H

#include "pricing/pm.h"

/* ---- fixed: a posted price ----
 * Formula: p constant. Each bid takes d_i = pm_bid_demand(bid, p) (the utility-maximizing
 * quantity in {0} u [min, max] at price p); if sum d_i > supply, bids are served in order of
 * the marginal value of their last demanded unit (high first, ties by bidder id), each getting
 * d_i or what is left when that is at least its min_quantity, else nothing.
 * Payment p x q. Pool price p.
 * Parameters: price (money, $0.05).
 * Source: baseline (markets.md section 0, fixed price lists). */
extern const struct pm_model pm_model_fixed;

/* ---- uniform: (K+1)-th price uniform multi-unit auction with reserve ----
 * Formula: every bid's marginal units with value v >= reserve are ranked by v (ties by bidder
 * id); the top K = min(supply, supply_cap) units win; price p = max(reserve, v_(K+1)), the
 * value of the best losing unit; every winner pays p per unit. Demand under supply: p =
 * reserve. Truthful for unit demand; multi-unit bidders may gain by demand reduction.
 * min_quantity: honoured by exclusion: whenever the supply runs out (or the ranked units
 * end), every bidder holding fewer than its min_quantity units is excluded from the round, its
 * units go back to the supply and allocation continues down the ranking. Excluded bidders'
 * units count as losing units for the price, which is however capped at the value of the
 * lowest unit sold (so that every winner values its units at least at the price):
 * p = max(reserve, min(best unsold unit, lowest sold unit)).
 * Parameters: reserve (money, $0), supply_cap (int, 0 = none: EC2's retroactive supply
 * limitation, at most this many units are sold whatever the supply).
 * Source: markets.md section 2 (EC2 (N+1)-th price auction) and section 3. */
extern const struct pm_model pm_model_uniform;

/* ---- vcg: multi-unit Vickrey-Clarke-Groves with decreasing marginal values ----
 * Formula: allocation = the K = supply highest marginal units with value >= reserve (greedy
 * is optimal for concave values; ties by bidder id). The reserve is a player zero holding
 * every unit at value r. Payment of i = W*_{-i} - (W* - v_i(a_i)) = the value of the a_i
 * units the others (player zero included) would get instead: the a_i best rejected units of
 * other bidders, then units at r. Computed from prefix sums over the sorted rejected
 * segments, skipping i's own rejected segments: O(S log S) for S segments.
 * Dominant-strategy truthful, efficient, 0 <= payment <= value.
 * Pool price: max(reserve, value of the best rejected unit): the price of one more unit.
 * min_quantity: ignored (a minimum makes values non-concave, which breaks both the greedy
 * allocation and truthfulness); use mpsp for all-or-nothing ranges.
 * Parameters: reserve (money, $0).
 * Source: markets.md section 3 (VCG, vecfunc-vcg's maille_tuffin). */
extern const struct pm_model pm_model_vcg;

/* ---- psp: Lazar-Semret progressive second price ----
 * Bid s_i = (q_i, p_i) = (max_quantity, unit_price); curves are not read (welfare uses them).
 * Allocation: a_i = min(q_i, [Q - sum_{k != i, p_k >= p_i} q_k]^+), with the reserve as a
 * player zero bidding (Q, r). Bidders at equal prices count each other's full quantity
 * ("ties punished"): leftover supply stays unallocated.
 * Payment (exclusion compensation): c_i = sum_{j != i} p_j [a_j(s_-i) - a_j(s)], the declared
 * value of what i's presence takes from the others (player zero included), capped at i's
 * declared value p_i a_i (the cap binds only with ties, where the literal rule can charge a
 * bidder for units its tie denies others while it gets nothing itself). Computed in
 * O(n log n): removing i raises the slack of every j with p_j <= p_i by q_i, so j contributes
 * p_j clamp(sigma_j + q_i, 0, q_j), piecewise linear in q_i; one sweep up the prices with a
 * Fenwick tree over the breakpoints answers every bidder.
 * Pool price: the price of the highest bid level at which the supply runs out (a new bidder
 * must outbid it to get anything), or the reserve.
 * min_quantity: ignored (a PSP bid is divisible by definition).
 * Parameters: reserve (money, $0).
 * Source: markets.md section 1.2 (Lazar & Semret; TonyWildish/P2P-Auction notes). */
extern const struct pm_model pm_model_psp;

/* ---- mpsp: Ginseng's PSP variant: range bids and an exchange penalty ----
 * Bid: price p_i (or a curve) and allowed ranges R_i (bid->ranges intersected with
 * [min_quantity, max_quantity], or that interval alone); zero is always allowed. Declared value v_i(q) = pm_bid_value(bid, q) for q in R_i u {0}.
 * Allocation (affine maximizer): a* = argmax sum_i v_i(a_i) + h(a) subject to
 * sum a_i <= Q, a_i in R_i u {0}, with h(a) = r (Q - sum a_i) - lambda sum_i |a_i - held_i|.
 * Solved exactly by a multiple-choice knapsack DP over the supply in chunk units (allocations
 * are multiples of the chunk); each linear piece of a bidder's objective is one sliding-window
 * maximum, so a bidder costs O(W x pieces) for W = Q / chunk. Bidders are processed in bidder
 * id order; among equally good allocations the DP's tie rule (smaller quantity to the earlier
 * bidder) decides.
 * Payment (VCG, exclusion compensation): c_i = [W_{-i} - lambda held_i] - [W* - v_i(a_i)],
 * where W_{-i} is the best objective of the others alone, from prefix and suffix DP tables
 * (O(W) per bidder). 0 <= c_i <= v_i(a_i); truthful for lambda = 0. With lambda > 0 the
 * unclamped value can be negative (i's presence saves exchanges); payments are clamped at 0.
 * Pool price: revenue / allocated (mean price per unit), or the reserve when nothing is sold.
 * min_quantity: honoured (the default range is [min, max]).
 * Memory: (n + 2) x (W + 1) table cells; when that exceeds max_cells the chunk grows to fit.
 * Parameters: reserve (money, $0), lambda (money per unit moved, $0), chunk (int, 1),
 * max_cells (int, 20000000).
 * Source: markets.md section 1.3 (derived from Ginseng VEE 2014 and Posener's thesis). */
extern const struct pm_model pm_model_mpsp;

/* ---- proportional: Kelly / Tycoon proportional share ----
 * Formula: b_i = the bid's spending rate = declared value of max_quantity (unit_price x
 * max_quantity for a flat bid); x_i = C b_i / (sum b + delta), capped at max_quantity, the
 * excess redistributed among the uncapped bidders in proportion to their b (water filling:
 * x_i = min(max_i, b_i / p) with sum x_i + delta / p = C). Integer units by largest remainder
 * (ties by bidder id). delta acts as the provider's own bid: its share stays unallocated.
 * Payment: Kelly's payment is the bid, b_i = p x_i. Here a bidder pays the share price for
 * what it got, p x_i, capped at its bid pro rata to what it got, b_i x_i / max_i (both rounded
 * down), so that nobody pays more than the declared value of its share (concave values:
 * v(x)/x >= v(max)/max). In practice capped bidders pay p per unit and uncapped ones their
 * own unit price. With delta = 0 and demand below supply the share price is 0 and nobody
 * pays: delta plays the part of a reserve.
 * Pool price: the share price p (per unit-hour) of the water filling, rounded up; when every
 * unit is claimed by capped bidders (no finite p), the highest b_i / max_i.
 * min_quantity: bidders whose plain Kelly share C b_i / (sum b + delta) falls below their
 * minimum drop out, the most constrained first (lowest C b_i / min_i, ties by bidder id),
 * until every remaining share meets its minimum; redistribution only raises shares.
 * Parameters: delta (money per hour, $0).
 * Source: markets.md section 3 (Kelly; Johari & Tsitsiklis; Tycoon). */
extern const struct pm_model pm_model_proportional;

/* ---- spot-ar1: EC2's hidden AR(1) reserve price and an (N+1)-th price auction ----
 * Reserve P_i = P_{i-1} + D_i, D_i = -a D_{i-1} + eps, eps ~ N(0, sigma), sigma =
 * sigma_factor (C - F); P is rounded to the tick; eps is redrawn while P_i leaves [F, C] or
 * equals P_{i-1} (D_{i-1} is the realized, rounded change). Start P_0 = F, D_0 = -0.1 (C - F).
 * With probability jump_prob a change is instead a jump: P_i uniform among the tick prices of
 * [F, C] at least (C - F) / 2 from P_{i-1}.
 * Timing: the price is reconsidered at most once per clearing, when at least min_interval +
 * U[0, interval_spread] (+ an exponential gap of mean gap_mean when gap_mean > 0) has passed
 * since the last reconsideration, measured on pool->now_ns (the first clearing sets the
 * origin); a reconsideration changes the price with probability change_prob (the first after a
 * change), change_prob_later (the later ones) or excursion_change_prob (during an excursion).
 * Excursions (demand of bidders outside the model): a change from inside the band goes above
 * it with probability excursion_prob, to C + (0.12 + Exp(excursion_height)) (C - F) rounded
 * to the tick (at least a tick above C); a change above the band stays above (at a new such price) with probability
 * excursion_stay, else the posted price is the reserve again. The hidden reserve steps at
 * every change, excursion or not.
 * Clearing: the uniform auction above with the posted price as its reserve (EC2: winners pay
 * the spot price). Posted price: the reserve, or the excursion's price.
 * Parameters: floor F (money, $0.034), ceiling C (money, $0.038), a, sigma_factor, tick
 * (money, $0.001), jump_prob, min_interval, interval_spread, change_prob, change_prob_later,
 * gap_mean (duration, 0s), excursion_prob, excursion_stay, excursion_height,
 * excursion_change_prob, supply_cap (int, 0 = none). F and C are
 * rounded inward to the tick. spot-ar1's defaults are calibrated on ../shared/data (spot.h:
 * a 0.848, sigma_factor 0.519, jump_prob 0.373, reconsiderations U[60.6 min, 90.9 min] apart
 * changing with probability 0.466 then 0.432, ...) so that its output measures like the
 * traces; spot-ar1-paper has the paper's figures (a 0.7, sigma_factor 0.39, no jumps, a change
 * every hour, no excursions).
 * Source: markets.md section 2 (Agmon Ben-Yehuda et al., TEAC 2013; m1.small: a = 0.5,
 * sigma_factor = 0.5; after Feb 2011: min_interval 5m, gap_mean 1.5h); docs/pricing-models.md
 * (the calibration). */
extern const struct pm_model pm_model_spot_ar1;
extern const struct pm_model pm_model_spot_ar1_paper;

/* ---- utilization: a posted price stepped by utilization, CloudSigma-style ----
 * Formula: price = base x multiplier(u), where u is the utilization (allocated / supply) of
 * the previous period and multiplier is the last level whose threshold is <= u. Levels are
 * computed at the end of a period and applied during the next (CloudSigma computes levels
 * every 5 minutes and applies them 5 minutes later). period = 0: each round is a period;
 * else the utilization is averaged over the rounds of a period, weighted by round length.
 * The first period uses the level of utilization 0. Clearing as `fixed` at that price.
 * Parameters: base (money, $0.05), levels (text "threshold:multiplier ...", thresholds
 * ascending from 0, e.g. "0:1 0.5:1.25 0.7:1.5 0.8:2 0.9:3"), period (duration, 0s).
 * Source: markets.md section 3 (CloudSigma burst levels; the level map is not public). */
extern const struct pm_model pm_model_utilization;

/* ---- trace: replays a price trace (EC2 spot CSV) as a step function ----
 * The price at pool time t is scale x the price of the last trace line at or before
 * first_line + offset + (t - t0), where t0 is pool->now_ns at the first call. Past the last
 * line the last price holds, or with loop the replay wraps around (period = last - first
 * timestamp). The file is read once by create (pm_trace_load); no I/O afterwards.
 * Clearing as `fixed` at that price.
 * Parameters: file (string, required), scale (double, 1), offset (duration, 0s), loop
 * (true/false, false).
 * Source: ../shared/data/ec2-spot-2009-2011 (markets.md section 6, cloudexchange.org format). */
extern const struct pm_model pm_model_trace;

#endif
