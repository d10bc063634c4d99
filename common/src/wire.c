/* wire.c: bounded, versioned decoding and encoding of raas.proto envelopes. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/error.h"
#include "common/resource.h"
#include "common/wire.h"

void wire_envelope_init(Raas__Envelope *e, uint64_t request_id)
{
	raas__envelope__init(e);
	e->version = RAAS__PROTOCOL_VERSION__PROTOCOL_MAJOR;
	e->request_id = request_id;
}

int wire_decode(const void *buf, size_t len, size_t max_bytes, Raas__Envelope **out, char *why,
		size_t why_len)
{
	if (why_len)
		why[0] = '\0';
	if (len > max_bytes) {
		if (why_len)
			snprintf(why, why_len, "message of %zu bytes is over the %zu-byte bound", len,
				 max_bytes);
		return -RAAS_ETOOBIG;
	}
	if (len == 0) {
		if (why_len)
			snprintf(why, why_len, "empty message");
		return -RAAS_EPROTO;
	}
	Raas__Envelope *e = raas__envelope__unpack(NULL, len, buf);
	if (!e) {
		if (why_len)
			snprintf(why, why_len,
				 "%zu bytes do not decode as a raas.Envelope (truncated or not protobuf)",
				 len);
		return -RAAS_EPROTO;
	}
	if (e->version != RAAS__PROTOCOL_VERSION__PROTOCOL_MAJOR) {
		if (why_len)
			snprintf(why, why_len, "protocol version %u is not supported (this peer speaks %d)",
				 e->version, RAAS__PROTOCOL_VERSION__PROTOCOL_MAJOR);
		raas__envelope__free_unpacked(e, NULL);
		return -RAAS_EVERSION;
	}
	if (e->body_case == RAAS__ENVELOPE__BODY__NOT_SET) {
		if (why_len)
			snprintf(why, why_len, "envelope has no body (unknown message type?)");
		raas__envelope__free_unpacked(e, NULL);
		return -RAAS_EPROTO;
	}
	*out = e;
	return 0;
}

void wire_free(Raas__Envelope *e)
{
	if (e)
		raas__envelope__free_unpacked(e, NULL);
}

int wire_encode(const Raas__Envelope *e, uint8_t **out, size_t *len)
{
	size_t n = raas__envelope__get_packed_size(e);

	if (n > WIRE_MAX_BYTES)
		return -RAAS_ETOOBIG;
	uint8_t *buf = malloc(n ? n : 1);
	if (!buf)
		return -ENOMEM;
	raas__envelope__pack(e, buf);
	*out = buf;
	*len = n;
	return 0;
}

/* The one vocabulary (common/resource.h) numbers resources as the proto does. */
_Static_assert((int)RAAS_RES_CORES == (int)RAAS__RESOURCE__RESOURCE_CORES &&
		       (int)RAAS_RES_MEMORY == (int)RAAS__RESOURCE__RESOURCE_MEMORY &&
		       (int)RAAS_RES_BANDWIDTH == (int)RAAS__RESOURCE__RESOURCE_BANDWIDTH &&
		       (int)RAAS_RES_LLC == (int)RAAS__RESOURCE__RESOURCE_LLC &&
		       (int)RAAS_RES_EGRESS == (int)RAAS__RESOURCE__RESOURCE_EGRESS,
	       "common/resource.h numbers resources as raas.proto does");

const char *wire_resource_name(Raas__Resource r)
{
	return raas_resource_name((int)r);
}

const char *wire_resource_unit(Raas__Resource r)
{
	return raas_resource_unit((int)r);
}

int wire_resource_parse(const char *name, Raas__Resource *out)
{
	enum raas_resource r;
	int rc = raas_resource_parse(name, &r);

	if (rc == 0)
		*out = (Raas__Resource)r;
	return rc;
}

const char *wire_body_name(const Raas__Envelope *e)
{
	const ProtobufCFieldDescriptor *f;

	if (e->body_case == RAAS__ENVELOPE__BODY__NOT_SET)
		return "none";
	f = protobuf_c_message_descriptor_get_field(&raas__envelope__descriptor,
						    (unsigned)e->body_case);
	return f ? f->name : "?";
}

int wire_profit_check(const Raas__ProfitReport *r, size_t apps_max, char *why, size_t why_len)
{
	int64_t sum = 0;

	if (r->n_apps == 0 || r->n_apps > apps_max) {
		snprintf(why, why_len, "profit_report.apps: %zu entries, want 1..%zu", r->n_apps,
			 apps_max);
		return -RAAS_EPROTO;
	}
	for (size_t i = 0; i < r->n_apps; i++) {
		const Raas__AppProfit *a = r->apps[i];
		size_t n = a->app ? strlen(a->app) : 0;
		if (n == 0 || n > WIRE_PROFIT_NAME_MAX) {
			snprintf(why, why_len, "profit_report.apps[%zu].app: %zu bytes, want 1..%d",
				 i, n, WIRE_PROFIT_NAME_MAX);
			return -RAAS_EPROTO;
		}
		for (size_t k = 0; k < i; k++)
			if (strcmp(r->apps[k]->app, a->app) == 0) {
				snprintf(why, why_len, "profit_report.apps[%zu].app: \"%s\" twice",
					 i, a->app);
				return -RAAS_EPROTO;
			}
		if (a->profit_per_hour > WIRE_PROFIT_MAX_ND_PER_HOUR ||
		    a->profit_per_hour < -WIRE_PROFIT_MAX_ND_PER_HOUR) {
			snprintf(why, why_len, "profit_report.apps[%zu].profit_per_hour: beyond "
					       "+-10^17 nanodollars per hour", i);
			return -RAAS_EPROTO;
		}
		if (a->w_ns < -1 || a->w_ns > WIRE_PROFIT_W_MAX_NS) {
			snprintf(why, why_len,
				 "profit_report.apps[%zu].w_ns: %lld, want -1 or 0..3600 s", i,
				 (long long)a->w_ns);
			return -RAAS_EPROTO;
		}
		sum += a->profit_per_hour; /* |sum| <= 16 * 10^17 < 2^63 */
	}
	if (sum != r->profit_per_hour && apps_max > 1) {
		snprintf(why, why_len,
			 "profit_report.profit_per_hour: %lld is not the apps' sum %lld",
			 (long long)r->profit_per_hour, (long long)sum);
		return -RAAS_EPROTO;
	}
	return 0;
}

int wire_error_from_code(int code)
{
	switch (code) {
	case RAAS__ERROR_CODE__ERROR_NONE:
		return 0;
	case RAAS__ERROR_CODE__ERROR_MALFORMED:
		return -EINVAL;
	case RAAS__ERROR_CODE__ERROR_VERSION:
		return -RAAS_EVERSION;
	case RAAS__ERROR_CODE__ERROR_TOO_BIG:
		return -RAAS_ETOOBIG;
	case RAAS__ERROR_CODE__ERROR_DENIED:
		return -RAAS_EDENIED;
	case RAAS__ERROR_CODE__ERROR_NOT_FOUND:
		return -ENOENT;
	case RAAS__ERROR_CODE__ERROR_BUDGET:
		return -RAAS_EBUDGET;
	case RAAS__ERROR_CODE__ERROR_NO_SUPPLY:
		return -RAAS_ENOSUPPLY;
	case RAAS__ERROR_CODE__ERROR_PRICE:
		return -ERANGE;
	case RAAS__ERROR_CODE__ERROR_UNAVAILABLE:
		return -EAGAIN;
	default:
		return -EIO;
	}
}

int wire_code_from_error(int err)
{
	switch (err) {
	case 0:
		return RAAS__ERROR_CODE__ERROR_NONE;
	case -EINVAL:
	case -RAAS_EPROTO:
	case -ENAMETOOLONG:
		return RAAS__ERROR_CODE__ERROR_MALFORMED;
	case -RAAS_EVERSION:
		return RAAS__ERROR_CODE__ERROR_VERSION;
	case -RAAS_ETOOBIG:
	case -ENOSPC:
		return RAAS__ERROR_CODE__ERROR_TOO_BIG;
	case -RAAS_EDENIED:
	case -EPERM:
		return RAAS__ERROR_CODE__ERROR_DENIED;
	case -ENOENT:
		return RAAS__ERROR_CODE__ERROR_NOT_FOUND;
	case -RAAS_EBUDGET:
		return RAAS__ERROR_CODE__ERROR_BUDGET;
	case -RAAS_ENOSUPPLY:
		return RAAS__ERROR_CODE__ERROR_NO_SUPPLY;
	case -ERANGE:
		return RAAS__ERROR_CODE__ERROR_PRICE;
	case -EAGAIN:
	case -ETIMEDOUT:
	case -ENOTCONN:
		return RAAS__ERROR_CODE__ERROR_UNAVAILABLE;
	default:
		return RAAS__ERROR_CODE__ERROR_INTERNAL;
	}
}
