/*  Unit tests of the watcher's decisions (services/intake/watch.c): given a
    promise or a plan's instalments and the days the payments covered them,
    what outcome and on which day. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <string.h>

#include "dates.h"
#include "../../services/intake/watch.h"

#define NO INTAKE_WATCH_NO_DAY

static const intake_watch_rules_t s_rules = {
    .promise_grace_days = 3, .instalment_grace_days = 3, .default_missed = 2, .default_days = 30
};

static int32_t D(const char *iso)
{
    int32_t d = 0;
    assert_true(date_parse(iso, &d));
    return d;
}

static void test_promise_kept_on_the_day_the_sum_is_reached(void **state)
{
    int32_t day = 0;
    /* Paid before the promised date: kept, dated by the payment. */
    assert_int_equal(intake_watch_promise(D("2024-03-20"), D("2024-03-18"), D("2024-03-19"), &s_rules, &day),
                     INTAKE_WATCH_KEPT);
    assert_int_equal(day, D("2024-03-18"));
    /* Paid within the grace, judged long after: still kept. */
    assert_int_equal(intake_watch_promise(D("2024-03-20"), D("2024-03-23"), D("2025-01-01"), &s_rules, &day),
                     INTAKE_WATCH_KEPT);
    assert_int_equal(day, D("2024-03-23"));
}

static void test_promise_broken_after_grace(void **state)
{
    int32_t day = 0;
    /* Nothing paid; the last day of grace is still open. */
    assert_int_equal(intake_watch_promise(D("2024-03-20"), NO, D("2024-03-23"), &s_rules, &day),
                     INTAKE_WATCH_WAIT);
    assert_int_equal(day, NO);
    /* The day after the grace: broken, dated that day whatever today is. */
    assert_int_equal(intake_watch_promise(D("2024-03-20"), NO, D("2024-03-24"), &s_rules, &day),
                     INTAKE_WATCH_BROKEN);
    assert_int_equal(day, D("2024-03-24"));
    assert_int_equal(intake_watch_promise(D("2024-03-20"), NO, D("2024-06-01"), &s_rules, &day),
                     INTAKE_WATCH_BROKEN);
    assert_int_equal(day, D("2024-03-24"));
    /* Reached only after the grace: broken, not kept. */
    assert_int_equal(intake_watch_promise(D("2024-03-20"), D("2024-03-24"), D("2024-03-30"), &s_rules, &day),
                     INTAKE_WATCH_BROKEN);
    /* A payment dated in the future is not a fact yet. */
    assert_int_equal(intake_watch_promise(D("2024-03-20"), D("2024-03-19"), D("2024-03-10"), &s_rules, &day),
                     INTAKE_WATCH_WAIT);
    /* Grace 0 from the rules. */
    intake_watch_rules_t strict = s_rules;
    strict.promise_grace_days = 0;
    assert_int_equal(intake_watch_promise(D("2024-03-20"), NO, D("2024-03-21"), &strict, &day),
                     INTAKE_WATCH_BROKEN);
    assert_int_equal(day, D("2024-03-21"));
}

static intake_watch_instalment_t I(int n, const char *due, int64_t amount, const char *covered)
{
    intake_watch_instalment_t in;
    memset(&in, 0, sizeof in);
    in.number = n;
    in.due = D(due);
    in.amount_minor = amount;
    in.status = INTAKE_WATCH_WAIT;
    in.covered = covered ? D(covered) : NO;
    return in;
}

static void test_plan_one_paid_one_missed(void **state)
{
    intake_watch_instalment_t ins[] = {
        I(1, "2024-04-01", 3000, "2024-03-28"),
        I(2, "2024-05-01", 3000, NULL),
        I(3, "2024-06-01", 3000, NULL),
    };
    int32_t day = 0;
    assert_int_equal(intake_watch_plan(ins, 3, D("2024-05-10"), &s_rules, &day), INTAKE_WATCH_WAIT);
    assert_int_equal(ins[0].decided, INTAKE_WATCH_PAID);
    assert_int_equal(ins[0].decided_day, D("2024-03-28"));
    assert_int_equal(ins[1].decided, INTAKE_WATCH_MISSED);
    assert_int_equal(ins[1].decided_day, D("2024-05-05"));
    assert_int_equal(ins[2].decided, INTAKE_WATCH_WAIT);
}

static void test_plan_nothing_decided_before_due_plus_grace(void **state)
{
    intake_watch_instalment_t ins[] = { I(1, "2024-04-01", 3000, NULL), I(2, "2024-05-01", 3000, NULL) };
    int32_t day = 0;
    assert_int_equal(intake_watch_plan(ins, 2, D("2024-04-04"), &s_rules, &day), INTAKE_WATCH_WAIT);
    assert_int_equal(ins[0].decided, INTAKE_WATCH_WAIT);
    assert_int_equal(ins[1].decided, INTAKE_WATCH_WAIT);
    /* Covered late (after the grace): missed, and stays so. */
    ins[0].covered = D("2024-04-10");
    assert_int_equal(intake_watch_plan(ins, 2, D("2024-04-20"), &s_rules, &day), INTAKE_WATCH_WAIT);
    assert_int_equal(ins[0].decided, INTAKE_WATCH_MISSED);
}

static void test_plan_defaults_on_second_miss(void **state)
{
    intake_watch_instalment_t ins[] = {
        I(1, "2024-04-01", 3000, NULL), I(2, "2024-05-01", 3000, NULL), I(3, "2024-06-01", 3000, NULL)
    };
    ins[0].status = INTAKE_WATCH_MISSED;            /* decided by an earlier run */
    int32_t day = 0;
    /* One missed, 25 days uncovered: not yet. */
    assert_int_equal(intake_watch_plan(ins, 3, D("2024-04-29"), &s_rules, &day), INTAKE_WATCH_WAIT);
    assert_int_equal(ins[0].decided, INTAKE_WATCH_WAIT);      /* already decided: left alone */
    /* Second miss on 05-05. */
    assert_int_equal(intake_watch_plan(ins, 3, D("2024-05-06"), &s_rules, &day), INTAKE_WATCH_DEFAULTED);
    assert_int_equal(ins[1].decided, INTAKE_WATCH_MISSED);
    assert_int_equal(day, D("2024-05-05"));
}

static void test_plan_defaults_after_long_miss(void **state)
{
    intake_watch_instalment_t ins[] = { I(1, "2024-04-01", 3000, NULL), I(2, "2024-09-01", 3000, NULL) };
    int32_t day = 0;
    /* Missed on 04-05, uncovered through 05-04 (30 days): defaulted on 05-05. */
    assert_int_equal(intake_watch_plan(ins, 2, D("2024-05-04"), &s_rules, &day), INTAKE_WATCH_WAIT);
    assert_int_equal(intake_watch_plan(ins, 2, D("2024-05-05"), &s_rules, &day), INTAKE_WATCH_DEFAULTED);
    assert_int_equal(day, D("2024-05-05"));
    /* Caught up within the 30 days: no default. */
    ins[0].covered = D("2024-04-20");
    assert_int_equal(intake_watch_plan(ins, 2, D("2024-06-01"), &s_rules, &day), INTAKE_WATCH_WAIT);
    assert_int_equal(ins[0].decided, INTAKE_WATCH_MISSED);
}

static void test_plan_completed_when_all_covered(void **state)
{
    intake_watch_instalment_t ins[] = { I(1, "2024-04-01", 3000, "2024-03-30"),
                                        I(2, "2024-05-01", 3000, "2024-04-30") };
    int32_t day = 0;
    assert_int_equal(intake_watch_plan(ins, 2, D("2024-05-02"), &s_rules, &day), INTAKE_WATCH_COMPLETED);
    assert_int_equal(day, D("2024-04-30"));
    assert_int_equal(ins[0].decided, INTAKE_WATCH_PAID);
    assert_int_equal(ins[1].decided, INTAKE_WATCH_PAID);
    assert_int_equal(ins[1].decided_day, D("2024-04-30"));
    /* Paid all at once, early: everything paid that day. */
    intake_watch_instalment_t early[] = { I(1, "2024-04-01", 3000, "2024-03-15"),
                                          I(2, "2024-05-01", 3000, "2024-03-15") };
    assert_int_equal(intake_watch_plan(early, 2, D("2024-03-16"), &s_rules, &day), INTAKE_WATCH_COMPLETED);
    assert_int_equal(day, D("2024-03-15"));
    /* Completion after the default day: defaulted. */
    intake_watch_instalment_t late[] = { I(1, "2024-04-01", 3000, "2024-06-01"),
                                         I(2, "2024-05-01", 3000, "2024-06-01") };
    assert_int_equal(intake_watch_plan(late, 2, D("2024-06-02"), &s_rules, &day), INTAKE_WATCH_DEFAULTED);
    assert_int_equal(day, D("2024-05-05"));
    assert_int_equal(late[0].decided, INTAKE_WATCH_MISSED);
    assert_int_equal(late[1].decided, INTAKE_WATCH_MISSED);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_promise_kept_on_the_day_the_sum_is_reached),
        cmocka_unit_test(test_promise_broken_after_grace),
        cmocka_unit_test(test_plan_one_paid_one_missed),
        cmocka_unit_test(test_plan_nothing_decided_before_due_plus_grace),
        cmocka_unit_test(test_plan_defaults_on_second_miss),
        cmocka_unit_test(test_plan_defaults_after_long_miss),
        cmocka_unit_test(test_plan_completed_when_all_covered),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
