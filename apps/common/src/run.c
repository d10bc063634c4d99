/* run.c: app_run(), the shared main loop of the nom apps (run.h). */
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>

#include "app/adapt.h"
#include "app/price.h"
#include "app/run.h"
#include "common/error.h"
#include "common/log.h"
#include "nom/econ_profile.h"

static struct srv *running;

static void on_signal(int sig)
{
	(void)sig;
	if (running)
		srv_stop(running);
}

static int set_delay(void *arg, int64_t ns)
{
	struct nomnet *n = srv_nomnet(arg);

	return n ? nomnet_set_delay(n, ns) : -ENOTSUP;
}

static uint64_t requests(void *arg)
{
	return srv_requests(arg);
}

static int load_inputs(const struct app_opts *o, struct price_source **prices,
		       struct econ_profile **profile)
{
	char err[512];
	int rc;

	if (o->prices_path) {
		rc = price_schedule_load(o->prices_path, prices, err, sizeof(err));
		if (rc < 0) {
			fprintf(stderr, "%s: %s\n", o->prog, err);
			return rc == -RAAS_EPARSE || rc == -RAAS_ETOOBIG ? 65 : 66;
		}
	} else if (o->price >= 0 && price_fixed(o->price, prices) < 0) {
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

int app_run(struct app_opts *o, const struct srv_app_ops *ops, void *app,
	    void (*on_ready)(struct srv *s, void *app))
{
	struct price_source *prices = NULL;
	struct econ_profile *profile = NULL;
	struct adapt *adapt = NULL;
	struct adapt_config ac;
	struct srv *s = NULL;
	struct srv_stats st;
	struct sigaction sa;
	char err[512];
	int rc, code = 0;

	log_init(o->prog, o->log_level, false);
	code = load_inputs(o, &prices, &profile);
	if (code)
		goto out;
	rc = srv_create(&o->srv, ops, app, &s);
	if (rc < 0) {
		fprintf(stderr, "%s: cannot start the %s stack: %s\n", o->prog,
			srv_stack_name(o->srv.stack), strerror(-rc));
		code = 69;
		goto out;
	}
	rc = srv_listen(s, o->port);
	if (rc < 0) {
		fprintf(stderr, "%s: cannot listen on port %u: %s\n", o->prog, o->port,
			strerror(-rc));
		code = 69;
		goto out;
	}

	memset(&ac, 0, sizeof(ac));
	ac.profile = profile;
	ac.app = o->profile_app;
	ac.utility = o->utility;
	ac.prices = prices;
	ac.adaptive = o->adaptive;
	ac.report_ns = o->report_ns;
	ac.out = stdout;
	ac.set_delay = set_delay;
	ac.requests = requests;
	ac.arg = s;
	ac.initial_delay_us = o->delay_us;
	rc = adapt_create(&ac, &adapt, err, sizeof(err));
	if (rc < 0) {
		fprintf(stderr, "%s: %s\n", o->prog, err);
		code = 65;
		goto out;
	}

	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = on_signal;
	running = s;
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGTERM, &sa, NULL);
	signal(SIGPIPE, SIG_IGN);
	if (on_ready)
		on_ready(s, app);
	log_info("%s: serving port %u on the %s stack%s", o->prog, o->port,
		 srv_stack_name(o->srv.stack), o->adaptive ? ", adaptive delay" : "");
	if ((o->adaptive || o->report_ns) && adapt_start(adapt) < 0)
		log_warn("%s: cannot start the controller thread", o->prog);
	rc = srv_run(s);
	adapt_stop(adapt);
	running = NULL;
	if (rc < 0) {
		fprintf(stderr, "%s: %s\n", o->prog, strerror(-rc));
		code = 70;
	}
	srv_stats_read(s, &st);
	{
		struct adapt_status as;

		adapt_status(adapt, &as);
		printf("{\"event\":\"exit\",\"stack\":\"%s\",\"connections\":%llu,\"requests\":%llu,"
		       "\"bytes_in\":%llu,\"bytes_out\":%llu,\"delay_us\":%.3g,\"delay_changes\":%llu}\n",
		       srv_stack_name(o->srv.stack), (unsigned long long)st.accepted,
		       (unsigned long long)st.requests, (unsigned long long)st.bytes_in,
		       (unsigned long long)st.bytes_out, as.delay_us,
		       (unsigned long long)as.changes);
		fflush(stdout);
	}
out:
	adapt_destroy(adapt);
	srv_destroy(s);
	price_destroy(prices);
	econ_profile_destroy(profile);
	return code;
}
