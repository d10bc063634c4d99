/* sweep.c: `raas-sim sweep` and `raas-sim sweep-task`: a study's runs on an existing engine.
 *
 * The sweep writes the study folder (sim/study.h) and hands the runs to GNU parallel or to a
 * Slurm job array; both execute `raas-sim sweep-task DIR FIRST[-LAST]`, which reads the runs'
 * seeds and assignments from DIR/manifest.tsv and runs each with sim_run(), writing
 * DIR/runs/run-NNNNNN.sqlite atomically (a task that dies leaves no half run file). No
 * scheduling of our own: retries, placement, accounting and progress are the engine's. */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <limits.h>
#include <spawn.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "common/error.h"
#include "run.h"
#include "study.h"
#include "study_internal.h"

extern char **environ;

#define MANIFEST_MAGIC "# raas-sim study manifest 1"
#define ARRAY_MAX 1000 /* Slurm's default MaxArraySize is 1001: indices 0-1000 */

static int mkdir_p(const char *path, char *why, size_t len)
{
	if (mkdir(path, 0755) == 0 || errno == EEXIST)
		return 0;
	snprintf(why, len, "%s: %s", path, strerror(errno));
	return errno == EACCES || errno == EROFS ? -EACCES : -EIO;
}

static int write_file(const char *path, const char *text, char *why, size_t len)
{
	char tmp[PATH_MAX + 16];
	sim__path(tmp, sizeof(tmp), "%s.tmp-%ld", path, (long)getpid());
	FILE *f = fopen(tmp, "w");
	if (!f || fputs(text, f) < 0 || fclose(f) != 0 || rename(tmp, path) != 0) {
		snprintf(why, len, "%s: %s", path, strerror(errno));
		if (f)
			unlink(tmp);
		return -EIO;
	}
	return 0;
}

int sim__path(char *buf, size_t len, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	int n = vsnprintf(buf, len, fmt, ap);
	va_end(ap);
	return n < 0 || (size_t)n >= len ? -ENAMETOOLONG : 0;
}

int sim__run_file(const char *dir, size_t index, char *buf, size_t len)
{
	return sim__path(buf, len, "%s/runs/run-%06zu.sqlite", dir, index);
}

/* The manifest: header lines, then one line per run:
 *   run <TAB> INDEX <TAB> SEED <TAB> NAME <TAB> NASSIGN {<TAB> ASSIGN}
 * NAME is "axis=level,axis=level" (empty without axes). */
static int write_manifest(const struct sim_study *s, const char *dir, const char *scenario,
			  char *why, size_t len)
{
	char path[PATH_MAX], tmp[PATH_MAX + 16];
	char *buf = malloc(16384);
	int rc = 0;

	if (!buf)
		return -ENOMEM;
	if (sim__path(path, sizeof(path), "%s/manifest.tsv", dir)) {
		free(buf);
		return -ENAMETOOLONG;
	}
	snprintf(tmp, sizeof(tmp), "%s.tmp-%ld", path, (long)getpid());
	FILE *f = fopen(tmp, "w");
	if (!f) {
		snprintf(why, len, "%s: %s", tmp, strerror(errno));
		free(buf);
		return -EIO;
	}
	fprintf(f, "%s\nstudy\t%s\nscenario\t%s\nthreads\t%d\nruns\t%zu\ncompare\t%s\naxes", MANIFEST_MAGIC,
		s->name, scenario, s->threads, s->nruns, s->compare);
	for (size_t a = 0; a < s->naxes; a++)
		fprintf(f, "\t%s", s->axes[a].name);
	fputc('\n', f);
	for (size_t i = 0; i < s->nruns && !rc; i++) {
		struct sim_study_run run;
		if ((rc = sim_study_run_at(s, i, &run, buf, 16384))) {
			snprintf(why, len, "run %zu: too many assignments", i);
			break;
		}
		fprintf(f, "run\t%zu\t%" PRIu64 "\t", i, run.seed);
		for (size_t a = 0; a < s->naxes; a++)
			fprintf(f, "%s%s=%s", a ? "," : "", s->axes[a].name, run.level[a]);
		fprintf(f, "\t%zu", run.nassign);
		for (size_t k = 0; k < run.nassign; k++)
			fprintf(f, "\t%s", run.assign[k]);
		fputc('\n', f);
	}
	free(buf);
	if (fclose(f) != 0 && !rc) {
		snprintf(why, len, "%s: %s", tmp, strerror(errno));
		rc = -EIO;
	}
	if (!rc && rename(tmp, path) != 0) {
		snprintf(why, len, "%s: %s", path, strerror(errno));
		rc = -EIO;
	}
	if (rc)
		unlink(tmp);
	return rc;
}

/* Runs argv (argv[0] found on PATH) and waits; the exit status, or -1 when it cannot start.
 * With out_fd >= 0 its stdout goes there. */
static int spawn_wait(char *const argv[], int out_fd)
{
	posix_spawn_file_actions_t fa;
	pid_t pid;
	int st;

	posix_spawn_file_actions_init(&fa);
	if (out_fd >= 0)
		posix_spawn_file_actions_adddup2(&fa, out_fd, STDOUT_FILENO);
	int e = posix_spawnp(&pid, argv[0], &fa, NULL, argv, environ);
	posix_spawn_file_actions_destroy(&fa);
	if (e)
		return -1;
	while (waitpid(pid, &st, 0) < 0)
		if (errno != EINTR)
			return -1;
	return WIFEXITED(st) ? WEXITSTATUS(st) : 128 + (WIFSIGNALED(st) ? WTERMSIG(st) : 0);
}

static int run_local(const struct sim_sweep_opts *o, const struct sim_study *s, const char *dir,
		     const char *self, char *why, size_t len)
{
	char tasks[PATH_MAX], jobs[32], cmd[PATH_MAX + 64];
	if (sim__path(tasks, sizeof(tasks), "%s/tasks.txt", dir))
		return -ENAMETOOLONG;
	FILE *f = fopen(tasks, "w");
	if (!f) {
		snprintf(why, len, "%s: %s", tasks, strerror(errno));
		return -EIO;
	}
	/* Chunks of runs per parallel job: GNU parallel costs a few ms per job (more than a
	 * short run), so a job takes several runs, while keeping about 20 jobs per CPU for the
	 * balance and the bar. */
	long cpus = sysconf(_SC_NPROCESSORS_ONLN);
	size_t slots = (size_t)(o->jobs > 0 ? o->jobs : (cpus > 0 ? cpus : 1)) * 20;
	size_t per = o->per_task ? o->per_task : (s->nruns + slots - 1) / slots;
	for (size_t i = 0; i < s->nruns; i += per)
		fprintf(f, "%zu-%zu\n", i, i + per - 1 < s->nruns ? i + per - 1 : s->nruns - 1);
	if (fclose(f)) {
		snprintf(why, len, "%s: write failed", tasks);
		return -EIO;
	}
	snprintf(jobs, sizeof(jobs), "%d", o->jobs > 0 ? o->jobs : 0);
	if (o->jobs <= 0)
		snprintf(jobs, sizeof(jobs), "100%%");
	snprintf(cmd, sizeof(cmd), "%s", self);
	char *argv[20];
	int n = 0;
	argv[n++] = "parallel";
	argv[n++] = "--will-cite";
	argv[n++] = "--halt";
	argv[n++] = "now,fail=1";
	argv[n++] = "-j";
	argv[n++] = jobs;
	/* One progress bar, on a terminal only (without one parallel would look for /dev/tty). */
	if (o->progress && isatty(STDERR_FILENO))
		argv[n++] = "--bar";
	argv[n++] = "-a";
	argv[n++] = tasks;
	argv[n++] = cmd;
	argv[n++] = "sweep-task";
	argv[n++] = (char *)dir;
	argv[n++] = "{}";
	argv[n] = NULL;
	int st = spawn_wait(argv, -1);
	if (st < 0) {
		snprintf(why, len, "cannot run GNU parallel (Debian package parallel; "
				   "scripts/install-deps installs it)");
		return -ENOENT;
	}
	if (st != 0) {
		snprintf(why, len, "GNU parallel: %d task(s) failed (their messages are above)", st);
		return -EIO;
	}
	return 0;
}

static int run_slurm(const struct sim_sweep_opts *o, const struct sim_study *s, const char *dir,
		     const char *self, FILE *out, char *why, size_t len)
{
	size_t per = o->per_task ? o->per_task : (s->nruns + ARRAY_MAX) / (ARRAY_MAX + 1);
	size_t ntasks = (s->nruns + per - 1) / per;
	char script[PATH_MAX], logs[PATH_MAX];
	char *text = malloc(8192 + 3 * PATH_MAX);
	int rc = 0;

	if (!text)
		return -ENOMEM;
	if (sim__path(logs, sizeof(logs), "%s/logs", dir) ||
	    sim__path(script, sizeof(script), "%s/sweep.sbatch", dir))
		rc = -ENAMETOOLONG;
	if (rc || (rc = mkdir_p(logs, why, len))) {
		free(text);
		return rc;
	}
	snprintf(text, 8192 + 3 * PATH_MAX,
		 "#!/bin/sh\n"
		 "# %s: written by raas-sim sweep --slurm; %zu runs in %zu array tasks of %zu.\n"
		 "#SBATCH --job-name=raas-sim-%s\n"
		 "#SBATCH --array=0-%zu\n"
		 "#SBATCH --ntasks=1\n"
		 "#SBATCH --cpus-per-task=%d\n"
		 "#SBATCH --output=%s/task-%%a.out\n"
		 "first=$((SLURM_ARRAY_TASK_ID * %zu))\n"
		 "last=$((first + %zu))\n"
		 "[ \"$last\" -gt %zu ] && last=%zu\n"
		 "exec '%s' sweep-task '%s' \"$first-$last\"\n",
		 s->name, s->nruns, ntasks, per, s->name, ntasks - 1, s->threads, logs, per,
		 per - 1, s->nruns - 1, s->nruns - 1, self, dir);
	rc = write_file(script, text, why, len);
	free(text);
	if (rc)
		return rc;
	chmod(script, 0755);

	char *argv[64], *extra = o->sbatch_args ? strdup(o->sbatch_args) : NULL, *save = NULL;
	int n = 0;
	argv[n++] = "sbatch";
	argv[n++] = "--parsable";
	if (o->wait)
		argv[n++] = "--wait";
	for (char *t = extra ? strtok_r(extra, " \t", &save) : NULL; t && n < 60;
	     t = strtok_r(NULL, " \t", &save))
		argv[n++] = t;
	argv[n++] = script;
	argv[n] = NULL;
	char idfile[PATH_MAX];
	if (sim__path(idfile, sizeof(idfile), "%s/slurm-job.txt", dir)) {
		free(extra);
		return -ENAMETOOLONG;
	}
	int fd = open(idfile, O_WRONLY | O_CREAT | O_TRUNC, 0644);
	if (fd < 0) {
		free(extra);
		snprintf(why, len, "%s: %s", idfile, strerror(errno));
		return -EIO;
	}
	int st = spawn_wait(argv, fd);
	close(fd);
	free(extra);
	char id[64] = "";
	FILE *f = fopen(idfile, "r");
	if (f) {
		if (!fgets(id, sizeof(id), f))
			id[0] = '\0';
		fclose(f);
		id[strcspn(id, ";\n")] = '\0';
	}
	if (st < 0) {
		snprintf(why, len, "cannot run sbatch (Debian package slurm-client)");
		return -ENOENT;
	}
	if (st != 0 || !id[0]) {
		snprintf(why, len, "sbatch %s failed (exit %d)%s", script, st,
			 o->wait && id[0] ? ": some array tasks failed; see the logs folder" : "");
		return -EIO;
	}
	fprintf(out, "%s: Slurm job %s, %zu array tasks (%s/task-N.out)%s\n", s->name, id, ntasks,
		logs, o->wait ? ", finished" : ": `raas-sim merge` when it is done");
	return 0;
}

int sim_sweep(const struct sim_sweep_opts *o, FILE *out, char *why, size_t why_len)
{
	struct sim_study *s;
	char dir[PATH_MAX], runs[PATH_MAX], path[PATH_MAX], self[PATH_MAX], scenario[PATH_MAX];
	int rc = sim_study_load(o->study, &s, why, why_len);

	if (rc)
		return rc;
	if (o->dir)
		snprintf(dir, sizeof(dir), "%s", o->dir);
	else
		snprintf(dir, sizeof(dir), "%s.study", s->name);
	if (sim__path(runs, sizeof(runs), "%s/runs", dir)) {
		snprintf(why, why_len, "study folder path too long");
		rc = -ENAMETOOLONG;
		goto out;
	}
	if ((rc = mkdir_p(dir, why, why_len)) || (rc = mkdir_p(runs, why, why_len)))
		goto out;
	/* Tasks may run elsewhere (Slurm) or from another directory: absolute paths. */
	char abs[PATH_MAX];
	if (!realpath(dir, abs) || !realpath(s->scenario, scenario)) {
		snprintf(why, why_len, "%s: %s", realpath(dir, abs) ? s->scenario : dir,
			 strerror(errno));
		rc = -ENOENT;
		goto out;
	}
	snprintf(dir, sizeof(dir), "%s", abs);
	if (o->self) {
		snprintf(self, sizeof(self), "%s", o->self);
	} else {
		ssize_t n = readlink("/proc/self/exe", self, sizeof(self) - 1);
		if (n <= 0) {
			snprintf(why, why_len, "cannot find the raas-sim binary (/proc/self/exe)");
			rc = -ENOENT;
			goto out;
		}
		self[n] = '\0';
	}
	sim__path(path, sizeof(path), "%s/study.ini", dir);
	if ((rc = write_file(path, s->text, why, why_len)) ||
	    (rc = write_manifest(s, dir, scenario, why, why_len)))
		goto out;
	fprintf(out, "%s: %zu runs (%zu seeds", s->name, s->nruns, s->nseeds);
	for (size_t a = 0; a < s->naxes; a++)
		fprintf(out, " x %zu %s", s->axes[a].nlevels, s->axes[a].name);
	fprintf(out, ") in %s\n", dir);
	fflush(out);
	if (o->engine == SIM_SWEEP_LOCAL)
		rc = run_local(o, s, dir, self, why, why_len);
	else if (o->engine == SIM_SWEEP_SLURM)
		rc = run_slurm(o, s, dir, self, out, why, why_len);
	else
		fprintf(out, "planned only: run the tasks with `raas-sim sweep-task %s I` for I in "
			     "0..%zu, or sweep --local / --slurm\n", dir, s->nruns - 1);
out:
	sim_study_destroy(s);
	return rc;
}

/* ---- the task ---- */

struct manifest_run {
	uint64_t seed;
	const char *assign[256];
	size_t nassign;
};

/* Parses one run line (modified in place) into r and its index. */
static int parse_run_line(char *line, size_t *index, struct manifest_run *r)
{
	char *f[300], *s2 = NULL;
	size_t nf = 0;
	for (char *t = strtok_r(line, "\t", &s2); t && nf < 300; t = strtok_r(NULL, "\t", &s2))
		f[nf++] = t;
	/* NAME may be empty (no axes): strtok skips it, so count the assignments from the end. */
	if (nf < 4)
		return -EINVAL;
	size_t na = nf >= 5 && strchr(f[3], '=') ? strtoull(f[4], NULL, 10)
						: strtoull(f[3], NULL, 10);
	if (na > 256 || nf - na < 4)
		return -EINVAL;
	*index = strtoull(f[1], NULL, 10);
	r->seed = strtoull(f[2], NULL, 10);
	r->nassign = na;
	for (size_t k = 0; k < na; k++)
		r->assign[k] = f[nf - na + k];
	return 0;
}

static char *read_text(const char *path, char *why, size_t len)
{
	FILE *f = fopen(path, "r");
	if (!f) {
		snprintf(why, len, "%s: %s", path, strerror(errno));
		return NULL;
	}
	size_t cap = 1 << 16, n = 0;
	char *t = malloc(cap);
	for (size_t got; t && (got = fread(t + n, 1, cap - n - 1, f)) > 0;) {
		n += got;
		if (n + 1 == cap) {
			char *v = realloc(t, cap * 2);
			if (!v) {
				free(t);
				t = NULL;
				break;
			}
			t = v;
			cap *= 2;
		}
	}
	fclose(f);
	if (!t)
		snprintf(why, len, "%s: out of memory", path);
	else
		t[n] = '\0';
	return t;
}

int sim_sweep_task(const char *dir, size_t first, size_t last, char *why, size_t why_len)
{
	char path[PATH_MAX], err[1024], *scenario = NULL, *save = NULL;
	int rc = 0, threads = 1;
	size_t done = 0;
	bool magic = false;

	if (sim__path(path, sizeof(path), "%s/manifest.tsv", dir)) {
		snprintf(why, why_len, "path too long");
		return -ENAMETOOLONG;
	}
	char *text = read_text(path, why, why_len);
	if (!text)
		return -ENOENT;
	/* One pass over the manifest: the header lines come first, then the runs in order. */
	for (char *line = strtok_r(text, "\n", &save); line && !rc && done < last - first + 1;
	     line = strtok_r(NULL, "\n", &save)) {
		if (!magic) {
			if (strcmp(line, MANIFEST_MAGIC) != 0)
				break;
			magic = true;
		} else if (!strncmp(line, "scenario\t", 9)) {
			scenario = line + 9;
		} else if (!strncmp(line, "threads\t", 8)) {
			threads = atoi(line + 8);
		} else if (!strncmp(line, "run\t", 4)) {
			struct manifest_run r;
			size_t i;
			if (parse_run_line(line, &i, &r)) {
				snprintf(why, why_len, "%s: a malformed run line", path);
				rc = -EINVAL;
				break;
			}
			if (i < first || i > last)
				continue;
			char out[PATH_MAX];
			if (!scenario || sim__run_file(dir, i, out, sizeof(out))) {
				snprintf(why, why_len, "%s: %s", path,
					 scenario ? "path too long" : "no scenario line");
				rc = -EINVAL;
				break;
			}
			struct sim_run_opts o = {.scenario = scenario, .out = out,
						 .overrides = r.assign, .noverrides = r.nassign,
						 .have_seed = true, .seed = r.seed,
						 .threads = threads > 0 ? threads : 1,
						 .progress = SIM_PROGRESS_NEVER};
			struct sim_run_stats st;
			rc = sim_run(&o, &st, err, sizeof(err));
			if (rc)
				snprintf(why, why_len, "run %zu (seed %" PRIu64 "): %s", i, r.seed, err);
			done++;
		}
	}
	if (!rc && !magic) {
		snprintf(why, why_len, "%s: not a study manifest (no '%s' line)", path,
			 MANIFEST_MAGIC);
		rc = -EINVAL;
	} else if (!rc && done < last - first + 1) {
		snprintf(why, why_len, "%s: no run %zu in the manifest", path, first + done);
		rc = -ERANGE;
	}
	free(text);
	return rc;
}
