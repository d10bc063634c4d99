/* registry.c: pricing models by name: the built-ins and any a program registers.
 *
 * The registry is the one piece of process-wide state in the library: a fixed table of
 * built-in models and a bounded list of registered ones. Registration is meant for program
 * start (before any thread clears); lookups only read. */
#include <errno.h>
#include <stddef.h>
#include <string.h>

#include "common/error.h"
#include "pm_internal.h"
#include "pricing/models.h"

static const struct pm_model *const builtins[] = {
	&pm_model_fixed,        &pm_model_uniform,     &pm_model_vcg,
	&pm_model_psp,          &pm_model_mpsp,        &pm_model_proportional,
	&pm_model_spot_ar1,     &pm_model_utilization, &pm_model_trace,
	&pm_model_spot_ar1_paper,
};
#define NBUILTIN (sizeof(builtins) / sizeof(builtins[0]))
#define MAX_REGISTERED 64

static const struct pm_model *registered[MAX_REGISTERED];
static size_t nregistered;

const struct pm_model *pm_find(const char *name)
{
	if (!name)
		return NULL;
	for (size_t i = 0; i < NBUILTIN; i++)
		if (strcmp(builtins[i]->name, name) == 0)
			return builtins[i];
	for (size_t i = 0; i < nregistered; i++)
		if (strcmp(registered[i]->name, name) == 0)
			return registered[i];
	return NULL;
}

static bool valid_name(const char *s)
{
	if (!s || !*s || strlen(s) > 63)
		return false;
	for (; *s; s++)
		if (!((*s >= 'a' && *s <= 'z') || (*s >= '0' && *s <= '9') || *s == '_' ||
		      *s == '-'))
			return false;
	return true;
}

int pm_register(const struct pm_model *m)
{
	if (!m)
		return -EINVAL;
	if (m->api_version != PM_API_VERSION || m->size < offsetof(struct pm_model, check))
		return -RAAS_EVERSION;
	if (!valid_name(m->name) || !m->create || !m->destroy || !m->clear ||
	    (m->nparams && !m->params))
		return -EINVAL;
	for (size_t i = 0; i < m->nparams; i++)
		if (!valid_name(m->params[i].name) || strchr(m->params[i].name, '-'))
			return -EINVAL;
	if (pm_find(m->name))
		return -EEXIST;
	if (nregistered == MAX_REGISTERED)
		return -ENOSPC;
	registered[nregistered++] = m;
	return 0;
}

size_t pm_models(const struct pm_model **out, size_t max)
{
	size_t n = 0;
	for (size_t i = 0; i < NBUILTIN; i++, n++)
		if (out && n < max)
			out[n] = builtins[i];
	for (size_t i = 0; i < nregistered; i++, n++)
		if (out && n < max)
			out[n] = registered[i];
	return n;
}
