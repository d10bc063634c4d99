/* merge.c: `raas-sim merge DIR`: a study folder's run files, collected into one study file.
 *
 * Each run file is attached in turn and its result tables copied under the run's index, in
 * one transaction into a temporary file renamed over the target at the end, so a study file
 * is complete or absent. Only what a run file holds as a function of its scenario and seed is
 * copied (metrics, classes, meta, recorded bids and clearings; never the timing tables and
 * no paths of the machine it ran on), so the same study swept on GNU parallel and on Slurm
 * merges into equal files. */
#include <errno.h>
#include <limits.h>
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "study.h"
#include "study_internal.h"

static const char *const schema =
	"PRAGMA journal_mode=OFF;PRAGMA synchronous=OFF;"
	"CREATE TABLE meta(variant TEXT NOT NULL, key TEXT NOT NULL, value TEXT,"
	" PRIMARY KEY(variant, key));"
	"CREATE TABLE study_runs(run INTEGER PRIMARY KEY, name TEXT, seed INTEGER, assign TEXT);"
	"CREATE TABLE study_levels(run INTEGER, axis TEXT, level TEXT);"
	"CREATE TABLE study_metrics(run INTEGER, variant TEXT, name TEXT, value REAL, unit TEXT,"
	" exact INTEGER);"
	"CREATE TABLE study_classes(run INTEGER, variant TEXT, class TEXT, kind TEXT, app TEXT,"
	" utility TEXT, strategy TEXT, resource TEXT, tenants INTEGER, value INTEGER,"
	" payment INTEGER, profit INTEGER);"
	"CREATE TABLE study_run_meta(run INTEGER, variant TEXT, key TEXT, value TEXT);"
	"CREATE TABLE study_clearings(run INTEGER, variant TEXT, round INTEGER, host INTEGER,"
	" resource TEXT, supply INTEGER, price INTEGER, revenue INTEGER, allocated INTEGER,"
	" welfare INTEGER);"
	"CREATE TABLE study_bids(run INTEGER, variant TEXT, round INTEGER, host INTEGER,"
	" resource TEXT, bidder INTEGER, min_quantity INTEGER, max_quantity INTEGER,"
	" unit_price INTEGER, held INTEGER, curve TEXT, true_curve TEXT, quantity INTEGER,"
	" payment INTEGER);";

static const char *const copies[] = {
	"INSERT INTO study_metrics SELECT ?1, variant, name, value, unit, exact FROM r.metrics"
	" ORDER BY variant, name",
	"INSERT INTO study_classes SELECT ?1, variant, class, kind, app, utility, strategy,"
	" resource, tenants, value, payment, profit FROM r.classes ORDER BY rowid",
	"INSERT INTO study_run_meta SELECT ?1, variant, key, value FROM r.meta WHERE key NOT IN"
	" ('scenario', 'scenario_path', 'version') ORDER BY variant, key",
	"INSERT INTO study_clearings SELECT ?1, * FROM r.clearings ORDER BY rowid",
	"INSERT INTO study_bids SELECT ?1, * FROM r.bids ORDER BY rowid",
};

static int exec(sqlite3 *db, const char *sql, char *why, size_t len)
{
	char *msg = NULL;
	if (sqlite3_exec(db, sql, NULL, NULL, &msg) == SQLITE_OK)
		return 0;
	snprintf(why, len, "%s", msg ? msg : sqlite3_errmsg(db));
	sqlite3_free(msg);
	return -EIO;
}

static int meta_put(sqlite3 *db, const char *key, const char *value)
{
	sqlite3_stmt *st;
	if (sqlite3_prepare_v2(db, "INSERT INTO meta VALUES('', ?, ?)", -1, &st, NULL))
		return -EIO;
	sqlite3_bind_text(st, 1, key, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 2, value, -1, SQLITE_STATIC);
	int rc = sqlite3_step(st) == SQLITE_DONE ? 0 : -EIO;
	sqlite3_finalize(st);
	return rc;
}

static char *slurp(const char *path)
{
	FILE *f = fopen(path, "r");
	if (!f)
		return NULL;
	fseek(f, 0, SEEK_END);
	long n = ftell(f);
	fseek(f, 0, SEEK_SET);
	char *t = n >= 0 ? malloc((size_t)n + 1) : NULL;
	if (t && fread(t, 1, (size_t)n, f) != (size_t)n) {
		free(t);
		t = NULL;
	}
	if (t)
		t[n] = '\0';
	fclose(f);
	return t;
}

/* One run line of the manifest into the study tables. */
static int put_run(sqlite3 *db, char *line, size_t *index, char *why, size_t len)
{
	char *f[300], *save = NULL;
	size_t nf = 0;
	for (char *t = strtok_r(line, "\t", &save); t && nf < 300; t = strtok_r(NULL, "\t", &save))
		f[nf++] = t;
	if (nf < 4) {
		snprintf(why, len, "manifest: a run line with %zu fields", nf);
		return -EINVAL;
	}
	bool named = nf >= 5 && strchr(f[3], '=') != NULL;
	const char *name = named ? f[3] : "";
	size_t na = strtoull(named ? f[4] : f[3], NULL, 10), first = nf - na;
	char assign[16384] = "";
	size_t o = 0;
	for (size_t k = first; k < nf && o < sizeof(assign); k++)
		o += (size_t)snprintf(assign + o, sizeof(assign) - o, "%s%s", k > first ? "; " : "",
				      f[k]);
	*index = strtoull(f[1], NULL, 10);
	sqlite3_stmt *st;
	if (sqlite3_prepare_v2(db, "INSERT INTO study_runs VALUES(?, ?, ?, ?)", -1, &st, NULL))
		return -EIO;
	sqlite3_bind_int64(st, 1, (sqlite3_int64)*index);
	sqlite3_bind_text(st, 2, name, -1, SQLITE_TRANSIENT);
	sqlite3_bind_int64(st, 3, (sqlite3_int64)strtoull(f[2], NULL, 10));
	sqlite3_bind_text(st, 4, assign, -1, SQLITE_TRANSIENT);
	int rc = sqlite3_step(st) == SQLITE_DONE ? 0 : -EIO;
	sqlite3_finalize(st);
	if (rc || !named)
		return rc;
	char copy[4096], *s2 = NULL;
	snprintf(copy, sizeof(copy), "%s", name);
	for (char *t = strtok_r(copy, ",", &s2); t && !rc; t = strtok_r(NULL, ",", &s2)) {
		char *eq = strchr(t, '=');
		if (!eq)
			continue;
		*eq = '\0';
		if (sqlite3_prepare_v2(db, "INSERT INTO study_levels VALUES(?, ?, ?)", -1, &st, NULL))
			return -EIO;
		sqlite3_bind_int64(st, 1, (sqlite3_int64)*index);
		sqlite3_bind_text(st, 2, t, -1, SQLITE_TRANSIENT);
		sqlite3_bind_text(st, 3, eq + 1, -1, SQLITE_TRANSIENT);
		rc = sqlite3_step(st) == SQLITE_DONE ? 0 : -EIO;
		sqlite3_finalize(st);
	}
	return rc;
}

/* Copies one run file's tables. */
static int copy_run(sqlite3 *db, const char *dir, size_t index, char *why, size_t len)
{
	char path[PATH_MAX], sql[PATH_MAX + 64];
	struct stat stt;
	sqlite3_stmt *st;
	int rc = 0;

	if (sim__run_file(dir, index, path, sizeof(path))) {
		snprintf(why, len, "run %zu: path too long", index);
		return -ENAMETOOLONG;
	}
	if (stat(path, &stt) != 0) {
		snprintf(why, len, "run %zu: %s: %s (the sweep has not finished it, or it failed)",
			 index, path, strerror(errno));
		return -ENOENT;
	}
	char *q = sqlite3_mprintf("ATTACH %Q AS r", path);
	rc = exec(db, q, why, len);
	sqlite3_free(q);
	if (rc)
		return rc;
	/* A run file has a schema_version in meta. */
	if (sqlite3_prepare_v2(db, "SELECT value FROM r.meta WHERE variant = '' AND key ="
				   " 'schema_version'", -1, &st, NULL) != SQLITE_OK ||
	    sqlite3_step(st) != SQLITE_ROW) {
		snprintf(why, len, "run %zu: %s is not a raas-sim run file", index, path);
		rc = -EINVAL;
	}
	sqlite3_finalize(st);
	/* ATTACH and DETACH cannot happen inside a transaction: one per run (the whole file is
	 * renamed into place only at the end, which is what makes the merge atomic). */
	if (!rc)
		rc = exec(db, "BEGIN", why, len);
	for (size_t i = 0; i < sizeof(copies) / sizeof(copies[0]) && !rc; i++) {
		if (sqlite3_prepare_v2(db, copies[i], -1, &st, NULL) != SQLITE_OK) {
			snprintf(why, len, "run %zu: %s: %s", index, path, sqlite3_errmsg(db));
			rc = -EINVAL;
			break;
		}
		sqlite3_bind_int64(st, 1, (sqlite3_int64)index);
		if (sqlite3_step(st) != SQLITE_DONE) {
			snprintf(why, len, "run %zu: %s: %s", index, path, sqlite3_errmsg(db));
			rc = -EIO;
		}
		sqlite3_finalize(st);
	}
	char derr[256];
	if (!rc)
		rc = exec(db, "COMMIT", why, len);
	else
		exec(db, "ROLLBACK", derr, sizeof(derr));
	if (exec(db, "DETACH r", derr, sizeof(derr)) && !rc) {
		snprintf(why, len, "run %zu: detach: %s", index, derr);
		rc = -EIO;
	}
	(void)sql;
	return rc;
}

int sim_merge(const char *dir, const char *out, FILE *msg, char *why, size_t why_len)
{
	char path[PATH_MAX], target[PATH_MAX], tmp[PATH_MAX + 32];
	sqlite3 *db = NULL;
	int rc = 0;
	size_t nruns = 0;

	char *text = sim__path(path, sizeof(path), "%s/manifest.tsv", dir) ? NULL : slurp(path);
	if (!text) {
		snprintf(why, why_len, "%s: %s (not a study folder of raas-sim sweep)", path,
			 strerror(errno));
		return -ENOENT;
	}
	if (strncmp(text, "# raas-sim study manifest 1\n", 28) != 0) {
		snprintf(why, why_len, "%s: not a study manifest", path);
		free(text);
		return -EINVAL;
	}
	snprintf(target, sizeof(target), "%s", out ? out : "");
	if (!out)
		sim__path(target, sizeof(target), "%s/study.sqlite", dir);
	sim__path(tmp, sizeof(tmp), "%s.tmp-%ld", target, (long)getpid());
	unlink(tmp);
	if (sqlite3_open(tmp, &db) != SQLITE_OK) {
		snprintf(why, why_len, "%s: %s", tmp, db ? sqlite3_errmsg(db) : "cannot open");
		rc = -EIO;
		goto out;
	}
	if ((rc = exec(db, schema, why, why_len)))
		goto out;
	char ver[16];
	snprintf(ver, sizeof(ver), "%d", SIM_STUDY_SCHEMA_VERSION);
	rc = meta_put(db, "study_schema_version", ver);
	char *save = NULL;
	for (char *line = strtok_r(text, "\n", &save); line && !rc;
	     line = strtok_r(NULL, "\n", &save)) {
		char *tab = strchr(line, '\t');
		if (!tab || line[0] == '#')
			continue;
		*tab = '\0';
		if (!strcmp(line, "run")) {
			*tab = '\t';
			size_t index;
			if ((rc = put_run(db, line, &index, why, why_len)) == 0)
				rc = copy_run(db, dir, index, why, why_len);
			nruns++;
		} else if (strcmp(line, "threads") != 0) {
			/* study, scenario, runs, compare, axes (tab-separated). */
			for (char *p = tab + 1; *p; p++)
				if (*p == '\t')
					*p = ',';
			rc = meta_put(db, strcmp(line, "study") ? line : "name", tab + 1);
		}
	}
	char stext[PATH_MAX];
	char *study = sim__path(stext, sizeof(stext), "%s/study.ini", dir) ? NULL : slurp(stext);
	if (!rc && study)
		rc = meta_put(db, "study_ini", study);
	free(study);
	if (rc && !why[0])
		snprintf(why, why_len, "cannot write %s", tmp);
out:
	if (db && sqlite3_close(db) != SQLITE_OK && !rc) {
		snprintf(why, why_len, "%s: close failed", tmp);
		rc = -EIO;
	}
	if (!rc && rename(tmp, target) != 0) {
		snprintf(why, why_len, "rename %s -> %s: %s", tmp, target, strerror(errno));
		rc = -EIO;
	}
	if (rc)
		unlink(tmp);
	else if (msg)
		fprintf(msg, "raas-sim merge: %zu runs into %s\n", nruns, target);
	free(text);
	return rc;
}
