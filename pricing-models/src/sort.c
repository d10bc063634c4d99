/* sort.c: the one sort every model uses: 128-bit keys with a payload, LSD radix.
 *
 * Clearing a pool is dominated by ordering bids (or their segments) by price with ties broken
 * by bidder id. A comparison sort through a callback costs ~n log n indirect calls; this radix
 * sort makes one counting pass over all 16 key bytes, then one scatter pass per byte position
 * in which the keys differ. Realistic prices (a few significant bytes) and bidder ids
 * (a few bytes) need 6 to 8 passes. Stable, so equal keys keep their input order, but every
 * caller makes keys unique (the bidder id is part of the key), so input order never shows. */
#include <string.h>

#include "pm_internal.h"

static inline int key_cmp(const struct pm_key *a, const struct pm_key *b)
{
	if (a->hi != b->hi)
		return a->hi < b->hi ? -1 : 1;
	if (a->lo != b->lo)
		return a->lo < b->lo ? -1 : 1;
	return 0;
}

static void insertion_sort(struct pm_key *a, size_t n)
{
	for (size_t i = 1; i < n; i++) {
		struct pm_key k = a[i];
		size_t j = i;
		while (j > 0 && key_cmp(&k, &a[j - 1]) < 0) {
			a[j] = a[j - 1];
			j--;
		}
		a[j] = k;
	}
}

static inline unsigned key_byte(const struct pm_key *k, unsigned pos)
{
	/* pos 0..7: bytes of lo from least significant; 8..15: bytes of hi. */
	return pos < 8 ? (unsigned)(k->lo >> (8 * pos)) & 0xff
		       : (unsigned)(k->hi >> (8 * (pos - 8))) & 0xff;
}

void pm__sort_keys(struct pm_key *a, struct pm_key *tmp, size_t n)
{
	if (n < 64) {
		insertion_sort(a, n);
		return;
	}
	static const unsigned npos = 16;
	size_t count[16][256];
	memset(count, 0, sizeof(count));
	for (size_t i = 0; i < n; i++) {
		uint64_t lo = a[i].lo, hi = a[i].hi;
		for (unsigned b = 0; b < 8; b++) {
			count[b][(lo >> (8 * b)) & 0xff]++;
			count[b + 8][(hi >> (8 * b)) & 0xff]++;
		}
	}
	struct pm_key *src = a, *dst = tmp;
	for (unsigned pos = 0; pos < npos; pos++) {
		size_t *c = count[pos];
		if (c[key_byte(&src[0], pos)] == n)
			continue; /* every key has the same byte here */
		size_t sum = 0;
		for (unsigned v = 0; v < 256; v++) {
			size_t t = c[v];
			c[v] = sum;
			sum += t;
		}
		for (size_t i = 0; i < n; i++)
			dst[c[key_byte(&src[i], pos)]++] = src[i];
		struct pm_key *t = src;
		src = dst;
		dst = t;
	}
	if (src != a)
		memcpy(a, src, n * sizeof(*a));
}
