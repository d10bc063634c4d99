/* nom_ctl.c: nom-ctl, libnom from the shell: what an app of an instance can do, one call per
 * invocation, for operators and scripted tests.
 *
 *   nom-ctl INSTANCE status
 *   nom-ctl INSTANCE price RESOURCE HOST
 *   nom-ctl INSTANCE holding RESOURCE HOST
 *   nom-ctl INSTANCE bid ID RESOURCE HOST MIN MAX PRICE    (PRICE: dollars per unit-hour)
 *   nom-ctl INSTANCE acquire RESOURCE HOST QUANTITY [MAX_PRICE]
 *   nom-ctl INSTANCE release RESOURCE HOST [QUANTITY]       (default 0: all)
 *   nom-ctl INSTANCE cancel ID
 *   nom-ctl INSTANCE account
 *   nom-ctl INSTANCE report APP PROFIT [W_US]    (PROFIT: dollars per hour, may be < 0)
 *
 * Prints one line of key=value words. Exit codes (sysexits): 0 ok, 64 usage, 65 the market or
 * nom-priced refused the request, or no such price, holding or bid (the reason on stderr),
 * 69 unavailable (no board, nom-priced not running, market unreachable, timed out). */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/config.h"
#include "common/error.h"
#include "common/money.h"
#include "nom/nom.h"

static void usage(FILE *f)
{
	fprintf(f, "usage: nom-ctl INSTANCE status | account\n"
		   "       nom-ctl INSTANCE price|holding RESOURCE HOST\n"
		   "       nom-ctl INSTANCE bid ID RESOURCE HOST MIN MAX PRICE\n"
		   "       nom-ctl INSTANCE acquire RESOURCE HOST QUANTITY [MAX_PRICE]\n"
		   "       nom-ctl INSTANCE release RESOURCE HOST [QUANTITY]\n"
		   "       nom-ctl INSTANCE cancel ID\n"
		   "       nom-ctl INSTANCE report APP PROFIT_PER_HOUR [W_US]\n"
		   "RESOURCE: cores, memory, bandwidth, llc, egress; prices in dollars per unit-hour\n");
}

static int exit_code(int err)
{
	switch (err) {
	case 0:
		return 0;
	case -ENOTCONN:
	case -EAGAIN:
	case -ETIMEDOUT:
		return 69;
	default:
		return 65;
	}
}

static int fail(struct nom *n, const char *what, int err)
{
	fprintf(stderr, "nom-ctl: %s: %s%s%s\n", what, nom_strerror(err),
		n && nom_last_error(n)[0] ? ": " : "", n ? nom_last_error(n) : "");
	return exit_code(err);
}

static bool parse_resource(const char *s, enum nom_resource *r)
{
	if (nom_resource_parse(s, r) == 0)
		return true;
	fprintf(stderr, "nom-ctl: '%s' is not a resource (cores, memory, bandwidth, llc, egress)\n", s);
	return false;
}

static bool parse_int(const char *s, const char *what, int64_t *out)
{
	if (cfg_parse_int(s, out) == 0 && *out >= 0)
		return true;
	fprintf(stderr, "nom-ctl: %s '%s' is not a whole number >= 0\n", what, s);
	return false;
}

static bool parse_price(const char *s, int64_t *out)
{
	const char *why = NULL;

	if (money_parse(s, out, &why) == 0 && *out >= 0)
		return true;
	fprintf(stderr, "nom-ctl: price '%s': %s\n", s, why ? why : "must be >= 0");
	return false;
}

static bool parse_profit(const char *s, int64_t *out)
{
	const char *why = NULL;
	bool neg = s[0] == '-';

	if (money_parse(s + neg, out, &why) == 0) {
		*out = neg ? -*out : *out;
		return true;
	}
	fprintf(stderr, "nom-ctl: profit '%s': %s\n", s, why ? why : "not an amount");
	return false;
}

static const char *market_name(enum nom_market_state s)
{
	static const char *const names[] = {"connecting", "fresh", "stale", "stopped"};
	return (unsigned)s < 4 ? names[s] : "?";
}

int main(int argc, char **argv)
{
	char m1[MONEY_TEXT_MAX], m2[MONEY_TEXT_MAX];
	enum nom_resource r;
	int64_t a, b, price;
	struct nom *n;
	int err;

	if (argc == 2 && (!strcmp(argv[1], "--help") || !strcmp(argv[1], "-h"))) {
		usage(stdout);
		return 0;
	}
	if (argc < 3) {
		usage(stderr);
		return 64;
	}
	const char *inst = argv[1], *cmd = argv[2];
	int nargs = argc - 3;
	char **arg = argv + 3;
	if ((err = nom_open(inst, NULL, &n)) != 0) {
		fail(NULL, inst, err);
		return err == -ENOENT ? 69 : exit_code(err); /* no board: nom-priced not running */
	}

	int rc = 64;
	if (!strcmp(cmd, "status") && nargs == 0) {
		struct nom_status st;
		if ((err = nom_status(n, &st))) {
			rc = fail(n, "status", err);
			goto out;
		}
		printf("market=%s tenant=%s round=%" PRIu64 " charged=%s balance=%s memory_mib=%" PRId64
		       " reconnects=%" PRIu64 " priced_pid=%d priced_alive=%s message=\"%s\"\n",
		       market_name(st.market), st.tenant[0] ? st.tenant : "-", st.round,
		       money_format(st.charged_total, m1),
		       st.balance < 0 ? "unlimited" : money_format(st.balance, m2),
		       st.memory_budget_mib, st.reconnects, (int)st.priced_pid,
		       st.priced_alive ? "yes" : "no", st.message);
		rc = 0;
	} else if (!strcmp(cmd, "account") && nargs == 0) {
		if ((err = nom_account(n, &a, &b))) {
			rc = fail(n, "account", err);
			goto out;
		}
		printf("charged=%s budget=%s\n", money_format(a, m1),
		       b < 0 ? "unlimited" : money_format(b, m2));
		rc = 0;
	} else if (!strcmp(cmd, "price") && nargs == 2 && parse_resource(arg[0], &r)) {
		struct nom_price_info p;
		if ((err = nom_price(n, r, arg[1], &p))) {
			rc = fail(n, "price", err);
			goto out;
		}
		printf("price=%s round=%" PRIu64 " supply=%" PRId64 " allocated=%" PRId64
		       " stale=%s\n",
		       money_format(p.unit_price, m1), p.round, p.supply, p.allocated,
		       p.stale ? "yes" : "no");
		rc = 0;
	} else if (!strcmp(cmd, "holding") && nargs == 2 && parse_resource(arg[0], &r)) {
		struct nom_holding_info h;
		if ((err = nom_holding(n, r, arg[1], &h))) {
			rc = fail(n, "holding", err);
			goto out;
		}
		printf("quantity=%" PRId64 " price=%s round=%" PRIu64 " ncpus=%d\n", h.quantity,
		       money_format(h.unit_price, m1), h.round, h.ncpus);
		rc = 0;
	} else if (!strcmp(cmd, "bid") && nargs == 6 && parse_resource(arg[1], &r) &&
		   parse_int(arg[3], "MIN", &a) && parse_int(arg[4], "MAX", &b) &&
		   parse_price(arg[5], &price)) {
		struct nom_bid bid = {.bid_id = arg[0], .resource = r, .host = arg[2],
				      .min_quantity = a, .max_quantity = b, .unit_price = price};
		uint64_t eff;
		if ((err = nom_bid(n, &bid, &eff))) {
			rc = fail(n, "bid", err);
			goto out;
		}
		printf("bid=%s effective_round=%" PRIu64 "\n", arg[0], eff);
		rc = 0;
	} else if (!strcmp(cmd, "acquire") && (nargs == 3 || nargs == 4) &&
		   parse_resource(arg[0], &r) && parse_int(arg[2], "QUANTITY", &a) &&
		   (nargs == 3 || parse_price(arg[3], &price))) {
		if ((err = nom_acquire(n, r, arg[1], a, nargs == 4 ? price : 0))) {
			rc = fail(n, "acquire", err);
			goto out;
		}
		printf("acquired=%" PRId64 "\n", a);
		rc = 0;
	} else if (!strcmp(cmd, "release") && (nargs == 2 || nargs == 3) &&
		   parse_resource(arg[0], &r) && (nargs == 2 || parse_int(arg[2], "QUANTITY", &a))) {
		if ((err = nom_release(n, r, arg[1], nargs == 3 ? a : 0))) {
			rc = fail(n, "release", err);
			goto out;
		}
		printf("released=%s\n", nargs == 3 ? arg[2] : "all");
		rc = 0;
	} else if (!strcmp(cmd, "report") && (nargs == 2 || nargs == 3) &&
		   parse_profit(arg[1], &price) && (nargs == 2 || parse_int(arg[2], "W_US", &a))) {
		int64_t w = nargs == 3 ? a * 1000 : -1;
		if ((err = nom_report_profit(n, arg[0], price, w))) {
			rc = fail(n, "report", err);
			goto out;
		}
		printf("reported=%s profit_per_hour=%s w_ns=%" PRId64 "\n", arg[0],
		       money_format(price, m1), w);
		rc = 0;
	} else if (!strcmp(cmd, "cancel") && nargs == 1) {
		if ((err = nom_cancel(n, arg[0]))) {
			rc = fail(n, "cancel", err);
			goto out;
		}
		printf("cancelled=%s\n", arg[0]);
		rc = 0;
	} else {
		usage(stderr);
	}
out:
	nom_close(n);
	return rc;
}
