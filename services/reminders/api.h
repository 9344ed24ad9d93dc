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

struct rem_dunning_t;
struct rem_delivery_t;

typedef struct {
    db_t *db;
    consumer_t *consumer;           /* for readiness; may be NULL in tests */
    struct rem_dunning_t *dunning;  /* preview */
    struct rem_delivery_t *delivery;/* bounces */
} rem_api_t;

/*  Pure. NULL when `tenant` is a valid tenant id (the tenants.id rule:
    ^[a-z0-9][a-z0-9_-]{0,62}$), else the reason. */
const char *rem_tenant_invalid(const char *tenant);

/*  http_handler_fn; arg is the rem_api_t. */
void rem_api_summary(const http_request_t *req, http_response_t *res, void *arg);
/*  The dunning API; every route takes "Authorization: Bearer <token>" and
    answers for the token's tenant only (api_tokens, as reporting):
      GET  /api/v1/reminders/preview      what would go out today and why:
           {"tenant","as_of","now_utc","items":[{"debtor_id","action":"send",
           "level","template","tone","channel","fallback":[..],"currency",
           "total_minor","invoices":[..],"reason"} | {"debtor_id",
           "action":"hold","reason":"dispute|payment_plan|promise|quiet_hours|
           weekend|public_holiday|min_days_between_contacts|
           max_contacts_per_7_days|no_channel|no_policy","invoices":[..]}],
           "counts":{...,"candidates"}, "pass_ms"}; with ?summary=1 the
           same pass runs without describing each item ("items" empty):
           the counts and the pass's duration only (the benchmark's probe)
      GET  /api/v1/reminders?debtor_id=&limit=   the audit trail: each
           reminder with its items and every delivery (channel, status,
           attempts, error, provider id, content)
      GET  /api/v1/worklist?status=open   phone calls and hand-offs to do
      POST /api/v1/bounces {"message_id": "<...>", "reason": "..."}
           200 {"bounced":true,...}; 404 when no sent e-mail has that id
      POST /api/v1/optouts {"debtor_id": n, "channel": "email|sms|letter|phone"}
      GET  /api/v1/reminders/limitation?days=N   open invoices whose
           limitation period (5 years between businesses, 2 years against a
           consumer, from the due date) ends within N days (default: the
           tenant's limitation_warning_days)
    401 on a missing or unknown token, 400 naming the field on bad input,
    503 when the database is down. */
void rem_api_preview(const http_request_t *req, http_response_t *res, void *arg);
void rem_api_reminders(const http_request_t *req, http_response_t *res, void *arg);
void rem_api_worklist(const http_request_t *req, http_response_t *res, void *arg);
void rem_api_bounces(const http_request_t *req, http_response_t *res, void *arg);
void rem_api_optouts(const http_request_t *req, http_response_t *res, void *arg);
void rem_api_limitation(const http_request_t *req, http_response_t *res, void *arg);

/*  http_health_fn: "database unavailable", "catching up" or NULL. */
const char *rem_api_health(void *arg);

#endif
