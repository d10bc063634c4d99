/* httpd_internal.h: the HTTP server's state, shared by httpd.c (requests, snapshots) and
 * httpd_sse.c (the event stream). */
#ifndef COMMON_HTTPD_INTERNAL_H
#define COMMON_HTTPD_INTERNAL_H

#include <microhttpd.h>
#include <pthread.h>
#include <stdatomic.h>

#include "common/httpd.h"

/* The cookie a page opened with ?token= gets, so its own API and event-stream requests pass. */
#define HTTPD_TOKEN_COOKIE "raas_token"

struct httpd_doc {
	char path[96];
	char ctype[64];
	char *body;
	size_t len;
};

struct httpd_snap {
	atomic_int refs;
	struct httpd_doc *docs;
	size_t n, cap;
};

struct httpd_event {
	uint64_t seq;     /* 0: empty slot */
	uint64_t id;
	char *text;       /* "id: N\nevent: NAME\ndata: ...\n\n" */
	size_t len;
};

struct httpd_stream;

struct httpd {
	struct httpd_config cfg;
	char server[64];
	char events_path[64];
	char prefix[64];
	char endpoint[96];
	struct MHD_Daemon *mhd;
	pthread_mutex_t lock;        /* snap (invariant 1) */
	struct httpd_snap *snap;
	pthread_mutex_t events_lock; /* the ring and the streams (invariants 2, 3) */
	struct httpd_event ring[HTTPD_EVENTS];
	uint64_t next_seq;           /* the sequence the next event gets (from 1) */
	struct httpd_stream *streams;
	size_t nstreams;
	bool stopping;
	atomic_bool yielding;        /* the HTTP thread lowered its own scheduling (httpd.c) */
	/* Counters (read by httpd_metrics_write from the daemon's thread). */
	atomic_ullong by_code[600];
	atomic_ullong dropped_behind, dropped_timeout, refused_sse;
};

/* httpd.c */
enum MHD_Result httpd__error(struct httpd *h, struct MHD_Connection *c, unsigned code,
			     const char *fmt, ...) __attribute__((format(printf, 4, 5)));
void httpd__count(struct httpd *h, unsigned code);
void httpd__common_headers(struct MHD_Response *r);

/* httpd_sse.c */
enum MHD_Result httpd__sse_start(struct httpd *h, struct MHD_Connection *c, void **req_cls);
/* The request of req_cls ended (toe: why); releases the stream's request reference. */
void httpd__sse_completed(struct httpd *h, void *req_cls, enum MHD_RequestTerminationCode toe);
/* Ends every stream (before MHD_stop_daemon: no connection stays suspended). */
void httpd__sse_stopping(struct httpd *h);
void httpd__sse_fini(struct httpd *h);

#endif
