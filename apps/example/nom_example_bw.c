/* nom_example_bw.c: nom-example-bw, the smallest nom app: it values bandwidth, holds it while
 * the market's price is below that value, gives it back when the price rises above, and logs
 * every decision and why.
 *
 *   nom-example-bw --instance NAME --host HOST --value DOLLARS --quantity MBITS
 *                  [--duration DUR] [--keep-on-exit]
 *
 * --value is what one Mbit/s for one hour is worth to the app, in dollars ("0.0002"); the
 * market's price has the same unit. The loop is the one every nom app runs: sleep on the
 * bulletin board until something changes (nom_wait_change), read the price (nom_price) and
 * what is held (nom_holding), decide, act (nom_acquire / nom_release). A stale market (its
 * connection lost) changes nothing: what is held stays held until prices are fresh again.
 *
 * Each line on stdout is one event, "key=value" words, e.g.
 *   event=price round=12 price=$0.0001 value=$0.0002 held=0 market=fresh
 *   event=acquire price=$0.0001 value=$0.0002 quantity=50 result=ok reason="price below value"
 * Exit codes: 0, 64 usage, 69 no board (nom-priced not running). */
#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "common/config.h"
#include "common/money.h"
#include "nom/nom.h"

static volatile sig_atomic_t stop;

static void on_signal(int sig)
{
	(void)sig;
	stop = 1;
}

static int64_t mono_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

static const char *market_name(enum nom_market_state s)
{
	static const char *const names[] = {"connecting", "fresh", "stale", "stopped"};
	return (unsigned)s < 4 ? names[s] : "?";
}

static void usage(FILE *f)
{
	fprintf(f, "usage: nom-example-bw --instance NAME --host HOST --value DOLLARS "
		   "--quantity MBITS\n"
		   "                      [--duration DURATION] [--keep-on-exit]\n");
}

struct app {
	struct nom *nom;
	const char *host;
	money_t value;
	int64_t quantity;
	int64_t pending_since; /* an acquire or release is on its way to the holdings */
	int64_t held_at_decision;
	int64_t last_price;
	uint64_t last_round;
};

static void act(struct app *a, const struct nom_price_info *p, int64_t held, int64_t standing)
{
	char price[MONEY_TEXT_MAX], value[MONEY_TEXT_MAX];
	int err;

	money_format(p->unit_price, price);
	money_format(a->value, value);
	if (p->stale) /* decide on fresh prices only */
		return;
	if (a->pending_since && held == a->held_at_decision &&
	    mono_ns() - a->pending_since < 3 * INT64_C(1000000000))
		return; /* the last decision has not reached the board yet */
	a->pending_since = 0;
	if (p->unit_price < a->value && held < a->quantity) {
		err = nom_acquire(a->nom, NOM_BANDWIDTH, a->host, a->quantity - held, a->value);
		printf("event=acquire price=%s value=%s quantity=%" PRId64 " result=%s%s%s "
		       "reason=\"price below value\"\n",
		       price, value, a->quantity - held, err ? nom_strerror(err) : "ok",
		       err ? " detail=" : "", err ? nom_last_error(a->nom) : "");
		if (!err) {
			a->pending_since = mono_ns();
			a->held_at_decision = held;
		}
	} else if (p->unit_price > a->value && (held > 0 || standing > 0)) {
		/* The acquire's limit is the app's value, so the market stops allocating at a
		 * higher price by itself; releasing also withdraws the standing acquire, so that
		 * the app, not the market, decides when to buy again. */
		err = nom_release(a->nom, NOM_BANDWIDTH, a->host, 0);
		printf("event=release price=%s value=%s quantity=%" PRId64 " result=%s%s%s "
		       "reason=\"price above value\"\n",
		       price, value, held > standing ? held : standing, err ? nom_strerror(err) : "ok",
		       err ? " detail=" : "", err ? nom_last_error(a->nom) : "");
		if (!err) {
			a->pending_since = mono_ns();
			a->held_at_decision = held;
		}
	}
	fflush(stdout);
}

static void step(struct app *a)
{
	struct nom_price_info p;
	struct nom_holding_info h;
	struct nom_status st;
	char price[MONEY_TEXT_MAX], value[MONEY_TEXT_MAX], charged[MONEY_TEXT_MAX];

	if (nom_status(a->nom, &st) != 0 || nom_holding(a->nom, NOM_BANDWIDTH, a->host, &h) != 0)
		return;
	if (nom_price(a->nom, NOM_BANDWIDTH, a->host, &p) != 0)
		return; /* nothing published yet */
	if (p.round != a->last_round || p.unit_price != a->last_price) {
		printf("event=price round=%" PRIu64 " price=%s value=%s held=%" PRId64
		       " market=%s charged=%s\n",
		       p.round, money_format(p.unit_price, price), money_format(a->value, value),
		       h.quantity, market_name(st.market), money_format(st.charged_total, charged));
		fflush(stdout);
		a->last_round = p.round;
		a->last_price = p.unit_price;
	}
	/* The market's record of our acquire (what it would hold at a lower price). */
	struct nom_bid_info bid;
	char id[96];
	nom_acquire_bid_id(NOM_BANDWIDTH, a->host, id, sizeof(id));
	int64_t standing = nom_bid_info(a->nom, id, &bid) == 0 && bid.state == NOM_BID_ACTIVE
				   ? bid.max_quantity
				   : 0;
	act(a, &p, h.quantity, standing);
}

int main(int argc, char **argv)
{
	static const struct option opts[] = {
		{"instance", required_argument, NULL, 'i'},
		{"host", required_argument, NULL, 'H'},
		{"value", required_argument, NULL, 'v'},
		{"quantity", required_argument, NULL, 'q'},
		{"duration", required_argument, NULL, 'd'},
		{"keep-on-exit", no_argument, NULL, 'k'},
		{"help", no_argument, NULL, 'h'},
		{NULL, 0, NULL, 0},
	};
	struct app a = {0};
	const char *instance = NULL, *why = NULL;
	int64_t duration = -1;
	bool keep = false;
	int c;

	a.value = -1;
	while ((c = getopt_long(argc, argv, "h", opts, NULL)) != -1) {
		switch (c) {
		case 'i':
			instance = optarg;
			break;
		case 'H':
			a.host = optarg;
			break;
		case 'v':
			if (money_parse(optarg, &a.value, &why) != 0 || a.value < 0) {
				fprintf(stderr, "nom-example-bw: --value %s: %s\n", optarg,
					why ? why : "must be >= 0");
				return 64;
			}
			break;
		case 'q':
			if (cfg_parse_int(optarg, &a.quantity) != 0 || a.quantity <= 0) {
				fprintf(stderr, "nom-example-bw: --quantity %s: Mbit/s, > 0\n", optarg);
				return 64;
			}
			break;
		case 'd':
			if (cfg_parse_duration(optarg, &duration) != 0) {
				fprintf(stderr, "nom-example-bw: --duration %s: e.g. 30s\n", optarg);
				return 64;
			}
			break;
		case 'k':
			keep = true;
			break;
		case 'h':
			usage(stdout);
			return 0;
		default:
			usage(stderr);
			return 64;
		}
	}
	if (!instance || !a.host || a.value < 0 || a.quantity <= 0 || optind != argc) {
		usage(stderr);
		return 64;
	}
	struct sigaction sa = {.sa_handler = on_signal};
	sigaction(SIGTERM, &sa, NULL);
	sigaction(SIGINT, &sa, NULL);

	int err = nom_open(instance, NULL, &a.nom);
	if (err) {
		fprintf(stderr, "nom-example-bw: instance %s: %s%s\n", instance, nom_strerror(err),
			err == -ENOENT ? " (is nom-priced running?)" : "");
		return err == -ENOENT ? 69 : 65;
	}
	printf("event=start instance=%s host=%s quantity=%" PRId64 "\n", instance, a.host,
	       a.quantity);
	fflush(stdout);
	int64_t end = duration >= 0 ? mono_ns() + duration : INT64_MAX;
	while (!stop && mono_ns() < end) {
		step(&a);
		/* Sleep until the board changes; wake now and then to retry a pending decision. */
		nom_wait_change(a.nom, 500 * INT64_C(1000000));
	}
	struct nom_holding_info h;
	if (!keep && nom_holding(a.nom, NOM_BANDWIDTH, a.host, &h) == 0 && h.quantity > 0) {
		err = nom_release(a.nom, NOM_BANDWIDTH, a.host, 0);
		printf("event=release quantity=%" PRId64 " result=%s reason=\"exiting\"\n", h.quantity,
		       err ? nom_strerror(err) : "ok");
	}
	printf("event=stop\n");
	nom_close(a.nom);
	return 0;
}
