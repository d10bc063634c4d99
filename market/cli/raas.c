/* raas.c: the raas command line: argument parsing, per-command help, dispatch.
 *
 *   raas [GLOBAL OPTIONS] COMMAND [ARGS] [OPTIONS]      docs/cli.md has every command.
 *
 * Options may come before or after the command. Each command accepts only its own options
 * (plus the global ones) and says which one it did not expect; every command has --help.
 * Defaults come from the environment (RAAS_MARKET, RAAS_PRICES, RAAS_KEY, RAAS_SERVER_KEY,
 * RAAS_LEDGER, RAAS_KEY_DIR) and then from the standard layout of a testbed directory. */
#include <errno.h>
#include <getopt.h>
#include <limits.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cli.h"
#include "common/clock.h"
#include "common/config.h"
#include "common/log.h"

struct command {
	const char *name;
	int (*run)(struct cli *c);
	unsigned options;
	const char *synopsis;
	const char *help;
};

#define NET_FILTER (CLI_OPT_RESOURCE | CLI_OPT_HOST)

static const struct command commands[] = {
	{"keygen", cli_keygen, CLI_OPT_DIR | CLI_OPT_FORCE, "keygen [--dir DIR] [--force] NAME",
	 "Makes a CURVE key pair: DIR/NAME.key (secret, 0600) and DIR/NAME.pub. The market's\n"
	 "own pair is named \"market\"; give tenants' and hosts' .pub files to raas tenant add\n"
	 "and raas host add."},
	{"tenant", cli_tenant, CLI_OPT_KEYFILE | CLI_OPT_BUDGET | CLI_OPT_LEDGER | CLI_OPT_FORCE,
	 "tenant add NAME --key FILE.pub [--budget $X] | tenant list\n"
	 "        | tenant budget NAME $X|unlimited | tenant remove NAME [--force]",
	 "Registers a tenant (its public key and an optional budget: the most it may be\n"
	 "charged in total) in the ledger, lists the tenants with what they were charged,\n"
	 "changes a budget (a running market takes it at its next round), or removes a\n"
	 "tenant: refused while it has standing bids or holds anything, unless --force\n"
	 "(its bids end at the next round close); prints its final invoice. With a market\n"
	 "running, remove waits (--timeout) for the market to finish it."},
	{"host", cli_host, CLI_OPT_KEYFILE | CLI_OPT_LEDGER,
	 "host add NAME --key FILE.pub | host list | host remove NAME",
	 "Registers a host agent's public key in the ledger, lists the hosts, or removes a\n"
	 "host: its pools drain (nothing more is allocated there), and once its last rounds\n"
	 "are settled its key is no longer admitted."},
	{"ledger", cli_ledger, CLI_OPT_LEDGER, "ledger check | ledger backup FILE",
	 "check: runs every invariant of the ledger (docs/market.md) on a consistent snapshot\n"
	 "(a running market keeps going) and names the first offending row (exit 65).\n"
	 "backup: copies the ledger to a new FILE with SQLite's online backup while the\n"
	 "market runs, and checks the copy."},
	{"credits", cli_credits, CLI_OPT_FROM | CLI_OPT_TO | CLI_OPT_LEDGER,
	 "credits [TENANT] [--from ROUND] [--to ROUND]",
	 "Charges given back because the allocation was not in force on its host, with the\n"
	 "host's reason, by the round they were credited in."},
	{"bid", cli_bid,
	 NET_FILTER | CLI_OPT_MIN | CLI_OPT_MAX | CLI_OPT_PRICE | CLI_OPT_CURVE | CLI_OPT_RANGES |
		 CLI_OPT_ID,
	 "bid --resource R [--host H] --max Q [--min Q] (--price $P | --curve Q@$V,...)\n"
	 "        [--ranges MIN-MAX,...] [--id BID_ID]",
	 "Places or replaces (same --id) a standing bid: up to --max units of R on host H (any\n"
	 "host without --host) at most --price per unit-hour, or a curve of decreasing\n"
	 "marginal values (vcg, psp), or allowed ranges (psp/MPSP). Default id:\n"
	 "cli/RESOURCE/HOST. Takes effect in the open round's clearing."},
	{"acquire", cli_acquire, NET_FILTER | CLI_OPT_QUANTITY | CLI_OPT_PRICE,
	 "acquire --resource R [--host H] --quantity Q [--price $MAX]",
	 "Takes Q more units at the posted price (refused above --price). Without --host the\n"
	 "cheapest host with room. Held until released or outbid."},
	{"release", cli_release, NET_FILTER | CLI_OPT_QUANTITY,
	 "release --resource R [--host H] [--quantity Q]",
	 "Gives back Q units (all without --quantity) of R held on H through standing bids."},
	{"cancel", cli_cancel, 0, "cancel BID_ID", "Cancels a standing bid."},
	{"bids", cli_bids, NET_FILTER | CLI_OPT_LIMIT, "bids [--resource R] [--host H]",
	 "Lists your standing bids."},
	{"prices", cli_prices, NET_FILTER | CLI_OPT_WATCH | CLI_OPT_COUNT | CLI_OPT_LIMIT,
	 "prices [--resource R] [--host H] [--watch [--count N]]",
	 "Shows the posted price of every pool; --watch follows the price feed (one line per\n"
	 "update; JSON lines with -o json) until interrupted or N updates."},
	{"allocations", cli_allocations, NET_FILTER | CLI_OPT_LIMIT | CLI_OPT_ROUND | CLI_OPT_LEDGER,
	 "allocations [--resource R] [--host H] | allocations --ledger PATH [--round N]",
	 "What you hold after the last round; with --ledger, every tenant's allocations of a\n"
	 "round (default the last) read from the ledger."},
	{"rounds", cli_rounds, CLI_OPT_LIMIT | CLI_OPT_LEDGER,
	 "rounds [--limit N] [--ledger PATH]", "The latest rounds and their revenue."},
	{"revenue", cli_revenue, CLI_OPT_FROM | CLI_OPT_TO | CLI_OPT_LEDGER,
	 "revenue [--from ROUND] [--to ROUND]",
	 "The provider's revenue from the ledger, per tenant, host, resource and kind, and the\n"
	 "total (which equals the sum of all tenants' charges)."},
	{"invoice", cli_invoice, CLI_OPT_FROM | CLI_OPT_TO | CLI_OPT_LEDGER,
	 "invoice TENANT [--from ROUND] [--to ROUND]",
	 "A tenant's charges from the ledger, per round, pool and kind (hold, egress), and\n"
	 "their total."},
};
#define NCOMMANDS (sizeof(commands) / sizeof(commands[0]))

/* Every option, once: its name, what its argument is, where it goes in struct cli, the bit
 * that says it was given (checked against each command's options) and, for the global
 * ones, the line raas --help prints. Parsing, the stray-option check and the help all read
 * this table. */
enum opt_kind {
	OPT_STR,      /* const char * field = the argument */
	OPT_INT,      /* int64_t field, parsed */
	OPT_POSITIVE, /* int64_t field, parsed, > 0 */
	OPT_MONEY,    /* money_t field, dollars */
	OPT_FLAG,     /* bool field = true, no argument */
	OPT_CALL,     /* the handler takes the argument */
	OPT_HELP,     /* --help */
};

struct opt_desc {
	const char *name;
	char short_name;                          /* 0: long only */
	enum opt_kind kind;
	size_t field;                             /* offsetof(struct cli, ...) */
	size_t has;                               /* offsetof a bool set when given; 0: none */
	unsigned bit;                             /* CLI_OPT_*; 0: a global option */
	int (*set)(struct cli *c, const char *arg); /* OPT_CALL */
	const char *help_arg, *help;              /* the global options' raas --help line */
};

static int set_format(struct cli *c, const char *arg);
static int set_request_id(struct cli *c, const char *arg);

#define F(x) offsetof(struct cli, x)
static const struct opt_desc optdescs[] = {
	{"output", 'o', OPT_CALL, 0, 0, 0, set_format, "-o, --output FORMAT",
	 "table (default), json or csv"},
	{"help", 'h', OPT_HELP, 0, 0, 0, NULL, NULL, NULL},
	{"market", 0, OPT_STR, F(market), 0, 0, NULL, "--market ENDPOINT",
	 "tenant API (RAAS_MARKET, tcp://127.0.0.1:7101)"},
	{"prices", 0, OPT_STR, F(prices), 0, 0, NULL, "--prices ENDPOINT",
	 "price feed (RAAS_PRICES, tcp://127.0.0.1:7102)"},
	{"key", 0, OPT_STR, F(key), 0, 0, NULL, "--key FILE", "your key pair (RAAS_KEY, keys/tenant.key)"},
	{"server-key", 0, OPT_STR, F(server_key), 0, 0, NULL, "--server-key FILE",
	 "the market's public key (RAAS_SERVER_KEY, keys/market.pub)"},
	{"ledger", 0, OPT_STR, F(ledger), F(use_ledger), CLI_OPT_LEDGER, NULL, "--ledger PATH",
	 "ledger file (RAAS_LEDGER, ./raas-ledger.sqlite)"},
	{"timeout", 0, OPT_POSITIVE, F(timeout_ms), 0, 0, NULL, "--timeout MS",
	 "how long to wait for the market (5000)"},
	{"request-id", 0, OPT_CALL, 0, 0, 0, set_request_id, "--request-id N",
	 "the request id (retrying with the same id is safe)"},
	{"resource", 0, OPT_STR, F(resource), 0, CLI_OPT_RESOURCE, NULL, NULL, NULL},
	{"host", 0, OPT_STR, F(host), 0, CLI_OPT_HOST, NULL, NULL, NULL},
	{"min", 0, OPT_INT, F(min), F(has_min), CLI_OPT_MIN, NULL, NULL, NULL},
	{"max", 0, OPT_INT, F(max), F(has_max), CLI_OPT_MAX, NULL, NULL, NULL},
	{"price", 0, OPT_MONEY, F(price), F(has_price), CLI_OPT_PRICE, NULL, NULL, NULL},
	{"curve", 0, OPT_STR, F(curve), 0, CLI_OPT_CURVE, NULL, NULL, NULL},
	{"ranges", 0, OPT_STR, F(ranges), 0, CLI_OPT_RANGES, NULL, NULL, NULL},
	{"id", 0, OPT_STR, F(id), 0, CLI_OPT_ID, NULL, NULL, NULL},
	{"quantity", 0, OPT_INT, F(quantity), F(has_quantity), CLI_OPT_QUANTITY, NULL, NULL, NULL},
	{"watch", 0, OPT_FLAG, F(watch), 0, CLI_OPT_WATCH, NULL, NULL, NULL},
	{"count", 0, OPT_INT, F(count), 0, CLI_OPT_COUNT, NULL, NULL, NULL},
	{"limit", 0, OPT_INT, F(limit), 0, CLI_OPT_LIMIT, NULL, NULL, NULL},
	{"round", 0, OPT_INT, F(round), F(has_round), CLI_OPT_ROUND, NULL, NULL, NULL},
	{"from", 0, OPT_INT, F(from), 0, CLI_OPT_FROM, NULL, NULL, NULL},
	{"to", 0, OPT_INT, F(to), 0, CLI_OPT_TO, NULL, NULL, NULL},
	{"budget", 0, OPT_MONEY, F(budget), F(has_budget), CLI_OPT_BUDGET, NULL, NULL, NULL},
	{"dir", 0, OPT_STR, F(dir), 0, CLI_OPT_DIR, NULL, NULL, NULL},
	{"force", 0, OPT_FLAG, F(force), 0, CLI_OPT_FORCE, NULL, NULL, NULL},
};
#undef F
#define NOPTS (sizeof(optdescs) / sizeof(optdescs[0]))

static void global_help(FILE *f)
{
	fprintf(f, "usage: raas [-o table|json|csv] COMMAND [ARGS] [OPTIONS]\n\ncommands:\n");
	for (size_t i = 0; i < NCOMMANDS; i++)
		fprintf(f, "  raas %s\n", commands[i].synopsis);
	fprintf(f, "  raas testbed check|up|run|status|down FILE  (docs/testbed.md)\n");
	fprintf(f,
		"  raas image build|list|inspect|drive ...  nom VM images (raas image --help)\n"
		"  raas app init|build|deploy|logs|stop ... nom apps for VMs (raas app --help)\n"
		"\nglobal options (any command):\n");
	for (size_t i = 0; i < NOPTS; i++)
		if (optdescs[i].help_arg)
			fprintf(f, "  %-22s %s\n", optdescs[i].help_arg, optdescs[i].help);
	fprintf(f,
		"\nexit codes: 0 ok, 64 usage, 65 refused data (or a broken ledger invariant), 66\n"
		"no such file, 69 market unavailable, 70 market failure, 73 cannot write, 75 not\n"
		"finished within --timeout, 77 key or request refused (or the market's key does\n"
		"not match), 78 malformed key file. raas COMMAND --help for a command's help.\n");
}

static void command_help(const struct command *cmd)
{
	printf("usage: raas %s\n\n%s\n\nglobal options: -o table|json|csv, --market, --prices, "
	       "--key,\n--server-key, --ledger, --timeout, --request-id (raas --help)\n",
	       cmd->synopsis, cmd->help);
}

static const char *env_or(const char *name, const char *def)
{
	const char *v = getenv(name);
	return v && *v ? v : def;
}

static int parse_int(const char *opt, const char *text, int64_t *out)
{
	if (cfg_parse_int(text, out) != 0)
		return cli_fail(CLI_EX_USAGE, "%s: \"%s\" is not an integer", opt, text);
	return 0;
}

static int parse_money(const char *opt, const char *text, money_t *out)
{
	const char *why = NULL;

	if (money_parse(text, out, &why) != 0)
		return cli_fail(CLI_EX_USAGE, "%s: \"%s\" is not an amount of dollars (%s)", opt,
				text, why ? why : "e.g. $0.05");
	return 0;
}

static int set_format(struct cli *c, const char *arg)
{
	if (strcmp(arg, "table") == 0)
		c->format = CLI_TABLE;
	else if (strcmp(arg, "json") == 0)
		c->format = CLI_JSON;
	else if (strcmp(arg, "csv") == 0)
		c->format = CLI_CSV;
	else
		return cli_fail(CLI_EX_USAGE, "-o: \"%s\" is not table, json or csv", arg);
	return 0;
}

static int set_request_id(struct cli *c, const char *arg)
{
	int64_t v;
	int rc = parse_int("--request-id", arg, &v);

	if (!rc && v <= 0)
		rc = cli_fail(CLI_EX_USAGE, "--request-id must be positive");
	c->request_id = (uint64_t)v;
	return rc;
}

/* Stores one option's argument where its descriptor says. */
static int apply_option(struct cli *c, const struct opt_desc *d, const char *arg, bool *help)
{
	char *base = (char *)c;
	char flag[64];
	int rc = 0;

	snprintf(flag, sizeof(flag), "--%s", d->name);
	switch (d->kind) {
	case OPT_STR: *(const char **)(base + d->field) = arg; break;
	case OPT_INT: rc = parse_int(flag, arg, (int64_t *)(base + d->field)); break;
	case OPT_POSITIVE:
		rc = parse_int(flag, arg, (int64_t *)(base + d->field));
		if (!rc && *(int64_t *)(base + d->field) <= 0)
			rc = cli_fail(CLI_EX_USAGE, "%s must be positive", flag);
		break;
	case OPT_MONEY: rc = parse_money(flag, arg, (money_t *)(base + d->field)); break;
	case OPT_FLAG: *(bool *)(base + d->field) = true; break;
	case OPT_CALL: rc = d->set(c, arg); break;
	case OPT_HELP: *help = true; break;
	}
	if (d->has)
		*(bool *)(base + d->has) = true;
	c->seen |= d->bit;
	return rc;
}

/* `raas testbed ...` is testbed/'s raas-testbed, `raas image ...` and `raas app ...` are
 * nom/vm's raas-image: each beside raas in the same directory (they do not belong in the
 * market's CLI, but users find them here). The tool gets argv from the command on. */
static int exec_sibling(const char *tool, char **argv)
{
	char path[PATH_MAX];
	ssize_t n = readlink("/proc/self/exe", path, sizeof(path) - 32);
	if (n <= 0)
		return cli_fail(CLI_EX_SOFTWARE, "%s: cannot find %s", argv[0], tool);
	path[n] = 0;
	char *slash = strrchr(path, '/');
	snprintf(slash ? slash + 1 : path, 32, "%s", tool);
	execv(path, argv);
	return cli_fail(CLI_EX_UNAVAILABLE, "%s: %s: not built (%s)", argv[0], path, strerror(errno));
}

int main(int argc, char **argv)
{
	if (argc >= 2 && strcmp(argv[1], "testbed") == 0)
		return exec_sibling("raas-testbed", argv + 1);
	if (argc >= 2 && (strcmp(argv[1], "image") == 0 || strcmp(argv[1], "app") == 0))
		return exec_sibling("raas-image", argv);
	/* getopt_long's table, from optdescs: a long-only option's val is 256 + its index. */
	static struct option opts[NOPTS + 1];
	for (size_t i = 0; i < NOPTS; i++) {
		const struct opt_desc *d = &optdescs[i];
		opts[i] = (struct option){d->name,
					  d->kind == OPT_FLAG || d->kind == OPT_HELP ? no_argument
										     : required_argument,
					  NULL, d->short_name ? d->short_name : 256 + (int)i};
	}
	struct cli c;
	const char *key_dir = env_or("RAAS_KEY_DIR", "keys");
	static char key[1100], server_key[1100];
	bool help = false;
	int opt, rc;

	log_init("raas", LOG_WARN, false);
	memset(&c, 0, sizeof(c));
	c.start_ns = clk_mono(&clk_real);
	snprintf(key, sizeof(key), "%s/tenant.key", key_dir);
	snprintf(server_key, sizeof(server_key), "%s/market.pub", key_dir);
	c.market = env_or("RAAS_MARKET", "tcp://127.0.0.1:7101");
	c.prices = env_or("RAAS_PRICES", "tcp://127.0.0.1:7102");
	c.key = env_or("RAAS_KEY", key);
	c.server_key = env_or("RAAS_SERVER_KEY", server_key);
	c.ledger = env_or("RAAS_LEDGER", "./raas-ledger.sqlite");
	c.dir = key_dir;
	c.timeout_ms = 5000;

	opterr = 0;
	while ((opt = getopt_long(argc, argv, "o:h", opts, NULL)) != -1) {
		const struct opt_desc *d = NULL;
		if (opt >= 256 && opt < 256 + (int)NOPTS)
			d = &optdescs[opt - 256];
		for (size_t i = 0; !d && opt > 0 && opt < 256 && i < NOPTS; i++)
			if (optdescs[i].short_name == opt)
				d = &optdescs[i];
		if (!d)
			return cli_fail(CLI_EX_USAGE, "unknown option \"%s\" (raas --help)",
					argv[optind - 1]);
		rc = apply_option(&c, d, optarg, &help);
		if (rc)
			return rc;
	}
	/* "tenant add" and "host add" take --key FILE.pub, not the tenant's own key pair. */
	if (optind >= argc) {
		if (help) {
			global_help(stdout);
			return 0;
		}
		global_help(stderr);
		return CLI_EX_USAGE;
	}
	const struct command *cmd = NULL;
	for (size_t i = 0; i < NCOMMANDS; i++)
		if (strcmp(argv[optind], commands[i].name) == 0)
			cmd = &commands[i];
	if (!cmd)
		return cli_fail(CLI_EX_USAGE, "unknown command \"%s\" (raas --help)", argv[optind]);
	if (help) {
		command_help(cmd);
		return 0;
	}
	for (int i = optind + 1; i < argc; i++) {
		if (c.npos == 4)
			return cli_fail(CLI_EX_USAGE, "%s: too many arguments", cmd->name);
		c.pos[c.npos++] = argv[i];
	}
	if ((strcmp(cmd->name, "tenant") == 0 || strcmp(cmd->name, "host") == 0)) {
		/* Their --key is the new member's public key file. */
		for (int i = 1; i < argc; i++)
			if (strcmp(argv[i], "--key") == 0 || strncmp(argv[i], "--key=", 6) == 0) {
				c.key_file = c.key;
				c.seen |= CLI_OPT_KEYFILE;
			}
	}
	unsigned stray = c.seen & ~cmd->options;
	for (size_t i = 0; stray && i < NOPTS; i++)
		if (optdescs[i].bit && optdescs[i].bit != CLI_OPT_LEDGER && (stray & optdescs[i].bit))
			return cli_fail(CLI_EX_USAGE, "%s does not take --%s (raas %s --help)",
					cmd->name, optdescs[i].name, cmd->name);
	if (stray & CLI_OPT_LEDGER)
		return cli_fail(CLI_EX_USAGE, "%s does not take --ledger", cmd->name);
	return cmd->run(&c);
}
