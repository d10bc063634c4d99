/* test_mc_proto.c: the text protocol without a network: replies to a scripted session,
 * pipelining, and the metamorphic rule that cutting the same bytes into chunks of any size
 * changes nothing. (The byte-for-byte comparison with the real memcached is
 * apps/tests/mc_diff.py.) */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "mc_proto.h"
#include "test.h"

static int64_t mono = 1, wall = 1800000000;

static int64_t c_mono(void *a)
{
	(void)a;
	return mono;
}

static int64_t c_wall(void *a)
{
	(void)a;
	return wall;
}

struct fixture {
	struct mc_store *store;
	struct mc_server srv;
};

static void fx_init(struct fixture *f)
{
	struct mc_clock clk = {c_mono, c_wall, NULL};
	struct mc_store_config cfg = {.mem_limit = 8u << 20, .item_max = 1u << 20, .evict = true};

	memset(f, 0, sizeof(*f));
	ASSERT_OK(mc_store_create(&cfg, &clk, &f->store));
	f->srv.store = f->store;
	f->srv.version = "1.6.18-nom";
}

/* Feeds input in chunks of `chunk` bytes (0: all at once) the way the server layer does:
 * unconsumed bytes come again with the next chunk. Returns the replies (caller frees). */
static char *session(const char *input, size_t len, size_t chunk, bool *closed)
{
	struct fixture f;
	struct mc_conn c;
	struct buf pending = {0}, out = {0};
	size_t pos = 0;
	char *res;

	fx_init(&f);
	mc_conn_init(&c, &f.srv);
	while (pos < len && !c.close) {
		size_t n = chunk && chunk < len - pos ? chunk : len - pos, used;

		buf_append(&pending, input + pos, n);
		pos += n;
		used = mc_process(&c, buf_head(&pending), pending.len);
		buf_consume(&pending, used);
		buf_append(&out, buf_head(&c.out), c.out.len);
		buf_reset(&c.out);
		mc_store_check(f.store);
	}
	*closed = c.close;
	res = calloc(1, out.len + 1);
	if (out.len) /* an empty buf has no storage: memcpy from NULL is undefined even for 0 */
		memcpy(res, buf_head(&out), out.len);
	buf_free(&pending);
	buf_free(&out);
	mc_conn_fini(&c);
	mc_store_destroy(f.store);
	return res;
}

static const char script[] =
	"set a 5 0 3\r\nabc\r\n"
	"get a b\r\n"
	"gets a\r\n"
	"add a 0 0 1\r\nz\r\n"
	"append a 9 9 2\r\nde\r\n"
	"prepend a 0 0 1 noreply\r\n>\r\n"
	"get a\r\n"
	"cas a 0 0 1 99\r\nq\r\n"
	"cas a 0 0 1 3\r\nq\r\n"
	"incr a 1\r\n"
	"set n 0 0 2\r\n10\r\n"
	"incr n 5\r\ndecr n 100\r\nget n\r\n"
	"touch n 100\r\ntouch zz 1\r\n"
	"delete n\r\ndelete n\r\ndelete n 0\r\ndelete n 5\r\n"
	"set big 0 0 2000000\r\n"; /* too large: the value is swallowed */

static const char expected[] =
	"STORED\r\n"
	"VALUE a 5 3\r\nabc\r\nEND\r\n"
	"VALUE a 5 3 1\r\nabc\r\nEND\r\n"
	"NOT_STORED\r\n"
	"STORED\r\n"
	"VALUE a 5 6\r\n>abcde\r\nEND\r\n"
	"EXISTS\r\n"
	"STORED\r\n"
	"CLIENT_ERROR cannot increment or decrement non-numeric value\r\n"
	"STORED\r\n"
	"15\r\n0\r\nVALUE n 0 2\r\n0 \r\nEND\r\n"
	"TOUCHED\r\nNOT_FOUND\r\n"
	"DELETED\r\nNOT_FOUND\r\nNOT_FOUND\r\n"
	"CLIENT_ERROR bad command line format.  Usage: delete <key> [noreply]\r\n"
	"SERVER_ERROR object too large for cache\r\n";

int main(void)
{
	char *whole, *again;
	bool closed;
	size_t slen = strlen(script);

	whole = session(script, slen, 0, &closed);
	ASSERT_STR_EQ(whole, expected);
	ASSERT_TRUE(!closed);

	/* Any chunking gives the same replies. */
	static const size_t chunks[] = {1, 2, 3, 5, 7, 13, 64, 1000};
	for (size_t i = 0; i < sizeof(chunks) / sizeof(chunks[0]); i++) {
		again = session(script, slen, chunks[i], &closed);
		if (strcmp(again, whole) != 0)
			TEST_FAIL("chunks of %zu: replies differ:\n%s\nvs\n%s", chunks[i], again,
				  whole);
		free(again);
	}
	free(whole);

	/* The swallowed value, then commands again. */
	{
		size_t n = 2000000;
		char *in = malloc(n + 64), *r;
		size_t l = (size_t)sprintf(in, "set big 0 0 %zu\r\n", n);

		memset(in + l, 'v', n);
		memcpy(in + l + n, "\r\nget big\r\n", 11);
		r = session(in, l + n + 11, 65536, &closed);
		ASSERT_STR_EQ(r, "SERVER_ERROR object too large for cache\r\nEND\r\n");
		free(r);
		free(in);
	}

	/* Odd lines. */
	{
		static const char in[] = "\r\n\n  \r\nbogus\r\nget\r\nset a\r\nset a 0 0 -1\r\n"
					 "set a 0 0 3\r\nabcd\r\nversion\r\nquit\r\nget a\r\n";
		char *r = session(in, sizeof(in) - 1, 0, &closed);

		ASSERT_STR_EQ(r, "ERROR\r\nERROR\r\nERROR\r\nERROR\r\nERROR\r\nERROR\r\n"
				 "CLIENT_ERROR bad command line format\r\n"
				 "CLIENT_ERROR bad data chunk\r\nERROR\r\nVERSION 1.6.18-nom\r\n");
		ASSERT_TRUE(closed);
		free(r);
	}

	/* A long line without an end that is not a multi-get closes the connection. */
	{
		static char in[20000];
		char *r;

		memset(in, 'x', sizeof(in));
		r = session(in, sizeof(in), 0, &closed);
		ASSERT_TRUE(closed);
		ASSERT_STR_EQ(r, "");
		free(r);
	}
	printf("test_mc_proto: ok\n");
	return 0;
}
