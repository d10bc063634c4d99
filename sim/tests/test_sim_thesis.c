/* test_sim_thesis.c: sim/scenarios/nom-thesis.ini behaves as the thesis says it must.
 *
 * Runs the shipped scenario and checks: for every app and utility function the adaptive
 * strategy earns at least as much as each static one; for NetPIPE all nom strategies tie
 * exactly; the adaptive memcached picks 14 us under many clients at $1/Gbit and 0 us under one
 * client at $10/Gbit; one class's money matches a hand computation; and the summary prints
 * the thesis's figures beside the run's. */
#include <math.h>

#include "sim/report.h"
#include "sim_testutil.h"

static double money(const char *db, const char *cls, const char *col)
{
	char sql[256];
	snprintf(sql, sizeof(sql), "SELECT %s FROM classes WHERE class = '%s'", col, cls);
	return st_query(db, sql);
}

int main(void)
{
	char dir[256], out[300], cls[128];
	const char *apps[] = {"memcached", "nhttpd", "netpipe"};
	const char *utils[] = {"penalty", "refund", "bonus"};

	st_scratch(dir, sizeof(dir), "thesis");
	snprintf(out, sizeof(out), "%s/run.sqlite", dir);
	st_run(RAAS_SOURCE_DIR "/sim/scenarios/nom-thesis.ini", out, 2, NULL, 0, 0, false);

	for (int a = 0; a < 3; a++) {
		for (int u = 0; u < 3; u++) {
			double p[4];
			const char *strat[] = {"adaptive", "static-tpt", "static-lat", "unaware"};
			for (int s = 0; s < 4; s++) {
				snprintf(cls, sizeof(cls), "%s-%s-%s", apps[a], utils[u], strat[s]);
				p[s] = money(out, cls, "profit");
				ASSERT_NE(p[s], 0);
			}
			if (!(p[0] >= p[1] && p[0] >= p[2]))
				TEST_FAIL("%s/%s: adaptive %.0f nd < static-tpt %.0f or static-lat %.0f",
					  apps[a], utils[u], p[0], p[1], p[2]);
			if (a == 2 && !(p[0] == p[1] && p[0] == p[2]))
				TEST_FAIL("netpipe/%s: strategies do not tie: %.0f %.0f %.0f", utils[u],
					  p[0], p[1], p[2]);
			if (a != 2)
				ASSERT_TRUE(p[0] > p[1] && p[0] > p[2]); /* adapting pays here */
			ASSERT_TRUE(p[0] > p[3]);
		}
	}
	/* Working points: 14 us in the first minute (many clients, $1), 0 in the second. */
	ASSERT_NEAR(st_query(out, "SELECT mean_delay_us FROM class_rounds WHERE class ="
				  " 'memcached-penalty-adaptive' AND round = 30"),
		    14, 0);
	ASSERT_NEAR(st_query(out, "SELECT mean_delay_us FROM class_rounds WHERE class ="
				  " 'memcached-penalty-adaptive' AND round = 90"),
		    0, 0);
	ASSERT_NEAR(st_query(out, "SELECT mean_delay_us FROM class_rounds WHERE class ="
				  " 'memcached-penalty-static-tpt' AND round = 90"),
		    14, 0);
	/* By hand: minute 1 at 40,000 ops/s x 1100 B = 0.352 Gbit/s, worth $20/Gbit (no penalty:
	 * L0 is 87 deviations away), paying $1/Gbit: value 0.352 x 20 x 60 = $422.40, payment
	 * $21.12. Minute 2, one client at 40 us: 25,000 ops/s = 0.22 Gbit/s: value
	 * 0.22 x 20 x 60 = $264, payment 0.22 x 10 x 60 = $132. Totals $686.40 and $153.12
	 * (one nanodollar of rounding per accrual at most). */
	ASSERT_NEAR(money(out, "memcached-penalty-adaptive", "value"), 686.40e9, 240);
	ASSERT_NEAR(money(out, "memcached-penalty-adaptive", "payment"), 153.12e9, 240);
	/* Revenue equals what the tenants paid, to the nanodollar. */
	ASSERT_EQ((int64_t)st_query(out, "SELECT exact FROM metrics WHERE name = 'revenue'"),
		  (int64_t)st_query(out, "SELECT sum(payment) FROM classes"));
	ASSERT_EQ((int64_t)st_query(out, "SELECT sum(revenue) FROM rounds"),
		  (int64_t)st_query(out, "SELECT sum(payment) FROM class_rounds"));

	/* The summary shows the thesis's figures beside the run's. */
	char sum[300], why[256], line[512];
	snprintf(sum, sizeof(sum), "%s/summary.txt", dir);
	FILE *f = fopen(sum, "w");
	ASSERT_OK(sim_report_summary(out, f, why, sizeof(why)));
	fclose(f);
	f = fopen(sum, "r");
	int found = 0;
	while (fgets(line, sizeof(line), f)) {
		found += strstr(line, "memcached nom/Linux profit") && strstr(line, "11.14x");
		found += strstr(line, "memcached static-lat / adaptive") && strstr(line, "14.0%");
		found += strstr(line, "NetPIPE: the nom strategies tie") && strstr(line, "yes (all");
		found += strstr(line, "adaptive >= static-tpt and static-lat") &&
			 strstr(line, "yes (every");
		found += strstr(line, "Why the figures differ") != NULL;
	}
	fclose(f);
	ASSERT_EQ(found, 5);
	st_remove(dir);
	printf("test_sim_thesis: ok\n");
	return 0;
}
