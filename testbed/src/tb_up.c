/* tb_up.c: bringing a testbed up, in the order each part needs the one before.
 *
 *   keys (raas keygen) -> registry (raas tenant add, raas host add) -> configs, each checked
 *   with its daemon's --check -> the core namespace tb-NAME (bridge br0 10.N.0.1/24) and the
 *   market in it -> per emulated host: namespace tb-NAME-HOST, uplink veth up0 (10.N.0.10+k)
 *   into br0, a memory cgroup subtree, raas-hostagentd with the tc backend on up0 -> per
 *   tenant: namespace tb-NAME-TENANT with veth t0 (the app's, 10.N.j.2) to the host
 *   (10.N.j.1), nom-priced in the host's namespace, the app through nom-run, its load
 *   generator in the core namespace; a tenant with instance = vm is a nom VM instead, which
 *   its host's agent boots (the image built first, its bridge, veth and config drive made
 *   before the agent starts).
 *
 * The dashboards: the market also serves its HTTP API and the pages (build/dashboards/www,
 * beside the binaries) on a veth tbNAMEd (root namespace, 10.N.254.1/30) <-> dash0 (core,
 * 10.N.254.2/30), so a browser in the root namespace reaches them; that address is not
 * loopback, so the market requires a bearer token (STATE/http.token, random, mode 0600),
 * which the printed URL carries as ?token= (docs/dashboards.md).
 *
 * Each step waits for the ready file (or the listening port) of what it started, against the
 * testbed's startup_timeout; the caller tears everything down when a step fails. Commands are
 * the project's own tools (raas, the daemons, nom-run) and iproute2; nothing here reimplements
 * them. */

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "common/daemon.h"
#include "common/transport.h"
#include "tb_internal.h"

#define SAY(...) fprintf(stderr, "raas testbed: " __VA_ARGS__)

static int fail(const char *what, int rc)
{
	SAY("%s: %s\n", what,
	    rc == -ETIMEDOUT ? "not ready within startup_timeout" :
	    rc == -ECHILD    ? "exited" :
	    rc == -EINTR     ? "interrupted" :
	    rc < 0           ? strerror(-rc) :
			       "failed (the state folder's setup.log has its output)");
	return rc < 0 ? rc : -EIO;
}

int tb_state_init(struct tb_state *st, const struct testbed *tb)
{
	const char *base = getenv("RAAS_TESTBED_DIR");
	char self[PATH_MAX];
	ssize_t n;

	memset(st, 0, sizeof(*st));
	st->tb = tb;
	snprintf(st->dir, sizeof(st->dir), "%s/%s", base && *base ? base : "/tmp/raas-testbed",
		 tb->name);
	n = readlink("/proc/self/exe", self, sizeof(self) - 1);
	if (n <= 0)
		return -errno;
	self[n] = 0;
	*strrchr(self, '/') = 0;
	if (strlen(self) >= sizeof(st->bin))
		return -ENAMETOOLONG;
	memcpy(st->bin, self, strlen(self) + 1);
	snprintf(st->source, sizeof(st->source), "%s", RAAS_SOURCE_DIR);
	snprintf(st->core_ns, sizeof(st->core_ns), "tb-%s", tb->name);
	/* Our cgroups (v1): the subtrees go under them, as the project's tests do. */
	FILE *f = fopen("/proc/self/cgroup", "r");
	char line[512];
	while (f && fgets(line, sizeof(line), f)) {
		/* ID:CONTROLLER[,CONTROLLER...]:PATH */
		char *ctrls = strchr(line, ':'), *path;
		if (!ctrls || !(path = strchr(++ctrls, ':')))
			continue;
		*path++ = 0;
		while (*path == '/')
			path++;
		path[strcspn(path, "\n")] = 0;
		char *save = NULL;
		for (char *c = strtok_r(ctrls, ",", &save); c; c = strtok_r(NULL, ",", &save)) {
			char *dst = strcmp(c, "memory") == 0  ? st->cg_mem_parent :
				    strcmp(c, "cpuset") == 0  ? st->cg_cpu_parent :
				    strcmp(c, "cpuacct") == 0 ? st->cg_acct_parent :
								NULL;
			if (dst)
				snprintf(dst, sizeof(st->cg_mem_parent), "%s", path);
		}
	}
	if (f)
		fclose(f);
	for (int h = 0; h < tb->nhosts; h++)
		for (int r = 0; r < TB_NRES; r++)
			st->supply[h][r] = tb_host_capacity(&tb->hosts[h], (enum tb_res)r);
	for (int i = 0; i < tb->nresources; i++) {
		snprintf(st->res_model[i], sizeof(st->res_model[i]), "%s", tb->resources[i].model);
		snprintf(st->res_params[i], sizeof(st->res_params[i]), "%s",
			 tb->resources[i].params);
	}
	for (int e = 0; e < TB_MAX_EVENTS; e++)
		st->event_done_ns[e] = -1;
	return 0;
}

static int mkdirs(const char *path)
{
	char buf[600];
	snprintf(buf, sizeof(buf), "%s", path);
	for (char *p = buf + 1; *p; p++)
		if (*p == '/') {
			*p = 0;
			if (mkdir(buf, 0755) != 0 && errno != EEXIST)
				return -errno;
			*p = '/';
		}
	if (mkdir(buf, 0755) != 0 && errno != EEXIST)
		return -errno;
	return 0;
}

/* write_file: written whole to PATH.tmp, then renamed (a daemon reloading it never reads
 * half a file). */
static int write_file(const char *path, const char *text)
{
	char tmp[700];
	snprintf(tmp, sizeof(tmp), "%s.tmp", path);
	FILE *f = fopen(tmp, "w");
	if (!f)
		return -errno;
	int ok = fputs(text, f) >= 0;
	if (fclose(f) != 0 || !ok || rename(tmp, path) != 0) {
		unlink(tmp);
		return -EIO;
	}
	return 0;
}

static const char *host_ns(const struct tb_state *st, int h, char *buf, size_t len)
{
	snprintf(buf, len, "tb-%s-%s", st->tb->name, st->tb->hosts[h].name);
	return buf;
}

static const char *tenant_ns(const struct tb_state *st, int t, char *buf, size_t len)
{
	snprintf(buf, len, "tb-%s-%s", st->tb->name, st->tb->tenants[t].name);
	return buf;
}

void tb_cg_dir(const struct tb_state *st, const char *ctrl, int h, int t, char *buf, size_t len)
{
	const char *p = strcmp(ctrl, "cpuset") == 0  ? st->cg_cpu_parent :
			strcmp(ctrl, "cpuacct") == 0 ? st->cg_acct_parent :
						       st->cg_mem_parent;
	int n = snprintf(buf, len, "/sys/fs/cgroup/%s/%s%stb-%s/%s", ctrl, p, *p ? "/" : "",
			 st->tb->name, st->tb->hosts[h].name);
	if (t >= 0 && n > 0 && (size_t)n < len)
		snprintf(buf + n, len - (size_t)n, "/%s", st->tb->tenants[t].name);
}

/* The memory cgroup directory of a host (t < 0) or of a tenant on it. */
static void cg_dir(const struct tb_state *st, int h, int t, char *buf, size_t len)
{
	tb_cg_dir(st, "memory", h, t, buf, len);
}

/* sells_cg: the host sells cores or memory (its agent runs the cgroup backend). */
static bool sells_cg(const struct tb_state *st, int h)
{
	return st->tb->hosts[h].cores > 0 || st->tb->hosts[h].memory_mib > 0;
}

/* The cgroup parent under /sys/fs/cgroup/CTRL/ of a host's tenants' groups, as the agent's
 * [cgroup] keys take it. */
static void cg_parent(const struct tb_state *st, const char *ctrl, int h, char *buf, size_t len)
{
	char dir[600];
	tb_cg_dir(st, ctrl, h, -1, dir, sizeof(dir));
	snprintf(buf, len, "%s", dir + strlen("/sys/fs/cgroup/") + strlen(ctrl) + 1);
}

static int raas_cmd(struct tb_state *st, char *const args[])
{
	char path[600];
	char *argv[16];
	int n = 0;
	snprintf(path, sizeof(path), "%s/raas", st->bin);
	argv[n++] = path;
	for (int i = 0; args[i] && n < 15; i++)
		argv[n++] = args[i];
	argv[n] = NULL;
	return tb_run_cmd(st, NULL, 0, argv);
}

static int keys_and_registry(struct tb_state *st)
{
	const struct testbed *tb = st->tb;
	char keydir[600], ledger[600], pub[700], budget[64];
	int rc;

	snprintf(keydir, sizeof(keydir), "%s/keys", st->dir);
	snprintf(ledger, sizeof(ledger), "%s/ledger.sqlite", st->dir);
	setenv("RAAS_LEDGER", ledger, 1);
	char *mk[] = {"keygen", "--dir", keydir, "market", NULL};
	if ((rc = raas_cmd(st, mk)) != 0)
		return fail("raas keygen market", rc);
	for (int h = 0; h < tb->nhosts; h++) {
		char *name = (char *)tb->hosts[h].name;
		if (tb->hosts[h].kind == TB_HOST_EMULATED) {
			char *kg[] = {"keygen", "--dir", keydir, name, NULL};
			if ((rc = raas_cmd(st, kg)) != 0)
				return fail("raas keygen (a host)", rc);
			snprintf(pub, sizeof(pub), "%s/%s.pub", keydir, name);
		} else {
			snprintf(pub, sizeof(pub), "%s", tb->hosts[h].key);
		}
		char *add[] = {"host", "add", name, "--key", pub, NULL};
		if ((rc = raas_cmd(st, add)) != 0)
			return fail("raas host add", rc);
	}
	for (int t = 0; t < tb->ntenants; t++) {
		char *name = (char *)tb->tenants[t].name;
		char *kg[] = {"keygen", "--dir", keydir, name, NULL};
		if ((rc = raas_cmd(st, kg)) != 0)
			return fail("raas keygen (a tenant)", rc);
		snprintf(pub, sizeof(pub), "%s/%s.pub", keydir, name);
		if (tb->tenants[t].budget >= 0) {
			money_format(tb->tenants[t].budget, budget);
			char *add[] = {"tenant", "add", name, "--key", pub, "--budget", budget, NULL};
			rc = raas_cmd(st, add);
		} else {
			char *add[] = {"tenant", "add", name, "--key", pub, NULL};
			rc = raas_cmd(st, add);
		}
		if (rc != 0)
			return fail("raas tenant add", rc);
	}
	return 0;
}

/* check_config: DAEMON -c FILE --check; its one-line complaint is shown. */
static int check_config(struct tb_state *st, const char *daemon, const char *file)
{
	char path[600], out[2048];
	snprintf(path, sizeof(path), "%s/%s", st->bin, daemon);
	char *argv[] = {path, "-c", (char *)file, "--check", NULL};
	int rc = tb_run_cmd(st, out, sizeof(out), argv);
	if (rc != 0) {
		char *nl;
		/* The last line that says something. */
		while ((nl = strrchr(out, '\n')) && nl[1] == 0)
			*nl = 0;
		nl = strrchr(out, '\n');
		SAY("%s: the config made from %s is refused: %s\n", daemon, st->tb->file,
		    nl ? nl + 1 : out);
		return -EINVAL;
	}
	return 0;
}

/* The market's HTTP token: made once (a reload keeps it), 32 hex digits from the kernel's
 * random source, readable by root only. 0 or -errno. */
static int http_token(struct tb_state *st, char *tok, size_t len)
{
	char path[600];
	unsigned char raw[16];
	int fd, rc = 0;

	snprintf(path, sizeof(path), "%s/http.token", st->dir);
	if ((fd = open(path, O_RDONLY | O_CLOEXEC)) >= 0) {
		ssize_t n = read(fd, tok, len - 1);
		close(fd);
		if (n < 32)
			return -EINVAL;
		tok[n] = 0;
		tok[strcspn(tok, "\n")] = 0;
		return 0;
	}
	if ((fd = open("/dev/urandom", O_RDONLY | O_CLOEXEC)) < 0)
		return -errno;
	if (read(fd, raw, sizeof(raw)) != (ssize_t)sizeof(raw))
		rc = -EIO;
	close(fd);
	if (rc)
		return rc;
	for (size_t i = 0; i < sizeof(raw) && 2 * i + 2 < len; i++)
		snprintf(tok + 2 * i, 3, "%02x", raw[i]);
	if ((fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600)) < 0)
		return -errno;
	if (dprintf(fd, "%s\n", tok) < 0)
		rc = -EIO;
	if (close(fd) != 0 && !rc)
		rc = -EIO;
	return rc;
}

int tb_write_market_ini(struct tb_state *st)
{
	const struct testbed *tb = st->tb;
	char path[700], text[8192], tok[80], www[600];
	int n, rc;

	n = snprintf(text, sizeof(text),
		     "# made by raas testbed from %s\n[market]\n"
		     "tenant_endpoint = tcp://10.%d.0.1:*\nprice_endpoint = tcp://10.%d.0.1:*\n"
		     "host_endpoint = tcp://10.%d.0.1:*\nround_ms = %lld\nledger = %s/ledger.sqlite\n"
		     "key_dir = %s/keys\nseed = %llu\n",
		     tb->file, tb->net, tb->net, tb->net, (long long)(tb->round_ns / 1000000),
		     st->dir, st->dir, (unsigned long long)tb->seed);
	if ((rc = http_token(st, tok, sizeof(tok))) != 0)
		return rc;
	/* The pages, as the build lays them out: BUILD/bin's sibling dashboards/www (none
	 * there, e.g. installed without them: the API alone). */
	snprintf(www, sizeof(www), "%s", st->bin);
	if (strrchr(www, '/'))
		*strrchr(www, '/') = 0;
	snprintf(path, sizeof(path), "%s/dashboards/www/market.html", www);
	if (access(path, R_OK) == 0)
		snprintf(www + strlen(www), sizeof(www) - strlen(www), "/dashboards/www");
	else
		www[0] = 0;
	n += snprintf(text + n, sizeof(text) - (size_t)n,
		      "http_bind = 10.%d.254.2\nhttp_token_file = %s/http.token\n"
		      "http_pages_dir = %s\n",
		      tb->net, st->dir, www);
	for (int i = 0; i < tb->nresources && n < (int)sizeof(text); i++) {
		n += snprintf(text + n, sizeof(text) - (size_t)n,
			      "\n[resource.%s]\nmodel = %s\nparams = %s\n", tb->resources[i].name,
			      st->res_model[i], st->res_params[i]);
	}
	if (n >= (int)sizeof(text))
		return -E2BIG;
	snprintf(path, sizeof(path), "%s/market.ini", st->dir);
	return write_file(path, text);
}

int tb_write_agent_ini(struct tb_state *st, int h, const char *hostapi)
{
	const struct testbed *tb = st->tb;
	const int64_t *sup = st->supply[h];
	char path[600], text[16384], cpus[64] = "", cpu_parent[600], mem_parent[600],
						 acct_parent[600];
	bool cg = sells_cg(st, h);
	int n;

	/* Cores are CPUs 0..N-1; with none left, CPU 0 stays the tenants' idle CPU. */
	if (sup[TB_RES_CORES] > 0)
		snprintf(cpus, sizeof(cpus), "cpus = 0-%lld\nidle_cpus = 0\n",
			 (long long)sup[TB_RES_CORES] - 1);
	n = snprintf(text, sizeof(text),
		     "# made by raas testbed from %s\n[agent]\nhost = %s\nmarket = %s\n"
		     "market_public_key = %s/keys/market.pub\nkey = %s/keys/%s.key\n"
		     "heartbeat = 500ms\n\n[capacity]\nbandwidth_mbit = %lld\n",
		     tb->file, tb->hosts[h].name, hostapi, st->dir, st->dir, tb->hosts[h].name,
		     (long long)sup[TB_RES_BANDWIDTH]);
	if (cg) {
		cg_parent(st, "cpuset", h, cpu_parent, sizeof(cpu_parent));
		cg_parent(st, "memory", h, mem_parent, sizeof(mem_parent));
		cg_parent(st, "cpuacct", h, acct_parent, sizeof(acct_parent));
		n += snprintf(text + n, sizeof(text) - (size_t)n,
			      "cores = %lld\n%smemory_mib = %lld\n"
			      "\n[backends]\nbandwidth = tc\ncores = %s\nmemory = %s\n"
			      "\n[cgroup]\nversion = v1\nparent = %s\ncpuset_parent = %s\n"
			      "memory_parent = %s\ncpuacct_parent = %s\n",
			      (long long)sup[TB_RES_CORES], cpus, (long long)sup[TB_RES_MEMORY],
			      tb->hosts[h].cores ? "cgroup" : "none",
			      tb->hosts[h].memory_mib ? "cgroup" : "none", cpu_parent, cpu_parent,
			      mem_parent, acct_parent);
	} else {
		n += snprintf(text + n, sizeof(text) - (size_t)n, "\n[backends]\nbandwidth = tc\n");
	}
	if (n < (int)sizeof(text))
		n += snprintf(text + n, sizeof(text) - (size_t)n,
			      "\n[tc]\nhandle = 1\nfloor_kbit = 100\n");
	for (int t = 0; t < tb->ntenants && n < (int)sizeof(text); t++) {
		const struct tb_tenant *tn = &tb->tenants[t];
		if (tn->host != h)
			continue;
		n += snprintf(text + n, sizeof(text) - (size_t)n,
			      "\n[tenant.%s]\ninterface = up0\nclass = 0x%x\nsrc = 10.%d.%d.2/32\n%s%s%s",
			      tn->name, 0x10 * tn->index, tb->net, tn->index, cg ? "cgroup = " : "",
			      cg ? tn->name : "", cg ? "\n" : "");
		if (tn->vm && n < (int)sizeof(text))
			n += snprintf(text + n, sizeof(text) - (size_t)n,
				      "domain = tb-%s-%s\nvm_image = %s/image\n"
				      "vm_drive = %s/vm-%s.drive\nvm_bridge = tb%sv%d\n"
				      "vm_tap = tb%sx%d\nvm_console = %s/vm-%s.console\n"
				      "vm_vcpus = 1\nvm_memory_mib = 256\nvm_type = %s\n",
				      tb->name, tn->name, st->dir, st->dir, tn->name, tb->name,
				      tn->index, tb->name, tn->index, st->dir, tn->name,
				      tn->vm_type);
	}
	if (n >= (int)sizeof(text))
		return -E2BIG;
	snprintf(path, sizeof(path), "%s/agent-%s.ini", st->dir, tb->hosts[h].name);
	return write_file(path, text);
}

static int start_market(struct tb_state *st, int64_t deadline)
{
	const struct testbed *tb = st->tb;
	char bin[600], ini[600], ready[600];
	int rc;

	if ((rc = tb_manifest_add(st, "netns %s", st->core_ns)) != 0)
		return rc;
	if ((rc = tb_sh(st, "ip netns add %s", st->core_ns)) != 0)
		return fail("ip netns add (the core namespace; another testbed of this name?)",
			    rc);
	rc = tb_sh(st,
		   "ip -n %s link set lo up && ip -n %s link add br0 type bridge && "
		   "ip -n %s addr add 10.%d.0.1/24 dev br0 && ip -n %s link set br0 up",
		   st->core_ns, st->core_ns, st->core_ns, tb->net, st->core_ns);
	if (rc != 0)
		return fail("the core namespace's bridge", rc);
	/* The dashboards' way in from the root namespace (in the manifest before it exists). */
	if ((rc = tb_manifest_add(st, "link tb%sd", tb->name)) != 0)
		return rc;
	rc = tb_sh(st,
		   "ip link add tb%sd type veth peer name dash0 netns %s && "
		   "ip addr add 10.%d.254.1/30 dev tb%sd && ip link set tb%sd up && "
		   "ip -n %s addr add 10.%d.254.2/30 dev dash0 && ip -n %s link set dash0 up",
		   tb->name, st->core_ns, tb->net, tb->name, tb->name, st->core_ns, tb->net,
		   st->core_ns);
	if (rc != 0)
		return fail("the dashboards' veth (root namespace <-> the core's)", rc);
	snprintf(bin, sizeof(bin), "%s/raas-marketd", st->bin);
	snprintf(ini, sizeof(ini), "%s/market.ini", st->dir);
	snprintf(ready, sizeof(ready), "%s/market.ready", st->dir);
	char *argv[] = {bin, "-c", ini, "--ready-file", ready, NULL};
	pid_t pid = tb_spawn(st, "market", st->core_ns, "market.log", argv);
	if (pid < 0)
		return fail("raas-marketd", pid);
	st->market_pid = pid;
	if ((rc = tb_wait_file(st, ready, pid, deadline)) != 0)
		return fail("raas-marketd", rc);
	if (dmn_ready_value(ready, "tenant_endpoint", st->market, sizeof(st->market)) ||
	    dmn_ready_value(ready, "price_endpoint", st->prices, sizeof(st->prices)) ||
	    dmn_ready_value(ready, "host_endpoint", st->hostapi, sizeof(st->hostapi)))
		return fail("raas-marketd's ready file (no endpoints)", -EPROTO);
	char http[128], tok[80], path[600];
	if (dmn_ready_value(ready, "http_endpoint", http, sizeof(http)) ||
	    http_token(st, tok, sizeof(tok)) != 0)
		return fail("raas-marketd's ready file (no http_endpoint) or its token", -EPROTO);
	snprintf(st->dash_url, sizeof(st->dash_url), "%s/market.html?token=%s", http, tok);
	snprintf(path, sizeof(path), "%s/dashboards.url", st->dir);
	char line[300];
	snprintf(line, sizeof(line), "%s\n", st->dash_url);
	if ((rc = write_file(path, line)) != 0)
		return fail("STATE/dashboards.url", rc);
	SAY("%s: dashboards %s\n", tb->name, st->dash_url);
	st->market_ready_ns = tb_now();
	struct timespec wall;
	clock_gettime(CLOCK_REALTIME, &wall);
	st->market_ready_wall_ns = (int64_t)wall.tv_sec * 1000000000LL + wall.tv_nsec;
	return 0;
}

/* ---- Tenants' nom VMs (instance = vm): the host's agent boots them (docs/vm.md) ----
 *
 * A VM takes the place of the tenant's namespace: its tap is on a bridge tbNAMEvJ in the
 * root namespace (libvirtd's), a veth tbNAMEwJ <-> tJ joins that bridge to the host's
 * namespace (tJ 10.N.J.1, as for a process instance), the guest's kernel is 10.N.J.3 and its
 * app, on nomnet's packet driver, 10.N.J.2: the route from the core, the tc class on up0 and
 * the load generator are those of a process instance. */

static void app_argv(struct tb_state *st, int t, bool in_vm, char **argv, char *buf,
		     size_t len);

static bool any_vm(const struct testbed *tb)
{
	for (int t = 0; t < tb->ntenants; t++)
		if (tb->tenants[t].vm)
			return true;
	return false;
}

/* One image with every app the VM tenants run, the profile and nhttpd's file. */
static int vm_image(struct tb_state *st)
{
	const struct testbed *tb = st->tb;
	static const char *const bins[] = {"nom-memcached", "nhttpd", "nompipe"};
	bool want[3] = {false, false, false};
	char apps[2048] = "", prof[1100];
	size_t n = 0;

	for (int t = 0; t < tb->ntenants; t++)
		if (tb->tenants[t].vm)
			want[tb->tenants[t].app] = true;
	for (int a = 0; a < 3; a++)
		if (want[a])
			n += (size_t)snprintf(apps + n, sizeof(apps) - n, " --app %s/%s", st->bin,
					      bins[a]);
	if (tb->profile[0] == '/')
		snprintf(prof, sizeof(prof), "%s", tb->profile);
	else
		snprintf(prof, sizeof(prof), "%s/%s", st->source, tb->profile);
	int rc = tb_sh(st, "%s/raas-image build%s --file %s=/etc/nom/profile.csv --file "
			   "%s/www/f16k=/srv/www/f16k --out %s/image",
		       st->bin, apps, prof, st->dir, st->dir);
	return rc ? fail("the VMs' image (raas image build; setup.log)", rc) : 0;
}

/* The VM tenant's bridge and veth into its host, and its config drive. */
static int vm_prepare(struct tb_state *st, int t, const char *hns)
{
	const struct testbed *tb = st->tb;
	const struct tb_tenant *tn = &tb->tenants[t];
	int j = tn->index, net = tb->net, k = tb->hosts[tn->host].index, rc;
	char path[700], text[8192], argbuf[4096], *argv[80];

	if ((rc = tb_manifest_add(st, "link tb%sv%d", tb->name, j)) != 0 ||
	    (rc = tb_manifest_add(st, "link tb%sw%d", tb->name, j)) != 0 ||
	    (rc = tb_manifest_add(st, "domain tb-%s-%s", tb->name, tn->name)) != 0)
		return rc;
	rc = tb_sh(st,
		   "ip link add tb%sv%d type bridge && ip link set tb%sv%d up && "
		   "ip link add tb%sw%d type veth peer name t%d netns %s && "
		   "ip link set tb%sw%d master tb%sv%d up && "
		   "ip -n %s addr add 10.%d.%d.1/24 dev t%d && ip -n %s link set t%d up && "
		   "%s/nomnet-ctl ifprep tb%sw%d >/dev/null && "
		   "ip netns exec %s %s/nomnet-ctl ifprep t%d >/dev/null && "
		   "ip -n %s route add 10.%d.%d.0/24 via 10.%d.0.%d",
		   tb->name, j, tb->name, j, tb->name, j, j, hns, tb->name, j, tb->name, j, hns, net,
		   j, j, hns, j, st->bin, tb->name, j, hns, st->bin, j, st->core_ns, net, j, net,
		   10 + k);
	if (rc != 0)
		return fail("a VM's bridge and veth", rc);
	/* The drive: who it is, where the market is, its keys, its app. */
	int n = snprintf(text, sizeof(text),
			 "# made by raas testbed: tenant %s's VM\n[vm]\nname = tb-%s-%s\n"
			 "tenant = %s\naddress = 10.%d.%d.3/24\ngateway = 10.%d.%d.1\nhost = %s\n"
			 "market = %s\nprices = %s\nsubscribe = bandwidth/%s\n",
			 tn->name, tb->name, tn->name, tn->name, net, j, net, j,
			 tb->hosts[tn->host].name, st->market, st->prices, tb->hosts[tn->host].name);
	char mkey[TP_KEY_Z85_LEN + 1], why[256];
	struct tp_keypair kp;
	snprintf(path, sizeof(path), "%s/keys/market.pub", st->dir);
	if (tp_key_load_public(path, mkey, why, sizeof(why)) != 0) {
		SAY("%s\n", why);
		return fail("the market's public key", -EINVAL);
	}
	snprintf(path, sizeof(path), "%s/keys/%s.key", st->dir, tn->name);
	if (tp_key_load_pair(path, &kp, why, sizeof(why)) != 0) {
		SAY("%s\n", why);
		return fail("the tenant's key", -EINVAL);
	}
	n += snprintf(text + n, sizeof(text) - (size_t)n,
		      "market_key = %s\ntenant_public = %s\ntenant_secret = %s\n[app.main]\n", mkey,
		      kp.public_key, kp.secret_key);
	/* The app's command line, cut into run..run4 lines of at most 190 characters. */
	app_argv(st, t, true, argv, argbuf, sizeof(argbuf));
	int line = 1, used = 0;
	n += snprintf(text + n, sizeof(text) - (size_t)n, "run =");
	for (int a = 0; argv[a]; a++) {
		int len = (int)strlen(argv[a]);
		if (used + len + 1 > 190) {
			if (++line > 4)
				return fail("the VM app's command line (over 4 x 190 characters)", -E2BIG);
			n += snprintf(text + n, sizeof(text) - (size_t)n, "\nrun%d =", line);
			used = 0;
		}
		n += snprintf(text + n, sizeof(text) - (size_t)n, " %s", argv[a]);
		used += len + 1;
	}
	n += snprintf(text + n, sizeof(text) - (size_t)n, "\n");
	if (n >= (int)sizeof(text))
		return fail("the VM's config", -E2BIG);
	snprintf(path, sizeof(path), "%s/vm-%s.ini", st->dir, tn->name);
	mode_t old = umask(077);
	rc = write_file(path, text);
	umask(old);
	if (rc != 0)
		return fail(path, rc);
	rc = tb_sh(st, "%s/raas-image drive --check %s/vm-%s.ini --out %s/vm-%s.drive", st->bin,
		   st->dir, tn->name, st->dir, tn->name);
	return rc ? fail("the VM's config drive (setup.log)", rc) : 0;
}

/* Waits until the VM's console says its nom-priced connected to the market. */
static int vm_wait_connected(struct tb_state *st, int t, int64_t deadline)
{
	char path[700], line[1024];
	snprintf(path, sizeof(path), "%s/vm-%s.console", st->dir, st->tb->tenants[t].name);
	while (tb_now() < deadline) {
		if (tb_interrupted)
			return -EINTR;
		FILE *f = fopen(path, "r");
		bool up = false, stopped = false;
		while (f && fgets(line, sizeof(line), f)) {
			up = up || strstr(line, "market session up") != NULL;
			stopped = stopped || strstr(line, "nom-vm: stopping") != NULL;
		}
		if (f)
			fclose(f);
		if (up)
			return 0;
		if (stopped)
			return -ECHILD;
		usleep(100000);
	}
	return -ETIMEDOUT;
}

static int start_host(struct tb_state *st, int h, int64_t deadline)
{
	const struct testbed *tb = st->tb;
	char ns[64], bin[600], ini[600], ready[600], label[64], log[64], cg[600];
	int k = tb->hosts[h].index, rc;

	host_ns(st, h, ns, sizeof(ns));
	if ((rc = tb_manifest_add(st, "netns %s", ns)) != 0)
		return rc;
	if ((rc = tb_sh(st, "ip netns add %s", ns)) != 0)
		return fail("ip netns add (a host)", rc);
	/* The uplink: up0 in the host, h<k> on the core's bridge. */
	rc = tb_sh(st,
		   "ip -n %s link set lo up && ip -n %s link add up0 type veth peer name h%d "
		   "netns %s && ip -n %s addr add 10.%d.0.%d/24 dev up0 && ip -n %s link set up0 up "
		   "&& ip -n %s link set h%d master br0 && ip -n %s link set h%d up && "
		   "ip netns exec %s sysctl -qw net.ipv4.ip_forward=1 && "
		   "ip netns exec %s %s/nomnet-ctl ifprep up0 >/dev/null && "
		   "ip netns exec %s %s/nomnet-ctl ifprep h%d >/dev/null",
		   ns, ns, k, st->core_ns, ns, tb->net, 10 + k, ns, st->core_ns, k, st->core_ns, k,
		   ns, ns, st->bin, st->core_ns, st->bin, k);
	if (rc != 0)
		return fail("a host's uplink", rc);
	cg_dir(st, h, -1, cg, sizeof(cg));
	if ((rc = tb_manifest_add(st, "cgroup %s", cg)) != 0)
		return rc;
	if (mkdirs(cg) != 0)
		return fail("the host's memory cgroup", -errno);
	/* The agent's cgroup backend makes the tenants' cpuset and cpuacct groups below these. */
	for (int c = 0; c < 2 && sells_cg(st, h); c++) {
		tb_cg_dir(st, c ? "cpuacct" : "cpuset", h, -1, cg, sizeof(cg));
		if ((rc = tb_manifest_add(st, "cgroup %s", cg)) != 0)
			return rc;
	}
	for (int t = 0; t < tb->ntenants; t++)
		if (tb->tenants[t].vm && tb->tenants[t].host == h &&
		    (rc = vm_prepare(st, t, ns)) != 0)
			return rc;
	snprintf(bin, sizeof(bin), "%s/raas-hostagentd", st->bin);
	snprintf(ini, sizeof(ini), "%s/agent-%s.ini", st->dir, tb->hosts[h].name);
	snprintf(ready, sizeof(ready), "%s/agent-%s.ready", st->dir, tb->hosts[h].name);
	snprintf(label, sizeof(label), "agent %s", tb->hosts[h].name);
	snprintf(log, sizeof(log), "agent-%s.log", tb->hosts[h].name);
	char *argv[] = {bin, "-c", ini, "--ready-file", ready, NULL};
	/* The cgroup backend writes under /sys/fs/cgroup, which ip netns exec's /sys hides. */
	pid_t pid = sells_cg(st, h) ? tb_spawn_netonly(st, label, ns, log, argv) :
				      tb_spawn(st, label, ns, log, argv);
	if (pid < 0)
		return fail("raas-hostagentd", pid);
	st->agent[h] = pid;
	if ((rc = tb_wait_file(st, ready, pid, deadline)) != 0)
		return fail("raas-hostagentd", rc);
	st->host_up[h] = true;
	return 0;
}

/* The app's command line, through nom-run, into argv (strings in buf); in_vm: the same app
 * in the tenant's VM (no nom-run, nomnet's packet driver on the guest's eth0, the image's
 * files). */
static void app_argv(struct tb_state *st, int t, bool in_vm, char **argv, char *buf,
		     size_t len)
{
	const struct testbed *tb = st->tb;
	const struct tb_tenant *tn = &tb->tenants[t];
	static const char *const bins[] = {"nom-memcached", "nhttpd", "nompipe"};
	char *p = buf, *end = buf + len;
	int n = 0;

#define ARG(...)                                                                             \
	do {                                                                                 \
		argv[n++] = p;                                                               \
		p += snprintf(p, (size_t)(end - p), __VA_ARGS__) + 1;                        \
	} while (0)
	if (!in_vm) {
		ARG("%s/nom-run", st->bin);
		ARG("--instance");
		ARG("tb-%s-%s", tb->name, tn->name);
		ARG("--");
		ARG("%s/%s", st->bin, bins[tn->app]);
	} else {
		ARG("%s", bins[tn->app]);
	}
	ARG("--instance");
	ARG("tb-%s-%s", tb->name, tn->name);
	if (tn->kernel_stack) {
		ARG("--stack");
		ARG("kernel");
		ARG("--bind");
		ARG("10.%d.%d.2", tb->net, tn->index);
	} else {
		/* nomnet: XDP on the tenant namespace's t0, or AF_PACKET on the guest's eth0. */
		ARG("--driver");
		ARG("%s", in_vm ? "packet" : "xdp");
		ARG("--mode");
		ARG("interrupt");
		ARG("--if");
		ARG("%s", in_vm ? "eth0" : "t0");
		ARG("--addr");
		ARG("10.%d.%d.2/24", tb->net, tn->index);
		ARG("--gateway");
		ARG("10.%d.%d.1", tb->net, tn->index);
	}
	if (tn->app == TB_APP_MEMCACHED) {
		ARG("-m");
		ARG("160");
	} else if (tn->app == TB_APP_NHTTPD) {
		ARG("--root");
		if (in_vm)
			ARG("/srv/www");
		else
			ARG("%s/www", st->dir);
	} else {
		/* NPtcp's messages start at 1 MB (load_argv); nom-loadgen's at 1 byte. */
		ARG("--start");
		ARG("%s", tn->load == TB_LOAD_NPTCP ? "1000000" : "1");
		ARG("--perturbation");
		ARG("0");
	}
	ARG("--profile");
	if (in_vm)
		ARG("/etc/nom/profile.csv");
	else if (tb->profile[0] == '/')
		ARG("%s", tb->profile);
	else
		ARG("%s/%s", st->source, tb->profile);
	if (tn->profile_app[0]) {
		ARG("--profile-app");
		ARG("%s", tn->profile_app);
	}
	ARG("--strategy");
	ARG("%s", tb_strategy_arg(tn->strategy));
	if (tn->strategy == TB_STATIC || tn->strategy == TB_PRICE_UNAWARE) {
		ARG("--delay");
		ARG("%lld", (long long)tn->delay_us);
	}
	if (tn->strategy != TB_PRICE_UNAWARE) {
		ARG("--utility");
		ARG("%s", tn->utility);
	}
	struct {
		const char *opt;
		double v;
	} u[] = {{"--alpha", tn->alpha}, {"--beta", tn->beta}, {"--gamma", tn->gamma},
		 {"--delta", tn->delta}, {"--x", tn->x},       {"--l0", tn->l0}};
	for (size_t i = 0; i < sizeof(u) / sizeof(u[0]); i++)
		if (!isnan(u[i].v) && tn->strategy != TB_PRICE_UNAWARE) {
			ARG("%s", u[i].opt);
			ARG("%.17g", u[i].v);
		}
	ARG("--report-ms");
	ARG("1000");
	argv[n] = NULL;
#undef ARG
}

/* The load generator's command line (it runs in the core namespace). */
static void load_argv(struct tb_state *st, int t, char **argv, char *buf, size_t len)
{
	const struct testbed *tb = st->tb;
	const struct tb_tenant *tn = &tb->tenants[t];
	char *p = buf, *end = buf + len;
	int n = 0, port = tb_app_port(tn->app);
	int64_t total = 0;

#define ARG(...)                                                                             \
	do {                                                                                 \
		argv[n++] = p;                                                               \
		p += snprintf(p, (size_t)(end - p), __VA_ARGS__) + 1;                        \
	} while (0)
	for (int i = 0; i < tn->nphases; i++)
		total += tn->phases[i].duration_ns;
	long long secs = (long long)((total + 999999999) / 1000000000);
	switch (tn->load) {
	case TB_LOAD_NOM_LOADGEN:
		ARG("%s/nom-loadgen", st->bin);
		ARG("--proto");
		ARG("%s", tn->app == TB_APP_MEMCACHED ? "memcached" :
			  tn->app == TB_APP_NHTTPD    ? "http" :
							"netpipe");
		ARG("--connect");
		ARG("10.%d.%d.2:%d", tb->net, tn->index, port);
		if (tn->app == TB_APP_NHTTPD) {
			ARG("--path");
			ARG("%s", tn->http_path);
		}
		for (int i = 0; i < tn->nphases; i++) {
			ARG("--phase");
			ARG("%lld:%d", (long long)((tn->phases[i].duration_ns + 999999999) / 1000000000),
			    tn->phases[i].conns);
		}
		ARG("--interval-ms");
		ARG("1000");
		break;
	case TB_LOAD_MEMCASLAP:
		ARG("memcaslap");
		ARG("-s");
		ARG("10.%d.%d.2:%d", tb->net, tn->index, port);
		ARG("-t");
		ARG("%llds", secs);
		ARG("-T");
		ARG("2");
		ARG("-c");
		ARG("%d", tn->phases[0].conns);
		break;
	case TB_LOAD_WRK:
		ARG("wrk");
		ARG("-t");
		ARG("2");
		ARG("-c");
		ARG("%d", tn->phases[0].conns);
		ARG("-d");
		ARG("%llds", secs);
		ARG("http://10.%d.%d.2:%d/f16k", tb->net, tn->index, port);
		break;
	case TB_LOAD_NPTCP:
		ARG("NPtcp");
		ARG("-h");
		ARG("10.%d.%d.2", tb->net, tn->index);
		ARG("-l");
		ARG("1000000");
		ARG("-u");
		ARG("4000000");
		ARG("-p");
		ARG("0");
		ARG("-n");
		ARG("1000");
		ARG("-o");
		ARG("%s/np-%s.out", st->dir, tn->name);
		break;
	}
	argv[n] = NULL;
#undef ARG
}

/* mk_cpuset: mkdir -p of a v1 cpuset group; each new level first takes its parent's
 * cpuset.cpus and cpuset.mems (a new cpuset starts empty, and no task can join it before). */
static int mk_cpuset(const char *dir)
{
	char path[600], from[700], to[700], buf[4096];
	size_t base = strlen("/sys/fs/cgroup/cpuset");

	snprintf(path, sizeof(path), "%s", dir);
	for (char *p = path + base + 1;; p++) {
		if (*p != '/' && *p != 0)
			continue;
		char save = *p;
		*p = 0;
		if (mkdir(path, 0755) == 0) {
			static const char *const files[] = {"cpuset.cpus", "cpuset.mems"};
			for (int f = 0; f < 2; f++) {
				snprintf(from, sizeof(from), "%.*s/%s", (int)(strrchr(path, '/') - path),
					 path, files[f]);
				snprintf(to, sizeof(to), "%s/%s", path, files[f]);
				FILE *in = fopen(from, "r"), *out = NULL;
				size_t n = in ? fread(buf, 1, sizeof(buf) - 1, in) : 0;
				if (in)
					fclose(in);
				if (n == 0 || !(out = fopen(to, "w")) || fwrite(buf, 1, n, out) != n) {
					if (out)
						fclose(out);
					return -EIO;
				}
				if (fclose(out) != 0)
					return -EIO;
			}
		} else if (errno != EEXIST) {
			return -errno;
		}
		if (save == 0)
			return 0;
		*p = save;
	}
}

/* place_bids: the tenant's standing bids for its host's cores and memory, through its own
 * nom-priced (nom-ctl, the tenant's door to the market), then waits until it holds them
 * (at least the bid's minimum) or the deadline passes. */
static int place_bids(struct tb_state *st, int t, int64_t deadline)
{
	const struct testbed *tb = st->tb;
	const struct tb_tenant *tn = &tb->tenants[t];
	const char *host = tb->hosts[tn->host].name;
	struct {
		const char *res;
		int64_t min, max;
		money_t price;
	} b[] = {{"cores", tn->cores_min, tn->cores, tn->cores_price},
		 {"memory", tn->memory_min, tn->memory_mib, tn->memory_price}};
	char ctl[600], inst[64], id[64], lo[32], hi[32], price[MONEY_TEXT_MAX], out[512];
	int rc;

	snprintf(ctl, sizeof(ctl), "%s/nom-ctl", st->bin);
	snprintf(inst, sizeof(inst), "tb-%s-%s", tb->name, tn->name);
	for (int i = 0; i < 2; i++) {
		if (b[i].max == 0)
			continue;
		snprintf(id, sizeof(id), "testbed/%s/%s", b[i].res, host);
		snprintf(lo, sizeof(lo), "%lld", (long long)b[i].min);
		snprintf(hi, sizeof(hi), "%lld", (long long)b[i].max);
		money_format(b[i].price, price);
		/* The pool exists once the host's agent registered and a round priced it. */
		for (;;) {
			char *ask[] = {ctl, inst, "price", (char *)b[i].res, (char *)host, NULL};
			if (tb_run_cmd(st, out, sizeof(out), ask) == 0)
				break;
			if (tb_interrupted)
				return fail("the tenant's cores or memory", -EINTR);
			if (tb_now() > deadline)
				return fail("the host's cores or memory pool (never priced)", -ETIMEDOUT);
			struct timespec ts = {0, 100000000};
			nanosleep(&ts, NULL);
		}
		char *bid[] = {ctl, inst, "bid", id, (char *)b[i].res, (char *)host, lo, hi, price,
			       NULL};
		if ((rc = tb_run_cmd(st, NULL, 0, bid)) != 0)
			return fail("nom-ctl bid (the tenant's cores or memory)", rc);
	}
	for (int i = 0; i < 2; i++) {
		while (b[i].max > 0) {
			char *hold[] = {ctl, inst, "holding", (char *)b[i].res, (char *)host, NULL};
			long long q = 0;
			if (tb_run_cmd(st, out, sizeof(out), hold) == 0 &&
			    sscanf(out, "quantity=%lld", &q) == 1 && q >= b[i].min)
				break;
			if (tb_interrupted)
				return fail("the tenant's cores or memory", -EINTR);
			if (tb_now() > deadline)
				return fail("the tenant's cores or memory (never held: the price?)",
					    -ETIMEDOUT);
			struct timespec ts = {0, 100000000};
			nanosleep(&ts, NULL);
		}
	}
	return 0;
}

/* The tenant's load generator, from the core namespace; the tenant is up once it runs. */
static int start_load(struct tb_state *st, int t)
{
	const struct tb_tenant *tn = &st->tb->tenants[t];
	char argbuf[4096], *argv[80], label[64], log[64];

	load_argv(st, t, argv, argbuf, sizeof(argbuf));
	snprintf(label, sizeof(label), "load %s", tn->name);
	snprintf(log, sizeof(log), "load-%s.log", tn->name);
	pid_t pid = tb_spawn(st, label, st->core_ns, log, argv);
	if (pid < 0)
		return fail(tb_load_name(tn->load), pid);
	st->loadgen[t] = pid;
	st->tenant_up[t] = true;
	return 0;
}

/* A VM tenant: its host's agent booted the VM; up once its nom-priced connected, its app
 * listens (from the core namespace) and its load generator runs. */
static int vm_tenant_start(struct tb_state *st, int t, int64_t deadline)
{
	const struct testbed *tb = st->tb;
	const struct tb_tenant *tn = &tb->tenants[t];
	char ip[32];
	int rc = vm_wait_connected(st, t, deadline);
	if (rc != 0)
		return fail(rc == -ECHILD ? "the tenant's VM (it stopped: its console, vm-TENANT.console)"
					  : "the tenant's VM (its console, vm-TENANT.console)", rc);
	snprintf(ip, sizeof(ip), "10.%d.%d.2", tb->net, tn->index);
	if ((rc = tb_wait_listen(st, st->core_ns, ip, tb_app_port(tn->app), st->agent[tn->host],
				 deadline)) != 0)
		return fail(tb_app_name(tn->app), rc);
	return start_load(st, t);
}

int tb_tenant_start(struct tb_state *st, int t)
{
	const struct testbed *tb = st->tb;
	const struct tb_tenant *tn = &tb->tenants[t];
	int64_t deadline = tb_now() + tb->startup_timeout_ns;
	char hns[64], tns[64], inst[64], bin[600], ready[600], label[64], log[64], cg[600];
	char argbuf[4096], *argv[80];
	int j = tn->index, net = tb->net, rc;
	char set[16][700];

	if (tn->vm)
		return vm_tenant_start(st, t, deadline);
	host_ns(st, tn->host, hns, sizeof(hns));
	tenant_ns(st, t, tns, sizeof(tns));
	snprintf(inst, sizeof(inst), "tb-%s-%s", tb->name, tn->name);
	if ((rc = tb_manifest_add(st, "netns %s", tns)) != 0)
		return rc;
	if ((rc = tb_sh(st, "ip netns add %s", tns)) != 0)
		return fail("ip netns add (a tenant)", rc);
	rc = tb_sh(st,
		   "ip -n %s link set lo up && ip -n %s link add t%d type veth peer name t0 netns %s "
		   "&& ip -n %s addr add 10.%d.%d.1/24 dev t%d && ip -n %s link set t%d up && "
		   "ip netns exec %s sh -c 'echo 1 > /proc/sys/net/ipv6/conf/t0/disable_ipv6' && "
		   "ip -n %s link set t0 up && ip -n %s route add 10.%d.%d.0/24 via 10.%d.0.%d && "
		   "ip netns exec %s %s/nomnet-ctl ifprep t%d >/dev/null",
		   tns, hns, j, tns, hns, net, j, j, hns, j, tns, tns, st->core_ns, net, j, net,
		   10 + tb->hosts[tn->host].index, hns, st->bin, j);
	if (rc == 0 && tn->kernel_stack)
		rc = tb_sh(st, "ip -n %s addr add 10.%d.%d.2/24 dev t0 && ip -n %s route add default "
			       "via 10.%d.%d.1",
			   tns, net, j, tns, net, j);
	if (rc != 0)
		return fail("a tenant's veth", rc);
	cg_dir(st, tn->host, t, cg, sizeof(cg));
	if ((rc = tb_manifest_add(st, "cgroup %s", cg)) != 0)
		return rc;
	if (mkdirs(cg) != 0)
		return fail("the tenant's memory cgroup", -errno);
	char cpuset[600] = "";
	if (tb->hosts[tn->host].cores > 0) {
		/* The agent's cpuset group of the tenant (under the host's, in the manifest). */
		tb_cg_dir(st, "cpuset", tn->host, t, cpuset, sizeof(cpuset));
		if ((rc = mk_cpuset(cpuset)) != 0)
			return fail("the tenant's cpuset cgroup", rc);
	}
	if ((rc = tb_manifest_add(st, "board %s", inst)) != 0)
		return rc;

	/* nom-priced, in the host's namespace (the market is across the bridge). */
	snprintf(bin, sizeof(bin), "%s/nom-priced", st->bin);
	snprintf(ready, sizeof(ready), "%s/priced-%s.ready", st->dir, tn->name);
	snprintf(set[0], sizeof(set[0]), "--set=priced.instance=%s", inst);
	snprintf(set[1], sizeof(set[1]), "--set=priced.market=%s", st->market);
	snprintf(set[2], sizeof(set[2]), "--set=priced.prices=%s", st->prices);
	snprintf(set[3], sizeof(set[3]), "--set=priced.tenant_key=%s/keys/%s.key", st->dir,
		 tn->name);
	snprintf(set[4], sizeof(set[4]), "--set=priced.market_key=%s/keys/market.pub", st->dir);
	snprintf(set[5], sizeof(set[5]), "--set=priced.api=ipc:///tmp/%s.sock", inst);
	{
		const char *hn = tb->hosts[tn->host].name;
		int n6 = snprintf(set[6], sizeof(set[6]), "--set=priced.subscribe=bandwidth/%s", hn);
		if (tb->hosts[tn->host].cores)
			n6 += snprintf(set[6] + n6, sizeof(set[6]) - (size_t)n6, " cores/%s", hn);
		if (tb->hosts[tn->host].memory_mib)
			snprintf(set[6] + n6, sizeof(set[6]) - (size_t)n6, " memory/%s", hn);
	}
	snprintf(set[7], sizeof(set[7]), "--set=priced.host=%s", tb->hosts[tn->host].name);
	snprintf(set[8], sizeof(set[8]), "--set=priced.netns=%s", tns);
	snprintf(set[9], sizeof(set[9]), "--set=priced.memory_cgroup=%s", cg);
	/* With no cpuset, the affinity (nom-priced's default) stands. */
	snprintf(set[10], sizeof(set[10]), "--set=priced.cpuset=%s", cpuset);
	char *pargv[] = {bin,    "--check-invariants", set[0], set[1], set[2], set[3], set[4],
			 set[5], set[6], set[7], set[8], set[9], set[10], "--ready-file", ready, NULL};
	snprintf(label, sizeof(label), "priced %s", tn->name);
	snprintf(log, sizeof(log), "priced-%s.log", tn->name);
	/* It reads its cpuset under /sys/fs/cgroup: only the network namespace is entered. */
	pid_t pid = sells_cg(st, tn->host) ? tb_spawn_netonly(st, label, hns, log, pargv) :
					     tb_spawn(st, label, hns, log, pargv);
	if (pid < 0)
		return fail("nom-priced", pid);
	st->priced[t] = pid;
	if ((rc = tb_wait_file(st, ready, pid, deadline)) != 0)
		return fail("nom-priced", rc);
	if ((tn->cores || tn->memory_mib) && (rc = place_bids(st, t, deadline)) != 0)
		return rc;

	/* The app, placed by nom-run (namespace and cgroup from the board). */
	app_argv(st, t, false, argv, argbuf, sizeof(argbuf));
	snprintf(label, sizeof(label), "app %s", tn->name);
	snprintf(log, sizeof(log), "app-%s.log", tn->name);
	pid = tb_spawn(st, label, NULL, log, argv);
	if (pid < 0)
		return fail(tb_app_name(tn->app), pid);
	st->app[t] = pid;
	char ip[32];
	snprintf(ip, sizeof(ip), "10.%d.%d.2", net, j);
	if ((rc = tb_wait_listen(st, st->core_ns, ip, tb_app_port(tn->app), pid, deadline)) != 0)
		return fail(tb_app_name(tn->app), rc);

	return start_load(st, t);
}

int tb_up(struct tb_state *st, bool all_tenants)
{
	const struct testbed *tb = st->tb;
	char path[700];
	struct stat sb;
	int rc;

	st->t0_ns = tb_now();
	snprintf(path, sizeof(path), "%s/manifest", st->dir);
	if (stat(path, &sb) == 0) {
		SAY("%s is up already (%s): raas testbed down %s\n", tb->name, st->dir, tb->file);
		return -EEXIST;
	}
	if ((rc = mkdirs(st->dir)) != 0)
		return fail(st->dir, rc);
	if ((rc = tb_manifest_add(st, "dir %s", st->dir)) != 0)
		return fail("the manifest", rc);
	snprintf(path, sizeof(path), "%s/testbed.ini", st->dir);
	if ((rc = write_file(path, tb->text)) != 0)
		return fail(path, rc);
	snprintf(path, sizeof(path), "%s/www", st->dir);
	mkdirs(path);
	/* nhttpd's files: 16 KiB, and 1 KiB as apps/bench/profile.sh measures it. */
	rc = tb_sh(st, "head -c 16384 /dev/urandom > %s/www/f16k && head -c 1024 /dev/urandom | "
		       "base64 -w 0 | head -c 1024 > %s/www/index.html",
		   st->dir, st->dir);
	if (rc != 0)
		return fail("nhttpd's file", rc);

	SAY("%s: keys and registry\n", tb->name);
	if ((rc = keys_and_registry(st)) != 0)
		return rc;
	if ((rc = tb_write_market_ini(st)) != 0)
		return fail("market.ini", rc);
	snprintf(path, sizeof(path), "%s/market.ini", st->dir);
	if ((rc = check_config(st, "raas-marketd", path)) != 0)
		return rc;
	for (int h = 0; h < tb->nhosts; h++) {
		if (tb->hosts[h].kind != TB_HOST_EMULATED)
			continue;
		/* Checked with a stand-in endpoint; the real one is the market's, below. */
		if ((rc = tb_write_agent_ini(st, h, "tcp://127.0.0.1:1")) != 0)
			return fail("an agent's config", rc);
		snprintf(path, sizeof(path), "%s/agent-%s.ini", st->dir, tb->hosts[h].name);
		if ((rc = check_config(st, "raas-hostagentd", path)) != 0)
			return rc;
	}

	if (any_vm(tb)) {
		SAY("%s: the VMs' image\n", tb->name);
		if ((rc = vm_image(st)) != 0)
			return rc;
	}
	int64_t deadline = st->t0_ns + tb->startup_timeout_ns;
	SAY("%s: market\n", tb->name);
	if ((rc = start_market(st, deadline)) != 0)
		return rc;
	for (int h = 0; h < tb->nhosts; h++) {
		if (tb->hosts[h].kind != TB_HOST_EMULATED)
			continue;
		SAY("%s: host %s\n", tb->name, tb->hosts[h].name);
		if ((rc = tb_write_agent_ini(st, h, st->hostapi)) != 0)
			return fail("an agent's config", rc);
		if ((rc = start_host(st, h, deadline)) != 0)
			return rc;
	}
	for (int t = 0; t < tb->ntenants; t++) {
		if (!all_tenants && tb->tenants[t].join_ns > 0)
			continue;
		SAY("%s: tenant %s (%s on %s)\n", tb->name, tb->tenants[t].name,
		    tb_app_name(tb->tenants[t].app), tb->hosts[tb->tenants[t].host].name);
		if ((rc = tb_tenant_start(st, t)) != 0)
			return rc;
	}
	snprintf(path, sizeof(path), "%s/env", st->dir);
	{
		char env[4096];
		snprintf(env, sizeof(env),
			 "RAAS_MARKET=%s\nRAAS_PRICES=%s\nRAAS_SERVER_KEY=%s/keys/market.pub\n"
			 "RAAS_LEDGER=%s/ledger.sqlite\nRAAS_KEY_DIR=%s/keys\nCORE_NS=%s\n"
			 "RAAS_DASHBOARDS=%s\n",
			 st->market, st->prices, st->dir, st->dir, st->dir, st->core_ns,
			 st->dash_url);
		write_file(path, env);
	}
	SAY("%s: up in %.1f s (every tenant serving); state in %s\n", tb->name,
	    (double)(tb_now() - st->t0_ns) / 1e9, st->dir);
	SAY("%s: dashboards %s\n", tb->name, st->dash_url);
	return 0;
}

