/* fuzz_np_proto.c: libFuzzer target for the NetPIPE receiver: any bytes are consumed without
 * crashing, the receiver never sends more than it received plus its sync strings, and it
 * stops for good after an error or QUIT. */
#include <stdint.h>
#include <stdlib.h>

#include "np_proto.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct np_conn c;
	size_t used = 0, sent = 0;

	np_conn_init(&c, 1, 3);
	while (used < size) {
		size_t k = size - used > 97 ? 97 : size - used;
		size_t n = np_process(&c, data + used, k);

		if (n > k)
			abort();
		used += n;
		sent += c.out.len;
		buf_reset(&c.out);
		if (c.state == NP_DONE || c.state == NP_ERROR)
			break;
		if (n < k)
			abort(); /* the receiver takes everything while it runs */
	}
	if (sent > used + 6 * (size / 5 + 2) + 5)
		abort();
	np_conn_fini(&c);
	return 0;
}
