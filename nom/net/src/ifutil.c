/* ifutil.c: kernel interface helpers for the drivers: index, MAC, MTU, link up, offloads.
 *
 * A software stack at the far end of a veth (or behind AF_PACKET) must get complete frames:
 * the kernel otherwise hands it TCP segments whose checksum is only the pseudo-header sum
 * (transmit checksum offload) or 64 KiB super-frames (TSO, GSO, GRO). nomnet_if_prepare()
 * turns those offloads off with the ethtool ioctls, the same switches `ethtool -K` flips. */
#include <errno.h>
#include <linux/ethtool.h>
#include <linux/sockios.h>
#include <net/if.h>
#include <stdio.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/random.h>
#include <sys/socket.h>
#include <unistd.h>

#include "common/log.h"
#include "driver.h"

static int ifreq_ioctl(const char *ifname, unsigned long req, struct ifreq *ifr)
{
	int fd, rc = 0;

	if (!ifname || strlen(ifname) >= IF_NAMESIZE)
		return -EINVAL;
	fd = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return -errno;
	strncpy(ifr->ifr_name, ifname, IF_NAMESIZE - 1);
	if (ioctl(fd, req, ifr) < 0)
		rc = -errno;
	close(fd);
	return rc;
}

int nomnet__if_index(const char *ifname, int *index)
{
	struct ifreq ifr;
	int rc;

	memset(&ifr, 0, sizeof(ifr));
	rc = ifreq_ioctl(ifname, SIOCGIFINDEX, &ifr);
	if (rc == 0)
		*index = ifr.ifr_ifindex;
	return rc;
}

int nomnet__if_mac(const char *ifname, uint8_t mac[6])
{
	struct ifreq ifr;
	int rc;

	memset(&ifr, 0, sizeof(ifr));
	rc = ifreq_ioctl(ifname, SIOCGIFHWADDR, &ifr);
	if (rc == 0)
		memcpy(mac, ifr.ifr_hwaddr.sa_data, 6);
	return rc;
}

int nomnet__if_mtu(const char *ifname, unsigned *mtu)
{
	struct ifreq ifr;
	int rc;

	memset(&ifr, 0, sizeof(ifr));
	rc = ifreq_ioctl(ifname, SIOCGIFMTU, &ifr);
	if (rc == 0)
		*mtu = (unsigned)ifr.ifr_mtu;
	return rc;
}

int nomnet__if_up(const char *ifname)
{
	struct ifreq ifr;
	int rc;

	memset(&ifr, 0, sizeof(ifr));
	rc = ifreq_ioctl(ifname, SIOCGIFFLAGS, &ifr);
	if (rc < 0 || (ifr.ifr_flags & IFF_UP))
		return rc;
	ifr.ifr_flags |= IFF_UP;
	return ifreq_ioctl(ifname, SIOCSIFFLAGS, &ifr);
}

static int ethtool_set(const char *ifname, uint32_t cmd, uint32_t value)
{
	struct ethtool_value ev = {.cmd = cmd, .data = value};
	struct ifreq ifr;

	memset(&ifr, 0, sizeof(ifr));
	ifr.ifr_data = (void *)&ev;
	return ifreq_ioctl(ifname, SIOCETHTOOL, &ifr);
}

static int ethtool_get(const char *ifname, uint32_t cmd, uint32_t *value)
{
	struct ethtool_value ev = {.cmd = cmd, .data = 0};
	struct ifreq ifr;
	int rc;

	memset(&ifr, 0, sizeof(ifr));
	ifr.ifr_data = (void *)&ev;
	rc = ifreq_ioctl(ifname, SIOCETHTOOL, &ifr);
	if (rc == 0)
		*value = ev.data;
	return rc;
}

int nomnet_if_prepare(const char *ifname)
{
	static const struct {
		uint32_t cmd;
		const char *what;
	} off[] = {
		{ETHTOOL_STXCSUM, "tx checksum offload"},
		{ETHTOOL_STSO, "TSO"},
		{ETHTOOL_SGSO, "GSO"},
		{ETHTOOL_SGRO, "GRO"},
	};
	uint32_t flags;
	int rc;

	for (size_t i = 0; i < sizeof(off) / sizeof(off[0]); i++) {
		rc = ethtool_set(ifname, off[i].cmd, 0);
		if (rc == -ENODEV || rc == -EINVAL || rc == -EPERM)
			return rc;
		if (rc < 0 && rc != -EOPNOTSUPP)
			log_warn("nomnet: %s: cannot turn off %s: %s", ifname, off[i].what,
				 strerror(-rc));
	}
	if (ethtool_get(ifname, ETHTOOL_GFLAGS, &flags) == 0 && (flags & ETH_FLAG_LRO))
		(void)ethtool_set(ifname, ETHTOOL_SFLAGS, flags & ~(uint32_t)ETH_FLAG_LRO);
	return 0;
}

int nomnet__mac_parse(const char *text, uint8_t mac[6])
{
	unsigned v[6];
	char tail;

	if (!text || sscanf(text, "%2x:%2x:%2x:%2x:%2x:%2x%c", &v[0], &v[1], &v[2], &v[3], &v[4],
			    &v[5], &tail) != 6)
		return -EINVAL;
	for (int i = 0; i < 6; i++)
		mac[i] = (uint8_t)v[i];
	if (mac[0] & 1) /* multicast */
		return -EINVAL;
	return 0;
}

void nomnet__mac_random(uint8_t mac[6])
{
	if (getrandom(mac, 6, 0) != 6) {
		uint64_t t = (uint64_t)getpid() * 0x9e3779b97f4a7c15ull;
		memcpy(mac, &t, 6);
	}
	mac[0] = (uint8_t)((mac[0] & 0xfe) | 0x02); /* unicast, locally administered */
}

uint32_t nomnet__csum_add(const uint8_t *p, size_t len, uint32_t sum)
{
	while (len > 1) {
		sum += (uint32_t)(p[0] << 8 | p[1]);
		p += 2;
		len -= 2;
	}
	if (len)
		sum += (uint32_t)(p[0] << 8);
	return sum;
}

uint16_t nomnet__csum_fold(uint32_t sum)
{
	while (sum >> 16)
		sum = (sum & 0xffff) + (sum >> 16);
	return (uint16_t)~sum;
}

void nomnet__csum_complete(uint8_t *f, uint32_t len)
{
	uint32_t ihl, tot, l4len, sum, off;
	uint8_t proto;

	if (len < 14 + 20 || f[12] != 0x08 || f[13] != 0x00)
		return; /* IPv4 only: the stack's traffic */
	ihl = (uint32_t)(f[14] & 0x0f) * 4;
	tot = (uint32_t)(f[16] << 8 | f[17]);
	proto = f[14 + 9];
	if (ihl < 20 || tot < ihl || 14 + tot > len)
		return;
	l4len = tot - ihl;
	if (proto == 6 && l4len >= 20)
		off = 16;
	else if (proto == 17 && l4len >= 8)
		off = 6;
	else
		return;
	uint8_t *l4 = f + 14 + ihl;
	l4[off] = l4[off + 1] = 0;
	sum = nomnet__csum_add(f + 14 + 12, 8, 0); /* source and destination addresses */
	sum += proto;
	sum += l4len;
	sum = nomnet__csum_add(l4, l4len, sum);
	sum = nomnet__csum_fold(sum);
	if (proto == 17 && sum == 0)
		sum = 0xffff;
	l4[off] = (uint8_t)(sum >> 8);
	l4[off + 1] = (uint8_t)sum;
}
