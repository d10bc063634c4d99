/* srv.h: the nom apps' server layer: one app code over nomnet or over kernel sockets.
 *
 * Every nom app (nom-memcached, nhttpd, nompipe) is a state machine fed with bytes: it says
 * how many bytes of its input it consumed and queues its replies with srv_send(). Under it,
 * a backend moves the bytes: `nomnet` (the app's private lwIP stack, callbacks in the stack's
 * loop thread) or `kernel` (TCP sockets in an epoll loop, the Linux baseline). Both give the
 * app the same guarantees, so nom and Linux run exactly the same app code side by side:
 *
 *   - input arrives in order; bytes the app did not consume are handed again, followed by
 *     more, up to in_max buffered bytes (beyond that the peer is stopped by TCP flow control);
 *   - srv_send() copies; replies leave in order; while more than out_high bytes wait to be
 *     sent, the app gets no input (a client that does not read stops being served) until the
 *     queue drains below out_low;
 *   - srv_close() closes after every queued byte was handed to TCP; a peer that finishes
 *     sending is closed once its replies are out.
 *
 * Callbacks for one server never run concurrently. The app's counters for its own load
 * (srv_add_requests) are read by the adaptive controller from another thread. */
#ifndef APP_SRV_H
#define APP_SRV_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "app/buf.h"
#include "nom/load.h"
#include "nom/net.h"

struct srv;
struct srv_conn;

enum srv_stack {
	SRV_NOMNET = 0, /* the app's own lwIP stack (nomnet) */
	SRV_KERNEL = 1, /* kernel TCP sockets in epoll: the Linux baseline */
};

struct srv_app_ops {
	/* A connection opened: return its state (owned by the app), or NULL to refuse it. */
	void *(*open)(void *app, struct srv_conn *c);
	/* Bytes arrived (borrowed for the call): return how many were consumed, 0..len. The
	 * rest comes again with what follows. May call srv_send, srv_close, srv_abort. */
	size_t (*input)(void *conn_state, const uint8_t *data, size_t len);
	/* The connection is gone (either side, any reason): free conn_state. */
	void (*close)(void *conn_state);
};

struct srv_config {
	enum srv_stack stack;
	struct nomnet_config net; /* nomnet: the stack to run (borrowed for srv_create) */
	const char *bind_addr;    /* kernel: address to listen on, NULL: any */
	size_t in_max;            /* most unconsumed input kept per connection */
	size_t out_high;          /* pause input above this much queued output */
	size_t out_low;           /* resume below this */
	bool reuse_port;          /* kernel: SO_REUSEPORT, for several servers on one port */
	/* The app's load meter (borrowed, may be NULL): every connection opened and closed and
	 * every batch of requests completed (srv_deliver) is reported to it. */
	struct nom_load *load;
};

/* Fills defaults: nomnet, in_max 2 MiB, out_high 4 MiB, out_low 1 MiB. */
void srv_config_init(struct srv_config *cfg);

/* Creates the server and its backend (for nomnet: the stack, not yet running). ops and app
 * are borrowed and must outlive the server. Returns 0 or -errno (nomnet_create's errors for
 * the stack). */
int srv_create(const struct srv_config *cfg, const struct srv_app_ops *ops, void *app,
	       struct srv **out);
/* Listens on port. Returns 0 or -errno (-EADDRINUSE). */
int srv_listen(struct srv *s, uint16_t port);
/* The TCP port of the i-th listener (useful after listening on port 0 with the kernel
 * stack), or -ENOENT. */
int srv_local_port(const struct srv *s, unsigned i);
/* Serves until srv_stop(). Returns 0 or -errno. */
int srv_run(struct srv *s);
/* Makes srv_run return (async-signal-safe). */
void srv_stop(struct srv *s);
/* Closes every connection and the backend. */
void srv_destroy(struct srv *s);

enum srv_stack srv_stack_of(const struct srv *s);
/* The nomnet stack, or NULL for the kernel backend. */
struct nomnet *srv_nomnet(struct srv *s);
/* "nomnet" / "kernel" <-> enum; parse returns 0 or -EINVAL. */
const char *srv_stack_name(enum srv_stack st);
int srv_stack_parse(const char *name, enum srv_stack *out);

/* Queues len bytes (copied) for the peer. Returns 0, -EPIPE (closing or gone), -ENOMEM. */
int srv_send(struct srv_conn *c, const void *data, size_t len);
/* Closes once the queued output has left; no more input is delivered. */
void srv_close(struct srv_conn *c);
/* Drops the connection at once (reset). */
void srv_abort(struct srv_conn *c);
/* Bytes queued and not yet accepted by TCP. */
size_t srv_pending(const struct srv_conn *c);

/* What an app's input callback does after its state machine ran: sends the replies it
 * queued in out (then empties it), adds the requests completed since *counted to the load
 * counter, and closes when asked. Returns 0 or srv_send's error. */
int srv_deliver(struct srv_conn *c, struct buf *out, uint64_t requests, uint64_t *counted,
		bool close);

/* Runs fn(arg) in the server's thread, between events, and returns when it ran (nomnet: under
 * the stack's lock; kernel: the epoll loop runs it; before srv_run or after it returned: here).
 * For what must not race the app's callbacks, e.g. resizing a cache. Returns 0. */
int srv_call(struct srv *s, void (*fn)(void *arg), void *arg);

/* The app's load: requests served (any thread may read). */
void srv_add_requests(struct srv *s, uint64_t n);
uint64_t srv_requests(const struct srv *s);
struct srv *srv_of(const struct srv_conn *c);

struct srv_stats {
	uint64_t accepted;   /* connections opened */
	uint64_t active;     /* open now */
	uint64_t bytes_in;
	uint64_t bytes_out;
	uint64_t requests;
};
void srv_stats_read(const struct srv *s, struct srv_stats *out);

#endif
