/* http_parse.h: nhttpd's HTTP/1.x request parser, pure (no I/O), bounded, and strict.
 *
 * It reads one request head (request line and header fields, RFC 9112) from the front of a
 * buffer and says how many bytes it took, or that it needs more, or which error status the
 * request earns. It decides framing (Content-Length; Transfer-Encoding is refused) and
 * connection persistence, and turns the request target into a clean path: absolute-form
 * reduced to its path, the query dropped, percent-decoding checked (%00 and bad escapes are
 * errors), "." and ".." resolved, and a ".." that would climb above the root refused. Being
 * pure, it has a fuzz target and unit tests; the file system is the server's business.
 *
 * Status codes it yields: 400 (malformed line, field or target, missing or repeated Host in
 * HTTP/1.1, conflicting Content-Length, both Content-Length and Transfer-Encoding), 413 (a
 * body over the limit), 414 (a request line over the limit), 431 (header fields over the
 * limit, in size or count), 501 (Transfer-Encoding), 505 (an HTTP version other than 1.0 and
 * 1.1). Methods other than GET and HEAD parse fine (the server answers 405). */
#ifndef HTTP_PARSE_H
#define HTTP_PARSE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define HTTP_PATH_MAX 4096

struct http_limits {
	size_t line_max;     /* request line, bytes (414 beyond) */
	size_t head_max;     /* request line and fields together (431 beyond) */
	unsigned fields_max; /* number of header fields (431 beyond) */
	uint64_t body_max;   /* Content-Length accepted (413 beyond) */
};

enum http_method { HTTP_GET, HTTP_HEAD, HTTP_OTHER };

struct http_request {
	enum http_method method;
	char method_name[24];
	int minor;               /* HTTP/1.minor */
	char path[HTTP_PATH_MAX];/* decoded and normalized, starts with "/" */
	bool keep_alive;
	uint64_t content_length;
	unsigned fields;
};

enum http_result {
	HTTP_NEED_MORE = 0,  /* no complete head yet */
	HTTP_DONE = 1,       /* *req filled; *used bytes of head (the body follows) */
	HTTP_FAIL = 2,       /* *status says why; the connection should close */
};

/* Default limits: line 8 KiB, head 16 KiB, 100 fields, body 1 MiB. */
void http_limits_default(struct http_limits *lim);

/* Parses the request head at the front of data[0..len). */
enum http_result http_parse(const uint8_t *data, size_t len, const struct http_limits *lim,
			    struct http_request *req, size_t *used, int *status);

/* The reason phrase of a status ("Not Found"), "" when unknown. */
const char *http_reason(int status);

#endif
