/* tb_runfile.c: a live run's raas-sim tables, so that `raas-sim report` reads a testbed run
 * as it reads a simulated one.
 *
 * Written through raas-sim's own run-file writer (sim/src/output.h: the schema in one place):
 * meta as raas-sim writes it (source: the testbed file), and from the run's ledger: per round
 * the bandwidth pools' prices, supply, allocation and revenue (rounds, pool_prices), and the
 * provider's revenue (metrics); and one class per tenant (classes): its payment is what the
 * ledger charged it, its value the utility function's (nom/econ, the same code the apps and
 * the simulator use) applied second by second to what was measured: the traffic its tc class
 * sent (Gbit) times a(L, sigma) of the load generator's mean latency and jitter in that
 * second. Seconds without a latency measurement (NPtcp reports none per second) add no value,
 * so such a tenant's value is 0 and its profit minus its payment: stated in docs/testbed.md. */
#include <errno.h>
#include <inttypes.h>
#include <math.h>
#include <stdio.h>
#include <string.h>

#include <sqlite3.h>

#include "nom/econ.h"
#include "sim/output.h"
#include "tb_sample.h"

static int host_index(const struct testbed *tb, const char *name)
{
	for (int i = 0; i < tb->nhosts; i++)
		if (strcmp(tb->hosts[i].name, name) == 0)
			return i;
	return -1;
}

/* The tenant's utility function: the thesis's parameters, with the file's overrides. */
static void tenant_utility(const struct tb_tenant *tn, struct econ_utility *u)
{
	enum econ_kind k = ECON_REFUND;
	econ_kind_parse(tn->utility, &k);
	econ_utility_thesis(k, u);
	if (!isnan(tn->alpha))
		u->alpha = tn->alpha;
	if (!isnan(tn->beta))
		u->beta_per_ms = tn->beta;
	if (!isnan(tn->gamma))
		u->gamma_ms = tn->gamma;
	if (!isnan(tn->delta))
		u->delta = tn->delta;
	if (!isnan(tn->x))
		u->x = tn->x;
	if (!isnan(tn->l0))
		u->l0_us = tn->l0;
}

static int write_classes(struct sim_out *o, const struct testbed *tb,
			 const struct tb_samples *sm, sqlite3 *db)
{
	int nsec;
	const struct tb_sample *s = tb_samples_rows(sm, &nsec);
	sqlite3_stmt *q = NULL;
	int rc = 0;

	if (sqlite3_prepare_v2(db, "SELECT charged FROM tenants WHERE name = ?", -1, &q, NULL))
		return -EIO;
	for (int t = 0; t < tb->ntenants; t++) {
		const struct tb_tenant *tn = &tb->tenants[t];
		struct econ_utility u;
		double value = 0;
		money_t payment = 0;
		tenant_utility(tn, &u);
		for (int i = 0; i < nsec; i++) {
			const struct tb_sample *x = &s[i * tb->ntenants + t];
			if (!x->up || isnan(x->mean_us) || x->mean_us <= 0 || x->sent_mbit <= 0)
				continue;
			double a = econ_value_per_gbit(&u, x->mean_us,
						       isnan(x->jitter_us) ? 0 : x->jitter_us);
			if (isfinite(a))
				value += x->sent_mbit / 1000.0 * a; /* Gbit in this second x $/Gbit */
		}
		sqlite3_bind_text(q, 1, tn->name, -1, SQLITE_STATIC);
		if (sqlite3_step(q) == SQLITE_ROW)
			payment = sqlite3_column_int64(q, 0);
		sqlite3_reset(q);
		money_t v = (money_t)llround(value * 1e9);
		struct sim_out_class c = {
			.name = tn->name,
			.kind = "live",
			.app = tb_app_name(tn->app),
			.utility = tn->utility,
			.strategy = tb_strategy_name(tn->strategy),
			.resource = "bandwidth",
			.tenants = 1,
			.value = v,
			.payment = payment,
			.mean_delay_us = -1,
			.allocated = 0,
		};
		if (sim_out_class(o, "", &c)) {
			rc = -EIO;
			break;
		}
	}
	sqlite3_finalize(q);
	return rc;
}

int tb_runfile_sim_tables(struct tb_state *st, const struct tb_samples *sm, const char *path,
			  const char *ledger)
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
	if (write_classes(o, tb, sm, db) != 0) {
		rc = -EIO;
		goto out;
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
