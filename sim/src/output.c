/* output.c: the SQLite run file (see output.h): schema, prepared inserts, atomic rename. */
#include <errno.h>
#include <sqlite3.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "sim/output.h"
#include "pricing/pm.h"
#include "scenario.h"

enum stmt {
	ST_META,
	ST_PROFILE,
	ST_ROUND,
	ST_POOL_PRICE,
	ST_CLASS_ROUND,
	ST_CLASS,
	ST_METRIC,
	ST_BID,
	ST_CLEARING,
	ST_TIMING,
	ST_TIMING_METRIC,
	NSTMT
};

static const char *const schema_sql =
	"PRAGMA journal_mode=OFF;"
	"PRAGMA synchronous=OFF;"
	"BEGIN;"
	"CREATE TABLE meta(variant TEXT NOT NULL, key TEXT NOT NULL, value TEXT,"
	" PRIMARY KEY(variant, key));"
	"CREATE TABLE profiles(file TEXT, app TEXT, load TEXT, delay_us REAL,"
	" throughput_rps REAL, latency_us REAL, jitter_us REAL, bytes_per_request REAL);"
	"CREATE TABLE rounds(variant TEXT, round INTEGER, t_ns INTEGER, resource TEXT,"
	" pools INTEGER, bids INTEGER, supply INTEGER, allocated INTEGER, utilization REAL,"
	" price_min INTEGER, price_mean INTEGER, price_max INTEGER, revenue INTEGER,"
	" welfare INTEGER, tenant_utility INTEGER, tenants INTEGER);"
	"CREATE TABLE pool_prices(variant TEXT, round INTEGER, host INTEGER, resource TEXT,"
	" price INTEGER);"
	"CREATE TABLE class_rounds(variant TEXT, round INTEGER, class TEXT, tenants INTEGER,"
	" value INTEGER, payment INTEGER, profit INTEGER, mean_delay_us REAL,"
	" allocated INTEGER);"
	"CREATE TABLE classes(variant TEXT, class TEXT, kind TEXT, app TEXT, utility TEXT,"
	" strategy TEXT, resource TEXT, tenants INTEGER, value INTEGER, payment INTEGER,"
	" profit INTEGER);"
	"CREATE TABLE metrics(variant TEXT, name TEXT, value REAL, unit TEXT, exact INTEGER,"
	" PRIMARY KEY(variant, name));"
	"CREATE TABLE bids(variant TEXT, round INTEGER, host INTEGER, resource TEXT,"
	" bidder INTEGER, min_quantity INTEGER, max_quantity INTEGER, unit_price INTEGER,"
	" held INTEGER, curve TEXT, true_curve TEXT, quantity INTEGER, payment INTEGER);"
	"CREATE TABLE clearings(variant TEXT, round INTEGER, host INTEGER, resource TEXT,"
	" supply INTEGER, price INTEGER, revenue INTEGER, allocated INTEGER, welfare INTEGER);"
	"CREATE TABLE timing(variant TEXT, round INTEGER, clear_ns INTEGER, wall_ns INTEGER);"
	"CREATE TABLE timing_metrics(variant TEXT, name TEXT, value REAL);";

static const char *const insert_sql[NSTMT] = {
	[ST_META] = "INSERT OR REPLACE INTO meta VALUES(?,?,?)",
	[ST_PROFILE] = "INSERT INTO profiles VALUES(?,?,?,?,?,?,?,?)",
	[ST_ROUND] = "INSERT INTO rounds VALUES(?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?)",
	[ST_POOL_PRICE] = "INSERT INTO pool_prices VALUES(?,?,?,?,?)",
	[ST_CLASS_ROUND] = "INSERT INTO class_rounds VALUES(?,?,?,?,?,?,?,?,?)",
	[ST_CLASS] = "INSERT INTO classes VALUES(?,?,?,?,?,?,?,?,?,?,?)",
	[ST_METRIC] = "INSERT OR REPLACE INTO metrics VALUES(?,?,?,?,?)",
	[ST_BID] = "INSERT INTO bids VALUES(?,?,?,?,?,?,?,?,?,?,?,?,?)",
	[ST_CLEARING] = "INSERT INTO clearings VALUES(?,?,?,?,?,?,?,?,?)",
	[ST_TIMING] = "INSERT INTO timing VALUES(?,?,?,?)",
	[ST_TIMING_METRIC] = "INSERT INTO timing_metrics VALUES(?,?,?)",
};

struct sim_out {
	sqlite3 *db;
	sqlite3_stmt *st[NSTMT];
	char path[1024];
	char tmp[1100];
};

int sim_out_open(const char *path, struct sim_out **out, char *why, size_t why_len)
{
	struct sim_out *o = calloc(1, sizeof(*o));
	char *msg = NULL;

	if (!o) {
		snprintf(why, why_len, "out of memory");
		return -ENOMEM;
	}
	snprintf(o->path, sizeof(o->path), "%s", path);
	snprintf(o->tmp, sizeof(o->tmp), "%s.tmp-%ld", path, (long)getpid());
	unlink(o->tmp);
	if (sqlite3_open(o->tmp, &o->db) != SQLITE_OK) {
		snprintf(why, why_len, "%s: %s", o->tmp,
			 o->db ? sqlite3_errmsg(o->db) : "cannot open");
		goto fail;
	}
	if (sqlite3_exec(o->db, schema_sql, NULL, NULL, &msg) != SQLITE_OK) {
		snprintf(why, why_len, "%s: %s", o->tmp, msg ? msg : "cannot create tables");
		sqlite3_free(msg);
		goto fail;
	}
	for (int i = 0; i < NSTMT; i++) {
		if (sqlite3_prepare_v2(o->db, insert_sql[i], -1, &o->st[i], NULL) != SQLITE_OK) {
			snprintf(why, why_len, "%s: %s", o->tmp, sqlite3_errmsg(o->db));
			goto fail;
		}
	}
	*out = o;
	return 0;
fail:
	for (int i = 0; i < NSTMT; i++)
		sqlite3_finalize(o->st[i]);
	sqlite3_close(o->db);
	unlink(o->tmp);
	free(o);
	return -EIO;
}

int sim_out_close(struct sim_out *o, bool commit, char *why, size_t why_len)
{
	int rc = 0;

	for (int i = 0; i < NSTMT; i++)
		sqlite3_finalize(o->st[i]);
	if (commit && sqlite3_exec(o->db, "COMMIT", NULL, NULL, NULL) != SQLITE_OK) {
		snprintf(why, why_len, "%s: commit: %s", o->tmp, sqlite3_errmsg(o->db));
		rc = -EIO;
	}
	if (sqlite3_close(o->db) != SQLITE_OK && rc == 0) {
		snprintf(why, why_len, "%s: close failed", o->tmp);
		rc = -EIO;
	}
	if (commit && rc == 0 && rename(o->tmp, o->path) != 0) {
		rc = -errno;
		snprintf(why, why_len, "rename %s -> %s: %s", o->tmp, o->path, strerror(errno));
	}
	if (!commit || rc)
		unlink(o->tmp);
	free(o);
	return rc;
}

/* Binds a row: a format of 't' (text), 'i' (int64), 'd' (double), 'n' (NULL), then steps. */
static int put(struct sim_out *o, enum stmt s, const char *fmt, ...)
{
	sqlite3_stmt *st = o->st[s];
	va_list ap;
	int col = 1;

	sqlite3_reset(st);
	va_start(ap, fmt);
	for (const char *f = fmt; *f; f++, col++) {
		switch (*f) {
		case 't': {
			const char *v = va_arg(ap, const char *);
			if (v)
				sqlite3_bind_text(st, col, v, -1, SQLITE_TRANSIENT);
			else
				sqlite3_bind_null(st, col);
			break;
		}
		case 'i':
			sqlite3_bind_int64(st, col, va_arg(ap, int64_t));
			break;
		case 'd':
			sqlite3_bind_double(st, col, va_arg(ap, double));
			break;
		default:
			sqlite3_bind_null(st, col);
			break;
		}
	}
	va_end(ap);
	return sqlite3_step(st) == SQLITE_DONE ? 0 : -EIO;
}

int sim_out_meta(struct sim_out *o, const char *variant, const char *key, const char *value)
{
	return put(o, ST_META, "ttt", variant, key, value);
}

int sim_out_profile(struct sim_out *o, const char *file, const char *app, const char *load,
		    const struct econ_point *p)
{
	return put(o, ST_PROFILE, "tttddddd", file, app, load, p->delay_us, p->tput_rps,
		   p->latency_us, p->jitter_us, p->bytes_per_request);
}

int sim_out_round(struct sim_out *o, const char *variant, const struct sim_out_round *r)
{
	return put(o, ST_ROUND, r->utilization < 0 ? "tiitiiiiniiiiiii" : "tiitiiiidiiiiiii",
		   variant, (int64_t)r->round, r->t_ns, r->resource, r->pools, r->bids, r->supply,
		   r->allocated, r->utilization, r->price_min, r->price_mean, r->price_max,
		   r->revenue, r->welfare, r->tenant_utility, r->tenants);
}

int sim_out_pool_price(struct sim_out *o, const char *variant, uint64_t round, int64_t host,
		       const char *resource, money_t price)
{
	return put(o, ST_POOL_PRICE, "tiiti", variant, (int64_t)round, host, resource, price);
}

int sim_out_class_round(struct sim_out *o, const char *variant, uint64_t round,
			const struct sim_out_class *c)
{
	return put(o, ST_CLASS_ROUND, c->mean_delay_us < 0 ? "titiiiini" : "titiiiidi", variant,
		   (int64_t)round, c->name, c->tenants, c->value, c->payment, c->value - c->payment,
		   c->mean_delay_us, c->allocated);
}

int sim_out_class(struct sim_out *o, const char *variant, const struct sim_out_class *c)
{
	return put(o, ST_CLASS, "tttttttiiii", variant, c->name, c->kind, c->app, c->utility,
		   c->strategy, c->resource, c->tenants, c->value, c->payment,
		   c->value - c->payment);
}

int sim_out_metric(struct sim_out *o, const char *variant, const char *name, double value,
		   const char *unit, bool has_exact, int64_t exact)
{
	return put(o, ST_METRIC, has_exact ? "ttdti" : "ttdtn", variant, name, value, unit, exact);
}

static void format_curve(const struct pm_segment *c, size_t n, char *buf, size_t len)
{
	size_t o = 0;

	buf[0] = '\0';
	for (size_t i = 0; i < n && o < len; i++)
		o += (size_t)snprintf(buf + o, len - o, "%s%lld@%lld", i ? " " : "",
				      (long long)c[i].quantity, (long long)c[i].unit_value);
}

int sim_out_bid(struct sim_out *o, const char *variant, uint64_t round, int64_t host,
		const char *resource, const struct pm_bid *b, int64_t quantity, money_t payment)
{
	char curve[4096], truec[4096];

	format_curve(b->curve, b->ncurve, curve, sizeof(curve));
	format_curve(b->true_curve, b->ntrue, truec, sizeof(truec));
	return put(o, ST_BID, "tiitiiiiittii", variant, (int64_t)round, host, resource,
		   (int64_t)b->bidder, b->min_quantity, b->max_quantity, b->unit_price, b->held,
		   b->ncurve ? curve : NULL, b->ntrue ? truec : NULL, quantity, payment);
}

int sim_out_clearing(struct sim_out *o, const char *variant, uint64_t round, int64_t host,
		     const char *resource, int64_t supply, const struct pm_result *r)
{
	return put(o, ST_CLEARING, "tiitiiiii", variant, (int64_t)round, host, resource, supply,
		   r->price, r->revenue, r->allocated, r->welfare);
}

int sim_out_timing(struct sim_out *o, const char *variant, uint64_t round, int64_t clear_ns,
		   int64_t wall_ns)
{
	return put(o, ST_TIMING, "tiii", variant, (int64_t)round, clear_ns, wall_ns);
}

int sim_out_timing_metric(struct sim_out *o, const char *variant, const char *name, double value)
{
	return put(o, ST_TIMING_METRIC, "ttd", variant, name, value);
}
