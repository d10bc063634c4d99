/* tb_config.c: the testbed file's schema, and the checks that run before anything starts.
 *
 * The common config reader (common/config.h) refuses unknown keys with their line; this file
 * adds what only the testbed knows: names that become namespace and file names, the
 * hosts that tenants and events point to, load generators that fit the app, phases, join and
 * leave times inside the run. Every error is reported at the value's origin. */
#include <ctype.h>
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "common/error.h"
#include "pricing/pm.h"
#include "testbed/testbed.h"

#define F(field) CFG_FIELD(struct testbed, field)
#define SEC INT64_C(1000000000)
/* Every key once. [testbed] and [market] are fixed and bound by table (type, default, range and
 * help written once, loaded by cfg_bind_load); the per-name sections ([resource.*], [host.*],
 * [tenant.*], [event.*]) are dynamic, so they are CFG_UNBOUND here and read by the chains below
 * with the cross-checks (hosts named, loads that fit the app) only this file knows. */
static const struct cfg_bind tb_binds[] = {
	{"testbed", "name", CFG_STRING, F(name), NULL, CFG_ANY,
	 "1-8 of a-z 0-9: names its namespaces, cgroups, boards and files tb-NAME-..."},
	{"testbed", "net", CFG_INT, F(net), "213", 1, 254,
	 "the testbed's addresses are 10.NET.0.0/16 (1-254)"},
	{"testbed", "duration", CFG_DURATION, F(duration_ns), "20s", SEC, 24 * 3600 * SEC,
	 "length of `raas testbed run`"},
	{"testbed", "startup_timeout", CFG_DURATION, F(startup_timeout_ns), "60s", SEC, INT64_MAX,
	 "longest wait for every component's ready file"},
	{"testbed", "seed", CFG_INT, F(seed), "1", CFG_ANY,
	 "the run's seed (recorded; load generators' keys)"},
	{"testbed", "profile", CFG_STRING, F(profile), "sim/scenarios/profiles/nom-thesis.csv",
	 CFG_ANY, "the apps' working points (docs/profiles.md), relative to the file's folder's "
		  "project"},
	{"market", "round", CFG_DURATION, F(round_ns), "500ms", SEC / 100, 3600 * SEC,
	 "round length"},
	{"resource.*", "model", CFG_STRING, CFG_UNBOUND, NULL, CFG_ANY,
	 "the pricing model of this resource's pools"},
	{"resource.*", "params", CFG_STRING, CFG_UNBOUND, "", CFG_ANY,
	 "the model's parameters, as the market takes them"},
	{"host.*", "kind", CFG_STRING, CFG_UNBOUND, "emulated", CFG_ANY,
	 "emulated (on this machine) or remote"},
	{"host.*", "bandwidth_mbit", CFG_INT, CFG_UNBOUND, "0", CFG_ANY,
	 "uplink bandwidth sold, Mbit/s"},
	{"host.*", "cores", CFG_INT, CFG_UNBOUND, "0", CFG_ANY,
	 "cores sold (CPUs 0..cores-1, enforced as the tenants' cpusets); 0: none"},
	{"host.*", "memory_mib", CFG_INT, CFG_UNBOUND, "0", CFG_ANY,
	 "memory sold, MiB (enforced as the tenants' memory cgroup limits); 0: none"},
	{"host.*", "key", CFG_STRING, CFG_UNBOUND, "", CFG_ANY,
	 "remote: the host agent's public key file (.pub)"},
	{"tenant.*", "host", CFG_STRING, CFG_UNBOUND, NULL, CFG_ANY,
	 "the host its instance runs on"},
	{"tenant.*", "budget", CFG_STRING, CFG_UNBOUND, "unlimited", CFG_ANY,
	 "the most it may be charged ($X)"},
	{"tenant.*", "instance", CFG_STRING, CFG_UNBOUND, "process", CFG_ANY,
	 "process, or vm (a nom VM its host's agent boots; joins at 0s)"},
	{"tenant.*", "vm_type", CFG_STRING, CFG_UNBOUND, "auto", CFG_ANY,
	 "vm: auto (kvm with /dev/kvm), kvm or qemu"},
	{"tenant.*", "app", CFG_STRING, CFG_UNBOUND, NULL, CFG_ANY, "memcached, nhttpd or netpipe"},
	{"tenant.*", "utility", CFG_STRING, CFG_UNBOUND, "refund", CFG_ANY,
	 "penalty, refund or bonus"},
	{"tenant.*", "alpha", CFG_DOUBLE, CFG_UNBOUND, NULL, CFG_ANY,
	 "utility: alpha (docs/economics.md)"},
	{"tenant.*", "beta", CFG_DOUBLE, CFG_UNBOUND, NULL, CFG_ANY, "utility: beta"},
	{"tenant.*", "gamma", CFG_DOUBLE, CFG_UNBOUND, NULL, CFG_ANY, "utility: gamma"},
	{"tenant.*", "delta", CFG_DOUBLE, CFG_UNBOUND, NULL, CFG_ANY, "utility: delta"},
	{"tenant.*", "x", CFG_DOUBLE, CFG_UNBOUND, NULL, CFG_ANY, "utility: x"},
	{"tenant.*", "l0", CFG_DOUBLE, CFG_UNBOUND, NULL, CFG_ANY, "utility: l0"},
	{"tenant.*", "strategy", CFG_STRING, CFG_UNBOUND, "adaptive", CFG_ANY,
	 "adaptive, static-tpt, static-lat (the profile's best throughput or latency), static "
	 "(with delay_us) or price-unaware"},
	{"tenant.*", "delay_us", CFG_INT, CFG_UNBOUND, NULL, CFG_ANY,
	 "static, price-unaware: the fixed batching delay W, 0-1000 us"},
	{"tenant.*", "stack", CFG_STRING, CFG_UNBOUND, "nomnet", CFG_ANY,
	 "nomnet, or kernel (price-unaware only)"},
	{"tenant.*", "load", CFG_STRING, CFG_UNBOUND, "nom-loadgen", CFG_ANY,
	 "nom-loadgen, memcaslap (memcached), wrk (nhttpd) or NPtcp (netpipe)"},
	{"tenant.*", "phases", CFG_STRING, CFG_UNBOUND, "20s:16", CFG_ANY,
	 "load phases DURATION:CONNECTIONS, comma-separated (\"10s:16, 10s:1\")"},
	{"tenant.*", "cores", CFG_INT, CFG_UNBOUND, "0", CFG_ANY,
	 "a standing bid for up to this many of its host's cores (0: none)"},
	{"tenant.*", "cores_min", CFG_INT, CFG_UNBOUND, "1", CFG_ANY,
	 "the fewest cores the bid takes"},
	{"tenant.*", "cores_price", CFG_STRING, CFG_UNBOUND, NULL, CFG_ANY,
	 "the most it pays per core-hour ($X)"},
	{"tenant.*", "memory_mib", CFG_INT, CFG_UNBOUND, "0", CFG_ANY,
	 "a standing bid for up to this much of its host's memory, MiB (0: none)"},
	{"tenant.*", "memory_min", CFG_INT, CFG_UNBOUND, "1", CFG_ANY,
	 "the least memory the bid takes, MiB"},
	{"tenant.*", "memory_price", CFG_STRING, CFG_UNBOUND, NULL, CFG_ANY,
	 "the most it pays per MiB-hour ($X)"},
	{"tenant.*", "profile_app", CFG_STRING, CFG_UNBOUND, "", CFG_ANY,
	 "the profile's app whose rows it reads (default: its app's); e.g. memcached-kernel"},
	{"tenant.*", "http_path", CFG_STRING, CFG_UNBOUND, "/f16k", CFG_ANY,
	 "nhttpd under nom-loadgen: the file fetched, /f16k (16 KiB) or /index.html (1 KiB)"},
	{"tenant.*", "join", CFG_DURATION, CFG_UNBOUND, "0s", CFG_ANY,
	 "when it joins, from the run's start"},
	{"tenant.*", "leave", CFG_DURATION, CFG_UNBOUND, NULL, CFG_ANY,
	 "when it leaves (default: at the end)"},
	{"event.*", "at", CFG_DURATION, CFG_UNBOUND, NULL, CFG_ANY, "when, from the run's start"},
	{"event.*", "action", CFG_STRING, CFG_UNBOUND, NULL, CFG_ANY,
	 "host-fail, supply (a host's capacity of a resource) or price (a resource's model "
	 "parameters)"},
	{"event.*", "host", CFG_STRING, CFG_UNBOUND, NULL, CFG_ANY, "host-fail, supply: the host"},
	{"event.*", "resource", CFG_STRING, CFG_UNBOUND, NULL, CFG_ANY,
	 "supply (default bandwidth), price: bandwidth, cores or memory"},
	{"event.*", "supply", CFG_INT, CFG_UNBOUND, NULL, CFG_ANY,
	 "supply: the host's new capacity (Mbit/s, cores, MiB)"},
	{"event.*", "model", CFG_STRING, CFG_UNBOUND, NULL, CFG_ANY,
	 "price: the resource's model from then on (default its own)"},
	{"event.*", "params", CFG_STRING, CFG_UNBOUND, NULL, CFG_ANY,
	 "price: the model's parameters from then on"},
};
#undef SEC
#undef F
#define NBINDS (sizeof(tb_binds) / sizeof(tb_binds[0]))

void tb_help_config(FILE *f)
{
	cfg_help(f, tb_binds, NBINDS, NULL, 0);
}

const char *tb_app_name(enum tb_app a)
{
	static const char *const n[] = {"memcached", "nhttpd", "netpipe"};
	return n[a];
}

const char *tb_strategy_name(enum tb_strategy s)
{
	static const char *const n[] = {"adaptive", "static-tpt", "static-lat", "static",
					"price-unaware"};
	return n[s];
}

const char *tb_strategy_arg(enum tb_strategy s)
{
	static const char *const n[] = {"adaptive", "static-tpt", "static-lat", "static",
					"unaware"};
	return n[s];
}

const char *tb_load_name(enum tb_load_tool l)
{
	static const char *const n[] = {"nom-loadgen", "memcaslap", "wrk", "NPtcp"};
	return n[l];
}

const char *tb_res_name(enum tb_res r)
{
	static const char *const n[] = {"bandwidth", "cores", "memory"};
	return n[r];
}

enum tb_res tb_resource_res(const struct tb_resource *r)
{
	for (int i = 0; i < TB_NRES; i++)
		if (strcmp(r->name, tb_res_name((enum tb_res)i)) == 0)
			return (enum tb_res)i;
	return TB_RES_BANDWIDTH;
}

int64_t tb_host_capacity(const struct tb_host *h, enum tb_res r)
{
	return r == TB_RES_CORES ? h->cores : r == TB_RES_MEMORY ? h->memory_mib : h->bandwidth_mbit;
}

int tb_app_port(enum tb_app a)
{
	static const int p[] = {11211, 8080, 5002};
	return p[a];
}

/* name_ok: 1..max characters of a-z 0-9, the first a letter. */
static bool name_ok(const char *s, size_t max)
{
	size_t n = strlen(s);
	if (n == 0 || n > max || !islower((unsigned char)s[0]))
		return false;
	for (size_t i = 0; i < n; i++)
		if (!islower((unsigned char)s[i]) && !isdigit((unsigned char)s[i]))
			return false;
	return true;
}

/* pick: the index of text in words[], or -1. */
static int pick(const char *text, const char *const *words, int n)
{
	for (int i = 0; i < n; i++)
		if (strcmp(text, words[i]) == 0)
			return i;
	return -1;
}

/* parse_phases: "10s:16, 10s:1" into t->phases. Returns 0 or a message. */
static const char *parse_phases(const char *text, struct tb_tenant *t)
{
	char buf[512];
	char *save = NULL;

	if (strlen(text) >= sizeof(buf))
		return "too long";
	snprintf(buf, sizeof(buf), "%s", text);
	t->nphases = 0;
	for (char *tok = strtok_r(buf, ",", &save); tok; tok = strtok_r(NULL, ",", &save)) {
		while (isspace((unsigned char)*tok))
			tok++;
		char *end = tok + strlen(tok);
		while (end > tok && isspace((unsigned char)end[-1]))
			*--end = 0;
		char *colon = strchr(tok, ':');
		int64_t conns;
		if (!colon)
			return "a phase is DURATION:CONNECTIONS (\"10s:16\")";
		*colon = 0;
		if (t->nphases == TB_MAX_PHASES)
			return "more than 8 phases";
		struct tb_phase *p = &t->phases[t->nphases];
		if (cfg_parse_duration(tok, &p->duration_ns) || p->duration_ns <= 0)
			return "a phase's duration is a positive time with a unit (\"10s\")";
		if (cfg_parse_int(colon + 1, &conns) || conns < 1 || conns > 1024)
			return "a phase's connections are 1-1024";
		p->conns = (int)conns;
		t->nphases++;
	}
	return t->nphases ? NULL : "no phase";
}

static int find_host(const struct testbed *tb, const char *name)
{
	for (int i = 0; i < tb->nhosts; i++)
		if (strcmp(tb->hosts[i].name, name) == 0)
			return i;
	return -1;
}

#define FAIL(sec, key, ...)                                                                  \
	do {                                                                                 \
		rc = cfg_error_at(c, sec, key, err, __VA_ARGS__);                            \
		goto out;                                                                    \
	} while (0)
#define GET(fn, sec, key, dst)                                                               \
	do {                                                                                 \
		if ((rc = fn(c, sec, key, dst, err)) != 0)                                   \
			goto out;                                                            \
	} while (0)

static int load_hosts(struct cfg *c, struct testbed *tb, struct cfg_error *err)
{
	const char *secs[TB_MAX_HOSTS + 1];
	size_t n = cfg_sections(c, "host.*", secs, TB_MAX_HOSTS + 1);
	int rc = 0;

	if (n == 0)
		return cfg_error_at(c, "testbed", "name", err, "no [host.NAME] section");
	if (n > TB_MAX_HOSTS)
		FAIL(secs[TB_MAX_HOSTS], "kind", "more than %d hosts", TB_MAX_HOSTS);
	for (size_t i = 0; i < n; i++) {
		struct tb_host *h = &tb->hosts[i];
		const char *name = secs[i] + 5, *kind, *key;
		if (!name_ok(name, 8))
			FAIL(secs[i], "kind", "host name \"%s\": 1-8 of a-z 0-9, a letter first", name);
		snprintf(h->name, sizeof(h->name), "%s", name);
		h->index = (int)i + 1;
		GET(cfg_get_string, secs[i], "kind", &kind);
		if (strcmp(kind, "emulated") == 0)
			h->kind = TB_HOST_EMULATED;
		else if (strcmp(kind, "remote") == 0)
			h->kind = TB_HOST_REMOTE;
		else
			FAIL(secs[i], "kind", "\"%s\" is not emulated or remote", kind);
		GET(cfg_get_int, secs[i], "bandwidth_mbit", &h->bandwidth_mbit);
		if (h->bandwidth_mbit < 0 || h->bandwidth_mbit > 100000)
			FAIL(secs[i], "bandwidth_mbit", "%lld is not 0-100000",
			     (long long)h->bandwidth_mbit);
		GET(cfg_get_int, secs[i], "cores", &h->cores);
		if (h->cores < 0 || h->cores > 1024)
			FAIL(secs[i], "cores", "%lld is not 0-1024", (long long)h->cores);
		GET(cfg_get_int, secs[i], "memory_mib", &h->memory_mib);
		if (h->memory_mib < 0 || h->memory_mib > 1048576)
			FAIL(secs[i], "memory_mib", "%lld is not 0-1048576", (long long)h->memory_mib);
		if (h->kind == TB_HOST_REMOTE && (h->cores || h->memory_mib))
			FAIL(secs[i], h->cores ? "cores" : "memory_mib",
			     "a remote host's agent sells what its own config says");
		GET(cfg_get_string, secs[i], "key", &key);
		if (h->kind == TB_HOST_REMOTE && !*key)
			FAIL(secs[i], "kind", "a remote host needs key = its agent's .pub file");
		if (h->kind == TB_HOST_EMULATED && *key)
			FAIL(secs[i], "key", "an emulated host's key is made by the testbed");
		snprintf(h->key, sizeof(h->key), "%s", key);
		tb->nhosts++;
	}
out:
	return rc;
}

static int load_tenant(struct cfg *c, struct testbed *tb, const char *sec, struct tb_tenant *t,
		       struct cfg_error *err)
{
	static const char *const apps[] = {"memcached", "nhttpd", "netpipe"};
	static const char *const utils[] = {"penalty", "refund", "bonus"};
	static const char *const strategies[] = {"adaptive", "static-tpt", "static-lat", "static",
						 "price-unaware"};
	static const char *const loads[] = {"nom-loadgen", "memcaslap", "wrk", "NPtcp"};
	/* Which load generator drives which app: nom-loadgen any, the others their own. */
	static const int load_app[] = {-1, TB_APP_MEMCACHED, TB_APP_NHTTPD, TB_APP_NETPIPE};
	const char *s, *why;
	int rc = 0, k;
	struct {
		const char *key;
		double *out;
	} params[] = {{"alpha", &t->alpha}, {"beta", &t->beta}, {"gamma", &t->gamma},
		      {"delta", &t->delta}, {"x", &t->x},       {"l0", &t->l0}};

	GET(cfg_get_string, sec, "host", &s);
	if ((t->host = find_host(tb, s)) < 0)
		FAIL(sec, "host", "no [host.%s] in this file", s);
	if (tb->hosts[t->host].kind != TB_HOST_EMULATED)
		FAIL(sec, "host", "%s is remote: process instances run on emulated hosts", s);
	GET(cfg_get_string, sec, "budget", &s);
	t->budget = -1;
	if (strcmp(s, "unlimited") != 0) {
		why = NULL;
		if (money_parse(s, &t->budget, &why) != 0 || t->budget < 0)
			FAIL(sec, "budget", "\"%s\" is not unlimited or an amount of dollars ($10)",
			     s);
	}
	GET(cfg_get_string, sec, "instance", &s);
	t->vm = strcmp(s, "vm") == 0;
	if (!t->vm && strcmp(s, "process") != 0)
		FAIL(sec, "instance", "\"%s\" is not process or vm", s);
	GET(cfg_get_string, sec, "vm_type", &s);
	if (strcmp(s, "auto") != 0 && strcmp(s, "kvm") != 0 && strcmp(s, "qemu") != 0)
		FAIL(sec, "vm_type", "\"%s\" is not auto, kvm or qemu", s);
	snprintf(t->vm_type, sizeof(t->vm_type), "%s", s);
	GET(cfg_get_string, sec, "app", &s);
	if ((k = pick(s, apps, 3)) < 0)
		FAIL(sec, "app", "\"%s\" is not memcached, nhttpd or netpipe", s);
	t->app = (enum tb_app)k;
	GET(cfg_get_string, sec, "utility", &s);
	if (pick(s, utils, 3) < 0)
		FAIL(sec, "utility", "\"%s\" is not penalty, refund or bonus", s);
	snprintf(t->utility, sizeof(t->utility), "%s", s);
	for (size_t i = 0; i < sizeof(params) / sizeof(params[0]); i++) {
		*params[i].out = NAN;
		if (cfg_has(c, sec, params[i].key))
			GET(cfg_get_double, sec, params[i].key, params[i].out);
	}
	GET(cfg_get_string, sec, "strategy", &s);
	if ((k = pick(s, strategies, 5)) < 0)
		FAIL(sec, "strategy",
		     "\"%s\" is not adaptive, static-tpt, static-lat, static or price-unaware", s);
	t->strategy = (enum tb_strategy)k;
	t->delay_us = 0;
	if (cfg_has(c, sec, "delay_us")) {
		if (t->strategy != TB_STATIC && t->strategy != TB_PRICE_UNAWARE)
			FAIL(sec, "delay_us",
			     "only static and price-unaware take a fixed delay (%s picks its own)",
			     tb_strategy_name(t->strategy));
		GET(cfg_get_int, sec, "delay_us", &t->delay_us);
		if (t->delay_us < 0 || t->delay_us > 1000)
			FAIL(sec, "delay_us", "%lld is not 0-1000", (long long)t->delay_us);
	} else if (t->strategy == TB_STATIC) {
		FAIL(sec, "strategy", "static needs delay_us = W");
	}
	GET(cfg_get_string, sec, "stack", &s);
	if (strcmp(s, "kernel") == 0) {
		if (t->strategy != TB_PRICE_UNAWARE)
			FAIL(sec, "stack", "kernel sockets have no batching delay to tune: only "
					   "price-unaware");
		t->kernel_stack = true;
	} else if (strcmp(s, "nomnet") != 0) {
		FAIL(sec, "stack", "\"%s\" is not nomnet or kernel", s);
	}
	GET(cfg_get_string, sec, "load", &s);
	if ((k = pick(s, loads, 4)) < 0)
		FAIL(sec, "load", "\"%s\" is not nom-loadgen, memcaslap, wrk or NPtcp", s);
	if (load_app[k] >= 0 && load_app[k] != (int)t->app)
		FAIL(sec, "load", "%s does not drive %s (nom-loadgen or %s)", s, tb_app_name(t->app),
		     loads[t->app + 1]);
	t->load = (enum tb_load_tool)k;
	GET(cfg_get_string, sec, "phases", &s);
	if ((why = parse_phases(s, t)) != NULL)
		FAIL(sec, "phases", "%s", why);
	{
		const struct tb_host *h = &tb->hosts[t->host];
		struct {
			const char *key, *min_key, *price_key, *unit;
			int64_t *max, *min, sold;
			money_t *price;
		} b[] = {{"cores", "cores_min", "cores_price", "core", &t->cores, &t->cores_min,
			  h->cores, &t->cores_price},
			 {"memory_mib", "memory_min", "memory_price", "MiB", &t->memory_mib,
			  &t->memory_min, h->memory_mib, &t->memory_price}};
		for (int i = 0; i < 2; i++) {
			GET(cfg_get_int, sec, b[i].key, b[i].max);
			GET(cfg_get_int, sec, b[i].min_key, b[i].min);
			if (*b[i].max > 0 && b[i].sold == 0)
				FAIL(sec, b[i].key, "host %s sells none (its %s is 0)", h->name,
				     b[i].key);
			if (*b[i].max < 0 || *b[i].max > b[i].sold)
				FAIL(sec, b[i].key, "%lld is not 0-%lld (what host %s sells)",
				     (long long)*b[i].max, (long long)b[i].sold, h->name);
			if (*b[i].max == 0) {
				if (cfg_has(c, sec, b[i].price_key))
					FAIL(sec, b[i].price_key, "no bid: %s is 0", b[i].key);
				continue;
			}
			if (*b[i].min < 1 || *b[i].min > *b[i].max)
				FAIL(sec, b[i].min_key, "%lld is not 1-%lld (%s)",
				     (long long)*b[i].min, (long long)*b[i].max, b[i].key);
			if (!cfg_has(c, sec, b[i].price_key))
				FAIL(sec, b[i].key, "a bid needs %s = the most it pays per %s-hour",
				     b[i].price_key, b[i].unit);
			GET(cfg_get_string, sec, b[i].price_key, &s);
			why = NULL;
			if (money_parse(s, b[i].price, &why) != 0 || *b[i].price <= 0)
				FAIL(sec, b[i].price_key, "\"%s\" is not a positive amount ($0.05)", s);
		}
	}
	GET(cfg_get_string, sec, "profile_app", &s);
	if (*s && (strlen(s) >= sizeof(t->profile_app) || strspn(s, "abcdefghijklmnopqrstuvwxyz"
								"ABCDEFGHIJKLMNOPQRSTUVWXYZ"
								"0123456789_.+-") != strlen(s)))
		FAIL(sec, "profile_app", "\"%s\" is not 1-31 of A-Za-z0-9_.+- (a profile's app)",
		     s);
	snprintf(t->profile_app, sizeof(t->profile_app), "%s", s);
	GET(cfg_get_string, sec, "http_path", &s);
	if (strcmp(s, "/f16k") != 0 && strcmp(s, "/index.html") != 0)
		FAIL(sec, "http_path", "\"%s\" is not /f16k or /index.html (the files served)", s);
	if (cfg_has(c, sec, "http_path") &&
	    (t->app != TB_APP_NHTTPD || t->load != TB_LOAD_NOM_LOADGEN))
		FAIL(sec, "http_path", "only nhttpd driven by nom-loadgen fetches a path");
	snprintf(t->http_path, sizeof(t->http_path), "%s", s);
	GET(cfg_get_duration, sec, "join", &t->join_ns);
	if (t->join_ns < 0 || t->join_ns >= tb->duration_ns)
		FAIL(sec, "join", "not inside the run (duration %llds)",
		     (long long)(tb->duration_ns / 1000000000));
	t->leave_ns = -1;
	if (cfg_has(c, sec, "leave")) {
		GET(cfg_get_duration, sec, "leave", &t->leave_ns);
		if (t->leave_ns <= t->join_ns || t->leave_ns > tb->duration_ns)
			FAIL(sec, "leave", "not after join and inside the run");
	}
	if (t->vm && t->join_ns != 0)
		FAIL(sec, "join", "a vm instance joins at 0s (its host's agent boots it with the "
				  "host)");
	if (t->vm && t->leave_ns >= 0)
		FAIL(sec, "leave", "a vm instance stays to the end (not yet: leave)");
	if (t->vm && t->kernel_stack)
		FAIL(sec, "stack", "a vm instance's app uses nomnet in the guest (stack = nomnet)");
out:
	return rc;
}

static int load_tenants(struct cfg *c, struct testbed *tb, struct cfg_error *err)
{
	const char *secs[TB_MAX_TENANTS + 1];
	size_t n = cfg_sections(c, "tenant.*", secs, TB_MAX_TENANTS + 1);
	int rc = 0;

	if (n == 0)
		return cfg_error_at(c, "testbed", "name", err, "no [tenant.NAME] section");
	if (n > TB_MAX_TENANTS)
		FAIL(secs[TB_MAX_TENANTS], "app", "more than %d tenants", TB_MAX_TENANTS);
	for (size_t i = 0; i < n; i++) {
		struct tb_tenant *t = &tb->tenants[i];
		const char *name = secs[i] + 7;
		if (!name_ok(name, 10) || strcmp(name, "market") == 0)
			FAIL(secs[i], "app",
			     "tenant name \"%s\": 1-10 of a-z 0-9, a letter first, not market", name);
		if (find_host(tb, name) >= 0)
			FAIL(secs[i], "app", "\"%s\" is a host's name too (one key name each)",
			     name);
		snprintf(t->name, sizeof(t->name), "%s", name);
		t->index = (int)i + 1;
		if ((rc = load_tenant(c, tb, secs[i], t, err)) != 0)
			goto out;
		tb->ntenants++;
	}
out:
	return rc;
}

/* params_resolve: a relative file=PATH of a model's parameters is relative to the testbed
 * file's folder. */
static void params_resolve(const struct testbed *tb, const char *in, char *out, size_t len)
{
	const char *f = strstr(in, "file=");
	char folder[256];
	const char *slash = strrchr(tb->file, '/');

	if (!f || (f != in && f[-1] != ' ' && f[-1] != ',') || f[5] == '/' || !slash) {
		snprintf(out, len, "%s", in);
		return;
	}
	snprintf(folder, sizeof(folder), "%.*s", (int)(slash - tb->file), tb->file);
	if (folder[0] != '/') {
		char cwd[512];
		if (getcwd(cwd, sizeof(cwd))) {
			char abs[800];
			snprintf(abs, sizeof(abs), "%s/%s", cwd, folder);
			snprintf(out, len, "%.*sfile=%s/%s", (int)(f - in), in, abs, f + 5);
			return;
		}
	}
	snprintf(out, len, "%.*sfile=%s/%s", (int)(f - in), in, folder, f + 5);
}

/* model_ok: the market's own wrapper builds the model from these parameters (and drops it):
 * what the market would refuse is refused here, at the file's line. */
static const char *model_ok(const char *model, const char *params, char *why, size_t len)
{
	struct pm_param p[32];
	struct pm_error perr = {{0}};
	struct pm_instance *inst = NULL;
	char *storage = NULL;
	int n = pm_params_parse(params, p, 32, &storage, &perr);

	if (n >= 0 && pm_create(model, p, (size_t)n, &inst, &perr) == 0) {
		pm_destroy(inst);
		free(storage);
		return NULL;
	}
	free(storage);
	snprintf(why, len, "%s", perr.message[0] ? perr.message : "refused");
	return why;
}

static int find_resource(const struct testbed *tb, const char *name)
{
	for (int i = 0; i < tb->nresources; i++)
		if (strcmp(tb->resources[i].name, name) == 0)
			return i;
	return -1;
}

/* load_event: one [event.NAME]: host-fail (host), supply (host, resource, supply) or price
 * (resource, params, model). A key the action does not take is refused, not ignored. */
static int load_event(struct cfg *c, struct testbed *tb, const char *sec, struct tb_event *e,
		      struct cfg_error *err)
{
	static const char *const actions[] = {"host-fail", "supply", "price"};
	/* Which keys each action takes: host, resource, supply, model, params. */
	static const char *const keys[] = {"host", "resource", "supply", "model", "params"};
	static const bool takes[3][5] = {{1, 0, 0, 0, 0}, {1, 1, 1, 0, 0}, {0, 1, 0, 1, 1}};
	const char *s;
	int rc = 0, k;

	snprintf(e->name, sizeof(e->name), "%s", sec + 6);
	GET(cfg_get_duration, sec, "at", &e->at_ns);
	if (e->at_ns < 0 || e->at_ns >= tb->duration_ns)
		FAIL(sec, "at", "not inside the run");
	GET(cfg_get_string, sec, "action", &s);
	if ((k = pick(s, actions, 3)) < 0)
		FAIL(sec, "action",
		     "\"%s\" is not host-fail, supply or price (tenants join and leave with their "
		     "own join and leave keys)",
		     s);
	e->kind = (enum tb_event_kind)k;
	for (int i = 0; i < 5; i++)
		if (!takes[k][i] && cfg_has(c, sec, keys[i]))
			FAIL(sec, keys[i], "a %s event takes no %s", actions[k], keys[i]);
	e->host = -1;
	if (takes[k][0]) {
		if (!cfg_has(c, sec, "host"))
			FAIL(sec, "action", "a %s event needs host = the host", actions[k]);
		GET(cfg_get_string, sec, "host", &s);
		if ((e->host = find_host(tb, s)) < 0)
			FAIL(sec, "host", "no [host.%s] in this file", s);
		if (tb->hosts[e->host].kind != TB_HOST_EMULATED)
			FAIL(sec, "host", "only an emulated host can be %s",
			     k == TB_EV_HOST_FAIL ? "failed" : "changed");
	}
	e->resource = -1;
	if (takes[k][1]) {
		s = "bandwidth";
		if (k == TB_EV_PRICE && !cfg_has(c, sec, "resource"))
			FAIL(sec, "action", "a price event needs resource = the resource it prices");
		if (cfg_has(c, sec, "resource"))
			GET(cfg_get_string, sec, "resource", &s);
		if ((e->resource = find_resource(tb, s)) < 0)
			FAIL(sec, "resource", "no [resource.%s] in this file", s);
	}
	if (k == TB_EV_SUPPLY) {
		enum tb_res r = tb_resource_res(&tb->resources[e->resource]);
		const struct tb_host *h = &tb->hosts[e->host];
		int64_t most = r == TB_RES_CORES ? h->cores : r == TB_RES_MEMORY ? 1048576 : 100000;
		if (!cfg_has(c, sec, "supply"))
			FAIL(sec, "action", "a supply event needs supply = the new capacity");
		GET(cfg_get_int, sec, "supply", &e->supply);
		if (r != TB_RES_BANDWIDTH && tb_host_capacity(h, r) == 0)
			FAIL(sec, "resource", "host %s sells no %s at the start (its agent has no %s "
					      "backend to change)",
			     h->name, tb_res_name(r), tb_res_name(r));
		if (e->supply < 0 || e->supply > most)
			FAIL(sec, "supply", "%lld is not 0-%lld%s", (long long)e->supply,
			     (long long)most, r == TB_RES_CORES ? " (the host's cores)" : "");
	}
	if (k == TB_EV_PRICE) {
		const struct tb_resource *res = &tb->resources[e->resource];
		char params[1024], why[300];
		s = res->model;
		if (cfg_has(c, sec, "model"))
			GET(cfg_get_string, sec, "model", &s);
		if (!pm_find(s))
			FAIL(sec, "model", "no pricing model \"%s\" (docs/pricing-models.md)", s);
		snprintf(e->model, sizeof(e->model), "%s", s);
		if (!cfg_has(c, sec, "params"))
			FAIL(sec, "action", "a price event needs params = the model's parameters");
		GET(cfg_get_string, sec, "params", &s);
		params_resolve(tb, s, params, sizeof(params));
		if (strlen(params) >= sizeof(e->params))
			FAIL(sec, "params", "longer than %zu characters", sizeof(e->params) - 1);
		snprintf(e->params, sizeof(e->params), "%s", params);
		if (model_ok(e->model, e->params, why, sizeof(why)))
			FAIL(sec, "params", "%s", why);
	}
out:
	return rc;
}

static int load_rest(struct cfg *c, struct testbed *tb, struct cfg_error *err)
{
	const char *secs[TB_MAX_EVENTS + 1], *s;
	size_t n;
	int rc = 0;

	n = cfg_sections(c, "resource.*", secs, TB_MAX_RESOURCES + 1);
	if (n == 0)
		return cfg_error_at(c, "market", "round", err,
				    "no [resource.NAME] section: the market prices nothing");
	if (n > TB_MAX_RESOURCES)
		FAIL(secs[TB_MAX_RESOURCES], "model", "more than %d resources", TB_MAX_RESOURCES);
	for (size_t i = 0; i < n; i++) {
		struct tb_resource *r = &tb->resources[i];
		static const char *const known[] = {"bandwidth", "cores", "memory"};
		if (pick(secs[i] + 9, known, 3) < 0)
			FAIL(secs[i], "model",
			     "the testbed's hosts sell bandwidth, cores and memory (not \"%s\")",
			     secs[i] + 9);
		snprintf(r->name, sizeof(r->name), "%s", secs[i] + 9);
		GET(cfg_get_string, secs[i], "model", &s);
		snprintf(r->model, sizeof(r->model), "%s", s);
		GET(cfg_get_string, secs[i], "params", &s);
		char params[1024], why[300];
		params_resolve(tb, s, params, sizeof(params));
		if (strlen(params) >= sizeof(r->params))
			FAIL(secs[i], "params", "longer than %zu characters", sizeof(r->params) - 1);
		snprintf(r->params, sizeof(r->params), "%s", params);
		if (!pm_find(r->model))
			FAIL(secs[i], "model", "no pricing model \"%s\" (docs/pricing-models.md)",
			     r->model);
		if (model_ok(r->model, r->params, why, sizeof(why)))
			FAIL(secs[i], "params", "%s", why);
		tb->nresources++;
	}
	/* A host selling cores or memory needs the market to price them. */
	for (int h = 0; h < tb->nhosts; h++)
		for (int r = TB_RES_CORES; r < TB_NRES; r++)
			if (tb_host_capacity(&tb->hosts[h], (enum tb_res)r) > 0 &&
			    find_resource(tb, tb_res_name((enum tb_res)r)) < 0) {
				char sec[32];
				snprintf(sec, sizeof(sec), "host.%s", tb->hosts[h].name);
				FAIL(sec, r == TB_RES_CORES ? "cores" : "memory_mib",
				     "no [resource.%s] section: the market would not price it",
				     tb_res_name((enum tb_res)r));
			}
	n = cfg_sections(c, "event.*", secs, TB_MAX_EVENTS + 1);
	if (n > TB_MAX_EVENTS)
		FAIL(secs[TB_MAX_EVENTS], "at", "more than %d events", TB_MAX_EVENTS);
	for (size_t i = 0; i < n; i++)
		if ((rc = load_event(c, tb, secs[i], &tb->events[i], err)) != 0)
			goto out;
		else
			tb->nevents++;
out:
	return rc;
}

int tb_load(const char *path, struct testbed *tb, struct cfg_error *err)
{
	struct cfg *c = NULL;
	int rc;

	memset(tb, 0, sizeof(*tb));
	memset(err, 0, sizeof(*err));
	snprintf(tb->file, sizeof(tb->file), "%s", path);
	if ((rc = cfg_create_bind(tb_binds, NBINDS, NULL, 0, &c)) != 0)
		return rc;
	if ((rc = cfg_load_file(c, path, err)) != 0)
		goto out;
	if ((rc = cfg_bind_load(c, tb_binds, NBINDS, tb, err)) != 0)
		goto out;
	if (!name_ok(tb->name, 8))
		FAIL("testbed", "name", "\"%s\": 1-8 of a-z 0-9, a letter first", tb->name);
	if ((rc = load_hosts(c, tb, err)) != 0 || (rc = load_tenants(c, tb, err)) != 0 ||
	    (rc = load_rest(c, tb, err)) != 0)
		goto out;
	{
		FILE *f = fopen(path, "r");
		size_t cap = 1 << 16, len = 0;
		tb->text = f ? calloc(1, cap) : NULL;
		if (tb->text)
			len = fread(tb->text, 1, cap - 1, f);
		if (f)
			fclose(f);
		if (!tb->text) {
			rc = -ENOMEM;
			goto out;
		}
		tb->text[len] = 0;
	}
out:
	cfg_destroy(c);
	if (rc)
		tb->text = NULL;
	return rc;
}

void tb_fini(struct testbed *tb)
{
	free(tb->text);
	tb->text = NULL;
}
