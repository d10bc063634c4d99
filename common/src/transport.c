/* transport.c: ZeroMQ sockets with CURVE, framing, bounded receive and request retry.
 *
 * The framing rules of transport.h live here: a ROUTER message is [routing id] [optional
 * empty delimiter] [payload]; a SUB message is [topic] [payload]; a DEALER message is
 * [payload]. tp_recv() always consumes every frame of a message, so a malformed message can
 * never desynchronize the stream, and it hands back the route of a bad message so the server
 * answers it instead of dropping it silently. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <zmq.h>

#include "common/clock.h"
#include "common/error.h"
#include "common/transport.h"

void *tp_context_create(int max_sockets, int io_threads)
{
	void *ctx = zmq_ctx_new();

	if (!ctx)
		return NULL;
	if (max_sockets > 0 && zmq_ctx_set(ctx, ZMQ_MAX_SOCKETS, max_sockets) != 0)
		goto fail;
	if (io_threads > 0 && zmq_ctx_set(ctx, ZMQ_IO_THREADS, io_threads) != 0)
		goto fail;
	return ctx;
fail:;
	int e = errno;
	zmq_ctx_term(ctx);
	errno = e;
	return NULL;
}

void tp_context_destroy(void *ctx)
{
	if (ctx)
		zmq_ctx_term(ctx);
}

static bool is_tcp(const char *endpoint)
{
	return strncmp(endpoint, "tcp://", 6) == 0;
}

static int setopt_int(void *sock, int opt, int value)
{
	return zmq_setsockopt(sock, opt, &value, sizeof(value)) == 0 ? 0 : -errno;
}

static int setopt_str(void *sock, int opt, const char *value)
{
	return zmq_setsockopt(sock, opt, value, strlen(value)) == 0 ? 0 : -errno;
}

/* Options every socket gets: bounded messages, no lingering at close. */
static int common_options(void *sock)
{
	int64_t max = TP_HARD_MAX_BYTES;
	int err = setopt_int(sock, ZMQ_LINGER, 0);

	if (!err && zmq_setsockopt(sock, ZMQ_MAXMSGSIZE, &max, sizeof(max)) != 0)
		err = -errno;
	return err;
}

int tp_bind(void *ctx, int type, const char *endpoint, const struct tp_keypair *key,
	    const char *zap_domain, void **out, char *bound, size_t bound_len)
{
	void *sock;
	int err;

	if (!key && is_tcp(endpoint))
		return -EINVAL; /* never an unauthenticated TCP endpoint */
	if (key && !tp_key_valid(key->secret_key))
		return -EINVAL;
	sock = zmq_socket(ctx, type);
	if (!sock)
		return -errno;
	err = common_options(sock);
	if (!err && type == ZMQ_ROUTER)
		err = setopt_int(sock, ZMQ_ROUTER_MANDATORY, 1);
	/* Thousands of clients may connect at once (a market restart): a deep accept queue
	 * keeps their SYNs from being dropped into slow kernel retries. */
	if (!err)
		err = setopt_int(sock, ZMQ_BACKLOG, TP_BACKLOG);
	if (!err && key) {
		err = setopt_int(sock, ZMQ_CURVE_SERVER, 1);
		if (!err)
			err = setopt_str(sock, ZMQ_CURVE_SECRETKEY, key->secret_key);
		if (!err)
			err = setopt_str(sock, ZMQ_ZAP_DOMAIN, zap_domain ? zap_domain : "");
	}
	if (!err && zmq_bind(sock, endpoint) != 0)
		err = -errno;
	if (!err && bound_len) {
		size_t n = bound_len;
		if (zmq_getsockopt(sock, ZMQ_LAST_ENDPOINT, bound, &n) != 0)
			err = -errno;
	}
	if (err) {
		zmq_close(sock);
		return err;
	}
	*out = sock;
	return 0;
}

static int connect_socket(void *ctx, int type, const char *endpoint,
			  const struct tp_keypair *key, const char *server_public, void **out,
			  void **monitor);

int tp_connect(void *ctx, int type, const char *endpoint, const struct tp_keypair *key,
	       const char *server_public, void **out)
{
	return connect_socket(ctx, type, endpoint, key, server_public, out, NULL);
}

int tp_connect_monitored(void *ctx, int type, const char *endpoint, const struct tp_keypair *key,
			 const char *server_public, void **out, void **monitor)
{
	return connect_socket(ctx, type, endpoint, key, server_public, out, monitor);
}

static int connect_socket(void *ctx, int type, const char *endpoint,
			  const struct tp_keypair *key, const char *server_public, void **out,
			  void **monitor)
{
	void *sock;
	int err;

	if (!key && is_tcp(endpoint))
		return -EINVAL;
	if (key && (!tp_key_valid(key->public_key) || !tp_key_valid(key->secret_key) ||
		    !tp_key_valid(server_public)))
		return -EINVAL;
	sock = zmq_socket(ctx, type);
	if (!sock)
		return -errno;
	err = common_options(sock);
	if (!err && type == ZMQ_DEALER)
		err = setopt_int(sock, ZMQ_IMMEDIATE, 1);
	if (!err && key) {
		err = setopt_str(sock, ZMQ_CURVE_SERVERKEY, server_public);
		if (!err)
			err = setopt_str(sock, ZMQ_CURVE_PUBLICKEY, key->public_key);
		if (!err)
			err = setopt_str(sock, ZMQ_CURVE_SECRETKEY, key->secret_key);
	}
	if (!err && monitor)
		err = tp_monitor_start(ctx, sock, monitor);
	if (!err && zmq_connect(sock, endpoint) != 0) {
		err = -errno;
		if (monitor)
			tp_monitor_stop(sock, *monitor);
	}
	if (err) {
		zmq_close(sock);
		return err;
	}
	*out = sock;
	return 0;
}

void tp_close(void *sock)
{
	if (sock)
		zmq_close(sock);
}

void tp_msg_clear(struct tp_msg *msg)
{
	wire_free(msg->env);
	memset(msg, 0, sizeof(*msg));
}

static bool more_frames(void *sock)
{
	int more = 0;
	size_t n = sizeof(more);

	return zmq_getsockopt(sock, ZMQ_RCVMORE, &more, &n) == 0 && more;
}

/* Drops the rest of a multipart message; returns how many frames it dropped. */
static int drain(void *sock)
{
	int n = 0;

	while (more_frames(sock)) {
		zmq_msg_t m;
		zmq_msg_init(&m);
		if (zmq_msg_recv(&m, sock, 0) < 0) {
			zmq_msg_close(&m);
			break;
		}
		zmq_msg_close(&m);
		n++;
	}
	return n;
}

static int framing_error(char *why, size_t why_len, const char *what, int extra)
{
	if (why_len)
		snprintf(why, why_len, "bad framing: %s", what);
	if (why_len && extra > 0) {
		size_t n = strlen(why);
		snprintf(why + n, why_len - n, " (%d extra frames)", extra);
	}
	return -RAAS_EPROTO;
}

int tp_recv(void *sock, int flags, size_t max_bytes, struct tp_msg *msg, char *why,
	    size_t why_len)
{
	int type = 0;
	size_t tn = sizeof(type);
	zmq_msg_t m;
	int err = 0;

	memset(msg, 0, sizeof(*msg));
	if (why_len)
		why[0] = '\0';
	if (zmq_getsockopt(sock, ZMQ_TYPE, &type, &tn) != 0)
		return -errno;

	zmq_msg_init(&m);
	if (zmq_msg_recv(&m, sock, flags) < 0) {
		err = -errno;
		zmq_msg_close(&m);
		return err;
	}

	/* The routing id or topic frame. */
	if (type == ZMQ_ROUTER || type == ZMQ_SUB) {
		size_t n = zmq_msg_size(&m);
		if (type == ZMQ_ROUTER) {
			if (n > TP_ROUTE_MAX)
				n = TP_ROUTE_MAX;
			memcpy(msg->route.id, zmq_msg_data(&m), n);
			msg->route.len = n;
		} else {
			if (n >= TP_TOPIC_MAX)
				n = TP_TOPIC_MAX - 1;
			memcpy(msg->topic, zmq_msg_data(&m), n);
			msg->topic[n] = '\0';
		}
		if (!more_frames(sock)) {
			zmq_msg_close(&m);
			return framing_error(why, why_len, "message has no payload frame", 0);
		}
		zmq_msg_close(&m);
		zmq_msg_init(&m);
		if (zmq_msg_recv(&m, sock, 0) < 0) {
			err = -errno;
			zmq_msg_close(&m);
			return err;
		}
		/* REQ peers put an empty delimiter before the payload. */
		if (type == ZMQ_ROUTER && zmq_msg_size(&m) == 0 && more_frames(sock)) {
			msg->route.delimiter = true;
			zmq_msg_close(&m);
			zmq_msg_init(&m);
			if (zmq_msg_recv(&m, sock, 0) < 0) {
				err = -errno;
				zmq_msg_close(&m);
				return err;
			}
		}
	}

	const char *uid = zmq_msg_gets(&m, "User-Id");
	if (uid)
		snprintf(msg->user_id, sizeof(msg->user_id), "%s", uid);
	msg->payload_len = zmq_msg_size(&m);

	int extra = drain(sock);
	if (extra > 0) {
		zmq_msg_close(&m);
		return framing_error(why, why_len, "one payload frame expected", extra);
	}
	int64_t t0 = clk_mono(&clk_real);
	err = wire_decode(zmq_msg_data(&m), zmq_msg_size(&m), max_bytes, &msg->env, why, why_len);
	msg->decode_ns = clk_mono(&clk_real) - t0;
	zmq_msg_close(&m);
	return err;
}

/* Sends the routing frames of route (routing id, then the delimiter when the peer sent one). */
static int send_route(void *sock, const struct tp_route *route, int flags)
{
	if (!route || route->len == 0)
		return 0;
	if (zmq_send(sock, route->id, route->len, flags | ZMQ_SNDMORE) < 0)
		return -errno;
	if (route->delimiter && zmq_send(sock, "", 0, flags | ZMQ_SNDMORE) < 0)
		return -errno;
	return 0;
}

int tp_send_raw(void *sock, const struct tp_route *route, const void *buf, size_t len,
		int flags)
{
	int err = send_route(sock, route, flags);

	if (err)
		return err;
	if (zmq_send(sock, buf, len, flags) < 0)
		return -errno;
	return 0;
}

int tp_send(void *sock, const struct tp_route *route, const Raas__Envelope *e, int flags)
{
	uint8_t *buf;
	size_t len;
	int err = wire_encode(e, &buf, &len);

	if (err)
		return err;
	err = tp_send_raw(sock, route, buf, len, flags);
	free(buf);
	return err;
}

int tp_publish_raw(void *sock, const char *topic, const void *buf, size_t len)
{
	if (zmq_send(sock, topic, strlen(topic), ZMQ_SNDMORE | ZMQ_DONTWAIT) < 0)
		return -errno;
	if (zmq_send(sock, buf, len, ZMQ_DONTWAIT) < 0)
		return -errno;
	return 0;
}

int tp_publish(void *sock, const char *topic, const Raas__Envelope *e)
{
	uint8_t *buf;
	size_t len;
	int err = wire_encode(e, &buf, &len);

	if (err)
		return err;
	err = tp_publish_raw(sock, topic, buf, len);
	free(buf);
	return err;
}

int tp_subscribe(void *sock, const char *prefix)
{
	return setopt_str(sock, ZMQ_SUBSCRIBE, prefix);
}

/* ---- Monitor: tell a refused key and a wrong server key from a silent server ---- */

#define MONITOR_EVENTS                                                                     \
	(ZMQ_EVENT_CONNECTED | ZMQ_EVENT_DISCONNECTED | ZMQ_EVENT_HANDSHAKE_SUCCEEDED |     \
	 ZMQ_EVENT_HANDSHAKE_FAILED_AUTH | ZMQ_EVENT_HANDSHAKE_FAILED_PROTOCOL |            \
	 ZMQ_EVENT_HANDSHAKE_FAILED_NO_DETAIL)

int tp_monitor_start(void *ctx, void *sock, void **monitor)
{
	static int counter;
	char ep[64];
	void *mon;

	snprintf(ep, sizeof(ep), "inproc://tp-monitor-%p-%d", sock,
		 __atomic_add_fetch(&counter, 1, __ATOMIC_RELAXED));
	if (zmq_socket_monitor(sock, ep, MONITOR_EVENTS) != 0)
		return -errno;
	mon = zmq_socket(ctx, ZMQ_PAIR);
	if (!mon || zmq_connect(mon, ep) != 0) {
		int err = -errno;
		zmq_socket_monitor(sock, NULL, 0);
		if (mon)
			zmq_close(mon);
		return err;
	}
	setopt_int(mon, ZMQ_LINGER, 0);
	*monitor = mon;
	return 0;
}

void tp_monitor_stop(void *sock, void *monitor)
{
	if (!monitor)
		return;
	if (sock)
		zmq_socket_monitor(sock, NULL, 0); /* the I/O thread sends no more events */
	zmq_close(monitor);
}

int tp_monitor_update(void *monitor, struct tp_link *link)
{
	int n = 0;

	for (;;) {
		zmq_msg_t m;
		zmq_msg_init(&m);
		if (zmq_msg_recv(&m, monitor, ZMQ_DONTWAIT) < 0) {
			zmq_msg_close(&m);
			break;
		}
		/* Event frame: 16-bit event, 32-bit value; then the endpoint frame. */
		if (zmq_msg_size(&m) >= 6) {
			uint16_t ev;
			memcpy(&ev, zmq_msg_data(&m), sizeof(ev));
			n++;
			switch (ev) {
			case ZMQ_EVENT_CONNECTED:
				link->connects++;
				break;
			case ZMQ_EVENT_HANDSHAKE_SUCCEEDED:
				link->handshakes++;
				link->up = true;
				break;
			case ZMQ_EVENT_HANDSHAKE_FAILED_AUTH:
				link->refused++;
				link->up = false;
				break;
			case ZMQ_EVENT_HANDSHAKE_FAILED_PROTOCOL:
			case ZMQ_EVENT_HANDSHAKE_FAILED_NO_DETAIL:
				link->broken++;
				link->up = false;
				break;
			case ZMQ_EVENT_DISCONNECTED:
				link->disconnects++;
				link->up = false;
				break;
			default:
				break;
			}
		}
		zmq_msg_close(&m);
		drain(monitor);
	}
	return n;
}

bool tp_auth_refused(void *monitor, bool *ok)
{
	struct tp_link link;

	memset(&link, 0, sizeof(link));
	tp_monitor_update(monitor, &link);
	if (link.handshakes && ok)
		*ok = true;
	/* A protocol failure is counted as a refusal here, as it always was. */
	return link.refused > 0 || link.broken > 0;
}

/* ---- Request with retry ---- */

/* A server that breaks this many handshakes in a row without one succeeding does not have
 * the key we were given (libzmq reconnects every 100 ms, so this takes well under a second). */
#define TP_BROKEN_HANDSHAKES 3
/* How often a request is offered to a connection that is not up yet (no monitor). */
#define TP_OFFER_NS (2 * NS_PER_MS)

int tp_call_timed(void *ctx, void *dealer, const Raas__Envelope *e, int64_t try_ns,
		  int64_t deadline_ns, size_t max_bytes, tp_other_fn other, void *arg,
		  Raas__Envelope **reply, struct tp_call_timing *timing)
{
	void *mon = NULL;

	if (ctx && tp_monitor_start(ctx, dealer, &mon) != 0)
		mon = NULL;
	int err = tp_call_on(dealer, mon, e, try_ns, deadline_ns, max_bytes, other, arg, reply,
			     timing);
	tp_monitor_stop(dealer, mon);
	return err;
}

int tp_call_on(void *dealer, void *mon, const Raas__Envelope *e, int64_t try_ns,
	       int64_t deadline_ns, size_t max_bytes, tp_other_fn other, void *arg,
	       Raas__Envelope **reply, struct tp_call_timing *timing)
{
	uint8_t *buf;
	size_t len;
	struct tp_link link;
	struct tp_call_timing t = {-1, -1, 0};
	int err = wire_encode(e, &buf, &len);
	int64_t start = clk_mono(&clk_real), next_try = start, first_sent = 0;

	if (err)
		return err;
	memset(&link, 0, sizeof(link));
	err = -ETIMEDOUT;
	for (;;) {
		int64_t now = clk_mono(&clk_real);
		if (now - start >= deadline_ns)
			break;
		if (mon) {
			tp_monitor_update(mon, &link);
			if (link.handshakes && t.handshake_ns < 0) {
				t.handshake_ns = now - start;
				if (!t.tries)
					next_try = now; /* send the moment the connection is up */
			}
			if (link.refused) {
				err = -EACCES;
				break;
			}
			if (link.broken >= TP_BROKEN_HANDSHAKES && !link.handshakes) {
				err = -EKEYREJECTED;
				break;
			}
		}
		if (now >= next_try) {
			/* ZMQ_IMMEDIATE: EAGAIN until a connection has completed its handshake
			 * (the monitor wakes us then; the offer every TP_OFFER_NS covers a
			 * handshake that completed before the monitor was attached). */
			if (zmq_send(dealer, buf, len, ZMQ_DONTWAIT) >= 0) {
				if (!t.tries++)
					first_sent = now;
				next_try = now + try_ns;
			} else {
				next_try = now + TP_OFFER_NS;
			}
		}
		int64_t wait = next_try - now;
		if (start + deadline_ns - now < wait)
			wait = start + deadline_ns - now;
		zmq_pollitem_t items[2] = {{.socket = dealer, .events = ZMQ_POLLIN},
					   {.socket = mon, .events = ZMQ_POLLIN}};
		int rc = zmq_poll(items, mon ? 2 : 1, (long)((wait + NS_PER_MS - 1) / NS_PER_MS));
		if (rc < 0 && errno != EINTR) {
			err = -errno;
			break;
		}
		if (rc <= 0 || !(items[0].revents & ZMQ_POLLIN))
			continue;
		struct tp_msg msg;
		char why[256];
		int r = tp_recv(dealer, ZMQ_DONTWAIT, max_bytes, &msg, why, sizeof(why));
		if (r == -EAGAIN || r == -EINTR)
			continue;
		if (r < 0)
			continue; /* an undecodable message from the server: not our reply */
		if (msg.env->body_case == RAAS__ENVELOPE__BODY_REPLY &&
		    msg.env->request_id == e->request_id) {
			*reply = msg.env;
			msg.env = NULL;
			t.reply_ns = clk_mono(&clk_real) - first_sent;
			err = 0;
			break;
		}
		if (other)
			other(arg, msg.env);
		tp_msg_clear(&msg);
	}
	free(buf);
	if (timing)
		*timing = t;
	return err;
}

int tp_call(void *ctx, void *dealer, const Raas__Envelope *e, int64_t try_ns,
	    int64_t deadline_ns, size_t max_bytes, tp_other_fn other, void *arg,
	    Raas__Envelope **reply)
{
	return tp_call_timed(ctx, dealer, e, try_ns, deadline_ns, max_bytes, other, arg, reply,
			     NULL);
}
