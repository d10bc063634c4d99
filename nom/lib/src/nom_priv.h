/* nom_priv.h: libnom's handle and the internals its files share. */
#ifndef NOM_PRIV_H
#define NOM_PRIV_H

#include <sched.h>
#include <stdarg.h>

#include "bb/bb.h"
#include "common/wire.h"
#include "nom/nom.h"

#define NOM_DEFAULT_TIMEOUT_NS INT64_C(5000000000)
#define NOM_CPU_WORDS (NOM_CPU_MAX / 64)

struct nom {
	char instance[BB_TENANT_MAX];
	struct bb_reader *r;
	struct bb_body *snap;      /* scratch for whole-board copies (holdings, bids) */
	uint32_t seen;             /* the board sequence nom_wait_change last returned */

	/* the local API */
	void *zctx;
	void *sock;                /* DEALER, connected lazily */
	char endpoint[BB_ENDPOINT_MAX];
	bool endpoint_fixed;       /* given in the options, not read from the board */
	int64_t timeout_ns;
	uint64_t next_rid;

	/* thread pinning */
	bool no_pin;
	bool pin_later;            /* nom_acquire does not wait for the CPUs: waits re-pin */
	bool pin_active;           /* the app acquired cores (or asked to pin): follow them */
	bool pinned;               /* the threads are pinned to pinned_mask */
	uint64_t pinned_mask[NOM_CPU_WORDS];
	cpu_set_t *orig;           /* the affinity at open, restored when the cores go */
	size_t orig_size;

	char last_error[256];
};

/* Records the handle's last error message and returns err. */
int nom__fail(struct nom *n, int err, const char *fmt, ...) __attribute__((format(printf, 3, 4)));

/* Sends req (its request id is set here) to nom-priced and waits for the answer. On success
 * *reply owns the reply envelope (wire_free). Returns 0, the market's error mapped to an
 * errno (message in last_error), -ETIMEDOUT or -ENOTCONN. */
int nom__request(struct nom *n, Raas__Envelope *req, Raas__Envelope **reply);
void nom__request_close(struct nom *n);

/* The union of the CPUs of every cores holding on the board (on host, unless NULL). Returns
 * the number of CPUs. */
int nom__held_cpus(struct nom *n, const char *host, uint64_t mask[NOM_CPU_WORDS]);
/* Pins the threads to the held CPUs, or restores the original affinity when none are held;
 * only when pinning is active. Returns 0 or -errno. */
int nom__follow_cores(struct nom *n);
/* Pins every thread of the process to mask (NULL: the original affinity). */
int nom__pin_all(struct nom *n, const uint64_t *mask);
int nom__pin_init(struct nom *n);
void nom__pin_fini(struct nom *n);

#endif
