/* market_check.c: the core's invariants (market.h design notes), checked against the ledger
 * and within memory; the tests and the fuzz target call market_check() after every step. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "market_internal.h"

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
