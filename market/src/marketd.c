/* marketd.c: raas-marketd, the provider's market daemon: sockets, the round clock, signals.
 *
 * One thread, one poll loop over the ZAP handler (who is this key?), the tenant ROUTER, the
 * host ROUTER, the signal pipe (common/daemon.h) and the timer of round closes. Requests are
 * read in batches; each batch is one ledger transaction (market_batch_begin/end), and its
 * replies are sent only after the commit. A round close writes its own transaction and only
 * then publishes prices, sends allocation sets to host agents and notices to tenants. The
 * core (market.h) does the market; this file moves bytes and keeps time.
 *
 * One market per ledger: the ledger's lock is taken before the ledger is opened for writing,
 * so a second raas-marketd on the same file writes nothing: it names the running one (its pid
 * from the lock, its endpoints from the ledger) and exits 69.
 *
 * Start-up, flags, signals and exit codes are the daemon skeleton's (common/daemon.h):
 * 0 after SIGTERM/SIGINT, 64 usage, 65 a ledger newer than this build, 69 the ledger is
 * another market's or an endpoint cannot be bound, 73 the ready file, 78 config, key file or
 * the ledger's folder. SIGHUP re-reads the config (market_reconfigure) and the registry. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <zmq.h>

#include "common/daemon.h"
#include "common/error.h"
#include "common/log.h"
#include "market/dash.h"
#include "market/market.h"

struct marketd {
	struct market_config cfg[2]; /* the one in force and the one a reload reads into */
	int active;
	struct dmn_args args;
	struct ledger *ledger;
	int lock_fd;
	struct market *market;
	void *ctx;
	struct tp_zap *zap;
	void *tenant_sock, *host_sock, *pub_sock;
	struct tp_keypair key;
	char tenant_ep[256], price_ep[256], host_ep[256];
	struct market_outbox out;
	struct httpd *http;        /* the dashboards' HTTP side, or NULL (http_enabled off) */
	struct market_dash *dash;
	int64_t next_close; /* monotonic */
	uint64_t dropped;   /* messages not sent (peer gone or at its high-water mark) */
	/* The rounds since the last info line. */
	struct {
		int64_t since;
		uint64_t first, rounds, bids, allocs, credits;
		money_t revenue, credited;
		int64_t close_sum, close_max;
	} tally;
};

static const struct market_config *cfg_of(const struct marketd *d)
{
	return &d->cfg[d->active];
}

static void send_outbox(struct marketd *d)
{
	int64_t t0 = clk_mono(&clk_real);
	uint64_t n = d->out.n;

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
	market_prof_add(market_prof(d->market), MARKET_ST_SEND, &t0, n);
}

/* Reads up to budget messages from sock into the current batch. Returns how many. */
static size_t read_socket(struct marketd *d, void *sock, enum market_dest dest, size_t budget,
			  bool batch_ok)
{
	size_t n = 0;

	struct market_prof *prof = market_prof(d->market);

	while (n < budget) {
		struct tp_msg msg;
		char why[512];
		int64_t t0 = clk_mono(&clk_real);
		int err = tp_recv(sock, ZMQ_DONTWAIT, cfg_of(d)->max_request_bytes, &msg, why,
				  sizeof(why));
		bool none = err == -EAGAIN || err == -EINTR;
		market_prof_add_ns(prof, MARKET_ST_RECV, clk_mono(&clk_real) - t0 - msg.decode_ns,
				   !none);
		if (none)
			break;
		market_prof_add_ns(prof, MARKET_ST_DECODE, msg.decode_ns, 1);
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
	market_prof_begin(market_prof(d->market));
	bool batch_ok = market_batch_begin(d->market) == 0;
	size_t n = read_socket(d, d->tenant_sock, MARKET_TO_TENANT, cfg_of(d)->batch_max, batch_ok);

	n += read_socket(d, d->host_sock, MARKET_TO_HOST, cfg_of(d)->batch_max, batch_ok);
	t1 = clk_mono(&clk_real);
	if (batch_ok)
		market_batch_end(d->market, &d->out);
	t2 = clk_mono(&clk_real);
	size_t replies = d->out.n;
	send_outbox(d);
	market_prof_end(market_prof(d->market));
	log_debug("marketd: batch of %zu requests: handled in %.2f ms, committed in %.2f ms, "
		  "%zu replies sent in %.2f ms",
		  n, (double)(t1 - t0) / 1e6, (double)(t2 - t1) / 1e6, replies,
		  (double)(clk_mono(&clk_real) - t2) / 1e6);
}

/* The info line of the rounds since the last one: at most one per [market] round_log. */
static void tally_round(struct marketd *d, const struct market_stats *st, uint64_t round,
			int64_t now)
{
	char rev[MONEY_TEXT_MAX], cred[MONEY_TEXT_MAX];

	if (!d->tally.rounds) {
		d->tally.first = round;
		if (!d->tally.since)
			d->tally.since = now;
	}
	d->tally.rounds++;
	d->tally.bids += st->last_bids;
	d->tally.allocs += st->last_allocs;
	d->tally.credits += st->last_credits;
	d->tally.revenue += st->last_revenue;
	d->tally.credited += st->last_credited;
	d->tally.close_sum += st->last_close_ns;
	if (st->last_close_ns > d->tally.close_max)
		d->tally.close_max = st->last_close_ns;
	if (now - d->tally.since < cfg_of(d)->round_log_ns)
		return;
	log_info("rounds %llu..%llu: %llu closed, %.1f bids and %.1f allocations a round, "
		 "revenue %s, credited %s (%llu allocations not in force), %llu host-rounds "
		 "to settle, close %.2f ms mean, %.2f ms max",
		 (unsigned long long)d->tally.first, (unsigned long long)round,
		 (unsigned long long)d->tally.rounds, (double)d->tally.bids / (double)d->tally.rounds,
		 (double)d->tally.allocs / (double)d->tally.rounds,
		 money_format(d->tally.revenue, rev), money_format(d->tally.credited, cred),
		 (unsigned long long)d->tally.credits, (unsigned long long)st->pending,
		 (double)d->tally.close_sum / (double)d->tally.rounds / 1e6,
		 (double)d->tally.close_max / 1e6);
	memset(&d->tally, 0, sizeof(d->tally));
	d->tally.since = now;
}

static void close_round(struct marketd *d)
{
	int64_t now = clk_mono(&clk_real);
	int64_t round_ns = cfg_of(d)->round_ns;

	market_prof_begin(market_prof(d->market));
	d->next_close += round_ns;
	if (d->next_close <= now) {
		log_warn("marketd: round %llu closes %.1f ms late; skipping ahead",
			 (unsigned long long)market_open_round(d->market),
			 (double)(now - d->next_close + round_ns) / 1e6);
		d->next_close = now + round_ns;
	}
	market_set_next_close(d->market, clk_wall(&clk_real) + (d->next_close - now));
	int64_t closed_wall = clk_wall(&clk_real);
	bool closed = market_round_close(d->market, &d->out) == 0;
	send_outbox(d);
	/* Close to publish: from the start of the close until everything was handed to the
	 * sockets (the dashboards' and the benchmark's figure). */
	int64_t ctp = clk_mono(&clk_real) - now;
	if (closed) {
		struct market_stats st;
		market_get_stats(d->market, &st);
		log_debug("marketd: round %llu closed in %.2f ms (clear %.2f, ledger %.2f)",
			  (unsigned long long)market_open_round(d->market) - 1,
			  (double)st.last_close_ns / 1e6, (double)st.last_clear_ns / 1e6,
			  (double)st.last_write_ns / 1e6);
		tally_round(d, &st, market_open_round(d->market) - 1, now);
		market_dash_round(d->dash, d->market, d->http, ctp, closed_wall);
	}
	/* Announced: now there is time to move the WAL into the database file. */
	struct market_prof *prof = market_prof(d->market);
	int64_t t0[2];
	market_prof_cpu_start(t0);
	if (ledger_checkpoint(d->ledger) != 0)
		log_warn("marketd: WAL checkpoint failed: %s", ledger_errmsg(d->ledger));
	market_prof_cpu_stop(prof, MARKET_ST_LEDGER, t0);
	market_prof_end(prof);
	if (cfg_of(d)->stats_file[0]) {
		struct market_stats st;
		market_get_stats(d->market, &st);
		int err = market_prof_write(prof, st.rounds, cfg_of(d)->stats_file);
		if (err)
			log_warn("marketd: stats_file %s: %s", cfg_of(d)->stats_file,
				 raas_strerror(err));
	}
}

/* Loads the config of the command line (file, then --set) into out. 0 or EX_CONFIG (said). */
static int load_config(const struct dmn_args *args, struct market_config *out, bool quiet)
{
	struct cfg *cfg;
	struct cfg_error cerr;
	char buf[1200];
	int err;

	if (mcfg_cfg_create(&cfg) != 0)
		return EX_OSERR;
	err = args->config ? cfg_load_file(cfg, args->config, &cerr) : 0;
	for (size_t i = 0; !err && i < args->nsets; i++)
		err = cfg_set_override(cfg, args->sets[i], &cerr);
	if (!err)
		err = mcfg_load(cfg, out, &cerr);
	if (err) {
		cfg_error_format(&cerr, buf, sizeof(buf));
		if (quiet)
			log_error("reload refused, the running config stays in force: %s", buf);
		else
			fprintf(stderr, "raas-marketd: %s\n", buf);
	}
	cfg_destroy(cfg);
	return err ? EX_CONFIG : 0;
}

/* SIGHUP: re-read, validate, apply what may change while running; else keep what runs. */
static void reload(struct marketd *d)
{
	int next = 1 - d->active;
	char why[512] = "";

	dmn_notify("RELOADING=1");
	if (load_config(&d->args, &d->cfg[next], true) == 0) {
		if (market_reconfigure(d->market, &d->cfg[next], why, sizeof(why)) == 0) {
			d->active = next;
			log_info("reloaded %s: models, ack_timeout %lld s, round_log, limits; the "
				 "registry re-read (the http_ keys stay as at start)",
				 d->args.config ? d->args.config : "the config",
				 (long long)(cfg_of(d)->ack_timeout_ns / NS_PER_S));
			market_dash_refresh(d->dash, d->market, d->http);
		} else {
			log_error("reload refused, the running config stays in force: %s", why);
		}
	}
	dmn_notify("READY=1");
}

static int run(struct marketd *d)
{
	d->next_close = clk_mono(&clk_real) + cfg_of(d)->round_ns;
	for (;;) {
		int64_t wait = d->next_close - clk_mono(&clk_real);
		zmq_pollitem_t items[4] = {
			{.socket = tp_zap_socket(d->zap), .events = ZMQ_POLLIN},
			{.socket = d->tenant_sock, .events = ZMQ_POLLIN},
			{.socket = d->host_sock, .events = ZMQ_POLLIN},
			{.fd = dmn_signal_fd(), .events = ZMQ_POLLIN},
		};
		int rc = zmq_poll(items, 4, wait > 0 ? (long)((wait + 999999) / 1000000) : 0);
		if (rc < 0 && errno != EINTR) {
			log_error("marketd: poll: %s", strerror(errno));
			return EX_SOFTWARE;
		}
		enum dmn_signal sig = dmn_signal_next();
		if (sig == DMN_SIG_STOP)
			break;
		if (sig == DMN_SIG_RELOAD)
			reload(d);
		if (rc > 0 && (items[0].revents & ZMQ_POLLIN))
			tp_zap_handle(d->zap);
		if (rc > 0 && ((items[1].revents | items[2].revents) & ZMQ_POLLIN))
			handle_requests(d);
		if (clk_mono(&clk_real) >= d->next_close)
			close_round(d);
		dmn_tick();
	}
	log_info("marketd: stopping at round %llu (%llu messages dropped)",
		 (unsigned long long)market_open_round(d->market), (unsigned long long)d->dropped);
	return 0;
}

static int open_sockets(struct marketd *d)
{
	const struct market_config *c = cfg_of(d);
	int err;

	d->ctx = tp_context_create(0, 1);
	if (!d->ctx)
		return -errno;
	/* The ZAP handler first: without it libzmq would let every key in. */
	if ((err = tp_zap_create(d->ctx, market_identify, d->market, &d->zap)) != 0)
		return err;
	if ((err = tp_bind(d->ctx, ZMQ_ROUTER, c->tenant_endpoint, &d->key, "tenant",
			   &d->tenant_sock, d->tenant_ep, sizeof(d->tenant_ep))) != 0) {
		log_error("marketd: cannot bind the tenant API at %s: %s", c->tenant_endpoint,
			  raas_strerror(err));
		return err;
	}
	if ((err = tp_bind(d->ctx, ZMQ_ROUTER, c->host_endpoint, &d->key, "host",
			   &d->host_sock, d->host_ep, sizeof(d->host_ep))) != 0) {
		log_error("marketd: cannot bind the host API at %s: %s", c->host_endpoint,
			  raas_strerror(err));
		return err;
	}
	if ((err = tp_bind(d->ctx, ZMQ_PUB, c->price_endpoint, &d->key, "prices",
			   &d->pub_sock, d->price_ep, sizeof(d->price_ep))) != 0) {
		log_error("marketd: cannot bind the price feed at %s: %s", c->price_endpoint,
			  raas_strerror(err));
		return err;
	}
	return 0;
}

/* The dashboards' HTTP side (docs/dashboards.md), with a first snapshot. */
static int open_http(struct marketd *d)
{
	const struct market_config *c = cfg_of(d);
	const struct httpd_options opts = {
		.server = MARKET_SERVER_NAME,
		.events_path = "/api/events",
		.metrics_prefix = "raas_market",
	};
	char why[512];
	int err;

	if ((err = market_dash_create(c->http_history, &d->dash)) != 0)
		return err;
	if (!c->http.enabled)
		return 0;
	if ((err = httpd_start(&c->http, &opts, &d->http, why, sizeof(why))) != 0) {
		log_error("marketd: %s", why);
		return err;
	}
	market_dash_refresh(d->dash, d->market, d->http);
	return 0;
}

static void close_all(struct marketd *d)
{
	httpd_stop(d->http);
	market_dash_destroy(d->dash);
	tp_close(d->tenant_sock);
	tp_close(d->host_sock);
	tp_close(d->pub_sock);
	tp_zap_destroy(d->zap);
	tp_context_destroy(d->ctx);
	market_outbox_fini(&d->out);
	market_destroy(d->market);
	ledger_close(d->ledger);
	ledger_unlock(d->lock_fd);
}

static void help_config(void)
{
	mcfg_help(stdout);
}

static bool check_only_alias;

static int on_own(void *arg, int val, const char *optarg)
{
	(void)arg;
	(void)optarg;
	if (val == DMN_OPT_OWN)
		check_only_alias = true; /* --check-config: what --check was called before */
	return 0;
}

static const struct option own_opts[] = {
	{"check-config", no_argument, NULL, DMN_OPT_OWN},
	{NULL, 0, NULL, 0},
};

static const struct dmn_spec spec = {
	.name = "raas-marketd",
	.component = "marketd",
	.summary = "The provider's market: clears every resource pool each round with its pricing\n"
		   "model, records the round in the SQLite ledger, then publishes prices and sends\n"
		   "allocations. Its key pair is KEY_DIR/market.key (raas keygen --dir KEY_DIR\n"
		   "market); tenants and hosts are registered with raas tenant add and raas host\n"
		   "add. docs/market.md has every config key, docs/operations.md how to run it.",
	.own = own_opts,
	.own_help = "  --check-config        the same as --check\n",
	.on_own = on_own,
	.help_config = help_config,
};

/* Why the ledger cannot be had: another market holds it. Prints who, returns 69. */
static int in_use(const struct market_config *c, long holder)
{
	struct ledger_options lo = {.readonly = true};
	struct ledger *l = NULL;
	struct ledger_owner o;
	char why[1200], ts[32] = "?";

	if (ledger_open(c->ledger_path, &lo, &l, why, sizeof(why)) != 0)
		l = NULL;
	if (l && ledger_owner_read(l, &o) == 0 && o.pid == holder) {
		clk_format_wall(o.started_wall_ns, ts, sizeof(ts));
		log_error("the ledger %s is in use by raas-marketd pid %ld on %s since %s (tenants "
			  "%s, prices %s, hosts %s): one market per ledger; stop that one first, or "
			  "give this one another ledger",
			  c->ledger_path, holder, o.hostname, ts, o.tenant_endpoint, o.price_endpoint,
			  o.host_endpoint);
	} else {
		log_error("the ledger %s is locked by process %ld (a raas-marketd starting, or a "
			  "raas command working offline): one market per ledger",
			  c->ledger_path, holder);
	}
	if (l)
		ledger_close(l);
	return EX_UNAVAILABLE;
}

/* --check: config (models created by mcfg_load), key pair, ledger folder and file. */
static int check(const struct market_config *c)
{
	struct tp_keypair key;
	char path[1200], why[1200];
	long holder = 0;
	int version, rc;

	snprintf(path, sizeof(path), "%s/market.key", c->key_dir);
	if (tp_key_load_pair(path, &key, why, sizeof(why)) != 0) {
		fprintf(stderr, "raas-marketd: key %s (make it with: raas keygen --dir %s market)\n",
			why, c->key_dir);
		return EX_CONFIG;
	}
	if ((rc = dmn_check_folder_of(&spec, "ledger", c->ledger_path)) != 0)
		return rc;
	if (access(c->ledger_path, F_OK) == 0) {
		if (ledger_file_version(c->ledger_path, &version, why, sizeof(why)) != 0) {
			fprintf(stderr, "raas-marketd: ledger %s\n", why);
			return EX_CONFIG;
		}
		if (version > LEDGER_SCHEMA_VERSION) {
			fprintf(stderr, "raas-marketd: ledger %s: schema version %d is newer than "
					"this build's %d\n",
				c->ledger_path, version, LEDGER_SCHEMA_VERSION);
			return EX_CONFIG;
		}
		printf("ledger   %s: schema version %d%s\n", c->ledger_path, version,
		       version < LEDGER_SCHEMA_VERSION ? " (migrated at start)" : "");
	} else {
		printf("ledger   %s: new (created at start)\n", c->ledger_path);
	}
	if (ledger_lock_probe(c->ledger_path, &holder) == -EBUSY)
		printf("         in use now by process %ld: this market would not start beside "
		       "it\n",
		       holder);
	printf("key      %s: public key %s\n", path, key.public_key);
	printf("serving  tenants %s, prices %s, hosts %s; rounds of %lld ms; ack_timeout %lld s\n",
	       c->tenant_endpoint, c->price_endpoint, c->host_endpoint,
	       (long long)(c->round_ns / NS_PER_MS), (long long)(c->ack_timeout_ns / NS_PER_S));
	if (c->http.enabled)
		printf("http     %s port %d%s (docs/dashboards.md)\n", c->http.bind, c->http.port,
		       c->http.token[0] ? ", bearer token required" : "");
	else
		printf("http     off\n");
	for (int r = 1; r < MCFG_RESOURCES; r++) {
		const struct mcfg_model *m = mcfg_model_for(c, r);
		printf("model    %-9s %s%s%s\n", wire_resource_name(r), m->model,
		       m->params[0] ? " " : "", m->params);
	}
	for (size_t i = 0; i < c->npools; i++)
		printf("pool     %s: %lld %s on %s\n", c->pools[i].name, (long long)c->pools[i].supply,
		       wire_resource_name(c->pools[i].resource), c->pools[i].host);
	printf("raas-marketd: check ok\n");
	return 0;
}

int main(int argc, char **argv)
{
	static struct marketd d;
	char why[1200], buf[1200], ready[2048];
	long holder = 0;
	int rc, err;

	d.lock_fd = -1;
	if ((rc = dmn_parse(&spec, argc, argv, &d.args)) != DMN_CONTINUE)
		return rc;
	if ((rc = load_config(&d.args, &d.cfg[0], false)) != 0)
		return rc;
	dmn_log_init(&spec, &d.args, LOG_INFO);
	if (d.args.check || check_only_alias)
		return check(&d.cfg[0]);
	const struct market_config *c = cfg_of(&d);

	if ((err = dmn_signals_init()) != 0) {
		log_error("signals: %s", raas_strerror(err));
		return EX_OSERR;
	}
	snprintf(buf, sizeof(buf), "%s/market.key", c->key_dir);
	if ((err = tp_key_load_pair(buf, &d.key, why, sizeof(why))) != 0) {
		log_error("%s (make it with: raas keygen --dir %s market)", why, c->key_dir);
		return EX_CONFIG;
	}
	if (dmn_check_folder_of(&spec, "ledger", c->ledger_path) != 0)
		return EX_CONFIG;
	/* The lock before anything is written: a second market writes nothing at all. */
	err = ledger_lock(c->ledger_path, 2000, &d.lock_fd, &holder, why, sizeof(why));
	if (err == -EBUSY)
		return in_use(c, holder);
	if (err) {
		log_error("%s", why);
		return EX_CONFIG;
	}
	struct ledger_options lo = {.sync_full = c->sync_full, .manual_checkpoint = true};
	if ((err = ledger_open(c->ledger_path, &lo, &d.ledger, why, sizeof(why))) != 0) {
		log_error("%s", why);
		ledger_unlock(d.lock_fd);
		return err == -RAAS_EVERSION ? EX_DATAERR
		       : err == -ENOENT || err == -EACCES ? EX_CONFIG
							  : EX_UNAVAILABLE;
	}
	if ((err = market_create(c, d.ledger, &clk_real, &d.market, why, sizeof(why))) != 0) {
		log_error("%s", why);
		ledger_close(d.ledger);
		ledger_unlock(d.lock_fd);
		return EX_DATAERR;
	}
	market_outbox_init(&d.out);
	if ((err = dmn_pid_file(&d.args, why, sizeof(why))) != 0) {
		log_error("%s", why);
		close_all(&d);
		return EX_CANTCREAT;
	}
	if ((err = open_sockets(&d)) != 0 || (err = open_http(&d)) != 0) {
		close_all(&d);
		return EX_UNAVAILABLE;
	}
	struct ledger_owner me = {.pid = (long)getpid(), .started_wall_ns = clk_wall(&clk_real)};
	gethostname(me.hostname, sizeof(me.hostname) - 1);
	snprintf(me.tenant_endpoint, sizeof(me.tenant_endpoint), "%s", d.tenant_ep);
	snprintf(me.price_endpoint, sizeof(me.price_endpoint), "%s", d.price_ep);
	snprintf(me.host_endpoint, sizeof(me.host_endpoint), "%s", d.host_ep);
	if ((err = ledger_owner_record(d.ledger, &me)) != 0)
		log_warn("marketd: cannot record this market in the ledger: %s",
			 ledger_errmsg(d.ledger));
	snprintf(ready, sizeof(ready),
		 "tenant_endpoint=%s\nprice_endpoint=%s\nhost_endpoint=%s\nserver_key=%s\n"
		 "ledger=%s\nround_ms=%lld\nhttp_endpoint=%s\n",
		 d.tenant_ep, d.price_ep, d.host_ep, d.key.public_key, c->ledger_path,
		 (long long)(c->round_ns / NS_PER_MS), d.http ? httpd_endpoint(d.http) : "");
	if ((err = dmn_ready(&d.args, ready, why, sizeof(why))) != 0) {
		log_error("marketd: %s", why);
		close_all(&d);
		return EX_CANTCREAT;
	}
	log_info("marketd: serving at round %llu, every %lld ms: tenants %s, prices %s, hosts %s, "
		 "dashboards %s, ledger %s",
		 (unsigned long long)market_open_round(d.market),
		 (long long)(c->round_ns / 1000000), d.tenant_ep, d.price_ep, d.host_ep,
		 d.http ? httpd_endpoint(d.http) : "(off)", c->ledger_path);
	rc = run(&d);
	dmn_exit(&d.args);
	close_all(&d);
	return rc;
}
