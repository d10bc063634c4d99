/* test_buf.c: the apps' byte buffer (buf.h): queue order across compaction and growth, and a
 * defined head on a buffer with no allocation (the fuzzer's NULL + 0 finding in buf_head). */
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include "app/buf.h"
#include "test.h"

/* A buffer that never held data, and one whose big burst was consumed (buf_consume frees
 * past 256 KiB): both have data == NULL, and buf_head must still be a pointer memcpy and
 * memcmp may take with length 0. */
static void empty_head(void)
{
	struct buf b = {0};
	uint8_t out[1] = {7};

	ASSERT_TRUE(buf_head(&b) != NULL);
	ASSERT_EQ(b.len, 0);
	memcpy(out, buf_head(&b), b.len);
	ASSERT_EQ(memcmp(buf_head(&b), "x", b.len), 0);
	ASSERT_EQ(out[0], 7);

	static uint8_t big[300 << 10];
	memset(big, 'b', sizeof(big));
	ASSERT_OK(buf_append(&b, big, sizeof(big)));
	ASSERT_GE(b.cap, sizeof(big));
	buf_consume(&b, sizeof(big));
	ASSERT_TRUE(b.data == NULL);
	ASSERT_TRUE(buf_head(&b) != NULL);
	ASSERT_EQ(b.len, 0);
	buf_free(&b);
	ASSERT_TRUE(buf_head(&b) != NULL);
	printf("buf: empty head defined (never allocated, freed after a burst, after buf_free)\n");
}

/* Bytes come out in the order they went in while the buffer compacts and grows: 10,000
 * appends of 1..97 bytes, consuming a varying share after each, checked against a counter. */
static void queue_order(void)
{
	struct buf b = {0};
	uint32_t next_in = 0, next_out = 0;
	size_t peak = 0;

	for (unsigned i = 0; i < 10000; i++) {
		uint8_t chunk[97];
		size_t n = 1 + i % 97;
		for (size_t k = 0; k < n; k++)
			chunk[k] = (uint8_t)(next_in++ % 251);
		ASSERT_OK(buf_append(&b, chunk, n));
		if (b.len > peak)
			peak = b.len;
		size_t take = (i % 3 == 0) ? b.len : b.len / 2;
		for (size_t k = 0; k < take; k++)
			ASSERT_EQ(buf_head(&b)[k], (uint8_t)((next_out + k) % 251));
		next_out += (uint32_t)take;
		buf_consume(&b, take);
		ASSERT_LE(b.off + b.len, b.cap);
	}
	ASSERT_EQ(next_out + b.len, next_in);
	ASSERT_LE(b.cap, 2 * peak + 1024);
	printf("buf: %u bytes through the queue in order (peak %zu, cap %zu)\n", next_in, peak,
	       b.cap);
	buf_free(&b);
}

int main(void)
{
	empty_head();
	queue_order();
	return 0;
}
