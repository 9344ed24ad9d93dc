/*  validate: the checks on an intake item that need no database. */
#include "validate.h"
#include "money.h"
#include "dates.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

bool
intake_fail(intake_error_t *err, const char *key, const char *field, const char *fmt, ...)
{
    err->key = key;
    snprintf(err->field, sizeof err->field, "%s", field);
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(err->reason, sizeof err->reason, fmt, ap);
    va_end(ap);
    /* A reason cut by the buffer may end inside a multi-byte character, and
       a value read back from the database was cut to fit too: stop before
       the first invalid byte, or the reply (proto3 strings are UTF-8)
       would not decode. */
    size_t bad;
    if (!intake_utf8_valid(err->reason, strlen(err->reason), &bad))
        err->reason[bad] = 0;
    if (!intake_utf8_valid(err->field, strlen(err->field), &bad))
        err->field[bad] = 0;
    return false;
}

bool
intake_utf8_valid(const char *str, size_t len, size_t *bad_at)
{
    const unsigned char *s = (const unsigned char *) str;
    size_t i = 0;
    while (i < len) {
        unsigned char c = s[i];
        if (c < 0x80) {
            i++;
            continue;
        }
        size_t need;
        uint32_t cp, min;
        if (c >= 0xc2 && c <= 0xdf)             /* 0xc0, 0xc1 would be overlong */
            need = 1, cp = c & 0x1f, min = 0x80;
        else if (c >= 0xe0 && c <= 0xef)
            need = 2, cp = c & 0x0f, min = 0x800;
        else if (c >= 0xf0 && c <= 0xf4)        /* above 0xf4 is past U+10FFFF */
            need = 3, cp = c & 0x07, min = 0x10000;
        else
            goto bad;                           /* stray continuation byte or 0xf5..0xff */
        if (len - i <= need)
            goto bad;                           /* truncated */
        for (size_t k = 1; k <= need; k++) {
            if ((s[i + k] & 0xc0) != 0x80)
                goto bad;
            cp = (cp << 6) | (s[i + k] & 0x3f);
        }
        if (cp < min || cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff))
            goto bad;                           /* overlong, out of range, surrogate */
        i += need + 1;
    }
    return true;
bad:
    if (bad_at)
        *bad_at = i;
    return false;
}

bool
intake_check_text(const char *field, const char *value, size_t limit, bool required,
                  intake_error_t *err)
{
    size_t len = value ? strlen(value) : 0;
    if (len == 0)
        return required ? intake_fail(err, "missing_field", field, "missing") : true;
    size_t bad;
    if (!intake_utf8_valid(value, len, &bad))
        return intake_fail(err, "bad_utf8", field, "not valid UTF-8 (at byte %zu)", bad);
    if (len > limit)
        return intake_fail(err, "too_long", field, "too long: %zu bytes, the limit is %zu",
                           len, limit);
    return true;
}

bool
intake_check_date(const char *field, const Creance__Date *date, bool required, int32_t *days,
                  intake_error_t *err)
{
    if (!date)
        return required ? intake_fail(err, "missing_field", field, "missing") : true;
    if (!date_from_pb(date, days))
        return intake_fail(err, "bad_date", field, "not a valid date (year %d, month %d, day %d)",
                           date->year, date->month, date->day);
    if (date->year < INTAKE_MIN_YEAR || date->year > INTAKE_MAX_YEAR)
        return intake_fail(err, "bad_date", field,
                           "year %d is outside %d..%d", date->year, INTAKE_MIN_YEAR,
                           INTAKE_MAX_YEAR);
    return true;
}

bool
intake_check_money(const char *field, const Creance__Money *money, bool allow_zero,
                   intake_error_t *err)
{
    char sub[96];
    if (!money)
        return intake_fail(err, "missing_field", field, "missing");
    snprintf(sub, sizeof sub, "%s.currency", field);
    const char *cur = money->currency ? money->currency : "";
    if (!*cur)
        return intake_fail(err, "missing_field", sub, "missing");
    if (!currency_known(cur)) {
        /* Echo the code only when it is short plain text. */
        bool printable = strlen(cur) <= 8 && intake_utf8_valid(cur, strlen(cur), NULL);
        return intake_fail(err, "unknown_currency", sub,
                           "unknown currency '%s' (expected an ISO 4217 code such as EUR)",
                           printable ? cur : "?");
    }
    snprintf(sub, sizeof sub, "%s.minor", field);
    if (money->minor < 0 || (money->minor == 0 && !allow_zero))
        return intake_fail(err, "bad_amount", sub, "must be %s 0 (got %lld)",
                           allow_zero ? "at least" : "greater than", (long long) money->minor);
    return true;
}

bool
intake_check_country(const char *field, const char *value, intake_error_t *err)
{
    if (!value || !*value)
        return true;
    if (!intake_check_text(field, value, INTAKE_MAX_ID_BYTES, false, err))
        return false;
    if (strlen(value) != 2 || value[0] < 'A' || value[0] > 'Z' || value[1] < 'A' || value[1] > 'Z')
        return intake_fail(err, "bad_value", field,
                           "'%s' is not an ISO 3166-1 alpha-2 code (two upper-case letters)", value);
    return true;
}

/*  Table of a message's text fields and their limits: one place to read
    which field may hold what. */
typedef struct {
    const char *field;
    size_t offset;
    size_t limit;
    bool required;
} text_rule_t;

static bool
s_check_texts(const void *msg, const text_rule_t *rules, intake_error_t *err)
{
    for (const text_rule_t *r = rules; r->field; r++) {
        const char *value = *(const char *const *) ((const char *) msg + r->offset);
        if (!intake_check_text(r->field, value, r->limit, r->required, err))
            return false;
    }
    return true;
}

#define TEXT(type, name, limit, required) { #name, offsetof(type, name), limit, required }

static const text_rule_t s_debtor_texts[] = {
    TEXT(Creance__DebtorFact, external_id, INTAKE_MAX_ID_BYTES, true),
    TEXT(Creance__DebtorFact, legal_name, INTAKE_MAX_ID_BYTES, true),
    TEXT(Creance__DebtorFact, company_id, INTAKE_MAX_ID_BYTES, false),
    TEXT(Creance__DebtorFact, language, INTAKE_MAX_ID_BYTES, false),
    TEXT(Creance__DebtorFact, time_zone, INTAKE_MAX_ID_BYTES, false),
    TEXT(Creance__DebtorFact, email, INTAKE_MAX_ID_BYTES, false),
    TEXT(Creance__DebtorFact, phone, INTAKE_MAX_ID_BYTES, false),
    { NULL, 0, 0, false }
};

static const text_rule_t s_address_texts[] = {
    { "address.line1", offsetof(Creance__PostalAddress, line1), INTAKE_MAX_LINE_BYTES, false },
    { "address.line2", offsetof(Creance__PostalAddress, line2), INTAKE_MAX_LINE_BYTES, false },
    { "address.postal_code", offsetof(Creance__PostalAddress, postal_code), INTAKE_MAX_ID_BYTES, false },
    { "address.city", offsetof(Creance__PostalAddress, city), INTAKE_MAX_ID_BYTES, false },
    { NULL, 0, 0, false }
};

static const text_rule_t s_invoice_texts[] = {
    TEXT(Creance__InvoiceFact, external_id, INTAKE_MAX_ID_BYTES, true),
    TEXT(Creance__InvoiceFact, debtor_external_id, INTAKE_MAX_ID_BYTES, true),
    TEXT(Creance__InvoiceFact, number, INTAKE_MAX_ID_BYTES, true),
    { NULL, 0, 0, false }
};

static const text_rule_t s_payment_texts[] = {
    TEXT(Creance__PaymentFact, external_id, INTAKE_MAX_ID_BYTES, true),
    TEXT(Creance__PaymentFact, debtor_external_id, INTAKE_MAX_ID_BYTES, true),
    TEXT(Creance__PaymentFact, method, INTAKE_MAX_ID_BYTES, false),
    { NULL, 0, 0, false }
};

static const text_rule_t s_dispute_open_texts[] = {
    TEXT(Creance__DisputeFact, external_id, INTAKE_MAX_ID_BYTES, true),
    TEXT(Creance__DisputeFact, invoice_external_id, INTAKE_MAX_ID_BYTES, true),
    TEXT(Creance__DisputeFact, reason, INTAKE_MAX_LINE_BYTES, false),
    { NULL, 0, 0, false }
};

static const text_rule_t s_dispute_resolve_texts[] = {
    TEXT(Creance__DisputeFact, external_id, INTAKE_MAX_ID_BYTES, true),
    TEXT(Creance__DisputeFact, invoice_external_id, INTAKE_MAX_ID_BYTES, false),
    TEXT(Creance__DisputeFact, reason, INTAKE_MAX_LINE_BYTES, false),
    TEXT(Creance__DisputeFact, outcome, INTAKE_MAX_ID_BYTES, true),
    { NULL, 0, 0, false }
};

static const text_rule_t s_adjustment_texts[] = {
    TEXT(Creance__InvoiceAdjustmentFact, external_id, INTAKE_MAX_ID_BYTES, true),
    TEXT(Creance__InvoiceAdjustmentFact, invoice_external_id, INTAKE_MAX_ID_BYTES, true),
    TEXT(Creance__InvoiceAdjustmentFact, reason, INTAKE_MAX_LINE_BYTES, false),
    { NULL, 0, 0, false }
};

static const text_rule_t s_cancellation_texts[] = {
    TEXT(Creance__InvoiceCancellationFact, external_id, INTAKE_MAX_ID_BYTES, true),
    TEXT(Creance__InvoiceCancellationFact, invoice_external_id, INTAKE_MAX_ID_BYTES, true),
    TEXT(Creance__InvoiceCancellationFact, reason, INTAKE_MAX_LINE_BYTES, false),
    { NULL, 0, 0, false }
};

static const text_rule_t s_credit_note_texts[] = {
    TEXT(Creance__CreditNoteFact, external_id, INTAKE_MAX_ID_BYTES, true),
    TEXT(Creance__CreditNoteFact, debtor_external_id, INTAKE_MAX_ID_BYTES, true),
    TEXT(Creance__CreditNoteFact, invoice_external_id, INTAKE_MAX_ID_BYTES, false),
    TEXT(Creance__CreditNoteFact, number, INTAKE_MAX_ID_BYTES, false),
    TEXT(Creance__CreditNoteFact, reason, INTAKE_MAX_LINE_BYTES, false),
    { NULL, 0, 0, false }
};

static const text_rule_t s_reversal_texts[] = {
    TEXT(Creance__PaymentReversalFact, external_id, INTAKE_MAX_ID_BYTES, true),
    TEXT(Creance__PaymentReversalFact, payment_external_id, INTAKE_MAX_ID_BYTES, true),
    TEXT(Creance__PaymentReversalFact, reason, INTAKE_MAX_LINE_BYTES, false),
    { NULL, 0, 0, false }
};

static const text_rule_t s_write_off_texts[] = {
    TEXT(Creance__WriteOffFact, external_id, INTAKE_MAX_ID_BYTES, true),
    TEXT(Creance__WriteOffFact, invoice_external_id, INTAKE_MAX_ID_BYTES, true),
    TEXT(Creance__WriteOffFact, reason, INTAKE_MAX_LINE_BYTES, false),
    { NULL, 0, 0, false }
};

static const text_rule_t s_plan_texts[] = {
    TEXT(Creance__PaymentPlanFact, external_id, INTAKE_MAX_ID_BYTES, true),
    TEXT(Creance__PaymentPlanFact, debtor_external_id, INTAKE_MAX_ID_BYTES, true),
    { NULL, 0, 0, false }
};

static const text_rule_t s_promise_texts[] = {
    TEXT(Creance__PromiseFact, external_id, INTAKE_MAX_ID_BYTES, true),
    TEXT(Creance__PromiseFact, debtor_external_id, INTAKE_MAX_ID_BYTES, true),
    { NULL, 0, 0, false }
};

/*  A list of invoice external ids: bounded, each a required id. */
static bool
s_check_invoice_ids(char **ids, size_t n, intake_error_t *err)
{
    if (n > INTAKE_MAX_NAMED_INVOICES)
        return intake_fail(err, "too_many_items", "invoice_external_ids",
                           "%zu invoices named, the limit is %d", n, INTAKE_MAX_NAMED_INVOICES);
    for (size_t i = 0; i < n; i++) {
        char field[48];
        snprintf(field, sizeof field, "invoice_external_ids[%zu]", i);
        if (!intake_check_text(field, ids[i], INTAKE_MAX_ID_BYTES, true, err))
            return false;
    }
    return true;
}

static bool
s_check_terms(const char *field, int32_t days, intake_error_t *err)
{
    if (days < 0 || days > INTAKE_MAX_TERMS_DAYS)
        return intake_fail(err, "bad_value", field, "%d is outside 0..%d days", (int) days,
                           INTAKE_MAX_TERMS_DAYS);
    return true;
}

bool
intake_validate_debtor(const Creance__DebtorFact *f, intake_error_t *err)
{
    if (!s_check_texts(f, s_debtor_texts, err) || !intake_check_country("country", f->country, err))
        return false;
    if (f->kind != CREANCE__DEBTOR_KIND__DEBTOR_KIND_UNSPECIFIED
        && f->kind != CREANCE__DEBTOR_KIND__BUSINESS && f->kind != CREANCE__DEBTOR_KIND__CONSUMER)
        return intake_fail(err, "bad_value", "kind", "unknown debtor kind %d (1 business, 2 consumer)",
                           (int) f->kind);
    if (f->address) {
        if (!s_check_texts(f->address, s_address_texts, err)
            || !intake_check_country("address.country", f->address->country, err))
            return false;
    }
    /* The debtor keeps one currency for its figures (debtors.currency):
       every amount given must be in it. */
    const struct { const char *field; const Creance__Money *m; } figures[] = {
        { "credit_limit", f->credit_limit },
        { "current_assets", f->current_assets },
        { "current_liabilities", f->current_liabilities },
    };
    const char *currency = NULL;
    for (size_t i = 0; i < sizeof figures / sizeof figures[0]; i++) {
        if (!figures[i].m)
            continue;
        if (!intake_check_money(figures[i].field, figures[i].m, true, err))
            return false;
        if (!currency)
            currency = figures[i].m->currency;
        else if (strcmp(currency, figures[i].m->currency) != 0) {
            char sub[64];
            snprintf(sub, sizeof sub, "%s.currency", figures[i].field);
            return intake_fail(err, "currency_mismatch", sub,
                               "'%s' differs from the debtor's other figures in %s",
                               figures[i].m->currency, currency);
        }
    }
    return s_check_terms("payment_terms_days", f->payment_terms_days, err);
}

bool
intake_validate_invoice(const Creance__InvoiceFact *f, intake_error_t *err)
{
    int32_t issue, due;
    if (!s_check_texts(f, s_invoice_texts, err)
        || !intake_check_date("issue_date", f->issue_date, true, &issue, err)
        || !intake_check_date("due_date", f->due_date, true, &due, err)
        || !intake_check_money("amount", f->amount, false, err)
        || !s_check_terms("terms_days", f->terms_days, err))
        return false;
    if (due < issue) {
        char a[11], b[11];
        date_format(due, a);
        date_format(issue, b);
        return intake_fail(err, "due_before_issue", "due_date",
                           "%s is before issue_date %s", a, b);
    }
    return true;
}

bool
intake_validate_payment(const Creance__PaymentFact *f, intake_error_t *err)
{
    if (!s_check_texts(f, s_payment_texts, err)
        || !intake_check_date("received_date", f->received_date, true, NULL, err)
        || !intake_check_money("amount", f->amount, false, err))
        return false;
    if (f->n_invoice_external_ids > INTAKE_MAX_NAMED_INVOICES)
        return intake_fail(err, "too_many_items", "invoice_external_ids",
                           "%zu invoices named, the limit is %d", f->n_invoice_external_ids,
                           INTAKE_MAX_NAMED_INVOICES);
    for (size_t i = 0; i < f->n_invoice_external_ids; i++) {
        char field[48];
        snprintf(field, sizeof field, "invoice_external_ids[%zu]", i);
        if (!intake_check_text(field, f->invoice_external_ids[i], INTAKE_MAX_ID_BYTES, true, err))
            return false;
    }
    return true;
}

static const char *const s_outcomes[] = { "upheld", "rejected", "settled", NULL };

bool
intake_validate_dispute(const Creance__DisputeFact *f, intake_error_t *err)
{
    if (f->resolve) {
        int32_t resolved;
        if (!s_check_texts(f, s_dispute_resolve_texts, err)
            || !intake_check_date("resolved_date", f->resolved_date, true, &resolved, err))
            return false;
        for (const char *const *o = s_outcomes; *o; o++)
            if (strcmp(*o, f->outcome) == 0)
                return true;
        return intake_fail(err, "bad_value", "outcome",
                           "'%s' is not one of upheld, rejected, settled", f->outcome);
    }
    if (!s_check_texts(f, s_dispute_open_texts, err)
        || !intake_check_date("opened_date", f->opened_date, true, NULL, err))
        return false;
    /* No amount, or zero: the invoice's whole open amount (known later). */
    if (f->amount && f->amount->minor != 0 && !intake_check_money("amount", f->amount, false, err))
        return false;
    return true;
}

bool
intake_validate_adjustment(const Creance__InvoiceAdjustmentFact *f, intake_error_t *err)
{
    if (!s_check_texts(f, s_adjustment_texts, err)
        || !intake_check_date("new_due_date", f->new_due_date, false, NULL, err))
        return false;
    if (f->new_amount && !intake_check_money("new_amount", f->new_amount, false, err))
        return false;
    if (!f->new_amount && !f->new_due_date)
        return intake_fail(err, "missing_field", "new_amount",
                           "missing: give new_amount, new_due_date or both");
    return true;
}

bool
intake_validate_cancellation(const Creance__InvoiceCancellationFact *f, intake_error_t *err)
{
    return s_check_texts(f, s_cancellation_texts, err)
        && intake_check_date("cancelled_date", f->cancelled_date, true, NULL, err);
}

bool
intake_validate_credit_note(const Creance__CreditNoteFact *f, intake_error_t *err)
{
    return s_check_texts(f, s_credit_note_texts, err)
        && intake_check_date("issue_date", f->issue_date, true, NULL, err)
        && intake_check_money("amount", f->amount, false, err);
}

bool
intake_validate_reversal(const Creance__PaymentReversalFact *f, intake_error_t *err)
{
    if (!s_check_texts(f, s_reversal_texts, err)
        || !intake_check_date("reversed_date", f->reversed_date, true, NULL, err))
        return false;
    /* No amount, or zero: all that is left of the payment (known later). */
    if (f->amount && f->amount->minor != 0 && !intake_check_money("amount", f->amount, false, err))
        return false;
    return true;
}

bool
intake_validate_write_off(const Creance__WriteOffFact *f, intake_error_t *err)
{
    if (!s_check_texts(f, s_write_off_texts, err)
        || !intake_check_date("date", f->date, true, NULL, err))
        return false;
    /* No amount, or zero: the invoice's whole open amount (known later). */
    if (f->amount && f->amount->minor != 0 && !intake_check_money("amount", f->amount, false, err))
        return false;
    return true;
}

bool
intake_validate_plan(const Creance__PaymentPlanFact *f, intake_error_t *err)
{
    if (!s_check_texts(f, s_plan_texts, err)
        || !intake_check_date("agreed_date", f->agreed_date, true, NULL, err)
        || !s_check_invoice_ids(f->invoice_external_ids, f->n_invoice_external_ids, err))
        return false;
    if (f->n_instalments == 0)
        return intake_fail(err, "missing_field", "instalments", "missing: a plan has at least one instalment");
    if (f->n_instalments > INTAKE_MAX_INSTALMENTS)
        return intake_fail(err, "too_many_items", "instalments",
                           "%zu instalments, the limit is %d", f->n_instalments, INTAKE_MAX_INSTALMENTS);
    int32_t previous = 0;
    for (size_t i = 0; i < f->n_instalments; i++) {
        const Creance__Instalment *in = f->instalments[i];
        char field[64];
        int32_t due;
        snprintf(field, sizeof field, "instalments[%zu].due_date", i);
        if (!intake_check_date(field, in->due_date, true, &due, err))
            return false;
        snprintf(field, sizeof field, "instalments[%zu].amount", i);
        if (!intake_check_money(field, in->amount, false, err))
            return false;
        if (i > 0 && strcmp(in->amount->currency, f->instalments[0]->amount->currency) != 0) {
            snprintf(field, sizeof field, "instalments[%zu].amount.currency", i);
            return intake_fail(err, "currency_mismatch", field, "'%s' differs from the first instalment's %s",
                               in->amount->currency, f->instalments[0]->amount->currency);
        }
        if (in->number != 0 && in->number != (int32_t) i + 1) {
            snprintf(field, sizeof field, "instalments[%zu].number", i);
            return intake_fail(err, "bad_value", field, "%d: instalments are numbered 1, 2, ... in order",
                               (int) in->number);
        }
        if (i > 0 && due <= previous) {
            char a[11], b[11];
            date_format(due, a);
            date_format(previous, b);
            snprintf(field, sizeof field, "instalments[%zu].due_date", i);
            return intake_fail(err, "bad_date", field,
                               "%s is not after the previous instalment's %s", a, b);
        }
        previous = due;
    }
    return true;
}

bool
intake_validate_promise(const Creance__PromiseFact *f, intake_error_t *err)
{
    return s_check_texts(f, s_promise_texts, err)
        && intake_check_money("amount", f->amount, false, err)
        && intake_check_date("promised_date", f->promised_date, true, NULL, err)
        && s_check_invoice_ids(f->invoice_external_ids, f->n_invoice_external_ids, err);
}

bool
intake_validate_item(const Creance__IntakeItem *item, intake_error_t *err)
{
    switch (item->fact_case) {
    case CREANCE__INTAKE_ITEM__FACT_DEBTOR:
        return intake_validate_debtor(item->debtor, err);
    case CREANCE__INTAKE_ITEM__FACT_INVOICE:
        return intake_validate_invoice(item->invoice, err);
    case CREANCE__INTAKE_ITEM__FACT_PAYMENT:
        return intake_validate_payment(item->payment, err);
    case CREANCE__INTAKE_ITEM__FACT_DISPUTE:
        return intake_validate_dispute(item->dispute, err);
    case CREANCE__INTAKE_ITEM__FACT_INVOICE_ADJUSTMENT:
        return intake_validate_adjustment(item->invoice_adjustment, err);
    case CREANCE__INTAKE_ITEM__FACT_INVOICE_CANCELLATION:
        return intake_validate_cancellation(item->invoice_cancellation, err);
    case CREANCE__INTAKE_ITEM__FACT_CREDIT_NOTE:
        return intake_validate_credit_note(item->credit_note, err);
    case CREANCE__INTAKE_ITEM__FACT_PAYMENT_REVERSAL:
        return intake_validate_reversal(item->payment_reversal, err);
    case CREANCE__INTAKE_ITEM__FACT_WRITE_OFF:
        return intake_validate_write_off(item->write_off, err);
    case CREANCE__INTAKE_ITEM__FACT_PAYMENT_PLAN:
        return intake_validate_plan(item->payment_plan, err);
    case CREANCE__INTAKE_ITEM__FACT_PROMISE:
        return intake_validate_promise(item->promise, err);
    default:
        return intake_fail(err, "empty_item", "fact",
                           "no fact set (expected debtor, invoice, payment, dispute, "
                           "invoice_adjustment, invoice_cancellation, credit_note, "
                           "payment_reversal, write_off, payment_plan or promise)");
    }
}

bool
intake_validate_batch(const Creance__IntakeBatch *batch, long max_items, intake_error_t *err)
{
    if (!intake_check_text("batch_id", batch->batch_id, INTAKE_MAX_ID_BYTES, false, err)
        || !intake_check_text("tenant", batch->tenant, INTAKE_MAX_ID_BYTES, true, err)
        || !intake_check_text("source", batch->source, INTAKE_MAX_ID_BYTES, true, err))
        return false;
    if ((long) batch->n_items > max_items)
        return intake_fail(err, "too_many_items", "items",
                           "%zu items, the limit is %ld per batch (split the batch)",
                           batch->n_items, max_items);
    return true;
}

const char *
intake_item_kind(const Creance__IntakeItem *item)
{
    switch (item->fact_case) {
    case CREANCE__INTAKE_ITEM__FACT_DEBTOR:  return "debtor";
    case CREANCE__INTAKE_ITEM__FACT_INVOICE: return "invoice";
    case CREANCE__INTAKE_ITEM__FACT_PAYMENT: return "payment";
    case CREANCE__INTAKE_ITEM__FACT_DISPUTE:
        return item->dispute->resolve ? "dispute_resolution" : "dispute";
    case CREANCE__INTAKE_ITEM__FACT_INVOICE_ADJUSTMENT:   return "invoice_adjustment";
    case CREANCE__INTAKE_ITEM__FACT_INVOICE_CANCELLATION: return "invoice_cancellation";
    case CREANCE__INTAKE_ITEM__FACT_CREDIT_NOTE:          return "credit_note";
    case CREANCE__INTAKE_ITEM__FACT_PAYMENT_REVERSAL:     return "payment_reversal";
    case CREANCE__INTAKE_ITEM__FACT_WRITE_OFF:            return "write_off";
    case CREANCE__INTAKE_ITEM__FACT_PAYMENT_PLAN:         return "payment_plan";
    case CREANCE__INTAKE_ITEM__FACT_PROMISE:              return "promise";
    default:
        return NULL;
    }
}

const char *
intake_item_external_id(const Creance__IntakeItem *item)
{
    switch (item->fact_case) {
    case CREANCE__INTAKE_ITEM__FACT_DEBTOR:  return item->debtor->external_id;
    case CREANCE__INTAKE_ITEM__FACT_INVOICE: return item->invoice->external_id;
    case CREANCE__INTAKE_ITEM__FACT_PAYMENT: return item->payment->external_id;
    case CREANCE__INTAKE_ITEM__FACT_DISPUTE: return item->dispute->external_id;
    case CREANCE__INTAKE_ITEM__FACT_INVOICE_ADJUSTMENT:   return item->invoice_adjustment->external_id;
    case CREANCE__INTAKE_ITEM__FACT_INVOICE_CANCELLATION: return item->invoice_cancellation->external_id;
    case CREANCE__INTAKE_ITEM__FACT_CREDIT_NOTE:          return item->credit_note->external_id;
    case CREANCE__INTAKE_ITEM__FACT_PAYMENT_REVERSAL:     return item->payment_reversal->external_id;
    case CREANCE__INTAKE_ITEM__FACT_WRITE_OFF:            return item->write_off->external_id;
    case CREANCE__INTAKE_ITEM__FACT_PAYMENT_PLAN:         return item->payment_plan->external_id;
    case CREANCE__INTAKE_ITEM__FACT_PROMISE:              return item->promise->external_id;
    default:
        return NULL;
    }
}
