/* test_market_badinput.c: bad input gets an error answer and the market stays up.
 *
 * Against a real raas-marketd on loopback: garbage frames, truncated and oversized
 * messages, an unknown protocol version, extra frames, bodies naming another tenant, a
 * tenant sending host messages and a host sending tenant messages, requests without an id,
 * fields out of range. Each is answered with the right error code and a message naming what
 * is wrong; after all of it the market still serves, and its ledger is intact. Then keys:
 * an unknown CURVE key gets no service on any endpoint (no answer, no price), and a host's
 * key is refused on the tenant API and vice versa. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <zmq.h>

#include "common/clock.h"
#include "common/error.h"
#include "harness.h"
#include "test.h"

static struct harness h;

/* Sends raw frames on a dealer and returns the error reply (fails the test otherwise). */
static Raas__Envelope *send_raw(void *dealer, const void *const *frames, const size_t *lens,
				int nframes)
{
	for (int i = 0; i < nframes; i++)
		ASSERT_TRUE(zmq_send(dealer, frames[i], lens[i], i + 1 < nframes ? ZMQ_SNDMORE : 0) >=
			    0);
	zmq_pollitem_t item = {.socket = dealer, .events = ZMQ_POLLIN};
	if (zmq_poll(&item, 1, 10000) != 1)
		TEST_FAIL("no answer to a bad message within 10 s");
	struct tp_msg m;
	char why[256];
	ASSERT_OK(tp_recv(dealer, 0, WIRE_MAX_BYTES, &m, why, sizeof(why)));
	ASSERT_EQ(m.env->body_case, RAAS__ENVELOPE__BODY_REPLY);
	Raas__Envelope *env = m.env;
	m.env = NULL;
	return env;
}

static void expect_error(Raas__Envelope *r, Raas__ErrorCode code, const char *text)
{
	ASSERT_TRUE(r->reply->error != NULL);
	if ((int)r->reply->error->code != (int)code)
		TEST_FAIL("error code %d (%s), expected %d", r->reply->error->code,
			  r->reply->error->message, code);
	ASSERT_STR_CONTAINS(r->reply->error->message, text);
	printf("  error %d: %s\n", code, r->reply->error->message);
	wire_free(r);
}

static void raw_case(void *dealer, const void *data, size_t len, int frames, Raas__ErrorCode code,
		     const char *text)
{
	const void *f[3] = {data, data, data};
	size_t l[3] = {len, len, len};
	expect_error(send_raw(dealer, f, l, frames), code, text);
}

/* Sets e to a bid envelope with request id rid. */
static void as_bid(Raas__Envelope *e, Raas__Bid *bid, uint64_t rid)
{
	wire_envelope_init(e, rid);
	e->body_case = RAAS__ENVELOPE__BODY_BID;
	e->bid = bid;
}

/* Encodes e and sends it (maybe truncated to keep bytes). */
static Raas__Envelope *send_env(void *dealer, Raas__Envelope *e, size_t keep)
{
	uint8_t *buf;
	size_t len;
	ASSERT_OK(wire_encode(e, &buf, &len));
	if (keep && keep < len)
		len = keep;
	const void *f[1] = {buf};
	Raas__Envelope *r = send_raw(dealer, f, &len, 1);
	free(buf);
	return r;
}

static void bad_messages(void *alice, void *host)
{
	Raas__Envelope e;
	uint8_t big[9000];

	printf("bad messages:\n");
	raw_case(alice, "\xff\xff\xff\xff garbage", 13, 1, RAAS__ERROR_CODE__ERROR_MALFORMED,
		 "do not decode");
	raw_case(alice, "", 0, 1, RAAS__ERROR_CODE__ERROR_MALFORMED, "empty message");
	raw_case(alice, "\x08\x01\x52\x00", 4, 3, RAAS__ERROR_CODE__ERROR_MALFORMED,
		 "one payload frame expected");
	/* version 7 with a hello body */
	raw_case(alice, "\x08\x07\x52\x00", 4, 1, RAAS__ERROR_CODE__ERROR_VERSION,
		 "protocol version 7");
	/* version 1 without a body */
	raw_case(alice, "\x08\x01\x10\x05", 4, 1, RAAS__ERROR_CODE__ERROR_MALFORMED, "no body");
	/* Over max_request_bytes (4096 in this test's config). */
	memset(big, 0, sizeof(big));
	raw_case(alice, big, sizeof(big), 1, RAAS__ERROR_CODE__ERROR_TOO_BIG,
		 "over the 4096-byte bound");

	/* A truncated bid. */
	Raas__Bid bid = RAAS__BID__INIT;
	as_bid(&e, &bid, 77);
	bid.bid_id = "a-long-enough-bid-id";
	bid.resource = RAAS__RESOURCE__RESOURCE_BANDWIDTH;
	bid.host = "h1";
	bid.max_quantity = 10;
	bid.unit_price = 1000;
	expect_error(send_env(alice, &e, 9), RAAS__ERROR_CODE__ERROR_MALFORMED, "truncated");

	/* Bodies naming another tenant. */
	Raas__Hello hello = RAAS__HELLO__INIT;
	hello.tenant = "bob";
	wire_envelope_init(&e, 78);
	e.body_case = RAAS__ENVELOPE__BODY_HELLO;
	e.hello = &hello;
	expect_error(send_env(alice, &e, 0), RAAS__ERROR_CODE__ERROR_DENIED,
		     "your key belongs to tenant alice");
	Raas__Query q = RAAS__QUERY__INIT;
	q.what = RAAS__QUERY__WHAT__WHAT_ACCOUNT;
	q.tenant = "bob";
	wire_envelope_init(&e, 79);
	e.body_case = RAAS__ENVELOPE__BODY_QUERY;
	e.query = &q;
	expect_error(send_env(alice, &e, 0), RAAS__ERROR_CODE__ERROR_DENIED,
		     "\"bob\" is another tenant");

	/* A tenant sending what only the market or a host sends. */
	Raas__AllocationNotice notice = RAAS__ALLOCATION_NOTICE__INIT;
	Raas__Allocation gift = RAAS__ALLOCATION__INIT;
	Raas__Allocation *gifts[1] = {&gift};
	gift.tenant = "alice";
	gift.resource = RAAS__RESOURCE__RESOURCE_BANDWIDTH;
	gift.host = "h1";
	gift.quantity = 100;
	notice.holdings = gifts;
	notice.n_holdings = 1;
	wire_envelope_init(&e, 80);
	e.body_case = RAAS__ENVELOPE__BODY_NOTICE;
	e.notice = &notice;
	expect_error(send_env(alice, &e, 0), RAAS__ERROR_CODE__ERROR_DENIED,
		     "a tenant may not send \"notice\"");
	Raas__HostRegister reg = RAAS__HOST_REGISTER__INIT;
	wire_envelope_init(&e, 81);
	e.body_case = RAAS__ENVELOPE__BODY_HOST_REGISTER;
	e.host_register = &reg;
	expect_error(send_env(alice, &e, 0), RAAS__ERROR_CODE__ERROR_DENIED,
		     "a tenant may not send \"host_register\"");
	/* ... and a host sending a tenant's bid. */
	as_bid(&e, &bid, 82);
	expect_error(send_env(host, &e, 0), RAAS__ERROR_CODE__ERROR_DENIED,
		     "a host may not send \"bid\"");

	/* A change without a request id, and fields out of range. */
	as_bid(&e, &bid, 0);
	expect_error(send_env(alice, &e, 0), RAAS__ERROR_CODE__ERROR_MALFORMED, "request_id: 0");
	bid.max_quantity = -5;
	as_bid(&e, &bid, 83);
	expect_error(send_env(alice, &e, 0), RAAS__ERROR_CODE__ERROR_MALFORMED,
		     "bid.max_quantity: -5");
	bid.max_quantity = 10;
	bid.host = "no-such-host";
	as_bid(&e, &bid, 84);
	expect_error(send_env(alice, &e, 0), RAAS__ERROR_CODE__ERROR_NOT_FOUND,
		     "no bandwidth pool on host \"no-such-host\"");
	bid.host = "h1";
	bid.bid_id = "bad id with spaces";
	as_bid(&e, &bid, 85);
	expect_error(send_env(alice, &e, 0), RAAS__ERROR_CODE__ERROR_MALFORMED, "bid.bid_id");
	Raas__ValueSegment s1 = RAAS__VALUE_SEGMENT__INIT, s2 = RAAS__VALUE_SEGMENT__INIT;
	Raas__ValueSegment *segs[2] = {&s1, &s2};
	s1.quantity = 5;
	s1.unit_value = 100;
	s2.quantity = 5;
	s2.unit_value = 200;
	bid.bid_id = "curvy";
	bid.curve = segs;
	bid.n_curve = 2;
	as_bid(&e, &bid, 86);
	expect_error(send_env(alice, &e, 0), RAAS__ERROR_CODE__ERROR_MALFORMED,
		     "bid.curve[1].unit_value: 200 is not below");
	Raas__Cancel cancel = RAAS__CANCEL__INIT;
	cancel.bid_id = "never-placed";
	wire_envelope_init(&e, 87);
	e.body_case = RAAS__ENVELOPE__BODY_CANCEL;
	e.cancel = &cancel;
	expect_error(send_env(alice, &e, 0), RAAS__ERROR_CODE__ERROR_NOT_FOUND,
		     "no standing bid \"never-placed\"");
	/* The same request id again: the first answer, not a second look. */
	cancel.bid_id = "something-else";
	wire_envelope_init(&e, 87);
	e.body_case = RAAS__ENVELOPE__BODY_CANCEL;
	e.cancel = &cancel;
	expect_error(send_env(alice, &e, 0), RAAS__ERROR_CODE__ERROR_NOT_FOUND,
		     "no standing bid \"never-placed\"");
}

/* A client with key k on endpoint ep gets nothing: no reply, and the connection is refused. */
static void refused(const char *what, const char *ep, int type, const struct tp_keypair *k)
{
	void *s;
	Raas__Envelope e, *reply = NULL;
	Raas__Hello hello = RAAS__HELLO__INIT;

	void *mon;
	ASSERT_OK(tp_connect_monitored(h.ctx, type, ep, k, h.market_key.public_key, &s, &mon));
	if (type == ZMQ_SUB) {
		bool ok = false;
		ASSERT_OK(tp_subscribe(s, ""));
		int64_t deadline = h_now_ms() + 3 * h.round_ms + 2000;
		bool was_refused = false;
		while (h_now_ms() < deadline) {
			zmq_pollitem_t item = {.socket = s, .events = ZMQ_POLLIN};
			if (zmq_poll(&item, 1, 20) > 0)
				TEST_FAIL("%s: a price reached an unknown key", what);
			was_refused = was_refused || tp_auth_refused(mon, &ok);
		}
		ASSERT_TRUE(was_refused);
		ASSERT_TRUE(!ok);
	} else {
		wire_envelope_init(&e, 5);
		e.body_case = RAAS__ENVELOPE__BODY_HELLO;
		e.hello = &hello;
		int err = tp_call_on(s, mon, &e, 300 * NS_PER_MS, 3 * NS_PER_S, WIRE_MAX_BYTES, NULL,
				     NULL, &reply, NULL);
		if (err != -EACCES)
			TEST_FAIL("%s: expected the key refused (-EACCES), got %d", what, err);
		ASSERT_TRUE(reply == NULL);
	}
	printf("  %s: refused\n", what);
	tp_monitor_stop(s, mon);
	tp_close(s);
}

int main(void)
{
	h_init(&h, "badinput", 50,
	       "max_request_bytes = 4096\n"
	       "[pool.bw]\nhost = h1\nresource = bandwidth\nsupply = 100\n");
	/* max_request_bytes belongs to [market]: the extra text follows that section. */
	int alice = h_add_tenant(&h, "alice", -1);
	h_add_tenant(&h, "bob", -1);
	int host = h_add_host(&h, "h1");
	h_start(&h);

	void *a = h_dealer(&h, alice);
	void *hd = h_host_dealer(&h, host);
	wire_free(h_hello(&h, a));
	bad_messages(a, hd);

	/* Still serving: a valid bid is taken, and the daemon is alive. */
	Raas__Envelope e;
	Raas__Bid bid = RAAS__BID__INIT;
	wire_envelope_init(&e, 0);
	bid.bid_id = "good";
	bid.resource = RAAS__RESOURCE__RESOURCE_BANDWIDTH;
	bid.host = "h1";
	bid.max_quantity = 10;
	bid.unit_price = 1000000;
	e.body_case = RAAS__ENVELOPE__BODY_BID;
	e.bid = &bid;
	Raas__Envelope *r = h_call(&h, a, &e, 10000, NULL, NULL);
	ASSERT_TRUE(r->reply->error == NULL);
	ASSERT_STR_EQ(r->reply->bid->bid_id, "good");
	wire_free(r);
	ASSERT_TRUE(h_alive(&h));

	printf("unknown keys:\n");
	struct tp_keypair stranger;
	ASSERT_OK(tp_keypair_generate(&stranger));
	refused("unknown key on the tenant API", h.tenant_ep, ZMQ_DEALER, &stranger);
	refused("unknown key on the host API", h.host_ep, ZMQ_DEALER, &stranger);
	refused("unknown key on the price feed", h.price_ep, ZMQ_SUB, &stranger);
	refused("host key on the tenant API", h.tenant_ep, ZMQ_DEALER, &h.hosts[host].key);
	refused("tenant key on the host API", h.host_ep, ZMQ_DEALER, &h.tenants[alice].key);
	ASSERT_TRUE(h_alive(&h));

	tp_close(a);
	tp_close(hd);
	h_check_ledger(&h);
	h_stop(&h, false);
	printf("test_market_badinput: ok\n");
	return 0;
}
