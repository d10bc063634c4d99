/* priced_api.c: the local API of a nom instance: its apps' requests in, the market's answers
 * out.
 *
 * A ROUTER on ipc:// (no CURVE: the socket file's permissions are the boundary of the
 * instance, and every app of the instance acts as its tenant). Requests are raas.proto
 * envelopes carrying a Bid, Acquire, Release, Cancel or Query; each is checked here, so that
 * a malformed one is answered at once with what is wrong, then forwarded to the market under
 * nom-priced's own request id. Every request gets exactly one answer (invariant 5). */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <zmq.h>

#include "common/error.h"
#include "common/log.h"
#include "priced.h"

int priced_api_open(struct priced *p)
{
	const char *path = p->cfg.api + strlen("ipc://");
	int err;

	/* A socket file left by a nom-priced that died would make bind fail; nobody can be
	 * listening on it (this process holds the board's writer lock). */
	unlink(path);
	err = tp_bind(p->zctx, ZMQ_ROUTER, p->cfg.api, NULL, NULL, &p->api, p->api_bound,
		      sizeof(p->api_bound));
	if (err) {
		log_error("local API %s: %s", p->cfg.api, raas_strerror(err));
		return err;
	}
	if (chmod(path, (mode_t)p->cfg.api_mode) != 0)
		log_warn("local API %s: chmod %o: %s", path, p->cfg.api_mode, strerror(errno));
	struct bb_body *b = bb_writer_body(p->board);
	bb_set_string(b->state.endpoint, sizeof(b->state.endpoint), p->cfg.api);
	p->dirty = true;
	return 0;
}

void priced_api_close(struct priced *p)
{
	tp_close(p->api);
	p->api = NULL;
	unlink(p->cfg.api + strlen("ipc://"));
}

void priced_api_reply(struct priced *p, const struct tp_route *route, uint64_t rid,
		      Raas__Envelope *reply)
{
	uint64_t saved = reply->request_id;

	reply->request_id = rid;
	int err = tp_send(p->api, route, reply, ZMQ_DONTWAIT);
	reply->request_id = saved;
	if (err)
		log_info("app went away before its answer to request %llu: %s",
			 (unsigned long long)rid, raas_strerror(err));
}

void priced_api_reply_error(struct priced *p, const struct tp_route *route, uint64_t rid,
			    int code, const char *fmt, ...)
{
	Raas__Envelope e;
	Raas__Reply r;
	Raas__Error er;
	char msg[300];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	wire_envelope_init(&e, rid);
	raas__reply__init(&r);
	raas__error__init(&er);
	er.code = (Raas__ErrorCode)code;
	er.message = msg;
	r.error = &er;
	e.body_case = RAAS__ENVELOPE__BODY_REPLY;
	e.reply = &r;
	priced_api_reply(p, route, rid, &e);
}

static bool resource_ok(Raas__Resource r, bool holdable)
{
	return r >= RAAS__RESOURCE__RESOURCE_CORES &&
	       r <= (holdable ? RAAS__RESOURCE__RESOURCE_LLC : RAAS__RESOURCE__RESOURCE_EGRESS);
}

static bool host_ok(const char *host)
{
	return !host || strlen(host) < BB_NAME_MAX;
}

/* Checks an app's request; on a problem writes it into why and returns false. */
static bool check_request(struct priced *p, const Raas__Envelope *e, char *why, size_t len,
			  int *code)
{
	*code = RAAS__ERROR_CODE__ERROR_MALFORMED;
	switch (e->body_case) {
	case RAAS__ENVELOPE__BODY_BID: {
		const Raas__Bid *b = e->bid;
		if (!b->bid_id || !b->bid_id[0] || strlen(b->bid_id) >= BB_NAME_MAX) {
			snprintf(why, len, "bid: bid_id must have 1-%d bytes", BB_NAME_MAX - 1);
			return false;
		}
		if (!resource_ok(b->resource, true) || !host_ok(b->host)) {
			snprintf(why, len, "bid %s: resource %d or host is not one that can be held",
				 b->bid_id, b->resource);
			return false;
		}
		if (b->min_quantity < 0 || b->max_quantity < b->min_quantity || b->max_quantity <= 0 ||
		    b->unit_price < 0) {
			snprintf(why, len, "bid %s: needs 0 <= min <= max, max > 0, unit_price >= 0",
				 b->bid_id);
			return false;
		}
		if (!priced_bid_find(p, b->bid_id) && p->nbids >= BB_MAX_BIDS) {
			*code = RAAS__ERROR_CODE__ERROR_TOO_BIG;
			snprintf(why, len, "bid %s: the instance already has %d standing bids, the most "
				 "its board shows; cancel one first", b->bid_id, BB_MAX_BIDS);
			return false;
		}
		return true;
	}
	case RAAS__ENVELOPE__BODY_ACQUIRE:
		if (!resource_ok(e->acquire->resource, true) || !host_ok(e->acquire->host) ||
		    e->acquire->quantity <= 0 || e->acquire->max_unit_price < 0) {
			snprintf(why, len, "acquire: needs a holdable resource, a host of at most %d "
				 "bytes, quantity > 0 and max_unit_price >= 0", BB_NAME_MAX - 1);
			return false;
		}
		return true;
	case RAAS__ENVELOPE__BODY_RELEASE:
		if (!resource_ok(e->release->resource, true) || !host_ok(e->release->host) ||
		    e->release->quantity < 0) {
			snprintf(why, len, "release: needs a holdable resource, a short host and "
				 "quantity >= 0");
			return false;
		}
		return true;
	case RAAS__ENVELOPE__BODY_CANCEL:
		if (!e->cancel->bid_id || !e->cancel->bid_id[0] ||
		    strlen(e->cancel->bid_id) >= BB_NAME_MAX) {
			snprintf(why, len, "cancel: bid_id must have 1-%d bytes", BB_NAME_MAX - 1);
			return false;
		}
		return true;
	case RAAS__ENVELOPE__BODY_QUERY:
		return true;
	case RAAS__ENVELOPE__BODY_PROFIT_REPORT:
		return priced_profit_check(p, e->profit_report, why, len, code);
	default:
		snprintf(why, len, "the local API takes bid, acquire, release, cancel, query and "
			 "profit_report, not %s",
			 wire_body_name(e));
		return false;
	}
}

static int code_of(int err)
{
	switch (err) {
	case -RAAS_ETOOBIG:
		return RAAS__ERROR_CODE__ERROR_TOO_BIG;
	case -RAAS_EVERSION:
		return RAAS__ERROR_CODE__ERROR_VERSION;
	default:
		return RAAS__ERROR_CODE__ERROR_MALFORMED;
	}
}

void priced_api_on_readable(struct priced *p)
{
	for (int i = 0; i < 256; i++) {
		struct tp_msg msg;
		char why[300];
		int code;
		int err = tp_recv(p->api, ZMQ_DONTWAIT, WIRE_MAX_BYTES, &msg, why, sizeof(why));
		if (err == -EAGAIN || err == -EINTR)
			return;
		if (err) {
			log_info("app sent a bad request: %s", why);
			if (msg.route.len)
				priced_api_reply_error(p, &msg.route, 0, code_of(err), "%s", why);
			tp_msg_clear(&msg);
			continue;
		}
		p->app_requests++;
		if (!check_request(p, msg.env, why, sizeof(why), &code)) {
			log_info("app request %llu refused: %s",
				 (unsigned long long)msg.env->request_id, why);
			priced_api_reply_error(p, &msg.route, msg.env->request_id, code, "%s", why);
			tp_msg_clear(&msg);
			continue;
		}
		const Raas__Envelope *e = msg.env;
		if (e->body_case == RAAS__ENVELOPE__BODY_BID)
			priced_market_subscribe(p, (uint32_t)e->bid->resource, e->bid->host);
		else if (e->body_case == RAAS__ENVELOPE__BODY_ACQUIRE)
			priced_market_subscribe(p, (uint32_t)e->acquire->resource, e->acquire->host);
		log_debug("app request %llu: %s", (unsigned long long)msg.env->request_id,
			  wire_body_name(msg.env));
		if (e->body_case == RAAS__ENVELOPE__BODY_PROFIT_REPORT)
			priced_profit_forward(p, &msg.route, msg.env);
		else
			priced_market_forward(p, &msg.route, msg.env);
		tp_msg_clear(&msg);
	}
}
