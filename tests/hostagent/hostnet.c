/* hostnet.c: network-namespace hosts for the agent's integration tests (hostnet.h). */
#include <fcntl.h>
#include <sched.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "hostnet.h"
#include "test.h"

static struct hostnet *current;

int64_t hn_now_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

int hn_sh(const char *fmt, ...)
{
	char cmd[2048];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(cmd, sizeof(cmd), fmt, ap);
	va_end(ap);
	int st = system(cmd);
	return WIFEXITED(st) ? WEXITSTATUS(st) : 128;
}

static void must(int status, const char *what)
{
	if (status != 0)
		TEST_FAIL("set-up step failed (%d): %s", status, what);
}

static void teardown(void)
{
	struct hostnet *h = current;
	if (!h)
		return;
	if (h->agent > 0)
		hn_stop_agent(h, SIGKILL);
	for (int i = 0; i < h->ntenants; i++)
		if (h->servers[i] > 0) {
			kill(h->servers[i], SIGKILL);
			waitpid(h->servers[i], NULL, 0);
		}
	hn_sh("ip netns delete %s 2>/dev/null", h->ns_sink);
	for (int i = 0; i < h->ntenants; i++)
		hn_sh("ip netns delete %s 2>/dev/null", h->ns_tenant[i]);
	hn_sh("ip netns delete %s 2>/dev/null", h->ns_host);
	if (!getenv("HOSTAGENT_KEEP"))
		hn_sh("rm -rf %s", h->dir);
	current = NULL;
}

void hn_child(void)
{
	current = NULL;
}

static void on_signal(int sig)
{
	teardown();
	_exit(128 + sig);
}

void hn_setup(struct hostnet *h, int ntenants)
{
	char path[128];
	int pid = (int)getpid();

	if (geteuid() != 0)
		TEST_SKIP("needs root (network namespaces, tc)");
	if (hn_sh("command -v iperf3 >/dev/null") != 0)
		TEST_MISSING("iperf3 is not installed (scripts/install-deps)");
	memset(h, 0, sizeof(*h));
	h->ntenants = ntenants;
	snprintf(h->dir, sizeof(h->dir), "/tmp/hostagent-%d", pid);
	snprintf(h->ns_host, sizeof(h->ns_host), "hostagent-%d-host", pid);
	snprintf(h->ns_sink, sizeof(h->ns_sink), "hostagent-%d-sink", pid);
	current = h;
	atexit(teardown);
	signal(SIGTERM, on_signal);
	signal(SIGINT, on_signal);
	must(hn_sh("mkdir -p %s", h->dir), "mkdir");
	if (hn_sh("ip netns add %s", h->ns_host) != 0)
		TEST_MISSING("cannot create network namespaces");
	must(hn_sh("ip netns add %s", h->ns_sink), "netns sink");
	must(hn_sh("ip -n %s link set lo up && ip -n %s link set lo up && "
		   "ip netns exec %s sysctl -qw net.ipv4.ip_forward=1",
		   h->ns_host, h->ns_sink, h->ns_host), "lo, forwarding");
	/* Jumbo frames without GSO: the qdisc and the interfaces count the same packets (GSO
	 * packets are counted once by veth but per segment by the qdisc), and a 2-core VM
	 * still forwards ~1 Gbit/s. */
	must(hn_sh("ip -n %s link add up0 mtu 9000 type veth peer name s0 mtu 9000 netns %s && "
		   "ip -n %s addr add 10.201.100.1/24 dev up0 && ip -n %s link set up0 up && "
		   "ip -n %s addr add 10.201.100.2/24 dev s0 && ip -n %s link set s0 up && "
		   "ip -n %s route add 10.201.0.0/16 via 10.201.100.1",
		   h->ns_host, h->ns_sink, h->ns_host, h->ns_host, h->ns_sink, h->ns_sink,
		   h->ns_sink), "uplink");
	for (int i = 0; i < ntenants; i++) {
		const char *t = h->ns_tenant[i];
		snprintf(h->ns_tenant[i], sizeof(h->ns_tenant[i]), "hostagent-%d-t%d", pid, i + 1);
		must(hn_sh("ip netns add %s && ip -n %s link set lo up", t, t), "netns tenant");
		must(hn_sh("ip -n %s link add h%d mtu 9000 type veth peer name t%d mtu 9000 "
			   "netns %s && "
			   "ip -n %s addr add 10.201.%d.1/24 dev h%d && ip -n %s link set h%d up && "
			   "ip -n %s addr add 10.201.%d.2/24 dev t%d && "
			   "ip -n %s link set t%d gso_max_segs 1 && ip -n %s link set t%d up && "
			   "ip -n %s route add default via 10.201.%d.1",
			   h->ns_host, i + 1, i + 1, t, h->ns_host, i + 1, i + 1, h->ns_host, i + 1,
			   t, i + 1, i + 1, t, i + 1, t, i + 1, t, i + 1), "tenant veth");
	}
	snprintf(path, sizeof(path), "/var/run/netns/%s", h->ns_host);
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0 || setns(fd, CLONE_NEWNET) != 0)
		TEST_FAIL("cannot enter %s", path);
	close(fd);
}

const char *hn_write_config(struct hostnet *h, int market_port, const char *extra)
{
	static char path[256];
	snprintf(path, sizeof(path), "%s/agent.ini", h->dir);
	FILE *f = fopen(path, "w");
	if (!f)
		TEST_FAIL("cannot write %s", path);
	fprintf(f,
		"[agent]\nhost = nshost\nmarket = tcp://127.0.0.1:%d\n"
		"market_public_key = %s/market.pub\nkey = %s/agent.key\n"
		"heartbeat = 200ms\nmarket_timeout = 1500ms\n"
		"reconnect_min = 100ms\nreconnect_max = 1s\nmeter_interval = 500ms\n"
		"[capacity]\nbandwidth_mbit = 1000\n[backends]\nbandwidth = tc\n",
		market_port, h->dir, h->dir);
	for (int i = 0; i < h->ntenants; i++)
		fprintf(f, "[tenant.t%d]\ninterface = up0\nclass = %#x\nsrc = 10.201.%d.2\n", i + 1,
			0x10 * (i + 1), i + 1);
	if (extra)
		fputs(extra, f);
	fclose(f);
	return path;
}

void hn_start_agent(struct hostnet *h, const char *config, const char *set)
{
	char bin[512], log[256];
	snprintf(bin, sizeof(bin), "%s/raas-hostagentd", RAAS_BIN_DIR);
	snprintf(log, sizeof(log), "%s/agent.log", h->dir);
	h->agent = fork();
	if (h->agent == 0) {
		int fd = open(log, O_WRONLY | O_CREAT | O_APPEND, 0644);
		if (fd >= 0) {
			dup2(fd, 1);
			dup2(fd, 2);
		}
		if (set)
			execl(bin, bin, "-c", config, "--log-level", "debug", "--set", set, (char *)NULL);
		else
			execl(bin, bin, "-c", config, "--log-level", "debug", (char *)NULL);
		_exit(127);
	}
	if (h->agent < 0)
		TEST_FAIL("fork failed");
}

void hn_stop_agent(struct hostnet *h, int sig)
{
	if (h->agent <= 0)
		return;
	kill(h->agent, sig);
	waitpid(h->agent, NULL, 0);
	h->agent = 0;
}

void hn_start_servers(struct hostnet *h)
{
	for (int i = 0; i < h->ntenants; i++) {
		char port[16];
		snprintf(port, sizeof(port), "%d", 5201 + i);
		h->servers[i] = fork();
		if (h->servers[i] == 0) {
			int fd = open("/dev/null", O_WRONLY);
			dup2(fd, 1);
			dup2(fd, 2);
			execlp("ip", "ip", "netns", "exec", h->ns_sink, "iperf3", "-s", "-p", port,
			       (char *)NULL);
			_exit(127);
		}
	}
	int64_t end = hn_now_ms() + 10000;
	for (int i = 0; i < h->ntenants; i++) {
		while (hn_sh("ip netns exec %s ss -ltnH 'sport = :%d' | grep -q LISTEN", h->ns_sink,
			     5201 + i) != 0) {
			if (hn_now_ms() > end)
				TEST_FAIL("iperf3 server %d did not start", i);
			usleep(50000);
		}
	}
}

/* "50Mbit", "100Kbit", "1Gbit", "800bit" -> bits/s. */
static uint64_t parse_rate(const char *p)
{
	char *end;
	double v = strtod(p, &end);
	if (*end == 'K')
		v *= 1e3;
	else if (*end == 'M')
		v *= 1e6;
	else if (*end == 'G')
		v *= 1e9;
	return (uint64_t)(v + 0.5);
}

uint64_t hn_class_rate(int tenant_index, uint64_t *bytes)
{
	char cmd[256], line[512];
	uint64_t rate = 0;
	unsigned minor = 0x10 * (unsigned)(tenant_index + 1);
	/* This iproute2 prints no JSON for HTB classes: parse the text. */
	snprintf(cmd, sizeof(cmd), "tc -s class show dev up0 classid 1:%x 2>/dev/null", minor);
	FILE *p = popen(cmd, "r");
	if (bytes)
		*bytes = 0;
	while (p && fgets(line, sizeof(line), p)) {
		char *r = strstr(line, " rate ");
		char *b = strstr(line, "Sent ");
		if (r && strstr(line, "class htb"))
			rate = parse_rate(r + 6);
		if (b && bytes)
			*bytes = strtoull(b + 5, NULL, 10);
	}
	if (p)
		pclose(p);
	return rate;
}

uint64_t hn_tx_bytes(struct hostnet *h, int i)
{
	char cmd[256], line[64] = "";
	snprintf(cmd, sizeof(cmd), "ip netns exec %s cat /sys/class/net/t%d/statistics/tx_bytes",
		 h->ns_tenant[i], i + 1);
	FILE *p = popen(cmd, "r");
	if (!p || !fgets(line, sizeof(line), p))
		TEST_FAIL("cannot read t%d tx_bytes", i + 1);
	pclose(p);
	return strtoull(line, NULL, 10);
}

static double number_after(const char *text, const char *key)
{
	const char *p = strstr(text, key);
	return p ? strtod(p + strlen(key), NULL) : -1;
}

void hn_iperf(struct hostnet *h, const int *tenants, int n, int secs, int omit, double *mbit,
	      double (*intervals)[64], int *nint)
{
	FILE *p[HN_MAX_TENANTS];
	char cmd[512];
	for (int k = 0; k < n; k++) {
		int i = tenants[k];
		snprintf(cmd, sizeof(cmd),
			 "ip netns exec %s iperf3 -J -c 10.201.100.2 -p %d -t %d -O %d %s 2>&1",
			 h->ns_tenant[i], 5201 + i, secs, omit,
			 intervals ? "--get-server-output" : "");
		p[k] = popen(cmd, "r");
		if (!p[k])
			TEST_FAIL("popen iperf3");
	}
	for (int k = 0; k < n; k++) {
		size_t cap = 1 << 20, len = 0;
		char *out = malloc(cap);
		size_t got;
		while ((got = fread(out + len, 1, cap - 1 - len, p[k])) > 0)
			len += got;
		out[len] = '\0';
		pclose(p[k]);
		const char *end = strstr(out, "\"sum_received\"");
		if (!end) {
			fprintf(stderr, "%s\n", out);
			TEST_FAIL("iperf3 from tenant %d produced no result", tenants[k] + 1);
		}
		mbit[k] = number_after(end, "\"bits_per_second\":") / 1e6;
		if (intervals) {
			/* The receiver's per-second rates (iperf3 --get-server-output, text):
			 * lines "[  5]   3.00-4.00   sec  5.9 MBytes  49.6 Mbits/sec", without the
			 * omitted first seconds, a short last interval and the summary. */
			const char *q = strstr(out, "\"server_output_text\"");
			int m = 0;
			while (q && (q = strstr(q, "\\n[")) && m < 64) {
				q += 2;
				double a, b, rate;
				char unit[8];
				if (sscanf(q, "[ %*d] %lf-%lf sec %*f %*s %lf %7[A-Za-z]", &a, &b, &rate,
					   unit) != 4)
					continue;
				const char *eol = strstr(q, "\\n");
				const char *rcv = strstr(q, "receiver");
				if (rcv && (!eol || rcv < eol))
					continue;
				if (a < omit - 0.01 || b - a < 0.5)
					continue;
				if (unit[0] == 'K')
					rate /= 1e3;
				else if (unit[0] == 'G')
					rate *= 1e3;
				else if (unit[0] != 'M')
					rate /= 1e6;
				intervals[k][m++] = rate;
			}
			nint[k] = m;
		}
		free(out);
	}
}

void hn_dump_log(struct hostnet *h)
{
	hn_sh("echo '--- agent log (tail) ---' >&2; tail -n 60 %s/agent.log >&2", h->dir);
}
