/* bb_reader.c: read-only access to a bulletin board: consistent copies under the seqlock and
 * sleeping on the sequence word until the next change.
 *
 * A reader never trusts what it reads in place: it copies an entry out between two reads of
 * the sequence word and retries when they differ or the first was odd (bb_layout.h invariant
 * 4). Price lookups hit a small cache of slot indices (invariant 6), so the common read -- one
 * price -- is a handful of loads. A writer that died in the middle of an update would leave
 * the sequence odd forever; readers notice (the writer's pid is gone) instead of spinning. */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>

#include <linux/futex.h>
#include <sys/syscall.h>

#include "bb_priv.h"
#include "common/error.h"

#define CACHE_SLOTS 8
/* A reader gives up on a sequence that stays odd this long with its writer alive. */
#define STALL_LIMIT_NS INT64_C(1000000000)

struct cache_entry {
	uint32_t resource; /* 0: empty */
	uint32_t slot;
	uint64_t host[BB_NAME_MAX / 8]; /* zero-padded, compared as words */
};

struct bb_reader {
	int fd;
	size_t map_size;
	const struct bb_header *hdr;
	const struct bb_body *body;
	unsigned next_victim;
	struct cache_entry cache[CACHE_SLOTS];
};

int bb_reader_open(const char *instance, struct bb_reader **out)
{
	char name[BB_TENANT_MAX + 8], why[160];
	struct stat st;
	int err = bb_instance_valid(instance);

	if (err)
		return err;
	snprintf(name, sizeof(name), "/nom.%s", instance);
	struct bb_reader *r = calloc(1, sizeof(*r));
	if (!r)
		return -ENOMEM;
	r->fd = shm_open(name, O_RDONLY | O_CLOEXEC, 0);
	if (r->fd < 0) {
		err = -errno;
		goto fail_free;
	}
	if (fstat(r->fd, &st) < 0) {
		err = -errno;
		goto fail_close;
	}
	if ((size_t)st.st_size < sizeof(struct bb_header)) {
		err = st.st_size == 0 ? -ENOENT : -RAAS_EPROTO; /* empty: being created */
		goto fail_close;
	}
	size_t size = (size_t)st.st_size;
	void *map = mmap(NULL, size, PROT_READ, MAP_SHARED, r->fd, 0);
	if (map == MAP_FAILED) {
		err = -errno;
		goto fail_close;
	}
	r->hdr = map;
	if (bb_check_header(r->hdr, size, why, sizeof(why)) != 0) {
		err = r->hdr->magic == BB_MAGIC && r->hdr->version != BB_VERSION ? -RAAS_EVERSION
										 : -RAAS_EPROTO;
		munmap(map, size);
		goto fail_close;
	}
	r->map_size = size;
	r->body = (const struct bb_body *)((const char *)map + BB_BODY_OFFSET);
	*out = r;
	return 0;

fail_close:
	close(r->fd);
fail_free:
	free(r);
	return err;
}

void bb_reader_close(struct bb_reader *r)
{
	if (!r)
		return;
	munmap((void *)r->hdr, r->map_size);
	close(r->fd);
	free(r);
}

const struct bb_header *bb_reader_header(const struct bb_reader *r)
{
	return r->hdr;
}

uint32_t bb_reader_seq(const struct bb_reader *r)
{
	return bb__seq_load(&r->hdr->seq);
}

bool bb_reader_retired(const struct bb_reader *r)
{
	return __atomic_load_n(&r->hdr->flags, __ATOMIC_ACQUIRE) & BB_FLAG_RETIRED;
}

bool bb_writer_alive(const struct bb_reader *r, pid_t *pid)
{
	pid_t p = __atomic_load_n(&r->hdr->writer_pid, __ATOMIC_ACQUIRE);

	if (pid)
		*pid = p;
	return p > 0 && (kill(p, 0) == 0 || errno == EPERM);
}

/* Waits until the sequence is even and returns it in *seq; 0, or -RAAS_ESTALE when the board
 * is retired or its writer stopped in the middle of an update and is dead (or stuck). */
static int read_begin(const struct bb_reader *r, uint32_t *seq)
{
	uint32_t s = bb__seq_load(&r->hdr->seq);

	if (__builtin_expect(!(s & 1u), 1)) {
		*seq = s;
		return 0;
	}
	int64_t start = bb__mono_ns();
	for (unsigned spins = 0;; spins++) {
		if (bb_reader_retired(r))
			return -RAAS_ESTALE;
		if (spins < 1000) {
			bb__cpu_relax();
		} else {
			/* The writer was descheduled mid-copy, or died: sleep a little on the
			 * odd value (a publish wakes us), then check on it. */
			int64_t now = bb__mono_ns() + 1000000;
			struct timespec dl = {.tv_sec = now / 1000000000, .tv_nsec = now % 1000000000};
			bb__futex_wait(&r->hdr->seq, s, &dl);
			if (bb__mono_ns() - start > STALL_LIMIT_NS / 20 && !bb_writer_alive(r, NULL))
				return -RAAS_ESTALE;
			if (bb__mono_ns() - start > STALL_LIMIT_NS)
				return -RAAS_ESTALE;
		}
		s = bb__seq_load(&r->hdr->seq);
		if (!(s & 1u)) {
			*seq = s;
			return 0;
		}
	}
}

/* Whether the copy made since read_begin() returned seq is consistent. */
static inline bool read_end(const struct bb_reader *r, uint32_t seq)
{
	__atomic_thread_fence(__ATOMIC_ACQUIRE);
	return __atomic_load_n(&r->hdr->seq, __ATOMIC_RELAXED) == seq;
}

static uint32_t load32(const uint32_t *p)
{
	return __atomic_load_n(p, __ATOMIC_RELAXED);
}

/* Whether shared price slot i holds the key (resource, host words); racy, checked later. */
static bool slot_matches(const struct bb_reader *r, uint32_t i, uint32_t resource,
			 const uint64_t *host)
{
	const struct bb_price *p = &r->body->prices[i];
	const uint64_t *h = (const uint64_t *)p->host;

	if (load32(&p->resource) != resource)
		return false;
	for (int w = 0; w < BB_NAME_MAX / 8; w++)
		if (__atomic_load_n(&h[w], __ATOMIC_RELAXED) != host[w])
			return false;
	return true;
}

static struct cache_entry *cache_lookup(struct bb_reader *r, uint32_t resource, const char *host)
{
	for (int i = 0; i < CACHE_SLOTS; i++) {
		struct cache_entry *c = &r->cache[i];
		if (c->resource == resource && strcmp((const char *)c->host, host) == 0)
			return c;
	}
	return NULL;
}

int bb_read_price(struct bb_reader *r, uint32_t resource, const char *host, struct bb_price *out,
		  uint32_t *market_state)
{
	struct cache_entry *c, key;

	if (resource == 0 || !host)
		return -ENOENT;
	c = cache_lookup(r, resource, host);
	if (!c) {
		if (strlen(host) >= BB_NAME_MAX)
			return -ENOENT;
		memset(&key, 0, sizeof(key));
		key.resource = resource;
		key.slot = UINT32_MAX;
		memcpy(key.host, host, strlen(host));
		c = &key;
	}
	for (;;) {
		uint32_t seq;
		int err = read_begin(r, &seq);
		if (err)
			return err;
		uint32_t n = load32(&r->body->state.nprices);
		uint32_t slot = c->slot;
		if (slot >= n || slot >= BB_MAX_PRICES || !slot_matches(r, slot, resource, c->host)) {
			slot = UINT32_MAX;
			for (uint32_t i = 0; i < n && i < BB_MAX_PRICES; i++)
				if (slot_matches(r, i, resource, c->host)) {
					slot = i;
					break;
				}
		}
		if (slot != UINT32_MAX)
			bb__copy_out(out, &r->body->prices[slot], sizeof(*out));
		uint32_t state = load32(&r->body->state.market_state);
		if (!read_end(r, seq))
			continue;
		if (slot == UINT32_MAX)
			return -ENOENT;
		if (market_state)
			*market_state = state;
		if (c == &key) { /* remember the slot for next time */
			key.slot = slot;
			r->cache[r->next_victim++ % CACHE_SLOTS] = key;
		} else {
			c->slot = slot;
		}
		return 0;
	}
}

int bb_read_state(struct bb_reader *r, struct bb_state *out)
{
	for (;;) {
		uint32_t seq;
		int err = read_begin(r, &seq);
		if (err)
			return err;
		bb__copy_out(out, &r->body->state, sizeof(*out));
		if (read_end(r, seq))
			return 0;
	}
}

static uint32_t clamp(uint32_t n, uint32_t max)
{
	return n > max ? max : n;
}

int bb_snapshot(struct bb_reader *r, struct bb_body *out, uint32_t *seq_out)
{
	uint32_t seq, np, nh, nb;

	for (;;) {
		int err = read_begin(r, &seq);
		if (err)
			return err;
		bb__copy_out(&out->state, &r->body->state, sizeof(out->state));
		/* Counts from a torn copy may be anything: clamp, and the seq check rejects it. */
		np = clamp(out->state.nprices, BB_MAX_PRICES);
		nh = clamp(out->state.nholdings, BB_MAX_HOLDINGS);
		nb = clamp(out->state.nbids, BB_MAX_BIDS);
		bb__copy_out(out->prices, r->body->prices, np * sizeof(out->prices[0]));
		bb__copy_out(out->holdings, r->body->holdings, nh * sizeof(out->holdings[0]));
		bb__copy_out(out->bids, r->body->bids, nb * sizeof(out->bids[0]));
		if (read_end(r, seq))
			break;
	}
	memset(&out->prices[np], 0, (BB_MAX_PRICES - np) * sizeof(out->prices[0]));
	memset(&out->holdings[nh], 0, (BB_MAX_HOLDINGS - nh) * sizeof(out->holdings[0]));
	memset(&out->bids[nb], 0, (BB_MAX_BIDS - nb) * sizeof(out->bids[0]));
	if (out->state.checksum != bb_body_checksum(out))
		return -RAAS_EPROTO;
	if (seq_out)
		*seq_out = seq;
	return 0;
}

int bb_wait_change(struct bb_reader *r, uint32_t *seen, int64_t timeout_ns)
{
	struct timespec dl, *deadline = NULL;

	if (timeout_ns >= 0) {
		int64_t at = bb__mono_ns() + timeout_ns;
		dl.tv_sec = at / 1000000000;
		dl.tv_nsec = at % 1000000000;
		deadline = &dl;
	}
	for (;;) {
		if (bb_reader_retired(r))
			return -RAAS_ESTALE;
		uint32_t s = bb__seq_load(&r->hdr->seq);
		if (s != *seen && !(s & 1u)) {
			*seen = s;
			return 0;
		}
		/* Sleep on the value we see: a publish moves it and wakes us (invariant 7). */
		int err = bb__futex_wait(&r->hdr->seq, s, deadline);
		if (err == -ETIMEDOUT) {
			s = bb__seq_load(&r->hdr->seq);
			if (s != *seen && !(s & 1u)) {
				*seen = s;
				return 0;
			}
			return -ETIMEDOUT;
		}
		/* 0 (woken, or the value moved) and -EINTR: look again. */
	}
}

/* futex_waitv (Linux 5.16): one sleep on the board's sequence word (shared: the writer is
 * another process) and the caller's word (private: a thread of this process moves it). */
static int waitv2(const uint32_t *board, uint32_t bval, const uint32_t *word, uint32_t wval,
		  const struct timespec *deadline)
{
	struct futex_waitv w[2] = {
		{.val = bval, .uaddr = (uintptr_t)board, .flags = FUTEX_32},
		{.val = wval, .uaddr = (uintptr_t)word, .flags = FUTEX_32 | FUTEX_PRIVATE_FLAG},
	};
	long rc = syscall(SYS_futex_waitv, w, 2, 0, deadline, CLOCK_MONOTONIC);

	if (rc >= 0 || errno == EAGAIN || errno == EINTR)
		return 0;
	return -errno;
}

int bb_wait_change_or(struct bb_reader *r, uint32_t *seen, int64_t timeout_ns,
		      const uint32_t *word, uint32_t word_seen)
{
	struct timespec dl, *deadline = NULL;
	int64_t at = INT64_MAX;
	bool waitv = true;

	if (timeout_ns >= 0) {
		at = bb__mono_ns() + timeout_ns;
		dl.tv_sec = at / 1000000000;
		dl.tv_nsec = at % 1000000000;
		deadline = &dl;
	}
	for (;;) {
		if (bb_reader_retired(r))
			return -RAAS_ESTALE;
		uint32_t s = bb__seq_load(&r->hdr->seq);
		if (s != *seen && !(s & 1u)) {
			*seen = s;
			return 0;
		}
		if (__atomic_load_n(word, __ATOMIC_ACQUIRE) != word_seen)
			return 1;
		int64_t now = bb__mono_ns();
		if (now >= at)
			return -ETIMEDOUT;
		int err = waitv ? waitv2(&r->hdr->seq, s, word, word_seen, deadline) : -ENOSYS;
		if (err == -ENOSYS) {
			/* An older kernel: sleep on the board in slices and look at the word
			 * between them (a kick then takes up to one slice). */
			waitv = false;
			int64_t slice = at - now < BB_WAIT_SLICE_NS ? at - now : BB_WAIT_SLICE_NS;
			struct timespec sl = {.tv_sec = (now + slice) / 1000000000,
					      .tv_nsec = (now + slice) % 1000000000};
			err = bb__futex_wait(&r->hdr->seq, s, &sl);
		}
		if (err && err != -ETIMEDOUT && err != -EINTR && err != -EAGAIN)
			return err;
	}
}

int bb_check(struct bb_reader *r, char *why, size_t why_len)
{
	struct bb_body *b = malloc(sizeof(*b));
	int err;

	if (!b)
		return -ENOMEM;
	err = bb_check_header(r->hdr, r->map_size, why, why_len);
	if (!err) {
		err = bb_snapshot(r, b, NULL);
		if (err)
			snprintf(why, why_len, "no consistent copy: %s",
				 err == -RAAS_EPROTO ? "the checksum does not match the contents"
						     : raas_strerror(err));
	}
	if (!err)
		err = bb_check_body(b, true, why, why_len);
	if (!err && b->state.market_state != BB_MARKET_STOPPED && !bb_writer_alive(r, NULL)) {
		snprintf(why, why_len, "writer pid %d is gone but the board does not say stopped",
			 (int)r->hdr->writer_pid);
		err = -RAAS_ESTALE;
	}
	free(b);
	return err;
}

void bb_kick(uint32_t *word)
{
	__atomic_add_fetch(word, 1, __ATOMIC_RELEASE);
	syscall(SYS_futex, word, FUTEX_WAKE_PRIVATE, INT32_MAX, NULL, NULL, 0);
}

int bb_wait_word(const uint32_t *word, uint32_t seen, int64_t timeout_ns)
{
	struct timespec dl, *deadline = NULL;

	if (timeout_ns >= 0) {
		int64_t at = bb__mono_ns() + timeout_ns;
		dl.tv_sec = at / 1000000000;
		dl.tv_nsec = at % 1000000000;
		deadline = &dl;
	}
	for (;;) {
		if (__atomic_load_n(word, __ATOMIC_ACQUIRE) != seen)
			return 0;
		long rc = syscall(SYS_futex, word, FUTEX_WAIT_BITSET_PRIVATE, seen, deadline, NULL,
				  FUTEX_BITSET_MATCH_ANY);
		if (rc < 0 && errno == ETIMEDOUT)
			return __atomic_load_n(word, __ATOMIC_ACQUIRE) != seen ? 0 : -ETIMEDOUT;
	}
}
