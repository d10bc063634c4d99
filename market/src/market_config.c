/* market_config.c: raas-marketd's config schema, defaults and checks (market_config.h). */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/error.h"
#include "common/wire.h"
#include "market/market_config.h"
#include "pricing/pm.h"

#include <gsl/gsl_rng.h>

#define F(field) CFG_FIELD(struct market_config, field)
/* Every key once: where it goes, its default, its range, its help. */
const struct cfg_bind mcfg_binds[] = {
	{"market", "tenant_endpoint", CFG_STRING, F(tenant_endpoint), "tcp://127.0.0.1:7101",
	 CFG_ANY,
	 "tenant API (ROUTER): bids, acquire, release, cancel, queries; \"*\" port: any free"},
	{"market", "price_endpoint", CFG_STRING, F(price_endpoint), "tcp://127.0.0.1:7102",
	 CFG_ANY, "price feed (PUB), topics price/<resource>/<host>"},
	{"market", "host_endpoint", CFG_STRING, F(host_endpoint), "tcp://127.0.0.1:7103",
	 CFG_ANY, "host API (ROUTER): register, heartbeat, meters, allocation sets"},
	{"market", "round_ms", CFG_INT, F(round_ms), "1000", MCFG_ROUND_MS_MIN, MCFG_ROUND_MS_MAX,
	 "round length in milliseconds (10 to 3600000)"},
	{"market", "ledger", CFG_STRING, F(ledger_path), "./raas-ledger.sqlite", CFG_ANY,
	 "the SQLite ledger file"},
	{"market", "key_dir", CFG_STRING, F(key_dir), "./keys", CFG_ANY,
	 "directory holding the market's CURVE key pair market.key (raas keygen market)"},
	{"market", "sync", CFG_STRING, F(sync), "full", CFG_ANY,
	 "ledger durability: full (fsync each commit: survives power loss) or normal (survives "
	 "a crash of the market process)"},
	{"market", "seed", CFG_INT, F(seed), "1", 0, INT64_MAX,
	 "seed of the pricing models' random generators"},
	{"market", "request_retention", CFG_DURATION, F(request_retention_ns), "1h", CFG_ANY,
	 "how long answers are kept to recognise a retried request"},
	{"market", "max_request_bytes", CFG_INT, F(max_request_bytes), "65536", 1024, 4 << 20,
	 "largest request accepted; larger ones are answered ERROR_TOO_BIG"},
	{"market", "batch_max", CFG_INT, F(batch_max), "4096", 1, 1 << 20,
	 "most requests committed to the ledger in one transaction"},
	{"market", "ack_timeout", CFG_DURATION, F(ack_timeout_ns), "60s", CFG_ANY,
	 "how long a host agent has to acknowledge a round (or, registering again, to say it "
	 "kept enforcing it) before the round's allocations on it are credited"},
	{"market", "round_log", CFG_DURATION, F(round_log_ns), "1s", CFG_ANY,
	 "an info line with the rounds' figures at most this often (0s: every round)"},
	{"market", "stats_file", CFG_STRING, F(stats_file), "", CFG_ANY,
	 "when set, rewritten after every round with the main thread's time per stage "
	 "(raas-bench-market reads it; docs/market.md)"},
	{"market", "default_model", CFG_STRING, F(default_model.model), "uniform", CFG_ANY,
	 "pricing model of resources without a [resource.NAME] section"},
	{"market", "default_params", CFG_STRING, F(default_model.params), "", CFG_ANY,
	 "its parameters, \"name=value, ...\""},
	{"market", "http_history_rounds", CFG_INT, F(http_history), "300", 1, 100000,
	 "rounds of price, spend and round history the dashboards' API keeps"},
	{"resource.*", "model", CFG_STRING, CFG_UNBOUND, NULL, CFG_ANY,
	 "pricing model of this resource's pools (cores, memory, bandwidth, llc, egress)"},
	{"resource.*", "params", CFG_STRING, CFG_UNBOUND, "", CFG_ANY,
	 "model parameters, \"name=value, ...\""},
	{"pool.*", "host", CFG_STRING, CFG_UNBOUND, NULL, CFG_ANY,
	 "host of a pool declared without a host agent"},
	{"pool.*", "resource", CFG_STRING, CFG_UNBOUND, NULL, CFG_ANY,
	 "cores, memory, bandwidth or llc"},
	{"pool.*", "supply", CFG_INT, CFG_UNBOUND, NULL, CFG_ANY, "units to allocate each round"},
	{"pool.*", "model", CFG_STRING, CFG_UNBOUND, "", CFG_ANY,
	 "pricing model (default: the resource's)"},
	{"pool.*", "params", CFG_STRING, CFG_UNBOUND, "", CFG_ANY, "model parameters (with model)"},
};
#undef F
const size_t mcfg_binds_len = sizeof(mcfg_binds) / sizeof(mcfg_binds[0]);

/* The dashboards' HTTP keys, read by httpd_config_load. */
static const struct cfg_key http_keys[] = {HTTPD_CFG_KEYS("market")};
#define NHTTP (sizeof(http_keys) / sizeof(http_keys[0]))

int mcfg_cfg_create(struct cfg **out)
{
	return cfg_create_bind(mcfg_binds, mcfg_binds_len, http_keys, NHTTP, out);
}

void mcfg_help(FILE *f)
{
	cfg_help(f, mcfg_binds, mcfg_binds_len, http_keys, NHTTP);
}

void mcfg_defaults(struct market_config *out)
{
	memset(out, 0, sizeof(*out));
	(void)cfg_bind_defaults(mcfg_binds, mcfg_binds_len, out); /* the table's own values */
	out->round_ns = out->round_ms * INT64_C(1000000);
	out->sync_full = strcmp(out->sync, "full") == 0;
	httpd_config_defaults(&out->http);
	out->default_model.set = true;
}

const struct mcfg_model *mcfg_model_for(const struct market_config *cfg, int resource)
{
	if (resource > 0 && resource < MCFG_RESOURCES && cfg->resources[resource].set)
		return &cfg->resources[resource];
	return &cfg->default_model;
}

/* Creates the model once to check its name and parameters; errors at section.key. With
 * posted, the model must post a price before any bid (egress is priced, never auctioned). */
static int check_model_posted(const struct cfg *c, const char *section, const char *model_key,
			      const char *params_key, const struct mcfg_model *m, bool posted,
			      struct cfg_error *err)
{
	struct pm_param params[32];
	struct pm_error pe = {{0}};
	struct pm_instance *inst;
	char *storage = NULL;
	int n = pm_params_parse(m->params, params, 32, &storage, &pe);

	if (n < 0 || n > 32) {
		free(storage);
		return cfg_error_at(c, section, params_key, err, "%s",
				    n < 0 ? pe.message : "more than 32 parameters");
	}
	int rc = pm_create(m->model, params, (size_t)n, &inst, &pe);
	free(storage);
	if (rc == 0) {
		money_t price;
		gsl_rng *rng = gsl_rng_alloc(gsl_rng_mt19937);
		struct pm_pool pool = {.supply = 0, .round = 1, .round_ns = 1000000000, .rng = rng};
		int posted_rc = posted && rng ? pm_posted_price(inst, &pool, &price) : 0;
		if (rng)
			gsl_rng_free(rng);
		pm_destroy(inst);
		if (posted_rc == -ENOTSUP)
			return cfg_error_at(c, section, model_key, err,
					    "%s is an auction; egress needs a posted-price model "
					    "(fixed, spot-ar1, utilization, trace)",
					    m->model);
		return 0;
	}
	/* An unknown model is the model key's fault; anything else the parameters'. */
	return cfg_error_at(c, section, rc == -RAAS_ENOMODEL ? model_key : params_key, err,
			    "%s", pe.message[0] ? pe.message : raas_strerror(rc));
}

static int check_model(const struct cfg *c, const char *section, const char *model_key,
		       const char *params_key, const struct mcfg_model *m, struct cfg_error *err)
{
	return check_model_posted(c, section, model_key, params_key, m, false, err);
}

static int copy_str(const struct cfg *c, const char *section, const char *key, char *dst,
		    size_t len, struct cfg_error *err)
{
	const char *v;
	int rc = cfg_get_string(c, section, key, &v, err);

	if (rc)
		return rc;
	if (strlen(v) >= len)
		return cfg_error_at(c, section, key, err, "longer than %zu characters", len - 1);
	snprintf(dst, len, "%s", v);
	return 0;
}

static int get_range(const struct cfg *c, const char *section, const char *key, int64_t lo,
		     int64_t hi, int64_t *out, struct cfg_error *err)
{
	int rc = cfg_get_int(c, section, key, out, err);

	if (rc)
		return rc;
	if (*out < lo || *out > hi)
		return cfg_error_at(c, section, key, err, "%lld is outside %lld..%lld",
				    (long long)*out, (long long)lo, (long long)hi);
	return 0;
}

static bool name_ok(const char *s)
{
	if (!*s)
		return false;
	for (; *s; s++)
		if (!((*s >= 'a' && *s <= 'z') || (*s >= 'A' && *s <= 'Z') ||
		      (*s >= '0' && *s <= '9') || *s == '.' || *s == '_' || *s == '-'))
			return false;
	return true;
}

static int load_market(const struct cfg *c, struct market_config *o, struct cfg_error *err)
{
	int rc;

	if ((rc = cfg_bind_load(c, mcfg_binds, mcfg_binds_len, o, err)))
		return rc;
	o->round_ns = o->round_ms * INT64_C(1000000);
	if (strcmp(o->sync, "full") && strcmp(o->sync, "normal"))
		return cfg_error_at(c, "market", "sync", err, "\"%s\" is not full or normal",
				    o->sync);
	o->sync_full = strcmp(o->sync, "full") == 0;
	if (o->request_retention_ns < INT64_C(1000000000))
		return cfg_error_at(c, "market", "request_retention", err,
				    "shorter than 1s: retried requests would be applied twice");
	if (o->ack_timeout_ns < o->round_ns)
		return cfg_error_at(c, "market", "ack_timeout", err,
				    "shorter than a round (%lld ms): no host could answer in time",
				    (long long)(o->round_ns / 1000000));
	if ((rc = httpd_config_load(c, "market", &o->http, err)))
		return rc;
	o->default_model.set = true;
	return check_model(c, "market", "default_model", "default_params", &o->default_model,
			   err);
}

static int load_resources(const struct cfg *c, struct market_config *o, struct cfg_error *err)
{
	const char *names[64];
	size_t n = cfg_sections(c, "resource.*", names, 64);

	if (n > 64)
		n = 64;
	for (size_t i = 0; i < n; i++) {
		const char *res_name = names[i] + strlen("resource.");
		Raas__Resource r;
		int rc;

		if (wire_resource_parse(res_name, &r) != 0)
			return cfg_error_at(c, names[i], "model", err,
					    "no resource \"%s\" (cores, memory, bandwidth, llc, "
					    "egress)",
					    res_name);
		struct mcfg_model *m = &o->resources[r];
		m->set = true;
		if ((rc = copy_str(c, names[i], "model", m->model, sizeof(m->model), err)) ||
		    (rc = copy_str(c, names[i], "params", m->params, sizeof(m->params), err)) ||
		    (rc = check_model_posted(c, names[i], "model", "params", m,
					     r == RAAS__RESOURCE__RESOURCE_EGRESS, err)))
			return rc;
	}
	return 0;
}

static int load_pools(const struct cfg *c, struct market_config *o, struct cfg_error *err)
{
	const char *names[MCFG_POOLS_MAX];
	size_t n = cfg_sections(c, "pool.*", names, MCFG_POOLS_MAX);

	if (n > MCFG_POOLS_MAX)
		return cfg_error_at(c, names[0], "host", err, "more than %d declared pools",
				    MCFG_POOLS_MAX);
	for (size_t i = 0; i < n; i++) {
		struct mcfg_pool *p = &o->pools[i];
		char res[32];
		Raas__Resource r;
		int rc;

		snprintf(p->name, sizeof(p->name), "%s", names[i] + strlen("pool."));
		if ((rc = copy_str(c, names[i], "host", p->host, sizeof(p->host), err)) ||
		    (rc = copy_str(c, names[i], "resource", res, sizeof(res), err)) ||
		    (rc = get_range(c, names[i], "supply", 0, INT64_C(1000000000000), &p->supply,
				    err)))
			return rc;
		if (!name_ok(p->host))
			return cfg_error_at(c, names[i], "host", err,
					    "\"%s\": letters, digits, '.', '_' and '-' only",
					    p->host);
		if (wire_resource_parse(res, &r) != 0 || r == RAAS__RESOURCE__RESOURCE_EGRESS)
			return cfg_error_at(c, names[i], "resource", err,
					    "\"%s\" is not cores, memory, bandwidth or llc", res);
		p->resource = r;
		for (size_t j = 0; j < i; j++)
			if (o->pools[j].resource == (int)r && strcmp(o->pools[j].host, p->host) == 0)
				return cfg_error_at(c, names[i], "host", err,
						    "pool.%s declares %s on %s already",
						    o->pools[j].name, res, p->host);
		if ((rc = copy_str(c, names[i], "model", p->model.model, sizeof(p->model.model),
				   err)) ||
		    (rc = copy_str(c, names[i], "params", p->model.params,
				   sizeof(p->model.params), err)))
			return rc;
		if (p->model.model[0]) {
			p->model.set = true;
			if ((rc = check_model(c, names[i], "model", "params", &p->model, err)))
				return rc;
		} else if (p->model.params[0]) {
			return cfg_error_at(c, names[i], "params", err,
					    "params without model (the resource's model has its "
					    "own params)");
		}
		o->npools++;
	}
	return 0;
}

int mcfg_load(const struct cfg *c, struct market_config *out, struct cfg_error *err)
{
	int rc;

	mcfg_defaults(out);
	if ((rc = load_market(c, out, err)) || (rc = load_resources(c, out, err)) ||
	    (rc = load_pools(c, out, err)))
		return rc;
	return 0;
}
