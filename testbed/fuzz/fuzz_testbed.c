/* fuzz_testbed.c: libFuzzer target for the testbed file: any text loads or fails with one
 * FILE:LINE: key: why message, and a loaded testbed's names and indexes are in range (an
 * event's host and resource as its action takes them; tenants' bids within their host's). */
#include <stdbool.h>
#include <stdio.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "testbed/testbed.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static char path[64];
	static struct testbed tb;
	struct cfg_error err;
	char buf[1024];

	if (!path[0])
		snprintf(path, sizeof(path), "/tmp/fuzz-testbed-%d.ini", (int)getpid());
	FILE *f = fopen(path, "w");
	if (!f)
		return 0;
	fwrite(data, 1, size, f);
	fclose(f);
	if (tb_load(path, &tb, &err) == 0) {
		for (int i = 0; i < tb.ntenants; i++)
			if (tb.tenants[i].host < 0 || tb.tenants[i].host >= tb.nhosts ||
			    tb.tenants[i].nphases < 1)
				abort();
		for (int i = 0; i < tb.nevents; i++) {
			const struct tb_event *e = &tb.events[i];
			bool host = e->kind != TB_EV_PRICE, res = e->kind != TB_EV_HOST_FAIL;
			if (host != (e->host >= 0) || e->host >= tb.nhosts ||
			    res != (e->resource >= 0) || e->resource >= tb.nresources ||
			    (e->kind == TB_EV_SUPPLY && e->supply < 0) ||
			    (e->kind == TB_EV_PRICE && !e->params[0] && !e->model[0]))
				abort();
		}
		for (int i = 0; i < tb.ntenants; i++) {
			const struct tb_tenant *t = &tb.tenants[i];
			if (t->cores > tb.hosts[t->host].cores ||
			    t->memory_mib > tb.hosts[t->host].memory_mib ||
			    (t->cores && (t->cores_price <= 0 || t->cores_min < 1)) ||
			    (t->memory_mib && (t->memory_price <= 0 || t->memory_min < 1)))
				abort();
		}
		tb_fini(&tb);
	} else {
		cfg_error_format(&err, buf, sizeof(buf));
	}
	unlink(path);
	return 0;
}
