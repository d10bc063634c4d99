/* plan.h: reconciliation planning: from what is enforced and what the market allocated, the
 * settings to enforce and the order in which to change them.
 *
 * Pure functions (no I/O, no backend calls), so that the agent's apply ordering is unit
 * tested exhaustively. For one resource, plan_resource() places quantities where placement
 * matters (which CPUs for cores, which contiguous ways for LLC; stable: a tenant keeps what
 * it has as far as possible, so that unchanged tenants are not touched) and orders the changes
 * shrink before grow: first every tenant whose quantity goes down, then those that keep
 * their quantity but move, then those that grow. At every step the sum of what is enforced
 * stays within capacity, and a tenant whose setting does not change gets no step at all
 * (reconciliation without interrupting anyone). */
#ifndef HOSTAGENT_PLAN_H
#define HOSTAGENT_PLAN_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "hostagent/enf.h"

struct plan_input {
	enum enf_resource res;
	size_t n;                     /* tenants, in config order */
	const struct enf_setting *cur;/* n: what is enforced (when cur_known[i]) */
	const bool *cur_known;        /* n: false: nothing enforced / unknown */
	const int64_t *want;          /* n: the allocation (0: holds nothing) */
	int64_t capacity;             /* units of res on this host */
	/* cores */
	struct enf_cpuset cpus;       /* the CPUs the market sells (count == capacity) */
	struct enf_cpuset idle_cpus;  /* where a tenant with 0 cores runs */
	/* llc */
	uint64_t idle_cbm;            /* the mask of a tenant with 0 ways (contiguous) */
};

struct plan_step {
	size_t tenant;                /* index into the input arrays */
	bool from_known;              /* false: nothing enforced before (rollback = revert) */
	struct enf_setting from;
	struct enf_setting to;
};

/* Computes target[i] for every tenant and the ordered steps (at most n) into steps, their count into *nsteps.
 * Returns 0, -RAAS_ENOSUPPLY when the allocations exceed capacity (why says by how much),
 * or -EINVAL for a negative quantity. */
int plan_resource(const struct plan_input *in, struct enf_setting *target,
		  struct plan_step *steps, size_t *nsteps, char *why, size_t why_len);

/* Whether two settings of res enforce the same thing. */
bool plan_setting_equal(enum enf_resource res, const struct enf_setting *a,
			const struct enf_setting *b);

#endif
