/* study.c: reading a study file and expanding its grid into runs (sim/study.h).
 *
 * A study file's axes have free-form keys (level names, or scenario keys in [grid]), which
 * common/config.h's schemas cannot describe, so the file is read here by a small line reader
 * of the same INI dialect (sections, `key = value`, `;` and `#` comments) that keeps every
 * value's line for its errors. What the values mean is left to the scenario loader: each
 * combination of levels is loaded once, with the study's assignments, before anything runs,
 * so that a study that sweeps is a study whose every run starts. */
#include <ctype.h>
#include <errno.h>
#include <inttypes.h>
#include <libgen.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/error.h"
#include "scenario.h"
#include "study.h"
#include "study_internal.h"

#define LINE_MAX_LEN 4096

static char *trim(char *s)
{
	while (isspace((unsigned char)*s))
		s++;
	char *e = s + strlen(s);
	while (e > s && isspace((unsigned char)e[-1]))
		*--e = '\0';
	return s;
}

static int fail(char *why, size_t len, const char *file, int line, const char *what,
		const char *fmt, ...) __attribute__((format(printf, 6, 7)));

static int fail(char *why, size_t len, const char *file, int line, const char *what,
		const char *fmt, ...)
{
	va_list ap;
	int n = snprintf(why, len, "%s:%d: %s%s", file, line, what ? what : "", what ? ": " : "");
	va_start(ap, fmt);
	if (n >= 0 && (size_t)n < len)
		vsnprintf(why + n, len - (size_t)n, fmt, ap);
	va_end(ap);
	return -RAAS_ECONFIG;
}

static bool good_name(const char *s)
{
	if (!*s || strlen(s) >= 64)
		return false;
	for (; *s; s++)
		if (!isalnum((unsigned char)*s) && !strchr("_-.+:$", *s))
			return false;
	return true;
}

/* "1-10", "1, 2, 5", "3". */
static int parse_seeds(struct sim_study *s, char *text, const char *file, int line, char *why,
		       size_t len)
{
	char *save = NULL;
	size_t cap = 16;

	/* A second seeds line replaces the first, as other keys do (the first one leaked). */
	free(s->seeds);
	s->nseeds = 0;
	s->seeds = malloc(cap * sizeof(*s->seeds));
	if (!s->seeds)
		return -ENOMEM;
	for (char *tok = strtok_r(text, ",", &save); tok; tok = strtok_r(NULL, ",", &save)) {
		tok = trim(tok);
		unsigned long long a, b;
		int used = 0;
		if (sscanf(tok, "%llu-%llu%n", &a, &b, &used) == 2 && !tok[used]) {
			if (b < a || b - a >= SIM_STUDY_MAX_RUNS)
				return fail(why, len, file, line, "study.seeds",
					    "'%s' is not a range FIRST-LAST (at most %d seeds)", tok,
					    SIM_STUDY_MAX_RUNS);
		} else if (sscanf(tok, "%llu%n", &a, &used) == 1 && !tok[used] && *tok != '-') {
			b = a;
		} else {
			return fail(why, len, file, line, "study.seeds",
				    "'%s' is not a seed or a range such as 1-10", tok);
		}
		for (unsigned long long x = a; x <= b; x++) {
			if (s->nseeds == SIM_STUDY_MAX_RUNS)
				return fail(why, len, file, line, "study.seeds", "more than %d seeds",
					    SIM_STUDY_MAX_RUNS);
			if (s->nseeds == cap) {
				uint64_t *v = realloc(s->seeds, 2 * cap * sizeof(*v));
				if (!v)
					return -ENOMEM;
				s->seeds = v;
				cap *= 2;
			}
			s->seeds[s->nseeds++] = x;
			if (x == UINT64_MAX)
				break;
		}
	}
	if (!s->nseeds)
		return fail(why, len, file, line, "study.seeds", "no seed given");
	return 0;
}

static struct sim_study_axis *axis_get(struct sim_study *s, const char *name, const char *file,
				       int line, char *why, size_t len, int *rc)
{
	for (size_t i = 0; i < s->naxes; i++)
		if (strcmp(s->axes[i].name, name) == 0)
			return &s->axes[i];
	if (s->naxes == SIM_STUDY_MAX_AXES) {
		*rc = fail(why, len, file, line, NULL, "more than %d axes", SIM_STUDY_MAX_AXES);
		return NULL;
	}
	struct sim_study_axis *a = &s->axes[s->naxes++];
	snprintf(a->name, sizeof(a->name), "%s", name);
	return a;
}

static int add_level(struct sim_study_axis *a, const char *name, const char *assign, int line,
		     const char *file, char *why, size_t len)
{
	for (size_t i = 0; i < a->nlevels; i++)
		if (strcmp(a->levels[i].name, name) == 0)
			return fail(why, len, file, line, a->name, "level '%s' given twice (first at "
				    "line %d)", name, a->levels[i].line);
	if (a->nlevels == SIM_STUDY_MAX_LEVELS)
		return fail(why, len, file, line, a->name, "more than %d levels",
			    SIM_STUDY_MAX_LEVELS);
	struct sim_study_level *v = realloc(a->levels, (a->nlevels + 1) * sizeof(*v));
	if (!v)
		return -ENOMEM;
	a->levels = v;
	struct sim_study_level *l = &a->levels[a->nlevels];
	memset(l, 0, sizeof(*l));
	snprintf(l->name, sizeof(l->name), "%s", name);
	l->assign = strdup(assign);
	l->line = line;
	if (!l->assign)
		return -ENOMEM;
	a->nlevels++;
	return 0;
}

/* Checks "section.key=value; ..." for shape (the scenario loader checks the rest). */
static int check_assign(const char *text, const char *file, int line, const char *what,
			char *why, size_t len)
{
	char copy[LINE_MAX_LEN];
	char *items[256];

	snprintf(copy, sizeof(copy), "%s", text);
	size_t n = 0;
	char *save = NULL;
	for (char *tok = strtok_r(copy, ";", &save); tok; tok = strtok_r(NULL, ";", &save)) {
		tok = trim(tok);
		if (!*tok)
			continue;
		char *eq = strchr(tok, '=');
		char *dot = strchr(tok, '.');
		if (strchr(tok, '\t'))
			return fail(why, len, file, line, what, "a tab inside '%s'", tok);
		if (!eq || !dot || dot > eq || eq == tok)
			return fail(why, len, file, line, what,
				    "'%s' is not an assignment section.key=value", tok);
		if (n == 256)
			return fail(why, len, file, line, what, "more than 256 assignments");
		items[n++] = tok;
	}
	(void)items;
	if (!n)
		return fail(why, len, file, line, what, "no assignment");
	return 0;
}

static int append_set(struct sim_study *s, const char *assign)
{
	size_t old = s->set ? strlen(s->set) : 0, add = strlen(assign);
	char *v = realloc(s->set, old + add + 3);
	if (!v)
		return -ENOMEM;
	if (old)
		memcpy(v + old, "; ", 2), old += 2;
	memcpy(v + old, assign, add + 1);
	s->set = v;
	return 0;
}

static int parse(struct sim_study *s, char *why, size_t len)
{
	const char *file = s->path;
	char section[128] = "";
	int line = 0, rc = 0, seeds_line = 0, scenario_line = 0;
	bool have_seeds = false;
	char *p = s->text;

	while (*p && !rc) {
		char *nl = strchr(p, '\n');
		size_t n = nl ? (size_t)(nl - p) : strlen(p);
		line++;
		if (n >= LINE_MAX_LEN)
			return fail(why, len, file, line, NULL, "line longer than %d characters",
				    LINE_MAX_LEN - 1);
		char buf[LINE_MAX_LEN];
		memcpy(buf, p, n);
		buf[n] = '\0';
		p = nl ? nl + 1 : p + n;
		char *t = trim(buf);
		if (!*t || *t == ';' || *t == '#')
			continue;
		if (*t == '[') {
			char *e = strchr(t, ']');
			if (!e || trim(e + 1)[0])
				return fail(why, len, file, line, NULL, "bad section header '%s'", t);
			*e = '\0';
			snprintf(section, sizeof(section), "%s", trim(t + 1));
			if (strcmp(section, "study") && strcmp(section, "set") &&
			    strcmp(section, "grid") && strncmp(section, "axis.", 5))
				return fail(why, len, file, line, NULL,
					    "unknown section [%s] (study, set, grid, axis.NAME)",
					    section);
			if (!strncmp(section, "axis.", 5) && !good_name(section + 5))
				return fail(why, len, file, line, NULL, "bad axis name '%s'",
					    section + 5);
			continue;
		}
		char *eq = strchr(t, '=');
		if (!eq)
			return fail(why, len, file, line, NULL, "expected key = value, got '%s'", t);
		*eq = '\0';
		char *key = trim(t), *val = trim(eq + 1);
		char what[256];
		snprintf(what, sizeof(what), "%s.%s", section, key);
		if (!section[0])
			return fail(why, len, file, line, key, "a key before any section");
		if (!*val)
			return fail(why, len, file, line, what, "empty value");
		if (!strcmp(section, "study")) {
			if (!strcmp(key, "scenario")) {
				if (sim__path(s->scenario, sizeof(s->scenario), "%s%s%s",
					      val[0] == '/' ? "" : s->dir, val[0] == '/' ? "" : "/",
					      val))
					return fail(why, len, file, line, what, "path too long");
				scenario_line = line;
			} else if (!strcmp(key, "seeds")) {
				rc = parse_seeds(s, val, file, line, why, len);
				have_seeds = true;
				seeds_line = line;
			} else if (!strcmp(key, "name")) {
				if (!good_name(val))
					return fail(why, len, file, line, what, "bad name '%s'", val);
				snprintf(s->name, sizeof(s->name), "%s", val);
			} else if (!strcmp(key, "threads")) {
				char *end;
				long v = strtol(val, &end, 10);
				if (*end || v < 1 || v > 256)
					return fail(why, len, file, line, what, "'%s' is not 1 to 256",
						    val);
				s->threads = (int)v;
			} else if (!strcmp(key, "compare")) {
				snprintf(s->compare, sizeof(s->compare), "%s", val);
			} else {
				return fail(why, len, file, line, what,
					    "unknown key (scenario, seeds, name, threads, compare)");
			}
		} else if (!strcmp(section, "set")) {
			char a[LINE_MAX_LEN + 8];
			snprintf(a, sizeof(a), "%s=%s", key, val);
			if ((rc = check_assign(a, file, line, what, why, len)) == 0)
				rc = append_set(s, a);
		} else if (!strcmp(section, "grid")) {
			/* key = v1 | v2 | ...: an axis named after the key. */
			struct sim_study_axis *ax = axis_get(s, key, file, line, why, len, &rc);
			if (!ax)
				return rc;
			char *save = NULL;
			for (char *tok = strtok_r(val, "|", &save); tok && !rc;
			     tok = strtok_r(NULL, "|", &save)) {
				char a[LINE_MAX_LEN + 8];
				tok = trim(tok);
				if (!*tok || !good_name(tok))
					return fail(why, len, file, line, what,
						    "bad level '%s' (use [axis.NAME] for values with "
						    "blanks or punctuation)", tok);
				snprintf(a, sizeof(a), "%s=%s", key, tok);
				if ((rc = check_assign(a, file, line, what, why, len)) == 0)
					rc = add_level(ax, tok, a, line, file, why, len);
			}
		} else {
			struct sim_study_axis *ax = axis_get(s, section + 5, file, line, why, len,
							     &rc);
			if (!ax)
				return rc;
			if (!good_name(key))
				return fail(why, len, file, line, what, "bad level name");
			if ((rc = check_assign(val, file, line, what, why, len)) == 0)
				rc = add_level(ax, key, val, line, file, why, len);
		}
	}
	if (rc)
		return rc;
	if (!s->scenario[0])
		return fail(why, len, file, line, "study.scenario", "missing (the base scenario)");
	if (!have_seeds)
		return fail(why, len, file, line, "study.seeds", "missing (e.g. seeds = 1-10)");
	(void)seeds_line;
	(void)scenario_line;
	s->nruns = s->nseeds;
	for (size_t i = 0; i < s->naxes; i++) {
		if (!s->axes[i].nlevels)
			return fail(why, len, file, line, s->axes[i].name, "axis without levels");
		if (s->nruns > SIM_STUDY_MAX_RUNS / s->axes[i].nlevels)
			return fail(why, len, file, line, NULL, "more than %d runs",
				    SIM_STUDY_MAX_RUNS);
		s->nruns *= s->axes[i].nlevels;
	}
	if (s->compare[0]) {
		bool found = false;
		for (size_t i = 0; i < s->naxes; i++)
			found |= strcmp(s->axes[i].name, s->compare) == 0;
		if (!found)
			return fail(why, len, file, line, "study.compare", "no axis '%s'", s->compare);
	} else if (s->naxes) {
		snprintf(s->compare, sizeof(s->compare), "%s", s->axes[0].name);
	}
	return 0;
}

/* The level index of every axis for a combination number (the last axis varies fastest). */
static void levels_of(const struct sim_study *s, size_t combo, size_t *idx)
{
	for (size_t i = s->naxes; i-- > 0;) {
		idx[i] = combo % s->axes[i].nlevels;
		combo /= s->axes[i].nlevels;
	}
}

int sim_study_run_at(const struct sim_study *s, size_t index, struct sim_study_run *run,
		     char *buf, size_t buf_len)
{
	size_t idx[SIM_STUDY_MAX_AXES], used = 0;

	if (index >= s->nruns)
		return -ERANGE;
	memset(run, 0, sizeof(*run));
	run->index = index;
	run->seed = s->seeds[index % s->nseeds];
	levels_of(s, index / s->nseeds, idx);
	/* The study's [set] first, then each axis's level, in file order. */
	for (size_t a = 0; a <= s->naxes; a++) {
		const char *text = a == 0 ? s->set : s->axes[a - 1].levels[idx[a - 1]].assign;
		if (a > 0)
			run->level[a - 1] = s->axes[a - 1].levels[idx[a - 1]].name;
		if (!text)
			continue;
		size_t n = strlen(text);
		if (used + n + 1 > buf_len)
			return -E2BIG;
		char *copy = buf + used;
		memcpy(copy, text, n + 1);
		used += n + 1;
		char *save = NULL;
		for (char *tok = strtok_r(copy, ";", &save); tok; tok = strtok_r(NULL, ";", &save)) {
			tok = trim(tok);
			if (!*tok)
				continue;
			if (run->nassign == 256)
				return -E2BIG;
			run->assign[run->nassign++] = tok;
		}
	}
	return 0;
}

/* Loads the scenario for every combination of levels (with the first seed). */
static int validate(const struct sim_study *s, char *why, size_t len)
{
	size_t combos = s->nruns / s->nseeds;
	char *buf = malloc(16384);
	int rc = 0;

	if (!buf)
		return -ENOMEM;
	for (size_t c = 0; c < combos && !rc; c++) {
		struct sim_study_run run;
		struct sim_scenario *sc;
		struct cfg_error err;
		char msg[1024];
		if ((rc = sim_study_run_at(s, c * s->nseeds, &run, buf, 16384))) {
			snprintf(why, len, "%s: run %zu: more than 256 assignments or 16 KiB of them",
				 s->path, c * s->nseeds);
			break;
		}
		rc = sim_scenario_load(s->scenario, NULL, run.assign, run.nassign, &sc, &err);
		if (rc) {
			char lv[512] = "";
			size_t o = 0;
			for (size_t a = 0; a < s->naxes && o < sizeof(lv); a++)
				o += (size_t)snprintf(lv + o, sizeof(lv) - o, "%s%s=%s", a ? ", " : "",
						      s->axes[a].name, run.level[a]);
			snprintf(why, len, "%s: the runs with %s: %s", s->path, lv[0] ? lv : "no axis",
				 cfg_error_format(&err, msg, sizeof(msg)));
			break;
		}
		sim_scenario_destroy(sc);
	}
	free(buf);
	return rc;
}

/* A study named path (for messages and its default name) in folder dir, text owned by s. */
static struct sim_study *study_new(const char *path, const char *dir)
{
	struct sim_study *s = calloc(1, sizeof(*s));
	char copy[1024];

	if (!s)
		return NULL;
	snprintf(s->path, sizeof(s->path), "%s", path);
	snprintf(s->dir, sizeof(s->dir), "%s", dir);
	snprintf(copy, sizeof(copy), "%s", path);
	char *base = basename(copy), *dot = strrchr(base, '.');
	if (dot)
		*dot = '\0';
	snprintf(s->name, sizeof(s->name), "%.63s", base);
	s->threads = 1;
	return s;
}

static int finish(struct sim_study *s, struct sim_study **out, char *why, size_t why_len)
{
	int rc = parse(s, why, why_len);
	if (rc == -ENOMEM)
		snprintf(why, why_len, "out of memory");
	if (!rc)
		rc = validate(s, why, why_len);
	if (rc) {
		sim_study_destroy(s);
		return rc;
	}
	*out = s;
	return 0;
}

int sim_study_parse(const char *name, const char *text, size_t len, const char *dir,
		    struct sim_study **out, char *why, size_t why_len)
{
	struct sim_study *s = study_new(name, dir);

	if (!s || !(s->text = malloc(len + 1))) {
		sim_study_destroy(s);
		snprintf(why, why_len, "out of memory");
		return -ENOMEM;
	}
	memcpy(s->text, text, len);
	s->text[len] = '\0';
	if (memchr(text, '\0', len)) {
		snprintf(why, why_len, "%s: a NUL byte in the file", name);
		sim_study_destroy(s);
		return -RAAS_ECONFIG;
	}
	return finish(s, out, why, why_len);
}

int sim_study_load(const char *path, struct sim_study **out, char *why, size_t why_len)
{
	char copy[1024];
	snprintf(copy, sizeof(copy), "%s", path);
	struct sim_study *s = study_new(path, dirname(copy));
	int rc;

	if (!s) {
		snprintf(why, why_len, "out of memory");
		return -ENOMEM;
	}
	FILE *f = fopen(path, "r");
	if (!f) {
		rc = -errno;
		snprintf(why, why_len, "%s: %s", path, strerror(errno));
		free(s);
		return rc == -ENOENT ? -ENOENT : -RAAS_ECONFIG;
	}
	size_t cap = 4096, n = 0;
	s->text = malloc(cap);
	for (int c; s->text && (c = fgetc(f)) != EOF;) {
		if (n + 2 > cap) {
			char *v = cap < (1u << 24) ? realloc(s->text, cap * 2) : NULL;
			if (!v) {
				free(s->text);
				s->text = NULL;
				break;
			}
			s->text = v;
			cap *= 2;
		}
		if (c == '\0') {
			fclose(f);
			snprintf(why, why_len, "%s: a NUL byte in the file", path);
			sim_study_destroy(s);
			return -RAAS_ECONFIG;
		}
		s->text[n++] = (char)c;
	}
	fclose(f);
	if (!s->text) {
		snprintf(why, why_len, "%s: out of memory or larger than 16 MiB", path);
		sim_study_destroy(s);
		return -ENOMEM;
	}
	s->text[n] = '\0';
	return finish(s, out, why, why_len);
}

void sim_study_destroy(struct sim_study *s)
{
	if (!s)
		return;
	for (size_t i = 0; i < s->naxes; i++) {
		for (size_t l = 0; l < s->axes[i].nlevels; l++)
			free(s->axes[i].levels[l].assign);
		free(s->axes[i].levels);
	}
	free(s->seeds);
	free(s->set);
	free(s->text);
	free(s);
}
