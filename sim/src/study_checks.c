/* study_checks.c: VCG's welfare is the optimum; uniform price earns at least the reserve
 * (study_checks.h), checked on the rounds a study recorded.
 *
 * The checks read only what the runs wrote (the recorded bids, their outcomes, each run's
 * configuration) and recompute the optimum by methods that share nothing with the
 * mechanisms' code: a dynamic program over every bidder's every quantity, and on small
 * instances plain enumeration of every allocation vector. */
#include <errno.h>
#include <inttypes.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include "common/money.h"
#include "pricing/pm.h"
#include "study_checks.h"

#define MAX_SEG 64
#define SMALL_BIDDERS 6
#define SMALL_UNITS 10
#define DP_LIMIT 3000000.0 /* cells x options past which a clearing is not re-optimized */

struct bid {
	int64_t bidder, min, max, quantity;
	money_t price, payment;
	struct pm_segment curve[MAX_SEG];
	size_t ncurve;
};

/* The models and reserves of one run's resources, from its effective configuration. */
struct run_models {
	int64_t run;
	char variant[64];
	char model[8][32];
	money_t reserve[8];
	char resource[8][16];
	size_t n;
};

static bool parse_curve(const char *text, struct pm_segment *segs, size_t *n)
{
	*n = 0;
	while (text && *text) {
		long long q, v;
		int used;
		if (*n == MAX_SEG || sscanf(text, "%lld@%lld%n", &q, &v, &used) != 2)
			return false;
		segs[(*n)++] = (struct pm_segment){.quantity = q, .unit_value = v};
		text += used;
		while (*text == ' ')
			text++;
	}
	return true;
}

static void to_pm_bid(const struct bid *b, struct pm_bid *out)
{
	memset(out, 0, sizeof(*out));
	out->bidder = (uint64_t)b->bidder;
	out->min_quantity = b->min;
	out->max_quantity = b->max;
	out->unit_price = b->price;
	out->curve = b->ncurve ? b->curve : NULL;
	out->ncurve = b->ncurve;
}

static money_t value_of(const struct bid *b, int64_t q)
{
	struct pm_bid pb;
	to_pm_bid(b, &pb);
	return pm_bid_value(&pb, q);
}

/* The reserve parameter of a model's parameter text (or the model's default). */
static money_t reserve_of(const char *model, const char *params)
{
	struct pm_param p[64];
	char *storage = NULL;
	struct pm_error err;
	const char *text = NULL;
	money_t r = 0;

	int n = pm_params_parse(params, p, 64, &storage, &err);
	for (int i = 0; i < n; i++)
		if (strcmp(p[i].name, "reserve") == 0)
			text = p[i].value;
	const struct pm_model *m = pm_find(model);
	for (size_t i = 0; !text && m && i < m->nparams; i++)
		if (strcmp(m->params[i].name, "reserve") == 0)
			text = m->params[i].default_value;
	if (text && money_parse(text, &r, NULL))
		r = 0;
	free(storage);
	return r;
}

/* Reads [resource.R] model and params from a cfg_dump text. */
static void parse_config(const char *cfg, struct run_models *rm)
{
	char section[64] = "";
	const char *line = cfg;

	rm->n = 0;
	while (line && *line) {
		const char *end = strchr(line, '\n');
		size_t len = end ? (size_t)(end - line) : strlen(line);
		char buf[2048];
		snprintf(buf, sizeof(buf), "%.*s", (int)(len < sizeof(buf) - 1 ? len : sizeof(buf) - 1),
			 line);
		if (buf[0] == '[') {
			char *close = strchr(buf, ']');
			if (close)
				*close = '\0';
			snprintf(section, sizeof(section), "%.63s", buf + 1);
		} else if (strncmp(section, "resource.", 9) == 0) {
			const char *res = section + 9;
			size_t k = 0;
			while (k < rm->n && strcmp(rm->resource[k], res) != 0)
				k++;
			if (k == rm->n && rm->n < 8) {
				snprintf(rm->resource[k], sizeof(rm->resource[k]), "%.15s", res);
				rm->model[k][0] = '\0';
				rm->reserve[k] = 0;
				rm->n++;
			}
			if (k < rm->n && strncmp(buf, "model = ", 8) == 0)
				snprintf(rm->model[k], sizeof(rm->model[k]), "%.31s", buf + 8);
			else if (k < rm->n && strncmp(buf, "params = ", 9) == 0)
				rm->reserve[k] = reserve_of(rm->model[k], buf + 9);
		}
		line = end ? end + 1 : NULL;
	}
}

static int load_models(sqlite3 *db, int64_t run, const char *variant, struct run_models *rm)
{
	sqlite3_stmt *st;
	int rc = -ENOENT;

	if (sqlite3_prepare_v2(db,
			       "SELECT value FROM study_run_meta WHERE run = ? AND variant = ? AND"
			       " key = 'config'",
			       -1, &st, NULL) != SQLITE_OK)
		return -EIO;
	sqlite3_bind_int64(st, 1, run);
	sqlite3_bind_text(st, 2, variant, -1, SQLITE_TRANSIENT);
	if (sqlite3_step(st) == SQLITE_ROW) {
		const char *cfg = (const char *)sqlite3_column_text(st, 0);
		rm->run = run;
		snprintf(rm->variant, sizeof(rm->variant), "%s", variant);
		/* cfg_dump writes model before params: reserve_of knows the model. */
		parse_config(cfg ? cfg : "", rm);
		rc = 0;
	}
	sqlite3_finalize(st);
	return rc;
}

/* Max over allocations (sum <= Q) of sum v_i(a_i) + r (Q - sum a_i): exact DP over bidders
 * and units used. */
static money_t dp_optimum(const struct bid *b, size_t n, int64_t Q, money_t r)
{
	const money_t NONE = INT64_MIN / 4;
	money_t *f = malloc((size_t)(Q + 1) * sizeof(*f)), *g = malloc((size_t)(Q + 1) * sizeof(*g));

	for (int64_t u = 0; u <= Q; u++)
		f[u] = u ? NONE : 0;
	for (size_t i = 0; i < n; i++) {
		int64_t top = b[i].max < Q ? b[i].max : Q;
		money_t *v = malloc((size_t)(top + 1) * sizeof(*v));
		for (int64_t a = 0; a <= top; a++)
			v[a] = value_of(&b[i], a);
		for (int64_t u = 0; u <= Q; u++) {
			money_t best = NONE;
			for (int64_t a = 0; a <= top && a <= u; a++)
				if (f[u - a] != NONE && f[u - a] + v[a] > best)
					best = f[u - a] + v[a];
			g[u] = best;
		}
		free(v);
		money_t *t = f;
		f = g;
		g = t;
	}
	money_t best = NONE;
	for (int64_t u = 0; u <= Q; u++)
		if (f[u] != NONE && f[u] + r * (Q - u) > best)
			best = f[u] + r * (Q - u);
	free(f);
	free(g);
	return best;
}

/* Plain enumeration of every allocation vector of at most Q units. */
static void enumerate(const struct bid *b, size_t n, size_t i, int64_t left, money_t acc,
		      int64_t Q, money_t r, money_t *best, uint64_t *visited)
{
	if (i == n) {
		money_t w = acc + r * left;
		(*visited)++;
		if (w > *best)
			*best = w;
		(void)Q;
		return;
	}
	int64_t top = b[i].max < left ? b[i].max : left;
	for (int64_t a = 0; a <= top; a++)
		enumerate(b, n, i + 1, left - a, acc + value_of(&b[i], a), Q, r, best, visited);
}

/* VCG afresh on the first bidders and a few units, against enumeration. */
static int small_instance(const struct bid *b, size_t n, int64_t Q, money_t r, bool *equal,
			  uint64_t *visited, money_t *vcg_w, money_t *brute_w)
{
	struct pm_bid pb[SMALL_BIDDERS];
	struct pm_outcome out[SMALL_BIDDERS];
	struct pm_result res = {.outcomes = out};
	struct pm_pool pool = {.supply = Q, .round = 1, .round_ns = 1};
	struct pm_instance *inst;
	struct pm_error err;
	char params[64], rtext[MONEY_TEXT_MAX];

	snprintf(params, sizeof(params), "reserve=%s", money_format(r, rtext));
	struct pm_param p[4];
	char *storage = NULL;
	int np = pm_params_parse(params, p, 4, &storage, &err);
	int rc = np < 0 ? np : pm_create("vcg", p, (size_t)np, &inst, &err);
	free(storage);
	if (rc)
		return rc;
	for (size_t i = 0; i < n; i++)
		to_pm_bid(&b[i], &pb[i]);
	memset(out, 0, sizeof(out));
	rc = pm_clear(inst, &pool, pb, n, &res, &err);
	pm_destroy(inst);
	if (rc)
		return rc;
	money_t w = 0;
	int64_t used = 0;
	for (size_t i = 0; i < n; i++) {
		w += value_of(&b[i], out[i].quantity);
		used += out[i].quantity;
	}
	w += r * (Q - used);
	money_t best = INT64_MIN;
	enumerate(b, n, 0, Q, 0, Q, r, &best, visited);
	*vcg_w = w;
	*brute_w = best;
	*equal = w == best;
	return 0;
}

struct key {
	int64_t run, round, host;
	char variant[64], resource[16];
};

static int key_cmp(const struct key *a, const struct key *b)
{
	int c;
	if (a->run != b->run)
		return a->run < b->run ? -1 : 1;
	if ((c = strcmp(a->variant, b->variant)))
		return c;
	if ((c = strcmp(a->resource, b->resource)))
		return c;
	if (a->round != b->round)
		return a->round < b->round ? -1 : 1;
	if (a->host != b->host)
		return a->host < b->host ? -1 : 1;
	return 0;
}

static void read_key(sqlite3_stmt *st, struct key *k)
{
	k->run = sqlite3_column_int64(st, 0);
	const unsigned char *v = sqlite3_column_text(st, 1);
	snprintf(k->variant, sizeof(k->variant), "%s", v ? (const char *)v : "");
	k->round = sqlite3_column_int64(st, 2);
	k->host = sqlite3_column_int64(st, 3);
	const unsigned char *r = sqlite3_column_text(st, 4);
	snprintf(k->resource, sizeof(k->resource), "%s", r ? (const char *)r : "");
}

static bool has_table(sqlite3 *db, const char *name)
{
	sqlite3_stmt *st;
	bool yes = false;
	if (sqlite3_prepare_v2(db, "SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = ?",
			       -1, &st, NULL) != SQLITE_OK)
		return false;
	sqlite3_bind_text(st, 1, name, -1, SQLITE_STATIC);
	yes = sqlite3_step(st) == SQLITE_ROW;
	sqlite3_finalize(st);
	return yes;
}

int study_checks_count(sqlite3 *db, FILE *out, struct study_check_counts *counts, char *why,
		       size_t len)
{
	struct study_check_counts c = {0};
	sqlite3_stmt *cq = NULL, *bq = NULL;
	struct run_models rm = {.run = -1};
	size_t cap = 4096, nb = 0;
	struct bid *bids = NULL;
	char first_vcg[512] = "", first_uni[512] = "", first_small[512] = "";
	uint64_t visited = 0;
	money_t min_margin = INT64_MAX;
	int rc = 0;

	if (!has_table(db, "study_clearings") || !has_table(db, "study_bids")) {
		if (out)
			fprintf(out, "Known results: not checked (the runs recorded no bids: set "
				     "[output] record_bids for the vcg and uniform levels)\n");
		if (counts)
			*counts = c;
		return 0;
	}
	if (sqlite3_prepare_v2(db,
			       "SELECT run, variant, round, host, resource, supply, price, revenue,"
			       " allocated FROM study_clearings ORDER BY run, variant, resource,"
			       " round, host",
			       -1, &cq, NULL) != SQLITE_OK ||
	    sqlite3_prepare_v2(db,
			       "SELECT run, variant, round, host, resource, bidder, min_quantity,"
			       " max_quantity, unit_price, curve, quantity, payment FROM study_bids"
			       " ORDER BY run, variant, resource, round, host, bidder",
			       -1, &bq, NULL) != SQLITE_OK) {
		snprintf(why, len, "study file: %s", sqlite3_errmsg(db));
		rc = -EIO;
		goto done;
	}
	bids = malloc(cap * sizeof(*bids));
	if (!bids) {
		snprintf(why, len, "out of memory");
		rc = -ENOMEM;
		goto done;
	}
	bool bids_left = sqlite3_step(bq) == SQLITE_ROW;
	while (sqlite3_step(cq) == SQLITE_ROW) {
		struct key k, bk;
		read_key(cq, &k);
		int64_t Q = sqlite3_column_int64(cq, 5);
		money_t price = sqlite3_column_int64(cq, 6), revenue = sqlite3_column_int64(cq, 7);
		int64_t allocated = sqlite3_column_int64(cq, 8);
		/* This clearing's bids (both queries in the same order). */
		nb = 0;
		while (bids_left) {
			read_key(bq, &bk);
			int cmp = key_cmp(&bk, &k);
			if (cmp > 0)
				break;
			if (cmp == 0 && nb < cap) {
				struct bid *b = &bids[nb];
				b->bidder = sqlite3_column_int64(bq, 5);
				b->min = sqlite3_column_int64(bq, 6);
				b->max = sqlite3_column_int64(bq, 7);
				b->price = sqlite3_column_int64(bq, 8);
				if (!parse_curve((const char *)sqlite3_column_text(bq, 9), b->curve,
						 &b->ncurve)) {
					snprintf(why, len, "study_bids: run %" PRId64 " round %" PRId64
						 ": a curve that does not read",
						 k.run, k.round);
					rc = -EINVAL;
					goto done;
				}
				b->quantity = sqlite3_column_int64(bq, 10);
				b->payment = sqlite3_column_int64(bq, 11);
				nb++;
			}
			bids_left = sqlite3_step(bq) == SQLITE_ROW;
		}
		if (rm.run != k.run || strcmp(rm.variant, k.variant) != 0) {
			if (load_models(db, k.run, k.variant, &rm)) {
				snprintf(why, len, "study_run_meta: run %" PRId64 " has no config",
					 k.run);
				rc = -EINVAL;
				goto done;
			}
		}
		size_t ri = 0;
		while (ri < rm.n && strcmp(rm.resource[ri], k.resource) != 0)
			ri++;
		if (ri == rm.n)
			continue;
		money_t r = rm.reserve[ri];
		if (strcmp(rm.model[ri], "uniform") == 0) {
			c.uniform_clearings++;
			money_t floor_rev = r * allocated;
			bool ok = price >= r && revenue >= floor_rev;
			c.uniform_ok += ok;
			if (revenue - floor_rev < min_margin)
				min_margin = revenue - floor_rev;
			if (!ok && !first_uni[0])
				snprintf(first_uni, sizeof(first_uni),
					 "run %" PRId64 " round %" PRId64 " host %" PRId64
					 " %s: price %" PRId64 ", revenue %" PRId64 " < reserve %" PRId64
					 " x %" PRId64 " units",
					 k.run, k.round, k.host, k.resource, price, revenue, r,
					 allocated);
		} else if (strcmp(rm.model[ri], "vcg") == 0) {
			c.vcg_clearings++;
			double cells = (double)nb * (double)(Q + 1) * (double)(Q + 1);
			if (cells > DP_LIMIT) {
				c.vcg_too_large++;
			} else {
				money_t w = 0;
				int64_t used = 0;
				for (size_t i = 0; i < nb; i++) {
					w += value_of(&bids[i], bids[i].quantity);
					used += bids[i].quantity;
				}
				w += r * (Q - used);
				money_t opt = dp_optimum(bids, nb, Q, r);
				c.vcg_optimal += w == opt;
				if (w != opt && !first_vcg[0])
					snprintf(first_vcg, sizeof(first_vcg),
						 "run %" PRId64 " round %" PRId64 " host %" PRId64
						 " %s: VCG's welfare %" PRId64 ", optimum %" PRId64,
						 k.run, k.round, k.host, k.resource, w, opt);
			}
			if (nb > 0) {
				size_t ns = nb < SMALL_BIDDERS ? nb : SMALL_BIDDERS;
				int64_t Qs = Q < SMALL_UNITS ? Q : SMALL_UNITS;
				bool equal;
				money_t vw, bw;
				if ((rc = small_instance(bids, ns, Qs, r, &equal, &visited, &vw, &bw))) {
					snprintf(why, len, "run %" PRId64 " round %" PRId64
						 ": vcg on a small instance failed (%d)",
						 k.run, k.round, rc);
					goto done;
				}
				c.vcg_small++;
				c.vcg_small_optimal += equal;
				if (!equal && !first_small[0])
					snprintf(first_small, sizeof(first_small),
						 "run %" PRId64 " round %" PRId64 " host %" PRId64
						 " %s, %zu bidders, %" PRId64 " units: VCG %" PRId64
						 ", brute force %" PRId64,
						 k.run, k.round, k.host, k.resource, ns, Qs, vw, bw);
			}
		}
	}
	if (out) {
		char m[MONEY_TEXT_MAX];
		fprintf(out, "Known results (on the study's recorded rounds):\n");
		if (c.vcg_clearings)
			fprintf(out,
				"  VCG welfare = the optimum: %zu of %zu clearings (exact dynamic "
				"program over every bidder's quantity; %zu too large to redo); on %zu "
				"small instances (their first <= %d bidders, <= %d units, cleared "
				"afresh) %zu of %zu equal the brute-force optimum over %" PRIu64
				" allocations\n",
				c.vcg_optimal, c.vcg_clearings - c.vcg_too_large, c.vcg_too_large,
				c.vcg_small, SMALL_BIDDERS, SMALL_UNITS, c.vcg_small_optimal,
				c.vcg_small, visited);
		else
			fprintf(out, "  VCG welfare = the optimum: not checked (no recorded vcg "
				     "clearing)\n");
		if (c.uniform_clearings)
			fprintf(out,
				"  uniform revenue >= reserve x units sold: %zu of %zu clearings "
				"(smallest margin %s/h)\n",
				c.uniform_ok, c.uniform_clearings,
				money_format(min_margin == INT64_MAX ? 0 : min_margin, m));
		else
			fprintf(out, "  uniform revenue >= reserve x units sold: not checked (no "
				     "recorded uniform clearing)\n");
		if (first_vcg[0])
			fprintf(out, "  FAILS: %s\n", first_vcg);
		if (first_small[0])
			fprintf(out, "  FAILS: %s\n", first_small);
		if (first_uni[0])
			fprintf(out, "  FAILS: %s\n", first_uni);
	}
	if (counts)
		*counts = c;
done:
	sqlite3_finalize(cq);
	sqlite3_finalize(bq);
	free(bids);
	return rc;
}

int study_checks(sqlite3 *db, FILE *out, char *why, size_t len)
{
	return study_checks_count(db, out, NULL, why, len);
}
