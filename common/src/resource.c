/* resource.c: the one table of resource names and units (resource.h). */
#include <string.h>

#include "common/error.h"
#include "common/resource.h"

static const struct {
	const char *name;
	const char *unit;
} table[] = {
	[RAAS_RES_CORES] = {"cores", "cores"},
	[RAAS_RES_MEMORY] = {"memory", "MiB"},
	[RAAS_RES_BANDWIDTH] = {"bandwidth", "Mbit/s"},
	[RAAS_RES_LLC] = {"llc", "ways"},
	[RAAS_RES_EGRESS] = {"egress", "bytes"},
};

const char *raas_resource_name(int r)
{
	return r >= RAAS_RES_MIN && r <= RAAS_RES_MAX ? table[r].name : "?";
}

const char *raas_resource_unit(int r)
{
	return r >= RAAS_RES_MIN && r <= RAAS_RES_MAX ? table[r].unit : "?";
}

int raas_resource_parse(const char *name, enum raas_resource *out)
{
	for (int r = RAAS_RES_MIN; name && r <= RAAS_RES_MAX; r++)
		if (strcmp(name, table[r].name) == 0) {
			*out = (enum raas_resource)r;
			return 0;
		}
	return -RAAS_EPARSE;
}
