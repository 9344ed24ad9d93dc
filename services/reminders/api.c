/*  api: GET /api/v1/open-items/summary and the readiness callback. */
#include "api.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "dates.h"
#include "log.h"
#include "metrics.h"
#include <limits.h>
#include <inttypes.h>
#include <time.h>
#include "policy.h"

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

/* ------------------------------------------------------------ the dunning API */

#include "auth.h"
#include "delivery.h"
#include "dunning.h"
#include "tzlocal.h"

void rem_api_preview(const http_request_t *req, http_response_t *res, void *arg)
{
    rem_api_t *api = arg;
    char tenant[64];
    if (!auth_tenant(api->db, req, res, tenant))
        return;
    int32_t today = date_today();
    int64_t now_s = rem_now_seconds();
    const char *summary = http_query(req, "summary");
    bool counts_only = summary && strcmp(summary, "1") == 0;
    json_t *items = json_array();
    rem_pass_stats_t st = { 0 };
    int64_t start = now_us();
    if ((counts_only ? rem_dunning_dry_run(api->dunning, tenant, today, now_s, &st)
                     : rem_dunning_tenant(api->dunning, tenant, today, now_s, items, &st))) {
        json_decref(items);
        http_reply_error(res, 503, "database", "unavailable");
        return;
    }
    char as_of[11], now_txt[32];
    date_format(today, as_of);
    time_t t = (time_t) now_s;
    struct tm tm;
    gmtime_r(&t, &tm);
    strftime(now_txt, sizeof now_txt, "%Y-%m-%dT%H:%M:%SZ", &tm);
    json_t *body = json_pack("{s:s, s:s, s:s, s:o, s:{s:I, s:I, s:I, s:I, s:I}, s:I}", "tenant", tenant,
                             "as_of", as_of, "now_utc", now_txt, "items", items, "counts",
                             "debtors", (json_int_t) st.debtors, "reminders", (json_int_t) st.reminders,
                             "invoices", (json_int_t) st.decided_items,
                             "held_debtors", (json_int_t) st.held_debtors,
                             "candidates", (json_int_t) st.items,
                             "pass_ms", (json_int_t) ((now_us() - start) / 1000));
    http_reply_json(res, 200, body);
}

void rem_api_reminders(const http_request_t *req, http_response_t *res, void *arg)
{
    rem_api_t *api = arg;
    char tenant[64];
    if (!auth_tenant(api->db, req, res, tenant))
        return;
    long debtor = 0, limit = 100;
    if (!http_query_long(req, res, "debtor_id", 1, INT64_MAX > LONG_MAX ? LONG_MAX : LONG_MAX, &debtor)
        || !http_query_long(req, res, "limit", 1, 1000, &limit))
        return;
    char debtor_s[24], limit_s[16];
    snprintf(debtor_s, sizeof debtor_s, "%ld", debtor);
    snprintf(limit_s, sizeof limit_s, "%ld", limit);
    const char *p[] = { tenant, debtor_s, limit_s };
    PGresult *r = db_exec(api->db,
        "SELECT json_build_object('reminder_id', r.id, 'debtor_id', r.debtor_id, 'kind', r.kind,"
        " 'level', r.level, 'template', r.template_key, 'tone', r.tone, 'channel', r.channel,"
        " 'status', r.status, 'planned_date', r.planned_date, 'decided_at', r.decided_at,"
        " 'currency', r.currency, 'total_minor', r.total_minor, 'reason', r.reason,"
        " 'invoice_ids', to_json(r.invoice_ids),"
        " 'fees', (SELECT COALESCE(json_agg(json_build_object('invoice_id', f.invoice_id,"
        "   'amount_minor', f.amount_minor, 'currency', f.currency)), '[]'::json)"
        "   FROM reminder_fees f WHERE f.tenant = r.tenant AND f.reminder_id = r.id),"
        " 'deliveries', (SELECT COALESCE(json_agg(json_build_object('channel', d.channel,"
        "   'status', d.status, 'attempts', d.attempts, 'idempotency_key', d.idempotency_key,"
        "   'recipient', d.recipient, 'provider_message_id', d.provider_message_id,"
        "   'last_error', d.last_error, 'sent_at', d.sent_at, 'subject', d.subject,"
        "   'content', d.content) ORDER BY d.id), '[]'::json)"
        "   FROM reminder_deliveries d WHERE d.tenant = r.tenant AND d.reminder_id = r.id))::text"
        " FROM reminders r WHERE r.tenant = $1 AND ($2::bigint = 0 OR r.debtor_id = $2::bigint)"
        " ORDER BY r.id DESC LIMIT $3", 3, p);
    if (!r) {
        http_reply_error(res, 503, "database", "unavailable");
        return;
    }
    json_t *list = json_array();
    for (int i = 0; i < PQntuples(r); i++)
        json_array_append_new(list, json_loads(PQgetvalue(r, i, 0), 0, NULL));
    PQclear(r);
    http_reply_json(res, 200, json_pack("{s:s, s:o}", "tenant", tenant, "reminders", list));
}

void rem_api_worklist(const http_request_t *req, http_response_t *res, void *arg)
{
    rem_api_t *api = arg;
    char tenant[64];
    if (!auth_tenant(api->db, req, res, tenant))
        return;
    const char *status = http_query(req, "status");
    if (status && strcmp(status, "open") && strcmp(status, "done") && strcmp(status, "all")) {
        http_reply_error(res, 400, "status", "expected open, done or all");
        return;
    }
    const char *p[] = { tenant, status ? status : "open" };
    PGresult *r = db_exec(api->db,
        "SELECT json_build_object('task_id', w.id, 'reminder_id', w.reminder_id, 'debtor_id',"
        " w.debtor_id, 'debtor', d.legal_name, 'kind', w.kind, 'status', w.status, 'due_date',"
        " w.due_date, 'phone', w.phone, 'level', r.level, 'invoice_ids', to_json(r.invoice_ids),"
        " 'total_minor', r.total_minor, 'currency', r.currency, 'note', w.note)::text"
        " FROM rem_worklist w JOIN reminders r ON r.tenant = w.tenant AND r.id = w.reminder_id"
        " LEFT JOIN rem_debtors d ON d.tenant = w.tenant AND d.debtor_id = w.debtor_id"
        " WHERE w.tenant = $1 AND ($2 = 'all' OR w.status = $2) ORDER BY w.due_date, w.id", 2, p);
    if (!r) {
        http_reply_error(res, 503, "database", "unavailable");
        return;
    }
    json_t *list = json_array();
    for (int i = 0; i < PQntuples(r); i++)
        json_array_append_new(list, json_loads(PQgetvalue(r, i, 0), 0, NULL));
    PQclear(r);
    http_reply_json(res, 200, json_pack("{s:s, s:o}", "tenant", tenant, "tasks", list));
}

static json_t *json_body(const http_request_t *req, http_response_t *res)
{
    size_t len = 0;
    const char *b = http_body(req, &len);
    json_error_t e;
    json_t *o = b && len ? json_loadb(b, len, 0, &e) : NULL;
    if (!o || !json_is_object(o)) {
        json_decref(o);
        http_reply_error(res, 400, "body", "expected a JSON object");
        return NULL;
    }
    return o;
}

void rem_api_bounces(const http_request_t *req, http_response_t *res, void *arg)
{
    rem_api_t *api = arg;
    char tenant[64];
    if (!auth_tenant(api->db, req, res, tenant))
        return;
    json_t *o = json_body(req, res);
    if (!o)
        return;
    const char *id = json_string_value(json_object_get(o, "message_id"));
    const char *reason = json_string_value(json_object_get(o, "reason"));
    if (!id || !*id || strlen(id) > 300) {
        json_decref(o);
        http_reply_error(res, 400, "message_id", "missing or longer than 300 characters");
        return;
    }
    int rc = rem_delivery_bounce(api->delivery, tenant, id, reason ? reason : "bounced");
    if (rc < 0)
        http_reply_error(res, 503, "database", "unavailable");
    else if (rc == 0)
        http_reply_error(res, 404, "message_id", "no e-mail sent with this Message-ID");
    else
        http_reply_json(res, 200, json_pack("{s:s, s:s, s:b}", "tenant", tenant, "message_id", id,
                                            "bounced", 1));
    json_decref(o);
}

void rem_api_optouts(const http_request_t *req, http_response_t *res, void *arg)
{
    rem_api_t *api = arg;
    char tenant[64];
    if (!auth_tenant(api->db, req, res, tenant))
        return;
    json_t *o = json_body(req, res);
    if (!o)
        return;
    json_t *d = json_object_get(o, "debtor_id");
    const char *ch = json_string_value(json_object_get(o, "channel"));
    rem_channel_t c = rem_channel_parse(ch);
    if (!json_is_integer(d) || json_integer_value(d) <= 0) {
        json_decref(o);
        http_reply_error(res, 400, "debtor_id", "expected a positive integer");
        return;
    }
    if (c == REM_CH_NONE || c == REM_CH_HANDOFF) {
        json_decref(o);
        http_reply_error(res, 400, "channel", "expected email, sms, letter or phone");
        return;
    }
    char debtor[24];
    snprintf(debtor, sizeof debtor, "%" JSON_INTEGER_FORMAT, json_integer_value(d));
    const char *p[] = { tenant, debtor, ch };
    PGresult *r = db_exec(api->db,
        "INSERT INTO rem_optouts (tenant, debtor_id, channel, reason)"
        " SELECT $1, $2::bigint, $3::text, 'debtor' FROM rem_debtors WHERE tenant = $1 AND debtor_id = $2::bigint"
        " ON CONFLICT (tenant, debtor_id, channel) DO UPDATE SET reason = 'debtor' RETURNING 1", 3, p);
    if (!r) {
        json_decref(o);
        http_reply_error(res, 503, "database", "unavailable");
        return;
    }
    int n = PQntuples(r);
    PQclear(r);
    if (n == 0)
        http_reply_error(res, 404, "debtor_id", "no such debtor");
    else
        http_reply_json(res, 200, json_pack("{s:s, s:I, s:s, s:b}", "tenant", tenant, "debtor_id",
                                            json_integer_value(d), "channel", ch, "opted_out", 1));
    json_decref(o);
}

void rem_api_limitation(const http_request_t *req, http_response_t *res, void *arg)
{
    rem_api_t *api = arg;
    char tenant[64];
    if (!auth_tenant(api->db, req, res, tenant))
        return;
    long days = -1;
    if (!http_query_long(req, res, "days", 0, 3650, &days))
        return;
    char today[11], days_s[16];
    date_format(date_today(), today);
    snprintf(days_s, sizeof days_s, "%ld", days);
    const char *p[] = { tenant, today, days_s };
    /*  Prescription: 5 years between businesses (C. com. L110-4), 2 years
        for a professional against a consumer (C. conso. L218-2), from the
        due date. */
    PGresult *r = db_exec(api->db,
        "WITH w AS (SELECT CASE WHEN $3::int >= 0 THEN $3::int ELSE"
        "   (SELECT limitation_warning_days FROM rem_contact_rules WHERE tenant = $1 OR tenant IS NULL"
        "    ORDER BY tenant NULLS LAST LIMIT 1) END AS days)"
        " SELECT w.days, json_build_object('invoice_id', o.invoice_id, 'debtor_id', o.debtor_id,"
        "  'debtor', d.legal_name, 'kind', CASE WHEN d.kind = 2 THEN 'consumer' ELSE 'business' END,"
        "  'number', v.number, 'due_date', o.due_date, 'open_minor', o.open_minor, 'currency', o.currency,"
        "  'expires_on', x.expires, 'days_left', x.expires - $2::date)::text"
        " FROM w, rem_open_items o"
        " LEFT JOIN rem_debtors d ON d.tenant = o.tenant AND d.debtor_id = o.debtor_id"
        " LEFT JOIN rem_invoices v ON v.tenant = o.tenant AND v.invoice_id = o.invoice_id"
        " CROSS JOIN LATERAL (SELECT (o.due_date + CASE WHEN d.kind = 2 THEN interval '2 years'"
        "   ELSE interval '5 years' END)::date AS expires) x"
        " WHERE o.tenant = $1 AND x.expires <= $2::date + w.days"
        " ORDER BY x.expires, o.invoice_id LIMIT 1000", 3, p);
    if (!r) {
        http_reply_error(res, 503, "database", "unavailable");
        return;
    }
    json_t *list = json_array();
    for (int i = 0; i < PQntuples(r); i++)
        json_array_append_new(list, json_loads(PQgetvalue(r, i, 1), 0, NULL));
    if (days < 0 && PQntuples(r) > 0)
        days = strtol(PQgetvalue(r, 0, 0), NULL, 10);
    PQclear(r);
    http_reply_json(res, 200, json_pack("{s:s, s:s, s:I, s:o}", "tenant", tenant, "as_of", today,
                                        "within_days", (json_int_t) days, "invoices", list));
}
