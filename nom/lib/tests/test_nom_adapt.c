/* test_nom_adapt.c: libnom's controller with a manual clock and a price source of the test's
 * own (the source interface, as the board implements it), no market: the load level from the
 * clients the meter counts, the working point and the bandwidth it needs per strategy at each
 * price, the second core and when it is worth its price, the cache size from a hit-rate
 * curve at each memory price, and refusals of bad configurations.
 *
 * The expected points are worked out by hand with the refund utility and the thesis's
 * parameters (a = 20 - 10 x L[ms] $/Gbit; U = T (a - P)), on this profile (bytes 1100, so
 * T = rps x 8.8e-6 Gbit/s):
 *   many   W=0:  30000 rps,  60 us: T 0.2640, a 19.4
 *          W=10: 36000 rps, 120 us: T 0.3168, a 18.8
 *          W=40: 45000 rps, 200 us: T 0.3960, a 18.0
 *   single W=0:  15000 rps,  40 us: T 0.1320, a 19.6 (dominates the other single rows)
 * At P = $1:    U = 4.858, 5.639, 6.732      -> W=40, needs ceil(396.0) = 396 Mbit/s
 * At P = $19:   U = 0.1056, -0.063, -0.396   -> W=0, needs ceil(264.0) = 264 Mbit/s
 * At P = $19.5: every U < 0, best W=0 (-0.0264); a = 19.4 < 19.5: a price-aware app holds 0. */
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "nom/adapt.h"
#include "test.h"

#define MS INT64_C(1000000)

static const char mc_csv[] =
	"app,load,delay_us,throughput_rps,latency_us,jitter_us,bytes_per_request,source\n"
	"memcached,many,0,30000,60,5,1100,test\n"
	"memcached,many,10,36000,120,8,1100,test\n"
	"memcached,many,40,45000,200,10,1100,test\n"
	"memcached,single,0,15000,40,3,1100,test\n"
	"memcached,single,10,12000,60,4,1100,test\n"
	"memcached,single,40,8000,100,6,1100,test\n";

/* nhttpd: the second core adds 8,000 requests/s of 1,000 bytes at the same latency:
 * T 0.080 -> 0.144 Gbit/s, a = 19. At P = $1 one core earns 0.080 x 18 = 1.44 $/s and
 * two 2.592: the second core is worth 1.152 $/s = $4147.2 per core-hour. */
static const char nh_csv[] =
	"app,load,delay_us,throughput_rps,latency_us,jitter_us,bytes_per_request,cores\n"
	"nhttpd,many,0,10000,100,10,1000,1\n"
	"nhttpd,many,0,18000,100,10,1000,2\n";

/* Hybrid polling (issue 19), the numbers of test_econ_optimize's test_spin_priced: one
 * client, W = 0; no spin 0.16 Gbit/s at 60 us burning 0.5 cores, spin 50 us 0.24 Gbit/s at
 * 40 us burning 0.9. At P = $1: U = 2.944 - 0.5 c and 4.464 - 0.9 c (c in $/s): the spin pays
 * below c = 3.8 $/s = $13,680 per core-hour. */
static const char spin_csv[] =
	"app,load,delay_us,spin_us,throughput_rps,latency_us,jitter_us,bytes_per_request,"
	"cpu_us_per_request\n"
	"memcached,single,0,0,20000,60,5,1000,25\n"
	"memcached,single,0,50,30000,40,5,1000,30\n";

/* A price source of the test's own: prices set by the test, next change unknown. */
static struct nom_prices now_prices = {.traffic = 1, .core_hour = -1, .memory_hour = -1};

static int test_get(void *priv, int64_t t, struct nom_prices *out, int64_t *next)
{
	(void)priv;
	(void)t;
	*out = now_prices;
	*next = INT64_MAX;
	return 0;
}

static const struct nom_source_ops test_ops = {
	.api_version = NOM_SOURCE_VERSION,
	.size = sizeof(struct nom_source_ops),
	.name = "test",
	.get = test_get};
static struct nom_source source = {&test_ops, NULL};

static struct nom_wp applied;
static int applies;

static int apply(void *arg, const struct nom_wp *wp)
{
	(void)arg;
	applied = *wp;
	applies++;
	return 0;
}

/* hits(m) = 9,000/s x min(m / 32 MiB, 1) of 10,000 gets/s: 90% once the working set fits. */
static int curve(void *arg, struct nom_memory_curve *c)
{
	(void)arg;
	memset(c, 0, sizeof(*c));
	c->step_mib = 1;
	c->n = 65;
	for (size_t i = 0; i < c->n; i++)
		c->hits_per_s[i] = 9000.0 * fmin((double)i / 32, 1);
	c->gets_per_s = 10000;
	c->bytes_per_hit = 1000;
	c->lookups = 100000;
	return 0;
}

static struct nom_load *load;
static uint64_t tokens[16];
static int64_t load_t;

/* One 50 ms window of clients connections (each 100 requests), closed by the next report. */
static void window(int clients)
{
	for (int c = 0; c < clients; c++)
		nom_load_add(load, load_t + c, 100, &tokens[c]);
	load_t += 50 * MS;
	nom_load_add(load, load_t, 0, NULL);
}

static struct nom_adapt *make(struct econ_profile *p, const char *app, enum nom_strategy s,
			      double delay_us, int64_t cores_max, int64_t memory_max)
{
	struct nom_adapt_config c = {
		.size = sizeof(c), .profile = p, .app = app, .strategy = s, .delay_us = delay_us,
		.prices = &source, .load = load, .cores_max = cores_max, .apply = apply,
	};
	struct nom_adapt *a;
	char err[256];

	econ_utility_thesis(ECON_REFUND, &c.utility);
	if (memory_max) {
		c.memory_min_mib = 1;
		c.memory_max_mib = memory_max;
		c.memory_reserve_mib = 8;
		c.memory_curve = curve;
	}
	if (nom_adapt_create(&c, &a, err, sizeof(err)) != 0)
		TEST_FAIL("nom_adapt_create: %s", err);
	return a;
}

static int64_t t_ctl;

static struct nom_adapt_status step(struct nom_adapt *a)
{
	struct nom_adapt_status st;

	t_ctl += 10 * MS;
	nom_adapt_step(a, t_ctl, 0);
	nom_adapt_status(a, &st);
	return st;
}

int main(void)
{
	struct econ_profile *p;
	struct econ_error eerr;
	struct nom_adapt *a;
	struct nom_adapt_status st;
	char err[256];

	ASSERT_OK(econ_profile_parse("mc.csv", mc_csv, strlen(mc_csv), &p, &eerr));
	ASSERT_OK(nom_load_create(50 * MS, &load));
	const struct econ_app *app = econ_profile_app(p, "memcached");

	/* Levels: "many" stands for 16 clients, "single" for 1; the nearest in ratio, kept
	 * unless another is nearer by more than 1.5x. */
	ASSERT_EQ(nom_adapt_pick_level(app, 0, 16, 0, -1), 0);
	ASSERT_EQ(nom_adapt_pick_level(app, 0, 1, 0, -1), 1);
	/* |log(5/16)| = 1.16 beats |log(5/1)| = 1.61 by more than log 1.5 = 0.41: moves. */
	ASSERT_EQ(nom_adapt_pick_level(app, 0, 5, 0, 1), 0);
	/* |log(3.5/1)| = 1.25 is nearer than |log(3.5/16)| = 1.52, but not by 0.41: kept. */
	ASSERT_EQ(nom_adapt_pick_level(app, 0, 3.5, 0, 0), 0);
	ASSERT_EQ(nom_adapt_pick_level(app, 0, 3.5, 0, 1), 1);
	ASSERT_EQ(nom_adapt_pick_level(app, 0, 0, 0, 1), 1);  /* no load: kept */

	/* Adaptive, 16 clients, P = $1: W = 40, 396 Mbit/s. */
	a = make(p, "memcached", NOM_ADAPTIVE, 0, 0, 0);
	window(16);
	st = step(a);
	ASSERT_STR_EQ(st.wp.level_name, "many");
	ASSERT_NEAR(st.wp.knobs.delay_us, 40, 0);
	ASSERT_EQ(st.wp.bandwidth_mbit, 396);
	ASSERT_NEAR(st.wp.utility, 0.396 * 17, 1e-9);
	ASSERT_NEAR(applied.knobs.delay_us, 40, 0);
	/* P = $19 from the next step on: W = 0 at once, 264 Mbit/s. */
	now_prices.traffic = 19;
	st = step(a);
	ASSERT_NEAR(st.wp.knobs.delay_us, 0, 0);
	ASSERT_EQ(st.wp.bandwidth_mbit, 264);
	ASSERT_NEAR(applied.knobs.delay_us, 0, 0);
	ASSERT_EQ(st.picks, 2);
	/* Nothing new: no re-pick, nothing applied. */
	int before = applies;
	st = step(a);
	ASSERT_EQ(st.picks, 2);
	ASSERT_EQ(applies, before);
	/* P = $19.5: every point loses money; the best stays W = 0 but it holds nothing. */
	now_prices.traffic = 19.5;
	st = step(a);
	ASSERT_NEAR(st.wp.knobs.delay_us, 0, 0);
	ASSERT_EQ(st.wp.bandwidth_mbit, 0);
	/* One client for two windows (the persistence): single, W = 0, 132 Mbit/s at $1. */
	now_prices.traffic = 1;
	window(1);
	st = step(a);
	ASSERT_STR_EQ(st.wp.level_name, "many"); /* one window is not enough */
	window(1);
	window(1);
	st = step(a);
	ASSERT_STR_EQ(st.wp.level_name, "single");
	ASSERT_NEAR(st.wp.knobs.delay_us, 0, 0);
	ASSERT_EQ(st.wp.bandwidth_mbit, 132);
	ASSERT_GE(st.changes, 2);
	nom_adapt_destroy(a);

	/* static-tpt: W = 40 (the best throughput of "many") whatever the price; at $19 its
	 * a = 18 < 19: it holds no bandwidth. unaware at W = 0 holds 264 at any price. */
	window(16);
	window(16);
	window(16);
	now_prices.traffic = 19;
	a = make(p, "memcached", NOM_STATIC_TPT, 0, 0, 0);
	st = step(a);
	ASSERT_NEAR(st.wp.knobs.delay_us, 40, 0);
	ASSERT_EQ(st.wp.bandwidth_mbit, 0);
	now_prices.traffic = 1;
	st = step(a);
	ASSERT_NEAR(st.wp.knobs.delay_us, 40, 0);
	ASSERT_EQ(st.wp.bandwidth_mbit, 396);
	nom_adapt_destroy(a);
	a = make(p, "memcached", NOM_STATIC_LAT, 0, 0, 0);
	st = step(a);
	ASSERT_NEAR(st.wp.knobs.delay_us, 0, 0);
	nom_adapt_destroy(a);
	a = make(p, "memcached", NOM_UNAWARE, 0, 0, 0);
	now_prices.traffic = 1000;
	st = step(a);
	ASSERT_NEAR(st.wp.knobs.delay_us, 0, 0);
	ASSERT_EQ(st.wp.bandwidth_mbit, 264);
	nom_adapt_destroy(a);

	/* Memory (the curve above; P = $1 at W = 40: a - P = 17, a hit of 1,000 bytes earns
	 * 1000 x 8e-9 x 17 = 1.36e-4 $; up to 32 MiB each MiB adds 9000 / 32 hits/s, worth
	 * 0.03825 $/s = $137.7 per MiB-hour). At $100 per MiB-hour: 32 MiB (nothing past the
	 * working set pays); at $200: the least, 1 MiB. */
	now_prices.traffic = 1;
	now_prices.memory_hour = 100;
	a = make(p, "memcached", NOM_ADAPTIVE, 0, 0, 64);
	st = step(a);
	ASSERT_EQ(st.wp.memory_target_mib, 32);
	ASSERT_EQ(st.wp.memory_mib, 32); /* no market: the cache is the target */
	ASSERT_NEAR(st.wp.predicted_hit_rate, 0.9, 1e-9);
	ASSERT_EQ(applied.memory_mib, 32);
	now_prices.memory_hour = 200;
	st = step(a);
	ASSERT_EQ(st.wp.memory_target_mib, 1);
	ASSERT_NEAR(st.wp.predicted_hit_rate, 9000.0 / 32 / 10000, 1e-9);
	/* Memory the market does not price costs nothing to keep: the most (--memory). */
	now_prices.memory_hour = -1;
	st = step(a);
	ASSERT_EQ(st.wp.memory_target_mib, 64);
	nom_adapt_destroy(a);
	econ_profile_destroy(p);

	/* Cores: the second core while loaded and worth its price, one when idle or dear. */
	ASSERT_OK(econ_profile_parse("nh.csv", nh_csv, strlen(nh_csv), &p, &eerr));
	nom_load_conn(load, +1);
	now_prices.traffic = 1;
	now_prices.memory_hour = -1;
	now_prices.core_hour = 4000;
	a = make(p, "nhttpd", NOM_ADAPTIVE, 0, 2, 0);
	st = step(a);
	ASSERT_EQ(st.wp.cores, 2);
	ASSERT_NEAR(st.wp.utility, 2.592 - 2 * 4000.0 / 3600, 1e-9);
	now_prices.core_hour = 4300;
	st = step(a);
	ASSERT_EQ(st.wp.cores, 1);
	now_prices.core_hour = 4000;
	st = step(a);
	ASSERT_EQ(st.wp.cores, 2);
	nom_load_conn(load, -1); /* the last connection closed: idle */
	st = step(a);
	ASSERT_TRUE(st.idle);
	ASSERT_EQ(st.wp.cores, 1);
	ASSERT_EQ(applied.cores, 1);
	nom_adapt_destroy(a);

	/* The busy-poll budget, bought while cores are cheap. */
	struct econ_profile *ps;

	ASSERT_OK(econ_profile_parse("spin.csv", spin_csv, strlen(spin_csv), &ps, &eerr));
	now_prices.traffic = 1;
	now_prices.core_hour = 3600; /* 1 $/s */
	a = make(ps, "memcached", NOM_ADAPTIVE, 0, 0, 0);
	st = step(a);
	ASSERT_NEAR(st.wp.knobs.spin_us, 50, 0);
	ASSERT_NEAR(applied.knobs.spin_us, 50, 0);
	ASSERT_NEAR(st.wp.utility, 4.464 - 0.9, 1e-9);
	now_prices.core_hour = 3.9 * 3600; /* just past the break-even: no spin */
	st = step(a);
	ASSERT_NEAR(st.wp.knobs.spin_us, 0, 0);
	ASSERT_NEAR(applied.knobs.spin_us, 0, 0);
	ASSERT_NEAR(st.wp.utility, 2.944 - 0.5 * 3.9, 1e-9);
	now_prices.core_hour = 36000; /* 10 $/s */
	st = step(a);
	ASSERT_NEAR(st.wp.knobs.spin_us, 0, 0);
	now_prices.core_hour = -1; /* cores not priced: the CPU costs nothing */
	st = step(a);
	ASSERT_NEAR(st.wp.knobs.spin_us, 50, 0);
	nom_adapt_destroy(a);
	/* A static strategy leaves the budget to the app's own --spin-us. */
	a = make(ps, "memcached", NOM_STATIC, 0, 0, 0);
	st = step(a);
	ASSERT_TRUE(st.wp.knobs.spin_us < 0);
	nom_adapt_destroy(a);
	econ_profile_destroy(ps);
	now_prices.core_hour = -1;

	/* Refusals name what is wrong. */
	struct nom_adapt_config c = {.size = sizeof(c), .profile = p, .app = "memcached"};
	econ_utility_thesis(ECON_REFUND, &c.utility);
	ASSERT_EQ(nom_adapt_create(&c, &a, err, sizeof(err)), -ENOENT);
	ASSERT_STR_CONTAINS(err, "memcached");
	c.app = "nhttpd";
	c.strategy = NOM_STATIC_TPT;
	c.static_level = "few";
	ASSERT_EQ(nom_adapt_create(&c, &a, err, sizeof(err)), -ENOENT);
	ASSERT_STR_CONTAINS(err, "few");
	c.static_level = NULL;
	c.memory_max_mib = 10;
	ASSERT_EQ(nom_adapt_create(&c, &a, err, sizeof(err)), -EINVAL);
	ASSERT_STR_CONTAINS(err, "memory");
	c.memory_max_mib = 0;
	c.utility.alpha = -1;
	ASSERT_EQ(nom_adapt_create(&c, &a, err, sizeof(err)), -EINVAL);
	ASSERT_STR_CONTAINS(err, "utility");

	econ_profile_destroy(p);
	nom_load_destroy(load);
	printf("ok: controller (%d working points applied)\n", applies);
	return 0;
}
