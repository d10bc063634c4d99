/* transport.h: ZeroMQ sockets with CURVE, CURVE key files, a ZAP handler, and bounded
 * receive of raas.proto envelopes.
 *
 * Every process that talks to another (raas-marketd, raas-hostagentd, nom-priced, the raas
 * CLI, tests and benchmarks) goes through this module, so that the security and framing rules
 * of DESIGN.md section 5 hold in one place:
 *
 *   - Every TCP socket runs CURVE. A server socket carries a ZAP domain, and the server binds
 *     its ZAP handler (tp_zap_create) BEFORE any server socket: libzmq lets every client in
 *     when no handler is bound, so the order is what makes unknown keys fail.
 *   - The ZAP handler maps a client's public key to an identity ("tenant:alice",
 *     "host:h1", ...) through a lookup callback, and refuses keys the callback does not know.
 *     The identity comes back on every received message as the ZAP User-Id (tp_msg.user_id):
 *     a server never trusts a name written inside a message.
 *   - Framing: DEALER -> ROUTER requests are one payload frame (the ROUTER sees [routing id]
 *     [payload]; an empty delimiter frame after the routing id, as REQ sends, is accepted and
 *     echoed). PUB -> SUB messages are [topic][payload]. Anything else is a framing error that
 *     tp_recv() reports with the route filled in, so the server can answer with an error.
 *   - Bounds: tp_recv() refuses a payload over the caller's bound before decoding and decodes
 *     only through wire_decode(). libzmq's own ZMQ_MAXMSGSIZE (TP_HARD_MAX_BYTES) drops a
 *     connection that sends something absurdly large, so memory stays bounded.
 *
 * Key files (written by `raas keygen`, read by everything): text, z85, one "name = value"
 * per line, '#' comments:
 *     NAME.pub   public = <40 z85 characters>
 *     NAME.key   public = <z85>  and  secret = <z85>   (mode 0600)
 *
 * Errors: functions return 0 or a negative errno / project error (common/error.h); failures
 * from libzmq come back as -errno. */
#ifndef COMMON_TRANSPORT_H
#define COMMON_TRANSPORT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "common/wire.h"

/* z85 text of a 32-byte CURVE key, without the NUL. */
#define TP_KEY_Z85_LEN 40
/* Longest routing id libzmq gives a ROUTER peer. */
#define TP_ROUTE_MAX 255
/* Longest identity a ZAP lookup may return ("tenant:" + a name), with the NUL. */
#define TP_ID_MAX 128
/* Longest topic tp_recv() keeps, with the NUL. */
#define TP_TOPIC_MAX 256
/* libzmq drops a connection whose message is over this (ZMQ_MAXMSGSIZE): far above any
 * application bound, so that an oversized-but-plausible message still gets an error reply. */
#define TP_HARD_MAX_BYTES (64 << 20)
/* Listen backlog of server sockets (the kernel caps it at net.core.somaxconn). */
#define TP_BACKLOG 4096
/* The ZAP endpoint libzmq asks (fixed by RFC 27). */
#define TP_ZAP_ENDPOINT "inproc://zeromq.zap.01"

/* ---- Keys ---- */

struct tp_keypair {
	char public_key[TP_KEY_Z85_LEN + 1]; /* z85, NUL-terminated */
	char secret_key[TP_KEY_Z85_LEN + 1]; /* z85, NUL-terminated; "" when only public */
};

/* A fresh CURVE key pair. Returns 0 or -ENOTSUP when libzmq lacks CURVE. */
int tp_keypair_generate(struct tp_keypair *kp);
/* True when text is exactly 40 z85 characters that decode to a key. */
bool tp_key_valid(const char *text);
/* Writes dir/NAME.pub and dir/NAME.key (0600) for kp, creating dir (0700) when missing.
 * Refuses to overwrite existing files unless force (-EEXIST). name must be a plain file
 * name (letters, digits, '.', '_', '-'). Files are written to a temporary name and renamed,
 * so a crash never leaves half a key. */
int tp_key_save(const char *dir, const char *name, const struct tp_keypair *kp, bool force);
/* Reads the public key of a .pub or .key file. On error returns -errno (I/O) or
 * -RAAS_EPARSE with why naming the file, the line and what is wrong. */
int tp_key_load_public(const char *path, char out[TP_KEY_Z85_LEN + 1], char *why,
		       size_t why_len);
/* Reads a .key file: both keys, checked to belong together. Errors as tp_key_load_public. */
int tp_key_load_pair(const char *path, struct tp_keypair *kp, char *why, size_t why_len);
/* Parses key-file text (what the two loaders read); name stands for the file in errors.
 * want_secret: a secret key is required. Exposed for the fuzz target. */
int tp_key_parse(const char *text, size_t len, const char *name, bool want_secret,
		 struct tp_keypair *kp, char *why, size_t why_len);

/* ---- Context and sockets ---- */

/* A ZeroMQ context able to hold max_sockets sockets (0: libzmq's default, 1023) with
 * io_threads I/O threads (0: 1). NULL with errno set on failure. Destroy with
 * tp_context_destroy(). */
void *tp_context_create(int max_sockets, int io_threads);
void tp_context_destroy(void *ctx);

/* Binds a server socket (ZMQ_ROUTER or ZMQ_PUB) at endpoint as CURVE server with key (its
 * secret is required) in ZAP domain zap_domain. "tcp://127.0.0.1:*" binds a free port; the
 * endpoint actually bound is written to bound (bound_len bytes, may be 0). A ROUTER is set
 * ZMQ_ROUTER_MANDATORY, so sending to a gone peer fails with -EHOSTUNREACH instead of
 * vanishing. key NULL: no CURVE (ipc:// and inproc:// only; refused for tcp://). On success
 * *out is the socket (the caller closes it with tp_close()). */
int tp_bind(void *ctx, int type, const char *endpoint, const struct tp_keypair *key,
	    const char *zap_domain, void **out, char *bound, size_t bound_len);
/* Connects a client socket (ZMQ_DEALER or ZMQ_SUB) to endpoint as CURVE client with key and
 * the server's public key (z85). DEALERs are ZMQ_IMMEDIATE: nothing queues for a
 * connection that is not up. key NULL: no CURVE (non-tcp only). */
int tp_connect(void *ctx, int type, const char *endpoint, const struct tp_keypair *key,
	       const char *server_public, void **out);
/* tp_connect, with a socket monitor (tp_monitor_start) started before the connection is
 * made, so that no handshake event is missed (after a refused key libzmq does not try
 * again: its one HANDSHAKE_FAILED_AUTH is the only word). The caller ends the monitor with
 * tp_monitor_stop() before closing the socket. */
int tp_connect_monitored(void *ctx, int type, const char *endpoint, const struct tp_keypair *key,
			 const char *server_public, void **out, void **monitor);
/* Closes a socket without lingering on unsent messages. NULL is ignored. */
void tp_close(void *sock);

/* ---- Messages ---- */

/* Where a ROUTER message came from and goes back to. */
struct tp_route {
	uint8_t id[TP_ROUTE_MAX];
	size_t len;          /* 0: no routing id (DEALER, SUB) */
	bool delimiter;      /* the peer sent an empty delimiter frame (REQ); echoed on reply */
};

/* One received message. */
struct tp_msg {
	struct tp_route route;
	char user_id[TP_ID_MAX];  /* ZAP identity of the sender, "" without ZAP */
	char topic[TP_TOPIC_MAX]; /* SUB only */
	size_t payload_len;       /* bytes of the payload frame as received */
	Raas__Envelope *env;      /* decoded envelope, owned by the message (tp_msg_clear) */
	int64_t decode_ns;        /* how long wire_decode took (monotonic clock) */
};

/* Receives one whole message from sock (a ROUTER, DEALER or SUB; flags 0 or ZMQ_DONTWAIT)
 * and decodes its payload with wire_decode() under max_bytes. Every frame of the message is
 * consumed, whatever happens. Returns:
 *   0             msg->env set;
 *   -EAGAIN       nothing to receive (ZMQ_DONTWAIT), or -EINTR;
 *   -RAAS_EPROTO  bad framing or undecodable payload; -RAAS_ETOOBIG over max_bytes;
 *   -RAAS_EVERSION another protocol version.
 * On the three decode errors msg->route and msg->user_id are still filled (when the socket
 * gives them), so the caller can answer, and why says what was wrong. The caller calls
 * tp_msg_clear() after every call that returned 0. */
int tp_recv(void *sock, int flags, size_t max_bytes, struct tp_msg *msg, char *why,
	    size_t why_len);
/* Frees msg->env and resets msg. */
void tp_msg_clear(struct tp_msg *msg);

/* Sends an envelope (encoded here) to route (NULL or len 0 for a DEALER). flags:
 * ZMQ_DONTWAIT to fail with -EAGAIN instead of blocking at the high-water mark. */
int tp_send(void *sock, const struct tp_route *route, const Raas__Envelope *e, int flags);
/* Sends already encoded payload bytes to route. */
int tp_send_raw(void *sock, const struct tp_route *route, const void *buf, size_t len,
		int flags);
/* Publishes e under topic on a PUB socket (never blocks: PUB drops at the high-water mark). */
int tp_publish(void *sock, const char *topic, const Raas__Envelope *e);
/* Publishes already encoded payload bytes under topic. */
int tp_publish_raw(void *sock, const char *topic, const void *buf, size_t len);
/* Subscribes a SUB socket to topic prefix ("" for everything). */
int tp_subscribe(void *sock, const char *prefix);

/* Called by tp_call() for a message that is not the awaited reply (an allocation notice,
 * a late reply to an earlier try). Borrows env. */
typedef void (*tp_other_fn)(void *arg, const Raas__Envelope *env);

/* Sends request e on a DEALER and waits for the Reply envelope with the same request id.
 * With ctx (a socket monitor is started on the dealer) the request goes out the moment the
 * CURVE handshake completes, and is re-sent every try_ns after that; without ctx it is
 * offered every few milliseconds until the connection takes it (ZMQ_IMMEDIATE), then every
 * try_ns. A retried request is answered, never applied twice (the server's request-id rule).
 * Waits up to deadline_ns in total. Other messages go to other (may be NULL). On success
 * *reply owns the reply envelope (wire_free). Returns 0, or (monitor seen with ctx):
 *   -EACCES        the server refused our key (ZAP);
 *   -EKEYREJECTED  a TCP connection was made but the CURVE handshake failed on the server's
 *                  side: the server's public key we were given is not the server's (or the
 *                  endpoint is not a CURVE server);
 *   -ETIMEDOUT     no reply (no connection at all: an unreachable server, or a silent one);
 * or a receive error. *timing (may be NULL) says where the time went. */
struct tp_call_timing {
	int64_t handshake_ns;   /* from the call to the handshake (-1: not seen) */
	int64_t reply_ns;       /* from the first send the connection took to the reply */
	int tries;              /* sends the connection took */
};
int tp_call_timed(void *ctx, void *dealer, const Raas__Envelope *e, int64_t try_ns,
		  int64_t deadline_ns, size_t max_bytes, tp_other_fn other, void *arg,
		  Raas__Envelope **reply, struct tp_call_timing *timing);
int tp_call(void *ctx, void *dealer, const Raas__Envelope *e, int64_t try_ns,
	    int64_t deadline_ns, size_t max_bytes, tp_other_fn other, void *arg,
	    Raas__Envelope **reply);
/* The same on a dealer whose monitor the caller started (tp_connect_monitored: the way to
 * see a refused key for sure); monitor may be NULL. */
int tp_call_on(void *dealer, void *monitor, const Raas__Envelope *e, int64_t try_ns,
	       int64_t deadline_ns, size_t max_bytes, tp_other_fn other, void *arg,
	       Raas__Envelope **reply, struct tp_call_timing *timing);

/* What a client socket's monitor has seen of its connections (tp_monitor_update). */
struct tp_link {
	int connects;           /* TCP connections made */
	int handshakes;         /* CURVE handshakes completed */
	int refused;            /* the server refused our key (HANDSHAKE_FAILED_AUTH) */
	int broken;             /* handshakes that failed otherwise: the server closed the
				   connection mid-handshake (a wrong server key) or spoke nonsense */
	int disconnects;
	bool up;                /* the last event was a completed handshake */
};

/* Starts watching a client socket's connections and handshakes (zmq_socket_monitor on an
 * inproc endpoint of its own). *monitor is a PAIR socket, readable when an event waits (put
 * it in a poll set); end it with tp_monitor_stop(). */
int tp_monitor_start(void *ctx, void *sock, void **monitor);
/* Ends watching sock and closes monitor. Always end a monitor this way while its socket
 * lives on: libzmq sends monitor events from its I/O thread, and an event sent to a monitor
 * whose reading end is closed blocks that thread, and with it every socket of the context.
 * NULL monitor is ignored. */
void tp_monitor_stop(void *sock, void *monitor);
/* Drains the monitor's events into link. Returns how many events it read. */
int tp_monitor_update(void *monitor, struct tp_link *link);
/* Drains monitor events; true once the server refused our key (HANDSHAKE_FAILED_AUTH), and
 * sets *ok when a handshake succeeded. (tp_monitor_update tells more.) */
bool tp_auth_refused(void *monitor, bool *ok);

/* ---- ZAP: who a CURVE key belongs to ---- */

/* Looks up a client's public key (z85) in a ZAP domain ("tenant", "host", "prices"). Writes
 * the identity to identity (id_len bytes) and returns 0 to let the client in; any negative
 * value refuses it. Runs on the thread that calls tp_zap_handle(). */
typedef int (*tp_zap_lookup_fn)(void *arg, const char *domain, const char *public_key,
				char *identity, size_t id_len);

struct tp_zap_stats {
	uint64_t allowed;
	uint64_t denied;
	uint64_t malformed; /* requests that were not CURVE or did not parse: denied too */
};

struct tp_zap;

/* Binds the context's ZAP handler (TP_ZAP_ENDPOINT) answering with lookup (borrowed with
 * arg until destroy). Call before binding any CURVE server socket. Only CURVE clients can
 * pass: NULL and PLAIN mechanisms are refused. */
int tp_zap_create(void *ctx, tp_zap_lookup_fn lookup, void *arg, struct tp_zap **out);
/* The ZAP socket, to put into the caller's zmq_poll set (ZMQ_POLLIN). */
void *tp_zap_socket(struct tp_zap *z);
/* Answers every pending ZAP request without blocking. Returns how many it answered. */
int tp_zap_handle(struct tp_zap *z);
void tp_zap_get_stats(const struct tp_zap *z, struct tp_zap_stats *out);
void tp_zap_destroy(struct tp_zap *z);

#endif
