/* drv_packet.c: the `packet` driver: AF_PACKET with TPACKET_V3 receive and transmit rings.
 *
 * Bound to one end of a veth pair (an interface without a kernel address), the socket sees
 * every frame the peer sends, in a receive ring of blocks shared with the kernel, and
 * transmits from a ring of frames: the loop fills frames, marks them TP_STATUS_SEND_REQUEST,
 * and one send() hands the whole batch to the kernel (PACKET_QDISC_BYPASS skips the qdisc).
 * That single system call per batch is what the transmit batching delay buys on this driver.
 *
 * TPACKET_V3 receives in blocks: the kernel gives a block to user space when it is full or
 * when its retire timer fires (in milliseconds, rounded to jiffies). Under load blocks fill
 * within microseconds; a lone request waits for the timer, so this driver trades latency at
 * low load for cheap receive at high load (docs/nomnet.md; the xdp driver has no such
 * floor). The retire timer is 1 ms, the smallest the kernel takes.
 *
 * Frames whose checksum the kernel left partial (TP_STATUS_CSUMNOTREADY: the peer offloads
 * transmit checksums) are completed here, so the stack always sees valid checksums. */
#include <arpa/inet.h>
#include <errno.h>
#include <linux/if_ether.h>
#include <linux/if_packet.h>
#include <net/if.h>
#include <poll.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <unistd.h>

#include "common/log.h"
#include "driver.h"

#ifndef PACKET_IGNORE_OUTGOING
#define PACKET_IGNORE_OUTGOING 23
#endif

#define PKT_BLOCK_SIZE (1u << 16)
#define PKT_RX_BLOCKS 32
#define PKT_TX_FRAME 2048
#define PKT_TX_FRAMES_DEFAULT 512
#define PKT_RETIRE_MS 1

struct pkt {
	int fd;
	uint8_t *map;
	size_t map_len;
	/* Receive ring. */
	unsigned rx_blocks;
	unsigned rx_block;       /* the block being read */
	uint8_t *rx_next;        /* next packet in it (NULL: block not started) */
	unsigned rx_left;        /* packets not yet lent in it */
	uint8_t *rx_lent_end;    /* packet after the last lent one */
	unsigned rx_lent;
	/* Transmit ring. */
	uint8_t *tx_ring;
	unsigned tx_frames;
	unsigned tx_head;        /* next frame to fill */
	unsigned tx_queued;      /* filled, not yet handed over by send() */
};

static struct tpacket_block_desc *rx_block_desc(struct pkt *p, unsigned i)
{
	return (struct tpacket_block_desc *)(p->map + (size_t)i * PKT_BLOCK_SIZE);
}

static struct tpacket3_hdr *tx_frame(struct pkt *p, unsigned i)
{
	return (struct tpacket3_hdr *)(p->tx_ring + (size_t)i * PKT_TX_FRAME);
}

#define TX_DATA_OFF (TPACKET3_HDRLEN - sizeof(struct sockaddr_ll))

static void pkt_close(struct nomnet_drv *d)
{
	struct pkt *p = d->priv;

	if (!p)
		return;
	if (p->map && p->map != MAP_FAILED)
		munmap(p->map, p->map_len);
	if (p->fd >= 0)
		close(p->fd);
	free(p);
	d->priv = NULL;
}

static int setopt(int fd, int opt, const void *val, socklen_t len, const char *what)
{
	if (setsockopt(fd, SOL_PACKET, opt, val, len) < 0) {
		int rc = -errno;

		log_error("nomnet: packet: %s: %s", what, strerror(errno));
		return rc;
	}
	return 0;
}

static int pkt_open(struct nomnet_drv *d, const struct nomnet_config *cfg)
{
	struct tpacket_req3 rx, tx;
	struct sockaddr_ll sll;
	struct pkt *p;
	int version = TPACKET_V3, one = 1, ifindex, rc;

	if (!cfg->ifname) {
		log_error("nomnet: packet: an interface is required (one end of a veth)");
		return -EINVAL;
	}
	if (strlen(cfg->ifname) >= IF_NAMESIZE)
		return -EINVAL;
	rc = nomnet__if_index(cfg->ifname, &ifindex);
	if (rc < 0) {
		log_error("nomnet: packet: interface %s: %s", cfg->ifname, strerror(-rc));
		return rc == -ENODEV ? -ENODEV : rc;
	}
	p = calloc(1, sizeof(*p));
	if (!p)
		return -ENOMEM;
	d->priv = p;
	p->map = MAP_FAILED;
	p->fd = socket(AF_PACKET, SOCK_RAW | SOCK_CLOEXEC | SOCK_NONBLOCK, htons(ETH_P_ALL));
	if (p->fd < 0) {
		rc = -errno;
		log_error("nomnet: packet: socket: %s", strerror(errno));
		goto fail;
	}
	rc = setopt(p->fd, PACKET_VERSION, &version, sizeof(version), "TPACKET_V3");
	if (rc < 0)
		goto fail;

	memset(&rx, 0, sizeof(rx));
	p->rx_blocks = PKT_RX_BLOCKS;
	rx.tp_block_size = PKT_BLOCK_SIZE;
	rx.tp_block_nr = p->rx_blocks;
	rx.tp_frame_size = PKT_TX_FRAME;
	rx.tp_frame_nr = (PKT_BLOCK_SIZE / PKT_TX_FRAME) * p->rx_blocks;
	rx.tp_retire_blk_tov = PKT_RETIRE_MS;
	rc = setopt(p->fd, PACKET_RX_RING, &rx, sizeof(rx), "receive ring");
	if (rc < 0)
		goto fail;

	memset(&tx, 0, sizeof(tx));
	p->tx_frames = cfg->ring_size ? cfg->ring_size : PKT_TX_FRAMES_DEFAULT;
	if (p->tx_frames < PKT_BLOCK_SIZE / PKT_TX_FRAME)
		p->tx_frames = PKT_BLOCK_SIZE / PKT_TX_FRAME;
	tx.tp_block_size = PKT_BLOCK_SIZE;
	tx.tp_frame_size = PKT_TX_FRAME;
	tx.tp_block_nr = p->tx_frames / (PKT_BLOCK_SIZE / PKT_TX_FRAME);
	tx.tp_frame_nr = p->tx_frames;
	rc = setopt(p->fd, PACKET_TX_RING, &tx, sizeof(tx), "transmit ring");
	if (rc < 0)
		goto fail;
	(void)setopt(p->fd, PACKET_QDISC_BYPASS, &one, sizeof(one), "qdisc bypass");
	if (setsockopt(p->fd, SOL_PACKET, PACKET_IGNORE_OUTGOING, &one, sizeof(one)) < 0)
		log_debug("nomnet: packet: PACKET_IGNORE_OUTGOING: %s", strerror(errno));

	p->map_len = (size_t)PKT_BLOCK_SIZE * (rx.tp_block_nr + tx.tp_block_nr);
	p->map = mmap(NULL, p->map_len, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_POPULATE, p->fd,
		      0);
	if (p->map == MAP_FAILED) {
		rc = -errno;
		log_error("nomnet: packet: mmap rings: %s", strerror(errno));
		goto fail;
	}
	p->tx_ring = p->map + (size_t)PKT_BLOCK_SIZE * rx.tp_block_nr;

	memset(&sll, 0, sizeof(sll));
	sll.sll_family = AF_PACKET;
	sll.sll_protocol = htons(ETH_P_ALL);
	sll.sll_ifindex = ifindex;
	if (bind(p->fd, (struct sockaddr *)&sll, sizeof(sll)) < 0) {
		rc = -errno;
		log_error("nomnet: packet: bind %s: %s", cfg->ifname, strerror(errno));
		goto fail;
	}
	strcpy(d->ifname, cfg->ifname);
	rc = nomnet__if_mac(d->ifname, d->mac);
	if (rc < 0)
		goto fail;
	if (nomnet__if_mtu(d->ifname, &d->mtu) < 0)
		d->mtu = 1500;
	if (nomnet_if_prepare(d->ifname) < 0)
		log_warn("nomnet: packet: could not turn off offloads on %s", d->ifname);
	(void)nomnet__if_up(d->ifname);
	d->fd = p->fd;
	return 0;
fail:
	pkt_close(d);
	return rc;
}

static int pkt_rx_burst(struct nomnet_drv *d, struct nomnet_frame *frames, unsigned max)
{
	struct pkt *p = d->priv;
	struct tpacket_block_desc *bd = rx_block_desc(p, p->rx_block);
	uint8_t *ptr;
	unsigned n = 0;

	if (!p->rx_next) {
		if (!(__atomic_load_n(&bd->hdr.bh1.block_status, __ATOMIC_ACQUIRE) & TP_STATUS_USER))
			return 0;
		p->rx_left = bd->hdr.bh1.num_pkts;
		p->rx_next = (uint8_t *)bd + bd->hdr.bh1.offset_to_first_pkt;
	}
	ptr = p->rx_next;
	while (n < max && n < p->rx_left) {
		struct tpacket3_hdr *h = (struct tpacket3_hdr *)ptr;
		uint8_t *data = ptr + h->tp_mac;

		if (h->tp_status & TP_STATUS_CSUMNOTREADY)
			nomnet__csum_complete(data, h->tp_snaplen);
		frames[n].data = data;
		frames[n].len = h->tp_snaplen < h->tp_len ? h->tp_snaplen : h->tp_len;
		n++;
		ptr += h->tp_next_offset;
	}
	p->rx_lent = n;
	p->rx_lent_end = ptr;
	if (n == 0 && p->rx_left == 0) {
		/* An empty block: give it back. */
		__atomic_store_n(&bd->hdr.bh1.block_status, TP_STATUS_KERNEL, __ATOMIC_RELEASE);
		p->rx_block = (p->rx_block + 1) % p->rx_blocks;
		p->rx_next = NULL;
	}
	return (int)n;
}

static void pkt_rx_release(struct nomnet_drv *d, unsigned n)
{
	struct pkt *p = d->priv;

	if (n > p->rx_lent)
		n = p->rx_lent;
	p->rx_left -= n;
	p->rx_next = p->rx_lent_end;
	p->rx_lent = 0;
	if (p->rx_left == 0) {
		struct tpacket_block_desc *bd = rx_block_desc(p, p->rx_block);

		__atomic_store_n(&bd->hdr.bh1.block_status, TP_STATUS_KERNEL, __ATOMIC_RELEASE);
		p->rx_block = (p->rx_block + 1) % p->rx_blocks;
		p->rx_next = NULL;
	}
}

static bool pkt_rx_pending(struct nomnet_drv *d)
{
	struct pkt *p = d->priv;
	struct tpacket_block_desc *bd;

	if (p->rx_next && p->rx_left > p->rx_lent)
		return true;
	bd = rx_block_desc(p, p->rx_next ? (p->rx_block + 1) % p->rx_blocks : p->rx_block);
	return __atomic_load_n(&bd->hdr.bh1.block_status, __ATOMIC_ACQUIRE) & TP_STATUS_USER;
}

static void *pkt_tx_slot(struct nomnet_drv *d, unsigned len)
{
	struct pkt *p = d->priv;
	struct tpacket3_hdr *h = tx_frame(p, p->tx_head);

	if (len > PKT_TX_FRAME - TX_DATA_OFF)
		return NULL;
	if (__atomic_load_n(&h->tp_status, __ATOMIC_ACQUIRE) != TP_STATUS_AVAILABLE)
		return NULL; /* the kernel still owns it: ring full */
	return (uint8_t *)h + TX_DATA_OFF;
}

static void pkt_tx_commit(struct nomnet_drv *d, unsigned len)
{
	struct pkt *p = d->priv;
	struct tpacket3_hdr *h = tx_frame(p, p->tx_head);

	h->tp_len = len;
	h->tp_snaplen = len;
	h->tp_next_offset = 0;
	__atomic_store_n(&h->tp_status, TP_STATUS_SEND_REQUEST, __ATOMIC_RELEASE);
	p->tx_head = (p->tx_head + 1) % p->tx_frames;
	p->tx_queued++;
}

static int pkt_tx_flush(struct nomnet_drv *d)
{
	struct pkt *p = d->priv;

	if (p->tx_queued == 0)
		return 0;
	p->tx_queued = 0;
	for (;;) {
		if (send(p->fd, NULL, 0, MSG_DONTWAIT) >= 0)
			return 0;
		if (errno == EINTR)
			continue;
		if (errno == EAGAIN || errno == ENOBUFS)
			return 0; /* the kernel keeps the requests; the next send takes them */
		return -errno;
	}
}

const struct nomnet_driver nomnet__drv_packet = {
	.api_version = NOMNET_DRIVER_VERSION,
	.size = sizeof(struct nomnet_driver),
	.name = "packet",
	.open = pkt_open,
	.close = pkt_close,
	.rx_burst = pkt_rx_burst,
	.rx_release = pkt_rx_release,
	.rx_pending = pkt_rx_pending,
	.tx_slot = pkt_tx_slot,
	.tx_commit = pkt_tx_commit,
	.tx_flush = pkt_tx_flush,
	.arm = NULL,
};
