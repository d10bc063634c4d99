/* plugin.c: the registry rules every kind of plugin shares (plugin.h).
 *
 * One copy of the checks that each plugin kind used to write for itself, so that a version
 * mismatch, a struct from an older release, a duplicate name or a full table mean the same
 * thing (and the same error) for models, backends, drivers, sources and server backends. */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "common/error.h"
#include "common/plugin.h"

bool plugin_name_ok(const char *s)
{
	if (!s || !*s || strlen(s) > PLUGIN_NAME_MAX)
		return false;
	for (; *s; s++)
		if (!((*s >= 'a' && *s <= 'z') || (*s >= '0' && *s <= '9') || *s == '_' ||
		      *s == '-'))
			return false;
	return true;
}

int plugin_check(const struct plugin_registry *r, const struct plugin_hdr *p)
{
	if (!r || !p)
		return -EINVAL;
	if (p->api_version != r->api_version || p->size < r->min_size)
		return -RAAS_EVERSION;
	if (!plugin_name_ok(p->name))
		return -EINVAL;
	if (r->check && r->check(p) != 0)
		return -EINVAL;
	return 0;
}

const struct plugin_hdr *plugin_find(const struct plugin_registry *r, const char *name)
{
	if (!r || !name)
		return NULL;
	for (size_t i = 0; i < r->nbuiltin; i++)
		if (strcmp(r->builtin[i]->name, name) == 0)
			return r->builtin[i];
	for (size_t i = 0; i < r->n; i++)
		if (strcmp(r->slots[i]->name, name) == 0)
			return r->slots[i];
	return NULL;
}

int plugin_register(struct plugin_registry *r, const struct plugin_hdr *p)
{
	int rc = plugin_check(r, p);

	if (rc)
		return rc;
	if (plugin_find(r, p->name))
		return -EEXIST;
	if (r->n >= r->max)
		return -ENOSPC;
	r->slots[r->n++] = p;
	return 0;
}

size_t plugin_list(const struct plugin_registry *r, const struct plugin_hdr **out, size_t max)
{
	size_t n = 0;

	for (size_t i = 0; i < r->nbuiltin; i++, n++)
		if (out && n < max)
			out[n] = r->builtin[i];
	for (size_t i = 0; i < r->n; i++, n++)
		if (out && n < max)
			out[n] = r->slots[i];
	return n;
}

char *plugin_names(const struct plugin_registry *r, char *buf, size_t len)
{
	size_t used = 0, total = plugin_list(r, NULL, 0);

	if (len)
		buf[0] = '\0';
	for (size_t i = 0; i < total; i++) {
		const struct plugin_hdr *p = i < r->nbuiltin ? r->builtin[i]
							     : r->slots[i - r->nbuiltin];
		int k = snprintf(buf + used, len - used, "%s%s", i ? ", " : "", p->name);
		if (k < 0 || (size_t)k >= len - used) {
			buf[used] = '\0'; /* whole names only */
			break;
		}
		used += (size_t)k;
	}
	return buf;
}
