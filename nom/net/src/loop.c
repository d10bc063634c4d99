/* loop.c: the loop thread that moves frames between the driver and lwIP, with the batching
 * delay.
 *
 * One pass: take what the driver has received (copying each frame into a PBUF_RAM pbuf: the
 * Debian lwIP's PBUF_POOL descriptor is broken, DESIGN.md section 13), hand the batch to the
 * stack when batch.c says it is due, flush the transmit ring when it is due, and account the
 * time of each stage. In poll mode the loop passes again at once, so a delay of a few
 * microseconds is kept to within a pass (sleeping would cost 50-100 us here); in interrupt
 * mode it sleeps in epoll on the driver's descriptor whenever nothing is pending. The knobs
 * (W, the mode and the spin budget) are read once per pass, so a change from another thread
 * applies within a pass.
 *
 * Hybrid polling: in interrupt mode with a spin budget S > 0 the loop keeps polling for S
 * after its last work before it sleeps, so that a request arriving within S finds it awake.
 *
 * Every request is timed stage by stage (net_stats.h): the rx, stack, app, stack-tx and flush
 * stages from clock reads around them, the wake-up from the thread's run-queue wait in
 * /proc/thread-self/schedstat, read once the reply has left (off the request's path). */
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <errno.h>
#include <sched.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/syscall.h>
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

static void stat_add(uint64_t *field, uint64_t v)
{
	__atomic_store_n(field, *field + v, __ATOMIC_RELAXED);
}

static void stat_set(uint64_t *field, uint64_t v)
{
	__atomic_store_n(field, v, __ATOMIC_RELAXED);
}

bool nomnet__on_loop(const struct nomnet *n)
{
	return atomic_load(&((struct nomnet *)n)->loop_tid_set) &&
	       pthread_equal(pthread_self(), n->loop_tid);
}

/* The loop thread's total run-queue wait so far (ns), or 0 when it cannot be read. */
static uint64_t sched_wait(struct nomnet *n)
{
	char buf[96];
	unsigned long long run, wait;
	ssize_t got;

	if (n->sched_fd < 0)
		return 0;
	got = pread(n->sched_fd, buf, sizeof(buf) - 1, 0);
	if (got <= 0)
		return 0;
	buf[got] = '\0';
	if (sscanf(buf, "%llu %llu", &run, &wait) != 2)
		return 0;
	return wait;
}

static void pass_store(struct nomnet_pass *dst, const struct nomnet_pass *src)
{
	const uint64_t *s = (const uint64_t *)src;
	uint64_t *d = (uint64_t *)dst;

	for (size_t i = 0; i < sizeof(*src) / sizeof(uint64_t); i++)
		__atomic_store_n(&d[i], s[i], __ATOMIC_RELAXED);
}

/* Opens the timing of a request at start_ns (its first frame's collection began then). */
static void req_begin(struct nomnet *n, int64_t start_ns)
{
	if (n->req_open)
		return;
	n->req_open = true;
	n->req_start_ns = start_ns;
	memset(n->req_ns, 0, sizeof(n->req_ns));
	n->req_rx_frames = 0;
}

/* Closes the timed request at end_ns (its replies flushed, or none to flush): the stages go
 * into the histograms, a slow one into the slow ring. */
static void req_end(struct nomnet *n, int64_t end_ns, uint64_t tx_frames)
{
	struct nomnet_stats *st = n->stats;
	struct nomnet_pass p;
	uint64_t w = sched_wait(n), slow;

	if (!n->req_open)
		return;
	n->req_open = false;
	n->req_ns[NOMNET_ST_WAKE] = w > n->sched_wait_ns ? w - n->sched_wait_ns : 0;
	if (w)
		n->sched_wait_ns = w;
	n->req_ns[NOMNET_ST_TOTAL] = (uint64_t)(end_ns - n->req_start_ns);
	stat_add(&st->timed_passes, 1);
	for (unsigned i = 0; i < NOMNET_STAGES; i++) {
		stat_add(&st->stage_ns[i], n->req_ns[i]);
		stat_add(&st->stage_hist[i][nomnet_lat_bucket(n->req_ns[i])], 1);
	}
	slow = n->req_ns[NOMNET_ST_TOTAL] + n->req_ns[NOMNET_ST_WAKE];
	if (slow < (uint64_t)NOMNET_SLOW_NS &&
	    slow <= st->slowest.ns[NOMNET_ST_TOTAL] + st->slowest.ns[NOMNET_ST_WAKE])
		return;
	memset(&p, 0, sizeof(p));
	{
		struct timespec ts;

		clock_gettime(CLOCK_REALTIME, &ts);
		p.end_wall_ns = (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
	}
	memcpy(p.ns, n->req_ns, sizeof(p.ns));
	p.rx_frames = n->req_rx_frames;
	p.tx_frames = tx_frames;
	if (slow > st->slowest.ns[NOMNET_ST_TOTAL] + st->slowest.ns[NOMNET_ST_WAKE])
		pass_store(&st->slowest, &p);
	if (slow >= (uint64_t)NOMNET_SLOW_NS) {
		pass_store(&st->slow[st->slow_count % NOMNET_SLOW_RING], &p);
		stat_set(&st->slow_count, st->slow_count + 1);
	}
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
	n->req_rx_frames += count;
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

err_t nomnet__linkoutput(struct netif *netif, struct pbuf *p)
{
	struct nomnet *n = netif->state;
	unsigned len = p->tot_len, count;
	bool loop = nomnet__on_loop(n);
	int64_t t0 = loop && n->req_open ? nomnet__now() : 0;
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
	if (!loop)
		nomnet__tx_flush_locked(n, NOMNET_HOLD);
	else if (count >= n->cfg.tx_batch)
		nomnet__tx_flush_locked(n, NOMNET_DUE_FULL);
	pthread_mutex_unlock(&n->tx_lock);
	if (t0)
		n->req_ns[NOMNET_ST_STX] += (uint64_t)(nomnet__now() - t0);
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

static inline void cpu_relax(void)
{
#if defined(__x86_64__) || defined(__i386__)
	__builtin_ia32_pause();
#elif defined(__aarch64__)
	__asm__ __volatile__("yield");
#endif
}

void *nomnet__loop_main(void *arg)
{
	struct nomnet *n = arg;
	int64_t now, last_work;
	bool spinning = false;

	n->loop_tid = pthread_self();
	atomic_store(&n->loop_tid_set, true);
	if (n->cfg.cpu >= 0) {
		cpu_set_t set;

		CPU_ZERO(&set);
		CPU_SET(n->cfg.cpu, &set);
		if (pthread_setaffinity_np(pthread_self(), sizeof(set), &set) != 0)
			log_warn("nomnet: cannot pin the loop to CPU %d", n->cfg.cpu);
	}
	if (n->cfg.rt_priority > 0) {
		struct sched_param sp = {.sched_priority = n->cfg.rt_priority};
		int rc = pthread_setschedparam(pthread_self(), SCHED_FIFO, &sp);

		if (rc != 0)
			log_warn("nomnet: SCHED_FIFO priority %d for the loop: %s",
				 n->cfg.rt_priority, strerror(rc));
	}
	if (n->cfg.nice != 0 &&
	    setpriority(PRIO_PROCESS, (id_t)syscall(SYS_gettid), n->cfg.nice) != 0)
		log_warn("nomnet: nice %d for the loop: %s", n->cfg.nice, strerror(errno));
	(void)prctl(PR_SET_TIMERSLACK, 1UL, 0, 0, 0);
	pthread_setname_np(pthread_self(), "nomnet-loop");
	n->sched_fd = open("/proc/thread-self/schedstat", O_RDONLY | O_CLOEXEC);
	n->req_open = false;
	n->sched_wait_ns = sched_wait(n);

	now = nomnet__now();
	last_work = now;
	while (!atomic_load_explicit(&n->stop, memory_order_relaxed)) {
		int64_t delay = atomic_load_explicit(&n->delay_ns, memory_order_relaxed);
		unsigned limit = nomnet__rx_limit(delay, n->cfg.rx_batch);
		unsigned tx_count;
		bool work = false;
		enum nomnet_due due;

		/* 1. Collect received frames (a request's timing opens with its first frame). */
		if (n->rx_count < limit) {
			int64_t start = now;

			if (rx_collect(n, limit - n->rx_count, now) > 0) {
				int64_t t = nomnet__now();

				req_begin(n, start);
				n->req_ns[NOMNET_ST_RX] += (uint64_t)(t - start);
				NOMNET_STAT_ADD(n, ns_rx, (uint64_t)(t - start));
				now = t;
				work = true;
			}
		}
		/* 2. Hand the batch to the stack when due. */
		if (n->rx_count > 0) {
			bool pending = n->rx_count < limit && nomnet__drv_rx_pending(&n->drv);

			due = nomnet__rx_due(n->rx_count, n->rx_first_ns, now, delay, limit,
					     pending);
			if (due != NOMNET_HOLD) {
				uint64_t app0 = n->req_ns[NOMNET_ST_APP];
				uint64_t stx0 = n->req_ns[NOMNET_ST_STX];
				uint64_t d, inner;
				int64_t t;

				if (due == NOMNET_DUE_DELAY)
					NOMNET_STAT_ADD(n, rx_handoff_delay, 1);
				else if (due == NOMNET_DUE_FULL)
					NOMNET_STAT_ADD(n, rx_handoff_full, 1);
				else
					NOMNET_STAT_ADD(n, rx_handoff_empty, 1);
				nomnet__loop_handoff(n);
				t = nomnet__now();
				d = (uint64_t)(t - now);
				inner = (n->req_ns[NOMNET_ST_APP] - app0) +
					(n->req_ns[NOMNET_ST_STX] - stx0);
				n->req_ns[NOMNET_ST_STACK] += d > inner ? d - inner : 0;
				NOMNET_STAT_ADD(n, ns_stack, d);
				now = t;
				work = true;
			}
		}
		/* 3. Flush the transmit ring when due (which closes a timed request). */
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
				if (n->req_open && n->rx_count == 0) {
					n->req_ns[NOMNET_ST_TX] += (uint64_t)(t - now);
					req_end(n, t, tx_count);
				}
				now = t;
				work = true;
			}
		} else if (n->req_open && n->rx_count == 0) {
			req_end(n, now, 0); /* the stack had nothing to send */
		}
		NOMNET_STAT_ADD(n, loops, 1);
		if (work) {
			if (spinning) {
				NOMNET_STAT_ADD(n, spin_hits, 1);
				spinning = false;
			}
			last_work = now;
			continue;
		}
		/* Frames the kernel could not take yet: hand them over again. */
		if (nomnet__drv_tx_stalled(&n->drv)) {
			pthread_mutex_lock(&n->tx_lock);
			(void)nomnet__drv_tx_flush(&n->drv);
			pthread_mutex_unlock(&n->tx_lock);
		}
		/* 4. Nothing done this pass: poll again, spin within the budget, or sleep. */
		if (atomic_load_explicit(&n->mode, memory_order_relaxed) == NOMNET_INTERRUPT &&
		    n->rx_count == 0 && atomic_load(&n->tx_count) == 0) {
			int64_t spin = atomic_load_explicit(&n->spin_ns, memory_order_relaxed);
			int64_t slept;

			if (spin > 0 && now - last_work < spin) {
				int64_t t;

				cpu_relax();
				t = nomnet__now();
				spinning = true;
				NOMNET_STAT_ADD(n, ns_idle, (uint64_t)(t - now));
				NOMNET_STAT_ADD(n, ns_spin, (uint64_t)(t - now));
				now = t;
				continue;
			}
			if (spinning) {
				NOMNET_STAT_ADD(n, spin_misses, 1);
				spinning = false;
			}
			slept = loop_sleep(n, now);
			NOMNET_STAT_ADD(n, ns_idle, (uint64_t)slept);
			now += slept;
			if (slept == 0)
				now = nomnet__now();
			last_work = now; /* woken: the budget starts again */
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
	n->req_open = false;
	if (n->sched_fd >= 0)
		close(n->sched_fd);
	n->sched_fd = -1;
	atomic_store(&n->loop_tid_set, false);
	return NULL;
}
