/* mc_arena.c: item memory in mmap'd chunks that compaction can give back (mc_arena.h). */
#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "mc_arena.h"

#define CHUNK_MAGIC UINT64_C(0x4b4e484341434d4e) /* "NMCACHNK" */
#define CHUNK_HDR 64u                              /* blocks start here */
#define BIG_LIMIT (MC_ARENA_CHUNK / 4)
#define BIG_HDR 32u
#define F_LIVE 1u
#define F_BIG 2u
/* A chunk whose live blocks fill more than this share of it frees nothing when moved. */
#define WORTH_MOVING 0.9

struct blk {              /* right before every block's bytes */
	uint32_t size;        /* as asked */
	uint32_t flags;       /* F_LIVE, F_BIG */
	uint64_t total;       /* chunk: header + bytes, aligned; big: the mapping's length */
};

struct chunk {            /* at the start of every chunk */
	uint64_t magic;
	size_t used;          /* bump offset from the chunk's start */
	size_t live;          /* bytes of live blocks, headers included */
	size_t index;         /* in arena->chunks */
};

struct big {              /* at the start of every big block's mapping */
	struct big *prev, *next;
	uint64_t pad[2];
};

struct mc_arena {
	struct chunk **chunks;
	size_t n, cap;
	struct chunk *cur;
	struct big *bigs;
	size_t mapped, live;
};

_Static_assert(sizeof(struct blk) == MC_ARENA_ALIGN, "a block header keeps the alignment");
_Static_assert(sizeof(struct chunk) <= CHUNK_HDR && CHUNK_HDR % MC_ARENA_ALIGN == 0, "chunk");
_Static_assert(sizeof(struct big) == BIG_HDR, "big block header");

static size_t align_up(size_t v, size_t a)
{
	return (v + a - 1) & ~(a - 1);
}

static struct blk *hdr_of(const void *p)
{
	return (struct blk *)((char *)p - sizeof(struct blk));
}

int mc_arena_create(struct mc_arena **out)
{
	struct mc_arena *a = calloc(1, sizeof(*a));

	if (!a)
		return -ENOMEM;
	*out = a;
	return 0;
}

static void unmap_chunk(struct mc_arena *a, struct chunk *c)
{
	size_t i = c->index;

	a->chunks[i] = a->chunks[--a->n];
	a->chunks[i]->index = i;
	if (a->cur == c)
		a->cur = NULL;
	munmap(c, MC_ARENA_CHUNK);
	a->mapped -= MC_ARENA_CHUNK;
}

void mc_arena_destroy(struct mc_arena *a)
{
	if (!a)
		return;
	while (a->n)
		unmap_chunk(a, a->chunks[a->n - 1]);
	while (a->bigs) {
		struct big *b = a->bigs;
		a->bigs = b->next;
		munmap(b, hdr_of((char *)b + BIG_HDR + sizeof(struct blk))->total);
	}
	free(a->chunks);
	free(a);
}

/* A fresh chunk, aligned to its size so that a block finds its chunk by masking. */
static struct chunk *new_chunk(struct mc_arena *a)
{
	if (a->n == a->cap) {
		size_t cap = a->cap ? a->cap * 2 : 64;
		struct chunk **c = realloc(a->chunks, cap * sizeof(*c));
		if (!c)
			return NULL;
		a->chunks = c;
		a->cap = cap;
	}
	char *m = mmap(NULL, 2 * (size_t)MC_ARENA_CHUNK, PROT_READ | PROT_WRITE,
		       MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (m == MAP_FAILED)
		return NULL;
	char *start = (char *)align_up((uintptr_t)m, MC_ARENA_CHUNK);
	if (start > m)
		munmap(m, (size_t)(start - m));
	size_t tail = (size_t)(m + 2 * (size_t)MC_ARENA_CHUNK - (start + MC_ARENA_CHUNK));
	if (tail)
		munmap(start + MC_ARENA_CHUNK, tail);
	struct chunk *c = (struct chunk *)start;
	c->magic = CHUNK_MAGIC;
	c->used = CHUNK_HDR;
	c->live = 0;
	c->index = a->n;
	a->chunks[a->n++] = c;
	a->mapped += MC_ARENA_CHUNK;
	return c;
}

static void *alloc_big(struct mc_arena *a, size_t size)
{
	long page = sysconf(_SC_PAGESIZE);
	size_t len = align_up(BIG_HDR + sizeof(struct blk) + size, (size_t)(page > 0 ? page : 4096));
	struct big *b = mmap(NULL, len, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);

	if (b == MAP_FAILED)
		return NULL;
	b->prev = NULL;
	b->next = a->bigs;
	if (a->bigs)
		a->bigs->prev = b;
	a->bigs = b;
	struct blk *h = (struct blk *)((char *)b + BIG_HDR);
	h->size = (uint32_t)size;
	h->flags = F_LIVE | F_BIG;
	h->total = len;
	a->mapped += len;
	a->live += len;
	return h + 1;
}

void *mc_arena_alloc(struct mc_arena *a, size_t size)
{
	size_t total = align_up(sizeof(struct blk) + size, MC_ARENA_ALIGN);

	if (size > UINT32_MAX)
		return NULL;
	if (total > BIG_LIMIT)
		return alloc_big(a, size);
	if (!a->cur || a->cur->used + total > MC_ARENA_CHUNK) {
		struct chunk *c = new_chunk(a);
		if (!c)
			return NULL;
		a->cur = c;
	}
	struct blk *h = (struct blk *)((char *)a->cur + a->cur->used);
	h->size = (uint32_t)size;
	h->flags = F_LIVE;
	h->total = total;
	a->cur->used += total;
	a->cur->live += total;
	a->live += total;
	return h + 1;
}

size_t mc_arena_size(const void *p)
{
	return hdr_of(p)->size;
}

void mc_arena_free(struct mc_arena *a, void *p)
{
	if (!p)
		return;
	struct blk *h = hdr_of(p);
	if (h->flags & F_BIG) {
		struct big *b = (struct big *)((char *)h - BIG_HDR);
		if (b->prev)
			b->prev->next = b->next;
		else
			a->bigs = b->next;
		if (b->next)
			b->next->prev = b->prev;
		a->mapped -= h->total;
		a->live -= h->total;
		munmap(b, h->total);
		return;
	}
	struct chunk *c = (struct chunk *)((uintptr_t)p & ~(uintptr_t)(MC_ARENA_CHUNK - 1));
	h->flags &= ~F_LIVE;
	c->live -= h->total;
	a->live -= h->total;
	if (c->live == 0) {
		if (c == a->cur)
			c->used = CHUNK_HDR; /* empty: bump from the start again */
		else
			unmap_chunk(a, c);
	}
}

size_t mc_arena_mapped(const struct mc_arena *a)
{
	return a->mapped;
}

size_t mc_arena_live(const struct mc_arena *a)
{
	return a->live;
}

/* The chunk with the fewest live bytes, other than the current one; NULL if none. */
static struct chunk *emptiest(const struct mc_arena *a)
{
	struct chunk *best = NULL;

	for (size_t i = 0; i < a->n; i++) {
		struct chunk *c = a->chunks[i];
		if (c != a->cur && (!best || c->live < best->live))
			best = c;
	}
	return best;
}

size_t mc_arena_compact(struct mc_arena *a, size_t target, mc_arena_move_fn move, void *arg)
{
	size_t before = a->mapped;

	while (a->mapped > target) {
		struct chunk *v = emptiest(a);
		if (!v || (double)v->live > WORTH_MOVING * (MC_ARENA_CHUNK - CHUNK_HDR))
			break;
		/* Move every live block out; the allocations bump into the current chunk or fresh
		 * ones, never into v (v is not current, and a fresh chunk is another). */
		for (size_t off = CHUNK_HDR; off < v->used && v->live;) {
			struct blk *h = (struct blk *)((char *)v + off);
			size_t total = h->total;
			if (h->flags & F_LIVE) {
				void *np = mc_arena_alloc(a, h->size);
				if (!np) /* no memory for a fresh chunk: leave the rest */
					return before > a->mapped ? before - a->mapped : 0;
				memcpy(np, h + 1, h->size);
				move(arg, h + 1, np);
				h->flags &= ~F_LIVE;
				v->live -= total;
				a->live -= total;
			}
			off += total;
		}
		unmap_chunk(a, v);
	}
	return before > a->mapped ? before - a->mapped : 0;
}

#define CHECK(cond) \
	do { \
		if (!(cond)) \
			abort(); \
	} while (0)

void mc_arena_check(const struct mc_arena *a)
{
	size_t live = 0, mapped = 0;

	CHECK(a->n <= a->cap);
	for (size_t i = 0; i < a->n; i++) {
		const struct chunk *c = a->chunks[i];
		size_t clive = 0, off = CHUNK_HDR;
		CHECK(((uintptr_t)c & (MC_ARENA_CHUNK - 1)) == 0);
		CHECK(c->magic == CHUNK_MAGIC && c->index == i && c->used <= MC_ARENA_CHUNK);
		while (off < c->used) {
			const struct blk *h = (const struct blk *)((const char *)c + off);
			CHECK(h->total >= sizeof(*h) && h->total % MC_ARENA_ALIGN == 0);
			CHECK(h->total == align_up(sizeof(*h) + h->size, MC_ARENA_ALIGN));
			CHECK(!(h->flags & F_BIG));
			if (h->flags & F_LIVE)
				clive += h->total;
			off += h->total;
		}
		CHECK(off == c->used && clive == c->live);
		live += clive;
		mapped += MC_ARENA_CHUNK;
	}
	CHECK(!a->cur || a->chunks[a->cur->index] == a->cur);
	for (const struct big *b = a->bigs; b; b = b->next) {
		const struct blk *h = (const struct blk *)((const char *)b + BIG_HDR);
		CHECK((h->flags & (F_BIG | F_LIVE)) == (F_BIG | F_LIVE));
		CHECK(!b->next || b->next->prev == b);
		live += h->total;
		mapped += h->total;
	}
	CHECK(live == a->live && mapped == a->mapped);
}
