/* tenant.c: a simulated tenant's economics: its working point, its bid, and what it accrues.
 *
 * A nom tenant runs the same code as a real nom app (nom/econ): the adaptive strategy picks
 * from its class's menu for the current load level at the current price (metered egress) or
 * for the bandwidth it holds; the static strategies and the price-unaware OS stay at their
 * fixed delay. Its value rate is T * a(L, sigma), where T is the traffic it actually serves
 * (its level's throughput at its working point, times the load scale, capped by what it
 * holds); it pays T * P for egress, or the mechanism's payment for held bandwidth.
 *
 * Units: a nom bid is in Mbit/s at nanodollars per (Mbit/s)-hour. One Mbit/s held for an hour
 * carries 3.6 Gbit, so a value of a $/Gbit is 3.6e9 * a nanodollars per (Mbit/s)-hour. */
#include <math.h>
#include <string.h>

#include "world.h"

#define MBIT_HOUR_PER_GBIT_VALUE 3.6e9 /* nanodollars per (Mbit/s)-hour per $/Gbit */

static money_t to_money(double v)
{
	if (!(v > -9e18))
		return INT64_MIN / 2;
	if (v > 9e18)
		return INT64_MAX / 2;
	return (money_t)llround(v);
}

void tenant_accrue(struct sim_world *w, struct sim_tenant *t, int64_t now)
{
	int64_t dt = now - t->last_ns;
	money_t price;

	if (dt <= 0)
		return;
	t->acc_value += to_money(t->value_rate * (double)dt / 1e9);
	if (t->egress_gbps > 0) {
		price = world_pool(w, t->host, RAAS_RES_EGRESS)->price;
		t->acc_pay += to_money(t->egress_gbps * (double)price * (double)dt / 1e9);
	}
	t->last_ns = now;
}

void tenant_update(struct sim_world *w, struct sim_tenant *t, money_t egress_price_nd)
{
	const struct sim_class_rt *k = &w->classes[t->cls];
	const struct sim_class_cfg *c = k->cfg;

	if (c->kind == SIM_KIND_FLAT) {
		t->value_rate = (double)t->flat_value * (double)t->alloc / 3600.0;
		t->egress_gbps = 0;
		return;
	}
	const struct econ_menu *m = &k->menus[k->level];
	double s = k->scale, tput, value;
	const struct econ_point *pt;

	if (c->resource == RAAS_RES_EGRESS) {
		if (c->strategy == SIM_ADAPTIVE) {
			t->choice = (uint8_t)econ_menu_pick(m, (double)egress_price_nd / 1e9);
			pt = m->choices[t->choice].point;
			tput = m->choices[t->choice].tput_gbps * s;
			value = m->choices[t->choice].value_per_gbit;
		} else {
			pt = k->fixed[k->level];
			tput = econ_point_gbps(pt) * s;
			value = k->fixed_value[k->level];
		}
		t->egress_gbps = tput;
	} else {
		double cap = (double)t->alloc / 1000.0;
		if (c->strategy == SIM_ADAPTIVE) {
			t->choice = (uint8_t)econ_menu_pick_capped(m, s, cap);
			pt = m->choices[t->choice].point;
			tput = fmin(m->choices[t->choice].tput_gbps * s, cap);
			value = m->choices[t->choice].value_per_gbit;
		} else {
			pt = k->fixed[k->level];
			tput = fmin(econ_point_gbps(pt) * s, cap);
			value = k->fixed_value[k->level];
		}
		t->egress_gbps = 0;
	}
	t->delay_us = pt->delay_us;
	t->value_rate = tput * value * 1e9;
}

/* Appends a segment, keeping unit values strictly decreasing (equal values after rounding
 * merge into the previous segment). */
static void add_segment(struct pm_segment *segs, size_t *n, int64_t q, money_t v)
{
	if (q <= 0 || v <= 0)
		return;
	if (*n > 0 && v >= segs[*n - 1].unit_value) {
		segs[*n - 1].quantity += q;
		return;
	}
	segs[*n] = (struct pm_segment){.quantity = q, .unit_value = v};
	(*n)++;
}

void tenant_class_bid(struct sim_world *w, struct sim_class_rt *k)
{
	const struct sim_class_cfg *c = k->cfg;
	size_t n = 0;

	(void)w;
	k->nbid = 0;
	if (c->kind != SIM_KIND_NOM || c->resource == RAAS_RES_EGRESS)
		return;
	if (c->strategy == SIM_ADAPTIVE) {
		struct econ_segment es[ECON_MENU_MAX];
		size_t ns = econ_menu_curve(&k->menus[k->level], k->scale, es, ECON_MENU_MAX);
		double cum = 0;
		int64_t prev = 0;
		for (size_t i = 0; i < ns; i++) {
			cum += es[i].gbps;
			int64_t q = (int64_t)llround(cum * 1000.0);
			add_segment(k->bid, &n, q - prev,
				    to_money(es[i].value_per_gbit * MBIT_HOUR_PER_GBIT_VALUE));
			if (q > prev)
				prev = q;
		}
	} else {
		const struct econ_point *pt = k->fixed[k->level];
		add_segment(k->bid, &n, (int64_t)llround(econ_point_gbps(pt) * k->scale * 1000.0),
			    to_money(k->fixed_value[k->level] * MBIT_HOUR_PER_GBIT_VALUE));
	}
	k->nbid = n;
}

bool tenant_bid(const struct sim_world *w, const struct sim_tenant *t, struct pm_bid *bid,
		struct pm_segment *segs)
{
	const struct sim_class_rt *k = &w->classes[t->cls];
	const struct sim_class_cfg *c = k->cfg;

	memset(bid, 0, sizeof(*bid));
	bid->bidder = t->id;
	bid->held = t->alloc;
	if (c->kind == SIM_KIND_FLAT) {
		if (t->flat_value <= 0)
			return false;
		bid->min_quantity = c->min_quantity;
		bid->max_quantity = c->quantity;
		bid->unit_price = t->flat_value;
		segs[0] = (struct pm_segment){.quantity = c->quantity, .unit_value = t->flat_value};
		bid->true_curve = segs;
		bid->ntrue = 1;
		return true;
	}
	size_t n = k->nbid;
	if (n == 0)
		return false;
	int64_t total = 0;
	for (size_t i = 0; i < n; i++)
		total += k->bid[i].quantity;
	bid->min_quantity = 0;
	bid->max_quantity = total;
	/* PSP reads (max_quantity, unit_price): the marginal value of the last unit, the
	 * truthful PSP bid at that quantity; curve-reading models use the curve. */
	bid->unit_price = k->bid[n - 1].unit_value;
	bid->curve = k->bid;
	bid->ncurve = n;
	bid->true_curve = k->bid;
	bid->ntrue = n;
	return true;
}
