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

static const struct cfg_key schema[] = {
	{"priced", "instance", CFG_STRING, NULL,
	 "nom instance name: the board is /dev/shm/nom.<instance>"},
	{"priced", "market", CFG_STRING, "tcp://127.0.0.1:7101", "the market's tenant API"},
	{"priced", "prices", CFG_STRING, "tcp://127.0.0.1:7102", "the market's price feed (PUB)"},
	{"priced", "tenant_key", CFG_STRING, NULL, "the tenant's CURVE key pair (.key file)"},
	{"priced", "market_key", CFG_STRING, NULL, "the market's public key (.pub file)"},
	{"priced", "api", CFG_STRING, "",
	 "local API endpoint for the instance's apps (default ipc:///tmp/nom.<instance>.sock)"},
	{"priced", "api_mode", CFG_STRING, "0660", "permissions of the local API's socket file"},
	{"priced", "board_mode", CFG_STRING, "0640", "permissions of the bulletin board"},
	{"priced", "host", CFG_STRING, "", "the host this instance runs on (its cores and memory)"},
	{"priced", "cpuset", CFG_STRING, "",
	 "the instance's cpuset cgroup directory (default: this process's CPU affinity)"},
	{"priced", "memory_cgroup", CFG_STRING, "",
	 "the instance's memory cgroup directory, as the host agent names it (nom-run joins it)"},
	{"priced", "netns", CFG_STRING, "",
	 "the instance's network namespace: a name in /run/netns or an absolute path (nom-run)"},
	{"priced", "subscribe", CFG_STRING, "",
	 "prices to follow: resource/host words, host * for all (bandwidth/h1 cores/*)"},
	{"priced", "stale_after", CFG_DURATION, "0s",
	 "no price for this long marks the board stale (0s: 3 rounds, at least 1 s)"},
	{"priced", "ping_interval", CFG_DURATION, "1s", "query the market when it was quiet this long"},
	{"priced", "ping_timeout", CFG_DURATION, "3s", "an unanswered ping marks the market lost"},
	{"priced", "request_timeout", CFG_DURATION, "4s",
	 "an app's request the market has not answered by then is answered 'unavailable'"},
	HTTPD_CFG_KEYS("priced"),
};
#define NKEYS (sizeof(schema) / sizeof(schema[0]))

void priced_config_help(void)
{
	for (size_t i = 0; i < NKEYS; i++)
		printf("  %s.%-16s %s%s%s%s\n", schema[i].section, schema[i].key, schema[i].help,
		       schema[i].default_value ? " (default \"" : " (required)",
		       schema[i].default_value ? schema[i].default_value : "",
		       schema[i].default_value ? "\")" : "");
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

static int get_string(struct cfg *c, const char *key, char *out, size_t size,
		      struct cfg_error *err)
{
	const char *v;
	int rc = cfg_get_string(c, "priced", key, &v, err);

	if (rc)
		return rc;
	if (strlen(v) >= size)
		return cfg_error_at(c, "priced", key, err, "longer than %zu bytes", size - 1);
	snprintf(out, size, "%s", v);
	return 0;
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

	if ((rc = get_string(c, "instance", o->instance, sizeof(o->instance), err)))
		return rc;
	if (bb_instance_valid(o->instance))
		return cfg_error_at(c, "priced", "instance", err,
				    "'%s' is not an instance name (1-63 of [A-Za-z0-9_.-])",
				    o->instance);
	if ((rc = get_string(c, "market", o->market, sizeof(o->market), err)) ||
	    (rc = get_string(c, "prices", o->prices, sizeof(o->prices), err)) ||
	    (rc = get_string(c, "tenant_key", o->tenant_key, sizeof(o->tenant_key), err)) ||
	    (rc = get_string(c, "market_key", o->market_key, sizeof(o->market_key), err)) ||
	    (rc = get_string(c, "api", o->api, sizeof(o->api), err)) ||
	    (rc = get_string(c, "host", o->host, sizeof(o->host), err)) ||
	    (rc = get_string(c, "cpuset", o->cpuset, sizeof(o->cpuset), err)) ||
	    (rc = get_string(c, "memory_cgroup", o->memory_cgroup, sizeof(o->memory_cgroup),
			     err)) ||
	    (rc = get_string(c, "netns", o->netns, sizeof(o->netns), err)) ||
	    (rc = get_string(c, "subscribe", o->subscribe, sizeof(o->subscribe), err)) ||
	    (rc = get_mode(c, "api_mode", &o->api_mode, err)) ||
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
	if ((rc = cfg_get_duration(c, "priced", "stale_after", &o->stale_after_ns, err)) ||
	    (rc = cfg_get_duration(c, "priced", "ping_interval", &o->ping_interval_ns, err)) ||
	    (rc = cfg_get_duration(c, "priced", "ping_timeout", &o->ping_timeout_ns, err)) ||
	    (rc = cfg_get_duration(c, "priced", "request_timeout", &o->request_timeout_ns, err)))
		return rc;
	if ((rc = httpd_config_load(c, "priced", &o->http, err)))
		return rc;
	if (o->ping_interval_ns < NS_PER_MS * 10)
		return cfg_error_at(c, "priced", "ping_interval", err, "at least 10ms");
	if (o->ping_timeout_ns < NS_PER_MS * 10)
		return cfg_error_at(c, "priced", "ping_timeout", err, "at least 10ms");
	if (o->request_timeout_ns < NS_PER_MS * 10)
		return cfg_error_at(c, "priced", "request_timeout", err, "at least 10ms");
	return 0;
}

int priced_config_load(struct priced_config *out, const char *path, char **overrides,
		       int noverrides)
{
	struct cfg *c;
	struct cfg_error err = {0};
	char buf[1024];
	int rc = cfg_create(schema, NKEYS, &c);

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
