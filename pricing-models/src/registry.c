/* registry.c: pricing models by name: the built-ins and any a program registers.
 *
 * The registry is the one piece of process-wide state in the library: a fixed table of
 * built-in models and a bounded list of registered ones. Registration is meant for program
 * start (before any thread clears); lookups only read. */
#include <errno.h>
#include <stddef.h>
#include <string.h>

#include "common/error.h"
#include "common/plugin.h"
#include "pm_internal.h"
#include "pricing/models.h"

static const struct plugin_hdr *const builtins[] = {
	&pm_model_fixed.plugin,        &pm_model_uniform.plugin,
	&pm_model_vcg.plugin,          &pm_model_psp.plugin,
	&pm_model_mpsp.plugin,         &pm_model_proportional.plugin,
	&pm_model_spot_ar1.plugin,     &pm_model_utilization.plugin,
	&pm_model_trace.plugin,        &pm_model_spot_ar1_paper.plugin,
};
#define MAX_REGISTERED 64

/* A model's own requirements beyond the header: the three required methods and parameter
 * names that are identifiers (no '-', they become params of a struct). */
static int model_check(const struct plugin_hdr *h)
{
	const struct pm_model *m = PLUGIN_OF(struct pm_model, h);

	if (!m->create || !m->destroy || !m->clear || (m->nparams && !m->params))
		return -EINVAL;
	for (size_t i = 0; i < m->nparams; i++)
		if (!plugin_name_ok(m->params[i].name) || strchr(m->params[i].name, '-'))
			return -EINVAL;
	return 0;
}

static const struct plugin_hdr *slots[MAX_REGISTERED];
/* API 1's first release ended at posted_price: smaller structs are refused, and check,
 * appended later, is read only when a model's size covers it. */
static struct plugin_registry registry = {
	.kind = "pricing model",
	.api_version = PM_API_VERSION,
	.min_size = offsetof(struct pm_model, check),
	.builtin = builtins,
	.nbuiltin = sizeof(builtins) / sizeof(builtins[0]),
	.check = model_check,
	.slots = slots,
	.max = MAX_REGISTERED,
};

const struct pm_model *pm_find(const char *name)
{
	return PLUGIN_OF(struct pm_model, plugin_find(&registry, name));
}

int pm_register(const struct pm_model *m)
{
	return plugin_register(&registry, m ? &m->plugin : NULL);
}

size_t pm_models(const struct pm_model **out, size_t max)
{
	const struct plugin_hdr *all[MAX_REGISTERED + sizeof(builtins) / sizeof(builtins[0])];
	size_t n = plugin_list(&registry, all, sizeof(all) / sizeof(all[0]));

	for (size_t i = 0; out && i < n && i < max; i++)
		out[i] = PLUGIN_OF(struct pm_model, all[i]);
	return n;
}
