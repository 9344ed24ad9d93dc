/*  pauses: what the dunning pass needs besides open amounts, kept from the
    ledger (and risk) streams inside the consumer's transaction:

      InvoiceIssued           rem_invoices (number, issue date, amount)
      DebtorCreated/Updated   rem_debtors (time zone, country, addresses, kind)
      RiskScored              rem_debtors.grade (a riskier grade may take a
                              faster ladder)
      DisputeOpened/Resolved  rem_disputes; rem_open_items.disputed_minor =
                              the sum of the invoice's open disputes (partial
                              disputes leave the rest dunned)
      PaymentPlanAgreed       rem_plans, rem_plan_instalments; plan_id set on
                              the plan's invoices (held)
      InstalmentPaid          the instalment is paid
      InstalmentMissed,       the plan stops holding: plan_id cleared and
      PlanDefaulted           min_level = last_level + 1 (the ladder restarts
                              at the next level, at once)
      PlanCompleted           plan_id cleared
      PromiseMade             rem_promises; promise_id/promise_until on the
                              promised invoices (all the debtor's open ones
                              when the promise names none)
      PromiseKept             the hold is lifted
      PromiseBroken           the hold is lifted and min_level = last_level + 1
                              (escalates one level)

    Every statement sets state from the event (upserts, sums recomputed from
    rem_disputes), so the consumer's effectively-once delivery is not even
    needed for correctness. Returns 0, or -1 on a database error (the
    consumer rolls back and reads the events again). */
#ifndef CREANCE_REMINDERS_PAUSES_H
#define CREANCE_REMINDERS_PAUSES_H

#include "creance.pb-c.h"
#include "db.h"

int rem_pauses_apply(db_t *db, const Creance__Envelope *env);

#endif
