/*  endpoint: framing of IntakeBatch requests on the ROUTER socket. */
#include "endpoint.h"
#include "log.h"
#include "metrics.h"

#include <stdio.h>
#include <string.h>

endpoint_verdict_t
intake_endpoint_parse(zmsg_t **msg_p, zmsg_t **route, Creance__IntakeBatch **batch,
                      intake_error_t *err)
{
    zmsg_t *msg = *msg_p;
    *msg_p = NULL;
    *route = NULL;
    *batch = NULL;

    /* The routing envelope ends at the first empty frame. */
    size_t total = zmsg_size(msg), delim = 0;
    bool found = false;
    for (zframe_t *f = zmsg_first(msg); f; f = zmsg_next(msg), delim++)
        if (zframe_size(f) == 0) {
            found = true;
            break;
        }
    if (!found || delim == 0) {
        zmsg_destroy(&msg);
        intake_fail(err, "no_delimiter", "envelope",
                    "no empty delimiter frame after the identity (send [\"\", IntakeBatch] "
                    "from a DEALER, or use REQ)");
        return ENDPOINT_DROP;
    }
    if (delim > ENDPOINT_MAX_ROUTE) {
        zmsg_destroy(&msg);
        intake_fail(err, "too_many_frames", "envelope",
                    "%zu routing frames before the delimiter, the limit is %d", delim,
                    ENDPOINT_MAX_ROUTE);
        return ENDPOINT_DROP;
    }
    *route = zmsg_new();
    for (size_t i = 0; i <= delim; i++) {
        zframe_t *f = zmsg_pop(msg);
        zmsg_append(*route, &f);
    }

    size_t after = total - delim - 1;
    endpoint_verdict_t verdict = ENDPOINT_ANSWER;
    if (after == 0)
        intake_fail(err, "missing_body", "body", "missing: no IntakeBatch frame after the delimiter");
    else if (after > 1)
        intake_fail(err, "too_many_frames", "envelope",
                    "%zu frames after the delimiter, expected one IntakeBatch frame", after);
    else {
        zframe_t *body = zmsg_first(msg);
        size_t size = zframe_size(body);
        if (size > ENDPOINT_MAX_BODY)
            intake_fail(err, "oversize", "body",
                        "%zu bytes is over the 16 MiB limit (split the batch)", size);
        else if (!(*batch = creance__intake_batch__unpack(NULL, size, zframe_data(body))))
            intake_fail(err, "bad_body", "body", "not a valid IntakeBatch");
        else
            verdict = ENDPOINT_REQUEST;
    }
    zmsg_destroy(&msg);
    return verdict;
}

static void
s_count(const char *key)
{
    char labels[96];
    snprintf(labels, sizeof labels, "reason=\"%s\"", key);
    metric_inc(metrics_counter("creance_intake_rejected_total",
                               "rejections (whole batches and items) by reason", labels));
}

static int
s_send(zsock_t *sock, zmsg_t **route, zframe_t **reply)
{
    zmsg_append(*route, reply);
    if (zmsg_send(route, sock) != 0) {
        /* ROUTER drops a reply for a peer that left; nothing else to do. */
        log_warn("reply not sent: %s", zmq_strerror(zmq_errno()));
        zmsg_destroy(route);
        return -1;
    }
    return 0;
}

int
intake_endpoint_recv(zsock_t *sock, intake_request_t **req)
{
    *req = NULL;
    if (!(zsock_events(sock) & ZMQ_POLLIN))
        return 0;
    zmsg_t *msg = zmsg_recv(sock);
    if (!msg)
        return 0;
    zmsg_t *route;
    Creance__IntakeBatch *batch;
    intake_error_t err;
    endpoint_verdict_t verdict = intake_endpoint_parse(&msg, &route, &batch, &err);
    if (verdict == ENDPOINT_REQUEST) {
        *req = intake_request_new(route, batch);
        return 1;
    }
    s_count(err.key);
    if (verdict == ENDPOINT_DROP) {
        log_warn("request dropped field=%s reason=\"%s\"", err.field, err.reason);
        return -1;
    }
    log_info("request refused field=%s reason=\"%s\"", err.field, err.reason);
    Creance__IntakeReply reply = CREANCE__INTAKE_REPLY__INIT;
    char text[sizeof err.field + sizeof err.reason + 2];
    snprintf(text, sizeof text, "%s: %s", err.field, err.reason);
    reply.error = text;
    zframe_t *frame = zframe_new(NULL, creance__intake_reply__get_packed_size(&reply));
    creance__intake_reply__pack(&reply, zframe_data(frame));
    s_send(sock, &route, &frame);
    return -1;
}

int
intake_endpoint_reply(zsock_t *sock, intake_request_t *req)
{
    zframe_t *frame = intake_request_reply(req);
    return s_send(sock, &req->route, &frame);
}
