/* np_proto.h: the receiver side of NetPIPE 3.7's TCP module (NPtcp), as a state machine.
 *
 * NetPIPE has no message framing: both ends compute the same schedule of message sizes from
 * the same options (-l start, -p perturbation) and exchange, in order (learned from NPtcp
 * 3.7.2 on the wire):
 *   Sync                       each side writes "SyncMe" then reads 6 bytes
 *   100 x ping-pong of -l bytes (default 1), the latency estimate
 *   Sync
 *   for each size n:  Sync; the repeat count (4 bytes, network order);
 *                     3 trials of { Sync; repeat x (receive n bytes, send them back) }
 * The transmitter ends with "QUIT\0" where a Sync would come (it stops when its own upper
 * bound or time limit is reached), and reads 5 bytes back. The schedule: len starts at -l
 * (default 1) with step 1 (or start/2), the step doubling every second size from the fourth;
 * sizes len - p, len, len + p once the step exceeds p + 1 (-p, default 3), else len alone.
 *
 * np_process() consumes bytes and queues replies; a message is sent back only once all of it
 * has arrived, as NPtcp's receiver does, so that nom and Linux are measured the same way.
 * Only the default ping-pong mode is implemented (NPtcp -s streaming and -2 bidirectional
 * modes are refused by the transmitter's options, not detectable here). */
#ifndef NP_PROTO_H
#define NP_PROTO_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "app/buf.h"

#define NP_LATENCY_REPS 100
#define NP_TRIALS 3
#define NP_MAX_MESSAGE (64u << 20)

/* The message-size schedule. */
struct np_sched {
	uint64_t len, inc, nq;
	int64_t pert, pert_step, pert_end;
	unsigned perturbation;
	bool in_sizes;
};

void np_sched_init(struct np_sched *s, uint64_t start, unsigned perturbation);
/* The next message size. */
uint64_t np_sched_next(struct np_sched *s);

enum np_state { NP_SYNC, NP_LATENCY, NP_REPEAT, NP_DATA, NP_DONE, NP_ERROR };

struct np_conn {
	struct np_sched sched;
	enum np_state state;
	int after_sync;          /* what follows the pending Sync (internal step number) */
	uint8_t hdr[8];
	size_t hlen;
	uint64_t size;           /* current message size */
	uint64_t nrepeat, left;  /* messages per trial, messages left in this trial */
	unsigned trial;
	unsigned lat_left;
	uint64_t lat_size;       /* the latency ping-pong's message: the first size, -l */
	struct buf msg;          /* the message being received */
	struct buf out;          /* replies */
	uint64_t messages;       /* ping-pongs completed */
	char error[96];
};

void np_conn_init(struct np_conn *c, uint64_t start, unsigned perturbation);
void np_conn_fini(struct np_conn *c);
/* Consumes bytes (all of them unless done or in error); replies go to c->out. After NP_DONE
 * or NP_ERROR the caller closes (c->error says why for the latter). */
size_t np_process(struct np_conn *c, const uint8_t *data, size_t len);

#endif
