/* schedule.h: a price schedule: a step function of simulated time, written in a scenario.
 *
 * The thesis prices bandwidth at $1/Gbit for 60 s, then $10/Gbit; a schedule writes that as
 * `schedule = 0s $1, 60s $10`. Each entry is a time (a duration from the start of the run) and
 * the price that holds from then on, in dollars (per Gbit for egress, per unit-hour for held
 * resources). Times start at 0 and strictly increase. Parsed text in, value out; no I/O. */
#ifndef SIM_SCHEDULE_H
#define SIM_SCHEDULE_H

#include <stddef.h>
#include <stdint.h>

#include "common/money.h"

#define SIM_SCHEDULE_MAX 4096 /* steps */

struct sim_schedule {
	size_t n;
	int64_t *t_ns;  /* owned; t_ns[0] == 0, strictly increasing */
	money_t *price; /* owned; nanodollars, >= 0 */
};

/* Parses "0s $1, 60s $10". Returns 0, or -RAAS_EPARSE with a static reason in *why and the
 * 1-based entry number in *entry; -ENOMEM. */
int sim_schedule_parse(const char *text, struct sim_schedule *out, const char **why,
		       size_t *entry);
void sim_schedule_fini(struct sim_schedule *s);

/* The price at time t (t >= 0). */
money_t sim_schedule_price(const struct sim_schedule *s, int64_t t);
/* The first step time > t, or INT64_MAX. */
int64_t sim_schedule_next(const struct sim_schedule *s, int64_t t);

#endif
