/*  aggregates: event -> delta mapping (pure) and the rpt_totals upsert.
    See aggregates.h for what each event does to the totals and why. */
#include "aggregates.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "collect.h"
#include "dates.h"
#include "envelope.h"
#include "facts.h"
#include "log.h"
#include "rejects.h"
#include "metrics.h"
#include "money.h"
#include "segments.h"

/* ------------------------------------------------------------------ pure */

static int fail(rpt_error_t *err, const char *field, const char *reason)
{
    err->field = field;
    err->reason = reason;
    return -1;
}

/*  Checks an amount: present, a known currency, not negative (or strictly
    positive when `positive`), and below RPT_MAX_MINOR. */
static int check_money(const Creance__Money *m, const char *field, bool positive, rpt_error_t *err)
{
    if (!m)
        return fail(err, field, "missing");
    if (!m->currency || !currency_known(m->currency))
        return fail(err, field, "unknown_currency");
    if (m->minor < 0)
        return fail(err, field, "negative");
    if (positive && m->minor == 0)
        return fail(err, field, "not_positive");
    if (m->minor > RPT_MAX_MINOR)
        return fail(err, field, "too_large");
    return 0;
}

/*  The delta of `currency` in `out`, added if new. */
static rpt_delta_t *slot(rpt_deltas_t *out, const char *currency, const char *field, rpt_error_t *err)
{
    for (int i = 0; i < out->n; i++)
        if (strcmp(out->d[i].currency, currency) == 0)
            return &out->d[i];
    if (out->n == RPT_MAX_CURRENCIES) {
        fail(err, field, "too_many_currencies");
        return NULL;
    }
    rpt_delta_t *d = &out->d[out->n++];
    memset(d, 0, sizeof *d);
    snprintf(d->currency, sizeof d->currency, "%s", currency);
    return d;
}

/*  *acc += by, refusing to wrap around. */
static int add(int64_t *acc, int64_t by, const char *field, rpt_error_t *err)
{
    int64_t sum;
    if (__builtin_add_overflow(*acc, by, &sum))
        return fail(err, field, "overflow");
    *acc = sum;
    return 0;
}

typedef int (mapper_fn)(const Creance__Envelope *env, rpt_deltas_t *out, rpt_error_t *err);

static int map_invoice_issued(const Creance__Envelope *env, rpt_deltas_t *out, rpt_error_t *err)
{
    const Creance__InvoiceIssued *e = env->invoice_issued;
    if (check_money(e->amount, "invoice_issued.amount", true, err))
        return -1;
    rpt_delta_t *d = slot(out, e->amount->currency, "invoice_issued.amount", err);
    if (!d)
        return -1;
    d->invoiced += e->amount->minor;
    d->outstanding += e->amount->minor;
    d->invoice_count += 1;
    return 0;
}

static int map_payment_received(const Creance__Envelope *env, rpt_deltas_t *out, rpt_error_t *err)
{
    const Creance__PaymentReceived *e = env->payment_received;
    if (check_money(e->amount, "payment_received.amount", true, err))
        return -1;
    rpt_delta_t *d = slot(out, e->amount->currency, "payment_received.amount", err);
    if (!d)
        return -1;
    d->collected += e->amount->minor;
    d->payment_count += 1;
    return 0;
}

static int map_payment_allocated(const Creance__Envelope *env, rpt_deltas_t *out, rpt_error_t *err)
{
    const Creance__PaymentAllocated *e = env->payment_allocated;
    for (size_t i = 0; i < e->n_allocations; i++) {
        const Creance__Allocation *a = e->allocations[i];
        if (!a)
            return fail(err, "payment_allocated.allocations", "missing");
        if (check_money(a->amount, "payment_allocated.allocations.amount", false, err))
            return -1;
        rpt_delta_t *d = slot(out, a->amount->currency, "payment_allocated.allocations.amount", err);
        if (!d || add(&d->outstanding, -a->amount->minor, "payment_allocated.allocations.amount", err))
            return -1;
    }
    return 0;
}

static int map_payment_reversed(const Creance__Envelope *env, rpt_deltas_t *out, rpt_error_t *err)
{
    const Creance__PaymentReversed *e = env->payment_reversed;
    for (size_t i = 0; i < e->n_reopened; i++) {
        const Creance__Allocation *a = e->reopened[i];
        if (!a)
            return fail(err, "payment_reversed.reopened", "missing");
        if (check_money(a->amount, "payment_reversed.reopened.amount", false, err))
            return -1;
        rpt_delta_t *d = slot(out, a->amount->currency, "payment_reversed.reopened.amount", err);
        if (!d
            || add(&d->outstanding, a->amount->minor, "payment_reversed.reopened.amount", err)
            || add(&d->collected, -a->amount->minor, "payment_reversed.reopened.amount", err))
            return -1;
    }
    /*  Collected counted the whole payment when it was received (its
        unapplied credit too): the credit taken back is no longer
        collected either. */
    if (e->unapplied_removed && e->unapplied_removed->minor != 0) {
        if (check_money(e->unapplied_removed, "payment_reversed.unapplied_removed", false, err))
            return -1;
        rpt_delta_t *d = slot(out, e->unapplied_removed->currency,
                              "payment_reversed.unapplied_removed", err);
        if (!d || add(&d->collected, -e->unapplied_removed->minor,
                      "payment_reversed.unapplied_removed", err))
            return -1;
    }
    return 0;
}

static int map_invoice_cancelled(const Creance__Envelope *env, rpt_deltas_t *out, rpt_error_t *err)
{
    const Creance__InvoiceCancelled *e = env->invoice_cancelled;
    if (check_money(e->cancelled_open, "invoice_cancelled.cancelled_open", false, err))
        return -1;
    rpt_delta_t *d = slot(out, e->cancelled_open->currency, "invoice_cancelled.cancelled_open", err);
    if (!d)
        return -1;
    d->invoiced -= e->cancelled_open->minor;
    d->outstanding -= e->cancelled_open->minor;
    return 0;
}

/*  What a credit note applies lowers the outstanding; its excess is the
    debtor's unapplied credit and counts only when a later invoice takes it
    (CreditNoteApplied), as a payment's unapplied credit does. Neither is
    cash: nothing is collected. An event written before `applied` existed:
    tied to an invoice, the whole amount (as then); tied to none, nothing. */
static int map_credit_note_issued(const Creance__Envelope *env, rpt_deltas_t *out, rpt_error_t *err)
{
    const Creance__CreditNoteIssued *e = env->credit_note_issued;
    if (check_money(e->amount, "credit_note_issued.amount", false, err))
        return -1;
    int64_t applied = e->invoice_id > 0 ? e->amount->minor : 0;
    if (e->applied) {
        if (check_money(e->applied, "credit_note_issued.applied", false, err))
            return -1;
        if (strcmp(e->applied->currency, e->amount->currency) != 0)
            return fail(err, "credit_note_issued.applied", "currency_mismatch");
        if (e->applied->minor > e->amount->minor)
            return fail(err, "credit_note_issued.applied", "exceeds_amount");
        applied = e->applied->minor;
    }
    rpt_delta_t *d = slot(out, e->amount->currency, "credit_note_issued.amount", err);
    if (!d)
        return -1;
    d->outstanding -= applied;
    return 0;
}

static int map_credit_note_applied(const Creance__Envelope *env, rpt_deltas_t *out, rpt_error_t *err)
{
    const Creance__CreditNoteApplied *e = env->credit_note_applied;
    if (check_money(e->amount, "credit_note_applied.amount", false, err))
        return -1;
    rpt_delta_t *d = slot(out, e->amount->currency, "credit_note_applied.amount", err);
    if (!d)
        return -1;
    d->outstanding -= e->amount->minor;
    return 0;
}

static int map_written_off(const Creance__Envelope *env, rpt_deltas_t *out, rpt_error_t *err)
{
    const Creance__WrittenOff *e = env->written_off;
    if (check_money(e->amount, "written_off.amount", false, err))
        return -1;
    rpt_delta_t *d = slot(out, e->amount->currency, "written_off.amount", err);
    if (!d)
        return -1;
    d->outstanding -= e->amount->minor;
    return 0;
}

static int map_invoice_adjusted(const Creance__Envelope *env, rpt_deltas_t *out, rpt_error_t *err)
{
    const Creance__InvoiceAdjusted *e = env->invoice_adjusted;
    if (check_money(e->new_amount, "invoice_adjusted.new_amount", false, err)
        || check_money(e->old_amount, "invoice_adjusted.old_amount", false, err)
        || check_money(e->open_amount, "invoice_adjusted.open_amount", false, err)
        || check_money(e->old_open_amount, "invoice_adjusted.old_open_amount", false, err))
        return -1;
    const char *cur = e->new_amount->currency;
    if (strcmp(e->old_amount->currency, cur) || strcmp(e->open_amount->currency, cur)
        || strcmp(e->old_open_amount->currency, cur))
        return fail(err, "invoice_adjusted.old_amount", "currency_mismatch");
    rpt_delta_t *d = slot(out, cur, "invoice_adjusted.new_amount", err);
    if (!d)
        return -1;
    d->invoiced += e->new_amount->minor - e->old_amount->minor;
    d->outstanding += e->open_amount->minor - e->old_open_amount->minor;
    return 0;
}

/*  A dispute's currency: its amount's when it has one, else the invoice's,
    looked up by the database half. */
static int dispute_delta(const Creance__Money *amount, int64_t invoice_id, int64_t by,
                         const char *field, const char *invoice_field,
                         rpt_deltas_t *out, rpt_error_t *err)
{
    const char *currency = "";
    if (amount && amount->currency && amount->currency[0]) {
        if (!currency_known(amount->currency))
            return fail(err, field, "unknown_currency");
        currency = amount->currency;
    }
    else {
        if (invoice_id <= 0)
            return fail(err, invoice_field, "missing");
        out->lookup_invoice_id = invoice_id;
    }
    rpt_delta_t *d = slot(out, currency, field, err);
    if (!d)
        return -1;
    d->open_disputes += by;
    return 0;
}

static int map_dispute_opened(const Creance__Envelope *env, rpt_deltas_t *out, rpt_error_t *err)
{
    const Creance__DisputeOpened *e = env->dispute_opened;
    return dispute_delta(e->amount, e->invoice_id, +1, "dispute_opened.amount",
                         "dispute_opened.invoice_id", out, err);
}

static int map_dispute_resolved(const Creance__Envelope *env, rpt_deltas_t *out, rpt_error_t *err)
{
    const Creance__DisputeResolved *e = env->dispute_resolved;
    return dispute_delta(NULL, e->invoice_id, -1, "dispute_resolved.amount",
                         "dispute_resolved.invoice_id", out, err);
}

/*  Event case -> mapper. Cases not listed change no total. */
static const struct {
    Creance__Envelope__EventCase event;
    mapper_fn *map;
} s_mappers[] = {
    { CREANCE__ENVELOPE__EVENT_INVOICE_ISSUED,     map_invoice_issued },
    { CREANCE__ENVELOPE__EVENT_PAYMENT_RECEIVED,   map_payment_received },
    { CREANCE__ENVELOPE__EVENT_PAYMENT_ALLOCATED,  map_payment_allocated },
    { CREANCE__ENVELOPE__EVENT_PAYMENT_REVERSED,   map_payment_reversed },
    { CREANCE__ENVELOPE__EVENT_INVOICE_CANCELLED,  map_invoice_cancelled },
    { CREANCE__ENVELOPE__EVENT_INVOICE_ADJUSTED,   map_invoice_adjusted },
    { CREANCE__ENVELOPE__EVENT_CREDIT_NOTE_ISSUED, map_credit_note_issued },
    { CREANCE__ENVELOPE__EVENT_CREDIT_NOTE_APPLIED, map_credit_note_applied },
    { CREANCE__ENVELOPE__EVENT_WRITTEN_OFF,        map_written_off },
    { CREANCE__ENVELOPE__EVENT_DISPUTE_OPENED,     map_dispute_opened },
    { CREANCE__ENVELOPE__EVENT_DISPUTE_RESOLVED,   map_dispute_resolved },
};

int rpt_deltas_from_event(const Creance__Envelope *env, rpt_deltas_t *out, rpt_error_t *err)
{
    memset(out, 0, sizeof *out);
    err->field = NULL;
    err->reason = NULL;
    for (size_t i = 0; i < sizeof s_mappers / sizeof s_mappers[0]; i++) {
        if (s_mappers[i].event != env->event_case)
            continue;
        /*  The oneof pointer of the case is the first word of the union:
            any member tells whether the submessage is there. */
        if (!env->invoice_issued)
            return fail(err, "event", "missing");
        int rc = s_mappers[i].map(env, out, err);
        if (rc)
            out->n = 0;
        return rc;
    }
    return 0;
}

bool rpt_delta_is_zero(const rpt_delta_t *d)
{
    return !d->invoiced && !d->collected && !d->outstanding
        && !d->invoice_count && !d->payment_count && !d->open_disputes;
}

/* ------------------------------------------------------------- database */

static int lookup_invoice_currency(db_t *db, const char *tenant, int64_t invoice_id,
                                   char currency[4], bool *found)
{
    char id[24];
    snprintf(id, sizeof id, "%" PRId64, invoice_id);
    const char *params[] = { tenant, id };
    PGresult *r = db_exec(db, "SELECT currency FROM invoices WHERE tenant = $1 AND id = $2",
                          2, params);
    if (!r)
        return -1;
    *found = PQntuples(r) == 1;
    if (*found)
        snprintf(currency, 4, "%s", PQgetvalue(r, 0, 0));
    PQclear(r);
    return 0;
}

int rpt_totals_add(db_t *db, const char *tenant, const rpt_deltas_t *deltas, int *unresolved)
{
    static const char *upsert =
        "INSERT INTO rpt_totals (tenant, currency, invoiced_minor, collected_minor,"
        " outstanding_minor, invoice_count, payment_count, open_disputes)"
        " VALUES ($1, $2, $3, $4, $5, $6, $7, $8)"
        " ON CONFLICT (tenant, currency) DO UPDATE SET"
        " invoiced_minor = rpt_totals.invoiced_minor + EXCLUDED.invoiced_minor,"
        " collected_minor = rpt_totals.collected_minor + EXCLUDED.collected_minor,"
        " outstanding_minor = rpt_totals.outstanding_minor + EXCLUDED.outstanding_minor,"
        " invoice_count = rpt_totals.invoice_count + EXCLUDED.invoice_count,"
        " payment_count = rpt_totals.payment_count + EXCLUDED.payment_count,"
        " open_disputes = rpt_totals.open_disputes + EXCLUDED.open_disputes,"
        " updated_at = now()";

    for (int i = 0; i < deltas->n; i++) {
        const rpt_delta_t *d = &deltas->d[i];
        if (rpt_delta_is_zero(d))
            continue;
        char currency[4];
        snprintf(currency, sizeof currency, "%s", d->currency);
        if (!currency[0]) {
            bool found = false;
            if (lookup_invoice_currency(db, tenant, deltas->lookup_invoice_id, currency, &found))
                return -1;
            if (!found) {
                if (unresolved)
                    (*unresolved)++;
                continue;
            }
        }
        char v[6][24];
        snprintf(v[0], sizeof v[0], "%" PRId64, d->invoiced);
        snprintf(v[1], sizeof v[1], "%" PRId64, d->collected);
        snprintf(v[2], sizeof v[2], "%" PRId64, d->outstanding);
        snprintf(v[3], sizeof v[3], "%" PRId64, d->invoice_count);
        snprintf(v[4], sizeof v[4], "%" PRId64, d->payment_count);
        snprintf(v[5], sizeof v[5], "%" PRId64, d->open_disputes);
        const char *params[] = { tenant, currency, v[0], v[1], v[2], v[3], v[4], v[5] };
        if (db_run(db, upsert, 8, params))
            return -1;
    }
    return 0;
}

/* ------------------------------------------------------------- consumer */

struct rpt_aggregates_t {
    metric_t *applied;              /* creance_reporting_events_applied_total */
    metric_t *apply_seconds;
    int64_t pending_applied;        /* in the open transaction */
    rejects_t *rejects;             /* counted after commit, like applied events */
};

rpt_aggregates_t *rpt_aggregates_new(void)
{
    rpt_aggregates_t *self = calloc(1, sizeof *self);
    if (!self)
        return NULL;
    self->rejects = rejects_new("creance_reporting_events_rejected_total",
                                "Events that changed no total, by reason");
    self->applied = metrics_counter("creance_reporting_events_applied_total",
                                    "Ledger events applied to the reporting totals", NULL);
    self->apply_seconds = metrics_histogram("creance_reporting_apply_seconds",
                                            "Time to apply one event to rpt_totals", NULL);
    return self;
}

void rpt_aggregates_destroy(rpt_aggregates_t **self_p)
{
    if (self_p && *self_p) {
        rejects_destroy(&(*self_p)->rejects);
        free(*self_p);
        *self_p = NULL;
    }
}

static void reject(rpt_aggregates_t *self, const Creance__Envelope *env, const rpt_error_t *err)
{
    rejects_add(self->rejects, env, err->field, err->reason);
}

int rpt_aggregates_apply(db_t *db, const Creance__Envelope *env, void *arg)
{
    rpt_aggregates_t *self = arg;
    int64_t start = now_us();
    rpt_deltas_t deltas;
    rpt_error_t err;
    if (rpt_deltas_from_event(env, &deltas, &err)) {
        reject(self, env, &err);
        return 0;
    }
    int unresolved = 0;
    if (rpt_totals_add(db, env->tenant, &deltas, &unresolved)) {
        log_error("totals not updated tenant=%s stream=%s seq=%" PRId64 " type=%s error=%s",
                  env->tenant, env->stream, env->seq, envelope_type_name(env),
                  db_last_error(db));
        return -1;
    }
    bool unknown = false;
    if (rpt_facts_apply(db, env, &unknown)) {
        log_error("kpi facts not updated tenant=%s stream=%s seq=%" PRId64 " type=%s error=%s",
                  env->tenant, env->stream, env->seq, envelope_type_name(env),
                  db_last_error(db));
        return -1;
    }
    bool unknown_collect = false;
    if (rpt_collect_apply(db, env, &unknown_collect)) {
        log_error("collection facts not updated tenant=%s stream=%s seq=%" PRId64 " type=%s"
                  " error=%s", env->tenant, env->stream, env->seq, envelope_type_name(env),
                  db_last_error(db));
        return -1;
    }
    bool unknown_segment = false;
    if (rpt_segments_apply(db, env, &unknown_segment)) {
        log_error("segments not updated tenant=%s stream=%s seq=%" PRId64 " type=%s error=%s",
                  env->tenant, env->stream, env->seq, envelope_type_name(env),
                  db_last_error(db));
        return -1;
    }
    if (unknown_segment) {
        rpt_error_t e = { "risk_scored.grade", "invalid" };
        reject(self, env, &e);
    }
    if (unknown_collect) {
        rpt_error_t e = { "event", "unknown_to_collection_facts" };
        reject(self, env, &e);
    }
    if (unknown && !unresolved) {
        rpt_error_t e = { "invoice_id", "unknown_to_facts" };
        reject(self, env, &e);
    }
    if (unresolved) {
        /*  The event is fine but names an invoice the ledger does not have:
            nothing to count it against. */
        rpt_error_t e = { "invoice_id", "unknown_invoice" };
        reject(self, env, &e);
    }
    log_debug("event applied tenant=%s stream=%s seq=%" PRId64 " type=%s currencies=%d",
              env->tenant, env->stream, env->seq, envelope_type_name(env), deltas.n);
    self->pending_applied++;
    metric_observe(self->apply_seconds, (double) (now_us() - start) / 1e6);
    return 0;
}

void rpt_aggregates_committed(void *arg)
{
    rpt_aggregates_t *self = arg;
    metric_add(self->applied, (double) self->pending_applied);
    rejects_committed(self->rejects);
    self->pending_applied = 0;
}

void rpt_aggregates_aborted(void *arg)
{
    rpt_aggregates_t *self = arg;
    self->pending_applied = 0;
}
