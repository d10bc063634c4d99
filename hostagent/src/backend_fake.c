/* backend_fake.c: an enforcement backend that enforces nothing and remembers everything.
 *
 * It keeps per tenant and resource what it was told, records each call, fails the Nth call
 * of chosen operations (or every apply of one tenant) with a chosen errno, and can keep its
 * state in a file, and can take a while over each apply (as a slow kernel call would), so that
 * the agent's reconciliation, apply ordering, rollback and restart paths, also a kill in the
 * middle of an apply, are testable without a kernel (src/fake.h). */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "common/error.h"
#include "fake.h"

static const struct cfg_key fake_keys[] = {
	{"fake", "resources", CFG_STRING, "cores,memory,bandwidth,llc",
	 "resources the fake serves"},
	{"fake", "unsupported", CFG_STRING, "", "resources whose probe answers -ENOTSUP"},
	{"fake", "fail_op", CFG_STRING, "apply", "operation whose Nth call fails: probe, apply, "
						   "read, revert, meter"},
	{"fake", "fail_nth", CFG_INT, "0", "fail the Nth call of fail_op (0: never)"},
	{"fake", "fail_errno", CFG_INT, "5", "errno of the injected failure (default EIO)"},
	{"fake", "fail_tenant", CFG_STRING, "", "every apply for this tenant fails"},
	{"fake", "state_file", CFG_STRING, "", "keep enforced state in this file (read back "
					       "after a restart)"},
	{"fake", "journal", CFG_STRING, "", "append every call to this file"},
	{"fake", "apply_delay_ms", CFG_INT, "0", "each apply takes this long (after it is "
						 "journalled, before it is in force)"},
};

struct fake_slot {
	bool present;
	struct enf_setting s;
};

struct fake_state {
	const struct enf_target *targets;
	size_t ntargets;
	uint32_t resources;
	uint32_t unsupported;
	struct fake_slot *slots; /* ntargets x (ENF_RES_MAX + 1) */
	struct enf_fake_call *calls;
	size_t ncalls, capcalls;
	unsigned fail_ops;
	uint64_t fail_n;    /* countdown: the call that brings it to 0 fails */
	int fail_err;
	char fail_tenant[64];
	int fail_tenant_err;
	char state_file[512];
	char journal[512];
	int64_t apply_delay_ms;
};

static int parse_resources(const char *text, uint32_t *out)
{
	char buf[128];
	uint32_t mask = 0;

	snprintf(buf, sizeof(buf), "%s", text);
	for (char *save, *tok = strtok_r(buf, ", ", &save); tok; tok = strtok_r(NULL, ", ", &save)) {
		enum enf_resource r;
		if (enf_resource_parse(tok, &r))
			return -EINVAL;
		mask |= ENF_RES_BIT(r);
	}
	*out = mask;
	return 0;
}

static struct fake_slot *slot(struct fake_state *f, const char *tenant, enum enf_resource r)
{
	for (size_t i = 0; i < f->ntargets; i++)
		if (strcmp(f->targets[i].tenant, tenant) == 0)
			return &f->slots[i * (ENF_RES_MAX + 1) + r];
	return NULL;
}

static void save_state(struct fake_state *f)
{
	if (!f->state_file[0])
		return;
	char tmp[600];
	snprintf(tmp, sizeof(tmp), "%s.tmp", f->state_file);
	FILE *out = fopen(tmp, "w");
	if (!out)
		return;
	for (size_t i = 0; i < f->ntargets; i++) {
		for (int r = ENF_RES_MIN; r <= ENF_RES_MAX; r++) {
			struct fake_slot *s = &f->slots[i * (ENF_RES_MAX + 1) + r];
			if (!s->present)
				continue;
			char cpus[256];
			enf_cpuset_format(&s->s.cpus, cpus, sizeof(cpus));
			fprintf(out, "%s %s %" PRId64 " %" PRIx64 " %s\n", f->targets[i].tenant,
				enf_resource_name((enum enf_resource)r), s->s.quantity, s->s.cbm,
				cpus[0] ? cpus : "-");
		}
	}
	if (fclose(out) == 0)
		rename(tmp, f->state_file);
}

static void load_state(struct fake_state *f)
{
	FILE *in = f->state_file[0] ? fopen(f->state_file, "r") : NULL;
	if (!in)
		return;
	char tenant[64], res[16], cpus[256];
	int64_t q;
	uint64_t cbm;
	while (fscanf(in, "%63s %15s %" SCNd64 " %" SCNx64 " %255s", tenant, res, &q, &cbm,
		      cpus) == 5) {
		enum enf_resource r;
		struct fake_slot *s;
		if (enf_resource_parse(res, &r) || !(s = slot(f, tenant, r)))
			continue;
		s->present = true;
		s->s.quantity = q;
		s->s.cbm = cbm;
		if (strcmp(cpus, "-") == 0 || enf_cpuset_parse(cpus, &s->s.cpus))
			enf_cpuset_zero(&s->s.cpus);
	}
	fclose(in);
}

static const char *op_name(enum enf_fake_op op)
{
	switch (op) {
	case ENF_FAKE_PROBE: return "probe";
	case ENF_FAKE_APPLY: return "apply";
	case ENF_FAKE_READ: return "read";
	case ENF_FAKE_REVERT: return "revert";
	case ENF_FAKE_METER: return "meter";
	}
	return "?";
}

/* Records a call and decides whether it is the one that fails. Returns 0 or -errno. */
static int record(struct fake_state *f, enum enf_fake_op op, enum enf_resource res,
		  const char *tenant, const struct enf_setting *s)
{
	int ret = 0;

	if ((f->fail_ops & op) && f->fail_n > 0 && --f->fail_n == 0)
		ret = -f->fail_err;
	if (op == ENF_FAKE_APPLY && tenant && f->fail_tenant[0] &&
	    strcmp(tenant, f->fail_tenant) == 0)
		ret = -f->fail_tenant_err;
	if (f->ncalls == f->capcalls) {
		size_t cap = f->capcalls ? 2 * f->capcalls : 64;
		struct enf_fake_call *c = realloc(f->calls, cap * sizeof(*c));
		if (!c)
			return -ENOMEM;
		f->calls = c;
		f->capcalls = cap;
	}
	struct enf_fake_call *c = &f->calls[f->ncalls++];
	memset(c, 0, sizeof(*c));
	c->op = op;
	c->res = res;
	snprintf(c->tenant, sizeof(c->tenant), "%s", tenant ? tenant : "");
	if (s)
		c->setting = *s;
	c->ret = ret;
	if (f->journal[0]) {
		FILE *j = fopen(f->journal, "a");
		if (j) {
			char cpus[256];
			enf_cpuset_format(&c->setting.cpus, cpus, sizeof(cpus));
			fprintf(j, "%s %s %s %" PRId64 " cpus=%s cbm=%" PRIx64 " ret=%d\n", op_name(op),
				enf_resource_name(res), tenant ? tenant : "-", c->setting.quantity,
				cpus, c->setting.cbm, ret);
			fclose(j);
		}
	}
	return ret;
}

static void fail_nth(struct fake_state *f, unsigned ops, uint64_t n, int err)
{
	f->fail_ops = ops;
	f->fail_n = n;
	f->fail_err = err > 0 ? err : EIO;
}

static void fail_tenant(struct fake_state *f, const char *tenant, int err)
{
	snprintf(f->fail_tenant, sizeof(f->fail_tenant), "%s", tenant ? tenant : "");
	f->fail_tenant_err = err > 0 ? err : EIO;
}

static int fake_create(const struct cfg *cfg, const struct enf_target *targets, size_t n,
		       struct enf_instance *inst, struct enf_error *err)
{
	struct fake_state *f = calloc(1, sizeof(*f));
	if (!f)
		return enf_fail(err, -ENOMEM, "out of memory");
	f->targets = targets;
	f->ntargets = n;
	f->slots = calloc(n ? n * (ENF_RES_MAX + 1) : 1, sizeof(*f->slots));
	if (!f->slots) {
		free(f);
		return enf_fail(err, -ENOMEM, "out of memory");
	}
	f->resources = ENF_RES_BIT(ENF_CORES) | ENF_RES_BIT(ENF_MEMORY) |
		       ENF_RES_BIT(ENF_BANDWIDTH) | ENF_RES_BIT(ENF_LLC);
	f->fail_err = EIO;
	if (cfg) {
		const char *v;
		int64_t nth = 0, e = EIO, delay = 0;
		struct cfg_error ce;
		if ((v = cfg_get(cfg, "fake", "resources")) && parse_resources(v, &f->resources))
			goto bad;
		if ((v = cfg_get(cfg, "fake", "unsupported")) && parse_resources(v, &f->unsupported))
			goto bad;
		if (cfg_get_int(cfg, "fake", "fail_nth", &nth, &ce) ||
		    cfg_get_int(cfg, "fake", "fail_errno", &e, &ce) ||
		    cfg_get_int(cfg, "fake", "apply_delay_ms", &delay, &ce) || nth < 0 || e <= 0 ||
		    delay < 0 || delay > 60000)
			goto bad;
		f->apply_delay_ms = delay;
		unsigned ops = 0;
		v = cfg_get(cfg, "fake", "fail_op");
		for (unsigned op = ENF_FAKE_PROBE; op <= ENF_FAKE_METER; op <<= 1)
			if (v && strcmp(v, op_name((enum enf_fake_op)op)) == 0)
				ops = op;
		if (!ops)
			goto bad;
		fail_nth(f, ops, (uint64_t)nth, (int)e);
		if ((v = cfg_get(cfg, "fake", "fail_tenant")) && v[0])
			fail_tenant(f, v, (int)e);
		if ((v = cfg_get(cfg, "fake", "state_file")))
			snprintf(f->state_file, sizeof(f->state_file), "%s", v);
		if ((v = cfg_get(cfg, "fake", "journal")))
			snprintf(f->journal, sizeof(f->journal), "%s", v);
	}
	/* The files it names must be writable where they are to be (the agent's --check). */
	const char *files[2] = {f->state_file, f->journal};
	for (int i = 0; i < 2; i++) {
		char dir[512];
		const char *slash = strrchr(files[i], '/');
		if (!files[i][0] || !slash || slash == files[i])
			continue;
		snprintf(dir, sizeof(dir), "%.*s", (int)(slash - files[i]), files[i]);
		if (access(dir, W_OK | X_OK) != 0) {
			int e = errno;
			free(f->slots);
			free(f);
			return enf_fail(err, -e, "fake: %s %s: folder %s: %s",
					i ? "journal" : "state_file", files[i], dir, strerror(e));
		}
	}
	load_state(f);
	inst->state = f;
	return 0;
bad:
	free(f->slots);
	free(f);
	return enf_fail(err, -RAAS_ECONFIG,
			"fake: bad resources, unsupported, fail_op, fail_nth, fail_errno or "
			"apply_delay_ms (0..60000)");
}

static void fake_destroy(struct enf_instance *inst)
{
	struct fake_state *f = inst->state;
	if (!f)
		return;
	free(f->slots);
	free(f->calls);
	free(f);
}

static int fake_probe(struct enf_instance *inst, enum enf_resource res, struct enf_error *err)
{
	struct fake_state *f = inst->state;
	int ret = record(f, ENF_FAKE_PROBE, res, NULL, NULL);
	if (ret)
		return enf_fail(err, ret, "fake: injected probe failure");
	if (!(f->resources & ENF_RES_BIT(res)) || (f->unsupported & ENF_RES_BIT(res)))
		return enf_fail(err, -ENOTSUP, "fake: %s configured as unsupported",
				enf_resource_name(res));
	return 0;
}

static int fake_apply(struct enf_instance *inst, enum enf_resource res, const struct enf_target *t,
		      const struct enf_setting *s, struct enf_error *err)
{
	struct fake_state *f = inst->state;
	int ret = record(f, ENF_FAKE_APPLY, res, t->tenant, s);
	if (ret)
		return enf_fail(err, ret, "fake: injected failure applying %s for %s",
				enf_resource_name(res), t->tenant);
	if (f->apply_delay_ms > 0) {
		/* A slow kernel call: journalled already, not yet in force (a kill lands here). */
		struct timespec ts = {f->apply_delay_ms / 1000, (f->apply_delay_ms % 1000) * 1000000};
		while (nanosleep(&ts, &ts) != 0 && errno == EINTR)
			;
	}
	struct fake_slot *sl = slot(f, t->tenant, res);
	if (!sl)
		return enf_fail(err, -ENOENT, "fake: unknown tenant %s", t->tenant);
	sl->present = true;
	sl->s = *s;
	save_state(f);
	return 0;
}

static int fake_read(struct enf_instance *inst, enum enf_resource res, const struct enf_target *t,
		     struct enf_setting *out, struct enf_error *err)
{
	struct fake_state *f = inst->state;
	int ret = record(f, ENF_FAKE_READ, res, t->tenant, NULL);
	if (ret)
		return enf_fail(err, ret, "fake: injected read failure");
	struct fake_slot *sl = slot(f, t->tenant, res);
	if (!sl || !sl->present)
		return -ENOENT;
	*out = sl->s;
	return 0;
}

static int fake_revert(struct enf_instance *inst, enum enf_resource res, const struct enf_target *t,
		       struct enf_error *err)
{
	struct fake_state *f = inst->state;
	int ret = record(f, ENF_FAKE_REVERT, res, t->tenant, NULL);
	if (ret)
		return enf_fail(err, ret, "fake: injected revert failure");
	struct fake_slot *sl = slot(f, t->tenant, res);
	if (sl) {
		sl->present = false;
		memset(&sl->s, 0, sizeof(sl->s));
	}
	save_state(f);
	return 0;
}

/* Meters grow as if each tenant used its whole allocation for one second per call. */
static int fake_meter(struct enf_instance *inst, enum enf_resource res,
		      const struct enf_target *targets, size_t n, struct enf_meter *out,
		      struct enf_error *err)
{
	struct fake_state *f = inst->state;
	int ret = record(f, ENF_FAKE_METER, res, NULL, NULL);
	if (ret)
		return enf_fail(err, ret, "fake: injected meter failure");
	for (size_t i = 0; i < n; i++) {
		struct fake_slot *sl = slot(f, targets[i].tenant, res);
		uint64_t q = sl && sl->present ? (uint64_t)sl->s.quantity : 0;
		/* A per-call counter per tenant: the call count times the quantity. */
		if (res == ENF_BANDWIDTH) {
			out[i].has_tx = true;
			out[i].tx_bytes = (uint64_t)f->ncalls * q * 125000u;
		} else if (res == ENF_CORES) {
			out[i].has_cpu = true;
			out[i].cpu_ns = (uint64_t)f->ncalls * q * 1000000000u;
		}
	}
	return 0;
}

void enf_fake_fail_nth(struct enf_instance *inst, unsigned ops, uint64_t n, int err)
{
	fail_nth(inst->state, ops, n, err);
}

void enf_fake_fail_tenant(struct enf_instance *inst, const char *tenant, int err)
{
	fail_tenant(inst->state, tenant, err);
}

const struct enf_fake_call *enf_fake_calls(const struct enf_instance *inst, size_t *n)
{
	const struct fake_state *f = inst->state;
	*n = f->ncalls;
	return f->calls;
}

void enf_fake_clear_calls(struct enf_instance *inst)
{
	struct fake_state *f = inst->state;
	f->ncalls = 0;
}

int enf_fake_preset(struct enf_instance *inst, enum enf_resource res, const char *tenant,
		    const struct enf_setting *s)
{
	struct fake_state *f = inst->state;
	struct fake_slot *sl = slot(f, tenant, res);
	if (!sl)
		return -ENOENT;
	sl->present = true;
	sl->s = *s;
	save_state(f);
	return 0;
}

int enf_fake_state(const struct enf_instance *inst, enum enf_resource res, const char *tenant,
		   struct enf_setting *out)
{
	const struct fake_state *f = inst->state;
	struct fake_slot *sl = slot((struct fake_state *)f, tenant, res);
	if (!sl || !sl->present)
		return -ENOENT;
	*out = sl->s;
	return 0;
}

const struct enf_backend enf_backend_fake = {
	.api_version = ENF_API_VERSION,
	.size = sizeof(struct enf_backend),
	.name = "fake",
	.summary = "records calls, enforces nothing; fails on demand (tests)",
	.resources = ENF_RES_BIT(ENF_CORES) | ENF_RES_BIT(ENF_MEMORY) | ENF_RES_BIT(ENF_BANDWIDTH) |
		     ENF_RES_BIT(ENF_LLC),
	.config_keys = fake_keys,
	.nconfig_keys = sizeof(fake_keys) / sizeof(fake_keys[0]),
	.create = fake_create,
	.destroy = fake_destroy,
	.probe = fake_probe,
	.apply = fake_apply,
	.read = fake_read,
	.revert = fake_revert,
	.meter = fake_meter,
};
