/* params.c: model parameters as text: the "name=value, ..." parser and typed values.
 *
 * Parameters reach a model as name=value text (from a config file, a --set override, a
 * scenario) so that every model can have its own without the market or the simulator knowing
 * them. pm_params_parse() splits a one-line list; pm_create() (wrap.c) checks each value
 * against the model's spec with pm__param_check(); models then read typed values with the
 * pm__param_*() getters, which cannot fail on checked input. */
#include <ctype.h>
#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "common/config.h"
#include "common/error.h"
#include "pm_internal.h"

/* Formats the error (near may point into copy) and only then frees copy. */
static int parse_fail(char *copy, char **storage, struct pm_error *err, size_t col,
		      const char *what, const char *near)
{
	int rc;
	if (near)
		rc = pm__errorf(err, -RAAS_EPARSE, "parameters: column %zu: %s '%.40s'", col, what,
				near);
	else
		rc = pm__errorf(err, -RAAS_EPARSE, "parameters: column %zu: %s", col, what);
	free(copy);
	*storage = NULL;
	return rc;
}

int pm_params_parse(const char *text, struct pm_param *params, size_t max, char **storage,
		    struct pm_error *err)
{
	if (!text || !storage || (!params && max))
		return pm__errorf(err, -EINVAL, "parameters: NULL argument");
	size_t len = strlen(text);
	char *copy = malloc(len + 1);
	if (!copy) {
		*storage = NULL;
		return pm__errorf(err, -ENOMEM, "parameters: out of memory");
	}
	memcpy(copy, text, len + 1);

	/* In-place: names and values are NUL-terminated inside copy; unquoting only shrinks. */
	size_t count = 0, i = 0;
	while (i < len && isspace((unsigned char)copy[i]))
		i++;
	if (i == len) {
		*storage = copy;
		return 0;
	}
	for (;;) {
		while (i < len && isspace((unsigned char)copy[i]))
			i++;
		size_t name_start = i;
		while (i < len && (isalnum((unsigned char)copy[i]) || copy[i] == '_'))
			i++;
		if (i == name_start) {
			if (i == len || copy[i] == ',')
				return parse_fail(copy, storage, err, i + 1, "empty parameter", NULL);
			return parse_fail(copy, storage, err, i + 1,
					  "expected a parameter name (letters, digits, _) at",
					  copy + i);
		}
		size_t name_end = i;
		while (i < len && isspace((unsigned char)copy[i]))
			i++;
		if (i >= len || copy[i] != '=') {
			char name[64];
			size_t nl = name_end - name_start < 63 ? name_end - name_start : 63;
			memcpy(name, copy + name_start, nl);
			name[nl] = '\0';
			return parse_fail(copy, storage, err, i + 1, "expected '=' after", name);
		}
		copy[name_end] = '\0';
		i++;
		while (i < len && isspace((unsigned char)copy[i]))
			i++;
		char *value;
		if (i < len && copy[i] == '"') {
			size_t open = i++;
			size_t out = i;
			value = copy + out;
			for (;;) {
				if (i >= len)
					return parse_fail(copy, storage, err, open + 1,
							  "unterminated quote", NULL);
				char c = copy[i++];
				if (c == '"')
					break;
				if (c == '\\') {
					if (i >= len || (copy[i] != '"' && copy[i] != '\\'))
						return parse_fail(copy, storage, err, i,
								  "only \\\" and \\\\ may be "
								  "escaped inside quotes",
								  NULL);
					c = copy[i++];
				}
				copy[out++] = c;
			}
			copy[out] = '\0';
			while (i < len && isspace((unsigned char)copy[i]))
				i++;
			if (i < len && copy[i] != ',')
				return parse_fail(copy, storage, err, i + 1,
						  "expected ',' after the quoted value, got", copy + i);
		} else {
			size_t vstart = i;
			while (i < len && copy[i] != ',') {
				if (copy[i] == '"')
					return parse_fail(copy, storage, err, i + 1,
							  "a quote inside an unquoted value", NULL);
				if ((unsigned char)copy[i] < 0x20 && copy[i] != '\t')
					return parse_fail(copy, storage, err, i + 1,
							  "control character in a value", NULL);
				i++;
			}
			size_t vend = i;
			while (vend > vstart && isspace((unsigned char)copy[vend - 1]))
				vend--;
			if (vend == vstart)
				return parse_fail(copy, storage, err, vstart + 1,
						  "empty value for", copy + name_start);
			value = copy + vstart;
			/* vend < len or == len; either way writing the terminator is in bounds. */
			copy[vend] = '\0';
		}
		if (count == max)
			return parse_fail(copy, storage, err, name_start + 1,
					  "too many parameters at", copy + name_start);
		params[count].name = copy + name_start;
		params[count].value = value;
		count++;
		if (i >= len)
			break;
		i++; /* the ',' */
	}
	*storage = copy;
	return (int)count;
}

int pm__param_check(enum pm_param_type type, const char *value, const char **why)
{
	int64_t i;
	char *end;

	*why = NULL;
	switch (type) {
	case PM_PARAM_MONEY: {
		money_t m;
		int rc = money_parse(value, &m, why);
		if (rc == -RAAS_EOVERFLOW)
			*why = "amount out of range";
		return rc;
	}
	case PM_PARAM_DOUBLE: {
		errno = 0;
		double d = strtod(value, &end);
		if (!*value || errno || *end || !isfinite(d)) {
			*why = "expected a finite number such as 0.7";
			return -RAAS_EPARSE;
		}
		return 0;
	}
	case PM_PARAM_INT:
		if (cfg_parse_int(value, &i)) {
			*why = "expected an integer";
			return -RAAS_EPARSE;
		}
		return 0;
	case PM_PARAM_DURATION:
		if (cfg_parse_duration(value, &i)) {
			*why = "expected a duration with a unit such as 250ms, 10s or 1h";
			return -RAAS_EPARSE;
		}
		return 0;
	case PM_PARAM_STRING:
		return 0;
	}
	*why = "unknown parameter type";
	return -EINVAL;
}

const char *pm__param(const struct pm_param *params, size_t n, const char *name)
{
	for (size_t i = 0; i < n; i++)
		if (strcmp(params[i].name, name) == 0)
			return params[i].value;
	return NULL;
}

static int getter_fail(struct pm_error *err, const char *name, const char *value)
{
	if (!value)
		return pm__errorf(err, -EINVAL, "parameter '%s' missing (model bug)", name);
	return pm__errorf(err, -EINVAL, "parameter %s=%s does not parse", name, value);
}

int pm__param_money(const struct pm_param *params, size_t n, const char *name, money_t *out,
		    struct pm_error *err)
{
	const char *v = pm__param(params, n, name);
	if (!v || money_parse(v, out, NULL))
		return getter_fail(err, name, v);
	return 0;
}

int pm__param_double(const struct pm_param *params, size_t n, const char *name, double *out,
		     struct pm_error *err)
{
	const char *v = pm__param(params, n, name), *why;
	if (!v || pm__param_check(PM_PARAM_DOUBLE, v, &why))
		return getter_fail(err, name, v);
	*out = strtod(v, NULL);
	return 0;
}

int pm__param_int(const struct pm_param *params, size_t n, const char *name, int64_t *out,
		  struct pm_error *err)
{
	const char *v = pm__param(params, n, name);
	if (!v || cfg_parse_int(v, out))
		return getter_fail(err, name, v);
	return 0;
}

int pm__param_duration(const struct pm_param *params, size_t n, const char *name, int64_t *out,
		       struct pm_error *err)
{
	const char *v = pm__param(params, n, name);
	if (!v || cfg_parse_duration(v, out))
		return getter_fail(err, name, v);
	return 0;
}

int pm__param_money_nonneg(const struct pm_param *params, size_t n, const char *model,
			   const char *name, money_t *out, struct pm_error *err)
{
	int rc = pm__param_money(params, n, name, out, err);
	if (rc)
		return rc;
	if (*out < 0)
		return pm__errorf(err, -EINVAL, "%s: %s must not be negative", model, name);
	return 0;
}
