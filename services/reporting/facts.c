/*  facts: ledger event -> KPI fact rows. See facts.h for the mapping. */
#include "facts.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "collect.h"
#include "dates.h"
#include "log.h"

/*  rpt_daily columns, in the order of the upsert's parameters $6.. */
enum {
    D_INVOICED, D_INVOICE_COUNT, D_COLLECTED, D_PAYMENTS, D_SETTLED, D_FELL_DUE,
    D_FELL_DUE_COUNT, D_PAID_COUNT, D_DAYS_TO_PAY, D_DAYS_LATE,
    D_WRITTEN_OFF, D_DISP_OPENED, D_DISP_OPENED_MINOR, D_DISP_RESOLVED,
    D_DISP_RESOLVED_MINOR, D_RESOLUTION_DAYS,
    /*  0041: plans and promises, maintained by collect.c through
        rpt_facts_daily_pair (by column name). */
    D_INST_PAID, D_INST_MISSED, D_INST_PAID_MINOR, D_INST_MISSED_MINOR,
    D_PLANS_COMPLETED, D_PLANS_DEFAULTED, D_PROM_KEPT, D_PROM_BROKEN,
    D_PROM_KEPT_MINOR, D_PROM_BROKEN_MINOR,
    /*  0042: open amounts moved into (+) or out of (-) the segment when a
        debtor's grade or collector changes (segments.c). */
    D_TRANSFERRED, D_COLUMNS
};
static const char *const s_daily_cols[D_COLUMNS] = {
    "invoiced_minor", "invoice_count", "collected_minor", "payments_minor", "settled_minor",
    "fell_due_minor", "fell_due_count", "paid_count",
    "days_to_pay_sum", "days_late_sum", "written_off_minor", "disputes_opened",
    "disputes_opened_minor", "disputes_resolved", "disputes_resolved_minor",
    "resolution_days_sum",
    "instalments_paid", "instalments_missed", "instalments_paid_minor",
    "instalments_missed_minor", "plans_completed", "plans_defaulted", "promises_kept",
    "promises_broken", "promises_kept_minor", "promises_broken_minor", "transferred_minor"
};

/*  The segment and currency a fact is counted in (facts.h). */
typedef rpt_seg_t seg_t;

typedef struct { char s[24]; } num_t;
static num_t num(int64_t v) { num_t n; snprintf(n.s, sizeof n.s, "%" PRId64, v); return n; }
typedef struct { char s[11]; } day_t;
static day_t day(int32_t d) { day_t t; date_format(d, t.s); return t; }

static char *s_daily_sql;

static const char *daily_sql(void)
{
    if (s_daily_sql)
        return s_daily_sql;
    char cols[2048] = "", vals[1024] = "", sets[4096] = "";
    for (int i = 0; i < D_COLUMNS; i++) {
        char buf[160];
        snprintf(buf, sizeof buf, ", %s", s_daily_cols[i]);
        strcat(cols, buf);
        snprintf(buf, sizeof buf, ", $%d", i + 8);
        strcat(vals, buf);
        snprintf(buf, sizeof buf, "%s%s = rpt_daily.%s + EXCLUDED.%s", i ? ", " : "",
                 s_daily_cols[i], s_daily_cols[i], s_daily_cols[i]);
        strcat(sets, buf);
    }
    size_t n = strlen(cols) + strlen(vals) + strlen(sets) + 256;
    s_daily_sql = malloc(n);
    if (s_daily_sql)
        snprintf(s_daily_sql, n,
                 "INSERT INTO rpt_daily (tenant, currency, country, kind, grade, collector, day%s)"
                 " VALUES ($1, $2, $3, $4::smallint, $6, $7, $5::date%s)"
                 " ON CONFLICT (tenant, currency, country, kind, grade, collector, day)"
                 " DO UPDATE SET %s",
                 cols, vals, sets);
    return s_daily_sql;
}

/*  Adds `v` (D_COLUMNS values) to the daily row of (seg, d). */
static int daily_add(db_t *db, const char *tenant, const seg_t *seg, int32_t d, const int64_t *v)
{
    const char *sql = daily_sql();
    if (!sql)
        return -1;
    num_t vals[D_COLUMNS];
    const char *params[7 + D_COLUMNS];
    num_t kind = num(seg->kind);
    day_t dd = day(d);
    params[0] = tenant;
    params[1] = seg->currency;
    params[2] = seg->country;
    params[3] = kind.s;
    params[4] = dd.s;
    params[5] = seg->grade;
    params[6] = seg->collector;
    for (int i = 0; i < D_COLUMNS; i++) {
        vals[i] = num(v[i]);
        params[7 + i] = vals[i].s;
    }
    return db_run(db, sql, 7 + D_COLUMNS, params);
}

/*  One column of one day. */
static int daily_one(db_t *db, const char *tenant, const seg_t *seg, int32_t d, int col, int64_t by)
{
    int64_t v[D_COLUMNS] = { 0 };
    v[col] = by;
    return daily_add(db, tenant, seg, d, v);
}

/*  open_due[due] and open_moves[due, d] += (amount, count, collected). */
static int open_add(db_t *db, const char *tenant, const seg_t *seg, int32_t due, int32_t d,
                    int64_t amount, int64_t count, int64_t collected)
{
    if (amount == 0 && count == 0 && collected == 0)
        return 0;
    num_t kind = num(seg->kind), a = num(amount), c = num(count), k = num(collected);
    day_t dd = day(due), on = day(d);
    const char *p1[] = { tenant, seg->currency, seg->country, kind.s, dd.s, a.s, c.s, k.s,
                         seg->grade, seg->collector };
    if (db_run(db,
               "INSERT INTO rpt_open_due (tenant, currency, country, kind, grade, collector,"
               " due_date, open_minor, open_count, collected_minor) VALUES ($1, $2, $3,"
               " $4::smallint, $9, $10, $5::date, $6::bigint, $7::bigint, $8::bigint)"
               " ON CONFLICT (tenant, currency, country, kind, grade, collector, due_date)"
               " DO UPDATE SET"
               " open_minor = rpt_open_due.open_minor + EXCLUDED.open_minor,"
               " open_count = rpt_open_due.open_count + EXCLUDED.open_count,"
               " collected_minor = rpt_open_due.collected_minor + EXCLUDED.collected_minor",
               10, p1))
        return -1;
    const char *p2[] = { tenant, seg->currency, seg->country, kind.s, dd.s, on.s, a.s, c.s, k.s,
                         seg->grade, seg->collector };
    return db_run(db,
               "INSERT INTO rpt_open_moves (tenant, currency, country, kind, grade, collector,"
               " due_date, day, delta_minor, delta_count, delta_collected_minor) VALUES ($1, $2,"
               " $3, $4::smallint, $10, $11, $5::date, $6::date, $7::bigint, $8::bigint, $9::bigint)"
               " ON CONFLICT (tenant, currency, country, kind, grade, collector, due_date, day)"
               " DO UPDATE SET"
               " delta_minor = rpt_open_moves.delta_minor + EXCLUDED.delta_minor,"
               " delta_count = rpt_open_moves.delta_count + EXCLUDED.delta_count,"
               " delta_collected_minor = rpt_open_moves.delta_collected_minor"
               " + EXCLUDED.delta_collected_minor", 11, p2);
}

/*  The debtor's segment; unknown debtors count in country "--", kind 0. */
static int debtor_seg(db_t *db, const char *tenant, int64_t debtor_id, seg_t *seg)
{
    num_t id = num(debtor_id);
    const char *params[] = { tenant, id.s };
    PGresult *r = db_exec(db, "SELECT country, kind, grade, collector FROM rpt_debtors"
                              " WHERE tenant = $1 AND debtor_id = $2::bigint", 2, params);
    if (!r)
        return -1;
    if (PQntuples(r) == 1) {
        snprintf(seg->country, sizeof seg->country, "%s", PQgetvalue(r, 0, 0));
        seg->kind = atoi(PQgetvalue(r, 0, 1));
        snprintf(seg->grade, sizeof seg->grade, "%s", PQgetvalue(r, 0, 2));
        snprintf(seg->collector, sizeof seg->collector, "%s", PQgetvalue(r, 0, 3));
    }
    else {
        snprintf(seg->country, sizeof seg->country, "--");
        seg->kind = 0;
        snprintf(seg->grade, sizeof seg->grade, "-");
        seg->collector[0] = '\0';
    }
    PQclear(r);
    return 0;
}

static int32_t pb_day(const Creance__Date *d, int32_t fallback)
{
    int32_t v;
    return date_from_pb(d, &v) ? v : fallback;
}

static int32_t occurred_day(const Creance__Envelope *env)
{
    return (int32_t) (env->occurred_at_us / 86400000000LL);
}

/* ------------------------------------------------------------ events */

static int on_debtor(db_t *db, const char *tenant, const Creance__DebtorCreated *d)
{
    if (!d)
        return 0;
    num_t id = num(d->debtor_id), kind = num(d->kind);
    const char *country = d->country && strlen(d->country) == 2 ? d->country : "--";
    /*  company_id and email: for debtor search (0050_rpt_debtor_search.sql). */
    const char *params[] = { tenant, id.s, d->external_id ? d->external_id : "",
                             d->legal_name ? d->legal_name : "", country, kind.s,
                             d->company_id ? d->company_id : "", d->email ? d->email : "" };
    return db_run(db,
        "INSERT INTO rpt_debtors (tenant, debtor_id, external_id, legal_name, country, kind,"
        " company_id, email)"
        " VALUES ($1, $2::bigint, $3, $4, $5, $6::smallint, $7, $8)"
        " ON CONFLICT (tenant, debtor_id) DO UPDATE SET external_id = EXCLUDED.external_id,"
        " legal_name = EXCLUDED.legal_name, country = EXCLUDED.country, kind = EXCLUDED.kind,"
        " company_id = EXCLUDED.company_id, email = EXCLUDED.email"
        /*  An erased debtor keeps its pseudonym whatever an older event says. */
        " WHERE NOT rpt_debtors.erased",
        8, params);
}

/*  DebtorErased (erase.h): the erasure rewrote rpt_debtors in its own
    transaction; this blanks it again in stream order, after any copy an
    event older than the erasure may have written since. */
static int on_debtor_erased(db_t *db, const char *tenant, const Creance__DebtorErased *e)
{
    if (!e || e->debtor_id <= 0)
        return 0;
    num_t id = num(e->debtor_id);
    char pseudonym[32];
    snprintf(pseudonym, sizeof pseudonym, "erased-%s", id.s);
    const char *params[] = { tenant, id.s, pseudonym };
    return db_run(db,
        "UPDATE rpt_debtors SET legal_name = $3, company_id = '', email = '', erased = true"
        " WHERE tenant = $1 AND debtor_id = $2::bigint", 3, params);
}

static int on_invoice_issued(db_t *db, const char *tenant, const Creance__InvoiceIssued *e,
                             bool *unknown)
{
    int32_t issue, due;
    if (!e->amount || !e->amount->currency || !date_from_pb(e->issue_date, &issue)
        || !date_from_pb(e->due_date, &due)) {
        *unknown = true;
        return 0;
    }
    seg_t seg;
    snprintf(seg.currency, sizeof seg.currency, "%s", e->amount->currency);
    if (debtor_seg(db, tenant, e->debtor_id, &seg))
        return -1;
    num_t id = num(e->invoice_id), deb = num(e->debtor_id), kind = num(seg.kind),
          amt = num(e->amount->minor);
    day_t di = day(issue), dd = day(due);
    const char *params[] = { tenant, id.s, deb.s, e->number ? e->number : "", seg.currency,
                             seg.country, kind.s, di.s, dd.s, amt.s, seg.grade, seg.collector };
    PGresult *r = db_exec(db,
        "INSERT INTO rpt_invoices (tenant, invoice_id, debtor_id, number, currency, country,"
        " kind, issue_date, due_date, amount_minor, open_minor, grade, collector) VALUES ($1,"
        " $2::bigint, $3::bigint, $4, $5, $6, $7::smallint, $8::date, $9::date, $10::bigint,"
        " $10::bigint, $11, $12)"
        " ON CONFLICT (tenant, invoice_id) DO NOTHING RETURNING 1", 12, params);
    if (!r)
        return -1;
    bool fresh = PQntuples(r) == 1;
    PQclear(r);
    if (!fresh)
        return 0;
    int64_t a = e->amount->minor;
    int64_t v[D_COLUMNS] = { 0 };
    v[D_INVOICED] = a;
    v[D_INVOICE_COUNT] = 1;
    if (daily_add(db, tenant, &seg, issue, v))
        return -1;
    memset(v, 0, sizeof v);
    v[D_FELL_DUE] = a;
    v[D_FELL_DUE_COUNT] = 1;
    if (daily_add(db, tenant, &seg, due, v))
        return -1;
    return open_add(db, tenant, &seg, due, issue, a, 1, 0);
}

/*  How an amount changes an invoice's open amount. */
typedef enum { MOVE_PAYMENT, MOVE_CREDIT, MOVE_WRITE_OFF, MOVE_CANCEL, MOVE_REVERSAL } move_t;

/*  Reduces (or, for a reversal, raises) an invoice's open amount by `amount`
    on day `d` and books the facts that go with it. */
static int invoice_move(db_t *db, const char *tenant, int64_t invoice_id, int64_t amount,
                        int32_t d, move_t how, bool *unknown)
{
    if (amount <= 0)
        return 0;
    int64_t delta = how == MOVE_REVERSAL ? amount : -amount;
    num_t id = num(invoice_id), dl = num(delta);
    day_t on = day(d);
    const char *paid = how == MOVE_PAYMENT ? "true" : "false";
    const char *params[] = { tenant, id.s, dl.s, on.s, paid };
    /*  paid_date: set when a payment brings the invoice to 0, cleared when
        it is open again, kept otherwise (a write-off does not make it paid). */
    PGresult *r = db_exec(db,
        "WITH old AS (SELECT open_minor, paid_date FROM rpt_invoices"
        "  WHERE tenant = $1 AND invoice_id = $2::bigint FOR UPDATE)"
        " UPDATE rpt_invoices i SET open_minor = i.open_minor + $3::bigint,"
        "  paid_date = CASE WHEN i.open_minor + $3::bigint > 0 THEN NULL"
        "                   WHEN $5::boolean AND i.open_minor > 0"
        "                   THEN greatest($4::date, i.issue_date)"
        "                   ELSE i.paid_date END"
        " FROM old WHERE i.tenant = $1 AND i.invoice_id = $2::bigint"
        " RETURNING old.open_minor, i.open_minor, i.currency, i.country, i.kind,"
        "  i.issue_date - date '1970-01-01', i.due_date - date '1970-01-01',"
        "  coalesce(old.paid_date - date '1970-01-01', -2147483648), i.grade, i.collector",
        5, params);
    if (!r)
        return -1;
    if (PQntuples(r) != 1) {
        PQclear(r);
        *unknown = true;
        return 0;
    }
    int64_t before = strtoll(PQgetvalue(r, 0, 0), NULL, 10);
    int64_t after = strtoll(PQgetvalue(r, 0, 1), NULL, 10);
    seg_t seg;
    snprintf(seg.currency, sizeof seg.currency, "%s", PQgetvalue(r, 0, 2));
    snprintf(seg.country, sizeof seg.country, "%s", PQgetvalue(r, 0, 3));
    seg.kind = atoi(PQgetvalue(r, 0, 4));
    int32_t issue = atoi(PQgetvalue(r, 0, 5));
    int32_t due = atoi(PQgetvalue(r, 0, 6));
    int64_t old_paid = strtoll(PQgetvalue(r, 0, 7), NULL, 10);
    snprintf(seg.grade, sizeof seg.grade, "%s", PQgetvalue(r, 0, 8));
    snprintf(seg.collector, sizeof seg.collector, "%s", PQgetvalue(r, 0, 9));
    PQclear(r);
    /*  A settlement dated before the invoice was issued (a payment received
        earlier and applied to it later) takes effect on the issue date: an
        invoice is never negative before it exists. */
    if (d < issue)
        d = issue;

    int64_t count = 0;
    if (before > 0 && after <= 0)
        count = -1;
    else if (before <= 0 && after > 0)
        count = 1;
    int64_t collected = how == MOVE_PAYMENT || how == MOVE_REVERSAL ? -delta : 0;
    if (open_add(db, tenant, &seg, due, d, delta, count, collected))
        return -1;

    int64_t v[D_COLUMNS] = { 0 };
    /*  Credit notes and cancellations take back sales (credit sales are net
        of them, for DSO and CEI); payments and write-offs settle. */
    if (how == MOVE_CREDIT || how == MOVE_CANCEL)
        v[D_INVOICED] = delta;
    else
        v[D_SETTLED] = -delta;
    if (how == MOVE_PAYMENT || how == MOVE_REVERSAL)
        v[D_COLLECTED] = -delta;
    if (how == MOVE_WRITE_OFF)
        v[D_WRITTEN_OFF] = amount;
    if (how == MOVE_PAYMENT && before > 0 && after <= 0) {
        v[D_PAID_COUNT] = 1;
        v[D_DAYS_TO_PAY] = d - issue;
        v[D_DAYS_LATE] = d > due ? d - due : 0;
    }
    if (daily_add(db, tenant, &seg, d, v))
        return -1;
    /*  Reminders sent up to 14 days before are credited with the payment. */
    if (how == MOVE_PAYMENT && before > 0 && after <= 0
        && rpt_collect_invoice_paid(db, tenant, invoice_id, d, +1))
        return -1;
    if (how == MOVE_REVERSAL && old_paid != INT32_MIN && after > 0
        && rpt_collect_invoice_paid(db, tenant, invoice_id, (int32_t) old_paid, -1))
        return -1;
    if (how == MOVE_REVERSAL && old_paid != INT32_MIN && after > 0) {
        /*  The invoice is not paid any more: its paid figures are taken
            back on the day of the reversal (a period that holds both days
            nets them out; one that ends before the reversal still shows
            the invoice paid, as it was then). */
        int32_t p = (int32_t) old_paid;
        memset(v, 0, sizeof v);
        v[D_PAID_COUNT] = -1;
        v[D_DAYS_TO_PAY] = -(p - issue);
        v[D_DAYS_LATE] = -(p > due ? p - due : 0);
        if (daily_add(db, tenant, &seg, d, v))
            return -1;
    }
    return 0;
}

/*  An adjustment is booked on the day it happened (the day of occurred_at,
    not before the issue date): the change of amount is invoiced (or, when
    negative, un-invoiced) that day, and the open amount moves from the old
    due date to the new one that day, so the past as it was known is kept.
    The amount that falls due moves with the due date. */
static int on_invoice_adjusted(db_t *db, const char *tenant, const Creance__Envelope *env,
                               bool *unknown)
{
    const Creance__InvoiceAdjusted *e = env->invoice_adjusted;
    int32_t new_due;
    if (!e->new_amount || !e->open_amount || !e->old_amount || !e->old_open_amount
        || !date_from_pb(e->due_date, &new_due)) {
        *unknown = true;
        return 0;
    }
    num_t id = num(e->invoice_id), amt = num(e->new_amount->minor),
          open = num(e->open_amount->minor);
    day_t nd = day(new_due);
    const char *params[] = { tenant, id.s, amt.s, open.s, nd.s };
    PGresult *r = db_exec(db,
        "WITH old AS (SELECT amount_minor, open_minor, due_date FROM rpt_invoices"
        "  WHERE tenant = $1 AND invoice_id = $2::bigint FOR UPDATE)"
        " UPDATE rpt_invoices i SET amount_minor = $3::bigint, open_minor = $4::bigint,"
        "  due_date = $5::date FROM old WHERE i.tenant = $1 AND i.invoice_id = $2::bigint"
        " RETURNING old.amount_minor, old.open_minor, old.due_date - date '1970-01-01',"
        "  i.currency, i.country, i.kind, i.issue_date - date '1970-01-01', i.grade, i.collector",
        5, params);
    if (!r)
        return -1;
    if (PQntuples(r) != 1) {
        PQclear(r);
        *unknown = true;
        return 0;
    }
    int64_t old_amount = strtoll(PQgetvalue(r, 0, 0), NULL, 10);
    int64_t old_open = strtoll(PQgetvalue(r, 0, 1), NULL, 10);
    int32_t old_due = atoi(PQgetvalue(r, 0, 2));
    seg_t seg;
    snprintf(seg.currency, sizeof seg.currency, "%s", PQgetvalue(r, 0, 3));
    snprintf(seg.country, sizeof seg.country, "%s", PQgetvalue(r, 0, 4));
    seg.kind = atoi(PQgetvalue(r, 0, 5));
    int32_t issue = atoi(PQgetvalue(r, 0, 6));
    snprintf(seg.grade, sizeof seg.grade, "%s", PQgetvalue(r, 0, 7));
    snprintf(seg.collector, sizeof seg.collector, "%s", PQgetvalue(r, 0, 8));
    PQclear(r);
    int64_t new_amount = e->new_amount->minor, new_open = e->open_amount->minor;
    int32_t d = occurred_day(env);
    if (d < issue)
        d = issue;

    int64_t v[D_COLUMNS] = { 0 };
    /*  The open amount's change beyond the amount's (none from intake) is a
        settlement; the rest is invoiced. */
    int64_t diff = new_amount - old_amount;
    v[D_INVOICED] = diff;
    v[D_SETTLED] = diff - (new_open - old_open);
    if (daily_add(db, tenant, &seg, d, v))
        return -1;
    memset(v, 0, sizeof v);
    v[D_FELL_DUE] = -old_amount;
    v[D_FELL_DUE_COUNT] = -1;
    if (daily_add(db, tenant, &seg, old_due, v))
        return -1;
    v[D_FELL_DUE] = new_amount;
    v[D_FELL_DUE_COUNT] = 1;
    if (daily_add(db, tenant, &seg, new_due, v))
        return -1;
    if (open_add(db, tenant, &seg, old_due, d, -old_open, old_open > 0 ? -1 : 0, 0))
        return -1;
    return open_add(db, tenant, &seg, new_due, d, new_open, new_open > 0 ? 1 : 0, 0);
}

static int on_payment_received(db_t *db, const char *tenant, const Creance__PaymentReceived *e)
{
    int32_t d;
    if (!e->amount || !e->amount->currency || !date_from_pb(e->received_date, &d))
        return 0;
    seg_t seg;
    snprintf(seg.currency, sizeof seg.currency, "%s", e->amount->currency);
    if (debtor_seg(db, tenant, e->debtor_id, &seg))
        return -1;
    return daily_one(db, tenant, &seg, d, D_PAYMENTS, e->amount->minor);
}

static int on_payment_allocated(db_t *db, const char *tenant, const Creance__PaymentAllocated *e,
                                bool *unknown)
{
    int32_t d;
    if (!date_from_pb(e->received_date, &d)) {
        *unknown = true;
        return 0;
    }
    for (size_t i = 0; i < e->n_allocations; i++) {
        const Creance__Allocation *a = e->allocations[i];
        if (a && a->amount
            && invoice_move(db, tenant, a->invoice_id, a->amount->minor, d, MOVE_PAYMENT, unknown))
            return -1;
    }
    return 0;
}

static int on_payment_reversed(db_t *db, const char *tenant, const Creance__Envelope *env,
                               bool *unknown)
{
    const Creance__PaymentReversed *e = env->payment_reversed;
    for (size_t i = 0; i < e->n_reopened; i++) {
        const Creance__Allocation *a = e->reopened[i];
        if (a && a->amount
            && invoice_move(db, tenant, a->invoice_id, a->amount->minor, occurred_day(env),
                            MOVE_REVERSAL, unknown))
            return -1;
    }
    return 0;
}

static int on_dispute_opened(db_t *db, const char *tenant, const Creance__DisputeOpened *e,
                             bool *unknown)
{
    int32_t opened;
    if (!date_from_pb(e->opened_date, &opened)) {
        *unknown = true;
        return 0;
    }
    num_t did = num(e->dispute_id), iid = num(e->invoice_id);
    num_t amt = num(e->amount ? e->amount->minor : 0);
    day_t od = day(opened);
    /*  Currency and segment are the invoice's; a zero amount is the whole
        open amount (intake fills it in, this is a guard). */
    const char *params[] = { tenant, did.s, iid.s, amt.s, od.s };
    PGresult *r = db_exec(db,
        "INSERT INTO rpt_disputes (tenant, debtor_id, dispute_id, invoice_id, currency, country, kind,"
        " amount_minor, opened_date, grade, collector)"
        " SELECT tenant, debtor_id, $2::bigint, invoice_id, currency, country, kind,"
        "  CASE WHEN $4::bigint > 0 THEN $4::bigint ELSE open_minor END, $5::date, grade, collector"
        " FROM rpt_invoices WHERE tenant = $1 AND invoice_id = $3::bigint"
        " ON CONFLICT (tenant, dispute_id) DO NOTHING"
        " RETURNING currency, country, kind, amount_minor, grade, collector", 5, params);
    if (!r)
        return -1;
    if (PQntuples(r) != 1) {
        PQclear(r);
        *unknown = true;
        return 0;
    }
    seg_t seg;
    snprintf(seg.currency, sizeof seg.currency, "%s", PQgetvalue(r, 0, 0));
    snprintf(seg.country, sizeof seg.country, "%s", PQgetvalue(r, 0, 1));
    seg.kind = atoi(PQgetvalue(r, 0, 2));
    int64_t amount = strtoll(PQgetvalue(r, 0, 3), NULL, 10);
    snprintf(seg.grade, sizeof seg.grade, "%s", PQgetvalue(r, 0, 4));
    snprintf(seg.collector, sizeof seg.collector, "%s", PQgetvalue(r, 0, 5));
    PQclear(r);
    num_t a = num(amount);
    const char *up[] = { tenant, iid.s, a.s };
    if (db_run(db, "UPDATE rpt_invoices SET disputed_minor = disputed_minor + $3::bigint"
                   " WHERE tenant = $1 AND invoice_id = $2::bigint", 3, up))
        return -1;
    int64_t v[D_COLUMNS] = { 0 };
    v[D_DISP_OPENED] = 1;
    v[D_DISP_OPENED_MINOR] = amount;
    return daily_add(db, tenant, &seg, opened, v);
}

static int on_dispute_resolved(db_t *db, const char *tenant, const Creance__DisputeResolved *e,
                               bool *unknown)
{
    int32_t resolved;
    if (!date_from_pb(e->resolved_date, &resolved)) {
        *unknown = true;
        return 0;
    }
    num_t did = num(e->dispute_id);
    day_t rd = day(resolved);
    const char *params[] = { tenant, did.s, rd.s };
    PGresult *r = db_exec(db,
        "UPDATE rpt_disputes SET resolved_date = $3::date"
        " WHERE tenant = $1 AND dispute_id = $2::bigint AND resolved_date IS NULL"
        " RETURNING currency, country, kind, amount_minor, invoice_id,"
        "  $3::date - opened_date, grade, collector", 3, params);
    if (!r)
        return -1;
    if (PQntuples(r) != 1) {
        PQclear(r);
        *unknown = true;
        return 0;
    }
    seg_t seg;
    snprintf(seg.currency, sizeof seg.currency, "%s", PQgetvalue(r, 0, 0));
    snprintf(seg.country, sizeof seg.country, "%s", PQgetvalue(r, 0, 1));
    seg.kind = atoi(PQgetvalue(r, 0, 2));
    int64_t amount = strtoll(PQgetvalue(r, 0, 3), NULL, 10);
    num_t a = num(amount);
    char iid[24];
    snprintf(iid, sizeof iid, "%s", PQgetvalue(r, 0, 4));
    int64_t days = strtoll(PQgetvalue(r, 0, 5), NULL, 10);
    snprintf(seg.grade, sizeof seg.grade, "%s", PQgetvalue(r, 0, 6));
    snprintf(seg.collector, sizeof seg.collector, "%s", PQgetvalue(r, 0, 7));
    PQclear(r);
    const char *up[] = { tenant, iid, a.s };
    if (db_run(db, "UPDATE rpt_invoices SET disputed_minor = disputed_minor - $3::bigint"
                   " WHERE tenant = $1 AND invoice_id = $2::bigint", 3, up))
        return -1;
    int64_t v[D_COLUMNS] = { 0 };
    v[D_DISP_RESOLVED] = 1;
    v[D_DISP_RESOLVED_MINOR] = amount;
    v[D_RESOLUTION_DAYS] = days;
    return daily_add(db, tenant, &seg, resolved, v);
}

int rpt_facts_debtor_seg(db_t *db, const char *tenant, int64_t debtor_id, rpt_seg_t *seg)
{
    return debtor_seg(db, tenant, debtor_id, seg);
}

int rpt_facts_daily_pair(db_t *db, const char *tenant, const rpt_seg_t *seg, int32_t d,
                         const char *col1, int64_t by1, const char *col2, int64_t by2)
{
    int64_t v[D_COLUMNS] = { 0 };
    int found = 0;
    for (int i = 0; i < D_COLUMNS; i++) {
        if (col1 && strcmp(s_daily_cols[i], col1) == 0) {
            v[i] += by1;
            found++;
        }
        if (col2 && strcmp(s_daily_cols[i], col2) == 0) {
            v[i] += by2;
            found++;
        }
    }
    if (found != (col1 != NULL) + (col2 != NULL)) {
        log_error("rpt_daily has no such column col1=%s col2=%s", col1 ? col1 : "-",
                  col2 ? col2 : "-");
        return -1;
    }
    return daily_add(db, tenant, seg, d, v);
}

int rpt_facts_apply(db_t *db, const Creance__Envelope *env, bool *unknown)
{
    *unknown = false;
    const char *t = env->tenant;
    if (!env->invoice_issued)      /* no submessage: aggregates.c rejects it */
        return 0;
    switch (env->event_case) {
    case CREANCE__ENVELOPE__EVENT_DEBTOR_CREATED:
        return on_debtor(db, t, env->debtor_created);
    case CREANCE__ENVELOPE__EVENT_DEBTOR_UPDATED:
        return on_debtor(db, t, env->debtor_updated->debtor);
    case CREANCE__ENVELOPE__EVENT_DEBTOR_ERASED:
        return on_debtor_erased(db, t, env->debtor_erased);
    case CREANCE__ENVELOPE__EVENT_INVOICE_ISSUED:
        return on_invoice_issued(db, t, env->invoice_issued, unknown);
    case CREANCE__ENVELOPE__EVENT_INVOICE_ADJUSTED:
        return on_invoice_adjusted(db, t, env, unknown);
    case CREANCE__ENVELOPE__EVENT_PAYMENT_RECEIVED:
        return on_payment_received(db, t, env->payment_received);
    case CREANCE__ENVELOPE__EVENT_PAYMENT_ALLOCATED:
        return on_payment_allocated(db, t, env->payment_allocated, unknown);
    case CREANCE__ENVELOPE__EVENT_PAYMENT_REVERSED:
        return on_payment_reversed(db, t, env, unknown);
    case CREANCE__ENVELOPE__EVENT_CREDIT_NOTE_ISSUED: {
        /*  Only the part applied to the invoice moves it (the excess is
            credit, booked by CreditNoteApplied when a later invoice takes
            it); before `applied` existed, the whole amount. */
        const Creance__CreditNoteIssued *e = env->credit_note_issued;
        if (e->invoice_id <= 0 || !e->amount)
            return 0;
        int64_t applied = e->applied ? e->applied->minor : e->amount->minor;
        return invoice_move(db, t, e->invoice_id, applied,
                            pb_day(e->issue_date, occurred_day(env)), MOVE_CREDIT, unknown);
    }
    case CREANCE__ENVELOPE__EVENT_CREDIT_NOTE_APPLIED: {
        /*  As the credit note's immediate application: a credit (sales net
            of it, not collected), dated by the credit note's issue date,
            which invoice_move brings up to the invoice's issue date (the
            credit applies from when the invoice exists). */
        const Creance__CreditNoteApplied *e = env->credit_note_applied;
        if (e->invoice_id <= 0 || !e->amount)
            return 0;
        return invoice_move(db, t, e->invoice_id, e->amount->minor,
                            pb_day(e->issue_date, occurred_day(env)), MOVE_CREDIT, unknown);
    }
    case CREANCE__ENVELOPE__EVENT_WRITTEN_OFF: {
        const Creance__WrittenOff *e = env->written_off;
        if (!e->amount)
            return 0;
        return invoice_move(db, t, e->invoice_id, e->amount->minor,
                            pb_day(e->date, occurred_day(env)), MOVE_WRITE_OFF, unknown);
    }
    case CREANCE__ENVELOPE__EVENT_INVOICE_CANCELLED: {
        const Creance__InvoiceCancelled *e = env->invoice_cancelled;
        if (!e->cancelled_open)
            return 0;
        return invoice_move(db, t, e->invoice_id, e->cancelled_open->minor, occurred_day(env),
                            MOVE_CANCEL, unknown);
    }
    case CREANCE__ENVELOPE__EVENT_DISPUTE_OPENED:
        return on_dispute_opened(db, t, env->dispute_opened, unknown);
    case CREANCE__ENVELOPE__EVENT_DISPUTE_RESOLVED:
        return on_dispute_resolved(db, t, env->dispute_resolved, unknown);
    default:
        return 0;
    }
}
