/* plugin.h: the one template of every pluggable part, and the registry helper they share.
 *
 * Pricing models, enforcement backends, nomnet drivers, nom price sources and the apps'
 * server backends are each a struct of function pointers that starts with PLUGIN_HEADER:
 * the API version it was written against, the size of the struct it was built with, and its
 * name. The size is what lets a struct grow: a method appended in a later release is read
 * only when the plugin's size covers it (PLUGIN_HAS), so a plugin built against an older,
 * smaller struct still registers and its missing optional methods count as absent.
 *
 * A struct plugin_registry holds one kind's built-ins (trusted, read-only) and up to max
 * registered plugins, and applies the same rules to every kind: a registered plugin has the
 * kind's api_version, a size of at least the kind's first release (min_size), a name of
 * 1-63 of [a-z0-9_-], the kind's required methods (its check callback), and a name no other
 * plugin of that kind has. Registration is meant for program start; lookups only read. */
#ifndef COMMON_PLUGIN_H
#define COMMON_PLUGIN_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define PLUGIN_NAME_MAX 63

/* The first fields of every plugin struct. */
struct plugin_hdr {
	uint32_t api_version; /* the kind's API version the plugin was written against */
	uint32_t size;        /* sizeof() its struct as the plugin was built */
	const char *name;     /* "uniform", "tc", "packet": unique within the kind */
};

/* Opens a plugin struct: its fields read as p->api_version, p->size, p->name, and the whole
 * header as p->plugin (what the registry takes). */
#define PLUGIN_HEADER                                                                        \
	union {                                                                              \
		struct plugin_hdr plugin;                                                    \
		struct {                                                                     \
			uint32_t api_version;                                                \
			uint32_t size;                                                       \
			const char *name;                                                    \
		};                                                                           \
	}

/* True when the plugin's struct, as it was built, reaches past member and member is set:
 * an optional method a smaller (older) plugin does not have is absent. */
#define PLUGIN_HAS(p, member)                                                                \
	((size_t)(p)->size >= offsetof(__typeof__(*(p)), member) + sizeof((p)->member) &&     \
	 (p)->member != NULL)

/* The plugin struct of type around a header (the header is its first member). */
#define PLUGIN_OF(type, hdr) ((const type *)(const void *)(hdr))

struct plugin_registry {
	const char *kind;                       /* "pricing model": for messages */
	uint32_t api_version;                   /* the one accepted */
	size_t min_size;                        /* the first release's struct size */
	const struct plugin_hdr *const *builtin; /* may be NULL */
	size_t nbuiltin;
	/* The kind's own checks (required methods, fields); NULL: none. Returns 0 or
	 * -EINVAL. */
	int (*check)(const struct plugin_hdr *p);
	const struct plugin_hdr **slots; /* room for max registered plugins */
	size_t max;
	size_t n; /* registered so far */
};

/* The checks of registration without registering: 0, -EINVAL (NULL, a bad name, or the
 * kind's check refused it), -RAAS_EVERSION (another api_version, or a struct smaller than
 * min_size). */
int plugin_check(const struct plugin_registry *r, const struct plugin_hdr *p);
/* Registers p (borrowed: must outlive the registry). Returns 0, what plugin_check returns,
 * -EEXIST when a built-in or registered plugin has its name, or -ENOSPC past max. On
 * failure the registry is unchanged. */
int plugin_register(struct plugin_registry *r, const struct plugin_hdr *p);
/* The built-in or registered plugin named name, or NULL. */
const struct plugin_hdr *plugin_find(const struct plugin_registry *r, const char *name);
/* Built-ins then registered ones in registration order; stores up to max, returns the
 * total count. out may be NULL to count. */
size_t plugin_list(const struct plugin_registry *r, const struct plugin_hdr **out, size_t max);
/* "a, b, c": every name that fits whole, for "no X named Y (known: ...)". Returns buf. */
char *plugin_names(const struct plugin_registry *r, char *buf, size_t len);
/* A valid plugin name: 1-63 of a-z, 0-9, '_' and '-'. */
bool plugin_name_ok(const char *name);

#endif
