/* metrics.h: raas-hostagentd's /metrics page (Prometheus text, docs/dashboards.md).
 *
 * The daemon's loop renders the page from the agent's totals (struct ha_totals, kept by the
 * daemon across reloads), the meters it last reported and the market link's state, and
 * publishes it as an HTTP snapshot (common/httpd.h); the HTTP thread only serves the copy. */
#ifndef HOSTAGENT_METRICS_H
#define HOSTAGENT_METRICS_H

#include <stdbool.h>

#include "common/httpd.h"
#include "common/sbuf.h"
#include "hostagent/agent.h"

/* Writes every raas_hostagent_ family into b (h, when not NULL, adds the HTTP side's). */
void ha_metrics_render(const struct ha_totals *t, const struct ha_agent *a,
		       const struct ha_config *conf, bool market_up, struct httpd *h,
		       struct sbuf *b);
/* Renders the page and publishes it to h as /metrics. 0 or -ENOMEM (the last page stays). */
int ha_metrics_publish(const struct ha_totals *t, const struct ha_agent *a,
		       const struct ha_config *conf, bool market_up, struct httpd *h);

#endif
