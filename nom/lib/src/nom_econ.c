/* nom_econ.c: libnom's bridge between the bulletin board's prices and nom/econ's optimizer.
 *
 * The economics works in dollars per Gbit of traffic; the market prices either egress
 * (nanodollars per Gbit) or bandwidth (nanodollars per Mbit/s-hour). Here the board's price
 * becomes the economics' P, so an app re-picks its working point with one call whenever
 * nom_wait_change() says the price moved. */
#include <errno.h>

#include "common/money.h"
#include "nom_priv.h"

int nom_traffic_price(struct nom *n, const char *host, double *dollars_per_gbit, bool *stale)
{
	struct nom_price_info p;
	int err = nom_price(n, NOM_EGRESS, host, &p);

	if (err == 0) {
		*dollars_per_gbit = (double)p.unit_price / (double)MONEY_PER_DOLLAR;
	} else if (err == -ENOENT && (err = nom_price(n, NOM_BANDWIDTH, host, &p)) == 0) {
		*dollars_per_gbit =
			(double)p.unit_price / (double)MONEY_PER_DOLLAR / NOM_GBIT_PER_MBPS_HOUR;
	} else {
		return nom__fail(n, err, "no egress or bandwidth price for host '%s' on the board",
				 host ? host : "");
	}
	if (stale)
		*stale = p.stale;
	return 0;
}

int nom_pick_delay(struct nom *n, const char *host, const struct econ_level *level,
		   const struct econ_utility *u, const struct econ_point **out,
		   double *price_used)
{
	double price;
	int err = nom_traffic_price(n, host, &price, NULL);

	if (err)
		return err;
	const struct econ_point *pt = econ_optimize(level, u, price, &err);
	if (!pt)
		return nom__fail(n, err, "the optimizer found no point: %s",
				 err == -E2BIG ? "the frontier is too large" : "bad utility or level");
	*out = pt;
	if (price_used)
		*price_used = price;
	return 0;
}

int nom_utility_now(struct nom *n, const char *host, const struct econ_utility *u,
		    const struct econ_point *pt, double *dollars_per_s)
{
	double price;
	int err = nom_traffic_price(n, host, &price, NULL);

	if (err)
		return err;
	*dollars_per_s = econ_utility_rate(u, econ_point_gbps(pt), pt->latency_us, pt->jitter_us,
					   price);
	return 0;
}
