/* fuzz_testbed.c: libFuzzer target for the testbed file: any text loads or fails with one
 * FILE:LINE: key: why message, and a loaded testbed's names and indexes are in range. */
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
		for (int i = 0; i < tb.nevents; i++)
			if (tb.events[i].host < 0 || tb.events[i].host >= tb.nhosts)
				abort();
		tb_fini(&tb);
	} else {
		cfg_error_format(&err, buf, sizeof(buf));
	}
	unlink(path);
	return 0;
}
