/* fuzz_econ_profile.c: libFuzzer target for the profile CSV parser: any bytes parse into a
 * profile that keeps its invariants, or fail with a message; then the optimizer runs over
 * every level it found. */
#include <stddef.h>
#include <stdint.h>

#include "nom/econ_optimize.h"
#include "nom/econ_profile.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct econ_profile *p;
	struct econ_error err;
	char buf[1024];

	if (econ_profile_parse("fuzz", (const char *)data, size, &p, &err) != 0) {
		econ_error_format(&err, buf, sizeof(buf));
		return 0;
	}
	econ_profile_check(p);
	for (size_t a = 0; a < p->napps; a++) {
		for (size_t l = 0; l < p->apps[a].nlevels; l++) {
			const struct econ_level *lvl = &p->apps[a].levels[l];
			struct econ_utility u;
			struct econ_menu m;
			struct econ_segment segs[ECON_MENU_MAX];
			econ_utility_thesis((enum econ_kind)((a + l) % 3), &u);
			if (econ_menu_build(lvl, &u, &m) == 0) {
				(void)econ_menu_pick(&m, 1.0);
				(void)econ_menu_curve(&m, 1.0, segs, ECON_MENU_MAX);
			}
		}
	}
	econ_profile_destroy(p);
	return 0;
}
