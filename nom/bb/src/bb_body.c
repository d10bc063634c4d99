/* bb_body.c: the board's contents: names, the checksum, the invariant checks, and the helpers
 * the writer edits its working copy with.
 *
 * Everything here works on a private struct bb_body or a header copy; nothing touches shared
 * memory, so the writer and the reader (on its consistent copies) share it. */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "bb_priv.h"
#include "common/error.h"
#include "common/resource.h"

int bb_instance_valid(const char *instance)
{
	size_t n = instance ? strlen(instance) : 0;

	if (n == 0 || n >= BB_TENANT_MAX || instance[0] == '.')
		return -EINVAL;
	for (size_t i = 0; i < n; i++) {
		char c = instance[i];
		if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
		      c == '_' || c == '-' || c == '.'))
			return -EINVAL;
	}
	return 0;
}

int bb_path(const char *instance, char *buf, size_t len)
{
	int err = bb_instance_valid(instance);

	if (err)
		return err;
	if ((size_t)snprintf(buf, len, "/dev/shm/nom.%s", instance) >= len)
		return -ENAMETOOLONG;
	return 0;
}

void bb_set_string(char *field, size_t size, const char *value)
{
	size_t n = value ? strnlen(value, size - 1) : 0;

	memcpy(field, value ? value : "", n);
	memset(field + n, 0, size - n);
}

static uint64_t mix(uint64_t h, const void *p, size_t n)
{
	const uint64_t *w = p;

	for (size_t i = 0; i < n / 8; i++) {
		h ^= w[i];
		h *= UINT64_C(0x100000001b3);
		h ^= h >> 29;
	}
	return h;
}

static uint32_t clamp(uint32_t n, uint32_t max)
{
	return n > max ? max : n;
}

uint64_t bb_body_checksum(const struct bb_body *b)
{
	uint64_t h = UINT64_C(0xcbf29ce484222325);
	const struct bb_state *s = &b->state;

	h = mix(h, (const char *)s + sizeof(s->checksum), sizeof(*s) - sizeof(s->checksum));
	h = mix(h, b->prices, clamp(s->nprices, BB_MAX_PRICES) * sizeof(b->prices[0]));
	h = mix(h, b->holdings, clamp(s->nholdings, BB_MAX_HOLDINGS) * sizeof(b->holdings[0]));
	h = mix(h, b->bids, clamp(s->nbids, BB_MAX_BIDS) * sizeof(b->bids[0]));
	return h;
}

static int fail(char *why, size_t len, const char *fmt, ...) __attribute__((format(printf, 3, 4)));

static int fail(char *why, size_t len, const char *fmt, ...)
{
	va_list ap;

	if (why && len) {
		va_start(ap, fmt);
		vsnprintf(why, len, fmt, ap);
		va_end(ap);
	}
	return -EINVAL;
}

/* NUL inside the field and only zeros after it (invariant 8). */
static bool string_ok(const char *field, size_t size)
{
	size_t n = strnlen(field, size);

	if (n == size)
		return false;
	for (size_t i = n; i < size; i++)
		if (field[i])
			return false;
	return true;
}

int bb_check_header(const struct bb_header *h, uint64_t file_size, char *why, size_t why_len)
{
	if (h->magic != BB_MAGIC)
		return fail(why, why_len, "magic %#llx is not a nom bulletin board's",
			    (unsigned long long)h->magic);
	if (h->version != BB_VERSION)
		return fail(why, why_len, "layout version %u, expected %u", h->version, BB_VERSION);
	if (h->header_size != sizeof(struct bb_header))
		return fail(why, why_len, "header size %u, expected %zu", h->header_size,
			    sizeof(struct bb_header));
	if (h->size != BB_FILE_SIZE || h->size > file_size)
		return fail(why, why_len, "size %llu (file %llu), expected %zu",
			    (unsigned long long)h->size, (unsigned long long)file_size,
			    (size_t)BB_FILE_SIZE);
	if (h->max_prices != BB_MAX_PRICES || h->max_holdings != BB_MAX_HOLDINGS ||
	    h->max_bids != BB_MAX_BIDS)
		return fail(why, why_len, "capacities %u/%u/%u, expected %u/%u/%u", h->max_prices,
			    h->max_holdings, h->max_bids, BB_MAX_PRICES, BB_MAX_HOLDINGS, BB_MAX_BIDS);
	if (!string_ok(h->instance, sizeof(h->instance)) || bb_instance_valid(h->instance))
		return fail(why, why_len, "instance name is not a valid NUL-terminated name");
	return 0;
}

static bool same_key(uint32_t ra, const char *ha, uint32_t rb, const char *hb)
{
	return ra == rb && strcmp(ha, hb) == 0;
}

static bool resource_ok(uint32_t r)
{
	return r >= BB_RES_CORES && r <= BB_RES_EGRESS;
}

int bb_check_body(const struct bb_body *b, bool verify_checksum, char *why, size_t why_len)
{
	const struct bb_state *s = &b->state;

	if (s->nprices > BB_MAX_PRICES || s->nholdings > BB_MAX_HOLDINGS || s->nbids > BB_MAX_BIDS)
		return fail(why, why_len, "counts %u/%u/%u over the capacities %u/%u/%u", s->nprices,
			    s->nholdings, s->nbids, BB_MAX_PRICES, BB_MAX_HOLDINGS, BB_MAX_BIDS);
	if (s->market_state > BB_MARKET_STOPPED)
		return fail(why, why_len, "market state %u is not a state", s->market_state);
	if (!string_ok(s->tenant, sizeof(s->tenant)) || !string_ok(s->endpoint, sizeof(s->endpoint)) ||
	    !string_ok(s->market_message, sizeof(s->market_message)) ||
	    !string_ok(s->host, sizeof(s->host)) || !string_ok(s->cpuset, sizeof(s->cpuset)) ||
	    !string_ok(s->memory_cgroup, sizeof(s->memory_cgroup)) ||
	    !string_ok(s->netns, sizeof(s->netns)))
		return fail(why, why_len, "a state string is not NUL-terminated and zero-padded");
	for (uint32_t i = 0; i < s->nprices; i++) {
		const struct bb_price *p = &b->prices[i];
		if (!resource_ok(p->resource) || !string_ok(p->host, sizeof(p->host)))
			return fail(why, why_len, "price %u: bad resource %u or host", i, p->resource);
		for (uint32_t j = 0; j < i; j++)
			if (same_key(p->resource, p->host, b->prices[j].resource, b->prices[j].host))
				return fail(why, why_len, "prices %u and %u have the same key %s/%s", j,
					    i, bb_resource_name(p->resource), p->host);
	}
	for (uint32_t i = 0; i < s->nholdings; i++) {
		const struct bb_holding *h = &b->holdings[i];
		if (!resource_ok(h->resource) || !string_ok(h->host, sizeof(h->host)))
			return fail(why, why_len, "holding %u: bad resource %u or host", i,
				    h->resource);
		if (h->quantity < 0)
			return fail(why, why_len, "holding %u: quantity %lld < 0", i,
				    (long long)h->quantity);
		unsigned n = 0;
		for (int w = 0; w < BB_CPU_WORDS; w++)
			n += (unsigned)__builtin_popcountll(h->cpus[w]);
		if (n != h->ncpus)
			return fail(why, why_len, "holding %u: ncpus %u but %u CPUs in the mask", i,
				    h->ncpus, n);
		for (uint32_t j = 0; j < i; j++)
			if (same_key(h->resource, h->host, b->holdings[j].resource,
				     b->holdings[j].host))
				return fail(why, why_len, "holdings %u and %u have the same key", j, i);
	}
	for (uint32_t i = 0; i < s->nbids; i++) {
		const struct bb_bid *d = &b->bids[i];
		if (!string_ok(d->bid_id, sizeof(d->bid_id)) || !d->bid_id[0] ||
		    !string_ok(d->host, sizeof(d->host)))
			return fail(why, why_len, "bid %u: bad id or host", i);
		if (!resource_ok(d->resource) || d->state < BB_BID_SENDING || d->state > BB_BID_RESYNC)
			return fail(why, why_len, "bid %u (%s): bad resource %u or state %u", i,
				    d->bid_id, d->resource, d->state);
		for (uint32_t j = 0; j < i; j++)
			if (strcmp(d->bid_id, b->bids[j].bid_id) == 0)
				return fail(why, why_len, "bids %u and %u have the same id %s", j, i,
					    d->bid_id);
	}
	if (verify_checksum && s->checksum != bb_body_checksum(b))
		return fail(why, why_len, "checksum %#llx does not match the contents (%#llx)",
			    (unsigned long long)s->checksum,
			    (unsigned long long)bb_body_checksum(b));
	return 0;
}

struct bb_price *bb_body_price_upsert(struct bb_body *b, uint32_t resource, const char *host)
{
	struct bb_state *s = &b->state;

	if (strlen(host) >= BB_NAME_MAX) {
		errno = ENAMETOOLONG;
		return NULL;
	}
	for (uint32_t i = 0; i < s->nprices; i++)
		if (same_key(resource, host, b->prices[i].resource, b->prices[i].host))
			return &b->prices[i];
	if (s->nprices >= BB_MAX_PRICES) {
		errno = ENOSPC;
		return NULL;
	}
	struct bb_price *p = &b->prices[s->nprices++];
	memset(p, 0, sizeof(*p));
	p->resource = resource;
	bb_set_string(p->host, sizeof(p->host), host);
	return p;
}

struct bb_holding *bb_body_holding_find(struct bb_body *b, uint32_t resource, const char *host)
{
	for (uint32_t i = 0; i < b->state.nholdings && i < BB_MAX_HOLDINGS; i++)
		if (same_key(resource, host, b->holdings[i].resource, b->holdings[i].host))
			return &b->holdings[i];
	return NULL;
}

struct bb_holding *bb_body_holding_upsert(struct bb_body *b, uint32_t resource,
					  const char *host)
{
	struct bb_holding *h = bb_body_holding_find(b, resource, host);

	if (h)
		return h;
	if (strlen(host) >= BB_NAME_MAX) {
		errno = ENAMETOOLONG;
		return NULL;
	}
	if (b->state.nholdings >= BB_MAX_HOLDINGS) {
		errno = ENOSPC;
		return NULL;
	}
	h = &b->holdings[b->state.nholdings++];
	memset(h, 0, sizeof(*h));
	h->resource = resource;
	bb_set_string(h->host, sizeof(h->host), host);
	return h;
}

void bb_body_holdings_clear(struct bb_body *b)
{
	memset(b->holdings, 0, sizeof(b->holdings));
	b->state.nholdings = 0;
}

struct bb_bid *bb_body_bid_find(struct bb_body *b, const char *bid_id)
{
	for (uint32_t i = 0; i < b->state.nbids && i < BB_MAX_BIDS; i++)
		if (strcmp(b->bids[i].bid_id, bid_id) == 0)
			return &b->bids[i];
	return NULL;
}

struct bb_bid *bb_body_bid_upsert(struct bb_body *b, const char *bid_id)
{
	struct bb_bid *d = bb_body_bid_find(b, bid_id);

	if (d)
		return d;
	if (strlen(bid_id) >= BB_NAME_MAX) {
		errno = ENAMETOOLONG;
		return NULL;
	}
	if (b->state.nbids >= BB_MAX_BIDS) {
		errno = ENOSPC;
		return NULL;
	}
	d = &b->bids[b->state.nbids++];
	memset(d, 0, sizeof(*d));
	bb_set_string(d->bid_id, sizeof(d->bid_id), bid_id);
	return d;
}

int bb_body_bid_remove(struct bb_body *b, const char *bid_id)
{
	struct bb_bid *d = bb_body_bid_find(b, bid_id);

	if (!d)
		return -ENOENT;
	struct bb_bid *last = &b->bids[b->state.nbids - 1];
	if (d != last)
		*d = *last;
	memset(last, 0, sizeof(*last));
	b->state.nbids--;
	return 0;
}

const char *bb_resource_name(uint32_t resource)
{
	return resource <= RAAS_RES_MAX ? raas_resource_name((int)resource) : "?";
}

const char *bb_market_state_name(uint32_t state)
{
	static const char *const names[] = {"connecting", "fresh", "stale", "stopped"};

	return state < sizeof(names) / sizeof(names[0]) ? names[state] : "?";
}

const char *bb_bid_state_name(uint32_t state)
{
	static const char *const names[] = {"?", "sending", "active", "refused", "resync"};

	return state < sizeof(names) / sizeof(names[0]) ? names[state] : "?";
}

int64_t bb__mono_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

int bb__futex_wait(const uint32_t *word, uint32_t val, const struct timespec *deadline)
{
	/* FUTEX_WAIT_BITSET takes an absolute CLOCK_MONOTONIC deadline, so retries after EINTR
	 * do not stretch the timeout. */
	long rc = syscall(SYS_futex, word, FUTEX_WAIT_BITSET, val, deadline, NULL,
			  FUTEX_BITSET_MATCH_ANY);

	if (rc == 0 || errno == EAGAIN)
		return 0;
	return -errno;
}
