/* hosts.c: answering the host API: register, heartbeat, allocation acks, meter reports.
 *
 * A host agent registers its capacity: each (host, resource) becomes a pool whose supply is
 * what the host can enforce, cleared by the resource's configured model, and recorded in
 * the ledger. After registering (a restarted agent included) the host is sent the allocation
 * set of the last round at once, so it can reconcile what it enforces with what the market
 * sold. Meter readings are cumulative per tenant, so a report lost in a crash costs nothing:
 * the next report carries the bytes, and the round close bills the difference. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/error.h"
#include "common/log.h"
#include "market_internal.h"

static void reply_ok(struct market *m, struct mkt_host *h, const struct tp_route *route,
		     uint64_t request_id, struct market_outbox *out, bool hello)
{
	Raas__Envelope e;
	Raas__Reply r = RAAS__REPLY__INIT;
	Raas__HelloReply hr = RAAS__HELLO_REPLY__INIT;

	if (request_id == 0)
		return;
	wire_envelope_init(&e, request_id);
	if (hello) {
		hr.host = h->row.name;
		hr.round_ns = m->cfg->round_ns;
		hr.round = m->open_round - 1;
		hr.next_round_wall_ns = m->next_close_wall_ns;
		hr.server = MARKET_SERVER_NAME;
		r.result_case = RAAS__REPLY__RESULT_HELLO;
		r.hello = &hr;
	}
	e.body_case = RAAS__ENVELOPE__BODY_REPLY;
	e.reply = &r;
	market__push_env(out, MARKET_TO_HOST, route, NULL, &e, true, 0);
}

/* Creates or updates the pool of (host, resource) with supply. */
static int register_pool(struct market *m, const char *host, int resource, int64_t supply)
{
	struct mkt_pool *p = market__pool(m, host, resource);
	const struct mcfg_model *model = mcfg_model_for(m->cfg, resource);
	struct ledger_pool row;
	int err;

	if (p && p->row.supply == supply)
		return 0;
	if (p) {
		row = p->row;
		row.supply = supply;
	} else {
		memset(&row, 0, sizeof(row));
		snprintf(row.host, sizeof(row.host), "%s", host);
		row.resource = resource;
		row.supply = supply;
		snprintf(row.model, sizeof(row.model), "%s", model->model);
		snprintf(row.params, sizeof(row.params), "%s", model->params);
	}
	if ((err = ledger_pool_put(m->ledger, &row)) != 0)
		return err;
	if (p) {
		p->row.supply = supply;
		return 0;
	}
	log_info("market: host %s registers %lld %s (model %s)", host, (long long)supply,
		 wire_resource_unit(resource), row.model);
	return market__pool_add(m, &row, NULL);
}

static void do_register(struct market *m, struct mkt_host *h, const struct tp_route *route,
			const Raas__Envelope *env, struct market_outbox *out)
{
	const Raas__HostRegister *reg = env->host_register;
	char msg[256];
	int err = 0;

	for (size_t i = 0; i < reg->n_capacity && !err; i++) {
		const Raas__Capacity *c = reg->capacity[i];
		if (c->resource == RAAS__RESOURCE__RESOURCE_EGRESS)
			continue; /* metered, never allocated */
		if (c->resource < RAAS__RESOURCE__RESOURCE_CORES ||
		    c->resource > RAAS__RESOURCE__RESOURCE_LLC || c->quantity < 0 ||
		    c->quantity > MARKET_QUANTITY_MAX) {
			snprintf(msg, sizeof(msg),
				 "host_register.capacity[%zu]: resource %d, quantity %lld: not an "
				 "allocatable resource with 0..%lld units",
				 i, (int)c->resource, (long long)c->quantity,
				 (long long)MARKET_QUANTITY_MAX);
			m->stats.errors++;
			market__push_error(out, MARKET_TO_HOST, route, env->request_id,
					   RAAS__ERROR_CODE__ERROR_MALFORMED, msg);
			return;
		}
		if (!c->available)
			log_warn("market: host %s cannot enforce %s: %s", h->row.name,
				 wire_resource_name(c->resource), c->reason ? c->reason : "?");
		err = register_pool(m, h->row.name, c->resource, c->available ? c->quantity : 0);
	}
	/* Egress is billed on every host when the config prices it. */
	if (!err && m->cfg->resources[RAAS__RESOURCE__RESOURCE_EGRESS].set)
		err = register_pool(m, h->row.name, RAAS__RESOURCE__RESOURCE_EGRESS, 0);
	if (err) {
		m->stats.errors++;
		market__push_error(out, MARKET_TO_HOST, route, env->request_id,
				   RAAS__ERROR_CODE__ERROR_UNAVAILABLE,
				   "the ledger could not record the registration; retry");
		return;
	}
	h->route = *route;
	h->connected = true;
	reply_ok(m, h, route, env->request_id, out, true);
	/* Reconcile: what the market sold on this host in the last round. */
	market__push_allocation_set(m, h, out);
}

static void do_ack(struct market *m, struct mkt_host *h, const struct tp_route *route,
		   const Raas__Envelope *env, struct market_outbox *out)
{
	const Raas__AllocationAck *ack = env->allocation_ack;
	char failures[2048] = "";
	size_t used = 0;

	for (size_t i = 0; i < ack->n_failures && used < sizeof(failures) - 1; i++) {
		const Raas__ApplyFailure *f = ack->failures[i];
		int n = snprintf(failures + used, sizeof(failures) - used, "%s%s/%s: %s (%d)",
				 i ? "; " : "", f->tenant ? f->tenant : "?",
				 wire_resource_name(f->resource), f->message ? f->message : "",
				 f->errno_value);
		if (n < 0)
			break;
		used += (size_t)n < sizeof(failures) - used ? (size_t)n : sizeof(failures) - used - 1;
	}
	if (!ack->complete)
		log_warn("market: host %s could not apply all of round %llu: %s", h->row.name,
			 (unsigned long long)ack->round, failures);
	if (ledger_host_ack_put(m->ledger, ack->round, h->row.name, ack->complete, failures)) {
		market__push_error(out, MARKET_TO_HOST, route, env->request_id,
				   RAAS__ERROR_CODE__ERROR_UNAVAILABLE, "ledger busy; retry");
		return;
	}
	if (ack->round > h->acked_round)
		h->acked_round = ack->round;
	reply_ok(m, h, route, env->request_id, out, false);
}

static void do_meters(struct market *m, struct mkt_host *h, const struct tp_route *route,
		      const Raas__Envelope *env, struct market_outbox *out)
{
	const Raas__MeterReport *rep = env->meters;
	char unknown[256] = "";

	for (size_t i = 0; i < rep->n_meters; i++) {
		const Raas__Meter *mt = rep->meters[i];
		struct mkt_tenant *t = mt->tenant ? market__tenant(m, mt->tenant) : NULL;
		if (!t) {
			if (!unknown[0])
				snprintf(unknown, sizeof(unknown), "%.64s",
					 mt->tenant ? mt->tenant : "");
			continue;
		}
		struct mkt_meter *rec = market__meter(m, h->row.name, t->row.id, true);
		if (!rec)
			continue;
		rec->pending = mt->tx_bytes;
		rec->has_pending = true;
	}
	if (unknown[0]) {
		char msg[384];
		snprintf(msg, sizeof(msg),
			 "meters.meters: tenant \"%s\" is unknown; its reading was ignored (the "
			 "others were taken)",
			 unknown);
		m->stats.errors++;
		market__push_error(out, MARKET_TO_HOST, route, env->request_id,
				   RAAS__ERROR_CODE__ERROR_NOT_FOUND, msg);
		return;
	}
	reply_ok(m, h, route, env->request_id, out, false);
}

void market_host_request(struct market *m, const char *identity, const struct tp_route *route,
			 const Raas__Envelope *env, struct market_outbox *out)
{
	struct mkt_host *h = NULL;
	char msg[256];

	m->stats.requests++;
	if (strncmp(identity, "host:", 5) == 0)
		h = market__host(m, identity + 5);
	if (!h) {
		m->stats.errors++;
		snprintf(msg, sizeof(msg), "\"%.64s\" is not a host of this market", identity);
		market__push_error(out, MARKET_TO_HOST, route, env->request_id,
				   RAAS__ERROR_CODE__ERROR_DENIED, msg);
		return;
	}
	h->last_seen_wall_ns = clk_wall(m->clock);
	switch (env->body_case) {
	case RAAS__ENVELOPE__BODY_HOST_REGISTER:
		do_register(m, h, route, env, out);
		return;
	case RAAS__ENVELOPE__BODY_HEARTBEAT:
		h->route = *route;
		h->connected = true;
		reply_ok(m, h, route, env->request_id, out, false);
		return;
	case RAAS__ENVELOPE__BODY_ALLOCATION_ACK:
		do_ack(m, h, route, env, out);
		return;
	case RAAS__ENVELOPE__BODY_METERS:
		do_meters(m, h, route, env, out);
		return;
	default:
		m->stats.errors++;
		snprintf(msg, sizeof(msg),
			 "a host may not send \"%s\" (host API: host_register, heartbeat, "
			 "allocation_ack, meters)",
			 wire_body_name(env));
		market__push_error(out, MARKET_TO_HOST, route, env->request_id,
				   RAAS__ERROR_CODE__ERROR_DENIED, msg);
		return;
	}
}
