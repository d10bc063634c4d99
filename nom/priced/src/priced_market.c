/* priced_market.c: nom-priced's side of the market: the session, the price feed, forwarded
 * requests, re-syncs after a market restart, and staleness.
 *
 * The tenant API is a DEALER with the tenant's CURVE key; the price feed a SUB with the same
 * key. A socket monitor on each tells when a connection drops or comes back; a liveness query
 * (the account) tells when a connected market stopped answering. See priced.h for the session
 * states and the invariants. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <zmq.h>

#include "common/error.h"
#include "common/log.h"
#include "common/wire.h"
#include "priced.h"

#define MONITOR_EVENTS \
	(ZMQ_EVENT_CONNECTED | ZMQ_EVENT_DISCONNECTED | ZMQ_EVENT_HANDSHAKE_SUCCEEDED | \
	 ZMQ_EVENT_HANDSHAKE_FAILED_AUTH | ZMQ_EVENT_HANDSHAKE_FAILED_PROTOCOL | \
	 ZMQ_EVENT_HANDSHAKE_FAILED_NO_DETAIL)

uint64_t priced_next_rid(struct priced *p)
{
	/* Unique per tenant key across restarts: a later start has a larger base than any id
	 * the earlier run could reach (one id per nanosecond of its life at most). */
	return p->rid_base + ++p->rid_count;
}

static int set_int(void *sock, int opt, int v)
{
	return zmq_setsockopt(sock, opt, &v, sizeof(v)) == 0 ? 0 : -errno;
}

static int monitor(struct priced *p, void *sock, const char *what, void **out)
{
	char ep[96];

	snprintf(ep, sizeof(ep), "inproc://priced-monitor-%s", what);
	if (zmq_socket_monitor(sock, ep, MONITOR_EVENTS) != 0)
		return -errno;
	void *mon = zmq_socket(p->zctx, ZMQ_PAIR);
	if (!mon)
		return -errno;
	set_int(mon, ZMQ_LINGER, 0);
	if (zmq_connect(mon, ep) != 0) {
		int err = -errno;
		zmq_close(mon);
		return err;
	}
	*out = mon;
	return 0;
}

static void topic_of(const struct priced_sub *s, char *buf, size_t len)
{
	if (strcmp(s->host, "*") == 0)
		snprintf(buf, len, "price/%s/", bb_resource_name(s->resource));
	else
		snprintf(buf, len, "price/%s/%s", bb_resource_name(s->resource), s->host);
}

static int open_sub(struct priced *p)
{
	char topic[TP_TOPIC_MAX];
	int err = tp_connect(p->zctx, ZMQ_SUB, p->cfg.prices, &p->key, p->market_public, &p->sub);

	if (err)
		return err;
	set_int(p->sub, ZMQ_HEARTBEAT_IVL, 1000);
	set_int(p->sub, ZMQ_HEARTBEAT_TIMEOUT, 3000);
	for (int i = 0; i < p->nsubs; i++) {
		topic_of(&p->subs[i], topic, sizeof(topic));
		if ((err = tp_subscribe(p->sub, topic)))
			return err;
	}
	if (p->mon_sub) {
		tp_monitor_stop(p->sub, p->mon_sub); /* zmq_close alone can stall the I/O thread */
		p->mon_sub = NULL;
	}
	static int generation;
	char name[32];
	snprintf(name, sizeof(name), "sub-%d", ++generation);
	return monitor(p, p->sub, name, &p->mon_sub);
}

/* Recreates the price subscription from scratch (after the market came back). */
static void resubscribe(struct priced *p)
{
	if (p->mon_sub) {
		tp_monitor_stop(p->sub, p->mon_sub);
		p->mon_sub = NULL;
	}
	tp_close(p->sub);
	p->sub = NULL;
	int err = open_sub(p);
	if (err)
		log_error("price feed %s: cannot subscribe again: %s", p->cfg.prices,
			  raas_strerror(err));
	else
		log_info("price feed %s: subscribed again to %d topics", p->cfg.prices, p->nsubs);
	p->resubscribe = false;
}

int priced_market_open(struct priced *p)
{
	char why[256];
	int err = tp_key_load_pair(p->cfg.tenant_key, &p->key, why, sizeof(why));

	if (err) {
		log_error("tenant_key %s: %s", p->cfg.tenant_key, why[0] ? why : raas_strerror(err));
		return err;
	}
	err = tp_key_load_public(p->cfg.market_key, p->market_public, why, sizeof(why));
	if (err) {
		log_error("market_key %s: %s", p->cfg.market_key, why[0] ? why : raas_strerror(err));
		return err;
	}
	err = tp_connect(p->zctx, ZMQ_DEALER, p->cfg.market, &p->key, p->market_public,
			 &p->dealer);
	if (err) {
		log_error("market %s: %s", p->cfg.market, raas_strerror(err));
		return err;
	}
	/* ZMTP heartbeats: a silently dead peer is a dropped connection within seconds. */
	set_int(p->dealer, ZMQ_HEARTBEAT_IVL, 1000);
	set_int(p->dealer, ZMQ_HEARTBEAT_TIMEOUT, 3000);
	set_int(p->dealer, ZMQ_RECONNECT_IVL, 100);
	set_int(p->dealer, ZMQ_RECONNECT_IVL_MAX, 2000);
	if ((err = monitor(p, p->dealer, "dealer", &p->mon_dealer))) {
		log_error("market %s: socket monitor: %s", p->cfg.market, raas_strerror(err));
		return err;
	}
	if ((err = open_sub(p))) {
		log_error("prices %s: %s", p->cfg.prices, raas_strerror(err));
		return err;
	}
	return 0;
}

static void pending_free(struct priced_pending *q)
{
	free(q->buf);
	free(q);
}

void priced_market_close(struct priced *p)
{
	while (p->pending) {
		struct priced_pending *q = p->pending;
		p->pending = q->next;
		if (q->kind == PEND_APP && p->api)
			priced_api_reply_error(p, &q->route, q->app_rid,
					       RAAS__ERROR_CODE__ERROR_UNAVAILABLE,
					       "nom-priced is stopping; the request was %s",
					       q->sent ? "sent, and may have been applied" : "not sent");
		pending_free(q);
	}
	tp_monitor_stop(p->dealer, p->mon_dealer);
	tp_monitor_stop(p->sub, p->mon_sub);
	tp_close(p->dealer);
	tp_close(p->sub);
	p->mon_dealer = p->mon_sub = p->dealer = p->sub = NULL;
}

/* May this request go out now? Hello whenever connected; the rest once the session is up. */
static bool may_send(const struct priced *p, const struct priced_pending *q)
{
	return q->kind == PEND_HELLO ? p->session != SESSION_UP : p->session == SESSION_UP;
}

static void flush(struct priced *p)
{
	for (struct priced_pending *q = p->pending; q; q = q->next) {
		if (q->sent || !may_send(p, q))
			continue;
		q->notices_at_send = p->notices;
		int err = tp_send_raw(p->dealer, NULL, q->buf, q->len, ZMQ_DONTWAIT);
		if (err == -EAGAIN)
			return; /* no connection (ZMQ_IMMEDIATE) or at the high-water mark */
		if (err) {
			log_warn("market: send of request %llu failed: %s",
				 (unsigned long long)q->rid, raas_strerror(err));
			return;
		}
		q->sent = true;
	}
}

/* Queues a request to the market (encoded now, sent by flush). Returns the entry or NULL. */
static struct priced_pending *enqueue(struct priced *p, enum pending_kind kind,
				      Raas__Envelope *e, int64_t timeout_ns)
{
	struct priced_pending *q = calloc(1, sizeof(*q));

	if (!q)
		return NULL;
	q->rid = priced_next_rid(p);
	q->kind = kind;
	q->body_case = e->body_case;
	q->deadline_mono = clk_mono(p->clk) + timeout_ns;
	e->version = RAAS__PROTOCOL_VERSION__PROTOCOL_MAJOR;
	e->request_id = q->rid;
	if (wire_encode(e, &q->buf, &q->len) != 0) {
		free(q);
		return NULL;
	}
	struct priced_pending **tail = &p->pending;
	while (*tail)
		tail = &(*tail)->next;
	*tail = q;
	return q;
}

static struct priced_pending *take(struct priced *p, uint64_t rid)
{
	for (struct priced_pending **pp = &p->pending; *pp; pp = &(*pp)->next)
		if ((*pp)->rid == rid) {
			struct priced_pending *q = *pp;
			*pp = q->next;
			return q;
		}
	return NULL;
}

static void send_query(struct priced *p, Raas__Query__What what, enum pending_kind kind)
{
	Raas__Envelope e;
	Raas__Query q;

	raas__envelope__init(&e);
	raas__query__init(&q);
	q.what = what;
	q.limit = 1000;
	e.body_case = RAAS__ENVELOPE__BODY_QUERY;
	e.query = &q;
	struct priced_pending *pq = enqueue(p, kind, &e, p->cfg.ping_timeout_ns);
	if (pq && kind == PEND_QUERY_ACCOUNT) {
		p->ping_rid = pq->rid;
		p->ping_sent_mono = clk_mono(p->clk);
	}
}

static void send_hello(struct priced *p)
{
	Raas__Envelope e;
	Raas__Hello h;

	raas__envelope__init(&e);
	raas__hello__init(&h);
	h.client = PRICED_VERSION;
	h.instance = p->cfg.instance;
	e.body_case = RAAS__ENVELOPE__BODY_HELLO;
	e.hello = &h;
	if (enqueue(p, PEND_HELLO, &e, p->cfg.ping_timeout_ns))
		p->hello_sent_mono = clk_mono(p->clk);
}

static bool hello_pending(const struct priced *p)
{
	for (const struct priced_pending *q = p->pending; q; q = q->next)
		if (q->kind == PEND_HELLO)
			return true;
	return false;
}

/* The connection is up (or may be): say hello; the session is up when the market answers. */
static void connected(struct priced *p)
{
	if (p->session == SESSION_UP || hello_pending(p))
		return;
	send_hello(p);
	flush(p);
	struct priced_pending *q = p->pending;
	while (q && q->kind != PEND_HELLO)
		q = q->next;
	if (q && q->sent)
		p->session = SESSION_HELLO;
	else if (q) /* not connected after all: try again at the next tick */
		pending_free(take(p, q->rid));
}

/* The market is gone or silent: stale board, everything in flight goes again later. */
static void lost(struct priced *p, const char *why)
{
	bool was_up = p->session == SESSION_UP;

	p->session = SESSION_DOWN;
	p->ping_rid = 0;
	for (struct priced_pending **pp = &p->pending; *pp;) {
		struct priced_pending *q = *pp;
		if (q->kind != PEND_APP) {
			*pp = q->next; /* hello, re-syncs, queries: made anew at the next session */
			pending_free(q);
			continue;
		}
		q->sent = false;
		pp = &q->next;
	}
	if (was_up) {
		bb_writer_body(p->board)->state.reconnects++;
		p->resubscribe = true;
	}
	if (p->ever_up)
		priced_board_set_market(p, BB_MARKET_STALE, "%s", why);
	else
		priced_board_set_market(p, BB_MARKET_CONNECTING, "%s", why);
	if (was_up)
		log_warn("market session lost: %s", why);
}

static void session_up(struct priced *p, const Raas__HelloReply *h)
{
	struct bb_body *b = bb_writer_body(p->board);
	bool again = p->ever_up;

	p->session = SESSION_UP;
	p->ever_up = true;
	/* A market with a new ledger counts rounds from 1 again; the account query below sets
	 * the charged total afresh either way. */
	b->state.last_notice_round = 0;
	p->session_up_mono = clk_mono(p->clk);
	p->last_rx_mono = p->session_up_mono;
	if (h) {
		if (h->tenant)
			bb_set_string(b->state.tenant, sizeof(b->state.tenant), h->tenant);
		if (h->round_ns > 0)
			b->state.round_ns = p->round_ns = h->round_ns;
		if (h->round > b->state.round) {
			b->state.round = h->round;
			b->state.next_round_wall_ns = h->next_round_wall_ns;
		}
	}
	if (p->resubscribe)
		resubscribe(p);
	/* Re-sync: every standing bid again, then the market's view of bids, holdings and the
	 * account (in this order on one connection, so the answers include the re-sent bids),
	 * all before the apps' requests that waited for the session: an app's cancel of a bid
	 * must come after that bid's re-sync, not before. */
	struct priced_pending *waiting = p->pending;
	p->pending = NULL;
	for (int i = 0; i < p->nbids; i++) {
		if (priced_bid_market_owned(p->bids[i].bid_id))
			continue; /* the market's record of an acquire: not ours to send */
		Raas__Bid *bid = raas__bid__unpack(NULL, p->bids[i].len, p->bids[i].packed);
		if (!bid)
			continue;
		Raas__Envelope e;
		raas__envelope__init(&e);
		e.body_case = RAAS__ENVELOPE__BODY_BID;
		e.bid = bid;
		struct priced_pending *q = enqueue(p, PEND_RESYNC, &e, INT64_MAX / 4);
		if (q)
			bb_set_string(q->bid_id, sizeof(q->bid_id), bid->bid_id);
		priced_board_set_bid(p, bid, BB_BID_RESYNC, 0, 0);
		raas__bid__free_unpacked(bid, NULL);
	}
	send_query(p, RAAS__QUERY__WHAT__WHAT_BIDS, PEND_QUERY_BIDS);
	send_query(p, RAAS__QUERY__WHAT__WHAT_HOLDINGS, PEND_QUERY_HOLDINGS);
	send_query(p, RAAS__QUERY__WHAT__WHAT_ACCOUNT, PEND_QUERY_ACCOUNT);
	struct priced_pending **tail = &p->pending;
	while (*tail)
		tail = &(*tail)->next;
	*tail = waiting;
	if (p->nsubs == 0)
		priced_board_set_market(p, BB_MARKET_FRESH, "connected as %s", b->state.tenant);
	else
		priced_board_set_market(p, again ? BB_MARKET_STALE : BB_MARKET_CONNECTING,
					"connected as %s; waiting for prices", b->state.tenant);
	log_info("market session up as tenant %s (%s), %d standing bids to re-sync",
		 b->state.tenant, again ? "again" : "first", p->nbids);
	flush(p);
}

static int reply_error(const Raas__Reply *r)
{
	return r->error ? wire_error_from_code(r->error->code) : 0;
}

/* The market answered a request an app made: side effects on the board and the table. */
static void on_app_reply(struct priced *p, struct priced_pending *q, Raas__Envelope *e)
{
	const Raas__Reply *r = e->reply;
	int err = reply_error(r);
	Raas__Envelope *req = NULL;

	if (wire_decode(q->buf, q->len, WIRE_MAX_BYTES, &req, NULL, 0) != 0)
		req = NULL;
	switch (q->body_case) {
	case RAAS__ENVELOPE__BODY_BID:
		if (!req)
			break;
		if (err == 0 && priced_bid_store(p, req->bid) == 0) {
			priced_board_set_bid(p, req->bid, BB_BID_ACTIVE, 0,
					     r->result_case == RAAS__REPLY__RESULT_BID
						     ? r->bid->effective_round
						     : 0);
		} else {
			priced_board_set_bid(p, req->bid, BB_BID_REFUSED, err ? err : -ENOSPC, 0);
			priced_bid_forget(p, req->bid->bid_id);
		}
		break;
	case RAAS__ENVELOPE__BODY_CANCEL:
		if (err == 0 || err == -ENOENT) {
			bb_body_bid_remove(bb_writer_body(p->board), q->bid_id);
			priced_bid_forget(p, q->bid_id);
			p->dirty = true;
		}
		break;
	case RAAS__ENVELOPE__BODY_ACQUIRE:
	case RAAS__ENVELOPE__BODY_RELEASE:
		/* The holdings change with the next notice; ask now so the board need not wait
		 * for the round's end, and ask for the bids: an acquire is a standing bid of the
		 * market's own ("acquire/..."), a release cancels what backed the holding. */
		if (err == 0) {
			send_query(p, RAAS__QUERY__WHAT__WHAT_HOLDINGS, PEND_QUERY_HOLDINGS);
			send_query(p, RAAS__QUERY__WHAT__WHAT_BIDS, PEND_QUERY_BIDS);
		}
		break;
	default:
		break;
	}
	wire_free(req);
	priced_api_reply(p, &q->route, q->app_rid, e);
}

static void on_reply(struct priced *p, Raas__Envelope *e)
{
	struct priced_pending *q = take(p, e->request_id);
	const Raas__Reply *r = e->reply;
	int err = reply_error(r);

	p->market_replies++;
	if (!q) {
		log_debug("reply to request %llu that is no longer pending",
			  (unsigned long long)e->request_id);
		return;
	}
	switch (q->kind) {
	case PEND_APP:
		on_app_reply(p, q, e);
		break;
	case PEND_HELLO:
		if (err) {
			log_error("market refused our hello: %s",
				  r->error->message ? r->error->message : raas_strerror(err));
			priced_board_set_market(p, p->ever_up ? BB_MARKET_STALE : BB_MARKET_CONNECTING,
						"market refused hello: %s",
						r->error->message ? r->error->message : "");
			p->session = SESSION_DOWN;
			break;
		}
		session_up(p, r->result_case == RAAS__REPLY__RESULT_HELLO ? r->hello : NULL);
		break;
	case PEND_RESYNC: {
		struct priced_bid *b = priced_bid_find(p, q->bid_id);
		Raas__Bid *bid = b ? raas__bid__unpack(NULL, b->len, b->packed) : NULL;
		if (bid) {
			if (err) {
				log_warn("re-sync of bid %s refused: %s", q->bid_id,
					 r->error->message ? r->error->message : raas_strerror(err));
				priced_board_set_bid(p, bid, BB_BID_REFUSED, err, 0);
				priced_bid_forget(p, q->bid_id);
			} else {
				priced_board_set_bid(p, bid, BB_BID_ACTIVE, 0,
						     r->result_case == RAAS__REPLY__RESULT_BID
							     ? r->bid->effective_round
							     : 0);
			}
			raas__bid__free_unpacked(bid, NULL);
		}
		break;
	}
	case PEND_QUERY_BIDS:
		if (!err && r->result_case == RAAS__REPLY__RESULT_QUERY)
			priced_bids_reconcile(p, r->query->bids, r->query->n_bids);
		break;
	case PEND_QUERY_HOLDINGS:
		if (!err && r->result_case == RAAS__REPLY__RESULT_QUERY)
			priced_board_set_holdings(p, r->query->holdings, r->query->n_holdings,
						  bb_writer_body(p->board)->state.round);
		break;
	case PEND_QUERY_ACCOUNT:
		if (q->rid == p->ping_rid)
			p->ping_rid = 0;
		/* A notice that overtook the answer may or may not be in it: ask again later
		 * (invariant 7). */
		if (p->notices != q->notices_at_send)
			p->account_stale = true;
		else if (!err && r->result_case == RAAS__REPLY__RESULT_QUERY && r->query->account) {
			p->account_stale = false;
			struct bb_state *s = &bb_writer_body(p->board)->state;
			const Raas__Account *a = r->query->account;
			int64_t balance = a->budget < 0 ? -1 : a->budget - a->charged_total;
			if (s->charged_total != a->charged_total || s->balance != balance) {
				s->charged_total = a->charged_total;
				s->balance = balance;
				p->dirty = true;
			}
		}
		break;
	}
	pending_free(q);
}

void priced_market_on_dealer(struct priced *p)
{
	for (int i = 0; i < 256; i++) {
		struct tp_msg msg;
		char why[200];
		int err = tp_recv(p->dealer, ZMQ_DONTWAIT, WIRE_MAX_BYTES, &msg, why, sizeof(why));
		if (err == -EAGAIN || err == -EINTR)
			return;
		if (err) {
			log_warn("market sent something undecodable: %s", why);
			continue;
		}
		p->last_rx_mono = clk_mono(p->clk);
		switch (msg.env->body_case) {
		case RAAS__ENVELOPE__BODY_REPLY:
			on_reply(p, msg.env);
			break;
		case RAAS__ENVELOPE__BODY_NOTICE:
			priced_board_on_notice(p, msg.env->notice);
			break;
		case RAAS__ENVELOPE__BODY_PRICE:
			priced_board_on_price(p, msg.env->price);
			break;
		default:
			log_warn("market sent an unexpected %s", wire_body_name(msg.env));
			break;
		}
		tp_msg_clear(&msg);
	}
}

void priced_market_on_sub(struct priced *p)
{
	for (int i = 0; i < 1024; i++) {
		struct tp_msg msg;
		char why[200];
		int err = tp_recv(p->sub, ZMQ_DONTWAIT, WIRE_MAX_BYTES, &msg, why, sizeof(why));
		if (err == -EAGAIN || err == -EINTR)
			return;
		if (err) {
			log_warn("price feed sent something undecodable: %s", why);
			continue;
		}
		if (msg.env->body_case == RAAS__ENVELOPE__BODY_PRICE)
			priced_board_on_price(p, msg.env->price);
		else
			log_warn("price feed topic %s carried a %s", msg.topic, wire_body_name(msg.env));
		tp_msg_clear(&msg);
	}
}

void priced_market_on_monitor(struct priced *p, void *mon)
{
	for (;;) {
		zmq_msg_t m;
		uint16_t ev = 0;
		zmq_msg_init(&m);
		if (zmq_msg_recv(&m, mon, ZMQ_DONTWAIT) < 0) {
			zmq_msg_close(&m);
			return;
		}
		if (zmq_msg_size(&m) >= 6)
			memcpy(&ev, zmq_msg_data(&m), sizeof(ev));
		int more = zmq_msg_more(&m);
		zmq_msg_close(&m);
		while (more) { /* the endpoint frame */
			zmq_msg_init(&m);
			if (zmq_msg_recv(&m, mon, ZMQ_DONTWAIT) < 0) {
				zmq_msg_close(&m);
				break;
			}
			more = zmq_msg_more(&m);
			zmq_msg_close(&m);
		}
		bool dealer = mon == p->mon_dealer;
		switch (ev) {
		case ZMQ_EVENT_HANDSHAKE_SUCCEEDED:
			if (dealer)
				connected(p);
			break;
		case ZMQ_EVENT_DISCONNECTED:
			if (dealer)
				lost(p, "connection to the market lost");
			else if (p->session == SESSION_UP)
				priced_board_set_market(p, BB_MARKET_STALE, "price feed disconnected");
			break;
		case ZMQ_EVENT_HANDSHAKE_FAILED_AUTH:
			log_error("%s refused the tenant's key (%s): is the tenant registered?",
				  dealer ? p->cfg.market : p->cfg.prices, p->key.public_key);
			priced_board_set_market(p, p->ever_up ? BB_MARKET_STALE : BB_MARKET_CONNECTING,
						"the market refused this tenant's key");
			break;
		case ZMQ_EVENT_HANDSHAKE_FAILED_PROTOCOL:
		case ZMQ_EVENT_HANDSHAKE_FAILED_NO_DETAIL:
			log_warn("%s: handshake failed", dealer ? p->cfg.market : p->cfg.prices);
			break;
		default:
			break;
		}
	}
}

static int64_t stale_after(const struct priced *p)
{
	if (p->cfg.stale_after_ns > 0)
		return p->cfg.stale_after_ns;
	int64_t t = 3 * p->round_ns;
	return t > NS_PER_S ? t : NS_PER_S;
}

void priced_market_tick(struct priced *p)
{
	int64_t now = clk_mono(p->clk);
	struct bb_state *s = &bb_writer_body(p->board)->state;

	/* Deadlines. */
	for (struct priced_pending **pp = &p->pending; *pp;) {
		struct priced_pending *q = *pp;
		if (now < q->deadline_mono) {
			pp = &q->next;
			continue;
		}
		*pp = q->next;
		if (q->kind == PEND_APP) {
			priced_api_reply_error(p, &q->route, q->app_rid,
					       RAAS__ERROR_CODE__ERROR_UNAVAILABLE,
					       "the market did not answer within %.1f s (%s); %s",
					       p->cfg.request_timeout_ns / 1e9,
					       bb_market_state_name(s->market_state),
					       q->sent ? "the request may have been applied: check the board"
						       : "the request was not sent");
		} else if (q->kind == PEND_HELLO && p->session == SESSION_HELLO) {
			p->session = SESSION_DOWN; /* say hello again below */
		} else if (q->kind == PEND_QUERY_ACCOUNT && q->rid == p->ping_rid) {
			p->ping_rid = 0;
			pending_free(q);
			lost(p, "the market does not answer");
			continue;
		}
		pending_free(q);
	}

	if (p->session == SESSION_DOWN)
		connected(p); /* hello goes out once a connection is up */

	if (p->session == SESSION_UP) {
		if (p->nsubs && s->market_state == BB_MARKET_FRESH &&
		    now - p->last_price_mono > stale_after(p))
			priced_board_set_market(p, BB_MARKET_STALE, "no price for %.1f s",
						(now - p->last_price_mono) / 1e9);
		if (!p->ping_rid && (now - p->last_rx_mono > p->cfg.ping_interval_ns ||
				     (p->account_stale && now - p->ping_sent_mono > NS_PER_S)))
			send_query(p, RAAS__QUERY__WHAT__WHAT_ACCOUNT, PEND_QUERY_ACCOUNT);
	}
	if (now - p->cpus_checked_mono > NS_PER_S)
		priced_board_update_cpus(p);
	flush(p);
}

void priced_market_subscribe(struct priced *p, uint32_t resource, const char *host)
{
	char topic[TP_TOPIC_MAX];

	if (!host || !host[0])
		host = "*";
	if (priced_subscribed(p, resource, host) || p->nsubs >= PRICED_MAX_SUBS)
		return;
	p->subs[p->nsubs].resource = resource;
	bb_set_string(p->subs[p->nsubs].host, sizeof(p->subs[0].host), host);
	topic_of(&p->subs[p->nsubs], topic, sizeof(topic));
	p->nsubs++;
	if (p->sub && tp_subscribe(p->sub, topic) == 0)
		log_info("subscribed to %s (an app trades it)", topic);
}

void priced_market_forward(struct priced *p, const struct tp_route *route, Raas__Envelope *e)
{
	struct priced_pending *q;
	uint64_t app_rid = e->request_id;

	q = enqueue(p, PEND_APP, e, p->cfg.request_timeout_ns);
	e->request_id = app_rid;
	if (!q) {
		priced_api_reply_error(p, route, app_rid, RAAS__ERROR_CODE__ERROR_INTERNAL,
				       "nom-priced is out of memory");
		return;
	}
	q->route = *route;
	q->app_rid = app_rid;
	if (e->body_case == RAAS__ENVELOPE__BODY_BID) {
		bb_set_string(q->bid_id, sizeof(q->bid_id), e->bid->bid_id);
		priced_board_set_bid(p, e->bid, BB_BID_SENDING, 0, 0);
	} else if (e->body_case == RAAS__ENVELOPE__BODY_CANCEL) {
		bb_set_string(q->bid_id, sizeof(q->bid_id), e->cancel->bid_id);
	}
	flush(p);
}
