/* fuzz_sim_study.c: libFuzzer target for the study-file reader: any text is a study whose
 * every combination of levels loads as a scenario, or fails with a STUDY:LINE message; a
 * loaded study's every run expands. The scenario path resolves against sim/scenarios/. */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>

#include "study.h"

#ifndef SIM_FUZZ_DIR
#define SIM_FUZZ_DIR "."
#endif

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct sim_study *s;
	char why[1024];

	if (size > 16384)
		return 0;
	if (sim_study_parse("fuzz.ini", (const char *)data, size, SIM_FUZZ_DIR, &s, why,
			    sizeof(why)) != 0)
		return 0;
	char *buf = malloc(16384);
	if (!buf)
		abort();
	/* Every run of a small study, the first and last of a large one. */
	for (size_t i = 0; i < s->nruns; i = i < 64 || i + 1 == s->nruns ? i + 1 : s->nruns - 1) {
		struct sim_study_run run;
		if (sim_study_run_at(s, i, &run, buf, 16384) == 0 && run.seed != s->seeds[i % s->nseeds])
			abort();
	}
	free(buf);
	sim_study_destroy(s);
	return 0;
}
