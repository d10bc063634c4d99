/* cli.h: what the raas CLI's files share: options, output tables, exit codes.
 *
 * The CLI has two kinds of commands: tenant commands talk to raas-marketd over ZeroMQ with
 * the tenant's CURVE key (bid, acquire, release, cancel, bids, prices, allocations, rounds),
 * provider commands read or write the ledger file directly (tenant add|list|remove|budget,
 * host add|list|remove, ledger check|backup, revenue, invoice, credits; allocations and
 * rounds with --ledger). Every command prints through one
 * table type, rendered as an aligned table, JSON or CSV (-o). */
#ifndef MARKET_CLI_H
#define MARKET_CLI_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "common/money.h"

enum cli_format { CLI_TABLE, CLI_JSON, CLI_CSV };

/* Every option of every command; each command says which it accepts. */
struct cli {
	enum cli_format format;
	const char *market;        /* tenant API endpoint */
	const char *prices;        /* price feed endpoint */
	const char *key;           /* the tenant's key pair file */
	const char *server_key;    /* the market's public key file */
	const char *ledger;        /* ledger file (provider commands) */
	const char *dir;           /* keygen: where keys go */
	int64_t timeout_ms;
	int64_t start_ns;          /* monotonic, when main() started (timing) */
	uint64_t request_id;       /* 0: random */
	/* Command arguments. */
	const char *resource, *host, *id, *curve, *ranges, *key_file;
	int64_t min, max, quantity, count, limit, round, from, to;
	money_t price, budget;
	bool has_min, has_max, has_quantity, has_price, has_budget, has_round, force, watch,
		use_ledger;
	unsigned seen;             /* CLI_OPT_* bits given on the command line */
	const char *pos[4];        /* positional arguments after the command */
	int npos;
};

/* Option bits, to check that a command got only options it knows. */
enum {
	CLI_OPT_RESOURCE = 1u << 0,
	CLI_OPT_HOST = 1u << 1,
	CLI_OPT_MIN = 1u << 2,
	CLI_OPT_MAX = 1u << 3,
	CLI_OPT_PRICE = 1u << 4,
	CLI_OPT_CURVE = 1u << 5,
	CLI_OPT_RANGES = 1u << 6,
	CLI_OPT_ID = 1u << 7,
	CLI_OPT_QUANTITY = 1u << 8,
	CLI_OPT_WATCH = 1u << 9,
	CLI_OPT_COUNT = 1u << 10,
	CLI_OPT_LIMIT = 1u << 11,
	CLI_OPT_ROUND = 1u << 12,
	CLI_OPT_FROM = 1u << 13,
	CLI_OPT_TO = 1u << 14,
	CLI_OPT_BUDGET = 1u << 15,
	CLI_OPT_KEYFILE = 1u << 16,
	CLI_OPT_FORCE = 1u << 17,
	CLI_OPT_DIR = 1u << 18,
	CLI_OPT_LEDGER = 1u << 19,
};

/* Exit codes (sysexits.h), named for what the CLI means by them. */
#define CLI_EX_OK 0
#define CLI_EX_USAGE 64        /* bad command line */
#define CLI_EX_DATA 65         /* the market or the ledger refused the data */
#define CLI_EX_NOINPUT 66      /* no such ledger or key file */
#define CLI_EX_UNAVAILABLE 69  /* the market did not answer */
#define CLI_EX_SOFTWARE 70     /* the market failed internally */
#define CLI_EX_CANTCREAT 73    /* cannot write a key file */
#define CLI_EX_TEMPFAIL 75     /* asked, but not finished within --timeout */
#define CLI_EX_NOPERM 77       /* the market refused our key or the request */
#define CLI_EX_CONFIG 78       /* a key file is malformed */

/* Prints "raas: ..." to stderr; returns code. */
int cli_fail(int code, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* ---- Output tables ---- */

/* COL_LIMIT is money where a negative value means "unlimited" (JSON null, CSV empty);
 * COL_OPT_INT an int64_t where a negative value means "none" (table and CSV empty, JSON
 * null). */
enum cli_col { COL_STR, COL_INT, COL_MONEY, COL_TIME, COL_BOOL, COL_LIMIT, COL_OPT_INT };

struct cli_table;

/* A table with the given columns (names and types borrowed: string literals). */
struct cli_table *cli_table_create(const char *const *names, const enum cli_col *types,
				   size_t ncols);
/* A table over static arrays of names and types, which must have as many entries (checked
 * at compile time). */
#define CLI_TABLE_NEW(names, types)                                                          \
	cli_table_create(names, types,                                                       \
			 sizeof(names) / sizeof(names[0]) +                                  \
				 0 * sizeof(char[sizeof(names) / sizeof(names[0]) ==         \
							 sizeof(types) / sizeof(types[0])    \
						 ? 1                                         \
						 : -1]))
/* Appends a row; values are given per column as: COL_STR const char *, COL_INT int64_t,
 * COL_MONEY and COL_LIMIT money_t, COL_TIME int64_t wall ns (0: none), COL_BOOL int,
 * COL_OPT_INT int64_t. */
int cli_table_row(struct cli_table *t, ...);
/* Renders the table to stdout and frees it. Streaming (watch) tables use print_row. */
void cli_table_print(struct cli_table *t, enum cli_format f);
void cli_table_destroy(struct cli_table *t);
/* Renders only the last row (watch mode): table rows padded to the header, JSON lines,
 * CSV rows; with header the column names first. */
void cli_table_print_last(struct cli_table *t, enum cli_format f, bool header);

/* ---- Commands ---- */
int cli_keygen(struct cli *c);
int cli_tenant(struct cli *c);
int cli_host(struct cli *c);
int cli_revenue(struct cli *c);
int cli_invoice(struct cli *c);
int cli_ledger_allocations(struct cli *c);
int cli_ledger_rounds(struct cli *c);
int cli_bid(struct cli *c);
int cli_acquire(struct cli *c);
int cli_release(struct cli *c);
int cli_cancel(struct cli *c);
int cli_bids(struct cli *c);
int cli_prices(struct cli *c);
int cli_allocations(struct cli *c);
int cli_rounds(struct cli *c);
/* cli_ops.c */
int cli_ledger(struct cli *c);
int cli_tenant_op(struct cli *c);  /* tenant remove | budget */
int cli_host_op(struct cli *c);    /* host remove */
int cli_credits(struct cli *c);

#endif
