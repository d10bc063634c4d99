/* agent.c: the host agent's core: enforced state, reconciliation with rollback, acks, meters.
 *
 * Design notes.
 *
 * State: for every (tenant, resource) the agent holds a slot: `known` and the setting it
 * believes enforced. Slots are filled at start by reading back every backend (so a restarted
 * agent knows what an earlier run left in force), then changed only by a backend call that
 * returned success (apply: the new setting; revert: not known). A read-back that fails with
 * anything but -ENOENT leaves the slot unknown, which makes the next set apply it.
 *
 * An AllocationSet is complete: a configured tenant absent from it holds 0. For each
 * available resource the set is planned (plan.h) against the slots and the changed slots are
 * applied in plan order (shrink, move, grow). When a step fails, the steps of that resource
 * already taken are undone in reverse order (re-apply the previous setting, or revert when
 * nothing was enforced before): the previous allocation of that resource stays in force and
 * the failure goes back to the market in the ack. Resources are independent: a failure in
 * one does not undo another. Nothing is applied for a set naming another host, an older
 * round, or quantities beyond capacity; those are refused in the ack.
 *
 * Invariants (ha_agent_check):
 *  1. For each available resource, once a set has been applied completely, the known
 *     quantities sum to at most the capacity (a read-back at start may show more: the
 *     first set fixes it, shrinking first).
 *  2. Cores: every placed setting with quantity > 0 has exactly quantity CPUs, all among
 *     the CPUs sold, and no CPU belongs to two such tenants. ("Placed": written by the
 *     agent, or read back in a form it would have written; other read-backs are re-placed
 *     by the next set.)
 *  3. LLC: every placed mask is contiguous, lies within llc_ways and has quantity bits (or
 *     is the idle mask at 0); masks of tenants with quantity > 0 do not overlap.
 *  4. An unavailable resource has no backend calls after probe (its slots stay as read).
 *  5. last_round never decreases.
 *  6. Reported meters never decrease (per tenant, tx_bytes and cpu_ns).
 */
#include <errno.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/error.h"
#include "common/log.h"
#include "common/wire.h"
#include "hostagent/agent.h"
#include "hostagent/plan.h"

#define HA_AGENT_NAME "raas-hostagentd/0.1"
#define NRES (ENF_RES_MAX + 1)

struct ha_slot {
	bool known;
	bool placed; /* cores/llc: s.cpus / s.cbm is a valid placement (invariants 2, 3) */
	struct enf_setting s;
};

/* A monotonic view of a kernel counter that may be reset (a class re-created). */
struct ha_counter {
	bool started;
	uint64_t last_raw;
	uint64_t total;
};

struct ha_failure {
	const char *tenant; /* borrowed from the config or "" */
	enum enf_resource res;
	int err;            /* positive errno or project error */
	char message[256];
};

struct ha_agent {
	const struct ha_config *conf;
	const struct clk *clock;
	size_t n; /* tenants */
	struct enf_handle *handles[NRES];   /* distinct handles, in open order */
	size_t nhandles;
	struct enf_handle *by_res[NRES];    /* NULL: not enforced here */
	bool available[NRES];
	char reason[NRES][256];
	struct ha_slot *slots;              /* n x NRES */
	uint64_t last_round;
	/* Meters. */
	struct ha_counter *tx, *cpu;        /* n each */
	uint64_t *reported_tx, *reported_cpu;
	int64_t meter_start_wall;
	/* Scratch for one apply, n entries each. */
	struct enf_setting *cur, *target;
	bool *known;
	bool *was_placed;
	bool settled[NRES];                 /* a set was applied completely for this resource */
	int64_t *want[NRES];
	bool *seen;
	struct plan_step *steps;
	struct enf_meter *meters;
	/* Tenants whose VM is not running (ha_agent_tenant_down): left out of the registration,
	 * their allocations reported failed, nothing applied for them. */
	bool *down;
	char (*down_reason)[192];
	struct ha_failure *failures;
	size_t nfailures, capfailures;
	/* The market's last refusal, logged once a minute while it repeats. */
	char last_refusal[256];
	struct log_limit refusal_log;
	struct ha_agent_stats stats;
	struct ha_totals *totals;           /* the daemon's, or NULL */
};


static struct ha_slot *slot(const struct ha_agent *a, size_t t, enum enf_resource r)
{
	return &a->slots[t * NRES + r];
}

/* ---- Creation: open, probe, read back ---- */

static int open_backends(struct ha_agent *a, char *why, size_t why_len)
{
	const struct ha_config *c = a->conf;

	for (int r = ENF_RES_MIN; r <= ENF_RES_MAX; r++) {
		if (!c->backend[r]) {
			snprintf(a->reason[r], sizeof(a->reason[r]), "no backend configured");
			continue;
		}
		struct enf_handle *h = NULL;
		for (size_t i = 0; i < a->nhandles; i++)
			if (strcmp(enf_name(a->handles[i]), c->backend[r]) == 0)
				h = a->handles[i];
		if (!h) {
			struct enf_error err;
			int ret = enf_open(c->backend[r], c->cfg, c->targets, c->ntargets, &h, &err);
			if (ret) {
				snprintf(why, why_len, "backend %s: %s", c->backend[r], err.message);
				return ret;
			}
			a->handles[a->nhandles++] = h;
		}
		a->by_res[r] = h;
	}
	return 0;
}

static void probe_all(struct ha_agent *a)
{
	for (int r = ENF_RES_MIN; r <= ENF_RES_MAX; r++) {
		if (!a->by_res[r])
			continue;
		struct enf_error err;
		int ret = enf_probe(a->by_res[r], (enum enf_resource)r, &err);
		if (ret == 0 && a->conf->capacity[r] > 0) {
			a->available[r] = true;
			a->reason[r][0] = '\0';
			continue;
		}
		if (ret == 0)
			snprintf(a->reason[r], sizeof(a->reason[r]), "capacity is 0");
		else
			snprintf(a->reason[r], sizeof(a->reason[r]), "%s", err.message);
		if (ret == -ENOTSUP || ret == 0)
			log_info("%s unavailable: %s", enf_resource_name((enum enf_resource)r),
				 a->reason[r]);
		else
			log_warn("%s unavailable (probe failed: %s)",
				 enf_resource_name((enum enf_resource)r), a->reason[r]);
	}
}

/* Read-back cores and cache masks count as placed when they are what the agent itself
 * would have written: inside what is sold and not shared with an earlier tenant. The idle
 * CPU set and idle mask read back as quantity 0. */
static void normalize(struct ha_agent *a, enum enf_resource r)
{
	struct enf_cpuset used;
	uint64_t used_cbm = 0;
	int64_t ways = a->conf->capacity[ENF_LLC];

	enf_cpuset_zero(&used);
	for (size_t t = 0; t < a->n; t++) {
		struct ha_slot *s = slot(a, t, r);
		if (!s->known)
			continue;
		if (r == ENF_CORES) {
			if (enf_cpuset_equal(&s->s.cpus, &a->conf->idle_cpus))
				s->s.quantity = 0;
			bool ok = s->s.quantity == 0 ||
				  enf_cpuset_count(&s->s.cpus) == s->s.quantity;
			for (int c = 0; ok && s->s.quantity && c < ENF_MAX_CPUS; c++) {
				if (!enf_cpuset_has(&s->s.cpus, c))
					continue;
				ok = enf_cpuset_has(&a->conf->cpus, c) && !enf_cpuset_has(&used, c);
				enf_cpuset_set(&used, c);
			}
			s->placed = ok && (s->s.quantity || enf_cpuset_count(&s->s.cpus));
		} else if (r == ENF_LLC) {
			if (s->s.cbm == a->conf->idle_cbm)
				s->s.quantity = 0;
			bool ok = enf_cbm_contiguous(s->s.cbm) &&
				  (s->s.quantity == 0 ||
				   (!(used_cbm & s->s.cbm) && (ways >= 64 || !(s->s.cbm >> ways))));
			if (ok && s->s.quantity)
				used_cbm |= s->s.cbm;
			s->placed = ok;
		} else {
			s->placed = true;
		}
	}
}

static void read_back(struct ha_agent *a)
{
	for (int r = ENF_RES_MIN; r <= ENF_RES_MAX; r++) {
		if (!a->available[r])
			continue;
		for (size_t t = 0; t < a->n; t++) {
			struct enf_error err;
			struct ha_slot *s = slot(a, t, (enum enf_resource)r);
			int ret = enf_read(a->by_res[r], (enum enf_resource)r, &a->conf->targets[t],
					   &s->s, &err);
			s->known = ret == 0;
			if (ret && ret != -ENOENT)
				log_warn("reading back %s of %s: %s",
					 enf_resource_name((enum enf_resource)r),
					 a->conf->targets[t].tenant, err.message);
			else if (ret == 0)
				log_info("enforced at start: %s %s %" PRId64,
					 a->conf->targets[t].tenant,
					 enf_resource_name((enum enf_resource)r), s->s.quantity);
		}
		normalize(a, (enum enf_resource)r);
	}
}

int ha_agent_create(const struct ha_config *conf, const struct clk *clock, struct ha_agent **out,
		    char *why, size_t why_len)
{
	struct ha_agent *a = calloc(1, sizeof(*a));
	size_t n = conf->ntargets, m = n ? n : 1;
	int ret;

	if (why_len)
		why[0] = '\0';
	if (!a)
		return -ENOMEM;
	a->conf = conf;
	a->clock = clock;
	a->refusal_log = (struct log_limit)LOG_LIMIT_MINUTE;
	a->n = n;
	a->slots = calloc(m * NRES, sizeof(*a->slots));
	a->tx = calloc(m, sizeof(*a->tx));
	a->cpu = calloc(m, sizeof(*a->cpu));
	a->reported_tx = calloc(m, sizeof(uint64_t));
	a->reported_cpu = calloc(m, sizeof(uint64_t));
	a->cur = calloc(m, sizeof(*a->cur));
	a->target = calloc(m, sizeof(*a->target));
	a->known = calloc(m, sizeof(*a->known));
	a->was_placed = calloc(m, sizeof(*a->was_placed));
	a->seen = calloc(m * NRES, sizeof(*a->seen));
	a->steps = calloc(m, sizeof(*a->steps));
	a->meters = calloc(m, sizeof(*a->meters));
	a->down = calloc(m, sizeof(*a->down));
	a->down_reason = calloc(m, sizeof(*a->down_reason));
	bool ok = a->slots && a->tx && a->cpu && a->reported_tx && a->reported_cpu && a->cur &&
		  a->target && a->known && a->was_placed && a->seen && a->steps && a->meters &&
		  a->down && a->down_reason;
	for (int r = 0; r < NRES; r++)
		ok = ok && (a->want[r] = calloc(m, sizeof(int64_t)));
	if (!ok) {
		ha_agent_destroy(a);
		return -ENOMEM;
	}
	ret = open_backends(a, why, why_len);
	if (ret) {
		ha_agent_destroy(a);
		return ret;
	}
	probe_all(a);
	read_back(a);
	a->meter_start_wall = clk_wall(clock);
	*out = a;
	return 0;
}

void ha_agent_destroy(struct ha_agent *a)
{
	if (!a)
		return;
	for (size_t i = 0; i < a->nhandles; i++)
		enf_close(a->handles[i]);
	free(a->slots);
	free(a->tx);
	free(a->cpu);
	free(a->reported_tx);
	free(a->reported_cpu);
	free(a->cur);
	free(a->target);
	free(a->known);
	free(a->was_placed);
	free(a->seen);
	free(a->steps);
	free(a->meters);
	free(a->down);
	free(a->down_reason);
	for (int r = 0; r < NRES; r++)
		free(a->want[r]);
	free(a->failures);
	free(a);
}

/* ---- Applying an allocation set ---- */

static void fail(struct ha_agent *a, const char *tenant, enum enf_resource res, int err,
		 const char *fmt, ...) __attribute__((format(printf, 5, 6)));

static void fail(struct ha_agent *a, const char *tenant, enum enf_resource res, int err,
		 const char *fmt, ...)
{
	if (a->nfailures == a->capfailures) {
		size_t cap = a->capfailures ? 2 * a->capfailures : 16;
		struct ha_failure *f = realloc(a->failures, cap * sizeof(*f));
		if (!f)
			return; /* the ack still says incomplete */
		a->failures = f;
		a->capfailures = cap;
	}
	struct ha_failure *f = &a->failures[a->nfailures++];
	va_list ap;
	f->tenant = tenant ? tenant : "";
	f->res = res;
	f->err = err < 0 ? -err : err;
	va_start(ap, fmt);
	vsnprintf(f->message, sizeof(f->message), fmt, ap);
	va_end(ap);
	log_warn("apply: %s%s%s: %s", enf_resource_name(res), tenant && tenant[0] ? " " : "",
		 tenant ? tenant : "", f->message);
}

static long find_tenant(const struct ha_agent *a, const char *name)
{
	for (size_t i = 0; i < a->n; i++)
		if (strcmp(a->conf->targets[i].tenant, name) == 0)
			return (long)i;
	return -1;
}

/* Fills want[][] from the set; marks resources whose allocations are malformed in bad[].
 * Entries that cannot be honoured are reported one by one. */
static void collect(struct ha_agent *a, const Raas__AllocationSet *set, bool *bad)
{
	for (int r = 0; r < NRES; r++)
		memset(a->want[r], 0, a->n * sizeof(int64_t));
	memset(a->seen, 0, a->n * NRES * sizeof(bool));
	for (size_t k = 0; k < set->n_allocations; k++) {
		const Raas__Allocation *al = set->allocations[k];
		const char *tenant = al->tenant ? al->tenant : "";
		int r = (int)al->resource;
		if (r < ENF_RES_MIN || r > ENF_RES_MAX) {
			fail(a, tenant, (enum enf_resource)0, EINVAL,
			     "allocation #%zu: resource %d cannot be enforced", k, r);
			continue;
		}
		enum enf_resource res = (enum enf_resource)r;
		if (al->host && al->host[0] && strcmp(al->host, a->conf->host) != 0) {
			fail(a, tenant, res, EINVAL, "allocation #%zu is for host \"%s\"", k,
			     al->host);
			bad[r] = true;
			continue;
		}
		if (al->quantity < 0) {
			fail(a, tenant, res, EINVAL, "allocation #%zu: negative quantity %" PRId64,
			     k, al->quantity);
			bad[r] = true;
			continue;
		}
		long t = find_tenant(a, tenant);
		if (t < 0) {
			if (al->quantity > 0)
				fail(a, tenant, res, ENOENT,
				     "tenant \"%s\" has no [tenant.%s] mapping on host %s", tenant,
				     tenant, a->conf->host);
			continue;
		}
		if (a->seen[(size_t)t * NRES + r]) {
			fail(a, tenant, res, EINVAL, "allocation #%zu: %s allocated twice", k,
			     enf_resource_name(res));
			bad[r] = true;
			continue;
		}
		a->seen[(size_t)t * NRES + r] = true;
		if (a->down[t]) {
			/* Not delivered, so not charged: the market credits a failed entry. */
			if (al->quantity > 0)
				fail(a, tenant, res, ENOENT, "tenant %s is not served on host %s: %s",
				     tenant, a->conf->host, a->down_reason[t]);
			continue;
		}
		a->want[r][t] = al->quantity;
		if (!a->available[r] && al->quantity > 0)
			fail(a, tenant, res, ENOTSUP, "%s is unavailable on host %s: %s",
			     enf_resource_name(res), a->conf->host, a->reason[r]);
	}
}

/* Undoes steps [0, done) of a resource in reverse order. */
static void roll_back(struct ha_agent *a, enum enf_resource res, size_t done)
{
	struct enf_handle *h = a->by_res[res];

	while (done-- > 0) {
		const struct plan_step *st = &a->steps[done];
		const struct enf_target *t = &a->conf->targets[st->tenant];
		struct ha_slot *s = slot(a, st->tenant, res);
		struct enf_error err;
		int ret;
		if (a->down[st->tenant])
			continue;
		if (st->from_known)
			ret = enf_apply(h, res, t, &st->from, &err);
		else
			ret = enf_revert(h, res, t, &err);
		if (ret == 0) {
			s->known = st->from_known;
			s->s = st->from;
			s->placed = a->was_placed[st->tenant];
			continue;
		}
		/* What is in force is now unknown: the next set re-applies it. */
		s->known = false;
		fail(a, t->tenant, res, ret, "rollback failed, state unknown: %s", err.message);
	}
}

static void apply_resource(struct ha_agent *a, enum enf_resource res)
{
	struct plan_input in;
	size_t nsteps;
	char why[256];

	memset(&in, 0, sizeof(in));
	for (size_t t = 0; t < a->n; t++) {
		const struct ha_slot *s = slot(a, t, res);
		a->known[t] = s->known;
		a->was_placed[t] = s->placed;
		a->cur[t] = s->s;
		if (s->known && !s->placed) {
			/* Not a placement of ours: plan it afresh (a step follows). */
			enf_cpuset_zero(&a->cur[t].cpus);
			a->cur[t].cbm = 0;
		}
	}
	in.res = res;
	in.n = a->n;
	in.cur = a->cur;
	in.cur_known = a->known;
	in.want = a->want[res];
	in.capacity = a->conf->capacity[res];
	in.cpus = a->conf->cpus;
	in.idle_cpus = a->conf->idle_cpus;
	in.idle_cbm = a->conf->idle_cbm;
	int ret = plan_resource(&in, a->target, a->steps, &nsteps, why, sizeof(why));
	if (ret) {
		fail(a, "", res, ret, "%s", why);
		return;
	}
	for (size_t k = 0; k < nsteps; k++) {
		const struct plan_step *st = &a->steps[k];
		const struct enf_target *t = &a->conf->targets[st->tenant];
		struct enf_error err;
		if (a->down[st->tenant])
			continue; /* nothing of it is there to enforce on */
		ret = enf_apply(a->by_res[res], res, t, &st->to, &err);
		if (ret == 0) {
			slot(a, st->tenant, res)->known = true;
			slot(a, st->tenant, res)->placed = true;
			slot(a, st->tenant, res)->s = st->to;
			continue;
		}
		fail(a, t->tenant, res, ret, "%s", err.message);
		roll_back(a, res, k);
		return;
	}
	a->settled[res] = true;
}

static int ack_msg(struct ha_agent *a, uint64_t round, uint64_t request_id, uint8_t **buf,
		   size_t *len)
{
	Raas__Envelope e;
	Raas__AllocationAck ack = RAAS__ALLOCATION_ACK__INIT;
	Raas__ApplyFailure *fs = calloc(a->nfailures ? a->nfailures : 1, sizeof(*fs));
	Raas__ApplyFailure **fp = calloc(a->nfailures ? a->nfailures : 1, sizeof(*fp));
	int ret = -ENOMEM;

	if (!fs || !fp)
		goto out;
	for (size_t i = 0; i < a->nfailures; i++) {
		raas__apply_failure__init(&fs[i]);
		fs[i].tenant = (char *)a->failures[i].tenant;
		fs[i].resource = (Raas__Resource)a->failures[i].res;
		fs[i].errno_value = a->failures[i].err;
		fs[i].message = a->failures[i].message;
		fp[i] = &fs[i];
	}
	ack.round = round;
	ack.complete = a->nfailures == 0;
	ack.n_failures = a->nfailures;
	ack.failures = fp;
	wire_envelope_init(&e, request_id);
	e.body_case = RAAS__ENVELOPE__BODY_ALLOCATION_ACK;
	e.allocation_ack = &ack;
	ret = wire_encode(&e, buf, len);
out:
	free(fs);
	free(fp);
	return ret;
}

static int apply_set(struct ha_agent *a, const Raas__AllocationSet *set, uint64_t request_id,
		     uint8_t **reply, size_t *reply_len)
{
	bool bad[NRES] = {false};
	int64_t t0 = clk_mono(a->clock);

	a->nfailures = 0;
	if (!set->host || strcmp(set->host, a->conf->host) != 0) {
		fail(a, "", (enum enf_resource)0, EINVAL,
		     "allocation set for host \"%s\" reached host \"%s\"; nothing applied",
		     set->host ? set->host : "", a->conf->host);
	} else if (set->round < a->last_round) {
		fail(a, "", (enum enf_resource)0, RAAS_ESTALE,
		     "round %" PRIu64 " is older than round %" PRIu64 " already applied; "
		     "nothing applied", set->round, a->last_round);
	} else {
		collect(a, set, bad);
		for (int r = ENF_RES_MIN; r <= ENF_RES_MAX; r++) {
			if (!a->available[r] || bad[r])
				continue;
			apply_resource(a, (enum enf_resource)r);
		}
		a->last_round = set->round;
	}
	int64_t took = clk_mono(a->clock) - t0;
	log_debug("round %" PRIu64 ": %zu allocations applied in %.3f ms, %s", set->round,
		  set->n_allocations, (double)took / 1e6, a->nfailures ? "with failures" : "complete");
	a->stats.sets++;
	a->stats.allocations += set->n_allocations;
	a->stats.failures += a->nfailures;
	a->stats.sets_failed += a->nfailures ? 1 : 0;
	a->stats.apply_ns += took;
	if (took > a->stats.apply_max_ns)
		a->stats.apply_max_ns = took;
	a->stats.last_round = set->round;
	if (a->totals) {
		struct ha_totals *t = a->totals;
		t->sets++;
		t->allocations += set->n_allocations;
		t->sets_failed += a->nfailures ? 1 : 0;
		for (size_t i = 0; i < a->nfailures; i++) {
			int r = (int)a->failures[i].res;
			t->failures[r >= 0 && r <= ENF_RES_MAX ? r : 0]++;
		}
		t->last_round = set->round;
		prom_hist_observe(&t->apply, took);
	}
	return ack_msg(a, set->round, request_id, reply, reply_len);
}

int ha_agent_handle(struct ha_agent *a, const Raas__Envelope *e, uint64_t request_id,
		    enum ha_msg_kind *kind, int *reply_error, uint8_t **reply, size_t *reply_len)
{
	int ret = 0;

	*reply = NULL;
	*reply_len = 0;
	if (reply_error)
		*reply_error = 0;
	switch (e->body_case) {
	case RAAS__ENVELOPE__BODY_ALLOCATION_SET:
		*kind = HA_MSG_ALLOCATION_SET;
		ret = apply_set(a, e->allocation_set, request_id, reply, reply_len);
		break;
	case RAAS__ENVELOPE__BODY_REPLY:
		*kind = HA_MSG_REPLY;
		if (e->reply->error && e->reply->error->code != RAAS__ERROR_CODE__ERROR_NONE) {
			const char *msg = e->reply->error->message ? e->reply->error->message : "";
			uint64_t held;
			if (reply_error)
				*reply_error = (int)e->reply->error->code;
			if (strcmp(msg, a->last_refusal) != 0)
				log_limit_reset(&a->refusal_log);
			if (log_limit_pass(&a->refusal_log, a->clock, &held)) {
				log_warn("market refused request %" PRIu64 ": %s%s", e->request_id, msg,
					 held ? " (repeated since the last report)" : "");
				snprintf(a->last_refusal, sizeof(a->last_refusal), "%s", msg);
			}
		}
		break;
	default:
		*kind = HA_MSG_OTHER;
		log_debug("ignoring a %s message from the market", wire_body_name(e));
		break;
	}
	return ret;
}

int ha_agent_receive(struct ha_agent *a, const void *buf, size_t len, uint64_t request_id,
		     enum ha_msg_kind *kind, int *reply_error, uint8_t **reply, size_t *reply_len)
{
	Raas__Envelope *e;
	char why[256];

	*kind = HA_MSG_INVALID;
	*reply = NULL;
	*reply_len = 0;
	if (reply_error)
		*reply_error = 0;
	int ret = wire_decode(buf, len, WIRE_MAX_BYTES, &e, why, sizeof(why));
	if (ret) {
		log_warn("ignoring a message from the market: %s", why);
		return ret == -ENOMEM ? ret : 0;
	}
	ret = ha_agent_handle(a, e, request_id, kind, reply_error, reply, reply_len);
	wire_free(e);
	return ret;
}

/* ---- Outgoing messages ---- */

int ha_agent_register_msg(struct ha_agent *a, uint64_t request_id, uint8_t **buf, size_t *len)
{
	Raas__Envelope e;
	Raas__HostRegister reg = RAAS__HOST_REGISTER__INIT;
	Raas__Capacity caps[NRES], *capp[NRES];
	size_t nalloc = a->n * NRES;
	Raas__Allocation *al = calloc(nalloc ? nalloc : 1, sizeof(*al));
	Raas__Allocation **alp = calloc(nalloc ? nalloc : 1, sizeof(*alp));
	size_t ncap = 0, nal = 0;
	int ret = -ENOMEM;

	if (!al || !alp)
		goto out;
	for (int r = ENF_RES_MIN; r <= ENF_RES_MAX; r++) {
		if (!a->by_res[r] && a->conf->capacity[r] == 0)
			continue; /* not sold here at all: nothing to say */
		raas__capacity__init(&caps[ncap]);
		caps[ncap].resource = (Raas__Resource)r;
		caps[ncap].quantity = a->conf->capacity[r];
		caps[ncap].available = a->available[r];
		caps[ncap].reason = a->available[r] ? (char *)"" : a->reason[r];
		capp[ncap] = &caps[ncap];
		ncap++;
		if (!a->available[r])
			continue;
		for (size_t t = 0; t < a->n; t++) {
			const struct ha_slot *s = slot(a, t, (enum enf_resource)r);
			if (!s->known || a->down[t])
				continue;
			raas__allocation__init(&al[nal]);
			al[nal].tenant = (char *)a->conf->targets[t].tenant;
			al[nal].resource = (Raas__Resource)r;
			al[nal].host = (char *)a->conf->host;
			al[nal].quantity = s->s.quantity;
			alp[nal] = &al[nal];
			nal++;
		}
	}
	/* The tenants this agent can enforce: the market refuses bids of others here. */
	char **names = calloc(a->n ? a->n : 1, sizeof(*names));
	if (!names)
		goto out;
	size_t nnames = 0;
	for (size_t t = 0; t < a->n; t++)
		if (!a->down[t])
			names[nnames++] = (char *)a->conf->targets[t].tenant;
	reg.tenants = names;
	reg.n_tenants = nnames;
	reg.tenants_listed = true;
	reg.agent = (char *)HA_AGENT_NAME;
	reg.n_capacity = ncap;
	reg.capacity = capp;
	reg.n_enforced = nal;
	reg.enforced = alp;
	wire_envelope_init(&e, request_id);
	e.body_case = RAAS__ENVELOPE__BODY_HOST_REGISTER;
	e.host_register = &reg;
	ret = wire_encode(&e, buf, len);
	free(names);
out:
	free(al);
	free(alp);
	return ret;
}

int ha_agent_heartbeat_msg(struct ha_agent *a, uint64_t request_id, uint8_t **buf, size_t *len)
{
	Raas__Envelope e;
	Raas__Heartbeat hb = RAAS__HEARTBEAT__INIT;

	hb.last_applied_round = a->last_round;
	wire_envelope_init(&e, request_id);
	e.body_case = RAAS__ENVELOPE__BODY_HEARTBEAT;
	e.heartbeat = &hb;
	return wire_encode(&e, buf, len);
}

/* The first reading is taken as it is: a kernel counter (a tc class's bytes) outlives the
 * agent, so a restarted agent carries on where the last one stopped and the market, which
 * bills differences of cumulative readings, sees no step. */
static uint64_t advance(struct ha_counter *c, uint64_t raw)
{
	if (!c->started) {
		c->started = true;
		c->last_raw = raw;
		c->total = raw;
		return c->total;
	}
	if (raw >= c->last_raw)
		c->total += raw - c->last_raw;
	else
		c->total += raw; /* the kernel object was re-created: it counts from 0 again */
	c->last_raw = raw;
	return c->total;
}

static void read_meters(struct ha_agent *a, enum enf_resource res, struct ha_counter *ctr,
			uint64_t *reported, bool tx)
{
	struct enf_handle *h = a->by_res[res];
	struct enf_error err;

	if (!h || !a->available[res] || !a->n)
		return;
	int ret = enf_meter(h, res, a->conf->targets, a->n, a->meters, &err);
	if (ret) {
		if (ret != -ENOTSUP)
			log_warn("meters of %s: %s", enf_resource_name(res), err.message);
		return;
	}
	for (size_t t = 0; t < a->n; t++) {
		bool has = tx ? a->meters[t].has_tx : a->meters[t].has_cpu;
		if (has)
			reported[t] = advance(&ctr[t], tx ? a->meters[t].tx_bytes :
							    a->meters[t].cpu_ns);
	}
}

int ha_agent_meter_msg(struct ha_agent *a, uint64_t request_id, uint8_t **buf, size_t *len)
{
	Raas__Envelope e;
	Raas__MeterReport rep = RAAS__METER_REPORT__INIT;
	Raas__Meter *m = calloc(a->n ? a->n : 1, sizeof(*m));
	Raas__Meter **mp = calloc(a->n ? a->n : 1, sizeof(*mp));
	int ret = -ENOMEM;

	if (!m || !mp)
		goto out;
	read_meters(a, ENF_BANDWIDTH, a->tx, a->reported_tx, true);
	read_meters(a, ENF_CORES, a->cpu, a->reported_cpu, false);
	for (size_t t = 0; t < a->n; t++) {
		raas__meter__init(&m[t]);
		m[t].tenant = (char *)a->conf->targets[t].tenant;
		m[t].tx_bytes = a->reported_tx[t];
		m[t].cpu_ns = a->reported_cpu[t];
		mp[t] = &m[t];
	}
	rep.round = a->last_round;
	rep.start_wall_ns = a->meter_start_wall;
	rep.end_wall_ns = clk_wall(a->clock);
	rep.n_meters = a->n;
	rep.meters = mp;
	wire_envelope_init(&e, request_id);
	e.body_case = RAAS__ENVELOPE__BODY_METERS;
	e.meters = &rep;
	ret = wire_encode(&e, buf, len);
out:
	free(m);
	free(mp);
	return ret;
}

/* ---- Queries and invariants ---- */

bool ha_agent_available(const struct ha_agent *a, enum enf_resource res, const char **reason)
{
	if (res < ENF_RES_MIN || res > ENF_RES_MAX) {
		if (reason)
			*reason = "unknown resource";
		return false;
	}
	if (reason)
		*reason = a->reason[res];
	return a->available[res];
}

int ha_agent_enforced(const struct ha_agent *a, size_t tenant, enum enf_resource res,
		      struct enf_setting *out)
{
	if (tenant >= a->n || res < ENF_RES_MIN || res > ENF_RES_MAX)
		return -EINVAL;
	const struct ha_slot *s = slot(a, tenant, res);
	if (!s->known)
		return -ENOENT;
	*out = s->s;
	return 0;
}

uint64_t ha_agent_last_round(const struct ha_agent *a)
{
	return a->last_round;
}

void ha_totals_init(struct ha_totals *t)
{
	memset(t, 0, sizeof(*t));
	/* 10 us to about 84 s: a tc or libvirt change takes milliseconds, a stuck one seconds. */
	prom_hist_init(&t->apply, 10000, 2.0, 24);
}

void ha_agent_set_totals(struct ha_agent *a, struct ha_totals *t)
{
	a->totals = t;
}

int ha_agent_reported_meters(const struct ha_agent *a, size_t i, uint64_t *tx_bytes,
			     uint64_t *cpu_ns)
{
	if (i >= a->n)
		return -EINVAL;
	*tx_bytes = a->reported_tx[i];
	*cpu_ns = a->reported_cpu[i];
	return 0;
}

void ha_agent_take_stats(struct ha_agent *a, struct ha_agent_stats *out)
{
	*out = a->stats;
	memset(&a->stats, 0, sizeof(a->stats));
}

int ha_agent_revert_tenant(struct ha_agent *a, const char *tenant, char *why, size_t why_len)
{
	long t = find_tenant(a, tenant);
	int ret = 0;

	if (t < 0)
		return -ENOENT;
	for (int r = ENF_RES_MIN; r <= ENF_RES_MAX; r++) {
		struct ha_slot *s = slot(a, (size_t)t, (enum enf_resource)r);
		struct enf_error err;
		if (!a->available[r])
			continue;
		int e = enf_revert(a->by_res[r], (enum enf_resource)r, &a->conf->targets[t], &err);
		if (e) {
			snprintf(why, why_len, "%s %s: %s", tenant,
				 enf_resource_name((enum enf_resource)r), err.message);
			ret = e;
			continue;
		}
		s->known = false;
	}
	return ret;
}

int ha_agent_tenant_down(struct ha_agent *a, const char *tenant, const char *reason,
			 char *why, size_t why_len)
{
	long t = find_tenant(a, tenant);

	if (t < 0)
		return -ENOENT;
	a->down[t] = true;
	snprintf(a->down_reason[t], sizeof(a->down_reason[t]), "%s", reason);
	return ha_agent_revert_tenant(a, tenant, why, why_len);
}

int ha_agent_tenant_up(struct ha_agent *a, const char *tenant)
{
	long t = find_tenant(a, tenant);

	if (t < 0)
		return -ENOENT;
	a->down[t] = false;
	a->down_reason[t][0] = '\0';
	return 0;
}

bool ha_agent_tenant_is_down(const struct ha_agent *a, const char *tenant)
{
	long t = find_tenant(a, tenant);
	return t >= 0 && a->down[t];
}

struct enf_handle *ha_agent_backend(struct ha_agent *a, enum enf_resource res)
{
	if (res < ENF_RES_MIN || res > ENF_RES_MAX)
		return NULL;
	return a->by_res[res];
}

int ha_agent_check(const struct ha_agent *a, char *why, size_t why_len)
{
#define BROKEN(...) \
	do { \
		snprintf(why, why_len, __VA_ARGS__); \
		return -EFAULT; \
	} while (0)
	int64_t ways = a->conf->capacity[ENF_LLC];

	for (int r = ENF_RES_MIN; r <= ENF_RES_MAX; r++) {
		if (!a->available[r])
			continue;
		int64_t sum = 0;
		struct enf_cpuset used;
		uint64_t used_cbm = 0;
		enf_cpuset_zero(&used);
		for (size_t t = 0; t < a->n; t++) {
			const struct ha_slot *s = slot(a, t, (enum enf_resource)r);
			const char *name = a->conf->targets[t].tenant;
			if (!s->known)
				continue;
			sum += s->s.quantity;
			if (!s->placed)
				continue;
			if (r == ENF_CORES && s->s.quantity > 0) {
				if (enf_cpuset_count(&s->s.cpus) != s->s.quantity)
					BROKEN("invariant 2: %s holds %" PRId64 " cores on %d CPUs",
					       name, s->s.quantity, enf_cpuset_count(&s->s.cpus));
				for (int c = 0; c < ENF_MAX_CPUS; c++) {
					if (!enf_cpuset_has(&s->s.cpus, c))
						continue;
					if (!enf_cpuset_has(&a->conf->cpus, c))
						BROKEN("invariant 2: %s runs on CPU %d, not sold", name,
						       c);
					if (enf_cpuset_has(&used, c))
						BROKEN("invariant 2: CPU %d given twice (%s)", c, name);
					enf_cpuset_set(&used, c);
				}
			}
			if (r == ENF_LLC) {
				uint64_t cbm = s->s.cbm;
				if (!enf_cbm_contiguous(cbm))
					BROKEN("invariant 3: %s mask %#" PRIx64 " not contiguous",
					       name, cbm);
				if (s->s.quantity > 0) {
					if (__builtin_popcountll(cbm) != s->s.quantity ||
					    (ways < 64 && (cbm >> ways)))
						BROKEN("invariant 3: %s mask %#" PRIx64 " for %" PRId64
						       " of %" PRId64 " ways", name, cbm, s->s.quantity,
						       ways);
					if (used_cbm & cbm)
						BROKEN("invariant 3: %s mask %#" PRIx64 " overlaps",
						       name, cbm);
					used_cbm |= cbm;
				}
			}
		}
		if (a->settled[r] && sum > a->conf->capacity[r])
			BROKEN("invariant 1: %" PRId64 " %s enforced, capacity %" PRId64, sum,
			       enf_resource_name((enum enf_resource)r), a->conf->capacity[r]);
	}
	for (size_t t = 0; t < a->n; t++) {
		if (a->reported_tx[t] != a->tx[t].total || a->reported_cpu[t] != a->cpu[t].total)
			BROKEN("invariant 6: %s meters out of step", a->conf->targets[t].tenant);
	}
	if (why_len)
		why[0] = '\0';
	return 0;
#undef BROKEN
}
