/* hmap.c: open addressing with linear probing, FNV-1a hashes, tombstones on delete. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "hmap.h"

#define EMPTY 0
#define DELETED 1

static uint64_t hash_bytes(const void *key, size_t len)
{
	const unsigned char *p = key;
	uint64_t h = UINT64_C(1469598103934665603);

	for (size_t i = 0; i < len; i++) {
		h ^= p[i];
		h *= UINT64_C(1099511628211);
	}
	return h < 2 ? h + 2 : h; /* 0 and 1 mark empty and deleted slots */
}

void hmap_init(struct hmap *h)
{
	memset(h, 0, sizeof(*h));
}

void hmap_fini(struct hmap *h)
{
	for (size_t i = 0; i < h->cap; i++)
		if (h->slots[i].hash > DELETED)
			free(h->slots[i].key);
	free(h->slots);
	memset(h, 0, sizeof(*h));
}

static struct hmap_slot *find(const struct hmap *h, const void *key, size_t len, uint64_t hash)
{
	if (!h->cap)
		return NULL;
	for (size_t i = hash & (h->cap - 1), n = 0; n < h->cap; i = (i + 1) & (h->cap - 1), n++) {
		struct hmap_slot *s = &h->slots[i];
		if (s->hash == EMPTY)
			return NULL;
		if (s->hash == hash && s->len == len && memcmp(s->key, key, len) == 0)
			return s;
	}
	return NULL;
}

void *hmap_get(const struct hmap *h, const void *key, size_t len)
{
	struct hmap_slot *s = find(h, key, len, hash_bytes(key, len));

	return s ? s->value : NULL;
}

/* Rehashes into a table twice the size, or the same size when most filled slots are
 * tombstones. */
static int grow(struct hmap *h)
{
	size_t cap = h->cap == 0 ? 16 : h->used * 4 < h->cap ? h->cap : h->cap * 2;
	struct hmap_slot *old = h->slots, *slots = calloc(cap, sizeof(*slots));

	if (!slots)
		return -ENOMEM;
	for (size_t i = 0; i < h->cap; i++) {
		if (old[i].hash <= DELETED)
			continue;
		size_t j = old[i].hash & (cap - 1);
		while (slots[j].hash != EMPTY)
			j = (j + 1) & (cap - 1);
		slots[j] = old[i];
	}
	free(old);
	h->slots = slots;
	h->cap = cap;
	h->filled = h->used;
	return 0;
}

int hmap_put(struct hmap *h, const void *key, size_t len, void *value)
{
	uint64_t hash = hash_bytes(key, len);
	struct hmap_slot *s = find(h, key, len, hash);

	if (s) {
		s->value = value;
		return 0;
	}
	if ((h->filled + 1) * 4 > h->cap * 3) {
		int err = grow(h);
		if (err)
			return err;
	}
	char *copy = malloc(len ? len : 1);
	if (!copy)
		return -ENOMEM;
	memcpy(copy, key, len);
	size_t i = hash & (h->cap - 1);
	while (h->slots[i].hash > DELETED)
		i = (i + 1) & (h->cap - 1);
	if (h->slots[i].hash == EMPTY)
		h->filled++;
	h->slots[i] = (struct hmap_slot){hash, copy, len, value};
	h->used++;
	return 0;
}

void *hmap_del(struct hmap *h, const void *key, size_t len)
{
	struct hmap_slot *s = find(h, key, len, hash_bytes(key, len));
	void *v;

	if (!s)
		return NULL;
	v = s->value;
	free(s->key);
	s->key = NULL;
	s->hash = DELETED;
	h->used--;
	return v;
}

void *hmap_get_str(const struct hmap *h, const char *key)
{
	return hmap_get(h, key, strlen(key));
}

int hmap_put_str(struct hmap *h, const char *key, void *value)
{
	return hmap_put(h, key, strlen(key), value);
}

void *hmap_del_str(struct hmap *h, const char *key)
{
	return hmap_del(h, key, strlen(key));
}

void *hmap_get_i64(const struct hmap *h, int64_t key)
{
	return hmap_get(h, &key, sizeof(key));
}

int hmap_put_i64(struct hmap *h, int64_t key, void *value)
{
	return hmap_put(h, &key, sizeof(key), value);
}
