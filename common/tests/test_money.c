/* test_money.c: checked nanodollar arithmetic, exact parsing and printing, error texts. */
#include <errno.h>
#include <stdint.h>

#include "common/error.h"
#include "common/money.h"
#include "test.h"

static void test_parse(void)
{
	money_t m;
	const char *why;

	ASSERT_OK(money_parse("$1.25", &m, NULL));
	ASSERT_EQ(m, 1250000000);
	ASSERT_OK(money_parse("0.031", &m, NULL));
	ASSERT_EQ(m, 31000000);
	ASSERT_OK(money_parse("-$0.5", &m, NULL));
	ASSERT_EQ(m, -500000000);
	ASSERT_OK(money_parse("$12", &m, NULL));
	ASSERT_EQ(m, 12000000000);
	ASSERT_OK(money_parse("0.000000001", &m, NULL));
	ASSERT_EQ(m, 1);
	ASSERT_OK(money_parse("9223372036.854775807", &m, NULL));
	ASSERT_EQ(m, INT64_MAX);
	ASSERT_OK(money_parse("-9223372036.854775808", &m, NULL));
	ASSERT_EQ(m, INT64_MIN);

	ASSERT_EQ(money_parse("9223372036.854775808", &m, NULL), -RAAS_EOVERFLOW);
	ASSERT_EQ(money_parse("0.0000000001", &m, &why), -RAAS_EPARSE);
	ASSERT_STR_EQ(why, "more than 9 decimals (finer than a nanodollar)");
	ASSERT_EQ(money_parse("1.2x", &m, &why), -RAAS_EPARSE);
	ASSERT_STR_EQ(why, "unexpected character after the amount");
	ASSERT_EQ(money_parse("", &m, &why), -RAAS_EPARSE);
	ASSERT_STR_EQ(why, "empty amount");
	ASSERT_EQ(money_parse("$", &m, &why), -RAAS_EPARSE);
	ASSERT_STR_EQ(why, "expected a digit");
	ASSERT_EQ(money_parse("1.", &m, &why), -RAAS_EPARSE);
	ASSERT_STR_EQ(why, "expected a digit after the decimal point");
	ASSERT_EQ(money_parse("1e3", &m, NULL), -RAAS_EPARSE);
	ASSERT_EQ(money_parse(" 1", &m, NULL), -RAAS_EPARSE);
	ASSERT_STR_EQ(raas_strerror(-RAAS_EOVERFLOW), "arithmetic overflow");
	ASSERT_STR_EQ(raas_strerror(-RAAS_EPARSE), "malformed text");
}

static void test_format(void)
{
	char buf[MONEY_TEXT_MAX];

	ASSERT_STR_EQ(money_format(1250000000, buf), "$1.25");
	ASSERT_STR_EQ(money_format(31000000, buf), "$0.031");
	ASSERT_STR_EQ(money_format(-500000000, buf), "-$0.50");
	ASSERT_STR_EQ(money_format(3000000000, buf), "$3.00");
	ASSERT_STR_EQ(money_format(1, buf), "$0.000000001");
	ASSERT_STR_EQ(money_format(0, buf), "$0.00");
	ASSERT_STR_EQ(money_format(INT64_MIN, buf), "-$9223372036.854775808");
	ASSERT_STR_EQ(money_format_plain(INT64_MAX, buf), "9223372036.854775807");
	/* Round trip on awkward values. */
	static const money_t values[] = {7, -7, 999999999, 1000000001, 123456789012345, -1};
	for (size_t i = 0; i < sizeof(values) / sizeof(values[0]); i++) {
		money_t back;
		ASSERT_OK(money_parse(money_format(values[i], buf), &back, NULL));
		ASSERT_EQ(back, values[i]);
	}
}

static void test_arithmetic(void)
{
	money_t m = 42;

	ASSERT_OK(money_add(1, 2, &m));
	ASSERT_EQ(m, 3);
	ASSERT_EQ(money_add(INT64_MAX, 1, &m), -RAAS_EOVERFLOW);
	ASSERT_EQ(m, 3); /* untouched on overflow */
	ASSERT_EQ(money_sub(INT64_MIN, 1, &m), -RAAS_EOVERFLOW);
	ASSERT_OK(money_mul(3000000000, 3, &m));
	ASSERT_EQ(m, 9000000000);
	ASSERT_EQ(money_mul(INT64_MAX / 2 + 1, 2, &m), -RAAS_EOVERFLOW);
	ASSERT_OK(money_div(10, 3, MONEY_ROUND_DOWN, &m));
	ASSERT_EQ(m, 3);
	ASSERT_OK(money_div(10, 3, MONEY_ROUND_UP, &m));
	ASSERT_EQ(m, 4);
	ASSERT_OK(money_div(-10, 3, MONEY_ROUND_DOWN, &m));
	ASSERT_EQ(m, -4);
	ASSERT_OK(money_div(-10, 4, MONEY_ROUND_NEAREST, &m));
	ASSERT_EQ(m, -3);
	ASSERT_EQ(money_div(1, 0, MONEY_ROUND_DOWN, &m), -EDOM);
	ASSERT_EQ(money_div(INT64_MIN, -1, MONEY_ROUND_DOWN, &m), -RAAS_EOVERFLOW);
	/* 128-bit intermediate: INT64_MAX * 4 / 8 fits although the product does not. */
	ASSERT_OK(money_muldiv(INT64_MAX, 4, 8, MONEY_ROUND_DOWN, &m));
	ASSERT_EQ(m, INT64_MAX / 2);
	ASSERT_EQ(money_muldiv(INT64_MAX, 4, 2, MONEY_ROUND_DOWN, &m), -RAAS_EOVERFLOW);
}

static void test_charge(void)
{
	money_t m;

	/* $0.05 per core-hour, 2 cores, for one second: 0.05 * 2 / 3600 dollars = 27777.78 nd. */
	ASSERT_OK(money_charge(50000000, 2, 1000000000, &m));
	ASSERT_EQ(m, 27778);
	/* A full hour is exact. */
	ASSERT_OK(money_charge(50000000, 2, MONEY_NS_PER_HOUR, &m));
	ASSERT_EQ(m, 100000000);
	/* A 10 ms round of 1 MiB at $0.000005/MiB-hour rounds to 0 (sub-nanodollar). */
	ASSERT_OK(money_charge(5000, 1, 10000000, &m));
	ASSERT_EQ(m, 0);
	ASSERT_EQ(money_charge(INT64_MAX, 2, 1, &m), -RAAS_EOVERFLOW);
}

int main(void)
{
	test_parse();
	test_format();
	test_arithmetic();
	test_charge();
	printf("test_money: ok\n");
	return 0;
}
