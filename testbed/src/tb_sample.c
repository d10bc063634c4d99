/* tb_sample.c: what `raas testbed run` measures each second, from sources independent of one
 * another: the tenant's board (what nom-priced was told by the market), the tc class's byte
 * counter on the host's uplink (what the kernel really sent), the app's log (its W), and the
 * load generator's interval lines (what the client saw). */

#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <sqlite3.h>

#include "bb/bb.h"
#include "bb/bb_layout.h"
#include "tb_sample.h"

#define MAX_SECONDS 86400

struct tb_samples {
	struct tb_state *st;
	struct tb_sample *s; /* [sec * ntenants + tenant] */
	int nsec;            /* seconds taken */
	int cap;
	int64_t last_bytes[TB_MAX_TENANTS];
	int64_t last_over[TB_MAX_TENANTS];
	int64_t last_ns[TB_MAX_TENANTS];
	int carried[TB_MAX_TENANTS]; /* seconds since last_ns whose reads came too close */
	money_t value[TB_MAX_TENANTS]; /* value so far (tb_second_value), for the progress line */
};

/* A rate is taken over at least this long: when the run's loop falls behind and catches up,
 * samples come a few ms apart, and a counter read a few ms off its timestamp then reads as
 * many times the class's rate. A shorter interval carries on into the next second's, and
 * that second's rate is its too (so the seconds' rates still add up to the bytes sent). */
#define MIN_INTERVAL_NS 500000000LL

int tb_samples_create(struct tb_state *st, struct tb_samples **out)
{
	struct tb_samples *sm = calloc(1, sizeof(*sm));
	if (!sm)
		return -ENOMEM;
	sm->st = st;
	*out = sm;
	return 0;
}

const struct tb_sample *tb_samples_rows(const struct tb_samples *sm, int *nsec)
{
	*nsec = sm->nsec;
	return sm->s;
}

void tb_samples_destroy(struct tb_samples *sm)
{
	if (!sm)
		return;
	free(sm->s);
	free(sm);
}

/* json_num: the number after "key": in a JSON line, or NAN. */
static double json_num(const char *line, const char *key)
{
	char pat[64];
	snprintf(pat, sizeof(pat), "\"%s\":", key);
	const char *p = strstr(line, pat);
	if (!p)
		return NAN;
	p += strlen(pat);
	while (*p == ' ')
		p++;
	char *end;
	double v = strtod(p, &end);
	return end == p ? NAN : v;
}

/* last_line_with: the last line of file holding needle (in buf), reading only its tail. */
static bool last_line_with(const char *file, const char *needle, char *buf, size_t len)
{
	FILE *f = fopen(file, "r");
	static char tail[65536];
	bool found = false;

	if (!f)
		return false;
	fseek(f, 0, SEEK_END);
	long size = ftell(f);
	long from = size > (long)sizeof(tail) - 1 ? size - (long)sizeof(tail) + 1 : 0;
	fseek(f, from, SEEK_SET);
	size_t n = fread(tail, 1, sizeof(tail) - 1, f);
	fclose(f);
	tail[n] = 0;
	for (char *line = strtok(tail, "\n"); line; line = strtok(NULL, "\n"))
		if (strstr(line, needle)) {
			snprintf(buf, len, "%s", line);
			found = true;
		}
	return found;
}

/* tc_counters: the Sent and overlimits counters of every class on the host's uplink, by
 * class minor; returns when tc's dump reached us (the counters' time: tc writes its output
 * when it has read them all), 0 if it gave nothing. HTB counts an overlimit each time a class
 * wanted to send and its bucket was empty: a class shaped at its rate counts many a second,
 * one its client cannot fill counts none. */
static int64_t tc_counters(struct tb_state *st, int h, int64_t *by_minor, int64_t *over_minor,
			   int nminor)
{
	char cmd[256], line[512];
	int64_t at = 0;
	snprintf(cmd, sizeof(cmd), "ip netns exec tb-%s-%s tc -s class show dev up0 2>/dev/null",
		 st->tb->name, st->tb->hosts[h].name);
	FILE *p = popen(cmd, "r");
	int cur = -1;
	if (!p)
		return 0;
	while (fgets(line, sizeof(line), p)) {
		unsigned major, minor;
		long long bytes, over;
		if (!at)
			at = tb_now();
		if (sscanf(line, "class %*s %x:%x", &major, &minor) == 2)
			cur = (int)minor;
		else if (sscanf(line, " Sent %lld bytes %*d pkt (dropped %*d, overlimits %lld", &bytes,
				&over) == 2 &&
			 cur >= 0 && cur < nminor) {
			by_minor[cur] = bytes;
			over_minor[cur] = over;
			cur = -1;
		}
	}
	if (pclose(p) != 0)
		return 0;
	return at;
}

/* link_bound: the most Mbit/s a class on host h can send: what the host sells, or more if an
 * event raises a supply there. 0: no bound known. */
static int64_t link_bound(const struct testbed *tb, int h)
{
	int64_t m = tb->hosts[h].bandwidth_mbit;
	for (int e = 0; e < tb->nevents; e++)
		if (tb->events[e].kind == TB_EV_SUPPLY && tb->events[e].host == h &&
		    tb->events[e].supply > m)
			m = tb->events[e].supply;
	return m;
}

/* in_procs: pid is listed in dir's cgroup.procs. */
static bool in_procs(const char *dir, pid_t pid)
{
	char path[700], line[64];
	bool found = false;
	snprintf(path, sizeof(path), "%s/cgroup.procs", dir);
	FILE *f = fopen(path, "r");
	while (f && !found && fgets(line, sizeof(line), f))
		found = atoi(line) == pid;
	if (f)
		fclose(f);
	return found;
}

/* cgroup_state: what the kernel enforces on the tenant's cpuset and memory groups, where
 * its host sells cores or memory, and whether its app is in them. */
static void cgroup_state(struct tb_state *st, int t, struct tb_sample *x)
{
	const struct testbed *tb = st->tb;
	const struct tb_host *h = &tb->hosts[tb->tenants[t].host];
	char dir[600], path[700];
	bool in = true;

	x->cpus[0] = 0;
	x->mem_limit = -1;
	x->in_cgroup = -1;
	if (!h->cores && !h->memory_mib)
		return;
	if (h->cores) {
		tb_cg_dir(st, "cpuset", tb->tenants[t].host, t, dir, sizeof(dir));
		snprintf(path, sizeof(path), "%s/cpuset.cpus", dir);
		FILE *f = fopen(path, "r");
		if (f && fgets(x->cpus, sizeof(x->cpus), f))
			x->cpus[strcspn(x->cpus, "\n")] = 0;
		if (f)
			fclose(f);
		in = in && st->app[t] > 0 && in_procs(dir, st->app[t]);
	}
	if (h->memory_mib) {
		char buf[64] = "";
		tb_cg_dir(st, "memory", tb->tenants[t].host, t, dir, sizeof(dir));
		snprintf(path, sizeof(path), "%s/memory.limit_in_bytes", dir);
		FILE *f = fopen(path, "r");
		if (f && fgets(buf, sizeof(buf), f))
			x->mem_limit = strtoll(buf, NULL, 10);
		if (f)
			fclose(f);
		in = in && st->app[t] > 0 && in_procs(dir, st->app[t]);
	}
	x->in_cgroup = in;
}

void tb_samples_take(struct tb_samples *sm, int sec)
{
	struct tb_state *st = sm->st;
	const struct testbed *tb = st->tb;
	static int64_t minor_bytes[TB_MAX_HOSTS][0x10 * (TB_MAX_TENANTS + 1)];
	static int64_t minor_over[TB_MAX_HOSTS][0x10 * (TB_MAX_TENANTS + 1)];
	int64_t read_ns[TB_MAX_HOSTS] = {0};
	char path[700], line[4096];

	if (sm->nsec >= MAX_SECONDS)
		return;
	if (sm->nsec == sm->cap) {
		int cap = sm->cap ? sm->cap * 2 : 64;
		struct tb_sample *s = realloc(sm->s, (size_t)cap * (size_t)tb->ntenants * sizeof(*s));
		if (!s)
			return;
		sm->s = s;
		sm->cap = cap;
	}
	for (int h = 0; h < tb->nhosts; h++) {
		memset(minor_bytes[h], 0xff, sizeof(minor_bytes[h]));
		memset(minor_over[h], 0xff, sizeof(minor_over[h]));
		if (st->host_up[h])
			read_ns[h] = tc_counters(st, h, minor_bytes[h], minor_over[h],
						 0x10 * (TB_MAX_TENANTS + 1));
	}
	for (int t = 0; t < tb->ntenants; t++) {
		const struct tb_tenant *tn = &tb->tenants[t];
		struct tb_sample *x = &sm->s[sm->nsec * tb->ntenants + t];
		memset(x, 0, sizeof(*x));
		x->sec = sec;
		x->tenant = t;
		x->up = st->tenant_up[t];
		x->delay_us = -1;
		x->rps = x->mean_us = x->jitter_us = x->p99_us = NAN;
		char inst[64];
		struct bb_reader *r;
		snprintf(inst, sizeof(inst), "tb-%s-%s", tb->name, tn->name);
		if (bb_reader_open(inst, &r) == 0) {
			static struct bb_body body;
			if (bb_snapshot(r, &body, NULL) == 0) {
				x->charged = body.state.charged_total;
				x->round = body.state.round;
				for (unsigned i = 0; i < BB_MAX_PRICES; i++)
					if (body.prices[i].resource == BB_RES_BANDWIDTH &&
					    strcmp(body.prices[i].host, tb->hosts[tn->host].name) == 0)
						x->price = body.prices[i].unit_price;
				for (unsigned i = 0; i < BB_MAX_HOLDINGS; i++) {
					const struct bb_holding *hd = &body.holdings[i];
					if (hd->resource == BB_RES_BANDWIDTH)
						x->holding_mbit += hd->quantity;
					else if (hd->resource == BB_RES_CORES &&
						 strcmp(hd->host, tb->hosts[tn->host].name) == 0)
						x->cores += hd->quantity;
					else if (hd->resource == BB_RES_MEMORY &&
						 strcmp(hd->host, tb->hosts[tn->host].name) == 0)
						x->memory_mib += hd->quantity;
				}
			}
			bb_reader_close(r);
		}
		cgroup_state(st, t, x);
		int64_t b = minor_bytes[tn->host][0x10 * tn->index];
		int64_t o = minor_over[tn->host][0x10 * tn->index];
		int64_t now = read_ns[tn->host];
		x->sent_mbit = NAN;
		x->overlimits = -1;
		if (b >= 0 && now) {
			x->bytes_sent = b;
			int64_t dt = now - sm->last_ns[t];
			if (!sm->last_ns[t] || b < sm->last_bytes[t] || o < sm->last_over[t]) {
				/* First reading, or the class was re-created (its counters restart):
				 * no rate this second, the next is measured from here. */
				sm->last_bytes[t] = b;
				sm->last_over[t] = o;
				sm->last_ns[t] = now;
				sm->carried[t] = 0;
			} else if (dt < MIN_INTERVAL_NS) {
				sm->carried[t]++;
			} else {
				double mbit = (double)(b - sm->last_bytes[t]) * 8e3 / (double)dt;
				int64_t bound = link_bound(tb, tn->host);
				/* More than the host's link can carry (with HTB's burst and the read's
				 * jitter) is a misreading, kept as unknown rather than as a rate. */
				if (!bound || mbit <= 1.5 * (double)bound + 10) {
					x->sent_mbit = mbit;
					x->overlimits = o - sm->last_over[t];
					for (int k = 1; k <= sm->carried[t] && k <= sm->nsec; k++) {
						struct tb_sample *y =
							&sm->s[(sm->nsec - k) * tb->ntenants + t];
						y->sent_mbit = x->sent_mbit;
						y->overlimits = x->overlimits;
						sm->value[t] += tb_second_value(tn, y);
					}
				}
				sm->carried[t] = 0;
				sm->last_bytes[t] = b;
				sm->last_over[t] = o;
				sm->last_ns[t] = now;
			}
		} else {
			sm->carried[t] = 0; /* a second without a reading is not back-filled */
		}
		snprintf(path, sizeof(path), "%s/app-%s.log", st->dir, tn->name);
		if (last_line_with(path, "\"pick\"", line, sizeof(line))) {
			double w = json_num(line, "delay_us");
			if (!isnan(w))
				x->delay_us = (int64_t)w;
		}
		snprintf(path, sizeof(path), "%s/load-%s.log", st->dir, tn->name);
		if (tn->load == TB_LOAD_NOM_LOADGEN &&
		    last_line_with(path, "\"t_s\"", line, sizeof(line))) {
			x->rps = json_num(line, "rps");
			x->mean_us = json_num(line, "mean_us");
			x->jitter_us = json_num(line, "jitter_us");
			x->p99_us = json_num(line, "p99_us");
		}
	}
	for (int t = 0; t < tb->ntenants; t++)
		sm->value[t] += tb_second_value(&tb->tenants[t], &sm->s[sm->nsec * tb->ntenants + t]);
	sm->nsec++;
}

void tb_samples_progress(struct tb_samples *sm, int sec, int64_t total_s)
{
	const struct testbed *tb = sm->st->tb;
	char line[2048];
	int n = snprintf(line, sizeof(line), "\r[%3ds, %3llds left", sec,
			 (long long)(total_s - sec > 0 ? total_s - sec : 0));
	/* The load phase of the first tenant that is up (its phases count from its join). */
	for (int t = 0; t < tb->ntenants; t++) {
		const struct tb_tenant *tn = &tb->tenants[t];
		int64_t at = (int64_t)sec * 1000000000LL - tn->join_ns, end = 0;
		if (!sm->st->tenant_up[t] || at < 0)
			continue;
		int k = 0;
		while (k < tn->nphases - 1 && at >= (end += tn->phases[k].duration_ns))
			k++;
		n += snprintf(line + n, sizeof(line) - (size_t)n, ", phase %d/%d: %d conn%s", k + 1,
			      tn->nphases, tn->phases[k].conns, tn->phases[k].conns == 1 ? "" : "s");
		break;
	}
	n += snprintf(line + n, sizeof(line) - (size_t)n, "]");
	if (sm->nsec > 0) {
		const struct tb_sample *row = &sm->s[(sm->nsec - 1) * tb->ntenants];
		for (int t = 0; t < tb->ntenants && n < (int)sizeof(line) - 80; t++) {
			const struct tb_sample *x = &row[t];
			if (!x->up) {
				n += snprintf(line + n, sizeof(line) - (size_t)n, " %s: -",
					      tb->tenants[t].name);
				continue;
			}
			/* Per Mbit/s-hour / 3.6 = per Gbit. */
			n += snprintf(line + n, sizeof(line) - (size_t)n,
				      " %s: $%.2f/Gbit W=%lld %lldMbit spent $%.4f profit $%.2f",
				      tb->tenants[t].name, (double)x->price / 3.6e9,
				      (long long)x->delay_us, (long long)x->holding_mbit,
				      (double)x->charged / 1e9,
				      (double)(sm->value[t] - x->charged) / 1e9);
		}
	}
	fputs(line, stderr);
	fputs("\033[K", stderr);
	fflush(stderr);
}

/* events: the timeline's events as the file gave them and as carried out (done_s on the
 * run's clock, NULL if the run ended first; rc 0 or -errno). */
static int write_events(struct tb_state *st, sqlite3 *db)
{
	static const char *const kinds[] = {"host-fail", "supply", "price"};
	const struct testbed *tb = st->tb;
	sqlite3_stmt *q = NULL;
	int rc = -EIO;

	if (sqlite3_exec(db,
			 "CREATE TABLE events(variant TEXT, event TEXT, at_s REAL, done_s REAL,"
			 " action TEXT, host TEXT, resource TEXT, supply INTEGER, model TEXT,"
			 " params TEXT, rc INTEGER);",
			 NULL, NULL, NULL) != SQLITE_OK ||
	    sqlite3_prepare_v2(db, "INSERT INTO events VALUES('',?,?,?,?,?,?,?,?,?,?)", -1, &q,
			       NULL) != SQLITE_OK)
		goto out;
	for (int i = 0; i < tb->nevents; i++) {
		const struct tb_event *e = &tb->events[i];
		sqlite3_bind_text(q, 1, e->name, -1, SQLITE_STATIC);
		sqlite3_bind_double(q, 2, (double)e->at_ns / 1e9);
		if (st->event_done_ns[i] >= 0)
			sqlite3_bind_double(q, 3, (double)st->event_done_ns[i] / 1e9);
		sqlite3_bind_text(q, 4, kinds[e->kind], -1, SQLITE_STATIC);
		if (e->host >= 0)
			sqlite3_bind_text(q, 5, tb->hosts[e->host].name, -1, SQLITE_STATIC);
		if (e->resource >= 0)
			sqlite3_bind_text(q, 6, tb->resources[e->resource].name, -1, SQLITE_STATIC);
		if (e->kind == TB_EV_SUPPLY)
			sqlite3_bind_int64(q, 7, e->supply);
		if (e->kind == TB_EV_PRICE) {
			sqlite3_bind_text(q, 8, e->model, -1, SQLITE_STATIC);
			sqlite3_bind_text(q, 9, e->params, -1, SQLITE_STATIC);
		}
		if (st->event_done_ns[i] >= 0)
			sqlite3_bind_int(q, 10, st->event_rc[i]);
		if (sqlite3_step(q) != SQLITE_DONE)
			goto out;
		sqlite3_reset(q);
		sqlite3_clear_bindings(q);
	}
	rc = 0;
out:
	sqlite3_finalize(q);
	return rc;
}

/* The run file so far: meta (scenario text, seed, version, name, duration_ns, round_ns,
 * hosts) as raas-sim writes it, and tenant_seconds, one row per tenant per second. Written
 * to PATH.tmp and renamed, as raas-sim does. */
static int write_seconds(struct tb_samples *sm, const char *tmp)
{
	const struct testbed *tb = sm->st->tb;
	char num[64];
	sqlite3 *db = NULL;
	sqlite3_stmt *ins = NULL, *meta = NULL;
	int rc = -EIO;

	if (sqlite3_open(tmp, &db) != SQLITE_OK)
		goto out;
	if (sqlite3_exec(db,
			 "BEGIN;"
			 "CREATE TABLE tenant_seconds(variant TEXT, t_s INTEGER, tenant TEXT,"
			 " host TEXT, app TEXT, strategy TEXT, up INTEGER, round INTEGER,"
			 " price INTEGER, holding INTEGER, charged INTEGER, bytes_sent INTEGER,"
			 " sent_mbit REAL, delay_us INTEGER, tput_rps REAL, mean_us REAL,"
			 " jitter_us REAL, p99_us REAL, cores INTEGER, memory_mib INTEGER,"
			 " cpus TEXT, mem_limit INTEGER, in_cgroup INTEGER, value INTEGER,"
			 " overlimits INTEGER);",
			 NULL, NULL, NULL) != SQLITE_OK)
		goto out;
	if (sqlite3_prepare_v2(db, "INSERT OR REPLACE INTO meta VALUES('', ?, ?)", -1, &meta,
			       NULL) ||
	    sqlite3_prepare_v2(db,
			       "INSERT INTO tenant_seconds VALUES('',?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,"
			       "?,?,?,?,?,?,?,?,?)",
			       -1, &ins, NULL))
		goto out;
	struct {
		const char *k;
		const char *v;
	} kv[7] = {{"scenario", tb->text}, {"name", tb->name}, {"version", "raas-testbed 1"},
		   {"source", "testbed (live)"}};
	char seed[32], dur[32], round[32], hosts[16];
	snprintf(seed, sizeof(seed), "%llu", (unsigned long long)tb->seed);
	snprintf(dur, sizeof(dur), "%lld", (long long)tb->duration_ns);
	snprintf(round, sizeof(round), "%lld", (long long)tb->round_ns);
	snprintf(hosts, sizeof(hosts), "%d", tb->nhosts);
	kv[4].k = "seed", kv[4].v = seed;
	kv[5].k = "duration_ns", kv[5].v = dur;
	kv[6].k = "round_ns", kv[6].v = round;
	for (int i = 0; i < 7; i++) {
		sqlite3_bind_text(meta, 1, kv[i].k, -1, SQLITE_STATIC);
		sqlite3_bind_text(meta, 2, kv[i].v, -1, SQLITE_STATIC);
		if (sqlite3_step(meta) != SQLITE_DONE)
			goto out;
		sqlite3_reset(meta);
	}
	sqlite3_bind_text(meta, 1, "hosts", -1, SQLITE_STATIC);
	sqlite3_bind_text(meta, 2, hosts, -1, SQLITE_STATIC);
	if (sqlite3_step(meta) != SQLITE_DONE)
		goto out;
	for (int i = 0; i < sm->nsec * tb->ntenants; i++) {
		const struct tb_sample *x = &sm->s[i];
		const struct tb_tenant *tn = &tb->tenants[x->tenant];
		int c = 1;
		sqlite3_bind_int(ins, c++, x->sec);
		sqlite3_bind_text(ins, c++, tn->name, -1, SQLITE_STATIC);
		sqlite3_bind_text(ins, c++, tb->hosts[tn->host].name, -1, SQLITE_STATIC);
		sqlite3_bind_text(ins, c++, tb_app_name(tn->app), -1, SQLITE_STATIC);
		sqlite3_bind_text(ins, c++, tb_strategy_name(tn->strategy), -1, SQLITE_STATIC);
		sqlite3_bind_int(ins, c++, x->up);
		sqlite3_bind_int64(ins, c++, (sqlite3_int64)x->round);
		sqlite3_bind_int64(ins, c++, x->price);
		sqlite3_bind_int64(ins, c++, x->holding_mbit);
		sqlite3_bind_int64(ins, c++, x->charged);
		sqlite3_bind_int64(ins, c++, x->bytes_sent);
		if (!isnan(x->sent_mbit))
			sqlite3_bind_double(ins, c, x->sent_mbit);
		c++;
		if (x->delay_us >= 0)
			sqlite3_bind_int64(ins, c, x->delay_us);
		c++;
		double m[4] = {x->rps, x->mean_us, x->jitter_us, x->p99_us};
		for (int k = 0; k < 4; k++, c++)
			if (!isnan(m[k]))
				sqlite3_bind_double(ins, c, m[k]);
		sqlite3_bind_int64(ins, c++, x->cores);
		sqlite3_bind_int64(ins, c++, x->memory_mib);
		if (x->cpus[0])
			sqlite3_bind_text(ins, c, x->cpus, -1, SQLITE_TRANSIENT);
		c++;
		if (x->mem_limit >= 0)
			sqlite3_bind_int64(ins, c, x->mem_limit);
		c++;
		if (x->in_cgroup >= 0)
			sqlite3_bind_int(ins, c, x->in_cgroup);
		c++;
		/* What the second was worth (the classes' value is these summed). */
		sqlite3_bind_int64(ins, c++, tb_second_value(tn, x));
		if (x->overlimits >= 0)
			sqlite3_bind_int64(ins, c, x->overlimits);
		c++;
		if (sqlite3_step(ins) != SQLITE_DONE)
			goto out;
		sqlite3_reset(ins);
		sqlite3_clear_bindings(ins);
	}
	if (write_events(sm->st, db) != 0)
		goto out;
	if (sqlite3_exec(db, "COMMIT", NULL, NULL, NULL) != SQLITE_OK)
		goto out;
	rc = 0;
	(void)num;
out:
	if (rc)
		fprintf(stderr, "raas testbed: --out %s: %s\n", tmp,
			db ? sqlite3_errmsg(db) : "cannot open");
	sqlite3_finalize(ins);
	sqlite3_finalize(meta);
	sqlite3_close(db);
	return rc;
}

int tb_samples_write(struct tb_samples *sm, const char *path, const char *ledger)
{
	char tmp[700];
	int rc;

	snprintf(tmp, sizeof(tmp), "%s.live", path);
	unlink(tmp);
	/* raas-sim's tables through raas-sim's own writer (it renames onto tmp), then ours. */
	if ((rc = tb_runfile_sim_tables(sm->st, sm, tmp, ledger)) != 0 ||
	    (rc = write_seconds(sm, tmp)) != 0) {
		unlink(tmp);
		return rc;
	}
	if (rename(tmp, path) != 0) {
		rc = -errno;
		unlink(tmp);
	}
	return rc;
}
