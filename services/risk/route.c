/*  route: the debtor of a ledger event, and whether this instance owns it. */
#include "route.h"

/*  protobuf-c gives each message its own struct, so the debtor is asked of
    each case; a case added to the proto and not here routes as id 0, to
    one instance, never to none or two. */
int64_t
risk_route_debtor(const Creance__Envelope *env)
{
    switch (env->event_case) {
#define CASE(tag, member, expr) \
    case CREANCE__ENVELOPE__EVENT_##tag: return env->member ? (expr) : 0;
    CASE(DEBTOR_CREATED, debtor_created, env->debtor_created->debtor_id)
    CASE(DEBTOR_UPDATED, debtor_updated,
         env->debtor_updated->debtor ? env->debtor_updated->debtor->debtor_id : 0)
    CASE(INVOICE_ISSUED, invoice_issued, env->invoice_issued->debtor_id)
    CASE(INVOICE_ADJUSTED, invoice_adjusted, env->invoice_adjusted->debtor_id)
    CASE(INVOICE_CANCELLED, invoice_cancelled, env->invoice_cancelled->debtor_id)
    CASE(CREDIT_NOTE_ISSUED, credit_note_issued, env->credit_note_issued->debtor_id)
    CASE(CREDIT_NOTE_APPLIED, credit_note_applied, env->credit_note_applied->debtor_id)
    CASE(PAYMENT_RECEIVED, payment_received, env->payment_received->debtor_id)
    CASE(PAYMENT_ALLOCATED, payment_allocated, env->payment_allocated->debtor_id)
    CASE(PAYMENT_REVERSED, payment_reversed, env->payment_reversed->debtor_id)
    CASE(WRITTEN_OFF, written_off, env->written_off->debtor_id)
    CASE(DISPUTE_OPENED, dispute_opened, env->dispute_opened->debtor_id)
    CASE(DISPUTE_RESOLVED, dispute_resolved, env->dispute_resolved->debtor_id)
    CASE(PLAN_AGREED, plan_agreed, env->plan_agreed->debtor_id)
    CASE(INSTALMENT_DUE, instalment_due, env->instalment_due->debtor_id)
    CASE(INSTALMENT_PAID, instalment_paid, env->instalment_paid->debtor_id)
    CASE(INSTALMENT_MISSED, instalment_missed, env->instalment_missed->debtor_id)
    CASE(PLAN_DEFAULTED, plan_defaulted, env->plan_defaulted->debtor_id)
    CASE(PLAN_COMPLETED, plan_completed, env->plan_completed->debtor_id)
    CASE(PROMISE_MADE, promise_made, env->promise_made->debtor_id)
    CASE(PROMISE_KEPT, promise_kept, env->promise_kept->debtor_id)
    CASE(PROMISE_BROKEN, promise_broken, env->promise_broken->debtor_id)
    CASE(RISK_SCORED, risk_scored, env->risk_scored->debtor_id)
    CASE(GRADE_CHANGED, grade_changed, env->grade_changed->debtor_id)
    CASE(REMINDER_SCHEDULED, reminder_scheduled, env->reminder_scheduled->debtor_id)
    CASE(REMINDER_SENT, reminder_sent, env->reminder_sent->debtor_id)
    CASE(REMINDER_FAILED, reminder_failed, env->reminder_failed->debtor_id)
#undef CASE
    default:
        return 0;
    }
}

bool
risk_route_owns(const partition_t *part, const Creance__Envelope *env)
{
    if (partition_all(part))
        return true;
    int64_t id = risk_route_debtor(env);
    return partition_owns_id(part, env->tenant, id > 0 ? id : 0);
}
