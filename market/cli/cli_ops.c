/* cli_ops.c: the operator's verbs on a live or a stopped market: ledger check and backup,
 * tenant removal and budget, host removal, and the credits report.
 *
 * They work on the ledger file like the other provider commands. What must happen at a
 * round close (a tenant's bids end, a host's pools drain) is asked for in the registry when
 * a market runs (it holds the ledger's lock) and finished by it at its next close, which the
 * command waits for; when no market runs, the command takes the lock itself and does the
 * same in one transaction, so a market starting meanwhile waits for it. */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "cli.h"
#include "common/clock.h"
#include "common/error.h"
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

/* ---- raas ledger check | backup ---- */

static int ledger_check_cmd(struct cli *c)
{
	static const char *const names[] = {"ledger", "schema", "rounds", "last_round",
					    "settled_through", "tenants", "hosts", "allocations",
					    "credits", "credited", "revenue", "result"};
	static const enum cli_col types[] = {COL_STR, COL_INT, COL_INT,   COL_INT,
					     COL_INT, COL_INT, COL_INT,   COL_INT,
					     COL_INT, COL_MONEY, COL_MONEY, COL_STR};
	struct ledger *l;
	struct ledger_summary sum;
	char why[LEDGER_WHY_MAX] = "";
	int rc, err;

	if (c->npos != 1)
		return cli_fail(CLI_EX_USAGE, "ledger check takes no arguments");
	if ((rc = open_ledger(c, false, &l)) != 0)
		return rc;
	err = ledger_check(l, why, sizeof(why));
	if (err == -EPROTO) {
		ledger_close(l);
		return cli_fail(CLI_EX_DATA, "ledger check: %s: %s", c->ledger, why);
	}
	if (err || (err = ledger_summary(l, &sum)) != 0) {
		ledger_close(l);
		return cli_fail(CLI_EX_UNAVAILABLE, "ledger check: %s: %s", c->ledger,
				why[0] ? why : raas_strerror(err));
	}
	ledger_close(l);
	struct cli_table *t = CLI_TABLE_NEW(names, types);
	cli_table_row(t, c->ledger, (int64_t)sum.schema_version, sum.rounds,
		      (int64_t)sum.last_round, sum.settled_through, sum.tenants, sum.hosts,
		      sum.allocations, sum.credits, sum.credited, sum.revenue,
		      "ok: every invariant holds");
	cli_table_print(t, c->format);
	return 0;
}

static int ledger_backup_cmd(struct cli *c)
{
	static const char *const names[] = {"ledger", "backup", "pages", "last_round"};
	static const enum cli_col types[] = {COL_STR, COL_STR, COL_INT, COL_INT};
	struct ledger *l;
	char why[1200];
	int pages = 0, rc, err;
	uint64_t last = 0;

	if (c->npos != 2)
		return cli_fail(CLI_EX_USAGE, "ledger backup: give one FILE (raas ledger backup FILE)");
	if ((rc = open_ledger(c, false, &l)) != 0)
		return rc;
	err = ledger_backup(l, c->pos[1], &pages, why, sizeof(why));
	ledger_close(l);
	if (err == -EEXIST)
		return cli_fail(CLI_EX_CANTCREAT, "ledger backup: %s", why);
	if (err)
		return cli_fail(CLI_EX_CANTCREAT, "ledger backup: %s", why);
	/* The copy is a ledger of its own: open it and say what it holds. */
	const char *saved = c->ledger;
	c->ledger = c->pos[1];
	rc = open_ledger(c, false, &l);
	c->ledger = saved;
	if (rc)
		return rc;
	ledger_last_round(l, &last, NULL);
	ledger_close(l);
	struct cli_table *t = CLI_TABLE_NEW(names, types);
	cli_table_row(t, c->ledger, c->pos[1], (int64_t)pages, (int64_t)last);
	cli_table_print(t, c->format);
	return 0;
}

int cli_ledger(struct cli *c)
{
	if (c->npos < 1)
		return cli_fail(CLI_EX_USAGE, "ledger: check or backup? (raas ledger check|backup FILE)");
	if (strcmp(c->pos[0], "check") == 0)
		return ledger_check_cmd(c);
	if (strcmp(c->pos[0], "backup") == 0)
		return ledger_backup_cmd(c);
	return cli_fail(CLI_EX_USAGE, "ledger: unknown subcommand \"%s\" (check, backup)",
			c->pos[0]);
}

/* ---- Removals ---- */

static void sleep_ms(int ms)
{
	struct timespec ts = {ms / 1000, (long)(ms % 1000) * 1000000};
	nanosleep(&ts, NULL);
}

/* Waits until the market has finished a removal (status removed) or --timeout. */
static int wait_removed(struct cli *c, const char *what, const char *name, int64_t pid)
{
	int64_t end = clk_mono(&clk_real) + c->timeout_ms * NS_PER_MS;

	for (;;) {
		struct ledger *l;
		int status = -1, rc = open_ledger(c, false, &l);
		if (rc)
			return rc;
		if (strcmp(what, "tenant") == 0) {
			struct ledger_tenant t;
			if (ledger_tenant_by_name(l, name, &t) == 0)
				status = t.status;
		} else {
			struct ledger_host h;
			if (ledger_host_by_name(l, name, &h) == 0)
				status = h.status;
		}
		ledger_close(l);
		if (status == LEDGER_REMOVED)
			return 0;
		if (clk_mono(&clk_real) >= end)
			return cli_fail(CLI_EX_TEMPFAIL,
					"%s %s: removal asked; the market (pid %lld) finishes it at a "
					"round close once what it holds is settled, which took longer "
					"than --timeout %lld ms (raas %s list shows when)",
					what, name, (long long)pid, (long long)c->timeout_ms, what);
		sleep_ms(50);
	}
}

/* No market runs: take the ledger's lock for the length of an offline change. */
static int lock_offline(struct cli *c, int *fd, long *holder)
{
	char why[1200];
	int err = ledger_lock(c->ledger, 0, fd, holder, why, sizeof(why));

	if (err == -EBUSY)
		return 1; /* a market started meanwhile */
	if (err)
		return cli_fail(CLI_EX_UNAVAILABLE, "%s", why);
	return 0;
}

static int tenant_remove(struct cli *c)
{
	struct ledger *l;
	struct ledger_tenant t;
	struct ledger_activity act;
	long holder = 0;
	int fd = -1, rc, err;

	if (c->npos != 2)
		return cli_fail(CLI_EX_USAGE, "tenant remove: give one NAME (raas tenant remove NAME "
				"[--force])");
	const char *name = c->pos[1];
	if ((rc = open_ledger(c, true, &l)) != 0)
		return rc;
	if (ledger_tenant_by_name(l, name, &t) != 0) {
		ledger_close(l);
		return cli_fail(CLI_EX_DATA, "tenant remove: no tenant \"%s\" in %s", name, c->ledger);
	}
	if (t.status == LEDGER_REMOVED) {
		ledger_close(l);
		return cli_fail(CLI_EX_DATA, "tenant remove: %s was removed after round %lld", name,
				(long long)t.removed_round);
	}
	if ((err = ledger_tenant_activity(l, t.id, &act)) != 0) {
		ledger_close(l);
		return cli_fail(CLI_EX_UNAVAILABLE, "tenant remove: %s", raas_strerror(err));
	}
	if ((act.standing_bids || act.held_units) && !c->force) {
		ledger_close(l);
		return cli_fail(CLI_EX_DATA,
				"tenant remove: %s has %lld standing bids and holds %lld units in "
				"round %llu; release and cancel them, or remove with --force (its "
				"bids end at the next round close)",
				name, (long long)act.standing_bids, (long long)act.held_units,
				(unsigned long long)act.last_round);
	}
	int running = ledger_lock_probe(c->ledger, &holder) == -EBUSY;
	if (!running && (running = lock_offline(c, &fd, &holder)) < 0) {
		ledger_close(l);
		return CLI_EX_UNAVAILABLE;
	}
	if (running) {
		/* The market ends its bids at its next close, and marks it removed once its last
		 * rounds are settled. */
		err = ledger_tenant_set_status(l, t.id, LEDGER_REMOVING, -1, clk_wall(&clk_real));
		ledger_close(l);
		if (err)
			return cli_fail(CLI_EX_UNAVAILABLE, "tenant remove: %s", raas_strerror(err));
		if ((rc = wait_removed(c, "tenant", name, holder)) != 0)
			return rc;
	} else {
		/* No market: end what stands at the last round, in one transaction. */
		if (act.unsettled)
			fprintf(stderr,
				"raas: tenant remove: %lld allocations of %s on host agents' pools "
				"are not settled yet; the market settles them when it runs, and "
				"the invoice below may still change by their credits\n",
				(long long)act.unsettled, name);
		err = ledger_begin(l);
		if (!err && (err = ledger_bids_end_tenant(l, t.id, (int64_t)act.last_round)) > 0)
			err = 0;
		if (!err)
			err = ledger_tenant_set_status(l, t.id, LEDGER_REMOVED,
						       (int64_t)act.last_round, clk_wall(&clk_real));
		if (!err)
			err = ledger_commit(l);
		if (err)
			ledger_rollback(l);
		ledger_close(l);
		ledger_unlock(fd);
		if (err)
			return cli_fail(CLI_EX_UNAVAILABLE, "tenant remove: %s", raas_strerror(err));
	}
	/* The final invoice. */
	c->npos = 1;
	c->pos[0] = name;
	c->from = c->to = 0;
	return cli_invoice(c);
}

static int tenant_budget(struct cli *c)
{
	struct ledger *l;
	struct ledger_tenant t;
	money_t budget = -1;
	const char *why = NULL;
	int rc, err;

	if (c->npos != 3)
		return cli_fail(CLI_EX_USAGE, "tenant budget: give NAME and an amount or unlimited "
				"(raas tenant budget alice '$20')");
	if (strcmp(c->pos[2], "unlimited") != 0 &&
	    (money_parse(c->pos[2], &budget, &why) != 0 || budget < 0))
		return cli_fail(CLI_EX_USAGE, "tenant budget: \"%s\" is not an amount of dollars "
				"or unlimited (%s)", c->pos[2], why ? why : "not negative");
	if ((rc = open_ledger(c, true, &l)) != 0)
		return rc;
	if (ledger_tenant_by_name(l, c->pos[1], &t) != 0) {
		ledger_close(l);
		return cli_fail(CLI_EX_DATA, "tenant budget: no tenant \"%s\" in %s", c->pos[1],
				c->ledger);
	}
	err = ledger_tenant_set_budget(l, t.id, budget);
	ledger_close(l);
	if (err)
		return cli_fail(CLI_EX_UNAVAILABLE, "tenant budget: %s", raas_strerror(err));
	static const char *const names[] = {"name", "budget", "charged", "left"};
	static const enum cli_col types[] = {COL_STR, COL_LIMIT, COL_MONEY, COL_LIMIT};
	struct cli_table *tab = CLI_TABLE_NEW(names, types);
	cli_table_row(tab, t.name, budget, t.charged,
		      budget < 0 ? (money_t)-1 : (budget > t.charged ? budget - t.charged : 0));
	cli_table_print(tab, c->format);
	return 0;
}

static int host_remove(struct cli *c)
{
	struct ledger *l;
	struct ledger_host h;
	long holder = 0;
	int fd = -1, rc, err;
	uint64_t last = 0;

	if (c->npos != 2)
		return cli_fail(CLI_EX_USAGE, "host remove: give one NAME (raas host remove NAME)");
	const char *name = c->pos[1];
	if ((rc = open_ledger(c, true, &l)) != 0)
		return rc;
	if (ledger_host_by_name(l, name, &h) != 0) {
		ledger_close(l);
		return cli_fail(CLI_EX_DATA, "host remove: no host \"%s\" in %s", name, c->ledger);
	}
	if (h.status == LEDGER_REMOVED) {
		ledger_close(l);
		return cli_fail(CLI_EX_DATA, "host remove: %s was removed after round %lld", name,
				(long long)h.removed_round);
	}
	int running = ledger_lock_probe(c->ledger, &holder) == -EBUSY;
	if (!running && (running = lock_offline(c, &fd, &holder)) < 0) {
		ledger_close(l);
		return CLI_EX_UNAVAILABLE;
	}
	if (running) {
		err = ledger_host_set_status(l, h.id, LEDGER_REMOVING, -1, clk_wall(&clk_real));
		ledger_close(l);
		if (err)
			return cli_fail(CLI_EX_UNAVAILABLE, "host remove: %s", raas_strerror(err));
		if ((rc = wait_removed(c, "host", name, holder)) != 0)
			return rc;
	} else {
		/* No market: its pools drain now (supply 0), in one transaction. */
		struct ledger_pool pools[64];
		int npools = 0;
		err = ledger_last_round(l, &last, NULL);
		if (!err)
			err = ledger_begin(l);
		if (!err)
			err = ledger_host_pools(l, name, pools, 64, &npools);
		for (int i = 0; !err && i < npools; i++) {
			pools[i].supply = 0;
			err = ledger_pool_put(l, &pools[i]);
		}
		if (!err)
			err = ledger_host_set_status(l, h.id, LEDGER_REMOVED, (int64_t)last,
						     clk_wall(&clk_real));
		if (!err)
			err = ledger_commit(l);
		if (err)
			ledger_rollback(l);
		ledger_close(l);
		ledger_unlock(fd);
		if (err)
			return cli_fail(CLI_EX_UNAVAILABLE, "host remove: %s", raas_strerror(err));
	}
	if ((rc = open_ledger(c, false, &l)) != 0)
		return rc;
	ledger_host_by_name(l, name, &h);
	ledger_close(l);
	static const char *const names[] = {"name", "status", "removed_after_round"};
	static const enum cli_col types[] = {COL_STR, COL_STR, COL_INT};
	struct cli_table *t = CLI_TABLE_NEW(names, types);
	cli_table_row(t, h.name, "removed (pools drained)", h.removed_round);
	cli_table_print(t, c->format);
	return 0;
}

int cli_tenant_op(struct cli *c)
{
	if (strcmp(c->pos[0], "remove") == 0)
		return tenant_remove(c);
	return tenant_budget(c);
}

int cli_host_op(struct cli *c)
{
	return host_remove(c);
}

/* ---- raas credits ---- */

static int credit_row(void *arg, const struct ledger_credit_line *cl)
{
	cli_table_row(arg, (int64_t)cl->settled_round, (int64_t)cl->round, cl->tenant, cl->host,
		      wire_resource_name(cl->resource), cl->quantity, cl->amount, cl->reason);
	return 0;
}

int cli_credits(struct cli *c)
{
	static const char *const names[] = {"credited_in", "round", "tenant",  "host",
					    "resource",    "quantity", "amount", "reason"};
	static const enum cli_col types[] = {COL_INT, COL_INT, COL_STR,   COL_STR,
					     COL_STR, COL_INT, COL_MONEY, COL_STR};
	struct ledger *l;
	int rc, err;

	if (c->npos > 1)
		return cli_fail(CLI_EX_USAGE, "credits: at most one TENANT");
	if ((rc = open_ledger(c, false, &l)) != 0)
		return rc;
	struct cli_table *t = CLI_TABLE_NEW(names, types);
	err = ledger_credits_each(l, c->npos ? c->pos[0] : NULL, (uint64_t)c->from,
				  (uint64_t)c->to, credit_row, t);
	ledger_close(l);
	if (err) {
		cli_table_destroy(t);
		return cli_fail(CLI_EX_UNAVAILABLE, "credits: %s", raas_strerror(err));
	}
	cli_table_print(t, c->format);
	return 0;
}
