/* study_cli.c: the command lines of `raas-sim sweep`, `sweep-task` and `merge` (sim/study.h).
 *
 * Kept apart from main.c so that the study commands are one file to read; exit codes are
 * main.c's sysexits: 64 usage, 65 bad data, 69 unavailable (a missing engine or run file),
 * 70 internal, 73 cannot create, 78 a bad study or scenario. */
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/error.h"
#include "study.h"

static int code(int rc)
{
	switch (rc) {
	case 0:
		return 0;
	case -RAAS_ECONFIG:
		return 78;
	case -ENOENT:
		return 69;
	case -EINVAL:
		return 65;
	case -EACCES:
	case -EIO:
		return 73;
	default:
		return 70;
	}
}

static int parse_count(const char *s, size_t *out)
{
	char *end;
	errno = 0;
	unsigned long long v = strtoull(s, &end, 10);
	if (!*s || *end || errno || *s == '-' || v > 100000000)
		return -1;
	*out = (size_t)v;
	return 0;
}

static int cmd_sweep(int argc, char **argv)
{
	enum { O_LOCAL = 256, O_SLURM, O_JOBS, O_OUT, O_WAIT, O_SBATCH, O_PER_TASK, O_NO_BAR };
	static const struct option opts[] = {
		{"local", no_argument, NULL, O_LOCAL}, {"slurm", no_argument, NULL, O_SLURM},
		{"jobs", required_argument, NULL, O_JOBS}, {"out", required_argument, NULL, O_OUT},
		{"wait", no_argument, NULL, O_WAIT},
		{"sbatch-args", required_argument, NULL, O_SBATCH},
		{"per-task", required_argument, NULL, O_PER_TASK},
		{"no-progress", no_argument, NULL, O_NO_BAR}, {NULL, 0, NULL, 0},
	};
	struct sim_sweep_opts o = {.engine = SIM_SWEEP_PLAN, .progress = true};
	char why[2048];
	size_t v;
	int c;

	optind = 2;
	while ((c = getopt_long(argc, argv, "", opts, NULL)) != -1) {
		switch (c) {
		case O_LOCAL:
		case O_SLURM:
			if (o.engine != SIM_SWEEP_PLAN) {
				fprintf(stderr, "raas-sim sweep: --local or --slurm, not both\n");
				return 64;
			}
			o.engine = c == O_LOCAL ? SIM_SWEEP_LOCAL : SIM_SWEEP_SLURM;
			break;
		case O_JOBS:
			if (parse_count(optarg, &v) || v < 1 || v > 1024) {
				fprintf(stderr, "raas-sim sweep: --jobs '%s' is not 1 to 1024\n", optarg);
				return 64;
			}
			o.jobs = (int)v;
			break;
		case O_PER_TASK:
			if (parse_count(optarg, &v) || v < 1) {
				fprintf(stderr, "raas-sim sweep: --per-task '%s' is not a count >= 1\n",
					optarg);
				return 64;
			}
			o.per_task = v;
			break;
		case O_OUT:
			o.dir = optarg;
			break;
		case O_WAIT:
			o.wait = true;
			break;
		case O_SBATCH:
			o.sbatch_args = optarg;
			break;
		case O_NO_BAR:
			o.progress = false;
			break;
		default:
			return 64;
		}
	}
	if (optind != argc - 1) {
		fprintf(stderr, "raas-sim sweep: give one STUDY.ini\n");
		return 64;
	}
	if ((o.wait || o.sbatch_args) && o.engine != SIM_SWEEP_SLURM) {
		fprintf(stderr, "raas-sim sweep: --wait and --sbatch-args go with --slurm\n");
		return 64;
	}
	if (o.jobs && o.engine != SIM_SWEEP_LOCAL) {
		fprintf(stderr, "raas-sim sweep: --jobs goes with --local\n");
		return 64;
	}
	o.study = argv[optind];
	int rc = sim_sweep(&o, stdout, why, sizeof(why));
	if (rc)
		fprintf(stderr, "raas-sim sweep: %s\n", why);
	return code(rc);
}

static int cmd_task(int argc, char **argv)
{
	size_t first, last;
	char why[2048], range[64];

	if (argc != 4) {
		fprintf(stderr, "raas-sim sweep-task: give DIR and FIRST[-LAST]\n");
		return 64;
	}
	snprintf(range, sizeof(range), "%s", argv[3]);
	char *dash = strchr(range, '-');
	if (dash)
		*dash = '\0';
	if (parse_count(range, &first) || (dash && parse_count(dash + 1, &last)) ||
	    (dash && last < first)) {
		fprintf(stderr, "raas-sim sweep-task: '%s' is not a run index or FIRST-LAST\n",
			argv[3]);
		return 64;
	}
	if (!dash)
		last = first;
	int rc = sim_sweep_task(argv[2], first, last, why, sizeof(why));
	if (rc)
		fprintf(stderr, "raas-sim sweep-task: %s: %s\n", argv[2], why);
	return code(rc);
}

static int cmd_merge(int argc, char **argv)
{
	const char *out = NULL, *dir = NULL;
	char why[2048];

	for (int i = 2; i < argc; i++) {
		if (!strcmp(argv[i], "--out") && i + 1 < argc)
			out = argv[++i];
		else if (!dir && argv[i][0] != '-')
			dir = argv[i];
		else {
			fprintf(stderr, "raas-sim merge: give DIR [--out STUDY.sqlite]\n");
			return 64;
		}
	}
	if (!dir) {
		fprintf(stderr, "raas-sim merge: give DIR [--out STUDY.sqlite]\n");
		return 64;
	}
	int rc = sim_merge(dir, out, stdout, why, sizeof(why));
	if (rc)
		fprintf(stderr, "raas-sim merge: %s\n", why);
	return code(rc);
}

int sim_study_main(int argc, char **argv)
{
	if (!strcmp(argv[1], "sweep"))
		return cmd_sweep(argc, argv);
	if (!strcmp(argv[1], "sweep-task"))
		return cmd_task(argc, argv);
	return cmd_merge(argc, argv);
}
