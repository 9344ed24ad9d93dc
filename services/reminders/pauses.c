/*  pauses: debtors, disputes, plans and promises from events (pauses.h). */
#include "pauses.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "dates.h"
#include "envelope.h"
#include "log.h"

typedef int (pause_fn)(db_t *db, const char *tenant, const Creance__Envelope *env);

static void fmt_id(char out[24], int64_t v)
{
    snprintf(out, 24, "%" PRId64, v);
}

/*  "{1,2,3}" for a bigint[] parameter; caller frees. */
static char *id_array(const int64_t *v, size_t n)
{
    char *s = malloc(2 + n * 21 + 1);
    if (!s)
        return NULL;
    size_t p = 0;
    s[p++] = '{';
    for (size_t i = 0; i < n; i++)
        p += (size_t) sprintf(s + p, "%s%" PRId64, i ? "," : "", v[i]);
    s[p++] = '}';
    s[p] = '\0';
    return s;
}

static bool date_text(const Creance__Date *d, char out[11])
{
    int32_t days;
    if (!d || !date_from_pb(d, &days))
        return false;
    date_format(days, out);
    return true;
}

static int debtor_upsert(db_t *db, const char *tenant, const Creance__DebtorCreated *d)
{
    if (!d || d->debtor_id <= 0)
        return 0;
    char id[24], kind[8];
    fmt_id(id, d->debtor_id);
    snprintf(kind, sizeof kind, "%d", d->kind == CREANCE__DEBTOR_KIND__CONSUMER ? 2 : 1);
    /*  The address's jsonb is built by the server from text parameters. */
    const char *p[] = {
        tenant, id, d->legal_name ? d->legal_name : "", kind,
        d->country && strlen(d->country) == 2 ? d->country : "FR",
        d->language && *d->language ? d->language : "fr",
        d->time_zone && *d->time_zone ? d->time_zone : "Europe/Paris",
        d->email ? d->email : "", d->phone ? d->phone : "",
        d->address && d->address->line1 ? d->address->line1 : "",
        d->address && d->address->line2 ? d->address->line2 : "",
        d->address && d->address->postal_code ? d->address->postal_code : "",
        d->address && d->address->city ? d->address->city : "",
        d->address && d->address->country ? d->address->country : "",
    };
    return db_run(db,
        "INSERT INTO rem_debtors (tenant, debtor_id, legal_name, kind, country, language,"
        " time_zone, email, phone, address) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9,"
        " CASE WHEN $10 = '' AND $12 = '' AND $13 = '' THEN '{}'::jsonb ELSE"
        " jsonb_build_object('line1', $10::text, 'line2', $11::text, 'postal_code', $12::text,"
        " 'city', $13::text, 'country', $14::text) END)"
        " ON CONFLICT (tenant, debtor_id) DO UPDATE SET legal_name = EXCLUDED.legal_name,"
        " kind = EXCLUDED.kind, country = EXCLUDED.country, language = EXCLUDED.language,"
        " time_zone = EXCLUDED.time_zone, email = EXCLUDED.email, phone = EXCLUDED.phone,"
        " address = EXCLUDED.address"
        /*  An erased debtor keeps its pseudonym whatever an older event says. */
        " WHERE NOT rem_debtors.erased", 14, p);
}

/*  DebtorErased: the erasure (reporting's erase.c) rewrote reminders'
    tables in its transaction; this does it again in stream order, after
    whatever an older event or a delivery in flight wrote since: the copy
    blanked and marked erased (the dunning pass and the sender skip erased
    debtors), pending deliveries failed, open worklist tasks closed, and
    the letters' files queued for deletion (purge.h). */
static int on_debtor_erased(db_t *db, const char *tenant, const Creance__Envelope *env)
{
    const Creance__DebtorErased *e = env->debtor_erased;
    if (e->debtor_id <= 0)
        return 0;
    char id[24], pseudonym[32];
    fmt_id(id, e->debtor_id);
    snprintf(pseudonym, sizeof pseudonym, "erased-%s", id);
    const char *p3[] = { tenant, id, pseudonym };
    const char *p2[] = { tenant, id };
    if (db_run(db,
            "INSERT INTO rem_debtors (tenant, debtor_id, legal_name, erased) VALUES ($1, $2::bigint,"
            " $3, true) ON CONFLICT (tenant, debtor_id) DO UPDATE SET legal_name = $3, email = '',"
            " phone = '', address = '{}', erased = true", 3, p3)
        || db_run(db,
            "INSERT INTO gdpr_file_purges (tenant, debtor_id, delivery_id, file)"
            " SELECT d.tenant, r.debtor_id, d.id, d.provider_message_id FROM reminders r"
            " JOIN reminder_deliveries d ON d.tenant = r.tenant AND d.reminder_id = r.id"
            " WHERE r.tenant = $1 AND r.debtor_id = $2::bigint AND d.channel IN ('letter', 'handoff')"
            "   AND d.provider_message_id LIKE '%.pdf' AND d.provider_message_id !~ '/'"
            " ON CONFLICT DO NOTHING", 2, p2)
        || db_run(db,
            "UPDATE reminder_deliveries d SET recipient = '', subject = '', content = '',"
            " last_error = CASE WHEN d.status IN ('pending', 'sending')"
            "   THEN 'debtor erased (personal data)' ELSE '' END,"
            " status = CASE WHEN d.status IN ('pending', 'sending') THEN 'failed' ELSE d.status END,"
            " content_purged_at = COALESCE(d.content_purged_at, now())"
            " FROM reminders r WHERE r.tenant = $1 AND r.debtor_id = $2::bigint"
            "   AND d.tenant = r.tenant AND d.reminder_id = r.id", 2, p2)
        || db_run(db, "UPDATE reminders SET status = 'failed' WHERE tenant = $1"
                      " AND debtor_id = $2::bigint AND status = 'pending'", 2, p2)
        || db_run(db, "UPDATE rem_worklist SET phone = '', note = '', status = 'done'"
                      " WHERE tenant = $1 AND debtor_id = $2::bigint"
                      " AND (phone <> '' OR note <> '' OR status <> 'done')", 2, p2))
        return -1;
    log_info("debtor erased, reminders' copy blanked tenant=%s debtor=%s", tenant, id);
    return 0;
}

static int on_debtor_created(db_t *db, const char *tenant, const Creance__Envelope *env)
{
    return debtor_upsert(db, tenant, env->debtor_created);
}

static int on_debtor_updated(db_t *db, const char *tenant, const Creance__Envelope *env)
{
    return debtor_upsert(db, tenant, env->debtor_updated->debtor);
}

static int on_risk_scored(db_t *db, const char *tenant, const Creance__Envelope *env)
{
    const Creance__RiskScored *e = env->risk_scored;
    if (e->debtor_id <= 0 || !e->grade || strlen(e->grade) != 1 || e->grade[0] < 'A' || e->grade[0] > 'E')
        return 0;
    char id[24];
    fmt_id(id, e->debtor_id);
    const char *p[] = { tenant, id, e->grade };
    return db_run(db, "UPDATE rem_debtors SET grade = $3 WHERE tenant = $1 AND debtor_id = $2", 3, p);
}

static int on_grade_changed(db_t *db, const char *tenant, const Creance__Envelope *env)
{
    const Creance__GradeChanged *e = env->grade_changed;
    if (e->debtor_id <= 0 || !e->to_grade || strlen(e->to_grade) != 1 || e->to_grade[0] < 'A'
        || e->to_grade[0] > 'E')
        return 0;
    char id[24];
    fmt_id(id, e->debtor_id);
    const char *p[] = { tenant, id, e->to_grade };
    return db_run(db, "UPDATE rem_debtors SET grade = $3 WHERE tenant = $1 AND debtor_id = $2", 3, p);
}

static int refresh_disputed(db_t *db, const char *tenant, const char *invoice)
{
    const char *p[] = { tenant, invoice };
    return db_run(db,
        "UPDATE rem_open_items o SET disputed_minor = LEAST(o.open_minor, s.total),"
        " disputed = s.total > 0"
        " FROM (SELECT COALESCE(sum(amount_minor), 0) AS total FROM rem_disputes"
        "       WHERE tenant = $1 AND invoice_id = $2 AND open) s"
        " WHERE o.tenant = $1 AND o.invoice_id = $2", 2, p);
}

static int on_dispute_opened(db_t *db, const char *tenant, const Creance__Envelope *env)
{
    const Creance__DisputeOpened *e = env->dispute_opened;
    if (e->dispute_id <= 0 || e->invoice_id <= 0 || e->debtor_id <= 0)
        return 0;
    char id[24], inv[24], amount[24], debtor[24];
    fmt_id(id, e->dispute_id);
    fmt_id(inv, e->invoice_id);
    fmt_id(debtor, e->debtor_id);
    /*  No amount: the whole invoice (LEAST with open_minor caps it). */
    int64_t a = e->amount && e->amount->minor > 0 ? e->amount->minor : INT64_MAX / 4;
    fmt_id(amount, a);
    const char *p[] = { tenant, id, inv, amount, debtor };
    if (db_run(db, "INSERT INTO rem_disputes (tenant, debtor_id, dispute_id, invoice_id, amount_minor)"
                   " VALUES ($1, $5, $2, $3, $4) ON CONFLICT (tenant, dispute_id) DO NOTHING", 5, p))
        return -1;
    return refresh_disputed(db, tenant, inv);
}

static int on_dispute_resolved(db_t *db, const char *tenant, const Creance__Envelope *env)
{
    const Creance__DisputeResolved *e = env->dispute_resolved;
    if (e->dispute_id <= 0 || e->invoice_id <= 0)
        return 0;
    char id[24], inv[24], amount[24];
    fmt_id(id, e->dispute_id);
    fmt_id(inv, e->invoice_id);
    /*  The amount no longer disputed; none: the whole dispute. */
    fmt_id(amount, e->amount && e->amount->minor > 0 ? e->amount->minor : 0);
    const char *p[] = { tenant, id, amount };
    if (db_run(db, "UPDATE rem_disputes SET"
                   " amount_minor = CASE WHEN $3::bigint = 0 THEN 0 ELSE GREATEST(amount_minor - $3::bigint, 0) END,"
                   " open = ($3::bigint <> 0 AND amount_minor - $3::bigint > 0)"
                   " WHERE tenant = $1 AND dispute_id = $2 AND open", 3, p))
        return -1;
    return refresh_disputed(db, tenant, inv);
}

static int on_plan_agreed(db_t *db, const char *tenant, const Creance__Envelope *env)
{
    const Creance__PaymentPlanAgreed *e = env->plan_agreed;
    if (e->plan_id <= 0 || e->debtor_id <= 0)
        return 0;
    char plan[24], debtor[24], agreed[11] = "";
    fmt_id(plan, e->plan_id);
    fmt_id(debtor, e->debtor_id);
    bool has_agreed = date_text(e->agreed_date, agreed);
    char *ids = id_array(e->invoice_ids, e->n_invoice_ids);
    if (!ids)
        return -1;
    const char *p[] = { tenant, plan, debtor, ids, has_agreed ? agreed : NULL };
    int rc = db_run(db, "INSERT INTO rem_plans (tenant, plan_id, debtor_id, invoice_ids, agreed_date)"
                        " VALUES ($1, $2, $3, $4, $5) ON CONFLICT (tenant, plan_id) DO NOTHING", 5, p);
    if (!rc)
        rc = db_run(db, "UPDATE rem_open_items SET plan_id = $2 WHERE tenant = $1"
                        " AND invoice_id = ANY($4::bigint[]) AND debtor_id = $3", 4, p);
    free(ids);
    for (size_t i = 0; !rc && i < e->n_instalments; i++) {
        const Creance__Instalment *in = e->instalments[i];
        char num[16], due[11], amount[24];
        if (!in || !date_text(in->due_date, due) || !in->amount || !in->amount->currency)
            continue;
        snprintf(num, sizeof num, "%d", in->number);
        fmt_id(amount, in->amount->minor);
        const char *q[] = { tenant, plan, num, due, in->amount->currency, amount, debtor };
        rc = db_run(db, "INSERT INTO rem_plan_instalments (tenant, debtor_id, plan_id, number,"
                        " due_date, currency, amount_minor) VALUES ($1, $7, $2, $3, $4, $5, $6)"
                        " ON CONFLICT DO NOTHING", 7, q);
    }
    return rc;
}

static int instalment_status(db_t *db, const char *tenant, int64_t plan_id,
                             const Creance__Instalment *in, const char *status)
{
    if (!in)
        return 0;
    char plan[24], num[16];
    fmt_id(plan, plan_id);
    snprintf(num, sizeof num, "%d", in->number);
    const char *p[] = { tenant, plan, num, status };
    return db_run(db, "UPDATE rem_plan_instalments SET status = $4 WHERE tenant = $1"
                      " AND plan_id = $2 AND number = $3", 4, p);
}

/*  The plan no longer holds its invoices; `escalate`: they go to the next
    level at once. */
static int plan_release(db_t *db, const char *tenant, int64_t plan_id, const char *status,
                        bool escalate)
{
    char plan[24];
    fmt_id(plan, plan_id);
    const char *p[] = { tenant, plan, status };
    if (db_run(db, "UPDATE rem_plans SET status = $3 WHERE tenant = $1 AND plan_id = $2"
                   " AND status = 'active'", 3, p))
        return -1;
    return db_run(db, escalate
        ? "UPDATE rem_open_items SET plan_id = NULL, min_level = GREATEST(min_level, last_level + 1)"
          " WHERE tenant = $1 AND plan_id = $2"
        : "UPDATE rem_open_items SET plan_id = NULL WHERE tenant = $1 AND plan_id = $2", 2, p);
}

static int on_instalment_paid(db_t *db, const char *tenant, const Creance__Envelope *env)
{
    const Creance__InstalmentPaid *e = env->instalment_paid;
    return e->plan_id > 0 ? instalment_status(db, tenant, e->plan_id, e->instalment, "paid") : 0;
}

static int on_instalment_missed(db_t *db, const char *tenant, const Creance__Envelope *env)
{
    const Creance__InstalmentMissed *e = env->instalment_missed;
    if (e->plan_id <= 0)
        return 0;
    if (instalment_status(db, tenant, e->plan_id, e->instalment, "missed"))
        return -1;
    return plan_release(db, tenant, e->plan_id, "missed", true);
}

static int on_plan_defaulted(db_t *db, const char *tenant, const Creance__Envelope *env)
{
    const Creance__PlanDefaulted *e = env->plan_defaulted;
    return e->plan_id > 0 ? plan_release(db, tenant, e->plan_id, "defaulted", true) : 0;
}

static int on_plan_completed(db_t *db, const char *tenant, const Creance__Envelope *env)
{
    const Creance__PlanCompleted *e = env->plan_completed;
    return e->plan_id > 0 ? plan_release(db, tenant, e->plan_id, "completed", false) : 0;
}

static int on_promise_made(db_t *db, const char *tenant, const Creance__Envelope *env)
{
    const Creance__PromiseMade *e = env->promise_made;
    char promised[11];
    if (e->promise_id <= 0 || e->debtor_id <= 0 || !date_text(e->promised_date, promised))
        return 0;
    char id[24], debtor[24];
    fmt_id(id, e->promise_id);
    fmt_id(debtor, e->debtor_id);
    char *ids = id_array(e->invoice_ids, e->n_invoice_ids);
    if (!ids)
        return -1;
    const char *p[] = { tenant, id, debtor, ids, promised };
    int rc = db_run(db, "INSERT INTO rem_promises (tenant, promise_id, debtor_id, invoice_ids,"
                        " promised_date) VALUES ($1, $2, $3, $4, $5)"
                        " ON CONFLICT (tenant, promise_id) DO NOTHING", 5, p);
    if (!rc)
        rc = db_run(db, "UPDATE rem_open_items SET promise_id = $2, promise_until = $5"
                        " WHERE tenant = $1 AND debtor_id = $3"
                        " AND (cardinality($4::bigint[]) = 0 OR invoice_id = ANY($4::bigint[]))",
                    5, p);
    free(ids);
    return rc;
}

static int promise_end(db_t *db, const char *tenant, int64_t promise_id, const char *status,
                       bool escalate)
{
    char id[24];
    fmt_id(id, promise_id);
    const char *p[] = { tenant, id, status };
    if (db_run(db, "UPDATE rem_promises SET status = $3 WHERE tenant = $1 AND promise_id = $2"
                   " AND status = 'open'", 3, p))
        return -1;
    return db_run(db, escalate
        ? "UPDATE rem_open_items SET promise_id = NULL, promise_until = NULL,"
          " min_level = GREATEST(min_level, last_level + 1) WHERE tenant = $1 AND promise_id = $2"
        : "UPDATE rem_open_items SET promise_id = NULL, promise_until = NULL"
          " WHERE tenant = $1 AND promise_id = $2", 2, p);
}

static int on_promise_kept(db_t *db, const char *tenant, const Creance__Envelope *env)
{
    const Creance__PromiseKept *e = env->promise_kept;
    return e->promise_id > 0 ? promise_end(db, tenant, e->promise_id, "kept", false) : 0;
}

static int on_promise_broken(db_t *db, const char *tenant, const Creance__Envelope *env)
{
    const Creance__PromiseBroken *e = env->promise_broken;
    return e->promise_id > 0 ? promise_end(db, tenant, e->promise_id, "broken", true) : 0;
}

/*  What messages say about an invoice; the first issuance wins. */
static int on_invoice_issued(db_t *db, const char *tenant, const Creance__Envelope *env)
{
    const Creance__InvoiceIssued *e = env->invoice_issued;
    char issue[11];
    if (e->invoice_id <= 0 || e->debtor_id <= 0 || !e->amount || !date_text(e->issue_date, issue))
        return 0;
    char id[24], amount[24], debtor[24];
    fmt_id(id, e->invoice_id);
    fmt_id(amount, e->amount->minor);
    fmt_id(debtor, e->debtor_id);
    const char *p[] = { tenant, id, e->number ? e->number : "", issue, amount, debtor };
    return db_run(db, "INSERT INTO rem_invoices (tenant, debtor_id, invoice_id, number, issue_date,"
                      " amount_minor) VALUES ($1, $6, $2, $3, $4, $5)"
                      " ON CONFLICT (tenant, invoice_id) DO NOTHING", 6, p);
}

/*  Event case -> handler; cases not listed change nothing here. */
static const struct {
    Creance__Envelope__EventCase event;
    pause_fn *fn;
} s_handlers[] = {
    { CREANCE__ENVELOPE__EVENT_INVOICE_ISSUED,    on_invoice_issued },
    { CREANCE__ENVELOPE__EVENT_DEBTOR_CREATED,    on_debtor_created },
    { CREANCE__ENVELOPE__EVENT_DEBTOR_UPDATED,    on_debtor_updated },
    { CREANCE__ENVELOPE__EVENT_DEBTOR_ERASED,     on_debtor_erased },
    { CREANCE__ENVELOPE__EVENT_RISK_SCORED,       on_risk_scored },
    { CREANCE__ENVELOPE__EVENT_GRADE_CHANGED,     on_grade_changed },
    { CREANCE__ENVELOPE__EVENT_DISPUTE_OPENED,    on_dispute_opened },
    { CREANCE__ENVELOPE__EVENT_DISPUTE_RESOLVED,  on_dispute_resolved },
    { CREANCE__ENVELOPE__EVENT_PLAN_AGREED,       on_plan_agreed },
    { CREANCE__ENVELOPE__EVENT_INSTALMENT_PAID,   on_instalment_paid },
    { CREANCE__ENVELOPE__EVENT_INSTALMENT_MISSED, on_instalment_missed },
    { CREANCE__ENVELOPE__EVENT_PLAN_DEFAULTED,    on_plan_defaulted },
    { CREANCE__ENVELOPE__EVENT_PLAN_COMPLETED,    on_plan_completed },
    { CREANCE__ENVELOPE__EVENT_PROMISE_MADE,      on_promise_made },
    { CREANCE__ENVELOPE__EVENT_PROMISE_KEPT,      on_promise_kept },
    { CREANCE__ENVELOPE__EVENT_PROMISE_BROKEN,    on_promise_broken },
};

int rem_pauses_apply(db_t *db, const Creance__Envelope *env)
{
    for (size_t i = 0; i < sizeof s_handlers / sizeof s_handlers[0]; i++) {
        if (s_handlers[i].event != env->event_case)
            continue;
        if (!env->debtor_created)           /* any member of the oneof union */
            return 0;
        if (env->event_case == CREANCE__ENVELOPE__EVENT_DEBTOR_UPDATED && !env->debtor_updated->debtor)
            return 0;
        int rc = s_handlers[i].fn(db, env->tenant, env);
        if (rc)
            log_error("pause state not updated tenant=%s stream=%s seq=%" PRId64 " type=%s error=%s",
                      env->tenant, env->stream, env->seq, envelope_type_name(env), db_last_error(db));
        return rc;
    }
    return 0;
}
