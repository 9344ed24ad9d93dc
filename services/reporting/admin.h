/*  admin: the operator API of reporting, under /admin/v1/: tenants and
    their API tokens, for `creance admin ...` (services/cli/cmd_admin.c), so
    that operators never write to the database by hand.

    Every request carries "Authorization: Bearer <operator token>". Reporting
    knows only the token's SHA-256, in hex, from CREANCE_ADMIN_TOKEN_SHA256
    (re-read on SIGHUP, so the token can be changed without a restart):
      - not set: 403 {"error":{"field":"Authorization","reason":"the operator
        API is disabled: ..."}}, whatever the request;
      - set but not 64 hex digits: 403 "... misconfigured ...";
      - no, malformed or another token: 401 with WWW-Authenticate.
    A tenant's API token is not an operator token.

    GET    /admin/v1/tenants                   200 {"tenants":[{"id","name","created_at",
                                                "active_tokens"}]}
    POST   /admin/v1/tenants {"id","name"}     201 {"id","name","created_at"};
                                               409 when the id is taken
    GET    /admin/v1/tenants/{id}              200 {"id","name","created_at","active_tokens"}
    GET    /admin/v1/tenants/{id}/tokens       200 {"tenant","tokens":[{"name","prefix",
                                                "created_at","revoked_at"|null}]}
    POST   /admin/v1/tenants/{id}/tokens {"name"?}
                                               201 {"tenant","name","prefix","token",
                                                "created_at"}: the only time the token is
                                                shown; api_tokens keeps its SHA-256 and its
                                                prefix ("ct_" and 8 characters). The name
                                                defaults to the prefix; 409 when an active
                                                token of the tenant has that name
    DELETE /admin/v1/tenants/{id}/tokens/{name-or-prefix}
                                               200 {"tenant","name","prefix","revoked_at"};
                                               404 no active token has that name or prefix
                                               (a prefix: at least "ct_" and 4 characters);
                                               409 when it names several (give the prefix)
    Unknown tenant: 404 {"error":{"field":"tenant",...}}. Bad input: 400
    naming the field. Database down: 503.

    Each action is logged (action, tenant, token name and prefix, result;
    never the token) and counted in creance_reporting_admin_requests_total
    {action,result}; refused credentials in
    creance_reporting_admin_auth_failures_total{reason}. */
#ifndef CREANCE_REPORTING_ADMIN_H
#define CREANCE_REPORTING_ADMIN_H

#include <stdbool.h>
#include <stddef.h>
#include "config.h"
#include "http.h"

/*  The configuration entry reporting declares (main.c). */
#define RPT_ADMIN_TOKEN_VAR "CREANCE_ADMIN_TOKEN_SHA256"

/*  Where the handlers read CREANCE_ADMIN_TOKEN_SHA256, at each request. */
void rpt_admin_configure(const config_t *config);

/*  Pure. Decides whether `auth_header` carries the operator token whose
    SHA-256 is `configured_hex` (either case). Returns 0 when it does; else
    the HTTP status (403 disabled or misconfigured, 401 refused) with
    *reason for the client and *code for the metric label. */
int rpt_admin_check(const char *configured_hex, const char *auth_header, const char **reason,
                    const char **code);

/*  Pure. A new token ("ct_" and 43 base64url characters of 32 random
    bytes) into token (47 bytes and NUL), its prefix (the first 11) into
    prefix. Returns 0, or -1 when no randomness was to be had. */
int rpt_admin_new_token(char token[48], char prefix[12]);

/*  Pure. NULL when `name` is acceptable for a tenant or a token (1 to
    `max` bytes of UTF-8 without control characters, not only spaces),
    else the reason. */
const char *rpt_admin_name_invalid(const char *name, size_t max);

/*  http_handler_fn for GET, POST and DELETE on "/admin/v1/"; arg is the
    rpt_api_t. */
void rpt_admin_handle(const http_request_t *req, http_response_t *res, void *arg);

#endif
