/* model_mpsp.c: Ginseng-style MPSP: range bids, a reserve, an exchange penalty, VCG payments.
 *
 * The allocation maximizes sum_i g_i(a_i) subject to sum a_i <= Q, where bidder i's term is
 *     g_i(a) = v_i(a) - r a - lambda |a - held_i|,   a in {0} u R_i
 * (the constant r Q of h(a) is dropped). That is a multiple-choice knapsack; it is solved
 * exactly over the supply in chunks (W = Q / chunk cells) with "at most c chunks" tables:
 *     S_i[c] = max( g_i(0) + S_{i+1}[c],  max_{a in R_i, a <= c} g_i(a) + S_{i+1}[c - a] ).
 * On every interval where g_i is linear in a (between range ends, curve breakpoints and
 * held_i) the inner maximum is a sliding-window maximum of S_{i+1}[k] - alpha k over
 * k in [c - a1, c - a0], so a bidder costs O(W) per linear piece instead of O(W^2).
 *
 * Payments: W_{-i} = max_c P_i[c] + S_{i+1}[W - c], with P_i the same table built forward over
 * the bidders before i (one rolling row) and S the suffix tables kept for every bidder. So the
 * n exclusion problems cost O(n W) on top of the allocation, not n more knapsacks.
 *
 * Design notes:
 *   1. Bidders are processed in bidder id order, so the outcome never depends on input order.
 *   2. S has n + 1 rows of W + 1 cells; (n + 3)(W + 1) <= max_cells, else the chunk grows.
 *   3. All table values stay within +-2^62 (checked before the DP from the bids' bounds), so
 *      the int64 sliding-window arithmetic cannot overflow. */
#include <errno.h>
#include <stdlib.h>

#include "common/error.h"
#include "pm_internal.h"
#include "pricing/models.h"

struct piece {
	int64_t a0, a1; /* chunks, inclusive */
	int64_t g0;     /* g(a0) */
	int64_t alpha;  /* g(a + 1) - g(a) inside the piece */
};

struct mpsp {
	money_t reserve, lambda;
	int64_t chunk, max_cells;
	struct pm_buf keys, tmp, order, suf, pre, pre_next, deque, pieces, piece_start;
};

/* g_i(q) for q units, exactly; 128-bit so the bound check can see it. */
static __int128 g_value(const struct pm_bid *b, int64_t q, money_t r, money_t lambda)
{
	__int128 moved = (__int128)q - b->held;
	if (moved < 0)
		moved = -moved;
	return (__int128)pm_bid_value(b, q) - (__int128)r * q - (__int128)lambda * moved;
}

/* Appends bidder b's linear pieces (in ascending a) to out; returns the count or -ENOMEM. */
static int64_t make_pieces(const struct pm_bid *b, int64_t chunk, int64_t W, money_t r,
			   money_t lambda, struct pm_buf *buf, size_t *npieces)
{
	struct pm_range whole = {b->min_quantity, b->max_quantity};
	const struct pm_range *rg = b->ranges ? b->ranges : &whole;
	size_t nr = b->ranges ? b->nranges : 1;
	int64_t added = 0;

	for (size_t k = 0; k < nr; k++) {
		/* Allowed: the range within [min_quantity, max_quantity], in whole chunks. */
		int64_t lo_units = rg[k].min > b->min_quantity ? rg[k].min : b->min_quantity;
		int64_t lo = (lo_units + chunk - 1) / chunk, hi = rg[k].max / chunk;
		if (hi > W)
			hi = W;
		int64_t start = lo;
		while (start <= hi) {
			/* The next kink above start: a curve breakpoint or held. */
			int64_t x = INT64_MAX, cum = 0;
			struct pm_segs it;
			struct pm_segment s;
			pm__segs_init(&it, b);
			while (pm__segs_next(&it, &s)) {
				cum += s.quantity;
				if (cum > start * chunk) {
					x = cum;
					break;
				}
			}
			if (b->held > start * chunk && b->held < x)
				x = b->held;
			int64_t end = x / chunk < hi ? x / chunk : hi;
			if (pm__buf_grow(buf, *npieces + 1, sizeof(struct piece)))
				return -ENOMEM;
			struct piece *p = (struct piece *)buf->p + (*npieces)++;
			p->a0 = start;
			p->a1 = end;
			p->g0 = (int64_t)g_value(b, start * chunk, r, lambda);
			p->alpha = end > start ? (int64_t)(g_value(b, (start + 1) * chunk, r, lambda) -
							   p->g0)
					       : 0;
			added++;
			int64_t next = (x != INT64_MAX && x == end * chunk) ? end : end + 1;
			start = next > start ? next : start + 1;
		}
	}
	return added;
}

/* out[c] = max(g(0) + in[c], max over pieces, a <= c, of g(a) + in[c - a]), c in [0, W]. */
static void dp_step(const int64_t *in, int64_t *out, int64_t W, int64_t g_zero,
		    const struct piece *pc, size_t np, int64_t *dq)
{
	for (int64_t c = 0; c <= W; c++)
		out[c] = g_zero + in[c];
	for (size_t t = 0; t < np; t++) {
		const struct piece *p = &pc[t];
		if (p->a0 > W)
			continue;
		const int64_t al = p->alpha, base = p->g0 - al * p->a0;
		size_t head = 0, tail = 0;
		for (int64_t c = p->a0; c <= W; c++) {
			int64_t knew = c - p->a0; /* window k in [c - a1, c - a0] */
			int64_t tnew = in[knew] - al * knew;
			while (tail > head && in[dq[tail - 1]] - al * dq[tail - 1] <= tnew)
				tail--;
			dq[tail++] = knew;
			while (dq[head] < c - p->a1)
				head++;
			int64_t kb = dq[head];
			int64_t v = in[kb] - al * kb + al * c + base;
			if (v > out[c])
				out[c] = v;
		}
	}
}

static int mpsp_clear(struct pm_instance *inst, const struct pm_pool *pool,
		      const struct pm_bid *bids, size_t n, struct pm_result *res,
		      struct pm_error *err)
{
	struct mpsp *m = (struct mpsp *)inst;
	const int64_t Q = pool->supply;
	const money_t r = m->reserve, lambda = m->lambda;

	/* Bound every value the tables can hold (design note 3). */
	__int128 bound = 0, vmax = 0;
	for (size_t i = 0; i < n; i++) {
		const struct pm_bid *b = &bids[i];
		bound += pm_bid_value(b, b->max_quantity) +
			 (__int128)(r + lambda) * b->max_quantity + (__int128)lambda * b->held;
		struct pm_segs it;
		struct pm_segment s;
		pm__segs_init(&it, b);
		if (pm__segs_next(&it, &s) && s.unit_value > vmax)
			vmax = s.unit_value;
	}
	bound += (vmax + r + lambda) * (__int128)Q * 2;
	if (bound > ((__int128)1 << 62))
		return pm__errorf(err, -RAAS_EOVERFLOW,
				  "mpsp: values, reserve and penalty too large for exact tables "
				  "(bound past 2^62 nanodollars per hour)");

	/* Table size (design note 2). */
	int64_t cells_per_row = m->max_cells / (int64_t)(n + 3);
	if (cells_per_row < 1)
		return pm__errorf(err, -RAAS_ETOOBIG,
				  "mpsp: %zu bids need more than max_cells=%lld table cells", n,
				  (long long)m->max_cells);
	int64_t chunk = m->chunk;
	if (Q / chunk > cells_per_row - 1) {
		if (cells_per_row == 1)
			chunk = Q + 1;
		else
			chunk = (Q + (cells_per_row - 1) - 1) / (cells_per_row - 1);
	}
	const int64_t W = Q / chunk;
	size_t row = (size_t)W + 1;

	if (pm__buf_array(&m->keys, n, sizeof(struct pm_key)) ||
	    pm__buf_array(&m->tmp, n, sizeof(struct pm_key)) ||
	    pm__buf_array(&m->order, n, sizeof(uint32_t)) ||
	    pm__buf_array(&m->suf, (n + 1) * row, sizeof(int64_t)) ||
	    pm__buf_array(&m->pre, row, sizeof(int64_t)) ||
	    pm__buf_array(&m->pre_next, row, sizeof(int64_t)) ||
	    pm__buf_array(&m->deque, row, sizeof(int64_t)) ||
	    pm__buf_array(&m->piece_start, n + 1, sizeof(size_t)))
		return pm__errorf(err, -ENOMEM, "mpsp: out of memory for %zu x %zu table", n + 1,
				  row);
	struct pm_key *k = m->keys.p;
	for (size_t i = 0; i < n; i++)
		k[i] = (struct pm_key){.hi = bids[i].bidder, .lo = 0, .val = i};
	pm__sort_keys(k, m->tmp.p, n);
	uint32_t *ord = m->order.p;
	for (size_t t = 0; t < n; t++)
		ord[t] = (uint32_t)k[t].val;

	/* Pieces of every bidder, in processing order. */
	size_t *pstart = m->piece_start.p, np = 0;
	for (size_t t = 0; t < n; t++) {
		pstart[t] = np;
		if (make_pieces(&bids[ord[t]], chunk, W, r, lambda, &m->pieces, &np) < 0)
			return pm__errorf(err, -ENOMEM, "mpsp: out of memory for bid pieces");
	}
	pstart[n] = np;
	/* No bid made a piece: the buffer was never allocated, and NULL + 0 is undefined. */
	static const struct piece no_pieces[1];
	const struct piece *pc = m->pieces.p ? m->pieces.p : no_pieces;
	int64_t *suf = m->suf.p, *dq = m->deque.p;
#define SUF(t) (suf + (size_t)(t) * row)
#define GZERO(t) (-(int64_t)((__int128)lambda * bids[ord[t]].held))

	for (size_t c = 0; c < row; c++)
		SUF(n)[c] = 0;
	for (size_t t = n; t > 0; t--)
		dp_step(SUF(t), SUF(t - 1), W, GZERO(t - 1), pc + pstart[t - 1],
			pstart[t] - pstart[t - 1], dq);
	const int64_t best = SUF(0)[W];

	/* Allocation: forward through the suffix tables, smallest a first among ties. */
	int64_t c = W;
	for (size_t t = 0; t < n; t++) {
		const int64_t target = SUF(t)[c], *next = SUF(t + 1);
		int64_t a = -1;
		if (GZERO(t) + next[c] == target) {
			a = 0;
		} else {
			for (size_t p = pstart[t]; p < pstart[t + 1] && a < 0; p++) {
				for (int64_t x = pc[p].a0; x <= pc[p].a1 && x <= c; x++) {
					if (pc[p].g0 + pc[p].alpha * (x - pc[p].a0) + next[c - x] ==
					    target) {
						a = x;
						break;
					}
				}
			}
		}
		if (a < 0)
			return pm__errorf(err, -EPROTO, "mpsp: allocation not reconstructible (bug)");
		res->outcomes[ord[t]].quantity = a * chunk;
		c -= a;
	}

	/* Payments: W_{-i} from the forward row and the suffix table after i. */
	int64_t *pre = m->pre.p, *pre_next = m->pre_next.p;
	for (size_t x = 0; x < row; x++)
		pre[x] = 0;
	for (size_t t = 0; t < n; t++) {
		size_t i = ord[t];
		const struct pm_bid *b = &bids[i];
		const int64_t *next = SUF(t + 1);
		int64_t without = INT64_MIN;
		for (int64_t x = 0; x <= W; x++)
			if (pre[x] + next[W - x] > without)
				without = pre[x] + next[W - x];
		money_t v = pm_bid_value(b, res->outcomes[i].quantity);
		__int128 pay = (__int128)without + GZERO(t) - best + v;
		res->outcomes[i].payment = pay < 0 ? 0 : pay > v ? v : (money_t)pay;
		dp_step(pre, pre_next, W, GZERO(t), pc + pstart[t], pstart[t + 1] - pstart[t], dq);
		int64_t *swap = pre;
		pre = pre_next;
		pre_next = swap;
	}
#undef SUF
#undef GZERO
	int rc = pm__finish(bids, n, res, err);
	if (rc)
		return rc;
	res->price = res->allocated ? res->revenue / res->allocated : r;
	return 0;
}

static int mpsp_create(const struct pm_param *params, size_t nparams, struct pm_instance **out,
		       struct pm_error *err)
{
	money_t reserve, lambda;
	int64_t chunk, max_cells;
	int rc;

	if ((rc = pm__param_money_nonneg(params, nparams, "mpsp", "reserve", &reserve, err)) ||
	    (rc = pm__param_money_nonneg(params, nparams, "mpsp", "lambda", &lambda, err)) ||
	    (rc = pm__param_int(params, nparams, "chunk", &chunk, err)) ||
	    (rc = pm__param_int(params, nparams, "max_cells", &max_cells, err)))
		return rc;
	if (chunk < 1)
		return pm__errorf(err, -EINVAL, "mpsp: chunk must be at least 1 unit");
	if (max_cells < 16)
		return pm__errorf(err, -EINVAL, "mpsp: max_cells must be at least 16");
	struct mpsp *m = calloc(1, sizeof(*m));
	if (!m)
		return pm__errorf(err, -ENOMEM, "mpsp: out of memory");
	m->reserve = reserve;
	m->lambda = lambda;
	m->chunk = chunk;
	m->max_cells = max_cells;
	*out = (struct pm_instance *)m;
	return 0;
}

static void mpsp_destroy(struct pm_instance *inst)
{
	struct mpsp *m = (struct mpsp *)inst;
	struct pm_buf *bufs[] = {&m->keys, &m->tmp,   &m->order,  &m->suf,        &m->pre,
				 &m->pre_next, &m->deque, &m->pieces, &m->piece_start};
	for (size_t i = 0; i < sizeof(bufs) / sizeof(bufs[0]); i++)
		pm__buf_free(bufs[i]);
	free(m);
}

static const struct pm_param_spec mpsp_params[] = {
	{"reserve", PM_PARAM_MONEY, "$0", "reserve price per unit-hour (player zero)"},
	{"lambda", PM_PARAM_MONEY, "$0",
	 "exchange penalty per unit moved away from what a bidder held (per hour)"},
	{"chunk", PM_PARAM_INT, "1", "allocation granularity in units (e.g. a balloon chunk)"},
	{"max_cells", PM_PARAM_INT, "20000000",
	 "bound on DP table cells (8 bytes each); the chunk grows to stay within it"},
};

const struct pm_model pm_model_mpsp = {
	.api_version = PM_API_VERSION,
	.size = sizeof(struct pm_model),
	.name = "mpsp",
	.summary = "Ginseng MPSP: range bids, exchange penalty, VCG payments",
	.params = mpsp_params,
	.nparams = sizeof(mpsp_params) / sizeof(mpsp_params[0]),
	.create = mpsp_create,
	.destroy = mpsp_destroy,
	.clear = mpsp_clear,
	.posted_price = NULL,
};
