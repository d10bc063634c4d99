/* tb_run.c: `raas testbed run`: up, the timeline, one sample per tenant per second, down.
 *
 * The timeline is the testbed file's: tenants join and leave at their times, hosts fail at
 * theirs (the agent is killed and the uplink cut: the market stops hearing from it), a host's
 * supply changes (its agent's config rewritten and reloaded: it registers the new capacity)
 * and a resource's price parameters change (the market's config rewritten and reloaded). Every
 * second each tenant is sampled from independent sources: its board (price, holding, what
 * the market charged it), its tc class's byte counter on the host's uplink (bytes really
 * sent), its app's last pick (W) and its load generator's interval line (throughput,
 * latency). A progress line shows phase, time left, prices, W and spend. */

#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "bb/bb.h"
#include "tb_internal.h"
#include "tb_sample.h"

#define SAY(...) fprintf(stderr, "raas testbed: " __VA_ARGS__)

/* stop_pid: SIGTERM to one of our children, SIGKILL after 3 s. */
static void stop_pid(pid_t pid)
{
	if (pid <= 0)
		return;
	kill(pid, SIGTERM);
	for (int i = 0; i < 60; i++) {
		if (waitpid(pid, NULL, WNOHANG) == pid)
			return;
		struct timespec ts = {0, 50000000};
		nanosleep(&ts, NULL);
	}
	kill(pid, SIGKILL);
	waitpid(pid, NULL, 0);
}

int tb_tenant_stop(struct tb_state *st, int t)
{
	stop_pid(st->loadgen[t]);
	stop_pid(st->app[t]);
	st->loadgen[t] = st->app[t] = 0;
	st->tenant_up[t] = false;
	return 0;
}

int tb_host_fail(struct tb_state *st, int h)
{
	const struct testbed *tb = st->tb;
	stop_pid(st->agent[h]);
	st->agent[h] = 0;
	st->host_up[h] = false;
	/* The uplink goes down: its tenants' traffic and the agent's heartbeats stop. */
	return tb_sh(st, "ip -n tb-%s-%s link set up0 down", tb->name, tb->hosts[h].name);
}

int tb_event_apply(struct tb_state *st, int i)
{
	const struct testbed *tb = st->tb;
	const struct tb_event *e = &tb->events[i];
	int rc;

	if (e->kind == TB_EV_SUPPLY) {
		enum tb_res r = tb_resource_res(&tb->resources[e->resource]);
		if (!st->host_up[e->host] || st->agent[e->host] <= 0) {
			SAY("event %s: host %s is down: its supply stays\n", e->name,
			    tb->hosts[e->host].name);
			return -ESRCH;
		}
		st->supply[e->host][r] = e->supply;
		if ((rc = tb_write_agent_ini(st, e->host, st->hostapi)) != 0)
			return rc;
		/* The agent checks the new config beside the running one and registers again
		 * with the new capacity: the market's pool takes it from its next round. */
		return kill(st->agent[e->host], SIGHUP) == 0 ? 0 : -errno;
	}
	snprintf(st->res_model[e->resource], sizeof(st->res_model[0]), "%s", e->model);
	snprintf(st->res_params[e->resource], sizeof(st->res_params[0]), "%s", e->params);
	if ((rc = tb_write_market_ini(st)) != 0)
		return rc;
	/* The market re-reads models and parameters; its next round clears with them. */
	return kill(st->market_pid, SIGHUP) == 0 ? 0 : -errno;
}

int tb_run(struct tb_state *st, const char *out_path)
{
	const struct testbed *tb = st->tb;
	struct tb_samples *sm = NULL;
	bool done_event[TB_MAX_EVENTS] = {0};
	int rc;

	if ((rc = tb_up(st, false)) != 0)
		return rc;
	if ((rc = tb_samples_create(st, &sm)) != 0)
		return rc;
	/* The run's clock is the market's (a price trace starts with it): tenants joining at 0
	 * were started by up, a few seconds into the run. */
	int64_t start = st->market_ready_ns;
	int sec0 = (int)((tb_now() - start) / 1000000000LL);
	for (int sec = sec0;; sec++) {
		int64_t due = start + (int64_t)sec * 1000000000LL;
		while (tb_now() < due && !tb_interrupted) {
			struct timespec ts = {0, 20000000};
			nanosleep(&ts, NULL);
		}
		if (tb_interrupted)
			break;
		int64_t at = tb_now() - start;
		for (int t = 0; t < tb->ntenants; t++) {
			const struct tb_tenant *tn = &tb->tenants[t];
			if (!st->tenant_up[t] && tn->join_ns <= at &&
			    (tn->leave_ns < 0 || tn->leave_ns > at) && !st->tenant_done[t]) {
				SAY("t=%ds: %s joins\n", sec, tn->name);
				if ((rc = tb_tenant_start(st, t)) != 0)
					goto out;
			}
			if (st->tenant_up[t] && tn->leave_ns >= 0 && tn->leave_ns <= at) {
				SAY("t=%ds: %s leaves\n", sec, tn->name);
				tb_tenant_stop(st, t);
				st->tenant_done[t] = true;
			}
		}
		for (int e = 0; e < tb->nevents; e++)
			if (!done_event[e] && tb->events[e].at_ns <= at) {
				const struct tb_event *ev = &tb->events[e];
				done_event[e] = true;
				st->event_done_ns[e] = tb_now() - start;
				if (ev->kind == TB_EV_HOST_FAIL) {
					SAY("t=%ds: host %s fails\n", sec, tb->hosts[ev->host].name);
					st->event_rc[e] = tb_host_fail(st, ev->host);
				} else if (ev->kind == TB_EV_SUPPLY) {
					SAY("t=%ds: host %s sells %lld %s\n", sec,
					    tb->hosts[ev->host].name, (long long)ev->supply,
					    tb->resources[ev->resource].name);
					st->event_rc[e] = tb_event_apply(st, e);
				} else {
					SAY("t=%ds: %s is priced by %s (%s)\n", sec,
					    tb->resources[ev->resource].name, ev->model, ev->params);
					st->event_rc[e] = tb_event_apply(st, e);
				}
			}
		/* A daemon that died on its own fails the run. */
		if (st->market_pid > 0 && waitpid(st->market_pid, NULL, WNOHANG) == st->market_pid) {
			SAY("raas-marketd exited during the run (market.log)\n");
			rc = -ECHILD;
			goto out;
		}
		tb_samples_take(sm, sec);
		tb_samples_progress(sm, sec, tb->duration_ns / 1000000000LL);
		if ((int64_t)sec * 1000000000LL >= tb->duration_ns)
			break;
	}
	fputc('\n', stderr);
	if (!tb_interrupted && out_path) {
		/* The ledger beside it (raas ledger backup: a consistent copy, checked), for the
		 * books: the state folder goes with the teardown. */
		char raas[600], copy[700];
		snprintf(raas, sizeof(raas), "%s/raas", st->bin);
		snprintf(copy, sizeof(copy), "%s.ledger", out_path);
		unlink(copy);
		char *argv[] = {raas, "ledger", "backup", copy, NULL};
		if (tb_run_cmd(st, NULL, 0, argv) != 0) {
			SAY("raas ledger backup %s failed (setup.log)\n", copy);
			rc = -EIO;
		} else {
			rc = tb_samples_write(sm, out_path, copy);
		}
	}
out:
	tb_samples_destroy(sm);
	return rc;
}
