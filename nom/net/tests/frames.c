/* frames.c: ARP, ICMP echo and TCP frame builders and a parser for the loop tests. */
#include <string.h>

#include "driver.h" /* the one Internet checksum */
#include "frames.h"

/* The field value over n bytes at p, sum carried in (the library's one checksum). */
#define CSUM(p, n, sum) nomnet__csum_fold(nomnet__csum_add(p, n, sum))

static void put16(uint8_t *p, uint16_t v)
{
	p[0] = (uint8_t)(v >> 8);
	p[1] = (uint8_t)v;
}

static void put32(uint8_t *p, uint32_t v)
{
	put16(p, (uint16_t)(v >> 16));
	put16(p + 2, (uint16_t)v);
}

static uint16_t get16(const uint8_t *p)
{
	return (uint16_t)(p[0] << 8 | p[1]);
}

static uint32_t get32(const uint8_t *p)
{
	return (uint32_t)get16(p) << 16 | get16(p + 2);
}

static size_t eth(uint8_t *buf, const uint8_t *dst, const uint8_t *src, uint16_t type)
{
	memcpy(buf, dst, 6);
	memcpy(buf + 6, src, 6);
	put16(buf + 12, type);
	return 14;
}

size_t fr_arp_request(uint8_t *buf, const struct fr_ep *src, uint32_t target_ip)
{
	static const uint8_t bcast[6] = {0xff, 0xff, 0xff, 0xff, 0xff, 0xff};
	uint8_t *a = buf + eth(buf, bcast, src->mac, 0x0806);

	put16(a, 1);          /* Ethernet */
	put16(a + 2, 0x0800); /* IPv4 */
	a[4] = 6;
	a[5] = 4;
	put16(a + 6, 1);      /* request */
	memcpy(a + 8, src->mac, 6);
	put32(a + 14, src->ip);
	memset(a + 18, 0, 6);
	put32(a + 24, target_ip);
	return 14 + 28;
}

static size_t ipv4(uint8_t *buf, const struct fr_ep *src, const struct fr_ep *dst, uint8_t proto,
		   size_t l4len)
{
	uint8_t *ip = buf + eth(buf, dst->mac, src->mac, 0x0800);

	ip[0] = 0x45;
	ip[1] = 0;
	put16(ip + 2, (uint16_t)(20 + l4len));
	put16(ip + 4, 0x1234);
	put16(ip + 6, 0x4000); /* DF */
	ip[8] = 64;
	ip[9] = proto;
	put16(ip + 10, 0);
	put32(ip + 12, src->ip);
	put32(ip + 16, dst->ip);
	put16(ip + 10, CSUM(ip, 20, 0));
	return 14 + 20;
}

size_t fr_icmp_echo(uint8_t *buf, const struct fr_ep *src, const struct fr_ep *dst, uint16_t seq,
		    size_t payload_len)
{
	size_t off = ipv4(buf, src, dst, 1, 8 + payload_len);
	uint8_t *ic = buf + off;

	ic[0] = 8;
	ic[1] = 0;
	put16(ic + 2, 0);
	put16(ic + 4, 0x77);
	put16(ic + 6, seq);
	for (size_t i = 0; i < payload_len; i++)
		ic[8 + i] = (uint8_t)(i * 7 + seq);
	put16(ic + 2, CSUM(ic, 8 + payload_len, 0));
	return off + 8 + payload_len;
}

static uint32_t pseudo(uint32_t sip, uint32_t dip, uint8_t proto, size_t len)
{
	uint8_t ph[12];

	put32(ph, sip);
	put32(ph + 4, dip);
	ph[8] = 0;
	ph[9] = proto;
	put16(ph + 10, (uint16_t)len);
	return nomnet__csum_add(ph, 12, 0);
}

size_t fr_tcp(uint8_t *buf, const struct fr_ep *src, const struct fr_ep *dst, uint16_t sport,
	      uint16_t dport, uint32_t seq, uint32_t ack, uint8_t flags, const void *payload,
	      size_t plen)
{
	size_t off = ipv4(buf, src, dst, 6, 20 + plen);
	uint8_t *t = buf + off;

	put16(t, sport);
	put16(t + 2, dport);
	put32(t + 4, seq);
	put32(t + 8, ack);
	t[12] = 5 << 4;
	t[13] = flags;
	put16(t + 14, 65535);
	put16(t + 16, 0);
	put16(t + 18, 0);
	if (plen)
		memcpy(t + 20, payload, plen);
	put16(t + 16, CSUM(t, 20 + plen, pseudo(src->ip, dst->ip, 6, 20 + plen)));
	return off + 20 + plen;
}

int fr_parse(const uint8_t *buf, size_t len, struct fr_info *o)
{
	uint16_t type;

	memset(o, 0, sizeof(*o));
	if (len < 14)
		return -1;
	type = get16(buf + 12);
	if (type == 0x0806 && len >= 14 + 28) {
		const uint8_t *a = buf + 14;
		uint16_t op = get16(a + 6);

		o->kind = op == 2 ? FR_ARP_REPLY : op == 1 ? FR_ARP_REQUEST : FR_OTHER;
		o->src_ip = get32(a + 14);
		o->dst_ip = get32(a + 24);
		o->csum_ok = true;
		return 0;
	}
	if (type != 0x0800 || len < 14 + 20)
		return -1;
	{
		const uint8_t *ip = buf + 14;
		size_t ihl = (size_t)(ip[0] & 15) * 4, tot = get16(ip + 2), l4len;
		const uint8_t *l4;

		if (ihl < 20 || tot < ihl || 14 + tot > len)
			return -1;
		o->src_ip = get32(ip + 12);
		o->dst_ip = get32(ip + 16);
		o->csum_ok = CSUM(ip, ihl, 0) == 0;
		l4 = ip + ihl;
		l4len = tot - ihl;
		if (ip[9] == 1 && l4len >= 8 && l4[0] == 0) {
			o->kind = FR_ICMP_REPLY;
			o->icmp_seq = get16(l4 + 6);
			o->csum_ok = o->csum_ok && CSUM(l4, l4len, 0) == 0;
			o->payload = l4 + 8;
			o->plen = l4len - 8;
		} else if (ip[9] == 6 && l4len >= 20) {
			size_t doff = (size_t)(l4[12] >> 4) * 4;

			o->kind = FR_TCP;
			o->sport = get16(l4);
			o->dport = get16(l4 + 2);
			o->seq = get32(l4 + 4);
			o->ack = get32(l4 + 8);
			o->flags = l4[13];
			o->win = get16(l4 + 14);
			o->csum_ok = o->csum_ok &&
				     CSUM(l4, l4len, pseudo(o->src_ip, o->dst_ip, 6, l4len)) == 0;
			if (doff < 20 || doff > l4len)
				return -1;
			o->payload = l4 + doff;
			o->plen = l4len - doff;
		}
	}
	return 0;
}
