/* vm_config.c: the config drive's schema and its checks (vm_config.h). */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "common/config.h"
#include "common/error.h"
#include "common/transport.h"
#include "vm_config.h"

static const struct cfg_key schema[] = {
	{"vm", "name", CFG_STRING, NULL, "the nom instance's name (its board, its hostname)"},
	{"vm", "tenant", CFG_STRING, NULL, "the tenant the VM belongs to"},
	{"vm", "address", CFG_STRING, NULL, "eth0's address, CIDR (10.0.0.2/24)"},
	{"vm", "gateway", CFG_STRING, "", "the default route"},
	{"vm", "host", CFG_STRING, "", "the host the VM runs on (its market host name)"},
	{"vm", "market", CFG_STRING, NULL, "the market's tenant API (tcp://...)"},
	{"vm", "prices", CFG_STRING, NULL, "the market's price feed (tcp://...)"},
	{"vm", "subscribe", CFG_STRING, "", "prices nom-priced follows (bandwidth/h1 ...)"},
	{"vm", "market_key", CFG_STRING, NULL, "the market's CURVE public key, z85"},
	{"vm", "tenant_public", CFG_STRING, NULL, "the tenant's CURVE public key, z85"},
	{"vm", "tenant_secret", CFG_STRING, NULL, "the tenant's CURVE secret key, z85"},
	{"app.*", "run", CFG_STRING, NULL, "an app's command line"},
	{"app.*", "run2", CFG_STRING, "", "more of it (an INI line holds at most 198 characters)"},
	{"app.*", "run3", CFG_STRING, "", "more of it"},
	{"app.*", "run4", CFG_STRING, "", "more of it"},
};

static int copy(const struct cfg *c, const char *section, const char *key, char *dst,
		size_t len, struct cfg_error *err)
{
	const char *v;
	int r = cfg_get_string(c, section, key, &v, err);
	if (r)
		return r;
	if (strlen(v) >= len)
		return cfg_error_at(c, section, key, err, "longer than %zu bytes", len - 1);
	snprintf(dst, len, "%s", v);
	return 0;
}

static int copy_key(const struct cfg *c, const char *key, char dst[41], struct cfg_error *err)
{
	int r = copy(c, "vm", key, dst, 41, err);
	if (!r && !tp_key_valid(dst))
		r = cfg_error_at(c, "vm", key, err, "not a CURVE key (40 z85 characters)");
	return r;
}

int vm_config_parse(const char *name, const char *text, struct vm_config *out, char *why,
		    size_t why_len)
{
	struct cfg *c;
	struct cfg_error err = {0};
	memset(out, 0, sizeof(*out));
	int r = cfg_create(schema, sizeof(schema) / sizeof(schema[0]), &c);
	if (r) {
		snprintf(why, why_len, "%s", raas_strerror(r));
		return r;
	}
	r = cfg_load_string(c, name, text, &err);
	if (!r)
		r = copy(c, "vm", "name", out->name, sizeof(out->name), &err);
	if (!r)
		r = copy(c, "vm", "tenant", out->tenant, sizeof(out->tenant), &err);
	if (!r)
		r = copy(c, "vm", "address", out->address, sizeof(out->address), &err);
	if (!r && !strchr(out->address, '/'))
		r = cfg_error_at(c, "vm", "address", &err, "'%s' is not CIDR (10.0.0.2/24)",
				 out->address);
	if (!r)
		r = copy(c, "vm", "gateway", out->gateway, sizeof(out->gateway), &err);
	if (!r)
		r = copy(c, "vm", "host", out->host, sizeof(out->host), &err);
	if (!r)
		r = copy(c, "vm", "market", out->market, sizeof(out->market), &err);
	if (!r)
		r = copy(c, "vm", "prices", out->prices, sizeof(out->prices), &err);
	if (!r)
		r = copy(c, "vm", "subscribe", out->subscribe, sizeof(out->subscribe), &err);
	if (!r)
		r = copy_key(c, "market_key", out->market_key, &err);
	if (!r)
		r = copy_key(c, "tenant_public", out->tenant_public, &err);
	if (!r)
		r = copy_key(c, "tenant_secret", out->tenant_secret, &err);
	if (!r) {
		struct tp_keypair kp;
		char text2[256], kwhy[256];
		snprintf(text2, sizeof(text2), "public = %s\nsecret = %s\n", out->tenant_public,
			 out->tenant_secret);
		if (tp_key_parse(text2, strlen(text2), name, true, &kp, kwhy, sizeof(kwhy)) != 0)
			r = cfg_error_at(c, "vm", "tenant_secret", &err, "%s", kwhy);
	}
	const char *apps[VM_MAX_APPS + 1];
	size_t n = r ? 0 : cfg_sections(c, "app.*", apps, VM_MAX_APPS + 1);
	if (n > VM_MAX_APPS) {
		snprintf(why, why_len, "%s: more than %d [app.*] sections", name, VM_MAX_APPS);
		cfg_destroy(c);
		return -RAAS_ECONFIG;
	}
	for (size_t i = 0; !r && i < n; i++) {
		snprintf(out->apps[i].name, sizeof(out->apps[i].name), "%s", apps[i] + 4);
		r = copy(c, apps[i], "run", out->apps[i].run, sizeof(out->apps[i].run), &err);
		static const char *const more[] = {"run2", "run3", "run4"};
		for (int k = 0; !r && k < 3; k++) {
			const char *v = cfg_get(c, apps[i], more[k]);
			size_t used = strlen(out->apps[i].run);
			if (!v || !*v)
				continue;
			if (used + 1 + strlen(v) >= sizeof(out->apps[i].run))
				r = cfg_error_at(c, apps[i], more[k], &err, "the command line is over %zu bytes",
						 sizeof(out->apps[i].run) - 1);
			else
				snprintf(out->apps[i].run + used, sizeof(out->apps[i].run) - used, " %s", v);
		}
		out->napps++;
	}
	if (r)
		cfg_error_format(&err, why, why_len);
	cfg_destroy(c);
	return r;
}
