/* market_config.h: raas-marketd's configuration: schema, defaults and validation.
 *
 * The INI file (common/config.h) has a [market] section (endpoints, round length, ledger,
 * keys), one [resource.NAME] section per resource saying which pricing model clears that
 * resource's pools and with what parameters, and optional [pool.NAME] sections declaring
 * pools for runs without host agents. docs/market.md lists every key. Loading checks every
 * value, and creates each pricing model once so that a bad model name or parameter is
 * reported at its file and line, not at the first round. */
#ifndef MARKET_MARKET_CONFIG_H
#define MARKET_MARKET_CONFIG_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "common/config.h"
#include "common/httpd.h"
#include "market/ledger.h"

#define MCFG_ENDPOINT_MAX 256
#define MCFG_PATH_MAX 1024
#define MCFG_RESOURCES 6   /* indexed by Raas__Resource (0 unused) */
#define MCFG_POOLS_MAX 256
#define MCFG_ROUND_MS_MIN 10
#define MCFG_ROUND_MS_MAX 3600000

struct mcfg_model {
	bool set;                       /* a [resource.NAME] section gave it */
	char model[LEDGER_MODEL_MAX];
	char params[LEDGER_PARAMS_MAX];
};

struct mcfg_pool {
	char name[LEDGER_NAME_MAX];     /* the NAME of [pool.NAME] */
	char host[LEDGER_NAME_MAX];
	int resource;
	int64_t supply;
	struct mcfg_model model;
};

struct market_config {
	char tenant_endpoint[MCFG_ENDPOINT_MAX];
	char price_endpoint[MCFG_ENDPOINT_MAX];
	char host_endpoint[MCFG_ENDPOINT_MAX];
	int64_t round_ms;         /* as configured; round_ns is what the market uses */
	int64_t round_ns;
	char ledger_path[MCFG_PATH_MAX];
	char key_dir[MCFG_PATH_MAX];
	char sync[8];             /* "full" or "normal", as configured */
	bool sync_full;
	uint64_t seed;
	int64_t request_retention_ns;
	size_t max_request_bytes;
	size_t batch_max;
	int64_t ack_timeout_ns;   /* a host's time to acknowledge a round (ledger.h inv. 7) */
	int64_t round_log_ns;     /* an info line per this much time of rounds (0: each) */
	char stats_file[MCFG_PATH_MAX]; /* per-stage times after each round ("" : none) */
	struct httpd_config http; /* the dashboards' HTTP side (docs/dashboards.md); at start */
	size_t http_history;      /* points kept per pool, tenant and of rounds */
	/* The model of pools whose resource has no [resource.NAME] section. */
	struct mcfg_model default_model;
	struct mcfg_model resources[MCFG_RESOURCES];
	struct mcfg_pool pools[MCFG_POOLS_MAX];
	size_t npools;
};

/* Every key raas-marketd reads, bound to struct market_config (common/config.h, binding by
 * table); the [market] http_* keys come from HTTPD_CFG_KEYS. */
extern const struct cfg_bind mcfg_binds[];
extern const size_t mcfg_binds_len;
/* An empty config over that schema (cfg_destroy it). Returns 0 or -ENOMEM. */
int mcfg_cfg_create(struct cfg **out);
/* --help-config: every key with its default, range and help. */
void mcfg_help(FILE *f);

/* Fills out from c (values checked, models created once to validate them). Returns 0 or
 * -RAAS_ECONFIG with err at the offending value. */
int mcfg_load(const struct cfg *c, struct market_config *out, struct cfg_error *err);
/* Defaults only (tests and tools that build a config in code). */
void mcfg_defaults(struct market_config *out);
/* The model that clears pools of resource r. Borrowed from cfg. */
const struct mcfg_model *mcfg_model_for(const struct market_config *cfg, int resource);

#endif
