/* opts.c: parses the command line every nom app shares (opts.h), plus the app's own options. */
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "app/opts.h"
#include "common/money.h"

enum {
	O_STACK = 256, O_DRIVER, O_IF, O_ADDR, O_GATEWAY, O_MAC, O_RING, O_RXB, O_TXB, O_XDPMODE,
	O_MODE, O_CPU, O_STATS, O_PORT, O_BIND, O_DELAY, O_ADAPTIVE, O_UTILITY, O_ALPHA, O_BETA,
	O_GAMMA, O_DELTA, O_X, O_L0, O_PROFILE, O_PROFILE_APP, O_PRICES, O_PRICE, O_REPORT,
	O_LOG, O_SPIN, O_RTPRIO, O_NICE, O_HELP, O_INSTANCE, O_HOST, O_STRATEGY, O_STATIC_LEVEL, O_BW_MAX, O_MAX_PRICE,
};

static const struct option common[] = {
	{"stack", required_argument, 0, O_STACK},
	{"driver", required_argument, 0, O_DRIVER},
	{"if", required_argument, 0, O_IF},
	{"addr", required_argument, 0, O_ADDR},
	{"gateway", required_argument, 0, O_GATEWAY},
	{"mac", required_argument, 0, O_MAC},
	{"ring", required_argument, 0, O_RING},
	{"rx-batch", required_argument, 0, O_RXB},
	{"tx-batch", required_argument, 0, O_TXB},
	{"xdp-mode", required_argument, 0, O_XDPMODE},
	{"mode", required_argument, 0, O_MODE},
	{"cpu", required_argument, 0, O_CPU},
	{"stats", required_argument, 0, O_STATS},
	{"port", required_argument, 0, O_PORT},
	{"bind", required_argument, 0, O_BIND},
	{"delay", required_argument, 0, O_DELAY},
	{"spin-us", required_argument, 0, O_SPIN},
	{"rt-prio", required_argument, 0, O_RTPRIO},
	{"loop-nice", required_argument, 0, O_NICE},
	{"adaptive", no_argument, 0, O_ADAPTIVE},
	{"utility", required_argument, 0, O_UTILITY},
	{"alpha", required_argument, 0, O_ALPHA},
	{"beta", required_argument, 0, O_BETA},
	{"gamma", required_argument, 0, O_GAMMA},
	{"delta", required_argument, 0, O_DELTA},
	{"x", required_argument, 0, O_X},
	{"l0", required_argument, 0, O_L0},
	{"profile", required_argument, 0, O_PROFILE},
	{"profile-app", required_argument, 0, O_PROFILE_APP},
	{"prices", required_argument, 0, O_PRICES},
	{"price", required_argument, 0, O_PRICE},
	{"report-ms", required_argument, 0, O_REPORT},
	{"log-level", required_argument, 0, O_LOG},
	{"help", no_argument, 0, O_HELP},
	{"instance", required_argument, 0, O_INSTANCE},
	{"host", required_argument, 0, O_HOST},
	{"strategy", required_argument, 0, O_STRATEGY},
	{"static-level", required_argument, 0, O_STATIC_LEVEL},
	{"bandwidth-max", required_argument, 0, O_BW_MAX},
	{"max-price", required_argument, 0, O_MAX_PRICE},
};

static const char common_usage[] =
	"  --stack nomnet|kernel     the app's own lwIP stack (default) or kernel sockets\n"
	"  --driver tap|packet|xdp   nomnet's NIC driver (default xdp)\n"
	"  --if IFNAME               interface to drive (tap: created if missing)\n"
	"  --addr A.B.C.D/P          nomnet's IPv4 address (default 10.77.0.2/24)\n"
	"  --gateway A.B.C.D  --mac XX:..  --ring N  --rx-batch N  --tx-batch N\n"
	"  --xdp-mode auto|native|generic\n"
	"  --mode poll|interrupt     nomnet loop: busy poll (default) or sleep in epoll\n"
	"  --cpu N                   pin nomnet's loop thread to CPU N\n"
	"  --stats NAME              publish nomnet counters in /dev/shm/nomnet.NAME\n"
	"  --bind A.B.C.D            kernel stack: address to listen on (default any)\n"
	"  --port N                  TCP port\n"
	"  --delay US                fixed batching delay, 0-1000 us (default 0)\n"
	"  --spin-us US              interrupt mode: busy-poll this long before sleeping, 0-1e6\n"
	"                            (hybrid polling; default 0; --adaptive picks it from the\n"
	"                            profile's spin_us column)\n"
	"  --rt-prio N               run nomnet's loop SCHED_FIFO at priority N (1-99; 0 default:\n"
	"                            normal): the client a reply wakes cannot preempt it\n"
	"  --loop-nice N             nomnet's loop thread at nice N (-20..19; default 0)\n"
	"  --adaptive                re-pick the delay from --profile as price and load change\n"
	"  --utility penalty|refund|bonus  and its parameters --alpha ($/Gbit) --x --l0 (us)\n"
	"                            --beta ($/Gbit per ms) --gamma ($/Gbit x ms) --delta ($/Gbit)\n"
	"  --profile FILE            working points per delay (docs/profiles.md)\n"
	"  --profile-app NAME        the app's name in the profile (default: this app's)\n"
	"  --prices FILE             price schedule: lines `time_offset price` ($/Gbit)\n"
	"  --price P                 a fixed price, $/Gbit\n"
	"  --report-ms N             print a JSON status line every N ms\n"
	"  --log-level error|warn|info|debug\n"
	"on the market (docs/apps.md):\n"
	"  --instance NAME           run inside nom instance NAME: prices from its board, holdings\n"
	"                            acquired and released through its nom-priced\n"
	"  --host H                  the host it holds resources on (default: the board's)\n"
	"  --strategy S              adaptive (default), static-tpt, static-lat, static (--delay),\n"
	"                            unaware (price-unaware, --delay)\n"
	"  --static-level L          the level static-tpt/static-lat take their row from\n"
	"  --bandwidth-max MBIT      the most bandwidth it holds\n"
	"  --max-price $P            acquire limit per unit-hour (unaware, cores, memory; $1000)\n";

void app_opts_init(struct app_opts *o, const char *prog, uint16_t default_port)
{
	memset(o, 0, sizeof(*o));
	o->prog = prog;
	srv_config_init(&o->srv);
	o->srv.net.driver = "xdp";
	o->srv.net.addr = "10.77.0.2/24";
	o->port = default_port;
	o->price = -1;
	o->log_level = LOG_INFO;
	o->workers = 1;
	o->strategy = NOM_ADAPTIVE;
	econ_utility_thesis(ECON_REFUND, &o->utility);
}

static int bad(const struct app_opts *o, const char *opt, const char *arg, const char *why)
{
	fprintf(stderr, "%s: --%s %s: %s (see --help)\n", o->prog, opt, arg ? arg : "", why);
	return 64;
}

static int num(const char *arg, double lo, double hi, double *out)
{
	char *end;
	double v;

	errno = 0;
	v = strtod(arg, &end);
	if (errno || end == arg || *end || !isfinite(v) || v < lo || v > hi)
		return -1;
	*out = v;
	return 0;
}

static int check(struct app_opts *o, bool delay_given)
{
	const char *why;

	if (o->adaptive && o->strategy_set && o->strategy != NOM_ADAPTIVE)
		return bad(o, "adaptive", "", "contradicts --strategy");
	if (o->adaptive)
		o->strategy = NOM_ADAPTIVE;
	if (o->instance) {
		if (!o->strategy_set && !o->adaptive)
			o->strategy = NOM_ADAPTIVE;
		o->adaptive = o->strategy == NOM_ADAPTIVE;
		if (o->prices_path || o->price >= 0)
			return bad(o, o->prices_path ? "prices" : "price", "",
				   "with --instance the prices come from the instance's board");
		if (!o->profile_path)
			return bad(o, "instance", o->instance,
				   "needs --profile FILE (what each working point needs)");
		if (o->strategy != NOM_UNAWARE && !o->utility_set)
			return bad(o, "instance", o->instance,
				   "needs --utility penalty|refund|bonus (or --strategy unaware)");
		if (o->adaptive && delay_given)
			return bad(o, "delay", "", "--strategy adaptive picks the delay itself");
		if ((o->strategy == NOM_STATIC_TPT || o->strategy == NOM_STATIC_LAT) && delay_given)
			return bad(o, "delay", "", "static-tpt and static-lat take the delay from the profile");
	} else if (o->strategy_set || o->host || o->bandwidth_max_mbit || o->max_price) {
		return bad(o, o->strategy_set ? "strategy" : o->host ? "host" :
			   o->bandwidth_max_mbit ? "bandwidth-max" : "max-price", "",
			   "only with --instance NAME");
	}
	if (!o->instance && o->adaptive && delay_given)
		return bad(o, "delay", "", "give either --delay or --adaptive, not both");
	if (!o->instance && o->adaptive) {
		if (!o->profile_path)
			return bad(o, "adaptive", "", "needs --profile FILE");
		if (!o->utility_set)
			return bad(o, "adaptive", "", "needs --utility penalty|refund|bonus");
		if (!o->prices_path && o->price < 0)
			return bad(o, "adaptive", "", "needs --prices FILE or --price P");
		if (o->srv.stack != SRV_NOMNET)
			return bad(o, "adaptive", "", "tunes nomnet's delay: not with --stack kernel "
				   "(in --instance mode it tunes the holdings too)");
	}
	if (o->prices_path && o->price >= 0)
		return bad(o, "price", "", "give either --prices FILE or --price P");
	if (econ_utility_check(&o->utility, &why) < 0)
		return bad(o, "utility", econ_kind_name(o->utility.kind), why);
	if (o->srv.stack == SRV_NOMNET && !o->srv.net.ifname &&
	    strcmp(o->srv.net.driver, "tap") != 0)
		return bad(o, "if", "", "the packet and xdp drivers need an interface (--if)");
	return 0;
}

int app_opts_parse(struct app_opts *o, int argc, char **argv, const struct app_extra *extra)
{
	size_t nc = sizeof(common) / sizeof(common[0]), ne = 0;
	struct option *all;
	bool delay_given = false;
	int opt, rc = 0;

	while (extra && extra->options && extra->options[ne].name)
		ne++;
	all = calloc(nc + ne + 1, sizeof(*all));
	if (!all)
		return 64;
	memcpy(all, common, sizeof(common));
	if (ne)
		memcpy(all + nc, extra->options, ne * sizeof(*all));
	optind = 1;
	const char *shorts = extra && extra->shorts ? extra->shorts : "";
	while (rc == 0 && (opt = getopt_long(argc, argv, shorts, all, NULL)) != -1) {
		if (opt > 0 && opt < 256 && opt != '?' && opt != ':' && extra && extra->short_vals) {
			/* A short form: the long option's value. */
			int k = 0;
			for (const char *p = shorts; *p; p++) {
				if (*p == ':')
					continue;
				if (*p == opt) {
					opt = extra->short_vals[k];
					break;
				}
				k++;
			}
		}
		double v;
		const char *name = "";

		for (size_t i = 0; i < nc + ne; i++)
			if (all[i].val == opt)
				name = all[i].name;
		switch (opt) {
		case O_STACK:
			if (srv_stack_parse(optarg, &o->srv.stack) < 0)
				rc = bad(o, name, optarg, "want nomnet or kernel");
			break;
		case O_DRIVER:
			if (strcmp(optarg, "tap") && strcmp(optarg, "packet") && strcmp(optarg, "xdp"))
				rc = bad(o, name, optarg, "want tap, packet or xdp");
			o->srv.net.driver = optarg;
			break;
		case O_IF: o->srv.net.ifname = optarg; break;
		case O_ADDR: o->srv.net.addr = optarg; break;
		case O_GATEWAY: o->srv.net.gateway = optarg; break;
		case O_MAC: o->srv.net.mac = optarg; break;
		case O_XDPMODE: o->srv.net.xdp_mode = optarg; break;
		case O_STATS: o->srv.net.stats_name = optarg; break;
		case O_BIND: o->srv.bind_addr = optarg; break;
		case O_RING:
			if (num(optarg, 16, 65536, &v) < 0 || ((unsigned)v & ((unsigned)v - 1)))
				rc = bad(o, name, optarg, "want a power of two, 16-65536");
			o->srv.net.ring_size = (unsigned)v;
			break;
		case O_RXB:
		case O_TXB:
			if (num(optarg, 1, NOMNET_BATCH_MAX, &v) < 0 || v != floor(v))
				rc = bad(o, name, optarg, "want a whole number 1-256");
			else if (opt == O_RXB)
				o->srv.net.rx_batch = (unsigned)v;
			else
				o->srv.net.tx_batch = (unsigned)v;
			break;
		case O_MODE:
			if (nomnet_mode_parse(optarg, &o->srv.net.mode) < 0)
				rc = bad(o, name, optarg, "want poll or interrupt");
			break;
		case O_CPU:
			if (num(optarg, 0, 1023, &v) < 0 || v != floor(v))
				rc = bad(o, name, optarg, "want a CPU number");
			o->srv.net.cpu = (int)v;
			break;
		case O_PORT:
			if (num(optarg, 1, 65535, &v) < 0 || v != floor(v))
				rc = bad(o, name, optarg, "want a port 1-65535");
			o->port = (uint16_t)v;
			break;
		case O_DELAY:
			if (num(optarg, 0, NOMNET_DELAY_MAX_NS / 1000.0, &v) < 0)
				rc = bad(o, name, optarg, "want microseconds, 0-1000");
			o->delay_us = v;
			o->srv.net.delay_ns = (int64_t)llround(v * 1000);
			delay_given = true;
			break;
		case O_SPIN:
			if (num(optarg, 0, NOMNET_SPIN_MAX_NS / 1000.0, &v) < 0)
				rc = bad(o, name, optarg, "want microseconds, 0-1000000");
			o->spin_us = v;
			o->srv.net.spin_ns = (int64_t)llround(v * 1000);
			break;
		case O_RTPRIO:
			if (num(optarg, 0, 99, &v) < 0 || v != floor(v))
				rc = bad(o, name, optarg, "want a priority 0-99");
			o->srv.net.rt_priority = (int)v;
			break;
		case O_NICE:
			if (num(optarg, -20, 19, &v) < 0 || v != floor(v))
				rc = bad(o, name, optarg, "want a nice value -20..19");
			o->srv.net.nice = (int)v;
			break;
		case O_ADAPTIVE: o->adaptive = true; break;
		case O_UTILITY: {
			enum econ_kind k;

			if (econ_kind_parse(optarg, &k) < 0) {
				rc = bad(o, name, optarg, "want penalty, refund or bonus");
				break;
			}
			/* Keep parameters given before --utility. */
			struct econ_utility keep = o->utility;

			econ_utility_thesis(k, &o->utility);
			if (o->utility_set) {
				o->utility.alpha = keep.alpha;
				o->utility.beta_per_ms = keep.beta_per_ms;
				o->utility.gamma_ms = keep.gamma_ms;
				o->utility.delta = keep.delta;
				o->utility.x = keep.x;
				o->utility.l0_us = keep.l0_us;
			}
			o->utility.kind = k;
			o->utility_set = true;
			break;
		}
		case O_ALPHA:
		case O_BETA:
		case O_GAMMA:
		case O_DELTA:
		case O_X:
		case O_L0:
			if (opt == O_DELTA && strcmp(optarg, "inf") == 0) {
				o->utility.delta = INFINITY;
				break;
			}
			if (num(optarg, 0, 1e12, &v) < 0) {
				rc = bad(o, name, optarg, "want a number >= 0");
				break;
			}
			if (opt == O_ALPHA)
				o->utility.alpha = v;
			else if (opt == O_BETA)
				o->utility.beta_per_ms = v;
			else if (opt == O_GAMMA)
				o->utility.gamma_ms = v;
			else if (opt == O_DELTA)
				o->utility.delta = v;
			else if (opt == O_X)
				o->utility.x = v;
			else
				o->utility.l0_us = v;
			break;
		case O_PROFILE: o->profile_path = optarg; break;
		case O_PROFILE_APP: o->profile_app = optarg; break;
		case O_PRICES: o->prices_path = optarg; break;
		case O_PRICE:
			if (num(optarg, 0, 1e9, &v) < 0)
				rc = bad(o, name, optarg, "want dollars per Gbit >= 0");
			o->price = v;
			break;
		case O_REPORT:
			if (num(optarg, 1, 3600000, &v) < 0)
				rc = bad(o, name, optarg, "want milliseconds 1-3600000");
			o->report_ns = (int64_t)(v * 1e6);
			break;
		case O_INSTANCE: o->instance = optarg; break;
		case O_HOST: o->host = optarg; break;
		case O_STATIC_LEVEL: o->static_level = optarg; break;
		case O_STRATEGY:
			if (nom_strategy_parse(optarg, &o->strategy) < 0)
				rc = bad(o, name, optarg,
					 "want adaptive, static-tpt, static-lat, static or unaware");
			o->strategy_set = true;
			break;
		case O_BW_MAX:
			if (num(optarg, 1, 1e9, &v) < 0 || v != floor(v))
				rc = bad(o, name, optarg, "want whole Mbit/s, 1 or more");
			o->bandwidth_max_mbit = (int64_t)v;
			break;
		case O_MAX_PRICE:
		{
			const char *why = "want dollars per unit-hour > 0 ($1000)";
			if (money_parse(optarg, &o->max_price, &why) < 0 || o->max_price <= 0)
				rc = bad(o, name, optarg, why);
		}
			break;
		case O_LOG:
			if (log_level_parse(optarg, &o->log_level) < 0)
				rc = bad(o, name, optarg, "want error, warn, info or debug");
			break;
		case O_HELP:
			printf("usage: %s [options]\n%s%s", o->prog, common_usage,
			       extra && extra->usage ? extra->usage : "");
			free(all);
			return 1;
		default:
			if (extra && extra->handle && opt >= 1000) {
				if (extra->handle(extra->ctx, opt, optarg) < 0)
					rc = 64;
			} else {
				fprintf(stderr, "%s: unknown option (see --help)\n", o->prog);
				rc = 64;
			}
		}
	}
	if (rc == 0 && optind < argc) {
		fprintf(stderr, "%s: unexpected argument \"%s\" (see --help)\n", o->prog,
			argv[optind]);
		rc = 64;
	}
	free(all);
	if (rc)
		return rc;
	if (!o->profile_app)
		o->profile_app = o->prog;
	return check(o, delay_given);
}
