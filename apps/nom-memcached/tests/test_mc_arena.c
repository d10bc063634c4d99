/* test_mc_arena.c: item memory that goes back to the kernel.
 *
 * 20,000 blocks of 50-3,000 bytes (seeded), each holding a pattern of its own index; 70% of
 * them freed in random order, as LRU eviction frees a cache filled in another order; then
 * compaction to the live bytes plus two chunks. Checked: the invariants after every phase;
 * every surviving block's bytes unchanged, at the address the move callback reported;
 * freeing alone gives back almost nothing (scattered blocks keep their chunks), compaction
 * gives back the rest: mapped <= live / 0.9 + 2 chunks, and the process's resident memory
 * (/proc/self/statm) falls by at least 90% of what was unmapped. Big blocks get mappings of
 * their own. A chunk emptied by frees is unmapped at once. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "mc_arena.h"
#include "test.h"

#define N 20000

static void *blocks[N];
static size_t sizes[N];
static unsigned moves;

static uint64_t rng = 0x9e3779b97f4a7c15ull;

static uint64_t next(void)
{
	rng ^= rng << 13;
	rng ^= rng >> 7;
	rng ^= rng << 17;
	return rng;
}

static void fill(uint8_t *p, size_t n, uint32_t id)
{
	memcpy(p, &id, sizeof(id));
	for (size_t i = sizeof(id); i < n; i++)
		p[i] = (uint8_t)(id * 31 + i);
}

static int intact(const uint8_t *p, size_t n, uint32_t id)
{
	uint32_t got;

	memcpy(&got, p, sizeof(got));
	if (got != id)
		return 0;
	for (size_t i = sizeof(id); i < n; i++)
		if (p[i] != (uint8_t)(id * 31 + i))
			return 0;
	return 1;
}

/* The owner's side of a move: the block's first word is its index in blocks[]. */
static void on_move(void *arg, void *old, void *new)
{
	uint32_t id;

	(void)arg;
	memcpy(&id, new, sizeof(id));
	if (id >= N || blocks[id] != old)
		TEST_FAIL("moved block %u was not at %p", id, old);
	blocks[id] = new;
	moves++;
}

static long rss_bytes(void)
{
	long pages = 0, resident = 0;
	FILE *f = fopen("/proc/self/statm", "r");

	if (!f || fscanf(f, "%ld %ld", &pages, &resident) != 2)
		TEST_FAIL("cannot read /proc/self/statm");
	fclose(f);
	return resident * sysconf(_SC_PAGESIZE);
}

int main(void)
{
	struct mc_arena *a;
	size_t total = 0;

	ASSERT_OK(mc_arena_create(&a));
	ASSERT_EQ(mc_arena_mapped(a), 0);
	for (uint32_t i = 0; i < N; i++) {
		sizes[i] = 50 + next() % 2951;
		blocks[i] = mc_arena_alloc(a, sizes[i]);
		ASSERT_TRUE(blocks[i] != NULL);
		ASSERT_EQ((uintptr_t)blocks[i] % MC_ARENA_ALIGN, 0);
		ASSERT_EQ(mc_arena_size(blocks[i]), sizes[i]);
		fill(blocks[i], sizes[i], i);
		total += sizes[i];
	}
	mc_arena_check(a);
	size_t mapped0 = mc_arena_mapped(a);
	ASSERT_GE(mc_arena_live(a), total);
	ASSERT_LE(mapped0, mc_arena_live(a) + mc_arena_live(a) / 10 + MC_ARENA_CHUNK);

	/* Free 70% in random order. */
	uint32_t order[N];
	for (uint32_t i = 0; i < N; i++)
		order[i] = i;
	for (uint32_t i = N - 1; i > 0; i--) {
		uint32_t j = (uint32_t)(next() % (i + 1)), t = order[i];
		order[i] = order[j];
		order[j] = t;
	}
	for (uint32_t k = 0; k < N * 7 / 10; k++) {
		mc_arena_free(a, blocks[order[k]]);
		blocks[order[k]] = NULL;
	}
	mc_arena_check(a);
	size_t live = mc_arena_live(a), mapped1 = mc_arena_mapped(a);
	printf("after freeing 70%%: live %zu, mapped %zu of %zu (freeing alone gave back %.1f%%)\n",
	       live, mapped1, mapped0, 100.0 * (double)(mapped0 - mapped1) / (double)mapped0);
	ASSERT_GT(mapped1, 2 * live); /* scattered: most chunks keep a live block */

	long rss1 = rss_bytes();
	size_t target = live + 2 * MC_ARENA_CHUNK;
	size_t freed = mc_arena_compact(a, target, on_move, NULL);
	mc_arena_check(a);
	size_t mapped2 = mc_arena_mapped(a);
	long rss2 = rss_bytes();
	printf("compaction: %u blocks moved, mapped fell by %zu to %zu for %zu live; RSS %ld -> "
	       "%ld\n", moves, freed, mapped2, mc_arena_live(a), rss1, rss2);
	ASSERT_EQ(mapped1 - mapped2, freed);
	ASSERT_EQ(mc_arena_live(a), live);
	ASSERT_LE(mapped2, (size_t)((double)live / 0.9) + 2 * MC_ARENA_CHUNK);
	ASSERT_GT(moves, 0);
	ASSERT_GE(rss1 - rss2, (long)(freed * 9 / 10));
	for (uint32_t i = 0; i < N; i++)
		if (blocks[i] && !intact(blocks[i], sizes[i], i))
			TEST_FAIL("block %u changed by compaction", i);

	/* Compaction with nothing to gain moves nothing. */
	unsigned before = moves;
	ASSERT_EQ(mc_arena_compact(a, 0, on_move, NULL) <= 2 * MC_ARENA_CHUNK, 1);
	mc_arena_check(a);
	ASSERT_LE(moves - before, (unsigned)(2 * MC_ARENA_CHUNK / 50));

	/* Big blocks: their own mapping, given back on free. */
	size_t m = mc_arena_mapped(a);
	void *big = mc_arena_alloc(a, 300 << 10);
	ASSERT_TRUE(big != NULL);
	ASSERT_GE(mc_arena_mapped(a) - m, (size_t)(300 << 10));
	memset(big, 0x5a, 300 << 10);
	mc_arena_check(a);
	mc_arena_free(a, big);
	ASSERT_EQ(mc_arena_mapped(a), m);

	/* Freeing every block of a chunk unmaps it at once. */
	for (uint32_t i = 0; i < N; i++)
		if (blocks[i]) {
			mc_arena_free(a, blocks[i]);
			blocks[i] = NULL;
		}
	mc_arena_check(a);
	ASSERT_EQ(mc_arena_live(a), 0);
	ASSERT_LE(mc_arena_mapped(a), MC_ARENA_CHUNK); /* the current chunk at most */
	mc_arena_destroy(a);
	printf("ok: arena\n");
	return 0;
}
