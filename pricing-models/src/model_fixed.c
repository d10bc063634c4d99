/* model_fixed.c: a constant posted price, the baseline every market mechanism is compared to.
 *
 * Public clouds' list prices: the price never moves, each tenant takes what it wants at that
 * price, and the pool rations only when it runs out (pm__posted_clear in posted.c). */
#include <errno.h>
#include <stdlib.h>

#include "pm_internal.h"
#include "pricing/models.h"

struct fixed {
	money_t price;
	struct pm_posted_ws ws;
};

static int fixed_create(const struct pm_param *params, size_t nparams, struct pm_instance **out,
			struct pm_error *err)
{
	money_t price;
	int rc = pm__param_money_nonneg(params, nparams, "fixed", "price", &price, err);
	if (rc)
		return rc;
	struct fixed *f = calloc(1, sizeof(*f));
	if (!f)
		return pm__errorf(err, -ENOMEM, "fixed: out of memory");
	f->price = price;
	*out = (struct pm_instance *)f;
	return 0;
}

static void fixed_destroy(struct pm_instance *inst)
{
	struct fixed *f = (struct fixed *)inst;
	pm__posted_ws_free(&f->ws);
	free(f);
}

static int fixed_clear(struct pm_instance *inst, const struct pm_pool *pool,
		       const struct pm_bid *bids, size_t nbids, struct pm_result *res,
		       struct pm_error *err)
{
	struct fixed *f = (struct fixed *)inst;
	return pm__posted_clear(&f->ws, bids, nbids, pool->supply, f->price, res, err);
}

static int fixed_posted_price(struct pm_instance *inst, const struct pm_pool *pool, money_t *out)
{
	*out = ((struct fixed *)inst)->price;
	return 0;
}

static const struct pm_param_spec fixed_params[] = {
	{"price", PM_PARAM_MONEY, "$0.05", "the posted price per unit-hour"},
};

const struct pm_model pm_model_fixed = {
	.api_version = PM_API_VERSION,
	.size = sizeof(struct pm_model),
	.name = "fixed",
	.summary = "posted constant price (baseline)",
	.params = fixed_params,
	.nparams = 1,
	.create = fixed_create,
	.destroy = fixed_destroy,
	.clear = fixed_clear,
	.posted_price = fixed_posted_price,
};
