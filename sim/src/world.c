/* world.c: building and tearing down a run's world; adding, placing and removing tenants.
 *
 * Every random draw of the world (placement, arrival gaps, lifetimes, flat values) comes from
 * one generator seeded from the run's seed alone (not the variant: every variant meets the
 * same tenants), drawn in event order on the main thread, and none of them depends on a
 * price; each pool has its own generator, reseeded every round from the seed, the
 * pool's identity and the round by pricing-models' pool setup (the market's too), so that the
 * pools may clear on any thread in any order and still draw the same numbers. */
#include <errno.h>
#include <gsl/gsl_randist.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "check.h"
#include "world.h"
#include "run_internal.h"

/* splitmix64: decorrelates the seeds of the many generators of a run. */
static uint64_t mix(uint64_t x)
{
	x += 0x9e3779b97f4a7c15ULL;
	x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9ULL;
	x = (x ^ (x >> 27)) * 0x94d049bb133111ebULL;
	return x ^ (x >> 31);
}

static uint64_t hash_name(const char *s)
{
	uint64_t h = 1469598103934665603ULL; /* FNV-1a */

	for (; *s; s++)
		h = (h ^ (unsigned char)*s) * 1099511628211ULL;
	return h;
}

uint64_t sim__stream_seed(uint64_t seed, const char *variant, uint64_t a, uint64_t b)
{
	return mix(mix(mix(seed) ^ hash_name(variant)) ^ mix(a * 0x100000001b3ULL + b));
}

void world_host_name(int64_t host, char *buf, size_t len)
{
	if (host < 0)
		snprintf(buf, len, "*");
	else
		snprintf(buf, len, "h%lld", (long long)host);
}

/* A pool's model through the one pool setup the market uses too (pricing/pool.h): the same
 * seed, host and resource give the same generator stream in every round. */
static int pool_init(struct sim_world *w, struct sim_pool *p, enum raas_resource r, int64_t host,
		     int64_t supply, char *why, size_t why_len)
{
	const struct sim_resource_cfg *rc = &w->sc->res[raas_resource_index(r)];
	struct pm_error perr;
	char hname[32];

	p->supply = supply;
	if (rc->pricing == SIM_PRICING_SCHEDULE) {
		p->price = sim_schedule_price(&rc->schedule, 0);
		return 0;
	}
	world_host_name(host, hname, sizeof(hname));
	struct pm_pool_spec spec = {.model = rc->model, .params = rc->params, .host = hname,
				    .resource = raas_resource_name(r), .seed = w->seed,
				    .round_ns = w->sc->round_ns};
	int e = pm_pool_setup_create(&spec, &p->setup, &perr);
	if (e) {
		snprintf(why, why_len, "resource.%s: model %s: %s", raas_resource_name(r), rc->model,
			 perr.message);
		return e;
	}
	p->inst = pm_pool_setup_instance(p->setup);
	return 0;
}

static void pool_fini(struct sim_pool *p)
{
	pm_pool_setup_destroy(p->setup);
	memset(p, 0, sizeof(*p));
}

static int create_pools(struct sim_world *w, char *why, size_t why_len)
{
	const struct sim_scenario *sc = w->sc;

	for (int r = RAAS_RES_MIN; r <= RAAS_RES_MAX; r++) {
		const struct sim_resource_cfg *rc = &sc->res[raas_resource_index(r)];
		int e = 0;

		if (rc->pricing == SIM_PRICING_NONE)
			continue;
		bool global = rc->scope == SIM_SCOPE_GLOBAL || rc->pricing == SIM_PRICING_SCHEDULE;
		if (global) {
			int64_t supply = rc->capacity * (int64_t)w->nhosts;
			e = pool_init(w, &w->global[raas_resource_index(r)], (enum raas_resource)r, -1, supply, why,
				      why_len);
		} else {
			for (size_t h = 0; h < w->nhosts && !e; h++)
				e = pool_init(w, &w->hosts[h].pools[raas_resource_index(r)], (enum raas_resource)r,
					      (int64_t)h, rc->capacity, why, why_len);
		}
		if (e)
			return e;
	}
	return 0;
}

static int create_classes(struct sim_world *w, char *why, size_t why_len)
{
	const struct sim_scenario *sc = w->sc;

	w->classes = calloc(sc->nclasses, sizeof(*w->classes));
	if (!w->classes)
		return -ENOMEM;
	w->nclasses = sc->nclasses;
	for (size_t c = 0; c < sc->nclasses; c++) {
		struct sim_class_rt *k = &w->classes[c];
		const struct sim_class_cfg *cfg = &sc->classes[c];
		k->cfg = cfg;
		if (cfg->kind != SIM_KIND_NOM)
			continue;
		size_t nl = cfg->app->nlevels;
		k->menus = calloc(nl, sizeof(*k->menus));
		k->fixed = calloc(nl, sizeof(*k->fixed));
		k->fixed_value = calloc(nl, sizeof(*k->fixed_value));
		if (!k->menus || !k->fixed || !k->fixed_value)
			return -ENOMEM;
		for (size_t l = 0; l < nl; l++) {
			const struct econ_level *lvl = &cfg->app->levels[l];
			int e = econ_menu_build(lvl, &cfg->utility, &k->menus[l]);
			if (e) {
				snprintf(why, why_len,
					 "class.%s: app %s, level %s: cannot build its menu: %s",
					 cfg->name, cfg->app->name, lvl->name,
					 e == -E2BIG ? "more than 64 frontier points" : strerror(-e));
				return e;
			}
			if (cfg->strategy != SIM_ADAPTIVE) {
				k->fixed[l] = econ_level_at(lvl, cfg->delay_us);
				if (k->fixed[l])
					k->fixed_value[l] = econ_value_per_gbit(
						&cfg->utility, k->fixed[l]->latency_us,
						k->fixed[l]->jitter_us);
			}
		}
		sim_load_at(&cfg->load, 0, &k->level, &k->scale);
	}
	return 0;
}

int world_create(const struct sim_scenario *sc, uint64_t seed, struct sim_world **out, char *why,
		 size_t why_len)
{
	struct sim_world *w = calloc(1, sizeof(*w));
	int e;

	if (!w)
		return -ENOMEM;
	w->sc = sc;
	w->seed = seed;
	w->free_head = WORLD_NO_TENANT;
	w->nhosts = (size_t)sc->hosts;
	w->hosts = calloc(w->nhosts, sizeof(*w->hosts));
	w->rng = gsl_rng_alloc(gsl_rng_mt19937);
	if (!w->hosts || !w->rng || evq_create(&w->q)) {
		snprintf(why, why_len, "out of memory");
		world_destroy(w);
		return -ENOMEM;
	}
	/* Not the variant: every variant of a scenario (a mechanism, say) meets the same tenant
	 * population, arrivals and departures. */
	gsl_rng_set(w->rng, (unsigned long)sim__stream_seed(seed, "", UINT64_MAX - 1, 0));
	if ((e = create_pools(w, why, why_len)) || (e = create_classes(w, why, why_len))) {
		if (e == -ENOMEM && !why[0])
			snprintf(why, why_len, "out of memory");
		world_destroy(w);
		return e;
	}
	*out = w;
	return 0;
}

void world_destroy(struct sim_world *w)
{
	if (!w)
		return;
	for (size_t h = 0; h < w->nhosts && w->hosts; h++) {
		for (int r = RAAS_RES_MIN; r <= RAAS_RES_MAX; r++)
			pool_fini(&w->hosts[h].pools[raas_resource_index(r)]);
		free(w->hosts[h].members);
	}
	for (int r = RAAS_RES_MIN; r <= RAAS_RES_MAX; r++)
		pool_fini(&w->global[raas_resource_index(r)]);
	for (size_t c = 0; c < w->nclasses; c++) {
		free(w->classes[c].menus);
		free(w->classes[c].fixed);
		free(w->classes[c].fixed_value);
		free(w->classes[c].members);
	}
	free(w->classes);
	free(w->hosts);
	free(w->tenants);
	if (w->rng)
		gsl_rng_free(w->rng);
	evq_destroy(w->q);
	free(w);
}

struct sim_pool *world_pool(struct sim_world *w, size_t h, enum raas_resource r)
{
	const struct sim_resource_cfg *rc = &w->sc->res[raas_resource_index(r)];

	if (rc->scope == SIM_SCOPE_GLOBAL || rc->pricing == SIM_PRICING_SCHEDULE)
		return &w->global[raas_resource_index(r)];
	return &w->hosts[h].pools[raas_resource_index(r)];
}

static bool push_member(uint32_t **v, uint32_t *n, uint32_t *cap, uint32_t t, uint32_t *slot)
{
	if (*n == *cap) {
		uint32_t nc = *cap ? 2 * *cap : 8;
		uint32_t *nv = realloc(*v, (size_t)nc * sizeof(*nv));
		if (!nv)
			return false;
		*v = nv;
		*cap = nc;
	}
	*slot = *n;
	(*v)[(*n)++] = t;
	return true;
}

static money_t draw_value(struct sim_world *w, const struct sim_value_dist *d)
{
	double v = 0;

	switch (d->kind) {
	case SIM_DIST_FIXED:
		return d->a;
	case SIM_DIST_UNIFORM:
		v = (double)d->a + (double)(d->b - d->a) * gsl_rng_uniform(w->rng);
		break;
	case SIM_DIST_NORMAL:
		/* Truncated at 0 by redrawing (bounded; 0 if the mean is far below 0). */
		for (int i = 0; i < 100; i++) {
			v = (double)d->a + gsl_ran_gaussian(w->rng, (double)d->b);
			if (v >= 0)
				break;
		}
		if (v < 0)
			v = 0;
		break;
	case SIM_DIST_PARETO:
		v = gsl_ran_pareto(w->rng, d->shape, (double)d->a);
		break;
	}
	return v >= 9e18 ? INT64_C(9000000000000000000) : (money_t)llround(v);
}

uint32_t world_add_tenant(struct sim_world *w, uint32_t cls)
{
	struct sim_class_rt *k = &w->classes[cls];
	uint32_t t;

	if (w->free_head != WORLD_NO_TENANT) {
		t = w->free_head;
		w->free_head = w->tenants[t].next_free;
	} else {
		if (w->ntenants == w->cap) {
			uint32_t nc = w->cap ? 2 * w->cap : 1024;
			struct sim_tenant *nv = realloc(w->tenants, (size_t)nc * sizeof(*nv));
			if (!nv)
				return WORLD_NO_TENANT;
			w->tenants = nv;
			w->cap = nc;
		}
		t = w->ntenants++;
	}
	struct sim_tenant *x = &w->tenants[t];
	memset(x, 0, sizeof(*x));
	x->live = true;
	x->cls = cls;
	x->resource = (uint8_t)k->cfg->resource;
	x->id = w->next_id++;
	x->next_free = WORLD_NO_TENANT;
	x->last_ns = w->now;
	if (w->sc->placement == SIM_PLACE_RANDOM)
		x->host = (uint32_t)gsl_rng_uniform_int(w->rng, w->nhosts);
	else
		x->host = w->rr_next++ % (uint32_t)w->nhosts;
	struct sim_host *h = &w->hosts[x->host];
	if (!push_member(&h->members, &h->nmembers, &h->cap, t, &x->host_slot) ||
	    !push_member(&k->members, &k->nmembers, &k->cap, t, &x->cls_slot)) {
		if (h->nmembers && h->members[h->nmembers - 1] == t)
			h->nmembers--;
		x->live = false;
		x->next_free = w->free_head;
		w->free_head = t;
		return WORLD_NO_TENANT;
	}
	if (k->cfg->kind == SIM_KIND_FLAT)
		x->flat_value = draw_value(w, &k->cfg->value);
	if (k->cfg->lifetime != SIM_LIFE_NONE) {
		double life = (double)k->cfg->lifetime_ns;
		if (k->cfg->lifetime == SIM_LIFE_EXP)
			life = gsl_ran_exponential(w->rng, life);
		if (life < (double)(w->sc->duration_ns - w->now))
			evq_push(w->q, w->now + (int64_t)llround(life), EV_DEPARTURE, cls, t,
				 &x->departure);
	}
	k->arrivals++;
	w->nlive++;
	return t;
}

void world_remove_tenant(struct sim_world *w, uint32_t t)
{
	struct sim_tenant *x = &w->tenants[t];
	struct sim_host *h = &w->hosts[x->host];
	struct sim_class_rt *k = &w->classes[x->cls];

	uint32_t last = h->members[--h->nmembers];
	h->members[x->host_slot] = last;
	w->tenants[last].host_slot = x->host_slot;
	last = k->members[--k->nmembers];
	k->members[x->cls_slot] = last;
	w->tenants[last].cls_slot = x->cls_slot;
	if (x->departure)
		evq_cancel(w->q, x->departure);
	k->departures++;
	x->live = false;
	x->next_free = w->free_head;
	w->free_head = t;
	w->nlive--;
}

#define CHECK(cond) SIM_CHECK("world_check", cond)

void world_check(const struct sim_world *w)
{
	uint32_t live = 0;

	for (uint32_t t = 0; t < w->ntenants; t++) {
		const struct sim_tenant *x = &w->tenants[t];
		if (!x->live)
			continue;
		live++;
		CHECK(x->host < w->nhosts && x->cls < w->nclasses);
		CHECK(w->hosts[x->host].members[x->host_slot] == t);
		CHECK(w->classes[x->cls].members[x->cls_slot] == t);
		CHECK(x->last_ns <= w->now);
		enum raas_resource r = w->classes[x->cls].cfg->resource;
		CHECK(x->resource == r);
		CHECK(r != RAAS_RES_EGRESS || x->alloc == 0);
		CHECK(x->alloc >= 0);
	}
	CHECK(live == w->nlive);
	uint32_t on_hosts = 0, in_classes = 0;
	for (size_t h = 0; h < w->nhosts; h++) {
		on_hosts += w->hosts[h].nmembers;
		for (int r = RAAS_RES_MIN; r <= RAAS_RES_MAX; r++) {
			if (w->sc->res[raas_resource_index(r)].pricing != SIM_PRICING_MODEL ||
			    w->sc->res[raas_resource_index(r)].scope != SIM_SCOPE_HOST || r == RAAS_RES_EGRESS)
				continue;
			int64_t sum = 0;
			for (uint32_t i = 0; i < w->hosts[h].nmembers; i++) {
				const struct sim_tenant *x = &w->tenants[w->hosts[h].members[i]];
				if (w->classes[x->cls].cfg->resource == (enum raas_resource)r)
					sum += x->alloc;
			}
			CHECK(sum <= w->hosts[h].pools[raas_resource_index(r)].supply);
		}
	}
	for (size_t c = 0; c < w->nclasses; c++)
		in_classes += w->classes[c].nmembers;
	CHECK(on_hosts == live && in_classes == live);
}
