/*  api: reminders' HTTP views (besides /healthz and /metrics).

    GET /api/v1/open-items/summary?tenant=acme
        200 {"tenant":"acme","as_of":"YYYY-MM-DD","open_items":n,"disputed":n,"overdue":n}
            overdue: open items whose due date is before today (date_today,
            so CREANCE_TODAY moves it in tests and demos).
        400 {"error":{"field":"tenant","reason":...}} on a missing or
            malformed tenant; 503 when the database is down.

    This is an internal operations view: in this version it takes no token
    and must only be reachable from the operators' network (it binds to
    127.0.0.1 by default). Counts only, no debtor data. */
#ifndef CREANCE_REMINDERS_API_H
#define CREANCE_REMINDERS_API_H

#include <stdbool.h>
#include "consumer.h"
#include "db.h"
#include "http.h"

typedef struct {
    db_t *db;
    consumer_t *consumer;           /* for readiness; may be NULL in tests */
} rem_api_t;

/*  Pure. NULL when `tenant` is a valid tenant id (the tenants.id rule:
    ^[a-z0-9][a-z0-9_-]{0,62}$), else the reason. */
const char *rem_tenant_invalid(const char *tenant);

/*  http_handler_fn; arg is the rem_api_t. */
void rem_api_summary(const http_request_t *req, http_response_t *res, void *arg);
/*  http_health_fn: "database unavailable", "catching up" or NULL. */
const char *rem_api_health(void *arg);

#endif
