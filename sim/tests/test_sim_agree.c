/* test_sim_agree.c: the simulator and the market clear the same bids the same way.
 *
 * A run records every bid and outcome of every pool ([output] record_bids = -1) under eight
 * mechanisms. The test then replays each pool's recorded bids the way the market receives
 * them: each bid becomes a raas.proto Bid inside an Envelope, goes through wire_encode() and
 * wire_decode() (the market's decoder), is turned back into a pm_bid, and all of a round's
 * bids are cleared with pm_clear() on a fresh instance of the same model, fed round by round
 * with the same RNG stream the simulator gave the pool. Prices, allocations, payments,
 * revenue and welfare must be identical, round by round, bid by bid. */
#include <errno.h>
#include <gsl/gsl_rng.h>
#include <inttypes.h>

#include "common/wire.h"
#include "pricing/pm.h"
#include "run_internal.h"
#include "sim/scenario.h"
#include "sim_testutil.h"

static const struct {
	const char *variant, *bandwidth, *cores;
} mechs[] = {
	{"fixed", "fixed: price=$40", "fixed: price=$0.05"},
	{"uniform", "uniform: reserve=$1", "uniform: reserve=$0.01"},
	{"vcg", "vcg: reserve=$1", "vcg: reserve=$0.01"},
	{"psp", "psp: reserve=$1", "psp: reserve=$0.01"},
	{"proportional", "proportional", "proportional"},
	{"mpsp", "mpsp: reserve=$1, lambda=$0.5, chunk=10", "mpsp: reserve=$0.01"},
	{"utilization", "utilization: base=$20, levels=\"0:1 0.6:2\"",
	 "utilization: base=$0.03, levels=\"0:1 0.5:3\""},
	{"spot", "spot-ar1: floor=$5, ceiling=$30, min_interval=10m",
	 "spot-ar1: floor=$0.03, ceiling=$0.06, min_interval=10m, gap_mean=10m"},
};
#define NMECH (sizeof(mechs) / sizeof(mechs[0]))
#define ROUND_NS (INT64_C(600) * 1000000000)
#define SEED 21

static size_t parse_curve(const char *text, struct pm_segment *segs, size_t max)
{
	size_t n = 0;

	while (text && *text && n < max) {
		long long q, v;
		int used;
		if (sscanf(text, "%lld@%lld%n", &q, &v, &used) != 2)
			TEST_FAIL("bad curve text '%s'", text);
		segs[n++] = (struct pm_segment){.quantity = q, .unit_value = v};
		text += used;
		while (*text == ' ')
			text++;
	}
	return n;
}

/* The market's path for one recorded bid: protobuf over the wire, decoded, back to pm_bid. */
static void through_wire(const struct pm_bid *in, enum sim_resource res, int64_t host,
			 struct pm_bid *out, struct pm_segment *segs)
{
	Raas__Envelope env;
	Raas__Bid bid = RAAS__BID__INIT;
	Raas__ValueSegment vs[ECON_MENU_MAX], *pvs[ECON_MENU_MAX];
	char id[32], hname[32];
	uint8_t *buf;
	size_t len;
	Raas__Envelope *dec;
	char why[256];

	snprintf(id, sizeof(id), "%" PRIu64, in->bidder);
	snprintf(hname, sizeof(hname), "h%" PRId64, host);
	bid.bid_id = id;
	bid.resource = res == SIM_RES_BANDWIDTH ? RAAS__RESOURCE__RESOURCE_BANDWIDTH
						: RAAS__RESOURCE__RESOURCE_CORES;
	bid.host = hname;
	bid.min_quantity = in->min_quantity;
	bid.max_quantity = in->max_quantity;
	bid.unit_price = in->unit_price;
	for (size_t i = 0; i < in->ncurve; i++) {
		raas__value_segment__init(&vs[i]);
		vs[i].quantity = in->curve[i].quantity;
		vs[i].unit_value = in->curve[i].unit_value;
		pvs[i] = &vs[i];
	}
	bid.n_curve = in->ncurve;
	bid.curve = in->ncurve ? pvs : NULL;
	wire_envelope_init(&env, in->bidder + 1);
	env.body_case = RAAS__ENVELOPE__BODY_BID;
	env.bid = &bid;
	ASSERT_OK(wire_encode(&env, &buf, &len));
	if (wire_decode(buf, len, WIRE_MAX_BYTES, &dec, why, sizeof(why)))
		TEST_FAIL("wire_decode: %s", why);
	free(buf);
	ASSERT_EQ(dec->body_case, RAAS__ENVELOPE__BODY_BID);
	const Raas__Bid *b = dec->bid;
	memset(out, 0, sizeof(*out));
	out->bidder = strtoull(b->bid_id, NULL, 10);
	out->min_quantity = b->min_quantity;
	out->max_quantity = b->max_quantity;
	out->unit_price = b->unit_price;
	for (size_t i = 0; i < b->n_curve; i++)
		segs[i] = (struct pm_segment){.quantity = b->curve[i]->quantity,
					      .unit_value = b->curve[i]->unit_value};
	out->curve = b->n_curve ? segs : NULL;
	out->ncurve = b->n_curve;
	ASSERT_STR_EQ(b->host, hname);
	wire_free(dec);
}

/* Replays one pool of one variant; returns the number of rounds compared. */
static int replay_pool(sqlite3 *db, const char *variant, int64_t host, enum sim_resource res,
		       const char *model, const char *params_text, size_t *nbids_total)
{
	struct pm_param params[16];
	struct pm_error err;
	struct pm_instance *inst;
	char *storage;
	int rounds = 0;

	int np = pm_params_parse(params_text, params, 16, &storage, &err);
	ASSERT_TRUE(np >= 0);
	if (pm_create(model, params, (size_t)np, &inst, &err))
		TEST_FAIL("pm_create %s: %s", model, err.message);
	free(storage);
	gsl_rng *rng = gsl_rng_alloc(gsl_rng_taus2);
	gsl_rng_set(rng, (unsigned long)sim__stream_seed(SEED, variant, (uint64_t)host, res));

	sqlite3_stmt *cl, *bq;
	ASSERT_EQ(sqlite3_prepare_v2(db,
				     "SELECT round, supply, price, revenue, allocated, welfare FROM"
				     " clearings WHERE variant = ? AND host = ? AND resource = ?"
				     " ORDER BY round",
				     -1, &cl, NULL),
		  SQLITE_OK);
	ASSERT_EQ(sqlite3_prepare_v2(db,
				     "SELECT bidder, min_quantity, max_quantity, unit_price, held,"
				     " curve, true_curve, quantity, payment FROM bids WHERE variant"
				     " = ? AND round = ? AND host = ? AND resource = ? ORDER BY rowid",
				     -1, &bq, NULL),
		  SQLITE_OK);
	sqlite3_bind_text(cl, 1, variant, -1, SQLITE_STATIC);
	sqlite3_bind_int64(cl, 2, host);
	sqlite3_bind_text(cl, 3, sim_resource_name(res), -1, SQLITE_STATIC);
	size_t cap = 4096;
	struct pm_bid *bids = calloc(cap, sizeof(*bids));
	struct pm_outcome *outs = calloc(cap, sizeof(*outs));
	struct pm_segment *curves = calloc(cap * ECON_MENU_MAX, sizeof(*curves));
	struct pm_segment *trues = calloc(cap * ECON_MENU_MAX, sizeof(*trues));
	int64_t *want_q = calloc(cap, sizeof(*want_q)), *want_p = calloc(cap, sizeof(*want_p));
	while (sqlite3_step(cl) == SQLITE_ROW) {
		int64_t k = sqlite3_column_int64(cl, 0);
		size_t n = 0;
		sqlite3_reset(bq);
		sqlite3_bind_text(bq, 1, variant, -1, SQLITE_STATIC);
		sqlite3_bind_int64(bq, 2, k);
		sqlite3_bind_int64(bq, 3, host);
		sqlite3_bind_text(bq, 4, sim_resource_name(res), -1, SQLITE_STATIC);
		while (sqlite3_step(bq) == SQLITE_ROW) {
			struct pm_bid rec = {0};
			struct pm_segment rc[ECON_MENU_MAX];
			ASSERT_LT(n, cap);
			rec.bidder = (uint64_t)sqlite3_column_int64(bq, 0);
			rec.min_quantity = sqlite3_column_int64(bq, 1);
			rec.max_quantity = sqlite3_column_int64(bq, 2);
			rec.unit_price = sqlite3_column_int64(bq, 3);
			rec.ncurve = parse_curve((const char *)sqlite3_column_text(bq, 5), rc,
						 ECON_MENU_MAX);
			rec.curve = rec.ncurve ? rc : NULL;
			through_wire(&rec, res, host, &bids[n], &curves[n * ECON_MENU_MAX]);
			bids[n].held = sqlite3_column_int64(bq, 4);
			bids[n].ntrue = parse_curve((const char *)sqlite3_column_text(bq, 6),
						    &trues[n * ECON_MENU_MAX], ECON_MENU_MAX);
			bids[n].true_curve = bids[n].ntrue ? &trues[n * ECON_MENU_MAX] : NULL;
			want_q[n] = sqlite3_column_int64(bq, 7);
			want_p[n] = sqlite3_column_int64(bq, 8);
			n++;
		}
		struct pm_pool pool = {.supply = sqlite3_column_int64(cl, 1), .round = (uint64_t)k,
				       .now_ns = k * ROUND_NS, .round_ns = ROUND_NS, .rng = rng};
		struct pm_result result = {.outcomes = outs};
		memset(outs, 0, cap * sizeof(*outs));
		if (pm_clear(inst, &pool, bids, n, &result, &err))
			TEST_FAIL("%s round %" PRId64 ": pm_clear: %s", variant, k, err.message);
		if (result.price != sqlite3_column_int64(cl, 2) ||
		    result.revenue != sqlite3_column_int64(cl, 3) ||
		    result.allocated != sqlite3_column_int64(cl, 4) ||
		    result.welfare != sqlite3_column_int64(cl, 5))
			TEST_FAIL("%s host %" PRId64 " %s round %" PRId64 ": market price %" PRId64
				  " revenue %" PRId64 " allocated %" PRId64 " welfare %" PRId64
				  "; simulator %lld %lld %lld %lld",
				  variant, host, sim_resource_name(res), k, result.price,
				  result.revenue, result.allocated, result.welfare,
				  (long long)sqlite3_column_int64(cl, 2),
				  (long long)sqlite3_column_int64(cl, 3),
				  (long long)sqlite3_column_int64(cl, 4),
				  (long long)sqlite3_column_int64(cl, 5));
		for (size_t i = 0; i < n; i++) {
			if (outs[i].quantity != want_q[i] || outs[i].payment != want_p[i])
				TEST_FAIL("%s round %" PRId64 " bidder %" PRIu64
					  ": market %" PRId64 " units for %" PRId64
					  ", simulator %" PRId64 " for %" PRId64,
					  variant, k, bids[i].bidder, outs[i].quantity,
					  outs[i].payment, want_q[i], want_p[i]);
		}
		*nbids_total += n;
		rounds++;
	}
	sqlite3_finalize(cl);
	sqlite3_finalize(bq);
	free(bids);
	free(outs);
	free(curves);
	free(trues);
	free(want_q);
	free(want_p);
	gsl_rng_free(rng);
	pm_destroy(inst);
	return rounds;
}

/* The model and parameters of a "MODEL[: PARAMS]" text. */
static void split_model(const char *text, char *model, size_t mlen, const char **params)
{
	const char *colon = strchr(text, ':');
	size_t n = colon ? (size_t)(colon - text) : strlen(text);
	snprintf(model, mlen, "%.*s", (int)n, text);
	*params = colon ? colon + 2 : "";
}

int main(void)
{
	char dir[256], ini[300], out[300], text[8192];
	size_t used, nbids = 0;
	int compared = 0;

	st_scratch(dir, sizeof(dir), "agree");
	snprintf(ini, sizeof(ini), "%s/s.ini", dir);
	snprintf(out, sizeof(out), "%s/run.sqlite", dir);
	used = (size_t)snprintf(
		text, sizeof(text),
		"[sim]\nduration = 2h\nround = 10m\nseed = %d\n"
		"[hosts]\ncount = 3\nplacement = random\nbandwidth = 800\ncores = 6\n"
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
		"[class.batch]\nkind = flat\nresource = cores\nquantity = 3\n"
		"value = uniform:$0.01:$0.09\ncount = 3\n",
		SEED);
	for (size_t i = 0; i < NMECH; i++)
		used += (size_t)snprintf(text + used, sizeof(text) - used,
					 "[variant.%s]\nbandwidth = %s\ncores = %s\n",
					 mechs[i].variant, mechs[i].bandwidth, mechs[i].cores);
	st_write(ini, text);
	st_run(ini, out, 2, NULL, 0, 0, false);

	sqlite3 *db;
	ASSERT_EQ(sqlite3_open_v2(out, &db, SQLITE_OPEN_READONLY, NULL), SQLITE_OK);
	for (size_t i = 0; i < NMECH; i++) {
		for (int res = SIM_RES_CORES; res <= SIM_RES_BANDWIDTH; res += 2) {
			char model[32];
			const char *params;
			split_model(res == SIM_RES_CORES ? mechs[i].cores : mechs[i].bandwidth,
				    model, sizeof(model), &params);
			for (int64_t h = 0; h < 3; h++)
				compared += replay_pool(db, mechs[i].variant, h,
							(enum sim_resource)res, model, params,
							&nbids);
		}
	}
	sqlite3_close(db);
	/* 8 mechanisms x 2 resources x 3 hosts x 12 rounds, and real competition. */
	ASSERT_EQ(compared, (int)(NMECH * 2 * 3 * 12));
	ASSERT_GT(nbids, 1000);
	ASSERT_GT(st_query(out, "SELECT count(*) FROM bids WHERE quantity < max_quantity"), 10);
	ASSERT_GT(st_query(out, "SELECT count(*) FROM bids WHERE curve LIKE '% %'"), 10);
	st_remove(dir);
	printf("test_sim_agree: ok (%d clearings, %zu bids: simulator = wire + pm_clear)\n",
	       compared, nbids);
	return 0;
}
