/* httpd.c: nhttpd's request handling (httpd.h). */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "httpd.h"

void httpd_conn_init(struct httpd_conn *c, struct httpd *h)
{
	memset(c, 0, sizeof(*c));
	c->h = h;
}

void httpd_conn_fini(struct httpd_conn *c)
{
	buf_free(&c->out);
}

static const char *date_now(struct httpd *h)
{
	time_t now = time(NULL);

	if (now != h->date_second) {
		struct tm tm;

		gmtime_r(&now, &tm);
		strftime(h->date, sizeof(h->date), "%a, %d %b %Y %H:%M:%S GMT", &tm);
		h->date_second = now;
	}
	return h->date;
}

static void put(struct httpd_conn *c, const void *d, size_t n)
{
	(void)buf_append(&c->out, d, n);
}

static void head(struct httpd_conn *c, int status, const char *ctype, size_t length,
		 const char *last_modified, bool keep_alive, int minor, const char *extra)
{
	char h[640];
	int n = snprintf(h, sizeof(h),
			 "HTTP/1.1 %d %s\r\nServer: nhttpd\r\nDate: %s\r\nContent-Type: %s\r\n"
			 "Content-Length: %zu\r\n%s%s%s%s%s\r\n",
			 status, http_reason(status), date_now(c->h), ctype, length,
			 last_modified ? "Last-Modified: " : "", last_modified ? last_modified : "",
			 last_modified ? "\r\n" : "", extra ? extra : "",
			 !keep_alive ? "Connection: close\r\n"
				     : (minor == 0 ? "Connection: keep-alive\r\n" : ""));

	if (n > 0)
		put(c, h, (size_t)(n < (int)sizeof(h) ? n : (int)sizeof(h) - 1));
	if (status >= 100 && status < 600)
		c->h->status_counts[status / 100 - 1]++;
}

static void error_page(struct httpd_conn *c, int status, bool with_body, bool keep_alive,
		       int minor, const char *extra)
{
	char body[256];
	int n = snprintf(body, sizeof(body),
			 "<!DOCTYPE html>\n<html><head><title>%d %s</title></head>"
			 "<body><h1>%d %s</h1></body></html>\n",
			 status, http_reason(status), status, http_reason(status));

	head(c, status, "text/html; charset=utf-8", (size_t)n, NULL, keep_alive, minor, extra);
	if (with_body)
		put(c, body, (size_t)n);
}

static void serve(struct httpd_conn *c, const struct http_request *req)
{
	const struct file_entry *e;
	bool body = req->method == HTTP_GET;
	int rc;

	if (req->method == HTTP_OTHER) {
		error_page(c, 405, true, req->keep_alive, req->minor, "Allow: GET, HEAD\r\n");
		return;
	}
	rc = files_get(c->h->files, req->path, c->h->now_ns(c->h->clock_arg), &e);
	if (rc == -ENOENT) {
		error_page(c, 404, body, req->keep_alive, req->minor, NULL);
	} else if (rc == -EACCES) {
		error_page(c, 403, body, req->keep_alive, req->minor, NULL);
	} else if (rc < 0) {
		error_page(c, 500, body, req->keep_alive, req->minor, NULL);
	} else {
		head(c, 200, e->ctype, e->size, e->last_modified, req->keep_alive, req->minor, NULL);
		if (body)
			put(c, e->data, e->size);
	}
}

size_t httpd_process(struct httpd_conn *c, const uint8_t *data, size_t len)
{
	size_t pos = 0;

	while (pos < len && !c->close) {
		struct http_request req;
		size_t used = 0;
		int status = 0;
		enum http_result r;

		if (c->skip) {
			size_t n = len - pos < c->skip ? len - pos : (size_t)c->skip;

			c->skip -= n;
			pos += n;
			continue;
		}
		r = http_parse(data + pos, len - pos, &c->h->limits, &req, &used, &status);
		if (r == HTTP_NEED_MORE)
			break;
		c->requests++;
		if (r == HTTP_FAIL) {
			/* The framing may be lost: answer and close. */
			error_page(c, status, true, false, 1, NULL);
			c->close = true;
			return len;
		}
		pos += used;
		c->skip = req.content_length;
		serve(c, &req);
		if (!req.keep_alive)
			c->close = true;
	}
	return c->close ? len : pos;
}
