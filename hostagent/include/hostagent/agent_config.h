/* agent_config.h: raas-hostagentd's configuration: the schema and the parsed, checked form.
 *
 * One INI file (common/config.h: unknown keys refused with file:line:key and a suggestion):
 *   [agent]      host name, market endpoint, CURVE key files, heartbeat and reconnect timing
 *   [capacity]   what the host sells: cores (and which CPUs), memory MiB, bandwidth Mbit/s,
 *                LLC ways
 *   [backends]   the backend enforcing each resource ("none": not sold)
 *   [tc] [sriov] [libvirt] [resctrl] [cgroup] [fake]   each backend's own keys
 *   [tenant.NAME]  how tenant NAME maps to what is enforced (interface and class, VF,
 *                cgroup path, libvirt domain, resctrl group) and the tenant's VM that
 *                the agent boots (vm_*)
 * docs/hostagent.md lists every key. */
#ifndef HOSTAGENT_AGENT_CONFIG_H
#define HOSTAGENT_AGENT_CONFIG_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "common/config.h"
#include "common/httpd.h"
#include "hostagent/enf.h"

/* A tenant's nom VM that the agent boots and watches ([tenant.NAME] vm_*; hostagent/vms.h).
 * Strings are the config's, except tap (owned). */
struct ha_vm {
	const char *tenant;
	const char *domain;         /* the libvirt domain ([tenant.NAME] domain) */
	const char *image;          /* directory with vmlinuz and initrd.img */
	const char *drive;          /* config drive, the guest's vda */
	const char *bridge;         /* host bridge the tap joins */
	const char *tap;            /* host side of the virtio NIC */
	const char *console;        /* serial console file: the instance's log */
	const char *type;           /* auto, kvm, qemu */
	int vcpus;                  /* maximum; 1 live at boot, the rest from cores holdings */
	int64_t memory_mib;         /* maximum; the balloon follows memory holdings */
};

struct ha_config {
	struct cfg *cfg;            /* owns every string pointer below */
	char host[64];              /* this host's name in the market, 1..63 characters */
	char market[256];           /* ZeroMQ endpoint of the market's host API */
	const char *market_public_key; /* key files (common/transport.h): the market's .pub */
	const char *key;               /* this host's .key (public and secret) */
	int64_t heartbeat_ns;
	int64_t market_timeout_ns;  /* silence after which the market counts as unreachable */
	int64_t reconnect_min_ns;   /* backoff bounds */
	int64_t reconnect_max_ns;
	int64_t meter_interval_ns;  /* meter reports when no allocation set arrives */
	int64_t round_log_ns;       /* an info line per this much time of rounds (0: each) */
	struct httpd_config http;   /* /metrics (docs/dashboards.md); read at start only */
	int64_t capacity[ENF_RES_MAX + 1];
	const char *backend[ENF_RES_MAX + 1]; /* NULL: "none" */
	struct enf_cpuset cpus;     /* CPUs sold (count == capacity[ENF_CORES]) */
	struct enf_cpuset idle_cpus;
	uint64_t idle_cbm;
	struct enf_target *targets; /* one per [tenant.NAME], in file order */
	size_t ntargets;
	struct ha_vm *vms;          /* the tenants with vm_image, in file order */
	size_t nvms;
};

/* Loads path (NULL: only overrides and defaults) and overrides ("section.key=value"), then
 * checks it as a whole (every tenant mapped for each resource's backend, class numbers
 * unique per interface, CPU lists within capacity). On success *out owns everything
 * (ha_config_destroy). On failure returns -RAAS_ECONFIG (or -errno) with err naming the
 * file, line and key. */
int ha_config_load(const char *path, const char *const *overrides, size_t noverrides,
		   struct ha_config **out, struct cfg_error *err);
/* The same from INI text (tests, fuzzing); name stands for the file in errors. */
int ha_config_load_string(const char *name, const char *text, struct ha_config **out,
			  struct cfg_error *err);
void ha_config_destroy(struct ha_config *c);

/* --help-config: the [agent] and [capacity] keys with their defaults and ranges, then the
 * backends', the tenants' and every backend section's keys. */
void ha_config_help(FILE *f);

#endif
