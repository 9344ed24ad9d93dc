/*  gdprapi: export and erasure of a debtor on the tenant API (gdprapi.h). */
#include "gdprapi.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "api.h"
#include "auth.h"
#include "erase.h"
#include "export.h"
#include "kpiapi.h"
#include "log.h"
#include "metrics.h"

#define PREFIX "/api/v1/debtors/"

long long rpt_gdprapi_path_id(const char *rest, const char *action)
{
    if (!rest || *rest < '1' || *rest > '9')
        return -1;
    char *end;
    errno = 0;
    long long id = strtoll(rest, &end, 10);
    if (errno || id <= 0 || *end != '/' || strcmp(end + 1, action) != 0)
        return -1;
    return id;
}

static void count(const char *action, int status)
{
    char labels[64];
    snprintf(labels, sizeof labels, "action=\"%s\",status=\"%d\"", action, status);
    metric_inc(metrics_counter("creance_gdpr_requests_total",
                               "GDPR API requests (export, erase), by status", labels));
}

void rpt_gdprapi_get(const http_request_t *req, http_response_t *res, void *arg)
{
    rpt_api_t *api = arg;
    const char *rest = http_path(req) + strlen(PREFIX);
    size_t n = strlen(rest);
    if (n < 7 || strcmp(rest + n - 7, "/export") != 0) {
        rpt_kpiapi_debtor(req, res, arg);       /* the debtor view */
        return;
    }
    char tenant[64];
    if (!auth_tenant(api->db, req, res, tenant))
        return;
    long long id = rpt_gdprapi_path_id(rest, "export");
    if (id < 0) {
        http_reply_error(res, 400, "debtor_id", "expected a debtor id (positive integer)");
        count("export", 400);
        return;
    }
    json_t *doc = NULL;
    int rc = rpt_export_debtor(api->db, tenant, id, &doc);
    if (rc < 0) {
        http_reply_error(res, 503, "database", "unavailable");
        count("export", 503);
        return;
    }
    if (rc > 0) {
        http_reply_error(res, 404, "debtor_id", "no such debtor for this tenant");
        count("export", 404);
        return;
    }
    /*  Who asked is in the log, what was exported is not (it is personal). */
    log_info("debtor exported tenant=%s debtor=%lld events=%zu", tenant, id,
             json_array_size(json_object_get(doc, "events")));
    count("export", 200);
    http_reply_json(res, 200, doc);
}

void rpt_gdprapi_post(const http_request_t *req, http_response_t *res, void *arg)
{
    rpt_api_t *api = arg;
    char tenant[64];
    if (!auth_tenant(api->db, req, res, tenant))
        return;
    long long id = rpt_gdprapi_path_id(http_path(req) + strlen(PREFIX), "erase");
    if (id < 0) {
        http_reply_error(res, 404, "path", "expected POST /api/v1/debtors/{id}/erase");
        count("erase", 404);
        return;
    }
    bool force = false;
    size_t len = 0;
    const char *body = http_body(req, &len);
    if (body && len) {
        json_error_t jerr;
        json_t *j = json_loadb(body, len, 0, &jerr);
        json_t *f = json_object_get(j, "force");
        if (!json_is_object(j) || (f && !json_is_boolean(f))) {
            json_decref(j);
            http_reply_error(res, 400, j ? "force" : "body",
                             j ? "expected true or false" : "expected a JSON object");
            count("erase", 400);
            return;
        }
        force = json_is_true(f);
        json_decref(j);
    }
    const char *q = http_query(req, "force");
    if (q && (strcmp(q, "true") == 0 || strcmp(q, "1") == 0))
        force = true;

    rpt_erase_result_t r;
    rpt_erase_debtor(api->db, api->bus, tenant, id, force, "request", &r);
    count("erase", r.status);
    if (r.status == 409) {
        json_t *o = json_pack("{s:{s:s, s:s}, s:{s:I, s:s, s:I, s:I, s:I}}",
            "error", "field", r.field, "reason", r.reason,
            "open", "open_invoices", (json_int_t) r.open.open_invoices,
            "open_amounts", r.open.open_amounts,
            "open_disputes", (json_int_t) r.open.open_disputes,
            "active_plans", (json_int_t) r.open.active_plans,
            "open_promises", (json_int_t) r.open.open_promises);
        http_reply_json(res, 409, o);
        return;
    }
    if (r.status != 200) {
        http_reply_error(res, r.status, r.field, r.reason);
        return;
    }
    json_t *o = json_pack("{s:s, s:I, s:b, s:b, s:s, s:s, s:b, s:I, s:I, s:I}",
        "tenant", tenant, "debtor_id", (json_int_t) id, "erased", 1,
        "already_erased", r.already, "pseudonym", r.pseudonym, "erased_at", r.erased_at,
        "forced", force && !r.already, "rows_changed", (json_int_t) r.rows_changed,
        "events_rewritten", (json_int_t) r.events_rewritten,
        "files_queued", (json_int_t) r.files_queued);
    http_reply_json(res, 200, o);
}
