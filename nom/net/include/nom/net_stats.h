/* net_stats.h: nomnet's statistics and their shared-memory layout.
 *
 * The loop thread keeps its counters in a struct nomnet_stats that can live in a shared-memory
 * file (/dev/shm/nomnet.<name>), so that tools (nomnet-ctl stats) read a running app's stack
 * without asking it. The file is a versioned header followed by the counters; writers update
 * each 64-bit counter with a relaxed atomic store (no torn values on the 64-bit targets we
 * build for); a reader copies field by field and may see counters from slightly different
 * instants, never half-written ones.
 *
 * Stages (time per stage, ns): rx = taking frames from the ring and copying them into pbufs;
 * stack = lwIP input processing, which includes the app's callbacks; tx = flushing the ring
 * (the kick system call and reclaiming sent frames); idle = passes that found nothing to do
 * (poll mode) or time asleep in epoll (interrupt mode).
 *
 * Per request (issue 19): every pass that hands a receive batch to the stack is timed stage by
 * stage, so that a slow request says where its time went. Its stages (enum nomnet_stage):
 * wake = the time the loop thread waited on a run queue since the last pass (the scheduler's
 * wake-up latency after epoll, and any preemption; from /proc/thread-self/schedstat, read
 * after the reply has left); rx = driver receive (ring to pbufs); stack = lwIP's input
 * processing without the app and without stack tx; app = the app's recv callbacks; stx = lwIP
 * building and queueing replies (netif linkoutput: copy into the driver's ring); tx = the
 * driver's flush of the replies (the kick system call; in copy-mode AF_XDP it carries the
 * frame through the veth into the peer's kernel stack); total = from the pass's start (the
 * wake from epoll) to the end of its flush. Each has a latency histogram (log2 buckets of
 * microseconds, nomnet_lat_bucket), and the slowest passes are kept with their stages. */
#ifndef NOM_NET_STATS_H
#define NOM_NET_STATS_H

#include <stdint.h>

#define NOMNET_STATS_MAGIC UINT32_C(0x6e6f6d73) /* "noms" */
#define NOMNET_STATS_VERSION 2
/* Batch size histogram buckets: [1], [2], [3,4], [5,8], ..., [129,256]. */
#define NOMNET_HIST_BUCKETS 9
/* Latency histogram buckets: [0, 1 us), [1, 2), [2, 4), ..., [8192, 16384), >= 16384 us. */
#define NOMNET_LAT_BUCKETS 16
/* Slow passes kept: the slowest since start, and the last NOMNET_SLOW_RING over the threshold. */
#define NOMNET_SLOW_RING 8
#define NOMNET_SLOW_NS INT64_C(500000) /* a pass this long (total + wake) is "slow" */

enum nomnet_stage {
	NOMNET_ST_WAKE = 0,
	NOMNET_ST_RX,
	NOMNET_ST_STACK,
	NOMNET_ST_APP,
	NOMNET_ST_STX,
	NOMNET_ST_TX,
	NOMNET_ST_TOTAL,
	NOMNET_STAGES
};

/* One timed pass (a request, at W = 0): ns per stage, when it ended, its frames. */
struct nomnet_pass {
	int64_t end_wall_ns;
	uint64_t ns[NOMNET_STAGES];
	uint64_t rx_frames, tx_frames;
};

struct nomnet_stats {
	uint64_t rx_packets;
	uint64_t rx_bytes;
	uint64_t rx_batches;     /* batches handed to the stack */
	uint64_t rx_dropped;     /* frames lost: no memory for a pbuf, or oversized */
	uint64_t rx_handoff_delay; /* batches handed over because W had passed */
	uint64_t rx_handoff_full;  /* ... because the batch reached rx_batch */
	uint64_t rx_handoff_empty; /* ... because nothing more was pending */
	uint64_t tx_packets;
	uint64_t tx_bytes;
	uint64_t tx_batches;     /* ring flushes */
	uint64_t tx_dropped;     /* frames lost: ring full even after a flush, or too large */
	uint64_t tx_flush_delay; /* flushes because the first frame had waited W */
	uint64_t tx_flush_full;  /* ... because tx_batch frames were waiting */
	uint64_t tx_flush_direct; /* ... because the frame came from outside the loop */
	uint64_t ns_rx;
	uint64_t ns_stack;
	uint64_t ns_tx;
	uint64_t ns_idle;
	uint64_t loops;          /* passes of the loop */
	uint64_t sleeps;         /* epoll waits (interrupt mode) */
	uint64_t delay_changes;
	uint64_t mode_changes;
	int64_t delay_ns;        /* current W */
	int64_t mode;            /* enum nomnet_mode */
	uint64_t rx_hist[NOMNET_HIST_BUCKETS];
	uint64_t tx_hist[NOMNET_HIST_BUCKETS];
	/* Hybrid polling (interrupt mode): the busy-poll budget, and what spinning did. */
	int64_t spin_ns;         /* current budget: spin this long after the last work */
	uint64_t spin_changes;
	uint64_t ns_spin;        /* time spent spinning (part of ns_idle) */
	uint64_t spin_hits;      /* spins that ended with work (a sleep avoided) */
	uint64_t spin_misses;    /* spins that used up the budget and slept */
	/* Per request (see above). */
	uint64_t timed_passes;
	uint64_t stage_ns[NOMNET_STAGES];                     /* sums */
	uint64_t stage_hist[NOMNET_STAGES][NOMNET_LAT_BUCKETS];
	struct nomnet_pass slowest;
	uint64_t slow_count;     /* passes over NOMNET_SLOW_NS; the last ones are in slow[] */
	struct nomnet_pass slow[NOMNET_SLOW_RING];            /* slow[(slow_count - 1) % RING] newest */
};

/* The shared-memory file: header, then the counters. */
struct nomnet_stats_shm {
	uint32_t magic;          /* NOMNET_STATS_MAGIC */
	uint32_t version;        /* NOMNET_STATS_VERSION */
	uint32_t size;           /* sizeof(struct nomnet_stats_shm) of the writer */
	uint32_t pid;            /* the process that writes it */
	char driver[16];
	char ifname[32];
	int64_t started_wall_ns; /* when the stack was created (wall clock) */
	struct nomnet_stats stats;
};

/* The histogram bucket of a batch of n >= 1 frames. */
static inline unsigned nomnet_hist_bucket(unsigned n)
{
	unsigned b = 0;

	if (n <= 1)
		return 0;
	n -= 1;
	while (n) {
		n >>= 1;
		b++;
	}
	return b < NOMNET_HIST_BUCKETS ? b : NOMNET_HIST_BUCKETS - 1;
}

/* The latency bucket of ns nanoseconds. */
static inline unsigned nomnet_lat_bucket(uint64_t ns)
{
	uint64_t us = ns / 1000;
	unsigned b = 0;

	while (us) {
		us >>= 1;
		b++;
	}
	return b < NOMNET_LAT_BUCKETS ? b : NOMNET_LAT_BUCKETS - 1;
}

/* "wake", "rx", "stack", "app", "stx", "tx", "total". */
static inline const char *nomnet_stage_name(unsigned st)
{
	static const char *const names[NOMNET_STAGES] = {"wake", "rx",  "stack", "app",
							 "stx",  "tx", "total"};

	return st < NOMNET_STAGES ? names[st] : "?";
}

#endif
