/* fuzz_http_parse.c: libFuzzer target for nhttpd's request parser. Whatever the bytes: a
 * parsed request's path starts with "/", holds no NUL, no "." or ".." segment (so it cannot
 * leave the root), and the bytes used are within the input; a failure carries a status. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "http_parse.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct http_limits lim;
	struct http_request r;
	size_t used = 0, off = 0;
	int st = 0;

	http_limits_default(&lim);
	for (int k = 0; k < 8 && off < size; k++) { /* pipelined heads */
		enum http_result res = http_parse(data + off, size - off, &lim, &r, &used, &st);

		if (res == HTTP_NEED_MORE)
			break;
		if (res == HTTP_FAIL) {
			if (st < 400 || st > 599)
				abort();
			break;
		}
		if (used == 0 || used > size - off || r.path[0] != '/' ||
		    strlen(r.path) >= HTTP_PATH_MAX || strstr(r.path, "/../") ||
		    strstr(r.path, "/./"))
			abort();
		{
			size_t n = strlen(r.path);

			if ((n >= 3 && strcmp(r.path + n - 3, "/..") == 0) ||
			    (n >= 2 && strcmp(r.path + n - 2, "/.") == 0))
				abort();
		}
		off += used;
	}
	return 0;
}
