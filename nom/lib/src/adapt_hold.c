/* adapt_hold.c: what the controller's instance holds, and the requests that change it.
 *
 * An app holds a resource through the instance's standing acquire acquire/<resource>/<host>
 * (the market's own bid, all or nothing at its limit): to hold more it acquires the
 * difference, to hold less it releases the difference, to hold nothing it releases all. The
 * controller keeps the quantity it set (standing) rather than re-reading the board after each
 * request, because the board shows a request's effect only after nom-priced's next query; it
 * reads the board's acquires at start and after the market comes back. */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <string.h>

#include "adapt_priv.h"
#include "common/money.h"

static const enum nom_resource held_resources[] = {NOM_BANDWIDTH, NOM_CORES, NOM_MEMORY};
#define NHELD (sizeof(held_resources) / sizeof(held_resources[0]))

static int64_t standing_on_board(struct nom_adapt *a, enum nom_resource r)
{
	struct nom_bid_info bi;
	char id[BB_NAME_MAX];

	nom_acquire_bid_id(r, a->host, id, sizeof(id));
	if (nom_bid_info(a->cfg.nom, id, &bi) != 0 || bi.state == NOM_BID_REFUSED)
		return 0;
	return bi.max_quantity;
}

void adapt__resync(struct nom_adapt *a)
{
	for (size_t i = 0; i < NHELD; i++) {
		enum nom_resource r = held_resources[i];
		int64_t q = standing_on_board(a, r);
		if (q != a->standing[r])
			adapt__emit(a, "resync", ",\"resource\":\"%s\",\"from\":%" PRId64
				    ",\"to\":%" PRId64, nom_resource_name(r), a->standing[r], q);
		a->standing[r] = q;
		a->failed_target[r] = -1;
	}
}

int adapt__market_init(struct nom_adapt *a, char *err, size_t errlen)
{
	struct nom_status st;
	int rc = nom_status(a->cfg.nom, &st);

	if (rc) {
		snprintf(err, errlen, "board: %s", nom_last_error(a->cfg.nom));
		return rc;
	}
	if (a->cfg.host && a->cfg.host[0])
		snprintf(a->host, sizeof(a->host), "%s", a->cfg.host);
	else
		snprintf(a->host, sizeof(a->host), "%s", st.host);
	if (!a->host[0]) {
		snprintf(err, errlen, "no host: the board names none (nom-priced's [priced] host); "
			 "give --host");
		return -EINVAL;
	}
	for (size_t i = 0; i < NHELD; i++) {
		enum nom_resource r = held_resources[i];
		a->standing[r] = standing_on_board(a, r);
		a->failed_target[r] = -1;
	}
	adapt__read_held(a);
	return 0;
}

bool adapt__priced(struct nom_adapt *a, enum nom_resource r)
{
	struct nom_price_info p;

	return nom_price(a->cfg.nom, r, a->host, &p) == 0;
}

/* The resources this app holds: bandwidth always, cores and memory when configured. */
static bool managed(const struct nom_adapt *a, enum nom_resource r)
{
	return r == NOM_BANDWIDTH || (r == NOM_CORES && a->cfg.cores_max > 0) ||
	       (r == NOM_MEMORY && a->cfg.memory_max_mib > 0);
}

void adapt__read_held(struct nom_adapt *a)
{
	for (size_t i = 0; i < NHELD; i++) {
		enum nom_resource r = held_resources[i];
		struct nom_holding_info h;
		if (!managed(a, r))
			continue;
		if (nom_holding(a->cfg.nom, r, a->host, &h) != 0)
			continue;
		if (!a->held_known[r] || h.quantity != a->held[r]) {
			a->held[r] = h.quantity;
			a->held_known[r] = true;
			adapt__emit(a, "holding",
				    ",\"resource\":\"%s\",\"host\":\"%s\",\"quantity\":%" PRId64
				    ",\"round\":%" PRIu64 ",\"unit_price\":%" PRId64,
				    nom_resource_name(r), a->host, h.quantity, h.round, h.unit_price);
		}
	}
}

int adapt__hold(struct nom_adapt *a, enum nom_resource r, int64_t target, int64_t limit,
		uint64_t round)
{
	int64_t cur = a->standing[r];
	char lim[MONEY_TEXT_MAX];
	int err;

	if (target < 0)
		target = 0;
	if (target == cur)
		return 0;
	if (target == a->failed_target[r] && round == a->failed_round[r])
		return 0; /* refused in this round already: wait for the next price */
	if (limit < 1)
		limit = 1;
	if (target > cur)
		err = nom_acquire(a->cfg.nom, r, a->host, target - cur, limit);
	else
		err = nom_release(a->cfg.nom, r, a->host, target == 0 ? 0 : cur - target);
	a->holds++;
	if (err) {
		a->hold_errors++;
		a->failed_target[r] = target;
		a->failed_round[r] = round;
		if (err == -ENOENT && target < cur) /* nothing standing any more: nothing to give */
			a->standing[r] = 0;
	} else {
		a->standing[r] = target;
		a->failed_target[r] = -1;
	}
	struct sbuf why;
	sbuf_init(&why);
	adapt__emit(a, "hold",
		    ",\"resource\":\"%s\",\"host\":\"%s\",\"from\":%" PRId64 ",\"to\":%" PRId64
		    ",\"limit\":\"%s\",\"result\":\"%s\",\"error\":\"%s\",\"why\":%s",
		    nom_resource_name(r), a->host, cur, target, money_format(limit, lim),
		    err ? "error" : "ok", err ? nom_strerror(err) : "",
		    adapt__json_str(&why, err ? nom_last_error(a->cfg.nom) : ""));
	sbuf_fini(&why);
	return err;
}
