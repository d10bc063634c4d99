/* adapt.c: the adaptive controller (adapt.h): price and load in, batching delay out. */
#include <errno.h>
#include <math.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "app/adapt.h"
#include "common/log.h"


struct adapt {
	struct adapt_config cfg;
	const struct econ_app *app;
	struct econ_menu *menus; /* one per level of app */
	/* Decision state. */
	int level;
	int candidate;           /* a level the rate points to, since candidate_ns */
	int64_t candidate_ns;     /* in time with traffic (active_ns) */
	double price;
	double delay_us;
	const struct econ_choice *choice;
	bool started;
	uint64_t picks, changes;
	int64_t last_report_ns;
	/* The rate (add_sample). */
	double step_rate[ADAPT_RATE_STEPS];
	unsigned nsteps;
	bool started_rate;
	int64_t last_ns, active_ns;   /* time of the last step; time with traffic so far */
	uint64_t last_requests;
	double rate;
	/* Thread. */
	pthread_t thread;
	bool running;
	atomic_bool stop;
};

int adapt_create(const struct adapt_config *cfg, struct adapt **out, char *err, size_t errlen)
{
	struct adapt *a = calloc(1, sizeof(*a));

	if (!a)
		return -ENOMEM;
	a->cfg = *cfg;
	if (a->cfg.period_ns <= 0)
		a->cfg.period_ns = 10000000;
	a->level = -1;
	a->candidate = -1;
	a->price = -1;
	a->delay_us = cfg->initial_delay_us;
	if (cfg->adaptive) {
		if (!cfg->profile || !cfg->app) {
			snprintf(err, errlen, "adaptive mode needs a profile");
			free(a);
			return -EINVAL;
		}
		a->app = econ_profile_app(cfg->profile, cfg->app);
		if (!a->app) {
			snprintf(err, errlen, "%s: no rows for app \"%s\"", cfg->profile->name,
				 cfg->app);
			free(a);
			return -ENOENT;
		}
		a->menus = calloc(a->app->nlevels, sizeof(*a->menus));
		if (!a->menus) {
			free(a);
			return -ENOMEM;
		}
		for (size_t i = 0; i < a->app->nlevels; i++) {
			int rc = econ_menu_build(&a->app->levels[i], &cfg->utility, &a->menus[i]);

			if (rc < 0) {
				snprintf(err, errlen, "%s: %s/%s: cannot build the frontier: %s",
					 cfg->profile->name, cfg->app, a->app->levels[i].name,
					 rc == -E2BIG ? "too many points" : "bad utility or level");
				free(a->menus);
				free(a);
				return rc;
			}
		}
	}
	*out = a;
	return 0;
}

void adapt_destroy(struct adapt *a)
{
	if (!a)
		return;
	adapt_stop(a);
	free(a->menus);
	free(a);
}

/* The level's throughput at the point nearest to delay_us. */
static double level_tput_at(const struct econ_level *l, double delay_us)
{
	const struct econ_point *best = &l->points[0];

	for (size_t i = 1; i < l->npoints; i++)
		if (fabs(l->points[i].delay_us - delay_us) < fabs(best->delay_us - delay_us))
			best = &l->points[i];
	return best->tput_rps;
}

int adapt_pick_level(const struct econ_app *app, double rate, double delay_us, int cur)
{
	int best = -1;
	double best_d = INFINITY, cur_d = INFINITY;

	if (!app || app->nlevels == 0)
		return -1;
	if (!(rate > 0))
		return cur >= 0 ? cur : 0;
	for (size_t i = 0; i < app->nlevels; i++) {
		double d = fabs(log(rate / level_tput_at(&app->levels[i], delay_us)));

		if (d < best_d) {
			best_d = d;
			best = (int)i;
		}
		if ((int)i == cur)
			cur_d = d;
	}
	if (cur >= 0 && best != cur && best_d + log(ADAPT_HYSTERESIS) > cur_d)
		return cur;
	return best;
}

/* The rate: the median of the per-step rates of the last ADAPT_RATE_STEPS steps in which
 * requests completed. Steps without traffic do not count, so an app loaded in bursts (or in
 * turns with others) sees the rate it serves while loaded; the median ignores the few steps
 * of a stall (a preempted thread on a shared machine) that would drag a mean down. */
static int cmp_double(const void *x, const void *y)
{
	double a = *(const double *)x, b = *(const double *)y;

	return a < b ? -1 : a > b;
}

static void add_sample(struct adapt *a, int64_t now, uint64_t requests)
{
	double sorted[ADAPT_RATE_STEPS];

	if (a->started_rate && requests != a->last_requests && now > a->last_ns) {
		a->step_rate[a->nsteps % ADAPT_RATE_STEPS] =
			(double)(requests - a->last_requests) * 1e9 / (double)(now - a->last_ns);
		a->nsteps++;
		a->active_ns += now - a->last_ns;
		{
			unsigned n = a->nsteps < ADAPT_RATE_STEPS ? a->nsteps : ADAPT_RATE_STEPS;

			memcpy(sorted, a->step_rate, n * sizeof(double));
			qsort(sorted, n, sizeof(double), cmp_double);
			a->rate = n % 2 ? sorted[n / 2] : (sorted[n / 2 - 1] + sorted[n / 2]) / 2;
		}
	}
	a->started_rate = true;
	a->last_ns = now;
	a->last_requests = requests;
}

static void emit(struct adapt *a, int64_t t, const char *event)
{
	const struct econ_point *pt = a->choice ? a->choice->point : NULL;
	const char *lname = a->app && a->level >= 0 ? a->app->levels[a->level].name : "";

	if (!a->cfg.out)
		return;
	fprintf(a->cfg.out,
		"{\"t_ms\":%.1f,\"event\":\"%s\",\"price\":%.6g,\"level\":\"%s\",\"rate\":%.1f,"
		"\"delay_us\":%.3g",
		(double)t / 1e6, event, a->price, lname, a->rate, a->delay_us);
	if (pt)
		fprintf(a->cfg.out, ",\"tput_rps\":%.1f,\"latency_us\":%.2f,\"utility\":%.6g",
			pt->tput_rps, pt->latency_us,
			econ_utility_rate(&a->cfg.utility, econ_point_gbps(pt), pt->latency_us,
					  pt->jitter_us, a->price < 0 ? 0 : a->price));
	fprintf(a->cfg.out, "}\n");
	fflush(a->cfg.out);
}

bool adapt_step(struct adapt *a, int64_t t, uint64_t requests)
{
	double price = a->price;
	int level = a->level;
	bool repick = false;

	add_sample(a, t, requests);
	if (a->cfg.prices && price_get(a->cfg.prices, t, &price, NULL) < 0)
		price = a->price;
	if (a->cfg.adaptive) {
		level = adapt_pick_level(a->app, a->rate, a->delay_us, a->level);
		if (a->level >= 0 && level != a->level) {
			/* Move only when the new level has held for a while. */
			if (level != a->candidate) {
				a->candidate = level;
				a->candidate_ns = a->active_ns;
			}
			if (a->active_ns - a->candidate_ns < ADAPT_PERSIST_NS)
				level = a->level;
		} else {
			a->candidate = -1;
		}
		if (!a->started || price != a->price || level != a->level) {
			const struct econ_menu *m = &a->menus[level];
			size_t k = econ_menu_pick(m, price < 0 ? 0 : price);
			double d = m->choices[k].point->delay_us;

			a->price = price;
			a->level = level;
			a->choice = &m->choices[k];
			a->picks++;
			if (d != a->delay_us || !a->started) {
				if (a->cfg.set_delay &&
				    a->cfg.set_delay(a->cfg.arg, (int64_t)llround(d * 1000)) < 0)
					log_warn("adapt: cannot set the delay to %.3g us", d);
				if (d != a->delay_us)
					a->changes++;
				a->delay_us = d;
			}
			a->started = true;
			repick = true;
			emit(a, t, "pick");
		}
	} else {
		a->price = price;
		a->started = true;
	}
	if (a->cfg.report_ns > 0 && t - a->last_report_ns >= a->cfg.report_ns) {
		a->last_report_ns = t;
		emit(a, t, "status");
	}
	return repick;
}

void adapt_status(const struct adapt *a, struct adapt_status *out)
{
	out->price = a->price;
	out->rate = a->rate;
	out->delay_us = a->delay_us;
	out->level = a->level;
	out->level_name = a->app && a->level >= 0 ? a->app->levels[a->level].name : "";
	out->picks = a->picks;
	out->changes = a->changes;
}

static int64_t mono_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

static void *adapt_main(void *arg)
{
	struct adapt *a = arg;
	int64_t t0 = mono_ns(), next = t0;

	while (!atomic_load(&a->stop)) {
		struct timespec ts;
		int64_t now = mono_ns();

		adapt_step(a, now - t0, a->cfg.requests ? a->cfg.requests(a->cfg.arg) : 0);
		next += a->cfg.period_ns;
		if (next < now)
			next = now + a->cfg.period_ns;
		ts.tv_sec = next / 1000000000;
		ts.tv_nsec = next % 1000000000;
		clock_nanosleep(CLOCK_MONOTONIC, TIMER_ABSTIME, &ts, NULL);
	}
	return NULL;
}

int adapt_start(struct adapt *a)
{
	int rc;

	if (a->running)
		return -EALREADY;
	atomic_store(&a->stop, false);
	rc = pthread_create(&a->thread, NULL, adapt_main, a);
	if (rc)
		return -rc;
	a->running = true;
	return 0;
}

void adapt_stop(struct adapt *a)
{
	if (!a->running)
		return;
	atomic_store(&a->stop, true);
	pthread_join(a->thread, NULL);
	a->running = false;
}
