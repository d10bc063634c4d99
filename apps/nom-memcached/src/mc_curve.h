/* mc_curve.h: nom-memcached's hit-rate curve: how many of its gets would hit with a cache of
 * any size up to its largest, measured from the gets it serves.
 *
 * The value of memory to the app (docs/economics.md) is the hits that memory buys. For an LRU
 * cache that is exactly the stack distances of the requests (Mattson et al., 1970): a get hits
 * in a cache of C bytes iff the bytes of items used more recently than its item are fewer than
 * C. So each hit records its item's stack distance in bytes (exact: a Fenwick tree over the
 * items' last-use stamps, O(log n) per access), and each miss on a key evicted not long ago
 * records its distance past the cache's end (a ghost list of evicted keys and their sizes,
 * covering up to the largest cache the app may hold). The curve is the cumulative histogram of
 * those distances, per second, over the last two epochs of one second each, so it follows a
 * changing workload within about two seconds.
 *
 * Cost: a Fenwick tree of 8 bytes per stamp (4 x the items at most), and per ghost slot
 * about 40 bytes (ring, index, tree), with forgotten ghosts compacted away: with 1 KiB items
 * a few percent of the bytes ghosted, which --memory-reserve covers. test_mc_curve checks
 * the curve against LRU caches of each size: exact below the cache's size, within 2.5 points
 * past it (ghosts lost to index collisions).
 *
 * Not thread-safe: the store's thread owns it (the controller reads it through srv_call). */
#ifndef MC_CURVE_H
#define MC_CURVE_H

#include <stddef.h>
#include <stdint.h>

#include "nom/adapt.h"

#define MC_CURVE_EPOCH_NS INT64_C(1000000000)

struct mc_curve;

/* A curve covering caches up to max_bytes. Returns 0 or -ENOMEM / -EINVAL. */
int mc_curve_create(size_t max_bytes, struct mc_curve **out);
void mc_curve_destroy(struct mc_curve *c);

/* An item of size bytes became the most recently used: its new stamp. *renumber is set when
 * the stamps ran out: the caller then calls mc_curve_renumber() and re-inserts every item
 * from the least to the most recently used. */
uint32_t mc_curve_insert(struct mc_curve *c, size_t size, int *renumber);
/* Starts a renumbering for count items (all stamps forgotten). */
void mc_curve_renumber(struct mc_curve *c, size_t count);
/* The item with stamp left the cache (evicted: its key goes to the ghost list). */
void mc_curve_remove(struct mc_curve *c, uint32_t stamp, size_t size);
void mc_curve_evicted(struct mc_curve *c, uint64_t hash, size_t size, size_t cache_limit);
/* A key was stored again: it is no ghost any more. */
void mc_curve_forget(struct mc_curve *c, uint64_t hash);

/* A get hit the item with this stamp (then re-inserted at the head by the caller): records
 * its stack distance. reply_bytes is what the hit transmits. */
void mc_curve_hit(struct mc_curve *c, int64_t now_ns, uint32_t stamp, size_t reply_bytes);
/* A get missed key hash while the cache held cache_bytes: a ghost's distance, if it is one. */
void mc_curve_miss(struct mc_curve *c, int64_t now_ns, uint64_t hash, size_t cache_bytes);

/* The curve now, in MiB steps up to max_bytes (at most NOM_MEMORY_CURVE_MAX steps). */
void mc_curve_read(struct mc_curve *c, int64_t now_ns, struct nom_memory_curve *out);

#endif
