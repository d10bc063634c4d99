/* buf.c: the growable byte buffer (buf.h). */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "app/buf.h"

#define BUF_KEEP_MAX (256u << 10)

uint8_t *buf_reserve(struct buf *b, size_t len)
{
	if (b->off + b->len + len <= b->cap)
		return b->data + b->off + b->len;
	if (b->off && b->len + len <= b->cap) {
		memmove(b->data, b->data + b->off, b->len);
		b->off = 0;
		return b->data + b->len;
	}
	{
		size_t cap = b->cap ? b->cap : 1024;
		uint8_t *p;

		while (cap < b->len + len) {
			if (cap > SIZE_MAX / 2)
				return NULL;
			cap *= 2;
		}
		if (b->off) {
			memmove(b->data, b->data + b->off, b->len);
			b->off = 0;
		}
		p = realloc(b->data, cap);
		if (!p)
			return NULL;
		b->data = p;
		b->cap = cap;
		return b->data + b->len;
	}
}

void buf_commit(struct buf *b, size_t len)
{
	b->len += len;
}

int buf_append(struct buf *b, const void *data, size_t len)
{
	uint8_t *p;

	if (len == 0)
		return 0;
	p = buf_reserve(b, len);
	if (!p)
		return -ENOMEM;
	memcpy(p, data, len);
	b->len += len;
	return 0;
}

void buf_consume(struct buf *b, size_t n)
{
	if (n >= b->len) {
		b->off = 0;
		b->len = 0;
		if (b->cap > BUF_KEEP_MAX) /* a big burst is over: give the memory back */
			buf_free(b);
		return;
	}
	b->off += n;
	b->len -= n;
}

void buf_reset(struct buf *b)
{
	b->off = 0;
	b->len = 0;
}

void buf_free(struct buf *b)
{
	free(b->data);
	b->data = NULL;
	b->off = b->len = b->cap = 0;
}
