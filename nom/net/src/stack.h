/* stack.h: nomnet's private state, shared by the stack glue, the loop and the TCP layer.
 *
 * Design notes (the stack as a whole; nomnet__check() asserts 1-5):
 *   1. One stack per process (lwIP keeps globals); `nomnet__current` points at it while it
 *      lives.
 *   2. lwIP code runs only with the core lock held (LOCK_TCPIP_CORE): the loop holds it while
 *      it hands a receive batch to the stack, lwIP's tcpip thread while it runs timers, apps
 *      while they call in from other threads (nomnet_lock).
 *   3. The transmit ring is touched only with tx_lock held. linkoutput (under the core lock)
 *      takes tx_lock inside it: the lock order is core, then tx; the loop flushes with tx_lock
 *      alone.
 *   4. tx_count is the number of frames committed to the ring and not yet flushed; tx_first_ns
 *      the time the first of them was committed (meaningful when tx_count > 0). Both change
 *      under tx_lock; the loop reads them without it to decide whether to take it.
 *   5. rx_count pbufs sit in rx_batch, owned by the loop, collected since rx_first_ns; they go
 *      to the stack together (nomnet__loop_handoff) and rx_count returns to 0.
 *   6. Frames produced outside the loop thread (timers, app threads) are flushed at once by
 *      the thread that produced them: the loop may be asleep in epoll.
 *
 * States of the loop: stopped (no thread) -> running (nomnet_start) -> stopped (nomnet_stop).
 * Within running, each pass collects, hands off, flushes, then either passes again (poll mode,
 * or work pending) or sleeps in epoll (interrupt mode with nothing pending). */
#ifndef NOMNET_STACK_H
#define NOMNET_STACK_H

#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>

#include <lwip/netif.h>
#include <lwip/pbuf.h>

#include "driver.h"
#include "nom/net.h"
#include "nom/net_stats.h"

struct nomnet_tcp;

struct nomnet {
	struct nomnet_config cfg; /* strings below are private copies */
	char driver_name[16];
	char ifname[IF_NAMESIZE];
	char addr[64];
	char gateway[64];
	char mac_text[32];
	char xdp_mode[16];
	char stats_name[64];

	struct nomnet_drv drv;
	struct netif netif;
	bool netif_added;

	/* Loop thread. */
	pthread_t thread;
	bool running;
	atomic_bool stop;
	atomic_bool sleeping;
	pthread_t loop_tid;
	atomic_bool loop_tid_set;
	int epfd;
	int evfd;

	/* Knobs, written by any thread. */
	_Atomic int64_t delay_ns;
	atomic_int mode;
	_Atomic int64_t spin_ns;   /* busy-poll budget before sleeping (interrupt mode) */

	/* The request being timed (loop thread only; loop.c): open from the first frame
	 * collected into a batch until the flush of what the stack sent in answer. */
	bool req_open;
	int64_t req_start_ns;
	uint64_t req_ns[NOMNET_STAGES];
	uint64_t req_rx_frames;
	int sched_fd;              /* /proc/thread-self/schedstat of the loop thread, or -1 */
	uint64_t sched_wait_ns;    /* run-queue wait it showed at the last read */

	/* Receive batch (loop thread only). */
	struct pbuf *rx_batch[NOMNET_BATCH_MAX];
	unsigned rx_count;
	int64_t rx_first_ns;

	/* Transmit ring state (tx_lock). */
	pthread_mutex_t tx_lock;
	atomic_uint tx_count;
	_Atomic int64_t tx_first_ns;

	/* Every live TCP handle, and those that took data in the current receive batch (core
	 * lock). */
	struct nomnet_tcp *conns;
	struct nomnet_tcp *ack_list;

	/* Statistics: in shared memory when published, else in `local`. */
	struct nomnet_stats *stats;
	struct nomnet_stats local;
	struct nomnet_stats_shm *shm;
	char shm_path[96];
};

/* Relaxed single-writer counter updates (readers may be other processes). */
#define NOMNET_STAT_ADD(n, field, v) \
	__atomic_store_n(&(n)->stats->field, (n)->stats->field + (v), __ATOMIC_RELAXED)
#define NOMNET_STAT_SET(n, field, v) __atomic_store_n(&(n)->stats->field, (v), __ATOMIC_RELAXED)

/* Monotonic time, ns. */
int64_t nomnet__now(void);
/* Is the caller the loop thread (whose stages are timed)? */
bool nomnet__on_loop(const struct nomnet *n);

/* Why a batch leaves (batch.c: the policy, a pure function of its inputs). */
enum nomnet_due {
	NOMNET_HOLD = 0,   /* keep collecting */
	NOMNET_DUE_DELAY,  /* the first frame has waited W */
	NOMNET_DUE_FULL,   /* the batch reached its maximum */
	NOMNET_DUE_EMPTY,  /* (receive only) nothing more is pending */
};
enum nomnet_due nomnet__rx_due(unsigned count, int64_t first_ns, int64_t now_ns,
			       int64_t delay_ns, unsigned max, bool pending);
enum nomnet_due nomnet__tx_due(unsigned count, int64_t first_ns, int64_t now_ns,
			       int64_t delay_ns, unsigned max);
/* The receive batch limit in force: 1 at W = 0 (run to completion), else max. */
unsigned nomnet__rx_limit(int64_t delay_ns, unsigned max);

/* The loop (loop.c). */
void *nomnet__loop_main(void *arg);
/* Hands the receive batch to lwIP (takes the core lock). */
void nomnet__loop_handoff(struct nomnet *n);
/* Flushes the transmit ring; caller holds tx_lock. why is a nomnet_due for statistics
 * (NOMNET_HOLD: a direct flush from outside the loop). */
void nomnet__tx_flush_locked(struct nomnet *n, enum nomnet_due why);
/* Wakes the loop if it sleeps in epoll. */
void nomnet__loop_wake(struct nomnet *n);
/* netif linkoutput (lwIP calls it with the core lock held). */
err_t nomnet__linkoutput(struct netif *netif, struct pbuf *p);

/* TCP layer (tcp.c): forces out the ACKs that the batch's connections still owe, then forgets
 * them. Core lock held. */
void nomnet__tcp_batch_done(struct nomnet *n);
/* Resets every connection (destroy). Core lock held. */
void nomnet__tcp_abort_all(struct nomnet *n);

/* Statistics (stats.c). */
int nomnet__stats_open(struct nomnet *n);
void nomnet__stats_close(struct nomnet *n);

/* Asserts the invariants above (aborts with a message on violation). Core lock and tx_lock
 * free; takes them. For tests. */
void nomnet__check(struct nomnet *n);

/* The living stack (one per process), or NULL. */
extern struct nomnet *nomnet__current;

#endif
