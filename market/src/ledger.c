/* ledger.c: opening the ledger, batches, and every row the market writes or reloads.
 *
 * All SQL the market runs at speed is a prepared statement kept for the life of the ledger
 * (ledger__stmt), and every write goes through ledger__write(), the one place that maps
 * SQLite errors to errno values and injects faults for the tests. The design notes and the
 * invariants are in ledger.h; the checks are in ledger_check.c. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/error.h"
#include "common/log.h"
#include "ledger_internal.h"

static const char *const stmt_sql[ST__COUNT] = {
	[ST_TENANT_INSERT] = "INSERT INTO tenants (name, public_key, budget, charged, "
			     "created_wall_ns) VALUES (?1, ?2, ?3, 0, ?4)",
	[ST_TENANT_BY_KEY] = "SELECT id, name, public_key, budget, charged, created_wall_ns "
			     "FROM tenants WHERE public_key = ?1",
	[ST_TENANT_BY_NAME] = "SELECT id, name, public_key, budget, charged, created_wall_ns "
			      "FROM tenants WHERE name = ?1",
	[ST_TENANT_CHARGE] = "UPDATE tenants SET charged = charged + ?2 WHERE id = ?1",
	[ST_HOST_INSERT] = "INSERT INTO hosts (name, public_key, created_wall_ns) "
			   "VALUES (?1, ?2, ?3)",
	[ST_HOST_BY_KEY] = "SELECT id, name, public_key, created_wall_ns FROM hosts "
			   "WHERE public_key = ?1",
	[ST_HOST_BY_NAME] = "SELECT id, name, public_key, created_wall_ns FROM hosts "
			    "WHERE name = ?1",
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
	[ST_ACK_PUT] = "INSERT OR REPLACE INTO host_acks (round, host, complete, failures) "
		       "VALUES (?1, ?2, ?3, ?4)",
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

static int map_rc(int rc)
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
		return -EIO;
	}
	rc = sqlite3_step(s);
	sqlite3_reset(s);
	sqlite3_clear_bindings(s);
	if (rc != SQLITE_DONE) {
		if ((rc & 0xff) != SQLITE_CONSTRAINT)
			log_error("ledger: write failed: %s", sqlite3_errmsg(l->db));
		return map_rc(rc) ? map_rc(rc) : -EIO;
	}
	return 0;
}

int ledger__exec(struct ledger *l, const char *sql)
{
	int rc = sqlite3_exec(l->db, sql, NULL, NULL, NULL);

	return rc == SQLITE_OK ? 0 : map_rc(rc) ? map_rc(rc) : -EIO;
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
	return rc == SQLITE_ROW ? 0 : map_rc(rc) ? map_rc(rc) : -EIO;
}

/* ---- Open and close ---- */

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
		err = rc == SQLITE_CANTOPEN ? -ENOENT : map_rc(rc) ? map_rc(rc) : -EIO;
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
		if (!err && opt->manual_checkpoint)
			err = ledger__exec(l, "PRAGMA wal_autocheckpoint = 0");
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

int ledger_checkpoint(struct ledger *l)
{
	int rc = sqlite3_wal_checkpoint_v2(l->db, NULL, SQLITE_CHECKPOINT_PASSIVE, NULL, NULL);

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
	if (!err)
		l->in_batch = true;
	return err;
}

int ledger_commit(struct ledger *l)
{
	int err;

	if (!l->in_batch)
		return -EINVAL;
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
}

static void read_host(sqlite3_stmt *s, struct ledger_host *h)
{
	h->id = sqlite3_column_int64(s, 0);
	ledger__column_text(s, 1, h->name, sizeof(h->name));
	ledger__column_text(s, 2, h->public_key, sizeof(h->public_key));
	h->created_wall_ns = sqlite3_column_int64(s, 3);
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
	return rc == SQLITE_DONE ? -ENOENT : map_rc(rc) ? map_rc(rc) : -EIO;
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

/* Runs sql (no parameters) and hands each row to each(row, arg); stops on non-zero. */
static int each_row(struct ledger *l, const char *sql, int64_t p1, bool bind_p1,
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
	return rc == SQLITE_DONE ? 0 : map_rc(rc) ? map_rc(rc) : -EIO;
}

struct each_ctx {
	void *fn;
	void *arg;
	uint64_t round;
};

static int tenant_row(sqlite3_stmt *s, void *a)
{
	struct each_ctx *c = a;
	struct ledger_tenant t;

	read_tenant(s, &t);
	return ((ledger_tenant_fn)c->fn)(c->arg, &t);
}

static int host_row(sqlite3_stmt *s, void *a)
{
	struct each_ctx *c = a;
	struct ledger_host h;

	read_host(s, &h);
	return ((ledger_host_fn)c->fn)(c->arg, &h);
}

int ledger_tenants_each(struct ledger *l, ledger_tenant_fn fn, void *arg)
{
	struct each_ctx c = {(void *)fn, arg, 0};

	return each_row(l,
			"SELECT id, name, public_key, budget, charged, created_wall_ns FROM tenants "
			"ORDER BY name",
			0, false, tenant_row, &c);
}

int ledger_hosts_each(struct ledger *l, ledger_host_fn fn, void *arg)
{
	struct each_ctx c = {(void *)fn, arg, 0};

	return each_row(l, "SELECT id, name, public_key, created_wall_ns FROM hosts ORDER BY name",
			0, false, host_row, &c);
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
	struct each_ctx *c = a;
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
	struct each_ctx c = {(void *)fn, arg, 0};

	return each_row(l,
			"SELECT id, host, resource, supply, model, params, from_config FROM pools "
			"ORDER BY id",
			0, false, pool_row, &c);
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

/* ---- Bids ---- */

/* Pairs of int64 in little-endian order: the on-disk form of curves and ranges. */
static void put_le64(uint8_t *p, int64_t v)
{
	uint64_t u = (uint64_t)v;
	for (int i = 0; i < 8; i++)
		p[i] = (uint8_t)(u >> (8 * i));
}

static int64_t get_le64(const uint8_t *p)
{
	uint64_t u = 0;
	for (int i = 0; i < 8; i++)
		u |= (uint64_t)p[i] << (8 * i);
	return (int64_t)u;
}

static size_t encode_pairs(uint8_t *buf, const int64_t (*pairs)[2], size_t n)
{
	for (size_t i = 0; i < n; i++) {
		put_le64(buf + 16 * i, pairs[i][0]);
		put_le64(buf + 16 * i + 8, pairs[i][1]);
	}
	return 16 * n;
}

static size_t decode_pairs(const void *blob, int bytes, int64_t (*pairs)[2], size_t max)
{
	size_t n = bytes > 0 ? (size_t)bytes / 16 : 0;

	if (n > max)
		n = max;
	for (size_t i = 0; i < n; i++) {
		pairs[i][0] = get_le64((const uint8_t *)blob + 16 * i);
		pairs[i][1] = get_le64((const uint8_t *)blob + 16 * i + 8);
	}
	return n;
}

int ledger_bid_insert(struct ledger *l, struct ledger_bid *b)
{
	sqlite3_stmt *s = ledger__stmt(l, ST_BID_INSERT);
	uint8_t curve[16 * LEDGER_CURVE_MAX], ranges[16 * LEDGER_RANGES_MAX];
	size_t nc, nr;
	int64_t tmp[LEDGER_CURVE_MAX > LEDGER_RANGES_MAX ? LEDGER_CURVE_MAX : LEDGER_RANGES_MAX][2];
	int err;

	if (!s)
		return -EIO;
	if (b->ncurve > LEDGER_CURVE_MAX || b->nranges > LEDGER_RANGES_MAX)
		return -EINVAL;
	for (size_t i = 0; i < b->ncurve; i++) {
		tmp[i][0] = b->curve[i].quantity;
		tmp[i][1] = b->curve[i].unit_value;
	}
	nc = encode_pairs(curve, (const int64_t(*)[2])tmp, b->ncurve);
	for (size_t i = 0; i < b->nranges; i++) {
		tmp[i][0] = b->ranges[i].min;
		tmp[i][1] = b->ranges[i].max;
	}
	nr = encode_pairs(ranges, (const int64_t(*)[2])tmp, b->nranges);

	sqlite3_bind_int64(s, 1, b->tenant);
	ledger__bind_text(s, 2, b->bid_id);
	sqlite3_bind_int(s, 3, b->kind);
	sqlite3_bind_int(s, 4, b->resource);
	ledger__bind_text(s, 5, b->host);
	sqlite3_bind_int64(s, 6, b->min_quantity);
	sqlite3_bind_int64(s, 7, b->max_quantity);
	sqlite3_bind_int64(s, 8, b->unit_price);
	if (nc)
		sqlite3_bind_blob(s, 9, curve, (int)nc, SQLITE_STATIC);
	if (nr)
		sqlite3_bind_blob(s, 10, ranges, (int)nr, SQLITE_STATIC);
	sqlite3_bind_int64(s, 11, (int64_t)b->first_round);
	sqlite3_bind_int64(s, 12, (int64_t)b->request_id);
	err = ledger__write(l, s);
	if (!err) {
		b->id = sqlite3_last_insert_rowid(l->db);
		b->last_round = -1;
	}
	return err;
}

int ledger_bid_end(struct ledger *l, int64_t id, int64_t last_round)
{
	sqlite3_stmt *s = ledger__stmt(l, ST_BID_END);
	int err;

	if (!s)
		return -EIO;
	sqlite3_bind_int64(s, 1, id);
	sqlite3_bind_int64(s, 2, last_round);
	err = ledger__write(l, s);
	if (!err && sqlite3_changes(l->db) != 1)
		err = -ENOENT;
	return err;
}

static void read_bid(sqlite3_stmt *s, struct ledger_bid *b)
{
	int64_t tmp[LEDGER_CURVE_MAX > LEDGER_RANGES_MAX ? LEDGER_CURVE_MAX : LEDGER_RANGES_MAX][2];

	memset(b, 0, sizeof(*b));
	b->id = sqlite3_column_int64(s, 0);
	b->tenant = sqlite3_column_int64(s, 1);
	ledger__column_text(s, 2, b->bid_id, sizeof(b->bid_id));
	b->kind = sqlite3_column_int(s, 3);
	b->resource = sqlite3_column_int(s, 4);
	ledger__column_text(s, 5, b->host, sizeof(b->host));
	b->min_quantity = sqlite3_column_int64(s, 6);
	b->max_quantity = sqlite3_column_int64(s, 7);
	b->unit_price = sqlite3_column_int64(s, 8);
	b->ncurve = decode_pairs(sqlite3_column_blob(s, 9), sqlite3_column_bytes(s, 9), tmp,
				 LEDGER_CURVE_MAX);
	for (size_t i = 0; i < b->ncurve; i++) {
		b->curve[i].quantity = tmp[i][0];
		b->curve[i].unit_value = tmp[i][1];
	}
	b->nranges = decode_pairs(sqlite3_column_blob(s, 10), sqlite3_column_bytes(s, 10), tmp,
				  LEDGER_RANGES_MAX);
	for (size_t i = 0; i < b->nranges; i++) {
		b->ranges[i].min = tmp[i][0];
		b->ranges[i].max = tmp[i][1];
	}
	b->first_round = (uint64_t)sqlite3_column_int64(s, 11);
	b->last_round = sqlite3_column_type(s, 12) == SQLITE_NULL ? -1
								  : sqlite3_column_int64(s, 12);
	b->request_id = (uint64_t)sqlite3_column_int64(s, 13);
}

static int bid_row(sqlite3_stmt *s, void *a)
{
	struct each_ctx *c = a;
	struct ledger_bid *b = malloc(sizeof(*b));
	int rc;

	if (!b)
		return -ENOMEM;
	read_bid(s, b);
	rc = ((ledger_bid_fn)c->fn)(c->arg, b);
	free(b);
	return rc;
}

int ledger_bids_standing_each(struct ledger *l, ledger_bid_fn fn, void *arg)
{
	struct each_ctx c = {(void *)fn, arg, 0};

	return each_row(l,
			"SELECT id, tenant, bid_id, kind, resource, host, min_quantity, "
			"max_quantity, unit_price, curve, ranges, first_round, last_round, "
			"request_id FROM bids WHERE last_round IS NULL ORDER BY id",
			0, false, bid_row, &c);
}

int ledger_bid_standing(struct ledger *l, int64_t tenant, const char *bid_id,
			struct ledger_bid *out)
{
	sqlite3_stmt *s = ledger__stmt(l, ST_BID_STANDING);
	int rc;

	if (!s)
		return -EIO;
	sqlite3_bind_int64(s, 1, tenant);
	ledger__bind_text(s, 2, bid_id);
	rc = sqlite3_step(s);
	if (rc == SQLITE_ROW)
		read_bid(s, out);
	sqlite3_reset(s);
	sqlite3_clear_bindings(s);
	return rc == SQLITE_ROW ? 0 : rc == SQLITE_DONE ? -ENOENT : -EIO;
}

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

static int cmp_tenant(const void *a, const void *b)
{
	int64_t x = *(const int64_t *)a, y = *(const int64_t *)b;
	return x < y ? -1 : x > y;
}

/* Adds the round's charges to each tenant's running total (one UPDATE per tenant). */
static int add_totals(struct ledger *l, const struct ledger_round *r)
{
	sqlite3_stmt *s = ledger__stmt(l, ST_TENANT_CHARGE);
	size_t n = r->nallocs + r->negress;
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
	qsort(t, n, sizeof(*t), cmp_tenant);
	for (size_t i = 0; i < n && !err;) {
		money_t sum = 0;
		size_t j = i;
		for (; j < n && t[j].tenant == t[i].tenant; j++)
			if (money_add(sum, t[j].amount, &sum) != 0)
				err = -RAAS_EOVERFLOW;
		if (!err && sum != 0) {
			sqlite3_bind_int64(s, 1, t[i].tenant);
			sqlite3_bind_int64(s, 2, sum);
			err = ledger__write(l, s);
		}
		i = j;
	}
	free(t);
	return err;
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

	if (!(s = ledger__stmt(l, ST_ALLOC_INSERT)))
		return -EIO;
	for (size_t i = 0; i < r->nallocs; i++) {
		const struct ledger_alloc_row *a = &r->allocs[i];
		sqlite3_bind_int64(s, 1, (int64_t)r->round);
		sqlite3_bind_int64(s, 2, a->pool);
		sqlite3_bind_int64(s, 3, a->bid);
		sqlite3_bind_int64(s, 4, a->tenant);
		sqlite3_bind_int64(s, 5, a->quantity);
		sqlite3_bind_int64(s, 6, a->unit_price);
		sqlite3_bind_int64(s, 7, a->payment_per_hour);
		sqlite3_bind_int64(s, 8, a->charge);
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
	if (sum != r->revenue) {
		log_error("ledger: round %llu revenue %lld is not the sum of its charges %lld",
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
	if (!err)
		err = ledger_commit(l);
	if (err)
		ledger_rollback(l);
	return err;
}

static int price_row(sqlite3_stmt *s, void *a)
{
	struct each_ctx *c = a;
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
	struct each_ctx c = {(void *)fn, arg, round};

	return each_row(l,
			"SELECT pool, unit_price, supply, allocated, revenue_per_hour, "
			"welfare_per_hour, bids, clear_ns FROM prices WHERE round = ?1 ORDER BY pool",
			(int64_t)round, true, price_row, &c);
}

static int alloc_row(sqlite3_stmt *s, void *a)
{
	struct each_ctx *c = a;
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
	struct each_ctx c = {(void *)fn, arg, round};

	return each_row(l,
			"SELECT a.pool, a.bid, a.tenant, a.quantity, a.unit_price, "
			"a.payment_per_hour, b.bid_id, a.charge FROM allocations a LEFT JOIN bids b "
			"ON b.id = a.bid WHERE a.round = ?1 ORDER BY a.pool, a.bid",
			(int64_t)round, true, alloc_row, &c);
}

static int meter_row(sqlite3_stmt *s, void *a)
{
	struct each_ctx *c = a;
	struct ledger_meter_row m;

	memset(&m, 0, sizeof(m));
	ledger__column_text(s, 0, m.host, sizeof(m.host));
	m.tenant = sqlite3_column_int64(s, 1);
	m.tx_bytes = (uint64_t)sqlite3_column_int64(s, 2);
	return ((ledger_meter_fn)c->fn)(c->arg, &m);
}

int ledger_meters_each(struct ledger *l, ledger_meter_fn fn, void *arg)
{
	struct each_ctx c = {(void *)fn, arg, 0};

	return each_row(l, "SELECT host, tenant, tx_bytes FROM meters ORDER BY host, tenant", 0,
			false, meter_row, &c);
}

int ledger_host_ack_put(struct ledger *l, uint64_t round, const char *host, bool complete,
			const char *failures)
{
	sqlite3_stmt *s = ledger__stmt(l, ST_ACK_PUT);

	if (!s)
		return -EIO;
	sqlite3_bind_int64(s, 1, (int64_t)round);
	ledger__bind_text(s, 2, host);
	sqlite3_bind_int(s, 3, complete);
	ledger__bind_text(s, 4, failures ? failures : "");
	return ledger__write(l, s);
}
