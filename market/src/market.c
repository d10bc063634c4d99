/* market.c: the core's state: creation, identities, pools and their models, bids, the
 * outbox, batches (market.h has the design notes). Loading from the ledger is in
 * market_load.c, the invariants in market_check.c. */
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

int market__tenant_add(struct market *m, const struct ledger_tenant *row, struct mkt_tenant **out)
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

void market__tenant_free(struct mkt_tenant *t)
{
	for (size_t i = 0; i < t->nbids; i++)
		free(t->bids[i]);
	free(t->bids);
	free(t->holdings);
	free(t->credits);
	free(t);
}

int market__host_add(struct market *m, const struct ledger_host *row, struct mkt_host **out)
{
	struct mkt_host *h = calloc(1, sizeof(*h));

	if (!h)
		return -ENOMEM;
	h->row = *row;
	h->meters_refused_log = (struct log_limit)LOG_LIMIT_MINUTE;
	hmap_init(&h->tenants);
	if (hmap_put_str(&m->hosts_by_name, h->row.name, h) ||
	    hmap_put_str(&m->hosts_by_key, h->row.public_key, h)) {
		hmap_del_str(&m->hosts_by_name, h->row.name);
		market__host_free(h);
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
			market__tenant_add(m, &row, &t);
		if (t && t->row.status != LEDGER_REMOVED) {
			snprintf(identity, id_len, "tenant:%s", t->row.name);
			return 0;
		}
	}
	if (hosts) {
		struct mkt_host *h = hmap_get_str(&m->hosts_by_key, public_key);
		struct ledger_host row;
		if (!h && !m->in_batch && ledger_host_by_key(m->ledger, public_key, &row) == 0 &&
		    !market__host(m, row.name))
			market__host_add(m, &row, &h);
		if (h && h->row.status != LEDGER_REMOVED) {
			snprintf(identity, id_len, "host:%s", h->row.name);
			return 0;
		}
	}
	return -ENOENT;
}

/* ---- Pools ---- */

void market__pool_free(struct mkt_pool *p)
{
	if (!p)
		return;
	pm_pool_setup_destroy(p->setup);
	free(p->round_bids);
	free(p->held);
	free(p);
}

int market__pool_add(struct market *m, const struct ledger_pool *row, struct mkt_pool **out)
{
	struct mkt_pool *p = calloc(1, sizeof(*p));
	char key[LEDGER_NAME_MAX + 16];
	struct pm_error pe = {{0}};
	int err;

	if (!p)
		return -ENOMEM;
	p->row = *row;
	/* The one pool setup raas-sim uses too (pricing/pool.h). */
	struct pm_pool_spec spec = {.model = row->model, .params = row->params, .host = row->host,
				    .resource = wire_resource_name(row->resource),
				    .seed = m->cfg->seed, .round_ns = m->cfg->round_ns};
	err = pm_pool_setup_create(&spec, &p->setup, &pe);
	if (err) {
		log_error("market: pool %s/%s: model %s (%.200s): %.200s", row->host,
			  wire_resource_name(row->resource), row->model, row->params, pe.message);
		free(p);
		return err;
	}
	p->pm = pm_pool_setup_instance(p->setup);
	if (m->npools == m->cappools) {
		size_t cap = m->cappools ? m->cappools * 2 : 16;
		struct mkt_pool **v = realloc(m->pools, cap * sizeof(*v));
		if (!v) {
			market__pool_free(p);
			return -ENOMEM;
		}
		m->pools = v;
		m->cappools = cap;
	}
	pool_key(key, sizeof(key), row->host, row->resource);
	if (hmap_put_str(&m->pools_by_key, key, p)) {
		market__pool_free(p);
		return -ENOMEM;
	}
	m->pools[m->npools++] = p;
	m->pools_gen++;
	if (out)
		*out = p;
	return 0;
}

void market__pm_pool(struct market *m, struct mkt_pool *p, uint64_t round, struct pm_pool *out)
{
	/* Reseeded every round from (seed, pool, round) and timed on the market's own time
	 * line (round r starts at (r - 1) x round length): a round's clearing is reproducible
	 * whatever happened before it, restarts included. */
	(void)m;
	pm_pool_setup_round(p->setup, round, p->row.supply, out);
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
	if ((err = market__declare_pools(m, why, why_len)) != 0)
		goto fail;
	if ((err = ledger_pools_each(ledger, market__retarget_pool, m)) != 0) {
		snprintf(why, why_len, "updating pools to the configured models: %s",
			 ledger_errmsg(ledger));
		goto fail;
	}
	if ((err = market__load(m, why, why_len)) != 0)
		goto fail;
	m->next_close_wall_ns = clk_wall(clock) + cfg->round_ns;
	m->up_since_wall_ns = clk_wall(clock);
	ledger_data_version(ledger, &m->data_version);
	*out = m;
	return 0;
fail:
	market__clear_state(m);
	free(m);
	return err;
}

int market_reconfigure(struct market *m, const struct market_config *cfg, char *why,
		       size_t why_len)
{
	const struct market_config *old = m->cfg;
	int err;

#define SAME_STR(f, key)                                                                     \
	if (strcmp(old->f, cfg->f) != 0) {                                                   \
		snprintf(why, why_len, "[market] %s cannot change while the market runs "    \
			 "(\"%s\" -> \"%s\"): restart it", key, old->f, cfg->f);               \
		return -EINVAL;                                                              \
	}
#define SAME_NUM(f, key)                                                                     \
	if (old->f != cfg->f) {                                                              \
		snprintf(why, why_len, "[market] %s cannot change while the market runs: "   \
			 "restart it", key);                                                 \
		return -EINVAL;                                                              \
	}
	SAME_STR(tenant_endpoint, "tenant_endpoint")
	SAME_STR(price_endpoint, "price_endpoint")
	SAME_STR(host_endpoint, "host_endpoint")
	SAME_STR(ledger_path, "ledger")
	SAME_STR(key_dir, "key_dir")
	SAME_NUM(round_ns, "round_ms")
	SAME_NUM(sync_full, "sync")
	SAME_NUM(seed, "seed")
#undef SAME_STR
#undef SAME_NUM
	if (m->in_batch) {
		snprintf(why, why_len, "inside a batch");
		return -EBUSY;
	}
	m->cfg = cfg;
	if ((err = market__declare_pools(m, why, why_len)) != 0 ||
	    (err = ledger_pools_each(m->ledger, market__retarget_pool, m)) != 0 ||
	    (err = market__load(m, why, why_len)) != 0) {
		/* Back to what ran: the ledger holds only what both configs agree on, plus
		 * pools declared or retargeted, which the old config's load moves back. */
		char why2[256];
		m->cfg = old;
		ledger_pools_each(m->ledger, market__retarget_pool, m);
		market__load(m, why2, sizeof(why2));
		if (!why[0])
			snprintf(why, why_len, "%s", ledger_errmsg(m->ledger));
		return err;
	}
	ledger_data_version(m->ledger, &m->data_version);
	return 0;
}

void market_destroy(struct market *m)
{
	if (!m)
		return;
	market__clear_state(m);
	market__pending_clear(m);
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
	int64_t t0[2];
	market_prof_cpu_start(t0);
	int err = ledger_commit(m->ledger);

	market_prof_cpu_stop(&m->prof, MARKET_ST_LEDGER, t0);
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
