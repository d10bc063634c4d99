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
 * (poll mode) or time asleep in epoll (interrupt mode). */
#ifndef NOM_NET_STATS_H
#define NOM_NET_STATS_H

#include <stdint.h>

#define NOMNET_STATS_MAGIC UINT32_C(0x6e6f6d73) /* "noms" */
#define NOMNET_STATS_VERSION 1
/* Batch size histogram buckets: [1], [2], [3,4], [5,8], ..., [129,256]. */
#define NOMNET_HIST_BUCKETS 9

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

#endif
