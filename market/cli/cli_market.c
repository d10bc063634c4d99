/* cli_market.c: the tenant's commands, spoken to raas-marketd over ZeroMQ with CURVE.
 *
 * Each command is one request with a request id (random, or --request-id to make a script's
 * retry of the same command exactly idempotent), resent until answered or --timeout: the
 * market answers a resent request from its ledger and never applies it twice. Exit codes say
 * who refused what: 65 the market refused the data, 69 no answer, 77 the key or the request
 * was refused, 78 a key file is malformed. */
#include <errno.h>
#include <inttypes.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <zmq.h>

#include "cli.h"
#include "common/clock.h"
#include "common/error.h"
#include "common/transport.h"
#include "common/wire.h"

struct conn {
	void *ctx;
	void *sock;
	void *mon;          /* its handshake monitor, started before it connected */
	struct tp_keypair key;
	char server[TP_KEY_Z85_LEN + 1];
};

static int load_keys(struct cli *c, struct conn *k)
{
	char why[1200];
	int err = tp_key_load_pair(c->key, &k->key, why, sizeof(why));

	if (!err)
		err = tp_key_load_public(c->server_key, k->server, why, sizeof(why));
	if (err == -RAAS_EPARSE)
		return cli_fail(CLI_EX_CONFIG, "%s", why);
	if (err)
		return cli_fail(CLI_EX_NOINPUT, "%s (--key and --server-key, or RAAS_KEY and "
				"RAAS_SERVER_KEY)", why);
	return 0;
}

static int connect_market(struct cli *c, struct conn *k, int type, const char *endpoint)
{
	int rc = load_keys(c, k), err;

	if (rc)
		return rc;
	k->ctx = tp_context_create(0, 1);
	if (!k->ctx)
		return cli_fail(CLI_EX_SOFTWARE, "cannot create a ZeroMQ context");
	err = tp_connect_monitored(k->ctx, type, endpoint, &k->key, k->server, &k->sock, &k->mon);
	if (err) {
		tp_context_destroy(k->ctx);
		return cli_fail(CLI_EX_USAGE, "cannot connect to %s: %s", endpoint,
				raas_strerror(err));
	}
	return 0;
}

static void disconnect(struct conn *k)
{
	tp_monitor_stop(k->sock, k->mon);
	tp_close(k->sock);
	tp_context_destroy(k->ctx);
}

static int exit_for(Raas__ErrorCode code)
{
	switch (code) {
	case RAAS__ERROR_CODE__ERROR_DENIED:
		return CLI_EX_NOPERM;
	case RAAS__ERROR_CODE__ERROR_UNAVAILABLE:
		return CLI_EX_UNAVAILABLE;
	case RAAS__ERROR_CODE__ERROR_INTERNAL:
		return CLI_EX_SOFTWARE;
	default:
		return CLI_EX_DATA;
	}
}

/* Sends e and waits for its reply; prints the error and returns an exit code on failure. */
static int call(struct cli *c, Raas__Envelope *e, Raas__Envelope **reply)
{
	struct conn k;
	int rc = connect_market(c, &k, ZMQ_DEALER, c->market), err;

	if (rc)
		return rc;
	if (!c->request_id)
		while (getrandom(&c->request_id, sizeof(c->request_id), 0) !=
			       (ssize_t)sizeof(c->request_id) ||
		       !c->request_id)
			;
	e->request_id = c->request_id;
	struct tp_call_timing timing;
	int64_t t0 = clk_mono(&clk_real);
	/* Sent the moment the CURVE handshake completes; re-sent each second after that. */
	err = tp_call_on(k.sock, k.mon, e, NS_PER_S, c->timeout_ms * NS_PER_MS, WIRE_MAX_BYTES,
			 NULL, NULL, reply, &timing);
	disconnect(&k);
	if (getenv("RAAS_CLI_TIMING"))
		fprintf(stderr,
			"raas: timing: start %.2f ms, connect+handshake %.2f ms, request-reply "
			"%.2f ms, tries %d\n",
			(double)(t0 - c->start_ns) / 1e6, (double)timing.handshake_ns / 1e6,
			(double)timing.reply_ns / 1e6, timing.tries);
	if (err == -EACCES)
		return cli_fail(CLI_EX_NOPERM,
				"the market at %s refused key %s (is it registered? raas tenant add)",
				c->market, c->key);
	if (err == -EKEYREJECTED)
		return cli_fail(CLI_EX_NOPERM,
				"the market's key does not match RAAS_SERVER_KEY (%s): %s accepted "
				"the connection but not the CURVE handshake",
				c->server_key, c->market);
	if (err == -ETIMEDOUT)
		return cli_fail(CLI_EX_UNAVAILABLE,
				"no answer from the market at %s within %lld ms (%s)", c->market,
				(long long)c->timeout_ms,
				timing.handshake_ns >= 0 ? "connected, but the market did not reply"
							 : "no connection: is raas-marketd running "
							   "there?");
	if (err)
		return cli_fail(CLI_EX_UNAVAILABLE, "%s: %s", c->market, raas_strerror(err));
	const Raas__Error *re = (*reply)->reply->error;
	if (re && re->code != RAAS__ERROR_CODE__ERROR_NONE) {
		const ProtobufCEnumValue *v =
			protobuf_c_enum_descriptor_get_value(&raas__error_code__descriptor, re->code);
		rc = cli_fail(exit_for(re->code), "market: %s: %s", v ? v->name : "ERROR",
			      re->message ? re->message : "");
		wire_free(*reply);
		*reply = NULL;
		return rc;
	}
	return 0;
}

static int parse_resource(const char *cmd, const char *text, Raas__Resource *out)
{
	if (!text)
		return cli_fail(CLI_EX_USAGE, "%s: --resource is required (cores, memory, "
				"bandwidth, llc)", cmd);
	if (wire_resource_parse(text, out) != 0 || *out == RAAS__RESOURCE__RESOURCE_EGRESS)
		return cli_fail(CLI_EX_USAGE, "%s: --resource \"%s\" is not cores, memory, "
				"bandwidth or llc", cmd, text);
	return 0;
}

/* "10@$0.09,20@$0.05": quantity@price per unit-hour, prices decreasing. */
static int parse_curve(const char *text, Raas__ValueSegment *segs, Raas__ValueSegment **ptrs,
		       size_t max, size_t *n)
{
	char buf[2048];
	char *save, *tok;

	snprintf(buf, sizeof(buf), "%s", text);
	*n = 0;
	for (tok = strtok_r(buf, ",", &save); tok; tok = strtok_r(NULL, ",", &save)) {
		char *at = strchr(tok, '@'), *end;
		const char *why = NULL;
		if (*n == max)
			return cli_fail(CLI_EX_USAGE, "--curve: more than %zu segments", max);
		if (!at)
			return cli_fail(CLI_EX_USAGE, "--curve: \"%s\" is not QUANTITY@PRICE", tok);
		*at = '\0';
		raas__value_segment__init(&segs[*n]);
		segs[*n].quantity = strtoll(tok, &end, 10);
		if (end == tok || *end || segs[*n].quantity <= 0)
			return cli_fail(CLI_EX_USAGE, "--curve: \"%s\" is not a positive quantity",
					tok);
		if (money_parse(at + 1, &segs[*n].unit_value, &why) != 0)
			return cli_fail(CLI_EX_USAGE, "--curve: \"%s\": %s", at + 1,
					why ? why : "not a price");
		ptrs[*n] = &segs[*n];
		(*n)++;
	}
	return 0;
}

/* "10-20,50-60". */
static int parse_ranges(const char *text, Raas__QuantityRange *r, Raas__QuantityRange **ptrs,
			size_t max, size_t *n)
{
	char buf[2048];
	char *save, *tok;

	snprintf(buf, sizeof(buf), "%s", text);
	*n = 0;
	for (tok = strtok_r(buf, ",", &save); tok; tok = strtok_r(NULL, ",", &save)) {
		long long lo, hi;
		char tail;
		if (*n == max)
			return cli_fail(CLI_EX_USAGE, "--ranges: more than %zu ranges", max);
		if (sscanf(tok, "%lld-%lld%c", &lo, &hi, &tail) != 2)
			return cli_fail(CLI_EX_USAGE, "--ranges: \"%s\" is not MIN-MAX", tok);
		raas__quantity_range__init(&r[*n]);
		r[*n].min = lo;
		r[*n].max = hi;
		ptrs[*n] = &r[*n];
		(*n)++;
	}
	return 0;
}

static int print_ack(struct cli *c, const Raas__Envelope *reply, const char *what)
{
	static const char *const names[] = {"request", "bid_id", "effective_round"};
	static const enum cli_col types[] = {COL_STR, COL_STR, COL_INT};
	struct cli_table *t = CLI_TABLE_NEW(names, types);
	const Raas__BidAck *ack = reply->reply->bid;

	cli_table_row(t, what, ack && ack->bid_id ? ack->bid_id : "",
		      (int64_t)(ack ? ack->effective_round : 0));
	cli_table_print(t, c->format);
	return 0;
}

int cli_bid(struct cli *c)
{
	Raas__Envelope e, *reply;
	Raas__Bid bid = RAAS__BID__INIT;
	Raas__Resource r;
	Raas__ValueSegment segs[32], *segp[32];
	Raas__QuantityRange ranges[16], *rangep[16];
	size_t nseg = 0, nrange = 0;
	char id[128];
	int rc;

	if (c->npos)
		return cli_fail(CLI_EX_USAGE, "bid takes options only (see raas bid --help)");
	if ((rc = parse_resource("bid", c->resource, &r)) != 0)
		return rc;
	if (!c->has_max)
		return cli_fail(CLI_EX_USAGE, "bid: --max QUANTITY is required");
	if (!c->has_price && !c->curve)
		return cli_fail(CLI_EX_USAGE, "bid: --price (per unit-hour) or --curve is required");
	if (c->curve && (rc = parse_curve(c->curve, segs, segp, 32, &nseg)) != 0)
		return rc;
	if (c->ranges && (rc = parse_ranges(c->ranges, ranges, rangep, 16, &nrange)) != 0)
		return rc;
	snprintf(id, sizeof(id), "%s", c->id ? c->id : "");
	if (!c->id)
		snprintf(id, sizeof(id), "cli/%s/%s", c->resource, c->host ? c->host : "any");
	bid.bid_id = id;
	bid.resource = r;
	bid.host = (char *)(c->host ? c->host : "");
	bid.min_quantity = c->has_min ? c->min : 0;
	bid.max_quantity = c->max;
	/* With a curve only, the flat limit is its first (highest) marginal value. */
	bid.unit_price = c->has_price ? c->price : segs[0].unit_value;
	bid.curve = segp;
	bid.n_curve = nseg;
	bid.ranges = rangep;
	bid.n_ranges = nrange;
	wire_envelope_init(&e, 0);
	e.body_case = RAAS__ENVELOPE__BODY_BID;
	e.bid = &bid;
	if ((rc = call(c, &e, &reply)) != 0)
		return rc;
	rc = print_ack(c, reply, "bid");
	wire_free(reply);
	return rc;
}

int cli_acquire(struct cli *c)
{
	Raas__Envelope e, *reply;
	Raas__Acquire a = RAAS__ACQUIRE__INIT;
	Raas__Resource r;
	int rc;

	if (c->npos)
		return cli_fail(CLI_EX_USAGE, "acquire takes options only (see raas acquire --help)");
	if ((rc = parse_resource("acquire", c->resource, &r)) != 0)
		return rc;
	if (!c->has_quantity || c->quantity <= 0)
		return cli_fail(CLI_EX_USAGE, "acquire: --quantity (positive) is required");
	a.resource = r;
	a.host = (char *)(c->host ? c->host : "");
	a.quantity = c->quantity;
	a.max_unit_price = c->has_price ? c->price : 0;
	wire_envelope_init(&e, 0);
	e.body_case = RAAS__ENVELOPE__BODY_ACQUIRE;
	e.acquire = &a;
	if ((rc = call(c, &e, &reply)) != 0)
		return rc;
	static const char *const names[] = {"resource",   "host",
					    "quantity",   "unit_price",
					    "payment_per_hour"};
	static const enum cli_col types[] = {COL_STR, COL_STR, COL_INT, COL_MONEY, COL_MONEY};
	struct cli_table *t = CLI_TABLE_NEW(names, types);
	const Raas__Allocation *got = reply->reply->acquired;
	if (got)
		cli_table_row(t, wire_resource_name(got->resource), got->host, got->quantity,
			      got->unit_price, got->payment_per_hour);
	cli_table_print(t, c->format);
	wire_free(reply);
	return 0;
}

int cli_release(struct cli *c)
{
	Raas__Envelope e, *reply;
	Raas__Release rel = RAAS__RELEASE__INIT;
	Raas__Resource r;
	int rc;

	if (c->npos)
		return cli_fail(CLI_EX_USAGE, "release takes options only (see raas release --help)");
	if ((rc = parse_resource("release", c->resource, &r)) != 0)
		return rc;
	if (c->has_quantity && c->quantity < 0)
		return cli_fail(CLI_EX_USAGE, "release: --quantity must not be negative");
	rel.resource = r;
	rel.host = (char *)(c->host ? c->host : "");
	rel.quantity = c->has_quantity ? c->quantity : 0;
	wire_envelope_init(&e, 0);
	e.body_case = RAAS__ENVELOPE__BODY_RELEASE;
	e.release = &rel;
	if ((rc = call(c, &e, &reply)) != 0)
		return rc;
	rc = print_ack(c, reply, "release");
	wire_free(reply);
	return rc;
}

int cli_cancel(struct cli *c)
{
	Raas__Envelope e, *reply;
	Raas__Cancel can = RAAS__CANCEL__INIT;
	int rc;

	if (c->npos != 1)
		return cli_fail(CLI_EX_USAGE, "cancel: give one BID_ID (raas cancel BID_ID)");
	can.bid_id = (char *)c->pos[0];
	wire_envelope_init(&e, 0);
	e.body_case = RAAS__ENVELOPE__BODY_CANCEL;
	e.cancel = &can;
	if ((rc = call(c, &e, &reply)) != 0)
		return rc;
	rc = print_ack(c, reply, "cancel");
	wire_free(reply);
	return rc;
}

/* A query of one kind, filtered by --resource and --host. */
static int query(struct cli *c, Raas__Query__What what, Raas__Envelope **reply)
{
	Raas__Envelope e;
	Raas__Query q = RAAS__QUERY__INIT;
	Raas__Resource r = RAAS__RESOURCE__RESOURCE_UNSPECIFIED;
	int rc;

	if (c->npos)
		return cli_fail(CLI_EX_USAGE, "this command takes options only");
	if (c->resource && (rc = parse_resource("query", c->resource, &r)) != 0)
		return rc;
	q.what = what;
	q.resource = r;
	q.host = (char *)(c->host ? c->host : "");
	q.limit = c->limit > 0 ? (uint32_t)(c->limit > 1000 ? 1000 : c->limit) : 0;
	wire_envelope_init(&e, 0);
	e.body_case = RAAS__ENVELOPE__BODY_QUERY;
	e.query = &q;
	return call(c, &e, reply);
}

static void curve_text(const Raas__Bid *b, char *buf, size_t len)
{
	size_t used = 0;

	buf[0] = '\0';
	for (size_t i = 0; i < b->n_curve && used < len; i++) {
		char m[MONEY_TEXT_MAX];
		int n = snprintf(buf + used, len - used, "%s%lld@%s", i ? "," : "",
				 (long long)b->curve[i]->quantity,
				 money_format(b->curve[i]->unit_value, m));
		used += n > 0 ? (size_t)n : 0;
	}
}

static void ranges_text(const Raas__Bid *b, char *buf, size_t len)
{
	size_t used = 0;

	buf[0] = '\0';
	for (size_t i = 0; i < b->n_ranges && used < len; i++) {
		int n = snprintf(buf + used, len - used, "%s%lld-%lld", i ? "," : "",
				 (long long)b->ranges[i]->min, (long long)b->ranges[i]->max);
		used += n > 0 ? (size_t)n : 0;
	}
}

int cli_bids(struct cli *c)
{
	static const char *const names[] = {"bid_id", "resource",   "host",  "min",   "max",
					    "unit_price", "curve", "ranges", "refused"};
	static const enum cli_col types[] = {COL_STR,   COL_STR, COL_STR, COL_INT, COL_INT,
					     COL_MONEY, COL_STR, COL_STR, COL_STR};
	Raas__Envelope *reply;
	int rc = query(c, RAAS__QUERY__WHAT__WHAT_BIDS, &reply);

	if (rc)
		return rc;
	struct cli_table *t = CLI_TABLE_NEW(names, types);
	const Raas__QueryResult *q = reply->reply->query;
	for (size_t i = 0; q && i < q->n_bids; i++) {
		const Raas__Bid *b = q->bids[i];
		char curve[1024], ranges[512];
		curve_text(b, curve, sizeof(curve));
		ranges_text(b, ranges, sizeof(ranges));
		cli_table_row(t, b->bid_id, wire_resource_name(b->resource),
			      b->host[0] ? b->host : "any", b->min_quantity, b->max_quantity,
			      b->unit_price, curve, ranges, b->refused ? b->refused : "");
	}
	cli_table_print(t, c->format);
	wire_free(reply);
	return 0;
}

static const char *const price_names[] = {"round",  "resource",  "host",     "unit_price",
					  "supply", "allocated", "next_round"};
static const enum cli_col price_types[] = {COL_INT, COL_STR, COL_STR, COL_MONEY,
					   COL_INT, COL_INT, COL_TIME};

static void price_row(struct cli_table *t, const Raas__PriceUpdate *u)
{
	cli_table_row(t, (int64_t)u->round, wire_resource_name(u->resource), u->host,
		      u->unit_price, u->supply, u->allocated, u->next_round_wall_ns);
}

static volatile sig_atomic_t watch_stop;

static void on_sigint(int sig)
{
	(void)sig;
	watch_stop = 1;
}

static int watch_prices(struct cli *c)
{
	struct conn k;
	char topic[256];
	int rc = connect_market(c, &k, ZMQ_SUB, c->prices);
	int64_t seen = 0;

	if (rc)
		return rc;
	if (c->resource) {
		Raas__Resource r;
		if ((rc = parse_resource("prices", c->resource, &r)) != 0) {
			disconnect(&k);
			return rc;
		}
		snprintf(topic, sizeof(topic), "price/%s/%s", c->resource, c->host ? c->host : "");
	} else {
		snprintf(topic, sizeof(topic), "price/");
	}
	tp_subscribe(k.sock, topic);
	void *mon = k.mon;
	signal(SIGINT, on_sigint);
	signal(SIGTERM, on_sigint);
	struct cli_table *t = CLI_TABLE_NEW(price_names, price_types);
	int64_t waited = 0;
	bool connected = false;
	struct tp_link link;
	memset(&link, 0, sizeof(link));
	while (!watch_stop && (c->count <= 0 || seen < c->count)) {
		zmq_pollitem_t item = {.socket = k.sock, .events = ZMQ_POLLIN};
		int n = zmq_poll(&item, 1, 100);
		if (mon) {
			tp_monitor_update(mon, &link);
			connected = connected || link.handshakes > 0;
		}
		if (link.refused) {
			rc = cli_fail(CLI_EX_NOPERM, "the market at %s refused key %s", c->prices,
				      c->key);
			break;
		}
		if (link.broken >= 3 && !link.handshakes) {
			rc = cli_fail(CLI_EX_NOPERM,
				      "the market's key does not match RAAS_SERVER_KEY (%s): %s "
				      "accepted the connection but not the CURVE handshake",
				      c->server_key, c->prices);
			break;
		}
		if (n <= 0) {
			waited += 100;
			/* Until the first update, give up after --timeout; then wait forever. */
			if (!seen && waited >= c->timeout_ms && !connected) {
				rc = cli_fail(CLI_EX_UNAVAILABLE,
					      "no connection to the price feed at %s within %lld ms",
					      c->prices, (long long)c->timeout_ms);
				break;
			}
			continue;
		}
		struct tp_msg msg;
		char why[256];
		if (tp_recv(k.sock, ZMQ_DONTWAIT, WIRE_MAX_BYTES, &msg, why, sizeof(why)) != 0)
			continue;
		if (msg.env->body_case == RAAS__ENVELOPE__BODY_PRICE) {
			/* A topic is a prefix: "price/cores/h1" also matches host h10. */
			if (!c->host || strcmp(msg.env->price->host, c->host) == 0) {
				price_row(t, msg.env->price);
				cli_table_print_last(t, c->format, seen == 0);
				seen++;
			}
		}
		tp_msg_clear(&msg);
	}
	cli_table_destroy(t);
	disconnect(&k);
	return rc;
}

int cli_prices(struct cli *c)
{
	Raas__Envelope *reply;
	int rc;

	if (c->watch)
		return watch_prices(c);
	if ((rc = query(c, RAAS__QUERY__WHAT__WHAT_PRICES, &reply)) != 0)
		return rc;
	struct cli_table *t = CLI_TABLE_NEW(price_names, price_types);
	const Raas__QueryResult *q = reply->reply->query;
	for (size_t i = 0; q && i < q->n_prices; i++)
		price_row(t, q->prices[i]);
	cli_table_print(t, c->format);
	wire_free(reply);
	return 0;
}

int cli_allocations(struct cli *c)
{
	static const char *const names[] = {"tenant",   "resource",   "host",
					    "quantity", "unit_price", "payment_per_hour"};
	static const enum cli_col types[] = {COL_STR, COL_STR,   COL_STR,
					     COL_INT, COL_MONEY, COL_MONEY};
	Raas__Envelope *reply;
	int rc;

	if (c->use_ledger)
		return cli_ledger_allocations(c);
	if ((rc = query(c, RAAS__QUERY__WHAT__WHAT_HOLDINGS, &reply)) != 0)
		return rc;
	struct cli_table *t = CLI_TABLE_NEW(names, types);
	const Raas__QueryResult *q = reply->reply->query;
	for (size_t i = 0; q && i < q->n_holdings; i++) {
		const Raas__Allocation *a = q->holdings[i];
		cli_table_row(t, a->tenant, wire_resource_name(a->resource), a->host, a->quantity,
			      a->unit_price, a->payment_per_hour);
	}
	cli_table_print(t, c->format);
	wire_free(reply);
	return 0;
}

int cli_rounds(struct cli *c)
{
	static const char *const names[] = {"round", "start", "end", "revenue"};
	static const enum cli_col types[] = {COL_INT, COL_TIME, COL_TIME, COL_MONEY};
	Raas__Envelope *reply;
	int rc;

	if (c->use_ledger)
		return cli_ledger_rounds(c);
	if ((rc = query(c, RAAS__QUERY__WHAT__WHAT_ROUNDS, &reply)) != 0)
		return rc;
	struct cli_table *t = CLI_TABLE_NEW(names, types);
	const Raas__QueryResult *q = reply->reply->query;
	for (size_t i = 0; q && i < q->n_rounds; i++) {
		const Raas__RoundSummary *r = q->rounds[i];
		cli_table_row(t, (int64_t)r->round, r->start_wall_ns, r->end_wall_ns, r->revenue);
	}
	cli_table_print(t, c->format);
	wire_free(reply);
	return 0;
}
