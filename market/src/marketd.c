/* marketd.c: raas-marketd, the provider's market daemon: sockets, the round clock, signals.
 *
 * One thread, one poll loop over four sockets: the ZAP handler (who is this key?), the
 * tenant ROUTER, the host ROUTER, and the timer of round closes. Requests are read in
 * batches; each batch is one ledger transaction (market_batch_begin/end), and its replies are
 * sent only after the commit. A round close writes its own transaction and only then
 * publishes prices, sends allocation sets to host agents and notices to tenants. The core
 * (market.h) does the market; this file moves bytes and keeps time.
 *
 * Exit codes (sysexits): 0 after SIGTERM/SIGINT, 64 usage, 65 bad ledger data, 69 an
 * endpoint or the ledger is unavailable, 78 configuration (file, key). */
#include <errno.h>
#include <getopt.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sysexits.h>
#include <unistd.h>
#include <zmq.h>

#include "common/error.h"
#include "common/log.h"
#include "market/market.h"

static volatile sig_atomic_t stop_requested;

static void on_signal(int sig)
{
	(void)sig;
	stop_requested = 1;
}

struct marketd {
	struct market_config cfg;
	struct ledger *ledger;
	struct market *market;
	void *ctx;
	struct tp_zap *zap;
	void *tenant_sock, *host_sock, *pub_sock;
	struct tp_keypair key;
	char tenant_ep[256], price_ep[256], host_ep[256];
	struct market_outbox out;
	int64_t next_close; /* monotonic */
	uint64_t dropped;   /* messages not sent (peer gone or at its high-water mark) */
};

static void send_outbox(struct marketd *d)
{
	for (size_t i = 0; i < d->out.n; i++) {
		struct market_msg *msg = &d->out.v[i];
		int err;
		if (!msg->buf)
			continue;
		switch (msg->dest) {
		case MARKET_PUBLISH:
			err = tp_publish_raw(d->pub_sock, msg->topic, msg->buf, msg->len);
			break;
		case MARKET_TO_HOST:
			err = tp_send_raw(d->host_sock, &msg->route, msg->buf, msg->len,
					  ZMQ_DONTWAIT);
			break;
		default:
			err = tp_send_raw(d->tenant_sock, &msg->route, msg->buf, msg->len,
					  ZMQ_DONTWAIT);
			if (err == -EHOSTUNREACH && msg->tenant)
				market_route_gone(d->market, msg->tenant, &msg->route);
			break;
		}
		if (err) {
			d->dropped++;
			log_debug("marketd: message not sent: %s", raas_strerror(err));
		}
	}
	market_outbox_clear(&d->out);
}

/* Reads up to budget messages from sock into the current batch. Returns how many. */
static size_t read_socket(struct marketd *d, void *sock, enum market_dest dest, size_t budget,
			  bool batch_ok)
{
	size_t n = 0;

	while (n < budget) {
		struct tp_msg msg;
		char why[512];
		int err = tp_recv(sock, ZMQ_DONTWAIT, d->cfg.max_request_bytes, &msg, why,
				  sizeof(why));
		if (err == -EAGAIN || err == -EINTR)
			break;
		n++;
		if (err == -RAAS_EPROTO || err == -RAAS_ETOOBIG || err == -RAAS_EVERSION) {
			market_bad_request(d->market, dest, msg.user_id, &msg.route, err, why,
					   &d->out);
			continue;
		}
		if (err) {
			log_warn("marketd: receive: %s", raas_strerror(err));
			break;
		}
		if (!batch_ok) {
			market_bad_request(d->market, dest, msg.user_id, &msg.route, -EBUSY,
					   "the ledger is busy; retry", &d->out);
		} else if (dest == MARKET_TO_HOST) {
			market_host_request(d->market, msg.user_id, &msg.route, msg.env, &d->out);
		} else {
			market_tenant_request(d->market, msg.user_id, &msg.route, msg.env, &d->out);
		}
		tp_msg_clear(&msg);
		/* Do not hold a round close back for long. */
		if (clk_mono(&clk_real) >= d->next_close && n >= 64)
			break;
	}
	return n;
}

static void handle_requests(struct marketd *d)
{
	int64_t t0 = clk_mono(&clk_real), t1, t2;
	bool batch_ok = market_batch_begin(d->market) == 0;
	size_t n = read_socket(d, d->tenant_sock, MARKET_TO_TENANT, d->cfg.batch_max, batch_ok);

	n += read_socket(d, d->host_sock, MARKET_TO_HOST, d->cfg.batch_max, batch_ok);
	t1 = clk_mono(&clk_real);
	if (batch_ok)
		market_batch_end(d->market, &d->out);
	t2 = clk_mono(&clk_real);
	size_t replies = d->out.n;
	send_outbox(d);
	log_debug("marketd: batch of %zu requests: handled in %.2f ms, committed in %.2f ms, "
		  "%zu replies sent in %.2f ms",
		  n, (double)(t1 - t0) / 1e6, (double)(t2 - t1) / 1e6, replies,
		  (double)(clk_mono(&clk_real) - t2) / 1e6);
}

static void close_round(struct marketd *d)
{
	int64_t now = clk_mono(&clk_real);

	d->next_close += d->cfg.round_ns;
	if (d->next_close <= now) {
		log_warn("marketd: round %llu closes %.1f ms late; skipping ahead",
			 (unsigned long long)market_open_round(d->market),
			 (double)(now - d->next_close + d->cfg.round_ns) / 1e6);
		d->next_close = now + d->cfg.round_ns;
	}
	market_set_next_close(d->market, clk_wall(&clk_real) + (d->next_close - now));
	if (market_round_close(d->market, &d->out) == 0) {
		struct market_stats st;
		market_get_stats(d->market, &st);
		log_debug("marketd: round %llu closed in %.2f ms (clear %.2f, ledger %.2f)",
			  (unsigned long long)market_open_round(d->market) - 1,
			  (double)st.last_close_ns / 1e6, (double)st.last_clear_ns / 1e6,
			  (double)st.last_write_ns / 1e6);
	}
	send_outbox(d);
	/* Announced: now there is time to move the WAL into the database file. */
	if (ledger_checkpoint(d->ledger) != 0)
		log_warn("marketd: WAL checkpoint failed: %s", ledger_errmsg(d->ledger));
}

static int run(struct marketd *d)
{
	d->next_close = clk_mono(&clk_real) + d->cfg.round_ns;
	while (!stop_requested) {
		int64_t wait = d->next_close - clk_mono(&clk_real);
		zmq_pollitem_t items[3] = {
			{.socket = tp_zap_socket(d->zap), .events = ZMQ_POLLIN},
			{.socket = d->tenant_sock, .events = ZMQ_POLLIN},
			{.socket = d->host_sock, .events = ZMQ_POLLIN},
		};
		int rc = zmq_poll(items, 3, wait > 0 ? (long)((wait + 999999) / 1000000) : 0);
		if (rc < 0 && errno != EINTR) {
			log_error("marketd: poll: %s", strerror(errno));
			return EX_SOFTWARE;
		}
		if (rc > 0 && (items[0].revents & ZMQ_POLLIN))
			tp_zap_handle(d->zap);
		if (rc > 0 && ((items[1].revents | items[2].revents) & ZMQ_POLLIN))
			handle_requests(d);
		if (clk_mono(&clk_real) >= d->next_close)
			close_round(d);
	}
	log_info("marketd: stopping at round %llu (%llu messages dropped)",
		 (unsigned long long)market_open_round(d->market), (unsigned long long)d->dropped);
	return 0;
}

/* Writes the endpoints actually bound (ports chosen by the system included) for scripts. */
static int write_ready_file(const struct marketd *d, const char *path)
{
	char tmp[1100];
	FILE *f;

	snprintf(tmp, sizeof(tmp), "%s.tmp", path);
	f = fopen(tmp, "w");
	if (!f)
		return -errno;
	fprintf(f, "tenant_endpoint=%s\nprice_endpoint=%s\nhost_endpoint=%s\nserver_key=%s\n"
		   "pid=%ld\n",
		d->tenant_ep, d->price_ep, d->host_ep, d->key.public_key, (long)getpid());
	if (fclose(f) != 0 || rename(tmp, path) != 0)
		return -errno;
	return 0;
}

static int open_sockets(struct marketd *d)
{
	int err;

	d->ctx = tp_context_create(0, 1);
	if (!d->ctx)
		return -errno;
	/* The ZAP handler first: without it libzmq would let every key in. */
	if ((err = tp_zap_create(d->ctx, market_identify, d->market, &d->zap)) != 0)
		return err;
	if ((err = tp_bind(d->ctx, ZMQ_ROUTER, d->cfg.tenant_endpoint, &d->key, "tenant",
			   &d->tenant_sock, d->tenant_ep, sizeof(d->tenant_ep))) != 0) {
		log_error("marketd: cannot bind the tenant API at %s: %s", d->cfg.tenant_endpoint,
			  raas_strerror(err));
		return err;
	}
	if ((err = tp_bind(d->ctx, ZMQ_ROUTER, d->cfg.host_endpoint, &d->key, "host",
			   &d->host_sock, d->host_ep, sizeof(d->host_ep))) != 0) {
		log_error("marketd: cannot bind the host API at %s: %s", d->cfg.host_endpoint,
			  raas_strerror(err));
		return err;
	}
	if ((err = tp_bind(d->ctx, ZMQ_PUB, d->cfg.price_endpoint, &d->key, "prices",
			   &d->pub_sock, d->price_ep, sizeof(d->price_ep))) != 0) {
		log_error("marketd: cannot bind the price feed at %s: %s", d->cfg.price_endpoint,
			  raas_strerror(err));
		return err;
	}
	return 0;
}

static void close_all(struct marketd *d)
{
	tp_close(d->tenant_sock);
	tp_close(d->host_sock);
	tp_close(d->pub_sock);
	tp_zap_destroy(d->zap);
	tp_context_destroy(d->ctx);
	market_outbox_fini(&d->out);
	market_destroy(d->market);
	ledger_close(d->ledger);
}

static void usage(FILE *f)
{
	fprintf(f,
		"usage: raas-marketd [-c FILE] [--set SECTION.KEY=VALUE]... [--ready-file PATH]\n"
		"                    [--log-level error|warn|info|debug] [--log-json]\n"
		"       raas-marketd --help | --help-config | --check-config [-c FILE]\n"
		"\n"
		"The provider's market: clears every resource pool each round with its pricing\n"
		"model, records the round in the SQLite ledger, then publishes prices and sends\n"
		"allocations. Keys: the market's key pair is KEY_DIR/market.key (raas keygen\n"
		"--dir KEY_DIR market); tenants and hosts are registered with raas tenant add and\n"
		"raas host add. docs/market.md has every config key.\n"
		"\n"
		"  -c, --config FILE     INI config (default: built-in defaults)\n"
		"  --set S.K=V           override one key (repeatable)\n"
		"  --ready-file PATH     once serving, write the bound endpoints and the server key\n"
		"  --check-config        check the config (models included) and exit\n"
		"  --help-config         list every config key with its default\n");
}

static void help_config(void)
{
	for (size_t i = 0; i < mcfg_schema_len; i++)
		printf("[%s] %s = %s\n    %s\n", mcfg_schema[i].section, mcfg_schema[i].key,
		       mcfg_schema[i].default_value ? mcfg_schema[i].default_value : "(required)",
		       mcfg_schema[i].help);
}

int main(int argc, char **argv)
{
	static const struct option opts[] = {
		{"config", required_argument, NULL, 'c'}, {"set", required_argument, NULL, 's'},
		{"ready-file", required_argument, NULL, 'r'}, {"log-level", required_argument, NULL, 'l'},
		{"log-json", no_argument, NULL, 'j'},         {"help", no_argument, NULL, 'h'},
		{"help-config", no_argument, NULL, 'H'},      {"check-config", no_argument, NULL, 'C'},
		{NULL, 0, NULL, 0},
	};
	static struct marketd d;
	const char *config = NULL, *ready = NULL;
	const char *sets[64];
	size_t nsets = 0;
	enum log_level level = LOG_INFO;
	bool json = false, check_only = false;
	struct cfg *cfg;
	struct cfg_error cerr;
	char why[1024], buf[1200];
	int c, err;

	while ((c = getopt_long(argc, argv, "c:h", opts, NULL)) != -1) {
		switch (c) {
		case 'c':
			config = optarg;
			break;
		case 's':
			if (nsets == 64) {
				fprintf(stderr, "raas-marketd: more than 64 --set\n");
				return EX_USAGE;
			}
			sets[nsets++] = optarg;
			break;
		case 'r':
			ready = optarg;
			break;
		case 'l':
			if (log_level_parse(optarg, &level) != 0) {
				fprintf(stderr, "raas-marketd: --log-level: \"%s\" is not error, warn, "
						"info or debug\n",
					optarg);
				return EX_USAGE;
			}
			break;
		case 'j':
			json = true;
			break;
		case 'h':
			usage(stdout);
			return 0;
		case 'H':
			help_config();
			return 0;
		case 'C':
			check_only = true;
			break;
		default:
			usage(stderr);
			return EX_USAGE;
		}
	}
	if (optind < argc) {
		fprintf(stderr, "raas-marketd: unexpected argument \"%s\"\n", argv[optind]);
		usage(stderr);
		return EX_USAGE;
	}
	log_init("marketd", level, json);

	if (cfg_create(mcfg_schema, mcfg_schema_len, &cfg) != 0)
		return EX_OSERR;
	err = config ? cfg_load_file(cfg, config, &cerr) : 0;
	for (size_t i = 0; !err && i < nsets; i++)
		err = cfg_set_override(cfg, sets[i], &cerr);
	if (!err)
		err = mcfg_load(cfg, &d.cfg, &cerr);
	if (err) {
		fprintf(stderr, "raas-marketd: %s\n", cfg_error_format(&cerr, buf, sizeof(buf)));
		cfg_destroy(cfg);
		return EX_CONFIG;
	}
	cfg_destroy(cfg);
	if (check_only) {
		printf("raas-marketd: config ok\n");
		return 0;
	}

	snprintf(buf, sizeof(buf), "%s/market.key", d.cfg.key_dir);
	if ((err = tp_key_load_pair(buf, &d.key, why, sizeof(why))) != 0) {
		log_error("%s (make it with: raas keygen --dir %s market)", why, d.cfg.key_dir);
		return EX_CONFIG;
	}
	struct ledger_options lo = {.sync_full = d.cfg.sync_full, .manual_checkpoint = true};
	if ((err = ledger_open(d.cfg.ledger_path, &lo, &d.ledger, why, sizeof(why))) != 0) {
		log_error("%s", why);
		return err == -RAAS_EVERSION ? EX_DATAERR : EX_UNAVAILABLE;
	}
	if ((err = market_create(&d.cfg, d.ledger, &clk_real, &d.market, why, sizeof(why))) != 0) {
		log_error("%s", why);
		ledger_close(d.ledger);
		return EX_DATAERR;
	}
	market_outbox_init(&d.out);

	struct sigaction sa = {.sa_handler = on_signal};
	sigaction(SIGTERM, &sa, NULL);
	sigaction(SIGINT, &sa, NULL);
	signal(SIGPIPE, SIG_IGN);

	if ((err = open_sockets(&d)) != 0) {
		close_all(&d);
		return EX_UNAVAILABLE;
	}
	if (ready && (err = write_ready_file(&d, ready)) != 0) {
		log_error("marketd: cannot write %s: %s", ready, raas_strerror(err));
		close_all(&d);
		return EX_CANTCREAT;
	}
	log_info("marketd: serving at round %llu, every %lld ms: tenants %s, prices %s, hosts %s, "
		 "ledger %s",
		 (unsigned long long)market_open_round(d.market),
		 (long long)(d.cfg.round_ns / 1000000), d.tenant_ep, d.price_ep, d.host_ep,
		 d.cfg.ledger_path);
	int rc = run(&d);
	close_all(&d);
	return rc;
}
