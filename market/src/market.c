/* market.c: the core's state: creation, loading from the ledger, identities, pools, bids,
 * the outbox, and the invariant check (market.h has the design notes).
 *
 * The ledger is the truth and memory a cache of it: market__load() rebuilds every table in
 * memory from the ledger, which is both how the market starts (after a crash too) and how it
 * recovers from a batch whose commit failed. Only the connections (routes) survive a reload,
 * since they are not state of the market but of its peers. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/error.h"
#include "common/log.h"
#include "market_internal.h"

/* ---- Outbox ---- */

void market_outbox_init(struct market_outbox *o)
{
	memset(o, 0, sizeof(*o));
}

void market_outbox_clear(struct market_outbox *o)
{
	for (size_t i = 0; i < o->n; i++)
		free(o->v[i].buf);
	o->n = 0;
}

void market_outbox_fini(struct market_outbox *o)
{
	market_outbox_clear(o);
	free(o->v);
	memset(o, 0, sizeof(*o));
}

int market__push(struct market_outbox *out, enum market_dest dest, const struct tp_route *route,
		 const char *topic, uint8_t *buf, size_t len, uint64_t request_id,
		 bool is_reply, int64_t tenant)
{
	if (out->n == out->cap) {
		size_t cap = out->cap ? out->cap * 2 : 64;
		struct market_msg *v = realloc(out->v, cap * sizeof(*v));
		if (!v)
			return -ENOMEM;
		out->v = v;
		out->cap = cap;
	}
	struct market_msg *msg = &out->v[out->n++];
	memset(msg, 0, sizeof(*msg));
	msg->dest = dest;
	if (route)
		msg->route = *route;
	if (topic)
		snprintf(msg->topic, sizeof(msg->topic), "%s", topic);
	msg->buf = buf;
	msg->len = len;
	msg->request_id = request_id;
	msg->is_reply = is_reply;
	msg->tenant = tenant;
	return 0;
}

int market__push_env(struct market_outbox *out, enum market_dest dest,
		     const struct tp_route *route, const char *topic, const Raas__Envelope *e,
		     bool is_reply, int64_t tenant)
{
	uint8_t *buf;
	size_t len;
	int err = wire_encode(e, &buf, &len);

	if (err)
		return err;
	err = market__push(out, dest, route, topic, buf, len, e->request_id, is_reply, tenant);
	if (err)
		free(buf);
	return err;
}

void market__push_error(struct market_outbox *out, enum market_dest dest,
			const struct tp_route *route, uint64_t request_id, Raas__ErrorCode code,
			const char *message)
{
	Raas__Envelope e;
	Raas__Reply r = RAAS__REPLY__INIT;
	Raas__Error err = RAAS__ERROR__INIT;

	wire_envelope_init(&e, request_id);
	err.code = code;
	err.message = (char *)message;
	r.error = &err;
	e.body_case = RAAS__ENVELOPE__BODY_REPLY;
	e.reply = &r;
	if (market__push_env(out, dest, route, NULL, &e, true, 0) != 0)
		log_error("market: cannot queue an error reply (out of memory)");
}

/* ---- Lookups ---- */

struct mkt_tenant *market__tenant(struct market *m, const char *name)
{
	return hmap_get_str(&m->tenants_by_name, name);
}

struct mkt_host *market__host(struct market *m, const char *name)
{
	return hmap_get_str(&m->hosts_by_name, name);
}

static void pool_key(char *buf, size_t len, const char *host, int resource)
{
	snprintf(buf, len, "%s/%d", host, resource);
}

struct mkt_pool *market__pool(struct market *m, const char *host, int resource)
{
	char key[LEDGER_NAME_MAX + 16];

	pool_key(key, sizeof(key), host, resource);
	return hmap_get_str(&m->pools_by_key, key);
}

struct mkt_meter *market__meter(struct market *m, const char *host, int64_t tenant,
				bool create)
{
	for (size_t i = 0; i < m->nmeters; i++)
		if (m->meters[i].tenant == tenant && strcmp(m->meters[i].host, host) == 0)
			return &m->meters[i];
	if (!create)
		return NULL;
	if (m->nmeters == m->capmeters) {
		size_t cap = m->capmeters ? m->capmeters * 2 : 16;
		struct mkt_meter *v = realloc(m->meters, cap * sizeof(*v));
		if (!v)
			return NULL;
		m->meters = v;
		m->capmeters = cap;
	}
	struct mkt_meter *mt = &m->meters[m->nmeters++];
	memset(mt, 0, sizeof(*mt));
	snprintf(mt->host, sizeof(mt->host), "%s", host);
	mt->tenant = tenant;
	return mt;
}

/* ---- Tenants and hosts ---- */

static int tenant_add(struct market *m, const struct ledger_tenant *row, struct mkt_tenant **out)
{
	struct mkt_tenant *t = calloc(1, sizeof(*t));

	if (!t)
		return -ENOMEM;
	t->row = *row;
	if (hmap_put_str(&m->tenants_by_name, t->row.name, t) ||
	    hmap_put_i64(&m->tenants_by_id, t->row.id, t) ||
	    hmap_put_str(&m->tenants_by_key, t->row.public_key, t)) {
		hmap_del_str(&m->tenants_by_name, t->row.name);
		hmap_del(&m->tenants_by_id, &t->row.id, sizeof(t->row.id));
		hmap_del_str(&m->tenants_by_key, t->row.public_key);
		free(t);
		return -ENOMEM;
	}
	if (out)
		*out = t;
	return 0;
}

static void tenant_free(struct mkt_tenant *t)
{
	for (size_t i = 0; i < t->nbids; i++)
		free(t->bids[i]);
	free(t->bids);
	free(t->holdings);
	free(t);
}

static int host_add(struct market *m, const struct ledger_host *row, struct mkt_host **out)
{
	struct mkt_host *h = calloc(1, sizeof(*h));

	if (!h)
		return -ENOMEM;
	h->row = *row;
	if (hmap_put_str(&m->hosts_by_name, h->row.name, h) ||
	    hmap_put_str(&m->hosts_by_key, h->row.public_key, h)) {
		hmap_del_str(&m->hosts_by_name, h->row.name);
		free(h);
		return -ENOMEM;
	}
	if (out)
		*out = h;
	return 0;
}

int market_identify(void *market, const char *domain, const char *public_key, char *identity,
		    size_t id_len)
{
	struct market *m = market;
	bool tenants = strcmp(domain, "tenant") == 0 || strcmp(domain, "prices") == 0;
	bool hosts = strcmp(domain, "host") == 0 || strcmp(domain, "prices") == 0;

	if (tenants) {
		struct mkt_tenant *t = hmap_get_str(&m->tenants_by_key, public_key);
		struct ledger_tenant row;
		/* A tenant the CLI added while we run. */
		if (!t && !m->in_batch && ledger_tenant_by_key(m->ledger, public_key, &row) == 0 &&
		    !market__tenant(m, row.name))
			tenant_add(m, &row, &t);
		if (t) {
			snprintf(identity, id_len, "tenant:%s", t->row.name);
			return 0;
		}
	}
	if (hosts) {
		struct mkt_host *h = hmap_get_str(&m->hosts_by_key, public_key);
		struct ledger_host row;
		if (!h && !m->in_batch && ledger_host_by_key(m->ledger, public_key, &row) == 0 &&
		    !market__host(m, row.name))
			host_add(m, &row, &h);
		if (h) {
			snprintf(identity, id_len, "host:%s", h->row.name);
			return 0;
		}
	}
	return -ENOENT;
}

/* ---- Pools ---- */

static void pool_free(struct mkt_pool *p)
{
	if (!p)
		return;
	pm_destroy(p->pm);
	if (p->rng)
		gsl_rng_free(p->rng);
	free(p->round_bids);
	free(p->held);
	free(p);
}

static int make_model(const char *model, const char *params_text, struct pm_instance **out,
		      char *why, size_t why_len)
{
	struct pm_param params[32];
	struct pm_error pe = {{0}};
	char *storage = NULL;
	int n = pm_params_parse(params_text, params, 32, &storage, &pe);
	int err;

	if (n < 0 || n > 32) {
		free(storage);
		snprintf(why, why_len, "parameters \"%.200s\": %.200s", params_text,
			 n < 0 ? pe.message : "too many");
		return n < 0 ? n : -E2BIG;
	}
	err = pm_create(model, params, (size_t)n, out, &pe);
	free(storage);
	if (err)
		snprintf(why, why_len, "model %s (%.200s): %.200s", model, params_text,
			 pe.message);
	return err;
}

int market__pool_add(struct market *m, const struct ledger_pool *row, struct mkt_pool **out)
{
	struct mkt_pool *p = calloc(1, sizeof(*p));
	char key[LEDGER_NAME_MAX + 16], why[512];
	int err;

	if (!p)
		return -ENOMEM;
	p->row = *row;
	err = make_model(row->model, row->params, &p->pm, why, sizeof(why));
	if (err) {
		log_error("market: pool %s/%s: %s", row->host, wire_resource_name(row->resource),
			  why);
		free(p);
		return err;
	}
	p->rng = gsl_rng_alloc(gsl_rng_mt19937);
	if (!p->rng) {
		pool_free(p);
		return -ENOMEM;
	}
	if (m->npools == m->cappools) {
		size_t cap = m->cappools ? m->cappools * 2 : 16;
		struct mkt_pool **v = realloc(m->pools, cap * sizeof(*v));
		if (!v) {
			pool_free(p);
			return -ENOMEM;
		}
		m->pools = v;
		m->cappools = cap;
	}
	pool_key(key, sizeof(key), row->host, row->resource);
	if (hmap_put_str(&m->pools_by_key, key, p)) {
		pool_free(p);
		return -ENOMEM;
	}
	m->pools[m->npools++] = p;
	m->pools_gen++;
	if (out)
		*out = p;
	return 0;
}

uint64_t market_round_seed(uint64_t seed, int64_t pool_id, uint64_t round)
{
	uint64_t s = seed * UINT64_C(0x9E3779B97F4A7C15) ^
		     (uint64_t)pool_id * UINT64_C(0xBF58476D1CE4E5B9) ^ round;

	s ^= s >> 31;
	return s ? s : 1;
}

void market__pm_pool(struct market *m, struct mkt_pool *p, uint64_t round, struct pm_pool *out)
{
	/* A generator per pool reseeded every round from (seed, pool, round): a round's
	 * clearing is reproducible whatever happened before it, restarts included. */
	gsl_rng_set(p->rng, (unsigned long)market_round_seed(m->cfg->seed, p->row.id, round));
	memset(out, 0, sizeof(*out));
	out->supply = p->row.supply;
	out->round = round;
	out->round_ns = m->cfg->round_ns;
	/* The market's own time line: round r starts at (r - 1) x round length. */
	out->now_ns = (int64_t)(round - 1) * m->cfg->round_ns;
	out->rng = p->rng;
}

money_t market__posted_price(struct market *m, struct mkt_pool *p)
{
	struct pm_pool pp;
	money_t price;

	market__pm_pool(m, p, m->open_round, &pp);
	if (pm_posted_price(p->pm, &pp, &price) == 0)
		return price;
	return p->priced ? p->price : 0;
}

/* ---- Bids ---- */

money_t market__worst_round(const struct market *m, const struct ledger_bid *b)
{
	struct pm_segment curve[LEDGER_CURVE_MAX];
	money_t value, charge;

	for (size_t i = 0; i < b->ncurve; i++) {
		curve[i].quantity = b->curve[i].quantity;
		curve[i].unit_value = b->curve[i].unit_value;
	}
	value = pm_curve_value(b->ncurve ? curve : NULL, b->ncurve, b->max_quantity,
			       b->unit_price, b->max_quantity);
	/* A curve may be worth less than the flat limit would suggest, never more than both. */
	if (money_charge(value, 1, m->cfg->round_ns, &charge) != 0)
		return MONEY_MAX;
	return charge;
}

void market__pm_bid(const struct mkt_bid *b, struct pm_bid *out, struct pm_segment *curve,
		    struct pm_range *ranges)
{
	const struct ledger_bid *r = &b->row;

	memset(out, 0, sizeof(*out));
	out->bidder = (uint64_t)r->id;
	out->min_quantity = r->min_quantity;
	out->max_quantity = r->max_quantity;
	out->unit_price = r->unit_price;
	for (size_t i = 0; i < r->ncurve; i++) {
		curve[i].quantity = r->curve[i].quantity;
		curve[i].unit_value = r->curve[i].unit_value;
	}
	out->curve = r->ncurve ? curve : NULL;
	out->ncurve = r->ncurve;
	for (size_t i = 0; i < r->nranges; i++) {
		ranges[i].min = r->ranges[i].min;
		ranges[i].max = r->ranges[i].max;
	}
	out->ranges = r->nranges ? ranges : NULL;
	out->nranges = r->nranges;
	out->held = b->pool == b->held_pool ? b->held : 0;
}

int market__bid_attach(struct market *m, struct mkt_tenant *t, const struct ledger_bid *row,
		       struct mkt_bid **out)
{
	struct mkt_bid *b;

	if (t->nbids == t->capbids) {
		size_t cap = t->capbids ? t->capbids * 2 : 4;
		struct mkt_bid **v = realloc(t->bids, cap * sizeof(*v));
		if (!v)
			return -ENOMEM;
		t->bids = v;
		t->capbids = cap;
	}
	b = calloc(1, sizeof(*b));
	if (!b)
		return -ENOMEM;
	b->row = *row;
	b->tenant = t;
	b->worst_round = market__worst_round(m, row);
	t->bids[t->nbids++] = b;
	if (out)
		*out = b;
	return 0;
}

void market__bid_detach(struct mkt_tenant *t, struct mkt_bid *b)
{
	for (size_t i = 0; i < t->nbids; i++)
		if (t->bids[i] == b) {
			memmove(&t->bids[i], &t->bids[i + 1], (t->nbids - i - 1) * sizeof(*t->bids));
			t->nbids--;
			break;
		}
	free(b);
}

void market__allocation(const struct mkt_tenant *t, const struct mkt_holding *h,
			Raas__Allocation *out)
{
	raas__allocation__init(out);
	out->tenant = (char *)t->row.name;
	out->resource = h->pool->row.resource;
	out->host = (char *)h->pool->row.host;
	out->quantity = h->quantity;
	out->unit_price = h->unit_price;
	out->payment_per_hour = h->payment_per_hour;
}

int market__index_holdings(struct market *m)
{
	for (size_t i = 0; i < m->npools; i++)
		m->pools[i]->nheld = 0;
	for (size_t k = 0; k < m->tenants_by_id.cap; k++) {
		if (m->tenants_by_id.slots[k].hash <= 1)
			continue;
		struct mkt_tenant *t = m->tenants_by_id.slots[k].value;
		for (size_t j = 0; j < t->nholdings; j++) {
			struct mkt_pool *p = t->holdings[j].pool;
			if (p->nheld == p->capheld) {
				size_t cap = p->capheld ? p->capheld * 2 : 16;
				struct mkt_pool_holding *v = realloc(p->held, cap * sizeof(*v));
				if (!v)
					return -ENOMEM;
				p->held = v;
				p->capheld = cap;
			}
			p->held[p->nheld++] = (struct mkt_pool_holding){t, j};
		}
	}
	return 0;
}

/* ---- Loading ---- */

static void clear_state(struct market *m)
{
	for (size_t i = 0; i < m->tenants_by_id.cap; i++)
		if (m->tenants_by_id.slots[i].hash > 1)
			tenant_free(m->tenants_by_id.slots[i].value);
	for (size_t i = 0; i < m->hosts_by_name.cap; i++)
		if (m->hosts_by_name.slots[i].hash > 1)
			free(m->hosts_by_name.slots[i].value);
	for (size_t i = 0; i < m->npools; i++)
		pool_free(m->pools[i]);
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
	return tenant_add(arg, row, NULL);
}

static int load_host(void *arg, const struct ledger_host *row)
{
	return host_add(arg, row, NULL);
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
		if (m->hosts_by_name.slots[i].hash <= 1 || !h->connected)
			continue;
		snprintf(v[k].name, sizeof(v[k].name), "%s", h->row.name);
		v[k].host = true;
		v[k].routes[0] = h->route;
		v[k].connected = true;
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
			if (h) {
				h->route = v[i].routes[0];
				h->connected = v[i].connected;
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

	clear_state(m);
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
	m->open_round = last + 1;
	m->round_start_wall_ns = last ? last_end : clk_wall(m->clock);
	if (saved)
		restore_routes(m, saved, nsaved);
	free(saved);
	return 0;
}

/* Declares the config's pools, and moves registered pools to the configured model. */
static int declare_pools(struct market *m, char *why, size_t why_len)
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

static int retarget_pool(void *arg, const struct ledger_pool *row)
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

int market_create(const struct market_config *cfg, struct ledger *ledger,
		  const struct clk *clock, struct market **out, char *why, size_t why_len)
{
	struct market *m = calloc(1, sizeof(*m));
	int err;

	if (!m)
		return -ENOMEM;
	m->cfg = cfg;
	m->ledger = ledger;
	m->clock = clock;
	if ((err = declare_pools(m, why, why_len)) != 0)
		goto fail;
	if ((err = ledger_pools_each(ledger, retarget_pool, m)) != 0) {
		snprintf(why, why_len, "updating pools to the configured models: %s",
			 ledger_errmsg(ledger));
		goto fail;
	}
	if ((err = market__load(m, why, why_len)) != 0)
		goto fail;
	m->next_close_wall_ns = clk_wall(clock) + cfg->round_ns;
	*out = m;
	return 0;
fail:
	clear_state(m);
	free(m);
	return err;
}

void market_destroy(struct market *m)
{
	if (!m)
		return;
	clear_state(m);
	free(m->pools);
	free(m->meters);
	free(m);
}

/* ---- Batches ---- */

int market_batch_begin(struct market *m)
{
	int err = ledger_begin(m->ledger);

	if (!err)
		m->in_batch = true;
	return err;
}

int market_batch_end(struct market *m, struct market_outbox *out)
{
	char why[512];
	int err = ledger_commit(m->ledger);

	m->in_batch = false;
	if (!err)
		return 0;
	ledger_rollback(m->ledger);
	m->stats.batches_failed++;
	log_error("market: ledger commit failed (%s): reloading; this batch's requests are "
		  "answered \"unavailable, retry\"",
		  raas_strerror(err));
	int lerr = market__load(m, why, sizeof(why));
	if (lerr)
		log_error("market: %s", why);
	/* Nothing of the batch is in the ledger: nothing of it may be acknowledged. */
	size_t n = out->n;
	for (size_t i = 0; i < n; i++) {
		struct market_msg *msg = &out->v[i];
		if (!msg->is_reply)
			continue;
		free(msg->buf);
		msg->buf = NULL;
		msg->len = 0;
		struct market_outbox one;
		market_outbox_init(&one);
		market__push_error(&one, msg->dest, &msg->route, msg->request_id,
				   RAAS__ERROR_CODE__ERROR_UNAVAILABLE,
				   "the ledger could not record this request; retry");
		if (one.n == 1) {
			msg->buf = one.v[0].buf;
			msg->len = one.v[0].len;
			one.v[0].buf = NULL;
		}
		market_outbox_fini(&one);
	}
	return err;
}

/* ---- Misc ---- */

void market_route_gone(struct market *m, int64_t tenant, const struct tp_route *route)
{
	struct mkt_tenant *t = hmap_get_i64(&m->tenants_by_id, tenant);

	if (!t)
		return;
	for (size_t i = 0; i < t->nroutes; i++)
		if (t->routes[i].len == route->len &&
		    memcmp(t->routes[i].id, route->id, route->len) == 0) {
			memmove(&t->routes[i], &t->routes[i + 1],
				(t->nroutes - i - 1) * sizeof(t->routes[0]));
			t->nroutes--;
			return;
		}
}

uint64_t market_open_round(const struct market *m)
{
	return m->open_round;
}

void market_set_next_close(struct market *m, int64_t wall_ns)
{
	m->next_close_wall_ns = wall_ns;
}

void market_get_stats(const struct market *m, struct market_stats *out)
{
	*out = m->stats;
}

/* ---- Invariants ---- */

struct check_ctx {
	struct market *m;
	size_t seen;
	char *why;
	size_t why_len;
};

static int check_bid(void *arg, const struct ledger_bid *row)
{
	struct check_ctx *c = arg;
	struct mkt_tenant *t = hmap_get_i64(&c->m->tenants_by_id, row->tenant);

	c->seen++;
	if (t)
		for (size_t i = 0; i < t->nbids; i++)
			if (t->bids[i]->row.id == row->id)
				return 0;
	snprintf(c->why, c->why_len, "standing bid version %lld (%s) of tenant %lld is in the "
		 "ledger but not in memory", (long long)row->id, row->bid_id, (long long)row->tenant);
	return -EPROTO;
}

static int check_tenant(void *arg, const struct ledger_tenant *row)
{
	struct check_ctx *c = arg;
	struct mkt_tenant *t = hmap_get_i64(&c->m->tenants_by_id, row->id);

	if (t && t->row.charged != row->charged) {
		snprintf(c->why, c->why_len, "tenant %s: charged %lld in memory, %lld in the ledger",
			 row->name, (long long)t->row.charged, (long long)row->charged);
		return -EPROTO;
	}
	return 0;
}

int market_check(struct market *m, char *why, size_t why_len)
{
	struct check_ctx c = {m, 0, why, why_len};
	size_t in_memory = 0;
	uint64_t last;
	int err;

	if ((err = ledger_last_round(m->ledger, &last, NULL)) != 0)
		return err;
	if (m->open_round != last + 1) {
		snprintf(why, why_len, "open round %llu, but the ledger's last round is %llu",
			 (unsigned long long)m->open_round, (unsigned long long)last);
		return -EPROTO;
	}
	if ((err = ledger_bids_standing_each(m->ledger, check_bid, &c)) != 0)
		return err;
	for (size_t i = 0; i < m->tenants_by_id.cap; i++) {
		if (m->tenants_by_id.slots[i].hash <= 1)
			continue;
		struct mkt_tenant *t = m->tenants_by_id.slots[i].value;
		in_memory += t->nbids;
		for (size_t j = 0; j < t->nholdings; j++)
			if (t->holdings[j].quantity <= 0) {
				snprintf(why, why_len, "tenant %s holds %lld units", t->row.name,
					 (long long)t->holdings[j].quantity);
				return -EPROTO;
			}
	}
	if (in_memory != c.seen) {
		snprintf(why, why_len, "%zu standing bids in memory, %zu in the ledger", in_memory,
			 c.seen);
		return -EPROTO;
	}
	/* Holdings are the last round's allocations: they sum to each pool's allocated. */
	for (size_t i = 0; i < m->npools; i++) {
		struct mkt_pool *p = m->pools[i];
		int64_t sum = 0;
		for (size_t k = 0; k < m->tenants_by_id.cap; k++) {
			if (m->tenants_by_id.slots[k].hash <= 1)
				continue;
			struct mkt_tenant *t = m->tenants_by_id.slots[k].value;
			for (size_t j = 0; j < t->nholdings; j++)
				if (t->holdings[j].pool == p)
					sum += t->holdings[j].quantity;
		}
		if (sum != p->allocated) {
			snprintf(why, why_len, "pool %s/%s: holdings sum to %lld, allocated %lld",
				 p->row.host, wire_resource_name(p->row.resource), (long long)sum,
				 (long long)p->allocated);
			return -EPROTO;
		}
	}
	return ledger_tenants_each(m->ledger, check_tenant, &c);
}
