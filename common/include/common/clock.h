/* clock.h: an injectable clock, in int64 nanoseconds.
 *
 * Pricing, economics and simulation code never reads the system clock itself: it is handed a
 * struct clk, real for daemons and manual for tests and the simulator, so that every run can
 * be replayed exactly. Monotonic time is for intervals and deadlines; wall time only for
 * display and for timestamps that leave the process. */
#ifndef COMMON_CLOCK_H
#define COMMON_CLOCK_H

#include <stdbool.h>
#include <stdint.h>

#define NS_PER_US INT64_C(1000)
#define NS_PER_MS INT64_C(1000000)
#define NS_PER_S INT64_C(1000000000)

struct clk {
	bool manual;
	int64_t mono; /* manual clocks only */
	int64_t wall; /* manual clocks only: wall = wall_at_zero + mono */
};

/* The real clock (CLOCK_MONOTONIC and CLOCK_REALTIME). Shared and stateless. */
extern const struct clk clk_real;

/* A manual clock that starts at mono (and the given wall time) and moves only when told. */
void clk_manual_init(struct clk *c, int64_t mono, int64_t wall);
/* Moves a manual clock forward by ns (ns >= 0); both readings advance. */
void clk_manual_advance(struct clk *c, int64_t ns);
/* Sets a manual clock's monotonic reading (never backwards; earlier values are ignored). */
void clk_manual_set(struct clk *c, int64_t mono);

int64_t clk_mono(const struct clk *c);
int64_t clk_wall(const struct clk *c);

/* Formats a wall time as "2026-11-23T08:43:00.123Z" (UTC, milliseconds). buf >= 32 bytes. */
char *clk_format_wall(int64_t wall_ns, char *buf, int len);

#endif
