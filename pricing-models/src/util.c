/* util.c: error text, scratch buffers and name suggestions for the pricing library.
 *
 * Small pieces every model and wrapper uses. Nothing here allocates behind the caller's back
 * except the scratch buffers, which belong to the instance that holds them. */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "pm_internal.h"

int pm__errorf(struct pm_error *err, int code, const char *fmt, ...)
{
	if (err) {
		va_list ap;
		va_start(ap, fmt);
		vsnprintf(err->message, sizeof(err->message), fmt, ap);
		va_end(ap);
	}
	return code;
}

int pm__buf_reserve(struct pm_buf *b, size_t bytes)
{
	if (bytes <= b->cap)
		return 0;
	size_t cap = b->cap ? b->cap : 256;
	while (cap < bytes)
		cap = cap > SIZE_MAX / 2 ? bytes : cap * 2;
	/* The old contents are not kept: free first so that peak memory is one buffer. */
	free(b->p);
	b->p = malloc(cap);
	if (!b->p) {
		b->cap = 0;
		return -ENOMEM;
	}
	b->cap = cap;
	return 0;
}

int pm__buf_array(struct pm_buf *b, size_t count, size_t size)
{
	if (size && count > SIZE_MAX / size)
		return -ENOMEM;
	size_t bytes = count * size;
	return pm__buf_reserve(b, bytes ? bytes : 1);
}

int pm__buf_grow(struct pm_buf *b, size_t count, size_t size)
{
	if (size && count > SIZE_MAX / size)
		return -ENOMEM;
	size_t bytes = count * size;
	if (bytes <= b->cap)
		return 0;
	size_t cap = b->cap ? b->cap : 256;
	while (cap < bytes)
		cap = cap > SIZE_MAX / 2 ? bytes : cap * 2;
	void *p = realloc(b->p, cap);
	if (!p)
		return -ENOMEM;
	b->p = p;
	b->cap = cap;
	return 0;
}

void pm__buf_free(struct pm_buf *b)
{
	free(b->p);
	b->p = NULL;
	b->cap = 0;
}

