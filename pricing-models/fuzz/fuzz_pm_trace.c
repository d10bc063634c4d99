/* fuzz_pm_trace.c: libFuzzer target for the EC2 spot CSV parser (pm_trace_parse).
 *
 * Any input either parses into a trace whose invariants hold (at least one point, strictly
 * ascending times, non-negative prices, a step lookup that returns the price of the line in force) or is
 * refused with a message naming a line; it never crashes or leaks. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "pricing/trace.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct pm_trace t;
	struct pm_error err;

	if (pm_trace_parse("fuzz.csv", (const char *)data, size, &t, &err) != 0) {
		if (strncmp(err.message, "fuzz.csv", 8) != 0)
			abort(); /* every error names the file */
		return 0;
	}
	if (t.n == 0)
		abort();
	for (size_t i = 0; i < t.n; i++) {
		if (t.points[i].price < 0 || (i && t.points[i].t_ns <= t.points[i - 1].t_ns))
			abort();
	}
	size_t k = t.n / 2;
	if (pm_trace_price_at(&t, t.points[k].t_ns) != t.points[k].price ||
	    pm_trace_price_at(&t, t.points[0].t_ns - 1) != t.points[0].price)
		abort();
	pm_trace_free(&t);
	return 0;
}
