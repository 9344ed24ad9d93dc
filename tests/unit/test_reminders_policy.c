/*  Unit tests: reminders' pure dunning rules (policy.h): ladder level
    selection by days past due, ladder choice by grade, contact rules,
    channel fallback and grouping per debtor. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <limits.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "dates.h"
#include "../../services/reminders/policy.h"

static rem_level_t lvl(int level, int offset, rem_channel_t ch, rem_channel_t fb1, rem_channel_t fb2,
                       const char *tmpl)
{
    rem_level_t l = { 0 };
    l.level = level;
    l.offset_days = offset;
    l.channel = ch;
    if (fb1) l.fallback[l.n_fallback++] = fb1;
    if (fb2) l.fallback[l.n_fallback++] = fb2;
    strcpy(l.template_key, tmpl);
    strcpy(l.tone, "firm");
    return l;
}

/*  The default ladder of migration 0035, added out of order on purpose. */
static void default_ladder(rem_ladder_t *l)
{
    memset(l, 0, sizeof *l);
    rem_level_t v[] = {
        lvl(3, 10, REM_CH_EMAIL, REM_CH_LETTER, 0, "firm"),
        lvl(1, -5, REM_CH_EMAIL, REM_CH_SMS, REM_CH_LETTER, "courtesy"),
        lvl(2, 1, REM_CH_EMAIL, REM_CH_SMS, REM_CH_LETTER, "friendly"),
        lvl(6, 45, REM_CH_HANDOFF, 0, 0, "handoff"),
        lvl(4, 20, REM_CH_PHONE, REM_CH_EMAIL, 0, "phone_script"),
        lvl(5, 30, REM_CH_LETTER, REM_CH_EMAIL, 0, "formal_notice"),
    };
    for (size_t i = 0; i < sizeof v / sizeof v[0]; i++)
        assert_int_equal(rem_ladder_add(l, &v[i]), 0);
}

static void test_ladder_sorted_and_level_by_days(void **state)
{
    rem_ladder_t l;
    default_ladder(&l);
    for (int i = 0; i < l.n; i++)
        assert_int_equal(l.levels[i].level, i + 1);
    rem_level_t dup = lvl(3, 12, REM_CH_EMAIL, 0, 0, "x");
    assert_int_equal(rem_ladder_add(&l, &dup), -1);
    assert_int_equal(l.n, 6);
    assert_int_equal(rem_ladder_get(&l, 3)->offset_days, 10);
    assert_int_equal(rem_ladder_level_for(&l, -6), 0);
    assert_int_equal(rem_ladder_level_for(&l, -5), 1);
    assert_int_equal(rem_ladder_level_for(&l, 0), 1);
    assert_int_equal(rem_ladder_level_for(&l, 1), 2);
    assert_int_equal(rem_ladder_level_for(&l, 9), 2);
    assert_int_equal(rem_ladder_level_for(&l, 10), 3);
    assert_int_equal(rem_ladder_level_for(&l, 29), 4);
    assert_int_equal(rem_ladder_level_for(&l, 30), 5);
    assert_int_equal(rem_ladder_level_for(&l, 400), 6);
    assert_int_equal(rem_ladder_min_offset(&l), -5);
}

static void test_target_never_repeats_and_skips_to_the_highest(void **state)
{
    rem_ladder_t l;
    default_ladder(&l);
    /*  First seen 35 days late: the level of +30, not the four before it. */
    assert_int_equal(rem_ladder_target(&l, 35, 0, 0), 5);
    /*  Already decided: nothing. */
    assert_int_equal(rem_ladder_target(&l, 35, 0, 5), 0);
    assert_int_equal(rem_ladder_target(&l, 12, 0, 3), 0);
    /*  Next level once its offset is reached. */
    assert_int_equal(rem_ladder_target(&l, 20, 0, 3), 4);
    /*  Escalation (broken promise): one above the last, before its offset. */
    assert_int_equal(rem_ladder_target(&l, 2, 3, 2), 3);
    /*  Escalation past the top stays at the top, once. */
    assert_int_equal(rem_ladder_target(&l, 50, 7, 5), 6);
    assert_int_equal(rem_ladder_target(&l, 50, 7, 6), 0);
    /*  Before the first offset: nothing. */
    assert_int_equal(rem_ladder_target(&l, -10, 0, 0), 0);
    rem_ladder_t empty = { 0 };
    assert_int_equal(rem_ladder_target(&empty, 10, 0, 0), 0);
}

static void test_ladder_pick_by_grade(void **state)
{
    rem_ladder_t v[4];
    memset(v, 0, sizeof v);
    v[0].tenant_specific = false;                       /* default */
    v[1].tenant_specific = false; strcpy(v[1].grade, "E"); /* default, grade E */
    v[2].tenant_specific = true;                        /* the tenant's own */
    v[3].tenant_specific = true; strcpy(v[3].grade, "D");
    assert_ptr_equal(rem_ladder_pick(v, 2, ""), &v[0]);
    assert_ptr_equal(rem_ladder_pick(v, 2, "E"), &v[1]);
    assert_ptr_equal(rem_ladder_pick(v, 2, "B"), &v[0]);
    /*  The tenant's ladder wins over a default one, even graded. */
    assert_ptr_equal(rem_ladder_pick(v, 3, "E"), &v[2]);
    assert_ptr_equal(rem_ladder_pick(v, 4, "D"), &v[3]);
    assert_ptr_equal(rem_ladder_pick(v, 4, NULL), &v[2]);
    assert_null(rem_ladder_pick(&v[1], 1, "A"));
}

static void test_quiet_hours(void **state)
{
    rem_rules_t r;
    rem_rules_default(&r);                              /* 20:00 .. 08:00 */
    assert_true(rem_quiet_hours(&r, 20 * 60));
    assert_true(rem_quiet_hours(&r, 23 * 60 + 59));
    assert_true(rem_quiet_hours(&r, 0));
    assert_true(rem_quiet_hours(&r, 7 * 60 + 59));
    assert_false(rem_quiet_hours(&r, 8 * 60));
    assert_false(rem_quiet_hours(&r, 19 * 60 + 59));
    r.quiet_start_min = 12 * 60;                        /* not wrapping: 12:00 .. 14:00 */
    r.quiet_end_min = 14 * 60;
    assert_true(rem_quiet_hours(&r, 13 * 60));
    assert_false(rem_quiet_hours(&r, 14 * 60));
    assert_false(rem_quiet_hours(&r, 11 * 60));
    r.quiet_end_min = r.quiet_start_min;                /* none */
    assert_false(rem_quiet_hours(&r, 12 * 60));
}

static void test_contact_rules(void **state)
{
    rem_rules_t r;
    rem_rules_default(&r);
    int32_t today = date_to_days(2026, 3, 17);          /* a Tuesday */
    rem_local_t tue = { .date = today, .minute = 10 * 60, .weekday = 2, .zone_known = true };
    rem_local_t sun = { .date = today - 2, .minute = 10 * 60, .weekday = 0, .zone_known = true };
    rem_local_t night = { .date = today, .minute = 22 * 60, .weekday = 2, .zone_known = true };
    assert_int_equal(rem_contact_check(&r, &tue, false, today, INT32_MIN, 0), REM_HOLD_NONE);
    assert_int_equal(rem_contact_check(&r, &sun, false, today, INT32_MIN, 0), REM_HOLD_WEEKEND);
    assert_int_equal(rem_contact_check(&r, &tue, true, today, INT32_MIN, 0), REM_HOLD_HOLIDAY);
    assert_int_equal(rem_contact_check(&r, &night, false, today, INT32_MIN, 0), REM_HOLD_QUIET_HOURS);
    /*  Min days between contacts: 3. */
    assert_int_equal(rem_contact_check(&r, &tue, false, today, today - 2, 1), REM_HOLD_MIN_INTERVAL);
    assert_int_equal(rem_contact_check(&r, &tue, false, today, today - 3, 1), REM_HOLD_NONE);
    /*  Max 2 contact days per 7 days. */
    assert_int_equal(rem_contact_check(&r, &tue, false, today, today - 3, 2), REM_HOLD_WEEKLY_LIMIT);
    r.skip_weekends = false;
    r.skip_holidays = false;
    assert_int_equal(rem_contact_check(&r, &sun, true, today, INT32_MIN, 0), REM_HOLD_NONE);
    assert_string_equal(rem_hold_name(REM_HOLD_HOLIDAY), "public_holiday");
    assert_string_equal(rem_hold_name(REM_HOLD_WEEKLY_LIMIT), "max_contacts_per_7_days");
}

static void test_channel_fallback(void **state)
{
    rem_level_t l = lvl(1, -5, REM_CH_EMAIL, REM_CH_SMS, REM_CH_LETTER, "courtesy");
    unsigned all = REM_CH_BIT(REM_CH_EMAIL) | REM_CH_BIT(REM_CH_SMS) | REM_CH_BIT(REM_CH_LETTER)
                 | REM_CH_BIT(REM_CH_PHONE);
    rem_channel_t rest[REM_MAX_FALLBACK];
    int n;
    assert_int_equal(rem_pick_channel(&l, 0, all, rest, &n), REM_CH_EMAIL);
    assert_int_equal(n, 2);
    assert_int_equal(rest[0], REM_CH_SMS);
    assert_int_equal(rest[1], REM_CH_LETTER);
    /*  Opted out of e-mail (or bounced): SMS, then the letter is left. */
    assert_int_equal(rem_pick_channel(&l, REM_CH_BIT(REM_CH_EMAIL), all, rest, &n), REM_CH_SMS);
    assert_int_equal(n, 1);
    assert_int_equal(rest[0], REM_CH_LETTER);
    /*  No phone number and e-mail opted out: the letter. */
    unsigned no_phone = all & ~(REM_CH_BIT(REM_CH_SMS) | REM_CH_BIT(REM_CH_PHONE));
    assert_int_equal(rem_pick_channel(&l, REM_CH_BIT(REM_CH_EMAIL), no_phone, rest, &n), REM_CH_LETTER);
    assert_int_equal(n, 0);
    /*  Nothing usable. */
    assert_int_equal(rem_pick_channel(&l, REM_CH_BIT(REM_CH_EMAIL) | REM_CH_BIT(REM_CH_LETTER),
                                      no_phone, rest, &n), REM_CH_NONE);
    /*  A hand-off needs no address. */
    rem_level_t h = lvl(6, 45, REM_CH_HANDOFF, 0, 0, "handoff");
    assert_int_equal(rem_pick_channel(&h, 0, 0, rest, &n), REM_CH_HANDOFF);
    assert_int_equal(rem_channel_parse("sms"), REM_CH_SMS);
    assert_int_equal(rem_channel_parse("fax"), REM_CH_NONE);
    assert_int_equal(rem_channel_parse(NULL), REM_CH_NONE);
    assert_string_equal(rem_channel_name(REM_CH_LETTER), "letter");
}

/* ------------------------------------------------------------ grouping */

typedef struct {
    rem_ladder_t ladder;
    rem_rules_t rules;
    rem_debtor_ctx_t ctx;
    rem_item_t items[8];
    rem_plan_t plan;
} fx_t;

static int setup(void **state)
{
    fx_t *f = calloc(1, sizeof *f);
    default_ladder(&f->ladder);
    rem_rules_default(&f->rules);
    f->ctx.ladder = &f->ladder;
    f->ctx.rules = &f->rules;
    f->ctx.today = date_to_days(2026, 3, 17);
    f->ctx.local = (rem_local_t) { .date = f->ctx.today, .minute = 600, .weekday = 2, .zone_known = true };
    f->ctx.last_contact = INT32_MIN;
    f->ctx.available_mask = REM_CH_BIT(REM_CH_EMAIL) | REM_CH_BIT(REM_CH_SMS) | REM_CH_BIT(REM_CH_LETTER)
                          | REM_CH_BIT(REM_CH_PHONE);
    *state = f;
    return 0;
}

static int teardown(void **state)
{
    fx_t *f = *state;
    rem_plan_free(&f->plan);
    free(f);
    return 0;
}

static void item(fx_t *f, int i, int64_t id, int days_past_due, int64_t open, const char *cur)
{
    rem_item_t *it = &f->items[i];
    memset(it, 0, sizeof *it);
    it->invoice_id = id;
    it->days_past_due = days_past_due;
    it->due_date = f->ctx.today - days_past_due;
    it->open_minor = open;
    strcpy(it->currency, cur);
}

static void test_grouping_one_message_per_level(void **state)
{
    fx_t *f = *state;
    item(f, 0, 10, 1, 10000, "EUR");                    /* level 2 */
    item(f, 1, 11, 3, 25050, "EUR");                    /* level 2 */
    item(f, 2, 12, 12, 5000, "EUR");                    /* level 3 */
    item(f, 3, 13, -10, 9900, "EUR");                   /* not due */
    item(f, 4, 14, 2, 700, "GBP");                      /* level 2, other currency */
    assert_int_equal(rem_plan_debtor(&f->ctx, f->items, 5, &f->plan), 0);
    assert_int_equal(f->plan.n, 3);
    assert_int_equal(f->plan.v[0].level, 2);
    assert_string_equal(f->plan.v[0].currency, "EUR");
    assert_int_equal(f->plan.v[0].n, 2);
    assert_int_equal(f->plan.v[0].total_minor, 35050);
    assert_int_equal(f->items[f->plan.v[0].idx[0]].invoice_id, 10);
    assert_int_equal(f->items[f->plan.v[0].idx[1]].invoice_id, 11);
    assert_int_equal(f->plan.v[0].channel, REM_CH_EMAIL);
    assert_int_equal(f->plan.v[1].level, 2);
    assert_string_equal(f->plan.v[1].currency, "GBP");
    assert_int_equal(f->plan.v[2].level, 3);
    assert_int_equal(f->plan.v[2].n, 1);
    assert_int_equal(f->items[3].target, 0);
    assert_int_equal(f->items[3].hold, REM_HOLD_NOT_DUE);
    /*  Reused for the next debtor: nothing left over. */
    item(f, 0, 20, 1, 100, "EUR");
    assert_int_equal(rem_plan_debtor(&f->ctx, f->items, 1, &f->plan), 0);
    assert_int_equal(f->plan.n, 1);
    assert_int_equal(f->plan.v[0].n, 1);
}

static void test_pauses(void **state)
{
    fx_t *f = *state;
    item(f, 0, 1, 1, 10000, "EUR");
    f->items[0].disputed_minor = 10000;                 /* wholly disputed */
    item(f, 1, 2, 1, 8000, "EUR");
    f->items[1].disputed_minor = 5000;                  /* partly: 3000 dunned */
    item(f, 2, 3, 1, 4000, "EUR");
    f->items[2].in_plan = true;
    item(f, 3, 4, 1, 1000, "EUR");
    f->items[3].has_promise = true;                     /* promised for today - 3: grace 3 days */
    f->items[3].promise_date = f->ctx.today - 3;
    item(f, 4, 5, 1, 2000, "EUR");
    f->items[4].has_promise = true;                     /* lapsed: today - 4 + 3 < today */
    f->items[4].promise_date = f->ctx.today - 4;
    item(f, 5, 6, 1, 3000, "EUR");
    f->items[5].last_level = 2;                         /* already decided */
    assert_int_equal(rem_plan_debtor(&f->ctx, f->items, 6, &f->plan), 0);
    assert_int_equal(f->items[0].hold, REM_HOLD_DISPUTE);
    assert_int_equal(f->items[1].target, 2);
    assert_int_equal(f->items[2].hold, REM_HOLD_PLAN);
    assert_int_equal(f->items[3].hold, REM_HOLD_PROMISE);
    assert_int_equal(f->items[4].target, 2);
    assert_int_equal(f->items[5].hold, REM_HOLD_ALREADY_SENT);
    assert_int_equal(f->plan.n, 1);
    assert_int_equal(f->plan.v[0].n, 2);
    assert_int_equal(f->plan.v[0].total_minor, 3000 + 2000);
}

static void test_debtor_held_by_contact_rules_and_channels(void **state)
{
    fx_t *f = *state;
    item(f, 0, 1, 1, 10000, "EUR");
    f->ctx.last_contact = f->ctx.today - 1;
    assert_int_equal(rem_plan_debtor(&f->ctx, f->items, 1, &f->plan), 0);
    assert_int_equal(f->plan.n, 0);
    assert_int_equal(f->plan.debtor_hold, REM_HOLD_MIN_INTERVAL);
    assert_int_equal(f->items[0].hold, REM_HOLD_MIN_INTERVAL);
    f->ctx.last_contact = INT32_MIN;
    f->ctx.local.minute = 5 * 60;
    assert_int_equal(rem_plan_debtor(&f->ctx, f->items, 1, &f->plan), 0);
    assert_int_equal(f->plan.debtor_hold, REM_HOLD_QUIET_HOURS);
    f->ctx.local.minute = 600;
    /*  Every channel of level 2 opted out or missing: held, reason no_channel. */
    f->ctx.optout_mask = REM_CH_BIT(REM_CH_EMAIL) | REM_CH_BIT(REM_CH_SMS);
    f->ctx.available_mask = REM_CH_BIT(REM_CH_EMAIL) | REM_CH_BIT(REM_CH_SMS);
    assert_int_equal(rem_plan_debtor(&f->ctx, f->items, 1, &f->plan), 0);
    assert_int_equal(f->plan.n, 0);
    assert_int_equal(f->plan.debtor_hold, REM_HOLD_NO_CHANNEL);
    assert_int_equal(f->items[0].hold, REM_HOLD_NO_CHANNEL);
    /*  No ladder at all. */
    f->ctx.ladder = NULL;
    assert_int_equal(rem_plan_debtor(&f->ctx, f->items, 1, &f->plan), 0);
    assert_int_equal(f->items[0].hold, REM_HOLD_NO_LADDER);
}

/*  The ladder over simulated days, as the pass sees it: each day decides
    the level reached, once, and nothing in between. */
static void test_ladder_run_over_days(void **state)
{
    fx_t *f = *state;
    int32_t due = date_to_days(2026, 3, 16);
    int last = 0, decided = 0;
    int got[8] = { 0 };
    for (int32_t day = due - 10; day <= due + 60; day++) {
        f->ctx.today = day;
        f->ctx.local.date = day;
        f->ctx.local.weekday = (int) (((day % 7) + 7 + 4) % 7);   /* 1970-01-01 was a Thursday */
        item(f, 0, 1, day - due, 5000, "EUR");
        f->items[0].last_level = last;
        assert_int_equal(rem_plan_debtor(&f->ctx, f->items, 1, &f->plan), 0);
        if (f->plan.n) {
            assert_int_equal(f->plan.n, 1);
            last = f->plan.v[0].level;
            got[decided++] = day - due;
            f->ctx.last_contact = day;
        }
    }
    /*  -5 Wed, +1 Tue, +10 Thu, +20 Sun -> Mon +21 (holidays are the
        pass's, not tested here), +30 Wed, +45 Thu. */
    assert_int_equal(decided, 6);
    assert_int_equal(got[0], -5);
    assert_int_equal(got[1], 1);
    assert_int_equal(got[2], 10);
    assert_int_equal(got[3], 21);
    assert_int_equal(got[4], 30);
    assert_int_equal(got[5], 45);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_ladder_sorted_and_level_by_days),
        cmocka_unit_test(test_target_never_repeats_and_skips_to_the_highest),
        cmocka_unit_test(test_ladder_pick_by_grade),
        cmocka_unit_test(test_quiet_hours),
        cmocka_unit_test(test_contact_rules),
        cmocka_unit_test(test_channel_fallback),
        cmocka_unit_test_setup_teardown(test_grouping_one_message_per_level, setup, teardown),
        cmocka_unit_test_setup_teardown(test_pauses, setup, teardown),
        cmocka_unit_test_setup_teardown(test_debtor_held_by_contact_rules_and_channels, setup, teardown),
        cmocka_unit_test_setup_teardown(test_ladder_run_over_days, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
