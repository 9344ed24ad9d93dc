/*  api: reporting's JSON API and readiness.

    GET /api/v1/outstanding   with "Authorization: Bearer <token>"
        200 {"tenant":"acme","as_of":"YYYY-MM-DD","totals":[{"currency":"EUR",
             "outstanding_minor":..,"invoiced_minor":..,"collected_minor":..,
             "invoice_count":..,"payment_count":..,"open_disputes":..}, ...]}
            totals sorted by currency; empty when nothing was invoiced yet.
        401 {"error":{"field":"Authorization","reason":...}} and
            WWW-Authenticate: Bearer, counted in
            creance_api_auth_failures_total{reason} (common/auth.h).
        503 {"error":{"field":"database","reason":"unavailable"}}.

    The token names the tenant: api_tokens holds SHA-256 digests of tokens,
    never the tokens, and a revoked token is refused like an unknown one. */
#ifndef CREANCE_REPORTING_API_H
#define CREANCE_REPORTING_API_H

#include <stdbool.h>
#include <stddef.h>
#include "bus.h"
#include "consumer.h"
#include "db.h"
#include "http.h"

typedef struct {
    db_t *db;
    consumer_t *consumer;           /* for readiness; may be NULL in tests */
    bus_t *bus;                     /* publishes DebtorErased (erase.h); may be NULL */
} rpt_api_t;

/*  http_handler_fn; arg is the rpt_api_t. */
void rpt_api_outstanding(const http_request_t *req, http_response_t *res, void *arg);
/*  http_health_fn: "database unavailable", "catching up" or NULL. */
const char *rpt_api_health(void *arg);

#endif
