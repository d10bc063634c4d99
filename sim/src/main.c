/* main.c: the raas-sim command line: run, validate, report, bench.
 *
 * Exit codes (sysexits): 0 success, 64 usage, 65 bad data (a run file that is not one), 69 a
 * needed input is unavailable (the shared data folder, gnuplot is only a warning), 70 an
 * internal failure, 73 the output cannot be created, 78 a bad scenario. */
#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/error.h"
#include "pricing/trace.h"
#include "bench.h"
#include "fit_spot.h"
#include "report.h"
#include "run.h"
#include "scenario.h"
#include "study.h"

#define EX_USAGE 64
#define EX_DATAERR 65
#define EX_UNAVAILABLE 69
#define EX_SOFTWARE 70
#define EX_CANTCREAT 73
#define EX_CONFIG 78
#define MAX_OVERRIDES 256

#ifndef RAAS_VERSION
#define RAAS_VERSION "0"
#endif

static void usage(FILE *f)
{
	fputs("usage: raas-sim run SCENARIO.ini --out RUN.sqlite [--set SECTION.KEY=VALUE]...\n"
	      "                    [--seed N] [--threads N] [--progress=auto|never|json] [--quiet]\n"
	      "       raas-sim validate SCENARIO.ini [--set SECTION.KEY=VALUE]...\n"
	      "       raas-sim report RUN.sqlite --out DIR [--no-charts]\n"
	      "       raas-sim report STUDY [--out DIR] [--no-charts]   (a merged study)\n"
	      "       raas-sim report --compare A.sqlite B.sqlite   (two runs, live or simulated)\n"
	      "       raas-sim sweep STUDY.ini [--local [--jobs N] | --slurm [--wait]] [--out DIR]\n"
	      "       raas-sim sweep-task DIR FIRST[-LAST]\n"
	      "       raas-sim merge DIR [--out STUDY.sqlite]\n"
	      "       raas-sim bench [--hosts N] [--tenants N[,N...]] [--rounds N] [--threads N]\n"
	      "       raas-sim fit-spot TRACE.csv... [--from DATE] [--to DATE] [--tick $X] [--seed N]\n"
	      "                    [--changes N] [--fit-changes N] [--pooled-only] [--csv FILE]\n"
	      "       raas-sim help-config | --version | --help\n"
	      "Scenarios, keys and the run file: docs/simulator.md.\n",
	      f);
}

static int exit_code(int rc)
{
	switch (rc) {
	case 0:
		return 0;
	case -RAAS_ECONFIG:
		return EX_CONFIG;
	case -ENOENT:
		return EX_UNAVAILABLE;
	case -EIO:
	case -EACCES:
	case -EROFS:
		return EX_CANTCREAT;
	case -EINVAL:
		return EX_DATAERR;
	default:
		return EX_SOFTWARE;
	}
}

static int parse_u64(const char *s, uint64_t *out)
{
	char *end;

	errno = 0;
	unsigned long long v = strtoull(s, &end, 10);
	if (!*s || *end || errno || *s == '-')
		return -1;
	*out = v;
	return 0;
}

static int parse_progress(const char *s, enum sim_progress_mode *m)
{
	if (strcmp(s, "auto") == 0)
		*m = SIM_PROGRESS_AUTO;
	else if (strcmp(s, "never") == 0)
		*m = SIM_PROGRESS_NEVER;
	else if (strcmp(s, "json") == 0)
		*m = SIM_PROGRESS_JSON;
	else
		return -1;
	return 0;
}

enum { OPT_SET = 256, OPT_SEED, OPT_THREADS, OPT_PROGRESS, OPT_QUIET, OPT_OUT, OPT_NO_CHARTS,
       OPT_HOSTS, OPT_TENANTS, OPT_ROUNDS, OPT_COMPARE };

static const struct option options[] = {
	{"set", required_argument, NULL, OPT_SET},
	{"seed", required_argument, NULL, OPT_SEED},
	{"threads", required_argument, NULL, OPT_THREADS},
	{"progress", required_argument, NULL, OPT_PROGRESS},
	{"quiet", no_argument, NULL, OPT_QUIET},
	{"out", required_argument, NULL, OPT_OUT},
	{"no-charts", no_argument, NULL, OPT_NO_CHARTS},
	{"compare", no_argument, NULL, OPT_COMPARE},
	{"hosts", required_argument, NULL, OPT_HOSTS},
	{"tenants", required_argument, NULL, OPT_TENANTS},
	{"rounds", required_argument, NULL, OPT_ROUNDS},
	{"help", no_argument, NULL, 'h'},
	{NULL, 0, NULL, 0},
};

struct args {
	const char *overrides[MAX_OVERRIDES];
	size_t noverrides;
	struct sim_run_opts run;
	struct sim_bench_opts bench;
	const char *out;
	bool quiet, charts, compare;
	const char *positional[4];
	int npositional;
};

static int parse_args(int argc, char **argv, struct args *a)
{
	int c;
	uint64_t v;

	a->charts = true;
	a->bench.hosts = 10000;
	a->bench.rounds = 1440;
	optind = 2;
	while ((c = getopt_long(argc, argv, "h", options, NULL)) != -1) {
		switch (c) {
		case OPT_SET:
			if (a->noverrides == MAX_OVERRIDES) {
				fprintf(stderr, "raas-sim: more than %d --set\n", MAX_OVERRIDES);
				return EX_USAGE;
			}
			a->overrides[a->noverrides++] = optarg;
			break;
		case OPT_SEED:
			if (parse_u64(optarg, &a->run.seed)) {
				fprintf(stderr, "raas-sim: --seed '%s' is not an integer >= 0\n",
					optarg);
				return EX_USAGE;
			}
			a->run.have_seed = true;
			break;
		case OPT_THREADS:
			if (parse_u64(optarg, &v) || v < 1 || v > 256) {
				fprintf(stderr, "raas-sim: --threads '%s' is not 1 to 256\n", optarg);
				return EX_USAGE;
			}
			a->run.threads = a->bench.threads = (int)v;
			break;
		case OPT_PROGRESS:
			if (parse_progress(optarg, &a->run.progress)) {
				fprintf(stderr, "raas-sim: --progress '%s' is not auto, never or json\n",
					optarg);
				return EX_USAGE;
			}
			break;
		case OPT_QUIET:
			a->quiet = true;
			break;
		case OPT_OUT:
			a->out = optarg;
			break;
		case OPT_NO_CHARTS:
			a->charts = false;
			break;
		case OPT_COMPARE:
			a->compare = true;
			break;
		case OPT_HOSTS:
			if (parse_u64(optarg, &v) || v < 1 || v > 10000000) {
				fprintf(stderr, "raas-sim: --hosts '%s' is not 1 to 10,000,000\n",
					optarg);
				return EX_USAGE;
			}
			a->bench.hosts = (int64_t)v;
			break;
		case OPT_ROUNDS:
			if (parse_u64(optarg, &v) || v < 1 || v > 1000000) {
				fprintf(stderr, "raas-sim: --rounds '%s' is not 1 to 1,000,000\n",
					optarg);
				return EX_USAGE;
			}
			a->bench.rounds = (int64_t)v;
			break;
		case OPT_TENANTS: {
			char *copy = strdup(optarg), *save = NULL;
			a->bench.ntenants = 0;
			for (char *tok = strtok_r(copy, ",", &save); tok;
			     tok = strtok_r(NULL, ",", &save)) {
				if (parse_u64(tok, &v) || v < 1 || v > 100000000 ||
				    a->bench.ntenants == 8) {
					fprintf(stderr,
						"raas-sim: --tenants wants up to 8 counts of 1 to "
						"100,000,000\n");
					free(copy);
					return EX_USAGE;
				}
				a->bench.tenants[a->bench.ntenants++] = (int64_t)v;
			}
			free(copy);
			break;
		}
		case 'h':
			usage(stdout);
			exit(0);
		default:
			usage(stderr);
			return EX_USAGE;
		}
	}
	for (; optind < argc; optind++) {
		if (a->npositional == 4) {
			usage(stderr);
			return EX_USAGE;
		}
		a->positional[a->npositional++] = argv[optind];
	}
	return 0;
}

static int cmd_run(struct args *a)
{
	struct sim_run_stats st;
	char why[1024];

	if (a->npositional != 1 || !a->out) {
		fprintf(stderr, "raas-sim run: give one SCENARIO.ini and --out RUN.sqlite\n");
		return EX_USAGE;
	}
	a->run.scenario = a->positional[0];
	a->run.out = a->out;
	a->run.overrides = a->overrides;
	a->run.noverrides = a->noverrides;
	int rc = sim_run(&a->run, &st, why, sizeof(why));
	if (rc) {
		fprintf(stderr, "raas-sim: %s\n", why);
		return exit_code(rc);
	}
	if (!a->quiet) {
		fprintf(stderr,
			"raas-sim: %s: %" PRIu64 " rounds, %" PRIu64 " tenants, %.2f s on %d "
			"threads\n",
			a->out, st.rounds, st.tenants, st.wall_s, st.threads);
		if (sim_report_summary(a->out, stdout, why, sizeof(why)))
			fprintf(stderr, "raas-sim: summary: %s\n", why);
	}
	return 0;
}

static int cmd_validate(struct args *a)
{
	struct sim_scenario *s, *v;
	struct cfg_error err;
	char msg[1024];

	if (a->npositional != 1) {
		fprintf(stderr, "raas-sim validate: give one SCENARIO.ini\n");
		return EX_USAGE;
	}
	int rc = sim_scenario_load(a->positional[0], NULL, a->overrides, a->noverrides, &s, &err);
	if (rc) {
		fprintf(stderr, "raas-sim: %s\n", cfg_error_format(&err, msg, sizeof(msg)));
		return exit_code(rc);
	}
	for (size_t i = 0; i < s->nvariants; i++) {
		rc = sim_scenario_load(a->positional[0], s->variants[i], a->overrides,
				       a->noverrides, &v, &err);
		if (rc) {
			fprintf(stderr, "raas-sim: variant %s: %s\n", s->variants[i],
				cfg_error_format(&err, msg, sizeof(msg)));
			sim_scenario_destroy(s);
			return exit_code(rc);
		}
		sim_scenario_destroy(v);
	}
	printf("%s: ok: %zu classes, %zu variants, %" PRId64 " hosts, %" PRId64 " rounds\n",
	       a->positional[0], s->nclasses, s->nvariants, s->hosts,
	       (s->duration_ns + s->round_ns - 1) / s->round_ns);
	sim_scenario_destroy(s);
	return 0;
}

static int cmd_report(struct args *a)
{
	char why[1024];

	if (a->compare) {
		if (a->npositional != 2 || a->out) {
			fprintf(stderr, "raas-sim report --compare: give two run files A B\n");
			return EX_USAGE;
		}
		int rc = sim_report_compare(a->positional[0], a->positional[1], stdout, why,
					    sizeof(why));
		if (rc)
			fprintf(stderr, "raas-sim: %s\n", why);
		return exit_code(rc);
	}
	if (a->npositional == 1 && sim_study_is(a->positional[0])) {
		int rc = sim_study_report(a->positional[0], a->out, a->charts, stdout, why,
					  sizeof(why));
		if (rc)
			fprintf(stderr, "raas-sim: %s\n", why);
		return exit_code(rc);
	}
	if (a->npositional != 1 || !a->out) {
		fprintf(stderr, "raas-sim report: give one RUN.sqlite and --out DIR\n");
		return EX_USAGE;
	}
	int rc = sim_report(a->positional[0], a->out, a->charts, stdout, why, sizeof(why));
	if (rc) {
		fprintf(stderr, "raas-sim: %s\n", why);
		return exit_code(rc);
	}
	return 0;
}

static int cmd_bench(struct args *a)
{
	char why[1024];

	if (a->npositional != 0) {
		usage(stderr);
		return EX_USAGE;
	}
	if (a->bench.ntenants == 0) {
		a->bench.tenants[0] = 10000;
		a->bench.tenants[1] = 30000;
		a->bench.tenants[2] = 100000;
		a->bench.ntenants = 3;
	}
	int rc = sim_bench(&a->bench, stdout, why, sizeof(why));
	if (rc) {
		fprintf(stderr, "raas-sim bench: %s\n", why);
		return exit_code(rc);
	}
	return 0;
}

/* "YYYY-MM-DD" or "YYYY-MM-DD HH:MM:SS" (UTC). */
static int parse_date(const char *s, int64_t *out)
{
	char buf[20];

	if (strlen(s) == 10) {
		snprintf(buf, sizeof(buf), "%s 00:00:00", s);
		s = buf;
	}
	return pm_trace_parse_time(s, strlen(s), out);
}

static int cmd_fit_spot(int argc, char **argv)
{
	static const struct option fo[] = {
		{"from", required_argument, NULL, 'f'}, {"to", required_argument, NULL, 't'},
		{"tick", required_argument, NULL, 'k'}, {"seed", required_argument, NULL, 's'},
		{"changes", required_argument, NULL, 'c'},
		{"fit-changes", required_argument, NULL, 'F'},
		{"pooled-only", no_argument, NULL, 'p'}, {"csv", required_argument, NULL, 'o'},
		{NULL, 0, NULL, 0},
	};
	struct sim_fit_spot_opts o = {.seed = 1};
	char why[1024];
	uint64_t v;
	int c;

	optind = 2;
	while ((c = getopt_long(argc, argv, "", fo, NULL)) != -1) {
		switch (c) {
		case 'f':
		case 't':
			if (parse_date(optarg, c == 'f' ? &o.from_ns : &o.to_ns)) {
				fprintf(stderr, "raas-sim fit-spot: --%s '%s' is not YYYY-MM-DD "
						"[HH:MM:SS]\n", c == 'f' ? "from" : "to", optarg);
				return EX_USAGE;
			}
			break;
		case 'k':
			if (money_parse(optarg, &o.tick, NULL) || o.tick <= 0) {
				fprintf(stderr, "raas-sim fit-spot: --tick '%s' is not a positive "
						"amount such as $0.001\n", optarg);
				return EX_USAGE;
			}
			break;
		case 's':
		case 'c':
		case 'F':
			if (parse_u64(optarg, &v) || (c != 's' && (v < 100 || v > 10000000))) {
				fprintf(stderr, "raas-sim fit-spot: '%s' is not %s\n", optarg,
					c == 's' ? "an integer >= 0" : "a count of 100 to 10,000,000");
				return EX_USAGE;
			}
			if (c == 's')
				o.seed = v;
			else if (c == 'c')
				o.changes = (size_t)v;
			else
				o.fit_changes = (size_t)v;
			break;
		case 'p':
			o.pooled_only = true;
			break;
		case 'o':
			o.csv = optarg;
			break;
		default:
			usage(stderr);
			return EX_USAGE;
		}
	}
	if ((o.from_ns || o.to_ns) && !(o.from_ns && o.to_ns && o.from_ns < o.to_ns)) {
		fprintf(stderr, "raas-sim fit-spot: give both --from and --to, --from first\n");
		return EX_USAGE;
	}
	o.traces = (const char *const *)argv + optind;
	o.ntraces = (size_t)(argc - optind);
	if (!o.ntraces) {
		fprintf(stderr, "raas-sim fit-spot: give one or more trace files\n");
		return EX_USAGE;
	}
	int rc = sim_fit_spot(&o, stdout, why, sizeof(why));
	if (rc) {
		fprintf(stderr, "raas-sim fit-spot: %s\n", why);
		return rc == -RAAS_EPARSE ? EX_DATAERR : exit_code(rc);
	}
	return 0;
}

static void help_config(void)
{
	size_t n;
	const struct cfg_key *k = sim_scenario_schema(&n);

	for (size_t i = 0; i < n; i++) {
		if (strcmp(k[i].section, "template.*") == 0)
			continue;
		printf("[%s] %s = %s\n    %s\n", k[i].section, k[i].key,
		       k[i].default_value ? k[i].default_value : "(required)", k[i].help);
	}
	printf("[template.*]: the keys of [class.*]; a class with `template = NAME` inherits "
	       "them.\n");
}

int main(int argc, char **argv)
{
	struct args a;

	memset(&a, 0, sizeof(a));
	if (argc < 2) {
		usage(stderr);
		return EX_USAGE;
	}
	const char *cmd = argv[1];
	if (strcmp(cmd, "--help") == 0 || strcmp(cmd, "-h") == 0 || strcmp(cmd, "help") == 0) {
		usage(stdout);
		return 0;
	}
	if (strcmp(cmd, "--version") == 0) {
		printf("raas-sim %s\n", RAAS_VERSION);
		return 0;
	}
	if (strcmp(cmd, "help-config") == 0) {
		help_config();
		return 0;
	}
	if (strcmp(cmd, "fit-spot") == 0)
		return cmd_fit_spot(argc, argv);
	if (strcmp(cmd, "sweep") == 0 || strcmp(cmd, "sweep-task") == 0 ||
	    strcmp(cmd, "merge") == 0)
		return sim_study_main(argc, argv);
	int rc = parse_args(argc, argv, &a);
	if (rc)
		return rc;
	if (strcmp(cmd, "run") == 0)
		return cmd_run(&a);
	if (strcmp(cmd, "validate") == 0)
		return cmd_validate(&a);
	if (strcmp(cmd, "report") == 0)
		return cmd_report(&a);
	if (strcmp(cmd, "bench") == 0)
		return cmd_bench(&a);
	fprintf(stderr, "raas-sim: unknown command '%s'\n", cmd);
	usage(stderr);
	return EX_USAGE;
}
