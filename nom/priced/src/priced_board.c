/* priced_board.c: nom-priced keeps the instance's bulletin board current.
 *
 * Every change goes into the board writer's working copy and marks it dirty; the main loop
 * publishes once per iteration (invariant 6), so a burst of price updates costs one publish
 * and one wake-up of the apps. */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "common/error.h"
#include "common/log.h"
#include "priced.h"

bool priced_subscribed(const struct priced *p, uint32_t resource, const char *host)
{
	for (int i = 0; i < p->nsubs; i++)
		if (p->subs[i].resource == resource &&
		    (strcmp(p->subs[i].host, "*") == 0 || strcmp(p->subs[i].host, host) == 0))
			return true;
	return false;
}

void priced_board_on_price(struct priced *p, const Raas__PriceUpdate *u)
{
	struct bb_body *b = bb_writer_body(p->board);
	const char *host = u->host ? u->host : "";

	if (!priced_subscribed(p, (uint32_t)u->resource, host))
		return; /* a topic prefix match of another host ("h1" vs "h10") */
	struct bb_price *e = bb_body_price_upsert(b, (uint32_t)u->resource, host);
	if (!e) {
		log_warn("board: no room for the price of %s/%s: %s",
			 wire_resource_name(u->resource), host, strerror(errno));
		return;
	}
	e->unit_price = u->unit_price;
	e->round = u->round;
	e->supply = u->supply;
	e->allocated = u->allocated;
	e->published_wall_ns = u->published_wall_ns;
	e->next_round_wall_ns = u->next_round_wall_ns;
	e->received_mono_ns = clk_mono(p->clk);
	if (u->round > b->state.round) {
		b->state.round = u->round;
		b->state.next_round_wall_ns = u->next_round_wall_ns;
	}
	if (u->round_ns > 0) {
		b->state.round_ns = u->round_ns;
		p->round_ns = u->round_ns;
	}
	p->last_price_mono = e->received_mono_ns;
	p->prices_received++;
	p->dirty = true;
	if (p->session == SESSION_UP && b->state.market_state != BB_MARKET_FRESH)
		priced_board_set_market(p, BB_MARKET_FRESH, "prices arriving");
}

static bool local_host(const struct priced *p, const char *host)
{
	return !p->cfg.host[0] || strcmp(p->cfg.host, host) == 0;
}

void priced_board_update_cpus(struct priced *p)
{
	struct bb_body *b = bb_writer_body(p->board);
	uint64_t avail[BB_CPU_WORDS], mask[BB_CPU_WORDS];
	bool have_avail = false;

	p->cpus_checked_mono = clk_mono(p->clk);
	for (uint32_t i = 0; i < b->state.nholdings; i++) {
		struct bb_holding *h = &b->holdings[i];
		if (h->resource != BB_RES_CORES || !local_host(p, h->host))
			continue;
		if (!have_avail) {
			int err = priced_cpus_available(p->cfg.cpuset, avail);
			if (err) {
				log_warn("cores: cannot read the CPUs of cpuset %s: %s",
					 p->cfg.cpuset[0] ? p->cfg.cpuset : "(own affinity)",
					 raas_strerror(err));
				return;
			}
			have_avail = true;
		}
		int n = priced_cpus_pick(avail, h->quantity, mask);
		if (memcmp(mask, h->cpus, sizeof(mask)) != 0) {
			memcpy(h->cpus, mask, sizeof(mask));
			h->ncpus = (uint32_t)n;
			p->dirty = true;
			if (n < h->quantity)
				log_warn("cores: %lld held on %s but the cpuset has only %d CPUs",
					 (long long)h->quantity, h->host, n);
		}
	}
}

void priced_board_set_holdings(struct priced *p, Raas__Allocation **a, size_t n, uint64_t round)
{
	struct bb_body *b = bb_writer_body(p->board);
	struct bb_holding old[BB_MAX_HOLDINGS];
	uint32_t nold = b->state.nholdings;

	memcpy(old, b->holdings, nold * sizeof(old[0]));
	bb_body_holdings_clear(b);
	int64_t memory = 0;
	for (size_t i = 0; i < n; i++) {
		const char *host = a[i]->host ? a[i]->host : "";
		struct bb_holding *h = bb_body_holding_upsert(b, (uint32_t)a[i]->resource, host);
		if (!h) {
			log_warn("board: no room for the holding of %s/%s",
				 wire_resource_name(a[i]->resource), host);
			continue;
		}
		h->quantity += a[i]->quantity;
		h->unit_price = a[i]->unit_price;
		h->payment_per_hour += a[i]->payment_per_hour;
		h->round = round;
		/* Keep the CPUs a holding already had; update_cpus re-checks them. */
		for (uint32_t j = 0; j < nold; j++)
			if (old[j].resource == h->resource && strcmp(old[j].host, h->host) == 0) {
				memcpy(h->cpus, old[j].cpus, sizeof(h->cpus));
				h->ncpus = old[j].ncpus;
			}
		if (a[i]->resource == RAAS__RESOURCE__RESOURCE_MEMORY && local_host(p, host))
			memory += a[i]->quantity;
	}
	b->state.memory_budget_mib = memory;
	p->dirty = true;
	priced_board_update_cpus(p);
}

void priced_board_on_notice(struct priced *p, const Raas__AllocationNotice *n)
{
	struct bb_body *b = bb_writer_body(p->board);

	p->notices++;
	if (n->round && n->round <= b->state.last_notice_round) {
		log_debug("notice for round %llu again: ignored", (unsigned long long)n->round);
		return;
	}
	priced_board_set_holdings(p, n->holdings, n->n_holdings, n->round);
	b->state.last_notice_round = n->round;
	b->state.last_charged = n->charged;
	b->state.charged_total += n->charged;
	b->state.balance = n->balance;
	if (n->round > b->state.round)
		b->state.round = n->round;
	p->dirty = true;
}

void priced_board_set_market(struct priced *p, uint32_t state, const char *fmt, ...)
{
	struct bb_body *b = bb_writer_body(p->board);
	char msg[BB_MESSAGE_MAX];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	if (b->state.market_state != state) {
		log_info("market %s -> %s: %s", bb_market_state_name(b->state.market_state),
			 bb_market_state_name(state), msg);
		b->state.state_since_wall_ns = clk_wall(p->clk);
		b->state.market_state = state;
	}
	bb_set_string(b->state.market_message, sizeof(b->state.market_message), msg);
	p->dirty = true;
}

void priced_board_set_bid(struct priced *p, const Raas__Bid *bid, uint32_t state, int error,
			  uint64_t effective_round)
{
	struct bb_body *b = bb_writer_body(p->board);
	struct bb_bid *d = bb_body_bid_upsert(b, bid->bid_id);

	if (!d) {
		log_warn("board: no room for bid %s", bid->bid_id);
		return;
	}
	d->resource = (uint32_t)bid->resource;
	bb_set_string(d->host, sizeof(d->host), bid->host);
	d->min_quantity = bid->min_quantity;
	d->max_quantity = bid->max_quantity;
	d->unit_price = bid->unit_price;
	d->state = state;
	d->error = error;
	if (effective_round)
		d->effective_round = effective_round;
	p->dirty = true;
}

void priced_board_publish(struct priced *p)
{
	char why[200];

	if (!p->dirty)
		return;
	/* Where the instance runs (bb_layout.h version 2): the config's, on every publish, so
	 * that a board taken over from another writer carries them from its first update. */
	struct bb_state *s = &bb_writer_body(p->board)->state;
	bb_set_string(s->host, sizeof(s->host), p->cfg.host);
	bb_set_string(s->cpuset, sizeof(s->cpuset), p->cfg.cpuset);
	bb_set_string(s->memory_cgroup, sizeof(s->memory_cgroup), p->cfg.memory_cgroup);
	bb_set_string(s->netns, sizeof(s->netns), p->cfg.netns);
	int err = bb_writer_publish(p->board, clk_wall(p->clk), clk_mono(p->clk), why, sizeof(why));
	if (err)
		log_error("board: update refused: %s", why); /* a bug: the working copy is bad */
	p->dirty = false;
}
