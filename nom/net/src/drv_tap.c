/* drv_tap.c: the `tap` driver: frames through a TAP device (/dev/net/tun, IFF_TAP|IFF_NO_PI).
 *
 * The simplest driver and the one that needs no veth: the kernel sees the app's stack as a
 * host on the other end of the tap interface (give the tap interface an address, route to the
 * app's address through it). A tap moves one frame per read() or write(), so batching here
 * saves lock acquisitions and wakeups, not system calls; the packet and xdp drivers are the
 * ones whose flush is one system call for a whole batch.
 *
 * Written here on purpose instead of lwIP's contrib tapif, which corrupts the heap on
 * full-size segments in Debian's build (DESIGN.md section 13). */
#include <errno.h>
#include <fcntl.h>
#include <linux/if_tun.h>
#include <net/if.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <unistd.h>

#include "common/log.h"
#include "driver.h"

#define TAP_BUF 2048
#define TAP_RING_DEFAULT 256

struct tap {
	int fd;
	/* Receive: frames read in the last burst, plus one read ahead by rx_pending. */
	uint8_t *rx_buf[NOMNET_BATCH_MAX + 1];
	uint32_t rx_len[NOMNET_BATCH_MAX + 1];
	bool ahead;              /* rx_buf[NOMNET_BATCH_MAX] holds a frame read ahead */
	/* Transmit: committed frames not yet written. */
	unsigned tx_size;
	unsigned tx_count;
	uint8_t *tx_buf;         /* tx_size slots of TAP_BUF bytes */
	uint32_t *tx_len;
};

static void tap_close(struct nomnet_drv *d)
{
	struct tap *t = d->priv;

	if (!t)
		return;
	if (t->fd >= 0)
		close(t->fd);
	for (int i = 0; i <= NOMNET_BATCH_MAX; i++)
		free(t->rx_buf[i]);
	free(t->tx_buf);
	free(t->tx_len);
	free(t);
	d->priv = NULL;
}

static int tap_open(struct nomnet_drv *d, const struct nomnet_config *cfg)
{
	struct ifreq ifr;
	struct tap *t;
	int rc;

	t = calloc(1, sizeof(*t));
	if (!t)
		return -ENOMEM;
	d->priv = t;
	t->fd = -1;
	t->tx_size = cfg->ring_size ? cfg->ring_size : TAP_RING_DEFAULT;
	for (int i = 0; i <= NOMNET_BATCH_MAX; i++) {
		t->rx_buf[i] = malloc(TAP_BUF);
		if (!t->rx_buf[i])
			goto nomem;
	}
	t->tx_buf = malloc((size_t)t->tx_size * TAP_BUF);
	t->tx_len = calloc(t->tx_size, sizeof(*t->tx_len));
	if (!t->tx_buf || !t->tx_len)
		goto nomem;

	t->fd = open("/dev/net/tun", O_RDWR | O_NONBLOCK | O_CLOEXEC);
	if (t->fd < 0) {
		rc = -errno;
		log_error("nomnet: tap: /dev/net/tun: %s", strerror(errno));
		goto fail;
	}
	memset(&ifr, 0, sizeof(ifr));
	ifr.ifr_flags = IFF_TAP | IFF_NO_PI;
	if (cfg->ifname) {
		if (strlen(cfg->ifname) >= IF_NAMESIZE) {
			rc = -EINVAL;
			goto fail;
		}
		strncpy(ifr.ifr_name, cfg->ifname, IF_NAMESIZE - 1);
	}
	if (ioctl(t->fd, TUNSETIFF, &ifr) < 0) {
		rc = -errno;
		log_error("nomnet: tap: TUNSETIFF %s: %s", cfg->ifname ? cfg->ifname : "",
			  strerror(errno));
		goto fail;
	}
	memcpy(d->ifname, ifr.ifr_name, IF_NAMESIZE);
	d->ifname[IF_NAMESIZE - 1] = '\0';
	rc = nomnet__if_up(d->ifname);
	if (rc < 0) {
		log_error("nomnet: tap: cannot bring %s up: %s", d->ifname, strerror(-rc));
		goto fail;
	}
	if (nomnet__if_mtu(d->ifname, &d->mtu) < 0)
		d->mtu = 1500;
	/* The kernel side has its own address; the stack behind the tap needs another. */
	nomnet__mac_random(d->mac);
	d->fd = t->fd;
	return 0;
nomem:
	rc = -ENOMEM;
fail:
	tap_close(d);
	return rc;
}

static int tap_read(struct tap *t, unsigned slot)
{
	ssize_t r = read(t->fd, t->rx_buf[slot], TAP_BUF);

	if (r < 0)
		return errno == EAGAIN || errno == EINTR ? 0 : -errno;
	t->rx_len[slot] = (uint32_t)r;
	return r > 0;
}

static int tap_rx_burst(struct nomnet_drv *d, struct nomnet_frame *frames, unsigned max)
{
	struct tap *t = d->priv;
	unsigned n = 0;

	if (t->ahead) {
		/* Swap the read-ahead buffer into slot 0. */
		uint8_t *b = t->rx_buf[0];

		t->rx_buf[0] = t->rx_buf[NOMNET_BATCH_MAX];
		t->rx_len[0] = t->rx_len[NOMNET_BATCH_MAX];
		t->rx_buf[NOMNET_BATCH_MAX] = b;
		t->ahead = false;
		n = 1;
	}
	while (n < max) {
		int rc = tap_read(t, n);

		if (rc < 0)
			return n ? (int)n : rc;
		if (rc == 0)
			break;
		n++;
	}
	for (unsigned i = 0; i < n; i++) {
		frames[i].data = t->rx_buf[i];
		frames[i].len = t->rx_len[i];
	}
	return (int)n;
}

static void tap_rx_release(struct nomnet_drv *d, unsigned n)
{
	(void)d;
	(void)n;
}

static bool tap_rx_pending(struct nomnet_drv *d)
{
	struct tap *t = d->priv;

	if (!t->ahead && tap_read(t, NOMNET_BATCH_MAX) > 0)
		t->ahead = true;
	return t->ahead;
}

static void *tap_tx_slot(struct nomnet_drv *d, unsigned len)
{
	struct tap *t = d->priv;

	if (t->tx_count >= t->tx_size || len > TAP_BUF)
		return NULL;
	return t->tx_buf + (size_t)t->tx_count * TAP_BUF;
}

static void tap_tx_commit(struct nomnet_drv *d, unsigned len)
{
	struct tap *t = d->priv;

	t->tx_len[t->tx_count++] = len;
}

static int tap_tx_flush(struct nomnet_drv *d)
{
	struct tap *t = d->priv;
	int rc = 0;

	for (unsigned i = 0; i < t->tx_count; i++) {
		ssize_t w = write(t->fd, t->tx_buf + (size_t)i * TAP_BUF, t->tx_len[i]);

		if (w < 0 && rc == 0)
			rc = -errno;
	}
	t->tx_count = 0;
	return rc;
}

const struct nomnet_driver nomnet__drv_tap = {
	.api_version = NOMNET_DRIVER_VERSION,
	.size = sizeof(struct nomnet_driver),
	.name = "tap",
	.open = tap_open,
	.close = tap_close,
	.rx_burst = tap_rx_burst,
	.rx_release = tap_rx_release,
	.rx_pending = tap_rx_pending,
	.tx_slot = tap_tx_slot,
	.tx_commit = tap_tx_commit,
	.tx_flush = tap_tx_flush,
	.arm = NULL,
};
