/* test_opts.c: the command line every nom app shares, in particular --instance mode's
 * (docs/apps.md): defaults, the strategies, and each refusal naming its option. */
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "app/opts.h"
#include "test.h"

/* Parses a command line; returns app_opts_parse's result, stderr's first line in why. */
static int parse(struct app_opts *o, const char *line, char *why, size_t len)
{
	char buf[1024], *argv[64];
	int argc = 0, rc;

	snprintf(buf, sizeof(buf), "app %s", line);
	for (char *t = strtok(buf, " "); t && argc < 63; t = strtok(NULL, " "))
		argv[argc++] = t;
	argv[argc] = NULL;
	app_opts_init(o, "app", 1);
	fflush(stderr);
	FILE *f = tmpfile();
	int saved = dup(2);
	dup2(fileno(f), 2);
	rc = app_opts_parse(o, argc, argv, NULL);
	fflush(stderr);
	dup2(saved, 2);
	close(saved);
	rewind(f);
	why[0] = '\0';
	if (!fgets(why, (int)len, f))
		why[0] = '\0';
	fclose(f);
	return rc;
}

static void refused(const char *line, const char *msg)
{
	struct app_opts o;
	char why[512];

	ASSERT_EQ(parse(&o, line, why, sizeof(why)), 64);
	ASSERT_STR_CONTAINS(why, msg);
}

int main(void)
{
	struct app_opts o;
	char why[512];

	/* --instance: adaptive by default, the prices from the board. */
	ASSERT_OK(parse(&o, "--stack kernel --instance a-1 --profile p.csv --utility penalty", why,
			sizeof(why)));
	ASSERT_STR_EQ(o.instance, "a-1");
	ASSERT_EQ(o.strategy, NOM_ADAPTIVE);
	ASSERT_TRUE(o.adaptive);
	ASSERT_EQ(o.utility.kind, ECON_PENALTY);
	ASSERT_OK(parse(&o, "--stack kernel --instance a --profile p --strategy unaware --delay 5 "
			    "--host h2 --bandwidth-max 40 --max-price $2.5", why, sizeof(why)));
	ASSERT_EQ(o.strategy, NOM_UNAWARE);
	ASSERT_TRUE(!o.adaptive);
	ASSERT_NEAR(o.delay_us, 5, 0);
	ASSERT_STR_EQ(o.host, "h2");
	ASSERT_EQ(o.bandwidth_max_mbit, 40);
	ASSERT_EQ(o.max_price, 2500000000);
	ASSERT_OK(parse(&o, "--stack kernel --instance a --profile p --utility refund --strategy "
			    "static-lat --static-level single", why, sizeof(why)));
	ASSERT_EQ(o.strategy, NOM_STATIC_LAT);
	ASSERT_STR_EQ(o.static_level, "single");
	/* Alone: as before. */
	ASSERT_OK(parse(&o, "--stack kernel --delay 3", why, sizeof(why)));
	ASSERT_TRUE(o.instance == NULL);

	refused("--stack kernel --instance a --utility refund", "needs --profile");
	refused("--stack kernel --instance a --profile p", "needs --utility");
	refused("--stack kernel --instance a --profile p --utility refund --price 1",
		"the prices come from the instance's board");
	refused("--stack kernel --instance a --profile p --utility refund --delay 4",
		"picks the delay itself");
	refused("--stack kernel --instance a --profile p --utility refund --strategy static-tpt "
		"--delay 4", "take the delay from the profile");
	refused("--stack kernel --instance a --profile p --strategy sometimes",
		"want adaptive, static-tpt, static-lat, static or unaware");
	refused("--stack kernel --strategy static", "only with --instance");
	refused("--stack kernel --host h1", "only with --instance");
	refused("--stack kernel --instance a --profile p --strategy unaware --bandwidth-max 0",
		"whole Mbit/s");
	refused("--stack kernel --instance a --profile p --strategy unaware --max-price -1",
		"--max-price");
	refused("--stack kernel --adaptive --strategy static --instance a --profile p --utility "
		"refund", "contradicts --strategy");
	/* The loop's knobs of issue 19: the busy-poll budget, SCHED_FIFO and nice. */
	if (parse(&o, "--if v0 --spin-us 50 --rt-prio 1 --loop-nice -20", why, sizeof(why)) != 0)
		TEST_FAIL("refused: %s", why);
	ASSERT_NEAR(o.spin_us, 50, 0);
	ASSERT_EQ(o.srv.net.spin_ns, 50000);
	ASSERT_EQ(o.srv.net.rt_priority, 1);
	ASSERT_EQ(o.srv.net.nice, -20);
	refused("--if v0 --spin-us -1", "--spin-us");
	refused("--if v0 --rt-prio 100", "want a priority 0-99");
	refused("--if v0 --loop-nice 20", "want a nice value -20..19");
	printf("test_app_opts: ok\n");
	return 0;
}
