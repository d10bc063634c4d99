/* config.c: schema-checked INI configuration on top of libinih.
 *
 * libinih does the tokenizing; this file counts lines (through its own reader, since
 * Debian's libinih is built without the line number in the handler), checks each key against
 * the schema as it arrives, and keeps every value with its origin. A file is read into a
 * scratch list first and merged only when the whole file is good, so a bad file leaves the
 * config as it was. */
#include <errno.h>
#include <ini.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/config.h"
#include "common/error.h"
#include "common/names.h"
#include "config_priv.h"

struct cfg_entry {
	char *section;
	char *key;
	char *value;
	char origin[256];
	int line;
};

struct entry_list {
	struct cfg_entry *v;
	size_t n, cap;
};

/* Section names in the order first seen, including sections that hold no key (a tenant
 * declared by its header alone is still a tenant). */
struct name_list {
	char **v;
	size_t n, cap;
};

struct cfg {
	const struct cfg_key *schema;
	size_t nkeys;
	struct cfg_key *owned; /* the schema, when cfg_create_bind built it */
	struct entry_list entries;
	struct name_list sections;
};

static bool names_has(const struct name_list *l, const char *name)
{
	for (size_t i = 0; i < l->n; i++)
		if (strcmp(l->v[i], name) == 0)
			return true;
	return false;
}

/* Appends name unless present. Returns 0 or -ENOMEM. */
static int names_add(struct name_list *l, const char *name)
{
	if (names_has(l, name))
		return 0;
	if (l->n == l->cap) {
		size_t cap = l->cap ? 2 * l->cap : 8;
		char **v = realloc(l->v, cap * sizeof(*v));
		if (!v)
			return -ENOMEM;
		l->v = v;
		l->cap = cap;
	}
	if (!(l->v[l->n] = strdup(name)))
		return -ENOMEM;
	l->n++;
	return 0;
}

static void names_clear(struct name_list *l)
{
	for (size_t i = 0; i < l->n; i++)
		free(l->v[i]);
	free(l->v);
	l->v = NULL;
	l->n = l->cap = 0;
}

int cfg_create(const struct cfg_key *schema, size_t nkeys, struct cfg **out)
{
	struct cfg *c = calloc(1, sizeof(*c));

	if (!c)
		return -ENOMEM;
	c->schema = schema;
	c->nkeys = nkeys;
	*out = c;
	return 0;
}

int cfg__create_owned(struct cfg_key *schema, size_t nkeys, struct cfg **out)
{
	int rc = cfg_create(schema, nkeys, out);

	if (rc) {
		free(schema);
		return rc;
	}
	(*out)->owned = schema;
	return 0;
}

static void entry_free(struct cfg_entry *e)
{
	free(e->section);
	free(e->key);
	free(e->value);
}

static void list_clear(struct entry_list *l)
{
	for (size_t i = 0; i < l->n; i++)
		entry_free(&l->v[i]);
	free(l->v);
	l->v = NULL;
	l->n = l->cap = 0;
}

void cfg_destroy(struct cfg *c)
{
	if (!c)
		return;
	list_clear(&c->entries);
	names_clear(&c->sections);
	free(c->owned);
	free(c);
}

static void set_error(struct cfg_error *err, const char *file, int line, const char *section,
		      const char *key, const char *fmt, ...) __attribute__((format(printf, 6, 7)));

static void set_error(struct cfg_error *err, const char *file, int line, const char *section,
		      const char *key, const char *fmt, ...)
{
	va_list ap;

	if (!err)
		return;
	snprintf(err->file, sizeof(err->file), "%s", file ? file : "");
	err->line = line;
	if (section && key && *key)
		snprintf(err->key, sizeof(err->key), "%s.%s", section, key);
	else if (section)
		snprintf(err->key, sizeof(err->key), "[%s]", section);
	else
		err->key[0] = '\0';
	va_start(ap, fmt);
	vsnprintf(err->message, sizeof(err->message), fmt, ap);
	va_end(ap);
}

char *cfg_error_format(const struct cfg_error *err, char *buf, size_t len)
{
	char place[300] = "";

	if (err->file[0] && err->line > 0)
		snprintf(place, sizeof(place), "%s:%d: ", err->file, err->line);
	else if (err->file[0])
		snprintf(place, sizeof(place), "%s: ", err->file);
	snprintf(buf, len, "%s%s%s%s", place, err->key, err->key[0] ? ": " : "", err->message);
	return buf;
}

/* Does a concrete section name match a schema section (exact, or "prefix.*")? */
static bool section_matches(const char *pattern, const char *section)
{
	size_t plen = strlen(pattern);

	if (plen >= 2 && strcmp(pattern + plen - 2, ".*") == 0)
		return strncmp(pattern, section, plen - 1) == 0 && section[plen - 1] != '\0';
	return strcmp(pattern, section) == 0;
}

static const struct cfg_key *schema_find(const struct cfg *c, const char *section,
					 const char *key)
{
	for (size_t i = 0; i < c->nkeys; i++)
		if (section_matches(c->schema[i].section, section) &&
		    strcmp(c->schema[i].key, key) == 0)
			return &c->schema[i];
	return NULL;
}

static bool section_known(const struct cfg *c, const char *section)
{
	for (size_t i = 0; i < c->nkeys; i++)
		if (section_matches(c->schema[i].section, section))
			return true;
	return false;
}

/* The closest known key of section (or section name when key is NULL), or NULL when nothing
 * is close enough to be a likely typo. */
static const char *closest(const struct cfg *c, const char *section, const char *key)
{
	const char *cands[256];
	size_t n = 0;

	for (size_t i = 0; i < c->nkeys && n < 256; i++) {
		if (key && !section_matches(c->schema[i].section, section))
			continue;
		cands[n++] = key ? c->schema[i].key : c->schema[i].section;
	}
	return name_closest(key ? key : section, cands, n);
}

int cfg_parse_int(const char *text, int64_t *out)
{
	char *end;

	if (!text || !*text)
		return -RAAS_EPARSE;
	errno = 0;
	long long v = strtoll(text, &end, 10);
	if (errno || *end != '\0')
		return -RAAS_EPARSE;
	*out = v;
	return 0;
}

static int parse_double(const char *text, double *out)
{
	char *end;

	if (!text || !*text)
		return -RAAS_EPARSE;
	errno = 0;
	double v = strtod(text, &end);
	if (errno || *end != '\0' || !isfinite(v))
		return -RAAS_EPARSE;
	*out = v;
	return 0;
}

int cfg_parse_bool(const char *text, bool *out)
{
	static const char *const yes[] = {"true", "yes", "on", "1"};
	static const char *const no[] = {"false", "no", "off", "0"};

	for (size_t i = 0; i < 4; i++) {
		if (strcasecmp(text, yes[i]) == 0) {
			*out = true;
			return 0;
		}
		if (strcasecmp(text, no[i]) == 0) {
			*out = false;
			return 0;
		}
	}
	return -RAAS_EPARSE;
}

int cfg_parse_duration(const char *text, int64_t *out_ns)
{
	static const struct {
		const char *suffix;
		int64_t ns;
	} units[] = {{"ns", 1},
		     {"us", 1000},
		     {"ms", 1000000},
		     {"s", 1000000000},
		     {"m", INT64_C(60000000000)},
		     {"h", INT64_C(3600000000000)},
		     {"d", INT64_C(86400000000000)}};
	char *end;

	if (!text || !*text || *text == '-')
		return -RAAS_EPARSE;
	errno = 0;
	double v = strtod(text, &end);
	if (errno || end == text || !isfinite(v))
		return -RAAS_EPARSE;
	for (size_t i = 0; i < sizeof(units) / sizeof(units[0]); i++) {
		if (strcmp(end, units[i].suffix) == 0) {
			double ns = v * (double)units[i].ns;
			if (ns > 9.2e18)
				return -RAAS_EPARSE;
			*out_ns = (int64_t)llround(ns);
			return 0;
		}
	}
	return -RAAS_EPARSE;
}

static const char *type_expectation(enum cfg_type t)
{
	switch (t) {
	case CFG_INT:
		return "an integer";
	case CFG_DOUBLE:
		return "a number";
	case CFG_BOOL:
		return "true or false";
	case CFG_MONEY:
		return "a dollar amount such as $0.25";
	case CFG_DURATION:
		return "a duration with a unit such as 250ms, 10s or 1h";
	case CFG_STRING:
		break;
	}
	return "a string";
}

static int check_type(const struct cfg_key *k, const char *value, const char **why)
{
	int64_t i;
	double d;
	bool b;
	money_t m;

	*why = NULL;
	switch (k->type) {
	case CFG_STRING:
		return 0;
	case CFG_INT:
		return cfg_parse_int(value, &i);
	case CFG_DOUBLE:
		return parse_double(value, &d);
	case CFG_BOOL:
		return cfg_parse_bool(value, &b);
	case CFG_MONEY:
		return money_parse(value, &m, why);
	case CFG_DURATION:
		return cfg_parse_duration(value, &i);
	}
	return 0;
}

static struct cfg_entry *list_find(struct entry_list *l, const char *section, const char *key)
{
	for (size_t i = 0; i < l->n; i++)
		if (strcmp(l->v[i].section, section) == 0 && strcmp(l->v[i].key, key) == 0)
			return &l->v[i];
	return NULL;
}

static int list_push(struct entry_list *l, const char *section, const char *key,
		     const char *value, const char *origin, int line)
{
	if (l->n == l->cap) {
		size_t cap = l->cap ? 2 * l->cap : 16;
		struct cfg_entry *v = realloc(l->v, cap * sizeof(*v));
		if (!v)
			return -ENOMEM;
		l->v = v;
		l->cap = cap;
	}
	struct cfg_entry *e = &l->v[l->n];
	e->section = strdup(section);
	e->key = strdup(key);
	e->value = strdup(value);
	if (!e->section || !e->key || !e->value) {
		entry_free(e);
		return -ENOMEM;
	}
	snprintf(e->origin, sizeof(e->origin), "%s", origin);
	e->line = line;
	l->n++;
	return 0;
}

/* Checks one section.key=value against the schema; fills err and returns -RAAS_ECONFIG. */
static int check_entry(const struct cfg *c, const char *section, const char *key,
		       const char *value, const char *origin, int line, struct cfg_error *err)
{
	if (!section_known(c, section)) {
		const char *near = closest(c, section, NULL);
		set_error(err, origin, line, section, NULL, "unknown section%s%s%s",
			  near ? " (did you mean [" : "", near ? near : "", near ? "]?)" : "");
		return -RAAS_ECONFIG;
	}
	const struct cfg_key *k = schema_find(c, section, key);
	if (!k) {
		const char *near = closest(c, section, key);
		set_error(err, origin, line, section, key, "unknown key%s%s%s",
			  near ? " (did you mean '" : "", near ? near : "", near ? "'?)" : "");
		return -RAAS_ECONFIG;
	}
	const char *why;
	if (check_type(k, value, &why) != 0) {
		set_error(err, origin, line, section, key, "'%s' is not %s%s%s", value,
			  type_expectation(k->type), why ? ": " : "", why ? why : "");
		return -RAAS_ECONFIG;
	}
	return 0;
}

/* Moves every scratch entry into the config, replacing values already there. */
static int merge(struct cfg *c, struct entry_list *scratch)
{
	for (size_t i = 0; i < scratch->n; i++) {
		struct cfg_entry *s = &scratch->v[i];
		struct cfg_entry *e = list_find(&c->entries, s->section, s->key);
		if (e) {
			free(e->value);
			e->value = s->value;
			s->value = NULL;
			snprintf(e->origin, sizeof(e->origin), "%s", s->origin);
			e->line = s->line;
		} else {
			int r = list_push(&c->entries, s->section, s->key, s->value, s->origin,
					  s->line);
			if (r)
				return r;
		}
	}
	return 0;
}

struct parse_state {
	struct cfg *c;
	struct entry_list scratch;
	struct name_list scratch_sections;
	const char *origin;
	struct cfg_error *err;
	int line;
	bool failed;
	/* Line sources: a FILE or a string cursor. */
	FILE *file;
	const char *cursor;
};

/* libinih calls the handler only for keys, so a section header is checked here, as its line
 * is read: an unknown or misspelt section is an error even when it holds no key. */
static void check_section_line(struct parse_state *st, const char *line)
{
	const char *p = line, *end;
	char name[128];

	while (*p == ' ' || *p == '\t')
		p++;
	if (*p != '[' || st->failed)
		return;
	end = strchr(++p, ']');
	if (!end || (size_t)(end - p) >= sizeof(name))
		return; /* libinih reports the syntax error */
	memcpy(name, p, (size_t)(end - p));
	name[end - p] = '\0';
	if (!section_known(st->c, name)) {
		const char *near = closest(st->c, name, NULL);
		set_error(st->err, st->origin, st->line, name, NULL, "unknown section%s%s%s",
			  near ? " (did you mean [" : "", near ? near : "", near ? "]?)" : "");
		st->failed = true;
		return;
	}
	if (names_add(&st->scratch_sections, name)) {
		set_error(st->err, st->origin, st->line, name, NULL, "out of memory");
		st->failed = true;
	}
}

static bool at_end(struct parse_state *st)
{
	if (!st->file)
		return !*st->cursor;
	int c = fgetc(st->file);
	if (c == EOF)
		return true;
	ungetc(c, st->file);
	return false;
}

static char *read_line(char *str, int num, void *stream)
{
	struct parse_state *st = stream;

	if (st->file) {
		if (!fgets(str, num, st->file))
			return NULL;
	} else {
		if (!*st->cursor)
			return NULL;
		const char *nl = strchr(st->cursor, '\n');
		size_t len = nl ? (size_t)(nl - st->cursor + 1) : strlen(st->cursor);
		if (len > (size_t)num - 1)
			len = (size_t)num - 1;
		memcpy(str, st->cursor, len);
		str[len] = '\0';
		st->cursor += len;
	}
	st->line++;
	size_t got = strlen(str);
	if (got == (size_t)num - 1 && str[got - 1] != '\n' && !at_end(st)) {
		/* libinih would read the rest as a new line and report a wrong one. */
		set_error(st->err, st->origin, st->line, NULL, NULL,
			  "line longer than %d characters (the INI reader's limit)", num - 2);
		st->failed = true;
		return NULL;
	}
	check_section_line(st, str);
	return str;
}

static int on_value(void *user, const char *section, const char *key, const char *value)
{
	struct parse_state *st = user;

	if (!*section) {
		set_error(st->err, st->origin, st->line, NULL, NULL,
			  "key '%s' before any [section]", key);
		st->failed = true;
		return 0;
	}
	if (check_entry(st->c, section, key, value, st->origin, st->line, st->err)) {
		st->failed = true;
		return 0;
	}
	struct cfg_entry *dup = list_find(&st->scratch, section, key);
	if (dup) {
		set_error(st->err, st->origin, st->line, section, key,
			  "given twice (first at line %d)", dup->line);
		st->failed = true;
		return 0;
	}
	if (list_push(&st->scratch, section, key, value, st->origin, st->line)) {
		set_error(st->err, st->origin, st->line, section, key, "out of memory");
		st->failed = true;
		return 0;
	}
	return 1;
}

static int parse(struct cfg *c, struct parse_state *st)
{
	static bool configured;

	if (!configured) {
		/* One value per line: a continuation line is far more likely a mistake. */
		ini_allow_multiline = false;
		configured = true;
	}
	int r = ini_parse_stream(read_line, st, on_value, st);
	if (r != 0 && !st->failed) {
		if (r < 0)
			set_error(st->err, st->origin, 0, NULL, NULL, "cannot read");
		else
			set_error(st->err, st->origin, r, NULL, NULL,
				  "syntax error: expected '[section]' or 'key = value'");
		st->failed = true;
	}
	if (!st->failed && merge(c, &st->scratch)) {
		set_error(st->err, st->origin, 0, NULL, NULL, "out of memory");
		st->failed = true;
	}
	for (size_t i = 0; !st->failed && i < st->scratch_sections.n; i++)
		if (names_add(&c->sections, st->scratch_sections.v[i])) {
			set_error(st->err, st->origin, 0, NULL, NULL, "out of memory");
			st->failed = true;
		}
	list_clear(&st->scratch);
	names_clear(&st->scratch_sections);
	return st->failed ? -RAAS_ECONFIG : 0;
}

int cfg_load_file(struct cfg *c, const char *path, struct cfg_error *err)
{
	FILE *f = fopen(path, "r");

	if (!f) {
		int e = errno;
		set_error(err, path, 0, NULL, NULL, "cannot open: %s", strerror(e));
		return -e;
	}
	struct parse_state st = {.c = c, .origin = path, .err = err, .file = f};
	int r = parse(c, &st);
	fclose(f);
	return r;
}

int cfg_load_string(struct cfg *c, const char *name, const char *text, struct cfg_error *err)
{
	struct parse_state st = {.c = c, .origin = name, .err = err, .cursor = text};

	return parse(c, &st);
}

int cfg_set_override(struct cfg *c, const char *assignment, struct cfg_error *err)
{
	const char *eq = strchr(assignment, '=');
	char path[256];

	if (!eq || eq == assignment || (size_t)(eq - assignment) >= sizeof(path)) {
		set_error(err, "--set", 0, NULL, NULL,
			  "'%s' is not section.key=value", assignment);
		return -RAAS_ECONFIG;
	}
	memcpy(path, assignment, (size_t)(eq - assignment));
	path[eq - assignment] = '\0';
	char *dot = strrchr(path, '.');
	if (!dot || dot == path || !dot[1]) {
		set_error(err, "--set", 0, NULL, NULL,
			  "'%s' is not section.key=value", assignment);
		return -RAAS_ECONFIG;
	}
	*dot = '\0';
	const char *section = path, *key = dot + 1, *value = eq + 1;
	if (check_entry(c, section, key, value, "--set", 0, err))
		return -RAAS_ECONFIG;
	struct entry_list scratch = {0};
	int r = list_push(&scratch, section, key, value, "--set", 0);
	if (!r)
		r = merge(c, &scratch);
	if (!r)
		r = names_add(&c->sections, section);
	list_clear(&scratch);
	if (r) {
		set_error(err, "--set", 0, section, key, "out of memory");
		return -ENOMEM;
	}
	return 0;
}

static const struct cfg_entry *find_const(const struct cfg *c, const char *section,
					  const char *key)
{
	for (size_t i = 0; i < c->entries.n; i++)
		if (strcmp(c->entries.v[i].section, section) == 0 &&
		    strcmp(c->entries.v[i].key, key) == 0)
			return &c->entries.v[i];
	return NULL;
}

const char *cfg_get(const struct cfg *c, const char *section, const char *key)
{
	const struct cfg_entry *e = find_const(c, section, key);

	if (e)
		return e->value;
	const struct cfg_key *k = schema_find(c, section, key);
	return k ? k->default_value : NULL;
}

bool cfg_has(const struct cfg *c, const char *section, const char *key)
{
	return find_const(c, section, key) != NULL;
}

static void vset_error_at(const struct cfg *c, const char *section, const char *key,
			  struct cfg_error *err, const char *fmt, va_list ap)
{
	const struct cfg_entry *e = find_const(c, section, key);
	char message[384];

	vsnprintf(message, sizeof(message), fmt, ap);
	if (e)
		set_error(err, e->origin, e->line, section, key, "%s", message);
	else
		set_error(err, "", 0, section, key, "%s", message);
}

int cfg_error_at(const struct cfg *c, const char *section, const char *key,
		 struct cfg_error *err, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vset_error_at(c, section, key, err, fmt, ap);
	va_end(ap);
	return -RAAS_ECONFIG;
}

/* Fetches a value for a typed getter, reporting a missing required key. */
static const char *need(const struct cfg *c, const char *section, const char *key,
			struct cfg_error *err)
{
	const char *v = cfg_get(c, section, key);

	if (!v)
		cfg_error_at(c, section, key, err, "missing (no default)");
	return v;
}

int cfg_get_string(const struct cfg *c, const char *section, const char *key, const char **out,
		   struct cfg_error *err)
{
	const char *v = need(c, section, key, err);

	if (!v)
		return -RAAS_ECONFIG;
	*out = v;
	return 0;
}

int cfg_get_int(const struct cfg *c, const char *section, const char *key, int64_t *out,
		struct cfg_error *err)
{
	const char *v = need(c, section, key, err);

	if (!v)
		return -RAAS_ECONFIG;
	if (cfg_parse_int(v, out))
		return cfg_error_at(c, section, key, err, "'%s' is not an integer", v);
	return 0;
}

int cfg_get_double(const struct cfg *c, const char *section, const char *key, double *out,
		   struct cfg_error *err)
{
	const char *v = need(c, section, key, err);

	if (!v)
		return -RAAS_ECONFIG;
	if (parse_double(v, out))
		return cfg_error_at(c, section, key, err, "'%s' is not a number", v);
	return 0;
}

int cfg_get_bool(const struct cfg *c, const char *section, const char *key, bool *out,
		 struct cfg_error *err)
{
	const char *v = need(c, section, key, err);

	if (!v)
		return -RAAS_ECONFIG;
	if (cfg_parse_bool(v, out))
		return cfg_error_at(c, section, key, err, "'%s' is not true or false", v);
	return 0;
}

int cfg_get_money(const struct cfg *c, const char *section, const char *key, money_t *out,
		  struct cfg_error *err)
{
	const char *v = need(c, section, key, err), *why = NULL;

	if (!v)
		return -RAAS_ECONFIG;
	if (money_parse(v, out, &why))
		return cfg_error_at(c, section, key, err, "'%s' is not a dollar amount%s%s", v,
				    why ? ": " : "", why ? why : "");
	return 0;
}

int cfg_get_duration(const struct cfg *c, const char *section, const char *key, int64_t *out_ns,
		     struct cfg_error *err)
{
	const char *v = need(c, section, key, err);

	if (!v)
		return -RAAS_ECONFIG;
	if (cfg_parse_duration(v, out_ns))
		return cfg_error_at(c, section, key, err,
				    "'%s' is not a duration (use a unit: 250ms, 10s, 1h)", v);
	return 0;
}

size_t cfg_sections(const struct cfg *c, const char *pattern, const char **names, size_t max)
{
	size_t count = 0;

	for (size_t i = 0; i < c->sections.n; i++) {
		if (!section_matches(pattern, c->sections.v[i]))
			continue;
		if (count < max)
			names[count] = c->sections.v[i];
		count++;
	}
	return count;
}

/* Appends to a growing string; returns false on OOM. */
static bool append(char **buf, size_t *len, size_t *cap, const char *fmt, ...)
	__attribute__((format(printf, 4, 5)));

static bool append(char **buf, size_t *len, size_t *cap, const char *fmt, ...)
{
	va_list ap;

	for (;;) {
		va_start(ap, fmt);
		int n = vsnprintf(*buf + *len, *cap - *len, fmt, ap);
		va_end(ap);
		if (n < 0)
			return false;
		if ((size_t)n < *cap - *len) {
			*len += (size_t)n;
			return true;
		}
		size_t ncap = (*cap + (size_t)n) * 2;
		char *nb = realloc(*buf, ncap);
		if (!nb)
			return false;
		*buf = nb;
		*cap = ncap;
	}
}

char *cfg_dump(const struct cfg *c)
{
	size_t len = 0, cap = 1024;
	char *buf = malloc(cap);
	const char *last = NULL;

	if (!buf)
		return NULL;
	buf[0] = '\0';
	/* Set values grouped by section, in the order sections were first seen. */
	for (size_t i = 0; i < c->sections.n; i++) {
		const char *s = c->sections.v[i];
		if (!append(&buf, &len, &cap, "%s[%s]\n", last ? "\n" : "", s))
			goto oom;
		last = s;
		for (size_t j = 0; j < c->entries.n; j++)
			if (strcmp(c->entries.v[j].section, s) == 0 &&
			    !append(&buf, &len, &cap, "%s = %s\n", c->entries.v[j].key,
				    c->entries.v[j].value))
				goto oom;
		/* Defaults of this (concrete) section that were not set. */
		for (size_t k = 0; k < c->nkeys; k++)
			if (section_matches(c->schema[k].section, s) &&
			    c->schema[k].default_value && !find_const(c, s, c->schema[k].key) &&
			    !append(&buf, &len, &cap, "%s = %s\n", c->schema[k].key,
				    c->schema[k].default_value))
				goto oom;
	}
	/* Defaults of fixed sections that have no value set at all. */
	for (size_t k = 0; k < c->nkeys; k++) {
		const char *s = c->schema[k].section;
		if (strchr(s, '*') || !c->schema[k].default_value)
			continue;
		if (names_has(&c->sections, s))
			continue;
		bool first = true;
		for (size_t j = 0; j < k && first; j++)
			first = strcmp(c->schema[j].section, s) != 0;
		if (first && !append(&buf, &len, &cap, "%s[%s]\n", last ? "\n" : "", s))
			goto oom;
		last = s;
		if (!append(&buf, &len, &cap, "%s = %s\n", c->schema[k].key,
			    c->schema[k].default_value))
			goto oom;
	}
	return buf;
oom:
	free(buf);
	return NULL;
}
