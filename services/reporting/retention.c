/*  retention: retention periods and the pass that applies them (retention.h). */
#include "retention.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "erase.h"
#include "log.h"
#include "metrics.h"

/*  Rows one purge statement touches: short transactions, short locks. */
#define PURGE_ROWS "1000"

const char *rpt_retention_invalid(const rpt_retention_t *r, const char **field)
{
    if (r->personal_data_years < 1 || r->personal_data_years > 100) {
        *field = "personal_data_years";
        return "expected a whole number of years from 1 to 100";
    }
    if (r->raw_payload_days < 1 || r->raw_payload_days > 36500) {
        *field = "raw_payload_days";
        return "expected a whole number of days from 1 to 36500";
    }
    if (r->reminder_content_days < 1 || r->reminder_content_days > 36500) {
        *field = "reminder_content_days";
        return "expected a whole number of days from 1 to 36500";
    }
    *field = NULL;
    return NULL;
}

int rpt_retention_get(db_t *db, const char *tenant, rpt_retention_t *r, bool *own)
{
    const char *p[] = { tenant };
    /*  The tenant's row first, else the default (tenant NULL). */
    PGresult *res = db_exec(db,
        "SELECT personal_data_years, raw_payload_days, reminder_content_days, tenant IS NOT NULL"
        " FROM gdpr_retention WHERE tenant = $1 OR tenant IS NULL"
        " ORDER BY tenant NULLS LAST LIMIT 1", 1, p);
    if (!res)
        return -1;
    /*  No row at all (someone deleted the default): the migration's defaults. */
    *r = (rpt_retention_t) { 3, 90, 365 };
    *own = false;
    if (PQntuples(res) == 1) {
        r->personal_data_years = atoi(PQgetvalue(res, 0, 0));
        r->raw_payload_days = atoi(PQgetvalue(res, 0, 1));
        r->reminder_content_days = atoi(PQgetvalue(res, 0, 2));
        *own = PQgetvalue(res, 0, 3)[0] == 't';
    }
    PQclear(res);
    return 0;
}

int rpt_retention_set(db_t *db, const char *tenant, const rpt_retention_t *r)
{
    char y[16], d[16], c[16];
    snprintf(y, sizeof y, "%d", r->personal_data_years);
    snprintf(d, sizeof d, "%d", r->raw_payload_days);
    snprintf(c, sizeof c, "%d", r->reminder_content_days);
    const char *p[] = { tenant, y, d, c };
    return db_run(db,
        "INSERT INTO gdpr_retention (tenant, personal_data_years, raw_payload_days,"
        " reminder_content_days) VALUES ($1, $2::int, $3::int, $4::int)"
        " ON CONFLICT ((COALESCE(tenant, ''))) DO UPDATE SET"
        " personal_data_years = EXCLUDED.personal_data_years,"
        " raw_payload_days = EXCLUDED.raw_payload_days,"
        " reminder_content_days = EXCLUDED.reminder_content_days, updated_at = now()", 4, p);
}

/*  Debtors past the period with nothing open, oldest id first; one more
    than `batch` tells whether some are left. */
static const char *s_candidates_sql =
    "SELECT d.id FROM debtors d WHERE d.tenant = $1 AND d.erased_at IS NULL"
    " AND NOT EXISTS (SELECT 1 FROM invoices i WHERE i.tenant = d.tenant AND i.debtor_id = d.id"
    "     AND i.status = 'open' AND i.open_minor > 0)"
    " AND NOT EXISTS (SELECT 1 FROM disputes x WHERE x.tenant = d.tenant AND x.debtor_id = d.id"
    "     AND x.resolved_date IS NULL)"
    " AND NOT EXISTS (SELECT 1 FROM payment_plans p WHERE p.tenant = d.tenant"
    "     AND p.debtor_id = d.id AND p.status = 'active')"
    " AND NOT EXISTS (SELECT 1 FROM promises p WHERE p.tenant = d.tenant AND p.debtor_id = d.id"
    "     AND p.status = 'open')"
    " AND GREATEST(d.created_at::date, d.updated_at::date,"
    "   (SELECT max(GREATEST(i.issue_date, i.due_date, i.paid_date, i.cancelled_date))"
    "      FROM invoices i WHERE i.tenant = d.tenant AND i.debtor_id = d.id),"
    "   (SELECT max(GREATEST(p.received_date, p.reversed_date)) FROM payments p"
    "      WHERE p.tenant = d.tenant AND p.debtor_id = d.id),"
    "   (SELECT max(c.issue_date) FROM credit_notes c WHERE c.tenant = d.tenant"
    "      AND c.debtor_id = d.id),"
    "   (SELECT max(w.date) FROM write_offs w WHERE w.tenant = d.tenant AND w.debtor_id = d.id),"
    "   (SELECT max(GREATEST(x.opened_date, x.resolved_date)) FROM disputes x"
    "      WHERE x.tenant = d.tenant AND x.debtor_id = d.id),"
    "   (SELECT max(GREATEST(p.agreed_date, p.ended_date)) FROM payment_plans p"
    "      WHERE p.tenant = d.tenant AND p.debtor_id = d.id),"
    "   (SELECT max(GREATEST(p.promised_date, p.resolved_date)) FROM promises p"
    "      WHERE p.tenant = d.tenant AND p.debtor_id = d.id))"
    "   < (current_date - make_interval(years => $2::int))::date"
    " ORDER BY d.id LIMIT $3::int + 1";

static void count_purged(const char *what, long long n)
{
    if (n <= 0)
        return;
    char labels[64];
    snprintf(labels, sizeof labels, "what=\"%s\"", what);
    metric_add(metrics_counter("creance_gdpr_purged_rows_total",
                               "Rows purged by the retention pass, by what", labels),
               (double) n);
}

/*  Runs `sql` (a purge of at most PURGE_ROWS rows whose first result
    column counts them) until it purges fewer; returns the total or -1. */
static long long purge_loop(db_t *db, const char *sql, const char *tenant, const char *days,
                            long long *second)
{
    long long total = 0;
    for (;;) {
        const char *p[] = { tenant, days, PURGE_ROWS };
        PGresult *r = db_exec(db, sql, 3, p);
        if (!r)
            return -1;
        long long n = strtoll(PQgetvalue(r, 0, 0), NULL, 10);
        if (second && PQnfields(r) > 1)
            *second += strtoll(PQgetvalue(r, 0, 1), NULL, 10);
        PQclear(r);
        total += n;
        if (n < atoll(PURGE_ROWS))
            return total;
    }
}

static const char *s_stripe_sql =
    "WITH gone AS (DELETE FROM stripe_events WHERE ctid IN (SELECT ctid FROM stripe_events"
    "   WHERE tenant = $1 AND created_at < now() - make_interval(days => $2::int)"
    "   LIMIT $3::int) RETURNING 1)"
    " SELECT count(*) FROM gone";

/*  Blanks old deliveries and queues their letters' files in one statement. */
static const char *s_contents_sql =
    "WITH old AS (SELECT tenant, id FROM reminder_deliveries"
    "   WHERE tenant = $1 AND content_purged_at IS NULL AND status IN ('sent', 'failed', 'bounced')"
    "   AND created_at < now() - make_interval(days => $2::int)"
    "   AND COALESCE(sent_at, created_at) < now() - make_interval(days => $2::int)"
    "   ORDER BY created_at LIMIT $3::int FOR UPDATE),"
    " u AS (UPDATE reminder_deliveries d SET recipient = '', subject = '', content = '',"
    "   last_error = '', content_purged_at = now() FROM old"
    "   WHERE d.tenant = old.tenant AND d.id = old.id"
    "   RETURNING d.tenant, d.debtor_id, d.id, d.channel, d.provider_message_id),"
    " q AS (INSERT INTO gdpr_file_purges (tenant, debtor_id, delivery_id, file)"
    "   SELECT tenant, debtor_id, id, provider_message_id FROM u WHERE channel IN ('letter', 'handoff')"
    "   AND provider_message_id LIKE '%.pdf' AND provider_message_id !~ '/'"
    "   ON CONFLICT DO NOTHING RETURNING 1)"
    " SELECT (SELECT count(*) FROM u), (SELECT count(*) FROM q)";

static const char *s_worklist_sql =
    "WITH u AS (UPDATE rem_worklist SET phone = '', note = '' WHERE ctid IN (SELECT ctid"
    "   FROM rem_worklist WHERE tenant = $1 AND status = 'done'"
    "   AND due_date < current_date - $2::int AND (phone <> '' OR note <> '') LIMIT $3::int)"
    "   RETURNING 1)"
    " SELECT count(*) FROM u";

static int run_tenant(db_t *db, bus_t *bus, const char *tenant, int batch,
                      rpt_retention_stats_t *st)
{
    rpt_retention_t r;
    bool own;
    if (rpt_retention_get(db, tenant, &r, &own))
        return -1;
    char years[16], payload[16], content[16], lim[16];
    snprintf(years, sizeof years, "%d", r.personal_data_years);
    snprintf(payload, sizeof payload, "%d", r.raw_payload_days);
    snprintf(content, sizeof content, "%d", r.reminder_content_days);
    snprintf(lim, sizeof lim, "%d", batch);

    const char *p[] = { tenant, years, lim };
    PGresult *c = db_exec(db, s_candidates_sql, 3, p);
    if (!c)
        return -1;
    int n = PQntuples(c);
    long long erased = 0;
    for (int i = 0; i < n && i < batch; i++) {
        rpt_erase_result_t res;
        if (rpt_erase_debtor(db, bus, tenant, strtoll(PQgetvalue(c, i, 0), NULL, 10), false,
                             "retention", &res)) {
            PQclear(c);
            return -1;
        }
        if (res.status == 200 && !res.already) {
            erased++;
            st->files_queued += res.files_queued;
        }
    }
    PQclear(c);
    st->debtors_erased += erased;
    st->tenants_with_more += n > batch ? 1 : 0;

    long long stripe = purge_loop(db, s_stripe_sql, tenant, payload, NULL);
    long long files = 0;
    long long contents = stripe < 0 ? -1 : purge_loop(db, s_contents_sql, tenant, content, &files);
    long long notes = contents < 0 ? -1 : purge_loop(db, s_worklist_sql, tenant, content, NULL);
    if (notes < 0)
        return -1;
    st->stripe_events_deleted += stripe;
    st->reminder_contents_purged += contents;
    st->worklist_notes_purged += notes;
    st->files_queued += files;
    count_purged("stripe_events", stripe);
    count_purged("reminder_contents", contents);
    count_purged("worklist_notes", notes);
    if (erased || stripe || contents || notes)
        log_info("retention applied tenant=%s personal_data_years=%d raw_payload_days=%d"
                 " reminder_content_days=%d erased=%lld left=%s stripe_events=%lld"
                 " reminder_contents=%lld worklist_notes=%lld files=%lld", tenant,
                 r.personal_data_years, r.raw_payload_days, r.reminder_content_days, erased,
                 n > batch ? "yes" : "no", stripe, contents, notes, files);
    return 0;
}

int rpt_retention_run(db_t *db, bus_t *bus, const char *tenant, int batch,
                      rpt_retention_stats_t *st)
{
    memset(st, 0, sizeof *st);
    if (batch < 1)
        batch = 100;
    PGresult *t = tenant
        ? db_exec(db, "SELECT id FROM tenants WHERE id = $1", 1, (const char *const[]) { tenant })
        : db_exec(db, "SELECT id FROM tenants ORDER BY id", 0, NULL);
    if (!t)
        return -1;
    int rc = 0;
    for (int i = 0; i < PQntuples(t) && rc == 0; i++) {
        rc = run_tenant(db, bus, PQgetvalue(t, i, 0), batch, st);
        st->tenants++;
    }
    PQclear(t);
    log_info("retention pass done ok=%s tenants=%lld erased=%lld left=%lld stripe_events=%lld"
             " reminder_contents=%lld worklist_notes=%lld files=%lld", rc ? "no" : "yes",
             st->tenants, st->debtors_erased, st->tenants_with_more, st->stripe_events_deleted,
             st->reminder_contents_purged, st->worklist_notes_purged, st->files_queued);
    return rc;
}

json_t *rpt_retention_json(const rpt_retention_t *r)
{
    return json_pack("{s:i, s:i, s:i}", "personal_data_years", r->personal_data_years,
                     "raw_payload_days", r->raw_payload_days,
                     "reminder_content_days", r->reminder_content_days);
}

json_t *rpt_retention_stats_json(const rpt_retention_stats_t *st)
{
    return json_pack("{s:I, s:I, s:I, s:I, s:I, s:I, s:I}",
                     "tenants", (json_int_t) st->tenants,
                     "debtors_erased", (json_int_t) st->debtors_erased,
                     "tenants_with_more", (json_int_t) st->tenants_with_more,
                     "stripe_events_deleted", (json_int_t) st->stripe_events_deleted,
                     "reminder_contents_purged", (json_int_t) st->reminder_contents_purged,
                     "worklist_notes_purged", (json_int_t) st->worklist_notes_purged,
                     "files_queued", (json_int_t) st->files_queued);
}
