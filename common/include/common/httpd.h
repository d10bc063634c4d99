/* httpd.h: the daemons' read-only HTTP side (libmicrohttpd): snapshots, an event stream,
 * /metrics.
 *
 * raas-marketd, raas-hostagentd and nom-priced serve HTTP through this one module, so that
 * binding, the bearer token, limits, error bodies and status counting are the same in each
 * (docs/dashboards.md). The HTTP side runs in libmicrohttpd's own thread and never touches a
 * daemon's state: the daemon's loop renders every document into a snapshot
 * (struct httpd_snap) and publishes it; requests are answered from the newest snapshot,
 * which the HTTP thread holds by a reference, never under a lock across I/O. Events
 * (server-sent events) go into a bounded ring; a client that falls behind the ring, or whose
 * socket takes nothing for the timeout, is dropped with a reason.
 *
 * Design notes
 *   1. The current snapshot pointer is read and swapped only under h->lock, and only long
 *      enough to take or drop a reference; bodies are copied into responses outside it.
 *   2. The event ring holds the last HTTPD_EVENTS events by sequence; a stream's next
 *      sequence is never above the ring's next one; a stream whose next sequence fell out of
 *      the ring is dropped (never buffered without bound).
 *   3. A suspended stream is resumed by every publish (both under h->events_lock, so no
 *      wake-up is lost between "nothing to send" and suspending). */
#ifndef COMMON_HTTPD_H
#define COMMON_HTTPD_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "common/config.h"
#include "common/sbuf.h"

/* Events kept for resuming and slow readers. */
#define HTTPD_EVENTS 256
#define HTTPD_TOKEN_MIN 16

/* The schema rows of the HTTP keys in section sec (for a daemon's cfg_key table). */
#define HTTPD_CFG_KEYS(sec)                                                                   \
	{sec, "http_enabled", CFG_BOOL, "true", "serve HTTP (docs/dashboards.md)"},           \
	{sec, "http_bind", CFG_STRING, "127.0.0.1",                                           \
	 "HTTP address; one that is not loopback needs http_token_file"},                     \
	{sec, "http_port", CFG_INT, "0", "HTTP port (0: a free one, in the ready file)"},     \
	{sec, "http_token_file", CFG_STRING, "",                                              \
	 "file holding the bearer token every HTTP request must carry"},                      \
	{sec, "http_max_connections", CFG_INT, "1024", "HTTP connections at once"},           \
	{sec, "http_sse_max", CFG_INT, "256", "event-stream clients at once"},                \
	{sec, "http_timeout", CFG_DURATION, "10s",                                            \
	 "close an HTTP connection idle (or not taking data) this long"},                     \
	{sec, "http_request_bytes", CFG_INT, "16384", "largest request head"},                \
	{sec, "http_pages_dir", CFG_STRING, "", "folder of the dashboard pages served at /"}
#define HTTPD_CFG_NKEYS 9

struct httpd_config {
	bool enabled;
	char bind[64];
	int port;
	char token[256];         /* "" none */
	size_t max_connections;
	size_t sse_max;
	int64_t timeout_ns;
	size_t request_bytes;
	char pages_dir[1024];
};

void httpd_config_defaults(struct httpd_config *out);
/* Reads the HTTP keys of section (and the token file). A bind address that is not loopback
 * without a token is refused at http_bind. 0 or -RAAS_ECONFIG with err. */
int httpd_config_load(const struct cfg *c, const char *section, struct httpd_config *out,
		      struct cfg_error *err);

struct httpd;
struct httpd_snap;

struct httpd_options {
	const char *server;        /* Server: header, e.g. "raas-marketd/0.1" */
	const char *events_path;   /* the event stream's path, or NULL for none */
	const char *metrics_prefix; /* of the HTTP families httpd_metrics_write writes */
};

/* Starts serving (cfg and opts are copied). -errno or -RAAS_E* with why. */
int httpd_start(const struct httpd_config *cfg, const struct httpd_options *opts,
		struct httpd **out, char *why, size_t why_len);
/* Stops the thread, closes every connection, frees everything. NULL is fine. */
void httpd_stop(struct httpd *h);
/* "http://ADDRESS:PORT" of the listening socket. */
const char *httpd_endpoint(const struct httpd *h);

/* A new empty snapshot, or NULL on OOM. */
struct httpd_snap *httpd_snap_create(void);
/* Adds a document: body (malloc'd) is taken over, also on failure. -ENOMEM. */
int httpd_snap_add(struct httpd_snap *s, const char *path, const char *content_type,
		   char *body, size_t len);
/* Adds the text of b (emptied) as a document. */
int httpd_snap_add_sbuf(struct httpd_snap *s, const char *path, const char *content_type,
			struct sbuf *b);
/* Makes s the snapshot requests are answered from (takes ownership; NULL h frees s). */
void httpd_publish(struct httpd *h, struct httpd_snap *s);
void httpd_snap_free(struct httpd_snap *s);

/* Appends an event (id, name, JSON data of one line) to the ring and wakes every stream.
 * -ENOMEM when it cannot be kept (the stream then misses nothing: nothing is sent). */
int httpd_event_publish(struct httpd *h, uint64_t id, const char *event, const char *data);

/* The event-stream clients connected now. */
size_t httpd_sse_clients(const struct httpd *h);
/* Writes PREFIX_http_requests_total{code} and, with an event stream, PREFIX_sse_clients and
 * PREFIX_sse_dropped_total{reason}. */
void httpd_metrics_write(struct httpd *h, struct sbuf *b);

#endif
