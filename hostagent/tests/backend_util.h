/* backend_util.h: opening one backend over an INI snippet in tests. Header-only. */
#ifndef HOSTAGENT_TESTS_BACKEND_UTIL_H
#define HOSTAGENT_TESTS_BACKEND_UTIL_H

#include <stdio.h>
#include <stdlib.h>

#include "hostagent/agent_config.h"
#include "hostagent/enf.h"
#include "test.h"

/* Loads text as an agent config; aborts the test on error. */
static inline struct ha_config *load_config(const char *text)
{
	struct ha_config *c;
	struct cfg_error err;
	char buf[1024];
	if (ha_config_load_string("test.ini", text, &c, &err))
		TEST_FAIL("config: %s", cfg_error_format(&err, buf, sizeof(buf)));
	return c;
}

static inline struct enf_handle *open_backend(const char *name, struct ha_config *c)
{
	struct enf_handle *h;
	struct enf_error err;
	if (enf_open(name, c->cfg, c->targets, c->ntargets, &h, &err))
		TEST_FAIL("open %s: %s", name, err.message);
	return h;
}

static inline int read_file(const char *path, char *buf, size_t len)
{
	FILE *f = fopen(path, "r");
	if (!f)
		return -1;
	size_t n = fread(buf, 1, len - 1, f);
	buf[n] = '\0';
	fclose(f);
	return (int)n;
}

static inline void write_file(const char *path, const char *text)
{
	FILE *f = fopen(path, "w");
	if (!f || fputs(text, f) < 0)
		TEST_FAIL("cannot write %s", path);
	fclose(f);
}

#endif
