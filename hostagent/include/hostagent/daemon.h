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
 * backoff that doubles from reconnect_min to reconnect_max. When it registers again the
 * market takes what it enforces as what it kept in force through the rounds it missed. */
#ifndef HOSTAGENT_DAEMON_H
#define HOSTAGENT_DAEMON_H

#include <stddef.h>

#include "common/daemon.h"
#include "hostagent/agent.h"
#include "hostagent/agent_config.h"

/* Re-reads the config (SIGHUP): a new, checked config in *out (the caller of
 * ha_daemon_run owns how), or a negative error with why ("FILE:LINE: key: why"). */
typedef int (*ha_config_loader)(void *arg, struct ha_config **out, char *why, size_t why_len);

/* Runs the agent until SIGTERM or SIGINT (the daemon skeleton's signal pipe, which the
 * caller set up with dmn_signals_init). Takes conf (destroyed before returning). On SIGHUP
 * it calls load, checks the new config (the host name may not change; every backend must
 * open), removes what it enforced for tenants the new config dropped, keeps what the others
 * hold, and registers again with the new capacity and tenant list; a config that fails any
 * of this is refused with why and the running one stays in force. Writes args' ready file
 * once the backends are open ("host=", "market=" and the pid). Returns 0 on a requested
 * stop, or a negative errno when the agent cannot start (why says what: a backend, a key
 * file, the socket). Enforcement is left in force on exit. The tenants' VMs of the config
 * ([tenant.NAME] vm_*, hostagent/vms.h) are booted before the first registration, polled
 * every 250 ms (one that stops: its tenant is reported down, ha_agent_tenant_down, and the
 * agent registers again without it), brought to the new config on SIGHUP, and stopped and
 * undefined on exit. A market that refuses this
 * host's key is logged as such and retried with backoff. */
int ha_daemon_run(struct ha_config *conf, ha_config_loader load, void *load_arg,
		  const struct dmn_args *args, char *why, size_t why_len);

#endif
