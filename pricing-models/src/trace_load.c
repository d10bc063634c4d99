/* trace_load.c: the EC2 spot CSV loader: the only code in pricing-models/ that reads a file.
 *
 * Traces are real inputs from outside the project, so every line is checked for its exact
 * shape and a bad one is reported with file, line and reason instead of being skipped:
 * a replay that silently dropped a malformed price change would be a different trace. Parsing
 * works on a memory buffer (pm_trace_parse) so that the fuzz target and the tests reach the
 * same code as the file loader. */
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "common/error.h"
#include "pricing/trace.h"
#include "pm_internal.h"

#define MAX_FILE_BYTES ((size_t)1 << 30)
#define NS_PER_SECOND INT64_C(1000000000)

/* Days from 1970-01-01 to y-m-d in the proleptic Gregorian calendar (Hinnant's algorithm). */
static int64_t days_from_civil(int64_t y, unsigned m, unsigned d)
{
	y -= m <= 2;
	const int64_t era = (y >= 0 ? y : y - 399) / 400;
	const unsigned yoe = (unsigned)(y - era * 400);
	const unsigned doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
	const unsigned doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
	return era * 146097 + (int64_t)doe - 719468;
}

static bool digits(const char *s, size_t n, unsigned *out)
{
	unsigned v = 0;
	for (size_t i = 0; i < n; i++) {
		if (s[i] < '0' || s[i] > '9')
			return false;
		v = v * 10 + (unsigned)(s[i] - '0');
	}
	*out = v;
	return true;
}

int pm_trace_parse_time(const char *s, size_t len, int64_t *out_ns)
{
	unsigned y, mo, d, h, mi, se;
	static const unsigned mdays[] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};

	if (len != 19 || s[4] != '-' || s[7] != '-' || s[10] != ' ' || s[13] != ':' ||
	    s[16] != ':')
		return -RAAS_EPARSE;
	if (!digits(s, 4, &y) || !digits(s + 5, 2, &mo) || !digits(s + 8, 2, &d) ||
	    !digits(s + 11, 2, &h) || !digits(s + 14, 2, &mi) || !digits(s + 17, 2, &se))
		return -RAAS_EPARSE;
	if (mo < 1 || mo > 12 || d < 1 || h > 23 || mi > 59 || se > 59)
		return -RAAS_EPARSE;
	bool leap = (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
	if (d > mdays[mo - 1] + (mo == 2 && leap))
		return -RAAS_EPARSE;
	/* Seconds cannot overflow for four-digit years; nanoseconds can (int64 ns spans only
	 * 1677-09-21 to 2262-04-11), so that step is checked instead of wrapping. */
	int64_t secs = ((days_from_civil(y, mo, d) * 24 + h) * 60 + mi) * 60 + se, ns;
	if (__builtin_mul_overflow(secs, NS_PER_SECOND, &ns))
		return -RAAS_EOVERFLOW;
	*out_ns = ns;
	return 0;
}

void pm_trace_free(struct pm_trace *t)
{
	if (!t)
		return;
	free(t->points);
	t->points = NULL;
	t->n = 0;
}

static int line_error(struct pm_error *err, struct pm_trace *t, const char *name, size_t line,
		      const char *fmt, ...) __attribute__((format(printf, 5, 6)));

static int line_error(struct pm_error *err, struct pm_trace *t, const char *name, size_t line,
		      const char *fmt, ...)
{
	char reason[200];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(reason, sizeof(reason), fmt, ap);
	va_end(ap);
	pm_trace_free(t);
	return pm__errorf(err, -RAAS_EPARSE, "%s:%zu: %s", name, line, reason);
}

int pm_trace_parse(const char *name, const char *text, size_t len, struct pm_trace *out,
		   struct pm_error *err)
{
	struct pm_trace t = {NULL, 0};
	size_t cap = 0, line = 0, prev_line = 0;
	const char *p = text, *end = text + len;
	char prev_ts[20] = "";

	if (!out || (!text && len))
		return pm__errorf(err, -EINVAL, "%s: NULL argument", name ? name : "trace");
	out->points = NULL;
	out->n = 0;
	while (p < end) {
		const char *nl = memchr(p, '\n', (size_t)(end - p));
		const char *le = nl ? nl : end;
		size_t n = (size_t)(le - p);
		line++;
		if (n && p[n - 1] == '\r')
			n--;
		const char *s = p;
		p = nl ? nl + 1 : end;
		if (n == 0)
			continue;
		if (n > PM_TRACE_LINE_MAX) {
			return line_error(err, &t, name, line,
					  "line too long (%zu characters; a price line is "
					  "'YYYY-MM-DD HH:MM:SS,price')",
					  n);
		}
		char buf[PM_TRACE_LINE_MAX + 1];
		memcpy(buf, s, n);
		buf[n] = '\0';
		if (strlen(buf) != n)
			return line_error(err, &t, name, line, "NUL byte in the line");
		char *comma = strchr(buf, ',');
		if (!comma)
			return line_error(err, &t, name, line,
					  "expected 'YYYY-MM-DD HH:MM:SS,price', got '%.60s'", buf);
		*comma = '\0';
		char *price_text = comma + 1;
		int64_t ts;
		int trc = pm_trace_parse_time(buf, (size_t)(comma - buf), &ts);
		if (trc == -RAAS_EOVERFLOW)
			return line_error(err, &t, name, line,
					  "timestamp '%.40s' out of range (times are int64 "
					  "nanoseconds: " PM_TRACE_TIME_MIN " to " PM_TRACE_TIME_MAX
					  " UTC)",
					  buf);
		if (trc)
			return line_error(err, &t, name, line,
					  "bad timestamp '%.40s' (expected a UTC date and time "
					  "YYYY-MM-DD HH:MM:SS)",
					  buf);
		if (strchr(price_text, ','))
			return line_error(err, &t, name, line,
					  "extra fields after the price ('%.60s'): expected "
					  "'YYYY-MM-DD HH:MM:SS,price'",
					  price_text);
		money_t price;
		const char *why = NULL;
		int rc = money_parse(price_text, &price, &why);
		if (rc)
			return line_error(err, &t, name, line, "bad price '%.40s': %s", price_text,
					  rc == -RAAS_EOVERFLOW ? "out of range" : why);
		if (price < 0)
			return line_error(err, &t, name, line, "bad price '%.40s': negative",
					  price_text);
		if (t.n && ts <= t.points[t.n - 1].t_ns) {
			char prev[48];
			snprintf(prev, sizeof(prev), "%s (line %zu)", prev_ts, prev_line);
			return line_error(err, &t, name, line,
					  "timestamps not ascending: %s is not after %s", buf, prev);
		}
		if (t.n == cap) {
			size_t ncap = cap ? cap * 2 : 1024;
			struct pm_trace_point *np = realloc(t.points, ncap * sizeof(*np));
			if (!np) {
				pm_trace_free(&t);
				return pm__errorf(err, -ENOMEM, "%s: out of memory at line %zu", name,
						  line);
			}
			t.points = np;
			cap = ncap;
		}
		t.points[t.n++] = (struct pm_trace_point){ts, price};
		memcpy(prev_ts, buf, 20);
		prev_line = line;
	}
	if (!t.n)
		return pm__errorf(err, -RAAS_EPARSE, "%s: no price lines", name);
	*out = t;
	return 0;
}

int pm_trace_load(const char *path, struct pm_trace *out, struct pm_error *err)
{
	if (!path || !out)
		return pm__errorf(err, -EINVAL, "pm_trace_load: NULL argument");
	out->points = NULL;
	out->n = 0;
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0) {
		int e = errno;
		return pm__errorf(err, -e, "%s: %s", path, strerror(e));
	}
	struct stat st;
	int e = fstat(fd, &st) < 0 ? errno : S_ISDIR(st.st_mode) ? EISDIR : !S_ISREG(st.st_mode) ? EINVAL : 0;
	if (e) {
		close(fd);
		return pm__errorf(err, -e, "%s: %s", path,
				  e == EINVAL ? "not a regular file" : strerror(e));
	}
	if ((size_t)st.st_size > MAX_FILE_BYTES) {
		close(fd);
		return pm__errorf(err, -RAAS_ETOOBIG, "%s: %lld bytes, more than the %zu a trace "
				  "may have", path, (long long)st.st_size, MAX_FILE_BYTES);
	}
	size_t size = (size_t)st.st_size, got = 0;
	char *buf = malloc(size ? size : 1);
	if (!buf) {
		close(fd);
		return pm__errorf(err, -ENOMEM, "%s: out of memory", path);
	}
	while (got < size) {
		ssize_t r = read(fd, buf + got, size - got);
		if (r < 0 && errno == EINTR)
			continue;
		if (r <= 0) {
			e = r < 0 ? errno : EIO;
			free(buf);
			close(fd);
			return pm__errorf(err, -e, "%s: read: %s", path, strerror(e));
		}
		got += (size_t)r;
	}
	close(fd);
	int rc = pm_trace_parse(path, buf, size, out, err);
	free(buf);
	return rc;
}

money_t pm_trace_price_at(const struct pm_trace *t, int64_t t_ns)
{
	if (!t || !t->n)
		return 0;
	size_t lo = 0, hi = t->n; /* first point after t_ns */
	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;
		if (t->points[mid].t_ns <= t_ns)
			lo = mid + 1;
		else
			hi = mid;
	}
	return t->points[lo ? lo - 1 : 0].price;
}
