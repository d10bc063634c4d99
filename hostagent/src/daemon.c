/* daemon.c: the market link of raas-hostagentd: a DEALER over common/transport.h (CURVE),
 * registration, heartbeats, fail-static reconnection with backoff (daemon.h).
 *
 * States: WAITING (no socket; retry at retry_at) -> REGISTERING (socket open, HostRegister
 * sent and re-sent every REGISTER_RESEND_NS, since the DEALER queues nothing before its
 * connection is up; waiting for any answer until the deadline) -> UP (heartbeats and meters
 * flow). Any message from the market moves REGISTERING to UP; silence longer than
 * market_timeout, no answer to the registration, or the market refusing our key (seen by a
 * socket monitor) moves to WAITING with the backoff doubled (reset on UP). Enforcement is
 * never touched by these transitions: only AllocationSets change it. */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <zmq.h>

#include "common/clock.h"
#include "common/error.h"
#include "common/log.h"
#include "common/transport.h"
#include "common/wire.h"
#include "hostagent/daemon.h"

#define REGISTER_RESEND_NS (200 * NS_PER_MS)

enum link_state { LINK_WAITING, LINK_REGISTERING, LINK_UP };

struct link {
	const struct ha_config *conf;
	struct ha_agent *agent;
	void *zctx;
	void *sock;
	void *monitor;
	enum link_state state;
	struct tp_keypair key;
	char server_key[TP_KEY_Z85_LEN + 1];
	uint64_t next_id;
	int64_t backoff_ns;
	int64_t retry_at, deadline, resend_at, last_rx, next_heartbeat, next_meter;
};

static void close_socket(struct link *l)
{
	tp_close(l->monitor);
	tp_close(l->sock);
	l->monitor = l->sock = NULL;
}

/* Sends encoded bytes; takes buf. A send that cannot go now (no connection) is dropped:
 * registrations are re-sent, heartbeats and meters are periodic. */
static void send_bytes(struct link *l, uint8_t *buf, size_t len, const char *what)
{
	int ret = l->sock ? tp_send_raw(l->sock, NULL, buf, len, ZMQ_DONTWAIT) : -ENOTCONN;
	if (ret)
		log_debug("could not send %s to the market: %s", what, raas_strerror(ret));
	free(buf);
}

static void send_register(struct link *l, int64_t now)
{
	uint8_t *buf;
	size_t len;
	if (ha_agent_register_msg(l->agent, ++l->next_id, &buf, &len) == 0)
		send_bytes(l, buf, len, "registration");
	l->resend_at = now + REGISTER_RESEND_NS;
}

static void start_registering(struct link *l, int64_t now)
{
	int ret = tp_connect(l->zctx, ZMQ_DEALER, l->conf->market, &l->key, l->server_key,
			     &l->sock);
	if (ret) {
		log_error("cannot open a socket to the market at %s: %s", l->conf->market,
			  raas_strerror(ret));
		l->state = LINK_WAITING;
		l->retry_at = now + l->backoff_ns;
		return;
	}
	if (tp_monitor_start(l->zctx, l->sock, &l->monitor))
		l->monitor = NULL;
	l->state = LINK_REGISTERING;
	l->deadline = now + l->conf->market_timeout_ns;
	log_info("registering with the market at %s", l->conf->market);
	send_register(l, now);
}

static void go_waiting(struct link *l, int64_t now, const char *why)
{
	close_socket(l);
	l->state = LINK_WAITING;
	l->retry_at = now + l->backoff_ns;
	log_warn("market unreachable (%s): enforcement stays as it is; retrying in %.1f s", why,
		 (double)l->backoff_ns / 1e9);
	l->backoff_ns *= 2;
	if (l->backoff_ns > l->conf->reconnect_max_ns)
		l->backoff_ns = l->conf->reconnect_max_ns;
}

static void send_meters(struct link *l, int64_t now)
{
	uint8_t *buf;
	size_t len;
	if (ha_agent_meter_msg(l->agent, ++l->next_id, &buf, &len) == 0)
		send_bytes(l, buf, len, "meters");
	l->next_meter = now + l->conf->meter_interval_ns;
}

static void on_message(struct link *l, const Raas__Envelope *env, int64_t now)
{
	enum ha_msg_kind kind;
	int reply_error = 0;
	uint8_t *reply;
	size_t reply_len;

	if (ha_agent_handle(l->agent, env, ++l->next_id, &kind, &reply_error, &reply, &reply_len))
		return;
	l->last_rx = now;
	if (kind == HA_MSG_REPLY && reply_error == RAAS__ERROR_CODE__ERROR_DENIED) {
		go_waiting(l, now, "the market refused this host's registration");
		return;
	}
	if (l->state == LINK_REGISTERING) {
		l->state = LINK_UP;
		l->backoff_ns = l->conf->reconnect_min_ns;
		l->next_heartbeat = now + l->conf->heartbeat_ns;
		log_info("registered with the market as host %s", l->conf->host);
	}
	if (reply) {
		send_bytes(l, reply, reply_len, "allocation ack");
		send_meters(l, now);
	}
}

/* Receives every message waiting. Undecodable ones are logged and dropped. */
static void drain(struct link *l, int64_t now)
{
	while (l->sock) {
		struct tp_msg msg;
		char why[256];
		int ret = tp_recv(l->sock, ZMQ_DONTWAIT, WIRE_MAX_BYTES, &msg, why, sizeof(why));
		if (ret == -EAGAIN || ret == -EINTR)
			return;
		if (ret) {
			log_warn("ignoring a message from the market: %s", why);
			continue;
		}
		on_message(l, msg.env, now);
		tp_msg_clear(&msg);
	}
}

static int64_t earliest(const struct link *l)
{
	int64_t t = 0;
	switch (l->state) {
	case LINK_WAITING:
		return l->retry_at;
	case LINK_REGISTERING:
		t = l->resend_at < l->deadline ? l->resend_at : l->deadline;
		break;
	case LINK_UP: {
		t = l->next_heartbeat < l->next_meter ? l->next_heartbeat : l->next_meter;
		int64_t dead = l->last_rx + l->conf->market_timeout_ns;
		t = t < dead ? t : dead;
		break;
	}
	}
	/* Look at the handshake monitor now and then. */
	if (l->monitor && t - clk_mono(&clk_real) > 100 * NS_PER_MS)
		t = clk_mono(&clk_real) + 100 * NS_PER_MS;
	return t;
}

static void tick(struct link *l, int64_t now)
{
	switch (l->state) {
	case LINK_WAITING:
		if (now >= l->retry_at)
			start_registering(l, now);
		break;
	case LINK_REGISTERING:
		if (l->monitor && tp_auth_refused(l->monitor, NULL)) {
			go_waiting(l, now, "the market refused this host's CURVE key; is it "
					   "registered with `raas host add`?");
		} else if (now >= l->deadline) {
			go_waiting(l, now, "no answer to the registration");
		} else if (now >= l->resend_at) {
			send_register(l, now);
		}
		break;
	case LINK_UP:
		if (now - l->last_rx > l->conf->market_timeout_ns) {
			go_waiting(l, now, "no message within market_timeout");
			break;
		}
		if (now >= l->next_heartbeat) {
			uint8_t *buf;
			size_t len;
			if (ha_agent_heartbeat_msg(l->agent, ++l->next_id, &buf, &len) == 0)
				send_bytes(l, buf, len, "heartbeat");
			l->next_heartbeat = now + l->conf->heartbeat_ns;
		}
		if (now >= l->next_meter)
			send_meters(l, now);
		break;
	}
}

static int load_keys(struct link *l, const struct ha_config *conf, char *why, size_t why_len)
{
	int ret;
	if (!conf->market_public_key || !conf->key) {
		snprintf(why, why_len, "[agent] market_public_key and key are required (CURVE key "
				       "files made by `raas keygen`)");
		return -RAAS_ECONFIG;
	}
	ret = tp_key_load_public(conf->market_public_key, l->server_key, why, why_len);
	if (!ret)
		ret = tp_key_load_pair(conf->key, &l->key, why, why_len);
	return ret;
}

int ha_daemon_run(const struct ha_config *conf, volatile sig_atomic_t *stop, char *why,
		  size_t why_len)
{
	struct link l;
	int ret;

	memset(&l, 0, sizeof(l));
	l.conf = conf;
	if ((ret = load_keys(&l, conf, why, why_len)))
		return ret;
	ret = ha_agent_create(conf, &clk_real, &l.agent, why, why_len);
	if (ret)
		return ret;
	l.zctx = tp_context_create(0, 1);
	if (!l.zctx) {
		ha_agent_destroy(l.agent);
		snprintf(why, why_len, "ZeroMQ context: %s", zmq_strerror(errno));
		return -ENOMEM;
	}
	l.backoff_ns = conf->reconnect_min_ns;
	int64_t now = clk_mono(&clk_real);
	l.next_meter = now + conf->meter_interval_ns;
	start_registering(&l, now);
	while (!*stop) {
		now = clk_mono(&clk_real);
		int64_t wait = earliest(&l) - now;
		if (wait < 0)
			wait = 0;
		zmq_pollitem_t item = {.socket = l.sock, .events = ZMQ_POLLIN};
		long ms = (long)((wait + NS_PER_MS - 1) / NS_PER_MS);
		int n = l.sock ? zmq_poll(&item, 1, ms) : zmq_poll(NULL, 0, ms);
		if (n < 0 && errno != EINTR) {
			log_error("zmq_poll: %s", zmq_strerror(errno));
			break;
		}
		now = clk_mono(&clk_real);
		if (n > 0 && l.sock)
			drain(&l, now);
		tick(&l, now);
	}
	log_info("stopping; enforcement stays in force");
	close_socket(&l);
	tp_context_destroy(l.zctx);
	ha_agent_destroy(l.agent);
	return 0;
}
