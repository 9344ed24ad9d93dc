/*  pbjson: any protobuf-c message as JSON (pure), by its descriptor.

    For the GDPR export (export.h): the debtor's events are shown as they
    are in event_log, every field, without a hand-written printer per event
    type to keep in step with proto/creance.proto. Field names are the
    proto's; 64-bit integers are JSON integers; enums their value's name;
    bytes hex; unset submessages and oneof members not set are left out. */
#ifndef CREANCE_REPORTING_PBJSON_H
#define CREANCE_REPORTING_PBJSON_H

#include <jansson.h>
#include <protobuf-c/protobuf-c.h>

/*  A new JSON object, or NULL when out of memory. */
json_t *rpt_pbjson(const ProtobufCMessage *msg);

#endif
