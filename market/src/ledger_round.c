/* ledger_round.c: a round's rows, written in one transaction, and read back at start:
 * the round, its prices, allocations (with their charges), egress charges, credits, running
 * totals, billed meter readings; host acknowledgements and settlements (ledger.h invariant
 * 7), and what is still to settle. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/error.h"
#include "common/log.h"
#include "ledger_internal.h"

/* ---- Rounds ---- */

int ledger_last_round(struct ledger *l, uint64_t *round, int64_t *end_wall_ns)
{
	sqlite3_stmt *s = ledger__stmt(l, ST_ROUND_LAST);
	int rc;

	if (!s)
		return -EIO;
	*round = 0;
	if (end_wall_ns)
		*end_wall_ns = 0;
	rc = sqlite3_step(s);
	if (rc == SQLITE_ROW) {
		*round = (uint64_t)sqlite3_column_int64(s, 0);
		if (end_wall_ns)
			*end_wall_ns = sqlite3_column_int64(s, 1);
	}
	sqlite3_reset(s);
	return rc == SQLITE_ROW || rc == SQLITE_DONE ? 0 : -EIO;
}

/* A round's bulk rows (allocations, tenants' running totals) go LEDGER_ROWS_PER_WRITE to a
 * statement: one sqlite3_step per chunk instead of one per row (fewer VDBE runs and binds
 * resets); the rest of a chunk goes row by row through the one-row statement. */
#define LEDGER_ROWS_PER_WRITE 64

/* The chunk statement id: head, then LEDGER_ROWS_PER_WRITE copies of tuple, then tail;
 * prepared once (persistent) and finalized with the other statements. */
static sqlite3_stmt *many_stmt(struct ledger *l, enum ledger_stmt id, const char *head,
			       const char *tuple, const char *tail)
{
	size_t hl = strlen(head), tl = strlen(tuple), al = strlen(tail), n = hl;
	char *sql;

	if (l->stmt[id])
		return l->stmt[id];
	sql = malloc(hl + LEDGER_ROWS_PER_WRITE * (tl + 1) + al + 1);
	if (!sql)
		return NULL;
	memcpy(sql, head, hl);
	for (int i = 0; i < LEDGER_ROWS_PER_WRITE; i++) {
		if (i)
			sql[n++] = ',';
		memcpy(sql + n, tuple, tl);
		n += tl;
	}
	memcpy(sql + n, tail, al + 1);
	if (sqlite3_prepare_v3(l->db, sql, -1, SQLITE_PREPARE_PERSISTENT, &l->stmt[id], NULL) !=
	    SQLITE_OK) {
		log_error("ledger: cannot prepare statement %d: %s", (int)id,
			  sqlite3_errmsg(l->db));
		l->stmt[id] = NULL;
	}
	free(sql);
	return l->stmt[id];
}

static int cmp_tenant(const void *a, const void *b)
{
	int64_t x = *(const int64_t *)a, y = *(const int64_t *)b;
	return x < y ? -1 : x > y;
}

/* Adds the round's charges to each tenant's running total (one UPDATE per tenant). */
static int add_totals(struct ledger *l, const struct ledger_round *r)
{
	sqlite3_stmt *s = ledger__stmt(l, ST_TENANT_CHARGE);
	size_t n = r->nallocs + r->negress + r->ncredits;
	struct total {
		int64_t tenant;
		money_t amount;
	} *t;
	int err = 0;

	if (!s)
		return -EIO;
	if (!n)
		return 0;
	t = malloc(n * sizeof(*t));
	if (!t)
		return -ENOMEM;
	for (size_t i = 0; i < r->nallocs; i++)
		t[i] = (struct total){r->allocs[i].tenant, r->allocs[i].charge};
	for (size_t i = 0; i < r->negress; i++)
		t[r->nallocs + i] = (struct total){r->egress[i].tenant, r->egress[i].amount};
	for (size_t i = 0; i < r->ncredits; i++)
		t[r->nallocs + r->negress + i] =
			(struct total){r->credits[i].tenant, -r->credits[i].amount};
	qsort(t, n, sizeof(*t), cmp_tenant);
	/* One sum per tenant, in place. */
	size_t nt = 0;
	for (size_t i = 0; i < n && !err;) {
		money_t sum = 0;
		size_t j = i;
		for (; j < n && t[j].tenant == t[i].tenant; j++)
			if (money_add(sum, t[j].amount, &sum) != 0)
				err = -RAAS_EOVERFLOW;
		if (sum != 0)
			t[nt++] = (struct total){t[i].tenant, sum};
		i = j;
	}
	size_t i = 0;
	if (!err && nt >= LEDGER_ROWS_PER_WRITE) {
		sqlite3_stmt *many = many_stmt(
			l, ST_TENANT_CHARGE_MANY,
			"UPDATE tenants SET charged = charged + v.column2 FROM (VALUES ", "(?,?)",
			") AS v WHERE tenants.id = v.column1");
		if (!many)
			err = -EIO;
		for (; !err && i + LEDGER_ROWS_PER_WRITE <= nt; i += LEDGER_ROWS_PER_WRITE) {
			for (int k = 0; k < LEDGER_ROWS_PER_WRITE; k++) {
				sqlite3_bind_int64(many, 2 * k + 1, t[i + k].tenant);
				sqlite3_bind_int64(many, 2 * k + 2, t[i + k].amount);
			}
			err = ledger__write(l, many);
		}
	}
	for (; !err && i < nt; i++) {
		sqlite3_bind_int64(s, 1, t[i].tenant);
		sqlite3_bind_int64(s, 2, t[i].amount);
		err = ledger__write(l, s);
	}
	free(t);
	return err;
}

static void bind_alloc(sqlite3_stmt *s, int first, uint64_t round,
		       const struct ledger_alloc_row *a)
{
	sqlite3_bind_int64(s, first, (int64_t)round);
	sqlite3_bind_int64(s, first + 1, a->pool);
	sqlite3_bind_int64(s, first + 2, a->bid);
	sqlite3_bind_int64(s, first + 3, a->tenant);
	sqlite3_bind_int64(s, first + 4, a->quantity);
	sqlite3_bind_int64(s, first + 5, a->unit_price);
	sqlite3_bind_int64(s, first + 6, a->payment_per_hour);
	sqlite3_bind_int64(s, first + 7, a->charge);
}

static int write_round_rows(struct ledger *l, const struct ledger_round *r)
{
	sqlite3_stmt *s;
	int err;

	if (!(s = ledger__stmt(l, ST_ROUND_INSERT)))
		return -EIO;
	sqlite3_bind_int64(s, 1, (int64_t)r->round);
	sqlite3_bind_int64(s, 2, r->start_wall_ns);
	sqlite3_bind_int64(s, 3, r->end_wall_ns);
	sqlite3_bind_int64(s, 4, r->round_ns);
	sqlite3_bind_int64(s, 5, r->revenue);
	sqlite3_bind_int64(s, 6, r->bids);
	if ((err = ledger__write(l, s)) != 0)
		return err;

	if (!(s = ledger__stmt(l, ST_PRICE_INSERT)))
		return -EIO;
	for (size_t i = 0; i < r->nprices; i++) {
		const struct ledger_price_row *p = &r->prices[i];
		sqlite3_bind_int64(s, 1, (int64_t)r->round);
		sqlite3_bind_int64(s, 2, p->pool);
		sqlite3_bind_int64(s, 3, p->unit_price);
		sqlite3_bind_int64(s, 4, p->supply);
		sqlite3_bind_int64(s, 5, p->allocated);
		sqlite3_bind_int64(s, 6, p->revenue_per_hour);
		sqlite3_bind_int64(s, 7, p->welfare_per_hour);
		sqlite3_bind_int64(s, 8, p->bids);
		sqlite3_bind_int64(s, 9, p->clear_ns);
		if ((err = ledger__write(l, s)) != 0)
			return err;
	}

	size_t a = 0;
	if (r->nallocs >= LEDGER_ROWS_PER_WRITE) {
		if (!(s = many_stmt(l, ST_ALLOC_INSERT_MANY,
				    "INSERT INTO allocations (round, pool, bid, tenant, quantity, "
				    "unit_price, payment_per_hour, charge) VALUES ",
				    "(?,?,?,?,?,?,?,?)", "")))
			return -EIO;
		for (; a + LEDGER_ROWS_PER_WRITE <= r->nallocs; a += LEDGER_ROWS_PER_WRITE) {
			for (int k = 0; k < LEDGER_ROWS_PER_WRITE; k++)
				bind_alloc(s, 8 * k + 1, r->round, &r->allocs[a + k]);
			if ((err = ledger__write(l, s)) != 0)
				return err;
		}
	}
	if (!(s = ledger__stmt(l, ST_ALLOC_INSERT)))
		return -EIO;
	for (; a < r->nallocs; a++) {
		bind_alloc(s, 1, r->round, &r->allocs[a]);
		if ((err = ledger__write(l, s)) != 0)
			return err;
	}

	if (!(s = ledger__stmt(l, ST_EGRESS_INSERT)))
		return -EIO;
	for (size_t i = 0; i < r->negress; i++) {
		const struct ledger_egress_row *e = &r->egress[i];
		sqlite3_bind_int64(s, 1, (int64_t)r->round);
		sqlite3_bind_int64(s, 2, e->tenant);
		sqlite3_bind_int64(s, 3, e->pool);
		sqlite3_bind_int64(s, 4, e->bytes);
		sqlite3_bind_int64(s, 5, e->amount);
		if ((err = ledger__write(l, s)) != 0)
			return err;
	}

	if (!(s = ledger__stmt(l, ST_CREDIT_INSERT)))
		return -EIO;
	for (size_t i = 0; i < r->ncredits; i++) {
		const struct ledger_credit_row *c = &r->credits[i];
		sqlite3_bind_int64(s, 1, (int64_t)c->round);
		sqlite3_bind_int64(s, 2, c->pool);
		sqlite3_bind_int64(s, 3, c->bid);
		sqlite3_bind_int64(s, 4, c->tenant);
		sqlite3_bind_int64(s, 5, c->quantity);
		sqlite3_bind_int64(s, 6, c->amount);
		ledger__bind_text(s, 7, c->reason);
		sqlite3_bind_int64(s, 8, (int64_t)r->round);
		if ((err = ledger__write(l, s)) != 0)
			return err;
	}

	/* Running totals: one update per tenant charged this round. */
	if ((err = add_totals(l, r)) != 0)
		return err;

	if (!(s = ledger__stmt(l, ST_METER_PUT)))
		return -EIO;
	for (size_t i = 0; i < r->nmeters; i++) {
		const struct ledger_meter_row *m = &r->meters[i];
		ledger__bind_text(s, 1, m->host);
		sqlite3_bind_int64(s, 2, m->tenant);
		sqlite3_bind_int64(s, 3, (int64_t)m->tx_bytes);
		sqlite3_bind_int64(s, 4, (int64_t)r->round);
		if ((err = ledger__write(l, s)) != 0)
			return err;
	}

	if (r->prune_requests_before_wall_ns > 0) {
		if (!(s = ledger__stmt(l, ST_REQUEST_PRUNE)))
			return -EIO;
		sqlite3_bind_int64(s, 1, r->prune_requests_before_wall_ns);
		if ((err = ledger__write(l, s)) != 0)
			return err;
	}
	return 0;
}

int ledger_round_write(struct ledger *l, const struct ledger_round *r)
{
	money_t sum = 0;
	uint64_t last;
	int err;

	if (l->in_batch)
		return -EBUSY;
	for (size_t i = 0; i < r->nallocs; i++)
		if (money_add(sum, r->allocs[i].charge, &sum) != 0)
			return -RAAS_EOVERFLOW;
	for (size_t i = 0; i < r->negress; i++)
		if (money_add(sum, r->egress[i].amount, &sum) != 0)
			return -RAAS_EOVERFLOW;
	for (size_t i = 0; i < r->ncredits; i++)
		if (r->credits[i].amount <= 0 || money_sub(sum, r->credits[i].amount, &sum) != 0)
			return -EINVAL;
	if (sum != r->revenue) {
		log_error("ledger: round %llu revenue %lld is not its charges less its credits %lld",
			  (unsigned long long)r->round, (long long)r->revenue, (long long)sum);
		return -EINVAL;
	}
	if ((err = ledger_begin(l)) != 0)
		return err;
	if ((err = ledger_last_round(l, &last, NULL)) == 0 && last + 1 != r->round) {
		log_error("ledger: round %llu written after round %llu",
			  (unsigned long long)r->round, (unsigned long long)last);
		err = -EINVAL;
	}
	if (!err)
		err = write_round_rows(l, r);
	if (!err && r->extra)
		err = r->extra(r->extra_arg, l);
	if (!err)
		err = ledger_commit(l);
	if (err)
		ledger_rollback(l);
	return err;
}

static int price_row(sqlite3_stmt *s, void *a)
{
	struct ledger__each *c = a;
	struct ledger_price_row p = {
		.pool = sqlite3_column_int64(s, 0),
		.unit_price = sqlite3_column_int64(s, 1),
		.supply = sqlite3_column_int64(s, 2),
		.allocated = sqlite3_column_int64(s, 3),
		.revenue_per_hour = sqlite3_column_int64(s, 4),
		.welfare_per_hour = sqlite3_column_int64(s, 5),
		.bids = sqlite3_column_int64(s, 6),
		.clear_ns = sqlite3_column_int64(s, 7),
	};
	return ((ledger_price_fn)c->fn)(c->arg, c->round, &p);
}

int ledger_round_prices_each(struct ledger *l, uint64_t round, ledger_price_fn fn, void *arg)
{
	struct ledger__each c = {(void *)fn, arg, round};

	return ledger__each_row(l,
				"SELECT pool, unit_price, supply, allocated, revenue_per_hour, "
				"welfare_per_hour, bids, clear_ns FROM prices WHERE round = ?1 ORDER BY pool",
				(int64_t)round, true, price_row, &c);
}

static int alloc_row(sqlite3_stmt *s, void *a)
{
	struct ledger__each *c = a;
	struct ledger_alloc_row r = {
		.pool = sqlite3_column_int64(s, 0),
		.bid = sqlite3_column_int64(s, 1),
		.tenant = sqlite3_column_int64(s, 2),
		.quantity = sqlite3_column_int64(s, 3),
		.unit_price = sqlite3_column_int64(s, 4),
		.payment_per_hour = sqlite3_column_int64(s, 5),
		.charge = sqlite3_column_int64(s, 7),
	};
	ledger__column_text(s, 6, r.bid_id, sizeof(r.bid_id));
	return ((ledger_alloc_fn)c->fn)(c->arg, c->round, &r);
}

int ledger_round_allocs_each(struct ledger *l, uint64_t round, ledger_alloc_fn fn, void *arg)
{
	struct ledger__each c = {(void *)fn, arg, round};

	return ledger__each_row(l,
				"SELECT a.pool, a.bid, a.tenant, a.quantity, a.unit_price, "
				"a.payment_per_hour, b.bid_id, a.charge FROM allocations a LEFT JOIN bids b "
				"ON b.id = a.bid WHERE a.round = ?1 ORDER BY a.pool, a.bid",
				(int64_t)round, true, alloc_row, &c);
}

static int meter_row(sqlite3_stmt *s, void *a)
{
	struct ledger__each *c = a;
	struct ledger_meter_row m;

	memset(&m, 0, sizeof(m));
	ledger__column_text(s, 0, m.host, sizeof(m.host));
	m.tenant = sqlite3_column_int64(s, 1);
	m.tx_bytes = (uint64_t)sqlite3_column_int64(s, 2);
	return ((ledger_meter_fn)c->fn)(c->arg, &m);
}

int ledger_meters_each(struct ledger *l, ledger_meter_fn fn, void *arg)
{
	struct ledger__each c = {(void *)fn, arg, 0};

	return ledger__each_row(l,
				"SELECT host, tenant, tx_bytes FROM meters ORDER BY host, tenant", 0,
				false, meter_row, &c);
}

int ledger_host_ack_put(struct ledger *l, uint64_t round, const char *host, bool complete,
			const char *failures, int kind, const struct ledger_ack_failure *f,
			size_t nf, int64_t now_wall_ns, bool *recorded)
{
	sqlite3_stmt *s = ledger__stmt(l, ST_ACK_PUT);
	int err;

	if (recorded)
		*recorded = false;
	if (!s)
		return -EIO;
	sqlite3_bind_int64(s, 1, (int64_t)round);
	ledger__bind_text(s, 2, host);
	sqlite3_bind_int(s, 3, complete);
	ledger__bind_text(s, 4, failures ? failures : "");
	sqlite3_bind_int(s, 5, kind);
	sqlite3_bind_int64(s, 6, now_wall_ns);
	if ((err = ledger__write(l, s)) != 0)
		return err;
	if (sqlite3_changes(l->db) == 0)
		return 0; /* the first acknowledgement stands */
	if (!(s = ledger__stmt(l, ST_ACK_FAILURE_PUT)))
		return -EIO;
	for (size_t i = 0; i < nf; i++) {
		sqlite3_bind_int64(s, 1, (int64_t)round);
		ledger__bind_text(s, 2, host);
		ledger__bind_text(s, 3, f[i].tenant);
		sqlite3_bind_int(s, 4, f[i].resource);
		sqlite3_bind_int(s, 5, f[i].errno_value);
		ledger__bind_text(s, 6, f[i].message);
		if ((err = ledger__write(l, s)) != 0)
			return err;
	}
	if (recorded)
		*recorded = true;
	return 0;
}

int ledger_settlement_put(struct ledger *l, uint64_t round, const char *host, int outcome,
			  uint64_t settled_round)
{
	sqlite3_stmt *s = ledger__stmt(l, ST_SETTLEMENT_PUT);

	if (!s)
		return -EIO;
	sqlite3_bind_int64(s, 1, (int64_t)round);
	ledger__bind_text(s, 2, host);
	sqlite3_bind_int(s, 3, outcome);
	sqlite3_bind_int64(s, 4, (int64_t)settled_round);
	return ledger__write(l, s);
}

/* The first round still to settle: after settled_through, from enforcement_from on. */
static int64_t unsettled_from(struct ledger *l)
{
	int64_t through = 0, from = 1;

	ledger_meta_get_int(l, "settled_through", &through);
	ledger_meta_get_int(l, "enforcement_from", &from);
	return through + 1 > from ? through + 1 : from;
}

static int unsettled_row(sqlite3_stmt *s, void *a)
{
	struct ledger__each *c = a;
	struct ledger_unsettled_row u;

	memset(&u, 0, sizeof(u));
	u.round = (uint64_t)sqlite3_column_int64(s, 0);
	u.end_wall_ns = sqlite3_column_int64(s, 1);
	ledger__column_text(s, 2, u.host, sizeof(u.host));
	ledger__column_text(s, 3, u.tenant, sizeof(u.tenant));
	u.resource = sqlite3_column_int(s, 4);
	u.alloc.pool = sqlite3_column_int64(s, 5);
	u.alloc.bid = sqlite3_column_int64(s, 6);
	u.alloc.tenant = sqlite3_column_int64(s, 7);
	u.alloc.quantity = sqlite3_column_int64(s, 8);
	u.alloc.unit_price = sqlite3_column_int64(s, 9);
	u.alloc.payment_per_hour = sqlite3_column_int64(s, 10);
	u.alloc.charge = sqlite3_column_int64(s, 11);
	ledger__column_text(s, 12, u.alloc.bid_id, sizeof(u.alloc.bid_id));
	return ((ledger_unsettled_fn)c->fn)(c->arg, &u);
}

int ledger_unsettled_each(struct ledger *l, ledger_unsettled_fn fn, void *arg)
{
	struct ledger__each c = {(void *)fn, arg, 0};

	return ledger__each_row(
		l,
		"SELECT a.round, r.end_wall_ns, p.host, t.name, p.resource, a.pool, a.bid, a.tenant, "
		"a.quantity, a.unit_price, a.payment_per_hour, a.charge, COALESCE(b.bid_id, '') "
		"FROM allocations a JOIN rounds r ON r.round = a.round "
		"JOIN pools p ON p.id = a.pool AND p.from_config = 0 "
		"JOIN tenants t ON t.id = a.tenant LEFT JOIN bids b ON b.id = a.bid "
		"LEFT JOIN settlements s ON s.round = a.round AND s.host = p.host "
		"WHERE a.round >= ?1 AND s.round IS NULL ORDER BY a.round, p.host, a.pool, a.bid",
		unsettled_from(l), true, unsettled_row, &c);
}

struct acks_ctx {
	ledger_ack_fn fn;
	void *arg;
	struct ledger *l;
};

static int failure_row(sqlite3_stmt *s, void *a)
{
	struct ledger_ack_row *row = a;
	struct ledger_ack_failure *f;

	if (row->nfailures % 16 == 0) {
		f = realloc((void *)row->failures, (row->nfailures + 16) * sizeof(*f));
		if (!f)
			return -ENOMEM;
		row->failures = f;
	}
	f = (struct ledger_ack_failure *)&row->failures[row->nfailures++];
	memset(f, 0, sizeof(*f));
	ledger__column_text(s, 0, f->tenant, sizeof(f->tenant));
	f->resource = sqlite3_column_int(s, 1);
	f->errno_value = sqlite3_column_int(s, 2);
	ledger__column_text(s, 3, f->message, sizeof(f->message));
	return 0;
}

static int ack_row(sqlite3_stmt *s, void *a)
{
	struct acks_ctx *c = a;
	struct ledger_ack_row row;
	sqlite3_stmt *q;
	int err = 0, rc;

	memset(&row, 0, sizeof(row));
	row.round = (uint64_t)sqlite3_column_int64(s, 0);
	ledger__column_text(s, 1, row.host, sizeof(row.host));
	row.complete = sqlite3_column_int(s, 2) != 0;
	row.kind = sqlite3_column_int(s, 3);
	if (sqlite3_prepare_v2(c->l->db,
			       "SELECT tenant, resource, errno_value, message FROM ack_failures "
			       "WHERE round = ?1 AND host = ?2 ORDER BY tenant, resource",
			       -1, &q, NULL) != SQLITE_OK)
		return -EIO;
	sqlite3_bind_int64(q, 1, (int64_t)row.round);
	ledger__bind_text(q, 2, row.host);
	while (!err && (rc = sqlite3_step(q)) == SQLITE_ROW)
		err = failure_row(q, &row);
	sqlite3_finalize(q);
	if (!err)
		err = c->fn(c->arg, &row);
	free((void *)row.failures);
	return err;
}

int ledger_acks_unsettled_each(struct ledger *l, ledger_ack_fn fn, void *arg)
{
	struct acks_ctx c = {fn, arg, l};

	return ledger__each_row(l,
				"SELECT a.round, a.host, a.complete, a.kind FROM host_acks a "
				"LEFT JOIN settlements s ON s.round = a.round AND s.host = a.host "
				"WHERE a.round >= ?1 AND s.round IS NULL ORDER BY a.round, a.host",
				unsettled_from(l), true, ack_row, &c);
}
