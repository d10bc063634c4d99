/* wire.h: encoding and decoding of raas.proto envelopes, with bounds and version checks.
 *
 * Every process decodes untrusted bytes only through wire_decode(): it refuses input over a
 * size bound before protobuf-c sees it, refuses other protocol major versions and envelopes
 * without a body, and says why in words an operator can act on. */
#ifndef COMMON_WIRE_H
#define COMMON_WIRE_H

#include <stddef.h>
#include <stdint.h>

#include "raas.pb-c.h"

/* Default bound on one encoded envelope: an allocation set for 10,000 tenants fits. */
#define WIRE_MAX_BYTES (4u << 20)

/* Sets *e to an empty envelope of this protocol version with the given request id. */
void wire_envelope_init(Raas__Envelope *e, uint64_t request_id);

/* Decodes buf[0..len). On success *out owns the message (free with wire_free()). On
 * failure returns -RAAS_ETOOBIG, -RAAS_EPROTO or -RAAS_EVERSION (or -ENOMEM) and writes a
 * reason into why (why_len bytes, may be 0). */
int wire_decode(const void *buf, size_t len, size_t max_bytes, Raas__Envelope **out, char *why,
		size_t why_len);
void wire_free(Raas__Envelope *e);

/* Encodes e into a malloc'd buffer (*out, *len; the caller frees). Returns 0, -ENOMEM or
 * -RAAS_ETOOBIG when the encoding is over WIRE_MAX_BYTES. */
int wire_encode(const Raas__Envelope *e, uint8_t **out, size_t *len);

/* "cores", "memory", "bandwidth", "llc", "egress"; "?" for others. */
const char *wire_resource_name(Raas__Resource r);
/* The unit of a resource for display: "cores", "MiB", "Mbit/s", "ways", "bytes". */
const char *wire_resource_unit(Raas__Resource r);
/* Parses a resource name. Returns 0 or -RAAS_EPARSE. */
int wire_resource_parse(const char *name, Raas__Resource *out);
/* The market's error codes (raas.proto ErrorCode) as the project's negative errors
 * (common/error.h), and back: one mapping for libnom, nom-priced and whoever reads a Reply.
 * An unknown code is -EIO; an error without a code of its own is ERROR_INTERNAL. */
int wire_error_from_code(int code);
int wire_code_from_error(int err);
/* The name of the envelope's body ("bid", "price", ...), "none" when unset. */
const char *wire_body_name(const Raas__Envelope *e);

/* ProfitReport bounds (raas.proto). */
#define WIRE_PROFIT_APPS_MAX 16
#define WIRE_PROFIT_NAME_MAX 63
#define WIRE_PROFIT_MAX_ND_PER_HOUR INT64_C(100000000000000000) /* $10^8 an hour */
#define WIRE_PROFIT_W_MAX_NS (INT64_C(3600) * 1000000000)
/* Checks a ProfitReport against the bounds (apps_max: 1 for an app's own report to
 * nom-priced, WIRE_PROFIT_APPS_MAX for nom-priced's to the market) and that the sum is the
 * sum of the apps. 0, or -RAAS_EPROTO with why naming the field. */
int wire_profit_check(const Raas__ProfitReport *r, size_t apps_max, char *why, size_t why_len);

#endif
