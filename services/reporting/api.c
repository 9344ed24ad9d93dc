/*  api: GET /api/v1/outstanding and the readiness callback. */
#include "api.h"

#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "auth.h"
#include "dates.h"
#include "log.h"
#include "metrics.h"

static const char *s_outstanding_sql =
    "SELECT currency, outstanding_minor, invoiced_minor, collected_minor,"
    " invoice_count, payment_count, open_disputes"
    " FROM rpt_totals WHERE tenant = $1 ORDER BY currency";

static json_t *int_field(PGresult *r, int row, int col)
{
    return json_integer(strtoll(PQgetvalue(r, row, col), NULL, 10));
}

void rpt_api_outstanding(const http_request_t *req, http_response_t *res, void *arg)
{
    rpt_api_t *api = arg;
    char tenant[64];
    if (!auth_tenant(api->db, req, res, tenant))
        return;
    const char *params[] = { tenant };
    PGresult *r = db_exec(api->db, s_outstanding_sql, 1, params);
    if (!r) {
        metric_inc(metrics_counter("creance_reporting_api_unavailable_total",
                                   "API requests answered 503 because the database failed", NULL));
        http_reply_error(res, 503, "database", "unavailable");
        return;
    }
    char as_of[11];
    date_format(date_today(), as_of);
    json_t *totals = json_array();
    for (int i = 0; i < PQntuples(r); i++) {
        json_t *t = json_object();
        json_object_set_new(t, "currency", json_string(PQgetvalue(r, i, 0)));
        json_object_set_new(t, "outstanding_minor", int_field(r, i, 1));
        json_object_set_new(t, "invoiced_minor", int_field(r, i, 2));
        json_object_set_new(t, "collected_minor", int_field(r, i, 3));
        json_object_set_new(t, "invoice_count", int_field(r, i, 4));
        json_object_set_new(t, "payment_count", int_field(r, i, 5));
        json_object_set_new(t, "open_disputes", int_field(r, i, 6));
        json_array_append_new(totals, t);
    }
    json_t *body = json_object();
    json_object_set_new(body, "tenant", json_string(tenant));
    json_object_set_new(body, "as_of", json_string(as_of));
    json_object_set_new(body, "totals", totals);
    log_debug("outstanding served tenant=%s currencies=%zu", tenant, json_array_size(totals));
    PQclear(r);
    http_reply_json(res, 200, body);
}

const char *rpt_api_health(void *arg)
{
    rpt_api_t *api = arg;
    if (!db_ready(api->db))
        return "database unavailable";
    if (api->consumer && !consumer_caught_up(api->consumer))
        return "catching up";
    return NULL;
}
