/* wire_build.h: builds raas.proto messages from fuzz input, for structure-aware fuzz targets.
 *
 * protobuf-c's decoder is a system library without coverage instrumentation, so a fuzzer
 * that feeds it raw bytes gets no feedback on how far a message got and mostly produces
 * bytes that do not decode. Walking the generated descriptors instead, with each input byte
 * deciding the next choice (set this field? how many repeats? which enum value? how long a
 * string?), makes every input a well-formed message, and the walker's own branches (this
 * file is instrumented) tell the fuzzer which fields and types it has reached. */
#ifndef RAAS_FUZZ_WIRE_BUILD_H
#define RAAS_FUZZ_WIRE_BUILD_H

#include <stddef.h>
#include <stdint.h>

#include "common/wire.h"

/* Builds an Envelope from data (borrowed) whatever its bytes: fields are filled while input
 * lasts, then left at their defaults. The version is the protocol's unless the first byte
 * says otherwise. Returns NULL only when out of memory; free with wire_build_free. */
Raas__Envelope *wire_build_envelope(const uint8_t *data, size_t size);
void wire_build_free(Raas__Envelope *e);

#endif
