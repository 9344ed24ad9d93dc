/*  kpiapi: reporting's KPI endpoints (documented in docs/openapi.yaml).

    All take "Authorization: Bearer <token>"; the tenant comes from the token
    and every query is limited to it. Query parameters:
      as_of=YYYY-MM-DD   the day figures are taken at (default: today)
      from=, to=         the period (default: to = as_of, from = to - 89)
      currency=XXX       one currency only
      segment=country|kind|grade|collector   one line per segment value (kpis, aging)
      format=csv         CSV instead of JSON (also: path ending in ".csv")
    Bad parameters: 400 {"error":{"field":"<param>","reason":...}}.

    GET /api/v1/kpis       one line per currency (and segment) with every KPI
    GET /api/v1/aging      open amounts and counts per aging bucket
    GET /api/v1/dso        DSO trend, one line per currency and month (?months=1..36)
    GET /api/v1/debtors/{id}  a debtor, its invoices, risk state
    GET /api/v1/riskiest   debtors by overdue amount (?limit=1..200)
    GET /api/v1/forecast   13-week cash-in forecast from risk's predicted payment dates
    GET /api/v1/reminders  reminder effectiveness per level and per channel
    GET /api/v1/rollrates  roll rates between aging buckets, month over month (?months=1..24)
    GET /api/v1/forecast/actual  weekly forecast snapshots against cash collected (?weeks=1..52) */
#ifndef CREANCE_REPORTING_KPIAPI_H
#define CREANCE_REPORTING_KPIAPI_H

#include <stdbool.h>
#include <stdint.h>
#include <jansson.h>
#include "http.h"

/*  Pure: an array of flat JSON objects (numbers, strings, null) as CSV with
    a header line from the first object's keys (RFC 4180 quoting, CRLF).
    Returns a malloc'd string. */
char *rpt_csv_from_rows(const json_t *rows);

/*  Pure: the n-th calendar month back from `to` (0 = to's month), as its
    first day, its last counted day (to itself for n = 0) and its number
    of counted days. */
void rpt_month_back(int32_t to, int n, int32_t *first, int32_t *last, int32_t *days);

void rpt_kpiapi_kpis(const http_request_t *req, http_response_t *res, void *arg);
void rpt_kpiapi_aging(const http_request_t *req, http_response_t *res, void *arg);
void rpt_kpiapi_dso(const http_request_t *req, http_response_t *res, void *arg);
void rpt_kpiapi_debtor(const http_request_t *req, http_response_t *res, void *arg);
void rpt_kpiapi_riskiest(const http_request_t *req, http_response_t *res, void *arg);
void rpt_kpiapi_forecast(const http_request_t *req, http_response_t *res, void *arg);
void rpt_kpiapi_reminders(const http_request_t *req, http_response_t *res, void *arg);
void rpt_kpiapi_rollrates(const http_request_t *req, http_response_t *res, void *arg);
void rpt_kpiapi_forecast_actual(const http_request_t *req, http_response_t *res, void *arg);

#endif
