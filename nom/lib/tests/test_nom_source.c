/* test_nom_source.c: libnom's price sources: the schedule file format, its errors, lookups at
 * any time; the constant; the wrappers' checks; waiting until the next step or a kick. */
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "bb/bb.h"
#include "nom/source.h"
#include "common/error.h"
#include "test.h"

#define S INT64_C(1000000000)

static struct nom_source *parse_ok(const char *text)
{
	struct nom_source *s;
	char err[256] = "";

	if (nom_source_schedule_parse("t", text, strlen(text), &s, err, sizeof(err)) != 0)
		TEST_FAIL("parse of \"%s\" failed: %s", text, err);
	return s;
}

static void expect_error(const char *text, const char *msg)
{
	struct nom_source *s = NULL;
	char err[256] = "";
	int rc = nom_source_schedule_parse("t", text, strlen(text), &s, err, sizeof(err));

	ASSERT_EQ(rc, -RAAS_EPARSE);
	ASSERT_STR_CONTAINS(err, msg);
	ASSERT_TRUE(s == NULL);
}

static void at(struct nom_source *s, int64_t t, double want, int64_t want_next)
{
	struct nom_prices p;
	int64_t next = 0;

	ASSERT_OK(nom_source_get(s, t, &p, &next));
	ASSERT_NEAR(p.traffic, want, 1e-12);
	ASSERT_TRUE(p.core_hour < 0 && p.memory_hour < 0 && !p.stale && p.round == 0);
	ASSERT_EQ(next, want_next);
}

int main(void)
{
	struct nom_source *s;
	char path[] = "/tmp/nom-source-XXXXXX";
	char err[256];
	int fd;

	s = parse_ok("# thesis\n0 1\n60 10\n");
	at(s, 0, 1, 60 * S);
	at(s, 60 * S - 1, 1, 60 * S);
	at(s, 60 * S, 10, INT64_MAX);
	at(s, INT64_MAX, 10, INT64_MAX);
	nom_source_destroy(s);

	s = parse_ok("0 $0.25   # cheap\n\n500ms 1.5\r\n2m 3\n1h 0\n");
	at(s, 499999999, 0.25, 500000000);
	at(s, 500000000, 1.5, 120 * S);
	at(s, 3600 * S, 0, INT64_MAX);
	nom_source_destroy(s);

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

	ASSERT_OK(nom_source_fixed(2.5, &s));
	at(s, 123, 2.5, INT64_MAX);
	nom_source_destroy(s);
	ASSERT_EQ(nom_source_fixed(-1, &s), -EINVAL);
	ASSERT_EQ(nom_source_fixed(NAN, &s), -EINVAL);

	/* Files: loaded and parsed, missing ones report errno. */
	fd = mkstemp(path);
	ASSERT_TRUE(fd >= 0);
	ASSERT_EQ(write(fd, "0 1\n1 20\n", 9), 9);
	close(fd);
	ASSERT_OK(nom_source_schedule_load(path, &s, err, sizeof(err)));
	at(s, 2 * S, 20, INT64_MAX);
	nom_source_destroy(s);
	unlink(path);
	ASSERT_EQ(nom_source_schedule_load(path, &s, err, sizeof(err)), -ENOENT);
	ASSERT_STR_CONTAINS(err, path);

	/* Waiting: a schedule sleeps until its next step (or a kick), a constant until a kick. */
	{
		uint32_t kick = 0;
		struct timespec t0, t1;
		s = parse_ok("0 1\n200ms 2\n");
		clock_gettime(CLOCK_MONOTONIC, &t0);
		ASSERT_OK(nom_source_wait(s, 0, -1, &kick, 0));
		clock_gettime(CLOCK_MONOTONIC, &t1);
		double waited = (double)(t1.tv_sec - t0.tv_sec) + (t1.tv_nsec - t0.tv_nsec) / 1e9;
		ASSERT_TRUE(waited >= 0.19 && waited < 2);
		/* Past the last step: only the timeout (or a kick) ends the wait. */
		ASSERT_EQ(nom_source_wait(s, 300 * S / 1000, 20000000, &kick, 0), -ETIMEDOUT);
		bb_kick(&kick);
		ASSERT_OK(nom_source_wait(s, 300 * S / 1000, -1, &kick, 0)); /* kicked already */
		nom_source_destroy(s);
		ASSERT_OK(nom_source_fixed(1, &s));
		ASSERT_EQ(nom_source_wait(s, 0, 10000000, &kick, kick), -ETIMEDOUT);
		nom_source_destroy(s);
		printf("schedule wait %.3f s\n", waited);
	}
	/* The wrappers refuse a source of another version. */
	{
		static const struct nom_source_ops bad = {
			.api_version = 99, .size = sizeof(struct nom_source_ops), .name = "bad"};
		struct nom_source b = {.ops = &bad};
		struct nom_prices p;
		ASSERT_EQ(nom_source_get(&b, 0, &p, NULL), -EINVAL);
	}
	printf("test_nom_source: ok\n");
	return 0;
}
