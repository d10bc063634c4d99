/* daemon.h: raas-hostagentd's connection to the market: register, heartbeat, apply, meter.
 *
 * One ZeroMQ DEALER socket with CURVE to the market's host API (a ROUTER). The agent sends
 * HostRegister (capacity and what it already enforces) and waits for the market's Reply;
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

/* Reads a CURVE key file: the first 40-character Z85 token (a bare key, or a zcert-style
 * `public-key = "..."` line). out gets 41 bytes (NUL-terminated). Returns 0, -errno, or
 * -RAAS_EPARSE with why filled. */
int ha_load_key(const char *path, char out[41], char *why, size_t why_len);

/* Runs the agent until *stop becomes non-zero (a signal handler sets it). conf is borrowed.
 * Returns 0 on a requested stop, or a negative errno when the agent cannot start (why
 * says what: a backend, a key file, the socket). Enforcement is left in force on exit. */
int ha_daemon_run(const struct ha_config *conf, volatile sig_atomic_t *stop, char *why,
		  size_t why_len);

#endif
