/* settle.c: money follows enforcement: settling each round's allocations on host agents'
 * pools against what the hosts say they enforced (ledger.h invariant 7).
 *
 * A round is charged when it closes, before any host has seen it; whether the allocations
 * were in force is known only later, from the host's AllocationAck (or, for a host that was
 * out of reach and kept enforcing what it had, from its HostRegister when it is back: the
 * fail-static carry-over). So every (round, host) with allocations on the host's pools is
 * pending from the round's close until
 *   - the host acknowledged it (settled "acknowledged": each allocation the host reports it
 *     could not apply is credited, with the host's reason), or told at registration what it
 *     kept enforcing ("carried over": each allocation that enforcement did not cover is
 *     credited), or
 *   - ack_timeout passed since the round's close, with the market up at least that long
 *     (hosts get the same time to come back after a market restart): settled "not
 *     acknowledged", everything credited.
 * Settlements and credits are written in the transaction of the round that closes next, so
 * a round's revenue stays the sum of its charges (credits count negative), and a tenant's
 * notice of that round lists them. Config-declared pools (a market without host agents)
 * have no host to ask and are not settled. The pending list is memory rebuilt from the ledger
 * at start and after a failed batch (market__pending_load). */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/error.h"
#include "common/log.h"
#include "market_internal.h"

struct mkt_pending *market__pending_find(struct market *m, uint64_t round, const char *host)
{
	for (size_t i = 0; i < m->npending; i++)
		if (m->pending[i].round == round && strcmp(m->pending[i].host, host) == 0)
			return &m->pending[i];
	return NULL;
}

static void pending_fini(struct mkt_pending *p)
{
	free(p->failures);
	free(p->allocs);
}

void market__pending_clear(struct market *m)
{
	for (size_t i = 0; i < m->npending; i++)
		pending_fini(&m->pending[i]);
	free(m->pending);
	m->pending = NULL;
	m->npending = m->cappending = 0;
}

static struct mkt_pending *pending_get(struct market *m, uint64_t round, const char *host,
				       int64_t deadline)
{
	struct mkt_pending *p = market__pending_find(m, round, host);

	if (p)
		return p;
	if (m->npending == m->cappending) {
		size_t cap = m->cappending ? m->cappending * 2 : 16;
		struct mkt_pending *v = realloc(m->pending, cap * sizeof(*v));
		if (!v)
			return NULL;
		m->pending = v;
		m->cappending = cap;
	}
	p = &m->pending[m->npending++];
	memset(p, 0, sizeof(*p));
	p->round = round;
	snprintf(p->host, sizeof(p->host), "%s", host);
	p->deadline_wall_ns = deadline;
	return p;
}

static int pending_push(struct mkt_pending *p, const struct mkt_pending_alloc *a)
{
	if (p->nallocs == p->capallocs) {
		size_t cap = p->capallocs ? p->capallocs * 2 : 8;
		struct mkt_pending_alloc *v = realloc(p->allocs, cap * sizeof(*v));
		if (!v)
			return -ENOMEM;
		p->allocs = v;
		p->capallocs = cap;
	}
	p->allocs[p->nallocs++] = *a;
	return 0;
}

int market__pending_add_round(struct market *m, uint64_t round,
			      const struct ledger_alloc_row *allocs,
			      struct mkt_pool *const *pools, size_t n, int64_t closed_wall_ns)
{
	for (size_t i = 0; i < n; i++) {
		const struct ledger_alloc_row *a = &allocs[i];
		struct mkt_pool *pool = pools[i];
		if (!pool || pool->row.from_config)
			continue; /* nobody to ask: charged as cleared */
		struct mkt_tenant *t = hmap_get_i64(&m->tenants_by_id, a->tenant);
		if (!t)
			continue;
		struct mkt_pending *p = pending_get(m, round, pool->row.host,
						    closed_wall_ns + m->cfg->ack_timeout_ns);
		if (!p)
			return -ENOMEM;
		struct mkt_pending_alloc pa = {
			.pool = a->pool,
			.bid = a->bid,
			.tenant = a->tenant,
			.resource = pool->row.resource,
			.quantity = a->quantity,
			.charge = a->charge,
		};
		snprintf(pa.tenant_name, sizeof(pa.tenant_name), "%s", t->row.name);
		if (pending_push(p, &pa))
			return -ENOMEM;
	}
	return 0;
}

void market__pending_ack(struct market *m, uint64_t round, const char *host, int kind,
			 const struct ledger_ack_failure *f, size_t nf)
{
	struct mkt_pending *p = market__pending_find(m, round, host);

	if (p && p->acked)
		return; /* the first one stands */
	/* The dashboards' failure log also holds failures of rounds nothing waits on (a pool
	 * from the config is charged as cleared): the operator still wants to see them. */
	for (size_t i = 0; i < nf; i++) {
		struct mkt_failure *l = &m->failure_log[m->nfailures_logged++ % MARKET_FAILURE_LOG];
		l->round = round;
		snprintf(l->host, sizeof(l->host), "%s", host);
		l->f = f[i];
	}
	if (!p)
		return; /* settled already, or nothing allocated there */
	p->acked = true;
	p->ack_kind = kind;
	if (nf) {
		p->failures = malloc(nf * sizeof(*f));
		if (p->failures) {
			memcpy(p->failures, f, nf * sizeof(*f));
			p->nfailures = nf;
		} else {
			/* Without the list, credit everything: never charge on a doubt. */
			p->failures = calloc(1, sizeof(*f));
			if (p->failures)
				p->nfailures = 1;
		}
	}
}

/* The failure of an acknowledgement that covers allocation a, or NULL. */
static const struct ledger_ack_failure *failure_for(const struct mkt_pending *p,
						    const struct mkt_pending_alloc *a)
{
	for (size_t i = 0; i < p->nfailures; i++) {
		const struct ledger_ack_failure *f = &p->failures[i];
		if (!f->tenant[0] ||
		    (f->resource == a->resource && strcmp(f->tenant, a->tenant_name) == 0))
			return f;
	}
	return NULL;
}

static int push_credit(struct mkt_settle *st, const struct mkt_pending *p,
		       const struct mkt_pending_alloc *a, const char *reason)
{
	if (st->ncredits == st->capcredits) {
		size_t cap = st->capcredits ? st->capcredits * 2 : 16;
		struct ledger_credit_row *v = realloc(st->credits, cap * sizeof(*v));
		if (!v)
			return -ENOMEM;
		st->credits = v;
		st->capcredits = cap;
	}
	struct ledger_credit_row *c = &st->credits[st->ncredits++];
	memset(c, 0, sizeof(*c));
	c->round = p->round;
	c->pool = a->pool;
	c->bid = a->bid;
	c->tenant = a->tenant;
	c->quantity = a->quantity;
	c->amount = a->charge;
	snprintf(c->reason, sizeof(c->reason), "%s", reason);
	return 0;
}

int market__settle_collect(struct market *m, int64_t now_wall_ns, uint64_t round,
			   bool round_has_pending, struct mkt_settle *out)
{
	uint64_t first_left = round_has_pending ? round : UINT64_MAX;
	bool hosts_had_time = now_wall_ns - m->up_since_wall_ns >= m->cfg->ack_timeout_ns;
	char reason[LEDGER_REASON_MAX];

	memset(out, 0, sizeof(*out));
	out->settled = calloc(m->npending ? m->npending : 1, sizeof(*out->settled));
	out->outcome = calloc(m->npending ? m->npending : 1, sizeof(*out->outcome));
	if (!out->settled || !out->outcome)
		return -ENOMEM;
	for (size_t i = 0; i < m->npending; i++) {
		const struct mkt_pending *p = &m->pending[i];
		int outcome;
		if (p->acked)
			outcome = p->ack_kind == LEDGER_ACK_CARRY ? LEDGER_SETTLED_CARRIED
								  : LEDGER_SETTLED_ACKED;
		else if (now_wall_ns >= p->deadline_wall_ns && hosts_had_time)
			outcome = LEDGER_SETTLED_TIMEOUT;
		else {
			if (p->round < first_left)
				first_left = p->round;
			continue;
		}
		for (size_t j = 0; j < p->nallocs; j++) {
			const struct mkt_pending_alloc *a = &p->allocs[j];
			const struct ledger_ack_failure *f = NULL;
			if (a->charge <= 0)
				continue;
			if (outcome == LEDGER_SETTLED_TIMEOUT)
				snprintf(reason, sizeof(reason),
					 "host %.63s did not acknowledge round %llu within %lld s",
					 p->host, (unsigned long long)p->round,
					 (long long)(m->cfg->ack_timeout_ns / NS_PER_S));
			else if ((f = failure_for(p, a)) != NULL)
				snprintf(reason, sizeof(reason), "host %.63s, round %llu: %.160s", p->host,
					 (unsigned long long)p->round,
					 f->message[0] ? f->message : "not applied");
			else
				continue;
			if (push_credit(out, p, a, reason))
				return -ENOMEM;
		}
		out->settled[out->nsettled] = i;
		out->outcome[out->nsettled++] = outcome;
	}
	out->settled_through = first_left == UINT64_MAX ? round : first_left - 1;
	return 0;
}

int market__settle_write(struct market *m, const struct mkt_settle *st, uint64_t round)
{
	int err = 0;

	for (size_t i = 0; i < st->nsettled && !err; i++) {
		const struct mkt_pending *p = &m->pending[st->settled[i]];
		err = ledger_settlement_put(m->ledger, p->round, p->host, st->outcome[i], round);
	}
	if (!err)
		err = ledger_meta_set_int(m->ledger, "settled_through", (int64_t)st->settled_through);
	return err;
}

void market__settle_apply(struct market *m, const struct mkt_settle *st)
{
	size_t k = 0;

	for (size_t i = 0; i < st->nsettled; i++) {
		const struct mkt_pending *p = &m->pending[st->settled[i]];
		if (p->nfailures || st->outcome[i] == LEDGER_SETTLED_TIMEOUT)
			log_debug("market: round %llu on %s settled (%d)",
				  (unsigned long long)p->round, p->host, st->outcome[i]);
		pending_fini(&m->pending[st->settled[i]]);
		m->pending[st->settled[i]].round = 0; /* marks it gone */
	}
	for (size_t i = 0; i < m->npending; i++)
		if (m->pending[i].round)
			m->pending[k++] = m->pending[i];
	m->npending = k;
}

void market__settle_free(struct mkt_settle *st)
{
	free(st->credits);
	free(st->settled);
	free(st->outcome);
	memset(st, 0, sizeof(*st));
}

/* ---- Rebuilding from the ledger ---- */

static int load_unsettled(void *arg, const struct ledger_unsettled_row *u)
{
	struct market *m = arg;
	struct mkt_pending *p =
		pending_get(m, u->round, u->host, u->end_wall_ns + m->cfg->ack_timeout_ns);
	struct mkt_pending_alloc a = {
		.pool = u->alloc.pool,
		.bid = u->alloc.bid,
		.tenant = u->alloc.tenant,
		.resource = u->resource,
		.quantity = u->alloc.quantity,
		.charge = u->alloc.charge,
	};

	if (!p)
		return -ENOMEM;
	snprintf(a.tenant_name, sizeof(a.tenant_name), "%s", u->tenant);
	return pending_push(p, &a);
}

static int load_ack(void *arg, const struct ledger_ack_row *a)
{
	market__pending_ack(arg, a->round, a->host, a->kind, a->failures, a->nfailures);
	return 0;
}

int market__pending_load(struct market *m)
{
	int err;

	market__pending_clear(m);
	if ((err = ledger_unsettled_each(m->ledger, load_unsettled, m)) != 0)
		return err;
	return ledger_acks_unsettled_each(m->ledger, load_ack, m);
}
