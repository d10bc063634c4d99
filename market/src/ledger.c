/* ledger.c: opening the ledger, batches, the registry, pools and request answers.
 *
 * All SQL the market runs at speed is a prepared statement kept for the life of the ledger
 * (ledger__stmt), and every write goes through ledger__write(), the one place that maps
 * SQLite errors to errno values and injects faults for the tests. The design notes and the
 * invariants are in ledger.h; bids are in ledger_bids.c, rounds in ledger_round.c, the
 * checks in ledger_check.c, reports in ledger_report.c. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/error.h"
#include "common/log.h"
#include "ledger_internal.h"

#define TENANT_COLUMNS                                                                     \
	"SELECT id, name, public_key, budget, charged, created_wall_ns, status, "             \
	"COALESCE(removed_round, -1) "
#define HOST_COLUMNS                                                                       \
	"SELECT id, name, public_key, created_wall_ns, status, COALESCE(removed_round, -1) "

static const char *const stmt_sql[ST__COUNT] = {
	[ST_TENANT_INSERT] = "INSERT INTO tenants (name, public_key, budget, charged, "
			     "created_wall_ns) VALUES (?1, ?2, ?3, 0, ?4)",
	[ST_TENANT_BY_KEY] = TENANT_COLUMNS "FROM tenants WHERE public_key = ?1",
	[ST_TENANT_BY_NAME] = TENANT_COLUMNS "FROM tenants WHERE name = ?1",
	[ST_TENANT_CHARGE] = "UPDATE tenants SET charged = charged + ?2 WHERE id = ?1",
	[ST_HOST_INSERT] = "INSERT INTO hosts (name, public_key, created_wall_ns) "
			   "VALUES (?1, ?2, ?3)",
	[ST_HOST_BY_KEY] = HOST_COLUMNS "FROM hosts WHERE public_key = ?1",
	[ST_HOST_BY_NAME] = HOST_COLUMNS "FROM hosts WHERE name = ?1",
	[ST_POOL_FIND] = "SELECT id FROM pools WHERE host = ?1 AND resource = ?2",
	[ST_POOL_INSERT] = "INSERT INTO pools (host, resource, supply, model, params, "
			   "from_config) VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
	[ST_POOL_UPDATE] = "UPDATE pools SET supply = ?2, model = ?3, params = ?4, "
			   "from_config = ?5 WHERE id = ?1",
	[ST_REQUEST_GET] = "SELECT reply FROM requests WHERE tenant = ?1 AND request_id = ?2",
	[ST_REQUEST_PUT] = "INSERT INTO requests (tenant, request_id, round, kind, reply, "
			   "wall_ns) VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
	[ST_REQUEST_PRUNE] = "DELETE FROM requests WHERE wall_ns < ?1",
	[ST_REQUEST_MAX] = "SELECT MAX(request_id) FROM requests WHERE tenant = ?1 AND "
			   "request_id >= 0",
	[ST_BID_INSERT] = "INSERT INTO bids (tenant, bid_id, kind, resource, host, min_quantity, "
			  "max_quantity, unit_price, curve, ranges, first_round, last_round, "
			  "request_id) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, NULL, "
			  "?12)",
	[ST_BID_END] = "UPDATE bids SET last_round = ?2 WHERE id = ?1 AND last_round IS NULL",
	[ST_BID_STANDING] = "SELECT id, tenant, bid_id, kind, resource, host, min_quantity, "
			    "max_quantity, unit_price, curve, ranges, first_round, last_round, "
			    "request_id FROM bids WHERE tenant = ?1 AND bid_id = ?2 AND "
			    "last_round IS NULL",
	[ST_ROUND_LAST] = "SELECT round, end_wall_ns FROM rounds ORDER BY round DESC LIMIT 1",
	[ST_ROUND_INSERT] = "INSERT INTO rounds (round, start_wall_ns, end_wall_ns, round_ns, "
			    "revenue, bids) VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
	[ST_PRICE_INSERT] = "INSERT INTO prices (round, pool, unit_price, supply, allocated, "
			    "revenue_per_hour, welfare_per_hour, bids, clear_ns) "
			    "VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9)",
	[ST_ALLOC_INSERT] = "INSERT INTO allocations (round, pool, bid, tenant, quantity, "
			    "unit_price, payment_per_hour, charge) VALUES (?1, ?2, ?3, ?4, ?5, ?6, "
			    "?7, ?8)",
	[ST_EGRESS_INSERT] = "INSERT INTO egress (round, tenant, pool, bytes, amount) "
			     "VALUES (?1, ?2, ?3, ?4, ?5)",
	[ST_METER_PUT] = "INSERT INTO meters (host, tenant, tx_bytes, round) "
			 "VALUES (?1, ?2, ?3, ?4) ON CONFLICT (host, tenant) DO UPDATE SET "
			 "tx_bytes = excluded.tx_bytes, round = excluded.round",
	[ST_ACK_PUT] = "INSERT OR IGNORE INTO host_acks (round, host, complete, failures, kind, "
		       "wall_ns) VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
	[ST_ACK_FAILURE_PUT] = "INSERT OR IGNORE INTO ack_failures (round, host, tenant, resource, "
			       "errno_value, message) VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
	[ST_SETTLEMENT_PUT] = "INSERT INTO settlements (round, host, outcome, settled_round) "
			      "VALUES (?1, ?2, ?3, ?4)",
	[ST_CREDIT_INSERT] = "INSERT INTO credits (round, pool, bid, tenant, quantity, amount, "
			     "reason, settled_round) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)",
	[ST_META_GET] = "SELECT value FROM meta WHERE key = ?1",
	[ST_META_SET] = "INSERT OR REPLACE INTO meta (key, value) VALUES (?1, ?2)",
	[ST_TENANT_STATUS] = "UPDATE tenants SET status = ?2, removed_round = ?3, "
			     "removed_wall_ns = ?4 WHERE id = ?1",
	[ST_HOST_STATUS] = "UPDATE hosts SET status = ?2, removed_round = ?3, removed_wall_ns = ?4 "
			   "WHERE id = ?1",
	[ST_TENANT_BUDGET] = "UPDATE tenants SET budget = ?2 WHERE id = ?1",
	[ST_BIDS_END_TENANT] = "UPDATE bids SET last_round = ?2 WHERE tenant = ?1 AND "
			       "last_round IS NULL",
};

/* ---- Helpers shared by the ledger's files ---- */

sqlite3_stmt *ledger__stmt(struct ledger *l, enum ledger_stmt id)
{
	if (!l->stmt[id] &&
	    sqlite3_prepare_v3(l->db, stmt_sql[id], -1, SQLITE_PREPARE_PERSISTENT, &l->stmt[id],
			       NULL) != SQLITE_OK) {
		log_error("ledger: cannot prepare statement %d: %s", (int)id,
			  sqlite3_errmsg(l->db));
		return NULL;
	}
	return l->stmt[id];
}

int ledger__map_rc(int rc)
{
	switch (rc & 0xff) {
	case SQLITE_OK:
	case SQLITE_DONE:
	case SQLITE_ROW:
		return 0;
	case SQLITE_CONSTRAINT:
		return -EEXIST;
	case SQLITE_BUSY:
	case SQLITE_LOCKED:
		return -EBUSY;
	case SQLITE_NOMEM:
		return -ENOMEM;
	case SQLITE_READONLY:
		return -EROFS;
	case SQLITE_FULL:
		return -ENOSPC;
	default:
		return -EIO;
	}
}

int ledger__write(struct ledger *l, sqlite3_stmt *s)
{
	int rc;

	if (!s)
		return -EIO;
	if (l->fault_countdown > 0 && --l->fault_countdown == 0) {
		sqlite3_reset(s);
		sqlite3_clear_bindings(s);
		log_warn("ledger: injected write fault");
		l->batch_failed = l->in_batch;
		return -EIO;
	}
	rc = sqlite3_step(s);
	sqlite3_reset(s);
	sqlite3_clear_bindings(s);
	if (rc != SQLITE_DONE) {
		l->batch_failed = l->in_batch;
		if ((rc & 0xff) != SQLITE_CONSTRAINT)
			log_error("ledger: write failed: %s", sqlite3_errmsg(l->db));
		return ledger__map_rc(rc) ? ledger__map_rc(rc) : -EIO;
	}
	return 0;
}

int ledger__exec(struct ledger *l, const char *sql)
{
	int rc = sqlite3_exec(l->db, sql, NULL, NULL, NULL);

	return rc == SQLITE_OK ? 0 : ledger__map_rc(rc) ? ledger__map_rc(rc) : -EIO;
}

void ledger__bind_text(sqlite3_stmt *s, int i, const char *text)
{
	sqlite3_bind_text(s, i, text, -1, SQLITE_STATIC);
}

void ledger__column_text(sqlite3_stmt *s, int i, char *buf, size_t len)
{
	const unsigned char *t = sqlite3_column_text(s, i);

	snprintf(buf, len, "%s", t ? (const char *)t : "");
}

int ledger__query_int(struct ledger *l, const char *sql, int64_t *out)
{
	sqlite3_stmt *s;
	int rc = sqlite3_prepare_v2(l->db, sql, -1, &s, NULL);

	if (rc != SQLITE_OK)
		return -EIO;
	rc = sqlite3_step(s);
	if (rc == SQLITE_ROW)
		*out = sqlite3_column_int64(s, 0);
	sqlite3_finalize(s);
	return rc == SQLITE_ROW ? 0 : ledger__map_rc(rc) ? ledger__map_rc(rc) : -EIO;
}

/* ---- Open and close ---- */

/* Remembers how long the WAL is after each commit (manual checkpoints only). */
static int wal_hook(void *arg, sqlite3 *db, const char *name, int frames)
{
	(void)db;
	(void)name;
	((struct ledger *)arg)->wal_frames = frames;
	return SQLITE_OK;
}


int ledger_open(const char *path, const struct ledger_options *opt, struct ledger **out,
		char *why, size_t why_len)
{
	struct ledger_options defaults = {0};
	struct ledger *l;
	int flags, rc, err;
	bool memory = strcmp(path, ":memory:") == 0;

	if (!opt)
		opt = &defaults;
	if (why_len)
		why[0] = '\0';
	l = calloc(1, sizeof(*l));
	if (!l)
		return -ENOMEM;
	snprintf(l->path, sizeof(l->path), "%s", path);
	l->readonly = opt->readonly;
	flags = opt->readonly ? SQLITE_OPEN_READONLY : SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE;
	rc = sqlite3_open_v2(path, &l->db, flags | SQLITE_OPEN_NOMUTEX, NULL);
	if (rc != SQLITE_OK) {
		snprintf(why, why_len, "%s: cannot open the ledger: %s", path,
			 l->db ? sqlite3_errmsg(l->db) : sqlite3_errstr(rc));
		err = rc == SQLITE_CANTOPEN ? -ENOENT : ledger__map_rc(rc) ? ledger__map_rc(rc) : -EIO;
		goto fail;
	}
	sqlite3_extended_result_codes(l->db, 1);
	sqlite3_busy_timeout(l->db, opt->busy_timeout_ms > 0 ? opt->busy_timeout_ms : 5000);

	if (!opt->readonly) {
		if (!memory && (err = ledger__exec(l, "PRAGMA journal_mode = WAL")) != 0) {
			snprintf(why, why_len, "%s: cannot switch to WAL: %s", path,
				 sqlite3_errmsg(l->db));
			goto fail;
		}
		err = ledger__exec(l, opt->sync_full ? "PRAGMA synchronous = FULL"
						     : "PRAGMA synchronous = NORMAL");
		/* The market touches every tenant and bid each round: keep them cached. */
		if (!err)
			err = ledger__exec(l, "PRAGMA cache_size = -65536");
		if (!err && opt->manual_checkpoint && !memory) {
			err = ledger__exec(l, "PRAGMA wal_autocheckpoint = 0");
			sqlite3_wal_hook(l->db, wal_hook, l);
		}
		if (err) {
			snprintf(why, why_len, "%s: %s", path, sqlite3_errmsg(l->db));
			goto fail;
		}
		if ((err = ledger__migrate(l, why, why_len)) != 0)
			goto fail;
	} else {
		int64_t v = 0;
		if (ledger__query_int(l, "PRAGMA user_version", &v) != 0 || v == 0) {
			snprintf(why, why_len, "%s: not a raas ledger (no schema)", path);
			err = -RAAS_EVERSION;
			goto fail;
		}
		if (v != LEDGER_SCHEMA_VERSION) {
			snprintf(why, why_len,
				 "%s: ledger schema version %lld, this build reads %d (start "
				 "raas-marketd once to migrate it)",
				 path, (long long)v, LEDGER_SCHEMA_VERSION);
			err = -RAAS_EVERSION;
			goto fail;
		}
	}
	*out = l;
	return 0;
fail:
	sqlite3_close(l->db);
	free(l);
	return err;
}

int ledger_file_version(const char *path, int *version, char *why, size_t why_len)
{
	sqlite3 *db = NULL;
	sqlite3_stmt *s;
	int rc = sqlite3_open_v2(path, &db, SQLITE_OPEN_READONLY, NULL);

	*version = -1;
	if (rc == SQLITE_OK && sqlite3_prepare_v2(db, "PRAGMA user_version", -1, &s, NULL) ==
				       SQLITE_OK) {
		if (sqlite3_step(s) == SQLITE_ROW)
			*version = sqlite3_column_int(s, 0);
		else
			rc = sqlite3_errcode(db);
		sqlite3_finalize(s);
	} else if (rc == SQLITE_OK) {
		rc = sqlite3_errcode(db);
	}
	if (*version < 0)
		snprintf(why, why_len, "%s: %s", path,
			 db ? sqlite3_errmsg(db) : sqlite3_errstr(rc));
	sqlite3_close(db);
	return *version < 0 ? -EIO : 0;
}

void ledger_close(struct ledger *l)
{
	if (!l)
		return;
	if (l->in_batch)
		ledger_rollback(l);
	for (int i = 0; i < ST__COUNT; i++)
		sqlite3_finalize(l->stmt[i]);
	sqlite3_close(l->db);
	free(l);
}

const char *ledger_errmsg(struct ledger *l)
{
	return sqlite3_errmsg(l->db);
}

int ledger_schema_version(struct ledger *l)
{
	int64_t v = -1;

	ledger__query_int(l, "PRAGMA user_version", &v);
	return (int)v;
}

int64_t ledger_memory_used(void)
{
	return sqlite3_memory_used();
}

int ledger_checkpoint(struct ledger *l)
{
	/* Each checkpoint syncs the database file: wait until the WAL holds a few thousand
	 * pages rather than paying that every round. */
	if (l->wal_frames < LEDGER_CHECKPOINT_FRAMES)
		return 0;
	int rc = sqlite3_wal_checkpoint_v2(l->db, NULL, SQLITE_CHECKPOINT_PASSIVE, NULL, NULL);
	l->wal_frames = 0;
	return rc == SQLITE_OK || rc == SQLITE_BUSY ? 0 : -EIO;
}

void ledger_fault_set(struct ledger *l, int64_t nth_write)
{
	l->fault_countdown = nth_write > 0 ? nth_write : 0;
}

/* ---- Batches ---- */

int ledger_begin(struct ledger *l)
{
	int err;

	if (l->in_batch)
		return -EBUSY;
	err = ledger__exec(l, "BEGIN IMMEDIATE");
	if (!err) {
		l->in_batch = true;
		l->batch_failed = false;
	}
	return err;
}

int ledger_commit(struct ledger *l)
{
	int err;

	if (!l->in_batch)
		return -EINVAL;
	/* Half of a request must never commit with the rest of the batch. */
	if (l->batch_failed)
		return -EIO;
	if (l->fault_countdown > 0 && --l->fault_countdown == 0) {
		log_warn("ledger: injected commit fault");
		return -EIO;
	}
	err = ledger__exec(l, "COMMIT");
	if (!err)
		l->in_batch = false;
	return err;
}

void ledger_rollback(struct ledger *l)
{
	if (!sqlite3_get_autocommit(l->db))
		ledger__exec(l, "ROLLBACK");
	l->in_batch = false;
}

bool ledger_in_batch(const struct ledger *l)
{
	return l->in_batch;
}

int ledger_read_begin(struct ledger *l)
{
	/* A deferred transaction takes its snapshot at its first read. */
	return ledger__exec(l, "BEGIN") == 0 && ledger__exec(l, "SELECT 1 FROM rounds LIMIT 1") == 0
		       ? 0
		       : -EIO;
}

void ledger_read_end(struct ledger *l)
{
	if (!sqlite3_get_autocommit(l->db))
		ledger__exec(l, "COMMIT");
}

/* A write outside a batch runs in its own transaction. */
static int auto_begin(struct ledger *l, bool *own)
{
	*own = !l->in_batch;
	return *own ? ledger_begin(l) : 0;
}

static int auto_end(struct ledger *l, bool own, int err)
{
	if (!own)
		return err;
	if (!err)
		err = ledger_commit(l);
	if (err)
		ledger_rollback(l);
	return err;
}

/* ---- Registry ---- */

static int registry_add(struct ledger *l, enum ledger_stmt insert, enum ledger_stmt by_name,
			const char *what, const char *name,
			const char *public_key, money_t budget, int64_t now, int64_t *id,
			char *why, size_t why_len)
{
	sqlite3_stmt *s = ledger__stmt(l, insert);
	bool own;
	int err;

	if (!s)
		return -EIO;
	if ((err = auto_begin(l, &own)) != 0)
		return err;
	ledger__bind_text(s, 1, name);
	ledger__bind_text(s, 2, public_key);
	if (insert == ST_TENANT_INSERT) {
		sqlite3_bind_int64(s, 3, budget);
		sqlite3_bind_int64(s, 4, now);
	} else {
		sqlite3_bind_int64(s, 3, now);
	}
	err = ledger__write(l, s);
	if (!err && id)
		*id = sqlite3_last_insert_rowid(l->db);
	if (err == -EEXIST && why_len) {
		sqlite3_stmt *q = ledger__stmt(l, by_name);
		bool name_taken = false;
		if (q) {
			ledger__bind_text(q, 1, name);
			name_taken = sqlite3_step(q) == SQLITE_ROW;
			sqlite3_reset(q);
		}
		if (name_taken)
			snprintf(why, why_len, "a %s named \"%s\" exists already", what, name);
		else
			snprintf(why, why_len, "that public key belongs to another %s", what);
	}
	return auto_end(l, own, err);
}

int ledger_tenant_add(struct ledger *l, const char *name, const char *public_key,
		      money_t budget, int64_t now_wall_ns, int64_t *id, char *why, size_t why_len)
{
	return registry_add(l, ST_TENANT_INSERT, ST_TENANT_BY_NAME, "tenant",
			    name, public_key, budget, now_wall_ns, id, why, why_len);
}

int ledger_host_add(struct ledger *l, const char *name, const char *public_key,
		    int64_t now_wall_ns, int64_t *id, char *why, size_t why_len)
{
	return registry_add(l, ST_HOST_INSERT, ST_HOST_BY_NAME, "host", name,
			    public_key, 0, now_wall_ns, id, why, why_len);
}

static void read_tenant(sqlite3_stmt *s, struct ledger_tenant *t)
{
	t->id = sqlite3_column_int64(s, 0);
	ledger__column_text(s, 1, t->name, sizeof(t->name));
	ledger__column_text(s, 2, t->public_key, sizeof(t->public_key));
	t->budget = sqlite3_column_int64(s, 3);
	t->charged = sqlite3_column_int64(s, 4);
	t->created_wall_ns = sqlite3_column_int64(s, 5);
	t->status = sqlite3_column_int(s, 6);
	t->removed_round = sqlite3_column_int64(s, 7);
}

static void read_host(sqlite3_stmt *s, struct ledger_host *h)
{
	h->id = sqlite3_column_int64(s, 0);
	ledger__column_text(s, 1, h->name, sizeof(h->name));
	ledger__column_text(s, 2, h->public_key, sizeof(h->public_key));
	h->created_wall_ns = sqlite3_column_int64(s, 3);
	h->status = sqlite3_column_int(s, 4);
	h->removed_round = sqlite3_column_int64(s, 5);
}

/* Runs a one-row lookup by a text key; -ENOENT when there is no row. */
static int lookup_one(struct ledger *l, enum ledger_stmt id, const char *key,
		      void (*read)(sqlite3_stmt *, void *), void *out)
{
	sqlite3_stmt *s = ledger__stmt(l, id);
	int rc;

	if (!s)
		return -EIO;
	ledger__bind_text(s, 1, key);
	rc = sqlite3_step(s);
	if (rc == SQLITE_ROW)
		read(s, out);
	sqlite3_reset(s);
	sqlite3_clear_bindings(s);
	if (rc == SQLITE_ROW)
		return 0;
	return rc == SQLITE_DONE ? -ENOENT : ledger__map_rc(rc) ? ledger__map_rc(rc) : -EIO;
}

static void read_tenant_v(sqlite3_stmt *s, void *out)
{
	read_tenant(s, out);
}

static void read_host_v(sqlite3_stmt *s, void *out)
{
	read_host(s, out);
}

int ledger_tenant_by_key(struct ledger *l, const char *public_key, struct ledger_tenant *out)
{
	return lookup_one(l, ST_TENANT_BY_KEY, public_key, read_tenant_v, out);
}

int ledger_tenant_by_name(struct ledger *l, const char *name, struct ledger_tenant *out)
{
	return lookup_one(l, ST_TENANT_BY_NAME, name, read_tenant_v, out);
}

int ledger_host_by_key(struct ledger *l, const char *public_key, struct ledger_host *out)
{
	return lookup_one(l, ST_HOST_BY_KEY, public_key, read_host_v, out);
}

int ledger_host_by_name(struct ledger *l, const char *name, struct ledger_host *out)
{
	return lookup_one(l, ST_HOST_BY_NAME, name, read_host_v, out);
}

int ledger__each_row(struct ledger *l, const char *sql, int64_t p1, bool bind_p1,
		     int (*each)(sqlite3_stmt *, void *), void *arg)
{
	sqlite3_stmt *s;
	int rc, stop = 0;

	if (sqlite3_prepare_v2(l->db, sql, -1, &s, NULL) != SQLITE_OK)
		return -EIO;
	if (bind_p1)
		sqlite3_bind_int64(s, 1, p1);
	while ((rc = sqlite3_step(s)) == SQLITE_ROW)
		if ((stop = each(s, arg)) != 0)
			break;
	sqlite3_finalize(s);
	if (stop)
		return stop;
	return rc == SQLITE_DONE ? 0 : ledger__map_rc(rc) ? ledger__map_rc(rc) : -EIO;
}

static int tenant_row(sqlite3_stmt *s, void *a)
{
	struct ledger__each *c = a;
	struct ledger_tenant t;

	read_tenant(s, &t);
	return ((ledger_tenant_fn)c->fn)(c->arg, &t);
}

static int host_row(sqlite3_stmt *s, void *a)
{
	struct ledger__each *c = a;
	struct ledger_host h;

	read_host(s, &h);
	return ((ledger_host_fn)c->fn)(c->arg, &h);
}

int ledger_tenants_each(struct ledger *l, ledger_tenant_fn fn, void *arg)
{
	struct ledger__each c = {(void *)fn, arg, 0};

	return ledger__each_row(l,
				TENANT_COLUMNS "FROM tenants ORDER BY name",
				0, false, tenant_row, &c);
}

int ledger_hosts_each(struct ledger *l, ledger_host_fn fn, void *arg)
{
	struct ledger__each c = {(void *)fn, arg, 0};

	return ledger__each_row(l,
				HOST_COLUMNS "FROM hosts ORDER BY name",
				0, false, host_row, &c);
}

/* ---- Registry life cycle ---- */

/* Runs a one-statement update bound to (id, ...) in its own transaction unless in a batch;
 * -ENOENT when it changed no row. */
static int update_row(struct ledger *l, enum ledger_stmt id, int64_t key, int n,
		      const int64_t *values)
{
	sqlite3_stmt *s = ledger__stmt(l, id);
	bool own;
	int err;

	if (!s)
		return -EIO;
	if ((err = auto_begin(l, &own)) != 0)
		return err;
	sqlite3_bind_int64(s, 1, key);
	for (int i = 0; i < n; i++)
		sqlite3_bind_int64(s, i + 2, values[i]);
	err = ledger__write(l, s);
	if (!err && sqlite3_changes(l->db) == 0)
		err = -ENOENT;
	return auto_end(l, own, err);
}

static int set_status(struct ledger *l, enum ledger_stmt id, int64_t key, int status,
		      int64_t removed_round, int64_t now)
{
	sqlite3_stmt *s = ledger__stmt(l, id);
	bool own;
	int err;

	if (!s)
		return -EIO;
	if ((err = auto_begin(l, &own)) != 0)
		return err;
	sqlite3_bind_int64(s, 1, key);
	sqlite3_bind_int(s, 2, status);
	if (status == LEDGER_REMOVED) {
		sqlite3_bind_int64(s, 3, removed_round);
		sqlite3_bind_int64(s, 4, now);
	}
	err = ledger__write(l, s);
	if (!err && sqlite3_changes(l->db) == 0)
		err = -ENOENT;
	return auto_end(l, own, err);
}

int ledger_tenant_set_status(struct ledger *l, int64_t id, int status, int64_t removed_round,
			     int64_t now_wall_ns)
{
	return set_status(l, ST_TENANT_STATUS, id, status, removed_round, now_wall_ns);
}

int ledger_host_set_status(struct ledger *l, int64_t id, int status, int64_t removed_round,
			   int64_t now_wall_ns)
{
	return set_status(l, ST_HOST_STATUS, id, status, removed_round, now_wall_ns);
}

int ledger_tenant_set_budget(struct ledger *l, int64_t id, money_t budget)
{
	int64_t v = budget < 0 ? -1 : budget;

	return update_row(l, ST_TENANT_BUDGET, id, 1, &v);
}

int ledger_bids_end_tenant(struct ledger *l, int64_t tenant, int64_t last_round)
{
	sqlite3_stmt *s = ledger__stmt(l, ST_BIDS_END_TENANT);
	bool own;
	int err, n = 0;

	if (!s)
		return -EIO;
	if ((err = auto_begin(l, &own)) != 0)
		return err;
	sqlite3_bind_int64(s, 1, tenant);
	sqlite3_bind_int64(s, 2, last_round);
	err = ledger__write(l, s);
	if (!err)
		n = sqlite3_changes(l->db);
	err = auto_end(l, own, err);
	return err ? err : n;
}

/* ---- Meta ---- */

int ledger_meta_get(struct ledger *l, const char *key, char *buf, size_t len)
{
	sqlite3_stmt *s = ledger__stmt(l, ST_META_GET);
	int rc;

	if (!s)
		return -EIO;
	ledger__bind_text(s, 1, key);
	rc = sqlite3_step(s);
	if (rc == SQLITE_ROW)
		ledger__column_text(s, 0, buf, len);
	sqlite3_reset(s);
	sqlite3_clear_bindings(s);
	if (rc == SQLITE_ROW)
		return 0;
	return rc == SQLITE_DONE ? -ENOENT : -EIO;
}

int ledger_meta_get_int(struct ledger *l, const char *key, int64_t *out)
{
	char buf[32], *end;
	int err = ledger_meta_get(l, key, buf, sizeof(buf));

	if (err)
		return err;
	long long v = strtoll(buf, &end, 10);
	if (end == buf || *end)
		return -RAAS_EPARSE;
	*out = v;
	return 0;
}

int ledger_meta_set(struct ledger *l, const char *key, const char *value)
{
	sqlite3_stmt *s = ledger__stmt(l, ST_META_SET);
	bool own;
	int err;

	if (!s)
		return -EIO;
	if ((err = auto_begin(l, &own)) != 0)
		return err;
	ledger__bind_text(s, 1, key);
	ledger__bind_text(s, 2, value);
	err = ledger__write(l, s);
	return auto_end(l, own, err);
}

int ledger_meta_set_int(struct ledger *l, const char *key, int64_t value)
{
	char buf[32];

	snprintf(buf, sizeof(buf), "%lld", (long long)value);
	return ledger_meta_set(l, key, buf);
}

int ledger_data_version(struct ledger *l, int64_t *out)
{
	return ledger__query_int(l, "PRAGMA data_version", out);
}

/* ---- Pools ---- */

int ledger_pool_put(struct ledger *l, struct ledger_pool *p)
{
	sqlite3_stmt *find = ledger__stmt(l, ST_POOL_FIND), *s;
	bool own;
	int rc, err;

	if (!find)
		return -EIO;
	if ((err = auto_begin(l, &own)) != 0)
		return err;
	ledger__bind_text(find, 1, p->host);
	sqlite3_bind_int(find, 2, p->resource);
	rc = sqlite3_step(find);
	p->id = rc == SQLITE_ROW ? sqlite3_column_int64(find, 0) : 0;
	sqlite3_reset(find);
	sqlite3_clear_bindings(find);
	if (rc != SQLITE_ROW && rc != SQLITE_DONE)
		return auto_end(l, own, -EIO);

	if (p->id) {
		s = ledger__stmt(l, ST_POOL_UPDATE);
		if (!s)
			return auto_end(l, own, -EIO);
		sqlite3_bind_int64(s, 1, p->id);
		sqlite3_bind_int64(s, 2, p->supply);
		ledger__bind_text(s, 3, p->model);
		ledger__bind_text(s, 4, p->params);
		sqlite3_bind_int(s, 5, p->from_config);
		err = ledger__write(l, s);
	} else {
		s = ledger__stmt(l, ST_POOL_INSERT);
		if (!s)
			return auto_end(l, own, -EIO);
		ledger__bind_text(s, 1, p->host);
		sqlite3_bind_int(s, 2, p->resource);
		sqlite3_bind_int64(s, 3, p->supply);
		ledger__bind_text(s, 4, p->model);
		ledger__bind_text(s, 5, p->params);
		sqlite3_bind_int(s, 6, p->from_config);
		err = ledger__write(l, s);
		if (!err)
			p->id = sqlite3_last_insert_rowid(l->db);
	}
	return auto_end(l, own, err);
}

static int pool_row(sqlite3_stmt *s, void *a)
{
	struct ledger__each *c = a;
	struct ledger_pool p;

	memset(&p, 0, sizeof(p));
	p.id = sqlite3_column_int64(s, 0);
	ledger__column_text(s, 1, p.host, sizeof(p.host));
	p.resource = sqlite3_column_int(s, 2);
	p.supply = sqlite3_column_int64(s, 3);
	ledger__column_text(s, 4, p.model, sizeof(p.model));
	ledger__column_text(s, 5, p.params, sizeof(p.params));
	p.from_config = sqlite3_column_int(s, 6) != 0;
	return ((ledger_pool_fn)c->fn)(c->arg, &p);
}

int ledger_pools_each(struct ledger *l, ledger_pool_fn fn, void *arg)
{
	struct ledger__each c = {(void *)fn, arg, 0};

	return ledger__each_row(l,
				"SELECT id, host, resource, supply, model, params, from_config FROM pools "
				"ORDER BY id",
				0, false, pool_row, &c);
}

struct host_pools {
	const char *host;
	struct ledger_pool *out;
	int max, n;
};

static int host_pool_row(void *arg, const struct ledger_pool *p)
{
	struct host_pools *h = arg;

	if (strcmp(p->host, h->host) == 0 && h->n < h->max)
		h->out[h->n++] = *p;
	return 0;
}

int ledger_host_pools(struct ledger *l, const char *host, struct ledger_pool *out, int max,
		      int *n)
{
	struct host_pools h = {host, out, max, 0};
	int err = ledger_pools_each(l, host_pool_row, &h);

	*n = h.n;
	return err;
}

/* ---- Requests ---- */

int ledger_request_get(struct ledger *l, int64_t tenant, uint64_t request_id, uint8_t **reply,
		       size_t *len)
{
	sqlite3_stmt *s = ledger__stmt(l, ST_REQUEST_GET);
	int rc, err = 0;

	if (!s)
		return -EIO;
	sqlite3_bind_int64(s, 1, tenant);
	sqlite3_bind_int64(s, 2, (int64_t)request_id);
	rc = sqlite3_step(s);
	if (rc == SQLITE_ROW) {
		int n = sqlite3_column_bytes(s, 0);
		const void *b = sqlite3_column_blob(s, 0);
		*reply = malloc(n > 0 ? (size_t)n : 1);
		if (!*reply)
			err = -ENOMEM;
		else {
			if (n > 0)
				memcpy(*reply, b, (size_t)n);
			*len = (size_t)n;
		}
	} else {
		err = rc == SQLITE_DONE ? -ENOENT : -EIO;
	}
	sqlite3_reset(s);
	sqlite3_clear_bindings(s);
	return err;
}

int ledger_request_put(struct ledger *l, int64_t tenant, uint64_t request_id, uint64_t round,
		       int kind, const void *reply, size_t len, int64_t now_wall_ns)
{
	sqlite3_stmt *s = ledger__stmt(l, ST_REQUEST_PUT);

	if (!s)
		return -EIO;
	sqlite3_bind_int64(s, 1, tenant);
	sqlite3_bind_int64(s, 2, (int64_t)request_id);
	sqlite3_bind_int64(s, 3, (int64_t)round);
	sqlite3_bind_int(s, 4, kind);
	sqlite3_bind_blob(s, 5, len ? reply : "", (int)len, SQLITE_STATIC);
	sqlite3_bind_int64(s, 6, now_wall_ns);
	return ledger__write(l, s);
}

int ledger_request_max(struct ledger *l, int64_t tenant, uint64_t *out)
{
	sqlite3_stmt *s = ledger__stmt(l, ST_REQUEST_MAX);
	int rc;

	if (!s)
		return -EIO;
	sqlite3_bind_int64(s, 1, tenant);
	rc = sqlite3_step(s);
	*out = rc == SQLITE_ROW ? (uint64_t)sqlite3_column_int64(s, 0) : 0;
	sqlite3_reset(s);
	sqlite3_clear_bindings(s);
	return rc == SQLITE_ROW ? 0 : -EIO;
}
