/* metrics.c: raas-hostagentd's /metrics page: applies, their latency and failures, meters. */
#include <errno.h>

#include "common/prom.h"
#include "hostagent/metrics.h"

void ha_metrics_render(const struct ha_totals *t, const struct ha_agent *a,
		       const struct ha_config *conf, bool market_up, struct httpd *h,
		       struct sbuf *b)
{
	char lab[256];
	const char *host[] = {"host", conf->host};

	/* Which host of the market this page is of (a scrape's target label is an address). */
	prom_family(b, "raas_hostagent_info", "gauge", "1, labelled with this agent's host name");
	prom_int(b, "raas_hostagent_info", prom_labels(lab, sizeof(lab), 1, host), 1);
	prom_family(b, "raas_hostagent_rounds_applied_total", "counter",
		    "allocation sets applied since start");
	prom_int(b, "raas_hostagent_rounds_applied_total", NULL, (int64_t)t->sets);
	prom_family(b, "raas_hostagent_rounds_failed_total", "counter",
		    "allocation sets with at least one failed apply");
	prom_int(b, "raas_hostagent_rounds_failed_total", NULL, (int64_t)t->sets_failed);
	prom_family(b, "raas_hostagent_allocations_total", "counter",
		    "allocations in the sets applied");
	prom_int(b, "raas_hostagent_allocations_total", NULL, (int64_t)t->allocations);
	prom_family(b, "raas_hostagent_last_round", "gauge", "the last round applied");
	prom_int(b, "raas_hostagent_last_round", NULL, (int64_t)t->last_round);
	prom_hist_write(b, "raas_hostagent_apply_seconds",
			"time to enforce one allocation set (every backend call)", &t->apply);
	prom_family(b, "raas_hostagent_apply_failures_total", "counter",
		    "applies that failed, by resource (\"set\": the set as a whole was refused)");
	for (int r = 0; r <= ENF_RES_MAX; r++) {
		const char *res = r ? enf_resource_name((enum enf_resource)r) : "set";
		const char *kv[] = {"resource", res};
		prom_int(b, "raas_hostagent_apply_failures_total",
			 prom_labels(lab, sizeof(lab), 1, kv), (int64_t)t->failures[r]);
	}
	prom_family(b, "raas_hostagent_market_connected", "gauge",
		    "1 when the market answers this agent");
	prom_int(b, "raas_hostagent_market_connected", NULL, market_up ? 1 : 0);
	prom_family(b, "raas_hostagent_tenant_tx_bytes_total", "counter",
		    "bytes the tenant transmitted, as last reported to the market");
	for (size_t i = 0; i < conf->ntargets; i++) {
		uint64_t tx, cpu;
		const char *kv[] = {"tenant", conf->targets[i].tenant};
		if (ha_agent_reported_meters(a, i, &tx, &cpu) == 0)
			prom_int(b, "raas_hostagent_tenant_tx_bytes_total",
				 prom_labels(lab, sizeof(lab), 1, kv), (int64_t)tx);
	}
	prom_family(b, "raas_hostagent_tenant_cpu_seconds_total", "counter",
		    "CPU time the tenant used, as last reported to the market");
	for (size_t i = 0; i < conf->ntargets; i++) {
		uint64_t tx, cpu;
		const char *kv[] = {"tenant", conf->targets[i].tenant};
		if (ha_agent_reported_meters(a, i, &tx, &cpu) == 0)
			prom_double(b, "raas_hostagent_tenant_cpu_seconds_total",
				    prom_labels(lab, sizeof(lab), 1, kv), (double)cpu / 1e9);
	}
	if (h)
		httpd_metrics_write(h, b);
}

int ha_metrics_publish(const struct ha_totals *t, const struct ha_agent *a,
		       const struct ha_config *conf, bool market_up, struct httpd *h)
{
	struct httpd_snap *s;
	struct sbuf b;
	int err;

	if (!h)
		return 0;
	if (!(s = httpd_snap_create()))
		return -ENOMEM;
	sbuf_init(&b);
	ha_metrics_render(t, a, conf, market_up, h, &b);
	if (sbuf_failed(&b))
		err = -ENOMEM;
	else
		err = httpd_snap_add_sbuf(s, "/metrics", "text/plain; version=0.0.4; charset=utf-8",
					  &b);
	sbuf_fini(&b);
	if (err) {
		httpd_snap_free(s);
		return err;
	}
	httpd_publish(h, s);
	return 0;
}
