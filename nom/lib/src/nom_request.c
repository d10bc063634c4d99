/* nom_request.c: libnom's requests to nom-priced over the local API (ZeroMQ DEALER, ipc://).
 *
 * A request is one raas.proto Envelope (Bid, Acquire, Release, Cancel or Query) with the
 * handle's own request id; nom-priced forwards it to the market under an id of its own and
 * relays the market's Reply with the app's id. Requests are synchronous: the handle waits for
 * the reply with its id (dropping late replies to earlier, timed-out requests) until its
 * timeout. Nothing is retried here: nom-priced retries towards the market, and a blind retry
 * across a nom-priced restart could apply an acquire twice. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <zmq.h>

#include "common/clock.h"
#include "common/error.h"
#include "common/transport.h"
#include "common/wire.h"
#include "nom_priv.h"

static int64_t mono_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

/* The endpoint nom-priced published on the board, unless one was given at open. */
static int find_endpoint(struct nom *n)
{
	struct bb_state s;

	if (n->endpoint_fixed)
		return 0;
	int err = bb_read_state(n->r, &s);
	if (err)
		return nom__fail(n, err, "board of %s: %s", n->instance, raas_strerror(err));
	if (!s.endpoint[0])
		return nom__fail(n, -ENOTCONN,
				 "nom-priced of %s has not published its local API endpoint yet",
				 n->instance);
	if (n->sock && strcmp(s.endpoint, n->endpoint) != 0)
		nom__request_close(n); /* nom-priced moved: reconnect */
	snprintf(n->endpoint, sizeof(n->endpoint), "%s", s.endpoint);
	return 0;
}

static int connect_api(struct nom *n)
{
	if (n->sock)
		return 0;
	if (!n->zctx && !(n->zctx = tp_context_create(0, 1)))
		return nom__fail(n, -errno, "zmq context: %s", zmq_strerror(errno));
	/* No CURVE on ipc://: the socket file's permissions are the instance's boundary. The
	 * DEALER is ZMQ_IMMEDIATE, so that a missing nom-priced is an error, not a queue. */
	int err = tp_connect(n->zctx, ZMQ_DEALER, n->endpoint, NULL, NULL, &n->sock);
	if (err) {
		n->sock = NULL;
		return nom__fail(n, err == -EINVAL ? -EINVAL : -ENOTCONN, "connect to %s: %s",
				 n->endpoint, raas_strerror(err));
	}
	if (!n->next_rid) /* unique per handle; distinct handles are distinct peers */
		n->next_rid = (uint64_t)mono_ns();
	return 0;
}

void nom__request_close(struct nom *n)
{
	tp_close(n->sock);
	n->sock = NULL;
	if (n->zctx)
		tp_context_destroy(n->zctx);
	n->zctx = NULL;
}

static int poll_for(void *sock, short events, int64_t deadline)
{
	zmq_pollitem_t item = {.socket = sock, .events = events};

	for (;;) {
		int64_t left = deadline - mono_ns();
		if (left <= 0)
			return 0;
		int rc = zmq_poll(&item, 1, (long)((left + 999999) / 1000000));
		if (rc < 0 && errno == EINTR)
			continue;
		if (rc < 0)
			return -errno;
		if (item.revents & events)
			return 1;
	}
}

int nom__request(struct nom *n, Raas__Envelope *req, Raas__Envelope **reply)
{
	pid_t pid;
	int err = find_endpoint(n);

	if (err)
		return err;
	if (!bb_writer_alive(n->r, &pid))
		return nom__fail(n, -ENOTCONN, "nom-priced of %s (pid %d) is not running",
				 n->instance, (int)pid);
	err = connect_api(n);
	if (err)
		return err;

	uint64_t rid = ++n->next_rid;
	req->version = RAAS__PROTOCOL_VERSION__PROTOCOL_MAJOR;
	req->request_id = rid;
	int64_t deadline = mono_ns() + n->timeout_ns;
	for (;;) {
		err = tp_send(n->sock, NULL, req, ZMQ_DONTWAIT);
		if (err == 0)
			break;
		if (err != -EAGAIN && err != -EINTR)
			return nom__fail(n, err == -RAAS_ETOOBIG ? err : -ENOTCONN,
					 "send to %s: %s", n->endpoint, raas_strerror(err));
		/* No connection up yet (ZMQ_IMMEDIATE): wait for one until the deadline. */
		int rc = poll_for(n->sock, ZMQ_POLLOUT, deadline);
		if (rc <= 0)
			return nom__fail(n, -ENOTCONN, "nom-priced at %s does not accept requests",
					 n->endpoint);
	}

	for (;;) {
		int rc = poll_for(n->sock, ZMQ_POLLIN, deadline);
		if (rc < 0)
			return nom__fail(n, rc, "poll: %s", zmq_strerror(-rc));
		if (rc == 0)
			return nom__fail(n, -ETIMEDOUT,
					 "no answer from nom-priced (%s) within %.1f s for request %llu",
					 n->endpoint, n->timeout_ns / 1e9, (unsigned long long)rid);
		struct tp_msg msg;
		char why[160];
		err = tp_recv(n->sock, ZMQ_DONTWAIT, WIRE_MAX_BYTES, &msg, why, sizeof(why));
		if (err == -EAGAIN || err == -EINTR)
			continue;
		if (err)
			return nom__fail(n, err, "bad answer from nom-priced: %s", why);
		Raas__Envelope *e = msg.env;
		msg.env = NULL;
		tp_msg_clear(&msg);
		if (e->request_id != rid) { /* a late answer to an earlier, timed-out request */
			wire_free(e);
			continue;
		}
		if (e->body_case != RAAS__ENVELOPE__BODY_REPLY) {
			wire_free(e);
			return nom__fail(n, -RAAS_EPROTO, "nom-priced answered with a %s, not a reply",
					 "non-reply");
		}
		const Raas__Error *er = e->reply->error;
		if (er && er->code != RAAS__ERROR_CODE__ERROR_NONE) {
			err = wire_error_from_code(er->code);
			nom__fail(n, err, "%s", er->message && er->message[0] ? er->message
									   : raas_strerror(err));
			wire_free(e);
			return err;
		}
		*reply = e;
		n->last_error[0] = '\0';
		return 0;
	}
}

static int check_host(struct nom *n, const char *host)
{
	if (host && strlen(host) >= BB_NAME_MAX)
		return nom__fail(n, -EINVAL, "host name '%s' is longer than %d bytes", host,
				 BB_NAME_MAX - 1);
	return 0;
}

static int check_resource(struct nom *n, enum nom_resource r, bool holdable)
{
	if (r < NOM_CORES || r > NOM_EGRESS || (holdable && r == NOM_EGRESS))
		return nom__fail(n, -EINVAL, "resource %d cannot be %s", (int)r,
				 holdable ? "held (egress is metered)" : "traded");
	return 0;
}

int nom_bid(struct nom *n, const struct nom_bid *bid, uint64_t *effective_round)
{
	Raas__Envelope req;
	Raas__Bid b;
	Raas__Envelope *reply;
	int err;

	if (!bid || !bid->bid_id || !bid->bid_id[0] || strlen(bid->bid_id) >= BB_NAME_MAX)
		return nom__fail(n, -EINVAL, "a bid needs an id of 1-%d bytes", BB_NAME_MAX - 1);
	if ((err = check_resource(n, bid->resource, true)) || (err = check_host(n, bid->host)))
		return err;
	if (bid->min_quantity < 0 || bid->max_quantity < bid->min_quantity || bid->max_quantity <= 0)
		return nom__fail(n, -EINVAL, "bid %s: quantity range [%lld, %lld] is not 0 <= min <= max, max > 0",
				 bid->bid_id, (long long)bid->min_quantity,
				 (long long)bid->max_quantity);
	if (bid->unit_price < 0)
		return nom__fail(n, -EINVAL, "bid %s: negative unit price %lld", bid->bid_id,
				 (long long)bid->unit_price);
	if (bid->ncurve > 256 || (bid->ncurve && !bid->curve))
		return nom__fail(n, -EINVAL, "bid %s: a curve has 1-256 segments", bid->bid_id);

	raas__envelope__init(&req);
	raas__bid__init(&b);
	b.bid_id = (char *)bid->bid_id;
	b.resource = (Raas__Resource)bid->resource;
	b.host = (char *)(bid->host ? bid->host : "");
	b.min_quantity = bid->min_quantity;
	b.max_quantity = bid->max_quantity;
	b.unit_price = bid->unit_price;
	Raas__ValueSegment segs[256], *segp[256];
	for (size_t i = 0; i < bid->ncurve; i++) {
		raas__value_segment__init(&segs[i]);
		segs[i].quantity = bid->curve[i].quantity;
		segs[i].unit_value = bid->curve[i].unit_value;
		segp[i] = &segs[i];
		if (segs[i].quantity <= 0 || segs[i].unit_value < 0 ||
		    (i && segs[i].unit_value > segs[i - 1].unit_value))
			return nom__fail(n, -EINVAL,
					 "bid %s: curve segment %zu: quantities > 0 and values "
					 "decreasing", bid->bid_id, i);
	}
	b.n_curve = bid->ncurve;
	b.curve = segp;
	req.body_case = RAAS__ENVELOPE__BODY_BID;
	req.bid = &b;
	err = nom__request(n, &req, &reply);
	if (err)
		return err;
	if (effective_round)
		*effective_round = reply->reply->result_case == RAAS__REPLY__RESULT_BID
					   ? reply->reply->bid->effective_round
					   : 0;
	wire_free(reply);
	return 0;
}

/* Waits (within the handle's timeout) until the board holds at least quantity cores with
 * their CPUs, then pins to them. */
static int pin_after_acquire(struct nom *n, const char *host, int64_t quantity)
{
	int64_t deadline = mono_ns() + n->timeout_ns;

	n->pin_active = true;
	for (;;) {
		struct nom_holding_info h;
		int err = nom_holding(n, NOM_CORES, host, &h);
		if (err)
			return err;
		if (h.quantity >= quantity && h.ncpus > 0)
			return nom__follow_cores(n);
		int64_t left = deadline - mono_ns();
		if (left <= 0) /* acquired; the CPUs come later, nom_wait_change pins then */
			return nom__fail(n, 0, "acquired %lld cores, their CPUs are not on the board yet",
					 (long long)quantity);
		uint32_t seen = bb_reader_seq(n->r);
		bb_wait_change(n->r, &seen, left);
	}
}

int nom_acquire(struct nom *n, enum nom_resource resource, const char *host, int64_t quantity,
		int64_t max_unit_price)
{
	Raas__Envelope req, *reply;
	Raas__Acquire a;
	struct nom_holding_info before = {0};
	int err;

	if ((err = check_resource(n, resource, true)) || (err = check_host(n, host)))
		return err;
	if (quantity <= 0 || max_unit_price < 0)
		return nom__fail(n, -EINVAL, "acquire %lld %s at most %lld: quantity must be > 0, "
				 "price limit >= 0", (long long)quantity, nom_resource_name(resource),
				 (long long)max_unit_price);
	if (resource == NOM_CORES && !n->no_pin && (err = nom_holding(n, NOM_CORES, host, &before)))
		return err;
	raas__envelope__init(&req);
	raas__acquire__init(&a);
	a.resource = (Raas__Resource)resource;
	a.host = (char *)(host ? host : "");
	a.quantity = quantity;
	a.max_unit_price = max_unit_price;
	req.body_case = RAAS__ENVELOPE__BODY_ACQUIRE;
	req.acquire = &a;
	err = nom__request(n, &req, &reply);
	if (err)
		return err;
	wire_free(reply);
	if (resource == NOM_CORES && !n->no_pin && n->pin_later) {
		n->pin_active = true; /* nom_wait_change pins once the CPUs are on the board */
		return nom__follow_cores(n);
	}
	if (resource == NOM_CORES && !n->no_pin)
		return pin_after_acquire(n, host, before.quantity + quantity);
	return 0;
}

int nom_release(struct nom *n, enum nom_resource resource, const char *host, int64_t quantity)
{
	Raas__Envelope req, *reply;
	Raas__Release rel;
	int err;

	if ((err = check_resource(n, resource, true)) || (err = check_host(n, host)))
		return err;
	if (quantity < 0)
		return nom__fail(n, -EINVAL, "release %lld: quantity must be >= 0 (0: all)",
				 (long long)quantity);
	raas__envelope__init(&req);
	raas__release__init(&rel);
	rel.resource = (Raas__Resource)resource;
	rel.host = (char *)(host ? host : "");
	rel.quantity = quantity;
	req.body_case = RAAS__ENVELOPE__BODY_RELEASE;
	req.release = &rel;
	err = nom__request(n, &req, &reply);
	if (err)
		return err;
	wire_free(reply);
	return 0;
}

int nom_cancel(struct nom *n, const char *bid_id)
{
	Raas__Envelope req, *reply;
	Raas__Cancel c;

	if (!bid_id || !bid_id[0] || strlen(bid_id) >= BB_NAME_MAX)
		return nom__fail(n, -EINVAL, "a bid id has 1-%d bytes", BB_NAME_MAX - 1);
	raas__envelope__init(&req);
	raas__cancel__init(&c);
	c.bid_id = (char *)bid_id;
	req.body_case = RAAS__ENVELOPE__BODY_CANCEL;
	req.cancel = &c;
	int err = nom__request(n, &req, &reply);
	if (err)
		return err;
	wire_free(reply);
	return 0;
}

int nom_report_profit(struct nom *n, const char *app, int64_t profit_per_hour, int64_t w_ns)
{
	Raas__Envelope req, *reply;
	Raas__ProfitReport r = RAAS__PROFIT_REPORT__INIT;
	Raas__AppProfit a = RAAS__APP_PROFIT__INIT;
	Raas__AppProfit *ap = &a;
	char why[160];

	a.app = (char *)(app ? app : "");
	a.profit_per_hour = profit_per_hour;
	a.w_ns = w_ns;
	a.measured_wall_ns = clk_wall(&clk_real);
	r.n_apps = 1;
	r.apps = &ap;
	r.profit_per_hour = profit_per_hour;
	if (wire_profit_check(&r, 1, why, sizeof(why)) != 0)
		return nom__fail(n, -EINVAL, "%s", why);
	raas__envelope__init(&req);
	req.body_case = RAAS__ENVELOPE__BODY_PROFIT_REPORT;
	req.profit_report = &r;
	int err = nom__request(n, &req, &reply);
	if (err)
		return err;
	wire_free(reply);
	return 0;
}

int nom_account(struct nom *n, int64_t *charged_total, int64_t *budget)
{
	Raas__Envelope req, *reply;
	Raas__Query q;

	raas__envelope__init(&req);
	raas__query__init(&q);
	q.what = RAAS__QUERY__WHAT__WHAT_ACCOUNT;
	req.body_case = RAAS__ENVELOPE__BODY_QUERY;
	req.query = &q;
	int err = nom__request(n, &req, &reply);
	if (err)
		return err;
	const Raas__Reply *r = reply->reply;
	if (r->result_case != RAAS__REPLY__RESULT_QUERY || !r->query->account) {
		wire_free(reply);
		return nom__fail(n, -RAAS_EPROTO, "the account query's answer has no account");
	}
	if (charged_total)
		*charged_total = r->query->account->charged_total;
	if (budget)
		*budget = r->query->account->budget;
	wire_free(reply);
	return 0;
}
