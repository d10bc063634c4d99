/* mc_store.c: nom-memcached's item store (mc_store.h). */
#include <ctype.h>
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "app/lru.h"
#include "mc_arena.h"
#include "mc_curve.h"
#include "mc_store.h"

struct mc_store {
	struct mc_store_config cfg;
	struct mc_clock clock;
	struct mc_item **table;
	size_t nbuckets;             /* power of two */
	struct mc_item *lru_head, *lru_tail;
	size_t count;
	size_t bytes;
	uint64_t cas_next;           /* the last version handed out */
	int64_t flush_at_ns;         /* delayed flush_all deadline (0: none) */
	size_t item_max;             /* -I as configured (a smaller limit caps it) */
	struct mc_curve *curve;      /* NULL unless cfg.curve_max */
	struct mc_arena *arena;      /* the items' memory: given back as the limit falls */
	struct mc_store_stats st;
};

static int64_t now_ns(const struct mc_store *s)
{
	return s->clock.mono_ns(s->clock.arg);
}

static uint64_t hash_key(const char *key, size_t n)
{
	uint64_t h = 0xcbf29ce484222325ull;

	for (size_t i = 0; i < n; i++) {
		h ^= (unsigned char)key[i];
		h *= 0x100000001b3ull;
	}
	h ^= h >> 33;
	h *= 0xff51afd7ed558ccdull;
	h ^= h >> 33;
	return h;
}

static size_t item_size(const struct mc_item *it)
{
	return sizeof(*it) + it->nkey + it->nbytes;
}

int mc_store_create(const struct mc_store_config *cfg, const struct mc_clock *clock,
		    struct mc_store **out)
{
	struct mc_store *s;

	if (!cfg || !clock || !clock->mono_ns || !clock->wall_s || cfg->item_max == 0 ||
	    cfg->item_max > cfg->mem_limit)
		return -EINVAL;
	s = calloc(1, sizeof(*s));
	if (!s)
		return -ENOMEM;
	s->cfg = *cfg;
	s->clock = *clock;
	s->item_max = cfg->item_max;
	if (mc_arena_create(&s->arena) != 0) {
		free(s);
		return -ENOMEM;
	}
	s->nbuckets = 1024;
	s->table = calloc(s->nbuckets, sizeof(*s->table));
	if (!s->table) {
		mc_arena_destroy(s->arena);
		free(s);
		return -ENOMEM;
	}
	*out = s;
	return 0;
}

static size_t item_size(const struct mc_item *it);

static void lru_unlink(struct mc_store *s, struct mc_item *it)
{
	if (s->curve)
		mc_curve_remove(s->curve, it->stamp, item_size(it));
	it->stamp = 0;
	LRU_UNLINK(s->lru_head, s->lru_tail, it);
}

/* Gives every item a new stamp, from the least to the most recently used. */
static void stamp_all(struct mc_store *s)
{
	int renumber = 0;
	size_t n = 0;

	for (struct mc_item *x = s->lru_head; x; x = x->next)
		n++;
	mc_curve_renumber(s->curve, n);
	for (struct mc_item *x = s->lru_tail; x; x = x->prev)
		x->stamp = mc_curve_insert(s->curve, item_size(x), &renumber);
}

static void lru_push(struct mc_store *s, struct mc_item *it)
{
	LRU_PUSH(s->lru_head, s->lru_tail, it);
	if (s->curve) {
		int renumber = 0;
		it->stamp = mc_curve_insert(s->curve, item_size(it), &renumber);
		if (renumber) /* the stamps ran out: every item again, oldest first */
			stamp_all(s);
	}
}

/* Removes and frees an item. */
static void item_drop(struct mc_store *s, struct mc_item *it)
{
	struct mc_item **pp = &s->table[it->hash & (s->nbuckets - 1)];

	while (*pp && *pp != it)
		pp = &(*pp)->hnext;
	if (*pp)
		*pp = it->hnext;
	lru_unlink(s, it);
	s->count--;
	s->bytes -= item_size(it);
	mc_arena_free(s->arena, it);
}

void mc_store_destroy(struct mc_store *s)
{
	if (!s)
		return;
	while (s->lru_head)
		item_drop(s, s->lru_head);
	mc_curve_destroy(s->curve);
	mc_arena_destroy(s->arena);
	free(s->table);
	free(s);
}

static void grow(struct mc_store *s)
{
	size_t n = s->nbuckets * 2;
	struct mc_item **t = calloc(n, sizeof(*t));

	if (!t)
		return; /* keep the longer chains */
	for (size_t i = 0; i < s->nbuckets; i++) {
		struct mc_item *it = s->table[i], *next;

		for (; it; it = next) {
			next = it->hnext;
			it->hnext = t[it->hash & (n - 1)];
			t[it->hash & (n - 1)] = it;
		}
	}
	free(s->table);
	s->table = t;
	s->nbuckets = n;
}

int64_t mc_store_exptime(const struct mc_store *s, int32_t exptime)
{
	int64_t now = now_ns(s);

	if (exptime == 0)
		return 0;
	if (exptime < 0)
		return 1; /* long past: expired at once */
	if (exptime <= MC_REALTIME_MAXDELTA)
		return now + (int64_t)exptime * 1000000000;
	{
		int64_t wall = s->clock.wall_s(s->clock.arg);

		if (exptime <= wall)
			return 1;
		return now + ((int64_t)exptime - wall) * 1000000000;
	}
}

bool mc_store_size_ok(const struct mc_store *s, size_t nkey, uint32_t flags, size_t vlen)
{
	size_t total = MC_ITEM_HEADER + nkey + 1 + (flags ? sizeof(uint32_t) : 0) + vlen + 2 +
		       sizeof(uint64_t);

	return vlen <= s->cfg.item_max && total <= s->cfg.item_max;
}

static bool dead(const struct mc_store *s, const struct mc_item *it, int64_t now, bool *flushed)
{
	*flushed = false;
	if (s->flush_at_ns && now >= s->flush_at_ns && it->time_ns <= s->flush_at_ns) {
		*flushed = true;
		return true;
	}
	return it->exp_ns != 0 && now >= it->exp_ns;
}

static struct mc_item *find(struct mc_store *s, const char *key, size_t nkey, uint64_t h)
{
	struct mc_item *it = s->table[h & (s->nbuckets - 1)];

	for (; it; it = it->hnext)
		if (it->hash == h && it->nkey == nkey && memcmp(it->data, key, nkey) == 0)
			return it;
	return NULL;
}

/* The live item, removing a dead one. stats: count a get hit/miss. */
static struct mc_item *lookup(struct mc_store *s, const char *key, size_t nkey, bool count)
{
	uint64_t h = hash_key(key, nkey);
	struct mc_item *it = find(s, key, nkey, h);
	bool flushed;

	if (it && dead(s, it, now_ns(s), &flushed)) {
		if (count) {
			if (flushed)
				s->st.get_flushed++;
			else
				s->st.get_expired++;
		}
		s->st.reclaimed++;
		item_drop(s, it);
		it = NULL;
	}
	return it;
}

struct mc_item *mc_store_get(struct mc_store *s, const char *key, size_t nkey, bool bump)
{
	struct mc_item *it = lookup(s, key, nkey, bump);

	if (bump) {
		if (it) {
			s->st.get_hits++;
			if (s->curve) /* "VALUE <key> <flags> <bytes>\r\n", the data, "END\r\n" */
				mc_curve_hit(s->curve, now_ns(s), it->stamp,
					     it->nkey + it->nbytes + 30);
			lru_unlink(s, it);
			lru_push(s, it);
		} else {
			s->st.get_misses++;
			if (s->curve)
				mc_curve_miss(s->curve, now_ns(s), hash_key(key, nkey), s->bytes);
		}
	}
	return it;
}

/* Makes room for need more bytes. Returns false when it cannot. */
static bool make_room(struct mc_store *s, size_t need, const struct mc_item *keep)
{
	while (s->bytes + need > s->cfg.mem_limit) {
		struct mc_item *victim = s->lru_tail;

		if (victim == keep && victim)
			victim = victim->prev;
		if (!victim || !s->cfg.evict)
			return false;
		if (s->curve)
			mc_curve_evicted(s->curve, victim->hash, item_size(victim), s->cfg.mem_limit);
		item_drop(s, victim);
		s->st.evictions++;
	}
	return true;
}

/* The arena moved an item: every pointer to it (LRU neighbours or ends, its hash chain's
 * predecessor) now points to its copy. */
static void moved(void *arg, void *old_block, void *new_block)
{
	struct mc_store *s = arg;
	struct mc_item *old = old_block, *it = new_block;
	struct mc_item **pp = &s->table[it->hash & (s->nbuckets - 1)];

	if (it->prev)
		it->prev->next = it;
	else if (s->lru_head == old)
		s->lru_head = it;
	if (it->next)
		it->next->prev = it;
	else if (s->lru_tail == old)
		s->lru_tail = it;
	while (*pp && *pp != old)
		pp = &(*pp)->hnext;
	if (*pp)
		*pp = it;
}

/* Gives back what is mapped beyond the limit (and two chunks of slack). */
static void compact(struct mc_store *s)
{
	mc_arena_compact(s->arena, s->cfg.mem_limit + 2 * MC_ARENA_CHUNK, moved, s);
}

/* Allocates an item (not linked). value may be NULL (filled by the caller). */
static struct mc_item *item_new(struct mc_store *s, const char *key, size_t nkey, uint32_t flags,
				int64_t exp_ns, const char *value, size_t vlen)
{
	struct mc_item *it = mc_arena_alloc(s->arena, sizeof(*it) + nkey + vlen + 2);

	if (!it)
		return NULL;
	memset(it, 0, sizeof(*it));
	it->flags = flags;
	it->exp_ns = exp_ns;
	it->nkey = (uint32_t)nkey;
	it->nbytes = (uint32_t)(vlen + 2);
	it->hash = hash_key(key, nkey);
	memcpy(it->data, key, nkey);
	if (value)
		memcpy(it->data + nkey, value, vlen);
	memcpy(it->data + nkey + vlen, "\r\n", 2);
	return it;
}

/* Links a new item in place of old (may be NULL); it gets the next CAS version. */
static void item_link(struct mc_store *s, struct mc_item *it, struct mc_item *old)
{
	size_t b;

	if (old)
		item_drop(s, old);
	if (s->curve)
		mc_curve_forget(s->curve, it->hash);
	it->cas = ++s->cas_next;
	it->time_ns = now_ns(s);
	b = it->hash & (s->nbuckets - 1);
	it->hnext = s->table[b];
	s->table[b] = it;
	lru_push(s, it);
	s->count++;
	s->bytes += item_size(it);
	s->st.total_items++;
	if (s->count > s->nbuckets + s->nbuckets / 2)
		grow(s);
}

void mc_store_unlink_key(struct mc_store *s, const char *key, size_t nkey)
{
	struct mc_item *it = lookup(s, key, nkey, false);

	if (it)
		item_drop(s, it);
}

enum mc_result mc_store_put(struct mc_store *s, enum mc_cmd cmd, const char *key, size_t nkey,
			    uint32_t flags, int64_t exp_ns, const char *value, size_t vlen,
			    uint64_t cas, uint64_t *cas_out)
{
	struct mc_item *old, *it;
	size_t need;

	s->st.cmd_set++;
	if (!mc_store_size_ok(s, nkey, flags, vlen))
		return MC_TOO_LARGE;
	old = lookup(s, key, nkey, false);
	switch (cmd) {
	case MC_ADD:
		if (old) {
			lru_unlink(s, old); /* memcached bumps the existing item */
			lru_push(s, old);
			return MC_NOT_STORED;
		}
		break;
	case MC_CAS:
		if (!old) {
			s->st.cas_misses++;
			return MC_NOT_FOUND;
		}
		if (old->cas != cas) {
			s->st.cas_badval++;
			return MC_EXISTS;
		}
		s->st.cas_hits++;
		break;
	case MC_REPLACE:
	case MC_APPEND:
	case MC_PREPEND:
		if (!old)
			return MC_NOT_STORED;
		break;
	case MC_SET:
		break;
	}
	if (cmd == MC_APPEND || cmd == MC_PREPEND) {
		size_t ovlen = old->nbytes - 2, total = ovlen + vlen;

		if (!mc_store_size_ok(s, nkey, old->flags, total))
			return MC_NOT_STORED;
		it = item_new(s, key, nkey, old->flags, old->exp_ns, NULL, total);
		if (!it)
			return MC_NOT_STORED;
		if (cmd == MC_APPEND) {
			memcpy(it->data + nkey, mc_item_value(old), ovlen);
			memcpy(it->data + nkey + ovlen, value, vlen);
		} else {
			memcpy(it->data + nkey, value, vlen);
			memcpy(it->data + nkey + vlen, mc_item_value(old), ovlen);
		}
	} else {
		it = item_new(s, key, nkey, flags, exp_ns, value, vlen);
		if (!it)
			return MC_NO_MEMORY;
	}
	need = item_size(it) - (old ? item_size(old) : 0);
	if (item_size(it) > (old ? item_size(old) : 0) && !make_room(s, need, old)) {
		mc_arena_free(s->arena, it);
		return MC_NO_MEMORY;
	}
	item_link(s, it, old);
	if (cas_out)
		*cas_out = it->cas;
	/* Dead blocks pile up in the chunks as items are replaced and evicted: compact once
	 * they pass an eighth of the limit (it may move the item just stored). */
	if (mc_arena_mapped(s->arena) > s->cfg.mem_limit + s->cfg.mem_limit / 8 + 4 * MC_ARENA_CHUNK)
		compact(s);
	return MC_STORED;
}

bool mc_store_delete(struct mc_store *s, const char *key, size_t nkey)
{
	struct mc_item *it = lookup(s, key, nkey, false);

	if (!it) {
		s->st.delete_misses++;
		return false;
	}
	s->st.delete_hits++;
	item_drop(s, it);
	return true;
}

bool mc_store_touch(struct mc_store *s, const char *key, size_t nkey, int64_t exp_ns)
{
	struct mc_item *it = lookup(s, key, nkey, false);

	s->st.cmd_touch++;
	if (!it) {
		s->st.touch_misses++;
		return false;
	}
	s->st.touch_hits++;
	it->exp_ns = exp_ns;
	lru_unlink(s, it);
	lru_push(s, it);
	return true;
}

/* memcached's safe_strtoull on the value: leading blanks and a '+' are allowed, the number
 * must end at a blank (the value's CRLF counts), a '-' is refused. */
static bool value_number(const char *v, size_t n, uint64_t *out)
{
	char small[64], *buf = small, *end;
	unsigned long long x;
	bool ok;

	if (n + 1 > sizeof(small)) {
		buf = malloc(n + 1);
		if (!buf)
			return false;
	}
	memcpy(buf, v, n);
	buf[n] = '\0';
	errno = 0;
	x = strtoull(buf, &end, 10);
	ok = errno != ERANGE && end != buf && (isspace((unsigned char)*end) || *end == '\0');
	if (ok && (long long)x < 0 && strchr(buf, '-'))
		ok = false;
	if (buf != small)
		free(buf);
	*out = x;
	return ok;
}

enum mc_delta_result mc_store_delta(struct mc_store *s, const char *key, size_t nkey, bool incr,
				    uint64_t delta, char *buf)
{
	struct mc_item *it = lookup(s, key, nkey, false), *nit;
	uint64_t value;
	size_t len;

	if (!it) {
		if (incr)
			s->st.incr_misses++;
		else
			s->st.decr_misses++;
		return MC_DELTA_NOT_FOUND;
	}
	if (it->nbytes <= 2 || !value_number(mc_item_value(it), it->nbytes, &value))
		return MC_DELTA_NON_NUMERIC;
	if (incr) {
		value += delta;
		s->st.incr_hits++;
	} else {
		value = delta > value ? 0 : value - delta;
		s->st.decr_hits++;
	}
	len = (size_t)snprintf(buf, 24, "%" PRIu64, value);
	if (len + 2 <= it->nbytes) {
		char *d = it->data + it->nkey;

		memcpy(d, buf, len);
		memset(d + len, ' ', it->nbytes - len - 2);
		it->cas = ++s->cas_next;
		lru_unlink(s, it);
		lru_push(s, it);
		return MC_DELTA_OK;
	}
	nit = item_new(s, key, nkey, it->flags, it->exp_ns, buf, len);
	if (!nit)
		return MC_DELTA_EOM;
	if (!make_room(s, item_size(nit) - item_size(it), it)) {
		mc_arena_free(s->arena, nit);
		return MC_DELTA_EOM;
	}
	item_link(s, nit, it);
	return MC_DELTA_OK;
}

void mc_store_flush(struct mc_store *s, int32_t exptime)
{
	int64_t when;

	s->st.cmd_flush++;
	when = exptime > 0 ? mc_store_exptime(s, exptime) - 1000000000 : 0;
	if (when <= now_ns(s)) {
		/* In effect now: every item goes, and (as memcached) a CAS version is used. */
		while (s->lru_head)
			item_drop(s, s->lru_head);
		s->cas_next++;
		s->flush_at_ns = 0;
		return;
	}
	s->flush_at_ns = when;
}

void mc_store_set_limit(struct mc_store *s, size_t bytes)
{
	s->cfg.mem_limit = bytes;
	s->cfg.item_max = s->item_max > bytes ? bytes : s->item_max;
	make_room(s, 0, NULL);
	compact(s); /* and the memory the evicted items took goes back to the kernel */
}

int mc_store_curve_start(struct mc_store *s)
{
	if (s->curve || !s->cfg.curve_max)
		return 0;
	int rc = mc_curve_create(s->cfg.curve_max, &s->curve);
	if (rc)
		return rc;
	stamp_all(s); /* the items already cached, in their LRU order */
	return 0;
}

void mc_store_curve(struct mc_store *s, struct nom_memory_curve *out)
{
	if (s->curve)
		mc_curve_read(s->curve, now_ns(s), out);
	else
		memset(out, 0, sizeof(*out));
}

void mc_store_stats(const struct mc_store *s, struct mc_store_stats *out)
{
	*out = s->st;
	out->curr_items = s->count;
	out->bytes = s->bytes;
	out->mem_limit = s->cfg.mem_limit;
	out->arena_mapped = mc_arena_mapped(s->arena);
}

void mc_store_reset_stats(struct mc_store *s)
{
	memset(&s->st, 0, sizeof(s->st));
}

void mc_store_check(const struct mc_store *s)
{
	size_t n = 0, bytes = 0, chained = 0;

	for (const struct mc_item *it = s->lru_head; it; it = it->next) {
		n++;
		bytes += item_size(it);
		if (it->next && it->next->prev != it)
			abort();
		if (memcmp(it->data + it->nkey + it->nbytes - 2, "\r\n", 2) != 0)
			abort();
		if (it->cas > s->cas_next || it->cas == 0)
			abort();
	}
	for (size_t b = 0; b < s->nbuckets; b++)
		for (const struct mc_item *it = s->table[b]; it; it = it->hnext) {
			if ((it->hash & (s->nbuckets - 1)) != b)
				abort();
			chained++;
		}
	if (n != s->count || chained != s->count || bytes != s->bytes)
		abort();
	if (s->cfg.evict && s->bytes > s->cfg.mem_limit)
		abort();
	if (mc_arena_live(s->arena) < s->bytes)
		abort();
	mc_arena_check(s->arena);
}
