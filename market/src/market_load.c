/* market_load.c: rebuilding the core's state from the ledger.
 *
 * The ledger is the truth and memory a cache of it: market__load() rebuilds every table in
 * memory (tenants, hosts, pools with their models, standing bids, the last round's prices and
 * holdings, billed meter readings), which is both how the market starts (after a crash too)
 * and how it recovers from a batch whose commit failed. Only the connections (routes)
 * survive a reload, since they are not state of the market but of its peers. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/error.h"
#include "common/log.h"
#include "market_internal.h"

/* ---- Loading ---- */

void market__clear_state(struct market *m)
{
	for (size_t i = 0; i < m->tenants_by_id.cap; i++)
		if (m->tenants_by_id.slots[i].hash > 1)
			market__tenant_free(m->tenants_by_id.slots[i].value);
	for (size_t i = 0; i < m->hosts_by_name.cap; i++)
		if (m->hosts_by_name.slots[i].hash > 1)
			market__host_free(m->hosts_by_name.slots[i].value);
	for (size_t i = 0; i < m->npools; i++)
		market__pool_free(m->pools[i]);
	hmap_fini(&m->tenants_by_name);
	hmap_fini(&m->tenants_by_id);
	hmap_fini(&m->tenants_by_key);
	hmap_fini(&m->hosts_by_name);
	hmap_fini(&m->hosts_by_key);
	hmap_fini(&m->pools_by_key);
	m->npools = 0;
	m->nmeters = 0;
	m->pools_gen++;
}

static int load_tenant(void *arg, const struct ledger_tenant *row)
{
	return market__tenant_add(arg, row, NULL);
}

static int load_host(void *arg, const struct ledger_host *row)
{
	return market__host_add(arg, row, NULL);
}

static int load_pool(void *arg, const struct ledger_pool *row)
{
	return market__pool_add(arg, row, NULL);
}

static int load_bid(void *arg, const struct ledger_bid *row)
{
	struct market *m = arg;
	struct mkt_tenant *t = hmap_get_i64(&m->tenants_by_id, row->tenant);

	if (!t) {
		log_error("market: standing bid %lld of unknown tenant %lld", (long long)row->id,
			  (long long)row->tenant);
		return -EPROTO;
	}
	return market__bid_attach(m, t, row, NULL);
}

static int load_price(void *arg, uint64_t round, const struct ledger_price_row *row)
{
	struct market *m = arg;

	for (size_t i = 0; i < m->npools; i++)
		if (m->pools[i]->row.id == row->pool) {
			m->pools[i]->price = row->unit_price;
			m->pools[i]->allocated = row->allocated;
			m->pools[i]->priced = true;
		}
	(void)round;
	return 0;
}

static struct mkt_pool *pool_by_id(struct market *m, int64_t id)
{
	for (size_t i = 0; i < m->npools; i++)
		if (m->pools[i]->row.id == id)
			return m->pools[i];
	return NULL;
}

static int load_alloc(void *arg, uint64_t round, const struct ledger_alloc_row *row)
{
	struct market *m = arg;
	struct mkt_tenant *t = hmap_get_i64(&m->tenants_by_id, row->tenant);
	struct mkt_pool *p = pool_by_id(m, row->pool);

	(void)round;
	if (!t || !p)
		return -EPROTO;
	/* A tenant removed after the round holds nothing any more. */
	if (t->row.status == LEDGER_REMOVED)
		return 0;
	if (t->nholdings == t->capholdings) {
		size_t cap = t->capholdings ? t->capholdings * 2 : 4;
		struct mkt_holding *v = realloc(t->holdings, cap * sizeof(*v));
		if (!v)
			return -ENOMEM;
		t->holdings = v;
		t->capholdings = cap;
	}
	struct mkt_holding *h = &t->holdings[t->nholdings++];
	memset(h, 0, sizeof(*h));
	h->pool = p;
	h->bid = row->bid;
	snprintf(h->bid_id, sizeof(h->bid_id), "%s", row->bid_id);
	h->quantity = row->quantity;
	h->unit_price = row->unit_price;
	h->payment_per_hour = row->payment_per_hour;
	/* The standing bid of the same id keeps what it held (a newer version included). */
	for (size_t i = 0; i < t->nbids; i++)
		if (strcmp(t->bids[i]->row.bid_id, row->bid_id) == 0) {
			t->bids[i]->held = row->quantity;
			t->bids[i]->held_pool = p;
		}
	t->notify = true;
	return 0;
}

static int load_meter(void *arg, const struct ledger_meter_row *row)
{
	struct mkt_meter *mt = market__meter(arg, row->host, row->tenant, true);

	if (!mt)
		return -ENOMEM;
	mt->billed = row->tx_bytes;
	return 0;
}

/* Routes of tenants and hosts, kept across a reload. */
struct saved_routes {
	char name[LEDGER_NAME_MAX];
	bool host;
	struct tp_route routes[MARKET_TENANT_ROUTES_MAX];
	size_t n;
	bool connected;
	bool tenants_listed;  /* hosts: what their agent said it can enforce (moved) */
	struct hmap tenants;
};

static struct saved_routes *save_routes(struct market *m, size_t *n)
{
	size_t cap = m->tenants_by_name.used + m->hosts_by_name.used, k = 0;
	struct saved_routes *v = calloc(cap ? cap : 1, sizeof(*v));

	if (!v)
		return NULL;
	for (size_t i = 0; i < m->tenants_by_name.cap; i++) {
		struct mkt_tenant *t = m->tenants_by_name.slots[i].value;
		if (m->tenants_by_name.slots[i].hash <= 1 || !t->nroutes)
			continue;
		snprintf(v[k].name, sizeof(v[k].name), "%s", t->row.name);
		memcpy(v[k].routes, t->routes, sizeof(t->routes));
		v[k++].n = t->nroutes;
	}
	for (size_t i = 0; i < m->hosts_by_name.cap; i++) {
		struct mkt_host *h = m->hosts_by_name.slots[i].value;
		if (m->hosts_by_name.slots[i].hash <= 1 || (!h->connected && !h->tenants_listed))
			continue;
		snprintf(v[k].name, sizeof(v[k].name), "%s", h->row.name);
		v[k].host = true;
		v[k].routes[0] = h->route;
		v[k].connected = h->connected;
		v[k].tenants_listed = h->tenants_listed;
		v[k].tenants = h->tenants;
		hmap_init(&h->tenants);
		v[k++].n = 1;
	}
	*n = k;
	return v;
}

static void restore_routes(struct market *m, const struct saved_routes *v, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		if (v[i].host) {
			struct mkt_host *h = market__host(m, v[i].name);
			struct hmap tenants = v[i].tenants;
			if (h) {
				h->route = v[i].routes[0];
				h->connected = v[i].connected;
				h->tenants_listed = v[i].tenants_listed;
				hmap_fini(&h->tenants);
				h->tenants = tenants;
			} else {
				hmap_fini(&tenants);
			}
			continue;
		}
		struct mkt_tenant *t = market__tenant(m, v[i].name);
		if (t) {
			memcpy(t->routes, v[i].routes, sizeof(t->routes));
			t->nroutes = v[i].n;
		}
	}
}

int market__load(struct market *m, char *why, size_t why_len)
{
	size_t nsaved = 0;
	struct saved_routes *saved = save_routes(m, &nsaved);
	uint64_t last;
	int64_t last_end;
	int err;

	market__clear_state(m);
	if ((err = ledger_tenants_each(m->ledger, load_tenant, m)) ||
	    (err = ledger_hosts_each(m->ledger, load_host, m)) ||
	    (err = ledger_pools_each(m->ledger, load_pool, m)) ||
	    (err = ledger_bids_standing_each(m->ledger, load_bid, m)) ||
	    (err = ledger_last_round(m->ledger, &last, &last_end)) ||
	    (err = ledger_round_prices_each(m->ledger, last, load_price, m)) ||
	    (err = ledger_round_allocs_each(m->ledger, last, load_alloc, m)) ||
	    (err = ledger_meters_each(m->ledger, load_meter, m))) {
		snprintf(why, why_len, "loading the ledger: %s (%s)", raas_strerror(err),
			 ledger_errmsg(m->ledger));
		free(saved);
		return err;
	}
	if ((err = market__index_holdings(m)) != 0) {
		snprintf(why, why_len, "out of memory");
		free(saved);
		return err;
	}
	/* What is allocated is what is held (holdings of removed tenants were dropped). */
	for (size_t i = 0; i < m->npools; i++) {
		struct mkt_pool *p = m->pools[i];
		p->allocated = 0;
		for (size_t j = 0; j < p->nheld; j++)
			p->allocated += p->held[j].tenant->holdings[p->held[j].index].quantity;
	}
	if ((err = market__pending_load(m)) != 0) {
		snprintf(why, why_len, "loading the allocations to settle: %s (%s)",
			 raas_strerror(err), ledger_errmsg(m->ledger));
		free(saved);
		return err;
	}
	m->open_round = last + 1;
	m->round_start_wall_ns = last ? last_end : clk_wall(m->clock);
	if (saved)
		restore_routes(m, saved, nsaved);
	free(saved);
	return 0;
}

/* Declares the config's pools, and moves registered pools to the configured model. */
int market__declare_pools(struct market *m, char *why, size_t why_len)
{
	const struct market_config *cfg = m->cfg;
	int err;

	for (size_t i = 0; i < cfg->npools; i++) {
		const struct mcfg_pool *cp = &cfg->pools[i];
		const struct mcfg_model *model =
			cp->model.set ? &cp->model : mcfg_model_for(cfg, cp->resource);
		struct ledger_pool row = {.resource = cp->resource, .supply = cp->supply,
					  .from_config = true};
		snprintf(row.host, sizeof(row.host), "%s", cp->host);
		snprintf(row.model, sizeof(row.model), "%s", model->model);
		snprintf(row.params, sizeof(row.params), "%s", model->params);
		if ((err = ledger_pool_put(m->ledger, &row)) != 0) {
			snprintf(why, why_len, "declaring pool.%s: %s", cp->name,
				 ledger_errmsg(m->ledger));
			return err;
		}
	}
	return 0;
}

int market__retarget_pool(void *arg, const struct ledger_pool *row)
{
	struct market *m = arg;
	const struct mcfg_model *model = mcfg_model_for(m->cfg, row->resource);
	struct ledger_pool p = *row;

	if (row->from_config || (strcmp(row->model, model->model) == 0 &&
				 strcmp(row->params, model->params) == 0))
		return 0;
	log_info("market: pool %s/%s now clears with %s (%s), was %s (%s)", row->host,
		 wire_resource_name(row->resource), model->model, model->params, row->model,
		 row->params);
	snprintf(p.model, sizeof(p.model), "%s", model->model);
	snprintf(p.params, sizeof(p.params), "%s", model->params);
	return ledger_pool_put(m->ledger, &p);
}
