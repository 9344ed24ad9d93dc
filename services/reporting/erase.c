/*  erase: a debtor's personal data erased, the accounting kept (erase.h). */
#include "erase.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "envelope.h"
#include "eventlog.h"
#include "gdprblank.h"
#include "log.h"
#include "metrics.h"
#include "money.h"

/*  event_log rows read per statement while rewriting envelopes: bounds the
    memory of one erasure whatever the size of the tenant's stream. */
#define EVENT_PAGE 2000

bool rpt_erase_refusal(const rpt_erase_open_t *o, int64_t debtor_id, char *out, size_t len)
{
    if (!o->open_invoices && !o->open_disputes && !o->active_plans && !o->open_promises) {
        if (len)
            out[0] = '\0';
        return false;
    }
    size_t n = (size_t) snprintf(out, len, "debtor %" PRId64 " is still being collected:",
                                 debtor_id);
    const char *sep = " ";
    if (o->open_invoices && n < len) {
        n += (size_t) snprintf(out + n, len - n, "%s%" PRId64 " open invoice%s%s%s%s", sep,
                               o->open_invoices, o->open_invoices > 1 ? "s" : "",
                               o->open_amounts[0] ? " (" : "", o->open_amounts,
                               o->open_amounts[0] ? ")" : "");
        sep = ", ";
    }
    if (o->open_disputes && n < len) {
        n += (size_t) snprintf(out + n, len - n, "%s%" PRId64 " open dispute%s", sep,
                               o->open_disputes, o->open_disputes > 1 ? "s" : "");
        sep = ", ";
    }
    if (o->active_plans && n < len) {
        n += (size_t) snprintf(out + n, len - n, "%s%" PRId64 " active payment plan%s", sep,
                               o->active_plans, o->active_plans > 1 ? "s" : "");
        sep = ", ";
    }
    if (o->open_promises && n < len)
        n += (size_t) snprintf(out + n, len - n, "%s%" PRId64 " open promise%s", sep,
                               o->open_promises, o->open_promises > 1 ? "s" : "");
    if (n < len)
        snprintf(out + n, len - n, "; settle them first, or erase with force (the amounts "
                                   "are kept either way)");
    return true;
}

/*  The copies of the personal data, in the order they are rewritten.
    $1 tenant, $2 debtor id, $3 pseudonym (only when `nparams` is 3). */
static const struct {
    const char *what;
    int nparams;
    const char *sql;
} s_rewrites[] = {
    { "debtors", 3,
      "UPDATE debtors SET legal_name = $3, company_id = '', email = '', phone = '',"
      " address = '{}', erased_at = now(), updated_at = now()"
      " WHERE tenant = $1 AND id = $2::bigint" },
    { "rem_debtors", 3,
      "UPDATE rem_debtors SET legal_name = $3, email = '', phone = '', address = '{}',"
      " erased = true WHERE tenant = $1 AND debtor_id = $2::bigint" },
    { "rpt_debtors", 3,
      "UPDATE rpt_debtors SET legal_name = $3, company_id = '', email = '', erased = true"
      " WHERE tenant = $1 AND debtor_id = $2::bigint" },
    /*  Queued before the deliveries are blanked; the file names are the
        idempotency keys (tenant, reminder id, channel): no personal data. */
    { "gdpr_file_purges", 2,
      "INSERT INTO gdpr_file_purges (tenant, debtor_id, delivery_id, file)"
      " SELECT d.tenant, r.debtor_id, d.id, d.provider_message_id FROM reminders r"
      " JOIN reminder_deliveries d ON d.tenant = r.tenant AND d.reminder_id = r.id"
      " WHERE r.tenant = $1 AND r.debtor_id = $2::bigint AND d.channel IN ('letter', 'handoff')"
      "   AND d.provider_message_id LIKE '%.pdf' AND d.provider_message_id !~ '/'"
      " ON CONFLICT DO NOTHING" },
    { "reminder_deliveries", 2,
      "UPDATE reminder_deliveries d SET recipient = '', subject = '', content = '',"
      " last_error = CASE WHEN d.status IN ('pending', 'sending')"
      "   THEN 'debtor erased (personal data)' ELSE '' END,"
      " status = CASE WHEN d.status IN ('pending', 'sending') THEN 'failed' ELSE d.status END,"
      " content_purged_at = COALESCE(d.content_purged_at, now())"
      " FROM reminders r WHERE r.tenant = $1 AND r.debtor_id = $2::bigint"
      "   AND d.tenant = r.tenant AND d.reminder_id = r.id" },
    { "reminders", 2,
      "UPDATE reminders SET status = 'failed' WHERE tenant = $1 AND debtor_id = $2::bigint"
      " AND status = 'pending'" },
    { "rem_worklist", 2,
      "UPDATE rem_worklist SET phone = '', note = '', status = 'done'"
      " WHERE tenant = $1 AND debtor_id = $2::bigint"
      "   AND (phone <> '' OR note <> '' OR status <> 'done')" },
    { "disputes", 2,
      "UPDATE disputes SET reason = '' WHERE tenant = $1 AND debtor_id = $2::bigint"
      " AND reason <> ''" },
    { "invoices", 2,
      "UPDATE invoices SET cancel_reason = '' WHERE tenant = $1 AND debtor_id = $2::bigint"
      " AND cancel_reason <> ''" },
    { "invoice_adjustments", 2,
      "UPDATE invoice_adjustments a SET reason = '' FROM invoices i"
      " WHERE i.tenant = $1 AND i.debtor_id = $2::bigint AND a.tenant = i.tenant"
      "   AND a.invoice_id = i.id AND a.reason <> ''" },
    { "payments", 2,
      "UPDATE payments SET reversal_reason = '' WHERE tenant = $1 AND debtor_id = $2::bigint"
      " AND reversal_reason <> ''" },
    { "payment_refunds", 2,
      "UPDATE payment_refunds r SET reason = '' FROM payments p"
      " WHERE p.tenant = $1 AND p.debtor_id = $2::bigint AND r.tenant = p.tenant"
      "   AND r.payment_id = p.id AND r.reason <> ''" },
    { "write_offs", 2,
      "UPDATE write_offs SET reason = '' WHERE tenant = $1 AND debtor_id = $2::bigint"
      " AND reason <> ''" },
    { "credit_notes", 2,
      "UPDATE credit_notes SET reason = '' WHERE tenant = $1 AND debtor_id = $2::bigint"
      " AND reason <> ''" },
    /*  A SHA-256 of the debtor fact would confirm a guess of the name and
        e-mail. Replaced, a replay of the old fact is no longer a duplicate:
        intake then refuses it, the debtor being erased. */
    { "intake_items", 3,
      "UPDATE intake_items it SET content_hash = sha256(convert_to($3, 'UTF8'))"
      " FROM debtors d WHERE d.tenant = $1 AND d.id = $2::bigint AND it.tenant = d.tenant"
      "   AND it.source = d.source AND it.kind = 'debtor' AND it.external_id = d.external_id" },
};

/*  "EUR:150000,USD:2000" -> "1500.00 EUR, 20.00 USD" (each currency's
    own number of decimals). */
static void open_amounts(const char *list, char *out, size_t len)
{
    char buf[256];
    snprintf(buf, sizeof buf, "%s", list);
    out[0] = '\0';
    size_t n = 0;
    for (char *save = NULL, *t = strtok_r(buf, ",", &save); t && n < len;
         t = strtok_r(NULL, ",", &save)) {
        char *colon = strchr(t, ':');
        if (!colon)
            continue;
        *colon = '\0';
        char amount[48];
        money_format(strtoll(colon + 1, NULL, 10), t, amount, sizeof amount);
        n += (size_t) snprintf(out + n, len - n, "%s%s %s", n ? ", " : "", amount, t);
    }
}

static int64_t ll(PGresult *r, int row, int col)
{
    return strtoll(PQgetvalue(r, row, col), NULL, 10);
}

static int fail(rpt_erase_result_t *res, int status, const char *field, const char *reason)
{
    res->status = status;
    snprintf(res->field, sizeof res->field, "%s", field);
    snprintf(res->reason, sizeof res->reason, "%s", reason);
    return 0;
}

static int64_t be64(const char *p)
{
    uint64_t v = 0;
    for (int i = 0; i < 8; i++)
        v = v << 8 | (unsigned char) p[i];
    return (int64_t) v;
}

/*  Rewrites the debtor's envelopes in event_log, page by page over
    (stream, seq). Returns the number rewritten, or -1. A tenant has one
    DebtorCreated per debtor: those of other debtors are left on the server
    by their bytes, since the debtor's own always carry its external id (a
    necessary condition, so nothing of the debtor's is skipped). */
static long long rewrite_events(db_t *db, const char *tenant, int64_t debtor_id,
                                const char *external_id, const char *pseudonym)
{
    char types[512] = "{";
    for (size_t i = 0; rpt_gdpr_personal_event_types[i]; i++)
        snprintf(types + strlen(types), sizeof types - strlen(types), "%s%s", i ? "," : "",
                 rpt_gdpr_personal_event_types[i]);
    strcat(types, "}");
    char stream[64] = "", seq[24] = "0", page[16];
    snprintf(page, sizeof page, "%d", EVENT_PAGE);
    long long rewritten = 0;
    for (;;) {
        const char *p[] = { tenant, types, stream, seq, page, external_id };
        /*  Binary results: the envelope's bytes as they are. */
        PGresult *r = db_exec_ex(db,
            "SELECT stream, seq, envelope FROM event_log WHERE tenant = $1"
            " AND event_type = ANY($2::text[]) AND (stream, seq) > ($3::text, $4::bigint)"
            " AND (event_type NOT IN ('DebtorCreated', 'DebtorUpdated')"
            "      OR position(convert_to($6::text, 'UTF8') IN envelope) > 0)"
            " ORDER BY stream, seq LIMIT $5::int", 6, p, NULL, NULL, 1);
        if (!r)
            return -1;
        int n = PQntuples(r);
        for (int i = 0; i < n; i++) {
            snprintf(stream, sizeof stream, "%.*s", PQgetlength(r, i, 0), PQgetvalue(r, i, 0));
            snprintf(seq, sizeof seq, "%" PRId64, be64(PQgetvalue(r, i, 1)));
            uint8_t *out = NULL;
            size_t out_len = 0;
            int changed = rpt_gdpr_blank_bytes((const uint8_t *) PQgetvalue(r, i, 2),
                                               (size_t) PQgetlength(r, i, 2), debtor_id,
                                               pseudonym, &out, &out_len);
            if (changed < 0) {
                log_error("erasure: envelope not decoded tenant=%s stream=%s seq=%s", tenant,
                          stream, seq);
                PQclear(r);
                return -1;
            }
            if (changed == 0)
                continue;
            const char *u[] = { tenant, stream, seq, (const char *) out };
            const int lengths[] = { 0, 0, 0, (int) out_len };
            const int formats[] = { 0, 0, 0, 1 };
            PGresult *w = db_exec_ex(db, "UPDATE event_log SET envelope = $4 WHERE tenant = $1"
                                         " AND stream = $2 AND seq = $3::bigint",
                                     4, u, lengths, formats, 0);
            free(out);
            if (!w) {
                PQclear(r);
                return -1;
            }
            PQclear(w);
            rewritten++;
        }
        PQclear(r);
        if (n < EVENT_PAGE)
            return rewritten;
    }
}

static int add_erased_event(eventlog_batch_t *events, const char *tenant, int64_t debtor_id,
                            const char *pseudonym, const char *trigger)
{
    Creance__Envelope env;
    envelope_init(&env, tenant, "ledger", "reporting");
    Creance__DebtorErased ev = CREANCE__DEBTOR_ERASED__INIT;
    ev.debtor_id = debtor_id;
    ev.pseudonym = (char *) pseudonym;
    ev.trigger = (char *) trigger;
    ev.erased_at_us = env.occurred_at_us;
    env.event_case = CREANCE__ENVELOPE__EVENT_DEBTOR_ERASED;
    env.debtor_erased = &ev;
    int rc = eventlog_add(events, &env);
    env.event_case = CREANCE__ENVELOPE__EVENT__NOT_SET;
    env.debtor_erased = NULL;
    envelope_clear(&env);
    return rc;
}

static void count_erased(const char *trigger, const char *result)
{
    char labels[96];
    snprintf(labels, sizeof labels, "trigger=\"%s\",result=\"%s\"", trigger, result);
    metric_inc(metrics_counter("creance_gdpr_erasures_total",
                               "Debtor erasures, by trigger and result (erased, already, refused)",
                               labels));
}

int rpt_erase_debtor(db_t *db, bus_t *bus, const char *tenant, int64_t debtor_id, bool force,
                     const char *trigger, rpt_erase_result_t *res)
{
    memset(res, 0, sizeof *res);
    rpt_gdpr_pseudonym(debtor_id, res->pseudonym, sizeof res->pseudonym);
    char id[24];
    snprintf(id, sizeof id, "%" PRId64, debtor_id);
    const char *p[] = { tenant, id, res->pseudonym };
    eventlog_batch_t *events = NULL;
    PGresult *r = NULL;
    char *external_id = NULL;
    if (db_begin(db))
        goto db_error;
    r = db_exec(db,
        "SELECT erased_at IS NOT NULL,"
        " COALESCE(to_char(erased_at AT TIME ZONE 'UTC', 'YYYY-MM-DD\"T\"HH24:MI:SS\"Z\"'), ''),"
        " external_id FROM debtors WHERE tenant = $1 AND id = $2::bigint FOR UPDATE", 2, p);
    if (!r)
        goto db_error;
    if (PQntuples(r) != 1) {
        PQclear(r);
        db_rollback(db);
        return fail(res, 404, "debtor_id", "no such debtor for this tenant");
    }
    res->already = PQgetvalue(r, 0, 0)[0] == 't';
    snprintf(res->erased_at, sizeof res->erased_at, "%s", PQgetvalue(r, 0, 1));
    external_id = strdup(PQgetvalue(r, 0, 2));
    PQclear(r);
    if (!external_id)
        goto db_error;
    if (res->already) {
        free(external_id);
        db_rollback(db);
        res->status = 200;
        count_erased(trigger, "already");
        return 0;
    }

    r = db_exec(db,
        "SELECT (SELECT count(*) FROM invoices WHERE tenant = $1 AND debtor_id = $2::bigint"
        "         AND status = 'open' AND open_minor > 0),"
        " (SELECT COALESCE(string_agg(currency || ':' || s, ',' ORDER BY currency), '')"
        "         FROM (SELECT currency, sum(open_minor) AS s FROM invoices WHERE tenant = $1"
        "         AND debtor_id = $2::bigint AND status = 'open' AND open_minor > 0"
        "         GROUP BY currency) o),"
        " (SELECT count(*) FROM disputes WHERE tenant = $1 AND debtor_id = $2::bigint"
        "         AND resolved_date IS NULL),"
        " (SELECT count(*) FROM payment_plans WHERE tenant = $1 AND debtor_id = $2::bigint"
        "         AND status = 'active'),"
        " (SELECT count(*) FROM promises WHERE tenant = $1 AND debtor_id = $2::bigint"
        "         AND status = 'open')", 2, p);
    if (!r)
        goto db_error;
    res->open.open_invoices = ll(r, 0, 0);
    open_amounts(PQgetvalue(r, 0, 1), res->open.open_amounts, sizeof res->open.open_amounts);
    res->open.open_disputes = ll(r, 0, 2);
    res->open.active_plans = ll(r, 0, 3);
    res->open.open_promises = ll(r, 0, 4);
    PQclear(r);
    char why[sizeof res->reason];
    if (rpt_erase_refusal(&res->open, debtor_id, why, sizeof why) && !force) {
        db_rollback(db);
        free(external_id);
        count_erased(trigger, "refused");
        log_info("erasure refused tenant=%s debtor=%s trigger=%s open_invoices=%" PRId64
                 " open_disputes=%" PRId64 " active_plans=%" PRId64 " open_promises=%" PRId64,
                 tenant, id, trigger, res->open.open_invoices, res->open.open_disputes,
                 res->open.active_plans, res->open.open_promises);
        return fail(res, 409, "debtor_id", why);
    }

    for (size_t i = 0; i < sizeof s_rewrites / sizeof s_rewrites[0]; i++) {
        r = db_exec(db, s_rewrites[i].sql, s_rewrites[i].nparams, p);
        if (!r) {
            log_error("erasure failed tenant=%s debtor=%s table=%s error=%s", tenant, id,
                      s_rewrites[i].what, db_last_error(db));
            goto db_error;
        }
        long long n = strtoll(PQcmdTuples(r), NULL, 10);
        PQclear(r);
        if (strcmp(s_rewrites[i].what, "gdpr_file_purges") == 0)
            res->files_queued = n;
        else
            res->rows_changed += n;
    }
    res->events_rewritten = rewrite_events(db, tenant, debtor_id, external_id, res->pseudonym);
    free(external_id);
    external_id = NULL;
    if (res->events_rewritten < 0)
        goto db_error;

    events = eventlog_batch_new();
    if (!events || add_erased_event(events, tenant, debtor_id, res->pseudonym, trigger))
        goto db_error;
    char rows[24], evs[24];
    snprintf(rows, sizeof rows, "%lld", res->rows_changed);
    snprintf(evs, sizeof evs, "%lld", res->events_rewritten);
    const char *a[] = { tenant, id, trigger, force ? "t" : "f", rows, evs };
    r = db_exec(db,
        "INSERT INTO gdpr_erasures (tenant, debtor_id, trigger, forced, rows_changed,"
        " events_rewritten) VALUES ($1, $2::bigint, $3, $4::bool, $5::bigint, $6::bigint)"
        " RETURNING to_char(erased_at AT TIME ZONE 'UTC', 'YYYY-MM-DD\"T\"HH24:MI:SS\"Z\"')",
        6, a);
    if (!r)
        goto db_error;
    snprintf(res->erased_at, sizeof res->erased_at, "%s", PQgetvalue(r, 0, 0));
    PQclear(r);
    r = NULL;
    if (eventlog_flush(events, db) || db_commit(db))
        goto db_error;
    if (bus)
        eventlog_publish(events, bus);
    eventlog_batch_destroy(&events);

    res->status = 200;
    count_erased(trigger, "erased");
    metric_add(metrics_counter("creance_gdpr_rows_changed_total",
                               "Rows whose personal fields an erasure rewrote", NULL),
               (double) res->rows_changed);
    metric_add(metrics_counter("creance_gdpr_events_rewritten_total",
                               "event_log envelopes rewritten by erasures", NULL),
               (double) res->events_rewritten);
    log_info("debtor erased tenant=%s debtor=%s trigger=%s forced=%s rows=%lld events=%lld"
             " files=%lld", tenant, id, trigger, force ? "yes" : "no", res->rows_changed,
             res->events_rewritten, res->files_queued);
    return 0;

db_error:
    db_rollback(db);
    free(external_id);
    if (events) {
        eventlog_reset(events);
        eventlog_batch_destroy(&events);
    }
    count_erased(trigger, "error");
    res->status = 503;
    snprintf(res->field, sizeof res->field, "database");
    snprintf(res->reason, sizeof res->reason, "unavailable");
    return -1;
}
