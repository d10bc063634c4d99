/* market_peer.c: the scripted market host API of market_peer.h. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <zmq.h>

#include "common/wire.h"
#include "market_peer.h"
#include "test.h"

struct mp {
	void *ctx;
	void *sock;
	int port;
	char server_secret[41];
	uint8_t agent_id[256];
	size_t agent_id_len;
	int registrations;
	Raas__Envelope *reg, *ack, *meters;
	uint8_t *last_set; /* the current allocation set, re-sent to a host that registers */
	size_t last_set_len;
};

static void write_key(const char *dir, const char *name, const char *key)
{
	char path[512];
	snprintf(path, sizeof(path), "%s/%s", dir, name);
	FILE *f = fopen(path, "w");
	if (!f)
		TEST_FAIL("cannot write %s", path);
	fprintf(f, "# CURVE key (test)\n%s\n", key);
	fclose(f);
}

static void bind_socket(struct mp *m)
{
	int one = 1, zero = 0;
	char ep[64];
	size_t len = sizeof(ep);
	m->sock = zmq_socket(m->ctx, ZMQ_ROUTER);
	zmq_setsockopt(m->sock, ZMQ_CURVE_SERVER, &one, sizeof(one));
	zmq_setsockopt(m->sock, ZMQ_CURVE_SECRETKEY, m->server_secret, 41);
	zmq_setsockopt(m->sock, ZMQ_LINGER, &zero, sizeof(zero));
	snprintf(ep, sizeof(ep), "tcp://127.0.0.1:%d", m->port);
	if (m->port == 0)
		snprintf(ep, sizeof(ep), "tcp://127.0.0.1:*");
	for (int tries = 0; zmq_bind(m->sock, ep) != 0; tries++) {
		if (tries > 50)
			TEST_FAIL("market peer cannot bind %s: %s", ep, zmq_strerror(errno));
		struct timespec ts = {0, 100000000};
		nanosleep(&ts, NULL);
	}
	len = sizeof(ep);
	zmq_getsockopt(m->sock, ZMQ_LAST_ENDPOINT, ep, &len);
	m->port = atoi(strrchr(ep, ':') + 1);
}

struct mp *mp_create(int port, const char *keydir)
{
	struct mp *m = calloc(1, sizeof(*m));
	char pub[41], apub[41], asec[41];
	m->ctx = zmq_ctx_new();
	m->port = port;
	if (zmq_curve_keypair(pub, m->server_secret) || zmq_curve_keypair(apub, asec))
		TEST_SKIP("libzmq without CURVE");
	write_key(keydir, "market.pub", pub);
	write_key(keydir, "agent.pub", apub);
	write_key(keydir, "agent.key", asec);
	bind_socket(m);
	return m;
}

void mp_stop(struct mp *m)
{
	if (m->sock)
		zmq_close(m->sock);
	m->sock = NULL;
	m->agent_id_len = 0;
}

void mp_restart(struct mp *m)
{
	mp_stop(m);
	bind_socket(m);
}

void mp_destroy(struct mp *m)
{
	mp_stop(m);
	zmq_ctx_term(m->ctx);
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
	if (!m->agent_id_len || !m->sock)
		return;
	zmq_send(m->sock, m->agent_id, m->agent_id_len, ZMQ_SNDMORE);
	zmq_send(m->sock, buf, len, 0);
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
	zmq_pollitem_t item = {.socket = m->sock, .events = ZMQ_POLLIN};
	if (!m->sock || zmq_poll(&item, 1, timeout_ms) <= 0)
		return MP_NONE;
	uint8_t id[256], buf[1 << 16];
	int idlen = zmq_recv(m->sock, id, sizeof(id), 0);
	int more = 0;
	size_t ml = sizeof(more);
	zmq_getsockopt(m->sock, ZMQ_RCVMORE, &more, &ml);
	if (idlen <= 0 || !more)
		return MP_OTHER;
	int len = zmq_recv(m->sock, buf, sizeof(buf), 0);
	if (len < 0)
		return MP_OTHER;
	Raas__Envelope *e;
	char why[256];
	if (wire_decode(buf, (size_t)len, sizeof(buf), &e, why, sizeof(why)))
		TEST_FAIL("the agent sent an undecodable message: %s", why);
	switch (e->body_case) {
	case RAAS__ENVELOPE__BODY_HOST_REGISTER:
		memcpy(m->agent_id, id, (size_t)idlen);
		m->agent_id_len = (size_t)idlen;
		m->registrations++;
		reply_ok(m, e->request_id);
		/* Like the market: a host that (re-)registers gets the current allocation. */
		if (m->last_set)
			send_bytes(m, m->last_set, m->last_set_len);
		wire_free(m->reg);
		m->reg = e;
		return MP_REGISTER;
	case RAAS__ENVELOPE__BODY_HEARTBEAT:
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

void mp_send_set(struct mp *m, uint64_t round, const char *host, const struct mp_alloc *al,
		 size_t n)
{
	Raas__Envelope e;
	Raas__AllocationSet set = RAAS__ALLOCATION_SET__INIT;
	Raas__Allocation *a = calloc(n ? n : 1, sizeof(*a));
	Raas__Allocation **ap = calloc(n ? n : 1, sizeof(*ap));
	for (size_t i = 0; i < n; i++) {
		raas__allocation__init(&a[i]);
		a[i].tenant = (char *)al[i].tenant;
		a[i].resource = (Raas__Resource)al[i].resource;
		a[i].host = (char *)host;
		a[i].quantity = al[i].quantity;
		ap[i] = &a[i];
	}
	set.round = round;
	set.host = (char *)host;
	set.n_allocations = n;
	set.allocations = ap;
	wire_envelope_init(&e, 0);
	e.body_case = RAAS__ENVELOPE__BODY_ALLOCATION_SET;
	e.allocation_set = &set;
	free(m->last_set);
	m->last_set = NULL;
	if (wire_encode(&e, &m->last_set, &m->last_set_len) == 0)
		send_bytes(m, m->last_set, m->last_set_len);
	free(a);
	free(ap);
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
