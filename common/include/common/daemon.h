/* daemon.h: the one start-up skeleton of raas-marketd, raas-hostagentd and nom-priced.
 *
 * Every daemon of the project starts, reports and stops the same way, so that an operator
 * (and raas testbed, and systemd) learns one set of flags, one meaning of --check, one table
 * of exit codes and one set of signals. A daemon's main() is:
 *
 *     struct dmn_args args;
 *     int rc = dmn_parse(&spec, argc, argv, &args);     // shared flags + the daemon's own
 *     if (rc != DMN_CONTINUE) return rc;                 // --help, --help-config, usage
 *     ... load the config (args.config, args.sets) -> EX_CONFIG on error ...
 *     dmn_log_init(&spec, &args, level_from_config);     // level, JSON, repeat limit
 *     if (args.check) return check(...) ? EX_CONFIG : 0; // keys, files, models, backends
 *     dmn_signals_init();                                // TERM/INT stop, HUP reload
 *     dmn_pid_file(&args, ...);                          // when --pid-file
 *     ... open everything ...
 *     dmn_ready(&args, "key=value\n...", ...);           // ready file, systemd READY=1
 *     loop: zmq_poll(... + dmn_signal_fd() ...); dmn_signal_next(); dmn_tick();
 *     dmn_exit(&args);                                   // removes pid and ready files
 *
 * Shared flags (every daemon):
 *   -c, --config FILE      INI config (common/config.h)
 *   --set SECTION.KEY=V    override one key (repeatable; wins over the file)
 *   --check                load the config, open the key files and every file or folder it
 *                          names, create every pricing model or enforcement backend, print
 *                          what would run, and exit: 0, or 78 with the file and key named
 *   --ready-file PATH      written (atomically) once serving: "key=value" lines, the last
 *                          one "pid=N"; removed at a clean exit
 *   --pid-file PATH        "N\n", written at start, removed at a clean exit
 *   --log-level LEVEL      error, warn, info (default) or debug (wins over the config)
 *   --log-json             JSON lines instead of text
 *   --help, --help-config
 *
 * Signals: SIGTERM and SIGINT stop the daemon cleanly (exit 0); SIGHUP reloads its config
 * (re-read, validate, apply the difference; a config that does not validate is refused with
 * its file:line and the old one stays in force); SIGPIPE is ignored. Handlers only write to
 * a self-pipe, whose read end (dmn_signal_fd) goes into the daemon's poll loop.
 *
 * Exit codes (sysexits.h), the same in every daemon:
 *   0  EX_OK           stopped by SIGTERM/SIGINT; --check passed
 *   64 EX_USAGE        bad command line
 *   65 EX_DATAERR      data it refuses (a ledger newer than this build)
 *   69 EX_UNAVAILABLE  something it needs is taken or down (the ledger is locked by another
 *                      market, an endpoint cannot be bound, the board is another's)
 *   70 EX_SOFTWARE     an internal error
 *   71 EX_OSERR        the system refused (out of memory, no pipe)
 *   73 EX_CANTCREAT    the ready or pid file cannot be written
 *   78 EX_CONFIG       the config, a key file, or a file or folder the config names
 *
 * Logs: dmn_log_init() limits repeated warn and error lines to the first one and a count
 * once a minute (log.h); each daemon writes one info line per round or per N rounds with its
 * figures. systemd: with $NOTIFY_SOCKET set (Type=notify) dmn_ready sends READY=1, a reload
 * RELOADING=1 then READY=1, dmn_exit STOPPING=1.
 *
 * Extending: what later daemons' features add to every daemon (an HTTP endpoint, /metrics)
 * belongs here, as a flag parsed by dmn_parse and a file descriptor the loop polls beside
 * dmn_signal_fd(). */
#ifndef COMMON_DAEMON_H
#define COMMON_DAEMON_H

#include <getopt.h>
#include <stdbool.h>
#include <stddef.h>
#include <sysexits.h>

#include "common/log.h"

/* dmn_parse(): go on starting. */
#define DMN_CONTINUE (-1)
/* The first option value a daemon's own options may use (struct option.val). */
#define DMN_OPT_OWN 1000
#define DMN_SETS_MAX 64

/* The shared flags as parsed. Strings are borrowed from argv. */
struct dmn_args {
	const char *config;
	const char *sets[DMN_SETS_MAX];
	size_t nsets;
	const char *ready_file;
	const char *pid_file;
	enum log_level level;
	bool level_given;
	bool json;
	bool check;
};

/* What a daemon tells the skeleton about itself. Borrowed for the life of the process. */
struct dmn_spec {
	const char *name;          /* the program, "raas-marketd" (messages, usage) */
	const char *component;     /* log component, "marketd" */
	const char *summary;       /* a paragraph for --help */
	bool config_required;      /* -c (or at least one --set) is required */
	/* The daemon's own long options (terminated by a zero entry; val >= DMN_OPT_OWN), their
	 * --help lines, and what to do with each: return 0 to go on, else the exit code. */
	const struct option *own;
	const char *own_help;
	int (*on_own)(void *arg, int val, const char *optarg);
	void (*help_config)(void);  /* prints every config key (--help-config) */
	void *arg;
};

/* Parses argv. Returns DMN_CONTINUE with out filled, or the code to exit with now: 0 after
 * --help / --help-config, 64 on a bad command line (said on stderr). */
int dmn_parse(const struct dmn_spec *spec, int argc, char **argv, struct dmn_args *out);

/* Starts logging: the command line's level when given, else config_level; text or JSON;
 * repeated warn/error lines limited to one a minute plus their count. */
void dmn_log_init(const struct dmn_spec *spec, const struct dmn_args *args,
		  enum log_level config_level);

/* Installs the signal handlers (SIGTERM, SIGINT: stop; SIGHUP: reload; SIGPIPE ignored).
 * Returns 0 or -errno. */
int dmn_signals_init(void);
/* The read end of the signal pipe: readable when a signal arrived (put it into zmq_poll as
 * an fd item). -1 before dmn_signals_init. */
int dmn_signal_fd(void);

enum dmn_signal {
	DMN_SIG_NONE,
	DMN_SIG_STOP,   /* SIGTERM or SIGINT */
	DMN_SIG_RELOAD, /* SIGHUP */
};
/* Takes what arrived since the last call: STOP wins over RELOAD; NONE when nothing did. */
enum dmn_signal dmn_signal_next(void);
/* True once SIGTERM or SIGINT arrived (for loops that cannot poll the pipe). */
bool dmn_stop_requested(void);

/* Writes --pid-file when given. 0, or -errno with why naming the file. */
int dmn_pid_file(const struct dmn_args *args, char *why, size_t why_len);
/* Writes --ready-file when given: text ("key=value\n" lines, may be "") followed by
 * "pid=N\n", to PATH.tmp and renamed, so a reader never sees half of it. Then tells systemd
 * READY=1. 0, or -errno with why naming the file. */
int dmn_ready(const struct dmn_args *args, const char *text, char *why, size_t why_len);
/* The reader's side (a supervisor such as raas testbed): the value of key in the ready file
 * at path, into out. 0, -ENOENT when the key is absent, or -errno when the file cannot be
 * read. */
int dmn_ready_value(const char *path, const char *key, char *out, size_t len);
/* To call from the loop: writes due counts of repeated log lines. */
void dmn_tick(void);
/* Tells systemd (when it started us with Type=notify) a state: "READY=1", "RELOADING=1",
 * "STOPPING=1", "STATUS=...". Does nothing without $NOTIFY_SOCKET. */
void dmn_notify(const char *state);
/* At a clean exit: removes the ready and pid files, tells systemd STOPPING=1. */
void dmn_exit(const struct dmn_args *args);

/* --check helpers: each returns 0, or EX_CONFIG after printing "NAME: what: why" on stderr. */
/* The folder that would hold path exists and is writable (a file the daemon creates). */
int dmn_check_folder_of(const struct dmn_spec *spec, const char *what, const char *path);

#endif
