/*  scoring: ledger events -> behaviour -> score, events, predictions. */
#include "scoring.h"
#include "dates.h"
#include "envelope.h"
#include "eventlog.h"
#include "log.h"
#include "metrics.h"
#include "predict.h"
#include "snapshot.h"
#include "store.h"

#include <jansson.h>


#include <inttypes.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define DAILY_BATCH 500
#define POLICY_TTL_US (60 * 1000000LL)

/*  A debtor to rescore at the end of the transaction, and which of its
    invoices' predictions may have moved: `every` when a fact other than a
    new invoice or an allocation touched it (a credit note, a write-off, a
    reversal... may change any of them), else the invoices in `inv`. */
typedef struct {
    char tenant[RISK_TENANT_MAX];
    int64_t debtor_id;
    bool every;
    int64_t *inv;
    size_t ninv, inv_cap;
} touched_t;

typedef struct {
    risk_policy_t policy;
    int64_t loaded_us;
} policy_entry_t;

/*  One allocation of a PaymentAllocated: the invoice's open amount after
    it, on the payment's date. Queued, then applied with the others of the
    row in a few statements (s_flush_allocs). */
typedef struct {
    char tenant[RISK_TENANT_MAX];
    int64_t invoice_id;
    int64_t open_after;
    int32_t paid;
} alloc_op_t;

struct risk_scoring_t {
    risk_cache_t *cache;
    bus_t *bus;
    eventlog_batch_t *events;
    json_t *invoices;               /* InvoiceIssued rows queued in this transaction */
    alloc_op_t *allocs;             /* allocations queued in this transaction */
    size_t nallocs, allocs_cap;
    zhashx_t *touched;              /* "tenant\x1fdebtor" -> touched_t*, this transaction */
    risk_debtor_t **written;        /* states to copy to Redis after commit */
    size_t nwritten, written_cap;
    zhashx_t *policies;             /* tenant -> policy_entry_t* */
    /* The population's growth in this transaction, per tenant, written in
       one statement in tenant order just before the rescoring reads it:
       two risk instances (partitions) share each tenant's row, so its lock
       is taken late, briefly and in one global order (no deadlock). */
    zhashx_t *population;           /* tenant -> pop_t* */
    partition_t part;               /* the debtors this instance scores */
    int32_t daily_done;             /* the day the daily pass completed */
    metric_t *m_scored, *m_changed, *m_grades;
};

typedef struct {
    char tenant[RISK_TENANT_MAX];
    int64_t paid, late, delay;
} pop_t;

typedef struct { char s[24]; } num_t;

static num_t
s_num(int64_t v)
{
    num_t n;
    snprintf(n.s, sizeof n.s, "%" PRId64, v);
    return n;
}

typedef struct { char s[11]; } day_t;

static day_t
s_day(int32_t days)
{
    day_t d;
    date_format(days, d.s);
    return d;
}

static void
s_free_item(void **item)
{
    free(*item);
    *item = NULL;
}

static void
s_free_touched(void **item)
{
    touched_t *t = *item;
    if (t)
        free(t->inv);
    free(t);
    *item = NULL;
}

risk_scoring_t *
risk_scoring_new(risk_cache_t *cache, bus_t *bus)
{
    risk_scoring_t *self = calloc(1, sizeof *self);
    self->cache = cache;
    self->bus = bus;
    self->events = eventlog_batch_new();
    self->invoices = json_array();
    self->touched = zhashx_new();
    zhashx_set_destructor(self->touched, s_free_touched);
    self->policies = zhashx_new();
    zhashx_set_destructor(self->policies, s_free_item);
    self->population = zhashx_new();
    zhashx_set_destructor(self->population, s_free_item);
    self->part.index = 0;
    self->part.count = 1;
    self->daily_done = INT32_MIN;
    self->m_scored = metrics_counter("creance_risk_debtors_scored_total",
                                     "debtor rescorings (events and daily pass)", NULL);
    self->m_changed = metrics_counter("creance_risk_score_changes_total",
                                      "rescorings that moved the score (RiskScored)", NULL);
    self->m_grades = metrics_counter("creance_risk_grade_changes_total",
                                     "rescorings that moved the grade (GradeChanged)", NULL);
    return self;
}

static void
s_forget(risk_scoring_t *self)
{
    json_array_clear(self->invoices);
    self->nallocs = 0;
    zhashx_purge(self->touched);
    zhashx_purge(self->population);
    for (size_t i = 0; i < self->nwritten; i++)
        risk_debtor_destroy(&self->written[i]);
    self->nwritten = 0;
    eventlog_reset(self->events);
}

void
risk_scoring_destroy(risk_scoring_t **self_p)
{
    risk_scoring_t *self = *self_p;
    if (!self)
        return;
    s_forget(self);
    free(self->written);
    zhashx_destroy(&self->touched);
    zhashx_destroy(&self->policies);
    zhashx_destroy(&self->population);
    eventlog_batch_destroy(&self->events);
    json_decref(self->invoices);
    free(self->allocs);
    free(self);
    *self_p = NULL;
}

static touched_t *
s_touched(risk_scoring_t *self, const char *tenant, int64_t debtor_id)
{
    char key[RISK_TENANT_MAX + 24];
    snprintf(key, sizeof key, "%s\x1f%" PRId64, tenant, debtor_id);
    return zhashx_lookup(self->touched, key);
}

/*  Marks the debtor for rescoring. invoice_id > 0: that invoice's
    prediction may have moved; TOUCH_EVERY: any of them; TOUCH_SCORE:
    none (an exposure change: outstanding amounts are not in the
    per-invoice rows). */
#define TOUCH_EVERY 0
#define TOUCH_SCORE (-1)
static int
s_touch_invoice(risk_scoring_t *self, const char *tenant, int64_t debtor_id, int64_t invoice_id)
{
    touched_t *t = s_touched(self, tenant, debtor_id);
    if (!t) {
        char key[RISK_TENANT_MAX + 24];
        snprintf(key, sizeof key, "%s\x1f%" PRId64, tenant, debtor_id);
        if (!(t = calloc(1, sizeof *t)))
            return -1;
        snprintf(t->tenant, sizeof t->tenant, "%s", tenant);
        t->debtor_id = debtor_id;
        zhashx_insert(self->touched, key, t);
    }
    if (invoice_id == TOUCH_EVERY) {
        t->every = true;
        return 0;
    }
    if (t->every || invoice_id == TOUCH_SCORE)
        return 0;
    if (t->ninv == t->inv_cap) {
        size_t cap = t->inv_cap ? t->inv_cap * 2 : 4;
        int64_t *inv = realloc(t->inv, cap * sizeof *inv);
        if (!inv)
            return -1;
        t->inv = inv;
        t->inv_cap = cap;
    }
    t->inv[t->ninv++] = invoice_id;
    return 0;
}

static int
s_touch(risk_scoring_t *self, const char *tenant, int64_t debtor_id)
{
    return s_touch_invoice(self, tenant, debtor_id, TOUCH_EVERY);
}

/* ---------------------------------------------------------------- policy */

int
risk_scoring_policy(risk_scoring_t *self, db_t *db, const char *tenant, risk_policy_t *out)
{
    policy_entry_t *e = zhashx_lookup(self->policies, tenant);
    int64_t now = now_us();
    if (e && now - e->loaded_us < POLICY_TTL_US) {
        *out = e->policy;
        return 0;
    }
    char sql[1024];
    size_t n = (size_t) snprintf(sql, sizeof sql, "SELECT ");
    for (size_t i = 0; i < risk_policy_ncolumns; i++)
        n += (size_t) snprintf(sql + n, sizeof sql - n, "%s%s", i ? ", " : "",
                               risk_policy_columns[i].column);
    snprintf(sql + n, sizeof sql - n, " FROM risk_policies WHERE tenant IN ($1, '*') "
             "ORDER BY (tenant = '*') LIMIT 1");
    const char *params[] = { tenant };
    PGresult *r = db_exec(db, sql, 1, params);
    if (!r)
        return -1;
    risk_policy_defaults(out);
    if (PQntuples(r) == 1)
        for (size_t i = 0; i < risk_policy_ncolumns; i++)
            *(int *) ((char *) out + risk_policy_columns[i].offset) = atoi(PQgetvalue(r, 0, (int) i));
    PQclear(r);
    if (!e) {
        e = calloc(1, sizeof *e);
        if (!e)
            return 0;
        zhashx_insert(self->policies, tenant, e);
    }
    e->policy = *out;
    e->loaded_us = now;
    return 0;
}

/* ---------------------------------------------------------------- facts */

static const char *SQL_PROFILE_DEBTOR =
    "INSERT INTO risk_debtor_profile AS p (tenant, debtor_id, currency, credit_limit_minor, "
    "  current_assets_minor, current_liabilities_minor) "
    "VALUES ($1, $2::bigint, coalesce(nullif($3, '')::char(3), 'EUR'), $4::bigint, $5::bigint, $6::bigint) "
    "ON CONFLICT (tenant, debtor_id) DO UPDATE SET "
    "  currency = CASE WHEN $3 = '' THEN p.currency ELSE $3::char(3) END, "
    "  credit_limit_minor = EXCLUDED.credit_limit_minor, "
    "  current_assets_minor = EXCLUDED.current_assets_minor, "
    "  current_liabilities_minor = EXCLUDED.current_liabilities_minor, updated_at = now()";

/*  The invoices issued in a row of events, in one statement (they are
    queued as JSON and written before anything else reads risk_invoices),
    and their debtors' profiles: without a credit limit (whose currency is
    the debtor's), the debtor's currency is that of its latest invoice. */
static const char *SQL_INVOICES_ISSUED =
    "WITH v AS (SELECT * FROM jsonb_to_recordset($1::jsonb) AS v(ord integer, tenant text, "
    "    invoice_id bigint, debtor_id bigint, currency text, issue_date date, due_date date, "
    "    amount bigint)), "
    "profile AS (INSERT INTO risk_debtor_profile AS p (tenant, debtor_id, currency) "
    "    SELECT DISTINCT ON (tenant, debtor_id) tenant, debtor_id, currency FROM v "
    "    ORDER BY tenant, debtor_id, ord DESC "
    "    ON CONFLICT (tenant, debtor_id) DO UPDATE SET "
    "    currency = CASE WHEN p.credit_limit_minor = 0 THEN EXCLUDED.currency ELSE p.currency END "
    "    RETURNING 1) "
    "INSERT INTO risk_invoices (tenant, invoice_id, debtor_id, currency, issue_date, due_date, "
    "  amount_minor, open_minor) SELECT tenant, invoice_id, debtor_id, currency, issue_date, "
    "  due_date, amount, amount FROM v ORDER BY ord ON CONFLICT (tenant, invoice_id) DO NOTHING";

/*  Sets an invoice's open amount; returns the open amount before and the
    due date (days since epoch). $4 is the status when it closes, $5 the
    closing date for a payment. */
static const char *SQL_INVOICE_OPEN =
    "UPDATE risk_invoices i SET open_minor = $3::bigint, "
    "  status = CASE WHEN $3::bigint > 0 THEN 'open' ELSE $4 END, "
    "  paid_date = CASE WHEN $3::bigint > 0 THEN NULL WHEN $4 = 'paid' AND o.old_open > 0 "
    "                   THEN $5::date ELSE i.paid_date END, "
    "  delay_days = CASE WHEN $3::bigint > 0 THEN NULL WHEN $4 = 'paid' AND o.old_open > 0 "
    "                   THEN $5::date - i.due_date ELSE i.delay_days END "
    "FROM (SELECT open_minor AS old_open FROM risk_invoices "
    "      WHERE tenant = $1 AND invoice_id = $2::bigint FOR UPDATE) o "
    "WHERE i.tenant = $1 AND i.invoice_id = $2::bigint "
    "RETURNING o.old_open, i.due_date - date '1970-01-01', i.debtor_id";

static const char *SQL_PROFILE_LOAD_EW =
    "SELECT paid_count, ew_days_late FROM risk_debtor_profile "
    "WHERE tenant = $1 AND debtor_id = $2::bigint FOR UPDATE";

static const char *SQL_PROFILE_PAID =
    "INSERT INTO risk_debtor_profile AS p (tenant, debtor_id, paid_count, late_count, "
    "  sum_delay_days, ew_days_late) VALUES ($1, $2::bigint, 1, $3::integer, $4::bigint, $5::float8) "
    "ON CONFLICT (tenant, debtor_id) DO UPDATE SET paid_count = p.paid_count + 1, "
    "  late_count = p.late_count + $3::integer, sum_delay_days = p.sum_delay_days + $4::bigint, "
    "  ew_days_late = $5::float8, updated_at = now()";

/*  Adds to the tenant's population growth of this transaction (written by
    s_flush_population). 0, or -1 when out of memory. */
static int
s_population_add(zhashx_t *population, const char *tenant, int64_t paid, int64_t late,
                 int64_t delay)
{
    pop_t *p = zhashx_lookup(population, tenant);
    if (!p) {
        p = calloc(1, sizeof *p);
        if (!p)
            return -1;
        snprintf(p->tenant, sizeof p->tenant, "%s", tenant);
        zhashx_insert(population, tenant, p);
    }
    p->paid += paid;
    p->late += late;
    p->delay += delay;
    return 0;
}

/*  Writes whose answer nothing waits for: inside the consumer's
    transaction they travel with the next statement that is read (the
    rescoring inputs) or with the COMMIT (common/db.h, db_defer), so a
    batch of events costs two round trips, not one per statement. */
static int
s_run(db_t *db, const char *sql, int n, const char *const *params)
{
    return db_defer(db, sql, n, params);
}

static bool
s_money(const Creance__Money *m)
{
    return m && m->currency && strlen(m->currency) == 3;
}

/*  An invoice closed by a payment received on `paid`: the debtor's and the
    tenant's payment history grow by one. */
static int
s_invoice_paid(risk_scoring_t *self, db_t *db, const char *tenant, int64_t debtor_id, int32_t due,
               int32_t paid, const risk_policy_t *policy)
{
    num_t debtor = s_num(debtor_id);
    const char *p1[] = { tenant, debtor.s };
    PGresult *r = db_exec(db, SQL_PROFILE_LOAD_EW, 2, p1);
    if (!r)
        return -1;
    int32_t paid_before = 0;
    double ew = 0;
    if (PQntuples(r) == 1) {
        paid_before = atoi(PQgetvalue(r, 0, 0));
        ew = strtod(PQgetvalue(r, 0, 1), NULL);
    }
    PQclear(r);
    int32_t delay = paid - due;
    ew = risk_ew_update(ew, paid_before, delay > 0 ? delay : 0, policy->ew_alpha_pct);
    char ews[40];
    snprintf(ews, sizeof ews, "%.17g", ew);
    num_t late = s_num(delay > 0), d = s_num(delay);
    const char *p2[] = { tenant, debtor.s, late.s, d.s, ews };
    if (s_run(db, SQL_PROFILE_PAID, 5, p2) != 0
        || s_population_add(self->population, tenant, 1, delay > 0, delay) != 0)
        return -1;
    return 0;
}

/*  Sets an invoice's open amount after an allocation, a reversal, a credit
    or a write-off. `closing` is the status if it reaches 0; `paid` the
    payment date (for "paid" only). The debtor is touched. */
static int
s_set_open(risk_scoring_t *self, db_t *db, const char *tenant, int64_t invoice_id, int64_t open,
           const char *closing, int32_t paid)
{
    num_t inv = s_num(invoice_id), o = s_num(open);
    day_t day = s_day(paid > 0 ? paid : 0);
    const char *params[] = { tenant, inv.s, o.s, closing, day.s };
    PGresult *r = db_exec(db, SQL_INVOICE_OPEN, 5, params);
    if (!r)
        return -1;
    if (PQntuples(r) != 1) {
        /* An invoice risk never saw issued (before risk existed): nothing
           to update, nothing to learn from. */
        PQclear(r);
        return 0;
    }
    int64_t old_open = strtoll(PQgetvalue(r, 0, 0), NULL, 10);
    int32_t due = atoi(PQgetvalue(r, 0, 1));
    int64_t debtor_id = strtoll(PQgetvalue(r, 0, 2), NULL, 10);
    PQclear(r);
    if (s_touch(self, tenant, debtor_id) != 0)
        return -1;
    if (open == 0 && old_open > 0 && strcmp(closing, "paid") == 0) {
        risk_policy_t policy;
        if (risk_scoring_policy(self, db, tenant, &policy) != 0)
            return -1;
        return s_invoice_paid(self, db, tenant, debtor_id, due, paid, &policy);
    }
    return 0;
}

/* ---------------------------------------------------------------- handlers */

typedef int (fact_fn)(risk_scoring_t *self, db_t *db, const Creance__Envelope *env);

static int
s_debtor_fact(risk_scoring_t *self, db_t *db, const char *tenant, const Creance__DebtorCreated *d)
{
    if (!d || d->debtor_id <= 0)
        return 0;
    num_t id = s_num(d->debtor_id);
    num_t limit = s_num(d->credit_limit ? d->credit_limit->minor : 0);
    num_t assets = s_num(d->current_assets ? d->current_assets->minor : 0);
    num_t liab = s_num(d->current_liabilities ? d->current_liabilities->minor : 0);
    const char *cur = s_money(d->credit_limit) ? d->credit_limit->currency : "";
    /* Both figures or none: a ratio needs both. */
    bool figures = d->current_assets && d->current_liabilities;
    const char *params[] = { tenant, id.s, cur, limit.s, figures ? assets.s : NULL,
                             figures ? liab.s : NULL };
    if (s_run(db, SQL_PROFILE_DEBTOR, 6, params) != 0)
        return -1;
    return s_touch(self, tenant, d->debtor_id);
}

static int
s_debtor_created(risk_scoring_t *self, db_t *db, const Creance__Envelope *env)
{
    return s_debtor_fact(self, db, env->tenant, env->debtor_created);
}

static int
s_debtor_updated(risk_scoring_t *self, db_t *db, const Creance__Envelope *env)
{
    return s_debtor_fact(self, db, env->tenant, env->debtor_updated->debtor);
}

static int
s_invoice_issued(risk_scoring_t *self, db_t *db, const Creance__Envelope *env)
{
    const Creance__InvoiceIssued *e = env->invoice_issued;
    int32_t issue, due;
    if (e->invoice_id <= 0 || e->debtor_id <= 0 || !s_money(e->amount)
        || !date_from_pb(e->issue_date, &issue) || !date_from_pb(e->due_date, &due))
        return 0;               /* delta.c refuses and counts malformed events */
    day_t di = s_day(issue), dd = s_day(due);
    json_t *row = json_pack("{s:i, s:s, s:I, s:I, s:s, s:s, s:s, s:I}",
                            "ord", (int) json_array_size(self->invoices), "tenant", env->tenant,
                            "invoice_id", (json_int_t) e->invoice_id,
                            "debtor_id", (json_int_t) e->debtor_id, "currency", e->amount->currency,
                            "issue_date", di.s, "due_date", dd.s,
                            "amount", (json_int_t) e->amount->minor);
    if (!row || json_array_append_new(self->invoices, row) != 0)
        return -1;
    return s_touch_invoice(self, env->tenant, e->debtor_id, e->invoice_id);
}

static int
s_allocations(risk_scoring_t *self, db_t *db, const char *tenant, size_t n,
              Creance__Allocation **allocs, int32_t paid)
{
    for (size_t i = 0; i < n; i++) {
        const Creance__Allocation *a = allocs[i];
        if (!a || !a->invoice_open_after || a->invoice_id <= 0)
            continue;
        if (s_set_open(self, db, tenant, a->invoice_id, a->invoice_open_after->minor, "paid", paid) != 0)
            return -1;
    }
    return 0;
}

/*  Queued: a payment run closes hundreds of invoices, and one by one each
    cost four round trips (the invoice, the debtor's history read and
    written, the tenant's population). */
static int
s_payment_allocated(risk_scoring_t *self, db_t *db, const Creance__Envelope *env)
{
    const Creance__PaymentAllocated *e = env->payment_allocated;
    int32_t received;
    if (!date_from_pb(e->received_date, &received))
        received = date_today();
    for (size_t i = 0; i < e->n_allocations; i++) {
        const Creance__Allocation *a = e->allocations[i];
        if (!a || !a->invoice_open_after || a->invoice_id <= 0)
            continue;
        if (self->nallocs == self->allocs_cap) {
            size_t cap = self->allocs_cap ? self->allocs_cap * 2 : 256;
            alloc_op_t *v = realloc(self->allocs, cap * sizeof *v);
            if (!v)
                return -1;
            self->allocs = v;
            self->allocs_cap = cap;
        }
        alloc_op_t *op = &self->allocs[self->nallocs++];
        snprintf(op->tenant, sizeof op->tenant, "%s", env->tenant);
        op->invoice_id = a->invoice_id;
        op->open_after = a->invoice_open_after->minor;
        op->paid = received;
    }
    return 0;
}

static int
s_payment_reversed(risk_scoring_t *self, db_t *db, const Creance__Envelope *env)
{
    const Creance__PaymentReversed *e = env->payment_reversed;
    /* A reopened invoice keeps its place in the payment history: a bounced
       payment is not evidence of paying on time. */
    return s_allocations(self, db, env->tenant, e->n_reopened, e->reopened, 0);
}

static int
s_invoice_adjusted(risk_scoring_t *self, db_t *db, const Creance__Envelope *env)
{
    const Creance__InvoiceAdjusted *e = env->invoice_adjusted;
    if (!e->open_amount || e->invoice_id <= 0)
        return 0;
    int32_t due;
    if (date_from_pb(e->due_date, &due)) {
        num_t inv = s_num(e->invoice_id);
        day_t dd = s_day(due);
        const char *params[] = { env->tenant, inv.s, dd.s };
        if (s_run(db, "UPDATE risk_invoices SET due_date = greatest($3::date, issue_date) "
                  "WHERE tenant = $1 AND invoice_id = $2::bigint", 3, params) != 0)
            return -1;
    }
    return s_set_open(self, db, env->tenant, e->invoice_id, e->open_amount->minor, "adjusted", 0);
}

static int
s_invoice_cancelled(risk_scoring_t *self, db_t *db, const Creance__Envelope *env)
{
    const Creance__InvoiceCancelled *e = env->invoice_cancelled;
    return e->invoice_id > 0 ? s_set_open(self, db, env->tenant, e->invoice_id, 0, "cancelled", 0) : 0;
}

static int
s_written_off(risk_scoring_t *self, db_t *db, const Creance__Envelope *env)
{
    const Creance__WrittenOff *e = env->written_off;
    if (e->invoice_id <= 0 || !e->invoice_open_after)
        return 0;
    return s_set_open(self, db, env->tenant, e->invoice_id, e->invoice_open_after->minor,
                      "written_off", 0);
}

static int
s_credit_note(risk_scoring_t *self, db_t *db, const Creance__Envelope *env)
{
    const Creance__CreditNoteIssued *e = env->credit_note_issued;
    if (e->invoice_id <= 0 || !e->invoice_open_after)
        return e->debtor_id > 0 ? s_touch(self, env->tenant, e->debtor_id) : 0;
    return s_set_open(self, db, env->tenant, e->invoice_id, e->invoice_open_after->minor,
                      "credited", 0);
}

/*  Credit of a credit note taken by a later invoice: the invoice's open
    amount drops, as by the credit note's own application; not a payment,
    so no payment history is learnt from it. */
static int
s_credit_note_applied(risk_scoring_t *self, db_t *db, const Creance__Envelope *env)
{
    const Creance__CreditNoteApplied *e = env->credit_note_applied;
    if (e->invoice_id <= 0 || !e->invoice_open_after)
        return 0;                   /* delta.c refuses and counts it */
    return s_set_open(self, db, env->tenant, e->invoice_id, e->invoice_open_after->minor,
                      "credited", 0);
}

/*  Counters of the profile moved by plan, promise and dispute events: one
    statement per column, built from this whitelist. */
typedef struct {
    Creance__Envelope__EventCase event_case;
    const char *column;
    int delta;
    const char *column2;            /* a second counter, or NULL */
    int delta2;
} counter_rule_t;

static const counter_rule_t s_counters[] = {
    { CREANCE__ENVELOPE__EVENT_DISPUTE_OPENED,     "open_disputes", +1, NULL, 0 },
    { CREANCE__ENVELOPE__EVENT_DISPUTE_RESOLVED,   "open_disputes", -1, NULL, 0 },
    { CREANCE__ENVELOPE__EVENT_PLAN_AGREED,        "active_plans", +1, NULL, 0 },
    { CREANCE__ENVELOPE__EVENT_PLAN_DEFAULTED,     "active_plans", -1, NULL, 0 },
    { CREANCE__ENVELOPE__EVENT_PLAN_COMPLETED,     "active_plans", -1, NULL, 0 },
    { CREANCE__ENVELOPE__EVENT_INSTALMENT_MISSED,  "missed_instalments", +1, NULL, 0 },
    { CREANCE__ENVELOPE__EVENT_PROMISE_MADE,       "active_promises", +1, NULL, 0 },
    { CREANCE__ENVELOPE__EVENT_PROMISE_KEPT,       "active_promises", -1, NULL, 0 },
    { CREANCE__ENVELOPE__EVENT_PROMISE_BROKEN,     "active_promises", -1, "broken_promises", +1 },
};

/*  The debtor of any event of the table: every one of these messages has
    debtor_id as its field 2, but protobuf-c structs differ, so ask each. */
static int64_t
s_counter_debtor(const Creance__Envelope *env)
{
    switch (env->event_case) {
    case CREANCE__ENVELOPE__EVENT_DISPUTE_OPENED:    return env->dispute_opened->debtor_id;
    case CREANCE__ENVELOPE__EVENT_DISPUTE_RESOLVED:  return env->dispute_resolved->debtor_id;
    case CREANCE__ENVELOPE__EVENT_PLAN_AGREED:       return env->plan_agreed->debtor_id;
    case CREANCE__ENVELOPE__EVENT_PLAN_DEFAULTED:    return env->plan_defaulted->debtor_id;
    case CREANCE__ENVELOPE__EVENT_PLAN_COMPLETED:    return env->plan_completed->debtor_id;
    case CREANCE__ENVELOPE__EVENT_INSTALMENT_MISSED: return env->instalment_missed->debtor_id;
    case CREANCE__ENVELOPE__EVENT_PROMISE_MADE:      return env->promise_made->debtor_id;
    case CREANCE__ENVELOPE__EVENT_PROMISE_KEPT:      return env->promise_kept->debtor_id;
    case CREANCE__ENVELOPE__EVENT_PROMISE_BROKEN:    return env->promise_broken->debtor_id;
    default:                                         return 0;
    }
}

static int
s_counter_add(db_t *db, const char *tenant, int64_t debtor_id, const char *column, int delta)
{
    char sql[512];
    snprintf(sql, sizeof sql,
             "INSERT INTO risk_debtor_profile AS p (tenant, debtor_id, %s) "
             "VALUES ($1, $2::bigint, greatest(0, $3::integer)) "
             "ON CONFLICT (tenant, debtor_id) DO UPDATE SET %s = greatest(0, p.%s + $3::integer), "
             "updated_at = now()", column, column, column);
    num_t id = s_num(debtor_id), d = s_num(delta);
    const char *params[] = { tenant, id.s, d.s };
    return s_run(db, sql, 3, params);
}

static int
s_counter_event(risk_scoring_t *self, db_t *db, const Creance__Envelope *env)
{
    int64_t debtor_id = s_counter_debtor(env);
    if (debtor_id <= 0)
        return 0;
    for (size_t i = 0; i < sizeof s_counters / sizeof s_counters[0]; i++) {
        const counter_rule_t *c = &s_counters[i];
        if (c->event_case != env->event_case)
            continue;
        if (s_counter_add(db, env->tenant, debtor_id, c->column, c->delta) != 0
            || (c->column2 && s_counter_add(db, env->tenant, debtor_id, c->column2, c->delta2) != 0))
            return -1;
    }
    return s_touch(self, env->tenant, debtor_id);
}

static const struct {
    Creance__Envelope__EventCase event_case;
    fact_fn *fn;
} s_facts[] = {
    { CREANCE__ENVELOPE__EVENT_DEBTOR_CREATED,     s_debtor_created },
    { CREANCE__ENVELOPE__EVENT_DEBTOR_UPDATED,     s_debtor_updated },
    { CREANCE__ENVELOPE__EVENT_INVOICE_ISSUED,     s_invoice_issued },
    { CREANCE__ENVELOPE__EVENT_INVOICE_ADJUSTED,   s_invoice_adjusted },
    { CREANCE__ENVELOPE__EVENT_INVOICE_CANCELLED,  s_invoice_cancelled },
    { CREANCE__ENVELOPE__EVENT_CREDIT_NOTE_ISSUED, s_credit_note },
    { CREANCE__ENVELOPE__EVENT_CREDIT_NOTE_APPLIED, s_credit_note_applied },
    { CREANCE__ENVELOPE__EVENT_PAYMENT_ALLOCATED,  s_payment_allocated },
    { CREANCE__ENVELOPE__EVENT_PAYMENT_REVERSED,   s_payment_reversed },
    { CREANCE__ENVELOPE__EVENT_WRITTEN_OFF,        s_written_off },
    { CREANCE__ENVELOPE__EVENT_DISPUTE_OPENED,     s_counter_event },
    { CREANCE__ENVELOPE__EVENT_DISPUTE_RESOLVED,   s_counter_event },
    { CREANCE__ENVELOPE__EVENT_PLAN_AGREED,        s_counter_event },
    { CREANCE__ENVELOPE__EVENT_PLAN_DEFAULTED,     s_counter_event },
    { CREANCE__ENVELOPE__EVENT_PLAN_COMPLETED,     s_counter_event },
    { CREANCE__ENVELOPE__EVENT_INSTALMENT_MISSED,  s_counter_event },
    { CREANCE__ENVELOPE__EVENT_PROMISE_MADE,       s_counter_event },
    { CREANCE__ENVELOPE__EVENT_PROMISE_KEPT,       s_counter_event },
    { CREANCE__ENVELOPE__EVENT_PROMISE_BROKEN,     s_counter_event },
};

void
risk_scoring_set_partition(risk_scoring_t *self, const partition_t *part)
{
    self->part = *part;
}

int
risk_scoring_touch(risk_scoring_t *self, const char *tenant, int64_t debtor_id)
{
    /*  From exposure (outstanding moved): the fact's own handler above
        says which predictions it may have moved. */
    return s_touch_invoice(self, tenant, debtor_id, TOUCH_SCORE);
}

/*  $1 = `rows` as JSON text; the result, or NULL. */
static PGresult *
s_exec_json(db_t *db, const char *sql, json_t *rows)
{
    char *text = json_dumps(rows, JSON_COMPACT);
    if (!text)
        return NULL;
    const char *params[] = { text };
    PGresult *r = db_exec(db, sql, 1, params);
    free(text);
    return r;
}

static int
s_run_json(db_t *db, const char *sql, json_t *rows)
{
    char *text = json_dumps(rows, JSON_COMPACT);
    if (!text)
        return -1;
    const char *params[] = { text };
    int rc = s_run(db, sql, 1, params);
    free(text);
    return rc;
}

/*  Writes the queued invoices. */
static int
s_flush_invoices(risk_scoring_t *self, db_t *db)
{
    if (json_array_size(self->invoices) == 0)
        return 0;
    int rc = s_run_json(db, SQL_INVOICES_ISSUED, self->invoices);
    json_array_clear(self->invoices);
    return rc;
}

/*  The queued allocations, in five statements whatever their number, with
    the effects s_set_open would have had applied one at a time: the
    invoices are read (locked) once, each allocation is played in order in
    memory, the final rows written once; each invoice that closed adds to
    its debtor's payment history (the exponentially weighted days late is
    sequential, so it is computed here from the history read once) and to
    the tenant's population. */
static const char *SQL_ALLOC_READ =
    "SELECT i.tenant, i.invoice_id, i.open_minor, i.due_date - date '1970-01-01', i.debtor_id, "
    "  i.status, i.paid_date - date '1970-01-01', i.delay_days "
    "FROM jsonb_to_recordset($1::jsonb) AS v(tenant text, invoice_id bigint) "
    "JOIN risk_invoices i ON i.tenant = v.tenant AND i.invoice_id = v.invoice_id "
    "FOR UPDATE OF i";

static const char *SQL_ALLOC_WRITE =
    "UPDATE risk_invoices i SET open_minor = v.open, status = v.status, "
    "  paid_date = date '1970-01-01' + v.paid, delay_days = v.delay "
    "FROM jsonb_to_recordset($1::jsonb) AS v(tenant text, invoice_id bigint, open bigint, "
    "  status text, paid integer, delay integer) "
    "WHERE i.tenant = v.tenant AND i.invoice_id = v.invoice_id";

static const char *SQL_HISTORY_READ =
    "SELECT p.tenant, p.debtor_id, p.paid_count, p.ew_days_late "
    "FROM jsonb_to_recordset($1::jsonb) AS v(tenant text, debtor_id bigint) "
    "JOIN risk_debtor_profile p ON p.tenant = v.tenant AND p.debtor_id = v.debtor_id "
    "FOR UPDATE OF p";

static const char *SQL_HISTORY_WRITE =
    "INSERT INTO risk_debtor_profile AS p (tenant, debtor_id, paid_count, late_count, "
    "  sum_delay_days, ew_days_late) "
    "SELECT tenant, debtor_id, paid, late, delay, ew FROM jsonb_to_recordset($1::jsonb) "
    "  AS v(tenant text, debtor_id bigint, paid integer, late integer, delay bigint, ew float8) "
    "ON CONFLICT (tenant, debtor_id) DO UPDATE SET paid_count = p.paid_count + EXCLUDED.paid_count, "
    "  late_count = p.late_count + EXCLUDED.late_count, "
    "  sum_delay_days = p.sum_delay_days + EXCLUDED.sum_delay_days, "
    "  ew_days_late = EXCLUDED.ew_days_late, updated_at = now()";

static const char *SQL_POPULATION_WRITE =
    "INSERT INTO risk_population AS p (tenant, paid_count, late_count, sum_delay_days) "
    "SELECT tenant, paid, late, delay FROM jsonb_to_recordset($1::jsonb) "
    "  AS v(tenant text, paid bigint, late bigint, delay bigint) ORDER BY tenant "
    "ON CONFLICT (tenant) DO UPDATE SET paid_count = p.paid_count + EXCLUDED.paid_count, "
    "  late_count = p.late_count + EXCLUDED.late_count, "
    "  sum_delay_days = p.sum_delay_days + EXCLUDED.sum_delay_days";

typedef struct {
    int64_t open, debtor_id;
    int32_t due;
    char status[16];
    bool has_paid, has_delay;
    int32_t paid, delay;
} inv_state_t;

typedef struct {
    char tenant[RISK_TENANT_MAX];
    int64_t debtor_id;
    int32_t paid_count;             /* before the row, then as it grows */
    double ew;
    int32_t paid, late;             /* added by the row */
    int64_t delay;
} history_t;

static char *
s_key(char *buf, size_t len, const char *tenant, int64_t id)
{
    snprintf(buf, len, "%s\x1f%" PRId64, tenant, id);
    return buf;
}

static int
s_flush_allocs(risk_scoring_t *self, db_t *db)
{
    if (self->nallocs == 0)
        return 0;
    int rc = -1;
    char key[RISK_TENANT_MAX + 24];
    zhashx_t *invs = zhashx_new(), *hist = zhashx_new();
    zhashx_set_destructor(invs, s_free_item);
    zhashx_set_destructor(hist, s_free_item);
    json_t *ids = json_array(), *rows = json_array(), *debtors = json_array();
    PGresult *r = NULL;
    zhashx_t *seen = zhashx_new();
    for (size_t k = 0; k < self->nallocs; k++) {
        const alloc_op_t *op = &self->allocs[k];
        if (zhashx_insert(seen, s_key(key, sizeof key, op->tenant, op->invoice_id), (void *) 1) == 0)
            json_array_append_new(ids, json_pack("{s:s, s:I}", "tenant", op->tenant,
                                                 "invoice_id", (json_int_t) op->invoice_id));
    }
    zhashx_destroy(&seen);
    if (!(r = s_exec_json(db, SQL_ALLOC_READ, ids)))
        goto done;
    for (int i = 0; i < PQntuples(r); i++) {
        inv_state_t *st = calloc(1, sizeof *st);
        st->open = strtoll(PQgetvalue(r, i, 2), NULL, 10);
        st->due = atoi(PQgetvalue(r, i, 3));
        st->debtor_id = strtoll(PQgetvalue(r, i, 4), NULL, 10);
        snprintf(st->status, sizeof st->status, "%s", PQgetvalue(r, i, 5));
        st->has_paid = !PQgetisnull(r, i, 6);
        st->paid = atoi(PQgetvalue(r, i, 6));
        st->has_delay = !PQgetisnull(r, i, 7);
        st->delay = atoi(PQgetvalue(r, i, 7));
        zhashx_insert(invs, s_key(key, sizeof key, PQgetvalue(r, i, 0),
                                  strtoll(PQgetvalue(r, i, 1), NULL, 10)), st);
    }
    PQclear(r);
    r = NULL;

    /* Played in order, as SQL_INVOICE_OPEN would have one by one. */
    history_t **closed = calloc(self->nallocs, sizeof *closed);
    int32_t *closed_delay = calloc(self->nallocs, sizeof *closed_delay);
    size_t nclosed = 0;
    for (size_t k = 0; k < self->nallocs; k++) {
        const alloc_op_t *op = &self->allocs[k];
        inv_state_t *st = zhashx_lookup(invs, s_key(key, sizeof key, op->tenant, op->invoice_id));
        if (!st)
            continue;               /* issued before risk existed */
        int64_t old_open = st->open;
        st->open = op->open_after;
        if (st->open > 0) {
            snprintf(st->status, sizeof st->status, "open");
            st->has_paid = st->has_delay = false;
        }
        else {
            snprintf(st->status, sizeof st->status, "paid");
            if (old_open > 0) {
                st->has_paid = st->has_delay = true;
                st->paid = op->paid;
                st->delay = op->paid - st->due;
            }
        }
        if (s_touch_invoice(self, op->tenant, st->debtor_id, op->invoice_id) != 0)
            goto done_closed;
        if (!(st->open == 0 && old_open > 0))
            continue;
        history_t *h = zhashx_lookup(hist, s_key(key, sizeof key, op->tenant, st->debtor_id));
        if (!h) {
            h = calloc(1, sizeof *h);
            snprintf(h->tenant, sizeof h->tenant, "%s", op->tenant);
            h->debtor_id = st->debtor_id;
            zhashx_insert(hist, key, h);
            json_array_append_new(debtors, json_pack("{s:s, s:I}", "tenant", op->tenant,
                                                     "debtor_id", (json_int_t) st->debtor_id));
        }
        closed[nclosed] = h;
        closed_delay[nclosed++] = op->paid - st->due;
    }
    for (void *it = zhashx_first(invs); it; it = zhashx_next(invs)) {
        const inv_state_t *st = it;
        const char *k = zhashx_cursor(invs), *sep = strchr(k, '\x1f');
        json_t *row = json_pack("{s:s%, s:I, s:I, s:s}", "tenant", k, (size_t) (sep - k),
                                "invoice_id", (json_int_t) strtoll(sep + 1, NULL, 10),
                                "open", (json_int_t) st->open, "status", st->status);
        json_object_set_new(row, "paid", st->has_paid ? json_integer(st->paid) : json_null());
        json_object_set_new(row, "delay", st->has_delay ? json_integer(st->delay) : json_null());
        json_array_append_new(rows, row);
    }
    if (json_array_size(rows) > 0 && s_run_json(db, SQL_ALLOC_WRITE, rows) != 0)
        goto done_closed;

    if (nclosed > 0) {
        if (!(r = s_exec_json(db, SQL_HISTORY_READ, debtors)))
            goto done_closed;
        for (int i = 0; i < PQntuples(r); i++) {
            history_t *h = zhashx_lookup(hist, s_key(key, sizeof key, PQgetvalue(r, i, 0),
                                                     strtoll(PQgetvalue(r, i, 1), NULL, 10)));
            if (h) {
                h->paid_count = atoi(PQgetvalue(r, i, 2));
                h->ew = strtod(PQgetvalue(r, i, 3), NULL);
            }
        }
        PQclear(r);
        r = NULL;
        json_t *hrows = json_array();
        for (size_t c = 0; c < nclosed; c++) {
            history_t *h = closed[c];
            risk_policy_t policy;
            if (risk_scoring_policy(self, db, h->tenant, &policy) != 0) {
                json_decref(hrows);
                goto done_closed;
            }
            int32_t delay = closed_delay[c];
            h->ew = risk_ew_update(h->ew, h->paid_count, delay > 0 ? delay : 0, policy.ew_alpha_pct);
            h->paid_count++;
            h->paid++;
            h->late += delay > 0;
            h->delay += delay;
            if (s_population_add(self->population, h->tenant, 1, delay > 0, delay) != 0) {
                json_decref(hrows);
                goto done_closed;
            }
        }
        for (history_t *h = zhashx_first(hist); h; h = zhashx_next(hist))
            json_array_append_new(hrows, json_pack("{s:s, s:I, s:i, s:i, s:I, s:f}",
                                  "tenant", h->tenant, "debtor_id", (json_int_t) h->debtor_id,
                                  "paid", h->paid, "late", h->late, "delay", (json_int_t) h->delay,
                                  "ew", h->ew));
        int wrc = s_run_json(db, SQL_HISTORY_WRITE, hrows) == 0 ? 0 : -1;
        json_decref(hrows);
        if (wrc != 0)
            goto done_closed;
    }
    rc = 0;
done_closed:
    free(closed);
    free(closed_delay);
done:
    if (r)
        PQclear(r);
    json_decref(ids);
    json_decref(rows);
    json_decref(debtors);
    zhashx_destroy(&invs);
    zhashx_destroy(&hist);
    self->nallocs = 0;
    return rc;
}

int
risk_scoring_apply(risk_scoring_t *self, db_t *db, const Creance__Envelope *env)
{
    if (!env || !env->invoice_issued || !risk_tenant_valid(env->tenant))
        return 0;
    /* Any other event is applied after the invoices and the allocations
       queued before it, as if each had been written at once. */
    if (env->event_case != CREANCE__ENVELOPE__EVENT_INVOICE_ISSUED
        && s_flush_invoices(self, db) != 0)
        return -1;
    if (env->event_case != CREANCE__ENVELOPE__EVENT_PAYMENT_ALLOCATED
        && s_flush_allocs(self, db) != 0)
        return -1;
    for (size_t i = 0; i < sizeof s_facts / sizeof s_facts[0]; i++)
        if (s_facts[i].event_case == env->event_case)
            return s_facts[i].fn(self, db, env);
    return 0;
}

/* ---------------------------------------------------------------- rescoring

    All debtors touched by a transaction are rescored together, in four
    statements whatever their number: the list of debtors travels as one
    JSON parameter (jsonb_to_recordset), so a batch of 512 events costs a
    handful of round trips, not a few per debtor. */

#define TOUCHED_ROWS \
    "jsonb_to_recordset($1::jsonb) AS t(tenant text, debtor_id bigint)"

/*  Exposure without a profile (facts from before risk scored): start one
    in the debtor's main currency. */
static const char *SQL_PROFILES_DEFAULT =
    "INSERT INTO risk_debtor_profile (tenant, debtor_id, currency) "
    "SELECT t.tenant, t.debtor_id, coalesce((SELECT s.currency FROM risk_debtor_state s "
    "  WHERE s.tenant = t.tenant AND s.debtor_id = t.debtor_id "
    "  ORDER BY s.outstanding_minor DESC, s.currency LIMIT 1), 'EUR') "
    "FROM " TOUCHED_ROWS " ON CONFLICT DO NOTHING";

/*  One row per touched debtor with a profile. Its open invoices and its
    exposure are each aggregated in a LATERAL subquery, once per debtor:
    joined and then grouped, every open invoice repeated the population
    and exposure lookups and the grouping sorted them all (2 ms for 20
    debtors of 19 open invoices each, against 0.3 ms). */
static const char *SQL_INPUTS =
    "SELECT p.tenant, p.debtor_id, p.currency, p.credit_limit_minor, p.current_assets_minor, "
    "  p.current_liabilities_minor, p.open_disputes, p.active_plans, p.active_promises, "
    "  p.broken_promises, p.missed_instalments, p.paid_count, p.late_count, p.sum_delay_days, "
    "  p.ew_days_late, coalesce(p.score, -1), coalesce(p.grade, ''), "
    "  coalesce(inv.open, 0), coalesce(inv.overdue, 0), coalesce($2::date - inv.oldest_due, 0), "
    "  inv.n, coalesce(pop.paid_count, 0), coalesce(pop.late_count, 0), "
    "  coalesce(pop.sum_delay_days, 0), p.pred_p_late, p.pred_delay_days, p.pred_as_of = $2::date, "
    /*  27..29: the exposure Redis gets (risk_debtor_state, final by now:
        exposure wrote it first). A debtor without a row gets SQL_WRITE's
        zero row in its currency, stamped now() like that row. */
    "  coalesce(st.amounts, p.currency || '=0'), coalesce(st.open, 0), "
    "  coalesce(st.at, (extract(epoch FROM now()) * 1000000)::bigint) "
    "FROM " TOUCHED_ROWS " "
    "JOIN risk_debtor_profile p ON p.tenant = t.tenant AND p.debtor_id = t.debtor_id "
    "CROSS JOIN LATERAL (SELECT sum(i.open_minor) AS open, "
    "    sum(i.open_minor) FILTER (WHERE i.due_date < $2::date) AS overdue, "
    "    min(i.due_date) FILTER (WHERE i.due_date < $2::date) AS oldest_due, count(*) AS n "
    "  FROM risk_invoices i WHERE i.tenant = p.tenant AND i.debtor_id = p.debtor_id "
    "  AND i.open_minor > 0 AND i.currency = p.currency) inv "
    "LEFT JOIN risk_population pop ON pop.tenant = p.tenant "
    "CROSS JOIN LATERAL (SELECT string_agg(s.currency || '=' || s.outstanding_minor::text, ',' "
    "    ORDER BY s.currency) AS amounts, sum(s.open_invoices)::bigint AS open, "
    "    (extract(epoch FROM max(s.updated_at)) * 1000000)::bigint AS at "
    "  FROM risk_debtor_state s WHERE s.tenant = p.tenant AND s.debtor_id = p.debtor_id) st";

/*  The new scores, one JSON row per debtor: the profile, the history when
    the score or grade moved, the predictions of its open invoices (closed
    ones dropped), and an exposure row so that every scored debtor has a
    complete Redis hash (and is rebuilt) even before its first invoice.
    The sub-statements touch disjoint rows, as writable CTEs must. */
static const char *SQL_WRITE =
    "WITH d AS (SELECT * FROM jsonb_to_recordset($1::jsonb) AS d(tenant text, debtor_id bigint, "
    "    score integer, grade text, snapshot text, changed boolean, p_late float8, "
    "    delay float8, delay_days integer, currency text, every boolean, inv bigint[])), "
    "up AS (UPDATE risk_debtor_profile p SET score = d.score, grade = d.grade, "
    "    snapshot = d.snapshot, computed_on = $2::date, updated_at = now(), pred_p_late = d.p_late, "
    "    pred_delay_days = d.delay, pred_as_of = $2::date FROM d "
    "    WHERE p.tenant = d.tenant AND p.debtor_id = d.debtor_id RETURNING 1), "
    "hist AS (INSERT INTO risk_score_history (tenant, debtor_id, as_of, score, grade, factors) "
    /*  The factors are the snapshot's: parsed here only for the rows
        that move, and the profile keeps them once (in its snapshot). */
    "    SELECT tenant, debtor_id, $2::date, score, grade, d.snapshot::jsonb -> 'factors' "
    "    FROM d WHERE changed RETURNING 1), "
    /*  Which invoices' rows may change (s_row_invoices): all the
        debtor's (d.every), or only those the transaction touched (d.inv). */
    "gone AS (DELETE FROM risk_predictions r USING d WHERE r.tenant = d.tenant "
    "    AND r.debtor_id = d.debtor_id AND (d.every OR r.invoice_id = ANY (d.inv)) "
    "    AND NOT EXISTS (SELECT 1 FROM risk_invoices i "
    "      WHERE i.tenant = r.tenant AND i.invoice_id = r.invoice_id AND i.open_minor > 0) "
    "    RETURNING 1), "
    "pred AS (INSERT INTO risk_predictions AS r (tenant, invoice_id, debtor_id, currency, open_minor, "
    "      due_date, p_late, expected_delay_days, expected_pay_date, as_of) "
    "    SELECT i.tenant, i.invoice_id, i.debtor_id, i.currency, i.open_minor, i.due_date, d.p_late, "
    "      d.delay, greatest(i.due_date + d.delay_days, $2::date), $2::date "
    "    FROM d JOIN risk_invoices i ON i.tenant = d.tenant AND i.debtor_id = d.debtor_id "
    "      AND i.open_minor > 0 AND (d.every OR i.invoice_id = ANY (d.inv)) "
    "    ON CONFLICT (tenant, invoice_id) DO UPDATE SET open_minor = EXCLUDED.open_minor, "
    "      due_date = EXCLUDED.due_date, p_late = EXCLUDED.p_late, "
    "      expected_delay_days = EXCLUDED.expected_delay_days, "
    "      expected_pay_date = EXCLUDED.expected_pay_date, as_of = EXCLUDED.as_of "
    /*  A new invoice leaves its debtor's other predictions as they were:
        rows that would not change are not written again (a debtor with
        many open invoices would otherwise rewrite all of them per event). */
    "    WHERE (r.open_minor, r.due_date, r.p_late, r.expected_delay_days, r.expected_pay_date, "
    "      r.as_of) IS DISTINCT FROM (EXCLUDED.open_minor, EXCLUDED.due_date, EXCLUDED.p_late, "
    "      EXCLUDED.expected_delay_days, EXCLUDED.expected_pay_date, EXCLUDED.as_of) RETURNING 1), "
    "st AS (INSERT INTO risk_debtor_state (tenant, debtor_id, currency) "
    "    SELECT tenant, debtor_id, currency FROM d ON CONFLICT DO NOTHING RETURNING 1) "
    "SELECT (SELECT count(*) FROM up), (SELECT count(*) FROM hist), (SELECT count(*) FROM pred)";

/*  Row i of SQL_INPUTS. */
static void
s_row_inputs(PGresult *r, int i, risk_inputs_t *in, int *old_score, char *old_grade,
             risk_history_t *population)
{
    memset(in, 0, sizeof *in);
    snprintf(in->currency, sizeof in->currency, "%s", PQgetvalue(r, i, 2));
    in->credit_limit_minor = strtoll(PQgetvalue(r, i, 3), NULL, 10);
    in->has_figures = !PQgetisnull(r, i, 4) && !PQgetisnull(r, i, 5);
    in->current_assets_minor = strtoll(PQgetvalue(r, i, 4), NULL, 10);
    in->current_liabilities_minor = strtoll(PQgetvalue(r, i, 5), NULL, 10);
    in->open_disputes = atoi(PQgetvalue(r, i, 6));
    in->active_plans = atoi(PQgetvalue(r, i, 7));
    in->active_promises = atoi(PQgetvalue(r, i, 8));
    in->broken_promises = atoi(PQgetvalue(r, i, 9));
    in->missed_instalments = atoi(PQgetvalue(r, i, 10));
    in->paid_count = atoi(PQgetvalue(r, i, 11));
    in->late_count = atoi(PQgetvalue(r, i, 12));
    in->sum_delay_days = strtoll(PQgetvalue(r, i, 13), NULL, 10);
    in->ew_days_late = strtod(PQgetvalue(r, i, 14), NULL);
    *old_score = atoi(PQgetvalue(r, i, 15));
    *old_grade = PQgetvalue(r, i, 16)[0];
    in->outstanding_minor = strtoll(PQgetvalue(r, i, 17), NULL, 10);
    in->overdue_minor = strtoll(PQgetvalue(r, i, 18), NULL, 10);
    in->oldest_overdue_days = atoi(PQgetvalue(r, i, 19));
    in->open_invoices = atoi(PQgetvalue(r, i, 20));
    population->paid = strtoll(PQgetvalue(r, i, 21), NULL, 10);
    population->late = strtoll(PQgetvalue(r, i, 22), NULL, 10);
    population->sum_delay = strtoll(PQgetvalue(r, i, 23), NULL, 10);
}

/*  The RiskScored (and GradeChanged) envelopes of one rescoring. */
static int
s_add_events(risk_scoring_t *self, const char *tenant, int64_t debtor_id, const risk_inputs_t *in,
             const risk_score_t *score, char old_grade)
{
    Creance__RiskFactor factors[RISK_FACTOR_MAX], *fp[RISK_FACTOR_MAX];
    for (int i = 0; i < score->nfactors; i++) {
        creance__risk_factor__init(&factors[i]);
        factors[i].name = (char *) score->factors[i].name;
        factors[i].contribution = score->factors[i].points;
        factors[i].detail = (char *) score->factors[i].detail;
        fp[i] = &factors[i];
    }
    Creance__Money outstanding = CREANCE__MONEY__INIT, overdue = CREANCE__MONEY__INIT;
    outstanding.minor = in->outstanding_minor;
    outstanding.currency = (char *) in->currency;
    overdue.minor = in->overdue_minor;
    overdue.currency = (char *) in->currency;
    char grade[2] = { score->grade, 0 }, from[2] = { old_grade, 0 };

    Creance__RiskScored scored = CREANCE__RISK_SCORED__INIT;
    scored.debtor_id = debtor_id;
    scored.score = score->score;
    scored.grade = grade;
    scored.n_factors = (size_t) score->nfactors;
    scored.factors = fp;
    scored.outstanding = &outstanding;
    scored.overdue = &overdue;
    Creance__Envelope env;
    envelope_init(&env, tenant, "risk", "risk");
    env.event_case = CREANCE__ENVELOPE__EVENT_RISK_SCORED;
    env.risk_scored = &scored;
    int rc = eventlog_add(self->events, &env);
    envelope_clear(&env);
    if (rc != 0 || !old_grade || old_grade == score->grade)
        return rc;

    Creance__GradeChanged changed = CREANCE__GRADE_CHANGED__INIT;
    changed.debtor_id = debtor_id;
    changed.from_grade = from;
    changed.to_grade = grade;
    envelope_init(&env, tenant, "risk", "risk");
    env.event_case = CREANCE__ENVELOPE__EVENT_GRADE_CHANGED;
    env.grade_changed = &changed;
    rc = eventlog_add(self->events, &env);
    envelope_clear(&env);
    metric_inc(self->m_grades);
    log_info("grade changed tenant=%s debtor=%" PRId64 " from=%c to=%c score=%d", tenant, debtor_id,
             old_grade, score->grade, score->score);
    return rc;
}

/*  The debtor-level prediction its invoices' rows were last written with
    (columns 24..26 of SQL_INPUTS). */
typedef struct {
    bool known;
    double p_late, delay;
} old_pred_t;

static void
s_row_old_pred(PGresult *r, int i, old_pred_t *old)
{
    old->known = !PQgetisnull(r, i, 24) && !PQgetisnull(r, i, 25)
                 && PQgetvalue(r, i, 26)[0] == 't';
    old->p_late = old->known ? strtod(PQgetvalue(r, i, 24), NULL) : 0;
    old->delay = old->known ? strtod(PQgetvalue(r, i, 25), NULL) : 0;
}

/*  SQL_WRITE's `every` and `inv` of a debtor's row: every open invoice's
    prediction is written again when a fact other than a new invoice or an
    allocation touched the debtor, or when the debtor-level prediction
    moved (its history, the population or the day); else only the invoices
    of the transaction. float8 text from PostgreSQL reads back to the same
    double (extra_float_digits default 1: shortest exact form). */
static int
s_row_invoices(json_t *row, const touched_t *t, const old_pred_t *old,
               const risk_prediction_t *pred)
{
    bool every = !t || t->every || !old->known || old->p_late != pred->p_late
                 || old->delay != pred->delay_days;
    json_t *inv = json_array();
    for (size_t i = 0; !every && i < t->ninv; i++)
        json_array_append_new(inv, json_integer((json_int_t) t->inv[i]));
    if (json_object_set_new(row, "inv", inv) != 0)
        return -1;
    return json_object_set_new(row, "every", json_boolean(every));
}

/*  Keeps the complete state of a rescored debtor for the Redis write:
    its exposure (row i of SQL_INPUTS, columns 27..29) and new snapshot. */
static int
s_keep_state(risk_scoring_t *self, PGresult *r, int i, const char *snapshot)
{
    if (self->nwritten == self->written_cap) {
        size_t cap = self->written_cap ? self->written_cap * 2 : 64;
        risk_debtor_t **w = realloc(self->written, cap * sizeof *w);
        if (!w)
            return -1;
        self->written = w;
        self->written_cap = cap;
    }
    risk_debtor_t *state = risk_debtor_new(PQgetvalue(r, i, 0), strtoll(PQgetvalue(r, i, 1), NULL, 10));
    if (!state)
        return -1;
    if (!risk_parse_int64(PQgetvalue(r, i, 28), &state->open_invoices)
        || !risk_parse_int64(PQgetvalue(r, i, 29), &state->updated_at_us)
        || risk_debtor_parse_amounts(state, PQgetvalue(r, i, 27)) != 0
        || risk_debtor_set_snapshot(state, snapshot) != 0) {
        log_error("risk_debtor_state unreadable tenant=%s debtor=%s", PQgetvalue(r, i, 0),
                  PQgetvalue(r, i, 1));
        risk_debtor_destroy(&state);
        return -1;
    }
    self->written[self->nwritten++] = state;
    return 0;
}

/*  One debtor's new score (row i of SQL_INPUTS): its row for SQL_WRITE,
    its events and its state for Redis. */
static int
s_score_row(risk_scoring_t *self, db_t *db, PGresult *r, int i, int32_t today, json_t *rows)
{
    risk_inputs_t inputs, *in = &inputs;
    risk_history_t population;
    int old_score;
    char old_grade;
    old_pred_t oldp, *old = &oldp;
    s_row_inputs(r, i, in, &old_score, &old_grade, &population);
    s_row_old_pred(r, i, old);
    const char *tenant = PQgetvalue(r, i, 0);
    int64_t debtor_id = strtoll(PQgetvalue(r, i, 1), NULL, 10);
    risk_policy_t policy;
    if (risk_scoring_policy(self, db, tenant, &policy) != 0)
        return -1;
    risk_score_t score;
    risk_score_compute(in, &policy, &score);
    risk_history_t own = { in->paid_count, in->late_count, in->sum_delay_days };
    risk_prediction_t pred;
    risk_predict(&own, &population, policy.shrink_k, &pred);
    char *snapshot = risk_snapshot_build(today, in, &score, &pred);
    bool changed = old_score != score.score || old_grade != score.grade;
    char grade[2] = { score.grade, 0 };
    int rc = -1;
    if (snapshot
        && json_array_append_new(rows, json_pack("{s:s, s:I, s:i, s:s, s:s, s:b, s:f, s:f, s:I, s:s}",
               "tenant", tenant, "debtor_id", (json_int_t) debtor_id, "score", score.score,
               "grade", grade, "snapshot", snapshot, "changed", changed,
               "p_late", pred.p_late, "delay", pred.delay_days,
               "delay_days", (json_int_t) lround(pred.delay_days), "currency", in->currency)) == 0)
        rc = 0;
    if (rc == 0 && s_keep_state(self, r, i, snapshot) != 0)
        rc = -1;
    free(snapshot);
    if (rc == 0 && s_row_invoices(json_array_get(rows, json_array_size(rows) - 1),
                                  s_touched(self, tenant, debtor_id), old, &pred) != 0)
        rc = -1;
    metric_inc(self->m_scored);
    if (rc == 0 && changed) {
        rc = s_add_events(self, tenant, debtor_id, in, &score, old_grade);
        metric_inc(self->m_changed);
        log_debug("score changed tenant=%s debtor=%" PRId64 " score=%d grade=%c", tenant, debtor_id,
                  score.score, score.grade);
    }
    return rc;
}

static int
s_rescore_touched(risk_scoring_t *self, db_t *db, int32_t today)
{
    json_t *touched = json_array();
    for (touched_t *t = zhashx_first(self->touched); t; t = zhashx_next(self->touched))
        json_array_append_new(touched, json_pack("{s:s, s:I}", "tenant", t->tenant,
                                                 "debtor_id", (json_int_t) t->debtor_id));
    char *list = json_dumps(touched, JSON_COMPACT);
    json_decref(touched);
    json_t *rows = json_array();
    day_t day = s_day(today);
    int rc = -1;
    PGresult *r = NULL;
    if (!list || !rows)
        goto done;
    const char *p1[] = { list };
    const char *p2[] = { list, day.s };
    if (!(r = db_exec(db, SQL_INPUTS, 2, p2)))
        goto done;
    /*  One row per touched debtor that has a profile: only a debtor whose
        facts predate risk has none, so the default profiles cost a
        statement only then. */
    if ((size_t) PQntuples(r) < zhashx_size(self->touched)) {
        PQclear(r);
        if (s_run(db, SQL_PROFILES_DEFAULT, 1, p1) != 0 || !(r = db_exec(db, SQL_INPUTS, 2, p2)))
            goto done;
    }
    for (int i = 0; i < PQntuples(r); i++)
        if (s_score_row(self, db, r, i, today, rows) != 0)
            goto done;
    char *text = json_dumps(rows, JSON_COMPACT);
    if (!text)
        goto done;
    const char *p3[] = { text, day.s };
    int written = s_run(db, SQL_WRITE, 2, p3);
    free(text);
    if (written != 0)
        goto done;
    rc = 0;
done:
    if (r)
        PQclear(r);
    json_decref(rows);
    free(list);
    return rc;
}

/*  The population growth of the transaction, in one statement, rows in
    tenant order (the lock order every instance follows). */
static int
s_flush_population(risk_scoring_t *self, db_t *db)
{
    if (zhashx_size(self->population) == 0)
        return 0;
    json_t *rows = json_array();
    for (pop_t *p = zhashx_first(self->population); p; p = zhashx_next(self->population))
        json_array_append_new(rows, json_pack("{s:s, s:I, s:I, s:I}", "tenant", p->tenant,
                              "paid", (json_int_t) p->paid, "late", (json_int_t) p->late,
                              "delay", (json_int_t) p->delay));
    int rc = s_run_json(db, SQL_POPULATION_WRITE, rows);
    json_decref(rows);
    if (rc == 0)
        zhashx_purge(self->population);
    return rc;
}

int
risk_scoring_precommit(risk_scoring_t *self, db_t *db)
{
    if (s_flush_invoices(self, db) != 0 || s_flush_allocs(self, db) != 0
        || s_flush_population(self, db) != 0)
        return -1;
    if (zhashx_size(self->touched) > 0 && s_rescore_touched(self, db, date_today()) != 0)
        return -1;
    zhashx_purge(self->touched);
    return eventlog_count(self->events) > 0 ? eventlog_flush(self->events, db) : 0;
}

int
risk_scoring_committed(risk_scoring_t *self)
{
    if (self->bus && eventlog_count(self->events) > 0)
        eventlog_publish(self->events, self->bus);
    int rc = 0;
    if (self->nwritten > 0)
        rc = risk_cache_write(self->cache, self->written, self->nwritten);
    s_forget(self);
    return rc;
}

void
risk_scoring_aborted(risk_scoring_t *self)
{
    s_forget(self);
}

/* ---------------------------------------------------------------- daily */

/*  $3/$4: this instance's partition k of N (common/partition.h, computed
    in SQL by creance_partition of 0080_partition.sql): each instance
    rescores only its own debtors, so two never write one debtor's row. */
static const char *SQL_DUE_FOR_RESCORE =
    "SELECT p.tenant, p.debtor_id FROM risk_debtor_profile p "
    "WHERE (p.computed_on IS NULL OR p.computed_on < $1::date) "
    "  AND EXISTS (SELECT 1 FROM risk_invoices i WHERE i.tenant = p.tenant "
    "              AND i.debtor_id = p.debtor_id AND i.open_minor > 0) "
    "  AND ($4::integer = 1 OR creance_partition(p.tenant, p.debtor_id::text, $4::integer) "
    "       = $3::integer) "
    "LIMIT $2::integer";

int
risk_scoring_daily(risk_scoring_t *self, db_t *db)
{
    int32_t today = date_today();
    if (self->daily_done == today)
        return 0;
    day_t day = s_day(today);
    num_t lim = s_num(DAILY_BATCH), k = s_num(self->part.index), n_of = s_num(self->part.count);
    if (db_begin(db) != 0)
        return -1;
    const char *params[] = { day.s, lim.s, k.s, n_of.s };
    PGresult *r = db_exec(db, SQL_DUE_FOR_RESCORE, 4, params);
    if (!r) {
        db_rollback(db);
        return -1;
    }
    int n = PQntuples(r), rc = 0;
    for (int i = 0; i < n && rc == 0; i++)
        rc = s_touch(self, PQgetvalue(r, i, 0), strtoll(PQgetvalue(r, i, 1), NULL, 10));
    PQclear(r);
    if (rc != 0 || risk_scoring_precommit(self, db) != 0 || db_commit(db) != 0) {
        db_rollback(db);
        s_forget(self);
        return -1;
    }
    risk_scoring_committed(self);
    if (n < DAILY_BATCH) {
        self->daily_done = today;
        log_info("daily rescoring done day=%s", day.s);
    }
    return n;
}
