/* hmap.h: a small open-addressing hash map from byte-string keys to pointers.
 *
 * The market looks tenants up by name, by id and by key on every request, and pools by
 * (host, resource) on every bid; this is the one map type it uses for all of them. Keys are
 * copied into the map; values are borrowed (the map never frees them). Not thread-safe. */
#ifndef MARKET_HMAP_H
#define MARKET_HMAP_H

#include <stddef.h>
#include <stdint.h>

struct hmap_slot {
	uint64_t hash;  /* 0: empty; 1: deleted */
	char *key;
	size_t len;
	void *value;
};

struct hmap {
	struct hmap_slot *slots;
	size_t cap;     /* power of two, or 0 */
	size_t used;    /* live entries */
	size_t filled;  /* live + deleted */
};

void hmap_init(struct hmap *h);
void hmap_fini(struct hmap *h);
/* The value stored under key, or NULL. */
void *hmap_get(const struct hmap *h, const void *key, size_t len);
/* Stores value under key (replacing any). Returns 0 or -ENOMEM. */
int hmap_put(struct hmap *h, const void *key, size_t len, void *value);
/* Removes key; returns the value it had, or NULL. */
void *hmap_del(struct hmap *h, const void *key, size_t len);

/* Helpers for the common key shapes. */
void *hmap_get_str(const struct hmap *h, const char *key);
int hmap_put_str(struct hmap *h, const char *key, void *value);
void *hmap_del_str(struct hmap *h, const char *key);
void *hmap_get_i64(const struct hmap *h, int64_t key);
int hmap_put_i64(struct hmap *h, int64_t key, void *value);

#endif
