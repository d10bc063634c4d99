/* ledger_report.c: what the CLI and the Query API read from the ledger: rounds, invoices,
 * revenue, allocations. Read-only queries with names joined in, so that callers never see
 * row ids. */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "ledger_internal.h"

/* Binds the optional round bounds [from, to] as ?1 and ?2 (0: unbounded). */
static void bind_range(sqlite3_stmt *s, uint64_t from, uint64_t to)
{
	sqlite3_bind_int64(s, 1, (int64_t)from);
	sqlite3_bind_int64(s, 2, to ? (int64_t)to : INT64_MAX);
}

static int finish(sqlite3_stmt *s, int rc, int stop)
{
	sqlite3_finalize(s);
	if (stop)
		return stop;
	return rc == SQLITE_DONE ? 0 : -EIO;
}

int ledger_rounds_each(struct ledger *l, uint64_t upto, size_t limit, ledger_round_fn fn,
		       void *arg)
{
	sqlite3_stmt *s;
	int rc, stop = 0;

	if (sqlite3_prepare_v2(l->db,
			       "SELECT round, start_wall_ns, end_wall_ns, round_ns, revenue, bids "
			       "FROM rounds WHERE round <= ?1 ORDER BY round DESC LIMIT ?2",
			       -1, &s, NULL) != SQLITE_OK)
		return -EIO;
	sqlite3_bind_int64(s, 1, upto ? (int64_t)upto : INT64_MAX);
	sqlite3_bind_int64(s, 2, (int64_t)limit);
	while (!stop && (rc = sqlite3_step(s)) == SQLITE_ROW) {
		struct ledger_round_row r = {
			.round = (uint64_t)sqlite3_column_int64(s, 0),
			.start_wall_ns = sqlite3_column_int64(s, 1),
			.end_wall_ns = sqlite3_column_int64(s, 2),
			.round_ns = sqlite3_column_int64(s, 3),
			.revenue = sqlite3_column_int64(s, 4),
			.bids = sqlite3_column_int64(s, 5),
		};
		stop = fn(arg, &r);
	}
	return finish(s, stop ? SQLITE_DONE : rc, stop);
}

static int charge_lines(sqlite3_stmt *s, ledger_charge_line_fn fn, void *arg)
{
	int rc, stop = 0;

	while (!stop && (rc = sqlite3_step(s)) == SQLITE_ROW) {
		struct ledger_charge_line c;
		memset(&c, 0, sizeof(c));
		c.round = (uint64_t)sqlite3_column_int64(s, 0);
		ledger__column_text(s, 1, c.tenant, sizeof(c.tenant));
		ledger__column_text(s, 2, c.host, sizeof(c.host));
		c.resource = sqlite3_column_int(s, 3);
		c.kind = sqlite3_column_int(s, 4);
		c.quantity = sqlite3_column_int64(s, 5);
		c.amount = sqlite3_column_int64(s, 6);
		stop = fn(arg, &c);
	}
	return finish(s, stop ? SQLITE_DONE : rc, stop);
}

int ledger_invoice_each(struct ledger *l, const char *tenant, uint64_t from, uint64_t to,
			ledger_charge_line_fn fn, void *arg)
{
	struct ledger_tenant t;
	sqlite3_stmt *s;
	int err = ledger_tenant_by_name(l, tenant, &t);

	if (err)
		return err;
	if (sqlite3_prepare_v2(l->db,
			       "SELECT c.round, t.name, p.host, p.resource, c.kind, SUM(c.quantity), "
			       "SUM(c.amount) FROM charges c JOIN tenants t ON t.id = c.tenant "
			       "JOIN pools p ON p.id = c.pool WHERE c.round BETWEEN ?1 AND ?2 "
			       "AND c.tenant = ?3 GROUP BY c.round, p.host, p.resource, c.kind "
			       "ORDER BY c.round, p.host, p.resource, c.kind",
			       -1, &s, NULL) != SQLITE_OK)
		return -EIO;
	bind_range(s, from, to);
	sqlite3_bind_int64(s, 3, t.id);
	return charge_lines(s, fn, arg);
}

int ledger_revenue_each(struct ledger *l, uint64_t from, uint64_t to, ledger_charge_line_fn fn,
			void *arg)
{
	sqlite3_stmt *s;

	if (sqlite3_prepare_v2(l->db,
			       "SELECT 0, t.name, p.host, p.resource, c.kind, SUM(c.quantity), "
			       "SUM(c.amount) FROM charges c JOIN tenants t ON t.id = c.tenant "
			       "JOIN pools p ON p.id = c.pool WHERE c.round BETWEEN ?1 AND ?2 "
			       "GROUP BY t.name, p.host, p.resource, c.kind "
			       "ORDER BY t.name, p.host, p.resource, c.kind",
			       -1, &s, NULL) != SQLITE_OK)
		return -EIO;
	bind_range(s, from, to);
	return charge_lines(s, fn, arg);
}

int ledger_revenue_total(struct ledger *l, uint64_t from, uint64_t to, uint64_t *rounds,
			 money_t *revenue)
{
	sqlite3_stmt *s;
	int rc;

	if (sqlite3_prepare_v2(l->db,
			       "SELECT COUNT(*), COALESCE(SUM(revenue), 0) FROM rounds "
			       "WHERE round BETWEEN ?1 AND ?2",
			       -1, &s, NULL) != SQLITE_OK)
		return -EIO;
	bind_range(s, from, to);
	rc = sqlite3_step(s);
	if (rc == SQLITE_ROW) {
		*rounds = (uint64_t)sqlite3_column_int64(s, 0);
		*revenue = sqlite3_column_int64(s, 1);
	}
	sqlite3_finalize(s);
	return rc == SQLITE_ROW ? 0 : -EIO;
}

int ledger_allocations_each(struct ledger *l, uint64_t round, ledger_alloc_line_fn fn,
			    void *arg)
{
	sqlite3_stmt *s;
	int rc, stop = 0;

	if (round == 0 && ledger_last_round(l, &round, NULL) != 0)
		return -EIO;
	if (sqlite3_prepare_v2(l->db,
			       "SELECT a.round, t.name, p.host, p.resource, b.bid_id, a.quantity, "
			       "a.unit_price, a.payment_per_hour FROM allocations a "
			       "JOIN tenants t ON t.id = a.tenant JOIN pools p ON p.id = a.pool "
			       "JOIN bids b ON b.id = a.bid WHERE a.round = ?1 "
			       "ORDER BY p.host, p.resource, t.name, b.bid_id",
			       -1, &s, NULL) != SQLITE_OK)
		return -EIO;
	sqlite3_bind_int64(s, 1, (int64_t)round);
	while (!stop && (rc = sqlite3_step(s)) == SQLITE_ROW) {
		struct ledger_alloc_line a;
		memset(&a, 0, sizeof(a));
		a.round = (uint64_t)sqlite3_column_int64(s, 0);
		ledger__column_text(s, 1, a.tenant, sizeof(a.tenant));
		ledger__column_text(s, 2, a.host, sizeof(a.host));
		a.resource = sqlite3_column_int(s, 3);
		ledger__column_text(s, 4, a.bid_id, sizeof(a.bid_id));
		a.quantity = sqlite3_column_int64(s, 5);
		a.unit_price = sqlite3_column_int64(s, 6);
		a.payment_per_hour = sqlite3_column_int64(s, 7);
		stop = fn(arg, &a);
	}
	return finish(s, stop ? SQLITE_DONE : rc, stop);
}

int ledger_credits_each(struct ledger *l, const char *tenant, uint64_t from, uint64_t to,
			ledger_credit_line_fn fn, void *arg)
{
	sqlite3_stmt *s;
	int rc, stop = 0;

	if (sqlite3_prepare_v2(l->db,
			       "SELECT c.round, c.settled_round, t.name, p.host, p.resource, "
			       "c.quantity, c.amount, c.reason FROM credits c "
			       "JOIN tenants t ON t.id = c.tenant JOIN pools p ON p.id = c.pool "
			       "WHERE c.settled_round BETWEEN ?1 AND ?2 AND (?3 IS NULL OR t.name = ?3) "
			       "ORDER BY c.settled_round, c.round, p.host, p.resource, t.name",
			       -1, &s, NULL) != SQLITE_OK)
		return -EIO;
	bind_range(s, from, to);
	if (tenant)
		sqlite3_bind_text(s, 3, tenant, -1, SQLITE_STATIC);
	while (!stop && (rc = sqlite3_step(s)) == SQLITE_ROW) {
		struct ledger_credit_line c;
		memset(&c, 0, sizeof(c));
		c.round = (uint64_t)sqlite3_column_int64(s, 0);
		c.settled_round = (uint64_t)sqlite3_column_int64(s, 1);
		ledger__column_text(s, 2, c.tenant, sizeof(c.tenant));
		ledger__column_text(s, 3, c.host, sizeof(c.host));
		c.resource = sqlite3_column_int(s, 4);
		c.quantity = sqlite3_column_int64(s, 5);
		c.amount = sqlite3_column_int64(s, 6);
		ledger__column_text(s, 7, c.reason, sizeof(c.reason));
		stop = fn(arg, &c);
	}
	return finish(s, stop ? SQLITE_DONE : rc, stop);
}

/* One integer of a query bound to ?1 = p1 (0 when there is no row). */
static int query_int_p1(struct ledger *l, const char *sql, int64_t p1, int64_t *out)
{
	sqlite3_stmt *s;
	int rc;

	*out = 0;
	if (sqlite3_prepare_v2(l->db, sql, -1, &s, NULL) != SQLITE_OK)
		return -EIO;
	sqlite3_bind_int64(s, 1, p1);
	rc = sqlite3_step(s);
	if (rc == SQLITE_ROW)
		*out = sqlite3_column_int64(s, 0);
	sqlite3_finalize(s);
	return rc == SQLITE_ROW || rc == SQLITE_DONE ? 0 : -EIO;
}

int ledger_tenant_activity(struct ledger *l, int64_t tenant, struct ledger_activity *out)
{
	uint64_t last;
	int err;

	memset(out, 0, sizeof(*out));
	if ((err = ledger_last_round(l, &last, NULL)) != 0)
		return err;
	out->last_round = last;
	if ((err = query_int_p1(l, "SELECT COUNT(*) FROM bids WHERE tenant = ?1 AND "
				   "last_round IS NULL", tenant, &out->standing_bids)) != 0)
		return err;
	char sql[512];
	snprintf(sql, sizeof(sql),
		 "SELECT COALESCE(SUM(quantity), 0) FROM allocations WHERE tenant = ?1 AND "
		 "round = %llu", (unsigned long long)last);
	if ((err = query_int_p1(l, sql, tenant, &out->held_units)) != 0)
		return err;
	int64_t through = 0, from = 1;
	ledger_meta_get_int(l, "settled_through", &through);
	ledger_meta_get_int(l, "enforcement_from", &from);
	snprintf(sql, sizeof(sql),
		 "SELECT COUNT(*) FROM allocations a JOIN pools p ON p.id = a.pool AND "
		 "p.from_config = 0 LEFT JOIN settlements s ON s.round = a.round AND s.host = p.host "
		 "WHERE a.tenant = ?1 AND s.round IS NULL AND a.round > %lld AND a.round >= %lld",
		 (long long)through, (long long)from);
	return query_int_p1(l, sql, tenant, &out->unsettled);
}

int ledger_summary(struct ledger *l, struct ledger_summary *out)
{
	int err;

	memset(out, 0, sizeof(*out));
	out->schema_version = ledger_schema_version(l);
	if ((err = ledger_last_round(l, &out->last_round, NULL)) != 0 ||
	    (err = ledger__query_int(l, "SELECT COUNT(*) FROM rounds", &out->rounds)) != 0 ||
	    (err = ledger__query_int(l, "SELECT COUNT(*) FROM tenants", &out->tenants)) != 0 ||
	    (err = ledger__query_int(l, "SELECT COUNT(*) FROM hosts", &out->hosts)) != 0 ||
	    (err = ledger__query_int(l, "SELECT COUNT(*) FROM allocations", &out->allocations)) ||
	    (err = ledger__query_int(l, "SELECT COUNT(*) FROM settlements", &out->settlements)) ||
	    (err = ledger__query_int(l, "SELECT COUNT(*) FROM credits", &out->credits)) != 0 ||
	    (err = ledger__query_int(l, "SELECT COALESCE(SUM(amount), 0) FROM credits",
				     &out->credited)) != 0 ||
	    (err = ledger__query_int(l, "SELECT COALESCE(SUM(revenue), 0) FROM rounds",
				     &out->revenue)) != 0)
		return err;
	ledger_meta_get_int(l, "settled_through", &out->settled_through);
	return 0;
}
