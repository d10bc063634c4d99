/* agent_util.h: helpers for tests that drive the agent core: building AllocationSet
 * envelopes and decoding what the agent answers. Header-only (static functions). */
#ifndef HOSTAGENT_TESTS_AGENT_UTIL_H
#define HOSTAGENT_TESTS_AGENT_UTIL_H

#include <stdlib.h>
#include <string.h>

#include "common/wire.h"
#include "test.h"

struct alloc {
	const char *tenant;
	int resource;
	int64_t quantity;
};

/* An encoded AllocationSet envelope (malloc'd into *buf). */
static inline void set_bytes(uint64_t round, const char *host, const struct alloc *al, size_t n,
			     uint8_t **buf, size_t *len)
{
	Raas__Envelope e;
	Raas__AllocationSet set = RAAS__ALLOCATION_SET__INIT;
	Raas__Allocation *a = calloc(n ? n : 1, sizeof(*a));
	Raas__Allocation **ap = calloc(n ? n : 1, sizeof(*ap));
	for (size_t i = 0; i < n; i++) {
		raas__allocation__init(&a[i]);
		a[i].tenant = (char *)al[i].tenant;
		a[i].resource = (Raas__Resource)al[i].resource;
		a[i].host = (char *)host;
		a[i].quantity = al[i].quantity;
		ap[i] = &a[i];
	}
	set.round = round;
	set.host = (char *)host;
	set.n_allocations = n;
	set.allocations = ap;
	wire_envelope_init(&e, 0);
	e.body_case = RAAS__ENVELOPE__BODY_ALLOCATION_SET;
	e.allocation_set = &set;
	ASSERT_OK(wire_encode(&e, buf, len));
	free(a);
	free(ap);
}

/* Decodes an envelope the agent produced; aborts the test if it does not decode. */
static inline Raas__Envelope *decode(const uint8_t *buf, size_t len)
{
	Raas__Envelope *e;
	char why[256];
	if (wire_decode(buf, len, WIRE_MAX_BYTES, &e, why, sizeof(why)))
		TEST_FAIL("agent output does not decode: %s", why);
	return e;
}

#endif
