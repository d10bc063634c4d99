/* test_wire.c: envelope round trips and every decode error path with its text. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "common/error.h"
#include "common/resource.h"
#include "common/wire.h"
#include "test.h"

static void test_round_trip(void)
{
	Raas__Envelope e;
	Raas__Bid bid = RAAS__BID__INIT;
	Raas__ValueSegment seg[2] = {RAAS__VALUE_SEGMENT__INIT, RAAS__VALUE_SEGMENT__INIT};
	Raas__ValueSegment *segs[2] = {&seg[0], &seg[1]};
	uint8_t *buf;
	size_t len;

	wire_envelope_init(&e, 77);
	bid.bid_id = "b1";
	bid.resource = RAAS__RESOURCE__RESOURCE_BANDWIDTH;
	bid.host = "h1";
	bid.max_quantity = 200;
	bid.unit_price = 12345;
	seg[0].quantity = 100;
	seg[0].unit_value = 20000;
	seg[1].quantity = 100;
	seg[1].unit_value = 10000;
	bid.n_curve = 2;
	bid.curve = segs;
	e.body_case = RAAS__ENVELOPE__BODY_BID;
	e.bid = &bid;
	ASSERT_OK(wire_encode(&e, &buf, &len));

	Raas__Envelope *d;
	char why[256];
	ASSERT_OK(wire_decode(buf, len, WIRE_MAX_BYTES, &d, why, sizeof(why)));
	ASSERT_EQ(d->request_id, 77);
	ASSERT_EQ(d->body_case, RAAS__ENVELOPE__BODY_BID);
	ASSERT_STR_EQ(d->bid->bid_id, "b1");
	ASSERT_STR_EQ(d->bid->host, "h1");
	ASSERT_EQ(d->bid->max_quantity, 200);
	ASSERT_EQ(d->bid->n_curve, 2);
	ASSERT_EQ(d->bid->curve[1]->unit_value, 10000);
	ASSERT_STR_EQ(wire_body_name(d), "bid");
	wire_free(d);

	/* Truncated by one byte: refused with a reason. */
	ASSERT_EQ(wire_decode(buf, len - 1, WIRE_MAX_BYTES, &d, why, sizeof(why)), -RAAS_EPROTO);
	ASSERT_STR_CONTAINS(why, "do not decode as a raas.Envelope");
	/* Over the bound. */
	ASSERT_EQ(wire_decode(buf, len, 8, &d, why, sizeof(why)), -RAAS_ETOOBIG);
	char want[128];
	snprintf(want, sizeof(want), "message of %zu bytes is over the 8-byte bound", len);
	ASSERT_STR_EQ(why, want);
	free(buf);
}

static void test_errors(void)
{
	Raas__Envelope e, *d;
	Raas__Heartbeat hb = RAAS__HEARTBEAT__INIT;
	uint8_t *buf;
	size_t len;
	char why[256];

	/* Unknown protocol version. */
	wire_envelope_init(&e, 1);
	e.version = 9;
	e.body_case = RAAS__ENVELOPE__BODY_HEARTBEAT;
	e.heartbeat = &hb;
	ASSERT_OK(wire_encode(&e, &buf, &len));
	ASSERT_EQ(wire_decode(buf, len, WIRE_MAX_BYTES, &d, why, sizeof(why)), -RAAS_EVERSION);
	ASSERT_STR_EQ(why, "protocol version 9 is not supported (this peer speaks 1)");
	free(buf);

	/* No body. */
	wire_envelope_init(&e, 1);
	ASSERT_OK(wire_encode(&e, &buf, &len));
	ASSERT_EQ(wire_decode(buf, len, WIRE_MAX_BYTES, &d, why, sizeof(why)), -RAAS_EPROTO);
	ASSERT_STR_EQ(why, "envelope has no body (unknown message type?)");
	free(buf);

	/* Garbage and empty input. */
	static const uint8_t garbage[] = {0xff, 0xff, 0xff, 0xff, 0xff, 0x01, 0x02};
	ASSERT_EQ(wire_decode(garbage, sizeof(garbage), WIRE_MAX_BYTES, &d, why, sizeof(why)),
		  -RAAS_EPROTO);
	ASSERT_EQ(wire_decode(garbage, 0, WIRE_MAX_BYTES, &d, why, sizeof(why)), -RAAS_EPROTO);
	ASSERT_STR_EQ(why, "empty message");
}

/* Every ErrorCode maps to one error and back to itself; the aliases (EPERM for DENIED, ENOSPC
 * for TOO_BIG, ETIMEDOUT for UNAVAILABLE) map to their code; the unknown both ways. */
static void test_error_codes(void)
{
	static const struct {
		int code, err;
	} table[] = {
		{RAAS__ERROR_CODE__ERROR_NONE, 0},
		{RAAS__ERROR_CODE__ERROR_MALFORMED, -EINVAL},
		{RAAS__ERROR_CODE__ERROR_VERSION, -RAAS_EVERSION},
		{RAAS__ERROR_CODE__ERROR_TOO_BIG, -RAAS_ETOOBIG},
		{RAAS__ERROR_CODE__ERROR_DENIED, -RAAS_EDENIED},
		{RAAS__ERROR_CODE__ERROR_NOT_FOUND, -ENOENT},
		{RAAS__ERROR_CODE__ERROR_BUDGET, -RAAS_EBUDGET},
		{RAAS__ERROR_CODE__ERROR_NO_SUPPLY, -RAAS_ENOSUPPLY},
		{RAAS__ERROR_CODE__ERROR_PRICE, -ERANGE},
		{RAAS__ERROR_CODE__ERROR_UNAVAILABLE, -EAGAIN},
	};
	int checked = 0;
	for (size_t i = 0; i < sizeof(table) / sizeof(table[0]); i++) {
		ASSERT_EQ(wire_error_from_code(table[i].code), table[i].err);
		ASSERT_EQ(wire_code_from_error(table[i].err), table[i].code);
		checked++;
	}
	ASSERT_EQ(checked, 10);
	ASSERT_EQ(wire_code_from_error(-RAAS_EPROTO), RAAS__ERROR_CODE__ERROR_MALFORMED);
	ASSERT_EQ(wire_code_from_error(-ENAMETOOLONG), RAAS__ERROR_CODE__ERROR_MALFORMED);
	ASSERT_EQ(wire_code_from_error(-ENOSPC), RAAS__ERROR_CODE__ERROR_TOO_BIG);
	ASSERT_EQ(wire_code_from_error(-EPERM), RAAS__ERROR_CODE__ERROR_DENIED);
	ASSERT_EQ(wire_code_from_error(-ETIMEDOUT), RAAS__ERROR_CODE__ERROR_UNAVAILABLE);
	ASSERT_EQ(wire_code_from_error(-ENOTCONN), RAAS__ERROR_CODE__ERROR_UNAVAILABLE);
	ASSERT_EQ(wire_code_from_error(-EXDEV), RAAS__ERROR_CODE__ERROR_INTERNAL);
	ASSERT_EQ(wire_error_from_code(RAAS__ERROR_CODE__ERROR_INTERNAL), -EIO);
	ASSERT_EQ(wire_error_from_code(9999), -EIO);
}

static void test_names(void)
{
	Raas__Resource r;

	ASSERT_OK(wire_resource_parse("memory", &r));
	ASSERT_EQ(r, RAAS__RESOURCE__RESOURCE_MEMORY);
	ASSERT_STR_EQ(wire_resource_unit(r), "MiB");
	ASSERT_STR_EQ(wire_resource_name(RAAS__RESOURCE__RESOURCE_LLC), "llc");
	ASSERT_EQ(wire_resource_parse("disk", &r), -RAAS_EPARSE);
	/* The one vocabulary (common/resource.h): every name round-trips, values are the
	 * proto's, and the ends are refused. */
	static const char *const names[] = {"cores", "memory", "bandwidth", "llc", "egress"};
	int n = 0;
	for (int i = RAAS_RES_MIN; i <= RAAS_RES_MAX; i++, n++) {
		enum raas_resource x;
		ASSERT_STR_EQ(raas_resource_name(i), names[i - 1]);
		ASSERT_OK(raas_resource_parse(names[i - 1], &x));
		ASSERT_EQ(x, i);
		ASSERT_OK(wire_resource_parse(names[i - 1], &r));
		ASSERT_EQ((int)r, i);
	}
	ASSERT_EQ(n, 5);
	ASSERT_STR_EQ(raas_resource_name(0), "?");
	ASSERT_STR_EQ(raas_resource_name(RAAS_RES_MAX + 1), "?");
	ASSERT_STR_EQ(raas_resource_unit(RAAS_RES_EGRESS), "bytes");
	ASSERT_EQ(raas_resource_parse(NULL, &(enum raas_resource){0}), -RAAS_EPARSE);
}

/* ProfitReport bounds: what nom-priced and the market refuse, and that they say which field. */
static void test_profit(void)
{
	Raas__AppProfit a = RAAS__APP_PROFIT__INIT, b = RAAS__APP_PROFIT__INIT;
	Raas__AppProfit *ap[2] = {&a, &b};
	Raas__ProfitReport r = RAAS__PROFIT_REPORT__INIT;
	char why[256], name[80];

	a.app = "web";
	a.profit_per_hour = 2500000000;
	a.w_ns = 40000;
	b.app = "batch";
	b.profit_per_hour = -500000000;
	b.w_ns = -1;
	r.apps = ap;
	r.n_apps = 2;
	r.profit_per_hour = 2000000000;
	ASSERT_OK(wire_profit_check(&r, WIRE_PROFIT_APPS_MAX, why, sizeof(why)));
	ASSERT_EQ(wire_profit_check(&r, 1, why, sizeof(why)), -RAAS_EPROTO); /* an app: one */
	ASSERT_TRUE(strstr(why, "apps") != NULL);
	r.profit_per_hour = 1;
	ASSERT_EQ(wire_profit_check(&r, WIRE_PROFIT_APPS_MAX, why, sizeof(why)), -RAAS_EPROTO);
	ASSERT_TRUE(strstr(why, "sum") != NULL);
	r.profit_per_hour = 2000000000;
	b.app = "web";
	ASSERT_EQ(wire_profit_check(&r, WIRE_PROFIT_APPS_MAX, why, sizeof(why)), -RAAS_EPROTO);
	ASSERT_TRUE(strstr(why, "twice") != NULL);
	b.app = "batch";
	b.w_ns = -2;
	ASSERT_EQ(wire_profit_check(&r, WIRE_PROFIT_APPS_MAX, why, sizeof(why)), -RAAS_EPROTO);
	ASSERT_TRUE(strstr(why, "apps[1].w_ns") != NULL);
	b.w_ns = -1;
	a.profit_per_hour = WIRE_PROFIT_MAX_ND_PER_HOUR + 1;
	ASSERT_EQ(wire_profit_check(&r, WIRE_PROFIT_APPS_MAX, why, sizeof(why)), -RAAS_EPROTO);
	ASSERT_TRUE(strstr(why, "apps[0].profit_per_hour") != NULL);
	a.profit_per_hour = 2500000000;
	memset(name, 'x', 64);
	name[64] = 0;
	a.app = name;
	ASSERT_EQ(wire_profit_check(&r, WIRE_PROFIT_APPS_MAX, why, sizeof(why)), -RAAS_EPROTO);
	ASSERT_TRUE(strstr(why, "1..63") != NULL);
	name[63] = 0;
	ASSERT_OK(wire_profit_check(&r, WIRE_PROFIT_APPS_MAX, why, sizeof(why)));
	r.n_apps = 0;
	ASSERT_EQ(wire_profit_check(&r, WIRE_PROFIT_APPS_MAX, why, sizeof(why)), -RAAS_EPROTO);
}

int main(void)
{
	test_round_trip();
	test_errors();
	test_error_codes();
	test_names();
	test_profit();
	printf("test_wire: ok\n");
	return 0;
}
