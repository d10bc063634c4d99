/* drv_xdp.c: the `xdp` driver: an AF_XDP socket (libxdp) on one queue of an interface.
 *
 * libxdp attaches its default XDP program, which redirects every frame of queue 0 into this
 * socket, so the kernel stack never sees the app's traffic. The socket shares a UMEM (one
 * memory area of 2 KiB frames) with the kernel through four rings: fill (empty frames the
 * kernel may receive into), rx (received frames), tx (frames to send) and completion (sent
 * frames to reuse). Receive needs no system call; transmit needs one sendto() per flush, which
 * covers every descriptor submitted since the last one: one system call per batch.
 *
 * On a veth the socket runs in copy mode (no zero-copy), natively when the kernel allows XDP
 * on the veth (`auto` tries native first) or in generic (skb) mode. The veth's peer must not
 * offload transmit checksums (nomnet_if_prepare on the peer): XDP gets no checksum status. */
#include <errno.h>
#include <linux/if_link.h>
#include <linux/if_xdp.h>
#include <net/if.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <unistd.h>

#include <xdp/libxdp.h>
#include <xdp/xsk.h>

#include "common/log.h"
#include "driver.h"

#define XDP_FRAME 2048
#define XDP_RING_DEFAULT 2048

struct xdp {
	struct xsk_umem *umem;
	struct xsk_socket *xsk;
	void *area;
	size_t area_len;
	struct xsk_ring_prod fill;
	struct xsk_ring_cons comp;
	struct xsk_ring_cons rx;
	struct xsk_ring_prod tx;
	unsigned ring;           /* entries per ring */
	/* Receive: descriptors lent by the last burst. */
	uint32_t rx_idx;
	uint64_t rx_addr[NOMNET_BATCH_MAX];
	unsigned rx_lent;
	/* Transmit: free frames (addresses), and descriptors reserved but not submitted. */
	uint64_t *tx_free;
	unsigned tx_nfree;
	unsigned tx_queued;
	uint64_t tx_slot_addr;
};

static void xdp_close(struct nomnet_drv *d)
{
	struct xdp *x = d->priv;

	if (!x)
		return;
	if (x->xsk)
		xsk_socket__delete(x->xsk);
	if (x->umem)
		xsk_umem__delete(x->umem);
	if (x->area && x->area != MAP_FAILED)
		munmap(x->area, x->area_len);
	free(x->tx_free);
	free(x);
	d->priv = NULL;
}

static int xdp_try_create(struct xdp *x, const char *ifname, uint32_t xdp_flags)
{
	struct xsk_socket_config sc;

	memset(&sc, 0, sizeof(sc));
	sc.rx_size = x->ring;
	sc.tx_size = x->ring;
	sc.xdp_flags = xdp_flags;
	sc.bind_flags = XDP_COPY;
	return xsk_socket__create(&x->xsk, ifname, 0, x->umem, &x->rx, &x->tx, &sc);
}

static int xdp_open(struct nomnet_drv *d, const struct nomnet_config *cfg)
{
	struct xsk_umem_config uc;
	struct xdp *x;
	unsigned frames;
	uint32_t idx;
	int rc, ifindex;
	const char *mode = cfg->xdp_mode ? cfg->xdp_mode : "auto";

	if (!cfg->ifname) {
		log_error("nomnet: xdp: an interface is required (one end of a veth)");
		return -EINVAL;
	}
	if (strcmp(mode, "auto") && strcmp(mode, "native") && strcmp(mode, "generic")) {
		log_error("nomnet: xdp: mode \"%s\" (want auto, native or generic)", mode);
		return -EINVAL;
	}
	rc = nomnet__if_index(cfg->ifname, &ifindex);
	if (rc < 0) {
		log_error("nomnet: xdp: interface %s: %s", cfg->ifname, strerror(-rc));
		return rc;
	}
	x = calloc(1, sizeof(*x));
	if (!x)
		return -ENOMEM;
	d->priv = x;
	x->ring = cfg->ring_size ? cfg->ring_size : XDP_RING_DEFAULT;
	frames = 2 * x->ring; /* half to receive into, half to send from */
	x->area_len = (size_t)frames * XDP_FRAME;
	x->area = mmap(NULL, x->area_len, PROT_READ | PROT_WRITE,
		       MAP_PRIVATE | MAP_ANONYMOUS | MAP_POPULATE, -1, 0);
	x->tx_free = calloc(x->ring, sizeof(*x->tx_free));
	if (x->area == MAP_FAILED || !x->tx_free) {
		rc = -ENOMEM;
		goto fail;
	}
	memset(&uc, 0, sizeof(uc));
	uc.fill_size = x->ring;
	uc.comp_size = x->ring;
	uc.frame_size = XDP_FRAME;
	uc.frame_headroom = 0;
	rc = xsk_umem__create(&x->umem, x->area, x->area_len, &x->fill, &x->comp, &uc);
	if (rc) {
		log_error("nomnet: xdp: umem: %s", strerror(-rc));
		goto fail;
	}
	if (nomnet_if_prepare(cfg->ifname) < 0)
		log_warn("nomnet: xdp: could not turn off offloads on %s", cfg->ifname);
	(void)nomnet__if_up(cfg->ifname);
	rc = -EINVAL;
	if (strcmp(mode, "generic") != 0)
		rc = xdp_try_create(x, cfg->ifname, XDP_FLAGS_DRV_MODE);
	if (rc && strcmp(mode, "native") != 0) {
		if (strcmp(mode, "auto") == 0)
			log_info("nomnet: xdp: native mode on %s: %s; trying generic", cfg->ifname,
				 strerror(-rc));
		rc = xdp_try_create(x, cfg->ifname, XDP_FLAGS_SKB_MODE);
	}
	if (rc) {
		log_error("nomnet: xdp: socket on %s queue 0: %s", cfg->ifname, strerror(-rc));
		goto fail;
	}
	/* Stock the fill ring with the first half of the frames. */
	if (xsk_ring_prod__reserve(&x->fill, x->ring, &idx) != x->ring) {
		rc = -ENOMEM;
		goto fail;
	}
	for (unsigned i = 0; i < x->ring; i++)
		*xsk_ring_prod__fill_addr(&x->fill, idx + i) = (uint64_t)i * XDP_FRAME;
	xsk_ring_prod__submit(&x->fill, x->ring);
	for (unsigned i = 0; i < x->ring; i++)
		x->tx_free[i] = (uint64_t)(x->ring + i) * XDP_FRAME;
	x->tx_nfree = x->ring;

	strcpy(d->ifname, cfg->ifname);
	rc = nomnet__if_mac(d->ifname, d->mac);
	if (rc < 0)
		goto fail;
	if (nomnet__if_mtu(d->ifname, &d->mtu) < 0)
		d->mtu = 1500;
	d->fd = xsk_socket__fd(x->xsk);
	return 0;
fail:
	xdp_close(d);
	return rc < 0 ? rc : -rc;
}

static int xdp_rx_burst(struct nomnet_drv *d, struct nomnet_frame *frames, unsigned max)
{
	struct xdp *x = d->priv;
	unsigned n = xsk_ring_cons__peek(&x->rx, max, &x->rx_idx);

	for (unsigned i = 0; i < n; i++) {
		const struct xdp_desc *desc = xsk_ring_cons__rx_desc(&x->rx, x->rx_idx + i);
		uint64_t addr = xsk_umem__add_offset_to_addr(desc->addr);

		frames[i].data = xsk_umem__get_data(x->area, addr);
		frames[i].len = desc->len;
		x->rx_addr[i] = xsk_umem__extract_addr(desc->addr);
	}
	x->rx_lent = n;
	return (int)n;
}

static void xdp_rx_release(struct nomnet_drv *d, unsigned n)
{
	struct xdp *x = d->priv;
	uint32_t idx;

	if (n > x->rx_lent)
		n = x->rx_lent;
	xsk_ring_cons__release(&x->rx, n);
	/* The frames go straight back to the fill ring (it has room: it holds at most what
	 * the rx ring does not). */
	if (xsk_ring_prod__reserve(&x->fill, n, &idx) == n) {
		for (unsigned i = 0; i < n; i++)
			*xsk_ring_prod__fill_addr(&x->fill, idx + i) =
				x->rx_addr[i] & ~(uint64_t)(XDP_FRAME - 1);
		xsk_ring_prod__submit(&x->fill, n);
	}
	x->rx_lent = 0;
}

static bool xdp_rx_pending(struct nomnet_drv *d)
{
	struct xdp *x = d->priv;

	return xsk_cons_nb_avail(&x->rx, 1) > 0;
}

static void xdp_reap(struct xdp *x)
{
	uint32_t idx;
	unsigned n = xsk_ring_cons__peek(&x->comp, x->ring, &idx);

	for (unsigned i = 0; i < n; i++)
		x->tx_free[x->tx_nfree++] = *xsk_ring_cons__comp_addr(&x->comp, idx + i);
	if (n)
		xsk_ring_cons__release(&x->comp, n);
}

static void *xdp_tx_slot(struct nomnet_drv *d, unsigned len)
{
	struct xdp *x = d->priv;

	if (len > XDP_FRAME)
		return NULL;
	if (x->tx_nfree == 0)
		xdp_reap(x);
	if (x->tx_nfree == 0 || xsk_prod_nb_free(&x->tx, 1) < 1)
		return NULL;
	x->tx_slot_addr = x->tx_free[x->tx_nfree - 1];
	return xsk_umem__get_data(x->area, x->tx_slot_addr);
}

static void xdp_tx_commit(struct nomnet_drv *d, unsigned len)
{
	struct xdp *x = d->priv;
	struct xdp_desc *desc;
	uint32_t idx;

	if (xsk_ring_prod__reserve(&x->tx, 1, &idx) != 1)
		return; /* cannot happen: tx_slot checked the room */
	x->tx_nfree--;
	desc = xsk_ring_prod__tx_desc(&x->tx, idx);
	desc->addr = x->tx_slot_addr;
	desc->len = len;
	desc->options = 0;
	x->tx_queued++;
}

static int xdp_tx_flush(struct nomnet_drv *d)
{
	struct xdp *x = d->priv;
	int rc = 0;

	if (x->tx_queued) {
		xsk_ring_prod__submit(&x->tx, x->tx_queued);
		x->tx_queued = 0;
	}
	/* In copy mode the kernel sends at most 32 descriptors per call and answers EAGAIN
	 * while more wait: kick until it has taken every descriptor submitted, or it is busy
	 * for real (the device queue is full: the next flush goes on). */
	for (unsigned tries = 0; tries < 4 * XDP_RING_DEFAULT / 32; tries++) {
		uint32_t outstanding = *x->tx.producer -
				       __atomic_load_n(x->tx.consumer, __ATOMIC_ACQUIRE);

		if (outstanding == 0)
			break;
		if (sendto(xsk_socket__fd(x->xsk), NULL, 0, MSG_DONTWAIT, NULL, 0) >= 0)
			continue;
		if (errno == EINTR || errno == EAGAIN)
			continue;
		if (errno != EBUSY && errno != ENOBUFS)
			rc = -errno;
		break;
	}
	xdp_reap(x);
	return rc;
}

static bool xdp_tx_stalled(struct nomnet_drv *d)
{
	struct xdp *x = d->priv;

	return *x->tx.producer != __atomic_load_n(x->tx.consumer, __ATOMIC_ACQUIRE);
}

const struct nomnet_driver nomnet__drv_xdp = {
	.api_version = NOMNET_DRIVER_VERSION,
	.size = sizeof(struct nomnet_driver),
	.name = "xdp",
	.open = xdp_open,
	.close = xdp_close,
	.rx_burst = xdp_rx_burst,
	.rx_release = xdp_rx_release,
	.rx_pending = xdp_rx_pending,
	.tx_slot = xdp_tx_slot,
	.tx_commit = xdp_tx_commit,
	.tx_flush = xdp_tx_flush,
	.arm = NULL,
	.tx_stalled = xdp_tx_stalled,
};
