/* money.h: money as int64 nanodollars, with checked arithmetic and exact text conversion.
 *
 * Money is never a float anywhere a charge is computed or recorded: a float cannot hold 0.1
 * dollars exactly, and sums of charges must equal revenue to the nanodollar. Every operation
 * that can overflow reports it (-RAAS_EOVERFLOW) instead of wrapping.
 *
 * Units (docs/units.md): money is nanodollars (1e-9 USD). A price of a held resource is
 * nanodollars per unit-hour; a charge for holding q units for d nanoseconds at price p is
 * p * q * d / MONEY_NS_PER_HOUR, computed with a 128-bit intermediate. */
#ifndef COMMON_MONEY_H
#define COMMON_MONEY_H

#include <stddef.h>
#include <stdint.h>

typedef int64_t money_t;

#define MONEY_PER_DOLLAR INT64_C(1000000000)
#define MONEY_NS_PER_HOUR INT64_C(3600000000000)
#define MONEY_MAX INT64_MAX
/* Longest text money_format() writes, with the terminating NUL: "-$9223372036.854775807". */
#define MONEY_TEXT_MAX 24

enum money_round {
	MONEY_ROUND_DOWN,    /* toward negative infinity */
	MONEY_ROUND_UP,      /* toward positive infinity */
	MONEY_ROUND_NEAREST, /* half away from zero */
};

/* *out = a + b. Returns 0, or -RAAS_EOVERFLOW with *out untouched. */
int money_add(money_t a, money_t b, money_t *out);
/* *out = a - b. Returns 0, or -RAAS_EOVERFLOW with *out untouched. */
int money_sub(money_t a, money_t b, money_t *out);
/* *out = a * k. Returns 0, or -RAAS_EOVERFLOW with *out untouched. */
int money_mul(money_t a, int64_t k, money_t *out);
/* *out = a / d rounded as asked. Returns 0, -EDOM when d == 0, -RAAS_EOVERFLOW for
 * INT64_MIN / -1. */
int money_div(money_t a, int64_t d, enum money_round r, money_t *out);
/* *out = a * b / d with a 128-bit intermediate, rounded as asked. Returns 0, -EDOM when
 * d == 0, -RAAS_EOVERFLOW when the result does not fit. */
int money_muldiv(int64_t a, int64_t b, int64_t d, enum money_round r, money_t *out);
/* The charge for holding qty units for ns nanoseconds at price (nanodollars per unit-hour),
 * rounded to the nearest nanodollar. Returns 0 or -RAAS_EOVERFLOW / -EDOM. */
int money_charge(money_t price, int64_t qty, int64_t ns, money_t *out);

/* Parses dollars: "$1.25", "1.25", "0.031", "-$0.5", "-0.5", "$12". At most 9 decimals; no
 * exponent, no spaces, no grouping. Returns 0, -RAAS_EPARSE (with *why set to a static
 * reason when why is not NULL) or -RAAS_EOVERFLOW. */
int money_parse(const char *text, money_t *out, const char **why);
/* Writes "$1.25", "$0.031", "-$0.50", "$3.00": at least two decimals, no trailing zeros
 * past them. buf must hold MONEY_TEXT_MAX bytes. Returns buf. */
char *money_format(money_t m, char buf[MONEY_TEXT_MAX]);
/* As money_format() without the "$": "1.25", "-0.50" (for CSV and JSON). */
char *money_format_plain(money_t m, char buf[MONEY_TEXT_MAX]);
/* Dollars as a double, for display and charts only; never for charges. */
double money_to_dollars(money_t m);

#endif
