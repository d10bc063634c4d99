/* sbuf.c: the growing text buffer of sbuf.h (sticky allocation failure, JSON escaping). */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/sbuf.h"

void sbuf_init(struct sbuf *b)
{
	memset(b, 0, sizeof(*b));
}

void sbuf_fini(struct sbuf *b)
{
	free(b->s);
	sbuf_init(b);
}

void sbuf_reset(struct sbuf *b)
{
	b->len = 0;
	b->oom = false;
	if (b->s)
		b->s[0] = 0;
}

static bool grow(struct sbuf *b, size_t more)
{
	if (b->oom)
		return false;
	if (b->len + more + 1 <= b->cap)
		return true;
	size_t cap = b->cap ? b->cap : 256;
	while (cap < b->len + more + 1)
		cap *= 2;
	char *s = realloc(b->s, cap);
	if (!s) {
		b->oom = true;
		return false;
	}
	b->s = s;
	b->cap = cap;
	return true;
}

void sbuf_add(struct sbuf *b, const char *s, size_t n)
{
	if (!grow(b, n))
		return;
	memcpy(b->s + b->len, s, n);
	b->len += n;
	b->s[b->len] = 0;
}

void sbuf_puts(struct sbuf *b, const char *s)
{
	sbuf_add(b, s, strlen(s));
}

void sbuf_printf(struct sbuf *b, const char *fmt, ...)
{
	va_list ap;
	int n;

	if (b->oom)
		return;
	va_start(ap, fmt);
	n = vsnprintf(b->s ? b->s + b->len : NULL, b->s ? b->cap - b->len : 0, fmt, ap);
	va_end(ap);
	if (n < 0) {
		b->oom = true;
		return;
	}
	if (b->s && (size_t)n < b->cap - b->len) {
		b->len += (size_t)n;
		return;
	}
	if (!grow(b, (size_t)n))
		return;
	va_start(ap, fmt);
	vsnprintf(b->s + b->len, b->cap - b->len, fmt, ap);
	va_end(ap);
	b->len += (size_t)n;
}

void sbuf_json_str(struct sbuf *b, const char *s)
{
	sbuf_add(b, "\"", 1);
	for (const unsigned char *p = (const unsigned char *)s; *p; p++) {
		if (*p == '"' || *p == '\\') {
			char e[2] = {'\\', (char)*p};
			sbuf_add(b, e, 2);
		} else if (*p == '\n') {
			sbuf_add(b, "\\n", 2);
		} else if (*p < 0x20) {
			sbuf_printf(b, "\\u%04x", *p);
		} else {
			sbuf_add(b, (const char *)p, 1);
		}
	}
	sbuf_add(b, "\"", 1);
}

void json_fputs(FILE *f, const char *s)
{
	struct sbuf b;

	sbuf_init(&b);
	sbuf_json_str(&b, s);
	if (!sbuf_failed(&b))
		fwrite(b.s, 1, b.len, f);
	sbuf_fini(&b);
}

char *sbuf_take(struct sbuf *b, size_t *len)
{
	char *s;

	if (b->oom) {
		sbuf_fini(b);
		return NULL;
	}
	if (!b->s && !grow(b, 0))
		return NULL;
	s = b->s;
	if (len)
		*len = b->len;
	sbuf_init(b);
	return s;
}

bool sbuf_failed(const struct sbuf *b)
{
	return b->oom;
}
