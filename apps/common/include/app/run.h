/* run.h: the main() of every nom app, after its own setup.
 *
 * app_run() turns parsed options into a running server under libnom's controller: the price
 * source (the instance's board with --instance, else the schedule file or constant), the
 * profile, the load meter, the stack (nomnet or kernel) and its workers, the listener, the
 * controller (nom/adapt.h) on its thread, signal handling (SIGINT and SIGTERM stop it cleanly;
 * SIGPIPE is ignored), and at exit one JSON line with the server's counters. With --instance
 * it releases what it holds before it exits. It returns the process exit code: 0, 65 (bad
 * profile or price file, or a profile the controller cannot use), 66 (a file cannot be read),
 * 69 (the stack or port unavailable; the instance has no board, its nom-priced is not
 * running, or its board is of another layout), 70 (internal error). */
#ifndef APP_RUN_H
#define APP_RUN_H

#include "app/opts.h"
#include "app/srv.h"
#include "nom/adapt.h"

struct app_spec {
	const struct srv_app_ops *ops;
	void *app;                          /* the app's state (worker 0's) */
	/* The state of worker i >= 1 (--workers; NULL: the app runs one worker). */
	void *(*worker)(void *app, unsigned i);
	/* Called once the server listens, with worker 0's server (may be NULL). */
	void (*on_ready)(struct srv *s, void *app);
	/* nom-memcached: its measured hit-rate curve, and its cache size (run in worker 0's
	 * server thread through srv_call). Both NULL: memory is not managed. */
	int (*memory_curve)(void *app, struct nom_memory_curve *out);
	void (*set_memory)(void *app, int64_t mib);
};

/* Runs until a signal. spec is borrowed. */
int app_run(struct app_opts *o, const struct app_spec *spec);

#endif
