/* test_enf_registry.c: the enforcement backends' registry and wrappers keep the plugin
 * template's rules (common/plugin.h, enf.h).
 *
 * A backend built against API 2's first release (its struct ends at revert, before the
 * optional meter) registers, and the wrapper treats its meter as absent even though the
 * bytes past its size hold a pointer (a smaller struct's neighbour in memory is not its
 * field); another api_version, a struct smaller than the first release, a missing required
 * method and a built-in's name are refused; the wrappers take a NULL error and still fail
 * cleanly. */
#include <errno.h>
#include <stddef.h>
#include <string.h>

#include "common/error.h"
#include "hostagent/enf.h"
#include "test.h"

/* The old backend's own state, behind the shared struct enf_instance. */
struct old_state {
	int applied;
};

static struct old_state the_state;
static int meter_calls;

static int old_create(const struct cfg *cfg, const struct enf_target *t, size_t n,
		      struct enf_instance *inst, struct enf_error *err)
{
	inst->state = &the_state;
	return 0;
}

static void old_destroy(struct enf_instance *inst)
{
}

static int old_probe(struct enf_instance *inst, enum enf_resource res, struct enf_error *err)
{
	return 0;
}

static int old_apply(struct enf_instance *inst, enum enf_resource res,
		     const struct enf_target *t, const struct enf_setting *s,
		     struct enf_error *err)
{
	struct old_state *st = inst->state;
	st->applied++;
	return 0;
}

static int old_read(struct enf_instance *inst, enum enf_resource res, const struct enf_target *t,
		    struct enf_setting *out, struct enf_error *err)
{
	return -ENOENT;
}

static int old_revert(struct enf_instance *inst, enum enf_resource res,
		      const struct enf_target *t, struct enf_error *err)
{
	return 0;
}

static int never_meter(struct enf_instance *inst, enum enf_resource res,
		       const struct enf_target *targets, size_t n, struct enf_meter *out,
		       struct enf_error *err)
{
	meter_calls++;
	return 0;
}

int main(void)
{
	struct enf_backend old = {
		.api_version = ENF_API_VERSION,
		.size = (uint32_t)offsetof(struct enf_backend, meter),
		.name = "oldbw",
		.summary = "built against API 2's first release",
		.resources = ENF_RES_BIT(ENF_BANDWIDTH),
		.create = old_create,
		.destroy = old_destroy,
		.probe = old_probe,
		.apply = old_apply,
		.read = old_read,
		.revert = old_revert,
		.meter = never_meter, /* past its size: must never be read */
	};
	struct enf_backend bad = old;
	struct enf_handle *h;
	struct enf_error err;
	struct enf_target t = {.tenant = "alice"};
	struct enf_setting s = {.quantity = 100};
	int refused = 0;

	/* Refused: another version, smaller than the first release, a missing method, a
	 * built-in's name, NULL. */
	bad.api_version = ENF_API_VERSION + 1;
	ASSERT_EQ(enf_register(&bad), -RAAS_EVERSION);
	refused++;
	bad = old;
	bad.size = (uint32_t)offsetof(struct enf_backend, revert);
	ASSERT_EQ(enf_register(&bad), -RAAS_EVERSION);
	refused++;
	bad = old;
	bad.probe = NULL;
	ASSERT_EQ(enf_register(&bad), -EINVAL);
	refused++;
	bad = old;
	bad.name = "tc";
	ASSERT_EQ(enf_register(&bad), -EEXIST);
	refused++;
	ASSERT_EQ(enf_register(NULL), -EINVAL);
	refused++;
	ASSERT_TRUE(enf_find("oldbw") == NULL);

	/* The older, smaller backend registers beside the six built-ins. */
	const struct enf_backend *all[40];
	size_t before = enf_backends(all, 40);
	ASSERT_EQ(before, 6);
	ASSERT_OK(enf_register(&old));
	ASSERT_EQ(enf_backends(all, 40), before + 1);
	ASSERT_TRUE(all[before] == &old);
	ASSERT_TRUE(enf_find("oldbw") == &old);
	ASSERT_EQ(enf_register(&old), -EEXIST);

	/* Its wrappers work; its meter is absent. */
	ASSERT_OK(enf_open("oldbw", NULL, &t, 1, &h, &err));
	/* The one instance: the wrappers set its backend, the backend's create its state. */
	ASSERT_TRUE(enf_instance(h)->backend == &old);
	ASSERT_TRUE(enf_instance(h)->state == &the_state);
	ASSERT_OK(enf_apply(h, ENF_BANDWIDTH, &t, &s, &err));
	ASSERT_EQ(the_state.applied, 1);
	struct enf_meter m;
	ASSERT_EQ(enf_meter(h, ENF_BANDWIDTH, &t, 1, &m, &err), -ENOTSUP);
	ASSERT_STR_CONTAINS(err.message, "no meters");
	ASSERT_EQ(meter_calls, 0);
	/* A NULL error: the wrappers fail with the code and do not touch it. */
	ASSERT_EQ(enf_meter(h, ENF_BANDWIDTH, &t, 1, &m, NULL), -ENOTSUP);
	ASSERT_EQ(enf_apply(h, ENF_CORES, &t, &s, NULL), -EINVAL);
	ASSERT_EQ(enf_read(h, ENF_BANDWIDTH, &t, &(struct enf_setting){0}, NULL), -ENOENT);
	ASSERT_EQ(enf_calls(h), 2); /* apply and read: the refused calls never reached it */
	enf_close(h);

	/* Unknown names: the error lists every backend, and a NULL error is allowed. */
	ASSERT_EQ(enf_open("nosuch", NULL, &t, 1, &h, &err), -ENOENT);
	ASSERT_STR_CONTAINS(err.message, "fake, tc, sriov, libvirt, resctrl, cgroup, oldbw");
	ASSERT_EQ(enf_open("nosuch", NULL, &t, 1, &h, NULL), -ENOENT);

	printf("enf registry: %d refused, an API-1-first-release backend registered and run "
	       "without its meter (%d meter calls)\n",
	       refused, meter_calls);
	return 0;
}
