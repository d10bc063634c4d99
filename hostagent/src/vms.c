/* vms.c: define, start, watch, stop and undefine the tenants' nom VMs (hostagent/vms.h).
 *
 * Polling, not libvirt's event loop: the daemon's loop is zmq_poll, and a VM's state every
 * poll (a lookup and virDomainGetState, well under a millisecond against the local libvirtd)
 * is enough to tell the market within a round. */
#include <errno.h>
#include <libvirt/libvirt.h>
#include <libvirt/virterror.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "common/log.h"
#include "hostagent/vms.h"

struct vm_entry {
	struct ha_vm spec; /* every string owned */
	char *xml;
	bool running;
	bool ours;         /* defined or adopted by this agent: stopped by ha_vms_destroy */
};

struct ha_vms {
	virConnectPtr conn;
	ha_vm_state_fn fn;
	void *arg;
	struct vm_entry *e;
	size_t n;
};

static void quiet(void *data, virErrorPtr err)
{
	(void)data;
	(void)err;
}

static const char *lv_error(void)
{
	virErrorPtr e = virGetLastError();
	return e && e->message ? e->message : "unknown libvirt error";
}

/* Appends s to buf, escaped for an XML attribute or text. */
static void put_escaped(char **buf, size_t *len, size_t *cap, const char *s)
{
	for (; *s; s++) {
		const char *r = NULL;
		char one[2] = {*s, '\0'};
		switch (*s) {
		case '&': r = "&amp;"; break;
		case '<': r = "&lt;"; break;
		case '>': r = "&gt;"; break;
		case '\'': r = "&apos;"; break;
		case '"': r = "&quot;"; break;
		default: r = one; break;
		}
		size_t k = strlen(r);
		if (*len + k + 1 > *cap) {
			size_t nc = (*cap ? *cap * 2 : 1024) + k;
			char *nb = realloc(*buf, nc);
			if (!nb) {
				free(*buf);
				*buf = NULL;
				return;
			}
			*buf = nb;
			*cap = nc;
		}
		memcpy(*buf + *len, r, k + 1);
		*len += k;
	}
}

static bool use_kvm(const char *type)
{
	if (strcmp(type, "kvm") == 0)
		return true;
	if (strcmp(type, "qemu") == 0)
		return false;
	return access("/dev/kvm", R_OK | W_OK) == 0;
}

char *ha_vm_xml(const struct ha_vm *vm)
{
	char *buf = NULL;
	size_t len = 0, cap = 0;
	/* Pieces between the values, in order; a NULL value ends the list. */
	const char *const lit[] = {
		"<domain type='", "'>\n  <name>", "</name>\n  <memory unit='MiB'>",
		"</memory><currentMemory unit='MiB'>", "</currentMemory>\n"
		"  <vcpu placement='static' current='1'>", "</vcpu>\n"
		"  <os><type arch='x86_64' machine='pc'>hvm</type>\n    <kernel>", "/vmlinuz</kernel><initrd>",
		"/initrd.img</initrd>\n    <cmdline>console=ttyS0 panic=-1 quiet</cmdline></os>\n"
		"  <features><acpi/></features>\n"
		"  <on_poweroff>destroy</on_poweroff><on_reboot>destroy</on_reboot>"
		"<on_crash>destroy</on_crash>\n  <devices>\n"
		"    <disk type='file' device='disk'><driver name='qemu' type='raw'/>\n"
		"      <source file='", "'/><target dev='vda' bus='virtio'/><readonly/></disk>\n"
		"    <interface type='bridge'><source bridge='", "'/><target dev='",
		"'/>\n      <model type='virtio'/></interface>\n"
		"    <serial type='file'><source path='", "'/><target port='0'/></serial>\n"
		"    <memballoon model='virtio'/>\n  </devices>\n</domain>\n"};
	char mem[32], cpus[32];
	snprintf(mem, sizeof(mem), "%lld", (long long)vm->memory_mib);
	snprintf(cpus, sizeof(cpus), "%d", vm->vcpus);
	const char *const val[] = {use_kvm(vm->type) ? "kvm" : "qemu", vm->domain, mem, mem, cpus,
				   vm->image, vm->image, vm->drive, vm->bridge, vm->tap,
				   vm->console};
	for (size_t i = 0; i < sizeof(lit) / sizeof(lit[0]); i++) {
		size_t k = strlen(lit[i]);
		if (len + k + 1 > cap) {
			size_t nc = (cap ? cap * 2 : 2048) + k;
			char *nb = realloc(buf, nc);
			if (!nb) {
				free(buf);
				return NULL;
			}
			buf = nb;
			cap = nc;
		}
		memcpy(buf + len, lit[i], k + 1);
		len += k;
		if (i < sizeof(val) / sizeof(val[0])) {
			put_escaped(&buf, &len, &cap, val[i]);
			if (!buf)
				return NULL;
		}
	}
	return buf;
}

static void entry_free(struct vm_entry *e)
{
	free((char *)e->spec.tenant);
	free((char *)e->spec.domain);
	free((char *)e->spec.image);
	free((char *)e->spec.drive);
	free((char *)e->spec.bridge);
	free((char *)e->spec.tap);
	free((char *)e->spec.console);
	free((char *)e->spec.type);
	free(e->xml);
	memset(e, 0, sizeof(*e));
}

static int entry_init(struct vm_entry *e, const struct ha_vm *vm)
{
	memset(e, 0, sizeof(*e));
	e->spec.vcpus = vm->vcpus;
	e->spec.memory_mib = vm->memory_mib;
	if (!(e->spec.tenant = strdup(vm->tenant)) || !(e->spec.domain = strdup(vm->domain)) ||
	    !(e->spec.image = strdup(vm->image)) || !(e->spec.drive = strdup(vm->drive)) ||
	    !(e->spec.bridge = strdup(vm->bridge)) || !(e->spec.tap = strdup(vm->tap)) ||
	    !(e->spec.console = strdup(vm->console)) || !(e->spec.type = strdup(vm->type)) ||
	    !(e->xml = ha_vm_xml(vm))) {
		entry_free(e);
		return -ENOMEM;
	}
	return 0;
}

static void report(struct ha_vms *v, const struct vm_entry *e, const char *why)
{
	if (e->running)
		log_info("vm: tenant %s: domain %s running (tap %s on %s, console %s)",
			 e->spec.tenant, e->spec.domain, e->spec.tap, e->spec.bridge,
			 e->spec.console);
	else
		log_warn("vm: tenant %s: domain %s is not running: %s", e->spec.tenant,
			 e->spec.domain, why);
	if (v->fn)
		v->fn(v->arg, e->spec.tenant, e->spec.domain, e->running, why);
}

/* Destroys (when active) and undefines the domain; what is left is nothing of it. */
static void remove_domain(struct ha_vms *v, const char *name)
{
	virDomainPtr d = virDomainLookupByName(v->conn, name);
	if (!d)
		return;
	if (virDomainIsActive(d) == 1 && virDomainDestroy(d) < 0)
		log_warn("vm: destroying domain %s: %s", name, lv_error());
	if (virDomainIsPersistent(d) == 1 && virDomainUndefine(d) < 0)
		log_warn("vm: undefining domain %s: %s", name, lv_error());
	virDomainFree(d);
}

/* Files libvirt's daemon will open, checked here so that the error names them. */
static int check_files(const struct ha_vm *vm, char *why, size_t why_len)
{
	char path[4200];
	struct stat st;
	const char *const files[] = {"vmlinuz", "initrd.img"};

	for (size_t i = 0; i < 2; i++) {
		snprintf(path, sizeof(path), "%s/%s", vm->image, files[i]);
		if (stat(path, &st) != 0) {
			snprintf(why, why_len, "vm_image %s: no %s (%s; raas image build)", vm->image,
				 files[i], strerror(errno));
			return -ENOENT;
		}
	}
	if (stat(vm->drive, &st) != 0) {
		snprintf(why, why_len, "vm_drive %s: %s (raas image drive)", vm->drive,
			 strerror(errno));
		return -ENOENT;
	}
	return 0;
}

static void start(struct ha_vms *v, struct vm_entry *e)
{
	char why[512] = "";
	virDomainPtr d = virDomainLookupByName(v->conn, e->spec.domain);

	if (d) {
		int active = virDomainIsActive(d);
		char *cur = active == 1 ? virDomainGetXMLDesc(d, VIR_DOMAIN_XML_INACTIVE) : NULL;
		/* Adopt a running domain booting the same files (a restarted agent). */
		bool same = cur && strstr(cur, e->spec.drive) && strstr(cur, e->spec.image) &&
			    strstr(cur, e->spec.console);
		free(cur);
		virDomainFree(d);
		if (same) {
			e->running = e->ours = true;
			log_info("vm: domain %s already runs: adopted", e->spec.domain);
			report(v, e, "");
			return;
		}
		remove_domain(v, e->spec.domain);
	}
	e->running = false;
	if (check_files(&e->spec, why, sizeof(why)) != 0) {
		report(v, e, why);
		return;
	}
	/* The console starts empty: it is this boot's log. */
	FILE *f = fopen(e->spec.console, "w");
	if (!f) {
		snprintf(why, sizeof(why), "vm_console %s: %s", e->spec.console, strerror(errno));
		report(v, e, why);
		return;
	}
	fclose(f);
	d = virDomainDefineXML(v->conn, e->xml);
	if (!d) {
		snprintf(why, sizeof(why), "defining domain %s: %s", e->spec.domain, lv_error());
		report(v, e, why);
		return;
	}
	e->ours = true;
	if (virDomainCreate(d) < 0) {
		snprintf(why, sizeof(why), "starting domain %s: %s", e->spec.domain, lv_error());
		virDomainUndefine(d);
		virDomainFree(d);
		e->ours = false;
		report(v, e, why);
		return;
	}
	virDomainFree(d);
	e->running = true;
	report(v, e, "");
}

int ha_vms_create(const char *uri, ha_vm_state_fn fn, void *arg, struct ha_vms **out,
		  char *why, size_t why_len)
{
	struct ha_vms *v = calloc(1, sizeof(*v));

	if (!v)
		return -ENOMEM;
	virSetErrorFunc(NULL, quiet);
	v->conn = virConnectOpen(uri);
	if (!v->conn) {
		snprintf(why, why_len, "VMs: cannot connect to libvirt at %s: %s", uri, lv_error());
		free(v);
		return -ECONNREFUSED;
	}
	v->fn = fn;
	v->arg = arg;
	*out = v;
	return 0;
}

static bool same_spec(const struct vm_entry *e, const struct ha_vm *vm)
{
	char *xml = ha_vm_xml(vm);
	bool same = xml && strcmp(xml, e->xml) == 0 && strcmp(e->spec.tenant, vm->tenant) == 0;
	free(xml);
	return same;
}

void ha_vms_sync(struct ha_vms *v, const struct ha_config *conf)
{
	/* Those gone from conf, or changed: stopped. */
	for (size_t i = 0; i < v->n;) {
		struct vm_entry *e = &v->e[i];
		bool keep = false;
		for (size_t k = 0; k < conf->nvms && !keep; k++)
			keep = strcmp(conf->vms[k].domain, e->spec.domain) == 0 &&
			       same_spec(e, &conf->vms[k]);
		if (keep) {
			i++;
			continue;
		}
		log_info("vm: tenant %s: domain %s no longer configured as it was: stopping it",
			 e->spec.tenant, e->spec.domain);
		if (e->ours)
			remove_domain(v, e->spec.domain);
		entry_free(e);
		v->e[i] = v->e[--v->n];
	}
	/* Those new or not running: started. */
	for (size_t k = 0; k < conf->nvms; k++) {
		struct vm_entry *e = NULL;
		for (size_t i = 0; i < v->n && !e; i++)
			if (strcmp(v->e[i].spec.domain, conf->vms[k].domain) == 0)
				e = &v->e[i];
		if (!e) {
			struct vm_entry *ne = realloc(v->e, (v->n + 1) * sizeof(*ne));
			if (!ne) {
				log_error("vm: out of memory for domain %s", conf->vms[k].domain);
				continue;
			}
			v->e = ne;
			if (entry_init(&v->e[v->n], &conf->vms[k]) != 0) {
				log_error("vm: out of memory for domain %s", conf->vms[k].domain);
				continue;
			}
			e = &v->e[v->n++];
		}
		if (!e->running)
			start(v, e);
		else
			report(v, e, "");
	}
}

/* Why a domain in state st (reason r) is not running, or NULL when it is (or is still on its
 * way down: VIR_DOMAIN_SHUTDOWN is the moment between a guest's power-off and QEMU's exit, and
 * only the shut-off state that follows says how it ended; QEMU still holds what it was given). */
static const char *stopped_why(int st, int r)
{
	switch (st) {
	case VIR_DOMAIN_RUNNING:
	case VIR_DOMAIN_BLOCKED:
	case VIR_DOMAIN_PAUSED:
	case VIR_DOMAIN_PMSUSPENDED:
	case VIR_DOMAIN_SHUTDOWN:
		return NULL;
	case VIR_DOMAIN_CRASHED:
		return "it crashed";
	case VIR_DOMAIN_SHUTOFF:
		switch (r) {
		case VIR_DOMAIN_SHUTOFF_DESTROYED: return "it was destroyed";
		case VIR_DOMAIN_SHUTOFF_CRASHED: return "it crashed";
		case VIR_DOMAIN_SHUTOFF_SHUTDOWN:
			return "it powered off from inside (its console says why)";
		case VIR_DOMAIN_SHUTOFF_FAILED: return "QEMU failed";
		default: return "it is shut off";
		}
	default:
		return "its state is unknown";
	}
}

void ha_vms_poll(struct ha_vms *v)
{
	for (size_t i = 0; i < v->n; i++) {
		struct vm_entry *e = &v->e[i];
		const char *why = NULL;
		int st = 0, r = 0;
		if (!e->running)
			continue;
		virDomainPtr d = virDomainLookupByName(v->conn, e->spec.domain);
		if (!d)
			why = "its domain was undefined behind the agent's back";
		else if (virDomainGetState(d, &st, &r, 0) < 0)
			why = "libvirt cannot tell its state";
		else
			why = stopped_why(st, r);
		if (d)
			virDomainFree(d);
		if (!why)
			continue;
		e->running = false;
		remove_domain(v, e->spec.domain);
		e->ours = false;
		report(v, e, why);
	}
}

bool ha_vms_running(const struct ha_vms *v, const char *tenant)
{
	for (size_t i = 0; v && i < v->n; i++)
		if (strcmp(v->e[i].spec.tenant, tenant) == 0)
			return v->e[i].running;
	return false;
}

void ha_vms_destroy(struct ha_vms *v, bool stop)
{
	if (!v)
		return;
	for (size_t i = 0; i < v->n; i++) {
		if (stop && v->e[i].ours) {
			log_info("vm: stopping domain %s (tenant %s)", v->e[i].spec.domain,
				 v->e[i].spec.tenant);
			remove_domain(v, v->e[i].spec.domain);
		}
		entry_free(&v->e[i]);
	}
	free(v->e);
	virConnectClose(v->conn);
	free(v);
}
