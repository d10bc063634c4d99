/* sim_testutil.h: helpers for the simulator's tests: scratch folders, runs, table comparison. */
#ifndef SIM_TESTUTIL_H
#define SIM_TESTUTIL_H

#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "run.h"
#include "test.h"

static char st_scratch_dir[256];

/* Removes the scratch folder at exit, also when an assertion fails. */
static inline void st_cleanup(void)
{
	char cmd[600];

	if (!st_scratch_dir[0])
		return;
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", st_scratch_dir);
	if (system(cmd) != 0)
		fprintf(stderr, "cannot remove %s\n", st_scratch_dir);
	st_scratch_dir[0] = '\0';
}

/* A scratch folder /tmp/sim-<name>-<pid>, created empty, removed at exit. */
static inline void st_scratch(char *dir, size_t len, const char *name)
{
	char cmd[600];

	snprintf(dir, len, "/tmp/sim-%s-%d", name, (int)getpid());
	snprintf(st_scratch_dir, sizeof(st_scratch_dir), "%s", dir);
	atexit(st_cleanup);
	snprintf(cmd, sizeof(cmd), "rm -rf '%s' && mkdir -p '%s'", dir, dir);
	ASSERT_OK(system(cmd));
}

static inline void st_remove(const char *dir)
{
	char cmd[600];

	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", dir);
	ASSERT_OK(system(cmd));
}

static inline void st_write(const char *path, const char *text)
{
	FILE *f = fopen(path, "w");
	ASSERT_TRUE(f != NULL);
	fputs(text, f);
	ASSERT_OK(fclose(f));
}

/* Runs a scenario into out; fails the test with the simulator's message on error. */
static inline void st_run(const char *scenario, const char *out, int threads,
			  const char *const *ov, size_t nov, uint64_t seed, bool have_seed)
{
	struct sim_run_opts o = {.scenario = scenario, .out = out, .overrides = ov,
				 .noverrides = nov, .threads = threads, .seed = seed,
				 .have_seed = have_seed, .progress = SIM_PROGRESS_NEVER};
	struct sim_run_stats st;
	char why[1024];

	if (sim_run(&o, &st, why, sizeof(why)))
		TEST_FAIL("run %s: %s", scenario, why);
}

/* Compares every table of two run files except the wall-clock ones, row by row. Returns the
 * number of tables compared, or -1 at the first difference (described on stderr). */
static inline int st_compare_runs(const char *a, const char *b, bool report)
{
	sqlite3 *da, *db;
	sqlite3_stmt *tables;
	int ntables = 0, differ = 0;

	ASSERT_EQ(sqlite3_open_v2(a, &da, SQLITE_OPEN_READONLY, NULL), SQLITE_OK);
	ASSERT_EQ(sqlite3_open_v2(b, &db, SQLITE_OPEN_READONLY, NULL), SQLITE_OK);
	ASSERT_EQ(sqlite3_prepare_v2(da,
				     "SELECT name FROM sqlite_master WHERE type = 'table' AND name"
				     " NOT LIKE 'timing%' ORDER BY name",
				     -1, &tables, NULL),
		  SQLITE_OK);
	while (!differ && sqlite3_step(tables) == SQLITE_ROW) {
		char sql[200];
		sqlite3_stmt *x, *y;
		long row = 0;
		const char *name = (const char *)sqlite3_column_text(tables, 0);
		snprintf(sql, sizeof(sql), "SELECT * FROM %s ORDER BY rowid", name);
		ASSERT_EQ(sqlite3_prepare_v2(da, sql, -1, &x, NULL), SQLITE_OK);
		ASSERT_EQ(sqlite3_prepare_v2(db, sql, -1, &y, NULL), SQLITE_OK);
		for (;; row++) {
			int rx = sqlite3_step(x), ry = sqlite3_step(y);
			if (rx != ry) {
				if (report)
					fprintf(stderr, "table %s: row counts differ at row %ld\n",
						name, row);
				differ = 1;
				break;
			}
			if (rx != SQLITE_ROW)
				break;
			for (int c = 0; c < sqlite3_column_count(x); c++) {
				const unsigned char *vx = sqlite3_column_text(x, c);
				const unsigned char *vy = sqlite3_column_text(y, c);
				if ((vx == NULL) != (vy == NULL) ||
				    (vx && strcmp((const char *)vx, (const char *)vy) != 0)) {
					if (report)
						fprintf(stderr,
							"table %s row %ld column %s: '%s' vs '%s'\n",
							name, row, sqlite3_column_name(x, c),
							vx ? (const char *)vx : "NULL",
							vy ? (const char *)vy : "NULL");
					differ = 1;
					break;
				}
			}
			if (differ)
				break;
		}
		sqlite3_finalize(x);
		sqlite3_finalize(y);
		ntables++;
	}
	sqlite3_finalize(tables);
	sqlite3_close(da);
	sqlite3_close(db);
	return differ ? -1 : ntables;
}

/* One number from a run file. */
static inline double st_query(const char *path, const char *sql)
{
	sqlite3 *d;
	sqlite3_stmt *st;
	double v = 0;

	ASSERT_EQ(sqlite3_open_v2(path, &d, SQLITE_OPEN_READONLY, NULL), SQLITE_OK);
	if (sqlite3_prepare_v2(d, sql, -1, &st, NULL) != SQLITE_OK)
		TEST_FAIL("%s: %s", sql, sqlite3_errmsg(d));
	if (sqlite3_step(st) == SQLITE_ROW)
		v = sqlite3_column_double(st, 0);
	sqlite3_finalize(st);
	sqlite3_close(d);
	return v;
}

#endif
