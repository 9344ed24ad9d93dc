/*  collect: reporting's collection facts (deploy/sql/0041_reporting_collection.sql):
    payment plans and promises from the "ledger" stream, reminders from the
    "reminders" stream, maintained inside the consumer's transaction next to
    facts.c's.

    What each event does (day = the date the event names):
      PaymentPlanAgreed rpt_plans row (currency of its instalments, debtor's segment)
      InstalmentPaid    daily[instalment due date] instalments_paid += 1, (+ amount)
                        (intake emits it only for an instalment covered by its
                        due date + grace: "paid on time")
      InstalmentMissed  daily[instalment due date] instalments_missed += 1, (+ amount)
      PlanCompleted     daily[date] plans_completed += 1
      PlanDefaulted     daily[date] plans_defaulted += 1
      PromiseMade       rpt_promises row (amount, promised date, debtor's segment)
      PromiseKept       daily[promised date] promises_kept += 1, (+ amount)
      PromiseBroken     daily[promised date] promises_broken += 1, (+ amount)
      ReminderScheduled rpt_reminders row (invoices, level, channel)
      ReminderSent      sent_date, level and channel of the row; one rpt_reminded
                        row per named invoice; reminder_daily[sent day, level,
                        channel] sent += 1, reminded_invoices += the named
                        invoices not paid before that day, and paid_7d /
                        paid_14d for those of them already paid within 7 / 14 days
    and, from facts.c, when a payment brings an invoice to 0 on day P (or a
    reversal takes that back, with the opposite sign), on the row of the
    day S of each reminder sent about it: paid_14d += 1 when P - 14 <= S <= P,
    paid_7d += 1 when P - 7 <= S <= P, and reminded_invoices -= 1 when S > P
    (paid before that reminder, recorded late). The two streams are not
    ordered with respect to each other: whichever of the payment and the
    ReminderSent is applied second does the counting, so the figures do
    not depend on the order.

    An event naming a plan, promise or reminder reporting does not know
    changes nothing and is reported through *unknown. */
#ifndef CREANCE_REPORTING_COLLECT_H
#define CREANCE_REPORTING_COLLECT_H

#include <stdbool.h>
#include <stdint.h>
#include "creance.pb-c.h"
#include "db.h"

/*  Days after a reminder within which a payment counts for it. */
#define RPT_REMINDER_WINDOW_SHORT 7
#define RPT_REMINDER_WINDOW_LONG 14

/*  Pure: the channel's name as reminders and rpt_channel_costs spell it
    ("email", "sms", "letter", "phone", "handoff", "unspecified"). */
const char *rpt_channel_name(int channel);
/*  Pure: whether an invoice paid on `paid` counts for a reminder sent on
    `sent` within 7 and within 14 days (paid on or after the sending day). */
void rpt_reminder_credit(int32_t sent, int32_t paid, bool *in_short, bool *in_long);

/*  Inside the consumer's transaction. 0 (with *unknown set when the event
    named something unknown), -1 on a database error. Events it does not
    handle change nothing. */
int rpt_collect_apply(db_t *db, const Creance__Envelope *env, bool *unknown);
/*  Called by facts.c when a payment brings invoice_id to 0 on `paid`
    (sign +1) or a reversal reopens an invoice paid on `paid` (sign -1). */
int rpt_collect_invoice_paid(db_t *db, const char *tenant, int64_t invoice_id, int32_t paid,
                             int sign);

#endif
