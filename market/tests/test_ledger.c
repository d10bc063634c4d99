/* test_ledger.c: the ledger's rows, its invariant checks (each shown able to fail), schema
 * versioning and the upgrade of a real version-1 ledger, the one-market lock (held by
 * another process), online backup, first-acknowledgement-wins, and a fault sweep: fail the
 * n-th write of a round or a batch for every n and check that nothing was half-written and
 * every invariant still holds. */
#include <errno.h>
#include <signal.h>
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "common/error.h"
#include "common/log.h"
#include "market/ledger.h"
#include "test.h"

static char dir[256];

static void cleanup(void)
{
	char cmd[300];
	snprintf(cmd, sizeof(cmd), "rm -rf %s", dir);
	if (system(cmd) != 0)
		fprintf(stderr, "cannot remove %s\n", dir);
}

static const char *key_a = "Yne@$w-vo<fVvi]a<NY6T1ed:M$fCG*[IaLV{hID";
static const char *key_b = "rq:rM>}U?@Lns47E1%kR.o@n%FcmmsL/@{H8]yf7";
static const char *key_h = "D:)Q[IlAW!ahhC2ac:9*A}h:p?([4%wOTJ%JR%cs";

static struct ledger *open_new(const char *name)
{
	char path[512], why[LEDGER_WHY_MAX];
	struct ledger *l;

	snprintf(path, sizeof(path), "%s/%s", dir, name);
	unlink(path);
	ASSERT_OK(ledger_open(path, NULL, &l, why, sizeof(why)));
	return l;
}

static void expect_ok(struct ledger *l)
{
	char why[LEDGER_WHY_MAX] = "";
	int err = ledger_check(l, why, sizeof(why));
	if (err)
		TEST_FAIL("ledger_check: %s", why);
}

/* A tenant pair, a host, one pool, one standing bid per tenant. */
struct base {
	int64_t ta, tb, pool, bid_a, bid_b;
};

static void setup(struct ledger *l, struct base *b)
{
	char why[LEDGER_WHY_MAX];
	struct ledger_pool p = {.resource = 3, .supply = 100, .model = "uniform"};
	struct ledger_bid bid;

	ASSERT_OK(ledger_tenant_add(l, "alice", key_a, -1, 1000, &b->ta, why, sizeof(why)));
	ASSERT_OK(ledger_tenant_add(l, "bob", key_b, 5 * MONEY_PER_DOLLAR, 1000, &b->tb, why,
				    sizeof(why)));
	ASSERT_OK(ledger_host_add(l, "h1", key_h, 1000, NULL, why, sizeof(why)));
	snprintf(p.host, sizeof(p.host), "h1");
	ASSERT_OK(ledger_pool_put(l, &p));
	b->pool = p.id;

	memset(&bid, 0, sizeof(bid));
	bid.tenant = b->ta;
	snprintf(bid.bid_id, sizeof(bid.bid_id), "a1");
	bid.resource = 3;
	snprintf(bid.host, sizeof(bid.host), "h1");
	bid.max_quantity = 60;
	bid.unit_price = 2000;
	bid.ncurve = 2;
	bid.curve[0] = (struct ledger_segment){30, 3000};
	bid.curve[1] = (struct ledger_segment){30, 2000};
	bid.first_round = 1;
	bid.request_id = 11;
	ASSERT_OK(ledger_begin(l));
	ASSERT_OK(ledger_bid_insert(l, &bid));
	b->bid_a = bid.id;
	snprintf(bid.bid_id, sizeof(bid.bid_id), "b1");
	bid.tenant = b->tb;
	bid.ncurve = 0;
	bid.nranges = 1;
	bid.ranges[0] = (struct ledger_range){10, 50};
	bid.unit_price = 1500;
	ASSERT_OK(ledger_bid_insert(l, &bid));
	b->bid_b = bid.id;
	ASSERT_OK(ledger_commit(l));
}

/* A round of 3.6 s: a charge is the hourly payment / 1000. */
#define ROUND_NS INT64_C(3600000000)

/* Writes round n: alice gets 60 and bob 40 at 1500/unit-hour. */
static int write_round(struct ledger *l, const struct base *b, uint64_t n)
{
	struct ledger_price_row price = {b->pool, 1500, 100, 100, 150000, 200000, 2, 1000};
	struct ledger_alloc_row allocs[2] = {
		{b->pool, b->ta, b->bid_a, 60, 1500, 90000, 90, ""},
		{b->pool, b->tb, b->bid_b, 40, 1500, 60000, 60, ""},
	};
	/* alice also sent 1000 bytes, billed 7 nanodollars. */
	struct ledger_egress_row egress = {b->ta, b->pool, 1000, 7};
	struct ledger_meter_row meter = {"h1", b->ta, 1000 * n};
	struct ledger_round r = {
		.round = n,
		.start_wall_ns = (int64_t)n * 1000,
		.end_wall_ns = (int64_t)n * 1000 + 1000,
		.round_ns = ROUND_NS,
		.revenue = 157,
		.bids = 2,
		.prices = &price,
		.nprices = 1,
		.allocs = allocs,
		.nallocs = 2,
		.egress = &egress,
		.negress = 1,
		.meters = &meter,
		.nmeters = 1,
	};
	return ledger_round_write(l, &r);
}

static void test_rows(void)
{
	struct ledger *l = open_new("rows.sqlite");
	struct base b;
	char why[LEDGER_WHY_MAX];
	struct ledger_tenant t;
	struct ledger_bid bid;

	ASSERT_EQ(ledger_schema_version(l), LEDGER_SCHEMA_VERSION);
	setup(l, &b);

	/* Registry lookups and duplicates. */
	ASSERT_OK(ledger_tenant_by_key(l, key_b, &t));
	ASSERT_STR_EQ(t.name, "bob");
	ASSERT_EQ(t.budget, 5 * MONEY_PER_DOLLAR);
	ASSERT_EQ(ledger_tenant_by_name(l, "carol", &t), -ENOENT);
	ASSERT_EQ(ledger_tenant_add(l, "alice", key_h, -1, 0, NULL, why, sizeof(why)), -EEXIST);
	ASSERT_STR_CONTAINS(why, "named \"alice\" exists");
	ASSERT_EQ(ledger_tenant_add(l, "carol", key_a, -1, 0, NULL, why, sizeof(why)), -EEXIST);
	ASSERT_STR_CONTAINS(why, "public key belongs to another tenant");
	struct ledger_host h;
	ASSERT_OK(ledger_host_by_key(l, key_h, &h));
	ASSERT_STR_EQ(h.name, "h1");

	/* Pools: a second put of (host, resource) updates. */
	struct ledger_pool p = {.resource = 3, .supply = 250, .model = "vcg"};
	snprintf(p.host, sizeof(p.host), "h1");
	ASSERT_OK(ledger_pool_put(l, &p));
	ASSERT_EQ(p.id, b.pool);

	/* Bids: curve and ranges round-trip; one standing version per bid id. */
	ASSERT_OK(ledger_bid_standing(l, b.ta, "a1", &bid));
	ASSERT_EQ(bid.ncurve, 2);
	ASSERT_EQ(bid.curve[1].unit_value, 2000);
	ASSERT_EQ(bid.last_round, -1);
	ASSERT_OK(ledger_bid_standing(l, b.tb, "b1", &bid));
	ASSERT_EQ(bid.nranges, 1);
	ASSERT_EQ(bid.ranges[0].max, 50);
	ASSERT_OK(ledger_begin(l));
	bid.request_id = 99;
	ASSERT_EQ(ledger_bid_insert(l, &bid), -EEXIST);
	ledger_rollback(l);

	/* Requests. */
	ASSERT_OK(ledger_request_put(l, b.ta, UINT64_MAX, 1, 11, "abc", 3, 5));
	ASSERT_EQ(ledger_request_put(l, b.ta, UINT64_MAX, 1, 11, "xyz", 3, 5), -EEXIST);
	uint8_t *reply;
	size_t len;
	ASSERT_OK(ledger_request_get(l, b.ta, UINT64_MAX, &reply, &len));
	ASSERT_EQ(len, 3);
	ASSERT_TRUE(memcmp(reply, "abc", 3) == 0);
	free(reply);
	ASSERT_OK(ledger_check_request(l, b.ta, UINT64_MAX, "abc", 3, why, sizeof(why)));
	ASSERT_EQ(ledger_check_request(l, b.ta, UINT64_MAX, "abd", 3, why, sizeof(why)),
		  -EPROTO);
	ASSERT_EQ(ledger_check_request(l, b.tb, 1, "abc", 3, why, sizeof(why)), -EPROTO);
	ASSERT_STR_CONTAINS(why, "not in the ledger");

	/* Rounds: in order only, revenue must equal charges. */
	ASSERT_OK(write_round(l, &b, 1));
	ASSERT_EQ(write_round(l, &b, 1), -EINVAL);
	ASSERT_EQ(write_round(l, &b, 3), -EINVAL);
	ASSERT_OK(write_round(l, &b, 2));
	uint64_t last;
	int64_t end;
	ASSERT_OK(ledger_last_round(l, &last, &end));
	ASSERT_EQ(last, 2);
	ASSERT_EQ(end, 3000);
	ASSERT_OK(ledger_tenant_by_name(l, "alice", &t));
	ASSERT_EQ(t.charged, 194);

	struct ledger_round bad = {.round = 3, .revenue = 1, .round_ns = 1};
	ASSERT_EQ(ledger_round_write(l, &bad), -EINVAL);
	expect_ok(l);

	/* Ending a version: never in force when it ends before it started. */
	ASSERT_OK(ledger_bid_end(l, b.bid_a, 2));
	ASSERT_EQ(ledger_bid_end(l, b.bid_a, 2), -ENOENT);
	ASSERT_EQ(ledger_bid_standing(l, b.ta, "a1", &bid), -ENOENT);
	expect_ok(l);
	ledger_close(l);
}

/* Each invariant check fails on a ledger broken behind its back, naming what is wrong. */
static void test_checks_fail(void)
{
	static const struct {
		const char *sql;
		const char *expect;
	} breaks[] = {
		{"UPDATE rounds SET revenue = revenue + 1 WHERE round = 2",
		 "round 2: revenue 158 != sum of its charges 157"},
		{"UPDATE tenants SET charged = 7 WHERE name = 'bob'",
		 "running total 7 != sum of its charges 180"},
		{"UPDATE allocations SET charge = charge + 1 WHERE round = 2 AND tenant = 1; "
		 "UPDATE rounds SET revenue = revenue + 1 WHERE round = 2; "
		 "UPDATE tenants SET charged = charged + 1 WHERE id = 1",
		 "round 2: tenant 1's allocation to bid 1 at 90000 per hour comes to 90 nanodollars, "
		 "but was charged 91"},
		{"DELETE FROM rounds WHERE round = 2", "not contiguous"},
		{"UPDATE rounds SET start_wall_ns = 100, end_wall_ns = 200 WHERE round = 3",
		 "round 3 ended at 200, before round 2 (3000)"},
		{"UPDATE allocations SET quantity = 90 WHERE round = 1 AND tenant = 1",
		 "supply 100 but 130 allocated"},
		{"UPDATE prices SET allocated = 99 WHERE round = 3",
		 "price row says 99 allocated, allocations sum to 100"},
		{"UPDATE bids SET first_round = 3 WHERE bid_id = 'a1'",
		 "which was in force for rounds 3"},
		{"INSERT INTO egress VALUES (9, 1, 1, 5, 5)", "charge in unrecorded round 9"},
		{"INSERT INTO bids (tenant, bid_id, kind, resource, host, min_quantity, "
		 "max_quantity, unit_price, first_round, last_round, request_id) "
		 "SELECT tenant, bid_id, kind, resource, host, min_quantity, max_quantity, "
		 "unit_price, first_round, 0, request_id FROM bids WHERE bid_id = 'b1'",
		 "request 11 made 2 versions of one bid (applied twice)"},
	};

	for (size_t i = 0; i < sizeof(breaks) / sizeof(breaks[0]); i++) {
		struct ledger *l = open_new("checks.sqlite");
		struct base b;
		char path[512], why[LEDGER_WHY_MAX];
		sqlite3 *db;

		setup(l, &b);
		for (uint64_t n = 1; n <= 3; n++)
			ASSERT_OK(write_round(l, &b, n));
		expect_ok(l);
		snprintf(path, sizeof(path), "%s/checks.sqlite", dir);
		ASSERT_EQ(sqlite3_open(path, &db), SQLITE_OK);
		ASSERT_EQ(sqlite3_exec(db, breaks[i].sql, NULL, NULL, NULL), SQLITE_OK);
		sqlite3_close(db);
		ASSERT_EQ(ledger_check(l, why, sizeof(why)), -EPROTO);
		ASSERT_STR_CONTAINS(why, breaks[i].expect);
		ledger_close(l);
	}
}

static void test_schema_version(void)
{
	char path[512], why[LEDGER_WHY_MAX];
	struct ledger *l;
	struct ledger_options ro = {.readonly = true};
	sqlite3 *db;

	snprintf(path, sizeof(path), "%s/none.sqlite", dir);
	ASSERT_TRUE(ledger_open(path, &ro, &l, why, sizeof(why)) < 0);

	l = open_new("version.sqlite");
	ledger_close(l);
	snprintf(path, sizeof(path), "%s/version.sqlite", dir);
	ASSERT_OK(ledger_open(path, &ro, &l, why, sizeof(why)));
	ledger_close(l);
	ASSERT_EQ(sqlite3_open(path, &db), SQLITE_OK);
	ASSERT_EQ(sqlite3_exec(db, "PRAGMA user_version = 99", NULL, NULL, NULL), SQLITE_OK);
	sqlite3_close(db);
	ASSERT_EQ(ledger_open(path, NULL, &l, why, sizeof(why)), -RAAS_EVERSION);
	ASSERT_STR_CONTAINS(why, "schema version 99");

	/* Not a database at all. */
	snprintf(path, sizeof(path), "%s/garbage.sqlite", dir);
	FILE *f = fopen(path, "w");
	ASSERT_TRUE(f != NULL);
	fputs("this is not a ledger, but it is long enough to look like a header........", f);
	fclose(f);
	ASSERT_TRUE(ledger_open(path, NULL, &l, why, sizeof(why)) < 0);
	ASSERT_STR_CONTAINS(why, "garbage.sqlite");
}

/* Fail the n-th write of a round for every n: the round is all there or not at all. */
static void test_fault_sweep_round(void)
{
	int failures = 0;

	for (int64_t n = 1; n < 40; n++) {
		struct ledger *l = open_new("fault.sqlite");
		struct base b;
		struct ledger_tenant before, after;
		uint64_t last;

		setup(l, &b);
		ASSERT_OK(write_round(l, &b, 1));
		ASSERT_OK(ledger_tenant_by_name(l, "alice", &before));
		ledger_fault_set(l, n);
		int err = write_round(l, &b, 2);
		ledger_fault_set(l, 0);
		ASSERT_OK(ledger_last_round(l, &last, NULL));
		ASSERT_OK(ledger_tenant_by_name(l, "alice", &after));
		if (err) {
			ASSERT_EQ(err, -EIO);
			ASSERT_EQ(last, 1);
			ASSERT_EQ(after.charged, before.charged);
			failures++;
		} else {
			ASSERT_EQ(last, 2);
			ASSERT_EQ(after.charged, before.charged + 97);
		}
		expect_ok(l);
		/* The round can be written once the fault is gone. */
		if (err)
			ASSERT_OK(write_round(l, &b, 2));
		expect_ok(l);
		ledger_close(l);
	}
	/* Every write of the round (and its commit) was hit once. */
	ASSERT_GE(failures, 7);
}

/* A round with more allocations and charged tenants than one multi-row write holds (64):
 * every row and running total lands once, and a fault in the second chunk leaves nothing. */
#define MANY 150
static void test_many_rows(void)
{
	struct ledger *l = open_new("many.sqlite");
	struct ledger_pool p = {.resource = 3, .supply = 1000, .model = "uniform"};
	struct ledger_alloc_row allocs[MANY];
	int64_t tenants[MANY];
	char why[LEDGER_WHY_MAX], name[32], key[41];
	money_t revenue = 0;

	snprintf(p.host, sizeof(p.host), "h1");
	ASSERT_OK(ledger_host_add(l, "h1", key_h, 1000, NULL, why, sizeof(why)));
	ASSERT_OK(ledger_pool_put(l, &p));
	ASSERT_OK(ledger_begin(l));
	for (int i = 0; i < MANY; i++) {
		struct ledger_bid bid;
		snprintf(name, sizeof(name), "t%03d", i);
		snprintf(key, sizeof(key), "%040d", i + 1);
		ASSERT_OK(ledger_tenant_add(l, name, key, -1, 1000, &tenants[i], why, sizeof(why)));
		memset(&bid, 0, sizeof(bid));
		bid.tenant = tenants[i];
		snprintf(bid.bid_id, sizeof(bid.bid_id), "b");
		bid.resource = 3;
		snprintf(bid.host, sizeof(bid.host), "h1");
		bid.max_quantity = 5;
		bid.unit_price = 1000;
		bid.first_round = 1;
		bid.request_id = (uint64_t)i + 1;
		ASSERT_OK(ledger_bid_insert(l, &bid));
		int64_t q = 1 + i % 5;
		/* A round of 3.6 s: the charge is the hourly payment / 1000. */
		allocs[i] = (struct ledger_alloc_row){p.id, tenants[i], bid.id, q, 1000, q * 1000, q, ""};
		revenue += q;
	}
	ASSERT_OK(ledger_commit(l));
	struct ledger_price_row price = {p.id, 1000, 1000, 0, 0, 0, MANY, 1000};
	for (int i = 0; i < MANY; i++)
		price.allocated += allocs[i].quantity;
	price.revenue_per_hour = revenue * 1000;
	struct ledger_round r = {
		.round = 1, .start_wall_ns = 1000, .end_wall_ns = 2000, .round_ns = ROUND_NS,
		.revenue = revenue, .bids = MANY, .prices = &price, .nprices = 1,
		.allocs = allocs, .nallocs = MANY,
	};
	/* Writes: the round, its price, then the first chunk of 64 allocations; the 4th is the
	 * second chunk. */
	ledger_fault_set(l, 4);
	ASSERT_EQ(ledger_round_write(l, &r), -EIO);
	ledger_fault_set(l, 0);
	uint64_t last = 99;
	ASSERT_OK(ledger_last_round(l, &last, NULL));
	ASSERT_EQ(last, 0);
	struct ledger_tenant t;
	ASSERT_OK(ledger_tenant_by_name(l, "t000", &t));
	ASSERT_EQ(t.charged, 0);
	ASSERT_OK(ledger_round_write(l, &r));
	expect_ok(l);
	int seen = 0;
	for (int i = 0; i < MANY; i++) {
		snprintf(name, sizeof(name), "t%03d", i);
		ASSERT_OK(ledger_tenant_by_name(l, name, &t));
		ASSERT_EQ(t.charged, allocs[i].charge);
		seen++;
	}
	ASSERT_EQ(seen, MANY);
	ledger_close(l);
}

/* Fail the n-th write of a batch of requests: the batch commits whole or not at all. */
static void test_fault_sweep_batch(void)
{
	int failures = 0, commits = 0;

	for (int64_t n = 1; n < 8; n++) {
		struct ledger *l = open_new("batch.sqlite");
		struct base b;
		struct ledger_bid bid;
		uint8_t *reply;
		size_t len;

		setup(l, &b);
		ledger_fault_set(l, n);
		int err = ledger_begin(l);
		ASSERT_OK(err);
		ASSERT_OK(ledger_bid_standing(l, b.ta, "a1", &bid));
		if (!err)
			err = ledger_bid_end(l, bid.id, 0);
		bid.first_round = 1;
		bid.max_quantity = 77;
		bid.request_id = 500;
		if (!err)
			err = ledger_bid_insert(l, &bid);
		if (!err)
			err = ledger_request_put(l, b.ta, 500, 1, 11, "ok", 2, 1);
		if (!err)
			err = ledger_commit(l);
		if (err)
			ledger_rollback(l);
		ledger_fault_set(l, 0);
		ASSERT_OK(ledger_bid_standing(l, b.ta, "a1", &bid));
		if (err) {
			ASSERT_EQ(bid.max_quantity, 60);
			ASSERT_EQ(ledger_request_get(l, b.ta, 500, &reply, &len), -ENOENT);
			failures++;
		} else {
			commits++;
			ASSERT_EQ(bid.max_quantity, 77);
			ASSERT_OK(ledger_request_get(l, b.ta, 500, &reply, &len));
			free(reply);
		}
		expect_ok(l);
		ledger_close(l);
	}
	printf("batch fault sweep: %d of 7 faults failed the batch, %d committed\n", failures,
	       commits);
	/* Every write of the batch (bid end, bid insert, request, commit) was hit once, and a fault
	 * past the last write let the batch commit. */
	ASSERT_GE(failures, 4);
	ASSERT_GE(commits, 1);
}


/* A ledger written by the schema-1 build (market/tests/ledger-v1.sql) opens migrated: old
 * rounds intact, the enforcement rule starting after them, every invariant holding. */
static void test_migrate_v1(void)
{
	char path[512], why[LEDGER_WHY_MAX], *sql;
	FILE *f = fopen(RAAS_SOURCE_DIR "/market/tests/ledger-v1.sql", "r");
	sqlite3 *db;
	long n;

	ASSERT_TRUE(f != NULL);
	fseek(f, 0, SEEK_END);
	n = ftell(f);
	rewind(f);
	sql = calloc(1, (size_t)n + 1);
	ASSERT_TRUE(sql && fread(sql, 1, (size_t)n, f) == (size_t)n);
	fclose(f);
	snprintf(path, sizeof(path), "%s/v1.sqlite", dir);
	ASSERT_EQ(sqlite3_open(path, &db), SQLITE_OK);
	ASSERT_EQ(sqlite3_exec(db, sql, NULL, NULL, NULL), SQLITE_OK);
	sqlite3_close(db);
	free(sql);

	int version;
	ASSERT_OK(ledger_file_version(path, &version, why, sizeof(why)));
	ASSERT_EQ(version, 1);
	/* The CLI's read-only open refuses it until a market migrated it. */
	struct ledger_options ro = {.readonly = true};
	struct ledger *l;
	ASSERT_EQ(ledger_open(path, &ro, &l, why, sizeof(why)), -RAAS_EVERSION);
	ASSERT_STR_CONTAINS(why, "start raas-marketd once to migrate it");
	ASSERT_OK(ledger_open(path, NULL, &l, why, sizeof(why)));
	ASSERT_EQ(ledger_schema_version(l), LEDGER_SCHEMA_VERSION);
	uint64_t last, rounds;
	money_t revenue;
	int64_t from, through;
	ASSERT_OK(ledger_last_round(l, &last, NULL));
	ASSERT_EQ(last, 29);
	ASSERT_OK(ledger_meta_get_int(l, "enforcement_from", &from));
	ASSERT_OK(ledger_meta_get_int(l, "settled_through", &through));
	ASSERT_EQ(from, 30);
	ASSERT_EQ(through, 29);
	/* 16 rounds x 2 cores x $3.60/h x 0.1 s = $0.0032. */
	ASSERT_OK(ledger_revenue_total(l, 0, 0, &rounds, &revenue));
	ASSERT_EQ(rounds, 29);
	ASSERT_EQ(revenue, 3200000);
	struct ledger_tenant t;
	ASSERT_OK(ledger_tenant_by_name(l, "alice", &t));
	ASSERT_EQ(t.charged, 3200000);
	ASSERT_EQ(t.status, LEDGER_ACTIVE);
	ASSERT_EQ(t.budget, 5000000000);
	if (ledger_check(l, why, sizeof(why)) != 0)
		TEST_FAIL("migrated ledger: %s", why);
	ledger_close(l);
}

/* One market per ledger: the lock of another process is seen, with its pid, and freed when
 * that process dies. */
static void test_lock(void)
{
	char path[512], why[512];
	int fd, pipefd[2];
	long holder = 0;

	snprintf(path, sizeof(path), "%s/locked.sqlite", dir);
	ASSERT_OK(ledger_lock_probe(path, &holder)); /* no lock file yet: free */
	ASSERT_OK(pipe(pipefd));
	pid_t child = fork();
	ASSERT_TRUE(child >= 0);
	if (child == 0) {
		char b = 1;
		if (ledger_lock(path, 0, &fd, &holder, why, sizeof(why)) != 0)
			_exit(1);
		if (write(pipefd[1], &b, 1) != 1)
			_exit(1);
		pause();
		_exit(0);
	}
	char b;
	ASSERT_EQ(read(pipefd[0], &b, 1), 1);
	ASSERT_EQ(ledger_lock_probe(path, &holder), -EBUSY);
	ASSERT_EQ(holder, child);
	holder = 0;
	ASSERT_EQ(ledger_lock(path, 100, &fd, &holder, why, sizeof(why)), -EBUSY);
	ASSERT_EQ(holder, child);
	ASSERT_STR_CONTAINS(why, "locked by process");
	kill(child, SIGKILL); /* a crash frees it */
	waitpid(child, NULL, 0);
	ASSERT_OK(ledger_lock(path, 0, &fd, &holder, why, sizeof(why)));
	ledger_unlock(fd);
	ASSERT_OK(ledger_lock(":memory:", 0, &fd, &holder, why, sizeof(why)));
	ASSERT_EQ(fd, -1);
	close(pipefd[0]);
	close(pipefd[1]);
}

/* The owner's identity, meta values, the first acknowledgement of a round wins, backups. */
static void test_meta_acks_backup(void)
{
	struct ledger *l = open_new("meta.sqlite");
	struct ledger_owner o = {.pid = 4242, .started_wall_ns = 7}, back;
	char why[1200], copy[512];
	bool recorded;

	snprintf(o.hostname, sizeof(o.hostname), "m1");
	snprintf(o.tenant_endpoint, sizeof(o.tenant_endpoint), "tcp://10.0.0.1:7101");
	ASSERT_OK(ledger_owner_record(l, &o));
	ASSERT_OK(ledger_owner_read(l, &back));
	ASSERT_EQ(back.pid, 4242);
	ASSERT_STR_EQ(back.tenant_endpoint, "tcp://10.0.0.1:7101");
	ASSERT_STR_EQ(back.hostname, "m1");

	struct ledger_ack_failure f = {.tenant = "carol", .resource = 1, .errno_value = 2,
				       .message = "no mapping"};
	ASSERT_OK(ledger_host_ack_put(l, 5, "h1", false, "carol/cores: no mapping", 0, &f, 1, 1,
				      &recorded));
	ASSERT_TRUE(recorded);
	ASSERT_OK(ledger_host_ack_put(l, 5, "h1", true, "", 0, NULL, 0, 2, &recorded));
	ASSERT_TRUE(!recorded); /* the first one stands */

	snprintf(copy, sizeof(copy), "%s/copy.sqlite", dir);
	int pages = 0;
	ASSERT_OK(ledger_backup(l, copy, &pages, why, sizeof(why)));
	ASSERT_GT(pages, 1);
	ASSERT_EQ(ledger_backup(l, copy, &pages, why, sizeof(why)), -EEXIST);
	ledger_close(l);
	struct ledger *c;
	ASSERT_OK(ledger_open(copy, NULL, &c, why, sizeof(why)));
	ASSERT_OK(ledger_owner_read(c, &back));
	ASSERT_EQ(back.pid, 4242);
	ASSERT_OK(ledger_check(c, why, sizeof(why)));
	ledger_close(c);
}

int main(void)
{
	log_init("test_ledger", LOG_ERROR, false);
	snprintf(dir, sizeof(dir), "/tmp/market-ledger-%ld", (long)getpid());
	ASSERT_OK(mkdir(dir, 0700));
	atexit(cleanup);

	test_rows();
	test_checks_fail();
	test_schema_version();
	test_migrate_v1();
	test_lock();
	test_meta_acks_backup();
	test_fault_sweep_round();
	test_fault_sweep_batch();
	test_many_rows();
	printf("test_ledger: ok\n");
	return 0;
}
