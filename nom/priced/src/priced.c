/* priced.c: nom-priced, a nom instance's agent towards the market: main loop and start-up.
 *
 *   nom-priced -c FILE [--set priced.key=value]... [--check] [--ready-file PATH]
 *              [--pid-file PATH] [--log-level L] [--log-json] [--check-invariants]
 *              [--remove-board]
 *
 * It owns the instance's bulletin board (the only writer), talks to the market as the tenant
 * (CURVE), and serves the instance's apps on the local API. One thread, one zmq_poll loop.
 * Start-up, flags, signals and exit codes are the daemon skeleton's (common/daemon.h):
 * SIGTERM or SIGINT stop it cleanly (the board says "stopped" and stays for the apps unless
 * --remove-board); SIGHUP re-reads the config and applies what can change while it runs
 * (timeouts, new subscriptions). --check loads the config and both key files and checks the
 * folders it names, and exits 0 or 78. Exit codes: 0, 64 usage, 69 unavailable (board taken
 * by another nom-priced, endpoint not bindable), 70 internal, 73 ready/pid file, 78 config or
 * a key file. Keys are read before the board is taken, so a bad key leaves no board behind. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <zmq.h>

#include "common/daemon.h"
#include "common/error.h"
#include "common/log.h"
#include "common/money.h"
#include "priced.h"

#define TICK_NS (100 * NS_PER_MS)
/* The info line of the rounds noticed, at most this often. */
#define ROUND_LOG_NS (10 * NS_PER_S)

int priced_check(const struct priced *p, char *why, size_t why_len)
{
	for (const struct priced_pending *q = p->pending; q; q = q->next) {
		if (q->rid <= p->rid_base || q->rid > p->rid_base + p->rid_count) {
			snprintf(why, why_len, "pending request id %llu outside this run's ids",
				 (unsigned long long)q->rid);
			return -EINVAL;
		}
		for (const struct priced_pending *o = q->next; o; o = o->next)
			if (o->rid == q->rid) {
				snprintf(why, why_len, "request id %llu pending twice",
					 (unsigned long long)q->rid);
				return -EINVAL;
			}
		if (q->sent && q->kind != PEND_HELLO && p->session != SESSION_UP) {
			snprintf(why, why_len, "request %llu marked sent while the session is down",
				 (unsigned long long)q->rid);
			return -EINVAL;
		}
	}
	struct bb_body *b = bb_writer_body(p->board);
	for (int i = 0; i < p->nbids; i++)
		if (!bb_body_bid_find(b, p->bids[i].bid_id)) {
			snprintf(why, why_len, "standing bid %s is not on the board", p->bids[i].bid_id);
			return -EINVAL;
		}
	if (b->state.market_state == BB_MARKET_FRESH && p->session != SESSION_UP) {
		snprintf(why, why_len, "board says fresh with the market session down");
		return -EINVAL;
	}
	return bb_writer_check(p->board, why, why_len);
}

/* SIGHUP: what may change while running is the timeouts and (added) subscriptions. */
static void reload(struct priced *p, const struct dmn_args *a)
{
	struct priced_config next;

	dmn_notify("RELOADING=1");
	if (priced_config_load(&next, a->config, (char **)a->sets, (int)a->nsets) != 0) {
		log_error("reload refused (the error above), the running config stays in force");
		dmn_notify("READY=1");
		return;
	}
	static const struct {
		const char *key;
		size_t off, len;
	} fixed[] = {
#define F(k) {#k, offsetof(struct priced_config, k), sizeof(((struct priced_config *)0)->k)}
		F(instance), F(market), F(prices), F(tenant_key), F(market_key), F(api), F(host),
		F(cpuset), F(board_mode), F(api_mode),
#undef F
	};
	for (size_t i = 0; i < sizeof(fixed) / sizeof(fixed[0]); i++)
		if (memcmp((const char *)&next + fixed[i].off, (const char *)&p->cfg + fixed[i].off,
			   fixed[i].len) != 0) {
			log_error("reload refused, the running config stays in force: priced.%s "
				  "cannot change while nom-priced runs (restart it)",
				  fixed[i].key);
			dmn_notify("READY=1");
			return;
		}
	struct priced_sub subs[PRICED_MAX_SUBS];
	char why[200];
	int n = priced_subs_parse(next.subscribe, subs, PRICED_MAX_SUBS, why, sizeof(why));
	for (int i = 0; i < n; i++)
		priced_market_subscribe(p, subs[i].resource, subs[i].host);
	p->cfg.stale_after_ns = next.stale_after_ns;
	p->cfg.ping_interval_ns = next.ping_interval_ns;
	p->cfg.ping_timeout_ns = next.ping_timeout_ns;
	p->cfg.request_timeout_ns = next.request_timeout_ns;
	snprintf(p->cfg.subscribe, sizeof(p->cfg.subscribe), "%s", next.subscribe);
	log_info("reloaded: timeouts and %d subscriptions (removed ones stay until a restart)",
		 p->nsubs);
	dmn_notify("READY=1");
}

static int run(struct priced *p, const struct dmn_args *a, bool check)
{
	char why[256];
	uint64_t notices = p->notices, prices = p->prices_received, requests = p->app_requests;
	int64_t next_log = clk_mono(p->clk) + ROUND_LOG_NS;

	for (;;) {
		zmq_pollitem_t items[6] = {
			{.socket = p->dealer, .events = ZMQ_POLLIN},
			{.socket = p->sub, .events = ZMQ_POLLIN},
			{.socket = p->api, .events = ZMQ_POLLIN},
			{.socket = p->mon_dealer, .events = ZMQ_POLLIN},
			{.socket = p->mon_sub, .events = ZMQ_POLLIN},
			{.fd = dmn_signal_fd(), .events = ZMQ_POLLIN},
		};
		int rc = zmq_poll(items, 6, TICK_NS / NS_PER_MS);
		if (rc < 0 && errno != EINTR) {
			log_error("zmq_poll: %s", zmq_strerror(errno));
			return -errno;
		}
		enum dmn_signal sig = dmn_signal_next();
		if (sig == DMN_SIG_STOP) {
			log_info("stopping (signal)");
			return 0;
		}
		if (sig == DMN_SIG_RELOAD)
			reload(p, a);
		if (rc > 0) {
			if (items[3].revents & ZMQ_POLLIN)
				priced_market_on_monitor(p, p->mon_dealer);
			if (items[4].revents & ZMQ_POLLIN)
				priced_market_on_monitor(p, p->mon_sub);
			if (items[0].revents & ZMQ_POLLIN)
				priced_market_on_dealer(p);
			if (items[1].revents & ZMQ_POLLIN)
				priced_market_on_sub(p);
			if (items[2].revents & ZMQ_POLLIN)
				priced_api_on_readable(p);
		}
		priced_market_tick(p);
		priced_board_publish(p);
		priced_metrics_tick(p);
		bb_writer_heartbeat(p->board, clk_mono(p->clk));
		if (check && priced_check(p, why, sizeof(why)) != 0) {
			log_error("invariant broken: %s", why);
			abort();
		}
		int64_t now = clk_mono(p->clk);
		if (now >= next_log) {
			const struct bb_state *st = &bb_writer_body(p->board)->state;
			char m1[MONEY_TEXT_MAX];
			if (p->notices != notices || p->app_requests != requests)
				log_info("round %llu: %llu notices, %llu prices, %llu app requests in "
					 "the last %lld s; market %s, charged %s in all",
					 (unsigned long long)st->round,
					 (unsigned long long)(p->notices - notices),
					 (unsigned long long)(p->prices_received - prices),
					 (unsigned long long)(p->app_requests - requests),
					 (long long)(ROUND_LOG_NS / NS_PER_S),
					 bb_market_state_name(st->market_state),
					 money_format(st->charged_total, m1));
			notices = p->notices;
			prices = p->prices_received;
			requests = p->app_requests;
			next_log = now + ROUND_LOG_NS;
		}
		dmn_tick();
	}
}

static bool check_invariants, remove_board;

static int on_own(void *arg, int val, const char *optarg)
{
	(void)arg;
	(void)optarg;
	if (val == DMN_OPT_OWN)
		check_invariants = true;
	else
		remove_board = true;
	return 0;
}

static void help_config(void)
{
	printf("nom-priced configuration, section [priced]:\n");
	priced_config_help();
}

static const struct option own_opts[] = {
	{"check-invariants", no_argument, NULL, DMN_OPT_OWN},
	{"remove-board", no_argument, NULL, DMN_OPT_OWN + 1},
	{NULL, 0, NULL, 0},
};

static const struct dmn_spec spec = {
	.name = "nom-priced",
	.component = "nom-priced",
	.summary = "A nom instance's agent towards the market (docs/nom.md): the bulletin board's\n"
		   "one writer, the tenant's CURVE session with the market, the local API of the\n"
		   "instance's apps.",
	.config_required = true,
	.own = own_opts,
	.own_help = "  --check-invariants    assert priced_check() after every loop (tests)\n"
		    "  --remove-board        remove the board at exit (default: it stays, stopped)\n",
	.on_own = on_own,
	.help_config = help_config,
};

/* The keys, before anything is taken: a bad one is the config's fault (78). */
static int load_keys(const struct priced_config *c, bool quiet)
{
	struct tp_keypair kp;
	char pub[TP_KEY_Z85_LEN + 1], why[600];

	if (tp_key_load_pair(c->tenant_key, &kp, why, sizeof(why)) != 0) {
		fprintf(stderr, "nom-priced: priced.tenant_key: %s\n", why);
		return EX_CONFIG;
	}
	if (tp_key_load_public(c->market_key, pub, why, sizeof(why)) != 0) {
		fprintf(stderr, "nom-priced: priced.market_key: %s\n", why);
		return EX_CONFIG;
	}
	if (!quiet)
		printf("keys     tenant %s (%s), market %s (%s)\n", kp.public_key, c->tenant_key,
		       pub, c->market_key);
	return 0;
}

/* --check: the config (loaded), the keys, and the folders it names. */
static int check(const struct priced_config *c)
{
	char board[80];
	struct stat st;
	int rc;

	if ((rc = load_keys(c, false)) != 0)
		return rc;
	if ((rc = dmn_check_folder_of(&spec, "priced.api", c->api + strlen("ipc://"))) != 0)
		return rc;
	bb_path(c->instance, board, sizeof(board));
	if ((rc = dmn_check_folder_of(&spec, "board", board)) != 0)
		return rc;
	if (c->cpuset[0] && (stat(c->cpuset, &st) != 0 || !S_ISDIR(st.st_mode))) {
		fprintf(stderr, "nom-priced: priced.cpuset %s: not a folder: %s\n", c->cpuset,
			strerror(errno ? errno : ENOTDIR));
		return EX_CONFIG;
	}
	printf("instance %s: board %s, local API %s\nmarket   %s, prices %s\n", c->instance, board,
	       c->api, c->market, c->prices);
	if (c->http.enabled)
		printf("metrics  http on %s port %d%s (docs/dashboards.md)\n", c->http.bind,
		       c->http.port, c->http.token[0] ? ", bearer token required" : "");
	else
		printf("metrics  off\n");
	printf("nom-priced: check ok\n");
	return 0;
}

int main(int argc, char **argv)
{
	struct dmn_args args;
	char why[400], ready[1024];
	int rc, err;

	if ((rc = dmn_parse(&spec, argc, argv, &args)) != DMN_CONTINUE)
		return rc;
	struct priced *p = calloc(1, sizeof(*p));
	if (!p)
		return EX_OSERR;
	if (priced_config_load(&p->cfg, args.config, (char **)args.sets, (int)args.nsets) != 0) {
		free(p);
		return EX_CONFIG;
	}
	dmn_log_init(&spec, &args, LOG_INFO);
	if (args.check) {
		rc = check(&p->cfg);
		free(p);
		return rc;
	}
	if ((rc = load_keys(&p->cfg, true)) != 0) {
		free(p);
		return rc;
	}
	if ((err = dmn_signals_init()) != 0) {
		log_error("signals: %s", raas_strerror(err));
		free(p);
		return EX_OSERR;
	}
	p->clk = &clk_real;
	p->rid_base = (uint64_t)clk_wall(p->clk);
	p->nsubs = priced_subs_parse(p->cfg.subscribe, p->subs, PRICED_MAX_SUBS, why, sizeof(why));

	err = bb_writer_open(p->cfg.instance, (mode_t)p->cfg.board_mode, &p->board);
	if (err) {
		char path[80];
		bb_path(p->cfg.instance, path, sizeof(path));
		log_error("board %s: %s%s", path, raas_strerror(err),
			  err == -EBUSY ? " (another nom-priced runs for this instance)" : "");
		free(p);
		return err == -EBUSY ? EX_UNAVAILABLE : EX_CANTCREAT;
	}
	struct bb_state *s = &bb_writer_body(p->board)->state;
	s->balance = -1;
	priced_board_set_market(p, BB_MARKET_CONNECTING, "connecting to %s", p->cfg.market);

	rc = EX_UNAVAILABLE;
	p->zctx = tp_context_create(0, 1);
	if (!p->zctx) {
		log_error("start-up: %s", strerror(errno));
		rc = EX_OSERR;
		goto out_board;
	}
	if (dmn_pid_file(&args, why, sizeof(why)) != 0) {
		log_error("%s", why);
		rc = EX_CANTCREAT;
		goto out_ctx;
	}
	if (priced_api_open(p) != 0)
		goto out_ctx;
	if (priced_market_open(p) != 0)
		goto out_api;
	priced_board_publish(p);
	if (priced_metrics_open(p) != 0) {
		priced_market_close(p);
		goto out_api;
	}
	bb_path(p->cfg.instance, why, sizeof(why));
	snprintf(ready, sizeof(ready),
		 "instance=%s\nboard=%s\napi=%s\nmarket=%s\nhttp_endpoint=%s\n",
		 p->cfg.instance, why, p->cfg.api, p->cfg.market,
		 p->http ? httpd_endpoint(p->http) : "");
	if (dmn_ready(&args, ready, why, sizeof(why)) != 0) {
		log_error("%s", why);
		rc = EX_CANTCREAT;
		priced_metrics_close(p);
		priced_market_close(p);
		goto out_api;
	}
	log_info("instance %s: board %s, local API %s, market %s, prices %s, %d subscriptions",
		 p->cfg.instance, p->cfg.instance, p->cfg.api, p->cfg.market, p->cfg.prices,
		 p->nsubs);
	rc = run(p, &args, check_invariants) == 0 ? 0 : EX_SOFTWARE;

	priced_board_set_market(p, BB_MARKET_STOPPED, "nom-priced stopped");
	priced_board_publish(p);
	log_info("stopped: %llu app requests, %llu market replies, %llu prices, %llu notices",
		 (unsigned long long)p->app_requests, (unsigned long long)p->market_replies,
		 (unsigned long long)p->prices_received, (unsigned long long)p->notices);
	priced_metrics_close(p);
	priced_market_close(p);
out_api:
	priced_api_close(p);
out_ctx:
	if (p->zctx)
		tp_context_destroy(p->zctx);
out_board:
	bb_writer_close(p->board, remove_board);
	priced_bids_clear(p);
	dmn_exit(&args);
	free(p);
	return rc;
}
