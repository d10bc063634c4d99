/* test_clock_log.c: the manual clock, wall-time formatting, both log formats, and the rate
 * limit of repeated lines, and the caller-held limit (struct log_limit). */
#include <stdlib.h>

#include "common/clock.h"
#include "common/log.h"
#include "test.h"

static void test_clock(void)
{
	struct clk c;
	char buf[32];

	clk_manual_init(&c, 100, INT64_C(1700000000000000000));
	ASSERT_EQ(clk_mono(&c), 100);
	clk_manual_advance(&c, 50);
	ASSERT_EQ(clk_mono(&c), 150);
	ASSERT_EQ(clk_wall(&c), INT64_C(1700000000000000050));
	clk_manual_set(&c, 120); /* never backwards */
	ASSERT_EQ(clk_mono(&c), 150);
	clk_manual_set(&c, 1000);
	ASSERT_EQ(clk_mono(&c), 1000);
	ASSERT_STR_EQ(clk_format_wall(INT64_C(1700000000123000000), buf, sizeof(buf)),
		      "2023-11-14T22:13:20.123Z");
	int64_t a = clk_mono(&clk_real), b = clk_mono(&clk_real);
	ASSERT_LE(a, b);
	ASSERT_GT(clk_wall(&clk_real), INT64_C(1700000000000000000));
}

static size_t count(const char *text, const char *needle);

static void test_log(void)
{
	char *text = NULL;
	size_t len = 0;
	FILE *mem = open_memstream(&text, &len);

	log_set_sink(mem);
	log_init("tester", LOG_INFO, false);
	log_info("hello %d", 42);
	log_debug("not shown");
	log_init("tester", LOG_DEBUG, true);
	log_warn("quote \" and\nnewline");
	/* A message whose escaped form is longer than any fixed line buffer (700 control
	 * characters, 6 bytes each escaped) is still written whole, a complete JSON line. */
	char ctl[701];
	memset(ctl, '\x01', 700);
	ctl[700] = 0;
	log_warn("ctl %s end", ctl);
	fclose(mem);
	log_set_sink(NULL);
	ASSERT_STR_CONTAINS(text, " tester info: hello 42\n");
	ASSERT_TRUE(strstr(text, "not shown") == NULL);
	ASSERT_STR_CONTAINS(text,
			    "\"level\":\"warn\",\"component\":\"tester\",\"msg\":\"quote \\\" and\\nnewline\"}");
	ASSERT_EQ(count(text, "\\u0001"), 700);
	ASSERT_STR_CONTAINS(text, "\\u0001 end\"}\n");
	free(text);
	enum log_level l;
	ASSERT_OK(log_level_parse("debug", &l));
	ASSERT_EQ(l, LOG_DEBUG);
	ASSERT_TRUE(log_level_parse("loud", &l) < 0);
}

static size_t count(const char *text, const char *needle)
{
	size_t n = 0;
	for (const char *p = text; (p = strstr(p, needle)); p += strlen(needle))
		n++;
	return n;
}

/* 100 refusals in 6 s (the example) write one line, then a count once a minute;
 * other lines are not held back; info lines are never limited. */
static void test_repeats(void)
{
	char *text = NULL;
	size_t len = 0;
	FILE *mem = open_memstream(&text, &len);
	struct clk c;

	clk_manual_init(&c, 0, INT64_C(1700000000000000000));
	log_set_sink(mem);
	log_init("tester", LOG_INFO, false);
	log_set_repeat_interval(60 * NS_PER_S, &c);
	for (int i = 0; i < 100; i++) {
		log_warn("market refused request %d: key unknown", i);
		if (i == 50)
			log_warn("tenant %s has no mapping", "carol");
		log_info("round %d closed", i);
		clk_manual_advance(&c, 60 * NS_PER_MS);
	}
	fflush(mem);
	ASSERT_EQ(count(text, "market refused request"), 1);
	ASSERT_STR_CONTAINS(text, "market refused request 0: key unknown\n");
	ASSERT_EQ(count(text, "tenant carol has no mapping"), 1);
	ASSERT_EQ(count(text, "closed"), 100);
	/* Not yet a minute: nothing due. */
	log_tick();
	fflush(mem);
	ASSERT_EQ(count(text, "repeated"), 0);
	clk_manual_advance(&c, 55 * NS_PER_S);
	log_tick();
	fflush(mem);
	ASSERT_STR_CONTAINS(text, "market refused request 99: key unknown (repeated 99 times in "
				  "the last 61 s)");
	/* After the count, the next minute starts over: a line in it is counted again. */
	log_warn("market refused request %d: key unknown", 100);
	clk_manual_advance(&c, 61 * NS_PER_S);
	log_warn("market refused request %d: key unknown", 101);
	fflush(mem);
	ASSERT_STR_CONTAINS(text, "request 101: key unknown (repeated 2 times in the last 61 s)");
	/* A quiet minute later, a line is written as new. */
	clk_manual_advance(&c, 61 * NS_PER_S);
	log_warn("market refused request %d: key unknown", 102);
	fflush(mem);
	ASSERT_STR_CONTAINS(text, "request 102: key unknown\n");
	/* Without an interval every line is written. */
	log_set_repeat_interval(0, NULL);
	log_warn("same %d", 1);
	log_warn("same %d", 2);
	fclose(mem);
	log_set_sink(NULL);
	ASSERT_EQ(count(text, "same "), 2);
	free(text);
}

/* The first call passes; calls within the interval are held and counted; the first after it
 * passes with the count; reset lets the next through at once. */
static void test_limit(void)
{
	struct clk c;
	struct log_limit l = LOG_LIMIT_MINUTE;
	uint64_t held = 99;
	int passed = 0;

	clk_manual_init(&c, 5 * NS_PER_S, 0);
	ASSERT_EQ(l.interval_ns, 60 * NS_PER_S);
	ASSERT_TRUE(log_limit_pass(&l, &c, &held));
	ASSERT_EQ(held, 0);
	for (int i = 0; i < 10; i++) {
		clk_manual_advance(&c, 5 * NS_PER_S); /* 50 s in all: inside the minute */
		passed += log_limit_pass(&l, &c, &held);
	}
	ASSERT_EQ(passed, 0);
	ASSERT_EQ(held, 0); /* untouched when held back */
	clk_manual_advance(&c, 9 * NS_PER_S); /* 59 s */
	ASSERT_TRUE(!log_limit_pass(&l, &c, &held));
	clk_manual_advance(&c, NS_PER_S); /* 60 s: the interval is over */
	ASSERT_TRUE(log_limit_pass(&l, &c, &held));
	ASSERT_EQ(held, 11);
	ASSERT_TRUE(!log_limit_pass(&l, &c, NULL));
	log_limit_reset(&l);
	ASSERT_TRUE(log_limit_pass(&l, &c, &held));
	ASSERT_EQ(held, 1);
	/* Two keys: each its own window. */
	struct log_limit a = LOG_LIMIT_MINUTE, b = LOG_LIMIT_MINUTE;
	ASSERT_TRUE(log_limit_pass(&a, &c, NULL));
	ASSERT_TRUE(log_limit_pass(&b, &c, NULL));
	ASSERT_TRUE(!log_limit_pass(&a, &c, NULL));
	ASSERT_EQ(a.held, 1);
	ASSERT_EQ(b.held, 0);
}

int main(void)
{
	test_clock();
	test_log();
	test_repeats();
	test_limit();
	printf("test_clock_log: ok\n");
	return 0;
}
