/* test_clock_log.c: the manual clock, wall-time formatting, and both log formats. */
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
	fclose(mem);
	log_set_sink(NULL);
	ASSERT_STR_CONTAINS(text, " tester info: hello 42\n");
	ASSERT_TRUE(strstr(text, "not shown") == NULL);
	ASSERT_STR_CONTAINS(text,
			    "\"level\":\"warn\",\"component\":\"tester\",\"msg\":\"quote \\\" and\\nnewline\"}");
	free(text);
	enum log_level l;
	ASSERT_OK(log_level_parse("debug", &l));
	ASSERT_EQ(l, LOG_DEBUG);
	ASSERT_TRUE(log_level_parse("loud", &l) < 0);
}

int main(void)
{
	test_clock();
	test_log();
	printf("test_clock_log: ok\n");
	return 0;
}
