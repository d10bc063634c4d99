/* test_mc_curve.c: the hit-rate curve against what caches of each size really hit.
 *
 * One workload (gets of keys drawn from a skewed distribution over 12,000 keys of 300-2,000
 * bytes, a set after every miss: cache-aside) runs through several stores at once: one of
 * 16 MiB that measures its curve (no evictions: every hit's stack distance is exact), one of
 * 4 MiB that also measures (its curve beyond 4 MiB comes from the ghosts of evicted keys),
 * and plain LRU stores of 1, 2, 4, 8 and 12 MiB whose hits are counted. The curve's hit rate
 * at each size must be the plain store's: exactly for the 16 MiB curve below 16 MiB (an LRU
 * hit happens iff the stack distance is under the size, up to the item's own size at the
 * boundary), within a few points for the 4 MiB one's ghosts. Then a shrink evicts LRU items
 * down to the new limit. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "mc_store.h"
#include "nom/adapt.h"
#include "test.h"

#define MIB (1u << 20)
#define NKEYS 12000
#define NPLAIN 5

static int64_t mono = 1000000000;

static int64_t c_mono(void *a)
{
	(void)a;
	return mono;
}

static int64_t c_wall(void *a)
{
	(void)a;
	return 1800000000;
}

static uint64_t rng = 88172645463325252ull;

static uint64_t next(void)
{
	rng ^= rng << 13;
	rng ^= rng >> 7;
	rng ^= rng << 17;
	return rng;
}

static double rate_at(const struct nom_memory_curve *c, double mib)
{
	size_t i = (size_t)(mib / c->step_mib + 0.5);
	return c->hits_per_s[i < c->n ? i : c->n - 1] / c->gets_per_s;
}

int main(void)
{
	struct mc_clock clk = {c_mono, c_wall, NULL};
	struct mc_store *big, *small, *plain[NPLAIN];
	static const unsigned plain_mib[NPLAIN] = {1, 2, 4, 8, 12};
	uint64_t hits[NPLAIN] = {0}, gets = 0;
	static char value[2048];
	struct mc_store_config cfg = {.mem_limit = 16 * MIB, .item_max = MIB, .evict = true,
				      .curve_max = 16 * MIB};

	memset(value, 'v', sizeof(value));
	ASSERT_OK(mc_store_create(&cfg, &clk, &big));
	cfg.mem_limit = 4 * MIB;
	ASSERT_OK(mc_store_create(&cfg, &clk, &small));
	ASSERT_OK(mc_store_curve_start(big));
	ASSERT_OK(mc_store_curve_start(small));
	ASSERT_OK(mc_store_curve_start(small)); /* idempotent */
	cfg.curve_max = 0;
	for (int i = 0; i < NPLAIN; i++) {
		cfg.mem_limit = plain_mib[i] * MIB;
		ASSERT_OK(mc_store_create(&cfg, &clk, &plain[i]));
	}
	struct mc_store *all[2 + NPLAIN] = {big, small};
	for (int i = 0; i < NPLAIN; i++)
		all[2 + i] = plain[i];

	for (int n = 0; n < 300000; n++) {
		/* Skewed: the square of a uniform number picks low keys more often. */
		double u = (double)(next() % 1000000) / 1e6;
		unsigned k = (unsigned)(u * u * NKEYS);
		char key[32];
		size_t vlen = 300 + (k * 7919u) % 1700;
		int kl = snprintf(key, sizeof(key), "key:%u", k);
		mono += 1000; /* 1 us per get: all in one epoch */
		gets++;
		for (int i = 0; i < 2 + NPLAIN; i++) {
			struct mc_item *it = mc_store_get(all[i], key, (size_t)kl, true);
			if (it && i >= 2)
				hits[i - 2]++;
			if (!it)
				mc_store_put(all[i], MC_SET, key, (size_t)kl, 0, 0, value, vlen, 0, NULL);
		}
	}
	struct nom_memory_curve cb, cs;
	mc_store_curve(big, &cb);
	mc_store_curve(small, &cs);
	mc_store_check(big);
	mc_store_check(small);
	ASSERT_EQ(cb.lookups, gets);
	ASSERT_NEAR(cb.step_mib, 1, 1e-9);
	ASSERT_GE(cb.n, 17);
	printf("size   plain   curve(16)   curve(4, ghosts past 4)\n");
	for (int i = 0; i < NPLAIN; i++) {
		double real = (double)hits[i] / (double)gets;
		double c16 = rate_at(&cb, plain_mib[i]), c4 = rate_at(&cs, plain_mib[i]);
		printf("%4u MiB %.4f  %.4f      %.4f\n", plain_mib[i], real, c16, c4);
		ASSERT_NEAR(c16, real, 0.01);
		ASSERT_NEAR(c4, real, plain_mib[i] <= 4 ? 0.01 : 0.05);
	}
	/* The curve is a cumulative count: it never falls with more memory. */
	for (size_t i = 1; i < cb.n; i++)
		ASSERT_TRUE(cb.hits_per_s[i] >= cb.hits_per_s[i - 1]);
	ASSERT_TRUE(cb.bytes_per_hit > 300 && cb.bytes_per_hit < 2100);

	/* Shrinking the limit evicts the least recently used down to it, at once. */
	struct mc_store_stats st;
	mc_store_stats(big, &st);
	size_t mapped_before = st.arena_mapped;
	mc_store_set_limit(big, 2 * MIB);
	mc_store_stats(big, &st);
	ASSERT_TRUE(st.bytes <= 2 * MIB);
	ASSERT_GT(st.evictions, 0);
	/* ... and its memory goes back to the kernel: at most the limit and two chunks stay
	 * mapped (the arena compacts the survivors). */
	printf("item memory mapped: %zu KiB before, %zu KiB after the shrink to 2 MiB\n",
	       mapped_before >> 10, st.arena_mapped >> 10);
	ASSERT_GT(mapped_before, 12 * MIB);
	ASSERT_LE(st.arena_mapped, 4 * MIB + MIB);
	mc_store_check(big);
	/* Every item is still whole after the moves. */
	for (unsigned k = 0; k < NKEYS; k++) {
		char key[32];
		int kl = snprintf(key, sizeof(key), "key:%u", k);
		struct mc_item *it = mc_store_get(big, key, (size_t)kl, false);
		if (it) {
			ASSERT_EQ(it->nbytes - 2, 300 + (k * 7919u) % 1700);
			ASSERT_TRUE(memcmp(mc_item_value(it), value, it->nbytes - 2) == 0);
		}
	}
	/* Growing back restores the item size limit the store was made with. */
	mc_store_set_limit(big, 16 * MIB);
	ASSERT_TRUE(mc_store_size_ok(big, 10, 0, MIB - 200));
	for (int i = 0; i < 2 + NPLAIN; i++)
		mc_store_destroy(all[i]);
	printf("test_mc_curve: ok (%llu gets)\n", (unsigned long long)gets);
	return 0;
}
