/* test_plugin.c: the registry rules every plugin kind shares (common/plugin.h).
 *
 * A demo kind "widget" stands for the real ones: API 2 whose first release (API 2, struct
 * widget_v1) ended at run, and a later one that appended the optional method extra. The
 * test registers plugins built against each and checks every rule: the version, the size
 * gate (an older smaller struct is accepted and its missing optional method is absent, a
 * struct smaller than the first release is refused), names, required methods, duplicates
 * against built-ins and registered ones, the table's bound, and that a refused plugin leaves
 * the registry as it was. */
#include <errno.h>

#include "common/error.h"
#include "common/plugin.h"
#include "test.h"

#define WIDGET_API 2

struct widget {
	PLUGIN_HEADER;
	int (*run)(void);
	int (*extra)(void); /* optional, appended after the first release */
};

/* The struct as a plugin of the first release was compiled. */
struct widget_v1 {
	PLUGIN_HEADER;
	int (*run)(void);
};

static int run_one(void)
{
	return 1;
}

static int extra_seven(void)
{
	return 7;
}

static int widget_check(const struct plugin_hdr *h)
{
	const struct widget *w = PLUGIN_OF(struct widget, h);
	return w->run ? 0 : -EINVAL;
}

static const struct widget builtin_a = {
	.api_version = WIDGET_API, .size = sizeof(struct widget), .name = "alpha", .run = run_one};
static const struct plugin_hdr *const builtins[] = {&builtin_a.plugin};

int main(void)
{
	const struct plugin_hdr *slots[3];
	struct plugin_registry r = {
		.kind = "widget",
		.api_version = WIDGET_API,
		.min_size = sizeof(struct widget_v1),
		.builtin = builtins,
		.nbuiltin = 1,
		.check = widget_check,
		.slots = slots,
		.max = 3,
	};
	const struct widget now = {.api_version = WIDGET_API, .size = sizeof(struct widget),
				   .name = "now", .run = run_one, .extra = extra_seven};
	const struct widget_v1 old = {.api_version = WIDGET_API, .size = sizeof(struct widget_v1),
				      .name = "old", .run = run_one};
	/* A plugin from a later release: a bigger struct, fields this build does not know. */
	struct {
		struct widget w;
		void *later;
	} newer = {.w = {.api_version = WIDGET_API, .size = sizeof(newer), .name = "newer",
			 .run = run_one, .extra = extra_seven}};
	struct widget bad = now;
	char names[128];
	int refused = 0;

	/* The header's fields are the struct's first ones, under both spellings. */
	ASSERT_EQ(offsetof(struct widget, plugin), 0);
	ASSERT_EQ(offsetof(struct widget, name), offsetof(struct plugin_hdr, name));
	ASSERT_STR_EQ(now.plugin.name, "now");

	/* Version: another API is refused, whatever its size. */
	bad.api_version = WIDGET_API + 1;
	ASSERT_EQ(plugin_register(&r, &bad.plugin), -RAAS_EVERSION); refused++;
	bad.api_version = WIDGET_API - 1;
	ASSERT_EQ(plugin_register(&r, &bad.plugin), -RAAS_EVERSION); refused++;
	/* Size: smaller than the first release is refused. */
	bad = now;
	bad.size = (uint32_t)offsetof(struct widget, run);
	ASSERT_EQ(plugin_register(&r, &bad.plugin), -RAAS_EVERSION); refused++;
	/* Names. */
	const char *bad_names[] = {"", "Upper", "has space", "dot.ted",
				   "a123456789012345678901234567890123456789012345678901234567890123"};
	for (size_t i = 0; i < sizeof(bad_names) / sizeof(bad_names[0]); i++) {
		bad = now;
		bad.name = bad_names[i];
		ASSERT_EQ(plugin_register(&r, &bad.plugin), -EINVAL); refused++;
	}
	bad = now;
	bad.name = NULL;
	ASSERT_EQ(plugin_register(&r, &bad.plugin), -EINVAL); refused++;
	ASSERT_TRUE(plugin_name_ok("a-b_c9"));
	/* The kind's required methods. */
	bad = now;
	bad.run = NULL;
	ASSERT_EQ(plugin_register(&r, &bad.plugin), -EINVAL); refused++;
	ASSERT_EQ(plugin_register(&r, NULL), -EINVAL); refused++;
	/* Nothing refused took a slot. */
	ASSERT_EQ(r.n, 0);
	ASSERT_EQ(refused, 11);

	/* Accepted: the current struct, an older smaller one, a newer bigger one. */
	ASSERT_OK(plugin_register(&r, &now.plugin));
	ASSERT_OK(plugin_register(&r, &old.plugin));
	ASSERT_OK(plugin_register(&r, &newer.w.plugin));
	ASSERT_EQ(r.n, 3);

	/* Optional methods: present when the size covers them and they are set; the old
	 * plugin's struct ends before extra, so extra is absent (and never read). */
	const struct widget *w = PLUGIN_OF(struct widget, plugin_find(&r, "now"));
	ASSERT_TRUE(PLUGIN_HAS(w, extra));
	ASSERT_EQ(w->extra(), 7);
	w = PLUGIN_OF(struct widget, plugin_find(&r, "old"));
	ASSERT_TRUE(w != NULL);
	ASSERT_TRUE(PLUGIN_HAS(w, run));
	ASSERT_TRUE(!PLUGIN_HAS(w, extra));
	ASSERT_EQ(w->run(), 1);
	w = PLUGIN_OF(struct widget, plugin_find(&r, "newer"));
	ASSERT_TRUE(PLUGIN_HAS(w, extra));
	w = PLUGIN_OF(struct widget, plugin_find(&r, "alpha"));
	ASSERT_TRUE(w == &builtin_a);
	/* A current-size plugin without the optional method: absent too. */
	bad = now;
	bad.extra = NULL;
	ASSERT_TRUE(!PLUGIN_HAS(&bad, extra));

	/* Duplicates: of a built-in and of a registered plugin. */
	bad = now;
	bad.name = "alpha";
	ASSERT_EQ(plugin_register(&r, &bad.plugin), -EEXIST);
	bad.name = "old";
	ASSERT_EQ(plugin_register(&r, &bad.plugin), -EEXIST);
	/* The bound: three slots, all taken. */
	bad.name = "fourth";
	ASSERT_EQ(plugin_register(&r, &bad.plugin), -ENOSPC);
	ASSERT_EQ(r.n, 3);
	ASSERT_TRUE(plugin_find(&r, "fourth") == NULL);
	ASSERT_TRUE(plugin_find(&r, NULL) == NULL);

	/* Listing: built-ins first, then registration order; the count past max. */
	const struct plugin_hdr *all[2];
	ASSERT_EQ(plugin_list(&r, all, 2), 4);
	ASSERT_STR_EQ(all[0]->name, "alpha");
	ASSERT_STR_EQ(all[1]->name, "now");
	ASSERT_EQ(plugin_list(&r, NULL, 0), 4);
	ASSERT_STR_EQ(plugin_names(&r, names, sizeof(names)), "alpha, now, old, newer");
	ASSERT_STR_EQ(plugin_names(&r, names, 12), "alpha, now");

	printf("plugin registry: %d refused as they should be, 3 registered (current, older, "
	       "newer struct), duplicates and the bound refused\n",
	       refused);
	return 0;
}
