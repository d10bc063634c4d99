/* drv_mem.h: the test interface of the in-memory `mem` driver (drv_mem.c).
 *
 * Only tests include this: they inject frames and take what the stack sent, with the time and
 * number of the flush that sent each frame. All calls act on the process's current stack and
 * fail with -ENODEV when it does not run the mem driver. */
#ifndef NOMNET_DRV_MEM_H
#define NOMNET_DRV_MEM_H

#include <stddef.h>
#include <stdint.h>

struct nomnet_mem_sent {
	int64_t flush_ns; /* monotonic time the frame's batch was flushed */
	uint64_t batch;   /* the flush's number, from 1 */
};

/* Queues a frame (copied) as received from the wire. Returns 0, -ENOBUFS, -EMSGSIZE. */
int nomnet__mem_inject(const void *frame, size_t len);
/* Takes the oldest transmitted frame into buf. Returns its length (0: none yet) or -errno. */
int nomnet__mem_take(void *buf, size_t cap, struct nomnet_mem_sent *info);
/* Flushes so far. */
uint64_t nomnet__mem_flushes(void);

#endif
