/*  items: reminders' view of open invoices (rem_open_items), kept from the
    ledger stream. The dunning pass (a later issue) reads only this table to
    decide which level is due, never the ledger's own tables.

    Two halves, kept apart so the mapping is tested without a database:
      rem_changes_from_event   pure: one envelope -> row changes;
      rem_items_apply          the consumer's apply callback: maps, then
                               runs each change as one statement.

    What each event does to the row of (tenant, invoice_id):
      InvoiceIssued     INSERT, ON CONFLICT DO NOTHING: the first issuance
                        wins, later facts (allocations, adjustments) are what
                        change the row.
      PaymentAllocated  per allocation: open_minor = invoice_open_after, or
                        DELETE when that is 0 (the invoice is paid).
      PaymentReversed   per reopened allocation: UPSERT open_minor =
                        invoice_open_after and due_date (the row is gone when
                        the payment had settled the invoice).
      CreditNoteIssued  (tied to an invoice), CreditNoteApplied (a credit
                        note's unapplied credit taken by a later invoice):
                        open_minor = invoice_open_after, or DELETE when 0.
      InvoiceCancelled, WrittenOff  DELETE.
      DisputeOpened     disputed = true;  DisputeResolved  disputed = false.
      InvoiceAdjusted   open_minor = open_amount and due_date (UPSERT when the
                        event has a due date, else UPDATE); DELETE when the
                        open amount is 0.
      anything else     nothing (the consumer's position still advances).
    Every change sets the state the event describes rather than adding to
    it, so applying the same event twice leaves the same row.

    Known limits of v1: one flag per invoice, so resolving one of two
    disputes on the same invoice clears it; a reopened invoice comes back
    undisputed. A malformed event changes nothing, is logged with field and
    reason and counted in creance_reminders_events_rejected_total{reason};
    only database errors roll back. */
#ifndef CREANCE_REMINDERS_ITEMS_H
#define CREANCE_REMINDERS_ITEMS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include "creance.pb-c.h"
#include "db.h"

typedef enum {
    REM_INSERT = 1,         /* new row; an existing one is kept */
    REM_UPSERT,             /* new row, or set open_minor, due_date, currency, debtor */
    REM_SET_OPEN,           /* existing row: open_minor (and due_date when has_due) */
    REM_DELETE,
    REM_SET_DISPUTED        /* existing row: disputed */
} rem_op_t;

typedef struct {
    rem_op_t op;
    int64_t invoice_id;
    int64_t debtor_id;      /* INSERT, UPSERT */
    bool has_due;
    int32_t due_date;       /* days since epoch, when has_due */
    char currency[4];       /* INSERT, UPSERT */
    int64_t open_minor;     /* INSERT, UPSERT, SET_OPEN */
    bool disputed;          /* SET_DISPUTED */
} rem_change_t;

typedef struct {
    size_t n;
    size_t cap;
    rem_change_t *v;
} rem_changes_t;

typedef struct {
    const char *field;      /* e.g. "invoice_issued.due_date" */
    const char *reason;     /* short code, also the metric label */
} rem_error_t;

/*  Pure. Returns 0 and fills `out` (out->n may be 0), or -1 and fills `err`
    when the event is malformed (out is then emptied). `out` must be
    zero-initialised before first use; release with rem_changes_free. */
int  rem_changes_from_event(const Creance__Envelope *env, rem_changes_t *out, rem_error_t *err);
void rem_changes_free(rem_changes_t *changes);
const char *rem_op_name(rem_op_t op);

/*  Runs the changes for `tenant` inside the caller's transaction. 0 on
    success, -1 on a database error. */
int  rem_items_write(db_t *db, const char *tenant, const rem_changes_t *changes);

/*  The consumer side. */
typedef struct rem_items_t rem_items_t;

rem_items_t *rem_items_new(void);
void rem_items_destroy(rem_items_t **self_p);
/*  consumer_apply_fn; arg is the rem_items_t. */
int  rem_items_apply(db_t *db, const Creance__Envelope *env, void *arg);
/*  consumer_done_fn: counters only count what was committed. */
void rem_items_committed(void *arg);
void rem_items_aborted(void *arg);

#endif
