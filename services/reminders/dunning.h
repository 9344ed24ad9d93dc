/*  dunning: the pass that decides which reminders go out.

    For one day (date_today(), so CREANCE_TODAY moves it) and one instant
    (rem_now_seconds(): CREANCE_NOW_UTC in tests), per tenant:
      1. loads the tenant's ladders, contact rules, the public holidays
         around today, the debtors' recent contacts and opt-outs (small
         sets);
      2. reads the candidate open items with ONE set-based query per page
         (keyset pagination by debtor, 20,000 rows a page): every item whose
         due date is within the earliest offset of a ladder, with its pause
         state (disputed amount, plan, promise), its escalation and the last
         level decided; the debtors' zones, countries, grades and addresses
         are loaded once per tenant and found by binary search;
      3. per debtor, policy.h's rem_plan_debtor() picks the level of each
         item, the pauses, the contact rules in the debtor's local time and
         the channel, and groups the items per (level, currency);
      4. records the decisions of one debtor in ONE transaction: a row in
         `reminders`, its rows in reminder_items (INSERT ... ON CONFLICT DO
         NOTHING on UNIQUE (tenant, invoice_id, level): a re-run never
         decides twice; a conflict rolls the debtor back), last_level on the
         open items, the first delivery (outbox), the level's fees (UNIQUE
         per invoice and level), and a ReminderScheduled event on stream
         "reminders" (event_log in the same transaction, published after
         commit).
    Nothing is sent here: delivery.h sends what was committed.

    Preview mode (json != NULL) runs steps 1-3 only and describes, per
    debtor, what would go out today and why, or why it is held. */
#ifndef CREANCE_REMINDERS_DUNNING_H
#define CREANCE_REMINDERS_DUNNING_H

#include <jansson.h>
#include <stdint.h>
#include "bus.h"
#include "db.h"
#include "policy.h"

typedef struct {
    int64_t tenants;
    int64_t debtors;                /* debtors with candidate items */
    int64_t items;                  /* candidate items read */
    int64_t reminders;              /* decisions recorded (or previewed) */
    int64_t decided_items;
    int64_t held_debtors;
    int64_t conflicts;              /* debtors rolled back on the unique guard */
    int64_t errors;
} rem_pass_stats_t;

typedef struct rem_dunning_t rem_dunning_t;

/*  bus may be NULL (events then wait in event_log for the consumers' catch-up). */
rem_dunning_t *rem_dunning_new(db_t *db, bus_t *bus);
void rem_dunning_destroy(rem_dunning_t **self_p);

/*  Every tenant. 0, or -1 when the database failed (the next pass retries). */
int  rem_dunning_run(rem_dunning_t *self, int32_t today, int64_t now_s, rem_pass_stats_t *st);
/*  One tenant; `preview` non-NULL: dry run appending one object per
    decision or hold to that JSON array. */
int  rem_dunning_tenant(rem_dunning_t *self, const char *tenant, int32_t today, int64_t now_s,
                        json_t *preview, rem_pass_stats_t *st);

/*  The whole pass for one tenant, deciding nothing and describing nothing:
    only the counts (the preview's summary, and the benchmark). */
int  rem_dunning_dry_run(rem_dunning_t *self, const char *tenant, int32_t today, int64_t now_s,
                         rem_pass_stats_t *st);

/*  The ladders that apply to `tenant` (its own and the defaults, one per
    (tenant-specific, grade)) into `ladders`. 0 or -1 on a database error. */
int  rem_dunning_load_ladders(db_t *db, const char *tenant, rem_ladder_t *ladders, size_t max,
                              size_t *n);

/*  Rows read per page of candidates (tests lower it). */
void rem_dunning_set_page(rem_dunning_t *self, int rows);

#endif
