/* source.h: where a nom app learns its prices: the price sources of libnom's controller.
 *
 * One interface, three implementations: the instance's bulletin board (the market's prices,
 * through nom-priced), a price schedule file and a constant (offline profiling, tests, an
 * app run alone). The controller (nom/adapt.h) reads whichever it was given the same way and
 * sleeps in the source's wait until the prices may have changed: the board source sleeps on
 * the board's futex (a publish wakes it), the schedule until its next step, the constant until
 * it is kicked. None polls on a timer. All three can also be woken by the caller's kick word
 * (bb_kick), which is how the app's own load meter wakes the same sleep.
 *
 * Prices: the traffic price in dollars per Gbit (econ.h's P), and the prices of cores and
 * memory per unit-hour in dollars (a source without them says < 0: not priced). Times are
 * nanoseconds since the source's start.
 *
 * The schedule file (docs/apps.md): one step per line, `time_offset price`, the offset in
 * seconds since the app started (decimal, or with a unit: 500ms, 60s, 2m) and the traffic
 * price in dollars per Gbit ("1", "0.25", "$10"); offsets strictly increase and the first is
 * 0; '#' starts a comment. The price of a step holds until the next step's offset.
 *
 * A source is used by one thread at a time. Errors: 0 or a negative errno. */
#ifndef NOM_SOURCE_H
#define NOM_SOURCE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "common/plugin.h"

#define NOM_SOURCE_VERSION 1
#define NOM_SCHEDULE_MAX_STEPS 10000
#define NOM_SCHEDULE_MAX_BYTES (1u << 20)

struct nom;

/* What a source says at one moment. */
struct nom_prices {
	double traffic;            /* $/Gbit of the app's traffic; < 0: not known */
	double core_hour;          /* $ per core-hour on the host; < 0: not priced */
	double memory_hour;        /* $ per MiB-hour on the host; < 0: not priced */
	bool stale;                /* the market connection is not fresh: prices may be old */
	char why[128];             /* stale: why (the board's market message) */
	uint64_t round;            /* the round of the traffic price (0: no market) */
	int64_t published_wall_ns; /* when the market published it (0: no market) */
};

struct nom_source_ops {
	/* api_version NOM_SOURCE_VERSION, size sizeof(struct nom_source_ops) the source was
	 * built with, name "board" (common/plugin.h: the first release ended at get; wait and
	 * destroy are read only when size covers them) */
	PLUGIN_HEADER;
	/* The prices at t_ns (>= 0) and the time of the next known change (INT64_MAX: none or
	 * unknown). Returns 0 or a negative errno. */
	int (*get)(void *priv, int64_t t_ns, struct nom_prices *out, int64_t *next_ns);
	/* Optional: sleeps until the prices may have changed, *kick differs from kick_seen, or
	 * timeout_ns passes (< 0: no timeout). Returns 0, or -ETIMEDOUT. NULL: the wrapper sleeps
	 * until get's next change or the kick. */
	int (*wait)(void *priv, int64_t t_ns, int64_t timeout_ns, const uint32_t *kick,
		    uint32_t kick_seen);
	void (*destroy)(void *priv);
};

struct nom_source {
	const struct nom_source_ops *ops;
	void *priv;
};

/* Wrappers: check the source (the plugin rules of common/plugin.h: version, size, name, get
 * present) and its answer (finite; the traffic price >= 0 or
 * unknown) before anyone uses it. */
int nom_source_get(const struct nom_source *s, int64_t t_ns, struct nom_prices *out,
		   int64_t *next_ns);
int nom_source_wait(const struct nom_source *s, int64_t t_ns, int64_t timeout_ns,
		    const uint32_t *kick, uint32_t kick_seen);
const char *nom_source_name(const struct nom_source *s);
void nom_source_destroy(struct nom_source *s);

/* A constant traffic price ($/Gbit). Returns 0 or -EINVAL (negative or not finite), -ENOMEM.
 * The caller owns *out. */
int nom_source_fixed(double price, struct nom_source **out);

/* Parses schedule text (len bytes); name stands for the file in errors. On failure returns
 * -RAAS_EPARSE or -RAAS_ETOOBIG and writes "NAME:LINE: message" into err. */
int nom_source_schedule_parse(const char *name, const char *text, size_t len,
			      struct nom_source **out, char *err, size_t errlen);
/* Reads and parses a file; errors as above, or -errno when it cannot be read. */
int nom_source_schedule_load(const char *path, struct nom_source **out, char *err,
			     size_t errlen);

/* The board of the instance nom was opened on: the traffic price on host (nom_traffic_price:
 * egress, else bandwidth / 3.6), the cores and memory prices on host, the market state
 * (stale unless fresh, or when nom-priced is not running). Its wait is nom_wait_change_or():
 * a board change (price, holding, market state) or the kick. host NULL or "": the board's
 * (nom-priced's [priced] host). Borrows nom (which must outlive
 * the source, and which the caller uses from the same thread only). */
int nom_source_board(struct nom *nom, const char *host, struct nom_source **out);

#endif
