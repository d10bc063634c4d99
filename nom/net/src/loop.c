/* loop.c: the loop thread that moves frames between the driver and lwIP, with the batching
 * delay.
 *
 * One pass: take what the driver has received (copying each frame into a PBUF_RAM pbuf: the
 * Debian lwIP's PBUF_POOL descriptor is broken, DESIGN.md section 13), hand the batch to the
 * stack when batch.c says it is due, flush the transmit ring when it is due, and account the
 * time of each stage. In poll mode the loop passes again at once, so a delay of a few
 * microseconds is kept to within a pass (sleeping would cost 50-100 us here); in interrupt
 * mode it sleeps in epoll on the driver's descriptor whenever nothing is pending. The knobs
 * (W and the mode) are read once per pass, so a change from another thread applies within a
 * pass. */
#include <errno.h>
#include <sched.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/prctl.h>
#include <time.h>
#include <unistd.h>

#include <lwip/tcpip.h>

#include "common/log.h"
#include "stack.h"

int64_t nomnet__now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

static void hist_add(uint64_t *hist, unsigned n)
{
	unsigned b = nomnet_hist_bucket(n);

	__atomic_store_n(&hist[b], hist[b] + 1, __ATOMIC_RELAXED);
}

/* Takes up to room frames from the driver into the receive batch. Returns the count taken. */
static unsigned rx_collect(struct nomnet *n, unsigned room, int64_t now)
{
	struct nomnet_frame frames[NOMNET_BATCH_MAX];
	unsigned taken = 0;
	int got;

	got = nomnet__drv_rx_burst(&n->drv, frames, room);
	if (got <= 0) {
		if (got < 0 && got != -EAGAIN)
			log_debug("nomnet: rx: %s", strerror(-got));
		return 0;
	}
	for (int i = 0; i < got; i++) {
		const struct nomnet_frame *f = &frames[i];
		struct pbuf *p;

		if (f->len < 14 || f->len > NOMNET_FRAME_MAX + 4) {
			NOMNET_STAT_ADD(n, rx_dropped, 1);
			continue;
		}
		p = pbuf_alloc(PBUF_RAW, (u16_t)f->len, PBUF_RAM);
		if (!p) {
			NOMNET_STAT_ADD(n, rx_dropped, 1);
			continue;
		}
		memcpy(p->payload, f->data, f->len);
		if (n->rx_count == 0)
			n->rx_first_ns = now;
		n->rx_batch[n->rx_count++] = p;
		NOMNET_STAT_ADD(n, rx_packets, 1);
		NOMNET_STAT_ADD(n, rx_bytes, f->len);
		taken++;
	}
	nomnet__drv_rx_release(&n->drv, (unsigned)got);
	return taken;
}

void nomnet__loop_handoff(struct nomnet *n)
{
	unsigned count = n->rx_count;

	if (count == 0)
		return;
	LOCK_TCPIP_CORE();
	for (unsigned i = 0; i < count; i++) {
		struct pbuf *p = n->rx_batch[i];

		n->rx_batch[i] = NULL;
		if (n->netif.input(p, &n->netif) != ERR_OK)
			pbuf_free(p);
	}
	nomnet__tcp_batch_done(n);
	UNLOCK_TCPIP_CORE();
	n->rx_count = 0;
	NOMNET_STAT_ADD(n, rx_batches, 1);
	hist_add(n->stats->rx_hist, count);
}

void nomnet__tx_flush_locked(struct nomnet *n, enum nomnet_due why)
{
	unsigned count = atomic_load(&n->tx_count);
	int rc;

	if (count == 0)
		return;
	rc = nomnet__drv_tx_flush(&n->drv);
	if (rc < 0) {
		NOMNET_STAT_ADD(n, tx_dropped, count);
		log_debug("nomnet: tx flush: %s", strerror(-rc));
	}
	atomic_store(&n->tx_count, 0);
	NOMNET_STAT_ADD(n, tx_batches, 1);
	hist_add(n->stats->tx_hist, count);
	switch (why) {
	case NOMNET_DUE_DELAY:
		NOMNET_STAT_ADD(n, tx_flush_delay, 1);
		break;
	case NOMNET_DUE_FULL:
		NOMNET_STAT_ADD(n, tx_flush_full, 1);
		break;
	default:
		NOMNET_STAT_ADD(n, tx_flush_direct, 1);
		break;
	}
}

static bool on_loop_thread(struct nomnet *n)
{
	return atomic_load(&n->loop_tid_set) && pthread_equal(pthread_self(), n->loop_tid);
}

err_t nomnet__linkoutput(struct netif *netif, struct pbuf *p)
{
	struct nomnet *n = netif->state;
	unsigned len = p->tot_len, count;
	void *slot;

	pthread_mutex_lock(&n->tx_lock);
	slot = nomnet__drv_tx_slot(&n->drv, len);
	if (!slot && atomic_load(&n->tx_count) > 0) {
		nomnet__tx_flush_locked(n, NOMNET_DUE_FULL);
		slot = nomnet__drv_tx_slot(&n->drv, len);
	}
	if (!slot) {
		NOMNET_STAT_ADD(n, tx_dropped, 1);
		pthread_mutex_unlock(&n->tx_lock);
		return ERR_OK; /* a NIC with a full ring drops; TCP retransmits */
	}
	pbuf_copy_partial(p, slot, (u16_t)len, 0);
	nomnet__drv_tx_commit(&n->drv, len);
	count = atomic_load(&n->tx_count) + 1;
	if (count == 1)
		atomic_store(&n->tx_first_ns, nomnet__now());
	atomic_store(&n->tx_count, count);
	NOMNET_STAT_ADD(n, tx_packets, 1);
	NOMNET_STAT_ADD(n, tx_bytes, len);
	if (!on_loop_thread(n))
		nomnet__tx_flush_locked(n, NOMNET_HOLD);
	else if (count >= n->cfg.tx_batch)
		nomnet__tx_flush_locked(n, NOMNET_DUE_FULL);
	pthread_mutex_unlock(&n->tx_lock);
	return ERR_OK;
}

void nomnet__loop_wake(struct nomnet *n)
{
	uint64_t one = 1;

	if (n->evfd >= 0 && write(n->evfd, &one, sizeof(one)) < 0 && errno != EAGAIN)
		log_debug("nomnet: wake: %s", strerror(errno));
}

/* Sleeps in epoll until a frame or a wakeup arrives. Returns the time asleep. */
static int64_t loop_sleep(struct nomnet *n, int64_t now)
{
	struct epoll_event ev[4];
	int64_t after;
	int got;

	nomnet__drv_arm(&n->drv);
	if (nomnet__drv_rx_pending(&n->drv) || atomic_load(&n->tx_count) > 0 ||
	    nomnet__drv_tx_stalled(&n->drv) ||
	    atomic_load(&n->mode) != NOMNET_INTERRUPT || atomic_load(&n->stop))
		return 0;
	NOMNET_STAT_ADD(n, sleeps, 1);
	got = epoll_wait(n->epfd, ev, 4, -1);
	for (int i = 0; i < got; i++) {
		if (ev[i].data.fd == n->evfd) {
			uint64_t v;

			if (read(n->evfd, &v, sizeof(v)) < 0 && errno != EAGAIN)
				log_debug("nomnet: eventfd: %s", strerror(errno));
		}
	}
	after = nomnet__now();
	return after - now;
}

void *nomnet__loop_main(void *arg)
{
	struct nomnet *n = arg;
	int64_t now;

	n->loop_tid = pthread_self();
	atomic_store(&n->loop_tid_set, true);
	if (n->cfg.cpu >= 0) {
		cpu_set_t set;

		CPU_ZERO(&set);
		CPU_SET(n->cfg.cpu, &set);
		if (pthread_setaffinity_np(pthread_self(), sizeof(set), &set) != 0)
			log_warn("nomnet: cannot pin the loop to CPU %d", n->cfg.cpu);
	}
	(void)prctl(PR_SET_TIMERSLACK, 1UL, 0, 0, 0);
	pthread_setname_np(pthread_self(), "nomnet-loop");

	now = nomnet__now();
	while (!atomic_load_explicit(&n->stop, memory_order_relaxed)) {
		int64_t delay = atomic_load_explicit(&n->delay_ns, memory_order_relaxed);
		unsigned limit = nomnet__rx_limit(delay, n->cfg.rx_batch);
		unsigned tx_count;
		bool work = false;
		enum nomnet_due due;

		/* 1. Collect received frames. */
		if (n->rx_count < limit && rx_collect(n, limit - n->rx_count, now) > 0) {
			int64_t t = nomnet__now();

			NOMNET_STAT_ADD(n, ns_rx, (uint64_t)(t - now));
			now = t;
			work = true;
		}
		/* 2. Hand the batch to the stack when due. */
		if (n->rx_count > 0) {
			bool pending = n->rx_count < limit && nomnet__drv_rx_pending(&n->drv);

			due = nomnet__rx_due(n->rx_count, n->rx_first_ns, now, delay, limit,
					     pending);
			if (due != NOMNET_HOLD) {
				int64_t t;

				if (due == NOMNET_DUE_DELAY)
					NOMNET_STAT_ADD(n, rx_handoff_delay, 1);
				else if (due == NOMNET_DUE_FULL)
					NOMNET_STAT_ADD(n, rx_handoff_full, 1);
				else
					NOMNET_STAT_ADD(n, rx_handoff_empty, 1);
				nomnet__loop_handoff(n);
				t = nomnet__now();
				NOMNET_STAT_ADD(n, ns_stack, (uint64_t)(t - now));
				now = t;
				work = true;
			}
		}
		/* 3. Flush the transmit ring when due. */
		tx_count = atomic_load_explicit(&n->tx_count, memory_order_acquire);
		if (tx_count > 0) {
			due = nomnet__tx_due(tx_count, atomic_load(&n->tx_first_ns), now, delay,
					     n->cfg.tx_batch);
			if (due != NOMNET_HOLD) {
				int64_t t;

				pthread_mutex_lock(&n->tx_lock);
				nomnet__tx_flush_locked(n, due);
				pthread_mutex_unlock(&n->tx_lock);
				t = nomnet__now();
				NOMNET_STAT_ADD(n, ns_tx, (uint64_t)(t - now));
				now = t;
				work = true;
			}
		}
		NOMNET_STAT_ADD(n, loops, 1);
		if (work)
			continue;
		/* Frames the kernel could not take yet: hand them over again. */
		if (nomnet__drv_tx_stalled(&n->drv)) {
			pthread_mutex_lock(&n->tx_lock);
			(void)nomnet__drv_tx_flush(&n->drv);
			pthread_mutex_unlock(&n->tx_lock);
		}
		/* 4. Nothing done this pass. */
		if (atomic_load_explicit(&n->mode, memory_order_relaxed) == NOMNET_INTERRUPT &&
		    n->rx_count == 0 && atomic_load(&n->tx_count) == 0) {
			int64_t slept = loop_sleep(n, now);

			NOMNET_STAT_ADD(n, ns_idle, (uint64_t)slept);
			now += slept;
			if (slept == 0)
				now = nomnet__now();
		} else {
			int64_t t = nomnet__now();

			NOMNET_STAT_ADD(n, ns_idle, (uint64_t)(t - now));
			now = t;
		}
	}
	/* Leave nothing behind: what was collected goes to the stack, what is queued leaves. */
	nomnet__loop_handoff(n);
	pthread_mutex_lock(&n->tx_lock);
	nomnet__tx_flush_locked(n, NOMNET_HOLD);
	pthread_mutex_unlock(&n->tx_lock);
	atomic_store(&n->loop_tid_set, false);
	return NULL;
}
