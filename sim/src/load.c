/* load.c: load processes (constant, phases, diurnal, trace) and the load-trace parser. */
#include <ctype.h>
#include <errno.h>
#include <math.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/error.h"
#include "load.h"

void sim_load_fini(struct sim_load *l)
{
	free(l->steps);
	l->steps = NULL;
	l->nsteps = 0;
}

/* Phases: the index of the phase holding at t, and that phase's end time. */
static size_t phase_at(const struct sim_load *l, int64_t t, int64_t *end)
{
	int64_t base = 0;

	if (l->repeat && l->cycle_ns > 0 && t >= l->cycle_ns) {
		base = (t / l->cycle_ns) * l->cycle_ns;
		t -= base;
	}
	int64_t acc = 0;
	for (size_t i = 0; i < l->nsteps; i++) {
		acc += l->steps[i].t_ns;
		if (t < acc) {
			*end = base + acc;
			return i;
		}
	}
	*end = INT64_MAX; /* past the last phase (not repeating): the last one holds */
	return l->nsteps - 1;
}

/* Trace: the index of the last step at or before t. */
static size_t trace_at(const struct sim_load *l, int64_t t)
{
	size_t lo = 0, hi = l->nsteps;

	while (hi - lo > 1) {
		size_t mid = lo + (hi - lo) / 2;
		if (l->steps[mid].t_ns <= t)
			lo = mid;
		else
			hi = mid;
	}
	return lo;
}

void sim_load_at(const struct sim_load *l, int64_t t, int *level, double *scale)
{
	int64_t end;

	switch (l->kind) {
	case SIM_LOAD_PHASES: {
		size_t i = phase_at(l, t, &end);
		*level = l->steps[i].level;
		*scale = l->steps[i].scale;
		return;
	}
	case SIM_LOAD_TRACE: {
		size_t i = trace_at(l, t);
		*level = l->steps[i].level;
		*scale = l->steps[i].scale;
		return;
	}
	case SIM_LOAD_DIURNAL: {
		double x = 2.0 * M_PI * (double)(t - l->diurnal_peak_ns) /
			   (double)l->diurnal_period_ns;
		*level = l->level;
		*scale = l->diurnal_min + (1.0 - l->diurnal_min) * (1.0 + cos(x)) / 2.0;
		return;
	}
	case SIM_LOAD_CONSTANT:
		break;
	}
	*level = l->level;
	*scale = 1.0;
}

int64_t sim_load_next(const struct sim_load *l, int64_t t)
{
	int64_t end;

	switch (l->kind) {
	case SIM_LOAD_PHASES:
		phase_at(l, t, &end);
		return end;
	case SIM_LOAD_TRACE: {
		size_t i = trace_at(l, t);
		if (l->steps[i].t_ns > t)
			return l->steps[i].t_ns;
		return i + 1 < l->nsteps ? l->steps[i + 1].t_ns : INT64_MAX;
	}
	default:
		return INT64_MAX;
	}
}

static int trace_fail(char *why, size_t len, int line, int code, const char *fmt, ...)
	__attribute__((format(printf, 5, 6)));

static int trace_fail(char *why, size_t len, int line, int code, const char *fmt, ...)
{
	va_list ap;
	int n = 0;

	if (len == 0)
		return code;
	if (line > 0)
		n = snprintf(why, len, "%d: ", line);
	if (n >= 0 && (size_t)n < len) {
		va_start(ap, fmt);
		vsnprintf(why + n, len - (size_t)n, fmt, ap);
		va_end(ap);
	}
	return code;
}

static bool plain_number(const char *s, double *out)
{
	char *end;

	if (!*s)
		return false;
	for (const char *c = s; *c; c++)
		if (!isdigit((unsigned char)*c) && !strchr("+-.eE", *c))
			return false;
	errno = 0;
	*out = strtod(s, &end);
	return *end == '\0' && errno == 0 && isfinite(*out);
}

static char *trim(char *s)
{
	while (*s == ' ' || *s == '\t')
		s++;
	size_t n = strlen(s);
	while (n > 0 && (s[n - 1] == ' ' || s[n - 1] == '\t' || s[n - 1] == '\r'))
		s[--n] = '\0';
	return s;
}

int sim_load_trace_parse(const char *text, size_t len, struct sim_load_trace_row **rows,
			 size_t *nrows, char *why, size_t why_len)
{
	struct sim_load_trace_row *v = NULL;
	size_t n = 0, cap = 0, pos = 0;
	int line = 0, rc = 0;
	char buf[512];

	if (len > SIM_LOAD_TRACE_MAX_BYTES)
		return trace_fail(why, why_len, 0, -RAAS_ETOOBIG, "larger than 16 MiB");
	while (pos < len) {
		size_t end = pos;
		while (end < len && text[end] != '\n')
			end++;
		line++;
		size_t ln = end - pos;
		if (ln >= sizeof(buf)) {
			rc = trace_fail(why, why_len, line, -RAAS_ETOOBIG,
					"line longer than %zu bytes", sizeof(buf) - 1);
			goto fail;
		}
		if (memchr(text + pos, '\0', ln)) {
			rc = trace_fail(why, why_len, line, -RAAS_EPARSE, "NUL byte in the line");
			goto fail;
		}
		memcpy(buf, text + pos, ln);
		buf[ln] = '\0';
		pos = end + 1;
		char *s = trim(buf);
		if (*s == '\0' || *s == '#')
			continue;
		char *f[4];
		int nf = 0;
		for (char *tok = s; nf < 4;) {
			char *c = strchr(tok, ',');
			if (c)
				*c = '\0';
			f[nf++] = trim(tok);
			if (!c)
				break;
			tok = c + 1;
		}
		if (nf < 2 || nf > 3) {
			rc = trace_fail(why, why_len, line, -RAAS_EPARSE,
					"expected 'time_s,level[,scale]'");
			goto fail;
		}
		double t, scale = 1.0;
		if (!plain_number(f[0], &t) || t < 0 || t > 9.2e9) {
			rc = trace_fail(why, why_len, line, -RAAS_EPARSE,
					"time '%s' is not a number of seconds >= 0", f[0]);
			goto fail;
		}
		size_t flen = strlen(f[1]);
		bool name_ok = flen > 0 && flen < SIM_LEVEL_NAME_MAX;
		for (size_t i = 0; i < flen && name_ok; i++)
			name_ok = isalnum((unsigned char)f[1][i]) || strchr("_.+-", f[1][i]);
		if (!name_ok) {
			rc = trace_fail(why, why_len, line, -RAAS_EPARSE,
					"level '%s' is not a name", f[1]);
			goto fail;
		}
		if (nf == 3 && (!plain_number(f[2], &scale) || !(scale > 0) || scale > 1)) {
			rc = trace_fail(why, why_len, line, -RAAS_EPARSE,
					"scale '%s' is not a number in (0, 1]", f[2]);
			goto fail;
		}
		int64_t tns = (int64_t)llround(t * 1e9);
		if (n == 0 && tns != 0) {
			rc = trace_fail(why, why_len, line, -RAAS_EPARSE,
					"the first step must be at time 0");
			goto fail;
		}
		if (n > 0 && tns <= v[n - 1].t_ns) {
			rc = trace_fail(why, why_len, line, -RAAS_EPARSE,
					"time %s is not after the previous step's", f[0]);
			goto fail;
		}
		if (n == SIM_LOAD_TRACE_MAX_STEPS) {
			rc = trace_fail(why, why_len, line, -RAAS_ETOOBIG, "more than %d steps",
					SIM_LOAD_TRACE_MAX_STEPS);
			goto fail;
		}
		if (n == cap) {
			size_t nc = cap ? 2 * cap : 64;
			struct sim_load_trace_row *nv = realloc(v, nc * sizeof(*nv));
			if (!nv) {
				rc = trace_fail(why, why_len, line, -ENOMEM, "out of memory");
				goto fail;
			}
			v = nv;
			cap = nc;
		}
		v[n].t_ns = tns;
		snprintf(v[n].level, sizeof(v[n].level), "%s", f[1]);
		v[n].scale = scale;
		v[n].line = line;
		n++;
	}
	if (n == 0) {
		rc = trace_fail(why, why_len, 0, -RAAS_EPARSE, "no steps");
		goto fail;
	}
	*rows = v;
	*nrows = n;
	return 0;
fail:
	free(v);
	return rc;
}
