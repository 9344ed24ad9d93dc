/*  facts: recording one validated intake item in the ledger.

    One handler per kind of fact, found through a table on the item's
    fact_case. A handler runs inside the burst's transaction, under the
    item's SAVEPOINT, and always in this order:
        1. its SQL (rows of the ledger);
        2. intake_fact_register: the idempotency row in intake_items;
        3. its events, through eventlog_add.
    Events come last because eventlog_add cannot be undone: a handler that
    fails at 1 or 2 has emitted nothing, and the caller rolls back to the
    savepoint. */
#ifndef INTAKE_FACTS_H
#define INTAKE_FACTS_H

#include "db.h"
#include "eventlog.h"
#include "validate.h"
#include "creance.pb-c.h"

typedef struct {
    db_t *db;
    eventlog_batch_t *events;
    const char *tenant;
    const char *source;
    const char *kind;               /* idempotency kind, e.g. "invoice" */
    const char *external_id;
    const uint8_t *encoded;         /* the item's protobuf encoding (hashed) */
    size_t encoded_len;
    bool update;                    /* debtor known under this key, other content */
} fact_ctx_t;

typedef enum {
    FACT_RECORDED = 0,              /* *id set, events added */
    FACT_REJECTED = 1,              /* err set; nothing written that matters */
    FACT_DB_ERROR = -1              /* a statement failed: see db_last_sqlstate */
} fact_rc_t;

typedef fact_rc_t (fact_record_fn)(fact_ctx_t *ctx, const Creance__IntakeItem *item,
                                   int64_t *id, intake_error_t *err);

typedef struct {
    Creance__IntakeItem__FactCase fact_case;
    const char *name;
    fact_record_fn *record;
} fact_handler_t;

/*  NULL for an item with no fact. */
const fact_handler_t *intake_fact_handler(Creance__IntakeItem__FactCase fact_case);

/*  A validated date as days since 1970-01-01. */
int32_t intake_pb_days(const Creance__Date *d);

/*  The item's protobuf encoding into *buf (grown as needed): the bytes the
    idempotency hash is taken over. Returns its length. */
size_t intake_item_encode(const Creance__IntakeItem *item, uint8_t **buf, size_t *cap);

/*  Step 2 of every handler: inserts the intake_items row (or, for a debtor
    update, replaces its content hash). 0 or -1. */
int intake_fact_register(fact_ctx_t *ctx, int64_t id);

/* ------------------------------------------------------------------------
    What the item-by-item handlers and the set-based path (bulk.h) share:
    the debtor row with its defaults, the unapplied credit a new invoice
    takes, the allocation of a payment, and the events of each. */

/*  A debtor as stored, defaults applied; the event carries the same
    values. address_json is malloc'd: the caller frees it. */
typedef struct {
    int kind;                       /* 1 business, 2 consumer */
    const char *country, *language, *time_zone, *currency;
    int64_t credit_limit;
    int32_t terms;
    char *address_json;
} debtor_row_t;

void intake_debtor_row(const Creance__DebtorFact *f, debtor_row_t *row);
/*  DebtorCreated, or DebtorUpdated when ctx->update. 0 or -1. */
int  intake_debtor_event(fact_ctx_t *ctx, const Creance__DebtorFact *f, const debtor_row_t *row,
                         int64_t id);

/*  Unapplied credit taken by a new invoice of the same debtor and currency:
    that of earlier payments (overpayments) and that of credit notes (their
    excess over the invoice they credit, or all of one tied to none).
    Oldest credit first whatever its kind, by the payment's received date
    or the credit note's issue date, as an accountant settles an account;
    on the same day a credit note's credit goes before a payment's (money
    left unapplied is what a debtor may ask back; a credit note's credit
    can only be used), then by id. One PaymentAllocated per payment used,
    one CreditNoteApplied per credit note used. */
typedef struct {
    int64_t id;                     /* the payment's or the credit note's */
    bool credit_note;
    int32_t received;               /* received date, or credit note's issue date */
    int64_t amount;                 /* taken by the invoice */
    int64_t left;                   /* the payment's (credit note's) unapplied credit after */
} credit_use_t;

/*  The order above, for a sort or a check: <0 when a goes first. */
int intake_credit_order(const credit_use_t *a, const credit_use_t *b);

/*  Finds and applies the credit of the invoice's debtor (rows only);
    *uses is malloc'd. 0, or -1 on a database error. */
int intake_take_credit(fact_ctx_t *ctx, int64_t invoice_id, int64_t debtor_id,
                       const Creance__InvoiceFact *f, credit_use_t **uses, size_t *nuses);
/*  InvoiceIssued, then one PaymentAllocated or CreditNoteApplied per credit
    use. 0 or -1. */
int intake_invoice_events(fact_ctx_t *ctx, int64_t invoice_id, int64_t debtor_id,
                          const Creance__InvoiceFact *f, const credit_use_t *uses, size_t nuses);

/*  A payment's allocation, one entry per invoice. */
typedef struct {
    int64_t invoice_id;
    int64_t open;                   /* before this payment */
    int64_t amount;                 /* allocated by this payment */
    int32_t due;
} alloc_t;

typedef struct {
    alloc_t *v;
    size_t n, cap;
} allocs_t;

alloc_t *intake_alloc_find(allocs_t *a, int64_t invoice_id);
/*  Allocates up to the invoice's open amount from *remaining. One entry per
    invoice: an invoice named twice, or named and also oldest, gets one. */
void intake_alloc_take(allocs_t *a, int64_t invoice_id, int64_t open, int32_t due,
                       int64_t *remaining);
/*  How a partial reversal of `amount` splits over a payment with
    `unapplied` credit and allocations `a` (in the order they were made):
    the credit first, then the most recent allocations. *from_credit gets
    the part taken from the credit; each entry's `amount` becomes what is
    taken back from its invoice (0: untouched). 0, or -1 when `amount` is
    more than the credit and the allocations hold. */
int intake_refund_split(int64_t amount, int64_t unapplied, allocs_t *a, int64_t *from_credit);

/*  PaymentReceived then PaymentAllocated (entries with amount 0 dropped by
    the caller). */
fact_rc_t intake_payment_events(fact_ctx_t *ctx, const Creance__PaymentFact *f, int64_t payment_id,
                                int64_t debtor_id, const allocs_t *a, int64_t remaining);

#endif
