/*  envelope: building, encoding and decoding the bus envelope (proto v1). */
#ifndef CREANCE_ENVELOPE_H
#define CREANCE_ENVELOPE_H

#include "creance.pb-c.h"
#include <stddef.h>
#include <stdint.h>

#define ENVELOPE_MAX_BYTES (1024 * 1024)   /* larger frames are refused */

/*  Initialises `env` and fills its header: tenant, stream, producer, a fresh
    UUID event id and the current UTC instant. Strings are copied into
    `env`-owned storage released by envelope_clear. seq stays 0: it is
    assigned in commit order when the event is appended to event_log. */
void  envelope_init(Creance__Envelope *env, const char *tenant, const char *stream,
                    const char *producer);
void  envelope_clear(Creance__Envelope *env);

/*  "InvoiceIssued", "PaymentAllocated", ...; "Unknown" for an empty event. */
const char *envelope_type_name(const Creance__Envelope *env);

/*  Decodes and checks the header (tenant, stream, seq > 0, event id, an
    event set). On failure returns NULL and writes the field and reason into
    `err`. Free with envelope_free. */
Creance__Envelope *envelope_decode(const uint8_t *data, size_t len, char *err, size_t errlen);
void  envelope_free(Creance__Envelope *env);

/*  Appends field 3 (seq) to an already-encoded envelope. Protobuf parsers
    take the last value of a repeated scalar field, so this sets the sequence
    without re-encoding the whole message. `buf` must have 11 spare bytes;
    returns the new length. */
size_t envelope_append_seq(uint8_t *buf, size_t len, int64_t seq);

#endif
