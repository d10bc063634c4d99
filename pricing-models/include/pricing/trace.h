/* trace.h: price traces in the EC2 spot CSV format, loaded once and read as step functions.
 *
 * Format (../shared/data/README.md, cloudexchange.org): no header, one price change per line,
 *     YYYY-MM-DD HH:MM:SS,price
 * UTC timestamps strictly ascending; price in US dollars (per instance-hour in the EC2 files),
 * valid until the next line. Blank lines and a trailing "\r" are accepted; anything else that
 * does not match is an error naming the file, the line and the reason. The `trace` pricing
 * model uses this loader at create time and never touches the file again; the simulator and
 * tools use it directly. */
#ifndef PRICING_TRACE_H
#define PRICING_TRACE_H

#include <stddef.h>
#include <stdint.h>

#include "common/money.h"
#include "pricing/pm.h"

struct pm_trace_point {
	int64_t t_ns;  /* UTC, nanoseconds since 1970-01-01 */
	money_t price; /* nanodollars (per whatever the file prices: instance-hour for EC2) */
};

struct pm_trace {
	struct pm_trace_point *points; /* ascending t_ns; owned by the trace */
	size_t n;                       /* >= 1 after a successful load */
};

/* Longest line accepted (a valid line is 19 + 1 + at most ~22 characters). */
#define PM_TRACE_LINE_MAX 128

/* Reads a trace file. On success fills *out (free with pm_trace_free). On failure returns
 * -RAAS_EPARSE with err = "PATH:LINE: reason" (bad timestamp, timestamp out of range,
 * timestamps not ascending, bad price, extra fields, line too long, no price lines), or
 * -errno with err = "PATH: strerror", and *out is left empty. */
int pm_trace_load(const char *path, struct pm_trace *out, struct pm_error *err);
/* As pm_trace_load() from memory; name stands for the file in messages. */
int pm_trace_parse(const char *name, const char *text, size_t len, struct pm_trace *out,
		   struct pm_error *err);
void pm_trace_free(struct pm_trace *t);

/* The whole seconds an int64 count of ns since the epoch can hold. */
#define PM_TRACE_TIME_MIN "1677-09-21 00:12:44"
#define PM_TRACE_TIME_MAX "2262-04-11 23:47:16"

/* Parses "YYYY-MM-DD HH:MM:SS" (UTC, exactly that shape, a real calendar date) into ns since
 * the epoch. Returns 0, -RAAS_EPARSE, or -RAAS_EOVERFLOW for a date outside
 * PM_TRACE_TIME_MIN .. PM_TRACE_TIME_MAX (*out_ns untouched on failure). */
int pm_trace_parse_time(const char *text, size_t len, int64_t *out_ns);

/* The price in force at t_ns: the last point at or before it (the first point's price before
 * the trace starts). O(log n). */
money_t pm_trace_price_at(const struct pm_trace *t, int64_t t_ns);

#endif
