/* mc_proto.h: the memcached text protocol of nom-memcached, as a pure state machine.
 *
 * mc_process() takes bytes a client sent and appends the replies to the connection's output
 * buffer; it does no I/O, so the same code runs over nomnet, over kernel sockets, in the fuzz
 * target and in unit tests. It follows memcached 1.6 (Debian's 1.6.18) byte for byte where a
 * client can tell: how lines end ("\r\n" or "\n"), how a line splits into tokens (spaces
 * only, at most 24), which number syntax each field takes and how out-of-range numbers wrap
 * (memcached parses with strtoul/strtol into 32-bit fields), every error string, when
 * noreply silences a reply, how the data block of a store command is checked and how an
 * over-size value is swallowed. The differential test (apps/tests/mc_diff.py) holds it to
 * that against the real memcached.
 *
 * Commands: get gets gat gats set add replace append prepend cas delete incr decr touch
 * flush_all stats (with reset, settings, items, slabs, conns) version verbosity quit shutdown
 * cache_memlimit; noreply where memcached takes it. Not supported: the binary protocol and
 * the meta commands (mg, ms, ...), which get ERROR. */
#ifndef MC_PROTO_H
#define MC_PROTO_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "app/buf.h"
#include "mc_store.h"

/* A line with no "\n" in this many bytes closes the connection, unless it starts a
 * multi-get. memcached decides at 2048 bytes of what one read returned (up to 16 KiB); over
 * nomnet a line arrives one segment at a time, so deciding at 2048 would close connections
 * that memcached serves: we decide at memcached's read size instead. */
#define MC_LINE_MAX 16384
#define MC_MULTIGET_LINE_MAX (1u << 20) /* our bound on a multi-get line */

/* What every connection of a server shares. */
struct mc_server {
	struct mc_store *store;
	const char *version;       /* after "VERSION " */
	int64_t started_wall_s;
	uint32_t pid;
	uint64_t curr_conns, total_conns;
	uint64_t cmd_get, cmd_touch_get;
	int verbosity;
	/* Extra "STAT name value" lines for `stats` (e.g. nomnet's counters), or NULL. */
	void (*extra_stats)(void *arg, struct buf *out);
	void *extra_arg;
};

struct mc_conn {
	struct mc_server *srv;
	struct buf out;            /* replies not yet handed to the transport */
	struct buf line;           /* scratch: the current command line */
	uint64_t swallow;          /* bytes of an over-size value still to drop */
	uint64_t requests;         /* commands completed */
	bool noreply;
	bool close;                /* quit, or a protocol violation: close after `out` */
};

void mc_conn_init(struct mc_conn *c, struct mc_server *srv);
void mc_conn_fini(struct mc_conn *c);

/* Processes as many complete commands of data[0..len) as there are; returns how many bytes
 * were consumed (the rest must be given again with what follows). Replies go to c->out;
 * c->close asks the caller to close once they are sent. */
size_t mc_process(struct mc_conn *c, const uint8_t *data, size_t len);

#endif
