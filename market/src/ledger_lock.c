/* ledger_lock.c: one market per ledger (the lock and the owner's identity) and online
 * backups.
 *
 * Two markets on one ledger would each believe they own the books: both acknowledge bids,
 * both write rounds ("round 603 written after round 603"), and what one sold the other never
 * saw. So raas-marketd takes a POSIX write lock on LEDGER.lock before it opens the ledger for
 * writing and keeps it while it runs; the kernel frees it when the process dies, so a crash
 * never leaves a stale lock. fcntl(F_GETLK) tells a second market the holder's pid, and the
 * meta table says which endpoints that market serves. The CLI's registry commands do not
 * take the lock (SQLite's own locking orders their writes with the market's); the commands
 * that must not race a market (an offline tenant removal) probe it and hold it meanwhile.
 *
 * Backups use SQLite's online backup API: pages are copied in steps while the market keeps
 * writing, and a write that lands in between makes the backup start over, so the copy is
 * one consistent snapshot. */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "common/error.h"
#include "ledger_internal.h"

static void lock_path(const char *path, char *out, size_t len)
{
	snprintf(out, len, "%s.lock", path);
}

static int get_holder(int fd, long *holder)
{
	struct flock fl = {.l_type = F_WRLCK, .l_whence = SEEK_SET, .l_start = 0, .l_len = 0};

	if (fcntl(fd, F_GETLK, &fl) != 0)
		return -errno;
	if (fl.l_type == F_UNLCK)
		return 0;
	if (holder)
		*holder = (long)fl.l_pid;
	return -EBUSY;
}

int ledger_lock(const char *path, int wait_ms, int *fd, long *holder, char *why,
		size_t why_len)
{
	char lp[1100];
	struct flock fl = {.l_type = F_WRLCK, .l_whence = SEEK_SET, .l_start = 0, .l_len = 0};
	int waited = 0, f;

	*fd = -1;
	if (strcmp(path, ":memory:") == 0)
		return 0;
	lock_path(path, lp, sizeof(lp));
	f = open(lp, O_RDWR | O_CREAT | O_CLOEXEC, 0600);
	if (f < 0) {
		int err = -errno;
		snprintf(why, why_len, "%s: cannot open the ledger's lock file: %s", lp,
			 strerror(errno));
		return err;
	}
	while (fcntl(f, F_SETLK, &fl) != 0) {
		if (errno != EACCES && errno != EAGAIN) {
			int err = -errno;
			snprintf(why, why_len, "%s: cannot lock: %s", lp, strerror(errno));
			close(f);
			return err;
		}
		if (waited >= wait_ms) {
			long pid = 0;
			get_holder(f, &pid);
			if (holder)
				*holder = pid;
			snprintf(why, why_len, "%s is locked by process %ld", lp, pid);
			close(f);
			return -EBUSY;
		}
		struct timespec ts = {0, 50 * 1000 * 1000};
		nanosleep(&ts, NULL);
		waited += 50;
	}
	/* The lock file also says who holds it, for people who look. */
	char text[64];
	int n = snprintf(text, sizeof(text), "%ld\n", (long)getpid());
	if (ftruncate(f, 0) != 0 || pwrite(f, text, (size_t)n, 0) != n) {
		/* The lock is what matters; the text is a courtesy. */
	}
	*fd = f;
	return 0;
}

int ledger_lock_probe(const char *path, long *holder)
{
	char lp[1100];
	int f, err;

	if (strcmp(path, ":memory:") == 0)
		return 0;
	lock_path(path, lp, sizeof(lp));
	f = open(lp, O_RDONLY | O_CLOEXEC);
	if (f < 0)
		return errno == ENOENT ? 0 : -errno;
	err = get_holder(f, holder);
	close(f);
	return err;
}

void ledger_unlock(int fd)
{
	if (fd >= 0)
		close(fd); /* closing the descriptor releases the POSIX lock */
}

/* ---- The owner's identity (meta keys market_*) ---- */

int ledger_owner_record(struct ledger *l, const struct ledger_owner *o)
{
	bool own = !l->in_batch;
	int err = own ? ledger_begin(l) : 0;

	if (err)
		return err;
	if (!err)
		err = ledger_meta_set_int(l, "market_pid", o->pid);
	if (!err)
		err = ledger_meta_set(l, "market_hostname", o->hostname);
	if (!err)
		err = ledger_meta_set(l, "market_tenant_endpoint", o->tenant_endpoint);
	if (!err)
		err = ledger_meta_set(l, "market_price_endpoint", o->price_endpoint);
	if (!err)
		err = ledger_meta_set(l, "market_host_endpoint", o->host_endpoint);
	if (!err)
		err = ledger_meta_set_int(l, "market_started_wall_ns", o->started_wall_ns);
	if (own) {
		if (!err)
			err = ledger_commit(l);
		if (err)
			ledger_rollback(l);
	}
	return err;
}

int ledger_owner_read(struct ledger *l, struct ledger_owner *o)
{
	int64_t pid = 0;
	int err;

	memset(o, 0, sizeof(*o));
	if ((err = ledger_meta_get_int(l, "market_pid", &pid)) != 0)
		return err;
	o->pid = (long)pid;
	ledger_meta_get(l, "market_hostname", o->hostname, sizeof(o->hostname));
	ledger_meta_get(l, "market_tenant_endpoint", o->tenant_endpoint, sizeof(o->tenant_endpoint));
	ledger_meta_get(l, "market_price_endpoint", o->price_endpoint, sizeof(o->price_endpoint));
	ledger_meta_get(l, "market_host_endpoint", o->host_endpoint, sizeof(o->host_endpoint));
	ledger_meta_get_int(l, "market_started_wall_ns", &o->started_wall_ns);
	return 0;
}

/* ---- Online backup ---- */

int ledger_backup(struct ledger *l, const char *dest, int *pages, char *why, size_t why_len)
{
	char tmp[1100];
	sqlite3 *out = NULL;
	sqlite3_backup *b;
	int rc, err = 0;

	if (access(dest, F_OK) == 0) {
		snprintf(why, why_len, "%s exists; give a new file", dest);
		return -EEXIST;
	}
	snprintf(tmp, sizeof(tmp), "%s.tmp", dest);
	unlink(tmp);
	rc = sqlite3_open_v2(tmp, &out, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE, NULL);
	if (rc != SQLITE_OK) {
		snprintf(why, why_len, "%s: %s", tmp, out ? sqlite3_errmsg(out) : sqlite3_errstr(rc));
		sqlite3_close(out);
		return -EIO;
	}
	b = sqlite3_backup_init(out, "main", l->db, "main");
	if (!b) {
		snprintf(why, why_len, "%s: cannot start the backup: %s", tmp, sqlite3_errmsg(out));
		sqlite3_close(out);
		unlink(tmp);
		return -EIO;
	}
	/* A few hundred pages at a time, so the market's writes get through in between. */
	do {
		rc = sqlite3_backup_step(b, 256);
		if (rc == SQLITE_BUSY || rc == SQLITE_LOCKED) {
			struct timespec ts = {0, 5 * 1000 * 1000};
			nanosleep(&ts, NULL);
		}
	} while (rc == SQLITE_OK || rc == SQLITE_BUSY || rc == SQLITE_LOCKED);
	if (pages)
		*pages = sqlite3_backup_pagecount(b);
	sqlite3_backup_finish(b);
	if (rc != SQLITE_DONE) {
		snprintf(why, why_len, "backup to %s failed: %s", tmp, sqlite3_errstr(rc));
		err = -EIO;
	}
	/* The copy is a rollback-journal database of its own; check it before naming it. */
	if (!err) {
		sqlite3_stmt *s;
		if (sqlite3_prepare_v2(out, "PRAGMA quick_check", -1, &s, NULL) == SQLITE_OK &&
		    sqlite3_step(s) == SQLITE_ROW) {
			const unsigned char *t = sqlite3_column_text(s, 0);
			if (!t || strcmp((const char *)t, "ok") != 0) {
				snprintf(why, why_len, "the copy fails quick_check: %s",
					 t ? (const char *)t : "?");
				err = -EIO;
			}
		}
		sqlite3_finalize(s);
	}
	if (sqlite3_close(out) != SQLITE_OK && !err) {
		snprintf(why, why_len, "closing %s failed", tmp);
		err = -EIO;
	}
	if (!err && rename(tmp, dest) != 0) {
		err = -errno;
		snprintf(why, why_len, "renaming %s to %s: %s", tmp, dest, strerror(errno));
	}
	if (err)
		unlink(tmp);
	return err;
}
