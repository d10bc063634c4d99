/* main.c: raas-hostagentd, the host agent: enforces the market's allocations on this host.
 *
 * Start-up, flags, signals and exit codes are the daemon skeleton's (common/daemon.h):
 *   raas-hostagentd -c FILE [--set section.key=value]... [--check] [--ready-file PATH]
 *                   [--pid-file PATH] [--log-level LEVEL] [--log-json]
 * --check loads the config and both key files, opens every backend, probes and reads back,
 * prints what the host would register, and exits 0, or 78 naming the file or backend. Exit
 * codes: 0 (SIGTERM/SIGINT), 64 usage, 69 unavailable (the socket), 73 the ready or pid
 * file, 78 config, key file, a backend that cannot open. SIGHUP reloads the config (new
 * tenants, capacity, backends) without touching what others hold (daemon.h). */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/daemon.h"
#include "common/error.h"
#include "common/log.h"
#include "common/transport.h"
#include "hostagent/agent.h"
#include "hostagent/daemon.h"

static void help_config(void)
{
	ha_config_help(stdout);
}

static const struct dmn_spec spec = {
	.name = "raas-hostagentd",
	.component = "hostagentd",
	.summary = "Enforces the market's allocations on this host (docs/hostagent.md): registers\n"
		   "its capacity and the tenants it can map, applies each round's allocation set\n"
		   "through its backends, acknowledges it, and reports meters. Fail-static: when\n"
		   "the market is out of reach what is enforced stays as it is.",
	.config_required = true,
	.help_config = help_config,
};

static struct dmn_args args;

/* Loads the command line's config: the file, then the --set overrides. */
static int load(void *arg, struct ha_config **out, char *why, size_t why_len)
{
	struct cfg_error err;
	int ret;

	(void)arg;
	ret = ha_config_load(args.config, args.sets, args.nsets, out, &err);
	if (ret) {
		char buf[1024];
		snprintf(why, why_len, "%s",
			 ret == -RAAS_ECONFIG || err.message[0] ? cfg_error_format(&err, buf, sizeof(buf))
								: raas_strerror(ret));
		*out = NULL;
	}
	return ret;
}

static int check(const struct ha_config *conf)
{
	struct ha_agent *a;
	struct tp_keypair kp;
	char why[1024], pub[TP_KEY_Z85_LEN + 1];
	int ret;

	if (!conf->market_public_key || !conf->key) {
		fprintf(stderr, "raas-hostagentd: [agent] market_public_key and key are required "
				"(CURVE key files made by raas keygen)\n");
		return EX_CONFIG;
	}
	if (tp_key_load_public(conf->market_public_key, pub, why, sizeof(why)) != 0) {
		fprintf(stderr, "raas-hostagentd: [agent] market_public_key: %s\n", why);
		return EX_CONFIG;
	}
	if (tp_key_load_pair(conf->key, &kp, why, sizeof(why)) != 0) {
		fprintf(stderr, "raas-hostagentd: [agent] key: %s\n", why);
		return EX_CONFIG;
	}
	ret = ha_agent_create(conf, &clk_real, &a, why, sizeof(why));
	if (ret) {
		fprintf(stderr, "raas-hostagentd: %s\n", why);
		return EX_CONFIG;
	}
	printf("host %s, market %s (key %s), %zu tenants\n", conf->host, conf->market, pub,
	       conf->ntargets);
	printf("this host's key: %s (%s)\n", kp.public_key, conf->key);
	if (conf->http.enabled)
		printf("metrics: http on %s port %d%s (docs/dashboards.md)\n", conf->http.bind,
		       conf->http.port, conf->http.token[0] ? ", bearer token required" : "");
	else
		printf("metrics: off\n");
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
	printf("raas-hostagentd: check ok\n");
	return 0;
}

int main(int argc, char **argv)
{
	struct ha_config *conf;
	enum log_level level = LOG_INFO;
	char why[1024];
	int ret;

	if ((ret = dmn_parse(&spec, argc, argv, &args)) != DMN_CONTINUE)
		return ret;
	if (load(NULL, &conf, why, sizeof(why)) != 0) {
		fprintf(stderr, "raas-hostagentd: %s\n", why);
		return EX_CONFIG;
	}
	const char *lvl = cfg_get(conf->cfg, "agent", "log_level");
	if (lvl && log_level_parse(lvl, &level)) {
		fprintf(stderr, "raas-hostagentd: %s: [agent] log_level \"%s\" is not error, warn, "
				"info or debug\n",
			args.config ? args.config : "config", lvl);
		ha_config_destroy(conf);
		return EX_CONFIG;
	}
	dmn_log_init(&spec, &args, level);
	if (args.check) {
		ret = check(conf);
		ha_config_destroy(conf);
		return ret;
	}
	if ((ret = dmn_signals_init()) != 0) {
		fprintf(stderr, "raas-hostagentd: signals: %s\n", raas_strerror(ret));
		ha_config_destroy(conf);
		return EX_OSERR;
	}
	if (dmn_pid_file(&args, why, sizeof(why)) != 0) {
		fprintf(stderr, "raas-hostagentd: %s\n", why);
		ha_config_destroy(conf);
		return EX_CANTCREAT;
	}
	ret = ha_daemon_run(conf, load, NULL, &args, why, sizeof(why));
	if (ret)
		log_error("%s", why);
	dmn_exit(&args);
	if (ret == -RAAS_ECONFIG || ret == -RAAS_EPARSE || ret == -ENOENT || ret == -EACCES ||
	    ret == -EINVAL || ret == -ENOTSUP)
		return EX_CONFIG;
	if (ret && strstr(why, "ready file"))
		return EX_CANTCREAT;
	return ret ? EX_UNAVAILABLE : 0;
}
