/* floor.h: what a round of the market cannot cost less than, measured beside it.
 *
 * raas-bench-market divides the market's CPU per round by this floor (ratio_vs_floor): the
 * same work done by the libraries alone, with no market in between, in the same run on the
 * same loaded machine. */
#ifndef MARKET_BENCH_FLOOR_H
#define MARKET_BENCH_FLOOR_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* What one round moved, as the benchmark's clients saw it. */
struct floor_work {
	size_t bids;             /* bids the round received (each rewrites its rows) */
	size_t clear_bids;       /* standing bids that took part in the clearing */
	int64_t supply;          /* the pool's supply (bids of max_quantity 1) */
	size_t allocs;           /* allocations the round made */
	size_t msgs_in;          /* messages the market received (and decrypted) */
	size_t bytes_in;         /* their payload bytes */
	size_t msgs_out;         /* messages it sent (and encrypted): replies, notices, prices */
	size_t bytes_out;        /* their payload bytes */
	size_t reply_bytes;      /* the size of one reply (the request rows' blob) */
	bool sync_full;          /* the ledger's synchronous setting */
	const char *dir;         /* a scratch directory for the SQLite file */
	uint64_t seed;
};

/* CPU milliseconds per round of each part (the mean of reps rounds; this thread's CPU clock,
 * as the market's figures are CPU). */
struct floor_ms {
	double clear;            /* pm_clear("uniform") on the bids */
	double sqlite;           /* one transaction of the round's rows, commit and checkpoint */
	double sqlite_wait;      /* not CPU: the transaction's time waiting for the disk */
	double curve;            /* crypto_box (XSalsa20-Poly1305, precomputed key) of the bytes */
	double total;            /* clear + sqlite + curve: the floor ratio_vs_floor divides by */
	double tcp;              /* beside it, not in total: the kernel's loopback TCP for the
				  * same messages, one write() or read() each (what ZeroMQ's I/O
				  * thread cannot do with less; see floor.c) */
};

/* Measures the floor of one round of w over reps rounds. 0 or a negative errno. */
int floor_measure(const struct floor_work *w, int reps, struct floor_ms *out);

#endif
