/* dash.h: what raas-marketd shows over HTTP: the dashboards' JSON, the round events and
 * /metrics, rendered from the market's state by the round loop (docs/dashboards.md).
 *
 * After each round close the daemon calls market_dash_round(): it records the round's points
 * (prices, allocations, spend, timings) in bounded histories, renders every document into a
 * new snapshot and publishes it with the round's event. The HTTP thread (common/httpd.h)
 * only ever reads those published copies, so a request never waits for a round and a round
 * never waits for a client. */
#ifndef MARKET_DASH_H
#define MARKET_DASH_H

#include <stddef.h>
#include <stdint.h>

#include "common/httpd.h"
#include "market/market.h"

struct market_dash;

/* history: points kept per pool, tenant and for rounds (at least 1). */
int market_dash_create(size_t history, struct market_dash **out);
void market_dash_destroy(struct market_dash *d);

/* The round just closed and handed to the sockets: close_to_publish_ns from the start of
 * the close; closed_wall_ns when it closed. Records it, renders and publishes the snapshot
 * and the round's event to h (borrowed; NULL renders nothing). */
void market_dash_round(struct market_dash *d, const struct market *m, struct httpd *h,
		       int64_t close_to_publish_ns, int64_t closed_wall_ns);
/* Renders and publishes the snapshot without a new round (at start, after a reload). */
void market_dash_refresh(struct market_dash *d, const struct market *m, struct httpd *h);

#endif
