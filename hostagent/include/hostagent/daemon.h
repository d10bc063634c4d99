/* daemon.h: raas-hostagentd's connection to the market: register, heartbeat, apply, meter.
 *
 * One ZeroMQ DEALER socket with CURVE to the market's host API (a ROUTER), through
 * common/transport.h. The agent sends HostRegister (capacity and what it already enforces),
 * again every 200 ms until the market answers with a Reply (or any message);
 * then it heartbeats every [agent] heartbeat, applies each AllocationSet through the core
 * (agent.h), answers with an AllocationAck and a MeterReport, and sends a MeterReport every
 * [agent] meter_interval besides. Any message from the market proves it alive; after
 * [agent] market_timeout of silence the market counts as unreachable: the agent keeps
 * enforcing what it enforces (fail-static), drops the socket and registers again after a
 * backoff that doubles from reconnect_min to reconnect_max. */
#ifndef HOSTAGENT_DAEMON_H
#define HOSTAGENT_DAEMON_H

#include <signal.h>

#include "hostagent/agent.h"
#include "hostagent/agent_config.h"

/* Runs the agent until *stop becomes non-zero (a signal handler sets it). conf is borrowed.
 * Returns 0 on a requested stop, or a negative errno when the agent cannot start (why
 * says what: a backend, a key file, the socket). Enforcement is left in force on exit. A
 * market that refuses this host's key is logged as such and retried with backoff. */
int ha_daemon_run(const struct ha_config *conf, volatile sig_atomic_t *stop, char *why,
		  size_t why_len);

#endif
