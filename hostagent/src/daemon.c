/* daemon.c: the market link of raas-hostagentd: ZeroMQ DEALER + CURVE, registration,
 * heartbeats, fail-static reconnection with backoff (daemon.h).
 *
 * States: WAITING (no socket; retry at retry_at) -> REGISTERING (socket open, HostRegister
 * sent, waiting for any answer until the deadline) -> UP (heartbeats and meters flow). Any
 * message from the market moves REGISTERING to UP; silence longer than market_timeout, or no
 * answer to the registration, moves to WAITING with the backoff doubled (reset on UP).
 * Enforcement is never touched by these transitions: only AllocationSets change it. */
#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <zmq.h>

#include "common/clock.h"
#include "common/error.h"
#include "common/log.h"
#include "common/wire.h"
#include "hostagent/daemon.h"

enum link_state { LINK_WAITING, LINK_REGISTERING, LINK_UP };

struct link {
	const struct ha_config *conf;
	struct ha_agent *agent;
	void *zctx;
	void *sock;
	enum link_state state;
	char server_key[41], public_key[41], secret_key[41];
	uint64_t next_id;
	int64_t backoff_ns;
	int64_t retry_at, deadline, last_rx, next_heartbeat, next_meter;
};

static bool z85_char(int c)
{
	return c && (isalnum(c) || strchr(".-:+=^!/*?&<>()[]{}@%$#", c));
}

int ha_load_key(const char *path, char out[41], char *why, size_t why_len)
{
	char buf[4096];
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0) {
		int e = errno;
		snprintf(why, why_len, "%s: %s", path, strerror(e));
		return -e;
	}
	ssize_t n = read(fd, buf, sizeof(buf) - 1);
	close(fd);
	if (n < 0) {
		snprintf(why, why_len, "%s: %s", path, strerror(errno));
		return -EIO;
	}
	buf[n] = '\0';
	/* The first run of exactly 40 Z85 characters, outside comments. */
	for (char *line = strtok(buf, "\n"); line; line = strtok(NULL, "\n")) {
		if (line[0] == '#')
			continue;
		for (char *p = line; *p; p++) {
			if (!z85_char((unsigned char)*p) || (p > line && z85_char((unsigned char)p[-1])))
				continue;
			size_t len = 0;
			while (z85_char((unsigned char)p[len]))
				len++;
			if (len == 40) {
				uint8_t bin[32];
				char key[41];
				memcpy(key, p, 40);
				key[40] = '\0';
				if (!zmq_z85_decode(bin, key))
					continue;
				memcpy(out, key, 41);
				return 0;
			}
		}
	}
	snprintf(why, why_len, "%s: no 40-character Z85 CURVE key found", path);
	return -RAAS_EPARSE;
}

static void close_socket(struct link *l)
{
	if (l->sock) {
		zmq_close(l->sock);
		l->sock = NULL;
	}
}

static int send_bytes(struct link *l, uint8_t *buf, size_t len, const char *what)
{
	int ret = 0;
	if (zmq_send(l->sock, buf, len, ZMQ_DONTWAIT) < 0) {
		ret = -errno;
		log_debug("could not send %s to the market: %s", what, zmq_strerror(errno));
	}
	free(buf);
	return ret;
}

static int open_socket(struct link *l, char *why, size_t why_len)
{
	int zero = 0;

	l->sock = zmq_socket(l->zctx, ZMQ_DEALER);
	if (!l->sock ||
	    zmq_setsockopt(l->sock, ZMQ_LINGER, &zero, sizeof(zero)) ||
	    zmq_setsockopt(l->sock, ZMQ_CURVE_SERVERKEY, l->server_key, 41) ||
	    zmq_setsockopt(l->sock, ZMQ_CURVE_PUBLICKEY, l->public_key, 41) ||
	    zmq_setsockopt(l->sock, ZMQ_CURVE_SECRETKEY, l->secret_key, 41) ||
	    zmq_connect(l->sock, l->conf->market)) {
		int e = errno;
		snprintf(why, why_len, "socket to %s: %s", l->conf->market, zmq_strerror(e));
		close_socket(l);
		return -e;
	}
	return 0;
}

static void start_registering(struct link *l, int64_t now)
{
	char why[256];
	uint8_t *buf;
	size_t len;

	if (open_socket(l, why, sizeof(why))) {
		log_error("%s", why);
		l->state = LINK_WAITING;
		l->retry_at = now + l->backoff_ns;
		return;
	}
	if (ha_agent_register_msg(l->agent, ++l->next_id, &buf, &len) == 0)
		send_bytes(l, buf, len, "registration");
	l->state = LINK_REGISTERING;
	l->deadline = now + l->conf->market_timeout_ns;
	log_info("registering with the market at %s", l->conf->market);
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

static void on_message(struct link *l, const void *data, size_t size, int64_t now)
{
	enum ha_msg_kind kind;
	int reply_error = 0;
	uint8_t *reply;
	size_t reply_len;

	if (ha_agent_receive(l->agent, data, size, ++l->next_id, &kind, &reply_error, &reply,
			     &reply_len))
		return;
	if (kind == HA_MSG_INVALID)
		return;
	l->last_rx = now;
	if (kind == HA_MSG_REPLY && reply_error == RAAS__ERROR_CODE__ERROR_DENIED) {
		go_waiting(l, now, "the market refused this host's key or registration");
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

/* Receives every message waiting; the payload is the last frame (a ROUTER peer may put an
 * empty delimiter first). */
static void drain(struct link *l, int64_t now)
{
	for (;;) {
		zmq_msg_t msg;
		zmq_msg_init(&msg);
		if (zmq_msg_recv(&msg, l->sock, ZMQ_DONTWAIT) < 0) {
			zmq_msg_close(&msg);
			return;
		}
		while (zmq_msg_more(&msg)) {
			zmq_msg_close(&msg);
			zmq_msg_init(&msg);
			if (zmq_msg_recv(&msg, l->sock, 0) < 0)
				break;
		}
		if (zmq_msg_size(&msg) > 0)
			on_message(l, zmq_msg_data(&msg), zmq_msg_size(&msg), now);
		zmq_msg_close(&msg);
		if (!l->sock)
			return; /* refused: the socket is gone */
	}
}

static int64_t earliest(const struct link *l)
{
	switch (l->state) {
	case LINK_WAITING:
		return l->retry_at;
	case LINK_REGISTERING:
		return l->deadline;
	case LINK_UP: {
		int64_t t = l->next_heartbeat < l->next_meter ? l->next_heartbeat : l->next_meter;
		int64_t dead = l->last_rx + l->conf->market_timeout_ns;
		return t < dead ? t : dead;
	}
	}
	return 0;
}

int ha_daemon_run(const struct ha_config *conf, volatile sig_atomic_t *stop, char *why,
		  size_t why_len)
{
	struct link l;
	int ret;

	memset(&l, 0, sizeof(l));
	l.conf = conf;
	if (!conf->market_public_key || !conf->public_key || !conf->secret_key) {
		snprintf(why, why_len, "[agent] market_public_key, public_key and secret_key are "
				       "required (CURVE key files)");
		return -RAAS_ECONFIG;
	}
	if ((ret = ha_load_key(conf->market_public_key, l.server_key, why, why_len)) ||
	    (ret = ha_load_key(conf->public_key, l.public_key, why, why_len)) ||
	    (ret = ha_load_key(conf->secret_key, l.secret_key, why, why_len)))
		return ret;
	ret = ha_agent_create(conf, &clk_real, &l.agent, why, why_len);
	if (ret)
		return ret;
	l.zctx = zmq_ctx_new();
	if (!l.zctx) {
		ha_agent_destroy(l.agent);
		snprintf(why, why_len, "zmq_ctx_new: %s", zmq_strerror(errno));
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
		switch (l.state) {
		case LINK_WAITING:
			if (now >= l.retry_at)
				start_registering(&l, now);
			break;
		case LINK_REGISTERING:
			if (now >= l.deadline)
				go_waiting(&l, now, "no answer to the registration");
			break;
		case LINK_UP:
			if (now - l.last_rx > conf->market_timeout_ns) {
				go_waiting(&l, now, "no message within market_timeout");
				break;
			}
			if (now >= l.next_heartbeat) {
				uint8_t *buf;
				size_t len;
				if (ha_agent_heartbeat_msg(l.agent, ++l.next_id, &buf, &len) == 0)
					send_bytes(&l, buf, len, "heartbeat");
				l.next_heartbeat = now + conf->heartbeat_ns;
			}
			if (now >= l.next_meter)
				send_meters(&l, now);
			break;
		}
	}
	log_info("stopping; enforcement stays in force");
	close_socket(&l);
	zmq_ctx_term(l.zctx);
	ha_agent_destroy(l.agent);
	return 0;
}
