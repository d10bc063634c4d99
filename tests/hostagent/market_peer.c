/* market_peer.c: the scripted market host API of market_peer.h. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <errno.h>
#include <zmq.h>

#include "common/transport.h"
#include "common/wire.h"
#include "market_peer.h"
#include "test.h"

struct mp {
	void *ctx;
	void *sock;
	int port;
	struct tp_keypair server, agent;
	struct tp_zap *zap;
	struct tp_route agent_route;
	char agent_user[TP_ID_MAX];
	int registrations;
	Raas__Envelope *reg, *ack, *meters;
	uint8_t *last_set; /* the current allocation set, re-sent to a host that registers */
	size_t last_set_len;
};

/* ZAP: only the agent's key gets in, as "host:nshost". */
static int lookup(void *arg, const char *domain, const char *public_key, char *identity,
		  size_t id_len)
{
	struct mp *m = arg;
	if (strcmp(domain, "host") != 0 || strcmp(public_key, m->agent.public_key) != 0)
		return -1;
	snprintf(identity, id_len, "host:nshost");
	return 0;
}

static void bind_socket(struct mp *m)
{
	char ep[64], bound[128];
	if (m->port == 0)
		snprintf(ep, sizeof(ep), "tcp://127.0.0.1:*");
	else
		snprintf(ep, sizeof(ep), "tcp://127.0.0.1:%d", m->port);
	for (int tries = 0;
	     tp_bind(m->ctx, ZMQ_ROUTER, ep, &m->server, "host", &m->sock, bound, sizeof(bound));
	     tries++) {
		if (tries > 50)
			TEST_FAIL("market peer cannot bind %s: %s", ep, zmq_strerror(errno));
		struct timespec ts = {0, 100000000};
		nanosleep(&ts, NULL);
	}
	m->port = atoi(strrchr(bound, ':') + 1);
}

struct mp *mp_create(int port, const char *keydir)
{
	struct mp *m = calloc(1, sizeof(*m));
	m->ctx = tp_context_create(0, 1);
	m->port = port;
	if (tp_keypair_generate(&m->server) || tp_keypair_generate(&m->agent))
		TEST_MISSING("libzmq without CURVE (libzmq5 from scripts/install-deps has it)");
	if (tp_key_save(keydir, "market", &m->server, true) ||
	    tp_key_save(keydir, "agent", &m->agent, true))
		TEST_FAIL("cannot write key files into %s", keydir);
	if (tp_zap_create(m->ctx, lookup, m, &m->zap))
		TEST_FAIL("cannot start the ZAP handler");
	bind_socket(m);
	return m;
}

void mp_stop(struct mp *m)
{
	tp_close(m->sock);
	m->sock = NULL;
	m->agent_route.len = 0;
}

void mp_restart(struct mp *m)
{
	mp_stop(m);
	bind_socket(m);
}

void mp_destroy(struct mp *m)
{
	mp_stop(m);
	tp_zap_destroy(m->zap);
	tp_context_destroy(m->ctx);
	wire_free(m->reg);
	wire_free(m->ack);
	wire_free(m->meters);
	free(m->last_set);
	free(m);
}

int mp_port(const struct mp *m)
{
	return m->port;
}

static void send_bytes(struct mp *m, const uint8_t *buf, size_t len)
{
	if (!m->agent_route.len || !m->sock)
		return;
	tp_send_raw(m->sock, &m->agent_route, buf, len, ZMQ_DONTWAIT);
}

static void send_envelope(struct mp *m, Raas__Envelope *e)
{
	uint8_t *buf;
	size_t len;
	if (wire_encode(e, &buf, &len))
		return;
	send_bytes(m, buf, len);
	free(buf);
}

static void reply_ok(struct mp *m, uint64_t request_id)
{
	Raas__Envelope e;
	Raas__Reply r = RAAS__REPLY__INIT;
	wire_envelope_init(&e, request_id);
	e.body_case = RAAS__ENVELOPE__BODY_REPLY;
	e.reply = &r;
	send_envelope(m, &e);
}

enum mp_event mp_poll(struct mp *m, int timeout_ms)
{
	zmq_pollitem_t items[2] = {{.socket = tp_zap_socket(m->zap), .events = ZMQ_POLLIN},
				   {.socket = m->sock, .events = ZMQ_POLLIN}};
	if (zmq_poll(items, m->sock ? 2 : 1, timeout_ms) <= 0)
		return MP_NONE;
	if (items[0].revents)
		tp_zap_handle(m->zap);
	if (!m->sock || !items[1].revents)
		return MP_NONE;
	struct tp_msg msg;
	char why[256];
	int ret = tp_recv(m->sock, ZMQ_DONTWAIT, 1 << 20, &msg, why, sizeof(why));
	if (ret == -EAGAIN)
		return MP_NONE;
	if (ret)
		TEST_FAIL("the agent sent a bad message: %s", why);
	if (strcmp(msg.user_id, "host:nshost") != 0)
		TEST_FAIL("a message from \"%s\", not the agent's key", msg.user_id);
	Raas__Envelope *e = msg.env;
	msg.env = NULL;
	struct tp_route from = msg.route;
	tp_msg_clear(&msg);
	switch (e->body_case) {
	case RAAS__ENVELOPE__BODY_HOST_REGISTER:
		m->agent_route = from;
		m->registrations++;
		reply_ok(m, e->request_id);
		/* Like the market: a host that (re-)registers gets the current allocation. */
		if (m->last_set)
			send_bytes(m, m->last_set, m->last_set_len);
		wire_free(m->reg);
		m->reg = e;
		return MP_REGISTER;
	case RAAS__ENVELOPE__BODY_HEARTBEAT:
		m->agent_route = from;
		reply_ok(m, e->request_id);
		wire_free(e);
		return MP_HEARTBEAT;
	case RAAS__ENVELOPE__BODY_ALLOCATION_ACK:
		wire_free(m->ack);
		m->ack = e;
		return MP_ACK;
	case RAAS__ENVELOPE__BODY_METERS:
		wire_free(m->meters);
		m->meters = e;
		return MP_METERS;
	default:
		wire_free(e);
		return MP_OTHER;
	}
}

static int64_t now_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

bool mp_wait(struct mp *m, enum mp_event kind, int timeout_ms)
{
	int64_t end = now_ms() + timeout_ms;
	for (int64_t left = timeout_ms; left > 0; left = end - now_ms())
		if (mp_poll(m, (int)left) == kind)
			return true;
	return false;
}

void mp_send_set(struct mp *m, uint64_t round, const char *host, const struct alloc *al,
		 size_t n)
{
	free(m->last_set);
	m->last_set = NULL;
	set_bytes(round, host, al, n, &m->last_set, &m->last_set_len);
	send_bytes(m, m->last_set, m->last_set_len);
}

const Raas__HostRegister *mp_last_register(const struct mp *m)
{
	return m->reg ? m->reg->host_register : NULL;
}

const Raas__AllocationAck *mp_last_ack(const struct mp *m)
{
	return m->ack ? m->ack->allocation_ack : NULL;
}

const Raas__MeterReport *mp_last_meters(const struct mp *m)
{
	return m->meters ? m->meters->meters : NULL;
}

int mp_registrations(const struct mp *m)
{
	return m->registrations;
}

int64_t mp_tx_bytes(const struct mp *m, const char *tenant)
{
	const Raas__MeterReport *r = mp_last_meters(m);
	for (size_t i = 0; r && i < r->n_meters; i++)
		if (strcmp(r->meters[i]->tenant, tenant) == 0)
			return (int64_t)r->meters[i]->tx_bytes;
	return -1;
}
