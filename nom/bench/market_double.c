/* market_double.c: the scriptable stand-in for the market's tenant side (market_double.h). */
#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <zmq.h>

#include "common/clock.h"
#include "common/transport.h"
#include "market_double.h"

#define MAX_BIDS 128
#define MAX_HOLD 32
#define MAX_CACHE 512
#define NBODY 32

struct md_bid {
	char id[64];
	Raas__Resource resource;
	char host[64];
	int64_t min, max, price;
};

struct md_hold {
	Raas__Resource resource;
	char host[64];
	int64_t quantity, price;
};

struct md_cached {
	uint64_t rid;
	uint8_t *buf;
	size_t len;
};

enum cmd { CMD_NONE, CMD_PUBLISH, CMD_NOTICE, CMD_CRASH, CMD_RESTART, CMD_STOP };

struct mdouble {
	pthread_t thread;
	pthread_mutex_t lock;
	pthread_cond_t done;
	void *ctx;
	struct tp_zap *zap;
	void *router, *pub;
	struct tp_keypair market, tenant;
	char tenant_name[64];
	char tenant_ep[128], price_ep[128];
	struct tp_route tenant_route;
	bool have_route;

	enum md_mode mode;
	Raas__ErrorCode refuse_code;
	struct md_bid bids[MAX_BIDS];
	int nbids;
	struct md_hold hold[MAX_HOLD];
	int nhold;
	struct md_cached cache[MAX_CACHE];
	int ncache;
	int count[NBODY];
	uint64_t last_rid[NBODY];
	uint64_t round;
	int64_t charged_total;
	int own_id_refusals;

	/* the command the test thread waits on */
	enum cmd cmd;
	Raas__Resource c_res;
	char c_host[64];
	int64_t c_price, c_charged;
	uint64_t c_round;
};

static int lookup(void *arg, const char *domain, const char *key, char *id, size_t len)
{
	struct mdouble *md = arg;

	if (strcmp(key, md->tenant.public_key) != 0)
		return -1;
	snprintf(id, len, "tenant:%s", md->tenant_name);
	return 0;
}

static int bind_all(struct mdouble *md, const char *tenant_ep, const char *price_ep)
{
	/* After a crash the old listening sockets close asynchronously: retry for a while. */
	for (int attempt = 0; attempt < 200; attempt++) {
		int err = tp_bind(md->ctx, ZMQ_ROUTER, tenant_ep, &md->market, "tenant", &md->router,
				  md->tenant_ep, sizeof(md->tenant_ep));
		if (!err) {
			err = tp_bind(md->ctx, ZMQ_PUB, price_ep, &md->market, "prices", &md->pub,
				      md->price_ep, sizeof(md->price_ep));
			if (!err)
				return 0;
			tp_close(md->router);
			md->router = NULL;
		}
		if (err != -EADDRINUSE)
			return err;
		usleep(10000);
	}
	return -EADDRINUSE;
}

static void reply(struct mdouble *md, const struct tp_route *route, uint64_t rid,
		  Raas__Reply *r)
{
	Raas__Envelope e;
	uint8_t *buf;
	size_t len;

	wire_envelope_init(&e, rid);
	e.body_case = RAAS__ENVELOPE__BODY_REPLY;
	e.reply = r;
	if (wire_encode(&e, &buf, &len) != 0)
		return;
	tp_send_raw(md->router, route, buf, len, ZMQ_DONTWAIT);
	if (md->ncache < MAX_CACHE) {
		md->cache[md->ncache].rid = rid;
		md->cache[md->ncache].buf = buf;
		md->cache[md->ncache].len = len;
		md->ncache++;
	} else {
		free(buf);
	}
}

static void reply_error(struct mdouble *md, const struct tp_route *route, uint64_t rid,
			Raas__ErrorCode code, const char *msg)
{
	Raas__Reply r;
	Raas__Error er;

	raas__reply__init(&r);
	raas__error__init(&er);
	er.code = code;
	er.message = (char *)msg;
	r.error = &er;
	reply(md, route, rid, &r);
}

static struct md_hold *hold_of(struct mdouble *md, Raas__Resource res, const char *host,
			       bool create)
{
	for (int i = 0; i < md->nhold; i++)
		if (md->hold[i].resource == res && strcmp(md->hold[i].host, host) == 0)
			return &md->hold[i];
	if (!create || md->nhold == MAX_HOLD)
		return NULL;
	struct md_hold *h = &md->hold[md->nhold++];
	memset(h, 0, sizeof(*h));
	h->resource = res;
	snprintf(h->host, sizeof(h->host), "%s", host);
	return h;
}

static void fill_allocation(struct mdouble *md, Raas__Allocation *a, const struct md_hold *h)
{
	raas__allocation__init(a);
	a->tenant = md->tenant_name;
	a->resource = h->resource;
	a->host = (char *)h->host;
	a->quantity = h->quantity;
	a->unit_price = h->price;
	a->payment_per_hour = h->price * h->quantity;
}

static void on_query(struct mdouble *md, const struct tp_route *route, uint64_t rid,
		     const Raas__Query *q)
{
	Raas__Reply r;
	Raas__QueryResult res;
	Raas__Account acc;
	Raas__Bid bids[MAX_BIDS], *bidp[MAX_BIDS];
	Raas__Allocation al[MAX_HOLD], *alp[MAX_HOLD];

	raas__reply__init(&r);
	raas__query_result__init(&res);
	switch (q->what) {
	case RAAS__QUERY__WHAT__WHAT_BIDS:
		for (int i = 0; i < md->nbids; i++) {
			raas__bid__init(&bids[i]);
			bids[i].bid_id = md->bids[i].id;
			bids[i].resource = md->bids[i].resource;
			bids[i].host = md->bids[i].host;
			bids[i].min_quantity = md->bids[i].min;
			bids[i].max_quantity = md->bids[i].max;
			bids[i].unit_price = md->bids[i].price;
			bidp[i] = &bids[i];
		}
		res.n_bids = (size_t)md->nbids;
		res.bids = bidp;
		break;
	case RAAS__QUERY__WHAT__WHAT_HOLDINGS: {
		size_t n = 0;
		for (int i = 0; i < md->nhold; i++)
			if (md->hold[i].quantity > 0) {
				fill_allocation(md, &al[n], &md->hold[i]);
				alp[n] = &al[n];
				n++;
			}
		res.n_holdings = n;
		res.holdings = alp;
		break;
	}
	case RAAS__QUERY__WHAT__WHAT_ACCOUNT:
		raas__account__init(&acc);
		acc.tenant = md->tenant_name;
		acc.charged_total = md->charged_total;
		acc.budget = -1;
		res.account = &acc;
		break;
	default:
		break;
	}
	r.result_case = RAAS__REPLY__RESULT_QUERY;
	r.query = &res;
	reply(md, route, rid, &r);
}

static void on_request(struct mdouble *md, const struct tp_msg *m)
{
	const Raas__Envelope *e = m->env;
	Raas__Reply r;

	if ((int)e->body_case < NBODY) {
		md->count[e->body_case]++;
		md->last_rid[e->body_case] = e->request_id;
	}
	md->tenant_route = m->route;
	md->have_route = true;
	for (int i = 0; i < md->ncache; i++) /* a retry: the first answer again */
		if (md->cache[i].rid == e->request_id) {
			tp_send_raw(md->router, &m->route, md->cache[i].buf, md->cache[i].len,
				    ZMQ_DONTWAIT);
			return;
		}
	if (md->mode == MD_IGNORE && e->body_case != RAAS__ENVELOPE__BODY_HELLO)
		return;
	if (md->mode == MD_REFUSE && (e->body_case == RAAS__ENVELOPE__BODY_BID ||
				      e->body_case == RAAS__ENVELOPE__BODY_ACQUIRE)) {
		reply_error(md, &m->route, e->request_id, md->refuse_code, "refused by the double");
		return;
	}
	raas__reply__init(&r);
	switch (e->body_case) {
	case RAAS__ENVELOPE__BODY_HELLO: {
		Raas__HelloReply h;
		raas__hello_reply__init(&h);
		h.tenant = md->tenant_name;
		h.round_ns = NS_PER_S;
		h.round = md->round;
		h.next_round_wall_ns = clk_wall(&clk_real) + NS_PER_S;
		h.server = "market-double/0";
		r.result_case = RAAS__REPLY__RESULT_HELLO;
		r.hello = &h;
		reply(md, &m->route, e->request_id, &r);
		break;
	}
	case RAAS__ENVELOPE__BODY_BID: {
		const Raas__Bid *b = e->bid;
		struct md_bid *d = NULL;
		if (strncmp(b->bid_id, "acquire/", 8) == 0) { /* as raas-marketd */
			md->own_id_refusals++;
			reply_error(md, &m->route, e->request_id, RAAS__ERROR_CODE__ERROR_MALFORMED,
				    "bid.bid_id: ids starting \"acquire/\" are the market's own");
			break;
		}
		for (int i = 0; i < md->nbids; i++)
			if (strcmp(md->bids[i].id, b->bid_id) == 0)
				d = &md->bids[i];
		if (!d && md->nbids < MAX_BIDS)
			d = &md->bids[md->nbids++];
		if (d) {
			snprintf(d->id, sizeof(d->id), "%s", b->bid_id);
			d->resource = b->resource;
			snprintf(d->host, sizeof(d->host), "%s", b->host);
			d->min = b->min_quantity;
			d->max = b->max_quantity;
			d->price = b->unit_price;
		}
		Raas__BidAck ack;
		raas__bid_ack__init(&ack);
		ack.bid_id = b->bid_id;
		ack.effective_round = md->round + 1;
		r.result_case = RAAS__REPLY__RESULT_BID;
		r.bid = &ack;
		reply(md, &m->route, e->request_id, &r);
		break;
	}
	case RAAS__ENVELOPE__BODY_ACQUIRE: {
		struct md_hold *h = hold_of(md, e->acquire->resource, e->acquire->host, true);
		Raas__Allocation a;
		h->quantity += e->acquire->quantity;
		/* Like raas-marketd, record the acquire as a bid of the market's own. */
		if (md->nbids < MAX_BIDS) {
			struct md_bid *d = &md->bids[md->nbids++];
			snprintf(d->id, sizeof(d->id), "acquire/%s/%s",
				 wire_resource_name(e->acquire->resource), e->acquire->host);
			for (int i = 0; i < md->nbids - 1; i++)
				if (strcmp(md->bids[i].id, d->id) == 0)
					md->nbids--; /* already there */
			d = &md->bids[md->nbids - 1];
			d->resource = e->acquire->resource;
			snprintf(d->host, sizeof(d->host), "%s", e->acquire->host);
			d->min = d->max = h->quantity;
			d->price = e->acquire->max_unit_price;
		}
		fill_allocation(md, &a, h);
		a.quantity = e->acquire->quantity;
		r.result_case = RAAS__REPLY__RESULT_ACQUIRED;
		r.acquired = &a;
		reply(md, &m->route, e->request_id, &r);
		break;
	}
	case RAAS__ENVELOPE__BODY_RELEASE: {
		struct md_hold *h = hold_of(md, e->release->resource, e->release->host, false);
		if (h)
			h->quantity = e->release->quantity == 0 || e->release->quantity >= h->quantity
					      ? 0
					      : h->quantity - e->release->quantity;
		char id[160];
		snprintf(id, sizeof(id), "acquire/%s/%s", wire_resource_name(e->release->resource),
			 e->release->host);
		for (int i = 0; i < md->nbids; i++)
			if (strcmp(md->bids[i].id, id) == 0 && (!h || h->quantity == 0))
				md->bids[i] = md->bids[--md->nbids];
		reply(md, &m->route, e->request_id, &r);
		break;
	}
	case RAAS__ENVELOPE__BODY_CANCEL:
		for (int i = 0; i < md->nbids; i++)
			if (strcmp(md->bids[i].id, e->cancel->bid_id) == 0) {
				md->bids[i] = md->bids[--md->nbids];
				reply(md, &m->route, e->request_id, &r);
				return;
			}
		reply_error(md, &m->route, e->request_id, RAAS__ERROR_CODE__ERROR_NOT_FOUND,
			    "no such bid");
		break;
	case RAAS__ENVELOPE__BODY_QUERY:
		on_query(md, &m->route, e->request_id, e->query);
		break;
	default:
		reply_error(md, &m->route, e->request_id, RAAS__ERROR_CODE__ERROR_MALFORMED,
			    "not a tenant request");
	}
}

static void do_publish(struct mdouble *md)
{
	Raas__Envelope e;
	Raas__PriceUpdate u;
	char topic[160];

	wire_envelope_init(&e, 0);
	raas__price_update__init(&u);
	u.round = md->c_round;
	u.resource = md->c_res;
	u.host = md->c_host;
	u.unit_price = md->c_price;
	u.round_ns = NS_PER_S;
	u.next_round_wall_ns = clk_wall(&clk_real) + NS_PER_S;
	u.published_wall_ns = clk_wall(&clk_real);
	u.supply = 1000;
	e.body_case = RAAS__ENVELOPE__BODY_PRICE;
	e.price = &u;
	if (md->c_round > md->round)
		md->round = md->c_round;
	for (int i = 0; i < md->nhold; i++)
		if (md->hold[i].resource == md->c_res && strcmp(md->hold[i].host, md->c_host) == 0)
			md->hold[i].price = md->c_price;
	snprintf(topic, sizeof(topic), "price/%s/%s", wire_resource_name(md->c_res), md->c_host);
	if (md->pub)
		tp_publish(md->pub, topic, &e);
}

static void do_notice(struct mdouble *md)
{
	Raas__Envelope e;
	Raas__AllocationNotice n;
	Raas__Allocation al[MAX_HOLD], *alp[MAX_HOLD];
	size_t k = 0;

	if (!md->have_route || !md->router)
		return;
	for (int i = 0; i < md->nhold; i++)
		if (md->hold[i].quantity > 0) {
			fill_allocation(md, &al[k], &md->hold[i]);
			alp[k] = &al[k];
			k++;
		}
	wire_envelope_init(&e, 0);
	raas__allocation_notice__init(&n);
	n.round = md->c_round;
	n.holdings = alp;
	n.n_holdings = k;
	n.charged = md->c_charged;
	n.balance = -1;
	md->charged_total += md->c_charged;
	e.body_case = RAAS__ENVELOPE__BODY_NOTICE;
	e.notice = &n;
	tp_send(md->router, &md->tenant_route, &e, ZMQ_DONTWAIT);
}

static void *run(void *arg)
{
	struct mdouble *md = arg;

	pthread_mutex_lock(&md->lock);
	for (;;) {
		enum cmd c = md->cmd;
		if (c != CMD_NONE) {
			switch (c) {
			case CMD_PUBLISH:
				do_publish(md);
				break;
			case CMD_NOTICE:
				do_notice(md);
				break;
			case CMD_CRASH:
				tp_close(md->router);
				tp_close(md->pub);
				md->router = md->pub = NULL;
				break;
			case CMD_RESTART: {
				char t[128], p[128];
				snprintf(t, sizeof(t), "%s", md->tenant_ep);
				snprintf(p, sizeof(p), "%s", md->price_ep);
				if (bind_all(md, t, p) != 0)
					fprintf(stderr, "market double: cannot bind again\n");
				break;
			}
			default:
				break;
			}
			md->cmd = CMD_NONE;
			pthread_cond_broadcast(&md->done);
			if (c == CMD_STOP)
				break;
		}
		zmq_pollitem_t items[2] = {
			{.socket = tp_zap_socket(md->zap), .events = ZMQ_POLLIN},
			{.socket = md->router, .events = ZMQ_POLLIN},
		};
		pthread_mutex_unlock(&md->lock);
		zmq_poll(items, md->router ? 2 : 1, 5);
		pthread_mutex_lock(&md->lock);
		tp_zap_handle(md->zap);
		while (md->router) {
			struct tp_msg m;
			char why[200];
			int err = tp_recv(md->router, ZMQ_DONTWAIT, WIRE_MAX_BYTES, &m, why, sizeof(why));
			if (err == -EAGAIN || err == -EINTR)
				break;
			if (err) {
				if (m.route.len)
					reply_error(md, &m.route, 0, RAAS__ERROR_CODE__ERROR_MALFORMED, why);
				continue;
			}
			on_request(md, &m);
			tp_msg_clear(&m);
		}
	}
	pthread_mutex_unlock(&md->lock);
	return NULL;
}

static void command(struct mdouble *md, enum cmd c)
{
	/* caller holds the lock */
	md->cmd = c;
	while (md->cmd != CMD_NONE)
		pthread_cond_wait(&md->done, &md->lock);
}

int md_start(const char *keydir, const char *tenant, struct mdouble **out)
{
	struct mdouble *md = calloc(1, sizeof(*md));
	struct tp_keypair stranger;
	int err;

	if (!md)
		return -ENOMEM;
	snprintf(md->tenant_name, sizeof(md->tenant_name), "%s", tenant);
	if ((err = tp_keypair_generate(&md->market)) || (err = tp_keypair_generate(&md->tenant)) ||
	    (err = tp_keypair_generate(&stranger)) ||
	    (err = tp_key_save(keydir, "market", &md->market, true)) ||
	    (err = tp_key_save(keydir, tenant, &md->tenant, true)) ||
	    (err = tp_key_save(keydir, "stranger", &stranger, true)))
		goto fail;
	md->ctx = tp_context_create(0, 1);
	if (!md->ctx) {
		err = -errno;
		goto fail;
	}
	if ((err = tp_zap_create(md->ctx, lookup, md, &md->zap)))
		goto fail;
	if ((err = bind_all(md, "tcp://127.0.0.1:*", "tcp://127.0.0.1:*")))
		goto fail;
	pthread_mutex_init(&md->lock, NULL);
	pthread_cond_init(&md->done, NULL);
	pthread_create(&md->thread, NULL, run, md);
	*out = md;
	return 0;
fail:
	free(md);
	return err;
}

void md_stop(struct mdouble *md)
{
	pthread_mutex_lock(&md->lock);
	command(md, CMD_STOP);
	pthread_mutex_unlock(&md->lock);
	pthread_join(md->thread, NULL);
	tp_close(md->router);
	tp_close(md->pub);
	tp_zap_destroy(md->zap);
	tp_context_destroy(md->ctx);
	for (int i = 0; i < md->ncache; i++)
		free(md->cache[i].buf);
	free(md);
}

const char *md_tenant_endpoint(const struct mdouble *md)
{
	return md->tenant_ep;
}

const char *md_price_endpoint(const struct mdouble *md)
{
	return md->price_ep;
}

void md_publish(struct mdouble *md, Raas__Resource r, const char *host, int64_t unit_price,
		uint64_t round)
{
	pthread_mutex_lock(&md->lock);
	md->c_res = r;
	snprintf(md->c_host, sizeof(md->c_host), "%s", host);
	md->c_price = unit_price;
	md->c_round = round;
	command(md, CMD_PUBLISH);
	pthread_mutex_unlock(&md->lock);
}

void md_notice(struct mdouble *md, uint64_t round, int64_t charged)
{
	pthread_mutex_lock(&md->lock);
	md->c_round = round;
	md->c_charged = charged;
	command(md, CMD_NOTICE);
	pthread_mutex_unlock(&md->lock);
}

void md_crash(struct mdouble *md)
{
	pthread_mutex_lock(&md->lock);
	command(md, CMD_CRASH);
	pthread_mutex_unlock(&md->lock);
}

void md_restart(struct mdouble *md)
{
	pthread_mutex_lock(&md->lock);
	command(md, CMD_RESTART);
	pthread_mutex_unlock(&md->lock);
}

void md_set_mode(struct mdouble *md, enum md_mode mode, Raas__ErrorCode code)
{
	pthread_mutex_lock(&md->lock);
	md->mode = mode;
	md->refuse_code = code;
	pthread_mutex_unlock(&md->lock);
}

int md_count(struct mdouble *md, int body_case)
{
	pthread_mutex_lock(&md->lock);
	int n = body_case >= 0 && body_case < NBODY ? md->count[body_case] : 0;
	pthread_mutex_unlock(&md->lock);
	return n;
}

uint64_t md_last_rid(struct mdouble *md, int body_case)
{
	pthread_mutex_lock(&md->lock);
	uint64_t rid = body_case >= 0 && body_case < NBODY ? md->last_rid[body_case] : 0;
	pthread_mutex_unlock(&md->lock);
	return rid;
}

bool md_has_bid(struct mdouble *md, const char *bid_id, int64_t *price)
{
	bool found = false;

	pthread_mutex_lock(&md->lock);
	for (int i = 0; i < md->nbids; i++)
		if (strcmp(md->bids[i].id, bid_id) == 0) {
			found = true;
			if (price)
				*price = md->bids[i].price;
		}
	pthread_mutex_unlock(&md->lock);
	return found;
}

int md_own_id_refusals(struct mdouble *md)
{
	pthread_mutex_lock(&md->lock);
	int n = md->own_id_refusals;
	pthread_mutex_unlock(&md->lock);
	return n;
}

void md_forget_bids(struct mdouble *md)
{
	pthread_mutex_lock(&md->lock);
	md->nbids = 0;
	pthread_mutex_unlock(&md->lock);
}

int64_t md_holding(struct mdouble *md, Raas__Resource r, const char *host)
{
	pthread_mutex_lock(&md->lock);
	struct md_hold *h = hold_of(md, r, host, false);
	int64_t q = h ? h->quantity : 0;
	pthread_mutex_unlock(&md->lock);
	return q;
}
