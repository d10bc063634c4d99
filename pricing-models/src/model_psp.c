/* model_psp.c: Lazar and Semret's progressive second price auction, payments in O(n log n).
 *
 * Allocation (bid s_i = (q_i, p_i), supply Q, reserve r as player zero bidding (Q, r)):
 *     sigma_j = Q - sum_{k != j, p_k >= p_j} q_k          (j's slack; player zero included)
 *     a_j     = clamp(sigma_j, 0, q_j)
 * Payment (exclusion compensation): c_i = sum_{j != i} p_j [a_j(s_-i) - a_j(s)].
 *
 * Removing i raises sigma_j by q_i for every j != i with p_j <= p_i and leaves the others
 * alone, so with F_j(x) = p_j clamp(sigma_j + x, 0, q_j):
 *     c_i = sum_{j in J_i} [F_j(q_i) - F_j(0)],   J_i = {j != i : p_j <= p_i}.
 * F_j is piecewise linear with breakpoints A_j = -sigma_j and B_j = q_j - sigma_j: 0 before
 * A_j, slope p_j up to B_j, constant p_j q_j after. Sweeping the bidders by ascending price and
 * inserting each F_j into a Fenwick tree indexed by breakpoint rank (slope and intercept
 * sums), sum_{j in J_i} F_j(x) is one prefix query at x. A price level is inserted whole
 * before its bidders are answered; each then subtracts its own F_i. Bidders whose F_j is
 * constant on [0, max q] (deep losers with A_j >= max q, comfortable winners with B_j <= 0)
 * contribute nothing and are not inserted, so the tree holds only the bidders near the
 * margin. Intermediate sums are 128-bit. The naive O(n^2) definition is checked against this
 * in tests/test_pm_psp.c. */
#include <errno.h>
#include <stdlib.h>

#include "common/error.h"
#include "pm_internal.h"
#include "pricing/models.h"

struct psp {
	money_t reserve;
	struct pm_buf keys, tmp, sigma, thr, thr_tmp, fen_slope, fen_icpt;
};

struct fenwick {
	__int128 *slope, *icpt;
	size_t n;
};

static void fen_add(struct fenwick *f, size_t rank, __int128 ds, __int128 di)
{
	for (size_t x = rank + 1; x <= f->n; x += x & -x) {
		f->slope[x] += ds;
		f->icpt[x] += di;
	}
}

/* Sum over inserted pieces with breakpoint rank < upto, evaluated at x. */
static __int128 fen_eval(const struct fenwick *f, size_t upto, int64_t x)
{
	__int128 s = 0, c = 0;
	for (size_t k = upto; k > 0; k -= k & -k) {
		s += f->slope[k];
		c += f->icpt[k];
	}
	return s * x + c;
}

/* Number of breakpoints <= x (thr sorted ascending, unique). */
static size_t rank_upto(const int64_t *thr, size_t nthr, int64_t x)
{
	size_t lo = 0, hi = nthr;
	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;
		if (thr[mid] <= x)
			lo = mid + 1;
		else
			hi = mid;
	}
	return lo;
}

static size_t rank_of(const int64_t *thr, size_t nthr, int64_t x)
{
	return rank_upto(thr, nthr, x) - 1; /* x is one of the breakpoints */
}

static inline int64_t clamp64(__int128 v, int64_t hi)
{
	return v < 0 ? 0 : v > hi ? hi : (int64_t)v;
}

/* Inserts F_j(x) = p clamp(sigma + x, 0, q) at its two breakpoints. */
static void insert_piece(struct fenwick *f, const int64_t *thr, size_t nthr, money_t p,
			 int64_t sigma, int64_t q)
{
	size_t ra = rank_of(thr, nthr, -sigma), rb = rank_of(thr, nthr, q - sigma);
	fen_add(f, ra, p, (__int128)p * sigma);
	fen_add(f, rb, -(__int128)p, (__int128)p * (q - sigma));
}

static int psp_clear(struct pm_instance *inst, const struct pm_pool *pool,
		     const struct pm_bid *bids, size_t n, struct pm_result *res,
		     struct pm_error *err)
{
	struct psp *ps = (struct psp *)inst;
	const money_t r = ps->reserve;
	const int64_t Q = pool->supply;

	if (pm__buf_array(&ps->keys, n, sizeof(struct pm_key)) ||
	    pm__buf_array(&ps->tmp, n, sizeof(struct pm_key)) ||
	    pm__buf_array(&ps->sigma, n, sizeof(int64_t)) ||
	    pm__buf_array(&ps->thr, 2 * n + 2, sizeof(struct pm_key)) ||
	    pm__buf_array(&ps->thr_tmp, 2 * n + 2, sizeof(struct pm_key)))
		return pm__errorf(err, -ENOMEM, "psp: out of memory for %zu bids", n);
	struct pm_key *keys = ps->keys.p;
	int64_t *sigma = ps->sigma.p;

	/* Price levels, high to low; within a level by bidder id (any fixed order would do:
	 * a level's bidders are treated alike). */
	int64_t max_q = 0;
	for (size_t i = 0; i < n; i++) {
		keys[i] = (struct pm_key){.hi = pm__desc(bids[i].unit_price),
					  .lo = bids[i].bidder,
					  .val = i};
		if (bids[i].max_quantity > max_q)
			max_q = bids[i].max_quantity;
	}
	pm__sort_keys(keys, ps->tmp.p, n);

	/* sigma_j = Q - (q above j's level) - (q of j's level but j) - (Q if r >= p_j).
	 * Values below -max_q behave like -max_q (F_j is 0 on [0, max q]); clamp so that
	 * every later product fits in 128 bits. */
	__int128 above = 0;
	money_t price = r;
	bool price_set = false;
	for (size_t a = 0; a < n;) {
		size_t b = a;
		money_t p = bids[keys[a].val].unit_price;
		__int128 level = 0;
		while (b < n && bids[keys[b].val].unit_price == p)
			level += bids[keys[b++].val].max_quantity;
		for (size_t t = a; t < b; t++) {
			size_t j = keys[t].val;
			__int128 s = (__int128)Q - above - (level - bids[j].max_quantity) -
				     (r >= p ? Q : 0);
			sigma[j] = s < -(__int128)max_q - 1 ? -max_q - 1 : (int64_t)s;
			res->outcomes[j].quantity = clamp64(s, bids[j].max_quantity);
		}
		above += level;
		/* Pool price: the first level (above the reserve) at which supply runs out. */
		if (!price_set && p > r && level > 0 && above >= Q) {
			price = p;
			price_set = true;
		}
		a = b;
	}
	__int128 s0 = (__int128)Q;
	for (size_t i = 0; i < n; i++)
		if (bids[i].unit_price >= r)
			s0 -= bids[i].max_quantity;
	int64_t sigma0 = s0 < -(__int128)max_q - 1 ? -max_q - 1 : (int64_t)s0;

	/* Breakpoints of the pieces that are not constant on [0, max_q]. */
	struct pm_key *tk = ps->thr.p;
	size_t nt = 0;
#define RELEVANT(sig, q) ((q) > 0 && -(sig) < max_q && (q) - (sig) > 0)
	for (size_t j = 0; j < n; j++)
		if (RELEVANT(sigma[j], bids[j].max_quantity)) {
			tk[nt++] = (struct pm_key){.hi = pm__asc_signed(-sigma[j])};
			tk[nt++] = (struct pm_key){.hi = pm__asc_signed(bids[j].max_quantity -
									 sigma[j])};
		}
	bool zero_in = RELEVANT(sigma0, Q) && r > 0;
	if (zero_in) {
		tk[nt++] = (struct pm_key){.hi = pm__asc_signed(-sigma0)};
		tk[nt++] = (struct pm_key){.hi = pm__asc_signed(Q - sigma0)};
	}
	pm__sort_keys(tk, ps->thr_tmp.p, nt);
	int64_t *thr = ps->thr_tmp.p; /* unique breakpoints, ascending */
	size_t nthr = 0;
	for (size_t t = 0; t < nt; t++) {
		int64_t x = (int64_t)(tk[t].hi ^ (UINT64_C(1) << 63));
		if (!nthr || thr[nthr - 1] != x)
			thr[nthr++] = x;
	}
	if (pm__buf_array(&ps->fen_slope, nthr + 1, sizeof(__int128)) ||
	    pm__buf_array(&ps->fen_icpt, nthr + 1, sizeof(__int128)))
		return pm__errorf(err, -ENOMEM, "psp: out of memory for %zu breakpoints", nthr);
	struct fenwick f = {ps->fen_slope.p, ps->fen_icpt.p, nthr};
	for (size_t k = 0; k <= nthr; k++)
		f.slope[k] = f.icpt[k] = 0;

	/* Sweep up the price levels (the sorted keys, backwards). */
	bool zero_done = !zero_in;
	size_t rank0 = rank_upto(thr, nthr, 0);
	for (size_t b = n; b > 0;) {
		size_t a = b - 1;
		money_t p = bids[keys[a].val].unit_price;
		while (a > 0 && bids[keys[a - 1].val].unit_price == p)
			a--;
		if (!zero_done && r <= p) {
			insert_piece(&f, thr, nthr, r, sigma0, Q);
			zero_done = true;
		}
		for (size_t t = a; t < b; t++) {
			size_t j = keys[t].val;
			if (RELEVANT(sigma[j], bids[j].max_quantity))
				insert_piece(&f, thr, nthr, p, sigma[j], bids[j].max_quantity);
		}
		for (size_t t = a; t < b; t++) {
			size_t i = keys[t].val;
			struct pm_outcome *o = &res->outcomes[i];
			int64_t qi = bids[i].max_quantity;
			if (!o->quantity)
				continue; /* the payment is capped at p_i x 0 */
			__int128 c = fen_eval(&f, rank_upto(thr, nthr, qi), qi) -
				     fen_eval(&f, rank0, 0);
			/* Minus i's own piece, which the level insert included. */
			int64_t own_after = clamp64((__int128)sigma[i] + qi, qi);
			c -= (__int128)p * (own_after - o->quantity);
			__int128 cap = (__int128)p * o->quantity;
			if (c > cap)
				c = cap;
			if (c < 0) /* cannot happen: removing i only adds slack */
				return pm__errorf(err, -EPROTO, "psp: bid %zu: negative payment", i);
			o->payment = (money_t)c;
		}
		b = a;
	}
#undef RELEVANT
	res->price = price;
	return pm__finish(bids, n, res, err);
}

static int psp_create(const struct pm_param *params, size_t nparams, struct pm_instance **out,
		      struct pm_error *err)
{
	money_t reserve;
	int rc = pm__param_money_nonneg(params, nparams, "psp", "reserve", &reserve, err);
	if (rc)
		return rc;
	struct psp *ps = calloc(1, sizeof(*ps));
	if (!ps)
		return pm__errorf(err, -ENOMEM, "psp: out of memory");
	ps->reserve = reserve;
	*out = (struct pm_instance *)ps;
	return 0;
}

static void psp_destroy(struct pm_instance *inst)
{
	struct psp *ps = (struct psp *)inst;
	struct pm_buf *bufs[] = {&ps->keys,    &ps->tmp,       &ps->sigma,   &ps->thr,
				 &ps->thr_tmp, &ps->fen_slope, &ps->fen_icpt};
	for (size_t i = 0; i < sizeof(bufs) / sizeof(bufs[0]); i++)
		pm__buf_free(bufs[i]);
	free(ps);
}

static const struct pm_param_spec psp_params[] = {
	{"reserve", PM_PARAM_MONEY, "$0",
	 "reserve price per unit-hour: player zero bids the whole supply at it"},
};

const struct pm_model pm_model_psp = {
	.api_version = PM_API_VERSION,
	.size = sizeof(struct pm_model),
	.name = "psp",
	.summary = "Lazar-Semret progressive second price auction",
	.params = psp_params,
	.nparams = 1,
	.create = psp_create,
	.destroy = psp_destroy,
	.clear = psp_clear,
	.posted_price = NULL,
};
