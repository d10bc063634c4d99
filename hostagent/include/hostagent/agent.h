/* agent.h: the host agent's core: enforced state, reconciliation, acks and meters.
 *
 * The core is the part of raas-hostagentd that knows no sockets: it opens the backends the
 * config names, probes them, reads back what is already enforced, and turns each
 * AllocationSet from the market into backend calls (planned by plan.h: stable placement,
 * shrink before grow, only what changed), rolling a resource back to what was in force when
 * one of its changes fails, and it writes the envelopes the agent sends (HostRegister with
 * capacity and the read-back state, Heartbeat, AllocationAck, MeterReport). The daemon
 * (daemon.h) moves those bytes over ZeroMQ; tests and the fuzz target call the core directly.
 *
 * Messages in and out are whole encoded raas.Envelope payloads (common/wire.h). */
#ifndef HOSTAGENT_AGENT_H
#define HOSTAGENT_AGENT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "common/clock.h"
#include "common/prom.h"
#include "common/wire.h"
#include "hostagent/agent_config.h"
#include "hostagent/enf.h"

struct ha_agent;

/* Opens every configured backend, probes each resource (a resource whose probe fails is
 * reported unavailable, never fatal) and reads back what is enforced for every tenant.
 * conf and clock are borrowed and must outlive the agent. On failure (a backend cannot be
 * opened at all) returns a negative errno with why filled. */
int ha_agent_create(const struct ha_config *conf, const struct clk *clock, struct ha_agent **out,
		    char *why, size_t why_len);
void ha_agent_destroy(struct ha_agent *a);

/* What the last received payload was. */
enum ha_msg_kind {
	HA_MSG_INVALID,        /* did not decode (logged; nothing applied) */
	HA_MSG_ALLOCATION_SET, /* applied (or refused): *reply holds the ack */
	HA_MSG_REPLY,          /* the market answered a register or heartbeat */
	HA_MSG_OTHER,          /* another body: ignored */
};

/* Handles one payload from the market. For an AllocationSet it enforces the set and returns
 * the AllocationAck envelope in *reply (malloc'd, the caller frees; request id
 * request_id). A Reply carrying an error sets *reply_error to its code. Never fails on bad
 * input: it is logged and *kind says HA_MSG_INVALID. Returns 0 or -ENOMEM. */
int ha_agent_receive(struct ha_agent *a, const void *buf, size_t len, uint64_t request_id,
		     enum ha_msg_kind *kind, int *reply_error, uint8_t **reply, size_t *reply_len);

/* The same for an envelope already decoded (by tp_recv()); e is borrowed. */
int ha_agent_handle(struct ha_agent *a, const Raas__Envelope *e, uint64_t request_id,
		    enum ha_msg_kind *kind, int *reply_error, uint8_t **reply, size_t *reply_len);

/* Envelopes the agent sends; each malloc'd into *buf (the caller frees). 0 or -ENOMEM. */
int ha_agent_register_msg(struct ha_agent *a, uint64_t request_id, uint8_t **buf, size_t *len);
int ha_agent_heartbeat_msg(struct ha_agent *a, uint64_t request_id, uint8_t **buf, size_t *len);
/* Reads every tenant's meters now (monotonic since the agent started). */
int ha_agent_meter_msg(struct ha_agent *a, uint64_t request_id, uint8_t **buf, size_t *len);

/* Whether res can be enforced here; *reason (borrowed) says why not. */
bool ha_agent_available(const struct ha_agent *a, enum enf_resource res, const char **reason);
/* What the agent holds as enforced for tenant index i: 0, or -ENOENT when nothing known. */
int ha_agent_enforced(const struct ha_agent *a, size_t tenant, enum enf_resource res,
		      struct enf_setting *out);
/* The highest round applied completely (0: none). */
uint64_t ha_agent_last_round(const struct ha_agent *a);

/* What the agent did since the last call (the daemon's info line per round_log). */
struct ha_agent_stats {
	uint64_t sets;           /* allocation sets applied */
	uint64_t sets_failed;    /* of which with failures */
	uint64_t allocations;
	uint64_t failures;
	int64_t apply_ns, apply_max_ns;
	uint64_t last_round;
};
void ha_agent_take_stats(struct ha_agent *a, struct ha_agent_stats *out);
/* Totals since the daemon started, for /metrics (hostagent/metrics.h). The daemon owns them
 * so that they outlive a reload's new agent; NULL (the default) keeps none. */
struct ha_totals {
	uint64_t sets, sets_failed, allocations;
	uint64_t failures[ENF_RES_MAX + 1]; /* by resource (0: the set as a whole) */
	uint64_t last_round;
	struct prom_hist apply;             /* apply latency per allocation set */
};
void ha_totals_init(struct ha_totals *t);
void ha_agent_set_totals(struct ha_agent *a, struct ha_totals *t);
/* The meters last reported for tenant index i (monotonic): 0, or -EINVAL past the end. */
int ha_agent_reported_meters(const struct ha_agent *a, size_t i, uint64_t *tx_bytes,
			     uint64_t *cpu_ns);
/* Removes what the agent enforces for tenant (every available resource): a tenant dropped
 * from the config by a reload. 0, -ENOENT for a tenant it does not know, or the first
 * backend error (why says which). */
int ha_agent_revert_tenant(struct ha_agent *a, const char *tenant, char *why, size_t why_len);
/* The backend handle enforcing res, or NULL. Borrowed. */
/* Tenant's VM is not running (crashed, destroyed, powered off, failed to boot): from now on
 * the registration leaves it out (the market stops clearing its bids here), an allocation
 * of it is reported failed with reason (so credited, never charged) and nothing is applied
 * for it; what it held is removed (ha_agent_revert_tenant). Call ha_agent_register_msg and
 * send it. 0, -ENOENT for an unknown tenant, or the revert's error (why). */
int ha_agent_tenant_down(struct ha_agent *a, const char *tenant, const char *reason,
			 char *why, size_t why_len);
/* Its VM runs again: it is listed and enforced from the next registration on. */
int ha_agent_tenant_up(struct ha_agent *a, const char *tenant);
bool ha_agent_tenant_is_down(const struct ha_agent *a, const char *tenant);

struct enf_handle *ha_agent_backend(struct ha_agent *a, enum enf_resource res);

/* Asserts the design-notes invariants of agent.c; 0, or -EFAULT with why naming the first
 * one broken. */
int ha_agent_check(const struct ha_agent *a, char *why, size_t why_len);

#endif
