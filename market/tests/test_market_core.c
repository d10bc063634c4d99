/* test_market_core.c: the market core without sockets, on a manual clock.
 *
 * What the integration tests cannot reach cheaply: a batch whose commit fails (every reply
 * becomes "unavailable", memory is reloaded, nothing was applied), a round whose ledger
 * write fails (nothing announced, the round stays open and closes later), host registration
 * creating pools and receiving its allocation set, metered egress billing, budgets (a bid
 * beyond the budget is refused; a tenant whose budget runs low sits out), any-host bids, a
 * partial release, and a restart over the same ledger that resumes exactly. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "common/clock.h"
#include "common/error.h"
#include "common/log.h"
#include "market/market.h"
#include "test.h"

static struct market_config cfg;
static struct clk clock_;
static struct ledger *ledger;
static struct market *mkt;
static struct market_outbox out;
static uint64_t next_rid = 1;
static char path[256];

static void check(void)
{
	char why[LEDGER_WHY_MAX] = "";
	if (market_check(mkt, why, sizeof(why)) != 0)
		TEST_FAIL("market_check: %s", why);
	if (ledger_check(ledger, why, sizeof(why)) != 0)
		TEST_FAIL("ledger_check: %s", why);
}

static Raas__Envelope *decode(const struct market_msg *m)
{
	Raas__Envelope *e;
	char why[256];
	if (wire_decode(m->buf, m->len, WIRE_MAX_BYTES, &e, why, sizeof(why)) != 0)
		TEST_FAIL("outbox message does not decode: %s", why);
	return e;
}

/* One request as tenant (or host) name, in its own batch; returns the decoded reply. */
static Raas__Envelope *request(const char *identity, Raas__Envelope *e)
{
	struct tp_route route = {.len = 1};
	route.id[0] = (uint8_t)identity[0];
	if (!e->request_id)
		e->request_id = next_rid++;
	market_outbox_clear(&out);
	ASSERT_OK(market_batch_begin(mkt));
	if (strncmp(identity, "host:", 5) == 0)
		market_host_request(mkt, identity, &route, e, &out);
	else
		market_tenant_request(mkt, identity, &route, e, &out);
	market_batch_end(mkt, &out);
	ASSERT_GE(out.n, 1);
	ASSERT_TRUE(out.v[0].is_reply);
	return decode(&out.v[0]);
}

static Raas__Envelope *bid(const char *tenant, const char *id, const char *host, int64_t max,
			   money_t price)
{
	Raas__Envelope e;
	Raas__Bid b = RAAS__BID__INIT;
	wire_envelope_init(&e, 0);
	b.bid_id = (char *)id;
	b.resource = RAAS__RESOURCE__RESOURCE_BANDWIDTH;
	b.host = (char *)host;
	b.max_quantity = max;
	b.unit_price = price;
	e.body_case = RAAS__ENVELOPE__BODY_BID;
	e.bid = &b;
	return request(tenant, &e);
}

static void expect_ok(Raas__Envelope *r)
{
	if (r->reply->error)
		TEST_FAIL("unexpected error: %s", r->reply->error->message);
	wire_free(r);
}

static void expect_code(Raas__Envelope *r, Raas__ErrorCode code, const char *text)
{
	ASSERT_TRUE(r->reply->error != NULL);
	if ((int)r->reply->error->code != (int)code)
		TEST_FAIL("code %d (%s), want %d", r->reply->error->code, r->reply->error->message,
			  code);
	ASSERT_STR_CONTAINS(r->reply->error->message, text);
	wire_free(r);
}

/* Closes a round (clock moves one round on); returns how many messages went out. */
static size_t close_round(void)
{
	clk_manual_advance(&clock_, cfg.round_ns);
	market_outbox_clear(&out);
	ASSERT_OK(market_round_close(mkt, &out));
	check();
	return out.n;
}

/* The price published for host/resource in the outbox, or -1. */
static money_t published(const char *host, int resource)
{
	money_t p = -1;
	for (size_t i = 0; i < out.n; i++) {
		if (out.v[i].dest != MARKET_PUBLISH)
			continue;
		Raas__Envelope *e = decode(&out.v[i]);
		if (strcmp(e->price->host, host) == 0 && (int)e->price->resource == resource)
			p = e->price->unit_price;
		wire_free(e);
	}
	return p;
}

static struct ledger_tenant tenant_row(const char *name)
{
	struct ledger_tenant t;
	ASSERT_OK(ledger_tenant_by_name(ledger, name, &t));
	return t;
}

static void start(void)
{
	char why[512];
	ASSERT_OK(market_create(&cfg, ledger, &clock_, &mkt, why, sizeof(why)));
	check();
}

static void test_batches_and_rounds(void)
{
	/* A batch whose commit fails: the reply says retry, nothing stands. */
	ledger_fault_set(ledger, 3); /* request lookup is a read; bid end/insert/put write */
	Raas__Envelope *r = bid("tenant:alice", "a", "h1", 40, 30000000);
	ledger_fault_set(ledger, 0);
	expect_code(r, RAAS__ERROR_CODE__ERROR_UNAVAILABLE, "retry");
	check();
	Raas__Envelope e;
	Raas__Query q = RAAS__QUERY__INIT;
	wire_envelope_init(&e, 0);
	q.what = RAAS__QUERY__WHAT__WHAT_BIDS;
	e.body_case = RAAS__ENVELOPE__BODY_QUERY;
	e.query = &q;
	r = request("tenant:alice", &e);
	ASSERT_EQ(r->reply->query->n_bids, 0);
	wire_free(r);

	/* A write failing halfway through a batch of two: neither request is applied. */
	{
		Raas__Envelope e1, e2;
		Raas__Bid b1 = RAAS__BID__INIT, b2 = RAAS__BID__INIT;
		struct tp_route route = {.len = 1, .id = {'a'}};
		wire_envelope_init(&e1, next_rid++);
		wire_envelope_init(&e2, next_rid++);
		b1.bid_id = "first";
		b2.bid_id = "second";
		b1.resource = b2.resource = RAAS__RESOURCE__RESOURCE_BANDWIDTH;
		b1.host = b2.host = "h1";
		b1.max_quantity = b2.max_quantity = 1;
		b1.unit_price = b2.unit_price = 1000;
		e1.body_case = e2.body_case = RAAS__ENVELOPE__BODY_BID;
		e1.bid = &b1;
		e2.bid = &b2;
		market_outbox_clear(&out);
		ASSERT_OK(market_batch_begin(mkt));
		/* first: bid insert, request put; second: its bid insert fails. */
		ledger_fault_set(ledger, 3);
		market_tenant_request(mkt, "tenant:alice", &route, &e1, &out);
		market_tenant_request(mkt, "tenant:alice", &route, &e2, &out);
		ledger_fault_set(ledger, 0);
		ASSERT_TRUE(market_batch_end(mkt, &out) < 0);
		ASSERT_EQ(out.n, 2);
		for (size_t i = 0; i < 2; i++) {
			expect_code(decode(&out.v[i]), RAAS__ERROR_CODE__ERROR_UNAVAILABLE, "retry");
		}
		struct ledger_bid lb;
		ASSERT_EQ(ledger_bid_standing(ledger, tenant_row("alice").id, "first", &lb), -ENOENT);
		check();
	}

	/* Now it goes through; bob bids on any host. */
	expect_ok(bid("tenant:alice", "a", "h1", 40, 30000000));
	expect_ok(bid("tenant:bob", "b", "", 80, 20000000));
	check();

	/* A round whose write fails: nothing announced, the round stays open. */
	uint64_t open = market_open_round(mkt);
	clk_manual_advance(&clock_, cfg.round_ns);
	market_outbox_clear(&out);
	ledger_fault_set(ledger, 2);
	ASSERT_TRUE(market_round_close(mkt, &out) < 0);
	ledger_fault_set(ledger, 0);
	ASSERT_EQ(out.n, 0);
	ASSERT_EQ(market_open_round(mkt), open);
	check();
	/* The retry closes it: 100 units, alice 40 at her limit is first, bob gets 60. */
	ASSERT_GT(close_round(), 0);
	ASSERT_EQ(market_open_round(mkt), open + 1);
	ASSERT_EQ(published("h1", RAAS__RESOURCE__RESOURCE_BANDWIDTH), 20000000);

	struct ledger_tenant bob = tenant_row("bob");
	money_t charge;
	/* uniform: bob pays the price (his own limit, the best losing unit) for 60 units. */
	ASSERT_OK(money_charge(20000000 * INT64_C(60), 1, cfg.round_ns, &charge));
	ASSERT_EQ(bob.charged, charge);
}

static void test_release_and_budget(void)
{
	Raas__Envelope e;
	Raas__Release rel = RAAS__RELEASE__INIT;

	/* A partial release shrinks bob's any-host bid (it holds on h1). */
	wire_envelope_init(&e, 0);
	rel.resource = RAAS__RESOURCE__RESOURCE_BANDWIDTH;
	rel.host = "h1";
	rel.quantity = 30;
	e.body_case = RAAS__ENVELOPE__BODY_RELEASE;
	e.release = &rel;
	expect_ok(request("tenant:bob", &e));
	struct ledger_bid b;
	ASSERT_OK(ledger_bid_standing(ledger, tenant_row("bob").id, "b", &b));
	ASSERT_EQ(b.max_quantity, 50);
	check();

	/* carol has a budget of $0.005: a bid that could cost more in one round is refused. */
	Raas__Envelope *r = bid("tenant:carol", "c", "h1", 100, 1000000000);
	expect_code(r, RAAS__ERROR_CODE__ERROR_BUDGET, "carol has $0.005 left");
	/* One that fits is taken (it could cost $0.00167 a round, and costs $0.00111 at the
	 * clearing price of $0.02): four rounds later her budget no longer covers a round and
	 * she sits out. */
	expect_ok(bid("tenant:carol", "c", "h1", 20, 30000000));
	int64_t charged_rounds = 0;
	for (int i = 0; i < 12; i++) {
		money_t before = tenant_row("carol").charged;
		close_round();
		if (tenant_row("carol").charged > before)
			charged_rounds++;
	}
	struct ledger_tenant carol = tenant_row("carol");
	ASSERT_LE(carol.charged, carol.budget);
	ASSERT_EQ(charged_rounds, 4);
	printf("carol: charged %lld of her %lld budget in %lld rounds, then sat out\n",
	       (long long)carol.charged, (long long)carol.budget, (long long)charged_rounds);
}

static int add_egress(void *arg, const struct ledger_charge_line *c)
{
	if (c->kind == LEDGER_CHARGE_EGRESS)
		*(money_t *)arg += c->amount;
	return 0;
}

static money_t egress_billed(const char *tenant)
{
	money_t sum = 0;
	ASSERT_OK(ledger_invoice_each(ledger, tenant, 0, 0, add_egress, &sum));
	return sum;
}

static void test_hosts_and_egress(void)
{
	Raas__Envelope e;
	Raas__HostRegister reg = RAAS__HOST_REGISTER__INIT;
	Raas__Capacity cap = RAAS__CAPACITY__INIT, *caps[1] = {&cap};

	wire_envelope_init(&e, 0);
	cap.resource = RAAS__RESOURCE__RESOURCE_LLC;
	cap.quantity = 11;
	cap.available = true;
	reg.capacity = caps;
	reg.n_capacity = 1;
	e.body_case = RAAS__ENVELOPE__BODY_HOST_REGISTER;
	e.host_register = &reg;
	Raas__Envelope *r = request("host:h1", &e);
	ASSERT_EQ(r->reply->result_case, RAAS__REPLY__RESULT_HELLO);
	ASSERT_STR_EQ(r->reply->hello->host, "h1");
	wire_free(r);
	/* The host got its allocation set right away (to reconcile). */
	bool got_set = false;
	for (size_t i = 1; i < out.n; i++)
		if (out.v[i].dest == MARKET_TO_HOST) {
			Raas__Envelope *s = decode(&out.v[i]);
			got_set = s->body_case == RAAS__ENVELOPE__BODY_ALLOCATION_SET &&
				  strcmp(s->allocation_set->host, "h1") == 0;
			wire_free(s);
		}
	ASSERT_TRUE(got_set);
	/* The llc pool exists and is priced at the next round; so is egress. */
	close_round();
	ASSERT_EQ(published("h1", RAAS__RESOURCE__RESOURCE_LLC), 0);
	ASSERT_EQ(published("h1", RAAS__RESOURCE__RESOURCE_EGRESS), 100000000);

	/* Meters: 2.5 GB in total for alice at $0.10 per Gbit = 20 Gbit = $2. */
	Raas__MeterReport rep = RAAS__METER_REPORT__INIT;
	Raas__Meter m = RAAS__METER__INIT, unknown = RAAS__METER__INIT;
	Raas__Meter *ms[2] = {&m, &unknown};
	m.tenant = "alice";
	m.tx_bytes = 1000000000;
	unknown.tenant = "mallory";
	unknown.tx_bytes = 5;
	rep.meters = ms;
	rep.n_meters = 2;
	wire_envelope_init(&e, 0);
	e.body_case = RAAS__ENVELOPE__BODY_METERS;
	e.meters = &rep;
	expect_code(request("host:h1", &e), RAAS__ERROR_CODE__ERROR_NOT_FOUND, "mallory");
	close_round();
	/* 1 GB = 8 Gbit at $0.10 = $0.80. */
	ASSERT_EQ(egress_billed("alice"), 800000000);
	m.tx_bytes = 2500000000;
	rep.n_meters = 1;
	wire_envelope_init(&e, 0);
	e.body_case = RAAS__ENVELOPE__BODY_METERS;
	e.meters = &rep;
	expect_ok(request("host:h1", &e));
	close_round();
	/* 1.5 GB more = 12 Gbit = $1.20. */
	ASSERT_EQ(egress_billed("alice"), 2000000000);
	/* The same cumulative reading again bills nothing more. */
	wire_envelope_init(&e, 0);
	e.body_case = RAAS__ENVELOPE__BODY_METERS;
	e.meters = &rep;
	expect_ok(request("host:h1", &e));
	close_round();
	ASSERT_EQ(egress_billed("alice"), 2000000000);
	/* A reading below the last: the agent restarted its counter; bill what it counts. */
	m.tx_bytes = 125000000;
	wire_envelope_init(&e, 0);
	e.body_case = RAAS__ENVELOPE__BODY_METERS;
	e.meters = &rep;
	expect_ok(request("host:h1", &e));
	close_round();
	ASSERT_EQ(egress_billed("alice"), 2100000000);
}

static void test_restart(void)
{
	uint64_t open = market_open_round(mkt);
	market_destroy(mkt);
	start();
	ASSERT_EQ(market_open_round(mkt), open);
	close_round();
	/* Bids and holdings survived: alice still holds 40 on h1. */
	Raas__Envelope e;
	Raas__Query q = RAAS__QUERY__INIT;
	wire_envelope_init(&e, 0);
	q.what = RAAS__QUERY__WHAT__WHAT_HOLDINGS;
	e.body_case = RAAS__ENVELOPE__BODY_QUERY;
	e.query = &q;
	Raas__Envelope *r = request("tenant:alice", &e);
	ASSERT_EQ(r->reply->query->n_holdings, 1);
	ASSERT_EQ(r->reply->query->holdings[0]->quantity, 40);
	wire_free(r);
}

int main(void)
{
	char why[512];

	log_init("test_market_core", LOG_ERROR, false);
	snprintf(path, sizeof(path), "/tmp/market-core-%ld.sqlite", (long)getpid());
	ASSERT_OK(ledger_open(path, NULL, &ledger, why, sizeof(why)));
	ASSERT_OK(ledger_tenant_add(ledger, "alice", "Yne@$w-vo<fVvi]a<NY6T1ed:M$fCG*[IaLV{hID", -1,
				    0, NULL, why, sizeof(why)));
	ASSERT_OK(ledger_tenant_add(ledger, "bob", "rq:rM>}U?@Lns47E1%kR.o@n%FcmmsL/@{H8]yf7", -1,
				    0, NULL, why, sizeof(why)));
	ASSERT_OK(ledger_tenant_add(ledger, "carol", "D:)Q[IlAW!ahhC2ac:9*A}h:p?([4%wOTJ%JR%cs",
				    5000000, 0, NULL, why, sizeof(why)));
	ASSERT_OK(ledger_host_add(ledger, "h1", "JTKVSB%%)wK0E.X)V>+}o?pNmC{O&4W4b!Ni{Lh6", 0, NULL,
				  why, sizeof(why)));
	mcfg_defaults(&cfg);
	cfg.round_ns = 10 * NS_PER_S;
	cfg.npools = 1;
	snprintf(cfg.pools[0].name, sizeof(cfg.pools[0].name), "bw");
	snprintf(cfg.pools[0].host, sizeof(cfg.pools[0].host), "h1");
	cfg.pools[0].resource = RAAS__RESOURCE__RESOURCE_BANDWIDTH;
	cfg.pools[0].supply = 100;
	struct mcfg_model *eg = &cfg.resources[RAAS__RESOURCE__RESOURCE_EGRESS];
	eg->set = true;
	snprintf(eg->model, sizeof(eg->model), "fixed");
	snprintf(eg->params, sizeof(eg->params), "price=$0.10");
	clk_manual_init(&clock_, 0, INT64_C(1700000000) * NS_PER_S);
	market_outbox_init(&out);
	start();

	test_batches_and_rounds();
	test_release_and_budget();
	test_hosts_and_egress();
	test_restart();

	market_outbox_fini(&out);
	market_destroy(mkt);
	ledger_close(ledger);
	unlink(path);
	char side[300];
	snprintf(side, sizeof(side), "%s-wal", path);
	unlink(side);
	snprintf(side, sizeof(side), "%s-shm", path);
	unlink(side);
	printf("test_market_core: ok\n");
	return 0;
}
