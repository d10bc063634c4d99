/* source.c: libnom's price sources (source.h): the wrappers, a constant price and a price
 * schedule file. The board source is in source_board.c.
 *
 * The schedule is the "price trace" of an app run alone, e.g. the thesis's $1/Gbit for 60 s
 * then $10/Gbit. The parser bounds its input and names the line of any error. */
#include <ctype.h>
#include <errno.h>
#include <math.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "bb/bb.h"
#include "common/config.h"
#include "common/error.h"
#include "common/plugin.h"
#include "nom/source.h"

static int source_check(const struct plugin_hdr *h)
{
	return PLUGIN_OF(struct nom_source_ops, h)->get ? 0 : -EINVAL;
}

/* The rules every source's ops meet, built-in or the app's own (which it builds itself:
 * sources are made by their constructors, not looked up by name). */
static const struct plugin_registry sources = {
	.kind = "price source",
	.api_version = NOM_SOURCE_VERSION,
	.min_size = offsetof(struct nom_source_ops, wait),
	.check = source_check,
};

static bool source_ok(const struct nom_source *s)
{
	return s && s->ops && plugin_check(&sources, &s->ops->plugin) == 0;
}

static void unpriced(struct nom_prices *p, double traffic)
{
	memset(p, 0, sizeof(*p));
	p->traffic = traffic;
	p->core_hour = -1;
	p->memory_hour = -1;
}

int nom_source_get(const struct nom_source *s, int64_t t_ns, struct nom_prices *out,
		   int64_t *next_ns)
{
	struct nom_prices p;
	int64_t next = INT64_MAX;
	int rc;

	if (!source_ok(s))
		return -EINVAL;
	unpriced(&p, -1);
	rc = s->ops->get(s->priv, t_ns < 0 ? 0 : t_ns, &p, &next);
	if (rc < 0)
		return rc;
	if (!isfinite(p.traffic) || !isfinite(p.core_hour) || !isfinite(p.memory_hour))
		return -ERANGE;
	p.why[sizeof(p.why) - 1] = '\0';
	*out = p;
	if (next_ns)
		*next_ns = next;
	return 0;
}

int nom_source_wait(const struct nom_source *s, int64_t t_ns, int64_t timeout_ns,
		    const uint32_t *kick, uint32_t kick_seen)
{
	struct nom_prices p;
	int64_t next = INT64_MAX;

	if (!source_ok(s) || !kick)
		return -EINVAL;
	if (PLUGIN_HAS(s->ops, wait))
		return s->ops->wait(s->priv, t_ns, timeout_ns, kick, kick_seen);
	/* Until the next known change, the kick or the timeout, whichever comes first. */
	if (s->ops->get(s->priv, t_ns < 0 ? 0 : t_ns, &p, &next) == 0 && next != INT64_MAX) {
		int64_t until = next > t_ns ? next - t_ns : 0;
		if (timeout_ns < 0 || until < timeout_ns) {
			int rc = bb_wait_word(kick, kick_seen, until);
			return rc == -ETIMEDOUT ? 0 : rc; /* the step came: prices changed */
		}
	}
	return bb_wait_word(kick, kick_seen, timeout_ns);
}

const char *nom_source_name(const struct nom_source *s)
{
	return s && s->ops && s->ops->name ? s->ops->name : "?";
}

void nom_source_destroy(struct nom_source *s)
{
	if (!s)
		return;
	if (s->ops && PLUGIN_HAS(s->ops, destroy))
		s->ops->destroy(s->priv);
	free(s);
}

/* ---- constant ---- */

static int fixed_get(void *priv, int64_t t, struct nom_prices *out, int64_t *next)
{
	(void)t;
	unpriced(out, *(double *)priv);
	*next = INT64_MAX;
	return 0;
}

static const struct nom_source_ops fixed_ops = {
	.api_version = NOM_SOURCE_VERSION,
	.size = sizeof(struct nom_source_ops),
	.name = "fixed", .get = fixed_get, .destroy = free};

int nom_source_fixed(double price, struct nom_source **out)
{
	struct nom_source *s;
	double *p;

	if (!isfinite(price) || price < 0)
		return -EINVAL;
	s = calloc(1, sizeof(*s));
	p = malloc(sizeof(*p));
	if (!s || !p) {
		free(s);
		free(p);
		return -ENOMEM;
	}
	*p = price;
	s->ops = &fixed_ops;
	s->priv = p;
	*out = s;
	return 0;
}

/* ---- schedule ---- */

struct step {
	int64_t t_ns;
	double price;
};

struct schedule {
	size_t n;
	struct step steps[];
};

static int sched_get(void *priv, int64_t t, struct nom_prices *out, int64_t *next)
{
	const struct schedule *s = priv;
	size_t lo = 0, hi = s->n; /* the last step with t_ns <= t */

	while (hi - lo > 1) {
		size_t mid = lo + (hi - lo) / 2;

		if (s->steps[mid].t_ns <= t)
			lo = mid;
		else
			hi = mid;
	}
	unpriced(out, s->steps[lo].price);
	*next = lo + 1 < s->n ? s->steps[lo + 1].t_ns : INT64_MAX;
	return 0;
}

static const struct nom_source_ops sched_ops = {
	.api_version = NOM_SOURCE_VERSION,
	.size = sizeof(struct nom_source_ops),
	.name = "schedule", .get = sched_get, .destroy = free};

/* A plain decimal: digits, one optional point, optional exponent; no sign, hex, inf, nan. */
static int parse_decimal(const char *s, size_t len, double *out)
{
	char buf[64];
	char *end;
	size_t i = 0;
	bool digit = false;

	if (len == 0 || len >= sizeof(buf))
		return -1;
	for (i = 0; i < len; i++) {
		char ch = s[i];

		if (isdigit((unsigned char)ch))
			digit = true;
		else if (ch != '.' && ch != 'e' && ch != 'E' && !((ch == '+' || ch == '-') && i > 0 &&
				 (s[i - 1] == 'e' || s[i - 1] == 'E')))
			return -1;
	}
	if (!digit)
		return -1;
	memcpy(buf, s, len);
	buf[len] = '\0';
	errno = 0;
	*out = strtod(buf, &end);
	if (errno || *end || !isfinite(*out))
		return -1;
	return 0;
}

/* "12", "1.5" (seconds), or a plain decimal with the project's duration units ("500ms",
 * "60s", "2m", "1h", "250us", "100ns": cfg_parse_duration, the one duration parser) -> ns. */
static int parse_offset(const char *s, size_t len, int64_t *out)
{
	char buf[64];
	size_t num = len;
	double v;

	while (num > 0 && isalpha((unsigned char)s[num - 1]))
		num--;
	if (parse_decimal(s, num, &v) < 0)
		return -1; /* no sign, hex, inf or nan, whatever the unit */
	if (num == len) {
		v *= 1e9;
		if (v > 9.2e18)
			return -1;
		*out = (int64_t)llround(v);
		return 0;
	}
	if (len >= sizeof(buf))
		return -1;
	memcpy(buf, s, len);
	buf[len] = '\0';
	return cfg_parse_duration(buf, out) == 0 ? 0 : -1;
}

#define FAIL(...) \
	do { \
		snprintf(err, errlen, __VA_ARGS__); \
		free(sch); \
		return -RAAS_EPARSE; \
	} while (0)

int nom_source_schedule_parse(const char *name, const char *text, size_t len,
			      struct nom_source **out, char *err, size_t errlen)
{
	struct schedule *sch = NULL;
	size_t cap = 0, pos = 0;
	int line = 0;

	if (len > NOM_SCHEDULE_MAX_BYTES) {
		snprintf(err, errlen, "%s: over %u bytes", name, NOM_SCHEDULE_MAX_BYTES);
		return -RAAS_ETOOBIG;
	}
	while (pos < len) {
		const char *l = text + pos, *f1, *f2, *e;
		size_t ll = 0, n1 = 0, n2 = 0;
		int64_t t;
		double p;

		while (pos + ll < len && text[pos + ll] != '\n')
			ll++;
		pos += ll + 1;
		line++;
		if (ll && l[ll - 1] == '\r')
			ll--;
		for (size_t i = 0; i < ll; i++)
			if (l[i] == '\0')
				FAIL("%s:%d: a NUL byte", name, line);
		{
			const char *hash = memchr(l, '#', ll);

			if (hash)
				ll = (size_t)(hash - l);
		}
		e = l + ll;
		f1 = l;
		while (f1 < e && isspace((unsigned char)*f1))
			f1++;
		if (f1 == e)
			continue;
		while (f1 + n1 < e && !isspace((unsigned char)f1[n1]))
			n1++;
		f2 = f1 + n1;
		while (f2 < e && isspace((unsigned char)*f2))
			f2++;
		while (f2 + n2 < e && !isspace((unsigned char)f2[n2]))
			n2++;
		if (n2 == 0)
			FAIL("%s:%d: want `time_offset price`, found one field", name, line);
		{
			const char *rest = f2 + n2;

			while (rest < e && isspace((unsigned char)*rest))
				rest++;
			if (rest != e)
				FAIL("%s:%d: want `time_offset price`, found more fields", name, line);
		}
		if (parse_offset(f1, n1, &t) < 0)
			FAIL("%s:%d: time_offset \"%.*s\" is not a duration (seconds, or 500ms, 60s, "
			     "2m)", name, line, (int)(n1 > 40 ? 40 : n1), f1);
		if (*f2 == '$') {
			f2++;
			n2--;
		}
		if (parse_decimal(f2, n2, &p) < 0)
			FAIL("%s:%d: price \"%.*s\" is not a number of dollars per Gbit >= 0", name, line,
			     (int)(n2 > 40 ? 40 : n2), f2);
		if (!sch || sch->n == cap) {
			struct schedule *g;

			if (cap >= NOM_SCHEDULE_MAX_STEPS) {
				snprintf(err, errlen, "%s:%d: over %d steps", name, line,
					 NOM_SCHEDULE_MAX_STEPS);
				free(sch);
				return -RAAS_ETOOBIG;
			}
			cap = cap ? cap * 2 : 16;
			g = realloc(sch, sizeof(*sch) + cap * sizeof(struct step));
			if (!g) {
				free(sch);
				return -ENOMEM;
			}
			if (!sch)
				g->n = 0;
			sch = g;
		}
		if (sch->n == 0 && t != 0)
			FAIL("%s:%d: the first step must be at offset 0", name, line);
		if (sch->n && t <= sch->steps[sch->n - 1].t_ns)
			FAIL("%s:%d: offset %.*s is not after the previous step's", name, line,
			     (int)(n1 > 40 ? 40 : n1), f1);
		sch->steps[sch->n].t_ns = t;
		sch->steps[sch->n].price = p;
		sch->n++;
	}
	if (!sch || sch->n == 0) {
		snprintf(err, errlen, "%s: no steps (want lines `time_offset price`)", name);
		free(sch);
		return -RAAS_EPARSE;
	}
	*out = calloc(1, sizeof(**out));
	if (!*out) {
		free(sch);
		return -ENOMEM;
	}
	(*out)->ops = &sched_ops;
	(*out)->priv = sch;
	return 0;
}

int nom_source_schedule_load(const char *path, struct nom_source **out, char *err,
			     size_t errlen)
{
	FILE *f = fopen(path, "rb");
	char *text;
	size_t n;
	int rc;

	if (!f) {
		rc = -errno;
		snprintf(err, errlen, "%s: %s", path, strerror(errno));
		return rc;
	}
	text = malloc(NOM_SCHEDULE_MAX_BYTES + 1);
	if (!text) {
		fclose(f);
		return -ENOMEM;
	}
	n = fread(text, 1, NOM_SCHEDULE_MAX_BYTES + 1, f);
	if (ferror(f)) {
		rc = -EIO;
		snprintf(err, errlen, "%s: read error", path);
	} else {
		rc = nom_source_schedule_parse(path, text, n, out, err, errlen);
	}
	fclose(f);
	free(text);
	return rc;
}
