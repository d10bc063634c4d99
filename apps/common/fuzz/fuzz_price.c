/* fuzz_price.c: libFuzzer target for the price schedule parser: any text parses or fails with
 * a message, and a parsed schedule answers every time with a finite price >= 0. */
#include <stdint.h>
#include <stdlib.h>

#include "app/price.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct price_source *s;
	char err[256];

	if (price_schedule_parse("fuzz", (const char *)data, size, &s, err, sizeof(err)) == 0) {
		static const int64_t at[] = {0, 1, 999999999, 1000000000, 60000000000, INT64_MAX};

		for (size_t i = 0; i < sizeof(at) / sizeof(at[0]); i++) {
			double p;
			int64_t next;

			if (price_get(s, at[i], &p, &next) != 0 || p < 0 ||
			    (next <= at[i] && next != INT64_MAX))
				abort();
		}
		price_destroy(s);
	}
	return 0;
}
