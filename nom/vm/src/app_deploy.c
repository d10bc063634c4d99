/* app_deploy.c: `raas app deploy`, `raas app logs`, `raas app stop`: a built nom app (raas app
 * build: build/image) as a tenant's VM on a host whose raas-hostagentd boots it.
 *
 * Why through the host agent: the agent that enforces the tenant's holdings is the one that
 * must know its VM (it boots it, tells the market when it stops, never charges for a VM that
 * is not there). Deploy writes the instance's config drive (build/deploy/TENANT.drive, 0600,
 * checked like `raas image drive --check`), adds the vm_* keys to the tenant's section of the
 * agent's config and sends the agent SIGHUP (its reload boots the VM); it then waits for the
 * guest's nom-priced to connect, or for the guest to refuse its drive (the console's error,
 * exit 65). What a deploy made is in build/deploy/TENANT.state, read by logs and stop. Stop
 * releases the tenant's bandwidth on the host (its nom-priced dies with the VM), removes the
 * vm_* keys and reloads the agent, which stops and undefines the domain. */
#include <errno.h>
#include <getopt.h>
#include <limits.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <sysexits.h>
#include <time.h>
#include <unistd.h>

#include "app.h"
#include "common/daemon.h"

#define LINE_MAX_ 1024

struct deploy {
	char tenant[64], host[64], domain[128];
	char agent_config[PATH_MAX], agent_pid[PATH_MAX];
	char console[PATH_MAX], key[PATH_MAX];
	char market[256], prices[256], market_key[PATH_MAX];
};

/* Copies src into dst of len bytes, cut at len - 1. */
static void copy(char *dst, size_t len, const char *src)
{
	size_t n = strnlen(src, len - 1);
	memcpy(dst, src, n);
	dst[n] = '\0';
}

static void trim(char *s)
{
	size_t n = strlen(s);
	while (n && (s[n - 1] == '\n' || s[n - 1] == '\r' || s[n - 1] == ' ' || s[n - 1] == '\t'))
		s[--n] = '\0';
	size_t k = strspn(s, " \t");
	memmove(s, s + k, strlen(s + k) + 1);
}

/* "key = value" -> key and value (trimmed); false for other lines. */
static bool key_value(const char *line, char *key, size_t klen, char *val, size_t vlen)
{
	char buf[LINE_MAX_];
	snprintf(buf, sizeof(buf), "%s", line);
	char *eq = strchr(buf, '=');
	if (!eq || buf[0] == '#' || buf[0] == ';' || buf[0] == '[')
		return false;
	*eq = '\0';
	trim(buf);
	char *v = eq + 1;
	trim(v);
	copy(key, klen, buf);
	copy(val, vlen, v);
	return true;
}

/* The value of key in file (a key file's "public", a state or env file's key), or "". */
static void file_value(const char *path, const char *want, char *out, size_t len)
{
	FILE *f = fopen(path, "r");
	char line[LINE_MAX_], k[128], v[LINE_MAX_];
	out[0] = '\0';
	while (f && fgets(line, sizeof(line), f))
		if (key_value(line, k, sizeof(k), v, sizeof(v)) && strcmp(k, want) == 0) {
			snprintf(out, len, "%s", v);
			break;
		}
	if (f)
		fclose(f);
}

static const char *state_keys[] = {"tenant", "host", "domain", "agent_config", "agent_pid",
				   "console", "key", "market", "prices", "market_key"};

static char *state_field(struct deploy *d, size_t i)
{
	char *f[] = {d->tenant, d->host, d->domain, d->agent_config, d->agent_pid,
		     d->console, d->key, d->market, d->prices, d->market_key};
	return f[i];
}

static size_t state_len(size_t i)
{
	return i < 3 ? (i == 2 ? 128 : 64) : (i == 7 || i == 8 ? 256 : PATH_MAX);
}

static int state_write(struct deploy *d)
{
	char path[PATH_MAX];
	snprintf(path, sizeof(path), "build/deploy/%s.state", d->tenant);
	FILE *f = fopen(path, "w");
	if (!f)
		return -errno;
	fprintf(f, "# raas app deploy: what it made (read by raas app logs and stop)\n");
	for (size_t i = 0; i < sizeof(state_keys) / sizeof(state_keys[0]); i++)
		fprintf(f, "%s = %s\n", state_keys[i], state_field(d, i));
	return fclose(f) == 0 ? 0 : -errno;
}

/* Reads build/deploy/TENANT.state; tenant NULL: the only one there. */
static int state_read(const char *tenant, struct deploy *d, const char *cmd)
{
	char path[PATH_MAX];
	memset(d, 0, sizeof(*d));
	if (!tenant) {
		FILE *p = popen("ls build/deploy/*.state 2>/dev/null", "r");
		char line[PATH_MAX], first[PATH_MAX] = "";
		int n = 0;
		while (p && fgets(line, sizeof(line), p)) {
			trim(line);
			if (!n++)
				snprintf(first, sizeof(first), "%s", line);
		}
		if (p)
			pclose(p);
		if (n != 1) {
			fprintf(stderr, "raas app %s: %s; say --tenant T\n", cmd,
				n ? "more than one deployment in build/deploy"
				  : "nothing deployed from this folder (raas app deploy)");
			return EX_USAGE;
		}
		snprintf(path, sizeof(path), "%s", first);
	} else {
		snprintf(path, sizeof(path), "build/deploy/%s.state", tenant);
	}
	if (access(path, R_OK) != 0) {
		fprintf(stderr, "raas app %s: %s: %s (nothing deployed for that tenant here)\n", cmd,
			path, strerror(errno));
		return EX_NOINPUT;
	}
	for (size_t i = 0; i < sizeof(state_keys) / sizeof(state_keys[0]); i++)
		file_value(path, state_keys[i], state_field(d, i), state_len(i));
	return 0;
}

/* The vm_tap of the tenant's section as the last edit_agent_config found it ("" if none): a
 * deploy keeps it (a testbed names its taps). */
static char found_tap[64];

/* Rewrites the agent's config: the vm_* lines of [tenant.TENANT] removed, then add (may be
 * NULL) inserted after its header. Also returns its domain (the section's, or the tenant) and
 * the [agent] host. Written beside and renamed, so the agent never reads half a file; with
 * write false, only read. */
static int edit_agent_config(const char *path, const char *tenant, const char *add, bool write,
			     char *domain, size_t domain_len, char *host, size_t host_len,
			     const char *cmd)
{
	FILE *in = fopen(path, "r");
	char tmp[PATH_MAX + 16], line[LINE_MAX_], header[128], section[128] = "", k[128],
		v[LINE_MAX_];
	bool found = false;
	struct stat st;

	if (!in || fstat(fileno(in), &st) != 0) {
		fprintf(stderr, "raas app %s: the agent's config %s: %s\n", cmd, path, strerror(errno));
		if (in)
			fclose(in);
		return EX_NOINPUT;
	}
	snprintf(header, sizeof(header), "[tenant.%s]", tenant);
	snprintf(tmp, sizeof(tmp), "%s.deploy-tmp", path);
	FILE *out = fopen(tmp, "w");
	if (!out) {
		fprintf(stderr, "raas app %s: %s: %s\n", cmd, tmp, strerror(errno));
		fclose(in);
		return EX_CANTCREAT;
	}
	snprintf(domain, domain_len, "%s", tenant);
	found_tap[0] = '\0';
	while (fgets(line, sizeof(line), in)) {
		char t[LINE_MAX_];
		snprintf(t, sizeof(t), "%s", line);
		trim(t);
		if (t[0] == '[') {
			copy(section, sizeof(section), t);
			fputs(line, out);
			if (strcmp(t, header) == 0) {
				found = true;
				if (add)
					fputs(add, out);
			}
			continue;
		}
		bool kv = key_value(t, k, sizeof(k), v, sizeof(v));
		if (kv && strcmp(section, "[agent]") == 0 && strcmp(k, "host") == 0)
			copy(host, host_len, v);
		if (strcmp(section, header) == 0 && kv) {
			if (strcmp(k, "vm_tap") == 0)
				copy(found_tap, sizeof(found_tap), v);
			if (strncmp(k, "vm_", 3) == 0)
				continue;
			if (strcmp(k, "domain") == 0)
				copy(domain, domain_len, v);
		}
		fputs(line, out);
	}
	fclose(in);
	if (fclose(out) != 0 || !found || !write) {
		unlink(tmp);
		if (found && !write)
			return 0;
		if (!found)
			fprintf(stderr, "raas app %s: %s has no %s: the host agent cannot enforce tenant "
					"%s (add the section, with its tc class and src)\n",
				cmd, path, header, tenant);
		return found ? EX_CANTCREAT : EX_DATAERR;
	}
	if (chmod(tmp, st.st_mode & 07777) != 0 || rename(tmp, path) != 0) {
		fprintf(stderr, "raas app %s: %s: %s\n", cmd, path, strerror(errno));
		unlink(tmp);
		return EX_CANTCREAT;
	}
	return 0;
}

/* SIGHUP to the agent whose pid is in pidfile (a pid file, or a ready file with pid=). */
static int reload_agent(const char *pidfile, const char *cmd)
{
	char v[64] = "";
	FILE *f = fopen(pidfile, "r");
	if (f) {
		if (!fgets(v, sizeof(v), f))
			v[0] = '\0';
		fclose(f);
	}
	trim(v);
	if ((strchr(v, '=') || !v[0]) && dmn_ready_value(pidfile, "pid", v, sizeof(v)) != 0)
		v[0] = '\0';
	long pid = strtol(v, NULL, 10);
	if (pid <= 1 || kill((pid_t)pid, SIGHUP) != 0) {
		fprintf(stderr, "raas app %s: cannot reload the host agent (pid \"%s\" from %s): %s\n",
			cmd, v, pidfile, pid <= 1 ? "no pid" : strerror(errno));
		return EX_UNAVAILABLE;
	}
	return 0;
}

static bool file_has(const char *path, const char *text)
{
	FILE *f = fopen(path, "r");
	char line[LINE_MAX_];
	bool has = false;
	while (f && !has && fgets(line, sizeof(line), f))
		has = strstr(line, text) != NULL;
	if (f)
		fclose(f);
	return has;
}

static void print_lines(const char *path, const char *text, FILE *to)
{
	FILE *f = fopen(path, "r");
	char line[LINE_MAX_];
	while (f && fgets(line, sizeof(line), f))
		if (strstr(line, text))
			fputs(line, to);
	if (f)
		fclose(f);
}

static void sleep_ms(long ms)
{
	struct timespec ts = {ms / 1000, (ms % 1000) * 1000000L};
	nanosleep(&ts, NULL);
}

static int abs_path(const char *p, char *out, const char *what, const char *cmd)
{
	if (!realpath(p, out)) {
		fprintf(stderr, "raas app %s: %s %s: %s\n", cmd, what, p, strerror(errno));
		return EX_NOINPUT;
	}
	return 0;
}

/* Writes the instance's config (ini, 0600: it holds the tenant's secret key) and its drive,
 * checked as the guest will check it; extra: the user's own [app.*] lines, appended. */
static int write_drive(const struct deploy *d, const char *app, const char *addr,
		       const char *gw, const char *extra, const char *ini, const char *drive,
		       const char *self_dir)
{
	char mpub[128], tpub[128], tsec[128], line[LINE_MAX_];
	int first_extra = 0;
	file_value(d->market_key, "public", mpub, sizeof(mpub));
	file_value(d->key, "public", tpub, sizeof(tpub));
	file_value(d->key, "secret", tsec, sizeof(tsec));
	if (!mpub[0] || !tpub[0] || !tsec[0]) {
		fprintf(stderr, "raas app deploy: %s\n",
			!mpub[0] ? "RAAS_SERVER_KEY has no public key (a .pub of raas keygen)"
				 : "--key has no key pair (a .key of raas keygen)");
		return EX_DATAERR;
	}
	FILE *x = extra ? fopen(extra, "r") : NULL;
	if (extra && !x) {
		fprintf(stderr, "raas app deploy: --app-config %s: %s\n", extra, strerror(errno));
		return EX_NOINPUT;
	}
	mode_t old = umask(077);
	FILE *f = fopen(ini, "w");
	umask(old);
	if (!f) {
		fprintf(stderr, "raas app deploy: %s: %s\n", ini, strerror(errno));
		if (x)
			fclose(x);
		return EX_CANTCREAT;
	}
	fprintf(f, "# raas app deploy: %s as tenant %s's VM on host %s\n[vm]\nname = %s\n"
		   "tenant = %s\naddress = %s\ngateway = %s\nhost = %s\nmarket = %s\nprices = %s\n"
		   "subscribe = bandwidth/%s\nmarket_key = %s\ntenant_public = %s\n"
		   "tenant_secret = %s\n[app.main]\nrun = %s %s\n",
		app, d->tenant, d->host, app, d->tenant, addr, gw, d->host, d->market, d->prices,
		d->host, mpub, tpub, tsec, app, app);
	if (x) {
		fprintf(f, "# from %s\n", extra);
		first_extra = 17;
		while (fgets(line, sizeof(line), x))
			fputs(line, f);
		fclose(x);
	}
	if (fclose(f) != 0) {
		fprintf(stderr, "raas app deploy: %s: %s\n", ini, strerror(errno));
		return EX_CANTCREAT;
	}
	char cmd[4 * PATH_MAX];
	snprintf(cmd, sizeof(cmd), "'%s/raas-image' drive --check '%s' --out '%s'", self_dir, ini,
		 drive);
	int st = system(cmd);
	if (st == 0)
		return 0;
	if (first_extra)
		fprintf(stderr, "raas app deploy: the instance's config is refused (above): its lines "
				"%d on are --app-config %s's lines 1 on; nothing was deployed\n",
			first_extra, extra);
	else
		fprintf(stderr, "raas app deploy: the instance's config is refused (above); nothing "
				"was deployed\n");
	unlink(drive);
	return WIFEXITED(st) ? WEXITSTATUS(st) : EX_SOFTWARE;
}

/* --testbed NAME --tenant T: the agent config, its ready file, T's key, addresses and bridge,
 * and the market's endpoints, from the testbed's state folder ($RAAS_TESTBED_DIR/NAME,
 * default /tmp/raas-testbed/NAME). T must be an instance = vm tenant there: its bridge and
 * veth into the host are the testbed's; the app takes the address tc shapes (src, 10.N.J.2). */
static int from_testbed(const char *name, const char *tenant, char *cfg, char *pidf, char *key,
			char *addr, char *gw, char *bridge, char *type, char env[3][PATH_MAX])
{
	const char *base = getenv("RAAS_TESTBED_DIR");
	char dir[PATH_MAX], path[PATH_MAX + 64], line[LINE_MAX_], k[64], v[LINE_MAX_], sect[96];
	snprintf(dir, PATH_MAX, "%s/%s", base ? base : "/tmp/raas-testbed", name);
	snprintf(path, sizeof(path), "%s/env", dir);
	if (access(path, R_OK) != 0) {
		fprintf(stderr, "raas app deploy: testbed %s is not up (%s: %s)\n", name, path,
			strerror(errno));
		return EX_UNAVAILABLE;
	}
	file_value(path, "RAAS_MARKET", env[0], PATH_MAX);
	file_value(path, "RAAS_PRICES", env[1], PATH_MAX);
	file_value(path, "RAAS_SERVER_KEY", env[2], PATH_MAX);
	snprintf(path, sizeof(path), "%s/keys/%s.key", dir, tenant);
	copy(key, PATH_MAX, path);
	snprintf(sect, sizeof(sect), "[tenant.%s]", tenant);
	setenv("RAAS_DEPLOY_TB_DIR", dir, 1); /* the folder reaches ls unquoted by us */
	FILE *p = popen("ls \"$RAAS_DEPLOY_TB_DIR\"/agent-*.ini 2>/dev/null", "r");
	char ini[PATH_MAX];
	bool found = false, vm = false;
	while (p && !found && fgets(ini, sizeof(ini), p)) {
		trim(ini);
		FILE *f = fopen(ini, "r");
		bool in = false;
		while (f && fgets(line, sizeof(line), f)) {
			trim(line);
			if (line[0] == '[') {
				in = strcmp(line, sect) == 0;
				found = found || in;
				continue;
			}
			if (!in || !key_value(line, k, sizeof(k), v, sizeof(v)))
				continue;
			if (strcmp(k, "vm_bridge") == 0) {
				copy(bridge, 64, v);
				vm = true;
			} else if (strcmp(k, "vm_type") == 0) {
				copy(type, 16, v);
			} else if (strcmp(k, "src") == 0) {
				unsigned a, b, c, d;
				if (sscanf(v, "%u.%u.%u.%u", &a, &b, &c, &d) == 4) {
					snprintf(addr, 32, "%u.%u.%u.%u/24", a, b, c, d);
					snprintf(gw, 32, "%u.%u.%u.1", a, b, c);
				}
			}
		}
		if (f)
			fclose(f);
		if (found) {
			copy(cfg, PATH_MAX, ini);
			/* agent-H.ini -> agent-H.ready (pid=) */
			copy(pidf, PATH_MAX, ini);
			char *dot = strrchr(pidf, '.');
			if (dot && (size_t)(dot - pidf) + 7 < PATH_MAX)
				strcpy(dot, ".ready");
		}
	}
	if (p)
		pclose(p);
	if (!found || !vm || !addr[0]) {
		fprintf(stderr, "raas app deploy: tenant %s is not a vm instance of testbed %s "
				"(instance = vm in its [tenant.%s]; docs/testbed.md)\n",
			tenant, name, tenant);
		return EX_USAGE;
	}
	if (!type[0])
		copy(type, 16, "auto");
	return 0;
}

static int app_deploy(int argc, char **argv, const char *self_dir)
{
	static const struct option opts[] = {
		{"tenant", required_argument, NULL, 't'},   {"host", required_argument, NULL, 'H'},
		{"agent-config", required_argument, NULL, 'c'},
		{"agent-pid", required_argument, NULL, 'p'}, {"key", required_argument, NULL, 'k'},
		{"address", required_argument, NULL, 'a'},  {"gateway", required_argument, NULL, 'g'},
		{"bridge", required_argument, NULL, 'b'},   {"vcpus", required_argument, NULL, 'v'},
		{"memory-mib", required_argument, NULL, 'm'},
		{"vm-type", required_argument, NULL, 'y'},
		{"app-config", required_argument, NULL, 'x'},
		{"testbed", required_argument, NULL, 'B'},
		{"drive", required_argument, NULL, 'D'},
		{"timeout", required_argument, NULL, 'T'},  {NULL, 0, NULL, 0}};
	struct deploy d;
	const char *tenant = NULL, *host = NULL, *cfg = NULL, *pidf = NULL, *key = NULL;
	const char *addr = NULL, *gw = NULL, *bridge = NULL, *vcpus = "2", *mem = "256";
	const char *vm_type = "auto", *extra = NULL, *own_drive = NULL, *testbed = NULL;
	static char tb_cfg[PATH_MAX], tb_pid[PATH_MAX], tb_key[PATH_MAX], tb_addr[32], tb_gw[32],
		tb_bridge[64], tb_type[16], tb_env[3][PATH_MAX];
	long timeout_s = 120;
	int c, rc;

	memset(&d, 0, sizeof(d));
	while ((c = getopt_long(argc, argv, "", opts, NULL)) != -1) {
		switch (c) {
		case 't': tenant = optarg; break;
		case 'H': host = optarg; break;
		case 'c': cfg = optarg; break;
		case 'p': pidf = optarg; break;
		case 'k': key = optarg; break;
		case 'a': addr = optarg; break;
		case 'g': gw = optarg; break;
		case 'b': bridge = optarg; break;
		case 'v': vcpus = optarg; break;
		case 'm': mem = optarg; break;
		case 'y': vm_type = optarg; break;
		case 'x': extra = optarg; break;
		case 'D': own_drive = optarg; break;
		case 'B': testbed = optarg; break;
		case 'T': timeout_s = strtol(optarg, NULL, 10); break;
		default: return EX_USAGE;
		}
	}
	const char *market = getenv("RAAS_MARKET"), *prices = getenv("RAAS_PRICES"),
		   *mkey = getenv("RAAS_SERVER_KEY");
	if (testbed && tenant) {
		/* A running testbed's vm tenant: its state folder says everything. */
		if ((rc = from_testbed(testbed, tenant, tb_cfg, tb_pid, tb_key, tb_addr, tb_gw,
				       tb_bridge, tb_type, tb_env)) != 0)
			return rc;
		cfg = cfg ? cfg : tb_cfg;
		pidf = pidf ? pidf : tb_pid;
		key = key ? key : tb_key;
		addr = addr ? addr : tb_addr;
		gw = gw ? gw : tb_gw;
		bridge = bridge ? bridge : tb_bridge;
		if (strcmp(vm_type, "auto") == 0)
			vm_type = tb_type;
		market = tb_env[0];
		prices = tb_env[1];
		mkey = tb_env[2];
	}
	if (!key)
		key = getenv("RAAS_KEY"); /* the tenant's key pair, as for every raas command */
	if (!tenant || !cfg || !pidf || !key || (!own_drive && (!addr || !gw)) || !bridge ||
	    optind != argc) {
		fprintf(stderr, "raas app deploy: --tenant, --agent-config, --agent-pid, --key, "
				"--bridge, and --address and --gateway (or your own --drive) are "
				"required\n");
		return EX_USAGE;
	}
	if (!market || !prices || !mkey) {
		fprintf(stderr, "raas app deploy: RAAS_MARKET, RAAS_PRICES and RAAS_SERVER_KEY must "
				"say where the market is (a testbed's env file has them)\n");
		return EX_USAGE;
	}
	char app[64], image[PATH_MAX], drive[PATH_MAX], ini[PATH_MAX], cwd[PATH_MAX];
	if (vm_app_name(app, sizeof(app)) != 0) {
		fprintf(stderr, "raas app deploy: no CMakeLists.txt with project(NAME) here (raas app "
				"init)\n");
		return EX_NOINPUT;
	}
	if (access("build/image/initrd.img", R_OK) != 0) {
		fprintf(stderr, "raas app deploy: build/image: %s (raas app build first)\n",
			strerror(errno));
		return EX_NOINPUT;
	}
	if ((rc = abs_path("build/image", image, "image", "deploy")) ||
	    (rc = abs_path(cfg, d.agent_config, "--agent-config", "deploy")) ||
	    (rc = abs_path(pidf, d.agent_pid, "--agent-pid", "deploy")) ||
	    (rc = abs_path(key, d.key, "--key", "deploy")) ||
	    (rc = abs_path(mkey, d.market_key, "RAAS_SERVER_KEY", "deploy")))
		return rc;
	if (!getcwd(cwd, sizeof(cwd)) || (mkdir("build/deploy", 0755) != 0 && errno != EEXIST)) {
		fprintf(stderr, "raas app deploy: build/deploy: %s\n", strerror(errno));
		return EX_CANTCREAT;
	}
	snprintf(d.tenant, sizeof(d.tenant), "%s", tenant);
	copy(d.market, sizeof(d.market), market);
	copy(d.prices, sizeof(d.prices), prices);
	if (snprintf(ini, sizeof(ini), "%s/build/deploy/%s.ini", cwd, tenant) >= (int)sizeof(ini) ||
	    snprintf(drive, sizeof(drive), "%s/build/deploy/%s.drive", cwd, tenant) >=
		    (int)sizeof(drive) ||
	    snprintf(d.console, sizeof(d.console), "%s/build/deploy/%s.console", cwd, tenant) >=
		    (int)sizeof(d.console)) {
		fprintf(stderr, "raas app deploy: %s: the folder's path is too long\n", cwd);
		return EX_USAGE;
	}

	/* The host and domain, from the agent's config (checked before anything is written). */
	char dom[128], cfg_host[64] = "";
	if ((rc = edit_agent_config(d.agent_config, tenant, NULL, false, dom, sizeof(dom), cfg_host,
				    sizeof(cfg_host), "deploy")) != 0)
		return rc;
	if (host && cfg_host[0] && strcmp(host, cfg_host) != 0) {
		fprintf(stderr, "raas app deploy: --host %s, but %s is host %s's agent config\n",
			host, d.agent_config, cfg_host);
		return EX_USAGE;
	}
	snprintf(d.host, sizeof(d.host), "%s", host ? host : cfg_host);

	/* The config drive: the instance's config, never in the image. */
	char cmd[4 * PATH_MAX];
	if (own_drive) {
		/* The user's own drive (raas image drive): deployed as it is; the guest checks it. */
		snprintf(cmd, sizeof(cmd), "install -m 0600 '%s' '%s'", own_drive, drive);
		if (system(cmd) != 0) {
			fprintf(stderr, "raas app deploy: --drive %s: cannot copy it\n", own_drive);
			return EX_NOINPUT;
		}
	} else if ((rc = write_drive(&d, app, addr, gw, extra, ini, drive, self_dir)) != 0) {
		return rc;
	}

	/* The VM, through the agent. */
	char add[6 * PATH_MAX];
	snprintf(add, sizeof(add),
		 "vm_image = %s\nvm_drive = %s\nvm_bridge = %s\nvm_console = %s\nvm_vcpus = %s\n"
		 "vm_memory_mib = %s\nvm_type = %s\n%s%s%s",
		 image, drive, bridge, d.console, vcpus, mem, vm_type,
		 found_tap[0] ? "vm_tap = " : "", found_tap, found_tap[0] ? "\n" : "");
	unlink(d.console); /* this boot's log only: an old one would answer the wait below */
	if ((rc = edit_agent_config(d.agent_config, tenant, add, true, dom, sizeof(dom), cfg_host,
				    sizeof(cfg_host), "deploy")) != 0)
		return rc;
	snprintf(d.domain, sizeof(d.domain), "%s", dom);
	if ((rc = state_write(&d)) != 0) {
		fprintf(stderr, "raas app deploy: build/deploy/%s.state: %s\n", tenant, strerror(-rc));
		return EX_CANTCREAT;
	}
	if ((rc = reload_agent(d.agent_pid, "deploy")) != 0)
		return rc;
	char state_cmd[512];
	snprintf(state_cmd, sizeof(state_cmd),
		 "virsh -c qemu:///system domstate '%s' >/dev/null 2>&1", d.domain);
	for (long ms = 0; ms < timeout_s * 1000; ms += 200) {
		/* The agent undefines a VM that cannot start or stops: no domain after its reload. */
		if (ms >= 3000 && ms % 1000 == 0 && !file_has(d.console, "nom-vm: stopping") &&
		    system(state_cmd) != 0) {
			fprintf(stderr, "raas app deploy: the host agent did not start %s's VM or it "
					"stopped (domain %s is not there: the agent's log says why)\n",
				app, d.domain);
			if (edit_agent_config(d.agent_config, tenant, NULL, true, dom, sizeof(dom),
					      cfg_host, sizeof(cfg_host), "deploy") == 0)
				reload_agent(d.agent_pid, "deploy");
			return EX_UNAVAILABLE;
		}
		if (file_has(d.console, "nom-vm: stopping")) {
			fprintf(stderr, "raas app deploy: %s's VM stopped at boot (raas app logs):\n",
				app);
			print_lines(d.console, "nom-vm:", stderr);
			/* The agent has undefined it; it must not boot it again on a reload. */
			if (edit_agent_config(d.agent_config, tenant, NULL, true, dom, sizeof(dom), cfg_host,
					      sizeof(cfg_host), "deploy") == 0)
				reload_agent(d.agent_pid, "deploy");
			return EX_DATAERR;
		}
		if (file_has(d.console, "market session up")) {
			printf("%s: deployed as tenant %s's VM (domain %s) on host %s; its nom-priced "
			       "is connected (raas app logs, raas app stop)\n",
			       app, tenant, d.domain, d.host);
			return 0;
		}
		sleep_ms(200);
	}
	fprintf(stderr, "raas app deploy: %s's nom-priced did not connect within %ld s (raas app "
			"logs)\n", app, timeout_s);
	return EX_UNAVAILABLE;
}

static const char *tenant_opt(int argc, char **argv, int *bad)
{
	static const struct option opts[] = {{"tenant", required_argument, NULL, 't'},
					     {NULL, 0, NULL, 0}};
	const char *tenant = NULL;
	int c;
	*bad = 0;
	while ((c = getopt_long(argc, argv, "", opts, NULL)) != -1) {
		if (c == 't')
			tenant = optarg;
		else
			*bad = 1;
	}
	if (optind != argc)
		*bad = 1;
	return tenant;
}

static int app_logs(int argc, char **argv)
{
	struct deploy d;
	int bad, rc;
	const char *tenant = tenant_opt(argc, argv, &bad);
	if (bad)
		return EX_USAGE;
	if ((rc = state_read(tenant, &d, "logs")) != 0)
		return rc;
	FILE *f = fopen(d.console, "r");
	if (!f) {
		fprintf(stderr, "raas app logs: %s: %s (the VM has not started)\n", d.console,
			strerror(errno));
		return EX_NOINPUT;
	}
	char buf[8192];
	size_t n;
	while ((n = fread(buf, 1, sizeof(buf), f)) > 0)
		fwrite(buf, 1, n, stdout);
	fclose(f);
	return 0;
}

static int app_stop(int argc, char **argv, const char *self_dir)
{
	struct deploy d;
	int bad, rc;
	const char *tenant = tenant_opt(argc, argv, &bad);
	if (bad)
		return EX_USAGE;
	if ((rc = state_read(tenant, &d, "stop")) != 0)
		return rc;
	/* Its nom-priced dies with the VM without releasing: release here, with its key. */
	char cmd[4 * PATH_MAX];
	snprintf(cmd, sizeof(cmd),
		 "RAAS_MARKET='%s' RAAS_PRICES='%s' RAAS_SERVER_KEY='%s' '%s/raas' --key '%s' "
		 "release --resource bandwidth --host '%s' >/dev/null",
		 d.market, d.prices, d.market_key, self_dir, d.key, d.host);
	if (system(cmd) != 0)
		fprintf(stderr, "raas app stop: releasing %s's bandwidth on %s failed (above); the "
				"VM is stopped anyway\n", d.tenant, d.host);
	char dom[128], host[64];
	if ((rc = edit_agent_config(d.agent_config, d.tenant, NULL, true, dom, sizeof(dom), host,
				    sizeof(host), "stop")) != 0)
		return rc;
	if ((rc = reload_agent(d.agent_pid, "stop")) != 0)
		return rc;
	snprintf(cmd, sizeof(cmd), "virsh -c qemu:///system domstate '%s' >/dev/null 2>&1",
		 d.domain);
	for (int i = 0; i < 150; i++) {
		if (system(cmd) != 0) {
			char path[PATH_MAX];
			snprintf(path, sizeof(path), "build/deploy/%s.state", d.tenant);
			unlink(path);
			printf("stopped: tenant %s's VM (domain %s) on host %s is gone; its log stays "
			       "in %s\n", d.tenant, d.domain, d.host, d.console);
			return 0;
		}
		sleep_ms(200);
	}
	fprintf(stderr, "raas app stop: domain %s is still there after 30 s (the agent's log)\n",
		d.domain);
	return EX_UNAVAILABLE;
}

int vm_app_deploy_main(int argc, char **argv, const char *self_dir)
{
	if (strcmp(argv[0], "deploy") == 0)
		return app_deploy(argc, argv, self_dir);
	if (strcmp(argv[0], "logs") == 0)
		return app_logs(argc, argv);
	if (strcmp(argv[0], "stop") == 0)
		return app_stop(argc, argv, self_dir);
	return EX_USAGE;
}
