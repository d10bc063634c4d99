/* priced_bids.c: the instance's standing bids, as the market acknowledged them.
 *
 * nom-priced is the tenant's memory of what it asked for: after a market restart it sends
 * every standing bid again (a bid with the same id replaces itself, so a re-sync that the
 * market did not need changes nothing), and it mirrors the table on the board so that apps
 * see which of their bids stand. The market stays the truth: a WHAT_BIDS answer reconciles
 * the table (bids the market dropped, e.g. released, go; bids it has that the table lacks,
 * e.g. from before a nom-priced restart, come in). */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "common/log.h"
#include "priced.h"

struct priced_bid *priced_bid_find(struct priced *p, const char *bid_id)
{
	for (int i = 0; i < p->nbids; i++)
		if (strcmp(p->bids[i].bid_id, bid_id) == 0)
			return &p->bids[i];
	return NULL;
}

bool priced_bid_market_owned(const char *bid_id)
{
	return strncmp(bid_id, "acquire/", 8) == 0;
}

int priced_bid_store(struct priced *p, const Raas__Bid *b)
{
	struct priced_bid *e = priced_bid_find(p, b->bid_id);
	size_t len = raas__bid__get_packed_size(b);
	uint8_t *buf = malloc(len ? len : 1);

	if (!buf)
		return -ENOMEM;
	raas__bid__pack(b, buf);
	if (!e) {
		if (p->nbids >= BB_MAX_BIDS) {
			free(buf);
			return -ENOSPC;
		}
		e = &p->bids[p->nbids++];
		bb_set_string(e->bid_id, sizeof(e->bid_id), b->bid_id);
	} else {
		free(e->packed);
	}
	e->packed = buf;
	e->len = len;
	return 0;
}

void priced_bid_forget(struct priced *p, const char *bid_id)
{
	struct priced_bid *e = priced_bid_find(p, bid_id);

	if (!e)
		return;
	free(e->packed);
	*e = p->bids[--p->nbids];
	memset(&p->bids[p->nbids], 0, sizeof(p->bids[0]));
}

void priced_bids_clear(struct priced *p)
{
	for (int i = 0; i < p->nbids; i++)
		free(p->bids[i].packed);
	memset(p->bids, 0, sizeof(p->bids));
	p->nbids = 0;
}

/* Whether a request for this bid is still on its way (its state is not settled yet). */
static bool in_flight(const struct priced *p, const char *bid_id)
{
	for (const struct priced_pending *q = p->pending; q; q = q->next)
		if ((q->kind == PEND_APP || q->kind == PEND_RESYNC) && strcmp(q->bid_id, bid_id) == 0)
			return true;
	return false;
}

void priced_bids_reconcile(struct priced *p, Raas__Bid **bids, size_t n)
{
	struct bb_body *b = bb_writer_body(p->board);

	for (size_t i = 0; i < n; i++) {
		if (!bids[i]->bid_id || !bids[i]->bid_id[0] || strlen(bids[i]->bid_id) >= BB_NAME_MAX)
			continue;
		if (in_flight(p, bids[i]->bid_id))
			continue;
		if (priced_bid_store(p, bids[i]) == 0)
			priced_board_set_bid(p, bids[i], BB_BID_ACTIVE, 0, 0);
	}
	for (int i = 0; i < p->nbids;) {
		bool known = false;
		for (size_t j = 0; j < n && !known; j++)
			known = bids[j]->bid_id && strcmp(bids[j]->bid_id, p->bids[i].bid_id) == 0;
		if (known || in_flight(p, p->bids[i].bid_id)) {
			i++;
			continue;
		}
		log_info("bid %s: no longer at the market", p->bids[i].bid_id);
		bb_body_bid_remove(b, p->bids[i].bid_id);
		priced_bid_forget(p, p->bids[i].bid_id);
		p->dirty = true;
	}
	/* Board entries of active bids the table lacks (refused ones stay for the apps). */
	for (uint32_t i = 0; i < b->state.nbids;) {
		struct bb_bid *d = &b->bids[i];
		if (d->state == BB_BID_ACTIVE && !priced_bid_find(p, d->bid_id)) {
			bb_body_bid_remove(b, d->bid_id);
			p->dirty = true;
			continue;
		}
		i++;
	}
}
