/* log.h: leveled logging to stderr, as text or as JSON lines.
 *
 * One process-wide sink, set once by main(): daemons log text for a terminal and JSON lines
 * when an operator ships logs to a collector (--log-json). Libraries log through the same
 * calls; tests can redirect the sink to a memory stream and read what was said. */
#ifndef COMMON_LOG_H
#define COMMON_LOG_H

#include <stdbool.h>
#include <stdio.h>

enum log_level { LOG_ERROR, LOG_WARN, LOG_INFO, LOG_DEBUG };

/* component names the process in every line ("marketd"); borrowed, must outlive logging. */
void log_init(const char *component, enum log_level level, bool json);
/* Where lines go (default stderr); borrowed. */
void log_set_sink(FILE *sink);
void log_set_level(enum log_level level);
enum log_level log_get_level(void);
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
