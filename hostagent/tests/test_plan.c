/* test_plan.c: placement and shrink-before-grow ordering of the reconciliation planner. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "common/error.h"
#include "hostagent/plan.h"
#include "test.h"

#define N 4

static struct enf_setting cur[N], target[N];
static bool known[N];
static int64_t want[N];
static struct plan_step steps[N];

static struct plan_input input(enum enf_resource res, int64_t capacity)
{
	struct plan_input in;
	memset(&in, 0, sizeof(in));
	in.res = res;
	in.n = N;
	in.cur = cur;
	in.cur_known = known;
	in.want = want;
	in.capacity = capacity;
	for (int c = 0; c < capacity && c < ENF_MAX_CPUS; c++)
		enf_cpuset_set(&in.cpus, c);
	enf_cpuset_set(&in.idle_cpus, 0);
	in.idle_cbm = 0x1;
	return in;
}

static void reset(void)
{
	memset(cur, 0, sizeof(cur));
	memset(known, 0, sizeof(known));
	memset(want, 0, sizeof(want));
}

/* Applies the steps in order, checking that the sum never exceeds capacity. */
static void replay(const struct plan_input *in, size_t nsteps)
{
	int64_t q[N];
	for (int i = 0; i < N; i++)
		q[i] = known[i] ? cur[i].quantity : 0;
	for (size_t k = 0; k < nsteps; k++) {
		q[steps[k].tenant] = steps[k].to.quantity;
		int64_t sum = 0;
		for (int i = 0; i < N; i++)
			sum += q[i];
		ASSERT_LE(sum, in->capacity);
	}
}

static void test_bandwidth_order(void)
{
	size_t n;
	char why[128];

	reset();
	/* 0: 200 -> 50 (shrink), 1: 50 -> 200 (grow), 2: 100 -> 100 (unchanged), 3: new 0. */
	known[0] = known[1] = known[2] = true;
	cur[0].quantity = 200;
	cur[1].quantity = 50;
	cur[2].quantity = 100;
	want[0] = 50;
	want[1] = 200;
	want[2] = 100;
	struct plan_input in = input(ENF_BANDWIDTH, 350);
	ASSERT_OK(plan_resource(&in, target, steps, &n, why, sizeof(why)));
	ASSERT_EQ(n, 3);
	ASSERT_EQ(steps[0].tenant, 0); /* shrink first */
	ASSERT_EQ(steps[0].to.quantity, 50);
	ASSERT_EQ(steps[0].from.quantity, 200);
	ASSERT_EQ(steps[1].tenant, 3); /* unknown -> 0: same "quantity" class */
	ASSERT_EQ(steps[1].from_known, false);
	ASSERT_EQ(steps[2].tenant, 1); /* grow last */
	ASSERT_EQ(steps[2].to.quantity, 200);
	replay(&in, n);

	/* Nothing changes: no step at all. */
	for (int i = 0; i < N; i++) {
		cur[i] = target[i];
		known[i] = true;
	}
	ASSERT_OK(plan_resource(&in, target, steps, &n, why, sizeof(why)));
	ASSERT_EQ(n, 0);
}

static void test_over_capacity(void)
{
	size_t n;
	char why[128];

	reset();
	want[0] = 300;
	want[1] = 100;
	struct plan_input in = input(ENF_BANDWIDTH, 350);
	ASSERT_EQ(plan_resource(&in, target, steps, &n, why, sizeof(why)), -RAAS_ENOSUPPLY);
	ASSERT_STR_CONTAINS(why, "400 bandwidth allocated but the host has 350");
	want[1] = -1;
	ASSERT_EQ(plan_resource(&in, target, steps, &n, why, sizeof(why)), -EINVAL);
}

static void test_cores_stable(void)
{
	size_t n;
	char why[128], buf[64];

	reset();
	/* Tenant 0 has CPUs 2,3; tenant 1 has 4. 0 shrinks to 1, 1 grows to 3, 2 gets 2. */
	known[0] = known[1] = true;
	cur[0].quantity = 2;
	enf_cpuset_parse("2-3", &cur[0].cpus);
	cur[1].quantity = 1;
	enf_cpuset_parse("4", &cur[1].cpus);
	want[0] = 1;
	want[1] = 3;
	want[2] = 2;
	struct plan_input in = input(ENF_CORES, 8);
	ASSERT_OK(plan_resource(&in, target, steps, &n, why, sizeof(why)));
	ASSERT_STR_EQ(enf_cpuset_format(&target[0].cpus, buf, sizeof(buf)), "2");
	ASSERT_STR_EQ(enf_cpuset_format(&target[1].cpus, buf, sizeof(buf)), "0-1,4");
	ASSERT_STR_EQ(enf_cpuset_format(&target[2].cpus, buf, sizeof(buf)), "3,5");
	ASSERT_STR_EQ(enf_cpuset_format(&target[3].cpus, buf, sizeof(buf)), "0"); /* idle */
	ASSERT_EQ(target[3].quantity, 0);
	ASSERT_EQ(steps[0].tenant, 0);
	ASSERT_EQ(steps[n - 1].to.quantity >= 2, true);
	replay(&in, n);
	/* Disjoint and complete. */
	struct enf_cpuset all;
	enf_cpuset_zero(&all);
	for (int i = 0; i < 3; i++)
		for (int c = 0; c < 8; c++)
			if (enf_cpuset_has(&target[i].cpus, c)) {
				ASSERT_TRUE(!enf_cpuset_has(&all, c));
				enf_cpuset_set(&all, c);
			}
	ASSERT_EQ(enf_cpuset_count(&all), 6);
}

static void test_llc_contiguous(void)
{
	size_t n;
	char why[128];

	reset();
	/* 11 ways. Tenant 0 holds 0x00f (ways 0-3), tenant 1 holds 0x0f0 (4-7). */
	known[0] = known[1] = true;
	cur[0].quantity = 4;
	cur[0].cbm = 0x00f;
	cur[1].quantity = 4;
	cur[1].cbm = 0x0f0;
	want[0] = 4;
	want[1] = 2;
	want[2] = 3;
	struct plan_input in = input(ENF_LLC, 11);
	ASSERT_OK(plan_resource(&in, target, steps, &n, why, sizeof(why)));
	ASSERT_EQ(target[0].cbm, 0x00f); /* untouched */
	ASSERT_EQ(target[1].cbm, 0x030); /* keeps its start */
	ASSERT_EQ(target[2].cbm, 0x1c0); /* first fit */
	ASSERT_EQ(target[3].cbm, 0x1);   /* idle */
	ASSERT_EQ(n, 3);                 /* 1 shrinks, 2 and 3 new */
	ASSERT_EQ(steps[0].tenant, 1);
	replay(&in, n);

	/* Fragmentation: 0 keeps 0-3, 1 has 0x030; 2 wants 6 ways: no gap of 6 -> packed. */
	for (int i = 0; i < N; i++) {
		cur[i] = target[i];
		known[i] = true;
	}
	want[2] = 5;
	ASSERT_OK(plan_resource(&in, target, steps, &n, why, sizeof(why)));
	for (int i = 0; i < 3; i++) {
		ASSERT_TRUE(enf_cbm_contiguous(target[i].cbm));
		ASSERT_EQ(__builtin_popcountll(target[i].cbm), want[i]);
		ASSERT_EQ(target[i].cbm >> 11, 0);
		for (int j = 0; j < i; j++)
			ASSERT_EQ(target[i].cbm & target[j].cbm, 0);
	}
}

/* Metamorphic: random current states and allocations within capacity; every plan stays
 * within capacity at each step, places what was asked, and is stable (a second plan from
 * the result has no steps). */
static void test_random(void)
{
	srand(7);
	for (int iter = 0; iter < 2000; iter++) {
		enum enf_resource res = (enum enf_resource)(1 + iter % 4);
		int64_t cap = res == ENF_LLC ? 12 : 16;
		struct plan_input in = input(res, cap);
		size_t n;
		char why[128];
		reset();
		int64_t left = cap;
		for (int i = 0; i < N; i++) {
			want[i] = left ? rand() % (left + 1) : 0;
			left -= want[i];
		}
		/* A consistent previous state: plan it from nothing first. */
		int64_t prev[N];
		left = cap;
		for (int i = 0; i < N; i++) {
			prev[i] = left ? rand() % (left + 1) : 0;
			left -= prev[i];
		}
		int64_t save[N];
		memcpy(save, want, sizeof(want));
		memcpy(want, prev, sizeof(want));
		ASSERT_OK(plan_resource(&in, target, steps, &n, why, sizeof(why)));
		for (int i = 0; i < N; i++) {
			cur[i] = target[i];
			known[i] = rand() % 5 != 0;
		}
		memcpy(want, save, sizeof(want));
		ASSERT_OK(plan_resource(&in, target, steps, &n, why, sizeof(why)));
		replay(&in, n);
		for (int i = 0; i < N; i++) {
			ASSERT_EQ(target[i].quantity, want[i]);
			if (res == ENF_CORES && want[i])
				ASSERT_EQ(enf_cpuset_count(&target[i].cpus), want[i]);
			if (res == ENF_LLC && want[i])
				ASSERT_EQ(__builtin_popcountll(target[i].cbm), want[i]);
		}
		for (int i = 0; i < N; i++) {
			cur[i] = target[i];
			known[i] = true;
		}
		ASSERT_OK(plan_resource(&in, target, steps, &n, why, sizeof(why)));
		ASSERT_EQ(n, 0);
	}
}

int main(void)
{
	test_bandwidth_order();
	test_over_capacity();
	test_cores_stable();
	test_llc_contiguous();
	test_random();
	return 0;
}
