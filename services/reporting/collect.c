/*  collect: plan, promise and reminder events -> collection facts.
    See collect.h for the mapping. */
#include "collect.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "dates.h"
#include "facts.h"
#include "log.h"

typedef struct { char s[24]; } num_t;
static num_t num(int64_t v) { num_t n; snprintf(n.s, sizeof n.s, "%" PRId64, v); return n; }
typedef struct { char s[11]; } day_t;
static day_t day(int32_t d) { day_t t; date_format(d, t.s); return t; }

/* ------------------------------------------------------------------ pure */

const char *rpt_channel_name(int channel)
{
    switch (channel) {
    case CREANCE__CHANNEL__EMAIL:   return "email";
    case CREANCE__CHANNEL__SMS:     return "sms";
    case CREANCE__CHANNEL__LETTER:  return "letter";
    case CREANCE__CHANNEL__PHONE:   return "phone";
    case CREANCE__CHANNEL__HANDOFF: return "handoff";
    default:                        return "unspecified";
    }
}

void rpt_reminder_credit(int32_t sent, int32_t paid, bool *in_short, bool *in_long)
{
    int32_t after = paid - sent;
    *in_short = after >= 0 && after <= RPT_REMINDER_WINDOW_SHORT;
    *in_long = after >= 0 && after <= RPT_REMINDER_WINDOW_LONG;
}

/* ------------------------------------------------------------------ plans */

typedef int (handler_fn)(db_t *db, const Creance__Envelope *env, bool *unknown);

/*  A segment from a row's columns currency, country, kind, grade, collector
    starting at column c. */
static void seg_from_row(PGresult *r, int row, int c, rpt_seg_t *seg)
{
    snprintf(seg->currency, sizeof seg->currency, "%s", PQgetvalue(r, row, c));
    snprintf(seg->country, sizeof seg->country, "%s", PQgetvalue(r, row, c + 1));
    seg->kind = atoi(PQgetvalue(r, row, c + 2));
    snprintf(seg->grade, sizeof seg->grade, "%s", PQgetvalue(r, row, c + 3));
    snprintf(seg->collector, sizeof seg->collector, "%s", PQgetvalue(r, row, c + 4));
}

static int on_plan_agreed(db_t *db, const Creance__Envelope *env, bool *unknown)
{
    const Creance__PaymentPlanAgreed *e = env->plan_agreed;
    const char *currency = NULL;
    for (size_t i = 0; i < e->n_instalments && !currency; i++)
        if (e->instalments[i] && e->instalments[i]->amount
            && e->instalments[i]->amount->currency && strlen(e->instalments[i]->amount->currency) == 3)
            currency = e->instalments[i]->amount->currency;
    if (!currency) {
        *unknown = true;
        return 0;
    }
    rpt_seg_t seg;
    if (rpt_facts_debtor_seg(db, env->tenant, e->debtor_id, &seg))
        return -1;
    num_t plan = num(e->plan_id), debtor = num(e->debtor_id), k = num(seg.kind);
    const char *p[] = { env->tenant, plan.s, debtor.s, currency, seg.country, k.s, seg.grade,
                        seg.collector };
    return db_run(db,
        "INSERT INTO rpt_plans (tenant, plan_id, debtor_id, currency, country, kind, grade,"
        " collector) VALUES ($1, $2::bigint, $3::bigint, $4, $5, $6::smallint, $7, $8)"
        " ON CONFLICT (tenant, plan_id) DO NOTHING", 8, p);
}

/*  InstalmentPaid / InstalmentMissed: counted on the instalment's due date,
    so that adherence over a period is about the instalments that fell due
    in it. */
static int instalment(db_t *db, const Creance__Envelope *env, int64_t debtor_id,
                      const Creance__Instalment *in, bool paid, bool *unknown)
{
    int32_t due;
    if (!in || !in->amount || !in->amount->currency || strlen(in->amount->currency) != 3
        || !date_from_pb(in->due_date, &due)) {
        *unknown = true;
        return 0;
    }
    rpt_seg_t seg;
    if (rpt_facts_debtor_seg(db, env->tenant, debtor_id, &seg))
        return -1;
    snprintf(seg.currency, sizeof seg.currency, "%s", in->amount->currency);
    return rpt_facts_daily_pair(db, env->tenant, &seg, due,
                                paid ? "instalments_paid" : "instalments_missed", 1,
                                paid ? "instalments_paid_minor" : "instalments_missed_minor",
                                in->amount->minor);
}

static int on_instalment_paid(db_t *db, const Creance__Envelope *env, bool *unknown)
{
    const Creance__InstalmentPaid *e = env->instalment_paid;
    return instalment(db, env, e->debtor_id, e->instalment, true, unknown);
}

static int on_instalment_missed(db_t *db, const Creance__Envelope *env, bool *unknown)
{
    const Creance__InstalmentMissed *e = env->instalment_missed;
    return instalment(db, env, e->debtor_id, e->instalment, false, unknown);
}

static int plan_outcome(db_t *db, const Creance__Envelope *env, int64_t plan_id,
                        const Creance__Date *date, const char *column, bool *unknown)
{
    int32_t d;
    if (!date_from_pb(date, &d)) {
        *unknown = true;
        return 0;
    }
    num_t plan = num(plan_id);
    const char *p[] = { env->tenant, plan.s };
    PGresult *r = db_exec(db, "SELECT currency, country, kind, grade, collector FROM rpt_plans"
                              " WHERE tenant = $1 AND plan_id = $2::bigint", 2, p);
    if (!r)
        return -1;
    if (PQntuples(r) != 1) {
        PQclear(r);
        *unknown = true;
        return 0;
    }
    rpt_seg_t seg;
    seg_from_row(r, 0, 0, &seg);
    PQclear(r);
    return rpt_facts_daily_pair(db, env->tenant, &seg, d, column, 1, NULL, 0);
}

static int on_plan_completed(db_t *db, const Creance__Envelope *env, bool *unknown)
{
    const Creance__PlanCompleted *e = env->plan_completed;
    return plan_outcome(db, env, e->plan_id, e->date, "plans_completed", unknown);
}

static int on_plan_defaulted(db_t *db, const Creance__Envelope *env, bool *unknown)
{
    const Creance__PlanDefaulted *e = env->plan_defaulted;
    return plan_outcome(db, env, e->plan_id, e->date, "plans_defaulted", unknown);
}

/* ------------------------------------------------------------------ promises */

static int on_promise_made(db_t *db, const Creance__Envelope *env, bool *unknown)
{
    const Creance__PromiseMade *e = env->promise_made;
    int32_t promised;
    if (!e->amount || !e->amount->currency || strlen(e->amount->currency) != 3
        || !date_from_pb(e->promised_date, &promised)) {
        *unknown = true;
        return 0;
    }
    rpt_seg_t seg;
    if (rpt_facts_debtor_seg(db, env->tenant, e->debtor_id, &seg))
        return -1;
    num_t id = num(e->promise_id), debtor = num(e->debtor_id), k = num(seg.kind),
          amount = num(e->amount->minor);
    day_t pd = day(promised);
    const char *p[] = { env->tenant, id.s, debtor.s, e->amount->currency, seg.country, k.s,
                        amount.s, pd.s, seg.grade, seg.collector };
    return db_run(db,
        "INSERT INTO rpt_promises (tenant, promise_id, debtor_id, currency, country, kind,"
        " amount_minor, promised_date, grade, collector) VALUES ($1, $2::bigint, $3::bigint, $4,"
        " $5, $6::smallint, $7::bigint, $8::date, $9, $10)"
        " ON CONFLICT (tenant, promise_id) DO NOTHING", 10, p);
}

/*  Kept / broken: counted on the promised date (the rate over a period is
    about the promises that were due in it), once per promise. */
static int promise_outcome(db_t *db, const Creance__Envelope *env, int64_t promise_id, bool kept,
                           bool *unknown)
{
    num_t id = num(promise_id);
    const char *p[] = { env->tenant, id.s, kept ? "kept" : "broken" };
    PGresult *r = db_exec(db,
        "UPDATE rpt_promises SET outcome = $3"
        " WHERE tenant = $1 AND promise_id = $2::bigint AND outcome IS NULL"
        " RETURNING currency, country, kind, grade, collector, amount_minor,"
        "  promised_date - date '1970-01-01'", 3, p);
    if (!r)
        return -1;
    if (PQntuples(r) != 1) {
        PQclear(r);
        *unknown = true;
        return 0;
    }
    rpt_seg_t seg;
    seg_from_row(r, 0, 0, &seg);
    int64_t amount = strtoll(PQgetvalue(r, 0, 5), NULL, 10);
    int32_t promised = atoi(PQgetvalue(r, 0, 6));
    PQclear(r);
    return rpt_facts_daily_pair(db, env->tenant, &seg, promised,
                                kept ? "promises_kept" : "promises_broken", 1,
                                kept ? "promises_kept_minor" : "promises_broken_minor", amount);
}

static int on_promise_kept(db_t *db, const Creance__Envelope *env, bool *unknown)
{
    return promise_outcome(db, env, env->promise_kept->promise_id, true, unknown);
}

static int on_promise_broken(db_t *db, const Creance__Envelope *env, bool *unknown)
{
    return promise_outcome(db, env, env->promise_broken->promise_id, false, unknown);
}

/* ------------------------------------------------------------------ reminders */

static int on_reminder_scheduled(db_t *db, const Creance__Envelope *env, bool *unknown)
{
    (void) unknown;
    const Creance__ReminderScheduled *e = env->reminder_scheduled;
    /*  The invoice ids as a PostgreSQL array literal. */
    size_t cap = 3 + e->n_invoice_ids * 21;
    char *ids = malloc(cap);
    if (!ids)
        return -1;
    size_t at = (size_t) snprintf(ids, cap, "{");
    for (size_t i = 0; i < e->n_invoice_ids; i++)
        at += (size_t) snprintf(ids + at, cap - at, "%s%" PRId64, i ? "," : "", e->invoice_ids[i]);
    snprintf(ids + at, cap - at, "}");
    num_t id = num(e->reminder_id), debtor = num(e->debtor_id), level = num(e->level);
    const char *p[] = { env->tenant, id.s, debtor.s, ids, level.s, rpt_channel_name(e->channel) };
    int rc = db_run(db,
        "INSERT INTO rpt_reminders (tenant, reminder_id, debtor_id, invoice_ids, level, channel)"
        " VALUES ($1, $2::bigint, $3::bigint, $4::bigint[], $5::int, $6)"
        " ON CONFLICT (tenant, reminder_id) DO NOTHING", 6, p);
    free(ids);
    return rc;
}

/*  The currency and segment a reminder counts in: its first invoice's
    currency, country and kind, or for a reminder naming none (or none
    known) the debtor's latest invoice's currency and the debtor's country
    and kind; grade and collector are the debtor's at the time of sending.
    *found is false when the debtor has no invoice: nothing to weigh the
    contact against. */
static int reminder_seg(db_t *db, const char *tenant, const char *reminder_s, int64_t debtor_id,
                        rpt_seg_t *seg, bool *found)
{
    if (rpt_facts_debtor_seg(db, tenant, debtor_id, seg))
        return -1;
    num_t debtor = num(debtor_id);
    const char *p[] = { tenant, reminder_s, debtor.s };
    PGresult *r = db_exec(db,
        "SELECT i.currency, i.country, i.kind FROM rpt_reminders m"
        " JOIN rpt_invoices i ON i.tenant = m.tenant AND i.invoice_id = m.invoice_ids[1]"
        " WHERE m.tenant = $1 AND m.reminder_id = $2::bigint"
        " UNION ALL (SELECT currency, NULL, NULL FROM rpt_invoices"
        "  WHERE tenant = $1 AND debtor_id = $3::bigint ORDER BY issue_date DESC, invoice_id DESC"
        "  LIMIT 1) LIMIT 1", 3, p);
    if (!r)
        return -1;
    *found = PQntuples(r) == 1;
    if (*found) {
        snprintf(seg->currency, sizeof seg->currency, "%s", PQgetvalue(r, 0, 0));
        if (!PQgetisnull(r, 0, 1)) {
            snprintf(seg->country, sizeof seg->country, "%s", PQgetvalue(r, 0, 1));
            seg->kind = atoi(PQgetvalue(r, 0, 2));
        }
    }
    PQclear(r);
    return 0;
}

static int reminder_daily_add(db_t *db, const char *tenant, const rpt_seg_t *seg, int32_t d,
                              int level, const char *channel, int64_t sent, int64_t reminded,
                              int64_t paid_short, int64_t paid_long)
{
    num_t k = num(seg->kind), lv = num(level), s = num(sent), n = num(reminded),
          p7 = num(paid_short), p14 = num(paid_long);
    day_t dd = day(d);
    const char *p[] = { tenant, seg->currency, seg->country, k.s, dd.s, lv.s, channel, s.s, n.s,
                        p7.s, p14.s, seg->grade, seg->collector };
    return db_run(db,
        "INSERT INTO rpt_reminder_daily (tenant, currency, country, kind, grade, collector, day,"
        " level, channel, sent, reminded_invoices, paid_7d, paid_14d) VALUES ($1, $2, $3,"
        " $4::smallint, $12, $13, $5::date, $6::int, $7, $8::bigint, $9::bigint, $10::bigint,"
        " $11::bigint)"
        " ON CONFLICT (tenant, currency, country, kind, grade, collector, day, level, channel)"
        " DO UPDATE SET sent = rpt_reminder_daily.sent + EXCLUDED.sent,"
        " reminded_invoices = rpt_reminder_daily.reminded_invoices + EXCLUDED.reminded_invoices,"
        " paid_7d = rpt_reminder_daily.paid_7d + EXCLUDED.paid_7d,"
        " paid_14d = rpt_reminder_daily.paid_14d + EXCLUDED.paid_14d", 13, p);
}

static int on_reminder_sent(db_t *db, const Creance__Envelope *env, bool *unknown)
{
    const Creance__ReminderSent *e = env->reminder_sent;
    const char *t = env->tenant;
    int32_t sent = (int32_t) (e->sent_at_us / 86400000000LL);
    if (e->sent_at_us <= 0)
        sent = (int32_t) (env->occurred_at_us / 86400000000LL);
    const char *channel = rpt_channel_name(e->channel);
    num_t id = num(e->reminder_id), debtor = num(e->debtor_id), level = num(e->level);
    day_t sd = day(sent);
    /*  A ReminderSent without its ReminderScheduled (none from reminders
        today) still counts as a contact, naming no invoice. */
    const char *p[] = { t, id.s, debtor.s, level.s, channel, sd.s };
    PGresult *r = db_exec(db,
        "INSERT INTO rpt_reminders (tenant, reminder_id, debtor_id, level, channel, sent_date)"
        " VALUES ($1, $2::bigint, $3::bigint, $4::int, $5, $6::date)"
        " ON CONFLICT (tenant, reminder_id) DO UPDATE SET sent_date = EXCLUDED.sent_date,"
        "  level = EXCLUDED.level, channel = EXCLUDED.channel"
        "  WHERE rpt_reminders.sent_date IS NULL"
        " RETURNING 1", 6, p);
    if (!r)
        return -1;
    bool fresh = PQntuples(r) == 1;
    PQclear(r);
    if (!fresh) {
        /*  Sent twice: the first one counts. */
        *unknown = true;
        return 0;
    }
    rpt_seg_t seg;
    bool found = false;
    if (reminder_seg(db, t, id.s, e->debtor_id, &seg, &found))
        return -1;
    if (!found) {
        *unknown = true;
        return 0;
    }
    num_t k = num(seg.kind);
    const char *u[] = { t, id.s, seg.currency, seg.country, k.s, seg.grade, seg.collector };
    if (db_run(db, "UPDATE rpt_reminders SET currency = $3, country = $4, kind = $5::smallint,"
                   " grade = $6, collector = $7 WHERE tenant = $1 AND reminder_id = $2::bigint",
                   7, u))
        return -1;
    /*  One row per invoice it names, known to reporting yet or not (the
        ledger stream may be behind). An invoice counts as reminded unless
        it was paid before the day the reminder was sent; when it was paid
        since (the ledger stream may be ahead), the windows are checked now;
        otherwise rpt_collect_invoice_paid does it when it is paid. */
    const char *q[] = { t, id.s, sd.s, seg.currency, seg.country, k.s, seg.grade, seg.collector };
    r = db_exec(db,
        "INSERT INTO rpt_reminded (tenant, debtor_id, invoice_id, reminder_id, sent_date, level,"
        " channel, currency, country, kind, grade, collector)"
        " SELECT m.tenant, m.debtor_id, u.id, m.reminder_id, $3::date, m.level, m.channel, $4, $5,"
        "  $6::smallint,"
        "  $7, $8"
        " FROM rpt_reminders m, unnest(m.invoice_ids) AS u(id)"
        " WHERE m.tenant = $1 AND m.reminder_id = $2::bigint"
        " ON CONFLICT DO NOTHING"
        " RETURNING (SELECT x.paid_date - $3::date FROM rpt_invoices x"
        "  WHERE x.tenant = $1 AND x.invoice_id = rpt_reminded.invoice_id)", 8, q);
    if (!r)
        return -1;
    int64_t reminded = 0, p7 = 0, p14 = 0;
    for (int i = 0; i < PQntuples(r); i++) {
        if (PQgetisnull(r, i, 0)) {
            reminded++;             /* not paid (or not known) yet */
            continue;
        }
        int32_t after = atoi(PQgetvalue(r, i, 0));
        if (after < 0)
            continue;               /* paid before the reminder: not reminded */
        reminded++;
        bool s7, s14;
        rpt_reminder_credit(sent, sent + after, &s7, &s14);
        p7 += s7;
        p14 += s14;
    }
    PQclear(r);
    return reminder_daily_add(db, t, &seg, sent, (int) e->level, channel, 1, reminded, p7, p14);
}

int rpt_collect_invoice_paid(db_t *db, const char *tenant, int64_t invoice_id, int32_t paid,
                             int sign)
{
    num_t id = num(invoice_id), s = num(sign);
    day_t pd = day(paid);
    const char *p[] = { tenant, id.s, pd.s, s.s };
    /*  Reminders sent in the 14 days up to the payment are credited with it;
        those sent after it no longer count as reminding an unpaid invoice
        (the payment was recorded late). Grouped: two reminders of the same
        day, level and channel would otherwise hit one row twice. */
    return db_run(db,
        "INSERT INTO rpt_reminder_daily (tenant, currency, country, kind, grade, collector, day,"
        " level, channel, reminded_invoices, paid_7d, paid_14d)"
        " SELECT tenant, currency, country, kind, grade, collector, sent_date, level, channel,"
        "  -$4::int * count(*) FILTER (WHERE sent_date > $3::date),"
        "  $4::int * count(*) FILTER (WHERE sent_date BETWEEN $3::date - 7 AND $3::date),"
        "  $4::int * count(*) FILTER (WHERE sent_date BETWEEN $3::date - 14 AND $3::date)"
        " FROM rpt_reminded WHERE tenant = $1 AND invoice_id = $2::bigint"
        "  AND sent_date >= $3::date - 14"
        " GROUP BY tenant, currency, country, kind, grade, collector, sent_date, level, channel"
        " ON CONFLICT (tenant, currency, country, kind, grade, collector, day, level, channel)"
        " DO UPDATE SET"
        " reminded_invoices = rpt_reminder_daily.reminded_invoices + EXCLUDED.reminded_invoices,"
        " paid_7d = rpt_reminder_daily.paid_7d + EXCLUDED.paid_7d,"
        " paid_14d = rpt_reminder_daily.paid_14d + EXCLUDED.paid_14d", 4, p);
}

/* ------------------------------------------------------------------ dispatch */

/*  Event case -> handler. Cases not listed are facts.c's or nobody's. */
static const struct {
    Creance__Envelope__EventCase event;
    handler_fn *fn;
} s_handlers[] = {
    { CREANCE__ENVELOPE__EVENT_PLAN_AGREED,        on_plan_agreed },
    { CREANCE__ENVELOPE__EVENT_INSTALMENT_PAID,    on_instalment_paid },
    { CREANCE__ENVELOPE__EVENT_INSTALMENT_MISSED,  on_instalment_missed },
    { CREANCE__ENVELOPE__EVENT_PLAN_COMPLETED,     on_plan_completed },
    { CREANCE__ENVELOPE__EVENT_PLAN_DEFAULTED,     on_plan_defaulted },
    { CREANCE__ENVELOPE__EVENT_PROMISE_MADE,       on_promise_made },
    { CREANCE__ENVELOPE__EVENT_PROMISE_KEPT,       on_promise_kept },
    { CREANCE__ENVELOPE__EVENT_PROMISE_BROKEN,     on_promise_broken },
    { CREANCE__ENVELOPE__EVENT_REMINDER_SCHEDULED, on_reminder_scheduled },
    { CREANCE__ENVELOPE__EVENT_REMINDER_SENT,      on_reminder_sent },
};

int rpt_collect_apply(db_t *db, const Creance__Envelope *env, bool *unknown)
{
    *unknown = false;
    /*  The oneof pointer of the case is the first word of the union: any
        member tells whether the submessage is there. */
    if (!env->invoice_issued)
        return 0;
    for (size_t i = 0; i < sizeof s_handlers / sizeof s_handlers[0]; i++)
        if (s_handlers[i].event == env->event_case)
            return s_handlers[i].fn(db, env, unknown);
    return 0;
}
