/* run.c: the simulation loop: events between rounds, rounds on the worker pool, the run file.
 *
 * Time advances from event to event (evq.h): arrivals, departures, load steps and price steps
 * happen at their exact nanosecond, with each affected tenant accruing what it earned up to
 * then. Round boundaries are kept apart from the queue so that events at the same instant as
 * a boundary always take effect first: the round that starts at 60 s clears with the load and
 * price of 60 s. A round boundary closes the last round (every tenant accrues; one row per
 * resource and per class goes to the run file) and opens the next (pools clear, tenants move
 * to their new working points). */
#include <errno.h>
#include <gsl/gsl_randist.h>
#include <inttypes.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "common/clock.h"
#include "common/error.h"
#include "run_internal.h"
#include "progress.h"
#include "run.h"

#ifndef RAAS_VERSION
#define RAAS_VERSION "0"
#endif

/* ---- events ---- */

static void schedule_arrival(struct run *r, uint32_t cls)
{
	const struct sim_class_cfg *c = r->w->classes[cls].cfg;
	double gap = gsl_ran_exponential(r->w->rng, (double)c->arrival_mean_ns);

	if (gap < (double)(r->sc->duration_ns - r->w->now))
		evq_push(r->w->q, r->w->now + (int64_t)llround(gap), EV_ARRIVAL, cls, 0, NULL);
}

static void schedule_load(struct run *r, uint32_t cls)
{
	int64_t next = sim_load_next(&r->w->classes[cls].cfg->load, r->w->now);

	if (next < r->sc->duration_ns)
		evq_push(r->w->q, next, EV_LOAD, cls, 0, NULL);
}

static void schedule_price(struct run *r, enum raas_resource res)
{
	int64_t next = sim_schedule_next(&r->sc->res[raas_resource_index(res)].schedule, r->w->now);

	if (next < r->sc->duration_ns)
		evq_push(r->w->q, next, EV_PRICE, res, 0, NULL);
}

static money_t egress_price(struct sim_world *w, uint32_t host)
{
	return world_pool(w, host, RAAS_RES_EGRESS)->price;
}

static void handle(struct run *r, const struct evq_event *ev)
{
	struct sim_world *w = r->w;

	switch (ev->kind) {
	case EV_ARRIVAL: {
		uint32_t t = world_add_tenant(w, ev->a);
		if (t == WORLD_NO_TENANT) {
			run_fail(r, -ENOMEM, "out of memory adding a tenant");
			return;
		}
		tenant_update(w, &w->tenants[t], egress_price(w, w->tenants[t].host));
		schedule_arrival(r, ev->a);
		return;
	}
	case EV_DEPARTURE: {
		struct sim_tenant *t = &w->tenants[ev->b];
		t->departure = 0; /* this event: nothing left to cancel */
		tenant_accrue(w, t, w->now);
		stats_flush_tenant(&r->round, w, t);
		world_remove_tenant(w, (uint32_t)ev->b);
		return;
	}
	case EV_LOAD: {
		struct sim_class_rt *k = &w->classes[ev->a];
		for (uint32_t i = 0; i < k->nmembers; i++)
			tenant_accrue(w, &w->tenants[k->members[i]], w->now);
		sim_load_at(&k->cfg->load, w->now, &k->level, &k->scale);
		for (uint32_t i = 0; i < k->nmembers; i++) {
			struct sim_tenant *t = &w->tenants[k->members[i]];
			tenant_update(w, t, egress_price(w, t->host));
		}
		schedule_load(r, ev->a);
		return;
	}
	case EV_PRICE: {
		/* Accrue at the old price, step, re-plan at the new one: only egress tenants pay
		 * a scheduled price. */
		for (size_t c = 0; c < w->nclasses; c++) {
			const struct sim_class_rt *k = &w->classes[c];
			if (k->cfg->resource != RAAS_RES_EGRESS)
				continue;
			for (uint32_t i = 0; i < k->nmembers; i++)
				tenant_accrue(w, &w->tenants[k->members[i]], w->now);
		}
		struct sim_pool *p = &w->global[raas_resource_index(ev->a)];
		p->price = sim_schedule_price(&r->sc->res[raas_resource_index(ev->a)].schedule, w->now);
		for (size_t c = 0; c < w->nclasses; c++) {
			const struct sim_class_rt *k = &w->classes[c];
			if (k->cfg->resource != RAAS_RES_EGRESS)
				continue;
			for (uint32_t i = 0; i < k->nmembers; i++) {
				struct sim_tenant *t = &w->tenants[k->members[i]];
				tenant_update(w, t, egress_price(w, t->host));
			}
		}
		schedule_price(r, (enum raas_resource)ev->a);
		return;
	}
	}
}

/* Handles every event at or before `until` (and before the end of the run). */
static void handle_until(struct run *r, int64_t until)
{
	struct evq_event ev;

	while (!r->error && evq_peek(r->w->q, &ev) && ev.time <= until &&
	       ev.time < r->sc->duration_ns) {
		evq_pop(r->w->q, &ev);
		r->w->now = ev.time;
		handle(r, &ev);
	}
}

/* ---- output of a round ---- */

static int64_t tenants_of(const struct run *r, enum raas_resource res)
{
	int64_t n = 0;

	for (size_t c = 0; c < r->w->nclasses; c++)
		if (r->w->classes[c].cfg->resource == res)
			n += r->round.cls[c].tenants;
	return n;
}

struct totals {
	money_t revenue, welfare;
	double util_sum[RAAS_RES_COUNT];
	uint64_t util_n[RAAS_RES_COUNT];
	struct sim_stats st; /* class and resource money over the run */
	int64_t clear_ns_sum;
	int64_t *clear_ns;   /* per round, for the percentile */
	uint64_t rounds;
};

static int write_round(struct run *r, struct totals *tot, int64_t wall_ns)
{
	const struct sim_scenario *sc = r->sc;
	int rc = 0;
	int64_t clear_ns = 0;

	for (int res = RAAS_RES_MIN; res <= RAAS_RES_MAX && !rc; res++) {
		const struct res_stats *rs = &r->round.res[raas_resource_index(res)];
		if (sc->res[raas_resource_index(res)].pricing == SIM_PRICING_NONE)
			continue;
		struct sim_out_round row = {
			.round = r->k, .t_ns = (int64_t)r->k * sc->round_ns,
			.resource = raas_resource_name(res),
			.pools = rs->pools, .bids = rs->bids, .supply = rs->supply,
			.allocated = rs->allocated, .utilization = -1,
			.price_min = rs->pools ? rs->price_min : 0,
			.price_mean = rs->pools ? (money_t)(rs->price_sum / rs->pools) : 0,
			.price_max = rs->pools ? rs->price_max : 0, .revenue = rs->revenue,
			.welfare = rs->value, .tenant_utility = rs->value - rs->revenue,
			.tenants = tenants_of(r, (enum raas_resource)res)};
		if (res == RAAS_RES_EGRESS && sc->res[raas_resource_index(res)].capacity > 0) {
			row.supply = sc->res[raas_resource_index(res)].capacity * (int64_t)sc->hosts;
			row.allocated = rs->used_mbps;
		}
		if (row.supply > 0) {
			row.utilization = (double)row.allocated / (double)row.supply;
			tot->util_sum[raas_resource_index(res)] += row.utilization;
			tot->util_n[raas_resource_index(res)]++;
		}
		rc = sim_out_round(r->out, r->variant, &row);
		tot->revenue += rs->revenue;
		tot->welfare += rs->value;
		clear_ns += rs->clear_ns;
	}
	for (size_t c = 0; c < r->w->nclasses && sc->class_rounds && !rc; c++) {
		const struct cls_stats *cs = &r->round.cls[c];
		struct sim_out_class row = {
			.name = r->w->classes[c].cfg->name, .tenants = cs->tenants, .value = cs->value,
			.payment = cs->pay, .allocated = cs->alloc,
			.mean_delay_us = cs->nom_tenants
						 ? (double)cs->delay_ns / 1000.0 / (double)cs->nom_tenants
						 : -1};
		rc = sim_out_class_round(r->out, r->variant, r->k, &row);
	}
	if (!rc)
		rc = sim_out_timing(r->out, r->variant, r->k, clear_ns, wall_ns);
	tot->clear_ns_sum += clear_ns;
	tot->clear_ns[tot->rounds++] = clear_ns;
	stats_merge(&tot->st, &r->round, r->w->nclasses);
	return rc;
}

static int write_pool_prices(struct run *r)
{
	const struct sim_scenario *sc = r->sc;
	int64_t pools = 0;
	int rc = 0;

	for (int res = RAAS_RES_MIN; res <= RAAS_RES_MAX; res++)
		if (sc->res[raas_resource_index(res)].pricing != SIM_PRICING_NONE)
			pools += sc->res[raas_resource_index(res)].scope == SIM_SCOPE_HOST &&
						 sc->res[raas_resource_index(res)].pricing == SIM_PRICING_MODEL
					 ? sc->hosts
					 : 1;
	if (sc->pool_prices == SIM_POOL_PRICES_NONE ||
	    (sc->pool_prices == SIM_POOL_PRICES_AUTO && pools > 256))
		return 0;
	for (int res = RAAS_RES_MIN; res <= RAAS_RES_MAX && !rc; res++) {
		const struct sim_resource_cfg *rc_ = &sc->res[raas_resource_index(res)];
		if (rc_->pricing == SIM_PRICING_NONE)
			continue;
		if (rc_->scope == SIM_SCOPE_HOST && rc_->pricing == SIM_PRICING_MODEL) {
			for (size_t h = 0; h < r->w->nhosts && !rc; h++)
				rc = sim_out_pool_price(r->out, r->variant, r->k, (int64_t)h,
							raas_resource_name(res),
							r->w->hosts[h].pools[raas_resource_index(res)].price);
		} else {
			rc = sim_out_pool_price(r->out, r->variant, r->k, -1, raas_resource_name(res),
						r->w->global[raas_resource_index(res)].price);
		}
	}
	return rc;
}

static int cmp_i64(const void *a, const void *b)
{
	int64_t x = *(const int64_t *)a, y = *(const int64_t *)b;
	return x < y ? -1 : x > y;
}

static int write_final(struct run *r, struct totals *tot, double wall_s)
{
	const struct sim_scenario *sc = r->sc;
	const char *v = r->variant;
	struct sim_out *o = r->out;
	uint64_t tenants = 0;
	int rc = 0;

	for (size_t c = 0; c < r->w->nclasses && !rc; c++) {
		const struct sim_class_rt *k = &r->w->classes[c];
		const struct sim_class_cfg *cfg = k->cfg;
		bool nom = cfg->kind == SIM_KIND_NOM;
		struct sim_out_class row = {
			.name = cfg->name, .kind = nom ? "nom" : "flat",
			.app = nom ? cfg->app->name : NULL,
			.utility = nom ? econ_kind_name(cfg->utility.kind) : NULL,
			.strategy = nom ? sim_strategy_name(cfg->strategy) : NULL,
			.resource = raas_resource_name(cfg->resource), .tenants = (int64_t)k->arrivals,
			.value = tot->st.cls[c].value, .payment = tot->st.cls[c].pay};
		tenants += k->arrivals;
		rc = sim_out_class(o, v, &row);
	}
	if (rc)
		return rc;
	rc = sim_out_metric(o, v, "revenue", money_to_dollars(tot->revenue), "$", true,
			    tot->revenue) ||
	     sim_out_metric(o, v, "social_welfare", money_to_dollars(tot->welfare), "$", true,
			    tot->welfare) ||
	     sim_out_metric(o, v, "tenant_utility", money_to_dollars(tot->welfare - tot->revenue),
			    "$", true, tot->welfare - tot->revenue) ||
	     sim_out_metric(o, v, "rounds", (double)tot->rounds, "rounds", false, 0) ||
	     sim_out_metric(o, v, "tenants", (double)tenants, "tenants", false, 0) ||
	     sim_out_metric(o, v, "bid_evals", (double)tot->st.bid_evals, "bids", false, 0);
	for (int res = RAAS_RES_MIN; res <= RAAS_RES_MAX && !rc; res++) {
		char name[64];
		int i = raas_resource_index(res);
		if (!tot->util_n[i])
			continue;
		snprintf(name, sizeof(name), "utilization.%s", raas_resource_name(res));
		rc = sim_out_metric(o, v, name, tot->util_sum[i] / (double)tot->util_n[i],
				    "fraction", false, 0);
	}
	if (rc)
		return -EIO;
	qsort(tot->clear_ns, tot->rounds, sizeof(int64_t), cmp_i64);
	size_t p99 = tot->rounds ? (size_t)((double)(tot->rounds - 1) * 0.99) : 0;
	rc = sim_out_timing_metric(o, v, "clear_ns_mean",
				   tot->rounds ? (double)tot->clear_ns_sum / (double)tot->rounds : 0) ||
	     sim_out_timing_metric(o, v, "clear_ns_p99",
				   tot->rounds ? (double)tot->clear_ns[p99] : 0) ||
	     sim_out_timing_metric(o, v, "wall_s", wall_s) ||
	     sim_out_timing_metric(o, v, "threads", r->nworkers);
	(void)sc;
	return rc ? -EIO : 0;
}

/* ---- one variant ---- */

static int setup_run(struct run *r, int threads, char *why, size_t why_len)
{
	size_t nc = r->w->nclasses;

	if (tpool_create(threads, &r->tp)) {
		snprintf(why, why_len, "cannot start %d threads", threads);
		return -EAGAIN;
	}
	r->nworkers = threads;
	r->workers = calloc((size_t)threads, sizeof(*r->workers));
	if (!r->workers || stats_init(&r->round, nc))
		goto oom;
	for (int i = 0; i < threads; i++)
		if (stats_init(&r->workers[i].st, nc))
			goto oom;
	pthread_mutex_init(&r->err_lock, NULL);
	return 0;
oom:
	snprintf(why, why_len, "out of memory");
	return -ENOMEM;
}

static void teardown_run(struct run *r)
{
	for (int i = 0; r->workers && i < r->nworkers; i++) {
		stats_fini(&r->workers[i].st);
		free(r->workers[i].bids);
		free(r->workers[i].outs);
		free(r->workers[i].segs);
		free(r->workers[i].who);
	}
	free(r->workers);
	stats_fini(&r->round);
	tpool_destroy(r->tp);
	if (r->nworkers)
		pthread_mutex_destroy(&r->err_lock);
}

static int populate(struct run *r)
{
	struct sim_world *w = r->w;

	for (uint32_t c = 0; c < w->nclasses; c++) {
		const struct sim_class_cfg *cfg = w->classes[c].cfg;
		for (int64_t i = 0; i < cfg->count; i++)
			if (world_add_tenant(w, c) == WORLD_NO_TENANT)
				return -ENOMEM;
		if (cfg->arrival_mean_ns > 0)
			schedule_arrival(r, c);
		if (cfg->kind == SIM_KIND_NOM)
			schedule_load(r, c);
	}
	if (r->sc->res[raas_resource_index(RAAS_RES_EGRESS)].pricing == SIM_PRICING_SCHEDULE)
		schedule_price(r, RAAS_RES_EGRESS);
	return 0;
}

static int run_variant(const struct sim_scenario *sc, uint64_t seed, int threads,
		       struct sim_out *out, enum sim_progress_mode pmode,
		       struct sim_run_stats *stats, char *why, size_t why_len)
{
	struct run r = {.sc = sc, .out = out, .variant = sc->variant};
	struct totals tot = {0};
	struct progress prog;
	uint64_t nrounds = (uint64_t)((sc->duration_ns + sc->round_ns - 1) / sc->round_ns);
	int64_t t0 = clk_mono(&clk_real);
	int rc;

	rc = world_create(sc, seed, &r.w, why, why_len);
	if (rc)
		return rc;
	if ((rc = setup_run(&r, threads, why, why_len)))
		goto out;
	tot.clear_ns = calloc(nrounds, sizeof(int64_t));
	if (!tot.clear_ns || stats_init(&tot.st, r.w->nclasses) || populate(&r)) {
		snprintf(why, why_len, "out of memory");
		rc = -ENOMEM;
		goto out;
	}
	progress_start(&prog, pmode, sc->variant[0] ? sc->variant : (sc->name[0] ? sc->name : "run"),
		       nrounds);
	int64_t round_wall = clk_mono(&clk_real);
	for (uint64_t k = 0; k < nrounds && !r.error && !rc; k++) {
		int64_t t = (int64_t)k * sc->round_ns;
		handle_until(&r, t);
		r.w->now = t;
		if (k > 0) {
			r.t = t;
			round_close(&r);
			int64_t now = clk_mono(&clk_real);
			rc = write_round(&r, &tot, now - round_wall);
			round_wall = now;
			stats_reset(&r.round, r.w->nclasses);
		}
		r.k = k;
		r.t = t;
		r.len = sc->round_ns < sc->duration_ns - t ? sc->round_ns : sc->duration_ns - t;
		r.record = sc->record_rounds == -1 || (int64_t)k < sc->record_rounds;
		for (size_t c = 0; c < r.w->nclasses; c++) {
			struct sim_class_rt *kc = &r.w->classes[c];
			if (kc->cfg->kind == SIM_KIND_NOM)
				sim_load_at(&kc->cfg->load, t, &kc->level, &kc->scale);
			tenant_class_bid(r.w, kc);
		}
		round_global_clear(&r);
		if (!r.error)
			round_open(&r);
		if (!r.error && !rc)
			rc = write_pool_prices(&r);
		progress_step(&prog, k + 1, (double)t / 1e9);
	}
	if (!r.error && !rc) {
		handle_until(&r, sc->duration_ns);
		r.w->now = sc->duration_ns;
		r.t = sc->duration_ns;
		round_close(&r);
		rc = write_round(&r, &tot, clk_mono(&clk_real) - round_wall);
	}
	progress_end(&prog);
	if (r.error) {
		rc = r.error;
		snprintf(why, why_len, "%s", r.error_msg);
		goto out;
	}
	if (rc) {
		snprintf(why, why_len, "cannot write the run file");
		goto out;
	}
	double wall_s = (double)(clk_mono(&clk_real) - t0) / 1e9;
	if ((rc = write_final(&r, &tot, wall_s))) {
		snprintf(why, why_len, "cannot write the run file");
		goto out;
	}
	world_check(r.w);
	stats->rounds += tot.rounds;
	stats->bid_evals += (uint64_t)tot.st.bid_evals;
	stats->threads = threads;
	for (size_t c = 0; c < r.w->nclasses; c++)
		stats->tenants += r.w->classes[c].arrivals;
out:
	stats_fini(&tot.st);
	free(tot.clear_ns);
	teardown_run(&r);
	world_destroy(r.w);
	return rc;
}

/* ---- the run file's fixed parts ---- */

static int write_meta(struct sim_out *o, const struct sim_scenario *sc, uint64_t seed)
{
	char buf[64];
	const char *v = sc->variant;
	int rc = 0;

	snprintf(buf, sizeof(buf), "%" PRIu64, seed);
	rc |= sim_out_meta(o, v, "seed", buf);
	rc |= sim_out_meta(o, v, "config", sc->config);
	if (v[0])
		return rc;
	rc |= sim_out_meta(o, v, "version", "raas-sim " RAAS_VERSION);
	snprintf(buf, sizeof(buf), "%d", SIM_SCHEMA_VERSION);
	rc |= sim_out_meta(o, v, "schema_version", buf);
	rc |= sim_out_meta(o, v, "scenario_path", sc->path);
	rc |= sim_out_meta(o, v, "scenario", sc->text);
	rc |= sim_out_meta(o, v, "name", sc->name);
	rc |= sim_out_meta(o, v, "title", sc->title);
	rc |= sim_out_meta(o, v, "reference",
			   sc->reference == SIM_REF_NOM_THESIS ? "nom-thesis" : "none");
	snprintf(buf, sizeof(buf), "%" PRId64, sc->duration_ns);
	rc |= sim_out_meta(o, v, "duration_ns", buf);
	snprintf(buf, sizeof(buf), "%" PRId64, sc->round_ns);
	rc |= sim_out_meta(o, v, "round_ns", buf);
	snprintf(buf, sizeof(buf), "%" PRId64, sc->hosts);
	rc |= sim_out_meta(o, v, "hosts", buf);
	char list[4096] = "";
	size_t used = 0;
	for (size_t i = 0; i < sc->nvariants && used < sizeof(list); i++)
		used += (size_t)snprintf(list + used, sizeof(list) - used, "%s%s", i ? "," : "",
					 sc->variants[i]);
	rc |= sim_out_meta(o, v, "variants", list);
	for (size_t p = 0; p < sc->nprofiles; p++) {
		const struct econ_profile *pr = sc->profiles[p];
		for (size_t a = 0; a < pr->napps; a++)
			for (size_t l = 0; l < pr->apps[a].nlevels; l++)
				for (size_t i = 0; i < pr->apps[a].levels[l].npoints; i++)
					rc |= sim_out_profile(o, pr->name, pr->apps[a].name,
							      pr->apps[a].levels[l].name,
							      &pr->apps[a].levels[l].points[i]);
	}
	return rc ? -EIO : 0;
}

static int threads_for(const struct sim_run_opts *o, const struct sim_scenario *sc)
{
	int n = o->threads > 0 ? o->threads : sc->threads;

	if (n <= 0) {
		long cpus = sysconf(_SC_NPROCESSORS_ONLN);
		n = cpus > 0 ? (int)cpus : 1;
	}
	/* More threads than hosts would only wait. */
	if ((int64_t)n > sc->hosts)
		n = (int)sc->hosts;
	return n < 1 ? 1 : n;
}

int sim_run(const struct sim_run_opts *o, struct sim_run_stats *stats, char *why, size_t why_len)
{
	struct sim_scenario *base = NULL;
	struct sim_out *out = NULL;
	struct cfg_error cerr;
	int64_t t0 = clk_mono(&clk_real);
	int rc;

	memset(stats, 0, sizeof(*stats));
	why[0] = '\0';
	rc = sim_scenario_load(o->scenario, NULL, o->overrides, o->noverrides, &base, &cerr);
	if (rc) {
		cfg_error_format(&cerr, why, why_len);
		return rc;
	}
	uint64_t seed = o->have_seed ? o->seed : base->seed;
	if ((rc = sim_out_open(o->out, &out, why, why_len)))
		goto done;
	if ((rc = write_meta(out, base, seed))) {
		snprintf(why, why_len, "cannot write the run file");
		goto done;
	}
	size_t nv = base->nvariants ? base->nvariants : 1;
	for (size_t i = 0; i < nv && !rc; i++) {
		struct sim_scenario *sc = base;
		if (base->nvariants) {
			rc = sim_scenario_load(o->scenario, base->variants[i], o->overrides,
					       o->noverrides, &sc, &cerr);
			if (rc) {
				cfg_error_format(&cerr, why, why_len);
				break;
			}
			if ((rc = write_meta(out, sc, seed))) {
				snprintf(why, why_len, "cannot write the run file");
				sim_scenario_destroy(sc);
				break;
			}
		}
		rc = run_variant(sc, seed, threads_for(o, sc), out, o->progress, stats, why,
				 why_len);
		if (sc != base)
			sim_scenario_destroy(sc);
	}
done:
	if (out) {
		char cwhy[512];
		int crc = sim_out_close(out, rc == 0, cwhy, sizeof(cwhy));
		if (crc && !rc) {
			rc = crc;
			snprintf(why, why_len, "%s", cwhy);
		}
	}
	sim_scenario_destroy(base);
	stats->wall_s = (double)(clk_mono(&clk_real) - t0) / 1e9;
	return rc;
}
