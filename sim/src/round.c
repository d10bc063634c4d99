/* round.c: one market round of a simulated run: close the last round, clear the pools, open.
 *
 * A round boundary is a loop over hosts whose iterations are independent: a host's tenants
 * accrue what they earned and paid, its pools clear through pm_clear() (the same wrapper the
 * market calls), and its tenants move to their new working points. The loop runs on the
 * worker pool; each worker adds into its own integer figures, merged afterwards, so the
 * result does not depend on the number of threads. Global pools (scope = global) take every
 * host's bids and clear on the main thread between the two parallel phases. */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/error.h"
#include "run_internal.h"

int stats_init(struct sim_stats *s, size_t ncls)
{
	memset(s, 0, sizeof(*s));
	s->cls = calloc(ncls ? ncls : 1, sizeof(*s->cls));
	if (!s->cls)
		return -ENOMEM;
	stats_reset(s, ncls);
	return 0;
}

void stats_fini(struct sim_stats *s)
{
	free(s->cls);
	s->cls = NULL;
}

void stats_reset(struct sim_stats *s, size_t ncls)
{
	struct cls_stats *cls = s->cls;

	memset(s, 0, sizeof(*s));
	s->cls = cls;
	memset(cls, 0, ncls * sizeof(*cls));
	for (int r = RAAS_RES_MIN; r <= RAAS_RES_MAX; r++) {
		s->res[raas_resource_index(r)].price_min = INT64_MAX;
		s->res[raas_resource_index(r)].price_max = INT64_MIN;
	}
}

void stats_merge(struct sim_stats *into, const struct sim_stats *from, size_t ncls)
{
	for (int r = RAAS_RES_MIN; r <= RAAS_RES_MAX; r++) {
		struct res_stats *a = &into->res[raas_resource_index(r)];
		const struct res_stats *b = &from->res[raas_resource_index(r)];
		a->pools += b->pools;
		a->bids += b->bids;
		a->supply += b->supply;
		a->allocated += b->allocated;
		if (b->price_min < a->price_min)
			a->price_min = b->price_min;
		if (b->price_max > a->price_max)
			a->price_max = b->price_max;
		a->price_sum += b->price_sum;
		a->revenue += b->revenue;
		a->value += b->value;
		a->used_mbps += b->used_mbps;
		a->clear_ns += b->clear_ns;
	}
	for (size_t c = 0; c < ncls; c++) {
		into->cls[c].tenants += from->cls[c].tenants;
		into->cls[c].nom_tenants += from->cls[c].nom_tenants;
		into->cls[c].value += from->cls[c].value;
		into->cls[c].pay += from->cls[c].pay;
		into->cls[c].delay_ns += from->cls[c].delay_ns;
		into->cls[c].alloc += from->cls[c].alloc;
	}
	into->bid_evals += from->bid_evals;
	into->tenants += from->tenants;
}

void stats_flush_tenant(struct sim_stats *s, const struct sim_world *w, struct sim_tenant *t)
{
	const struct sim_class_cfg *c = w->classes[t->cls].cfg;
	struct res_stats *rs = &s->res[raas_resource_index(c->resource)];
	struct cls_stats *cs = &s->cls[t->cls];

	rs->value += t->acc_value;
	rs->revenue += t->acc_pay;
	cs->value += t->acc_value;
	cs->pay += t->acc_pay;
	t->acc_value = 0;
	t->acc_pay = 0;
}

void run_fail(struct run *r, int code, const char *fmt, ...)
{
	va_list ap;

	pthread_mutex_lock(&r->err_lock);
	if (!r->error) {
		r->error = code;
		va_start(ap, fmt);
		vsnprintf(r->error_msg, sizeof(r->error_msg), fmt, ap);
		va_end(ap);
	}
	pthread_mutex_unlock(&r->err_lock);
}

static void note_price(struct res_stats *rs, money_t price)
{
	rs->pools++;
	rs->price_sum += price;
	if (price < rs->price_min)
		rs->price_min = price;
	if (price > rs->price_max)
		rs->price_max = price;
}

/* ---- close ---- */

static void close_hosts(void *ctx, int worker, size_t begin, size_t end)
{
	struct run *r = ctx;
	struct sim_world *w = r->w;
	struct sim_stats *st = &r->workers[worker].st;

	for (size_t h = begin; h < end; h++) {
		const struct sim_host *host = &w->hosts[h];
		for (uint32_t i = 0; i < host->nmembers; i++) {
			struct sim_tenant *t = &w->tenants[host->members[i]];
			const struct sim_class_cfg *c = w->classes[t->cls].cfg;
			tenant_accrue(w, t, r->t);
			struct cls_stats *cs = &st->cls[t->cls];
			cs->tenants++;
			cs->alloc += t->alloc;
			if (c->kind == SIM_KIND_NOM) {
				cs->nom_tenants++;
				cs->delay_ns += (int64_t)llround(t->delay_us * 1000.0);
			}
			if (c->resource == RAAS_RES_EGRESS)
				st->res[raas_resource_index(RAAS_RES_EGRESS)].used_mbps +=
					(int64_t)llround(t->egress_gbps * 1000.0);
			st->tenants++;
			stats_flush_tenant(st, w, t);
		}
	}
}

static void merge_workers(struct run *r)
{
	for (int i = 0; i < r->nworkers; i++) {
		stats_merge(&r->round, &r->workers[i].st, r->w->nclasses);
		stats_reset(&r->workers[i].st, r->w->nclasses);
	}
}

void round_close(struct run *r)
{
	tpool_run(r->tp, r->w->nhosts, 64, close_hosts, r);
	merge_workers(r);
}

/* ---- clearing ---- */

static int reserve(struct worker *wk, size_t n)
{
	if (n <= wk->cap && wk->cap > 0)
		return 0;
	size_t cap = wk->cap ? wk->cap : 64;
	while (cap < n)
		cap *= 2;
	struct pm_bid *b = realloc(wk->bids, cap * sizeof(*b));
	if (b)
		wk->bids = b;
	struct pm_outcome *o = realloc(wk->outs, cap * sizeof(*o));
	if (o)
		wk->outs = o;
	uint32_t *who = realloc(wk->who, cap * sizeof(*who));
	if (who)
		wk->who = who;
	struct pm_segment *s = realloc(wk->segs, cap * ECON_MENU_MAX * sizeof(*s));
	if (s)
		wk->segs = s;
	if (!b || !o || !who || !s)
		return -ENOMEM;
	wk->cap = cap;
	return 0;
}

/* Gathers the bids for resource res from the given tenants into the worker's scratch, sized
 * first so that no bid's curve pointer moves. */
static size_t gather(struct run *r, struct worker *wk, enum raas_resource res,
		     const uint32_t *members, size_t nmembers, struct sim_stats *st)
{
	struct sim_world *w = r->w;
	size_t n = 0;

	if (reserve(wk, nmembers)) {
		run_fail(r, -ENOMEM, "out of memory for %zu bids", nmembers);
		return 0;
	}
	for (size_t i = 0; i < nmembers; i++) {
		struct sim_tenant *t = &w->tenants[members[i]];
		if (t->resource != res)
			continue;
		st->bid_evals++;
		struct pm_segment *segs = &wk->segs[n * ECON_MENU_MAX];
		if (tenant_bid(w, t, &wk->bids[n], segs)) {
			wk->who[n++] = members[i];
		} else {
			t->alloc = 0;
			t->pay_rate = 0;
		}
	}
	return n;
}

/* Clears one pool with n gathered bids and hands out the outcomes. */
static void clear_pool(struct run *r, struct worker *wk, struct sim_pool *p, enum raas_resource res,
		       int64_t host, size_t n, struct sim_stats *st)
{
	struct sim_world *w = r->w;
	struct pm_pool pool;
	struct pm_result res_out = {.outcomes = wk->outs};
	struct pm_error err;

	/* Round k of the run is the pool setup's round k + 1: it starts at k x round length. */
	pm_pool_setup_round(p->setup, r->k + 1, p->supply, &pool);
	memset(wk->outs, 0, (n ? n : 1) * sizeof(*wk->outs));
	int e = pm_clear(p->inst, &pool, wk->bids, n, &res_out, &err);
	if (e) {
		run_fail(r, e, "round %llu, %s pool of host %lld: %s: %s", (unsigned long long)r->k,
			 raas_resource_name(res), (long long)host, r->sc->res[raas_resource_index(res)].model,
			 err.message);
		return;
	}
	p->price = res_out.price;
	struct res_stats *rs = &st->res[raas_resource_index(res)];
	note_price(rs, p->price);
	rs->bids += (int64_t)n;
	rs->supply += p->supply;
	rs->allocated += res_out.allocated;
	rs->clear_ns += res_out.clear_ns;
	for (size_t j = 0; j < n; j++) {
		struct sim_tenant *t = &w->tenants[wk->who[j]];
		money_t charge = 0;
		t->alloc = wk->outs[j].quantity;
		t->pay_rate = wk->outs[j].payment;
		if (money_charge(t->pay_rate, 1, r->len, &charge))
			run_fail(r, -RAAS_EOVERFLOW, "round %llu: a charge overflows",
				 (unsigned long long)r->k);
		t->acc_pay += charge;
	}
	if (r->record) {
		for (size_t j = 0; j < n; j++)
			sim_out_bid(r->out, r->variant, r->k, host, raas_resource_name(res),
				    &wk->bids[j], wk->outs[j].quantity, wk->outs[j].payment);
		sim_out_clearing(r->out, r->variant, r->k, host, raas_resource_name(res), p->supply,
				 &res_out);
	}
}

/* A posted-price pool for metered egress: advance the model (a clearing without bids), then
 * read its posted price. */
static void post_egress(struct run *r, struct sim_pool *p, int64_t host, struct sim_stats *st)
{
	struct pm_pool pool;
	struct pm_result res_out = {0};
	struct pm_outcome none;
	struct pm_error err;

	res_out.outcomes = &none;
	pm_pool_setup_round(p->setup, r->k + 1, p->supply, &pool);
	int e = pm_clear(p->inst, &pool, NULL, 0, &res_out, &err);
	if (!e) {
		pm_pool_setup_round(p->setup, r->k + 1, p->supply, &pool);
		e = pm_posted_price(p->inst, &pool, &p->price);
	}
	if (e) {
		run_fail(r, e, "round %llu, egress of host %lld: %s: %s", (unsigned long long)r->k,
			 (long long)host, r->sc->res[raas_resource_index(RAAS_RES_EGRESS)].model,
			 e == -ENOTSUP ? "the model has no posted price (egress needs one: fixed, "
					 "trace, spot-ar1, utilization)"
				       : err.message);
		return;
	}
	note_price(&st->res[raas_resource_index(RAAS_RES_EGRESS)], p->price);
	st->res[raas_resource_index(RAAS_RES_EGRESS)].clear_ns += res_out.clear_ns;
}

/* ---- open ---- */

static void open_hosts(void *ctx, int worker, size_t begin, size_t end)
{
	struct run *r = ctx;
	struct sim_world *w = r->w;
	struct worker *wk = &r->workers[worker];
	const struct sim_scenario *sc = r->sc;

	for (size_t h = begin; h < end; h++) {
		struct sim_host *host = &w->hosts[h];
		for (int res = RAAS_RES_MIN; res <= RAAS_RES_MAX; res++) {
			const struct sim_resource_cfg *rc = &sc->res[raas_resource_index(res)];
			if (rc->pricing != SIM_PRICING_MODEL || rc->scope != SIM_SCOPE_HOST)
				continue;
			if (res == RAAS_RES_EGRESS) {
				post_egress(r, &host->pools[raas_resource_index(res)], (int64_t)h, &wk->st);
				continue;
			}
			size_t n = gather(r, wk, (enum raas_resource)res, host->members,
					  host->nmembers, &wk->st);
			clear_pool(r, wk, &host->pools[raas_resource_index(res)], (enum raas_resource)res, (int64_t)h, n,
				   &wk->st);
		}
		money_t egress = world_pool(w, h, RAAS_RES_EGRESS)->price;
		for (uint32_t i = 0; i < host->nmembers; i++)
			tenant_update(w, &w->tenants[host->members[i]], egress);
	}
}

void round_global_clear(struct run *r)
{
	struct sim_world *w = r->w;
	struct worker *wk = &r->workers[0];

	for (int res = RAAS_RES_MIN; res <= RAAS_RES_MAX; res++) {
		const struct sim_resource_cfg *rc = &r->sc->res[raas_resource_index(res)];
		if (rc->pricing == SIM_PRICING_SCHEDULE) {
			note_price(&r->round.res[raas_resource_index(res)], w->global[raas_resource_index(res)].price);
			continue;
		}
		if (rc->pricing != SIM_PRICING_MODEL || rc->scope != SIM_SCOPE_GLOBAL)
			continue;
		if (res == RAAS_RES_EGRESS) {
			post_egress(r, &w->global[raas_resource_index(res)], -1, &r->round);
			continue;
		}
		/* Every live tenant, host by host (the order does not change the outcome). The
		 * scratch is sized once, before any bid points into it. */
		size_t n = 0;
		if (reserve(wk, w->nlive)) {
			run_fail(r, -ENOMEM, "out of memory for the global %s pool",
				 raas_resource_name((enum raas_resource)res));
			break;
		}
		for (size_t h = 0; h < w->nhosts; h++) {
			struct sim_host *host = &w->hosts[h];
			for (uint32_t i = 0; i < host->nmembers; i++) {
				struct sim_tenant *t = &w->tenants[host->members[i]];
				if (t->resource != res)
					continue;
				r->round.bid_evals++;
				if (tenant_bid(w, t, &wk->bids[n], &wk->segs[n * ECON_MENU_MAX])) {
					wk->who[n++] = host->members[i];
				} else {
					t->alloc = 0;
					t->pay_rate = 0;
				}
			}
		}
		if (!r->error)
			clear_pool(r, wk, &w->global[raas_resource_index(res)], (enum raas_resource)res, -1,
				   n, &r->round);
	}
}

void round_open(struct run *r)
{
	if (r->record) {
		/* Recording writes rows in host order from the workers' callbacks: one thread. */
		open_hosts(r, 0, 0, r->w->nhosts);
	} else {
		tpool_run(r->tp, r->w->nhosts, 16, open_hosts, r);
	}
	merge_workers(r);
}
