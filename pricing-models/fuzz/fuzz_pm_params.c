/* fuzz_pm_params.c: libFuzzer target for pm_params_parse() and the parameter checks of
 * pm_create(): any text parses or is refused with a message; parsed parameters are then
 * offered to every model that does no I/O (all but trace), which must either refuse them with
 * a message or create an instance that clears a small pool within its contract. */
#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "pricing/pm.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const char *const models[] = {"fixed", "uniform", "vcg", "psp", "mpsp",
					     "proportional", "spot-ar1", "spot-ar1-paper",
					     "utilization"};
	struct pm_param p[16];
	struct pm_error err;
	char *storage = NULL;

	if (size > 4096)
		return 0;
	char *text = malloc(size + 1);
	if (!text)
		return 0;
	memcpy(text, data, size);
	text[size] = '\0';
	int n = pm_params_parse(text, p, 16, &storage, &err);
	free(text);
	if (n < 0) {
		if (storage || !err.message[0])
			abort();
		return 0;
	}
	for (int i = 0; i < n; i++)
		if (!p[i].name[0])
			abort();
	struct pm_segment curve[] = {{2, 90000000}, {3, 40000000}};
	struct pm_bid bids[] = {
		{.bidder = 1, .max_quantity = 5, .unit_price = 90000000, .curve = curve, .ncurve = 2},
		{.bidder = 2, .min_quantity = 2, .max_quantity = 4, .unit_price = 50000000, .held = 1},
	};
	for (size_t m = 0; m < sizeof(models) / sizeof(models[0]); m++) {
		struct pm_instance *inst;
		if (pm_create(models[m], p, (size_t)n, &inst, &err) != 0) {
			if (!err.message[0])
				abort();
			continue;
		}
		struct pm_outcome out[2];
		struct pm_result res = {.outcomes = out};
		struct pm_pool pool = {.supply = 6, .round_ns = 1000000000};
		int rc = pm_clear(inst, &pool, bids, 2, &res, &err);
		/* A model may refuse (no rng, tables too small) but never break its contract. */
		if (rc == -EPROTO)
			abort();
		pm_destroy(inst);
	}
	free(storage);
	return 0;
}
