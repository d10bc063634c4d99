/* httpd.c: the read-only HTTP server of httpd.h: binding, the bearer token, routing to the
 * published snapshot's documents or the dashboard pages, error bodies, status counting.
 *
 * Every request is answered on its first callback: GET and HEAD only, no request body is
 * ever read. Bodies are copied out of the snapshot (held by a reference, not a lock), so a
 * slow client never holds anything the daemon's loop waits for. */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sched.h>
#include <sys/resource.h>
#include <sys/syscall.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include "common/log.h"
#include "common/prom.h"
#include "httpd_internal.h"

void httpd__count(struct httpd *h, unsigned code)
{
	if (code < 600)
		atomic_fetch_add(&h->by_code[code], 1);
}

void httpd__common_headers(struct MHD_Response *r)
{
	MHD_add_response_header(r, "Access-Control-Allow-Origin", "*");
	MHD_add_response_header(r, "Cache-Control", "no-store");
}

static enum MHD_Result queue(struct httpd *h, struct MHD_Connection *c, unsigned code,
			     struct MHD_Response *r)
{
	enum MHD_Result ret;

	if (!r)
		return MHD_NO;
	httpd__common_headers(r);
	ret = MHD_queue_response(c, code, r);
	MHD_destroy_response(r);
	if (ret == MHD_YES)
		httpd__count(h, code);
	return ret;
}

enum MHD_Result httpd__error(struct httpd *h, struct MHD_Connection *c, unsigned code,
			     const char *fmt, ...)
{
	char msg[400];
	struct sbuf b;
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	sbuf_init(&b);
	sbuf_printf(&b, "{\"status\": %u, \"error\": ", code);
	sbuf_json_str(&b, msg);
	sbuf_puts(&b, "}\n");
	if (sbuf_failed(&b)) {
		sbuf_fini(&b);
		return MHD_NO;
	}
	struct MHD_Response *r =
		MHD_create_response_from_buffer(b.len, b.s, MHD_RESPMEM_MUST_COPY);
	sbuf_fini(&b);
	if (!r)
		return MHD_NO;
	MHD_add_response_header(r, "Content-Type", "application/json");
	if (code == 401)
		MHD_add_response_header(r, "WWW-Authenticate", "Bearer realm=\"raas\"");
	if (code == 405)
		MHD_add_response_header(r, "Allow", "GET, HEAD");
	return queue(h, c, code, r);
}

/* ---- snapshots ---- */

struct httpd_snap *httpd_snap_create(void)
{
	struct httpd_snap *s = calloc(1, sizeof(*s));
	if (s)
		atomic_init(&s->refs, 1);
	return s;
}

void httpd_snap_free(struct httpd_snap *s)
{
	if (!s)
		return;
	for (size_t i = 0; i < s->n; i++)
		free(s->docs[i].body);
	free(s->docs);
	free(s);
}

static void snap_put(struct httpd_snap *s)
{
	if (s && atomic_fetch_sub(&s->refs, 1) == 1)
		httpd_snap_free(s);
}

int httpd_snap_add(struct httpd_snap *s, const char *path, const char *content_type,
		   char *body, size_t len)
{
	if (!body)
		return -ENOMEM;
	if (s->n == s->cap) {
		size_t cap = s->cap ? 2 * s->cap : 8;
		struct httpd_doc *d = realloc(s->docs, cap * sizeof(*d));
		if (!d) {
			free(body);
			return -ENOMEM;
		}
		s->docs = d;
		s->cap = cap;
	}
	struct httpd_doc *d = &s->docs[s->n++];
	snprintf(d->path, sizeof(d->path), "%s", path);
	snprintf(d->ctype, sizeof(d->ctype), "%s", content_type);
	d->body = body;
	d->len = len;
	return 0;
}

int httpd_snap_add_sbuf(struct httpd_snap *s, const char *path, const char *content_type,
			struct sbuf *b)
{
	size_t len = 0;
	char *body = sbuf_take(b, &len);
	return httpd_snap_add(s, path, content_type, body, len);
}

void httpd_publish(struct httpd *h, struct httpd_snap *s)
{
	struct httpd_snap *old;

	if (!h) {
		httpd_snap_free(s);
		return;
	}
	pthread_mutex_lock(&h->lock);
	old = h->snap;
	h->snap = s;
	pthread_mutex_unlock(&h->lock);
	snap_put(old);
}

static struct httpd_snap *snap_get(struct httpd *h)
{
	struct httpd_snap *s;

	pthread_mutex_lock(&h->lock);
	s = h->snap;
	if (s)
		atomic_fetch_add(&s->refs, 1);
	pthread_mutex_unlock(&h->lock);
	return s;
}

static enum MHD_Result serve_doc(struct httpd *h, struct MHD_Connection *c, const char *url,
				 bool *found)
{
	struct httpd_snap *s = snap_get(h);
	enum MHD_Result ret = MHD_NO;

	*found = false;
	for (size_t i = 0; s && i < s->n; i++) {
		if (strcmp(s->docs[i].path, url) != 0)
			continue;
		*found = true;
		struct MHD_Response *r = MHD_create_response_from_buffer(
			s->docs[i].len, s->docs[i].body, MHD_RESPMEM_MUST_COPY);
		if (r)
			MHD_add_response_header(r, "Content-Type", s->docs[i].ctype);
		ret = queue(h, c, 200, r);
		break;
	}
	if (!*found && !s && strncmp(url, "/api/", 5) == 0) {
		*found = true;
		ret = httpd__error(h, c, 503, "no snapshot yet: the first one is published at "
					      "start; retry");
	}
	snap_put(s);
	return ret;
}

/* ---- pages ---- */

static const char *ctype_of(const char *path)
{
	static const char *const map[][2] = {
		{".html", "text/html; charset=utf-8"}, {".js", "text/javascript"},
		{".mjs", "text/javascript"},           {".css", "text/css"},
		{".svg", "image/svg+xml"},             {".png", "image/png"},
		{".json", "application/json"},         {".map", "application/json"},
		{".txt", "text/plain; charset=utf-8"},
	};
	const char *dot = strrchr(path, '.');

	for (size_t i = 0; dot && i < sizeof(map) / sizeof(map[0]); i++)
		if (strcmp(dot, map[i][0]) == 0)
			return map[i][1];
	return "application/octet-stream";
}

static enum MHD_Result serve_page(struct httpd *h, struct MHD_Connection *c, const char *url,
				  bool *found)
{
	char path[1400];
	struct stat st;
	int fd;

	*found = false;
	if (!h->cfg.pages_dir[0])
		return MHD_NO;
	if (strcmp(url, "/") == 0)
		url = "/index.html";
	if (strstr(url, "..") || strlen(url) > 256)
		return MHD_NO;
	for (const char *p = url; *p; p++)
		if (!(*p == '/' || *p == '.' || *p == '-' || *p == '_' ||
		      (*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z') ||
		      (*p >= '0' && *p <= '9')))
			return MHD_NO;
	snprintf(path, sizeof(path), "%s%s", h->cfg.pages_dir, url);
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return MHD_NO;
	if (fstat(fd, &st) != 0 || !S_ISREG(st.st_mode)) {
		close(fd);
		return MHD_NO;
	}
	*found = true;
	struct MHD_Response *r = MHD_create_response_from_fd((uint64_t)st.st_size, fd);
	if (!r) {
		close(fd);
		return MHD_NO;
	}
	MHD_add_response_header(r, "Content-Type", ctype_of(path));
	if (h->cfg.token[0] &&
	    MHD_lookup_connection_value(c, MHD_GET_ARGUMENT_KIND, "token") != NULL) {
		/* The page's own requests (same origin) then carry it; SameSite=Strict: never
		 * sent by another site's page, and the API's CORS `*` forbids credentials. */
		char cookie[400];
		snprintf(cookie, sizeof(cookie), HTTPD_TOKEN_COOKIE "=%s; Path=/; HttpOnly; "
			 "SameSite=Strict", h->cfg.token);
		MHD_add_response_header(r, "Set-Cookie", cookie);
	}
	return queue(h, c, 200, r);
}

/* same_token: constant-time comparison of a presented token with the configured one. */
static bool same_token(const char *got, const char *want)
{
	size_t n = strlen(want);
	unsigned char diff = 0;

	if (!got || strlen(got) != n)
		return false;
	for (size_t i = 0; i < n; i++)
		diff |= (unsigned char)(got[i] ^ want[i]);
	return diff == 0;
}

/* token_ok: the token as a bearer header (API clients), or as the page's query `?token=` or
 * the cookie that a page fetched that way sets (a browser: neither fetch() from a link nor
 * EventSource can send a header, so the token in the printed URL is how a page opens). */
static bool token_ok(const struct httpd *h, struct MHD_Connection *c)
{
	const char *auth = MHD_lookup_connection_value(c, MHD_HEADER_KIND, "Authorization");
	const char *want = h->cfg.token;

	if (auth && strncmp(auth, "Bearer ", 7) == 0 && same_token(auth + 7, want))
		return true;
	if (same_token(MHD_lookup_connection_value(c, MHD_GET_ARGUMENT_KIND, "token"), want))
		return true;
	return same_token(MHD_lookup_connection_value(c, MHD_COOKIE_KIND, HTTPD_TOKEN_COOKIE),
			  want);
}

static enum MHD_Result on_request(void *cls, struct MHD_Connection *c, const char *url,
				  const char *method, const char *version,
				  const char *upload_data, size_t *upload_data_size,
				  void **req_cls)
{
	struct httpd *h = cls;
	bool found = false;
	enum MHD_Result ret;

	(void)version;
	(void)upload_data;
	if (*req_cls) {
		/* A body arrived after the answer was queued: discard it. */
		*upload_data_size = 0;
		return MHD_YES;
	}
	*req_cls = h;
	if (strcmp(method, MHD_HTTP_METHOD_GET) != 0 && strcmp(method, MHD_HTTP_METHOD_HEAD) != 0)
		return httpd__error(h, c, 405, "%s is not served: this API is read-only", method);
	if (h->cfg.token[0] && !token_ok(h, c))
		return httpd__error(h, c, 401, "a bearer token is required "
					       "(Authorization: Bearer TOKEN, or ?token=TOKEN)");
	if (h->events_path[0] && strcmp(url, h->events_path) == 0)
		return httpd__sse_start(h, c, req_cls);
	ret = serve_doc(h, c, url, &found);
	if (found)
		return ret;
	ret = serve_page(h, c, url, &found);
	if (found)
		return ret;
	return httpd__error(h, c, 404, "no such path: %.200s", url);
}

static void on_completed(void *cls, struct MHD_Connection *c, void **req_cls,
			 enum MHD_RequestTerminationCode toe)
{
	struct httpd *h = cls;

	(void)c;
	if (*req_cls && *req_cls != h)
		httpd__sse_completed(h, *req_cls, toe);
	*req_cls = NULL;
}

/* Each connection's kernel send buffer is fixed (which also turns Linux's autotuning off):
 * an event-stream client that never reads then stalls the stream within this many bytes,
 * and the connection timeout drops it, instead of the kernel growing the buffer to
 * megabytes (minutes of events) while every write seems to succeed. */
#define HTTPD_SNDBUF 32768

/* The HTTP thread gives way to the daemon's own loop (a market's round close must not wait
 * for pages and event streams): SCHED_BATCH (no wake-up preemption of the running loop) at
 * nice 10. Both only lower this thread's claim, which needs no privilege. Done on the first
 * connection, in the HTTP thread itself (libmicrohttpd creates it). */
static void yield_to_loop(struct httpd *h)
{
	if (atomic_exchange(&h->yielding, true))
		return;
	struct sched_param sp = {.sched_priority = 0};
	pid_t tid = (pid_t)syscall(SYS_gettid);
	if (sched_setscheduler(0, SCHED_BATCH, &sp) != 0)
		log_debug("http: SCHED_BATCH: %s", strerror(errno));
	if (setpriority(PRIO_PROCESS, (id_t)tid, 10) != 0)
		log_debug("http: nice: %s", strerror(errno));
}

static void on_connection(void *cls, struct MHD_Connection *c, void **socket_ctx,
			  enum MHD_ConnectionNotificationCode code)
{
	(void)socket_ctx;
	if (code != MHD_CONNECTION_NOTIFY_STARTED)
		return;
	yield_to_loop(cls);
	const union MHD_ConnectionInfo *ci =
		MHD_get_connection_info(c, MHD_CONNECTION_INFO_CONNECTION_FD);
	int v = HTTPD_SNDBUF;
	if (ci && setsockopt(ci->connect_fd, SOL_SOCKET, SO_SNDBUF, &v, sizeof(v)) != 0)
		log_debug("http: SO_SNDBUF: %s", strerror(errno));
}

static void on_mhd_log(void *cls, const char *fmt, va_list ap)
{
	char msg[512];

	(void)cls;
	vsnprintf(msg, sizeof(msg), fmt, ap);
	msg[strcspn(msg, "\n")] = 0;
	log_debug("http: %s", msg);
}

/* Enough descriptors for the connection limit (raises the soft limit, never the hard). */
static void raise_nofile(size_t want)
{
	struct rlimit rl;

	if (getrlimit(RLIMIT_NOFILE, &rl) != 0 || rl.rlim_cur >= want)
		return;
	rl.rlim_cur = rl.rlim_max == RLIM_INFINITY || rl.rlim_max > want ? want : rl.rlim_max;
	if (setrlimit(RLIMIT_NOFILE, &rl) != 0)
		log_warn("http: cannot raise the descriptor limit to %zu: %s", want,
			 strerror(errno));
}

int httpd_start(const struct httpd_config *cfg, const struct httpd_options *opts,
		struct httpd **out, char *why, size_t why_len)
{
	struct sockaddr_storage ss;
	socklen_t sl;
	unsigned flags = MHD_USE_AUTO_INTERNAL_THREAD | MHD_ALLOW_SUSPEND_RESUME |
			 MHD_USE_ERROR_LOG;
	struct httpd *h = calloc(1, sizeof(*h));

	*out = NULL;
	if (!h)
		return -ENOMEM;
	h->cfg = *cfg;
	snprintf(h->server, sizeof(h->server), "%s", opts->server ? opts->server : "raas");
	snprintf(h->events_path, sizeof(h->events_path), "%s",
		 opts->events_path ? opts->events_path : "");
	snprintf(h->prefix, sizeof(h->prefix), "%s",
		 opts->metrics_prefix ? opts->metrics_prefix : "raas");
	h->next_seq = 1;
	pthread_mutex_init(&h->lock, NULL);
	pthread_mutex_init(&h->events_lock, NULL);
	memset(&ss, 0, sizeof(ss));
	if (strchr(cfg->bind, ':')) {
		struct sockaddr_in6 *a = (struct sockaddr_in6 *)&ss;
		a->sin6_family = AF_INET6;
		a->sin6_port = htons((uint16_t)cfg->port);
		inet_pton(AF_INET6, cfg->bind, &a->sin6_addr);
		flags |= MHD_USE_IPv6;
	} else {
		struct sockaddr_in *a = (struct sockaddr_in *)&ss;
		a->sin_family = AF_INET;
		a->sin_port = htons((uint16_t)cfg->port);
		inet_pton(AF_INET, cfg->bind, &a->sin_addr);
	}
	raise_nofile(cfg->max_connections + 256);
	unsigned timeout_s = (unsigned)((cfg->timeout_ns + 999999999) / 1000000000);
	h->mhd = MHD_start_daemon(
		flags, (uint16_t)cfg->port, NULL, NULL, on_request, h, MHD_OPTION_EXTERNAL_LOGGER,
		on_mhd_log, h, MHD_OPTION_SOCK_ADDR, &ss, MHD_OPTION_CONNECTION_LIMIT,
		(unsigned)cfg->max_connections, MHD_OPTION_CONNECTION_TIMEOUT, timeout_s,
		MHD_OPTION_CONNECTION_MEMORY_LIMIT, (size_t)cfg->request_bytes,
		MHD_OPTION_NOTIFY_COMPLETED, on_completed, h, MHD_OPTION_NOTIFY_CONNECTION,
		on_connection, h, MHD_OPTION_END);
	if (!h->mhd) {
		int e = errno ? errno : EADDRINUSE;
		snprintf(why, why_len, "cannot serve HTTP on %s port %d: %s", cfg->bind, cfg->port,
			 strerror(e));
		pthread_mutex_destroy(&h->lock);
		pthread_mutex_destroy(&h->events_lock);
		free(h);
		return -e;
	}
	const union MHD_DaemonInfo *di = MHD_get_daemon_info(h->mhd, MHD_DAEMON_INFO_LISTEN_FD);
	int port = cfg->port;
	sl = sizeof(ss);
	if (di && getsockname(di->listen_fd, (struct sockaddr *)&ss, &sl) == 0)
		port = ntohs(ss.ss_family == AF_INET6 ? ((struct sockaddr_in6 *)&ss)->sin6_port
						      : ((struct sockaddr_in *)&ss)->sin_port);
	if (strchr(cfg->bind, ':'))
		snprintf(h->endpoint, sizeof(h->endpoint), "http://[%s]:%d", cfg->bind, port);
	else
		snprintf(h->endpoint, sizeof(h->endpoint), "http://%s:%d", cfg->bind, port);
	*out = h;
	return 0;
}

void httpd_stop(struct httpd *h)
{
	if (!h)
		return;
	httpd__sse_stopping(h);
	MHD_stop_daemon(h->mhd);
	httpd__sse_fini(h);
	snap_put(h->snap);
	pthread_mutex_destroy(&h->lock);
	pthread_mutex_destroy(&h->events_lock);
	free(h);
}

const char *httpd_endpoint(const struct httpd *h)
{
	return h->endpoint;
}

void httpd_metrics_write(struct httpd *h, struct sbuf *b)
{
	char name[128], lab[64];

	snprintf(name, sizeof(name), "%s_http_requests_total", h->prefix);
	prom_family(b, name, "counter", "HTTP responses by status code");
	for (unsigned code = 100; code < 600; code++) {
		unsigned long long n = atomic_load(&h->by_code[code]);
		if (!n)
			continue;
		snprintf(lab, sizeof(lab), "code=\"%u\"", code);
		prom_int(b, name, lab, (int64_t)n);
	}
	if (!h->events_path[0])
		return;
	snprintf(name, sizeof(name), "%s_sse_clients", h->prefix);
	prom_family(b, name, "gauge", "event-stream clients connected");
	prom_int(b, name, NULL, (int64_t)httpd_sse_clients(h));
	snprintf(name, sizeof(name), "%s_sse_dropped_total", h->prefix);
	prom_family(b, name, "counter", "event-stream clients dropped or refused, by reason");
	prom_int(b, name, "reason=\"behind\"", (int64_t)atomic_load(&h->dropped_behind));
	prom_int(b, name, "reason=\"timeout\"", (int64_t)atomic_load(&h->dropped_timeout));
	prom_int(b, name, "reason=\"too_many\"", (int64_t)atomic_load(&h->refused_sse));
}
