/* ledger_schema.c: the ledger's schema and its migrations.
 *
 * PRAGMA user_version holds the schema version. Each migration moves the schema one version
 * up inside its own transaction, so a ledger is always at one version or the next, never in
 * between. A ledger newer than this build is refused rather than misread. Money columns are
 * INTEGER nanodollars; times INTEGER nanoseconds; resources the raas.proto enum values. */
#include <errno.h>
#include <stdio.h>

#include "common/error.h"
#include "ledger_internal.h"

static const char *const migration_1 =
	"CREATE TABLE meta ("
	"  key TEXT PRIMARY KEY,"
	"  value TEXT NOT NULL);"
	"CREATE TABLE tenants ("
	"  id INTEGER PRIMARY KEY,"
	"  name TEXT NOT NULL UNIQUE,"
	"  public_key TEXT NOT NULL UNIQUE,"
	"  budget INTEGER NOT NULL DEFAULT -1,"
	"  charged INTEGER NOT NULL DEFAULT 0,"
	"  created_wall_ns INTEGER NOT NULL);"
	"CREATE TABLE hosts ("
	"  id INTEGER PRIMARY KEY,"
	"  name TEXT NOT NULL UNIQUE,"
	"  public_key TEXT NOT NULL UNIQUE,"
	"  created_wall_ns INTEGER NOT NULL);"
	"CREATE TABLE pools ("
	"  id INTEGER PRIMARY KEY,"
	"  host TEXT NOT NULL,"
	"  resource INTEGER NOT NULL,"
	"  supply INTEGER NOT NULL CHECK (supply >= 0),"
	"  model TEXT NOT NULL,"
	"  params TEXT NOT NULL,"
	"  from_config INTEGER NOT NULL,"
	"  UNIQUE (host, resource));"
	"CREATE TABLE bids ("
	"  id INTEGER PRIMARY KEY,"
	"  tenant INTEGER NOT NULL,"
	"  bid_id TEXT NOT NULL,"
	"  kind INTEGER NOT NULL,"
	"  resource INTEGER NOT NULL,"
	"  host TEXT NOT NULL,"
	"  min_quantity INTEGER NOT NULL,"
	"  max_quantity INTEGER NOT NULL,"
	"  unit_price INTEGER NOT NULL,"
	"  curve BLOB,"
	"  ranges BLOB,"
	"  first_round INTEGER NOT NULL,"
	"  last_round INTEGER,"
	"  request_id INTEGER NOT NULL);"
	"CREATE UNIQUE INDEX bids_standing ON bids (tenant, bid_id) WHERE last_round IS NULL;"
	"CREATE TABLE requests ("
	"  tenant INTEGER NOT NULL,"
	"  request_id INTEGER NOT NULL,"
	"  round INTEGER NOT NULL,"
	"  kind INTEGER NOT NULL,"
	"  reply BLOB NOT NULL,"
	"  wall_ns INTEGER NOT NULL,"
	"  PRIMARY KEY (tenant, request_id)) WITHOUT ROWID;"
	"CREATE INDEX requests_age ON requests (wall_ns);"
	"CREATE TABLE rounds ("
	"  round INTEGER PRIMARY KEY,"
	"  start_wall_ns INTEGER NOT NULL,"
	"  end_wall_ns INTEGER NOT NULL,"
	"  round_ns INTEGER NOT NULL,"
	"  revenue INTEGER NOT NULL,"
	"  bids INTEGER NOT NULL);"
	"CREATE TABLE prices ("
	"  round INTEGER NOT NULL,"
	"  pool INTEGER NOT NULL,"
	"  unit_price INTEGER NOT NULL,"
	"  supply INTEGER NOT NULL,"
	"  allocated INTEGER NOT NULL,"
	"  revenue_per_hour INTEGER NOT NULL,"
	"  welfare_per_hour INTEGER NOT NULL,"
	"  bids INTEGER NOT NULL,"
	"  clear_ns INTEGER NOT NULL,"
	"  PRIMARY KEY (round, pool)) WITHOUT ROWID;"
	"CREATE TABLE allocations ("
	"  round INTEGER NOT NULL,"
	"  pool INTEGER NOT NULL,"
	"  bid INTEGER NOT NULL,"
	"  tenant INTEGER NOT NULL,"
	"  quantity INTEGER NOT NULL,"
	"  unit_price INTEGER NOT NULL,"
	"  payment_per_hour INTEGER NOT NULL,"
	"  charge INTEGER NOT NULL,"
	"  PRIMARY KEY (round, pool, bid)) WITHOUT ROWID;"
	"CREATE TABLE egress ("
	"  round INTEGER NOT NULL,"
	"  tenant INTEGER NOT NULL,"
	"  pool INTEGER NOT NULL,"
	"  bytes INTEGER NOT NULL,"
	"  amount INTEGER NOT NULL,"
	"  PRIMARY KEY (round, tenant, pool)) WITHOUT ROWID;"
	/* Every charge, one row per allocation (kind 1, hold) or metered reading (kind 2). */
	"CREATE VIEW charges (round, tenant, pool, kind, quantity, amount) AS "
	"  SELECT round, tenant, pool, 1, quantity, charge FROM allocations "
	"  UNION ALL SELECT round, tenant, pool, 2, bytes, amount FROM egress;"
	"CREATE TABLE meters ("
	"  host TEXT NOT NULL,"
	"  tenant INTEGER NOT NULL,"
	"  tx_bytes INTEGER NOT NULL,"
	"  round INTEGER NOT NULL,"
	"  PRIMARY KEY (host, tenant)) WITHOUT ROWID;"
	"CREATE TABLE host_acks ("
	"  round INTEGER NOT NULL,"
	"  host TEXT NOT NULL,"
	"  complete INTEGER NOT NULL,"
	"  failures TEXT NOT NULL,"
	"  PRIMARY KEY (round, host)) WITHOUT ROWID;"
	"INSERT INTO meta (key, value) VALUES ('created_by', 'raas-marketd/0.1');";

static const char *const migrations[] = {
	NULL, /* version 0: empty file */
	migration_1,
};

/* Reads the version inside the transaction, so that two processes opening a new ledger at
 * once (the market and the CLI) cannot both create the schema. */
static int read_version(struct ledger *l, int64_t *version, char *why, size_t why_len)
{
	int err = ledger__query_int(l, "PRAGMA user_version", version);

	if (err) {
		snprintf(why, why_len, "%s: cannot read the schema version: %s", l->path,
			 sqlite3_errmsg(l->db));
		return err;
	}
	if (*version > LEDGER_SCHEMA_VERSION || *version < 0) {
		snprintf(why, why_len,
			 "%s: ledger schema version %lld is not one this build knows (0 to %d); "
			 "use a newer raas-marketd",
			 l->path, (long long)*version, LEDGER_SCHEMA_VERSION);
		return -RAAS_EVERSION;
	}
	return 0;
}

int ledger__migrate(struct ledger *l, char *why, size_t why_len)
{
	for (;;) {
		int64_t v;
		char sql[64];
		int err = ledger__exec(l, "BEGIN IMMEDIATE");

		if (err) {
			snprintf(why, why_len, "%s: cannot lock the ledger to migrate it: %s",
				 l->path, sqlite3_errmsg(l->db));
			return err;
		}
		err = read_version(l, &v, why, why_len);
		if (err || v == LEDGER_SCHEMA_VERSION) {
			ledger__exec(l, err ? "ROLLBACK" : "COMMIT");
			return err;
		}
		snprintf(sql, sizeof(sql), "PRAGMA user_version = %lld", (long long)(v + 1));
		if ((err = ledger__exec(l, migrations[v + 1])) != 0 ||
		    (err = ledger__exec(l, sql)) != 0 || (err = ledger__exec(l, "COMMIT")) != 0) {
			snprintf(why, why_len, "%s: migration to schema version %lld failed: %s",
				 l->path, (long long)(v + 1), sqlite3_errmsg(l->db));
			ledger__exec(l, "ROLLBACK");
			return err;
		}
	}
}
