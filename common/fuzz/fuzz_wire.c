/* fuzz_wire.c: libFuzzer target for wire_decode(): any bytes are refused or decoded cleanly. */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>

#include "common/wire.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
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
	}
	return 0;
}
