/*  Unit tests: KPI arithmetic (services/reporting/kpi.c) and the pure
    helpers of the KPI API (CSV, calendar months). Every expected value is
    worked out by hand in the comments. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "dates.h"
#include "../../services/reporting/kpi.h"
#include "../../services/reporting/kpiapi.h"

static void test_age_buckets(void **state)
{
    /*  Due today or later is not yet due; then 1-30, 31-60, 61-90, 91-180, >180. */
    assert_int_equal(rpt_age_bucket(-10), RPT_AGE_NOT_DUE);
    assert_int_equal(rpt_age_bucket(0), RPT_AGE_NOT_DUE);
    assert_int_equal(rpt_age_bucket(1), RPT_AGE_1_30);
    assert_int_equal(rpt_age_bucket(30), RPT_AGE_1_30);
    assert_int_equal(rpt_age_bucket(31), RPT_AGE_31_60);
    assert_int_equal(rpt_age_bucket(60), RPT_AGE_31_60);
    assert_int_equal(rpt_age_bucket(61), RPT_AGE_61_90);
    assert_int_equal(rpt_age_bucket(90), RPT_AGE_61_90);
    assert_int_equal(rpt_age_bucket(91), RPT_AGE_91_180);
    assert_int_equal(rpt_age_bucket(180), RPT_AGE_91_180);
    assert_int_equal(rpt_age_bucket(181), RPT_AGE_OVER_180);
    assert_string_equal(rpt_age_bucket_names[RPT_AGE_91_180], "91_180");
}

static void test_ratio_rounding(void **state)
{
    int64_t v;
    /*  1/3 * 10000 = 3333.33 -> 3333; 2/3 -> 6666.67 -> 6667. */
    assert_true(rpt_ratio(1, 3, 10000, &v));
    assert_int_equal(v, 3333);
    assert_true(rpt_ratio(2, 3, 10000, &v));
    assert_int_equal(v, 6667);
    /*  Halves round away from zero: 1/8 * 100 = 12.5 -> 13, -12.5 -> -13. */
    assert_true(rpt_ratio(1, 8, 100, &v));
    assert_int_equal(v, 13);
    assert_true(rpt_ratio(-1, 8, 100, &v));
    assert_int_equal(v, -13);
    assert_true(rpt_ratio(1, -8, 100, &v));
    assert_int_equal(v, -13);
    /*  No denominator, no value. */
    v = 42;
    assert_false(rpt_ratio(5, 0, 100, &v));
    assert_int_equal(v, 42);
    /*  Large amounts do not overflow: 10^15 * 10000 / 10^15 = 10000. */
    assert_true(rpt_ratio(1000000000000000LL, 1000000000000000LL, 10000, &v));
    assert_int_equal(v, 10000);
    /*  A result beyond int64 is refused. */
    assert_false(rpt_ratio(INT64_MAX, 1, 10, &v));
}

static void test_dso_simple(void **state)
{
    int64_t v;
    /*  120000 receivables, 230000 sales over 91 days:
        120000 * 91 / 230000 = 47.478... days -> x10 474.78 -> 475. */
    assert_true(rpt_dso_simple_x10(120000, 230000, 91, &v));
    assert_int_equal(v, 475);
    /*  Best DSO, current receivables 70000: 70000 * 91 / 230000 = 27.696 -> 277. */
    assert_true(rpt_dso_simple_x10(70000, 230000, 91, &v));
    assert_int_equal(v, 277);
    /*  No sales: undefined. */
    assert_false(rpt_dso_simple_x10(120000, 0, 91, &v));
}

static void test_dso_countback(void **state)
{
    int64_t v;
    bool exhausted;
    /*  Months back from 2024-03-31: March 70000 (31 d), February 60000
        (29 d), January 100000 (31 d). Receivables 120000:
        March fully (31 d, 50000 left), then 50000 / 60000 * 29 = 24.1667 d.
        Total 55.1667 -> x10: 310 + round(241.667) = 552. */
    int64_t sales[] = { 70000, 60000, 100000 };
    int32_t days[] = { 31, 29, 31 };
    assert_true(rpt_dso_countback_x10(120000, sales, days, 3, &v, &exhausted));
    assert_int_equal(v, 552);
    assert_false(exhausted);
    /*  Receivables inside the first month: 35000 / 70000 * 31 = 15.5 -> 155. */
    assert_true(rpt_dso_countback_x10(35000, sales, days, 3, &v, &exhausted));
    assert_int_equal(v, 155);
    /*  Exactly two months' sales: 130000 = 70000 + 60000 -> 31 + 29 = 60 d. */
    assert_true(rpt_dso_countback_x10(130000, sales, days, 3, &v, &exhausted));
    assert_int_equal(v, 600);
    /*  A month without sales counts all its days: {0, 60000}, 30000 ->
        31 + 30000/60000*29 = 31 + 14.5 = 45.5 -> 455. */
    int64_t gap[] = { 0, 60000 };
    assert_true(rpt_dso_countback_x10(30000, gap, days, 2, &v, &exhausted));
    assert_int_equal(v, 455);
    /*  More receivables than all the sales: every day counted, flagged. */
    assert_true(rpt_dso_countback_x10(1000000, sales, days, 3, &v, &exhausted));
    assert_int_equal(v, 910);
    assert_true(exhausted);
    /*  Nothing owed: 0 days. */
    assert_true(rpt_dso_countback_x10(0, sales, days, 3, &v, &exhausted));
    assert_int_equal(v, 0);
    assert_false(rpt_dso_countback_x10(100, sales, days, 0, &v, &exhausted));
}

static void test_cei_and_turnover(void **state)
{
    int64_t v;
    /*  Opening 70000, sales 230000, closing 120000, closing current 70000:
        (70000 + 230000 - 120000) / (70000 + 230000 - 70000) = 180000 / 230000
        = 78.2609 % -> 7826 bp. */
    assert_true(rpt_cei_bp(70000, 230000, 120000, 70000, &v));
    assert_int_equal(v, 7826);
    /*  Everything collected: closing = closing current -> 100 %. */
    assert_true(rpt_cei_bp(1000, 5000, 2000, 2000, &v));
    assert_int_equal(v, 10000);
    /*  Nothing to collect: undefined. */
    assert_false(rpt_cei_bp(0, 0, 0, 0, &v));
    /*  Turnover: 230000 / ((70000 + 120000) / 2) = 2.42105 -> x100 242. */
    assert_true(rpt_turnover_x100(230000, 70000, 120000, &v));
    assert_int_equal(v, 242);
    assert_false(rpt_turnover_x100(230000, 0, 0, &v));
}

static void test_month_back(void **state)
{
    int32_t to = date_to_days(2024, 3, 15), f, l, d;
    /*  Month 0 is the partial current month: 1 to 15 March = 15 days. */
    rpt_month_back(to, 0, &f, &l, &d);
    assert_int_equal(f, date_to_days(2024, 3, 1));
    assert_int_equal(l, to);
    assert_int_equal(d, 15);
    /*  Month 1: February of a leap year, 29 days. */
    rpt_month_back(to, 1, &f, &l, &d);
    assert_int_equal(f, date_to_days(2024, 2, 1));
    assert_int_equal(l, date_to_days(2024, 2, 29));
    assert_int_equal(d, 29);
    /*  Month 3 crosses the year: December 2023, 31 days. */
    rpt_month_back(to, 3, &f, &l, &d);
    assert_int_equal(f, date_to_days(2023, 12, 1));
    assert_int_equal(d, 31);
    /*  14 months back from March 2024 is January 2023. */
    rpt_month_back(to, 14, &f, &l, &d);
    assert_int_equal(f, date_to_days(2023, 1, 1));
}

static void test_csv(void **state)
{
    json_t *rows = json_pack("[{s:s, s:I, s:n}, {s:s, s:I, s:n}]",
                             "name", "Dupont, \"fils\"", "open_minor", (json_int_t) 1250, "dso", 
                             "name", "Martin", "open_minor", (json_int_t) -3, "dso");
    assert_non_null(rows);
    char *csv = rpt_csv_from_rows(rows);
    assert_string_equal(csv, "name,open_minor,dso\r\n"
                             "\"Dupont, \"\"fils\"\"\",1250,\r\n"
                             "Martin,-3,\r\n");
    free(csv);
    json_decref(rows);
    json_t *empty = json_array();
    csv = rpt_csv_from_rows(empty);
    assert_string_equal(csv, "");
    free(csv);
    json_decref(empty);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_age_buckets),
        cmocka_unit_test(test_ratio_rounding),
        cmocka_unit_test(test_dso_simple),
        cmocka_unit_test(test_dso_countback),
        cmocka_unit_test(test_cei_and_turnover),
        cmocka_unit_test(test_month_back),
        cmocka_unit_test(test_csv),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
