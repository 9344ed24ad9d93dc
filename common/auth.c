/*  auth: bearer tokens to tenants. */
#include "auth.h"
#include "log.h"
#include "metrics.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

const char *
auth_bearer_token(const char *header, char token[AUTH_TOKEN_MAX + 1], const char **code)
{
    *code = "missing";
    if (!header || !*header)
        return "missing; expected 'Bearer <token>'";
    *code = "malformed";
    /* RFC 7235: the scheme is case-insensitive, then one or more spaces. */
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
    if (n > AUTH_TOKEN_MAX)
        return "token too long";
    /* Tokens are printable ASCII without spaces (RFC 6750 b64token and
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

static void
s_refuse(http_response_t *res, const char *code, const char *reason, bool invalid_token)
{
    char labels[64];
    snprintf(labels, sizeof labels, "reason=\"%s\"", code);
    metric_inc(metrics_counter("creance_api_auth_failures_total",
                               "API requests refused for their Authorization header, by reason",
                               labels));
    log_info("api request refused field=Authorization reason=%s", code);
    http_reply_error(res, 401, "Authorization", reason);
    /* RFC 6750 section 3: no error code when the request had no
       credentials, error="invalid_token" when they were refused. */
    free(res->extra_header_name);
    free(res->extra_header_value);
    res->extra_header_name = strdup("WWW-Authenticate");
    res->extra_header_value = strdup(invalid_token ? "Bearer error=\"invalid_token\"" : "Bearer");
}

bool
auth_tenant(db_t *db, const http_request_t *req, http_response_t *res, char tenant[64])
{
    char token[AUTH_TOKEN_MAX + 1];
    const char *code;
    const char *reason = auth_bearer_token(http_header(req, "Authorization"), token, &code);
    if (reason) {
        s_refuse(res, code, reason, false);
        return false;
    }
    const char *params[] = { token };
    PGresult *r = db_exec(db, "SELECT tenant FROM api_tokens "
                              "WHERE token_hash = sha256(convert_to($1, 'UTF8')) "
                              "AND revoked_at IS NULL", 1, params);
    if (!r) {
        metric_inc(metrics_counter("creance_api_unavailable_total",
                                   "API requests answered 503 because the database failed", NULL));
        http_reply_error(res, 503, "database", "unavailable");
        return false;
    }
    bool found = PQntuples(r) == 1;
    if (found)
        snprintf(tenant, 64, "%s", PQgetvalue(r, 0, 0));
    PQclear(r);
    if (!found)
        s_refuse(res, "unknown", "unknown or revoked token", true);
    return found;
}
