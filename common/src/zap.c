/* zap.c: the ZAP handler (ZeroMQ RFC 27) that decides who a CURVE client is.
 *
 * libzmq asks the handler bound at inproc://zeromq.zap.01 about every CURVE handshake on a
 * socket with a ZAP domain: version "1.0", request id, domain, address, routing id,
 * mechanism, then the credentials (CURVE: the client's 32-byte public key). The answer carries
 * a status ("200" lets the client in, "400" refuses it) and a user id, which libzmq attaches
 * to every message from that connection as the "User-Id" property: that is how a server
 * knows its sender without trusting the message. This handler is driven by its owner's poll
 * loop (tp_zap_handle) rather than a thread of its own, so the lookup callback needs no
 * locking; libzmq keeps the handshake waiting meanwhile, never other traffic. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <zmq.h>

#include "common/clock.h"
#include "common/log.h"
#include "common/transport.h"

/* Refused handshakes are logged one line a minute (struct log_limit): each carries its own
 * key and port, so the log's repeat limit (which ignores only digits) would let a scan write
 * a line per try. */

/* Longest frame the handler reads from a ZAP request; longer ones are refused. */
#define ZAP_FRAME_MAX 256
#define ZAP_FRAMES_MAX 8

struct tp_zap {
	void *sock;
	tp_zap_lookup_fn lookup;
	void *arg;
	struct tp_zap_stats stats;
	struct log_limit refused_log; /* refusal lines */
};

/* Writes what (one refusal) unless a refusal line went out less than a minute ago; the next
 * line says how many were not written. */
static void log_refusal(struct tp_zap *z, const char *what)
{
	uint64_t quiet;

	if (!log_limit_pass(&z->refused_log, NULL, &quiet))
		return;
	if (quiet)
		log_warn("zap: refused %s (and %llu more handshakes since the last such line)",
			 what, (unsigned long long)quiet);
	else
		log_warn("zap: refused %s", what);
}

int tp_zap_create(void *ctx, tp_zap_lookup_fn lookup, void *arg, struct tp_zap **out)
{
	struct tp_zap *z = calloc(1, sizeof(*z));
	int linger = 0, err;

	if (!z)
		return -ENOMEM;
	z->lookup = lookup;
	z->arg = arg;
	z->refused_log = (struct log_limit)LOG_LIMIT_MINUTE;
	z->sock = zmq_socket(ctx, ZMQ_REP);
	if (!z->sock) {
		err = -errno;
		free(z);
		return err;
	}
	zmq_setsockopt(z->sock, ZMQ_LINGER, &linger, sizeof(linger));
	if (zmq_bind(z->sock, TP_ZAP_ENDPOINT) != 0) {
		err = -errno;
		zmq_close(z->sock);
		free(z);
		return err;
	}
	*out = z;
	return 0;
}

void *tp_zap_socket(struct tp_zap *z)
{
	return z->sock;
}

void tp_zap_get_stats(const struct tp_zap *z, struct tp_zap_stats *out)
{
	*out = z->stats;
}

void tp_zap_destroy(struct tp_zap *z)
{
	if (!z)
		return;
	zmq_close(z->sock);
	free(z);
}

struct frame {
	uint8_t data[ZAP_FRAME_MAX];
	size_t len;
	bool truncated;
};

static bool frame_is(const struct frame *f, const char *text)
{
	return !f->truncated && f->len == strlen(text) && memcmp(f->data, text, f->len) == 0;
}

static void frame_text(const struct frame *f, char *buf, size_t len)
{
	size_t n = f->len < len - 1 ? f->len : len - 1;
	for (size_t i = 0; i < n; i++)
		buf[i] = (f->data[i] >= 32 && f->data[i] < 127) ? (char)f->data[i] : '?';
	buf[n] = '\0';
}

static void reply(void *sock, const struct frame *request_id, const char *status,
		  const char *text, const char *user_id)
{
	zmq_send(sock, "1.0", 3, ZMQ_SNDMORE);
	zmq_send(sock, request_id ? request_id->data : NULL, request_id ? request_id->len : 0,
		 ZMQ_SNDMORE);
	zmq_send(sock, status, strlen(status), ZMQ_SNDMORE);
	zmq_send(sock, text, strlen(text), ZMQ_SNDMORE);
	zmq_send(sock, user_id, strlen(user_id), ZMQ_SNDMORE);
	zmq_send(sock, "", 0, 0);
}

/* Answers one request; false when none was pending. */
static bool handle_one(struct tp_zap *z)
{
	struct frame f[ZAP_FRAMES_MAX];
	int n = 0, more = 1;
	size_t ml = sizeof(more);

	while (more) {
		struct frame tmp, *dst = n < ZAP_FRAMES_MAX ? &f[n] : &tmp;
		int rc = zmq_recv(z->sock, dst->data, sizeof(dst->data), n == 0 ? ZMQ_DONTWAIT : 0);
		if (rc < 0) {
			if (n == 0)
				return false;
			break;
		}
		dst->truncated = (size_t)rc > sizeof(dst->data);
		dst->len = dst->truncated ? sizeof(dst->data) : (size_t)rc;
		n++;
		if (zmq_getsockopt(z->sock, ZMQ_RCVMORE, &more, &ml) != 0)
			more = 0;
	}

	/* 0 version, 1 request id, 2 domain, 3 address, 4 routing id, 5 mechanism, 6 key */
	if (n < 6 || !frame_is(&f[0], "1.0")) {
		z->stats.malformed++;
		reply(z->sock, n >= 2 ? &f[1] : NULL, "500", "malformed ZAP request", "");
		return true;
	}
	char domain[ZAP_FRAME_MAX + 1], address[64];
	frame_text(&f[2], domain, sizeof(domain));
	frame_text(&f[3], address, sizeof(address));
	if (!frame_is(&f[5], "CURVE") || n != 7 || f[6].len != 32 || f[6].truncated) {
		z->stats.malformed++;
		z->stats.denied++;
		char what[512];
		snprintf(what, sizeof(what), "a non-CURVE client from %s in domain \"%s\"", address,
			 domain);
		log_refusal(z, what);
		reply(z->sock, &f[1], "400", "CURVE required", "");
		return true;
	}

	char key[TP_KEY_Z85_LEN + 1], identity[TP_ID_MAX];
	if (!zmq_z85_encode(key, f[6].data, 32)) {
		z->stats.malformed++;
		reply(z->sock, &f[1], "500", "cannot encode key", "");
		return true;
	}
	identity[0] = '\0';
	if (z->lookup(z->arg, domain, key, identity, sizeof(identity)) == 0 && identity[0]) {
		z->stats.allowed++;
		log_debug("zap: %s in domain \"%s\" is %s", address, domain, identity);
		reply(z->sock, &f[1], "200", "OK", identity);
	} else {
		z->stats.denied++;
		char what[512];
		snprintf(what, sizeof(what), "unknown key %s from %s in domain \"%s\"", key,
			 address, domain);
		log_refusal(z, what);
		reply(z->sock, &f[1], "400", "unknown key", "");
	}
	return true;
}

int tp_zap_handle(struct tp_zap *z)
{
	int n = 0;

	while (handle_one(z))
		n++;
	return n;
}
