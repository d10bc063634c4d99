/* market_peer.h: a scripted stand-in for the market's host API, for the host agent's
 * integration tests until they run against raas-marketd.
 *
 * A real ZeroMQ ROUTER with CURVE through common/transport.h (key pairs generated per test,
 * key files written for the agent, a ZAP handler that admits only the agent's key as
 * "host:nshost"), speaking raas.proto: it answers HostRegister and Heartbeat with a Reply, records
 * AllocationAcks and MeterReports, and sends AllocationSets when the test says (the latest
 * one again to an agent that registers, as the market does). It can be
 * closed and bound again on the same port to play a market that dies and comes back. */
#ifndef HOSTAGENT_TESTS_MARKET_PEER_H
#define HOSTAGENT_TESTS_MARKET_PEER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "agent_util.h" /* struct alloc, set_bytes() */
#include "raas.pb-c.h"

struct mp;

enum mp_event {
	MP_NONE,
	MP_REGISTER,
	MP_HEARTBEAT,
	MP_ACK,
	MP_METERS,
	MP_OTHER,
};

/* Binds tcp://127.0.0.1:port (0: a free port) with fresh CURVE keys, and writes
 * market.pub/.key and agent.pub/.key into keydir. */
struct mp *mp_create(int port, const char *keydir);
void mp_destroy(struct mp *m);
/* Closes the socket (the market "dies"); mp_restart binds the same port again. */
void mp_stop(struct mp *m);
void mp_restart(struct mp *m);
int mp_port(const struct mp *m);

/* Handles one message within timeout_ms; returns what it was (MP_NONE on timeout). */
enum mp_event mp_poll(struct mp *m, int timeout_ms);
/* Polls until an event of this kind arrives; false on timeout. */
bool mp_wait(struct mp *m, enum mp_event kind, int timeout_ms);
/* Sends an AllocationSet for host to the last registered agent. */
void mp_send_set(struct mp *m, uint64_t round, const char *host, const struct alloc *al,
		 size_t n);

/* What was received last (owned by the peer; valid until the next one of its kind). */
const Raas__HostRegister *mp_last_register(const struct mp *m);
const Raas__AllocationAck *mp_last_ack(const struct mp *m);
const Raas__MeterReport *mp_last_meters(const struct mp *m);
int mp_registrations(const struct mp *m);
/* The meter of a tenant in the last report, or -1. */
int64_t mp_tx_bytes(const struct mp *m, const char *tenant);

#endif
