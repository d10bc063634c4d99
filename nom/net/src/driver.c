/* driver.c: the driver registry and the wrappers through which the loop calls drivers.
 *
 * The wrappers check what a driver returns (counts within bounds, frames within the MTU) so
 * that a driver bug shows up as a logged error and a dropped frame, not as memory corruption
 * in lwIP. */
#include <errno.h>
#include <stddef.h>
#include <string.h>

#include "common/log.h"
#include "driver.h"

static const struct plugin_hdr *const drivers[] = {
	&nomnet__drv_tap.plugin,
	&nomnet__drv_packet.plugin,
	&nomnet__drv_xdp.plugin,
	&nomnet__drv_mem.plugin,
};

static int driver_check(const struct plugin_hdr *h)
{
	const struct nomnet_driver *ops = PLUGIN_OF(struct nomnet_driver, h);

	if (!ops->open || !ops->close || !ops->rx_burst || !ops->rx_release ||
	    !ops->rx_pending || !ops->tx_slot || !ops->tx_commit || !ops->tx_flush)
		return -EINVAL;
	return 0;
}

/* The built-in drivers; none registers at run time. The first release ended at tx_flush:
 * arm and tx_stalled are optional and read only when a driver's size covers them. */
static const struct plugin_registry registry = {
	.kind = "nomnet driver",
	.api_version = NOMNET_DRIVER_VERSION,
	.min_size = offsetof(struct nomnet_driver, arm),
	.builtin = drivers,
	.nbuiltin = sizeof(drivers) / sizeof(drivers[0]),
	.check = driver_check,
};

const struct nomnet_driver *nomnet__driver_find(const char *name)
{
	return PLUGIN_OF(struct nomnet_driver, plugin_find(&registry, name));
}

int nomnet__drv_open(struct nomnet_drv *d, const struct nomnet_driver *ops,
		     const struct nomnet_config *cfg)
{
	int rc;

	if (!ops || plugin_check(&registry, &ops->plugin) != 0) {
		log_error("nomnet: driver %s: incomplete or wrong version",
			  ops && ops->name ? ops->name : "?");
		return -EINVAL;
	}
	memset(d, 0, sizeof(*d));
	d->ops = ops;
	d->fd = -1;
	d->mtu = 1500;
	rc = ops->open(d, cfg);
	if (rc < 0) {
		d->ops = NULL;
		return rc;
	}
	if (d->mtu < 576 || d->mtu > 1500) {
		log_warn("nomnet: %s: MTU %u clamped to 1500", d->ifname, d->mtu);
		d->mtu = 1500;
	}
	return 0;
}

void nomnet__drv_close(struct nomnet_drv *d)
{
	if (d->ops) {
		d->ops->close(d);
		d->ops = NULL;
	}
}

int nomnet__drv_rx_burst(struct nomnet_drv *d, struct nomnet_frame *frames, unsigned max)
{
	int got;

	if (max == 0)
		return 0;
	got = d->ops->rx_burst(d, frames, max);
	if (got > (int)max) {
		log_error("nomnet: driver %s lent %d frames for %u", d->ops->name, got, max);
		return -EPROTO;
	}
	return got;
}

void nomnet__drv_rx_release(struct nomnet_drv *d, unsigned n)
{
	if (n)
		d->ops->rx_release(d, n);
}

bool nomnet__drv_rx_pending(struct nomnet_drv *d)
{
	return d->ops->rx_pending(d);
}

void *nomnet__drv_tx_slot(struct nomnet_drv *d, unsigned len)
{
	if (len == 0 || len > NOMNET_FRAME_MAX)
		return NULL;
	return d->ops->tx_slot(d, len);
}

void nomnet__drv_tx_commit(struct nomnet_drv *d, unsigned len)
{
	d->ops->tx_commit(d, len);
}

int nomnet__drv_tx_flush(struct nomnet_drv *d)
{
	return d->ops->tx_flush(d);
}

void nomnet__drv_arm(struct nomnet_drv *d)
{
	if (PLUGIN_HAS(d->ops, arm))
		d->ops->arm(d);
}

bool nomnet__drv_tx_stalled(struct nomnet_drv *d)
{
	return PLUGIN_HAS(d->ops, tx_stalled) && d->ops->tx_stalled(d);
}
