/* fuzz_config.c: libFuzzer target for the INI loader: any text loads or fails with a message. */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "common/config.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static const struct cfg_key schema[] = {
	{"market", "round_ms", CFG_DURATION, "1000ms", ""},
	{"market", "tenants", CFG_INT, NULL, ""},
	{"market", "on", CFG_BOOL, "false", ""},
	{"pool.*", "model", CFG_STRING, "uniform", ""},
	{"pool.*", "reserve", CFG_MONEY, "$0", ""},
	{"pool.*", "weight", CFG_DOUBLE, "1", ""},
};

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct cfg *c;
	struct cfg_error err;
	char *text = malloc(size + 1);

	if (!text || cfg_create(schema, sizeof(schema) / sizeof(schema[0]), &c)) {
		free(text);
		return 0;
	}
	memcpy(text, data, size);
	text[size] = '\0';
	if (cfg_load_string(c, "fuzz", text, &err) == 0) {
		char *dump = cfg_dump(c);
		free(dump);
	} else {
		char buf[1024];
		cfg_error_format(&err, buf, sizeof(buf));
	}
	cfg_destroy(c);
	free(text);
	return 0;
}
