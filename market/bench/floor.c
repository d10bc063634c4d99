/* floor.c: the floor of a market round (floor.h): pricing, SQLite and CURVE alone.
 *
 * Each part does what the market's round did, through the same library, as directly as that
 * library allows:
 *   - clear: pm_clear of the "uniform" model on as many bids of one unit as took part, at
 *     unit prices drawn as the benchmark's clients draw them, with the same supply;
 *   - sqlite: one transaction in a WAL file with the ledger's synchronous setting writing the
 *     rows a round writes (per bid: the new version, the end of the old one and the recorded
 *     answer; per allocation: its row and the tenant's charge; the round and its price), with
 *     prepared statements, then a checkpoint (the market checkpoints after every round);
 *   - curve: libsodium's crypto_box_open_easy_afternm of every received byte and
 *     crypto_box_easy_afternm of every sent byte, the message sizes the clients saw (CURVE
 *     after its handshake is exactly this box with a precomputed key).
 *   - tcp (reported beside the floor, not in it): one write() per sent message and one read()
 *     per received one over loopback TCP connections with TCP_NODELAY, the bytes each CURVE
 *     message carries on the wire; on loopback the kernel delivers to the receiver inside
 *     the sender's write(), so this is the least a process pays per message and connection.
 * Tables mirror the ledger's columns and indexes; they are created here, not through the
 * ledger, so that none of the ledger's own work is counted as floor. */
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sodium.h>
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "common/clock.h"
#include "floor.h"
#include "pricing/pm.h"

/* The floor is CPU, as the market's figure is: this thread's CPU clock. */
static int64_t cpu_now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
	return (int64_t)ts.tv_sec * INT64_C(1000000000) + ts.tv_nsec;
}

static double ms_since(int64_t t0)
{
	return (double)(cpu_now() - t0) / 1e6;
}

static int floor_clear(const struct floor_work *w, int reps, double *ms)
{
	size_t n = w->clear_bids ? w->clear_bids : 1;
	struct pm_bid *bids = calloc(n, sizeof(*bids));
	struct pm_outcome *outcomes = calloc(n, sizeof(*outcomes));
	struct pm_instance *inst = NULL;
	struct pm_param p = {"reserve", "$0.001"};
	struct pm_error pe;
	uint64_t seed = w->seed | 1;
	int err = 0;

	if (!bids || !outcomes || pm_create("uniform", &p, 1, &inst, &pe) != 0) {
		err = -ENOMEM;
		goto out;
	}
	for (size_t i = 0; i < w->clear_bids; i++) {
		seed = seed * 6364136223846793005ULL + 1442695040888963407ULL;
		bids[i].bidder = i + 1;
		bids[i].max_quantity = 1;
		bids[i].unit_price = (money_t)(1000000 + (seed >> 40) % 100000000);
	}
	int64_t t0 = cpu_now();
	for (int r = 0; r < reps; r++) {
		struct pm_pool pool = {.supply = w->supply, .round = (uint64_t)r + 1,
				       .round_ns = INT64_C(100000000)};
		struct pm_result res = {.outcomes = outcomes};
		if (pm_clear(inst, &pool, bids, w->clear_bids, &res, &pe) != 0) {
			err = -EINVAL;
			goto out;
		}
	}
	*ms = ms_since(t0) / reps;
out:
	pm_destroy(inst);
	free(bids);
	free(outcomes);
	return err;
}

static const char floor_schema[] =
	"PRAGMA journal_mode = WAL;"
	"CREATE TABLE tenants (id INTEGER PRIMARY KEY, name TEXT NOT NULL UNIQUE,"
	"  charged INTEGER NOT NULL DEFAULT 0);"
	"CREATE TABLE bids (id INTEGER PRIMARY KEY, tenant INTEGER NOT NULL, bid_id TEXT NOT NULL,"
	"  kind INTEGER NOT NULL, resource INTEGER NOT NULL, host TEXT NOT NULL,"
	"  min_quantity INTEGER NOT NULL, max_quantity INTEGER NOT NULL,"
	"  unit_price INTEGER NOT NULL, curve BLOB, ranges BLOB, first_round INTEGER NOT NULL,"
	"  last_round INTEGER, request_id INTEGER NOT NULL);"
	"CREATE UNIQUE INDEX bids_standing ON bids (tenant, bid_id) WHERE last_round IS NULL;"
	"CREATE TABLE requests (tenant INTEGER NOT NULL, request_id INTEGER NOT NULL,"
	"  round INTEGER NOT NULL, kind INTEGER NOT NULL, reply BLOB NOT NULL,"
	"  wall_ns INTEGER NOT NULL, PRIMARY KEY (tenant, request_id)) WITHOUT ROWID;"
	"CREATE INDEX requests_age ON requests (wall_ns);"
	"CREATE TABLE rounds (round INTEGER PRIMARY KEY, start_wall_ns INTEGER NOT NULL,"
	"  end_wall_ns INTEGER NOT NULL, round_ns INTEGER NOT NULL, revenue INTEGER NOT NULL,"
	"  bids INTEGER NOT NULL);"
	"CREATE TABLE prices (round INTEGER NOT NULL, pool INTEGER NOT NULL,"
	"  unit_price INTEGER NOT NULL, supply INTEGER NOT NULL, allocated INTEGER NOT NULL,"
	"  revenue_per_hour INTEGER NOT NULL, welfare_per_hour INTEGER NOT NULL,"
	"  bids INTEGER NOT NULL, clear_ns INTEGER NOT NULL,"
	"  PRIMARY KEY (round, pool)) WITHOUT ROWID;"
	"CREATE TABLE allocations (round INTEGER NOT NULL, pool INTEGER NOT NULL,"
	"  bid INTEGER NOT NULL, tenant INTEGER NOT NULL, quantity INTEGER NOT NULL,"
	"  unit_price INTEGER NOT NULL, payment_per_hour INTEGER NOT NULL,"
	"  charge INTEGER NOT NULL, PRIMARY KEY (round, pool, bid)) WITHOUT ROWID;";

enum { S_BID_END, S_BID_INSERT, S_REQUEST, S_ALLOC, S_CHARGE, S_ROUND, S_PRICE, S_COUNT };

static const char *const floor_sql[S_COUNT] = {
	[S_BID_END] = "UPDATE bids SET last_round = ?2 WHERE id = ?1 AND last_round IS NULL",
	[S_BID_INSERT] = "INSERT INTO bids (tenant, bid_id, kind, resource, host, min_quantity,"
			 " max_quantity, unit_price, curve, ranges, first_round, last_round,"
			 " request_id) VALUES (?1, 'bench', 1, 3, 'h1', 0, 1, ?2, NULL, NULL, ?3,"
			 " NULL, ?4)",
	[S_REQUEST] = "INSERT INTO requests (tenant, request_id, round, kind, reply, wall_ns)"
		      " VALUES (?1, ?2, ?3, 3, ?4, ?5)",
	[S_ALLOC] = "INSERT INTO allocations (round, pool, bid, tenant, quantity, unit_price,"
		    " payment_per_hour, charge) VALUES (?1, 1, ?2, ?3, 1, 1000000, 1000000, 27)",
	[S_CHARGE] = "UPDATE tenants SET charged = charged + 27 WHERE id = ?1",
	[S_ROUND] = "INSERT INTO rounds VALUES (?1, 0, 1, 100000000, 0, ?2)",
	[S_PRICE] = "INSERT INTO prices VALUES (?1, 1, 1000000, ?2, ?3, 0, 0, ?4, 0)",
};

static int step(sqlite3_stmt *s)
{
	int rc = sqlite3_step(s);
	sqlite3_reset(s);
	return rc == SQLITE_DONE ? 0 : -EIO;
}

/* Round r of the floor: one transaction, then the checkpoint. bid_ids[i] is tenant i's
 * standing version, replaced here. */
static int sqlite_round(sqlite3 *db, sqlite3_stmt **st, const struct floor_work *w,
			int64_t r, int64_t *bid_ids, const uint8_t *reply, int64_t *rid)
{
	int err = sqlite3_exec(db, "BEGIN IMMEDIATE", NULL, NULL, NULL) == SQLITE_OK ? 0 : -EIO;

	for (size_t i = 0; !err && i < w->bids; i++) {
		int64_t tenant = (int64_t)i + 1;
		++*rid;
		sqlite3_bind_int64(st[S_BID_END], 1, bid_ids[i]);
		sqlite3_bind_int64(st[S_BID_END], 2, r - 1);
		err = step(st[S_BID_END]);
		sqlite3_bind_int64(st[S_BID_INSERT], 1, tenant);
		sqlite3_bind_int64(st[S_BID_INSERT], 2, 1000000 + (int64_t)i);
		sqlite3_bind_int64(st[S_BID_INSERT], 3, r);
		sqlite3_bind_int64(st[S_BID_INSERT], 4, *rid);
		if (!err && !(err = step(st[S_BID_INSERT])))
			bid_ids[i] = sqlite3_last_insert_rowid(db);
		sqlite3_bind_int64(st[S_REQUEST], 1, tenant);
		sqlite3_bind_int64(st[S_REQUEST], 2, *rid);
		sqlite3_bind_int64(st[S_REQUEST], 3, r);
		sqlite3_bind_blob(st[S_REQUEST], 4, reply, (int)w->reply_bytes, SQLITE_STATIC);
		sqlite3_bind_int64(st[S_REQUEST], 5, *rid);
		if (!err)
			err = step(st[S_REQUEST]);
	}
	for (size_t i = 0; !err && i < w->allocs; i++) {
		sqlite3_bind_int64(st[S_ALLOC], 1, r);
		/* Standing bids not re-sent this round keep their version (a distinct id). */
		sqlite3_bind_int64(st[S_ALLOC], 2, i < w->bids ? bid_ids[i] : -(int64_t)i - 1);
		sqlite3_bind_int64(st[S_ALLOC], 3, (int64_t)i + 1);
		err = step(st[S_ALLOC]);
		sqlite3_bind_int64(st[S_CHARGE], 1, (int64_t)i + 1);
		if (!err)
			err = step(st[S_CHARGE]);
	}
	sqlite3_bind_int64(st[S_ROUND], 1, r);
	sqlite3_bind_int64(st[S_ROUND], 2, (int64_t)w->bids);
	if (!err)
		err = step(st[S_ROUND]);
	sqlite3_bind_int64(st[S_PRICE], 1, r);
	sqlite3_bind_int64(st[S_PRICE], 2, w->supply);
	sqlite3_bind_int64(st[S_PRICE], 3, (int64_t)w->allocs);
	sqlite3_bind_int64(st[S_PRICE], 4, (int64_t)w->bids);
	if (!err)
		err = step(st[S_PRICE]);
	if (!err && sqlite3_exec(db, "COMMIT", NULL, NULL, NULL) != SQLITE_OK)
		err = -EIO;
	if (err) {
		sqlite3_exec(db, "ROLLBACK", NULL, NULL, NULL);
		return err;
	}
	return sqlite3_wal_checkpoint_v2(db, NULL, SQLITE_CHECKPOINT_PASSIVE, NULL, NULL) ==
			       SQLITE_OK
		       ? 0
		       : -EIO;
}

static int floor_sqlite(const struct floor_work *w, int reps, double *ms, double *wait_ms)
{
	char path[512];
	sqlite3 *db = NULL;
	sqlite3_stmt *st[S_COUNT] = {0};
	int64_t *bid_ids = calloc(w->bids ? w->bids : 1, sizeof(*bid_ids)), rid = 0;
	uint8_t *reply = calloc(w->reply_bytes ? w->reply_bytes : 1, 1);
	int err = 0;

	snprintf(path, sizeof(path), "%s/floor.sqlite", w->dir);
	if (!bid_ids || !reply || sqlite3_open(path, &db) != SQLITE_OK ||
	    sqlite3_exec(db, floor_schema, NULL, NULL, NULL) != SQLITE_OK ||
	    sqlite3_exec(db, w->sync_full ? "PRAGMA synchronous = FULL"
					  : "PRAGMA synchronous = NORMAL",
			 NULL, NULL, NULL) != SQLITE_OK ||
	    sqlite3_exec(db, "PRAGMA cache_size = -65536; PRAGMA wal_autocheckpoint = 0", NULL,
			 NULL, NULL) != SQLITE_OK) {
		err = -EIO;
		goto out;
	}
	for (int i = 0; i < S_COUNT && !err; i++)
		if (sqlite3_prepare_v3(db, floor_sql[i], -1, SQLITE_PREPARE_PERSISTENT, &st[i],
				       NULL) != SQLITE_OK)
			err = -EIO;
	/* The tenants and their first versions, as a running market has them (not timed). */
	sqlite3_exec(db, "BEGIN", NULL, NULL, NULL);
	size_t ntenants = w->bids > w->allocs ? w->bids : w->allocs;
	for (size_t i = 0; !err && i < ntenants; i++) {
		char sql[128];
		snprintf(sql, sizeof(sql), "INSERT INTO tenants (id, name) VALUES (%zu, 't-%zu')",
			 i + 1, i);
		err = sqlite3_exec(db, sql, NULL, NULL, NULL) == SQLITE_OK ? 0 : -EIO;
	}
	if (!err)
		err = sqlite3_exec(db, "COMMIT", NULL, NULL, NULL) == SQLITE_OK ? 0 : -EIO;
	if (!err)
		err = sqlite_round(db, st, w, 1, bid_ids, reply, &rid);
	int64_t t0 = cpu_now(), m0 = clk_mono(&clk_real);
	for (int r = 0; r < reps && !err; r++)
		err = sqlite_round(db, st, w, r + 2, bid_ids, reply, &rid);
	*ms = ms_since(t0) / reps;
	*wait_ms = (double)(clk_mono(&clk_real) - m0) / 1e6 / reps - *ms;
out:
	for (int i = 0; i < S_COUNT; i++)
		sqlite3_finalize(st[i]);
	sqlite3_close(db);
	unlink(path);
	snprintf(path, sizeof(path), "%s/floor.sqlite-wal", w->dir);
	unlink(path);
	snprintf(path, sizeof(path), "%s/floor.sqlite-shm", w->dir);
	unlink(path);
	free(bid_ids);
	free(reply);
	return err;
}

static int floor_curve(const struct floor_work *w, int reps, double *ms)
{
	size_t in = w->msgs_in ? w->bytes_in / w->msgs_in : 0;
	size_t outb = w->msgs_out ? w->bytes_out / w->msgs_out : 0;
	size_t big = (in > outb ? in : outb) + crypto_box_MACBYTES;
	unsigned char pk[crypto_box_PUBLICKEYBYTES], sk[crypto_box_SECRETKEYBYTES];
	unsigned char k[crypto_box_BEFORENMBYTES], nonce[crypto_box_NONCEBYTES] = {0};
	unsigned char *plain = calloc(big, 1), *boxed = calloc(big, 1);
	int err = 0;

	if (sodium_init() < 0 || !plain || !boxed || crypto_box_keypair(pk, sk) != 0 ||
	    crypto_box_beforenm(k, pk, sk) != 0) {
		err = -ENOMEM;
		goto out;
	}
	/* A box to open, of the received size. */
	crypto_box_easy_afternm(boxed, plain, in, nonce, k);
	int64_t t0 = cpu_now();
	for (int r = 0; r < reps && !err; r++) {
		for (size_t i = 0; i < w->msgs_in && !err; i++) {
			nonce[0] = 0;
			if (crypto_box_open_easy_afternm(plain, boxed, in + crypto_box_MACBYTES,
							 nonce, k) != 0)
				err = -EPROTO;
		}
		for (size_t i = 0; i < w->msgs_out; i++) {
			nonce[1] = (unsigned char)i;
			crypto_box_easy_afternm(boxed + 0, plain, outb, nonce, k);
		}
		/* boxed now holds an out-sized box; the next repetition opens an in-sized one. */
		nonce[1] = 0;
		nonce[0] = 0;
		crypto_box_easy_afternm(boxed, plain, in, nonce, k);
	}
	*ms = ms_since(t0) / reps;
out:
	free(plain);
	free(boxed);
	return err;
}

#define TCP_CONNS 64
/* CURVE's MESSAGE command around a payload: flags and name, nonce, MAC, ZMTP header. */
#define CURVE_WIRE_EXTRA (1 + 8 + 8 + crypto_box_MACBYTES + 9)

/* TCP_CONNS loopback connections: a[i] the market's end, b[i] the peer's. */
static int tcp_pairs(int *a, int *b)
{
	struct sockaddr_in sa = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
	socklen_t len = sizeof(sa);
	int one = 1, ls = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);

	if (ls < 0 || bind(ls, (struct sockaddr *)&sa, sizeof(sa)) != 0 ||
	    listen(ls, TCP_CONNS) != 0 || getsockname(ls, (struct sockaddr *)&sa, &len) != 0) {
		if (ls >= 0)
			close(ls);
		return -errno;
	}
	for (int i = 0; i < TCP_CONNS; i++) {
		b[i] = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
		if (b[i] < 0 || connect(b[i], (struct sockaddr *)&sa, sizeof(sa)) != 0 ||
		    (a[i] = accept(ls, NULL, NULL)) < 0) {
			close(ls);
			return -errno;
		}
		setsockopt(a[i], IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
		setsockopt(b[i], IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
	}
	close(ls);
	return 0;
}

static void drain(int fd, unsigned char *buf, size_t len, size_t want)
{
	while (want > 0) {
		ssize_t n = read(fd, buf, want < len ? want : len);
		if (n <= 0)
			return;
		want -= (size_t)n;
	}
}

static int floor_tcp(const struct floor_work *w, int reps, double *ms)
{
	size_t in = (w->msgs_in ? w->bytes_in / w->msgs_in : 0) + CURVE_WIRE_EXTRA;
	size_t outb = (w->msgs_out ? w->bytes_out / w->msgs_out : 0) + CURVE_WIRE_EXTRA;
	size_t big = in > outb ? in : outb;
	int a[TCP_CONNS], b[TCP_CONNS];
	unsigned char *buf = calloc(big, 1);
	int64_t spent = 0;
	int err;

	for (int i = 0; i < TCP_CONNS; i++)
		a[i] = b[i] = -1;
	if (!buf) {
		err = -ENOMEM;
		goto out;
	}
	if ((err = tcp_pairs(a, b)) != 0)
		goto out;
	/* Timed: the market's end only, TCP_CONNS messages at a time (one per connection);
	 * the peers' reads and writes between them are not. */
	for (int r = 0; r < reps; r++) {
		for (size_t done = 0; done < w->msgs_out; done += TCP_CONNS) {
			size_t k = w->msgs_out - done < TCP_CONNS ? w->msgs_out - done : TCP_CONNS;
			int64_t t0 = cpu_now();
			for (size_t i = 0; i < k; i++)
				if (write(a[i], buf, outb) != (ssize_t)outb)
					err = -EIO;
			spent += cpu_now() - t0;
			for (size_t i = 0; i < k; i++)
				drain(b[i], buf, big, outb);
		}
		for (size_t done = 0; done < w->msgs_in; done += TCP_CONNS) {
			size_t k = w->msgs_in - done < TCP_CONNS ? w->msgs_in - done : TCP_CONNS;
			for (size_t i = 0; i < k; i++)
				if (write(b[i], buf, in) != (ssize_t)in)
					err = -EIO;
			int64_t t0 = cpu_now();
			for (size_t i = 0; i < k; i++)
				drain(a[i], buf, big, in);
			spent += cpu_now() - t0;
		}
	}
	*ms = (double)spent / 1e6 / reps;
out:
	for (int i = 0; i < TCP_CONNS; i++) {
		if (a[i] >= 0)
			close(a[i]);
		if (b[i] >= 0)
			close(b[i]);
	}
	free(buf);
	return err;
}

int floor_measure(const struct floor_work *w, int reps, struct floor_ms *out)
{
	int err;

	memset(out, 0, sizeof(*out));
	if (reps < 1)
		reps = 1;
	if ((err = floor_clear(w, reps, &out->clear)) != 0 ||
	    (err = floor_sqlite(w, reps, &out->sqlite, &out->sqlite_wait)) != 0 ||
	    (err = floor_curve(w, reps, &out->curve)) != 0 ||
	    (err = floor_tcp(w, reps, &out->tcp)) != 0)
		return err;
	out->total = out->clear + out->sqlite + out->curve;
	return 0;
}
