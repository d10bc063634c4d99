/* test_adapt.c: the adaptive controller with a manual clock: it re-picks the delay the step
 * after a price jump, follows the load level the measured rate points to (with hysteresis),
 * and picks what econ's optimizer picks. */
#include <math.h>
#include <stdio.h>
#include <string.h>

#include "app/adapt.h"
#include "test.h"

#define MS INT64_C(1000000)

static const char profile_csv[] =
	"app,load,delay_us,throughput_rps,latency_us,jitter_us,bytes_per_request,source\n"
	"memcached,many,0,30000,60,5,1100,test\n"
	"memcached,many,10,36000,120,8,1100,test\n"
	"memcached,many,40,45000,200,10,1100,test\n"
	"memcached,single,0,15000,40,3,1100,test\n"
	"memcached,single,10,12000,60,4,1100,test\n"
	"memcached,single,40,8000,100,6,1100,test\n";

static int64_t applied = -1;
static int applies;

static int set_delay(void *arg, int64_t ns)
{
	(void)arg;
	applied = ns;
	applies++;
	return 0;
}

int main(void)
{
	struct econ_profile *p;
	struct econ_error err;
	struct price_source *prices;
	struct adapt_config cfg;
	struct adapt *a;
	struct adapt_status st;
	char msg[256];
	const struct econ_app *app;
	uint64_t req = 0;
	int64_t t;

	ASSERT_OK(econ_profile_parse("test.csv", profile_csv, strlen(profile_csv), &p, &err));
	app = econ_profile_app(p, "memcached");
	ASSERT_TRUE(app != NULL);

	/* Levels from the measured rate, at the current delay, with hysteresis. */
	ASSERT_EQ(adapt_pick_level(app, 30000, 0, -1), 0);
	ASSERT_EQ(adapt_pick_level(app, 15000, 0, -1), 1);
	ASSERT_EQ(adapt_pick_level(app, 8000, 40, -1), 1);
	ASSERT_EQ(adapt_pick_level(app, 21000, 0, 0), 0); /* closer to single, not by 50% */
	ASSERT_EQ(adapt_pick_level(app, 14000, 0, 0), 1);
	ASSERT_EQ(adapt_pick_level(app, 0, 0, 1), 1);     /* idle: keep */

	ASSERT_OK(price_schedule_parse("prices", "0 1\n1s 19\n", 10, &prices, msg, sizeof(msg)));
	memset(&cfg, 0, sizeof(cfg));
	cfg.profile = p;
	cfg.app = "memcached";
	econ_utility_thesis(ECON_REFUND, &cfg.utility);
	cfg.prices = prices;
	cfg.adaptive = true;
	cfg.period_ns = 10 * MS;
	cfg.set_delay = set_delay;
	ASSERT_OK(adapt_create(&cfg, &a, msg, sizeof(msg)));

	/* Load of the `many` level (30,000 requests/s at delay 0), price $1/Gbit. */
	for (t = 0; t < 1000 * MS; t += 10 * MS) {
		adapt_step(a, t, req);
		req += 300;
	}
	adapt_status(a, &st);
	ASSERT_STR_EQ(st.level_name, "many");
	ASSERT_NEAR(st.price, 1, 0);
	{
		const struct econ_point *best = econ_optimize(&app->levels[0], &cfg.utility, 1, NULL);

		ASSERT_NEAR(st.delay_us, best->delay_us, 0);
		ASSERT_EQ(applied, (int64_t)(best->delay_us * 1000));
		ASSERT_NEAR(best->delay_us, 40, 0); /* cheap traffic: throughput wins */
	}
	/* The price jumps to $19/Gbit at 1 s: the very next step re-picks. */
	ASSERT_TRUE(adapt_step(a, 1000 * MS, req));
	adapt_status(a, &st);
	ASSERT_NEAR(st.price, 19, 0);
	{
		const struct econ_point *best = econ_optimize(&app->levels[0], &cfg.utility, 19, NULL);

		ASSERT_NEAR(st.delay_us, best->delay_us, 0);
		ASSERT_NEAR(best->delay_us, 0, 0); /* dear traffic: latency wins */
		ASSERT_EQ(applied, 0);
	}
	/* Nothing changes: no re-pick. */
	req += 300;
	ASSERT_TRUE(!adapt_step(a, 1010 * MS, req));

	/* The load drops to one client (15,000/s at delay 0): the level follows within the
	 * rate window. */
	for (t = 1020 * MS; t < 1500 * MS; t += 10 * MS) {
		req += 150;
		adapt_step(a, t, req);
	}
	adapt_status(a, &st);
	ASSERT_STR_EQ(st.level_name, "single");
	ASSERT_GE(st.changes, 2);
	adapt_destroy(a);

	/* A profile without the app is refused with a reason. */
	cfg.app = "nhttpd";
	ASSERT_TRUE(adapt_create(&cfg, &a, msg, sizeof(msg)) < 0);
	ASSERT_STR_CONTAINS(msg, "nhttpd");

	price_destroy(prices);
	econ_profile_destroy(p);
	printf("test_app_adapt: ok (%d delay changes applied)\n", applies);
	return 0;
}
