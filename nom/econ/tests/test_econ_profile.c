/* test_econ_profile.c: the profile CSV parser, the loader and each error path's message. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "common/error.h"
#include "nom/econ_profile.h"
#include "test.h"

static char msg[1024];

static const char *fmt(const struct econ_error *e)
{
	return econ_error_format(e, msg, sizeof(msg));
}

static int parse(const char *text, struct econ_profile **out, struct econ_error *err)
{
	return econ_profile_parse("p.csv", text, strlen(text), out, err);
}

static void test_good(void)
{
	struct econ_profile *p;
	struct econ_error err;
	const char *text =
		"# memcached, thesis-like\r\n"
		"\n"
		"  # indented comment\n"
		"app, load ,delay_us,latency_us,throughput_rps,jitter_us,bytes_per_request,source\r\n"
		"memcached,many,14,77,40000,7.7,1100,\"thesis: 40K ops/s at 77 us, delay 14\"\r\n"
		"memcached,many,10,74,38000,7.4,1100,\"thesis: \"\"38K\"\" at 74 us\"\n"
		"memcached,single,0,30,33333,3,1100,\n"
		"nhttpd,many,12,120,20000,12,4300,assumed\n"
		"memcached,many,0,66.5,33000,6.65,1100, derived \n";

	ASSERT_OK(parse(text, &p, &err));
	econ_profile_check(p);
	ASSERT_STR_EQ(p->name, "p.csv");
	ASSERT_EQ(p->napps, 2);
	ASSERT_STR_EQ(p->apps[0].name, "memcached");
	ASSERT_STR_EQ(p->apps[1].name, "nhttpd");
	const struct econ_app *mc = econ_profile_app(p, "memcached");
	ASSERT_TRUE(mc == &p->apps[0]);
	ASSERT_TRUE(econ_profile_app(p, "nginx") == NULL);
	ASSERT_EQ(mc->nlevels, 2);
	const struct econ_level *many = econ_app_level(mc, "many");
	ASSERT_TRUE(many != NULL);
	ASSERT_TRUE(econ_app_level(mc, "few") == NULL);
	ASSERT_EQ(many->npoints, 3);
	/* Sorted by delay, whatever the file's order. */
	ASSERT_NEAR(many->points[0].delay_us, 0, 0);
	ASSERT_NEAR(many->points[1].delay_us, 10, 0);
	ASSERT_NEAR(many->points[2].delay_us, 14, 0);
	ASSERT_EQ(many->points[0].line, 9);
	ASSERT_EQ(many->points[2].line, 5);
	ASSERT_NEAR(many->points[1].tput_rps, 38000, 0);
	ASSERT_NEAR(many->points[1].latency_us, 74, 0);
	ASSERT_NEAR(many->points[1].jitter_us, 7.4, 0);
	ASSERT_NEAR(many->points[0].latency_us, 66.5, 0);
	ASSERT_NEAR(econ_point_gbps(&many->points[2]), 0.352, 1e-15);
	ASSERT_TRUE(econ_level_at(many, 10) == &many->points[1]);
	ASSERT_TRUE(econ_level_at(many, 11) == NULL);
	ASSERT_TRUE(econ_level_best_tput(many) == &many->points[2]);
	ASSERT_TRUE(econ_level_best_latency(many) == &many->points[0]);
	econ_profile_destroy(p);
}

/* Each bad input, the place and the words of its message. */
static void expect_error(const char *text, int code, const char *place, const char *words)
{
	struct econ_profile *p = NULL;
	struct econ_error err;

	int rc = parse(text, &p, &err);
	if (rc != code)
		TEST_FAIL("expected %d, got %d (%s) for:\n%s", code, rc, fmt(&err), text);
	ASSERT_TRUE(p == NULL);
	ASSERT_STR_CONTAINS(fmt(&err), place);
	ASSERT_STR_CONTAINS(fmt(&err), words);
}

#define HDR "app,load,delay_us,throughput_rps,latency_us,jitter_us,bytes_per_request\n"

static void test_errors(void)
{
	expect_error("", -RAAS_EPARSE, "p.csv: ", "no header line");
	expect_error("# only comments\n\n", -RAAS_EPARSE, "p.csv: ", "no header line");
	expect_error(HDR, -RAAS_EPARSE, "p.csv: ", "no data rows");
	expect_error("app,load,delay_us,throughput_rps,latency_us,jitter_us\n", -RAAS_EPARSE,
		     "p.csv:1: header: ", "missing column 'bytes_per_request'");
	expect_error("app,load,delay,throughput_rps\n", -RAAS_EPARSE, "p.csv:1: header: ",
		     "unknown column 'delay'");
	expect_error("app,app,load\n", -RAAS_EPARSE, "p.csv:1: header: ",
		     "column 'app' given twice");
	expect_error(HDR "mc,many,0,100,50,5\n", -RAAS_EPARSE, "p.csv:2: ",
		     "6 fields, but the header has 7");
	expect_error(HDR "mc,many,0,100,50,5,1000,extra\n", -RAAS_EPARSE, "p.csv:2: ",
		     "8 fields, but the header has 7");
	expect_error(HDR "mc,many,abc,100,50,5,1000\n", -RAAS_EPARSE, "p.csv:2: delay_us: ",
		     "'abc' is not a number");
	expect_error(HDR "mc,many,0x10,100,50,5,1000\n", -RAAS_EPARSE, "p.csv:2: delay_us: ",
		     "'0x10' is not a number");
	expect_error(HDR "mc,many,-1,100,50,5,1000\n", -RAAS_EPARSE, "p.csv:2: delay_us: ",
		     "outside [0, 1000] us");
	expect_error(HDR "mc,many,0,0,50,5,1000\n", -RAAS_EPARSE, "p.csv:2: throughput_rps: ",
		     "0 is not > 0");
	expect_error(HDR "mc,many,0,100,-3,5,1000\n", -RAAS_EPARSE, "p.csv:2: latency_us: ",
		     "-3 is not > 0");
	expect_error(HDR "mc,many,0,100,50,-5,1000\n", -RAAS_EPARSE, "p.csv:2: jitter_us: ",
		     "negative");
	expect_error(HDR "mc,many,0,100,50,5,inf\n", -RAAS_EPARSE,
		     "p.csv:2: bytes_per_request: ", "'inf' is not a number");
	expect_error(HDR "mc,many,0,100,50,5,1e999\n", -RAAS_EPARSE,
		     "p.csv:2: bytes_per_request: ", "'1e999' is not a number");
	expect_error(HDR "m c,many,0,100,50,5,1000\n", -RAAS_EPARSE, "p.csv:2: app: ",
		     "'m c' is not a name");
	expect_error(HDR "mc,,0,100,50,5,1000\n", -RAAS_EPARSE, "p.csv:2: load: ",
		     "'' is not a name");
	expect_error(HDR "mc,many,0,100,50,5,\"1000\n", -RAAS_EPARSE, "p.csv:2: ",
		     "unterminated quoted field");
	expect_error(HDR "mc,many,0,100,50,5,\"1000\"x\n", -RAAS_EPARSE, "p.csv:2: ",
		     "text after a closing quote");
	expect_error(HDR "mc,many,0,100,50,5,10\"00\n", -RAAS_EPARSE, "p.csv:2: ",
		     "a quote inside an unquoted field");
	expect_error(HDR "mc,many,0,100,50,5,1000\n"
			 "# comment\n"
			 "mc,many,0,110,50,5,1000\n",
		     -RAAS_EPARSE, "p.csv:4: delay_us: ", "mc/many at delay 0 us given twice "
							  "(first at line 2)");
	/* A NUL byte inside the text. */
	{
		struct econ_profile *p = NULL;
		struct econ_error err;
		const char text[] = HDR "mc,many,0,100\0,50,5,1000\n";
		ASSERT_EQ(econ_profile_parse("p.csv", text, sizeof(text) - 1, &p, &err),
			  -RAAS_EPARSE);
		ASSERT_STR_CONTAINS(fmt(&err), "p.csv:2: NUL byte");
	}
	/* Bounds: a long line, too many fields. */
	{
		size_t n = ECON_PROFILE_MAX_LINE + 100;
		char *text = malloc(n + sizeof(HDR) + 2);
		strcpy(text, HDR);
		memset(text + strlen(HDR), 'a', n);
		strcpy(text + strlen(HDR) + n, "\n");
		expect_error(text, -RAAS_ETOOBIG, "p.csv:2: ", "line longer than 4096 bytes");
		free(text);
	}
	expect_error(HDR "a,b,c,d,e,f,g,h,i,j,k,l,m,n,o,p,q\n", -RAAS_EPARSE, "p.csv:2: ",
		     "too many fields");
}

static void test_load(void)
{
	char path[] = "/tmp/sim-econ-profile-XXXXXX";
	int fd = mkstemp(path);
	struct econ_profile *p;
	struct econ_error err;
	const char *text = HDR "netpipe,single,0,20000,25,2,8192\n";

	ASSERT_TRUE(fd >= 0);
	ASSERT_EQ(write(fd, text, strlen(text)), (ssize_t)strlen(text));
	close(fd);
	ASSERT_OK(econ_profile_load(path, &p, &err));
	ASSERT_STR_EQ(p->name, path);
	ASSERT_EQ(p->apps[0].levels[0].npoints, 1);
	econ_profile_destroy(p);

	/* A bad row names the file and line. */
	FILE *f = fopen(path, "w");
	fputs(HDR "netpipe,single,0,20000,25,2,0\n", f);
	fclose(f);
	ASSERT_EQ(econ_profile_load(path, &p, &err), -RAAS_EPARSE);
	ASSERT_STR_CONTAINS(fmt(&err), ":2: bytes_per_request: 0 is not > 0");
	ASSERT_STR_CONTAINS(fmt(&err), path);
	unlink(path);

	ASSERT_EQ(econ_profile_load(path, &p, &err), -ENOENT);
	ASSERT_STR_CONTAINS(fmt(&err), "No such file");
	ASSERT_EQ(econ_profile_load("/tmp", &p, &err), -EINVAL);
	ASSERT_STR_CONTAINS(fmt(&err), "not a regular file");
}

/* The optional cores column: rows measured on more than one core become core_levels, each
 * beside the one-core level of its name; readers of levels see the one-core profile. */
static void test_cores(void)
{
	static const char text[] =
		"app,load,delay_us,throughput_rps,latency_us,jitter_us,bytes_per_request,cores\n"
		"nh,many,0,100,50,5,1000,1\n"
		"nh,many,0,180,48,5,1000,2\n"
		"nh,many,10,190,60,5,1000,2\n"
		"nh,single,0,40,20,2,1000,1\n";
	struct econ_profile *p;
	struct econ_error err;

	ASSERT_OK(econ_profile_parse("p.csv", text, strlen(text), &p, &err));
	econ_profile_check(p);
	const struct econ_app *a = econ_profile_app(p, "nh");
	ASSERT_EQ(a->nlevels, 2);
	ASSERT_EQ(a->ncore_levels, 1);
	ASSERT_STR_EQ(a->levels[0].name, "many");
	ASSERT_EQ(a->levels[0].npoints, 1);
	const struct econ_level *two = econ_app_level_cores(a, "many", 2);
	ASSERT_TRUE(two != NULL && two->cores == 2 && two->npoints == 2);
	ASSERT_NEAR(two->points[1].tput_rps, 190, 0);
	ASSERT_TRUE(econ_app_level_cores(a, "many", 1) == &a->levels[0]);
	ASSERT_TRUE(econ_app_level_cores(a, "single", 2) == NULL);
	econ_profile_destroy(p);
	/* Without the column nothing changes. */
	ASSERT_OK(econ_profile_parse("p.csv", HDR "mc,many,0,100,50,5,1000\n", strlen(HDR) + 24,
				     &p, &err));
	ASSERT_EQ(p->apps[0].ncore_levels, 0);
	ASSERT_TRUE(p->apps[0].core_levels == NULL);
	econ_profile_destroy(p);
}

static void test_cores_errors(void)
{
#define CHDR "app,load,delay_us,throughput_rps,latency_us,jitter_us,bytes_per_request,cores\n"
	expect_error(CHDR "nh,many,0,100,50,5,1000,0\n", -RAAS_EPARSE, "p.csv:2: cores: ",
		     "not a whole number of cores");
	expect_error(CHDR "nh,many,0,100,50,5,1000,1.5\n", -RAAS_EPARSE, "p.csv:2: cores: ",
		     "not a whole number of cores");
	expect_error(CHDR "nh,many,0,100,50,5,1000,2\n", -RAAS_EPARSE, "p.csv:2: cores: ",
		     "rows only for more than one core");
	expect_error(CHDR "nh,many,0,100,50,5,1000,1\nnh,single,0,100,50,5,1000,2\n",
		     -RAAS_EPARSE, "p.csv:3: cores: ", "none for one core");
	expect_error(CHDR "nh,many,0,100,50,5,1000,2\nnh,many,0,90,50,5,1000,1\n"
		     "nh,many,0,80,50,5,1000,2\n", -RAAS_EPARSE, "p.csv:4: delay_us: ",
		     "with more cores at delay 0 us given twice");
#undef CHDR
}

/* The spin_us and cpu_us_per_request columns: rows at one delay and several budgets, sorted
 * by (delay, spin); a repeated (delay, spin) and bad values are refused with the place. */
static void test_spin(void)
{
	static const char text[] =
		"app,load,delay_us,spin_us,throughput_rps,latency_us,jitter_us,bytes_per_request,"
		"cpu_us_per_request\n"
		"mc,single,0,50,30000,40,5,1000,30\n"
		"mc,single,0,0,20000,60,5,1000,25\n"
		"mc,single,10,0,15000,70,5,1000,20\n";
	struct econ_profile *p;
	struct econ_error err;
	char buf[512];

	ASSERT_OK(econ_profile_parse("p.csv", text, strlen(text), &p, &err));
	econ_profile_check(p);
	const struct econ_level *l = &p->apps[0].levels[0];
	ASSERT_EQ(l->npoints, 3);
	ASSERT_NEAR(l->points[0].spin_us, 0, 0);
	ASSERT_NEAR(l->points[1].spin_us, 50, 0);
	ASSERT_NEAR(l->points[1].cpu_us, 30, 0);
	ASSERT_NEAR(econ_point_cores(&l->points[1]), 0.9, 1e-12);
	ASSERT_TRUE(econ_level_at(l, 0) == &l->points[0]); /* the lowest budget at W = 0 */
	econ_profile_destroy(p);

	static const char twice[] =
		"app,load,delay_us,spin_us,throughput_rps,latency_us,jitter_us,bytes_per_request\n"
		"mc,single,0,50,30000,40,5,1000\n"
		"mc,single,0,50,31000,41,5,1000\n";
	ASSERT_EQ(econ_profile_parse("p.csv", twice, strlen(twice), &p, &err), -RAAS_EPARSE);
	ASSERT_STR_CONTAINS(econ_error_format(&err, buf, sizeof(buf)),
			    "p.csv:3: delay_us: mc/single at delay 0 us and spin 50 us given twice");
	static const char neg[] =
		"app,load,delay_us,spin_us,throughput_rps,latency_us,jitter_us,bytes_per_request\n"
		"mc,single,0,-1,30000,40,5,1000\n";
	ASSERT_EQ(econ_profile_parse("p.csv", neg, strlen(neg), &p, &err), -RAAS_EPARSE);
	ASSERT_STR_CONTAINS(econ_error_format(&err, buf, sizeof(buf)), "p.csv:2: spin_us: -1 is outside");
	static const char cpu[] =
		"app,load,delay_us,throughput_rps,latency_us,jitter_us,bytes_per_request,"
		"cpu_us_per_request\n"
		"mc,single,0,30000,40,5,1000,-3\n";
	ASSERT_EQ(econ_profile_parse("p.csv", cpu, strlen(cpu), &p, &err), -RAAS_EPARSE);
	ASSERT_STR_CONTAINS(econ_error_format(&err, buf, sizeof(buf)),
			    "p.csv:2: cpu_us_per_request: -3 is negative");
}

int main(void)
{
	test_good();
	test_spin();
	test_cores();
	test_cores_errors();
	test_errors();
	test_load();
	printf("test_econ_profile: ok\n");
	return 0;
}
