/* priced_config.c: nom-priced's configuration keys, their checks, and the subscription list.
 *
 * One [priced] section (docs/nom.md lists the keys). Every value is checked here, at start,
 * and a bad one is reported at its origin (file:line: key: why) so that the daemon never runs
 * on a half-understood config. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/config.h"
#include "common/error.h"
#include "common/httpd.h"
#include "common/wire.h"
#include "priced.h"

#define F(field) CFG_FIELD(struct priced_config, field)
#define MS10 INT64_C(10000000)
/* Every key once: where it goes, its default, its range, its help. */
static const struct cfg_bind binds[] = {
	{"priced", "instance", CFG_STRING, F(instance), NULL, CFG_ANY,
	 "nom instance name: the board is /dev/shm/nom.<instance>"},
	{"priced", "market", CFG_STRING, F(market), "tcp://127.0.0.1:7101", CFG_ANY,
	 "the market's tenant API"},
	{"priced", "prices", CFG_STRING, F(prices), "tcp://127.0.0.1:7102", CFG_ANY,
	 "the market's price feed (PUB)"},
	{"priced", "tenant_key", CFG_STRING, F(tenant_key), NULL, CFG_ANY,
	 "the tenant's CURVE key pair (.key file)"},
	{"priced", "market_key", CFG_STRING, F(market_key), NULL, CFG_ANY,
	 "the market's public key (.pub file)"},
	{"priced", "api", CFG_STRING, F(api), "", CFG_ANY,
	 "local API endpoint for the instance's apps (default ipc:///tmp/nom.<instance>.sock)"},
	{"priced", "api_mode", CFG_STRING, CFG_UNBOUND, "0660", CFG_ANY,
	 "permissions of the local API's socket file"},
	{"priced", "board_mode", CFG_STRING, CFG_UNBOUND, "0640", CFG_ANY,
	 "permissions of the bulletin board"},
	{"priced", "host", CFG_STRING, F(host), "", CFG_ANY,
	 "the host this instance runs on (its cores and memory)"},
	{"priced", "cpuset", CFG_STRING, F(cpuset), "", CFG_ANY,
	 "the instance's cpuset cgroup directory (default: this process's CPU affinity)"},
	{"priced", "memory_cgroup", CFG_STRING, F(memory_cgroup), "", CFG_ANY,
	 "the instance's memory cgroup directory, as the host agent names it (nom-run joins it)"},
	{"priced", "netns", CFG_STRING, F(netns), "", CFG_ANY,
	 "the instance's network namespace: a name in /run/netns or an absolute path (nom-run)"},
	{"priced", "subscribe", CFG_STRING, F(subscribe), "", CFG_ANY,
	 "prices to follow: resource/host words, host * for all (bandwidth/h1 cores/*)"},
	{"priced", "stale_after", CFG_DURATION, F(stale_after_ns), "0s", CFG_ANY,
	 "no price for this long marks the board stale (0s: 3 rounds, at least 1 s)"},
	{"priced", "ping_interval", CFG_DURATION, F(ping_interval_ns), "1s", MS10, INT64_MAX,
	 "query the market when it was quiet this long"},
	{"priced", "ping_timeout", CFG_DURATION, F(ping_timeout_ns), "3s", MS10, INT64_MAX,
	 "an unanswered ping marks the market lost"},
	{"priced", "request_timeout", CFG_DURATION, F(request_timeout_ns), "4s", MS10, INT64_MAX,
	 "an app's request the market has not answered by then is answered 'unavailable'"},
};
#undef F
#define NBINDS (sizeof(binds) / sizeof(binds[0]))
/* /metrics keys, read by httpd_config_load. */
static const struct cfg_key http_keys[] = {HTTPD_CFG_KEYS("priced")};
#define NHTTP (sizeof(http_keys) / sizeof(http_keys[0]))

void priced_config_help(void)
{
	cfg_help(stdout, binds, NBINDS, http_keys, NHTTP);
}

int priced_subs_parse(const char *text, struct priced_sub *subs, int max, char *why,
		      size_t why_len)
{
	int n = 0;
	const char *p = text;

	while (*p) {
		while (*p == ' ' || *p == ',' || *p == '\t')
			p++;
		if (!*p)
			break;
		size_t len = strcspn(p, " ,\t");
		char word[128];
		if (len >= sizeof(word)) {
			snprintf(why, why_len, "word %d is longer than %zu bytes", n + 1, sizeof(word) - 1);
			return -RAAS_EPARSE;
		}
		memcpy(word, p, len);
		word[len] = 0;
		p += len;
		char *slash = strchr(word, '/');
		if (!slash || slash == word || !slash[1] || strchr(slash + 1, '/')) {
			snprintf(why, why_len, "'%s' is not resource/host", word);
			return -RAAS_EPARSE;
		}
		*slash = 0;
		Raas__Resource r;
		if (wire_resource_parse(word, &r) != 0) {
			snprintf(why, why_len, "'%s' is not a resource (cores, memory, bandwidth, llc, "
				 "egress)", word);
			return -RAAS_EPARSE;
		}
		const char *host = slash + 1;
		if (strlen(host) >= BB_NAME_MAX) {
			snprintf(why, why_len, "host '%s' is longer than %d bytes", host,
				 BB_NAME_MAX - 1);
			return -RAAS_EPARSE;
		}
		bool dup = false;
		for (int i = 0; i < n; i++)
			dup |= subs[i].resource == (uint32_t)r && strcmp(subs[i].host, host) == 0;
		if (dup)
			continue;
		if (n >= max) {
			snprintf(why, why_len, "more than %d subscriptions", max);
			return -RAAS_EPARSE;
		}
		subs[n].resource = (uint32_t)r;
		snprintf(subs[n].host, sizeof(subs[n].host), "%s", host);
		n++;
	}
	return n;
}

static int get_mode(struct cfg *c, const char *key, int *out, struct cfg_error *err)
{
	const char *v;
	char *end;
	int rc = cfg_get_string(c, "priced", key, &v, err);

	if (rc)
		return rc;
	long m = strtol(v, &end, 8);
	if (!*v || *end || m < 0 || m > 0777)
		return cfg_error_at(c, "priced", key, err, "'%s' is not an octal mode like 0640", v);
	*out = (int)m;
	return 0;
}

/* A cgroup directory is absolute (nom-run writes into it from wherever it runs). */
static int check_dir(struct cfg *c, const char *key, const char *v, struct cfg_error *err)
{
	if (v[0] && v[0] != '/')
		return cfg_error_at(c, "priced", key, err, "'%s' is not an absolute directory", v);
	return 0;
}

static int load(struct cfg *c, struct priced_config *o, struct cfg_error *err)
{
	int rc;
	char why[200];

	if ((rc = cfg_bind_load(c, binds, NBINDS, o, err)))
		return rc;
	if (bb_instance_valid(o->instance))
		return cfg_error_at(c, "priced", "instance", err,
				    "'%s' is not an instance name (1-63 of [A-Za-z0-9_.-])",
				    o->instance);
	if ((rc = get_mode(c, "api_mode", &o->api_mode, err)) ||
	    (rc = get_mode(c, "board_mode", &o->board_mode, err)))
		return rc;
	if (!o->api[0])
		snprintf(o->api, sizeof(o->api), "ipc:///tmp/nom.%s.sock", o->instance);
	if (strncmp(o->api, "ipc://", 6) != 0)
		return cfg_error_at(c, "priced", "api", err,
				    "'%s': the local API is ipc:// only (no CURVE on it)", o->api);
	if ((rc = check_dir(c, "cpuset", o->cpuset, err)) ||
	    (rc = check_dir(c, "memory_cgroup", o->memory_cgroup, err)))
		return rc;
	if (o->netns[0] && o->netns[0] != '/' &&
	    (strchr(o->netns, '/') || strcmp(o->netns, ".") == 0 || strcmp(o->netns, "..") == 0))
		return cfg_error_at(c, "priced", "netns", err,
				    "'%s' is neither a name in /run/netns nor an absolute path",
				    o->netns);
	struct priced_sub subs[PRICED_MAX_SUBS];
	if (priced_subs_parse(o->subscribe, subs, PRICED_MAX_SUBS, why, sizeof(why)) < 0)
		return cfg_error_at(c, "priced", "subscribe", err, "%s", why);
	if ((rc = httpd_config_load(c, "priced", &o->http, err)))
		return rc;
	return 0;
}

int priced_config_load(struct priced_config *out, const char *path, char **overrides,
		       int noverrides)
{
	struct cfg *c;
	struct cfg_error err = {0};
	char buf[1024];
	int rc = cfg_create_bind(binds, NBINDS, http_keys, NHTTP, &c);

	if (rc)
		return rc;
	memset(out, 0, sizeof(*out));
	if (path)
		rc = cfg_load_file(c, path, &err);
	for (int i = 0; !rc && i < noverrides; i++)
		rc = cfg_set_override(c, overrides[i], &err);
	if (!rc)
		rc = load(c, out, &err);
	if (rc) {
		if (err.message[0])
			fprintf(stderr, "nom-priced: %s\n", cfg_error_format(&err, buf, sizeof(buf)));
		else
			fprintf(stderr, "nom-priced: %s: %s\n", path ? path : "config",
				raas_strerror(rc));
		rc = -RAAS_ECONFIG;
	}
	cfg_destroy(c);
	return rc;
}
