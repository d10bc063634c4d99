/* log.h: leveled logging to stderr, as text or as JSON lines.
 *
 * One process-wide sink, set once by main(): daemons log text for a terminal and JSON lines
 * when an operator ships logs to a collector (--log-json). Libraries log through the same
 * calls; tests can redirect the sink to a memory stream and read what was said. */
#ifndef COMMON_LOG_H
#define COMMON_LOG_H

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

struct clk;

enum log_level { LOG_ERROR, LOG_WARN, LOG_INFO, LOG_DEBUG };

/* component names the process in every line ("marketd"); borrowed, must outlive logging. */
void log_init(const char *component, enum log_level level, bool json);
/* Where lines go (default stderr); borrowed. */
void log_set_sink(FILE *sink);
void log_set_level(enum log_level level);
enum log_level log_get_level(void);
/* Rate limit of repeated warn and error lines (log.c explains "repeated"): the first is
 * written, the next ones within ns are counted, and the count is written once the interval is
 * over (with the next such line, or by log_tick()). 0 (the default) writes every line. clock
 * (borrowed; NULL: the real clock) times the windows. Daemons set one minute. */
void log_set_repeat_interval(int64_t ns, const struct clk *clock);
/* Writes the counts of repeated lines whose interval is over; daemons call it from their
 * loop. */
void log_tick(void);
/* A caller's own limit for one kind of line (per call site, or per key: one per host, per
 * socket), for lines the repeat limit above cannot group (each carries its own key, port or
 * tenant). The first line is written; later ones within interval_ns are held back and
 * counted; the next one after the interval is written with that count. Zeroed: nothing
 * written yet. */
struct log_limit {
	int64_t interval_ns;  /* set by the caller (LOG_LIMIT_MINUTE) */
	int64_t last_ns;      /* clk_mono when the last line was written */
	bool written;         /* a line has been written */
	uint64_t held;        /* calls held back since */
};
#define LOG_LIMIT_MINUTE {.interval_ns = INT64_C(60000000000)}
/* Whether the caller writes its line now (clock borrowed; NULL: the real clock). When it
 * returns true, *held (may be NULL) is the number of calls held back since the last line
 * written, and the count restarts. */
bool log_limit_pass(struct log_limit *l, const struct clk *clock, uint64_t *held);
/* Forgets the last line, so the next call passes (a different message than the last). */
void log_limit_reset(struct log_limit *l);

/* "error", "warn", "info", "debug" -> level. Returns 0 or -EINVAL. */
int log_level_parse(const char *name, enum log_level *out);

void log_msg(enum log_level level, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

#define log_error(...) log_msg(LOG_ERROR, __VA_ARGS__)
#define log_warn(...) log_msg(LOG_WARN, __VA_ARGS__)
#define log_info(...) log_msg(LOG_INFO, __VA_ARGS__)
#define log_debug(...) \
	do { \
		if (log_get_level() >= LOG_DEBUG) \
			log_msg(LOG_DEBUG, __VA_ARGS__); \
	} while (0)

#endif
