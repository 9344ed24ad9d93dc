/*  gdprapi: the tenant API of personal data (GDPR), with the tenant's
    bearer token like the rest of /api/v1 (the token names the tenant;
    another tenant's debtor is "not found").

    GET  /api/v1/debtors/{id}/export
         200 the debtor's document (export.h); 404 {"error":{"field":"debtor_id",..}}
    POST /api/v1/debtors/{id}/erase            body {"force":true} optional
         200 {"tenant","debtor_id","erased":true,"already_erased","pseudonym",
              "erased_at","forced","rows_changed","events_rewritten","files_queued"}
         409 {"error":{"field":"debtor_id","reason":"debtor 12 is still being
              collected: 2 open invoices (1500.00 EUR)...; ... force ..."},
              "open":{"open_invoices","open_disputes","active_plans","open_promises"}}
         404 no such debtor; 400 bad body; 503 database.
    Other GETs under /api/v1/debtors/ go on to the debtor view (kpiapi.h). */
#ifndef CREANCE_REPORTING_GDPRAPI_H
#define CREANCE_REPORTING_GDPRAPI_H

#include "http.h"

/*  http_handler_fn for GET "/api/v1/debtors/" and POST "/api/v1/debtors/";
    arg is the rpt_api_t. */
void rpt_gdprapi_get(const http_request_t *req, http_response_t *res, void *arg);
void rpt_gdprapi_post(const http_request_t *req, http_response_t *res, void *arg);

/*  Pure. Parses "<id>/<action>" (after "/api/v1/debtors/"): the id, or -1
    when the path is not of that form with that action. */
long long rpt_gdprapi_path_id(const char *rest, const char *action);

#endif
