/* test_sriov.c: the sriov backend. The RTM_SETLINK request is checked field by field (no
 * SR-IOV hardware needed); the read-back parser against a hand-built RTM_NEWLINK; and on a
 * real veth (in a private network namespace) probe answers -ENOTSUP, a rate request is
 * refused by the kernel, and the agent registers bandwidth as unavailable instead of
 * failing. */
#include <errno.h>
#include <linux/if_link.h>
#include <linux/netlink.h>
#include <linux/rtnetlink.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include "common/log.h"
#include "hostagent/agent.h"
#include "sriov.h"
#include "agent_util.h"
#include "backend_util.h"
#include "netns_util.h"

static void test_request_fields(void)
{
	uint8_t buf[256];
	int len = sriov_build_rate_request(buf, sizeof(buf), 77, 5, 3, 40, 250);

	ASSERT_GT(len, 0);
	struct nlmsghdr *h = (struct nlmsghdr *)buf;
	ASSERT_EQ(h->nlmsg_len, (uint32_t)len);
	ASSERT_EQ(h->nlmsg_type, RTM_SETLINK);
	ASSERT_EQ(h->nlmsg_flags, NLM_F_REQUEST | NLM_F_ACK);
	ASSERT_EQ(h->nlmsg_seq, 77);
	struct ifinfomsg *ifi = NLMSG_DATA(h);
	ASSERT_EQ(ifi->ifi_family, AF_UNSPEC);
	ASSERT_EQ(ifi->ifi_index, 5);
	ASSERT_EQ(ifi->ifi_flags, 0);
	ASSERT_EQ(ifi->ifi_change, 0);
	/* Exactly one attribute: IFLA_VFINFO_LIST > IFLA_VF_INFO > IFLA_VF_RATE. */
	struct rtattr *list = IFLA_RTA(ifi);
	int rest = len - (int)NLMSG_LENGTH(sizeof(*ifi));
	ASSERT_TRUE(RTA_OK(list, rest));
	ASSERT_EQ(list->rta_type, IFLA_VFINFO_LIST);
	ASSERT_EQ(list->rta_len, rest);
	struct rtattr *info = RTA_DATA(list);
	ASSERT_EQ(info->rta_type, IFLA_VF_INFO);
	ASSERT_EQ(info->rta_len, RTA_PAYLOAD(list));
	struct rtattr *rate = RTA_DATA(info);
	ASSERT_EQ(rate->rta_type, IFLA_VF_RATE);
	ASSERT_EQ(rate->rta_len, RTA_LENGTH(sizeof(struct ifla_vf_rate)));
	ASSERT_EQ(RTA_PAYLOAD(info), RTA_ALIGN(rate->rta_len));
	struct ifla_vf_rate r;
	memcpy(&r, RTA_DATA(rate), sizeof(r));
	ASSERT_EQ(r.vf, 3);
	ASSERT_EQ(r.min_tx_rate, 40);  /* Mbit/s, both always present */
	ASSERT_EQ(r.max_tx_rate, 250);
	ASSERT_EQ(len, (int)NLMSG_LENGTH(sizeof(*ifi)) + RTA_LENGTH(RTA_LENGTH(RTA_LENGTH(12))));

	/* Refused: max 0 would disable throttling; min above max; too small a buffer. */
	ASSERT_EQ(sriov_build_rate_request(buf, sizeof(buf), 1, 5, 3, 0, 0), -EINVAL);
	ASSERT_EQ(sriov_build_rate_request(buf, sizeof(buf), 1, 5, 3, 300, 250), -EINVAL);
	ASSERT_EQ(sriov_build_rate_request(buf, 40, 1, 5, 3, 1, 2), -ENOSPC);

	/* The read request asks for VF information. */
	len = sriov_build_getlink_request(buf, sizeof(buf), 78, 5);
	ASSERT_GT(len, 0);
	ASSERT_EQ(h->nlmsg_type, RTM_GETLINK);
	struct rtattr *mask = IFLA_RTA(NLMSG_DATA(h));
	ASSERT_EQ(mask->rta_type, IFLA_EXT_MASK);
	ASSERT_EQ(*(uint32_t *)RTA_DATA(mask), RTEXT_FILTER_VF);
}

static struct rtattr *add(uint8_t *buf, size_t *used, unsigned short type, const void *data,
			  size_t n)
{
	struct rtattr *a = (struct rtattr *)(buf + *used);
	a->rta_type = type;
	a->rta_len = (unsigned short)RTA_LENGTH(n);
	if (data)
		memcpy(RTA_DATA(a), data, n);
	*used += RTA_ALIGN(a->rta_len);
	return a;
}

static void test_parse_link(void)
{
	uint8_t buf[1024];
	size_t used;
	memset(buf, 0, sizeof(buf));
	struct nlmsghdr *h = (struct nlmsghdr *)buf;
	h->nlmsg_type = RTM_NEWLINK;
	used = NLMSG_LENGTH(sizeof(struct ifinfomsg));
	uint32_t nvf = 4;
	add(buf, &used, IFLA_NUM_VF, &nvf, sizeof(nvf));
	struct rtattr *list = add(buf, &used, IFLA_VFINFO_LIST, NULL, 0);
	for (uint32_t vf = 0; vf < 2; vf++) {
		struct rtattr *info = add(buf, &used, IFLA_VF_INFO, NULL, 0);
		struct ifla_vf_rate r = {.vf = vf, .min_tx_rate = 10 * vf, .max_tx_rate = 100 + vf};
		add(buf, &used, IFLA_VF_RATE, &r, sizeof(r));
		struct rtattr *stats = add(buf, &used, IFLA_VF_STATS, NULL, 0);
		uint64_t tx = 1000000 + vf;
		add(buf, &used, IFLA_VF_STATS_TX_BYTES, &tx, sizeof(tx));
		stats->rta_len = (unsigned short)(buf + used - (uint8_t *)stats);
		info->rta_len = (unsigned short)(buf + used - (uint8_t *)info);
	}
	list->rta_len = (unsigned short)(buf + used - (uint8_t *)list);
	h->nlmsg_len = (uint32_t)used;
	int num_vf;
	struct sriov_vf_info v;
	ASSERT_OK(sriov_parse_link(buf, used, 1, &num_vf, &v));
	ASSERT_EQ(num_vf, 4);
	ASSERT_TRUE(v.found);
	ASSERT_EQ(v.min_tx_rate, 10);
	ASSERT_EQ(v.max_tx_rate, 101);
	ASSERT_TRUE(v.has_tx_bytes);
	ASSERT_EQ(v.tx_bytes, 1000001);
	ASSERT_OK(sriov_parse_link(buf, used, 3, &num_vf, &v));
	ASSERT_TRUE(!v.found);
	/* Truncated: refused, not read past the end. */
	ASSERT_NE(sriov_parse_link(buf, 10, 1, &num_vf, &v), 0);
	h->nlmsg_len = (uint32_t)used + 100;
	ASSERT_NE(sriov_parse_link(buf, used, 1, &num_vf, &v), 0);
}

static void test_veth(void)
{
	struct enf_error err;
	netns_enter("sriov");
	if (system("ip link add hasv0 type veth peer name hasv1") != 0)
		TEST_MISSING("cannot create a veth pair");
	struct ha_config *c = load_config(
		"[agent]\nhost = h\n[capacity]\nbandwidth_mbit = 1000\n[backends]\n"
		"bandwidth = sriov\n[tenant.t1]\npf = hasv0\nvf = 0\n");
	struct enf_handle *h = open_backend("sriov", c);
	ASSERT_EQ(enf_probe(h, ENF_BANDWIDTH, &err), -ENOTSUP);
	ASSERT_STR_CONTAINS(err.message, "hasv0 has no SR-IOV virtual functions");
	/* The kernel itself refuses a VF rate on a veth. */
	struct enf_setting s = {.quantity = 100};
	int ret = enf_apply(h, ENF_BANDWIDTH, &c->targets[0], &s, &err);
	ASSERT_TRUE(ret == -ENOTSUP || ret == -EOPNOTSUPP);
	ASSERT_STR_CONTAINS(err.message, "hasv0 VF 0 rate 100..100 Mbit/s");
	ASSERT_EQ(enf_read(h, ENF_BANDWIDTH, &c->targets[0], &s, &err), -ENOENT);
	enf_close(h);

	/* The agent starts, and registers bandwidth as unavailable with the reason. */
	struct ha_agent *a;
	char why[256];
	ASSERT_OK(ha_agent_create(c, &clk_real, &a, why, sizeof(why)));
	const char *reason;
	ASSERT_TRUE(!ha_agent_available(a, ENF_BANDWIDTH, &reason));
	uint8_t *buf;
	size_t len;
	ASSERT_OK(ha_agent_register_msg(a, 1, &buf, &len));
	Raas__Envelope *e = decode(buf, len);
	free(buf);
	bool seen = false;
	for (size_t i = 0; i < e->host_register->n_capacity; i++) {
		Raas__Capacity *cap = e->host_register->capacity[i];
		if (cap->resource != RAAS__RESOURCE__RESOURCE_BANDWIDTH)
			continue;
		seen = true;
		ASSERT_EQ(cap->available, false);
		ASSERT_EQ(cap->quantity, 1000);
		ASSERT_STR_CONTAINS(cap->reason, "no SR-IOV virtual functions");
	}
	ASSERT_TRUE(seen);
	wire_free(e);
	ha_agent_destroy(a);
	ha_config_destroy(c);
}

int main(void)
{
	log_init("test_sriov", LOG_ERROR, false);
	test_request_fields();
	test_parse_link();
	test_veth();
	return 0;
}
