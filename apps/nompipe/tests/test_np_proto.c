/* test_np_proto.c: the NetPIPE receiver against a scripted transmitter: the size schedule is
 * NPtcp 3.7.2's (the sizes of a real default sweep, recorded), the conversation follows the
 * transmitter's order, every message comes back whole and only once complete, and QUIT at a
 * Sync ends the session; bad sync strings are errors. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "np_proto.h"
#include "test.h"

/* The sizes of `NPtcp -h host` (defaults) against NPtcp, from its output file. */
static const uint64_t sweep[] = {
	1, 2, 3, 4, 6, 8, 12, 13, 16, 19, 21, 24, 27, 29, 32, 35, 45, 48, 51, 61, 64, 67, 93, 96,
	99, 125, 128, 131, 189, 192, 195, 253, 256, 259, 381, 384, 387, 509, 512, 515, 765, 768,
	771, 1021, 1024, 1027, 1533, 1536, 1539, 2045, 2048, 2051, 3069, 3072, 3075, 4093, 4096,
	4099, 6141, 6144, 6147, 8189, 8192, 8195, 12285, 12288, 12291, 16381, 16384, 16387,
	24573, 24576, 24579, 32765, 32768, 32771, 49149, 49152, 49155, 65533, 65536, 65539,
	98301, 98304, 98307, 131069, 131072, 131075, 196605, 196608, 196611, 262141, 262144,
	262147, 393213, 393216, 393219, 524285, 524288, 524291, 786429, 786432, 786435, 1048573,
	1048576, 1048579, 1572861, 1572864, 1572867, 2097149, 2097152, 2097155, 3145725,
	3145728, 3145731, 4194301, 4194304, 4194307, 6291453, 6291456, 6291459, 8388605,
	8388608, 8388611};

static struct np_conn c;
static size_t chunk = 0; /* 0: feed whole, else in pieces of this size */

static void feed(const void *d, size_t n)
{
	const uint8_t *p = d;

	while (n) {
		size_t k = chunk && chunk < n ? chunk : n;
		size_t used = np_process(&c, p, k);

		ASSERT_EQ(used, k);
		p += k;
		n -= k;
	}
}

static void expect_out(const void *want, size_t n)
{
	if (c.out.len < n || memcmp(buf_head(&c.out), want, n) != 0)
		TEST_FAIL("expected %zu bytes \"%.*s\", have %zu", n, (int)(n < 16 ? n : 16),
			  (const char *)want, c.out.len);
	buf_consume(&c.out, n);
}

static void sync(void)
{
	expect_out("SyncMe", 6);
	feed("SyncMe", 6);
}

static void session(size_t sizes)
{
	uint8_t *msg = malloc(1 << 20);

	memset(msg, 'a', 1 << 20);
	np_conn_init(&c, 1, 3);
	sync();
	for (int i = 0; i < NP_LATENCY_REPS; i++) {
		feed("b", 1);
		expect_out("b", 1);
	}
	sync();
	for (size_t s = 0; s < sizes; s++) {
		uint32_t reps = 2 + (uint32_t)(s % 3);
		uint8_t be[4] = {0, 0, (uint8_t)(reps >> 8), (uint8_t)reps};
		size_t n = sweep[s];

		ASSERT_EQ(c.state, NP_SYNC);
		sync();
		feed(be, 4);
		for (int t = 0; t < NP_TRIALS; t++) {
			sync();
			for (uint32_t r = 0; r < reps; r++) {
				msg[n - 1] = (uint8_t)('0' + r % 10);
				if (n > 1) {
					feed(msg, n - 1);
					ASSERT_EQ(c.out.len, 0); /* nothing before the whole message */
				}
				feed(msg + n - 1, 1);
				expect_out(msg, n);
			}
		}
	}
	expect_out("SyncMe", 6); /* the next size's Sync */
	feed("QUIT\0", 5);
	expect_out("QUIT\0", 5);
	ASSERT_EQ(c.state, NP_DONE);
	np_conn_fini(&c);
	free(msg);
}

int main(void)
{
	struct np_sched s;

	/* The schedule matches NPtcp's default sweep, and other -l/-p too. */
	np_sched_init(&s, 1, 3);
	for (size_t i = 0; i < sizeof(sweep) / sizeof(sweep[0]); i++)
		ASSERT_EQ(np_sched_next(&s), sweep[i]);
	np_sched_init(&s, 1, 0);
	{
		static const uint64_t p0[] = {1, 2, 3, 4, 6, 8, 12, 16, 24, 32, 48, 64};

		for (size_t i = 0; i < sizeof(p0) / sizeof(p0[0]); i++)
			ASSERT_EQ(np_sched_next(&s), p0[i]);
	}
	/* A larger start, as NPtcp -l 1000 -p 3 sends it (recorded from NPtcp 3.7.2's own
	 * output), and -l 1000000 -p 0. */
	np_sched_init(&s, 1000, 3);
	{
		static const uint64_t l1000[] = {997,  1000, 1003, 1497, 1500, 1503,
						 1997, 2000, 2003, 2997, 3000, 3003,
						 3997, 4000, 4003, 5997, 6000, 6003};

		for (size_t i = 0; i < sizeof(l1000) / sizeof(l1000[0]); i++)
			ASSERT_EQ(np_sched_next(&s), l1000[i]);
	}
	np_sched_init(&s, 1000000, 0);
	{
		static const uint64_t l1m[] = {1000000, 1500000, 2000000, 3000000, 4000000};

		for (size_t i = 0; i < sizeof(l1m) / sizeof(l1m[0]); i++)
			ASSERT_EQ(np_sched_next(&s), l1m[i]);
	}

	session(40);
	chunk = 7;
	session(60);
	chunk = 1;
	session(20);

	/* A wrong sync string is an error; QUIT in the first Sync ends at once. */
	chunk = 0;
	np_conn_init(&c, 1, 3);
	feed("Sync!!", 6);
	ASSERT_EQ(c.state, NP_ERROR);
	np_conn_fini(&c);
	np_conn_init(&c, 1, 3);
	feed("QUIT\0", 5);
	ASSERT_EQ(c.state, NP_DONE);
	np_conn_fini(&c);
	printf("test_np_proto: ok\n");
	return 0;
}
