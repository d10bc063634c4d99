/* backend_sriov.c: bandwidth enforcement with SR-IOV VF transmit rates (IFLA_VF_RATE).
 *
 * Each tenant is a VF of a physical function ([tenant.NAME] pf, vf). Its allocation in
 * Mbit/s becomes max_tx_rate, and min_tx_rate the same ([sriov] guarantee = true) or 0; both
 * are sent in every request. A tenant holding 0 gets max 1 Mbit/s, min 0 (0 would mean "no
 * limit"). Requests go over a plain NETLINK_ROUTE socket, built in sriov_build_*() (see
 * sriov.h). The probe asks the kernel for the PF's VF list: a link without VFs (a veth, a
 * NIC without SR-IOV) answers -ENOTSUP and the agent reports bandwidth unavailable. Meters
 * are the VFs' IFLA_VF_STATS transmit byte counters. */
#include <errno.h>
#include <linux/if_link.h>
#include <linux/netlink.h>
#include <linux/rtnetlink.h>
#include <net/if.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <unistd.h>

#include "common/error.h"
#include "hostagent/enf.h"
#include "sriov.h"

static const struct cfg_key sriov_keys[] = {
	{"sriov", "guarantee", CFG_BOOL, "true",
	 "also set min_tx_rate to the allocation (a guaranteed rate)"},
};

#define SRIOV_BUF 32768

struct sriov_state {
	const struct enf_target *targets; /* borrowed: probed together */
	size_t ntargets;
	int fd;
	uint32_t seq;
	bool guarantee;
	uint8_t *buf;
};

/* ---- Message building and parsing ---- */

struct nlbuf {
	uint8_t *p;
	size_t len, used;
};

static void *put(struct nlbuf *b, size_t n)
{
	size_t aligned = NLMSG_ALIGN(n);
	if (b->used + aligned > b->len)
		return NULL;
	void *at = b->p + b->used;
	memset(at, 0, aligned);
	b->used += aligned;
	return at;
}

static struct rtattr *attr_open(struct nlbuf *b, unsigned short type)
{
	struct rtattr *a = put(b, RTA_LENGTH(0));
	if (a)
		a->rta_type = type;
	return a;
}

static void attr_close(struct nlbuf *b, struct rtattr *a)
{
	a->rta_len = (unsigned short)(b->p + b->used - (uint8_t *)a);
}

static int attr_put(struct nlbuf *b, unsigned short type, const void *data, size_t n)
{
	struct rtattr *a = put(b, RTA_LENGTH(n));
	if (!a)
		return -ENOSPC;
	a->rta_type = type;
	a->rta_len = (unsigned short)RTA_LENGTH(n);
	memcpy(RTA_DATA(a), data, n);
	return 0;
}

/* max_mbit 0 (no limit) is refused unless unlimited_ok: only revert sends it. */
static int build_rate(void *buf, size_t len, uint32_t seq, int pf_ifindex, uint32_t vf,
		      uint32_t min_mbit, uint32_t max_mbit, bool unlimited_ok)
{
	struct nlbuf b = {buf, len, 0};
	struct nlmsghdr *h;
	struct ifinfomsg *ifi;
	struct rtattr *list, *info;
	struct ifla_vf_rate rate;

	if ((max_mbit == 0 && !unlimited_ok) || (max_mbit && min_mbit > max_mbit))
		return -EINVAL;
	if (!(h = put(&b, sizeof(*h))) || !(ifi = put(&b, sizeof(*ifi))))
		return -ENOSPC;
	h->nlmsg_type = RTM_SETLINK;
	h->nlmsg_flags = NLM_F_REQUEST | NLM_F_ACK;
	h->nlmsg_seq = seq;
	ifi->ifi_family = AF_UNSPEC;
	ifi->ifi_index = pf_ifindex;
	if (!(list = attr_open(&b, IFLA_VFINFO_LIST)) || !(info = attr_open(&b, IFLA_VF_INFO)))
		return -ENOSPC;
	memset(&rate, 0, sizeof(rate));
	rate.vf = vf;
	rate.min_tx_rate = min_mbit;
	rate.max_tx_rate = max_mbit;
	if (attr_put(&b, IFLA_VF_RATE, &rate, sizeof(rate)))
		return -ENOSPC;
	attr_close(&b, info);
	attr_close(&b, list);
	h->nlmsg_len = (uint32_t)b.used;
	return (int)b.used;
}

int sriov_build_rate_request(void *buf, size_t len, uint32_t seq, int pf_ifindex, uint32_t vf,
			     uint32_t min_mbit, uint32_t max_mbit)
{
	return build_rate(buf, len, seq, pf_ifindex, vf, min_mbit, max_mbit, false);
}

int sriov_build_getlink_request(void *buf, size_t len, uint32_t seq, int ifindex)
{
	struct nlbuf b = {buf, len, 0};
	struct nlmsghdr *h;
	struct ifinfomsg *ifi;
	uint32_t mask = RTEXT_FILTER_VF;

	if (!(h = put(&b, sizeof(*h))) || !(ifi = put(&b, sizeof(*ifi))))
		return -ENOSPC;
	h->nlmsg_type = RTM_GETLINK;
	h->nlmsg_flags = NLM_F_REQUEST;
	h->nlmsg_seq = seq;
	ifi->ifi_family = AF_UNSPEC;
	ifi->ifi_index = ifindex;
	if (attr_put(&b, IFLA_EXT_MASK, &mask, sizeof(mask)))
		return -ENOSPC;
	h->nlmsg_len = (uint32_t)b.used;
	return (int)b.used;
}

/* Iterates the attributes in [p, p + len); stops on a malformed one (returns -1). */
#define FOR_ATTR(a, p, len) \
	for (struct rtattr *a = (struct rtattr *)(p); RTA_OK(a, (int)(len)); \
	     a = RTA_NEXT(a, (len)))

static int parse_vf_info(struct rtattr *info, uint32_t vf, struct sriov_vf_info *out)
{
	int len = RTA_PAYLOAD(info);
	bool mine = false;
	struct sriov_vf_info v = {0};

	FOR_ATTR(a, RTA_DATA(info), len) {
		if (a->rta_type == IFLA_VF_RATE) {
			if (RTA_PAYLOAD(a) < sizeof(struct ifla_vf_rate))
				return -RAAS_EPROTO;
			struct ifla_vf_rate r;
			memcpy(&r, RTA_DATA(a), sizeof(r));
			if (r.vf == vf) {
				mine = true;
				v.min_tx_rate = r.min_tx_rate;
				v.max_tx_rate = r.max_tx_rate;
			}
		} else if (a->rta_type == IFLA_VF_TX_RATE && !v.max_tx_rate) {
			if (RTA_PAYLOAD(a) < sizeof(struct ifla_vf_tx_rate))
				return -RAAS_EPROTO;
			struct ifla_vf_tx_rate r;
			memcpy(&r, RTA_DATA(a), sizeof(r));
			if (r.vf == vf) {
				mine = true;
				v.max_tx_rate = r.rate;
			}
		} else if (a->rta_type == IFLA_VF_STATS) {
			int slen = RTA_PAYLOAD(a);
			FOR_ATTR(s, RTA_DATA(a), slen) {
				if (s->rta_type == IFLA_VF_STATS_TX_BYTES &&
				    RTA_PAYLOAD(s) >= sizeof(uint64_t)) {
					memcpy(&v.tx_bytes, RTA_DATA(s), sizeof(uint64_t));
					v.has_tx_bytes = true;
				}
			}
		}
	}
	if (mine) {
		v.found = true;
		*out = v;
	}
	return 0;
}

int sriov_parse_link(const void *msg, size_t len, uint32_t vf, int *num_vf,
		     struct sriov_vf_info *out)
{
	const struct nlmsghdr *h = msg;

	memset(out, 0, sizeof(*out));
	*num_vf = -1;
	if (len < NLMSG_LENGTH(sizeof(struct ifinfomsg)) || h->nlmsg_len > len ||
	    h->nlmsg_len < NLMSG_LENGTH(sizeof(struct ifinfomsg)) || h->nlmsg_type != RTM_NEWLINK)
		return -RAAS_EPROTO;
	int alen = (int)(h->nlmsg_len - NLMSG_LENGTH(sizeof(struct ifinfomsg)));
	FOR_ATTR(a, IFLA_RTA(NLMSG_DATA(h)), alen) {
		if (a->rta_type == IFLA_NUM_VF && RTA_PAYLOAD(a) >= sizeof(uint32_t)) {
			uint32_t n;
			memcpy(&n, RTA_DATA(a), sizeof(n));
			*num_vf = (int)n;
		} else if (a->rta_type == IFLA_VFINFO_LIST) {
			int llen = RTA_PAYLOAD(a);
			FOR_ATTR(i, RTA_DATA(a), llen) {
				if (i->rta_type == IFLA_VF_INFO && parse_vf_info(i, vf, out))
					return -RAAS_EPROTO;
			}
		}
	}
	return 0;
}

/* ---- Talking to the kernel ---- */

/* Sends req and reads until the answer to seq: an ack (returns 0 or its -errno) or, for a
 * GETLINK, the RTM_NEWLINK (parsed for vf). */
static int transact(struct sriov_state *s, const void *req, int len, uint32_t seq, uint32_t vf,
		    int *num_vf, struct sriov_vf_info *info)
{
	struct sockaddr_nl kernel = {.nl_family = AF_NETLINK};

	if (sendto(s->fd, req, (size_t)len, 0, (struct sockaddr *)&kernel, sizeof(kernel)) < 0)
		return -errno;
	for (;;) {
		ssize_t n = recv(s->fd, s->buf, SRIOV_BUF, 0);
		if (n < 0)
			return errno == EAGAIN ? -ETIMEDOUT : -errno;
		size_t left = (size_t)n;
		for (struct nlmsghdr *h = (struct nlmsghdr *)s->buf; NLMSG_OK(h, left);
		     h = NLMSG_NEXT(h, left)) {
			if (h->nlmsg_seq != seq)
				continue;
			if (h->nlmsg_type == NLMSG_ERROR) {
				const struct nlmsgerr *e = NLMSG_DATA(h);
				return e->error;
			}
			if (h->nlmsg_type == RTM_NEWLINK && info)
				return sriov_parse_link(h, h->nlmsg_len, vf, num_vf, info);
		}
	}
}

static int getlink(struct sriov_state *s, const struct enf_target *t, int *num_vf,
		   struct sriov_vf_info *info, struct enf_error *err)
{
	uint8_t req[256];
	unsigned idx = if_nametoindex(t->pf);

	if (!idx)
		return enf_fail(err, -ENODEV, "sriov: no interface %s (tenant %s's PF)", t->pf,
				t->tenant);
	uint32_t seq = ++s->seq;
	int len = sriov_build_getlink_request(req, sizeof(req), seq, (int)idx);
	int ret = transact(s, req, len, seq, (uint32_t)t->vf, num_vf, info);
	if (ret)
		return enf_fail(err, ret, "sriov: reading %s's VFs: %s", t->pf, strerror(-ret));
	return 0;
}

static int sriov_create(const struct cfg *cfg, const struct enf_target *targets, size_t n,
			struct enf_instance *inst, struct enf_error *err)
{
	struct sriov_state *s = calloc(1, sizeof(*s));
	struct sockaddr_nl local = {.nl_family = AF_NETLINK};
	struct timeval tv = {.tv_sec = 2};

	if (!s || !(s->buf = malloc(SRIOV_BUF))) {
		free(s);
		return enf_fail(err, -ENOMEM, "out of memory");
	}
	s->guarantee = true;
	if (cfg) {
		struct cfg_error ce;
		if (cfg_get_bool(cfg, "sriov", "guarantee", &s->guarantee, &ce)) {
			free(s->buf);
			free(s);
			return enf_fail(err, -RAAS_ECONFIG, "sriov: %s", ce.message);
		}
	}
	for (size_t i = 0; i < n; i++) {
		if (!targets[i].pf || targets[i].vf < 0) {
			free(s->buf);
			free(s);
			return enf_fail(err, -RAAS_ECONFIG, "sriov: tenant %s needs pf and vf",
					targets[i].tenant);
		}
	}
	s->fd = socket(AF_NETLINK, SOCK_RAW | SOCK_CLOEXEC, NETLINK_ROUTE);
	if (s->fd < 0 || bind(s->fd, (struct sockaddr *)&local, sizeof(local)) < 0 ||
	    setsockopt(s->fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv)) < 0) {
		int e = -errno;
		if (s->fd >= 0)
			close(s->fd);
		free(s->buf);
		free(s);
		return enf_fail(err, e, "sriov: netlink socket: %s", strerror(-e));
	}
	s->targets = targets;
	s->ntargets = n;
	inst->state = s;
	return 0;
}

static void sriov_destroy(struct enf_instance *inst)
{
	struct sriov_state *s = inst->state;
	if (!s)
		return;
	close(s->fd);
	free(s->buf);
	free(s);
}

static int sriov_probe(struct enf_instance *inst, enum enf_resource res, struct enf_error *err)
{
	struct sriov_state *s = inst->state;
	for (size_t i = 0; i < s->ntargets; i++) {
		const struct enf_target *t = &s->targets[i];
		int num_vf;
		struct sriov_vf_info info;
		int ret = getlink(s, t, &num_vf, &info, err);
		if (ret)
			return ret;
		if (num_vf <= 0)
			return enf_fail(err, -ENOTSUP, "sriov: %s has no SR-IOV virtual functions "
					   "(tenant %s wants VF %d)", t->pf, t->tenant, t->vf);
		if (t->vf >= num_vf)
			return enf_fail(err, -ENOTSUP, "sriov: %s has %d VFs, tenant %s wants VF %d",
					t->pf, num_vf, t->tenant, t->vf);
	}
	return 0;
}

static int sriov_apply(struct enf_instance *inst, enum enf_resource res, const struct enf_target *t,
		       const struct enf_setting *st, struct enf_error *err)
{
	struct sriov_state *s = inst->state;
	uint8_t req[256];
	uint32_t max = st->quantity > 0 ? (uint32_t)st->quantity : 1;
	uint32_t min = st->quantity > 0 && s->guarantee ? max : 0;
	unsigned idx = if_nametoindex(t->pf);

	if (st->quantity > UINT32_MAX)
		return enf_fail(err, -ERANGE, "sriov: %lld Mbit/s does not fit a VF rate",
				(long long)st->quantity);
	if (!idx)
		return enf_fail(err, -ENODEV, "sriov: no interface %s (tenant %s's PF)", t->pf,
				t->tenant);
	uint32_t seq = ++s->seq;
	int len = sriov_build_rate_request(req, sizeof(req), seq, (int)idx, (uint32_t)t->vf, min,
					   max);
	if (len < 0)
		return enf_fail(err, len, "sriov: building the request: %s", strerror(-len));
	int ret = transact(s, req, len, seq, 0, NULL, NULL);
	if (ret == -EOPNOTSUPP)
		ret = -ENOTSUP;
	if (ret)
		return enf_fail(err, ret, "sriov: %s VF %d rate %u..%u Mbit/s for %s: %s", t->pf,
				t->vf, min, max, t->tenant, strerror(-ret));
	return 0;
}

static int sriov_read(struct enf_instance *inst, enum enf_resource res, const struct enf_target *t,
		      struct enf_setting *out, struct enf_error *err)
{
	struct sriov_state *s = inst->state;
	int num_vf;
	struct sriov_vf_info info;
	int ret = getlink(s, t, &num_vf, &info, err);

	if (ret)
		return ret;
	if (!info.found || info.max_tx_rate == 0)
		return -ENOENT;
	out->quantity = info.max_tx_rate == 1 && info.min_tx_rate == 0 ? 0 : info.max_tx_rate;
	return 0;
}

/* Reverting sends max 0 (no limit) and min 0, the VF's state before the agent. */
static int sriov_revert(struct enf_instance *inst, enum enf_resource res,
			const struct enf_target *t,
			struct enf_error *err)
{
	struct sriov_state *s = inst->state;
	uint8_t req[256];
	unsigned idx = if_nametoindex(t->pf);

	if (!idx)
		return enf_fail(err, -ENODEV, "sriov: no interface %s", t->pf);
	uint32_t seq = ++s->seq;
	int len = build_rate(req, sizeof(req), seq, (int)idx, (uint32_t)t->vf, 0, 0, true);
	if (len < 0)
		return enf_fail(err, len, "sriov: building the request");
	int ret = transact(s, req, len, seq, 0, NULL, NULL);
	if (ret)
		return enf_fail(err, ret, "sriov: clearing %s VF %d: %s", t->pf, t->vf,
				strerror(-ret));
	return 0;
}

static int sriov_meter(struct enf_instance *inst, enum enf_resource res,
		       const struct enf_target *targets, size_t n, struct enf_meter *out,
		       struct enf_error *err)
{
	struct sriov_state *s = inst->state;
	for (size_t i = 0; i < n; i++) {
		int num_vf;
		struct sriov_vf_info info;
		if (getlink(s, &targets[i], &num_vf, &info, err) || !info.has_tx_bytes)
			continue;
		out[i].has_tx = true;
		out[i].tx_bytes = info.tx_bytes;
	}
	return 0;
}

const struct enf_backend enf_backend_sriov = {
	.api_version = ENF_API_VERSION,
	.size = sizeof(struct enf_backend),
	.name = "sriov",
	.summary = "bandwidth: SR-IOV VF min/max transmit rate (IFLA_VF_RATE)",
	.resources = ENF_RES_BIT(ENF_BANDWIDTH),
	.config_keys = sriov_keys,
	.nconfig_keys = sizeof(sriov_keys) / sizeof(sriov_keys[0]),
	.create = sriov_create,
	.destroy = sriov_destroy,
	.probe = sriov_probe,
	.apply = sriov_apply,
	.read = sriov_read,
	.revert = sriov_revert,
	.meter = sriov_meter,
};
