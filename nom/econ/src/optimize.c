/* optimize.c: Pareto frontier, menus, the working-point optimizer and the demand curve.
 *
 * The optimizer is what a nom app runs whenever the price or its load changes (libnom) and
 * what every simulated adaptive tenant runs every round (raas-sim), so its hot path is a menu
 * built once per (profile level, utility): the frontier points with their value per Gbit, from
 * which a price picks a point with one multiply-subtract per point. */
#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "nom/econ_optimize.h"

enum econ_criteria econ_utility_criteria(const struct econ_utility *u)
{
	return econ_uses_jitter(u) ? ECON_TPUT_LATENCY_JITTER : ECON_TPUT_LATENCY;
}

/* Does p dominate q under criteria c? */
static bool dominates(const struct econ_point *p, const struct econ_point *q,
		      enum econ_criteria c)
{
	double tp = econ_point_gbps(p), tq = econ_point_gbps(q);
	double cp = econ_point_cores(p), cq = econ_point_cores(q);
	bool jit = c == ECON_TPUT_LATENCY_JITTER;

	/* The CPU a point burns is priced (econ_menu_pick_priced): less is better, always. */
	if (tp < tq || p->latency_us > q->latency_us || (jit && p->jitter_us > q->jitter_us) ||
	    cp > cq)
		return false;
	return tp > tq || p->latency_us < q->latency_us || (jit && p->jitter_us < q->jitter_us) ||
	       cp < cq;
}

bool econ_dominated(const struct econ_point *pts, size_t n, size_t i, enum econ_criteria c)
{
	for (size_t j = 0; j < n; j++)
		if (j != i && dominates(&pts[j], &pts[i], c))
			return true;
	return false;
}

/* Sort keys for the frontier sweep: throughput down, then latency, jitter and delay up, so
 * that every point that dominates q (or duplicates it with a lower delay) comes before q. */
struct sweep {
	const struct econ_point *pts;
	size_t i;
	double gbps;
};

static int cmp_sweep(const void *a, const void *b)
{
	const struct sweep *x = a, *y = b;
	const struct econ_point *p = &x->pts[x->i], *q = &y->pts[y->i];

	if (x->gbps != y->gbps)
		return x->gbps > y->gbps ? -1 : 1;
	if (p->latency_us != q->latency_us)
		return p->latency_us < q->latency_us ? -1 : 1;
	if (p->jitter_us != q->jitter_us)
		return p->jitter_us < q->jitter_us ? -1 : 1;
	if (econ_point_cores(p) != econ_point_cores(q))
		return econ_point_cores(p) < econ_point_cores(q) ? -1 : 1;
	if (p->delay_us != q->delay_us)
		return p->delay_us < q->delay_us ? -1 : 1;
	if (p->spin_us != q->spin_us)
		return p->spin_us < q->spin_us ? -1 : 1;
	return x->i < y->i ? -1 : x->i > y->i;
}

static bool same_point(const struct econ_point *p, const struct econ_point *q,
		       enum econ_criteria c)
{
	return econ_point_gbps(p) == econ_point_gbps(q) && p->latency_us == q->latency_us &&
	       econ_point_cores(p) == econ_point_cores(q) &&
	       (c == ECON_TPUT_LATENCY || p->jitter_us == q->jitter_us);
}

size_t econ_frontier(const struct econ_point *pts, size_t n, enum econ_criteria c, size_t *idx,
		     size_t max)
{
	struct sweep *order = malloc((n ? n : 1) * sizeof(*order));
	size_t *front = malloc((n ? n : 1) * sizeof(*front));
	size_t nf = 0;

	if (!order || !front) {
		free(order);
		free(front);
		return 0;
	}
	for (size_t i = 0; i < n; i++)
		order[i] = (struct sweep){.pts = pts, .i = i, .gbps = econ_point_gbps(&pts[i])};
	qsort(order, n, sizeof(*order), cmp_sweep);
	/* A dominated dominator implies a frontier dominator (transitivity), so checking each
	 * point against the frontier found so far is enough: O(n * frontier). */
	for (size_t k = 0; k < n; k++) {
		const struct econ_point *q = &pts[order[k].i];
		bool out = false;
		for (size_t j = 0; j < nf && !out; j++)
			out = dominates(&pts[front[j]], q, c) || same_point(&pts[front[j]], q, c);
		if (!out)
			front[nf++] = order[k].i;
	}
	/* Report in increasing throughput (ties: latency, then delay, increasing). */
	for (size_t k = 0; k < nf; k++)
		if (k < max)
			idx[k] = front[nf - 1 - k];
	free(order);
	free(front);
	return nf;
}

int econ_menu_build(const struct econ_level *level, const struct econ_utility *u,
		    struct econ_menu *out)
{
	size_t idx[ECON_MENU_MAX];

	if (!level || level->npoints == 0 || econ_utility_check(u, NULL))
		return -EINVAL;
	size_t nf = econ_frontier(level->points, level->npoints, econ_utility_criteria(u), idx,
				  ECON_MENU_MAX);
	if (nf == 0)
		return -ENOMEM;
	if (nf > ECON_MENU_MAX)
		return -E2BIG;
	memset(out, 0, sizeof(*out));
	out->utility = *u;
	out->n = nf;
	for (size_t k = 0; k < nf; k++) {
		const struct econ_point *p = &level->points[idx[k]];
		out->choices[k].point = p;
		out->choices[k].tput_gbps = econ_point_gbps(p);
		out->choices[k].cores = econ_point_cores(p);
		out->choices[k].value_per_gbit = econ_value_per_gbit(u, p->latency_us, p->jitter_us);
	}
	return 0;
}

/* Is candidate c (with objective vc) better than the incumbent b (objective vb)? */
static bool better(const struct econ_choice *c, double vc, const struct econ_choice *b, double vb)
{
	if (vc != vb)
		return vc > vb;
	if (c->point->latency_us != b->point->latency_us)
		return c->point->latency_us < b->point->latency_us;
	if (c->point->delay_us != b->point->delay_us)
		return c->point->delay_us < b->point->delay_us;
	return c->point->spin_us < b->point->spin_us;
}

size_t econ_menu_pick(const struct econ_menu *m, double price_per_gbit)
{
	return econ_menu_pick_priced(m, price_per_gbit, 0);
}

size_t econ_menu_pick_priced(const struct econ_menu *m, double price_per_gbit,
			     double core_per_s)
{
	size_t best = 0;
	double vbest = m->choices[0].tput_gbps * (m->choices[0].value_per_gbit - price_per_gbit) -
		       m->choices[0].cores * core_per_s;

	for (size_t k = 1; k < m->n; k++) {
		const struct econ_choice *c = &m->choices[k];
		double v = c->tput_gbps * (c->value_per_gbit - price_per_gbit) -
			   c->cores * core_per_s;
		if (better(c, v, &m->choices[best], vbest)) {
			best = k;
			vbest = v;
		}
	}
	return best;
}

size_t econ_menu_pick_capped(const struct econ_menu *m, double scale, double cap_gbps)
{
	size_t best = 0;
	double vbest = -INFINITY;

	for (size_t k = 0; k < m->n; k++) {
		const struct econ_choice *c = &m->choices[k];
		double v = fmin(c->tput_gbps * scale, cap_gbps) * c->value_per_gbit;
		if (k == 0 || better(c, v, &m->choices[best], vbest)) {
			best = k;
			vbest = v;
		}
	}
	return best;
}

const struct econ_point *econ_optimize(const struct econ_level *level,
				       const struct econ_utility *u, double price_per_gbit,
				       int *err)
{
	struct econ_menu m;
	int rc = econ_menu_build(level, u, &m);

	if (err)
		*err = rc;
	if (rc)
		return NULL;
	return m.choices[econ_menu_pick(&m, price_per_gbit)].point;
}

size_t econ_menu_curve(const struct econ_menu *m, double scale, struct econ_segment *segs,
		       size_t max)
{
	/* Upper concave envelope of (0, 0) and (T_k, T_k a_k), T increasing (monotone chain). */
	double ht[ECON_MENU_MAX + 1], hv[ECON_MENU_MAX + 1];
	size_t nh = 1, ns = 0;

	ht[0] = 0;
	hv[0] = 0;
	if (!(scale > 0))
		return 0;
	for (size_t k = 0; k < m->n; k++) {
		double t = m->choices[k].tput_gbps * scale;
		double v = t * m->choices[k].value_per_gbit;
		if (t == ht[nh - 1]) { /* same throughput: keep the higher value */
			if (v > hv[nh - 1] && nh > 1)
				nh--;
			else
				continue;
		}
		/* Pop the last vertex while it lies on or under the chord to the new point, that is
		 * while the slopes do not decrease; the slopes are computed exactly as they are
		 * reported below, so the reported values are strictly decreasing. */
		while (nh >= 2 && (hv[nh - 1] - hv[nh - 2]) / (ht[nh - 1] - ht[nh - 2]) <=
					  (v - hv[nh - 1]) / (t - ht[nh - 1]))
			nh--;
		ht[nh] = t;
		hv[nh] = v;
		nh++;
	}
	for (size_t k = 1; k < nh; k++) {
		double dt = ht[k] - ht[k - 1];
		double slope = (hv[k] - hv[k - 1]) / dt;
		if (!(slope > 0))
			break; /* concave: every later slope is lower still */
		if (ns < max)
			segs[ns] = (struct econ_segment){.gbps = dt, .value_per_gbit = slope};
		ns++;
	}
	return ns < max ? ns : max;
}
