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

/* Version 2: money follows enforcement, and the registry has a life cycle.
 *   - host_acks keeps the first answer per (round, host) (kind 0: the agent's ack; kind 1:
 *     its fail-static carry-over, told when it registers again), ack_failures what of it
 *     failed, per tenant and resource ("" tenant: nothing of the set was applied);
 *   - settlements say per (round, host) whether the round's allocations there were in force
 *     (1 acknowledged, 2 carried over, 3 not acknowledged in time), credits give back the
 *     charge of each allocation that was not, with the host's reason; the charges view shows
 *     a credit as kind 3 with a negative amount in the round it was written (settled_round),
 *     so that a round's revenue is still the sum of its charges;
 *   - tenants and hosts have a status (0 active, 1 being removed, 2 removed) and the round
 *     they were removed after;
 *   - meta: enforcement_from (the first round the rule covers: rounds of a version-1 ledger
 *     were billed before it existed), settled_through (every round up to it is settled). */
static const char *const migration_2 =
	"ALTER TABLE tenants ADD COLUMN status INTEGER NOT NULL DEFAULT 0;"
	"ALTER TABLE tenants ADD COLUMN removed_round INTEGER;"
	"ALTER TABLE tenants ADD COLUMN removed_wall_ns INTEGER;"
	"ALTER TABLE hosts ADD COLUMN status INTEGER NOT NULL DEFAULT 0;"
	"ALTER TABLE hosts ADD COLUMN removed_round INTEGER;"
	"ALTER TABLE hosts ADD COLUMN removed_wall_ns INTEGER;"
	"ALTER TABLE host_acks ADD COLUMN kind INTEGER NOT NULL DEFAULT 0;"
	"ALTER TABLE host_acks ADD COLUMN wall_ns INTEGER NOT NULL DEFAULT 0;"
	"CREATE TABLE ack_failures ("
	"  round INTEGER NOT NULL,"
	"  host TEXT NOT NULL,"
	"  tenant TEXT NOT NULL,"
	"  resource INTEGER NOT NULL,"
	"  errno_value INTEGER NOT NULL,"
	"  message TEXT NOT NULL,"
	"  PRIMARY KEY (round, host, tenant, resource)) WITHOUT ROWID;"
	"CREATE TABLE settlements ("
	"  round INTEGER NOT NULL,"
	"  host TEXT NOT NULL,"
	"  outcome INTEGER NOT NULL,"
	"  settled_round INTEGER NOT NULL,"
	"  PRIMARY KEY (round, host)) WITHOUT ROWID;"
	"CREATE TABLE credits ("
	"  round INTEGER NOT NULL,"
	"  pool INTEGER NOT NULL,"
	"  bid INTEGER NOT NULL,"
	"  tenant INTEGER NOT NULL,"
	"  quantity INTEGER NOT NULL,"
	"  amount INTEGER NOT NULL CHECK (amount >= 0),"
	"  reason TEXT NOT NULL,"
	"  settled_round INTEGER NOT NULL,"
	"  PRIMARY KEY (round, pool, bid)) WITHOUT ROWID;"
	"CREATE INDEX credits_settled ON credits (settled_round);"
	"DROP VIEW charges;"
	"CREATE VIEW charges (round, tenant, pool, kind, quantity, amount) AS "
	"  SELECT round, tenant, pool, 1, quantity, charge FROM allocations "
	"  UNION ALL SELECT round, tenant, pool, 2, bytes, amount FROM egress "
	"  UNION ALL SELECT settled_round, tenant, pool, 3, quantity, -amount FROM credits;"
	"INSERT OR REPLACE INTO meta (key, value) SELECT 'enforcement_from', "
	"  COALESCE(MAX(round), 0) + 1 FROM rounds;"
	"INSERT OR REPLACE INTO meta (key, value) SELECT 'settled_through', "
	"  COALESCE(MAX(round), 0) FROM rounds;";

static const char *const migrations[] = {
	NULL, /* version 0: empty file */
	migration_1,
	migration_2,
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
