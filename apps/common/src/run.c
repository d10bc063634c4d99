/* run.c: app_run(), the shared main loop of the nom apps (run.h).
 *
 * The app reaches the runtime only through libnom: its board (nom_open), the board price
 * source, the load meter and the controller that decides the working point and what the
 * instance holds. Here the controller's decisions are applied to the server: the batching
 * delay to nomnet, the cache size to the app (in the server's thread). */
#include <errno.h>
#include <inttypes.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "app/run.h"
#include "common/error.h"
#include "common/log.h"
#include "nom/econ_profile.h"
#include "nom/nom.h"
#include "nom/source.h"

#define MAX_WORKERS 64

struct run {
	const struct app_spec *spec;
	struct srv *srv[MAX_WORKERS];
	unsigned nsrv;
	int64_t memory_mib;  /* for set_memory_in_thread */
};

static struct run *running;

static void on_signal(int sig)
{
	(void)sig;
	if (!running)
		return;
	for (unsigned i = 0; i < running->nsrv; i++)
		srv_stop(running->srv[i]);
}

static void set_memory_in_thread(void *arg)
{
	struct run *r = arg;

	r->spec->set_memory(r->spec->app, r->memory_mib);
}

/* The controller's decisions, applied: the delay to nomnet, the cache size to the app. */
static int apply(void *arg, const struct nom_wp *wp)
{
	struct run *r = arg;
	int rc = 0;

	for (unsigned i = 0; i < r->nsrv; i++) {
		struct nomnet *n = srv_nomnet(r->srv[i]);
		if (n && nomnet_set_delay(n, (int64_t)(wp->knobs.delay_us * 1000 + 0.5)) < 0)
			rc = -EINVAL;
		if (n && wp->knobs.spin_us >= 0 &&
		    nomnet_set_spin(n, (int64_t)(wp->knobs.spin_us * 1000 + 0.5)) < 0)
			rc = -EINVAL;
	}
	if (r->spec->set_memory && wp->memory_mib > 0 && wp->memory_mib != r->memory_mib) {
		r->memory_mib = wp->memory_mib;
		srv_call(r->srv[0], set_memory_in_thread, r);
	}
	return rc;
}

static int memory_curve(void *arg, struct nom_memory_curve *out)
{
	struct run *r = arg;

	return r->spec->memory_curve(r->spec->app, out);
}

static int load_inputs(const struct app_opts *o, struct nom_source **prices,
		       struct econ_profile **profile)
{
	char err[512];
	int rc;

	if (o->prices_path) {
		rc = nom_source_schedule_load(o->prices_path, prices, err, sizeof(err));
		if (rc < 0) {
			fprintf(stderr, "%s: %s\n", o->prog, err);
			return rc == -RAAS_EPARSE || rc == -RAAS_ETOOBIG ? 65 : 66;
		}
	} else if (o->price >= 0 && nom_source_fixed(o->price, prices) < 0) {
		return 70;
	}
	if (o->profile_path) {
		struct econ_error e;

		rc = econ_profile_load(o->profile_path, profile, &e);
		if (rc < 0) {
			char msg[512];

			fprintf(stderr, "%s: %s\n", o->prog, econ_error_format(&e, msg, sizeof(msg)));
			return rc == -RAAS_EPARSE || rc == -RAAS_ETOOBIG ? 65 : 66;
		}
	}
	return 0;
}

/* --instance: the board (nom-priced must be running) and its price source. */
static int open_instance(const struct app_opts *o, struct nom **nom, struct nom_source **prices)
{
	struct nom_options no = {.size = sizeof(no), .pin_later = true};
	struct nom_status st;
	char msg[512];
	int rc = nom_open(o->instance, &no, nom);

	if (rc) {
		fprintf(stderr, "%s: --instance %s: %s\n", o->prog, o->instance,
			nom_explain_open(o->instance, rc, msg, sizeof(msg)));
		return 69;
	}
	if (nom_status(*nom, &st) != 0 || !st.priced_alive) {
		fprintf(stderr, "%s: --instance %s: its nom-priced (pid %d) is not running\n",
			o->prog, o->instance, (int)st.priced_pid);
		return 69;
	}
	if (nom_source_board(*nom, o->host ? o->host : st.host, prices) != 0)
		return 70;
	return 0;
}

static void *worker_main(void *arg)
{
	srv_run(arg);
	return NULL;
}

/* Gives back what the instance holds through this app, so that it stops paying. */
static void release_all(struct nom *nom, const struct nom_adapt_status *as, const char *host)
{
	static const enum nom_resource rs[] = {NOM_BANDWIDTH, NOM_CORES, NOM_MEMORY};
	char id[64];
	struct nom_bid_info bi;

	for (size_t i = 0; i < sizeof(rs) / sizeof(rs[0]); i++) {
		nom_acquire_bid_id(rs[i], host, id, sizeof(id));
		if (nom_bid_info(nom, id, &bi) == 0 && bi.max_quantity > 0 &&
		    nom_release(nom, rs[i], host, 0) != 0)
			log_warn("exit: cannot release %s on %s: %s", nom_resource_name(rs[i]), host,
				 nom_last_error(nom));
	}
	(void)as;
}

int app_run(struct app_opts *o, const struct app_spec *spec)
{
	struct nom_source *prices = NULL;
	struct econ_profile *profile = NULL;
	struct nom_adapt *adapt = NULL;
	struct nom_load *load = NULL;
	struct nom *nom = NULL;
	struct run r = {.spec = spec};
	pthread_t threads[MAX_WORKERS];
	unsigned nthreads = 0;
	struct sigaction sa;
	char err[512];
	int rc, code = 0;

	log_init(o->prog, o->log_level, false);
	if (o->workers < 1 || o->workers > MAX_WORKERS || (o->workers > 1 && !spec->worker) ||
	    (o->workers > 1 && o->srv.stack != SRV_KERNEL)) {
		fprintf(stderr, "%s: --workers %u: 1-%d, and more than one only on --stack kernel\n",
			o->prog, o->workers, MAX_WORKERS);
		return 64;
	}
	code = load_inputs(o, &prices, &profile);
	if (!code && o->instance)
		code = open_instance(o, &nom, &prices);
	if (code)
		goto out;
	if (nom_load_create(0, &load) < 0) {
		code = 70;
		goto out;
	}
	o->srv.load = load;
	o->srv.reuse_port = o->workers > 1;
	for (unsigned i = 0; i < o->workers; i++) {
		void *app = i == 0 ? spec->app : spec->worker(spec->app, i);
		rc = app ? srv_create(&o->srv, spec->ops, app, &r.srv[i]) : -ENOMEM;
		if (rc < 0) {
			fprintf(stderr, "%s: cannot start the %s stack: %s\n", o->prog,
				srv_stack_name(o->srv.stack), strerror(-rc));
			code = 69;
			goto out;
		}
		r.nsrv++;
		rc = srv_listen(r.srv[i], o->port);
		if (rc < 0) {
			fprintf(stderr, "%s: cannot listen on port %u: %s\n", o->prog, o->port,
				strerror(-rc));
			code = 69;
			goto out;
		}
	}

	if (profile) {
		struct nom_adapt_config ac = {
			.size = sizeof(ac),
			.profile = profile,
			.app = o->profile_app,
			.utility = o->utility,
			.strategy = o->adaptive ? NOM_ADAPTIVE : o->strategy,
			.delay_us = o->delay_us,
			.static_level = o->static_level,
			.prices = prices,
			.load = load,
			.nom = nom,
			.host = o->host,
			.bandwidth_max_mbit = o->bandwidth_max_mbit,
			.cores_max = nom ? o->cores_max : 0,
			.max_price = o->max_price,
			.apply = apply,
			.arg = &r,
			.out = stdout,
			.report_ns = o->report_ns,
		};
		if (!o->instance && !o->adaptive)
			ac.strategy = NOM_STATIC; /* alone and not adaptive: report at --delay */
		if (nom && spec->memory_curve && o->memory_max_mib > 0) {
			ac.memory_min_mib = o->memory_min_mib;
			ac.memory_max_mib = o->memory_max_mib;
			ac.memory_reserve_mib = o->memory_reserve_mib;
			ac.memory_curve = memory_curve;
		}
		rc = nom_adapt_create(&ac, &adapt, err, sizeof(err));
		if (rc < 0) {
			fprintf(stderr, "%s: %s\n", o->prog, err);
			code = o->instance && rc != -ENOENT && rc != -E2BIG ? 69 : 65;
			goto out;
		}
	}

	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = on_signal;
	running = &r;
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGTERM, &sa, NULL);
	signal(SIGPIPE, SIG_IGN);
	if (spec->on_ready)
		spec->on_ready(r.srv[0], spec->app);
	log_info("%s: serving port %u on the %s stack (%u worker%s)%s%s%s", o->prog, o->port,
		 srv_stack_name(o->srv.stack), r.nsrv, r.nsrv == 1 ? "" : "s",
		 o->instance ? ", instance " : "", o->instance ? o->instance : "",
		 adapt ? ", under the controller" : "");
	if (adapt && (o->adaptive || o->report_ns || o->instance) && nom_adapt_start(adapt) < 0)
		log_warn("%s: cannot start the controller thread", o->prog);
	for (unsigned i = 1; i < r.nsrv; i++)
		if (pthread_create(&threads[nthreads], NULL, worker_main, r.srv[i]) == 0)
			nthreads++;
	rc = srv_run(r.srv[0]);
	for (unsigned i = 1; i < r.nsrv; i++)
		srv_stop(r.srv[i]);
	for (unsigned i = 0; i < nthreads; i++)
		pthread_join(threads[i], NULL);
	if (adapt)
		nom_adapt_stop(adapt);
	running = NULL;
	if (rc < 0) {
		fprintf(stderr, "%s: %s\n", o->prog, strerror(-rc));
		code = 70;
	}
	{
		struct srv_stats st, sum = {0};
		struct nom_adapt_status as = {0};

		for (unsigned i = 0; i < r.nsrv; i++) {
			srv_stats_read(r.srv[i], &st);
			sum.accepted += st.accepted;
			sum.requests += st.requests;
			sum.bytes_in += st.bytes_in;
			sum.bytes_out += st.bytes_out;
		}
		if (adapt)
			nom_adapt_status(adapt, &as);
		else
			as.wp.knobs.delay_us = o->delay_us;
		printf("{\"event\":\"exit\",\"stack\":\"%s\",\"workers\":%u,\"connections\":%llu,"
		       "\"requests\":%llu,\"bytes_in\":%llu,\"bytes_out\":%llu,\"delay_us\":%.3g,"
		       "\"delay_changes\":%llu,\"picks\":%llu,\"holds\":%llu,\"hold_errors\":%llu,"
		       "\"stale_events\":%llu}\n",
		       srv_stack_name(o->srv.stack), r.nsrv, (unsigned long long)sum.accepted,
		       (unsigned long long)sum.requests, (unsigned long long)sum.bytes_in,
		       (unsigned long long)sum.bytes_out, as.wp.knobs.delay_us,
		       (unsigned long long)as.changes, (unsigned long long)as.picks,
		       (unsigned long long)as.holds, (unsigned long long)as.hold_errors,
		       (unsigned long long)as.stale_events);
		fflush(stdout);
		if (nom && adapt) {
			struct nom_status ns;
			if (nom_status(nom, &ns) == 0 && ns.market == NOM_MARKET_FRESH)
				release_all(nom, &as, o->host ? o->host : ns.host);
		}
	}
out:
	nom_adapt_destroy(adapt);
	for (unsigned i = 0; i < r.nsrv; i++)
		srv_destroy(r.srv[i]);
	nom_load_destroy(load);
	nom_source_destroy(prices);
	nom_close(nom);
	econ_profile_destroy(profile);
	return code;
}
