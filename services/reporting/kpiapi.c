/*  kpiapi: the KPI endpoints. Each answer is built from reporting's fact
    tables (0040_reporting_kpis.sql) with a few grouped sums; the arithmetic
    is kpi.c. See kpiapi.h and docs/openapi.yaml. */
#include "kpiapi.h"
#include "costs.h"
#include "auth.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "api.h"
#include "dates.h"
#include "forecast.h"
#include "kpi.h"
#include "log.h"
#include "metrics.h"
#include "money.h"

#define DEFAULT_PERIOD_DAYS 90
#define COUNTBACK_MONTHS 24
#define MAX_GROUPS 512

/* ------------------------------------------------------------ pure helpers */

static void csv_cell(zchunk_t *out, const json_t *v)
{
    char buf[64];
    if (!v || json_is_null(v))
        return;
    if (json_is_integer(v)) {
        snprintf(buf, sizeof buf, "%" JSON_INTEGER_FORMAT, json_integer_value(v));
        zchunk_extend(out, buf, strlen(buf));
        return;
    }
    if (json_is_true(v) || json_is_false(v)) {
        const char *s = json_is_true(v) ? "true" : "false";
        zchunk_extend(out, s, strlen(s));
        return;
    }
    const char *s = json_is_string(v) ? json_string_value(v) : "";
    bool quote = strpbrk(s, ",\"\r\n") != NULL;
    if (quote)
        zchunk_extend(out, "\"", 1);
    for (const char *p = s; *p; p++) {
        if (*p == '"')
            zchunk_extend(out, "\"", 1);
        zchunk_extend(out, p, 1);
    }
    if (quote)
        zchunk_extend(out, "\"", 1);
}

char *rpt_csv_from_rows(const json_t *rows)
{
    zchunk_t *out = zchunk_new(NULL, 1024);
    const json_t *first = json_array_get(rows, 0);
    if (first) {
        const char *key;
        json_t *v;
        bool sep = false;
        json_object_foreach((json_t *) first, key, v) {
            if (sep)
                zchunk_extend(out, ",", 1);
            json_t *k = json_string(key);
            csv_cell(out, k);
            json_decref(k);
            sep = true;
        }
        zchunk_extend(out, "\r\n", 2);
        size_t i;
        json_t *row;
        json_array_foreach(rows, i, row) {
            sep = false;
            json_object_foreach((json_t *) first, key, v) {
                if (sep)
                    zchunk_extend(out, ",", 1);
                csv_cell(out, json_object_get(row, key));
                sep = true;
            }
            zchunk_extend(out, "\r\n", 2);
        }
    }
    size_t n = zchunk_size(out);
    char *s = malloc(n + 1);
    memcpy(s, zchunk_data(out), n);
    s[n] = '\0';
    zchunk_destroy(&out);
    return s;
}

static int days_in_month(int y, int m)
{
    static const int d[] = { 31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31 };
    if (m == 2 && ((y % 4 == 0 && y % 100 != 0) || y % 400 == 0))
        return 29;
    return d[m - 1];
}

void rpt_month_back(int32_t to, int n, int32_t *first, int32_t *last, int32_t *days)
{
    int y, m, d;
    date_from_days(to, &y, &m, &d);
    int idx = y * 12 + (m - 1) - n;
    int yy = idx / 12, mm = idx % 12 + 1;
    *first = date_to_days(yy, mm, 1);
    *last = n == 0 ? to : date_to_days(yy, mm, days_in_month(yy, mm));
    *days = *last - *first + 1;
}

/* ------------------------------------------------------------ requests */

typedef struct {
    char tenant[64];
    int32_t from, to;
    char currency[4];
    const char *segment;            /* NULL, "country" or "kind" */
    const char *seg_sql;            /* SQL expression of the segment value */
    bool csv;
} params_t;

static void count_bad(void)
{
    metric_inc(metrics_counter("creance_reporting_api_bad_requests_total",
                               "API requests refused for a bad parameter", NULL));
}

static bool bad(http_response_t *res, const char *field, const char *reason)
{
    count_bad();
    http_reply_error(res, 400, field, reason);
    return false;
}

static bool path_is_csv(const http_request_t *req)
{
    const char *p = http_path(req);
    size_t n = strlen(p);
    return n > 4 && strcmp(p + n - 4, ".csv") == 0;
}

/*  Authenticates and parses the common parameters. */
static bool request_params(void *arg, const http_request_t *req, http_response_t *res,
                           params_t *p)
{
    memset(p, 0, sizeof *p);
    if (!auth_tenant(((rpt_api_t *) arg)->db, req, res, p->tenant))
        return false;
    const char *s;
    int32_t as_of = date_today();
    if ((s = http_query(req, "as_of")) && !date_parse(s, &as_of))
        return bad(res, "as_of", "expected a date YYYY-MM-DD");
    p->to = as_of;
    if ((s = http_query(req, "to")) && !date_parse(s, &p->to))
        return bad(res, "to", "expected a date YYYY-MM-DD");
    p->from = p->to - (DEFAULT_PERIOD_DAYS - 1);
    if ((s = http_query(req, "from")) && !date_parse(s, &p->from))
        return bad(res, "from", "expected a date YYYY-MM-DD");
    if (p->from > p->to)
        return bad(res, "from", "after 'to'");
    if (p->to - p->from > 3660)
        return bad(res, "from", "period longer than 10 years");
    if ((s = http_query(req, "currency"))) {
        if (!currency_known(s))
            return bad(res, "currency", "not an ISO 4217 currency code");
        snprintf(p->currency, sizeof p->currency, "%s", s);
    }
    p->seg_sql = "''";
    if ((s = http_query(req, "segment")) && *s) {
        if (strcmp(s, "country") == 0) {
            p->segment = "country";
            p->seg_sql = "country::text";
        }
        else if (strcmp(s, "kind") == 0) {
            p->segment = "kind";
            p->seg_sql = "CASE kind WHEN 1 THEN 'business' WHEN 2 THEN 'consumer' ELSE 'unknown' END";
        }
        else if (strcmp(s, "grade") == 0) {
            p->segment = "grade";
            p->seg_sql = "grade::text";
        }
        else if (strcmp(s, "collector") == 0) {
            p->segment = "collector";
            p->seg_sql = "collector";
        }
        else
            return bad(res, "segment", "expected 'country', 'kind', 'grade' or 'collector'");
    }
    s = http_query(req, "format");
    if (s && strcmp(s, "csv") != 0 && strcmp(s, "json") != 0)
        return bad(res, "format", "expected 'json' or 'csv'");
    p->csv = path_is_csv(req) || (s && strcmp(s, "csv") == 0);
    return true;
}

static bool db_failed(http_response_t *res)
{
    metric_inc(metrics_counter("creance_reporting_api_unavailable_total",
                               "API requests answered 503 because the database failed", NULL));
    http_reply_error(res, 503, "database", "unavailable");
    return false;
}

/*  Replies with `rows` as CSV, or with `body` (which gets rows under
    `key`) as JSON. Steals both. */
static void reply_rows(http_response_t *res, const params_t *p, json_t *body, const char *key,
                       json_t *rows)
{
    if (p->csv) {
        char *csv = rpt_csv_from_rows(rows);
        http_reply(res, 200, "text/csv; charset=utf-8", csv, strlen(csv));
        free(csv);
        json_decref(rows);
        json_decref(body);
        return;
    }
    json_object_set_new(body, key, rows);
    http_reply_json(res, 200, body);
}

static json_t *date_json(int32_t d)
{
    char s[11];
    date_format(d, s);
    return json_string(s);
}

static json_t *header(const params_t *p, bool period)
{
    json_t *b = json_object();
    json_object_set_new(b, "tenant", json_string(p->tenant));
    json_object_set_new(b, "as_of", date_json(p->to));
    if (period) {
        json_object_set_new(b, "from", date_json(p->from));
        json_object_set_new(b, "to", date_json(p->to));
        json_object_set_new(b, "period_days", json_integer(p->to - p->from + 1));
    }
    json_object_set_new(b, "segment", p->segment ? json_string(p->segment) : json_null());
    return b;
}

static int64_t col(PGresult *r, int row, int c)
{
    return PQgetisnull(r, row, c) ? 0 : strtoll(PQgetvalue(r, row, c), NULL, 10);
}

static json_t *opt(bool ok, int64_t v)
{
    return ok ? json_integer(v) : json_null();
}

/* ------------------------------------------------------------ groups */

typedef struct {
    char currency[4];
    char seg[64];
    int64_t sales, closing, opening, collected, payments, fell_due, collected_by_due;
    int64_t paid_count, days_to_pay, days_late, written_off;
    int64_t disputes_open, disputes_open_minor, disputes_resolved, resolution_days;
    int64_t invoice_count, fell_due_count;
    int64_t aging[RPT_AGE_BUCKETS], aging_count[RPT_AGE_BUCKETS];
    int64_t unpaid;
    int64_t month_sales[COUNTBACK_MONTHS];
    /*  0041: plans, promises, reminders (collect.h). */
    int64_t inst_paid, inst_missed, inst_paid_minor, inst_missed_minor;
    int64_t plans_completed, plans_defaulted;
    int64_t prom_kept, prom_broken, prom_kept_minor, prom_broken_minor;
    int64_t rem_sent, rem_invoices, rem_paid_short, rem_paid_long, rem_cost, rem_debtors;
} group_t;

typedef struct {
    int n;
    group_t g[MAX_GROUPS];
} groups_t;

static group_t *group(groups_t *gs, const char *currency, const char *seg)
{
    for (int i = 0; i < gs->n; i++)
        if (strcmp(gs->g[i].currency, currency) == 0 && strcmp(gs->g[i].seg, seg) == 0)
            return &gs->g[i];
    if (gs->n == MAX_GROUPS)
        return NULL;
    group_t *g = &gs->g[gs->n++];
    memset(g, 0, sizeof *g);
    snprintf(g->currency, sizeof g->currency, "%s", currency);
    snprintf(g->seg, sizeof g->seg, "%s", seg);
    return g;
}

static int group_cmp(const void *a, const void *b)
{
    const group_t *x = a, *y = b;
    int c = strcmp(x->currency, y->currency);
    return c ? c : strcmp(x->seg, y->seg);
}

/*  Aging (and unpaid of the period) as of p->to: the open items by due
    date, minus the moves dated after p->to. */
static int load_aging(db_t *db, const params_t *p, groups_t *gs)
{
    char sql[2048];
    snprintf(sql, sizeof sql,
        "SELECT currency, seg,"
        " CASE WHEN $2::date - due_date <= 0 THEN 0 WHEN $2::date - due_date <= 30 THEN 1"
        "  WHEN $2::date - due_date <= 60 THEN 2 WHEN $2::date - due_date <= 90 THEN 3"
        "  WHEN $2::date - due_date <= 180 THEN 4 ELSE 5 END,"
        " (due_date BETWEEN $4::date AND $2::date), sum(m), sum(c), sum(k)"
        " FROM (SELECT currency, %s AS seg, due_date, open_minor AS m, open_count AS c,"
        "        collected_minor AS k"
        "        FROM rpt_open_due WHERE tenant = $1 AND ($3 = '' OR currency = $3)"
        "       UNION ALL"
        "       SELECT currency, %s, due_date, -delta_minor, -delta_count, -delta_collected_minor"
        "        FROM rpt_open_moves WHERE tenant = $1 AND ($3 = '' OR currency = $3)"
        "        AND day > $2::date) x"
        " GROUP BY 1, 2, 3, 4", p->seg_sql, p->seg_sql);
    char to[11], from[11];
    date_format(p->to, to);
    date_format(p->from, from);
    const char *params[] = { p->tenant, to, p->currency, from };
    PGresult *r = db_exec(db, sql, 4, params);
    if (!r)
        return -1;
    for (int i = 0; i < PQntuples(r); i++) {
        group_t *g = group(gs, PQgetvalue(r, i, 0), PQgetvalue(r, i, 1));
        if (!g)
            continue;
        int b = atoi(PQgetvalue(r, i, 2));
        int64_t m = col(r, i, 4);
        g->aging[b] += m;
        g->aging_count[b] += col(r, i, 5);
        if (PQgetvalue(r, i, 3)[0] == 't') {
            g->unpaid += m;
            g->collected_by_due += col(r, i, 6);
        }
    }
    PQclear(r);
    return 0;
}

static int load_daily(db_t *db, const params_t *p, groups_t *gs)
{
    char sql[3072];
    snprintf(sql, sizeof sql,
        "SELECT currency, %s,"
        " sum(invoiced_minor) FILTER (WHERE day >= $2::date),"
        " sum(invoiced_minor - settled_minor + transferred_minor),"
        " sum(invoiced_minor - settled_minor + transferred_minor) FILTER (WHERE day < $2::date),"
        " sum(collected_minor) FILTER (WHERE day >= $2::date),"
        " sum(payments_minor) FILTER (WHERE day >= $2::date),"
        " sum(fell_due_minor) FILTER (WHERE day >= $2::date),"
        " sum(paid_count) FILTER (WHERE day >= $2::date),"
        " sum(days_to_pay_sum) FILTER (WHERE day >= $2::date),"
        " sum(days_late_sum) FILTER (WHERE day >= $2::date),"
        " sum(written_off_minor) FILTER (WHERE day >= $2::date),"
        " sum(disputes_opened - disputes_resolved),"
        " sum(disputes_opened_minor - disputes_resolved_minor),"
        " sum(disputes_resolved) FILTER (WHERE day >= $2::date),"
        " sum(resolution_days_sum) FILTER (WHERE day >= $2::date),"
        " sum(invoice_count) FILTER (WHERE day >= $2::date),"
        " sum(fell_due_count) FILTER (WHERE day >= $2::date),"
        " sum(instalments_paid) FILTER (WHERE day >= $2::date),"
        " sum(instalments_missed) FILTER (WHERE day >= $2::date),"
        " sum(instalments_paid_minor) FILTER (WHERE day >= $2::date),"
        " sum(instalments_missed_minor) FILTER (WHERE day >= $2::date),"
        " sum(plans_completed) FILTER (WHERE day >= $2::date),"
        " sum(plans_defaulted) FILTER (WHERE day >= $2::date),"
        " sum(promises_kept) FILTER (WHERE day >= $2::date),"
        " sum(promises_broken) FILTER (WHERE day >= $2::date),"
        " sum(promises_kept_minor) FILTER (WHERE day >= $2::date),"
        " sum(promises_broken_minor) FILTER (WHERE day >= $2::date)"
        " FROM rpt_daily WHERE tenant = $1 AND ($4 = '' OR currency = $4) AND day <= $3::date"
        " GROUP BY 1, 2", p->seg_sql);
    char from[11], to[11];
    date_format(p->from, from);
    date_format(p->to, to);
    const char *params[] = { p->tenant, from, to, p->currency };
    PGresult *r = db_exec(db, sql, 4, params);
    if (!r)
        return -1;
    for (int i = 0; i < PQntuples(r); i++) {
        group_t *g = group(gs, PQgetvalue(r, i, 0), PQgetvalue(r, i, 1));
        if (!g)
            continue;
        int c = 2;
        g->sales = col(r, i, c++);
        g->closing = col(r, i, c++);
        g->opening = col(r, i, c++);
        g->collected = col(r, i, c++);
        g->payments = col(r, i, c++);
        g->fell_due = col(r, i, c++);
        g->paid_count = col(r, i, c++);
        g->days_to_pay = col(r, i, c++);
        g->days_late = col(r, i, c++);
        g->written_off = col(r, i, c++);
        g->disputes_open = col(r, i, c++);
        g->disputes_open_minor = col(r, i, c++);
        g->disputes_resolved = col(r, i, c++);
        g->resolution_days = col(r, i, c++);
        g->invoice_count = col(r, i, c++);
        g->fell_due_count = col(r, i, c++);
        g->inst_paid = col(r, i, c++);
        g->inst_missed = col(r, i, c++);
        g->inst_paid_minor = col(r, i, c++);
        g->inst_missed_minor = col(r, i, c++);
        g->plans_completed = col(r, i, c++);
        g->plans_defaulted = col(r, i, c++);
        g->prom_kept = col(r, i, c++);
        g->prom_broken = col(r, i, c++);
        g->prom_kept_minor = col(r, i, c++);
        g->prom_broken_minor = col(r, i, c++);
    }
    PQclear(r);
    return 0;
}

/*  Reminders sent in the period (by sent day), the invoices they named, how
    many of those were paid within 7 / 14 days, what the actions cost, and
    the distinct debtors contacted. */
static int load_reminders(db_t *db, const params_t *p, groups_t *gs)
{
    char sql[2048];
    snprintf(sql, sizeof sql,
        "WITH c AS (" RPT_CHANNEL_COSTS_SQL "),"
        " s AS (SELECT currency, %s AS seg, channel, sum(sent) AS sent,"
        "  sum(reminded_invoices) AS n, sum(paid_7d) AS p7, sum(paid_14d) AS p14"
        "  FROM rpt_reminder_daily WHERE tenant = $1 AND ($4 = '' OR currency = $4)"
        "  AND day BETWEEN $2::date AND $3::date GROUP BY 1, 2, 3)"
        " SELECT currency, seg, sum(sent), sum(n), sum(p7), sum(p14),"
        "  sum(sent * coalesce(c.cost_minor, 0))"
        " FROM s LEFT JOIN c USING (channel) GROUP BY 1, 2", p->seg_sql);
    char from[11], to[11];
    date_format(p->from, from);
    date_format(p->to, to);
    const char *params[] = { p->tenant, from, to, p->currency };
    PGresult *r = db_exec(db, sql, 4, params);
    if (!r)
        return -1;
    for (int i = 0; i < PQntuples(r); i++) {
        group_t *g = group(gs, PQgetvalue(r, i, 0), PQgetvalue(r, i, 1));
        if (!g)
            continue;
        g->rem_sent = col(r, i, 2);
        g->rem_invoices = col(r, i, 3);
        g->rem_paid_short = col(r, i, 4);
        g->rem_paid_long = col(r, i, 5);
        g->rem_cost = col(r, i, 6);
    }
    PQclear(r);
    snprintf(sql, sizeof sql,
        /*  DISTINCT in a subquery rather than count(DISTINCT): PostgreSQL
            sorts for the latter and hashes for the former, 2.5x faster on
            25k reminders; both read only the index of 0110. */
        "SELECT currency, seg, count(*) FROM (SELECT DISTINCT currency, %s AS seg, debtor_id"
        " FROM rpt_reminders WHERE tenant = $1 AND sent_date BETWEEN $2::date AND $3::date"
        " AND currency IS NOT NULL AND ($4 = '' OR currency = $4)) x GROUP BY 1, 2",
        p->seg_sql);
    r = db_exec(db, sql, 4, params);
    if (!r)
        return -1;
    for (int i = 0; i < PQntuples(r); i++) {
        group_t *g = group(gs, PQgetvalue(r, i, 0), PQgetvalue(r, i, 1));
        if (g)
            g->rem_debtors = col(r, i, 2);
    }
    PQclear(r);
    return 0;
}

/*  Sales per calendar month back from p->to, for count-back DSO. */
static int load_months(db_t *db, const params_t *p, groups_t *gs)
{
    int32_t first, last, days;
    rpt_month_back(p->to, COUNTBACK_MONTHS - 1, &first, &last, &days);
    char sql[1024];
    snprintf(sql, sizeof sql,
        "SELECT currency, %s,"
        " (extract(year FROM $2::date) * 12 + extract(month FROM $2::date))::int"
        "  - (extract(year FROM day) * 12 + extract(month FROM day))::int,"
        " sum(invoiced_minor)"
        " FROM rpt_daily WHERE tenant = $1 AND ($4 = '' OR currency = $4)"
        " AND day BETWEEN $3::date AND $2::date GROUP BY 1, 2, 3", p->seg_sql);
    char to[11], f[11];
    date_format(p->to, to);
    date_format(first, f);
    const char *params[] = { p->tenant, to, f, p->currency };
    PGresult *r = db_exec(db, sql, 4, params);
    if (!r)
        return -1;
    for (int i = 0; i < PQntuples(r); i++) {
        group_t *g = group(gs, PQgetvalue(r, i, 0), PQgetvalue(r, i, 1));
        int k = atoi(PQgetvalue(r, i, 2));
        if (g && k >= 0 && k < COUNTBACK_MONTHS)
            g->month_sales[k] += col(r, i, 3);
    }
    PQclear(r);
    return 0;
}

static json_t *kpi_row(const params_t *p, const group_t *g)
{
    json_t *o = json_object();
    int32_t days = p->to - p->from + 1;
    int64_t v, outstanding = 0;
    bool ok;
    for (int b = 0; b < RPT_AGE_BUCKETS; b++)
        outstanding += g->aging[b];
    int64_t current = g->aging[RPT_AGE_NOT_DUE];
    json_object_set_new(o, "currency", json_string(g->currency));
    if (p->segment)
        json_object_set_new(o, "segment", json_string(g->seg));
    json_object_set_new(o, "outstanding_minor", json_integer(outstanding));
    json_object_set_new(o, "overdue_minor", json_integer(outstanding - current));
    for (int b = 0; b < RPT_AGE_BUCKETS; b++) {
        char key[48];
        snprintf(key, sizeof key, "aging_%s_minor", rpt_age_bucket_names[b]);
        json_object_set_new(o, key, json_integer(g->aging[b]));
    }
    json_object_set_new(o, "opening_receivables_minor", json_integer(g->opening));
    json_object_set_new(o, "sales_minor", json_integer(g->sales));
    json_object_set_new(o, "invoices_issued", json_integer(g->invoice_count));

    ok = rpt_dso_simple_x10(outstanding, g->sales, days, &v);
    json_object_set_new(o, "dso_simple_days_x10", opt(ok, v));
    int64_t best;
    bool best_ok = rpt_dso_simple_x10(current, g->sales, days, &best);
    json_object_set_new(o, "best_dso_days_x10", opt(best_ok, best));
    json_object_set_new(o, "add_days_x10", opt(ok && best_ok, v - best));

    int32_t mdays[COUNTBACK_MONTHS];
    for (int k = 0; k < COUNTBACK_MONTHS; k++) {
        int32_t f, l;
        rpt_month_back(p->to, k, &f, &l, &mdays[k]);
    }
    bool exhausted;
    ok = rpt_dso_countback_x10(outstanding, g->month_sales, mdays, COUNTBACK_MONTHS, &v,
                               &exhausted);
    json_object_set_new(o, "dso_countback_days_x10", opt(ok, v));

    ok = rpt_cei_bp(g->opening, g->sales, outstanding, current, &v);
    json_object_set_new(o, "cei_bp", opt(ok, v));
    ok = rpt_turnover_x100(g->sales, g->opening, outstanding, &v);
    json_object_set_new(o, "receivables_turnover_x100", opt(ok, v));

    json_object_set_new(o, "collected_minor", json_integer(g->collected));
    json_object_set_new(o, "payments_received_minor", json_integer(g->payments));
    json_object_set_new(o, "fell_due_minor", json_integer(g->fell_due));
    json_object_set_new(o, "collected_on_fell_due_minor", json_integer(g->collected_by_due));
    json_object_set_new(o, "unpaid_of_fell_due_minor", json_integer(g->unpaid));
    ok = rpt_ratio(g->collected_by_due, g->fell_due, 10000, &v);
    json_object_set_new(o, "recovery_rate_bp", opt(ok, v));
    ok = rpt_ratio(g->unpaid, g->fell_due, 10000, &v);
    json_object_set_new(o, "unpaid_rate_bp", opt(ok, v));

    json_object_set_new(o, "paid_invoices", json_integer(g->paid_count));
    ok = rpt_ratio(g->days_to_pay, g->paid_count, 10, &v);
    json_object_set_new(o, "avg_days_to_pay_x10", opt(ok, v));
    ok = rpt_ratio(g->days_late, g->paid_count, 10, &v);
    json_object_set_new(o, "avg_days_late_x10", opt(ok, v));
    json_object_set_new(o, "written_off_minor", json_integer(g->written_off));

    json_object_set_new(o, "disputes_open_count", json_integer(g->disputes_open));
    json_object_set_new(o, "disputes_open_minor", json_integer(g->disputes_open_minor));
    json_object_set_new(o, "disputes_resolved_count", json_integer(g->disputes_resolved));
    ok = rpt_ratio(g->resolution_days, g->disputes_resolved, 10, &v);
    json_object_set_new(o, "avg_dispute_resolution_days_x10", opt(ok, v));

    json_object_set_new(o, "instalments_paid_on_time", json_integer(g->inst_paid));
    json_object_set_new(o, "instalments_missed", json_integer(g->inst_missed));
    json_object_set_new(o, "instalments_paid_on_time_minor", json_integer(g->inst_paid_minor));
    json_object_set_new(o, "instalments_missed_minor", json_integer(g->inst_missed_minor));
    ok = rpt_ratio(g->inst_paid, g->inst_paid + g->inst_missed, 10000, &v);
    json_object_set_new(o, "plan_adherence_bp", opt(ok, v));
    json_object_set_new(o, "plans_completed", json_integer(g->plans_completed));
    json_object_set_new(o, "plans_defaulted", json_integer(g->plans_defaulted));
    ok = rpt_ratio(g->plans_completed, g->plans_completed + g->plans_defaulted, 10000, &v);
    json_object_set_new(o, "plan_completion_rate_bp", opt(ok, v));

    json_object_set_new(o, "promises_kept", json_integer(g->prom_kept));
    json_object_set_new(o, "promises_broken", json_integer(g->prom_broken));
    json_object_set_new(o, "promises_kept_minor", json_integer(g->prom_kept_minor));
    json_object_set_new(o, "promises_broken_minor", json_integer(g->prom_broken_minor));
    ok = rpt_ratio(g->prom_kept, g->prom_kept + g->prom_broken, 10000, &v);
    json_object_set_new(o, "promise_kept_rate_bp", opt(ok, v));
    ok = rpt_ratio(g->prom_kept_minor, g->prom_kept_minor + g->prom_broken_minor, 10000, &v);
    json_object_set_new(o, "promise_kept_amount_rate_bp", opt(ok, v));

    json_object_set_new(o, "reminders_sent", json_integer(g->rem_sent));
    json_object_set_new(o, "debtors_contacted", json_integer(g->rem_debtors));
    ok = rpt_ratio(g->rem_sent, g->rem_debtors, 100, &v);
    json_object_set_new(o, "contacts_per_debtor_x100", opt(ok, v));
    json_object_set_new(o, "reminded_invoices", json_integer(g->rem_invoices));
    json_object_set_new(o, "reminded_paid_7d", json_integer(g->rem_paid_short));
    json_object_set_new(o, "reminded_paid_14d", json_integer(g->rem_paid_long));
    ok = rpt_ratio(g->rem_paid_short, g->rem_invoices, 10000, &v);
    json_object_set_new(o, "reminder_paid_7d_rate_bp", opt(ok, v));
    ok = rpt_ratio(g->rem_paid_long, g->rem_invoices, 10000, &v);
    json_object_set_new(o, "reminder_paid_14d_rate_bp", opt(ok, v));
    json_object_set_new(o, "collection_cost_minor", json_integer(g->rem_cost));
    ok = rpt_ratio(g->rem_cost, g->collected, 10000, &v);
    json_object_set_new(o, "cost_of_collection_bp", opt(ok, v));
    return o;
}

static void observe(const char *endpoint, int64_t start)
{
    char labels[64];
    snprintf(labels, sizeof labels, "endpoint=\"%s\"", endpoint);
    metric_observe(metrics_histogram("creance_reporting_api_seconds",
                                     "Time to answer a KPI API request", labels),
                   (double) (now_us() - start) / 1e6);
}

void rpt_kpiapi_kpis(const http_request_t *req, http_response_t *res, void *arg)
{
    rpt_api_t *api = arg;
    int64_t start = now_us();
    params_t p;
    if (!request_params(arg, req, res, &p))
        return;
    groups_t *gs = calloc(1, sizeof *gs);
    if (!gs) {
        http_reply_error(res, 500, "memory", "exhausted");
        return;
    }
    if (load_daily(api->db, &p, gs) || load_aging(api->db, &p, gs)
        || load_months(api->db, &p, gs) || load_reminders(api->db, &p, gs)) {
        free(gs);
        db_failed(res);
        return;
    }
    qsort(gs->g, (size_t) gs->n, sizeof gs->g[0], group_cmp);
    json_t *rows = json_array();
    for (int i = 0; i < gs->n; i++)
        json_array_append_new(rows, kpi_row(&p, &gs->g[i]));
    free(gs);
    reply_rows(res, &p, header(&p, true), "kpis", rows);
    observe("kpis", start);
}

void rpt_kpiapi_aging(const http_request_t *req, http_response_t *res, void *arg)
{
    rpt_api_t *api = arg;
    int64_t start = now_us();
    params_t p;
    if (!request_params(arg, req, res, &p))
        return;
    groups_t *gs = calloc(1, sizeof *gs);
    if (!gs) {
        http_reply_error(res, 500, "memory", "exhausted");
        return;
    }
    if (load_aging(api->db, &p, gs)) {
        free(gs);
        db_failed(res);
        return;
    }
    qsort(gs->g, (size_t) gs->n, sizeof gs->g[0], group_cmp);
    json_t *rows = json_array();
    for (int i = 0; i < gs->n; i++) {
        const group_t *g = &gs->g[i];
        for (int b = 0; b < RPT_AGE_BUCKETS; b++) {
            json_t *o = json_object();
            json_object_set_new(o, "currency", json_string(g->currency));
            if (p.segment)
                json_object_set_new(o, "segment", json_string(g->seg));
            json_object_set_new(o, "bucket", json_string(rpt_age_bucket_names[b]));
            json_object_set_new(o, "open_minor", json_integer(g->aging[b]));
            json_object_set_new(o, "open_count", json_integer(g->aging_count[b]));
            json_array_append_new(rows, o);
        }
    }
    free(gs);
    reply_rows(res, &p, header(&p, false), "buckets", rows);
    observe("aging", start);
}

void rpt_kpiapi_dso(const http_request_t *req, http_response_t *res, void *arg)
{
    rpt_api_t *api = arg;
    int64_t start = now_us();
    params_t p;
    if (!request_params(arg, req, res, &p))
        return;
    long months = 12;
    if (!http_query_long(req, res, "months", 1, 36, &months)) {
        count_bad();
        return;
    }
    int32_t first, last, days;
    rpt_month_back(p.to, (int) months - 1, &first, &last, &days);
    char f[11], to[11], n[8];
    date_format(first, f);
    date_format(p.to, to);
    snprintf(n, sizeof n, "%ld", months);
    /*  Month index k back from `to`; everything older lands in k = months,
        which only feeds the receivables carried into the oldest month. */
    const char *params[] = { p.tenant, to, f, p.currency, n };
    PGresult *r = db_exec(api->db,
        "SELECT currency, CASE WHEN day < $3::date THEN $5::int ELSE"
        " (extract(year FROM $2::date) * 12 + extract(month FROM $2::date))::int"
        "  - (extract(year FROM day) * 12 + extract(month FROM day))::int END AS k,"
        " sum(invoiced_minor), sum(invoiced_minor - settled_minor + transferred_minor)"
        " FROM rpt_daily WHERE tenant = $1 AND ($4 = '' OR currency = $4) AND day <= $2::date"
        " GROUP BY 1, 2 ORDER BY 1, 2", 5, params);
    if (!r) {
        db_failed(res);
        return;
    }
    json_t *rows = json_array();
    int i = 0, nrows = PQntuples(r);
    while (i < nrows) {
        char currency[4];
        snprintf(currency, sizeof currency, "%s", PQgetvalue(r, i, 0));
        int64_t sales[37] = { 0 }, net[37] = { 0 };
        for (; i < nrows && strcmp(PQgetvalue(r, i, 0), currency) == 0; i++) {
            int k = atoi(PQgetvalue(r, i, 1));
            if (k >= 0 && k <= months) {
                sales[k] = col(r, i, 2);
                net[k] = col(r, i, 3);
            }
        }
        int64_t receivables = net[months];
        for (int k = (int) months - 1; k >= 0; k--) {
            receivables += net[k];
            int32_t mf, ml, md;
            rpt_month_back(p.to, k, &mf, &ml, &md);
            int y, m, d;
            date_from_days(mf, &y, &m, &d);
            char month[8];
            snprintf(month, sizeof month, "%04d-%02d", y, m);
            json_t *o = json_object();
            json_object_set_new(o, "currency", json_string(currency));
            json_object_set_new(o, "month", json_string(month));
            json_object_set_new(o, "period_end", date_json(ml));
            json_object_set_new(o, "days", json_integer(md));
            json_object_set_new(o, "sales_minor", json_integer(sales[k]));
            json_object_set_new(o, "receivables_minor", json_integer(receivables));
            int64_t v;
            bool ok = rpt_dso_simple_x10(receivables, sales[k], md, &v);
            json_object_set_new(o, "dso_simple_days_x10", opt(ok, v));
            json_array_append_new(rows, o);
        }
    }
    PQclear(r);
    json_t *body = header(&p, false);
    json_object_set_new(body, "months", json_integer(months));
    reply_rows(res, &p, body, "trend", rows);
    observe("dso", start);
}

static json_t *field_json(PGresult *r, int row, int c, bool integer)
{
    if (PQgetisnull(r, row, c))
        return json_null();
    return integer ? json_integer(strtoll(PQgetvalue(r, row, c), NULL, 10))
                   : json_string(PQgetvalue(r, row, c));
}

/*  Result rows as JSON objects; a column name ending in "_minor", "_id",
    "_count", "kind", "days_past_due" or "score" is an integer. */
static json_t *rows_json(PGresult *r)
{
    json_t *rows = json_array();
    for (int i = 0; i < PQntuples(r); i++) {
        json_t *o = json_object();
        for (int c = 0; c < PQnfields(r); c++) {
            const char *name = PQfname(r, c);
            size_t n = strlen(name);
            bool integer = (n > 6 && strcmp(name + n - 6, "_minor") == 0)
                        /* Créance's ids are numbers; the sender's
                           external_id is text ("D1" is no integer). */
                        || (n > 3 && strcmp(name + n - 3, "_id") == 0
                            && strcmp(name, "external_id") != 0)
                        || (n > 6 && strcmp(name + n - 6, "_count") == 0)
                        || strcmp(name, "kind") == 0 || strcmp(name, "days_past_due") == 0
                        || strcmp(name, "open_invoices") == 0;
            json_object_set_new(o, name, field_json(r, i, c, integer));
        }
        json_array_append_new(rows, o);
    }
    return rows;
}

void rpt_kpiapi_debtor(const http_request_t *req, http_response_t *res, void *arg)
{
    rpt_api_t *api = arg;
    int64_t start = now_us();
    params_t p;
    if (!request_params(arg, req, res, &p))
        return;
    const char *path = http_path(req) + strlen("/api/v1/debtors/");
    char *end;
    long long id = strtoll(path, &end, 10);
    if (end == path || id <= 0 || (*end && strcmp(end, ".csv") != 0)) {
        bad(res, "id", "expected a debtor id (positive integer)");
        return;
    }
    char ids[24], to[11];
    snprintf(ids, sizeof ids, "%lld", id);
    date_format(p.to, to);
    const char *params[] = { p.tenant, ids, to };
    PGresult *d = db_exec(api->db,
        "SELECT debtor_id, external_id, legal_name, country, kind FROM rpt_debtors"
        " WHERE tenant = $1 AND debtor_id = $2::bigint", 2, params);
    if (!d) {
        db_failed(res);
        return;
    }
    if (PQntuples(d) != 1) {
        PQclear(d);
        http_reply_error(res, 404, "id", "no such debtor for this tenant");
        return;
    }
    PGresult *inv = db_exec(api->db,
        "SELECT invoice_id, number, currency, issue_date::text, due_date::text, amount_minor,"
        " open_minor, disputed_minor, paid_date::text,"
        " CASE WHEN open_minor > 0 THEN greatest($3::date - due_date, 0) END AS days_past_due"
        " FROM rpt_invoices WHERE tenant = $1 AND debtor_id = $2::bigint"
        " ORDER BY due_date, invoice_id", 3, params);
    PGresult *risk = inv ? db_exec(api->db,
        "SELECT currency, outstanding_minor, open_invoices FROM risk_debtor_state"
        " WHERE tenant = $1 AND debtor_id = $2::bigint ORDER BY currency", 2, params) : NULL;
    if (!inv || !risk) {
        PQclear(d);
        PQclear(inv);
        db_failed(res);
        return;
    }
    /*  The score and its factors, when risk keeps them (risk_debtor_profile,
        migration 0020; absent on a database without it). */
    json_t *score = json_null();
    PGresult *sc = db_exec(api->db,
        "SELECT to_regclass('risk_debtor_profile') IS NOT NULL", 0, NULL);
    bool has_profile = sc && PQntuples(sc) == 1 && PQgetvalue(sc, 0, 0)[0] == 't';
    PQclear(sc);
    if (has_profile) {
        sc = db_exec(api->db,
            "SELECT score, grade, coalesce((snapshot::jsonb -> 'factors')::text, '[]') FROM risk_debtor_profile"
            " WHERE tenant = $1 AND debtor_id = $2::bigint AND score IS NOT NULL", 2, params);
        if (sc && PQntuples(sc) == 1) {
            json_decref(score);
            score = json_object();
            json_object_set_new(score, "score", json_integer(atoi(PQgetvalue(sc, 0, 0))));
            json_object_set_new(score, "grade", json_string(PQgetvalue(sc, 0, 1)));
            json_t *factors = json_loads(PQgetvalue(sc, 0, 2), 0, NULL);
            json_object_set_new(score, "factors", factors ? factors : json_array());
        }
        PQclear(sc);
    }
    json_t *invoices = rows_json(inv);
    json_t *body = header(&p, false);
    json_t *drows = rows_json(d);
    json_t *debtor = json_array_get(drows, 0);
    json_incref(debtor);
    json_decref(drows);
    json_object_set_new(body, "debtor", debtor);
    json_object_set_new(body, "risk", rows_json(risk));
    json_object_set_new(body, "score", score);
    PQclear(d);
    PQclear(inv);
    PQclear(risk);
    reply_rows(res, &p, body, "invoices", invoices);
    observe("debtor", start);
}

void rpt_kpiapi_riskiest(const http_request_t *req, http_response_t *res, void *arg)
{
    rpt_api_t *api = arg;
    int64_t start = now_us();
    params_t p;
    if (!request_params(arg, req, res, &p))
        return;
    long limit = 20;
    if (!http_query_long(req, res, "limit", 1, 200, &limit)) {
        count_bad();
        return;
    }
    char to[11], lim[8];
    date_format(p.to, to);
    snprintf(lim, sizeof lim, "%ld", limit);
    /*  Candidates: debtors by open amount, largest first (rpt_debtor_open,
        0043_reporting_worklist.sql), in growing batches. Overdue <= open:
        once the last kept line's overdue exceeds the open amount of the
        last candidate, no debtor left can enter the list. Past
        RISKIEST_MAX_CANDIDATES, every debtor is examined. */
    enum { RISKIEST_FIRST_BATCH = 64, RISKIEST_MAX_CANDIDATES = 20000 };
    zchunk_t *ids = zchunk_new("{", 1);
    long offset = 0, batch = RISKIEST_FIRST_BATCH;
    PGresult *r = NULL;
    for (;;) {
        char off[24], bat[24];
        snprintf(off, sizeof off, "%ld", offset);
        snprintf(bat, sizeof bat, "%ld", batch);
        const char *cp[] = { p.tenant, p.currency, bat, off };
        PGresult *c = db_exec(api->db,
            "SELECT debtor_id, open_minor FROM rpt_debtor_open"
            " WHERE tenant = $1 AND open_minor > 0 AND ($2 = '' OR currency = $2)"
            " ORDER BY open_minor DESC, debtor_id LIMIT $3::int OFFSET $4::int", 4, cp);
        if (!c)
            break;
        int n = PQntuples(c);
        int64_t last_open = n ? col(c, n - 1, 1) : 0;
        for (int i = 0; i < n; i++) {
            if (zchunk_size(ids) > 1)
                zchunk_extend(ids, ",", 1);
            zchunk_extend(ids, PQgetvalue(c, i, 0), strlen(PQgetvalue(c, i, 0)));
        }
        PQclear(c);
        bool all = n < batch || offset + n >= RISKIEST_MAX_CANDIDATES;
        size_t len = zchunk_size(ids);
        char *list = malloc(len + 2);
        if (!list)
            break;
        memcpy(list, zchunk_data(ids), len);
        memcpy(list + len, "}", 2);
        const char *params[] = { p.tenant, to, p.currency, lim, all ? "" : list };
        r = db_exec(api->db,
            "SELECT i.debtor_id, d.legal_name, d.country, i.currency,"
            " sum(i.open_minor) AS overdue_minor, count(*) AS overdue_count,"
            " max($2::date - i.due_date) AS days_past_due"
            " FROM rpt_invoices i LEFT JOIN rpt_debtors d"
            "  ON d.tenant = i.tenant AND d.debtor_id = i.debtor_id"
            " WHERE i.tenant = $1 AND i.open_minor > 0 AND i.due_date < $2::date"
            "  AND ($3 = '' OR i.currency = $3)"
            "  AND ($5 = '' OR i.debtor_id = ANY ($5::bigint[]))"
            " GROUP BY i.debtor_id, d.legal_name, d.country, i.currency"
            " ORDER BY overdue_minor DESC, i.debtor_id LIMIT $4::int", 5, params);
        free(list);
        if (!r || all)
            break;
        int got = PQntuples(r);
        if (got == limit && col(r, got - 1, 4) > last_open)
            break;
        PQclear(r);
        r = NULL;
        offset += n;
        batch *= 4;
    }
    zchunk_destroy(&ids);
    if (!r) {
        db_failed(res);
        return;
    }
    json_t *rows = rows_json(r);
    PQclear(r);
    reply_rows(res, &p, header(&p, false), "debtors", rows);
    observe("riskiest", start);
}

/*  The 13-week cash-in forecast: what risk expects each open invoice to
    bring, by the week of its expected payment date (risk_predictions,
    written by risk; a database without that table answers no weeks). */
void rpt_kpiapi_forecast(const http_request_t *req, http_response_t *res, void *arg)
{
    rpt_api_t *api = arg;
    int64_t start = now_us();
    params_t p;
    if (!request_params(arg, req, res, &p))
        return;
    PGresult *r = db_exec(api->db, "SELECT to_regclass('risk_predictions') IS NOT NULL", 0, NULL);
    if (!r) {
        db_failed(res);
        return;
    }
    bool available = PQntuples(r) == 1 && PQgetvalue(r, 0, 0)[0] == 't';
    PQclear(r);
    json_t *rows = json_array();
    if (available) {
        char to[11];
        date_format(p.to, to);
        const char *params[] = { p.tenant, to, p.currency };
        /*  Week 1 starts on as_of; a date before it (a prediction made
            earlier) counts in week 1; beyond week 13 in week 14, "later". */
        r = db_exec(api->db,
            "SELECT currency, least(greatest((expected_pay_date - $2::date) / 7 + 1, 1), 14) AS w,"
            " sum(open_minor), count(*)"
            " FROM risk_predictions WHERE tenant = $1 AND ($3 = '' OR currency = $3)"
            " GROUP BY 1, 2 ORDER BY 1, 2", 3, params);
        if (!r) {
            json_decref(rows);
            db_failed(res);
            return;
        }
        int i = 0, n = PQntuples(r);
        while (i < n) {
            char currency[4];
            snprintf(currency, sizeof currency, "%s", PQgetvalue(r, i, 0));
            int64_t amount[15] = { 0 }, count[15] = { 0 };
            for (; i < n && strcmp(PQgetvalue(r, i, 0), currency) == 0; i++) {
                int w = atoi(PQgetvalue(r, i, 1));
                if (w >= 1 && w <= 14) {
                    amount[w] = col(r, i, 2);
                    count[w] = col(r, i, 3);
                }
            }
            for (int w = 1; w <= 14; w++) {
                json_t *o = json_object();
                json_object_set_new(o, "currency", json_string(currency));
                json_object_set_new(o, "week", w <= 13 ? json_integer(w) : json_null());
                json_object_set_new(o, "week_start", date_json(p.to + 7 * (w - 1)));
                json_object_set_new(o, "week_end", w <= 13 ? date_json(p.to + 7 * w - 1) : json_null());
                json_object_set_new(o, "expected_minor", json_integer(amount[w]));
                json_object_set_new(o, "invoices", json_integer(count[w]));
                json_array_append_new(rows, o);
            }
        }
        PQclear(r);
    }
    json_t *body = header(&p, false);
    json_object_set_new(body, "available", json_boolean(available));
    reply_rows(res, &p, body, "weeks", rows);
    observe("forecast", start);
}

/*  Reminder effectiveness over the period (reminders by the day they were
    sent): one line per currency and level, then one per currency and
    channel. Paid within 7 / 14 days: see collect.h. */
void rpt_kpiapi_reminders(const http_request_t *req, http_response_t *res, void *arg)
{
    rpt_api_t *api = arg;
    int64_t start = now_us();
    params_t p;
    if (!request_params(arg, req, res, &p))
        return;
    char from[11], to[11];
    date_format(p.from, from);
    date_format(p.to, to);
    const char *params[] = { p.tenant, from, to, p.currency };
    /*  by = 0: per level, 1: per channel (GROUPING SETS reads the rows once). */
    PGresult *r = db_exec(api->db,
        "WITH c AS (" RPT_CHANNEL_COSTS_SQL "),"
        " s AS (SELECT currency, level, channel, sum(sent) AS sent,"
        "  sum(reminded_invoices) AS n, sum(paid_7d) AS p7, sum(paid_14d) AS p14"
        "  FROM rpt_reminder_daily WHERE tenant = $1 AND ($4 = '' OR currency = $4)"
        "  AND day BETWEEN $2::date AND $3::date GROUP BY 1, 2, 3)"
        " SELECT currency, GROUPING(channel) AS by_level, level, channel, sum(sent), sum(n),"
        "  sum(p7), sum(p14), sum(sent * coalesce(c.cost_minor, 0))"
        " FROM s LEFT JOIN c USING (channel)"
        " GROUP BY GROUPING SETS ((currency, level), (currency, channel))"
        " ORDER BY 1, 2 DESC, 3, 4", 4, params);
    if (!r) {
        db_failed(res);
        return;
    }
    json_t *rows = json_array();
    for (int i = 0; i < PQntuples(r); i++) {
        bool by_level = atoi(PQgetvalue(r, i, 1)) == 1;
        int64_t sent = col(r, i, 4), n = col(r, i, 5), p7 = col(r, i, 6), p14 = col(r, i, 7), v;
        json_t *o = json_object();
        json_object_set_new(o, "currency", json_string(PQgetvalue(r, i, 0)));
        json_object_set_new(o, "by", json_string(by_level ? "level" : "channel"));
        json_object_set_new(o, "level", by_level ? json_integer(col(r, i, 2)) : json_null());
        json_object_set_new(o, "channel", by_level ? json_null() : json_string(PQgetvalue(r, i, 3)));
        json_object_set_new(o, "reminders_sent", json_integer(sent));
        json_object_set_new(o, "reminded_invoices", json_integer(n));
        json_object_set_new(o, "paid_7d", json_integer(p7));
        json_object_set_new(o, "paid_14d", json_integer(p14));
        bool ok = rpt_ratio(p7, n, 10000, &v);
        json_object_set_new(o, "paid_7d_rate_bp", opt(ok, v));
        ok = rpt_ratio(p14, n, 10000, &v);
        json_object_set_new(o, "paid_14d_rate_bp", opt(ok, v));
        json_object_set_new(o, "cost_minor", json_integer(col(r, i, 8)));
        json_array_append_new(rows, o);
    }
    PQclear(r);
    reply_rows(res, &p, header(&p, true), "lines", rows);
    observe("reminders", start);
}

/*  Roll rates month over month: the month ends M_0 = `to`, M_j = the last
    day of the j-th calendar month before; for each pair (M_j+1, M_j) and
    aging bucket, what was open at M_j+1, what of it was still open at M_j
    and what of it had moved to a later bucket (kpi.h, rpt_roll_add). Open
    amounts per due date at each month end come from rpt_open_due minus
    the moves after that day, as for aging. */
#define MAX_ROLL_MONTHS 24
void rpt_kpiapi_rollrates(const http_request_t *req, http_response_t *res, void *arg)
{
    rpt_api_t *api = arg;
    int64_t start = now_us();
    params_t p;
    if (!request_params(arg, req, res, &p))
        return;
    long months = 6;
    if (!http_query_long(req, res, "months", 1, MAX_ROLL_MONTHS, &months)) {
        count_bad();
        return;
    }
    int32_t ends[MAX_ROLL_MONTHS + 1];
    char arr[(MAX_ROLL_MONTHS + 1) * 12 + 4] = "{";
    size_t at = 1;
    for (int j = 0; j <= months; j++) {
        int32_t f, days;
        rpt_month_back(p.to, j, &f, &ends[j], &days);
        char d[11];
        date_format(ends[j], d);
        at += (size_t) snprintf(arr + at, sizeof arr - at, "%s%s", j ? "," : "", d);
    }
    snprintf(arr + at, sizeof arr - at, "}");
    char oldest[11];
    date_format(ends[months], oldest);
    const char *params[] = { p.tenant, arr, p.currency, oldest };
    /*  One row per (currency, due date, month end j): the open amount then. */
    PGresult *r = db_exec(api->db,
        "WITH pts AS (SELECT (k - 1)::int AS j, d FROM unnest($2::date[]) WITH ORDINALITY AS t(d, k)),"
        " b AS (SELECT currency, due_date, sum(open_minor) AS m FROM rpt_open_due"
        "  WHERE tenant = $1 AND ($3 = '' OR currency = $3) GROUP BY 1, 2),"
        " mv AS (SELECT currency, due_date, day, sum(delta_minor) AS dm FROM rpt_open_moves"
        "  WHERE tenant = $1 AND ($3 = '' OR currency = $3) AND day > $4::date GROUP BY 1, 2, 3),"
        " later AS (SELECT pts.j, mv.currency, mv.due_date, sum(mv.dm) AS s FROM pts"
        "  JOIN mv ON mv.day > pts.d GROUP BY 1, 2, 3)"
        " SELECT b.currency, b.due_date - date '1970-01-01', pts.j, b.m - coalesce(l.s, 0)"
        " FROM b CROSS JOIN pts LEFT JOIN later l"
        "  ON l.j = pts.j AND l.currency = b.currency AND l.due_date = b.due_date"
        " ORDER BY 1, 2, 3", 4, params);
    if (!r) {
        db_failed(res);
        return;
    }
    json_t *rows = json_array();
    int i = 0, n = PQntuples(r);
    while (i < n) {
        char currency[4];
        snprintf(currency, sizeof currency, "%s", PQgetvalue(r, i, 0));
        int64_t from[MAX_ROLL_MONTHS][RPT_AGE_BUCKETS] = { { 0 } };
        int64_t still[MAX_ROLL_MONTHS][RPT_AGE_BUCKETS] = { { 0 } };
        int64_t rolled[MAX_ROLL_MONTHS][RPT_AGE_BUCKETS] = { { 0 } };
        while (i < n && strcmp(PQgetvalue(r, i, 0), currency) == 0) {
            int32_t due = atoi(PQgetvalue(r, i, 1));
            int64_t open[MAX_ROLL_MONTHS + 1] = { 0 };
            for (; i < n && strcmp(PQgetvalue(r, i, 0), currency) == 0
                   && atoi(PQgetvalue(r, i, 1)) == due; i++) {
                int j = atoi(PQgetvalue(r, i, 2));
                if (j >= 0 && j <= months)
                    open[j] = col(r, i, 3);
            }
            for (int j = 0; j < months; j++)
                rpt_roll_add(ends[j + 1], ends[j], due, open[j + 1], open[j], from[j], still[j],
                             rolled[j]);
        }
        for (int j = (int) months - 1; j >= 0; j--) {
            int y, m, d;
            date_from_days(ends[j], &y, &m, &d);
            char month[8];
            snprintf(month, sizeof month, "%04d-%02d", y, m);
            for (int b = 0; b < RPT_AGE_BUCKETS; b++) {
                json_t *o = json_object();
                json_object_set_new(o, "currency", json_string(currency));
                json_object_set_new(o, "month", json_string(month));
                json_object_set_new(o, "start", date_json(ends[j + 1]));
                json_object_set_new(o, "end", date_json(ends[j]));
                json_object_set_new(o, "bucket", json_string(rpt_age_bucket_names[b]));
                json_object_set_new(o, "open_at_start_minor", json_integer(from[j][b]));
                json_object_set_new(o, "still_open_minor", json_integer(still[j][b]));
                json_object_set_new(o, "rolled_minor", json_integer(rolled[j][b]));
                int64_t v;
                bool ok = b < RPT_AGE_OVER_180 && rpt_ratio(rolled[j][b], from[j][b], 10000, &v);
                json_object_set_new(o, "roll_rate_bp", opt(ok, v));
                json_array_append_new(rows, o);
            }
        }
    }
    PQclear(r);
    json_t *body = header(&p, false);
    json_object_set_new(body, "months", json_integer(months));
    reply_rows(res, &p, body, "rolls", rows);
    observe("rollrates", start);
}

/*  Forecast against actual, one line per currency and week (Monday to
    Sunday), the last `weeks` weeks up to the week of `to`: the forecast of
    the latest snapshot taken on or before the week's Monday (forecast.h)
    beside what came in that week. */
#define MAX_FC_WEEKS 52
#define MAX_FC_CURRENCIES 16
void rpt_kpiapi_forecast_actual(const http_request_t *req, http_response_t *res, void *arg)
{
    rpt_api_t *api = arg;
    int64_t start = now_us();
    params_t p;
    if (!request_params(arg, req, res, &p))
        return;
    long weeks = 13;
    if (!http_query_long(req, res, "weeks", 1, MAX_FC_WEEKS, &weeks)) {
        count_bad();
        return;
    }
    int32_t last = rpt_forecast_monday(p.to), first = last - 7 * ((int32_t) weeks - 1);
    char f[11], l[11];
    date_format(first, f);
    date_format(last, l);
    const char *params[] = { p.tenant, f, l, p.currency };
    /*  kind 0: forecast (week, taken_on, expected); kind 1: actual (week,
        collected, payments). The "later" line of a snapshot (its week 14)
        is no forecast of one week and is left out. */
    PGresult *r = db_exec(api->db,
        "SELECT 0, currency, week_start - date '1970-01-01', taken_on::text, expected_minor, 0"
        " FROM (SELECT DISTINCT ON (currency, week_start) currency, week_start, taken_on,"
        "   expected_minor FROM rpt_forecast_snapshots"
        "  WHERE tenant = $1 AND week_start BETWEEN $2::date AND $3::date"
        "   AND taken_on <= week_start AND week_start < taken_on + 91"
        "   AND ($4 = '' OR currency = $4)"
        "  ORDER BY currency, week_start, taken_on DESC) s"
        " UNION ALL"
        " SELECT 1, currency, ($2::date + 7 * ((day - $2::date) / 7)) - date '1970-01-01', NULL,"
        "  sum(collected_minor), sum(payments_minor)"
        " FROM rpt_daily WHERE tenant = $1 AND day BETWEEN $2::date AND $3::date + 6"
        "  AND ($4 = '' OR currency = $4) GROUP BY 1, 2, 3"
        " ORDER BY 2", 4, params);
    if (!r) {
        db_failed(res);
        return;
    }
    typedef struct {
        char currency[4];
        bool has_fc[MAX_FC_WEEKS];
        char taken[MAX_FC_WEEKS][11];
        int64_t fc[MAX_FC_WEEKS], collected[MAX_FC_WEEKS], payments[MAX_FC_WEEKS];
    } fc_t;
    fc_t *cs = calloc(MAX_FC_CURRENCIES, sizeof *cs);
    int nc = 0;
    for (int i = 0; cs && i < PQntuples(r); i++) {
        const char *cur = PQgetvalue(r, i, 1);
        int c = 0;
        while (c < nc && strcmp(cs[c].currency, cur) != 0)
            c++;
        if (c == nc) {
            if (nc == MAX_FC_CURRENCIES)
                continue;
            snprintf(cs[nc++].currency, 4, "%s", cur);
        }
        int w = (atoi(PQgetvalue(r, i, 2)) - first) / 7;
        if (w < 0 || w >= weeks)
            continue;
        if (atoi(PQgetvalue(r, i, 0)) == 0) {
            cs[c].has_fc[w] = true;
            snprintf(cs[c].taken[w], 11, "%s", PQgetvalue(r, i, 3));
            cs[c].fc[w] = col(r, i, 4);
        }
        else {
            cs[c].collected[w] = col(r, i, 4);
            cs[c].payments[w] = col(r, i, 5);
        }
    }
    PQclear(r);
    if (!cs) {
        http_reply_error(res, 500, "memory", "exhausted");
        return;
    }
    json_t *rows = json_array();
    for (int c = 0; c < nc; c++)
        for (int w = 0; w < weeks; w++) {
            const fc_t *x = &cs[c];
            json_t *o = json_object();
            json_object_set_new(o, "currency", json_string(x->currency));
            json_object_set_new(o, "week_start", date_json(first + 7 * w));
            json_object_set_new(o, "week_end", date_json(first + 7 * w + 6));
            json_object_set_new(o, "forecast_taken_on",
                                x->has_fc[w] ? json_string(x->taken[w]) : json_null());
            json_object_set_new(o, "forecast_minor", opt(x->has_fc[w], x->fc[w]));
            json_object_set_new(o, "collected_minor", json_integer(x->collected[w]));
            json_object_set_new(o, "payments_received_minor", json_integer(x->payments[w]));
            json_object_set_new(o, "forecast_error_minor",
                                opt(x->has_fc[w], x->collected[w] - x->fc[w]));
            json_array_append_new(rows, o);
        }
    free(cs);
    json_t *body = header(&p, false);
    json_object_set_new(body, "weeks", json_integer(weeks));
    reply_rows(res, &p, body, "weeks", rows);
    observe("forecast_actual", start);
}
