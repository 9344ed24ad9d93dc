/*  auth: per-tenant API bearer tokens, for every service's JSON API.

    Tokens are stored as SHA-256 in api_tokens (a leaked table leaks no
    working token). A request's "Authorization: Bearer <token>" resolves to
    exactly one tenant, and every query of the handler is then scoped to it. */
#ifndef CREANCE_AUTH_H
#define CREANCE_AUTH_H

#include <stdbool.h>
#include "db.h"
#include "http.h"

/*  Longest accepted token; longer ones are refused before any query. */
#define AUTH_TOKEN_MAX 256

/*  Pure. Extracts the token from an Authorization header value ("Bearer
    <token>", scheme case-insensitive). Returns NULL and fills `token`, or
    the reason it is refused; `code` gets the short metric label ("missing",
    "malformed"; NULL on success). */
const char *auth_bearer_token(const char *header, char token[AUTH_TOKEN_MAX + 1],
                              const char **code);

/*  The tenant of the request's bearer token, into `tenant` (64 bytes). On
    failure replies 401 (counted in creance_api_auth_failures_total by
    reason), or 503 when the database is down, and returns false. */
bool auth_tenant(db_t *db, const http_request_t *req, http_response_t *res, char tenant[64]);

#endif
