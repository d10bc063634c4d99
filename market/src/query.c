/* query.c: the tenant API's read-only queries: prices, holdings, bids, account, rounds.
 *
 * Queries change nothing, so they are neither deduplicated nor recorded; a query naming
 * another tenant is refused (identity comes from the key). Results are bounded by the
 * query's limit (default 100, at most 1000 rows). */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/log.h"
#include "market_internal.h"

#define QUERY_LIMIT_DEFAULT 100
#define QUERY_LIMIT_MAX 1000

struct query_out {
	Raas__QueryResult qr;
	Raas__PriceUpdate *prices;
	Raas__PriceUpdate **price_ptrs;
	Raas__Allocation *holdings;
	Raas__Allocation **holding_ptrs;
	Raas__Bid *bids;
	Raas__Bid **bid_ptrs;
	Raas__ValueSegment *segs;
	Raas__ValueSegment **seg_ptrs;
	Raas__QuantityRange *ranges;
	Raas__QuantityRange **range_ptrs;
	Raas__Account account;
	Raas__RoundSummary *rounds;
	Raas__RoundSummary **round_ptrs;
	size_t nrounds, limit;
};

static void query_free(struct query_out *q)
{
	free(q->prices);
	free(q->price_ptrs);
	free(q->holdings);
	free(q->holding_ptrs);
	free(q->bids);
	free(q->bid_ptrs);
	free(q->segs);
	free(q->seg_ptrs);
	free(q->ranges);
	free(q->range_ptrs);
	free(q->rounds);
	free(q->round_ptrs);
}

static bool matches(const Raas__Query *q, int resource, const char *host)
{
	if (q->resource && (int)q->resource != resource)
		return false;
	return !q->host || !q->host[0] || strcmp(q->host, host) == 0;
}

static int add_prices(struct market *m, const Raas__Query *query, struct query_out *q)
{
	size_t n = 0;

	q->prices = calloc(m->npools ? m->npools : 1, sizeof(*q->prices));
	q->price_ptrs = calloc(m->npools ? m->npools : 1, sizeof(*q->price_ptrs));
	if (!q->prices || !q->price_ptrs)
		return -ENOMEM;
	for (size_t i = 0; i < m->npools && n < q->limit; i++) {
		struct mkt_pool *p = m->pools[i];
		if (!matches(query, p->row.resource, p->row.host))
			continue;
		Raas__PriceUpdate *u = &q->prices[n];
		raas__price_update__init(u);
		u->round = m->open_round - 1;
		u->resource = p->row.resource;
		u->host = p->row.host;
		u->unit_price = market__posted_price(m, p);
		u->round_ns = m->cfg->round_ns;
		u->next_round_wall_ns = m->next_close_wall_ns;
		u->supply = p->row.supply;
		u->allocated = p->allocated;
		q->price_ptrs[n++] = u;
	}
	q->qr.prices = q->price_ptrs;
	q->qr.n_prices = n;
	return 0;
}

static int add_holdings(struct mkt_tenant *t, const Raas__Query *query, struct query_out *q)
{
	size_t n = 0;

	q->holdings = calloc(t->nholdings ? t->nholdings : 1, sizeof(*q->holdings));
	q->holding_ptrs = calloc(t->nholdings ? t->nholdings : 1, sizeof(*q->holding_ptrs));
	if (!q->holdings || !q->holding_ptrs)
		return -ENOMEM;
	for (size_t i = 0; i < t->nholdings && n < q->limit; i++) {
		const struct mkt_holding *h = &t->holdings[i];
		if (!matches(query, h->pool->row.resource, h->pool->row.host))
			continue;
		market__allocation(t, h, &q->holdings[n]);
		q->holding_ptrs[n] = &q->holdings[n];
		n++;
	}
	q->qr.holdings = q->holding_ptrs;
	q->qr.n_holdings = n;
	return 0;
}

static int add_bids(struct mkt_tenant *t, const Raas__Query *query, struct query_out *q)
{
	size_t n = 0, nb = t->nbids ? t->nbids : 1, s = 0, r = 0;

	q->bids = calloc(nb, sizeof(*q->bids));
	q->bid_ptrs = calloc(nb, sizeof(*q->bid_ptrs));
	q->segs = calloc(nb * LEDGER_CURVE_MAX, sizeof(*q->segs));
	q->seg_ptrs = calloc(nb * LEDGER_CURVE_MAX, sizeof(*q->seg_ptrs));
	q->ranges = calloc(nb * LEDGER_RANGES_MAX, sizeof(*q->ranges));
	q->range_ptrs = calloc(nb * LEDGER_RANGES_MAX, sizeof(*q->range_ptrs));
	if (!q->bids || !q->bid_ptrs || !q->segs || !q->seg_ptrs || !q->ranges || !q->range_ptrs)
		return -ENOMEM;
	for (size_t i = 0; i < t->nbids && n < q->limit; i++) {
		struct ledger_bid *row = &t->bids[i]->row;
		if (!matches(query, row->resource, row->host))
			continue;
		Raas__Bid *b = &q->bids[n];
		raas__bid__init(b);
		b->bid_id = row->bid_id;
		b->resource = row->resource;
		b->host = row->host;
		b->min_quantity = row->min_quantity;
		b->max_quantity = row->max_quantity;
		b->unit_price = row->unit_price;
		b->refused = t->bids[i]->refused;
		b->curve = &q->seg_ptrs[s];
		b->n_curve = row->ncurve;
		for (size_t k = 0; k < row->ncurve; k++, s++) {
			raas__value_segment__init(&q->segs[s]);
			q->segs[s].quantity = row->curve[k].quantity;
			q->segs[s].unit_value = row->curve[k].unit_value;
			q->seg_ptrs[s] = &q->segs[s];
		}
		b->ranges = &q->range_ptrs[r];
		b->n_ranges = row->nranges;
		for (size_t k = 0; k < row->nranges; k++, r++) {
			raas__quantity_range__init(&q->ranges[r]);
			q->ranges[r].min = row->ranges[k].min;
			q->ranges[r].max = row->ranges[k].max;
			q->range_ptrs[r] = &q->ranges[r];
		}
		q->bid_ptrs[n++] = b;
	}
	q->qr.bids = q->bid_ptrs;
	q->qr.n_bids = n;
	return 0;
}

static int round_row(void *arg, const struct ledger_round_row *row)
{
	struct query_out *q = arg;
	Raas__RoundSummary *s = &q->rounds[q->nrounds];

	raas__round_summary__init(s);
	s->round = row->round;
	s->start_wall_ns = row->start_wall_ns;
	s->end_wall_ns = row->end_wall_ns;
	s->revenue = row->revenue;
	q->round_ptrs[q->nrounds++] = s;
	return 0;
}

static int add_rounds(struct market *m, struct query_out *q)
{
	q->rounds = calloc(q->limit, sizeof(*q->rounds));
	q->round_ptrs = calloc(q->limit, sizeof(*q->round_ptrs));
	if (!q->rounds || !q->round_ptrs)
		return -ENOMEM;
	int err = ledger_rounds_each(m->ledger, 0, q->limit, round_row, q);
	q->qr.rounds = q->round_ptrs;
	q->qr.n_rounds = q->nrounds;
	return err;
}

void market__query(struct market *m, struct mkt_tenant *t, const struct tp_route *route,
		   const Raas__Envelope *env, struct market_outbox *out)
{
	const Raas__Query *query = env->query;
	struct query_out q;
	Raas__Envelope e;
	Raas__Reply r = RAAS__REPLY__INIT;
	char msg[256];
	int err = 0;

	if (query->tenant && query->tenant[0] && strcmp(query->tenant, t->row.name) != 0) {
		m->stats.errors++;
		snprintf(msg, sizeof(msg),
			 "query.tenant: \"%.64s\" is another tenant; you can query only %s",
			 query->tenant, t->row.name);
		market__push_error(out, MARKET_TO_TENANT, route, env->request_id,
				   RAAS__ERROR_CODE__ERROR_DENIED, msg);
		return;
	}
	memset(&q, 0, sizeof(q));
	raas__query_result__init(&q.qr);
	q.limit = query->limit ? query->limit : QUERY_LIMIT_DEFAULT;
	if (q.limit > QUERY_LIMIT_MAX)
		q.limit = QUERY_LIMIT_MAX;
	switch (query->what) {
	case RAAS__QUERY__WHAT__WHAT_PRICES:
		err = add_prices(m, query, &q);
		break;
	case RAAS__QUERY__WHAT__WHAT_HOLDINGS:
		err = add_holdings(t, query, &q);
		break;
	case RAAS__QUERY__WHAT__WHAT_BIDS:
		err = add_bids(t, query, &q);
		break;
	case RAAS__QUERY__WHAT__WHAT_ACCOUNT:
		raas__account__init(&q.account);
		q.account.tenant = t->row.name;
		q.account.charged_total = t->row.charged;
		q.account.budget = t->row.budget;
		q.qr.account = &q.account;
		break;
	case RAAS__QUERY__WHAT__WHAT_ROUNDS:
		err = add_rounds(m, &q);
		break;
	default:
		m->stats.errors++;
		snprintf(msg, sizeof(msg),
			 "query.what: %d is not prices, holdings, bids, account or rounds",
			 (int)query->what);
		market__push_error(out, MARKET_TO_TENANT, route, env->request_id,
				   RAAS__ERROR_CODE__ERROR_MALFORMED, msg);
		query_free(&q);
		return;
	}
	if (err) {
		m->stats.errors++;
		market__push_error(out, MARKET_TO_TENANT, route, env->request_id,
				   RAAS__ERROR_CODE__ERROR_UNAVAILABLE, "cannot answer now; retry");
		query_free(&q);
		return;
	}
	wire_envelope_init(&e, env->request_id);
	r.result_case = RAAS__REPLY__RESULT_QUERY;
	r.query = &q.qr;
	e.body_case = RAAS__ENVELOPE__BODY_REPLY;
	e.reply = &r;
	market__push_env(out, MARKET_TO_TENANT, route, NULL, &e, true, t->row.id);
	query_free(&q);
}
