/* fuzz_sim_scenario.c: libFuzzer target for the scenario loader: any text loads into a
 * scenario or fails with a file:line:key message; a loaded one's variants load or fail too.
 * Relative paths resolve against sim/scenarios/, so the shipped profiles are read. */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "scenario.h"

#ifndef SIM_FUZZ_DIR
#define SIM_FUZZ_DIR "."
#endif

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct sim_scenario *s, *v;
	struct cfg_error err;
	char buf[1024];

	if (size > 65536)
		return 0;
	if (sim_scenario_parse("fuzz.ini", (const char *)data, size, SIM_FUZZ_DIR, NULL, NULL, 0,
			       &s, &err) != 0) {
		cfg_error_format(&err, buf, sizeof(buf));
		return 0;
	}
	for (size_t i = 0; i < s->nvariants && i < 4; i++) {
		if (sim_scenario_parse("fuzz.ini", (const char *)data, size, SIM_FUZZ_DIR,
				       s->variants[i], NULL, 0, &v, &err) == 0)
			sim_scenario_destroy(v);
		else
			cfg_error_format(&err, buf, sizeof(buf));
	}
	sim_scenario_destroy(s);
	return 0;
}
