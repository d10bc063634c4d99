/* mc_curve.c: stack distances of gets and the hit-rate curve (mc_curve.h).
 *
 * Design notes
 * ------------
 * Stamps: every item in the cache has a stamp 1..now, distinct, increasing with its last use;
 * fw is a Fenwick tree over stamps holding each item's size at its stamp, so the bytes of
 * the items used after item i are total - prefix(stamp_i): its stack distance. When now
 * reaches cap the caller renumbers every item from the tail of its LRU list.
 * Ghosts: a ring of the most recently evicted keys (hash, size), in eviction order, trimmed
 * so that cache limit + live ghost bytes <= max_bytes; gw, a Fenwick tree over the ring's
 * slots, holds each live ghost's size, so a ghost's distance past the cache is the bytes of
 * the live ghosts evicted after it (a key set again, or hit as a ghost, is no ghost: its bytes
 * leave gw). A direct-mapped index hash -> ring sequence finds them (a rare collision loses a
 * ghost, never invents one: the ring entry's hash is compared).
 * Histograms: hits per distance bucket (MiB steps) in the current and the previous epoch.
 * Invariants: total == the sum of fw's values (the cache's bytes); ring [tail, head) live. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "mc_curve.h"

#define MIB (1024.0 * 1024.0)

struct ghost {
	uint64_t hash; /* 0: forgotten */
	uint32_t size;
};


struct mc_curve {
	size_t max_bytes;
	/* stamps */
	int64_t *fw;
	uint32_t cap, now;
	int64_t total;
	/* ghosts */
	struct ghost *ring;
	uint64_t ring_cap, head, tail; /* sequences; live [tail, head) */
	uint64_t ghost_bytes;          /* live ghosts' */
	uint64_t live;                 /* live ghosts (the rest of [tail, head) is forgotten) */
	int64_t *gw;                   /* Fenwick tree over ring slots: live sizes */
	uint32_t *index;               /* hash -> ring slot + 1 (0: none) */
	uint64_t index_mask;
	/* histograms */
	size_t nb;          /* buckets */
	double step;        /* bytes per bucket */
	double *hist[2];    /* [cur], [prev] */
	uint64_t lookups[2], reply_bytes[2], hits[2];
	int64_t epoch_start, prev_start;
	int cur;
};

static void gw_add(struct mc_curve *c, uint64_t seq, int64_t v)
{
	for (uint64_t i = seq % c->ring_cap + 1; i <= c->ring_cap; i += i & -i)
		c->gw[i] += v;
}

static int64_t gw_prefix(const struct mc_curve *c, uint64_t slots)
{
	int64_t s = 0;

	for (uint64_t i = slots; i > 0; i -= i & -i)
		s += c->gw[i];
	return s;
}

/* Live ghost bytes of sequences (q, head). */
static int64_t ghosts_after(const struct mc_curve *c, uint64_t q)
{
	uint64_t count = c->head - 1 - q, a = (q + 1) % c->ring_cap;

	if (count == 0)
		return 0;
	if (a + count <= c->ring_cap)
		return gw_prefix(c, a + count) - gw_prefix(c, a);
	return gw_prefix(c, c->ring_cap) - gw_prefix(c, a) + gw_prefix(c, a + count - c->ring_cap);
}

static void fw_add(struct mc_curve *c, uint32_t i, int64_t v)
{
	for (; i <= c->cap; i += i & -i)
		c->fw[i] += v;
}

static int64_t fw_prefix(const struct mc_curve *c, uint32_t i)
{
	int64_t s = 0;

	for (; i > 0; i -= i & -i)
		s += c->fw[i];
	return s;
}

int mc_curve_create(size_t max_bytes, struct mc_curve **out)
{
	if (max_bytes == 0 || !out)
		return -EINVAL;
	struct mc_curve *c = calloc(1, sizeof(*c));
	if (!c)
		return -ENOMEM;
	c->max_bytes = max_bytes;
	c->cap = 1u << 12;
	c->fw = calloc(c->cap + 1, sizeof(*c->fw));
	c->ring_cap = 1u << 12;
	c->ring = calloc(c->ring_cap, sizeof(*c->ring));
	c->gw = calloc(c->ring_cap + 1, sizeof(*c->gw));
	c->index_mask = (1u << 14) - 1;
	c->index = calloc(c->index_mask + 1, sizeof(*c->index));
	double mib = (double)max_bytes / MIB;
	c->nb = (size_t)(mib + 1) < NOM_MEMORY_CURVE_MAX ? (size_t)(mib + 1) : NOM_MEMORY_CURVE_MAX;
	c->step = (double)max_bytes / (double)c->nb;
	if (c->step < MIB && c->nb > 1)
		c->step = MIB;
	c->hist[0] = calloc(c->nb + 1, sizeof(double));
	c->hist[1] = calloc(c->nb + 1, sizeof(double));
	c->epoch_start = c->prev_start = -1;
	if (!c->fw || !c->ring || !c->gw || !c->index || !c->hist[0] || !c->hist[1]) {
		mc_curve_destroy(c);
		return -ENOMEM;
	}
	*out = c;
	return 0;
}

void mc_curve_destroy(struct mc_curve *c)
{
	if (!c)
		return;
	free(c->fw);
	free(c->ring);
	free(c->gw);
	free(c->index);
	free(c->hist[0]);
	free(c->hist[1]);
	free(c);
}

/* ---- stamps ---- */

uint32_t mc_curve_insert(struct mc_curve *c, size_t size, int *renumber)
{
	if (c->now >= c->cap) {
		*renumber = 1;
		return 0;
	}
	c->now++;
	fw_add(c, c->now, (int64_t)size);
	c->total += (int64_t)size;
	return c->now;
}

void mc_curve_renumber(struct mc_curve *c, size_t count)
{
	uint32_t cap = 1u << 12;

	while (cap < 4 * count && cap < (1u << 30))
		cap <<= 1;
	if (cap != c->cap) {
		int64_t *fw = calloc(cap + 1, sizeof(*fw));
		if (fw) {
			free(c->fw);
			c->fw = fw;
			c->cap = cap;
		}
	}
	memset(c->fw, 0, (c->cap + 1) * sizeof(*c->fw));
	c->now = 0;
	c->total = 0;
}

void mc_curve_remove(struct mc_curve *c, uint32_t stamp, size_t size)
{
	if (stamp == 0 || stamp > c->now)
		return;
	fw_add(c, stamp, -(int64_t)size);
	c->total -= (int64_t)size;
}

/* ---- ghosts ---- */

static void ghost_trim(struct mc_curve *c, size_t cache_limit)
{
	uint64_t room = c->max_bytes > cache_limit ? c->max_bytes - cache_limit : 0;

	while (c->tail < c->head && (c->ghost_bytes > room || c->head - c->tail >= c->ring_cap)) {
		struct ghost *g = &c->ring[c->tail % c->ring_cap];
		if (g->hash) {
			c->ghost_bytes -= g->size;
			c->live--;
			gw_add(c, c->tail, -(int64_t)g->size);
			g->hash = 0;
		}
		c->tail++;
	}
}

void mc_curve_evicted(struct mc_curve *c, uint64_t hash, size_t size, size_t cache_limit)
{
	if (c->max_bytes <= cache_limit || hash == 0)
		return;
	if (c->head - c->tail + 1 >= c->ring_cap && c->ring_cap < (1u << 24)) {
		/* Full: compact away the forgotten ghosts if they are most of it, else grow the
		 * ring (and its index) to keep ghosts up to max_bytes. */
		uint64_t ncap = c->live * 2 < c->ring_cap ? c->ring_cap : c->ring_cap * 2;
		struct ghost *r = calloc(ncap, sizeof(*r));
		uint32_t *ix = calloc(ncap * 4, sizeof(*ix));
		int64_t *gw = calloc(ncap + 1, sizeof(*gw));
		if (r && ix && gw) {
			uint64_t n = 0;
			for (uint64_t q = c->tail; q < c->head; q++)
				if (c->ring[q % c->ring_cap].hash)
					r[n++] = c->ring[q % c->ring_cap];
			for (uint64_t q = 0; q < n; q++)
				ix[r[q].hash & (ncap * 4 - 1)] = (uint32_t)q + 1;
			c->tail = 0;
			c->head = n;
			free(c->ring);
			free(c->index);
			free(c->gw);
			c->ring = r;
			c->index = ix;
			c->gw = gw;
			c->ring_cap = ncap;
			c->index_mask = ncap * 4 - 1;
			for (uint64_t q = 0; q < n; q++)
				gw_add(c, q, r[q].size);
		} else {
			free(r);
			free(ix);
			free(gw);
		}
	}
	ghost_trim(c, cache_limit);
	if (c->head - c->tail >= c->ring_cap) {
		struct ghost *old = &c->ring[c->tail % c->ring_cap];
		if (old->hash) {
			c->ghost_bytes -= old->size;
			c->live--;
			gw_add(c, c->tail, -(int64_t)old->size);
			old->hash = 0;
		}
		c->tail++;
	}
	struct ghost *g = &c->ring[c->head % c->ring_cap];
	g->hash = hash;
	g->size = (uint32_t)size;
	c->index[hash & c->index_mask] = (uint32_t)(c->head % c->ring_cap) + 1;
	gw_add(c, c->head, (int64_t)size);
	c->head++;
	c->live++;
	c->ghost_bytes += size;
	ghost_trim(c, cache_limit);
}

/* The live ghost of hash, its sequence in *seq; NULL if none. */
static struct ghost *ghost_find(struct mc_curve *c, uint64_t hash, uint64_t *seq)
{
	uint32_t slot = c->index[hash & c->index_mask];

	if (hash == 0 || slot == 0 || c->ring[slot - 1].hash != hash)
		return NULL; /* trimmed and forgotten ghosts have hash 0 */
	uint64_t t = c->tail % c->ring_cap, sl = slot - 1;
	*seq = c->tail + (sl >= t ? sl - t : sl + c->ring_cap - t);
	return &c->ring[sl];
}

static void ghost_drop(struct mc_curve *c, struct ghost *g, uint64_t seq)
{
	g->hash = 0;
	c->live--;
	c->ghost_bytes -= g->size;
	gw_add(c, seq, -(int64_t)g->size);
}

void mc_curve_forget(struct mc_curve *c, uint64_t hash)
{
	uint64_t seq;
	struct ghost *g = ghost_find(c, hash, &seq);

	if (g)
		ghost_drop(c, g, seq);
}

/* ---- histograms ---- */

static void epoch(struct mc_curve *c, int64_t now)
{
	if (c->epoch_start < 0) {
		c->epoch_start = c->prev_start = now;
		return;
	}
	if (now - c->epoch_start < MC_CURVE_EPOCH_NS)
		return;
	int prev = 1 - c->cur;
	if (now - c->epoch_start >= 2 * MC_CURVE_EPOCH_NS) {
		/* Idle for two epochs: what was measured before says nothing about now. */
		for (int k = 0; k < 2; k++) {
			memset(c->hist[k], 0, (c->nb + 1) * sizeof(double));
			c->lookups[k] = c->reply_bytes[k] = c->hits[k] = 0;
		}
		c->prev_start = c->epoch_start = now;
		return;
	}
	memset(c->hist[prev], 0, (c->nb + 1) * sizeof(double));
	c->lookups[prev] = c->reply_bytes[prev] = c->hits[prev] = 0;
	c->prev_start = c->epoch_start;
	c->epoch_start = now;
	c->cur = prev;
}

static void record(struct mc_curve *c, double distance)
{
	size_t b = (size_t)(distance / c->step);

	if (b < c->nb)
		c->hist[c->cur][b] += 1;
}

void mc_curve_hit(struct mc_curve *c, int64_t now_ns, uint32_t stamp, size_t reply_bytes)
{
	epoch(c, now_ns);
	c->lookups[c->cur]++;
	c->hits[c->cur]++;
	c->reply_bytes[c->cur] += reply_bytes;
	if (stamp == 0 || stamp > c->now)
		return;
	record(c, (double)(c->total - fw_prefix(c, stamp)));
}

void mc_curve_miss(struct mc_curve *c, int64_t now_ns, uint64_t hash, size_t cache_bytes)
{
	struct ghost *g;
	uint64_t seq;

	epoch(c, now_ns);
	c->lookups[c->cur]++;
	if ((g = ghost_find(c, hash, &seq)) != NULL) {
		/* In an LRU cache of any size, the items more recent than this key are the
		 * cache's and the live ghosts evicted after it. */
		record(c, (double)cache_bytes + (double)ghosts_after(c, seq));
		ghost_drop(c, g, seq);
	}
}

void mc_curve_read(struct mc_curve *c, int64_t now_ns, struct nom_memory_curve *out)
{
	double secs;
	uint64_t lookups, hits, bytes;

	epoch(c, now_ns);
	memset(out, 0, sizeof(*out));
	if (c->prev_start < 0)
		return;
	secs = (double)(now_ns - c->prev_start) / 1e9;
	if (secs < 0.05)
		secs = 0.05;
	lookups = c->lookups[0] + c->lookups[1];
	hits = c->hits[0] + c->hits[1];
	bytes = c->reply_bytes[0] + c->reply_bytes[1];
	out->step_mib = c->step / MIB;
	out->n = c->nb + 1;
	double cum = 0;
	out->hits_per_s[0] = 0;
	for (size_t i = 1; i <= c->nb; i++) {
		cum += c->hist[0][i - 1] + c->hist[1][i - 1];
		out->hits_per_s[i] = cum / secs;
	}
	out->gets_per_s = (double)lookups / secs;
	out->bytes_per_hit = hits ? (double)bytes / (double)hits : 0;
	out->lookups = lookups;
}
