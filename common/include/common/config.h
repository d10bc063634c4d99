/* config.h: INI configuration with a schema, typed getters and `--set section.key=value`.
 *
 * Every daemon and tool declares the keys it knows in a schema; a file is read with libinih
 * and every key checked against the schema as it is read, so that a typo is reported with
 * its file, line and key and the closest known key ("did you mean ...?"), instead of being
 * silently ignored. A section name may be a pattern ending in ".*" (e.g. "pool.*") for
 * repeated sections such as one per pool or tenant class; sections are split from keys at the
 * last dot in overrides, so `--set pool.cores.model=vcg` sets key "model" of "pool.cores".
 *
 * Values keep where they came from (file:line, or "--set"), so a consumer that finds a value
 * out of range reports it at its origin through cfg_error_at(). */
#ifndef COMMON_CONFIG_H
#define COMMON_CONFIG_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "common/money.h"

enum cfg_type {
	CFG_STRING,
	CFG_INT,      /* decimal int64 */
	CFG_DOUBLE,   /* finite decimal number */
	CFG_BOOL,     /* true/false, yes/no, on/off, 1/0 */
	CFG_MONEY,    /* dollars, "$0.25" or "0.25" (money_parse) */
	CFG_DURATION, /* "250ms", "10s", "5m", "1h", "40us", "100ns"; plain numbers are refused */
};

struct cfg_key {
	const char *section;       /* "market", or a pattern "pool.*" */
	const char *key;
	enum cfg_type type;
	const char *default_value; /* NULL: no default (the getter reports it missing) */
	const char *help;          /* one line, shown by --help-config */
};

/* A config error, formatted "FILE:LINE: SECTION.KEY: MESSAGE" by cfg_error_format(). */
struct cfg_error {
	char file[256]; /* "--set" for overrides, "" when the error has no place */
	int line;       /* 0 when the error has no line */
	char key[128];  /* "section.key", or "" */
	char message[384];
};

struct cfg;

/* Creates an empty config over schema (borrowed: must outlive the config). Returns 0 or
 * -ENOMEM. */
int cfg_create(const struct cfg_key *schema, size_t nkeys, struct cfg **out);
void cfg_destroy(struct cfg *c);

/* Reads an INI file. On error, returns -RAAS_ECONFIG (or -errno for I/O) with err filled, and
 * the config holds none of the file's values. */
int cfg_load_file(struct cfg *c, const char *path, struct cfg_error *err);
/* Reads INI text (an embedded default); name stands for the file in errors. */
int cfg_load_string(struct cfg *c, const char *name, const char *text, struct cfg_error *err);
/* Applies "section.key=value" (later values win over files). */
int cfg_set_override(struct cfg *c, const char *assignment, struct cfg_error *err);

/* The value of section.key, or its schema default, or NULL. Borrowed from the config. */
const char *cfg_get(const struct cfg *c, const char *section, const char *key);
bool cfg_has(const struct cfg *c, const char *section, const char *key);
/* Typed getters: 0, or -RAAS_ECONFIG with err naming the value's origin when the key is
 * missing with no default or its value does not parse. */
int cfg_get_string(const struct cfg *c, const char *section, const char *key, const char **out,
		   struct cfg_error *err);
int cfg_get_int(const struct cfg *c, const char *section, const char *key, int64_t *out,
		struct cfg_error *err);
int cfg_get_double(const struct cfg *c, const char *section, const char *key, double *out,
		   struct cfg_error *err);
int cfg_get_bool(const struct cfg *c, const char *section, const char *key, bool *out,
		 struct cfg_error *err);
int cfg_get_money(const struct cfg *c, const char *section, const char *key, money_t *out,
		  struct cfg_error *err);
int cfg_get_duration(const struct cfg *c, const char *section, const char *key, int64_t *out_ns,
		     struct cfg_error *err);

/* Range check helper for consumers: fills err at the origin of section.key with message
 * (printf format) and returns -RAAS_ECONFIG. */
int cfg_error_at(const struct cfg *c, const char *section, const char *key,
		 struct cfg_error *err, const char *fmt, ...) __attribute__((format(printf, 5, 6)));

/* Section names present that match pattern "prefix.*", in the order first seen; returns the
 * count and stores up to max names (borrowed) in names. */
size_t cfg_sections(const struct cfg *c, const char *pattern, const char **names, size_t max);

/* Writes the effective config (every set value, then defaults) as INI text; the caller
 * frees it. Used to record a run's exact config. NULL on OOM. */
char *cfg_dump(const struct cfg *c);

/* "FILE:LINE: KEY: MESSAGE" into buf. Returns buf. */
char *cfg_error_format(const struct cfg_error *err, char *buf, size_t len);

/* ---- Binding by table ----
 *
 * A daemon declares each key once, in a table of struct cfg_bind: where it lives in the
 * daemon's config struct, its type, default, range and help. From that one table come the
 * schema (cfg_create_bind), the defaults (cfg_bind_defaults), the loading with range checks
 * and their error texts (cfg_bind_load), and --help-config (cfg_help). Checks that relate two
 * keys, or give a reason a range cannot, stay in the daemon, after cfg_bind_load. */

#define CFG_ANY INT64_MIN, INT64_MAX /* no range */
/* offset and size of a field of a config struct, for a binding. */
#define CFG_FIELD(type, field) offsetof(type, field), sizeof(((type *)0)->field)
/* A key in the schema that the daemon reads itself (pattern sections, special syntax). */
#define CFG_UNBOUND 0, 0

struct cfg_bind {
	const char *section;       /* "market"; a pattern "pool.*" is CFG_UNBOUND */
	const char *key;
	enum cfg_type type;
	/* Where the value goes (CFG_FIELD): STRING a char[size] (longer values are refused),
	 * INT an int32_t or int64_t (size 4 or 8; int64_t also for size_t and uint64_t fields),
	 * DURATION int64_t ns, MONEY money_t, DOUBLE double, BOOL bool. size 0: unbound. */
	size_t offset;
	size_t size;
	const char *default_value; /* NULL: required */
	int64_t min, max;          /* INT, DURATION (ns), MONEY: inclusive; CFG_ANY: none */
	const char *help;          /* one line */
};

/* Creates an empty config whose schema is the table's keys followed by extra's (both
 * borrowed: they must outlive the config; extra may be NULL). Returns 0, -EINVAL for a
 * malformed table (a size that does not fit the type), or -ENOMEM. */
int cfg_create_bind(const struct cfg_bind *binds, size_t nbinds, const struct cfg_key *extra,
		    size_t nextra, struct cfg **out);
/* Writes every bound key's default into obj (a required key's field is left as it is).
 * Returns 0 or -EINVAL when a default does not parse (a table bug). */
int cfg_bind_defaults(const struct cfg_bind *binds, size_t nbinds, void *obj);
/* Reads every bound key of c into obj: typed, range-checked, strings length-checked.
 * Returns 0 or -RAAS_ECONFIG with err at the value's origin: "12 is outside 1..10", "5ms is
 * below 10ms", "longer than 63 characters"; -EINVAL for a malformed table. */
int cfg_bind_load(const struct cfg *c, const struct cfg_bind *binds, size_t nbinds, void *obj,
		  struct cfg_error *err);
/* --help-config: one entry per key, "[section] key = default  (range)" then the help
 * indented; extra's keys (may be NULL) after the table's. */
void cfg_help(FILE *f, const struct cfg_bind *binds, size_t nbinds, const struct cfg_key *extra,
	      size_t nextra);
/* The same for a plain schema. */
void cfg_help_keys(FILE *f, const struct cfg_key *keys, size_t nkeys);

/* "250ms", "10s", "1h": ns in the largest unit that writes it exactly (the form
 * cfg_parse_duration reads). Returns buf. */
char *cfg_format_duration(int64_t ns, char *buf, size_t len);

/* Parsers shared with other text formats. Return 0 or -RAAS_EPARSE. */
int cfg_parse_duration(const char *text, int64_t *out_ns);
int cfg_parse_int(const char *text, int64_t *out);
int cfg_parse_bool(const char *text, bool *out);

#endif
