/* ledger_internal.h: what the ledger's source files share (not part of the API). */
#ifndef MARKET_LEDGER_INTERNAL_H
#define MARKET_LEDGER_INTERNAL_H

#include <sqlite3.h>

#include "market/ledger.h"

/* Prepared statements, created on first use and kept for the life of the ledger. */
enum ledger_stmt {
	ST_TENANT_INSERT,
	ST_TENANT_BY_KEY,
	ST_TENANT_BY_NAME,
	ST_TENANT_CHARGE,
	ST_HOST_INSERT,
	ST_HOST_BY_KEY,
	ST_HOST_BY_NAME,
	ST_POOL_FIND,
	ST_POOL_INSERT,
	ST_POOL_UPDATE,
	ST_REQUEST_GET,
	ST_REQUEST_PUT,
	ST_REQUEST_PRUNE,
	ST_REQUEST_MAX,
	ST_BID_INSERT,
	ST_BID_END,
	ST_BID_STANDING,
	ST_ROUND_LAST,
	ST_ROUND_INSERT,
	ST_PRICE_INSERT,
	ST_ALLOC_INSERT,
	ST_EGRESS_INSERT,
	ST_METER_PUT,
	ST_ACK_PUT,
	ST_ACK_FAILURE_PUT,
	ST_SETTLEMENT_PUT,
	ST_CREDIT_INSERT,
	ST_META_GET,
	ST_META_SET,
	ST_TENANT_STATUS,
	ST_HOST_STATUS,
	ST_TENANT_BUDGET,
	ST_BIDS_END_TENANT,
	/* Generated in ledger_round.c (LEDGER_ROWS_PER_WRITE rows per statement). */
	ST_ALLOC_INSERT_MANY,
	ST_TENANT_CHARGE_MANY,
	ST__COUNT
};

struct ledger {
	sqlite3 *db;
	char path[1024];
	bool readonly;
	bool in_batch;
	bool batch_failed;       /* a write of this batch failed: it must not commit */
	int64_t fault_countdown; /* > 0: the write that brings it to 0 fails */
	int wal_frames;          /* frames in the WAL after the last commit (sqlite3_wal_hook) */
	sqlite3_stmt *stmt[ST__COUNT];
};

/* The statement for id, prepared on first use; NULL on error (logged). */
sqlite3_stmt *ledger__stmt(struct ledger *l, enum ledger_stmt id);
/* Steps a write statement to completion and resets it: 0, -EEXIST (constraint), -EBUSY, or
 * -EIO (including an injected fault). */
int ledger__write(struct ledger *l, sqlite3_stmt *s);
/* Runs SQL text with no result rows (migrations, pragmas, BEGIN/COMMIT). */
int ledger__exec(struct ledger *l, const char *sql);
/* Creates or migrates the schema to LEDGER_SCHEMA_VERSION. */
int ledger__migrate(struct ledger *l, char *why, size_t why_len);
/* Binds text (NUL-terminated) to parameter i. */
void ledger__bind_text(sqlite3_stmt *s, int i, const char *text);
/* Copies column i into buf (len bytes, NUL-terminated; "" for NULL). */
void ledger__column_text(sqlite3_stmt *s, int i, char *buf, size_t len);
/* SQLite result code -> 0 or a negative errno. */
int ledger__map_rc(int rc);
/* Runs sql (bound to p1 as ?1 when bind_p1) and hands each row to each(row, arg); stops on
 * non-zero, which it returns. */
int ledger__each_row(struct ledger *l, const char *sql, int64_t p1, bool bind_p1,
		     int (*each)(sqlite3_stmt *, void *), void *arg);
/* The context the *_each iterators pass through ledger__each_row. */
struct ledger__each {
	void *fn;
	void *arg;
	uint64_t round;
};

/* Reads the single integer of a one-row query (errors: -EIO). */
int ledger__query_int(struct ledger *l, const char *sql, int64_t *out);

#endif
