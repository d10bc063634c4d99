/* drv_mem.c: the `mem` driver: an in-memory wire for tests that cannot (or need not) be root.
 *
 * A test injects Ethernet frames as if they came from the wire and takes what the stack
 * transmitted, each with the time its batch was flushed, so that the batching rules and the
 * stack's answers are checked without a kernel device. It plays no part in the real drivers'
 * paths: those are tested in network namespaces. An eventfd stands for the device's
 * readiness so that interrupt mode is exercised too. */
#include <errno.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <unistd.h>

#include "drv_mem.h"
#include "stack.h"

#define MEM_SLOTS 1024
#define MEM_BUF 2048

struct mem_frame {
	uint32_t len;
	int64_t flush_ns;        /* transmit side: when its batch left */
	uint64_t batch;          /* transmit side: flush number */
	uint8_t data[MEM_BUF];
};

struct mem {
	pthread_mutex_t lock;
	int evfd;
	/* Receive queue: [rx_head, rx_tail) injected, [rx_head, rx_head + lent) lent. */
	struct mem_frame *rx;
	unsigned rx_head, rx_tail, rx_lent;
	/* Transmit: pending (committed, not flushed) then the wire (flushed, not taken). */
	struct mem_frame *tx_pending;
	unsigned tx_npending, tx_size;
	struct mem_frame *wire;
	unsigned wire_head, wire_tail;
	uint64_t flushes;
	uint8_t staging[MEM_BUF];
};

static struct mem *mem_of_current(void)
{
	struct nomnet *n = nomnet__current;

	if (!n || !n->drv.ops || n->drv.ops != &nomnet__drv_mem)
		return NULL;
	return n->drv.priv;
}

static void mem_close(struct nomnet_drv *d)
{
	struct mem *m = d->priv;

	if (!m)
		return;
	if (m->evfd >= 0)
		close(m->evfd);
	pthread_mutex_destroy(&m->lock);
	free(m->rx);
	free(m->tx_pending);
	free(m->wire);
	free(m);
	d->priv = NULL;
}

static int mem_open(struct nomnet_drv *d, const struct nomnet_config *cfg)
{
	struct mem *m = calloc(1, sizeof(*m));

	if (!m)
		return -ENOMEM;
	d->priv = m;
	pthread_mutex_init(&m->lock, NULL);
	m->tx_size = cfg->ring_size ? cfg->ring_size : 256;
	m->rx = calloc(MEM_SLOTS, sizeof(*m->rx));
	m->tx_pending = calloc(m->tx_size, sizeof(*m->tx_pending));
	m->wire = calloc(MEM_SLOTS, sizeof(*m->wire));
	m->evfd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
	if (!m->rx || !m->tx_pending || !m->wire || m->evfd < 0) {
		mem_close(d);
		return -ENOMEM;
	}
	strcpy(d->ifname, "mem0");
	d->mac[0] = 0x02;
	d->mac[5] = 0x01;
	d->mtu = 1500;
	d->fd = m->evfd;
	return 0;
}

static int mem_rx_burst(struct nomnet_drv *d, struct nomnet_frame *frames, unsigned max)
{
	struct mem *m = d->priv;
	unsigned n = 0;

	pthread_mutex_lock(&m->lock);
	while (n < max && m->rx_head + n != m->rx_tail) {
		struct mem_frame *f = &m->rx[(m->rx_head + n) % MEM_SLOTS];

		frames[n].data = f->data;
		frames[n].len = f->len;
		n++;
	}
	m->rx_lent = n;
	if (m->rx_head + n == m->rx_tail) {
		uint64_t v;

		if (read(m->evfd, &v, sizeof(v)) < 0 && errno != EAGAIN) {
			/* nothing to do: the counter is only a readiness signal */
		}
	}
	pthread_mutex_unlock(&m->lock);
	return (int)n;
}

static void mem_rx_release(struct nomnet_drv *d, unsigned n)
{
	struct mem *m = d->priv;

	pthread_mutex_lock(&m->lock);
	m->rx_head += n;
	m->rx_lent = 0;
	pthread_mutex_unlock(&m->lock);
}

static bool mem_rx_pending(struct nomnet_drv *d)
{
	struct mem *m = d->priv;
	bool pending;

	pthread_mutex_lock(&m->lock);
	pending = m->rx_head + m->rx_lent != m->rx_tail;
	pthread_mutex_unlock(&m->lock);
	return pending;
}

static void *mem_tx_slot(struct nomnet_drv *d, unsigned len)
{
	struct mem *m = d->priv;

	if (m->tx_npending >= m->tx_size || len > MEM_BUF)
		return NULL;
	return m->tx_pending[m->tx_npending].data;
}

static void mem_tx_commit(struct nomnet_drv *d, unsigned len)
{
	struct mem *m = d->priv;

	m->tx_pending[m->tx_npending++].len = len;
}

static int mem_tx_flush(struct nomnet_drv *d)
{
	struct mem *m = d->priv;
	int64_t now = nomnet__now();
	int rc = 0;

	pthread_mutex_lock(&m->lock);
	m->flushes++;
	for (unsigned i = 0; i < m->tx_npending; i++) {
		struct mem_frame *f;

		if (m->wire_tail - m->wire_head >= MEM_SLOTS) {
			rc = -ENOBUFS;
			break;
		}
		f = &m->wire[m->wire_tail++ % MEM_SLOTS];
		memcpy(f->data, m->tx_pending[i].data, m->tx_pending[i].len);
		f->len = m->tx_pending[i].len;
		f->flush_ns = now;
		f->batch = m->flushes;
	}
	m->tx_npending = 0;
	pthread_mutex_unlock(&m->lock);
	return rc;
}

const struct nomnet_driver nomnet__drv_mem = {
	.api_version = NOMNET_DRIVER_VERSION,
	.size = sizeof(struct nomnet_driver),
	.name = "mem",
	.open = mem_open,
	.close = mem_close,
	.rx_burst = mem_rx_burst,
	.rx_release = mem_rx_release,
	.rx_pending = mem_rx_pending,
	.tx_slot = mem_tx_slot,
	.tx_commit = mem_tx_commit,
	.tx_flush = mem_tx_flush,
	.arm = NULL,
};

int nomnet__mem_inject(const void *frame, size_t len)
{
	struct mem *m = mem_of_current();
	uint64_t one = 1;
	int rc = 0;

	if (!m)
		return -ENODEV;
	if (len > MEM_BUF)
		return -EMSGSIZE;
	pthread_mutex_lock(&m->lock);
	if (m->rx_tail - m->rx_head >= MEM_SLOTS) {
		rc = -ENOBUFS;
	} else {
		struct mem_frame *f = &m->rx[m->rx_tail % MEM_SLOTS];

		memcpy(f->data, frame, len);
		f->len = (uint32_t)len;
		m->rx_tail++;
	}
	pthread_mutex_unlock(&m->lock);
	if (rc == 0 && write(m->evfd, &one, sizeof(one)) < 0)
		rc = -errno;
	return rc;
}

int nomnet__mem_take(void *buf, size_t cap, struct nomnet_mem_sent *info)
{
	struct mem *m = mem_of_current();
	int rc = 0;

	if (!m)
		return -ENODEV;
	pthread_mutex_lock(&m->lock);
	if (m->wire_head != m->wire_tail) {
		struct mem_frame *f = &m->wire[m->wire_head++ % MEM_SLOTS];
		size_t len = f->len < cap ? f->len : cap;

		memcpy(buf, f->data, len);
		if (info) {
			info->flush_ns = f->flush_ns;
			info->batch = f->batch;
		}
		rc = (int)len;
	}
	pthread_mutex_unlock(&m->lock);
	return rc;
}

uint64_t nomnet__mem_flushes(void)
{
	struct mem *m = mem_of_current();
	uint64_t v = 0;

	if (m) {
		pthread_mutex_lock(&m->lock);
		v = m->flushes;
		pthread_mutex_unlock(&m->lock);
	}
	return v;
}
