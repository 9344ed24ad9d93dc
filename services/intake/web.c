/*  web: the JSON webhook and the Stripe adapter (see web.h). */
#include "web.h"
#include "log.h"
#include "metrics.h"
#include "stripe.h"
#include "webhook.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define MAX_SECRETS 8

static void
s_count(const char *key)
{
    char labels[96];
    snprintf(labels, sizeof labels, "reason=\"%s\"", key ? key : "other");
    metric_inc(metrics_counter("creance_intake_rejected_total",
                               "rejections (whole batches and items) by reason", labels));
}

static void
s_refuse(http_response_t *res, int status, const intake_error_t *err, const char *tenant)
{
    s_count(err->key);
    log_info("webhook refused status=%d tenant=%s field=%s reason=\"%s\"", status,
             tenant ? tenant : "", err->field, err->reason);
    http_reply_error(res, status, err->field, err->reason);
}

/*  The tenant's active secrets of `kind`: 1 with secrets, 0 none, -1 db. */
static int
s_secrets(intake_web_t *web, const char *tenant, const char *kind, PGresult **r,
          const char *secrets[MAX_SECRETS], size_t *n)
{
    const char *params[] = { tenant, kind };
    *r = db_exec(web->db,
        "SELECT secret FROM webhook_secrets WHERE tenant = $1 AND kind = $2 "
        "AND revoked_at IS NULL ORDER BY created_at DESC LIMIT " "8", 2, params);
    if (!*r)
        return -1;
    *n = 0;
    for (int i = 0; i < PQntuples(*r) && *n < MAX_SECRETS; i++)
        secrets[(*n)++] = PQgetvalue(*r, i, 0);
    return *n > 0;
}

/*  Checks the tenant, the timestamp and the signature; answers and returns
    false when they do not hold. */
static bool
s_authenticate(intake_web_t *web, const http_request_t *req, http_response_t *res,
               const char *tenant, const char *tenant_field, const char *kind, const char *ts,
               const char *ts_field, const intake_sig_t *sig)
{
    intake_error_t err;
    if (!intake_check_text(tenant_field, tenant, INTAKE_MAX_ID_BYTES, true, &err)) {
        err.key = "bad_tenant";
        s_refuse(res, 401, &err, NULL);
        return false;
    }
    if (!intake_webhook_check_ts(ts, (int64_t) time(NULL), ts_field, &err)) {
        s_refuse(res, 401, &err, tenant);
        return false;
    }
    PGresult *r;
    const char *secrets[MAX_SECRETS];
    size_t n;
    int found = s_secrets(web, tenant, kind, &r, secrets, &n);
    if (found < 0) {
        http_reply_error(res, 503, "database", "unavailable, retry later");
        return false;
    }
    size_t len;
    const char *body = http_body(req, &len);
    bool ok = found > 0 && intake_webhook_verify(secrets, n, ts, body, len, sig);
    PQclear(r);
    if (found == 0) {
        intake_fail(&err, "unknown_tenant", tenant_field,
                    "no %s webhook secret for this tenant", kind);
        s_refuse(res, 401, &err, tenant);
        return false;
    }
    if (!ok) {
        intake_fail(&err, "bad_signature", kind[0] == 's' ? "Stripe-Signature" : "X-Creance-Signature",
                    "does not match the body signed with the tenant's secret");
        s_refuse(res, 401, &err, tenant);
        return false;
    }
    return true;
}

/*  Rejections that may go away by themselves: the fact names something
    not recorded yet (Stripe does not promise to deliver a customer before
    its invoices). */
static bool
s_not_yet(const char *key)
{
    return key && (strcmp(key, "unknown_debtor") == 0 || strcmp(key, "unknown_invoice") == 0
                   || strcmp(key, "unknown_payment") == 0 || strcmp(key, "unknown_dispute") == 0);
}

/*  Runs one batch through intake and fills `out` with its JSON answer;
    returns the HTTP status. *not_yet (if given) tells whether an item was
    rejected for naming something intake does not know yet. */
static int
s_run_batch(intake_web_t *web, Creance__IntakeBatch *batch, const intake_error_t *item_errs,
            json_t **out, bool *not_yet)
{
    intake_request_t *req = intake_request_new(NULL, batch);
    req->item_errors = item_errs;
    intake_process(web->intake, &req, 1);
    int status = 200;
    if (req->error) {
        status = req->error_key && strcmp(req->error_key, "db_unavailable") == 0 ? 503
               : req->error_key && strcmp(req->error_key, "unknown_tenant") == 0 ? 401 : 400;
        *out = json_pack("{s:{s:s, s:s}}", "error", "field", "batch", "reason", req->error);
    }
    else {
        *out = json_object();
        json_object_set_new(*out, "batch_id", json_string(batch->batch_id));
        json_object_set_new(*out, "results", intake_json_results(req->results, batch->n_items));
        for (size_t i = 0; not_yet && i < batch->n_items; i++)
            if (req->results[i].status == CREANCE__ITEM_STATUS__REJECTED && s_not_yet(req->reject_keys[i]))
                *not_yet = true;
    }
    intake_request_done(web->intake, req);
    intake_request_destroy(&req);       /* frees the batch */
    intake_publish(web->intake, web->bus);
    return status;
}

/* ---------------------------------------------------------- JSON webhook */

static void
s_intake(const http_request_t *req, http_response_t *res, void *arg)
{
    intake_web_t *web = arg;
    const char *tenant = http_header(req, "X-Creance-Tenant");
    const char *ts = http_header(req, "X-Creance-Timestamp");
    intake_sig_t sig;
    intake_error_t err;
    if (!intake_webhook_parse_sig(http_header(req, "X-Creance-Signature"), "X-Creance-Signature",
                                  &sig, &err)) {
        s_refuse(res, 401, &err, NULL);
        return;
    }
    if (!s_authenticate(web, req, res, tenant, "X-Creance-Tenant", "creance", ts,
                        "X-Creance-Timestamp", &sig))
        return;
    size_t len;
    const char *body = http_body(req, &len);
    json_error_t jerr;
    json_t *root = json_loadb(body, len, JSON_REJECT_DUPLICATES, &jerr);
    if (!root) {
        intake_fail(&err, "bad_json", "body", "not valid JSON: %s (line %d)", jerr.text, jerr.line);
        s_refuse(res, 400, &err, tenant);
        return;
    }
    intake_error_t *item_errs;
    Creance__IntakeBatch *batch = intake_json_batch(root, tenant, &item_errs, &err);
    json_decref(root);
    if (!batch) {
        s_refuse(res, 400, &err, tenant);
        return;
    }
    json_t *answer;
    int status = s_run_batch(web, batch, item_errs, &answer, NULL);
    free(item_errs);
    http_reply_json(res, status, answer);
}

/* ---------------------------------------------------------------- Stripe */

/*  The invoice a Stripe payment paid (for a dispute): 1 found, 0 not, -1. */
static int
s_invoice_of_payment(intake_web_t *web, const char *tenant, const char *payment, char *out, size_t len)
{
    const char *params[] = { tenant, INTAKE_STRIPE_SOURCE, payment };
    PGresult *r = db_exec(web->db,
        "SELECT i.external_id FROM payments p "
        "JOIN allocations a ON a.tenant = p.tenant AND a.payment_id = p.id "
        "JOIN invoices i ON i.tenant = a.tenant AND i.id = a.invoice_id "
        "WHERE p.tenant = $1 AND p.source = $2 AND p.external_id = $3 ORDER BY a.id LIMIT 1",
        3, params);
    if (!r)
        return -1;
    int found = PQntuples(r) == 1;
    if (found)
        snprintf(out, len, "%s", PQgetvalue(r, 0, 0));
    PQclear(r);
    return found;
}

/*  The id of an already recorded fact: > 0 found, 0 not, -1 db. */
static int64_t
s_recorded(intake_web_t *web, const char *tenant, const char *kind, const char *external_id)
{
    const char *params[] = { tenant, INTAKE_STRIPE_SOURCE, kind, external_id };
    PGresult *r = db_exec(web->db,
        "SELECT result_id FROM intake_items WHERE tenant = $1 AND source = $2 AND kind = $3 "
        "AND external_id = $4", 4, params);
    if (!r)
        return -1;
    int64_t id = PQntuples(r) == 1 ? strtoll(PQgetvalue(r, 0, 0), NULL, 10) : 0;
    PQclear(r);
    return id;
}

/*  Keeps the answer for redeliveries; a failure only costs a re-run of
    idempotent items on the next delivery. */
static void
s_remember(intake_web_t *web, const char *tenant, const char *event_id, const char *type,
           const char *answer)
{
    const char *params[] = { tenant, event_id, type, answer };
    if (db_run(web->db, "INSERT INTO stripe_events (tenant, event_id, event_type, response) "
                        "VALUES ($1, $2, $3, $4) ON CONFLICT DO NOTHING", 4, params) != 0)
        log_warn("stripe event answer not kept tenant=%s event=%s", tenant, event_id);
}

static void
s_reply_kept(http_response_t *res, json_t *answer, intake_web_t *web, const char *tenant,
             const char *event_id, const char *type)
{
    char *text = json_dumps(answer, JSON_COMPACT);
    s_remember(web, tenant, event_id, type, text);
    http_reply(res, 200, "application/json", text, strlen(text));
    free(text);
    json_decref(answer);
}

static void
s_stripe(const http_request_t *req, http_response_t *res, void *arg)
{
    intake_web_t *web = arg;
    static const char prefix[] = "/api/v1/stripe/";
    const char *tenant = http_path(req) + sizeof prefix - 1;
    intake_sig_t sig;
    intake_error_t err;
    if (strchr(tenant, '/')) {
        http_reply_error(res, 404, "path", "expected /api/v1/stripe/<tenant>");
        return;
    }
    if (!intake_webhook_parse_sig(http_header(req, "Stripe-Signature"), "Stripe-Signature", &sig,
                                  &err)) {
        s_refuse(res, 401, &err, NULL);
        return;
    }
    if (!s_authenticate(web, req, res, tenant, "tenant", "stripe", sig.t, "Stripe-Signature", &sig))
        return;

    size_t len;
    const char *body = http_body(req, &len);
    json_error_t jerr;
    json_t *event = json_loadb(body, len, 0, &jerr);
    if (!event) {
        intake_fail(&err, "bad_json", "body", "not valid JSON: %s (line %d)", jerr.text, jerr.line);
        s_refuse(res, 400, &err, tenant);
        return;
    }
    stripe_mapped_t m;
    stripe_verdict_t v = intake_stripe_map(event, &m, &err);
    if (v == STRIPE_BAD) {
        json_decref(event);
        s_refuse(res, 400, &err, tenant);
        return;
    }
    char event_id[256], type[128];
    snprintf(event_id, sizeof event_id, "%s", json_string_value(json_object_get(event, "id")));
    snprintf(type, sizeof type, "%s", json_string_value(json_object_get(event, "type")));
    json_decref(event);

    /* A redelivery: the first answer again, nothing run twice. */
    const char *kparams[] = { tenant, event_id };
    PGresult *r = db_exec(web->db, "SELECT response FROM stripe_events "
                                   "WHERE tenant = $1 AND event_id = $2", 2, kparams);
    if (!r) {
        intake_stripe_mapped_clear(&m);
        http_reply_error(res, 503, "database", "unavailable, retry later");
        return;
    }
    if (PQntuples(r) == 1) {
        const char *kept = PQgetvalue(r, 0, 0);
        http_reply(res, 200, "application/json", kept, strlen(kept));
        PQclear(r);
        intake_stripe_mapped_clear(&m);
        metric_inc(metrics_counter("creance_intake_stripe_redeliveries_total",
                                   "Stripe events delivered again, answered from stripe_events", NULL));
        log_info("stripe event redelivered tenant=%s event=%s type=%s", tenant, event_id, type);
        return;
    }
    PQclear(r);

    if (v == STRIPE_IGNORED) {
        char labels[64];
        snprintf(labels, sizeof labels, "reason=\"%s\"", m.ignored_key);
        metric_inc(metrics_counter("creance_intake_stripe_ignored_total",
                                   "Stripe events answered 200 and not recorded, by reason", labels));
        log_info("stripe event ignored tenant=%s event=%s type=%s reason=\"%s\"", tenant, event_id,
                 type, m.reason);
        s_reply_kept(res, json_pack("{s:s, s:s, s:s}", "event", event_id, "ignored", type,
                                    "reason", m.reason), web, tenant, event_id, type);
        return;
    }

    /* Stripe tells one payment in up to three events (invoice.paid,
       charge.succeeded, payment_intent.succeeded) with different details:
       the first records it, the others are duplicates of it. */
    if (m.is_payment) {
        const char *ext = json_string_value(json_object_get(m.item, "external_id"));
        int64_t first = ext ? s_recorded(web, tenant, "payment", ext) : 0;
        if (first < 0) {
            intake_stripe_mapped_clear(&m);
            http_reply_error(res, 503, "database", "unavailable, retry later");
            return;
        }
        if (first > 0) {
            intake_stripe_mapped_clear(&m);
            metric_inc(metrics_counter("creance_intake_items_total", "intake items by outcome",
                                       "status=\"duplicate\""));
            s_reply_kept(res, json_pack("{s:s, s:s, s:[{s:i, s:s, s:I}]}", "event", event_id,
                                        "type", type, "results", "index", 0, "status", "duplicate",
                                        "id", (json_int_t) first), web, tenant, event_id, type);
            return;
        }
    }
    if (m.lookup_payment[0]) {
        char invoice[INTAKE_MAX_ID_BYTES + 1] = "";
        int found = s_invoice_of_payment(web, tenant, m.lookup_payment, invoice, sizeof invoice);
        if (found < 0) {
            intake_stripe_mapped_clear(&m);
            http_reply_error(res, 503, "database", "unavailable, retry later");
            return;
        }
        /* Not found: the item goes on without an invoice and is rejected
           naming invoice_external_id, like any dispute on nothing. */
        if (found)
            json_object_set_new(m.item, "invoice_external_id", json_string(invoice));
    }

    json_t *request = json_is_array(m.item)
        ? json_pack("{s:s, s:s, s:O}", "source", INTAKE_STRIPE_SOURCE, "batch_id", event_id,
                    "items", m.item)
        : json_pack("{s:s, s:s, s:[O]}", "source", INTAKE_STRIPE_SOURCE, "batch_id", event_id,
                    "items", m.item);
    intake_stripe_mapped_clear(&m);
    intake_error_t *item_errs;
    Creance__IntakeBatch *batch = intake_json_batch(request, tenant, &item_errs, &err);
    json_decref(request);
    if (!batch) {
        s_refuse(res, 400, &err, tenant);
        return;
    }
    json_t *answer;
    bool not_yet = false;
    int status = s_run_batch(web, batch, item_errs, &answer, &not_yet);
    free(item_errs);
    if (status == 200 && not_yet) {
        /* Stripe does not order its deliveries: an invoice may come before
           its customer. 409, not kept: Stripe delivers it again later (for
           up to three days), by when the customer is usually known. */
        status = 409;
        metric_inc(metrics_counter("creance_intake_stripe_deferred_total",
                                   "Stripe events answered 409 to be redelivered later", NULL));
    }
    if (status != 200) {
        /* Not kept: Stripe retries, and the retry may find the database. */
        json_object_set_new(answer, "event", json_string(event_id));
        http_reply_json(res, status, answer);
        return;
    }
    json_object_set_new(answer, "event", json_string(event_id));
    json_object_set_new(answer, "type", json_string(type));
    s_reply_kept(res, answer, web, tenant, event_id, type);
}

const http_route_t intake_web_routes[] = {
    { "POST", "/api/v1/intake", s_intake },
    { "POST", "/api/v1/stripe/", s_stripe },
    { NULL, NULL, NULL }
};
