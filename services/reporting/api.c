/*  api: GET /api/v1/outstanding and the readiness callback. */
#include "api.h"

#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "dates.h"
#include "log.h"
#include "metrics.h"

const char *rpt_bearer_token(const char *header, char token[RPT_TOKEN_MAX + 1],
                             const char **code)
{
    *code = "missing";
    if (!header || !*header)
        return "missing; expected 'Bearer <token>'";
    *code = "malformed";
    /*  RFC 7235: the scheme is case-insensitive, then one or more spaces. */
    if (strncasecmp(header, "Bearer", 6) != 0 || (header[6] != ' ' && header[6] != '\t'))
        return "expected 'Bearer <token>'";
    const char *p = header + 6;
    while (*p == ' ' || *p == '\t')
        p++;
    size_t n = strlen(p);
    while (n && (p[n - 1] == ' ' || p[n - 1] == '\t'))
        n--;
    if (n == 0)
        return "empty token; expected 'Bearer <token>'";
    if (n > RPT_TOKEN_MAX)
        return "token too long";
    /*  Tokens are printable ASCII without spaces (RFC 6750 b64token and
        more); anything else cannot be one of ours and would only make the
        database convert bytes that are not UTF-8. */
    for (size_t i = 0; i < n; i++)
        if ((unsigned char) p[i] < 0x21 || (unsigned char) p[i] > 0x7e)
            return "token has characters that are not printable ASCII";
    memcpy(token, p, n);
    token[n] = '\0';
    *code = NULL;
    return NULL;
}

static void auth_failure(http_response_t *res, const char *code, const char *reason,
                         bool invalid_token)
{
    char labels[64];
    snprintf(labels, sizeof labels, "reason=\"%s\"", code);
    metric_inc(metrics_counter("creance_reporting_auth_failures_total",
                               "API requests refused for their Authorization header, by reason",
                               labels));
    log_info("api request refused field=Authorization reason=%s", code);
    http_reply_error(res, 401, "Authorization", reason);
    /*  RFC 6750 section 3: no error code when the request had no credentials,
        error="invalid_token" when they were refused. */
    free(res->extra_header_name);
    free(res->extra_header_value);
    res->extra_header_name = strdup("WWW-Authenticate");
    res->extra_header_value = strdup(invalid_token ? "Bearer error=\"invalid_token\"" : "Bearer");
}

/*  One query: the token's tenant and its totals. No row means the token is
    unknown or revoked; one row with a NULL currency means a known tenant
    without totals yet. */
static const char *s_outstanding_sql =
    "SELECT t.tenant, r.currency, r.outstanding_minor, r.invoiced_minor,"
    " r.collected_minor, r.invoice_count, r.payment_count, r.open_disputes"
    " FROM api_tokens t LEFT JOIN rpt_totals r ON r.tenant = t.tenant"
    " WHERE t.token_hash = sha256(convert_to($1, 'UTF8')) AND t.revoked_at IS NULL"
    " ORDER BY r.currency";

static json_t *int_field(PGresult *r, int row, int col)
{
    return json_integer(strtoll(PQgetvalue(r, row, col), NULL, 10));
}

void rpt_api_outstanding(const http_request_t *req, http_response_t *res, void *arg)
{
    rpt_api_t *api = arg;
    char token[RPT_TOKEN_MAX + 1];
    const char *code;
    const char *reason = rpt_bearer_token(http_header(req, "Authorization"), token, &code);
    if (reason) {
        auth_failure(res, code, reason, false);
        return;
    }
    const char *params[] = { token };
    PGresult *r = db_exec(api->db, s_outstanding_sql, 1, params);
    if (!r) {
        metric_inc(metrics_counter("creance_reporting_api_unavailable_total",
                                   "API requests answered 503 because the database failed", NULL));
        http_reply_error(res, 503, "database", "unavailable");
        return;
    }
    if (PQntuples(r) == 0) {
        PQclear(r);
        auth_failure(res, "unknown", "unknown or revoked token", true);
        return;
    }
    char as_of[11];
    date_format(date_today(), as_of);
    json_t *totals = json_array();
    for (int i = 0; i < PQntuples(r); i++) {
        if (PQgetisnull(r, i, 1))
            continue;
        json_t *t = json_object();
        json_object_set_new(t, "currency", json_string(PQgetvalue(r, i, 1)));
        json_object_set_new(t, "outstanding_minor", int_field(r, i, 2));
        json_object_set_new(t, "invoiced_minor", int_field(r, i, 3));
        json_object_set_new(t, "collected_minor", int_field(r, i, 4));
        json_object_set_new(t, "invoice_count", int_field(r, i, 5));
        json_object_set_new(t, "payment_count", int_field(r, i, 6));
        json_object_set_new(t, "open_disputes", int_field(r, i, 7));
        json_array_append_new(totals, t);
    }
    json_t *body = json_object();
    json_object_set_new(body, "tenant", json_string(PQgetvalue(r, 0, 0)));
    json_object_set_new(body, "as_of", json_string(as_of));
    json_object_set_new(body, "totals", totals);
    log_debug("outstanding served tenant=%s currencies=%zu", PQgetvalue(r, 0, 0),
              json_array_size(totals));
    PQclear(r);
    http_reply_json(res, 200, body);
}

bool rpt_api_authenticate(rpt_api_t *api, const http_request_t *req, http_response_t *res,
                          char tenant[64])
{
    char token[RPT_TOKEN_MAX + 1];
    const char *code;
    const char *reason = rpt_bearer_token(http_header(req, "Authorization"), token, &code);
    if (reason) {
        auth_failure(res, code, reason, false);
        return false;
    }
    const char *params[] = { token };
    PGresult *r = db_exec(api->db,
        "SELECT tenant FROM api_tokens WHERE token_hash = sha256(convert_to($1, 'UTF8'))"
        " AND revoked_at IS NULL", 1, params);
    if (!r) {
        metric_inc(metrics_counter("creance_reporting_api_unavailable_total",
                                   "API requests answered 503 because the database failed", NULL));
        http_reply_error(res, 503, "database", "unavailable");
        return false;
    }
    if (PQntuples(r) != 1) {
        PQclear(r);
        auth_failure(res, "unknown", "unknown or revoked token", true);
        return false;
    }
    snprintf(tenant, 64, "%s", PQgetvalue(r, 0, 0));
    PQclear(r);
    return true;
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
