/* agent_config.c: raas-hostagentd's config schema, loading and whole-file checks.
 *
 * The schema is the agent's own keys plus every registered backend's section, so a key of
 * any backend is accepted only in that backend's section and a typo anywhere is refused. */
#include <arpa/inet.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/error.h"
#include "hostagent/agent_config.h"

#define F(field) CFG_FIELD(struct ha_config, field)
#define DAY INT64_C(86400000000000)
/* [agent] and [capacity], each key once: where it goes, its default, its range, its help.
 * Keys with their own syntax (CPU lists, the cache mask) or no default (key files) are read
 * in finish(); the [tenant.*] keys are per-section, read by load_tenant(). */
static const struct cfg_bind ha_binds[] = {
	{"agent", "host", CFG_STRING, F(host), NULL, CFG_ANY, "this host's name in the market"},
	{"agent", "market", CFG_STRING, F(market), "tcp://127.0.0.1:7103", CFG_ANY,
	 "market host API endpoint"},
	{"agent", "market_public_key", CFG_STRING, CFG_UNBOUND, NULL, CFG_ANY,
	 "the market's CURVE public key file (NAME.pub from raas keygen)"},
	{"agent", "key", CFG_STRING, CFG_UNBOUND, NULL, CFG_ANY,
	 "this host's CURVE key pair file (NAME.key)"},
	{"agent", "heartbeat", CFG_DURATION, F(heartbeat_ns), "1s", 1, DAY, "heartbeat period"},
	{"agent", "market_timeout", CFG_DURATION, F(market_timeout_ns), "5s", 1, DAY,
	 "silence after which the market counts as unreachable (longer than heartbeat)"},
	{"agent", "reconnect_min", CFG_DURATION, F(reconnect_min_ns), "100ms", 1, DAY,
	 "first reconnect delay"},
	{"agent", "reconnect_max", CFG_DURATION, F(reconnect_max_ns), "5s", 1, DAY,
	 "longest reconnect delay (at least reconnect_min)"},
	{"agent", "meter_interval", CFG_DURATION, F(meter_interval_ns), "1s", 1, DAY,
	 "meter report period when no allocation set arrives"},
	{"agent", "log_level", CFG_STRING, CFG_UNBOUND, "info", CFG_ANY,
	 "error, warn, info or debug"},
	{"agent", "round_log", CFG_DURATION, F(round_log_ns), "1s", 0, DAY,
	 "an info line with the rounds applied at most this often (0s: every round)"},
	{"capacity", "cores", CFG_INT, F(capacity[ENF_CORES]), "0", 0, ENF_MAX_CPUS,
	 "whole cores sold"},
	{"capacity", "cpus", CFG_STRING, CFG_UNBOUND, "", CFG_ANY,
	 "CPU list sold as cores (default 0..cores-1)"},
	{"capacity", "idle_cpus", CFG_STRING, CFG_UNBOUND, "", CFG_ANY,
	 "CPUs of a tenant holding 0 cores (default: the first CPU sold)"},
	{"capacity", "memory_mib", CFG_INT, F(capacity[ENF_MEMORY]), "0", 0, INT64_C(1) << 40,
	 "memory sold, MiB"},
	{"capacity", "bandwidth_mbit", CFG_INT, F(capacity[ENF_BANDWIDTH]), "0", 0,
	 INT64_C(1) << 40, "transmit bandwidth sold, Mbit/s"},
	{"capacity", "llc_ways", CFG_INT, F(capacity[ENF_LLC]), "0", 0, 64,
	 "last-level cache ways sold"},
	{"capacity", "idle_cbm", CFG_STRING, CFG_UNBOUND, "0x1", CFG_ANY,
	 "cache mask of a tenant holding 0 ways"},
};
#undef DAY
#undef F
#define NBINDS (sizeof(ha_binds) / sizeof(ha_binds[0]))

/* The keys outside the table: the dashboards' HTTP keys, the backends' choice, the
 * per-tenant sections (one of each per [tenant.NAME], no one field to bind to). */
static const struct cfg_key agent_keys[] = {
	HTTPD_CFG_KEYS("agent"),
	{"backends", "cores", CFG_STRING, "none", "cgroup, libvirt, fake or none"},
	{"backends", "memory", CFG_STRING, "none", "cgroup, libvirt, fake or none"},
	{"backends", "bandwidth", CFG_STRING, "none", "tc, sriov, libvirt, fake or none"},
	{"backends", "llc", CFG_STRING, "none", "resctrl, fake or none"},
	{"tenant.*", "interface", CFG_STRING, NULL, "tc: interface carrying the tenant's traffic"},
	{"tenant.*", "class", CFG_STRING, NULL, "tc: HTB class minor, 1..0xfff (hex with 0x)"},
	{"tenant.*", "src", CFG_STRING, "", "tc: the tenant's IPv4 source (a.b.c.d[/len]); "
					     "empty: the interface's default class"},
	{"tenant.*", "pf", CFG_STRING, NULL, "sriov: physical function interface"},
	{"tenant.*", "vf", CFG_INT, "-1", "sriov: VF number"},
	{"tenant.*", "cgroup", CFG_STRING, NULL, "cgroup: path under [cgroup] parent "
						 "(default: the tenant name)"},
	{"tenant.*", "domain", CFG_STRING, NULL, "libvirt: domain name (default: tenant name)"},
	{"tenant.*", "vif", CFG_STRING, NULL, "libvirt: interface target dev or MAC"},
	{"tenant.*", "resctrl_group", CFG_STRING, NULL, "resctrl: group (default raas-NAME)"},
	/* The tenant's nom VM, when the agent boots it (hostagent/vms.h). */
	{"tenant.*", "vm_image", CFG_STRING, NULL,
	 "VM: image directory (vmlinuz, initrd.img: raas image build); set: the agent boots "
	 "the tenant's VM as domain `domain`"},
	{"tenant.*", "vm_drive", CFG_STRING, NULL, "VM: config drive (raas image drive)"},
	{"tenant.*", "vm_bridge", CFG_STRING, NULL, "VM: host bridge of its virtio NIC's tap"},
	{"tenant.*", "vm_tap", CFG_STRING, NULL, "VM: tap name (default rv-DOMAIN, 15 chars)"},
	{"tenant.*", "vm_console", CFG_STRING, NULL, "VM: file of its serial console (its log)"},
	{"tenant.*", "vm_vcpus", CFG_INT, "2", "VM: maximum vCPUs (1 live at boot)"},
	{"tenant.*", "vm_memory_mib", CFG_INT, "256", "VM: maximum memory, MiB"},
	{"tenant.*", "vm_type", CFG_STRING, "auto", "VM: auto (kvm with /dev/kvm), kvm or qemu"},
};

static struct cfg_key *extra;
static size_t nextra;

/* agent_keys followed by every registered backend's section; built once. */
static const struct cfg_key *extra_keys(size_t *n)
{
	if (!extra) {
		struct cfg_key *bk;
		size_t nbk;
		size_t na = sizeof(agent_keys) / sizeof(agent_keys[0]);
		if (enf_config_schema(&bk, &nbk))
			return NULL;
		struct cfg_key *all = calloc(na + nbk, sizeof(*all));
		if (!all) {
			free(bk);
			return NULL;
		}
		memcpy(all, agent_keys, sizeof(agent_keys));
		memcpy(all + na, bk, nbk * sizeof(*bk));
		free(bk);
		extra = all;
		nextra = na + nbk;
	}
	*n = nextra;
	return extra;
}

void ha_config_help(FILE *f)
{
	size_t n = 0;
	const struct cfg_key *keys = extra_keys(&n);

	cfg_help(f, ha_binds, NBINDS, keys, keys ? n : 0);
}

void ha_config_destroy(struct ha_config *c)
{
	if (!c)
		return;
	if (c->targets) {
		for (size_t i = 0; i < c->ntargets; i++) {
			free((char *)c->targets[i].tenant);
			free((char *)c->targets[i].resctrl_group);
		}
		free(c->targets);
	}
	if (c->vms) {
		for (size_t i = 0; i < c->nvms; i++)
			free((char *)c->vms[i].tap);
		free(c->vms);
	}
	cfg_destroy(c->cfg);
	free(c);
}

static int parse_src(const char *text, uint32_t *addr, int *prefix)
{
	char buf[64];
	struct in_addr a;
	int len = 32;

	snprintf(buf, sizeof(buf), "%s", text);
	char *slash = strchr(buf, '/');
	if (slash) {
		*slash = '\0';
		char *end;
		long l = strtol(slash + 1, &end, 10);
		if (*end || l < 1 || l > 32)
			return -1;
		len = (int)l;
	}
	if (inet_pton(AF_INET, buf, &a) != 1)
		return -1;
	*addr = a.s_addr;
	*prefix = len;
	return 0;
}

static bool uses(const struct ha_config *c, const char *backend)
{
	for (int r = ENF_RES_MIN; r <= ENF_RES_MAX; r++)
		if (c->backend[r] && strcmp(c->backend[r], backend) == 0)
			return true;
	return false;
}

/* The [tenant.NAME] vm_* keys: a VM the agent boots, appended to c->vms. */
static int load_vm(struct ha_config *c, const char *section, const struct enf_target *t,
		   struct cfg_error *err)
{
	static const char *const vm_keys[] = {"vm_drive", "vm_bridge", "vm_tap", "vm_console"};
	const char *image = cfg_get(c->cfg, section, "vm_image");
	struct ha_vm *vm;
	int64_t vcpus, mem;

	if (!image) {
		for (size_t k = 0; k < sizeof(vm_keys) / sizeof(vm_keys[0]); k++)
			if (cfg_get(c->cfg, section, vm_keys[k]))
				return cfg_error_at(c->cfg, section, vm_keys[k], err,
						    "%s without vm_image (the VM's image)",
						    vm_keys[k]);
		return 0;
	}
	vm = &c->vms[c->nvms];
	memset(vm, 0, sizeof(*vm));
	vm->tenant = t->tenant;
	vm->domain = t->domain;
	vm->image = image;
	vm->drive = cfg_get(c->cfg, section, "vm_drive");
	vm->bridge = cfg_get(c->cfg, section, "vm_bridge");
	vm->console = cfg_get(c->cfg, section, "vm_console");
	vm->type = cfg_get(c->cfg, section, "vm_type");
	if (!vm->drive || !vm->bridge || !vm->console)
		return cfg_error_at(c->cfg, section,
				    !vm->drive ? "vm_drive" : !vm->bridge ? "vm_bridge" : "vm_console",
				    err, "a VM needs vm_image, vm_drive, vm_bridge and vm_console");
	if (!image[0] || image[0] != '/' || vm->drive[0] != '/' || vm->console[0] != '/')
		return cfg_error_at(c->cfg, section, image[0] != '/' ? "vm_image" :
				    vm->drive[0] != '/' ? "vm_drive" : "vm_console", err,
				    "must be an absolute path (libvirt's daemon opens it)");
	if (strcmp(vm->type, "auto") != 0 && strcmp(vm->type, "kvm") != 0 &&
	    strcmp(vm->type, "qemu") != 0)
		return cfg_error_at(c->cfg, section, "vm_type", err,
				    "\"%s\" is not auto, kvm or qemu", vm->type);
	if (cfg_get_int(c->cfg, section, "vm_vcpus", &vcpus, err) ||
	    cfg_get_int(c->cfg, section, "vm_memory_mib", &mem, err))
		return -RAAS_ECONFIG;
	if (vcpus < 1 || vcpus > 64)
		return cfg_error_at(c->cfg, section, "vm_vcpus", err, "%lld is not 1..64",
				    (long long)vcpus);
	if (mem < 64 || mem > (INT64_C(1) << 20))
		return cfg_error_at(c->cfg, section, "vm_memory_mib", err,
				    "%lld MiB is not 64..1048576", (long long)mem);
	vm->vcpus = (int)vcpus;
	vm->memory_mib = mem;
	const char *tap = cfg_get(c->cfg, section, "vm_tap");
	char def[32];
	snprintf(def, sizeof(def), "rv-%.12s", vm->domain);
	if (tap && (!tap[0] || strlen(tap) > 15 || strncmp(tap, "vnet", 4) == 0))
		return cfg_error_at(c->cfg, section, "vm_tap", err,
				    "\"%s\" is not 1..15 characters, or starts with vnet "
				    "(libvirt's own names)", tap);
	if (!(vm->tap = strdup(tap ? tap : def)))
		return -ENOMEM;
	c->nvms++;
	return 0;
}

static int load_tenant(struct ha_config *c, const char *section, struct enf_target *t,
		       struct cfg_error *err)
{
	const char *name = section + strlen("tenant.");
	const char *v;
	int64_t vf;
	int ret;

	if (!name[0] || strlen(name) > 63)
		return cfg_error_at(c->cfg, section, "interface", err,
				    "tenant name must be 1..63 characters");
	t->tenant = strdup(name);
	char group[80];
	snprintf(group, sizeof(group), "raas-%s", name);
	v = cfg_get(c->cfg, section, "resctrl_group");
	t->resctrl_group = strdup(v ? v : group);
	if (!t->tenant || !t->resctrl_group)
		return -ENOMEM;
	t->ifname = cfg_get(c->cfg, section, "interface");
	if ((v = cfg_get(c->cfg, section, "class"))) {
		char *end;
		unsigned long cl = strtoul(v, &end, 0);
		if (*end || cl < 1 || cl > 0xfff)
			return cfg_error_at(c->cfg, section, "class", err,
					    "class \"%s\" is not a number in 1..0xfff", v);
		t->tc_class = (uint32_t)cl;
	}
	v = cfg_get(c->cfg, section, "src");
	if (v && v[0] && parse_src(v, &t->src_addr, &t->src_prefix))
		return cfg_error_at(c->cfg, section, "src", err,
				    "\"%s\" is not an IPv4 address or a.b.c.d/len", v);
	t->pf = cfg_get(c->cfg, section, "pf");
	if (cfg_get_int(c->cfg, section, "vf", &vf, err))
		return -RAAS_ECONFIG;
	if (vf < -1 || vf > 65535)
		return cfg_error_at(c->cfg, section, "vf", err, "VF %lld is out of range",
				    (long long)vf);
	t->vf = (int)vf;
	v = cfg_get(c->cfg, section, "cgroup");
	t->cgroup = v ? v : t->tenant;
	v = cfg_get(c->cfg, section, "domain");
	t->domain = v ? v : t->tenant;
	t->vif = cfg_get(c->cfg, section, "vif");

	if ((ret = load_vm(c, section, t, err)) != 0)
		return ret;
	if (uses(c, "tc") && (!t->ifname || !t->tc_class))
		return cfg_error_at(c->cfg, section, t->ifname ? "class" : "interface", err,
				    "the tc backend needs interface and class for every tenant");
	if (uses(c, "sriov") && (!t->pf || t->vf < 0))
		return cfg_error_at(c->cfg, section, t->pf ? "vf" : "pf", err,
				    "the sriov backend needs pf and vf for every tenant");
	if (c->backend[ENF_BANDWIDTH] && strcmp(c->backend[ENF_BANDWIDTH], "libvirt") == 0 &&
	    !t->vif)
		return cfg_error_at(c->cfg, section, "vif", err,
				    "libvirt bandwidth needs vif (the domain's interface)");
	return 0;
}

static int check_tc(struct ha_config *c, char **sections, struct cfg_error *err)
{
	for (size_t i = 0; i < c->ntargets; i++) {
		for (size_t j = 0; j < i; j++) {
			const struct enf_target *a = &c->targets[i], *b = &c->targets[j];
			if (strcmp(a->ifname, b->ifname) != 0)
				continue;
			if (a->tc_class == b->tc_class)
				return cfg_error_at(c->cfg, sections[i], "class", err,
						    "class %#x on %s is also tenant %s's",
						    a->tc_class, a->ifname, b->tenant);
			if (!a->src_prefix && !b->src_prefix)
				return cfg_error_at(c->cfg, sections[i], "src", err,
						    "tenants %s and %s share %s and neither has src",
						    b->tenant, a->tenant, a->ifname);
		}
	}
	return 0;
}

static int finish(struct ha_config *c, struct cfg_error *err)
{
	const char *v;
	int ret;

	if ((ret = cfg_bind_load(c->cfg, ha_binds, NBINDS, c, err)) ||
	    (ret = httpd_config_load(c->cfg, "agent", &c->http, err)))
		return ret;
	c->market_public_key = cfg_get(c->cfg, "agent", "market_public_key");
	c->key = cfg_get(c->cfg, "agent", "key");
	if (!c->host[0])
		return cfg_error_at(c->cfg, "agent", "host", err, "host must be 1..63 characters");
	if (c->market_timeout_ns <= c->heartbeat_ns)
		return cfg_error_at(c->cfg, "agent", "market_timeout", err,
				    "market_timeout must be longer than heartbeat");
	if (c->reconnect_max_ns < c->reconnect_min_ns)
		return cfg_error_at(c->cfg, "agent", "reconnect_max", err,
				    "reconnect_max is shorter than reconnect_min");
	for (int r = ENF_RES_MIN; r <= ENF_RES_MAX; r++) {
		const char *name = enf_resource_name((enum enf_resource)r);
		v = cfg_get(c->cfg, "backends", name);
		if (!v || strcmp(v, "none") == 0)
			continue;
		const struct enf_backend *b = enf_find(v);
		if (!b)
			return cfg_error_at(c->cfg, "backends", name, err,
					    "no enforcement backend named \"%s\"", v);
		if (!(b->resources & ENF_RES_BIT(r)))
			return cfg_error_at(c->cfg, "backends", name, err,
					    "backend %s cannot enforce %s", v, name);
		c->backend[r] = v;
	}
	/* CPUs sold as cores. */
	v = cfg_get(c->cfg, "capacity", "cpus");
	if (v && v[0]) {
		if (enf_cpuset_parse(v, &c->cpus))
			return cfg_error_at(c->cfg, "capacity", "cpus", err,
					    "\"%s\" is not a CPU list", v);
		if (enf_cpuset_count(&c->cpus) != c->capacity[ENF_CORES])
			return cfg_error_at(c->cfg, "capacity", "cpus", err,
					    "%d CPUs listed but cores = %lld",
					    enf_cpuset_count(&c->cpus),
					    (long long)c->capacity[ENF_CORES]);
	} else {
		for (int i = 0; i < c->capacity[ENF_CORES]; i++)
			enf_cpuset_set(&c->cpus, i);
	}
	v = cfg_get(c->cfg, "capacity", "idle_cpus");
	if (v && v[0]) {
		if (enf_cpuset_parse(v, &c->idle_cpus) || !enf_cpuset_count(&c->idle_cpus))
			return cfg_error_at(c->cfg, "capacity", "idle_cpus", err,
					    "\"%s\" is not a non-empty CPU list", v);
	} else {
		enf_cpuset_set(&c->idle_cpus, 0);
		for (int i = 0; i < ENF_MAX_CPUS; i++)
			if (enf_cpuset_has(&c->cpus, i)) {
				enf_cpuset_zero(&c->idle_cpus);
				enf_cpuset_set(&c->idle_cpus, i);
				break;
			}
	}
	v = cfg_get(c->cfg, "capacity", "idle_cbm");
	char *end;
	c->idle_cbm = strtoull(v, &end, 16);
	if (*end || !enf_cbm_contiguous(c->idle_cbm))
		return cfg_error_at(c->cfg, "capacity", "idle_cbm", err,
				    "\"%s\" is not a contiguous hex mask", v);
	/* Tenants. */
	const char *names[1];
	size_t n = cfg_sections(c->cfg, "tenant.*", names, 0);
	char **sections = calloc(n ? n : 1, sizeof(*sections));
	c->targets = calloc(n ? n : 1, sizeof(*c->targets));
	c->vms = calloc(n ? n : 1, sizeof(*c->vms));
	if (!sections || !c->targets || !c->vms) {
		free(sections);
		return -ENOMEM;
	}
	cfg_sections(c->cfg, "tenant.*", (const char **)sections, n);
	ret = 0;
	for (size_t i = 0; i < n && !ret; i++) {
		c->targets[i].index = (uint32_t)i;
		c->ntargets = i + 1;
		ret = load_tenant(c, sections[i], &c->targets[i], err);
	}
	if (!ret && uses(c, "tc"))
		ret = check_tc(c, sections, err);
	free(sections);
	return ret;
}

static int load(const char *path, const char *name, const char *text,
		const char *const *overrides, size_t nov, struct ha_config **out,
		struct cfg_error *err)
{
	size_t nkeys = 0;
	const struct cfg_key *keys = extra_keys(&nkeys);
	struct ha_config *c = calloc(1, sizeof(*c));
	int ret;

	memset(err, 0, sizeof(*err));
	if (!keys || !c) {
		free(c);
		return -ENOMEM;
	}
	ret = cfg_create_bind(ha_binds, NBINDS, keys, nkeys, &c->cfg);
	if (ret)
		goto fail;
	if (path)
		ret = cfg_load_file(c->cfg, path, err);
	else if (text)
		ret = cfg_load_string(c->cfg, name, text, err);
	for (size_t i = 0; !ret && i < nov; i++)
		ret = cfg_set_override(c->cfg, overrides[i], err);
	if (!ret)
		ret = finish(c, err);
	if (ret)
		goto fail;
	*out = c;
	return 0;
fail:
	ha_config_destroy(c);
	return ret;
}

int ha_config_load(const char *path, const char *const *overrides, size_t noverrides,
		   struct ha_config **out, struct cfg_error *err)
{
	return load(path, NULL, NULL, overrides, noverrides, out, err);
}

int ha_config_load_string(const char *name, const char *text, struct ha_config **out,
			  struct cfg_error *err)
{
	return load(NULL, name, text, NULL, 0, out, err);
}
