/* test_market_auction.c: three tenants compete for one pool under uniform, vcg and psp; the
 * published prices, the allocation notices and the ledger must equal what pricing-models
 * computes (pm_create + pm_clear, the same wrappers) for the same bids.
 *
 * For each model a fresh raas-marketd runs on loopback with one declared pool (100 Mbit/s
 * of bandwidth on h1). The tenants say hello (so they get notices), subscribe to the pool's
 * price topic and bid; the test then reads two consecutive rounds in which all three bids
 * were in force, the first with nothing held before, the second with the first's
 * allocations as what each bidder holds (psp's exchange penalty sees it), and compares every
 * number with its own clearing of the same bids. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <zmq.h>

#include "common/clock.h"
#include "common/money.h"
#include "harness.h"
#include "market/market.h"
#include "pricing/pm.h"
#include "pricing/pool.h"
#include "test.h"

#define ROUND_MS 60
#define SUPPLY 100
#define ROUNDS_KEPT 64

struct scenario {
	const char *model;
	const char *params;
	/* Per tenant: flat (max, price) or a curve of up to 3 segments. */
	struct {
		int64_t max;
		const char *price;
		int nseg;
		struct {
			int64_t q;
			const char *v;
		} seg[3];
	} bid[3];
};

static const struct scenario scenarios[] = {
	{"uniform", "reserve=$0.01",
	 {{50, "$0.09", 0, {{0, NULL}}}, {40, "$0.07", 0, {{0, NULL}}}, {30, "$0.05", 0, {{0, NULL}}}}},
	{"vcg", "reserve=$0.01",
	 {{60, "$0.10", 2, {{30, "$0.10"}, {30, "$0.06"}}},
	  {60, "$0.09", 2, {{20, "$0.09"}, {40, "$0.04"}}},
	  {50, "$0.07", 1, {{50, "$0.07"}}}}},
	{"psp", "reserve=$0.01",
	 {{50, "$0.08", 0, {{0, NULL}}}, {40, "$0.06", 0, {{0, NULL}}}, {30, "$0.05", 0, {{0, NULL}}}}},
};

/* What the clients saw, per round. */
struct seen {
	struct {
		bool price;
		Raas__PriceUpdate *update; /* owned envelope kept in env */
		Raas__Envelope *env;
		Raas__Envelope *notice[3];
	} round[ROUNDS_KEPT];
};

static money_t dollars(const char *text)
{
	money_t m;
	ASSERT_OK(money_parse(text, &m, NULL));
	return m;
}

static void keep(struct seen *s, Raas__Envelope *env, int tenant)
{
	uint64_t r = env->body_case == RAAS__ENVELOPE__BODY_PRICE ? env->price->round
								   : env->notice->round;
	if (r >= ROUNDS_KEPT) {
		wire_free(env);
		return;
	}
	if (tenant < 0) {
		wire_free(s->round[r].env);
		s->round[r].env = env;
		s->round[r].update = env->price;
		s->round[r].price = true;
	} else {
		wire_free(s->round[r].notice[tenant]);
		s->round[r].notice[tenant] = env;
	}
}

/* Receives whatever is pending on the three dealers and the subscriber. */
static void pump(void *sub, void *dealers[3], struct seen *s, int timeout_ms)
{
	zmq_pollitem_t items[4] = {
		{.socket = sub, .events = ZMQ_POLLIN},
		{.socket = dealers[0], .events = ZMQ_POLLIN},
		{.socket = dealers[1], .events = ZMQ_POLLIN},
		{.socket = dealers[2], .events = ZMQ_POLLIN},
	};
	if (zmq_poll(items, 4, timeout_ms) <= 0)
		return;
	for (int i = 0; i < 4; i++) {
		struct tp_msg m;
		char why[256];
		while (tp_recv(items[i].socket, ZMQ_DONTWAIT, WIRE_MAX_BYTES, &m, why, sizeof(why)) ==
		       0) {
			Raas__Envelope *env = m.env;
			m.env = NULL;
			if (i == 0 && env->body_case == RAAS__ENVELOPE__BODY_PRICE)
				keep(s, env, -1);
			else if (i > 0 && env->body_case == RAAS__ENVELOPE__BODY_NOTICE)
				keep(s, env, i - 1);
			else
				wire_free(env);
			tp_msg_clear(&m);
		}
	}
}

struct ledger_view {
	int64_t bid_version[3];     /* standing version per tenant */
	int64_t tenant_id[3];
	int64_t pool;
	int64_t alloc_q[3];         /* allocations of the round asked for, per tenant */
	money_t alloc_pay[3];
	money_t price;
	bool priced;
	uint64_t round;
};

static int on_alloc(void *arg, uint64_t round, const struct ledger_alloc_row *a)
{
	struct ledger_view *v = arg;
	(void)round;
	for (int t = 0; t < 3; t++)
		if (a->tenant == v->tenant_id[t]) {
			v->alloc_q[t] += a->quantity;
			v->alloc_pay[t] += a->payment_per_hour;
		}
	return 0;
}

static int on_price(void *arg, uint64_t round, const struct ledger_price_row *p)
{
	struct ledger_view *v = arg;
	(void)round;
	v->pool = p->pool;
	v->price = p->unit_price;
	v->priced = true;
	return 0;
}

static void read_ledger(struct harness *h, uint64_t round, struct ledger_view *v)
{
	struct ledger *l = h_ledger(h);
	memset(v, 0, sizeof(*v));
	v->round = round;
	for (int t = 0; t < 3; t++) {
		struct ledger_tenant row;
		struct ledger_bid bid;
		ASSERT_OK(ledger_tenant_by_name(l, h->tenants[t].name, &row));
		v->tenant_id[t] = row.id;
		ASSERT_OK(ledger_bid_standing(l, row.id, "b", &bid));
		v->bid_version[t] = bid.id;
	}
	ASSERT_OK(ledger_round_prices_each(l, round, on_price, v));
	ASSERT_OK(ledger_round_allocs_each(l, round, on_alloc, v));
	ledger_close(l);
	ASSERT_TRUE(v->priced);
}

/* pm_clear of the scenario's bids for round r, holding what `held` says. */
static void expected(const struct scenario *sc, const struct ledger_view *v, uint64_t r,
		     const int64_t held[3], struct pm_result *res, struct pm_outcome out[3])
{
	struct pm_param params[4];
	struct pm_error pe = {{0}};
	struct pm_instance *inst;
	struct pm_segment segs[3][3];
	struct pm_bid bids[3];
	char *storage = NULL;
	int n = pm_params_parse(sc->params, params, 4, &storage, &pe);

	ASSERT_GE(n, 0);
	ASSERT_OK(pm_create(sc->model, params, (size_t)n, &inst, &pe));
	free(storage);
	for (int t = 0; t < 3; t++) {
		memset(&bids[t], 0, sizeof(bids[t]));
		bids[t].bidder = (uint64_t)v->bid_version[t];
		bids[t].max_quantity = sc->bid[t].max;
		bids[t].unit_price = dollars(sc->bid[t].price);
		for (int k = 0; k < sc->bid[t].nseg; k++) {
			segs[t][k].quantity = sc->bid[t].seg[k].q;
			segs[t][k].unit_value = dollars(sc->bid[t].seg[k].v);
		}
		bids[t].curve = sc->bid[t].nseg ? segs[t] : NULL;
		bids[t].ncurve = (size_t)sc->bid[t].nseg;
		bids[t].held = held[t];
	}
	/* The documented pool setup (pricing/pool.h): taus2 seeded per (seed, host, resource,
	 * round), round r at (r - 1) x round length. */
	gsl_rng *rng = gsl_rng_alloc(gsl_rng_taus2);
	gsl_rng_set(rng, (unsigned long)pm_pool_seed(1, "h1", "bandwidth", r));
	struct pm_pool pool = {
		.supply = SUPPLY,
		.round = r,
		.now_ns = (int64_t)(r - 1) * ROUND_MS * NS_PER_MS,
		.round_ns = ROUND_MS * NS_PER_MS,
		.rng = rng,
	};
	memset(res, 0, sizeof(*res));
	memset(out, 0, 3 * sizeof(*out));
	res->outcomes = out;
	/* The market clears the bids in its own order; order must not matter (ties go by
	 * bidder id), and the market's order is version order, which is ours too. */
	if (pm_clear(inst, &pool, bids, 3, res, &pe) != 0)
		TEST_FAIL("pm_clear: %s", pe.message);
	gsl_rng_free(rng);
	pm_destroy(inst);
}

static void run(const struct scenario *sc)
{
	struct harness h;
	char extra[512], name[64];
	void *dealers[3];
	struct seen *s = calloc(1, sizeof(*s));
	uint64_t effective = 0;

	snprintf(extra, sizeof(extra),
		 "[pool.bw]\nhost = h1\nresource = bandwidth\nsupply = %d\nmodel = %s\n"
		 "params = %s\n",
		 SUPPLY, sc->model, sc->params);
	snprintf(name, sizeof(name), "auction-%s", sc->model);
	h_init(&h, name, ROUND_MS, extra);
	h_add_tenant(&h, "alice", -1);
	h_add_tenant(&h, "bob", -1);
	h_add_tenant(&h, "carol", -1);
	h_start(&h);

	void *sub = h_sub(&h, 0, "price/bandwidth/h1");
	for (int t = 0; t < 3; t++) {
		dealers[t] = h_dealer(&h, t);
		Raas__Envelope *r = h_hello(&h, dealers[t]);
		ASSERT_STR_EQ(r->reply->hello->tenant, h.tenants[t].name);
		wire_free(r);
	}
	for (int t = 0; t < 3; t++) {
		Raas__Envelope e;
		Raas__Bid bid = RAAS__BID__INIT;
		Raas__ValueSegment seg[3], *segp[3];
		wire_envelope_init(&e, 0);
		bid.bid_id = "b";
		bid.resource = RAAS__RESOURCE__RESOURCE_BANDWIDTH;
		bid.host = "h1";
		bid.max_quantity = sc->bid[t].max;
		bid.unit_price = dollars(sc->bid[t].price);
		for (int k = 0; k < sc->bid[t].nseg; k++) {
			raas__value_segment__init(&seg[k]);
			seg[k].quantity = sc->bid[t].seg[k].q;
			seg[k].unit_value = dollars(sc->bid[t].seg[k].v);
			segp[k] = &seg[k];
		}
		bid.curve = segp;
		bid.n_curve = (size_t)sc->bid[t].nseg;
		e.body_case = RAAS__ENVELOPE__BODY_BID;
		e.bid = &bid;
		Raas__Envelope *r = h_call(&h, dealers[t], &e, 10000, NULL, NULL);
		if (r->reply->error)
			TEST_FAIL("%s: bid refused: %s", sc->model, r->reply->error->message);
		if (r->reply->bid->effective_round > effective)
			effective = r->reply->bid->effective_round;
		wire_free(r);
	}
	ASSERT_LT(effective + 1, ROUNDS_KEPT);

	/* Wait for both rounds' prices and notices. */
	int64_t deadline = h_now_ms() + 20000;
	for (;;) {
		bool done = true;
		for (uint64_t r = effective; r <= effective + 1; r++) {
			done = done && s->round[r].price;
			for (int t = 0; t < 3; t++)
				done = done && s->round[r].notice[t];
		}
		if (done)
			break;
		if (h_now_ms() > deadline)
			TEST_FAIL("%s: rounds %llu and %llu were not all announced within 20 s",
				  sc->model, (unsigned long long)effective,
				  (unsigned long long)effective + 1);
		pump(sub, dealers, s, 50);
	}

	int64_t held[3] = {0, 0, 0};
	for (uint64_t r = effective; r <= effective + 1; r++) {
		struct ledger_view v;
		struct pm_result res;
		struct pm_outcome out[3];

		read_ledger(&h, r, &v);
		expected(sc, &v, r, held, &res, out);
		printf("%s round %llu: price %lld, allocations %lld/%lld/%lld, payments "
		       "%lld/%lld/%lld per hour\n",
		       sc->model, (unsigned long long)r, (long long)res.price,
		       (long long)out[0].quantity, (long long)out[1].quantity,
		       (long long)out[2].quantity, (long long)out[0].payment,
		       (long long)out[1].payment, (long long)out[2].payment);
		/* Something is contested: demand exceeds supply and someone gets less. */
		ASSERT_GT(sc->bid[0].max + sc->bid[1].max + sc->bid[2].max, SUPPLY);
		ASSERT_TRUE(out[0].quantity < sc->bid[0].max || out[1].quantity < sc->bid[1].max ||
			    out[2].quantity < sc->bid[2].max);
		/* Published price and the ledger's. */
		ASSERT_EQ(s->round[r].update->unit_price, res.price);
		ASSERT_EQ(s->round[r].update->allocated, res.allocated);
		ASSERT_EQ(s->round[r].update->supply, SUPPLY);
		ASSERT_EQ(v.price, res.price);
		for (int t = 0; t < 3; t++) {
			const Raas__AllocationNotice *n = s->round[r].notice[t]->notice;
			int64_t q = 0;
			money_t pay = 0, charge;
			for (size_t k = 0; k < n->n_holdings; k++) {
				ASSERT_STR_EQ(n->holdings[k]->tenant, h.tenants[t].name);
				ASSERT_EQ(n->holdings[k]->unit_price, res.price);
				q += n->holdings[k]->quantity;
				pay += n->holdings[k]->payment_per_hour;
			}
			ASSERT_EQ(q, out[t].quantity);
			ASSERT_EQ(pay, out[t].payment);
			ASSERT_OK(money_charge(out[t].payment, 1, ROUND_MS * NS_PER_MS, &charge));
			ASSERT_EQ(n->charged, charge);
			ASSERT_EQ(n->balance, -1);
			ASSERT_EQ(v.alloc_q[t], out[t].quantity);
			ASSERT_EQ(v.alloc_pay[t], out[t].payment);
			held[t] = out[t].quantity;
		}
	}
	h_check_ledger(&h);

	for (int t = 0; t < 3; t++)
		tp_close(dealers[t]);
	tp_close(sub);
	h_stop(&h, false);
	for (int r = 0; r < ROUNDS_KEPT; r++) {
		wire_free(s->round[r].env);
		for (int t = 0; t < 3; t++)
			wire_free(s->round[r].notice[t]);
	}
	free(s);
	tp_context_destroy(h.ctx);
	h_cleanup(&h);
}

int main(int argc, char **argv)
{
	for (size_t i = 0; i < sizeof(scenarios) / sizeof(scenarios[0]); i++)
		if (argc < 2 || strcmp(argv[1], scenarios[i].model) == 0)
			run(&scenarios[i]);
	printf("test_market_auction: ok\n");
	return 0;
}
