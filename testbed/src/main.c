/* main.c: raas-testbed, the command behind `raas testbed` (docs/testbed.md).
 *
 *   raas testbed check FILE          read and check the file; nothing is started
 *   raas testbed up FILE             bring it up and leave it running
 *   raas testbed run FILE [--out R]  up, the timeline, the results into run file R, down
 *   raas testbed status FILE|NAME    every component and its health
 *   raas testbed down FILE|NAME      tear down everything it started
 *   raas testbed --help-config       every key of a testbed file
 *
 * Exit codes: 0, 64 usage, 65 status found something unhealthy, 69 a component failed or
 * did not get ready (everything torn down), 77 not root, 78 the testbed file is wrong
 * (nothing started), 130 interrupted (everything torn down). */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "common/error.h"
#include "tb_internal.h"

static int usage(FILE *f)
{
	fprintf(f, "usage: raas testbed check|up|run|status|down FILE [--out RUN.sqlite] [-v]\n"
		   "  check   read and check FILE (docs/testbed.md); nothing is started\n"
		   "  up      bring the testbed up and leave it running (status, down)\n"
		   "  run     up, run its timeline, write the run file (--out), tear down\n"
		   "  status  every component and its health (FILE or the testbed's name)\n"
		   "  down    tear down everything it started (FILE or the testbed's name)\n"
		   "raas testbed --help-config: every key of FILE, its default, range and help\n"
		   "state: $RAAS_TESTBED_DIR/NAME (default /tmp/raas-testbed/NAME)\n");
	return f == stdout ? 0 : 64;
}

/* The state folder of FILE (a testbed file) or NAME (a testbed's name). */
static int state_dir_of(const char *arg, char *dir, size_t len)
{
	const char *base = getenv("RAAS_TESTBED_DIR");
	struct stat sb;
	char name[64];

	if (stat(arg, &sb) == 0 && S_ISREG(sb.st_mode)) {
		struct testbed tb;
		struct cfg_error err;
		char msg[1024];
		if (tb_load(arg, &tb, &err) != 0) {
			fprintf(stderr, "%s\n", cfg_error_format(&err, msg, sizeof(msg)));
			return 78;
		}
		snprintf(name, sizeof(name), "%s", tb.name);
		tb_fini(&tb);
	} else {
		snprintf(name, sizeof(name), "%s", arg);
		if (strchr(name, '/') || strchr(name, '.')) {
			fprintf(stderr, "raas testbed: %s: no such file\n", arg);
			return 66;
		}
	}
	snprintf(dir, len, "%s/%s", base && *base ? base : "/tmp/raas-testbed", name);
	return 0;
}

/* keep_logs: a failed up or run keeps the components' logs (the state folder goes with the
 * teardown) in STATE.logs, and says so. */
static void keep_logs(struct tb_state *st)
{
	char cmd[3000];
	snprintf(cmd, sizeof(cmd),
		 "rm -rf '%s.logs' && mkdir -p '%s.logs' && cp '%s'/*.log '%s'/*.ini '%s.logs/'",
		 st->dir, st->dir, st->dir, st->dir, st->dir);
	char *argv[] = {"/bin/sh", "-c", cmd, NULL};
	if (tb_run_cmd(st, NULL, 0, argv) == 0)
		fprintf(stderr, "raas testbed: the logs are kept in %s.logs/\n", st->dir);
}

int main(int argc, char **argv)
{
	const char *cmd, *file, *out = NULL;
	bool verbose = false;
	static struct testbed tb;
	struct tb_state st;
	struct cfg_error err;
	char msg[1024], dir[600];
	int rc;

	if (argc >= 2 && (strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "-h") == 0))
		return usage(stdout);
	if (argc == 2 && strcmp(argv[1], "--help-config") == 0) {
		tb_help_config(stdout);
		return 0;
	}
	if (argc < 3)
		return usage(stderr);
	cmd = argv[1];
	file = argv[2];
	for (int i = 3; i < argc; i++) {
		if (strcmp(argv[i], "--out") == 0 && i + 1 < argc)
			out = argv[++i];
		else if (strcmp(argv[i], "-v") == 0)
			verbose = true;
		else {
			fprintf(stderr, "raas testbed: unexpected \"%s\"\n", argv[i]);
			return usage(stderr);
		}
	}
	if (strcmp(cmd, "status") == 0 || strcmp(cmd, "down") == 0) {
		if ((rc = state_dir_of(file, dir, sizeof(dir))) != 0)
			return rc;
		if (strcmp(cmd, "status") == 0) {
			rc = tb_status(dir);
			return rc < 0 ? 66 : rc ? 65 : 0;
		}
		return tb_down(dir, false) ? 70 : 0;
	}
	if (strcmp(cmd, "check") && strcmp(cmd, "up") && strcmp(cmd, "run"))
		return usage(stderr);
	if (out && strcmp(cmd, "run") != 0) {
		fprintf(stderr, "raas testbed: --out is for run\n");
		return 64;
	}
	if ((rc = tb_load(file, &tb, &err)) != 0) {
		if (rc == -RAAS_ECONFIG || rc == -RAAS_EUNKNOWNKEY || err.file[0])
			fprintf(stderr, "%s\n", cfg_error_format(&err, msg, sizeof(msg)));
		else
			fprintf(stderr, "raas testbed: %s: %s\n", file, strerror(-rc));
		return rc == -ENOENT ? 66 : 78;
	}
	if (strcmp(cmd, "check") == 0) {
		printf("%s: testbed %s, %d hosts, %d tenants, %d events, %.0f s\n", file, tb.name,
		       tb.nhosts, tb.ntenants, tb.nevents, (double)tb.duration_ns / 1e9);
		tb_fini(&tb);
		return 0;
	}
	if (geteuid() != 0) {
		fprintf(stderr, "raas testbed: needs root (network namespaces, tc, cgroups)\n");
		return 77;
	}
	if ((rc = tb_state_init(&st, &tb)) != 0) {
		fprintf(stderr, "raas testbed: %s\n", strerror(-rc));
		return 70;
	}
	st.verbose = verbose;
	tb_signals_install();
	if (strcmp(cmd, "up") == 0) {
		rc = tb_up(&st, false);
		if (rc == -EEXIST)
			return 69;
		if (rc != 0 || tb_interrupted) {
			if (!tb_interrupted)
				keep_logs(&st);
			tb_down(st.dir, true);
			fprintf(stderr, "raas testbed: torn down\n");
			return tb_interrupted ? 130 : 69;
		}
		return 0;
	}
	rc = tb_run(&st, out);
	if (rc == -EEXIST)
		return 69;
	if (rc && !tb_interrupted)
		keep_logs(&st);
	tb_down(st.dir, true);
	if (tb_interrupted) {
		fprintf(stderr, "raas testbed: interrupted, torn down\n");
		return 130;
	}
	return rc ? 69 : 0;
}
