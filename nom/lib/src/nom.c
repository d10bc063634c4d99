/* nom.c: libnom's handle and its board side: open, prices, holdings, status, waiting.
 *
 * Everything here reads the instance's bulletin board (nom/bb) and never talks to nom-priced:
 * a price read is a seqlock copy of one entry, a wait is a futex sleep on the board's
 * sequence word. Requests to the market are in nom_request.c, thread pinning in nom_pin.c. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/error.h"
#include "common/resource.h"
#include "nom_priv.h"

_Static_assert((int)NOM_CORES == (int)BB_RES_CORES && (int)NOM_EGRESS == (int)BB_RES_EGRESS,
	       "libnom's resources are the board's (and raas.proto's)");
_Static_assert((int)NOM_MARKET_STALE == (int)BB_MARKET_STALE &&
		       (int)NOM_MARKET_STOPPED == (int)BB_MARKET_STOPPED,
	       "libnom's market states are the board's");
_Static_assert(NOM_CPU_MAX == BB_CPU_WORDS * 64, "CPU masks of the same size");
_Static_assert((int)NOM_BID_RESYNC == (int)BB_BID_RESYNC, "libnom's bid states are the board's");
_Static_assert(sizeof(((struct nom_bid_info *)0)->host) == BB_NAME_MAX, "host names fit");
_Static_assert(sizeof(((struct nom_status *)0)->host) == BB_NAME_MAX &&
		       sizeof(((struct nom_status *)0)->cpuset) == BB_PATH_MAX &&
		       sizeof(((struct nom_status *)0)->netns) == BB_PATH_MAX &&
		       sizeof(((struct nom_status *)0)->endpoint) == BB_ENDPOINT_MAX,
	       "the board's strings fit nom_status");

int nom__fail(struct nom *n, int err, const char *fmt, ...)
{
	va_list ap;

	if (n) {
		va_start(ap, fmt);
		vsnprintf(n->last_error, sizeof(n->last_error), fmt, ap);
		va_end(ap);
	}
	return err;
}

static void ok(struct nom *n)
{
	n->last_error[0] = '\0';
}

int nom_open(const char *instance, const struct nom_options *opts, struct nom **out)
{
	struct nom_options o = {0};
	int err;

	if (bb_instance_valid(instance))
		return -EINVAL;
	if (opts) {
		if (opts->size < offsetof(struct nom_options, no_pin) + sizeof(bool) ||
		    opts->size > 4096)
			return -EINVAL;
		memcpy(&o, opts, opts->size < sizeof(o) ? opts->size : sizeof(o));
	}
	if (o.timeout_ns < 0 || (o.endpoint && strlen(o.endpoint) >= BB_ENDPOINT_MAX))
		return -EINVAL;
	struct nom *n = calloc(1, sizeof(*n));
	if (!n)
		return -ENOMEM;
	n->snap = malloc(sizeof(*n->snap));
	if (!n->snap) {
		err = -ENOMEM;
		goto fail_free;
	}
	snprintf(n->instance, sizeof(n->instance), "%s", instance);
	n->timeout_ns = o.timeout_ns ? o.timeout_ns : NOM_DEFAULT_TIMEOUT_NS;
	n->no_pin = o.no_pin;
	if (opts && opts->size >= offsetof(struct nom_options, pin_later) + sizeof(bool))
		n->pin_later = o.pin_later;
	if (o.endpoint) {
		snprintf(n->endpoint, sizeof(n->endpoint), "%s", o.endpoint);
		n->endpoint_fixed = true;
	}
	err = bb_reader_open(instance, &n->r);
	if (err)
		goto fail_free;
	n->seen = bb_reader_seq(n->r);
	err = nom__pin_init(n);
	if (err)
		goto fail_reader;
	*out = n;
	return 0;

fail_reader:
	bb_reader_close(n->r);
fail_free:
	free(n->snap);
	free(n);
	return err;
}

void nom_close(struct nom *n)
{
	if (!n)
		return;
	if (n->pinned)
		nom__pin_all(n, NULL);
	nom__request_close(n);
	nom__pin_fini(n);
	bb_reader_close(n->r);
	free(n->snap);
	free(n);
}

/* Replaces a retired board (nom-priced started one of another layout) by the current one. */
static int reopen(struct nom *n)
{
	struct bb_reader *r;
	int err = bb_reader_open(n->instance, &r);

	if (err)
		return nom__fail(n, err, "board of instance %s was replaced and cannot be reopened: %s",
				 n->instance, raas_strerror(err));
	bb_reader_close(n->r);
	n->r = r;
	n->seen = bb_reader_seq(r);
	return 0;
}

int nom_price(struct nom *n, enum nom_resource resource, const char *host,
	      struct nom_price_info *out)
{
	struct bb_price p;
	uint32_t state;
	int err = bb_read_price(n->r, (uint32_t)resource, host ? host : "", &p, &state);

	if (err == -RAAS_ESTALE && bb_reader_retired(n->r) && reopen(n) == 0)
		err = bb_read_price(n->r, (uint32_t)resource, host ? host : "", &p, &state);
	if (err == -ENOENT)
		return nom__fail(n, err, "no %s price for host '%s' on the board of %s",
				 nom_resource_name(resource), host ? host : "", n->instance);
	if (err)
		return nom__fail(n, err, "board of %s: %s", n->instance, raas_strerror(err));
	out->unit_price = p.unit_price;
	out->round = p.round;
	out->supply = p.supply;
	out->allocated = p.allocated;
	out->published_wall_ns = p.published_wall_ns;
	out->next_round_wall_ns = p.next_round_wall_ns;
	out->stale = state != BB_MARKET_FRESH;
	return 0;
}

static int snapshot(struct nom *n)
{
	int err = bb_snapshot(n->r, n->snap, NULL);

	if (err == -RAAS_ESTALE && bb_reader_retired(n->r) && reopen(n) == 0)
		err = bb_snapshot(n->r, n->snap, NULL);
	if (err)
		return nom__fail(n, err, "board of %s: %s", n->instance, raas_strerror(err));
	return 0;
}

int nom_holding(struct nom *n, enum nom_resource resource, const char *host,
		struct nom_holding_info *out)
{
	int err = snapshot(n);

	if (err)
		return err;
	memset(out, 0, sizeof(*out));
	for (uint32_t i = 0; i < n->snap->state.nholdings; i++) {
		const struct bb_holding *h = &n->snap->holdings[i];
		if (h->resource != (uint32_t)resource || (host && host[0] && strcmp(h->host, host)))
			continue;
		out->quantity += h->quantity;
		out->payment_per_hour += h->payment_per_hour;
		out->unit_price = h->unit_price;
		if (h->round > out->round)
			out->round = h->round;
		for (int w = 0; w < NOM_CPU_WORDS; w++)
			out->cpus[w] |= h->cpus[w];
	}
	for (int w = 0; w < NOM_CPU_WORDS; w++)
		out->ncpus += __builtin_popcountll(out->cpus[w]);
	ok(n);
	return 0;
}

int nom_bid_info(struct nom *n, const char *bid_id, struct nom_bid_info *out)
{
	int err = snapshot(n);

	if (err)
		return err;
	for (uint32_t i = 0; i < n->snap->state.nbids; i++) {
		const struct bb_bid *d = &n->snap->bids[i];
		if (strcmp(d->bid_id, bid_id) != 0)
			continue;
		memset(out, 0, sizeof(*out));
		out->resource = (enum nom_resource)d->resource;
		snprintf(out->host, sizeof(out->host), "%s", d->host);
		out->min_quantity = d->min_quantity;
		out->max_quantity = d->max_quantity;
		out->unit_price = d->unit_price;
		out->effective_round = d->effective_round;
		out->state = (enum nom_bid_state)d->state;
		out->error = d->error;
		ok(n);
		return 0;
	}
	return nom__fail(n, -ENOENT, "no bid '%s' on the board of %s", bid_id, n->instance);
}

void nom_acquire_bid_id(enum nom_resource resource, const char *host, char *buf, size_t len)
{
	snprintf(buf, len, "acquire/%s/%s", nom_resource_name(resource), host ? host : "");
}

int nom__held_cpus(struct nom *n, const char *host, uint64_t mask[NOM_CPU_WORDS])
{
	int count = 0;

	memset(mask, 0, NOM_CPU_WORDS * sizeof(mask[0]));
	for (uint32_t i = 0; i < n->snap->state.nholdings; i++) {
		const struct bb_holding *h = &n->snap->holdings[i];
		if (h->resource != BB_RES_CORES || h->quantity <= 0 ||
		    (host && host[0] && strcmp(h->host, host)))
			continue;
		for (int w = 0; w < NOM_CPU_WORDS; w++)
			mask[w] |= h->cpus[w];
	}
	for (int w = 0; w < NOM_CPU_WORDS; w++)
		count += __builtin_popcountll(mask[w]);
	return count;
}

int nom_status(struct nom *n, struct nom_status *out)
{
	struct bb_state s;
	int err = bb_read_state(n->r, &s);

	if (err == -RAAS_ESTALE && bb_reader_retired(n->r) && reopen(n) == 0)
		err = bb_read_state(n->r, &s);
	if (err)
		return nom__fail(n, err, "board of %s: %s", n->instance, raas_strerror(err));
	memset(out, 0, sizeof(*out));
	out->market = (enum nom_market_state)s.market_state;
	snprintf(out->message, sizeof(out->message), "%s", s.market_message);
	snprintf(out->tenant, sizeof(out->tenant), "%s", s.tenant);
	out->round = s.round;
	out->round_ns = s.round_ns;
	out->next_round_wall_ns = s.next_round_wall_ns;
	out->charged_total = s.charged_total;
	out->last_charged = s.last_charged;
	out->balance = s.balance;
	out->memory_budget_mib = s.memory_budget_mib;
	out->reconnects = s.reconnects;
	out->priced_alive = bb_writer_alive(n->r, &out->priced_pid);
	snprintf(out->host, sizeof(out->host), "%s", s.host);
	snprintf(out->cpuset, sizeof(out->cpuset), "%s", s.cpuset);
	snprintf(out->memory_cgroup, sizeof(out->memory_cgroup), "%s", s.memory_cgroup);
	snprintf(out->netns, sizeof(out->netns), "%s", s.netns);
	snprintf(out->endpoint, sizeof(out->endpoint), "%s", s.endpoint);
	if (!out->priced_alive && out->market == NOM_MARKET_FRESH) {
		/* The writer died without saying so: nothing on the board is being kept current. */
		out->market = NOM_MARKET_STALE;
		snprintf(out->message, sizeof(out->message), "nom-priced (pid %d) is not running",
			 (int)out->priced_pid);
	}
	ok(n);
	return 0;
}

int nom_wait_change(struct nom *n, int64_t timeout_ns)
{
	int err = bb_wait_change(n->r, &n->seen, timeout_ns);

	if (err == -RAAS_ESTALE && bb_reader_retired(n->r)) {
		err = reopen(n);
		if (err)
			return err;
	} else if (err == -ETIMEDOUT) {
		return nom__fail(n, err, "no change on the board within %lld ns",
				 (long long)timeout_ns);
	} else if (err) {
		return nom__fail(n, err, "board of %s: %s", n->instance, raas_strerror(err));
	}
	if (n->pin_active) {
		err = nom__follow_cores(n);
		if (err)
			return err;
	}
	ok(n);
	return 0;
}

char *nom_explain_open(const char *instance, int err, char *buf, size_t len)
{
	char path[96] = "";

	bb_path(instance ? instance : "", path, sizeof(path));
	switch (err) {
	case -EINVAL:
		snprintf(buf, len, "'%s' is not an instance name (1-63 of [A-Za-z0-9_.-], not "
			 "starting with a dot)", instance ? instance : "");
		break;
	case -ENOENT:
		snprintf(buf, len, "instance %s has no bulletin board (%s): is its nom-priced "
			 "running?", instance, path);
		break;
	case -RAAS_EVERSION: {
		/* Read the version the file says, to name it. */
		uint32_t version = 0;
		FILE *f = fopen(path, "rb");
		if (f) {
			struct bb_header h;
			if (fread(&h, sizeof(h), 1, f) == 1)
				version = h.version;
			fclose(f);
		}
		snprintf(buf, len, "the board of instance %s (%s) has layout version %u; this "
			 "build reads version %u: run nom-priced and the app from the same build",
			 instance, path, version, BB_VERSION);
		break;
	}
	case -RAAS_EPROTO:
		snprintf(buf, len, "the board of instance %s (%s) is damaged (not a bulletin "
			 "board's header)", instance, path);
		break;
	default:
		snprintf(buf, len, "cannot open the board of instance %s (%s): %s", instance, path,
			 raas_strerror(err));
	}
	return buf;
}

int nom_wait_change_or(struct nom *n, int64_t timeout_ns, const uint32_t *word,
		       uint32_t word_seen)
{
	int err = bb_wait_change_or(n->r, &n->seen, timeout_ns, word, word_seen);

	if (err == 1) {
		ok(n);
		return 1;
	}
	if (err == -RAAS_ESTALE && bb_reader_retired(n->r)) {
		err = reopen(n);
		if (err)
			return err;
	} else if (err == -ETIMEDOUT) {
		return nom__fail(n, err, "no change on the board within %lld ns",
				 (long long)timeout_ns);
	} else if (err) {
		return nom__fail(n, err, "board of %s: %s", n->instance, raas_strerror(err));
	}
	if (n->pin_active) {
		err = nom__follow_cores(n);
		if (err)
			return err;
	}
	ok(n);
	return 0;
}

const char *nom_strerror(int err)
{
	return raas_strerror(err);
}

const char *nom_last_error(const struct nom *n)
{
	return n->last_error;
}

/* nom.h numbers resources as the one vocabulary does (it is installed alone, for apps built
 * outside the tree, so it spells the values out). */
_Static_assert(NOM_CORES == (int)RAAS_RES_CORES && NOM_MEMORY == (int)RAAS_RES_MEMORY &&
		       NOM_BANDWIDTH == (int)RAAS_RES_BANDWIDTH && NOM_LLC == (int)RAAS_RES_LLC &&
		       NOM_EGRESS == (int)RAAS_RES_EGRESS,
	       "nom_resource follows common/resource.h");

const char *nom_resource_name(enum nom_resource r)
{
	return raas_resource_name((int)r);
}

int nom_resource_parse(const char *name, enum nom_resource *out)
{
	enum raas_resource r;

	if (raas_resource_parse(name, &r) != 0)
		return -EINVAL;
	*out = (enum nom_resource)r;
	return 0;
}
