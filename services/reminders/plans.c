/*  plans: GET /api/v1/plans (see plans.h). */
#include "plans.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "api.h"
#include "auth.h"
#include "dates.h"
#include "log.h"
#include "metrics.h"

#define MAX_PLANS 100

static void refuse(http_response_t *res, const char *field, const char *reason)
{
    char labels[64];
    snprintf(labels, sizeof labels, "field=\"%s\"", field);
    metric_inc(metrics_counter("creance_reminders_api_bad_requests_total",
                               "API requests refused for a bad parameter, by field", labels));
    http_reply_error(res, 400, field, reason);
}

/*  The instalments as one JSON array per plan, built by PostgreSQL. */
static const char *s_plans_sql =
    "SELECT p.plan_id, p.debtor_id, coalesce(d.legal_name, ''), p.status, p.agreed_date::text,"
    " array_to_json(p.invoice_ids)::text,"
    " (SELECT coalesce(json_agg(json_build_object('number', i.number,"
    "   'due_date', i.due_date::text, 'currency', i.currency, 'amount_minor', i.amount_minor,"
    "   'status', i.status, 'overdue', i.status = 'open' AND i.due_date < $4::date)"
    "   ORDER BY i.number), '[]')"
    "  FROM rem_plan_instalments i WHERE i.tenant = p.tenant AND i.plan_id = p.plan_id)::text"
    " FROM rem_plans p LEFT JOIN rem_debtors d ON d.tenant = p.tenant AND d.debtor_id = p.debtor_id"
    " WHERE p.tenant = $1 AND CASE WHEN $2 = 'plan' THEN p.plan_id = $3::bigint"
    "  ELSE p.debtor_id = $3::bigint END"
    " ORDER BY p.plan_id LIMIT 100";

void rem_plans_get(const http_request_t *req, http_response_t *res, void *arg)
{
    rem_api_t *api = arg;
    char tenant[64];
    if (!auth_tenant(api->db, req, res, tenant))
        return;
    const char *plan = http_query(req, "plan_id"), *debtor = http_query(req, "debtor_id");
    if ((plan && debtor) || (!plan && !debtor)) {
        refuse(res, plan ? "debtor_id" : "plan_id", "give plan_id or debtor_id, one of them");
        return;
    }
    const char *field = plan ? "plan_id" : "debtor_id", *value = plan ? plan : debtor;
    char *end;
    long long id = strtoll(value, &end, 10);
    if (!*value || *end || id <= 0) {
        refuse(res, field, "expected a positive integer");
        return;
    }
    char ids[24], today[11];
    snprintf(ids, sizeof ids, "%lld", id);
    date_format(date_today(), today);
    const char *params[] = { tenant, plan ? "plan" : "debtor", ids, today };
    PGresult *r = db_exec(api->db, s_plans_sql, 4, params);
    if (!r) {
        http_reply_error(res, 503, "database", "unavailable");
        return;
    }
    if (plan && PQntuples(r) == 0) {
        PQclear(r);
        http_reply_error(res, 404, "plan_id", "no such plan for this tenant");
        return;
    }
    json_t *plans = json_array();
    for (int i = 0; i < PQntuples(r) && i < MAX_PLANS; i++) {
        json_t *o = json_object();
        json_object_set_new(o, "plan_id", json_integer(strtoll(PQgetvalue(r, i, 0), NULL, 10)));
        json_object_set_new(o, "debtor_id", json_integer(strtoll(PQgetvalue(r, i, 1), NULL, 10)));
        json_object_set_new(o, "legal_name", json_string(PQgetvalue(r, i, 2)));
        json_object_set_new(o, "status", json_string(PQgetvalue(r, i, 3)));
        json_object_set_new(o, "agreed_date", PQgetisnull(r, i, 4) ? json_null()
                                                                   : json_string(PQgetvalue(r, i, 4)));
        json_t *inv = json_loads(PQgetvalue(r, i, 5), 0, NULL);
        json_object_set_new(o, "invoice_ids", inv ? inv : json_array());
        json_t *inst = json_loads(PQgetvalue(r, i, 6), 0, NULL);
        json_object_set_new(o, "instalments", inst ? inst : json_array());
        json_array_append_new(plans, o);
    }
    PQclear(r);
    json_t *body = json_object();
    json_object_set_new(body, "tenant", json_string(tenant));
    json_object_set_new(body, "as_of", json_string(today));
    json_object_set_new(body, "plans", plans);
    log_debug("plans served tenant=%s %s=%lld plans=%zu", tenant, field, id,
              json_array_size(plans));
    http_reply_json(res, 200, body);
}
