/*  delta: ledger event -> exposure changes (pure, table-driven). */
#include "delta.h"
#include "debtor.h"

#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>

typedef risk_delta_result_t (risk_delta_handler_fn)(const Creance__Envelope *env, risk_delta_set_t *out);

static risk_delta_result_t
s_invalid(risk_delta_set_t *out, const char *code, const char *reason, const char *field_fmt, ...)
{
    va_list ap;
    va_start(ap, field_fmt);
    vsnprintf(out->field, sizeof out->field, field_fmt, ap);
    va_end(ap);
    snprintf(out->reason, sizeof out->reason, "%s", reason);
    out->code = code;
    out->count = 0;
    return RISK_DELTA_INVALID;
}

static bool
s_debtor_ok(int64_t debtor_id, const char *event, risk_delta_set_t *out)
{
    if (debtor_id > 0)
        return true;
    s_invalid(out, "bad_debtor_id", "must be a positive id", "%s.debtor_id", event);
    return false;
}

/*  A Money that must be there, in a currency code, not negative. */
static bool
s_money_ok(const Creance__Money *m, risk_delta_set_t *out, const char *field)
{
    if (!m) {
        s_invalid(out, "missing_amount", "required", "%s", field);
        return false;
    }
    if (!risk_currency_valid(m->currency)) {
        s_invalid(out, "bad_currency", "must be three upper-case letters (ISO 4217)",
                  "%s.currency", field);
        return false;
    }
    if (m->minor < 0) {
        s_invalid(out, "negative_amount", "must not be negative", "%s.minor", field);
        return false;
    }
    return true;
}

/*  Adds a change to the set, merging with the same (debtor, currency). */
static bool
s_add(risk_delta_set_t *out, int64_t debtor_id, const char *currency, int64_t outstanding,
      int32_t open, const char *field)
{
    for (int i = 0; i < out->count; i++) {
        risk_delta_t *d = &out->items[i];
        if (d->debtor_id == debtor_id && strcmp(d->currency, currency) == 0) {
            if (__builtin_add_overflow(d->outstanding_minor, outstanding, &d->outstanding_minor)
                || __builtin_add_overflow(d->open_invoices, open, &d->open_invoices)) {
                s_invalid(out, "overflow", "amounts overflow 64 bits", "%s", field);
                return false;
            }
            return true;
        }
    }
    if (out->count == RISK_DELTA_MAX) {
        s_invalid(out, "too_many_currencies", "more currencies than one event may carry",
                  "%s", field);
        return false;
    }
    risk_delta_t *d = &out->items[out->count++];
    d->debtor_id = debtor_id;
    memcpy(d->currency, currency, 4);
    d->outstanding_minor = outstanding;
    d->open_invoices = open;
    return true;
}

static risk_delta_result_t
s_result(risk_delta_set_t *out)
{
    return out->count > 0 ? RISK_DELTA_SOME : RISK_DELTA_NONE;
}

/* ---------------------------------------------------------------- handlers */

static risk_delta_result_t
s_invoice_issued(const Creance__Envelope *env, risk_delta_set_t *out)
{
    const Creance__InvoiceIssued *e = env->invoice_issued;
    if (!s_debtor_ok(e->debtor_id, "invoice_issued", out)
        || !s_money_ok(e->amount, out, "invoice_issued.amount")
        || !s_add(out, e->debtor_id, e->amount->currency, e->amount->minor, 1,
                  "invoice_issued.amount"))
        return RISK_DELTA_INVALID;
    return s_result(out);
}

/*  PaymentAllocated and PaymentReversed carry the same Allocation list, in
    opposite directions. */
static risk_delta_result_t
s_allocations(int64_t debtor_id, const char *event, const char *list, size_t n,
              Creance__Allocation **allocs, int sign, risk_delta_set_t *out)
{
    if (!s_debtor_ok(debtor_id, event, out))
        return RISK_DELTA_INVALID;
    for (size_t i = 0; i < n; i++) {
        const Creance__Allocation *a = allocs[i];
        char field[96];
        if (!a)
            return s_invalid(out, "missing_allocation", "required", "%s.%s[%zu]", event, list, i);
        snprintf(field, sizeof field, "%s.%s[%zu].amount", event, list, i);
        if (!s_money_ok(a->amount, out, field))
            return RISK_DELTA_INVALID;
        snprintf(field, sizeof field, "%s.%s[%zu].invoice_open_after", event, list, i);
        /* Without the invoice's open amount after the change, whether it
           closed or reopened is unknown: refuse rather than guess. */
        if (!a->invoice_open_after)
            return s_invalid(out, "missing_open_after", "required", "%s", field);
        if (a->invoice_open_after->minor < 0)
            return s_invalid(out, "negative_amount", "must not be negative", "%s.minor", field);
        if (a->invoice_open_after->currency[0]
            && strcmp(a->invoice_open_after->currency, a->amount->currency) != 0)
            return s_invalid(out, "currency_mismatch", "differs from the amount's currency",
                             "%s.currency", field);
        int32_t open = 0;
        if (sign < 0)
            open = a->invoice_open_after->minor == 0 ? -1 : 0;
        else
            open = a->amount->minor > 0 && a->invoice_open_after->minor == a->amount->minor ? 1 : 0;
        snprintf(field, sizeof field, "%s.%s[%zu].amount", event, list, i);
        if (!s_add(out, debtor_id, a->amount->currency, sign * a->amount->minor, open, field))
            return RISK_DELTA_INVALID;
    }
    return s_result(out);
}

static risk_delta_result_t
s_payment_allocated(const Creance__Envelope *env, risk_delta_set_t *out)
{
    const Creance__PaymentAllocated *e = env->payment_allocated;
    return s_allocations(e->debtor_id, "payment_allocated", "allocations",
                         e->n_allocations, e->allocations, -1, out);
}

static risk_delta_result_t
s_payment_reversed(const Creance__Envelope *env, risk_delta_set_t *out)
{
    const Creance__PaymentReversed *e = env->payment_reversed;
    return s_allocations(e->debtor_id, "payment_reversed", "reopened",
                         e->n_reopened, e->reopened, +1, out);
}

static risk_delta_result_t
s_invoice_cancelled(const Creance__Envelope *env, risk_delta_set_t *out)
{
    const Creance__InvoiceCancelled *e = env->invoice_cancelled;
    if (!s_debtor_ok(e->debtor_id, "invoice_cancelled", out)
        || !s_money_ok(e->cancelled_open, out, "invoice_cancelled.cancelled_open"))
        return RISK_DELTA_INVALID;
    /* An invoice with nothing open left was already counted closed by the
       allocation that paid it off. */
    int32_t open = e->cancelled_open->minor > 0 ? -1 : 0;
    if (!s_add(out, e->debtor_id, e->cancelled_open->currency, -e->cancelled_open->minor, open,
               "invoice_cancelled.cancelled_open"))
        return RISK_DELTA_INVALID;
    return s_result(out);
}

static risk_delta_result_t
s_written_off(const Creance__Envelope *env, risk_delta_set_t *out)
{
    const Creance__WrittenOff *e = env->written_off;
    if (!s_debtor_ok(e->debtor_id, "written_off", out)
        || !s_money_ok(e->amount, out, "written_off.amount")
        || !s_add(out, e->debtor_id, e->amount->currency, -e->amount->minor, 0,
                  "written_off.amount"))
        return RISK_DELTA_INVALID;
    return s_result(out);
}

/*  Only what a credit note applies to an invoice lowers the outstanding:
    its excess is unapplied credit, like a payment's, and counts when a
    later invoice takes it (CreditNoteApplied) - subtracting it at issue
    as well would count it twice. An event written before `applied`
    existed: tied to an invoice, the whole amount (as then); tied to none,
    nothing. */
static risk_delta_result_t
s_credit_note_issued(const Creance__Envelope *env, risk_delta_set_t *out)
{
    const Creance__CreditNoteIssued *e = env->credit_note_issued;
    if (!s_debtor_ok(e->debtor_id, "credit_note_issued", out)
        || !s_money_ok(e->amount, out, "credit_note_issued.amount"))
        return RISK_DELTA_INVALID;
    int64_t applied = e->invoice_id > 0 ? e->amount->minor : 0;
    if (e->applied) {
        if (!s_money_ok(e->applied, out, "credit_note_issued.applied"))
            return RISK_DELTA_INVALID;
        if (strcmp(e->applied->currency, e->amount->currency) != 0)
            return s_invalid(out, "currency_mismatch", "differs from the amount's currency",
                             "credit_note_issued.applied.currency");
        if (e->applied->minor > e->amount->minor)
            return s_invalid(out, "exceeds_amount", "more than the credit note's amount",
                             "credit_note_issued.applied.minor");
        applied = e->applied->minor;
    }
    /* The credit closed its invoice when it applied something and left
       nothing open. */
    int32_t open = applied > 0 && e->invoice_id > 0 && e->invoice_open_after
                   && e->invoice_open_after->minor == 0 ? -1 : 0;
    if (applied == 0 && open == 0)
        return s_result(out);
    if (!s_add(out, e->debtor_id, e->amount->currency, -applied, open, "credit_note_issued.amount"))
        return RISK_DELTA_INVALID;
    return s_result(out);
}

static risk_delta_result_t
s_credit_note_applied(const Creance__Envelope *env, risk_delta_set_t *out)
{
    const Creance__CreditNoteApplied *e = env->credit_note_applied;
    if (!s_debtor_ok(e->debtor_id, "credit_note_applied", out)
        || !s_money_ok(e->amount, out, "credit_note_applied.amount"))
        return RISK_DELTA_INVALID;
    if (e->invoice_id <= 0)
        return s_invalid(out, "bad_invoice_id", "must be a positive id",
                         "credit_note_applied.invoice_id");
    if (!e->invoice_open_after)
        return s_invalid(out, "missing_open_after", "required",
                         "credit_note_applied.invoice_open_after");
    if (e->invoice_open_after->minor < 0)
        return s_invalid(out, "negative_amount", "must not be negative",
                         "credit_note_applied.invoice_open_after.minor");
    int32_t open = e->amount->minor > 0 && e->invoice_open_after->minor == 0 ? -1 : 0;
    if (!s_add(out, e->debtor_id, e->amount->currency, -e->amount->minor, open,
               "credit_note_applied.amount"))
        return RISK_DELTA_INVALID;
    return s_result(out);
}

/* ---------------------------------------------------------------- table */

static const struct {
    Creance__Envelope__EventCase event_case;
    risk_delta_handler_fn *fn;
} s_handlers[] = {
    { CREANCE__ENVELOPE__EVENT_INVOICE_ISSUED,     s_invoice_issued },
    { CREANCE__ENVELOPE__EVENT_PAYMENT_ALLOCATED,  s_payment_allocated },
    { CREANCE__ENVELOPE__EVENT_PAYMENT_REVERSED,   s_payment_reversed },
    { CREANCE__ENVELOPE__EVENT_INVOICE_CANCELLED,  s_invoice_cancelled },
    { CREANCE__ENVELOPE__EVENT_WRITTEN_OFF,        s_written_off },
    { CREANCE__ENVELOPE__EVENT_CREDIT_NOTE_ISSUED, s_credit_note_issued },
    { CREANCE__ENVELOPE__EVENT_CREDIT_NOTE_APPLIED, s_credit_note_applied },
};

static risk_delta_handler_fn *
s_lookup(Creance__Envelope__EventCase event_case)
{
    for (size_t i = 0; i < sizeof s_handlers / sizeof s_handlers[0]; i++)
        if (s_handlers[i].event_case == event_case)
            return s_handlers[i].fn;
    return NULL;
}

int
risk_delta_handles(Creance__Envelope__EventCase event_case)
{
    return s_lookup(event_case) != NULL;
}

risk_delta_result_t
risk_delta_from_envelope(const Creance__Envelope *env, risk_delta_set_t *out)
{
    memset(out, 0, sizeof *out);
    if (!env)
        return s_invalid(out, "missing_event", "required", "envelope");
    risk_delta_handler_fn *fn = s_lookup(env->event_case);
    if (!fn)
        return RISK_DELTA_NONE;
    /* The oneof's members share one pointer in protobuf-c's union, so any
       member tells whether the message is there. A case without its
       message would be a decoder bug, but costs nothing to refuse. */
    if (!env->invoice_issued)
        return s_invalid(out, "missing_event", "required", "%s", "event");
    if (!risk_tenant_valid(env->tenant))
        return s_invalid(out, "bad_tenant", "must match ^[a-z0-9][a-z0-9_-]{0,62}$", "tenant");
    return fn(env, out);
}
