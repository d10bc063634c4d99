/* tb_runfile.c: a live run's raas-sim tables, so that `raas-sim report` reads a testbed run
 * as it reads a simulated one.
 *
 * Written through raas-sim's own run-file writer (sim/src/output.h: the schema in one place):
 * meta as raas-sim writes it (source: the testbed file), and from the run's ledger: per round
 * and resource (bandwidth, cores, memory) the pools' prices, supply, allocation and revenue
 * (rounds, pool_prices), and the provider's revenue (metrics); one class per tenant
 * (classes) and its rounds (class_rounds): its payment is what the ledger charged it (the
 * charges view: allocations, egress, credits), its value the utility function's (nom/econ,
 * the same code the apps and the simulator use) applied second by second to what was
 * measured: the traffic its tc class sent (Gbit) times a(L, sigma) of the load generator's
 * mean latency and jitter in that second. Seconds without a latency measurement (NPtcp
 * reports none per second) add no value, so such a tenant's value is 0 and its profit minus
 * its payment: stated in docs/testbed.md.
 *
 * Seconds and rounds: a sample at second s measured (s-1, s] on the run's clock, which
 * starts when the market was ready; a round is placed on it by its wall times. A second's
 * value (whole nanodollars) goes to the rounds whose middle lies in that second, split
 * evenly, or to the nearest round when none does, so class_rounds sum exactly to classes. A
 * round's W and "up" are those of the second its middle lies in. rounds.welfare is the
 * tenants' value of the round (bandwidth rows: the value is the traffic's) and
 * tenant_utility welfare less revenue, as raas-sim writes them. */
#include <errno.h>
#include <inttypes.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
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

/* One round of the ledger, on the run's clock. */
struct lround {
	int64_t round, mid_ns; /* mid_ns: its middle on the run's clock */
	money_t revenue;
};

struct live {
	const struct testbed *tb;
	const struct tb_sample *s; /* [i * ntenants + t] */
	int nsec;
	struct lround *r;
	int nr;
	money_t *sec_value; /* [i * ntenants + t], nanodollars */
	money_t *value;     /* [k * ntenants + t] */
	money_t *pay;
	int64_t *alloc;
	int *sec_of; /* [k]: the sample index the round's middle lies in, -1 none */
};

static void live_free(struct live *L)
{
	free(L->r);
	free(L->sec_value);
	free(L->value);
	free(L->pay);
	free(L->alloc);
	free(L->sec_of);
}

money_t tb_second_value(const struct tb_tenant *tn, const struct tb_sample *x)
{
	struct econ_utility u;
	if (!x->up || isnan(x->mean_us) || x->mean_us <= 0 || !(x->sent_mbit > 0))
		return 0;
	tenant_utility(tn, &u);
	double a = econ_value_per_gbit(&u, x->mean_us, isnan(x->jitter_us) ? 0 : x->jitter_us);
	/* Gbit in this second x $/Gbit */
	return isfinite(a) ? (money_t)llround(x->sent_mbit / 1000.0 * a * 1e9) : 0;
}

/* second_values: each tenant's value of each second, whole nanodollars. */
static void second_values(struct live *L)
{
	const struct testbed *tb = L->tb;
	for (int t = 0; t < tb->ntenants; t++)
		for (int i = 0; i < L->nsec; i++)
			L->sec_value[i * tb->ntenants + t] =
				tb_second_value(&tb->tenants[t], &L->s[i * tb->ntenants + t]);
}

/* nearest_round: the round whose middle is nearest at_ns (rounds in order). */
static int nearest_round(const struct live *L, int64_t at_ns)
{
	int lo = 0, hi = L->nr - 1;
	while (lo < hi) { /* the first round whose middle is at or after at_ns */
		int m = (lo + hi) / 2;
		if (L->r[m].mid_ns < at_ns)
			lo = m + 1;
		else
			hi = m;
	}
	if (lo > 0 && llabs(L->r[lo - 1].mid_ns - at_ns) <= llabs(L->r[lo].mid_ns - at_ns))
		lo--;
	return lo;
}

/* spread: each second's value onto the rounds (see the top of the file). Linear in rounds
 * and seconds: a 24 h run has 86,400 seconds and rounds to match. */
static int spread(struct live *L)
{
	const int nt = L->tb->ntenants;
	int maxsec = 0, rc = -ENOMEM;
	for (int i = 0; i < L->nsec; i++)
		if (L->s[i * nt].sec > maxsec)
			maxsec = L->s[i * nt].sec;
	int *by_sec = malloc(((size_t)maxsec + 1) * sizeof(int));
	int *count = calloc((size_t)(L->nsec ? L->nsec : 1), sizeof(int));
	int *first = malloc((size_t)(L->nsec ? L->nsec : 1) * sizeof(int));
	if (!by_sec || !count || !first)
		goto out;
	for (int s = 0; s <= maxsec; s++)
		by_sec[s] = -1;
	for (int i = 0; i < L->nsec; i++)
		if (L->s[i * nt].sec >= 0)
			by_sec[L->s[i * nt].sec] = i;
	/* The second (s-1, s] each round's middle lies in. */
	for (int k = 0; k < L->nr; k++) {
		int64_t m = L->r[k].mid_ns;
		int64_t sec = m <= 0 ? 0 : (m + 999999999LL) / 1000000000LL;
		int i = sec <= maxsec ? by_sec[sec] : -1;
		L->sec_of[k] = i;
		if (i >= 0 && count[i]++ == 0)
			first[i] = k;
	}
	for (int i = 0; i < L->nsec && L->nr > 0; i++) {
		int n = count[i], k0 = first[i];
		if (n == 0) { /* the nearest round takes it */
			k0 = nearest_round(L, (int64_t)L->s[i * nt].sec * 1000000000LL - 500000000LL);
			n = 1;
		}
		for (int t = 0; t < nt; t++) {
			money_t v = L->sec_value[i * nt + t], part = v / n;
			if (count[i] == 0) {
				L->value[k0 * nt + t] += v;
				continue;
			}
			/* Rounds of one second are consecutive: k0 .. k0 + n - 1. */
			for (int k = k0, m = 0; k < L->nr && m < n; k++)
				if (L->sec_of[k] == i) {
					L->value[k * nt + t] += part + (m == 0 ? v - part * n : 0);
					m++;
				}
		}
	}
	rc = 0;
out:
	free(by_sec);
	free(count);
	free(first);
	return rc;
}

static int round_index(const struct live *L, int64_t round)
{
	int lo = 0, hi = L->nr - 1;
	while (lo <= hi) {
		int m = (lo + hi) / 2;
		if (L->r[m].round == round)
			return m;
		if (L->r[m].round < round)
			lo = m + 1;
		else
			hi = m - 1;
	}
	return -1;
}

static int tenant_index(const struct testbed *tb, const char *name)
{
	for (int t = 0; t < tb->ntenants; t++)
		if (name && strcmp(tb->tenants[t].name, name) == 0)
			return t;
	return -1;
}

/* live_load: the ledger's rounds and each tenant's charges and bandwidth per round. */
static int live_load(struct live *L, struct tb_state *st, const struct tb_samples *sm,
		     sqlite3 *db)
{
	const struct testbed *tb = st->tb;
	sqlite3_stmt *q = NULL;
	int rc = -EIO, cap = 0;

	L->tb = tb;
	L->s = tb_samples_rows(sm, &L->nsec);
	if (sqlite3_prepare_v2(db,
			       "SELECT round, start_wall_ns, end_wall_ns, revenue FROM rounds"
			       " ORDER BY round",
			       -1, &q, NULL) != SQLITE_OK)
		goto out;
	while (sqlite3_step(q) == SQLITE_ROW) {
		if (L->nr == cap) {
			cap = cap ? cap * 2 : 256;
			struct lround *r = realloc(L->r, (size_t)cap * sizeof(*r));
			if (!r)
				goto out;
			L->r = r;
		}
		struct lround *r = &L->r[L->nr++];
		r->round = sqlite3_column_int64(q, 0);
		r->mid_ns = (sqlite3_column_int64(q, 1) + sqlite3_column_int64(q, 2)) / 2 -
			    st->market_ready_wall_ns;
		r->revenue = sqlite3_column_int64(q, 3);
	}
	sqlite3_finalize(q);
	q = NULL;
	size_t nt = (size_t)tb->ntenants, nk = (size_t)(L->nr ? L->nr : 1);
	L->sec_value = calloc((size_t)(L->nsec ? L->nsec : 1) * nt, sizeof(money_t));
	L->value = calloc(nk * nt, sizeof(money_t));
	L->pay = calloc(nk * nt, sizeof(money_t));
	L->alloc = calloc(nk * nt, sizeof(int64_t));
	L->sec_of = calloc(nk, sizeof(int));
	if (!L->sec_value || !L->value || !L->pay || !L->alloc || !L->sec_of)
		goto out;
	if (sqlite3_prepare_v2(db,
			       "SELECT c.round, t.name, sum(c.amount),"
			       " sum(CASE WHEN c.kind = 1 AND p.resource = 3 THEN c.quantity ELSE 0"
			       " END) FROM charges c JOIN tenants t ON t.id = c.tenant"
			       " JOIN pools p ON p.id = c.pool GROUP BY c.round, t.name",
			       -1, &q, NULL) != SQLITE_OK)
		goto out;
	while (sqlite3_step(q) == SQLITE_ROW) {
		int k = round_index(L, sqlite3_column_int64(q, 0));
		int t = tenant_index(tb, (const char *)sqlite3_column_text(q, 1));
		if (k < 0 || t < 0)
			continue;
		L->pay[k * (int)nt + t] = sqlite3_column_int64(q, 2);
		L->alloc[k * (int)nt + t] = sqlite3_column_int64(q, 3);
	}
	second_values(L);
	if (spread(L) != 0)
		goto out;
	rc = 0;
out:
	if (rc)
		fprintf(stderr, "raas testbed: the run's ledger: %s\n", sqlite3_errmsg(db));
	sqlite3_finalize(q);
	return rc;
}

static int write_classes(struct sim_out *o, const struct live *L, sqlite3 *db)
{
	const struct testbed *tb = L->tb;
	const int nt = tb->ntenants;
	sqlite3_stmt *q = NULL;
	int rc = 0;

	if (sqlite3_prepare_v2(db, "SELECT charged FROM tenants WHERE name = ?", -1, &q, NULL))
		return -EIO;
	for (int t = 0; t < nt && !rc; t++) {
		const struct tb_tenant *tn = &tb->tenants[t];
		money_t value = 0, payment = 0;
		for (int k = 0; k < L->nr && !rc; k++) {
			int i = L->sec_of[k];
			const struct tb_sample *x = i >= 0 ? &L->s[i * nt + t] : NULL;
			struct sim_out_class row = {
				.name = tn->name,
				.tenants = x && x->up,
				.value = L->value[k * nt + t],
				.payment = L->pay[k * nt + t],
				.mean_delay_us = x && x->up && x->delay_us >= 0 ? (double)x->delay_us : -1,
				.allocated = L->alloc[k * nt + t],
			};
			value += row.value;
			if (sim_out_class_round(o, "", (uint64_t)L->r[k].round, &row))
				rc = -EIO;
		}
		sqlite3_bind_text(q, 1, tn->name, -1, SQLITE_STATIC);
		if (sqlite3_step(q) == SQLITE_ROW)
			payment = sqlite3_column_int64(q, 0);
		sqlite3_reset(q);
		struct sim_out_class c = {
			.name = tn->name,
			.kind = "live",
			.app = tb_app_name(tn->app),
			.utility = tn->utility,
			.strategy = tb_strategy_name(tn->strategy),
			.resource = "bandwidth",
			.tenants = 1,
			.value = value,
			.payment = payment,
			.mean_delay_us = -1,
			.allocated = 0,
		};
		if (!rc && sim_out_class(o, "", &c))
			rc = -EIO;
	}
	sqlite3_finalize(q);
	return rc;
}

/* write_rounds: one rounds row per round and resource over the hosts' pools (min, mean,
 * max price; supply, allocation, revenue summed), and each pool's price. */
static int write_rounds(struct sim_out *o, const struct live *L, sqlite3 *db)
{
	static const char *const res_name[] = {"", "cores", "memory", "bandwidth"};
	const struct testbed *tb = L->tb;
	sqlite3_stmt *q = NULL;
	int rc = 0;
	struct sim_out_round cur;
	int64_t sum_price = 0, last_round = -1, last_res = -1;

	if (sqlite3_prepare_v2(db,
			       "SELECT pr.round, p.resource, p.host, pr.unit_price, pr.supply,"
			       " pr.allocated, pr.bids,"
			       " (SELECT count(DISTINCT a.tenant) FROM allocations a"
			       "  WHERE a.round = pr.round AND a.pool = p.id AND a.quantity > 0),"
			       " (SELECT coalesce(sum(c.amount), 0) FROM charges c"
			       "  WHERE c.round = pr.round AND c.pool = p.id)"
			       " FROM prices pr JOIN pools p ON p.id = pr.pool"
			       " WHERE p.resource IN (1, 2, 3) ORDER BY pr.round, p.resource, p.host",
			       -1, &q, NULL) != SQLITE_OK) {
		fprintf(stderr, "raas testbed: the run's ledger: %s\n", sqlite3_errmsg(db));
		return -EIO;
	}
	memset(&cur, 0, sizeof(cur));
	for (int step;;) {
		step = sqlite3_step(q);
		int64_t round = step == SQLITE_ROW ? sqlite3_column_int64(q, 0) : -2;
		int64_t res = step == SQLITE_ROW ? sqlite3_column_int64(q, 1) : -2;
		if ((round != last_round || res != last_res) && last_round >= 0) {
			cur.price_mean = sum_price / cur.pools;
			cur.utilization = cur.supply ? (double)cur.allocated / (double)cur.supply : -1;
			cur.tenant_utility = cur.welfare - cur.revenue;
			if (sim_out_round(o, "", &cur)) {
				rc = -EIO;
				break;
			}
		}
		if (step != SQLITE_ROW)
			break;
		if (round != last_round || res != last_res) {
			int k = round_index(L, round);
			memset(&cur, 0, sizeof(cur));
			cur.round = (uint64_t)round;
			/* The run's clock: the round's start. */
			cur.t_ns = k >= 0 ? L->r[k].mid_ns - tb->round_ns / 2 : 0;
			cur.resource = res_name[res];
			cur.price_min = INT64_MAX;
			/* The tenants' value is the traffic's: it goes with bandwidth. */
			for (int t = 0; k >= 0 && res == 3 && t < tb->ntenants; t++)
				cur.welfare += L->value[k * tb->ntenants + t];
			sum_price = 0;
			last_round = round;
			last_res = res;
		}
		int64_t price = sqlite3_column_int64(q, 3);
		cur.pools++;
		cur.supply += sqlite3_column_int64(q, 4);
		cur.allocated += sqlite3_column_int64(q, 5);
		cur.bids += sqlite3_column_int64(q, 6);
		cur.tenants += sqlite3_column_int64(q, 7);
		cur.revenue += sqlite3_column_int64(q, 8);
		sum_price += price;
		if (price < cur.price_min)
			cur.price_min = price;
		if (price > cur.price_max)
			cur.price_max = price;
		if (sim_out_pool_price(o, "", (uint64_t)round,
				       host_index(tb, (const char *)sqlite3_column_text(q, 2)),
				       res_name[res], price)) {
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
	struct live L;
	sqlite3 *db = NULL;
	char why[512], buf[64];
	int rc;
	money_t revenue = 0;

	memset(&L, 0, sizeof(L));
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
	if (sqlite3_open_v2(ledger, &db, SQLITE_OPEN_READONLY, NULL) != SQLITE_OK) {
		fprintf(stderr, "raas testbed: %s: %s\n", ledger, db ? sqlite3_errmsg(db) : "");
		rc = -EIO;
		goto out;
	}
	if ((rc = live_load(&L, st, sm, db)) != 0 || (rc = write_rounds(o, &L, db)) != 0 ||
	    (rc = write_classes(o, &L, db)) != 0)
		goto out;
	for (int k = 0; k < L.nr; k++)
		revenue += L.r[k].revenue;
	rc |= sim_out_metric(o, "", "revenue", (double)revenue / 1e9, "$", true, revenue);
	rc |= sim_out_metric(o, "", "rounds", (double)L.nr, "", false, 0);
	rc |= sim_out_metric(o, "", "tenants", (double)tb->ntenants, "", false, 0);
	if (rc)
		rc = -EIO;
out:
	live_free(&L);
	sqlite3_close(db);
	if (sim_out_close(o, rc == 0, why, sizeof(why)) != 0 && rc == 0) {
		fprintf(stderr, "raas testbed: %s\n", why);
		rc = -EIO;
	}
	return rc;
}
