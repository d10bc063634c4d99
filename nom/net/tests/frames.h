/* frames.h: builds and parses the Ethernet frames the in-memory driver tests exchange with
 * the stack: ARP, ICMP echo and TCP over IPv4, with real checksums, so that lwIP accepts
 * what a test injects and the test can check what lwIP sends back. */
#ifndef NOMNET_TEST_FRAMES_H
#define NOMNET_TEST_FRAMES_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define FR_SYN 0x02
#define FR_ACK 0x10
#define FR_PSH 0x08
#define FR_FIN 0x01
#define FR_RST 0x04

struct fr_ep {
	uint8_t mac[6];
	uint32_t ip; /* host byte order */
};

enum fr_kind { FR_OTHER, FR_ARP_REQUEST, FR_ARP_REPLY, FR_ICMP_REPLY, FR_TCP };

struct fr_info {
	enum fr_kind kind;
	bool csum_ok;        /* IP (and ICMP/TCP) checksums verify */
	uint32_t src_ip, dst_ip;
	uint16_t icmp_seq;
	uint16_t sport, dport;
	uint32_t seq, ack;
	uint8_t flags;
	uint16_t win;
	const uint8_t *payload;
	size_t plen;
};

size_t fr_arp_request(uint8_t *buf, const struct fr_ep *src, uint32_t target_ip);
size_t fr_icmp_echo(uint8_t *buf, const struct fr_ep *src, const struct fr_ep *dst, uint16_t seq,
		    size_t payload_len);
size_t fr_tcp(uint8_t *buf, const struct fr_ep *src, const struct fr_ep *dst, uint16_t sport,
	      uint16_t dport, uint32_t seq, uint32_t ack, uint8_t flags, const void *payload,
	      size_t plen);
/* Parses a frame; returns 0 or -1 when it is not Ethernet/IPv4/ARP at all. */
int fr_parse(const uint8_t *buf, size_t len, struct fr_info *out);

#endif
