/* fuzz_market.c: libFuzzer target for the market's request handling.
 *
 * The first input byte picks who speaks and what happens after: bit 0 the host API (as host
 * h1) instead of the tenant API, bit 1 tenant bob instead of alice, bit 7 a round close after
 * the request. The rest is the message, decoded with wire_decode as the daemon does; what
 * does not decode gets the daemon's error answer. With bit 6 the rest is a recipe instead
 * (common/fuzz/wire_build.h): a well-formed message built from it is encoded and decoded on
 * the same path, so that the fuzzer, blind inside protobuf-c, reaches the field checks. After every input the core's and the
 * ledger's invariants must hold (market_check after each, ledger_check every 50), whatever
 * the message said.
 * State (an in-memory ledger with two tenants, a host, two declared pools and egress billing)
 * lives across inputs, so sequences of requests are explored too; it is rebuilt every 2,000
 * inputs to keep memory bounded.
 *
 * Speed: the core has no sockets and the ledger lives in memory (nothing is synced), so what
 * an input costs is mostly the checks, which scan and re-prepare whole tables (~90% of the
 * time when market_check ran after every input and ledger_check every 50: ~900 execs/s under
 * ASan). A broken invariant stays broken in the state that carries over, so checking every
 * FUZZ_MARKET_CHECK_EVERY inputs (default 25; ledger_check ten times rarer, and before every
 * rebuild) still catches it, a few inputs late; the first 32 inputs of a process are all
 * checked (the corpus replay tests). To find the input that broke one, replay the crash's
 * sequence with FUZZ_MARKET_CHECK_EVERY=1. */
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <sqlite3.h>
#include <stdlib.h>

#include "common/log.h"
#include "market/market.h"
#include "wire_build.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static struct market_config cfg;
static struct clk clock_;
static struct ledger *ledger;
static struct market *mkt;
static unsigned runs, check_every;

static void teardown(void)
{
	market_destroy(mkt);
	ledger_close(ledger);
	mkt = NULL;
	ledger = NULL;
}

/* SQLite for one thread and many small allocations: no mutexes, no memory statistics, and
 * a larger lookaside so that most of its allocations skip malloc (under ASan, malloc and
 * its quarantine were a third of each input). Only before SQLite initializes. */
static void sqlite_setup(void)
{
	static bool done;
	if (done)
		return;
	done = true;
	sqlite3_config(SQLITE_CONFIG_SINGLETHREAD);
	sqlite3_config(SQLITE_CONFIG_MEMSTATUS, 0);
	sqlite3_config(SQLITE_CONFIG_LOOKASIDE, 512, 2000);
}

static void setup(void)
{
	char why[512];

	sqlite_setup();

	log_init("fuzz_market", LOG_ERROR + 0, false);
	log_set_sink(fopen("/dev/null", "w"));
	mcfg_defaults(&cfg);
	cfg.round_ns = 1000000000;
	cfg.npools = 2;
	snprintf(cfg.pools[0].host, sizeof(cfg.pools[0].host), "h1");
	cfg.pools[0].resource = RAAS__RESOURCE__RESOURCE_BANDWIDTH;
	cfg.pools[0].supply = 100;
	snprintf(cfg.pools[1].host, sizeof(cfg.pools[1].host), "h1");
	cfg.pools[1].resource = RAAS__RESOURCE__RESOURCE_CORES;
	cfg.pools[1].supply = 8;
	cfg.pools[1].model.set = true;
	snprintf(cfg.pools[1].model.model, sizeof(cfg.pools[1].model.model), "fixed");
	snprintf(cfg.pools[1].model.params, sizeof(cfg.pools[1].model.params), "price=$0.02");
	struct mcfg_model *eg = &cfg.resources[RAAS__RESOURCE__RESOURCE_EGRESS];
	eg->set = true;
	snprintf(eg->model, sizeof(eg->model), "fixed");
	snprintf(eg->params, sizeof(eg->params), "price=$0.10");
	clk_manual_init(&clock_, 0, 1700000000000000000);
	if (ledger_open(":memory:", NULL, &ledger, why, sizeof(why)) ||
	    ledger_tenant_add(ledger, "alice", "Yne@$w-vo<fVvi]a<NY6T1ed:M$fCG*[IaLV{hID", -1, 0,
			      NULL, why, sizeof(why)) ||
	    ledger_tenant_add(ledger, "bob", "rq:rM>}U?@Lns47E1%kR.o@n%FcmmsL/@{H8]yf7", 50000000,
			      0, NULL, why, sizeof(why)) ||
	    ledger_host_add(ledger, "h1", "D:)Q[IlAW!ahhC2ac:9*A}h:p?([4%wOTJ%JR%cs", 0, NULL, why,
			    sizeof(why)) ||
	    market_create(&cfg, ledger, &clock_, &mkt, why, sizeof(why))) {
		fprintf(stderr, "fuzz_market: setup: %s\n", why);
		abort();
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct market_outbox out;
	struct tp_route route = {.id = {1}, .len = 1};
	Raas__Envelope *env;
	char why[512];

	if (size < 1)
		return 0;
	if (!check_every) {
		const char *ev = getenv("FUZZ_MARKET_CHECK_EVERY");
		check_every = ev && atoi(ev) > 0 ? (unsigned)atoi(ev) : 25;
	}
	if (!mkt || ++runs % 2000 == 0) {
		if (mkt)
			teardown();
		setup();
	}
	uint8_t sel = data[0];
	bool host = sel & 1;
	const char *who = host ? "host:h1" : (sel & 2) ? "tenant:bob" : "tenant:alice";
	enum market_dest dest = host ? MARKET_TO_HOST : MARKET_TO_TENANT;

	market_outbox_init(&out);
	const uint8_t *msg = data + 1;
	size_t len = size - 1;
	uint8_t *built = NULL;
	if (sel & 0x40) {
		Raas__Envelope *b = wire_build_envelope(msg, len);
		if (!b || wire_encode(b, &built, &len) != 0) {
			wire_build_free(b);
			market_outbox_fini(&out);
			return 0;
		}
		wire_build_free(b);
		msg = built;
	}
	int err = wire_decode(msg, len, cfg.max_request_bytes, &env, why, sizeof(why));
	free(built);
	if (err) {
		market_bad_request(mkt, dest, who, &route, err, why, &out);
	} else {
		if (market_batch_begin(mkt) != 0)
			abort();
		if (host)
			market_host_request(mkt, who, &route, env, &out);
		else
			market_tenant_request(mkt, who, &route, env, &out);
		market_batch_end(mkt, &out);
		wire_free(env);
	}
	/* Every request gets exactly one answer (and a host's register also its set). */
	if (out.n < 1 || !out.v[0].is_reply)
		if (!(host && err == 0))
			abort();
	if (sel & 0x80) {
		clk_manual_advance(&clock_, cfg.round_ns);
		market_outbox_clear(&out);
		if (market_round_close(mkt, &out) != 0)
			abort();
	}
	market_outbox_fini(&out);
	/* The checks scan whole tables (see the top): every check_every inputs, the ledger's ten
	 * times rarer, both before a rebuild and on each of the first 32 inputs. */
	bool early = runs <= 32, last = (runs + 1) % 2000 == 0;
	bool mcheck = early || last || runs % check_every == 0;
	bool lcheck = early || last || runs % (10 * check_every) == 0;
	if ((mcheck && market_check(mkt, why, sizeof(why)) != 0) ||
	    (lcheck && ledger_check(ledger, why, sizeof(why)) != 0)) {
		fprintf(stderr, "fuzz_market: invariant broken: %s\n", why);
		abort();
	}
	return 0;
}
