/* test_sim_tenant.c: a simulated tenant's bid and working point, against nom/econ directly.
 *
 * The conversions checked: an adaptive app's demand curve (econ_menu_curve, Gbit/s at $/Gbit)
 * becomes a pm bid in Mbit/s at nanodollars per (Mbit/s)-hour (x 3.6e9); a static app bids one
 * segment; an app under metered egress runs at the optimizer's point for the price; an app
 * holding bandwidth runs at the best point under its allocation; a flat tenant bids its drawn
 * value for its quantity. */
#include <math.h>

#include "scenario.h"
#include "sim_testutil.h"
#include "world.h"

static const char *text =
	"[sim]\nduration = 1h\nround = 1m\n"
	"[hosts]\ncount = 1\nbandwidth = 1000\ncores = 4\n"
	"[resource.bandwidth]\nmodel = uniform\n[resource.cores]\nmodel = uniform\n"
	"[resource.egress]\nmodel = schedule\nschedule = 0s $1\n"
	"[template.n]\napp = memcached\nprofile = " RAAS_SOURCE_DIR
	"/sim/tests/profiles/synthetic.csv\nutility = refund\nbeta = 100\n"
	"load = phases\nphases = many:10m:0.5\n"
	"[class.adaptive]\ntemplate = n\nresource = bandwidth\n"
	"[class.static]\ntemplate = n\nresource = bandwidth\nstrategy = static-lat\n"
	"[class.egress]\ntemplate = n\n"
	"[class.flat]\nkind = flat\nresource = cores\nquantity = 3\nmin_quantity = 2\n"
	"value = $0.07\n";

int main(void)
{
	struct sim_scenario *sc;
	struct sim_world *w;
	struct cfg_error err;
	char why[256], msg[512];
	struct pm_bid bid;
	struct pm_segment segs[ECON_MENU_MAX];
	struct econ_segment es[ECON_MENU_MAX];

	if (sim_scenario_parse("t.ini", text, strlen(text), ".", NULL, NULL, 0, &sc, &err))
		TEST_FAIL("%s", cfg_error_format(&err, msg, sizeof(msg)));
	if (world_create(sc, 1, &w, why, sizeof(why)))
		TEST_FAIL("%s", why);
	uint32_t ta = world_add_tenant(w, 0), ts = world_add_tenant(w, 1);
	uint32_t te = world_add_tenant(w, 2), tf = world_add_tenant(w, 3);
	const struct sim_class_rt *ka = &w->classes[0];
	ASSERT_NEAR(ka->scale, 0.5, 0);
	for (size_t c = 0; c < w->nclasses; c++)
		tenant_class_bid(w, &w->classes[c]);

	/* Adaptive: the curve, converted. */
	ASSERT_TRUE(tenant_bid(w, &w->tenants[ta], &bid, segs));
	size_t ne = econ_menu_curve(&ka->menus[ka->level], 0.5, es, ECON_MENU_MAX);
	ASSERT_TRUE(ne >= 2);
	ASSERT_EQ(bid.ncurve, ne);
	double cum = 0;
	int64_t total = 0;
	for (size_t i = 0; i < ne; i++) {
		cum += es[i].gbps;
		total += bid.curve[i].quantity;
		ASSERT_EQ(total, llround(cum * 1000));
		ASSERT_EQ(bid.curve[i].unit_value, llround(es[i].value_per_gbit * 3.6e9));
		ASSERT_TRUE(i == 0 || bid.curve[i].unit_value < bid.curve[i - 1].unit_value);
	}
	ASSERT_EQ(bid.max_quantity, total);
	ASSERT_EQ(bid.min_quantity, 0);
	ASSERT_EQ(bid.unit_price, bid.curve[ne - 1].unit_value);
	ASSERT_TRUE(bid.true_curve == bid.curve && bid.ntrue == bid.ncurve);
	ASSERT_TRUE(bid.curve == ka->bid); /* shared by the class's members */
	ASSERT_EQ(bid.bidder, w->tenants[ta].id);
	/* memcached at 14 us, half load: 0.176 Gbit/s = 176 Mbit/s in all. */
	ASSERT_EQ(total, 176);

	/* Static-lat: one segment at delay 0: 33,000 ops/s x 1100 B x 0.5 = 145.2 Mbit/s, worth
	 * 20 - 100 x 0.0665 = 13.35 $/Gbit = 48.06 $/(Mbit/s)-hour. */
	ASSERT_TRUE(tenant_bid(w, &w->tenants[ts], &bid, segs));
	ASSERT_EQ(bid.ncurve, 1);
	ASSERT_EQ(bid.curve[0].quantity, 145);
	ASSERT_EQ(bid.curve[0].unit_value, llround(13.35 * 3.6e9));

	/* Held bandwidth: with 100 Mbit/s the adaptive app serves 0.1 Gbit/s at the point that
	 * is worth most per Gbit (delay 0: lowest latency). */
	w->tenants[ta].alloc = 100;
	tenant_update(w, &w->tenants[ta], 0);
	ASSERT_NEAR(w->tenants[ta].delay_us, 0, 0);
	ASSERT_NEAR(w->tenants[ta].value_rate, 0.1 * 13.35 * 1e9, 1e-3);
	w->tenants[ta].alloc = 1000;
	tenant_update(w, &w->tenants[ta], 0);
	size_t k = econ_menu_pick_capped(&ka->menus[ka->level], 0.5, 1.0);
	ASSERT_NEAR(w->tenants[ta].delay_us, ka->menus[ka->level].choices[k].point->delay_us, 0);
	ASSERT_EQ(w->tenants[ta].egress_gbps, 0);

	/* Metered egress at $1/Gbit: the optimizer's point, paying for its traffic. */
	tenant_update(w, &w->tenants[te], MONEY_PER_DOLLAR);
	const struct econ_menu *me = &w->classes[2].menus[0];
	size_t pick = econ_menu_pick(me, 1.0);
	ASSERT_NEAR(w->tenants[te].delay_us, me->choices[pick].point->delay_us, 0);
	ASSERT_NEAR(w->tenants[te].egress_gbps, me->choices[pick].tput_gbps * 0.5, 1e-12);
	ASSERT_NEAR(w->tenants[te].value_rate,
		    me->choices[pick].tput_gbps * 0.5 * me->choices[pick].value_per_gbit * 1e9, 1e-3);

	/* Flat: 3 cores or at least 2, at $0.07 each per hour. */
	ASSERT_TRUE(tenant_bid(w, &w->tenants[tf], &bid, segs));
	ASSERT_EQ(bid.max_quantity, 3);
	ASSERT_EQ(bid.min_quantity, 2);
	ASSERT_EQ(bid.unit_price, 70000000);
	ASSERT_TRUE(bid.curve == NULL);
	w->tenants[tf].alloc = 2;
	tenant_update(w, &w->tenants[tf], 0);
	ASSERT_NEAR(w->tenants[tf].value_rate, 2 * 70000000.0 / 3600, 1e-6);

	/* Accrual: an hour of that is $0.14 exactly. */
	w->now = INT64_C(3600000000000);
	tenant_accrue(w, &w->tenants[tf], w->now);
	ASSERT_EQ(w->tenants[tf].acc_value, 140000000);
	world_check(w);
	world_remove_tenant(w, tf);
	world_check(w);
	world_destroy(w);
	sim_scenario_destroy(sc);
	printf("test_sim_tenant: ok\n");
	return 0;
}
