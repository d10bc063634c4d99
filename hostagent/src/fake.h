/* fake.h: the `fake` enforcement backend's test hooks (private: the backend and its tests).
 *
 * The fake enforces nothing: it keeps what it was told per tenant and resource, records
 * every call, and fails on demand, so that the agent's reconciliation, apply ordering,
 * rollback and acknowledgements can be tested without a kernel. Config keys ([fake]):
 * resources (which it serves; default all), unsupported (resources whose probe answers
 * -ENOTSUP), fail_op / fail_nth / fail_errno (fail the Nth call of that operation),
 * fail_tenant (every apply for that tenant fails), state_file (enforced state kept in a file
 * so that a restarted agent reads it back), journal (every call appended as a line) and
 * apply_delay_ms (each apply sleeps that long after its journal line and before it is in
 * force and saved: a slow kernel call, so that a test can kill the agent mid-apply). */
#ifndef HOSTAGENT_FAKE_H
#define HOSTAGENT_FAKE_H

#include <stddef.h>
#include <stdint.h>

#include "hostagent/enf.h"

enum enf_fake_op {
	ENF_FAKE_PROBE = 1,
	ENF_FAKE_APPLY = 2,
	ENF_FAKE_READ = 4,
	ENF_FAKE_REVERT = 8,
	ENF_FAKE_METER = 16,
};

struct enf_fake_call {
	enum enf_fake_op op;
	enum enf_resource res;
	char tenant[64];            /* "" for probe and meter */
	struct enf_setting setting; /* apply: what was asked */
	int ret;                    /* what the call returned */
};

/* Fails the nth call (1-based) among calls whose op is in ops (a mask), counted from now,
 * with -err. n == 0 disarms. */
void enf_fake_fail_nth(struct enf_instance *inst, unsigned ops, uint64_t n, int err);
/* Every apply for tenant fails with -err (NULL: none). */
void enf_fake_fail_tenant(struct enf_instance *inst, const char *tenant, int err);
/* The calls recorded so far (borrowed; valid until the next call into the instance). */
const struct enf_fake_call *enf_fake_calls(const struct enf_instance *inst, size_t *n);
void enf_fake_clear_calls(struct enf_instance *inst);
/* Sets what the fake reports as enforced for a tenant (as if left by an earlier run). */
int enf_fake_preset(struct enf_instance *inst, enum enf_resource res, const char *tenant,
		    const struct enf_setting *s);
/* What is enforced for a tenant: 0 and *out, or -ENOENT. */
int enf_fake_state(const struct enf_instance *inst, enum enf_resource res, const char *tenant,
		   struct enf_setting *out);

#endif
