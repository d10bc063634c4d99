/* run.h: the main() of every nom app, after its own setup.
 *
 * app_run() turns parsed options into a running server: the price source and profile, the
 * stack (nomnet or kernel), the listener, the controller (adaptive or report-only), signal
 * handling (SIGINT and SIGTERM stop it cleanly; SIGPIPE is ignored), and at exit one JSON
 * line with the server's counters. It returns the process exit code: 0, 65 (bad profile or
 * price file), 69 (the stack or port is unavailable), 70 (internal error). */
#ifndef APP_RUN_H
#define APP_RUN_H

#include "app/opts.h"
#include "app/srv.h"

/* Runs until a signal. ops and app are the app's (borrowed). on_ready, when not NULL, is
 * called once the server listens (e.g. to print the port), with the server. */
int app_run(struct app_opts *o, const struct srv_app_ops *ops, void *app,
	    void (*on_ready)(struct srv *s, void *app));

#endif
