/* vminit.c: nom-vm-init, PID 1 of a nom VM: brings the guest up from its config drive.
 *
 * Boot: mounts the kernel filesystems, loads the virtio modules the image builder resolved
 * (/etc/nom/modules, in order), reads the config drive (the first virtio disk, /dev/vda:
 * INI text, NUL-padded; vm_config.h's schema), checks every key, writes the tenant's CURVE
 * key pair to a 0600 file in this guest's own tmpfs (it exists nowhere else in the guest and
 * never in the image), configures eth0, then starts nom-priced and the [app.*] commands and
 * reaps them. A config drive that does not check out is reported on the console as
 * "config-drive:LINE: vm.KEY: why" and the guest powers off, so nothing is left running.
 *
 * While it runs it onlines hot-plugged vCPUs and prints "nom-vm: cpus N memory_kib M" on the
 * console whenever either changes, so the host can read what the guest sees. */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/reboot.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "common/config.h"
#include "common/transport.h"
#include "vm_config.h"

#define MAX_CHILDREN 16

struct child {
	pid_t pid;
	char name[64];
};
static struct child children[MAX_CHILDREN];
static int nchildren;

static void say(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static void say(const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	fputs("nom-vm: ", stdout);
	vprintf(fmt, ap);
	fputc('\n', stdout);
	fflush(stdout);
	va_end(ap);
}

static void power_off(const char *why)
{
	say("stopping: %s", why);
	sync();
	reboot(RB_POWER_OFF);
	for (;;)
		pause();
}

static pid_t spawn(char *const argv[], const char *name)
{
	pid_t pid = fork();
	if (pid == 0) {
		setsid();
		execv(argv[0], argv);
		fprintf(stderr, "nom-vm: %s: %s: %s\n", name, argv[0], strerror(errno));
		_exit(127);
	}
	if (pid > 0 && name && nchildren < MAX_CHILDREN) {
		children[nchildren].pid = pid;
		snprintf(children[nchildren].name, sizeof(children[0].name), "%s", name);
		nchildren++;
	}
	return pid;
}

static int run(char *const argv[])
{
	pid_t pid = spawn(argv, NULL);
	int st;
	if (pid < 0 || waitpid(pid, &st, 0) != pid)
		return -1;
	return WIFEXITED(st) ? WEXITSTATUS(st) : -1;
}

static void load_modules(void)
{
	FILE *f = fopen("/etc/nom/modules", "r");
	char name[128], path[200];
	while (f && fscanf(f, "%127s", name) == 1) {
		snprintf(path, sizeof(path), "/lib/modules/%s.ko", name);
		int fd = open(path, O_RDONLY | O_CLOEXEC);
		if (fd < 0 || (syscall(SYS_finit_module, fd, "", 0) != 0 && errno != EEXIST))
			say("module %s: %s", name, strerror(errno));
		if (fd >= 0)
			close(fd);
	}
	if (f)
		fclose(f);
}

/* The config drive's text: up to the first NUL. */
static char *read_drive(const char *dev)
{
	int fd = -1;
	for (int i = 0; i < 100 && (fd = open(dev, O_RDONLY | O_CLOEXEC)) < 0; i++)
		usleep(100000); /* the disk appears once virtio_blk has probed it */
	if (fd < 0)
		return NULL;
	size_t cap = VM_CONFIG_MAX_BYTES;
	char *buf = calloc(1, cap + 1);
	size_t got = 0;
	ssize_t n;
	while (buf && got < cap && (n = read(fd, buf + got, cap - got)) > 0)
		got += (size_t)n;
	close(fd);
	return buf;
}

static int write_secret(const char *path, const char *text, mode_t mode)
{
	int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, mode);
	if (fd < 0)
		return -errno;
	size_t len = strlen(text);
	int r = write(fd, text, len) == (ssize_t)len ? 0 : -EIO;
	close(fd);
	return r;
}

static void watch_resources(void)
{
	static int last_cpus = -1;
	static long last_mem = -1;
	char path[128];
	for (int cpu = 1; cpu < 64; cpu++) {
		snprintf(path, sizeof(path), "/sys/devices/system/cpu/cpu%d/online", cpu);
		int fd = open(path, O_RDWR | O_CLOEXEC);
		if (fd < 0)
			continue;
		char c = 0;
		if (read(fd, &c, 1) == 1 && c == '0' && pwrite(fd, "1", 1, 0) != 1)
			say("cpu%d: cannot online it: %s", cpu, strerror(errno));
		close(fd);
	}
	int cpus = (int)sysconf(_SC_NPROCESSORS_ONLN);
	long mem = -1;
	FILE *f = fopen("/proc/meminfo", "r");
	if (f) {
		if (fscanf(f, "MemTotal: %ld kB", &mem) != 1)
			mem = -1;
		fclose(f);
	}
	if (cpus != last_cpus || mem != last_mem) {
		say("cpus %d memory_kib %ld", cpus, mem);
		last_cpus = cpus;
		last_mem = mem;
	}
}

int main(void)
{
	setvbuf(stdout, NULL, _IOLBF, 0);
	if (getpid() != 1) {
		fprintf(stderr, "nom-vm-init: runs as the guest's PID 1 only\n");
		return 64;
	}
	mount("proc", "/proc", "proc", 0, NULL);
	mount("sysfs", "/sys", "sysfs", 0, NULL);
	mount("devtmpfs", "/dev", "devtmpfs", 0, NULL);
	mount("tmpfs", "/run", "tmpfs", 0, "mode=0755");
	mount("tmpfs", "/tmp", "tmpfs", 0, "mode=1777");
	mkdir("/dev/shm", 01777);
	mount("tmpfs", "/dev/shm", "tmpfs", 0, "mode=1777");
	setenv("PATH", "/bin", 1);
	FILE *img = fopen("/etc/nom/image", "r");
	char line[256] = "";
	if (img) {
		if (!fgets(line, sizeof(line), img))
			line[0] = 0;
		fclose(img);
	}
	line[strcspn(line, "\n")] = 0;
	say("booted (%s)", line);
	load_modules();

	char *text = read_drive("/dev/vda");
	if (!text)
		power_off("no config drive (/dev/vda)");
	struct vm_config vc;
	char why[768];
	if (vm_config_parse("config-drive", text, &vc, why, sizeof(why)) != 0) {
		say("config drive: %s", why);
		power_off("bad config drive");
	}
	free(text);

	mkdir("/run/nom", 0700);
	char key[256];
	snprintf(key, sizeof(key), "public = %s\nsecret = %s\n", vc.tenant_public, vc.tenant_secret);
	if (write_secret("/run/nom/tenant.key", key, 0600) != 0)
		power_off("cannot write /run/nom/tenant.key");
	snprintf(key, sizeof(key), "public = %s\n", vc.market_key);
	if (write_secret("/run/nom/market.pub", key, 0644) != 0)
		power_off("cannot write /run/nom/market.pub");
	memset(&vc.tenant_secret, 0, sizeof(vc.tenant_secret));
	sethostname(vc.name, strlen(vc.name));
	/* What an app needs to find its instance: inherited by nom-priced and the apps. */
	setenv("NOM_INSTANCE", vc.name, 1);
	setenv("NOM_HOST", vc.host, 1);

	char *lo[] = {"/bin/busybox", "ip", "link", "set", "lo", "up", NULL};
	char *up[] = {"/bin/busybox", "ip", "link", "set", "eth0", "up", NULL};
	char *addr[] = {"/bin/busybox", "ip", "addr", "add", vc.address, "dev", "eth0", NULL};
	char *route[] = {"/bin/busybox", "ip", "route", "add", "default", "via", vc.gateway, NULL};
	if (run(lo) != 0 || run(up) != 0 || run(addr) != 0 ||
	    (vc.gateway[0] && run(route) != 0))
		power_off("cannot configure eth0");
	say("eth0 %s%s%s", vc.address, vc.gateway[0] ? " via " : "", vc.gateway);
	/* nomnet's drivers want whole frames with valid checksums: no offloads on eth0. */
	char *prep[] = {"/bin/nomnet-ctl", "ifprep", "eth0", NULL};
	if (access(prep[0], X_OK) == 0 && run(prep) != 0)
		say("nomnet-ctl ifprep eth0 failed");

	char a_inst[200], a_market[400], a_prices[400], a_host[200], a_sub[400];
	snprintf(a_inst, sizeof(a_inst), "--set=priced.instance=%s", vc.name);
	snprintf(a_market, sizeof(a_market), "--set=priced.market=%s", vc.market);
	snprintf(a_prices, sizeof(a_prices), "--set=priced.prices=%s", vc.prices);
	snprintf(a_host, sizeof(a_host), "--set=priced.host=%s", vc.host);
	snprintf(a_sub, sizeof(a_sub), "--set=priced.subscribe=%s", vc.subscribe);
	char *priced[] = {"/bin/nom-priced", a_inst, a_market, a_prices,
			  "--set=priced.tenant_key=/run/nom/tenant.key",
			  "--set=priced.market_key=/run/nom/market.pub", a_host, a_sub, NULL};
	if (spawn(priced, "nom-priced") < 0)
		power_off("cannot start nom-priced");
	/* The board appears once nom-priced runs; apps open it at their start. */
	char board[200];
	snprintf(board, sizeof(board), "/dev/shm/nom.%s", vc.name);
	for (int i = 0; i < 200 && access(board, F_OK) != 0; i++)
		usleep(50000);
	for (int i = 0; i < vc.napps; i++) {
		char *argv[VM_APP_MAX_ARGS + 1];
		int n = 0;
		for (char *s = strtok(vc.apps[i].run, " \t"); s && n < VM_APP_MAX_ARGS;
		     s = strtok(NULL, " \t"))
			argv[n++] = s;
		argv[n] = NULL;
		char prog[300];
		if (n && argv[0][0] != '/') {
			snprintf(prog, sizeof(prog), "/bin/%s", argv[0]);
			argv[0] = prog;
		}
		pid_t pid = n ? spawn(argv, vc.apps[i].name) : -1;
		say("app %s: %s (pid %d)", vc.apps[i].name, pid > 0 ? "started" : "cannot start",
		    (int)pid);
	}
	for (;;) {
		watch_resources();
		int st;
		pid_t pid;
		while ((pid = waitpid(-1, &st, WNOHANG)) > 0) {
			for (int i = 0; i < nchildren; i++)
				if (children[i].pid == pid)
					say("%s exited (%s %d)", children[i].name,
					    WIFEXITED(st) ? "status" : "signal",
					    WIFEXITED(st) ? WEXITSTATUS(st) : WTERMSIG(st));
		}
		usleep(500000);
	}
}
