/* registry.c: what the operator changes while the market runs: tenants and hosts added,
 * budgets changed, members removed (raas tenant add|budget|remove, raas host add|remove).
 *
 * The CLI writes the registry straight into the ledger (an offline command: no market
 * connection, no operator key); the market notices at its next round close, when SQLite's
 * data_version says another connection committed, and re-reads the tenants' and hosts' rows.
 * A removal is asked for (status "removing") and finished by the market at a round close
 * (round.c): the tenant's bids end and it takes part in no later round, a host's pools are
 * drained; once nothing of theirs is left to settle they are "removed" and their keys are
 * no longer admitted. */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "common/log.h"
#include "market_internal.h"

static int refresh_tenant(void *arg, const struct ledger_tenant *row)
{
	struct market *m = arg;
	struct mkt_tenant *t = hmap_get_i64(&m->tenants_by_id, row->id);

	if (!t)
		return market__tenant_add(m, row, NULL);
	if (t->row.budget != row->budget) {
		char b1[MONEY_TEXT_MAX], b2[MONEY_TEXT_MAX];
		log_info("market: tenant %s's budget is now %s (was %s)", row->name,
			 row->budget < 0 ? "unlimited" : money_format(row->budget, b1),
			 t->row.budget < 0 ? "unlimited" : money_format(t->row.budget, b2));
		t->row.budget = row->budget;
	}
	/* Only the CLI asks for a removal; only the market finishes one. */
	if (row->status == LEDGER_REMOVING && t->row.status == LEDGER_ACTIVE) {
		log_info("market: tenant %s is to be removed: its bids end at this round's close",
			 row->name);
		t->row.status = LEDGER_REMOVING;
	}
	if (row->status == LEDGER_REMOVED)
		t->row.status = LEDGER_REMOVED; /* removed offline while we ran */
	return 0;
}

static int refresh_host(void *arg, const struct ledger_host *row)
{
	struct market *m = arg;
	struct mkt_host *h = market__host(m, row->name);

	if (!h)
		return market__host_add(m, row, NULL);
	if (row->status == LEDGER_REMOVING && h->row.status == LEDGER_ACTIVE) {
		log_info("market: host %s is to be removed: its pools drain at this round's close",
			 row->name);
		h->row.status = LEDGER_REMOVING;
	}
	if (row->status == LEDGER_REMOVED)
		h->row.status = LEDGER_REMOVED;
	return 0;
}

int market__registry_refresh(struct market *m)
{
	int64_t v;
	int err;

	if (m->in_batch || ledger_data_version(m->ledger, &v) != 0 || v == m->data_version)
		return 0;
	m->data_version = v;
	if ((err = ledger_tenants_each(m->ledger, refresh_tenant, m)) != 0 ||
	    (err = ledger_hosts_each(m->ledger, refresh_host, m)) != 0)
		log_error("market: re-reading the registry: %s", ledger_errmsg(m->ledger));
	return err;
}
