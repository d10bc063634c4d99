/* requests.c: answering the tenant API and the host API.
 *
 * Every request is checked field by field (an error names the field and the value), acts as
 * the sender its CURVE key belongs to, and, when it changes anything, is recorded in the
 * ledger with its answer under (tenant, request id) in the same transaction as its effect: a
 * retry of the same request id is answered from the ledger and applies nothing. Effects take
 * hold in the open round's clearing (BidAck.effective_round). */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/error.h"
#include "common/log.h"
#include "market_internal.h"

/* What a handler decided: either an error, or a reply body to send (and record). */
struct answer {
	Raas__ErrorCode code;
	char message[384];
	Raas__Reply reply;
	Raas__BidAck bid_ack;
	Raas__Allocation acquired;
	char host[LEDGER_NAME_MAX];
	char bid_id[LEDGER_BID_ID_MAX];
};

static void answer_init(struct answer *a)
{
	memset(a, 0, sizeof(*a));
	raas__reply__init(&a->reply);
}

static Raas__ErrorCode fail(struct answer *a, Raas__ErrorCode code, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

static Raas__ErrorCode fail(struct answer *a, Raas__ErrorCode code, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(a->message, sizeof(a->message), fmt, ap);
	va_end(ap);
	a->code = code;
	return code;
}

/* ---- Field checks ---- */

static bool name_ok(const char *s, size_t max)
{
	size_t n = strlen(s);

	if (n == 0 || n >= max)
		return false;
	for (; *s; s++)
		if (!((*s >= 'a' && *s <= 'z') || (*s >= 'A' && *s <= 'Z') ||
		      (*s >= '0' && *s <= '9') || *s == '.' || *s == '_' || *s == '-' ||
		      *s == ':' || *s == '/'))
			return false;
	return true;
}

static bool allocatable(int r)
{
	return r == RAAS__RESOURCE__RESOURCE_CORES || r == RAAS__RESOURCE__RESOURCE_MEMORY ||
	       r == RAAS__RESOURCE__RESOURCE_BANDWIDTH || r == RAAS__RESOURCE__RESOURCE_LLC;
}

static Raas__ErrorCode check_resource_host(struct answer *a, const char *what, int resource,
					   const char *host)
{
	if (!allocatable(resource))
		return fail(a, RAAS__ERROR_CODE__ERROR_MALFORMED,
			    "%s.resource: %d is not cores, memory, bandwidth or llc", what, resource);
	if (host && host[0] && !name_ok(host, LEDGER_NAME_MAX))
		return fail(a, RAAS__ERROR_CODE__ERROR_MALFORMED,
			    "%s.host: \"%.64s\" is not a host name (letters, digits, . _ - : /; "
			    "at most %d characters)",
			    what, host, LEDGER_NAME_MAX - 1);
	return RAAS__ERROR_CODE__ERROR_NONE;
}

/* Checks a Bid and copies it into row. */
static Raas__ErrorCode check_bid(struct answer *a, const Raas__Bid *bid, struct ledger_bid *row)
{
	if (!bid->bid_id || !name_ok(bid->bid_id, LEDGER_BID_ID_MAX))
		return fail(a, RAAS__ERROR_CODE__ERROR_MALFORMED,
			    "bid.bid_id: \"%.64s\" is not a bid id (1 to %d of letters, digits, "
			    ". _ - : /)",
			    bid->bid_id ? bid->bid_id : "", LEDGER_BID_ID_MAX - 1);
	if (strncmp(bid->bid_id, "acquire/", 8) == 0)
		return fail(a, RAAS__ERROR_CODE__ERROR_MALFORMED,
			    "bid.bid_id: ids starting \"acquire/\" are the market's own");
	if (check_resource_host(a, "bid", bid->resource, bid->host))
		return a->code;
	if (bid->max_quantity <= 0 || bid->max_quantity > MARKET_QUANTITY_MAX)
		return fail(a, RAAS__ERROR_CODE__ERROR_MALFORMED,
			    "bid.max_quantity: %lld is not within 1..%lld",
			    (long long)bid->max_quantity, (long long)MARKET_QUANTITY_MAX);
	if (bid->min_quantity < 0 || bid->min_quantity > bid->max_quantity)
		return fail(a, RAAS__ERROR_CODE__ERROR_MALFORMED,
			    "bid.min_quantity: %lld is not within 0..max_quantity (%lld)",
			    (long long)bid->min_quantity, (long long)bid->max_quantity);
	if (bid->unit_price < 0 || bid->unit_price > MARKET_PRICE_MAX)
		return fail(a, RAAS__ERROR_CODE__ERROR_MALFORMED,
			    "bid.unit_price: %lld is not within 0..%lld nanodollars per unit-hour",
			    (long long)bid->unit_price, (long long)MARKET_PRICE_MAX);
	if (bid->n_curve > LEDGER_CURVE_MAX)
		return fail(a, RAAS__ERROR_CODE__ERROR_MALFORMED,
			    "bid.curve: %zu segments, at most %d", bid->n_curve, LEDGER_CURVE_MAX);
	if (bid->n_ranges > LEDGER_RANGES_MAX)
		return fail(a, RAAS__ERROR_CODE__ERROR_MALFORMED,
			    "bid.ranges: %zu ranges, at most %d", bid->n_ranges, LEDGER_RANGES_MAX);

	memset(row, 0, sizeof(*row));
	snprintf(row->bid_id, sizeof(row->bid_id), "%s", bid->bid_id);
	row->kind = LEDGER_BID;
	row->resource = bid->resource;
	snprintf(row->host, sizeof(row->host), "%s", bid->host ? bid->host : "");
	row->min_quantity = bid->min_quantity;
	row->max_quantity = bid->max_quantity;
	row->unit_price = bid->unit_price;
	for (size_t i = 0; i < bid->n_curve; i++) {
		const Raas__ValueSegment *s = bid->curve[i];
		if (s->quantity <= 0 || s->quantity > MARKET_QUANTITY_MAX)
			return fail(a, RAAS__ERROR_CODE__ERROR_MALFORMED,
				    "bid.curve[%zu].quantity: %lld is not within 1..%lld", i,
				    (long long)s->quantity, (long long)MARKET_QUANTITY_MAX);
		if (s->unit_value < 0 || s->unit_value > MARKET_PRICE_MAX)
			return fail(a, RAAS__ERROR_CODE__ERROR_MALFORMED,
				    "bid.curve[%zu].unit_value: %lld is not within 0..%lld", i,
				    (long long)s->unit_value, (long long)MARKET_PRICE_MAX);
		if (i > 0 && s->unit_value >= bid->curve[i - 1]->unit_value)
			return fail(a, RAAS__ERROR_CODE__ERROR_MALFORMED,
				    "bid.curve[%zu].unit_value: %lld is not below the previous "
				    "segment's %lld (marginal values must decrease)",
				    i, (long long)s->unit_value,
				    (long long)bid->curve[i - 1]->unit_value);
		row->curve[i].quantity = s->quantity;
		row->curve[i].unit_value = s->unit_value;
	}
	row->ncurve = bid->n_curve;
	for (size_t i = 0; i < bid->n_ranges; i++) {
		const Raas__QuantityRange *r = bid->ranges[i];
		if (r->min < 1 || r->max < r->min || r->max > bid->max_quantity)
			return fail(a, RAAS__ERROR_CODE__ERROR_MALFORMED,
				    "bid.ranges[%zu]: [%lld, %lld] is not within 1..max_quantity "
				    "(%lld) in order",
				    i, (long long)r->min, (long long)r->max,
				    (long long)bid->max_quantity);
		if (i > 0 && r->min <= bid->ranges[i - 1]->max)
			return fail(a, RAAS__ERROR_CODE__ERROR_MALFORMED,
				    "bid.ranges[%zu]: [%lld, %lld] overlaps or precedes the previous "
				    "range",
				    i, (long long)r->min, (long long)r->max);
		row->ranges[i].min = r->min;
		row->ranges[i].max = r->max;
	}
	row->nranges = bid->n_ranges;
	return RAAS__ERROR_CODE__ERROR_NONE;
}

/* A host the bid or acquire names must be able to enforce the tenant: refused here, before
 * any round charges for an allocation its agent would not apply. */
static Raas__ErrorCode check_host_maps(struct market *m, struct answer *a, const char *host,
				       const struct mkt_tenant *t)
{
	struct mkt_host *h = host[0] ? market__host(m, host) : NULL;

	if (!h)
		return RAAS__ERROR_CODE__ERROR_NONE;
	if (h->row.status != LEDGER_ACTIVE)
		return fail(a, RAAS__ERROR_CODE__ERROR_NO_SUPPLY, "host %s is %s", host,
			    h->row.status == LEDGER_REMOVED ? "removed" : "being removed");
	if (!market__host_maps(h, t->row.name)) {
		char why[256];
		market__unmapped_reason(h, t->row.name, why, sizeof(why));
		return fail(a, RAAS__ERROR_CODE__ERROR_DENIED, "%s", why);
	}
	return RAAS__ERROR_CODE__ERROR_NONE;
}

/* The pool a bid or acquire names must exist (for "any": some pool of the resource). */
static Raas__ErrorCode check_pool_exists(struct market *m, struct answer *a, int resource,
					 const char *host)
{
	if (host[0]) {
		if (!market__pool(m, host, resource))
			return fail(a, RAAS__ERROR_CODE__ERROR_NOT_FOUND,
				    "no %s pool on host \"%s\"", wire_resource_name(resource), host);
		return RAAS__ERROR_CODE__ERROR_NONE;
	}
	for (size_t i = 0; i < m->npools; i++)
		if (m->pools[i]->row.resource == resource)
			return RAAS__ERROR_CODE__ERROR_NONE;
	return fail(a, RAAS__ERROR_CODE__ERROR_NOT_FOUND, "no %s pool on any host",
		    wire_resource_name(resource));
}

/* Budget: a bid is refused when one round of everything the tenant stands to buy could
 * cost more than is left of its budget. replacing: the bid this one replaces (not counted). */
static Raas__ErrorCode check_budget(struct market *m, struct answer *a, struct mkt_tenant *t,
				    const struct ledger_bid *row, const struct mkt_bid *replacing)
{
	money_t left, committed = 0, worst = market__worst_round(m, row);
	char b1[MONEY_TEXT_MAX], b2[MONEY_TEXT_MAX], b3[MONEY_TEXT_MAX];

	if (t->row.budget < 0)
		return RAAS__ERROR_CODE__ERROR_NONE;
	if (money_sub(t->row.budget, t->row.charged, &left) != 0)
		left = 0;
	for (size_t i = 0; i < t->nbids; i++)
		if (t->bids[i] != replacing && money_add(committed, t->bids[i]->worst_round,
							 &committed) != 0)
			committed = MONEY_MAX;
	if (worst > left || committed > left - worst)
		return fail(a, RAAS__ERROR_CODE__ERROR_BUDGET,
			    "bid %s could cost %s a round; %s has %s left of its budget, %s of it "
			    "committed to other bids",
			    row->bid_id, money_format(worst, b1), t->row.name,
			    money_format(left, b2), money_format(committed, b3));
	return RAAS__ERROR_CODE__ERROR_NONE;
}

static struct mkt_bid *find_bid(struct mkt_tenant *t, const char *bid_id)
{
	for (size_t i = 0; i < t->nbids; i++)
		if (strcmp(t->bids[i]->row.bid_id, bid_id) == 0)
			return t->bids[i];
	return NULL;
}

/* Ends a standing version in the ledger (last in force: the round before the open one). */
static int end_version(struct market *m, struct mkt_bid *b)
{
	int64_t t0 = clk_mono(&clk_real);
	int err = ledger_bid_end(m->ledger, b->row.id, (int64_t)m->open_round - 1);

	market__prof_add(m, MARKET_ST_LEDGER, &t0, 1);
	return err;
}

/* Replaces old (may be NULL) by a new version row, in the ledger and in memory. A
 * replaced bid keeps its place (and what it held): only its row changes. */
static int put_version(struct market *m, struct mkt_tenant *t, struct mkt_bid *old,
		       struct ledger_bid *row, uint64_t request_id)
{
	int err;

	row->tenant = t->row.id;
	row->first_round = m->open_round;
	row->request_id = request_id;
	if (old && (err = end_version(m, old)) != 0)
		return err;
	int64_t t0 = clk_mono(&clk_real);
	err = ledger_bid_insert(m->ledger, row);
	market__prof_add(m, MARKET_ST_LEDGER, &t0, 1);
	if (err)
		return err;
	if (!old)
		return market__bid_attach(m, t, row, NULL);
	old->row = *row;
	old->worst_round = market__worst_round(m, row);
	old->host_pool = NULL; /* its host or resource may have changed */
	old->pools_gen = 0;
	return 0;
}

/* Whether a new bid row has the terms of the standing version old (ids and rounds aside). */
static bool same_terms(const struct ledger_bid *old, const struct ledger_bid *row)
{
	if (old->kind != row->kind || old->resource != row->resource ||
	    old->min_quantity != row->min_quantity || old->max_quantity != row->max_quantity ||
	    old->unit_price != row->unit_price || old->ncurve != row->ncurve ||
	    old->nranges != row->nranges || strcmp(old->host, row->host) != 0 ||
	    strcmp(old->bid_id, row->bid_id) != 0)
		return false;
	for (size_t i = 0; i < row->ncurve; i++)
		if (old->curve[i].quantity != row->curve[i].quantity ||
		    old->curve[i].unit_value != row->curve[i].unit_value)
			return false;
	for (size_t i = 0; i < row->nranges; i++)
		if (old->ranges[i].min != row->ranges[i].min ||
		    old->ranges[i].max != row->ranges[i].max)
			return false;
	return true;
}

/* Answers with a BidAck for bid_id (copied), effective in the open round. */
static Raas__ErrorCode ack_bid(struct market *m, struct answer *a, const char *bid_id)
{
	snprintf(a->bid_id, sizeof(a->bid_id), "%s", bid_id);
	raas__bid_ack__init(&a->bid_ack);
	a->bid_ack.bid_id = a->bid_id;
	a->bid_ack.effective_round = m->open_round;
	a->reply.result_case = RAAS__REPLY__RESULT_BID;
	a->reply.bid = &a->bid_ack;
	return RAAS__ERROR_CODE__ERROR_NONE;
}

/* ---- Tenant requests ---- */

static Raas__ErrorCode do_bid(struct market *m, struct mkt_tenant *t, const Raas__Envelope *env,
			      struct answer *a)
{
	struct ledger_bid row;
	struct mkt_bid *old;
	int err;

	if (check_bid(a, env->bid, &row) ||
	    check_pool_exists(m, a, row.resource, row.host) || check_host_maps(m, a, row.host, t))
		return a->code;
	old = find_bid(t, row.bid_id);
	if (!old && t->nbids >= MARKET_TENANT_BIDS_MAX)
		return fail(a, RAAS__ERROR_CODE__ERROR_DENIED,
			    "tenant %s has %d standing bids, the most allowed", t->row.name,
			    MARKET_TENANT_BIDS_MAX);
	if (check_budget(m, a, t, &row, old))
		return a->code;
	/* A bid re-sent with the terms it stands with (clients re-send on every price
	 * update): acknowledged, no new version. The request itself is still recorded, so
	 * that a late retry of it is answered, not applied over a newer version. */
	if (old && same_terms(&old->row, &row)) {
		m->stats.unchanged_bids++;
		return ack_bid(m, a, row.bid_id);
	}
	if ((err = put_version(m, t, old, &row, env->request_id)) != 0)
		return fail(a, RAAS__ERROR_CODE__ERROR_UNAVAILABLE, "ledger: %s",
			    raas_strerror(err));
	return ack_bid(m, a, row.bid_id);
}

/* The pool an acquire goes to: the named one, or the cheapest with room. */
static struct mkt_pool *acquire_pool(struct market *m, const struct mkt_tenant *t, int resource,
				     const char *host, int64_t quantity, money_t *price)
{
	struct mkt_pool *best = NULL;
	money_t best_price = 0;

	if (host[0]) {
		best = market__pool(m, host, resource);
		if (best)
			*price = market__posted_price(m, best);
		return best;
	}
	for (size_t i = 0; i < m->npools; i++) {
		struct mkt_pool *p = m->pools[i];
		if (p->row.resource != resource || p->row.supply - p->allocated < quantity)
			continue;
		struct mkt_host *h = p->row.from_config ? NULL : market__host(m, p->row.host);
		if (h && (h->row.status != LEDGER_ACTIVE || !market__host_maps(h, t->row.name)))
			continue; /* it could not enforce this tenant */
		money_t pp = market__posted_price(m, p);
		if (!best || pp < best_price) {
			best = p;
			best_price = pp;
		}
	}
	*price = best_price;
	return best;
}

static Raas__ErrorCode do_acquire(struct market *m, struct mkt_tenant *t,
				  const Raas__Envelope *env, struct answer *a)
{
	const Raas__Acquire *q = env->acquire;
	const char *host = q->host ? q->host : "";
	struct ledger_bid row;
	struct mkt_pool *p;
	struct mkt_bid *old;
	money_t price = 0, payment;
	char b1[MONEY_TEXT_MAX], b2[MONEY_TEXT_MAX];
	int err;

	if (check_resource_host(a, "acquire", q->resource, host))
		return a->code;
	if (q->quantity <= 0 || q->quantity > MARKET_QUANTITY_MAX)
		return fail(a, RAAS__ERROR_CODE__ERROR_MALFORMED,
			    "acquire.quantity: %lld is not within 1..%lld", (long long)q->quantity,
			    (long long)MARKET_QUANTITY_MAX);
	if (q->max_unit_price < 0 || q->max_unit_price > MARKET_PRICE_MAX)
		return fail(a, RAAS__ERROR_CODE__ERROR_MALFORMED,
			    "acquire.max_unit_price: %lld is not within 0..%lld",
			    (long long)q->max_unit_price, (long long)MARKET_PRICE_MAX);
	if (check_pool_exists(m, a, q->resource, host) || check_host_maps(m, a, host, t))
		return a->code;
	p = acquire_pool(m, t, q->resource, host, q->quantity, &price);
	if (!p)
		return fail(a, RAAS__ERROR_CODE__ERROR_NO_SUPPLY,
			    "no %s pool has %lld units free", wire_resource_name(q->resource),
			    (long long)q->quantity);
	if (q->max_unit_price > 0 && price > q->max_unit_price)
		return fail(a, RAAS__ERROR_CODE__ERROR_PRICE,
			    "posted price of %s on %s is %s per unit-hour, above your limit %s",
			    wire_resource_name(q->resource), p->row.host, money_format(price, b1),
			    money_format(q->max_unit_price, b2));

	memset(&row, 0, sizeof(row));
	snprintf(row.bid_id, sizeof(row.bid_id), "acquire/%s/%s", wire_resource_name(q->resource),
		 p->row.host);
	old = find_bid(t, row.bid_id);
	int64_t have = old ? old->row.max_quantity : 0;
	/* Units held through the market's own acquire bid are already counted as allocated. */
	int64_t held_here = old && old->held_pool == p ? old->held : 0;
	if (p->row.supply - (p->allocated - held_here) < have + q->quantity)
		return fail(a, RAAS__ERROR_CODE__ERROR_NO_SUPPLY,
			    "%s on %s: %lld of %lld units are allocated; %lld more cannot be had",
			    wire_resource_name(q->resource), p->row.host, (long long)p->allocated,
			    (long long)p->row.supply, (long long)q->quantity);
	row.kind = LEDGER_ACQUIRE;
	row.resource = q->resource;
	snprintf(row.host, sizeof(row.host), "%s", p->row.host);
	row.min_quantity = row.max_quantity = have + q->quantity;
	/* Without a limit, the acquire holds at the price it was made at. */
	row.unit_price = q->max_unit_price > 0 ? q->max_unit_price : price;
	if (old && old->row.unit_price > row.unit_price)
		row.unit_price = old->row.unit_price;
	if (check_budget(m, a, t, &row, old))
		return a->code;
	/* A bid re-sent with the terms it stands with (clients re-send on every price
	 * update): acknowledged, no new version. The request itself is still recorded, so
	 * that a late retry of it is answered, not applied over a newer version. */
	if (old && same_terms(&old->row, &row)) {
		m->stats.unchanged_bids++;
		return ack_bid(m, a, row.bid_id);
	}
	if ((err = put_version(m, t, old, &row, env->request_id)) != 0)
		return fail(a, RAAS__ERROR_CODE__ERROR_UNAVAILABLE, "ledger: %s",
			    raas_strerror(err));

	snprintf(a->host, sizeof(a->host), "%s", p->row.host);
	raas__allocation__init(&a->acquired);
	a->acquired.tenant = t->row.name;
	a->acquired.resource = q->resource;
	a->acquired.host = a->host;
	a->acquired.quantity = row.max_quantity;
	a->acquired.unit_price = price;
	if (money_mul(price, row.max_quantity, &payment) != 0)
		payment = MONEY_MAX;
	a->acquired.payment_per_hour = payment;
	a->reply.result_case = RAAS__REPLY__RESULT_ACQUIRED;
	a->reply.acquired = &a->acquired;
	return RAAS__ERROR_CODE__ERROR_NONE;
}

/* Does standing bid b back holdings of (resource, host)? host "" matches every host. */
static bool backs(const struct mkt_bid *b, int resource, const char *host)
{
	if (b->row.resource != resource)
		return false;
	if (!host[0])
		return true;
	if (strcmp(b->row.host, host) == 0)
		return true;
	return !b->row.host[0] && b->held_pool && strcmp(b->held_pool->row.host, host) == 0;
}

static Raas__ErrorCode do_release(struct market *m, struct mkt_tenant *t,
				  const Raas__Envelope *env, struct answer *a)
{
	const Raas__Release *q = env->release;
	const char *host = q->host ? q->host : "";
	int64_t left = q->quantity;
	bool any = false;
	int err = 0;
	size_t used = 0;

	a->bid_id[0] = '\0';

	if (check_resource_host(a, "release", q->resource, host))
		return a->code;
	if (q->quantity < 0 || q->quantity > MARKET_QUANTITY_MAX)
		return fail(a, RAAS__ERROR_CODE__ERROR_MALFORMED,
			    "release.quantity: %lld is not within 0..%lld (0: all)",
			    (long long)q->quantity, (long long)MARKET_QUANTITY_MAX);
	/* Acquires first, then bids newest first. */
	for (int pass = 0; pass < 2 && !err; pass++) {
		for (size_t i = t->nbids; i-- > 0 && !err;) {
			struct mkt_bid *b = t->bids[i];
			if ((b->row.kind == LEDGER_ACQUIRE) != (pass == 0) ||
			    !backs(b, q->resource, host))
				continue;
			if (q->quantity > 0 && left <= 0)
				break;
			any = true;
			/* The answer names the bids it released (as many as fit). */
			if (used + strlen(b->row.bid_id) + 2 < sizeof(a->bid_id)) {
				int n = snprintf(a->bid_id + used, sizeof(a->bid_id) - used, "%s%s",
						 used ? "," : "", b->row.bid_id);
				used += n > 0 ? (size_t)n : 0;
			}
			if (q->quantity == 0 || left >= b->row.max_quantity) {
				left -= b->row.max_quantity;
				if (!(err = end_version(m, b)))
					market__bid_detach(t, b);
				continue;
			}
			struct ledger_bid row = b->row;
			row.max_quantity -= left;
			if (row.min_quantity > row.max_quantity)
				row.min_quantity = row.max_quantity;
			if (row.kind == LEDGER_ACQUIRE)
				row.min_quantity = row.max_quantity;
			for (size_t k = 0; k < row.nranges; k++)
				if (row.ranges[k].max > row.max_quantity)
					row.ranges[k].max = row.max_quantity;
			while (row.nranges && row.ranges[row.nranges - 1].min > row.max_quantity)
				row.nranges--;
			left = 0;
			err = put_version(m, t, b, &row, env->request_id);
		}
	}
	if (err)
		return fail(a, RAAS__ERROR_CODE__ERROR_UNAVAILABLE, "ledger: %s",
			    raas_strerror(err));
	if (!any)
		return fail(a, RAAS__ERROR_CODE__ERROR_NOT_FOUND,
			    "%s holds no %s%s%s through a standing bid", t->row.name,
			    wire_resource_name(q->resource), host[0] ? " on " : "", host);
	char released[LEDGER_BID_ID_MAX];
	snprintf(released, sizeof(released), "%s", a->bid_id);
	return ack_bid(m, a, released);
}

static Raas__ErrorCode do_cancel(struct market *m, struct mkt_tenant *t,
				 const Raas__Envelope *env, struct answer *a)
{
	const char *id = env->cancel->bid_id ? env->cancel->bid_id : "";
	struct mkt_bid *b = find_bid(t, id);
	int err;

	if (!b)
		return fail(a, RAAS__ERROR_CODE__ERROR_NOT_FOUND,
			    "cancel.bid_id: %s has no standing bid \"%.64s\"", t->row.name, id);
	if ((err = end_version(m, b)) != 0)
		return fail(a, RAAS__ERROR_CODE__ERROR_UNAVAILABLE, "ledger: %s",
			    raas_strerror(err));
	Raas__ErrorCode code = ack_bid(m, a, id);
	market__bid_detach(t, b);
	return code;
}

/* Encodes the reply envelope for an answer. On success *buf is owned by the caller. */
static int encode_answer(uint64_t request_id, struct answer *a, uint8_t **buf, size_t *len)
{
	Raas__Envelope e;
	Raas__Error err = RAAS__ERROR__INIT;

	wire_envelope_init(&e, request_id);
	if (a->code != RAAS__ERROR_CODE__ERROR_NONE) {
		raas__reply__init(&a->reply);
		err.code = a->code;
		err.message = a->message;
		a->reply.error = &err;
	}
	e.body_case = RAAS__ENVELOPE__BODY_REPLY;
	e.reply = &a->reply;
	return wire_encode(&e, buf, len);
}

/* Runs a request that changes state: dedup by request id, apply, record, answer. */
static void changing_request(struct market *m, struct mkt_tenant *t,
			     const struct tp_route *route, const Raas__Envelope *env,
			     struct market_outbox *out)
{
	struct answer *a = malloc(sizeof(*a));
	uint8_t *buf;
	size_t len;
	int err;

	if (!a) {
		market__push_error(out, MARKET_TO_TENANT, route, env->request_id,
				   RAAS__ERROR_CODE__ERROR_UNAVAILABLE, "out of memory");
		return;
	}
	answer_init(a);
	if (env->request_id == 0) {
		m->stats.errors++;
		market__push_error(out, MARKET_TO_TENANT, route, 0,
				   RAAS__ERROR_CODE__ERROR_MALFORMED,
				   "request_id: 0; a request that changes anything needs a "
				   "non-zero id so that a retry is not applied twice");
		free(a);
		return;
	}
	/* A retry: the first answer, nothing applied. An id above every id the tenant used
	 * (clients that count up) is new without a lookup. */
	int64_t t0 = clk_mono(&clk_real);
	if (!t->max_rid_known &&
	    ledger_request_max(m->ledger, t->row.id, &t->max_rid) == 0)
		t->max_rid_known = true;
	bool fresh = t->max_rid_known && env->request_id <= INT64_MAX &&
		     env->request_id > t->max_rid;
	bool again = !fresh &&
		     ledger_request_get(m->ledger, t->row.id, env->request_id, &buf, &len) == 0;
	if (!fresh)
		market__prof_add(m, MARKET_ST_LEDGER, &t0, 1);
	if (again) {
		m->stats.retries++;
		if (market__push(out, MARKET_TO_TENANT, route, NULL, buf, len, env->request_id,
				 true, t->row.id) != 0)
			free(buf);
		free(a);
		return;
	}
	switch (env->body_case) {
	case RAAS__ENVELOPE__BODY_BID:
		do_bid(m, t, env, a);
		break;
	case RAAS__ENVELOPE__BODY_ACQUIRE:
		do_acquire(m, t, env, a);
		break;
	case RAAS__ENVELOPE__BODY_RELEASE:
		do_release(m, t, env, a);
		break;
	case RAAS__ENVELOPE__BODY_CANCEL:
		do_cancel(m, t, env, a);
		break;
	default:
		fail(a, RAAS__ERROR_CODE__ERROR_INTERNAL, "unexpected body");
		break;
	}
	if (a->code != RAAS__ERROR_CODE__ERROR_NONE)
		m->stats.errors++;
	t0 = clk_mono(&clk_real);
	err = encode_answer(env->request_id, a, &buf, &len);
	market__prof_add(m, MARKET_ST_ENCODE, &t0, 1);
	if (err) {
		market__push_error(out, MARKET_TO_TENANT, route, env->request_id,
				   RAAS__ERROR_CODE__ERROR_INTERNAL, "cannot encode the answer");
		free(a);
		return;
	}
	/* Record the answer, unless it says "try again" (which is not an answer to keep). */
	err = a->code == RAAS__ERROR_CODE__ERROR_UNAVAILABLE
		      ? 0
		      : ledger_request_put(m->ledger, t->row.id, env->request_id, m->open_round,
					   (int)env->body_case, buf, len, clk_wall(m->clock));
	market__prof_add(m, MARKET_ST_LEDGER, &t0, 1);
	if (err) {
		free(buf);
		market__push_error(out, MARKET_TO_TENANT, route, env->request_id,
				   RAAS__ERROR_CODE__ERROR_UNAVAILABLE,
				   "the ledger could not record this request; retry");
		free(a);
		return;
	}
	if (a->code != RAAS__ERROR_CODE__ERROR_UNAVAILABLE && env->request_id <= INT64_MAX &&
	    env->request_id > t->max_rid)
		t->max_rid = env->request_id;
	if (market__push(out, MARKET_TO_TENANT, route, NULL, buf, len, env->request_id, true,
			 t->row.id) != 0)
		free(buf);
	free(a);
}

static void add_route(struct mkt_tenant *t, const struct tp_route *route)
{
	for (size_t i = 0; i < t->nroutes; i++)
		if (t->routes[i].len == route->len &&
		    memcmp(t->routes[i].id, route->id, route->len) == 0)
			return;
	if (t->nroutes == MARKET_TENANT_ROUTES_MAX) {
		memmove(&t->routes[0], &t->routes[1], (t->nroutes - 1) * sizeof(t->routes[0]));
		t->nroutes--;
	}
	t->routes[t->nroutes++] = *route;
}

static void do_hello(struct market *m, struct mkt_tenant *t, const struct tp_route *route,
		     const Raas__Envelope *env, struct market_outbox *out)
{
	const Raas__Hello *h = env->hello;
	Raas__Envelope e;
	Raas__Reply r = RAAS__REPLY__INIT;
	Raas__HelloReply hr = RAAS__HELLO_REPLY__INIT;

	if (h->tenant && h->tenant[0] && strcmp(h->tenant, t->row.name) != 0) {
		char msg[256];
		m->stats.errors++;
		snprintf(msg, sizeof(msg),
			 "hello.tenant: \"%.64s\" is not you; your key belongs to tenant %s",
			 h->tenant, t->row.name);
		market__push_error(out, MARKET_TO_TENANT, route, env->request_id,
				   RAAS__ERROR_CODE__ERROR_DENIED, msg);
		return;
	}
	add_route(t, route);
	wire_envelope_init(&e, env->request_id);
	hr.tenant = t->row.name;
	hr.round_ns = m->cfg->round_ns;
	hr.round = m->open_round - 1;
	hr.next_round_wall_ns = m->next_close_wall_ns;
	hr.server = MARKET_SERVER_NAME;
	r.result_case = RAAS__REPLY__RESULT_HELLO;
	r.hello = &hr;
	e.body_case = RAAS__ENVELOPE__BODY_REPLY;
	e.reply = &r;
	market__push_env(out, MARKET_TO_TENANT, route, NULL, &e, true, t->row.id);
}

/* A ProfitReport: kept as the tenant's latest (replacing the one before; a retry is the
 * same report again), answered with an empty reply. */
static void do_profit(struct market *m, struct mkt_tenant *t, const struct tp_route *route,
		      const Raas__Envelope *env, struct market_outbox *out)
{
	const Raas__ProfitReport *p = env->profit_report;
	Raas__Envelope e;
	Raas__Reply r = RAAS__REPLY__INIT;
	char why[256];

	if (wire_profit_check(p, WIRE_PROFIT_APPS_MAX, why, sizeof(why)) != 0) {
		m->stats.errors++;
		market__push_error(out, MARKET_TO_TENANT, route, env->request_id,
				   RAAS__ERROR_CODE__ERROR_MALFORMED, why);
		return;
	}
	t->profit_reported = true;
	t->profit_per_hour = p->profit_per_hour;
	t->profit_wall_ns = clk_wall(m->clock);
	t->nprofit_apps = p->n_apps;
	for (size_t i = 0; i < p->n_apps; i++) {
		struct mkt_app_profit *a = &t->profit_apps[i];
		snprintf(a->app, sizeof(a->app), "%s", p->apps[i]->app);
		a->profit_per_hour = p->apps[i]->profit_per_hour;
		a->w_ns = p->apps[i]->w_ns;
		a->measured_wall_ns = p->apps[i]->measured_wall_ns;
	}
	wire_envelope_init(&e, env->request_id);
	e.body_case = RAAS__ENVELOPE__BODY_REPLY;
	e.reply = &r;
	market__push_env(out, MARKET_TO_TENANT, route, NULL, &e, true, t->row.id);
}

static void tenant_request(struct market *m, const char *identity, const struct tp_route *route,
			   const Raas__Envelope *env, struct market_outbox *out)
{
	struct mkt_tenant *t = NULL;
	char msg[256];

	m->stats.requests++;
	if (strncmp(identity, "tenant:", 7) == 0)
		t = market__tenant(m, identity + 7);
	if (!t) {
		m->stats.errors++;
		snprintf(msg, sizeof(msg), "\"%.64s\" is not a tenant of this market", identity);
		market__push_error(out, MARKET_TO_TENANT, route, env->request_id,
				   RAAS__ERROR_CODE__ERROR_DENIED, msg);
		return;
	}
	switch (env->body_case) {
	case RAAS__ENVELOPE__BODY_HELLO:
		do_hello(m, t, route, env, out);
		return;
	case RAAS__ENVELOPE__BODY_BID:
	case RAAS__ENVELOPE__BODY_ACQUIRE:
		if (t->row.status != LEDGER_ACTIVE) {
			m->stats.errors++;
			snprintf(msg, sizeof(msg), "tenant %s is being removed: no new bids",
				 t->row.name);
			market__push_error(out, MARKET_TO_TENANT, route, env->request_id,
					   RAAS__ERROR_CODE__ERROR_DENIED, msg);
			return;
		}
		changing_request(m, t, route, env, out);
		return;
	case RAAS__ENVELOPE__BODY_RELEASE:
	case RAAS__ENVELOPE__BODY_CANCEL:
		changing_request(m, t, route, env, out);
		return;
	case RAAS__ENVELOPE__BODY_QUERY:
		market__query(m, t, route, env, out);
		return;
	case RAAS__ENVELOPE__BODY_PROFIT_REPORT:
		do_profit(m, t, route, env, out);
		return;
	default:
		m->stats.errors++;
		snprintf(msg, sizeof(msg),
			 "a tenant may not send \"%s\" (tenant API: hello, bid, acquire, release, "
			 "cancel, query, profit_report)",
			 wire_body_name(env));
		market__push_error(out, MARKET_TO_TENANT, route, env->request_id,
				   RAAS__ERROR_CODE__ERROR_DENIED, msg);
		return;
	}
}

void market_bad_request(struct market *m, enum market_dest dest, const char *identity,
			const struct tp_route *route, int err, const char *why,
			struct market_outbox *out)
{
	char msg[512];
	Raas__ErrorCode code = err == -RAAS_ETOOBIG    ? RAAS__ERROR_CODE__ERROR_TOO_BIG
			       : err == -RAAS_EVERSION ? RAAS__ERROR_CODE__ERROR_VERSION
			       : err == -EBUSY	       ? RAAS__ERROR_CODE__ERROR_UNAVAILABLE
						       : RAAS__ERROR_CODE__ERROR_MALFORMED;

	m->stats.requests++;
	m->stats.errors++;
	snprintf(msg, sizeof(msg), "%s", why && why[0] ? why : raas_strerror(err));
	log_debug("market: bad message from %s: %s", identity[0] ? identity : "?", msg);
	market__push_error(out, dest, route, 0, code, msg);
}

/* The time of the ledger and encode stages, to take out of the check stage. */
static int64_t prof_elsewhere(const struct market *m)
{
	return market_prof_stage_ns(&m->prof, MARKET_ST_LEDGER) +
	       market_prof_stage_ns(&m->prof, MARKET_ST_ENCODE);
}

void market_tenant_request(struct market *m, const char *identity, const struct tp_route *route,
			   const Raas__Envelope *env, struct market_outbox *out)
{
	int64_t t0 = clk_mono(&clk_real), elsewhere = prof_elsewhere(m);

	tenant_request(m, identity, route, env, out);
	market_prof_add_ns(&m->prof, MARKET_ST_CHECK,
			   clk_mono(&clk_real) - t0 - (prof_elsewhere(m) - elsewhere), 1);
}
