/*  aggregates: reporting's running totals per (tenant, currency), kept in
    rpt_totals and maintained incrementally from ledger events.

    Two halves, kept apart so the arithmetic is tested without a database:
      rpt_deltas_from_event   pure: one envelope -> the changes it makes to
                              the totals of each currency it touches;
      rpt_aggregates_apply    the consumer's apply callback: maps, then
                              adds the deltas to rpt_totals with an upsert.

    What each event does (the totals are figures a credit manager reads, so
    the choices are written down here once; the per-day KPI facts are
    facts.c's, called from the same apply):
      InvoiceIssued     invoiced += amount, outstanding += amount, invoice_count += 1
      PaymentReceived   collected += amount, payment_count += 1
      PaymentAllocated  outstanding -= sum of the allocations
      InvoiceCancelled  invoiced -= cancelled_open, outstanding -= cancelled_open.
                        The event only carries the open part that is removed;
                        what had already been paid on the invoice stays both
                        invoiced and collected, so invoiced - outstanding still
                        equals what was settled. invoice_count counts invoices
                        issued and is not decremented (nor is payment_count on
                        a reversal).
      CreditNoteIssued  outstanding -= amount
      WrittenOff        outstanding -= amount
      PaymentReversed   outstanding += each reopened amount, collected -= their sum
                        (the payment's unapplied part, if any, stays collected:
                        the event does not say how much of it is reversed)
      DisputeOpened     open_disputes += 1
      DisputeResolved   open_disputes -= 1
      InvoiceAdjusted   invoiced += new_amount - old_amount,
                        outstanding += open_amount - old_open_amount
      anything else     nothing (the consumer's position still advances)

    DisputeResolved carries no Money, and a DisputeOpened may lack one: their
    currency is then the invoice's, read from the ledger (invoices table) by
    the database half. The pure half leaves `currency` empty and sets
    `lookup_invoice_id`.

    An event that fails validation (missing amount, unknown currency, ...)
    changes nothing, is logged with the field and the reason, and counted in
    creance_reporting_events_rejected_total{reason}; the consumer still
    advances, because retrying a malformed event that is already in event_log
    would stop the stream forever. Only database errors roll back. */
#ifndef CREANCE_REPORTING_AGGREGATES_H
#define CREANCE_REPORTING_AGGREGATES_H

#include <stdbool.h>
#include <stdint.h>
#include "creance.pb-c.h"
#include "db.h"

/*  Amounts above this (10^15 minor units, 10 trillion euros) are refused:
    a sum that overflows bigint would fail the upsert on every retry and
    stop the consumer for good. */
#define RPT_MAX_MINOR 1000000000000000LL
/*  Distinct currencies one event may touch (a payment's allocations). */
#define RPT_MAX_CURRENCIES 8

typedef struct {
    char currency[4];               /* "" = resolve from lookup_invoice_id */
    int64_t invoiced;
    int64_t collected;
    int64_t outstanding;
    int64_t invoice_count;
    int64_t payment_count;
    int64_t open_disputes;
} rpt_delta_t;

typedef struct {
    int n;
    rpt_delta_t d[RPT_MAX_CURRENCIES];
    int64_t lookup_invoice_id;      /* for a delta whose currency is "" */
} rpt_deltas_t;

typedef struct {
    const char *field;              /* e.g. "invoice_issued.amount.currency" */
    const char *reason;             /* short code, also the metric label */
} rpt_error_t;

/*  Pure. Returns 0 and fills `out` (out->n may be 0: nothing to change),
    or -1 and fills `err` when the event is malformed. */
int  rpt_deltas_from_event(const Creance__Envelope *env, rpt_deltas_t *out, rpt_error_t *err);
/*  True when the delta changes nothing. */
bool rpt_delta_is_zero(const rpt_delta_t *d);

/*  The consumer side. */
typedef struct rpt_aggregates_t rpt_aggregates_t;

rpt_aggregates_t *rpt_aggregates_new(void);
void rpt_aggregates_destroy(rpt_aggregates_t **self_p);
/*  consumer_apply_fn: arg is the rpt_aggregates_t. */
int  rpt_aggregates_apply(db_t *db, const Creance__Envelope *env, void *arg);
/*  consumer_done_fn for committed / aborted: the applied-events counter only
    counts what was committed. */
void rpt_aggregates_committed(void *arg);
void rpt_aggregates_aborted(void *arg);

/*  Adds the deltas to rpt_totals for `tenant` (inside the caller's
    transaction). 0 on success, -1 on a database error. A delta whose
    currency cannot be resolved (no such invoice) is skipped and counted in
    *unresolved (may be NULL). */
int  rpt_totals_add(db_t *db, const char *tenant, const rpt_deltas_t *deltas, int *unresolved);

#endif
