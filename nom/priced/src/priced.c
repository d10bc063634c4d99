/* priced.c: nom-priced, a nom instance's agent towards the market: main loop and start-up.
 *
 *   nom-priced -c FILE [--set priced.key=value]... [--log-level L] [--log-json]
 *              [--check-invariants] [--remove-board]
 *
 * It owns the instance's bulletin board (the only writer), talks to the market as the tenant
 * (CURVE), and serves the instance's apps on the local API. One thread, one zmq_poll loop;
 * SIGTERM or SIGINT stop it cleanly (the board says "stopped" and stays for the apps unless
 * --remove-board). Exit codes: 0, 64 usage, 69 unavailable (board taken by another
 * nom-priced, endpoint not bindable), 78 config. */
#include <errno.h>
#include <getopt.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/signalfd.h>
#include <unistd.h>
#include <zmq.h>

#include "common/error.h"
#include "common/log.h"
#include "priced.h"

#define TICK_NS (100 * NS_PER_MS)

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

static void usage(FILE *f)
{
	fprintf(f, "usage: nom-priced -c FILE [--set priced.KEY=VALUE]... [--log-level LEVEL]\n"
		   "                  [--log-json] [--check-invariants] [--remove-board]\n"
		   "       nom-priced --help-config\n");
}

static int run(struct priced *p, int sigfd, bool check)
{
	char why[256];

	for (;;) {
		zmq_pollitem_t items[6] = {
			{.socket = p->dealer, .events = ZMQ_POLLIN},
			{.socket = p->sub, .events = ZMQ_POLLIN},
			{.socket = p->api, .events = ZMQ_POLLIN},
			{.socket = p->mon_dealer, .events = ZMQ_POLLIN},
			{.socket = p->mon_sub, .events = ZMQ_POLLIN},
			{.fd = sigfd, .events = ZMQ_POLLIN},
		};
		int rc = zmq_poll(items, 6, TICK_NS / NS_PER_MS);
		if (rc < 0 && errno != EINTR) {
			log_error("zmq_poll: %s", zmq_strerror(errno));
			return -errno;
		}
		if (rc > 0 && (items[5].revents & ZMQ_POLLIN)) {
			struct signalfd_siginfo si;
			if (read(sigfd, &si, sizeof(si)) == sizeof(si))
				log_info("signal %u: stopping", si.ssi_signo);
			return 0;
		}
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
		bb_writer_heartbeat(p->board, clk_mono(p->clk));
		if (check && priced_check(p, why, sizeof(why)) != 0) {
			log_error("invariant broken: %s", why);
			abort();
		}
	}
}

int main(int argc, char **argv)
{
	static const struct option opts[] = {
		{"config", required_argument, NULL, 'c'},
		{"set", required_argument, NULL, 's'},
		{"log-level", required_argument, NULL, 'l'},
		{"log-json", no_argument, NULL, 'j'},
		{"check-invariants", no_argument, NULL, 'k'},
		{"remove-board", no_argument, NULL, 'r'},
		{"help-config", no_argument, NULL, 'C'},
		{"help", no_argument, NULL, 'h'},
		{NULL, 0, NULL, 0},
	};
	const char *config = NULL;
	char *overrides[64];
	int noverrides = 0, c;
	enum log_level level = LOG_INFO;
	bool json = false, check = false, remove_board = false;

	while ((c = getopt_long(argc, argv, "c:s:h", opts, NULL)) != -1) {
		switch (c) {
		case 'c':
			config = optarg;
			break;
		case 's':
			if (noverrides == 64) {
				fprintf(stderr, "nom-priced: more than 64 --set options\n");
				return 64;
			}
			overrides[noverrides++] = optarg;
			break;
		case 'l':
			if (log_level_parse(optarg, &level) != 0) {
				fprintf(stderr, "nom-priced: --log-level %s: error, warn, info or debug\n",
					optarg);
				return 64;
			}
			break;
		case 'j':
			json = true;
			break;
		case 'k':
			check = true;
			break;
		case 'r':
			remove_board = true;
			break;
		case 'C':
			printf("nom-priced configuration, section [priced]:\n");
			priced_config_help();
			return 0;
		case 'h':
			usage(stdout);
			return 0;
		default:
			usage(stderr);
			return 64;
		}
	}
	if (optind != argc || (!config && !noverrides)) {
		usage(stderr);
		return 64;
	}
	log_init("nom-priced", level, json);

	struct priced *p = calloc(1, sizeof(*p));
	char why[200];
	if (!p)
		return 70;
	if (priced_config_load(&p->cfg, config, overrides, noverrides) != 0)
		return 78;
	p->clk = &clk_real;
	p->rid_base = (uint64_t)clk_wall(p->clk);
	p->nsubs = priced_subs_parse(p->cfg.subscribe, p->subs, PRICED_MAX_SUBS, why, sizeof(why));

	int err = bb_writer_open(p->cfg.instance, (mode_t)p->cfg.board_mode, &p->board);
	if (err) {
		char path[80];
		bb_path(p->cfg.instance, path, sizeof(path));
		log_error("board %s: %s%s", path, raas_strerror(err),
			  err == -EBUSY ? " (another nom-priced runs for this instance)" : "");
		return 69;
	}
	struct bb_state *s = &bb_writer_body(p->board)->state;
	s->balance = -1;
	priced_board_set_market(p, BB_MARKET_CONNECTING, "connecting to %s", p->cfg.market);

	sigset_t mask;
	sigemptyset(&mask);
	sigaddset(&mask, SIGTERM);
	sigaddset(&mask, SIGINT);
	sigprocmask(SIG_BLOCK, &mask, NULL);
	signal(SIGPIPE, SIG_IGN);
	int sigfd = signalfd(-1, &mask, SFD_CLOEXEC | SFD_NONBLOCK);

	int rc = 69;
	p->zctx = tp_context_create(0, 1);
	if (!p->zctx || sigfd < 0) {
		log_error("start-up: %s", strerror(errno));
		goto out_board;
	}
	if (priced_api_open(p) != 0)
		goto out_ctx;
	if (priced_market_open(p) != 0)
		goto out_api;
	priced_board_publish(p);
	log_info("instance %s: board %s, local API %s, market %s, prices %s, %d subscriptions",
		 p->cfg.instance, p->cfg.instance, p->cfg.api, p->cfg.market, p->cfg.prices,
		 p->nsubs);
	rc = run(p, sigfd, check) == 0 ? 0 : 70;

	priced_board_set_market(p, BB_MARKET_STOPPED, "nom-priced stopped");
	priced_board_publish(p);
	log_info("stopped: %llu app requests, %llu market replies, %llu prices, %llu notices",
		 (unsigned long long)p->app_requests, (unsigned long long)p->market_replies,
		 (unsigned long long)p->prices_received, (unsigned long long)p->notices);
	priced_market_close(p);
out_api:
	priced_api_close(p);
out_ctx:
	if (p->zctx)
		tp_context_destroy(p->zctx);
out_board:
	bb_writer_close(p->board, remove_board);
	priced_bids_clear(p);
	if (sigfd >= 0)
		close(sigfd);
	free(p);
	return rc;
}
