/* money.c: checked nanodollar arithmetic and exact parsing and printing of dollar amounts.
 *
 * Overflow checks use the compiler's __builtin_*_overflow; multiplications that are then
 * divided (charges, pro-rating) go through __int128 so that a large price times a long
 * period never loses precision before the division. */
#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>

#include "common/error.h"
#include "common/money.h"

int money_add(money_t a, money_t b, money_t *out)
{
	money_t r;

	if (__builtin_add_overflow(a, b, &r))
		return -RAAS_EOVERFLOW;
	*out = r;
	return 0;
}

int money_sub(money_t a, money_t b, money_t *out)
{
	money_t r;

	if (__builtin_sub_overflow(a, b, &r))
		return -RAAS_EOVERFLOW;
	*out = r;
	return 0;
}

int money_mul(money_t a, int64_t k, money_t *out)
{
	money_t r;

	if (__builtin_mul_overflow(a, k, &r))
		return -RAAS_EOVERFLOW;
	*out = r;
	return 0;
}

/* Divides n by d (d != 0) rounding as asked, all in 128 bits. */
static __int128 div_round(__int128 n, __int128 d, enum money_round r)
{
	__int128 q = n / d, rem = n % d;

	if (rem == 0)
		return q;
	bool negative = (n < 0) != (d < 0);
	switch (r) {
	case MONEY_ROUND_DOWN:
		return negative ? q - 1 : q;
	case MONEY_ROUND_UP:
		return negative ? q : q + 1;
	case MONEY_ROUND_NEAREST: {
		__int128 arem = rem < 0 ? -rem : rem, ad = d < 0 ? -d : d;
		if (2 * arem >= ad)
			return negative ? q - 1 : q + 1;
		return q;
	}
	}
	return q;
}

int money_div(money_t a, int64_t d, enum money_round r, money_t *out)
{
	if (d == 0)
		return -EDOM;
	if (a == INT64_MIN && d == -1)
		return -RAAS_EOVERFLOW;
	*out = (money_t)div_round(a, d, r);
	return 0;
}

int money_muldiv(int64_t a, int64_t b, int64_t d, enum money_round r, money_t *out)
{
	if (d == 0)
		return -EDOM;
	__int128 q = div_round((__int128)a * b, d, r);
	if (q > INT64_MAX || q < INT64_MIN)
		return -RAAS_EOVERFLOW;
	*out = (money_t)q;
	return 0;
}

int money_charge(money_t price, int64_t qty, int64_t ns, money_t *out)
{
	__int128 n = (__int128)price * qty;

	if (n > INT64_MAX || n < INT64_MIN)
		return -RAAS_EOVERFLOW;
	return money_muldiv((int64_t)n, ns, MONEY_NS_PER_HOUR, MONEY_ROUND_NEAREST, out);
}

static int parse_fail(const char **why, const char *reason)
{
	if (why)
		*why = reason;
	return -RAAS_EPARSE;
}

int money_parse(const char *text, money_t *out, const char **why)
{
	const char *p = text;
	bool negative = false;
	uint64_t whole = 0, frac = 0;
	int frac_digits = 0;

	if (!text || !*text)
		return parse_fail(why, "empty amount");
	if (*p == '-') {
		negative = true;
		p++;
	}
	if (*p == '$')
		p++;
	if (*p < '0' || *p > '9')
		return parse_fail(why, "expected a digit");
	for (; *p >= '0' && *p <= '9'; p++) {
		if (whole > (UINT64_MAX - 9) / 10)
			return -RAAS_EOVERFLOW;
		whole = whole * 10 + (uint64_t)(*p - '0');
	}
	if (*p == '.') {
		p++;
		if (*p < '0' || *p > '9')
			return parse_fail(why, "expected a digit after the decimal point");
		for (; *p >= '0' && *p <= '9'; p++) {
			if (frac_digits == 9)
				return parse_fail(why, "more than 9 decimals (finer than a nanodollar)");
			frac = frac * 10 + (uint64_t)(*p - '0');
			frac_digits++;
		}
	}
	if (*p != '\0')
		return parse_fail(why, "unexpected character after the amount");
	for (; frac_digits < 9; frac_digits++)
		frac *= 10;
	__int128 total = (__int128)whole * MONEY_PER_DOLLAR + frac;
	if (negative)
		total = -total;
	if (total > INT64_MAX || total < INT64_MIN)
		return -RAAS_EOVERFLOW;
	*out = (money_t)total;
	return 0;
}

static char *format(money_t m, bool dollar_sign, char buf[MONEY_TEXT_MAX])
{
	/* Magnitude in unsigned arithmetic so that INT64_MIN prints. */
	uint64_t mag = m < 0 ? (uint64_t)0 - (uint64_t)m : (uint64_t)m;
	uint64_t whole = mag / MONEY_PER_DOLLAR, frac = mag % MONEY_PER_DOLLAR;
	char digits[10];
	int len;

	snprintf(digits, sizeof(digits), "%09llu", (unsigned long long)frac);
	for (len = 9; len > 2 && digits[len - 1] == '0'; len--)
		;
	digits[len] = '\0';
	snprintf(buf, MONEY_TEXT_MAX, "%s%s%llu.%s", m < 0 ? "-" : "", dollar_sign ? "$" : "",
		 (unsigned long long)whole, digits);
	return buf;
}

char *money_format(money_t m, char buf[MONEY_TEXT_MAX])
{
	return format(m, true, buf);
}

char *money_format_plain(money_t m, char buf[MONEY_TEXT_MAX])
{
	return format(m, false, buf);
}

double money_to_dollars(money_t m)
{
	return (double)m / (double)MONEY_PER_DOLLAR;
}
