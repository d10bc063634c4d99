/* mc_proto.c: the memcached text protocol (mc_proto.h). Written here against memcached's
 * documented protocol (protocol.txt) and its observed behaviour; each rule that a client can
 * see is checked by the differential test against Debian's memcached. */
#include <ctype.h>
#include <errno.h>
#include <inttypes.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <time.h>

#include "mc_proto.h"

#define MAX_TOKENS 24

struct tok {
	char *v;   /* NUL-terminated in the line copy; NULL for a finished terminal token */
	size_t n;
};

void mc_conn_init(struct mc_conn *c, struct mc_server *srv)
{
	memset(c, 0, sizeof(*c));
	c->srv = srv;
}

void mc_conn_fini(struct mc_conn *c)
{
	buf_free(&c->out);
	buf_free(&c->line);
}

/* Splits on single spaces as memcached does: at most max - 1 tokens, then a terminal token
 * whose value is the unprocessed rest (NULL when the line was used up). */
static size_t tokenize(char *cmd, struct tok *t, size_t max)
{
	size_t len = strlen(cmd), n = 0;
	char *s = cmd, *e = cmd;

	for (size_t i = 0; i < len; i++) {
		if (*e == ' ') {
			if (s != e) {
				t[n].v = s;
				t[n].n = (size_t)(e - s);
				n++;
				*e = '\0';
				if (n == max - 1) {
					e++;
					s = e;
					break;
				}
			}
			s = e + 1;
		}
		e++;
	}
	if (s != e) {
		t[n].v = s;
		t[n].n = (size_t)(e - s);
		n++;
	}
	t[n].v = *e == '\0' ? NULL : e;
	t[n].n = 0;
	return n + 1;
}

/* memcached's number parsers: the C library's, a blank or the end after the digits, and the
 * result truncated to the field's width exactly as memcached stores it. */
static bool num_ull(const char *s, uint64_t *out)
{
	char *end;
	unsigned long long v;

	errno = 0;
	*out = 0;
	v = strtoull(s, &end, 10);
	if (errno == ERANGE || end == s)
		return false;
	if (isspace((unsigned char)*end) || *end == '\0') {
		if ((long long)v < 0 && strchr(s, '-'))
			return false;
		*out = v;
		return true;
	}
	return false;
}

static bool num_ul(const char *s, uint32_t *out)
{
	char *end;
	unsigned long v;

	errno = 0;
	*out = 0;
	v = strtoul(s, &end, 10);
	if (errno == ERANGE || end == s)
		return false;
	if (isspace((unsigned char)*end) || *end == '\0') {
		if ((long)v < 0 && strchr(s, '-'))
			return false;
		*out = (uint32_t)v;
		return true;
	}
	return false;
}

static bool num_l(const char *s, int32_t *out)
{
	char *end;
	long v;

	errno = 0;
	*out = 0;
	v = strtol(s, &end, 10);
	if (errno == ERANGE || end == s)
		return false;
	if (isspace((unsigned char)*end) || *end == '\0') {
		*out = (int32_t)v;
		return true;
	}
	return false;
}

static void out_raw(struct mc_conn *c, const void *d, size_t n)
{
	(void)buf_append(&c->out, d, n);
}

/* A one-line reply, unless the command asked for noreply (which it then uses up). */
static void out_string(struct mc_conn *c, const char *s)
{
	if (c->noreply) {
		c->noreply = false;
		return;
	}
	out_raw(c, s, strlen(s));
	out_raw(c, "\r\n", 2);
}

static bool noreply_maybe(struct mc_conn *c, const struct tok *t, size_t nt)
{
	const struct tok *nr = &t[nt - 2];

	if (nr->v && strcmp(nr->v, "noreply") == 0)
		c->noreply = true;
	return c->noreply;
}

/* ---- get, gets, gat, gats ---- */

static void out_value(struct mc_conn *c, const struct mc_item *it, bool with_cas)
{
	char head[96];
	int n;

	out_raw(c, "VALUE ", 6);
	out_raw(c, it->data, it->nkey);
	if (with_cas)
		n = snprintf(head, sizeof(head), " %" PRIu32 " %" PRIu32 " %" PRIu64 "\r\n",
			     it->flags, it->nbytes - 2, it->cas);
	else
		n = snprintf(head, sizeof(head), " %" PRIu32 " %" PRIu32 "\r\n", it->flags,
			     it->nbytes - 2);
	out_raw(c, head, (size_t)n);
	out_raw(c, mc_item_value(it), it->nbytes);
}

static void cmd_get(struct mc_conn *c, struct tok *t, size_t nt, bool with_cas, bool touch)
{
	struct mc_server *srv = c->srv;
	struct tok *k = &t[1];
	size_t mark = c->out.len;
	int64_t exp_ns = 0;

	(void)nt;
	if (touch) {
		int32_t e;

		if (!num_l(t[1].v, &e)) {
			out_string(c, "CLIENT_ERROR invalid exptime argument");
			return;
		}
		exp_ns = mc_store_exptime(srv->store, e);
		k++;
	}
	for (;;) {
		for (; k->n != 0; k++) {
			struct mc_item *it;

			if (k->n > MC_KEY_MAX) {
				/* memcached drops the replies it had stacked for this command */
				c->out.len = mark;
				out_string(c, "CLIENT_ERROR bad command line format");
				return;
			}
			if (touch) {
				srv->cmd_touch_get++;
				if (mc_store_touch(srv->store, k->v, k->n, exp_ns))
					it = mc_store_get(srv->store, k->v, k->n, false);
				else
					it = NULL;
			} else {
				srv->cmd_get++;
				it = mc_store_get(srv->store, k->v, k->n, true);
			}
			if (it)
				out_value(c, it, with_cas);
		}
		if (!k->v)
			break;
		/* More keys than one tokenization holds: go on with the rest of the line. */
		nt = tokenize(k->v, t, MAX_TOKENS);
		k = t;
	}
	out_raw(c, "END\r\n", 5);
}

/* ---- set, add, replace, append, prepend, cas ---- */

enum { NEED_MORE = -1 };

/* Returns the bytes used after the line (the data block), or NEED_MORE. */
static long cmd_update(struct mc_conn *c, struct tok *t, size_t nt, enum mc_cmd cmd,
		       const uint8_t *rest, size_t avail)
{
	struct mc_server *srv = c->srv;
	uint32_t flags;
	int32_t exptime, vlen;
	uint64_t cas = 0;
	bool noreply;
	enum mc_result r;

	/* No side effect before the data block is complete: this may run again. */
	noreply = false;
	if (t[nt - 2].v && strcmp(t[nt - 2].v, "noreply") == 0)
		noreply = true;
	if (t[1].n > MC_KEY_MAX || !num_ul(t[2].v, &flags) || !num_l(t[3].v, &exptime) ||
	    !num_l(t[4].v, &vlen) || (cmd == MC_CAS && !num_ull(t[5].v, &cas)) || vlen < 0 ||
	    vlen > INT_MAX - 2) {
		c->noreply = noreply;
		out_string(c, "CLIENT_ERROR bad command line format");
		return 0;
	}
	if (!mc_store_size_ok(srv->store, t[1].n, flags, (size_t)vlen)) {
		c->noreply = noreply;
		out_string(c, "SERVER_ERROR object too large for cache");
		if (cmd == MC_SET)
			mc_store_unlink_key(srv->store, t[1].v, t[1].n);
		c->swallow = (uint64_t)vlen + 2;
		return 0;
	}
	if (avail < (size_t)vlen + 2)
		return NEED_MORE;
	c->noreply = noreply;
	if (rest[vlen] != '\r' || rest[vlen + 1] != '\n') {
		out_string(c, "CLIENT_ERROR bad data chunk");
		return vlen + 2;
	}
	r = mc_store_put(srv->store, cmd, t[1].v, t[1].n, flags,
			 mc_store_exptime(srv->store, exptime), (const char *)rest, (size_t)vlen,
			 cas, NULL);
	switch (r) {
	case MC_STORED: out_string(c, "STORED"); break;
	case MC_NOT_STORED: out_string(c, "NOT_STORED"); break;
	case MC_EXISTS: out_string(c, "EXISTS"); break;
	case MC_NOT_FOUND: out_string(c, "NOT_FOUND"); break;
	case MC_TOO_LARGE: out_string(c, "SERVER_ERROR object too large for cache"); break;
	case MC_NO_MEMORY: out_string(c, "SERVER_ERROR out of memory storing object"); break;
	}
	return vlen + 2;
}

/* ---- the other commands ---- */

static void cmd_delta(struct mc_conn *c, struct tok *t, size_t nt, bool incr)
{
	char buf[32];
	uint64_t delta;

	noreply_maybe(c, t, nt);
	if (t[1].n > MC_KEY_MAX) {
		out_string(c, "CLIENT_ERROR bad command line format");
		return;
	}
	if (!num_ull(t[2].v, &delta)) {
		out_string(c, "CLIENT_ERROR invalid numeric delta argument");
		return;
	}
	switch (mc_store_delta(c->srv->store, t[1].v, t[1].n, incr, delta, buf)) {
	case MC_DELTA_OK: out_string(c, buf); break;
	case MC_DELTA_NON_NUMERIC:
		out_string(c, "CLIENT_ERROR cannot increment or decrement non-numeric value");
		break;
	case MC_DELTA_EOM: out_string(c, "SERVER_ERROR out of memory"); break;
	case MC_DELTA_NOT_FOUND: out_string(c, "NOT_FOUND"); break;
	}
}

static void cmd_delete(struct mc_conn *c, struct tok *t, size_t nt)
{
	if (nt > 3) {
		bool hold_zero = strcmp(t[2].v, "0") == 0;
		bool nr = noreply_maybe(c, t, nt);
		bool valid = (nt == 4 && (hold_zero || nr)) || (nt == 5 && hold_zero && nr);

		if (!valid) {
			out_string(c, "CLIENT_ERROR bad command line format.  "
				      "Usage: delete <key> [noreply]");
			return;
		}
	}
	if (t[1].n > MC_KEY_MAX) {
		out_string(c, "CLIENT_ERROR bad command line format");
		return;
	}
	out_string(c, mc_store_delete(c->srv->store, t[1].v, t[1].n) ? "DELETED" : "NOT_FOUND");
}

static void cmd_touch(struct mc_conn *c, struct tok *t, size_t nt)
{
	int32_t e;

	noreply_maybe(c, t, nt);
	if (t[1].n > MC_KEY_MAX) {
		out_string(c, "CLIENT_ERROR bad command line format");
		return;
	}
	if (!num_l(t[2].v, &e)) {
		out_string(c, "CLIENT_ERROR invalid exptime argument");
		return;
	}
	out_string(c, mc_store_touch(c->srv->store, t[1].v, t[1].n,
				     mc_store_exptime(c->srv->store, e)) ? "TOUCHED" : "NOT_FOUND");
}

static void cmd_flush_all(struct mc_conn *c, struct tok *t, size_t nt)
{
	int32_t e = 0;

	noreply_maybe(c, t, nt);
	if (nt != (c->noreply ? 3u : 2u) && !num_l(t[1].v, &e)) {
		out_string(c, "CLIENT_ERROR invalid exptime argument");
		return;
	}
	mc_store_flush(c->srv->store, e);
	out_string(c, "OK");
}

static void cmd_verbosity(struct mc_conn *c, struct tok *t, size_t nt)
{
	uint32_t level;

	noreply_maybe(c, t, nt);
	if (!num_ul(t[1].v, &level)) {
		out_string(c, "CLIENT_ERROR bad command line format");
		return;
	}
	c->srv->verbosity = level > 2 ? 2 : (int)level;
	out_string(c, "OK");
}

static void cmd_memlimit(struct mc_conn *c, struct tok *t, size_t nt)
{
	uint32_t mb;

	noreply_maybe(c, t, nt);
	if (!num_ul(t[1].v, &mb)) {
		out_string(c, "ERROR");
	} else if (mb < 8) {
		out_string(c, "MEMLIMIT_TOO_SMALL cannot set maxbytes to less than 8m");
	} else if (mb > 1000000000) {
		out_string(c, "MEMLIMIT_ADJUST_FAILED input value is megabytes not bytes");
	} else {
		mc_store_set_limit(c->srv->store, (size_t)mb << 20);
		out_string(c, "OK");
	}
}

static void stat_u64(struct buf *o, const char *name, uint64_t v)
{
	char line[160];
	int n = snprintf(line, sizeof(line), "STAT %s %" PRIu64 "\r\n", name, v);

	(void)buf_append(o, line, (size_t)n);
}

static void stat_str(struct buf *o, const char *name, const char *v)
{
	char line[256];
	int n = snprintf(line, sizeof(line), "STAT %s %s\r\n", name, v);

	(void)buf_append(o, line, (size_t)n);
}

static void stats_general(struct mc_conn *c)
{
	struct mc_server *srv = c->srv;
	struct mc_store_stats st;
	struct rusage ru;
	char v[64];
	int64_t now = (int64_t)time(NULL);

	mc_store_stats(srv->store, &st);
	getrusage(RUSAGE_SELF, &ru);
	stat_u64(&c->out, "pid", srv->pid);
	stat_u64(&c->out, "uptime", (uint64_t)(now - srv->started_wall_s));
	stat_u64(&c->out, "time", (uint64_t)now);
	stat_str(&c->out, "version", srv->version);
	stat_u64(&c->out, "pointer_size", 64);
	snprintf(v, sizeof(v), "%ld.%06ld", (long)ru.ru_utime.tv_sec, (long)ru.ru_utime.tv_usec);
	stat_str(&c->out, "rusage_user", v);
	snprintf(v, sizeof(v), "%ld.%06ld", (long)ru.ru_stime.tv_sec, (long)ru.ru_stime.tv_usec);
	stat_str(&c->out, "rusage_system", v);
	stat_u64(&c->out, "curr_connections", srv->curr_conns);
	stat_u64(&c->out, "total_connections", srv->total_conns);
	stat_u64(&c->out, "cmd_get", srv->cmd_get);
	stat_u64(&c->out, "cmd_set", st.cmd_set);
	stat_u64(&c->out, "cmd_flush", st.cmd_flush);
	stat_u64(&c->out, "cmd_touch", st.cmd_touch + srv->cmd_touch_get);
	stat_u64(&c->out, "get_hits", st.get_hits);
	stat_u64(&c->out, "get_misses", st.get_misses);
	stat_u64(&c->out, "get_expired", st.get_expired);
	stat_u64(&c->out, "get_flushed", st.get_flushed);
	stat_u64(&c->out, "delete_misses", st.delete_misses);
	stat_u64(&c->out, "delete_hits", st.delete_hits);
	stat_u64(&c->out, "incr_misses", st.incr_misses);
	stat_u64(&c->out, "incr_hits", st.incr_hits);
	stat_u64(&c->out, "decr_misses", st.decr_misses);
	stat_u64(&c->out, "decr_hits", st.decr_hits);
	stat_u64(&c->out, "cas_misses", st.cas_misses);
	stat_u64(&c->out, "cas_hits", st.cas_hits);
	stat_u64(&c->out, "cas_badval", st.cas_badval);
	stat_u64(&c->out, "touch_hits", st.touch_hits);
	stat_u64(&c->out, "touch_misses", st.touch_misses);
	stat_u64(&c->out, "limit_maxbytes", st.mem_limit);
	stat_u64(&c->out, "nom_arena_bytes", st.arena_mapped);
	stat_u64(&c->out, "threads", 1);
	stat_u64(&c->out, "bytes", st.bytes);
	stat_u64(&c->out, "curr_items", st.curr_items);
	stat_u64(&c->out, "total_items", st.total_items);
	stat_u64(&c->out, "reclaimed", st.reclaimed);
	stat_u64(&c->out, "evictions", st.evictions);
	if (srv->extra_stats)
		srv->extra_stats(srv->extra_arg, &c->out);
}

static void cmd_stats(struct mc_conn *c, struct tok *t, size_t nt)
{
	struct mc_store_stats st;

	if (nt == 2) {
		stats_general(c);
	} else if (strcmp(t[1].v, "reset") == 0) {
		mc_store_reset_stats(c->srv->store);
		c->srv->cmd_get = c->srv->cmd_touch_get = 0;
		out_string(c, "RESET");
		return;
	} else if (strcmp(t[1].v, "detail") == 0) {
		out_string(c, "CLIENT_ERROR usage: stats detail on|off|dump");
		return;
	} else if (strcmp(t[1].v, "settings") == 0) {
		mc_store_stats(c->srv->store, &st);
		stat_u64(&c->out, "maxbytes", st.mem_limit);
		stat_u64(&c->out, "verbosity", (uint64_t)c->srv->verbosity);
		stat_str(&c->out, "evictions", "on");
		stat_str(&c->out, "cas_enabled", "yes");
		stat_u64(&c->out, "num_threads", 1);
	} else if (strcmp(t[1].v, "items") == 0) {
		mc_store_stats(c->srv->store, &st);
		if (st.curr_items) {
			stat_u64(&c->out, "items:1:number", st.curr_items);
			stat_u64(&c->out, "items:1:evicted", st.evictions);
			stat_u64(&c->out, "items:1:reclaimed", st.reclaimed);
		}
	} else if (strcmp(t[1].v, "slabs") == 0) {
		mc_store_stats(c->srv->store, &st);
		stat_u64(&c->out, "active_slabs", st.curr_items ? 1 : 0);
		stat_u64(&c->out, "total_malloced", st.bytes);
	} else if (strcmp(t[1].v, "sizes") == 0) {
		stat_str(&c->out, "sizes_status", "disabled");
	} else if (strcmp(t[1].v, "conns") == 0) {
		stat_u64(&c->out, "curr_connections", c->srv->curr_conns);
	} else {
		out_string(c, "ERROR");
		return;
	}
	out_raw(c, "END\r\n", 5);
}

/* One command line (NUL-terminated copy in line). Returns the bytes used after the line, or
 * NEED_MORE. */
static long command(struct mc_conn *c, char *line, const uint8_t *rest, size_t avail)
{
	struct tok t[MAX_TOKENS + 1];
	size_t nt = tokenize(line, t, MAX_TOKENS);
	const char *cmd = t[0].v;
	char first;

	c->noreply = false;
	if (nt < 2 || t[0].n < 2) {
		out_string(c, "ERROR");
		return 0;
	}
#define WANT(ok) \
	do { \
		if (!(ok)) { \
			out_string(c, "ERROR"); \
			return 0; \
		} \
	} while (0)
	first = cmd[0];
	if (first == 'm' && t[0].n == 2) {
		out_string(c, "ERROR"); /* meta commands are not supported */
	} else if (first == 'g') {
		WANT(nt >= 3);
		if (strcmp(cmd, "get") == 0)
			cmd_get(c, t, nt, false, false);
		else if (strcmp(cmd, "gets") == 0)
			cmd_get(c, t, nt, true, false);
		else if (strcmp(cmd, "gat") == 0)
			cmd_get(c, t, nt, false, true);
		else if (strcmp(cmd, "gats") == 0)
			cmd_get(c, t, nt, true, true);
		else
			out_string(c, "ERROR");
	} else if (first == 's') {
		if (strcmp(cmd, "set") == 0) {
			WANT(nt == 6 || nt == 7);
			return cmd_update(c, t, nt, MC_SET, rest, avail);
		} else if (strcmp(cmd, "stats") == 0) {
			cmd_stats(c, t, nt);
		} else if (strcmp(cmd, "shutdown") == 0) {
			out_string(c, "ERROR: shutdown not enabled");
		} else {
			out_string(c, "ERROR");
		}
	} else if (first == 'a') {
		if (strcmp(cmd, "add") == 0) {
			WANT(nt == 6 || nt == 7);
			return cmd_update(c, t, nt, MC_ADD, rest, avail);
		} else if (strcmp(cmd, "append") == 0) {
			WANT(nt == 6 || nt == 7);
			return cmd_update(c, t, nt, MC_APPEND, rest, avail);
		}
		out_string(c, "ERROR");
	} else if (first == 'c') {
		if (strcmp(cmd, "cas") == 0) {
			WANT(nt == 7 || nt == 8);
			return cmd_update(c, t, nt, MC_CAS, rest, avail);
		} else if (strcmp(cmd, "cache_memlimit") == 0) {
			WANT(nt == 3 || nt == 4);
			cmd_memlimit(c, t, nt);
		} else {
			out_string(c, "ERROR");
		}
	} else if (first == 'i') {
		if (strcmp(cmd, "incr") == 0) {
			WANT(nt == 4 || nt == 5);
			cmd_delta(c, t, nt, true);
		} else {
			out_string(c, "ERROR");
		}
	} else if (first == 'd') {
		if (strcmp(cmd, "delete") == 0) {
			WANT(nt >= 3 && nt <= 5);
			cmd_delete(c, t, nt);
		} else if (strcmp(cmd, "decr") == 0) {
			WANT(nt == 4 || nt == 5);
			cmd_delta(c, t, nt, false);
		} else {
			out_string(c, "ERROR");
		}
	} else if (first == 't') {
		if (strcmp(cmd, "touch") == 0) {
			WANT(nt == 4 || nt == 5);
			cmd_touch(c, t, nt);
		} else {
			out_string(c, "ERROR");
		}
	} else if (strcmp(cmd, "replace") == 0) {
		WANT(nt == 6 || nt == 7);
		return cmd_update(c, t, nt, MC_REPLACE, rest, avail);
	} else if (strcmp(cmd, "prepend") == 0) {
		WANT(nt == 6 || nt == 7);
		return cmd_update(c, t, nt, MC_PREPEND, rest, avail);
	} else if (strcmp(cmd, "bget") == 0) {
		WANT(nt >= 3);
		cmd_get(c, t, nt, false, false);
	} else if (strcmp(cmd, "flush_all") == 0) {
		WANT(nt >= 2 && nt <= 4);
		cmd_flush_all(c, t, nt);
	} else if (strcmp(cmd, "version") == 0) {
		out_raw(c, "VERSION ", 8);
		out_raw(c, c->srv->version, strlen(c->srv->version));
		out_raw(c, "\r\n", 2);
	} else if (strcmp(cmd, "quit") == 0) {
		c->close = true;
	} else if (strcmp(cmd, "verbosity") == 0) {
		WANT(nt == 3 || nt == 4);
		cmd_verbosity(c, t, nt);
	} else if (t[nt - 2].v && strncmp(t[nt - 2].v, "HTTP/", 5) == 0) {
		c->close = true; /* an HTTP client on the memcached port */
	} else {
		out_string(c, "ERROR");
	}
#undef WANT
	return 0;
}

size_t mc_process(struct mc_conn *c, const uint8_t *data, size_t len)
{
	size_t pos = 0;

	while (pos < len && !c->close) {
		const uint8_t *p = data + pos, *nl;
		size_t avail = len - pos, ll, keep;
		char *line;
		long used;

		if (c->swallow) {
			size_t n = avail < c->swallow ? avail : (size_t)c->swallow;

			c->swallow -= n;
			pos += n;
			continue;
		}
		/* As memcached, look for the end of a line in its first MC_LINE_MAX bytes only,
		 * unless the line is a multi-get, which may be longer. */
		nl = memchr(p, '\n', avail < MC_LINE_MAX ? avail : MC_LINE_MAX);
		if (!nl && avail >= MC_LINE_MAX) {
			size_t sp = 0;

			while (sp < avail && p[sp] == ' ')
				sp++;
			if (sp > 100 || ((avail - sp < 4 || memcmp(p + sp, "get ", 4) != 0) &&
					 (avail - sp < 5 || memcmp(p + sp, "gets ", 5) != 0))) {
				c->close = true; /* junk, not a large multi-get */
				return len;
			}
			nl = memchr(p, '\n', avail);
			if (!nl && avail > MC_MULTIGET_LINE_MAX) {
				c->close = true;
				return len;
			}
		}
		if (!nl)
			break;
		ll = (size_t)(nl - p);
		keep = ll;
		if (ll > 1 && p[ll - 1] == '\r')
			keep = ll - 1;
		buf_reset(&c->line);
		line = (char *)buf_reserve(&c->line, keep + 1);
		if (!line) {
			c->close = true;
			return len;
		}
		memcpy(line, p, keep);
		line[keep] = '\0';
		used = command(c, line, nl + 1, avail - ll - 1);
		if (used == NEED_MORE)
			break;
		pos += ll + 1 + (size_t)used;
		c->requests++;
	}
	return pos;
}
