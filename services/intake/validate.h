/*  validate: checks on what a billing system sends, before any database
    work. Pure functions (no I/O), so that every rule is unit-tested.

    A failed check fills an intake_error_t: the offending field as the
    sender named it ("amount.currency", "invoice_external_ids[2]"), the
    reason in words, and a short key for the metric
    creance_intake_rejected_total{reason=...}. Reasons only ever echo a
    sender's value after it has been found to be valid UTF-8 and short, so
    that the reply itself stays valid UTF-8 (a proto3 string must be). */
#ifndef INTAKE_VALIDATE_H
#define INTAKE_VALIDATE_H

#include "creance.pb-c.h"
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/*  Limits, in bytes of UTF-8. */
#define INTAKE_MAX_ID_BYTES    256      /* ids, names, codes, e-mail, phone */
#define INTAKE_MAX_LINE_BYTES  1024     /* address lines, free text */
#define INTAKE_MAX_NAMED_INVOICES 1000  /* invoice_external_ids of one payment */
#define INTAKE_MAX_INSTALMENTS 360      /* 30 years of monthly instalments */
#define INTAKE_MAX_TERMS_DAYS  3650
#define INTAKE_MIN_YEAR        1900     /* dates outside are typos, not facts */
#define INTAKE_MAX_YEAR        2999

typedef struct {
    char field[96];
    char reason[768];
    const char *key;                    /* static string, e.g. "bad_utf8" */
} intake_error_t;

/*  Fills `err` (reason printf-style, trimmed so that a truncated reason
    never ends in half a UTF-8 sequence). Returns false, for
    `return intake_fail(...)`. */
bool intake_fail(intake_error_t *err, const char *key, const char *field, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));

/*  Strict UTF-8 (RFC 3629): no overlong forms, no surrogates, nothing above
    U+10FFFF, no truncated sequence. On failure *bad_at (if not NULL) is the
    offset of the first byte of the offending sequence. */
bool intake_utf8_valid(const char *s, size_t len, size_t *bad_at);

/*  A text field: valid UTF-8, at most `limit` bytes, non-empty when
    `required`. NULL counts as empty. */
bool intake_check_text(const char *field, const char *value, size_t limit, bool required,
                       intake_error_t *err);

/*  A calendar date: present (unless !required and absent), a real day,
    year within INTAKE_MIN_YEAR..INTAKE_MAX_YEAR. *days is set when valid
    and present. */
bool intake_check_date(const char *field, const Creance__Date *date, bool required,
                       int32_t *days, intake_error_t *err);

/*  An amount: present, a known ISO 4217 currency, minor > 0 (or >= 0 when
    `allow_zero`). */
bool intake_check_money(const char *field, const Creance__Money *money, bool allow_zero,
                        intake_error_t *err);

/*  Two upper-case letters (ISO 3166-1 alpha-2), or empty. */
bool intake_check_country(const char *field, const char *value, intake_error_t *err);

/*  Per fact. The field names are those of the fact's message. */
bool intake_validate_debtor(const Creance__DebtorFact *f, intake_error_t *err);
bool intake_validate_invoice(const Creance__InvoiceFact *f, intake_error_t *err);
bool intake_validate_payment(const Creance__PaymentFact *f, intake_error_t *err);
/*  Opening (resolve = false) or resolving (resolve = true) a dispute. */
bool intake_validate_dispute(const Creance__DisputeFact *f, intake_error_t *err);
bool intake_validate_adjustment(const Creance__InvoiceAdjustmentFact *f, intake_error_t *err);
bool intake_validate_cancellation(const Creance__InvoiceCancellationFact *f, intake_error_t *err);
bool intake_validate_credit_note(const Creance__CreditNoteFact *f, intake_error_t *err);
bool intake_validate_reversal(const Creance__PaymentReversalFact *f, intake_error_t *err);
bool intake_validate_write_off(const Creance__WriteOffFact *f, intake_error_t *err);
/*  At least one instalment, amounts > 0 in one currency, due dates strictly
    increasing, numbers 1..n in order (0: numbered by position). */
bool intake_validate_plan(const Creance__PaymentPlanFact *f, intake_error_t *err);
bool intake_validate_promise(const Creance__PromiseFact *f, intake_error_t *err);
/*  Dispatches on fact_case; an item with no fact is rejected. */
bool intake_validate_item(const Creance__IntakeItem *item, intake_error_t *err);

/*  Whole-batch checks that need no database: tenant, source, batch_id as
    text, the item count against `max_items`. The tenant's existence is
    checked against the database later. */
bool intake_validate_batch(const Creance__IntakeBatch *batch, long max_items,
                           intake_error_t *err);

/*  The idempotency kind of an item ("debtor", "invoice", "payment",
    "dispute", "dispute_resolution", "invoice_adjustment", ...) and its
    external id; NULL for an item with no fact. */
const char *intake_item_kind(const Creance__IntakeItem *item);
const char *intake_item_external_id(const Creance__IntakeItem *item);

#endif
