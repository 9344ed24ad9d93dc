/*  envelope: the bus envelope's header, encoding and checked decoding. */
#include "envelope.h"
#include "dates.h"

#include <czmq.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/*  Header strings are owned by the envelope while it is being built; they
    are released in envelope_clear. protobuf-c's default for a string is the
    shared empty string, never freed. */
static char *
s_dup(const char *s)
{
    return strdup(s ? s : "");
}

void
envelope_init(Creance__Envelope *env, const char *tenant, const char *stream,
              const char *producer)
{
    creance__envelope__init(env);
    env->tenant = s_dup(tenant);
    env->stream = s_dup(stream);
    env->producer = s_dup(producer);
    zuuid_t *uuid = zuuid_new();
    env->event_id = s_dup(zuuid_str_canonical(uuid));
    zuuid_destroy(&uuid);
    env->occurred_at_us = now_us();
}

void
envelope_clear(Creance__Envelope *env)
{
    char **owned[] = { &env->tenant, &env->stream, &env->producer, &env->event_id };
    for (size_t i = 0; i < sizeof owned / sizeof owned[0]; i++) {
        if (*owned[i] && *owned[i] != (char *) protobuf_c_empty_string)
            free(*owned[i]);
        *owned[i] = (char *) protobuf_c_empty_string;
    }
    if (env->source && env->source != (char *) protobuf_c_empty_string)
        free(env->source);
    env->source = (char *) protobuf_c_empty_string;
}

const char *
envelope_type_name(const Creance__Envelope *env)
{
    /* The oneof field's message name is the event type: one table, kept by
       protoc-c, instead of a hand-written switch to maintain. */
    const ProtobufCFieldDescriptor *f =
        protobuf_c_message_descriptor_get_field(&creance__envelope__descriptor,
                                                (unsigned) env->event_case);
    if (!f || env->event_case == CREANCE__ENVELOPE__EVENT__NOT_SET)
        return "Unknown";
    return ((const ProtobufCMessageDescriptor *) f->descriptor)->short_name;
}

Creance__Envelope *
envelope_decode(const uint8_t *data, size_t len, char *err, size_t errlen)
{
    if (len > ENVELOPE_MAX_BYTES) {
        snprintf(err, errlen, "envelope: %zu bytes is over the %d byte limit", len, ENVELOPE_MAX_BYTES);
        return NULL;
    }
    Creance__Envelope *env = creance__envelope__unpack(NULL, len, data);
    if (!env) {
        snprintf(err, errlen, "envelope: not a valid protobuf Envelope");
        return NULL;
    }
    const char *field = NULL, *reason = NULL;
    if (!env->tenant || !*env->tenant)
        field = "tenant", reason = "missing";
    else if (!env->stream || !*env->stream)
        field = "stream", reason = "missing";
    else if (env->seq <= 0)
        field = "seq", reason = "must be positive";
    else if (!env->event_id || strlen(env->event_id) != 36)
        field = "event_id", reason = "not a UUID";
    else if (env->event_case == CREANCE__ENVELOPE__EVENT__NOT_SET)
        field = "event", reason = "no event set";
    if (field) {
        snprintf(err, errlen, "%s: %s", field, reason);
        creance__envelope__free_unpacked(env, NULL);
        return NULL;
    }
    return env;
}

void
envelope_free(Creance__Envelope *env)
{
    if (env)
        creance__envelope__free_unpacked(env, NULL);
}

size_t
envelope_append_seq(uint8_t *buf, size_t len, int64_t seq)
{
    /* Field 3, wire type 0 (varint): tag byte 0x18. */
    buf[len++] = (3 << 3) | 0;
    uint64_t v = (uint64_t) seq;
    do {
        uint8_t b = v & 0x7f;
        v >>= 7;
        buf[len++] = b | (v ? 0x80 : 0);
    } while (v);
    return len;
}
