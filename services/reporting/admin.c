/*  admin: the operator API, /admin/v1/ (see admin.h). */
#include "admin.h"

#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/rand.h>

#include "api.h"
#include "auth.h"
#include "log.h"
#include "metrics.h"
#include "retention.h"

#define ADMIN_PREFIX "/admin/v1/"
#define TOKEN_NAME_MAX 100
#define TENANT_NAME_MAX 200
/*  "ct_" and 4 characters: shorter would name too many tokens. */
#define MIN_PREFIX_REF 7
#define MAX_SEGMENTS 4

static const config_t *s_config;

void rpt_admin_configure(const config_t *config)
{
    s_config = config;
}

/* ------------------------------------------------------------ pure parts */

static int hexval(char c)
{
    if (c >= '0' && c <= '9')
        return c - '0';
    c = (char) tolower((unsigned char) c);
    return c >= 'a' && c <= 'f' ? c - 'a' + 10 : -1;
}

int rpt_admin_check(const char *configured_hex, const char *auth_header, const char **reason,
                    const char **code)
{
    if (!configured_hex || !*configured_hex) {
        *code = "disabled";
        *reason = "the operator API is disabled: reporting has no " RPT_ADMIN_TOKEN_VAR
                  " (the SHA-256, in hex, of the operator token)";
        return 403;
    }
    unsigned char expected[32];
    bool ok = strlen(configured_hex) == 64;
    for (size_t i = 0; ok && i < 32; i++) {
        int hi = hexval(configured_hex[2 * i]), lo = hexval(configured_hex[2 * i + 1]);
        ok = hi >= 0 && lo >= 0;
        if (ok)                     /* never shift the -1 of a bad digit */
            expected[i] = (unsigned char) (hi << 4 | lo);
    }
    if (!ok) {
        *code = "misconfigured";
        *reason = "the operator API is misconfigured: " RPT_ADMIN_TOKEN_VAR
                  " is not 64 hex digits";
        return 403;
    }
    char token[AUTH_TOKEN_MAX + 1];
    const char *why = auth_bearer_token(auth_header, token, code);
    if (why) {
        *reason = why;
        return 401;
    }
    unsigned char got[EVP_MAX_MD_SIZE];
    unsigned int len = 0;
    if (!EVP_Digest(token, strlen(token), got, &len, EVP_sha256(), NULL) || len != 32) {
        *code = "digest";
        *reason = "cannot check the token";
        OPENSSL_cleanse(token, sizeof token);
        return 401;
    }
    OPENSSL_cleanse(token, sizeof token);
    /* Constant time: the comparison tells nothing of how close a guess was. */
    if (CRYPTO_memcmp(got, expected, 32) != 0) {
        *code = "wrong_token";
        *reason = "not the operator token";
        return 401;
    }
    *code = NULL;
    *reason = NULL;
    return 0;
}

int rpt_admin_new_token(char token[48], char prefix[12])
{
    static const char b64url[] =
        "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
    unsigned char raw[33];
    if (RAND_bytes(raw, 32) != 1)
        return -1;
    raw[32] = 0;
    /* 32 bytes = 256 bits = 43 characters of 6 bits (the last one 4 bits). */
    memcpy(token, "ct_", 3);
    size_t n = 3;
    for (size_t i = 0; i < 33 && n < 3 + 43; i += 3) {
        unsigned v = (unsigned) raw[i] << 16 | (unsigned) (i + 1 < 33 ? raw[i + 1] : 0) << 8
                     | (unsigned) (i + 2 < 33 ? raw[i + 2] : 0);
        for (int k = 3; k >= 0 && n < 3 + 43; k--)
            token[n++] = b64url[(v >> (6 * k)) & 63];
    }
    token[n] = '\0';
    memcpy(prefix, token, 11);
    prefix[11] = '\0';
    OPENSSL_cleanse(raw, sizeof raw);
    return 0;
}

const char *rpt_admin_name_invalid(const char *name, size_t max)
{
    if (!name || !*name)
        return "empty";
    size_t n = strlen(name);
    if (n > max)
        return max == TOKEN_NAME_MAX ? "longer than 100 bytes" : "longer than 200 bytes";
    bool blank = true;
    for (size_t i = 0; i < n; i++) {
        unsigned char c = (unsigned char) name[i];
        if (c < 0x20 || c == 0x7f)
            return "has control characters";
        if (c != ' ')
            blank = false;
    }
    /* jansson only hands out valid UTF-8; a name from elsewhere is checked
       by PostgreSQL, which refuses the statement. */
    return blank ? "only spaces" : NULL;
}

static bool tenant_id_valid(const char *t)
{
    size_t n = t ? strlen(t) : 0;
    if (n < 1 || n > 63)
        return false;
    for (size_t i = 0; i < n; i++) {
        char c = t[i];
        if (!((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || (i > 0 && (c == '_' || c == '-'))))
            return false;
    }
    return true;
}

/* ------------------------------------------------------------ requests */

typedef struct {
    const http_request_t *req;
    http_response_t *res;
    db_t *db;
    bus_t *bus;                     /* for DebtorErased (retention) */
    const char *action;             /* metric label and log word */
    char *seg[MAX_SEGMENTS];        /* path segments after /admin/v1/ */
    int nseg;
} admin_req_t;

static void count(const char *action, const char *result)
{
    char labels[96];
    snprintf(labels, sizeof labels, "action=\"%s\",result=\"%s\"", action, result);
    metric_inc(metrics_counter("creance_reporting_admin_requests_total",
                               "Operator API requests, by action and result", labels));
}

/*  A refusal of the request (4xx) or a failure (503), logged and counted. */
static void fail(admin_req_t *a, int status, const char *field, const char *reason)
{
    count(a->action, status == 503 ? "error" : "refused");
    /* The path's tenant only when it is one: a decoded path may hold anything. */
    log_info("admin action=%s tenant=%s result=refused status=%d field=%s reason=\"%s\"",
             a->action, a->nseg > 1 && tenant_id_valid(a->seg[1]) ? a->seg[1] : "-", status,
             field, reason);
    http_reply_error(a->res, status, field, reason);
}

static void db_failed(admin_req_t *a)
{
    fail(a, 503, "database", "unavailable");
}

static json_t *body_json(admin_req_t *a)
{
    size_t len = 0;
    const char *body = http_body(a->req, &len);
    if (!body || len == 0) {
        fail(a, 400, "body", "expected a JSON object");
        return NULL;
    }
    json_error_t err;
    json_t *j = json_loadb(body, len, 0, &err);
    if (!json_is_object(j)) {
        char reason[200];
        snprintf(reason, sizeof reason, "not a JSON object%s%s", j ? "" : ": ", j ? "" : err.text);
        json_decref(j);
        fail(a, 400, "body", reason);
        return NULL;
    }
    return j;
}

#define TS(col) "to_char(" col " AT TIME ZONE 'UTC', 'YYYY-MM-DD\"T\"HH24:MI:SS\"Z\"')"

static json_t *text_or_null(PGresult *r, int row, int col)
{
    return PQgetisnull(r, row, col) ? json_null() : json_string(PQgetvalue(r, row, col));
}

/*  True when the tenant of the path exists; else replies 404 (or 503). */
static bool tenant_exists(admin_req_t *a, const char *tenant)
{
    if (!tenant_id_valid(tenant)) {
        fail(a, 404, "tenant", "no such tenant");
        return false;
    }
    const char *p[] = { tenant };
    PGresult *r = db_exec(a->db, "SELECT 1 FROM tenants WHERE id = $1", 1, p);
    if (!r) {
        db_failed(a);
        return false;
    }
    bool found = PQntuples(r) == 1;
    PQclear(r);
    if (!found)
        fail(a, 404, "tenant", "no such tenant");
    return found;
}

static const char *s_tenant_sql =
    "SELECT t.id, t.name, " TS("t.created_at") ","
    " (SELECT count(*) FROM api_tokens k WHERE k.tenant = t.id AND k.revoked_at IS NULL)"
    " FROM tenants t";

static json_t *tenant_row(PGresult *r, int i)
{
    json_t *o = json_object();
    json_object_set_new(o, "id", json_string(PQgetvalue(r, i, 0)));
    json_object_set_new(o, "name", json_string(PQgetvalue(r, i, 1)));
    json_object_set_new(o, "created_at", json_string(PQgetvalue(r, i, 2)));
    json_object_set_new(o, "active_tokens", json_integer(strtoll(PQgetvalue(r, i, 3), NULL, 10)));
    return o;
}

static void tenants_list(admin_req_t *a)
{
    char sql[512];
    snprintf(sql, sizeof sql, "%s ORDER BY t.id", s_tenant_sql);
    PGresult *r = db_exec(a->db, sql, 0, NULL);
    if (!r) {
        db_failed(a);
        return;
    }
    json_t *rows = json_array();
    for (int i = 0; i < PQntuples(r); i++)
        json_array_append_new(rows, tenant_row(r, i));
    PQclear(r);
    count(a->action, "ok");
    log_info("admin action=%s result=ok tenants=%zu", a->action, json_array_size(rows));
    json_t *body = json_object();
    json_object_set_new(body, "tenants", rows);
    http_reply_json(a->res, 200, body);
}

static void tenant_get(admin_req_t *a)
{
    if (!tenant_id_valid(a->seg[1])) {
        fail(a, 404, "tenant", "no such tenant");
        return;
    }
    char sql[512];
    snprintf(sql, sizeof sql, "%s WHERE t.id = $1", s_tenant_sql);
    const char *p[] = { a->seg[1] };
    PGresult *r = db_exec(a->db, sql, 1, p);
    if (!r) {
        db_failed(a);
        return;
    }
    if (PQntuples(r) != 1) {
        PQclear(r);
        fail(a, 404, "tenant", "no such tenant");
        return;
    }
    json_t *o = tenant_row(r, 0);
    PQclear(r);
    count(a->action, "ok");
    log_info("admin action=%s tenant=%s result=ok", a->action, a->seg[1]);
    http_reply_json(a->res, 200, o);
}

static void tenant_create(admin_req_t *a)
{
    json_t *j = body_json(a);
    if (!j)
        return;
    const char *id = json_string_value(json_object_get(j, "id"));
    const char *name = json_string_value(json_object_get(j, "name"));
    const char *why;
    if (!tenant_id_valid(id))
        fail(a, 400, "id", "expected 1 to 63 of a-z 0-9 _ -, starting with a letter or digit");
    else if ((why = rpt_admin_name_invalid(name, TENANT_NAME_MAX)))
        fail(a, 400, "name", why);
    else {
        const char *p[] = { id, name };
        PGresult *r = db_exec(a->db,
            "INSERT INTO tenants (id, name) VALUES ($1, $2) ON CONFLICT (id) DO NOTHING"
            " RETURNING " TS("created_at"), 2, p);
        if (!r)
            db_failed(a);
        else if (PQntuples(r) != 1)
            fail(a, 409, "id", "a tenant with this id exists");
        else {
            json_t *o = json_object();
            json_object_set_new(o, "id", json_string(id));
            json_object_set_new(o, "name", json_string(name));
            json_object_set_new(o, "created_at", json_string(PQgetvalue(r, 0, 0)));
            count(a->action, "ok");
            log_info("admin action=%s tenant=%s result=ok", a->action, id);
            http_reply_json(a->res, 201, o);
        }
        PQclear(r);
    }
    json_decref(j);
}

static void tokens_list(admin_req_t *a)
{
    const char *tenant = a->seg[1];
    if (!tenant_exists(a, tenant))
        return;
    const char *p[] = { tenant };
    PGresult *r = db_exec(a->db,
        "SELECT name, prefix, " TS("created_at") ", " TS("revoked_at")
        " FROM api_tokens WHERE tenant = $1 ORDER BY created_at, name", 1, p);
    if (!r) {
        db_failed(a);
        return;
    }
    json_t *rows = json_array();
    for (int i = 0; i < PQntuples(r); i++) {
        json_t *o = json_object();
        json_object_set_new(o, "name", json_string(PQgetvalue(r, i, 0)));
        json_object_set_new(o, "prefix", json_string(PQgetvalue(r, i, 1)));
        json_object_set_new(o, "created_at", json_string(PQgetvalue(r, i, 2)));
        json_object_set_new(o, "revoked_at", text_or_null(r, i, 3));
        json_array_append_new(rows, o);
    }
    PQclear(r);
    count(a->action, "ok");
    log_info("admin action=%s tenant=%s result=ok tokens=%zu", a->action, tenant,
             json_array_size(rows));
    json_t *body = json_object();
    json_object_set_new(body, "tenant", json_string(tenant));
    json_object_set_new(body, "tokens", rows);
    http_reply_json(a->res, 200, body);
}

static void token_create(admin_req_t *a)
{
    const char *tenant = a->seg[1];
    if (!tenant_exists(a, tenant))
        return;
    size_t len = 0;
    const char *raw = http_body(a->req, &len);
    json_t *j = raw && len ? body_json(a) : json_object();
    if (!j)
        return;
    char token[48], prefix[12];
    const char *name = json_string_value(json_object_get(j, "name"));
    const char *why = NULL;
    if (json_object_get(j, "name") && !name)
        why = "expected a string";
    else if (name)
        why = rpt_admin_name_invalid(name, TOKEN_NAME_MAX);
    if (!why && name && strchr(name, '/'))
        why = "has '/' (a name is part of the revoke path)";
    if (why) {
        fail(a, 400, "name", why);
        json_decref(j);
        return;
    }
    if (rpt_admin_new_token(token, prefix) != 0) {
        fail(a, 503, "token", "no randomness available");
        json_decref(j);
        return;
    }
    if (!name)
        name = prefix;
    /* Only the digest reaches the database: as a binary parameter, not
       even the statement log of the server can show the token. */
    unsigned char digest[EVP_MAX_MD_SIZE];
    unsigned int dlen = 0;
    EVP_Digest(token, strlen(token), digest, &dlen, EVP_sha256(), NULL);
    const char *p[] = { (const char *) digest, tenant, name, prefix };
    const int lengths[] = { (int) dlen, 0, 0, 0 };
    const int formats[] = { 1, 0, 0, 0 };
    PGresult *r = db_exec_ex(a->db,
        "INSERT INTO api_tokens (token_hash, tenant, name, prefix)"
        " SELECT $1, $2, $3, $4 WHERE NOT EXISTS (SELECT 1 FROM api_tokens"
        "  WHERE tenant = $2 AND name = $3 AND revoked_at IS NULL)"
        " RETURNING " TS("created_at"), 4, p, lengths, formats, 0);
    OPENSSL_cleanse(digest, sizeof digest);
    if (!r)
        db_failed(a);
    else if (PQntuples(r) != 1)
        fail(a, 409, "name", "an active token of this tenant has this name; revoke it or "
                             "choose another");
    else {
        json_t *o = json_object();
        json_object_set_new(o, "tenant", json_string(tenant));
        json_object_set_new(o, "name", json_string(name));
        json_object_set_new(o, "prefix", json_string(prefix));
        json_object_set_new(o, "token", json_string(token));
        json_object_set_new(o, "created_at", json_string(PQgetvalue(r, 0, 0)));
        count(a->action, "ok");
        log_info("admin action=%s tenant=%s name=\"%s\" prefix=%s result=ok", a->action, tenant,
                 name, prefix);
        http_reply_json(a->res, 201, o);
    }
    PQclear(r);
    OPENSSL_cleanse(token, sizeof token);
    json_decref(j);
}

static void token_revoke(admin_req_t *a)
{
    const char *tenant = a->seg[1], *ref = a->seg[3];
    if (!tenant_exists(a, tenant))
        return;
    if (!*ref) {
        fail(a, 400, "token", "expected the token's name or prefix");
        return;
    }
    /*  By name first; else by prefix, when the reference is long enough to
        be one. LIKE's own characters in the reference are taken literally. */
    const char *p[] = { tenant, ref, strlen(ref) >= MIN_PREFIX_REF ? "t" : "f" };
    PGresult *r = db_exec(a->db,
        "WITH m AS (SELECT token_hash, name, prefix, name = $2 AS by_name FROM api_tokens"
        "  WHERE tenant = $1 AND revoked_at IS NULL AND (name = $2 OR ($3::bool AND prefix <> ''"
        "  AND left(prefix, length($2)) = $2)))"
        " SELECT encode(token_hash, 'hex'), name, prefix FROM m"
        " WHERE by_name OR NOT EXISTS (SELECT 1 FROM m WHERE by_name) ORDER BY prefix", 3, p);
    if (!r) {
        db_failed(a);
        return;
    }
    int n = PQntuples(r);
    if (n == 0) {
        PQclear(r);
        fail(a, 404, "token", "no active token of this tenant has this name or prefix");
        return;
    }
    if (n > 1) {
        char reason[512];
        size_t k = (size_t) snprintf(reason, sizeof reason,
                                     "%d active tokens match; give the prefix of one:", n);
        for (int i = 0; i < n && k < sizeof reason; i++)
            k += (size_t) snprintf(reason + k, sizeof reason - k, " %s",
                                   *PQgetvalue(r, i, 2) ? PQgetvalue(r, i, 2) : "(none)");
        PQclear(r);
        fail(a, 409, "token", reason);
        return;
    }
    char name[TOKEN_NAME_MAX * 4 + 1], prefix[16], hash[65];
    snprintf(hash, sizeof hash, "%s", PQgetvalue(r, 0, 0));
    snprintf(name, sizeof name, "%s", PQgetvalue(r, 0, 1));
    snprintf(prefix, sizeof prefix, "%s", PQgetvalue(r, 0, 2));
    PQclear(r);
    const char *q[] = { tenant, hash };
    r = db_exec(a->db,
        "UPDATE api_tokens SET revoked_at = now() WHERE tenant = $1"
        " AND token_hash = decode($2, 'hex') AND revoked_at IS NULL"
        " RETURNING " TS("revoked_at"), 2, q);
    if (!r) {
        db_failed(a);
        return;
    }
    if (PQntuples(r) != 1) {
        /* Revoked by someone else between the two statements. */
        PQclear(r);
        fail(a, 404, "token", "no active token of this tenant has this name or prefix");
        return;
    }
    json_t *o = json_object();
    json_object_set_new(o, "tenant", json_string(tenant));
    json_object_set_new(o, "name", json_string(name));
    json_object_set_new(o, "prefix", json_string(prefix));
    json_object_set_new(o, "revoked_at", json_string(PQgetvalue(r, 0, 0)));
    PQclear(r);
    count(a->action, "ok");
    log_info("admin action=%s tenant=%s name=\"%s\" prefix=%s result=ok", a->action, tenant, name,
             *prefix ? prefix : "-");
    http_reply_json(a->res, 200, o);
}

/* ------------------------------------------------------------ retention */

/*  GET /admin/v1/retention (the default) or /admin/v1/tenants/{id}/retention
    (the tenant's periods: its own, or the default's). */
static void retention_show(admin_req_t *a)
{
    const char *tenant = a->nseg > 1 ? a->seg[1] : NULL;
    if (tenant && !tenant_exists(a, tenant))
        return;
    rpt_retention_t r;
    bool own;
    if (rpt_retention_get(a->db, tenant, &r, &own)) {
        db_failed(a);
        return;
    }
    json_t *o = rpt_retention_json(&r);
    json_object_set_new(o, "tenant", tenant ? json_string(tenant) : json_null());
    json_object_set_new(o, "own", json_boolean(own));
    count(a->action, "ok");
    log_info("admin action=%s tenant=%s result=ok", a->action, tenant ? tenant : "-");
    http_reply_json(a->res, 200, o);
}

/*  PUT the same paths {"personal_data_years"?, "raw_payload_days"?,
    "reminder_content_days"?}: the fields given change, the others keep
    their current value. */
static void retention_set(admin_req_t *a)
{
    const char *tenant = a->nseg > 1 ? a->seg[1] : NULL;
    if (tenant && !tenant_exists(a, tenant))
        return;
    json_t *j = body_json(a);
    if (!j)
        return;
    rpt_retention_t r;
    bool own;
    if (rpt_retention_get(a->db, tenant, &r, &own)) {
        json_decref(j);
        db_failed(a);
        return;
    }
    const struct { const char *name; int *v; } fields[] = {
        { "personal_data_years", &r.personal_data_years },
        { "raw_payload_days", &r.raw_payload_days },
        { "reminder_content_days", &r.reminder_content_days },
    };
    const char *key;
    json_t *v;
    json_object_foreach(j, key, v) {
        size_t k = 0;
        while (k < 3 && strcmp(fields[k].name, key) != 0)
            k++;
        if (k == 3) {
            fail(a, 400, key, "unknown field (personal_data_years, raw_payload_days, "
                              "reminder_content_days)");
            json_decref(j);
            return;
        }
        if (!json_is_integer(v) || json_integer_value(v) < -1000000
            || json_integer_value(v) > 1000000) {
            fail(a, 400, key, "expected a whole number");
            json_decref(j);
            return;
        }
        *fields[k].v = (int) json_integer_value(v);
    }
    json_decref(j);
    const char *field, *why = rpt_retention_invalid(&r, &field);
    if (why) {
        fail(a, 400, field, why);
        return;
    }
    if (rpt_retention_set(a->db, tenant, &r)) {
        db_failed(a);
        return;
    }
    json_t *o = rpt_retention_json(&r);
    json_object_set_new(o, "tenant", tenant ? json_string(tenant) : json_null());
    json_object_set_new(o, "own", json_boolean(tenant != NULL));
    count(a->action, "ok");
    log_info("admin action=%s tenant=%s personal_data_years=%d raw_payload_days=%d"
             " reminder_content_days=%d result=ok", a->action, tenant ? tenant : "-",
             r.personal_data_years, r.raw_payload_days, r.reminder_content_days);
    http_reply_json(a->res, 200, o);
}

/*  POST /admin/v1/retention/run {"tenant"?, "batch"?}: the daily pass, now. */
static void retention_run(admin_req_t *a)
{
    size_t len = 0;
    const char *raw = http_body(a->req, &len);
    json_t *j = raw && len ? body_json(a) : json_object();
    if (!j)
        return;
    json_t *t = json_object_get(j, "tenant"), *b = json_object_get(j, "batch");
    const char *tenant = json_string_value(t);
    if (t && !tenant) {
        fail(a, 400, "tenant", "expected a tenant id");
        json_decref(j);
        return;
    }
    if (tenant && !tenant_exists(a, tenant)) {
        json_decref(j);
        return;
    }
    if (b && (!json_is_integer(b) || json_integer_value(b) < 1 || json_integer_value(b) > 10000)) {
        fail(a, 400, "batch", "expected a whole number from 1 to 10000");
        json_decref(j);
        return;
    }
    rpt_retention_stats_t st;
    int rc = rpt_retention_run(a->db, a->bus, tenant, b ? (int) json_integer_value(b) : 100, &st);
    json_decref(j);
    if (rc) {
        db_failed(a);
        return;
    }
    count(a->action, "ok");
    log_info("admin action=%s result=ok erased=%lld", a->action, st.debtors_erased);
    http_reply_json(a->res, 200, rpt_retention_stats_json(&st));
}

/* ------------------------------------------------------------ routing */

typedef struct {
    const char *method;
    const char *pattern[MAX_SEGMENTS + 1];  /* "*" is any one segment; NULL ends */
    const char *action;
    void (*fn)(admin_req_t *a);
} admin_route_t;

static const admin_route_t s_routes[] = {
    { "GET",    { "tenants", NULL }, "tenant_list", tenants_list },
    { "POST",   { "tenants", NULL }, "tenant_create", tenant_create },
    { "GET",    { "tenants", "*", NULL }, "tenant_show", tenant_get },
    { "GET",    { "tenants", "*", "tokens", NULL }, "token_list", tokens_list },
    { "POST",   { "tenants", "*", "tokens", NULL }, "token_create", token_create },
    { "DELETE", { "tenants", "*", "tokens", "*", NULL }, "token_revoke", token_revoke },
    { "GET",    { "retention", NULL }, "retention_show", retention_show },
    { "PUT",    { "retention", NULL }, "retention_set", retention_set },
    { "POST",   { "retention", "run", NULL }, "retention_run", retention_run },
    { "GET",    { "tenants", "*", "retention", NULL }, "retention_show", retention_show },
    { "PUT",    { "tenants", "*", "retention", NULL }, "retention_set", retention_set },
};

static bool route_matches(const admin_route_t *r, admin_req_t *a)
{
    int i = 0;
    for (; r->pattern[i]; i++)
        if (i >= a->nseg || (strcmp(r->pattern[i], "*") != 0 && strcmp(r->pattern[i], a->seg[i]) != 0))
            return false;
    return i == a->nseg;
}

void rpt_admin_handle(const http_request_t *req, http_response_t *res, void *arg)
{
    rpt_api_t *api = arg;
    admin_req_t a = { .req = req, .res = res, .db = api->db, .bus = api->bus, .action = "auth" };

    const char *reason, *code;
    int status = rpt_admin_check(s_config ? config_get(s_config, RPT_ADMIN_TOKEN_VAR) : NULL,
                                 http_header(req, "Authorization"), &reason, &code);
    if (status) {
        char labels[64];
        snprintf(labels, sizeof labels, "reason=\"%s\"", code);
        metric_inc(metrics_counter("creance_reporting_admin_auth_failures_total",
                                   "Operator API requests refused for their credentials, by reason",
                                   labels));
        log_info("admin request refused method=%s status=%d reason=%s", http_method(req),
                 status, code);
        http_reply_error(res, status, "Authorization", reason);
        if (status == 401) {
            free(res->extra_header_name);
            free(res->extra_header_value);
            res->extra_header_name = strdup("WWW-Authenticate");
            res->extra_header_value = strdup("Bearer realm=\"creance-admin\"");
        }
        return;
    }

    /* The path's segments (MHD has decoded %XX already). */
    char *path = strdup(http_path(req) + strlen(ADMIN_PREFIX));
    for (char *s = path, *save = NULL; a.nseg <= MAX_SEGMENTS; s = NULL) {
        char *tok = strtok_r(s, "/", &save);
        if (!tok)
            break;
        if (a.nseg == MAX_SEGMENTS) {
            a.nseg++;           /* too deep: matches nothing */
            break;
        }
        a.seg[a.nseg++] = tok;
    }
    const admin_route_t *route = NULL, *same_path = NULL;
    for (size_t i = 0; i < sizeof s_routes / sizeof s_routes[0]; i++) {
        if (!route_matches(&s_routes[i], &a))
            continue;
        same_path = same_path ? same_path : &s_routes[i];
        if (strcmp(s_routes[i].method, http_method(req)) == 0
            || (strcmp(http_method(req), "HEAD") == 0 && strcmp(s_routes[i].method, "GET") == 0)) {
            route = &s_routes[i];
            break;
        }
    }
    if (route) {
        a.action = route->action;
        route->fn(&a);
    }
    else if (same_path) {
        a.action = "unknown";
        fail(&a, 405, "method", "method not allowed on this path");
    }
    else {
        a.action = "unknown";
        fail(&a, 404, "path", "no such operator API path (see docs/openapi.yaml)");
    }
    free(path);
}
