/* fuzz_sim_load_trace.c: libFuzzer target for the load-trace parser and the price-schedule
 * parser: any bytes parse or fail with a reason; parsed steps are ordered and in range. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "load.h"
#include "schedule.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct sim_load_trace_row *rows;
	size_t n, entry;
	char why[256];
	const char *reason;

	if (sim_load_trace_parse((const char *)data, size, &rows, &n, why, sizeof(why)) == 0) {
		for (size_t i = 0; i < n; i++)
			if ((i == 0 && rows[i].t_ns != 0) || (i > 0 && rows[i].t_ns <= rows[i - 1].t_ns) ||
			    !(rows[i].scale > 0 && rows[i].scale <= 1))
				abort();
		free(rows);
	}
	char *text = malloc(size + 1);
	if (!text)
		return 0;
	memcpy(text, data, size);
	text[size] = '\0';
	struct sim_schedule s;
	if (sim_schedule_parse(text, &s, &reason, &entry) == 0) {
		for (size_t i = 1; i < s.n; i++)
			if (s.t_ns[i] <= s.t_ns[i - 1] || s.price[i] < 0)
				abort();
		(void)sim_schedule_price(&s, s.n ? s.t_ns[s.n - 1] : 0);
		sim_schedule_fini(&s);
	}
	free(text);
	return 0;
}
