/* test_resctrl.c: the resctrl backend against a temporary resctrl tree: probe, exact
 * schemata contents written and read back, group create and remove, mask checks. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "backend_util.h"

static char root[128];

static void make_tree(void)
{
	char path[256];
	snprintf(root, sizeof(root), "/tmp/hostagent-%d-resctrl", (int)getpid());
	snprintf(path, sizeof(path), "rm -rf %s", root);
	ASSERT_OK(system(path));
	ASSERT_OK(mkdir(root, 0755));
	snprintf(path, sizeof(path), "%s/info", root);
	ASSERT_OK(mkdir(path, 0755));
	snprintf(path, sizeof(path), "%s/info/L3", root);
	ASSERT_OK(mkdir(path, 0755));
	snprintf(path, sizeof(path), "%s/info/L3/cbm_mask", root);
	write_file(path, "7ff\n"); /* 11 ways */
	snprintf(path, sizeof(path), "%s/info/L3/min_cbm_bits", root);
	write_file(path, "1\n");
	snprintf(path, sizeof(path), "%s/info/last_cmd_status", root);
	write_file(path, "ok\n");
	snprintf(path, sizeof(path), "%s/schemata", root);
	write_file(path, "    L3:0=7ff;1=7ff\n    MB:0=100;1=100\n");
}

int main(void)
{
	char text[2048], path[256], buf[256];
	struct enf_error err;
	struct enf_setting s, r;

	make_tree();
	snprintf(text, sizeof(text),
		 "[agent]\nhost = h\n[capacity]\nllc_ways = 11\n[backends]\nllc = resctrl\n"
		 "[resctrl]\nroot = %s\n[tenant.t1]\ncgroup = t1\n[tenant.t2]\n"
		 "resctrl_group = grp2\n",
		 root);
	struct ha_config *c = load_config(text);
	struct enf_handle *h = open_backend("resctrl", c);
	ASSERT_OK(enf_probe(h, ENF_LLC, &err));

	/* Nothing there yet. */
	ASSERT_EQ(enf_read(h, ENF_LLC, &c->targets[0], &r, &err), -ENOENT);

	/* Apply: group created, exact schemata on both cache domains. */
	memset(&s, 0, sizeof(s));
	s.quantity = 4;
	s.cbm = 0x0f0;
	ASSERT_OK(enf_apply(h, ENF_LLC, &c->targets[0], &s, &err));
	snprintf(path, sizeof(path), "%s/raas-t1/schemata", root);
	ASSERT_TRUE(read_file(path, buf, sizeof(buf)) > 0);
	ASSERT_STR_EQ(buf, "L3:0=f0;1=f0\n");
	ASSERT_OK(enf_read(h, ENF_LLC, &c->targets[0], &r, &err));
	ASSERT_EQ(r.quantity, 4);
	ASSERT_EQ(r.cbm, 0x0f0);

	/* Change in place; the group name from the config. */
	s.quantity = 2;
	s.cbm = 0x600;
	ASSERT_OK(enf_apply(h, ENF_LLC, &c->targets[0], &s, &err));
	ASSERT_TRUE(read_file(path, buf, sizeof(buf)) > 0);
	ASSERT_STR_EQ(buf, "L3:0=600;1=600\n");
	s.quantity = 3;
	s.cbm = 0x7;
	ASSERT_OK(enf_apply(h, ENF_LLC, &c->targets[1], &s, &err));
	snprintf(path, sizeof(path), "%s/grp2/schemata", root);
	ASSERT_TRUE(read_file(path, buf, sizeof(buf)) > 0);
	ASSERT_STR_EQ(buf, "L3:0=7;1=7\n");

	/* Refused before anything is written: outside cbm_mask; not contiguous. */
	s.quantity = 2;
	s.cbm = 0x1800;
	ASSERT_EQ(enf_apply(h, ENF_LLC, &c->targets[1], &s, &err), -EINVAL);
	ASSERT_STR_CONTAINS(err.message, "cbm_mask");
	s.cbm = 0x5;
	ASSERT_EQ(enf_apply(h, ENF_LLC, &c->targets[1], &s, &err), -EINVAL);
	ASSERT_STR_CONTAINS(err.message, "not contiguous");
	ASSERT_TRUE(read_file(path, buf, sizeof(buf)) > 0);
	ASSERT_STR_EQ(buf, "L3:0=7;1=7\n");

	/* A schemata someone else wrote with differing domains reads as "not ours". */
	write_file(path, "L3:0=7;1=3\n");
	ASSERT_EQ(enf_read(h, ENF_LLC, &c->targets[1], &r, &err), -ENOENT);

	/* Remove the groups. */
	ASSERT_OK(enf_revert(h, ENF_LLC, &c->targets[0], &err));
	ASSERT_OK(enf_revert(h, ENF_LLC, &c->targets[1], &err));
	struct stat st;
	snprintf(path, sizeof(path), "%s/raas-t1", root);
	ASSERT_EQ(stat(path, &st), -1);
	snprintf(path, sizeof(path), "%s/grp2", root);
	ASSERT_EQ(stat(path, &st), -1);
	ASSERT_OK(enf_revert(h, ENF_LLC, &c->targets[0], &err)); /* idempotent */
	enf_close(h);

	/* No resctrl at all: probe says -ENOTSUP with the reason. */
	snprintf(text, sizeof(text),
		 "[agent]\nhost = h\n[capacity]\nllc_ways = 11\n[backends]\nllc = resctrl\n"
		 "[resctrl]\nroot = %s/none\n[tenant.t1]\ncgroup = t1\n", root);
	struct ha_config *c2 = load_config(text);
	h = open_backend("resctrl", c2);
	ASSERT_EQ(enf_probe(h, ENF_LLC, &err), -ENOTSUP);
	ASSERT_STR_CONTAINS(err.message, "not mounted");
	enf_close(h);
	ha_config_destroy(c2);
	ha_config_destroy(c);
	snprintf(path, sizeof(path), "rm -rf %s", root);
	ASSERT_OK(system(path));
	return 0;
}
