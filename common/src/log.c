/* log.c: the process-wide log sink: a level filter, text or JSON-lines formatting, and the
 * rate limit of repeated lines.
 *
 * A line is formatted into one buffer (a JSON line's message escaped by common/sbuf's
 * sbuf_json_str) and written with one fputs under a lock, so that lines from several
 * threads do not interleave.
 *
 * Repeated lines (log_set_repeat_interval): a daemon that cannot reach its market, or whose
 * peer keeps sending a refused key, would otherwise write the same warning many times a
 * second. A warn or error line is "the same" as an earlier one when it comes from the same
 * format string and its text is equal once every run of digits is ignored ("round 603" and
 * "round 604" are alike; "tenant alice" and "tenant bob" are not). The first is written;
 * the next ones within the interval are counted; when the interval is over, the next one (or
 * log_tick()) writes the last of them with the count. Info and debug lines are events and
 * summaries, never limited. */
#include <errno.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdint.h>
#include <string.h>

#include "common/clock.h"
#include "common/log.h"
#include "common/sbuf.h"

#define REPEAT_SLOTS 64

struct repeat {
	uint64_t key;          /* 0: free */
	int64_t window_start;  /* mono ns: when the line was last written */
	int64_t last_use;
	uint64_t suppressed;   /* lines counted, not written, since window_start */
	enum log_level level;
	char last[512];        /* the last line counted */
};

static struct {
	const char *component;
	enum log_level level;
	bool json;
	FILE *sink;
	int64_t repeat_ns;
	const struct clk *clock;
	struct repeat repeats[REPEAT_SLOTS];
} log_state = {"raas", LOG_INFO, false, NULL, 0, NULL, {{0}}};

static pthread_mutex_t log_lock = PTHREAD_MUTEX_INITIALIZER;

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

void log_set_repeat_interval(int64_t ns, const struct clk *clock)
{
	pthread_mutex_lock(&log_lock);
	log_state.repeat_ns = ns > 0 ? ns : 0;
	log_state.clock = clock;
	memset(log_state.repeats, 0, sizeof(log_state.repeats));
	pthread_mutex_unlock(&log_lock);
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

/* Writes one formatted message (the lock is held). A JSON line is built in one buffer kept
 * between lines, its message escaped by common's one escaper (sbuf_json_str). */
static void emit(enum log_level level, const char *msg)
{
	static struct sbuf json_line;
	char line[4608], ts[32];
	const char *out = line;

	clk_format_wall(clk_wall(&clk_real), ts, sizeof(ts));
	if (log_state.json) {
		sbuf_reset(&json_line);
		sbuf_printf(&json_line,
			    "{\"ts\":\"%s\",\"level\":\"%s\",\"component\":\"%s\",\"msg\":", ts,
			    level_names[level], log_state.component);
		sbuf_json_str(&json_line, msg);
		sbuf_puts(&json_line, "}\n");
		if (!sbuf_failed(&json_line))
			out = json_line.s;
		else /* no memory for the escaped text: the line still says when and who */
			snprintf(line, sizeof(line),
				 "{\"ts\":\"%s\",\"level\":\"%s\",\"component\":\"%s\","
				 "\"msg\":\"(log: out of memory)\"}\n",
				 ts, level_names[level], log_state.component);
	} else {
		snprintf(line, sizeof(line), "%s %s %s: %s\n", ts, log_state.component,
			 level_names[level], msg);
	}
	FILE *sink = log_state.sink ? log_state.sink : stderr;
	fputs(out, sink);
	fflush(sink);
}

/* FNV-1a over the format's address and the text with digit runs folded to one '#'. */
static uint64_t repeat_key(const char *fmt, const char *msg)
{
	uint64_t h = UINT64_C(14695981039346656037);
	uintptr_t f = (uintptr_t)fmt;
	bool digits = false;

	for (size_t i = 0; i < sizeof(f); i++) {
		h ^= (f >> (8 * i)) & 0xff;
		h *= UINT64_C(1099511628211);
	}
	for (const char *p = msg; *p; p++) {
		bool d = *p >= '0' && *p <= '9';
		if (d && digits)
			continue;
		digits = d;
		h ^= (unsigned char)(d ? '#' : *p);
		h *= UINT64_C(1099511628211);
	}
	return h ? h : 1;
}

/* Writes the count of a slot's window (the lock is held). */
static void emit_count(struct repeat *r, const char *msg, int64_t now)
{
	char line[2400];

	snprintf(line, sizeof(line), "%s (repeated %llu times in the last %lld s)", msg,
		 (unsigned long long)r->suppressed,
		 (long long)((now - r->window_start + NS_PER_S / 2) / NS_PER_S));
	emit(r->level, line);
	r->suppressed = 0;
	r->window_start = now;
}

/* True when msg is to be counted instead of written (the lock is held). */
static bool repeated(enum log_level level, const char *fmt, const char *msg)
{
	int64_t now = clk_mono(log_state.clock ? log_state.clock : &clk_real);
	uint64_t key = repeat_key(fmt, msg);
	struct repeat *r = NULL, *victim = NULL;

	for (size_t i = 0; i < REPEAT_SLOTS; i++) {
		struct repeat *s = &log_state.repeats[i];
		if (s->key == key) {
			r = s;
			break;
		}
		/* A free slot, else the one used longest ago. */
		if (!victim || (victim->key && (!s->key || s->last_use < victim->last_use)))
			victim = s;
	}
	if (!r) {
		r = victim;
		if (r->key && r->suppressed)
			emit_count(r, r->last, now);
		memset(r, 0, sizeof(*r));
		r->key = key;
		r->level = level;
		r->window_start = now;
		r->last_use = now;
		return false;
	}
	r->last_use = now;
	if (now - r->window_start < log_state.repeat_ns) {
		size_t n = strnlen(msg, sizeof(r->last) - 1);
		r->suppressed++;
		memcpy(r->last, msg, n);
		r->last[n] = '\0';
		return true;
	}
	if (r->suppressed) {
		r->suppressed++;
		emit_count(r, msg, now);
		return true;
	}
	r->window_start = now;
	return false;
}

void log_tick(void)
{
	pthread_mutex_lock(&log_lock);
	if (log_state.repeat_ns) {
		int64_t now = clk_mono(log_state.clock ? log_state.clock : &clk_real);
		for (size_t i = 0; i < REPEAT_SLOTS; i++) {
			struct repeat *r = &log_state.repeats[i];
			if (r->key && r->suppressed && now - r->window_start >= log_state.repeat_ns)
				emit_count(r, r->last, now);
		}
	}
	pthread_mutex_unlock(&log_lock);
}

void log_msg(enum log_level level, const char *fmt, ...)
{
	char msg[2048];
	va_list ap;

	if (level > log_state.level)
		return;
	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	pthread_mutex_lock(&log_lock);
	if (!(log_state.repeat_ns && level <= LOG_WARN && repeated(level, fmt, msg)))
		emit(level, msg);
	pthread_mutex_unlock(&log_lock);
}
