/* tb_runfile.c: a live run's raas-sim tables, so that `raas-sim report` reads a testbed run
 * as it reads a simulated one.
 *
 * Written through raas-sim's own run-file writer (sim/src/output.h: the schema in one place):
 * meta as raas-sim writes it (source: the testbed file), and from the run's ledger: per round
 * the bandwidth pools' prices, supply, allocation and revenue (rounds, pool_prices), and the
 * provider's revenue (metrics). Classes (value and profit under each tenant's utility) are
 * not written yet: the per-second measurements are in tenant_seconds (tb_sample.c). */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <string.h>

#include <sqlite3.h>

#include "output.h"
#include "tb_sample.h"

static int host_index(const struct testbed *tb, const char *name)
{
	for (int i = 0; i < tb->nhosts; i++)
		if (strcmp(tb->hosts[i].name, name) == 0)
			return i;
	return -1;
}

int tb_runfile_sim_tables(struct tb_state *st, const char *path, const char *ledger)
{
	const struct testbed *tb = st->tb;
	struct sim_out *o = NULL;
	sqlite3 *db = NULL;
	sqlite3_stmt *q = NULL;
	char why[512], buf[64];
	int rc;
	int64_t t0 = -1, revenue = 0, nrounds = 0;

	if ((rc = sim_out_open(path, &o, why, sizeof(why))) != 0) {
		fprintf(stderr, "raas testbed: %s\n", why);
		return rc;
	}
	rc = 0;
	snprintf(buf, sizeof(buf), "%" PRIu64, tb->seed);
	rc |= sim_out_meta(o, "", "seed", buf);
	rc |= sim_out_meta(o, "", "config", tb->text);
	rc |= sim_out_meta(o, "", "version", "raas-testbed 1");
	snprintf(buf, sizeof(buf), "%d", SIM_SCHEMA_VERSION);
	rc |= sim_out_meta(o, "", "schema_version", buf);
	rc |= sim_out_meta(o, "", "scenario_path", tb->file);
	rc |= sim_out_meta(o, "", "scenario", tb->text);
	rc |= sim_out_meta(o, "", "name", tb->name);
	rc |= sim_out_meta(o, "", "title", "live testbed run");
	rc |= sim_out_meta(o, "", "reference", "none");
	snprintf(buf, sizeof(buf), "%" PRId64, tb->duration_ns);
	rc |= sim_out_meta(o, "", "duration_ns", buf);
	snprintf(buf, sizeof(buf), "%" PRId64, tb->round_ns);
	rc |= sim_out_meta(o, "", "round_ns", buf);
	snprintf(buf, sizeof(buf), "%d", tb->nhosts);
	rc |= sim_out_meta(o, "", "hosts", buf);
	rc |= sim_out_meta(o, "", "variants", "");
	if (rc) {
		rc = -EIO;
		goto out;
	}
	if (sqlite3_open_v2(ledger, &db, SQLITE_OPEN_READONLY, NULL) != SQLITE_OK ||
	    sqlite3_prepare_v2(db,
			       "SELECT r.round, r.start_wall_ns, r.revenue, r.bids, p.host,"
			       " pr.unit_price, pr.supply, pr.allocated,"
			       " (SELECT count(DISTINCT a.tenant) FROM allocations a"
			       "  WHERE a.round = r.round AND a.pool = p.id AND a.quantity > 0)"
			       " FROM rounds r JOIN prices pr ON pr.round = r.round"
			       " JOIN pools p ON p.id = pr.pool WHERE p.resource = 3"
			       " ORDER BY r.round, p.host",
			       -1, &q, NULL) != SQLITE_OK) {
		fprintf(stderr, "raas testbed: %s: %s\n", ledger, db ? sqlite3_errmsg(db) : "");
		rc = -EIO;
		goto out;
	}
	/* One rounds row per round over the hosts' pools: min, mean, max price. */
	struct sim_out_round cur;
	int64_t sum_price = 0, last_round = -1;
	memset(&cur, 0, sizeof(cur));
	for (int step;;) {
		step = sqlite3_step(q);
		int64_t round = step == SQLITE_ROW ? sqlite3_column_int64(q, 0) : -2;
		if (round != last_round && last_round >= 0) {
			cur.price_mean = sum_price / cur.pools;
			cur.utilization = cur.supply ? (double)cur.allocated / (double)cur.supply : -1;
			if (sim_out_round(o, "", &cur)) {
				rc = -EIO;
				goto out;
			}
			nrounds++;
		}
		if (step != SQLITE_ROW)
			break;
		if (round != last_round) {
			int64_t wall = sqlite3_column_int64(q, 1);
			if (t0 < 0)
				t0 = wall;
			memset(&cur, 0, sizeof(cur));
			cur.round = (uint64_t)round;
			cur.t_ns = wall - t0;
			cur.resource = "bandwidth";
			cur.bids = sqlite3_column_int64(q, 3);
			cur.revenue = sqlite3_column_int64(q, 2);
			cur.price_min = INT64_MAX;
			revenue += cur.revenue;
			sum_price = 0;
			last_round = round;
		}
		int64_t price = sqlite3_column_int64(q, 5);
		cur.pools++;
		cur.supply += sqlite3_column_int64(q, 6);
		cur.allocated += sqlite3_column_int64(q, 7);
		cur.tenants += sqlite3_column_int64(q, 8);
		sum_price += price;
		if (price < cur.price_min)
			cur.price_min = price;
		if (price > cur.price_max)
			cur.price_max = price;
		if (sim_out_pool_price(o, "", (uint64_t)round,
				       host_index(tb, (const char *)sqlite3_column_text(q, 4)),
				       "bandwidth", price)) {
			rc = -EIO;
			goto out;
		}
	}
	rc |= sim_out_metric(o, "", "revenue", (double)revenue / 1e9, "$", true, revenue);
	rc |= sim_out_metric(o, "", "rounds", (double)nrounds, "", false, 0);
	rc |= sim_out_metric(o, "", "tenants", (double)tb->ntenants, "", false, 0);
	if (rc)
		rc = -EIO;
out:
	sqlite3_finalize(q);
	sqlite3_close(db);
	if (sim_out_close(o, rc == 0, why, sizeof(why)) != 0 && rc == 0) {
		fprintf(stderr, "raas testbed: %s\n", why);
		rc = -EIO;
	}
	return rc;
}
