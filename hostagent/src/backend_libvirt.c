/* backend_libvirt.c: bandwidth, cores and memory of tenants' VMs through the libvirt API.
 *
 * Each tenant is a libvirt domain ([tenant.NAME] domain, default the tenant name) on [libvirt]
 * uri. Bandwidth: virDomainSetInterfaceParameters on the domain's interface ([tenant.NAME]
 * vif), outbound.average in KB/s (1 Mbit/s = 125 KB/s; libvirt passes it to tc as kbps, 1000
 * bytes/s), with outbound.burst of [libvirt] burst_kb; a tenant holding 0 gets 1 KB/s (0
 * would mean "no limit"). Cores: live vCPUs (virDomainSetVcpusFlags; at least 1). Memory:
 * the balloon target in KiB (virDomainSetMemoryFlags; a tenant holding 0 gets
 * [libvirt] memory_floor_mib). Everything is applied to the live domain only, and read back
 * from it. Meters: the interface's transmit bytes (virDomainInterfaceStats) and the
 * domain's CPU time. On this project's machines libvirt's own bandwidth path fails for QEMU
 * domains (no sfq qdisc), so VM bandwidth is normally enforced with the tc backend on the
 * domain's tap device; this backend's bandwidth path is for hosts where it works. */
#include <errno.h>
#include <libvirt/libvirt.h>
#include <libvirt/virterror.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/error.h"
#include "hostagent/enf.h"

static const struct cfg_key libvirt_keys[] = {
	{"libvirt", "uri", CFG_STRING, "qemu:///system", "libvirt connection URI"},
	{"libvirt", "burst_kb", CFG_INT, "64", "outbound burst, KB"},
	{"libvirt", "memory_floor_mib", CFG_INT, "128", "balloon of a domain holding 0 MiB"},
};

struct lv_state {
	virConnectPtr conn;
	char uri[256];
	unsigned burst_kb;
	unsigned long floor_kib;
};

static void quiet(void *data, virErrorPtr e)
{
	(void)data;
	(void)e; /* errors are reported through enf_error, not printed by libvirt */
}

static const char *last_error(void)
{
	virErrorPtr e = virGetLastError();
	return e && e->message ? e->message : "unknown libvirt error";
}

/* libvirt error -> negative errno. */
static int lv_errno(void)
{
	virErrorPtr e = virGetLastError();
	if (!e)
		return -EIO;
	switch (e->code) {
	case VIR_ERR_NO_DOMAIN: return -ENOENT;
	case VIR_ERR_NO_SUPPORT:
	case VIR_ERR_OPERATION_UNSUPPORTED:
	case VIR_ERR_ARGUMENT_UNSUPPORTED: return -ENOTSUP;
	case VIR_ERR_INVALID_ARG: return -EINVAL;
	case VIR_ERR_OPERATION_INVALID: return -EPERM;
	case VIR_ERR_NO_MEMORY: return -ENOMEM;
	case VIR_ERR_SYSTEM_ERROR: return e->int1 > 0 ? -e->int1 : -EIO;
	default: return -EIO;
	}
}

static int lv_create(const struct cfg *cfg, const struct enf_target *targets, size_t n,
		     struct enf_instance *inst, struct enf_error *err)
{
	struct lv_state *lv = calloc(1, sizeof(*lv));
	int64_t burst = 64, floor = 128;
	const char *uri = "qemu:///system";

	if (!lv)
		return enf_fail(err, -ENOMEM, "out of memory");
	if (cfg) {
		struct cfg_error ce;
		uri = cfg_get(cfg, "libvirt", "uri");
		if (cfg_get_int(cfg, "libvirt", "burst_kb", &burst, &ce) ||
		    cfg_get_int(cfg, "libvirt", "memory_floor_mib", &floor, &ce) || burst < 1 ||
		    burst > UINT32_MAX || floor < 1) {
			free(lv);
			return enf_fail(err, -RAAS_ECONFIG,
					"libvirt: burst_kb and memory_floor_mib must be positive");
		}
	}
	lv->burst_kb = (unsigned)burst;
	lv->floor_kib = (unsigned long)floor * 1024;
	snprintf(lv->uri, sizeof(lv->uri), "%s", uri);
	virSetErrorFunc(NULL, quiet);
	lv->conn = virConnectOpen(lv->uri);
	if (!lv->conn) {
		int ret = enf_fail(err, -ECONNREFUSED, "libvirt: cannot connect to %s: %s", lv->uri,
				   last_error());
		free(lv);
		return ret;
	}
	(void)targets;
	(void)n;
	inst->state = lv;
	return 0;
}

static void lv_destroy(struct enf_instance *inst)
{
	struct lv_state *lv = inst->state;
	if (!lv)
		return;
	if (lv->conn)
		virConnectClose(lv->conn);
	free(lv);
}

static int lv_probe(struct enf_instance *inst, enum enf_resource res, struct enf_error *err)
{
	struct lv_state *lv = inst->state;
	if (virConnectIsAlive(lv->conn) != 1)
		return enf_fail(err, -ECONNRESET, "libvirt: connection to %s is down", lv->uri);
	return 0;
}

static virDomainPtr domain(struct lv_state *lv, const struct enf_target *t,
			   struct enf_error *err, int *ret)
{
	virDomainPtr d = virDomainLookupByName(lv->conn, t->domain);
	if (!d)
		*ret = enf_fail(err, lv_errno(), "libvirt: domain %s (tenant %s): %s", t->domain,
				t->tenant, last_error());
	return d;
}

static int lv_apply(struct enf_instance *inst, enum enf_resource res, const struct enf_target *t,
		    const struct enf_setting *s, struct enf_error *err)
{
	struct lv_state *lv = inst->state;
	int ret = 0;
	virDomainPtr d = domain(lv, t, err, &ret);
	if (!d)
		return ret;
	int r = -1;
	if (res == ENF_BANDWIDTH) {
		virTypedParameterPtr params = NULL;
		int nparams = 0, maxparams = 0;
		uint64_t kbps = s->quantity > 0 ? (uint64_t)s->quantity * 125 : 1;
		if (!t->vif) {
			virDomainFree(d);
			return enf_fail(err, -RAAS_ECONFIG, "libvirt: tenant %s has no vif", t->tenant);
		}
		if (kbps > UINT32_MAX) {
			virDomainFree(d);
			return enf_fail(err, -ERANGE, "libvirt: %lld Mbit/s is too large",
					(long long)s->quantity);
		}
		if (virTypedParamsAddUInt(&params, &nparams, &maxparams,
					  VIR_DOMAIN_BANDWIDTH_OUT_AVERAGE, (unsigned)kbps) == 0 &&
		    virTypedParamsAddUInt(&params, &nparams, &maxparams,
					  VIR_DOMAIN_BANDWIDTH_OUT_BURST, lv->burst_kb) == 0)
			r = virDomainSetInterfaceParameters(d, t->vif, params, nparams,
							    VIR_DOMAIN_AFFECT_LIVE);
		virTypedParamsFree(params, nparams);
	} else if (res == ENF_CORES) {
		unsigned n = s->quantity > 0 ? (unsigned)s->quantity : 1;
		r = virDomainSetVcpusFlags(d, n, VIR_DOMAIN_AFFECT_LIVE);
	} else if (res == ENF_MEMORY) {
		unsigned long kib = s->quantity > 0 ? (unsigned long)s->quantity * 1024 : lv->floor_kib;
		r = virDomainSetMemoryFlags(d, kib, VIR_DOMAIN_AFFECT_LIVE);
	}
	if (r < 0)
		ret = enf_fail(err, lv_errno(), "libvirt: setting %s of %s to %lld: %s",
			       enf_resource_name(res), t->domain, (long long)s->quantity,
			       last_error());
	virDomainFree(d);
	return ret;
}

static int lv_read(struct enf_instance *inst, enum enf_resource res, const struct enf_target *t,
		   struct enf_setting *out, struct enf_error *err)
{
	struct lv_state *lv = inst->state;
	int ret = 0;
	virDomainPtr d = domain(lv, t, err, &ret);
	if (!d)
		return ret == -ENOENT ? -ENOENT : ret;
	if (res == ENF_BANDWIDTH) {
		virTypedParameterPtr params = NULL;
		int nparams = 0;
		unsigned avg = 0;
		if (!t->vif ||
		    virDomainGetInterfaceParameters(d, t->vif, NULL, &nparams,
						    VIR_DOMAIN_AFFECT_LIVE) < 0 ||
		    !(params = calloc((size_t)nparams, sizeof(*params))) ||
		    virDomainGetInterfaceParameters(d, t->vif, params, &nparams,
						    VIR_DOMAIN_AFFECT_LIVE) < 0) {
			ret = enf_fail(err, lv_errno(), "libvirt: reading %s's interface %s: %s",
				       t->domain, t->vif ? t->vif : "(none)", last_error());
		} else if (virTypedParamsGetUInt(params, nparams, VIR_DOMAIN_BANDWIDTH_OUT_AVERAGE,
						 &avg) != 1 || avg == 0) {
			ret = -ENOENT;
		} else {
			out->quantity = (avg + 62) / 125; /* KB/s -> Mbit/s, nearest: 1 KB/s is 0 */
		}
		if (params)
			virTypedParamsClear(params, nparams);
		free(params);
	} else if (res == ENF_CORES) {
		int n = virDomainGetVcpusFlags(d, VIR_DOMAIN_AFFECT_LIVE);
		if (n < 0)
			ret = enf_fail(err, lv_errno(), "libvirt: vCPUs of %s: %s", t->domain,
				       last_error());
		else
			out->quantity = n; /* vCPUs are not host CPUs: cpus stays empty */
	} else {
		virDomainInfo info;
		if (virDomainGetInfo(d, &info) < 0)
			ret = enf_fail(err, lv_errno(), "libvirt: info of %s: %s", t->domain,
				       last_error());
		else
			out->quantity = info.memory == lv->floor_kib ? 0 : (int64_t)(info.memory / 1024);
	}
	virDomainFree(d);
	return ret;
}

/* Reverting: no bandwidth limit (average 0), vCPUs and memory back to the domain's maximum. */
static int lv_revert(struct enf_instance *inst, enum enf_resource res, const struct enf_target *t,
		     struct enf_error *err)
{
	struct lv_state *lv = inst->state;
	int ret = 0;
	virDomainPtr d = domain(lv, t, err, &ret);
	if (!d)
		return ret == -ENOENT ? 0 : ret;
	int r = 0;
	if (res == ENF_BANDWIDTH && t->vif) {
		virTypedParameterPtr params = NULL;
		int nparams = 0, maxparams = 0;
		r = virTypedParamsAddUInt(&params, &nparams, &maxparams,
					  VIR_DOMAIN_BANDWIDTH_OUT_AVERAGE, 0);
		if (r == 0)
			r = virDomainSetInterfaceParameters(d, t->vif, params, nparams,
							    VIR_DOMAIN_AFFECT_LIVE);
		virTypedParamsFree(params, nparams);
	} else if (res == ENF_CORES) {
		int max = virDomainGetMaxVcpus(d);
		r = max > 0 ? virDomainSetVcpusFlags(d, (unsigned)max, VIR_DOMAIN_AFFECT_LIVE) : -1;
	} else if (res == ENF_MEMORY) {
		unsigned long max = virDomainGetMaxMemory(d);
		r = max ? virDomainSetMemoryFlags(d, max, VIR_DOMAIN_AFFECT_LIVE) : -1;
	}
	if (r < 0)
		ret = enf_fail(err, lv_errno(), "libvirt: reverting %s of %s: %s",
			       enf_resource_name(res), t->domain, last_error());
	virDomainFree(d);
	return ret;
}

static int lv_meter(struct enf_instance *inst, enum enf_resource res,
		    const struct enf_target *targets, size_t n, struct enf_meter *out,
		    struct enf_error *err)
{
	struct lv_state *lv = inst->state;
	for (size_t i = 0; i < n; i++) {
		virDomainPtr d = virDomainLookupByName(lv->conn, targets[i].domain);
		if (!d)
			continue;
		if (res == ENF_BANDWIDTH && targets[i].vif) {
			virDomainInterfaceStatsStruct st;
			if (virDomainInterfaceStats(d, targets[i].vif, &st, sizeof(st)) == 0 &&
			    st.tx_bytes >= 0) {
				out[i].has_tx = true;
				out[i].tx_bytes = (uint64_t)st.tx_bytes;
			}
		} else if (res == ENF_CORES) {
			virDomainInfo info;
			if (virDomainGetInfo(d, &info) == 0) {
				out[i].has_cpu = true;
				out[i].cpu_ns = info.cpuTime;
			}
		}
		virDomainFree(d);
	}
	return 0;
}

const struct enf_backend enf_backend_libvirt = {
	.api_version = ENF_API_VERSION,
	.size = sizeof(struct enf_backend),
	.name = "libvirt",
	.summary = "VMs: interface bandwidth (KB/s), live vCPUs, balloon (KiB) via libvirt",
	.resources = ENF_RES_BIT(ENF_BANDWIDTH) | ENF_RES_BIT(ENF_CORES) | ENF_RES_BIT(ENF_MEMORY),
	.config_keys = libvirt_keys,
	.nconfig_keys = sizeof(libvirt_keys) / sizeof(libvirt_keys[0]),
	.create = lv_create,
	.destroy = lv_destroy,
	.probe = lv_probe,
	.apply = lv_apply,
	.read = lv_read,
	.revert = lv_revert,
	.meter = lv_meter,
};
