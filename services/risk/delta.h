/*  delta: what one ledger event changes in a debtor's exposure (pure).

    A table maps each Envelope event case to a handler that reads the event
    and returns changes per (debtor, currency): outstanding minor units and
    the count of open invoices. Nothing here touches a database, so the
    rules are unit-tested on their own; exposure.c writes the result.

    Only what the event itself says is applied:
      InvoiceIssued     +amount, +1 open
      PaymentAllocated  -each allocation; -1 open per allocation that left
                        its invoice at 0 (invoice_open_after)
      PaymentReversed   +each reopened amount; +1 open per invoice that went
                        from 0 to open (invoice_open_after == reopened amount)
      InvoiceCancelled  -cancelled_open; -1 open if something was still open
                        (a fully paid invoice was already counted closed)
      WrittenOff        -amount (whether the invoice is now closed is not in
                        the event, so the open count is left alone)
      CreditNoteIssued  -amount
    Every other event changes nothing (it is still applied: the consumer's
    position moves on).

    An event is applied whole or not at all: one malformed part makes the
    whole event invalid, with the offending field and the reason. */
#ifndef CREANCE_RISK_DELTA_H
#define CREANCE_RISK_DELTA_H

#include "creance.pb-c.h"
#include <stdint.h>

#define RISK_DELTA_MAX 8                 /* distinct currencies in one event */

typedef struct {
    int64_t debtor_id;
    char currency[4];
    int64_t outstanding_minor;      /* change, signed */
    int32_t open_invoices;          /* change, signed */
} risk_delta_t;

typedef struct {
    int count;
    risk_delta_t items[RISK_DELTA_MAX];
    /* When invalid: */
    char field[128];                /* e.g. "payment_allocated.allocations[1].amount.currency" */
    char reason[128];               /* in words */
    const char *code;               /* metric label, e.g. "bad_currency" */
} risk_delta_set_t;

typedef enum {
    RISK_DELTA_INVALID = -1,
    RISK_DELTA_NONE = 0,                 /* the event changes no exposure */
    RISK_DELTA_SOME = 1                  /* out->count >= 1 */
} risk_delta_result_t;

risk_delta_result_t risk_delta_from_envelope(const Creance__Envelope *env, risk_delta_set_t *out);

/*  True when risk has a handler for this event case (others are no-ops). */
int risk_delta_handles(Creance__Envelope__EventCase event_case);

#endif
