/* study.h: studies: many raas-sim runs over a grid, on a cluster engine, merged and reported.
 *
 * A study file (STUDY.ini, docs/simulator.md "Studies") names a base scenario, the seeds, and
 * axes: each axis has named levels, each level a list of scenario assignments
 * ("section.key=value; ..."). The grid is every combination of levels times every seed;
 * each combination is one ordinary `raas-sim run` with those assignments as --set overrides
 * and that seed, writing its own run file. The runs are independent, so they go to an
 * existing engine instead of a scheduler of our own: GNU parallel on this machine
 * (`raas-sim sweep --local`), a Slurm job array on a cluster (`--slurm`). Both execute the same
 * task (`raas-sim sweep-task DIR INDEX`), which reads the run's assignments from the study
 * folder's manifest, so a run is the same wherever it ran. `raas-sim merge DIR` then collects
 * the run files into one study file, and `raas-sim report STUDY` reports it: provider
 * revenue, social welfare (true values), utilization and tenant profit per level of the
 * compared axis, with 95% confidence intervals across seeds.
 *
 * The study folder:
 *   DIR/study.ini        a copy of the study file as it was swept
 *   DIR/manifest.tsv     one line per run: index, seed, each axis's level, the assignments
 *   DIR/runs/run-NNNNN.sqlite  the run files (written atomically by each task)
 *   DIR/sweep.sbatch     the Slurm job script (--slurm); DIR/logs/ its output
 *   DIR/study.sqlite     the merged study (raas-sim merge)
 * A study file holds, besides the merged tables (study_* below), a meta table with
 * `study_schema_version`, so `raas-sim report` tells a study from a run file. */
#ifndef SIM_STUDY_H
#define SIM_STUDY_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#define SIM_STUDY_SCHEMA_VERSION 1
#define SIM_STUDY_MAX_AXES 16
#define SIM_STUDY_MAX_LEVELS 256
#define SIM_STUDY_MAX_RUNS 1000000

struct sim_study_level {
	char name[64];
	char *assign;     /* "section.key=value; ..." (owned) */
	int line;         /* where it was given */
};

struct sim_study_axis {
	char name[64];
	struct sim_study_level *levels;
	size_t nlevels;
};

struct sim_study {
	char path[1024], dir[1024]; /* the study file and its folder */
	char name[64];
	char scenario[1024];        /* absolute or relative to the caller's cwd */
	char *text;                 /* the study file's text (owned) */
	uint64_t *seeds;
	size_t nseeds;
	int threads;                /* per run */
	char compare[64];           /* the axis the report compares ("" = the first) */
	char *set;                  /* [set] assignments joined with "; " (owned) */
	struct sim_study_axis axes[SIM_STUDY_MAX_AXES];
	size_t naxes;
	size_t nruns;               /* product of levels x seeds */
};

/* Reads and checks a study file: every key known, seeds and levels well-formed, and every
 * combination of levels loads as a scenario (errors name STUDY:LINE: section.key: why, or the
 * scenario's own error for that level). Returns 0, -RAAS_ECONFIG, -ENOENT or -ENOMEM with why. */
int sim_study_load(const char *path, struct sim_study **out, char *why, size_t why_len);
/* The same from text in memory (len bytes): name stands for the file in messages, dir is the
 * folder the scenario path is relative to. */
int sim_study_parse(const char *name, const char *text, size_t len, const char *dir,
		    struct sim_study **out, char *why, size_t why_len);
void sim_study_destroy(struct sim_study *s);

/* One run of the grid: its seed, its level per axis and its --set assignments (pointers into
 * buf, which must hold 16 KiB; n_assign entries of assign). Returns 0 or -E2BIG / -ERANGE. */
struct sim_study_run {
	size_t index;
	uint64_t seed;
	const char *level[SIM_STUDY_MAX_AXES];
	const char *assign[256];
	size_t nassign;
};
int sim_study_run_at(const struct sim_study *s, size_t index, struct sim_study_run *run,
		     char *buf, size_t buf_len);

/* ---- sweep (sweep.c) ---- */

enum sim_sweep_engine { SIM_SWEEP_PLAN, SIM_SWEEP_LOCAL, SIM_SWEEP_SLURM };

struct sim_sweep_opts {
	const char *study;          /* STUDY.ini */
	const char *dir;            /* the study folder (default: STUDY's name beside it) */
	enum sim_sweep_engine engine;
	int jobs;                   /* --local: parallel jobs (0: one per CPU) */
	bool progress;              /* --local: GNU parallel's progress bar */
	const char *sbatch_args;    /* --slurm: extra sbatch arguments, split at blanks */
	bool wait;                  /* --slurm: sbatch --wait */
	size_t per_task;            /* runs per task (0: --local about 20 tasks per job slot,
				       --slurm as few as fit Slurm's MaxArraySize 1001) */
	const char *self;           /* the raas-sim binary tasks run (default /proc/self/exe) */
};

/* Writes the study folder (copy, manifest, runs/), then runs every task with the engine:
 * GNU parallel (`parallel --bar`) or `sbatch --array` (prints the job id). Returns 0, or
 * a negative error with why (a failed task names its index and log). */
int sim_sweep(const struct sim_sweep_opts *o, FILE *out, char *why, size_t why_len);
/* Runs the runs [first, last] of a study folder (a task of either engine). Returns 0 or the
 * first failure with why. */
int sim_sweep_task(const char *dir, size_t first, size_t last, char *why, size_t why_len);

/* ---- merge (merge.c) ---- */

/* Collects every run file of a study folder into out (default DIR/study.sqlite), atomically.
 * Tables: study_meta(key, value); study_runs(run, name, seed, assign); study_levels(run, axis,
 * level); study_metrics(run, variant, name, value, unit, exact); study_classes(run, variant,
 * class, kind, app, utility, strategy, resource, tenants, value, payment, profit);
 * study_run_meta(run, variant, key, value); and when the runs recorded bids:
 * study_clearings(run, variant, round, host, resource, supply, price, revenue, allocated,
 * welfare) and study_bids(run, variant, round, host, resource, bidder, min_quantity,
 * max_quantity, unit_price, held, curve, true_curve, quantity, payment). Every run must be
 * there: a missing or foreign run file is named and nothing is written. */
int sim_merge(const char *dir, const char *out, FILE *msg, char *why, size_t why_len);

/* ---- report (study_report.c) ---- */

/* True when path is a study file (or a study folder holding study.sqlite). */
bool sim_study_is(const char *path);
/* Prints (and, unless !charts, plots into out_dir) provider revenue, social welfare,
 * tenant utility and utilization per level of the compared axis and of every other axis,
 * with 95% confidence intervals across seeds (Student t), the mechanism that earns most and
 * its welfare cost against the most efficient one (paired by seed). Returns 0 or a negative
 * error with why. */
int sim_study_report(const char *path, const char *out_dir, bool charts, FILE *out, char *why,
		     size_t why_len);

/* ---- command line (study_cli.c) ---- */

/* `raas-sim sweep | sweep-task | merge ...` (argv[1] is the command). Returns the exit code
 * (sysexits). */
int sim_study_main(int argc, char **argv);

#endif
