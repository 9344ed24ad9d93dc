/*  watch: intake decides what became of promises and payment plans.

    Intake owns the ledger, so it is the one to say that a promise was kept
    or broken and that an instalment was paid or missed. The watcher runs
    on a zloop timer (CREANCE_INTAKE_WATCH_MS, default 60000), once at
    start, and after each committed burst that recorded payments (then only
    for the debtors whose payments are new since its last look). It judges
    as of date_today() (CREANCE_TODAY in tests).

    Rules (all amounts in the promise's / plan's currency; reversed
    payments and payments received after today do not count):

    Promise: the payments that count are the debtor's payments received on
    or after the day the promise was recorded (or recorded after it),
    up to promised_date + grace (CREANCE_PROMISE_GRACE_DAYS, default 3);
    when the promise names invoices, only what those payments allocated
    to the named invoices counts. KEPT on the day their running sum
    reaches the promised amount; BROKEN, dated promised_date + grace + 1,
    once today is past promised_date + grace without that.

    Plan: the payments that count are the debtor's payments received on
    or after agreed_date. Instalment k is covered on the day the running
    sum of those payments reaches the sum of instalments 1..k (payments go
    to the oldest instalment first). PAID (paid_date = that day) when
    covered by due_date + grace (CREANCE_INSTALMENT_GRACE_DAYS, default 3);
    MISSED once today is past due_date + grace without that (a later
    payment does not turn a missed instalment into a paid one).
    The plan is COMPLETED on the day its last instalment is covered (the
    whole total paid). It is DEFAULTED on the earliest of: the day the
    N-th instalment became missed (CREANCE_PLAN_DEFAULT_MISSED, default 2),
    and the day a missed instalment has stayed uncovered for
    CREANCE_PLAN_DEFAULT_DAYS (default 30) more days. When both could
    apply, the earlier day wins; on the same day, completion.

    Each promise, instalment and plan gets exactly one outcome: its status
    leaves 'open' / 'due' / 'active' in the same transaction as the event
    (event_log, stream "ledger", published after commit), under a
    `WHERE status = ...` guard, so a re-run never emits twice. */
#ifndef INTAKE_WATCH_H
#define INTAKE_WATCH_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "bus.h"
#include "db.h"

/* ------------------------------------------------------------- decisions */

/*  No date (e.g. never covered). */
#define INTAKE_WATCH_NO_DAY INT32_MIN

typedef enum {
    INTAKE_WATCH_WAIT = 0,      /* nothing to say yet */
    INTAKE_WATCH_KEPT,          /* promise kept */
    INTAKE_WATCH_BROKEN,        /* promise broken */
    INTAKE_WATCH_PAID,          /* instalment paid */
    INTAKE_WATCH_MISSED,        /* instalment missed */
    INTAKE_WATCH_COMPLETED,     /* plan completed */
    INTAKE_WATCH_DEFAULTED      /* plan defaulted */
} intake_watch_outcome_t;

typedef struct {
    int32_t promise_grace_days;     /* CREANCE_PROMISE_GRACE_DAYS */
    int32_t instalment_grace_days;  /* CREANCE_INSTALMENT_GRACE_DAYS */
    int32_t default_missed;         /* N missed instalments default the plan */
    int32_t default_days;           /* one missed instalment uncovered this long */
} intake_watch_rules_t;

/*  A promise: `kept_day` is the day the counted payments reached the
    amount (INTAKE_WATCH_NO_DAY if they did not). Returns the outcome and
    its day in *day. */
intake_watch_outcome_t intake_watch_promise(int32_t promised, int32_t kept_day, int32_t today,
                                            const intake_watch_rules_t *rules, int32_t *day);

typedef struct {
    int32_t number;
    int32_t due;                        /* due date */
    int64_t amount_minor;
    intake_watch_outcome_t status;      /* WAIT (still due), PAID or MISSED */
    int32_t covered;                    /* see watch.h rules; or NO_DAY */
    /* out: the decision of this run for an instalment still due */
    intake_watch_outcome_t decided;     /* WAIT, PAID or MISSED */
    int32_t decided_day;                /* paid date; for MISSED due + grace + 1 */
} intake_watch_instalment_t;

/*  Decides the instalments still due (fills `decided`) and the plan:
    returns WAIT, COMPLETED or DEFAULTED, with its day in *day.
    Instalments are in number order. */
intake_watch_outcome_t intake_watch_plan(intake_watch_instalment_t *ins, size_t n, int32_t today,
                                         const intake_watch_rules_t *rules, int32_t *day);

/* --------------------------------------------------------------- watcher */

typedef struct intake_watch_t intake_watch_t;

intake_watch_t *intake_watch_new(db_t *db, bus_t *bus, const intake_watch_rules_t *rules);
void intake_watch_destroy(intake_watch_t **self_p);
void intake_watch_set_rules(intake_watch_t *self, const intake_watch_rules_t *rules);

/*  Every tenant, every open promise and active plan. Returns the number
    of events emitted, -1 on a database error (retried next time). */
int  intake_watch_run(intake_watch_t *self, const char *trigger);
/*  One tenant; only the debtors with payments recorded since the last look
    at this tenant (all of its debtors the first time). */
int  intake_watch_tenant_payments(intake_watch_t *self, const char *tenant);

#endif
