/*  endpoint: the ROUTER side of the REQ envelope for IntakeBatch requests.

    A request is [routing frames...][empty][IntakeBatch]; usually one
    routing frame, the peer's identity, more when it came through a
    DEALER-ROUTER proxy. The reply is [routing frames...][empty][IntakeReply].

    Bad framing never stops the service: a message that can be answered
    (no body, extra frames, too large, not an IntakeBatch) gets an
    IntakeReply whose `error` names the field and the reason; one without
    any delimiter cannot be routed back as a REQ reply and is dropped. Both
    are logged and counted in creance_intake_rejected_total{reason}. */
#ifndef INTAKE_ENDPOINT_H
#define INTAKE_ENDPOINT_H

#include <czmq.h>
#include "intake.h"
#include "validate.h"

#define ENDPOINT_MAX_BODY   (16 * 1024 * 1024)  /* larger: answered with an error */
#define ENDPOINT_HARD_LIMIT (64 * 1024 * 1024)  /* ZMQ_MAXMSGSIZE: larger, libzmq drops the peer */
#define ENDPOINT_MAX_ROUTE  16                  /* routing frames before the delimiter */

typedef enum {
    ENDPOINT_REQUEST,       /* *route and *batch set */
    ENDPOINT_ANSWER,        /* *route set, err says what to answer */
    ENDPOINT_DROP           /* nothing to answer to; err says why */
} endpoint_verdict_t;

/*  Splits and decodes one received message; consumes *msg_p. Pure (no
    socket), for the unit tests. */
endpoint_verdict_t intake_endpoint_parse(zmsg_t **msg_p, zmsg_t **route,
                                         Creance__IntakeBatch **batch, intake_error_t *err);

/*  Receives one message without blocking. 1: a request in *req; 0: nothing
    waiting; -1: an invalid message, already answered or dropped. */
int  intake_endpoint_recv(zsock_t *sock, intake_request_t **req);

/*  Sends the request's reply on its route (consumed). */
int  intake_endpoint_reply(zsock_t *sock, intake_request_t *req);

#endif
