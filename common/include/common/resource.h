/* resource.h: the project's one resource vocabulary: the resources, their names and units.
 *
 * Every component names resources the same way ("cores", "memory", "bandwidth", "llc",
 * "egress") and numbers them as raas.proto's Resource enum does (wire.c asserts that the
 * values are equal, so a value casts to Raas__Resource and back). The enforcement, bulletin
 * board and libnom enums are defined from these values; their name and parse functions read
 * this table instead of keeping their own. */
#ifndef COMMON_RESOURCE_H
#define COMMON_RESOURCE_H

enum raas_resource {
	RAAS_RES_CORES = 1,
	RAAS_RES_MEMORY = 2,
	RAAS_RES_BANDWIDTH = 3,
	RAAS_RES_LLC = 4,
	RAAS_RES_EGRESS = 5, /* metered traffic, priced per Gbit; never allocated */
};
#define RAAS_RES_MIN RAAS_RES_CORES
#define RAAS_RES_MAX RAAS_RES_EGRESS
/* How many resources there are, and a resource's place in an array of that many. The values
 * start at 1 (the proto's 0 is "unspecified"), so an array indexed by resource goes through
 * raas_resource_index() rather than the value; loops run RAAS_RES_MIN..RAAS_RES_MAX. */
#define RAAS_RES_COUNT (RAAS_RES_MAX - RAAS_RES_MIN + 1)
static inline int raas_resource_index(int r)
{
	return r - RAAS_RES_MIN;
}

/* "cores", "memory", "bandwidth", "llc", "egress"; "?" for any other value. */
const char *raas_resource_name(int r);
/* The unit of a quantity: "cores", "MiB", "Mbit/s", "ways", "bytes"; "?" otherwise. */
const char *raas_resource_unit(int r);
/* Parses a name. Returns 0 with *out set, or -RAAS_EPARSE (name NULL or unknown). */
int raas_resource_parse(const char *name, enum raas_resource *out);

#endif
