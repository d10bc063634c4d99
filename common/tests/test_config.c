/* test_config.c: schema-checked INI loading, overrides, typed getters and error texts. */
#include <errno.h>
#include <stdlib.h>
#include <unistd.h>

#include "common/config.h"
#include "common/error.h"
#include "test.h"

static const struct cfg_key schema[] = {
	{"market", "round_ms", CFG_DURATION, "1000ms", "round length"},
	{"market", "ledger", CFG_STRING, "./raas-ledger.sqlite", "ledger path"},
	{"market", "tenants", CFG_INT, NULL, "expected tenants"},
	{"market", "public", CFG_BOOL, "false", "serve HTTP beyond loopback"},
	{"pool.*", "model", CFG_STRING, "uniform", "pricing model"},
	{"pool.*", "reserve", CFG_MONEY, "$0.00", "reserve price"},
	{"pool.*", "weight", CFG_DOUBLE, "1.0", "weight"},
};
#define NKEYS (sizeof(schema) / sizeof(schema[0]))

static char errbuf[1024];

static const char *fmt(const struct cfg_error *e)
{
	return cfg_error_format(e, errbuf, sizeof(errbuf));
}

static void test_good_file_and_overrides(void)
{
	struct cfg *c;
	struct cfg_error err;
	int64_t ns, n;
	money_t m;
	bool b;
	const char *s;
	const char *names[4];

	ASSERT_OK(cfg_create(schema, NKEYS, &c));
	ASSERT_OK(cfg_load_string(c, "market.ini",
				  "; comment\n"
				  "[market]\n"
				  "round_ms = 250ms\n"
				  "tenants = 12\n"
				  "\n"
				  "[pool.cores]\n"
				  "model = vcg\n"
				  "reserve = $0.05\n"
				  "[pool.memory]\n"
				  "reserve = 0.001\n",
				  &err));
	ASSERT_OK(cfg_get_duration(c, "market", "round_ms", &ns, &err));
	ASSERT_EQ(ns, 250000000);
	ASSERT_OK(cfg_get_int(c, "market", "tenants", &n, &err));
	ASSERT_EQ(n, 12);
	ASSERT_OK(cfg_get_string(c, "market", "ledger", &s, &err));
	ASSERT_STR_EQ(s, "./raas-ledger.sqlite"); /* default */
	ASSERT_OK(cfg_get_bool(c, "market", "public", &b, &err));
	ASSERT_EQ(b, false);
	ASSERT_OK(cfg_get_money(c, "pool.cores", "reserve", &m, &err));
	ASSERT_EQ(m, 50000000);
	ASSERT_STR_EQ(cfg_get(c, "pool.memory", "model"), "uniform");
	ASSERT_EQ(cfg_sections(c, "pool.*", names, 4), 2);
	ASSERT_STR_EQ(names[0], "pool.cores");
	ASSERT_STR_EQ(names[1], "pool.memory");
	/* A section declared by its header alone still exists, with its defaults. */
	ASSERT_OK(cfg_load_string(c, "more.ini", "[pool.llc]\n", &err));
	ASSERT_EQ(cfg_sections(c, "pool.*", names, 4), 3);
	ASSERT_STR_EQ(names[2], "pool.llc");
	ASSERT_STR_EQ(cfg_get(c, "pool.llc", "model"), "uniform");

	ASSERT_OK(cfg_set_override(c, "pool.cores.model=psp", &err));
	ASSERT_STR_EQ(cfg_get(c, "pool.cores", "model"), "psp");
	ASSERT_OK(cfg_set_override(c, "market.round_ms=10ms", &err));
	ASSERT_OK(cfg_get_duration(c, "market", "round_ms", &ns, &err));
	ASSERT_EQ(ns, 10000000);

	char *dump = cfg_dump(c);
	ASSERT_STR_CONTAINS(dump, "[pool.cores]\nmodel = psp\nreserve = $0.05\nweight = 1.0\n");
	ASSERT_STR_CONTAINS(dump, "round_ms = 10ms");
	ASSERT_STR_CONTAINS(dump, "ledger = ./raas-ledger.sqlite");
	ASSERT_STR_CONTAINS(dump, "[pool.llc]\nmodel = uniform\n");
	/* The dump reads back to the same values. */
	struct cfg *again;
	ASSERT_OK(cfg_create(schema, NKEYS, &again));
	ASSERT_OK(cfg_load_string(again, "dump", dump, &err));
	ASSERT_STR_EQ(cfg_get(again, "pool.cores", "model"), "psp");
	free(dump);
	cfg_destroy(again);
	cfg_destroy(c);
}

static void expect_load_error(const char *text, const char *message)
{
	struct cfg *c;
	struct cfg_error err;

	ASSERT_OK(cfg_create(schema, NKEYS, &c));
	ASSERT_OK(cfg_load_string(c, "base.ini", "[market]\ntenants = 3\n", &err));
	ASSERT_EQ(cfg_load_string(c, "bad.ini", text, &err), -RAAS_ECONFIG);
	ASSERT_STR_EQ(fmt(&err), message);
	/* Nothing of the bad file was kept. */
	ASSERT_STR_EQ(cfg_get(c, "market", "tenants"), "3");
	ASSERT_STR_EQ(cfg_get(c, "market", "round_ms"), "1000ms");
	cfg_destroy(c);
}

static void test_errors(void)
{
	expect_load_error("[market]\nround_ms = 5ms\nrond_ms = 10ms\n",
			  "bad.ini:3: market.rond_ms: unknown key (did you mean 'round_ms'?)");
	expect_load_error("[market]\ntenants = 4\nround_ms = 10\n",
			  "bad.ini:3: market.round_ms: '10' is not a duration with a unit such as "
			  "250ms, 10s or 1h");
	expect_load_error("[markt]\n", "bad.ini:1: [markt]: unknown section (did you mean [market]?)");
	expect_load_error("\n[market]\ntenants = 4\ntenants = 5\n",
			  "bad.ini:4: market.tenants: given twice (first at line 3)");
	expect_load_error("[pool.x]\nreserve = 0.0000000001\n",
			  "bad.ini:2: pool.x.reserve: '0.0000000001' is not a dollar amount such as "
			  "$0.25: more than 9 decimals (finer than a nanodollar)");
	expect_load_error("[market]\nthis line has no equals sign\n",
			  "bad.ini:2: syntax error: expected '[section]' or 'key = value'");
	expect_load_error("tenants = 3\n", "bad.ini:1: key 'tenants' before any [section]");
	expect_load_error("[market]\npublic = maybe\n",
			  "bad.ini:2: market.public: 'maybe' is not true or false");
	expect_load_error("[zzzzzzzz]\n", "bad.ini:1: [zzzzzzzz]: unknown section");
	{
		/* Past the reader's limit: named at its own line, not read as two lines. */
		char text[400];
		snprintf(text, sizeof(text), "[market]\nledger = %0290d\ntenants = 4\n", 7);
		expect_load_error(text, "bad.ini:2: line longer than 198 characters (the INI "
					"reader's limit)");
		/* At the limit, with or without a final newline, the line is read whole. */
		struct cfg *c;
		struct cfg_error err;
		ASSERT_OK(cfg_create(schema, NKEYS, &c));
		snprintf(text, sizeof(text), "[market]\nledger = %0189d\n", 7);
		ASSERT_OK(cfg_load_string(c, "edge.ini", text, &err));
		ASSERT_EQ(strlen(cfg_get(c, "market", "ledger")), 189);
		snprintf(text, sizeof(text), "[market]\nledger = %0190d", 8);
		ASSERT_OK(cfg_load_string(c, "edge2.ini", text, &err));
		ASSERT_EQ(strlen(cfg_get(c, "market", "ledger")), 190);
		cfg_destroy(c);
	}

	struct cfg *c;
	struct cfg_error err;
	int64_t n;
	ASSERT_OK(cfg_create(schema, NKEYS, &c));
	ASSERT_EQ(cfg_set_override(c, "market.tenant=3", &err), -RAAS_ECONFIG);
	ASSERT_STR_EQ(fmt(&err), "--set: market.tenant: unknown key (did you mean 'tenants'?)");
	ASSERT_EQ(cfg_set_override(c, "nodot=3", &err), -RAAS_ECONFIG);
	ASSERT_STR_EQ(fmt(&err), "--set: 'nodot=3' is not section.key=value");
	ASSERT_EQ(cfg_set_override(c, "market.tenants", &err), -RAAS_ECONFIG);
	/* A required key that is missing, and a consumer's range error at the value's origin. */
	ASSERT_EQ(cfg_get_int(c, "market", "tenants", &n, &err), -RAAS_ECONFIG);
	ASSERT_STR_EQ(fmt(&err), "market.tenants: missing (no default)");
	ASSERT_OK(cfg_load_string(c, "m.ini", "[market]\n\ntenants = -2\n", &err));
	ASSERT_OK(cfg_get_int(c, "market", "tenants", &n, &err));
	ASSERT_EQ(cfg_error_at(c, "market", "tenants", &err, "must be positive, not %lld",
			       (long long)n),
		  -RAAS_ECONFIG);
	ASSERT_STR_EQ(fmt(&err), "m.ini:3: market.tenants: must be positive, not -2");
	ASSERT_EQ(cfg_load_file(c, "/nonexistent/raas.ini", &err), -ENOENT);
	ASSERT_STR_EQ(fmt(&err), "/nonexistent/raas.ini: cannot open: No such file or directory");
	cfg_destroy(c);
}

static void test_file(void)
{
	char path[] = "/tmp/raas-test-config-XXXXXX";
	int fd = mkstemp(path);
	struct cfg *c;
	struct cfg_error err;

	ASSERT_TRUE(fd >= 0);
	const char text[] = "[pool.bw]\nmodel = psp\nweight = x\n";
	ASSERT_EQ(write(fd, text, sizeof(text) - 1), (ssize_t)(sizeof(text) - 1));
	close(fd);
	ASSERT_OK(cfg_create(schema, NKEYS, &c));
	ASSERT_EQ(cfg_load_file(c, path, &err), -RAAS_ECONFIG);
	char want[512];
	snprintf(want, sizeof(want), "%s:3: pool.bw.weight: 'x' is not a number", path);
	ASSERT_STR_EQ(fmt(&err), want);
	unlink(path);
	cfg_destroy(c);
}

static void test_parsers(void)
{
	int64_t ns;

	ASSERT_OK(cfg_parse_duration("40us", &ns));
	ASSERT_EQ(ns, 40000);
	ASSERT_OK(cfg_parse_duration("1.5h", &ns));
	ASSERT_EQ(ns, INT64_C(5400000000000));
	ASSERT_OK(cfg_parse_duration("0s", &ns));
	ASSERT_EQ(ns, 0);
	ASSERT_EQ(cfg_parse_duration("-1s", &ns), -RAAS_EPARSE);
	ASSERT_EQ(cfg_parse_duration("10 s", &ns), -RAAS_EPARSE);
	ASSERT_EQ(cfg_parse_duration("10fortnights", &ns), -RAAS_EPARSE);
}

int main(void)
{
	test_good_file_and_overrides();
	test_errors();
	test_file();
	test_parsers();
	printf("test_config: ok\n");
	return 0;
}
