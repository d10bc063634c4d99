/* test_tc.c: the tc backend against the kernel, in a private network namespace: the HTB
 * qdisc, class, leaf queue and u32 filter it creates (as `tc` shows them), an in-place rate
 * change that keeps the class's counters, read-back (a class whose filter is gone reads as
 * not enforced), the default class of a tenant without a source, revert, a foreign root
 * qdisc replaced, and a vanished interface. */
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/log.h"
#include "backend_util.h"
#include "netns_util.h"

static char out[8192];

/* Sends n datagrams of 100 bytes from src to dst:9 (through up0's qdisc). */
static void send_udp(const char *src, const char *dst, int n)
{
	struct sockaddr_in from = {.sin_family = AF_INET}, to = {.sin_family = AF_INET};
	char payload[100] = {0};
	int fd = socket(AF_INET, SOCK_DGRAM, 0);
	ASSERT_TRUE(fd >= 0);
	inet_pton(AF_INET, src, &from.sin_addr);
	inet_pton(AF_INET, dst, &to.sin_addr);
	to.sin_port = htons(9);
	ASSERT_OK(bind(fd, (struct sockaddr *)&from, sizeof(from)));
	for (int i = 0; i < n; i++)
		ASSERT_EQ(sendto(fd, payload, sizeof(payload), 0, (struct sockaddr *)&to, sizeof(to)),
			  sizeof(payload));
	close(fd);
}

static const char *sh(const char *cmd)
{
	FILE *p = popen(cmd, "r");
	size_t n = p ? fread(out, 1, sizeof(out) - 1, p) : 0;
	out[n] = '\0';
	if (p)
		pclose(p);
	return out;
}

int main(void)
{
	struct enf_error err;
	struct enf_setting s = {0}, r;

	log_init("test_tc", LOG_ERROR, false);
	netns_enter("tc");
	if (system("ip link add up0 type veth peer name up0p && ip link set up0 up && "
		   "ip link set up0p up && ip link add up1 type veth peer name up1p && "
		   "ip link set up1 up && tc qdisc add dev up1 root handle 5: tbf rate 1mbit "
		   "burst 10k latency 10ms") != 0)
		TEST_MISSING("cannot create veths or a tbf qdisc");
	struct ha_config *c = load_config(
		"[agent]\nhost = h\n[capacity]\nbandwidth_mbit = 1000\n[backends]\nbandwidth = tc\n"
		"[tc]\nhandle = 7\nfloor_kbit = 100\n"
		"[tenant.a]\ninterface = up0\nclass = 0x10\nsrc = 10.9.1.2\n"
		"[tenant.b]\ninterface = up0\nclass = 0x20\nsrc = 10.9.2.0/24\n"
		"[tenant.c]\ninterface = up1\nclass = 0x30\n");
	struct enf_handle *h = open_backend("tc", c);
	const struct enf_target *a = &c->targets[0], *b = &c->targets[1], *t3 = &c->targets[2];
	ASSERT_OK(enf_probe(h, ENF_BANDWIDTH, &err));
	ASSERT_EQ(enf_read(h, ENF_BANDWIDTH, a, &r, &err), -ENOENT);

	s.quantity = 50;
	ASSERT_OK(enf_apply(h, ENF_BANDWIDTH, a, &s, &err));
	s.quantity = 0; /* the floor */
	ASSERT_OK(enf_apply(h, ENF_BANDWIDTH, b, &s, &err));
	ASSERT_STR_CONTAINS(sh("tc qdisc show dev up0"), "qdisc htb 7: root");
	ASSERT_STR_CONTAINS(out, "qdisc bfifo 1010: parent 7:10 limit 625000b");
	ASSERT_STR_CONTAINS(sh("tc class show dev up0"), "class htb 7:10 root leaf 1010: prio 0 "
							  "rate 50Mbit ceil 50Mbit");
	ASSERT_STR_CONTAINS(out, "class htb 7:20 root leaf 1020: prio 0 rate 100Kbit ceil 100Kbit");
	ASSERT_STR_CONTAINS(sh("tc filter show dev up0"), "fh 800::10 order 16 key ht 800 bkt 0 "
							   "*flowid 7:10"); /* '*': terminal */
	ASSERT_STR_CONTAINS(out, "match 0a090102/ffffffff at 12");
	ASSERT_STR_CONTAINS(out, "match 0a090200/ffffff00 at 12");
	ASSERT_OK(enf_read(h, ENF_BANDWIDTH, a, &r, &err));
	ASSERT_EQ(r.quantity, 50);
	ASSERT_OK(enf_read(h, ENF_BANDWIDTH, b, &r, &err));
	ASSERT_EQ(r.quantity, 0);

	/* Traffic through the class, then a live change: the counters carry on. */
	ASSERT_OK(system("ip addr add 10.9.1.2/24 dev up0 && ip neigh add 10.9.1.9 lladdr "
			 "02:00:00:00:00:09 dev up0"));
	send_udp("10.9.1.2", "10.9.1.9", 20);
	struct enf_meter m1, m2;
	ASSERT_OK(enf_meter(h, ENF_BANDWIDTH, a, 1, &m1, &err));
	ASSERT_TRUE(m1.has_tx);
	ASSERT_GE(m1.tx_bytes, 20 * (100 + 8 + 20 + 14)); /* UDP, IP and Ethernet headers */
	s.quantity = 200;
	ASSERT_OK(enf_apply(h, ENF_BANDWIDTH, a, &s, &err));
	ASSERT_STR_CONTAINS(sh("tc class show dev up0"), "rate 200Mbit ceil 200Mbit");
	ASSERT_STR_CONTAINS(sh("tc qdisc show dev up0"), "qdisc bfifo 1010: parent 7:10 limit "
							  "2500000b");
	ASSERT_OK(enf_meter(h, ENF_BANDWIDTH, a, 1, &m2, &err));
	ASSERT_GE(m2.tx_bytes, m1.tx_bytes);

	/* A class nobody's traffic reaches (its filter deleted) is not enforced. */
	ASSERT_OK(system("tc filter del dev up0 parent 7: prio 10 handle 800::10 u32"));
	struct enf_handle *h2 = open_backend("tc", c); /* a fresh read, as after a restart */
	ASSERT_EQ(enf_read(h2, ENF_BANDWIDTH, a, &r, &err), -ENOENT);
	ASSERT_OK(enf_apply(h2, ENF_BANDWIDTH, a, &s, &err));
	ASSERT_STR_CONTAINS(sh("tc filter show dev up0"), "flowid 7:10");
	ASSERT_OK(enf_read(h2, ENF_BANDWIDTH, a, &r, &err));
	ASSERT_EQ(r.quantity, 200);
	enf_close(h2);

	/* A tenant without a source is up1's default class; the tbf found there is replaced. */
	s.quantity = 10;
	ASSERT_OK(enf_apply(h, ENF_BANDWIDTH, t3, &s, &err));
	ASSERT_STR_CONTAINS(sh("tc qdisc show dev up1"), "qdisc htb 7: root");
	ASSERT_STR_CONTAINS(out, "default 0x30");

	/* Revert removes filter and class; reading says nothing is enforced. */
	ASSERT_OK(enf_revert(h, ENF_BANDWIDTH, a, &err));
	ASSERT_TRUE(!strstr(sh("tc class show dev up0"), "7:10"));
	ASSERT_TRUE(!strstr(sh("tc filter show dev up0"), "7:10"));
	ASSERT_EQ(enf_read(h, ENF_BANDWIDTH, a, &r, &err), -ENOENT);
	ASSERT_OK(enf_revert(h, ENF_BANDWIDTH, a, &err)); /* idempotent */

	/* The interface vanishes: apply fails naming it. */
	ASSERT_OK(system("ip link del up1"));
	ASSERT_EQ(enf_apply(h, ENF_BANDWIDTH, t3, &s, &err), -ENODEV);
	ASSERT_STR_CONTAINS(err.message, "no interface up1");
	enf_close(h);
	ha_config_destroy(c);
	return 0;
}
