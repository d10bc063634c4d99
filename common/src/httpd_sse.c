/* httpd_sse.c: the server-sent-events stream of httpd.h: a bounded ring of events, resuming
 * from Last-Event-ID, and dropping a client that falls behind (docs/dashboards.md).
 *
 * A stream is a libmicrohttpd response whose content reader copies from the ring. With
 * nothing to send it suspends its connection; every publish resumes the suspended ones.
 * Suspending and publishing both happen under events_lock (httpd.h invariant 3). A stream
 * has two references: its response (freed by libmicrohttpd) and its request (ended by
 * on_completed); whichever comes last frees it. */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/log.h"
#include "httpd_internal.h"

struct httpd_stream {
	struct httpd *h;
	struct MHD_Connection *conn;
	uint64_t next;          /* the sequence it sends next */
	size_t off;             /* bytes of that event already sent */
	char pre[512];          /* text before the next event: retry, reset, dropped */
	size_t prelen, preoff;
	bool suspended, closing, listed;
	int refs;
	struct httpd_stream *prev, *nxt;
};

static uint64_t oldest_seq(const struct httpd *h)
{
	return h->next_seq > HTTPD_EVENTS ? h->next_seq - HTTPD_EVENTS : 1;
}

static void stream_put(struct httpd_stream *s)
{
	if (--s->refs == 0)
		free(s);
}

static void unlink_stream(struct httpd *h, struct httpd_stream *s)
{
	if (!s->listed)
		return;
	if (s->prev)
		s->prev->nxt = s->nxt;
	else
		h->streams = s->nxt;
	if (s->nxt)
		s->nxt->prev = s->prev;
	s->listed = false;
	h->nstreams--;
}

static ssize_t reader(void *cls, uint64_t pos, char *buf, size_t max)
{
	struct httpd_stream *s = cls;
	struct httpd *h = s->h;
	ssize_t n = 0;

	(void)pos;
	pthread_mutex_lock(&h->events_lock);
	if (s->preoff < s->prelen) {
		size_t k = s->prelen - s->preoff < max ? s->prelen - s->preoff : max;
		memcpy(buf, s->pre + s->preoff, k);
		s->preoff += k;
		n = (ssize_t)k;
		goto out;
	}
	if (s->closing || h->stopping) {
		n = MHD_CONTENT_READER_END_OF_STREAM;
		goto out;
	}
	if (s->next < oldest_seq(h)) {
		/* Fell out of the ring (invariant 2): say so and end. */
		uint64_t behind = h->next_seq - s->next;
		s->prelen = (size_t)snprintf(s->pre, sizeof(s->pre),
					     "event: dropped\ndata: {\"reason\":\"fell behind by "
					     "%" PRIu64 " events; the server keeps %d\"}\n\n",
					     behind, HTTPD_EVENTS);
		s->preoff = 0;
		s->closing = true;
		atomic_fetch_add(&h->dropped_behind, 1);
		log_info("http: event-stream client dropped: fell behind by %" PRIu64 " events",
			 behind);
		size_t k = s->prelen < max ? s->prelen : max;
		memcpy(buf, s->pre, k);
		s->preoff = k;
		n = (ssize_t)k;
		goto out;
	}
	if (s->next < h->next_seq) {
		const struct httpd_event *e = &h->ring[s->next % HTTPD_EVENTS];
		size_t k = e->len - s->off < max ? e->len - s->off : max;
		memcpy(buf, e->text + s->off, k);
		s->off += k;
		if (s->off == e->len) {
			s->next++;
			s->off = 0;
		}
		n = (ssize_t)k;
		goto out;
	}
	/* Nothing to send: park until the next publish. */
	MHD_suspend_connection(s->conn);
	s->suspended = true;
out:
	pthread_mutex_unlock(&h->events_lock);
	return n;
}

static void on_response_freed(void *cls)
{
	struct httpd_stream *s = cls;
	struct httpd *h = s->h;

	pthread_mutex_lock(&h->events_lock);
	unlink_stream(h, s);
	stream_put(s);
	pthread_mutex_unlock(&h->events_lock);
}

void httpd__sse_completed(struct httpd *h, void *req_cls, enum MHD_RequestTerminationCode toe)
{
	struct httpd_stream *s = req_cls;

	pthread_mutex_lock(&h->events_lock);
	if (toe == MHD_REQUEST_TERMINATED_TIMEOUT_REACHED) {
		atomic_fetch_add(&h->dropped_timeout, 1);
		log_info("http: event-stream client dropped: its socket took nothing for the "
			 "timeout");
	}
	unlink_stream(h, s);
	stream_put(s);
	pthread_mutex_unlock(&h->events_lock);
}

/* Where a stream starts: after Last-Event-ID (header or ?last_event_id=), else at the last
 * event. Returns 0, or -EINVAL for a value that is not a number. */
static int start_at(struct httpd *h, struct MHD_Connection *c, struct httpd_stream *s)
{
	const char *v = MHD_lookup_connection_value(c, MHD_HEADER_KIND, "Last-Event-ID");
	uint64_t oldest = oldest_seq(h), last;
	char *end;
	int w;

	w = snprintf(s->pre, sizeof(s->pre), "retry: 2000\n\n");
	s->prelen = (size_t)w;
	if (!v)
		v = MHD_lookup_connection_value(c, MHD_GET_ARGUMENT_KIND, "last_event_id");
	if (!v || !*v) {
		s->next = h->next_seq > 1 ? h->next_seq - 1 : h->next_seq;
		return 0;
	}
	errno = 0;
	last = strtoull(v, &end, 10);
	if (errno || *end || *v == '-')
		return -EINVAL;
	s->next = h->next_seq;
	for (uint64_t q = oldest; q < h->next_seq; q++) {
		if (h->ring[q % HTTPD_EVENTS].id > last) {
			s->next = q;
			break;
		}
	}
	if (s->next == oldest && oldest < h->next_seq && h->ring[oldest % HTTPD_EVENTS].id > last + 1)
		s->prelen += (size_t)snprintf(s->pre + s->prelen, sizeof(s->pre) - s->prelen,
					      "event: reset\ndata: {\"reason\":\"event %" PRIu64
					      " is no longer kept; resuming from the oldest kept\","
					      "\"oldest\":%" PRIu64 "}\n\n",
					      last, h->ring[oldest % HTTPD_EVENTS].id);
	return 0;
}

enum MHD_Result httpd__sse_start(struct httpd *h, struct MHD_Connection *c, void **req_cls)
{
	struct httpd_stream *s = calloc(1, sizeof(*s));
	struct MHD_Response *r;
	enum MHD_Result ret;

	if (!s)
		return MHD_NO;
	s->h = h;
	s->conn = c;
	pthread_mutex_lock(&h->events_lock);
	if (h->nstreams >= h->cfg.sse_max) {
		pthread_mutex_unlock(&h->events_lock);
		free(s);
		atomic_fetch_add(&h->refused_sse, 1);
		return httpd__error(h, c, 503, "too many event-stream clients (http_sse_max = %zu)",
				    h->cfg.sse_max);
	}
	if (start_at(h, c, s) != 0) {
		pthread_mutex_unlock(&h->events_lock);
		free(s);
		return httpd__error(h, c, 400, "Last-Event-ID: not a round number");
	}
	r = MHD_create_response_from_callback(MHD_SIZE_UNKNOWN, 4096, reader, s,
					      on_response_freed);
	if (!r) {
		pthread_mutex_unlock(&h->events_lock);
		free(s);
		return MHD_NO;
	}
	s->refs = 2;
	s->listed = true;
	s->nxt = h->streams;
	if (h->streams)
		h->streams->prev = s;
	h->streams = s;
	h->nstreams++;
	pthread_mutex_unlock(&h->events_lock);
	MHD_add_response_header(r, "Content-Type", "text/event-stream");
	MHD_add_response_header(r, "X-Accel-Buffering", "no");
	httpd__common_headers(r);
	ret = MHD_queue_response(c, 200, r);
	MHD_destroy_response(r);
	if (ret != MHD_YES) {
		/* The response is freed (one reference); the request never completes as a
		 * stream. */
		pthread_mutex_lock(&h->events_lock);
		unlink_stream(h, s);
		stream_put(s);
		pthread_mutex_unlock(&h->events_lock);
		return ret;
	}
	httpd__count(h, 200);
	*req_cls = s;
	return ret;
}

int httpd_event_publish(struct httpd *h, uint64_t id, const char *event, const char *data)
{
	size_t cap = strlen(data) + strlen(event) + 64;
	char *text = malloc(cap);
	int n;

	if (!h)
		return 0;
	if (!text)
		return -ENOMEM;
	n = snprintf(text, cap, "id: %" PRIu64 "\nevent: %s\ndata: %s\n\n", id, event, data);
	pthread_mutex_lock(&h->events_lock);
	struct httpd_event *e = &h->ring[h->next_seq % HTTPD_EVENTS];
	free(e->text);
	e->seq = h->next_seq++;
	e->id = id;
	e->text = text;
	e->len = (size_t)n;
	for (struct httpd_stream *s = h->streams; s; s = s->nxt) {
		if (s->suspended) {
			s->suspended = false;
			MHD_resume_connection(s->conn);
		}
	}
	pthread_mutex_unlock(&h->events_lock);
	return 0;
}

size_t httpd_sse_clients(const struct httpd *h)
{
	struct httpd *m = (struct httpd *)h;
	size_t n;

	pthread_mutex_lock(&m->events_lock);
	n = m->nstreams;
	pthread_mutex_unlock(&m->events_lock);
	return n;
}

void httpd__sse_stopping(struct httpd *h)
{
	pthread_mutex_lock(&h->events_lock);
	h->stopping = true;
	for (struct httpd_stream *s = h->streams; s; s = s->nxt) {
		if (s->suspended) {
			s->suspended = false;
			MHD_resume_connection(s->conn);
		}
	}
	pthread_mutex_unlock(&h->events_lock);
}

void httpd__sse_fini(struct httpd *h)
{
	for (size_t i = 0; i < HTTPD_EVENTS; i++) {
		free(h->ring[i].text);
		h->ring[i].text = NULL;
	}
}
