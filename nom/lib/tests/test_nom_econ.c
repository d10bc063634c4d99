/* test_nom_econ.c: the economics through libnom's API, at prices read from a bulletin board.
 *
 * nom/econ's own tests check the functions and the optimizer in isolation; here the same
 * decisions are made the way an app makes them: the price comes from the board (egress in
 * nanodollars per Gbit, or bandwidth per Mbit/s-hour converted), the profile from CSV text.
 *   - utility values at the board's price against hand-computed numbers, thesis parameters;
 *   - on a thesis-like memcached profile: 14 us (best throughput) at the low price under many
 *     clients, 0 us (best latency) under a single client;
 *   - on 2,000 random profiles at random board prices: the pick is never dominated, and is
 *     the best point overall whenever some point makes money (brute force). */
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "bb/bb.h"
#include "common/error.h"
#include "nom/nom.h"
#include "test.h"

static char instance[64];
static struct bb_writer *w;

/* Sets a price on the board as nom-priced would. */
static void set_price(uint32_t resource, const char *host, int64_t unit_price)
{
	char why[200];
	struct bb_body *b = bb_writer_body(w);
	struct bb_price *p = bb_body_price_upsert(b, resource, host);

	p->unit_price = unit_price;
	p->round++;
	b->state.market_state = BB_MARKET_FRESH;
	ASSERT_OK(bb_writer_publish(w, 0, 0, why, sizeof(why)));
}

static struct econ_profile *thesis_like(void)
{
	char text[8192];
	size_t n = 0;
	struct econ_profile *p;
	struct econ_error err;

	n += (size_t)snprintf(text + n, sizeof(text) - n,
			      "app,load,delay_us,throughput_rps,latency_us,jitter_us,"
			      "bytes_per_request,source\n");
	/* Many clients: throughput peaks at 14 us (38K ops/s at 74 us for 10, 40K at 77 us for
	 * 14, as the thesis reports), latency grows with the delay. */
	for (int d = 0; d <= 40; d += 2) {
		double tput = d <= 14 ? 33000 + 500 * d : 40000 - 500 * (d - 14);
		double lat = d <= 14 ? 66.5 + 0.75 * d : 77 + (d - 14);
		n += (size_t)snprintf(text + n, sizeof(text) - n, "memcached,many,%d,%.0f,%.2f,%.2f,1100,\n",
				      d, tput, lat, lat / 10);
	}
	/* One client, closed loop: throughput is 1 / latency, which grows with the delay. */
	for (int d = 0; d <= 40; d += 2) {
		double lat = 30 + 1.5 * d;
		n += (size_t)snprintf(text + n, sizeof(text) - n,
				      "memcached,single,%d,%.2f,%.2f,3,1100,\n", d, 1e6 / lat, lat);
	}
	int rc = econ_profile_parse("thesis-like", text, n, &p, &err);
	if (rc) {
		char buf[600];
		TEST_FAIL("profile: %s", econ_error_format(&err, buf, sizeof(buf)));
	}
	return p;
}

static void test_utility_at_board_price(struct nom *n)
{
	struct econ_utility u = {0};
	struct econ_point pt = {.delay_us = 10, .tput_rps = 40000, .latency_us = 74,
				.jitter_us = 0, .bytes_per_request = 1100};
	double rate, price;

	/* No price yet. */
	ASSERT_EQ(nom_utility_now(n, "h1", &u, &pt, &rate), -ENOENT);
	ASSERT_STR_CONTAINS(nom_last_error(n), "no egress or bandwidth price");

	/* Bandwidth at $3.60 per Mbit/s-hour is $1 per Gbit sent at the full rate. */
	set_price(BB_RES_BANDWIDTH, "h1", INT64_C(3600000000));
	bool stale = true;
	ASSERT_OK(nom_traffic_price(n, "h1", &price, &stale));
	ASSERT_NEAR(price, 1.0, 1e-12);
	ASSERT_TRUE(!stale);
	/* Egress, priced per Gbit, wins when the market publishes it: $1/Gbit. */
	set_price(BB_RES_EGRESS, "h1", INT64_C(1000000000));
	ASSERT_OK(nom_traffic_price(n, "h1", &price, NULL));
	ASSERT_NEAR(price, 1.0, 1e-12);

	/* T = 40000 * 1100 * 8 / 1e9 = 0.352 Gbit/s. */
	/* refund: a = 20 - 10 * 0.074 = 19.26; U = 0.352 * (19.26 - 1) = 6.42752 $/s */
	econ_utility_thesis(ECON_REFUND, &u);
	ASSERT_OK(nom_utility_now(n, "h1", &u, &pt, &rate));
	ASSERT_NEAR(rate, 6.42752, 1e-9);
	/* bonus: a = 20 + 0.01 / 0.074 = 20.135135...; U = 0.352 * 19.135135... = 6.7355676 */
	econ_utility_thesis(ECON_BONUS, &u);
	ASSERT_OK(nom_utility_now(n, "h1", &u, &pt, &rate));
	ASSERT_NEAR(rate, 0.352 * (20 + 0.01 / 0.074 - 1), 1e-9);
	ASSERT_NEAR(rate, 6.7355676, 1e-6);
	/* penalty, L = 500, sigma = 100, L0 = 750: N = P[z > 2.5] = 0.0062096653;
	 * a = 20 * (1 - 100 * N) = 7.5806694; U = 0.352 * (7.5806694 - 1) = 2.3163956 */
	econ_utility_thesis(ECON_PENALTY, &u);
	pt.latency_us = 500;
	pt.jitter_us = 100;
	ASSERT_OK(nom_utility_now(n, "h1", &u, &pt, &rate));
	ASSERT_NEAR(rate, 2.3163956, 1e-6);
	/* penalty past the bound: L = 700, sigma = 50: N = P[z > 1] = 0.1587 > 1/X, so a = 0
	 * and the app only pays: U = -0.352 * 1 */
	pt.latency_us = 700;
	pt.jitter_us = 50;
	ASSERT_OK(nom_utility_now(n, "h1", &u, &pt, &rate));
	ASSERT_NEAR(rate, -0.352, 1e-12);
	/* At the thesis's high price, $10/Gbit: refund at 74 us gives 0.352 * 9.26 = 3.25952. */
	set_price(BB_RES_EGRESS, "h1", INT64_C(10000000000));
	econ_utility_thesis(ECON_REFUND, &u);
	pt.latency_us = 74;
	pt.jitter_us = 0;
	ASSERT_OK(nom_utility_now(n, "h1", &u, &pt, &rate));
	ASSERT_NEAR(rate, 3.25952, 1e-9);
}

static void test_thesis_picks(struct nom *n)
{
	struct econ_profile *p = thesis_like();
	const struct econ_app *app = econ_profile_app(p, "memcached");
	const struct econ_level *many = econ_app_level(app, "many"), *single = econ_app_level(app, "single");
	const struct econ_point *pt;
	struct econ_utility u;
	double used;

	ASSERT_TRUE(many && single);
	for (int k = 0; k < 3; k++) {
		econ_utility_thesis((enum econ_kind)k, &u);
		/* Low price ($1/Gbit), many clients: best throughput, 14 us. */
		set_price(BB_RES_EGRESS, "h1", INT64_C(1000000000));
		ASSERT_OK(nom_pick_delay(n, "h1", many, &u, &pt, &used));
		ASSERT_NEAR(used, 1.0, 1e-12);
		ASSERT_NEAR(pt->delay_us, 14, 0);
		ASSERT_NEAR(econ_level_best_tput(many)->delay_us, 14, 0);
		/* A single client: best latency, 0 us, at the low and the high price. */
		ASSERT_OK(nom_pick_delay(n, "h1", single, &u, &pt, NULL));
		ASSERT_NEAR(pt->delay_us, 0, 0);
		set_price(BB_RES_EGRESS, "h1", INT64_C(10000000000));
		ASSERT_OK(nom_pick_delay(n, "h1", single, &u, &pt, &used));
		ASSERT_NEAR(used, 10.0, 1e-12);
		ASSERT_NEAR(pt->delay_us, 0, 0);
		ASSERT_NEAR(econ_level_best_latency(single)->delay_us, 0, 0);
	}
	econ_profile_destroy(p);
}

static uint64_t rng = 12345;

static double uniform(void)
{
	rng ^= rng << 13;
	rng ^= rng >> 7;
	rng ^= rng << 17;
	return (double)(rng >> 11) / 9007199254740992.0;
}

static void test_never_dominated(struct nom *n)
{
	struct econ_point pts[24];
	struct econ_level level = {.name = "random", .points = pts};
	int best_overall = 0;

	for (int iter = 0; iter < 2000; iter++) {
		size_t np = 2 + (size_t)(uniform() * 22);
		for (size_t i = 0; i < np; i++) {
			pts[i].delay_us = (double)(2 * i);
			pts[i].tput_rps = 1000 + uniform() * 100000;
			pts[i].latency_us = 10 + uniform() * 1500;
			pts[i].jitter_us = uniform() * 300;
			pts[i].bytes_per_request = 100 + uniform() * 2000;
			pts[i].line = 0;
		}
		level.npoints = np;
		struct econ_utility u;
		econ_utility_thesis((enum econ_kind)(iter % 3), &u);
		int64_t price = (int64_t)(uniform() * 30e9); /* $0-30 per Gbit */
		set_price(BB_RES_EGRESS, "h1", price);
		const struct econ_point *pt;
		ASSERT_OK(nom_pick_delay(n, "h1", &level, &u, &pt, NULL));
		size_t idx = (size_t)(pt - pts);
		ASSERT_LT(idx, np);
		ASSERT_TRUE(!econ_dominated(pts, np, idx, econ_utility_criteria(&u)));
		double best = -INFINITY, got;
		for (size_t i = 0; i < np; i++) {
			double r;
			ASSERT_OK(nom_utility_now(n, "h1", &u, &pts[i], &r));
			if (r > best)
				best = r;
		}
		ASSERT_OK(nom_utility_now(n, "h1", &u, pt, &got));
		if (best >= 0) {
			ASSERT_NEAR(got, best, 1e-9 * fabs(best) + 1e-12);
			best_overall++;
		}
	}
	printf("never dominated: 2000 random profiles; best overall in the %d that make money\n",
	       best_overall);
	ASSERT_GT(best_overall, 100);
}

int main(void)
{
	struct nom *n;

	snprintf(instance, sizeof(instance), "nomrt-econ-%d", (int)getpid());
	ASSERT_OK(bb_writer_open(instance, 0600, &w));
	ASSERT_OK(nom_open(instance, NULL, &n));
	test_utility_at_board_price(n);
	test_thesis_picks(n);
	test_never_dominated(n);
	nom_close(n);
	bb_writer_close(w, true);
	printf("test_nom_econ: ok\n");
	return 0;
}
