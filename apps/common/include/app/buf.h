/* buf.h: a growable byte buffer with a cheap consume-from-the-front, for connection input
 * and output queues.
 *
 * Invariants: data[off .. off + len) holds the bytes; off + len <= cap. Consuming advances
 * off; appending compacts (moves the bytes to the front) before it grows the allocation, so a
 * buffer used as a queue stays within twice its peak content. */
#ifndef APP_BUF_H
#define APP_BUF_H

#include <stddef.h>
#include <stdint.h>

struct buf {
	uint8_t *data;
	size_t off;
	size_t len;
	size_t cap;
};

/* The first unconsumed byte. A buffer that never held data has no allocation; its head is
 * then a valid pointer to nothing (NULL + 0 is undefined in C, and memcpy/memcmp want a
 * non-NULL pointer even for 0 bytes). */
static inline const uint8_t *buf_head(const struct buf *b)
{
	static const uint8_t empty[1];
	return b->data ? b->data + b->off : empty;
}

/* Appends len bytes (copied). Returns 0 or -ENOMEM (the buffer is unchanged). */
int buf_append(struct buf *b, const void *data, size_t len);
/* Makes room for len more bytes and returns where to write them (then buf_commit), or NULL
 * on OOM. */
uint8_t *buf_reserve(struct buf *b, size_t len);
void buf_commit(struct buf *b, size_t len);
/* Drops the first n bytes (n <= len). */
void buf_consume(struct buf *b, size_t n);
void buf_reset(struct buf *b);
void buf_free(struct buf *b);

#endif
