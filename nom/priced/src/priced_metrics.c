/* priced_metrics.c: nom-priced's /metrics page (Prometheus text, docs/dashboards.md): the
 * board's updates and staleness, the prices it follows, its account and message counts.
 *
 * The page is rendered by the daemon's loop from the board's working copy and published as
 * an HTTP snapshot (common/httpd.h); the HTTP thread never reads the board or struct priced.
 * It is rendered again when the board changed, and at least every METRICS_PERIOD_NS so that
 * the staleness gauge moves while the market is silent. */
#include <errno.h>

#include "common/log.h"
#include "common/prom.h"
#include "priced.h"

#define METRICS_PERIOD_NS (500 * NS_PER_MS)

int priced_metrics_open(struct priced *p)
{
	const struct httpd_options opts = {
		.server = PRICED_VERSION,
		.metrics_prefix = "raas_priced",
	};
	char why[512];
	int err;

	p->started_mono = clk_mono(p->clk);
	if (!p->cfg.http.enabled)
		return 0;
	if ((err = httpd_start(&p->cfg.http, &opts, &p->http, why, sizeof(why))) != 0) {
		log_error("%s", why);
		return err;
	}
	priced_metrics_tick(p);
	return 0;
}

void priced_metrics_close(struct priced *p)
{
	httpd_stop(p->http);
	p->http = NULL;
}

void priced_metrics_render(const struct priced *p, int64_t now_mono, struct sbuf *b)
{
	const struct bb_body *body = bb_writer_body(p->board);
	const struct bb_state *st = &body->state;
	const char *inst[] = {"instance", p->cfg.instance};
	char lab[256], il[160];
	int64_t since = p->last_price_mono ? p->last_price_mono : p->started_mono;

	prom_labels(il, sizeof(il), 1, inst);
	prom_family(b, "raas_priced_board_updates_total", "counter",
		    "bulletin board publishes since the board was created");
	prom_int(b, "raas_priced_board_updates_total", il, (int64_t)st->update_count);
	prom_family(b, "raas_priced_board_staleness_seconds", "gauge",
		    "age of the newest subscribed price on the board (since start when none)");
	prom_double(b, "raas_priced_board_staleness_seconds", il,
		    (double)(now_mono - since) / 1e9);
	prom_family(b, "raas_priced_market_up", "gauge",
		    "1 while the session with the market is up");
	prom_int(b, "raas_priced_market_up", il, p->session == SESSION_UP ? 1 : 0);
	prom_family(b, "raas_priced_board_round", "gauge", "the latest round the market announced");
	prom_int(b, "raas_priced_board_round", il, (int64_t)st->round);
	prom_family(b, "raas_priced_price_nanodollars_per_unit_hour", "gauge",
		    "the last price received per subscribed resource and host (egress: per Gbit)");
	for (uint32_t i = 0; i < st->nprices && i < BB_MAX_PRICES; i++) {
		const struct bb_price *pr = &body->prices[i];
		const char *kv[] = {"instance", p->cfg.instance, "resource",
				    bb_resource_name(pr->resource), "host", pr->host};
		prom_int(b, "raas_priced_price_nanodollars_per_unit_hour",
			 prom_labels(lab, sizeof(lab), 3, kv), pr->unit_price);
	}
	prom_family(b, "raas_priced_charged_nanodollars", "gauge",
		    "the tenant's charged total as the board shows it");
	prom_int(b, "raas_priced_charged_nanodollars", il, st->charged_total);
	prom_family(b, "raas_priced_notices_total", "counter", "allocation notices received");
	prom_int(b, "raas_priced_notices_total", il, (int64_t)p->notices);
	prom_family(b, "raas_priced_prices_received_total", "counter", "price updates received");
	prom_int(b, "raas_priced_prices_received_total", il, (int64_t)p->prices_received);
	prom_family(b, "raas_priced_app_requests_total", "counter",
		    "requests from the instance's apps");
	prom_int(b, "raas_priced_app_requests_total", il, (int64_t)p->app_requests);
	prom_family(b, "raas_priced_reported_profit_nanodollars_per_hour", "gauge",
		    "the profit each app last reported (sent on to the market)");
	for (int i = 0; i < p->nprofits; i++) {
		const char *kv[] = {"instance", p->cfg.instance, "app", p->profits[i].app};
		prom_int(b, "raas_priced_reported_profit_nanodollars_per_hour",
			 prom_labels(lab, sizeof(lab), 2, kv), p->profits[i].profit_per_hour);
	}
	if (p->http)
		httpd_metrics_write(p->http, b);
}

void priced_metrics_tick(struct priced *p)
{
	int64_t now = clk_mono(p->clk);
	uint32_t seq = bb_writer_seq(p->board);
	struct httpd_snap *s;
	struct sbuf b;

	if (!p->http || (seq == p->metrics_seq && now < p->next_metrics_mono))
		return;
	if (!(s = httpd_snap_create()))
		return;
	sbuf_init(&b);
	priced_metrics_render(p, now, &b);
	if (sbuf_failed(&b) ||
	    httpd_snap_add_sbuf(s, "/metrics", "text/plain; version=0.0.4; charset=utf-8", &b)) {
		httpd_snap_free(s); /* the last page stays */
		sbuf_fini(&b);
		return;
	}
	sbuf_fini(&b);
	httpd_publish(p->http, s);
	p->metrics_seq = seq;
	p->next_metrics_mono = now + METRICS_PERIOD_NS;
}
