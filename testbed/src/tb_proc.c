/* tb_proc.c: how the testbed starts and waits for things, and records them first.
 *
 * Every process is started in its own session (Ctrl-C on the terminal reaches only
 * raas testbed, which then stops them in order) with its output in the state folder, and
 * its pid is in the manifest before fork returns to the caller (signals are blocked across
 * fork and the write; tb_internal.h, note 1). Waits poll every 50 ms against a deadline and
 * stop early when the awaited process died or the user interrupted. */

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <sched.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "tb_internal.h"

volatile sig_atomic_t tb_interrupted;

static void on_signal(int sig)
{
	tb_interrupted = sig;
}

void tb_signals_install(void)
{
	struct sigaction sa;
	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = on_signal; /* no SA_RESTART: sleeps and waits return early */
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGTERM, &sa, NULL);
	sigaction(SIGHUP, &sa, NULL);
	signal(SIGPIPE, SIG_IGN);
}

int64_t tb_now(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000000000LL + ts.tv_nsec;
}

static void nap(void)
{
	struct timespec ts = {0, 50 * 1000 * 1000};
	nanosleep(&ts, NULL);
}

int tb_manifest_add(struct tb_state *st, const char *fmt, ...)
{
	char path[600], line[1024];
	va_list ap;
	int fd, n, rc = 0;

	va_start(ap, fmt);
	n = vsnprintf(line, sizeof(line) - 1, fmt, ap);
	va_end(ap);
	if (n < 0 || n >= (int)sizeof(line) - 1)
		return -ENAMETOOLONG;
	line[n++] = '\n';
	snprintf(path, sizeof(path), "%s/manifest", st->dir);
	fd = open(path, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0644);
	if (fd < 0)
		return -errno;
	if (write(fd, line, (size_t)n) != n || fsync(fd) != 0)
		rc = errno ? -errno : -EIO;
	close(fd);
	return rc;
}

unsigned long long tb_proc_start(pid_t pid)
{
	char path[64], buf[2048];
	unsigned long long start = 0;
	FILE *f;

	snprintf(path, sizeof(path), "/proc/%d/stat", (int)pid);
	if (!(f = fopen(path, "r")))
		return 0;
	size_t n = fread(buf, 1, sizeof(buf) - 1, f);
	fclose(f);
	buf[n] = 0;
	/* Field 2 (comm) may hold spaces: count fields after its closing parenthesis. */
	char *p = strrchr(buf, ')');
	if (!p)
		return 0;
	p++;
	for (int field = 3; field <= 22 && p; field++) {
		while (*p == ' ')
			p++;
		if (field == 3 && *p == 'Z')
			return 0; /* a zombie is gone for our purposes */
		if (field == 22)
			start = strtoull(p, NULL, 10);
		p = strchr(p, ' ');
	}
	return start;
}

/* In the child: its own session, default signals, output to log, then the namespace. */
static void child_setup(const char *log, const sigset_t *old)
{
	struct sigaction sa;
	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = SIG_DFL;
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGTERM, &sa, NULL);
	sigaction(SIGHUP, &sa, NULL);
	sigaction(SIGPIPE, &sa, NULL);
	setsid();
	int null = open("/dev/null", O_RDONLY);
	if (null >= 0) {
		dup2(null, 0);
		close(null);
	}
	if (log) {
		int fd = open(log, O_WRONLY | O_CREAT | O_APPEND, 0644);
		if (fd >= 0) {
			dup2(fd, 1);
			dup2(fd, 2);
			close(fd);
		}
	}
	sigprocmask(SIG_SETMASK, old, NULL);
}

static pid_t spawn(struct tb_state *st, const char *label, const char *ns, const char *log,
	       char *const argv[], bool keep_mounts)
{
	char logpath[700];
	sigset_t all, old;
	pid_t pid;

	snprintf(logpath, sizeof(logpath), "%s/%s", st->dir, log);
	sigfillset(&all);
	sigprocmask(SIG_BLOCK, &all, &old);
	pid = fork();
	if (pid == 0) {
		child_setup(logpath, &old);
		if (ns && keep_mounts) {
			char nspath[128];
			snprintf(nspath, sizeof(nspath), "/run/netns/%s", ns);
			int fd = open(nspath, O_RDONLY | O_CLOEXEC);
			if (fd < 0 || setns(fd, CLONE_NEWNET) != 0) {
				fprintf(stderr, "raas testbed: cannot enter %s: %s\n", ns,
					strerror(errno));
				_exit(127);
			}
			close(fd);
			execvp(argv[0], argv);
		} else if (ns) {
			/* ip netns exec execs the command itself: the pid stays the daemon's. */
			char *args[64];
			int n = 0;
			args[n++] = "ip";
			args[n++] = "netns";
			args[n++] = "exec";
			args[n++] = (char *)ns;
			for (int i = 0; argv[i] && n < 63; i++)
				args[n++] = argv[i];
			args[n] = NULL;
			execvp("ip", args);
		} else {
			execvp(argv[0], argv);
		}
		fprintf(stderr, "raas testbed: cannot run %s: %s\n", argv[0], strerror(errno));
		_exit(127);
	}
	int err = pid < 0 ? -errno : 0;
	if (pid > 0) {
		/* The start time of the child as it is now (before or after its exec: the same
		 * process). */
		unsigned long long start = tb_proc_start(pid);
		tb_manifest_add(st, "proc %d %llu %s", (int)pid, start, label);
	}
	sigprocmask(SIG_SETMASK, &old, NULL);
	if (st->verbose && pid > 0)
		fprintf(stderr, "  started %s (pid %d)\n", label, (int)pid);
	return pid > 0 ? pid : err;
}

pid_t tb_spawn(struct tb_state *st, const char *label, const char *ns, const char *log,
	       char *const argv[])
{
	return spawn(st, label, ns, log, argv, false);
}

pid_t tb_spawn_netonly(struct tb_state *st, const char *label, const char *ns, const char *log,
		       char *const argv[])
{
	return spawn(st, label, ns, log, argv, true);
}

int tb_run_cmd(struct tb_state *st, char *out, size_t outlen, char *const argv[])
{
	char logpath[700];
	int pipefd[2] = {-1, -1};
	sigset_t all, old;
	pid_t pid;
	int status;

	snprintf(logpath, sizeof(logpath), "%s/setup.log", st->dir);
	if (out && pipe2(pipefd, O_CLOEXEC) != 0)
		return -errno;
	sigfillset(&all);
	sigprocmask(SIG_BLOCK, &all, &old);
	pid = fork();
	if (pid == 0) {
		child_setup(logpath, &old);
		if (out) {
			dup2(pipefd[1], 1);
			dup2(pipefd[1], 2);
		}
		execvp(argv[0], argv);
		fprintf(stderr, "raas testbed: cannot run %s: %s\n", argv[0], strerror(errno));
		_exit(127);
	}
	sigprocmask(SIG_SETMASK, &old, NULL);
	if (pid < 0)
		return -errno;
	if (out) {
		size_t len = 0;
		close(pipefd[1]);
		for (;;) {
			ssize_t n = read(pipefd[0], out + len, len + 1 < outlen ? outlen - 1 - len : 0);
			if (n < 0 && errno == EINTR)
				continue;
			if (n <= 0)
				break;
			len += (size_t)n;
		}
		if (outlen)
			out[len] = 0;
		/* Drain what did not fit so the child is not blocked. */
		char sink[512];
		while (read(pipefd[0], sink, sizeof(sink)) > 0)
			;
		close(pipefd[0]);
	}
	while (waitpid(pid, &status, 0) < 0)
		if (errno != EINTR)
			return -errno;
	if (WIFEXITED(status))
		return WEXITSTATUS(status);
	return 128 + WTERMSIG(status);
}

int tb_sh(struct tb_state *st, const char *fmt, ...)
{
	char cmd[2048];
	va_list ap;
	va_start(ap, fmt);
	int n = vsnprintf(cmd, sizeof(cmd), fmt, ap);
	va_end(ap);
	if (n < 0 || n >= (int)sizeof(cmd))
		return -ENAMETOOLONG;
	char *argv[] = {"/bin/sh", "-c", cmd, NULL};
	if (st->verbose)
		fprintf(stderr, "  + %s\n", cmd);
	{
		char logpath[700];
		snprintf(logpath, sizeof(logpath), "%s/setup.log", st->dir);
		FILE *f = fopen(logpath, "a");
		if (f) {
			fprintf(f, "+ %s\n", cmd);
			fclose(f);
		}
	}
	return tb_run_cmd(st, NULL, 0, argv);
}

/* alive: pid is our child and has not exited (reaps it if it has). */
static bool alive(pid_t pid)
{
	int status;
	if (pid <= 0)
		return true;
	pid_t r = waitpid(pid, &status, WNOHANG);
	return r == 0;
}

/* wait_until: polls ready(arg) until it holds, or the run is interrupted, pid ends or the
 * deadline passes. */
static int wait_until(bool (*ready)(const void *), const void *arg, pid_t pid,
		      int64_t deadline_ns)
{
	for (;;) {
		if (ready(arg))
			return 0;
		if (tb_interrupted)
			return -EINTR;
		if (!alive(pid))
			return -ECHILD;
		if (tb_now() > deadline_ns)
			return -ETIMEDOUT;
		nap();
	}
}

static bool file_written(const void *path)
{
	struct stat sb;
	return stat(path, &sb) == 0 && sb.st_size > 0;
}

int tb_wait_file(struct tb_state *st, const char *path, pid_t pid, int64_t deadline_ns)
{
	(void)st;
	return wait_until(file_written, path, pid, deadline_ns);
}

/* connects_from: a TCP connect from namespace ns to ip:port, in a child (setns changes the
 * calling thread's namespace). */
static bool connects_from(const char *ns, const char *ip, int port)
{
	pid_t pid = fork();
	int status;

	if (pid == 0) {
		char path[128];
		snprintf(path, sizeof(path), "/run/netns/%s", ns);
		int fd = open(path, O_RDONLY | O_CLOEXEC);
		if (fd < 0 || setns(fd, CLONE_NEWNET) != 0)
			_exit(2);
		int s = socket(AF_INET, SOCK_STREAM, 0);
		struct sockaddr_in a = {.sin_family = AF_INET, .sin_port = htons((uint16_t)port)};
		inet_pton(AF_INET, ip, &a.sin_addr);
		struct timeval tv = {1, 0};
		setsockopt(s, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv));
		_exit(connect(s, (struct sockaddr *)&a, sizeof(a)) == 0 ? 0 : 1);
	}
	if (pid < 0)
		return false;
	while (waitpid(pid, &status, 0) < 0)
		if (errno != EINTR)
			return false;
	return WIFEXITED(status) && WEXITSTATUS(status) == 0;
}

struct listen_target {
	const char *ns, *ip;
	int port;
};

static bool listening(const void *arg)
{
	const struct listen_target *l = arg;
	return connects_from(l->ns, l->ip, l->port);
}

int tb_wait_listen(struct tb_state *st, const char *ns, const char *ip, int port, pid_t pid,
		   int64_t deadline_ns)
{
	const struct listen_target l = {ns, ip, port};
	(void)st;
	return wait_until(listening, &l, pid, deadline_ns);
}
