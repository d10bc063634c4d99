/* ledger_bids.c: versions of standing orders: written when placed, ended when replaced or
 * cancelled, read back at start. A version is in force for rounds [first_round, last_round];
 * curves and ranges are stored as little-endian int64 pairs. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ledger_internal.h"

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
	struct ledger__each *c = a;
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
	struct ledger__each c = {(void *)fn, arg, 0};

	return ledger__each_row(l,
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
