/* enf.c: the backend registry and the wrappers through which the agent calls backends.
 *
 * The wrappers are where every backend call is checked (resource served, setting valid
 * before apply, read-back result valid after read), counted and traced, so that a
 * backend cannot hand the agent a value that breaks its invariants and so that a test can
 * see exactly what was called. */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/error.h"
#include "common/log.h"
#include "common/plugin.h"
#include "common/resource.h"
#include "hostagent/enf.h"

extern const struct enf_backend enf_backend_fake;
extern const struct enf_backend enf_backend_tc;
extern const struct enf_backend enf_backend_sriov;
extern const struct enf_backend enf_backend_libvirt;
extern const struct enf_backend enf_backend_resctrl;
extern const struct enf_backend enf_backend_cgroup;

#define ENF_MAX_BACKENDS 32

static const struct plugin_hdr *const builtins[] = {
	&enf_backend_fake.plugin,    &enf_backend_tc.plugin,      &enf_backend_sriov.plugin,
	&enf_backend_libvirt.plugin, &enf_backend_resctrl.plugin, &enf_backend_cgroup.plugin,
};
#define NBUILTIN (sizeof(builtins) / sizeof(builtins[0]))

/* The required methods; meter is optional. */
static int backend_check(const struct plugin_hdr *h)
{
	const struct enf_backend *b = PLUGIN_OF(struct enf_backend, h);

	if (!b->create || !b->destroy || !b->probe || !b->apply || !b->read || !b->revert ||
	    !b->resources)
		return -EINVAL;
	return 0;
}

static const struct plugin_hdr *slots[ENF_MAX_BACKENDS - NBUILTIN];
/* The smallest backend struct taken ends at revert: meter came later and is optional, read
 * only when a backend's size covers it. */
static struct plugin_registry registry = {
	.kind = "enforcement backend",
	.api_version = ENF_API_VERSION,
	.min_size = offsetof(struct enf_backend, meter),
	.builtin = builtins,
	.nbuiltin = NBUILTIN,
	.check = backend_check,
	.slots = slots,
	.max = ENF_MAX_BACKENDS - NBUILTIN,
};

/* The wrappers take err NULL too (the caller does not want the text): they write here. */
#define ERR_OR_SCRATCH(err)      \
	struct enf_error scratch_; \
	if (!(err))                \
	(err) = &scratch_

struct enf_handle {
	struct enf_instance inst; /* inst.backend: the backend's methods */
	uint64_t calls;
	uint64_t failures;
};

/* Names from the one vocabulary (common/resource.h); egress is not enforced here. */
const char *enf_resource_name(enum enf_resource r)
{
	if (r < ENF_RES_MIN || r > ENF_RES_MAX)
		return "?";
	return raas_resource_name((int)r);
}

int enf_resource_parse(const char *name, enum enf_resource *out)
{
	enum raas_resource r;

	if (raas_resource_parse(name, &r) != 0 || r < (int)ENF_RES_MIN || r > (int)ENF_RES_MAX)
		return -EINVAL;
	*out = (enum enf_resource)r;
	return 0;
}

/* ---- CPU sets and cache masks ---- */

void enf_cpuset_zero(struct enf_cpuset *s)
{
	memset(s, 0, sizeof(*s));
}

void enf_cpuset_set(struct enf_cpuset *s, int cpu)
{
	if (cpu >= 0 && cpu < ENF_MAX_CPUS)
		s->bits[cpu / 64] |= UINT64_C(1) << (cpu % 64);
}

bool enf_cpuset_has(const struct enf_cpuset *s, int cpu)
{
	if (cpu < 0 || cpu >= ENF_MAX_CPUS)
		return false;
	return (s->bits[cpu / 64] >> (cpu % 64)) & 1;
}

int enf_cpuset_count(const struct enf_cpuset *s)
{
	int n = 0;
	for (size_t i = 0; i < ENF_MAX_CPUS / 64; i++)
		n += __builtin_popcountll(s->bits[i]);
	return n;
}

bool enf_cpuset_equal(const struct enf_cpuset *a, const struct enf_cpuset *b)
{
	return memcmp(a->bits, b->bits, sizeof(a->bits)) == 0;
}

static int parse_cpu(const char **p, long *out)
{
	char *end;
	if (**p < '0' || **p > '9')
		return -RAAS_EPARSE;
	long v = strtol(*p, &end, 10);
	if (v < 0 || v >= ENF_MAX_CPUS)
		return -RAAS_EPARSE;
	*p = end;
	*out = v;
	return 0;
}

int enf_cpuset_parse(const char *text, struct enf_cpuset *out)
{
	struct enf_cpuset s;
	const char *p = text;

	enf_cpuset_zero(&s);
	while (*p == ' ' || *p == '\t')
		p++;
	while (*p && *p != '\n') {
		long a, b;
		if (parse_cpu(&p, &a))
			return -RAAS_EPARSE;
		b = a;
		if (*p == '-') {
			p++;
			if (parse_cpu(&p, &b) || b < a)
				return -RAAS_EPARSE;
		}
		for (long c = a; c <= b; c++)
			enf_cpuset_set(&s, (int)c);
		if (*p == ',')
			p++;
		else if (*p && *p != '\n' && *p != ' ')
			return -RAAS_EPARSE;
		while (*p == ' ')
			p++;
	}
	*out = s;
	return 0;
}

char *enf_cpuset_format(const struct enf_cpuset *s, char *buf, size_t len)
{
	size_t used = 0;

	if (len)
		buf[0] = '\0';
	for (int c = 0; c < ENF_MAX_CPUS; c++) {
		if (!enf_cpuset_has(s, c))
			continue;
		int e = c;
		while (e + 1 < ENF_MAX_CPUS && enf_cpuset_has(s, e + 1))
			e++;
		int n;
		if (e == c)
			n = snprintf(buf + used, len - used, "%s%d", used ? "," : "", c);
		else
			n = snprintf(buf + used, len - used, "%s%d-%d", used ? "," : "", c, e);
		if (n < 0 || (size_t)n >= len - used)
			break;
		used += (size_t)n;
		c = e;
	}
	return buf;
}

bool enf_cbm_contiguous(uint64_t cbm)
{
	if (cbm == 0)
		return false;
	uint64_t low = cbm >> __builtin_ctzll(cbm);
	return (low & (low + 1)) == 0;
}

/* ---- Registry ---- */

const struct enf_backend *enf_find(const char *name)
{
	return PLUGIN_OF(struct enf_backend, plugin_find(&registry, name));
}

int enf_register(const struct enf_backend *b)
{
	return plugin_register(&registry, b ? &b->plugin : NULL);
}

size_t enf_backends(const struct enf_backend **out, size_t max)
{
	const struct plugin_hdr *all[ENF_MAX_BACKENDS];
	size_t n = plugin_list(&registry, all, ENF_MAX_BACKENDS);

	for (size_t i = 0; out && i < n && i < max; i++)
		out[i] = PLUGIN_OF(struct enf_backend, all[i]);
	return n;
}

int enf_config_schema(struct cfg_key **out, size_t *n)
{
	const struct enf_backend *all[ENF_MAX_BACKENDS];
	size_t nb = enf_backends(all, ENF_MAX_BACKENDS), total = 0, k = 0;

	for (size_t i = 0; i < nb; i++)
		total += all[i]->nconfig_keys;
	struct cfg_key *keys = calloc(total ? total : 1, sizeof(*keys));
	if (!keys)
		return -ENOMEM;
	for (size_t i = 0; i < nb; i++)
		for (size_t j = 0; j < all[i]->nconfig_keys; j++)
			keys[k++] = all[i]->config_keys[j];
	*out = keys;
	*n = total;
	return 0;
}

int enf_fail(struct enf_error *err, int ret, const char *fmt, ...)
{
	if (err) {
		va_list ap;
		va_start(ap, fmt);
		vsnprintf(err->message, sizeof(err->message), fmt, ap);
		va_end(ap);
	}
	return ret;
}

/* ---- Wrappers ---- */

int enf_open(const char *name, const struct cfg *cfg, const struct enf_target *targets,
	     size_t ntargets, struct enf_handle **out, struct enf_error *err)
{
	const struct enf_backend *ops = enf_find(name);
	ERR_OR_SCRATCH(err);

	if (!ops) {
		char known[160];
		return enf_fail(err, -ENOENT, "no enforcement backend named \"%s\" (known: %s)",
				name ? name : "(null)", plugin_names(&registry, known, sizeof(known)));
	}
	struct enf_handle *h = calloc(1, sizeof(*h));
	if (!h)
		return enf_fail(err, -ENOMEM, "out of memory");
	h->inst.backend = ops;
	err->message[0] = '\0';
	int ret = ops->create(cfg, targets, ntargets, &h->inst, err);
	if (ret < 0) {
		if (!err->message[0])
			enf_fail(err, ret, "backend %s: %s", name, raas_strerror(ret));
		free(h);
		return ret;
	}
	log_debug("enf: opened backend %s for %zu tenants", name, ntargets);
	*out = h;
	return 0;
}

void enf_close(struct enf_handle *h)
{
	if (!h)
		return;
	h->inst.backend->destroy(&h->inst);
	free(h);
}

const char *enf_name(const struct enf_handle *h)
{
	return h->inst.backend->name;
}

bool enf_serves(const struct enf_handle *h, enum enf_resource res)
{
	return res >= ENF_RES_MIN && res <= ENF_RES_MAX &&
	       (h->inst.backend->resources & ENF_RES_BIT(res));
}

struct enf_instance *enf_instance(struct enf_handle *h)
{
	return &h->inst;
}

uint64_t enf_calls(const struct enf_handle *h)
{
	return h->calls;
}

uint64_t enf_failures(const struct enf_handle *h)
{
	return h->failures;
}

/* Counts a finished call and makes sure a failure carries a message. */
static int done(struct enf_handle *h, const char *op, enum enf_resource res,
		const struct enf_target *t, int ret, struct enf_error *err)
{
	const char *name = h->inst.backend->name;

	h->calls++;
	if (ret < 0 && ret != -ENOENT) {
		h->failures++;
		if (!err->message[0])
			enf_fail(err, ret, "%s %s %s%s%s: %s", name, op, enf_resource_name(res),
				 t ? " for tenant " : "", t ? t->tenant : "", raas_strerror(ret));
		log_debug("enf: %s %s %s %s -> %d (%s)", name, op, enf_resource_name(res),
			  t ? t->tenant : "-", ret, err->message);
	} else {
		log_debug("enf: %s %s %s %s -> %d", name, op, enf_resource_name(res),
			  t ? t->tenant : "-", ret);
	}
	return ret;
}

static int check_served(struct enf_handle *h, enum enf_resource res, const char *op,
			struct enf_error *err)
{
	err->message[0] = '\0';
	if (!enf_serves(h, res))
		return enf_fail(err, -EINVAL, "backend %s cannot %s %s", h->inst.backend->name, op,
				enf_resource_name(res));
	return 0;
}

static int check_setting(enum enf_resource res, const struct enf_setting *s,
			 struct enf_error *err)
{
	if (s->quantity < 0)
		return enf_fail(err, -EINVAL, "negative %s quantity %lld", enf_resource_name(res),
				(long long)s->quantity);
	if (res == ENF_CORES) {
		int n = enf_cpuset_count(&s->cpus);
		if (n == 0 || (s->quantity > 0 && n != s->quantity))
			return enf_fail(err, -EINVAL, "%lld cores but a CPU set of %d",
					(long long)s->quantity, n);
	}
	if (res == ENF_LLC) {
		if (!enf_cbm_contiguous(s->cbm))
			return enf_fail(err, -EINVAL, "cache mask %#llx is empty or not contiguous",
					(unsigned long long)s->cbm);
		if (s->quantity > 0 && __builtin_popcountll(s->cbm) != s->quantity)
			return enf_fail(err, -EINVAL, "%lld ways but cache mask %#llx",
					(long long)s->quantity, (unsigned long long)s->cbm);
	}
	return 0;
}

int enf_probe(struct enf_handle *h, enum enf_resource res, struct enf_error *err)
{
	ERR_OR_SCRATCH(err);
	int ret = check_served(h, res, "probe", err);
	if (ret)
		return ret;
	ret = h->inst.backend->probe(&h->inst, res, err);
	return done(h, "probe", res, NULL, ret, err);
}

int enf_apply(struct enf_handle *h, enum enf_resource res, const struct enf_target *t,
	      const struct enf_setting *s, struct enf_error *err)
{
	ERR_OR_SCRATCH(err);
	int ret = check_served(h, res, "apply", err);
	if (ret)
		return ret;
	ret = check_setting(res, s, err);
	if (ret)
		return done(h, "apply", res, t, ret, err);
	ret = h->inst.backend->apply(&h->inst, res, t, s, err);
	if (ret > 0)
		ret = 0;
	return done(h, "apply", res, t, ret, err);
}

int enf_read(struct enf_handle *h, enum enf_resource res, const struct enf_target *t,
	     struct enf_setting *out, struct enf_error *err)
{
	ERR_OR_SCRATCH(err);
	int ret = check_served(h, res, "read", err);
	if (ret)
		return ret;
	memset(out, 0, sizeof(*out));
	ret = h->inst.backend->read(&h->inst, res, t, out, err);
	if (ret == 0 && out->quantity < 0)
		ret = enf_fail(err, -EIO, "backend %s read a negative %s quantity for %s",
			       h->inst.backend->name, enf_resource_name(res), t->tenant);
	return done(h, "read", res, t, ret, err);
}

int enf_revert(struct enf_handle *h, enum enf_resource res, const struct enf_target *t,
	       struct enf_error *err)
{
	ERR_OR_SCRATCH(err);
	int ret = check_served(h, res, "revert", err);
	if (ret)
		return ret;
	ret = h->inst.backend->revert(&h->inst, res, t, err);
	return done(h, "revert", res, t, ret, err);
}

int enf_meter(struct enf_handle *h, enum enf_resource res, const struct enf_target *targets,
	      size_t n, struct enf_meter *out, struct enf_error *err)
{
	ERR_OR_SCRATCH(err);
	int ret = check_served(h, res, "meter", err);
	if (ret)
		return ret;
	memset(out, 0, n * sizeof(*out));
	if (!PLUGIN_HAS(h->inst.backend, meter))
		return enf_fail(err, -ENOTSUP, "backend %s has no meters", h->inst.backend->name);
	ret = h->inst.backend->meter(&h->inst, res, targets, n, out, err);
	return done(h, "meter", res, NULL, ret, err);
}
