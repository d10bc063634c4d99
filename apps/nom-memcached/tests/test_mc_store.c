/* test_mc_store.c: the item store with a manual clock: memcached's store rules, CAS versions,
 * expiry (relative, absolute, negative), delayed flush_all, incr/decr in place, the size limit
 * and LRU eviction under the memory limit; invariants checked after every step. */
#include <stdio.h>
#include <string.h>

#include "mc_store.h"
#include "test.h"

static int64_t mono = 1000000000, wall = 1800000000;

static int64_t c_mono(void *a)
{
	(void)a;
	return mono;
}

static int64_t c_wall(void *a)
{
	(void)a;
	return wall;
}

static void advance(int64_t s)
{
	mono += s * 1000000000;
	wall += s;
}

static enum mc_result put(struct mc_store *s, enum mc_cmd cmd, const char *k, const char *v,
			  int32_t exp, uint64_t cas)
{
	enum mc_result r = mc_store_put(s, cmd, k, strlen(k), 7, mc_store_exptime(s, exp), v,
					strlen(v), cas, NULL);

	mc_store_check(s);
	return r;
}

static const char *val(struct mc_store *s, const char *k, char *buf)
{
	struct mc_item *it = mc_store_get(s, k, strlen(k), true);

	if (!it)
		return NULL;
	memcpy(buf, mc_item_value(it), it->nbytes - 2);
	buf[it->nbytes - 2] = '\0';
	return buf;
}

int main(void)
{
	struct mc_clock clk = {c_mono, c_wall, NULL};
	struct mc_store_config cfg = {.mem_limit = 1u << 20, .item_max = 1u << 20, .evict = true};
	struct mc_store *s;
	struct mc_store_stats st;
	char buf[4096], num[32];

	ASSERT_OK(mc_store_create(&cfg, &clk, &s));

	/* Store rules. */
	ASSERT_EQ(put(s, MC_ADD, "a", "1", 0, 0), MC_STORED);
	ASSERT_EQ(put(s, MC_ADD, "a", "2", 0, 0), MC_NOT_STORED);
	ASSERT_EQ(put(s, MC_REPLACE, "b", "2", 0, 0), MC_NOT_STORED);
	ASSERT_EQ(put(s, MC_REPLACE, "a", "3", 0, 0), MC_STORED);
	ASSERT_EQ(put(s, MC_APPEND, "a", "4", 0, 0), MC_STORED);
	ASSERT_EQ(put(s, MC_PREPEND, "a", "0", 0, 0), MC_STORED);
	ASSERT_STR_EQ(val(s, "a", buf), "034");
	ASSERT_EQ(put(s, MC_APPEND, "nope", "x", 0, 0), MC_NOT_STORED);

	/* CAS versions: one per stored item, in order. */
	{
		struct mc_item *it = mc_store_get(s, "a", 1, false);
		uint64_t v = it->cas;

		ASSERT_EQ(v, 4); /* add, replace, append, prepend */
		ASSERT_EQ(put(s, MC_CAS, "a", "x", 0, v + 1), MC_EXISTS);
		ASSERT_EQ(put(s, MC_CAS, "a", "x", 0, v), MC_STORED);
		ASSERT_EQ(put(s, MC_CAS, "zz", "x", 0, 1), MC_NOT_FOUND);
		ASSERT_EQ(mc_store_get(s, "a", 1, false)->cas, v + 1);
	}

	/* incr/decr: in place padded with spaces when shorter, a new item when longer. */
	ASSERT_EQ(put(s, MC_SET, "n", "100", 0, 0), MC_STORED);
	ASSERT_EQ(mc_store_delta(s, "n", 1, false, 1, num), MC_DELTA_OK);
	ASSERT_STR_EQ(num, "99");
	ASSERT_STR_EQ(val(s, "n", buf), "99 ");
	ASSERT_EQ(mc_store_delta(s, "n", 1, true, 1000, num), MC_DELTA_OK);
	ASSERT_STR_EQ(val(s, "n", buf), "1099");
	ASSERT_EQ(mc_store_delta(s, "n", 1, false, 5000, num), MC_DELTA_OK);
	ASSERT_STR_EQ(num, "0"); /* decr stops at 0 */
	ASSERT_EQ(put(s, MC_SET, "n", "18446744073709551615", 0, 0), MC_STORED);
	ASSERT_EQ(mc_store_delta(s, "n", 1, true, 2, num), MC_DELTA_OK);
	ASSERT_STR_EQ(num, "1"); /* incr wraps */
	ASSERT_EQ(put(s, MC_SET, "n", "12a", 0, 0), MC_STORED);
	ASSERT_EQ(mc_store_delta(s, "n", 1, true, 1, num), MC_DELTA_NON_NUMERIC);
	ASSERT_EQ(put(s, MC_SET, "n", "", 0, 0), MC_STORED);
	ASSERT_EQ(mc_store_delta(s, "n", 1, true, 1, num), MC_DELTA_NON_NUMERIC);
	ASSERT_EQ(put(s, MC_SET, "n", "-5", 0, 0), MC_STORED);
	ASSERT_EQ(mc_store_delta(s, "n", 1, true, 1, num), MC_DELTA_NON_NUMERIC);
	ASSERT_EQ(mc_store_delta(s, "gone", 4, true, 1, num), MC_DELTA_NOT_FOUND);
	mc_store_check(s);

	/* Expiry: relative, absolute (past and future), negative. */
	ASSERT_EQ(put(s, MC_SET, "r", "v", 10, 0), MC_STORED);
	ASSERT_EQ(put(s, MC_SET, "abs", "v", (int32_t)(wall + 5), 0), MC_STORED);
	ASSERT_EQ(put(s, MC_SET, "past", "v", (int32_t)(wall - 5), 0), MC_STORED);
	ASSERT_EQ(put(s, MC_SET, "neg", "v", -1, 0), MC_STORED);
	ASSERT_TRUE(val(s, "past", buf) == NULL);
	ASSERT_TRUE(val(s, "neg", buf) == NULL);
	advance(5);
	ASSERT_TRUE(val(s, "abs", buf) == NULL);
	ASSERT_TRUE(val(s, "r", buf) != NULL);
	ASSERT_TRUE(mc_store_touch(s, "r", 1, mc_store_exptime(s, 100)));
	advance(10);
	ASSERT_TRUE(val(s, "r", buf) != NULL);
	ASSERT_TRUE(!mc_store_touch(s, "abs", 3, 0));

	/* flush_all: now (uses a CAS version), and delayed. */
	{
		struct mc_item *it;
		uint64_t before;

		ASSERT_EQ(put(s, MC_SET, "f", "v", 0, 0), MC_STORED);
		before = mc_store_get(s, "f", 1, false)->cas;
		mc_store_flush(s, 0);
		ASSERT_TRUE(val(s, "f", buf) == NULL);
		ASSERT_EQ(put(s, MC_SET, "f", "v", 0, 0), MC_STORED);
		it = mc_store_get(s, "f", 1, false);
		ASSERT_EQ(it->cas, before + 2);
		mc_store_flush(s, 3); /* items stored up to 2 s from now go at that time */
		advance(1);
		ASSERT_TRUE(val(s, "f", buf) != NULL);
		advance(1);
		ASSERT_TRUE(val(s, "f", buf) == NULL);
		advance(1);
		ASSERT_EQ(put(s, MC_SET, "f", "v", 0, 0), MC_STORED);
		ASSERT_TRUE(val(s, "f", buf) != NULL);
	}

	/* The size limit counts memcached's item header. */
	ASSERT_TRUE(mc_store_size_ok(s, 1, 0, 1048516));
	ASSERT_TRUE(!mc_store_size_ok(s, 1, 0, 1048517));
	ASSERT_TRUE(!mc_store_size_ok(s, 1, 5, 1048513));
	ASSERT_TRUE(mc_store_size_ok(s, 10, 0, 1048507));

	/* LRU eviction under the limit: recently read items survive. */
	mc_store_destroy(s);
	cfg.mem_limit = 64u << 10;
	cfg.item_max = 16u << 10;
	ASSERT_OK(mc_store_create(&cfg, &clk, &s));
	memset(buf, 'x', 1000);
	buf[1000] = '\0';
	for (int i = 0; i < 200; i++) {
		char k[16];

		snprintf(k, sizeof(k), "k%d", i);
		ASSERT_EQ(put(s, MC_SET, k, buf, 0, 0), MC_STORED);
		if (i >= 1)
			ASSERT_TRUE(mc_store_get(s, "k0", 2, true) != NULL); /* keep k0 hot */
	}
	mc_store_stats(s, &st);
	ASSERT_LE(st.bytes, 64u << 10);
	ASSERT_GT(st.evictions, 100);
	ASSERT_TRUE(mc_store_get(s, "k0", 2, false) != NULL);
	ASSERT_TRUE(mc_store_get(s, "k1", 2, false) == NULL);
	ASSERT_TRUE(mc_store_get(s, "k199", 4, false) != NULL);
	mc_store_destroy(s);

	/* Without eviction, a full store refuses. */
	cfg.evict = false;
	ASSERT_OK(mc_store_create(&cfg, &clk, &s));
	{
		int stored = 0;
		enum mc_result r = MC_STORED;

		for (int i = 0; i < 200 && r == MC_STORED; i++) {
			char k[16];

			snprintf(k, sizeof(k), "k%d", i);
			r = put(s, MC_SET, k, buf, 0, 0);
			stored += r == MC_STORED;
		}
		ASSERT_EQ(r, MC_NO_MEMORY);
		ASSERT_GT(stored, 30);
	}
	mc_store_destroy(s);
	printf("test_mc_store: ok\n");
	return 0;
}
