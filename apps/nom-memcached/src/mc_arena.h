/* mc_arena.h: nom-memcached's item memory, which it can give back to the kernel.
 *
 * The cache's size follows the memory the app holds (docs/economics.md), and the host agent
 * enforces that holding as a memory cgroup limit; cgroup v1 refuses a limit below the usage it
 * cannot reclaim (anonymous memory, no swap). With malloc, evicting the least recently used
 * items frees chunks scattered over the heap in LRU order, so almost no page becomes free and
 * the process keeps its peak footprint. Here items live in chunks of their own (1 MiB,
 * mmap'd, aligned to their size): blocks are bump-allocated, a freed block is only marked
 * dead, and compaction copies the live blocks of the emptiest chunks into fresh ones (the
 * owner fixes its pointers in a callback) and unmaps the emptied chunks, so that what is
 * mapped follows what is live. A block larger than a quarter chunk gets its own mapping and
 * is unmapped when freed.
 *
 * Design notes (mc_arena_check() asserts them):
 *   1. Every block lies in one chunk, between the chunk's header and its bump offset, in
 *      address order, each 16-byte aligned with its header; or is a big block alone in its
 *      own mapping.
 *   2. A chunk's live bytes are the sum of its live blocks' sizes (headers included); the
 *      arena's live and mapped bytes are the sums over chunks and big blocks.
 *   3. The current chunk (where allocation bumps) is never compacted.
 * Single-threaded: the store's thread owns it. */
#ifndef MC_ARENA_H
#define MC_ARENA_H

#include <stddef.h>

#define MC_ARENA_CHUNK (1u << 20)
#define MC_ARENA_ALIGN 16u

struct mc_arena;

/* An empty arena (nothing mapped). Returns 0 or -ENOMEM. */
int mc_arena_create(struct mc_arena **out);
/* Unmaps everything (blocks still allocated included). NULL: no-op. */
void mc_arena_destroy(struct mc_arena *a);

/* size bytes, 16-byte aligned, or NULL when no memory can be mapped. */
void *mc_arena_alloc(struct mc_arena *a, size_t size);
/* Gives a block back (it stays mapped until its chunk is compacted). p may be NULL. */
void mc_arena_free(struct mc_arena *a, void *p);
/* The size a block was allocated with. */
size_t mc_arena_size(const void *p);

/* Bytes mapped (chunks and big blocks), and bytes in live blocks (headers included). */
size_t mc_arena_mapped(const struct mc_arena *a);
size_t mc_arena_live(const struct mc_arena *a);

/* Called for every block compaction moves, after its bytes were copied to new: the owner
 * replaces every pointer to old by new. old's memory is still readable during the call. */
typedef void (*mc_arena_move_fn)(void *arg, void *old_block, void *new_block);

/* Moves the live blocks of the emptiest chunks (never the current one) into fresh space and
 * unmaps the chunks emptied, until at most target bytes are mapped or no chunk is worth
 * moving (over 90% live). Returns how much the mapped bytes fell (the chunks unmapped less
 * the fresh ones the moved blocks took). A block that cannot be moved (no memory for a fresh
 * chunk) stays where it is. */
size_t mc_arena_compact(struct mc_arena *a, size_t target, mc_arena_move_fn move, void *arg);

/* Asserts the design notes (aborts on violation). */
void mc_arena_check(const struct mc_arena *a);

#endif
