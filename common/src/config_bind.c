/* config_bind.c: config keys bound to struct fields by one table (config.h, "Binding by
 * table").
 *
 * Each daemon used to read its keys by a chain of cfg_get_* calls, each with its own range
 * check and error text, beside a schema and a defaults function that repeated the same
 * values. Here one table gives the schema, the defaults, the typed load with its range
 * checks, and --help-config, so a key's default, range and message are written once. */
#include <errno.h>
#include <inttypes.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include "common/config.h"
#include "common/error.h"
#include "common/money.h"
#include "config_priv.h"

static bool bound(const struct cfg_bind *b)
{
	return b->size != 0;
}

/* The table's own consistency: a bound field fits its type. */
static bool bind_ok(const struct cfg_bind *b)
{
	if (!b->section || !b->key || !b->help)
		return false;
	if (!bound(b))
		return true;
	if (strchr(b->section, '*'))
		return false; /* repeated sections have no one field */
	switch (b->type) {
	case CFG_STRING:
		return b->size >= 2;
	case CFG_INT:
		return b->size == 4 || b->size == 8;
	case CFG_DOUBLE:
		return b->size == sizeof(double);
	case CFG_BOOL:
		return b->size == sizeof(bool);
	case CFG_MONEY:
	case CFG_DURATION:
		return b->size == sizeof(int64_t);
	}
	return false;
}

int cfg_create_bind(const struct cfg_bind *binds, size_t nbinds, const struct cfg_key *extra,
		    size_t nextra, struct cfg **out)
{
	struct cfg_key *keys;

	for (size_t i = 0; i < nbinds; i++)
		if (!bind_ok(&binds[i]))
			return -EINVAL;
	keys = calloc(nbinds + nextra ? nbinds + nextra : 1, sizeof(*keys));
	if (!keys)
		return -ENOMEM;
	for (size_t i = 0; i < nbinds; i++)
		keys[i] = (struct cfg_key){binds[i].section, binds[i].key, binds[i].type,
					   binds[i].default_value, binds[i].help};
	if (nextra)
		memcpy(keys + nbinds, extra, nextra * sizeof(*extra));
	return cfg__create_owned(keys, nbinds + nextra, out);
}

static bool ranged(const struct cfg_bind *b)
{
	return (b->type == CFG_INT || b->type == CFG_DURATION || b->type == CFG_MONEY) &&
	       (b->min != INT64_MIN || b->max != INT64_MAX);
}

char *cfg_format_duration(int64_t ns, char *buf, size_t len)
{
	static const struct {
		const char *suffix;
		int64_t ns;
	} units[] = {{"d", INT64_C(86400000000000)},
		     {"h", INT64_C(3600000000000)},
		     {"m", INT64_C(60000000000)},
		     {"s", 1000000000},
		     {"ms", 1000000},
		     {"us", 1000},
		     {"ns", 1}};

	for (size_t i = 0; i < sizeof(units) / sizeof(units[0]); i++)
		if (ns != 0 && ns % units[i].ns == 0) {
			snprintf(buf, len, "%" PRId64 "%s", ns / units[i].ns, units[i].suffix);
			return buf;
		}
	snprintf(buf, len, "%" PRId64 "ns", ns);
	return buf;
}

/* v as the key's type writes it. */
static const char *format_value(const struct cfg_bind *b, int64_t v, char *buf, size_t len)
{
	char m[MONEY_TEXT_MAX];

	if (b->type == CFG_DURATION)
		return cfg_format_duration(v, buf, len);
	if (b->type == CFG_MONEY)
		snprintf(buf, len, "%s", money_format(v, m));
	else
		snprintf(buf, len, "%" PRId64, v);
	return buf;
}

/* Stores v (already parsed) into the field. */
static void store_int(const struct cfg_bind *b, void *obj, int64_t v)
{
	char *p = (char *)obj + b->offset;

	if (b->size == 4) {
		int32_t v32 = (int32_t)v;
		memcpy(p, &v32, sizeof(v32));
	} else {
		memcpy(p, &v, sizeof(v));
	}
}

/* Parses text as b's type into obj; why says what was wrong. */
static int store(const struct cfg_bind *b, const char *text, void *obj, const char **why,
		 int64_t *as_int)
{
	char *p = (char *)obj + b->offset;
	int64_t v = 0;

	switch (b->type) {
	case CFG_STRING:
		if (strlen(text) >= b->size) {
			*why = "long";
			return -RAAS_EPARSE;
		}
		memcpy(p, text, strlen(text) + 1);
		return 0;
	case CFG_INT:
		if (cfg_parse_int(text, &v))
			return -RAAS_EPARSE;
		break;
	case CFG_DURATION:
		if (cfg_parse_duration(text, &v))
			return -RAAS_EPARSE;
		break;
	case CFG_MONEY:
		if (money_parse(text, &v, why))
			return -RAAS_EPARSE;
		break;
	case CFG_BOOL: {
		bool x;
		if (cfg_parse_bool(text, &x))
			return -RAAS_EPARSE;
		memcpy(p, &x, sizeof(x));
		return 0;
	}
	case CFG_DOUBLE: {
		char *end;
		double d = strtod(text, &end);
		if (*end || end == text || d != d)
			return -RAAS_EPARSE;
		memcpy(p, &d, sizeof(d));
		return 0;
	}
	}
	if (b->size == 4 && (v < INT32_MIN || v > INT32_MAX)) {
		*why = "int32";
		return -RAAS_EPARSE;
	}
	*as_int = v;
	store_int(b, obj, v);
	return 0;
}

int cfg_bind_defaults(const struct cfg_bind *binds, size_t nbinds, void *obj)
{
	for (size_t i = 0; i < nbinds; i++) {
		const struct cfg_bind *b = &binds[i];
		const char *why = NULL;
		int64_t v;

		if (!bind_ok(b))
			return -EINVAL;
		if (!bound(b) || !b->default_value)
			continue;
		if (store(b, b->default_value, obj, &why, &v))
			return -EINVAL;
	}
	return 0;
}

int cfg_bind_load(const struct cfg *c, const struct cfg_bind *binds, size_t nbinds, void *obj,
		  struct cfg_error *err)
{
	for (size_t i = 0; i < nbinds; i++) {
		const struct cfg_bind *b = &binds[i];
		const char *text, *why = NULL;
		char lo[48], hi[48], got[48];
		int64_t v = 0;
		int rc;

		if (!bind_ok(b))
			return -EINVAL;
		if (!bound(b))
			continue;
		/* cfg_get_string reports a missing required key at its place; the value was
		 * type-checked against the schema as it was read. */
		if ((rc = cfg_get_string(c, b->section, b->key, &text, err)))
			return rc;
		if (store(b, text, obj, &why, &v)) {
			if (why && strcmp(why, "long") == 0)
				return cfg_error_at(c, b->section, b->key, err,
						    "longer than %zu characters", b->size - 1);
			return cfg_error_at(c, b->section, b->key, err, "\"%s\" is not %s", text,
					    why && strcmp(why, "int32") == 0
						    ? "a number that fits 32 bits"
						    : "of the key's type");
		}
		if (!ranged(b) || (v >= b->min && v <= b->max))
			continue;
		format_value(b, v, got, sizeof(got));
		format_value(b, b->min, lo, sizeof(lo));
		format_value(b, b->max, hi, sizeof(hi));
		if (b->max == INT64_MAX)
			return cfg_error_at(c, b->section, b->key, err, "%s is below %s", got, lo);
		if (b->min == INT64_MIN)
			return cfg_error_at(c, b->section, b->key, err, "%s is above %s", got, hi);
		return cfg_error_at(c, b->section, b->key, err, "%s is outside %s..%s", got, lo, hi);
	}
	return 0;
}

static void help_one(FILE *f, const char *section, const char *key, const char *def,
		     const char *range, const char *help)
{
	fprintf(f, "[%s] %s = %s%s\n    %s\n", section, key, def ? def : "(required)", range,
		help);
}

void cfg_help(FILE *f, const struct cfg_bind *binds, size_t nbinds, const struct cfg_key *extra,
	      size_t nextra)
{
	for (size_t i = 0; i < nbinds; i++) {
		const struct cfg_bind *b = &binds[i];
		char range[128] = "", lo[48], hi[48];

		if (ranged(b)) {
			if (b->max == INT64_MAX)
				snprintf(range, sizeof(range), "  (at least %s)",
					 format_value(b, b->min, lo, sizeof(lo)));
			else if (b->min == INT64_MIN)
				snprintf(range, sizeof(range), "  (at most %s)",
					 format_value(b, b->max, hi, sizeof(hi)));
			else
				snprintf(range, sizeof(range), "  (%s..%s)",
					 format_value(b, b->min, lo, sizeof(lo)),
					 format_value(b, b->max, hi, sizeof(hi)));
		}
		help_one(f, b->section, b->key, b->default_value, range, b->help);
	}
	cfg_help_keys(f, extra, nextra);
}

void cfg_help_keys(FILE *f, const struct cfg_key *keys, size_t nkeys)
{
	for (size_t i = 0; keys && i < nkeys; i++)
		help_one(f, keys[i].section, keys[i].key, keys[i].default_value, "",
			 keys[i].help);
}
