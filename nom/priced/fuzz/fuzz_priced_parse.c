/* fuzz_priced_parse.c: nom-priced's text parsers: kernel CPU lists (cpuset files) and the
 * subscription list. The first byte chooses the parser; the rest is its input. */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "priced.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (size < 1)
		return 0;
	const char *text = (const char *)data + 1;
	size_t len = size - 1;

	if (data[0] & 1) {
		uint64_t mask[BB_CPU_WORDS], out[BB_CPU_WORDS];
		if (priced_cpulist_parse(text, len, mask) == 0)
			priced_cpus_pick(mask, 5, out);
	} else {
		char *s = malloc(len + 1);
		struct priced_sub subs[PRICED_MAX_SUBS];
		char why[200];
		if (!s)
			return 0;
		memcpy(s, text, len);
		s[len] = 0;
		priced_subs_parse(s, subs, PRICED_MAX_SUBS, why, sizeof(why));
		free(s);
	}
	return 0;
}
