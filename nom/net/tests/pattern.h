/* pattern.h: the byte stream the TCP transfer tests send and check.
 *
 * Byte i of stream `seed` is a hash of (seed, i), so a receiver can check any byte at any
 * offset without keeping the stream, and a byte sent at the wrong place (a lost, duplicated or
 * reordered segment) shows as a mismatch at a known offset. */
#ifndef NOMNET_TEST_PATTERN_H
#define NOMNET_TEST_PATTERN_H

#include <stddef.h>
#include <stdint.h>

static inline uint8_t pattern_byte(uint32_t seed, uint64_t i)
{
	uint64_t x = (i + 1) * 0x9e3779b97f4a7c15ull ^ ((uint64_t)seed << 32 | seed);

	x ^= x >> 29;
	x *= 0xbf58476d1ce4e5b9ull;
	x ^= x >> 32;
	return (uint8_t)x;
}

static inline void pattern_fill(uint32_t seed, uint64_t off, uint8_t *buf, size_t len)
{
	for (size_t k = 0; k < len; k++)
		buf[k] = pattern_byte(seed, off + k);
}

/* Index of the first byte of buf that differs from the stream at off, or len. */
static inline size_t pattern_check(uint32_t seed, uint64_t off, const uint8_t *buf, size_t len)
{
	for (size_t k = 0; k < len; k++)
		if (buf[k] != pattern_byte(seed, off + k))
			return k;
	return len;
}

#endif
