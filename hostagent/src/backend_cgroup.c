/* backend_cgroup.c: cores and memory enforcement with cgroups, v1 or v2 (found at run time).
 *
 * Each tenant has a group <parent>/<cgroup> ([cgroup] parent, [tenant.NAME] cgroup). With
 * cgroup v1 the group exists once per hierarchy: <root>/cpuset/..., <root>/memory/...,
 * <root>/cpuacct/... (each parent can be overridden, e.g. to nest under the caller's own
 * memory cgroup); with v2 it is one directory <root>/<parent>/<cgroup> and the cpuset and
 * memory controllers are enabled in every ancestor's cgroup.subtree_control. Cores become
 * cpuset.cpus (the CPU list the agent placed; new v1 cpusets first inherit cpus and mems
 * from their parent, as the kernel requires before tasks can join); memory becomes
 * memory.limit_in_bytes (v1) or memory.max (v2) in bytes; a tenant holding 0 MiB gets
 * [cgroup] memory_floor_mib. Read-back parses the same files; "unlimited" reads as nothing
 * enforced. Meters: CPU time from cpuacct.usage (v1) or cpu.stat usage_usec (v2). The agent
 * never moves processes: the tenant's launcher puts them in the groups. */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "common/error.h"
#include "hostagent/enf.h"
#include "textfile.h"

static const struct cfg_key cgroup_keys[] = {
	{"cgroup", "root", CFG_STRING, "/sys/fs/cgroup", "where the cgroup hierarchies are mounted"},
	{"cgroup", "version", CFG_STRING, "auto", "auto, v1 or v2"},
	{"cgroup", "parent", CFG_STRING, "raas", "group holding the tenants' groups"},
	{"cgroup", "cpuset_parent", CFG_STRING, NULL, "v1: parent in the cpuset hierarchy"},
	{"cgroup", "memory_parent", CFG_STRING, NULL, "v1: parent in the memory hierarchy"},
	{"cgroup", "cpuacct_parent", CFG_STRING, NULL, "v1: parent in the cpuacct hierarchy"},
	{"cgroup", "memory_floor_mib", CFG_INT, "64", "memory limit of a tenant holding 0 MiB"},
};

#define MIB (UINT64_C(1) << 20)
#define UNLIMITED_V1 (UINT64_C(1) << 62) /* v1 reports PAGE_COUNTER_MAX pages: above this */

enum cg_version { CG_V1 = 1, CG_V2 = 2 };

struct cg_state {
	enum cg_version version;
	char root[256];
	char dir[3][512]; /* v1: cpuset, memory, cpuacct parents; v2: dir[0] only */
	uint64_t floor_bytes;
};

enum { CG_CPUSET, CG_MEMORY, CG_CPUACCT };
static const char *const v1_name[] = {"cpuset", "memory", "cpuacct"};

static bool exists(const char *path)
{
	struct stat st;
	return stat(path, &st) == 0;
}

/* The tenant's directory for controller k. */
static void tenant_dir(const struct cg_state *cg, int k, const struct enf_target *t,
		       char *out, size_t len)
{
	snprintf(out, len, "%s/%s", cg->dir[cg->version == CG_V2 ? 0 : k], t->cgroup);
}

static int cg_create(const struct cfg *cfg, const struct enf_target *targets, size_t n,
		     struct enf_instance *inst, struct enf_error *err)
{
	struct cg_state *cg = calloc(1, sizeof(*cg));
	const char *root = "/sys/fs/cgroup", *version = "auto", *parent = "raas", *v;
	int64_t floor = 64;
	char path[600];

	if (!cg)
		return enf_fail(err, -ENOMEM, "out of memory");
	if (cfg) {
		struct cfg_error ce;
		root = cfg_get(cfg, "cgroup", "root");
		version = cfg_get(cfg, "cgroup", "version");
		parent = cfg_get(cfg, "cgroup", "parent");
		if (cfg_get_int(cfg, "cgroup", "memory_floor_mib", &floor, &ce) || floor < 1) {
			free(cg);
			return enf_fail(err, -RAAS_ECONFIG, "cgroup: memory_floor_mib must be >= 1");
		}
	}
	cg->floor_bytes = (uint64_t)floor * MIB;
	snprintf(cg->root, sizeof(cg->root), "%s", root);
	snprintf(path, sizeof(path), "%s/cgroup.controllers", root);
	if (strcmp(version, "v2") == 0 || (strcmp(version, "auto") == 0 && exists(path))) {
		cg->version = CG_V2;
	} else if (strcmp(version, "v1") == 0 || strcmp(version, "auto") == 0) {
		cg->version = CG_V1;
	} else {
		free(cg);
		return enf_fail(err, -RAAS_ECONFIG, "cgroup: version \"%s\" is not auto, v1 or v2",
				version);
	}
	static const char *const keys[] = {"cpuset_parent", "memory_parent", "cpuacct_parent"};
	for (int k = 0; k < 3; k++) {
		const char *p = parent;
		if (cfg && (v = cfg_get(cfg, "cgroup", keys[k])))
			p = v;
		if (cg->version == CG_V2)
			snprintf(cg->dir[k], sizeof(cg->dir[k]), "%s/%s", root, parent);
		else
			snprintf(cg->dir[k], sizeof(cg->dir[k]), "%s/%s/%s", root, v1_name[k], p);
	}
	for (size_t i = 0; i < n; i++) {
		const char *g = targets[i].cgroup;
		if (!g || !g[0] || g[0] == '/' || strstr(g, "..")) {
			free(cg);
			return enf_fail(err, -RAAS_ECONFIG, "cgroup: tenant %s: bad cgroup path \"%s\"",
					targets[i].tenant, g ? g : "");
		}
	}
	inst->state = cg;
	return 0;
}

static void cg_destroy(struct enf_instance *inst)
{
	struct cg_state *cg = inst->state;
	free(cg);
}

static int cg_probe(struct enf_instance *inst, enum enf_resource res, struct enf_error *err)
{
	struct cg_state *cg = inst->state;
	char path[600], buf[512];
	const char *ctrl = res == ENF_CORES ? "cpuset" : "memory";

	if (cg->version == CG_V2) {
		snprintf(path, sizeof(path), "%s/cgroup.controllers", cg->root);
		if (ha_read_text(path, buf, sizeof(buf)) < 0)
			return enf_fail(err, -ENOTSUP, "cgroup: %s unreadable", path);
		for (char *save, *tok = strtok_r(buf, " \n", &save); tok;
		     tok = strtok_r(NULL, " \n", &save))
			if (strcmp(tok, ctrl) == 0)
				return 0;
		return enf_fail(err, -ENOTSUP, "cgroup v2 at %s has no %s controller", cg->root,
				ctrl);
	}
	snprintf(path, sizeof(path), "%s/%s/%s", cg->root, ctrl,
		 res == ENF_CORES ? "cpuset.cpus" : "memory.limit_in_bytes");
	if (!exists(path))
		return enf_fail(err, -ENOTSUP, "cgroup v1: no %s hierarchy (%s missing)", ctrl,
				path);
	return 0;
}

/* Copies cpuset.cpus and cpuset.mems from the parent of dir into dir (a new v1 cpuset
 * starts empty, and tasks cannot join it before both are set). */
static int inherit_cpuset(const char *dir)
{
	static const char *const files[] = {"cpuset.cpus", "cpuset.mems"};
	char parent[600], from[700], to[700], buf[4096];

	snprintf(parent, sizeof(parent), "%s", dir);
	*strrchr(parent, '/') = '\0';
	for (int f = 0; f < 2; f++) {
		snprintf(from, sizeof(from), "%s/%s", parent, files[f]);
		snprintf(to, sizeof(to), "%s/%s", dir, files[f]);
		int ret = ha_read_text(from, buf, sizeof(buf));
		if (ret < 0)
			return ret;
		if (buf[0] && buf[0] != '\n' && (ret = ha_write_text(to, buf)) < 0)
			return ret;
	}
	return 0;
}

/* mkdir -p of dir below root. v1 cpuset levels inherit cpus and mems; with v2, every
 * ancestor gets the cpuset, memory and cpu controllers enabled for its children. */
static int make_path(const char *root, const char *dir, bool v1_cpuset, bool v2)
{
	char path[600], ctl[700];
	size_t rootlen = strlen(root);

	snprintf(path, sizeof(path), "%s", dir);
	for (char *p = path + rootlen;; p++) {
		if (*p != '/' && *p != '\0')
			continue;
		char save = *p;
		*p = '\0';
		if (p > path + rootlen) {
			bool made = mkdir(path, 0755) == 0;
			if (!made && errno != EEXIST)
				return -errno;
			if (made && v1_cpuset) {
				int ret = inherit_cpuset(path);
				if (ret)
					return ret;
			}
		}
		if (v2 && save == '/') {
			/* Each separately: one already on or absent is not fatal here; the
			 * write of the limit itself reports what is missing. */
			snprintf(ctl, sizeof(ctl), "%s/cgroup.subtree_control", path);
			ha_write_text(ctl, "+cpuset");
			ha_write_text(ctl, "+memory");
			ha_write_text(ctl, "+cpu");
		}
		*p = save;
		if (!save)
			return 0;
	}
}

static int ensure_dir(struct cg_state *cg, int k, const struct enf_target *t, char *dir,
		      size_t len, struct enf_error *err)
{
	tenant_dir(cg, k, t, dir, len);
	if (exists(dir))
		return 0;
	int ret;
	if (cg->version == CG_V2) {
		ret = make_path(cg->root, dir, false, true);
	} else {
		char root[400];
		snprintf(root, sizeof(root), "%s/%s", cg->root, v1_name[k]);
		ret = make_path(root, dir, k == CG_CPUSET, false);
	}
	if (ret)
		return enf_fail(err, ret, "cgroup: creating %s for %s: %s", dir, t->tenant,
				strerror(-ret));
	return 0;
}

static int cg_apply(struct enf_instance *inst, enum enf_resource res, const struct enf_target *t,
		    const struct enf_setting *s, struct enf_error *err)
{
	struct cg_state *cg = inst->state;
	char dir[700], path[900], text[4096];
	int k = res == ENF_CORES ? CG_CPUSET : CG_MEMORY;
	int ret = ensure_dir(cg, k, t, dir, sizeof(dir), err);

	if (ret)
		return ret;
	if (res == ENF_CORES) {
		enf_cpuset_format(&s->cpus, text, sizeof(text));
		snprintf(path, sizeof(path), "%s/cpuset.cpus", dir);
		/* v1 also wants mems before tasks can join; inherited at creation. */
		if (cg->version == CG_V1 && cg->dir[CG_CPUACCT][0]) {
			char acct[700];
			ensure_dir(cg, CG_CPUACCT, t, acct, sizeof(acct), err);
		}
	} else {
		uint64_t bytes = s->quantity > 0 ? (uint64_t)s->quantity * MIB : cg->floor_bytes;
		snprintf(text, sizeof(text), "%" PRIu64, bytes);
		snprintf(path, sizeof(path), "%s/%s", dir,
			 cg->version == CG_V2 ? "memory.max" : "memory.limit_in_bytes");
	}
	ret = ha_write_text(path, text);
	if (ret)
		return enf_fail(err, ret, "cgroup: writing %s to %s for %s: %s", text, path,
				t->tenant, strerror(-ret));
	return 0;
}

static int cg_read(struct enf_instance *inst, enum enf_resource res, const struct enf_target *t,
		   struct enf_setting *out, struct enf_error *err)
{
	struct cg_state *cg = inst->state;
	char dir[700], path[900], text[4096];
	int k = res == ENF_CORES ? CG_CPUSET : CG_MEMORY;

	tenant_dir(cg, k, t, dir, sizeof(dir));
	if (res == ENF_CORES)
		snprintf(path, sizeof(path), "%s/cpuset.cpus", dir);
	else
		snprintf(path, sizeof(path), "%s/%s", dir,
			 cg->version == CG_V2 ? "memory.max" : "memory.limit_in_bytes");
	int ret = ha_read_text(path, text, sizeof(text));
	if (ret == -ENOENT)
		return -ENOENT;
	if (ret < 0)
		return enf_fail(err, ret, "cgroup: reading %s: %s", path, strerror(-ret));
	if (res == ENF_CORES) {
		if (enf_cpuset_parse(text, &out->cpus))
			return enf_fail(err, -EPROTO, "cgroup: %s holds \"%s\"", path, text);
		out->quantity = enf_cpuset_count(&out->cpus);
		return out->quantity ? 0 : -ENOENT;
	}
	if (strncmp(text, "max", 3) == 0)
		return -ENOENT;
	uint64_t bytes = strtoull(text, NULL, 10);
	if (bytes >= UNLIMITED_V1)
		return -ENOENT;
	out->quantity = bytes == cg->floor_bytes ? 0 : (int64_t)(bytes / MIB);
	return 0;
}

static int cg_revert(struct enf_instance *inst, enum enf_resource res, const struct enf_target *t,
		     struct enf_error *err)
{
	struct cg_state *cg = inst->state;
	char dir[700], path[900], text[4096];
	int k = res == ENF_CORES ? CG_CPUSET : CG_MEMORY;

	tenant_dir(cg, k, t, dir, sizeof(dir));
	if (!exists(dir))
		return 0;
	if (res == ENF_CORES) {
		/* Back to everything the parent may use. */
		char parent[700];
		snprintf(parent, sizeof(parent), "%s", dir);
		*strrchr(parent, '/') = '\0';
		snprintf(path, sizeof(path), "%s/%s", parent,
			 cg->version == CG_V2 ? "cpuset.cpus.effective" : "cpuset.cpus");
		int ret = ha_read_text(path, text, sizeof(text));
		if (ret < 0)
			return enf_fail(err, ret, "cgroup: reading %s: %s", path, strerror(-ret));
		snprintf(path, sizeof(path), "%s/cpuset.cpus", dir);
	} else {
		snprintf(text, sizeof(text), "%s", cg->version == CG_V2 ? "max" : "-1");
		snprintf(path, sizeof(path), "%s/%s", dir,
			 cg->version == CG_V2 ? "memory.max" : "memory.limit_in_bytes");
	}
	int ret = ha_write_text(path, text);
	if (ret)
		return enf_fail(err, ret, "cgroup: writing %s: %s", path, strerror(-ret));
	return 0;
}

static int cg_meter(struct enf_instance *inst, enum enf_resource res,
		    const struct enf_target *targets, size_t n, struct enf_meter *out,
		    struct enf_error *err)
{
	struct cg_state *cg = inst->state;
	char dir[700], path[900], text[4096];

	if (res != ENF_CORES)
		return 0;
	for (size_t i = 0; i < n; i++) {
		tenant_dir(cg, CG_CPUACCT, &targets[i], dir, sizeof(dir));
		if (cg->version == CG_V2) {
			snprintf(path, sizeof(path), "%s/cpu.stat", dir);
			if (ha_read_text(path, text, sizeof(text)) < 0)
				continue;
			char *p = strstr(text, "usage_usec ");
			if (!p)
				continue;
			out[i].cpu_ns = strtoull(p + 11, NULL, 10) * 1000;
		} else {
			snprintf(path, sizeof(path), "%s/cpuacct.usage", dir);
			if (ha_read_text(path, text, sizeof(text)) < 0)
				continue;
			out[i].cpu_ns = strtoull(text, NULL, 10);
		}
		out[i].has_cpu = true;
	}
	return 0;
}

const struct enf_backend enf_backend_cgroup = {
	.api_version = ENF_API_VERSION,
	.size = sizeof(struct enf_backend),
	.name = "cgroup",
	.summary = "cores and memory: cpuset.cpus and memory limits, cgroup v1 or v2",
	.resources = ENF_RES_BIT(ENF_CORES) | ENF_RES_BIT(ENF_MEMORY),
	.config_keys = cgroup_keys,
	.nconfig_keys = sizeof(cgroup_keys) / sizeof(cgroup_keys[0]),
	.create = cg_create,
	.destroy = cg_destroy,
	.probe = cg_probe,
	.apply = cg_apply,
	.read = cg_read,
	.revert = cg_revert,
	.meter = cg_meter,
};
