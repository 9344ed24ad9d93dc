/*  store: risk's SQL (risk_debtor_state, and debtors read-only). */
#include "store.h"
#include "log.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/*  The subquery adds the debtor's other currencies to the open count: it
    runs on the statement's snapshot, which already holds this transaction's
    earlier changes and excludes the row being written (filtered anyway). */
static const char *SQL_ADD =
    "INSERT INTO risk_debtor_state AS s "
    "  (tenant, debtor_id, currency, outstanding_minor, open_invoices, events_applied, updated_at) "
    "VALUES ($1::text, $2::bigint, $3::char(3), $4::bigint, $5::integer, 1, now()) "
    "ON CONFLICT (tenant, debtor_id, currency) DO UPDATE SET "
    "  outstanding_minor = s.outstanding_minor + EXCLUDED.outstanding_minor, "
    "  open_invoices = s.open_invoices + EXCLUDED.open_invoices, "
    "  events_applied = s.events_applied + 1, "
    "  updated_at = now() "
    "RETURNING s.outstanding_minor, "
    "  s.open_invoices + (SELECT coalesce(sum(o.open_invoices), 0) FROM risk_debtor_state o "
    "                     WHERE o.tenant = $1::text AND o.debtor_id = $2::bigint "
    "                       AND o.currency <> $3::char(3))::bigint, "
    "  (extract(epoch FROM s.updated_at) * 1000000)::bigint";

/*  Many deltas at once, one per (tenant, debtor, currency) in $1 (JSON). */
static const char *SQL_ADD_MANY =
    "INSERT INTO risk_debtor_state AS s "
    "  (tenant, debtor_id, currency, outstanding_minor, open_invoices, events_applied, updated_at) "
    "SELECT tenant, debtor_id, currency, outstanding, open, events, now() "
    "FROM jsonb_to_recordset($1::jsonb) AS v(tenant text, debtor_id bigint, currency text, "
    "  outstanding bigint, open integer, events bigint) "
    "ON CONFLICT (tenant, debtor_id, currency) DO UPDATE SET "
    "  outstanding_minor = s.outstanding_minor + EXCLUDED.outstanding_minor, "
    "  open_invoices = s.open_invoices + EXCLUDED.open_invoices, "
    "  events_applied = s.events_applied + EXCLUDED.events_applied, "
    "  updated_at = now()";

/*  One row per debtor: "EUR=1200,USD=-5", open invoices, last change. */
#define SQL_DEBTOR_COLUMNS \
    "SELECT tenant, debtor_id, " \
    "  string_agg(currency || '=' || outstanding_minor::text, ',' ORDER BY currency), " \
    "  sum(open_invoices)::bigint, " \
    "  (extract(epoch FROM max(updated_at)) * 1000000)::bigint, " \
    "  (SELECT p.snapshot FROM risk_debtor_profile p " \
    "   WHERE p.tenant = s.tenant AND p.debtor_id = s.debtor_id) " \
    "FROM risk_debtor_state s "

static const char *SQL_LOAD =
    SQL_DEBTOR_COLUMNS
    "WHERE tenant = $1::text AND debtor_id = $2::bigint GROUP BY tenant, debtor_id";

static const char *SQL_SCAN_FIRST =
    SQL_DEBTOR_COLUMNS
    "GROUP BY tenant, debtor_id ORDER BY tenant, debtor_id LIMIT $1::integer";

static const char *SQL_SCAN_NEXT =
    SQL_DEBTOR_COLUMNS
    "WHERE (tenant, debtor_id) > ($1::text, $2::bigint) "
    "GROUP BY tenant, debtor_id ORDER BY tenant, debtor_id LIMIT $3::integer";

int
risk_store_add(db_t *db, const char *tenant, const risk_delta_t *delta, risk_debtor_t *into)
{
    char debtor[24], amount[24], open[16];
    snprintf(debtor, sizeof debtor, "%" PRId64, delta->debtor_id);
    snprintf(amount, sizeof amount, "%" PRId64, delta->outstanding_minor);
    snprintf(open, sizeof open, "%" PRId32, delta->open_invoices);
    const char *params[] = { tenant, debtor, delta->currency, amount, open };
    PGresult *r = db_exec(db, SQL_ADD, 5, params);
    if (!r)
        return -1;
    int64_t outstanding, open_total, at;
    int rc = -1;
    if (PQntuples(r) == 1
        && risk_parse_int64(PQgetvalue(r, 0, 0), &outstanding)
        && risk_parse_int64(PQgetvalue(r, 0, 1), &open_total)
        && risk_parse_int64(PQgetvalue(r, 0, 2), &at)
        && risk_debtor_set(into, delta->currency, outstanding) == 0) {
        into->open_invoices = open_total;
        into->updated_at_us = at;
        rc = 0;
    }
    else
        log_error("risk_debtor_state upsert returned an unexpected row tenant=%s debtor=%s",
                  tenant, debtor);
    PQclear(r);
    return rc;
}

int
risk_store_add_many(db_t *db, const char *deltas_json)
{
    const char *params[] = { deltas_json };
    /* Read back by the rescoring in the same transaction: queued, sent
       with that read (db_defer). */
    return db_defer(db, SQL_ADD_MANY, 1, params);
}

/*  Row i of a SQL_DEBTOR_COLUMNS result into `out`. */
static int
s_row(PGresult *r, int i, risk_debtor_t *out)
{
    int64_t debtor_id, open, at;
    if (!risk_parse_int64(PQgetvalue(r, i, 1), &debtor_id)
        || !risk_parse_int64(PQgetvalue(r, i, 3), &open)
        || !risk_parse_int64(PQgetvalue(r, i, 4), &at))
        return -1;
    risk_debtor_clear(out);
    risk_debtor_init(out, PQgetvalue(r, i, 0), debtor_id);
    out->open_invoices = open;
    out->updated_at_us = at;
    if (!PQgetisnull(r, i, 5) && risk_debtor_set_snapshot(out, PQgetvalue(r, i, 5)) != 0)
        return -1;
    return risk_debtor_parse_amounts(out, PQgetvalue(r, i, 2));
}

int
risk_store_load(db_t *db, const char *tenant, int64_t debtor_id, risk_debtor_t *out)
{
    char debtor[24];
    snprintf(debtor, sizeof debtor, "%" PRId64, debtor_id);
    const char *params[] = { tenant, debtor };
    PGresult *r = db_exec(db, SQL_LOAD, 2, params);
    if (!r)
        return -1;
    int rc = 0;
    if (PQntuples(r) == 1)
        rc = s_row(r, 0, out) == 0 ? 1 : -1;
    if (rc < 0)
        log_error("risk_debtor_state unreadable tenant=%s debtor=%s", tenant, debtor);
    PQclear(r);
    return rc;
}

int
risk_store_scan(db_t *db, risk_store_cursor_t *cursor, int limit, risk_store_scan_fn *fn, void *arg)
{
    char lim[16], debtor[24];
    snprintf(lim, sizeof lim, "%d", limit);
    snprintf(debtor, sizeof debtor, "%" PRId64, cursor->debtor_id);
    PGresult *r;
    if (cursor->started) {
        const char *params[] = { cursor->tenant, debtor, lim };
        r = db_exec(db, SQL_SCAN_NEXT, 3, params);
    }
    else {
        const char *params[] = { lim };
        r = db_exec(db, SQL_SCAN_FIRST, 1, params);
    }
    if (!r)
        return -1;
    int rows = PQntuples(r), rc = rows;
    risk_debtor_t state;
    risk_debtor_init(&state, "", 0);
    for (int i = 0; i < rows; i++) {
        if (s_row(r, i, &state) != 0) {
            log_error("risk_debtor_state unreadable tenant=%s debtor=%s",
                      PQgetvalue(r, i, 0), PQgetvalue(r, i, 1));
            rc = -1;
            break;
        }
        if (fn(&state, arg) != 0) {
            rc = -1;
            break;
        }
        snprintf(cursor->tenant, sizeof cursor->tenant, "%s", state.tenant);
        cursor->debtor_id = state.debtor_id;
        cursor->started = true;
    }
    risk_debtor_clear(&state);
    PQclear(r);
    return rc;
}

int
risk_store_debtor_currency(db_t *db, const char *tenant, int64_t debtor_id, char currency[4])
{
    char debtor[24];
    snprintf(debtor, sizeof debtor, "%" PRId64, debtor_id);
    const char *params[] = { tenant, debtor };
    PGresult *r = db_exec(db, "SELECT currency FROM debtors WHERE tenant = $1 AND id = $2::bigint",
                          2, params);
    if (!r)
        return -1;
    int found = PQntuples(r) == 1;
    if (found)
        snprintf(currency, 4, "%s", PQgetvalue(r, 0, 0));
    PQclear(r);
    return found;
}

int
risk_store_resolve_external(db_t *db, const char *tenant, const char *external_id, int64_t *debtor_id)
{
    const char *params[] = { tenant, external_id };
    PGresult *r = db_exec(db,
                          "SELECT id FROM debtors WHERE tenant = $1 AND external_id = $2 "
                          "ORDER BY id LIMIT 2", 2, params);
    if (!r)
        return -1;
    int n = PQntuples(r);
    if (n == 1 && !risk_parse_int64(PQgetvalue(r, 0, 0), debtor_id))
        n = -1;
    PQclear(r);
    return n;
}
