/* daemon.c: the daemons' shared start-up: flags, signals, pid and ready files, systemd
 * notifications, log set-up (common/daemon.h has the contract).
 *
 * Signals go through a self-pipe: a handler only sets a flag and writes one byte, so it is
 * async-signal-safe whichever thread (the main one or a ZeroMQ I/O thread) takes the signal,
 * and the daemon's zmq_poll wakes up on the pipe's read end. */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include "common/clock.h"
#include "common/daemon.h"

enum {
	O_CONFIG = 'c',
	O_HELP = 'h',
	O_SET = 256,
	O_CHECK,
	O_READY,
	O_PID,
	O_LEVEL,
	O_JSON,
	O_HELP_CONFIG,
};

static const struct option shared[] = {
	{"config", required_argument, NULL, O_CONFIG},
	{"set", required_argument, NULL, O_SET},
	{"check", no_argument, NULL, O_CHECK},
	{"ready-file", required_argument, NULL, O_READY},
	{"pid-file", required_argument, NULL, O_PID},
	{"log-level", required_argument, NULL, O_LEVEL},
	{"log-json", no_argument, NULL, O_JSON},
	{"help-config", no_argument, NULL, O_HELP_CONFIG},
	{"help", no_argument, NULL, O_HELP},
};
#define NSHARED (sizeof(shared) / sizeof(shared[0]))
#define OPTS_MAX 64

static void usage(const struct dmn_spec *spec, FILE *f)
{
	fprintf(f,
		"usage: %s %s[--set SECTION.KEY=VALUE]... [--check]\n"
		"       %*s [--ready-file PATH] [--pid-file PATH]\n"
		"       %*s [--log-level error|warn|info|debug] [--log-json]\n"
		"       %s --help | --help-config\n",
		spec->name, spec->config_required ? "-c FILE " : "[-c FILE] ",
		(int)strlen(spec->name), "", (int)strlen(spec->name), "", spec->name);
	if (f != stdout)
		return;
	fprintf(f,
		"\n%s\n\n"
		"  -c, --config FILE     INI config (--help-config lists every key)\n"
		"  --set S.K=V           override one key (repeatable)\n"
		"  --check               load the config, open the keys and the files it names,\n"
		"                        create every model or backend, print, exit 0 (or 78)\n"
		"  --ready-file PATH     once serving, write key=value lines (endpoints, pid)\n"
		"  --pid-file PATH       write the pid at start\n"
		"  --log-level LEVEL     error, warn, info (default) or debug\n"
		"  --log-json            log JSON lines\n"
		"%s"
		"\nSIGTERM/SIGINT stop it (exit 0); SIGHUP reloads the config. Exit codes: 0 ok,\n"
		"64 usage, 65 refused data, 69 unavailable (locked, taken, cannot bind), 70 internal,\n"
		"73 cannot write the ready/pid file, 78 config, key or a file it names.\n",
		spec->summary ? spec->summary : "", spec->own_help ? spec->own_help : "");
}

int dmn_parse(const struct dmn_spec *spec, int argc, char **argv, struct dmn_args *out)
{
	struct option opts[OPTS_MAX];
	size_t n = 0;
	int c;

	memset(out, 0, sizeof(*out));
	out->level = LOG_INFO;
	for (size_t i = 0; i < NSHARED; i++)
		opts[n++] = shared[i];
	for (const struct option *o = spec->own; o && o->name && n < OPTS_MAX - 1; o++)
		opts[n++] = *o;
	memset(&opts[n], 0, sizeof(opts[n]));
	optind = 1;
	while ((c = getopt_long(argc, argv, "c:h", opts, NULL)) != -1) {
		switch (c) {
		case O_CONFIG:
			out->config = optarg;
			break;
		case O_SET:
			if (out->nsets == DMN_SETS_MAX) {
				fprintf(stderr, "%s: more than %d --set\n", spec->name, DMN_SETS_MAX);
				return EX_USAGE;
			}
			out->sets[out->nsets++] = optarg;
			break;
		case O_CHECK:
			out->check = true;
			break;
		case O_READY:
			out->ready_file = optarg;
			break;
		case O_PID:
			out->pid_file = optarg;
			break;
		case O_LEVEL:
			if (log_level_parse(optarg, &out->level) != 0) {
				fprintf(stderr,
					"%s: --log-level: \"%s\" is not error, warn, info or debug\n",
					spec->name, optarg);
				return EX_USAGE;
			}
			out->level_given = true;
			break;
		case O_JSON:
			out->json = true;
			break;
		case O_HELP_CONFIG:
			if (spec->help_config)
				spec->help_config();
			return EX_OK;
		case O_HELP:
			usage(spec, stdout);
			return EX_OK;
		default:
			if (c >= DMN_OPT_OWN && spec->on_own) {
				int rc = spec->on_own(spec->arg, c, optarg);
				if (rc)
					return rc;
				break;
			}
			usage(spec, stderr);
			return EX_USAGE;
		}
	}
	if (optind < argc) {
		fprintf(stderr, "%s: unexpected argument \"%s\"\n", spec->name, argv[optind]);
		usage(spec, stderr);
		return EX_USAGE;
	}
	if (spec->config_required && !out->config && !out->nsets) {
		fprintf(stderr, "%s: -c FILE is required\n", spec->name);
		usage(spec, stderr);
		return EX_USAGE;
	}
	return DMN_CONTINUE;
}

void dmn_log_init(const struct dmn_spec *spec, const struct dmn_args *args,
		  enum log_level config_level)
{
	log_init(spec->component, args->level_given ? args->level : config_level, args->json);
	log_set_repeat_interval(60 * NS_PER_S, NULL);
}

/* ---- Signals ---- */

static int sig_pipe[2] = {-1, -1};
static volatile sig_atomic_t sig_stop, sig_reload;

static void on_signal(int sig)
{
	int saved = errno;
	char b = (char)sig;

	if (sig == SIGHUP)
		sig_reload = 1;
	else
		sig_stop = 1;
	if (sig_pipe[1] >= 0 && write(sig_pipe[1], &b, 1) < 0) {
		/* Full pipe: a wake-up is pending already. */
	}
	errno = saved;
}

int dmn_signals_init(void)
{
	struct sigaction sa;

	if (sig_pipe[0] < 0 && pipe2(sig_pipe, O_CLOEXEC | O_NONBLOCK) != 0)
		return -errno;
	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = on_signal;
	sigemptyset(&sa.sa_mask);
	sa.sa_flags = SA_RESTART;
	if (sigaction(SIGTERM, &sa, NULL) || sigaction(SIGINT, &sa, NULL) ||
	    sigaction(SIGHUP, &sa, NULL))
		return -errno;
	signal(SIGPIPE, SIG_IGN);
	return 0;
}

int dmn_signal_fd(void)
{
	return sig_pipe[0];
}

enum dmn_signal dmn_signal_next(void)
{
	char buf[64];

	while (sig_pipe[0] >= 0 && read(sig_pipe[0], buf, sizeof(buf)) > 0)
		;
	if (sig_stop)
		return DMN_SIG_STOP;
	if (sig_reload) {
		sig_reload = 0;
		return DMN_SIG_RELOAD;
	}
	return DMN_SIG_NONE;
}

bool dmn_stop_requested(void)
{
	return sig_stop != 0;
}

/* ---- Files ---- */

/* Writes text to path through path.tmp and a rename. */
static int write_atomic(const char *path, const char *text)
{
	char tmp[4200];
	FILE *f;

	if ((size_t)snprintf(tmp, sizeof(tmp), "%s.tmp", path) >= sizeof(tmp))
		return -ENAMETOOLONG;
	f = fopen(tmp, "w");
	if (!f)
		return -errno;
	fputs(text, f);
	if (fflush(f) != 0 || fsync(fileno(f)) != 0) {
		int err = -errno;
		fclose(f);
		unlink(tmp);
		return err;
	}
	if (fclose(f) != 0 || rename(tmp, path) != 0) {
		int err = -errno;
		unlink(tmp);
		return err;
	}
	return 0;
}

int dmn_pid_file(const struct dmn_args *args, char *why, size_t why_len)
{
	char text[32];
	int err;

	if (!args->pid_file)
		return 0;
	snprintf(text, sizeof(text), "%ld\n", (long)getpid());
	err = write_atomic(args->pid_file, text);
	if (err)
		snprintf(why, why_len, "cannot write the pid file %s: %s", args->pid_file,
			 strerror(-err));
	return err;
}

int dmn_ready_value(const char *path, const char *key, char *out, size_t len)
{
	char line[1024];
	size_t kl = strlen(key);
	FILE *f = fopen(path, "r");
	int rc = -ENOENT;

	if (!f)
		return -errno;
	while (fgets(line, sizeof(line), f)) {
		if (strncmp(line, key, kl) == 0 && line[kl] == '=') {
			line[strcspn(line, "\n")] = 0;
			snprintf(out, len, "%s", line + kl + 1);
			rc = 0;
			break;
		}
	}
	fclose(f);
	return rc;
}

int dmn_ready(const struct dmn_args *args, const char *text, char *why, size_t why_len)
{
	if (args->ready_file) {
		size_t n = strlen(text) + 32;
		char *all = malloc(n);
		int err;
		if (!all)
			return -ENOMEM;
		snprintf(all, n, "%s%spid=%ld\n", text, text[0] && text[strlen(text) - 1] != '\n'
								? "\n" : "", (long)getpid());
		err = write_atomic(args->ready_file, all);
		free(all);
		if (err) {
			snprintf(why, why_len, "cannot write the ready file %s: %s", args->ready_file,
				 strerror(-err));
			return err;
		}
	}
	dmn_notify("READY=1");
	return 0;
}

void dmn_tick(void)
{
	log_tick();
}

void dmn_notify(const char *state)
{
	const char *path = getenv("NOTIFY_SOCKET");
	struct sockaddr_un sa;
	socklen_t len;
	int fd;

	if (!path || !path[0] || strlen(path) >= sizeof(sa.sun_path))
		return;
	memset(&sa, 0, sizeof(sa));
	sa.sun_family = AF_UNIX;
	memcpy(sa.sun_path, path, strlen(path));
	if (sa.sun_path[0] == '@')
		sa.sun_path[0] = '\0'; /* an abstract socket */
	len = (socklen_t)(offsetof(struct sockaddr_un, sun_path) + strlen(path));
	fd = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return;
	if (sendto(fd, state, strlen(state), MSG_NOSIGNAL, (struct sockaddr *)&sa, len) < 0)
		log_debug("systemd notification \"%s\": %s", state, strerror(errno));
	close(fd);
}

void dmn_exit(const struct dmn_args *args)
{
	dmn_notify("STOPPING=1");
	if (args->ready_file)
		unlink(args->ready_file);
	if (args->pid_file)
		unlink(args->pid_file);
	log_tick();
}

/* ---- --check ---- */

int dmn_check_folder_of(const struct dmn_spec *spec, const char *what, const char *path)
{
	char dir[4096];
	struct stat st;
	const char *slash = strrchr(path, '/');

	if (!slash)
		snprintf(dir, sizeof(dir), ".");
	else if (slash == path)
		snprintf(dir, sizeof(dir), "/");
	else
		snprintf(dir, sizeof(dir), "%.*s", (int)(slash - path), path);
	if (stat(dir, &st) != 0) {
		fprintf(stderr, "%s: %s %s: folder %s: %s\n", spec->name, what, path, dir,
			strerror(errno));
		return EX_CONFIG;
	}
	if (!S_ISDIR(st.st_mode)) {
		fprintf(stderr, "%s: %s %s: %s is not a folder\n", spec->name, what, path, dir);
		return EX_CONFIG;
	}
	if (access(dir, W_OK | X_OK) != 0) {
		fprintf(stderr, "%s: %s %s: folder %s is not writable: %s\n", spec->name, what, path,
			dir, strerror(errno));
		return EX_CONFIG;
	}
	return 0;
}
