/* test_sim_study_checks.c: the report's known-result checks catch what they claim to.
 *
 * First on a study file built by hand, whose optimum is worked out here: one correct and one
 * wrong VCG allocation, one uniform clearing above its reserve and one below. Then on a cut of
 * the shipped provider-revenue study (sim/scenarios/studies/revenue.ini: its vcg and uniform
 * levels, its balanced and scarce supplies, two seeds), swept, merged and checked as
 * `raas-sim report STUDY` does: every VCG clearing must be optimal and every uniform clearing
 * must earn at least its reserve per unit. */
#include <errno.h>

#include "study.h"
#include "sim_testutil.h"
#include "study_checks.h"

#define CENT INT64_C(10000000)

static void exec(sqlite3 *db, const char *sql)
{
	char *msg = NULL;
	if (sqlite3_exec(db, sql, NULL, NULL, &msg) != SQLITE_OK)
		TEST_FAIL("%s: %s", sql, msg);
}

/* Supply 5, reserve $0.01. Bids: 1 wants 3 at 5c, 2 has marginal values 4c, 4c, 2c, 3 wants 2
 * at 3c. The best 5 units are 1's three (15c) and 2's first two (8c): 23c, nothing left for the
 * reserve. Round 0 records that allocation (3, 2, 0); round 1 records (1, 2, 2): 5 + 8 + 6 =
 * 19c, which the check must call suboptimal. Small instances of both (all 3 bidders, 5 units)
 * are cleared afresh, so both are optimal. Uniform, reserve 1c: round 0 sells 4 units at 2c
 * (revenue 8c >= 4c); round 1 sells 4 at half a cent (2c < 4c): a failure. */
static void by_hand(void)
{
	sqlite3 *db;
	char *out_text = NULL;
	size_t out_len = 0;
	char why[256];
	struct study_check_counts c;

	ASSERT_EQ(sqlite3_open(":memory:", &db), SQLITE_OK);
	exec(db, "CREATE TABLE study_run_meta(run, variant, key, value);"
		 "CREATE TABLE study_clearings(run, variant, round, host, resource, supply, price,"
		 " revenue, allocated, welfare);"
		 "CREATE TABLE study_bids(run, variant, round, host, resource, bidder, min_quantity,"
		 " max_quantity, unit_price, held, curve, true_curve, quantity, payment);"
		 "INSERT INTO study_run_meta VALUES(1, '', 'config', '[sim]\nname = x\n\n"
		 "[resource.cores]\nmodel = vcg\nparams = reserve=$0.01\nscope = host\n');"
		 "INSERT INTO study_run_meta VALUES(2, '', 'config', '[resource.cores]\n"
		 "model = uniform\nparams = reserve=$0.01\n');");
	for (int round = 0; round < 2; round++) {
		char sql[1024];
		int64_t q[3] = {3, 2, 0};
		if (round == 1)
			q[0] = 1, q[2] = 2;
		snprintf(sql, sizeof(sql),
			 "INSERT INTO study_clearings VALUES(1, '', %d, 0, 'cores', 5, 0, 0, 5, 0);"
			 "INSERT INTO study_bids VALUES(1, '', %d, 0, 'cores', 1, 0, 3, %lld, 0, NULL,"
			 " NULL, %lld, 0);"
			 "INSERT INTO study_bids VALUES(1, '', %d, 0, 'cores', 2, 0, 3, 0, 0,"
			 " '2@%lld 1@%lld', NULL, %lld, 0);"
			 "INSERT INTO study_bids VALUES(1, '', %d, 0, 'cores', 3, 0, 2, %lld, 0, NULL,"
			 " NULL, %lld, 0);",
			 round, round, (long long)(5 * CENT), (long long)q[0], round,
			 (long long)(4 * CENT), (long long)(2 * CENT), (long long)q[1], round,
			 (long long)(3 * CENT), (long long)q[2]);
		exec(db, sql);
		money_t price = round == 0 ? 2 * CENT : CENT / 2;
		snprintf(sql, sizeof(sql),
			 "INSERT INTO study_clearings VALUES(2, '', %d, 0, 'cores', 6, %lld, %lld, 4,"
			 " 0);",
			 round, (long long)price, (long long)(4 * price));
		exec(db, sql);
	}
	FILE *f = open_memstream(&out_text, &out_len);
	ASSERT_OK(study_checks_count(db, f, &c, why, sizeof(why)));
	fclose(f);
	printf("%s", out_text);
	ASSERT_EQ(c.vcg_clearings, 2);
	ASSERT_EQ(c.vcg_optimal, 1);
	ASSERT_EQ(c.vcg_too_large, 0);
	ASSERT_EQ(c.vcg_small, 2);
	ASSERT_EQ(c.vcg_small_optimal, 2);
	ASSERT_EQ(c.uniform_clearings, 2);
	ASSERT_EQ(c.uniform_ok, 1);
	ASSERT_STR_CONTAINS(out_text, "FAILS: run 1 round 1 host 0 cores: VCG's welfare 190000000, "
				      "optimum 230000000");
	ASSERT_STR_CONTAINS(out_text, "FAILS: run 2 round 1 host 0 cores: price 5000000");
	free(out_text);

	/* Without recorded bids the report says so instead of claiming a check. */
	exec(db, "DROP TABLE study_bids");
	f = open_memstream(&out_text, &out_len);
	ASSERT_OK(study_checks_count(db, f, &c, why, sizeof(why)));
	fclose(f);
	ASSERT_STR_CONTAINS(out_text, "not checked");
	free(out_text);
	sqlite3_close(db);
}

/* The line "NAME = ..." of the shipped study file (whole). */
static void level_line(const char *text, const char *name, char *buf, size_t len)
{
	size_t n = strlen(name);
	for (const char *p = text; p && *p; p = strchr(p, '\n') ? strchr(p, '\n') + 1 : NULL) {
		if (strncmp(p, name, n) == 0 && strncmp(p + n, " = ", 3) == 0) {
			const char *end = strchr(p, '\n');
			snprintf(buf, len, "%.*s", (int)(end ? end - p : (long)strlen(p)), p);
			return;
		}
	}
	TEST_FAIL("revenue.ini has no level %s", name);
}

static void shipped_study(void)
{
	char dir[256], study[512], folder[512], merged[600], why[1024], text[65536];
	char vcg[2048], uni[2048], bal[512], scarce[512];
	const char *shipped = RAAS_SOURCE_DIR "/sim/scenarios/studies/revenue.ini";
	FILE *f = fopen(shipped, "r");

	ASSERT_TRUE(f != NULL);
	size_t n = fread(text, 1, sizeof(text) - 1, f);
	text[n] = '\0';
	fclose(f);
	level_line(text, "vcg", vcg, sizeof(vcg));
	level_line(text, "uniform", uni, sizeof(uni));
	level_line(text, "balanced", bal, sizeof(bal));
	level_line(text, "scarce", scarce, sizeof(scarce));
	st_scratch(dir, sizeof(dir), "checks");
	snprintf(study, sizeof(study), "%s/cut.ini", dir);
	snprintf(folder, sizeof(folder), "%s/cut.study", dir);
	char body[8192];
	snprintf(body, sizeof(body),
		 "[study]\nscenario = " RAAS_SOURCE_DIR "/sim/scenarios/studies/revenue-market.ini\n"
		 "seeds = 1-2\nname = cut\nthreads = 1\ncompare = mechanism\n"
		 "[axis.mechanism]\n%s\n%s\n[axis.supply]\n%s\n%s\n",
		 vcg, uni, bal, scarce);
	st_write(study, body);

	struct sim_sweep_opts o = {.study = study, .dir = folder, .engine = SIM_SWEEP_PLAN};
	FILE *devnull = fopen("/dev/null", "w");
	if (sim_sweep(&o, devnull, why, sizeof(why)))
		TEST_FAIL("sweep: %s", why);
	if (sim_sweep_task(folder, 0, 7, why, sizeof(why)))
		TEST_FAIL("sweep-task: %s", why);
	if (sim_merge(folder, NULL, devnull, why, sizeof(why)))
		TEST_FAIL("merge: %s", why);
	fclose(devnull);
	snprintf(merged, sizeof(merged), "%s/study.sqlite", folder);
	sqlite3 *db;
	struct study_check_counts c;
	ASSERT_EQ(sqlite3_open_v2(merged, &db, SQLITE_OPEN_READONLY, NULL), SQLITE_OK);
	ASSERT_OK(study_checks_count(db, stdout, &c, why, sizeof(why)));
	sqlite3_close(db);
	/* 2 seeds x 2 supplies x 4 hosts x 2 resources x 12 rounds = 384 clearings per
	 * mechanism; the cores pools (192) are small enough for the exact program. */
	ASSERT_EQ(c.vcg_clearings, 384);
	ASSERT_EQ(c.uniform_clearings, 384);
	ASSERT_GE(c.vcg_clearings - c.vcg_too_large, 192);
	ASSERT_EQ(c.vcg_optimal, c.vcg_clearings - c.vcg_too_large);
	ASSERT_EQ(c.vcg_small, 384);
	ASSERT_EQ(c.vcg_small_optimal, c.vcg_small);
	ASSERT_EQ(c.uniform_ok, c.uniform_clearings);
	st_remove(dir);
}

int main(void)
{
	by_hand();
	shipped_study();
	printf("test_sim_study_checks: ok\n");
	return 0;
}
