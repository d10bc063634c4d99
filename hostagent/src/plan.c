/* plan.c: placement (CPUs, cache ways) and shrink-before-grow ordering of changes.
 *
 * See plan.h. Placement is stable: cores keep the CPUs they have (lowest first) and take the
 * lowest free ones; cache ways keep their range's start when the new range still fits, then
 * fill gaps first-fit, and only when fragmentation leaves no room are all ranges packed from
 * way 0 in their current order. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/error.h"
#include "hostagent/plan.h"

bool plan_setting_equal(enum enf_resource res, const struct enf_setting *a,
			const struct enf_setting *b)
{
	if (a->quantity != b->quantity)
		return false;
	if (res == ENF_CORES)
		return enf_cpuset_equal(&a->cpus, &b->cpus);
	if (res == ENF_LLC)
		return a->cbm == b->cbm;
	return true;
}

static int place_cores(const struct plan_input *in, struct enf_setting *target)
{
	struct enf_cpuset claimed;

	enf_cpuset_zero(&claimed);
	/* Keep what each tenant has, lowest CPUs first, in tenant order. */
	for (size_t i = 0; i < in->n; i++) {
		target[i].quantity = in->want[i];
		enf_cpuset_zero(&target[i].cpus);
		if (in->want[i] == 0) {
			target[i].cpus = in->idle_cpus;
			continue;
		}
		if (!in->cur_known[i] || in->cur[i].quantity == 0)
			continue;
		int64_t kept = 0;
		for (int c = 0; c < ENF_MAX_CPUS && kept < in->want[i]; c++) {
			if (enf_cpuset_has(&in->cur[i].cpus, c) && enf_cpuset_has(&in->cpus, c) &&
			    !enf_cpuset_has(&claimed, c)) {
				enf_cpuset_set(&target[i].cpus, c);
				enf_cpuset_set(&claimed, c);
				kept++;
			}
		}
	}
	/* Then give each tenant still short the lowest free CPUs. */
	for (size_t i = 0; i < in->n; i++) {
		if (in->want[i] == 0)
			continue;
		int64_t have = enf_cpuset_count(&target[i].cpus);
		for (int c = 0; c < ENF_MAX_CPUS && have < in->want[i]; c++) {
			if (enf_cpuset_has(&in->cpus, c) && !enf_cpuset_has(&claimed, c)) {
				enf_cpuset_set(&target[i].cpus, c);
				enf_cpuset_set(&claimed, c);
				have++;
			}
		}
		if (have < in->want[i])
			return -RAAS_ENOSUPPLY; /* capacity is checked before; defensive */
	}
	return 0;
}

static uint64_t range_mask(int start, int64_t len)
{
	if (len >= 64)
		return ~UINT64_C(0);
	return ((UINT64_C(1) << len) - 1) << start;
}

struct llc_order {
	size_t tenant;
	int start;
};

static int by_start(const void *a, const void *b)
{
	const struct llc_order *x = a, *y = b;
	if (x->start != y->start)
		return x->start < y->start ? -1 : 1;
	return x->tenant < y->tenant ? -1 : x->tenant > y->tenant;
}

/* First fit of len ways in [0, ways) avoiding used; -1 when no gap is long enough. */
static int first_fit(uint64_t used, int ways, int64_t len)
{
	for (int s = 0; s + len <= ways; s++)
		if (!(used & range_mask(s, len)))
			return s;
	return -1;
}

static int place_llc(const struct plan_input *in, struct enf_setting *target)
{
	int ways = (int)in->capacity;
	struct llc_order *order = calloc(in->n ? in->n : 1, sizeof(*order));
	uint64_t used = 0;
	size_t norder = 0;
	bool packed = true;

	if (!order)
		return -ENOMEM;
	for (size_t i = 0; i < in->n; i++) {
		target[i].quantity = in->want[i];
		target[i].cbm = in->want[i] == 0 ? in->idle_cbm : 0;
		if (in->want[i] == 0)
			continue;
		bool had = in->cur_known[i] && in->cur[i].quantity > 0 && in->cur[i].cbm;
		order[norder].tenant = i;
		order[norder].start = had ? __builtin_ctzll(in->cur[i].cbm) : 64 + (int)i;
		norder++;
	}
	qsort(order, norder, sizeof(*order), by_start);
	/* Keep starts where the new range fits. */
	for (size_t k = 0; k < norder; k++) {
		size_t i = order[k].tenant;
		int s = order[k].start;
		if (s >= 64 || s + in->want[i] > ways)
			continue;
		uint64_t m = range_mask(s, in->want[i]);
		if (used & m)
			continue;
		target[i].cbm = m;
		used |= m;
	}
	/* Then first fit for the rest. */
	for (size_t k = 0; k < norder && packed; k++) {
		size_t i = order[k].tenant;
		if (target[i].cbm)
			continue;
		int s = first_fit(used, ways, in->want[i]);
		if (s < 0) {
			packed = false;
			break;
		}
		target[i].cbm = range_mask(s, in->want[i]);
		used |= target[i].cbm;
	}
	/* Fragmented: pack everyone from way 0 in their current order. */
	if (!packed) {
		int s = 0;
		for (size_t k = 0; k < norder; k++) {
			size_t i = order[k].tenant;
			target[i].cbm = range_mask(s, in->want[i]);
			s += (int)in->want[i];
		}
	}
	free(order);
	return 0;
}

/* Shrinks (quantity down) first, then moves (same quantity, other placement), then grows;
 * in tenant order inside each group. */
static int step_class(const struct plan_step *s)
{
	int64_t from = s->from_known ? s->from.quantity : 0;
	if (s->to.quantity < from)
		return 0;
	if (s->to.quantity == from)
		return 1;
	return 2;
}

static int by_class(const void *a, const void *b)
{
	const struct plan_step *x = a, *y = b;
	int cx = step_class(x), cy = step_class(y);
	if (cx != cy)
		return cx - cy;
	return x->tenant < y->tenant ? -1 : x->tenant > y->tenant;
}

int plan_resource(const struct plan_input *in, struct enf_setting *target,
		  struct plan_step *steps, size_t *nsteps, char *why, size_t why_len)
{
	int64_t total = 0;
	int ret = 0;

	*nsteps = 0;
	if (why_len)
		why[0] = '\0';
	for (size_t i = 0; i < in->n; i++) {
		if (in->want[i] < 0) {
			if (why_len)
				snprintf(why, why_len, "negative %s quantity %lld for tenant #%zu",
					 enf_resource_name(in->res), (long long)in->want[i], i);
			return -EINVAL;
		}
		total += in->want[i];
	}
	if (total > in->capacity) {
		if (why_len)
			snprintf(why, why_len, "%lld %s allocated but the host has %lld",
				 (long long)total, enf_resource_name(in->res),
				 (long long)in->capacity);
		return -RAAS_ENOSUPPLY;
	}
	memset(target, 0, in->n * sizeof(*target));
	if (in->res == ENF_CORES) {
		ret = place_cores(in, target);
	} else if (in->res == ENF_LLC) {
		ret = place_llc(in, target);
	} else {
		for (size_t i = 0; i < in->n; i++)
			target[i].quantity = in->want[i];
	}
	if (ret) {
		if (why_len)
			snprintf(why, why_len, "cannot place %s: %s", enf_resource_name(in->res),
				 raas_strerror(ret));
		return ret;
	}
	for (size_t i = 0; i < in->n; i++) {
		if (in->cur_known[i] && plan_setting_equal(in->res, &in->cur[i], &target[i]))
			continue;
		struct plan_step *s = &steps[(*nsteps)++];
		s->tenant = i;
		s->from_known = in->cur_known[i];
		if (in->cur_known[i])
			s->from = in->cur[i];
		else
			memset(&s->from, 0, sizeof(s->from));
		s->to = target[i];
	}
	qsort(steps, *nsteps, sizeof(*steps), by_class);
	return 0;
}
