/* test_sim_agree.c: the simulator and the market clear the same bids the same way.
 *
 * A run of 1,000 rounds records every bid and outcome of every pool ([output] record_bids =
 * -1) under ten models: fixed, uniform, vcg, psp, proportional, mpsp, utilization, spot-ar1,
 * spot-ar1-paper and trace. For each, the test then builds the market's own socket-free core
 * (market_create over an in-memory ledger, as market/fuzz/fuzz_market.c drives it) with the
 * run's three hosts, six pools, models, parameters and seed, and a tenant per simulated
 * bidder. Round by round it sends each bidder's recorded bid as a raas.proto Bid request
 * (cancelling the bids of bidders that no longer bid), closes the market's round and reads
 * the round back from the ledger: every pool's price, allocated units and revenue, and every
 * bidder's allocation and payment, must equal the simulator's. Nothing of the market is
 * rebuilt here: the market's clearing, pool setup (pricing/pool.h), bid versions and holdings
 * are its own; what the two share is only what they are meant to share. */
#include <errno.h>
#include <inttypes.h>

#include "common/wire.h"
#include "market/market.h"
#include "scenario.h"
#include "sim_testutil.h"

#define ROUNDS 1000
#define ROUND_NS (INT64_C(600) * 1000000000)
#define SEED 21
#define HOSTS 3
#define MAX_BIDDERS 20000

static char trace_path[512];

static const struct {
	const char *variant, *bandwidth, *cores;
} mechs[] = {
	{"fixed", "fixed: price=$40", "fixed: price=$0.05"},
	{"uniform", "uniform: reserve=$1", "uniform: reserve=$0.01"},
	{"vcg", "vcg: reserve=$1", "vcg: reserve=$0.01"},
	{"psp", "psp: reserve=$1", "psp: reserve=$0.01"},
	{"proportional", "proportional", "proportional: delta=$0.02"},
	{"mpsp", "mpsp: reserve=$1, lambda=$0.5, chunk=10", "mpsp: reserve=$0.01, lambda=$0.002"},
	{"utilization", "utilization: base=$20, levels=\"0:1 0.6:2\"",
	 "utilization: base=$0.03, levels=\"0:1 0.5:3\""},
	{"spot", "spot-ar1: floor=$5, ceiling=$30",
	 "spot-ar1: floor=$0.03, ceiling=$0.06, min_interval=10m, interval_spread=20m"},
	{"spotpaper", "spot-ar1-paper: floor=$5, ceiling=$30, min_interval=10m, gap_mean=10m",
	 "spot-ar1-paper: floor=$0.03, ceiling=$0.06"},
	{"trace", "trace: file=%s, scale=1000", "trace: file=%s, scale=1.5, offset=30d"},
};
#define NMECH (sizeof(mechs) / sizeof(mechs[0]))

static const int resources[2] = {RAAS_RES_BANDWIDTH, RAAS_RES_CORES};

/* A simulated resource is common/resource.h's value, which is the proto's. */
static Raas__Resource wire_res(int r)
{
	return (Raas__Resource)r;
}

/* "MODEL: PARAMS" with the trace's path filled in. */
static void split_model(const char *text, char *model, size_t mlen, char *params, size_t plen)
{
	const char *colon = strchr(text, ':');
	size_t n = colon ? (size_t)(colon - text) : strlen(text);
	snprintf(model, mlen, "%.*s", (int)n, text);
	snprintf(params, plen, colon ? colon + 2 : "", trace_path);
}

static size_t parse_curve(const char *text, Raas__ValueSegment *vs, Raas__ValueSegment **pvs,
			  size_t max)
{
	size_t n = 0;

	while (text && *text && n < max) {
		long long q, v;
		int used;
		if (sscanf(text, "%lld@%lld%n", &q, &v, &used) != 2)
			TEST_FAIL("bad curve text '%s'", text);
		raas__value_segment__init(&vs[n]);
		vs[n].quantity = q;
		vs[n].unit_value = v;
		pvs[n] = &vs[n];
		n++;
		text += used;
		while (*text == ' ')
			text++;
	}
	return n;
}

/* One recorded bid and the simulator's outcome for it. */
struct rec {
	int64_t host, bidder, min, max, price;
	int res;
	char curve[4096];
	int64_t quantity, payment;
};

/* What the market did with a round, read back from its ledger. */
struct round_view {
	int64_t pool_price[HOSTS][2], pool_alloc[HOSTS][2], pool_rev[HOSTS][2];
	bool priced[HOSTS][2];
	int64_t *q, *pay;          /* per bidder */
	const int64_t *tenant_bidder; /* tenant id -> bidder (index by tenant id) */
	size_t ntenant_ids;
	int64_t pool_host[64], pool_res[64];
	uint64_t round;
};

static int on_price(void *arg, uint64_t round, const struct ledger_price_row *p)
{
	struct round_view *v = arg;
	ASSERT_EQ(round, v->round);
	ASSERT_TRUE(p->pool > 0 && p->pool < 64);
	int64_t h = v->pool_host[p->pool], r = v->pool_res[p->pool];
	v->pool_price[h][r] = p->unit_price;
	v->pool_alloc[h][r] = p->allocated;
	v->pool_rev[h][r] = p->revenue_per_hour;
	v->priced[h][r] = true;
	return 0;
}

static int on_alloc(void *arg, uint64_t round, const struct ledger_alloc_row *a)
{
	struct round_view *v = arg;
	ASSERT_EQ(round, v->round);
	ASSERT_TRUE(a->tenant > 0 && (size_t)a->tenant < v->ntenant_ids);
	int64_t b = v->tenant_bidder[a->tenant];
	ASSERT_TRUE(b >= 0);
	v->q[b] += a->quantity;
	v->pay[b] += a->payment_per_hour;
	return 0;
}

struct pools_ctx {
	struct round_view *v;
	int n;
};

static int on_pool(void *arg, const struct ledger_pool *p)
{
	struct pools_ctx *c = arg;
	int h = -1, r = p->resource == RAAS__RESOURCE__RESOURCE_BANDWIDTH ? 0 : 1;
	ASSERT_EQ(sscanf(p->host, "h%d", &h), 1);
	ASSERT_TRUE(h >= 0 && h < HOSTS && p->id > 0 && p->id < 64);
	c->v->pool_host[p->id] = h;
	c->v->pool_res[p->id] = r;
	c->n++;
	return 0;
}

static void request(struct market *m, int64_t bidder, const Raas__Envelope *env)
{
	char who[64];
	struct tp_route route = {.id = {1}, .len = 1};
	struct market_outbox out;
	struct market_stats before, after;

	snprintf(who, sizeof(who), "tenant:t%" PRId64, bidder);
	market_outbox_init(&out);
	market_get_stats(m, &before);
	market_tenant_request(m, who, &route, env, &out);
	market_get_stats(m, &after);
	if (after.errors != before.errors) {
		Raas__Envelope *r;
		char why[256];
		ASSERT_TRUE(out.n >= 1);
		ASSERT_OK(wire_decode(out.v[0].buf, out.v[0].len, WIRE_MAX_BYTES, &r, why,
				      sizeof(why)));
		TEST_FAIL("the market refused %s's request: %s", who,
			  r->reply && r->reply->error ? r->reply->error->message : "?");
	}
	market_outbox_fini(&out);
}

static void send_bid(struct market *m, const struct rec *b, uint64_t rid)
{
	Raas__Envelope env;
	Raas__Bid bid = RAAS__BID__INIT;
	Raas__ValueSegment vs[16], *pvs[16];
	char host[16];

	snprintf(host, sizeof(host), "h%" PRId64, b->host);
	bid.bid_id = "b";
	bid.resource = wire_res(b->res);
	bid.host = host;
	bid.min_quantity = b->min;
	bid.max_quantity = b->max;
	bid.unit_price = b->price;
	bid.n_curve = parse_curve(b->curve, vs, pvs, 16);
	bid.curve = bid.n_curve ? pvs : NULL;
	wire_envelope_init(&env, rid);
	env.body_case = RAAS__ENVELOPE__BODY_BID;
	env.bid = &bid;
	request(m, b->bidder, &env);
}

static void send_cancel(struct market *m, int64_t bidder, uint64_t rid)
{
	Raas__Envelope env;
	Raas__Cancel c = RAAS__CANCEL__INIT;

	c.bid_id = "b";
	wire_envelope_init(&env, rid);
	env.body_case = RAAS__ENVELOPE__BODY_CANCEL;
	env.cancel = &c;
	request(m, bidder, &env);
}

/* Replays one variant through the market core; returns the bids compared. */
static size_t replay(sqlite3 *db, size_t mi)
{
	static struct market_config cfg;
	struct ledger *ledger;
	struct market *m;
	struct clk clock;
	char why[512];
	const char *variant = mechs[mi].variant;

	/* The run's pools, models and seed, declared as raas-marketd's config would. */
	mcfg_defaults(&cfg);
	cfg.seed = SEED;
	cfg.round_ns = ROUND_NS;
	cfg.npools = 0;
	for (int h = 0; h < HOSTS; h++)
		for (int k = 0; k < 2; k++) {
			struct mcfg_pool *p = &cfg.pools[cfg.npools++];
			snprintf(p->name, sizeof(p->name), "h%d-%d", h, k);
			snprintf(p->host, sizeof(p->host), "h%d", h);
			p->resource = wire_res(resources[k]);
			p->supply = resources[k] == RAAS_RES_BANDWIDTH ? 800 : 6;
			p->model.set = true;
			split_model(k == 0 ? mechs[mi].bandwidth : mechs[mi].cores, p->model.model,
				    sizeof(p->model.model), p->model.params,
				    sizeof(p->model.params));
		}
	clk_manual_init(&clock, 0, 1700000000000000000);
	if (ledger_open(":memory:", NULL, &ledger, why, sizeof(why)))
		TEST_FAIL("ledger_open: %s", why);
	for (int h = 0; h < HOSTS; h++) {
		char name[16], key[41];
		snprintf(name, sizeof(name), "h%d", h);
		snprintf(key, sizeof(key), "H%039d", h);
		if (ledger_host_add(ledger, name, key, 0, NULL, why, sizeof(why)))
			TEST_FAIL("host %s: %s", name, why);
	}
	/* A tenant per simulated bidder, unlimited budget. */
	int64_t *tenant_bidder = malloc(MAX_BIDDERS * sizeof(int64_t));
	for (size_t i = 0; i < MAX_BIDDERS; i++)
		tenant_bidder[i] = -1;
	sqlite3_stmt *st;
	ASSERT_EQ(sqlite3_prepare_v2(db, "SELECT DISTINCT bidder FROM bids WHERE variant = ?",
				     -1, &st, NULL),
		  SQLITE_OK);
	sqlite3_bind_text(st, 1, variant, -1, SQLITE_STATIC);
	int64_t max_bidder = -1;
	while (sqlite3_step(st) == SQLITE_ROW) {
		int64_t b = sqlite3_column_int64(st, 0), id;
		char name[32], key[41];
		ASSERT_TRUE(b >= 0 && b < MAX_BIDDERS);
		snprintf(name, sizeof(name), "t%" PRId64, b);
		snprintf(key, sizeof(key), "T%039" PRId64, b);
		if (ledger_tenant_add(ledger, name, key, -1, 0, &id, why, sizeof(why)))
			TEST_FAIL("tenant %s: %s", name, why);
		ASSERT_TRUE(id > 0 && id < MAX_BIDDERS);
		tenant_bidder[id] = b;
		if (b > max_bidder)
			max_bidder = b;
	}
	sqlite3_finalize(st);
	if (market_create(&cfg, ledger, &clock, &m, why, sizeof(why)))
		TEST_FAIL("%s: market_create: %s", variant, why);

	struct round_view v = {.tenant_bidder = tenant_bidder, .ntenant_ids = MAX_BIDDERS};
	struct pools_ctx pc = {&v, 0};
	ASSERT_OK(ledger_pools_each(ledger, on_pool, &pc));
	ASSERT_EQ(pc.n, HOSTS * 2);
	size_t nb = (size_t)max_bidder + 1;
	v.q = calloc(nb, sizeof(int64_t));
	v.pay = calloc(nb, sizeof(int64_t));
	bool *standing = calloc(nb, sizeof(bool)), *now = calloc(nb, sizeof(bool));
	struct rec *recs = malloc(4096 * sizeof(*recs));
	sqlite3_stmt *bq, *cq;
	ASSERT_EQ(sqlite3_prepare_v2(db,
				     "SELECT host, resource, bidder, min_quantity, max_quantity,"
				     " unit_price, curve, quantity, payment FROM bids WHERE"
				     " variant = ? AND round = ? ORDER BY bidder",
				     -1, &bq, NULL),
		  SQLITE_OK);
	ASSERT_EQ(sqlite3_prepare_v2(db,
				     "SELECT host, resource, price, allocated, revenue FROM"
				     " clearings WHERE variant = ? AND round = ?",
				     -1, &cq, NULL),
		  SQLITE_OK);
	size_t compared = 0, positive = 0;
	for (int64_t k = 0; k < ROUNDS; k++) {
		size_t n = 0;
		sqlite3_reset(bq);
		sqlite3_bind_text(bq, 1, variant, -1, SQLITE_STATIC);
		sqlite3_bind_int64(bq, 2, k);
		while (sqlite3_step(bq) == SQLITE_ROW) {
			struct rec *r = &recs[n++];
			ASSERT_LT(n, 4096);
			const char *res = (const char *)sqlite3_column_text(bq, 1);
			r->host = sqlite3_column_int64(bq, 0);
			r->res = strcmp(res, "bandwidth") == 0 ? RAAS_RES_BANDWIDTH : RAAS_RES_CORES;
			r->bidder = sqlite3_column_int64(bq, 2);
			r->min = sqlite3_column_int64(bq, 3);
			r->max = sqlite3_column_int64(bq, 4);
			r->price = sqlite3_column_int64(bq, 5);
			const unsigned char *c = sqlite3_column_text(bq, 6);
			snprintf(r->curve, sizeof(r->curve), "%s", c ? (const char *)c : "");
			r->quantity = sqlite3_column_int64(bq, 7);
			r->payment = sqlite3_column_int64(bq, 8);
		}
		/* Round k of the run is the market's round k + 1. Bids go in bidder order, so
		 * that the market's bid versions (its tie-break ids) rank like the simulator's
		 * bidder ids. */
		ASSERT_EQ(market_open_round(m), (uint64_t)k + 1);
		ASSERT_OK(market_batch_begin(m));
		memset(now, 0, nb * sizeof(bool));
		for (size_t i = 0; i < n; i++) {
			send_bid(m, &recs[i], (uint64_t)k * 4 + 1);
			now[recs[i].bidder] = true;
		}
		for (size_t b = 0; b < nb; b++)
			if (standing[b] && !now[b])
				send_cancel(m, (int64_t)b, (uint64_t)k * 4 + 2);
		struct market_outbox out;
		market_outbox_init(&out);
		ASSERT_OK(market_batch_end(m, &out));
		market_outbox_clear(&out);
		memcpy(standing, now, nb * sizeof(bool));
		clk_manual_advance(&clock, ROUND_NS);
		ASSERT_OK(market_round_close(m, &out));
		market_outbox_fini(&out);

		/* The market's round, from its ledger. */
		memset(v.priced, 0, sizeof(v.priced));
		for (size_t i = 0; i < n; i++)
			v.q[recs[i].bidder] = v.pay[recs[i].bidder] = 0;
		v.round = (uint64_t)k + 1;
		ASSERT_OK(ledger_round_prices_each(ledger, v.round, on_price, &v));
		ASSERT_OK(ledger_round_allocs_each(ledger, v.round, on_alloc, &v));
		sqlite3_reset(cq);
		sqlite3_bind_text(cq, 1, variant, -1, SQLITE_STATIC);
		sqlite3_bind_int64(cq, 2, k);
		int pools = 0;
		while (sqlite3_step(cq) == SQLITE_ROW) {
			int64_t h = sqlite3_column_int64(cq, 0);
			const char *res = (const char *)sqlite3_column_text(cq, 1);
			int r = strcmp(res, "bandwidth") == 0 ? 0 : 1;
			ASSERT_TRUE(h >= 0 && h < HOSTS && v.priced[h][r]);
			if (v.pool_price[h][r] != sqlite3_column_int64(cq, 2) ||
			    v.pool_alloc[h][r] != sqlite3_column_int64(cq, 3) ||
			    v.pool_rev[h][r] != sqlite3_column_int64(cq, 4))
				TEST_FAIL("%s round %" PRId64 " pool h%" PRId64 "/%s: market price %"
					  PRId64 " allocated %" PRId64 " revenue %" PRId64
					  "; simulator %lld %lld %lld",
					  variant, k, h, res, v.pool_price[h][r], v.pool_alloc[h][r],
					  v.pool_rev[h][r], (long long)sqlite3_column_int64(cq, 2),
					  (long long)sqlite3_column_int64(cq, 3),
					  (long long)sqlite3_column_int64(cq, 4));
			pools++;
		}
		ASSERT_EQ(pools, HOSTS * 2);
		for (size_t i = 0; i < n; i++) {
			const struct rec *r = &recs[i];
			if (v.q[r->bidder] != r->quantity || v.pay[r->bidder] != r->payment)
				TEST_FAIL("%s round %" PRId64 " bidder %" PRId64 " (h%" PRId64
					  "): market %" PRId64 " units for %" PRId64
					  "/h, simulator %" PRId64 " for %" PRId64,
					  variant, k, r->bidder, r->host, v.q[r->bidder],
					  v.pay[r->bidder], r->quantity, r->payment);
			positive += r->quantity > 0;
		}
		compared += n;
		if (k % 250 == 249 && market_check(m, why, sizeof(why)))
			TEST_FAIL("%s: market_check: %s", variant, why);
	}
	printf("  %-12s %d rounds, %zu bids equal (%zu with units), models %s | %s\n", variant,
	       ROUNDS, compared, positive, cfg.pools[0].model.model, cfg.pools[1].model.model);
	ASSERT_GT(positive, ROUNDS);
	sqlite3_finalize(bq);
	sqlite3_finalize(cq);
	free(recs);
	free(standing);
	free(now);
	free(v.q);
	free(v.pay);
	free(tenant_bidder);
	market_destroy(m);
	ledger_close(ledger);
	return compared;
}

/* The trace: the real m1.small history when ../shared/data is here, else a generated one
 * of the same format (the agreement does not depend on which). */
static void pick_trace(const char *dir)
{
	snprintf(trace_path, sizeof(trace_path), "%s",
		 RAAS_SHARED_DATA "/ec2-spot-2009-2011/us-east-1.linux.m1.small.csv");
	if (access(trace_path, R_OK) == 0)
		return;
	snprintf(trace_path, sizeof(trace_path), "%s/trace.csv", dir);
	FILE *f = fopen(trace_path, "w");
	ASSERT_TRUE(f != NULL);
	for (int d = 0; d < 200; d++)
		for (int h = 0; h < 24; h += 3)
			fprintf(f, "2010-%02d-%02d %02d:17:00,0.0%d\n", 1 + d / 28, 1 + d % 28, h,
				29 + (d * 7 + h) % 5);
	ASSERT_OK(fclose(f));
}

int main(void)
{
	char dir[256], ini[300], out[300], text[16384];
	size_t used, nbids = 0;

	st_scratch(dir, sizeof(dir), "agree");
	pick_trace(dir);
	snprintf(ini, sizeof(ini), "%s/s.ini", dir);
	snprintf(out, sizeof(out), "%s/run.sqlite", dir);
	used = (size_t)snprintf(
		text, sizeof(text),
		"[sim]\nduration = %dm\nround = 10m\nseed = %d\n"
		"[hosts]\ncount = %d\nplacement = random\nbandwidth = 800\ncores = 6\n"
		"[resource.bandwidth]\nmodel = uniform\n[resource.cores]\nmodel = uniform\n"
		"[output]\nrecord_bids = -1\n"
		"[template.n]\nprofile = " RAAS_SOURCE_DIR
		"/sim/tests/profiles/synthetic.csv\nresource = bandwidth\nload = diurnal\n"
		"level = many\ndiurnal_period = 2h\nlifetime = exp\nlifetime_mean = 40m\n"
		"[class.mc]\ntemplate = n\napp = memcached\nutility = refund\nbeta = 100\ncount = 6\n"
		"arrival_mean = 10m\n"
		"[class.nh]\ntemplate = n\napp = nhttpd\nutility = refund\nstrategy = static-tpt\n"
		"count = 3\narrival_mean = 20m\n"
		"[class.spot]\nkind = flat\nresource = cores\nvalue = pareto:$0.03:2\ncount = 8\n"
		"lifetime = exp\nlifetime_mean = 30m\narrival_mean = 4m\n"
		"[class.batch]\nkind = flat\nresource = cores\nquantity = 3\nmin_quantity = 2\n"
		"value = uniform:$0.01:$0.09\ncount = 3\nlifetime = exp\nlifetime_mean = 2h\n"
		"arrival_mean = 40m\n",
		ROUNDS * 10, SEED, HOSTS);
	for (size_t i = 0; i < NMECH; i++) {
		char bw[1024], co[1024];
		snprintf(bw, sizeof(bw), mechs[i].bandwidth, trace_path);
		snprintf(co, sizeof(co), mechs[i].cores, trace_path);
		used += (size_t)snprintf(text + used, sizeof(text) - used,
					 "[variant.%s]\nbandwidth = %s\ncores = %s\n",
					 mechs[i].variant, bw, co);
	}
	ASSERT_LT(used, sizeof(text));
	st_write(ini, text);
	st_run(ini, out, 2, NULL, 0, 0, false);

	sqlite3 *db;
	ASSERT_EQ(sqlite3_open_v2(out, &db, SQLITE_OPEN_READWRITE, NULL), SQLITE_OK);
	/* The test's own indexes on its copy of the run, for the per-round reads. */
	ASSERT_EQ(sqlite3_exec(db,
			       "CREATE INDEX agree_bids ON bids(variant, round, bidder);"
			       "CREATE INDEX agree_clearings ON clearings(variant, round);",
			       NULL, NULL, NULL),
		  SQLITE_OK);
	printf("test_sim_agree: the market core replays the simulator's recorded bids (trace %s)\n",
	       trace_path);
	for (size_t i = 0; i < NMECH; i++)
		nbids += replay(db, i);
	sqlite3_close(db);
	/* The run had real competition: partial fills and multi-segment curves. */
	ASSERT_GT(st_query(out, "SELECT count(*) FROM bids WHERE quantity > 0 AND quantity <"
				" max_quantity"),
		  100);
	ASSERT_GT(st_query(out, "SELECT count(*) FROM bids WHERE curve LIKE '% %'"), 1000);
	ASSERT_GT(st_query(out, "SELECT count(DISTINCT price) FROM clearings WHERE variant ="
				" 'spot'"),
		  5);
	st_remove(dir);
	printf("test_sim_agree: ok: %zu models x %d rounds x 6 pools, %zu bids: equal prices, "
	       "allocations and payments\n",
	       NMECH, ROUNDS, nbids);
	return 0;
}
