/* nompipe: the receiver of NetPIPE's TCP module (NPtcp) on nomnet, or on kernel sockets.
 *
 *   nompipe [common nom app options] [--start N] [--perturbation N]
 *
 * Run NPtcp -h <address> [-P port] against it with the same -l and -p (defaults 1 and 3).
 * Default port 5002, NPtcp's. Each connection runs one NetPIPE session (np_proto.h). */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "app/opts.h"
#include "app/run.h"
#include "common/log.h"
#include "np_proto.h"

#define OPT_START 1000
#define OPT_PERT 1001

struct app {
	unsigned long start;
	unsigned long perturbation;
};

struct session {
	struct np_conn np;
	struct srv_conn *conn;
	uint64_t counted;
};

static void *np_open(void *arg, struct srv_conn *c)
{
	struct app *app = arg;
	struct session *s = calloc(1, sizeof(*s));

	if (!s)
		return NULL;
	np_conn_init(&s->np, app->start, (unsigned)app->perturbation);
	s->conn = c;
	/* The receiver speaks first: its "SyncMe". */
	srv_send(c, buf_head(&s->np.out), s->np.out.len);
	buf_reset(&s->np.out);
	return s;
}

static size_t np_input(void *state, const uint8_t *data, size_t len)
{
	struct session *s = state;
	size_t used = np_process(&s->np, data, len);
	bool done = s->np.state == NP_DONE || s->np.state == NP_ERROR;

	if (s->np.state == NP_ERROR)
		log_warn("nompipe: %s: closing the connection", s->np.error);
	srv_deliver(s->conn, &s->np.out, s->np.messages, &s->counted, done);
	return done ? len : used;
}

static void np_close(void *state)
{
	struct session *s = state;

	np_conn_fini(&s->np);
	free(s);
}

static const struct srv_app_ops ops = {np_open, np_input, np_close};

static int handle(void *ctx, int opt, const char *arg)
{
	struct app *app = ctx;
	char *end;
	unsigned long v = strtoul(arg, &end, 10);

	if (*end || end == arg || v > 1000000) {
		fprintf(stderr, "nompipe: want a number 0-1000000, not \"%s\"\n", arg);
		return -1;
	}
	if (opt == OPT_START) {
		if (v < 1) {
			fprintf(stderr, "nompipe: --start must be at least 1\n");
			return -1;
		}
		app->start = v;
	} else {
		app->perturbation = v;
	}
	return 0;
}

int main(int argc, char **argv)
{
	static const struct option extra_opts[] = {
		{"start", required_argument, 0, OPT_START},
		{"perturbation", required_argument, 0, OPT_PERT},
		{0, 0, 0, 0}};
	struct app app = {.start = 1, .perturbation = 3};
	struct app_extra extra = {extra_opts,
				  "  --start N                 NPtcp's -l: the first size (default 1)\n"
				  "  --perturbation N          NPtcp's -p (default 3)\n",
				  handle, &app, NULL, NULL};
	struct app_opts o;
	int rc;

	app_opts_init(&o, "nompipe", 5002);
	o.profile_app = "netpipe";
	rc = app_opts_parse(&o, argc, argv, &extra);
	if (rc)
		return rc == 1 ? 0 : rc;
	struct app_spec spec = {.ops = &ops, .app = &app};
	return app_run(&o, &spec);
}
