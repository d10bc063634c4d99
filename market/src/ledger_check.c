/* ledger_check.c: the ledger's invariants (ledger.h design notes), as queries.
 *
 * Each check runs SQL that finds the first violation, if any, and describes it in why with
 * the round, pool, tenant or request it concerns, so that a failing test says exactly what
 * broke. Checks only read: they can run against a ledger another process is writing (WAL
 * gives them a consistent snapshot inside one read transaction). */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ledger_internal.h"

/* Runs a query returning at most one row of up to 4 integers; *found says whether a row came
 * back. */
static int probe(struct ledger *l, const char *sql, int64_t *v, int nv, bool *found)
{
	sqlite3_stmt *s;
	int rc;

	*found = false;
	if (sqlite3_prepare_v2(l->db, sql, -1, &s, NULL) != SQLITE_OK)
		return -EIO;
	rc = sqlite3_step(s);
	if (rc == SQLITE_ROW) {
		*found = true;
		for (int i = 0; i < nv; i++)
			v[i] = sqlite3_column_int64(s, i);
	}
	sqlite3_finalize(s);
	return rc == SQLITE_ROW || rc == SQLITE_DONE ? 0 : -EIO;
}

/* Formats a violation; fmt uses the row's values in order (unused trailing ones are ignored,
 * as printf allows). */
static int violated(char *why, size_t why_len, const char *fmt, const int64_t *v)
{
	snprintf(why, why_len, fmt, (long long)v[0], (long long)v[1], (long long)v[2],
		 (long long)v[3]);
	return -EPROTO;
}

/* Runs the check: a query whose row (if any) describes a violation. */
static int check(struct ledger *l, const char *sql, const char *fmt, char *why, size_t why_len)
{
	int64_t v[4] = {0};
	bool found;
	int err = probe(l, sql, v, 4, &found);

	if (err) {
		snprintf(why, why_len, "check query failed: %s", sqlite3_errmsg(l->db));
		return err;
	}
	return found ? violated(why, why_len, fmt, v) : 0;
}

int ledger_check_revenue(struct ledger *l, char *why, size_t why_len)
{
	int err;

	/* Round by round: revenue equals the sum of the round's charges. */
	err = check(l,
		    "SELECT r.round, r.revenue, COALESCE(SUM(c.amount), 0), 0 FROM rounds r "
		    "LEFT JOIN charges c ON c.round = r.round GROUP BY r.round "
		    "HAVING r.revenue != COALESCE(SUM(c.amount), 0) LIMIT 1",
		    "round %lld: revenue %lld != sum of its charges %lld", why, why_len);
	if (err)
		return err;
	/* No charge outside a recorded round. */
	err = check(l,
		    "SELECT c.round, c.tenant, c.pool, c.amount FROM charges c "
		    "LEFT JOIN rounds r ON r.round = c.round WHERE r.round IS NULL LIMIT 1",
		    "charge in unrecorded round %lld (tenant %lld, pool %lld, amount %lld)", why,
		    why_len);
	if (err)
		return err;
	/* In total. */
	err = check(l,
		    "SELECT a, b, 0, 0 FROM (SELECT (SELECT COALESCE(SUM(amount), 0) FROM charges) "
		    "AS a, (SELECT COALESCE(SUM(revenue), 0) FROM rounds) AS b) WHERE a != b",
		    "sum of all charges %lld != provider revenue %lld", why, why_len);
	if (err)
		return err;
	/* Each tenant's running total. */
	return check(l,
		     "SELECT t.id, t.charged, COALESCE(SUM(c.amount), 0), 0 FROM tenants t "
		     "LEFT JOIN charges c ON c.tenant = t.id GROUP BY t.id "
		     "HAVING t.charged != COALESCE(SUM(c.amount), 0) LIMIT 1",
		     "tenant %lld: running total %lld != sum of its charges %lld", why,
		     why_len);
}

int ledger_check_rounds(struct ledger *l, char *why, size_t why_len)
{
	int err;

	/* Contiguous from the first round on: count = max - min + 1. */
	err = check(l,
		    "SELECT MIN(round), MAX(round), COUNT(*), 0 FROM rounds "
		    "HAVING COUNT(*) > 0 AND MAX(round) - MIN(round) + 1 != COUNT(*)",
		    "rounds %lld..%lld are not contiguous (%lld recorded)", why, why_len);
	if (err)
		return err;
	err = check(l, "SELECT MIN(round), 0, 0, 0 FROM rounds HAVING MIN(round) != 1",
		    "first recorded round is %lld, not 1", why, why_len);
	if (err)
		return err;
	err = check(l,
		    "SELECT round, start_wall_ns, end_wall_ns, round_ns FROM rounds "
		    "WHERE end_wall_ns < start_wall_ns OR round_ns <= 0 LIMIT 1",
		    "round %lld: start %lld, end %lld, length %lld", why, why_len);
	if (err)
		return err;
	err = check(l,
		    "SELECT b.round, b.end_wall_ns, a.round, a.end_wall_ns FROM rounds a "
		    "JOIN rounds b ON b.round = a.round + 1 WHERE b.end_wall_ns < a.end_wall_ns "
		    "LIMIT 1",
		    "round %lld ended at %lld, before round %lld (%lld)", why, why_len);
	if (err)
		return err;
	/* Every row of a round belongs to a recorded round. */
	err = check(l,
		    "SELECT p.round, p.pool, 0, 0 FROM prices p LEFT JOIN rounds r "
		    "ON r.round = p.round WHERE r.round IS NULL LIMIT 1",
		    "unrecorded round %lld has a price row for pool %lld", why,
		    why_len);
	if (err)
		return err;
	return check(l,
		     "SELECT a.round, a.pool, a.bid, 0 FROM allocations a LEFT JOIN rounds r "
		     "ON r.round = a.round WHERE r.round IS NULL LIMIT 1",
		     "unrecorded round %lld has an allocation in pool %lld to bid %lld",
		     why, why_len);
}

int ledger_check_supply(struct ledger *l, char *why, size_t why_len)
{
	int err;

	err = check(l,
		    "SELECT p.round, p.pool, p.supply, COALESCE(SUM(a.quantity), 0) FROM prices p "
		    "LEFT JOIN allocations a ON a.round = p.round AND a.pool = p.pool "
		    "GROUP BY p.round, p.pool HAVING COALESCE(SUM(a.quantity), 0) > p.supply "
		    "LIMIT 1",
		    "round %lld, pool %lld: supply %lld but %lld allocated", why, why_len);
	if (err)
		return err;
	err = check(l,
		    "SELECT p.round, p.pool, p.allocated, COALESCE(SUM(a.quantity), 0) FROM prices "
		    "p LEFT JOIN allocations a ON a.round = p.round AND a.pool = p.pool "
		    "GROUP BY p.round, p.pool HAVING COALESCE(SUM(a.quantity), 0) != p.allocated "
		    "LIMIT 1",
		    "round %lld, pool %lld: price row says %lld allocated, allocations sum to %lld",
		    why, why_len);
	if (err)
		return err;
	err = check(l,
		    "SELECT a.round, a.pool, a.bid, a.quantity FROM allocations a "
		    "LEFT JOIN prices p ON p.round = a.round AND p.pool = a.pool "
		    "WHERE p.pool IS NULL OR a.quantity <= 0 LIMIT 1",
		    "round %lld, pool %lld: allocation of bid %lld (%lld units) without a price row "
		    "or not positive",
		    why, why_len);
	if (err)
		return err;
	return check(l,
		     "SELECT a.round, a.bid, COALESCE(b.first_round, -1), "
		     "COALESCE(b.last_round, -1) FROM allocations a LEFT JOIN bids b ON b.id = a.bid "
		     "WHERE b.id IS NULL OR b.tenant != a.tenant OR b.first_round > a.round OR "
		     "(b.last_round IS NOT NULL AND b.last_round < a.round) LIMIT 1",
		     "round %lld: allocation to bid version %lld, which was in force for rounds "
		     "%lld..%lld (-1: none/standing)",
		     why, why_len);
}

int ledger_check_bids(struct ledger *l, char *why, size_t why_len)
{
	int err = check(l,
			"SELECT tenant, COUNT(*), 0, 0 FROM bids WHERE last_round IS NULL "
			"GROUP BY tenant, bid_id HAVING COUNT(*) > 1 LIMIT 1",
			"tenant %lld has %lld standing versions of one bid", why,
			why_len);
	if (err)
		return err;
	/* A request makes at most one version of a bid id: a retry applied twice would make
	 * two. */
	err = check(l,
		    "SELECT tenant, request_id, COUNT(*), 0 FROM bids GROUP BY tenant, bid_id, "
		    "request_id HAVING COUNT(*) > 1 LIMIT 1",
		    "tenant %lld: request %lld made %lld versions of one bid (applied twice)", why,
		    why_len);
	if (err)
		return err;
	return check(l,
		     "SELECT id, tenant, min_quantity, max_quantity FROM bids WHERE "
		     "min_quantity < 0 OR max_quantity < min_quantity OR unit_price < 0 LIMIT 1",
		     "bid version %lld of tenant %lld has quantities [%lld, %lld] or a negative "
		     "price",
		     why, why_len);
}

int ledger_check_charges(struct ledger *l, char *why, size_t why_len)
{
	sqlite3_stmt *s;
	int rc, err = 0;

	/* Every allocation is charged exactly its payment rate x the round length. (Charged
	 * once: an allocation is one row, keyed by round, pool and bid; egress one row per
	 * round, tenant and host.) */
	if (sqlite3_prepare_v2(l->db,
			       "SELECT a.round, a.tenant, a.bid, a.payment_per_hour, r.round_ns, "
			       "a.charge FROM allocations a JOIN rounds r ON r.round = a.round",
			       -1, &s, NULL) != SQLITE_OK)
		return -EIO;
	while ((rc = sqlite3_step(s)) == SQLITE_ROW) {
		money_t want;
		int64_t charged = sqlite3_column_int64(s, 5);
		if (money_charge(sqlite3_column_int64(s, 3), 1, sqlite3_column_int64(s, 4), &want) !=
			    0 ||
		    want != charged) {
			snprintf(why, why_len,
				 "round %lld: tenant %lld's allocation to bid %lld at %lld per hour "
				 "comes to %lld nanodollars, but was charged %lld",
				 (long long)sqlite3_column_int64(s, 0),
				 (long long)sqlite3_column_int64(s, 1),
				 (long long)sqlite3_column_int64(s, 2),
				 (long long)sqlite3_column_int64(s, 3), (long long)want,
				 (long long)charged);
			err = -EPROTO;
			break;
		}
	}
	sqlite3_finalize(s);
	if (!err && rc != SQLITE_DONE)
		return -EIO;
	return err;
}

/* An allocation a (with its pool p and tenant t) that its host's acknowledgement of the
 * round reports failed: for its tenant and resource, or the whole set. */
#define FAILED_IN_ACK                                                                      \
	"EXISTS (SELECT 1 FROM ack_failures f WHERE f.round = a.round AND f.host = p.host "  \
	"AND (f.tenant = '' OR (f.tenant = t.name AND f.resource = p.resource)))"

int ledger_check_enforcement(struct ledger *l, char *why, size_t why_len)
{
	int64_t through = 0, from = 1;
	char sql[1400];
	int err;

	ledger_meta_get_int(l, "settled_through", &through);
	ledger_meta_get_int(l, "enforcement_from", &from);
	/* Charged for an allocation that was not in force. */
	err = check(l,
		    "SELECT a.round, a.pool, a.tenant, s.outcome FROM allocations a "
		    "JOIN pools p ON p.id = a.pool AND p.from_config = 0 "
		    "JOIN tenants t ON t.id = a.tenant "
		    "JOIN settlements s ON s.round = a.round AND s.host = p.host "
		    "LEFT JOIN credits c ON c.round = a.round AND c.pool = a.pool AND c.bid = a.bid "
		    "WHERE c.round IS NULL AND a.charge > 0 AND (s.outcome = 3 OR " FAILED_IN_ACK
		    ") LIMIT 1",
		    "round %lld, pool %lld: tenant %lld is charged for an allocation that was not "
		    "in force (settlement %lld: 1 acknowledged with a failure for it, 3 not "
		    "acknowledged) and not credited",
		    why, why_len);
	if (err)
		return err;
	/* Every round up to settled_through is settled. */
	snprintf(sql, sizeof(sql),
		 "SELECT a.round, a.pool, a.tenant, %lld FROM allocations a "
		 "JOIN pools p ON p.id = a.pool AND p.from_config = 0 "
		 "LEFT JOIN settlements s ON s.round = a.round AND s.host = p.host "
		 "WHERE s.round IS NULL AND a.round >= %lld AND a.round <= %lld LIMIT 1",
		 (long long)through, (long long)from, (long long)through);
	err = check(l, sql,
		    "round %lld, pool %lld: tenant %lld's allocation is not settled, though every "
		    "round up to %lld is said to be",
		    why, why_len);
	if (err)
		return err;
	/* A settlement in force rests on an acknowledgement (kind 0) or a carry-over (1). */
	err = check(l,
		    "SELECT s.round, s.outcome, 0, 0 FROM settlements s LEFT JOIN host_acks h "
		    "ON h.round = s.round AND h.host = s.host AND h.kind = s.outcome - 1 "
		    "WHERE s.outcome IN (1, 2) AND h.round IS NULL LIMIT 1",
		    "round %lld: settled as %lld (1 acknowledged, 2 carried over) without that "
		    "acknowledgement",
		    why, why_len);
	if (err)
		return err;
	/* A credit gives back exactly its allocation's charge, once. */
	err = check(l,
		    "SELECT c.round, c.pool, c.bid, c.amount FROM credits c LEFT JOIN allocations a "
		    "ON a.round = c.round AND a.pool = c.pool AND a.bid = c.bid "
		    "WHERE a.round IS NULL OR a.charge != c.amount OR a.tenant != c.tenant OR "
		    "c.settled_round < c.round LIMIT 1",
		    "round %lld, pool %lld: the credit of bid %lld (%lld nanodollars) is not its "
		    "allocation's charge",
		    why, why_len);
	if (err)
		return err;
	/* And only for what was not in force. */
	return check(l,
		     "SELECT a.round, a.pool, a.bid, c.amount FROM credits c JOIN allocations a "
		     "ON a.round = c.round AND a.pool = c.pool AND a.bid = c.bid "
		     "JOIN pools p ON p.id = a.pool JOIN tenants t ON t.id = a.tenant "
		     "LEFT JOIN settlements s ON s.round = a.round AND s.host = p.host "
		     "WHERE s.round IS NULL OR (s.outcome IN (1, 2) AND NOT " FAILED_IN_ACK
		     ") LIMIT 1",
		     "round %lld, pool %lld: bid %lld was credited %lld nanodollars though its "
		     "host reported it in force (or it is not settled)",
		     why, why_len);
}

int ledger_check_request(struct ledger *l, int64_t tenant, uint64_t request_id,
			 const void *reply, size_t len, char *why, size_t why_len)
{
	uint8_t *got;
	size_t got_len;
	int err = ledger_request_get(l, tenant, request_id, &got, &got_len);

	if (err == -ENOENT) {
		snprintf(why, why_len, "acknowledged request %llu of tenant %lld is not in the ledger",
			 (unsigned long long)request_id, (long long)tenant);
		return -EPROTO;
	}
	if (err) {
		snprintf(why, why_len, "cannot read request %llu of tenant %lld: %s",
			 (unsigned long long)request_id, (long long)tenant, sqlite3_errmsg(l->db));
		return err;
	}
	if (got_len != len || (len && memcmp(got, reply, len) != 0)) {
		snprintf(why, why_len,
			 "request %llu of tenant %lld: the ledger holds a %zu-byte answer that is "
			 "not the %zu-byte answer sent",
			 (unsigned long long)request_id, (long long)tenant, got_len, len);
		err = -EPROTO;
	}
	free(got);
	return err;
}

int ledger_check(struct ledger *l, char *why, size_t why_len)
{
	int err;
	sqlite3_stmt *s;

	if (ledger_schema_version(l) != LEDGER_SCHEMA_VERSION) {
		snprintf(why, why_len, "schema version %d, expected %d", ledger_schema_version(l),
			 LEDGER_SCHEMA_VERSION);
		return -EPROTO;
	}
	if (sqlite3_prepare_v2(l->db, "PRAGMA quick_check", -1, &s, NULL) != SQLITE_OK)
		return -EIO;
	if (sqlite3_step(s) == SQLITE_ROW) {
		const unsigned char *t = sqlite3_column_text(s, 0);
		if (!t || strcmp((const char *)t, "ok") != 0) {
			snprintf(why, why_len, "SQLite quick_check: %s", t ? (const char *)t : "?");
			sqlite3_finalize(s);
			return -EPROTO;
		}
	}
	sqlite3_finalize(s);

	/* One read transaction, so that every check sees the same snapshot. */
	bool own = sqlite3_get_autocommit(l->db);
	if (own)
		ledger__exec(l, "BEGIN");
	err = ledger_check_rounds(l, why, why_len);
	if (!err)
		err = ledger_check_revenue(l, why, why_len);
	if (!err)
		err = ledger_check_supply(l, why, why_len);
	if (!err)
		err = ledger_check_bids(l, why, why_len);
	if (!err)
		err = ledger_check_charges(l, why, why_len);
	if (!err)
		err = ledger_check_enforcement(l, why, why_len);
	if (own)
		ledger__exec(l, "COMMIT");
	return err;
}
