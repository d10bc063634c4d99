/* hosts.c: answering the host API: register, heartbeat, allocation acks, meter reports.
 *
 * A host agent registers its capacity: each (host, resource) becomes a pool whose supply is
 * what the host can enforce, cleared by the resource's configured model, and recorded in
 * the ledger. After registering (a restarted agent included) the host is sent the allocation
 * set of the last round at once, so it can reconcile what it enforces with what the market
 * sold. Meter readings are cumulative per tenant, so a report lost in a crash costs nothing:
 * the next report carries the bytes, and the round close bills the difference.
 *
 * What the host says it enforces decides what is charged (settle.c): its acknowledgements,
 * and at registration the tenants it can map (bids of others are refused before a round
 * charges them) and what it kept enforcing while out of reach (the fail-static carry-over of
 * the rounds it missed). */
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

bool market__host_maps(const struct mkt_host *h, const char *tenant)
{
	return !h->tenants_listed || hmap_get_str(&h->tenants, tenant) != NULL;
}

void market__unmapped_reason(const struct mkt_host *h, const char *tenant, char *buf,
			     size_t len)
{
	snprintf(buf, len,
		 "host %s cannot enforce tenant %s: its agent has no [tenant.%s] section (add it "
		 "and reload the agent with SIGHUP)",
		 h->row.name, tenant, tenant);
}

void market__host_free(struct mkt_host *h)
{
	if (!h)
		return;
	hmap_fini(&h->tenants);
	free(h);
}

/* Takes the tenants the agent can map from its registration. */
static int take_tenants(struct mkt_host *h, const Raas__HostRegister *reg)
{
	hmap_fini(&h->tenants);
	hmap_init(&h->tenants);
	h->tenants_listed = reg->tenants_listed;
	for (size_t i = 0; i < reg->n_tenants; i++)
		if (reg->tenants[i] && hmap_put_str(&h->tenants, reg->tenants[i], (void *)1))
			return -ENOMEM;
	return 0;
}

/* The fail-static carry-over: for every round on this host still waiting for an
 * acknowledgement, what the agent enforces now (HostRegister.enforced, read back from the
 * kernel) is what it enforced through the rounds it missed, since it changes nothing without
 * an allocation set. Each allocation it covers was in force; the others are recorded as
 * failures, to be credited. */
static int carry_over(struct market *m, struct mkt_host *h, const Raas__HostRegister *reg)
{
	int err = 0;

	for (size_t i = 0; i < m->npending && !err; i++) {
		struct mkt_pending *p = &m->pending[i];
		struct ledger_ack_failure *f;
		size_t nf = 0;
		if (p->acked || strcmp(p->host, h->row.name) != 0)
			continue;
		f = calloc(p->nallocs ? p->nallocs : 1, sizeof(*f));
		if (!f)
			return -ENOMEM;
		for (size_t j = 0; j < p->nallocs; j++) {
			const struct mkt_pending_alloc *a = &p->allocs[j];
			int64_t have = 0;
			for (size_t k = 0; k < reg->n_enforced; k++) {
				const Raas__Allocation *e = reg->enforced[k];
				if (e->tenant && strcmp(e->tenant, a->tenant_name) == 0 &&
				    (int)e->resource == a->resource)
					have = e->quantity;
			}
			if (have >= a->quantity)
				continue;
			snprintf(f[nf].tenant, sizeof(f[nf].tenant), "%s", a->tenant_name);
			f[nf].resource = a->resource;
			f[nf].errno_value = ENOENT;
			snprintf(f[nf].message, sizeof(f[nf].message),
				 "out of reach for round %llu, it enforced %lld of the %lld %s "
				 "allocated to %s",
				 (unsigned long long)p->round, (long long)have, (long long)a->quantity,
				 wire_resource_unit(a->resource), a->tenant_name);
			nf++;
		}
		bool recorded;
		err = ledger_host_ack_put(m->ledger, p->round, h->row.name, nf == 0,
					  nf ? "carried over in part" : "carried over",
					  LEDGER_ACK_CARRY, f, nf, clk_wall(m->clock), &recorded);
		if (!err && recorded) {
			log_info("market: host %s was out of reach for round %llu and kept "
				 "enforcing it%s",
				 h->row.name, (unsigned long long)p->round,
				 nf ? " in part (the rest is credited)" : "");
			market__pending_ack(m, p->round, h->row.name, LEDGER_ACK_CARRY, f, nf);
		}
		free(f);
	}
	return err;
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
		/* A host being removed keeps its pools drained. */
		err = register_pool(m, h->row.name, c->resource,
				    c->available && h->row.status == LEDGER_ACTIVE ? c->quantity : 0);
	}
	/* Egress is billed on every host when the config prices it. */
	if (!err && m->cfg->resources[RAAS__RESOURCE__RESOURCE_EGRESS].set)
		err = register_pool(m, h->row.name, RAAS__RESOURCE__RESOURCE_EGRESS, 0);
	if (!err)
		err = carry_over(m, h, reg);
	if (!err && (err = take_tenants(h, reg)) == 0 && reg->tenants_listed)
		log_info("market: host %s can enforce %zu tenants", h->row.name, reg->n_tenants);
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
	size_t nf = ack->n_failures < 256 ? ack->n_failures : 256;
	struct ledger_ack_failure *f = calloc(nf ? nf : 1, sizeof(*f));
	char failures[2048] = "";
	size_t used = 0;
	bool recorded = false;

	if (!f) {
		market__push_error(out, MARKET_TO_HOST, route, env->request_id,
				   RAAS__ERROR_CODE__ERROR_UNAVAILABLE, "out of memory; retry");
		return;
	}
	for (size_t i = 0; i < ack->n_failures; i++) {
		const Raas__ApplyFailure *af = ack->failures[i];
		if (i < nf) {
			snprintf(f[i].tenant, sizeof(f[i].tenant), "%s", af->tenant ? af->tenant : "");
			f[i].resource = (int)af->resource;
			f[i].errno_value = af->errno_value;
			snprintf(f[i].message, sizeof(f[i].message), "%s",
				 af->message ? af->message : "");
		}
		if (used >= sizeof(failures) - 1)
			continue;
		int n = snprintf(failures + used, sizeof(failures) - used, "%s%s/%s: %s (%d)",
				 i ? "; " : "", af->tenant ? af->tenant : "?",
				 wire_resource_name(af->resource), af->message ? af->message : "",
				 af->errno_value);
		if (n < 0)
			break;
		used += (size_t)n < sizeof(failures) - used ? (size_t)n : sizeof(failures) - used - 1;
	}
	/* An incomplete ack without a failure list still fails the whole set. */
	if (!ack->complete && !ack->n_failures) {
		nf = 1;
		snprintf(f[0].message, sizeof(f[0].message), "incomplete, no failures given");
	}
	if (ledger_host_ack_put(m->ledger, ack->round, h->row.name, ack->complete, failures,
				LEDGER_ACK, f, nf, clk_wall(m->clock), &recorded)) {
		free(f);
		market__push_error(out, MARKET_TO_HOST, route, env->request_id,
				   RAAS__ERROR_CODE__ERROR_UNAVAILABLE, "ledger busy; retry");
		return;
	}
	if (recorded)
		market__pending_ack(m, ack->round, h->row.name, LEDGER_ACK, f, nf);
	/* Once per (round, host), and the same failure round after round is one line a minute
	 * (common/log.h): what is credited is in the ledger and the tenants' notices. */
	if (!ack->complete && recorded)
		log_warn("market: host %s could not apply all of round %llu (credited): %s",
			 h->row.name, (unsigned long long)ack->round, failures);
	free(f);
	if (ack->round > h->acked_round)
		h->acked_round = ack->round;
	reply_ok(m, h, route, env->request_id, out, false);
}

/* Whether t holds an allocation on host h in the open round. */
static bool holds_on(const struct mkt_tenant *t, const struct mkt_host *h)
{
	for (size_t i = 0; i < t->nholdings; i++)
		if (strcmp(t->holdings[i].pool->row.host, h->row.name) == 0)
			return true;
	return false;
}

/* A host meters only its own tenants: a reading for a tenant that holds nothing on it (now
 * or in the last MARKET_METER_GRACE_ROUNDS rounds) would charge what the market never sold
 * there, so it is refused when it would charge anything and becomes the baseline instead,
 * never billed. An unchanged reading is taken silently: agents report every tenant they
 * are configured for, allocated or not. */
static void do_meters(struct market *m, struct mkt_host *h, const struct tp_route *route,
		      const Raas__Envelope *env, struct market_outbox *out)
{
	const Raas__MeterReport *rep = env->meters;
	char unknown[256] = "", refused[256] = "";
	size_t nrefused = 0;

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
		if (holds_on(t, h))
			rec->hosted_round = m->open_round;
		bool hosted = rec->hosted_round &&
			      m->open_round - rec->hosted_round <= MARKET_METER_GRACE_ROUNDS;
		uint64_t base = rec->has_pending ? rec->pending : rec->billed;
		if (!hosted && mt->tx_bytes != base && mt->tx_bytes > 0) {
			if (!refused[0])
				snprintf(refused, sizeof(refused), "%.64s", t->row.name);
			nrefused++;
			rec->pending = mt->tx_bytes;
			rec->has_pending = true;
			rec->pending_free = true;
			continue;
		}
		rec->pending = mt->tx_bytes;
		rec->has_pending = true;
		rec->pending_free = rec->pending_free && !hosted;
	}
	if (nrefused) {
		h->meters_refused += nrefused;
		if (log_limit_pass(&h->meters_refused_log, m->clock, NULL)) {
			log_warn("market: host %s metered tenants with no allocation on it: %llu "
				 "readings refused (%llu since the last such line; latest: tenant %s)",
				 h->row.name, (unsigned long long)h->meters_refused,
				 (unsigned long long)(h->meters_refused - h->meters_refused_logged),
				 refused);
			h->meters_refused_logged = h->meters_refused;
		}
	}
	if (unknown[0] || nrefused) {
		char msg[384];
		if (unknown[0])
			snprintf(msg, sizeof(msg),
				 "meters.meters: tenant \"%s\" is unknown; its reading was ignored "
				 "(the others were taken)",
				 unknown);
		else
			snprintf(msg, sizeof(msg),
				 "meters.meters: tenant \"%s\" (and %zu more) has no allocation on "
				 "host %s; its reading was refused, not billed (the others were taken)",
				 refused, nrefused - 1, h->row.name);
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
	if (h && h->row.status == LEDGER_REMOVED) {
		m->stats.errors++;
		snprintf(msg, sizeof(msg), "host %.64s was removed from this market", h->row.name);
		market__push_error(out, MARKET_TO_HOST, route, env->request_id,
				   RAAS__ERROR_CODE__ERROR_DENIED, msg);
		return;
	}
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
