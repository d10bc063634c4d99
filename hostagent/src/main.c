/* main.c: raas-hostagentd, the host agent: enforces the market's allocations on this host.
 *
 * Usage: raas-hostagentd -c FILE [--set section.key=value]... [--log-json] [--check]
 * --check opens the backends, probes and reads back, prints what the host would register,
 * and exits. Exit codes (sysexits): 0, 64 usage, 69 unavailable (a backend or the socket),
 * 78 config. */
#include <errno.h>
#include <getopt.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/error.h"
#include "common/log.h"
#include "hostagent/agent.h"
#include "hostagent/daemon.h"

static volatile sig_atomic_t stop;

static void on_signal(int sig)
{
	(void)sig;
	stop = 1;
}

static void usage(FILE *out)
{
	fprintf(out,
		"usage: raas-hostagentd -c FILE [--set SECTION.KEY=VALUE]... [--log-json]\n"
		"                       [--log-level LEVEL] [--check] [--help-config]\n"
		"Enforces the market's allocations on this host (docs/hostagent.md).\n"
		"  -c, --config FILE   INI configuration\n"
		"  --set S.K=V         override one key (repeatable)\n"
		"  --check             open backends, probe, read back, print, exit\n"
		"  --log-json          log JSON lines instead of text\n"
		"  --log-level LEVEL   error, warn, info (default) or debug\n"
		"  --help-config       list every configuration key\n");
}

static void help_config(void)
{
	size_t n;
	const struct cfg_key *keys = ha_config_schema(&n);
	for (size_t i = 0; keys && i < n; i++)
		printf("[%s] %s = %s\n    %s\n", keys[i].section, keys[i].key,
		       keys[i].default_value ? keys[i].default_value : "(required)", keys[i].help);
}

static int check(const struct ha_config *conf)
{
	struct ha_agent *a;
	char why[512];
	int ret = ha_agent_create(conf, &clk_real, &a, why, sizeof(why));
	if (ret) {
		fprintf(stderr, "raas-hostagentd: %s\n", why);
		return 69;
	}
	printf("host %s, market %s, %zu tenants\n", conf->host, conf->market, conf->ntargets);
	for (int r = ENF_RES_MIN; r <= ENF_RES_MAX; r++) {
		const char *reason;
		bool ok = ha_agent_available(a, (enum enf_resource)r, &reason);
		printf("%-9s capacity %lld via %s: %s%s\n", enf_resource_name((enum enf_resource)r),
		       (long long)conf->capacity[r], conf->backend[r] ? conf->backend[r] : "none",
		       ok ? "available" : "unavailable: ", ok ? "" : reason);
		for (size_t t = 0; ok && t < conf->ntargets; t++) {
			struct enf_setting s;
			if (ha_agent_enforced(a, t, (enum enf_resource)r, &s) == 0)
				printf("  %s: %lld enforced\n", conf->targets[t].tenant,
				       (long long)s.quantity);
		}
	}
	ha_agent_destroy(a);
	return 0;
}

int main(int argc, char **argv)
{
	static const struct option opts[] = {
		{"config", required_argument, NULL, 'c'},
		{"set", required_argument, NULL, 's'},
		{"check", no_argument, NULL, 'k'},
		{"log-json", no_argument, NULL, 'j'},
		{"log-level", required_argument, NULL, 'l'},
		{"help-config", no_argument, NULL, 'H'},
		{"help", no_argument, NULL, 'h'},
		{NULL, 0, NULL, 0},
	};
	const char *path = NULL;
	const char **overrides = calloc((size_t)argc, sizeof(char *));
	size_t noverrides = 0;
	bool json = false, only_check = false;
	enum log_level level = LOG_INFO;
	int c;

	if (!overrides)
		return 70;
	while ((c = getopt_long(argc, argv, "c:h", opts, NULL)) != -1) {
		switch (c) {
		case 'c': path = optarg; break;
		case 's': overrides[noverrides++] = optarg; break;
		case 'k': only_check = true; break;
		case 'j': json = true; break;
		case 'l':
			if (log_level_parse(optarg, &level)) {
				fprintf(stderr, "raas-hostagentd: unknown log level \"%s\"\n", optarg);
				return 64;
			}
			break;
		case 'H': help_config(); return 0;
		case 'h': usage(stdout); return 0;
		default: usage(stderr); return 64;
		}
	}
	if (optind != argc || !path) {
		usage(stderr);
		return 64;
	}
	struct ha_config *conf;
	struct cfg_error err;
	int ret = ha_config_load(path, overrides, noverrides, &conf, &err);
	if (ret) {
		char buf[1024];
		fprintf(stderr, "raas-hostagentd: %s\n", ret == -RAAS_ECONFIG || err.message[0] ?
			cfg_error_format(&err, buf, sizeof(buf)) : raas_strerror(ret));
		return 78;
	}
	const char *lvl = cfg_get(conf->cfg, "agent", "log_level");
	if (level == LOG_INFO && lvl && log_level_parse(lvl, &level)) {
		fprintf(stderr, "raas-hostagentd: %s: [agent] log_level \"%s\" is not error, warn, "
				"info or debug\n", path, lvl);
		ha_config_destroy(conf);
		return 78;
	}
	log_init("hostagentd", level, json);
	if (only_check) {
		ret = check(conf);
		ha_config_destroy(conf);
		free(overrides);
		return ret;
	}
	struct sigaction sa;
	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = on_signal;
	sigaction(SIGTERM, &sa, NULL);
	sigaction(SIGINT, &sa, NULL);
	signal(SIGPIPE, SIG_IGN);
	char why[512];
	ret = ha_daemon_run(conf, &stop, why, sizeof(why));
	if (ret)
		fprintf(stderr, "raas-hostagentd: %s\n", why);
	ha_config_destroy(conf);
	free(overrides);
	if (ret == -RAAS_ECONFIG || ret == -RAAS_EPARSE || ret == -ENOENT)
		return 78;
	return ret ? 69 : 0;
}
