/*  risk: the scorecard, its grades and the JSON snapshot
    (services/risk/scorecard.c, snapshot.c). */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "../../services/risk/scorecard.h"
#include "../../services/risk/snapshot.h"
#include "dates.h"

static risk_inputs_t
s_clean(void)
{
    risk_inputs_t in;
    memset(&in, 0, sizeof in);
    memcpy(in.currency, "EUR", 4);
    return in;
}

static int
s_points(const risk_score_t *s, const char *name)
{
    for (int i = 0; i < s->nfactors; i++)
        if (strcmp(s->factors[i].name, name) == 0)
            return s->factors[i].points;
    fail_msg("no factor %s", name);
    return 0;
}

static void
s_assert_sum(const risk_score_t *s)
{
    int sum = 0;
    for (int i = 0; i < s->nfactors; i++)
        sum += s->factors[i].points;
    assert_int_equal(sum, s->score);
}

static void
test_clean_debtor_is_a(void **state)
{
    risk_policy_t p;
    risk_policy_defaults(&p);
    risk_inputs_t in = s_clean();
    risk_score_t s;
    risk_score_compute(&in, &p, &s);
    assert_int_equal(s.score, 1000);
    assert_int_equal(s.grade, 'A');
    assert_int_equal(s.nfactors, 10);
    assert_int_equal(s_points(&s, "base"), 1000);
    assert_int_equal(s_points(&s, "overdue_ratio"), 0);
    s_assert_sum(&s);
}

/*  One invoice of 1000 overdue by 40 days, 2 of 4 paid late, weighted
    average 5 days late: 1000 - 250 - 120 - 20 = 610, C. */
static void
test_overdue_debtor(void **state)
{
    risk_policy_t p;
    risk_policy_defaults(&p);
    risk_inputs_t in = s_clean();
    in.outstanding_minor = 1000;
    in.overdue_minor = 1000;
    in.oldest_overdue_days = 40;
    in.open_invoices = 1;
    in.paid_count = 4;
    in.late_count = 2;
    in.ew_days_late = 5.0;
    risk_score_t s;
    risk_score_compute(&in, &p, &s);
    assert_int_equal(s_points(&s, "overdue_ratio"), -250);
    assert_int_equal(s_points(&s, "oldest_overdue"), -120);
    assert_int_equal(s_points(&s, "days_late"), -20);
    assert_int_equal(s.score, 610);
    assert_int_equal(s.grade, 'C');
    s_assert_sum(&s);
}

/*  Every factor at once, some capped: 1000 - 902 = 98, E. */
static void
test_every_factor(void **state)
{
    risk_policy_t p;
    risk_policy_defaults(&p);
    risk_inputs_t in = s_clean();
    in.outstanding_minor = 2000;
    in.overdue_minor = 500;             /* 250 * 500 / 2000 = 62.5 -> 62 */
    in.oldest_overdue_days = 10;        /* 50 */
    in.paid_count = 10;
    in.late_count = 9;
    in.ew_days_late = 60;               /* 240, capped at 200 */
    in.broken_promises = 2;             /* 120 */
    in.missed_instalments = 4;          /* 200, capped at 150 */
    in.open_disputes = 1;               /* 30 */
    in.active_plans = 1;                /* 40 */
    in.credit_limit_minor = 1500;       /* over: 150 */
    in.has_figures = true;
    in.current_assets_minor = 100;      /* ratio 0.5: 100 */
    in.current_liabilities_minor = 200;
    risk_score_t s;
    risk_score_compute(&in, &p, &s);
    assert_int_equal(s_points(&s, "overdue_ratio"), -62);
    assert_int_equal(s_points(&s, "oldest_overdue"), -50);
    assert_int_equal(s_points(&s, "days_late"), -200);
    assert_int_equal(s_points(&s, "broken_promises"), -120);
    assert_int_equal(s_points(&s, "missed_instalments"), -150);
    assert_int_equal(s_points(&s, "open_disputes"), -30);
    assert_int_equal(s_points(&s, "active_plans"), -40);
    assert_int_equal(s_points(&s, "credit_limit_use"), -150);
    assert_int_equal(s_points(&s, "liquidity"), -100);
    assert_int_equal(s.score, 98);
    assert_int_equal(s.grade, 'E');
    s_assert_sum(&s);
}

/*  Penalties beyond 1000: a floor factor keeps the sum equal to 0. */
static void
test_floor_keeps_the_sum(void **state)
{
    risk_policy_t p;
    risk_policy_defaults(&p);
    risk_inputs_t in = s_clean();
    in.outstanding_minor = 2000;
    in.overdue_minor = 2000;            /* 250 */
    in.oldest_overdue_days = 200;       /* 300 */
    in.paid_count = 3;
    in.ew_days_late = 90;               /* 200 */
    in.broken_promises = 5;             /* 180 */
    in.missed_instalments = 5;          /* 150 */
    in.open_disputes = 5;               /* 90 */
    in.active_plans = 3;                /* 80 */
    in.credit_limit_minor = 1000;       /* 150 */
    in.has_figures = true;
    in.current_assets_minor = 1;
    in.current_liabilities_minor = 2;   /* 100 */
    risk_score_t s;
    risk_score_compute(&in, &p, &s);
    assert_int_equal(s.score, 0);
    assert_int_equal(s.grade, 'E');
    assert_int_equal(s_points(&s, "floor"), 500);
    s_assert_sum(&s);
}

static void
test_limit_near_and_liquidity_ok(void **state)
{
    risk_policy_t p;
    risk_policy_defaults(&p);
    risk_inputs_t in = s_clean();
    in.outstanding_minor = 800;
    in.credit_limit_minor = 1000;       /* 80 %: near */
    in.has_figures = true;
    in.current_assets_minor = 300;
    in.current_liabilities_minor = 300; /* ratio 1: no penalty */
    risk_score_t s;
    risk_score_compute(&in, &p, &s);
    assert_int_equal(s_points(&s, "credit_limit_use"), -50);
    assert_int_equal(s_points(&s, "liquidity"), 0);
    assert_int_equal(s.score, 950);
    in.outstanding_minor = 799;
    risk_score_compute(&in, &p, &s);
    assert_int_equal(s_points(&s, "credit_limit_use"), 0);
    assert_false(risk_liquidity_below_1(&in));
    in.current_assets_minor = 299;
    assert_true(risk_liquidity_below_1(&in));
    in.has_figures = false;
    assert_false(risk_liquidity_below_1(&in));
}

static void
test_grades_and_policy(void **state)
{
    risk_policy_t p;
    risk_policy_defaults(&p);
    assert_int_equal(risk_grade_for(1000, &p), 'A');
    assert_int_equal(risk_grade_for(800, &p), 'A');
    assert_int_equal(risk_grade_for(799, &p), 'B');
    assert_int_equal(risk_grade_for(650, &p), 'B');
    assert_int_equal(risk_grade_for(649, &p), 'C');
    assert_int_equal(risk_grade_for(500, &p), 'C');
    assert_int_equal(risk_grade_for(499, &p), 'D');
    assert_int_equal(risk_grade_for(350, &p), 'D');
    assert_int_equal(risk_grade_for(349, &p), 'E');
    /* A stricter tenant: A needs 950, overdue weighs 400. */
    p.grade_a = 950;
    p.overdue_ratio_max = 400;
    risk_inputs_t in = s_clean();
    in.outstanding_minor = 1000;
    in.overdue_minor = 100;
    in.oldest_overdue_days = 1;
    risk_score_t s;
    risk_score_compute(&in, &p, &s);
    assert_int_equal(s.score, 1000 - 40 - 50);
    assert_int_equal(s.grade, 'B');
    s_assert_sum(&s);
    /* The table of policy columns covers the whole struct. */
    assert_int_equal(risk_policy_ncolumns * sizeof(int), sizeof(risk_policy_t));
}

static void
test_ew_days_late(void **state)
{
    double ew = risk_ew_update(0, 0, 10, 30);
    assert_true(ew == 10.0);
    ew = risk_ew_update(ew, 1, 0, 30);
    assert_true(ew > 6.999 && ew < 7.001);
    ew = risk_ew_update(ew, 2, 20, 30);
    assert_true(ew > 10.899 && ew < 10.901);    /* the latest counts most */
    assert_true(risk_ew_update(5, 3, -4, 30) < 5);  /* early counts as 0 days late */
}

static void
test_snapshot_round_trip(void **state)
{
    risk_policy_t p;
    risk_policy_defaults(&p);
    risk_inputs_t in = s_clean();
    in.outstanding_minor = 2000;
    in.overdue_minor = 500;
    in.oldest_overdue_days = 10;
    in.open_invoices = 2;
    in.credit_limit_minor = 1500;
    in.has_figures = true;
    in.current_assets_minor = 100;
    in.current_liabilities_minor = 200;
    in.paid_count = 3;
    in.late_count = 1;
    in.sum_delay_days = 7;
    in.ew_days_late = 2.25;
    in.broken_promises = 1;
    risk_score_t s;
    risk_score_compute(&in, &p, &s);
    risk_prediction_t pred = { 0.3125, 2.5 };
    char *text = risk_snapshot_build(date_to_days(2026, 11, 23), &in, &s, &pred);
    assert_non_null(text);
    assert_non_null(strstr(text, "\"as_of\":\"2026-11-23\""));

    risk_inputs_t back;
    risk_score_t sb;
    int32_t as_of;
    assert_int_equal(risk_snapshot_parse(text, &as_of, &back, &sb), 0);
    assert_int_equal(as_of, date_to_days(2026, 11, 23));
    assert_string_equal(back.currency, "EUR");
    assert_int_equal(back.outstanding_minor, 2000);
    assert_int_equal(back.overdue_minor, 500);
    assert_int_equal(back.oldest_overdue_days, 10);
    assert_int_equal(back.credit_limit_minor, 1500);
    assert_true(back.has_figures);
    assert_int_equal(back.current_liabilities_minor, 200);
    assert_int_equal(back.broken_promises, 1);
    assert_int_equal(sb.score, s.score);
    assert_int_equal(sb.grade, s.grade);
    assert_int_equal(sb.nfactors, s.nfactors);
    for (int i = 0; i < s.nfactors; i++) {
        assert_string_equal(sb.factors[i].name, s.factors[i].name);
        assert_int_equal(sb.factors[i].points, s.factors[i].points);
        assert_string_equal(sb.factors[i].detail, s.factors[i].detail);
    }
    /* Same state, same bytes: what makes a rebuild identical. */
    char *again = risk_snapshot_build(date_to_days(2026, 11, 23), &in, &s, &pred);
    assert_string_equal(again, text);
    free(again);
    free(text);

    assert_int_equal(risk_snapshot_parse("{\"score\":1}", &as_of, &back, &sb), -1);
    assert_int_equal(risk_snapshot_parse("not json", &as_of, &back, &sb), -1);
    assert_int_equal(risk_snapshot_parse(NULL, &as_of, &back, &sb), -1);
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_clean_debtor_is_a),
        cmocka_unit_test(test_overdue_debtor),
        cmocka_unit_test(test_every_factor),
        cmocka_unit_test(test_floor_keeps_the_sum),
        cmocka_unit_test(test_limit_near_and_liquidity_ok),
        cmocka_unit_test(test_grades_and_policy),
        cmocka_unit_test(test_ew_days_late),
        cmocka_unit_test(test_snapshot_round_trip),
    };
    return cmocka_run_group_tests_name("risk_scorecard", tests, NULL, NULL);
}
