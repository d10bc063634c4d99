/* test_price.c: price sources: the schedule file format, its errors, lookups at any time. */
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "app/price.h"
#include "common/error.h"
#include "test.h"

#define S INT64_C(1000000000)

static struct price_source *parse_ok(const char *text)
{
	struct price_source *s;
	char err[256] = "";

	if (price_schedule_parse("t", text, strlen(text), &s, err, sizeof(err)) != 0)
		TEST_FAIL("parse of \"%s\" failed: %s", text, err);
	return s;
}

static void expect_error(const char *text, const char *msg)
{
	struct price_source *s = NULL;
	char err[256] = "";
	int rc = price_schedule_parse("t", text, strlen(text), &s, err, sizeof(err));

	ASSERT_EQ(rc, -RAAS_EPARSE);
	ASSERT_STR_CONTAINS(err, msg);
	ASSERT_TRUE(s == NULL);
}

static void at(struct price_source *s, int64_t t, double want, int64_t want_next)
{
	double p = -1;
	int64_t next = 0;

	ASSERT_OK(price_get(s, t, &p, &next));
	ASSERT_NEAR(p, want, 1e-12);
	ASSERT_EQ(next, want_next);
}

int main(void)
{
	struct price_source *s;
	char path[] = "/tmp/apps-price-XXXXXX";
	char err[256];
	int fd;

	s = parse_ok("# thesis\n0 1\n60 10\n");
	at(s, 0, 1, 60 * S);
	at(s, 60 * S - 1, 1, 60 * S);
	at(s, 60 * S, 10, INT64_MAX);
	at(s, INT64_MAX, 10, INT64_MAX);
	price_destroy(s);

	s = parse_ok("0 $0.25   # cheap\n\n500ms 1.5\r\n2m 3\n1h 0\n");
	at(s, 499999999, 0.25, 500000000);
	at(s, 500000000, 1.5, 120 * S);
	at(s, 3600 * S, 0, INT64_MAX);
	price_destroy(s);

	expect_error("", "no steps");
	expect_error("# only a comment\n", "no steps");
	expect_error("5 1\n", "t:1: the first step must be at offset 0");
	expect_error("0 1\n10 2\n10 3\n", "t:3: offset 10 is not after");
	expect_error("0 1\n1 -2\n", "t:2: price \"-2\"");
	expect_error("0 nan\n", "t:1: price \"nan\"");
	expect_error("0 inf\n", "price \"inf\"");
	expect_error("0 0x10\n", "price \"0x10\"");
	expect_error("0\n", "t:1: want `time_offset price`, found one field");
	expect_error("0 1 2\n", "found more fields");
	expect_error("soon 1\n", "time_offset \"soon\"");
	expect_error("0 1\n-5 2\n", "time_offset \"-5\"");
	expect_error("0 1\n1x 2\n", "time_offset \"1x\"");

	ASSERT_OK(price_fixed(2.5, &s));
	at(s, 123, 2.5, INT64_MAX);
	price_destroy(s);
	ASSERT_EQ(price_fixed(-1, &s), -EINVAL);
	ASSERT_EQ(price_fixed(NAN, &s), -EINVAL);

	/* Files: loaded and parsed, missing ones report errno. */
	fd = mkstemp(path);
	ASSERT_TRUE(fd >= 0);
	ASSERT_EQ(write(fd, "0 1\n1 20\n", 9), 9);
	close(fd);
	ASSERT_OK(price_schedule_load(path, &s, err, sizeof(err)));
	at(s, 2 * S, 20, INT64_MAX);
	price_destroy(s);
	unlink(path);
	ASSERT_EQ(price_schedule_load(path, &s, err, sizeof(err)), -ENOENT);
	ASSERT_STR_CONTAINS(err, path);
	printf("test_app_price: ok\n");
	return 0;
}
