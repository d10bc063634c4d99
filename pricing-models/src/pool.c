/* pool.c: a pool's setup (pool.h): the model, its generator, seeds per round, the time line. */
#include <errno.h>
#include <gsl/gsl_rng.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "pm_internal.h"
#include "pricing/pool.h"

#define MAX_PARAMS 64

struct pm_pool_setup {
	struct pm_instance *inst;
	gsl_rng *rng;
	uint64_t seed, id; /* id: the pool's identity hashed */
	int64_t round_ns;
};

/* splitmix64's finalizer: decorrelates nearby inputs. */
static uint64_t mix(uint64_t x)
{
	x += 0x9e3779b97f4a7c15ULL;
	x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9ULL;
	x = (x ^ (x >> 27)) * 0x94d049bb133111ebULL;
	return x ^ (x >> 31);
}

/* FNV-1a of "host/resource". */
static uint64_t pool_id(const char *host, const char *resource)
{
	uint64_t h = 1469598103934665603ULL;

	for (const char *s = host; s && *s; s++)
		h = (h ^ (unsigned char)*s) * 1099511628211ULL;
	h = (h ^ (unsigned char)'/') * 1099511628211ULL;
	for (const char *s = resource; s && *s; s++)
		h = (h ^ (unsigned char)*s) * 1099511628211ULL;
	return h;
}

static uint64_t round_seed(uint64_t seed, uint64_t id, uint64_t round)
{
	uint64_t s = mix(mix(mix(seed) ^ id) ^ round);
	return s ? s : 1;
}

uint64_t pm_pool_seed(uint64_t seed, const char *host, const char *resource, uint64_t round)
{
	return round_seed(seed, pool_id(host, resource), round);
}

int pm_pool_setup_create(const struct pm_pool_spec *spec, struct pm_pool_setup **out,
			 struct pm_error *err)
{
	struct pm_param params[MAX_PARAMS];
	char *storage = NULL;
	int n = 0, rc;

	if (!spec || !spec->model || !spec->host || !spec->resource || spec->round_ns <= 0)
		return pm__errorf(err, -EINVAL, "pool setup: model, host, resource and a positive "
				  "round length are required");
	if (spec->params && spec->params[0]) {
		n = pm_params_parse(spec->params, params, MAX_PARAMS, &storage, err);
		if (n < 0)
			return n;
		if (n > MAX_PARAMS) {
			free(storage);
			return pm__errorf(err, -E2BIG, "pool setup: more than %d parameters",
					  MAX_PARAMS);
		}
	}
	struct pm_pool_setup *ps = calloc(1, sizeof(*ps));
	if (!ps) {
		free(storage);
		return pm__errorf(err, -ENOMEM, "pool setup: out of memory");
	}
	rc = pm_create(spec->model, params, (size_t)n, &ps->inst, err);
	free(storage);
	if (rc) {
		free(ps);
		return rc;
	}
	ps->rng = gsl_rng_alloc(gsl_rng_taus2);
	if (!ps->rng) {
		pm_destroy(ps->inst);
		free(ps);
		return pm__errorf(err, -ENOMEM, "pool setup: out of memory");
	}
	ps->seed = spec->seed;
	ps->id = pool_id(spec->host, spec->resource);
	ps->round_ns = spec->round_ns;
	*out = ps;
	return 0;
}

void pm_pool_setup_destroy(struct pm_pool_setup *ps)
{
	if (!ps)
		return;
	pm_destroy(ps->inst);
	gsl_rng_free(ps->rng);
	free(ps);
}

struct pm_instance *pm_pool_setup_instance(struct pm_pool_setup *ps)
{
	return ps->inst;
}

void pm_pool_setup_round(struct pm_pool_setup *ps, uint64_t round, int64_t supply,
			 struct pm_pool *out)
{
	gsl_rng_set(ps->rng, (unsigned long)round_seed(ps->seed, ps->id, round));
	memset(out, 0, sizeof(*out));
	out->supply = supply;
	out->round = round;
	out->now_ns = round > 0 ? (int64_t)(round - 1) * ps->round_ns : 0;
	out->round_ns = ps->round_ns;
	out->rng = ps->rng;
}
