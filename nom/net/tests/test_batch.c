/* test_batch.c: the batching-delay rules (batch.c) against thesis section 3.6, with a manual
 * clock: each rule alone, then properties over random inputs (a held batch never waited W,
 * never is full; W = 0 never holds anything). */
#include <stdlib.h>

#include "stack.h"
#include "test.h"

#define US 1000

static void test_rules(void)
{
	/* Run to completion. */
	ASSERT_EQ(nomnet__rx_limit(0, 64), 1);
	ASSERT_EQ(nomnet__rx_limit(10 * US, 64), 64);
	ASSERT_EQ(nomnet__rx_due(0, 0, 0, 0, 64, true), NOMNET_HOLD);
	ASSERT_EQ(nomnet__rx_due(1, 100, 100, 0, 64, true), NOMNET_DUE_FULL);
	ASSERT_EQ(nomnet__tx_due(1, 100, 100, 0, 64), NOMNET_DUE_DELAY);

	/* Receive with W = 10 us: hold while frames keep coming and W has not passed. */
	ASSERT_EQ(nomnet__rx_due(3, 1000, 1000 + 5 * US, 10 * US, 64, true), NOMNET_HOLD);
	ASSERT_EQ(nomnet__rx_due(3, 1000, 1000 + 5 * US, 10 * US, 64, false), NOMNET_DUE_EMPTY);
	ASSERT_EQ(nomnet__rx_due(3, 1000, 1000 + 10 * US, 10 * US, 64, true), NOMNET_DUE_DELAY);
	ASSERT_EQ(nomnet__rx_due(64, 1000, 1000 + 1 * US, 10 * US, 64, true), NOMNET_DUE_FULL);

	/* Transmit with W = 10 us: leave when the first frame waited W or the batch is full;
	 * an idle wire does not make a transmit batch leave early. */
	ASSERT_EQ(nomnet__tx_due(0, 0, 50 * US, 10 * US, 64), NOMNET_HOLD);
	ASSERT_EQ(nomnet__tx_due(5, 1000, 1000 + 9 * US, 10 * US, 64), NOMNET_HOLD);
	ASSERT_EQ(nomnet__tx_due(5, 1000, 1000 + 10 * US, 10 * US, 64), NOMNET_DUE_DELAY);
	ASSERT_EQ(nomnet__tx_due(64, 1000, 1000, 10 * US, 64), NOMNET_DUE_FULL);
}

static void test_properties(void)
{
	unsigned seed = 42;

	for (int i = 0; i < 200000; i++) {
		unsigned max = 1 + (unsigned)rand_r(&seed) % NOMNET_BATCH_MAX;
		unsigned count = (unsigned)rand_r(&seed) % (max + 2);
		int64_t delay = (rand_r(&seed) % 4 == 0) ? 0 : (int64_t)(rand_r(&seed) % 41) * US;
		int64_t first = rand_r(&seed) % 1000000;
		int64_t now = first + rand_r(&seed) % (60 * US);
		bool pending = rand_r(&seed) & 1;
		enum nomnet_due rx = nomnet__rx_due(count, first, now, delay, max, pending);
		enum nomnet_due tx = nomnet__tx_due(count, first, now, delay, max);
		unsigned limit = nomnet__rx_limit(delay, max);

		if (count == 0) {
			ASSERT_EQ(rx, NOMNET_HOLD);
			ASSERT_EQ(tx, NOMNET_HOLD);
			continue;
		}
		if (rx == NOMNET_HOLD) {
			ASSERT_LT(now - first, delay);
			ASSERT_LT(count, limit);
			ASSERT_TRUE(pending);
		}
		if (tx == NOMNET_HOLD) {
			ASSERT_LT(now - first, delay);
			ASSERT_LT(count, max);
		}
		if (delay == 0) {
			ASSERT_NE(rx, NOMNET_HOLD);
			ASSERT_NE(tx, NOMNET_HOLD);
			ASSERT_EQ(limit, 1);
		}
	}
}

static void test_histogram(void)
{
	static const unsigned n[] = {1, 2, 3, 4, 5, 8, 9, 16, 17, 64, 65, 128, 129, 256, 1000};
	static const unsigned b[] = {0, 1, 2, 2, 3, 3, 4, 4, 5, 6, 7, 7, 8, 8, 8};

	for (size_t i = 0; i < sizeof(n) / sizeof(n[0]); i++)
		ASSERT_EQ(nomnet_hist_bucket(n[i]), b[i]);
}

int main(void)
{
	test_rules();
	test_properties();
	test_histogram();
	printf("test_nomnet_batch: ok\n");
	return 0;
}
