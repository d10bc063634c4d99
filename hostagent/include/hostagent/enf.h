/* enf.h: the enforcement backend interface of raas-hostagentd.
 *
 * A backend turns "tenant T holds Q units of resource R on this host" into kernel or
 * hypervisor state (a tc HTB class, an SR-IOV VF rate, a resctrl schemata line, a cgroup
 * limit, a libvirt domain parameter) and reads that state back. Every backend follows one
 * template (STYLE.md "Plugins"): a versioned struct enf_backend of function pointers,
 * registered by name, optional methods NULL, called only through the enf_*() wrappers below,
 * which check arguments and results, count calls and log each one at debug level.
 *
 * Units at this interface are the market's (docs/units.md): cores, MiB, Mbit/s, LLC ways.
 * Each backend converts at its own edge (tc: bytes/s; VF rates: Mbit/s; libvirt: KB/s and
 * KiB; cgroups: bytes and CPU lists; resctrl: capacity bitmasks).
 *
 * Quantity 0 means "holds nothing": the backend enforces its floor (the lowest rate it can
 * express, the idle CPU set, a minimal memory limit), never "unlimited". Reading back a floor
 * gives quantity 0. */
#ifndef HOSTAGENT_ENF_H
#define HOSTAGENT_ENF_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "common/config.h"
#include "common/plugin.h"
#include "common/resource.h"

/* 2: create fills the shared struct enf_instance (its state) instead of returning a
 * backend-defined one; a backend built against 1 is refused. */
#define ENF_API_VERSION 2

/* Resources a backend can enforce: the allocated ones of the one vocabulary
 * (common/resource.h), so values equal raas.proto's Resource numbers. */
enum enf_resource {
	ENF_CORES = RAAS_RES_CORES,
	ENF_MEMORY = RAAS_RES_MEMORY,
	ENF_BANDWIDTH = RAAS_RES_BANDWIDTH,
	ENF_LLC = RAAS_RES_LLC,
};
#define ENF_RES_MIN ENF_CORES
#define ENF_RES_MAX ENF_LLC
#define ENF_RES_BIT(r) (1u << (r))

/* "cores", "memory", "bandwidth", "llc"; "?" otherwise. */
const char *enf_resource_name(enum enf_resource r);
/* Parses a resource name. Returns 0 or -EINVAL. */
int enf_resource_parse(const char *name, enum enf_resource *out);

#define ENF_MAX_CPUS 1024
struct enf_cpuset {
	uint64_t bits[ENF_MAX_CPUS / 64];
};

void enf_cpuset_zero(struct enf_cpuset *s);
void enf_cpuset_set(struct enf_cpuset *s, int cpu);
bool enf_cpuset_has(const struct enf_cpuset *s, int cpu);
int enf_cpuset_count(const struct enf_cpuset *s);
bool enf_cpuset_equal(const struct enf_cpuset *a, const struct enf_cpuset *b);
/* Parses a kernel CPU list ("0-3,8,10-11"; "" is empty). Returns 0 or -RAAS_EPARSE. */
int enf_cpuset_parse(const char *text, struct enf_cpuset *out);
/* Formats a CPU list ("0-3,8"); "" when empty. Returns buf. */
char *enf_cpuset_format(const struct enf_cpuset *s, char *buf, size_t len);

/* True when cbm is non-zero and its set bits are contiguous. */
bool enf_cbm_contiguous(uint64_t cbm);

/* What one tenant holds of one resource, as enforced. */
struct enf_setting {
	int64_t quantity;       /* the resource's unit; 0: holds nothing (the floor) */
	struct enf_cpuset cpus; /* cores: the CPUs (count == quantity, or the idle set at 0) */
	uint64_t cbm;           /* llc: capacity bitmask (contiguous, popcount == quantity, or
				   the idle mask at 0) */
};

/* How one tenant maps to what the backends enforce (from [tenant.NAME] in the config).
 * Strings are borrowed from the config; a backend uses only the fields it needs. */
struct enf_target {
	const char *tenant;     /* the market's tenant name */
	uint32_t index;         /* position in the config: a stable order */
	/* tc */
	const char *ifname;     /* interface whose egress carries the tenant's traffic */
	uint32_t tc_class;      /* HTB class minor (1..0xfff) */
	uint32_t src_addr;      /* IPv4 source match, network order; src_prefix 0: no match
				   (the tenant's class is the interface's default class) */
	int src_prefix;
	/* sriov */
	const char *pf;         /* physical function interface */
	int vf;                 /* VF number, -1: none */
	/* cgroup */
	const char *cgroup;     /* path under the backend's parent group */
	/* libvirt */
	const char *domain;
	const char *vif;        /* interface target dev or MAC */
	/* resctrl */
	const char *resctrl_group;
};

/* Per-tenant meters; monotonic within one backend instance's life unless a kernel object
 * was re-created (the agent keeps the report monotonic across that). */
struct enf_meter {
	uint64_t tx_bytes;
	uint64_t cpu_ns;
	bool has_tx;
	bool has_cpu;
};

/* What went wrong, in words an operator can act on (names the tenant, file, interface). */
struct enf_error {
	char message[256];
};

struct enf_backend;

/* An open backend, the one definition every backend shares: the wrappers own the common
 * part (which backend, its call counts, its errors); the backend owns only its state,
 * which its create sets and its destroy frees (a backend's own struct X_state behind it). */
struct enf_instance {
	const struct enf_backend *backend; /* set by enf_open before create */
	void *state;                       /* the backend's own; NULL until create sets it */
};

struct enf_backend {
	/* api_version ENF_API_VERSION, size sizeof(struct enf_backend) the backend was built
	 * with, name "tc" (common/plugin.h: a backend built against an older, smaller struct
	 * registers, and the optional methods it lacks are absent) */
	PLUGIN_HEADER;
	const char *summary;  /* one line */
	uint32_t resources;   /* ENF_RES_BIT() of each resource it can enforce */
	/* Config keys of its own section (section == name); may be NULL. */
	const struct cfg_key *config_keys;
	size_t nconfig_keys;

	/* Opens the backend: reads its section of cfg (borrowed), learns the tenants it will
	 * serve (targets borrowed: they outlive the instance). Touches no tenant's enforcement.
	 * Sets inst->state to its own state. On failure returns a negative errno or project
	 * error with err filled, nothing held. */
	int (*create)(const struct cfg *cfg, const struct enf_target *targets, size_t ntargets,
		      struct enf_instance *inst, struct enf_error *err);
	/* Frees inst->state (also when it is NULL). */
	void (*destroy)(struct enf_instance *inst);
	/* Can this host enforce res for these tenants? 0, -ENOTSUP where the host lacks the
	 * feature (err says what is missing), or another negative errno. No side effects. */
	int (*probe)(struct enf_instance *inst, enum enf_resource res, struct enf_error *err);
	/* Enforces s for tenant t, changing in place what exists (no teardown, so traffic and
	 * tasks are not interrupted). Returns 0 or a negative errno with err filled; on failure
	 * what was enforced before stays enforced where the kernel allows. */
	int (*apply)(struct enf_instance *inst, enum enf_resource res, const struct enf_target *t,
		     const struct enf_setting *s, struct enf_error *err);
	/* Reads back what is enforced for t: 0 with *out filled, -ENOENT when nothing is, or
	 * another negative errno. */
	int (*read)(struct enf_instance *inst, enum enf_resource res, const struct enf_target *t,
		    struct enf_setting *out, struct enf_error *err);
	/* Removes what apply created for t (the tenant is no longer enforced at all). 0 also
	 * when nothing was there. */
	int (*revert)(struct enf_instance *inst, enum enf_resource res, const struct enf_target *t,
		      struct enf_error *err);
	/* Optional (NULL: no meters). Reads the meters of n tenants at once (one dump per
	 * round), filling out[i] for targets[i]; fields it does not meter stay unset. */
	int (*meter)(struct enf_instance *inst, enum enf_resource res,
		     const struct enf_target *targets, size_t n, struct enf_meter *out,
		     struct enf_error *err);
};

/* ---- Registry ---- */

/* A built-in backend (fake, tc, sriov, libvirt, resctrl, cgroup) or one registered with
 * enf_register(); NULL when none has that name. */
const struct enf_backend *enf_find(const char *name);
/* Registers a backend (borrowed: must outlive the process). Returns 0, -EEXIST,
 * -RAAS_EVERSION for another api_version or a struct that ends before revert (meter is
 * optional), -ENOSPC past 32 backends, or -EINVAL for a bad name or a backend
 * missing a required method. */
int enf_register(const struct enf_backend *b);
/* All registered backends; returns the count (stores up to max). */
size_t enf_backends(const struct enf_backend **out, size_t max);
/* The config keys of every registered backend, for the daemon's schema: a malloc'd array
 * (caller frees) of *n keys. Returns 0 or -ENOMEM. */
int enf_config_schema(struct cfg_key **out, size_t *n);

/* ---- Wrappers: the only way the agent calls a backend ---- */

struct enf_handle; /* an open backend: its instance + call statistics */

/* Opens the named backend over cfg and targets (both borrowed, must outlive the handle).
 * Unknown names are refused (-ENOENT, err lists the known ones). */
int enf_open(const char *name, const struct cfg *cfg, const struct enf_target *targets,
	     size_t ntargets, struct enf_handle **out, struct enf_error *err);
void enf_close(struct enf_handle *h);
const char *enf_name(const struct enf_handle *h);
bool enf_serves(const struct enf_handle *h, enum enf_resource res);
/* The handle's instance (tests use it with the fake's helpers). Borrowed. */
struct enf_instance *enf_instance(struct enf_handle *h);
uint64_t enf_calls(const struct enf_handle *h);
uint64_t enf_failures(const struct enf_handle *h);

int enf_probe(struct enf_handle *h, enum enf_resource res, struct enf_error *err);
/* Checks s against res (quantity >= 0; cores: the CPU count matches; llc: contiguous
 * mask of quantity bits) before the backend sees it: -EINVAL otherwise. */
int enf_apply(struct enf_handle *h, enum enf_resource res, const struct enf_target *t,
	      const struct enf_setting *s, struct enf_error *err);
int enf_read(struct enf_handle *h, enum enf_resource res, const struct enf_target *t,
	     struct enf_setting *out, struct enf_error *err);
int enf_revert(struct enf_handle *h, enum enf_resource res, const struct enf_target *t,
	       struct enf_error *err);
/* -ENOTSUP when the backend has no meters. */
int enf_meter(struct enf_handle *h, enum enf_resource res, const struct enf_target *targets,
	      size_t n, struct enf_meter *out, struct enf_error *err);

/* Fills err->message (printf) and returns ret (a negative errno): a helper for backends. */
int enf_fail(struct enf_error *err, int ret, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

#endif
