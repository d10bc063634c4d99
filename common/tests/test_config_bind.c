/* test_config_bind.c: config keys bound to a struct by one table (config.h, "Binding by
 * table"): the schema, defaults, typed loading, range checks and their texts, --help-config.
 *
 * The table binds every type once. The good file sets each key to a value other than its
 * default, so each assertion shows the value came from the file (or, for the keys left out,
 * from the table's default); each bad value is then refused with FILE:LINE: KEY: and the
 * range the table gives. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "common/config.h"
#include "common/error.h"
#include "test.h"

struct demo {
	char endpoint[16];
	int64_t round_ms;
	int32_t workers;
	int64_t timeout_ns;
	money_t reserve;
	double weight;
	bool sync;
	size_t batch;
};

#define F(field) CFG_FIELD(struct demo, field)
static const struct cfg_bind binds[] = {
	{"demo", "endpoint", CFG_STRING, F(endpoint), "tcp://x:1", CFG_ANY, "where to listen"},
	{"demo", "round_ms", CFG_INT, F(round_ms), "1000", 10, 3600000, "round length, ms"},
	{"demo", "workers", CFG_INT, F(workers), "2", 1, 64, "threads"},
	{"demo", "timeout", CFG_DURATION, F(timeout_ns), "4s", 10000000, INT64_MAX,
	 "request timeout"},
	{"demo", "reserve", CFG_MONEY, F(reserve), "$0.25", 0, 100000000000, "reserve price"},
	{"demo", "weight", CFG_DOUBLE, F(weight), "1.5", CFG_ANY, "weight"},
	{"demo", "sync", CFG_BOOL, F(sync), "true", CFG_ANY, "fsync every commit"},
	{"demo", "batch", CFG_INT, F(batch), NULL, 1, 1 << 20, "most per transaction"},
	{"pool.*", "model", CFG_STRING, CFG_UNBOUND, "uniform", CFG_ANY, "read by hand"},
};
#define NBINDS (sizeof(binds) / sizeof(binds[0]))
static const struct cfg_key extra[] = {{"demo", "http_port", CFG_INT, "0", "an extra key"}};

static char errbuf[1024];

/* Loads text; returns the error text, or NULL when it loaded. */
static const char *load(const char *text, struct demo *d)
{
	struct cfg *c;
	struct cfg_error err;
	int rc;

	memset(&err, 0, sizeof(err));
	ASSERT_OK(cfg_create_bind(binds, NBINDS, extra, 1, &c));
	rc = cfg_load_string(c, "demo.ini", text, &err);
	if (!rc)
		rc = cfg_bind_load(c, binds, NBINDS, d, &err);
	cfg_destroy(c);
	if (!rc)
		return NULL;
	ASSERT_EQ(rc, -RAAS_ECONFIG);
	return cfg_error_format(&err, errbuf, sizeof(errbuf));
}

static int refused;

static void expect(const char *text, const char *message)
{
	struct demo d;
	const char *got = load(text, &d);

	if (!got)
		TEST_FAIL("accepted %s", text);
	ASSERT_STR_EQ(got, message);
	refused++;
}

int main(void)
{
	struct demo d;
	char buf[64];

	/* Defaults from the table; a required key's field is left alone. */
	memset(&d, 0x5a, sizeof(d));
	ASSERT_OK(cfg_bind_defaults(binds, NBINDS, &d));
	ASSERT_STR_EQ(d.endpoint, "tcp://x:1");
	ASSERT_EQ(d.round_ms, 1000);
	ASSERT_EQ(d.workers, 2);
	ASSERT_EQ(d.timeout_ns, 4000000000);
	ASSERT_EQ(d.reserve, 250000000);
	ASSERT_TRUE(d.weight == 1.5);
	ASSERT_EQ(d.sync, true);
	ASSERT_EQ(d.batch, 0x5a5a5a5a5a5a5a5a);

	/* Every bound key from the file, each differing from its default. */
	memset(&d, 0, sizeof(d));
	ASSERT_TRUE(load("[demo]\nendpoint = ipc:///a\nround_ms = 250\nworkers = 64\n"
			 "timeout = 10ms\nreserve = $1.10\nweight = 0.25\nsync = off\n"
			 "batch = 4096\nhttp_port = 8080\n[pool.a]\nmodel = vcg\n",
			 &d) == NULL);
	ASSERT_STR_EQ(d.endpoint, "ipc:///a");
	ASSERT_EQ(d.round_ms, 250);
	ASSERT_EQ(d.workers, 64);
	ASSERT_EQ(d.timeout_ns, 10000000);
	ASSERT_EQ(d.reserve, 1100000000);
	ASSERT_TRUE(d.weight == 0.25);
	ASSERT_EQ(d.sync, false);
	ASSERT_EQ(d.batch, 4096);
	/* The keys left out take their defaults. */
	memset(&d, 0, sizeof(d));
	ASSERT_TRUE(load("[demo]\nbatch = 1\n", &d) == NULL);
	ASSERT_EQ(d.round_ms, 1000);
	ASSERT_EQ(d.timeout_ns, 4000000000);
	ASSERT_STR_EQ(d.endpoint, "tcp://x:1");

	/* Ranges, lengths and a missing required key, at the value's origin. */
	expect("[demo]\nbatch = 1\nround_ms = 5\n",
	       "demo.ini:3: demo.round_ms: 5 is outside 10..3600000");
	expect("[demo]\nround_ms = 3600001\nbatch = 1\n",
	       "demo.ini:2: demo.round_ms: 3600001 is outside 10..3600000");
	expect("[demo]\nbatch = 1\nworkers = 0\n", "demo.ini:3: demo.workers: 0 is outside 1..64");
	expect("[demo]\nbatch = 1\nworkers = 4294967297\n",
	       "demo.ini:3: demo.workers: \"4294967297\" is not a number that fits 32 bits");
	expect("[demo]\nbatch = 1\ntimeout = 9ms\n",
	       "demo.ini:3: demo.timeout: 9ms is below 10ms");
	expect("[demo]\nbatch = 1\nreserve = $101\n",
	       "demo.ini:3: demo.reserve: $101.00 is outside $0.00..$100.00");
	expect("[demo]\nbatch = 1\nendpoint = tcp://long:12345\n",
	       "demo.ini:3: demo.endpoint: longer than 15 characters");
	expect("[demo]\nbatch = 0\n", "demo.ini:2: demo.batch: 0 is outside 1..1048576");
	struct cfg *c;
	struct cfg_error err;
	ASSERT_OK(cfg_create_bind(binds, NBINDS, NULL, 0, &c));
	ASSERT_EQ(cfg_bind_load(c, binds, NBINDS, &d, &err), -RAAS_ECONFIG);
	ASSERT_STR_CONTAINS(cfg_error_format(&err, errbuf, sizeof(errbuf)), "demo.batch");
	refused++;
	/* The extra key is in the schema only when given. */
	struct cfg_error e2;
	ASSERT_EQ(cfg_load_string(c, "x.ini", "[demo]\nhttp_port = 1\n", &e2), -RAAS_ECONFIG);
	cfg_destroy(c);

	/* A malformed table is refused before it is used. */
	struct cfg_bind bad[] = {binds[2]};
	bad[0].size = 2;
	ASSERT_EQ(cfg_create_bind(bad, 1, NULL, 0, &c), -EINVAL);
	ASSERT_EQ(cfg_bind_defaults(bad, 1, &d), -EINVAL);
	struct cfg_bind pattern[] = {binds[0]};
	pattern[0].section = "pool.*";
	ASSERT_EQ(cfg_create_bind(pattern, 1, NULL, 0, &c), -EINVAL);

	/* --help-config from the same table. */
	char *text = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&text, &len);
	ASSERT_TRUE(f != NULL);
	cfg_help(f, binds, NBINDS, extra, 1);
	fclose(f);
	ASSERT_STR_CONTAINS(text, "[demo] round_ms = 1000  (10..3600000)\n    round length, ms\n");
	ASSERT_STR_CONTAINS(text, "[demo] timeout = 4s  (at least 10ms)\n");
	ASSERT_STR_CONTAINS(text, "[demo] batch = (required)  (1..1048576)\n");
	ASSERT_STR_CONTAINS(text, "[demo] sync = true\n    fsync every commit\n");
	ASSERT_STR_CONTAINS(text, "[pool.*] model = uniform\n");
	ASSERT_STR_CONTAINS(text, "[demo] http_port = 0\n    an extra key\n");
	free(text);

	ASSERT_STR_EQ(cfg_format_duration(250000000, buf, sizeof(buf)), "250ms");
	ASSERT_STR_EQ(cfg_format_duration(INT64_C(7200000000000), buf, sizeof(buf)), "2h");
	ASSERT_STR_EQ(cfg_format_duration(1500, buf, sizeof(buf)), "1500ns");
	ASSERT_STR_EQ(cfg_format_duration(0, buf, sizeof(buf)), "0ns");

	printf("config binding: 8 keys of 6 types bound, %d bad values refused with their place\n",
	       refused);
	ASSERT_EQ(refused, 9);
	return 0;
}
