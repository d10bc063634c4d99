/* test_pm_trace.c: the EC2 spot CSV loader and the `trace` model.
 *
 * Reads all 32 real traces of ../shared/data/ec2-spot-2009-2011 (skipped with a message where
 * that folder is absent), checks step prices at instants derived from lines the test reads
 * and parses itself (sscanf, timegm, strtod: not the loader's code), replays a trace through
 * the model, and feeds malformed files to the loader, checking each error's text. */
#include <dirent.h>
#include <errno.h>
#include <gsl/gsl_rng.h>
#include <math.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "common/error.h"
#include "pm_testutil.h"
#include "pricing/trace.h"
#include "test.h"

#define DATA RAAS_SHARED_DATA "/ec2-spot-2009-2011"
#define NS INT64_C(1000000000)

struct line {
	int64_t t_ns;
	money_t price;
};

/* The test's own reading of a trace file: every non-empty line. */
static struct line *read_lines(const char *path, size_t *n)
{
	FILE *f = fopen(path, "r");
	if (!f)
		TEST_FAIL("%s: %s", path, strerror(errno));
	size_t cap = 1024;
	struct line *v = malloc(cap * sizeof(*v));
	char buf[256];
	*n = 0;
	while (fgets(buf, sizeof(buf), f)) {
		struct tm tm = {0};
		double price;
		if (buf[0] == '\n')
			continue;
		if (sscanf(buf, "%d-%d-%d %d:%d:%d,%lf", &tm.tm_year, &tm.tm_mon, &tm.tm_mday,
			   &tm.tm_hour, &tm.tm_min, &tm.tm_sec, &price) != 7)
			TEST_FAIL("%s: unreadable line '%s'", path, buf);
		tm.tm_year -= 1900;
		tm.tm_mon -= 1;
		if (*n == cap)
			v = realloc(v, (cap *= 2) * sizeof(*v));
		v[*n].t_ns = (int64_t)timegm(&tm) * NS;
		v[*n].price = (money_t)llround(price * 1e9);
		(*n)++;
	}
	fclose(f);
	return v;
}

static bool real_traces(void)
{
	DIR *d = opendir(DATA);
	if (!d)
		return false;
	gsl_rng *rng = gsl_rng_alloc(gsl_rng_mt19937);
	struct dirent *de;
	size_t files = 0, points = 0, checks = 0;
	while ((de = readdir(d))) {
		size_t len = strlen(de->d_name);
		if (len < 5 || strcmp(de->d_name + len - 4, ".csv"))
			continue;
		char path[1024];
		snprintf(path, sizeof(path), "%s/%s", DATA, de->d_name);
		struct pm_trace t;
		struct pm_error err;
		if (pm_trace_load(path, &t, &err))
			TEST_FAIL("load %s: %s", path, err.message);
		size_t n;
		struct line *l = read_lines(path, &n);
		ASSERT_EQ(t.n, n);
		/* First, last and 40 random lines: the price at the line's instant, half-way to
		 * the next line and 1 ns before it; before the trace: the first price. */
		for (int k = 0; k < 42; k++) {
			size_t i = k == 0 ? 0 : k == 1 ? n - 1 : gsl_rng_uniform_int(rng, n);
			ASSERT_EQ(pm_trace_price_at(&t, l[i].t_ns), l[i].price);
			if (i + 1 < n) {
				int64_t mid = l[i].t_ns + (l[i + 1].t_ns - l[i].t_ns) / 2;
				ASSERT_EQ(pm_trace_price_at(&t, mid), l[i].price);
				ASSERT_EQ(pm_trace_price_at(&t, l[i + 1].t_ns - 1), l[i].price);
			} else {
				ASSERT_EQ(pm_trace_price_at(&t, l[i].t_ns + 365 * 86400 * NS),
					  l[i].price);
			}
			checks++;
		}
		ASSERT_EQ(pm_trace_price_at(&t, l[0].t_ns - NS), l[0].price);
		points += n;
		files++;
		free(l);
		pm_trace_free(&t);
	}
	closedir(d);
	gsl_rng_free(rng);
	ASSERT_EQ(files, 32);
	printf("trace: loaded all %zu files (%zu price changes), %zu instants checked\n", files,
	       points, checks);
	return true;
}

static void model_replay(void)
{
	const char *file = DATA "/us-east-1.linux.m1.small.csv";
	size_t n;
	struct line *l = read_lines(file, &n);
	char params[1200];
	snprintf(params, sizeof(params), "file=\"%s\", scale=2", file);
	struct pm_instance *m = pmt_create("trace", params);
	money_t p;
	/* The first call (now = 5 s) is the replay's origin: the first line's price, doubled. */
	struct pm_pool pool = {.supply = 4, .now_ns = 5 * NS};
	ASSERT_OK(pm_posted_price(m, &pool, &p));
	ASSERT_EQ(p, 2 * l[0].price);
	/* 100 lines in: origin + (line 100 - line 0). */
	pool.now_ns = 5 * NS + (l[100].t_ns - l[0].t_ns);
	ASSERT_OK(pm_posted_price(m, &pool, &p));
	ASSERT_EQ(p, 2 * l[100].price);
	/* Clearing posts that price: a bid above takes its 2 units, a bid below nothing. */
	struct pm_bid b[] = {pmt_flat(1, 2, 3 * l[100].price), pmt_flat(2, 2, l[100].price)};
	struct pm_result res;
	struct pm_outcome out[2];
	pmt_clear_pool(m, &pool, b, 2, &res, out);
	ASSERT_EQ(res.price, 2 * l[100].price);
	ASSERT_EQ(out[0].quantity, 2);
	ASSERT_EQ(out[1].quantity, 0);
	/* Past the end the last price holds. */
	pool.now_ns = 5 * NS + (l[n - 1].t_ns - l[0].t_ns) + 1000 * NS;
	ASSERT_OK(pm_posted_price(m, &pool, &p));
	ASSERT_EQ(p, 2 * l[n - 1].price);
	pm_destroy(m);

	/* offset 1 day and loop: t wraps modulo (last - first). */
	snprintf(params, sizeof(params), "file=%s, offset=1d, loop=true", file);
	m = pmt_create("trace", params);
	int64_t span = l[n - 1].t_ns - l[0].t_ns, day = 86400 * NS;
	size_t at_day = 0;
	while (at_day + 1 < n && l[at_day + 1].t_ns <= l[0].t_ns + day)
		at_day++;
	pool.now_ns = 0;
	ASSERT_OK(pm_posted_price(m, &pool, &p));
	ASSERT_EQ(p, l[at_day].price);
	pool.now_ns = span; /* offset + span wraps to offset */
	ASSERT_OK(pm_posted_price(m, &pool, &p));
	ASSERT_EQ(p, l[at_day].price);
	pm_destroy(m);
	free(l);
}

static char tmpdir[256];

static const char *write_file(const char *name, const char *text)
{
	static char path[512];
	snprintf(path, sizeof(path), "%s/%s", tmpdir, name);
	FILE *f = fopen(path, "w");
	if (!f)
		TEST_FAIL("%s: %s", path, strerror(errno));
	fputs(text, f);
	fclose(f);
	return path;
}

static void expect_error(const char *name, const char *text, int rc_want, const char *line_and_reason)
{
	const char *path = write_file(name, text);
	struct pm_trace t;
	struct pm_error err;
	char want[1024];
	ASSERT_EQ(pm_trace_load(path, &t, &err), rc_want);
	snprintf(want, sizeof(want), "%s:%s", path, line_and_reason);
	ASSERT_STR_CONTAINS(err.message, want);
	ASSERT_EQ(t.n, 0);
	unlink(path);
}

static void cleanup(void)
{
	rmdir(tmpdir);
}

static void malformed(void)
{
	snprintf(tmpdir, sizeof(tmpdir), "/tmp/pricing-models-trace-%d", (int)getpid());
	if (mkdir(tmpdir, 0700) && errno != EEXIST)
		TEST_FAIL("%s: %s", tmpdir, strerror(errno));
	atexit(cleanup);
	const char *ok = "2010-01-01 00:00:00,0.03\n";
	char text[512];

	snprintf(text, sizeof(text), "%s2010-13-01 00:00:00,0.03\n", ok);
	expect_error("month.csv", text, -RAAS_EPARSE,
		     "2: bad timestamp '2010-13-01 00:00:00' (expected a UTC date and time");
	snprintf(text, sizeof(text), "%s2010-02-29 00:00:00,0.03\n", ok);
	expect_error("leap.csv", text, -RAAS_EPARSE, "2: bad timestamp '2010-02-29 00:00:00'");
	snprintf(text, sizeof(text), "%s2009-12-31 23:59:59,0.03\n", ok);
	expect_error("order.csv", text, -RAAS_EPARSE,
		     "2: timestamps not ascending: 2009-12-31 23:59:59 is not after "
		     "2010-01-01 00:00:00 (line 1)");
	snprintf(text, sizeof(text), "%s\n%s", ok, ok);
	expect_error("same.csv", text, -RAAS_EPARSE, "3: timestamps not ascending");
	snprintf(text, sizeof(text), "%s2010-01-02 00:00:00,0.0x\n", ok);
	expect_error("price.csv", text, -RAAS_EPARSE,
		     "2: bad price '0.0x': unexpected character after the amount");
	snprintf(text, sizeof(text), "%s2010-01-02 00:00:00,-0.03\n", ok);
	expect_error("negative.csv", text, -RAAS_EPARSE, "2: bad price '-0.03': negative");
	snprintf(text, sizeof(text), "%s2010-01-02 00:00:00,0.03,m1.small\n", ok);
	expect_error("extra.csv", text, -RAAS_EPARSE,
		     "2: extra fields after the price ('0.03,m1.small')");
	expect_error("nocomma.csv", "2010-01-02 00:00:00 0.03\n", -RAAS_EPARSE,
		     "1: expected 'YYYY-MM-DD HH:MM:SS,price', got '2010-01-02 00:00:00 0.03'");
	memset(text, '9', 300);
	text[300] = '\n';
	text[301] = '\0';
	expect_error("long.csv", text, -RAAS_EPARSE, "1: line too long (300 characters");
	expect_error("empty.csv", "\n\n", -RAAS_EPARSE, " no price lines");
	/* Years int64 ns cannot hold: the fuzzer found 2600 wrapping to a time in 2015 and 9999
	 * reported as "not ascending". */
	snprintf(text, sizeof(text), "%s2600-01-01 00:00:00,9.99\n", ok);
	expect_error("y2600.csv", text, -RAAS_EPARSE,
		     "2: timestamp '2600-01-01 00:00:00' out of range (times are int64 "
		     "nanoseconds: 1677-09-21 00:12:44 to 2262-04-11 23:47:16 UTC)");
	snprintf(text, sizeof(text), "%s9999-12-31 23:59:59,0.03\n", ok);
	expect_error("y9999.csv", text, -RAAS_EPARSE, "2: timestamp '9999-12-31 23:59:59' out of");
	expect_error("y1000.csv", "1000-01-01 00:00:00,0.03\n", -RAAS_EPARSE,
		     "1: timestamp '1000-01-01 00:00:00' out of range");

	struct pm_trace t;
	struct pm_error err;
	ASSERT_EQ(pm_trace_load("/nonexistent/pricing-models.csv", &t, &err), -ENOENT);
	ASSERT_STR_EQ(err.message, "/nonexistent/pricing-models.csv: No such file or directory");
	ASSERT_EQ(pm_trace_load(tmpdir, &t, &err), -EISDIR);

	/* CRLF line ends and blank lines are fine. */
	const char *crlf = write_file("crlf.csv", "2010-01-01 00:00:00,0.03\r\n\r\n"
						   "2010-01-01 01:00:00,0.031\r\n");
	ASSERT_OK(pm_trace_load(crlf, &t, &err));
	ASSERT_EQ(t.n, 2);
	ASSERT_EQ(t.points[1].price, 31000000);
	ASSERT_EQ(t.points[1].t_ns - t.points[0].t_ns, 3600 * NS);
	pm_trace_free(&t);
	unlink(crlf);

	/* The model reports the loader's error as is. */
	snprintf(text, sizeof(text), "%s2010-01-01 00:00:00,0.03\n", ok);
	const char *bad = write_file("model.csv", text);
	char params[600];
	snprintf(params, sizeof(params), "file=%s", bad);
	struct pm_param p[4];
	char *storage;
	int np = pm_params_parse(params, p, 4, &storage, &err);
	ASSERT_EQ(np, 1);
	struct pm_instance *inst;
	ASSERT_EQ(pm_create("trace", p, (size_t)np, &inst, &err), -RAAS_EPARSE);
	char want[700];
	snprintf(want, sizeof(want), "%s:2: timestamps not ascending", bad);
	ASSERT_STR_CONTAINS(err.message, want);
	free(storage);
	unlink(bad);

	/* pm_trace_parse_time is exact about the calendar. */
	int64_t ns;
	ASSERT_OK(pm_trace_parse_time("1970-01-01 00:00:01", 19, &ns));
	ASSERT_EQ(ns, NS);
	ASSERT_OK(pm_trace_parse_time("2000-02-29 12:00:00", 19, &ns));
	ASSERT_EQ(ns, (int64_t)951825600 * NS);
	ASSERT_EQ(pm_trace_parse_time("1900-02-29 00:00:00", 19, &ns), -RAAS_EPARSE);
	ASSERT_EQ(pm_trace_parse_time("2010-01-01T00:00:00", 19, &ns), -RAAS_EPARSE);
	ASSERT_EQ(pm_trace_parse_time("2010-01-01 24:00:00", 19, &ns), -RAAS_EPARSE);
	/* The edges of int64 ns, one second inside and one outside each (the test's own
	 * arithmetic: INT64_MAX / 1e9 = 9223372036 s, INT64_MIN / 1e9 = -9223372036.85 s). */
	ASSERT_OK(pm_trace_parse_time(PM_TRACE_TIME_MAX, 19, &ns));
	ASSERT_EQ(ns, INT64_MAX / NS * NS);
	ASSERT_OK(pm_trace_parse_time(PM_TRACE_TIME_MIN, 19, &ns));
	ASSERT_EQ(ns, INT64_MIN / NS * NS);
	ns = 42;
	ASSERT_EQ(pm_trace_parse_time("2262-04-11 23:47:17", 19, &ns), -RAAS_EOVERFLOW);
	ASSERT_EQ(pm_trace_parse_time("1677-09-21 00:12:43", 19, &ns), -RAAS_EOVERFLOW);
	ASSERT_EQ(pm_trace_parse_time("0000-01-01 00:00:00", 19, &ns), -RAAS_EOVERFLOW);
	ASSERT_EQ(ns, 42);
	printf("trace: malformed files rejected with file:line and reason\n");
}

int main(void)
{
	malformed();
	if (!real_traces())
		TEST_SKIP("%s is absent: the shared EC2 spot traces are not on this machine (the "
			  "malformed-file checks passed)",
			  DATA);
	model_replay();
	return 0;
}
