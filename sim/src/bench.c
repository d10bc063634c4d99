/* bench.c: `raas-sim bench`: the whole simulator at cloud scale, one JSON line per size.
 *
 * Each size runs in a forked child, so its peak RSS (getrusage) is its own and a crash in one
 * does not hide the others; the child writes its scratch files (scenario, profile, run file)
 * under /tmp/sim-bench-PID and removes them. The measured run is a real `raas-sim run`: the
 * same code path, the same run file, only the scenario is generated. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "common/clock.h"
#include "bench.h"
#include "run.h"

/* A memcached-like and an nhttpd-like app: throughput peaks at 14 / 12 us under many clients,
 * latency grows about 1 us per us of delay (the shape of the nom thesis's numbers). */
static int write_profile(const char *path)
{
	FILE *f = fopen(path, "w");

	if (!f)
		return -errno;
	fputs("app,load,delay_us,throughput_rps,latency_us,jitter_us,bytes_per_request\n", f);
	for (int d = 0; d <= 40; d += 2) {
		double t = d <= 14 ? 33000 + 500 * d : 40000 - 500 * (d - 14);
		double l = d <= 14 ? 66.5 + 0.75 * d : 77 + (d - 14);
		fprintf(f, "mc,many,%d,%g,%g,%g,1100\n", d, t, l, l / 10);
		fprintf(f, "mc,single,%d,%g,%d,%g,1100\n", d, 1e6 / (40 + d), 40 + d, (40 + d) / 10.0);
		t = d <= 12 ? 50000 + 1000 * d : 62000 - 1000 * (d - 12);
		l = d <= 12 ? 60 + 0.75 * d : 69 + (d - 12);
		fprintf(f, "nh,many,%d,%g,%g,%g,1300\n", d, t, l, l / 10);
	}
	return fclose(f) ? -EIO : 0;
}

/* The class mix, in shares of the tenant count. */
static const struct {
	const char *name;
	double share;
	const char *keys;
} mix[] = {
	{"mc-penalty", 0.30, "template = nom\napp = mc\nutility = penalty\n"},
	{"mc-bonus", 0.10, "template = nom\napp = mc\nutility = bonus\n"},
	{"nh-refund", 0.15, "template = nom\napp = nh\nutility = refund\nbeta = 50\n"},
	{"mc-static", 0.10, "template = nom\napp = mc\nstrategy = static-tpt\n"},
	{"nh-static", 0.05, "template = nom\napp = nh\nutility = refund\nstrategy = static-lat\n"},
	{"spot", 0.20, "kind = flat\nresource = cores\nvalue = pareto:$0.034:2\n"},
	{"batch", 0.10, "kind = flat\nresource = cores\nquantity = 4\n"
			"value = uniform:$0.01:$0.12\n"},
};

static int write_scenario(const char *path, const char *profile, int64_t hosts, int64_t tenants,
			  int64_t rounds, int threads)
{
	FILE *f = fopen(path, "w");
	const double life_s = 4 * 3600.0;

	if (!f)
		return -errno;
	fprintf(f,
		"[sim]\nname = bench\nduration = %llds\nround = 60s\nseed = 1\nthreads = %d\n"
		"[hosts]\ncount = %lld\nplacement = random\nbandwidth = 2000\ncores = 32\n"
		"[resource.bandwidth]\nmodel = uniform\nparams = reserve=$0.36\n"
		"[resource.cores]\nmodel = vcg\nparams = reserve=$0.005\n"
		"[output]\npool_prices = none\n"
		"[template.nom]\nprofile = %s\nresource = bandwidth\nload = diurnal\nlevel = many\n"
		"diurnal_min = 0.2\nlifetime = exp\nlifetime_mean = 4h\n",
		(long long)(rounds * 60), threads, (long long)hosts, profile);
	for (size_t i = 0; i < sizeof(mix) / sizeof(mix[0]); i++) {
		int64_t n = (int64_t)((double)tenants * mix[i].share + 0.5);
		if (n < 1)
			n = 1;
		/* Poisson arrivals at the rate departures happen keep the population steady. */
		fprintf(f, "[class.%s]\n%scount = %lld\nlifetime = exp\nlifetime_mean = 4h\n"
			   "arrival_mean = %.3fs\n",
			mix[i].name, mix[i].keys, (long long)n, life_s / (double)n);
	}
	return fclose(f) ? -EIO : 0;
}

static void child(const struct sim_bench_opts *o, int64_t tenants, const char *dir)
{
	char ini[300], prof[300], out[300], why[1024];
	struct sim_run_stats st;
	struct rusage ru;

	snprintf(ini, sizeof(ini), "%s/bench.ini", dir);
	snprintf(prof, sizeof(prof), "%s/profile.csv", dir);
	snprintf(out, sizeof(out), "%s/run.sqlite", dir);
	if (write_profile(prof) || write_scenario(ini, prof, o->hosts, tenants, o->rounds, 0)) {
		fprintf(stderr, "raas-sim bench: cannot write %s\n", dir);
		_exit(73);
	}
	struct sim_run_opts ro = {.scenario = ini, .out = out, .threads = o->threads,
				  .progress = SIM_PROGRESS_NEVER};
	int64_t t0 = clk_mono(&clk_real);
	int rc = sim_run(&ro, &st, why, sizeof(why));
	double wall = (double)(clk_mono(&clk_real) - t0) / 1e9;
	unlink(ini);
	unlink(prof);
	unlink(out);
	if (rc) {
		fprintf(stderr, "raas-sim bench: %s\n", why);
		_exit(70);
	}
	getrusage(RUSAGE_SELF, &ru);
	printf("{\"hosts\":%lld,\"tenants\":%lld,\"rounds\":%llu,\"wall_s\":%.3f,"
	       "\"rounds_per_s\":%.2f,\"bid_evals_per_s\":%.0f,\"peak_rss_mib\":%.1f}\n",
	       (long long)o->hosts, (long long)tenants, (unsigned long long)st.rounds, wall,
	       (double)st.rounds / wall, (double)st.bid_evals / wall, (double)ru.ru_maxrss / 1024.0);
	fflush(stdout);
	_exit(0);
}

int sim_bench(const struct sim_bench_opts *o, FILE *out, char *why, size_t why_len)
{
	char dir[128];

	snprintf(dir, sizeof(dir), "/tmp/sim-bench-%d", (int)getpid());
	if (mkdir(dir, 0700) != 0 && errno != EEXIST) {
		snprintf(why, why_len, "%s: %s", dir, strerror(errno));
		return -EIO;
	}
	fflush(out);
	int rc = 0;
	for (size_t i = 0; i < o->ntenants && !rc; i++) {
		pid_t pid = fork();
		if (pid < 0) {
			snprintf(why, why_len, "fork: %s", strerror(errno));
			rc = -errno;
			break;
		}
		if (pid == 0)
			child(o, o->tenants[i], dir);
		int status;
		if (waitpid(pid, &status, 0) < 0 || !WIFEXITED(status) || WEXITSTATUS(status)) {
			snprintf(why, why_len, "the run with %lld tenants failed",
				 (long long)o->tenants[i]);
			rc = -EIO;
		}
	}
	/* A child that crashed leaves its files behind: remove them here. */
	static const char *const files[] = {"bench.ini", "profile.csv", "run.sqlite"};
	for (size_t i = 0; i < sizeof(files) / sizeof(files[0]); i++) {
		char path[256];
		snprintf(path, sizeof(path), "%s/%s", dir, files[i]);
		unlink(path);
	}
	rmdir(dir);
	return rc;
}
