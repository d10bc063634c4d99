/* log_limit.c: a caller-held rate limit of one kind of log line (log.h, struct log_limit).
 *
 * Several daemons wrote "log the first, then at most one line a minute with a count" each in
 * its own way (ZAP refusals, the market's refused meters, the agent's refused requests); this
 * is that rule once, timed by an injected clock so a test can step through the windows. */
#include "common/clock.h"
#include "common/log.h"

bool log_limit_pass(struct log_limit *l, const struct clk *clock, uint64_t *held)
{
	int64_t now = clk_mono(clock ? clock : &clk_real);

	if (l->written && now - l->last_ns < l->interval_ns) {
		l->held++;
		return false;
	}
	if (held)
		*held = l->held;
	l->held = 0;
	l->written = true;
	l->last_ns = now;
	return true;
}

void log_limit_reset(struct log_limit *l)
{
	l->written = false;
}
