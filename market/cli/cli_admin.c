/* cli_admin.c: the provider's commands: keys, the tenant and host registry, and ledger
 * reports (revenue, invoices, allocations and rounds read from the ledger file).
 *
 * These work on the ledger file directly, with or without raas-marketd running (SQLite WAL
 * lets them read while the market writes; a registration waits for the market's transaction
 * to finish). The market learns a tenant or host added while it runs at the first connection
 * with its key. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "common/clock.h"
#include "common/error.h"
#include "common/transport.h"
#include "common/wire.h"
#include "market/ledger.h"

static int open_ledger(struct cli *c, bool write, struct ledger **l)
{
	struct ledger_options o = {.readonly = !write};
	char why[1200];
	int err = ledger_open(c->ledger, &o, l, why, sizeof(why));

	if (!err)
		return 0;
	if (err == -ENOENT || err == -RAAS_EVERSION)
		return cli_fail(err == -ENOENT ? CLI_EX_NOINPUT : CLI_EX_DATA, "%s", why);
	return cli_fail(CLI_EX_UNAVAILABLE, "%s", why);
}

int cli_keygen(struct cli *c)
{
	struct tp_keypair kp;
	char path[1200];
	int err;

	if (c->npos != 1)
		return cli_fail(CLI_EX_USAGE, "keygen: give one NAME (raas keygen [--dir DIR] NAME)");
	if ((err = tp_keypair_generate(&kp)) != 0)
		return cli_fail(CLI_EX_SOFTWARE, "keygen: %s", raas_strerror(err));
	err = tp_key_save(c->dir, c->pos[0], &kp, c->force);
	if (err == -EEXIST)
		return cli_fail(CLI_EX_CANTCREAT, "keygen: %s/%s.key exists (--force replaces it)",
				c->dir, c->pos[0]);
	if (err == -EINVAL)
		return cli_fail(CLI_EX_USAGE,
				"keygen: \"%s\" is not a key name (letters, digits, '.', '_', '-')",
				c->pos[0]);
	if (err)
		return cli_fail(CLI_EX_CANTCREAT, "keygen: %s: %s", c->dir, raas_strerror(err));
	static const char *const names[] = {"name", "public_key", "key_file", "public_file"};
	static const enum cli_col types[] = {COL_STR, COL_STR, COL_STR, COL_STR};
	struct cli_table *t = CLI_TABLE_NEW(names, types);
	char pub[1200];
	snprintf(path, sizeof(path), "%s/%s.key", c->dir, c->pos[0]);
	snprintf(pub, sizeof(pub), "%s/%s.pub", c->dir, c->pos[0]);
	cli_table_row(t, c->pos[0], kp.public_key, path, pub);
	cli_table_print(t, c->format);
	return 0;
}

static const char *status_name(int status)
{
	return status == LEDGER_REMOVED ? "removed" : status == LEDGER_REMOVING ? "removing" : "active";
}

static int tenant_row(void *arg, const struct ledger_tenant *row)
{
	cli_table_row(arg, row->name, row->public_key, row->budget, row->charged,
		      row->created_wall_ns, status_name(row->status));
	return 0;
}

static int host_row(void *arg, const struct ledger_host *row)
{
	cli_table_row(arg, row->name, row->public_key, row->created_wall_ns,
		      status_name(row->status));
	return 0;
}

static int registry_add(struct cli *c, bool tenant)
{
	const char *what = tenant ? "tenant" : "host";
	char key[TP_KEY_Z85_LEN + 1], why[1200];
	struct ledger *l;
	int err, rc;

	if (c->npos != 2)
		return cli_fail(CLI_EX_USAGE, "%s add: give one NAME (raas %s add NAME --key FILE)",
				what, what);
	if (!c->key_file)
		return cli_fail(CLI_EX_USAGE, "%s add: --key FILE (the %s's NAME.pub) is required",
				what, what);
	const char *name = c->pos[1];
	size_t n = strlen(name);
	bool ok = n > 0 && n < LEDGER_NAME_MAX;
	for (size_t i = 0; ok && i < n; i++)
		ok = (name[i] >= 'a' && name[i] <= 'z') || (name[i] >= 'A' && name[i] <= 'Z') ||
		     (name[i] >= '0' && name[i] <= '9') || strchr("._-", name[i]);
	if (!ok)
		return cli_fail(CLI_EX_USAGE,
				"%s add: \"%s\" is not a name (1 to %d letters, digits, '.', '_', "
				"'-')",
				what, name, LEDGER_NAME_MAX - 1);
	if (!tenant && c->has_budget)
		return cli_fail(CLI_EX_USAGE, "host add: --budget is for tenants");
	if (c->has_budget && c->budget < 0)
		return cli_fail(CLI_EX_USAGE, "tenant add: --budget must not be negative");
	err = tp_key_load_public(c->key_file, key, why, sizeof(why));
	if (err)
		return cli_fail(err == -RAAS_EPARSE ? CLI_EX_CONFIG : CLI_EX_NOINPUT, "%s", why);
	if ((rc = open_ledger(c, true, &l)) != 0)
		return rc;
	int64_t now = clk_wall(&clk_real);
	if (tenant)
		err = ledger_tenant_add(l, name, key, c->has_budget ? c->budget : -1, now, NULL, why,
					sizeof(why));
	else
		err = ledger_host_add(l, name, key, now, NULL, why, sizeof(why));
	if (err) {
		ledger_close(l);
		if (err == -EEXIST)
			return cli_fail(CLI_EX_DATA, "%s add: %s", what, why);
		return cli_fail(CLI_EX_UNAVAILABLE, "%s add: %s", what, raas_strerror(err));
	}
	/* Show what is now registered. */
	struct cli_table *t;
	if (tenant) {
		static const char *const names[] = {"name", "public_key", "budget", "charged",
						    "created", "status"};
		static const enum cli_col types[] = {COL_STR, COL_STR, COL_LIMIT, COL_MONEY,
						     COL_TIME, COL_STR};
		struct ledger_tenant row;
		t = CLI_TABLE_NEW(names, types);
		if (ledger_tenant_by_name(l, name, &row) == 0)
			tenant_row(t, &row);
	} else {
		static const char *const names[] = {"name", "public_key", "created", "status"};
		static const enum cli_col types[] = {COL_STR, COL_STR, COL_TIME, COL_STR};
		struct ledger_host row;
		t = CLI_TABLE_NEW(names, types);
		if (ledger_host_by_name(l, name, &row) == 0)
			host_row(t, &row);
	}
	cli_table_print(t, c->format);
	ledger_close(l);
	return 0;
}

static int registry_list(struct cli *c, bool tenant)
{
	struct ledger *l;
	struct cli_table *t;
	int rc, err;

	if (c->npos != 1)
		return cli_fail(CLI_EX_USAGE, "%s list takes no arguments",
				tenant ? "tenant" : "host");
	if ((rc = open_ledger(c, false, &l)) != 0)
		return rc;
	if (tenant) {
		static const char *const names[] = {"name", "public_key", "budget", "charged",
						    "created", "status"};
		static const enum cli_col types[] = {COL_STR, COL_STR, COL_LIMIT, COL_MONEY,
						     COL_TIME, COL_STR};
		t = CLI_TABLE_NEW(names, types);
		err = ledger_tenants_each(l, tenant_row, t);
	} else {
		static const char *const names[] = {"name", "public_key", "created", "status"};
		static const enum cli_col types[] = {COL_STR, COL_STR, COL_TIME, COL_STR};
		t = CLI_TABLE_NEW(names, types);
		err = ledger_hosts_each(l, host_row, t);
	}
	ledger_close(l);
	if (err) {
		cli_table_destroy(t);
		return cli_fail(CLI_EX_UNAVAILABLE, "reading the ledger: %s", raas_strerror(err));
	}
	cli_table_print(t, c->format);
	return 0;
}

static int registry(struct cli *c, bool tenant)
{
	const char *what = tenant ? "tenant" : "host";

	if (c->npos < 1)
		return cli_fail(CLI_EX_USAGE, "%s: add, list or remove? (raas %s --help)", what, what);
	if (strcmp(c->pos[0], "add") == 0)
		return registry_add(c, tenant);
	if (strcmp(c->pos[0], "list") == 0)
		return registry_list(c, tenant);
	if (strcmp(c->pos[0], "remove") == 0)
		return tenant ? cli_tenant_op(c) : cli_host_op(c);
	if (tenant && strcmp(c->pos[0], "budget") == 0)
		return cli_tenant_op(c);
	if (c->force)
		return cli_fail(CLI_EX_USAGE, "%s %s does not take --force", what, c->pos[0]);
	return cli_fail(CLI_EX_USAGE, "%s: unknown subcommand \"%s\" (add, list, remove%s)", what,
			c->pos[0], tenant ? ", budget" : "");
}

int cli_tenant(struct cli *c)
{
	return registry(c, true);
}

int cli_host(struct cli *c)
{
	return registry(c, false);
}

static const char *kind_name(int kind)
{
	return kind == LEDGER_CHARGE_EGRESS   ? "egress"
	       : kind == LEDGER_CHARGE_CREDIT ? "credit"
					      : "hold";
}

/* Charge lines into a table, with their total; credits carry their reasons as a note. */
struct charges_out {
	struct cli_table *t;
	money_t total;
	struct ledger_credit_line *credits;
	size_t ncredits, capcredits;
};

static int keep_credit(void *arg, const struct ledger_credit_line *c)
{
	struct charges_out *o = arg;

	if (o->ncredits == o->capcredits) {
		size_t cap = o->capcredits ? o->capcredits * 2 : 16;
		struct ledger_credit_line *v = realloc(o->credits, cap * sizeof(*v));
		if (!v)
			return -ENOMEM;
		o->credits = v;
		o->capcredits = cap;
	}
	o->credits[o->ncredits++] = *c;
	return 0;
}

/* The note of a credit line: the reason of the first credit it sums, and how many more. */
static void credit_note(const struct charges_out *o, const struct ledger_charge_line *line,
			char *buf, size_t len)
{
	size_t n = 0;
	const struct ledger_credit_line *first = NULL;

	buf[0] = '\0';
	for (size_t i = 0; i < o->ncredits; i++) {
		const struct ledger_credit_line *c = &o->credits[i];
		if (c->settled_round != line->round || c->resource != line->resource ||
		    strcmp(c->host, line->host) != 0)
			continue;
		if (!first)
			first = c;
		n++;
	}
	if (first)
		snprintf(buf, len, "round %llu: %s%s", (unsigned long long)first->round,
			 first->reason, n > 1 ? " (and more: raas credits)" : "");
}

static int charge_row(void *arg, const struct ledger_charge_line *line)
{
	struct charges_out *o = arg;
	char note[LEDGER_REASON_MAX + 64] = "";

	if (line->kind == LEDGER_CHARGE_CREDIT)
		credit_note(o, line, note, sizeof(note));
	cli_table_row(o->t, (int64_t)line->round, line->tenant, line->host,
		      wire_resource_name(line->resource), kind_name(line->kind), line->quantity,
		      line->amount, note);
	return money_add(o->total, line->amount, &o->total);
}

static int check_range(struct cli *c, const char *cmd)
{
	if (c->from < 0 || c->to < 0 || (c->to && c->from > c->to))
		return cli_fail(CLI_EX_USAGE, "%s: --from %lld --to %lld is not a range of rounds",
				cmd, (long long)c->from, (long long)c->to);
	return 0;
}

int cli_invoice(struct cli *c)
{
	static const char *const names[] = {"round", "tenant",   "host",   "resource",
					    "kind",  "quantity", "amount", "note"};
	static const enum cli_col types[] = {COL_OPT_INT, COL_STR, COL_STR,   COL_STR,
					     COL_STR,     COL_INT, COL_MONEY, COL_STR};
	struct ledger *l;
	int rc, err;

	if (c->npos != 1)
		return cli_fail(CLI_EX_USAGE, "invoice: give one TENANT (raas invoice TENANT)");
	if ((rc = check_range(c, "invoice")) != 0 || (rc = open_ledger(c, false, &l)) != 0)
		return rc;
	struct charges_out o = {CLI_TABLE_NEW(names, types), 0, NULL, 0, 0};
	struct cli_table *t = o.t;
	err = ledger_read_begin(l);
	if (!err)
		err = ledger_credits_each(l, c->pos[0], (uint64_t)c->from, (uint64_t)c->to,
					  keep_credit, &o);
	if (!err)
		err = ledger_invoice_each(l, c->pos[0], (uint64_t)c->from, (uint64_t)c->to,
					  charge_row, &o);
	ledger_read_end(l);
	ledger_close(l);
	free(o.credits);
	if (err == -ENOENT) {
		cli_table_destroy(t);
		return cli_fail(CLI_EX_DATA, "invoice: no tenant \"%s\" in %s", c->pos[0],
				c->ledger);
	}
	if (err) {
		cli_table_destroy(t);
		return cli_fail(CLI_EX_UNAVAILABLE, "invoice: %s", raas_strerror(err));
	}
	/* The total, as the last line (no round: it spans them). */
	cli_table_row(t, (int64_t)-1, c->pos[0], "*", "*", "total", (int64_t)0, o.total, "");
	cli_table_print(t, c->format);
	return 0;
}

static int revenue_row(void *arg, const struct ledger_charge_line *line)
{
	struct charges_out *o = arg;

	cli_table_row(o->t, line->tenant, line->host, wire_resource_name(line->resource),
		      kind_name(line->kind), line->quantity, line->amount);
	return money_add(o->total, line->amount, &o->total);
}

int cli_revenue(struct cli *c)
{
	static const char *const names[] = {"tenant", "host", "resource", "kind", "quantity",
					    "amount"};
	static const enum cli_col types[] = {COL_STR, COL_STR, COL_STR,
					     COL_STR, COL_INT, COL_MONEY};
	struct ledger *l;
	uint64_t rounds;
	money_t revenue;
	char total[64];
	int rc, err;

	if (c->npos != 0)
		return cli_fail(CLI_EX_USAGE, "revenue takes no arguments");
	if ((rc = check_range(c, "revenue")) != 0 || (rc = open_ledger(c, false, &l)) != 0)
		return rc;
	struct charges_out o = {CLI_TABLE_NEW(names, types), 0, NULL, 0, 0};
	/* One snapshot: a round the market writes meanwhile is in both or in neither. */
	err = ledger_read_begin(l);
	if (!err)
		err = ledger_revenue_total(l, (uint64_t)c->from, (uint64_t)c->to, &rounds, &revenue);
	if (!err)
		err = ledger_revenue_each(l, (uint64_t)c->from, (uint64_t)c->to, revenue_row, &o);
	ledger_read_end(l);
	ledger_close(l);
	if (err) {
		cli_table_destroy(o.t);
		return cli_fail(CLI_EX_UNAVAILABLE, "revenue: %s", raas_strerror(err));
	}
	/* Lines per tenant, host, resource and kind; then the provider's revenue. */
	snprintf(total, sizeof(total), "total of %llu rounds", (unsigned long long)rounds);
	cli_table_row(o.t, "*", "*", "*", total, (int64_t)0, revenue);
	cli_table_print(o.t, c->format);
	return 0;
}

static int alloc_row(void *arg, const struct ledger_alloc_line *a)
{
	cli_table_row(arg, (int64_t)a->round, a->tenant, a->host, wire_resource_name(a->resource),
		      a->bid_id, a->quantity, a->unit_price, a->payment_per_hour);
	return 0;
}

int cli_ledger_allocations(struct cli *c)
{
	static const char *const names[] = {"round",    "tenant",     "host",
					    "resource", "bid_id",     "quantity",
					    "unit_price", "payment_per_hour"};
	static const enum cli_col types[] = {COL_INT, COL_STR, COL_STR,   COL_STR,
					     COL_STR, COL_INT, COL_MONEY, COL_MONEY};
	struct ledger *l;
	int rc, err;

	if (c->npos != 0)
		return cli_fail(CLI_EX_USAGE, "allocations takes no arguments");
	if (c->round < 0)
		return cli_fail(CLI_EX_USAGE, "allocations: --round must not be negative");
	if ((rc = open_ledger(c, false, &l)) != 0)
		return rc;
	struct cli_table *t = CLI_TABLE_NEW(names, types);
	err = ledger_allocations_each(l, (uint64_t)c->round, alloc_row, t);
	ledger_close(l);
	if (err) {
		cli_table_destroy(t);
		return cli_fail(CLI_EX_UNAVAILABLE, "allocations: %s", raas_strerror(err));
	}
	cli_table_print(t, c->format);
	return 0;
}

static int round_row(void *arg, const struct ledger_round_row *r)
{
	cli_table_row(arg, (int64_t)r->round, r->start_wall_ns, r->end_wall_ns,
		      r->round_ns / 1000000, r->bids, r->revenue);
	return 0;
}

int cli_ledger_rounds(struct cli *c)
{
	static const char *const names[] = {"round", "start", "end", "round_ms", "bids", "revenue"};
	static const enum cli_col types[] = {COL_INT, COL_TIME, COL_TIME,
					     COL_INT, COL_INT,  COL_MONEY};
	struct ledger *l;
	int rc, err;

	if (c->npos != 0)
		return cli_fail(CLI_EX_USAGE, "rounds takes no arguments");
	if ((rc = open_ledger(c, false, &l)) != 0)
		return rc;
	struct cli_table *t = CLI_TABLE_NEW(names, types);
	err = ledger_rounds_each(l, 0, (size_t)(c->limit > 0 ? c->limit : 20), round_row, t);
	ledger_close(l);
	if (err) {
		cli_table_destroy(t);
		return cli_fail(CLI_EX_UNAVAILABLE, "rounds: %s", raas_strerror(err));
	}
	cli_table_print(t, c->format);
	return 0;
}
