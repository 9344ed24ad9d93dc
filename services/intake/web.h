/*  web: intake's HTTP inputs, on the service's HTTP server.

    POST /api/v1/intake            Créance's JSON webhook (webhook.h)
        X-Creance-Tenant, X-Creance-Timestamp, X-Creance-Signature
        200 {"batch_id":..., "results":[...]} with one result per item;
        401 {"error":{"field":<header>,"reason":...}} for a missing, stale
        or bad signature; 400 for a body that is not a batch; 413 over
        INTAKE_WEBHOOK_MAX_BODY; 503 when the database is unavailable.
    POST /api/v1/stripe/<tenant>   Stripe events (stripe.h)
        Stripe-Signature; 200 with the results, or {"ignored": <type>};
        a redelivered event id is answered with its first answer; an event
        naming something not recorded yet (an invoice before its customer)
        is answered 409 and not kept, so that Stripe delivers it again.

    Both verify the signature before reading the body, then run the items
    through intake_process exactly as a ZeroMQ batch (same validation,
    handlers, idempotency, one transaction, events published after
    commit). Handlers run on the service's loop thread. */
#ifndef INTAKE_WEB_H
#define INTAKE_WEB_H

#include "bus.h"
#include "db.h"
#include "http.h"
#include "intake.h"

typedef struct {
    db_t *db;
    intake_t *intake;
    bus_t *bus;
} intake_web_t;

/*  The routes, for http_server_new with an intake_web_t as its arg. */
extern const http_route_t intake_web_routes[];

#endif
