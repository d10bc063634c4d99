/* fuzz_wire.c: libFuzzer target for the wire layer (wire_decode, wire_encode).
 *
 * Each input is used twice. As raw bytes: anything is refused or decoded cleanly. As a
 * recipe (wire_build.h): a well-formed Envelope built through the descriptors is encoded,
 * must decode (when its version is the protocol's and it has a body; refused with the
 * reason otherwise), and must encode again to the same bytes. The recipe path is what gives
 * the fuzzer coverage: protobuf-c itself is not instrumented. */
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/error.h"
#include "common/wire.h"
#include "wire_build.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void raw(const uint8_t *data, size_t size)
{
	Raas__Envelope *e;
	char why[256];

	if (wire_decode(data, size, 1 << 16, &e, why, sizeof(why)) == 0) {
		(void)wire_body_name(e);
		uint8_t *buf;
		size_t len;
		if (wire_encode(e, &buf, &len) == 0)
			free(buf);
		wire_free(e);
	} else if (!why[0]) {
		abort(); /* a refusal always says why */
	}
}

static void recipe(const uint8_t *data, size_t size)
{
	Raas__Envelope *b = wire_build_envelope(data, size), *d;
	uint8_t *buf, *again;
	size_t len, alen;
	char why[256];

	if (!b)
		return;
	bool valid = b->version == RAAS__PROTOCOL_VERSION__PROTOCOL_MAJOR &&
		     b->body_case != RAAS__ENVELOPE__BODY__NOT_SET;
	(void)wire_body_name(b);
	if (wire_encode(b, &buf, &len) != 0) {
		wire_build_free(b);
		return;
	}
	wire_build_free(b);
	int err = wire_decode(buf, len, 1 << 20, &d, why, sizeof(why));
	if (valid != (err == 0) || (err && !why[0])) {
		fprintf(stderr, "fuzz_wire: built message: decode %d (%s), valid %d\n", err, why,
			valid);
		abort();
	}
	if (!err) {
		if (wire_encode(d, &again, &alen) != 0)
			abort();
		if (alen != len || memcmp(again, buf, len) != 0) {
			fprintf(stderr, "fuzz_wire: %s: %zu bytes encode again as %zu different ones\n",
				wire_body_name(d), len, alen);
			abort();
		}
		free(again);
		wire_free(d);
	}
	free(buf);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	raw(data, size);
	recipe(data, size);
	return 0;
}
