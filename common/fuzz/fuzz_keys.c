/* fuzz_keys.c: libFuzzer target for the key-file parser: any text is refused or parsed into
 * keys that are valid z85 and belong together. */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "common/transport.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct tp_keypair kp;
	char why[256];

	for (int want_secret = 0; want_secret <= 1; want_secret++) {
		if (tp_key_parse((const char *)data, size, "fuzz", want_secret, &kp, why,
				 sizeof(why)) == 0) {
			if (!tp_key_valid(kp.public_key))
				abort();
			if (want_secret && !tp_key_valid(kp.secret_key))
				abort();
		}
	}
	return 0;
}
