/* profile.c: the profile CSV parser and the profile lookups (no I/O: text in, profile out).
 *
 * The format (docs/profiles.md) is written by people (profiles from published numbers) and by
 * scripts (apps/bench/profile.sh), so the parser is strict and says exactly what is wrong and
 * where: a header names the columns (any order, each once, none unknown), every row has as
 * many fields as the header, every number is finite and in range, and every (app, load,
 * delay, spin) appears once. Fields may be double-quoted ("" is a literal quote) so that a source
 * note may hold commas. The result is built only when the whole text is good. */
#include <ctype.h>
#include <errno.h>
#include <math.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/error.h"
#include "nom/econ_profile.h"

enum column {
	COL_APP,
	COL_LOAD,
	COL_DELAY,
	COL_TPUT,
	COL_LATENCY,
	COL_JITTER,
	COL_BYTES,
	COL_SOURCE,
	COL_CORES,
	COL_SPIN,
	COL_CPU,
	NCOLUMNS
};

static const char *const column_names[NCOLUMNS] = {
	[COL_APP] = "app",
	[COL_LOAD] = "load",
	[COL_DELAY] = "delay_us",
	[COL_TPUT] = "throughput_rps",
	[COL_LATENCY] = "latency_us",
	[COL_JITTER] = "jitter_us",
	[COL_BYTES] = "bytes_per_request",
	[COL_SOURCE] = "source",
	[COL_CORES] = "cores",
	[COL_SPIN] = "spin_us",
	[COL_CPU] = "cpu_us_per_request",
};

#define MAX_FIELDS 16

/* One parsed data row before the profile is assembled. */
struct row {
	char app[ECON_NAME_MAX];
	char load[ECON_NAME_MAX];
	struct econ_point pt;
	int cores;                 /* the cores column; 1 when absent */
	size_t app_idx, level_idx; /* set by assemble() */
};

struct parser {
	const char *name;
	struct econ_error *err;
	int line;
	int colmap[MAX_FIELDS]; /* field index -> column, -1 unused */
	int nfields;            /* fields per line, from the header */
	bool have_header;
	struct row *rows;
	size_t nrows, cap;
};

static int fail(struct parser *p, int line, const char *column, int code, const char *fmt, ...)
	__attribute__((format(printf, 5, 6)));

static int fail(struct parser *p, int line, const char *column, int code, const char *fmt, ...)
{
	va_list ap;

	if (p->err) {
		snprintf(p->err->file, sizeof(p->err->file), "%s", p->name);
		p->err->line = line;
		snprintf(p->err->column, sizeof(p->err->column), "%s", column ? column : "");
		va_start(ap, fmt);
		vsnprintf(p->err->message, sizeof(p->err->message), fmt, ap);
		va_end(ap);
	}
	return code;
}

char *econ_error_format(const struct econ_error *err, char *buf, size_t len)
{
	char place[300] = "";

	if (err->file[0] && err->line > 0)
		snprintf(place, sizeof(place), "%s:%d: ", err->file, err->line);
	else if (err->file[0])
		snprintf(place, sizeof(place), "%s: ", err->file);
	snprintf(buf, len, "%s%s%s%s", place, err->column, err->column[0] ? ": " : "",
		 err->message);
	return buf;
}

/* Splits one line (NUL-terminated, no newline) into fields, in place. Quoted fields lose
 * their quotes and "" becomes ". Returns the count, or -1 with *why set. */
static int split_fields(char *line, char **fields, int max, const char **why)
{
	int n = 0;
	char *r = line;

	for (;;) {
		while (*r == ' ' || *r == '\t')
			r++;
		if (n == max) {
			*why = "too many fields";
			return -1;
		}
		char *start = r, *w = r;
		if (*r == '"') {
			r++;
			for (;;) {
				if (*r == '\0') {
					*why = "unterminated quoted field";
					return -1;
				}
				if (*r == '"') {
					if (r[1] == '"') {
						*w++ = '"';
						r += 2;
						continue;
					}
					r++;
					break;
				}
				*w++ = *r++;
			}
			while (*r == ' ' || *r == '\t')
				r++;
			if (*r != ',' && *r != '\0') {
				*why = "text after a closing quote";
				return -1;
			}
		} else {
			while (*r != ',' && *r != '\0') {
				if (*r == '"') {
					*why = "a quote inside an unquoted field";
					return -1;
				}
				*w++ = *r++;
			}
			while (w > start && (w[-1] == ' ' || w[-1] == '\t'))
				w--;
		}
		char sep = *r;
		*w = '\0';
		fields[n++] = start;
		if (sep == '\0')
			return n;
		r++; /* past the comma */
	}
}

static bool valid_name(const char *s)
{
	size_t n = strlen(s);

	if (n == 0 || n >= ECON_NAME_MAX)
		return false;
	for (size_t i = 0; i < n; i++)
		if (!isalnum((unsigned char)s[i]) && !strchr("_.+-", s[i]))
			return false;
	return true;
}

/* A plain decimal number (no hex, no inf/nan). */
static int parse_number(const char *s, double *out)
{
	char *end;

	if (!*s)
		return -1;
	for (const char *c = s; *c; c++)
		if (!isdigit((unsigned char)*c) && !strchr("+-.eE", *c))
			return -1;
	errno = 0;
	double v = strtod(s, &end);
	if (*end != '\0' || errno == ERANGE || !isfinite(v))
		return -1;
	*out = v;
	return 0;
}

static int parse_header(struct parser *p, char **fields, int n)
{
	bool seen[NCOLUMNS] = {false};

	for (int i = 0; i < n; i++) {
		int col = -1;
		for (int c = 0; c < NCOLUMNS; c++)
			if (strcmp(fields[i], column_names[c]) == 0)
				col = c;
		if (col < 0)
			return fail(p, p->line, "header", -RAAS_EPARSE,
				    "unknown column '%s' (columns: app, load, delay_us, "
				    "throughput_rps, latency_us, jitter_us, bytes_per_request, "
				    "source, cores, spin_us, cpu_us_per_request)",
				    fields[i]);
		if (seen[col])
			return fail(p, p->line, "header", -RAAS_EPARSE, "column '%s' given twice",
				    fields[i]);
		seen[col] = true;
		p->colmap[i] = col;
	}
	for (int c = 0; c < NCOLUMNS; c++)
		if (!seen[c] && c != COL_SOURCE && c != COL_CORES && c != COL_SPIN && c != COL_CPU)
			return fail(p, p->line, "header", -RAAS_EPARSE, "missing column '%s'",
				    column_names[c]);
	p->nfields = n;
	p->have_header = true;
	return 0;
}

/* Range rule per numeric column: the message names it. */
static int check_number(struct parser *p, int col, const char *text, double *out)
{
	double v;

	if (parse_number(text, &v))
		return fail(p, p->line, column_names[col], -RAAS_EPARSE, "'%s' is not a number",
			    text);
	switch (col) {
	case COL_DELAY:
		if (v < 0 || v > ECON_DELAY_MAX_US)
			return fail(p, p->line, column_names[col], -RAAS_EPARSE,
				    "%s is outside [0, %g] us", text, ECON_DELAY_MAX_US);
		break;
	case COL_CORES:
		if (v < 1 || v > ECON_CORES_MAX || v != floor(v))
			return fail(p, p->line, column_names[col], -RAAS_EPARSE,
				    "%s is not a whole number of cores 1-%d", text, ECON_CORES_MAX);
		break;
	case COL_SPIN:
		if (v < 0 || v > ECON_SPIN_MAX_US)
			return fail(p, p->line, column_names[col], -RAAS_EPARSE,
				    "%s is outside [0, %g] us", text, ECON_SPIN_MAX_US);
		break;
	case COL_CPU:
		if (v < 0)
			return fail(p, p->line, column_names[col], -RAAS_EPARSE,
				    "%s is negative (0: not measured)", text);
		break;
	case COL_JITTER:
		if (v < 0)
			return fail(p, p->line, column_names[col], -RAAS_EPARSE,
				    "%s is negative (a standard deviation is >= 0)", text);
		break;
	default:
		if (!(v > 0))
			return fail(p, p->line, column_names[col], -RAAS_EPARSE,
				    "%s is not > 0", text);
		break;
	}
	*out = v;
	return 0;
}

static int parse_row(struct parser *p, char **fields, int n)
{
	struct row r;
	int rc;

	if (n != p->nfields)
		return fail(p, p->line, NULL, -RAAS_EPARSE, "%d fields, but the header has %d", n,
			    p->nfields);
	if (p->nrows == ECON_PROFILE_MAX_ROWS)
		return fail(p, p->line, NULL, -RAAS_ETOOBIG, "more than %d rows",
			    ECON_PROFILE_MAX_ROWS);
	memset(&r, 0, sizeof(r));
	r.pt.line = p->line;
	r.cores = 1;
	for (int i = 0; i < n; i++) {
		int col = p->colmap[i];
		rc = 0;
		switch (col) {
		case COL_APP:
		case COL_LOAD:
			if (!valid_name(fields[i]))
				return fail(p, p->line, column_names[col], -RAAS_EPARSE,
					    "'%s' is not a name (1-%d letters, digits, '_', '.', "
					    "'+', '-')",
					    fields[i], ECON_NAME_MAX - 1);
			snprintf(col == COL_APP ? r.app : r.load, ECON_NAME_MAX, "%s", fields[i]);
			break;
		case COL_DELAY:
			rc = check_number(p, col, fields[i], &r.pt.delay_us);
			break;
		case COL_TPUT:
			rc = check_number(p, col, fields[i], &r.pt.tput_rps);
			break;
		case COL_LATENCY:
			rc = check_number(p, col, fields[i], &r.pt.latency_us);
			break;
		case COL_JITTER:
			rc = check_number(p, col, fields[i], &r.pt.jitter_us);
			break;
		case COL_BYTES:
			rc = check_number(p, col, fields[i], &r.pt.bytes_per_request);
			break;
		case COL_SPIN:
			rc = check_number(p, col, fields[i], &r.pt.spin_us);
			break;
		case COL_CPU:
			rc = check_number(p, col, fields[i], &r.pt.cpu_us);
			break;
		case COL_CORES: {
			double c = 1;
			rc = check_number(p, col, fields[i], &c);
			r.cores = (int)c;
			break;
		}
		default: /* source: free text */
			break;
		}
		if (rc)
			return rc;
	}
	if (p->nrows == p->cap) {
		size_t cap = p->cap ? 2 * p->cap : 64;
		struct row *v = realloc(p->rows, cap * sizeof(*v));
		if (!v)
			return fail(p, p->line, NULL, -ENOMEM, "out of memory");
		p->rows = v;
		p->cap = cap;
	}
	p->rows[p->nrows++] = r;
	return 0;
}

static int parse_line(struct parser *p, char *line)
{
	char *fields[MAX_FIELDS];
	const char *why = NULL;
	const char *s = line;

	while (*s == ' ' || *s == '\t')
		s++;
	if (*s == '\0' || *s == '#')
		return 0;
	int n = split_fields(line, fields, MAX_FIELDS, &why);
	if (n < 0)
		return fail(p, p->line, NULL, -RAAS_EPARSE, "%s", why);
	return p->have_header ? parse_row(p, fields, n) : parse_header(p, fields, n);
}

void econ_profile_destroy(struct econ_profile *prof)
{
	if (!prof)
		return;
	for (size_t a = 0; a < prof->napps; a++) {
		for (size_t l = 0; l < prof->apps[a].nlevels + prof->apps[a].ncore_levels; l++)
			free(prof->apps[a].levels[l].points);
		free(prof->apps[a].levels);
	}
	free(prof->apps);
	free(prof);
}

static int cmp_point_delay(const void *a, const void *b)
{
	const struct econ_point *x = a, *y = b;

	if (x->delay_us != y->delay_us)
		return x->delay_us < y->delay_us ? -1 : 1;
	if (x->spin_us != y->spin_us)
		return x->spin_us < y->spin_us ? -1 : 1;
	return x->line - y->line;
}

/* Groups the rows into apps and levels (first-appearance order), sorts each level by delay
 * and refuses a repeated delay. Two passes: the first numbers apps and levels and counts
 * points, so that every array is allocated once at its final size. */
static int assemble(struct parser *p, struct econ_profile **out)
{
	struct econ_profile *prof = calloc(1, sizeof(*prof));
	size_t *npts = NULL; /* [app * ECON_PROFILE_MAX_LEVELS + level] */
	int rc;

	if (!prof)
		return fail(p, 0, NULL, -ENOMEM, "out of memory");
	snprintf(prof->name, sizeof(prof->name), "%s", p->name);
	prof->apps = calloc(ECON_PROFILE_MAX_APPS, sizeof(*prof->apps));
	npts = calloc((size_t)ECON_PROFILE_MAX_APPS * ECON_PROFILE_MAX_LEVELS, sizeof(*npts));
	if (!prof->apps || !npts)
		goto oom;
	for (size_t i = 0; i < p->nrows; i++) {
		struct row *r = &p->rows[i];
		size_t a = 0, l = 0;
		while (a < prof->napps && strcmp(prof->apps[a].name, r->app) != 0)
			a++;
		if (a == prof->napps) {
			if (a == ECON_PROFILE_MAX_APPS) {
				rc = fail(p, r->pt.line, "app", -RAAS_ETOOBIG,
					  "more than %d apps in one profile",
					  ECON_PROFILE_MAX_APPS);
				goto fail_out;
			}
			snprintf(prof->apps[a].name, ECON_NAME_MAX, "%s", r->app);
			prof->apps[a].levels = calloc(ECON_PROFILE_MAX_LEVELS,
						      sizeof(*prof->apps[a].levels));
			if (!prof->apps[a].levels)
				goto oom;
			prof->napps++;
		}
		struct econ_app *app = &prof->apps[a];
		while (l < app->nlevels && (strcmp(app->levels[l].name, r->load) != 0 ||
					    app->levels[l].cores != r->cores))
			l++;
		if (l == app->nlevels) {
			if (l == ECON_PROFILE_MAX_LEVELS) {
				rc = fail(p, r->pt.line, "load", -RAAS_ETOOBIG,
					  "more than %d load levels for app %s",
					  ECON_PROFILE_MAX_LEVELS, app->name);
				goto fail_out;
			}
			snprintf(app->levels[l].name, ECON_NAME_MAX, "%s", r->load);
			app->levels[l].cores = r->cores;
			app->nlevels++;
		}
		r->app_idx = a;
		r->level_idx = l;
		npts[a * ECON_PROFILE_MAX_LEVELS + l]++;
	}
	for (size_t a = 0; a < prof->napps; a++)
		for (size_t l = 0; l < prof->apps[a].nlevels; l++) {
			size_t n = npts[a * ECON_PROFILE_MAX_LEVELS + l];
			prof->apps[a].levels[l].points = calloc(n, sizeof(struct econ_point));
			if (!prof->apps[a].levels[l].points)
				goto oom;
		}
	for (size_t i = 0; i < p->nrows; i++) {
		struct econ_level *lvl = &prof->apps[p->rows[i].app_idx].levels[p->rows[i].level_idx];
		lvl->points[lvl->npoints++] = p->rows[i].pt;
	}
	for (size_t a = 0; a < prof->napps; a++) {
		struct econ_app *app = &prof->apps[a];
		for (size_t l = 0; l < app->nlevels; l++) {
			struct econ_level *lvl = &app->levels[l];
			const char *cores = lvl->cores > 1 ? " with more cores" : "";
			qsort(lvl->points, lvl->npoints, sizeof(lvl->points[0]), cmp_point_delay);
			for (size_t i = 1; i < lvl->npoints; i++) {
				if (lvl->points[i].delay_us == lvl->points[i - 1].delay_us &&
				    lvl->points[i].spin_us == lvl->points[i - 1].spin_us) {
					char spin[48] = "";

					if (lvl->points[i].spin_us > 0)
						snprintf(spin, sizeof(spin), " and spin %g us",
							 lvl->points[i].spin_us);
					rc = fail(p, lvl->points[i].line, "delay_us", -RAAS_EPARSE,
						  "%s/%s%s at delay %g us%s given twice (first at "
						  "line %d)",
						  app->name, lvl->name, cores, lvl->points[i].delay_us,
						  spin, lvl->points[i - 1].line);
					goto fail_out;
				}
			}
		}
	}
	/* Levels measured on more than one core go behind the one-core levels, as core_levels:
	 * readers of levels (raas-sim) see exactly the one-core profile. */
	for (size_t a = 0; a < prof->napps; a++) {
		struct econ_app *app = &prof->apps[a];
		struct econ_level tmp[ECON_PROFILE_MAX_LEVELS];
		size_t n1 = 0, k = 0;
		for (size_t l = 0; l < app->nlevels; l++)
			if (app->levels[l].cores <= 1)
				tmp[k++] = app->levels[l];
		n1 = k;
		for (size_t l = 0; l < app->nlevels; l++)
			if (app->levels[l].cores > 1)
				tmp[k++] = app->levels[l];
		memcpy(app->levels, tmp, k * sizeof(tmp[0]));
		if (n1 == 0) {
			rc = fail(p, app->levels[0].points[0].line, "cores", -RAAS_EPARSE,
				  "app %s has rows only for more than one core (give its one-core "
				  "rows too)", app->name);
			goto fail_out;
		}
		app->nlevels = n1;
		app->core_levels = k > n1 ? app->levels + n1 : NULL;
		app->ncore_levels = k - n1;
		for (size_t l = 0; l < app->ncore_levels; l++)
			if (!econ_app_level(app, app->core_levels[l].name)) {
				rc = fail(p, app->core_levels[l].points[0].line, "cores",
					  -RAAS_EPARSE,
					  "%s/%s has rows for %d cores but none for one core",
					  app->name, app->core_levels[l].name,
					  app->core_levels[l].cores);
				goto fail_out;
			}
	}
	free(npts);
	*out = prof;
	return 0;
oom:
	rc = fail(p, 0, NULL, -ENOMEM, "out of memory");
fail_out:
	free(npts);
	econ_profile_destroy(prof);
	return rc;
}

int econ_profile_parse(const char *name, const char *text, size_t len,
		       struct econ_profile **out, struct econ_error *err)
{
	struct parser p = {.name = name ? name : "profile", .err = err};
	char line[ECON_PROFILE_MAX_LINE + 1];
	size_t pos = 0;
	int rc = 0;

	if (err)
		memset(err, 0, sizeof(*err));
	if (len > ECON_PROFILE_MAX_BYTES)
		return fail(&p, 0, NULL, -RAAS_ETOOBIG, "larger than %u bytes",
			    ECON_PROFILE_MAX_BYTES);
	while (pos < len && rc == 0) {
		size_t end = pos;
		while (end < len && text[end] != '\n')
			end++;
		p.line++;
		size_t n = end - pos;
		if (n > 0 && text[pos + n - 1] == '\r')
			n--;
		if (n > ECON_PROFILE_MAX_LINE) {
			rc = fail(&p, p.line, NULL, -RAAS_ETOOBIG, "line longer than %d bytes",
				  ECON_PROFILE_MAX_LINE);
			break;
		}
		if (memchr(text + pos, '\0', n)) {
			rc = fail(&p, p.line, NULL, -RAAS_EPARSE, "NUL byte in the line");
			break;
		}
		memcpy(line, text + pos, n);
		line[n] = '\0';
		rc = parse_line(&p, line);
		pos = end + 1;
	}
	if (rc == 0 && !p.have_header)
		rc = fail(&p, 0, NULL, -RAAS_EPARSE, "no header line (%s)",
			  "app,load,delay_us,throughput_rps,latency_us,jitter_us,bytes_per_request");
	if (rc == 0 && p.nrows == 0)
		rc = fail(&p, 0, NULL, -RAAS_EPARSE, "no data rows after the header");
	if (rc == 0)
		rc = assemble(&p, out);
	free(p.rows);
	return rc;
}

const struct econ_app *econ_profile_app(const struct econ_profile *p, const char *app)
{
	for (size_t i = 0; i < p->napps; i++)
		if (strcmp(p->apps[i].name, app) == 0)
			return &p->apps[i];
	return NULL;
}

const struct econ_level *econ_app_level(const struct econ_app *a, const char *level)
{
	for (size_t i = 0; i < a->nlevels; i++)
		if (strcmp(a->levels[i].name, level) == 0)
			return &a->levels[i];
	return NULL;
}

const struct econ_level *econ_app_level_cores(const struct econ_app *a, const char *level,
					     int cores)
{
	if (cores <= 1)
		return econ_app_level(a, level);
	for (size_t i = 0; i < a->ncore_levels; i++)
		if (a->core_levels[i].cores == cores && strcmp(a->core_levels[i].name, level) == 0)
			return &a->core_levels[i];
	return NULL;
}

double econ_point_gbps(const struct econ_point *pt)
{
	return pt->tput_rps * pt->bytes_per_request * 8.0 / 1e9;
}

double econ_point_cores(const struct econ_point *pt)
{
	return pt->tput_rps * pt->cpu_us / 1e6;
}

const struct econ_point *econ_level_at(const struct econ_level *l, double delay_us)
{
	for (size_t i = 0; i < l->npoints; i++)
		if (l->points[i].delay_us == delay_us)
			return &l->points[i];
	return NULL;
}

const struct econ_point *econ_level_best_tput(const struct econ_level *l)
{
	const struct econ_point *best = NULL;

	for (size_t i = 0; i < l->npoints; i++) {
		const struct econ_point *q = &l->points[i];
		double tq = econ_point_gbps(q);
		if (!best) {
			best = q;
			continue;
		}
		double tb = econ_point_gbps(best);
		/* Points are sorted by delay, so keeping the first of equals keeps the lower delay. */
		if (tq > tb || (tq == tb && q->latency_us < best->latency_us))
			best = q;
	}
	return best;
}

const struct econ_point *econ_level_best_latency(const struct econ_level *l)
{
	const struct econ_point *best = NULL;

	for (size_t i = 0; i < l->npoints; i++) {
		const struct econ_point *q = &l->points[i];
		if (!best || q->latency_us < best->latency_us ||
		    (q->latency_us == best->latency_us &&
		     econ_point_gbps(q) > econ_point_gbps(best)))
			best = q;
	}
	return best;
}

/* Invariant checks stay on in release builds (unlike assert): a check function that checks
 * nothing under NDEBUG would let the tests pass vacuously. */
#define CHECK(cond) \
	do { \
		if (!(cond)) { \
			fprintf(stderr, "%s:%d: econ_profile_check: %s\n", __FILE__, __LINE__, \
				#cond); \
			abort(); \
		} \
	} while (0)

void econ_profile_check(const struct econ_profile *p)
{
	CHECK(p);
	for (size_t a = 0; a < p->napps; a++) {
		const struct econ_app *app = &p->apps[a];
		CHECK(app->nlevels >= 1);
		for (size_t b = 0; b < a; b++)
			CHECK(strcmp(p->apps[b].name, app->name) != 0);
		for (size_t l = 0; l < app->nlevels + app->ncore_levels; l++) {
			const struct econ_level *lvl = &app->levels[l];
			bool multi = l >= app->nlevels;
			CHECK(lvl->npoints >= 1);
			CHECK(multi ? lvl->cores > 1 : lvl->cores <= 1);
			CHECK(!multi || econ_app_level(app, lvl->name));
			for (size_t m = multi ? app->nlevels : 0; m < l; m++)
				CHECK(strcmp(app->levels[m].name, lvl->name) != 0 ||
				      app->levels[m].cores != lvl->cores);
			for (size_t i = 0; i < lvl->npoints; i++) {
				const struct econ_point *q = &lvl->points[i];
				CHECK(i == 0 || q->delay_us > lvl->points[i - 1].delay_us ||
				      (q->delay_us == lvl->points[i - 1].delay_us &&
				       q->spin_us > lvl->points[i - 1].spin_us));
				CHECK(isfinite(q->spin_us) && q->spin_us >= 0 &&
				      q->spin_us <= ECON_SPIN_MAX_US);
				CHECK(isfinite(q->cpu_us) && q->cpu_us >= 0);
				CHECK(isfinite(q->delay_us) && q->delay_us >= 0 &&
				       q->delay_us <= ECON_DELAY_MAX_US);
				CHECK(isfinite(q->tput_rps) && q->tput_rps > 0);
				CHECK(isfinite(q->latency_us) && q->latency_us > 0);
				CHECK(isfinite(q->jitter_us) && q->jitter_us >= 0);
				CHECK(isfinite(q->bytes_per_request) && q->bytes_per_request > 0);
			}
		}
	}
}
