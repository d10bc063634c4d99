/* backend_tc.c: bandwidth enforcement with a Linux HTB qdisc, one class per tenant, over
 * netlink with libnl-route-3.
 *
 * Each interface named by a tenant gets a root HTB qdisc (handle MAJOR:, [tc] handle); each
 * tenant an HTB class MAJOR:CLASS whose rate and ceil are its allocation (no borrowing: a
 * tenant gets what it bought), and, when the tenant has a source address, a u32 filter with
 * the fixed handle 800::CLASS sending that source to the class. A tenant without a source is
 * the interface's default class (HTB defcls). Traffic matching no tenant is sent unshaped.
 *
 * Changes are made in place: an existing qdisc of ours is kept, an existing class is changed
 * with RTM_NEWTCLASS (no NLM_F_EXCL), never deleted and re-created, so a tenant's traffic and
 * its counters carry on through a rate change and through an agent restart. Units: the
 * allocation is Mbit/s; HTB takes bytes/s (rate64). A tenant holding 0 gets the floor rate
 * ([tc] floor_kbit, below 0.5 Mbit/s so that it reads back as 0). Each class's queue is a
 * bfifo of [tc] queue_ms at its rate, so a tenant's own backlog stays bounded in time.
 * Meters are the classes' byte counters, read with one class dump per interface. */
#include <arpa/inet.h>
#include <errno.h>
#include <linux/if_ether.h>
#include <linux/pkt_sched.h>
#include <net/if.h>
#include <netlink/netlink.h>
#include <netlink/route/class.h>
#include <netlink/route/classifier.h>
#include <netlink/route/cls/u32.h>
#include <netlink/route/qdisc.h>
#include <netlink/route/qdisc/fifo.h>
#include <netlink/route/qdisc/htb.h>
#include <netlink/route/tc.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "common/error.h"
#include "hostagent/enf.h"

static const struct cfg_key tc_keys[] = {
	{"tc", "handle", CFG_INT, "1", "major number of the HTB qdisc the agent owns (1..0xfffe)"},
	{"tc", "floor_kbit", CFG_INT, "100", "rate of a tenant holding 0, kbit/s (8..499)"},
	{"tc", "filter_prio", CFG_INT, "10", "priority of the agent's u32 filters"},
	{"tc", "burst_ms", CFG_INT, "10", "bucket depth in milliseconds at the class's rate "
					 "(at least 64 KiB + one MTU)"},
	{"tc", "queue_ms", CFG_INT, "100", "each class's queue (a bfifo) holds this many "
					   "milliseconds at its rate (at least 128 KiB)"},
};

#define TC_LEAF_MAJOR 0x1000 /* a class's leaf bfifo is (0x1000 + class minor): */

#define TC_FILTER_HT 0x800u
#define TC_CACHE_TTL_NS 100000000 /* class/filter dumps reused for 100 ms by read() */

struct tc_iface {
	char name[IFNAMSIZ];
	int ifindex;
	bool qdisc_ready;
	uint32_t defcls;
	struct nl_cache *classes;
	struct nl_cache *filters;
	int64_t dumped_ns;
};

struct tc_state {
	struct nl_sock *sk;
	uint32_t major;
	uint64_t floor_bps;   /* bytes/s */
	uint16_t prio;
	int64_t burst_ms;
	int64_t queue_ms;
	const struct enf_target *targets;
	size_t ntargets;
	struct tc_iface *ifaces;
	size_t nifaces;
	size_t *iface_of;     /* per target */
	bool *filter_ok;      /* per target: our filter is known installed */
};

static int64_t now_ns(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

/* libnl error -> negative errno. */
static int nl_errno(int nlerr)
{
	switch (nlerr < 0 ? -nlerr : nlerr) {
	case NLE_NOMEM: return -ENOMEM;
	case NLE_EXIST: return -EEXIST;
	case NLE_INVAL: return -EINVAL;
	case NLE_RANGE: return -ERANGE;
	case NLE_OPNOTSUPP: return -ENOTSUP;
	case NLE_OBJ_NOTFOUND: return -ENOENT;
	case NLE_BUSY: return -EBUSY;
	case NLE_NOACCESS: return -EACCES;
	case NLE_PERM: return -EPERM;
	case NLE_NODEV: return -ENODEV;
	case NLE_AGAIN: return -EAGAIN;
	default: return -EIO;
	}
}

static struct tc_iface *iface(struct tc_state *tc, const struct enf_target *t)
{
	return &tc->ifaces[tc->iface_of[t->index]];
}

static int resolve(struct tc_iface *ifc, struct enf_error *err)
{
	unsigned idx = if_nametoindex(ifc->name);
	if (!idx)
		return enf_fail(err, -ENODEV, "tc: no interface %s in this network namespace",
				ifc->name);
	if ((int)idx != ifc->ifindex) {
		/* New or re-created interface: forget what we knew about it. */
		ifc->ifindex = (int)idx;
		ifc->qdisc_ready = false;
		ifc->dumped_ns = 0;
	}
	return 0;
}

static int tc_create(const struct cfg *cfg, const struct enf_target *targets, size_t n,
		     struct enf_instance *inst, struct enf_error *err)
{
	struct tc_state *tc = calloc(1, sizeof(*tc));
	struct cfg_error ce;
	int64_t major = 1, floor = 100, prio = 10, burst = 10, queue = 100;
	int ret;

	if (!tc)
		return enf_fail(err, -ENOMEM, "out of memory");
	if (cfg && (cfg_get_int(cfg, "tc", "handle", &major, &ce) ||
		    cfg_get_int(cfg, "tc", "floor_kbit", &floor, &ce) ||
		    cfg_get_int(cfg, "tc", "filter_prio", &prio, &ce) ||
		    cfg_get_int(cfg, "tc", "burst_ms", &burst, &ce) ||
		    cfg_get_int(cfg, "tc", "queue_ms", &queue, &ce))) {
		free(tc);
		return enf_fail(err, -RAAS_ECONFIG, "tc: %s", ce.message);
	}
	if (major < 1 || major > 0xfffe || floor < 8 || floor > 499 || prio < 1 ||
	    prio > 0xffff || burst < 1 || burst > 1000 || queue < 1 || queue > 10000) {
		free(tc);
		return enf_fail(err, -RAAS_ECONFIG,
				"tc: handle must be 1..0xfffe, floor_kbit 8..499, filter_prio "
				"1..65535, burst_ms 1..1000, queue_ms 1..10000");
	}
	tc->queue_ms = queue;
	tc->major = (uint32_t)major;
	tc->floor_bps = (uint64_t)floor * 1000 / 8;
	tc->prio = (uint16_t)prio;
	tc->burst_ms = burst;
	tc->targets = targets;
	tc->ntargets = n;
	tc->ifaces = calloc(n ? n : 1, sizeof(*tc->ifaces));
	tc->iface_of = calloc(n ? n : 1, sizeof(size_t));
	tc->filter_ok = calloc(n ? n : 1, sizeof(bool));
	tc->sk = nl_socket_alloc();
	if (!tc->ifaces || !tc->iface_of || !tc->filter_ok || !tc->sk) {
		ret = enf_fail(err, -ENOMEM, "out of memory");
		goto fail;
	}
	ret = nl_connect(tc->sk, NETLINK_ROUTE);
	if (ret < 0) {
		ret = enf_fail(err, nl_errno(ret), "tc: netlink: %s", nl_geterror(ret));
		goto fail;
	}
	for (size_t i = 0; i < n; i++) {
		const struct enf_target *t = &targets[i];
		if (!t->ifname || !t->tc_class || t->tc_class > 0xfff) {
			ret = enf_fail(err, -RAAS_ECONFIG, "tc: tenant %s needs interface and class "
					   "1..0xfff", t->tenant);
			goto fail;
		}
		size_t k;
		for (k = 0; k < tc->nifaces; k++)
			if (strcmp(tc->ifaces[k].name, t->ifname) == 0)
				break;
		if (k == tc->nifaces) {
			snprintf(tc->ifaces[k].name, IFNAMSIZ, "%s", t->ifname);
			tc->nifaces++;
		}
		tc->iface_of[t->index] = k;
		if (!t->src_prefix)
			tc->ifaces[k].defcls = TC_HANDLE(tc->major, t->tc_class);
	}
	inst->state = tc;
	return 0;
fail:
	if (tc->sk)
		nl_socket_free(tc->sk);
	free(tc->ifaces);
	free(tc->iface_of);
	free(tc->filter_ok);
	free(tc);
	return ret;
}

static void tc_destroy(struct enf_instance *inst)
{
	struct tc_state *tc = inst->state;
	if (!tc)
		return;
	for (size_t i = 0; i < tc->nifaces; i++) {
		if (tc->ifaces[i].classes)
			nl_cache_free(tc->ifaces[i].classes);
		if (tc->ifaces[i].filters)
			nl_cache_free(tc->ifaces[i].filters);
	}
	nl_socket_free(tc->sk);
	free(tc->ifaces);
	free(tc->iface_of);
	free(tc->filter_ok);
	free(tc);
}

static int tc_probe(struct enf_instance *inst, enum enf_resource res, struct enf_error *err)
{
	struct tc_state *tc = inst->state;
	for (size_t i = 0; i < tc->nifaces; i++) {
		int ret = resolve(&tc->ifaces[i], err);
		if (ret)
			return ret;
	}
	return 0;
}

/* Makes sure our HTB qdisc is the root qdisc of ifc, keeping it when it already is. */
static int ensure_qdisc(struct tc_state *tc, struct tc_iface *ifc, struct enf_error *err)
{
	struct nl_cache *cache;
	int ret;

	if (ifc->qdisc_ready)
		return 0;
	ret = rtnl_qdisc_alloc_cache(tc->sk, &cache);
	if (ret < 0)
		return enf_fail(err, nl_errno(ret), "tc: dumping qdiscs: %s", nl_geterror(ret));
	struct rtnl_qdisc *q = rtnl_qdisc_get_by_parent(cache, ifc->ifindex, TC_H_ROOT);
	bool ours = q && rtnl_tc_get_kind(TC_CAST(q)) &&
		    strcmp(rtnl_tc_get_kind(TC_CAST(q)), "htb") == 0 &&
		    rtnl_tc_get_handle(TC_CAST(q)) == TC_HANDLE(tc->major, 0);
	if (q)
		rtnl_qdisc_put(q);
	nl_cache_free(cache);
	if (ours) {
		ifc->qdisc_ready = true;
		return 0;
	}
	q = rtnl_qdisc_alloc();
	if (!q)
		return enf_fail(err, -ENOMEM, "out of memory");
	rtnl_tc_set_ifindex(TC_CAST(q), ifc->ifindex);
	rtnl_tc_set_parent(TC_CAST(q), TC_H_ROOT);
	rtnl_tc_set_handle(TC_CAST(q), TC_HANDLE(tc->major, 0));
	rtnl_tc_set_kind(TC_CAST(q), "htb");
	rtnl_htb_set_defcls(q, ifc->defcls ? TC_H_MIN(ifc->defcls) : 0);
	rtnl_htb_set_rate2quantum(q, 10);
	ret = rtnl_qdisc_add(tc->sk, q, NLM_F_CREATE | NLM_F_REPLACE);
	rtnl_qdisc_put(q);
	if (ret < 0)
		return enf_fail(err, nl_errno(ret), "tc: adding the HTB qdisc %x: on %s: %s",
				tc->major, ifc->name, nl_geterror(ret));
	ifc->qdisc_ready = true;
	ifc->dumped_ns = 0;
	return 0;
}

static uint64_t rate_of(const struct tc_state *tc, const struct enf_setting *s)
{
	if (s->quantity == 0)
		return tc->floor_bps;
	return (uint64_t)s->quantity * 1000000 / 8;
}

static int set_class(struct tc_state *tc, struct tc_iface *ifc, const struct enf_target *t,
		     uint64_t bps, struct enf_error *err)
{
	struct rtnl_class *c = rtnl_class_alloc();
	uint64_t burst = bps * (uint64_t)tc->burst_ms / 1000;
	uint64_t quantum = bps / 10;
	int ret;

	if (!c)
		return enf_fail(err, -ENOMEM, "out of memory");
	if (burst < 65536 + 1514)
		burst = 65536 + 1514;
	if (quantum < 1514)
		quantum = 1514;
	if (quantum > 200000)
		quantum = 200000;
	rtnl_tc_set_ifindex(TC_CAST(c), ifc->ifindex);
	rtnl_tc_set_parent(TC_CAST(c), TC_HANDLE(tc->major, 0));
	rtnl_tc_set_handle(TC_CAST(c), TC_HANDLE(tc->major, t->tc_class));
	rtnl_tc_set_kind(TC_CAST(c), "htb");
	rtnl_tc_set_mtu(TC_CAST(c), 1600);
	rtnl_htb_set_rate64(c, bps);
	rtnl_htb_set_ceil64(c, bps);
	rtnl_htb_set_rbuffer(c, (uint32_t)burst);
	rtnl_htb_set_cbuffer(c, (uint32_t)burst);
	rtnl_htb_set_quantum(c, (uint32_t)quantum);
	/* NLM_F_CREATE without NLM_F_EXCL: the kernel changes an existing class in place. */
	ret = rtnl_class_add(tc->sk, c, NLM_F_CREATE);
	rtnl_class_put(c);
	if (ret < 0)
		return enf_fail(err, nl_errno(ret), "tc: class %x:%x on %s for %s: %s", tc->major,
				t->tc_class, ifc->name, t->tenant, nl_geterror(ret));
	ifc->dumped_ns = 0;
	return 0;
}

/* Bounds the class's queue: a bfifo of queue_ms at its rate, created or changed in place
 * (a fifo's limit changes without dropping what is queued). Without it the leaf would be a
 * pfifo of txqueuelen packets: seconds of queueing at low rates with jumbo frames. */
static int set_leaf(struct tc_state *tc, struct tc_iface *ifc, const struct enf_target *t,
		    uint64_t bps, struct enf_error *err)
{
	struct rtnl_qdisc *q = rtnl_qdisc_alloc();
	uint64_t limit = bps * (uint64_t)tc->queue_ms / 1000;
	int ret;

	if (!q)
		return enf_fail(err, -ENOMEM, "out of memory");
	if (limit < 131072)
		limit = 131072;
	if (limit > INT32_MAX)
		limit = INT32_MAX;
	rtnl_tc_set_ifindex(TC_CAST(q), ifc->ifindex);
	rtnl_tc_set_parent(TC_CAST(q), TC_HANDLE(tc->major, t->tc_class));
	rtnl_tc_set_handle(TC_CAST(q), TC_HANDLE(TC_LEAF_MAJOR + t->tc_class, 0));
	rtnl_tc_set_kind(TC_CAST(q), "bfifo");
	rtnl_qdisc_fifo_set_limit(q, (int)limit);
	ret = rtnl_qdisc_add(tc->sk, q, NLM_F_CREATE | NLM_F_REPLACE);
	rtnl_qdisc_put(q);
	if (ret < 0)
		return enf_fail(err, nl_errno(ret), "tc: queue of class %x:%x on %s for %s: %s",
				tc->major, t->tc_class, ifc->name, t->tenant, nl_geterror(ret));
	return 0;
}

static struct rtnl_cls *filter_alloc(struct tc_state *tc, struct tc_iface *ifc,
				     const struct enf_target *t)
{
	struct rtnl_cls *f = rtnl_cls_alloc();
	if (!f)
		return NULL;
	rtnl_tc_set_ifindex(TC_CAST(f), ifc->ifindex);
	rtnl_tc_set_parent(TC_CAST(f), TC_HANDLE(tc->major, 0));
	rtnl_tc_set_kind(TC_CAST(f), "u32");
	rtnl_cls_set_prio(f, tc->prio);
	rtnl_cls_set_protocol(f, ETH_P_IP);
	rtnl_u32_set_handle(f, TC_FILTER_HT, 0, (int)t->tc_class);
	return f;
}

static int set_filter(struct tc_state *tc, struct tc_iface *ifc, const struct enf_target *t,
		      struct enf_error *err)
{
	struct rtnl_cls *f = filter_alloc(tc, ifc, t);
	int ret;

	if (!f)
		return enf_fail(err, -ENOMEM, "out of memory");
	uint32_t mask = t->src_prefix == 32 ? 0xffffffffu : ~(0xffffffffu >> t->src_prefix);
	rtnl_u32_set_classid(f, TC_HANDLE(tc->major, t->tc_class));
	rtnl_u32_set_cls_terminal(f);
	/* IPv4 source address at offset 12 of the IP header (libnl takes host order). */
	ret = rtnl_u32_add_key_uint32(f, ntohl(t->src_addr), mask, 12, 0);
	if (ret >= 0)
		ret = rtnl_cls_add(tc->sk, f, NLM_F_CREATE);
	rtnl_cls_put(f);
	if (ret < 0)
		return enf_fail(err, nl_errno(ret), "tc: u32 filter for %s on %s: %s", t->tenant,
				ifc->name, nl_geterror(ret));
	ifc->dumped_ns = 0;
	return 0;
}

static int tc_apply(struct enf_instance *inst, enum enf_resource res, const struct enf_target *t,
		    const struct enf_setting *s, struct enf_error *err)
{
	struct tc_state *tc = inst->state;
	struct tc_iface *ifc = iface(tc, t);
	int ret = resolve(ifc, err);

	if (!ret)
		ret = ensure_qdisc(tc, ifc, err);
	if (!ret)
		ret = set_class(tc, ifc, t, rate_of(tc, s), err);
	if (!ret)
		ret = set_leaf(tc, ifc, t, rate_of(tc, s), err);
	if (!ret && t->src_prefix && !tc->filter_ok[t->index]) {
		ret = set_filter(tc, ifc, t, err);
		if (!ret)
			tc->filter_ok[t->index] = true;
	}
	return ret;
}

/* Refreshes the class and filter dumps of ifc when older than max_age_ns. */
static int dump(struct tc_state *tc, struct tc_iface *ifc, int64_t max_age_ns,
		struct enf_error *err)
{
	int64_t now = now_ns();
	int ret;

	if (ifc->classes && ifc->dumped_ns && now - ifc->dumped_ns <= max_age_ns)
		return 0;
	if (ifc->classes)
		nl_cache_free(ifc->classes);
	if (ifc->filters)
		nl_cache_free(ifc->filters);
	ifc->classes = ifc->filters = NULL;
	ret = rtnl_class_alloc_cache(tc->sk, ifc->ifindex, &ifc->classes);
	if (ret >= 0)
		ret = rtnl_cls_alloc_cache(tc->sk, ifc->ifindex, TC_HANDLE(tc->major, 0),
					   &ifc->filters);
	if (ret < 0)
		return enf_fail(err, nl_errno(ret), "tc: dumping classes of %s: %s", ifc->name,
				nl_geterror(ret));
	ifc->dumped_ns = now;
	return 0;
}

static bool has_filter(struct tc_state *tc, struct tc_iface *ifc, const struct enf_target *t)
{
	uint32_t want = (TC_FILTER_HT << 20) | t->tc_class;
	for (struct nl_object *o = nl_cache_get_first(ifc->filters); o; o = nl_cache_get_next(o)) {
		struct rtnl_cls *f = (struct rtnl_cls *)o;
		uint32_t classid;
		const char *kind = rtnl_tc_get_kind(TC_CAST(f));
		if (!kind || strcmp(kind, "u32") != 0 || rtnl_tc_get_handle(TC_CAST(f)) != want)
			continue;
		if (rtnl_u32_get_classid(f, &classid) == 0 &&
		    classid == TC_HANDLE(tc->major, t->tc_class))
			return true;
	}
	return false;
}

static int tc_read(struct enf_instance *inst, enum enf_resource res, const struct enf_target *t,
		   struct enf_setting *out, struct enf_error *err)
{
	struct tc_state *tc = inst->state;
	struct tc_iface *ifc = iface(tc, t);
	uint64_t bps = 0;
	int ret = resolve(ifc, err);

	if (!ret)
		ret = dump(tc, ifc, TC_CACHE_TTL_NS, err);
	if (ret)
		return ret;
	struct rtnl_class *c = rtnl_class_get(ifc->classes, ifc->ifindex,
					      TC_HANDLE(tc->major, t->tc_class));
	if (!c)
		return -ENOENT;
	const char *kind = rtnl_tc_get_kind(TC_CAST(c));
	bool htb = kind && strcmp(kind, "htb") == 0;
	if (htb && rtnl_htb_get_rate64(c, &bps) < 0)
		bps = rtnl_htb_get_rate(c);
	rtnl_class_put(c);
	if (!htb)
		return enf_fail(err, -EPROTO, "tc: class %x:%x on %s is not an HTB class",
				tc->major, t->tc_class, ifc->name);
	if (t->src_prefix) {
		tc->filter_ok[t->index] = has_filter(tc, ifc, t);
		if (!tc->filter_ok[t->index])
			return -ENOENT; /* a class nobody's traffic reaches: not enforced */
	}
	ifc->qdisc_ready = true;
	/* Mbit/s, to the nearest: the floor (< 0.5 Mbit/s) reads back as 0. */
	out->quantity = (int64_t)((bps * 8 + 500000) / 1000000);
	return 0;
}

static int tc_revert(struct enf_instance *inst, enum enf_resource res, const struct enf_target *t,
		     struct enf_error *err)
{
	struct tc_state *tc = inst->state;
	struct tc_iface *ifc = iface(tc, t);
	int ret = resolve(ifc, err);

	if (ret)
		return ret;
	if (t->src_prefix) {
		struct rtnl_cls *f = filter_alloc(tc, ifc, t);
		if (!f)
			return enf_fail(err, -ENOMEM, "out of memory");
		ret = rtnl_cls_delete(tc->sk, f, 0);
		rtnl_cls_put(f);
		if (ret < 0 && nl_errno(ret) != -ENOENT && nl_errno(ret) != -EINVAL)
			return enf_fail(err, nl_errno(ret), "tc: deleting %s's filter on %s: %s",
					t->tenant, ifc->name, nl_geterror(ret));
		tc->filter_ok[t->index] = false;
	}
	struct rtnl_class *c = rtnl_class_alloc();
	if (!c)
		return enf_fail(err, -ENOMEM, "out of memory");
	rtnl_tc_set_ifindex(TC_CAST(c), ifc->ifindex);
	rtnl_tc_set_parent(TC_CAST(c), TC_HANDLE(tc->major, 0));
	rtnl_tc_set_handle(TC_CAST(c), TC_HANDLE(tc->major, t->tc_class));
	ret = rtnl_class_delete(tc->sk, c);
	rtnl_class_put(c);
	ifc->dumped_ns = 0;
	if (ret < 0 && nl_errno(ret) != -ENOENT && nl_errno(ret) != -EINVAL)
		return enf_fail(err, nl_errno(ret), "tc: deleting %s's class on %s: %s",
				t->tenant, ifc->name, nl_geterror(ret));
	return 0;
}

static int tc_meter(struct enf_instance *inst, enum enf_resource res,
		    const struct enf_target *targets, size_t n, struct enf_meter *out,
		    struct enf_error *err)
{
	struct tc_state *tc = inst->state;
	for (size_t k = 0; k < tc->nifaces; k++)
		tc->ifaces[k].dumped_ns = 0; /* meters are always fresh */
	for (size_t i = 0; i < n; i++) {
		const struct enf_target *t = &targets[i];
		struct tc_iface *ifc = iface(tc, t);
		if (resolve(ifc, err) || dump(tc, ifc, INT64_MAX, err))
			continue; /* a vanished interface has no meters this round */
		struct rtnl_class *c = rtnl_class_get(ifc->classes, ifc->ifindex,
						      TC_HANDLE(tc->major, t->tc_class));
		if (!c)
			continue;
		out[i].has_tx = true;
		out[i].tx_bytes = rtnl_tc_get_stat(TC_CAST(c), RTNL_TC_BYTES);
		rtnl_class_put(c);
	}
	return 0;
}

const struct enf_backend enf_backend_tc = {
	.api_version = ENF_API_VERSION,
	.size = sizeof(struct enf_backend),
	.name = "tc",
	.summary = "bandwidth: an HTB class per tenant over netlink (libnl-route)",
	.resources = ENF_RES_BIT(ENF_BANDWIDTH),
	.config_keys = tc_keys,
	.nconfig_keys = sizeof(tc_keys) / sizeof(tc_keys[0]),
	.create = tc_create,
	.destroy = tc_destroy,
	.probe = tc_probe,
	.apply = tc_apply,
	.read = tc_read,
	.revert = tc_revert,
	.meter = tc_meter,
};
