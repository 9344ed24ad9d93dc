/*  facts: reporting's KPI fact tables (deploy/sql/0040_reporting_kpis.sql),
    maintained from ledger events inside the consumer's transaction, next
    to rpt_totals (aggregates.c).

    What each event does (day = the date the event names):
      DebtorCreated/Updated  rpt_debtors upsert (segment of later facts)
      InvoiceIssued     rpt_invoices row; daily[issue] invoiced, invoice_count;
                        daily[due] fell_due, fell_due_count; open_due[due] += amount, +1;
                        open_moves[due, issue] += amount, +1
      PaymentReceived   daily[received] payments (cash received)
      PaymentAllocated  per allocation: invoice open -= amount;
                        daily[received] collected, settled;
                        open_due/open_moves -= amount (and -1 when it reaches 0),
                        collected += amount;
                        reaching 0: paid_date = received, daily[received] paid_count,
                        days_to_pay_sum (received - issue), days_late_sum (max(0, received - due))
      CreditNoteIssued  tied to an invoice: invoice open -= amount, daily[issue] invoiced
                        -= amount (credit sales are net of credit notes)
                        (a credit note tied to no invoice is not in the facts)
      WrittenOff        invoice open -= amount, daily[date] settled, written_off
      InvoiceCancelled  invoice open -= cancelled_open, daily[day of occurred_at]
                        invoiced -= cancelled_open
      PaymentReversed   per reopened allocation: the reverse of an allocation on the day
                        of occurred_at; a paid invoice's paid figures are taken back
                        on that day too
      DisputeOpened     rpt_disputes row; daily[opened] disputes_opened(+amount);
                        invoice disputed += amount
      DisputeResolved   daily[resolved] disputes_resolved(+amount), resolution_days_sum
                        (resolved - opened); invoice disputed -= amount
    A settlement dated before its invoice's issue date (money received
    earlier, applied later) counts on the issue date.
      InvoiceAdjusted   booked on the day of occurred_at (not before the issue date):
                        daily[that day] invoiced += new - old amount; the fell-due
                        amount moves from the old due date to the new one; the open
                        amount leaves the old due date and joins the new one that day.

    Every fact also carries the debtor's grade and collector when it
    happened (0042_reporting_segments.sql; segments.h moves open amounts
    when they change), and plans, promises and reminders are collect.h's.

    An event naming an invoice or dispute reporting does not know changes
    nothing and is reported through *unknown (counted as a rejection). */
#ifndef CREANCE_REPORTING_FACTS_H
#define CREANCE_REPORTING_FACTS_H

#include <stdbool.h>
#include "creance.pb-c.h"
#include "db.h"

/*  Inside the consumer's transaction. 0 on success (*unknown set when the
    event named something unknown), -1 on a database error. */
int rpt_facts_apply(db_t *db, const Creance__Envelope *env, bool *unknown);

/*  The segment and currency a fact is counted in: country and kind as the
    debtor had them when the invoice was issued (or the fact recorded),
    grade and collector as they are when the fact happens (segments.h moves
    open amounts when they change). */
typedef struct {
    char currency[4];
    char country[3];
    int kind;
    char grade[2];              /* "A".."E", "-" before the first score */
    char collector[64];         /* "" = none */
} rpt_seg_t;

/*  For collect.c and segments.c. The segment reporting knows for a debtor
    now (country "--", kind 0, grade "-", collector "" when unknown);
    currency is left alone. 0 or -1 on a database error. */
int rpt_facts_debtor_seg(db_t *db, const char *tenant, int64_t debtor_id, rpt_seg_t *seg);
/*  Adds by1 to rpt_daily column col1 (and by2 to col2 unless NULL) of the
    segment's row of day d. -1 on a database error or an unknown column. */
int rpt_facts_daily_pair(db_t *db, const char *tenant, const rpt_seg_t *seg, int32_t d,
                         const char *col1, int64_t by1, const char *col2, int64_t by2);

#endif
