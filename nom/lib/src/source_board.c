/* source_board.c: the bulletin board as a price source (source.h).
 *
 * The market's prices as nom-priced keeps them on the instance's board: the traffic price
 * (nom_traffic_price's rule: egress per Gbit where the market prices egress, else bandwidth
 * per Mbit/s-hour / 3.6), the cores and memory prices of the host, and whether the market
 * connection is fresh. Reading is a seqlock copy; waiting is nom_wait_change_or(), one futex
 * sleep on the board's sequence word and the caller's kick word, so a publish wakes the app
 * within a scheduler wake-up and nothing runs while nothing changes. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/money.h"
#include "nom_priv.h"
#include "nom/source.h"

struct board_source {
	struct nom *nom;
	char host[BB_NAME_MAX];
};

static double per_hour(const struct nom_price_info *p)
{
	return (double)p->unit_price / (double)MONEY_PER_DOLLAR;
}

static int board_get(void *priv, int64_t t, struct nom_prices *out, int64_t *next)
{
	struct board_source *b = priv;
	struct nom_price_info p;
	struct nom_status st;
	int err;

	(void)t;
	*next = INT64_MAX;
	if ((err = nom_status(b->nom, &st)) != 0)
		return err;
	const char *host = b->host[0] ? b->host : st.host; /* no host given: the board's */
	out->traffic = -1;
	if ((err = nom_price(b->nom, NOM_EGRESS, host, &p)) == 0) {
		out->traffic = per_hour(&p);
	} else if (err == -ENOENT && (err = nom_price(b->nom, NOM_BANDWIDTH, host, &p)) == 0) {
		out->traffic = per_hour(&p) / NOM_GBIT_PER_MBPS_HOUR;
	} else if (err != -ENOENT) {
		return err;
	}
	if (err == 0) {
		out->round = p.round;
		out->published_wall_ns = p.published_wall_ns;
	}
	if (nom_price(b->nom, NOM_CORES, host, &p) == 0)
		out->core_hour = per_hour(&p);
	if (nom_price(b->nom, NOM_MEMORY, host, &p) == 0)
		out->memory_hour = per_hour(&p);
	out->stale = st.market != NOM_MARKET_FRESH;
	if (out->stale)
		snprintf(out->why, sizeof(out->why), "market %s%s%.100s",
			 bb_market_state_name((uint32_t)st.market), st.message[0] ? ": " : "",
			 st.message);
	return 0;
}

static int board_wait(void *priv, int64_t t, int64_t timeout_ns, const uint32_t *kick,
		      uint32_t kick_seen)
{
	struct board_source *b = priv;
	int err = nom_wait_change_or(b->nom, timeout_ns, kick, kick_seen);

	(void)t;
	return err == 1 ? 0 : err;
}

static const struct nom_source_ops board_ops = {
	.api_version = NOM_SOURCE_VERSION,
	.size = sizeof(struct nom_source_ops),
	.name = "board",
	.get = board_get,
	.wait = board_wait,
	.destroy = free,
};

int nom_source_board(struct nom *nom, const char *host, struct nom_source **out)
{
	if (!nom || !out || (host && strlen(host) >= BB_NAME_MAX))
		return -EINVAL;
	struct nom_source *s = calloc(1, sizeof(*s));
	struct board_source *b = calloc(1, sizeof(*b));
	if (!s || !b) {
		free(s);
		free(b);
		return -ENOMEM;
	}
	b->nom = nom;
	snprintf(b->host, sizeof(b->host), "%s", host ? host : "");
	s->ops = &board_ops;
	s->priv = b;
	*out = s;
	return 0;
}
