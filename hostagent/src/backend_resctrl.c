/* backend_resctrl.c: LLC enforcement with Intel RDT cache allocation through resctrl.
 *
 * One resctrl control group per tenant ([tenant.NAME] resctrl_group, default raas-NAME)
 * under [resctrl] root (default /sys/fs/resctrl; tests point it at a temporary tree). Its
 * schemata gets "L3:<id>=<cbm>;..." with the same contiguous capacity bitmask on every L3
 * domain, and is read back from the same file. The masks come from the agent's placement
 * (plan.h): contiguous, within info/L3/cbm_mask, at least info/L3/min_cbm_bits bits. A
 * failed write is explained with info/last_cmd_status. When [resctrl] cgroup_procs is set,
 * the processes of the tenant's cgroup (<cgroup_procs>/<cgroup>/cgroup.procs) are moved into
 * the group at each apply. There are no meters. */
#include <dirent.h>
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

static const struct cfg_key resctrl_keys[] = {
	{"resctrl", "root", CFG_STRING, "/sys/fs/resctrl", "resctrl mount point"},
	{"resctrl", "cache_ids", CFG_STRING, "",
	 "L3 cache ids to program, e.g. \"0,1\" (default: those in the root schemata)"},
	{"resctrl", "cgroup_procs", CFG_STRING, "",
	 "directory whose <cgroup>/cgroup.procs lists each tenant's processes (optional)"},
};

#define RESCTRL_MAX_IDS 64

struct resctrl_state {
	char root[512];
	char cgroup_procs[512];
	int ids[RESCTRL_MAX_IDS];
	size_t nids;
	bool ids_from_config;
};

/* The L3 line of a schemata text: its domain ids and masks. Returns the count or -1. */
static int parse_l3(const char *text, int *ids, uint64_t *masks, size_t max)
{
	const char *line = text;
	while (line && *line) {
		while (*line == ' ' || *line == '\t')
			line++;
		if (strncmp(line, "L3:", 3) == 0)
			break;
		line = strchr(line, '\n');
		if (line)
			line++;
	}
	if (!line || !*line)
		return -1;
	const char *p = line + 3;
	size_t n = 0;
	while (*p && *p != '\n') {
		char *end;
		long id = strtol(p, &end, 10);
		if (end == p || *end != '=' || id < 0)
			return -1;
		p = end + 1;
		uint64_t m = strtoull(p, &end, 16);
		if (end == p)
			return -1;
		p = end;
		if (n < max) {
			ids[n] = (int)id;
			masks[n] = m;
		}
		n++;
		while (*p == ' ')
			p++;
		if (*p == ';')
			p++;
		else if (*p && *p != '\n')
			return -1;
	}
	return (int)n;
}

static int resctrl_create(const struct cfg *cfg, const struct enf_target *targets, size_t n,
			  struct enf_instance *inst, struct enf_error *err)
{
	struct resctrl_state *r = calloc(1, sizeof(*r));
	const char *v;

	if (!r)
		return enf_fail(err, -ENOMEM, "out of memory");
	snprintf(r->root, sizeof(r->root), "%s",
		 cfg && (v = cfg_get(cfg, "resctrl", "root")) ? v : "/sys/fs/resctrl");
	if (cfg && (v = cfg_get(cfg, "resctrl", "cgroup_procs")))
		snprintf(r->cgroup_procs, sizeof(r->cgroup_procs), "%s", v);
	if (cfg && (v = cfg_get(cfg, "resctrl", "cache_ids")) && v[0]) {
		char buf[256];
		snprintf(buf, sizeof(buf), "%s", v);
		for (char *save, *tok = strtok_r(buf, ", ", &save); tok;
		     tok = strtok_r(NULL, ", ", &save)) {
			char *end;
			long id = strtol(tok, &end, 10);
			if (*end || id < 0 || r->nids == RESCTRL_MAX_IDS) {
				free(r);
				return enf_fail(err, -RAAS_ECONFIG,
						"resctrl: cache_ids \"%s\" is not a list of ids", v);
			}
			r->ids[r->nids++] = (int)id;
		}
		r->ids_from_config = true;
	}
	for (size_t i = 0; i < n; i++) {
		const char *g = targets[i].resctrl_group;
		if (!g || !g[0] || strchr(g, '/') || strcmp(g, ".") == 0 || strcmp(g, "..") == 0 ||
		    strcmp(g, "info") == 0 || strcmp(g, "mon_groups") == 0 ||
		    strcmp(g, "mon_data") == 0) {
			free(r);
			return enf_fail(err, -RAAS_ECONFIG, "resctrl: tenant %s: bad group name \"%s\"",
					targets[i].tenant, g ? g : "");
		}
	}
	inst->state = r;
	return 0;
}

static void resctrl_destroy(struct enf_instance *inst)
{
	struct resctrl_state *r = inst->state;
	free(r);
}

static int resctrl_probe(struct enf_instance *inst, enum enf_resource res, struct enf_error *err)
{
	struct resctrl_state *r = inst->state;
	char path[600], buf[4096];
	int ids[RESCTRL_MAX_IDS];
	uint64_t masks[RESCTRL_MAX_IDS];

	snprintf(path, sizeof(path), "%s/info/L3/cbm_mask", r->root);
	if (ha_read_text(path, buf, sizeof(buf)) < 0)
		return enf_fail(err, -ENOTSUP, "resctrl: no L3 allocation at %s (%s unreadable: "
				   "resctrl not mounted, or no CAT on this CPU)", r->root, path);
	snprintf(path, sizeof(path), "%s/schemata", r->root);
	if (ha_read_text(path, buf, sizeof(buf)) < 0)
		return enf_fail(err, -ENOTSUP, "resctrl: %s unreadable", path);
	int n = parse_l3(buf, ids, masks, RESCTRL_MAX_IDS);
	if (n <= 0)
		return enf_fail(err, -ENOTSUP, "resctrl: %s has no L3 line", path);
	if (!r->ids_from_config) {
		r->nids = (size_t)(n < RESCTRL_MAX_IDS ? n : RESCTRL_MAX_IDS);
		memcpy(r->ids, ids, r->nids * sizeof(int));
	}
	return 0;
}

static int info_u64(const struct resctrl_state *r, const char *file, int base, uint64_t *out)
{
	char path[600], buf[64];
	snprintf(path, sizeof(path), "%s/info/L3/%s", r->root, file);
	if (ha_read_text(path, buf, sizeof(buf)) < 0)
		return -1;
	*out = strtoull(buf, NULL, base);
	return 0;
}

static void last_status(const struct resctrl_state *r, char *buf, size_t len)
{
	char path[600];
	snprintf(path, sizeof(path), "%s/info/last_cmd_status", r->root);
	if (ha_read_text(path, buf, len) < 0)
		snprintf(buf, len, "no last_cmd_status");
	buf[strcspn(buf, "\n")] = '\0';
}

static void move_tasks(struct resctrl_state *r, const struct enf_target *t, const char *dir)
{
	char path[1200], tasks[700], *buf;
	if (!r->cgroup_procs[0] || !t->cgroup)
		return;
	snprintf(path, sizeof(path), "%s/%s/cgroup.procs", r->cgroup_procs, t->cgroup);
	snprintf(tasks, sizeof(tasks), "%s/tasks", dir);
	FILE *in = fopen(path, "r");
	if (!in || !(buf = malloc(32))) {
		if (in)
			fclose(in);
		return;
	}
	while (fgets(buf, 32, in))
		ha_write_text(tasks, buf); /* best effort: a process may have exited */
	free(buf);
	fclose(in);
}

static int resctrl_apply(struct enf_instance *inst, enum enf_resource res,
			 const struct enf_target *t,
			 const struct enf_setting *s, struct enf_error *err)
{
	struct resctrl_state *r = inst->state;
	char dir[600], path[700], line[64 + RESCTRL_MAX_IDS * 24];
	uint64_t cbm_mask, min_bits;
	size_t used;

	if (!r->nids && resctrl_probe(inst, res, err))
		return -ENOTSUP;
	if (info_u64(r, "cbm_mask", 16, &cbm_mask) == 0 && (s->cbm & ~cbm_mask))
		return enf_fail(err, -EINVAL, "resctrl: mask %" PRIx64 " for %s is outside "
				   "cbm_mask %" PRIx64, s->cbm, t->tenant, cbm_mask);
	if (info_u64(r, "min_cbm_bits", 10, &min_bits) == 0 &&
	    (uint64_t)__builtin_popcountll(s->cbm) < min_bits)
		return enf_fail(err, -EINVAL, "resctrl: mask %" PRIx64 " for %s has fewer than "
				   "min_cbm_bits %" PRIu64, s->cbm, t->tenant, min_bits);
	snprintf(dir, sizeof(dir), "%s/%s", r->root, t->resctrl_group);
	if (mkdir(dir, 0755) < 0 && errno != EEXIST)
		return enf_fail(err, -errno, "resctrl: creating %s for %s: %s", dir, t->tenant,
				strerror(errno));
	used = (size_t)snprintf(line, sizeof(line), "L3:");
	for (size_t i = 0; i < r->nids; i++)
		used += (size_t)snprintf(line + used, sizeof(line) - used, "%s%d=%" PRIx64,
					 i ? ";" : "", r->ids[i], s->cbm);
	snprintf(line + used, sizeof(line) - used, "\n");
	snprintf(path, sizeof(path), "%s/schemata", dir);
	int ret = ha_write_text(path, line);
	if (ret) {
		char status[256];
		last_status(r, status, sizeof(status));
		return enf_fail(err, ret, "resctrl: writing \"%.*s\" to %s: %s (%s)",
				(int)strcspn(line, "\n"), line, path, strerror(-ret), status);
	}
	move_tasks(r, t, dir);
	return 0;
}

static int resctrl_read(struct enf_instance *inst, enum enf_resource res,
			const struct enf_target *t,
			struct enf_setting *out, struct enf_error *err)
{
	struct resctrl_state *r = inst->state;
	char path[700], buf[4096];
	int ids[RESCTRL_MAX_IDS];
	uint64_t masks[RESCTRL_MAX_IDS];

	snprintf(path, sizeof(path), "%s/%s/schemata", r->root, t->resctrl_group);
	int ret = ha_read_text(path, buf, sizeof(buf));
	if (ret == -ENOENT)
		return -ENOENT;
	if (ret < 0)
		return enf_fail(err, ret, "resctrl: reading %s: %s", path, strerror(-ret));
	int n = parse_l3(buf, ids, masks, RESCTRL_MAX_IDS);
	if (n <= 0)
		return -ENOENT;
	for (int i = 1; i < n && i < RESCTRL_MAX_IDS; i++)
		if (masks[i] != masks[0])
			return -ENOENT; /* not a layout the agent writes: apply it again */
	if (!enf_cbm_contiguous(masks[0]))
		return enf_fail(err, -EPROTO, "resctrl: %s holds non-contiguous mask %" PRIx64,
				path, masks[0]);
	out->cbm = masks[0];
	out->quantity = __builtin_popcountll(masks[0]);
	return 0;
}

static int resctrl_revert(struct enf_instance *inst, enum enf_resource res,
			  const struct enf_target *t, struct enf_error *err)
{
	struct resctrl_state *r = inst->state;
	char dir[600];

	snprintf(dir, sizeof(dir), "%s/%s", r->root, t->resctrl_group);
	if (rmdir(dir) == 0 || errno == ENOENT)
		return 0;
	if (errno == ENOTEMPTY || errno == EEXIST) {
		/* A plain directory (a test tree): remove the files we wrote, then it. */
		DIR *d = opendir(dir);
		struct dirent *de;
		while (d && (de = readdir(d))) {
			if (de->d_name[0] == '.')
				continue;
			char path[900];
			snprintf(path, sizeof(path), "%s/%s", dir, de->d_name);
			unlink(path);
		}
		if (d)
			closedir(d);
		if (rmdir(dir) == 0)
			return 0;
	}
	return enf_fail(err, -errno, "resctrl: removing %s: %s", dir, strerror(errno));
}

const struct enf_backend enf_backend_resctrl = {
	.api_version = ENF_API_VERSION,
	.size = sizeof(struct enf_backend),
	.name = "resctrl",
	.summary = "LLC: one resctrl group per tenant, L3 schemata capacity bitmasks",
	.resources = ENF_RES_BIT(ENF_LLC),
	.config_keys = resctrl_keys,
	.nconfig_keys = sizeof(resctrl_keys) / sizeof(resctrl_keys[0]),
	.create = resctrl_create,
	.destroy = resctrl_destroy,
	.probe = resctrl_probe,
	.apply = resctrl_apply,
	.read = resctrl_read,
	.revert = resctrl_revert,
	.meter = NULL,
};
