/*  items: event -> rem_open_items changes (pure) and the statements that
    make them. See items.h for what each event does and why. */
#include "items.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "dates.h"
#include "envelope.h"
#include "log.h"
#include "rejects.h"
#include "metrics.h"
#include "money.h"
#include "pauses.h"

/* ------------------------------------------------------------------ pure */

static int fail(rem_error_t *err, const char *field, const char *reason)
{
    err->field = field;
    err->reason = reason;
    return -1;
}

static rem_change_t *push(rem_changes_t *out, rem_op_t op, int64_t invoice_id)
{
    if (out->n == out->cap) {
        size_t cap = out->cap ? out->cap * 2 : 8;
        rem_change_t *v = realloc(out->v, cap * sizeof *v);
        if (!v)
            return NULL;
        out->v = v;
        out->cap = cap;
    }
    rem_change_t *c = &out->v[out->n++];
    memset(c, 0, sizeof *c);
    c->op = op;
    c->invoice_id = invoice_id;
    return c;
}

/*  push() only fails when memory runs out; the event is then refused like a
    malformed one would be, which keeps the service running. */
#define PUSH(c, out, op, id, field) \
    do { if (!((c) = push((out), (op), (id)))) return fail(err, (field), "out_of_memory"); } while (0)

static int check_id(int64_t id, const char *field, rem_error_t *err)
{
    return id > 0 ? 0 : fail(err, field, id == 0 ? "missing" : "negative");
}

/*  An amount that is present, in a known currency, and not negative. */
static int check_money(const Creance__Money *m, const char *field, rem_error_t *err)
{
    if (!m)
        return fail(err, field, "missing");
    if (!m->currency || !currency_known(m->currency))
        return fail(err, field, "unknown_currency");
    if (m->minor < 0)
        return fail(err, field, "negative");
    return 0;
}

static int check_date(const Creance__Date *d, const char *field, int32_t *days, rem_error_t *err)
{
    if (!d)
        return fail(err, field, "missing");
    if (!date_from_pb(d, days))
        return fail(err, field, "invalid_date");
    return 0;
}

typedef int (mapper_fn)(const Creance__Envelope *env, rem_changes_t *out, rem_error_t *err);

static int map_invoice_issued(const Creance__Envelope *env, rem_changes_t *out, rem_error_t *err)
{
    const Creance__InvoiceIssued *e = env->invoice_issued;
    int32_t due;
    if (check_id(e->invoice_id, "invoice_issued.invoice_id", err)
        || check_id(e->debtor_id, "invoice_issued.debtor_id", err)
        || check_date(e->due_date, "invoice_issued.due_date", &due, err)
        || check_money(e->amount, "invoice_issued.amount", err))
        return -1;
    if (e->amount->minor == 0)
        return fail(err, "invoice_issued.amount", "not_positive");
    rem_change_t *c;
    PUSH(c, out, REM_INSERT, e->invoice_id, "invoice_issued");
    c->debtor_id = e->debtor_id;
    c->has_due = true;
    c->due_date = due;
    snprintf(c->currency, sizeof c->currency, "%s", e->amount->currency);
    c->open_minor = e->amount->minor;
    return 0;
}

static int map_payment_allocated(const Creance__Envelope *env, rem_changes_t *out, rem_error_t *err)
{
    const Creance__PaymentAllocated *e = env->payment_allocated;
    for (size_t i = 0; i < e->n_allocations; i++) {
        const Creance__Allocation *a = e->allocations[i];
        if (!a)
            return fail(err, "payment_allocated.allocations", "missing");
        if (check_id(a->invoice_id, "payment_allocated.allocations.invoice_id", err)
            || check_money(a->invoice_open_after,
                           "payment_allocated.allocations.invoice_open_after", err))
            return -1;
        rem_change_t *c;
        if (a->invoice_open_after->minor == 0) {
            PUSH(c, out, REM_DELETE, a->invoice_id, "payment_allocated.allocations");
            continue;
        }
        PUSH(c, out, REM_SET_OPEN, a->invoice_id, "payment_allocated.allocations");
        c->open_minor = a->invoice_open_after->minor;
    }
    return 0;
}

static int map_payment_reversed(const Creance__Envelope *env, rem_changes_t *out, rem_error_t *err)
{
    const Creance__PaymentReversed *e = env->payment_reversed;
    if (check_id(e->debtor_id, "payment_reversed.debtor_id", err))
        return -1;
    for (size_t i = 0; i < e->n_reopened; i++) {
        const Creance__Allocation *a = e->reopened[i];
        if (!a)
            return fail(err, "payment_reversed.reopened", "missing");
        int32_t due;
        if (check_id(a->invoice_id, "payment_reversed.reopened.invoice_id", err)
            || check_money(a->invoice_open_after, "payment_reversed.reopened.invoice_open_after", err)
            || check_date(a->due_date, "payment_reversed.reopened.due_date", &due, err))
            return -1;
        rem_change_t *c;
        if (a->invoice_open_after->minor == 0) {
            /*  Nothing left open even after reopening: no row. */
            PUSH(c, out, REM_DELETE, a->invoice_id, "payment_reversed.reopened");
            continue;
        }
        PUSH(c, out, REM_UPSERT, a->invoice_id, "payment_reversed.reopened");
        c->debtor_id = e->debtor_id;
        c->has_due = true;
        c->due_date = due;
        snprintf(c->currency, sizeof c->currency, "%s", a->invoice_open_after->currency);
        c->open_minor = a->invoice_open_after->minor;
    }
    return 0;
}

static int map_invoice_cancelled(const Creance__Envelope *env, rem_changes_t *out, rem_error_t *err)
{
    const Creance__InvoiceCancelled *e = env->invoice_cancelled;
    if (check_id(e->invoice_id, "invoice_cancelled.invoice_id", err))
        return -1;
    rem_change_t *c;
    PUSH(c, out, REM_DELETE, e->invoice_id, "invoice_cancelled");
    return 0;
}

static int map_written_off(const Creance__Envelope *env, rem_changes_t *out, rem_error_t *err)
{
    const Creance__WrittenOff *e = env->written_off;
    if (check_id(e->invoice_id, "written_off.invoice_id", err))
        return -1;
    rem_change_t *c;
    PUSH(c, out, REM_DELETE, e->invoice_id, "written_off");
    return 0;
}

static int map_dispute_opened(const Creance__Envelope *env, rem_changes_t *out, rem_error_t *err)
{
    const Creance__DisputeOpened *e = env->dispute_opened;
    if (check_id(e->invoice_id, "dispute_opened.invoice_id", err))
        return -1;
    rem_change_t *c;
    PUSH(c, out, REM_SET_DISPUTED, e->invoice_id, "dispute_opened");
    c->disputed = true;
    return 0;
}

static int map_dispute_resolved(const Creance__Envelope *env, rem_changes_t *out, rem_error_t *err)
{
    const Creance__DisputeResolved *e = env->dispute_resolved;
    if (check_id(e->invoice_id, "dispute_resolved.invoice_id", err))
        return -1;
    rem_change_t *c;
    PUSH(c, out, REM_SET_DISPUTED, e->invoice_id, "dispute_resolved");
    c->disputed = false;
    return 0;
}

static int map_invoice_adjusted(const Creance__Envelope *env, rem_changes_t *out, rem_error_t *err)
{
    const Creance__InvoiceAdjusted *e = env->invoice_adjusted;
    if (check_id(e->invoice_id, "invoice_adjusted.invoice_id", err)
        || check_money(e->open_amount, "invoice_adjusted.open_amount", err))
        return -1;
    int32_t due = 0;
    bool has_due = e->due_date != NULL;
    if (has_due && check_date(e->due_date, "invoice_adjusted.due_date", &due, err))
        return -1;
    rem_change_t *c;
    if (e->open_amount->minor == 0) {
        PUSH(c, out, REM_DELETE, e->invoice_id, "invoice_adjusted");
        return 0;
    }
    /*  With a due date and a debtor the row can be recreated (an adjustment
        upwards of an invoice that had been paid); without, only updated. */
    bool upsert = has_due && e->debtor_id > 0;
    PUSH(c, out, upsert ? REM_UPSERT : REM_SET_OPEN, e->invoice_id, "invoice_adjusted");
    c->debtor_id = e->debtor_id;
    c->has_due = has_due;
    c->due_date = due;
    snprintf(c->currency, sizeof c->currency, "%s", e->open_amount->currency);
    c->open_minor = e->open_amount->minor;
    return 0;
}

/*  A credit note's credit applied to an invoice (at issue, or later from
    its unapplied credit): the invoice's open amount drops like by a
    payment. A credit note tied to no invoice changes no row. */
static int credit_open_after(int64_t invoice_id, const Creance__Money *open_after, const char *field,
                             rem_changes_t *out, rem_error_t *err)
{
    if (check_money(open_after, field, err))
        return -1;
    rem_change_t *c;
    if (open_after->minor == 0) {
        PUSH(c, out, REM_DELETE, invoice_id, field);
        return 0;
    }
    PUSH(c, out, REM_SET_OPEN, invoice_id, field);
    c->open_minor = open_after->minor;
    return 0;
}

static int map_credit_note_issued(const Creance__Envelope *env, rem_changes_t *out, rem_error_t *err)
{
    const Creance__CreditNoteIssued *e = env->credit_note_issued;
    if (e->invoice_id <= 0 || !e->invoice_open_after)
        return 0;
    return credit_open_after(e->invoice_id, e->invoice_open_after,
                             "credit_note_issued.invoice_open_after", out, err);
}

static int map_credit_note_applied(const Creance__Envelope *env, rem_changes_t *out, rem_error_t *err)
{
    const Creance__CreditNoteApplied *e = env->credit_note_applied;
    if (check_id(e->invoice_id, "credit_note_applied.invoice_id", err))
        return -1;
    return credit_open_after(e->invoice_id, e->invoice_open_after,
                             "credit_note_applied.invoice_open_after", out, err);
}

/*  Event case -> mapper. Cases not listed change no row. */
static const struct {
    Creance__Envelope__EventCase event;
    mapper_fn *map;
} s_mappers[] = {
    { CREANCE__ENVELOPE__EVENT_INVOICE_ISSUED,    map_invoice_issued },
    { CREANCE__ENVELOPE__EVENT_PAYMENT_ALLOCATED, map_payment_allocated },
    { CREANCE__ENVELOPE__EVENT_PAYMENT_REVERSED,  map_payment_reversed },
    { CREANCE__ENVELOPE__EVENT_INVOICE_CANCELLED, map_invoice_cancelled },
    { CREANCE__ENVELOPE__EVENT_WRITTEN_OFF,       map_written_off },
    { CREANCE__ENVELOPE__EVENT_DISPUTE_OPENED,    map_dispute_opened },
    { CREANCE__ENVELOPE__EVENT_DISPUTE_RESOLVED,  map_dispute_resolved },
    { CREANCE__ENVELOPE__EVENT_INVOICE_ADJUSTED,  map_invoice_adjusted },
    { CREANCE__ENVELOPE__EVENT_CREDIT_NOTE_ISSUED, map_credit_note_issued },
    { CREANCE__ENVELOPE__EVENT_CREDIT_NOTE_APPLIED, map_credit_note_applied },
};

int rem_changes_from_event(const Creance__Envelope *env, rem_changes_t *out, rem_error_t *err)
{
    out->n = 0;
    err->field = NULL;
    err->reason = NULL;
    for (size_t i = 0; i < sizeof s_mappers / sizeof s_mappers[0]; i++) {
        if (s_mappers[i].event != env->event_case)
            continue;
        /*  Every member of the oneof union is a pointer: any one tells
            whether the submessage is there. */
        if (!env->invoice_issued)
            return fail(err, "event", "missing");
        int rc = s_mappers[i].map(env, out, err);
        if (rc)
            out->n = 0;
        return rc;
    }
    return 0;
}

void rem_changes_free(rem_changes_t *changes)
{
    free(changes->v);
    memset(changes, 0, sizeof *changes);
}

const char *rem_op_name(rem_op_t op)
{
    switch (op) {
    case REM_INSERT:       return "insert";
    case REM_UPSERT:       return "upsert";
    case REM_SET_OPEN:     return "set_open";
    case REM_DELETE:       return "delete";
    case REM_SET_DISPUTED: return "set_disputed";
    }
    return "unknown";
}

/* ------------------------------------------------------------- database */

static const char *s_sql[] = {
    [REM_INSERT] =
        "INSERT INTO rem_open_items (tenant, invoice_id, debtor_id, due_date, currency, open_minor)"
        " VALUES ($1, $2, $3, $4, $5, $6) ON CONFLICT (tenant, invoice_id) DO NOTHING",
    [REM_UPSERT] =
        "INSERT INTO rem_open_items (tenant, invoice_id, debtor_id, due_date, currency, open_minor)"
        " VALUES ($1, $2, $3, $4, $5, $6) ON CONFLICT (tenant, invoice_id) DO UPDATE SET"
        " debtor_id = EXCLUDED.debtor_id, due_date = EXCLUDED.due_date,"
        " currency = EXCLUDED.currency, open_minor = EXCLUDED.open_minor",
    /*  $3 is NULL when the event has no due date: the row keeps its own. */
    [REM_SET_OPEN] =
        "UPDATE rem_open_items SET open_minor = $4, due_date = COALESCE($3::date, due_date)"
        " WHERE tenant = $1 AND invoice_id = $2",
    [REM_DELETE] =
        "DELETE FROM rem_open_items WHERE tenant = $1 AND invoice_id = $2",
    [REM_SET_DISPUTED] =
        "UPDATE rem_open_items SET disputed = $3 WHERE tenant = $1 AND invoice_id = $2",
};

static int write_one(db_t *db, const char *tenant, const rem_change_t *c)
{
    char invoice[24], debtor[24], open[24], due[11];
    snprintf(invoice, sizeof invoice, "%" PRId64, c->invoice_id);
    snprintf(debtor, sizeof debtor, "%" PRId64, c->debtor_id);
    snprintf(open, sizeof open, "%" PRId64, c->open_minor);
    if (c->has_due)
        date_format(c->due_date, due);
    switch (c->op) {
    case REM_INSERT:
    case REM_UPSERT: {
        const char *p[] = { tenant, invoice, debtor, due, c->currency, open };
        return db_run(db, s_sql[c->op], 6, p);
    }
    case REM_SET_OPEN: {
        const char *p[] = { tenant, invoice, c->has_due ? due : NULL, open };
        return db_run(db, s_sql[c->op], 4, p);
    }
    case REM_DELETE: {
        const char *p[] = { tenant, invoice };
        return db_run(db, s_sql[c->op], 2, p);
    }
    case REM_SET_DISPUTED: {
        const char *p[] = { tenant, invoice, c->disputed ? "true" : "false" };
        return db_run(db, s_sql[c->op], 3, p);
    }
    }
    return -1;
}

int rem_items_write(db_t *db, const char *tenant, const rem_changes_t *changes)
{
    for (size_t i = 0; i < changes->n; i++)
        if (write_one(db, tenant, &changes->v[i]))
            return -1;
    return 0;
}

/* ------------------------------------------------------------- consumer */

struct rem_items_t {
    rem_changes_t changes;          /* reused from event to event */
    metric_t *applied;              /* creance_reminders_events_applied_total */
    metric_t *changes_total;        /* creance_reminders_item_changes_total */
    metric_t *apply_seconds;
    int64_t pending_applied;
    int64_t pending_changes;
    rejects_t *rejects;             /* counted after commit, like applied events */
};

rem_items_t *rem_items_new(void)
{
    rem_items_t *self = calloc(1, sizeof *self);
    if (!self)
        return NULL;
    self->rejects = rejects_new("creance_reminders_events_rejected_total",
                                "Events that changed no open item, by reason");
    self->applied = metrics_counter("creance_reminders_events_applied_total",
                                    "Ledger events applied to the open items", NULL);
    self->changes_total = metrics_counter("creance_reminders_item_changes_total",
                                          "Open-item rows inserted, updated or deleted", NULL);
    self->apply_seconds = metrics_histogram("creance_reminders_apply_seconds",
                                            "Time to apply one event to rem_open_items", NULL);
    return self;
}

void rem_items_destroy(rem_items_t **self_p)
{
    if (self_p && *self_p) {
        rem_changes_free(&(*self_p)->changes);
        rejects_destroy(&(*self_p)->rejects);
        free(*self_p);
        *self_p = NULL;
    }
}

static void reject(rem_items_t *self, const Creance__Envelope *env, const rem_error_t *err)
{
    rejects_add(self->rejects, env, err->field, err->reason);
}

int rem_items_apply(db_t *db, const Creance__Envelope *env, void *arg)
{
    rem_items_t *self = arg;
    int64_t start = now_us();
    rem_error_t err;
    if (rem_changes_from_event(env, &self->changes, &err)) {
        reject(self, env, &err);
        return 0;
    }
    if (rem_items_write(db, env->tenant, &self->changes) || rem_pauses_apply(db, env)) {
        log_error("open items not updated tenant=%s stream=%s seq=%" PRId64 " type=%s error=%s",
                  env->tenant, env->stream, env->seq, envelope_type_name(env),
                  db_last_error(db));
        return -1;
    }
    if (self->changes.n)
        log_debug("event applied tenant=%s stream=%s seq=%" PRId64 " type=%s changes=%zu"
                  " first_invoice=%" PRId64 " first_op=%s", env->tenant, env->stream, env->seq,
                  envelope_type_name(env), self->changes.n, self->changes.v[0].invoice_id,
                  rem_op_name(self->changes.v[0].op));
    self->pending_applied++;
    self->pending_changes += (int64_t) self->changes.n;
    metric_observe(self->apply_seconds, (double) (now_us() - start) / 1e6);
    return 0;
}

void rem_items_committed(void *arg)
{
    rem_items_t *self = arg;
    metric_add(self->applied, (double) self->pending_applied);
    metric_add(self->changes_total, (double) self->pending_changes);
    rejects_committed(self->rejects);
    self->pending_applied = 0;
    self->pending_changes = 0;
}

void rem_items_aborted(void *arg)
{
    rem_items_t *self = arg;
    self->pending_applied = 0;
    self->pending_changes = 0;
}
