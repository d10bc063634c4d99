/* market_double.h: a scriptable stand-in for raas-marketd's tenant side, for fault injection
 * in nom-priced's protocol tests.
 *
 * It speaks the real contract (raas.proto over ZeroMQ with CURVE and a ZAP handler, a tenant
 * ROUTER and a price PUB on loopback) and keeps standing bids and holdings like a market
 * would, but it clears nothing: the test decides what prices are published and when notices
 * go out, and can make it refuse, ignore, crash (close its sockets) and come back on the same
 * ports. The end-to-end tests use the real market; this double is for what the real one
 * cannot be made to do on cue. Runs in a thread of the test process. */
#ifndef MARKET_DOUBLE_H
#define MARKET_DOUBLE_H

#include <stdbool.h>
#include <stdint.h>

#include "raas.pb-c.h"

struct mdouble;

/* Writes key files into keydir (market.key, market.pub, TENANT.key, stranger.key), binds on
 * random loopback ports, and starts answering as tenant `tenant`. Returns 0 or -errno. */
int md_start(const char *keydir, const char *tenant, struct mdouble **out);
/* Stops the thread and closes everything. */
void md_stop(struct mdouble *md);

const char *md_tenant_endpoint(const struct mdouble *md);
const char *md_price_endpoint(const struct mdouble *md);

/* Publishes a price on topic price/<resource>/<host>. */
void md_publish(struct mdouble *md, Raas__Resource r, const char *host, int64_t unit_price,
		uint64_t round);
/* Sends the tenant an allocation notice with its current holdings and this charge. */
void md_notice(struct mdouble *md, uint64_t round, int64_t charged);
/* Closes its sockets as a killed market would; md_restart binds the same ports again. */
void md_crash(struct mdouble *md);
void md_restart(struct mdouble *md);

enum md_mode {
	MD_NORMAL,
	MD_IGNORE,    /* receive requests, never answer */
	MD_REFUSE,    /* answer every bid, acquire with error code md->refuse_code */
};
void md_set_mode(struct mdouble *md, enum md_mode mode, Raas__ErrorCode code);

/* How many requests of a body type it received (RAAS__ENVELOPE__BODY_*), retries included. */
int md_count(struct mdouble *md, int body_case);
/* Whether it holds a standing bid with this id; its unit price through *price. */
bool md_has_bid(struct mdouble *md, const char *bid_id, int64_t *price);
/* How many bids named "acquire/..." (the market's own ids) it refused, as raas-marketd does. */
int md_own_id_refusals(struct mdouble *md);
/* Forgets every standing bid (a market that lost them). */
void md_forget_bids(struct mdouble *md);
/* The request id of the last request of a body type. */
uint64_t md_last_rid(struct mdouble *md, int body_case);
/* What the tenant holds of resource r on host. */
int64_t md_holding(struct mdouble *md, Raas__Resource r, const char *host);

#endif
