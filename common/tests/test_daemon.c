/* test_daemon.c: the daemon skeleton: shared and own flags, usage errors, pid and ready
 * files (atomic, pid last), signals through the self-pipe (HUP reloads, TERM stops), the
 * systemd notification on a real datagram socket, and the --check folder test. */
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include "common/daemon.h"
#include "test.h"

static int own_seen;
static const char *own_value;

static int on_own(void *arg, int val, const char *optarg)
{
	(void)arg;
	if (val == DMN_OPT_OWN + 1)
		own_seen++;
	if (val == DMN_OPT_OWN + 2) {
		own_value = optarg;
		if (strcmp(optarg, "bad") == 0)
			return EX_USAGE;
	}
	return 0;
}

static const struct option own[] = {
	{"remove-board", no_argument, NULL, DMN_OPT_OWN + 1},
	{"mode", required_argument, NULL, DMN_OPT_OWN + 2},
	{NULL, 0, NULL, 0},
};

static const struct dmn_spec spec = {
	.name = "test-daemon",
	.component = "testd",
	.summary = "A daemon for the test.",
	.config_required = true,
	.own = own,
	.own_help = "  --remove-board\n",
	.on_own = on_own,
};

static int parse(struct dmn_args *a, int argc, const char **argv)
{
	return dmn_parse(&spec, argc, (char **)argv, a);
}

static void test_parse(void)
{
	struct dmn_args a;
	const char *ok[] = {"testd", "-c", "x.ini", "--set", "a.b=1", "--set=c.d=2", "--check",
			    "--ready-file", "/tmp/r", "--pid-file", "/tmp/p", "--log-level",
			    "debug", "--log-json", "--remove-board", "--mode", "fast", NULL};

	ASSERT_EQ(parse(&a, 17, ok), DMN_CONTINUE);
	ASSERT_STR_EQ(a.config, "x.ini");
	ASSERT_EQ(a.nsets, 2);
	ASSERT_STR_EQ(a.sets[1], "c.d=2");
	ASSERT_TRUE(a.check && a.json && a.level_given);
	ASSERT_EQ(a.level, LOG_DEBUG);
	ASSERT_STR_EQ(a.ready_file, "/tmp/r");
	ASSERT_STR_EQ(a.pid_file, "/tmp/p");
	ASSERT_EQ(own_seen, 1);
	ASSERT_STR_EQ(own_value, "fast");

	const char *nocfg[] = {"testd", "--check", NULL};
	ASSERT_EQ(parse(&a, 2, nocfg), EX_USAGE);
	const char *sets_only[] = {"testd", "--set", "a.b=1", NULL};
	ASSERT_EQ(parse(&a, 3, sets_only), DMN_CONTINUE);
	ASSERT_TRUE(!a.check && !a.level_given && a.level == LOG_INFO);
	const char *badlevel[] = {"testd", "-c", "x", "--log-level", "loud", NULL};
	ASSERT_EQ(parse(&a, 5, badlevel), EX_USAGE);
	const char *stray[] = {"testd", "-c", "x", "extra", NULL};
	ASSERT_EQ(parse(&a, 4, stray), EX_USAGE);
	const char *unknown[] = {"testd", "-c", "x", "--frob", NULL};
	ASSERT_EQ(parse(&a, 4, unknown), EX_USAGE);
	const char *ownbad[] = {"testd", "-c", "x", "--mode", "bad", NULL};
	ASSERT_EQ(parse(&a, 5, ownbad), EX_USAGE);
	const char *help[] = {"testd", "--help", NULL};
	ASSERT_EQ(parse(&a, 2, help), 0);
}

static char *slurp(const char *path)
{
	static char buf[1024];
	FILE *f = fopen(path, "r");
	size_t n;

	if (!f)
		return NULL;
	n = fread(buf, 1, sizeof(buf) - 1, f);
	buf[n] = '\0';
	fclose(f);
	return buf;
}

static void test_files_and_notify(void)
{
	char dir[] = "/tmp/test-daemon-XXXXXX", ready[128], pidf[128], sock[128], why[256];
	char expect[64];
	struct dmn_args a;

	ASSERT_TRUE(mkdtemp(dir) != NULL);
	snprintf(ready, sizeof(ready), "%s/ready", dir);
	snprintf(pidf, sizeof(pidf), "%s/pid", dir);
	snprintf(sock, sizeof(sock), "%s/notify", dir);
	memset(&a, 0, sizeof(a));
	a.ready_file = ready;
	a.pid_file = pidf;

	/* A systemd that listens on a datagram socket. */
	int fd = socket(AF_UNIX, SOCK_DGRAM, 0);
	struct sockaddr_un sa = {.sun_family = AF_UNIX};
	memcpy(sa.sun_path, sock, strlen(sock) + 1);
	ASSERT_OK(bind(fd, (struct sockaddr *)&sa, sizeof(sa)));
	setenv("NOTIFY_SOCKET", sock, 1);

	ASSERT_OK(dmn_pid_file(&a, why, sizeof(why)));
	snprintf(expect, sizeof(expect), "%ld\n", (long)getpid());
	ASSERT_STR_EQ(slurp(pidf), expect);
	ASSERT_OK(dmn_ready(&a, "tenant_endpoint=tcp://127.0.0.1:5\nserver_key=abc", why,
			    sizeof(why)));
	snprintf(expect, sizeof(expect), "pid=%ld\n", (long)getpid());
	char *text = slurp(ready);
	ASSERT_TRUE(text != NULL);
	ASSERT_STR_CONTAINS(text, "tenant_endpoint=tcp://127.0.0.1:5\nserver_key=abc\n");
	ASSERT_STR_CONTAINS(text, expect);
	char tmp[160];
	snprintf(tmp, sizeof(tmp), "%s.tmp", ready);
	ASSERT_TRUE(access(tmp, F_OK) != 0); /* renamed, not left behind */
	/* The reader's side: each key's value, the last line's pid, an absent key. */
	char value[64];
	ASSERT_OK(dmn_ready_value(ready, "tenant_endpoint", value, sizeof(value)));
	ASSERT_STR_EQ(value, "tcp://127.0.0.1:5");
	ASSERT_OK(dmn_ready_value(ready, "server_key", value, sizeof(value)));
	ASSERT_STR_EQ(value, "abc");
	ASSERT_OK(dmn_ready_value(ready, "pid", value, sizeof(value)));
	ASSERT_EQ(strtol(value, NULL, 10), (long)getpid());
	ASSERT_EQ(dmn_ready_value(ready, "server", value, sizeof(value)), -ENOENT);
	ASSERT_EQ(dmn_ready_value(tmp, "pid", value, sizeof(value)), -ENOENT);
	char got[64] = "";
	ssize_t n = recv(fd, got, sizeof(got) - 1, MSG_DONTWAIT);
	ASSERT_EQ(n, 7);
	got[n] = '\0';
	ASSERT_STR_EQ(got, "READY=1");

	dmn_exit(&a);
	ASSERT_TRUE(access(ready, F_OK) != 0 && access(pidf, F_OK) != 0);
	n = recv(fd, got, sizeof(got) - 1, MSG_DONTWAIT);
	ASSERT_EQ(n, 10);
	unsetenv("NOTIFY_SOCKET");
	close(fd);

	/* A ready file in a folder that is not there. */
	char missing[160];
	snprintf(missing, sizeof(missing), "%s/no/such/ready", dir);
	a.ready_file = missing;
	ASSERT_EQ(dmn_ready(&a, "", why, sizeof(why)), -ENOENT);
	ASSERT_STR_CONTAINS(why, missing);

	ASSERT_EQ(dmn_check_folder_of(&spec, "ledger", ready), 0);
	ASSERT_EQ(dmn_check_folder_of(&spec, "ledger", missing), EX_CONFIG);
	char cmd[200];
	snprintf(cmd, sizeof(cmd), "rm -rf %s", dir);
	ASSERT_OK(system(cmd));
}

static void test_signals(void)
{
	ASSERT_EQ(dmn_signal_fd(), -1);
	ASSERT_OK(dmn_signals_init());
	ASSERT_TRUE(dmn_signal_fd() >= 0);
	ASSERT_EQ(dmn_signal_next(), DMN_SIG_NONE);
	raise(SIGHUP);
	char b;
	ASSERT_EQ(read(dmn_signal_fd(), &b, 0), 0);
	ASSERT_EQ(dmn_signal_next(), DMN_SIG_RELOAD);
	ASSERT_EQ(dmn_signal_next(), DMN_SIG_NONE); /* taken once */
	ASSERT_TRUE(!dmn_stop_requested());
	raise(SIGPIPE); /* ignored */
	raise(SIGTERM);
	raise(SIGHUP);
	ASSERT_EQ(dmn_signal_next(), DMN_SIG_STOP); /* stop wins */
	ASSERT_TRUE(dmn_stop_requested());
}

int main(void)
{
	test_parse();
	test_files_and_notify();
	test_signals();
	printf("test_daemon: ok\n");
	return 0;
}
