/* log.c: the process-wide log sink: a level filter, text or JSON-lines formatting.
 *
 * A line is formatted into a local buffer and written with one fputs so that lines from
 * several threads do not interleave. */
#include <errno.h>
#include <stdarg.h>
#include <string.h>

#include "common/clock.h"
#include "common/log.h"

static struct {
	const char *component;
	enum log_level level;
	bool json;
	FILE *sink;
} log_state = {"raas", LOG_INFO, false, NULL};

static const char *const level_names[] = {"error", "warn", "info", "debug"};

void log_init(const char *component, enum log_level level, bool json)
{
	log_state.component = component;
	log_state.level = level;
	log_state.json = json;
}

void log_set_sink(FILE *sink)
{
	log_state.sink = sink;
}

void log_set_level(enum log_level level)
{
	log_state.level = level;
}

enum log_level log_get_level(void)
{
	return log_state.level;
}

int log_level_parse(const char *name, enum log_level *out)
{
	for (int i = 0; i <= LOG_DEBUG; i++) {
		if (strcmp(name, level_names[i]) == 0) {
			*out = (enum log_level)i;
			return 0;
		}
	}
	return -EINVAL;
}

/* Appends s to out as a JSON string body (without quotes). */
static size_t json_escape(char *out, size_t cap, const char *s)
{
	size_t n = 0;

	for (; *s && n + 7 < cap; s++) {
		unsigned char c = (unsigned char)*s;
		if (c == '"' || c == '\\') {
			out[n++] = '\\';
			out[n++] = (char)c;
		} else if (c == '\n') {
			out[n++] = '\\';
			out[n++] = 'n';
		} else if (c < 0x20) {
			n += (size_t)snprintf(out + n, cap - n, "\\u%04x", c);
		} else {
			out[n++] = (char)c;
		}
	}
	out[n] = '\0';
	return n;
}

void log_msg(enum log_level level, const char *fmt, ...)
{
	char msg[2048], line[4608], ts[32], esc[4200];
	va_list ap;

	if (level > log_state.level)
		return;
	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	clk_format_wall(clk_wall(&clk_real), ts, sizeof(ts));
	if (log_state.json) {
		json_escape(esc, sizeof(esc), msg);
		snprintf(line, sizeof(line),
			 "{\"ts\":\"%s\",\"level\":\"%s\",\"component\":\"%s\",\"msg\":\"%s\"}\n", ts,
			 level_names[level], log_state.component, esc);
	} else {
		snprintf(line, sizeof(line), "%s %s %s: %s\n", ts, log_state.component,
			 level_names[level], msg);
	}
	FILE *sink = log_state.sink ? log_state.sink : stderr;
	fputs(line, sink);
	fflush(sink);
}
