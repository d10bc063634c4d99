/* round.c: closing a round: gather the bids in force, clear every pool through pm_clear,
 * bill, write the round in one ledger transaction, and only then announce it.
 *
 * The order is the contract of DESIGN.md section 6: nothing leaves the market (prices,
 * allocation sets, notices) that the ledger does not hold. A round whose write fails is not
 * applied and not announced; the round stays open and the daemon closes it again at its next
 * tick with the bids in force then.
 *
 * Billing (docs/units.md): a holding is charged its mechanism payment rate (nanodollars per
 * hour) for the round length, money_charge(payment, 1, round_ns); metered egress is charged
 * the host's egress price (nanodollars per Gbit) for the bytes metered since the last billed
 * reading, bytes x price / 1.25e8. Each allocation row carries its hold charge; egress is one
 * row per tenant and host; the round's revenue is their sum less the credits the round
 * writes, which the ledger checks before it writes.
 *
 * Money follows enforcement (settle.c): a bid whose host's agent cannot enforce its tenant
 * is left out before anything is charged (its bid says why); what was charged but not in
 * force is credited at a later close. Removals the operator asked for are finished here, in
 * the round's own transaction (registry.c). */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/error.h"
#include "common/log.h"
#include "market_internal.h"

/* Bytes per Gbit / 8: charge = bytes x price (per Gbit) / 125,000,000. */
#define BYTES_PER_GBIT INT64_C(125000000)

/* Growable arrays of the round's rows. */
struct rows {
	struct ledger_price_row *prices;
	size_t nprices, capprices;
	struct ledger_alloc_row *allocs;
	struct mkt_bid **alloc_bids; /* parallel to allocs */
	size_t nallocs, capallocs;
	struct ledger_egress_row *egress;
	size_t negress, capegress;
	struct ledger_meter_row *meters;
	struct mkt_meter **meter_src; /* parallel to meters */
	size_t nmeters, capmeters;
	int64_t bids;
};

static void rows_free(struct rows *r)
{
	free(r->prices);
	free(r->allocs);
	free(r->alloc_bids);
	free(r->egress);
	free(r->meters);
	free(r->meter_src);
}

/* Makes room for one more element of an array (v, n, cap) of elem bytes; an empty array
 * gets room for first. */
static int reserve_n(void **v, size_t n, size_t *cap, size_t elem, size_t first)
{
	if (n < *cap)
		return 0;
	size_t c = *cap ? *cap * 2 : first;
	void *p = realloc(*v, c * elem);
	if (!p)
		return -ENOMEM;
	*v = p;
	*cap = c;
	return 0;
}

static int reserve(void **v, size_t n, size_t *cap, size_t elem)
{
	return reserve_n(v, n, cap, elem, 64);
}

/* Makes room for one more allocation row and its bid (two parallel arrays). */
static int grow_allocs(struct rows *r)
{
	size_t cap = r->capallocs;

	if (r->nallocs < cap)
		return 0;
	if (reserve((void **)&r->allocs, r->nallocs, &cap, sizeof(*r->allocs)))
		return -ENOMEM;
	struct mkt_bid **v = realloc(r->alloc_bids, cap * sizeof(*v));
	if (!v)
		return -ENOMEM;
	r->alloc_bids = v;
	r->capallocs = cap;
	return 0;
}

/* The same for meter rows and their sources. */
static int grow_meters(struct rows *r)
{
	size_t cap = r->capmeters;

	if (r->nmeters < cap)
		return 0;
	if (reserve((void **)&r->meters, r->nmeters, &cap, sizeof(*r->meters)))
		return -ENOMEM;
	struct mkt_meter **v = realloc(r->meter_src, cap * sizeof(*v));
	if (!v)
		return -ENOMEM;
	r->meter_src = v;
	r->capmeters = cap;
	return 0;
}

static int push_bid(struct mkt_pool *p, struct mkt_bid *b)
{
	if (reserve((void **)&p->round_bids, p->nround_bids, &p->capround_bids,
		    sizeof(*p->round_bids)))
		return -ENOMEM;
	p->round_bids[p->nround_bids++] = b;
	return 0;
}

/* Whether pool p takes bids this round: its host (when it is a host agent's) is not being
 * removed. */
static bool pool_open(struct market *m, const struct mkt_pool *p)
{
	const struct mkt_host *h = p->row.from_config ? NULL : market__host(m, p->row.host);

	return !h || h->row.status == LEDGER_ACTIVE;
}

/* Whether tenant t may clear in pool p: its host's agent can enforce t. */
static bool pool_maps(struct market *m, const struct mkt_pool *p, const struct mkt_tenant *t)
{
	const struct mkt_host *h = p->row.from_config ? NULL : market__host(m, p->row.host);

	return !h || market__host_maps(h, t->row.name);
}

/* The cheapest pool of each resource with supply (where "any host" bids go). */
static void cheapest_pools(struct market *m, struct mkt_pool *cheapest[MCFG_RESOURCES])
{
	money_t best[MCFG_RESOURCES] = {0};

	memset(cheapest, 0, MCFG_RESOURCES * sizeof(*cheapest));
	for (size_t i = 0; i < m->npools; i++) {
		struct mkt_pool *p = m->pools[i];
		int r = p->row.resource;
		if (r <= 0 || r >= MCFG_RESOURCES || p->row.supply <= 0 || !pool_open(m, p))
			continue;
		money_t price = market__posted_price(m, p);
		if (!cheapest[r] || price < best[r]) {
			cheapest[r] = p;
			best[r] = price;
		}
	}
}

/* The cheapest open pool of resource r that can enforce t, for an any-host bid whose
 * cheapest pool cannot (a scan: only tenants some host does not map pay for it). */
static struct mkt_pool *cheapest_for(struct market *m, int r, const struct mkt_tenant *t)
{
	struct mkt_pool *best = NULL;
	money_t best_price = 0;

	for (size_t i = 0; i < m->npools; i++) {
		struct mkt_pool *p = m->pools[i];
		if (p->row.resource != r || p->row.supply <= 0 || !pool_open(m, p) ||
		    !pool_maps(m, p, t))
			continue;
		money_t price = market__posted_price(m, p);
		if (!best || price < best_price) {
			best = p;
			best_price = price;
		}
	}
	return best;
}

/* The pool of a host-specific bid, cached in the bid until a pool is added. */
static struct mkt_pool *bid_pool(struct market *m, struct mkt_bid *b)
{
	if (b->pools_gen != m->pools_gen) {
		b->host_pool = market__pool(m, b->row.host, b->row.resource);
		b->pools_gen = m->pools_gen;
	}
	return b->host_pool;
}

static int cmp_bid_version(const void *a, const void *b)
{
	int64_t x = (*(struct mkt_bid *const *)a)->row.id, y = (*(struct mkt_bid *const *)b)->row.id;
	return x < y ? -1 : x > y;
}

/* Puts every standing bid in force into the pool it clears in. A tenant with a budget takes
 * part with the bids (oldest version first) whose worst round still fits what is left of
 * it. */
static int gather(struct market *m, struct rows *rows)
{
	struct mkt_pool *cheapest[MCFG_RESOURCES];

	cheapest_pools(m, cheapest);
	for (size_t i = 0; i < m->npools; i++)
		m->pools[i]->nround_bids = 0;
	for (size_t k = 0; k < m->tenants_by_id.cap; k++) {
		if (m->tenants_by_id.slots[k].hash <= 1)
			continue;
		struct mkt_tenant *t = m->tenants_by_id.slots[k].value;
		money_t left = MONEY_MAX;
		struct mkt_bid *order[MARKET_TENANT_BIDS_MAX], **bids = t->bids;
		if (t->row.budget >= 0) {
			if (money_sub(t->row.budget, t->row.charged, &left) != 0)
				left = 0;
			if (t->nbids > 1 && t->nbids <= MARKET_TENANT_BIDS_MAX) {
				memcpy(order, t->bids, t->nbids * sizeof(*order));
				qsort(order, t->nbids, sizeof(*order), cmp_bid_version);
				bids = order;
			}
		}
		for (size_t j = 0; j < t->nbids; j++) {
			struct mkt_bid *b = bids[j];
			struct mkt_pool *p;
			b->pool = NULL;
			if (t->row.status != LEDGER_ACTIVE) {
				snprintf(b->refused, sizeof(b->refused), "tenant %s is being removed",
					 t->row.name);
				continue;
			}
			if (b->worst_round > left) {
				char m1[MONEY_TEXT_MAX], m2[MONEY_TEXT_MAX];
				log_debug("market: round %llu: %s's bid %s sits out (budget)",
					  (unsigned long long)m->open_round, t->row.name,
					  b->row.bid_id);
				snprintf(b->refused, sizeof(b->refused),
					 "budget: a round could cost %s, %s is left",
					 money_format(b->worst_round, m1), money_format(left, m2));
				continue;
			}
			if (t->row.budget >= 0)
				left -= b->worst_round;
			if (b->row.host[0])
				p = bid_pool(m, b);
			else if (b->held_pool && b->held > 0 && pool_open(m, b->held_pool) &&
				 pool_maps(m, b->held_pool, t))
				p = b->held_pool;
			else
				p = b->row.resource > 0 && b->row.resource < MCFG_RESOURCES
					    ? cheapest[b->row.resource]
					    : NULL;
			if (p && !b->row.host[0] && !pool_maps(m, p, t))
				p = cheapest_for(m, b->row.resource, t);
			if (!p) {
				snprintf(b->refused, sizeof(b->refused), "%s",
					 b->row.host[0] ? "no such pool on that host"
							: "no pool whose host can enforce it");
				continue;
			}
			if (!pool_open(m, p)) {
				snprintf(b->refused, sizeof(b->refused), "host %s is being removed",
					 p->row.host);
				continue;
			}
			if (!pool_maps(m, p, t)) {
				/* Refused before anything is charged: an allocation there would not
				 * be enforced. */
				market__unmapped_reason(market__host(m, p->row.host), t->row.name,
							b->refused, sizeof(b->refused));
				continue;
			}
			b->refused[0] = '\0';
			b->pool = p;
			if (push_bid(p, b))
				return -ENOMEM;
			rows->bids++;
		}
	}
	return 0;
}

/* Clears one pool: pm_clear on its bids, then price, allocation and charge rows. */
static int clear_pool(struct market *m, struct mkt_pool *p, struct rows *rows, int64_t *clear_ns)
{
	size_t n = p->nround_bids, nseg = 0, nrange = 0;
	struct pm_bid *bids = calloc(n ? n : 1, sizeof(*bids));
	struct pm_outcome *outcomes = calloc(n ? n : 1, sizeof(*outcomes));
	struct pm_segment *segs;
	struct pm_range *ranges;
	struct pm_result result;
	struct pm_error pe = {{0}};
	struct pm_pool pool;
	int err = 0;

	for (size_t i = 0; i < n; i++) {
		nseg += p->round_bids[i]->row.ncurve;
		nrange += p->round_bids[i]->row.nranges;
	}
	segs = calloc(nseg ? nseg : 1, sizeof(*segs));
	ranges = calloc(nrange ? nrange : 1, sizeof(*ranges));
	if (!bids || !outcomes || !segs || !ranges) {
		err = -ENOMEM;
		goto out;
	}
	nseg = nrange = 0;
	for (size_t i = 0; i < n; i++) {
		const struct mkt_bid *b = p->round_bids[i];
		market__pm_bid(b, &bids[i], segs + nseg, ranges + nrange);
		nseg += b->row.ncurve;
		nrange += b->row.nranges;
	}
	market__pm_pool(m, p, m->open_round, &pool);
	memset(&result, 0, sizeof(result));
	result.outcomes = outcomes;
	err = pm_clear(p->pm, &pool, bids, n, &result, &pe);
	if (err) {
		/* The bids were checked at the door; a model that still fails allocates nothing
		 * this round and keeps its price, and says why. */
		log_error("market: round %llu: pool %s/%s: %s: %s",
			  (unsigned long long)m->open_round, p->row.host,
			  wire_resource_name(p->row.resource), pm_instance_model(p->pm)->name,
			  pe.message);
		memset(outcomes, 0, (n ? n : 1) * sizeof(*outcomes));
		memset(&result, 0, sizeof(result));
		result.price = market__posted_price(m, p);
		err = 0;
	}
	*clear_ns += result.clear_ns;

	if (reserve((void **)&rows->prices, rows->nprices, &rows->capprices,
		    sizeof(*rows->prices))) {
		err = -ENOMEM;
		goto out;
	}
	rows->prices[rows->nprices++] = (struct ledger_price_row){
		.pool = p->row.id,
		.unit_price = result.price,
		.supply = p->row.supply,
		.allocated = result.allocated,
		.revenue_per_hour = result.revenue,
		.welfare_per_hour = result.welfare,
		.bids = (int64_t)n,
		.clear_ns = result.clear_ns,
	};

	for (size_t i = 0; i < n && !err; i++) {
		struct mkt_bid *b = p->round_bids[i];
		money_t charge;
		if (outcomes[i].quantity <= 0)
			continue;
		if (grow_allocs(rows) ||
		    money_charge(outcomes[i].payment, 1, m->cfg->round_ns, &charge) != 0) {
			err = -ENOMEM;
			break;
		}
		rows->alloc_bids[rows->nallocs] = b;
		struct ledger_alloc_row *a = &rows->allocs[rows->nallocs++];
		*a = (struct ledger_alloc_row){
			.pool = p->row.id,
			.tenant = b->tenant->row.id,
			.bid = b->row.id,
			.quantity = outcomes[i].quantity,
			.unit_price = result.price,
			.payment_per_hour = outcomes[i].payment,
			.charge = charge,
		};
		snprintf(a->bid_id, sizeof(a->bid_id), "%s", b->row.bid_id);
	}
out:
	free(bids);
	free(outcomes);
	free(segs);
	free(ranges);
	return err;
}

/* Egress: bill what each host metered since the last billed reading. */
static int bill_egress(struct market *m, struct rows *rows)
{
	for (size_t i = 0; i < m->nmeters; i++) {
		struct mkt_meter *mt = &m->meters[i];
		if (!mt->has_pending)
			continue;
		/* A reading below the last one: the agent restarted its counters. A refused one
		 * (hosts.c: the tenant holds nothing there) only moves the baseline. */
		uint64_t delta = mt->pending_free	  ? 0
				 : mt->pending >= mt->billed ? mt->pending - mt->billed
							     : mt->pending;
		struct mkt_pool *p = market__pool(m, mt->host, RAAS__RESOURCE__RESOURCE_EGRESS);
		if (p && delta > 0) {
			money_t price = market__posted_price(m, p), amount;
			int err = money_muldiv(price, (int64_t)(delta > INT64_MAX ? INT64_MAX : delta),
					       BYTES_PER_GBIT, MONEY_ROUND_NEAREST, &amount);
			if (err)
				return err;
			if (reserve((void **)&rows->egress, rows->negress, &rows->capegress,
				    sizeof(*rows->egress)))
				return -ENOMEM;
			rows->egress[rows->negress++] = (struct ledger_egress_row){
				mt->tenant, p->row.id, (int64_t)(delta > INT64_MAX ? INT64_MAX : delta),
				amount};
		}
		if (grow_meters(rows))
			return -ENOMEM;
		struct ledger_meter_row *row = &rows->meters[rows->nmeters];
		memset(row, 0, sizeof(*row));
		snprintf(row->host, sizeof(row->host), "%s", mt->host);
		row->tenant = mt->tenant;
		row->tx_bytes = mt->pending;
		rows->meter_src[rows->nmeters++] = mt;
	}
	return 0;
}

/* Credits of the round into each tenant's total and its notice. */
static int apply_credits(struct market *m, const struct mkt_settle *st)
{
	for (size_t i = 0; i < st->ncredits; i++) {
		const struct ledger_credit_row *c = &st->credits[i];
		struct mkt_tenant *t = hmap_get_i64(&m->tenants_by_id, c->tenant);
		if (!t)
			continue;
		t->row.charged -= c->amount;
		t->last_charge -= c->amount;
		t->last_credit += c->amount;
		if (reserve((void **)&t->credits, t->ncredits, &t->capcredits, sizeof(*t->credits)))
			return -ENOMEM;
		t->credits[t->ncredits++] = *c;
		t->notify = true;
	}
	return 0;
}

/* After the write: memory follows the ledger. */
static int apply(struct market *m, const struct rows *rows, int64_t closed_wall)
{
	for (size_t i = 0; i < rows->nprices; i++)
		for (size_t k = 0; k < m->npools; k++)
			if (m->pools[k]->row.id == rows->prices[i].pool) {
				m->pools[k]->price = rows->prices[i].unit_price;
				m->pools[k]->allocated = rows->prices[i].allocated;
				m->pools[k]->priced = true;
				break;
			}
	for (size_t k = 0; k < m->tenants_by_id.cap; k++) {
		if (m->tenants_by_id.slots[k].hash <= 1)
			continue;
		struct mkt_tenant *t = m->tenants_by_id.slots[k].value;
		/* Held something last round: the next notice says what is left, even nothing. */
		t->notify = t->nholdings > 0;
		t->nholdings = 0;
		t->last_charge = 0;
		t->last_credit = 0;
		t->ncredits = 0;
		for (size_t j = 0; j < t->nbids; j++) {
			t->bids[j]->held = 0;
			t->bids[j]->held_pool = t->bids[j]->pool;
		}
	}
	for (size_t i = 0; i < rows->nallocs; i++) {
		struct mkt_bid *b = rows->alloc_bids[i];
		struct mkt_tenant *t = b->tenant;
		if (reserve_n((void **)&t->holdings, t->nholdings, &t->capholdings,
			      sizeof(*t->holdings), 2))
			return -ENOMEM;
		struct mkt_holding *h = &t->holdings[t->nholdings++];
		memset(h, 0, sizeof(*h));
		h->pool = b->pool;
		h->bid = b->row.id;
		snprintf(h->bid_id, sizeof(h->bid_id), "%s", b->row.bid_id);
		h->quantity = rows->allocs[i].quantity;
		h->unit_price = rows->allocs[i].unit_price;
		h->payment_per_hour = rows->allocs[i].payment_per_hour;
		b->held = h->quantity;
		b->held_pool = b->pool;
	}
	for (size_t i = 0; i < rows->nallocs; i++) {
		struct mkt_tenant *t = rows->alloc_bids[i]->tenant;
		t->row.charged += rows->allocs[i].charge;
		t->last_charge += rows->allocs[i].charge;
	}
	for (size_t i = 0; i < rows->negress; i++) {
		struct mkt_tenant *t = hmap_get_i64(&m->tenants_by_id, rows->egress[i].tenant);
		if (!t)
			continue;
		t->row.charged += rows->egress[i].amount;
		t->last_charge += rows->egress[i].amount;
	}
	for (size_t i = 0; i < rows->nmeters; i++) {
		rows->meter_src[i]->billed = rows->meters[i].tx_bytes;
		rows->meter_src[i]->has_pending = false;
		rows->meter_src[i]->pending_free = false;
	}
	m->open_round++;
	m->round_start_wall_ns = closed_wall;
	return market__index_holdings(m);
}

/* ---- Announcements ---- */

static void publish_prices(struct market *m, int64_t closed_wall, struct market_outbox *out)
{
	for (size_t i = 0; i < m->npools; i++) {
		struct mkt_pool *p = m->pools[i];
		Raas__Envelope e;
		Raas__PriceUpdate u = RAAS__PRICE_UPDATE__INIT;
		char topic[TP_TOPIC_MAX];

		wire_envelope_init(&e, 0);
		u.round = m->open_round - 1;
		u.resource = p->row.resource;
		u.host = p->row.host;
		u.unit_price = p->row.resource == RAAS__RESOURCE__RESOURCE_EGRESS
				       ? market__posted_price(m, p)
				       : p->price;
		u.round_ns = m->cfg->round_ns;
		u.next_round_wall_ns = m->next_close_wall_ns;
		u.published_wall_ns = clk_wall(m->clock);
		u.supply = p->row.supply;
		u.allocated = p->allocated;
		u.closed_wall_ns = closed_wall;
		e.body_case = RAAS__ENVELOPE__BODY_PRICE;
		e.price = &u;
		snprintf(topic, sizeof(topic), "price/%s/%s", wire_resource_name(p->row.resource),
			 p->row.host);
		market__push_env(out, MARKET_PUBLISH, NULL, topic, &e, false, 0);
	}
}

void market__push_allocation_set(struct market *m, struct mkt_host *h,
				 struct market_outbox *out)
{
	size_t n = 0, cap = 0;
	Raas__Allocation *allocs = NULL, **ptrs = NULL;
	Raas__Envelope e;
	Raas__AllocationSet set = RAAS__ALLOCATION_SET__INIT;

	if (!h->connected)
		return;
	for (size_t i = 0; i < m->npools; i++) {
		struct mkt_pool *p = m->pools[i];
		if (strcmp(p->row.host, h->row.name) != 0)
			continue;
		for (size_t j = 0; j < p->nheld; j++) {
			if (n == cap) {
				cap = cap ? cap * 2 : 16;
				Raas__Allocation *na = realloc(allocs, cap * sizeof(*na));
				if (!na)
					goto out;
				allocs = na;
			}
			const struct mkt_pool_holding *ph = &p->held[j];
			market__allocation(ph->tenant, &ph->tenant->holdings[ph->index], &allocs[n++]);
		}
	}
	ptrs = calloc(n ? n : 1, sizeof(*ptrs));
	if (!ptrs)
		goto out;
	for (size_t i = 0; i < n; i++)
		ptrs[i] = &allocs[i];
	wire_envelope_init(&e, 0);
	set.round = m->open_round - 1;
	set.host = h->row.name;
	set.effective_wall_ns = m->round_start_wall_ns;
	set.allocations = ptrs;
	set.n_allocations = n;
	e.body_case = RAAS__ENVELOPE__BODY_ALLOCATION_SET;
	e.allocation_set = &set;
	market__push_env(out, MARKET_TO_HOST, &h->route, NULL, &e, false, 0);
out:
	free(allocs);
	free(ptrs);
}

static void push_notices(struct market *m, struct market_outbox *out)
{
	Raas__Allocation *allocs = NULL, **ptrs = NULL;
	size_t cap = 0;

	for (size_t k = 0; k < m->tenants_by_id.cap; k++) {
		if (m->tenants_by_id.slots[k].hash <= 1)
			continue;
		struct mkt_tenant *t = m->tenants_by_id.slots[k].value;
		/* Only where something changed: a holding (held now or last round: each round
		 * is charged, so a holder hears every round) or a credit. A tenant whose bids
		 * won nothing again hears nothing again; prices are on the feed. */
		if (!t->nroutes || !(t->notify || t->nholdings || t->ncredits))
			continue;
		if (t->nholdings > cap) {
			cap = t->nholdings * 2;
			Raas__Allocation *na = realloc(allocs, cap * sizeof(*na));
			Raas__Allocation **np = realloc(ptrs, cap * sizeof(*np));
			if (na)
				allocs = na;
			if (np)
				ptrs = np;
			if (!na || !np)
				break;
		}
		for (size_t j = 0; j < t->nholdings; j++) {
			market__allocation(t, &t->holdings[j], &allocs[j]);
			ptrs[j] = &allocs[j];
		}
		Raas__Envelope e;
		Raas__AllocationNotice notice = RAAS__ALLOCATION_NOTICE__INIT;
		wire_envelope_init(&e, 0);
		notice.round = m->open_round - 1;
		notice.holdings = ptrs;
		notice.n_holdings = t->nholdings;
		notice.charged = t->last_charge;
		notice.balance = t->row.budget < 0 ? -1 : t->row.budget - t->row.charged;
		notice.credited = t->last_credit;
		Raas__Credit cr[16], *crp[16];
		size_t nc = t->ncredits < 16 ? t->ncredits : 16; /* the sum covers all */
		for (size_t j = 0; j < nc; j++) {
			const struct ledger_credit_row *c = &t->credits[j];
			struct mkt_pool *cp = NULL;
			for (size_t q = 0; q < m->npools && !cp; q++)
				if (m->pools[q]->row.id == c->pool)
					cp = m->pools[q];
			raas__credit__init(&cr[j]);
			cr[j].round = c->round;
			cr[j].resource = cp ? cp->row.resource : 0;
			cr[j].host = cp ? cp->row.host : (char *)"";
			cr[j].quantity = c->quantity;
			cr[j].amount = c->amount;
			cr[j].reason = (char *)c->reason;
			crp[j] = &cr[j];
		}
		notice.credits = crp;
		notice.n_credits = nc;
		e.body_case = RAAS__ENVELOPE__BODY_NOTICE;
		e.notice = &notice;
		uint8_t *buf;
		size_t len;
		if (wire_encode(&e, &buf, &len) != 0)
			continue;
		for (size_t r = 0; r < t->nroutes; r++) {
			uint8_t *copy = r + 1 < t->nroutes ? malloc(len) : buf;
			if (!copy)
				break;
			if (copy != buf)
				memcpy(copy, buf, len);
			if (market__push(out, MARKET_TO_TENANT, &t->routes[r], NULL, copy, len, 0,
					 false, t->row.id))
				free(copy);
		}
	}
	free(allocs);
	free(ptrs);
}

/* What the round's transaction writes beside its rows: settlements, removals. */
struct round_extra {
	struct market *m;
	const struct mkt_settle *settle;
	uint64_t round;
	int64_t now_wall;
};

/* Whether anything of tenant t (or, with host, on host) is still to settle, the settlements
 * of this close left aside. */
static bool pending_left(const struct market *m, const struct mkt_settle *st, int64_t tenant,
			 const char *host)
{
	for (size_t i = 0; i < m->npending; i++) {
		bool settling = false;
		for (size_t k = 0; k < st->nsettled; k++)
			settling = settling || st->settled[k] == i;
		if (settling)
			continue;
		const struct mkt_pending *p = &m->pending[i];
		if (host && strcmp(p->host, host) == 0)
			return true;
		for (size_t j = 0; !host && j < p->nallocs; j++)
			if (p->allocs[j].tenant == tenant)
				return true;
	}
	return false;
}

static int write_extra(void *arg, struct ledger *l)
{
	struct round_extra *x = arg;
	struct market *m = x->m;
	int64_t last = (int64_t)x->round - 1;
	int err = market__settle_write(m, x->settle, x->round);

	for (size_t k = 0; !err && k < m->tenants_by_id.cap; k++) {
		if (m->tenants_by_id.slots[k].hash <= 1)
			continue;
		struct mkt_tenant *t = m->tenants_by_id.slots[k].value;
		if (t->row.status != LEDGER_REMOVING)
			continue;
		/* Its bids took no part in this round: they were last in force in the last. */
		int n = ledger_bids_end_tenant(l, t->row.id, last);
		if (n < 0)
			err = n;
		else if (!pending_left(m, x->settle, t->row.id, NULL))
			err = ledger_tenant_set_status(l, t->row.id, LEDGER_REMOVED, last,
						       x->now_wall);
	}
	for (size_t k = 0; !err && k < m->hosts_by_name.cap; k++) {
		if (m->hosts_by_name.slots[k].hash <= 1)
			continue;
		struct mkt_host *h = m->hosts_by_name.slots[k].value;
		if (h->row.status != LEDGER_REMOVING)
			continue;
		for (size_t i = 0; !err && i < m->npools; i++) {
			struct ledger_pool row = m->pools[i]->row;
			if (strcmp(row.host, h->row.name) != 0 || row.supply == 0)
				continue;
			row.supply = 0;
			err = ledger_pool_put(l, &row);
		}
		if (!err && !pending_left(m, x->settle, 0, h->row.name))
			err = ledger_host_set_status(l, h->row.id, LEDGER_REMOVED, last, x->now_wall);
	}
	return err;
}

/* After the commit: removals in memory (what write_extra wrote). */
static void apply_removals(struct market *m, const struct mkt_settle *st, uint64_t round)
{
	for (size_t k = 0; k < m->tenants_by_id.cap; k++) {
		if (m->tenants_by_id.slots[k].hash <= 1)
			continue;
		struct mkt_tenant *t = m->tenants_by_id.slots[k].value;
		if (t->row.status != LEDGER_REMOVING)
			continue;
		while (t->nbids)
			market__bid_detach(t, t->bids[t->nbids - 1]);
		if (!pending_left(m, st, t->row.id, NULL)) {
			t->row.status = LEDGER_REMOVED;
			t->row.removed_round = (int64_t)round - 1;
			log_info("market: tenant %s removed after round %llu (charged %lld "
				 "nanodollars in all)",
				 t->row.name, (unsigned long long)round - 1, (long long)t->row.charged);
		}
	}
	for (size_t k = 0; k < m->hosts_by_name.cap; k++) {
		if (m->hosts_by_name.slots[k].hash <= 1)
			continue;
		struct mkt_host *h = m->hosts_by_name.slots[k].value;
		if (h->row.status != LEDGER_REMOVING)
			continue;
		for (size_t i = 0; i < m->npools; i++)
			if (strcmp(m->pools[i]->row.host, h->row.name) == 0)
				m->pools[i]->row.supply = 0;
		if (!pending_left(m, st, 0, h->row.name)) {
			h->row.status = LEDGER_REMOVED;
			h->row.removed_round = (int64_t)round - 1;
			h->connected = false;
			log_info("market: host %s removed after round %llu", h->row.name,
				 (unsigned long long)round - 1);
		}
	}
}

int market_round_close(struct market *m, struct market_outbox *out)
{
	struct rows rows;
	struct mkt_settle settle;
	int64_t closed_wall = clk_wall(m->clock), clear_ns = 0;
	int64_t t0 = clk_mono(&clk_real), t1, t2;
	uint64_t round = m->open_round;
	int err;

	if (m->in_batch)
		return -EBUSY;
	market__registry_refresh(m);
	if (closed_wall < m->round_start_wall_ns)
		closed_wall = m->round_start_wall_ns; /* the wall clock stepped back */
	memset(&rows, 0, sizeof(rows));
	memset(&settle, 0, sizeof(settle));
	int64_t tp = t0;
	market__prof_add(m, MARKET_ST_CHECK, &tp, 0); /* the registry's refresh */
	err = gather(m, &rows);
	for (size_t i = 0; i < m->npools && !err; i++)
		if (m->pools[i]->row.resource != RAAS__RESOURCE__RESOURCE_EGRESS)
			err = clear_pool(m, m->pools[i], &rows, &clear_ns);
	market__prof_add(m, MARKET_ST_CLEAR, &tp, (uint64_t)rows.bids);
	if (!err)
		err = bill_egress(m, &rows);
	bool round_pending = false;
	for (size_t i = 0; i < rows.nallocs && !round_pending; i++)
		round_pending = !rows.alloc_bids[i]->pool->row.from_config;
	if (!err)
		err = market__settle_collect(m, closed_wall, round, round_pending, &settle);
	t1 = clk_mono(&clk_real);

	money_t revenue = 0, credited = 0;
	for (size_t i = 0; i < rows.nallocs && !err; i++)
		err = money_add(revenue, rows.allocs[i].charge, &revenue);
	for (size_t i = 0; i < rows.negress && !err; i++)
		err = money_add(revenue, rows.egress[i].amount, &revenue);
	for (size_t i = 0; i < settle.ncredits && !err; i++)
		err = money_add(credited, settle.credits[i].amount, &credited);
	if (!err)
		err = money_sub(revenue, credited, &revenue);
	market__prof_add(m, MARKET_ST_BILL, &tp, 1);
	int64_t tc[2];
	market_prof_cpu_start(tc);
	if (!err) {
		struct round_extra extra = {m, &settle, round, closed_wall};
		struct ledger_round r = {
			.round = round,
			.start_wall_ns = m->round_start_wall_ns,
			.end_wall_ns = closed_wall,
			.round_ns = m->cfg->round_ns,
			.revenue = revenue,
			.bids = rows.bids,
			.prices = rows.prices,
			.nprices = rows.nprices,
			.allocs = rows.allocs,
			.nallocs = rows.nallocs,
			.egress = rows.egress,
			.negress = rows.negress,
			.meters = rows.meters,
			.nmeters = rows.nmeters,
			.credits = settle.credits,
			.ncredits = settle.ncredits,
			.prune_requests_before_wall_ns =
				closed_wall - m->cfg->request_retention_ns,
			.extra = write_extra,
			.extra_arg = &extra,
		};
		err = ledger_round_write(m->ledger, &r);
	}
	t2 = clk_mono(&clk_real);
	market_prof_cpu_stop(&m->prof, MARKET_ST_LEDGER, tc);
	tp = t2;
	if (err) {
		m->stats.rounds_failed++;
		log_error("market: round %llu not closed: %s; it stays open",
			  (unsigned long long)m->open_round, raas_strerror(err));
		rows_free(&rows);
		market__settle_free(&settle);
		return err;
	}
	/* Each allocation's pool, taken before memory moves on (removals free bids). */
	struct mkt_pool **pools = malloc((rows.nallocs ? rows.nallocs : 1) * sizeof(*pools));
	for (size_t i = 0; pools && i < rows.nallocs; i++)
		pools[i] = rows.alloc_bids[i]->pool;
	err = pools ? apply(m, &rows, closed_wall) : -ENOMEM;
	if (!err)
		err = apply_credits(m, &settle);
	apply_removals(m, &settle, round);
	market__settle_apply(m, &settle);
	if (!err && round_pending)
		err = market__pending_add_round(m, round, rows.allocs, pools, rows.nallocs,
						closed_wall);
	free(pools);
	m->stats.last_allocs = rows.nallocs;
	m->stats.last_bids = (uint64_t)rows.bids;
	m->stats.last_revenue = revenue;
	m->stats.last_credits = settle.ncredits;
	m->stats.last_credited = credited;
	m->stats.pending = m->npending;
	rows_free(&rows);
	market__settle_free(&settle);
	if (err) {
		char why[512];
		log_error("market: applying round %llu: %s; reloading",
			  (unsigned long long)m->open_round - 1, raas_strerror(err));
		market__load(m, why, sizeof(why));
	}
	m->stats.rounds++;
	m->stats.last_clear_ns = clear_ns;
	m->stats.last_write_ns = t2 - t1;
	m->stats.last_close_ns = t2 - t0;

	market__prof_add(m, MARKET_ST_BILL, &tp, 0);

	/* Persisted: now announce. Prices first, they are what everyone waits for. */
	size_t before = out->n;
	publish_prices(m, closed_wall, out);
	for (size_t k = 0; k < m->hosts_by_name.cap; k++)
		if (m->hosts_by_name.slots[k].hash > 1)
			market__push_allocation_set(m, m->hosts_by_name.slots[k].value, out);
	push_notices(m, out);
	market__prof_add(m, MARKET_ST_ENCODE, &tp, out->n - before);
	return 0;
}
