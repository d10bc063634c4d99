/* scenario_internal.h: what scenario.c and scenario_class.c share while loading a scenario. */
#ifndef SIM_SCENARIO_INTERNAL_H
#define SIM_SCENARIO_INTERNAL_H

#include <string.h>

#include "scenario.h"

/* Copies src into dst (size bytes), truncating; always NUL-terminates. */
static inline void sim__copy(char *dst, size_t size, const char *src)
{
	size_t n = strlen(src);

	if (n >= size)
		n = size - 1;
	memcpy(dst, src, n);
	dst[n] = '\0';
}

/* Loading context: the config being read and the scenario being filled. */
struct loader {
	struct cfg *cfg;
	struct sim_scenario *s;
	struct cfg_error *err;
	char data_tried[2048]; /* where the data folder was looked for (for messages) */
};

/* The section that holds class key `key`: the class's own, else its template's (when the
 * template sets it), else the class's (whose schema default then applies). */
const char *sim__class_section(struct loader *ld, const char *cls, const char *tmpl,
			       const char *key);

/* Resolves a path value of section.key: ${data} expanded, relative paths taken from the
 * scenario's folder. Returns 0, or -RAAS_ECONFIG / -ENOENT with err set at the key. */
int sim__resolve_path(struct loader *ld, const char *section, const char *key, const char *value,
		      char *out, size_t len);

/* Reads a whole file (at most 16 MiB) into a NUL-terminated buffer the caller frees.
 * Returns 0, -errno, -RAAS_ETOOBIG or -ENOMEM. */
int sim__read_file(const char *path, char **out, size_t *len);

/* Reads every [class.*] section into ld->s->classes. */
int sim__load_classes(struct loader *ld);

/* Splits "a, b, c" into trimmed items in place; returns the count (at most max). */
size_t sim__split_list(char *text, char sep, char **items, size_t max);

#endif
