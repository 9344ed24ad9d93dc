/*  search: GET /api/v1/debtors?q= (see search.h). */
#include "search.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "api.h"
#include "auth.h"
#include "dates.h"
#include "log.h"
#include "metrics.h"

#define SEARCH_MAX_Q 100
#define SEARCH_DEFAULT_LIMIT 20
#define SEARCH_MAX_LIMIT 200

bool rpt_search_pattern(const char *q, size_t qlen, char *out, size_t outlen)
{
    size_t n = 0;
    if (outlen < 3)
        return false;
    out[n++] = '%';
    for (size_t i = 0; i < qlen; i++) {
        char c = q[i];
        if (c == '\\' || c == '%' || c == '_') {
            if (n + 1 >= outlen)
                return false;
            out[n++] = '\\';
        }
        if (n + 1 >= outlen)
            return false;
        out[n++] = c;
    }
    if (n + 2 > outlen)
        return false;
    out[n++] = '%';
    out[n] = '\0';
    return true;
}

/*  Well-formed UTF-8 (no overlong forms, no surrogates): PostgreSQL would
    refuse anything else with an error that is not the client's to read. */
static bool utf8_valid(const unsigned char *s, size_t n)
{
    size_t i = 0;
    while (i < n) {
        unsigned char c = s[i];
        size_t k;
        unsigned cp;
        if (c < 0x80) {
            i++;
            continue;
        }
        if (c >= 0xC2 && c <= 0xDF) { k = 1; cp = c & 0x1F; }
        else if (c >= 0xE0 && c <= 0xEF) { k = 2; cp = c & 0x0F; }
        else if (c >= 0xF0 && c <= 0xF4) { k = 3; cp = c & 0x07; }
        else
            return false;
        for (size_t j = 1; j <= k; j++) {
            if (i + j >= n || (s[i + j] & 0xC0) != 0x80)
                return false;
            cp = (cp << 6) | (s[i + j] & 0x3F);
        }
        if ((k == 2 && (cp < 0x800 || (cp >= 0xD800 && cp <= 0xDFFF)))
            || (k == 3 && (cp < 0x10000 || cp > 0x10FFFF)))
            return false;
        i += k + 1;
    }
    return true;
}

const char *rpt_search_invalid(const char *q, size_t qlen)
{
    if (qlen == 0)
        return "empty; expected 1 to 100 characters";
    if (qlen > SEARCH_MAX_Q)
        return "longer than 100 characters";
    for (size_t i = 0; i < qlen; i++)
        if ((unsigned char) q[i] < 0x20 || q[i] == 0x7f)
            return "has control characters";
    if (!utf8_valid((const unsigned char *) q, qlen))
        return "not UTF-8";
    return NULL;
}

static void count_refused(const char *field)
{
    char labels[64];
    snprintf(labels, sizeof labels, "field=\"%s\"", field);
    metric_inc(metrics_counter("creance_reporting_search_bad_requests_total",
                               "Debtor searches refused for a bad parameter, by field", labels));
}

static void refuse(http_response_t *res, const char *field, const char *reason)
{
    count_refused(field);
    http_reply_error(res, 400, field, reason);
}

/*  The match expression is the index's (0050_rpt_debtor_search.sql), so
    that the planner can use it. The inner query picks and ranks the
    debtors; the balances are read for those only. */
static const char *s_search_sql =
    "SELECT d.debtor_id, d.external_id, d.legal_name, d.company_id, d.email, d.country, d.kind,"
    " (SELECT coalesce(json_agg(json_build_object('currency', x.currency,"
    "   'open_minor', x.open_minor, 'open_invoices', x.n) ORDER BY x.currency), '[]')"
    "  FROM (SELECT currency, sum(open_minor) AS open_minor, count(*) AS n FROM rpt_invoices i"
    "        WHERE i.tenant = d.tenant AND i.debtor_id = d.debtor_id AND i.open_minor > 0"
    "        GROUP BY currency) x)::text"
    " FROM (SELECT *, CASE"
    "   WHEN lower(external_id) = lower($3) OR lower(company_id) = lower($3)"
    "        OR lower(email) = lower($3) THEN 0"
    "   WHEN legal_name ILIKE $4 OR external_id ILIKE $4 OR company_id ILIKE $4 THEN 1"
    "   ELSE 2 END AS rank"
    "  FROM rpt_debtors"
    "  WHERE tenant = $1"
    "   AND (legal_name || ' ' || external_id || ' ' || company_id || ' ' || email) ILIKE $2"
    "  ORDER BY rank, lower(legal_name), debtor_id LIMIT $5::int) d"
    " ORDER BY d.rank, lower(d.legal_name), d.debtor_id";

void rpt_search_debtors(const http_request_t *req, http_response_t *res, void *arg)
{
    rpt_api_t *api = arg;
    int64_t start = now_us();
    char tenant[64];
    if (!auth_tenant(api->db, req, res, tenant))
        return;
    const char *q = http_query(req, "q");
    if (!q) {
        refuse(res, "q", "missing; expected ?q=TEXT (part of a name, id, company id or e-mail)");
        return;
    }
    /* Spaces around the text are a copy-and-paste accident, not a search. */
    while (*q == ' ' || *q == '\t')
        q++;
    size_t qlen = strlen(q);
    while (qlen && (q[qlen - 1] == ' ' || q[qlen - 1] == '\t'))
        qlen--;
    const char *why = rpt_search_invalid(q, qlen);
    if (why) {
        refuse(res, "q", why);
        return;
    }
    long limit = SEARCH_DEFAULT_LIMIT;
    if (!http_query_long(req, res, "limit", 1, SEARCH_MAX_LIMIT, &limit)) {
        count_refused("limit");
        return;
    }
    char text[SEARCH_MAX_Q + 1], anywhere[2 * SEARCH_MAX_Q + 3], prefix[2 * SEARCH_MAX_Q + 3];
    memcpy(text, q, qlen);
    text[qlen] = '\0';
    rpt_search_pattern(text, qlen, anywhere, sizeof anywhere);
    /* The prefix pattern: the same without its leading '%'. */
    snprintf(prefix, sizeof prefix, "%s", anywhere + 1);
    char lim[24];
    /* One more than asked: tells whether the answer is complete. */
    snprintf(lim, sizeof lim, "%ld", limit + 1);
    const char *params[] = { tenant, anywhere, text, prefix, lim };
    PGresult *r = db_exec(api->db, s_search_sql, 5, params);
    if (!r) {
        metric_inc(metrics_counter("creance_reporting_api_unavailable_total",
                                   "API requests answered 503 because the database failed", NULL));
        http_reply_error(res, 503, "database", "unavailable");
        return;
    }
    int n = PQntuples(r);
    bool truncated = n > limit;
    if (truncated)
        n = (int) limit;
    json_t *rows = json_array();
    for (int i = 0; i < n; i++) {
        json_t *o = json_object();
        json_object_set_new(o, "debtor_id", json_integer(strtoll(PQgetvalue(r, i, 0), NULL, 10)));
        json_object_set_new(o, "external_id", json_string(PQgetvalue(r, i, 1)));
        json_object_set_new(o, "legal_name", json_string(PQgetvalue(r, i, 2)));
        json_object_set_new(o, "company_id", json_string(PQgetvalue(r, i, 3)));
        json_object_set_new(o, "email", json_string(PQgetvalue(r, i, 4)));
        json_object_set_new(o, "country", json_string(PQgetvalue(r, i, 5)));
        json_object_set_new(o, "kind", json_integer(atoi(PQgetvalue(r, i, 6))));
        json_t *open = json_loads(PQgetvalue(r, i, 7), 0, NULL);
        json_object_set_new(o, "open", open ? open : json_array());
        json_array_append_new(rows, o);
    }
    PQclear(r);
    json_t *body = json_object();
    json_object_set_new(body, "tenant", json_string(tenant));
    json_object_set_new(body, "q", json_string(text));
    json_object_set_new(body, "limit", json_integer(limit));
    json_object_set_new(body, "truncated", json_boolean(truncated));
    json_object_set_new(body, "debtors", rows);
    log_debug("debtor search tenant=%s found=%d truncated=%d", tenant, n, truncated);
    http_reply_json(res, 200, body);
    metric_observe(metrics_histogram("creance_reporting_api_seconds",
                                     "Time to answer a KPI API request", "endpoint=\"search\""),
                   (double) (now_us() - start) / 1e6);
}
