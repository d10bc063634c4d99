/* mc_store.h: nom-memcached's item store: a hash table with LRU eviction under a memory limit,
 * expiry, CAS versions and flush_all, with memcached 1.6's semantics.
 *
 * The store is what makes the differential test against Debian's memcached pass byte for
 * byte, so it follows memcached where a client can see it: the CAS counter (one new version
 * per stored item, per incr/decr, and per immediate flush_all), the item size limit (memcached
 * counts a 48-byte header, the key plus one, 4 bytes of flags when non-zero, the value with its
 * CRLF and 8 bytes of CAS against -I), expiry times (0 never, negative already expired, up to
 * 30 days relative, beyond that an absolute Unix time), append/prepend keeping the old item's
 * flags and expiry, and incr/decr rewriting a value in place padded with spaces when the new
 * number is shorter. Memory accounting and eviction are its own (a plain LRU over exact
 * sizes), since memcached's slab classes are an implementation detail.
 *
 * Design notes (mc_store_check() asserts them):
 *   1. Every item is in exactly one hash chain and in the LRU list; count and bytes are the
 *      number and accounted size of those items.
 *   2. bytes <= mem_limit after every store (eviction), unless eviction is off.
 *   3. An item's data holds key, then value, then "\r\n"; nbytes counts the value and CRLF.
 *   4. cas_next only grows.
 * Single-threaded: the app serializes access (callbacks never run concurrently). Time comes
 * from an injected clock so tests control expiry. */
#ifndef MC_STORE_H
#define MC_STORE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define MC_KEY_MAX 250
#define MC_REALTIME_MAXDELTA 2592000 /* 30 days: larger exptimes are absolute Unix times */
#define MC_ITEM_HEADER 48            /* memcached's sizeof(item) on 64-bit */

struct mc_clock {
	int64_t (*mono_ns)(void *arg);   /* monotonic nanoseconds */
	int64_t (*wall_s)(void *arg);    /* Unix time, seconds */
	void *arg;
};

struct mc_item {
	struct mc_item *hnext;
	struct mc_item *prev, *next;     /* LRU: head is most recent */
	uint64_t cas;
	int64_t time_ns;                 /* when stored (flush_all compares it) */
	int64_t exp_ns;                  /* 0: never; else expires when now >= exp_ns */
	uint64_t hash;
	uint32_t flags;
	uint32_t nkey;
	uint32_t nbytes;                 /* value length + 2 */
	uint32_t stamp;                  /* the hit-rate curve's last-use stamp (0: none) */
	char data[];                     /* key, value, "\r\n" */
};

static inline const char *mc_item_value(const struct mc_item *it)
{
	return it->data + it->nkey;
}

enum mc_cmd { MC_SET, MC_ADD, MC_REPLACE, MC_APPEND, MC_PREPEND, MC_CAS };
enum mc_result { MC_STORED, MC_NOT_STORED, MC_EXISTS, MC_NOT_FOUND, MC_TOO_LARGE, MC_NO_MEMORY };
enum mc_delta_result { MC_DELTA_OK, MC_DELTA_NON_NUMERIC, MC_DELTA_NOT_FOUND, MC_DELTA_EOM };

struct mc_store_config {
	size_t mem_limit;   /* bytes (memcached -m, default 64 MiB) */
	size_t item_max;    /* memcached -I (default 1 MiB) */
	bool evict;         /* false: refuse to store when full (memcached -M) */
	/* The hit-rate curve may be measured for caches up to this many bytes (0: never): what
	 * --instance mode values memory by (mc_curve.h), once mc_store_curve_start() is called. */
	size_t curve_max;
};

struct mc_store_stats {
	uint64_t curr_items, total_items, bytes, evictions, expired, reclaimed;
	uint64_t get_hits, get_misses, get_expired, get_flushed;
	uint64_t cmd_set, cmd_touch, touch_hits, touch_misses;
	uint64_t delete_hits, delete_misses, incr_hits, incr_misses, decr_hits, decr_misses;
	uint64_t cas_hits, cas_misses, cas_badval, cmd_flush;
	size_t mem_limit;
	size_t arena_mapped; /* bytes of item memory mapped (limit + slack after a shrink) */
};

struct mc_store;

/* Creates a store (clock copied). Returns 0, -EINVAL (item_max above mem_limit or 0) or
 * -ENOMEM. */
int mc_store_create(const struct mc_store_config *cfg, const struct mc_clock *clock,
		    struct mc_store **out);
void mc_store_destroy(struct mc_store *s);

/* memcached's exptime argument -> an absolute monotonic deadline (0: never). */
int64_t mc_store_exptime(const struct mc_store *s, int32_t exptime);

/* Does an item of this key length, flags and value length (without CRLF) fit -I? */
bool mc_store_size_ok(const struct mc_store *s, size_t nkey, uint32_t flags, size_t vlen);

/* The live item for key (borrowed until the next store call), or NULL. Expired and flushed
 * items are removed on the way. bump moves it to the LRU head (a hit). */
struct mc_item *mc_store_get(struct mc_store *s, const char *key, size_t nkey, bool bump);

/* Stores value (vlen bytes, without CRLF) under cmd's rules. cas is the client's version for
 * MC_CAS. On MC_STORED, *cas_out (if not NULL) is the item's new version. */
enum mc_result mc_store_put(struct mc_store *s, enum mc_cmd cmd, const char *key, size_t nkey,
			    uint32_t flags, int64_t exp_ns, const char *value, size_t vlen,
			    uint64_t cas, uint64_t *cas_out);
/* Unlinks key if present (memcached does this when a set fails for size). */
void mc_store_unlink_key(struct mc_store *s, const char *key, size_t nkey);
/* Returns true when the key was there (and is now gone). */
bool mc_store_delete(struct mc_store *s, const char *key, size_t nkey);
/* Sets a new expiry; true when the key was there. */
bool mc_store_touch(struct mc_store *s, const char *key, size_t nkey, int64_t exp_ns);
/* incr (incr true) or decr by delta; the new value's digits in buf (>= 21 bytes). */
enum mc_delta_result mc_store_delta(struct mc_store *s, const char *key, size_t nkey, bool incr,
				    uint64_t delta, char *buf);
/* flush_all with memcached's exptime argument (0 or negative: now). */
void mc_store_flush(struct mc_store *s, int32_t exptime);
/* cache_memlimit: a new limit (evicts down to it, least recently used first). */
void mc_store_set_limit(struct mc_store *s, size_t bytes);

struct nom_memory_curve;
/* Starts measuring the hit-rate curve (idempotent; the items already cached enter it in their
 * LRU order). Until then gets pay nothing for it: the controller starts it only while the
 * market prices memory. Returns 0, or -ENOMEM (not measuring). */
int mc_store_curve_start(struct mc_store *s);
/* The hit-rate curve measured so far (mc_curve.h); an empty curve when not measured. */
void mc_store_curve(struct mc_store *s, struct nom_memory_curve *out);

void mc_store_stats(const struct mc_store *s, struct mc_store_stats *out);
void mc_store_reset_stats(struct mc_store *s);
/* Asserts the design notes (aborts on violation). */
void mc_store_check(const struct mc_store *s);

#endif
