/* test_pm_spot_ar1.c: spot-ar1 against the real EC2 traces, and its mechanics.
 *
 * The claim under test is that spot-ar1's OUTPUT measures like EC2's 2010 spot prices. For
 * every trace in ../shared/data (skipped with a message where that folder is absent) the test
 * measures the trace (pricing/spot.h: least-squares AR(1) of the deltas inside the band, the
 * residual deviation over C - F, the gaps between changes, time at the floor and above the
 * band), calibrates the model to it, runs the calibrated model from another seed and
 * measures its output the same way. Tolerances (stated in the issue, checked per trace):
 *   - a1 within 0.05 of the trace's;
 *   - the deviation within 10% of the trace's;
 *   - the gaps from prices inside the band: a two-sample KS test does not reject at 1%.
 * The paper's literal process (spot-ar1-paper: a = 0.7, sigma 0.39 (C - F), hourly) is run on
 * the same bands and must fail them (its a1 comes out near -0.6 and it changes every hour):
 * the test can tell a model that fits from one that does not. The shipped defaults (the
 * pooled fit) must reproduce the pooled statistics, and most traces on their own.
 * The measurement itself is checked on a series whose statistics are worked out by hand, and
 * the mechanics (band, tick, timing, the auction, seeds) on small cases. */
#include <dirent.h>
#include <gsl/gsl_rng.h>
#include <math.h>
#include <string.h>

#include "pm_testutil.h"
#include "pricing/spot.h"
#include "pricing/trace.h"
#include "test.h"

#define HOUR INT64_C(3600000000000)
#define MINUTE INT64_C(60000000000)
#define TICK INT64_C(1000000)
#define DATA RAAS_SHARED_DATA "/ec2-spot-2009-2011"
#define MAX_TRACES 64

/* Levels 0, 8, 2, 6, 4, 5, 3, 7, 1, 8, 0, 4 ticks above $0.100, an hour apart. Every level of
 * 0..8 is held at least an hour: the band is [$0.100, $0.108], C - F = 8 ticks. Deltas 8, -6,
 * 4, -2, 1, -2, 4, -6, 7, -8, 4; the 10 pairs (x = D_{i-1}, y = D_i) have sum x = 0, sum y =
 * -4, sum x^2 = 290, sum xy = -246, sum y^2 = 242, so a1 = (-246 - 0) / (290 - 0) = -0.84828;
 * the residual sum of squares is (242 - 16 / 10) - a1 (-246) = 31.724, sd = sqrt(31.724 / 8)
 * / 8 = 0.24892 (C - F). Moves of at least 4 ticks: 8 of 11. At the floor: 2 of 11 hours. */
static void measure_by_hand(void)
{
	static const int lv[] = {0, 8, 2, 6, 4, 5, 3, 7, 1, 8, 0, 4};
	int64_t t[12];
	money_t p[12];
	struct pm_spot_stats s;
	struct pm_error err;

	for (int i = 0; i < 12; i++) {
		t[i] = i * HOUR;
		p[i] = 100 * TICK + lv[i] * TICK;
	}
	ASSERT_OK(pm_spot_stats_compute(t, p, 12, INT64_MIN, INT64_MAX, TICK, &s, &err));
	ASSERT_EQ(s.floor, 100 * TICK);
	ASSERT_EQ(s.ceiling, 108 * TICK);
	ASSERT_EQ(s.pairs, 10);
	ASSERT_NEAR(s.a1, -246.0 / 290.0, 1e-9);
	ASSERT_NEAR(s.sd, sqrt(31.724137931 / 8) / 8, 1e-6);
	ASSERT_EQ(s.moves, 11);
	ASSERT_EQ(s.big_moves, 8);
	ASSERT_NEAR(s.floor_time, 2.0 / 11.0, 1e-12);
	ASSERT_EQ(s.ngaps, 11);
	ASSERT_NEAR(s.gaps[0], 3600, 1e-9);
	pm_spot_stats_fini(&s);

	/* A level held once for a moment above the band is not the band: $0.109 for a second
	 * after the last point's hour, and the band stays [100, 108]. */
	int64_t t2[13];
	money_t p2[13];
	memcpy(t2, t, sizeof(t));
	memcpy(p2, p, sizeof(p));
	t2[12] = t2[11] + HOUR;
	p2[12] = 109 * TICK;
	t2[11] = t2[12] - 1000000000;
	ASSERT_OK(pm_spot_stats_compute(t2, p2, 13, INT64_MIN, INT64_MAX, TICK, &s, &err));
	ASSERT_EQ(s.ceiling, 108 * TICK);
	pm_spot_stats_fini(&s);

	/* KS: {1, 2, 3} against {4, 5, 6} differ by D = 1; {1, 3, 5} against {2, 4, 6} by 1/3. */
	double a[] = {1, 2, 3}, b[] = {4, 5, 6}, c[] = {1, 3, 5}, pv;
	ASSERT_NEAR(pm_ks2(a, 3, b, 3, &pv), 1.0, 1e-12);
	ASSERT_TRUE(pv < 0.1);
	ASSERT_NEAR(pm_ks2(c, 3, b + 0, 3, &pv), 1.0 / 3.0 * 2, 1e-12); /* {1,3,5} vs {4,5,6} */
	double d[] = {2, 4, 6};
	ASSERT_NEAR(pm_ks2(c, 3, d, 3, &pv), 1.0 / 3.0, 1e-12);
	ASSERT_TRUE(pv > 0.5);
}

struct trace_stats {
	char name[96];
	struct pm_spot_stats st;
};

static size_t load_traces(struct trace_stats *v)
{
	int64_t from, to;
	size_t n = 0;
	DIR *d = opendir(DATA);

	if (!d)
		return 0;
	ASSERT_OK(pm_trace_parse_time(PM_SPOT_EPOCH_FROM, 19, &from));
	ASSERT_OK(pm_trace_parse_time(PM_SPOT_EPOCH_TO, 19, &to));
	char names[MAX_TRACES][96];
	struct dirent *e;
	while ((e = readdir(d))) {
		size_t l = strlen(e->d_name);
		if (l > 4 && strcmp(e->d_name + l - 4, ".csv") == 0 && n < MAX_TRACES)
			snprintf(names[n++], sizeof(names[0]), "%s", e->d_name);
	}
	closedir(d);
	qsort(names, n, sizeof(names[0]), (int (*)(const void *, const void *))strcmp);
	for (size_t i = 0; i < n; i++) {
		char path[8192];
		struct pm_trace t;
		struct pm_error err;
		snprintf(path, sizeof(path), "%s/%s", DATA, names[i]);
		if (pm_trace_load(path, &t, &err))
			TEST_FAIL("%s", err.message);
		int64_t *ts = malloc(t.n * sizeof(*ts));
		money_t *ps = malloc(t.n * sizeof(*ps));
		for (size_t k = 0; k < t.n; k++) {
			ts[k] = t.points[k].t_ns;
			ps[k] = t.points[k].price;
		}
		snprintf(v[i].name, sizeof(v[i].name), "%.*s", (int)strlen(names[i]) - 4, names[i]);
		if (pm_spot_stats_compute(ts, ps, t.n, from, to, TICK, &v[i].st, &err))
			TEST_FAIL("%s: %s", names[i], err.message);
		free(ts);
		free(ps);
		pm_trace_free(&t);
	}
	return n;
}

/* The model's output on a trace's band, and whether it meets the three tolerances. */
static bool meets(const char *model, const char *params, const struct trace_stats *tr,
		  uint64_t seed, const char *label, bool print)
{
	struct pm_spot_stats m;
	struct pm_error err;
	double p;

	if (pm_spot_model_stats(model, params, seed, 20000, TICK, &m, &err))
		TEST_FAIL("%s on %s: %s", model, tr->name, err.message);
	double d = pm_ks2(tr->st.band_gaps, tr->st.nband_gaps, m.band_gaps, m.nband_gaps, &p);
	bool a_ok = fabs(m.a1 - tr->st.a1) <= 0.05;
	bool sd_ok = fabs(m.sd / tr->st.sd - 1) <= 0.10;
	bool ks_ok = p >= 0.01;
	if (print)
		printf("  %-6s a1 %6.3f (trace %6.3f)%s  sd %.3f (trace %.3f)%s  gaps KS D %.3f "
		       "p %.3f%s  floor %4.1f%% (%4.1f%%)  above %4.1f%% (%4.1f%%)\n",
		       label, m.a1, tr->st.a1, a_ok ? "" : " !", m.sd, tr->st.sd, sd_ok ? "" : " !",
		       d, p, ks_ok ? "" : " !", 100 * m.floor_time, 100 * tr->st.floor_time,
		       100 * m.above_time, 100 * tr->st.above_time);
	pm_spot_stats_fini(&m);
	return a_ok && sd_ok && ks_ok;
}

static void every_trace(void)
{
	static struct trace_stats tr[MAX_TRACES];
	struct pm_spot_stats each[MAX_TRACES], pooled;
	char params[1024];
	size_t n = load_traces(tr);

	if (n == 0) {
		printf("test_pm_spot_ar1: %s is absent: the trace comparisons are skipped\n", DATA);
		return;
	}
	ASSERT_EQ(n, 32);
	size_t fit_ok = 0, paper_ok = 0, default_ok = 0;
	for (size_t i = 0; i < n; i++) {
		struct pm_spot_fit fit;
		struct pm_error err;
		const struct pm_spot_stats *s = &tr[i].st;
		printf("%s: band [%lld, %lld] ticks, %zu changes\n", tr[i].name,
		       (long long)(s->floor / TICK), (long long)(s->ceiling / TICK), s->changes);
		ASSERT_GT(s->changes, 400);
		ASSERT_OK(pm_spot_fit(s, 1, s, 100 + i, 4000, &fit, &err));
		ASSERT_OK(pm_spot_fit_params(&fit, s->floor, s->ceiling, TICK, params,
					     sizeof(params)));
		/* Validated from a seed the fit never saw. */
		fit_ok += meets("spot-ar1", params, &tr[i], 9000 + i, "fit", true);
		char dollars[512];
		snprintf(dollars, sizeof(dollars), "floor=$%lld.%09lld, ceiling=$%lld.%09lld",
			 (long long)(s->floor / 1000000000), (long long)(s->floor % 1000000000),
			 (long long)(s->ceiling / 1000000000),
			 (long long)(s->ceiling % 1000000000));
		default_ok += meets("spot-ar1", dollars, &tr[i], 7000 + i, "dflt", true);
		paper_ok += meets("spot-ar1-paper", dollars, &tr[i], 8000 + i, "paper", true);
		each[i] = tr[i].st;
	}
	printf("test_pm_spot_ar1: within every tolerance: %zu of %zu traces with their own fit, "
	       "%zu with the shipped defaults, %zu with the paper's literal model\n",
	       fit_ok, n, default_ok, paper_ok);
	ASSERT_EQ(fit_ok, n);
	ASSERT_EQ(paper_ok, 0);
	/* The defaults are one parameter set for 32 bands of 2 to 146 ticks: measured 26 of 32
	 * within every tolerance (the narrow m1.small bands and a few gap laws are their own). */
	ASSERT_GE(default_ok, 24);

	/* Pooled: the defaults on every band, pooled, against the traces pooled. */
	struct pm_spot_stats out[MAX_TRACES], mp;
	ASSERT_OK(pm_spot_stats_pool(each, n, &pooled));
	for (size_t i = 0; i < n; i++) {
		struct pm_error err;
		const struct pm_spot_stats *s = &tr[i].st;
		snprintf(params, sizeof(params), "floor=$%lld.%09lld, ceiling=$%lld.%09lld",
			 (long long)(s->floor / 1000000000), (long long)(s->floor % 1000000000),
			 (long long)(s->ceiling / 1000000000),
			 (long long)(s->ceiling % 1000000000));
		if (pm_spot_model_stats("spot-ar1", params, 500 + i, 5000, TICK, &out[i], &err))
			TEST_FAIL("%s", err.message);
	}
	ASSERT_OK(pm_spot_stats_pool(out, n, &mp));
	double pv, d = pm_ks2(pooled.band_gaps, pooled.nband_gaps, mp.band_gaps, mp.nband_gaps, &pv);
	printf("pooled: traces a1 %.3f sd %.3f big %.1f%%; defaults a1 %.3f sd %.3f big %.1f%%, "
	       "gaps KS D %.3f\n",
	       pooled.a1, pooled.sd, 100 * pooled.big_share, mp.a1, mp.sd, 100 * mp.big_share, d);
	ASSERT_NEAR(mp.a1, pooled.a1, 0.05);
	ASSERT_NEAR(mp.sd / pooled.sd, 1, 0.10);
	/* 44,000 trace gaps against 160,000: a KS test that large rejects any model; the
	 * distance itself is what is bounded. */
	ASSERT_TRUE(d < 0.03);
	for (size_t i = 0; i < n; i++) {
		pm_spot_stats_fini(&out[i]);
		pm_spot_stats_fini(&tr[i].st);
	}
	pm_spot_stats_fini(&pooled);
	pm_spot_stats_fini(&mp);
}

/* Posts prices at every call and checks the band, the tick and the invariants. */
static void band_and_tick(const char *model)
{
	struct pm_instance *inst = pmt_create(model, "floor=$0.40, ceiling=$0.45");
	gsl_rng *rng = gsl_rng_alloc(gsl_rng_mt19937);
	struct pm_pool pool = {.supply = 10, .rng = rng, .round_ns = 10 * MINUTE};
	money_t last = -1;
	int64_t last_change = -1, changes = 0, above = 0;

	gsl_rng_set(rng, 3);
	for (int i = 0; i < 50000; i++) {
		money_t p;
		struct pm_error err;
		pool.now_ns = (int64_t)i * 10 * MINUTE;
		ASSERT_OK(pm_posted_price(inst, &pool, &p));
		if (p % TICK || p < 400 * TICK)
			TEST_FAIL("%s step %d: price %lld below the floor or off the tick", model, i,
				  (long long)p);
		above += p > 450 * TICK;
		if (last >= 0 && p != last) {
			if (last_change >= 0)
				ASSERT_GE(pool.now_ns - last_change, 60 * MINUTE);
			last_change = pool.now_ns;
			changes++;
		}
		last = p;
		if (pm_check(inst, &err))
			TEST_FAIL("pm_check: %s", err.message);
	}
	/* 50,000 rounds of 10 minutes: hourly for the paper (8,333 changes); for the calibrated
	 * model a reconsideration every U[60.6, 90.9] minutes, acted on at the next round
	 * (about 80 minutes on average), changing with probability 0.47 then 0.43: about 2,800
	 * changes; it also spends some time above the band. */
	printf("%s: %lld changes in %d rounds, %lld rounds above the band\n", model,
	       (long long)changes, 50000, (long long)above);
	if (strcmp(model, "spot-ar1-paper") == 0) {
		ASSERT_EQ(changes, (50000 - 1) * 10 / 60);
		ASSERT_EQ(above, 0);
	} else {
		ASSERT_GT(changes, 2400);
		ASSERT_LT(changes, 3300);
		ASSERT_GT(above, 0);
	}
	gsl_rng_free(rng);
	pm_destroy(inst);
}

static void same_seed(void)
{
	money_t a[2000], b[2000], c[2000];
	money_t *v[] = {a, b, c};
	unsigned long seeds[] = {11, 11, 12};

	for (int k = 0; k < 3; k++) {
		struct pm_instance *inst = pmt_create("spot-ar1", "");
		gsl_rng *rng = gsl_rng_alloc(gsl_rng_mt19937);
		gsl_rng_set(rng, seeds[k]);
		struct pm_pool pool = {.supply = 10, .rng = rng, .round_ns = 30 * MINUTE};
		for (int i = 0; i < 2000; i++) {
			pool.now_ns = (int64_t)i * 30 * MINUTE;
			ASSERT_OK(pm_posted_price(inst, &pool, &v[k][i]));
		}
		gsl_rng_free(rng);
		pm_destroy(inst);
	}
	size_t differ = 0;
	for (size_t i = 0; i < 2000; i++) {
		ASSERT_EQ(a[i], b[i]);
		differ += a[i] != c[i];
	}
	ASSERT_GT(differ, 100);
}

static void narrow_band_and_auction(void)
{
	/* Band of two ticks [4.0c, 4.1c]: every change must move, so the paper's reserve
	 * alternates 4.0, 4.1, 4.0, ... (P_0 = F), one change an hour. */
	struct pm_instance *inst = pmt_create("spot-ar1-paper", "floor=$0.040, ceiling=$0.041");
	gsl_rng *rng = gsl_rng_alloc(gsl_rng_mt19937);
	struct pm_pool pool = {.supply = 10, .rng = rng, .round_ns = HOUR};
	for (int i = 0; i < 10; i++) {
		money_t p;
		pool.now_ns = i * HOUR;
		ASSERT_OK(pm_posted_price(inst, &pool, &p));
		ASSERT_EQ(p, i % 2 ? 41000000 : 40000000);
	}
	/* At t = 10h the reserve is 4.0c. Clearing is the (N+1)-th price auction with it:
	 * supply 10; A 4 @ 5c, B 3 @ 4.5c: demand 7 < 10, p = reserve 4.0c; A pays 16c.
	 * Supply 5: B gets 1 and the best losing unit is B's at 4.5c: p = 4.5c. */
	struct pm_outcome out[2];
	struct pm_result res;
	struct pm_bid b[] = {pmt_flat(1, 4, 5 * CENT), pmt_flat(2, 3, 45 * CENT / 10)};
	pool.now_ns = 10 * HOUR;
	pmt_clear_pool(inst, &pool, b, 2, &res, out);
	ASSERT_EQ(res.price, 4 * CENT);
	ASSERT_EQ(out[0].payment, 16 * CENT);
	pool.supply = 5;
	pmt_clear_pool(inst, &pool, b, 2, &res, out);
	ASSERT_EQ(out[0].quantity, 4);
	ASSERT_EQ(out[1].quantity, 1);
	ASSERT_EQ(res.price, 45 * CENT / 10);
	gsl_rng_free(rng);
	pm_destroy(inst);

	/* A jump moves at least half the band: with jump_prob 1 on [0, 10] ticks, every change
	 * is 5 ticks or more. */
	inst = pmt_create("spot-ar1", "floor=$0.100, ceiling=$0.110, jump_prob=1, "
				       "change_prob=1, interval_spread=0s, excursion_prob=0");
	rng = gsl_rng_alloc(gsl_rng_mt19937);
	pool = (struct pm_pool){.supply = 1, .rng = rng, .round_ns = HOUR};
	money_t last = -1;
	for (int i = 0; i < 500; i++) {
		money_t p;
		pool.now_ns = (int64_t)i * 2 * HOUR;
		ASSERT_OK(pm_posted_price(inst, &pool, &p));
		if (last >= 0)
			ASSERT_GE(llabs(p - last), 5 * TICK);
		last = p;
	}
	gsl_rng_free(rng);
	pm_destroy(inst);
}

int main(void)
{
	measure_by_hand();
	narrow_band_and_auction();
	same_seed();
	band_and_tick("spot-ar1-paper");
	band_and_tick("spot-ar1");
	every_trace();
	return 0;
}
