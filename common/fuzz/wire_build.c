/* wire_build.c: raas.proto messages from fuzz input, walking protobuf-c's descriptors
 * (wire_build.h says why). Everything is allocated here with malloc and freed by the same
 * walk, so defaults that point at protobuf-c's static strings are never freed. */
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include "wire_build.h"

#define DEPTH_MAX 5
#define REPEAT_MAX 4
#define STRING_MAX 40

struct input {
	const uint8_t *p;
	size_t n;
};

static uint8_t take(struct input *in)
{
	if (!in->n)
		return 0;
	in->n--;
	return *in->p++;
}

static uint64_t take_u64(struct input *in)
{
	/* One byte says how wide: small numbers and the edges are what finds bugs. */
	uint8_t w = take(in);
	uint64_t v = 0;
	switch (w & 7) {
	case 0:
		return w >> 3;
	case 1:
		return UINT64_MAX - (w >> 3);
	case 2:
		return (uint64_t)INT64_MAX - (w >> 3);
	case 3:
		return (uint64_t)INT64_MIN + (w >> 3);
	default:
		for (unsigned i = 0; i < (1u << ((w & 7) - 4)) * 2; i++)
			v = v << 8 | take(in);
		return v;
	}
}

static void *build(const ProtobufCMessageDescriptor *d, struct input *in, unsigned depth);
static void free_msg(ProtobufCMessage *m);

/* Fills one value of field f at dst; false when out of memory. */
static bool value(const ProtobufCFieldDescriptor *f, void *dst, struct input *in,
		  unsigned depth)
{
	uint64_t v;
	switch (f->type) {
	case PROTOBUF_C_TYPE_INT32:
	case PROTOBUF_C_TYPE_SINT32:
	case PROTOBUF_C_TYPE_SFIXED32:
	case PROTOBUF_C_TYPE_UINT32:
	case PROTOBUF_C_TYPE_FIXED32:
		v = take_u64(in);
		memcpy(dst, &(uint32_t){(uint32_t)v}, 4);
		return true;
	case PROTOBUF_C_TYPE_INT64:
	case PROTOBUF_C_TYPE_SINT64:
	case PROTOBUF_C_TYPE_SFIXED64:
	case PROTOBUF_C_TYPE_UINT64:
	case PROTOBUF_C_TYPE_FIXED64:
		v = take_u64(in);
		memcpy(dst, &v, 8);
		return true;
	case PROTOBUF_C_TYPE_FLOAT:
		*(float *)dst = (float)(int8_t)take(in) / 4;
		return true;
	case PROTOBUF_C_TYPE_DOUBLE:
		*(double *)dst = (double)(int64_t)take_u64(in) / 1024;
		return true;
	case PROTOBUF_C_TYPE_BOOL:
		*(protobuf_c_boolean *)dst = take(in) & 1;
		return true;
	case PROTOBUF_C_TYPE_ENUM: {
		const ProtobufCEnumDescriptor *ed = f->descriptor;
		uint8_t b = take(in);
		/* Mostly a declared value, sometimes any number. */
		int32_t e = b < 240 && ed->n_values ? ed->values[b % ed->n_values].value
						   : (int32_t)take_u64(in);
		memcpy(dst, &e, 4);
		return true;
	}
	case PROTOBUF_C_TYPE_STRING: {
		size_t len = take(in) % STRING_MAX;
		char *s = malloc(len + 1);
		if (!s)
			return false;
		for (size_t i = 0; i < len; i++) {
			/* Printable mostly (names, ids), any byte but NUL sometimes. */
			uint8_t c = take(in);
			s[i] = (char)(c < 0x80 ? 'a' + c % 26 : c < 0xc0 ? '0' + c % 10 : c | 1);
		}
		s[len] = '\0';
		*(char **)dst = s;
		return true;
	}
	case PROTOBUF_C_TYPE_BYTES: {
		ProtobufCBinaryData *b = dst;
		b->len = take(in) % STRING_MAX;
		b->data = malloc(b->len ? b->len : 1);
		if (!b->data)
			return false;
		for (size_t i = 0; i < b->len; i++)
			b->data[i] = take(in);
		return true;
	}
	case PROTOBUF_C_TYPE_MESSAGE: {
		void *m = depth < DEPTH_MAX ? build(f->descriptor, in, depth + 1) : NULL;
		*(void **)dst = m;
		return m != NULL || depth >= DEPTH_MAX;
	}
	}
	return true;
}

static size_t value_size(const ProtobufCFieldDescriptor *f)
{
	switch (f->type) {
	case PROTOBUF_C_TYPE_INT64:
	case PROTOBUF_C_TYPE_SINT64:
	case PROTOBUF_C_TYPE_SFIXED64:
	case PROTOBUF_C_TYPE_UINT64:
	case PROTOBUF_C_TYPE_FIXED64:
	case PROTOBUF_C_TYPE_DOUBLE:
		return 8;
	case PROTOBUF_C_TYPE_BOOL:
		return sizeof(protobuf_c_boolean);
	case PROTOBUF_C_TYPE_STRING:
	case PROTOBUF_C_TYPE_MESSAGE:
		return sizeof(void *);
	case PROTOBUF_C_TYPE_BYTES:
		return sizeof(ProtobufCBinaryData);
	default:
		return 4;
	}
}

static void *build(const ProtobufCMessageDescriptor *d, struct input *in, unsigned depth)
{
	ProtobufCMessage *m = malloc(d->sizeof_message);
	if (!m)
		return NULL;
	d->message_init(m);
	/* Strings start at protobuf-c's static defaults; this walk owns only what it sets. */
	for (unsigned i = 0; i < d->n_fields; i++) {
		const ProtobufCFieldDescriptor *f = &d->fields[i];
		if (f->label != PROTOBUF_C_LABEL_REPEATED && f->type == PROTOBUF_C_TYPE_STRING)
			*(char **)((char *)m + f->offset) = NULL;
	}
	for (unsigned i = 0; i < d->n_fields; i++) {
		const ProtobufCFieldDescriptor *f = &d->fields[i];
		char *field = (char *)m + f->offset;
		uint8_t b = take(in);
		if (f->label == PROTOBUF_C_LABEL_REPEATED) {
			size_t n = b % (REPEAT_MAX + 1), vs = value_size(f);
			if (!n)
				continue;
			void *arr = calloc(n, vs);
			if (!arr)
				goto oom;
			*(void **)field = arr;
			for (size_t k = 0; k < n; k++) {
				if (!value(f, (char *)arr + k * vs, in, depth))
					goto oom;
				*(size_t *)((char *)m + f->quantifier_offset) = k + 1;
				if (f->type == PROTOBUF_C_TYPE_MESSAGE && !*(void **)((char *)arr + k * vs)) {
					*(size_t *)((char *)m + f->quantifier_offset) = k;
					break;
				}
			}
			continue;
		}
		if (!(b & 1))
			continue; /* left at its default */
		if (f->flags & PROTOBUF_C_FIELD_FLAG_ONEOF) {
			uint32_t *which = (uint32_t *)((char *)m + f->quantifier_offset);
			if (*which)
				continue; /* one member of a oneof at most */
			if (!value(f, field, in, depth))
				goto oom;
			if (f->type == PROTOBUF_C_TYPE_MESSAGE && !*(void **)field)
				continue;
			*which = f->id;
			continue;
		}
		if (!value(f, field, in, depth))
			goto oom;
		if (f->label == PROTOBUF_C_LABEL_OPTIONAL && f->quantifier_offset &&
		    f->type != PROTOBUF_C_TYPE_STRING && f->type != PROTOBUF_C_TYPE_MESSAGE)
			*(protobuf_c_boolean *)((char *)m + f->quantifier_offset) = 1;
	}
	/* Unset strings go back to the default protobuf-c packs as empty. */
	for (unsigned i = 0; i < d->n_fields; i++) {
		const ProtobufCFieldDescriptor *f = &d->fields[i];
		char **s = (char **)((char *)m + f->offset);
		if (f->label != PROTOBUF_C_LABEL_REPEATED && f->type == PROTOBUF_C_TYPE_STRING &&
		    !*s && !((f->flags & PROTOBUF_C_FIELD_FLAG_ONEOF) &&
			     *(uint32_t *)((char *)m + f->quantifier_offset) != f->id))
			*s = f->default_value ? (char *)f->default_value
					      : (char *)protobuf_c_empty_string;
	}
	return m;
oom:
	free_msg(m);
	return NULL;
}

/* Whether field f of m holds something this walk allocated. */
static bool owned(const ProtobufCMessage *m, const ProtobufCFieldDescriptor *f)
{
	if ((f->flags & PROTOBUF_C_FIELD_FLAG_ONEOF) &&
	    *(const uint32_t *)((const char *)m + f->quantifier_offset) != f->id)
		return false;
	const void *p = *(void *const *)((const char *)m + f->offset);
	return p && p != f->default_value && p != (const void *)protobuf_c_empty_string;
}

static void free_value(const ProtobufCFieldDescriptor *f, void *v)
{
	if (f->type == PROTOBUF_C_TYPE_STRING)
		free(*(char **)v);
	else if (f->type == PROTOBUF_C_TYPE_BYTES)
		free(((ProtobufCBinaryData *)v)->data);
	else if (f->type == PROTOBUF_C_TYPE_MESSAGE && *(void **)v)
		free_msg(*(ProtobufCMessage **)v);
}

static void free_msg(ProtobufCMessage *m)
{
	if (!m)
		return;
	const ProtobufCMessageDescriptor *d = m->descriptor;
	for (unsigned i = 0; i < d->n_fields; i++) {
		const ProtobufCFieldDescriptor *f = &d->fields[i];
		char *field = (char *)m + f->offset;
		if (f->label == PROTOBUF_C_LABEL_REPEATED) {
			size_t n = *(size_t *)((char *)m + f->quantifier_offset), vs = value_size(f);
			char *arr = *(char **)field;
			for (size_t k = 0; k < n; k++)
				free_value(f, arr + k * vs);
			free(arr);
			continue;
		}
		if (f->type == PROTOBUF_C_TYPE_BYTES) {
			if (!(f->flags & PROTOBUF_C_FIELD_FLAG_ONEOF) ||
			    *(uint32_t *)((char *)m + f->quantifier_offset) == f->id)
				free(((ProtobufCBinaryData *)field)->data);
			continue;
		}
		if ((f->type == PROTOBUF_C_TYPE_STRING || f->type == PROTOBUF_C_TYPE_MESSAGE) &&
		    owned(m, f))
			free_value(f, field);
	}
	free(m);
}

Raas__Envelope *wire_build_envelope(const uint8_t *data, size_t size)
{
	struct input in = {data, size};
	uint8_t v = take(&in);
	Raas__Envelope *e = build(&raas__envelope__descriptor, &in, 0);
	if (e)
		e->version = v < 250 ? RAAS__PROTOCOL_VERSION__PROTOCOL_MAJOR : v;
	return e;
}

void wire_build_free(Raas__Envelope *e)
{
	free_msg(e ? &e->base : NULL);
}
