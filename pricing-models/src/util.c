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

/* Optimal string alignment distance (Levenshtein plus adjacent transpositions, so that
 * "reserev" is one edit from "reserve"), for names up to 63 characters. */
static size_t osa_distance(const char *a, const char *b)
{
	size_t la = strlen(a), lb = strlen(b);
	size_t d[64][64];

	if (la > 63 || lb > 63)
		return SIZE_MAX;
	for (size_t i = 0; i <= la; i++)
		d[i][0] = i;
	for (size_t j = 0; j <= lb; j++)
		d[0][j] = j;
	for (size_t i = 1; i <= la; i++) {
		for (size_t j = 1; j <= lb; j++) {
			size_t best = d[i - 1][j - 1] + (a[i - 1] != b[j - 1]);
			if (d[i - 1][j] + 1 < best)
				best = d[i - 1][j] + 1;
			if (d[i][j - 1] + 1 < best)
				best = d[i][j - 1] + 1;
			if (i > 1 && j > 1 && a[i - 1] == b[j - 2] && a[i - 2] == b[j - 1] &&
			    d[i - 2][j - 2] + 1 < best)
				best = d[i - 2][j - 2] + 1;
			d[i][j] = best;
		}
	}
	return d[la][lb];
}

const char *pm__closest(const char *word, const char *const *cands, size_t n)
{
	const char *best = NULL;
	size_t best_d = SIZE_MAX, limit = strlen(word) / 3 + 2;

	for (size_t i = 0; i < n; i++) {
		size_t d = osa_distance(word, cands[i]);
		if (d < best_d) {
			best_d = d;
			best = cands[i];
		}
	}
	return best_d <= limit ? best : NULL;
}
