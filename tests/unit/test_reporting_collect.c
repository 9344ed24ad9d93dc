/*  Unit tests: the pure functions of reporting's collection KPIs: which
    reminders a payment counts for and the channel names rpt_channel_costs
    is keyed by (collect.c), the week of a forecast snapshot (forecast.c),
    roll rates (kpi.c), collector names (segments.c). Expected values are
    worked out by hand in the comments. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdbool.h>
#include <stdint.h>
#include <string.h>
#include <cmocka.h>

#include "dates.h"
#include "../../services/reporting/collect.h"
#include "../../services/reporting/forecast.h"
#include "../../services/reporting/kpi.h"
#include "../../services/reporting/segments.h"

static void test_reminder_windows(void **state)
{
    int32_t sent = date_to_days(2024, 2, 1);
    bool s7, s14;
    /*  Paid the day it was sent: within both windows. */
    rpt_reminder_credit(sent, sent, &s7, &s14);
    assert_true(s7 && s14);
    /*  02-08 is 7 days after 02-01: still within 7. */
    rpt_reminder_credit(sent, date_to_days(2024, 2, 8), &s7, &s14);
    assert_true(s7 && s14);
    /*  02-09: 8 days, only within 14. */
    rpt_reminder_credit(sent, date_to_days(2024, 2, 9), &s7, &s14);
    assert_false(s7);
    assert_true(s14);
    /*  02-15: 14 days, the last day of the long window; 02-16 is out. */
    rpt_reminder_credit(sent, date_to_days(2024, 2, 15), &s7, &s14);
    assert_true(s14);
    rpt_reminder_credit(sent, date_to_days(2024, 2, 16), &s7, &s14);
    assert_false(s7 || s14);
    /*  Paid the day before: the reminder did not bring it. */
    rpt_reminder_credit(sent, date_to_days(2024, 1, 31), &s7, &s14);
    assert_false(s7 || s14);
    /*  Across a month end in a leap year: 02-25 + 7 = 03-03. */
    sent = date_to_days(2024, 2, 25);
    rpt_reminder_credit(sent, date_to_days(2024, 3, 3), &s7, &s14);
    assert_true(s7);
    rpt_reminder_credit(sent, date_to_days(2024, 3, 4), &s7, &s14);
    assert_false(s7);
    assert_true(s14);
}

static void test_channel_names(void **state)
{
    /*  The names reminders uses, which rpt_channel_costs is keyed by. */
    assert_string_equal(rpt_channel_name(CREANCE__CHANNEL__EMAIL), "email");
    assert_string_equal(rpt_channel_name(CREANCE__CHANNEL__SMS), "sms");
    assert_string_equal(rpt_channel_name(CREANCE__CHANNEL__LETTER), "letter");
    assert_string_equal(rpt_channel_name(CREANCE__CHANNEL__PHONE), "phone");
    assert_string_equal(rpt_channel_name(CREANCE__CHANNEL__HANDOFF), "handoff");
    assert_string_equal(rpt_channel_name(CREANCE__CHANNEL__CHANNEL_UNSPECIFIED), "unspecified");
    assert_string_equal(rpt_channel_name(99), "unspecified");
}

static void test_forecast_monday(void **state)
{
    /*  2024-01-01 was a Monday; 2024-03-31 a Sunday (its Monday: 03-25);
        1970-01-01 a Thursday (its Monday: 1969-12-29, day -3). */
    int32_t mon = date_to_days(2024, 1, 1);
    assert_int_equal(rpt_forecast_monday(mon), mon);
    assert_int_equal(rpt_forecast_monday(mon + 6), mon);
    assert_int_equal(rpt_forecast_monday(mon + 7), mon + 7);
    assert_int_equal(rpt_forecast_monday(date_to_days(2024, 3, 31)), date_to_days(2024, 3, 25));
    assert_int_equal(rpt_forecast_monday(0), -3);
    assert_int_equal(rpt_forecast_monday(-4), -10);
}

static void test_roll_add(void **state)
{
    /*  Start 2024-01-31, end 2024-02-29 (29 days later). */
    int32_t s = date_to_days(2024, 1, 31), e = date_to_days(2024, 2, 29);
    int64_t from[RPT_AGE_BUCKETS] = { 0 }, still[RPT_AGE_BUCKETS] = { 0 },
            rolled[RPT_AGE_BUCKETS] = { 0 };
    /*  Due 01-15: 16 days late at the start (1_30), 45 at the end: rolls. */
    rpt_roll_add(s, e, date_to_days(2024, 1, 15), 10000, 10000, from, still, rolled);
    /*  Due 01-20 (1_30), paid in between: cured. */
    rpt_roll_add(s, e, date_to_days(2024, 1, 20), 20000, 0, from, still, rolled);
    assert_int_equal(from[RPT_AGE_1_30], 30000);
    assert_int_equal(still[RPT_AGE_1_30], 10000);
    assert_int_equal(rolled[RPT_AGE_1_30], 10000);
    /*  Due 03-15: not due at either end: still open, not rolled. */
    rpt_roll_add(s, e, date_to_days(2024, 3, 15), 40000, 40000, from, still, rolled);
    assert_int_equal(from[RPT_AGE_NOT_DUE], 40000);
    assert_int_equal(still[RPT_AGE_NOT_DUE], 40000);
    assert_int_equal(rolled[RPT_AGE_NOT_DUE], 0);
    /*  Due 2023-10-01: 122 days late, then 151: stays in 91_180; it grew
        by an adjustment (6000 > 5000): only what was there counts. */
    rpt_roll_add(s, e, date_to_days(2023, 10, 1), 5000, 6000, from, still, rolled);
    assert_int_equal(still[RPT_AGE_91_180], 5000);
    assert_int_equal(rolled[RPT_AGE_91_180], 0);
    /*  Nothing open at the start: nothing counted. */
    rpt_roll_add(s, e, date_to_days(2024, 1, 10), 0, 7000, from, still, rolled);
    assert_int_equal(from[RPT_AGE_1_30], 30000);
}

static void test_collector_names(void **state)
{
    assert_true(rpt_collector_name_ok(""));
    assert_true(rpt_collector_name_ok("alice"));
    assert_true(rpt_collector_name_ok("j.dupont@agence-nord_2"));
    assert_false(rpt_collector_name_ok("bob smith"));
    assert_false(rpt_collector_name_ok("a,b"));
    assert_false(rpt_collector_name_ok("élodie"));
    char longest[65];
    memset(longest, 'x', 63);
    longest[63] = '\0';
    assert_true(rpt_collector_name_ok(longest));
    longest[63] = 'x';
    longest[64] = '\0';
    assert_false(rpt_collector_name_ok(longest));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_reminder_windows),
        cmocka_unit_test(test_channel_names),
        cmocka_unit_test(test_forecast_monday),
        cmocka_unit_test(test_roll_add),
        cmocka_unit_test(test_collector_names),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
