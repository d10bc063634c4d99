/* tcp.c: nomnet's TCP API over lwIP's raw API (callbacks, under the core lock).
 *
 * Each connection or listener is a struct nomnet_tcp wrapping an lwIP pcb. The wrapper exists
 * so that apps never see lwIP types, and so that its life is explicit: lwIP frees a pcb on its
 * own when a connection dies (then `closed` runs and the wrapper goes), while an app's close or
 * abort detaches the wrapper from the pcb at once (no callback afterwards). A close or abort
 * from inside a recv callback is deferred to the end of that callback, because lwIP still
 * holds the pcb and the pbuf being delivered.
 *
 * Delayed ACKs: lwIP acknowledges every second segment and leaves the others to its 250 ms
 * fast timer. nomnet bounds that delay by the batch instead: connections that took data in a
 * receive batch and still owe an ACK get it when the batch is done (nomnet__tcp_batch_done),
 * so the batching delay, not a 250 ms timer, is what delays an acknowledgement. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <lwip/ip_addr.h>
#include <lwip/tcp.h>
#include <lwip/tcpip.h>

#include "common/log.h"
#include "stack.h"

struct nomnet_tcp {
	struct nomnet *n;
	struct tcp_pcb *pcb;     /* NULL once detached */
	const struct nomnet_tcp_handler *h;
	void *arg;
	bool listener;
	bool connecting;         /* connect not finished */
	bool in_recv;            /* inside the recv callback */
	bool doomed_close;       /* app closed during recv: finish after it */
	bool doomed_abort;       /* app aborted during recv */
	bool in_ack_list;
	struct nomnet_tcp *ack_next;
	struct nomnet_tcp *prev, *next; /* every live wrapper of the stack */
};

static int err_to_neg_errno(err_t err)
{
	switch (err) {
	case ERR_OK:
		return 0;
	case ERR_MEM:
	case ERR_BUF:
		return -ENOMEM;
	case ERR_TIMEOUT:
		return -ETIMEDOUT;
	case ERR_RTE:
		return -EHOSTUNREACH;
	case ERR_USE:
		return -EADDRINUSE;
	case ERR_ISCONN:
		return -EISCONN;
	case ERR_CONN:
	case ERR_CLSD:
		return -ENOTCONN;
	case ERR_ABRT:
		return -ECONNABORTED;
	case ERR_RST:
		return -ECONNRESET;
	case ERR_VAL:
	case ERR_ARG:
		return -EINVAL;
	default:
		return -EIO;
	}
}

static struct nomnet_tcp *wrap(struct nomnet *n, struct tcp_pcb *pcb,
			       const struct nomnet_tcp_handler *h, void *arg)
{
	struct nomnet_tcp *c = calloc(1, sizeof(*c));

	if (!c)
		return NULL;
	c->n = n;
	c->pcb = pcb;
	c->h = h;
	c->arg = arg;
	c->next = n->conns;
	if (n->conns)
		n->conns->prev = c;
	n->conns = c;
	return c;
}

static void ack_list_remove(struct nomnet_tcp *c)
{
	struct nomnet_tcp **pp;

	if (!c->in_ack_list)
		return;
	for (pp = &c->n->ack_list; *pp; pp = &(*pp)->ack_next) {
		if (*pp == c) {
			*pp = c->ack_next;
			break;
		}
	}
	c->in_ack_list = false;
	c->ack_next = NULL;
}

static void unwrap(struct nomnet_tcp *c)
{
	ack_list_remove(c);
	if (c->prev)
		c->prev->next = c->next;
	else
		c->n->conns = c->next;
	if (c->next)
		c->next->prev = c->prev;
	free(c);
}

static void detach(struct tcp_pcb *pcb)
{
	tcp_arg(pcb, NULL);
	if (pcb->state != LISTEN) {
		tcp_recv(pcb, NULL);
		tcp_sent(pcb, NULL);
		tcp_err(pcb, NULL);
		tcp_poll(pcb, NULL, 0);
	}
}

/* Retries a close lwIP could not start (no memory for the FIN). */
static err_t close_retry(void *arg, struct tcp_pcb *pcb)
{
	(void)arg;
	if (tcp_close(pcb) == ERR_OK)
		return ERR_OK;
	return ERR_OK; /* poll again */
}

static void pcb_close(struct tcp_pcb *pcb)
{
	detach(pcb);
	if (tcp_close(pcb) != ERR_OK)
		tcp_poll(pcb, close_retry, 1);
}

static err_t on_recv(void *arg, struct tcp_pcb *pcb, struct pbuf *p, err_t err)
{
	struct nomnet_tcp *c = arg;
	err_t ret = ERR_OK;

	if (!c) { /* detached: drop */
		if (p) {
			tcp_recved(pcb, p->tot_len);
			pbuf_free(p);
		}
		return ERR_OK;
	}
	if (err != ERR_OK && p) {
		pbuf_free(p);
		return ERR_OK;
	}
	c->in_recv = true;
	if (!p) {
		if (c->h->eof)
			c->h->eof(c->arg, c);
	} else {
		/* The app's time is a stage of its own (net_stats.h), without the replies' stack
		 * tx that its writes cause (linkoutput counts that). */
		struct nomnet *n = c->n;
		bool timed = nomnet__on_loop(n) && n->req_open;
		int64_t t0 = timed ? nomnet__now() : 0;
		uint64_t stx0 = timed ? n->req_ns[NOMNET_ST_STX] : 0;

		for (struct pbuf *q = p; q && !c->doomed_close && !c->doomed_abort; q = q->next)
			if (q->len && c->h->recv)
				c->h->recv(c->arg, c, q->payload, q->len);
		if (timed) {
			uint64_t d = (uint64_t)(nomnet__now() - t0);
			uint64_t stx = n->req_ns[NOMNET_ST_STX] - stx0;

			n->req_ns[NOMNET_ST_APP] += d > stx ? d - stx : 0;
		}
		pbuf_free(p);
	}
	c->in_recv = false;
	if (c->doomed_abort) {
		detach(pcb);
		tcp_abort(pcb);
		unwrap(c);
		return ERR_ABRT;
	}
	if (c->doomed_close) {
		pcb_close(pcb);
		unwrap(c);
		return ERR_OK;
	}
	if (p && !c->in_ack_list) {
		c->in_ack_list = true;
		c->ack_next = c->n->ack_list;
		c->n->ack_list = c;
	}
	return ret;
}

static err_t on_sent(void *arg, struct tcp_pcb *pcb, u16_t len)
{
	struct nomnet_tcp *c = arg;

	(void)pcb;
	if (c && c->h->sent)
		c->h->sent(c->arg, c, len);
	return ERR_OK;
}

static void on_err(void *arg, err_t err)
{
	struct nomnet_tcp *c = arg;

	if (!c)
		return;
	c->pcb = NULL; /* lwIP has freed it */
	if (c->connecting) {
		if (c->h->connected)
			c->h->connected(c->arg, c, err_to_neg_errno(err) ?: -ECONNREFUSED);
	} else if (c->h->closed) {
		c->h->closed(c->arg, c, err_to_neg_errno(err) ?: -ECONNRESET);
	}
	unwrap(c);
}

static void setup_conn(struct nomnet_tcp *c)
{
	tcp_arg(c->pcb, c);
	tcp_recv(c->pcb, on_recv);
	tcp_sent(c->pcb, on_sent);
	tcp_err(c->pcb, on_err);
	tcp_nagle_disable(c->pcb);
}

static err_t on_accept(void *arg, struct tcp_pcb *newpcb, err_t err)
{
	struct nomnet_tcp *l = arg, *c;

	if (err != ERR_OK || !newpcb || !l)
		return ERR_VAL;
	c = wrap(l->n, newpcb, l->h, NULL);
	if (!c) {
		tcp_abort(newpcb);
		return ERR_ABRT;
	}
	setup_conn(c);
	if (l->h->accept(l->arg, c, &c->arg) < 0) {
		detach(newpcb);
		tcp_abort(newpcb);
		unwrap(c);
		return ERR_ABRT;
	}
	return ERR_OK;
}

static err_t on_connected(void *arg, struct tcp_pcb *pcb, err_t err)
{
	struct nomnet_tcp *c = arg;

	(void)pcb;
	if (!c)
		return ERR_OK;
	c->connecting = false;
	if (c->h->connected)
		c->h->connected(c->arg, c, err_to_neg_errno(err));
	return ERR_OK;
}

int nomnet_tcp_listen(struct nomnet *n, uint16_t port, const struct nomnet_tcp_handler *handler,
		      void *arg, struct nomnet_tcp **out)
{
	struct tcp_pcb *pcb, *lpcb;
	struct nomnet_tcp *l;
	err_t err;

	if (!handler || !handler->accept || !out)
		return -EINVAL;
	pcb = tcp_new_ip_type(IPADDR_TYPE_V4);
	if (!pcb)
		return -ENOMEM;
	ip_set_option(pcb, SOF_REUSEADDR);
	err = tcp_bind(pcb, IP4_ADDR_ANY, port);
	if (err != ERR_OK) {
		tcp_close(pcb);
		return err_to_neg_errno(err);
	}
	lpcb = tcp_listen_with_backlog_and_err(pcb, 255, &err);
	if (!lpcb) {
		tcp_close(pcb);
		return err_to_neg_errno(err);
	}
	l = wrap(n, lpcb, handler, arg);
	if (!l) {
		tcp_close(lpcb);
		return -ENOMEM;
	}
	l->listener = true;
	tcp_arg(lpcb, l);
	tcp_accept(lpcb, on_accept);
	*out = l;
	return 0;
}

int nomnet_tcp_connect(struct nomnet *n, const char *ip, uint16_t port,
		       const struct nomnet_tcp_handler *handler, void *arg,
		       struct nomnet_tcp **out)
{
	struct tcp_pcb *pcb;
	struct nomnet_tcp *c;
	ip_addr_t addr;
	err_t err;

	if (!handler || !handler->connected || !ip || !out || !ipaddr_aton(ip, &addr) ||
	    !IP_IS_V4(&addr))
		return -EINVAL;
	pcb = tcp_new_ip_type(IPADDR_TYPE_V4);
	if (!pcb)
		return -ENOMEM;
	c = wrap(n, pcb, handler, arg);
	if (!c) {
		tcp_close(pcb);
		return -ENOMEM;
	}
	c->connecting = true;
	setup_conn(c);
	err = tcp_connect(pcb, &addr, port, on_connected);
	if (err != ERR_OK) {
		detach(pcb);
		tcp_abort(pcb);
		unwrap(c);
		return err_to_neg_errno(err);
	}
	*out = c;
	return 0;
}

int nomnet_tcp_write(struct nomnet_tcp *c, const void *data, size_t len, size_t *accepted)
{
	const uint8_t *p = data;
	size_t done = 0;
	int rc = 0;

	*accepted = 0;
	if (!c->pcb || c->listener || c->doomed_close || c->doomed_abort)
		return -ENOTCONN;
	while (done < len) {
		size_t room = tcp_sndbuf(c->pcb), chunk = len - done;
		err_t err;

		if (chunk > room)
			chunk = room;
		if (chunk > 0xffff)
			chunk = 0xffff;
		if (chunk == 0)
			break;
		err = tcp_write(c->pcb, p + done, (u16_t)chunk,
				TCP_WRITE_FLAG_COPY | (done + chunk < len ? TCP_WRITE_FLAG_MORE : 0));
		if (err == ERR_MEM)
			break; /* segment queue full: wait for `sent` */
		if (err != ERR_OK) {
			rc = err_to_neg_errno(err);
			break;
		}
		done += chunk;
	}
	if (done)
		tcp_output(c->pcb);
	*accepted = done;
	return rc;
}

size_t nomnet_tcp_sndbuf(const struct nomnet_tcp *c)
{
	if (!c->pcb || c->listener)
		return 0;
	return tcp_sndbuf(c->pcb);
}

void nomnet_tcp_recved(struct nomnet_tcp *c, size_t len)
{
	if (!c->pcb || c->listener)
		return;
	while (len > 0) {
		u16_t chunk = len > 0xffff ? 0xffff : (u16_t)len;

		tcp_recved(c->pcb, chunk);
		len -= chunk;
	}
}

int nomnet_tcp_close(struct nomnet_tcp *c)
{
	if (c->in_recv) {
		c->doomed_close = true;
		return 0;
	}
	if (c->pcb) {
		if (c->listener) {
			tcp_arg(c->pcb, NULL);
			tcp_accept(c->pcb, NULL);
			tcp_close(c->pcb);
		} else {
			pcb_close(c->pcb);
		}
	}
	unwrap(c);
	return 0;
}

void nomnet_tcp_abort(struct nomnet_tcp *c)
{
	if (c->in_recv) {
		c->doomed_abort = true;
		return;
	}
	if (c->pcb) {
		detach(c->pcb);
		if (c->listener)
			tcp_close(c->pcb);
		else
			tcp_abort(c->pcb);
	}
	unwrap(c);
}

void nomnet_tcp_nodelay(struct nomnet_tcp *c, bool on)
{
	if (!c->pcb || c->listener)
		return;
	if (on)
		tcp_nagle_disable(c->pcb);
	else
		tcp_nagle_enable(c->pcb);
}

char *nomnet_tcp_peer(const struct nomnet_tcp *c, char *buf, size_t len)
{
	char ip[48];

	if (!c->pcb || c->listener) {
		snprintf(buf, len, "-");
		return buf;
	}
	ipaddr_ntoa_r(&c->pcb->remote_ip, ip, sizeof(ip));
	snprintf(buf, len, "%s:%u", ip, c->pcb->remote_port);
	return buf;
}

void nomnet__tcp_batch_done(struct nomnet *n)
{
	struct nomnet_tcp *c = n->ack_list;

	n->ack_list = NULL;
	while (c) {
		struct nomnet_tcp *next = c->ack_next;

		c->in_ack_list = false;
		c->ack_next = NULL;
		if (c->pcb && (c->pcb->flags & TF_ACK_DELAY)) {
			tcp_set_flags(c->pcb, TF_ACK_NOW);
			tcp_output(c->pcb);
		}
		c = next;
	}
}

void nomnet__tcp_abort_all(struct nomnet *n)
{
	struct nomnet_tcp *c = n->conns, *next;

	for (; c; c = next) {
		next = c->next;
		c->in_recv = false;
		nomnet_tcp_abort(c);
	}
	n->ack_list = NULL;
}
