/* wrap.c: the wrappers through which the market and the simulator call every model.
 *
 * A model only ever sees valid input: pm_create() resolves the model and its parameters
 * (unknown names refused with the closest known one suggested, values type-checked,
 * defaults filled in), and pm_clear() checks every bid field, naming the bid and the field,
 * before the model runs, then checks the model's result against the contract of pm.h
 * (allocations within [0, max_quantity] and the supply, revenue equal to the sum of payments,
 * no negative payment), so that a broken model is caught where it breaks, not in the ledger.
 * The wrapper is also the one place that reads a real clock: it times each clearing into
 * result->clear_ns, a field excluded from every determinism comparison.
 *
 * What pm_create() returns is a handle owning the model's instance and the wrapper's scratch;
 * struct pm_instance stays opaque everywhere (each model casts it to its own state). */
#include <errno.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/clock.h"
#include "common/error.h"
#include "pm_internal.h"

#define HANDLE_MAGIC 0x706d6831u /* "pmh1" */
#define MAX_BIDS ((size_t)UINT32_MAX - 1)

struct pm_handle {
	uint32_t magic;
	const struct pm_model *model;
	struct pm_instance *impl;
	struct pm_buf keys, tmp; /* duplicate-bidder check */
};

static struct pm_handle *handle_of(struct pm_instance *inst)
{
	struct pm_handle *h = (struct pm_handle *)inst;
	return h && h->magic == HANDLE_MAGIC ? h : NULL;
}

/* ---- pm_create ---- */

static int unknown_model(const char *name, struct pm_error *err)
{
	const struct pm_model *all[64];
	const char *names[64] = {NULL};
	size_t n = pm_models(all, 64);
	if (n > 64)
		n = 64;
	char list[160] = "";
	for (size_t i = 0; i < n; i++) {
		names[i] = all[i]->name;
		size_t used = strlen(list);
		snprintf(list + used, sizeof(list) - used, "%s%s", i ? ", " : "", names[i]);
	}
	const char *near = pm__closest(name, names, n);
	if (near)
		return pm__errorf(err, -RAAS_ENOMODEL,
				  "unknown pricing model '%s' (did you mean '%s'?)", name, near);
	return pm__errorf(err, -RAAS_ENOMODEL, "unknown pricing model '%s' (known: %s)", name,
			  list);
}

static int unknown_param(const struct pm_model *m, const char *name, struct pm_error *err)
{
	const char *names[64] = {NULL};
	size_t n = m->nparams < 64 ? m->nparams : 64;
	char list[160] = "";
	for (size_t i = 0; i < n; i++) {
		names[i] = m->params[i].name;
		size_t used = strlen(list);
		snprintf(list + used, sizeof(list) - used, "%s%s", i ? ", " : "", names[i]);
	}
	const char *near = pm__closest(name, names, n);
	if (near)
		return pm__errorf(err, -EINVAL,
				  "model '%s': unknown parameter '%s' (did you mean '%s'?)",
				  m->name, name, near);
	if (!n)
		return pm__errorf(err, -EINVAL, "model '%s' takes no parameters (got '%s')",
				  m->name, name);
	return pm__errorf(err, -EINVAL, "model '%s': unknown parameter '%s' (parameters: %s)",
			  m->name, name, list);
}

int pm_create(const char *model, const struct pm_param *params, size_t nparams,
	      struct pm_instance **out, struct pm_error *err)
{
	if (err)
		err->message[0] = '\0';
	if (!model || !out || (nparams && !params))
		return pm__errorf(err, -EINVAL, "pm_create: NULL argument");
	*out = NULL;
	const struct pm_model *m = pm_find(model);
	if (!m)
		return unknown_model(model, err);

	struct pm_param *full = calloc(m->nparams ? m->nparams : 1, sizeof(*full));
	if (!full)
		return pm__errorf(err, -ENOMEM, "model '%s': out of memory", m->name);
	int rc;
	for (size_t i = 0; i < nparams; i++) {
		if (!params[i].name || !params[i].value) {
			rc = pm__errorf(err, -EINVAL, "model '%s': parameter %zu has a NULL %s",
					m->name, i, params[i].name ? "value" : "name");
			goto fail;
		}
		size_t k;
		for (k = 0; k < m->nparams; k++)
			if (strcmp(m->params[k].name, params[i].name) == 0)
				break;
		if (k == m->nparams) {
			rc = unknown_param(m, params[i].name, err);
			goto fail;
		}
		if (full[k].name) {
			rc = pm__errorf(err, -EINVAL, "model '%s': parameter '%s' given twice",
					m->name, params[i].name);
			goto fail;
		}
		const char *why;
		if (pm__param_check(m->params[k].type, params[i].value, &why)) {
			rc = pm__errorf(err, -EINVAL, "model '%s': %s=%.60s: %s", m->name,
					params[i].name, params[i].value, why);
			goto fail;
		}
		full[k] = params[i];
	}
	for (size_t k = 0; k < m->nparams; k++) {
		if (full[k].name)
			continue;
		if (!m->params[k].default_value) {
			rc = pm__errorf(err, -EINVAL, "model '%s': parameter '%s' is required (%s)",
					m->name, m->params[k].name, m->params[k].help);
			goto fail;
		}
		full[k].name = m->params[k].name;
		full[k].value = m->params[k].default_value;
	}

	struct pm_handle *h = calloc(1, sizeof(*h));
	if (!h) {
		rc = pm__errorf(err, -ENOMEM, "model '%s': out of memory", m->name);
		goto fail;
	}
	rc = m->create(full, m->nparams, &h->impl, err);
	if (rc < 0) {
		free(h);
		if (err && !err->message[0])
			pm__errorf(err, rc, "model '%s': create failed: %s", m->name,
				   raas_strerror(rc));
		goto fail;
	}
	h->magic = HANDLE_MAGIC;
	h->model = m;
	free(full);
	*out = (struct pm_instance *)h;
	return 0;
fail:
	free(full);
	return rc < 0 ? rc : -EINVAL;
}

void pm_destroy(struct pm_instance *inst)
{
	struct pm_handle *h = handle_of(inst);
	if (!h)
		return;
	h->model->destroy(h->impl);
	pm__buf_free(&h->keys);
	pm__buf_free(&h->tmp);
	h->magic = 0;
	free(h);
}

struct pm_instance *pm__impl(struct pm_instance *inst)
{
	struct pm_handle *h = handle_of(inst);
	return h ? h->impl : NULL;
}

const struct pm_model *pm_instance_model(const struct pm_instance *inst)
{
	const struct pm_handle *h = (const struct pm_handle *)inst;
	return h && h->magic == HANDLE_MAGIC ? h->model : NULL;
}

/* ---- Input checks ---- */

/* Checks a curve's segments; returns its total value (exact) in *value. */
static int check_curve(const struct pm_segment *c, size_t n, const char *field, size_t i,
		       uint64_t bidder, __int128 *value, struct pm_error *err)
{
	__int128 v = 0, q = 0;
	char a[MONEY_TEXT_MAX], b[MONEY_TEXT_MAX];

	if (n && !c)
		return pm__errorf(err, -EINVAL, "bid %zu (bidder %llu): %s is NULL with %zu segments",
				  i, (unsigned long long)bidder, field, n);
	for (size_t k = 0; k < n; k++) {
		if (c[k].quantity <= 0)
			return pm__errorf(err, -EINVAL,
					  "bid %zu (bidder %llu): %s segment %zu: quantity %lld is "
					  "not positive",
					  i, (unsigned long long)bidder, field, k,
					  (long long)c[k].quantity);
		if (c[k].unit_value < 0)
			return pm__errorf(err, -EINVAL,
					  "bid %zu (bidder %llu): %s segment %zu: marginal value %s "
					  "is negative",
					  i, (unsigned long long)bidder, field, k,
					  money_format(c[k].unit_value, a));
		if (k && c[k].unit_value >= c[k - 1].unit_value)
			return pm__errorf(err, -EINVAL,
					  "bid %zu (bidder %llu): %s segment %zu: marginal value %s "
					  "does not decrease (segment %zu: %s)",
					  i, (unsigned long long)bidder, field, k,
					  money_format(c[k].unit_value, a), k - 1,
					  money_format(c[k - 1].unit_value, b));
		q += c[k].quantity;
		v += (__int128)c[k].quantity * c[k].unit_value;
		if (q > INT64_MAX || v > INT64_MAX)
			return pm__errorf(err, -RAAS_EOVERFLOW,
					  "bid %zu (bidder %llu): %s overflows (total %s past "
					  "int64 at segment %zu)",
					  i, (unsigned long long)bidder, field,
					  q > INT64_MAX ? "quantity" : "value", k);
	}
	*value = v;
	return 0;
}

static int check_bid(const struct pm_bid *b, size_t i, __int128 *value, __int128 *true_value,
		     struct pm_error *err)
{
	unsigned long long id = (unsigned long long)b->bidder;
	char a[MONEY_TEXT_MAX];
	int rc;

	if (b->min_quantity < 0)
		return pm__errorf(err, -EINVAL, "bid %zu (bidder %llu): min_quantity %lld is negative",
				  i, id, (long long)b->min_quantity);
	if (b->max_quantity < 0)
		return pm__errorf(err, -EINVAL, "bid %zu (bidder %llu): max_quantity %lld is negative",
				  i, id, (long long)b->max_quantity);
	if (b->max_quantity < b->min_quantity)
		return pm__errorf(err, -EINVAL,
				  "bid %zu (bidder %llu): max_quantity %lld is below min_quantity "
				  "%lld",
				  i, id, (long long)b->max_quantity, (long long)b->min_quantity);
	if (b->unit_price < 0)
		return pm__errorf(err, -EINVAL, "bid %zu (bidder %llu): unit_price %s is negative", i,
				  id, money_format(b->unit_price, a));
	if (b->held < 0)
		return pm__errorf(err, -EINVAL, "bid %zu (bidder %llu): held %lld is negative", i, id,
				  (long long)b->held);
	if (b->curve || b->ncurve) {
		if ((rc = check_curve(b->curve, b->ncurve, "curve", i, b->bidder, value, err)))
			return rc;
		/* Only the first max_quantity units count; their value is at most the total. */
	} else {
		*value = (__int128)b->max_quantity * b->unit_price;
		if (*value > INT64_MAX)
			return pm__errorf(err, -RAAS_EOVERFLOW,
					  "bid %zu (bidder %llu): declared value unit_price x "
					  "max_quantity overflows",
					  i, id);
	}
	*true_value = 0;
	if (b->true_curve || b->ntrue)
		if ((rc = check_curve(b->true_curve, b->ntrue, "true_curve", i, b->bidder,
				      true_value, err)))
			return rc;
	if (b->nranges && !b->ranges)
		return pm__errorf(err, -EINVAL, "bid %zu (bidder %llu): ranges is NULL with %zu ranges",
				  i, id, b->nranges);
	for (size_t k = 0; b->ranges && k < b->nranges; k++) {
		const struct pm_range *r = &b->ranges[k];
		if (r->min < 0 || r->max < r->min)
			return pm__errorf(err, -EINVAL,
					  "bid %zu (bidder %llu): range %zu [%lld, %lld] is not a "
					  "range (need 0 <= min <= max)",
					  i, id, k, (long long)r->min, (long long)r->max);
		if (r->max > b->max_quantity)
			return pm__errorf(err, -EINVAL,
					  "bid %zu (bidder %llu): range %zu [%lld, %lld] exceeds "
					  "max_quantity %lld",
					  i, id, k, (long long)r->min, (long long)r->max,
					  (long long)b->max_quantity);
		if (k && r->min <= b->ranges[k - 1].max)
			return pm__errorf(err, -EINVAL,
					  "bid %zu (bidder %llu): ranges %zu and %zu are unsorted or "
					  "overlap ([%lld, %lld] then [%lld, %lld])",
					  i, id, k - 1, k, (long long)b->ranges[k - 1].min,
					  (long long)b->ranges[k - 1].max, (long long)r->min,
					  (long long)r->max);
	}
	return 0;
}

static int check_duplicates(struct pm_handle *h, const struct pm_bid *bids, size_t n,
			    struct pm_error *err)
{
	if (n < 2)
		return 0;
	if (pm__buf_array(&h->keys, n, sizeof(struct pm_key)) ||
	    pm__buf_array(&h->tmp, n, sizeof(struct pm_key)))
		return pm__errorf(err, -ENOMEM, "out of memory checking %zu bids", n);
	struct pm_key *k = h->keys.p;
	for (size_t i = 0; i < n; i++)
		k[i] = (struct pm_key){.hi = bids[i].bidder, .lo = 0, .val = i};
	pm__sort_keys(k, h->tmp.p, n);
	for (size_t i = 1; i < n; i++)
		if (k[i].hi == k[i - 1].hi) {
			size_t a = k[i - 1].val < k[i].val ? k[i - 1].val : k[i].val;
			size_t b = k[i - 1].val < k[i].val ? k[i].val : k[i - 1].val;
			return pm__errorf(err, -EINVAL, "bids %zu and %zu: duplicate bidder %llu", a,
					  b, (unsigned long long)k[i].hi);
		}
	return 0;
}

static int check_input(struct pm_handle *h, const struct pm_pool *pool,
		       const struct pm_bid *bids, size_t n, struct pm_error *err)
{
	if (pool->supply < 0)
		return pm__errorf(err, -EINVAL, "pool: supply %lld is negative",
				  (long long)pool->supply);
	if (pool->round_ns < 0)
		return pm__errorf(err, -EINVAL, "pool: round_ns %lld is negative",
				  (long long)pool->round_ns);
	if (n > MAX_BIDS)
		return pm__errorf(err, -RAAS_ETOOBIG, "%zu bids: more than %zu", n, MAX_BIDS);
	__int128 sum_value = 0, sum_true = 0, sum_max = 0;
	for (size_t i = 0; i < n; i++) {
		__int128 v, tv;
		int rc = check_bid(&bids[i], i, &v, &tv, err);
		if (rc)
			return rc;
		sum_value += v;
		sum_true += tv;
		sum_max += bids[i].max_quantity + (__int128)bids[i].held;
		if (sum_value > INT64_MAX || sum_true > INT64_MAX)
			return pm__errorf(err, -RAAS_EOVERFLOW,
					  "bid %zu: the bids' %s values sum past int64 "
					  "(nanodollars per hour)",
					  i, sum_value > INT64_MAX ? "declared" : "true");
		if (sum_max > INT64_MAX)
			return pm__errorf(err, -RAAS_EOVERFLOW,
					  "bid %zu: the bids' quantities sum past int64", i);
	}
	return check_duplicates(h, bids, n, err);
}

/* ---- Output checks ---- */

static int check_output(const struct pm_model *m, const struct pm_pool *pool,
			const struct pm_bid *bids, size_t n, const struct pm_result *res,
			struct pm_error *err)
{
	__int128 q = 0, pay = 0;

	for (size_t i = 0; i < n; i++) {
		const struct pm_outcome *o = &res->outcomes[i];
		if (o->quantity < 0 || o->quantity > bids[i].max_quantity)
			return pm__errorf(err, -EPROTO,
					  "model '%s' broke its contract: bid %zu (bidder %llu) got "
					  "%lld units, outside [0, max_quantity %lld]",
					  m->name, i, (unsigned long long)bids[i].bidder,
					  (long long)o->quantity, (long long)bids[i].max_quantity);
		if (o->payment < 0)
			return pm__errorf(err, -EPROTO,
					  "model '%s' broke its contract: bid %zu (bidder %llu) has "
					  "a negative payment %lld",
					  m->name, i, (unsigned long long)bids[i].bidder,
					  (long long)o->payment);
		q += o->quantity;
		pay += o->payment;
	}
	if (q > pool->supply)
		return pm__errorf(err, -EPROTO,
				  "model '%s' broke its contract: allocated %lld units of a supply "
				  "of %lld",
				  m->name, (long long)q, (long long)pool->supply);
	if (q != res->allocated)
		return pm__errorf(err, -EPROTO,
				  "model '%s' broke its contract: allocated says %lld, the "
				  "outcomes sum to %lld",
				  m->name, (long long)res->allocated, (long long)q);
	if (pay != res->revenue)
		return pm__errorf(err, -EPROTO,
				  "model '%s' broke its contract: revenue %lld is not the sum of "
				  "payments %lld",
				  m->name, (long long)res->revenue, (long long)pay);
	if (res->price < 0)
		return pm__errorf(err, -EPROTO, "model '%s' broke its contract: negative price %lld",
				  m->name, (long long)res->price);
	return 0;
}

static void reset_result(struct pm_result *res, size_t n)
{
	if (n)
		memset(res->outcomes, 0, n * sizeof(*res->outcomes));
	res->price = 0;
	res->revenue = 0;
	res->allocated = 0;
	res->welfare = 0;
	res->welfare_true = false;
	res->clear_ns = 0;
}

int pm_clear(struct pm_instance *inst, const struct pm_pool *pool, const struct pm_bid *bids,
	     size_t nbids, struct pm_result *result, struct pm_error *err)
{
	struct pm_handle *h = handle_of(inst);

	if (err)
		err->message[0] = '\0';
	if (!h)
		return pm__errorf(err, -EINVAL, "pm_clear: not an instance from pm_create");
	if (!pool || !result || (nbids && (!bids || !result->outcomes)))
		return pm__errorf(err, -EINVAL, "pm_clear: NULL %s",
				  !pool ? "pool" : !result ? "result" : !bids ? "bids" : "outcomes");
	int rc = check_input(h, pool, bids, nbids, err);
	if (rc)
		return rc;
	reset_result(result, nbids);
	int64_t t0 = clk_mono(&clk_real);
	rc = h->model->clear(h->impl, pool, bids, nbids, result, err);
	int64_t t1 = clk_mono(&clk_real);
	if (rc < 0) {
		if (err && !err->message[0])
			pm__errorf(err, rc, "model '%s': clearing failed: %s", h->model->name,
				   raas_strerror(rc));
		reset_result(result, nbids);
		return rc;
	}
	rc = check_output(h->model, pool, bids, nbids, result, err);
	if (rc) {
		reset_result(result, nbids);
		return rc;
	}
	result->clear_ns = t1 - t0;
	return 0;
}

int pm_posted_price(struct pm_instance *inst, const struct pm_pool *pool, money_t *out)
{
	struct pm_handle *h = handle_of(inst);

	if (!h || !pool || !out)
		return -EINVAL;
	if (!h->model->posted_price)
		return -ENOTSUP;
	if (pool->supply < 0)
		return -EINVAL;
	money_t p;
	int rc = h->model->posted_price(h->impl, pool, &p);
	if (rc)
		return rc;
	if (p < 0)
		return -EPROTO;
	*out = p;
	return 0;
}

int pm_check(struct pm_instance *inst, struct pm_error *err)
{
	struct pm_handle *h = handle_of(inst);

	if (err)
		err->message[0] = '\0';
	if (!h)
		return pm__errorf(err, -EINVAL, "pm_check: not an instance from pm_create");
	if (!PLUGIN_HAS(h->model, check))
		return 0;
	return h->model->check(h->impl, err);
}
