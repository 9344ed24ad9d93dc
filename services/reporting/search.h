/*  search: finding a debtor by what a person remembers of it.

    GET /api/v1/debtors?q=TEXT&limit=N   with "Authorization: Bearer <token>"
        200 {"tenant":"acme","q":"dup","limit":20,"truncated":false,
             "debtors":[{"debtor_id":12,"external_id":"D1","legal_name":"Dupont SARL",
               "company_id":"552100554","email":"compta@dupont.example","country":"FR",
               "kind":1,"open":[{"currency":"EUR","open_minor":150050,"open_invoices":2}]}]}
            q (1 to 100 characters, spaces around it ignored) is found anywhere
            in the name, external id, company id or e-mail, whatever the
            case; exact matches of an id or e-mail come first, then names
            and ids that start with q, then the rest, each by name.
            limit: 1..200 (default 20); truncated: more debtors match.
        400 {"error":{"field":"q"|"limit","reason":...}}
        401 as every API (common/auth.h); 503 when the database is down.

    Only the token's tenant is searched. The match uses the trigram index
    of 0050_rpt_debtor_search.sql. */
#ifndef CREANCE_REPORTING_SEARCH_H
#define CREANCE_REPORTING_SEARCH_H

#include <stdbool.h>
#include <stddef.h>
#include "http.h"

/*  Pure: `q` as an ILIKE pattern matching it anywhere ("%" q "%", with
    '\', '%' and '_' escaped), into out. False when it does not fit. */
bool rpt_search_pattern(const char *q, size_t qlen, char *out, size_t outlen);

/*  Pure: NULL when `q` (trimmed) is acceptable, else the reason. */
const char *rpt_search_invalid(const char *q, size_t qlen);

/*  http_handler_fn; arg is the rpt_api_t. */
void rpt_search_debtors(const http_request_t *req, http_response_t *res, void *arg);

#endif
