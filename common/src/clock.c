/* clock.c: the real and the manual clock behind struct clk. */
#include <stdio.h>
#include <time.h>

#include "common/clock.h"

const struct clk clk_real = {.manual = false};

static int64_t read_clock(clockid_t id)
{
	struct timespec ts;

	clock_gettime(id, &ts);
	return (int64_t)ts.tv_sec * NS_PER_S + ts.tv_nsec;
}

void clk_manual_init(struct clk *c, int64_t mono, int64_t wall)
{
	c->manual = true;
	c->mono = mono;
	c->wall = wall;
}

void clk_manual_advance(struct clk *c, int64_t ns)
{
	if (ns <= 0)
		return;
	c->mono += ns;
	c->wall += ns;
}

void clk_manual_set(struct clk *c, int64_t mono)
{
	if (mono > c->mono)
		clk_manual_advance(c, mono - c->mono);
}

int64_t clk_mono(const struct clk *c)
{
	return c->manual ? c->mono : read_clock(CLOCK_MONOTONIC);
}

int64_t clk_wall(const struct clk *c)
{
	return c->manual ? c->wall : read_clock(CLOCK_REALTIME);
}

char *clk_format_wall(int64_t wall_ns, char *buf, int len)
{
	time_t secs = (time_t)(wall_ns / NS_PER_S);
	int ms = (int)((wall_ns % NS_PER_S) / NS_PER_MS);
	struct tm tm;

	if (wall_ns < 0) {
		secs -= 1;
		ms += 1000;
	}
	gmtime_r(&secs, &tm);
	snprintf(buf, (size_t)len, "%04d-%02d-%02dT%02d:%02d:%02d.%03dZ", tm.tm_year + 1900,
		 tm.tm_mon + 1, tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec, ms);
	return buf;
}
