/* dash.c: the dashboards' documents of raas-marketd (dash.h): histories, JSON, the round
 * event and /metrics, all rendered by the round loop after the round was published.
 *
 * The histories are rings (one point per closed round since the market started, the last
 * `history` of them); rendering reads the core's state directly, which is safe because this
 * runs in the round loop's thread between rounds. */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/prom.h"
#include "common/wire.h"
#include "market/dash.h"
#include "market_internal.h"

struct price_pt {
	uint64_t round;
	money_t price;
	int64_t allocated;
};

struct spend_pt {
	uint64_t round;
	money_t charge;
	money_t credit;
};

struct round_pt {
	uint64_t round;
	int64_t closed_wall_ns, close_ns, clear_ns, write_ns, ctp_ns;
	uint64_t bids, allocs, credits;
	money_t revenue, credited;
};

struct dash_pool {
	int64_t id;
	struct price_pt *pts;
	uint64_t n;      /* points recorded (ring index n % history) */
};

struct dash_tenant {
	int64_t id;
	struct spend_pt *pts;
	uint64_t n;
};

struct dash_host {
	char name[LEDGER_NAME_MAX];
	uint64_t failures;
};

struct market_dash {
	size_t history;
	struct dash_pool *pools;
	size_t npools;
	struct dash_tenant *tenants;
	size_t ntenants;
	struct dash_host *hosts;
	size_t nhosts;
	struct round_pt *rounds;
	uint64_t nrounds;
	uint64_t failures_seen;     /* m->nfailures_logged already counted */
	/* Since this market started. */
	uint64_t bids_total, allocs_total;
	money_t revenue_total, credited_total;
	struct prom_hist close_hist, ctp_hist;
	struct round_pt last;
};

int market_dash_create(size_t history, struct market_dash **out)
{
	struct market_dash *d = calloc(1, sizeof(*d));

	*out = NULL;
	if (!d)
		return -ENOMEM;
	d->history = history ? history : 1;
	d->rounds = calloc(d->history, sizeof(*d->rounds));
	if (!d->rounds) {
		free(d);
		return -ENOMEM;
	}
	/* 10 us .. ~42 s, doubling. */
	prom_hist_init(&d->close_hist, 10000, 2.0, 22);
	prom_hist_init(&d->ctp_hist, 10000, 2.0, 22);
	*out = d;
	return 0;
}

void market_dash_destroy(struct market_dash *d)
{
	if (!d)
		return;
	for (size_t i = 0; i < d->npools; i++)
		free(d->pools[i].pts);
	for (size_t i = 0; i < d->ntenants; i++)
		free(d->tenants[i].pts);
	free(d->pools);
	free(d->tenants);
	free(d->hosts);
	free(d->rounds);
	free(d);
}

static struct dash_pool *pool_of(struct market_dash *d, int64_t id, bool create)
{
	for (size_t i = 0; i < d->npools; i++)
		if (d->pools[i].id == id)
			return &d->pools[i];
	if (!create)
		return NULL;
	struct dash_pool *v = realloc(d->pools, (d->npools + 1) * sizeof(*v));
	if (!v)
		return NULL;
	d->pools = v;
	struct dash_pool *p = &d->pools[d->npools];
	memset(p, 0, sizeof(*p));
	p->id = id;
	p->pts = calloc(d->history, sizeof(*p->pts));
	if (!p->pts)
		return NULL;
	d->npools++;
	return p;
}

static struct dash_tenant *tenant_of(struct market_dash *d, int64_t id, bool create)
{
	for (size_t i = 0; i < d->ntenants; i++)
		if (d->tenants[i].id == id)
			return &d->tenants[i];
	if (!create)
		return NULL;
	struct dash_tenant *v = realloc(d->tenants, (d->ntenants + 1) * sizeof(*v));
	if (!v)
		return NULL;
	d->tenants = v;
	struct dash_tenant *t = &d->tenants[d->ntenants];
	memset(t, 0, sizeof(*t));
	t->id = id;
	t->pts = calloc(d->history, sizeof(*t->pts));
	if (!t->pts)
		return NULL;
	d->ntenants++;
	return t;
}

static struct dash_host *host_of(struct market_dash *d, const char *name, bool create)
{
	for (size_t i = 0; i < d->nhosts; i++)
		if (strcmp(d->hosts[i].name, name) == 0)
			return &d->hosts[i];
	if (!create)
		return NULL;
	struct dash_host *v = realloc(d->hosts, (d->nhosts + 1) * sizeof(*v));
	if (!v)
		return NULL;
	d->hosts = v;
	struct dash_host *h = &d->hosts[d->nhosts++];
	memset(h, 0, sizeof(*h));
	snprintf(h->name, sizeof(h->name), "%s", name);
	return h;
}

/* The tenants (or hosts) of a map, sorted by name, in a malloc'd array (NULL if none). */
static int by_tenant_name(const void *a, const void *b)
{
	const struct mkt_tenant *x = *(const struct mkt_tenant *const *)a;
	const struct mkt_tenant *y = *(const struct mkt_tenant *const *)b;
	return strcmp(x->row.name, y->row.name);
}

static int by_host_name(const void *a, const void *b)
{
	const struct mkt_host *x = *(const struct mkt_host *const *)a;
	const struct mkt_host *y = *(const struct mkt_host *const *)b;
	return strcmp(x->row.name, y->row.name);
}

static void **sorted(const struct hmap *map, size_t *n, int (*cmp)(const void *, const void *))
{
	void **v = map->used ? malloc(map->used * sizeof(*v)) : NULL;

	*n = 0;
	if (!v)
		return NULL;
	for (size_t i = 0; i < map->cap; i++)
		if (map->slots[i].hash > 1)
			v[(*n)++] = map->slots[i].value;
	qsort(v, *n, sizeof(*v), cmp);
	return v;
}

static const char *status_name(int s)
{
	return s == LEDGER_ACTIVE ? "active" : s == LEDGER_REMOVING ? "removing" : "removed";
}

static void pool_key(const struct mkt_pool *p, char *out, size_t len)
{
	snprintf(out, len, "%s/%s", p->row.host, wire_resource_name(p->row.resource));
}

static money_t revenue_total(const struct market *m)
{
	money_t sum = 0;

	for (size_t i = 0; i < m->tenants_by_id.cap; i++)
		if (m->tenants_by_id.slots[i].hash > 1)
			sum += ((const struct mkt_tenant *)m->tenants_by_id.slots[i].value)
				       ->row.charged;
	return sum;
}

/* ---- recording a round ---- */

static void record(struct market_dash *d, const struct market *m, int64_t ctp_ns,
		   int64_t closed_wall_ns)
{
	struct market_stats st;
	uint64_t round = m->open_round - 1;

	market_get_stats(m, &st);
	struct round_pt *r = &d->rounds[d->nrounds++ % d->history];
	*r = (struct round_pt){
		.round = round,
		.closed_wall_ns = closed_wall_ns,
		.close_ns = st.last_close_ns,
		.clear_ns = st.last_clear_ns,
		.write_ns = st.last_write_ns,
		.ctp_ns = ctp_ns,
		.bids = st.last_bids,
		.allocs = st.last_allocs,
		.credits = st.last_credits,
		.revenue = st.last_revenue,
		.credited = st.last_credited,
	};
	d->last = *r;
	d->bids_total += st.last_bids;
	d->allocs_total += st.last_allocs;
	d->revenue_total += st.last_revenue;
	d->credited_total += st.last_credited;
	prom_hist_observe(&d->close_hist, st.last_close_ns);
	prom_hist_observe(&d->ctp_hist, ctp_ns);
	for (size_t i = 0; i < m->npools; i++) {
		const struct mkt_pool *p = m->pools[i];
		struct dash_pool *dp = pool_of(d, p->row.id, true);
		if (!dp)
			continue;
		dp->pts[dp->n++ % d->history] =
			(struct price_pt){.round = round, .price = p->price, .allocated = p->allocated};
	}
	for (size_t i = 0; i < m->tenants_by_id.cap; i++) {
		if (m->tenants_by_id.slots[i].hash <= 1)
			continue;
		const struct mkt_tenant *t = m->tenants_by_id.slots[i].value;
		if (!t->last_charge && !t->last_credit)
			continue;
		struct dash_tenant *dt = tenant_of(d, t->row.id, true);
		if (!dt)
			continue;
		dt->pts[dt->n++ % d->history] = (struct spend_pt){
			.round = round, .charge = t->last_charge, .credit = t->last_credit};
	}
	for (; d->failures_seen < m->nfailures_logged; d->failures_seen++) {
		const struct mkt_failure *f = &m->failure_log[d->failures_seen % MARKET_FAILURE_LOG];
		struct dash_host *h = host_of(d, f->host, true);
		if (h)
			h->failures++;
	}
}

/* ---- documents ---- */

static void head(struct sbuf *b, const struct market *m, int64_t now)
{
	sbuf_printf(b, "{\"round\": %" PRIu64 ", \"snapshot_wall_ns\": %" PRId64,
		    m->open_round - 1, now);
}

static void render_summary(struct market_dash *d, const struct market *m, struct httpd *h,
			   int64_t now, struct sbuf *b)
{
	size_t nt = 0;

	for (size_t i = 0; i < m->tenants_by_id.cap; i++)
		if (m->tenants_by_id.slots[i].hash > 1)
			nt++;
	head(b, m, now);
	sbuf_printf(b,
		    ", \"server\": \"%s\", \"open_round\": %" PRIu64 ", \"round_ns\": %" PRId64
		    ", \"next_close_wall_ns\": %" PRId64 ", \"tenants\": %zu, \"hosts\": %zu"
		    ", \"pools\": %zu, \"sse_clients\": %zu, \"revenue_total_nd\": %" PRId64
		    ", \"revenue_last_nd\": %" PRId64 ", \"last_close_ns\": %" PRId64
		    ", \"last_close_to_publish_ns\": %" PRId64 "}\n",
		    MARKET_SERVER_NAME, m->open_round, m->cfg->round_ns, m->next_close_wall_ns, nt,
		    m->hosts_by_name.used, m->npools, h ? httpd_sse_clients(h) : 0,
		    revenue_total(m), d->nrounds ? d->last.revenue : 0,
		    d->nrounds ? d->last.close_ns : 0, d->nrounds ? d->last.ctp_ns : 0);
}

static void render_pools(struct market_dash *d, const struct market *m, int64_t now,
			 struct sbuf *b)
{
	char key[160];

	head(b, m, now);
	sbuf_puts(b, ", \"pools\": [");
	for (size_t i = 0; i < m->npools; i++) {
		const struct mkt_pool *p = m->pools[i];
		pool_key(p, key, sizeof(key));
		sbuf_printf(b, "%s\n {\"id\": %" PRId64 ", \"key\": ", i ? "," : "", p->row.id);
		sbuf_json_str(b, key);
		sbuf_puts(b, ", \"host\": ");
		sbuf_json_str(b, p->row.host);
		sbuf_printf(b, ", \"resource\": \"%s\", \"unit\": \"%s\", \"mechanism\": ",
			    wire_resource_name(p->row.resource),
			    wire_resource_unit(p->row.resource));
		sbuf_json_str(b, p->row.model);
		sbuf_puts(b, ", \"params\": ");
		sbuf_json_str(b, p->row.params);
		sbuf_printf(b,
			    ", \"supply\": %" PRId64 ", \"allocated\": %" PRId64
			    ", \"price_nd\": %" PRId64 ", \"priced\": %s, \"history\": [",
			    p->row.supply, p->allocated, p->price, p->priced ? "true" : "false");
		const struct dash_pool *dp = pool_of(d, p->row.id, false);
		if (dp) {
			uint64_t first = dp->n > d->history ? dp->n - d->history : 0;
			for (uint64_t k = first; k < dp->n; k++) {
				const struct price_pt *pt = &dp->pts[k % d->history];
				sbuf_printf(b,
					    "%s{\"round\": %" PRIu64 ", \"price_nd\": %" PRId64
					    ", \"allocated\": %" PRId64 "}",
					    k > first ? ", " : "", pt->round, pt->price, pt->allocated);
			}
		}
		sbuf_puts(b, "]}");
	}
	sbuf_puts(b, "]}\n");
}

static void render_tenants(struct market_dash *d, const struct market *m, int64_t now,
			   struct sbuf *b)
{
	size_t n;
	void **v = sorted(&m->tenants_by_id, &n, by_tenant_name);
	char key[160];

	head(b, m, now);
	sbuf_puts(b, ", \"tenants\": [");
	for (size_t i = 0; i < n; i++) {
		const struct mkt_tenant *t = v[i];
		sbuf_puts(b, i ? ",\n {\"name\": " : "\n {\"name\": ");
		sbuf_json_str(b, t->row.name);
		sbuf_printf(b, ", \"status\": \"%s\", ", status_name(t->row.status));
		if (t->row.budget < 0)
			sbuf_puts(b, "\"budget_nd\": null, \"budget_left_nd\": null");
		else
			sbuf_printf(b, "\"budget_nd\": %" PRId64 ", \"budget_left_nd\": %" PRId64,
				    t->row.budget, t->row.budget - t->row.charged);
		sbuf_printf(b,
			    ", \"charged_nd\": %" PRId64 ", \"last_charge_nd\": %" PRId64,
			    t->row.charged, t->last_charge);
		if (!t->profit_reported) {
			sbuf_puts(b, ", \"reported_profit_per_hour_nd\": null"
				     ", \"reported_wall_ns\": null, \"apps\": []");
		} else {
			sbuf_printf(b,
				    ", \"reported_profit_per_hour_nd\": %" PRId64
				    ", \"reported_wall_ns\": %" PRId64 ", \"apps\": [",
				    t->profit_per_hour, t->profit_wall_ns);
			for (size_t k = 0; k < t->nprofit_apps; k++) {
				const struct mkt_app_profit *a = &t->profit_apps[k];
				sbuf_puts(b, k ? ", {\"app\": " : "{\"app\": ");
				sbuf_json_str(b, a->app);
				sbuf_printf(b, ", \"profit_per_hour_nd\": %" PRId64,
					    a->profit_per_hour);
				if (a->w_ns < 0)
					sbuf_puts(b, ", \"w_ns\": null");
				else
					sbuf_printf(b, ", \"w_ns\": %" PRId64, a->w_ns);
				sbuf_printf(b, ", \"measured_wall_ns\": %" PRId64 "}",
					    a->measured_wall_ns);
			}
			sbuf_puts(b, "]");
		}
		sbuf_puts(b, ", \"holdings\": [");
		for (size_t k = 0; k < t->nholdings; k++) {
			const struct mkt_holding *hd = &t->holdings[k];
			pool_key(hd->pool, key, sizeof(key));
			sbuf_puts(b, k ? ", {\"pool\": " : "{\"pool\": ");
			sbuf_json_str(b, key);
			sbuf_puts(b, ", \"host\": ");
			sbuf_json_str(b, hd->pool->row.host);
			sbuf_printf(b, ", \"resource\": \"%s\", \"bid_id\": ",
				    wire_resource_name(hd->pool->row.resource));
			sbuf_json_str(b, hd->bid_id);
			sbuf_printf(b,
				    ", \"quantity\": %" PRId64 ", \"unit_price_nd\": %" PRId64
				    ", \"payment_per_hour_nd\": %" PRId64 "}",
				    hd->quantity, hd->unit_price, hd->payment_per_hour);
		}
		sbuf_puts(b, "], \"bids\": [");
		for (size_t k = 0; k < t->nbids; k++) {
			const struct mkt_bid *bd = t->bids[k];
			sbuf_puts(b, k ? ", {\"bid_id\": " : "{\"bid_id\": ");
			sbuf_json_str(b, bd->row.bid_id);
			sbuf_printf(b, ", \"kind\": \"%s\", \"resource\": \"%s\", \"host\": ",
				    bd->row.kind == LEDGER_ACQUIRE ? "acquire" : "bid",
				    wire_resource_name(bd->row.resource));
			sbuf_json_str(b, bd->row.host);
			sbuf_printf(b,
				    ", \"min_quantity\": %" PRId64 ", \"max_quantity\": %" PRId64
				    ", \"unit_price_nd\": %" PRId64 ", \"first_round\": %" PRIu64
				    ", \"refused\": ",
				    bd->row.min_quantity, bd->row.max_quantity, bd->row.unit_price,
				    bd->row.first_round);
			sbuf_json_str(b, bd->refused);
			sbuf_puts(b, "}");
		}
		sbuf_puts(b, "], \"spend\": [");
		const struct dash_tenant *dt = tenant_of(d, t->row.id, false);
		if (dt) {
			uint64_t first = dt->n > d->history ? dt->n - d->history : 0;
			for (uint64_t k = first; k < dt->n; k++) {
				const struct spend_pt *pt = &dt->pts[k % d->history];
				sbuf_printf(b,
					    "%s{\"round\": %" PRIu64 ", \"charge_nd\": %" PRId64
					    ", \"credit_nd\": %" PRId64 "}",
					    k > first ? ", " : "", pt->round, pt->charge, pt->credit);
			}
		}
		sbuf_puts(b, "]}");
	}
	sbuf_puts(b, "]}\n");
	free(v);
}

static void render_hosts(const struct market *m, int64_t now, struct sbuf *b)
{
	size_t n;
	void **v = sorted(&m->hosts_by_name, &n, by_host_name);
	char key[160];

	head(b, m, now);
	sbuf_puts(b, ", \"hosts\": [");
	for (size_t i = 0; i < n; i++) {
		const struct mkt_host *h = v[i];
		bool first = true;
		sbuf_puts(b, i ? ",\n {\"name\": " : "\n {\"name\": ");
		sbuf_json_str(b, h->row.name);
		sbuf_printf(b,
			    ", \"status\": \"%s\", \"connected\": %s, \"acked_round\": %" PRIu64
			    ", \"last_seen_wall_ns\": %" PRId64 ", \"capacity\": [",
			    status_name(h->row.status), h->connected ? "true" : "false",
			    h->acked_round, h->last_seen_wall_ns);
		for (size_t k = 0; k < m->npools; k++) {
			const struct mkt_pool *p = m->pools[k];
			if (strcmp(p->row.host, h->row.name) != 0)
				continue;
			pool_key(p, key, sizeof(key));
			sbuf_puts(b, first ? "{\"pool\": " : ", {\"pool\": ");
			first = false;
			sbuf_json_str(b, key);
			sbuf_printf(b,
				    ", \"resource\": \"%s\", \"supply\": %" PRId64
				    ", \"allocated\": %" PRId64 "}",
				    wire_resource_name(p->row.resource), p->row.supply, p->allocated);
		}
		sbuf_puts(b, "], \"pending\": [");
		first = true;
		for (size_t k = 0; k < m->npending; k++) {
			const struct mkt_pending *p = &m->pending[k];
			if (strcmp(p->host, h->row.name) != 0)
				continue;
			sbuf_printf(b,
				    "%s{\"round\": %" PRIu64 ", \"acked\": %s, \"kind\": \"%s\""
				    ", \"deadline_wall_ns\": %" PRId64 "}",
				    first ? "" : ", ", p->round, p->acked ? "true" : "false",
				    !p->acked ? "none" : p->ack_kind == LEDGER_ACK_CARRY ? "carry" : "ack",
				    p->deadline_wall_ns);
			first = false;
		}
		sbuf_puts(b, "], \"failures\": [");
		first = true;
		uint64_t lo = m->nfailures_logged > MARKET_FAILURE_LOG
				      ? m->nfailures_logged - MARKET_FAILURE_LOG
				      : 0;
		for (uint64_t k = lo; k < m->nfailures_logged; k++) {
			const struct mkt_failure *f = &m->failure_log[k % MARKET_FAILURE_LOG];
			if (strcmp(f->host, h->row.name) != 0)
				continue;
			sbuf_printf(b, "%s{\"round\": %" PRIu64 ", \"tenant\": ", first ? "" : ", ",
				    f->round);
			first = false;
			sbuf_json_str(b, f->f.tenant);
			sbuf_printf(b, ", \"resource\": \"%s\", \"reason\": ",
				    f->f.resource ? wire_resource_name(f->f.resource) : "");
			sbuf_json_str(b, f->f.message);
			sbuf_puts(b, "}");
		}
		sbuf_puts(b, "], \"meters\": [");
		first = true;
		for (size_t k = 0; k < m->nmeters; k++) {
			const struct mkt_meter *mt = &m->meters[k];
			if (strcmp(mt->host, h->row.name) != 0)
				continue;
			const struct mkt_tenant *t = hmap_get_i64(&m->tenants_by_id, mt->tenant);
			sbuf_puts(b, first ? "{\"tenant\": " : ", {\"tenant\": ");
			first = false;
			sbuf_json_str(b, t ? t->row.name : "");
			sbuf_printf(b, ", \"billed_bytes\": %" PRIu64 ", \"pending_bytes\": %" PRIu64 "}",
				    mt->billed, mt->has_pending ? mt->pending : mt->billed);
		}
		sbuf_puts(b, "]}");
	}
	sbuf_puts(b, "]}\n");
	free(v);
}

static void round_json(struct sbuf *b, const struct round_pt *r)
{
	sbuf_printf(b,
		    "{\"round\": %" PRIu64 ", \"closed_wall_ns\": %" PRId64 ", \"close_ns\": %" PRId64
		    ", \"clear_ns\": %" PRId64 ", \"write_ns\": %" PRId64
		    ", \"close_to_publish_ns\": %" PRId64 ", \"bids\": %" PRIu64
		    ", \"allocations\": %" PRIu64 ", \"revenue_nd\": %" PRId64
		    ", \"credits\": %" PRIu64 ", \"credited_nd\": %" PRId64 "}",
		    r->round, r->closed_wall_ns, r->close_ns, r->clear_ns, r->write_ns, r->ctp_ns,
		    r->bids, r->allocs, r->revenue, r->credits, r->credited);
}

static void render_rounds(struct market_dash *d, const struct market *m, int64_t now,
			  struct sbuf *b)
{
	uint64_t first = d->nrounds > d->history ? d->nrounds - d->history : 0;

	head(b, m, now);
	sbuf_puts(b, ", \"rounds\": [");
	for (uint64_t k = first; k < d->nrounds; k++) {
		sbuf_puts(b, k > first ? ",\n " : "\n ");
		round_json(b, &d->rounds[k % d->history]);
	}
	sbuf_puts(b, "]}\n");
}

static void render_event(struct market_dash *d, const struct market *m, struct sbuf *b)
{
	char key[160];
	bool first = true;

	sbuf_printf(b,
		    "{\"round\":%" PRIu64 ",\"closed_wall_ns\":%" PRId64
		    ",\"close_to_publish_ns\":%" PRId64 ",\"revenue_nd\":%" PRId64 ",\"prices\":[",
		    d->last.round, d->last.closed_wall_ns, d->last.ctp_ns, d->last.revenue);
	for (size_t i = 0; i < m->npools; i++) {
		const struct mkt_pool *p = m->pools[i];
		pool_key(p, key, sizeof(key));
		sbuf_puts(b, i ? ",{\"pool\":" : "{\"pool\":");
		sbuf_json_str(b, key);
		sbuf_puts(b, ",\"host\":");
		sbuf_json_str(b, p->row.host);
		sbuf_printf(b,
			    ",\"resource\":\"%s\",\"price_nd\":%" PRId64 ",\"supply\":%" PRId64
			    ",\"allocated\":%" PRId64 "}",
			    wire_resource_name(p->row.resource), p->price, p->row.supply,
			    p->allocated);
	}
	sbuf_puts(b, "],\"allocations\":[");
	for (size_t i = 0; i < m->tenants_by_id.cap; i++) {
		if (m->tenants_by_id.slots[i].hash <= 1)
			continue;
		const struct mkt_tenant *t = m->tenants_by_id.slots[i].value;
		for (size_t k = 0; k < t->nholdings; k++) {
			const struct mkt_holding *hd = &t->holdings[k];
			pool_key(hd->pool, key, sizeof(key));
			sbuf_puts(b, first ? "{\"tenant\":" : ",{\"tenant\":");
			first = false;
			sbuf_json_str(b, t->row.name);
			sbuf_puts(b, ",\"pool\":");
			sbuf_json_str(b, key);
			sbuf_puts(b, ",\"bid_id\":");
			sbuf_json_str(b, hd->bid_id);
			sbuf_printf(b, ",\"quantity\":%" PRId64 ",\"unit_price_nd\":%" PRId64 "}",
				    hd->quantity, hd->unit_price);
		}
	}
	sbuf_puts(b, "]}");
}

static void render_metrics(struct market_dash *d, const struct market *m, struct httpd *h,
			   struct sbuf *b)
{
	struct market_stats st;
	char lab[400], key[160];

	market_get_stats(m, &st);
	prom_family(b, "raas_market_rounds_total", "counter", "rounds closed since start");
	prom_int(b, "raas_market_rounds_total", NULL, (int64_t)st.rounds);
	prom_family(b, "raas_market_rounds_failed_total", "counter",
		    "round closes that failed and were retried");
	prom_int(b, "raas_market_rounds_failed_total", NULL, (int64_t)st.rounds_failed);
	prom_family(b, "raas_market_open_round", "gauge", "the round open now");
	prom_int(b, "raas_market_open_round", NULL, (int64_t)m->open_round);
	prom_hist_write(b, "raas_market_round_close_seconds",
			"clearing plus the ledger transaction of a round", &d->close_hist);
	prom_hist_write(b, "raas_market_close_to_publish_seconds",
			"from the start of a round close to its prices and allocations handed to "
			"the sockets",
			&d->ctp_hist);
	prom_family(b, "raas_market_bids_total", "counter", "bids that took part in rounds");
	prom_int(b, "raas_market_bids_total", NULL, (int64_t)d->bids_total);
	prom_family(b, "raas_market_allocations_total", "counter", "allocations made");
	prom_int(b, "raas_market_allocations_total", NULL, (int64_t)d->allocs_total);
	prom_family(b, "raas_market_requests_total", "counter", "requests answered");
	prom_int(b, "raas_market_requests_total", NULL, (int64_t)st.requests);
	prom_family(b, "raas_market_request_errors_total", "counter",
		    "requests answered with an error");
	prom_int(b, "raas_market_request_errors_total", NULL, (int64_t)st.errors);
	prom_family(b, "raas_market_revenue_nanodollars_total", "counter",
		    "charges less credits of the rounds since start");
	prom_int(b, "raas_market_revenue_nanodollars_total", NULL, d->revenue_total);
	prom_family(b, "raas_market_credited_nanodollars_total", "counter",
		    "credits written since start (allocations not in force)");
	prom_int(b, "raas_market_credited_nanodollars_total", NULL, d->credited_total);
	static const char *const gauges[][3] = {
		{"raas_market_pool_price_nanodollars_per_unit_hour", "gauge",
		 "a pool's last clearing (or posted) price"},
		{"raas_market_pool_supply_units", "gauge", "a pool's supply"},
		{"raas_market_pool_allocated_units", "gauge", "a pool's allocation in the last round"},
	};
	for (size_t g = 0; g < 3; g++) {
		prom_family(b, gauges[g][0], gauges[g][1], gauges[g][2]);
		for (size_t i = 0; i < m->npools; i++) {
			const struct mkt_pool *p = m->pools[i];
			pool_key(p, key, sizeof(key));
			const char *kv[] = {"pool", key, "host", p->row.host, "resource",
					    wire_resource_name(p->row.resource)};
			prom_labels(lab, sizeof(lab), 3, kv);
			prom_int(b, gauges[g][0], lab,
				 g == 0 ? p->price : g == 1 ? p->row.supply : p->allocated);
		}
	}
	size_t n;
	void **v = sorted(&m->hosts_by_name, &n, by_host_name);
	prom_family(b, "raas_market_host_connected", "gauge", "1 when the host's agent is connected");
	for (size_t i = 0; i < n; i++) {
		const struct mkt_host *hh = v[i];
		const char *kv[] = {"host", hh->row.name};
		prom_int(b, "raas_market_host_connected", prom_labels(lab, sizeof(lab), 1, kv),
			 hh->connected);
	}
	prom_family(b, "raas_market_host_acked_round", "gauge",
		    "the last round the host's agent acknowledged");
	for (size_t i = 0; i < n; i++) {
		const struct mkt_host *hh = v[i];
		const char *kv[] = {"host", hh->row.name};
		prom_int(b, "raas_market_host_acked_round", prom_labels(lab, sizeof(lab), 1, kv),
			 (int64_t)hh->acked_round);
	}
	prom_family(b, "raas_market_host_apply_failures_total", "counter",
		    "failed applies the host's agent reported since start");
	for (size_t i = 0; i < n; i++) {
		const struct mkt_host *hh = v[i];
		const struct dash_host *dh = host_of(d, hh->row.name, false);
		const char *kv[] = {"host", hh->row.name};
		prom_int(b, "raas_market_host_apply_failures_total",
			 prom_labels(lab, sizeof(lab), 1, kv), dh ? (int64_t)dh->failures : 0);
	}
	free(v);
	v = sorted(&m->tenants_by_id, &n, by_tenant_name);
	prom_family(b, "raas_market_tenant_charged_nanodollars", "gauge",
		    "a tenant's charged total in the ledger");
	for (size_t i = 0; i < n; i++) {
		const struct mkt_tenant *t = v[i];
		const char *kv[] = {"tenant", t->row.name};
		prom_int(b, "raas_market_tenant_charged_nanodollars",
			 prom_labels(lab, sizeof(lab), 1, kv), t->row.charged);
	}
	free(v);
	if (h)
		httpd_metrics_write(h, b);
}

static void publish(struct market_dash *d, const struct market *m, struct httpd *h, bool event)
{
	struct httpd_snap *s = httpd_snap_create();
	int64_t now = clk_wall(m->clock);
	struct sbuf b;
	int err = s ? 0 : -ENOMEM;

	sbuf_init(&b);
	if (!err) {
		render_summary(d, m, h, now, &b);
		err = httpd_snap_add_sbuf(s, "/api/summary", "application/json", &b);
	}
	if (!err) {
		render_pools(d, m, now, &b);
		err = httpd_snap_add_sbuf(s, "/api/pools", "application/json", &b);
	}
	if (!err) {
		render_tenants(d, m, now, &b);
		err = httpd_snap_add_sbuf(s, "/api/tenants", "application/json", &b);
	}
	if (!err) {
		render_hosts(m, now, &b);
		err = httpd_snap_add_sbuf(s, "/api/hosts", "application/json", &b);
	}
	if (!err) {
		render_rounds(d, m, now, &b);
		err = httpd_snap_add_sbuf(s, "/api/rounds", "application/json", &b);
	}
	if (!err) {
		render_metrics(d, m, h, &b);
		err = httpd_snap_add_sbuf(s, "/metrics", "text/plain; version=0.0.4; charset=utf-8",
					  &b);
	}
	if (err) {
		/* The last snapshot stays: a page sees one round late rather than a hole. */
		httpd_snap_free(s);
		sbuf_fini(&b);
		return;
	}
	httpd_publish(h, s);
	if (event) {
		render_event(d, m, &b);
		if (!sbuf_failed(&b))
			httpd_event_publish(h, d->last.round, "round", b.s);
	}
	sbuf_fini(&b);
}

void market_dash_round(struct market_dash *d, const struct market *m, struct httpd *h,
		       int64_t close_to_publish_ns, int64_t closed_wall_ns)
{
	record(d, m, close_to_publish_ns, closed_wall_ns);
	if (h)
		publish(d, m, h, true);
}

void market_dash_refresh(struct market_dash *d, const struct market *m, struct httpd *h)
{
	if (h)
		publish(d, m, h, false);
}
