/* priced_profit.c: the profit the instance's apps report (raas.proto ProfitReport), kept per
 * app and sent to the market as the instance's whole report.
 *
 * An app reports its own entry (one AppProfit: its profit per hour and its W) over the local
 * API. nom-priced keeps the latest entry of each app and forwards, in the app's request's
 * place, a report of every app's latest entry with their sum, so that the market (which keeps
 * one report per tenant) always holds the whole instance, whichever app spoke last. The
 * market's answer goes back to the app that reported, like any request. */
#include <stdio.h>
#include <string.h>

#include "common/error.h"
#include "priced.h"

bool priced_profit_check(const struct priced *p, const Raas__ProfitReport *r, char *why,
			 size_t len, int *code)
{
	*code = RAAS__ERROR_CODE__ERROR_MALFORMED;
	if (wire_profit_check(r, 1, why, len) != 0)
		return false;
	for (int i = 0; i < p->nprofits; i++)
		if (strcmp(p->profits[i].app, r->apps[0]->app) == 0)
			return true;
	if (p->nprofits >= WIRE_PROFIT_APPS_MAX) {
		*code = RAAS__ERROR_CODE__ERROR_TOO_BIG;
		snprintf(why, len, "profit_report: the instance already reports %d apps, the most "
			 "a report holds", WIRE_PROFIT_APPS_MAX);
		return false;
	}
	return true;
}

void priced_profit_forward(struct priced *p, const struct tp_route *route, Raas__Envelope *e)
{
	const Raas__AppProfit *in = e->profit_report->apps[0];
	struct priced_profit *slot = NULL;

	for (int i = 0; i < p->nprofits && !slot; i++)
		if (strcmp(p->profits[i].app, in->app) == 0)
			slot = &p->profits[i];
	if (!slot)
		slot = &p->profits[p->nprofits++]; /* room checked by priced_profit_check */
	snprintf(slot->app, sizeof(slot->app), "%s", in->app);
	slot->profit_per_hour = in->profit_per_hour;
	slot->w_ns = in->w_ns;
	slot->measured_wall_ns = in->measured_wall_ns;

	Raas__ProfitReport all = RAAS__PROFIT_REPORT__INIT;
	Raas__AppProfit apps[WIRE_PROFIT_APPS_MAX];
	Raas__AppProfit *ap[WIRE_PROFIT_APPS_MAX];
	for (int i = 0; i < p->nprofits; i++) {
		raas__app_profit__init(&apps[i]);
		apps[i].app = p->profits[i].app;
		apps[i].profit_per_hour = p->profits[i].profit_per_hour;
		apps[i].w_ns = p->profits[i].w_ns;
		apps[i].measured_wall_ns = p->profits[i].measured_wall_ns;
		ap[i] = &apps[i];
		all.profit_per_hour += p->profits[i].profit_per_hour;
	}
	all.n_apps = (size_t)p->nprofits;
	all.apps = ap;
	/* e is the app's decoded request: lend it the whole report while it is encoded, then
	 * give it back its own (which tp_msg_clear frees). */
	Raas__ProfitReport *own = e->profit_report;
	e->profit_report = &all;
	priced_market_forward(p, route, e);
	e->profit_report = own;
}
