/* test_sim_thesis.c: sim/scenarios/nom-thesis.ini behaves as the thesis says it must.
 *
 * Runs the shipped scenario and checks: for every app and utility function the adaptive
 * strategy earns at least as much as each static one; for NetPIPE all nom strategies tie
 * exactly; the adaptive memcached picks 14 us under many clients at $1/Gbit and 0 us under one
 * client at $10/Gbit; one class's money matches a hand computation; the run reproduces the
 * published ratios its profile supports (the VEE'16 abstract's maxima, issue 7's memcached
 * ratios), measured from the tenants' money, not read back from the profile; the summary
 * prints the published figures beside the run's; and the explanation it gives for the quoted
 * nom/Linux 11.14x (the Linux jitter that would give it) holds in a second run. */
#include <math.h>

#include "nom/econ.h"
#include "sim/report.h"
#include "sim_testutil.h"

static double money(const char *db, const char *cls, const char *col)
{
	char sql[256];
	snprintf(sql, sizeof(sql), "SELECT %s FROM classes WHERE class = '%s'", col, cls);
	return st_query(db, sql);
}

/* A class's payment or value in one round (nanodollars). */
static double round_money(const char *db, const char *cls, const char *col, int round)
{
	char sql[256];
	snprintf(sql, sizeof(sql), "SELECT %s FROM class_rounds WHERE class = '%s' AND round = %d",
		 col, cls, round);
	return st_query(db, sql);
}

/* nom's many-client throughput over Linux's: metered egress is paid per Gbit at one price,
 * so the ratio of two classes' payments in one round is the ratio of their throughputs. */
static double tput_ratio(const char *db, const char *app)
{
	char nom[96], os[96];
	snprintf(nom, sizeof(nom), "%s-penalty-static-tpt", app);
	snprintf(os, sizeof(os), "%s-penalty-unaware", app);
	return round_money(db, nom, "payment", 30) / round_money(db, os, "payment", 30);
}

/* A refund tenant's mean latency (us) in a round at price $/Gbit: it values a Gbit at
 * a = alpha - beta * L[ms] = price x value / payment. */
static double refund_latency_us(const char *db, const char *cls, int round, double price)
{
	struct econ_utility u;
	econ_utility_thesis(ECON_REFUND, &u);
	double a = price * round_money(db, cls, "value", round) /
		   round_money(db, cls, "payment", round);
	return 1000 * (u.alpha - a) / u.beta_per_ms;
}

/* Linux's one-client latency over nom's best (adaptive's, at 0 us), from the refund tenants. */
static double lat_ratio(const char *db, const char *app)
{
	char nom[96], os[96];
	snprintf(nom, sizeof(nom), "%s-refund-adaptive", app);
	snprintf(os, sizeof(os), "%s-refund-unaware", app);
	return refund_latency_us(db, os, 90, 10) / refund_latency_us(db, nom, 90, 10);
}

#define NEAR_REL(got, want, rel)                                                              \
	do {                                                                                  \
		if (!(fabs((got) / (want)-1) <= (rel)))                                       \
			TEST_FAIL("%s = %.5f, want %.5f within %.2f%%", #got, (double)(got),  \
				  (double)(want), 100.0 * (rel));                              \
	} while (0)

/* The report says which jitter (as a multiple of its mean latency) makes Linux memcached earn
 * adaptive/11.14 under the penalty; run Linux alone on the run's own Linux rows with that
 * jitter and return its profit. */
static double linux_profit_with_jitter(const char *run, const char *dir, double k)
{
	char path[400], csv[1024], out[400], q[256], rows[2][160];
	const char *levels[2] = {"many", "single"};
	const char *cols[3] = {"throughput_rps", "latency_us", "bytes_per_request"};

	for (int i = 0; i < 2; i++) {
		double v[3];
		for (int c = 0; c < 3; c++) {
			snprintf(q, sizeof(q),
				 "SELECT %s FROM profiles WHERE app = 'memcached-linux' AND load = '%s'",
				 cols[c], levels[i]);
			v[c] = st_query(run, q);
			ASSERT_TRUE(v[c] > 0);
		}
		snprintf(rows[i], sizeof(rows[i]), "memcached-linux,%s,0,%.6f,%.6f,%.6f,%.6f\n",
			 levels[i], v[0], v[1], k * v[1], v[2]);
	}
	snprintf(path, sizeof(path), "%s/linux.csv", dir);
	snprintf(csv, sizeof(csv),
		 "app,load,delay_us,throughput_rps,latency_us,jitter_us,bytes_per_request\n%s%s",
		 rows[0], rows[1]);
	st_write(path, csv);
	snprintf(path, sizeof(path), "%s/linux.ini", dir);
	st_write(path, "[sim]\nname = jitter-check\nduration = 120s\nround = 1s\nseed = 1\n"
		       "[hosts]\ncount = 1\negress = 10000\n"
		       "[resource.egress]\nmodel = schedule\nschedule = 0s $1, 60s $10\n"
		       "[class.linux]\napp = memcached-linux\nprofile = linux.csv\n"
		       "resource = egress\nload = phases\nphases = many:60s, single:60s\n"
		       "utility = penalty\nstrategy = unaware\n");
	snprintf(out, sizeof(out), "%s/linux.sqlite", dir);
	st_run(path, out, 1, NULL, 0, 0, false);
	return st_query(out, "SELECT profit FROM classes WHERE class = 'linux'");
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

	/* The published ratios the profile supports, measured from the run's money. The rows
	 * are rounded to whole requests/s and 0.01 us (at most 3e-5 relative here) and money is
	 * exact to a nanodollar per accrual (1e-9 relative at these payments): 0.1% leaves room
	 * for both, while a row off by one step of the quoted ratios (1.28 vs 1.29: 0.8%) fails.
	 * VEE'16 abstract (verified): up to 3.9x throughput and up to 9.1x latency against Linux
	 * and OSv; the profile puts both maxima at nhttpd (attribution quoted by issue 7). */
	double tmax = 0, lmax = 0;
	for (int a = 0; a < 3; a++) {
		double tr = tput_ratio(out, apps[a]), lr = lat_ratio(out, apps[a]);
		ASSERT_TRUE(tr >= 1 && lr >= 1); /* nom at least as good as Linux */
		tmax = fmax(tmax, tr);
		lmax = fmax(lmax, lr);
	}
	NEAR_REL(tmax, 3.9, 0.001);
	NEAR_REL(lmax, 9.1, 0.001);
	NEAR_REL(tput_ratio(out, "nhttpd"), 3.9, 0.001);
	NEAR_REL(lat_ratio(out, "nhttpd"), 9.1, 0.001);
	/* Issue 7's quote of the thesis (unverified): memcached 1.28x throughput, 1.29x latency. */
	NEAR_REL(tput_ratio(out, "memcached"), 1.28, 0.001);
	NEAR_REL(lat_ratio(out, "memcached"), 1.29, 0.001);
	/* "up to 11.1x higher profits": the abstract prints one decimal, so every nom/Linux
	 * profit ratio of the run must stay below 11.15, and above 1. */
	for (int a = 0; a < 3; a++)
		for (int u = 0; u < 3; u++) {
			snprintf(cls, sizeof(cls), "%s-%s-adaptive", apps[a], utils[u]);
			double nom = money(out, cls, "profit");
			snprintf(cls, sizeof(cls), "%s-%s-unaware", apps[a], utils[u]);
			double r = nom / money(out, cls, "profit");
			if (!(r > 1 && r < 11.15))
				TEST_FAIL("%s/%s: nom/Linux profit %.2fx outside (1, 11.15)", apps[a],
					  utils[u], r);
		}

	/* The summary shows the published figures beside the run's. */
	char sum[300], why[256], line[512];
	snprintf(sum, sizeof(sum), "%s/summary.txt", dir);
	FILE *f = fopen(sum, "w");
	ASSERT_OK(sim_report_summary(out, f, why, sizeof(why)));
	fclose(f);
	f = fopen(sum, "r");
	int found = 0;
	double k = NAN;
	while (fgets(line, sizeof(line), f)) {
		const char *w = strstr(line, "With Linux's jitter at ");
		if (w)
			k = strtod(w + strlen("With Linux's jitter at "), NULL);
		found += strstr(line, "nom/OS profit, any app and function") && strstr(line, "11.1x");
		found += strstr(line, "memcached nom/Linux profit") && strstr(line, "11.14x");
		found += strstr(line, "memcached static-lat / adaptive") && strstr(line, "14.0%");
		found += strstr(line, "NetPIPE: the nom strategies tie") && strstr(line, "yes (all");
		found += strstr(line, "adaptive >= static-tpt and static-lat") &&
			 strstr(line, "yes (every");
		found += strstr(line, "Why the figures differ") != NULL;
	}
	fclose(f);
	ASSERT_EQ(found, 6);
	/* The explanation holds: Linux with the jitter the report names earns adaptive/11.14.
	 * The report prints the multiple to 3 decimals; near it Linux's profit changes by about
	 * 0.16% per 0.001 of the multiple, so 0.5% covers the printing. */
	ASSERT_TRUE(!isnan(k) && k > 0);
	double adaptive = money(out, "memcached-penalty-adaptive", "profit");
	NEAR_REL(adaptive / linux_profit_with_jitter(out, dir, k), 11.14, 0.005);
	st_remove(dir);
	printf("test_sim_thesis: ok\n");
	return 0;
}
