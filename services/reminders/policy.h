/*  policy: the pure rules of dunning, kept apart from the database so that
    every rule is unit tested.

      ladders      levels with an offset from the due date (negative: before
                   it), a channel and fallbacks, a template and a tone;
                   rem_ladder_target() says which level an invoice is due
                   for, never a level at or below the last one decided for
                   it (at most once per (invoice, level)), and only the
                   highest level reached: an invoice first seen 35 days late
                   gets the level of +30, not the five before it;
      contact      min days between two contacts, max contact days per 7
                   days, quiet hours, weekends and public holidays, judged in
                   the debtor's local time (tzlocal.h);
      channels     the level's channel, else its fallbacks in order, skipping
                   opted-out or bounced channels and channels without an
                   address;
      grouping     rem_plan_debtor(): one debtor's open items -> one message
                   per (level, currency) listing every invoice that reached
                   that level, or the reason it is held.

    Pauses on an item: an open dispute leaves out the disputed part (the
    whole invoice when nothing else is open), an active payment plan holds
    it (instalment reminders replace dunning), a promise to pay holds it
    until its date plus the grace days. A broken promise or a missed
    instalment sets min_level above the last level decided: escalation. */
#ifndef CREANCE_REMINDERS_POLICY_H
#define CREANCE_REMINDERS_POLICY_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

typedef enum {
    REM_CH_NONE = 0,
    REM_CH_EMAIL = 1,
    REM_CH_SMS = 2,
    REM_CH_LETTER = 3,
    REM_CH_PHONE = 4,
    REM_CH_HANDOFF = 5
} rem_channel_t;

#define REM_CH_BIT(c) (1u << (c))

const char   *rem_channel_name(rem_channel_t c);     /* "email", ...; "none" */
rem_channel_t rem_channel_parse(const char *s);      /* REM_CH_NONE when unknown */

#define REM_MAX_LEVELS 20
#define REM_MAX_FALLBACK 4

typedef struct {
    int level;
    int offset_days;
    rem_channel_t channel;
    rem_channel_t fallback[REM_MAX_FALLBACK];
    int n_fallback;
    char template_key[48];
    char tone[16];
    int64_t fee_minor;
} rem_level_t;

typedef struct {
    bool tenant_specific;           /* false: the default ladder (tenant NULL) */
    char grade[2];                  /* "" : any grade */
    rem_level_t levels[REM_MAX_LEVELS];
    int n;                          /* sorted by level */
} rem_ladder_t;

/*  Adds a level keeping the ladder sorted; -1 when full or a duplicate. */
int  rem_ladder_add(rem_ladder_t *l, const rem_level_t *lv);
const rem_level_t *rem_ladder_get(const rem_ladder_t *l, int level);
/*  Highest level whose offset is reached at `days_past_due`, 0 if none. */
int  rem_ladder_level_for(const rem_ladder_t *l, int days_past_due);
/*  The level to decide now, 0 for none: max(level by days, min_level),
    capped at the ladder's top, and only if above last_level. */
int  rem_ladder_target(const rem_ladder_t *l, int days_past_due, int min_level, int last_level);
/*  The smallest offset of the ladder (how far before the due date it
    starts), 0 for an empty ladder. */
int  rem_ladder_min_offset(const rem_ladder_t *l);

/*  Most specific ladder among `v` for (grade): tenant+grade, tenant,
    default+grade, default. NULL when none. */
const rem_ladder_t *rem_ladder_pick(const rem_ladder_t *v, size_t n, const char *grade);

typedef struct {
    int min_days_between;
    int max_per_7_days;
    int quiet_start_min;            /* minutes after local midnight */
    int quiet_end_min;
    bool skip_weekends;
    bool skip_holidays;
    int promise_grace_days;
    int instalment_notice_days;
    int limitation_warning_days;
} rem_rules_t;

void rem_rules_default(rem_rules_t *r);

/*  Local calendar and clock of a debtor (tzlocal.h fills it). */
typedef struct {
    int32_t date;                   /* days since epoch, local */
    int minute;                     /* 0..1439 */
    int weekday;                    /* 0 Sunday .. 6 Saturday */
    bool zone_known;                /* false: unknown zone, UTC was used */
} rem_local_t;

typedef enum {
    REM_HOLD_NONE = 0,
    REM_HOLD_DISPUTE,
    REM_HOLD_PLAN,
    REM_HOLD_PROMISE,
    REM_HOLD_QUIET_HOURS,
    REM_HOLD_WEEKEND,
    REM_HOLD_HOLIDAY,
    REM_HOLD_MIN_INTERVAL,
    REM_HOLD_WEEKLY_LIMIT,
    REM_HOLD_NO_CHANNEL,
    REM_HOLD_NO_LADDER,
    REM_HOLD_ALREADY_SENT,          /* the level reached was decided before */
    REM_HOLD_NOT_DUE                /* before the ladder's first offset */
} rem_hold_t;

const char *rem_hold_name(rem_hold_t h);

bool rem_quiet_hours(const rem_rules_t *r, int minute);
/*  May this debtor be contacted now? `last_contact` is the local... date of
    the last decided reminder (INT32_MIN when never), `contact_days_7` the
    number of days with a decision in the 7 days ending today. */
rem_hold_t rem_contact_check(const rem_rules_t *r, const rem_local_t *local, bool holiday,
                             int32_t today, int32_t last_contact, int contact_days_7);

/*  The channel to use for `lv`: its own, else the first fallback that is
    neither opted out nor unavailable. The fallbacks after the chosen one go
    to `rest`. REM_CH_NONE when nothing is left. Handoff is always
    available; an available mask bit means the debtor has the address. */
rem_channel_t rem_pick_channel(const rem_level_t *lv, unsigned optout_mask, unsigned available_mask,
                               rem_channel_t rest[REM_MAX_FALLBACK], int *n_rest);

/*  Neither opted out nor without an address (handoff: always). */
bool rem_channel_usable(rem_channel_t c, unsigned optout_mask, unsigned available_mask);

/* ------------------------------------------------------------ grouping */

typedef struct {
    int64_t invoice_id;
    int32_t due_date;
    int days_past_due;
    char currency[4];
    int64_t open_minor;
    int64_t disputed_minor;
    bool in_plan;
    bool has_promise;
    int32_t promise_date;
    int min_level;
    int last_level;
    /* out */
    int target;                     /* level decided for it, 0 when none */
    rem_hold_t hold;                /* why not, when target is 0 */
} rem_item_t;

typedef struct {
    int level;
    char currency[4];
    rem_channel_t channel;
    rem_channel_t rest[REM_MAX_FALLBACK];
    int n_rest;
    const rem_level_t *lv;
    size_t *idx;                    /* indices into the items */
    size_t n;
    int64_t total_minor;            /* undisputed open amount of the items */
} rem_group_t;

typedef struct {
    rem_group_t *v;
    size_t n, cap;
    rem_hold_t debtor_hold;         /* set when items were due but the debtor is held */
    size_t n_due;                   /* items with a target before the debtor check */
} rem_plan_t;

typedef struct {
    const rem_ladder_t *ladder;
    const rem_rules_t *rules;
    int32_t today;
    rem_local_t local;
    bool holiday;
    int32_t last_contact;
    int contact_days_7;
    unsigned optout_mask;
    unsigned available_mask;
} rem_debtor_ctx_t;

/*  Pure. Fills items[i].target/hold and `plan` (groups ordered by level,
    then currency). Returns 0, or -1 when memory ran out. Release with
    rem_plan_free; reusable after rem_plan_reset. */
int  rem_plan_debtor(const rem_debtor_ctx_t *ctx, rem_item_t *items, size_t n, rem_plan_t *plan);
void rem_plan_reset(rem_plan_t *plan);
void rem_plan_free(rem_plan_t *plan);

#endif
