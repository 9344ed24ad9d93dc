/*  api: GET /api/v1/open-items/summary and the readiness callback. */
#include "api.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "dates.h"
#include "log.h"
#include "metrics.h"

const char *rem_tenant_invalid(const char *tenant)
{
    if (!tenant || !*tenant)
        return "missing";
    size_t n = strlen(tenant);
    if (n > 63)
        return "longer than 63 characters";
    if (!((tenant[0] >= 'a' && tenant[0] <= 'z') || (tenant[0] >= '0' && tenant[0] <= '9')))
        return "must start with a lower-case letter or a digit";
    for (size_t i = 1; i < n; i++) {
        char c = tenant[i];
        if (!((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '_' || c == '-'))
            return "only lower-case letters, digits, '_' and '-' are allowed";
    }
    return NULL;
}

static const char *s_summary_sql =
    "SELECT count(*), count(*) FILTER (WHERE disputed),"
    " count(*) FILTER (WHERE due_date < $2::date)"
    " FROM rem_open_items WHERE tenant = $1";

void rem_api_summary(const http_request_t *req, http_response_t *res, void *arg)
{
    rem_api_t *api = arg;
    const char *tenant = http_query(req, "tenant");
    const char *why = rem_tenant_invalid(tenant);
    if (why) {
        metric_inc(metrics_counter("creance_reminders_api_bad_requests_total",
                                   "API requests refused for a bad parameter, by field",
                                   "field=\"tenant\""));
        http_reply_error(res, 400, "tenant", why);
        return;
    }
    char today[11];
    date_format(date_today(), today);
    const char *params[] = { tenant, today };
    PGresult *r = db_exec(api->db, s_summary_sql, 2, params);
    if (!r) {
        http_reply_error(res, 503, "database", "unavailable");
        return;
    }
    json_t *body = json_object();
    json_object_set_new(body, "tenant", json_string(tenant));
    json_object_set_new(body, "as_of", json_string(today));
    json_object_set_new(body, "open_items", json_integer(strtoll(PQgetvalue(r, 0, 0), NULL, 10)));
    json_object_set_new(body, "disputed", json_integer(strtoll(PQgetvalue(r, 0, 1), NULL, 10)));
    json_object_set_new(body, "overdue", json_integer(strtoll(PQgetvalue(r, 0, 2), NULL, 10)));
    PQclear(r);
    http_reply_json(res, 200, body);
}

const char *rem_api_health(void *arg)
{
    rem_api_t *api = arg;
    if (!db_ready(api->db))
        return "database unavailable";
    if (api->consumer && !consumer_caught_up(api->consumer))
        return "catching up";
    return NULL;
}
