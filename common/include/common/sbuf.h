/* sbuf.h: a growing text buffer, with JSON string escaping.
 *
 * The HTTP bodies (docs/dashboards.md), the event stream and /metrics are all rendered into
 * one of these. An allocation failure is sticky: the buffer remembers it, later appends do
 * nothing, and sbuf_failed() says so once at the end, so a renderer checks once, not per
 * line. */
#ifndef COMMON_SBUF_H
#define COMMON_SBUF_H

#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>

struct sbuf {
	char *s;     /* NUL-terminated while len < cap; owned */
	size_t len, cap;
	bool oom;
};

void sbuf_init(struct sbuf *b);
void sbuf_fini(struct sbuf *b);
void sbuf_reset(struct sbuf *b);
void sbuf_add(struct sbuf *b, const char *s, size_t n);
void sbuf_puts(struct sbuf *b, const char *s);
void sbuf_printf(struct sbuf *b, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* Appends s as a JSON string, quotes included: a newline as \n, other control characters
 * as \u00XX. The only JSON string escaper: logs, events, HTTP bodies and -o json use it. */
void sbuf_json_str(struct sbuf *b, const char *s);
/* Writes s to f as a JSON string, escaped as sbuf_json_str does (the CLIs' -o json). */
void json_fputs(FILE *f, const char *s);
/* Hands the text to the caller (free() it) and leaves b empty. NULL after an OOM. */
char *sbuf_take(struct sbuf *b, size_t *len);
bool sbuf_failed(const struct sbuf *b);

#endif
