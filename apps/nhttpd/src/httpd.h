/* httpd.h: nhttpd's request handling, transport-free: bytes in, responses out.
 *
 * httpd_process() parses pipelined requests with http_parse, answers each in order into the
 * connection's output buffer (status line, Date, Server, Content-Type, Content-Length,
 * Last-Modified, Connection), skips request bodies, and says when the connection must close
 * (Connection: close, HTTP/1.0 without keep-alive, or an error that loses the framing). HEAD
 * gets the headers of GET without the body; other methods get 405 with Allow: GET, HEAD. */
#ifndef NHTTPD_HTTPD_H
#define NHTTPD_HTTPD_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "app/buf.h"
#include "files.h"
#include "http_parse.h"

struct httpd {
	struct file_cache *files;
	struct http_limits limits;
	int64_t (*now_ns)(void *arg);  /* monotonic, for the cache */
	void *clock_arg;
	time_t date_second;             /* Date header cache */
	char date[40];
	uint64_t status_counts[6];      /* 1xx..5xx */
};

struct httpd_conn {
	struct httpd *h;
	struct buf out;
	uint64_t skip;      /* request body bytes still to discard */
	uint64_t requests;
	bool close;         /* close once `out` is sent */
};

void httpd_conn_init(struct httpd_conn *c, struct httpd *h);
void httpd_conn_fini(struct httpd_conn *c);
/* Processes the complete requests at the front of data; returns the bytes consumed. */
size_t httpd_process(struct httpd_conn *c, const uint8_t *data, size_t len);

#endif
