/* fuzz_nom_source.c: libFuzzer target for the price schedule parser: any text parses or fails
 * with a message, and a parsed schedule answers every time with a finite price >= 0 and a
 * next change after the time asked. */
#include <stdint.h>
#include <stdlib.h>

#include "nom/source.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct nom_source *s;
	char err[256];

	if (nom_source_schedule_parse("fuzz", (const char *)data, size, &s, err, sizeof(err)) == 0) {
		static const int64_t at[] = {0, 1, 999999999, 1000000000, 60000000000, INT64_MAX};

		for (size_t i = 0; i < sizeof(at) / sizeof(at[0]); i++) {
			struct nom_prices p;
			int64_t next;

			if (nom_source_get(s, at[i], &p, &next) != 0 || p.traffic < 0 ||
			    p.core_hour >= 0 || (next <= at[i] && next != INT64_MAX))
				abort();
		}
		nom_source_destroy(s);
	}
	return 0;
}
