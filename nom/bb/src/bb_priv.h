/* bb_priv.h: internals shared by the bulletin board's writer and reader: the seqlock's
 * memory-ordering primitives, word-wise racy copies and the shared futex.
 *
 * The seqlock follows Boehm ("Can seqlocks get along with programming language memory
 * models?", MSPC 2012): the data is copied with relaxed atomic word accesses, so a reader
 * racing the writer performs no data race in the C11 sense; the writer's odd store is ordered
 * before its data stores by a release fence, and the reader's data loads before its second
 * read of seq by an acquire fence. On x86 all of it compiles to plain moves. */
#ifndef BB_PRIV_H
#define BB_PRIV_H

#include <limits.h>
#include <linux/futex.h>
#include <stdint.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

#include "bb/bb.h"

static inline uint32_t bb__seq_load(const uint32_t *seq)
{
	return __atomic_load_n(seq, __ATOMIC_ACQUIRE);
}

/* Copies n bytes (a multiple of 8, both 8-aligned) out of the shared board. */
static inline void bb__copy_out(void *dst, const void *src, size_t n)
{
	uint64_t *d = dst;
	const uint64_t *s = src;

	for (size_t i = 0; i < n / 8; i++)
		d[i] = __atomic_load_n(&s[i], __ATOMIC_RELAXED);
}

/* Copies n bytes (a multiple of 8, both 8-aligned) into the shared board. */
static inline void bb__copy_in(void *dst, const void *src, size_t n)
{
	uint64_t *d = dst;
	const uint64_t *s = src;

	for (size_t i = 0; i < n / 8; i++)
		__atomic_store_n(&d[i], s[i], __ATOMIC_RELAXED);
}

/* Wakes every process waiting on the word. Shared futex: no FUTEX_PRIVATE_FLAG. */
static inline void bb__futex_wake_all(uint32_t *word)
{
	syscall(SYS_futex, word, FUTEX_WAKE, INT_MAX, NULL, NULL, 0);
}

/* Sleeps while *word == val, until an absolute CLOCK_MONOTONIC deadline (NULL: forever).
 * Returns 0 when woken or the word differed, -ETIMEDOUT, or -EINTR. Works on a PROT_READ
 * mapping: FUTEX_WAIT only reads the word. */
int bb__futex_wait(const uint32_t *word, uint32_t val, const struct timespec *deadline);

static inline void bb__cpu_relax(void)
{
#if defined(__x86_64__) || defined(__i386__)
	__builtin_ia32_pause();
#else
	__asm__ __volatile__("" ::: "memory");
#endif
}

int64_t bb__mono_ns(void);

#endif
