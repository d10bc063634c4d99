/* driver.h: the netif driver plugin interface of nomnet (private to the library and its tests).
 *
 * A driver moves Ethernet frames between a kernel object (tap device, AF_PACKET ring, AF_XDP
 * socket, or an in-memory queue in tests) and the loop. It follows the project's plugin
 * template (common/plugin.h): a versioned, sized struct of function pointers registered by
 * name, called only through the nomnet__drv_* wrappers in driver.c, which check arguments
 * and results.
 *
 * Receive is zero-copy towards the loop: rx_burst lends frames that stay valid until
 * rx_release, and the loop copies them into PBUF_RAM pbufs. Transmit is two-step: tx_slot
 * lends room in the ring, tx_commit queues the frame written there (invisible to the kernel),
 * and tx_flush hands every queued frame to the kernel at once; that split is what lets the
 * loop batch transmits. All calls come from one thread at a time (the loop, or a thread
 * holding the transmit lock for the tx_* calls). */
#ifndef NOMNET_DRIVER_H
#define NOMNET_DRIVER_H

#include <net/if.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "common/plugin.h"
#include "nom/net.h"

#define NOMNET_DRIVER_VERSION 1
#define NOMNET_FRAME_MAX 1514 /* Ethernet header + 1500 bytes MTU */

/* A received frame lent by the driver. Drivers complete partial checksums before lending. */
struct nomnet_frame {
	const uint8_t *data;
	uint32_t len;
};

struct nomnet_drv {
	const struct nomnet_driver *ops;
	void *priv;              /* the driver's own state */
	uint8_t mac[6];          /* the interface's address (the driver fills it at open) */
	unsigned mtu;
	int fd;                  /* pollable for incoming frames; -1 when the driver has none */
	char ifname[IF_NAMESIZE];
};

struct nomnet_driver {
	/* api_version NOMNET_DRIVER_VERSION, size sizeof(struct nomnet_driver) the driver was
	 * built with, name "packet" (common/plugin.h) */
	PLUGIN_HEADER;
	/* Opens the device named by cfg (borrowed). Fills d->priv, mac, mtu, fd, ifname.
	 * Returns 0 or -errno; on failure nothing stays open. */
	int (*open)(struct nomnet_drv *d, const struct nomnet_config *cfg);
	void (*close)(struct nomnet_drv *d);
	/* Lends up to max received frames (max >= 1). Returns the count (0: none), or -errno. */
	int (*rx_burst)(struct nomnet_drv *d, struct nomnet_frame *frames, unsigned max);
	/* Gives back the n frames lent by the last rx_burst. */
	void (*rx_release)(struct nomnet_drv *d, unsigned n);
	/* Is a received frame waiting? Cheap; may say true spuriously, never false wrongly for
	 * long. */
	bool (*rx_pending)(struct nomnet_drv *d);
	/* Room for one frame of len bytes (len <= NOMNET_FRAME_MAX), or NULL when the ring is
	 * full (flush and retry). */
	void *(*tx_slot)(struct nomnet_drv *d, unsigned len);
	/* Queues the frame written into the last slot (len bytes). */
	void (*tx_commit)(struct nomnet_drv *d, unsigned len);
	/* Hands every queued frame to the kernel. Returns 0 or -errno (frames are dropped). */
	int (*tx_flush)(struct nomnet_drv *d);
	/* Optional: about to sleep in epoll on d->fd (e.g. ask the kernel for wakeups). */
	void (*arm)(struct nomnet_drv *d);
	/* Optional: frames flushed that the kernel has not taken yet (it was busy): the loop
	 * flushes again before it sleeps. */
	bool (*tx_stalled)(struct nomnet_drv *d);
};

/* The registered drivers, by name; NULL when unknown. */
const struct nomnet_driver *nomnet__driver_find(const char *name);

/* Wrappers: the loop calls drivers only through these. */
int nomnet__drv_open(struct nomnet_drv *d, const struct nomnet_driver *ops,
		     const struct nomnet_config *cfg);
void nomnet__drv_close(struct nomnet_drv *d);
int nomnet__drv_rx_burst(struct nomnet_drv *d, struct nomnet_frame *frames, unsigned max);
void nomnet__drv_rx_release(struct nomnet_drv *d, unsigned n);
bool nomnet__drv_rx_pending(struct nomnet_drv *d);
void *nomnet__drv_tx_slot(struct nomnet_drv *d, unsigned len);
void nomnet__drv_tx_commit(struct nomnet_drv *d, unsigned len);
int nomnet__drv_tx_flush(struct nomnet_drv *d);
void nomnet__drv_arm(struct nomnet_drv *d);
bool nomnet__drv_tx_stalled(struct nomnet_drv *d);

extern const struct nomnet_driver nomnet__drv_tap;
extern const struct nomnet_driver nomnet__drv_packet;
extern const struct nomnet_driver nomnet__drv_xdp;
extern const struct nomnet_driver nomnet__drv_mem;

/* Interface helpers (ifutil.c). */
int nomnet__if_index(const char *ifname, int *index);
int nomnet__if_mac(const char *ifname, uint8_t mac[6]);
int nomnet__if_mtu(const char *ifname, unsigned *mtu);
int nomnet__if_up(const char *ifname);
int nomnet__mac_parse(const char *text, uint8_t mac[6]);
void nomnet__mac_random(uint8_t mac[6]);

/* The Internet checksum (RFC 1071), the one copy: adds len bytes at p, big-endian 16-bit
 * words, to sum; fold gives the checksum field's value (0 over data that verifies). */
uint32_t nomnet__csum_add(const uint8_t *p, size_t len, uint32_t sum);
uint16_t nomnet__csum_fold(uint32_t sum);
/* Completes a partial L4 checksum (IPv4 TCP/UDP) in a frame the caller may write. */
void nomnet__csum_complete(uint8_t *frame, uint32_t len);

#endif
