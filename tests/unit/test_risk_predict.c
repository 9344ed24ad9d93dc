/*  risk: shrunk predictions, AUC and the backtest's no-peeking rule
    (services/risk/predict.c). */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <string.h>
#include <cmocka.h>

#include "../../services/risk/predict.h"

#define NEAR(a, b) assert_true((a) > (b) - 1e-9 && (a) < (b) + 1e-9)

static void
test_shrinkage(void **state)
{
    risk_history_t none = { 0, 0, 0 }, pop = { 100, 20, 500 };
    risk_prediction_t p;
    /* Nothing known at all: even odds, on the due date. */
    risk_predict(&none, &none, 5, &p);
    NEAR(p.p_late, 0.5);
    NEAR(p.delay_days, 0.0);
    /* A new debtor is the population. */
    double p0 = 21.0 / 102.0;
    risk_predict(&none, &pop, 5, &p);
    NEAR(p.p_late, p0);
    NEAR(p.delay_days, 5.0);
    /* Five invoices, all 10 days late: halfway to its own record. */
    risk_history_t own = { 5, 5, 50 };
    risk_predict(&own, &pop, 5, &p);
    NEAR(p.p_late, (5 + 5 * p0) / 10);
    NEAR(p.delay_days, 7.5);
    /* A long history mostly speaks for itself. */
    risk_history_t lng = { 95, 95, 950 };
    risk_predict(&lng, &pop, 5, &p);
    NEAR(p.p_late, (95 + 5 * p0) / 100);
    assert_true(p.p_late > 0.95);
    NEAR(p.delay_days, (950 + 25) / 100.0);
    /* k = 0: no shrinkage. */
    risk_predict(&own, &pop, 0, &p);
    NEAR(p.p_late, 1.0);
    NEAR(p.delay_days, 10.0);
}

static void
test_history_and_dates(void **state)
{
    risk_history_t h = { 0, 0, 0 };
    risk_history_add(&h, 100, 110);
    risk_history_add(&h, 100, 95);
    risk_history_add(&h, 100, 100);
    assert_int_equal(h.paid, 3);
    assert_int_equal(h.late, 1);
    assert_int_equal(h.sum_delay, 5);
    assert_int_equal(risk_expected_date(100, 7.5, 0), 108);
    assert_int_equal(risk_expected_date(100, -3.2, 0), 97);
    assert_int_equal(risk_expected_date(100, 2, 150), 150);   /* never in the past */
}

static void
test_auc(void **state)
{
    double s[] = { 0.1, 0.2, 0.8, 0.9 };
    int good[] = { 0, 0, 1, 1 }, bad[] = { 1, 1, 0, 0 }, mixed[] = { 0, 1, 0, 1 };
    NEAR(risk_auc(s, good, 4), 1.0);
    NEAR(risk_auc(s, bad, 4), 0.0);
    NEAR(risk_auc(s, mixed, 4), 0.75);
    double tie[] = { 0.5, 0.5, 0.5, 0.5 };
    NEAR(risk_auc(tie, good, 4), 0.5);
    int one[] = { 1, 1, 1, 1 };
    NEAR(risk_auc(s, one, 4), 0.5);
}

/*  Invoice B (issued day 150) is predicted from what was received before
    day 150 only: A's payment on day 160 (or 200) must not change it, a
    payment on day 150 itself neither; a payment on day 149 does. */
static void
test_backtest_never_peeks(void **state)
{
    risk_bt_invoice_t inv[] = {
        { 1, 7, 100, 130, 160 },        /* A: paid late, after B's issue */
        { 2, 7, 150, 180, 175 },        /* B */
        { 3, 8, 120, 140, 150 },        /* C: another debtor, paid on B's issue day */
    };
    risk_bt_prediction_t p1[3], p2[3], p3[3];
    risk_bt_result_t r;
    assert_int_equal(risk_backtest(inv, 3, 5, p1, &r), 0);
    /* Nothing was received before day 150: B is the empty prior. */
    NEAR(p1[1].p_late, 0.5);
    assert_int_equal(p1[1].predicted_date, 180);

    inv[0].paid_date = 200;             /* only the future changed */
    inv[2].paid_date = 170;
    assert_int_equal(risk_backtest(inv, 3, 5, p2, &r), 0);
    NEAR(p2[1].p_late, p1[1].p_late);
    assert_int_equal(p2[1].predicted_date, p1[1].predicted_date);
    assert_int_equal(p2[1].baseline_date, p1[1].baseline_date);

    inv[0].paid_date = 149;             /* now it is the past: 19 days late */
    assert_int_equal(risk_backtest(inv, 3, 5, p3, &r), 0);
    /* debtor 7: 1 paid late; population the same single invoice:
       p0 = 2/3, m0 = 19 -> p = (1 + 5 * 2/3) / 6, delay 19. */
    NEAR(p3[1].p_late, (1 + 5 * 2.0 / 3) / 6);
    assert_int_equal(p3[1].predicted_date, 180 + 19);
    NEAR(p3[1].baseline_p_late, 2.0 / 3);
    assert_int_equal(p3[1].baseline_date, 180 + 19);
}

/*  Two kinds of debtor, one always 30 days late, one always on time: the
    model learns them apart, the baseline cannot. */
static void
test_backtest_beats_baseline(void **state)
{
    risk_bt_invoice_t inv[40];
    for (int i = 0; i < 20; i++) {
        int32_t issue = 10 * i;
        inv[2 * i] = (risk_bt_invoice_t) { 2 * i + 1, 1, issue, issue + 30, issue + 60 };
        inv[2 * i + 1] = (risk_bt_invoice_t) { 2 * i + 2, 2, issue, issue + 30, issue + 30 };
    }
    inv[39].paid_date = -1;             /* still open: replayed, not evaluated */
    risk_bt_result_t r;
    assert_int_equal(risk_backtest(inv, 40, 5, NULL, &r), 0);
    assert_int_equal(r.invoices, 40);
    assert_int_equal(r.evaluated, 39);
    assert_int_equal(r.late, 20);
    assert_true(r.auc > 0.9);
    NEAR(r.baseline_auc, 0.5);
    assert_true(r.mae_days < r.baseline_mae_days);
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_shrinkage),
        cmocka_unit_test(test_history_and_dates),
        cmocka_unit_test(test_auc),
        cmocka_unit_test(test_backtest_never_peeks),
        cmocka_unit_test(test_backtest_beats_baseline),
    };
    return cmocka_run_group_tests_name("risk_predict", tests, NULL, NULL);
}
