/* sriov.h: the netlink messages of the `sriov` bandwidth backend, private to it and its tests.
 *
 * The backend sets a VF's transmit rate on its physical function with one RTM_SETLINK
 * request: ifinfomsg(PF) / IFLA_VFINFO_LIST / IFLA_VF_INFO / IFLA_VF_RATE {vf, min_tx_rate,
 * max_tx_rate}, rates in Mbit/s, both always sent together (a driver given one would reset
 * the other). The request is built here byte by byte, so that a test can check every field
 * on a machine without SR-IOV; the read-back parses RTM_NEWLINK answers to an RTM_GETLINK
 * carrying IFLA_EXT_MASK = RTEXT_FILTER_VF. */
#ifndef HOSTAGENT_SRIOV_H
#define HOSTAGENT_SRIOV_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* Writes the RTM_SETLINK request into buf (len bytes, NLMSG_ALIGNed). Returns the message
 * length, or -ENOSPC when buf is too small, -EINVAL when min > max or max == 0 (0 would
 * disable throttling). */
int sriov_build_rate_request(void *buf, size_t len, uint32_t seq, int pf_ifindex, uint32_t vf,
			     uint32_t min_mbit, uint32_t max_mbit);
/* Writes an RTM_GETLINK request for one link with VF information. Returns the length or
 * -ENOSPC. */
int sriov_build_getlink_request(void *buf, size_t len, uint32_t seq, int ifindex);

struct sriov_vf_info {
	bool found;            /* the VF was in the answer */
	uint32_t min_tx_rate;  /* Mbit/s */
	uint32_t max_tx_rate;  /* Mbit/s; 0: not throttled */
	bool has_tx_bytes;
	uint64_t tx_bytes;
};

/* Parses one RTM_NEWLINK message (msg, len bytes, starting at its nlmsghdr): the number of
 * VFs (IFLA_NUM_VF; -1 when absent) and what it says about VF vf. Returns 0 or
 * -RAAS_EPROTO for a malformed message. */
int sriov_parse_link(const void *msg, size_t len, uint32_t vf, int *num_vf,
		     struct sriov_vf_info *out);

#endif
