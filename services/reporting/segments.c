/*  segments: grade and collector changes. See segments.h. */
#include "segments.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "api.h"
#include "auth.h"
#include "dates.h"
#include "log.h"
#include "metrics.h"

bool rpt_collector_name_ok(const char *name)
{
    size_t n = strlen(name);
    if (n > 63)
        return false;
    for (const char *p = name; *p; p++)
        if (!((*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z') || (*p >= '0' && *p <= '9')
              || *p == '.' || *p == '_' || *p == '@' || *p == '-'))
            return false;
    return true;
}

/*  The open amounts of the debtor's invoices whose segment differs from
    ($4, $5), as (segment, due date, day, amount, count) rows: out of the
    old segment and into the new one. $3 is the day of the change. */
#define MOVES_CTE \
    "WITH inv AS (SELECT tenant, currency, country, kind, grade, collector, due_date," \
    "  greatest($3::date, issue_date) AS day, open_minor FROM rpt_invoices" \
    "  WHERE tenant = $1 AND debtor_id = $2::bigint AND open_minor <> 0" \
    "  AND (grade <> $4 OR collector <> $5))," \
    " x AS (SELECT tenant, currency, country, kind, grade, collector, due_date, day," \
    "  -open_minor AS m, -(open_minor > 0)::int AS c FROM inv" \
    "  UNION ALL SELECT tenant, currency, country, kind, $4, $5, due_date, day," \
    "  open_minor, (open_minor > 0)::int FROM inv)"

int rpt_segments_set(db_t *db, const char *tenant, int64_t debtor_id, const char *grade,
                     const char *collector, int32_t d, bool *found)
{
    char id[24], day[11];
    snprintf(id, sizeof id, "%" PRId64, debtor_id);
    date_format(d, day);
    const char *p[] = { tenant, id, grade ? grade : "", collector ? collector : "\x01" };
    /*  The new pair: what is given, else what the debtor has. */
    PGresult *r = db_exec(db,
        "SELECT CASE WHEN $3 = '' THEN grade ELSE $3 END,"
        "  CASE WHEN $4 = E'\\x01' THEN collector ELSE $4 END, grade, collector"
        " FROM rpt_debtors WHERE tenant = $1 AND debtor_id = $2::bigint FOR UPDATE", 4, p);
    if (!r)
        return -1;
    *found = PQntuples(r) == 1;
    if (!*found) {
        PQclear(r);
        return 0;
    }
    char g[2], c[64];
    snprintf(g, sizeof g, "%s", PQgetvalue(r, 0, 0));
    snprintf(c, sizeof c, "%s", PQgetvalue(r, 0, 1));
    bool same = strcmp(g, PQgetvalue(r, 0, 2)) == 0 && strcmp(c, PQgetvalue(r, 0, 3)) == 0;
    PQclear(r);
    if (same)
        return 0;
    const char *q[] = { tenant, id, day, g, c };
    if (db_run(db, MOVES_CTE
            " INSERT INTO rpt_open_due (tenant, currency, country, kind, grade, collector,"
            "  due_date, open_minor, open_count)"
            " SELECT tenant, currency, country, kind, grade, collector, due_date, sum(m), sum(c)"
            " FROM x GROUP BY 1, 2, 3, 4, 5, 6, 7"
            " ON CONFLICT (tenant, currency, country, kind, grade, collector, due_date) DO UPDATE"
            " SET open_minor = rpt_open_due.open_minor + EXCLUDED.open_minor,"
            "  open_count = rpt_open_due.open_count + EXCLUDED.open_count", 5, q)
        || db_run(db, MOVES_CTE
            " INSERT INTO rpt_open_moves (tenant, currency, country, kind, grade, collector,"
            "  due_date, day, delta_minor, delta_count)"
            " SELECT tenant, currency, country, kind, grade, collector, due_date, day, sum(m),"
            "  sum(c) FROM x GROUP BY 1, 2, 3, 4, 5, 6, 7, 8"
            " ON CONFLICT (tenant, currency, country, kind, grade, collector, due_date, day)"
            " DO UPDATE SET delta_minor = rpt_open_moves.delta_minor + EXCLUDED.delta_minor,"
            "  delta_count = rpt_open_moves.delta_count + EXCLUDED.delta_count", 5, q)
        || db_run(db, MOVES_CTE
            " INSERT INTO rpt_daily (tenant, currency, country, kind, grade, collector, day,"
            "  transferred_minor)"
            " SELECT tenant, currency, country, kind, grade, collector, day, sum(m)"
            " FROM x GROUP BY 1, 2, 3, 4, 5, 6, 7"
            " ON CONFLICT (tenant, currency, country, kind, grade, collector, day) DO UPDATE"
            " SET transferred_minor = rpt_daily.transferred_minor + EXCLUDED.transferred_minor",
            5, q))
        return -1;
    const char *u[] = { tenant, id, g, c };
    if (db_run(db, "UPDATE rpt_invoices SET grade = $3, collector = $4"
                   " WHERE tenant = $1 AND debtor_id = $2::bigint", 4, u)
        || db_run(db, "UPDATE rpt_debtors SET grade = $3, collector = $4"
                      " WHERE tenant = $1 AND debtor_id = $2::bigint", 4, u))
        return -1;
    return 0;
}

int rpt_segments_apply(db_t *db, const Creance__Envelope *env, bool *unknown)
{
    *unknown = false;
    if (env->event_case != CREANCE__ENVELOPE__EVENT_RISK_SCORED || !env->risk_scored)
        return 0;
    const Creance__RiskScored *e = env->risk_scored;
    const char *g = e->grade;
    if (!g || strlen(g) != 1 || g[0] < 'A' || g[0] > 'Z') {
        *unknown = true;
        return 0;
    }
    bool found;
    if (rpt_segments_set(db, env->tenant, e->debtor_id, g, NULL,
                         (int32_t) (env->occurred_at_us / 86400000000LL), &found))
        return -1;
    if (found)
        return 0;
    /*  The "risk" stream can be ahead of "ledger" here: the debtor's row is
        made now with its grade, and DebtorCreated fills in the rest (its
        upsert leaves the grade alone). It has no invoice yet to move. */
    char id[24];
    snprintf(id, sizeof id, "%" PRId64, e->debtor_id);
    const char *p[] = { env->tenant, id, g };
    return db_run(db, "INSERT INTO rpt_debtors (tenant, debtor_id, grade)"
                      " VALUES ($1, $2::bigint, $3) ON CONFLICT DO NOTHING", 3, p);
}

void rpt_segments_assign(const http_request_t *req, http_response_t *res, void *arg)
{
    rpt_api_t *api = arg;
    char tenant[64];
    if (!auth_tenant(api->db, req, res, tenant))
        return;
    const char *path = http_path(req) + strlen("/api/v1/debtors/");
    char *end;
    long long id = strtoll(path, &end, 10);
    if (end == path || id <= 0 || strcmp(end, "/collector") != 0) {
        http_reply_error(res, 404, "path", "expected /api/v1/debtors/{id}/collector");
        return;
    }
    size_t len = 0;
    const char *body = http_body(req, &len);
    json_error_t jerr;
    json_t *doc = body ? json_loadb(body, len, 0, &jerr) : NULL;
    json_t *c = doc ? json_object_get(doc, "collector") : NULL;
    if (!c || !json_is_string(c) || !rpt_collector_name_ok(json_string_value(c))) {
        json_decref(doc);
        http_reply_error(res, 400, "collector",
                         "expected {\"collector\": \"name\"}: up to 63 letters, digits, . _ @ -");
        return;
    }
    char collector[64];
    snprintf(collector, sizeof collector, "%s", json_string_value(c));
    json_decref(doc);

    char ids[24], previous[64] = "";
    snprintf(ids, sizeof ids, "%lld", id);
    const char *p[] = { tenant, ids, collector };
    bool found = false;
    PGresult *r = NULL;
    if (db_begin(api->db))
        goto unavailable;
    r = db_exec(api->db, "SELECT collector FROM rpt_debtors WHERE tenant = $1"
                         " AND debtor_id = $2::bigint", 2, p);
    if (!r)
        goto rollback;
    if (PQntuples(r) == 1)
        snprintf(previous, sizeof previous, "%s", PQgetvalue(r, 0, 0));
    PQclear(r);
    if (rpt_segments_set(api->db, tenant, id, NULL, collector, date_today(), &found))
        goto rollback;
    if (!found) {
        db_rollback(api->db);
        http_reply_error(res, 404, "id", "no such debtor for this tenant");
        return;
    }
    if (db_run(api->db, "INSERT INTO rpt_collector_assignments (tenant, debtor_id, collector)"
                        " VALUES ($1, $2::bigint, $3)", 3, p)
        || db_commit(api->db))
        goto rollback;
    log_info("collector assigned tenant=%s debtor=%lld collector=%s previous=%s", tenant, id,
             collector, previous);
    http_reply_json(res, 200, json_pack("{s:s, s:I, s:s, s:s}", "tenant", tenant,
                                        "debtor_id", (json_int_t) id, "collector", collector,
                                        "previous", previous));
    return;
rollback:
    db_rollback(api->db);
unavailable:
    metric_inc(metrics_counter("creance_reporting_api_unavailable_total",
                               "API requests answered 503 because the database failed", NULL));
    http_reply_error(res, 503, "database", "unavailable");
}
