/* opts.h: the command line every nom app shares.
 *
 *   --stack nomnet|kernel       the app's own stack (default) or kernel sockets (Linux baseline)
 *   --driver tap|packet|xdp     nomnet's NIC driver (default xdp)
 *   --if IFNAME                 the interface it drives (tap: created if missing)
 *   --addr A.B.C.D/P            nomnet's address (kernel: --bind A.B.C.D to bind one)
 *   --gateway A.B.C.D --mac M --ring N --rx-batch N --tx-batch N --xdp-mode auto|native|generic
 *   --mode poll|interrupt       how nomnet's loop waits (default poll)
 *   --cpu N                     pin nomnet's loop thread
 *   --stats NAME                publish nomnet's counters as /dev/shm/nomnet.NAME
 *   --port N                    TCP port to serve
 *   --delay US                  a fixed batching delay W (0-1000 us; default 0)
 *   --spin-us US                the busy-poll budget before sleeping (interrupt mode)
 *   --adaptive                  re-pick W from the profile as price and load change
 *   --utility penalty|refund|bonus, with --alpha --beta --gamma --delta --x --l0
 *                               (thesis defaults; beta in $/Gbit per ms, gamma in $/Gbit x ms,
 *                               l0 in us: docs/economics.md)
 *   --profile FILE [--profile-app NAME]   working points (docs/profiles.md)
 *   --prices FILE | --price P   price schedule (`time_offset price` lines) or a fixed $/Gbit
 *   --instance NAME             run on the market as nom instance NAME (docs/apps.md), with
 *     --host H --strategy adaptive|static-tpt|static-lat|static|unaware --static-level L
 *     --bandwidth-max MBIT --max-price $P
 *   --report-ms N               print a JSON status line every N ms (and at every re-pick)
 *   --log-level error|warn|info|debug
 *
 * Errors name the option and what is wrong; the caller exits 64 (usage). */
#ifndef APP_OPTS_H
#define APP_OPTS_H

#include <getopt.h>
#include <stdbool.h>
#include <stdint.h>

#include "app/srv.h"
#include "common/log.h"
#include "nom/adapt.h"
#include "nom/econ.h"

struct app_opts {
	const char *prog;
	struct srv_config srv;
	uint16_t port;
	double delay_us;
	double spin_us;           /* --spin-us: nomnet's busy-poll budget */
	bool adaptive;
	bool utility_set;
	struct econ_utility utility;
	const char *profile_path;
	const char *profile_app;  /* default: the app's own name */
	const char *prices_path;
	double price;             /* --price; < 0: not given */
	int64_t report_ns;        /* 0: no periodic report */
	enum log_level log_level;
	/* On the market (--instance) */
	const char *instance;     /* NULL: the app runs alone */
	const char *host;         /* NULL: the board's */
	enum nom_strategy strategy;
	bool strategy_set;
	const char *static_level;
	int64_t bandwidth_max_mbit; /* 0: no cap */
	int64_t max_price;        /* nanodollars per unit-hour; 0: the controller's default */
	/* Set by the app's own options (app_extra): */
	unsigned workers;         /* serving threads (kernel stack); default 1 */
	int64_t cores_max;        /* --instance: cores it may hold; 0: none held */
	int64_t memory_min_mib, memory_max_mib, memory_reserve_mib; /* max 0: not managed */
};

/* An app's extra options: long options (val >= 1000) and a handler for them. */
struct app_extra {
	const struct option *options;  /* terminated by a zero entry; may be NULL */
	const char *usage;             /* lines describing them, for --help */
	/* Returns 0, or -1 after printing what is wrong. */
	int (*handle)(void *ctx, int opt, const char *arg);
	void *ctx;
	/* Short forms (getopt letters, e.g. "m:I:M") and the long option value of each letter,
	 * in the same order; NULL: none. */
	const char *shorts;
	const int *short_vals;
};

/* Defaults for app `prog` listening on default_port. */
void app_opts_init(struct app_opts *o, const char *prog, uint16_t default_port);
/* Parses argv. Returns 0 to run, 1 when --help was printed (exit 0), 64 on a usage error
 * (already printed). */
int app_opts_parse(struct app_opts *o, int argc, char **argv, const struct app_extra *extra);

#endif
